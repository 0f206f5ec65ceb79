// SPDX-License-Identifier: GPL-2.0
/*
 * make bench: checkpoint time, restart time and image size for N MiB of
 * touched anonymous memory, beside memcpy bandwidth of the same size, in
 * one boot; and the same for one total memory spread over 1, 10, 100,
 * 1,000 processes.  Prints figures; never fails on them.
 *
 *   cr-bench SIZE_MIB...
 *   cr-bench --tasks TOTAL_MIB NR_TASKS...
 */
#include "../testing/selftests/checkpoint/cr_test.h"

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

int main(int argc, char **argv)
{
	char cgpath[128], why[256];
	int cg = cr_cgroup(cgpath, sizeof(cgpath));

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
