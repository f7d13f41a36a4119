/* SPDX-License-Identifier: MIT */
/* Every unit test's main(): run one Check suite, exit nonzero on failure. */
#ifndef UVFS_TEST_CHECK_RUN_H
#define UVFS_TEST_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
