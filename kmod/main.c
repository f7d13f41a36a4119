// SPDX-License-Identifier: GPL-2.0
/*
 * uvfs.ko: forward VFS operations to a userland daemon (uvfsd) over a
 * shared-memory channel.  Module init/exit: the misc device /dev/uvfs, the
 * block device major of /dev/uvbdN and the file system type "uvfs".
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "uvfs_i.h"

static struct miscdevice uvfs_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "uvfs",
	.fops = &uvfs_dev_fops,
	.mode = 0666,
};

static int __init uvfs_init(void)
{
	int err;

	err = uvfs_chan_init();
	if (err)
		return err;
	err = uvfs_inode_cache_init();
	if (err)
		goto out_chan;
	err = register_filesystem(&uvfs_fs_type);
	if (err)
		goto out_cache;
	err = uvfs_bdev_init();
	if (err)
		goto out_fs;
	err = misc_register(&uvfs_miscdev);
	if (err)
		goto out_bdev;
	pr_info("uvfs: protocol %u.%u loaded\n", UVFS_PROTO_MAJOR,
		UVFS_PROTO_MINOR);
	return 0;

out_bdev:
	uvfs_bdev_exit();
out_fs:
	unregister_filesystem(&uvfs_fs_type);
out_cache:
	uvfs_inode_cache_exit();
out_chan:
	uvfs_chan_exit();
	return err;
}

static void __exit uvfs_exit(void)
{
	misc_deregister(&uvfs_miscdev);
	uvfs_bdev_exit();
	unregister_filesystem(&uvfs_fs_type);
	uvfs_inode_cache_exit();
	uvfs_chan_exit();
	pr_info("uvfs: unloaded\n");
}

module_init(uvfs_init);
module_exit(uvfs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("uvfs: userland file systems over a shared-memory channel");
MODULE_ALIAS("devname:uvfs");
