// SPDX-License-Identifier: GPL-2.0
/*
 * What checkpoint/restart relies on in the test guest: a cgroup v2
 * freezer that really stops tasks, new pid/mount/uts/ipc/user
 * namespaces, and clone3() with set_tid to choose a pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n < 0 ? -errno : 0;
}

static pid_t sys_clone3(struct clone_args *args)
{
	return syscall(__NR_clone3, args, sizeof(*args));
}

/* The freezer stops a task: a counter in shared memory stands still. */
TEST(cgroup2_freezer_stops_tasks)
{
	const char *cg = "/sys/fs/cgroup/env_test";
	volatile unsigned long *counter;
	unsigned long a, b;
	char buf[256], path[128];
	pid_t pid;
	int status;

	counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, counter);
	rmdir(cg);
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(path, sizeof(path), "%s/cgroup.freeze", cg);
	ASSERT_EQ(0, access(path, W_OK));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (;;)
			(*counter)++;
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(buf, sizeof(buf), "%d", pid);
	ASSERT_EQ(0, write_file(path, buf));
	while (*counter == 0)
		usleep(1000);

	snprintf(path, sizeof(path), "%s/cgroup.freeze", cg);
	ASSERT_EQ(0, write_file(path, "1"));
	snprintf(path, sizeof(path), "%s/cgroup.events", cg);
	for (int i = 0; i < 2000; i++) {
		ASSERT_LT(0, read_file(path, buf, sizeof(buf)));
		if (strstr(buf, "frozen 1"))
			break;
		usleep(5000);
	}
	ASSERT_NE(NULL, strstr(buf, "frozen 1"));
	a = *counter;
	usleep(200000);
	b = *counter;
	EXPECT_EQ(a, b);

	snprintf(path, sizeof(path), "%s/cgroup.freeze", cg);
	ASSERT_EQ(0, write_file(path, "0"));
	usleep(200000);
	EXPECT_NE(b, *counter);

	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, rmdir(cg));
}

/* A new container: its first task is pid 1 of a new pid namespace. */
TEST(new_container_namespaces)
{
	struct clone_args args = {
		.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
			 CLONE_NEWIPC | CLONE_NEWUSER,
		.exit_signal = SIGCHLD,
	};
	int status;
	pid_t pid;

	pid = sys_clone3(&args);
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(getpid() == 1 ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* clone3() with set_tid gives a chosen pid inside a new pid namespace. */
TEST(clone3_set_tid)
{
	pid_t tid[1] = { 1 };
	struct clone_args args = {
		.flags = CLONE_NEWPID,
		.exit_signal = SIGCHLD,
		.set_tid = (unsigned long)tid,
		.set_tid_size = 1,
	};
	int status;
	pid_t pid, child;

	pid = sys_clone3(&args);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* now pid 1: make a child with pid 4242 */
		pid_t t = 4242;
		struct clone_args a2 = {
			.exit_signal = SIGCHLD,
			.set_tid = (unsigned long)&t,
			.set_tid_size = 1,
		};

		child = sys_clone3(&a2);
		if (child == 0)
			_exit(getpid() == 4242 ? 0 : 1);
		if (child != 4242 || waitpid(child, &status, 0) != child)
			_exit(2);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
