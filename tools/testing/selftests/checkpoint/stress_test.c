// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint() under stress:
 *
 *  - the container init is SIGKILLed at a random moment of checkpoint():
 *    the call succeeds with a complete image or fails with ESRCH, EBUSY
 *    or EINTR and a reason, never claiming an incomplete image complete,
 *    and never leaves the cgroup frozen;
 *  - two processes checkpoint one container at once: each succeeds or
 *    fails with EBUSY, at least one succeeds, the container runs on,
 *    thawed, and the successful images restart;
 *  - the container's cgroup.freeze is toggled while checkpoints run: a
 *    checkpoint succeeds with a consistent image or fails with EBUSY.
 *
 * Restored containers check their own memory: the pattern workload
 * rewrites a region page by page with a generation counter and checks
 * every page against the previous generation just before rewriting it,
 * so an image whose pages were taken at different moments (a torn
 * capture) is caught as soon as it runs.
 */
#include "cr_test.h"

#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>

#include "../kselftest_harness.h"

#define S_DIR		"/tmp/crstress"
#define S_READY		S_DIR "/ready"
#define S_RESULT	S_DIR "/result"

#define BIG_SIZE	(64UL << 20)	/* the killed container's memory */
#define KILL_ROUNDS	20
#define PAT_PAGES	1024		/* the pattern: 4 MiB, rewritten on and on */
#define CONC_ROUNDS	6
#define THAW_ROUNDS	20

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "?";
}

/* -- workloads -------------------------------------------------------------- */

static inline uint64_t pval(uint64_t gen, uint64_t page, uint64_t word)
{
	return ((gen << 32) | (page << 9) | word) * 0x9e3779b97f4a7c15ULL;
}

static int report_bad(const char *what, uint64_t gen, unsigned long page, unsigned int word,
		      uint64_t val)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s: page %lu word %u is %#llx, generation %llu wants %#llx\n",
		 what, page, word, (unsigned long long)val, (unsigned long long)gen,
		 (unsigned long long)pval(gen, page, word));
	cr_write_str(S_RESULT, buf);
	return 3;
}

static uint64_t *big;	/* filled once by the test, inherited by each container */

static int fill_big(void)
{
	unsigned long p;
	unsigned int j;

	if (big)
		return 0;
	big = mmap(NULL, BIG_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED) {
		big = NULL;
		return -1;
	}
	for (p = 0; p < BIG_SIZE / 4096; p++)
		for (j = 0; j < 512; j++)
			big[p * 512 + j] = pval(7, p, j);
	return 0;
}

/*
 * 64 MiB of memory, every page present (filled by the test before the
 * fork, which is much faster under TCG than faulting it in each round);
 * pause() until SIGUSR1 (only a restored copy gets it), which checks
 * every word.
 */
static int workload_big(void *arg)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	unsigned long p, pages = BIG_SIZE / 4096;
	unsigned int j;

	cr_quiet_fds();
	prctl(PR_SET_NAME, "cr-big");
	sigaction(SIGUSR1, &sa, NULL);
	cr_write_str(S_READY, "1");
	while (!go)
		pause();

	/* -- restored */
	for (p = 0; p < pages; p++)
		for (j = 0; j < 512; j++)
			if (big[p * 512 + j] != pval(7, p, j))
				return report_bad("big", 7, p, j, big[p * 512 + j]);
	cr_write_str(S_RESULT, "ok\n");
	return 0;
}

volatile uint64_t pat_gen, pat_ticks;
uint64_t *pat_region;

/*
 * Rewrite the region page by page, generation after generation; check
 * each page holds the previous generation before rewriting it.  SIGUSR1
 * (sent to a restored copy once it runs) ends it two full generations
 * later, every page checked at least once after the restart, with a
 * last check of the whole region.
 */
static int workload_pattern(void *arg)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	uint64_t *pat, g, end = 0, *w;
	unsigned long p;
	unsigned int j;
	char buf[64];

	cr_quiet_fds();
	prctl(PR_SET_NAME, "cr-pattern");
	sigaction(SIGUSR1, &sa, NULL);
	pat = mmap(NULL, PAT_PAGES * 4096UL, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pat == MAP_FAILED)
		return 10;
	pat_region = pat;
	for (p = 0; p < PAT_PAGES; p++)
		for (j = 0; j < 512; j++)
			pat[p * 512 + j] = pval(0, p, j);
	cr_write_str(S_READY, "1");
	for (g = 1;; g++) {
		if (go && !end)
			end = g + 2;
		if (g == end) {
			for (p = 0; p < PAT_PAGES; p++)
				for (j = 0; j < 512; j++)
					if (pat[p * 512 + j] != pval(g - 1, p, j))
						return report_bad("final", g - 1, p, j,
								  pat[p * 512 + j]);
			snprintf(buf, sizeof(buf), "ok %llu\n", (unsigned long long)(g - 1));
			cr_write_str(S_RESULT, buf);
			return 0;
		}
		for (p = 0; p < PAT_PAGES; p++) {
			w = pat + p * 512;
			for (j = 0; j < 512; j++)
				if (w[j] != pval(g - 1, p, j))
					return report_bad("running", g - 1, p, j, w[j]);
			for (j = 0; j < 512; j++)
				w[j] = pval(g, p, j);
			pat_ticks++;
		}
		pat_gen = g;
	}
}

/* -- images ------------------------------------------------------------------ */

/*
 * Is the image in @path complete: a head first, every record sound, a
 * tail whose count, length and checksum match, the page data after it as
 * long as the records say and matching their checksums, then the END
 * record that says the checkpoint completed (the tail's data_bytes and
 * checksum), nothing after it (cr_image_check())?  0 or -1 with what is
 * wrong in @why.
 */
static int image_complete(const char *path, char *why, size_t len)
{
	struct stat st;
	uint8_t *img;
	int fd, ret;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_size < (off_t)sizeof(struct cr_hdr_head)) {
		snprintf(why, len, "%lld bytes: no head", (long long)st.st_size);
		close(fd);
		return -1;
	}
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED) {
		snprintf(why, len, "mmap: %s", strerror(errno));
		return -1;
	}
	ret = cr_image_check(img, st.st_size, why, len);
	munmap(img, st.st_size);
	return ret;
}

static int freeze_state(const char *cgpath, const char *file, const char *want)
{
	char path[300], buf[256];

	snprintf(path, sizeof(path), "%s/%s", cgpath, file);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strstr(buf, want) ? 0 : -1;
}

/* Wait up to @ms for @pid (our child) to end: its exit status, or -1. */
static int wait_exit_ms(pid_t pid, int ms)
{
	int status;

	for (; ms > 0; ms -= 20) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (r < 0)
			return -1;
		cr_msleep(20);
	}
	return -1;
}

static int comm_is(pid_t pid, const char *comm)
{
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0)
		return 0;
	buf[strcspn(buf, "\n")] = '\0';
	return !strcmp(buf, comm);
}

/*
 * Once @pid runs as @comm, SIGUSR1 it until it ends (a signal that lands
 * before pause() or in a restarted one is simply sent again); its exit
 * status, or -1 if it did not end within @ms (then it is killed).
 */
static int finish(pid_t pid, const char *comm, int ms)
{
	int status;

	for (; ms > 0; ms -= 100) {
		if (comm_is(pid, comm))
			kill(pid, SIGUSR1);
		status = wait_exit_ms(pid, 100);
		if (status >= 0)
			return status;
	}
	cr_kill_wait(pid);
	return -1;
}

/*
 * Restart the pattern image @img: the restored process checks every page
 * as it goes and ends two generations after it is told, with a check of
 * the whole region.  0, or -1 with what went wrong logged.
 *
 * (The restored process is not read with process_vm_readv(): that waits
 * for its exec_update_lock.)
 */
static int restart_pattern(struct __test_metadata *_metadata, int cg, const char *img)
{
	char why[256], res[256] = "";
	uint64_t g0 = 0;
	pid_t pid;
	int ret;

	if (cr_image_word(img, (uintptr_t)&pat_gen, &g0)) {
		TH_LOG("%s: no page holds the generation counter", img);
		return -1;
	}
	unlink(S_RESULT);
	ret = cr_restart_img(cg, img, &pid, why, sizeof(why));
	if (ret) {
		TH_LOG("restart of %s: %s: %s", img, errname(-ret), why);
		return -1;
	}
	ret = finish(pid, "cr-pattern", 60000);
	cr_read_str(S_RESULT, res, sizeof(res));
	if (ret != 0 || strncmp(res, "ok ", 3) || strtoull(res + 3, NULL, 10) < g0 + 2) {
		TH_LOG("restored %s from generation %llu: exit status %d: %s", img,
		       (unsigned long long)g0, ret, res);
		return -1;
	}
	return 0;
}

FIXTURE(st) {
	int cg;
	char cgpath[128];
};

FIXTURE_SETUP(st)
{
	mkdir(S_DIR, 0755);
	unlink(S_READY);
	unlink(S_RESULT);
	self->cg = cr_cgroup(self->cgpath, sizeof(self->cgpath));
	ASSERT_LE(0, self->cg);
}

FIXTURE_TEARDOWN(st)
{
	char cmd[64];

	close(self->cg);
	cr_cgroup_remove(self->cgpath);
	snprintf(cmd, sizeof(cmd), "rm -f %s/*.img", S_DIR);
	if (system(cmd))
		return;
}

static pid_t start_and_wait(struct __test_metadata *_metadata, int cg, int (*fn)(void *))
{
	pid_t pid;

	unlink(S_READY);
	pid = cr_start(cg, fn, NULL);
	if (pid > 0 && cr_wait_file(S_READY, 60000)) {
		TH_LOG("the container did not get ready");
		cr_kill_wait(pid);
		return -1;
	}
	return pid;
}

/* -- SIGKILL during checkpoint ---------------------------------------------- */

struct killer {
	pid_t pid;
	long delay_us;
	int done[2];	/* written when checkpoint() returned: kill at once */
};

static void *killer_fn(void *arg)
{
	struct killer *k = arg;
	struct timespec ts = { k->delay_us / 1000000, (k->delay_us % 1000000) * 1000 };
	struct pollfd p = { .fd = k->done[0], .events = POLLIN };

	while (ppoll(&p, 1, &ts, NULL) < 0 && errno == EINTR)
		;
	kill(k->pid, SIGKILL);
	return NULL;
}

/*
 * Is the container thawed and running: cgroup.freeze 0 at once, frozen 0
 * in cgroup.events and the counter moving within a while (TCG with two
 * CPUs can keep a runnable task off them for a long time).  0 or a
 * negative line number.
 */
static int thawed_and_running(pid_t pid, const char *cgpath, volatile uint64_t *counter)
{
	uint64_t a, b;
	int i;

	if (freeze_state(cgpath, "cgroup.freeze", "0"))
		return -__LINE__;
	for (i = 0; freeze_state(cgpath, "cgroup.events", "frozen 0"); i++) {
		if (i == 100)
			return -__LINE__;
		cr_msleep(10);
	}
	if (cr_peek(pid, (void *)counter, &a))
		return -__LINE__;
	for (i = 0; !cr_peek(pid, (void *)counter, &b) && b == a; i++) {
		if (i == 100)
			return -__LINE__;
		cr_msleep(20);
	}
	return b > a ? 0 : -__LINE__;
}

TEST_F_TIMEOUT(st, kill_during_checkpoint, 100)
{
	const char *img = S_DIR "/kill.img", *keep = S_DIR "/keep.img";
	int ok = 0, ok_during = 0, nr_during = 0, nr_err[3] = {}, round, status;
	unsigned int seed = time(NULL) ^ getpid();
	double dur = 0, t0, t_all = cr_now();
	char why[256], iwhy[256];
	struct killer k;
	pthread_t th;

	TH_LOG("seed %u", seed);
	srand(seed);
	ASSERT_EQ(0, fill_big());
	for (round = 0; round <= KILL_ROUNDS; round++) {
		int ret;

		k.pid = start_and_wait(_metadata, self->cg, workload_big);
		ASSERT_LT(0, k.pid);
		/* round 0 measures an undisturbed checkpoint */
		k.delay_us = round ? (long)(dur * 1.1e6 * rand() / RAND_MAX) : 0;
		ASSERT_EQ(0, pipe(k.done));
		if (round)
			ASSERT_EQ(0, pthread_create(&th, NULL, killer_fn, &k));
		t0 = cr_now();
		ret = cr_checkpoint(k.pid, img, why, sizeof(why));
		t0 = cr_now() - t0;
		ASSERT_EQ(1, write(k.done[1], "x", 1));
		if (round && k.delay_us < t0 * 1e6)
			nr_during++;
		if (!round) {
			dur = t0;
			ASSERT_EQ(0, ret) TH_LOG("checkpoint: %s", why);
			TH_LOG("an undisturbed checkpoint of %lu MiB takes %.3f s", BIG_SIZE >> 20,
			       dur);
			kill(k.pid, SIGKILL);
		} else {
			pthread_join(th, NULL);
		}
		close(k.done[0]);
		close(k.done[1]);
		status = cr_wait_exit(k.pid);
		EXPECT_EQ(128 + SIGKILL, status) TH_LOG("round %d: container status %d",
							round, status);
		if (!ret) {
			TH_LOG("round %d (kill after %.3f s): succeeded in %.3f s", round,
			       k.delay_us / 1e6, t0);
			EXPECT_EQ(0, image_complete(img, iwhy, sizeof(iwhy)))
				TH_LOG("round %d: image: %s", round, iwhy);
			ok++;
			if (round && k.delay_us < t0 * 1e6)
				ok_during++;
			ASSERT_EQ(0, rename(img, keep));
		} else {
			TH_LOG("round %d (kill after %.3f s): %s in %.3f s: %s", round,
			       k.delay_us / 1e6, errname(-ret), t0, why);
			EXPECT_TRUE(ret == -ESRCH || ret == -EBUSY || ret == -EINTR);
			EXPECT_NE(0, why[0]);
			nr_err[ret == -ESRCH ? 0 : ret == -EBUSY ? 1 : 2]++;
			/* a failed checkpoint never leaves a complete-looking image */
			EXPECT_NE(0, image_complete(img, iwhy, sizeof(iwhy)))
				TH_LOG("round %d: failed checkpoint, complete image", round);
		}
		/* whatever happened, the cgroup is not left frozen */
		EXPECT_EQ(0, freeze_state(self->cgpath, "cgroup.freeze", "0"))
			TH_LOG("round %d: cgroup left frozen", round);
		unlink(img);
	}
	TH_LOG("%d rounds, %d killed during the call: %d succeeded (%d of those), %.1f s",
	       KILL_ROUNDS, nr_during, ok - 1, ok_during, cr_now() - t_all);
	TH_LOG("failed: ESRCH %d, EBUSY %d, EINTR %d", nr_err[0], nr_err[1], nr_err[2]);

	/* the last successful image (killed during or after capture) restarts */
	{
		pid_t pid;
		char res[256] = "";
		int ret = cr_restart_img(self->cg, keep, &pid, why, sizeof(why));

		ASSERT_EQ(0, ret) TH_LOG("restart: %s: %s", errname(-ret), why);
		t0 = cr_now();
		status = finish(pid, "cr-big", 60000);
		cr_read_str(S_RESULT, res, sizeof(res));
		EXPECT_EQ(0, status) TH_LOG("restored: %s", res);
		EXPECT_STREQ("ok\n", res);
		TH_LOG("restart and check of %lu MiB: %.1f s", BIG_SIZE >> 20, cr_now() - t0);
	}
}

/* -- two checkpoints at once ----------------------------------------------- */

/* Wait for the gate, checkpoint, report "errno reason" on @out. */
static void __attribute__((noreturn)) conc_child(int gate, int out, pid_t pid, const char *img)
{
	char why[256], buf[300];
	int ret;

	if (read(gate, buf, 1) != 1)
		_exit(2);
	ret = cr_checkpoint(pid, img, why, sizeof(why));
	snprintf(buf, sizeof(buf), "%d %s", -ret, why);
	if (write(out, buf, strlen(buf)) < 0)
		_exit(3);
	_exit(0);
}

TEST_F_TIMEOUT(st, concurrent_checkpoints, 60)
{
	int round, i, nr_ok = 0, nr_busy = 0, restarted = 0;
	char imgs[CONC_ROUNDS * 2][64], iwhy[256];
	double t_all = cr_now();
	pid_t pid;

	pid = start_and_wait(_metadata, self->cg, workload_pattern);
	ASSERT_LT(0, pid);
	for (round = 0; round < CONC_ROUNDS; round++) {
		int gate[2], out[2][2], err[2], ok = 0;
		char buf[2][300];
		pid_t c[2];

		ASSERT_EQ(0, pipe(gate));
		for (i = 0; i < 2; i++) {
			snprintf(imgs[round * 2 + i], sizeof(imgs[0]), S_DIR "/conc-%d-%d.img",
				 round, i);
			ASSERT_EQ(0, pipe(out[i]));
			c[i] = fork();
			ASSERT_LE(0, c[i]);
			if (c[i] == 0) {
				close(gate[1]);
				close(out[i][0]);
				conc_child(gate[0], out[i][1], pid, imgs[round * 2 + i]);
			}
			close(out[i][1]);
		}
		close(gate[0]);
		ASSERT_EQ(2, write(gate[1], "gg", 2));
		close(gate[1]);
		for (i = 0; i < 2; i++) {
			ssize_t n = read(out[i][0], buf[i], sizeof(buf[i]) - 1);

			close(out[i][0]);
			EXPECT_EQ(0, cr_wait_exit(c[i]));
			ASSERT_LT(0, n);
			buf[i][n] = '\0';
			err[i] = atoi(buf[i]);
			if (!err[i]) {
				ok++;
				EXPECT_EQ(0, image_complete(imgs[round * 2 + i], iwhy,
							    sizeof(iwhy)))
					TH_LOG("round %d: image %d: %s", round, i, iwhy);
			} else {
				TH_LOG("round %d: checkpoint %d: %s: %s", round, i, errname(err[i]),
				       strchr(buf[i], ' ') + 1);
				EXPECT_EQ(EBUSY, err[i]);
				EXPECT_NE(0, strchr(buf[i], ' ')[1]);
				unlink(imgs[round * 2 + i]);
				imgs[round * 2 + i][0] = '\0';
				nr_busy++;
			}
		}
		EXPECT_LE(1, ok) TH_LOG("round %d: neither checkpoint succeeded", round);
		nr_ok += ok;
		/* the container runs on, thawed */
		EXPECT_EQ(0, thawed_and_running(pid, self->cgpath, &pat_ticks))
			TH_LOG("round %d: container frozen or stopped", round);
	}
	/* and did not see its memory change under it */
	EXPECT_EQ(0, waitpid(pid, NULL, WNOHANG));
	cr_kill_wait(pid);
	TH_LOG("%d rounds: %d checkpoints succeeded, %d EBUSY, %.1f s", CONC_ROUNDS, nr_ok,
	       nr_busy, cr_now() - t_all);

	/* every successful image restarts and is consistent */
	for (i = 0; i < CONC_ROUNDS * 2; i++) {
		if (!imgs[i][0])
			continue;
		EXPECT_EQ(0, restart_pattern(_metadata, self->cg, imgs[i]));
		restarted++;
	}
	EXPECT_LE(1, restarted);
	TH_LOG("%d images restarted and checked, %.1f s in all", restarted, cr_now() - t_all);
}

/* -- thaw during capture --------------------------------------------------- */

struct toggler {
	const char *cgpath;
	volatile int stop;
	unsigned int seed;
	volatile int toggles;
};

/* Freeze and thaw the cgroup at random, with quiet spells; end thawed. */
static void *toggler_fn(void *arg)
{
	struct toggler *t = arg;
	char path[300];

	snprintf(path, sizeof(path), "%s/cgroup.freeze", t->cgpath);
	while (!t->stop) {
		unsigned int r = rand_r(&t->seed);

		if (r % 4 == 0) {
			cr_msleep(50 + r % 200);
			continue;
		}
		cr_write_str(path, "1");
		cr_msleep(r % 3);
		cr_write_str(path, "0");
		cr_msleep((r >> 8) % 6);
		t->toggles++;
	}
	cr_write_str(path, "0");
	return NULL;
}

TEST_F_TIMEOUT(st, thaw_during_capture, 60)
{
	struct toggler t = { .cgpath = self->cgpath, .seed = time(NULL) ^ getpid() };
	char imgs[THAW_ROUNDS][64], why[256], iwhy[256];
	int round, nr_ok = 0, nr_ok_toggled = 0, nr_busy = 0, ret;
	double t_all = cr_now();
	pthread_t th;
	pid_t pid;

	TH_LOG("seed %u", t.seed);
	pid = start_and_wait(_metadata, self->cg, workload_pattern);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, pthread_create(&th, NULL, toggler_fn, &t));
	for (round = 0; round < THAW_ROUNDS; round++) {
		int toggles = t.toggles;
		double t0 = cr_now();

		snprintf(imgs[round], sizeof(imgs[0]), S_DIR "/thaw-%d.img", round);
		ret = cr_checkpoint(pid, imgs[round], why, sizeof(why));
		t0 = cr_now() - t0;
		toggles = t.toggles - toggles;
		if (!ret) {
			TH_LOG("round %d: succeeded in %.3f s, %d toggles meanwhile", round, t0,
			       toggles);
			nr_ok++;
			nr_ok_toggled += toggles > 0;
			EXPECT_EQ(0, image_complete(imgs[round], iwhy, sizeof(iwhy)))
				TH_LOG("round %d: %s", round, iwhy);
			continue;
		}
		TH_LOG("round %d: %s in %.3f s, %d toggles meanwhile: %s", round, errname(-ret), t0,
		       toggles, why);
		EXPECT_EQ(-EBUSY, ret);
		EXPECT_NE(0, why[0]);
		nr_busy++;
		unlink(imgs[round]);
		imgs[round][0] = '\0';
	}
	t.stop = 1;
	pthread_join(th, NULL);
	EXPECT_EQ(0, thawed_and_running(pid, self->cgpath, &pat_ticks));
	EXPECT_EQ(0, waitpid(pid, NULL, WNOHANG));
	cr_kill_wait(pid);
	TH_LOG("%d rounds, %d toggles: %d succeeded (%d with toggles meanwhile), %d EBUSY, %.1f s",
	       THAW_ROUNDS, t.toggles, nr_ok, nr_ok_toggled, nr_busy, cr_now() - t_all);
	for (round = 0; round < THAW_ROUNDS; round++)
		if (imgs[round][0])
			EXPECT_EQ(0, restart_pattern(_metadata, self->cg, imgs[round]))
				TH_LOG("image of round %d", round);
	TH_LOG("%.1f s in all", cr_now() - t_all);
}

/*
 * Copy the image @src to @dst with the page at @addr (page @idx of the
 * pattern) holding generation @gen, the data_csum of its PAGES record,
 * the tail and the END record recomputed (cr_fix_tail()): a torn image,
 * complete as far as restart() can tell, which only the restored
 * pattern's own check catches.
 */
static int image_tear(const char *src, const char *dst, uint64_t addr, unsigned long idx,
		      uint64_t gen)
{
	int fd = open(src, O_RDONLY), ret = -1;
	uint64_t data_off, *data;
	struct stat st;
	uint8_t *img;
	size_t len;

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	len = st.st_size;
	img = malloc(len);
	if (!img || read(fd, img, len) != (ssize_t)len)
		len = 0;
	close(fd);
	if (len && !cr_find_page(img, len, addr, NULL, &data_off) && !(addr & 4095)) {
		data = (uint64_t *)(img + data_off);
		for (unsigned int j = 0; j < 512; j++)
			data[j] = pval(gen, idx, j);
		ret = cr_fix_tail(img, len);
	}
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (!ret && (fd < 0 || write(fd, img, len) != (ssize_t)len))
		ret = -1;
	if (fd >= 0)
		close(fd);
	free(img);
	return ret;
}

/* The check of the tests above can fail: one page of another generation. */
TEST_F_TIMEOUT(st, torn_image_is_caught, 60)
{
	const char *good = S_DIR "/good.img", *torn = S_DIR "/torn.img";
	char why[256], res[256] = "";
	uint64_t region = 0, g = 0;
	pid_t pid;
	int ret;

	pid = start_and_wait(_metadata, self->cg, workload_pattern);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_peek(pid, &pat_region, &region));
	ASSERT_NE(0, region);
	ASSERT_EQ(0, cr_checkpoint(pid, good, why, sizeof(why))) TH_LOG("checkpoint: %s", why);
	cr_kill_wait(pid);
	ASSERT_EQ(0, cr_image_word(good, (uintptr_t)&pat_gen, &g));
	/* the image as taken passes */
	EXPECT_EQ(0, restart_pattern(_metadata, self->cg, good));
	/* page 100 of a generation to come */
	ASSERT_EQ(0, image_tear(good, torn, region + 100 * 4096, 100, g + 5));
	unlink(S_RESULT);
	ret = cr_restart_img(self->cg, torn, &pid, why, sizeof(why));
	ASSERT_EQ(0, ret) TH_LOG("restart: %s: %s", errname(-ret), why);
	EXPECT_EQ(3, finish(pid, "cr-pattern", 60000));
	cr_read_str(S_RESULT, res, sizeof(res));
	EXPECT_NE(NULL, strstr(res, "page 100 ")) TH_LOG("restored: '%s'", res);
}

TEST_HARNESS_MAIN
