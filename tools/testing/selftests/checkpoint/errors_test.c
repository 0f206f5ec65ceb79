// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint() and restart() refuse what they must, in a fixed order,
 * with a specific errno and a reason; a refused checkpoint leaves the
 * container running and thawed.
 */
#include <linux/capability.h>
#include <pthread.h>
#include <sys/socket.h>

#include "cr_test.h"
#include "../kselftest_harness.h"

/* errno of @ret, and the reason contains @what. */
#define EXPECT_FAIL(ret, err, what) do {					\
	char __why[256] = "";							\
	long __r = (ret);							\
	int __e = errno;							\
	EXPECT_EQ(-1, __r);							\
	EXPECT_EQ(err, __e);							\
	cr_reason(__why, sizeof(__why));					\
	EXPECT_NE(NULL, strstr(__why, what)) TH_LOG("reason: '%s'", __why);	\
} while (0)

static int args_file(int flags)
{
	mkdir(CR_TEST_DIR, 0755);
	return open(CR_TEST_DIR "/args", flags, 0600);
}

TEST(checkpoint_argument_order)
{
	int wfd = args_file(O_WRONLY | O_CREAT | O_TRUNC);
	int rfd = args_file(O_RDONLY);

	ASSERT_LE(0, wfd);
	ASSERT_LE(0, rfd);
	/* flags, then fd, then pid, then permission */
	EXPECT_FAIL(sys_checkpoint(-5, -1, 1UL << 31), EINVAL, "unknown flags");
	EXPECT_FAIL(sys_checkpoint(-5, -1, CHECKPOINT_LEAVE_FROZEN | CHECKPOINT_KILL), EINVAL,
		    "exclude each other");
	EXPECT_FAIL(sys_checkpoint(-5, -1, 0), EBADF, "not open");
	EXPECT_FAIL(sys_checkpoint(-5, rfd, 0), EBADF, "not open for writing");
	EXPECT_FAIL(sys_checkpoint(999999, wfd, 0), ESRCH, "no process 999999");
	EXPECT_FAIL(sys_checkpoint(-5, -1, CHECKPOINT_DEFERRED | CHECKPOINT_KILL), EINVAL,
		    "CHECKPOINT_DEFERRED excludes");
	EXPECT_FAIL(sys_checkpoint(-5, -1, CHECKPOINT_DEFERRED | CHECKPOINT_LEAVE_FROZEN), EINVAL,
		    "CHECKPOINT_DEFERRED excludes");
	/* a deferred checkpoint held in the kernel takes fd -1 */
	EXPECT_FAIL(sys_checkpoint(999999, -1, CHECKPOINT_DEFERRED), ESRCH, "no process 999999");
	/* crid operations: flags, then fd, then the crid */
	EXPECT_FAIL(sys_checkpoint(999999, -1, CHECKPOINT_CRID_DROP | CHECKPOINT_KILL), EINVAL,
		    "take no other flag");
	EXPECT_FAIL(sys_checkpoint(999999, wfd, CHECKPOINT_CRID_DROP), EBADF, "takes fd -1");
	EXPECT_FAIL(sys_checkpoint(999999, -1, CHECKPOINT_CRID_WRITE), EBADF, "not open");
	EXPECT_FAIL(sys_checkpoint(999999, rfd, CHECKPOINT_CRID_WRITE), EBADF,
		    "not open for writing");
	EXPECT_FAIL(sys_checkpoint(999999, wfd, CHECKPOINT_CRID_WRITE), ENOENT,
		    "no held checkpoint 999999");
	EXPECT_FAIL(sys_checkpoint(999999, -1, CHECKPOINT_CRID_DROP), ENOENT,
		    "no held checkpoint 999999");
	close(wfd);
	close(rfd);
}

static int drop_caps_and_restart(int fd)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return 10;
	data[CAP_SYS_ADMIN / 32].effective &= ~(1U << (CAP_SYS_ADMIN % 32));
	data[CAP_CHECKPOINT_RESTORE / 32].effective &= ~(1U << (CAP_CHECKPOINT_RESTORE % 32));
	if (syscall(SYS_capset, &hdr, data))
		return 11;
	if (sys_restart(0, fd, 0) != -1)
		return 12;
	return errno == EPERM ? 0 : 13;
}

TEST(restart_argument_order)
{
	int wfd = args_file(O_WRONLY | O_CREAT | O_TRUNC);
	int rfd = args_file(O_RDONLY);
	pid_t pid;

	ASSERT_LE(0, wfd);
	ASSERT_LE(0, rfd);
	/* flags, then crid, then fd, then permission, then caller */
	EXPECT_FAIL(sys_restart(5, -1, 1UL << 31), EINVAL, "unknown flags");
	EXPECT_FAIL(sys_restart(-5, -1, 0), EINVAL, "crid is negative");
	EXPECT_FAIL(sys_restart(5, -1, 0), ENOENT, "no such in-kernel checkpoint");
	EXPECT_FAIL(sys_restart(0, -1, 0), EBADF, "not open");
	EXPECT_FAIL(sys_restart(0, wfd, 0), EBADF, "not open for reading");
	EXPECT_FAIL(sys_restart(0, rfd, 0), EINVAL, "pid 1 of a new pid namespace");

	/* pid 1 of a new pid namespace without the capability */
	pid = cr_clone(-1);
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(drop_caps_and_restart(rfd));
	EXPECT_EQ(0, cr_wait_exit(pid));
	close(wfd);
	close(rfd);
}

FIXTURE(ctr) {
	int cg;
	char cgpath[128];
	char why[256];
};

FIXTURE_SETUP(ctr)
{
	mkdir(CR_TEST_DIR, 0755);
	self->cg = cr_cgroup(self->cgpath, sizeof(self->cgpath));
	ASSERT_LE(0, self->cg);
}

FIXTURE_TEARDOWN(ctr)
{
	close(self->cg);
	cr_cgroup_remove(self->cgpath);
}

volatile uint64_t counter;

static void *spin_thread(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

/* Count forever, holding what @arg asks for. */
static int workload(void *arg)
{
	const char *what = arg;
	pthread_t t;

	cr_quiet_fds();
	if (!strcmp(what, "inet") && socket(AF_INET, SOCK_DGRAM, 0) < 0)
		return 10;
	if (!strcmp(what, "shared") &&
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		return 11;
	if (!strncmp(what, "thread", 6) && pthread_create(&t, NULL, spin_thread, NULL))
		return 12;
	if (strstr(what, "eventfd") && syscall(SYS_eventfd2, 0, 0) < 0)
		return 13;
	for (;;)
		counter++;
}

/* A refused checkpoint leaves the container running and thawed. */
static void check_refused(struct __test_metadata *_metadata, int cg, const char *cgpath,
			  const char *what, int err, const char *reason)
{
	uint64_t a = 0;
	char why[256];
	pid_t pid;
	int i;

	pid = cr_start(cg, workload, (void *)what);
	ASSERT_LT(0, pid);
	for (i = 0; i < 1000 && !a; i++) {
		cr_peek(pid, (void *)&counter, &a);
		cr_msleep(10);
	}
	ASSERT_NE(0, a);
	EXPECT_EQ(-err, cr_checkpoint(pid, CR_TEST_DIR "/refused.img", why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, reason)) TH_LOG("reason: '%s'", why);
	EXPECT_EQ(0, cr_running_and_thawed(pid, cgpath, &counter));
	EXPECT_EQ(0, waitpid(pid, NULL, WNOHANG));
	cr_kill_wait(pid);
}

TEST_F(ctr, refuses_inet_socket)
{
	check_refused(_metadata, self->cg, self->cgpath, "inet", EOPNOTSUPP, "socket");
}

TEST_F(ctr, refuses_shared_memory)
{
	check_refused(_metadata, self->cg, self->cgpath, "shared", EOPNOTSUPP,
		      "shared mappings are not supported yet");
}

/* A thread holding what cannot be saved: the whole process is refused. */
TEST_F(ctr, refuses_eventfd_in_threaded_process)
{
	check_refused(_metadata, self->cg, self->cgpath, "thread+eventfd", EOPNOTSUPP,
		      "eventfd");
}

/* The container must have a cgroup of its own to be frozen. */
TEST_F(ctr, refuses_root_cgroup)
{
	char why[256];
	pid_t pid = cr_start(-1, workload, "none");

	ASSERT_LT(0, pid);
	EXPECT_EQ(-EBUSY, cr_checkpoint(pid, CR_TEST_DIR "/refused.img", why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "cgroup")) TH_LOG("reason: '%s'", why);
	cr_kill_wait(pid);
}

/* Nobody checkpoints what they could not ptrace. */
TEST_F(ctr, unprivileged_checkpoint_denied)
{
	int fd = open(CR_TEST_DIR "/denied.img", O_WRONLY | O_CREAT | O_TRUNC, 0666);
	pid_t pid, child;

	ASSERT_LE(0, fd);
	pid = cr_start(self->cg, workload, "none");
	ASSERT_LT(0, pid);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		char why[256] = "";

		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (sys_checkpoint(pid, fd, 0) != -1 || errno != EPERM)
			_exit(11);
		cr_reason(why, sizeof(why));
		_exit(strstr(why, "no permission to ptrace") ? 0 : 12);
	}
	EXPECT_EQ(0, cr_wait_exit(child));
	EXPECT_EQ(0, waitpid(pid, NULL, WNOHANG));	/* untouched */
	cr_kill_wait(pid);
	close(fd);
}

TEST_HARNESS_MAIN
