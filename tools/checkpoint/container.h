/* SPDX-License-Identifier: GPL-2.0 */
/* Creating a container: new namespaces and a cgroup v2 group of its own. */
#ifndef CR_CONTAINER_H
#define CR_CONTAINER_H

#include <dirent.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define CR_CGROUP_ROOT	"/sys/fs/cgroup"
#define CR_NS_FLAGS	(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC)

/* Remove the empty groups earlier containers left behind. */
static inline void cr_cgroup_sweep(const char *prefix)
{
	DIR *d = opendir(CR_CGROUP_ROOT);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", CR_CGROUP_ROOT, e->d_name);
		rmdir(path);	/* fails, harmlessly, while populated */
	}
	closedir(d);
}

/* A new cgroup for a container; returns an O_DIRECTORY fd, or -1. */
static inline int cr_cgroup_create(const char *prefix, char *path, size_t len)
{
	int fd;

	cr_cgroup_sweep(prefix);
	snprintf(path, len, "%s/%s%d", CR_CGROUP_ROOT, prefix, getpid());
	if (mkdir(path, 0755) && errno != EEXIST)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		rmdir(path);
	return fd;
}

/* clone3() into new namespaces and the cgroup @cgfd; fork semantics. */
static inline pid_t cr_clone_container(int cgfd, unsigned long more_ns)
{
	struct clone_args args = {
		.flags = CR_NS_FLAGS | more_ns | CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
		.cgroup = (unsigned int)cgfd,
	};

	return syscall(__NR_clone3, &args, sizeof(args));
}

/*
 * Start a container for @tool: a new cgroup (its path in @cgpath) and a
 * clone3() child in new namespaces inside it (@more_ns: CLONE_NEWNET too).  Returns the child's pid
 * (0 in the child) or -1 after printing why.
 */
static inline pid_t cr_container_start(const char *tool, char *cgpath, size_t len,
					unsigned long more_ns)
{
	int cgfd = cr_cgroup_create("ckpt-", cgpath, len);
	pid_t pid;

	if (cgfd < 0) {
		fprintf(stderr, "%s: cannot create a cgroup under %s: %s\n", tool,
			CR_CGROUP_ROOT, strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = cr_clone_container(cgfd, more_ns);
	if (pid < 0) {
		fprintf(stderr, "%s: cannot create the container: %s\n", tool, strerror(errno));
		rmdir(cgpath);
	}
	close(cgfd);	/* the container must not hold it: a cgroupfs file */
	return pid;
}

static inline int cr_exit_status(int status);

/*
 * The container @pid runs: with @detach print its pid and return 0, else
 * wait for it, remove its cgroup and return its exit status.
 */
static inline int cr_container_finish(const char *tool, pid_t pid, const char *cgpath,
				      int detach)
{
	int status;

	if (detach) {
		printf("%d\n", pid);
		return 0;
	}
	if (waitpid(pid, &status, 0) != pid) {
		fprintf(stderr, "%s: waitpid: %s\n", tool, strerror(errno));
		return 1;
	}
	rmdir(cgpath);
	return cr_exit_status(status);
}

/* Exit status of a waited-for child, shell style. */
static inline int cr_exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

#endif /* CR_CONTAINER_H */
