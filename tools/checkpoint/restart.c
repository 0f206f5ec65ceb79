// SPDX-License-Identifier: GPL-2.0
/*
 * restart - restart a container from a checkpoint image
 *
 *   restart [-i FILE] [-d]
 */
#define _GNU_SOURCE
#include <getopt.h>

#include "cr.h"
#include "container.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: restart [-i FILE] [-d]\n"
		"Restart a checkpointed container in a new container (pid, mount, uts\n"
		"and ipc namespaces, and a cgroup of its own under /sys/fs/cgroup).\n"
		"  -i FILE  read the image from FILE; without -i, from standard input\n"
		"  -d       do not wait: print the pid of the restored container's init\n"
		"           (in this pid namespace) and exit\n"
		"  -h       this help\n"
		"Exit status: without -d, the restored container's exit status (128+N if\n"
		"killed by signal N); 0 with -d once restarted; 1 if restart failed (the\n"
		"kernel's reason is printed); 2 on a usage error.\n");
}

/* pid 1 of a container whose restored process is its child: reap. */
static int reap(pid_t restored)
{
	int status, ret = 1;
	pid_t pid;

	for (;;) {
		pid = wait(&status);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return ret;
		if (pid == restored)
			ret = cr_exit_status(status);
	}
}

/* The child, pid 1 of the new namespaces: become the restored process. */
static void restart_child(int img, int report)
{
	char buf[256], msg[300];
	const char *why;
	long ret;
	int err;

	ret = sys_restart(RESTART_CRID_FD, img, 0);
	if (ret > 0) {
		/* The image's process was not pid 1: it is our child. */
		snprintf(msg, sizeof(msg), "OK %ld", ret);
		if (write(report, msg, strlen(msg)) < 0)
			_exit(126);
		close(report);
		close(img);
		_exit(reap(ret));
	}
	/* Other than that, only failures return: the reason goes to the parent. */
	err = errno;
	why = cr_reason(buf, sizeof(buf));
	snprintf(msg, sizeof(msg), "%s (%s)", why ? why : strerror(err), strerror(err));
	if (write(report, msg, strlen(msg)) < 0)
		_exit(126);
	_exit(125);
}

int main(int argc, char **argv)
{
	const char *in = NULL;
	char cgpath[256], msg[300];
	int c, img = STDIN_FILENO, detach = 0, report[2], status;
	ssize_t n;
	pid_t pid;

	while ((c = getopt(argc, argv, "i:dh")) != -1) {
		switch (c) {
		case 'i':
			in = optarg;
			break;
		case 'd':
			detach = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (in) {
		img = open(in, O_RDONLY | O_CLOEXEC);
		if (img < 0) {
			fprintf(stderr, "restart: %s: %s\n", in, strerror(errno));
			return 1;
		}
	}
	/* restart() closes every fd of the child: EOF here means success. */
	if (pipe2(report, O_CLOEXEC)) {
		perror("restart: pipe");
		return 1;
	}
	pid = cr_container_start("restart", cgpath, sizeof(cgpath));
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(report[0]);
		restart_child(img, report[1]);
	}
	close(report[1]);
	n = read(report[0], msg, sizeof(msg) - 1);
	if (n > 0 && !strncmp(msg, "OK ", 3))
		n = 0;
	if (n > 0) {
		msg[n] = '\0';
		fprintf(stderr, "restart: %s\n", msg);
		waitpid(pid, &status, 0);
		rmdir(cgpath);
		return 1;
	}
	return cr_container_finish("restart", pid, cgpath, detach);
}
