// SPDX-License-Identifier: GPL-2.0
/*
 * make bench: checkpoint time, restart time and image size for N MiB of
 * touched anonymous memory, beside memcpy bandwidth of the same size, in
 * one boot.  Prints figures; never fails on them.
 *
 *   cr-bench SIZE_MIB...
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

	printf("%6s %8s %8s %8s %9s %9s %9s %9s %9s\n", "MiB", "memcpy", "write", "ckpt s",
	       "ckpt", "of memcpy", "of write", "restart s", "image MiB");
	printf("%6s %8s %8s %8s %9s\n", "", "MiB/s", "MiB/s", "", "MiB/s");
	for (int a = 1; a < argc; a++) {
		double bw, wbw, t0, tc, tr;
		uint64_t s0 = 0, s1 = 0;
		struct stat st;
		pid_t pid, rpid = 0;

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

		t0 = mono();
		if (cr_restart_img(cg, "/tmp/bench.img", &rpid, why, sizeof(why))) {
			fprintf(stderr, "restart: %s\n", why);
			return 1;
		}
		/* Restored once it runs: its spin counter moves. */
		cr_peek(rpid, (void *)&spins, &s0);
		do {
			cr_peek(rpid, (void *)&spins, &s1);
		} while (s1 == s0);
		tr = mono() - t0;
		cr_kill_wait(rpid);
		unlink("/tmp/bench.img");
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
