// SPDX-License-Identifier: GPL-2.0
/*
 * Deferred checkpoints (CHECKPOINT_DEFERRED): the container is frozen only
 * while it is captured, its private pages held copy-on-write; the image is
 * written after the thaw, in the same call (a file) or later from a held
 * checkpoint named by a crid (CHECKPOINT_CRID_WRITE, CHECKPOINT_CRID_DROP).
 *
 *  - the memory the container overwrites after the capture (anonymous,
 *    heap, stack, the private copies of a tmpfs file's pages) comes back
 *    as it was at the capture, and the file is not changed;
 *  - a container that stamps its memory without a pause, while its image
 *    is written, restarts consistent (it checks every page itself);
 *  - a held checkpoint outlives its container until written, and is
 *    dropped once written and its container gone;
 *  - a held checkpoint written to a pipe restarts from the other end;
 *  - the errors of the crid operations, other users' crids;
 *  - holding and dropping leaks no memory; the per-user limit;
 *  - a process rolls itself back in place to a checkpoint of itself,
 *    twice: memory (anonymous, heap, stack, private file mapping),
 *    registers, descriptors, signal state as they were;
 *    the errors of a self-checkpoint and of a rollback, in their order.
 *
 * The restored programs check their own memory and say so in their exit
 * status (the details in a result file, for the log).
 */
#include "cr_test.h"

#include <linux/capability.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../kselftest_harness.h"

#define D_DIR		"/tmp/crdefer"
#define D_READY		D_DIR "/ready"
#define D_GO		D_DIR "/go"	/* the live container: overwrite, generation 1 */
#define D_DONE		D_DIR "/done"	/* ... it did */
#define D_CHECK		D_DIR "/check"	/* the restored one: check */
#define D_RESULT	D_DIR "/result"
#define D_FILE		D_DIR "/mapped"	/* on tmpfs, mapped MAP_PRIVATE */
#define D_IMG		D_DIR "/a.img"
#define D_IMG2		D_DIR "/b.img"
#define D_HELD		"/sys/kernel/checkpoint/held"
#define HELD_HEADER	"crid uid root pages records writes image_bytes"

#define ANON_SIZE	(4UL << 20)
#define SMALL_SIZE	(1UL << 20)
#define HEAP_SIZE	(1UL << 20)
#define STACK_SIZE	(16UL << 10)
#define FMAP_SIZE	(1UL << 20)
#define FMAP_COW_PAGES	192	/* written before the checkpoint; the other 64 after only */

#define W_SIZE		(32UL << 20)	/* the continuous writer's area */
#define W_PAGES		(W_SIZE / 4096)

#define HELD_USER_MAX	16
#define CYCLES		1000
#define WARMUP_CYCLES	200

enum { R_ANON = 1, R_HEAP, R_STACK, R_FMAP, R_FILE };

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "?";
}

/* The word @word of region @region, generation @gen. */
static inline uint64_t wval(uint64_t seed, uint64_t region, uint64_t gen, uint64_t word)
{
	uint64_t z = seed + (region << 56) + (gen << 48) + word;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void __attribute__((noinline)) fill(uint64_t *p, size_t len, uint64_t seed, int region,
					   uint64_t gen, uint64_t word0)
{
	size_t i;

	for (i = 0; i < len / 8; i++)
		p[i] = wval(seed, region, gen, word0 + i);
}

/* The words of @p that are not generation @gen of @region; the first in *@first. */
static unsigned long __attribute__((noinline)) count_bad(const uint64_t *p, size_t len,
							 uint64_t seed, int region, uint64_t gen,
							 uint64_t word0, long *first)
{
	unsigned long bad = 0;
	size_t i;

	if (first)
		*first = -1;
	for (i = 0; i < len / 8; i++)
		if (p[i] != wval(seed, region, gen, word0 + i) && !bad++ && first)
			*first = i;
	return bad;
}

/* -- the memory workload ------------------------------------------------------ */

struct memwl {
	uint64_t seed;
	int full;	/* a 4 MiB area, heap, stack and a private file mapping; else 1 MiB */
};

/* Where the workload's memory is, for the test to read it in the live container. */
uint64_t *volatile m_anon, *volatile m_heap, *volatile m_stack, *volatile m_fmap;
volatile uint64_t m_ticks;

static int write_mapped_file(uint64_t seed)
{
	static uint64_t page[512];
	unsigned long p;
	int fd;

	fd = open(D_FILE, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	for (p = 0; p < FMAP_SIZE / 4096; p++) {
		fill(page, sizeof(page), seed, R_FILE, 0, p * 512);
		if (write(fd, page, sizeof(page)) != sizeof(page)) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * Fill memory with generation 0 and wait.  D_GO (in the live container):
 * overwrite all of it with generation 1, even the pages of the file
 * mapping that were never written before.  D_CHECK (in the restored one):
 * check that all of it is generation 0, the file mapping's untouched
 * pages the file's contents; exit 0 if so.
 */
static int workload_mem(void *arg)
{
	const struct memwl *w = arg;
	uint64_t stack_buf[STACK_SIZE / 8], seed = w->seed;
	size_t anon_size = w->full ? ANON_SIZE : SMALL_SIZE;
	unsigned long bad[5] = {};
	long first[5] = { -1, -1, -1, -1, -1 };
	uint64_t *anon, *heap = NULL, *fmap = NULL;
	int overwritten = 0, fd;
	char buf[512];

	cr_quiet_fds();
	prctl(PR_SET_NAME, "cr-mem");
	anon = mmap(NULL, anon_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		return 10;
	fill(anon, anon_size, seed, R_ANON, 0, 0);
	m_anon = anon;
	if (w->full) {
		/* on the brk heap, not a mapping of its own */
		mallopt(M_MMAP_THRESHOLD, 16 << 20);
		heap = malloc(HEAP_SIZE);
		if (!heap)
			return 11;
		fill(heap, HEAP_SIZE, seed, R_HEAP, 0, 0);
		fill(stack_buf, STACK_SIZE, seed, R_STACK, 0, 0);
		fd = write_mapped_file(seed);
		if (fd < 0)
			return 12;
		fmap = mmap(NULL, FMAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		close(fd);
		if (fmap == MAP_FAILED)
			return 13;
		fill(fmap, FMAP_COW_PAGES * 4096UL, seed, R_FMAP, 0, 0);
		m_heap = heap;
		m_stack = stack_buf;
		m_fmap = fmap;
	}
	cr_write_str(D_READY, "1");
	for (;;) {
		m_ticks++;
		if (!overwritten && !access(D_GO, F_OK)) {
			fill(anon, anon_size, seed, R_ANON, 1, 0);
			if (w->full) {
				fill(heap, HEAP_SIZE, seed, R_HEAP, 1, 0);
				fill(stack_buf, STACK_SIZE, seed, R_STACK, 1, 0);
				fill(fmap, FMAP_SIZE, seed, R_FMAP, 1, 0);
			}
			overwritten = 1;
			cr_write_str(D_DONE, "1");
		}
		if (!access(D_CHECK, F_OK))
			break;
		cr_msleep(5);
	}

	/* -- restored (the test never makes the live one check) */
	bad[0] = count_bad(anon, anon_size, seed, R_ANON, 0, 0, &first[0]);
	if (w->full) {
		bad[1] = count_bad(heap, HEAP_SIZE, seed, R_HEAP, 0, 0, &first[1]);
		bad[2] = count_bad(stack_buf, STACK_SIZE, seed, R_STACK, 0, 0, &first[2]);
		bad[3] = count_bad(fmap, FMAP_COW_PAGES * 4096UL, seed, R_FMAP, 0, 0, &first[3]);
		bad[4] = count_bad(fmap + FMAP_COW_PAGES * 512, FMAP_SIZE - FMAP_COW_PAGES * 4096UL,
				   seed, R_FILE, 0, FMAP_COW_PAGES * 512, &first[4]);
	}
	snprintf(buf, sizeof(buf),
		 "mem: overwritten %d anon %lu (%ld) heap %lu (%ld) stack %lu (%ld) fmap %lu (%ld) fmap_file %lu (%ld)\n",
		 overwritten, bad[0], first[0], bad[1], first[1], bad[2], first[2], bad[3],
		 first[3], bad[4], first[4]);
	cr_write_str(D_RESULT, buf);
	return overwritten || bad[0] || bad[1] || bad[2] || bad[3] || bad[4];
}

/* -- the continuous writer ------------------------------------------------------ */

uint64_t *volatile w_area;
volatile uint64_t w_pos;	/* pages stamped: (gen - 1) * W_PAGES + i */

/*
 * At generation @gen, page @i next: pages [0, i) must hold @gen in their
 * first and last words, pages [i, W_PAGES) @gen - 1 (0 before the first
 * pass: the area was prefaulted with zeroes).
 */
static int writer_check(const uint64_t *area, uint64_t gen, unsigned long i)
{
	unsigned long p, bad = 0, first = 0;
	char buf[256];

	for (p = 0; p < W_PAGES; p++) {
		uint64_t want = p < i ? gen : gen - 1;

		if (area[p * 512] != want || area[p * 512 + 511] != want) {
			if (!bad++)
				first = p;
		}
	}
	if (!bad) {
		snprintf(buf, sizeof(buf), "writer: ok gen %llu page %lu\n", (unsigned long long)gen, i);
		cr_write_str(D_RESULT, buf);
		return 0;
	}
	snprintf(buf, sizeof(buf),
		 "writer: bad %lu of %lu pages at gen %llu page %lu; first: page %lu holds %llu/%llu, wants %llu\n",
		 bad, W_PAGES, (unsigned long long)gen, i, first,
		 (unsigned long long)area[first * 512], (unsigned long long)area[first * 512 + 511],
		 (unsigned long long)(first < i ? gen : gen - 1));
	cr_write_str(D_RESULT, buf);
	return 1;
}

/*
 * Stamp each page of 32 MiB with the generation, pass after pass, without
 * a pause; every 256 pages, look for D_CHECK: then check the whole area.
 */
static int workload_writer(void *arg)
{
	uint64_t *area, gen;
	unsigned long i;

	cr_quiet_fds();
	prctl(PR_SET_NAME, "cr-writer");
	area = mmap(NULL, W_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return 10;
	for (i = 0; i < W_PAGES; i++)
		area[i * 512] = area[i * 512 + 511] = 0;	/* every page present */
	w_area = area;
	cr_write_str(D_READY, "1");
	for (gen = 1;; gen++) {
		for (i = 0; i < W_PAGES; i++) {
			if (!(i % 256) && !access(D_CHECK, F_OK))
				return writer_check(area, gen, i);
			area[i * 512] = gen;
			area[i * 512 + 511] = gen;
			w_pos++;
		}
	}
}

/* -- helpers -------------------------------------------------------------------- */

struct held {
	int crid;
	unsigned int uid;
	int root;
	unsigned long long pages, records, image_bytes;
	unsigned int writes;
};

/*
 * The held checkpoints the caller sees (/sys/kernel/checkpoint/held):
 * their number, or -1 if the file cannot be read or is not as documented;
 * the line of @crid in *@h (h->crid 0 if it is not listed); their crids
 * in @crids (up to @max).
 */
static int held_list(int crid, struct held *h, int *crids, int max)
{
	char buf[8192], *line, *save;
	struct held e, dummy;
	int n = 0;

	if (!h)
		h = &dummy;
	memset(h, 0, sizeof(*h));
	if (cr_read_str(D_HELD, buf, sizeof(buf)) <= 0)
		return -1;
	/* (more columns may follow: only these are read) */
	line = strtok_r(buf, "\n", &save);
	if (!line || strncmp(line, HELD_HEADER, strlen(HELD_HEADER)) ||
	    (line[strlen(HELD_HEADER)] && line[strlen(HELD_HEADER)] != ' '))
		return -1;
	while ((line = strtok_r(NULL, "\n", &save))) {
		if (sscanf(line, "%d %u %d %llu %llu %u %llu", &e.crid, &e.uid, &e.root, &e.pages,
			   &e.records, &e.writes, &e.image_bytes) != 7 || e.crid <= 0)
			return -1;
		if (e.crid == crid)
			*h = e;
		if (crids && n < max)
			crids[n] = e.crid;
		n++;
	}
	return n;
}

static int held_count(void)
{
	return held_list(0, NULL, NULL, 0);
}

static int is_held(int crid)
{
	struct held h;

	return held_list(crid, &h, NULL, 0) >= 0 && h.crid == crid;
}

/* checkpoint(@pid, -1, CHECKPOINT_DEFERRED): the crid, or -errno with the reason in @why. */
static long hold(pid_t pid, char *why, size_t len)
{
	long r;

	why[0] = '\0';
	r = sys_checkpoint(pid, -1, CHECKPOINT_DEFERRED);
	if (r < 0) {
		r = -errno;
		cr_reason(why, len);
	}
	return r;
}

/* checkpoint(@crid, -1, CHECKPOINT_CRID_DROP): 0 or -errno, the reason in @why. */
static int drop(int crid, char *why, size_t len)
{
	why[0] = '\0';
	if (sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP)) {
		int err = errno;

		cr_reason(why, len);
		return -err;
	}
	return 0;
}

/* checkpoint(@crid, fd of @path, CHECKPOINT_CRID_WRITE | @more) */
static int crid_write(int crid, const char *path, unsigned long more, char *why, size_t len)
{
	return cr_checkpoint_flags(crid, path, CHECKPOINT_CRID_WRITE | more, why, len);
}

/* The call failed with @err and a reason. */
#define EXPECT_FAIL(ret, err) do {						\
	char __why[256] = "";							\
	long __r = (ret);							\
	int __e = errno;							\
	EXPECT_EQ(-1, __r);							\
	EXPECT_EQ(err, __e) TH_LOG("%s, not %s", errname(__e), errname(err));	\
	cr_reason(__why, sizeof(__why));					\
	EXPECT_NE(0, __why[0]);							\
	TH_LOG("%s: %s", errname(__e), __why);					\
} while (0)

static pid_t start_ready(struct __test_metadata *_metadata, int cg, int (*fn)(void *), void *arg)
{
	pid_t pid;

	unlink(D_READY);
	unlink(D_GO);
	unlink(D_DONE);
	unlink(D_CHECK);
	unlink(D_RESULT);
	pid = cr_start(cg, fn, arg);
	if (pid > 0 && cr_wait_file(D_READY, 60000)) {
		TH_LOG("the container did not get ready");
		cr_kill_wait(pid);
		return -1;
	}
	return pid;
}

/*
 * Restart from the image fd @img, the files that drive the workloads
 * gone first (the restored program must not redo what the live one did):
 * the restored process, or -1.
 */
static pid_t restart_fd(struct __test_metadata *_metadata, int cg, int img)
{
	char why[256];
	pid_t pid = -1;
	int ret;

	unlink(D_GO);
	unlink(D_DONE);
	unlink(D_CHECK);
	unlink(D_RESULT);
	ret = cr_restart_fd(cg, img, &pid, why, sizeof(why));
	if (ret) {
		TH_LOG("restart: %s: %s", errname(-ret), why);
		return -1;
	}
	return pid;
}

static pid_t restart_img(struct __test_metadata *_metadata, int cg, const char *path)
{
	int img = open(path, O_RDONLY | O_CLOEXEC);
	pid_t pid;

	if (img < 0) {
		TH_LOG("%s: %s", path, strerror(errno));
		return -1;
	}
	pid = restart_fd(_metadata, cg, img);
	close(img);
	return pid;
}

/*
 * Tell the restored @pid to check itself: its exit status, or -1; the
 * verdict, which must be of the workload @who, logged.
 */
static int check_restored(struct __test_metadata *_metadata, pid_t pid, const char *who)
{
	char res[512] = "";
	int status;

	if (cr_write_str(D_CHECK, "1"))
		return -1;
	status = cr_wait_exit_ms(pid, 60000);
	if (status < 0) {
		TH_LOG("the restored process did not end");
		cr_kill_wait(pid);
	}
	unlink(D_CHECK);
	cr_read_str(D_RESULT, res, sizeof(res));
	res[strcspn(res, "\n")] = '\0';
	TH_LOG("restored: exit status %d: %s", status, res[0] ? res : "(no result)");
	if (status == 0 && strncmp(res, who, strlen(who)))
		return -2;
	return status;
}

static int restart_and_check(struct __test_metadata *_metadata, int cg, const char *path,
			     const char *who)
{
	pid_t pid = restart_img(_metadata, cg, path);

	return pid > 0 ? check_restored(_metadata, pid, who) : -1;
}

/* The words of the region at @addr of @pid that are not generation @gen: count, or -1. */
static long live_bad(pid_t pid, uint64_t addr, size_t len, uint64_t seed, int region,
		     uint64_t gen)
{
	uint64_t *buf = malloc(len);
	struct iovec l = { buf, len }, r = { (void *)addr, len };
	long bad = -1;

	if (buf && process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)len)
		bad = count_bad(buf, len, seed, region, gen, 0, NULL);
	free(buf);
	return bad;
}

/* The words of the mapped file that are not its contents: count, or -1. */
static long file_bad(uint64_t seed)
{
	uint64_t *buf = malloc(FMAP_SIZE);
	int fd = open(D_FILE, O_RDONLY);
	long bad = -1;

	if (buf && fd >= 0 && read(fd, buf, FMAP_SIZE) == FMAP_SIZE && cr_file_size(D_FILE) ==
	    FMAP_SIZE)
		bad = count_bad(buf, FMAP_SIZE, seed, R_FILE, 0, 0, NULL);
	if (fd >= 0)
		close(fd);
	free(buf);
	return bad;
}

/* Is the image in @path complete and sound (cr_image_check())?  0 or -1, why in @why. */
static int image_complete(const char *path, char *why, size_t len)
{
	int fd = open(path, O_RDONLY), ret;
	struct stat st;
	uint8_t *img;

	if (fd < 0 || fstat(fd, &st) || st.st_size < (off_t)sizeof(struct cr_hdr_head)) {
		snprintf(why, len, "%s: cannot read it, or too short", path);
		if (fd >= 0)
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

/* The first byte where the files @a and @b differ, -1 if they are the same, -2 if unreadable. */
static long files_differ(const char *a, const char *b)
{
	char *x, *y;
	off_t sa = cr_file_size(a), sb = cr_file_size(b), i;
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
	long ret = -2;

	x = sa > 0 ? malloc(sa) : NULL;
	y = sb > 0 ? malloc(sb) : NULL;
	if (x && y && fa >= 0 && fb >= 0 && read(fa, x, sa) == sa && read(fb, y, sb) == sb) {
		ret = -1;
		for (i = 0; i < (sa < sb ? sa : sb); i++)
			if (x[i] != y[i])
				break;
		if (i < sa || i < sb)
			ret = i;
	}
	free(x);
	free(y);
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ret;
}

/* The value of @key ("MemAvailable:") in /proc/meminfo, in kB, or -1. */
static long meminfo_kb(const char *key)
{
	char buf[8192], *p;

	if (cr_read_str("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, key);
	return p ? atol(p + strlen(key)) : -1;
}

static long mem_available_kb(void)
{
	return meminfo_kb("MemAvailable:");
}

/* The memory workload's argument: not in the fixture, which is shared memory. */
static struct memwl wl;

FIXTURE(df) {
	int cg;
	char cgpath[128];
	char why[256];
};

FIXTURE_SETUP(df)
{
	mkdir(D_DIR, 0755);
	unlink(D_READY);
	unlink(D_GO);
	unlink(D_DONE);
	unlink(D_CHECK);
	unlink(D_RESULT);
	self->cg = cr_cgroup(self->cgpath, sizeof(self->cgpath));
	ASSERT_LE(0, self->cg);
	wl.seed = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	wl.full = 0;
	TH_LOG("seed %llx", (unsigned long long)wl.seed);
}

/*
 * In the parent, after the test's process ended: a FIXTURE_TEARDOWN() is
 * skipped when an ASSERT fails (the harness's child variable does not
 * survive the longjmp at -O2), which would leave the container running
 * into the next test.  (self->cg is the test process's fd, not ours.)
 */
FIXTURE_TEARDOWN_PARENT(df)
{
	int crids[64], n, i;

	/* what a failed test left running or held */
	cr_cgroup_remove(self->cgpath);
	n = held_list(0, NULL, crids, 64);
	for (i = 0; i < n && i < 64; i++)
		sys_checkpoint(crids[i], -1, CHECKPOINT_CRID_DROP);
	unlink(D_CHECK);
	unlink(D_IMG);
	unlink(D_IMG2);
	unlink(D_FILE);
}

/* -- 1. copy-on-write keeps what was captured ------------------------------------ */

TEST_F_TIMEOUT(df, cow_memory_kept, 120)
{
	uint64_t anon = 0, heap = 0, stack = 0, fmap = 0, brk_end = 0;
	double t0, t_hold, t_write;
	struct held h;
	long crid, diff;
	pid_t pid;
	int ret;

	wl.full = 1;
	pid = start_ready(_metadata, self->cg, workload_mem, &wl);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_peek(pid, (void *)&m_anon, &anon));
	ASSERT_EQ(0, cr_peek(pid, (void *)&m_heap, &heap));
	ASSERT_EQ(0, cr_peek(pid, (void *)&m_stack, &stack));
	ASSERT_EQ(0, cr_peek(pid, (void *)&m_fmap, &fmap));
	ASSERT_NE(0, anon);
	ASSERT_NE(0, heap);
	ASSERT_NE(0, stack);
	ASSERT_NE(0, fmap);
	{
		char path[64], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/maps", pid);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "[heap]"))
				sscanf(line, "%*x-%lx", &brk_end);
		if (f)
			fclose(f);
	}
	EXPECT_GT(brk_end, heap) TH_LOG("the malloc block %#llx is not on the brk heap",
					(unsigned long long)heap);

	t0 = cr_now();
	crid = hold(pid, self->why, sizeof(self->why));
	t_hold = cr_now() - t0;
	ASSERT_LT(0, crid) TH_LOG("deferred checkpoint: %s: %s", errname(-crid), self->why);
	ASSERT_EQ(1, held_count());
	held_list(crid, &h, NULL, 0);
	EXPECT_EQ(crid, h.crid);
	EXPECT_EQ(0, h.uid);
	EXPECT_EQ(pid, h.root);
	EXPECT_LT((ANON_SIZE + HEAP_SIZE + FMAP_COW_PAGES * 4096UL) / 4096, h.pages);
	EXPECT_EQ(0, h.writes);

	/* The live container overwrites everything, and really has. */
	ASSERT_EQ(0, cr_write_str(D_GO, "1"));
	ASSERT_EQ(0, cr_wait_file(D_DONE, 30000));
	EXPECT_EQ(0, live_bad(pid, anon, ANON_SIZE, wl.seed, R_ANON, 1));
	EXPECT_EQ(0, live_bad(pid, heap, HEAP_SIZE, wl.seed, R_HEAP, 1));
	EXPECT_EQ(0, live_bad(pid, stack, STACK_SIZE, wl.seed, R_STACK, 1));
	EXPECT_EQ(0, live_bad(pid, fmap, FMAP_SIZE, wl.seed, R_FMAP, 1));
	EXPECT_EQ(0, file_bad(wl.seed));

	/* Written twice: the same image, both complete. */
	t0 = cr_now();
	ret = crid_write(crid, D_IMG, 0, self->why, sizeof(self->why));
	t_write = cr_now() - t0;
	ASSERT_EQ(0, ret) TH_LOG("write: %s: %s", errname(-ret), self->why);
	ret = crid_write(crid, D_IMG2, 0, self->why, sizeof(self->why));
	ASSERT_EQ(0, ret) TH_LOG("second write: %s: %s", errname(-ret), self->why);
	held_list(crid, &h, NULL, 0);
	EXPECT_EQ(crid, h.crid);
	EXPECT_EQ(2, h.writes);
	EXPECT_EQ(cr_file_size(D_IMG2), (off_t)h.image_bytes);
	EXPECT_EQ(0, image_complete(D_IMG, self->why, sizeof(self->why)))
		TH_LOG("image: %s", self->why);
	diff = files_differ(D_IMG, D_IMG2);
	EXPECT_EQ(-1, diff) TH_LOG("the two write-outs differ at byte %ld (%lld and %lld bytes)",
				   diff, (long long)cr_file_size(D_IMG),
				   (long long)cr_file_size(D_IMG2));
	TH_LOG("hold %.3f s, write-out %.3f s: %llu pages, %llu records, %lld bytes", t_hold,
	       t_write, h.pages, h.records, (long long)cr_file_size(D_IMG));
	ASSERT_EQ(0, drop(crid, self->why, sizeof(self->why))) TH_LOG("drop: %s", self->why);
	EXPECT_EQ(0, held_count());

	cr_kill_wait(pid);
	/* Private writes left the file as it was. */
	EXPECT_EQ(0, file_bad(wl.seed));
	/* Restored from the second write-out: generation 0 everywhere. */
	EXPECT_EQ(0, restart_and_check(_metadata, self->cg, D_IMG2, "mem:"));
	EXPECT_EQ(0, file_bad(wl.seed));
}

/* -- 2. a container that writes all the time -------------------------------------- */

struct sampler {
	pid_t pid;
	volatile int stop;
	uint64_t max;		/* largest w_pos read while the call had not returned */
	int samples;
};

static void *sampler_fn(void *arg)
{
	struct sampler *s = arg;
	uint64_t v;

	while (!s->stop) {
		if (!cr_peek(s->pid, (void *)&w_pos, &v) && !s->stop) {
			if (v > s->max)
				s->max = v;
			s->samples++;
		}
		cr_msleep(2);
	}
	return NULL;
}

TEST_F_TIMEOUT(df, continuous_writer, 180)
{
	struct sampler s = {};
	uint64_t p0 = 0, p1 = 0, cap = 0;
	double t0, dt;
	pthread_t th;
	long crid;
	pid_t pid;
	int ret;

	/* (a) DEFERRED with a file: the container runs on while its image is written. */
	pid = start_ready(_metadata, self->cg, workload_writer, NULL);
	ASSERT_LT(0, pid);
	for (int i = 0; i < 500 && p0 < W_PAGES / 2; i++) {
		cr_msleep(10);
		ASSERT_EQ(0, cr_peek(pid, (void *)&w_pos, &p0));
	}
	ASSERT_LE(W_PAGES / 2, p0);
	s.pid = pid;
	ASSERT_EQ(0, pthread_create(&th, NULL, sampler_fn, &s));
	t0 = cr_now();
	ret = cr_checkpoint_flags(pid, D_IMG, CHECKPOINT_DEFERRED, self->why, sizeof(self->why));
	dt = cr_now() - t0;
	s.stop = 1;
	pthread_join(th, NULL);
	ASSERT_EQ(0, ret) TH_LOG("deferred checkpoint: %s: %s", errname(-ret), self->why);
	ASSERT_EQ(0, cr_peek(pid, (void *)&w_pos, &p1));
	ASSERT_EQ(0, cr_image_word(D_IMG, (uintptr_t)&w_pos, &cap));
	EXPECT_EQ(0, image_complete(D_IMG, self->why, sizeof(self->why)))
		TH_LOG("image: %s", self->why);
	TH_LOG("checkpoint with the write-out: %.3f s, %lld bytes; pages stamped: %llu before the call, %llu at the capture, %llu seen during the call (%d samples), %llu after",
	       dt, (long long)cr_file_size(D_IMG), (unsigned long long)p0,
	       (unsigned long long)cap, (unsigned long long)s.max, s.samples,
	       (unsigned long long)p1);
	EXPECT_LE(p0, cap);
	/* it ran, thawed, before the call had returned: while the image was written */
	EXPECT_LT(cap, s.max);
	EXPECT_EQ(0, held_count());
	cr_kill_wait(pid);
	EXPECT_EQ(0, restart_and_check(_metadata, self->cg, D_IMG, "writer:"));

	/* (b) Held, written after 200 ms of running. */
	pid = start_ready(_metadata, self->cg, workload_writer, NULL);
	ASSERT_LT(0, pid);
	cr_msleep(100);
	t0 = cr_now();
	crid = hold(pid, self->why, sizeof(self->why));
	dt = cr_now() - t0;
	ASSERT_LT(0, crid) TH_LOG("deferred checkpoint: %s: %s", errname(-crid), self->why);
	EXPECT_EQ(0, cr_running_and_thawed(pid, self->cgpath, &w_pos));
	cr_msleep(200);
	ASSERT_EQ(0, cr_peek(pid, (void *)&w_pos, &p1));
	t0 = cr_now();
	ret = crid_write(crid, D_IMG, CHECKPOINT_CRID_DROP, self->why, sizeof(self->why));
	ASSERT_EQ(0, ret) TH_LOG("write and drop: %s: %s", errname(-ret), self->why);
	EXPECT_EQ(0, is_held(crid));
	ASSERT_EQ(0, cr_image_word(D_IMG, (uintptr_t)&w_pos, &cap));
	TH_LOG("hold %.3f s, write-out %.3f s; pages stamped: %llu at the capture, %llu before the write-out (%.1f passes after the capture)",
	       dt, cr_now() - t0, (unsigned long long)cap, (unsigned long long)p1,
	       (double)(p1 - cap) / W_PAGES);
	EXPECT_LT(cap, p1);
	cr_kill_wait(pid);
	EXPECT_EQ(0, restart_and_check(_metadata, self->cg, D_IMG, "writer:"));
}

/* -- 3. a held checkpoint outlives its container ---------------------------------- */

TEST_F_TIMEOUT(df, exited_container_writes_back, 120)
{
	struct held h;
	double t0;
	long crid;
	pid_t pid;
	int ret;

	wl.full = 1;
	pid = start_ready(_metadata, self->cg, workload_mem, &wl);
	ASSERT_LT(0, pid);
	crid = hold(pid, self->why, sizeof(self->why));
	ASSERT_LT(0, crid) TH_LOG("deferred checkpoint: %s: %s", errname(-crid), self->why);
	cr_kill_wait(pid);
	ASSERT_EQ(-1, kill(pid, 0));
	ASSERT_EQ(0, cr_cg_empty(self->cgpath));
	cr_msleep(2500);
	/* never written: kept */
	ASSERT_LE(0, held_list(crid, &h, NULL, 0));
	ASSERT_EQ(crid, h.crid) TH_LOG("the held checkpoint went with its container");
	EXPECT_EQ(0, h.root);
	EXPECT_EQ(0, h.writes);
	ret = crid_write(crid, D_IMG, 0, self->why, sizeof(self->why));
	ASSERT_EQ(0, ret) TH_LOG("write: %s: %s", errname(-ret), self->why);
	EXPECT_EQ(0, restart_and_check(_metadata, self->cg, D_IMG, "mem:"));

	/* written, its container gone: dropped within a few seconds */
	t0 = cr_now();
	while (is_held(crid) && cr_now() - t0 < 3.0)
		cr_msleep(100);
	EXPECT_EQ(0, is_held(crid));
	TH_LOG("dropped %.1f s after the restored container ended", cr_now() - t0);
	EXPECT_EQ(-1, sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP));
	EXPECT_EQ(ENOENT, errno);
}

/* -- 4. written to a pipe, restarted from it -------------------------------------- */

TEST_F_TIMEOUT(df, write_to_pipe, 120)
{
	int fds[2], status;
	pid_t pid, rpid, writer;
	struct held h;
	long crid;

	pid = start_ready(_metadata, self->cg, workload_writer, NULL);
	ASSERT_LT(0, pid);
	cr_msleep(100);
	crid = hold(pid, self->why, sizeof(self->why));
	ASSERT_LT(0, crid) TH_LOG("deferred checkpoint: %s: %s", errname(-crid), self->why);
	ASSERT_EQ(0, pipe(fds));
	writer = fork();
	ASSERT_LE(0, writer);
	if (writer == 0) {
		close(fds[0]);
		if (sys_checkpoint(crid, fds[1], CHECKPOINT_CRID_WRITE))
			_exit(errno);
		_exit(0);
	}
	close(fds[1]);
	/* the container writes on meanwhile */
	rpid = restart_fd(_metadata, self->cg, fds[0]);
	close(fds[0]);
	status = cr_wait_exit(writer);
	EXPECT_EQ(0, status) TH_LOG("CHECKPOINT_CRID_WRITE to the pipe: %s", errname(status));
	ASSERT_LT(0, rpid);
	held_list(crid, &h, NULL, 0);
	EXPECT_EQ(crid, h.crid);
	EXPECT_EQ(1, h.writes);
	EXPECT_LT(W_SIZE, h.image_bytes);
	TH_LOG("%llu bytes through the pipe", h.image_bytes);
	EXPECT_EQ(0, drop(crid, self->why, sizeof(self->why))) TH_LOG("drop: %s", self->why);
	EXPECT_EQ(0, waitpid(pid, NULL, WNOHANG));	/* ran all along */
	cr_kill_wait(pid);
	EXPECT_EQ(0, check_restored(_metadata, rpid, "writer:"));
}

/* -- 5. errors ----------------------------------------------------------------- */

TEST_F_TIMEOUT(df, crid_errors, 120)
{
	int wfd, rfd, ofd, rep[2], st, held_seen = -2;
	long crid, crid2, r_write = 0, r_drop = 0;
	int e_write = 0, e_drop = 0;
	char out[1024] = "", why_w[300] = "", why_d[300] = "", *p;
	struct held h;
	pid_t pid, child;
	ssize_t n;

	pid = start_ready(_metadata, self->cg, workload_mem, &wl);
	ASSERT_LT(0, pid);
	crid = hold(pid, self->why, sizeof(self->why));
	ASSERT_LT(0, crid) TH_LOG("deferred checkpoint: %s: %s", errname(-crid), self->why);
	wfd = open(D_IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rfd = open(D_IMG, O_RDONLY);
	ofd = open(D_IMG2, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	ASSERT_LE(0, wfd);
	ASSERT_LE(0, rfd);
	ASSERT_LE(0, ofd);

	/* unknown */
	EXPECT_FAIL(sys_checkpoint(crid + 1000, -1, CHECKPOINT_CRID_DROP), ENOENT);
	EXPECT_FAIL(sys_checkpoint(crid + 1000, wfd, CHECKPOINT_CRID_WRITE), ENOENT);
	EXPECT_FAIL(sys_checkpoint(0x7fffffff, wfd, CHECKPOINT_CRID_WRITE), ENOENT);
	/* dropped twice */
	crid2 = hold(pid, self->why, sizeof(self->why));
	ASSERT_LT(0, crid2) TH_LOG("second deferred checkpoint: %s", self->why);
	EXPECT_NE(crid, crid2);
	EXPECT_EQ(0, sys_checkpoint(crid2, -1, CHECKPOINT_CRID_DROP));
	EXPECT_FAIL(sys_checkpoint(crid2, -1, CHECKPOINT_CRID_DROP), ENOENT);
	EXPECT_FAIL(sys_checkpoint(crid2, wfd, CHECKPOINT_CRID_WRITE), ENOENT);
	/* other flags */
	EXPECT_FAIL(sys_checkpoint(crid, wfd, CHECKPOINT_CRID_WRITE | CHECKPOINT_KILL), EINVAL);
	EXPECT_FAIL(sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP | CHECKPOINT_DEFERRED), EINVAL);
	EXPECT_FAIL(sys_checkpoint(crid, wfd, CHECKPOINT_CRID_WRITE | CHECKPOINT_SUBTREE), EINVAL);
	/* fds */
	EXPECT_FAIL(sys_checkpoint(crid, 1, CHECKPOINT_CRID_DROP), EBADF);
	EXPECT_FAIL(sys_checkpoint(crid, rfd, CHECKPOINT_CRID_WRITE), EBADF);
	EXPECT_FAIL(sys_checkpoint(crid, -1, CHECKPOINT_CRID_WRITE), EBADF);
	/* none of that did anything: held, unwritten; the container runs, thawed */
	ASSERT_EQ(1, held_count());
	held_list(crid, &h, NULL, 0);
	EXPECT_EQ(crid, h.crid);
	EXPECT_EQ(0, h.writes);
	EXPECT_EQ(0, cr_file_size(D_IMG));
	EXPECT_EQ(0, waitpid(pid, NULL, WNOHANG));
	EXPECT_EQ(0, cr_running_and_thawed(pid, self->cgpath, &m_ticks));

	/* another user */
	ASSERT_EQ(0, pipe(rep));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		char why[256] = "";
		long r;
		int len;

		close(rep[0]);
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		r = sys_checkpoint(crid, ofd, CHECKPOINT_CRID_WRITE);
		len = snprintf(out, sizeof(out), "write %ld %d %s\n", r, r ? errno : 0,
			       r && cr_reason(why, sizeof(why)) ? why : "");
		r = sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP);
		why[0] = '\0';
		len += snprintf(out + len, sizeof(out) - len, "drop %ld %d %s\n", r, r ? errno : 0,
				r && cr_reason(why, sizeof(why)) ? why : "");
		len += snprintf(out + len, sizeof(out) - len, "held %d\n", held_count());
		_exit(write(rep[1], out, len) == len ? 0 : 3);
	}
	close(rep[1]);
	n = read(rep[0], out, sizeof(out) - 1);
	close(rep[0]);
	st = cr_wait_exit(child);
	ASSERT_EQ(0, st);
	ASSERT_LT(0, n);
	out[n] = '\0';
	p = strstr(out, "write ");
	ASSERT_NE(NULL, p);
	EXPECT_LE(2, sscanf(p, "write %ld %d %299[^\n]", &r_write, &e_write, why_w));
	p = strstr(out, "drop ");
	ASSERT_NE(NULL, p);
	EXPECT_LE(2, sscanf(p, "drop %ld %d %299[^\n]", &r_drop, &e_drop, why_d));
	p = strstr(out, "held ");
	ASSERT_NE(NULL, p);
	held_seen = atoi(p + 5);
	TH_LOG("uid 65534: write: %s: %s; drop: %s: %s; sees %d held", errname(e_write), why_w,
	       errname(e_drop), why_d, held_seen);
	EXPECT_EQ(-1, r_write);
	EXPECT_EQ(EPERM, e_write);
	EXPECT_NE(0, why_w[0]);
	EXPECT_EQ(-1, r_drop);
	EXPECT_EQ(EPERM, e_drop);
	EXPECT_NE(0, why_d[0]);
	EXPECT_EQ(0, held_seen);
	EXPECT_EQ(0, cr_file_size(D_IMG2));

	/* still the owner's, and it works */
	held_list(crid, &h, NULL, 0);
	EXPECT_EQ(crid, h.crid);
	EXPECT_EQ(0, h.writes);
	ASSERT_EQ(0, sys_checkpoint(crid, wfd, CHECKPOINT_CRID_WRITE))
		TH_LOG("write: %s", cr_reason(self->why, sizeof(self->why)));
	EXPECT_EQ(0, drop(crid, self->why, sizeof(self->why))) TH_LOG("drop: %s", self->why);
	EXPECT_EQ(0, held_count());
	close(wfd);
	close(rfd);
	close(ofd);
	cr_kill_wait(pid);
	EXPECT_EQ(0, restart_and_check(_metadata, self->cg, D_IMG, "mem:"));
}

/* -- 6. hold and drop, again and again ------------------------------------------- */

TEST_F_TIMEOUT(df, hold_drop_cycles, 240)
{
	long before, after = 0, sunreclaim, crid;
	double t0, dt;
	pid_t pid;
	int i;

	pid = start_ready(_metadata, self->cg, workload_mem, &wl);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, held_count());
	/*
	 * Warm up: slab caches, the reaper's work, and under KASAN its
	 * quarantine of freed objects (up to 1/32 of the RAM), which would
	 * look like a leak if it filled during the cycles.
	 */
	for (i = 0; i < WARMUP_CYCLES; i++) {
		crid = hold(pid, self->why, sizeof(self->why));
		ASSERT_LT(0, crid) TH_LOG("warm-up %d: %s: %s", i, errname(-crid), self->why);
		ASSERT_EQ(0, drop(crid, self->why, sizeof(self->why)));
	}
	/*
	 * What the tests before freed may still be coming back (dying memory
	 * cgroups, RCU): a leak would hide behind it.  Wait for MemAvailable
	 * to keep within 1 MiB for a second.
	 */
	before = mem_available_kb();
	for (t0 = cr_now(); cr_now() - t0 < 10.0;) {
		cr_msleep(1000);
		after = mem_available_kb();
		if (labs(after - before) < 1024)
			break;
		before = after;
	}
	before = mem_available_kb();
	sunreclaim = meminfo_kb("SUnreclaim:");
	ASSERT_LT(0, before);
	TH_LOG("MemAvailable settled in %.1f s", cr_now() - t0);

	t0 = cr_now();
	for (i = 0; i < CYCLES; i++) {
		crid = hold(pid, self->why, sizeof(self->why));
		ASSERT_LT(0, crid) TH_LOG("cycle %d: %s: %s", i, errname(-crid), self->why);
		ASSERT_EQ(0, drop(crid, self->why, sizeof(self->why)))
			TH_LOG("cycle %d: drop: %s", i, self->why);
	}
	dt = cr_now() - t0;
	TH_LOG("%d cycles of hold and drop: %.1f s, %.2f ms a cycle", CYCLES, dt,
	       dt * 1000 / CYCLES);
	EXPECT_EQ(0, held_count());
	for (t0 = cr_now(); cr_now() - t0 < 2.0; cr_msleep(100)) {
		after = mem_available_kb();
		if (after >= before - 8192)
			break;
	}
	TH_LOG("MemAvailable: %ld kB before, %ld kB after (%+ld kB); SUnreclaim %ld kB before, %ld kB after",
	       before, after, after - before, sunreclaim, meminfo_kb("SUnreclaim:"));
	EXPECT_LE(before - 8192, after);
	/* the container ran on all along, and is as it was */
	EXPECT_EQ(0, waitpid(pid, NULL, WNOHANG));
	EXPECT_EQ(0, cr_running_and_thawed(pid, self->cgpath, &m_ticks));
	crid = hold(pid, self->why, sizeof(self->why));
	ASSERT_LT(0, crid) TH_LOG("%s: %s", errname(-crid), self->why);
	ASSERT_EQ(0, crid_write(crid, D_IMG, CHECKPOINT_CRID_DROP, self->why, sizeof(self->why)))
		TH_LOG("write and drop: %s", self->why);
	EXPECT_EQ(0, held_count());
	cr_kill_wait(pid);
	EXPECT_EQ(0, restart_and_check(_metadata, self->cg, D_IMG, "mem:"));
}

/* -- 7. the limit per user ------------------------------------------------------ */

TEST_F_TIMEOUT(df, limit_per_user, 120)
{
	long crids[HELD_USER_MAX], crid;
	pid_t pid;
	int i;

	pid = start_ready(_metadata, self->cg, workload_mem, &wl);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, held_count());
	for (i = 0; i < HELD_USER_MAX; i++) {
		crids[i] = hold(pid, self->why, sizeof(self->why));
		ASSERT_LT(0, crids[i]) TH_LOG("hold %d: %s: %s", i + 1, errname(-crids[i]),
					      self->why);
	}
	EXPECT_EQ(HELD_USER_MAX, held_count());
	crid = hold(pid, self->why, sizeof(self->why));
	EXPECT_EQ(-ENOSPC, crid) TH_LOG("hold %d: %ld", HELD_USER_MAX + 1, crid);
	EXPECT_NE(0, self->why[0]);
	TH_LOG("hold %d: %s: %s", HELD_USER_MAX + 1, errname(-crid), self->why);
	if (crid > 0)
		drop(crid, self->why, sizeof(self->why));
	EXPECT_EQ(HELD_USER_MAX, held_count());
	/* the refused one left the container running, thawed */
	EXPECT_EQ(0, cr_running_and_thawed(pid, self->cgpath, &m_ticks));

	ASSERT_EQ(0, crid_write(crids[HELD_USER_MAX - 1], D_IMG, 0, self->why, sizeof(self->why)))
		TH_LOG("write: %s", self->why);
	for (i = 0; i < HELD_USER_MAX; i++) {
		EXPECT_EQ(0, drop(crids[i], self->why, sizeof(self->why)))
			TH_LOG("drop %ld: %s", crids[i], self->why);
	}
	EXPECT_EQ(0, held_count());
	/* room again */
	crid = hold(pid, self->why, sizeof(self->why));
	EXPECT_LT(0, crid) TH_LOG("after the drops: %s: %s", errname(-crid), self->why);
	if (crid > 0) {
		EXPECT_EQ(0, drop(crid, self->why, sizeof(self->why)));
	}
	cr_kill_wait(pid);
	EXPECT_EQ(0, restart_and_check(_metadata, self->cg, D_IMG, "mem:"));
}

/* -- 8. rollback in place ("undo") --------------------------------------------- */

#define RB_LOG		D_DIR "/rollback.log"	/* what the rolled-back process found */
#define RB_CRID		D_DIR "/rollback.crid"	/* its crid: memory forgets it */
#define RB_ROLLS	D_DIR "/rollback.rolls"	/* rollbacks so far */
#define RB_FD3		D_DIR "/rollback.fd3"	/* an fd opened after the checkpoint */
#define RB_DATA		D_DIR "/rollback.data"
#define RB_ROLLBACKS	2
#define RB_ANON		(1UL << 20)
#define RB_HEAP		(256UL << 10)
#define RB_STACK	(16UL << 10)
#define RB_QUEUED	"queued before the checkpoint"
#define RB_LATE_FD	100

enum { RB_R_ANON = 11, RB_R_HEAP, RB_R_STACK, RB_R_FMAP };

#define RB_PKRU		0xaaaaaaa8U	/* write-disable keys 1-15, key 0 open */
#define RB_PKRU_AFTER	0x55555554U	/* access-disable keys 1-15 */

/*
 * A system call with r12-r15 and xmm7 loaded from @regs[0..5], which
 * get what the registers hold after it: a process rolled back comes out
 * of its checkpoint() with the registers it went in with.
 */
static long __attribute__((noinline)) sys3_regs(long nr, long a, long b, long c, uint64_t *regs)
{
	register uint64_t r12 asm("r12") = regs[0];
	register uint64_t r13 asm("r13") = regs[1];
	register uint64_t r14 asm("r14") = regs[2];
	register uint64_t r15 asm("r15") = regs[3];
	uint64_t x[2] = { regs[4], regs[5] };
	long ret;

	asm volatile("movdqu %[x], %%xmm7\n\t"
		     "syscall\n\t"
		     "movdqu %%xmm7, %[x]"
		     : "=a"(ret), "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15), [x] "+m"(x)
		     : "0"(nr), "D"(a), "S"(b), "d"(c)
		     : "rcx", "r11", "memory", "xmm7");
	regs[0] = r12;
	regs[1] = r13;
	regs[2] = r14;
	regs[3] = r15;
	regs[4] = x[0];
	regs[5] = x[1];
	if (ret < 0 && ret > -4096) {
		errno = -ret;
		return -1;
	}
	return ret;
}

static volatile sig_atomic_t rb_usr2;

static void rb_handler(int sig)
{
	rb_usr2 = sig;
}

static long rb_file_long(const char *path)
{
	char buf[32] = "";

	return cr_read_str(path, buf, sizeof(buf)) > 0 ? atol(buf) : -1;
}

static void rb_file_set(const char *path, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", v);
	cr_write_str(path, buf);
}

#define RB_BAD(...) do { cr_line(RB_LOG, __VA_ARGS__); bad++; } while (0)

/*
 * What the process changes after its checkpoint, generation @gen: all
 * its memory, its descriptors (a position moved, one closed, one opened,
 * the pipe's queue read and written), its signal mask and a handler.
 */
static void rb_mutate(uint64_t seed, uint64_t gen, uint64_t *anon, uint64_t *heap,
		      uint64_t *stack, uint64_t *fmap, int data, int data2, int *pfd)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigset_t set;
	char buf[8];
	int late;

	fill(anon, RB_ANON, seed, RB_R_ANON, gen, 0);
	fill(heap, RB_HEAP, seed, RB_R_HEAP, gen, 0);
	fill(stack, RB_STACK, seed, RB_R_STACK, gen, 0);
	fill(fmap, FMAP_SIZE, seed, RB_R_FMAP, gen, 0);
	lseek(data, 7777, SEEK_SET);
	close(data2);
	late = open(RB_DATA, O_RDONLY);
	if (late >= 0 && dup2(late, RB_LATE_FD) == RB_LATE_FD)
		rb_file_set(RB_FD3, RB_LATE_FD);
	close(late);
	if (read(pfd[0], buf, 5) != 5 || write(pfd[1], "after", 5) != 5)
		cr_line(RB_LOG, "gen %llu: the pipe did not take the changes\n",
			(unsigned long long)gen);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_SETMASK, &set, NULL);
	sigaction(SIGUSR2, &sa, NULL);
}

/*
 * The process that rolls itself back (RB_ROLLBACKS times) to a
 * checkpoint of itself, and checks after each rollback that everything
 * is as it was at the checkpoint.  Exit status 0 if so; the findings in
 * RB_LOG.
 */
static int rb_process(uint64_t seed)
{
	const uint64_t magic[6] = {
		0x1212121212121212ULL ^ seed, 0x1313131313131313ULL ^ seed,
		0x1414141414141414ULL ^ seed, 0x1515151515151515ULL ^ seed,
		0x7777777777777777ULL ^ seed, 0x7070707070707070ULL ^ ~seed,
	};
	uint64_t regs[6], stack[RB_STACK / 8], *anon, *heap, *fmap;
	struct sigaction sa = { .sa_handler = rb_handler }, old;
	int data, data2, pfd[2], bad = 0, i, fd;
	bool pkeys = have_ospke();
	pid_t me = getpid();
	char buf[64];
	sigset_t set;
	long crid, rolls, n;
	ssize_t got;

	cr_quiet_fds();
	prctl(PR_SET_NAME, "cr-rollback");
	mallopt(M_MMAP_THRESHOLD, 16 << 20);	/* the heap on brk */
	anon = mmap(NULL, RB_ANON, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	heap = malloc(RB_HEAP);
	fd = write_mapped_file(seed);
	if (anon == MAP_FAILED || !heap || fd < 0)
		return 10;
	fmap = mmap(NULL, FMAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (fmap == MAP_FAILED)
		return 11;
	fill(anon, RB_ANON, seed, RB_R_ANON, 0, 0);
	fill(heap, RB_HEAP, seed, RB_R_HEAP, 0, 0);
	fill(stack, RB_STACK, seed, RB_R_STACK, 0, 0);
	fill(fmap, FMAP_COW_PAGES * 4096UL, seed, RB_R_FMAP, 0, 0);
	data = open(RB_DATA, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (data < 0 || ftruncate(data, 8192) || lseek(data, 1234, SEEK_SET) != 1234)
		return 12;
	data2 = open(RB_DATA, O_RDONLY);
	if (data2 < 0 || lseek(data2, 99, SEEK_SET) != 99)
		return 13;
	if (pipe2(pfd, O_NONBLOCK) || write(pfd[1], RB_QUEUED, strlen(RB_QUEUED)) !=
	    (ssize_t)strlen(RB_QUEUED))
		return 14;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_SETMASK, &set, NULL);
	sigaction(SIGUSR2, &sa, NULL);

	memcpy(regs, magic, sizeof(regs));
	/* written right before: only the register has it, not the thread struct */
	if (pkeys)
		wrpkru(RB_PKRU);
	crid = sys3_regs(__NR_checkpoint, 0, -1, CHECKPOINT_DEFERRED, regs);
	if (crid < 0) {
		char why[256] = "";

		cr_line(RB_LOG, "self-checkpoint: %s: %s\n", errname(errno),
			cr_reason(why, sizeof(why)) ? why : "");
		return 15;
	}
	if (crid > 0) {
		rb_file_set(RB_CRID, crid);
		rb_file_set(RB_ROLLS, 0);
		cr_line(RB_LOG, "checkpoint of itself: crid %ld%s\n", crid,
			pkeys ? ", PKRU checked" : ", no OSPKE: PKRU not checked");
	} else {
		/* -- rolled back: everything as at the checkpoint */
		crid = rb_file_long(RB_CRID);
		rolls = rb_file_long(RB_ROLLS) + 1;
		rb_file_set(RB_ROLLS, rolls);
		cr_line(RB_LOG, "rolled back (%ld)\n", rolls);
		for (i = 0; i < 6; i++)
			if (regs[i] != magic[i])
				RB_BAD("register %d: %#llx, not %#llx\n", i,
				       (unsigned long long)regs[i], (unsigned long long)magic[i]);
		if ((n = count_bad(anon, RB_ANON, seed, RB_R_ANON, 0, 0, NULL)))
			RB_BAD("anonymous: %ld words changed\n", n);
		if ((n = count_bad(heap, RB_HEAP, seed, RB_R_HEAP, 0, 0, NULL)))
			RB_BAD("heap: %ld words changed\n", n);
		if ((n = count_bad(stack, RB_STACK, seed, RB_R_STACK, 0, 0, NULL)))
			RB_BAD("stack: %ld words changed\n", n);
		if ((n = count_bad(fmap, FMAP_COW_PAGES * 4096UL, seed, RB_R_FMAP, 0, 0, NULL)))
			RB_BAD("file mapping, written: %ld words changed\n", n);
		if ((n = count_bad(fmap + FMAP_COW_PAGES * 512,
				   FMAP_SIZE - FMAP_COW_PAGES * 4096UL, seed, R_FILE, 0,
				   FMAP_COW_PAGES * 512, NULL)))
			RB_BAD("file mapping, never written: %ld words not the file's\n", n);
		if (pkeys && rdpkru() != RB_PKRU)
			RB_BAD("PKRU %#x, not %#x\n", rdpkru(), RB_PKRU);
		if (getpid() != me)
			RB_BAD("pid %d, was %d\n", getpid(), me);
		if (lseek(data, 0, SEEK_CUR) != 1234)
			RB_BAD("fd %d at %lld, not 1234\n", data, (long long)lseek(data, 0, SEEK_CUR));
		if (lseek(data2, 0, SEEK_CUR) != 99)
			RB_BAD("closed fd %d: %s\n", data2, strerror(errno));
		n = rb_file_long(RB_FD3);
		if (n > 0 && fcntl(n, F_GETFD) != -1)
			RB_BAD("fd %ld opened after the checkpoint is still open\n", n);
		got = read(pfd[0], buf, sizeof(buf));
		if (got != (ssize_t)strlen(RB_QUEUED) || memcmp(buf, RB_QUEUED, got))
			RB_BAD("pipe: %zd bytes queued, not the %zu of before\n", got,
			       strlen(RB_QUEUED));
		else if (write(pfd[1], RB_QUEUED, got) != got)	/* for the next rollback */
			RB_BAD("pipe: cannot write\n");
		sigprocmask(SIG_SETMASK, NULL, &set);
		if (!sigismember(&set, SIGUSR1) || sigismember(&set, SIGUSR2))
			RB_BAD("signal mask not as before\n");
		sigaction(SIGUSR2, NULL, &old);
		if (old.sa_handler != rb_handler)
			RB_BAD("SIGUSR2 handler not as before\n");
		else if (kill(getpid(), SIGUSR2) || rb_usr2 != SIGUSR2)
			RB_BAD("SIGUSR2 handler did not run\n");
		rb_usr2 = 0;
		/* the heap still works */
		free(malloc(4096));
		if (bad)
			return 20;
		if (rolls >= RB_ROLLBACKS) {
			cr_line(RB_LOG, "all as before\n");
			return sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP) ? 21 : 0;
		}
	}
	rb_mutate(seed, rb_file_long(RB_ROLLS) + 1, anon, heap, stack, fmap, data, data2, pfd);
	for (i = 0; i < 6; i++)
		regs[i] = ~magic[i];
	if (pkeys)
		wrpkru(RB_PKRU_AFTER);
	sys3_regs(__NR_restart, crid, -1, RESTART_IN_PLACE, regs);
	{
		char why[256] = "";

		cr_line(RB_LOG, "restart in place: %s: %s\n", errname(errno),
			cr_reason(why, sizeof(why)) ? why : "");
	}
	return 22;
}

static void rb_log(struct __test_metadata *_metadata)
{
	char *log = cr_load_file(RB_LOG);

	TH_LOG("%s", log ? log : "(no log)");
	free(log);
}

static void rb_clean(void)
{
	unlink(RB_LOG);
	unlink(RB_CRID);
	unlink(RB_ROLLS);
	unlink(RB_FD3);
	unlink(RB_DATA);
}

TEST_F_TIMEOUT(df, rollback_in_place, 120)
{
	pid_t pid;
	int st;

	rb_clean();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(rb_process(wl.seed));
	st = cr_wait_exit_ms(pid, 90000);
	rb_log(_metadata);
	EXPECT_EQ(0, st);
	EXPECT_EQ(RB_ROLLBACKS, rb_file_long(RB_ROLLS));
	/* the file's contents are not the image's: not rolled back */
	EXPECT_EQ(8192, cr_file_size(RB_DATA));
	EXPECT_EQ(0, held_count());
	rb_clean();
}

/* A child that checkpoints itself, then calls restart() in place with @flags. */
struct rb_try {
	int children;		/* has a child at the checkpoint */
	int threads;		/* has a thread at the checkpoint */
	int late_child;		/* forks after the checkpoint, then reaps it */
	uid_t uid;		/* checkpoints itself as @uid (0: stays root) */
	int keep_cap;		/* as @uid, with CAP_CHECKPOINT_RESTORE */
	int bound;		/* has a unix socket bound to an abstract name */
	int memlock;		/* as @uid, checks the RLIMIT_MEMLOCK charge */
	long crid;		/* another process's crid to roll back to */
};

static void *rb_idle(void *arg)
{
	pause();
	return NULL;
}

/*
 * Unprivileged, a held checkpoint's pages are charged to the user's
 * locked memory: with RLIMIT_MEMLOCK at 1.5 times one self-checkpoint, a
 * second one is refused until the first is dropped.
 */
static int rb_memlock(const struct rb_try *t)
{
	char why[256] = "";
	struct rlimit rl;
	struct held h;
	long a, b;

	a = sys_checkpoint(0, -1, CHECKPOINT_DEFERRED);
	if (a <= 0 || held_list(a, &h, NULL, 0) < 0 || h.crid != a || !h.pages)
		return 5;
	rl.rlim_cur = rl.rlim_max = h.pages * 4096 * 3 / 2;
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return 6;
	b = sys_checkpoint(0, -1, CHECKPOINT_DEFERRED);
	cr_line(RB_LOG, "second %d %s\n", b > 0 ? 0 : errno, cr_reason(why, sizeof(why)) ?: "");
	if (b > 0)
		sys_checkpoint(b, -1, CHECKPOINT_CRID_DROP);
	if (sys_checkpoint(a, -1, CHECKPOINT_CRID_DROP))
		return 7;
	b = sys_checkpoint(0, -1, CHECKPOINT_DEFERRED);
	cr_line(RB_LOG, "after the drop %d %s\n", b > 0 ? 0 : errno,
		b > 0 ? "" : cr_reason(why, sizeof(why)) ?: "");
	if (b > 0 && sys_checkpoint(b, -1, CHECKPOINT_CRID_DROP))
		return 8;
	return 0;
}

/* Only CAP_CHECKPOINT_RESTORE, effective (kept across setresuid()). */
static int rb_cap_restore(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};

	data[CAP_CHECKPOINT_RESTORE / 32].permitted = 1U << (CAP_CHECKPOINT_RESTORE % 32);
	data[CAP_CHECKPOINT_RESTORE / 32].effective = 1U << (CAP_CHECKPOINT_RESTORE % 32);
	return syscall(SYS_capset, &hdr, data);
}

static int rb_try_process(const struct rb_try *t)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX }, got;
	socklen_t alen = 0, glen = sizeof(got);
	uint64_t regs[6] = {};
	char why[256] = "";
	int sk = -1;
	pthread_t th;
	pid_t c = -1;
	long crid;

	cr_quiet_fds();
	if (t->keep_cap && prctl(PR_SET_KEEPCAPS, 1))
		return 2;
	if (t->uid && (setresgid(t->uid, t->uid, t->uid) || setresuid(t->uid, t->uid, t->uid)))
		return 2;
	if (t->keep_cap && rb_cap_restore())
		return 2;
	/* the uid change made it non-dumpable, which may not checkpoint itself */
	if (t->uid && prctl(PR_SET_DUMPABLE, 1))
		return 2;
	if (t->memlock)
		return rb_memlock(t);
	if (t->crid) {
		sys_restart(t->crid, -1, RESTART_IN_PLACE);
		cr_line(RB_LOG, "other's %d %s\n", errno, cr_reason(why, sizeof(why)) ?: "");
		return 0;
	}
	if (t->children && (c = fork()) == 0) {
		pause();
		_exit(0);
	}
	if (t->threads && pthread_create(&th, NULL, rb_idle, NULL))
		return 3;
	if (t->bound) {
		snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "cr-rollback-%d", getpid());
		alen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sun.sun_path + 1);
		sk = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (sk < 0 || bind(sk, (struct sockaddr *)&sun, alen))
			return 4;
	}
	crid = sys3_regs(__NR_checkpoint, 0, -1, CHECKPOINT_DEFERRED, regs);
	if (crid == 0) {
		crid = rb_file_long(RB_CRID);
		if (t->bound)
			cr_line(RB_LOG, "name back %d\n",
				getsockname(sk, (struct sockaddr *)&got, &glen) ? errno :
				glen != alen || memcmp(&got, &sun, alen) ? -2 : 0);
		cr_line(RB_LOG, "rolled back, drop %d\n",
			sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP) ? errno : 0);
		return 0;
	}
	rb_file_set(RB_CRID, crid);
	if (crid < 0) {
		cr_line(RB_LOG, "checkpoint %d %s\n", errno, cr_reason(why, sizeof(why)) ?: "");
		if (c > 0)
			kill(c, SIGKILL);
		return 0;
	}
	if (t->late_child) {
		c = fork();
		if (c == 0) {
			pause();
			_exit(0);
		}
		sys_restart(crid, -1, RESTART_IN_PLACE);
		cr_line(RB_LOG, "with a child %d %s\n", errno, cr_reason(why, sizeof(why)) ?: "");
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
	}
	if (t->bound) {
		/* its own socket holds the name: refused, before any change */
		sys_restart(crid, -1, RESTART_IN_PLACE);
		cr_line(RB_LOG, "bound %d %s\n", errno, cr_reason(why, sizeof(why)) ?: "");
		close(sk);
	}
	/* the order of the checks: flags, crid, fd, permission, caller */
	sys_restart(crid, 5, RESTART_IN_PLACE | RESTART_FROZEN);
	cr_line(RB_LOG, "frozen %d\n", errno);
	sys_restart(0, 5, RESTART_IN_PLACE);
	cr_line(RB_LOG, "crid0 %d\n", errno);
	sys_restart(crid + 1000, 5, RESTART_IN_PLACE);
	cr_line(RB_LOG, "unknown %d\n", errno);
	sys_restart(crid, 5, RESTART_IN_PLACE);
	cr_line(RB_LOG, "fd %d\n", errno);
	sys_restart(crid, -1, RESTART_IN_PLACE);
	cr_line(RB_LOG, "in place %d %s\n", errno, cr_reason(why, sizeof(why)) ?: "");
	sys_checkpoint(crid, -1, CHECKPOINT_CRID_DROP);
	return 0;
}

/* Run @t in a child: its log (to free), its exit status in *@st. */
static char *rb_run(const struct rb_try *t, int *st)
{
	pid_t pid;
	int fd;

	/* the child may write it as another user */
	fd = open(RB_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0 || fchmod(fd, 0666))
		return NULL;
	close(fd);
	pid = fork();
	if (pid < 0)
		return NULL;
	if (pid == 0)
		_exit(rb_try_process(t));
	*st = cr_wait_exit_ms(pid, 30000);
	return cr_load_file(RB_LOG);
}

/* The errno of line @key of @log (its line in @line), or -1 if none. */
static int rb_err(struct __test_metadata *_metadata, const char *log, const char *key,
		  char *line, size_t len)
{
	const char *p = log ? strstr(log, key) : NULL;
	int err = -1;

	line[0] = '\0';
	if (p && sscanf(p + strlen(key), " %d", &err) == 1) {
		snprintf(line, len, "%.*s", (int)strcspn(p, "\n"), p);
		TH_LOG("%s", line);
	}
	return err;
}

TEST_F_TIMEOUT(df, rollback_errors, 120)
{
	struct rb_try t = {};
	char line[512], *log;
	long crid;
	pid_t pid;
	int st = -1;

	/* pid 0 is held: DEFERRED with fd -1 only */
	EXPECT_FAIL(sys_checkpoint(0, -1, 0), EINVAL);
	EXPECT_FAIL(sys_checkpoint(0, 1, CHECKPOINT_DEFERRED), EINVAL);
	EXPECT_FAIL(sys_restart(0, -1, RESTART_IN_PLACE), EINVAL);
	EXPECT_FAIL(sys_restart(0x7fffffff, -1, RESTART_IN_PLACE), ENOENT);

	/* alone: no child, no other thread, at the checkpoint */
	t.children = 1;
	log = rb_run(&t, &st);
	EXPECT_EQ(0, st);
	EXPECT_EQ(EOPNOTSUPP, rb_err(_metadata, log, "checkpoint", line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "children"));
	free(log);
	t.children = 0;
	t.threads = 1;
	log = rb_run(&t, &st);
	EXPECT_EQ(0, st);
	EXPECT_EQ(EOPNOTSUPP, rb_err(_metadata, log, "checkpoint", line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "threads"));
	free(log);
	t.threads = 0;

	/* ...nor at the rollback; then the argument checks, in order, and it works */
	t.late_child = 1;
	log = rb_run(&t, &st);
	EXPECT_EQ(0, st);
	EXPECT_EQ(EINVAL, rb_err(_metadata, log, "with a child", line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "children"));
	EXPECT_EQ(EINVAL, rb_err(_metadata, log, "frozen", line, sizeof(line)));
	EXPECT_EQ(EINVAL, rb_err(_metadata, log, "crid0", line, sizeof(line)));
	EXPECT_EQ(ENOENT, rb_err(_metadata, log, "unknown", line, sizeof(line)));
	EXPECT_EQ(EBADF, rb_err(_metadata, log, "fd", line, sizeof(line)));
	EXPECT_EQ(-1, rb_err(_metadata, log, "in place", line, sizeof(line)));
	EXPECT_EQ(0, rb_err(_metadata, log, "rolled back, drop", line, sizeof(line)));
	free(log);
	t.late_child = 0;
	EXPECT_EQ(0, held_count());

	/* a name its socket still holds cannot be taken again; once closed, it is */
	t.bound = 1;
	log = rb_run(&t, &st);
	EXPECT_EQ(0, st);
	EXPECT_EQ(EADDRINUSE, rb_err(_metadata, log, "bound", line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "abstract name"));
	EXPECT_EQ(0, rb_err(_metadata, log, "name back", line, sizeof(line)));
	EXPECT_EQ(0, rb_err(_metadata, log, "rolled back, drop", line, sizeof(line)));
	free(log);
	t.bound = 0;
	EXPECT_EQ(0, held_count());

	/* unprivileged: it may checkpoint itself, not roll back */
	t.uid = 65534;
	log = rb_run(&t, &st);
	EXPECT_EQ(0, st);
	EXPECT_EQ(EBADF, rb_err(_metadata, log, "fd", line, sizeof(line)));
	EXPECT_EQ(EPERM, rb_err(_metadata, log, "in place", line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "CAP_CHECKPOINT_RESTORE"));
	free(log);
	t.uid = 0;
	EXPECT_EQ(0, held_count());

	/* unprivileged, held pages are charged to RLIMIT_MEMLOCK */
	t.uid = 65534;
	t.memlock = 1;
	log = rb_run(&t, &st);
	EXPECT_EQ(0, st);
	EXPECT_EQ(ENOSPC, rb_err(_metadata, log, "second", line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "RLIMIT_MEMLOCK"));
	EXPECT_EQ(0, rb_err(_metadata, log, "after the drop", line, sizeof(line)));
	free(log);
	t.uid = 0;
	t.memlock = 0;
	EXPECT_EQ(0, held_count());

	/* another process's checkpoint */
	pid = start_ready(_metadata, self->cg, workload_mem, &wl);
	ASSERT_LT(0, pid);
	crid = hold(pid, self->why, sizeof(self->why));
	ASSERT_LT(0, crid) TH_LOG("deferred checkpoint: %s", self->why);
	t.crid = crid;
	log = rb_run(&t, &st);
	EXPECT_EQ(0, st);
	EXPECT_EQ(EINVAL, rb_err(_metadata, log, "other's", line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "not of the calling process"));
	free(log);
	/* another user's, with the capability: the owner is checked first */
	t.uid = 65534;
	t.keep_cap = 1;
	log = rb_run(&t, &st);
	EXPECT_EQ(0, st);
	EXPECT_EQ(EPERM, rb_err(_metadata, log, "other's", line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "another user's"));
	free(log);
	t.uid = 0;
	t.keep_cap = 0;
	EXPECT_EQ(0, drop(crid, self->why, sizeof(self->why)));
	EXPECT_EQ(0, cr_running_and_thawed(pid, self->cgpath, &m_ticks));
	cr_kill_wait(pid);
	EXPECT_EQ(0, held_count());
	unlink(RB_LOG);
}

TEST_HARNESS_MAIN
