/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the checkpoint/restart selftests: containers, checkpoint
 * and restart of them, and waiting for files.
 */
#ifndef CR_TEST_H
#define CR_TEST_H

#define _GNU_SOURCE
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>

#include "../../../checkpoint/cr.h"

#define CR_TEST_DIR	"/tmp/crtest"
#define CR_CG_DIR	"/sys/fs/cgroup/crtest"

/* PKRU, through the raw opcodes (older assemblers lack the mnemonics) */
static inline uint32_t rdpkru(void)
{
	uint32_t eax, edx;

	asm volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static inline void wrpkru(uint32_t v)
{
	asm volatile(".byte 0x0f, 0x01, 0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}

static inline bool have_ospke(void)
{
	unsigned int a, b, c, d;

	if (__get_cpuid_max(0, NULL) < 7)
		return false;
	__cpuid_count(7, 0, a, b, c, d);
	return c & (1U << 4);
}

static inline double cr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void cr_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Wait up to @ms for @path to exist; 0 or -1. */
static inline int cr_wait_file(const char *path, int ms)
{
	for (; ms > 0; ms -= 10) {
		if (!access(path, F_OK))
			return 0;
		cr_msleep(10);
	}
	return -1;
}

static inline int cr_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static inline int cr_read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* A cgroup of its own for the containers of a test: an O_DIRECTORY fd. */
static inline int cr_cgroup(char *path, size_t len)
{
	snprintf(path, len, "%s-%d", CR_CG_DIR, getpid());
	mkdir(path, 0755);
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Kill what is left in the cgroup @path and remove it. */
static inline void cr_cgroup_remove(const char *path)
{
	char file[600];
	int i;

	snprintf(file, sizeof(file), "%s/cgroup.kill", path);
	cr_write_str(file, "1");
	for (i = 0; i < 500 && rmdir(path) && errno == EBUSY; i++)
		cr_msleep(10);
}

/*
 * Leave only what checkpoint supports: /dev/null on 0-2, no other fd but
 * the @n of @keep (each >= 3), no shared mapping (the test harness shares
 * a page with its children).
 */
static inline void cr_quiet_fds_keepv(const int *keep, int n)
{
	unsigned long start, end;
	char line[512], perms[8];
	int null = open("/dev/null", O_RDWR);
	FILE *maps = fopen("/proc/self/maps", "r");
	unsigned int lo = 3, next;
	int i;

	while (maps && fgets(line, sizeof(line), maps))
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3 && perms[3] == 's')
			munmap((void *)start, end - start);
	if (maps)
		fclose(maps);

	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	/* close the gaps between the kept fds, lowest first */
	for (;;) {
		next = ~0U;
		for (i = 0; i < n; i++)
			if ((unsigned int)keep[i] >= lo && (unsigned int)keep[i] < next)
				next = keep[i];
		if (next == ~0U)
			break;
		if (next > lo)
			syscall(SYS_close_range, lo, next - 1, 0);
		lo = next + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
}

/* As cr_quiet_fds_keepv() with one fd, @keep (>= 3, or -1 for none). */
static inline void cr_quiet_fds_keep(int keep)
{
	cr_quiet_fds_keepv(&keep, keep >= 3);
}

static inline void cr_quiet_fds(void)
{
	cr_quiet_fds_keep(-1);
}

/* -- fail-nth ----------------------------------------------------------- */

/* The @n-th fault-injection point that the task of @fd reaches fails. */
static inline int cr_nth_arm(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return write(fd, buf, len) == len ? 0 : -1;
}

/*
 * What was left of the count: 0 once the fault was injected, more if the
 * call ended first.  Disarms.  Neither read nor write allocates.
 */
static inline long cr_nth_disarm(int fd)
{
	char buf[16];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (write(fd, "0", 1) != 1 || n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* Of another task. */
static inline long cr_nth_disarm_pid(pid_t pid)
{
	char path[64];
	long left;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/fail-nth", pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	left = cr_nth_disarm(fd);
	close(fd);
	return left;
}

/* More namespaces for the containers cr_clone() makes (CLONE_NEWNET). */
static unsigned long cr_clone_more_ns;

/* fork() into new pid/mount/uts/ipc namespaces and the cgroup @cgfd. */
static inline pid_t cr_clone(int cgfd)
{
	struct clone_args args = {
		.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | cr_clone_more_ns |
			 (cgfd >= 0 ? CLONE_INTO_CGROUP : 0),
		.exit_signal = SIGCHLD,
		.cgroup = cgfd >= 0 ? (unsigned int)cgfd : 0,
	};

	fflush(NULL);
	return syscall(SYS_clone3, &args, sizeof(args));
}

/* Run @fn(@arg) as pid 1 of a new container; its exit status is fn's. */
static inline pid_t cr_start(int cgfd, int (*fn)(void *), void *arg)
{
	pid_t pid = cr_clone(cgfd);

	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

/* CR_TEST_DEFERRED=crid: the held checkpoint the next cr_restart_fd() uses. */
static long cr_test_crid;

/*
 * checkpoint(@pid, @fd, @flags) as the tests take it: with CR_TEST_DEFERRED=1
 * in the environment a deferred checkpoint (CHECKPOINT_DEFERRED), with
 * CR_TEST_DEFERRED=hold a held one written to @fd then dropped, so that
 * the same tests check that deferred images restart like direct ones;
 * with CR_TEST_DEFERRED=crid a held one, not written (@fd gets nothing),
 * which the next cr_restart_fd() restarts from instead of an image
 * (restart from memory), then drops.
 * Returns 0, or -1 with errno.
 */
static inline int cr_test_checkpoint(pid_t pid, int fd, unsigned long flags)
{
	const char *mode = getenv("CR_TEST_DEFERRED");
	long crid;
	int err;

	/* Deferred excludes killing or leaving frozen: those stay direct. */
	if (!mode || !*mode || (flags & (CHECKPOINT_KILL | CHECKPOINT_LEAVE_FROZEN)))
		return sys_checkpoint(pid, fd, flags) < 0 ? -1 : 0;
	flags |= CHECKPOINT_DEFERRED;
	if (strcmp(mode, "hold") && strcmp(mode, "crid"))
		return sys_checkpoint(pid, fd, flags) < 0 ? -1 : 0;
	crid = sys_checkpoint(pid, -1, flags);
	if (crid <= 0)
		return -1;
	/* not written: once written, it would go with its container */
	if (!strcmp(mode, "crid")) {
		if (cr_test_crid > 0)
			sys_checkpoint(cr_test_crid, -1, CHECKPOINT_CRID_DROP);
		cr_test_crid = crid;
		return 0;
	}
	if (sys_checkpoint(crid, fd, CHECKPOINT_CRID_WRITE) < 0) {
		err = errno;
		sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP);
		errno = err;
		return -1;
	}
	return sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP) < 0 ? -1 : 0;
}

/*
 * Freeze the cgroup @cgpath and wait (5 s at most) until it is frozen:
 * then a kill ends its tasks without any of them running again (a reader
 * would otherwise see its writer die first).  0, or -1.
 */
static inline int cr_freeze_cg(const char *cgpath)
{
	char path[300], buf[256];
	int i;

	snprintf(path, sizeof(path), "%s/cgroup.freeze", cgpath);
	if (cr_write_str(path, "1"))
		return -1;
	snprintf(path, sizeof(path), "%s/cgroup.events", cgpath);
	for (i = 0; i < 500; i++) {
		if (cr_read_str(path, buf, sizeof(buf)) > 0 && strstr(buf, "frozen 1"))
			return 0;
		usleep(10000);
	}
	return -1;
}

/*
 * The word at @addr in the image @path (the page data of its PAGES
 * records), for what the restored process starts from.  0 or -1.
 */
static inline int cr_image_word(const char *path, uint64_t addr, uint64_t *val)
{
	int fd = open(path, O_RDONLY), ret = -1;
	uint64_t data_off;
	struct stat st;
	uint8_t *img;

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED)
		return -1;
	if (!cr_find_page(img, st.st_size, addr, NULL, &data_off) && (addr & 4095) <= 4096 - 8) {
		memcpy(val, img + data_off + (addr & 4095), sizeof(*val));
		ret = 0;
	}
	munmap(img, st.st_size);
	return ret;
}

/* checkpoint(@pid, @flags) into the file @path; 0 or -errno, reason in @why. */
static inline int cr_checkpoint_flags(pid_t pid, const char *path, unsigned long flags,
				      char *why, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int ret = 0;

	if (fd < 0)
		return -errno;
	why[0] = '\0';
	if (cr_test_checkpoint(pid, fd, flags)) {
		ret = -errno;
		cr_reason(why, len);
	}
	close(fd);
	return ret;
}

/* checkpoint() of the whole container whose init is @pid. */
static inline int cr_checkpoint(pid_t pid, const char *path, char *why, size_t len)
{
	return cr_checkpoint_flags(pid, path, 0, why, len);
}

/*
 * restart() from the image fd @img (a file, or a pipe) in a new
 * container; @img is left open.  Returns 0 with *@pid the restored
 * process (our child), or -errno of the failed restart, with the
 * kernel's reason in @why; the failed child is reaped and must have
 * exited normally (not been killed: nothing was half-done).
 */
static inline int cr_restart_fd(int cgfd, int img, pid_t *pid, char *why, size_t len)
{
	long crid = cr_test_crid;
	int report[2], status, err;
	ssize_t n;
	char buf[300];

	cr_test_crid = 0;

	why[0] = '\0';
	if (pipe2(report, O_CLOEXEC))
		return -errno;
	*pid = cr_clone(cgfd);
	if (*pid < 0) {
		err = errno;
		close(report[0]);
		close(report[1]);
		return -err;
	}
	if (*pid == 0) {
		long r = crid > 0 ? sys_restart(crid, -1, 0) : sys_restart(RESTART_CRID_FD, img, 0);

		if (r > 0) {
			/* restored as our child: say so, then reap it */
			snprintf(buf, sizeof(buf), "OK %ld", r);
			if (write(report[1], buf, strlen(buf)) < 0)
				_exit(126);
			close(report[1]);
			while (waitpid(r, &status, 0) < 0 && errno == EINTR)
				;
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
		err = errno;
		snprintf(buf, sizeof(buf), "%d ", err);
		cr_reason(buf + strlen(buf), sizeof(buf) - strlen(buf));
		if (write(report[1], buf, strlen(buf)) < 0)
			_exit(126);
		_exit(125);
	}
	close(report[1]);
	n = read(report[0], buf, sizeof(buf) - 1);
	close(report[0]);
	/* the restart is done with it (the report end is closed by then) */
	if (crid > 0)
		sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (!strncmp(buf, "OK ", 3))
		return 0;	/* *pid is the init, the restored task its child */
	err = atoi(buf);
	snprintf(why, len, "%s", strchr(buf, ' ') ? strchr(buf, ' ') + 1 : "");
	if (waitpid(*pid, &status, 0) != *pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 125)
		return -EFAULT;	/* the caller did not survive its failure */
	return -err;
}

/* As cr_restart_fd(), from the image file @path. */
static inline int cr_restart_img(int cgfd, const char *path, pid_t *pid,
				 char *why, size_t len)
{
	int img, ret;

	why[0] = '\0';
	img = open(path, O_RDONLY | O_CLOEXEC);
	if (img < 0)
		return -errno;
	ret = cr_restart_fd(cgfd, img, pid, why, len);
	close(img);
	return ret;
}

/* The (host) pid of a child of @parent, or -1. */
static inline pid_t cr_child_of(pid_t parent)
{
	char path[64], buf[1024], *p;
	int i;

	for (i = 2; i < 32768; i++) {
		snprintf(path, sizeof(path), "/proc/%d/status", i);
		if (cr_read_str(path, buf, sizeof(buf)) <= 0)
			continue;
		p = strstr(buf, "\nPPid:\t");
		if (p && atoi(p + 7) == parent)
			return i;
	}
	return -1;
}

static inline int cr_wait_exit(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static inline void cr_kill_wait(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Read or write a word in another process. */
static inline int cr_peek(pid_t pid, const void *addr, uint64_t *val)
{
	struct iovec l = { val, sizeof(*val) }, r = { (void *)addr, sizeof(*val) };

	return process_vm_readv(pid, &l, 1, &r, 1, 0) == sizeof(*val) ? 0 : -1;
}

static inline int cr_poke(pid_t pid, void *addr, uint64_t val)
{
	struct iovec l = { &val, sizeof(val) }, r = { addr, sizeof(val) };

	return process_vm_writev(pid, &l, 1, &r, 1, 0) == sizeof(val) ? 0 : -1;
}

/*
 * Is the container in the cgroup @cgpath thawed, and does the counter at
 * @counter in @pid still move?  0, or a negative line number of the
 * check that failed.
 */
static inline int cr_running_and_thawed(pid_t pid, const char *cgpath,
					volatile uint64_t *counter)
{
	char path[300], buf[256];
	uint64_t a, b;

	snprintf(path, sizeof(path), "%s/cgroup.freeze", cgpath);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0 || buf[0] != '0')
		return -__LINE__;
	snprintf(path, sizeof(path), "%s/cgroup.events", cgpath);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0 || !strstr(buf, "frozen 0"))
		return -__LINE__;
	if (cr_peek(pid, (void *)counter, &a))
		return -__LINE__;
	/* Under TCG with two guests' worth of load, 100 ms is not always a time slice. */
	for (int i = 0; i < 40; i++) {
		cr_msleep(50);
		if (cr_peek(pid, (void *)counter, &b))
			return -__LINE__;
		if (b > a)
			return 0;
	}
	return -__LINE__;
}

/* A small deterministic generator: the test and the workload agree. */
static inline uint64_t cr_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static inline void cr_fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = cr_rand(&seed);
}

static inline uint64_t cr_hash(const void *p, size_t len)
{
	struct cr_xxh64 s;

	cr_xxh64_reset(&s);
	cr_xxh64_update(&s, p, len);
	return cr_xxh64_digest(&s);
}

/* -- for tests whose containers report in files (pipe_test, unix_test) -- */

static inline void cr_vline(const char *path, const char *fmt, va_list ap)
{
	char buf[512];
	int fd, n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, n) != n)
		_exit(99);
	close(fd);
}

static inline void __attribute__((format(printf, 2, 3))) cr_line(const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cr_vline(path, fmt, ap);
	va_end(ap);
}

/* Byte @pos of the stream @seed: every byte depends on its position. */
static inline uint8_t cr_pat_byte(uint64_t seed, uint64_t pos)
{
	uint64_t z = seed + (pos / 8 + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z >> (8 * (pos % 8));
}

static inline void cr_pattern(uint8_t *p, size_t len, uint64_t seed, uint64_t pos)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = cr_pat_byte(seed, pos + i);
}

/* The first byte of @p that is not byte @pos... of @seed, or -1. */
static inline long cr_mismatch(const uint8_t *p, size_t len, uint64_t seed, uint64_t pos)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != cr_pat_byte(seed, pos + i))
			return i;
	return -1;
}

static inline char *cr_load_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n = -1;
	char *buf;

	if (fd < 0)
		return strdup("");
	buf = fstat(fd, &st) ? NULL : malloc(st.st_size + 1);
	if (buf)
		n = read(fd, buf, st.st_size);
	close(fd);
	if (n < 0) {
		free(buf);
		return strdup("");
	}
	buf[n] = '\0';
	return buf;
}

static inline int cr_count_lines(const char *path, const char *prefix)
{
	char *text = cr_load_file(path), *p;
	int n = 0;

	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
		n += !strncmp(p, prefix, strlen(prefix));
	free(text);
	return n;
}

static inline off_t cr_file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* Is @pid (host) a descendant of @root? */
static inline int cr_is_below(pid_t pid, pid_t root)
{
	char path[64], buf[512], *p;
	int i;

	for (i = 0; i < 64 && pid > 1; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if (cr_read_str(path, buf, sizeof(buf)) <= 0)
			return 0;
		p = strrchr(buf, ')');
		if (!p || strlen(p) < 5)
			return 0;
		pid = atoi(p + 4);
		if (pid == root)
			return 1;
	}
	return 0;
}

/* The host pid of the descendant of @root named @name, or -1. */
static inline pid_t cr_find_below(pid_t root, const char *name)
{
	char path[64], buf[512], comm[32];
	struct dirent *de;
	DIR *d = opendir("/proc");
	pid_t found = -1;
	char *p, *q;

	while (d && found < 0 && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.32s/stat", de->d_name);
		if (cr_read_str(path, buf, sizeof(buf)) <= 0)
			continue;
		p = strchr(buf, '(');
		q = strrchr(buf, ')');
		if (!p || !q || q - p - 1 >= (long)sizeof(comm))
			continue;
		snprintf(comm, sizeof(comm), "%.*s", (int)(q - p - 1), p + 1);
		if (!strcmp(comm, name) && cr_is_below(atoi(de->d_name), root))
			found = atoi(de->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

/* Wait up to @ms for @pid, our child: its exit status, 128 + signal, or -1. */
static inline int cr_wait_exit_ms(pid_t pid, int ms)
{
	int st;

	for (; ms > 0; ms -= 20) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		cr_msleep(20);
	}
	return -1;
}

static inline int cr_cg_empty(const char *cgpath)
{
	char path[300], buf[256];
	int i;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgpath);
	for (i = 0; i < 500; i++) {
		if (cr_read_str(path, buf, sizeof(buf)) == 0)
			return 0;
		cr_msleep(10);
	}
	return -1;
}

#endif /* CR_TEST_H */
