// SPDX-License-Identifier: GPL-2.0
/*
 * make bench: checkpoint time, restart time and image size for N MiB of
 * touched anonymous memory, beside memcpy bandwidth of the same size, in
 * one boot; and the same for one total memory spread over 1, 10, 100,
 * 1,000 processes.  Prints figures; never fails on them.
 *
 *   cr-bench SIZE_MIB...
 *   cr-bench --tasks TOTAL_MIB NR_TASKS...
 *   cr-bench --vs-criu [--runs N] [--memcpy MIB] [--json FILE] [--downtime MIB,...]
 *            [WORKLOAD...]
 *   cr-bench --rollback RUNS MIB...
 *
 * --vs-criu: each workload is run as our container (checkpoint, restart)
 * and as a plain process tree for CRIU (criu dump, criu restore -d), N
 * times each (default 3), in this boot, beside memcpy bandwidth and
 * fork() of the same process; the restored program checks every page it
 * wrote (and its files and pipes) and reports; a failed check or restore
 * is a FAIL and the exit status is 1.  WORKLOAD is mem:MIB (one
 * process), tree:PROCSxTHREADS:MIB (MIB in all, spread over every
 * thread) or files:FILES:PIPES (one process; regular files on tmpfs,
 * pipes holding data); by default mem:1 mem:64 mem:512 tree:10x4:64
 * files:1000:100.
 *
 * Then, in the same boot, the downtime of each kind of checkpoint for a
 * container whose pid 1 has MIB of touched memory (--downtime, by default
 * 64,512; "none" for none) and only reads CLOCK_MONOTONIC in a loop,
 * keeping the longest gap between two reads: that gap during a direct
 * checkpoint (flags 0), a deferred one to a file and a deferred one held,
 * then written and dropped (CHECKPOINT_CRID_WRITE, _DROP), beside
 * frozen_ns of the kernel's stats, the call's time and fork() of the same
 * process; and the target's write rate (a byte stored per page) in the
 * first second after the thaw of a deferred checkpoint against that
 * without one.  Every image of it is restarted beside the target and its
 * program checks its memory; the target checks its own at the end.
 *
 * --rollback: a process with MIB of touched memory checkpoints itself,
 * stores to every page and rolls itself back in place, RUNS times: the
 * medians of the checkpoint, of the stores (their copy-on-write cost) and
 * of the rollback, beside fork() of the same process; it checks every
 * page after each rollback.
 */
#include "../testing/selftests/checkpoint/cr_test.h"

#include <math.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <linux/futex.h>

volatile uint64_t go_flag, spins;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t bench_size;
static unsigned int bench_tasks;
/* The container's init, busy: a heartbeat and the longest gap it saw. */
volatile uint64_t beats, max_gap_ns;

static int workload(void *arg)
{
	char *p;
	size_t i;

	cr_quiet_fds();
	p = mmap(NULL, bench_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	for (i = 0; i < bench_size; i += 4096)
		memset(p + i, (int)(i >> 12) | 1, 4096);
	cr_write_str("/tmp/bench.ready", "1");
	while (!go_flag)
		spins++;
	return 0;
}

/*
 * Restart /tmp/bench.img and time it until the restored @counter moves;
 * the container is killed and the image removed.  Seconds, or -1.
 */
static double restart_timed(int cg, volatile uint64_t *counter)
{
	uint64_t c0 = 0, c1 = 0;
	char why[256];
	double t0 = mono(), tr;
	pid_t rpid = 0;

	if (cr_restart_img(cg, "/tmp/bench.img", &rpid, why, sizeof(why))) {
		fprintf(stderr, "restart: %s\n", why);
		return -1;
	}
	cr_peek(rpid, (void *)counter, &c0);
	do {
		cr_peek(rpid, (void *)counter, &c1);
	} while (c1 == c0);
	tr = mono() - t0;
	cr_kill_wait(rpid);
	unlink("/tmp/bench.img");
	return tr;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void touch(size_t size)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		_exit(1);
	for (i = 0; i < size; i += 4096)
		memset(p + i, (int)(i >> 12) | 1, 4096);
}

/*
 * pid 1 and bench_tasks - 1 children, bench_size bytes in all.  The
 * children sleep; pid 1 beats, and records the longest time it did not
 * run: the time the checkpoint kept the container frozen, as seen inside.
 */
static int tasks_workload(void *arg)
{
	size_t per = bench_size / bench_tasks;
	unsigned int i;
	uint64_t last, now;
	struct stat st;
	int fd;

	cr_quiet_fds();
	fd = open("/tmp/bench.cnt", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	for (i = 1; i < bench_tasks; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			touch(per);
			if (write(fd, "x", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
	}
	touch(per);
	do {
		usleep(10000);
		if (fstat(fd, &st))
			return 1;
	} while (st.st_size < bench_tasks - 1);
	close(fd);
	cr_write_str("/tmp/bench.ready", "1");
	last = mono_ns();
	for (;;) {
		now = mono_ns();
		if (now - last > max_gap_ns)
			max_gap_ns = now - last;
		last = now;
		beats++;
	}
}

static int bench_tasks_main(int cg, size_t total_mib, int argc, char **argv)
{
	char why[256];

	printf("%d MiB in all, spread over the processes of one container\n", (int)total_mib);
	printf("%6s %8s %9s %11s %9s %11s %9s\n", "tasks", "ckpt s", "frozen ms",
	       "ms per task", "restart s", "ms per task", "image MiB");
	for (int a = 0; a < argc; a++) {
		double t0, tc, tr;
		uint64_t gap = 0;
		struct stat st;
		pid_t pid;

		bench_tasks = strtoul(argv[a], NULL, 0);
		if (!bench_tasks)
			return 2;
		bench_size = total_mib << 20;
		unlink("/tmp/bench.ready");
		pid = cr_start(cg, tasks_workload, NULL);
		if (pid < 0 || cr_wait_file("/tmp/bench.ready", 600000))
			return 1;
		cr_msleep(200);
		cr_poke(pid, (void *)&max_gap_ns, 0);
		t0 = mono();
		if (cr_checkpoint(pid, "/tmp/bench.img", why, sizeof(why))) {
			fprintf(stderr, "checkpoint: %s\n", why);
			return 1;
		}
		tc = mono() - t0;
		cr_msleep(100);
		cr_peek(pid, (void *)&max_gap_ns, &gap);
		cr_kill_wait(pid);
		stat("/tmp/bench.img", &st);

		/* The whole tree stands once pid 1 beats again. */
		tr = restart_timed(cg, &beats);
		if (tr < 0)
			return 1;
		printf("%6u %8.3f %9.1f %11.3f %9.3f %11.3f %9.1f\n", bench_tasks, tc, gap / 1e6,
		       tc * 1e3 / bench_tasks, tr, tr * 1e3 / bench_tasks, st.st_size / 1048576.0);
		fflush(stdout);
	}
	return 0;
}

static double memcpy_mibs(size_t size)
{
	char *a = malloc(size), *b = malloc(size);
	double best = 1e9, t;
	int i;

	memset(a, 1, size);
	memset(b, 2, size);
	for (i = 0; i < 3; i++) {
		t = mono();
		memcpy(b, a, size);
		t = mono() - t;
		if (t < best)
			best = t;
	}
	free(a);
	free(b);
	return size / 1048576.0 / best;
}

/* write(2) of the same bytes into the same file system, 1 MiB at a time. */
static double write_mibs(size_t size)
{
	char *a = malloc(1 << 20);
	double t;
	size_t done;
	int fd;

	memset(a, 3, 1 << 20);
	fd = open("/tmp/bench.write", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	t = mono();
	for (done = 0; done < size; done += 1 << 20)
		if (write(fd, a, 1 << 20) != 1 << 20)
			break;
	t = mono() - t;
	close(fd);
	unlink("/tmp/bench.write");
	free(a);
	return size / 1048576.0 / t;
}

/* -- --vs-criu: ours beside CRIU ------------------------------------------ */

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define VS_MAX_RUNS	9
#define VS_MAX_WL	16
#define VS_MAX_THREADS	16
#define VS_MAX_FILES	2000
#define VS_MAX_PIPES	200
#define VS_STATS	"/sys/kernel/checkpoint/stats"
#define VS_CRIU		"criu"
#define VS_CRIU_IMG	"/tmp/criu-img"
#define VS_CRIU_WORK	"/tmp/criu-work"
#define VS_IMG		"/tmp/bench.img"
#define VS_FILES	"/tmp/bench-files"
#define VS_READY	"/tmp/bench.ready"
#define VS_COUNT	"/tmp/bench.cnt"
#define VS_FORK		"/tmp/bench.fork"
#define VS_VERIFY	"/tmp/bench.verify"
#define VS_FILE_LEN	64

struct vs_spec {
	char name[32], arg[32];
	size_t bytes;			/* touched anonymous memory, in all */
	unsigned int procs, threads;	/* threads per process, the main one included */
	unsigned int files, pipes;
};

/*
 * The workload's own state: set before it starts, kept in its memory, so
 * that the restored program knows what it wrote.
 */
static struct vs_spec wl;
static uint64_t wl_seed;
static int wl_gopipe[2] = { -1, -1 };
static int wl_fds[VS_MAX_FILES], wl_pipes[VS_MAX_PIPES][2];
static volatile int thr_go, thr_filled;

struct wl_thread {
	pthread_t t;
	uint64_t *p;
	size_t len;
	uint64_t seed;
	long bad;
};

static struct wl_thread wl_thr[VS_MAX_THREADS];

static uint64_t vs_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Page @pg of @seed: word i is base + i, base a function of both. */
static void vs_fill(uint64_t *p, size_t len, uint64_t seed)
{
	size_t pg, i;

	for (pg = 0; pg < len / 4096; pg++) {
		uint64_t base = vs_mix(seed + pg * 0x9e3779b97f4a7c15ULL), *w = p + pg * 512;

		for (i = 0; i < 512; i++)
			w[i] = base + i;
	}
}

/* The number of pages that do not hold what vs_fill() wrote. */
static long vs_check(const uint64_t *p, size_t len, uint64_t seed)
{
	size_t pg, i;
	long bad = 0;

	for (pg = 0; pg < len / 4096; pg++) {
		uint64_t base = vs_mix(seed + pg * 0x9e3779b97f4a7c15ULL);
		const uint64_t *w = p + pg * 512;

		for (i = 0; i < 512; i++)
			if (w[i] != base + i) {
				bad++;
				break;
			}
	}
	return bad;
}

static long vs_futex(volatile int *addr, int op, int val)
{
	return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static void *wl_thread_fn(void *arg)
{
	struct wl_thread *t = arg;

	vs_fill(t->p, t->len, t->seed);
	__atomic_add_fetch(&thr_filled, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&thr_go, __ATOMIC_SEQ_CST))
		vs_futex(&thr_go, FUTEX_WAIT_PRIVATE, 0);
	t->bad = vs_check(t->p, t->len, t->seed);
	return NULL;
}

/* The memory of process @idx, over its threads; 0 or -1. */
static int wl_memory(unsigned int idx)
{
	size_t per_proc = wl.bytes / wl.procs / 4096 * 4096, per_thr, off = 0;
	unsigned int j;
	pthread_attr_t attr;
	char *p = NULL;

	if (per_proc) {
		p = mmap(NULL, per_proc, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (p == MAP_FAILED)
			return -1;
	}
	per_thr = per_proc / wl.threads / 4096 * 4096;
	for (j = 0; j < wl.threads; j++) {
		wl_thr[j].p = (uint64_t *)(p + off);
		wl_thr[j].len = j == wl.threads - 1 ? per_proc - off : per_thr;
		wl_thr[j].seed = vs_mix(wl_seed ^ ((uint64_t)idx << 32) ^ j);
		off += wl_thr[j].len;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	for (j = 1; j < wl.threads; j++)
		if (pthread_create(&wl_thr[j].t, &attr, wl_thread_fn, &wl_thr[j]))
			return -1;
	pthread_attr_destroy(&attr);
	vs_fill(wl_thr[0].p, wl_thr[0].len, wl_thr[0].seed);
	while (__atomic_load_n(&thr_filled, __ATOMIC_SEQ_CST) < (int)wl.threads - 1)
		usleep(1000);
	return 0;
}

/* After restore: let the threads check theirs, check ours; bad pages. */
static long wl_memory_check(void)
{
	long bad;
	unsigned int j;

	__atomic_store_n(&thr_go, 1, __ATOMIC_SEQ_CST);
	vs_futex(&thr_go, FUTEX_WAKE_PRIVATE, INT32_MAX);
	bad = vs_check(wl_thr[0].p, wl_thr[0].len, wl_thr[0].seed);
	for (j = 1; j < wl.threads; j++) {
		pthread_join(wl_thr[j].t, NULL);
		bad += wl_thr[j].bad;
	}
	return bad;
}

static void wl_file_pattern(uint8_t *buf, unsigned int i)
{
	cr_pattern(buf, VS_FILE_LEN, wl_seed + i, 0);
}

/* Open files, each with its content and offset, and pipes holding data. */
static int wl_files(void)
{
	uint8_t buf[VS_FILE_LEN + 2000];
	char path[64];
	unsigned int i;

	for (i = 0; i < wl.files; i++) {
		snprintf(path, sizeof(path), VS_FILES "/f%04u", i);
		wl_fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		wl_file_pattern(buf, i);
		if (wl_fds[i] < 0 || write(wl_fds[i], buf, VS_FILE_LEN) != VS_FILE_LEN ||
		    lseek(wl_fds[i], i % VS_FILE_LEN, SEEK_SET) < 0)
			return -1;
	}
	for (i = 0; i < wl.pipes; i++) {
		size_t len = 1000 + i;

		cr_pattern(buf, len, ~wl_seed + i, 0);
		if (pipe(wl_pipes[i]) || write(wl_pipes[i][1], buf, len) != (ssize_t)len)
			return -1;
	}
	return 0;
}

/* The files and pipes that do not hold what wl_files() left. */
static long wl_files_check(long *bad_pipes)
{
	uint8_t want[VS_FILE_LEN + 2000], got[VS_FILE_LEN + 2000];
	unsigned int i;
	long bad = 0;
	int n;

	for (i = 0; i < wl.files; i++) {
		wl_file_pattern(want, i);
		if (lseek(wl_fds[i], 0, SEEK_CUR) != i % VS_FILE_LEN ||
		    pread(wl_fds[i], got, sizeof(got), 0) != VS_FILE_LEN ||
		    memcmp(want, got, VS_FILE_LEN))
			bad++;
	}
	*bad_pipes = 0;
	for (i = 0; i < wl.pipes; i++) {
		size_t len = 1000 + i;

		cr_pattern(want, len, ~wl_seed + i, 0);
		if (ioctl(wl_pipes[i][0], FIONREAD, &n) || n != (int)len ||
		    read(wl_pipes[i][0], got, len) != (ssize_t)len || memcmp(want, got, len))
			(*bad_pipes)++;
	}
	return bad;
}

static int wl_count_ready(const char *path, unsigned int n)
{
	struct stat st;
	int i;

	for (i = 0; i < 600000; i++) {
		if (!stat(path, &st) && st.st_size >= n)
			return 0;
		usleep(1000);
	}
	return -1;
}

static void wl_child(unsigned int idx, int cnt)
{
	char c;
	long bad;

	close(wl_gopipe[1]);
	if (wl_memory(idx))
		_exit(101);
	if (write(cnt, "x", 1) != 1)
		_exit(102);
	close(cnt);
	while (read(wl_gopipe[0], &c, 1) != 1)
		if (errno != EINTR)
			_exit(103);
	bad = wl_memory_check();
	_exit(bad > 100 ? 100 : bad);
}

/*
 * The downtime workload: wl_main() with one process and one thread whose
 * spin loop is dt_loop().  The bench pokes these words in it and peeks
 * them back (the same addresses: it is a fork of the bench).
 */
#define DT_CHUNK	16		/* pages written between two clock reads */
#define DT_WRITE_NS	1000000000ULL	/* the write throughput window: 1 s */

enum { DT_CMD_BEFORE = 1, DT_CMD_THROUGH };

volatile uint64_t dt_reset, dt_gap_ns, dt_cmd, dt_called;
volatile uint64_t dt_rate_before, dt_rate_after, dt_wgap_ns, dt_wpages;
volatile uint64_t dt_pass_before_ns, dt_pass_after_ns;
static int wl_downtime;

/* One byte stored in each of DT_CHUNK pages, the byte it holds: nothing changes. */
static void dt_touch(volatile uint8_t *b, size_t *pg, size_t pages)
{
	int i;

	for (i = 0; i < DT_CHUNK; i++) {
		b[*pg * 4096] = b[*pg * 4096];
		if (++*pg == pages)
			*pg = 0;
	}
}

/*
 * Without a checkpoint: after a pass that makes every page writable, the
 * time of one pass, and the write rate over 1 s.
 */
static void dt_write_before(void)
{
	volatile uint8_t *b = (volatile uint8_t *)wl_thr[0].p;
	size_t pages = wl_thr[0].len / 4096, pg = 0, n;
	uint64_t t0, now;

	for (n = 0; n < pages; n += DT_CHUNK)
		dt_touch(b, &pg, pages);
	t0 = mono_ns();
	for (n = 0; n < pages; n += DT_CHUNK)
		dt_touch(b, &pg, pages);
	dt_pass_before_ns = mono_ns() - t0;
	n = 0;
	t0 = mono_ns();
	do {
		dt_touch(b, &pg, pages);
		n += DT_CHUNK;
		spins++;
		now = mono_ns();
	} while (now - t0 < DT_WRITE_NS && !go_flag);
	dt_rate_before = (uint64_t)(n * 4096.0 * 1e9 / (now - t0));
}

/*
 * Write without a pause through a checkpoint: once the bench says it is
 * about to call (dt_called 1, answered 2), the longest gap between two
 * clock reads is the freeze; the rate is that of the first second after
 * it, and the time of the first pass over every page after it.  Done once
 * the bench says the call returned (dt_called 3).
 */
static void dt_write_through(void)
{
	volatile uint8_t *b = (volatile uint8_t *)wl_thr[0].p;
	size_t pages = wl_thr[0].len / 4096, pg = 0;
	uint64_t last = mono_ns(), now, gap = 0, end = 0, n = 0;
	int armed = 0, have = 0, pass = 0;

	while (!go_flag) {
		dt_touch(b, &pg, pages);
		spins++;
		now = mono_ns();
		if (!armed) {
			if (dt_called == 1) {
				armed = 1;
				dt_called = 2;
			}
		} else if (now - last > gap) {
			gap = now - last;
			end = now;
			n = 0;
			have = 0;
			pass = 0;
		} else {
			n += DT_CHUNK;
			if (!have && now - end >= DT_WRITE_NS) {
				dt_rate_after = (uint64_t)(n * 4096.0 * 1e9 / (now - end));
				dt_wpages = n;
				have = 1;
			}
			if (!pass && n >= pages) {
				dt_pass_after_ns = now - end;
				pass = 1;
			}
		}
		last = now;
		if (have && pass && dt_called == 3)
			break;
	}
	dt_wgap_ns = gap;
}

/* Read the clock, keep the longest gap between two reads; run the bench's commands. */
static void dt_loop(void)
{
	uint64_t last = mono_ns(), now, cmd;

	while (!go_flag) {
		now = mono_ns();
		if (now - last > dt_gap_ns)
			dt_gap_ns = now - last;
		last = now;
		spins++;
		if (dt_reset) {
			dt_gap_ns = 0;
			dt_reset = 0;
		}
		cmd = dt_cmd;
		if (cmd) {
			if (cmd == DT_CMD_BEFORE)
				dt_write_before();
			else
				dt_write_through();
			dt_cmd = 0;
			last = mono_ns();
		}
	}
}

/*
 * The workload, pid 1 of our container or the root of a plain tree for
 * CRIU: builds everything, times one fork()+_exit()+wait() of itself,
 * says it is ready, spins (the bench sees it run) until told to go,
 * then checks everything it wrote and exits 0 if all of it is there.
 */
static int wl_main(void *arg)
{
	long bad = 0, bad_files = 0, bad_pipes = 0, bad_children = 0;
	unsigned int i, lost = 0;
	pid_t kids[64], p;
	char buf[256];
	uint64_t t0;
	int cnt, st;

	cr_quiet_fds();
	setsid();
	if (pipe(wl_gopipe))
		return 2;
	cnt = open(VS_COUNT, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (cnt < 0)
		return 2;
	for (i = 1; i < wl.procs; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			return 2;
		if (kids[i] == 0)
			wl_child(i, cnt);
	}
	close(wl_gopipe[0]);
	if (wl_memory(0) || wl_files() || wl_count_ready(VS_COUNT, wl.procs - 1))
		return 2;
	close(cnt);

	t0 = mono_ns();
	p = fork();
	if (p == 0)
		_exit(0);
	if (p < 0 || waitpid(p, NULL, 0) != p)
		return 2;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(mono_ns() - t0));
	cr_write_str(VS_FORK, buf);
	cr_write_str(VS_READY, "1");

	if (wl_downtime)
		dt_loop();
	while (!go_flag)
		spins++;

	/* restored (or never checkpointed): check it all */
	for (i = 1; i < wl.procs; i++)
		if (write(wl_gopipe[1], "g", 1) != 1)
			return 3;
	bad = wl_memory_check();
	bad_files = wl_files_check(&bad_pipes);
	for (i = 1; i < wl.procs; i++) {
		if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st))
			lost++;
		else
			bad_children += WEXITSTATUS(st);
	}
	bad += bad_children;
	snprintf(buf, sizeof(buf), "%s: %ld bad of %zu pages in %u x %u threads (%u lost), ",
		 bad || lost || bad_files || bad_pipes ? "FAIL" : "ok", bad,
		 wl.bytes / wl.procs / 4096 * wl.procs, wl.procs, wl.threads, lost);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		 "%ld bad of %u files, %ld bad of %u pipes\n", bad_files, wl.files, bad_pipes,
		 wl.pipes);
	cr_write_str(VS_VERIFY, buf);
	return bad || lost || bad_files || bad_pipes ? 1 : 0;
}

/* -- the bench side -- */

struct vs_side {
	double t1[VS_MAX_RUNS], t2[VS_MAX_RUNS];	/* checkpoint/dump, restart/restore */
	double img[VS_MAX_RUNS], fork[VS_MAX_RUNS];	/* bytes, seconds */
	int ok[VS_MAX_RUNS];				/* 1 verified, 0 failed */
	char st1[VS_MAX_RUNS][1024], st2[VS_MAX_RUNS][1024];	/* kernel stats (ours) */
};

struct vs_result {
	struct vs_spec spec;
	struct vs_side ours, criu;
};

static int vs_runs = 3, vs_fails;
static char vs_cgpath[128];
static int vs_cg = -1;

static int vs_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* min and median of the values that are not NAN; NAN if none. */
static void vs_stats(const double *v, int n, double *min, double *med)
{
	double s[VS_MAX_RUNS];
	int i, k = 0;

	for (i = 0; i < n; i++)
		if (!isnan(v[i]))
			s[k++] = v[i];
	if (!k) {
		*min = *med = NAN;
		return;
	}
	qsort(s, k, sizeof(s[0]), vs_cmp);
	*min = s[0];
	*med = k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

static double vs_med(const double *v)
{
	double min, med;

	vs_stats(v, vs_runs, &min, &med);
	return med;
}

/* The run whose @v is the median (the lower middle one of an even count), or -1. */
static int vs_median_run(const double *v)
{
	int i, k, n = 0, rank;

	for (i = 0; i < vs_runs; i++)
		n += !isnan(v[i]);
	for (i = 0; i < vs_runs; i++) {
		if (isnan(v[i]))
			continue;
		rank = 0;
		for (k = 0; k < vs_runs; k++)
			rank += !isnan(v[k]) && (v[k] < v[i] || (v[k] == v[i] && k < i));
		if (rank == (n - 1) / 2)
			return i;
	}
	return -1;
}

/* The line of @kind ("checkpoint", "restart") of the kernel's stats, or "". */
static void vs_kstats(const char *kind, char *out, size_t len)
{
	char buf[8192], *line, *save = NULL;
	size_t kl = strlen(kind);

	out[0] = '\0';
	if (cr_read_str(VS_STATS, buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, kind, kl) && line[kl] == ' ') {
			snprintf(out, len, "%s", line + kl + 1);
			return;
		}
}

/* The value of @key in a stats line, or NAN. */
static double vs_kvalue(const char *line, const char *key)
{
	size_t kl = strlen(key);
	const char *p;

	for (p = line; p && *p; p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, kl) && p[kl] == '=')
			return strtod(p + kl + 1, NULL);
	}
	return NAN;
}

/* du of @path: a file, or the files of a directory. */
static double vs_du(const char *path)
{
	char sub[512];
	struct dirent *de;
	struct stat st;
	double sum = 0;
	DIR *d;

	if (stat(path, &st))
		return NAN;
	if (!S_ISDIR(st.st_mode))
		return st.st_blocks * 512.0;
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (!stat(sub, &st))
			sum += st.st_blocks * 512.0;
	}
	if (d)
		closedir(d);
	return sum;
}

static void vs_rm_dir(const char *path)
{
	char sub[512];
	struct dirent *de;
	DIR *d = opendir(path);

	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		unlink(sub);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

static void vs_fail(const char *wl_name, const char *tool, int run, const char *what)
{
	printf("FAIL %s %s run %d: %s\n", wl_name, tool, run + 1, what);
	fflush(stdout);
	vs_fails++;
}

/* Reap every child left (a killed tree reparented to us); up to 30 s. */
static void vs_reap_all(void)
{
	int i;

	for (i = 0; i < 3000; i++) {
		pid_t p = waitpid(-1, NULL, WNOHANG);

		if (p < 0 && errno == ECHILD)
			return;
		if (p <= 0)
			cr_msleep(10);
	}
}

/* Start the workload; wait until it is ready.  Its pid, or -1. */
static pid_t vs_start(int container)
{
	pid_t pid;
	int i;

	unlink(VS_READY);
	unlink(VS_FORK);
	unlink(VS_VERIFY);
	unlink(VS_COUNT);
	if (container) {
		pid = cr_start(vs_cg, wl_main, NULL);
	} else {
		fflush(NULL);
		pid = fork();
		if (pid == 0)
			_exit(wl_main(NULL));
	}
	if (pid < 0)
		return -1;
	for (i = 0; i < 600000 && access(VS_READY, F_OK); i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(1000);
	}
	if (access(VS_READY, F_OK)) {
		cr_kill_wait(pid);
		return -1;
	}
	return pid;
}

static double vs_fork_s(void)
{
	char buf[64];

	if (cr_read_str(VS_FORK, buf, sizeof(buf)) <= 0)
		return NAN;
	return strtoull(buf, NULL, 10) / 1e9;
}

/* Wait up to @ms for the spin counter of @pid to move: 0, or -1. */
static int vs_wait_runs(pid_t pid, int ms)
{
	double end = mono() + ms / 1e3;
	uint64_t a, b;

	while (cr_peek(pid, (void *)&spins, &a))
		if (mono() > end)
			return -1;
	do {
		if (!cr_peek(pid, (void *)&spins, &b) && b != a)
			return 0;
	} while (mono() < end);
	return -1;
}

/* Tell the restored @pid (our child) to check itself; 1 if all is there. */
static int vs_verify(pid_t pid, const char *wl_name, const char *tool, int run)
{
	char msg[300], what[400];
	int st;

	if (cr_poke(pid, (void *)&go_flag, 1)) {
		vs_fail(wl_name, tool, run, "cannot tell the restored program to check itself");
		cr_kill_wait(pid);
		return 0;
	}
	st = cr_wait_exit_ms(pid, 600000);
	if (cr_read_str(VS_VERIFY, msg, sizeof(msg)) <= 0)
		snprintf(msg, sizeof(msg), "no report\n");
	msg[strcspn(msg, "\n")] = '\0';
	if (st == 0 && !strncmp(msg, "ok", 2))
		return 1;
	if (st < 0)
		cr_kill_wait(pid);
	snprintf(what, sizeof(what), "restored program: exit status %d, %s", st, msg);
	vs_fail(wl_name, tool, run, what);
	return 0;
}

static void vs_run_ours(struct vs_result *r, int run)
{
	struct vs_side *s = &r->ours;
	char why[256], what[400];
	pid_t pid, rpid;
	double t0;
	int ret;

	pid = vs_start(1);
	if (pid < 0) {
		vs_fail(r->spec.name, "ours", run, "the workload did not start");
		return;
	}
	s->fork[run] = vs_fork_s();
	cr_msleep(100);
	t0 = mono();
	ret = cr_checkpoint(pid, VS_IMG, why, sizeof(why));
	if (ret) {
		cr_kill_wait(pid);
		snprintf(what, sizeof(what), "checkpoint: %s (%s)", strerror(-ret), why);
		vs_fail(r->spec.name, "ours", run, what);
		return;
	}
	s->t1[run] = mono() - t0;
	vs_kstats("checkpoint", s->st1[run], sizeof(s->st1[run]));
	s->img[run] = vs_du(VS_IMG);
	cr_kill_wait(pid);

	t0 = mono();
	ret = cr_restart_img(vs_cg, VS_IMG, &rpid, why, sizeof(why));
	if (ret) {
		unlink(VS_IMG);
		snprintf(what, sizeof(what), "restart: %s (%s)", strerror(-ret), why);
		vs_fail(r->spec.name, "ours", run, what);
		return;
	}
	if (vs_wait_runs(rpid, 300000)) {
		unlink(VS_IMG);
		cr_kill_wait(rpid);
		vs_fail(r->spec.name, "ours", run, "the restored program does not run");
		return;
	}
	s->t2[run] = mono() - t0;
	vs_kstats("restart", s->st2[run], sizeof(s->st2[run]));
	unlink(VS_IMG);
	s->ok[run] = vs_verify(rpid, r->spec.name, "ours", run);
}

/* Run criu with @argv; its exit status, or -1. */
static int vs_criu(const char *const *argv)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		execvp(argv[0], (char **)argv);
		_exit(127);
	}
	return pid < 0 ? -1 : cr_wait_exit(pid);
}

static void vs_criu_log(const char *name)
{
	char path[128], cmd[200];

	snprintf(path, sizeof(path), VS_CRIU_WORK "/%s", name);
	printf("  last lines of %s:\n", path);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "tail -n 15 %s | sed 's/^/  | /'", path);
	if (system(cmd))
		printf("  (none)\n");
}

static void vs_run_criu(struct vs_result *r, int run)
{
	struct vs_side *s = &r->criu;
	char pidstr[16], what[300];
	pid_t pid;
	double t0;
	int st;
	const char *const dump[] = { VS_CRIU, "dump", "-t", pidstr, "-D", VS_CRIU_IMG,
				     "-W", VS_CRIU_WORK, "-o", "dump.log", NULL };
	const char *const restore[] = { VS_CRIU, "restore", "-d", "-D", VS_CRIU_IMG,
					"-W", VS_CRIU_WORK, "-o", "restore.log", NULL };

	vs_rm_dir(VS_CRIU_IMG);
	mkdir(VS_CRIU_IMG, 0700);
	mkdir(VS_CRIU_WORK, 0700);
	pid = vs_start(0);
	if (pid < 0) {
		vs_fail(r->spec.name, "criu", run, "the workload did not start");
		return;
	}
	s->fork[run] = vs_fork_s();
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	cr_msleep(100);
	t0 = mono();
	st = vs_criu(dump);
	s->t1[run] = mono() - t0;
	if (st) {
		s->t1[run] = NAN;
		snprintf(what, sizeof(what), "criu dump: exit status %d", st);
		vs_fail(r->spec.name, "criu", run, what);
		vs_criu_log("dump.log");
		kill(pid, SIGKILL);
		vs_reap_all();
		return;
	}
	/* criu killed the tree: free its pids for the restore */
	vs_reap_all();
	s->img[run] = vs_du(VS_CRIU_IMG);

	t0 = mono();
	st = vs_criu(restore);
	if (st) {
		snprintf(what, sizeof(what), "criu restore: exit status %d", st);
		vs_fail(r->spec.name, "criu", run, what);
		vs_criu_log("restore.log");
		kill(pid, SIGKILL);
		vs_reap_all();
		vs_rm_dir(VS_CRIU_IMG);
		return;
	}
	if (vs_wait_runs(pid, 300000)) {
		kill(pid, SIGKILL);
		vs_reap_all();
		vs_rm_dir(VS_CRIU_IMG);
		vs_fail(r->spec.name, "criu", run, "the restored program does not run");
		return;
	}
	s->t2[run] = mono() - t0;
	vs_rm_dir(VS_CRIU_IMG);
	/* criu exited: the restored root is our child (we are a subreaper) */
	s->ok[run] = vs_verify(pid, r->spec.name, "criu", run);
	vs_reap_all();
}

static int vs_parse(const char *arg, struct vs_spec *s)
{
	unsigned int a, b, c;

	memset(s, 0, sizeof(*s));
	s->procs = 1;
	s->threads = 1;
	snprintf(s->arg, sizeof(s->arg), "%s", arg);
	if (sscanf(arg, "mem:%u", &a) == 1 && a) {
		s->bytes = (size_t)a << 20;
		snprintf(s->name, sizeof(s->name), "mem %u MiB", a);
	} else if (sscanf(arg, "tree:%ux%u:%u", &a, &b, &c) == 3 && a && a < 64 && b &&
		   b <= VS_MAX_THREADS) {
		s->procs = a;
		s->threads = b;
		s->bytes = (size_t)c << 20;
		snprintf(s->name, sizeof(s->name), "tree %ux%u %u MiB", a, b, c);
	} else if (sscanf(arg, "files:%u:%u", &a, &b) == 2 && a <= VS_MAX_FILES &&
		   b <= VS_MAX_PIPES) {
		s->files = a;
		s->pipes = b;
		snprintf(s->name, sizeof(s->name), "files %u+%u pipes", a, b);
	} else {
		return -1;
	}
	return 0;
}

static void vs_memcpy(size_t size, double *t, int n)
{
	char *a = malloc(size), *b = malloc(size);
	int i;

	memset(a, 1, size);
	memset(b, 2, size);
	for (i = 0; i < n; i++) {
		double t0 = mono();

		memcpy(b, a, size);
		t[i] = mono() - t0;
	}
	free(a);
	free(b);
}

static void vs_json_num(FILE *f, double v, int prec)
{
	if (isnan(v) || isinf(v))
		fprintf(f, "null");
	else
		fprintf(f, "%.*f", prec, v);
}

static void vs_json_arr(FILE *f, const char *key, const double *v, int prec)
{
	double min, med;
	int i;

	vs_stats(v, vs_runs, &min, &med);
	fprintf(f, "\"%s\": [", key);
	for (i = 0; i < vs_runs; i++) {
		fprintf(f, i ? ", " : "");
		vs_json_num(f, v[i], prec);
	}
	fprintf(f, "], \"%s_min\": ", key);
	vs_json_num(f, min, prec);
	fprintf(f, ", \"%s_median\": ", key);
	vs_json_num(f, med, prec);
}

/* "k=v k=v" as a JSON object of numbers. */
static void vs_json_kv(FILE *f, const char *line)
{
	char buf[1024], *tok, *save = NULL, *eq;
	int first = 1;

	snprintf(buf, sizeof(buf), "%s", line);
	fprintf(f, "{");
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq = '\0';
		fprintf(f, "%s\"%s\": %lld", first ? "" : ", ", tok, strtoll(eq + 1, NULL, 10));
		first = 0;
	}
	fprintf(f, "}");
}

struct vs_ratios {
	double dump, restore, ckpt_bw, rst_bw, image, kmem, kmem_ckpt, speedup_small;
};

static void vs_ratios(const struct vs_result *r, double bw, struct vs_ratios *q)
{
	double mib = r->spec.bytes / 1048576.0;
	int m = vs_median_run(r->ours.t2);

	q->dump = vs_med(r->ours.t1) / vs_med(r->criu.t1);
	q->restore = vs_med(r->ours.t2) / vs_med(r->criu.t2);
	q->ckpt_bw = mib ? mib / vs_med(r->ours.t1) / bw : NAN;
	q->rst_bw = mib ? mib / vs_med(r->ours.t2) / bw : NAN;
	q->image = vs_med(r->ours.img) / vs_med(r->criu.img);
	q->kmem = m >= 0 ? vs_kvalue(r->ours.st2[m], "kmem_peak") : NAN;
	m = vs_median_run(r->ours.t1);
	q->kmem_ckpt = m >= 0 ? vs_kvalue(r->ours.st1[m], "kmem_peak") : NAN;
	q->speedup_small = (vs_med(r->criu.t1) + vs_med(r->criu.t2)) /
			   (vs_med(r->ours.t1) + vs_med(r->ours.t2));
}

static void vs_cell(double v, const char *fmt, int width)
{
	char buf[32];

	if (isnan(v) || isinf(v))
		snprintf(buf, sizeof(buf), "-");
	else
		snprintf(buf, sizeof(buf), fmt, v);
	printf(" %*s", width, buf);
}

struct vs_goal {
	const char *text;
	double value, target;
	const char *unit;
	int higher;	/* met when value >= target, else when value <= target */
	int strict;	/* (not higher) met when value < target */
};

static int vs_goal_met(const struct vs_goal *g)
{
	if (g->higher)
		return g->value >= g->target;
	return g->strict ? g->value < g->target : g->value <= g->target;
}

static void vs_goal(struct vs_goal *g, int *n, const char *text, double value, double target,
		    const char *unit, int higher)
{
	g[*n] = (struct vs_goal){ .text = text, .value = value, .target = target, .unit = unit,
				  .higher = higher };
	(*n)++;
}

/* The single process of @mib MiB among the workloads, or NULL. */
static const struct vs_result *vs_single(const struct vs_result *res, int nwl, size_t mib)
{
	int i;

	for (i = 0; i < nwl; i++)
		if (res[i].spec.procs == 1 && !res[i].spec.files && !res[i].spec.pipes &&
		    res[i].spec.bytes == mib << 20)
			return &res[i];
	return NULL;
}

/*
 * The goals of the issue, measured (n/a when the workload was not run):
 * reported, never tuned for.
 */
static int vs_goals(const struct vs_result *res, int nwl, double bw, struct vs_goal *g)
{
	const struct vs_result *big = vs_single(res, nwl, 512), *small = vs_single(res, nwl, 1);
	struct vs_ratios qb = { .restore = NAN, .ckpt_bw = NAN, .rst_bw = NAN };
	struct vs_ratios qs = { .speedup_small = NAN }, q;
	double worst = NAN;
	int i, n = 0;

	if (big)
		vs_ratios(big, bw, &qb);
	if (small)
		vs_ratios(small, bw, &qs);
	for (i = 0; i < nwl; i++) {
		vs_ratios(&res[i], bw, &q);
		if (isnan(worst) || q.image > worst)
			worst = q.image;
	}
	vs_goal(g, &n, "512 MiB restart, fraction of memcpy bandwidth", qb.rst_bw * 100, 60,
		"%", 1);
	vs_goal(g, &n, "512 MiB restart, times faster than criu restore", 1 / qb.restore, 2,
		"x", 1);
	vs_goal(g, &n, "512 MiB checkpoint, fraction of memcpy bandwidth", qb.ckpt_bw * 100, 70,
		"%", 1);
	vs_goal(g, &n, "1 MiB checkpoint + restart, times faster than criu", qs.speedup_small, 5,
		"x", 1);
	vs_goal(g, &n, "image size / criu's, largest of all workloads", worst, 1, "x", 0);
	return n;
}

static void vs_print_goals(const struct vs_goal *goals, int ngoals)
{
	int i;

	for (i = 0; i < ngoals; i++) {
		const struct vs_goal *g = &goals[i];

		printf("goal: %-50s %s %g%s: ", g->text,
		       g->higher ? ">=" : g->strict ? "<" : "<=", g->target, g->unit);
		if (isnan(g->value))
			printf("n/a (not measured)\n");
		else
			printf(*g->unit == '%' ? "%.1f%s (%s)\n" : "%.3f%s (%s)\n", g->value,
			       g->unit, vs_goal_met(g) ? "met" : "not met");
	}
}

static void vs_print(const struct vs_result *res, int nwl, double bw,
		     const struct vs_goal *goals, int ngoals)
{
	const struct vs_result *r;
	struct vs_ratios q;
	double min, med;
	int i, side, run, ok, m1, m2;

	printf("\n%-22s %-4s %19s %19s %9s %8s %8s | %6s %6s %6s %6s %6s %8s\n",
	       "workload", "tool", "checkpoint/dump ms", "restart/restore ms", "image", "fork",
	       "verified", "ckpt", "rst", "ckpt", "rst", "image", "rst kmem");
	printf("%-22s %-4s %9s %9s %9s %9s %9s %8s %8s | %6s %6s %6s %6s %6s %8s\n",
	       "", "", "min", "median", "min", "median", "MiB", "ms", "", "/criu", "/criu",
	       "/mcpy", "/mcpy", "/criu", "MiB");
	for (i = 0; i < nwl; i++) {
		r = &res[i];
		vs_ratios(r, bw, &q);
		for (side = 0; side < 2; side++) {
			const struct vs_side *s = side ? &r->criu : &r->ours;

			for (run = ok = 0; run < vs_runs; run++)
				ok += s->ok[run];
			printf("%-22s %-4s", side ? "" : r->spec.name, side ? "criu" : "ours");
			vs_stats(s->t1, vs_runs, &min, &med);
			vs_cell(min * 1e3, "%.1f", 9);
			vs_cell(med * 1e3, "%.1f", 9);
			vs_stats(s->t2, vs_runs, &min, &med);
			vs_cell(min * 1e3, "%.1f", 9);
			vs_cell(med * 1e3, "%.1f", 9);
			vs_cell(vs_med(s->img) / 1048576.0, "%.2f", 9);
			vs_cell(vs_med(s->fork) * 1e3, "%.2f", 8);
			printf(" %6d/%d |", ok, vs_runs);
			if (side) {
				printf("\n");
				continue;
			}
			vs_cell(q.dump, "%.2fx", 6);
			vs_cell(q.restore, "%.2fx", 6);
			vs_cell(q.ckpt_bw * 100, "%.0f%%", 6);
			vs_cell(q.rst_bw * 100, "%.0f%%", 6);
			vs_cell(q.image, "%.3fx", 6);
			if (isnan(q.kmem))
				printf(" %8s", "n/a");
			else
				vs_cell(q.kmem / 1048576.0, "%.1f", 8);
			printf("\n");
		}
	}
	printf("times: ours = checkpoint() to a file, restart() until the restored program runs;\n"
	       "       criu = criu dump, criu restore -d until the restored program runs\n"
	       "image: du of our image file and of criu's image directory (both on tmpfs)\n"
	       "fork: fork()+_exit()+wait() of the workload's root, its memory mapped\n"
	       "verified: runs whose restored program found every page, file and pipe it wrote\n"
	       "ratios of medians: /criu = ours / criu's (below 1: ours is faster or smaller);\n"
	       "       /mcpy = touched MiB per second / memcpy's %.0f MiB/s;\n"
	       "       rst kmem = kmem_peak of our restart\n", bw);

	printf("\nkernel stats (" VS_STATS "), median runs:\n");
	for (i = 0; i < nwl; i++) {
		r = &res[i];
		m1 = vs_median_run(r->ours.t1);
		m2 = vs_median_run(r->ours.t2);
		printf("  %-22s checkpoint: %s\n", r->spec.name,
		       m1 >= 0 && r->ours.st1[m1][0] ? r->ours.st1[m1] : "n/a");
		printf("  %-22s restart:    %s\n", "",
		       m2 >= 0 && r->ours.st2[m2][0] ? r->ours.st2[m2] : "n/a");
	}

	printf("\n");
	vs_print_goals(goals, ngoals);
	fflush(stdout);
}

static void vs_json_goals(FILE *f, const struct vs_goal *goals, int ngoals, const char *indent)
{
	int i;

	for (i = 0; i < ngoals; i++) {
		fprintf(f, "%s{\"goal\": \"%s\", \"target\": %g, \"unit\": \"%s\", ", indent,
			goals[i].text, goals[i].target, goals[i].unit);
		fprintf(f, "\"higher_is_better\": %s, ", goals[i].higher ? "true" : "false");
		if (goals[i].strict)
			fprintf(f, "\"strictly_below\": true, ");
		fprintf(f, "\"value\": ");
		vs_json_num(f, goals[i].value, 4);
		fprintf(f, ", \"met\": %s}%s\n", isnan(goals[i].value) ? "null" :
			vs_goal_met(&goals[i]) ? "true" : "false", i + 1 < ngoals ? "," : "");
	}
}

/* -- downtime: the stall each kind of checkpoint makes its container see -- */

#define DT_MAX_SIZES	4
#define DT_IDLE_MS	200
#define DT_IMG		"/tmp/bench-dt.img"

enum { DT_IDLE, DT_DIRECT, DT_DEFERRED, DT_HELD, DT_WRITING, DT_NM };

static const char *const dt_label[DT_NM] = {
	"idle (200 ms, no call)", "direct (flags 0)", "deferred, to a file",
	"deferred held+write+drop", "deferred, target writing",
};
static const char *const dt_key[DT_NM] = {
	"idle", "direct", "deferred", "held", "deferred_writing",
};

struct dt_result {
	size_t mib;
	char name[32];
	/* seconds: the target's longest stall, frozen_ns of the stats, the call(s) */
	double stall[DT_NM][VS_MAX_RUNS], frozen[DT_NM][VS_MAX_RUNS], call[DT_NM][VS_MAX_RUNS];
	double freeze[DT_NM][VS_MAX_RUNS];	/* freeze_ns of the stats */
	double hold[VS_MAX_RUNS], wr[VS_MAX_RUNS], drop[VS_MAX_RUNS];	/* of DT_HELD */
	double fork[VS_MAX_RUNS];
	double before[VS_MAX_RUNS], after[VS_MAX_RUNS];		/* MiB/s of pages written */
	double wpages[VS_MAX_RUNS];	/* pages written in the first second after the thaw */
	double pass_before[VS_MAX_RUNS], pass_after[VS_MAX_RUNS];	/* one pass, seconds */
	int ok[DT_NM][VS_MAX_RUNS];	/* its image restarted and verified */
	int live_ok[VS_MAX_RUNS];	/* the target found its memory intact after all calls */
	char st[DT_NM][VS_MAX_RUNS][1024];
};

static int dt_cg = -1;
static char dt_cgpath[160];

static int dt_wait_word(pid_t pid, volatile uint64_t *word, uint64_t want, int ms)
{
	double end = mono() + ms / 1e3;
	uint64_t v;

	do {
		if (cr_peek(pid, (void *)word, &v))
			return -1;
		if (v == want)
			return 0;
		usleep(200);
	} while (mono() < end);
	return -1;
}

/* Zero the target's longest gap; 0, or -1 if it does not answer. */
static int dt_zero(pid_t pid)
{
	if (cr_poke(pid, (void *)&dt_reset, 1))
		return -1;
	return dt_wait_word(pid, &dt_reset, 0, 10000);
}

static double dt_peek_s(pid_t pid, volatile uint64_t *word, double scale)
{
	uint64_t v;

	return cr_peek(pid, (void *)word, &v) ? NAN : v / scale;
}

/* checkpoint(@pid, fd of @path or -1, @flags), its time in *@t: its value, or -errno. */
static long dt_call(pid_t pid, const char *path, unsigned long flags, double *t, char *why,
		    size_t len)
{
	int fd = -1;
	uint64_t t0;
	long ret;

	*t = NAN;
	why[0] = '\0';
	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
	}
	t0 = mono_ns();
	ret = sys_checkpoint(pid, fd, flags);
	if (ret < 0) {
		ret = -errno;
		cr_reason(why, len);
	} else {
		*t = (mono_ns() - t0) / 1e9;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Restart the image @path (then removed) beside the target; 1 if its program verified. */
static int dt_verify(const struct dt_result *d, int m, int run)
{
	char why[256], what[400], tool[64];
	pid_t rpid;
	int ret;

	snprintf(tool, sizeof(tool), "downtime %s", dt_key[m]);
	unlink(VS_VERIFY);
	ret = cr_restart_img(dt_cg, DT_IMG, &rpid, why, sizeof(why));
	unlink(DT_IMG);
	if (ret) {
		snprintf(what, sizeof(what), "restart: %s (%s)", strerror(-ret), why);
		vs_fail(d->name, tool, run, what);
		return 0;
	}
	if (vs_wait_runs(rpid, 300000)) {
		cr_kill_wait(rpid);
		vs_fail(d->name, tool, run, "the restored program does not run");
		return 0;
	}
	return vs_verify(rpid, d->name, tool, run);
}

static void dt_failed(const struct dt_result *d, int m, int run, const char *what, long ret,
		      const char *why)
{
	char msg[400], tool[64];

	snprintf(tool, sizeof(tool), "downtime %s", dt_key[m]);
	snprintf(msg, sizeof(msg), "%s: %s (%s)", what, strerror(-ret), why);
	vs_fail(d->name, tool, run, msg);
}

/* One checkpoint of kind @m of the running target @pid; its image verified. 0, or -1. */
static int dt_measure(struct dt_result *d, int m, int run, pid_t pid)
{
	char why[256];
	double t;
	long ret, crid;

	if (dt_zero(pid))
		return -1;
	cr_msleep(20);
	if (m == DT_HELD) {
		crid = dt_call(pid, NULL, CHECKPOINT_DEFERRED, &d->hold[run], why, sizeof(why));
		if (crid <= 0) {
			dt_failed(d, m, run, "checkpoint(pid, -1, CHECKPOINT_DEFERRED)", crid, why);
			return 0;
		}
		/* the stats are the hold's: a write-out does not change them */
		vs_kstats("checkpoint", d->st[m][run], sizeof(d->st[m][run]));
		ret = dt_call(crid, DT_IMG, CHECKPOINT_CRID_WRITE, &d->wr[run], why, sizeof(why));
		if (ret)
			dt_failed(d, m, run, "checkpoint(crid, fd, CHECKPOINT_CRID_WRITE)", ret, why);
		ret = dt_call(crid, NULL, CHECKPOINT_CRID_DROP, &d->drop[run], why, sizeof(why));
		if (ret)
			dt_failed(d, m, run, "checkpoint(crid, -1, CHECKPOINT_CRID_DROP)", ret, why);
		d->call[m][run] = d->hold[run] + d->wr[run] + d->drop[run];
	} else {
		ret = dt_call(pid, DT_IMG, m == DT_DIRECT ? 0 : CHECKPOINT_DEFERRED, &t, why,
			      sizeof(why));
		if (ret) {
			dt_failed(d, m, run, m == DT_DIRECT ? "checkpoint(pid, fd, 0)" :
				  "checkpoint(pid, fd, CHECKPOINT_DEFERRED)", ret, why);
			return 0;
		}
		vs_kstats("checkpoint", d->st[m][run], sizeof(d->st[m][run]));
		d->call[m][run] = t;
	}
	cr_msleep(20);
	d->stall[m][run] = dt_peek_s(pid, &dt_gap_ns, 1e9);
	d->frozen[m][run] = vs_kvalue(d->st[m][run], "frozen_ns") / 1e9;
	d->freeze[m][run] = vs_kvalue(d->st[m][run], "freeze_ns") / 1e9;
	if (!isnan(d->call[m][run]))
		d->ok[m][run] = dt_verify(d, m, run);
	return 0;
}

/*
 * The target's write rate in 1 s without a checkpoint, then the same
 * through a deferred checkpoint to a file: the first second after the thaw.
 */
static int dt_measure_writes(struct dt_result *d, int run, pid_t pid)
{
	const int m = DT_WRITING;
	char why[256];
	double t;
	long ret;

	if (cr_poke(pid, (void *)&dt_cmd, DT_CMD_BEFORE) ||
	    dt_wait_word(pid, &dt_cmd, 0, 120000))
		return -1;
	d->before[run] = dt_peek_s(pid, &dt_rate_before, 1048576.0);
	d->pass_before[run] = dt_peek_s(pid, &dt_pass_before_ns, 1e9);
	if (cr_poke(pid, (void *)&dt_called, 0) || cr_poke(pid, (void *)&dt_cmd, DT_CMD_THROUGH))
		return -1;
	cr_msleep(200);
	if (cr_poke(pid, (void *)&dt_called, 1) || dt_wait_word(pid, &dt_called, 2, 10000))
		return -1;
	ret = dt_call(pid, DT_IMG, CHECKPOINT_DEFERRED, &t, why, sizeof(why));
	if (ret)
		dt_failed(d, m, run, "checkpoint(pid, fd, CHECKPOINT_DEFERRED), target writing",
			  ret, why);
	else
		vs_kstats("checkpoint", d->st[m][run], sizeof(d->st[m][run]));
	if (cr_poke(pid, (void *)&dt_called, 3) || dt_wait_word(pid, &dt_cmd, 0, 120000))
		return -1;
	if (ret)
		return 0;
	d->call[m][run] = t;
	d->stall[m][run] = dt_peek_s(pid, &dt_wgap_ns, 1e9);
	d->frozen[m][run] = vs_kvalue(d->st[m][run], "frozen_ns") / 1e9;
	d->freeze[m][run] = vs_kvalue(d->st[m][run], "freeze_ns") / 1e9;
	d->after[run] = dt_peek_s(pid, &dt_rate_after, 1048576.0);
	d->wpages[run] = dt_peek_s(pid, &dt_wpages, 1);
	d->pass_after[run] = dt_peek_s(pid, &dt_pass_after_ns, 1e9);
	d->ok[m][run] = dt_verify(d, m, run);
	return 0;
}

static void dt_run(struct dt_result *d, int run)
{
	pid_t pid;
	int m;

	memset(&wl, 0, sizeof(wl));
	wl.bytes = d->mib << 20;
	wl.procs = 1;
	wl.threads = 1;
	snprintf(wl.name, sizeof(wl.name), "%s", d->name);
	wl_seed = vs_mix(((uint64_t)d->mib << 40) ^ ((uint64_t)run << 20) ^ mono_ns());
	wl_downtime = 1;
	pid = vs_start(1);
	wl_downtime = 0;
	if (pid < 0) {
		vs_fail(d->name, "downtime", run, "the workload did not start");
		return;
	}
	d->fork[run] = vs_fork_s();
	cr_msleep(100);
	if (dt_zero(pid))
		goto dead;
	cr_msleep(DT_IDLE_MS);
	d->stall[DT_IDLE][run] = dt_peek_s(pid, &dt_gap_ns, 1e9);
	for (m = DT_DIRECT; m <= DT_HELD; m++)
		if (dt_measure(d, m, run, pid))
			goto dead;
	if (dt_measure_writes(d, run, pid))
		goto dead;
	/* the live target, after all that: is its memory still what it wrote? */
	d->live_ok[run] = vs_verify(pid, d->name, "downtime live", run);
	return;
dead:
	vs_fail(d->name, "downtime", run, "the target does not answer");
	cr_kill_wait(pid);
}

static void dt_init(struct dt_result *d, size_t mib)
{
	int m, run;

	memset(d, 0, sizeof(*d));
	d->mib = mib;
	snprintf(d->name, sizeof(d->name), "mem %zu MiB", mib);
	for (run = 0; run < VS_MAX_RUNS; run++) {
		for (m = 0; m < DT_NM; m++) {
			d->stall[m][run] = d->frozen[m][run] = d->call[m][run] = NAN;
			d->freeze[m][run] = NAN;
		}
		d->hold[run] = d->wr[run] = d->drop[run] = d->fork[run] = NAN;
		d->before[run] = d->after[run] = d->wpages[run] = NAN;
		d->pass_before[run] = d->pass_after[run] = NAN;
	}
}

struct dt_ratios {
	double over_fork, over_direct, held_over_fork, writes;
};

static void dt_ratios(const struct dt_result *d, struct dt_ratios *q)
{
	q->over_fork = vs_med(d->stall[DT_DEFERRED]) / vs_med(d->fork);
	q->over_direct = vs_med(d->stall[DT_DEFERRED]) / vs_med(d->stall[DT_DIRECT]);
	q->held_over_fork = vs_med(d->stall[DT_HELD]) / vs_med(d->fork);
	q->writes = vs_med(d->after) / vs_med(d->before);
}

static int dt_goals(const struct dt_result *res, int n, struct vs_goal *g)
{
	struct dt_ratios q = { NAN, NAN, NAN, NAN };
	int i, ng = 0;

	for (i = 0; i < n; i++)
		if (res[i].mib == 512)
			dt_ratios(&res[i], &q);
	vs_goal(g, &ng, "512 MiB deferred downtime / fork() time", q.over_fork, 1, "x", 0);
	vs_goal(g, &ng, "512 MiB deferred downtime / direct", q.over_direct * 100, 5, "%", 0);
	g[ng - 1].strict = 1;
	return ng;
}

static void dt_pair(const double *v, double scale)
{
	double min, med;

	vs_stats(v, vs_runs, &min, &med);
	vs_cell(min * scale, "%.2f", 8);
	vs_cell(med * scale, "%.2f", 8);
}

static void dt_print(const struct dt_result *res, int n, const struct vs_goal *goals, int ngoals)
{
	const struct dt_result *d;
	struct dt_ratios q;
	int i, m, run, ok, mr;

	printf("\ndowntime: pid 1 of a container, its memory touched, reads CLOCK_MONOTONIC in a loop;\n"
	       "stall: the longest gap between two of its reads during the call(s)\n");
	printf("%-22s %-26s %17s %8s %17s %17s %8s\n", "workload", "checkpoint", "stall ms",
	       "freeze", "frozen ms", "call ms", "verified");
	printf("%-22s %-26s %8s %8s %8s %8s %8s %8s %8s\n", "", "", "min", "median", "ms",
	       "min", "median", "min", "median");
	for (i = 0; i < n; i++) {
		d = &res[i];
		for (m = 0; m < DT_NM; m++) {
			printf("%-22s %-26s", m ? "" : d->name, dt_label[m]);
			dt_pair(d->stall[m], 1e3);
			if (m == DT_IDLE) {
				printf(" %8s %8s %8s %8s %8s %8s\n", "-", "-", "-", "-", "-", "-");
				continue;
			}
			vs_cell(vs_med(d->freeze[m]) * 1e3, "%.2f", 8);
			dt_pair(d->frozen[m], 1e3);
			dt_pair(d->call[m], 1e3);
			for (run = ok = 0; run < vs_runs; run++)
				ok += d->ok[m][run];
			printf(" %6d/%d\n", ok, vs_runs);
		}
		printf("%-22s %-26s", "", "fork()+_exit()+wait()");
		dt_pair(d->fork, 1e3);
		for (run = ok = 0; run < vs_runs; run++)
			ok += d->live_ok[run];
		printf(" %8s %8s %8s %8s %8s %6d/%d\n", "-", "-", "-", "-", "-", ok, vs_runs);
	}
	printf("stall: of the fork() row, the time fork()+_exit()+wait() takes in the target\n"
	       "freeze, frozen: freeze_ns (median; the wait until all is frozen) and frozen_ns\n"
	       "       (from frozen to the thaw) of " VS_STATS " (held: of the hold call)\n"
	       "call: the checkpoint() call (held: the hold, CRID_WRITE and CRID_DROP calls)\n"
	       "verified: runs whose image (on tmpfs) restarted and whose restored program found\n"
	       "       every page it wrote; of the fork() row: the live target, after all calls\n");

	printf("\n%-22s %9s %9s %9s | %10s %10s %8s | %9s %10s\n", "workload", "deferred",
	       "deferred", "held", "writes", "writes", "writes", "pass ms", "pass ms");
	printf("%-22s %9s %9s %9s | %10s %10s %8s | %9s %10s\n", "", "/fork()", "/direct",
	       "/fork()", "before", "after thaw", "/before", "before", "after thaw");
	for (i = 0; i < n; i++) {
		d = &res[i];
		dt_ratios(d, &q);
		printf("%-22s", d->name);
		vs_cell(q.over_fork, "%.2fx", 9);
		vs_cell(q.over_direct * 100, "%.1f%%", 9);
		vs_cell(q.held_over_fork, "%.2fx", 9);
		printf(" |");
		vs_cell(vs_med(d->before), "%.0f", 10);
		vs_cell(vs_med(d->after), "%.0f", 10);
		vs_cell(q.writes, "%.3fx", 8);
		printf(" |");
		vs_cell(vs_med(d->pass_before) * 1e3, "%.1f", 9);
		vs_cell(vs_med(d->pass_after) * 1e3, "%.1f", 10);
		printf("\n");
	}
	printf("ratios of the median stalls (deferred: to a file)\n"
	       "writes: MiB/s of pages the target rewrites (one byte stored per 4 KiB page, the\n"
	       "       value it held), median: in 1 s without a checkpoint, and in the first\n"
	       "       second after the thaw of a deferred checkpoint (its copy-on-write cost);\n"
	       "       pass: the time of one such pass over every page, without a checkpoint and\n"
	       "       the first one after the thaw (median)\n");

	printf("\nkernel stats (" VS_STATS "), median runs by stall:\n");
	for (i = 0; i < n; i++) {
		d = &res[i];
		for (m = DT_DIRECT; m < DT_NM; m++) {
			mr = vs_median_run(d->stall[m]);
			printf("  %-22s %-17s %s\n", m == DT_DIRECT ? d->name : "", dt_key[m],
			       mr >= 0 && d->st[m][mr][0] ? d->st[m][mr] : "n/a");
		}
		printf("  %-22s %-17s hold %.1f ms, write %.1f ms, drop %.1f ms (medians)\n", "",
		       "held calls", vs_med(d->hold) * 1e3, vs_med(d->wr) * 1e3,
		       vs_med(d->drop) * 1e3);
	}
	printf("\n");
	vs_print_goals(goals, ngoals);
	fflush(stdout);
}

static void dt_json(FILE *f, const struct dt_result *res, int n, const struct vs_goal *goals,
		    int ngoals)
{
	const struct dt_result *d;
	struct dt_ratios q;
	int i, m, run, mr;

	fprintf(f, "  \"downtime\": {\"idle_window_s\": %.3f, \"write_window_s\": 1, ",
		DT_IDLE_MS / 1e3);
	fprintf(f, "\"write_unit\": \"one byte stored per 4 KiB page\", \"sizes\": [\n");
	for (i = 0; i < n; i++) {
		d = &res[i];
		dt_ratios(d, &q);
		fprintf(f, "    {\"name\": \"%s\", \"mib\": %zu, \"bytes\": %zu, ", d->name, d->mib,
			d->mib << 20);
		vs_json_arr(f, "fork_s", d->fork, 6);
		fprintf(f, ", \"live_verified\": [");
		for (run = 0; run < vs_runs; run++)
			fprintf(f, "%s%s", run ? ", " : "", d->live_ok[run] ? "true" : "false");
		fprintf(f, "],\n");
		for (m = 0; m < DT_NM; m++) {
			fprintf(f, "     \"%s\": {", dt_key[m]);
			vs_json_arr(f, "stall_s", d->stall[m], 6);
			if (m == DT_IDLE) {
				fprintf(f, "},\n");
				continue;
			}
			fprintf(f, ", ");
			vs_json_arr(f, "frozen_s", d->frozen[m], 6);
			fprintf(f, ", ");
			vs_json_arr(f, "freeze_s", d->freeze[m], 6);
			fprintf(f, ", ");
			vs_json_arr(f, "call_s", d->call[m], 6);
			if (m == DT_HELD) {
				fprintf(f, ", ");
				vs_json_arr(f, "hold_s", d->hold, 6);
				fprintf(f, ", ");
				vs_json_arr(f, "write_s", d->wr, 6);
				fprintf(f, ", ");
				vs_json_arr(f, "drop_s", d->drop, 6);
			}
			fprintf(f, ", \"verified\": [");
			for (run = 0; run < vs_runs; run++)
				fprintf(f, "%s%s", run ? ", " : "", d->ok[m][run] ? "true" : "false");
			fprintf(f, "], \"kstats_checkpoint\": ");
			mr = vs_median_run(d->stall[m]);
			if (mr >= 0 && d->st[m][mr][0])
				vs_json_kv(f, d->st[m][mr]);
			else
				fprintf(f, "null");
			fprintf(f, "},\n");
		}
		fprintf(f, "     \"writes\": {");
		vs_json_arr(f, "before_mibs", d->before, 1);
		fprintf(f, ", ");
		vs_json_arr(f, "after_thaw_mibs", d->after, 1);
		fprintf(f, ", ");
		vs_json_arr(f, "pages_first_second", d->wpages, 0);
		fprintf(f, ", ");
		vs_json_arr(f, "pass_before_s", d->pass_before, 6);
		fprintf(f, ", ");
		vs_json_arr(f, "pass_after_thaw_s", d->pass_after, 6);
		fprintf(f, "},\n     \"ratios\": {\"deferred_over_fork\": ");
		vs_json_num(f, q.over_fork, 4);
		fprintf(f, ", \"deferred_over_direct\": ");
		vs_json_num(f, q.over_direct, 4);
		fprintf(f, ", \"held_over_fork\": ");
		vs_json_num(f, q.held_over_fork, 4);
		fprintf(f, ", \"writes_after_over_before\": ");
		vs_json_num(f, q.writes, 4);
		fprintf(f, "}}%s\n", i + 1 < n ? "," : "");
	}
	fprintf(f, "   ],\n   \"goals\": [\n");
	vs_json_goals(f, goals, ngoals, "    ");
	fprintf(f, "   ]},\n");
}

/*
 * Under TCG the first use of a guest page costs the host a fault: use,
 * once, as much memory as a run needs (the target, its image, the
 * restored copy), so that the first call of the first run does not pay
 * for it.  At most half the free memory.
 */
static void dt_warm(size_t mib)
{
	struct sysinfo si;
	size_t len = 3 * (mib << 20);
	void *p;

	if (!sysinfo(&si) && len > (size_t)si.freeram * si.mem_unit / 2)
		len = (size_t)si.freeram * si.mem_unit / 2;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		 -1, 0);
	if (p != MAP_FAILED)
		munmap(p, len);
}

/* "64 512" or "64,512": the sizes in MiB; "none" or "": none.  Their number, or -1. */
static int dt_parse(const char *arg, size_t *mib)
{
	char buf[128], *tok, *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", arg);
	if (!strcmp(buf, "none"))
		return 0;
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		char *e;
		unsigned long v = strtoul(tok, &e, 0);

		if (*e || !v || v > 65536 || n == DT_MAX_SIZES)
			return -1;
		mib[n++] = v;
	}
	return n;
}

static void vs_json_side(FILE *f, const struct vs_side *s, int criu)
{
	int run, m;

	vs_json_arr(f, criu ? "dump_s" : "checkpoint_s", s->t1, 6);
	fprintf(f, ", ");
	vs_json_arr(f, criu ? "restore_s" : "restart_s", s->t2, 6);
	fprintf(f, ", ");
	vs_json_arr(f, "image_bytes", s->img, 0);
	fprintf(f, ", ");
	vs_json_arr(f, "fork_s", s->fork, 6);
	fprintf(f, ", \"verified\": [");
	for (run = 0; run < vs_runs; run++)
		fprintf(f, "%s%s", run ? ", " : "", s->ok[run] ? "true" : "false");
	fprintf(f, "]");
	if (criu)
		return;
	m = vs_median_run(s->t1);
	fprintf(f, ", \"kstats_checkpoint\": ");
	if (m >= 0 && s->st1[m][0])
		vs_json_kv(f, s->st1[m]);
	else
		fprintf(f, "null");
	m = vs_median_run(s->t2);
	fprintf(f, ", \"kstats_restart\": ");
	if (m >= 0 && s->st2[m][0])
		vs_json_kv(f, s->st2[m]);
	else
		fprintf(f, "null");
}

static int vs_json(const char *path, const struct vs_result *res, int nwl, size_t memcpy_mib,
		   const double *mt, const struct vs_goal *goals, int ngoals,
		   const struct dt_result *dres, int ndt, const struct vs_goal *dgoals, int ndg)
{
	const struct vs_result *r;
	double min, med;
	struct vs_ratios q;
	FILE *f = fopen(path, "w");
	int i;

	if (!f)
		return -1;
	vs_stats(mt, vs_runs, &min, &med);
	fprintf(f, "{\n  \"runs\": %d,\n  \"memcpy\": {\"mib\": %zu, ", vs_runs, memcpy_mib);
	vs_json_arr(f, "s", mt, 6);
	fprintf(f, ", \"mibs_median\": ");
	vs_json_num(f, memcpy_mib / med, 1);
	fprintf(f, ", \"mibs_best\": ");
	vs_json_num(f, memcpy_mib / min, 1);
	fprintf(f, "},\n  \"workloads\": [\n");
	for (i = 0; i < nwl; i++) {
		r = &res[i];
		vs_ratios(r, memcpy_mib / med, &q);
		fprintf(f, "    {\"name\": \"%s\", \"workload\": \"%s\", \"bytes\": %zu, ",
			r->spec.name, r->spec.arg, r->spec.bytes);
		fprintf(f, "\"procs\": %u, \"threads\": %u, \"files\": %u, \"pipes\": %u,\n",
			r->spec.procs, r->spec.threads, r->spec.files, r->spec.pipes);
		fprintf(f, "     \"ours\": {");
		vs_json_side(f, &r->ours, 0);
		fprintf(f, "},\n     \"criu\": {");
		vs_json_side(f, &r->criu, 1);
		fprintf(f, "},\n     \"ratios\": {\"checkpoint_over_dump\": ");
		vs_json_num(f, q.dump, 4);
		fprintf(f, ", \"restart_over_restore\": ");
		vs_json_num(f, q.restore, 4);
		fprintf(f, ", \"checkpoint_of_memcpy\": ");
		vs_json_num(f, q.ckpt_bw, 4);
		fprintf(f, ", \"restart_of_memcpy\": ");
		vs_json_num(f, q.rst_bw, 4);
		fprintf(f, ", \"image_over_criu\": ");
		vs_json_num(f, q.image, 4);
		fprintf(f, ", \"restart_kmem_peak\": ");
		vs_json_num(f, q.kmem, 0);
		fprintf(f, ", \"checkpoint_kmem_peak\": ");
		vs_json_num(f, q.kmem_ckpt, 0);
		fprintf(f, "}}%s\n", i + 1 < nwl ? "," : "");
	}
	fprintf(f, "  ],\n  \"goals\": [\n");
	vs_json_goals(f, goals, ngoals, "    ");
	fprintf(f, "  ],\n");
	if (ndt)
		dt_json(f, dres, ndt, dgoals, ndg);
	fprintf(f, "  \"failures\": %d\n}\n", vs_fails);
	return fclose(f) ? -1 : 0;
}

static void vs_init(struct vs_side *s)
{
	int run;

	memset(s, 0, sizeof(*s));
	for (run = 0; run < VS_MAX_RUNS; run++) {
		s->t1[run] = NAN;
		s->t2[run] = NAN;
		s->img[run] = NAN;
		s->fork[run] = NAN;
	}
}

static int vs_main(int argc, char **argv)
{
	static struct vs_result res[VS_MAX_WL];
	static const char *const defaults[] = { "mem:1", "mem:64", "mem:512", "tree:10x4:64",
						 "files:1000:100" };
	static struct dt_result dres[DT_MAX_SIZES];
	double mt[VS_MAX_RUNS], min, med, bw;
	struct vs_goal goals[8], dgoals[4];
	const char *json = NULL;
	size_t memcpy_mib = 512, dt_mib[DT_MAX_SIZES] = { 64, 512 }, dt_big = 0;
	int nwl = 0, ngoals, ndt = 2, ndg = 0, a, i, run;
	struct rlimit rl;
	char path[64];

	for (a = 0; a < argc; a++) {
		if (!strcmp(argv[a], "--runs") && a + 1 < argc) {
			vs_runs = atoi(argv[++a]);
			if (vs_runs < 1 || vs_runs > VS_MAX_RUNS)
				return 2;
		} else if (!strcmp(argv[a], "--json") && a + 1 < argc) {
			json = argv[++a];
		} else if (!strcmp(argv[a], "--memcpy") && a + 1 < argc) {
			memcpy_mib = strtoul(argv[++a], NULL, 0);
			if (!memcpy_mib)
				return 2;
		} else if (!strcmp(argv[a], "--downtime") && a + 1 < argc) {
			ndt = dt_parse(argv[++a], dt_mib);
			if (ndt < 0) {
				fprintf(stderr, "cr-bench: bad --downtime %s\n", argv[a]);
				return 2;
			}
		} else if (nwl < VS_MAX_WL && !vs_parse(argv[a], &res[nwl].spec)) {
			nwl++;
		} else {
			fprintf(stderr, "cr-bench: bad argument %s\n", argv[a]);
			return 2;
		}
	}
	if (!nwl)
		for (; nwl < (int)ARRAY_SIZE(defaults); nwl++)
			vs_parse(defaults[nwl], &res[nwl].spec);

	/* 1,000 files and 200 pipe ends; the restored trees come back to us */
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	vs_cg = cr_cgroup(vs_cgpath, sizeof(vs_cgpath));
	mkdir(VS_FILES, 0700);

	vs_memcpy(memcpy_mib << 20, mt, vs_runs);
	vs_stats(mt, vs_runs, &min, &med);
	bw = memcpy_mib / med;
	printf("memcpy of %zu MiB: %.0f MiB/s median, %.0f MiB/s best of %d\n", memcpy_mib, bw,
	       memcpy_mib / min, vs_runs);
	fflush(stdout);

	for (i = 0; i < nwl; i++) {
		struct vs_result *r = &res[i];

		vs_init(&r->ours);
		vs_init(&r->criu);
		for (run = 0; run < vs_runs; run++) {
			wl = r->spec;
			wl_seed = vs_mix(((uint64_t)i << 40) ^ ((uint64_t)run << 20) ^ mono_ns());
			vs_run_ours(r, run);
			wl_seed = vs_mix(wl_seed);
			vs_run_criu(r, run);
			fprintf(stderr, "# %s run %d: ours %.3f s + %.3f s, criu %.3f s + %.3f s\n",
				r->spec.name, run + 1, r->ours.t1[run], r->ours.t2[run],
				r->criu.t1[run], r->criu.t2[run]);
		}
	}

	ngoals = vs_goals(res, nwl, bw, goals);
	vs_print(res, nwl, bw, goals, ngoals);

	/* after the table: the stalls of direct and deferred checkpoints */
	if (ndt) {
		snprintf(dt_cgpath, sizeof(dt_cgpath), "%s-restored", vs_cgpath);
		mkdir(dt_cgpath, 0755);
		dt_cg = open(dt_cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		for (i = 0; i < ndt; i++)
			if (dt_mib[i] > dt_big)
				dt_big = dt_mib[i];
		dt_warm(dt_big);
		for (i = 0; i < ndt; i++) {
			dt_init(&dres[i], dt_mib[i]);
			for (run = 0; run < vs_runs; run++) {
				dt_run(&dres[i], run);
				fprintf(stderr,
					"# downtime %s run %d: stall direct %.2f ms, deferred %.2f ms, held %.2f ms, writing %.2f ms; fork %.2f ms\n",
					dres[i].name, run + 1, dres[i].stall[DT_DIRECT][run] * 1e3,
					dres[i].stall[DT_DEFERRED][run] * 1e3,
					dres[i].stall[DT_HELD][run] * 1e3,
					dres[i].stall[DT_WRITING][run] * 1e3, dres[i].fork[run] * 1e3);
			}
		}
		ndg = dt_goals(dres, ndt, dgoals);
		dt_print(dres, ndt, dgoals, ndg);
		close(dt_cg);
		cr_cgroup_remove(dt_cgpath);
	}
	printf("%d failure(s)\n", vs_fails);
	fflush(stdout);

	if (json && vs_json(json, res, nwl, memcpy_mib, mt, goals, ngoals, dres, ndt, dgoals,
			    ndg)) {
		perror(json);
		vs_fails++;
	}

	for (i = 0; i < VS_MAX_FILES; i++) {
		snprintf(path, sizeof(path), VS_FILES "/f%04d", i);
		unlink(path);
	}
	rmdir(VS_FILES);
	close(vs_cg);
	cr_cgroup_remove(vs_cgpath);
	return vs_fails ? 1 : 0;
}

/* -- rollback: a process's checkpoint of itself, and its undo ------------- */

#define RB_FILE		"/tmp/cr-bench.rollback"
#define RB_MAX_RUNS	VS_MAX_RUNS

/*
 * The target: MIB of touched memory; per run, fork() timed, a checkpoint
 * of itself (deferred, held), a store to every page (a transaction gone
 * wrong: the copy-on-write cost), and a rollback in place, timed from
 * just before restart() to the return of the rolled-back checkpoint().
 * Lines in RB_FILE; memory forgets, the file does not.
 */
static int rb_target(size_t size, int runs)
{
	size_t pages = size / 4096, i;
	uint64_t t0, t1, t2, fork_ns;
	volatile uint64_t *p;
	char buf[160], *f, *l;
	unsigned long bad;
	long crid;
	pid_t c;
	int run;

	cr_quiet_fds();
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 10;
	for (i = 0; i < pages; i++)
		p[i * 512] = vs_mix(i);
	for (run = 0; run < runs; run++) {
		t0 = mono_ns();
		c = fork();
		if (c == 0)
			_exit(0);
		fork_ns = mono_ns() - t0;
		if (c < 0 || waitpid(c, NULL, 0) != c)
			return 11;
		t0 = mono_ns();
		crid = sys_checkpoint(0, -1, CHECKPOINT_DEFERRED);
		t1 = mono_ns();
		if (crid < 0) {
			cr_line(RB_FILE, "error checkpoint: %s\n",
				cr_reason(buf, sizeof(buf)) ?: strerror(errno));
			return 12;
		}
		if (crid == 0) {
			/* rolled back: the memory as at the checkpoint */
			t1 = mono_ns();
			f = cr_load_file(RB_FILE);
			l = f ? strrchr(f, 't') : NULL;
			t2 = l && l[1] == '2' ? strtoull(l + 3, NULL, 10) : 0;
			l = f ? strstr(f, "crid ") : NULL;
			crid = 0;
			while (l) {
				crid = atol(l + 5);
				l = strstr(l + 5, "crid ");
			}
			free(f);
			for (bad = 0, i = 0; i < pages; i++)
				bad += p[i * 512] != vs_mix(i);
			cr_line(RB_FILE, "undo %d %llu %lu\n", run, (unsigned long long)(t1 - t2), bad);
			if (sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP))
				return 13;
			continue;
		}
		t2 = mono_ns();
		for (i = 0; i < pages; i++)
			p[i * 512] = ~vs_mix(i);
		cr_line(RB_FILE, "ckpt %d %llu %llu %llu crid %ld t2 ", run,
			(unsigned long long)fork_ns, (unsigned long long)(t1 - t0),
			(unsigned long long)(mono_ns() - t2), crid);
		/* the time just before the call, last in the file */
		cr_line(RB_FILE, "%llu\n", (unsigned long long)mono_ns());
		sys_restart(crid, -1, RESTART_IN_PLACE);
		cr_line(RB_FILE, "error restart: %s\n", cr_reason(buf, sizeof(buf)) ?: strerror(errno));
		return 14;
	}
	return 0;
}

static double rb_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), vs_cmp);
	return n ? v[n / 2] : 0;
}

/* cr-bench --rollback RUNS MIB... */
static int rb_main(int argc, char **argv)
{
	int runs = argc > 0 ? atoi(argv[0]) : 0, a, st, fails = 0;

	if (runs < 1 || runs > RB_MAX_RUNS)
		return 2;
	printf("\nrollback: a process with MIB of touched memory checkpoints itself\n"
	       "  (checkpoint(0, -1, CHECKPOINT_DEFERRED), held), stores to every page, and rolls\n"
	       "  itself back (restart(crid, -1, RESTART_IN_PLACE), timed to its return from the\n"
	       "  checkpoint); beside fork() of the same process; medians of %d runs\n", runs);
	printf("%7s %9s %9s %9s %9s %10s %10s %9s %6s\n", "MiB", "fork ms", "ckpt ms",
	       "dirty ms", "undo ms", "undo MiB/s", "ckpt/fork", "undo/fork", "bad");
	for (a = 1; a < argc; a++) {
		double fk[RB_MAX_RUNS], ck[RB_MAX_RUNS], dy[RB_MAX_RUNS], un[RB_MAX_RUNS];
		size_t mib = strtoul(argv[a], NULL, 0);
		unsigned long long v1, v2, v3;
		int nc = 0, nu = 0, r;
		unsigned long b, bad = 0;
		char *f, *l;
		pid_t pid;

		unlink(RB_FILE);
		pid = fork();
		if (pid == 0)
			_exit(rb_target(mib << 20, runs));
		st = cr_wait_exit(pid);
		f = cr_load_file(RB_FILE);
		for (l = f; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			if (sscanf(l, "ckpt %d %llu %llu %llu", &r, &v1, &v2, &v3) == 4 &&
			    nc < RB_MAX_RUNS) {
				fk[nc] = v1 / 1e6;
				ck[nc] = v2 / 1e6;
				dy[nc++] = v3 / 1e6;
			} else if (sscanf(l, "undo %d %llu %lu", &r, &v1, &b) == 3 &&
				   nu < RB_MAX_RUNS) {
				un[nu++] = v1 / 1e6;
				bad += b;
			} else if (!strncmp(l, "error", 5)) {
				printf("FAIL rollback %zu MiB: %.*s\n", mib, (int)strcspn(l, "\n"), l);
			}
		}
		free(f);
		if (st || nc != runs || nu != runs || bad) {
			printf("FAIL rollback %zu MiB: exit status %d, %d checkpoints, %d rollbacks, %lu pages wrong\n",
			       mib, st, nc, nu, bad);
			fails++;
			if (!nc || !nu)
				continue;
		}
		{
			double mf = rb_median(fk, nc), mc = rb_median(ck, nc);
			double md = rb_median(dy, nc), mu = rb_median(un, nu);

			printf("%7zu %9.2f %9.2f %9.2f %9.2f %10.0f %9.2fx %8.2fx %6lu\n", mib, mf,
			       mc, md, mu, mib / (mu / 1e3), mc / mf, mu / mf, bad);
		}
		fflush(stdout);
	}
	unlink(RB_FILE);
	return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
	char cgpath[128], why[256];
	int cg;

	if (argc > 1 && !strcmp(argv[1], "--vs-criu"))
		return vs_main(argc - 2, argv + 2);
	if (argc > 1 && !strcmp(argv[1], "--rollback"))
		return rb_main(argc - 2, argv + 2);
	cg = cr_cgroup(cgpath, sizeof(cgpath));
	if (argc > 2 && !strcmp(argv[1], "--tasks")) {
		int ret = bench_tasks_main(cg, strtoul(argv[2], NULL, 0), argc - 3, argv + 3);

		close(cg);
		cr_cgroup_remove(cgpath);
		return ret;
	}
	printf("%6s %8s %8s %8s %9s %9s %9s %9s %9s\n", "MiB", "memcpy", "write", "ckpt s",
	       "ckpt", "of memcpy", "of write", "restart s", "image MiB");
	printf("%6s %8s %8s %8s %9s\n", "", "MiB/s", "MiB/s", "", "MiB/s");
	for (int a = 1; a < argc; a++) {
		double bw, wbw, t0, tc, tr;
		struct stat st;
		pid_t pid;

		bench_size = strtoul(argv[a], NULL, 0) << 20;
		bw = memcpy_mibs(bench_size);
		wbw = write_mibs(bench_size);
		unlink("/tmp/bench.ready");
		pid = cr_start(cg, workload, NULL);
		if (pid < 0 || cr_wait_file("/tmp/bench.ready", 600000))
			return 1;
		cr_msleep(100);
		t0 = mono();
		if (cr_checkpoint(pid, "/tmp/bench.img", why, sizeof(why))) {
			fprintf(stderr, "checkpoint: %s\n", why);
			return 1;
		}
		tc = mono() - t0;
		if (getenv("CR_BENCH_NULL")) {
			t0 = mono();
			cr_checkpoint(pid, "/dev/null", why, sizeof(why));
			printf("# to /dev/null: %.3f s\n", mono() - t0);
		}
		cr_kill_wait(pid);
		stat("/tmp/bench.img", &st);

		/* Restored once it runs: its spin counter moves. */
		tr = restart_timed(cg, &spins);
		if (tr < 0)
			return 1;
		printf("%6zu %8.0f %8.0f %8.3f %9.0f %8.0f%% %8.0f%% %9.3f %9.1f\n",
		       bench_size >> 20, bw, wbw, tc, (bench_size >> 20) / tc,
		       100.0 * (bench_size >> 20) / tc / bw, 100.0 * (bench_size >> 20) / tc / wbw,
		       tr, st.st_size / 1048576.0);
		fflush(stdout);
	}
	close(cg);
	cr_cgroup_remove(cgpath);
	return 0;
}
