// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint() and restart() with kernel allocations failing at random
 * (failslab, for the calling task only): every call either succeeds or
 * fails cleanly; a failed checkpoint leaves the container running and
 * thawed, a failed restart leaves its caller alive.  The console check
 * and the kmemleak scan of the harness catch crashes and leaks.
 */
#include "cr_test.h"
#include "../kselftest_harness.h"

#define FAILSLAB	"/sys/kernel/debug/failslab"

static int failslab(const char *probability)
{
	if (access(FAILSLAB, F_OK))
		return -1;
	cr_write_str(FAILSLAB "/task-filter", "Y");
	cr_write_str(FAILSLAB "/ignore-gfp-wait", "N");
	cr_write_str(FAILSLAB "/verbose", "0");
	cr_write_str(FAILSLAB "/interval", "1");
	cr_write_str(FAILSLAB "/times", "-1");
	return cr_write_str(FAILSLAB "/probability", probability);
}

static void make_it_fail(void)
{
	cr_write_str("/proc/self/make-it-fail", "1");
}

volatile uint64_t counter;

static int workload(void *arg)
{
	cr_quiet_fds();
	for (;;)
		counter++;
	return 0;
}

FIXTURE(fi) {
	int cg;
	char cgpath[128];
};

FIXTURE_SETUP(fi)
{
	mkdir(CR_TEST_DIR, 0755);
	self->cg = cr_cgroup(self->cgpath, sizeof(self->cgpath));
	ASSERT_LE(0, self->cg);
	if (failslab("10"))
		SKIP(return, "no failslab in debugfs");
}

FIXTURE_TEARDOWN(fi)
{
	failslab("0");
	close(self->cg);
	cr_cgroup_remove(self->cgpath);
}

TEST_F_TIMEOUT(fi, checkpoint_with_failing_allocations, 300)
{
	int i, ok = 0, failed = 0, status;
	uint64_t a = 0;
	pid_t pid, child;

	pid = cr_start(self->cg, workload, NULL);
	ASSERT_LT(0, pid);
	for (i = 0; i < 1000 && !a; i++) {
		cr_peek(pid, (void *)&counter, &a);
		cr_msleep(10);
	}
	for (i = 0; i < 40; i++) {
		child = fork();
		ASSERT_LE(0, child);
		if (child == 0) {
			int fd = open(CR_TEST_DIR "/fi.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);

			make_it_fail();
			_exit(sys_checkpoint(pid, fd, 0) ? 1 : 0);
		}
		ASSERT_EQ(child, waitpid(child, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		if (WEXITSTATUS(status))
			failed++;
		else
			ok++;
	}
	TH_LOG("%d checkpoints succeeded, %d failed", ok, failed);
	EXPECT_LT(0, failed);
	/* The container survived every one of them, running and thawed. */
	EXPECT_EQ(0, cr_running_and_thawed(pid, self->cgpath, &counter));
	cr_kill_wait(pid);
}

static int workload_pause(void *arg)
{
	cr_quiet_fds();
	cr_write_str(CR_TEST_DIR "/ready", "1");
	while (pause())
		;
	return 0;
}

TEST_F_TIMEOUT(fi, restart_with_failing_allocations, 300)
{
	int i, restored = 0, failed = 0, status, report[2];
	char why[256];
	pid_t pid;

	failslab("0");
	unlink(CR_TEST_DIR "/ready");
	pid = cr_start(self->cg, workload_pause, NULL);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_wait_file(CR_TEST_DIR "/ready", 60000));
	cr_msleep(200);
	ASSERT_EQ(0, cr_checkpoint(pid, CR_TEST_DIR "/fi.img", why, sizeof(why)))
		TH_LOG("checkpoint: %s", why);
	cr_kill_wait(pid);
	failslab("10");

	for (i = 0; i < 40; i++) {
		char c;

		ASSERT_EQ(0, pipe2(report, O_CLOEXEC));
		pid = cr_clone(self->cg);
		ASSERT_LE(0, pid);
		if (pid == 0) {
			int img = open(CR_TEST_DIR "/fi.img", O_RDONLY);

			make_it_fail();
			sys_restart(RESTART_CRID_FD, img, 0);
			/* refused: say so, and stay alive */
			if (write(report[1], "F", 1) != 1)
				_exit(126);
			_exit(125);
		}
		close(report[1]);
		if (read(report[0], &c, 1) == 1) {
			failed++;
			ASSERT_EQ(pid, waitpid(pid, &status, 0));
			EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 125);
		} else {
			/* restored, or killed past the point of no return */
			restored++;
			cr_kill_wait(pid);
		}
		close(report[0]);
	}
	TH_LOG("%d restarts went past the point of no return, %d were refused", restored, failed);
	EXPECT_LT(0, failed);
}

TEST_HARNESS_MAIN
