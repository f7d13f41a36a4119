// SPDX-License-Identifier: MIT
/*
 * Backend plugins for test_backend: one source, built once per variant
 * (TESTBE_GOOD, _BADVER, _BIGOPS, _NONAME, _NOSYM), each with one defect
 * in its descriptor that uvfs_backend_load() must refuse.
 */
#include <errno.h>

#include "uvfs/uvfs.h"

static void tb_getattr(struct uvfs_req *req, uint64_t ino,
		       struct uvfs_file_info *fi)
{
	/* a recognisable answer: the test checks it came from this .so */
	uvfs_reply_err(req, -EXDEV);
}

static const struct uvfs_ops tb_ops = {
	.getattr = tb_getattr,
};

#if defined(TESTBE_GOOD)
static const struct uvfs_backend tb = {
	.api_version = UVFS_BACKEND_API_VERSION,
	.ops_size = sizeof(struct uvfs_ops),
	.name = "tb-good",
	.ops = &tb_ops,
};
#elif defined(TESTBE_BADVER)
static const struct uvfs_backend tb = {
	.api_version = UVFS_BACKEND_API_VERSION + 1,
	.ops_size = sizeof(struct uvfs_ops),
	.name = "tb-badver",
	.ops = &tb_ops,
};
#elif defined(TESTBE_BIGOPS)
/* built against a newer uvfs.h with one more op than this library has */
static const struct uvfs_backend tb = {
	.api_version = UVFS_BACKEND_API_VERSION,
	.ops_size = sizeof(struct uvfs_ops) + sizeof(void (*)(void)),
	.name = "tb-bigops",
	.ops = &tb_ops,
};
#elif defined(TESTBE_NONAME)
static const struct uvfs_backend tb = {
	.api_version = UVFS_BACKEND_API_VERSION,
	.ops_size = sizeof(struct uvfs_ops),
	.ops = &tb_ops,
};
#elif defined(TESTBE_NOSYM)
/* a good descriptor, but not exported under UVFS_BACKEND_SYMBOL */
__attribute__((visibility("default")))
const struct uvfs_backend uvfs_backend_descriptor_typo = {
	.api_version = UVFS_BACKEND_API_VERSION,
	.ops_size = sizeof(struct uvfs_ops),
	.name = "tb-nosym",
	.ops = &tb_ops,
};
#else
#error "define one TESTBE_* variant"
#endif

#ifndef TESTBE_NOSYM
UVFS_BACKEND(tb);
#endif
