// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests, each checking the restored (or still running) state
 * itself: PKRU survives checkpoint and restart; a checkpoint does not
 * split transparent huge pages; a sleeper can be checkpointed twice and
 * sleeps the rest after restart, in user context through
 * restart_syscall(), so that restart() is over at once; an absurd sleep
 * time in an image is refused or harmless; the reason of a failure is
 * per thread; and nothing of the restarter (pending signals, timers, an
 * LDT, aio contexts, mlockall(), THP settings, children) reaches the
 * restored process.
 */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <cpuid.h>
#include <linux/aio_abi.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/time.h>

#include "cr_test.h"
#include "../kselftest_harness.h"

#define RG_DIR		"/tmp/crregress"
#define RG_READY	RG_DIR "/ready"
#define RG_RESULTS	RG_DIR "/results"
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"
#define THP_DEFRAG	"/sys/kernel/mm/transparent_hugepage/defrag"
#define AIO_NR		"/proc/sys/fs/aio-nr"
#define EXEC_ARG	"--cr-reason-after-exec"

#define NSEC		1000000000LL
#define PKRU_VALUE	0xaaaaaaa8U	/* write-disable keys 1-15, key 0 open */
#define THP_SIZE	(8UL << 20)
#define HPAGE		(2UL << 20)
#define PROMPT_S	5.0	/* "returns promptly" under TCG with KASAN */

/* The harness's own pid: images shared by the tests of one run name it. */
static pid_t rg_main;

static void __attribute__((constructor)) rg_main_pid(void)
{
	rg_main = getpid();
}

/* Globals that the test reads and writes in the container. */
volatile uint64_t rg_go, rg_spins;
static volatile sig_atomic_t rg_signals;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static void on_signal(int sig)
{
	rg_signals++;
}

/* The value of "key" in a results text that starts with a newline. */
static long long result(const char *text, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s ", key);
	p = strstr(text, pat);
	if (!p)
		return -999999999LL;
	return strtoll(p + strlen(pat), NULL, 0);
}

static int read_results(char *text, size_t len)
{
	text[0] = '\n';
	return cr_read_str(RG_RESULTS, text + 1, len - 1);
}

/* The system call @pid is in (/proc/PID/syscall), -1 if none, -1000 if unknown. */
static long proc_syscall(pid_t pid)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0 || !strncmp(buf, "running", 7))
		return -1000;
	return strtol(buf, NULL, 10);
}

static bool is_sleep_nr(long nr)
{
	return nr == SYS_nanosleep || nr == SYS_clock_nanosleep;
}

/* Wait up to @ms for @pid to be inside a sleep (or restart_syscall()). */
static long wait_syscall(pid_t pid, bool (*ok)(long), int ms)
{
	long nr = -1000;

	for (; ms > 0; ms -= 10) {
		nr = proc_syscall(pid);
		if (ok(nr))
			break;
		cr_msleep(10);
	}
	return nr;
}

static bool is_restart_nr(long nr)
{
	return nr == SYS_restart_syscall;
}

static bool is_pause_nr(long nr)
{
	return nr == SYS_pause;
}

/* Is @pid alive (and not a zombie)? */
static bool alive(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0)
		return false;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* -- images ------------------------------------------------------------- */

static uint8_t *load_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size + 1);
	n = buf ? read(fd, buf, st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int store_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* The first record of @type in the image, or NULL. */
static struct cr_hdr *find_rec(uint8_t *img, size_t len, uint32_t type)
{
	size_t off = 0;

	while (off + sizeof(struct cr_hdr) <= len) {
		struct cr_hdr *h = (struct cr_hdr *)(img + off);

		if (h->len < sizeof(*h) || off + h->len > len)
			return NULL;
		if (h->type == type)
			return h;
		off += h->len;
	}
	return NULL;
}

/* -- restarting ------------------------------------------------------------ */

struct rg_restart {
	pid_t init;		/* the restarter, pid 1 of the new container */
	pid_t restored;		/* the restored process: init, or its child */
	int err;		/* errno of a refused restart() */
	int survived;		/* after a refusal: the restarter went on */
	char why[256];		/* the kernel's reason, or what went wrong */
	double t_start;		/* before clone3() */
	double t_done;		/* the restarter's report, or EOF: restart() is over */
	double call;		/* a restored child: restart() took this long */
};

/* The report pipe, in the restarter: what its setup forks must close it. */
static int rg_report = -1;

/*
 * restart() of @path by pid 1 of a new container in the cgroup @cg,
 * after @setup(@arg) ran in that restarter.  Returns 0 once restored,
 * -1 if restart() was refused (errno and reason in @r), -2 if the setup
 * or the restarter failed otherwise (@r->why says how).
 */
static int rg_restart(int cg, const char *path, int (*setup)(void *), void *arg,
		      struct rg_restart *r)
{
	int report[2], img, status, i;
	char buf[400], *p;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	img = open(path, O_RDONLY | O_CLOEXEC);
	if (img < 0 || pipe2(report, O_CLOEXEC)) {
		snprintf(r->why, sizeof(r->why), "open %s: %s", path, strerror(errno));
		return -2;
	}
	r->t_start = mono();
	r->init = cr_clone(cg);
	if (r->init < 0) {
		snprintf(r->why, sizeof(r->why), "clone3: %s", strerror(errno));
		return -2;
	}
	if (r->init == 0) {
		double t0, t1;
		long ret;
		int err, s;

		close(report[0]);
		rg_report = report[1];
		if (setup) {
			s = setup(arg);
			if (s) {
				snprintf(buf, sizeof(buf), "SETUP %d %s", s, strerror(errno));
				if (write(report[1], buf, strlen(buf)) < 0)
					_exit(126);
				_exit(124);
			}
		}
		t0 = mono();
		ret = sys_restart(RESTART_CRID_FD, img, 0);
		t1 = mono();
		if (ret > 0) {
			snprintf(buf, sizeof(buf), "OK %ld %.6f", ret, t1 - t0);
			if (write(report[1], buf, strlen(buf)) < 0)
				_exit(126);
			close(report[1]);
			while (waitpid(ret, &status, 0) < 0 && errno == EINTR)
				;
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
		err = errno;
		snprintf(buf, sizeof(buf), "ERR %d ", err);
		cr_reason(buf + strlen(buf), sizeof(buf) - strlen(buf));
		if (write(report[1], buf, strlen(buf)) < 0)
			_exit(126);
		_exit(125);
	}
	close(img);
	close(report[1]);
	n = read(report[0], buf, sizeof(buf) - 1);
	r->t_done = mono();
	close(report[0]);
	if (n <= 0) {
		r->restored = r->init;	/* the restarter became the process */
		return 0;
	}
	buf[n] = '\0';
	if (!strncmp(buf, "OK ", 3)) {
		r->call = atof(strchr(buf + 3, ' ') ? strchr(buf + 3, ' ') + 1 : "0");
		for (i = 0; i < 200; i++) {
			r->restored = cr_child_of(r->init);
			if (r->restored > 0)
				return 0;
			cr_msleep(10);
		}
		snprintf(r->why, sizeof(r->why), "restart() returned %.200s but no child", buf + 3);
		return -2;
	}
	if (!strncmp(buf, "SETUP ", 6)) {
		snprintf(r->why, sizeof(r->why), "setup in the restarter failed: %.200s", buf + 6);
		waitpid(r->init, NULL, 0);
		return -2;
	}
	r->err = atoi(buf + 4);
	p = strchr(buf + 4, ' ');
	snprintf(r->why, sizeof(r->why), "%s", p ? p + 1 : "");
	r->survived = cr_wait_exit(r->init) == 125;
	return -1;
}

/* waitpid(@pid) for at most @ms; its status, or -1 if it did not end. */
static int wait_for(pid_t pid, int ms, double *took)
{
	double t0 = mono();
	int status;

	*took = 0;
	for (; ms > 0; ms -= 5) {
		pid_t p = waitpid(pid, &status, WNOHANG);

		if (p == pid) {
			*took = mono() - t0;
			return status;
		}
		if (p < 0)
			break;
		cr_msleep(5);
	}
	*took = mono() - t0;
	return -1;
}

/* The exit status of @pid (shell style) within @ms, or -1. */
static int exit_within(pid_t pid, int ms)
{
	double took;
	int status = wait_for(pid, ms, &took);

	if (status == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

FIXTURE(rg) {
	int cg;
	char cgpath[128];
	char img[128];
	char why[256];
};

FIXTURE_SETUP(rg)
{
	mkdir(RG_DIR, 0755);
	unlink(RG_READY);
	unlink(RG_RESULTS);
	self->cg = cr_cgroup(self->cgpath, sizeof(self->cgpath));
	ASSERT_LE(0, self->cg);
	snprintf(self->img, sizeof(self->img), "%s/image-%d", RG_DIR, getpid());
}

FIXTURE_TEARDOWN(rg)
{
	close(self->cg);
	cr_cgroup_remove(self->cgpath);
	unlink(self->img);
}

/* -- a SIGSTOP queued while frozen ------------------------------------------- */

static int workload_stop_target(void *arg)
{
	cr_quiet_fds();
	cr_write_str(RG_READY, "1");
	for (;;)
		pause();
	return 0;
}

/* The state letter of @pid in /proc, or '?'. */
static char rg_state(pid_t pid)
{
	char path[64], buf[2048], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0)
		return '?';
	p = strstr(buf, "\nState:\t");
	return p ? p[8] : '?';
}

/*
 * A SIGSTOP sent to a frozen container stays queued until the thaw: the
 * checkpoint is refused (an image with it would stop its restarter, and
 * restart() refuses it), and the container goes on untouched: thawed,
 * it stops, and SIGCONT lets it run.
 */
TEST_F(rg, sigstop_queued_while_frozen_refused)
{
	char path[160], state = '?';
	int i, ret;
	pid_t pid;

	pid = cr_start(self->cg, workload_stop_target, NULL);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_wait_file(RG_READY, 30000));
	ASSERT_EQ(0, cr_freeze_cg(self->cgpath));
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	cr_msleep(50);
	ret = cr_checkpoint(pid, self->img, self->why, sizeof(self->why));
	TH_LOG("checkpoint: %s (%s)", ret ? strerror(-ret) : "done", self->why);
	EXPECT_EQ(-EOPNOTSUPP, ret);
	EXPECT_NE(NULL, strstr(self->why, "SIGSTOP")) TH_LOG("reason: '%s'", self->why);
	snprintf(path, sizeof(path), "%s/cgroup.freeze", self->cgpath);
	ASSERT_EQ(0, cr_write_str(path, "0"));
	for (i = 0; i < 500 && (state = rg_state(pid)) != 'T'; i++)
		cr_msleep(10);
	EXPECT_EQ('T', state) TH_LOG("the queued SIGSTOP did not stop it after the thaw");
	ASSERT_EQ(0, kill(pid, SIGCONT));
	/* running on (R for a moment), back in its pause() */
	for (i = 0; i < 500 && (state = rg_state(pid)) != 'S'; i++)
		cr_msleep(10);
	EXPECT_EQ('S', state) TH_LOG("SIGCONT did not let it run on to its pause()");
	cr_kill_wait(pid);
}

/* -- 1. PKRU ---------------------------------------------------------------- */

static int workload_pkru(void *arg)
{
	char buf[128];
	uint32_t before;

	cr_quiet_fds();
	wrpkru(PKRU_VALUE);
	before = rdpkru();
	cr_write_str(RG_READY, "1");
	while (!rg_go)
		rg_spins++;
	snprintf(buf, sizeof(buf), "before %#x\nafter %#x\n", before, rdpkru());
	cr_write_str(RG_RESULTS, buf);
	return 0;
}

/* PKRU of the first task's XSAVE area in the image, or -1. */
static long long image_pkru(const char *path)
{
	unsigned int a, off, c, d;
	struct cr_hdr_fpu *f;
	uint8_t *img;
	uint32_t v;
	size_t len;
	long long ret = -1;

	__cpuid_count(0xd, 9, a, off, c, d);
	img = load_file(path, &len);
	if (!img)
		return -1;
	f = (struct cr_hdr_fpu *)find_rec(img, len, CR_HDR_FPU);
	if (f && f->offset[9])
		off = f->offset[9];	/* where the checkpointing CPU had it */
	if (f && off + 4 <= f->size) {
		if (!(f->xfeatures & (1ULL << 9))) {
			ret = 0;	/* init state */
		} else {
			memcpy(&v, (uint8_t *)(f + 1) + off, 4);
			ret = v;
		}
	}
	free(img);
	return ret;
}

/*
 * A process that only wrote PKRU (no pkey-tagged mapping) has its PKRU
 * back after restart, not the restarter's default.
 */
TEST_F(rg, pkru_restored)
{
	uint64_t spins = 0, spins2 = 0;
	struct rg_restart r;
	char text[256];
	long long saved;
	int i, moved;
	pid_t pid;

	if (!have_ospke())
		SKIP(return, "no OSPKE: the CPU or kernel does not enable protection keys");
	TH_LOG("the restarter's PKRU is %#x, the workload's %#x", rdpkru(), PKRU_VALUE);
	ASSERT_NE(PKRU_VALUE, rdpkru());
	pid = cr_start(self->cg, workload_pkru, NULL);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_wait_file(RG_READY, 30000));
	for (i = 0; i < 1000 && !spins; i++) {
		ASSERT_EQ(0, cr_peek(pid, (void *)&rg_spins, &spins));
		cr_msleep(10);
	}
	ASSERT_NE(0, spins);
	ASSERT_EQ(0, cr_checkpoint(pid, self->img, self->why, sizeof(self->why)))
		TH_LOG("checkpoint: %s", self->why);
	cr_kill_wait(pid);
	saved = image_pkru(self->img);
	EXPECT_EQ(PKRU_VALUE, saved) TH_LOG("PKRU in the image: %#llx", saved);

	ASSERT_EQ(0, rg_restart(self->cg, self->img, NULL, NULL, &r))
		TH_LOG("restart: %d %s", r.err, r.why);
	/* Spinning again: restart() is over, go may be set. */
	for (i = 0, moved = 0; i < 200 && !moved; i++) {
		ASSERT_EQ(0, cr_peek(r.restored, (void *)&rg_spins, &spins));
		cr_msleep(50);
		ASSERT_EQ(0, cr_peek(r.restored, (void *)&rg_spins, &spins2));
		moved = spins2 > spins;
	}
	ASSERT_TRUE(moved);
	ASSERT_EQ(0, cr_poke(r.restored, (void *)&rg_go, 1));
	ASSERT_EQ(0, exit_within(r.restored, 10000));
	ASSERT_LT(0, read_results(text, sizeof(text)));
	EXPECT_EQ(PKRU_VALUE, result(text, "before"));
	EXPECT_EQ(PKRU_VALUE, result(text, "after"))
		TH_LOG("PKRU after restart: %#llx", result(text, "after"));
}

/* -- 2. transparent huge pages ---------------------------------------------- */

static int workload_thp(void *arg)
{
	char *p, *area, buf[64];
	size_t i;

	cr_quiet_fds();
	p = mmap(NULL, THP_SIZE + HPAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 10;
	area = (char *)(((uintptr_t)p + HPAGE - 1) & ~(HPAGE - 1));
	if (madvise(area, THP_SIZE, MADV_HUGEPAGE))
		return 11;
	for (i = 0; i < THP_SIZE; i += 4096)
		area[i] = (char)(i >> 12) | 1;
	snprintf(buf, sizeof(buf), "%p\n", area);
	cr_write_str(RG_READY, buf);
	for (;;)
		pause();
}

/* AnonHugePages (kB) of the area of @pid that starts at @start, or -1. */
static long anon_huge_kb(pid_t pid, unsigned long start)
{
	char path[64], line[512];
	unsigned long s, e;
	bool in = false;
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {
			if (in)
				break;
			in = s == start;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* A checkpoint leaves the huge pages of the running container whole. */
TEST_F(rg, thp_not_split_by_checkpoint)
{
	char buf[128], defrag[128] = "?";
	unsigned long area;
	long before, after;
	pid_t pid;

	if (cr_read_str(THP_ENABLED, buf, sizeof(buf)) <= 0)
		SKIP(return, "no transparent huge pages (%s)", THP_ENABLED);
	if (strstr(buf, "[never]"))
		cr_write_str(THP_ENABLED, "madvise");
	cr_read_str(THP_ENABLED, buf, sizeof(buf));
	cr_read_str(THP_DEFRAG, defrag, sizeof(defrag));
	if (strstr(buf, "[never]"))
		SKIP(return, "transparent huge pages are disabled: %s", buf);

	pid = cr_start(self->cg, workload_thp, NULL);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_wait_file(RG_READY, 30000));
	cr_msleep(50);
	ASSERT_LT(0, cr_read_str(RG_READY, buf, sizeof(buf)));
	area = strtoul(buf, NULL, 16);
	before = anon_huge_kb(pid, area);
	ASSERT_LE(0, before) TH_LOG("no area at %#lx in /proc/%d/smaps", area, pid);
	if (!before) {
		cr_kill_wait(pid);
		SKIP(return, "no huge page was allocated (defrag: %s)", defrag);
	}
	ASSERT_EQ(0, cr_checkpoint(pid, self->img, self->why, sizeof(self->why)))
		TH_LOG("checkpoint: %s", self->why);
	after = anon_huge_kb(pid, area);
	TH_LOG("AnonHugePages %ld kB before the checkpoint, %ld kB after", before, after);
	EXPECT_LE(before, after);
	EXPECT_EQ(0, waitpid(pid, NULL, WNOHANG));	/* still running */
	cr_kill_wait(pid);
}

/* -- 3. sleepers -------------------------------------------------------------- */

struct sleeper {
	int secs;
	int child;	/* sleep in a child of the container's init */
};

/* nanosleep(@secs); write down deadlines and what nanosleep returned. */
static int sleeper(int secs)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec req = { secs, 0 }, rem = { -1, -1 };
	long long start, deadline, woke;
	char buf[256];
	int ret, err;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: interrupts the sleep */
	start = mono_ns();
	deadline = start + secs * NSEC;
	cr_write_str(RG_READY, "1");
	ret = nanosleep(&req, &rem);
	err = ret ? errno : 0;
	woke = mono_ns();
	snprintf(buf, sizeof(buf),
		 "ret %d\nerrno %d\nrem %lld\nstart %lld\ndeadline %lld\nwoke %lld\nsignals %d\n",
		 ret, err, rem.tv_sec * NSEC + rem.tv_nsec, start, deadline, woke,
		 (int)rg_signals);
	cr_write_str(RG_RESULTS, buf);
	return 0;
}

static int workload_sleeper(void *arg)
{
	const struct sleeper *s = arg;
	pid_t c;

	cr_quiet_fds();
	if (!s->child)
		return sleeper(s->secs);
	c = fork();
	if (c == 0)
		_exit(sleeper(s->secs));
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

/*
 * Start a sleeper, wait until it sleeps and checkpoint it into @img,
 * with the checkpoint's start and end in @tc; it is killed after.
 */
static void sleeper_image(struct __test_metadata *_metadata, FIXTURE_DATA(rg) *self,
			  const struct sleeper *s, const char *img, double tc[2])
{
	char sub[256], procs[300], buf[32];
	pid_t pid, target;
	long nr;

	pid = cr_start(self->cg, workload_sleeper, (void *)s);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_wait_file(RG_READY, 30000));
	target = pid;
	if (s->child) {
		target = cr_child_of(pid);
		ASSERT_LT(0, target);
		snprintf(sub, sizeof(sub), "%s/sub", self->cgpath);
		ASSERT_EQ(0, mkdir(sub, 0755));
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", sub);
		snprintf(buf, sizeof(buf), "%d", target);
		ASSERT_EQ(0, cr_write_str(procs, buf));
	}
	nr = wait_syscall(target, is_sleep_nr, 10000);
	ASSERT_TRUE(is_sleep_nr(nr)) TH_LOG("pid %d is in system call %ld", target, nr);
	tc[0] = mono();
	ASSERT_EQ(0, cr_checkpoint_flags(target, img, s->child ? CHECKPOINT_SUBTREE : 0,
					 self->why, sizeof(self->why)))
		TH_LOG("checkpoint: %s", self->why);
	tc[1] = mono();
	cr_kill_wait(pid);
	if (s->child) {
		for (int i = 0; i < 100 && rmdir(sub); i++)
			cr_msleep(10);
	}
	unlink(RG_READY);
}

/*
 * A sleeper is checkpointed; thawed, it goes on inside restart_syscall();
 * a second checkpoint a second later must work too, and the process
 * restarted from it wakes when its deadline, shifted by the time between
 * that checkpoint and the restart, comes: not at once, not later.
 */
TEST_F_TIMEOUT(rg, sleeper_checkpointed_twice, 40)
{
	struct sleeper s = { .secs = 12 };
	double c1[2], c2[2], want_lo, want_hi, woke;
	char img1[160], text[512], ev[256], path[200];
	struct rg_restart r;
	pid_t pid;
	long nr;
	int ret;

	snprintf(img1, sizeof(img1), "%s.first", self->img);
	pid = cr_start(self->cg, workload_sleeper, &s);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_wait_file(RG_READY, 30000));
	nr = wait_syscall(pid, is_sleep_nr, 10000);
	ASSERT_TRUE(is_sleep_nr(nr)) TH_LOG("in system call %ld", nr);

	c1[0] = mono();
	ret = cr_checkpoint(pid, img1, self->why, sizeof(self->why));
	c1[1] = mono();
	unlink(img1);
	ASSERT_EQ(0, ret) TH_LOG("first checkpoint: %s", self->why);
	snprintf(path, sizeof(path), "%s/cgroup.events", self->cgpath);
	ASSERT_LT(0, cr_read_str(path, ev, sizeof(ev)));
	EXPECT_NE(NULL, strstr(ev, "frozen 0"));
	ASSERT_EQ(0, waitpid(pid, NULL, WNOHANG));
	/* Thawed, the interrupted nanosleep goes on in restart_syscall(). */
	nr = wait_syscall(pid, is_restart_nr, 3000);
	ASSERT_EQ(SYS_restart_syscall, nr) TH_LOG("after the thaw: system call %ld", nr);
	cr_msleep(1000);

	c2[0] = mono();
	ret = cr_checkpoint(pid, self->img, self->why, sizeof(self->why));
	c2[1] = mono();
	EXPECT_EQ(0, ret) TH_LOG("second checkpoint (inside restart_syscall): %d %s",
				 ret, self->why);
	EXPECT_EQ(0, waitpid(pid, NULL, WNOHANG));
	cr_kill_wait(pid);
	ASSERT_EQ(0, ret);
	TH_LOG("checkpoints took %.2f s and %.2f s", c1[1] - c1[0], c2[1] - c2[0]);

	ASSERT_EQ(0, rg_restart(self->cg, self->img, NULL, NULL, &r))
		TH_LOG("restart: %d %s", r.err, r.why);
	EXPECT_GT(PROMPT_S, r.t_done - r.t_start)
		TH_LOG("restart() took %.2f s", r.t_done - r.t_start);
	ASSERT_EQ(0, exit_within(r.restored, 30000));
	ASSERT_LT(0, read_results(text, sizeof(text)));
	EXPECT_EQ(0, result(text, "ret")) TH_LOG("errno %lld", result(text, "errno"));
	woke = result(text, "woke") / 1e9;
	/* remaining = deadline - capture time, slept from the restart on */
	want_lo = result(text, "deadline") / 1e9 + (r.t_start - c2[1]);
	want_hi = result(text, "deadline") / 1e9 + (r.t_done - c2[0]);
	TH_LOG("woke %.2f s after the restart, expected %.2f-%.2f s", woke - r.t_start,
	       want_lo - r.t_start, want_hi - r.t_start);
	EXPECT_LE(want_lo - 1.0, woke);
	EXPECT_GE(want_hi + 3.0, woke);
}

/*
 * The restored sleeper is interrupted with a signal: nanosleep fails with
 * EINTR and *rem has what remained, in line with the time that remained
 * at the checkpoint (between @tc) slept from the restart on (within @r).
 */
static void check_interrupted(struct __test_metadata *_metadata, const struct rg_restart *r,
			      const double tc[2], const char *text)
{
	double deadline = result(text, "deadline") / 1e9, woke = result(text, "woke") / 1e9;
	double rem = result(text, "rem") / 1e9, lo, hi;

	EXPECT_EQ(-1, result(text, "ret"));
	EXPECT_EQ(EINTR, result(text, "errno"));
	EXPECT_EQ(1, result(text, "signals"));
	lo = deadline - tc[1] - (woke - r->t_start);
	hi = deadline - tc[0] - (woke - r->t_done);
	TH_LOG("remaining %.2f s when interrupted, expected %.2f-%.2f s", rem, lo, hi);
	EXPECT_LE(lo - 1.0, rem);
	EXPECT_GE(hi + 1.0, rem);
}

/*
 * A sleeper with ~20 s left, restarted: restart() is over at once and
 * the restored process sleeps in user context, in restart_syscall().
 */
TEST_F(rg, restored_sleeper_sleeps_in_restart_syscall)
{
	struct sleeper s = { .secs = 25 };
	struct rg_restart r;
	char text[512];
	double tc[2];
	long nr;

	sleeper_image(_metadata, self, &s, self->img, tc);
	ASSERT_EQ(0, rg_restart(self->cg, self->img, NULL, NULL, &r))
		TH_LOG("restart: %d %s", r.err, r.why);
	TH_LOG("restart over after %.2f s", r.t_done - r.t_start);
	EXPECT_GT(PROMPT_S, r.t_done - r.t_start);
	cr_msleep(1000);
	EXPECT_EQ(0, waitpid(r.restored, NULL, WNOHANG));	/* still asleep */
	EXPECT_EQ(-1, access(RG_RESULTS, F_OK));
	nr = wait_syscall(r.restored, is_restart_nr, 1000);
	EXPECT_EQ(SYS_restart_syscall, nr)
		TH_LOG("the restored sleeper is in system call %ld (nanosleep is %d, restart %d)",
		       nr, SYS_nanosleep, __NR_restart);
	ASSERT_EQ(0, kill(r.restored, SIGUSR1));
	ASSERT_EQ(0, exit_within(r.restored, 10000));
	ASSERT_LT(0, read_results(text, sizeof(text)));
	check_interrupted(_metadata, &r, tc, text);
}

/* The same for a sleeper that was not pid 1: restart() returns its pid at once. */
TEST_F(rg, restored_child_sleeper_returns_at_once)
{
	struct sleeper s = { .secs = 25, .child = 1 };
	struct rg_restart r;
	char text[512];
	double tc[2];
	long nr;

	sleeper_image(_metadata, self, &s, self->img, tc);
	ASSERT_EQ(0, rg_restart(self->cg, self->img, NULL, NULL, &r))
		TH_LOG("restart: %d %s", r.err, r.why);
	TH_LOG("restart() returned after %.2f s (in the restarter), reported after %.2f s",
	       r.call, r.t_done - r.t_start);
	EXPECT_NE(r.init, r.restored);
	EXPECT_GT(PROMPT_S, r.call);
	EXPECT_GT(PROMPT_S, r.t_done - r.t_start);
	cr_msleep(1000);
	EXPECT_TRUE(alive(r.restored));
	EXPECT_EQ(-1, access(RG_RESULTS, F_OK));
	nr = wait_syscall(r.restored, is_restart_nr, 1000);
	EXPECT_EQ(SYS_restart_syscall, nr)
		TH_LOG("the restored sleeper is in system call %ld", nr);
	ASSERT_EQ(0, kill(r.restored, SIGUSR1));
	ASSERT_EQ(0, exit_within(r.init, 10000));
	ASSERT_LT(0, read_results(text, sizeof(text)));
	check_interrupted(_metadata, &r, tc, text);
}

/* -- 4. absurd sleep times ---------------------------------------------------- */

/* The image of a sleeper, made once per run of the harness; its path in @path. */
static void shared_sleeper_image(struct __test_metadata *_metadata, FIXTURE_DATA(rg) *self,
				 char *path, size_t len)
{
	struct sleeper s = { .secs = 25 };
	double tc[2];

	snprintf(path, len, "%s/sleeper-%d.img", RG_DIR, rg_main);
	if (!access(path, F_OK))
		return;
	sleeper_image(_metadata, self, &s, self->img, tc);
	ASSERT_EQ(0, rename(self->img, path));
}

/* Write the sleeper image with remaining_ns set to @ns to @out. */
static void edit_remaining(struct __test_metadata *_metadata, const char *in, const char *out,
			   int64_t ns)
{
	struct cr_hdr_restart_block *rb;
	uint8_t *img;
	size_t len;

	img = load_file(in, &len);
	ASSERT_NE(NULL, img);
	rb = (struct cr_hdr_restart_block *)find_rec(img, len, CR_HDR_RESTART_BLOCK);
	ASSERT_NE(NULL, rb) TH_LOG("the sleeper's image has no RESTART_BLOCK record");
	TH_LOG("remaining_ns %lld in the image, set to %lld", (long long)rb->remaining_ns,
	       (long long)ns);
	rb->remaining_ns = ns;
	ASSERT_EQ(0, cr_fix_tail(img, len));
	ASSERT_EQ(0, store_file(out, img, len));
	free(img);
}

/* A negative time left is a corrupt image, refused before the point of no return. */
TEST_F(rg, negative_sleep_refused)
{
	struct rg_restart r;
	char base[160];
	int ret;

	shared_sleeper_image(_metadata, self, base, sizeof(base));
	edit_remaining(_metadata, base, self->img, -5 * NSEC);
	ret = rg_restart(self->cg, self->img, NULL, NULL, &r);
	if (!ret) {
		TH_LOG("restarted, %s", alive(r.restored) ? "alive" : "already gone");
		cr_kill_wait(r.restored);
	}
	ASSERT_EQ(-1, ret) TH_LOG("%s", r.why);
	TH_LOG("refused: errno %d, '%s'", r.err, r.why);
	EXPECT_EQ(EBADMSG, r.err);
	EXPECT_NE(NULL, strstr(r.why, "restart_block")) TH_LOG("reason: '%s'", r.why);
	EXPECT_TRUE(r.survived);
}

/*
 * A time left of decades may be refused as corrupt; if accepted,
 * restart() is over at once and the sleeper dies of SIGKILL at once.
 */
static void huge_sleep(struct __test_metadata *_metadata, FIXTURE_DATA(rg) *self, int64_t ns)
{
	struct rg_restart r;
	char base[160];
	double took;
	int status;

	shared_sleeper_image(_metadata, self, base, sizeof(base));
	edit_remaining(_metadata, base, self->img, ns);
	if (rg_restart(self->cg, self->img, NULL, NULL, &r)) {
		ASSERT_NE(0, r.err) TH_LOG("%s", r.why);
		TH_LOG("refused: errno %d, '%s'", r.err, r.why);
		EXPECT_EQ(EBADMSG, r.err);
		EXPECT_NE(NULL, strstr(r.why, "restart_block")) TH_LOG("reason: '%s'", r.why);
		EXPECT_TRUE(r.survived);
		return;
	}
	TH_LOG("accepted; restart over after %.2f s", r.t_done - r.t_start);
	EXPECT_GT(PROMPT_S, r.t_done - r.t_start);
	cr_msleep(500);
	EXPECT_EQ(0, waitpid(r.restored, NULL, WNOHANG));	/* sleeping */
	EXPECT_EQ(-1, access(RG_RESULTS, F_OK));
	ASSERT_EQ(0, kill(r.restored, SIGKILL));
	status = wait_for(r.restored, 10000, &took);
	TH_LOG("SIGKILL took %.3f s", took);
	ASSERT_NE(-1, status);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_GT(2.0, took);
}

TEST_F(rg, twenty_year_sleep)
{
	huge_sleep(_metadata, self, 20LL * 365 * 86400 * NSEC);
}

TEST_F(rg, endless_sleep)
{
	huge_sleep(_metadata, self, INT64_MAX);
}

/* -- 5. the reason of a failure ---------------------------------------------- */

static int args_fd(void)
{
	mkdir(RG_DIR, 0755);
	return open(RG_DIR "/args", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

/* Read this thread's reason: 1 with one, 0 if empty, -1 without the file. */
static int reason(char *buf, size_t len)
{
	int fd = open(CHECKPOINT_ERROR_FILE, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return n > 0;
}

/* In the program re-executed by reason_dropped_at_exec: no reason left. */
static void __attribute__((constructor)) reason_after_exec(int argc, char **argv)
{
	char why[256];
	int r;

	if (argc != 2 || strcmp(argv[1], EXEC_ARG))
		return;
	r = reason(why, sizeof(why));
	if (r)
		fprintf(stderr, "after execve(): %d '%s'\n", r, why);
	_exit(r == 0 ? 0 : r > 0 ? 1 : 2);
}

struct reason_thread {
	int fd;
	int seen;		/* what reason() said before its own failure */
	char before[256];	/* the reason it saw then */
	int own_err;
	char own[256];		/* its own after failing */
};

static void *reason_thread_fn(void *arg)
{
	struct reason_thread *t = arg;

	t->seen = reason(t->before, sizeof(t->before));
	if (sys_checkpoint(999998, t->fd, 0) == -1)
		t->own_err = errno;
	reason(t->own, sizeof(t->own));
	return NULL;
}

/* Thread B does not see thread A's reason, nor A B's. */
TEST(reason_per_thread)
{
	struct reason_thread t = { .fd = args_fd() };
	char why[256];
	pthread_t th;

	ASSERT_LE(0, t.fd);
	ASSERT_EQ(-1, sys_checkpoint(999999, t.fd, 0));
	ASSERT_EQ(ESRCH, errno);
	ASSERT_EQ(1, reason(why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "999999")) TH_LOG("reason: '%s'", why);

	ASSERT_EQ(0, pthread_create(&th, NULL, reason_thread_fn, &t));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, t.seen) TH_LOG("thread B read '%s'", t.before);
	EXPECT_EQ(ESRCH, t.own_err);
	EXPECT_NE(NULL, strstr(t.own, "999998")) TH_LOG("thread B's own: '%s'", t.own);
	ASSERT_EQ(1, reason(why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "999999")) TH_LOG("thread A's after B: '%s'", why);
	close(t.fd);
}

/* 40 failures in other processes leave our reason alone. */
TEST(reason_kept_despite_other_processes)
{
	int fd = args_fd(), i, bad = 0;
	pid_t kids[40];
	char why[256];

	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, sys_checkpoint(999999, fd, 0));
	for (i = 0; i < 40; i++) {
		kids[i] = fork();
		ASSERT_LE(0, kids[i]);
		if (kids[i] == 0) {
			char mine[256], num[16];
			pid_t p = 990000 + i;

			if (sys_checkpoint(p, fd, 0) != -1 || errno != ESRCH)
				_exit(10);
			snprintf(num, sizeof(num), "%d", p);
			_exit(reason(mine, sizeof(mine)) == 1 && strstr(mine, num) ? 0 : 11);
		}
	}
	for (i = 0; i < 40; i++)
		bad += cr_wait_exit(kids[i]) != 0;
	EXPECT_EQ(0, bad);
	ASSERT_EQ(1, reason(why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "no process 999999")) TH_LOG("reason now: '%s'", why);
	close(fd);
}

/* execve() drops the reason. */
TEST(reason_dropped_at_exec)
{
	int fd = args_fd();
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *argv[] = { "regress_test", EXEC_ARG, NULL };
		char why[256];

		if (sys_checkpoint(999999, fd, 0) != -1 || reason(why, sizeof(why)) != 1)
			_exit(20);
		execv("/proc/self/exe", argv);
		_exit(21);
	}
	EXPECT_EQ(0, cr_wait_exit(pid)) TH_LOG("1: a reason survived execve(), 20/21: setup");
	close(fd);
}

static int workload_pause(void *arg)
{
	struct sigaction sa = { .sa_handler = on_signal };

	cr_quiet_fds();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	cr_write_str(RG_READY, "1");
	while (!rg_signals)
		pause();
	return 0;
}

/* A successful call clears the reason of the failed one before. */
TEST_F(rg, reason_cleared_by_success)
{
	int fd = open(self->img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char why[256];
	struct stat st;
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = cr_start(self->cg, workload_pause, NULL);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_wait_file(RG_READY, 30000));
	ASSERT_EQ(-1, sys_checkpoint(999999, fd, 0));
	ASSERT_EQ(1, reason(why, sizeof(why)));
	EXPECT_EQ(0, sys_checkpoint(pid, fd, 0)) {
		reason(why, sizeof(why));
		TH_LOG("checkpoint: %s", why);
	}
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LT(0, st.st_size);
	EXPECT_EQ(0, reason(why, sizeof(why))) TH_LOG("after a success: '%s'", why);
	cr_kill_wait(pid);
	close(fd);
}

/* -- 6. and 7. what the restarter has ---------------------------------------- */

/* The restored process reports what it finds, once woken with SIGHUP. */
static int workload_reporter(void *arg)
{
	struct sigaction sa = { .sa_handler = on_signal };
	char buf[1024], status[2048], *p;
	struct itimerval it;
	struct itimerspec its;
	sigset_t set, blocked;
	long vmlck = -1;
	int i, ptimers = 0, ldt, w, werr;
	static uint8_t ldtbuf[LDT_ENTRIES * LDT_ENTRY_SIZE];
	FILE *maps;
	int aio = 0;

	cr_quiet_fds();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	cr_write_str(RG_READY, "1");
	while (!rg_signals)
		pause();

	/* -- restored */
	sigpending(&set);
	sigprocmask(SIG_BLOCK, NULL, &blocked);
	getitimer(ITIMER_REAL, &it);
	for (i = 0; i < 32; i++)
		ptimers += !syscall(SYS_timer_gettime, i, &its);
	ldt = syscall(SYS_modify_ldt, 0, ldtbuf, sizeof(ldtbuf));
	if (ldt < 0)
		ldt = -errno;
	if (cr_read_str("/proc/self/status", status, sizeof(status)) > 0) {
		p = strstr(status, "\nVmLck:");
		if (p)
			vmlck = atol(p + 7);
	}
	maps = fopen("/proc/self/maps", "r");
	while (maps && fgets(buf, sizeof(buf), maps))
		aio += strstr(buf, "[aio]") != NULL;
	if (maps)
		fclose(maps);
	w = waitpid(-1, NULL, WNOHANG);
	werr = w < 0 ? errno : 0;
	snprintf(buf, sizeof(buf),
		 "pending %#llx\nblocked %#llx\nitimer_us %lld\nitimer_interval_us %lld\n"
		 "ptimers %d\nldt %d\nvmlck_kb %ld\nthp_disable %d\naio_maps %d\n"
		 "wait %d\nwait_errno %d\npid %d\n",
		 (unsigned long long)set.__val[0], (unsigned long long)blocked.__val[0],
		 (long long)it.it_value.tv_sec * 1000000 + it.it_value.tv_usec,
		 (long long)it.it_interval.tv_sec * 1000000 + it.it_interval.tv_usec,
		 ptimers, ldt, vmlck, (int)prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0), aio, w, werr,
		 getpid());
	cr_write_str(RG_RESULTS, buf);
	return 0;
}

/* The reporter's image, made once per run of the harness. */
static void reporter_image(struct __test_metadata *_metadata, FIXTURE_DATA(rg) *self,
			   char *path, size_t len)
{
	pid_t pid;

	snprintf(path, len, "%s/reporter-%d.img", RG_DIR, rg_main);
	if (!access(path, F_OK))
		return;
	pid = cr_start(self->cg, workload_reporter, NULL);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_wait_file(RG_READY, 30000));
	for (int i = 0; i < 200 && proc_syscall(pid) != SYS_pause; i++)
		cr_msleep(10);
	ASSERT_EQ(0, cr_checkpoint(pid, self->img, self->why, sizeof(self->why)))
		TH_LOG("checkpoint: %s", self->why);
	cr_kill_wait(pid);
	unlink(RG_READY);
	ASSERT_EQ(0, rename(self->img, path));
}

/*
 * Once the restored reporter is back in pause() (restart() is over: a
 * signal sent earlier could come before its handler), wake it up and
 * wait for its report.
 */
static void wake_reporter(struct __test_metadata *_metadata, pid_t pid)
{
	long nr = wait_syscall(pid, is_pause_nr, 10000);

	ASSERT_EQ(SYS_pause, nr) TH_LOG("the restored reporter is in system call %ld", nr);
	ASSERT_EQ(0, kill(pid, SIGHUP));
	ASSERT_EQ(0, exit_within(pid, 10000));
}

/*
 * restart() after @setup in the restarter.  Either it is refused with a
 * documented errno and a reason naming one of @words ('|'-separated),
 * the restarter living on: *@text is then empty; or the restored process
 * reports what it sees in @text, for the caller to check.
 */
static void restart_reporter(struct __test_metadata *_metadata, FIXTURE_DATA(rg) *self,
			     int (*setup)(void *), void *arg, const char *words,
			     char *text, size_t len, struct rg_restart *r)
{
	char img[160], w[128], *tok, *save;
	bool named = false;
	int ret;

	text[0] = '\0';
	reporter_image(_metadata, self, img, sizeof(img));
	ret = rg_restart(self->cg, img, setup, arg, r);
	ASSERT_NE(-2, ret) TH_LOG("%s", r->why);
	if (ret) {
		TH_LOG("refused: errno %d (%s), '%s'", r->err, strerror(r->err), r->why);
		EXPECT_TRUE(r->err == EINVAL || r->err == EBUSY || r->err == EOPNOTSUPP);
		snprintf(w, sizeof(w), "%s", words);
		for (tok = strtok_r(w, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
			named |= strcasestr(r->why, tok) != NULL;
		EXPECT_TRUE(named) TH_LOG("the reason names none of '%s'", words);
		EXPECT_TRUE(r->survived);
		return;
	}
	wake_reporter(_metadata, r->restored);
	ASSERT_LT(0, read_results(text, len));
}

#define USR_MASK	((1LL << (SIGUSR1 - 1)) | (1LL << (SIGUSR2 - 1)))

static int setup_pending(void *arg)
{
	sigset_t set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || raise(SIGUSR1) || kill(getpid(), SIGUSR2))
		return 1;
	sigpending(&pend);
	return sigismember(&pend, SIGUSR1) && sigismember(&pend, SIGUSR2) ? 0 : 2;
}

TEST_F(rg, restarter_pending_signals_not_inherited)
{
	struct rg_restart r;
	char text[1024];

	restart_reporter(_metadata, self, setup_pending, NULL, "signal|pending",
			 text, sizeof(text), &r);
	if (!text[0])
		return;
	/* The image blocks both: inherited, they would stay pending and show. */
	EXPECT_EQ(USR_MASK, result(text, "blocked") & USR_MASK);
	EXPECT_EQ(0, result(text, "pending"))
		TH_LOG("pending in the restored process: %#llx (SIGUSR1 %#x, SIGUSR2 %#x)",
		       result(text, "pending"), 1 << (SIGUSR1 - 1), 1 << (SIGUSR2 - 1));
}

static int setup_itimer(void *arg)
{
	struct itimerval it = { .it_interval = { 50, 0 }, .it_value = { 100, 0 } };

	return setitimer(ITIMER_REAL, &it, NULL) ? 1 : 0;
}

TEST_F(rg, restarter_itimer_not_inherited)
{
	struct rg_restart r;
	char text[1024];

	restart_reporter(_metadata, self, setup_itimer, NULL, "timer|alarm",
			 text, sizeof(text), &r);
	if (!text[0])
		return;
	EXPECT_EQ(0, result(text, "itimer_us"))
		TH_LOG("ITIMER_REAL in the restored process: %lld us",
		       result(text, "itimer_us"));
	EXPECT_EQ(0, result(text, "itimer_interval_us"));
}

static int setup_posix_timer(void *arg)
{
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	struct itimerspec its = { .it_value = { 100, 0 } };
	int id = -1;

	if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id))
		return 1;
	return syscall(SYS_timer_settime, id, 0, &its, NULL) ? 2 : 0;
}

TEST_F(rg, restarter_posix_timer_not_inherited)
{
	struct rg_restart r;
	char text[1024];

	restart_reporter(_metadata, self, setup_posix_timer, NULL, "timer",
			 text, sizeof(text), &r);
	if (!text[0])
		return;
	EXPECT_EQ(0, result(text, "ptimers"))
		TH_LOG("POSIX timers in the restored process: %lld", result(text, "ptimers"));
}

static int setup_ldt(void *arg)
{
	struct user_desc d = {
		.entry_number = 0, .base_addr = 0, .limit = 0xfffff, .seg_32bit = 1,
		.contents = 0, .read_exec_only = 0, .limit_in_pages = 1, .useable = 1,
	};
	static uint8_t buf[LDT_ENTRY_SIZE * 4];

	if (syscall(SYS_modify_ldt, 1, &d, sizeof(d)))
		return 1;
	return syscall(SYS_modify_ldt, 0, buf, sizeof(buf)) > 0 ? 0 : 2;
}

TEST_F(rg, restarter_ldt_not_inherited)
{
	static uint8_t buf[LDT_ENTRY_SIZE];
	struct rg_restart r;
	char text[1024];

	if (syscall(SYS_modify_ldt, 0, buf, sizeof(buf)) < 0 && errno == ENOSYS)
		SKIP(return, "no modify_ldt() (CONFIG_MODIFY_LDT_SYSCALL)");
	restart_reporter(_metadata, self, setup_ldt, NULL, "LDT", text, sizeof(text), &r);
	if (!text[0])
		return;
	EXPECT_EQ(0, result(text, "ldt"))
		TH_LOG("modify_ldt(0) in the restored process: %lld", result(text, "ldt"));
}

static long aio_nr(void)
{
	char buf[64];

	return cr_read_str(AIO_NR, buf, sizeof(buf)) > 0 ? atol(buf) : -1;
}

static int setup_aio(void *arg)
{
	aio_context_t ctx = 0;

	if (syscall(SYS_io_setup, 128, &ctx))
		return 1;
	return aio_nr() > *(long *)arg ? 0 : 2;
}

TEST_F(rg, restarter_aio_not_inherited)
{
	long base = aio_nr(), now = -1;
	struct rg_restart r;
	char text[1024];
	int i;

	if (base < 0)
		SKIP(return, "no aio (%s)", AIO_NR);
	restart_reporter(_metadata, self, setup_aio, &base, "aio", text, sizeof(text), &r);
	if (!text[0])
		return;
	EXPECT_EQ(0, result(text, "aio_maps"));
	/* The restarter's context went with its old mm (checked after exit: lazily freed). */
	for (i = 0; i < 200 && (now = aio_nr()) != base; i++)
		cr_msleep(10);
	EXPECT_EQ(base, now) TH_LOG("aio-nr %ld before, %ld after", base, now);
}

static int setup_mlockall(void *arg)
{
	return mlockall(MCL_FUTURE) ? 1 : 0;
}

TEST_F(rg, restarter_mlockall_not_inherited)
{
	struct rg_restart r;
	char text[1024];

	restart_reporter(_metadata, self, setup_mlockall, NULL, "mlock|lock",
			 text, sizeof(text), &r);
	if (!text[0])
		return;
	EXPECT_EQ(0, result(text, "vmlck_kb"))
		TH_LOG("VmLck of the restored process: %lld kB", result(text, "vmlck_kb"));
}

static int setup_thp_disable(void *arg)
{
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		return 1;
	return prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1 ? 0 : 2;
}

TEST_F(rg, restarter_thp_disable_not_inherited)
{
	struct rg_restart r;
	char text[1024];

	restart_reporter(_metadata, self, setup_thp_disable, NULL, "THP|huge",
			 text, sizeof(text), &r);
	if (!text[0])
		return;
	EXPECT_EQ(0, result(text, "thp_disable"));
}

static int setup_child(void *arg)
{
	pid_t c = fork();

	if (c < 0)
		return 1;
	if (c == 0) {
		syscall(SYS_close_range, 0, ~0U, 0);	/* the report pipe too */
		for (;;)
			pause();
	}
	return 0;
}

/* A restarter with a child of its own is refused, and lives on. */
TEST_F(rg, restarter_with_child_refused)
{
	struct rg_restart r;
	char img[160];
	char text[1024];
	int ret;

	reporter_image(_metadata, self, img, sizeof(img));
	ret = rg_restart(self->cg, img, setup_child, NULL, &r);
	ASSERT_NE(-2, ret) TH_LOG("%s", r.why);
	if (!ret) {
		wake_reporter(_metadata, r.restored);
		ASSERT_LT(0, read_results(text, sizeof(text)));
		TH_LOG("restarted with the restarter's child: waitpid(-1) %lld, errno %lld",
		       result(text, "wait"), result(text, "wait_errno"));
	}
	ASSERT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, r.err) TH_LOG("errno %d, '%s'", r.err, r.why);
	EXPECT_NE(NULL, strcasestr(r.why, "child")) TH_LOG("reason: '%s'", r.why);
	EXPECT_TRUE(r.survived);
}

TEST_HARNESS_MAIN
