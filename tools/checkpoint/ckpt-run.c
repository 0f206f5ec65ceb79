// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-run - run a command in a new container that can be checkpointed
 *
 *   ckpt-run [-d] [--no-init] -- CMD [ARGS...]
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "cr.h"
#include "container.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ckpt-run [-d] [--no-init] [--net] -- CMD [ARGS...]\n"
		"Run CMD in a new container: pid, mount, uts and ipc namespaces and a\n"
		"cgroup of its own under /sys/fs/cgroup, as checkpoint needs.\n"
		"  -d         do not wait: print the pid of the container's init (in this\n"
		"             pid namespace) and exit; the minimal init's own standard\n"
		"             streams are then /dev/null (CMD still gets ours)\n"
		"  --no-init  CMD itself is the container's init (pid 1); by default a\n"
		"             minimal init runs CMD as pid 2 and reaps orphans\n"
		"  --net      a network namespace of its own too, loopback only (up);\n"
		"             restart gives the restored container a new one\n"
		"  -h         this help\n"
		"Exit status: without -d, CMD's exit status (128+N if killed by signal N);\n"
		"0 with -d; 1 if the container cannot be created; 2 on a usage error.\n");
}

static pid_t cmd_pid;

/* --net: the new network namespace's loopback up, as containers have it. */
static int loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	if (s >= 0 && !ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	if (ret)
		fprintf(stderr, "ckpt-run: cannot bring the loopback up: %s\n", strerror(errno));
	if (s >= 0)
		close(s);
	return ret;
}

static void forward(int sig)
{
	if (cmd_pid > 0)
		kill(cmd_pid, sig);
}

/* pid 1 of the container: run CMD, reap everything, exit as CMD did. */
static int mini_init(char **cmd, int detach)
{
	int status, ret = 1, null;
	pid_t pid;

	cmd_pid = fork();
	if (cmd_pid < 0)
		return 1;
	if (cmd_pid == 0) {
		execvp(cmd[0], cmd);
		fprintf(stderr, "ckpt-run: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	/*
	 * CMD has the files.  The init keeps only its standard streams, which
	 * checkpoint saves as those its starter hands on at restart (CMD's,
	 * if the same, with them); with -d not even those (/dev/null), that a
	 * caller reading our output to its end does not wait for the init.
	 */
	close_range(STDERR_FILENO + 1, ~0U, 0);
	null = detach ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
	signal(SIGTERM, forward);
	signal(SIGINT, forward);
	signal(SIGHUP, forward);
	for (;;) {
		pid = wait(&status);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return ret;
		if (pid == cmd_pid)
			ret = cr_exit_status(status);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-init", no_argument, NULL, 'n' },
		{ "net", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c, detach = 0, noinit = 0, net = 0;
	char cgpath[256];
	pid_t pid;

	while ((c = getopt_long(argc, argv, "+dh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			detach = 1;
			break;
		case 'n':
			noinit = 1;
			break;
		case 'N':
			net = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	pid = cr_container_start("ckpt-run", cgpath, sizeof(cgpath), net ? CLONE_NEWNET : 0);
	if (pid < 0)
		return 1;
	if (pid == 0) {
		if (net && loopback_up())
			_exit(1);
		if (noinit) {
			execvp(argv[optind], argv + optind);
			fprintf(stderr, "ckpt-run: %s: %s\n", argv[optind], strerror(errno));
			_exit(127);
		}
		_exit(mini_init(argv + optind, detach));
	}
	return cr_container_finish("ckpt-run", pid, cgpath, detach);
}
