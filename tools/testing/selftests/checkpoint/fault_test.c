// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint() and restart() with each of their allocations failing in
 * turn.  For N = 1, 2, 3 ... the Nth fault-injection point the calling
 * thread reaches fails (/proc/thread-self/fail-nth), in one sweep with
 * failslab and in another with fail_page_alloc, until a call gets through
 * all of them: the last N tells how many allocations the call makes.
 *
 * A checkpoint that fails must fail cleanly: -1, ENOMEM and a reason, no
 * image that claims to be complete; the container is thawed and still
 * counting, its memory intact, and the next checkpoint succeeds.  One that
 * succeeds although an allocation failed must have written an image that
 * restarts right.  A restart is either refused (ENOMEM and a reason, its
 * caller alive and able to say so) or past the point of no return:
 * restored, or killed; either way no task is left in the cgroup and no
 * file open.  Every process restored from an image checks its own memory
 * and files.  The write-out of a held checkpoint fails cleanly (no
 * complete image) and leaves it held and whole.  A process checkpointing
 * itself fails cleanly with its memory as it was; rolling itself back
 * either fails cleanly with nothing changed, or is killed past the point
 * of no return, or is rolled back whole.  The harness' console check and
 * kmemleak scan catch warnings and leaks.
 */
#include "cr_test.h"
#include "../kselftest_harness.h"

#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc"
#define FAIL_NTH	"/proc/thread-self/fail-nth"

#define REGION_SIZE	(64UL << 10)	/* the workload's memory with a known pattern */
#define DATA_SIZE	4096		/* its data file, read at DATA_POS */
#define DATA_POS	1000
#define DATA_READ	100

/*
 * Every N is tried, no stride: measured in the test guest (debug kernel,
 * TCG, 2 CPUs), the four sweeps take 33 s on an idle host (60 to 76 s on a
 * loaded one), for 52 and 156 allocation points (checkpoint and restart,
 * failslab) and 61 to 74 each with fail_page_alloc.  The counts include
 * kmemleak's own metadata allocation after each slab allocation, which
 * falls back to its pool when it fails.  A sweep past NTH_CAP points or
 * SWEEP_MAX_S seconds has gone wrong: it fails, saying where it is.
 */
#define NTH_CAP		1000
#define SWEEP_MAX_S	90

/*
 * /proc/sys/fs/file-nr is a per-cpu counter read without summing: each
 * reading is off by up to the batch (32) per CPU, so two readings by up to
 * 128 on two CPUs.  Against the one taken before the sweep it catches what
 * leaks add up to over the sweep; the leases of open_elsewhere() catch a
 * single file of the image left open.
 */
#define FILE_NR_SLACK	128

/* A sweep goes on this many iterations after its first failure, then stops. */
#define BAD_MAX		20

enum fi_mode { FI_SLAB, FI_PAGE };

/*
 * fail-nth is one count per task, shared by every fault attribute: each
 * should_fail_ex() reached while it is non-zero decrements it and fails
 * the allocation that brings it to 0, before the attribute's own filters
 * (task-filter, probability, interval, times, space) are looked at, but
 * after the allocator's: failslab skips __GFP_NOFAIL, __GFP_DIRECT_RECLAIM
 * (ignore-gfp-wait) and caches not marked SLAB_FAILSLAB (cache-filter);
 * fail_page_alloc skips orders below min-order, __GFP_NOFAIL, __GFP_HIGHMEM
 * (ignore-gfp-highmem) and __GFP_DIRECT_RECLAIM (ignore-gfp-wait).  So a
 * sweep counts every allocation of its allocator and none of the other's:
 * failslab's cache-filter with no cache marked (none is, without
 * slub_debug=A), fail_page_alloc's min-order out of reach.  Probability 0
 * (and task-filter on, make-it-fail off) keeps both from ever failing
 * anything else; verbose 0 keeps the console quiet.
 */
static const struct knob {
	const char *path;
	const char *val[2];	/* FI_SLAB, FI_PAGE */
} knobs[] = {
	{ FAILSLAB "/probability",		{ "0", "0" } },
	{ FAILSLAB "/task-filter",		{ "Y", "Y" } },
	{ FAILSLAB "/verbose",			{ "0", "0" } },
	{ FAIL_PAGE "/probability",		{ "0", "0" } },
	{ FAIL_PAGE "/task-filter",		{ "Y", "Y" } },
	{ FAIL_PAGE "/verbose",			{ "0", "0" } },
	{ FAILSLAB "/ignore-gfp-wait",		{ "N", "N" } },
	{ FAILSLAB "/cache-filter",		{ "N", "Y" } },
	{ FAIL_PAGE "/ignore-gfp-wait",		{ "N", "N" } },
	{ FAIL_PAGE "/ignore-gfp-highmem",	{ "N", "N" } },
	{ FAIL_PAGE "/min-order",		{ "4294967295", "0" } },
};

#define NR_KNOBS	ARRAY_SIZE(knobs)

/* -- the workload: the same globals in the test and in the container ---- */

static struct {
	uint64_t seed;
} wl;
volatile uint64_t counter, go, ready;
static uint8_t region[REGION_SIZE] __attribute__((aligned(4096)));

/*
 * After go is set, restored or not: is everything as it was set up?
 * 0, or the number of the first check that failed.
 */
static int workload_check(void)
{
	static uint8_t data[DATA_SIZE];
	uint64_t *w = (uint64_t *)region, s = wl.seed;
	char buf[DATA_READ], cwd[64];
	size_t i;

	for (i = 0; i < REGION_SIZE / 8; i++)
		if (w[i] != cr_rand(&s))
			return 20;
	if (!counter)
		return 21;
	if (lseek(3, 0, SEEK_CUR) != DATA_POS)
		return 22;
	cr_fill(data, sizeof(data), wl.seed ^ 0x4444);
	if (read(3, buf, DATA_READ) != DATA_READ || memcmp(buf, data + DATA_POS, DATA_READ))
		return 23;
	if (lseek(4, 0, SEEK_CUR) != DATA_POS + DATA_READ)	/* a dup of fd 3 */
		return 24;
	if (!(fcntl(5, F_GETFL) & O_APPEND) || write(5, "after\n", 6) != 6)
		return 25;
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, CR_TEST_DIR))
		return 26;
	return 0;
}

/* Memory with a pattern, three files open (3, its dup 4, 5), counting. */
static int workload(void *arg)
{
	cr_quiet_fds();
	if (chdir(CR_TEST_DIR))
		return 10;
	cr_fill(region, REGION_SIZE, wl.seed);
	if (open("fi.data", O_RDONLY) != 3 || dup(3) != 4 ||
	    open("fi.log", O_WRONLY | O_APPEND | O_CREAT, 0600) != 5)
		return 11;
	if (lseek(3, DATA_POS, SEEK_SET) != DATA_POS || write(5, "before\n", 7) != 7)
		return 12;
	ready = 1;
	while (!go)
		counter++;
	return workload_check();
}

/* -- what the test looks at --------------------------------------------- */

static long meminfo_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? atol(p + strlen(key)) : -1;
}

#define LOG_MEMINFO(when) do {							\
	char _mi[8192];								\
										\
	if (cr_read_str("/proc/meminfo", _mi, sizeof(_mi)) > 0)			\
		TH_LOG("%s: MemFree %ld kB, Slab %ld kB", (when),		\
		       meminfo_kb(_mi, "MemFree:"), meminfo_kb(_mi, "\nSlab:"));	\
} while (0)

static long file_nr(void)
{
	char buf[64];

	return cr_read_str("/proc/sys/fs/file-nr", buf, sizeof(buf)) > 0 ? atol(buf) : -1;
}

/* Wait up to a second for file-nr to come back to @base; its last value. */
static long file_nr_settle(long base)
{
	long nr = file_nr();
	int i;

	for (i = 0; i < 100 && nr > base + FILE_NR_SLACK; i++) {
		cr_msleep(10);
		nr = file_nr();
	}
	return nr;
}

/*
 * Is @path open by anybody?  A write lease is refused while any other
 * file is open on the inode: exact, where file-nr is not.  0, or errno.
 */
static int open_elsewhere(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return errno;
	if (fcntl(fd, F_SETLEASE, F_WRLCK))
		ret = errno;
	else
		fcntl(fd, F_SETLEASE, F_UNLCK);
	close(fd);
	return ret;
}

/* Is the cgroup @cgpath empty (within a second)?  0 or -1. */
static int cg_empty(const char *cgpath)
{
	char path[300], buf[256];
	int i;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgpath);
	for (i = 0; i < 100; i++) {
		if (cr_read_str(path, buf, sizeof(buf)) == 0)
			return 0;
		cr_msleep(10);
	}
	return -1;
}

/* Wait for the workload @pid to be set up; 0 or -1. */
static int wait_ready(pid_t pid)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 6000; i++) {
		if (!cr_peek(pid, (void *)&ready, &v) && v)
			return 0;
		cr_msleep(10);
	}
	return -1;
}

/*
 * Thawed (cgroup.freeze 0, cgroup.events frozen 0) and counting: 0, or
 * the line of the check that failed.
 */
static int running_and_thawed(pid_t pid, const char *cgpath)
{
	char path[300], buf[256];
	uint64_t a, b;
	int i;

	snprintf(path, sizeof(path), "%s/cgroup.freeze", cgpath);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0 || buf[0] != '0')
		return __LINE__;
	snprintf(path, sizeof(path), "%s/cgroup.events", cgpath);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0 || !strstr(buf, "frozen 0"))
		return __LINE__;
	if (cr_peek(pid, (void *)&counter, &a))
		return __LINE__;
	for (i = 0; i < 2000; i++) {
		cr_msleep(1);
		if (cr_peek(pid, (void *)&counter, &b))
			return __LINE__;
		if (b != a)
			return b > a ? 0 : __LINE__;
	}
	return __LINE__;
}

/* The workload's pattern, read from outside: 0 if intact. */
static int region_intact(pid_t pid, const uint8_t *want)
{
	static uint8_t got[REGION_SIZE];
	struct iovec l = { got, REGION_SIZE }, r = { region, REGION_SIZE };

	if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)REGION_SIZE)
		return -1;
	return memcmp(got, want, REGION_SIZE) ? -1 : 0;
}

/*
 * Does the image at @path end in a tail that vouches for all of it
 * (record count, size, checksum), followed by all the page data its
 * records have, matching their checksums, and the END record that says
 * the checkpoint completed (cr_image_check())?  1, 0, or -1 if it cannot
 * be read.
 */
static int image_complete(const char *path)
{
	char why[256];
	struct stat st;
	uint8_t *img;
	size_t len;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	len = st.st_size;
	img = malloc(len + 1);
	if (!img || read(fd, img, len) != (ssize_t)len) {
		free(img);
		close(fd);
		return -1;
	}
	close(fd);
	ret = !cr_image_check(img, len, why, sizeof(why));
	free(img);
	return ret;
}

/* The reason that only says that the call failed, with no cause. */
static int generic_reason(const char *why)
{
	return !strncmp(why, "checkpoint failed: ", 19) || !strncmp(why, "restart failed: ", 16);
}

enum { GONE, RESTORED };

/*
 * After a restart that did not come back: is @pid the workload, restored
 * and counting again (the counter it had before the restart was 0)?  Or
 * has it died (*@status)?  Waits up to 30 s.
 */
static int restored_or_gone(pid_t pid, int *status)
{
	uint64_t v, prev = 0;
	int i;

	for (i = 0; i < 15000; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return GONE;
		if (!cr_peek(pid, (void *)&counter, &v) && v) {
			if (prev && v > prev)
				return RESTORED;
			prev = v;
		}
		cr_msleep(2);
	}
	return -1;
}

static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* -- the fixture -------------------------------------------------------- */

FIXTURE(fi) {
	int cg, rcg;		/* the container's cgroup, restored ones' */
	char cgpath[128], rcgpath[140];
	char saved[NR_KNOBS][32];
	int configured;
	uint8_t *want;		/* the workload's region */
	int afters;		/* how many restored workloads wrote to the log */
};

FIXTURE_VARIANT(fi) {
	enum fi_mode mode;
	const char *name;
};

FIXTURE_VARIANT_ADD(fi, failslab) {
	.mode = FI_SLAB,
	.name = "failslab",
};

FIXTURE_VARIANT_ADD(fi, fail_page_alloc) {
	.mode = FI_PAGE,
	.name = "fail_page_alloc",
};

FIXTURE_SETUP(fi)
{
	static uint8_t data[DATA_SIZE];
	unsigned int i;
	int fd;

	mkdir(CR_TEST_DIR, 0755);
	self->cg = cr_cgroup(self->cgpath, sizeof(self->cgpath));
	ASSERT_LE(0, self->cg);
	snprintf(self->rcgpath, sizeof(self->rcgpath), "%s-r", self->cgpath);
	mkdir(self->rcgpath, 0755);
	self->rcg = open(self->rcgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->rcg);
	if (access(FAILSLAB, F_OK) || access(FAIL_PAGE, F_OK) || access(FAIL_NTH, F_OK))
		SKIP(return, "no failslab, fail_page_alloc or fail-nth");

	for (i = 0; i < NR_KNOBS; i++) {
		char *nl;

		ASSERT_LT(0, cr_read_str(knobs[i].path, self->saved[i], sizeof(self->saved[i])))
			TH_LOG("%s: %s", knobs[i].path, strerror(errno));
		nl = strchr(self->saved[i], '\n');
		if (nl)
			*nl = '\0';
	}
	self->configured = 1;
	for (i = 0; i < NR_KNOBS; i++) {
		const char *path = knobs[i].path;

		ASSERT_EQ(0, cr_write_str(path, knobs[i].val[variant->mode]))
			TH_LOG("%s: %s", path, strerror(errno));
	}

	wl.seed = (((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL)) | 1;
	cr_fill(data, sizeof(data), wl.seed ^ 0x4444);
	fd = open(CR_TEST_DIR "/fi.data", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(DATA_SIZE, write(fd, data, sizeof(data)));
	close(fd);
	unlink(CR_TEST_DIR "/fi.log");
	self->want = malloc(REGION_SIZE);
	ASSERT_NE(NULL, self->want);
	cr_fill(self->want, REGION_SIZE, wl.seed);
}

FIXTURE_TEARDOWN(fi)
{
	unsigned int i;

	if (self->configured)
		for (i = 0; i < NR_KNOBS; i++)
			cr_write_str(knobs[i].path, self->saved[i]);
	close(self->cg);
	close(self->rcg);
	cr_cgroup_remove(self->cgpath);
	cr_cgroup_remove(self->rcgpath);
}

/* The log holds "before\n" and one "after\n" per restored workload. */
static int log_ok(int afters)
{
	char buf[4096], want[4096] = "before\n";
	int i;

	for (i = 0; i < afters && strlen(want) + 7 < sizeof(want); i++)
		strcat(want, "after\n");
	return cr_read_str(CR_TEST_DIR "/fi.log", buf, sizeof(buf)) >= 0 && !strcmp(buf, want) ?
	       0 : -1;
}

/* Restart @img in the cgroup @cg, let it check itself; its exit code. */
static int restart_and_check(int cg, const char *img, char *why, size_t len)
{
	int status, ret;
	pid_t pid;

	ret = cr_restart_img(cg, img, &pid, why, len);
	if (ret)
		return ret;
	if (restored_or_gone(pid, &status) != RESTORED) {
		snprintf(why, len, "restored process not counting");
		cr_kill_wait(pid);
		return -EFAULT;
	}
	if (cr_poke(pid, (void *)&go, 1)) {
		cr_kill_wait(pid);
		return -EFAULT;
	}
	ret = cr_wait_exit(pid);
	snprintf(why, len, "restored process exited with %d", ret);
	return ret;
}

/* -- checkpoint --------------------------------------------------------- */

TEST_F_TIMEOUT(fi, checkpoint, 120)
{
	unsigned int n, points = 0, failed = 0, tolerated = 0, generic = 0;
	char why[256];
	int nth, img, err, bad = 0;
	long left, r;
	double t0;
	pid_t pid;

	LOG_MEMINFO("before");
	nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nth);
	pid = cr_start(self->cg, workload, NULL);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_ready(pid));
	t0 = cr_now();

	for (n = 1; ; n++) {
		ASSERT_TRUE(n <= NTH_CAP && cr_now() - t0 < SWEEP_MAX_S)
			TH_LOG("%s: the checkpoint sweep is at N = %u after %.0f s: it does not end",
			       variant->name, n, cr_now() - t0);
		img = open(CR_TEST_DIR "/fi.img", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		ASSERT_LE(0, img);
		ASSERT_EQ(0, cr_nth_arm(nth, n));
		/* CR_TEST_DEFERRED=1: the sweep goes through a deferred checkpoint */
		r = sys_checkpoint(pid, img, getenv("CR_TEST_DEFERRED") ? CHECKPOINT_DEFERRED : 0);
		err = errno;
		left = cr_nth_disarm(nth);
		close(img);
		ASSERT_LE(0, left);
		why[0] = '\0';
		if (!r) {
			EXPECT_EQ(1, image_complete(CR_TEST_DIR "/fi.img"))
				TH_LOG("%s N = %u: checkpoint succeeded, its image is not complete",
				       variant->name, n);
			if (left)
				points = n - left;
		} else {
			cr_reason(why, sizeof(why));
			ASSERT_EQ(0, left)
				TH_LOG("%s N = %u: checkpoint failed before the fault: %s (%s)",
				       variant->name, n, strerror(err), why);
			failed++;
			generic += generic_reason(why);
			EXPECT_EQ(ENOMEM, err)
				TH_LOG("%s N = %u: checkpoint failed with errno %d (%s), reason \"%s\"",
				       variant->name, n, err, strerror(err), why);
			EXPECT_NE('\0', why[0])
				TH_LOG("%s N = %u: checkpoint failed (%s) without a reason",
				       variant->name, n, strerror(err));
			EXPECT_EQ(0, image_complete(CR_TEST_DIR "/fi.img"))
				TH_LOG("%s N = %u: checkpoint failed (%s), yet its image is complete",
				       variant->name, n, why);
		}

		/* Whatever the outcome, the container goes on as it was. */
		ASSERT_EQ(0, running_and_thawed(pid, self->cgpath))
			TH_LOG("%s N = %u: after the checkpoint (%s) the container is not running and thawed",
			       variant->name, n, r ? why : "succeeded");
		ASSERT_EQ(0, region_intact(pid, self->want))
			TH_LOG("%s N = %u: after the checkpoint (%s) the container's memory changed",
			       variant->name, n, r ? why : "succeeded");
		if (r) {
			ASSERT_EQ(0, cr_checkpoint(pid, CR_TEST_DIR "/fi.clean.img", why,
						   sizeof(why)))
				TH_LOG("%s N = %u: the checkpoint after the failed one failed: %s",
				       variant->name, n, why);
		} else if (!left) {
			/* An allocation failed and the call did without: is the image good? */
			tolerated++;
			ASSERT_EQ(0, restart_and_check(self->rcg, CR_TEST_DIR "/fi.img",
						       why, sizeof(why)))
				TH_LOG("%s N = %u: checkpoint did without, its image fails: %s",
				       variant->name, n, why);
			self->afters++;
		}
		if (points)
			break;
		if (!__test_passed(_metadata) && ++bad >= BAD_MAX) {
			TH_LOG("%s: stopped at N = %u, %d iterations after the first failure",
			       variant->name, n, BAD_MAX);
			break;
		}
	}
	TH_LOG("%s: checkpoint goes through %u allocation points (N = 1..%u), %.1f s",
	       variant->name, points, n, cr_now() - t0);
	TH_LOG("%s: %u failed cleanly (%u with a reason naming no cause), %u did without",
	       variant->name, failed, generic, tolerated);
	/* Many slab allocations have no fallback; page allocations may all have one. */
	if (variant->mode == FI_SLAB)
		EXPECT_LT(0, failed);
	EXPECT_EQ(0, running_and_thawed(pid, self->cgpath));
	cr_kill_wait(pid);

	/* The last image restarts, and the process finds itself whole. */
	ASSERT_EQ(0, restart_and_check(self->cg, CR_TEST_DIR "/fi.img", why, sizeof(why)))
		TH_LOG("%s: the image of the last checkpoint: %s", variant->name, why);
	self->afters++;
	EXPECT_EQ(0, log_ok(self->afters));
	close(nth);
	LOG_MEMINFO("after");
}

/* -- the write-out of a held checkpoint ---------------------------------- */

TEST_F_TIMEOUT(fi, held_write, 120)
{
	unsigned int n, points = 0, failed = 0, tolerated = 0, generic = 0;
	char why[256];
	int nth, img, err, bad = 0;
	long left, r, crid;
	double t0;
	pid_t pid;

	if (getenv("CR_TEST_DEFERRED"))
		SKIP(return, "the held write-out is swept once");
	LOG_MEMINFO("before");
	nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nth);
	pid = cr_start(self->cg, workload, NULL);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_ready(pid));
	crid = sys_checkpoint(pid, -1, CHECKPOINT_DEFERRED);
	ASSERT_LT(0, crid) TH_LOG("deferred checkpoint: %s", cr_reason(why, sizeof(why)));
	t0 = cr_now();

	for (n = 1; ; n++) {
		ASSERT_TRUE(n <= NTH_CAP && cr_now() - t0 < SWEEP_MAX_S)
			TH_LOG("%s: the write-out sweep is at N = %u after %.0f s: it does not end",
			       variant->name, n, cr_now() - t0);
		img = open(CR_TEST_DIR "/fi.img", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		ASSERT_LE(0, img);
		ASSERT_EQ(0, cr_nth_arm(nth, n));
		r = sys_checkpoint(crid, img, CHECKPOINT_CRID_WRITE);
		err = errno;
		left = cr_nth_disarm(nth);
		close(img);
		ASSERT_LE(0, left);
		why[0] = '\0';
		if (!r) {
			EXPECT_EQ(1, image_complete(CR_TEST_DIR "/fi.img"))
				TH_LOG("%s N = %u: write-out succeeded, its image is not complete",
				       variant->name, n);
			if (left)
				points = n - left;
			else
				tolerated++;
		} else {
			cr_reason(why, sizeof(why));
			ASSERT_EQ(0, left)
				TH_LOG("%s N = %u: write-out failed before the fault: %s (%s)",
				       variant->name, n, strerror(err), why);
			failed++;
			generic += generic_reason(why);
			EXPECT_EQ(ENOMEM, err)
				TH_LOG("%s N = %u: write-out failed with errno %d (%s), reason \"%s\"",
				       variant->name, n, err, strerror(err), why);
			EXPECT_NE('\0', why[0])
				TH_LOG("%s N = %u: write-out failed (%s) without a reason",
				       variant->name, n, strerror(err));
			EXPECT_EQ(0, image_complete(CR_TEST_DIR "/fi.img"))
				TH_LOG("%s N = %u: write-out failed (%s), yet its image is complete",
				       variant->name, n, why);
			/* still held, whole: the next write-out succeeds */
			ASSERT_EQ(0, cr_checkpoint_flags(crid, CR_TEST_DIR "/fi.clean.img",
							 CHECKPOINT_CRID_WRITE, why, sizeof(why)))
				TH_LOG("%s N = %u: the write-out after the failed one failed: %s",
				       variant->name, n, why);
			EXPECT_EQ(1, image_complete(CR_TEST_DIR "/fi.clean.img"));
		}
		/* a write-out does not touch the container */
		ASSERT_EQ(0, running_and_thawed(pid, self->cgpath));
		if (points)
			break;
		if (!__test_passed(_metadata) && ++bad >= BAD_MAX) {
			TH_LOG("%s: stopped at N = %u, %d iterations after the first failure",
			       variant->name, n, BAD_MAX);
			break;
		}
	}
	TH_LOG("%s: a held write-out goes through %u allocation points (N = 1..%u), %.1f s",
	       variant->name, points, n, cr_now() - t0);
	TH_LOG("%s: %u failed cleanly (%u with a reason naming no cause), %u did without",
	       variant->name, failed, generic, tolerated);
	EXPECT_EQ(0, sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP));
	cr_kill_wait(pid);

	/* The last image restarts, and the process finds itself whole. */
	ASSERT_EQ(0, restart_and_check(self->cg, CR_TEST_DIR "/fi.img", why, sizeof(why)))
		TH_LOG("%s: the image of the last write-out: %s", variant->name, why);
	self->afters++;
	EXPECT_EQ(0, log_ok(self->afters));
	close(nth);
	LOG_MEMINFO("after");
}

/* -- a process's checkpoint of itself, and its rollback ------------------ */

#define RB_LOG		CR_TEST_DIR "/fi.rb"
#define RB_STACK	(64 << 10)

enum rb_phase { RB_CKPT, RB_ROLL };

/*
 * After a deferred checkpoint every private page of the process is
 * write-protected: a store copies the page, and that allocation would
 * count down fail-nth before the test disarms it.  So the call is made
 * with pause() right after it, no store in between; the test disarms
 * the process's fail-nth (only the process's own allocations count it
 * down, not the test's reads of it) once it is in pause(), then wakes it
 * with SIGUSR1.
 */
static void rb_wake(int sig)
{
}

static long rb_call_pause(long nr, long a, long b, long c)
{
	register long r12 asm("r12");
	long ret;

	asm volatile("syscall\n\t"
		     "mov %%rax, %%r12\n\t"
		     "mov %[pause], %%eax\n\t"
		     "syscall\n\t"
		     "mov %%r12, %%rax"
		     : "=a"(ret), "=r"(r12)
		     : "0"(nr), "D"(a), "S"(b), "d"(c), [pause] "i"(__NR_pause)
		     : "rcx", "r11", "memory");
	if (ret < 0 && ret > -4096) {
		errno = -ret;
		return -1;
	}
	return ret;
}

/* Fault-in the stack the calls below use: no page fault counts down. */
static void __attribute__((noinline)) rb_touch_stack(void)
{
	volatile uint8_t buf[RB_STACK];
	size_t i;

	for (i = 0; i < sizeof(buf); i += 4096)
		buf[i] = 1;
}

/* fail-nth of the calling thread to @n, through an fd closed again. */
static int rb_arm(unsigned int n)
{
	int fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = cr_nth_arm(fd, n);
	close(fd);
	return ret;
}

/*
 * Checkpoint itself, change its memory, roll back: the allocation @n of
 * @phase fails.  Reports in RB_LOG: "crid", then "ckpt-fail ERRNO
 * INTACT reason", "roll-fail ERRNO INTACT reason" or "rolled INTACT",
 * and "drop ERRNO"; INTACT is 1 if the memory is as it must be.
 */
static int rb_child(unsigned int n, enum rb_phase phase, const uint8_t *want_a,
		    const uint8_t *want_b)
{
	struct sigaction sa = { .sa_handler = rb_wake };
	char why[256] = "", *log;
	long crid;
	int err;

	cr_quiet_fds();
	if (sigaction(SIGUSR1, &sa, NULL))
		return 2;
	cr_fill(region, REGION_SIZE, wl.seed);
	rb_touch_stack();
	if (phase == RB_CKPT && rb_arm(n))
		return 3;
	crid = rb_call_pause(__NR_checkpoint, 0, -1, CHECKPOINT_DEFERRED);
	err = errno;
	if (crid == 0) {
		cr_line(RB_LOG, "rolled %d\n", !memcmp(region, want_a, REGION_SIZE));
		log = cr_load_file(RB_LOG);
		crid = log && strstr(log, "crid ") ? atol(strstr(log, "crid ") + 5) : 0;
		goto drop;
	}
	if (crid < 0) {
		cr_line(RB_LOG, "ckpt-fail %d %d %s\n", err, !memcmp(region, want_a, REGION_SIZE),
			cr_reason(why, sizeof(why)) ?: "");
		return 0;
	}
	cr_line(RB_LOG, "crid %ld\n", crid);
	memcpy(region, want_b, REGION_SIZE);
	if (phase == RB_ROLL && rb_arm(n))
		return 4;
	rb_call_pause(__NR_restart, crid, -1, RESTART_IN_PLACE);
	err = errno;
	cr_line(RB_LOG, "roll-fail %d %d %s\n", err, !memcmp(region, want_b, REGION_SIZE),
		cr_reason(why, sizeof(why)) ?: "");
drop:
	err = sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP) ? errno : 0;
	cr_line(RB_LOG, "drop %d\n", err);
	return 0;
}

/*
 * The system call @pid is in, from /proc/PID/syscall (which reads no
 * memory of it: a peek would count as a user of its address space, and
 * restart() refuses a caller whose memory is shared), or -1 if running.
 */
static long rb_syscall(pid_t pid)
{
	char path[64], buf[128] = "";

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0 || buf[0] == 'r')
		return -1;
	return atol(buf);
}

/*
 * Disarm the fail-nth of @pid each time it is in pause(), and wake it:
 * the count left after the checkpoint, after the rollback; its exit
 * status.
 */
static int rb_watch(pid_t pid, long *left_ckpt, long *left_roll)
{
	int status, i, pauses = 0;

	*left_ckpt = *left_roll = -1;
	for (i = 0; i < 30000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return exit_code(status);
		if (rb_syscall(pid) != __NR_pause) {
			if (i > 20)
				cr_msleep(1);
			continue;
		}
		if (pauses++)
			*left_roll = cr_nth_disarm_pid(pid);
		else
			*left_ckpt = cr_nth_disarm_pid(pid);
		if (kill(pid, SIGUSR1))
			break;
		/* out of that pause(): the next one is past another call */
		while (rb_syscall(pid) == __NR_pause && i++ < 30000)
			;
	}
	cr_kill_wait(pid);
	return -1;
}

/* The "@key ..." line of the log, or NULL. */
static const char *rb_line(const char *log, const char *key)
{
	const char *p = log;

	while (p && (p = strstr(p, key)) && p != log && p[-1] != '\n')
		p++;
	return p;
}

/* Drop what a killed process left held. */
static void rb_drop_left(const char *log)
{
	const char *p = rb_line(log, "crid ");

	if (p && !rb_line(log, "drop "))
		sys_checkpoint(atoi(p + 5), -1, CHECKPOINT_CRID_DROP);
}

static void rb_sweep(struct __test_metadata *_metadata, const char *name, enum rb_phase phase,
		     const uint8_t *want_a)
{
	unsigned int n, points = 0, failed = 0, killed = 0, tolerated = 0, generic = 0;
	const char *what = phase == RB_CKPT ? "self-checkpoint" : "rollback";
	uint8_t *want_b = malloc(REGION_SIZE);
	long left_ckpt, left_roll, left;
	int st, err, intact, bad = 0;
	char why[256], *log;
	const char *p;
	double t0 = cr_now();
	pid_t pid;

	ASSERT_NE(NULL, want_b);
	cr_fill(want_b, REGION_SIZE, wl.seed ^ 0xb);
	for (n = 1; ; n++) {
		ASSERT_TRUE(n <= NTH_CAP && cr_now() - t0 < SWEEP_MAX_S)
			TH_LOG("%s: the %s sweep is at N = %u after %.0f s: it does not end",
			       name, what, n, cr_now() - t0);
		unlink(RB_LOG);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(rb_child(n, phase, want_a, want_b));
		st = rb_watch(pid, &left_ckpt, &left_roll);
		log = cr_load_file(RB_LOG);
		rb_drop_left(log);
		left = phase == RB_CKPT ? left_ckpt : left_roll;
		why[0] = '\0';
		err = intact = -1;
		if ((p = rb_line(log, phase == RB_CKPT ? "ckpt-fail " : "roll-fail "))) {
			sscanf(p, "%*s %d %d %255[^\n]", &err, &intact, why);
			failed++;
			generic += generic_reason(why);
			EXPECT_EQ(0, left)
				TH_LOG("%s N = %u: the %s failed before the fault: %d (%s)", name, n,
				       what, err, why);
			EXPECT_EQ(ENOMEM, err)
				TH_LOG("%s N = %u: the %s failed with errno %d, reason \"%s\"", name,
				       n, what, err, why);
			EXPECT_NE('\0', why[0])
				TH_LOG("%s N = %u: the %s failed without a reason", name, n, what);
			EXPECT_EQ(1, intact)
				TH_LOG("%s N = %u: the %s failed (%s) and changed the memory", name,
				       n, what, why);
		} else if ((p = rb_line(log, "rolled "))) {
			EXPECT_EQ(1, atoi(p + 7))
				TH_LOG("%s N = %u: rolled back, the memory is not as at the checkpoint",
				       name, n);
			if (left > 0)
				points = n - left;
			else
				tolerated++;
		} else if (phase == RB_ROLL && st == 128 + SIGKILL && rb_line(log, "crid ")) {
			killed++;	/* past the point of no return */
		} else {
			EXPECT_TRUE(0) TH_LOG("%s N = %u: the %s: exit status %d, log: %s", name,
					      n, what, st, log ?: "(none)");
		}
		if (!rb_line(log, "ckpt-fail ") && st != 128 + SIGKILL)
			EXPECT_EQ(0, (p = rb_line(log, "drop ")) ? atoi(p + 5) : -1)
				TH_LOG("%s N = %u: the crid was not dropped", name, n);
		EXPECT_EQ(0, st != 128 + SIGKILL ? st : 0);
		free(log);
		if (points)
			break;
		if (!__test_passed(_metadata) && ++bad >= BAD_MAX) {
			TH_LOG("%s: stopped at N = %u, %d iterations after the first failure",
			       name, n, BAD_MAX);
			break;
		}
	}
	TH_LOG("%s: a %s goes through %u allocation points (N = 1..%u), %.1f s", name, what,
	       points, n, cr_now() - t0);
	TH_LOG("%s: %u failed cleanly (%u with a reason naming no cause), %u killed past the point of no return, %u did without",
	       name, failed, generic, killed, tolerated);
	if (phase == RB_CKPT && !strcmp(name, "failslab"))
		EXPECT_LT(0, failed);
	free(want_b);
}

TEST_F_TIMEOUT(fi, rollback, 200)
{
	/* the rerun with CR_TEST_DEFERRED=1 has nothing more to sweep here */
	if (getenv("CR_TEST_DEFERRED"))
		SKIP(return, "self-checkpoints are deferred anyway");
	LOG_MEMINFO("before");
	rb_sweep(_metadata, variant->name, RB_CKPT, self->want);
	rb_sweep(_metadata, variant->name, RB_ROLL, self->want);
	unlink(RB_LOG);
	LOG_MEMINFO("after");
}

/* -- restart ------------------------------------------------------------ */

/* In the new container: restart with fail-nth @n, report if refused. */
static void restart_child(unsigned int n, int report)
{
	char buf[320];
	int img, nth, err;
	long left;

	img = open(CR_TEST_DIR "/fi.img", O_RDONLY);
	nth = open(FAIL_NTH, O_RDWR);
	if (img < 0 || nth < 0 || cr_nth_arm(nth, n)) {
		snprintf(buf, sizeof(buf), "-1 -1 cannot set up: %s", strerror(errno));
		_exit(write(report, buf, strlen(buf)) < 0 ? 126 : 124);
	}
	sys_restart(RESTART_CRID_FD, img, 0);
	err = errno;
	left = cr_nth_disarm(nth);
	snprintf(buf, sizeof(buf), "%d %ld ", err, left);
	cr_reason(buf + strlen(buf), sizeof(buf) - strlen(buf));
	if (write(report, buf, strlen(buf)) < 0)
		_exit(126);
	_exit(125);
}

TEST_F_TIMEOUT(fi, restart, 120)
{
	unsigned int n, points = 0, refused = 0, killed = 0, tolerated = 0, generic = 0;
	int report[2], status, err, how, bad = 0;
	char buf[320], why[256];
	long left, files0, files, max_files = -1;
	double t0;
	ssize_t len;
	pid_t pid;

	LOG_MEMINFO("before");
	pid = cr_start(self->cg, workload, NULL);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_ready(pid));
	/* The lease check sees a file open elsewhere: the workload's. */
	ASSERT_EQ(EAGAIN, open_elsewhere(CR_TEST_DIR "/fi.data"));
	ASSERT_EQ(0, cr_checkpoint(pid, CR_TEST_DIR "/fi.img", why, sizeof(why)))
		TH_LOG("checkpoint: %s", why);
	cr_kill_wait(pid);
	ASSERT_EQ(0, open_elsewhere(CR_TEST_DIR "/fi.data"));
	ASSERT_EQ(0, cg_empty(self->cgpath));
	cr_msleep(100);
	files0 = file_nr();
	ASSERT_LE(0, files0);

	t0 = cr_now();
	for (n = 1; ; n++) {
		ASSERT_TRUE(n <= NTH_CAP && cr_now() - t0 < SWEEP_MAX_S)
			TH_LOG("%s: the restart sweep is at N = %u after %.0f s: it does not end",
			       variant->name, n, cr_now() - t0);
		ASSERT_EQ(0, pipe2(report, O_CLOEXEC));
		pid = cr_clone(self->cg);
		ASSERT_LE(0, pid);
		if (pid == 0)
			restart_child(n, report[1]);
		close(report[1]);
		len = read(report[0], buf, sizeof(buf) - 1);
		close(report[0]);

		if (len > 0) {
			/* Refused: the caller is alive and said so. */
			buf[len] = '\0';
			why[0] = '\0';
			ASSERT_LE(2, sscanf(buf, "%d %ld %255[^\n]", &err, &left, why))
				TH_LOG("N = %u: bad report \"%s\"", n, buf);
			ASSERT_LT(0, err) TH_LOG("N = %u: %s", n, why);
			EXPECT_EQ(125, cr_wait_exit(pid))
				TH_LOG("%s N = %u: the refused restart's caller did not exit as it should",
				       variant->name, n);
			ASSERT_EQ(0, left)
				TH_LOG("%s N = %u: restart refused before the fault: %s (%s)",
				       variant->name, n, strerror(err), why);
			refused++;
			generic += generic_reason(why);
			EXPECT_EQ(ENOMEM, err)
				TH_LOG("%s N = %u: restart refused with errno %d (%s), reason \"%s\"",
				       variant->name, n, err, strerror(err), why);
			EXPECT_NE('\0', why[0])
				TH_LOG("%s N = %u: restart refused (%s) without a reason",
				       variant->name, n, strerror(err));
		} else {
			/* Past the point of no return: restored, or killed. */
			how = restored_or_gone(pid, &status);
			ASSERT_LE(0, how)
				TH_LOG("%s N = %u: the restarted container neither counts nor dies",
				       variant->name, n);
			if (how == GONE) {
				killed++;
				EXPECT_EQ(128 + SIGKILL, exit_code(status))
					TH_LOG("%s N = %u: restart failed past the point of no return, but its caller ended with %d",
					       variant->name, n, exit_code(status));
			} else {
				left = cr_nth_disarm_pid(pid);
				ASSERT_LE(0, left);
				if (left)
					points = n - left;
				else
					tolerated++;
				/* Whole, even when an allocation failed on the way? */
				ASSERT_EQ(0, cr_poke(pid, (void *)&go, 1));
				EXPECT_EQ(0, cr_wait_exit(pid))
					TH_LOG("%s N = %u: the restored process found itself wrong",
					       variant->name, n);
				self->afters++;
			}
		}

		/* Nothing left behind: no task, no open file. */
		EXPECT_EQ(0, cg_empty(self->cgpath))
			TH_LOG("%s N = %u: a task is left in the container's cgroup",
			       variant->name, n);
		files = file_nr_settle(files0);
		if (files > max_files)
			max_files = files;
		EXPECT_GE(files0 + FILE_NR_SLACK, files)
			TH_LOG("%s N = %u: %ld files open, %ld before", variant->name, n, files,
			       files0);
		EXPECT_EQ(0, open_elsewhere(CR_TEST_DIR "/fi.data"))
			TH_LOG("%s N = %u: the data file is still open", variant->name, n);
		EXPECT_EQ(0, open_elsewhere(CR_TEST_DIR "/fi.log"))
			TH_LOG("%s N = %u: the log file is still open", variant->name, n);
		EXPECT_EQ(0, open_elsewhere(CR_TEST_DIR "/fi.img"))
			TH_LOG("%s N = %u: the image is still open", variant->name, n);
		if (points)
			break;
		if (!__test_passed(_metadata) && ++bad >= BAD_MAX) {
			TH_LOG("%s: stopped at N = %u, %d iterations after the first failure",
			       variant->name, n, BAD_MAX);
			break;
		}
	}
	TH_LOG("%s: restart goes through %u allocation points (N = 1..%u), %.1f s",
	       variant->name, points, n, cr_now() - t0);
	TH_LOG("%s: %u refused (%u with a reason naming no cause), %u killed, %u did without",
	       variant->name, refused, generic, killed, tolerated);
	TH_LOG("%s: file-nr %ld before, at most %ld after a restart, %ld at the end",
	       variant->name, files0, max_files, file_nr());
	/*
	 * Restart allocates the new address space's pages only past the
	 * point of no return: with fail_page_alloc it may never refuse.
	 */
	if (variant->mode == FI_SLAB)
		EXPECT_LT(0, refused);
	EXPECT_EQ(0, log_ok(self->afters));
	LOG_MEMINFO("after");
}

TEST_HARNESS_MAIN
