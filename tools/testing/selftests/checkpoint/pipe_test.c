// SPDX-License-Identifier: GPL-2.0
/*
 * Pipes and FIFOs: containers fill them with known bytes, are
 * checkpointed, killed and restarted; the restored processes then read
 * every byte back and check it, and check what else the restored pipes
 * say of themselves (F_GETPIPE_SZ, FIONREAD, F_GETFL, EOF, EPIPE).
 *
 * Cases: unread data of a pipe shared by init and its children (a few
 * bytes, a full default pipe, a full 1 MiB pipe, a full pipe whose queue
 * wraps around its ring); flags of each open file description, one
 * description shared by two processes; packets of an O_DIRECT pipe; a
 * pipe with only its read end left (data, then EOF) or only its write
 * end (EPIPE, or death by SIGPIPE); a reader blocked on an empty pipe
 * and a writer blocked on a full one; named FIFOs reopened by path; a
 * pipe with an end outside the container (EBUSY, the container goes on);
 * a busybox sh pipeline whose output goes on with no gap nor duplicate.
 *
 * The processes of a container wait for PT_GO, which the test creates
 * once the container is restarted; each then runs its checks and says
 * "ok NAME" or "FAIL NAME: ..." in PT_RES; the restored init reaps its
 * children, checks how each ended, and exits 0 if all went well.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include "cr_test.h"
#include "../kselftest_harness.h"

#define PT_DIR		CR_TEST_DIR "/pipe"
#define PT_GO		PT_DIR "/go"
#define PT_READY	PT_DIR "/ready"
#define PT_RES		PT_DIR "/res"
#define PT_IMG		PT_DIR "/image"
#define PT_FIFO		PT_DIR "/fifo"
#define PT_FIFO2	PT_DIR "/fifo2"
#define PT_CHECKED	PT_DIR "/checked"
#define PT_SET		PT_DIR "/set"
#define PT_OUT		PT_DIR "/out"

#define PT_DEF_SIZE	65536	/* a new pipe's capacity */
#define PT_MAX_PKT	4096	/* PIPE_BUF: one write, one packet */

/* -- in the container --------------------------------------------------------- */

static const char *pt_who = "pt-init";
volatile uint64_t pt_counter;

static int pt_failed;

/* "FAIL who: ..." in the results: the process will exit 1. */
static void __attribute__((format(printf, 1, 2))) pt_note(const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cr_line(PT_RES, "FAIL %s: %s\n", pt_who, msg);
	pt_failed = 1;
}

/* A check that the process goes on after... */
#define PT_EXPECT(cond, fmt, ...) do {						\
	if (!(cond))								\
		pt_note("line %d: %s: " fmt, __LINE__, #cond, ##__VA_ARGS__);	\
} while (0)

/* ...and one that ends it. */
#define PT_CHECK(cond, fmt, ...) do {						\
	if (!(cond)) {								\
		pt_note("line %d: %s: " fmt, __LINE__, #cond, ##__VA_ARGS__);	\
		_exit(1);							\
	}									\
} while (0)

static void pt_ready(void)
{
	cr_line(PT_READY, "%s\n", pt_who);
}

static void pt_wait_go(void)
{
	while (access(PT_GO, F_OK))
		cr_msleep(10);
}

static void pt_enter(int keep)
{
	cr_quiet_fds_keep(keep);
	prctl(PR_SET_NAME, pt_who);
}

/* fork() a child named @name that runs @fn(@arg), then says "ok". */
static pid_t pt_spawn(const char *name, void (*fn)(long), long arg)
{
	pid_t c = fork();

	PT_CHECK(c >= 0, "fork: %m");
	if (c == 0) {
		pt_who = name;
		prctl(PR_SET_NAME, name);
		fn(arg);
		if (pt_failed)
			_exit(1);
		cr_line(PT_RES, "ok %s\n", name);
		_exit(0);
	}
	return c;
}

/* Reap @pid, which must end with exit status 0, or be killed by @sig. */
static void pt_reap(pid_t pid, const char *name, int sig)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		PT_CHECK(errno == EINTR, "waitpid %s: %m", name);
	if (sig)
		PT_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == sig,
			 "%s ended with status %#x, not killed by signal %d", name, st, sig);
	else
		PT_CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "%s ended with status %#x",
			 name, st);
}

/* The end of init once its children are reaped: 0, or 1 if a check failed. */
static int pt_done(void)
{
	if (pt_failed)
		return 1;
	cr_line(PT_RES, "ok %s\n", pt_who);
	return 0;
}

/* Write @len bytes of @seed from @pos, looping on short writes (and EINTR). */
static void pt_write_stream(int fd, uint64_t seed, uint64_t pos, size_t len, size_t chunk)
{
	static uint8_t buf[PT_DEF_SIZE];
	size_t done = 0, n, off;
	ssize_t w;

	while (done < len) {
		n = len - done < chunk ? len - done : chunk;
		if (n > sizeof(buf))
			n = sizeof(buf);
		cr_pattern(buf, n, seed, pos + done);
		for (off = 0; off < n; off += w) {
			w = write(fd, buf + off, n - off);
			if (w < 0 && errno == EINTR) {
				cr_line(PT_RES, "info %s: write returned EINTR\n", pt_who);
				w = 0;
				continue;
			}
			PT_CHECK(w > 0, "write of byte %zu of %zu: %m", done + off, len);
		}
		done += n;
	}
}

/* Read exactly @len bytes of @seed from @pos; EOF or an error before is a failure. */
static void pt_read_stream(int fd, uint64_t seed, uint64_t pos, size_t len, const char *what)
{
	static uint8_t buf[PT_DEF_SIZE];
	size_t done = 0;
	ssize_t r;
	long bad;

	while (done < len) {
		r = read(fd, buf, len - done < sizeof(buf) ? len - done : sizeof(buf));
		if (r < 0 && errno == EINTR) {
			cr_line(PT_RES, "info %s: read returned EINTR\n", pt_who);
			continue;
		}
		PT_CHECK(r > 0, "%s: read at byte %zu of %zu: %zd (%m)", what, done, len, r);
		bad = cr_mismatch(buf, r, seed, pos + done);
		PT_CHECK(bad < 0, "%s: byte %zu of %zu is %#x, expected %#x", what,
			 done + bad, len, buf[bad], cr_pat_byte(seed, pos + done + bad));
		done += r;
	}
}

/* The next read of @fd says EOF, within 10 s: no write end is left, no byte. */
static void pt_expect_eof(int fd, const char *what)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;
	int n;

	n = poll(&pfd, 1, 10000);
	PT_CHECK(n == 1, "%s: no EOF within 10 s (a write end is still open?)", what);
	n = read(fd, &c, 1);
	PT_CHECK(n == 0, "%s: read returned %d (%m), expected EOF", what, n);
}

static int pt_nread(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n))
		return -1;
	return n;
}

/* -- the test's view ------------------------------------------------------------- */

struct pt_env {
	int cg;
	char cgpath[128];
	char why[512];
	pid_t init;		/* host pid of the container's init, or -1 */
};

static void pt_env_setup(struct pt_env *e)
{
	static const char *const files[] = {
		PT_GO, PT_READY, PT_RES, PT_IMG, PT_FIFO, PT_FIFO2, PT_CHECKED, PT_SET, PT_OUT,
	};
	unsigned int i;

	mkdir(CR_TEST_DIR, 0755);
	mkdir(PT_DIR, 0755);
	for (i = 0; i < ARRAY_SIZE(files); i++)
		unlink(files[i]);
	e->cg = cr_cgroup(e->cgpath, sizeof(e->cgpath));
	e->init = -1;
}

static void pt_env_teardown(struct pt_env *e)
{
	if (e->init > 0)
		cr_kill_wait(e->init);
	cr_cgroup_remove(e->cgpath);
	close(e->cg);
}

/*
 * Wait up to @ms for the descendant of @root named @name to sleep in
 * the system call @nr: 0, or -1 with what it was doing in @msg.
 */
static int pt_wait_blocked(pid_t root, const char *name, int nr, int ms, char *msg, size_t len)
{
	char path[64], sc[256], st[512];
	pid_t pid = -1;
	char *p;

	snprintf(msg, len, "no process %s", name);
	for (; ms > 0; ms -= 50, cr_msleep(50)) {
		if (pid < 0)
			pid = cr_find_below(root, name);
		if (pid < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
		if (cr_read_str(path, sc, sizeof(sc)) <= 0)
			sc[0] = '\0';
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if (cr_read_str(path, st, sizeof(st)) <= 0)
			st[0] = '\0';
		p = strrchr(st, ')');
		snprintf(msg, len, "%s (pid %d): state %c, syscall '%.40s'", name, pid,
			 p && p[1] ? p[2] : '?', sc);
		if (p && p[1] && p[2] == 'S' && sc[0] >= '0' && sc[0] <= '9' && atoi(sc) == nr)
			return 0;
	}
	return -1;
}

/* Start @fn as a container; wait for @ready of its processes to be set up. */
static void pt_start(struct __test_metadata *_metadata, struct pt_env *e, int (*fn)(void *),
		     int ready)
{
	int i, got = 0;

	ASSERT_LE(0, e->cg);
	e->init = cr_start(e->cg, fn, NULL);
	ASSERT_LT(0, e->init);
	for (i = 0; i < 3000 && (got = cr_count_lines(PT_READY, "")) < ready; i++) {
		if (cr_count_lines(PT_RES, "FAIL"))
			break;
		cr_msleep(20);
	}
	ASSERT_EQ(ready, got) {
		char *res = cr_load_file(PT_RES);

		TH_LOG("%d of %d processes set up; results: %s", got, ready, res);
		free(res);
	}
	cr_msleep(100);		/* into their waits */
}

/* checkpoint(@flags), kill, restart: e->init is then the restored init. */
static void pt_cycle(struct __test_metadata *_metadata, struct pt_env *e, unsigned long flags)
{
	double t0 = cr_now();
	int ret;

	ret = cr_checkpoint_flags(e->init, PT_IMG, flags, e->why, sizeof(e->why));
	ASSERT_EQ(0, ret) TH_LOG("checkpoint: %s (%s)", strerror(-ret), e->why);
	/* Frozen first: killed, no task of it sees another die and reports it. */
	EXPECT_EQ(0, cr_freeze_cg(e->cgpath));
	cr_kill_wait(e->init);
	e->init = -1;
	ASSERT_EQ(0, cr_cg_empty(e->cgpath));
	{
		char path[300];

		snprintf(path, sizeof(path), "%s/cgroup.freeze", e->cgpath);
		ASSERT_EQ(0, cr_write_str(path, "0"));
	}
	TH_LOG("checkpoint and kill: %.1f s, image of %lld bytes", cr_now() - t0,
	       (long long)cr_file_size(PT_IMG));
	t0 = cr_now();
	ret = cr_restart_img(e->cg, PT_IMG, &e->init, e->why, sizeof(e->why));
	if (ret)
		e->init = -1;
	ASSERT_EQ(0, ret) TH_LOG("restart: %s (%s)", strerror(-ret), e->why);
	TH_LOG("restart: %.1f s", cr_now() - t0);
}

/*
 * Let the restored container go: its init must exit 0 within 60 s, with
 * "ok" from @nok processes and no failure in the results.
 */
static void pt_finish(struct __test_metadata *_metadata, struct pt_env *e, int nok)
{
	char *res;
	int st;

	ASSERT_EQ(0, cr_write_str(PT_GO, "1"));
	st = cr_wait_exit_ms(e->init, 60000);
	if (st >= 0)
		e->init = -1;
	res = cr_load_file(PT_RES);
	EXPECT_EQ(0, st) TH_LOG("the container's init: exit status %d (-1: still running)",
				st);
	EXPECT_EQ(NULL, strstr(res, "FAIL"));
	EXPECT_EQ(nok, cr_count_lines(PT_RES, "ok "));
	if (!__test_passed(_metadata) || strstr(res, "info"))
		TH_LOG("results:\n%s", res);
	free(res);
}

FIXTURE(pt) {
	struct pt_env e;
};

FIXTURE_SETUP(pt)
{
	pt_env_setup(&self->e);
	ASSERT_LE(0, self->e.cg);
}

FIXTURE_TEARDOWN(pt)
{
	pt_env_teardown(&self->e);
}

/* -- 1. unread data of a pipe shared by init and its children ------------------ */

/*
 * Init makes a pipe (of @setsz bytes, if set) and forks W and H.  W
 * writes @first bytes; init reads @pre_read of them; W writes @second
 * more (the queue then wraps around the pipe's ring).  H holds both ends.
 * After restart: the capacity and count of queued bytes are as before,
 * init reads every byte, and EOF once W and H have closed their ends.
 */
static struct {
	size_t setsz, first, pre_read, second;
	int p[2];
	int size;	/* F_GETPIPE_SZ before the checkpoint */
} dt;

#define DT_SEED	0x1234

static void dt_writer(long unused)
{
	close(dt.p[0]);
	pt_write_stream(dt.p[1], DT_SEED, 0, dt.first, dt.first);
	pt_write_stream(dt.p[1], DT_SEED, dt.first, dt.second, dt.second);
	pt_ready();
	pt_wait_go();
	PT_CHECK(fcntl(dt.p[1], F_GETPIPE_SZ) == dt.size, "%d", fcntl(dt.p[1], F_GETPIPE_SZ));
	PT_CHECK((fcntl(dt.p[1], F_GETFL) & O_ACCMODE) == O_WRONLY, "%#x",
		 fcntl(dt.p[1], F_GETFL));
	close(dt.p[1]);
}

static void dt_holder(long unused)
{
	pt_ready();
	pt_wait_go();
	PT_CHECK(fcntl(dt.p[0], F_GETPIPE_SZ) == dt.size, "%d", fcntl(dt.p[0], F_GETPIPE_SZ));
	PT_CHECK(fcntl(dt.p[1], F_GETPIPE_SZ) == dt.size, "%d", fcntl(dt.p[1], F_GETPIPE_SZ));
	close(dt.p[0]);
	close(dt.p[1]);
}

static int wl_data(void *arg)
{
	size_t queued = dt.first + dt.second - dt.pre_read;
	pid_t w, h;

	pt_enter(-1);
	PT_CHECK(!pipe(dt.p), "%m");
	if (dt.setsz)
		PT_CHECK(fcntl(dt.p[1], F_SETPIPE_SZ, dt.setsz) == (int)dt.setsz, "%m");
	dt.size = fcntl(dt.p[0], F_GETPIPE_SZ);
	w = pt_spawn("pt-writer", dt_writer, 0);
	h = pt_spawn("pt-holder", dt_holder, 0);
	close(dt.p[1]);
	pt_read_stream(dt.p[0], DT_SEED, 0, dt.pre_read, "before the checkpoint");
	pt_ready();
	pt_wait_go();
	PT_CHECK(dt.size == (int)(dt.setsz ? dt.setsz : PT_DEF_SIZE), "%d", dt.size);
	PT_CHECK(fcntl(dt.p[0], F_GETPIPE_SZ) == dt.size, "%d, %d before",
		 fcntl(dt.p[0], F_GETPIPE_SZ), dt.size);
	PT_CHECK(pt_nread(dt.p[0]) == (int)queued, "%d bytes queued, %zu before",
		 pt_nread(dt.p[0]), queued);
	pt_read_stream(dt.p[0], DT_SEED, dt.pre_read, queued, "queued bytes");
	pt_reap(w, "pt-writer", 0);
	pt_reap(h, "pt-holder", 0);
	pt_expect_eof(dt.p[0], "once the writers closed");
	return pt_done();
}

FIXTURE(data) {
	struct pt_env e;
};

FIXTURE_VARIANT(data) {
	size_t setsz, first, pre_read, second;
};

FIXTURE_VARIANT_ADD(data, few_bytes) { .first = 13 };
FIXTURE_VARIANT_ADD(data, full_default) { .first = PT_DEF_SIZE };
FIXTURE_VARIANT_ADD(data, full_1m) { .setsz = 1 << 20, .first = 1 << 20 };
/* 7 pages and 1328 bytes read: 7 pages free, the queue wraps. */
FIXTURE_VARIANT_ADD(data, full_wrapped) {
	.first = PT_DEF_SIZE, .pre_read = 30000, .second = 7 * 4096
};

FIXTURE_SETUP(data)
{
	pt_env_setup(&self->e);
	ASSERT_LE(0, self->e.cg);
}

FIXTURE_TEARDOWN(data)
{
	pt_env_teardown(&self->e);
}

TEST_F_TIMEOUT(data, shared, 120)
{
	dt.setsz = variant->setsz;
	dt.first = variant->first;
	dt.pre_read = variant->pre_read;
	dt.second = variant->second;
	pt_start(_metadata, &self->e, wl_data, 3);
	pt_cycle(_metadata, &self->e, 0);
	pt_finish(_metadata, &self->e, 3);
}

/* -- 2. flags of each open file description ------------------------------------ */

/*
 * Pipe A: its read end O_NONBLOCK, its write end O_APPEND, and a dup()
 * of the write end.  Pipe B made O_NONBLOCK, and C, a second (blocking)
 * file description of B's read end, opened through /proc/self/fd.  Init
 * and S share them all.  After restart, F_GETFL of each is as before, in
 * both; the nonblocking ends do not block; S then makes A's read end
 * blocking and C nonblocking, init sees both, and B's read end is as it
 * was; init makes the dup nonblocking, and A's write end is too.
 */
enum { FL_A0, FL_A1, FL_B0, FL_B1, FL_C, FL_D, FL_NR };

static const char *const fl_name[FL_NR] = { "A0", "A1", "B0", "B1", "C", "D" };

static struct {
	int fd[FL_NR];
	int fl[FL_NR];	/* F_GETFL before the checkpoint */
} fl;

static void fl_check_all(void)
{
	int i, now;

	for (i = 0; i < FL_NR; i++) {
		now = fcntl(fl.fd[i], F_GETFL);
		PT_EXPECT(now == fl.fl[i], "F_GETFL of %s (fd %d): %#o, %#o before", fl_name[i],
			  fl.fd[i], now, fl.fl[i]);
	}
}

static void fl_setter(long unused)
{
	pt_ready();
	pt_wait_go();
	fl_check_all();
	PT_CHECK(!cr_wait_file(PT_CHECKED, 30000), "init did not check");
	PT_CHECK(!fcntl(fl.fd[FL_A0], F_SETFL, fl.fl[FL_A0] & ~O_NONBLOCK), "%m");
	PT_CHECK(!fcntl(fl.fd[FL_C], F_SETFL, fl.fl[FL_C] | O_NONBLOCK), "%m");
	cr_line(PT_SET, "1\n");
}

static int wl_flags(void *arg)
{
	char path[64], c;
	pid_t s;
	int p[2], i;

	pt_enter(-1);
	PT_CHECK(!pipe2(p, 0), "%m");
	fl.fd[FL_A0] = p[0];
	fl.fd[FL_A1] = p[1];
	PT_CHECK(!fcntl(p[0], F_SETFL, O_NONBLOCK), "%m");
	PT_CHECK(!fcntl(p[1], F_SETFL, O_APPEND), "%m");
	PT_CHECK(!pipe2(p, O_NONBLOCK), "%m");
	fl.fd[FL_B0] = p[0];
	fl.fd[FL_B1] = p[1];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	fl.fd[FL_C] = open(path, O_RDONLY);
	PT_CHECK(fl.fd[FL_C] >= 0, "%s: %m", path);
	fl.fd[FL_D] = dup(fl.fd[FL_A1]);
	PT_CHECK(fl.fd[FL_D] >= 0, "%m");
	for (i = 0; i < FL_NR; i++)
		fl.fl[i] = fcntl(fl.fd[i], F_GETFL);
	PT_CHECK((fl.fl[FL_A0] & O_NONBLOCK) && (fl.fl[FL_A1] & O_APPEND) &&
		 !(fl.fl[FL_A1] & O_NONBLOCK) && (fl.fl[FL_B0] & O_NONBLOCK) &&
		 !(fl.fl[FL_C] & O_NONBLOCK), "%#o %#o %#o %#o", fl.fl[FL_A0], fl.fl[FL_A1],
		 fl.fl[FL_B0], fl.fl[FL_C]);
	s = pt_spawn("pt-setter", fl_setter, 0);
	pt_ready();
	pt_wait_go();
	fl_check_all();
	errno = 0;
	PT_CHECK(read(fl.fd[FL_A0], &c, 1) < 0 && errno == EAGAIN, "A0: %m");
	errno = 0;
	PT_CHECK(read(fl.fd[FL_B0], &c, 1) < 0 && errno == EAGAIN, "B0: %m");
	cr_line(PT_CHECKED, "1\n");
	PT_CHECK(!cr_wait_file(PT_SET, 30000), "pt-setter did not set");
	PT_CHECK(!(fcntl(fl.fd[FL_A0], F_GETFL) & O_NONBLOCK), "A0: %#o",
		 fcntl(fl.fd[FL_A0], F_GETFL));
	PT_CHECK(fcntl(fl.fd[FL_C], F_GETFL) & O_NONBLOCK, "C: %#o", fcntl(fl.fd[FL_C], F_GETFL));
	PT_CHECK(fcntl(fl.fd[FL_B0], F_GETFL) & O_NONBLOCK, "B0: %#o",
		 fcntl(fl.fd[FL_B0], F_GETFL));
	errno = 0;
	PT_CHECK(read(fl.fd[FL_C], &c, 1) < 0 && errno == EAGAIN, "C: %m");
	PT_CHECK(!fcntl(fl.fd[FL_D], F_SETFL, fcntl(fl.fd[FL_D], F_GETFL) | O_NONBLOCK), "%m");
	PT_CHECK(fcntl(fl.fd[FL_A1], F_GETFL) & O_NONBLOCK, "A1: %#o",
		 fcntl(fl.fd[FL_A1], F_GETFL));
	pt_reap(s, "pt-setter", 0);
	return pt_done();
}

TEST_F_TIMEOUT(pt, flags, 120)
{
	pt_start(_metadata, &self->e, wl_flags, 2);
	pt_cycle(_metadata, &self->e, 0);
	pt_finish(_metadata, &self->e, 2);
}

/* -- 3. packets: pipe2(O_DIRECT) ------------------------------------------------- */

/* Packets queued before the checkpoint, then two W writes after restart. */
static const size_t pk_len[] = { 1, 100, PT_MAX_PKT, 7, 3000, PT_MAX_PKT - 1, 2, 5, 2000 };

#define PK_BEFORE	7
#define PK_SEED		0x5678

#define PK_FLAGS	(O_ACCMODE | O_NONBLOCK | O_DIRECT)

static int pk_p[2];

static size_t pk_pos(int n)
{
	size_t pos = 0;
	int i;

	for (i = 0; i < n; i++)
		pos += pk_len[i];
	return pos;
}

static void pk_write(int from, int to)
{
	static uint8_t buf[PT_MAX_PKT];
	int i;

	for (i = from; i < to; i++) {
		cr_pattern(buf, pk_len[i], PK_SEED, pk_pos(i));
		PT_CHECK(write(pk_p[1], buf, pk_len[i]) == (ssize_t)pk_len[i], "packet %d: %m", i);
	}
}

static void pk_writer(long unused)
{
	close(pk_p[0]);
	pk_write(0, PK_BEFORE);
	pt_ready();
	pt_wait_go();
	PT_CHECK((fcntl(pk_p[1], F_GETFL) & PK_FLAGS) == (O_WRONLY | O_DIRECT), "%#o",
		 fcntl(pk_p[1], F_GETFL));
	PT_CHECK(!cr_wait_file(PT_CHECKED, 30000), "init did not check");
	pk_write(PK_BEFORE, ARRAY_SIZE(pk_len));
	close(pk_p[1]);
}

static int wl_packet(void *arg)
{
	static uint8_t buf[2 * PT_MAX_PKT];
	unsigned int i;
	ssize_t n;
	long bad;
	pid_t w;

	pt_enter(-1);
	PT_CHECK(!pipe2(pk_p, O_DIRECT), "%m");
	w = pt_spawn("pt-writer", pk_writer, 0);
	close(pk_p[1]);
	pt_ready();
	pt_wait_go();
	/* pipe2() makes only the write end O_DIRECT. */
	PT_CHECK((fcntl(pk_p[0], F_GETFL) & PK_FLAGS) == O_RDONLY, "%#o",
		 fcntl(pk_p[0], F_GETFL));
	PT_CHECK(pt_nread(pk_p[0]) == (int)pk_pos(PK_BEFORE), "%d bytes queued, %zu before",
		 pt_nread(pk_p[0]), pk_pos(PK_BEFORE));
	cr_line(PT_CHECKED, "1\n");
	for (i = 0; i < ARRAY_SIZE(pk_len); i++) {
		n = read(pk_p[0], buf, sizeof(buf));
		PT_CHECK(n == (ssize_t)pk_len[i], "packet %u: read returned %zd (%m), not %zu",
			 i, n, pk_len[i]);
		bad = cr_mismatch(buf, n, PK_SEED, pk_pos(i));
		PT_CHECK(bad < 0, "packet %u: byte %ld is %#x, expected %#x", i, bad, buf[bad],
			 cr_pat_byte(PK_SEED, pk_pos(i) + bad));
	}
	pt_reap(w, "pt-writer", 0);
	pt_expect_eof(pk_p[0], "after the packets");
	return pt_done();
}

TEST_F_TIMEOUT(pt, packets, 120)
{
	pt_start(_metadata, &self->e, wl_packet, 2);
	pt_cycle(_metadata, &self->e, 0);
	pt_finish(_metadata, &self->e, 2);
}

/* -- 4. one end left ------------------------------------------------------------ */

#define RE_LEN	5000
#define RE_SEED	0x9abc

static int re_p[2];

static void re_writer(long unused)
{
	close(re_p[0]);
	pt_write_stream(re_p[1], RE_SEED, 0, RE_LEN, RE_LEN);
}

/* Every write end closed before the checkpoint: the bytes, then EOF. */
static int wl_read_end(void *arg)
{
	pt_enter(-1);
	PT_CHECK(!pipe(re_p), "%m");
	pt_reap(pt_spawn("pt-writer", re_writer, 0), "pt-writer", 0);
	close(re_p[1]);
	pt_ready();
	pt_wait_go();
	PT_CHECK(pt_nread(re_p[0]) == RE_LEN, "%d bytes queued", pt_nread(re_p[0]));
	pt_read_stream(re_p[0], RE_SEED, 0, RE_LEN, "queued bytes");
	pt_expect_eof(re_p[0], "no write end");
	return pt_done();
}

TEST_F_TIMEOUT(pt, read_end_only, 120)
{
	pt_start(_metadata, &self->e, wl_read_end, 1);
	pt_cycle(_metadata, &self->e, 0);
	pt_finish(_metadata, &self->e, 2);
}

/*
 * Every read end closed: with SIGPIPE ignored, a write fails with EPIPE;
 * with SIGPIPE as default, the writer dies of it.  (Not init: pid 1 of a
 * pid namespace does not die of a signal it did not ask for.)
 */
static void we_child(long ignore)
{
	static uint8_t buf[100];
	int p[2];

	if (ignore)
		signal(SIGPIPE, SIG_IGN);
	PT_CHECK(!pipe(p), "%m");
	PT_CHECK(write(p[1], buf, sizeof(buf)) == sizeof(buf), "%m");
	close(p[0]);
	pt_ready();
	pt_wait_go();
	errno = 0;
	PT_CHECK(write(p[1], "x", 1) < 0 && errno == EPIPE, "write with no read end: %m");
	PT_CHECK(ignore, "write returned EPIPE, SIGPIPE did not kill");
}

static int wl_write_end(void *arg)
{
	pid_t a, b;

	pt_enter(-1);
	a = pt_spawn("pt-epipe", we_child, 1);
	b = pt_spawn("pt-sigpipe", we_child, 0);
	pt_wait_go();
	pt_reap(a, "pt-epipe", 0);
	pt_reap(b, "pt-sigpipe", SIGPIPE);
	return pt_done();
}

TEST_F_TIMEOUT(pt, write_end_only, 120)
{
	pt_start(_metadata, &self->e, wl_write_end, 2);
	pt_cycle(_metadata, &self->e, 0);
	pt_finish(_metadata, &self->e, 2);
}

/* -- 5. blocked in read, blocked in write ------------------------------------------ */

#define BL_LEN		100000
#define BL_WLEN		(PT_DEF_SIZE + 3 * 16384)
#define BL_SEED		0xdef0

static int bl_p[2];

/* Blocked in read on the empty pipe until init writes, after restart. */
static void bl_reader(long unused)
{
	close(bl_p[1]);
	pt_ready();
	pt_read_stream(bl_p[0], BL_SEED, 0, BL_LEN, "read blocked at checkpoint");
	pt_expect_eof(bl_p[0], "after the bytes");
}

static int wl_blocked_read(void *arg)
{
	pid_t r;

	pt_enter(-1);
	PT_CHECK(!pipe(bl_p), "%m");
	r = pt_spawn("pt-reader", bl_reader, 0);
	close(bl_p[0]);
	pt_wait_go();
	pt_write_stream(bl_p[1], BL_SEED, 0, BL_LEN, 10000);
	close(bl_p[1]);
	pt_reap(r, "pt-reader", 0);
	return pt_done();
}

/* Fills the pipe and blocks in its next write until init reads, after restart. */
static void bl_writer(long unused)
{
	close(bl_p[0]);
	pt_ready();
	pt_write_stream(bl_p[1], BL_SEED, 0, BL_WLEN, 16384);
	close(bl_p[1]);
}

static int wl_blocked_write(void *arg)
{
	pid_t w;

	pt_enter(-1);
	PT_CHECK(!pipe(bl_p), "%m");
	w = pt_spawn("pt-writer", bl_writer, 0);
	close(bl_p[1]);
	pt_wait_go();
	PT_CHECK(pt_nread(bl_p[0]) == PT_DEF_SIZE, "%d bytes queued", pt_nread(bl_p[0]));
	pt_read_stream(bl_p[0], BL_SEED, 0, BL_WLEN, "written by the blocked writer");
	pt_expect_eof(bl_p[0], "after the bytes");
	pt_reap(w, "pt-writer", 0);
	return pt_done();
}

static void pt_blocked(struct __test_metadata *_metadata, struct pt_env *e, int (*fn)(void *),
		       const char *name, int nr)
{
	char msg[160];

	pt_start(_metadata, e, fn, 1);
	ASSERT_EQ(0, pt_wait_blocked(e->init, name, nr, 20000, msg, sizeof(msg)))
		TH_LOG("before the checkpoint: %s", msg);
	pt_cycle(_metadata, e, 0);
	EXPECT_EQ(0, pt_wait_blocked(e->init, name, nr, 20000, msg, sizeof(msg)))
		TH_LOG("after restart: %s", msg);
	pt_finish(_metadata, e, 2);
}

TEST_F_TIMEOUT(pt, blocked_read, 120)
{
	pt_blocked(_metadata, &self->e, wl_blocked_read, "pt-reader", SYS_read);
}

TEST_F_TIMEOUT(pt, blocked_write, 120)
{
	pt_blocked(_metadata, &self->e, wl_blocked_write, "pt-writer", SYS_write);
}

/* -- 6. named FIFOs ------------------------------------------------------------- */

#define FF_LEN		20000
#define FF2_LEN		3000
#define FF_SEED		0x1111
#define FF2_SEED	0x2222

/* The open FIFO @fd is the one at @path. */
static void ff_same(int fd, const char *path)
{
	struct stat a, b;

	PT_CHECK(!fstat(fd, &a) && !stat(path, &b), "%m");
	PT_CHECK(S_ISFIFO(b.st_mode) && a.st_dev == b.st_dev && a.st_ino == b.st_ino,
		 "fd %d: dev %lx ino %lu, %s: mode %o dev %lx ino %lu", fd, (long)a.st_dev,
		 (unsigned long)a.st_ino, path, b.st_mode, (long)b.st_dev,
		 (unsigned long)b.st_ino);
}

static void ff_reader(long unused)
{
	int fd = open(PT_FIFO, O_RDONLY), w;
	char c = 0;

	PT_CHECK(fd >= 0, "%m");
	pt_ready();
	pt_wait_go();
	ff_same(fd, PT_FIFO);
	PT_CHECK((fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == O_RDONLY, "%#o",
		 fcntl(fd, F_GETFL));
	PT_CHECK(pt_nread(fd) == FF_LEN, "%d bytes queued", pt_nread(fd));
	pt_read_stream(fd, FF_SEED, 0, FF_LEN, "FIFO");
	/* A writer that opens the path now reaches this reader. */
	w = open(PT_FIFO, O_WRONLY | O_NONBLOCK);
	PT_CHECK(w >= 0, "open for writing: %m (no reader?)");
	PT_CHECK(write(w, "Z", 1) == 1, "%m");
	close(w);
	PT_CHECK(read(fd, &c, 1) == 1 && c == 'Z', "%m, '%c'", c);
	pt_expect_eof(fd, "FIFO");
}

static void ff_writer(long unused)
{
	int fd = open(PT_FIFO, O_WRONLY);

	PT_CHECK(fd >= 0, "%m");
	pt_write_stream(fd, FF_SEED, 0, FF_LEN, FF_LEN);
	pt_ready();
	pt_wait_go();
	ff_same(fd, PT_FIFO);
	PT_CHECK((fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == O_WRONLY, "%#o",
		 fcntl(fd, F_GETFL));
	close(fd);
}

/* One O_RDWR end, its own reader and writer. */
static void ff_rdwr(long unused)
{
	int fd = open(PT_FIFO2, O_RDWR);

	PT_CHECK(fd >= 0, "%m");
	pt_write_stream(fd, FF2_SEED, 0, FF2_LEN, FF2_LEN);
	pt_ready();
	pt_wait_go();
	ff_same(fd, PT_FIFO2);
	PT_CHECK((fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == O_RDWR, "%#o",
		 fcntl(fd, F_GETFL));
	PT_CHECK(pt_nread(fd) == FF2_LEN, "%d bytes queued", pt_nread(fd));
	pt_read_stream(fd, FF2_SEED, 0, FF2_LEN, "O_RDWR FIFO");
}

static int wl_fifo(void *arg)
{
	pid_t r, w, rw;

	pt_enter(-1);
	PT_CHECK(!mkfifo(PT_FIFO, 0600) && !mkfifo(PT_FIFO2, 0600), "%m");
	r = pt_spawn("pt-freader", ff_reader, 0);
	w = pt_spawn("pt-fwriter", ff_writer, 0);
	rw = pt_spawn("pt-frdwr", ff_rdwr, 0);
	pt_wait_go();
	pt_reap(r, "pt-freader", 0);
	pt_reap(w, "pt-fwriter", 0);
	pt_reap(rw, "pt-frdwr", 0);
	return pt_done();
}

TEST_F_TIMEOUT(pt, fifo, 120)
{
	struct stat st;

	pt_start(_metadata, &self->e, wl_fifo, 3);
	pt_cycle(_metadata, &self->e, 0);
	ASSERT_EQ(0, stat(PT_FIFO, &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode)) TH_LOG("mode %o", st.st_mode);
	pt_finish(_metadata, &self->e, 4);
	ASSERT_EQ(0, stat(PT_FIFO, &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode)) TH_LOG("mode %o", st.st_mode);
}

/* -- 7. an end outside the container ------------------------------------------------ */

#define OUT_LEN		1000
#define OUT_SEED	0x3333

static int out_fd;	/* the read end, init's */

static int wl_outside(void *arg)
{
	pt_enter(out_fd);
	pt_ready();
	while (access(PT_GO, F_OK)) {
		pt_counter++;
		cr_msleep(1);
	}
	PT_CHECK(pt_nread(out_fd) == OUT_LEN, "%d bytes queued", pt_nread(out_fd));
	pt_read_stream(out_fd, OUT_SEED, 0, OUT_LEN, "written from outside");
	pt_expect_eof(out_fd, "the outside end closed");
	return pt_done();
}

/*
 * The test keeps the write end of the container's pipe: refused (EBUSY),
 * naming the pipe, the container goes on thawed.  Once the test closes
 * it, the checkpoint goes through, and the restored init reads what the
 * test wrote.
 */
TEST_F_TIMEOUT(pt, end_outside, 120)
{
	struct pt_env *e = &self->e;
	uint8_t buf[OUT_LEN];
	char name[48];
	struct stat st;
	int p[2];

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, fstat(p[0], &st));
	cr_pattern(buf, OUT_LEN, OUT_SEED, 0);
	ASSERT_EQ(OUT_LEN, write(p[1], buf, OUT_LEN));
	out_fd = p[0];
	pt_start(_metadata, e, wl_outside, 1);
	close(p[0]);
	EXPECT_EQ(-EBUSY, cr_checkpoint(e->init, PT_IMG, e->why, sizeof(e->why)));
	TH_LOG("reason: %s", e->why);
	snprintf(name, sizeof(name), "pipe:[%lu]", (unsigned long)st.st_ino);
	EXPECT_NE(NULL, strstr(e->why, name)) TH_LOG("the reason does not name %s", name);
	EXPECT_EQ(0, cr_running_and_thawed(e->init, e->cgpath, &pt_counter));
	close(p[1]);
	pt_cycle(_metadata, e, 0);
	pt_finish(_metadata, e, 1);
}

/* -- 8. a shell pipeline ------------------------------------------------------------ */

#define SH_CMD		"i=0; while :; do echo $i; i=$((i+1)); done | cat | cat > " PT_OUT
#define SH_BEFORE	(32 << 10)	/* output before the checkpoint */
#define SH_AFTER	(192 << 10)	/* and after restart: more than the pipes hold */

static int wl_shell(void *arg)
{
	pid_t sh;

	pt_enter(-1);
	sh = fork();
	if (sh == 0) {
		execl("/bin/sh", "sh", "-c", SH_CMD, NULL);
		_exit(127);
	}
	pt_ready();
	for (;;)
		pause();
}

/*
 * Is @text "0\n1\n2\n..." with maybe the start of the next line at the
 * end?  The offset of the first byte that is not, or -1; @lines counted.
 */
static long sh_check_seq(const char *text, size_t len, long *lines)
{
	size_t pos = 0, n, k;
	char want[24];

	for (*lines = 0; pos < len; (*lines)++) {
		n = snprintf(want, sizeof(want), "%ld\n", *lines);
		for (k = 0; k < n && pos < len; k++, pos++)
			if (text[pos] != want[k])
				return pos;
	}
	return -1;
}

/* How many processes below @root (host pid). */
static int pt_count_below(pid_t root)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	while (d && (de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
			n += cr_is_below(atoi(de->d_name), root);
	if (d)
		closedir(d);
	return n;
}

TEST_F_TIMEOUT(pt, shell_pipeline, 120)
{
	struct pt_env *e = &self->e;
	off_t at_ckpt, end;
	long bad, lines;
	int i, procs;
	double t0;
	char *text;

	ASSERT_EQ(0, access("/bin/sh", X_OK));
	pt_start(_metadata, e, wl_shell, 1);
	t0 = cr_now();
	for (i = 0; i < 1500 && cr_file_size(PT_OUT) < SH_BEFORE; i++)
		cr_msleep(20);
	ASSERT_LE(SH_BEFORE, cr_file_size(PT_OUT)) TH_LOG("no output from the pipeline");
	TH_LOG("%d KiB of output in %.1f s", SH_BEFORE >> 10, cr_now() - t0);
	/* sh, the subshell of the loop, two cats */
	procs = pt_count_below(e->init);
	ASSERT_LE(4, procs);
	/* CHECKPOINT_KILL: nothing is written after the capture. */
	pt_cycle(_metadata, e, CHECKPOINT_KILL);
	at_ckpt = cr_file_size(PT_OUT);
	EXPECT_EQ(procs, pt_count_below(e->init));
	for (i = 0; i < 2250 && cr_file_size(PT_OUT) < at_ckpt + SH_AFTER; i++)
		cr_msleep(20);
	end = cr_file_size(PT_OUT);
	cr_kill_wait(e->init);
	e->init = -1;
	text = cr_load_file(PT_OUT);
	bad = sh_check_seq(text, strlen(text), &lines);
	EXPECT_EQ(-1, bad) TH_LOG("byte %ld of %zu (%lld at the checkpoint): '%.24s'", bad,
				  strlen(text), (long long)at_ckpt, bad >= 0 ? text + bad : "");
	EXPECT_LE(at_ckpt + SH_AFTER, end)
		TH_LOG("%lld bytes at the checkpoint, %lld 45 s after restart", (long long)at_ckpt,
		       (long long)end);
	TH_LOG("%ld lines, %lld bytes at the checkpoint", lines, (long long)at_ckpt);
	free(text);
}

TEST_HARNESS_MAIN
