// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's workload: counts, one line every 200 ms, into a log file.
 * Its standard streams go to /dev/null, so that it only holds what
 * checkpoint supports.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *log = argc > 1 ? argv[1] : "/tmp/counter.log";
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	unsigned long n;
	int fd, null;

	null = open("/dev/null", O_RDWR);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	if (null > 2)
		close(null);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		return 1;
	for (n = 1;; n++) {
		dprintf(fd, "count %lu (pid %d)\n", n, getpid());
		nanosleep(&ts, NULL);
	}
}
