// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint - checkpoint a container to a file
 *
 *   checkpoint [-o FILE] PID
 */
#include <getopt.h>
#include <stdlib.h>

#include "cr.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: checkpoint [-o FILE] PID\n"
		"Checkpoint the container whose init (or subtree root) is PID.\n"
		"  -o FILE  write the image to FILE (created mode 0600, truncated);\n"
		"           without -o the image goes to standard output\n"
		"  -h       this help\n"
		"Exit status: 0 on success, 1 on failure (the kernel's reason is printed),\n"
		"2 on a usage error.\n");
}

int main(int argc, char **argv)
{
	const char *out = NULL, *why;
	char *end, buf[256];
	int c, fd = STDOUT_FILENO;
	long pid;

	while ((c = getopt(argc, argv, "o:h")) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	pid = strtol(argv[optind], &end, 10);
	if (*end || pid <= 0) {
		fprintf(stderr, "checkpoint: bad pid '%s'\n", argv[optind]);
		return 2;
	}
	if (out) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			fprintf(stderr, "checkpoint: %s: %s\n", out, strerror(errno));
			return 1;
		}
	} else if (isatty(fd)) {
		fprintf(stderr, "checkpoint: not writing an image to a terminal: use -o FILE\n");
		return 2;
	}
	if (sys_checkpoint(pid, fd, 0) < 0) {
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
	return 0;
}
