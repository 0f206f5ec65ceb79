// SPDX-License-Identifier: GPL-2.0
/*
 * restart - restart a container from a checkpoint image
 *
 *   restart [-i FILE] [-d] [-F]
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <poll.h>

#include "cr.h"
#include "container.h"

/*
 * A network namespace for the container if its image says it had one.
 * Only a file can be looked at before restart() reads it; from a pipe,
 * restart() refuses such an image, naming the namespace.
 */
static unsigned long image_ns(int img)
{
	struct cr_hdr_head head;
	off_t pos = lseek(img, 0, SEEK_CUR);

	if (pos < 0 || pread(img, &head, sizeof(head), pos) != sizeof(head) ||
	    memcmp(head.magic, CR_IMAGE_MAGIC, sizeof(head.magic)))
		return 0;
	return head.ns_flags & CR_NS_NET ? CLONE_NEWNET : 0;
}

/* Clone flags for held checkpoint @crid, from /sys/kernel/checkpoint/held. */
static unsigned long held_ns(long crid)
{
	FILE *f = fopen("/sys/kernel/checkpoint/held", "re");
	unsigned int ns = 0;
	char line[256];
	long c;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%ld %*u %*d %*u %*u %*u %*u %x", &c, &ns) == 2 && c == crid)
			break;
	fclose(f);
	return ns & CR_NS_NET ? CLONE_NEWNET : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: restart [-i FILE | -c CRID] [-d] [-F]\n"
		"Restart a checkpointed container in a new container (pid, mount, uts\n"
		"and ipc namespaces, and a cgroup of its own under /sys/fs/cgroup).\n"
		"  -i FILE       read the image from FILE; without -i, from standard input\n"
		"  -c, --crid CRID  restart from the held checkpoint CRID (checkpoint -H),\n"
		"                which stays held\n"
		"  -d            do not wait: print the pid of the restored container's init\n"
		"                (in this pid namespace) and exit; the standard streams of\n"
		"                the restored root task are then /dev/null (else ours)\n"
		"  -F, --frozen  leave the restored container's cgroup frozen: none of its\n"
		"                tasks runs until checkpoint --thaw PID (PID: its init)\n"
		"  -h, --help    this help\n"
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

/*
 * restart() gives the restored root task our fds 0-2 as its standard
 * streams: /dev/null for those that are not the user's to hand on (all of
 * them with -d, standard input when it is the image).  Returns the image's fd.
 */
static int restart_stdio(int img, int detach)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return img;
	if (img == STDIN_FILENO) {
		img = fcntl(img, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		dup2(null, STDIN_FILENO);
	}
	if (detach) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	close(null);
	return img;
}

/* The child, pid 1 of the new namespaces: become the restored process. */
static void restart_child(int img, int report, unsigned long flags, int detach, long crid)
{
	char buf[256], msg[300];
	const char *why;
	long ret;
	int err;

	img = restart_stdio(img, detach);
	ret = crid ? sys_restart(crid, -1, flags) : sys_restart(RESTART_CRID_FD, img, flags);
	if (ret > 0) {
		/* The image's process was not pid 1: it is our child. */
		snprintf(msg, sizeof(msg), "OK %ld", ret);
		/* With -d -F the parent may be gone already: nobody waits for this. */
		if (write(report, msg, strlen(msg)) < 0 && errno != EPIPE)
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

/* Whether the cgroup whose cgroup.events is open as @events is frozen. */
static int cgroup_frozen(int events)
{
	char buf[256];
	ssize_t n = -1;

	if (lseek(events, 0, SEEK_SET) == 0)
		n = read(events, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, "frozen 1\n") != NULL;
}

/*
 * Read the child's report into @msg: returns its length, or 0 for a
 * success (EOF or "OK pid") or a read error.  With RESTART_FROZEN, the
 * child may be frozen as restart() returns it the restored process's pid,
 * before it reports: its cgroup frozen means success too.
 */
static ssize_t read_report(int report, const char *cgpath, unsigned long flags, char *msg,
			   size_t len)
{
	struct pollfd pfd[2] = {
		{ .fd = report, .events = POLLIN },
		{ .fd = -1, .events = POLLPRI },	/* cgroup.events changed */
	};
	char path[300];
	int frozen = 0;
	ssize_t n;

	if (flags & RESTART_FROZEN) {
		snprintf(path, sizeof(path), "%s/cgroup.events", cgpath);
		pfd[1].fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (pfd[1].fd >= 0) {
		while (!(frozen = cgroup_frozen(pfd[1].fd))) {
			if (poll(pfd, 2, -1) < 0 && errno != EINTR)
				break;
			if (pfd[0].revents)
				break;
		}
		close(pfd[1].fd);
		if (frozen)
			return 0;
	}
	n = read(report, msg, len - 1);
	if (n <= 0)
		return 0;
	msg[n] = '\0';
	return strncmp(msg, "OK ", 3) ? n : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "frozen", no_argument, NULL, 'F' },
		{ "crid", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *in = NULL;
	char cgpath[256], msg[300];
	int c, img = STDIN_FILENO, detach = 0, report[2], status;
	unsigned long flags = 0;
	long crid = 0;
	char *end;
	ssize_t n;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "i:c:dFh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			in = optarg;
			break;
		case 'c':
			crid = strtol(optarg, &end, 10);
			if (!*optarg || *end || crid <= 0 || crid > 0x7fffffff) {
				fprintf(stderr, "restart: bad crid '%s'\n", optarg);
				return 2;
			}
			break;
		case 'd':
			detach = 1;
			break;
		case 'F':
			flags |= RESTART_FROZEN;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (crid && in)) {
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
	pid = cr_container_start("restart", cgpath, sizeof(cgpath),
				 crid ? held_ns(crid) : image_ns(img));
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(report[0]);
		restart_child(img, report[1], flags, detach, crid);
	}
	close(report[1]);
	n = read_report(report[0], cgpath, flags, msg, sizeof(msg));
	if (n > 0) {
		fprintf(stderr, "restart: %s\n", msg);
		waitpid(pid, &status, 0);
		rmdir(cgpath);
		return 1;
	}
	return cr_container_finish("restart", pid, cgpath, detach);
}
