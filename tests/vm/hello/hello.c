// SPDX-License-Identifier: GPL-2.0
/*
 * hello.ko - self-test module for the uvfs VM harness (tests/vm/).
 *
 * Loads, logs a line, unloads.  With warn=1 it triggers a WARN_ON() at load
 * time: used to check by hand that vm-run.sh fails a run whose kernel log
 * contains a warning/oops (see tests/vm/README.md).
 */
#include <linux/bug.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

static bool warn;
module_param(warn, bool, 0444);
MODULE_PARM_DESC(warn, "trigger a WARN_ON() when loaded (harness self-test)");

static int __init uvfs_hello_init(void)
{
	pr_info("uvfs_hello: loaded\n");
	WARN_ON(warn);
	return 0;
}

static void __exit uvfs_hello_exit(void)
{
	pr_info("uvfs_hello: unloaded\n");
}

module_init(uvfs_hello_init);
module_exit(uvfs_hello_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("uvfs VM test harness self-test module");
