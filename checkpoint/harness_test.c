// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only trigger for the linux-cr test harness.
 *
 * The harness must show that it fails a run whose console holds a kernel
 * report even when every test passed.  Writing anything to
 * /sys/kernel/debug/checkpoint-harness/warn raises a WARN on purpose, and the
 * KUnit suite checkpoint_harness_selftest fails on purpose.  Ordinary test
 * boots filter that suite out with kunit.filter=module!=harness_test.
 */

#include <linux/bug.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <kunit/test.h>

static ssize_t cr_harness_warn_write(struct file *file, const char __user *buf,
				     size_t count, loff_t *ppos)
{
	WARN(1, "checkpoint-harness: WARN triggered on purpose\n");
	return count;
}

static const struct file_operations cr_harness_warn_fops = {
	.write = cr_harness_warn_write,
	.llseek = noop_llseek,
};

static int __init cr_harness_test_init(void)
{
	struct dentry *dir;

	dir = debugfs_create_dir("checkpoint-harness", NULL);
	debugfs_create_file("warn", 0200, dir, NULL, &cr_harness_warn_fops);
	return 0;
}
late_initcall(cr_harness_test_init);

static void cr_harness_kunit_fails(struct kunit *test)
{
	KUNIT_FAIL(test, "checkpoint-harness: KUnit case failing on purpose");
}

static struct kunit_case cr_harness_kunit_cases[] = {
	KUNIT_CASE(cr_harness_kunit_fails),
	{}
};

static struct kunit_suite cr_harness_kunit_suite = {
	.name = "checkpoint_harness_selftest",
	.test_cases = cr_harness_kunit_cases,
};

kunit_test_suite(cr_harness_kunit_suite);
