// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint - checkpoint a container to a file
 *
 *   checkpoint [-s] [-F | -k] [-D] [-N] [-d | -H] [-o FILE] PID
 *   checkpoint --write CRID [--drop CRID] [-o FILE]
 *   checkpoint --drop CRID
 *   checkpoint --held
 *   checkpoint --thaw PID
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "cr.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: checkpoint [-s] [-F | -k] [-D] [-N] [-d | -H] [-o FILE] PID\n"
		"       checkpoint --write CRID [--drop CRID] [-o FILE]\n"
		"       checkpoint --drop CRID\n"
		"       checkpoint --held\n"
		"       checkpoint --thaw PID\n"
		"Checkpoint the container whose init is PID (with -s, the subtree of PID).\n"
		"  -o FILE             write the image to FILE (created mode 0600, truncated);\n"
		"                      without -o the image goes to standard output\n"
		"  -s, --subtree       save PID and its descendants only: PID need not be\n"
		"                      the init of a container\n"
		"  -F, --leave-frozen  leave the container's cgroup frozen after the\n"
		"                      checkpoint (checkpoint --thaw PID thaws it)\n"
		"  -k, --kill          kill the checkpointed tasks after the checkpoint\n"
		"  -D, --disconnect    save a unix socket connected outside the container\n"
		"                      as if its peer had crashed (restart gives a reset)\n"
		"  -N, --no-page-csum  give the page data no checksum: checkpoint does not\n"
		"                      hash the memory it saves, restart does not check it\n"
		"  -d, --deferred      deferred: the container is frozen only while it is\n"
		"                      captured (its memory held copy-on-write), the image\n"
		"                      is written after it is thawed\n"
		"  -H, --hold          deferred, and the checkpoint is held in the kernel\n"
		"                      instead of written: prints its crid\n"
		"  -W, --write CRID    write the image of held checkpoint CRID (to -o FILE\n"
		"                      or standard output); it stays held\n"
		"  -X, --drop CRID     drop held checkpoint CRID (with --write: once written)\n"
		"      --held          list the held checkpoints the caller may write or drop\n"
		"      --thaw PID      only thaw the cgroup of PID (cgroup.freeze = 0)\n"
		"  -h, --help          this help\n"
		"Exit status: 0 on success, 1 on failure (the kernel's reason is printed),\n"
		"2 on a usage error.\n");
}

static long parse_pid(const char *s)
{
	char *end;
	long pid = strtol(s, &end, 10);

	if (!*s || *end || pid <= 0 || pid > 0x7fffffff) {
		fprintf(stderr, "checkpoint: bad pid '%s'\n", s);
		return -1;
	}
	return pid;
}

/* The cgroup v2 group of @pid, "/path" in @line; 0, or 1 (after a message unless @quiet). */
static int cgroup_of(long pid, char *line, size_t len, int quiet)
{
	char path[64];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/cgroup", pid);
	f = fopen(path, "re");
	if (!f) {
		if (!quiet)
			fprintf(stderr, "checkpoint: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, len, f)) {
		if (!strncmp(line, "0::/", 4)) {
			line[strcspn(line, "\n")] = '\0';
			found = 1;
			break;
		}
	}
	fclose(f);
	if (!found || !line[4]) {
		if (!quiet)
			fprintf(stderr, "checkpoint: process %ld is in %s\n", pid,
				found ? "the root cgroup" : "no cgroup v2 group");
		return 1;
	}
	memmove(line, line + 3, strlen(line + 3) + 1);
	return 0;
}

/* Thaw the cgroup v2 group of @pid: write 0 to its cgroup.freeze. */
static int thaw(long pid)
{
	char path[4200], line[4096];
	int fd;

	if (cgroup_of(pid, line, sizeof(line), 0))
		return 1;
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cgroup.freeze", line);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		fprintf(stderr, "checkpoint: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

/*
 * -k: wait until every killed task is gone from the cgroup @cg (so that
 * what they held, a bound socket's name say, is free), 10 s at most.
 */
static void wait_gone(const char *cg)
{
	char path[4200], buf[256];
	int i, fd, n;

	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cgroup.events", cg);
	for (i = 0; i < 1000; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return;
		buf[n] = '\0';
		if (strstr(buf, "populated 0"))
			return;
		usleep(10000);
	}
}

/* The kernel's reason of a failure, on stderr; returns 1. */
static int fail(const char *what, const char *out)
{
	char buf[256];
	int err = errno;
	const char *why = cr_reason(buf, sizeof(buf));

	fprintf(stderr, "%s: %s (%s)\n", what, why ? why : strerror(err), strerror(err));
	if (out)
		unlink(out);
	return 1;
}

/* The image file: @out, or standard output if not a terminal; -1 or -2 on failure. */
static int open_out(const char *out)
{
	int fd;

	if (!out) {
		if (isatty(STDOUT_FILENO)) {
			fprintf(stderr, "checkpoint: not writing an image to a terminal: use -o FILE\n");
			return -2;
		}
		return STDOUT_FILENO;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "checkpoint: %s: %s\n", out, strerror(errno));
		return -1;
	}
	return fd;
}

/* --held: the kernel's list. */
static int cat_held(void)
{
	char buf[4096];
	ssize_t n;
	int fd = open("/sys/kernel/checkpoint/held", O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "checkpoint: /sys/kernel/checkpoint/held: %s\n", strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, n, stdout) != (size_t)n)
			break;
	close(fd);
	return n < 0;
}

/*
 * While CRID is written out: "written X of Y MiB" on stderr, a terminal,
 * from the progress column of /sys/kernel/checkpoint/held.  A child
 * process, killed by the caller; 0 if none was started.
 */
static pid_t show_progress(long crid)
{
	pid_t pid;

	if (!isatty(STDERR_FILENO))
		return 0;
	pid = fork();
	if (pid != 0)
		return pid < 0 ? 0 : pid;
	for (;;) {
		unsigned long long size, done;
		char line[256];
		long c;
		FILE *f;

		usleep(250000);
		f = fopen("/sys/kernel/checkpoint/held", "re");
		if (!f)
			_exit(0);
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%ld %*u %*d %*u %*u %*u %*u %*x %llu %llu", &c, &size,
				   &done) == 3 && c == crid && done && size)
				fprintf(stderr, "\rcheckpoint: written %llu of %llu MiB (%llu%%)",
					done >> 20, size >> 20, done * 100 / size);
		fclose(f);
	}
}

/* --write CRID and/or --drop CRID. */
static int crid_op(const char *wcrid, const char *dcrid, const char *out,
		   unsigned long flags, int extra)
{
	long ret, crid = parse_pid(wcrid ? wcrid : dcrid);
	pid_t progress;
	int fd = -1;

	if (crid < 0)
		return 2;
	if (flags || extra || (wcrid && dcrid && strcmp(wcrid, dcrid)) || (!wcrid && out)) {
		fprintf(stderr, "checkpoint: --write and --drop take one CRID and only -o\n");
		usage(stderr);
		return 2;
	}
	if (wcrid) {
		fd = open_out(out);
		if (fd < 0)
			return -fd;
		flags |= CHECKPOINT_CRID_WRITE;
	}
	if (dcrid)
		flags |= CHECKPOINT_CRID_DROP;
	progress = wcrid ? show_progress(crid) : 0;
	ret = sys_checkpoint(crid, fd, flags);
	if (progress) {
		kill(progress, SIGKILL);
		waitpid(progress, NULL, 0);
		fprintf(stderr, "\r\033[K");
	}
	if (ret < 0)
		return fail("checkpoint", out);
	if (out && close(fd)) {
		fprintf(stderr, "checkpoint: %s: %s\n", out, strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "subtree", no_argument, NULL, 's' },
		{ "leave-frozen", no_argument, NULL, 'F' },
		{ "kill", no_argument, NULL, 'k' },
		{ "disconnect", no_argument, NULL, 'D' },
		{ "no-page-csum", no_argument, NULL, 'N' },
		{ "thaw", required_argument, NULL, 't' },
		{ "deferred", no_argument, NULL, 'd' },
		{ "hold", no_argument, NULL, 'H' },
		{ "write", required_argument, NULL, 'W' },
		{ "drop", required_argument, NULL, 'X' },
		{ "held", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *out = NULL, *thaw_pid = NULL, *wcrid = NULL, *dcrid = NULL, *why;
	int c, fd = STDOUT_FILENO, hold = 0, list = 0;
	unsigned long flags = 0;
	char buf[256], cg[4096];
	long pid;

	while ((c = getopt_long(argc, argv, "o:sFkDNdHW:X:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 's':
			flags |= CHECKPOINT_SUBTREE;
			break;
		case 'F':
			flags |= CHECKPOINT_LEAVE_FROZEN;
			break;
		case 'k':
			flags |= CHECKPOINT_KILL;
			break;
		case 'D':
			flags |= CHECKPOINT_SOCK_DISCONNECT;
			break;
		case 'N':
			flags |= CHECKPOINT_NO_PAGE_CSUM;
			break;
		case 't':
			thaw_pid = optarg;
			break;
		case 'd':
			flags |= CHECKPOINT_DEFERRED;
			break;
		case 'H':
			flags |= CHECKPOINT_DEFERRED;
			hold = 1;
			break;
		case 'W':
			wcrid = optarg;
			break;
		case 'X':
			dcrid = optarg;
			break;
		case 'L':
			list = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (thaw_pid) {
		if (optind != argc || flags || out) {
			fprintf(stderr, "checkpoint: --thaw PID takes no other argument\n");
			usage(stderr);
			return 2;
		}
		pid = parse_pid(thaw_pid);
		return pid < 0 ? 2 : thaw(pid);
	}
	if (list) {
		if (optind != argc || flags || out || wcrid || dcrid) {
			fprintf(stderr, "checkpoint: --held takes no other argument\n");
			usage(stderr);
			return 2;
		}
		return cat_held();
	}
	if (wcrid || dcrid)
		return crid_op(wcrid, dcrid, out, flags, optind != argc);
	if (hold && out) {
		fprintf(stderr, "checkpoint: -H writes no image: no -o\n");
		usage(stderr);
		return 2;
	}
	if ((flags & CHECKPOINT_DEFERRED) &&
	    (flags & (CHECKPOINT_LEAVE_FROZEN | CHECKPOINT_KILL))) {
		fprintf(stderr, "checkpoint: -d and -H exclude -F and -k\n");
		usage(stderr);
		return 2;
	}
	if ((flags & CHECKPOINT_LEAVE_FROZEN) && (flags & CHECKPOINT_KILL)) {
		fprintf(stderr, "checkpoint: -F and -k exclude each other\n");
		usage(stderr);
		return 2;
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	pid = parse_pid(argv[optind]);
	if (pid < 0)
		return 2;
	if ((flags & CHECKPOINT_KILL) && cgroup_of(pid, cg, sizeof(cg), 1))
		cg[0] = '\0';
	if (hold) {
		long crid = sys_checkpoint(pid, -1, flags);

		if (crid < 0)
			return fail("checkpoint", NULL);
		printf("%ld\n", crid);
		return 0;
	}
	fd = open_out(out);
	if (fd < 0)
		return -fd;
	if (sys_checkpoint(pid, fd, flags) < 0) {
		int err = errno;

		why = cr_reason(buf, sizeof(buf));
		fprintf(stderr, "checkpoint: %s (%s)\n", why ? why : strerror(err),
			strerror(err));
		if (out)
			unlink(out);
		return 1;
	}
	if (out && close(fd)) {
		fprintf(stderr, "checkpoint: %s: %s\n", out, strerror(errno));
		return 1;
	}
	if ((flags & CHECKPOINT_KILL) && cg[0])
		wait_gone(cg);
	return 0;
}
