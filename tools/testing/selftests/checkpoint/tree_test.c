// SPDX-License-Identifier: GPL-2.0
/*
 * Whole task trees: checkpoint a container of many processes and
 * threads, kill it, restart it, and check the restored tree itself.
 *
 * From outside, the test reads /proc/PID/task/TID/status of every task
 * below the container's init (NSpid, NStgid, NSpgid, NSsid, PPid, State,
 * Name, SigBlk) before the checkpoint and after the restart, in the
 * container's pid numbers, and compares the two.  From inside, every
 * task reports getpid(), gettid(), getppid(), getpgid(), getsid(), its
 * name and subreaper flag on SIGUSR1, into a report file that init opened
 * O_APPEND before forking (one open file shared by the whole tree).
 *
 * Shapes: a chain 30 deep, 100 children of one parent, zombies reaped
 * after restart with their exit status, orphans reparented to init and to
 * a subreaper (and reparented again after restart), sessions and groups
 * whose leader has exited, threads each blocked in its own wait with its
 * own name, mask, sigaltstack and TLS, 100 processes of 11 threads each,
 * a subtree.  Flags: a container frozen by the user stays frozen,
 * CHECKPOINT_LEAVE_FROZEN, CHECKPOINT_KILL, both (EINVAL), RESTART_FROZEN.
 * Refusals: a file shared with a process outside (EBUSY), one task of
 * many with an eventfd, inet socket, unix socket holding an unread
 * out-of-band byte, timer, vfork() or
 * timed futex wait (EOPNOTSUPP): every task then keeps running, thawed.
 * Failed restarts (a deleted file, every allocation failing in turn,
 * a pid taken by an orphan of a task that entered the container with
 * setns()) leave no task behind but the restarter, and a child they did
 * not create alone.  Also: a zombie session
 * leader, restored zombies and sessions checkpointed again, a subtree
 * with its own session, a non-SIGCHLD exit signal, fd tables and fs info
 * shared by fork, CLONE_FILES and unshare(), a leader that exited before
 * its threads, stopped and traced tasks, masks of sigsuspend()/ppoll().
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <linux/futex.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>

#include "cr_test.h"
#include "../kselftest_harness.h"

#define TT_DIR		"/tmp/crtree"
#define TT_REPORT	TT_DIR "/report"
#define TT_FD		3	/* the report file, in every task */
#define TT_MAX		1500	/* tasks in a snapshot */
#define TT_PROCS	8192	/* processes of the whole system */

#define CHAIN_DEPTH	30
#define WIDE_KIDS	100
#define SC_KIDS		9	/* init's children; each has SC_KIDS2 */
#define SC_KIDS2	10
#define SC_THREADS	10	/* threads of each of the 100 processes, the leader aside */
#define TH_SLEEP_S	10
#define CT_POS		777	/* offset of the shared file of the counting tree */

#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define NTH_CAP		5000
#define SWEEP_MAX_S	300

/* -- in the container ----------------------------------------------------- */

volatile uint64_t tt_counter, tt_go;
static volatile sig_atomic_t tt_kicked;
static __thread uint64_t tt_tls;

/* Append " @v" to @p, in decimal or hex: async-signal-safe. */
static char *tt_put(char *p, unsigned long long v, int hex)
{
	unsigned int base = hex ? 16 : 10;
	char tmp[24];
	int n = 0;

	*p++ = ' ';
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* SIGUSR1: "R tid tgid ppid pgid sid subreaper tls name" */
static void tt_on_kick(int sig)
{
	char line[160], name[17] = "", *p = line;
	int err = errno, sub = 0, i;

	tt_kicked = 1;
	prctl(PR_GET_NAME, name);
	prctl(PR_GET_CHILD_SUBREAPER, &sub);
	*p++ = 'R';
	p = tt_put(p, gettid(), 0);
	p = tt_put(p, getpid(), 0);
	p = tt_put(p, getppid(), 0);
	p = tt_put(p, getpgid(0), 0);
	p = tt_put(p, getsid(0), 0);
	p = tt_put(p, sub, 0);
	p = tt_put(p, tt_tls, 1);
	*p++ = ' ';
	for (i = 0; name[i]; i++)
		*p++ = name[i];
	*p++ = '\n';
	if (write(TT_FD, line, p - line) < 0)
		_exit(97);
	errno = err;
}

static void tt_line(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(TT_FD, buf, n) != n)
		_exit(99);
}

/* "U tid name": this task is set up. */
static void tt_up(void)
{
	char name[17] = "";

	prctl(PR_GET_NAME, name);
	tt_line("U %d %s\n", gettid(), name);
}

static void __attribute__((noreturn)) tt_idle(void)
{
	for (;;)
		pause();
}


/* The container's init: quiet fds, the report file at TT_FD, SIGUSR1. */
static void tt_enter(const char *name, int keep)
{
	struct sigaction sa = { .sa_handler = tt_on_kick, .sa_flags = SA_RESTART };

	cr_quiet_fds_keep(keep);
	if (chdir(TT_DIR) || open(TT_REPORT, O_WRONLY | O_APPEND | O_CREAT, 0644) != TT_FD)
		_exit(10);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	prctl(PR_SET_NAME, name);
}

/* fork() a child named @name that runs @fn(@arg) and never returns. */
static pid_t tt_spawn(const char *name, void (*fn)(long), long arg)
{
	pid_t c = fork();

	if (c < 0)
		_exit(98);
	if (c == 0) {
		prctl(PR_SET_NAME, name);
		fn(arg);
		_exit(0);
	}
	return c;
}

static void tt_reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* -- the test's view: snapshots of /proc ---------------------------------- */

struct tt_task {
	pid_t hpid, htgid, hppid, hpgid;	/* in the test's pid namespace */
	pid_t pid, tgid, ppid, pgid, sid;	/* in the container's */
	int zombie;
	unsigned long long sigblk;
	char name[17];
};

struct tt_snap {
	int n;
	struct tt_task t[TT_MAX];
};

/* The first (or @last) number on the line "@key" of a status text. */
static long long st_num(const char *text, const char *key, int last, int base)
{
	char pat[32];
	const char *p;
	char *end;
	long long v = -1, x;

	snprintf(pat, sizeof(pat), "\n%s:", key);
	p = strstr(text, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	for (;;) {
		while (*p == '\t' || *p == ' ')
			p++;
		x = strtoll(p, &end, base);
		if (end == p)
			break;
		v = x;
		p = end;
		if (!last)
			break;
	}
	return v;
}

static int tt_read_task(pid_t pid, pid_t tid, struct tt_task *t)
{
	char path[64], buf[8192];
	const char *p;
	int i;

	buf[0] = '\n';
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	if (cr_read_str(path, buf + 1, sizeof(buf) - 1) <= 0)
		return -1;
	memset(t, 0, sizeof(*t));
	t->hpid = tid;
	t->htgid = pid;
	t->hppid = st_num(buf, "PPid", 0, 10);
	t->hpgid = st_num(buf, "NSpgid", 0, 10);
	t->pid = st_num(buf, "NSpid", 1, 10);
	t->tgid = st_num(buf, "NStgid", 1, 10);
	t->pgid = st_num(buf, "NSpgid", 1, 10);
	t->sid = st_num(buf, "NSsid", 1, 10);
	t->sigblk = st_num(buf, "SigBlk", 0, 16);
	p = strstr(buf, "\nState:\t");
	t->zombie = p && p[8] == 'Z';
	p = strstr(buf, "\nName:\t");
	for (i = 0; p && p[7 + i] && p[7 + i] != '\n' && i < 16; i++)
		t->name[i] = p[7 + i];
	return t->pid > 0 && t->tgid > 0 ? 0 : -1;
}

/* Every process of the system: its pid and its parent's; how many. */
static int tt_procs(pid_t *pid, pid_t *ppid, int max)
{
	char path[64], buf[1024], *p;
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	while (d && n < max && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.32s/stat", de->d_name);
		if (cr_read_str(path, buf, sizeof(buf)) <= 0)
			continue;
		p = strrchr(buf, ')');
		if (!p || strlen(p) < 5)
			continue;
		pid[n] = atoi(de->d_name);
		ppid[n] = atoi(p + 4);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

static int tt_cmp_pid(const void *a, const void *b)
{
	return ((const struct tt_task *)a)->pid - ((const struct tt_task *)b)->pid;
}

/* Every task of @root (host pid) and its descendants, sorted by container pid. */
static void tt_snap(pid_t root, struct tt_snap *s)
{
	static pid_t hp[TT_PROCS], pp[TT_PROCS];
	static char in[TT_PROCS];
	int n = tt_procs(hp, pp, TT_PROCS), changed = 1, i, j;
	char path[64];
	struct dirent *de;
	DIR *d;

	for (i = 0; i < n; i++)
		in[i] = hp[i] == root;
	while (changed) {
		changed = 0;
		for (i = 0; i < n; i++)
			for (j = 0; !in[i] && j < n; j++)
				if (in[j] && pp[i] == hp[j])
					in[i] = changed = 1;
	}
	s->n = 0;
	for (i = 0; i < n; i++) {
		if (!in[i])
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", hp[i]);
		d = opendir(path);
		while (d && s->n < TT_MAX && (de = readdir(d)))
			if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
			    !tt_read_task(hp[i], atoi(de->d_name), &s->t[s->n]))
				s->n++;
		if (d)
			closedir(d);
	}
	/* The parent in the container's numbers: 0 if it is outside. */
	for (i = 0; i < s->n; i++) {
		struct tt_task *t = &s->t[i];

		t->ppid = 0;
		for (j = 0; j < s->n; j++)
			if (s->t[j].hpid == t->hppid)
				t->ppid = s->t[j].pid;
	}
	qsort(s->t, s->n, sizeof(s->t[0]), tt_cmp_pid);
}

static struct tt_task *tt_find(const struct tt_snap *s, pid_t pid)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->t[i].pid == pid)
			return (struct tt_task *)&s->t[i];
	return NULL;
}

/* The task named @name (the first, by pid). */
static struct tt_task *tt_named(const struct tt_snap *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->t[i].name, name))
			return (struct tt_task *)&s->t[i];
	return NULL;
}

static int tt_count_named(const struct tt_snap *s, const char *name)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++)
		n += !strcmp(s->t[i].name, name);
	return n;
}

static int snap_zombies(const struct tt_snap *s)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->t[i].zombie;
	return n;
}

static void tt_drop(struct tt_snap *s, pid_t pid)
{
	struct tt_task *t = tt_find(s, pid);

	if (!t)
		return;
	memmove(t, t + 1, (char *)&s->t[s->n] - (char *)(t + 1));
	s->n--;
}

/* Keep only @root and its descendants (container pids). */
static void snap_subtree(struct tt_snap *s, pid_t root)
{
	char keep[TT_MAX] = {};
	int i, j, changed = 1, n = 0;

	for (i = 0; i < s->n; i++)
		keep[i] = s->t[i].tgid == root;
	while (changed) {
		changed = 0;
		for (i = 0; i < s->n; i++)
			for (j = 0; !keep[i] && j < s->n; j++)
				if (keep[j] && s->t[i].ppid == s->t[j].tgid)
					keep[i] = changed = 1;
	}
	for (i = 0; i < s->n; i++)
		if (keep[i])
			s->t[n++] = s->t[i];
	s->n = n;
}

#define DIFF(fmt, ...) do {							\
	if (used < len)								\
		used += snprintf(msg + used, len - used, fmt "; ", ##__VA_ARGS__);	\
	diffs++;								\
} while (0)

/*
 * How @got differs from @want, in the container's numbers; the first
 * differences described in @msg.  A zombie has no name nor mask.
 */
static int tt_diff(const struct tt_snap *want, const struct tt_snap *got, char *msg, size_t len)
{
	size_t used = 0;
	int i, diffs = 0;

	msg[0] = '\0';
	if (want->n != got->n)
		DIFF("%d tasks, %d expected", got->n, want->n);
	for (i = 0; i < want->n; i++) {
		const struct tt_task *w = &want->t[i], *g = tt_find(got, w->pid);

		if (!g) {
			DIFF("pid %d (%s) missing", w->pid, w->name);
			continue;
		}
		if (g->tgid != w->tgid || g->ppid != w->ppid || g->pgid != w->pgid ||
		    g->sid != w->sid || g->zombie != w->zombie)
			DIFF("pid %d (%s): tgid %d ppid %d pgid %d sid %d%s, expected %d %d %d %d%s",
			     w->pid, w->name, g->tgid, g->ppid, g->pgid, g->sid,
			     g->zombie ? " zombie" : "", w->tgid, w->ppid, w->pgid, w->sid,
			     w->zombie ? " zombie" : "");
		else if (!w->zombie && (strcmp(g->name, w->name) || g->sigblk != w->sigblk))
			DIFF("pid %d: name '%s' SigBlk %llx, expected '%s' %llx", w->pid, g->name,
			     g->sigblk, w->name, w->sigblk);
	}
	for (i = 0; i < got->n; i++)
		if (!tt_find(want, got->t[i].pid))
			DIFF("pid %d (%s) extra", got->t[i].pid, got->t[i].name);
	return diffs;
}

/* Snapshot @root until it is as @want, for up to @ms; the differences left. */
static int tt_wait_match(pid_t root, const struct tt_snap *want, struct tt_snap *got,
			 char *msg, size_t len, int ms)
{
	double end = cr_now() + ms / 1000.0;
	int d;

	for (;;) {
		tt_snap(root, got);
		d = tt_diff(want, got, msg, len);
		if (!d || cr_now() > end)
			return d;
		cr_msleep(100);
	}
}

/* -- the test's view: the report file --------------------------------------- */

struct tt_rep {
	int n;
	struct {
		pid_t tid, tgid, ppid, pgid, sid;
		int sub;
		unsigned long long tls;
		char name[17];
	} r[TT_MAX];
};

static char *tt_load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size + 2);
	n = buf ? read(fd, buf + 1, st.st_size) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[0] = '\n';
	buf[n + 1] = '\0';
	return buf;
}

/* Lines of the report starting with "@tag ". */
static int tt_count(char tag)
{
	char *text = tt_load(TT_REPORT), *p, pat[4] = { '\n', tag, ' ', '\0' };
	int n = 0;

	for (p = text; p && (p = strstr(p, pat)); p++)
		n++;
	free(text);
	return n;
}

/* Wait up to @ms for @n lines "@tag ..."; how many there are. */
static int tt_wait_count(char tag, int n, int ms)
{
	int got;

	for (; (got = tt_count(tag)) < n && ms > 0; ms -= 50)
		cr_msleep(50);
	return got;
}

static int tt_rep_find(const struct tt_rep *r, pid_t tid)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->r[i].tid == tid)
			return i;
	return -1;
}

static off_t tt_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_size;
}

/* The R lines of the report from offset @from, the last one of each tid. */
static void tt_reports(struct tt_rep *r, off_t from)
{
	char *text = tt_load(TT_REPORT), *p;
	int i;

	r->n = 0;
	for (p = text ? text + from : NULL; p && (p = strstr(p, "\nR ")); p++) {
		pid_t tid = atoi(p + 3);

		i = tt_rep_find(r, tid);
		if (i < 0) {
			if (r->n == TT_MAX)
				break;
			i = r->n++;
		}
		r->r[i].name[0] = '\0';
		if (sscanf(p + 1, "R %d %d %d %d %d %d %llx %16s", &r->r[i].tid, &r->r[i].tgid,
			   &r->r[i].ppid, &r->r[i].pgid, &r->r[i].sid, &r->r[i].sub,
			   &r->r[i].tls, r->r[i].name) != 8)
			r->r[i].tid = -1;	/* a torn line: not a report */
	}
	free(text);
}

/*
 * SIGUSR1 to every live task of @s (to its group when @groups, the host
 * pgid of a group in the container) until each has reported; how many
 * did not within @ms.
 */
static int tt_kick(const struct tt_snap *s, struct tt_rep *r, int groups, int ms)
{
	double end = cr_now() + ms / 1000.0;
	off_t from = tt_size(TT_REPORT);	/* reports of earlier kicks do not count */
	int i, missing;

	for (;;) {
		tt_reports(r, from);
		missing = 0;
		for (i = 0; i < s->n; i++) {
			const struct tt_task *t = &s->t[i];

			if (t->zombie || tt_rep_find(r, t->pid) >= 0)
				continue;
			missing++;
			if (groups && t->pgid)
				kill(-t->hpgid, SIGUSR1);
			else
				syscall(SYS_tgkill, t->htgid, t->hpid, SIGUSR1);
		}
		if (!missing || cr_now() > end)
			return missing;
		cr_msleep(500);
	}
}

/* Does every live task of @want say from inside what @want says of it? */
static int tt_check_reports(const struct tt_snap *want, const struct tt_rep *r,
			    char *msg, size_t len)
{
	size_t used = 0;
	int i, j, diffs = 0;

	msg[0] = '\0';
	for (i = 0; i < want->n; i++) {
		const struct tt_task *w = &want->t[i];

		if (w->zombie)
			continue;
		j = tt_rep_find(r, w->pid);
		if (j < 0) {
			DIFF("pid %d (%s) did not report", w->pid, w->name);
			continue;
		}
		if (r->r[j].tgid != w->tgid || r->r[j].ppid != w->ppid ||
		    r->r[j].pgid != w->pgid || r->r[j].sid != w->sid ||
		    strcmp(r->r[j].name, w->name))
			DIFF("tid %d says pid %d ppid %d pgid %d sid %d '%s', expected %d %d %d %d '%s'",
			     w->pid, r->r[j].tgid, r->r[j].ppid, r->r[j].pgid, r->r[j].sid,
			     r->r[j].name, w->tgid, w->ppid, w->pgid, w->sid, w->name);
	}
	return diffs;
}

/* -- checkpoint, restart -------------------------------------------------------- */

static int tt_checkpoint(pid_t pid, const char *path, unsigned long flags, char *why, size_t len)
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

struct tt_rs {
	pid_t init;	/* the restarter (host pid), pid 1 of the new container */
	long ret;	/* restart()'s return to a restarter that stayed init, or 0 */
	int err;	/* a refused restart: its errno */
	long left;	/* and what was left of its fail-nth count */
	int hold;	/* a refused restarter waits until this is closed */
	char why[512];
};

/*
 * restart(@flags) of @path by pid 1 of a new container in the cgroup
 * @cg, with fail-nth @nth (0: none) armed for the call.  0 if restart()
 * did not return (the restarter became the restored init: or died) or
 * returned a pid (@r->ret); -1 if it was refused: the restarter then
 * waits for tt_release(); -2 if the test could not set up.
 */
static int tt_restart(int cg, const char *path, unsigned long flags, unsigned int nth,
		      struct tt_rs *r)
{
	int rep[2], hold[2], img, nfd = -1;
	char buf[600], *p;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->hold = -1;
	img = open(path, O_RDONLY | O_CLOEXEC);
	if (img < 0 || pipe2(rep, O_CLOEXEC) || pipe2(hold, O_CLOEXEC)) {
		snprintf(r->why, sizeof(r->why), "open %s: %s", path, strerror(errno));
		return -2;
	}
	r->init = cr_clone(cg);
	if (r->init < 0) {
		snprintf(r->why, sizeof(r->why), "clone3: %s", strerror(errno));
		return -2;
	}
	if (r->init == 0) {
		long ret, left = 0;
		int err;

		close(rep[0]);
		close(hold[1]);
		if (nth) {
			nfd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
			if (nfd < 0 || cr_nth_arm(nfd, nth))
				_exit(124);
		}
		ret = sys_restart(RESTART_CRID_FD, img, flags);
		err = errno;
		if (nth)
			left = cr_nth_disarm(nfd);
		if (ret > 0) {
			snprintf(buf, sizeof(buf), "OK %ld", ret);
			if (write(rep[1], buf, strlen(buf)) < 0)
				_exit(126);
			close(rep[1]);
			while (wait(NULL) > 0 || errno == EINTR)
				;
			_exit(0);
		}
		snprintf(buf, sizeof(buf), "ERR %d %ld ", err, left);
		cr_reason(buf + strlen(buf), sizeof(buf) - strlen(buf));
		if (write(rep[1], buf, strlen(buf)) < 0)
			_exit(126);
		close(rep[1]);
		if (read(hold[0], buf, 1) < 0)
			_exit(126);
		_exit(125);
	}
	close(img);
	close(rep[1]);
	close(hold[0]);
	r->hold = hold[1];
	n = read(rep[0], buf, sizeof(buf) - 1);
	close(rep[0]);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (!strncmp(buf, "OK ", 3)) {
		r->ret = atol(buf + 3);
		return 0;
	}
	if (strncmp(buf, "ERR ", 4) || sscanf(buf + 4, "%d %ld", &r->err, &r->left) != 2) {
		snprintf(r->why, sizeof(r->why), "bad report from the restarter: '%.400s'", buf);
		return -2;
	}
	p = strchr(strchr(buf + 4, ' ') + 1, ' ');
	snprintf(r->why, sizeof(r->why), "%s", p ? p + 1 : "");
	return -1;
}

/* Let a refused restarter go: its exit status (125 if it ran to the end). */
static int tt_release(struct tt_rs *r)
{
	if (r->hold >= 0)
		close(r->hold);
	r->hold = -1;
	return cr_wait_exit(r->init);
}

/* The tids of the cgroup @cgpath other than @pid: how many, listed in @msg. */
static int tt_cg_others(const char *cgpath, pid_t pid, char *msg, size_t len)
{
	char path[300], buf[4096], *p;
	size_t used = 0;
	int n = 0;

	msg[0] = '\0';
	snprintf(path, sizeof(path), "%s/cgroup.threads", cgpath);
	if (cr_read_str(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		if (atoi(p) == pid || atoi(p) <= 0)
			continue;
		n++;
		if (used < len)
			used += snprintf(msg + used, len - used, "%d ", atoi(p));
	}
	return n;
}

/* Is the cgroup empty (within 2 s)? */
static int tt_cg_empty(const char *cgpath)
{
	char path[300], buf[256];
	int i;

	snprintf(path, sizeof(path), "%s/cgroup.threads", cgpath);
	for (i = 0; i < 200; i++) {
		if (cr_read_str(path, buf, sizeof(buf)) == 0)
			return 0;
		cr_msleep(10);
	}
	return -1;
}

/* cgroup.freeze of @cgpath: 0, 1, or -1; @events: "frozen N" of cgroup.events. */
static int tt_freeze_state(const char *cgpath, int events)
{
	char path[300], buf[256], *p;

	snprintf(path, sizeof(path), "%s/%s", cgpath, events ? "cgroup.events" : "cgroup.freeze");
	if (cr_read_str(path, buf, sizeof(buf)) <= 0)
		return -1;
	if (!events)
		return atoi(buf);
	p = strstr(buf, "frozen ");
	return p ? atoi(p + 7) : -1;
}

static int tt_set_freeze(const char *cgpath, int on)
{
	char path[300];
	int i;

	snprintf(path, sizeof(path), "%s/cgroup.freeze", cgpath);
	if (cr_write_str(path, on ? "1" : "0"))
		return -1;
	for (i = 0; i < 1000 && tt_freeze_state(cgpath, 1) != on; i++)
		cr_msleep(10);
	return tt_freeze_state(cgpath, 1) == on ? 0 : -1;
}

/*
 * Do tt_counter of every live process of @s move (@move), or stay still
 * for half a second?  0, or the container pid of the first that does not.
 */
static pid_t tt_progress(const struct tt_snap *s, int move)
{
	uint64_t a[TT_MAX], b;
	int i, k, done;

	for (i = 0; i < s->n; i++)
		if (s->t[i].pid == s->t[i].tgid && !s->t[i].zombie &&
		    cr_peek(s->t[i].hpid, (void *)&tt_counter, &a[i]))
			return s->t[i].pid;
	for (k = 0; k < 100; k++) {
		cr_msleep(move ? 50 : 500);
		done = 1;
		for (i = 0; i < s->n; i++) {
			if (s->t[i].pid != s->t[i].tgid || s->t[i].zombie)
				continue;
			if (cr_peek(s->t[i].hpid, (void *)&tt_counter, &b))
				return s->t[i].pid;
			if (!move && b != a[i])
				return s->t[i].pid;
			if (move && b <= a[i])
				done = 0;
		}
		if (!move || done)
			return 0;
	}
	for (i = 0; i < s->n; i++)
		if (s->t[i].pid == s->t[i].tgid && !s->t[i].zombie &&
		    (cr_peek(s->t[i].hpid, (void *)&tt_counter, &b) || b <= a[i]))
			return s->t[i].pid;
	return 0;
}

/* -- the fixtures ------------------------------------------------------------ */

struct tt_env {
	int cg;
	char cgpath[128];
	char img[160];
	char why[512];
	char msg[2048];
	pid_t init;		/* the container's init, host pid */
	struct tt_snap *a, *b;	/* before the checkpoint, after the restart */
	struct tt_rep *rep;
};

static void tt_env_setup(struct tt_env *e)
{
	mkdir(TT_DIR, 0755);
	unlink(TT_REPORT);
	unlink(TT_DIR "/mark0");
	unlink(TT_DIR "/mark1");
	e->cg = cr_cgroup(e->cgpath, sizeof(e->cgpath));
	snprintf(e->img, sizeof(e->img), "%s/image-%d", TT_DIR, getpid());
	e->a = calloc(1, sizeof(*e->a));
	e->b = calloc(1, sizeof(*e->b));
	e->rep = calloc(1, sizeof(*e->rep));
}

static void tt_env_teardown(struct tt_env *e)
{
	close(e->cg);
	cr_cgroup_remove(e->cgpath);
	unlink(e->img);
	free(e->a);
	free(e->b);
	free(e->rep);
}

/*
 * Start @fn as a container, wait for its @up tasks to say they are set up
 * and for @zombies of them to have exited: snapshot e->a of @tasks tasks.
 */
static void tt_start(struct __test_metadata *_metadata, struct tt_env *e, int (*fn)(void *),
		     int up, int zombies, int tasks)
{
	int i, got;

	ASSERT_LE(0, e->cg);
	ASSERT_NE(NULL, e->rep);
	e->init = cr_start(e->cg, fn, NULL);
	ASSERT_LT(0, e->init);
	got = tt_wait_count('U', up, 120000);
	ASSERT_EQ(up, got) TH_LOG("%d of %d tasks set up", got, up);
	for (i = 0; i < 1000; i++) {
		tt_snap(e->init, e->a);
		if (e->a->n == tasks && snap_zombies(e->a) == zombies)
			break;
		cr_msleep(20);
	}
	ASSERT_EQ(tasks, e->a->n);
	ASSERT_EQ(zombies, snap_zombies(e->a));
	cr_msleep(200);		/* into their waits */
	tt_snap(e->init, e->a);
	ASSERT_EQ(tasks, e->a->n);
}

/* Checkpoint e->init (0 or the errno), then kill the container and wait it out. */
static void tt_checkpoint_kill(struct __test_metadata *_metadata, struct tt_env *e,
			       pid_t pid, unsigned long flags)
{
	double t0 = cr_now();

	ASSERT_EQ(0, tt_checkpoint(pid, e->img, flags, e->why, sizeof(e->why)))
		TH_LOG("checkpoint: %s", e->why);
	TH_LOG("checkpoint of %d tasks: %.1f s", e->a->n, cr_now() - t0);
	cr_kill_wait(e->init);
	ASSERT_EQ(0, tt_cg_empty(e->cgpath));
}

/* Restart e->img; e->init is then the new container's init. */
static void tt_restart_ok(struct __test_metadata *_metadata, struct tt_env *e,
			  unsigned long flags, struct tt_rs *r)
{
	double t0 = cr_now();
	int ret = tt_restart(e->cg, e->img, flags, 0, r);

	if (ret == -1)
		TH_LOG("restart refused: %s (%s)", strerror(r->err), r->why);
	ASSERT_EQ(0, ret) TH_LOG("%s", r->why);
	close(r->hold);
	r->hold = -1;
	e->init = r->init;
	TH_LOG("restart: %.1f s", cr_now() - t0);
}

/* The restored tree, from outside (e->b) and from inside, is e->a. */
static void tt_verify(struct __test_metadata *_metadata, struct tt_env *e, int groups)
{
	int missing;

	ASSERT_EQ(0, tt_wait_match(e->init, e->a, e->b, e->msg, sizeof(e->msg), 60000))
		TH_LOG("restored tree: %s", e->msg);
	missing = tt_kick(e->b, e->rep, groups, 60000);
	ASSERT_EQ(0, missing) TH_LOG("%d tasks did not report", missing);
	EXPECT_EQ(0, tt_check_reports(e->a, e->rep, e->msg, sizeof(e->msg)))
		TH_LOG("reports: %s", e->msg);
}

/* checkpoint, kill, restart, verify: the common cycle. */
static void tt_cycle(struct __test_metadata *_metadata, struct tt_env *e, int groups)
{
	struct tt_rs r;

	tt_checkpoint_kill(_metadata, e, e->init, 0);
	tt_restart_ok(_metadata, e, 0, &r);
	tt_verify(_metadata, e, groups);
}

FIXTURE(tt) {
	struct tt_env e;
};

FIXTURE_SETUP(tt)
{
	tt_env_setup(&self->e);
	ASSERT_LE(0, self->e.cg);
}

FIXTURE_TEARDOWN(tt)
{
	tt_env_teardown(&self->e);
}

/* -- 1. a chain 30 deep ------------------------------------------------------- */

/* The root of a subtree to checkpoint: no file shared with the tasks above it. */
static pid_t tt_own_files;

static void tt_reopen(void)
{
	if (getpid() != tt_own_files)
		return;
	close(TT_FD);
	cr_quiet_fds_keep(-1);
	if (open(TT_REPORT, O_WRONLY | O_APPEND) != TT_FD)
		_exit(13);
}

static void chain_link(long depth)
{
	pid_t c;

	tt_reopen();
	c = depth ? tt_spawn("tt-chain", chain_link, depth - 1) : 0;
	tt_up();
	if (c)
		tt_reap(c);	/* in wait4() for good */
	tt_idle();
}

static int wl_chain(void *arg)
{
	tt_enter("tt-init", -1);
	chain_link(CHAIN_DEPTH);
	return 0;
}

/* Each of @s has the one before it as parent: the chain is whole. */
static int chain_ok(const struct tt_snap *s, int depth)
{
	int i;

	if (s->n != depth + 1 || s->t[0].pid != 1 || s->t[0].ppid != 0)
		return 0;
	for (i = 1; i < s->n; i++)
		if (s->t[i].ppid != s->t[i - 1].pid)
			return 0;
	return 1;
}

TEST_F_TIMEOUT(tt, chain, 240)
{
	struct tt_env *e = &self->e;

	tt_start(_metadata, e, wl_chain, CHAIN_DEPTH + 1, 0, CHAIN_DEPTH + 1);
	ASSERT_TRUE(chain_ok(e->a, CHAIN_DEPTH));
	tt_cycle(_metadata, e, 0);
	EXPECT_TRUE(chain_ok(e->b, CHAIN_DEPTH));
}

/*
 * The middle of a chain, with CHECKPOINT_SUBTREE: it comes back with its
 * pid as the restarter's child (restart() returns that pid to the
 * restarter), its descendants as they were.  A subtree that shares an
 * open file with the tasks above it is refused (EBUSY): pid 5 opens its
 * own, pid 3 has init's.
 */
TEST_F_TIMEOUT(tt, subtree, 240)
{
	struct tt_env *e = &self->e;
	struct tt_task *t;
	struct tt_rs r;
	pid_t root;
	int i;

	tt_own_files = 5;
	tt_start(_metadata, e, wl_chain, CHAIN_DEPTH + 1, 0, CHAIN_DEPTH + 1);
	t = tt_find(e->a, 5);
	ASSERT_NE(NULL, t);
	root = t->hpid;
	/* Without CHECKPOINT_SUBTREE, only a pid namespace's init. */
	EXPECT_EQ(-EINVAL, tt_checkpoint(root, e->img, 0, e->why, sizeof(e->why)))
		TH_LOG("checkpoint of pid 5 without CHECKPOINT_SUBTREE: %s", e->why);
	EXPECT_EQ(0, tt_freeze_state(e->cgpath, 0));
	t = tt_find(e->a, 3);
	ASSERT_NE(NULL, t);
	EXPECT_EQ(-EBUSY, tt_checkpoint(t->hpid, e->img, CHECKPOINT_SUBTREE, e->why,
					sizeof(e->why)))
		TH_LOG("checkpoint of pid 3, which shares the report file with init: %s", e->why);
	EXPECT_EQ(0, tt_freeze_state(e->cgpath, 0));
	snap_subtree(e->a, 5);
	ASSERT_EQ(CHAIN_DEPTH + 1 - 4, e->a->n);
	tt_checkpoint_kill(_metadata, e, root, CHECKPOINT_SUBTREE);
	tt_restart_ok(_metadata, e, 0, &r);
	EXPECT_EQ(5, r.ret);
	tt_find(e->a, 5)->ppid = 1;	/* the restarter's child */
	/* The restarter stays pid 1; below it, the subtree as it was. */
	for (i = 0; i < 600; i++) {
		tt_snap(e->init, e->b);
		t = tt_find(e->b, 1);
		ASSERT_TRUE(t && t->hpid == e->init && !t->ppid);
		tt_drop(e->b, 1);
		if (!tt_diff(e->a, e->b, e->msg, sizeof(e->msg)))
			break;
		cr_msleep(100);
	}
	ASSERT_EQ(0, tt_diff(e->a, e->b, e->msg, sizeof(e->msg)))
		TH_LOG("restored subtree: %s", e->msg);
	ASSERT_EQ(0, tt_kick(e->b, e->rep, 0, 60000));
	EXPECT_EQ(0, tt_check_reports(e->a, e->rep, e->msg, sizeof(e->msg)))
		TH_LOG("reports: %s", e->msg);
}

/* -- 2. 100 children of one parent --------------------------------------------- */

static void wide_kid(long i)
{
	tt_up();
	tt_idle();
}

static void wide_parent(long n)
{
	long i;

	for (i = 0; i < n; i++)
		tt_spawn("tt-kid", wide_kid, i);
	tt_up();
	while (wait(NULL) > 0 || errno == EINTR)
		;
	tt_idle();
}

static int wl_wide(void *arg)
{
	tt_enter("tt-init", -1);
	tt_spawn("tt-parent", wide_parent, WIDE_KIDS);
	tt_up();
	tt_idle();
}

TEST_F_TIMEOUT(tt, wide, 240)
{
	struct tt_env *e = &self->e;
	struct tt_task *p;

	tt_start(_metadata, e, wl_wide, WIDE_KIDS + 2, 0, WIDE_KIDS + 2);
	p = tt_named(e->a, "tt-parent");
	ASSERT_NE(NULL, p);
	ASSERT_EQ(2, p->pid);
	tt_cycle(_metadata, e, 0);
	EXPECT_EQ(WIDE_KIDS, tt_count_named(e->b, "tt-kid"));
}

/* -- 3. zombies --------------------------------------------------------------- */

/* How each zombie ends; the last one is init's own child. */
static const struct { int code, sig; } zk[] = {
	{ 3, 0 }, { 7, 0 }, { 0, SIGTERM }, { 0, SIGKILL }, { 0, 0 }, { 0, SIGUSR2 }, { 42, 0 },
};

#define NZ	ARRAY_SIZE(zk)

/* "X pid status": the status its parent must reap; then die that way. */
static void zombie_kid(long i)
{
	tt_line("X %d %#x\n", getpid(), zk[i].sig ? zk[i].sig : zk[i].code << 8);
	if (zk[i].sig) {
		signal(zk[i].sig, SIG_DFL);
		kill(getpid(), zk[i].sig);
		tt_idle();
	}
	_exit(zk[i].code);
}

/* Once kicked, reap @n children: "W pid status" each. */
static void zombie_reap(pid_t *kids, int n)
{
	int i, st;
	pid_t p;

	while (!tt_kicked)
		pause();
	for (i = 0; i < n; i++) {
		while ((p = waitpid(kids[i], &st, 0)) < 0 && errno == EINTR)
			;
		tt_line("W %d %#x\n", p, p > 0 ? st : errno);
	}
}

static void zombie_parent(long unused)
{
	pid_t kids[NZ - 1];
	unsigned int i;

	for (i = 0; i < NZ - 1; i++)
		kids[i] = tt_spawn("tt-zkid", zombie_kid, i);
	tt_up();
	zombie_reap(kids, NZ - 1);
	tt_idle();
}

static int wl_zombies(void *arg)
{
	pid_t z;

	tt_enter("tt-init", -1);
	tt_spawn("tt-zparent", zombie_parent, 0);
	z = tt_spawn("tt-zinit", zombie_kid, NZ - 1);
	tt_up();
	zombie_reap(&z, 1);
	tt_idle();
}

/* The status of "@tag @pid status" in the report, or -1. */
static int report_status(char tag, pid_t pid)
{
	char *text = tt_load(TT_REPORT), pat[32], *p;
	int st = -1;

	snprintf(pat, sizeof(pat), "\n%c %d ", tag, pid);
	p = text ? strstr(text, pat) : NULL;
	if (p)
		st = strtol(p + strlen(pat), NULL, 16);
	free(text);
	return st;
}

TEST_F_TIMEOUT(tt, zombies, 240)
{
	struct tt_env *e = &self->e;
	unsigned int i, n = 0;
	struct tt_rs r;

	tt_start(_metadata, e, wl_zombies, 2, NZ, NZ + 2);
	ASSERT_EQ(NZ, tt_count('X'));
	/* Restored zombies are checkpointed and restored again. */
	tt_checkpoint_kill(_metadata, e, e->init, 0);
	tt_restart_ok(_metadata, e, 0, &r);
	ASSERT_EQ(0, tt_wait_match(e->init, e->a, e->b, e->msg, sizeof(e->msg), 60000))
		TH_LOG("restored tree: %s", e->msg);
	tt_cycle(_metadata, e, 0);
	/* Zombies before any reaping, with their parents... */
	EXPECT_EQ(NZ, snap_zombies(e->b));
	/* ...that reap them now, each with the status it died with. */
	ASSERT_EQ(NZ, tt_wait_count('W', NZ, 30000));
	for (i = 0; i < (unsigned int)e->a->n; i++) {
		struct tt_task *t = &e->a->t[i];

		if (!t->zombie)
			continue;
		n++;
		EXPECT_EQ(report_status('X', t->pid), report_status('W', t->pid))
			TH_LOG("zombie %d: died with %#x, reaped with %#x", t->pid,
			       report_status('X', t->pid), report_status('W', t->pid));
	}
	EXPECT_EQ(NZ, n);
	for (i = 0; i < 100; i++) {
		tt_snap(e->init, e->b);
		if (!snap_zombies(e->b))
			break;
		cr_msleep(50);
	}
	EXPECT_EQ(0, snap_zombies(e->b));
	EXPECT_EQ(2, e->b->n);
}

/* A session and group leader that is a zombie, its session alive. */
static void zsl_leader(long unused)
{
	setsid();
	tt_spawn("tt-zslm", wide_kid, 0);
	tt_line("X %d %#x\n", getpid(), 5 << 8);
	_exit(5);
}

static int wl_zombie_session(void *arg)
{
	pid_t z;

	tt_enter("tt-init", -1);
	z = tt_spawn("tt-zsl", zsl_leader, 0);
	tt_up();
	zombie_reap(&z, 1);
	tt_idle();
}

TEST_F_TIMEOUT(tt, zombie_session_leader, 240)
{
	struct tt_env *e = &self->e;
	struct tt_task *z, *m;

	tt_start(_metadata, e, wl_zombie_session, 2, 1, 3);
	z = tt_named(e->a, "tt-zsl");
	m = tt_named(e->a, "tt-zslm");
	ASSERT_TRUE(z && m && z->zombie);
	ASSERT_EQ(z->pid, m->sid);
	ASSERT_EQ(z->pid, m->pgid);
	ASSERT_EQ(1, m->ppid);
	tt_cycle(_metadata, e, 1);
	ASSERT_EQ(1, tt_wait_count('W', 1, 30000));
	EXPECT_EQ(5 << 8, report_status('W', z->pid));
}

/* -- 4. orphans and a subreaper ------------------------------------------------- */

/* Branch 0: under init; branch 1: under the subreaper tt-s. */
static const char *const orphan_names[2][3] = {
	{ "tt-y", "tt-z", "tt-q" },
	{ "tt-t", "tt-u", "tt-w" },
};

static void orphan_end(long b)
{
	tt_up();
	tt_idle();
}

static void orphan_leaf(long b)
{
	tt_spawn(orphan_names[b][2], orphan_end, b);
	cr_write_str(b ? TT_DIR "/mark1" : TT_DIR "/mark0", "1");
	tt_up();
	tt_idle();
}

/* Leaves an orphan behind. */
static void orphan_mid(long b)
{
	tt_spawn(orphan_names[b][1], orphan_leaf, b);
	if (cr_wait_file(b ? TT_DIR "/mark1" : TT_DIR "/mark0", 60000))
		_exit(1);
	_exit(0);
}

static void orphan_top(long b)
{
	if (b && prctl(PR_SET_CHILD_SUBREAPER, 1))
		_exit(1);
	tt_reap(tt_spawn(orphan_names[b][0], orphan_mid, b));
	tt_up();
	tt_idle();
}

static int wl_orphans(void *arg)
{
	tt_enter("tt-init", -1);
	tt_spawn("tt-x", orphan_top, 0);
	tt_spawn("tt-s", orphan_top, 1);
	tt_up();
	tt_idle();
}

/* Wait up to 5 s for the host parent of @hpid to be @hppid. */
static int wait_reparented(pid_t hpid, pid_t hppid)
{
	char path[64], buf[512], *p;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", hpid);
	for (i = 0; i < 500; i++) {
		p = cr_read_str(path, buf, sizeof(buf)) > 0 ? strrchr(buf, ')') : NULL;
		if (p && atoi(p + 4) == hppid)
			return 0;
		cr_msleep(10);
	}
	return -1;
}

TEST_F_TIMEOUT(tt, orphans_and_subreaper, 240)
{
	struct tt_env *e = &self->e;
	struct tt_task *s, *z, *q, *u, *w;
	int i, j;

	tt_start(_metadata, e, wl_orphans, 7, 0, 7);
	s = tt_named(e->a, "tt-s");
	z = tt_named(e->a, "tt-z");
	q = tt_named(e->a, "tt-q");
	u = tt_named(e->a, "tt-u");
	w = tt_named(e->a, "tt-w");
	ASSERT_TRUE(s && z && q && u && w);
	ASSERT_EQ(1, z->ppid);		/* to init */
	ASSERT_EQ(s->pid, u->ppid);	/* to the subreaper */
	ASSERT_EQ(z->pid, q->ppid);
	ASSERT_EQ(u->pid, w->ppid);
	ASSERT_EQ(NULL, tt_named(e->a, "tt-y"));
	ASSERT_EQ(NULL, tt_named(e->a, "tt-t"));
	tt_cycle(_metadata, e, 0);
	for (i = 0; i < e->a->n; i++) {
		j = tt_rep_find(e->rep, e->a->t[i].pid);
		ASSERT_LE(0, j);
		EXPECT_EQ(!strcmp(e->a->t[i].name, "tt-s"), e->rep->r[j].sub)
			TH_LOG("%s: PR_GET_CHILD_SUBREAPER %d", e->a->t[i].name,
			       e->rep->r[j].sub);
	}
	/* Orphans made after the restart go where they would have gone before. */
	s = tt_named(e->b, "tt-s");
	z = tt_named(e->b, "tt-z");
	q = tt_named(e->b, "tt-q");
	u = tt_named(e->b, "tt-u");
	w = tt_named(e->b, "tt-w");
	ASSERT_TRUE(s && z && q && u && w);
	ASSERT_EQ(0, kill(u->hpid, SIGKILL));
	EXPECT_EQ(0, wait_reparented(w->hpid, s->hpid))
		TH_LOG("tt-w not reparented to the restored subreaper");
	ASSERT_EQ(0, kill(z->hpid, SIGKILL));
	EXPECT_EQ(0, wait_reparented(q->hpid, e->init))
		TH_LOG("tt-q not reparented to the restored init");
}

/* -- 5. sessions and process groups ------------------------------------------- */

static void sess_leaf(long unused)
{
	tt_up();
	tt_idle();
}

static void sess_b(long unused)
{
	setpgid(0, 0);
	tt_spawn("tt-c", sess_leaf, 0);
	tt_up();
	tt_idle();
}

static void sess_d(long pgid)
{
	if (setpgid(0, pgid))
		_exit(1);
	tt_up();
	tt_idle();
}

/* A session leader with a group B in its session, that D joins. */
static void sess_a(long unused)
{
	pid_t b;

	tt_reopen();
	setsid();
	b = tt_spawn("tt-b", sess_b, 0);
	setpgid(b, b);
	tt_spawn("tt-d", sess_d, b);
	tt_up();
	tt_idle();
}

static void sess_f(long unused)
{
	tt_spawn("tt-g", sess_leaf, 0);
	cr_write_str(TT_DIR "/mark0", "1");
	tt_up();
	tt_idle();
}

/* A group leader that leaves its group (F, G) behind. */
static void sess_e(long unused)
{
	setpgid(0, 0);
	tt_spawn("tt-f", sess_f, 0);
	tt_line("G %d tt-e\n", getpid());
	_exit(cr_wait_file(TT_DIR "/mark0", 60000) ? 1 : 0);
}

/* In session H, J in group H, I in a group of its own. */
static void sess_i(long unused)
{
	tt_spawn("tt-j", sess_leaf, 0);
	setpgid(0, 0);
	cr_write_str(TT_DIR "/mark1", "1");
	tt_up();
	tt_idle();
}

/* A session leader that leaves its session (I, J) behind. */
static void sess_h(long unused)
{
	setsid();
	tt_spawn("tt-i", sess_i, 0);
	tt_line("G %d tt-h\n", getpid());
	_exit(cr_wait_file(TT_DIR "/mark1", 60000) ? 1 : 0);
}

static int wl_sessions(void *arg)
{
	tt_enter("tt-init", -1);
	tt_spawn("tt-a", sess_a, 0);
	tt_reap(tt_spawn("tt-e", sess_e, 0));
	tt_reap(tt_spawn("tt-h", sess_h, 0));
	tt_up();
	tt_idle();
}

/* The pid of "G pid @name" in the report. */
static pid_t gone_pid(const char *name)
{
	char *text = tt_load(TT_REPORT), *p;
	pid_t pid = -1;
	char n[17];
	int x;

	for (p = text; p && (p = strstr(p, "\nG ")); p++)
		if (sscanf(p + 3, "%d %16s", &x, n) == 2 && !strcmp(n, name))
			pid = x;
	free(text);
	return pid;
}

#define EXPECT_GROUP(s, name, want_pgid, want_sid) do {				\
	struct tt_task *_t = tt_named(s, name);					\
										\
	ASSERT_NE(NULL, _t) TH_LOG("no %s", name);				\
	EXPECT_EQ(want_pgid, _t->pgid) TH_LOG("%s: pgid", name);		\
	EXPECT_EQ(want_sid, _t->sid) TH_LOG("%s: sid", name);			\
} while (0)

static void sessions_expected(struct __test_metadata *_metadata, struct tt_snap *s)
{
	pid_t a, b, e, h, i;

	ASSERT_TRUE(tt_named(s, "tt-a") && tt_named(s, "tt-b") && tt_named(s, "tt-i"));
	a = tt_named(s, "tt-a")->pid;
	b = tt_named(s, "tt-b")->pid;
	i = tt_named(s, "tt-i")->pid;
	e = gone_pid("tt-e");
	h = gone_pid("tt-h");
	ASSERT_LT(0, e);
	ASSERT_LT(0, h);
	EXPECT_EQ(NULL, tt_find(s, e));
	EXPECT_EQ(NULL, tt_find(s, h));
	EXPECT_GROUP(s, "tt-init", 0, 0);	/* the restarter's: outside */
	EXPECT_GROUP(s, "tt-a", a, a);
	EXPECT_GROUP(s, "tt-b", b, a);
	EXPECT_GROUP(s, "tt-c", b, a);
	EXPECT_GROUP(s, "tt-d", b, a);
	EXPECT_GROUP(s, "tt-f", e, 0);		/* a group without its leader */
	EXPECT_GROUP(s, "tt-g", e, 0);
	EXPECT_GROUP(s, "tt-i", i, h);		/* a session without its leader */
	EXPECT_GROUP(s, "tt-j", h, h);
	EXPECT_EQ(1, tt_named(s, "tt-f")->ppid);
	EXPECT_EQ(1, tt_named(s, "tt-i")->ppid);
}

/*
 * Each group is kicked as a group (kill(-pgid)): it is a real group.
 * The restored tree is checkpointed and restored again.
 */
TEST_F_TIMEOUT(tt, sessions_and_groups, 240)
{
	struct tt_env *e = &self->e;

	tt_start(_metadata, e, wl_sessions, 9, 0, 9);
	sessions_expected(_metadata, e->a);
	tt_cycle(_metadata, e, 1);
	sessions_expected(_metadata, e->b);
	tt_cycle(_metadata, e, 1);
	sessions_expected(_metadata, e->b);
}

/*
 * A subtree with a session and a group of its own (tt-a, pid 2): they
 * come back with it, below the restarter, in another session.
 */
TEST_F_TIMEOUT(tt, subtree_session, 240)
{
	struct tt_env *e = &self->e;
	struct tt_task *t;
	struct tt_rs r;
	pid_t root;
	int i;

	tt_own_files = 2;
	tt_start(_metadata, e, wl_sessions, 9, 0, 9);
	t = tt_named(e->a, "tt-a");
	ASSERT_TRUE(t && t->pid == 2);
	root = t->hpid;
	snap_subtree(e->a, 2);
	ASSERT_EQ(4, e->a->n);
	tt_checkpoint_kill(_metadata, e, root, CHECKPOINT_SUBTREE);
	tt_restart_ok(_metadata, e, 0, &r);
	EXPECT_EQ(2, r.ret);
	tt_find(e->a, 2)->ppid = 1;
	for (i = 0; i < 600; i++) {
		tt_snap(e->init, e->b);
		tt_drop(e->b, 1);
		if (!tt_diff(e->a, e->b, e->msg, sizeof(e->msg)))
			break;
		cr_msleep(100);
	}
	ASSERT_EQ(0, tt_diff(e->a, e->b, e->msg, sizeof(e->msg)))
		TH_LOG("restored subtree: %s", e->msg);
	ASSERT_EQ(0, tt_kick(e->b, e->rep, 1, 60000));
	EXPECT_EQ(0, tt_check_reports(e->a, e->rep, e->msg, sizeof(e->msg)))
		TH_LOG("reports: %s", e->msg);
	EXPECT_GROUP(e->b, "tt-a", 2, 2);
	EXPECT_GROUP(e->b, "tt-d", tt_named(e->b, "tt-b")->pid, 2);
}

/* -- a child whose exit signal is not SIGCHLD ------------------------------------- */

static volatile sig_atomic_t es_seen;

static void es_on_usr2(int sig)
{
	es_seen++;
}

static void es_parent(long unused)
{
	struct sigaction sa = { .sa_handler = es_on_usr2 };
	int st = 0;
	pid_t c;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	c = syscall(SYS_clone, SIGUSR2, NULL, NULL, NULL, NULL);
	if (c < 0)
		_exit(1);
	if (c == 0) {
		prctl(PR_SET_NAME, "tt-esk");
		tt_up();
		while (!tt_go)
			pause();
		_exit(42);
	}
	tt_up();
	while (!es_seen)
		pause();
	while (waitpid(c, &st, __WALL) < 0 && errno == EINTR)
		;
	tt_line("E %d %#x %d\n", c, st, (int)es_seen);
	tt_idle();
}

static int wl_exit_signal(void *arg)
{
	tt_enter("tt-init", -1);
	tt_spawn("tt-es", es_parent, 0);
	tt_up();
	tt_idle();
}

/* After restart the child's exit still sends SIGUSR2, not SIGCHLD. */
TEST_F_TIMEOUT(tt, exit_signal, 240)
{
	struct tt_env *e = &self->e;
	struct tt_task *k;
	char *text, *p;
	int i, st = -1, seen = -1;

	tt_start(_metadata, e, wl_exit_signal, 3, 0, 3);
	tt_cycle(_metadata, e, 0);
	k = tt_named(e->b, "tt-esk");
	ASSERT_NE(NULL, k);
	ASSERT_EQ(0, cr_poke(k->hpid, (void *)&tt_go, 1));
	for (i = 0; i < 50 && !kill(k->hpid, SIGUSR1); i++)
		cr_msleep(200);
	ASSERT_EQ(1, tt_wait_count('E', 1, 10000)) TH_LOG("the parent got no SIGUSR2");
	text = tt_load(TT_REPORT);
	p = text ? strstr(text, "\nE ") : NULL;
	if (p)
		sscanf(p + 3, "%*d %x %d", &st, &seen);
	free(text);
	EXPECT_EQ(42 << 8, st);
	EXPECT_EQ(1, seen);
}

/* -- a thread group whose leader has exited -------------------------------------- */

static void *zl_thread(void *arg)
{
	prctl(PR_SET_NAME, "tt-zlt");
	tt_up();
	tt_idle();
}

static void zl_proc(long unused)
{
	pthread_t th;
	int i;

	for (i = 0; i < 2; i++)
		if (pthread_create(&th, NULL, zl_thread, NULL))
			_exit(1);
	tt_up();
	pthread_exit(NULL);
}

static int wl_zombie_leader(void *arg)
{
	tt_enter("tt-init", -1);
	tt_spawn("tt-zl", zl_proc, 0);
	tt_up();
	tt_idle();
}

/*
 * The leader of a process has exited, its two threads live on: either
 * restored as it was (the leader a zombie, the threads with their tids)
 * or refused with nothing changed.
 */
TEST_F_TIMEOUT(tt, zombie_leader, 240)
{
	struct tt_env *e = &self->e;
	struct tt_rs r;
	int ret;

	tt_start(_metadata, e, wl_zombie_leader, 4, 1, 4);
	ret = tt_checkpoint(e->init, e->img, 0, e->why, sizeof(e->why));
	if (ret) {
		TH_LOG("refused: %s (%s)", strerror(-ret), e->why);
		EXPECT_EQ(-EOPNOTSUPP, ret);
		EXPECT_EQ(0, tt_freeze_state(e->cgpath, 1));
		EXPECT_EQ(0, tt_wait_match(e->init, e->a, e->b, e->msg, sizeof(e->msg), 1000))
			TH_LOG("after the refusal: %s", e->msg);
		EXPECT_EQ(0, tt_kick(e->b, e->rep, 0, 30000));
		return;
	}
	cr_kill_wait(e->init);
	ASSERT_EQ(0, tt_cg_empty(e->cgpath));
	tt_restart_ok(_metadata, e, 0, &r);
	tt_verify(_metadata, e, 0);
}

/* -- 6. threads, each in its own wait ----------------------------------------- */

enum { TH_MAIN, TH_COND, TH_SLEEP, TH_SUSPEND, TH_WAIT, TH_SPIN, TH_N };

static pthread_mutex_t th_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t th_cv = PTHREAD_COND_INITIALIZER;
static int th_cond_flag;
static volatile sig_atomic_t th_usr2;
volatile uint64_t th_spins;
static uint64_t th_seed;

static void th_on_usr2(int sig)
{
	th_usr2 = 1;
}

/* "@tag idx tid name mask tls ss_sp ss_size result" */
static void th_report(char tag, int idx, long res)
{
	char name[17] = "";
	sigset_t m;
	stack_t ss;

	pthread_sigmask(SIG_BLOCK, NULL, &m);
	sigaltstack(NULL, &ss);
	prctl(PR_GET_NAME, name);
	tt_line("%c %d %d %s %#llx %#llx %#lx %#lx %ld\n", tag, idx, gettid(), name,
		(unsigned long long)m.__val[0], (unsigned long long)tt_tls,
		(unsigned long)ss.ss_sp, (unsigned long)ss.ss_size, res);
}

/* The thread's own sigaltstack, mask, name and TLS value. */
static void th_setup(int idx)
{
	stack_t ss = { .ss_size = 16384 + idx * 4096 };
	char name[16];
	sigset_t m;

	ss.ss_sp = malloc(ss.ss_size);
	if (!ss.ss_sp || sigaltstack(&ss, NULL))
		_exit(20);
	snprintf(name, sizeof(name), "tt-th%d", idx);
	prctl(PR_SET_NAME, name);
	tt_tls = th_seed + idx;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGRTMIN + idx);
	pthread_sigmask(SIG_SETMASK, &m, NULL);
	th_report('S', idx, 0);
}

static void th_kid(long unused)
{
	tt_up();
	while (!tt_go)
		pause();
	_exit(42);
}

static void *th_main(void *arg)
{
	int idx = (long)arg, st = 0;
	struct timespec ts = { TH_SLEEP_S, 0 };
	long res = 1;
	double t0;
	sigset_t m;
	pid_t c;

	th_setup(idx);
	switch (idx) {
	case TH_COND:
		pthread_mutex_lock(&th_mu);
		tt_up();
		while (!th_cond_flag)
			pthread_cond_wait(&th_cv, &th_mu);
		pthread_mutex_unlock(&th_mu);
		break;
	case TH_SLEEP:
		t0 = cr_now();
		tt_up();
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		res = (cr_now() - t0) * 1000;
		break;
	case TH_SUSPEND:
		pthread_sigmask(SIG_BLOCK, NULL, &m);
		sigdelset(&m, SIGUSR2);
		tt_up();
		while (!th_usr2)
			sigsuspend(&m);
		break;
	case TH_WAIT:
		c = tt_spawn("tt-thkid", th_kid, 0);
		tt_up();
		while (waitpid(c, &st, 0) < 0 && errno == EINTR)
			;
		res = st;
		break;
	case TH_SPIN:
		tt_up();
		while (!tt_go)
			th_spins++;
		break;
	}
	th_report('D', idx, res);
	return NULL;
}

static void th_proc(long unused)
{
	struct sigaction sa = { .sa_handler = th_on_usr2 };
	pthread_t th[TH_N];
	long i;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	th_setup(TH_MAIN);
	for (i = 1; i < TH_N; i++)
		if (pthread_create(&th[i], NULL, th_main, (void *)i))
			_exit(21);
	tt_up();
	while (!tt_go)
		pause();
	pthread_mutex_lock(&th_mu);
	th_cond_flag = 1;
	pthread_cond_broadcast(&th_cv);
	pthread_mutex_unlock(&th_mu);
	for (i = 1; i < TH_N; i++)
		pthread_join(th[i], NULL);
	th_report('D', TH_MAIN, 0);
	tt_idle();
}

static int wl_threads(void *arg)
{
	tt_enter("tt-init", -1);
	tt_spawn("tt-mt", th_proc, 0);
	tt_up();
	tt_idle();
}

/* The "@tag @idx ..." line of the report, without tag and result, in @out. */
static int th_line(char tag, int idx, char *out, size_t len, long *res)
{
	char *text = tt_load(TT_REPORT), pat[16], *p, *end;
	int ok = 0;

	snprintf(pat, sizeof(pat), "\n%c %d ", tag, idx);
	p = text ? strstr(text, pat) : NULL;
	if (p) {
		p += strlen(pat);
		end = strchr(p, '\n');
		if (end) {
			*end = '\0';
			end = strrchr(p, ' ');
			if (end) {
				*end = '\0';
				*res = atol(end + 1);
				snprintf(out, len, "%s", p);
				ok = 1;
			}
		}
	}
	free(text);
	return ok;
}

/* The system call each thread is in (/proc), -1000 if unknown. */
static long th_syscall(pid_t pid, pid_t tid)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0 || !strncmp(buf, "running", 7))
		return -1000;
	return strtol(buf, NULL, 10);
}

static int th_in_wait(long idx, long nr)
{
	switch (idx) {
	case TH_MAIN:
		return nr == SYS_pause;
	case TH_COND:
		return nr == SYS_futex;
	case TH_SLEEP:
		return nr == SYS_nanosleep || nr == SYS_clock_nanosleep ||
		       nr == SYS_restart_syscall;
	case TH_SUSPEND:
		return nr == SYS_rt_sigsuspend;
	case TH_WAIT:
		return nr == SYS_wait4;
	}
	return 1;
}

/* Wait up to 10 s for every thread of @s to be in its wait; 0, or the idx that is not. */
static int th_all_waiting(const struct tt_snap *s, char *msg, size_t len)
{
	char name[16];
	long nr = 0;
	int idx, k;

	for (k = 0; k < 200; k++) {
		for (idx = 0; idx < TH_SPIN; idx++) {
			struct tt_task *t;

			snprintf(name, sizeof(name), "tt-th%d", idx);
			t = tt_named(s, name);
			if (!t)
				break;
			nr = th_syscall(t->htgid, t->hpid);
			if (!th_in_wait(idx, nr))
				break;
		}
		if (idx == TH_SPIN)
			return 0;
		cr_msleep(50);
	}
	snprintf(msg, len, "thread %d in system call %ld", idx, nr);
	return idx + 1;
}

TEST_F_TIMEOUT(tt, threads, 300)
{
	struct tt_env *e = &self->e;
	char before[200], after[200];
	struct tt_task *mt, *kid, *t;
	uint64_t s1 = 0, s2 = 0;
	double t_ckpt, t_restart;
	struct tt_rs r;
	long res, want_ms = 0;
	int idx;

	th_seed = ((uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) << 8) & ~0xffULL;
	/* init, the leader, 5 threads, the child of one */
	tt_start(_metadata, e, wl_threads, TH_N + 2, 0, TH_N + 2);
	mt = tt_named(e->a, "tt-th0");
	kid = tt_named(e->a, "tt-thkid");
	ASSERT_TRUE(mt && kid);
	ASSERT_EQ(mt->pid, kid->ppid);
	ASSERT_EQ(0, th_all_waiting(e->a, e->msg, sizeof(e->msg))) TH_LOG("%s", e->msg);
	for (idx = 0; idx < TH_N; idx++)
		ASSERT_TRUE(th_line('S', idx, before, sizeof(before), &res));
	tt_snap(e->init, e->a);
	/* 3 s into the sleep, dead 3 s: it must sleep the 7 s left after restart. */
	cr_msleep(3000);
	t_ckpt = cr_now();
	tt_checkpoint_kill(_metadata, e, e->init, 0);
	ASSERT_EQ(0, tt_count('D')) TH_LOG("a wait ended before the checkpoint");
	cr_msleep(3000);
	t_restart = cr_now();
	want_ms = (TH_SLEEP_S + t_restart - t_ckpt) * 1000;
	tt_restart_ok(_metadata, e, 0, &r);
	tt_verify(_metadata, e, 0);

	/* Each thread is back in its wait, the spinner spinning, nothing done yet. */
	EXPECT_EQ(0, th_all_waiting(e->b, e->msg, sizeof(e->msg))) TH_LOG("%s", e->msg);
	mt = tt_named(e->b, "tt-th0");
	kid = tt_named(e->b, "tt-thkid");
	ASSERT_TRUE(mt && kid);
	ASSERT_EQ(0, cr_peek(mt->hpid, (void *)&th_spins, &s1));
	cr_msleep(300);
	ASSERT_EQ(0, cr_peek(mt->hpid, (void *)&th_spins, &s2));
	EXPECT_LT(s1, s2) TH_LOG("the spinning thread does not spin");
	for (idx = 0; idx < TH_N; idx++)
		if (idx != TH_SLEEP)
			EXPECT_FALSE(th_line('D', idx, after, sizeof(after), &res))
				TH_LOG("thread %d ended its wait by itself", idx);

	/* End the waits: a poke, a condvar, SIGUSR2, a child's exit. */
	ASSERT_EQ(0, cr_poke(kid->hpid, (void *)&tt_go, 1));
	ASSERT_EQ(0, cr_poke(mt->hpid, (void *)&tt_go, 1));
	t = tt_named(e->b, "tt-th3");
	ASSERT_NE(NULL, t);
	for (idx = 0; idx < 100 && tt_count('D') < TH_N; idx++) {
		syscall(SYS_tgkill, t->htgid, t->hpid, SIGUSR2);
		syscall(SYS_tgkill, mt->htgid, mt->hpid, SIGUSR1);
		syscall(SYS_tgkill, kid->htgid, kid->hpid, SIGUSR1);
		cr_msleep(300);
	}
	for (idx = 0; idx < TH_N; idx++) {
		static const long want[TH_N] = { 0, 1, -1, 1, 42 << 8, 1 };

		ASSERT_TRUE(th_line('S', idx, before, sizeof(before), &res));
		ASSERT_TRUE(th_line('D', idx, after, sizeof(after), &res))
			TH_LOG("thread %d did not end its wait", idx);
		/* tid, name, mask, TLS, sigaltstack: as they were set up */
		EXPECT_STREQ(before, after) TH_LOG("thread %d", idx);
		if (idx == TH_SLEEP) {
			/* not from scratch (3 s more), not to its old deadline (3 s less) */
			EXPECT_LE(want_ms - 1000, res) TH_LOG("slept %ld ms", res);
			EXPECT_GE(want_ms + 2000, res) TH_LOG("slept %ld ms", res);
		} else {
			EXPECT_EQ(want[idx], res) TH_LOG("thread %d", idx);
		}
	}
	TH_LOG("the sleeper woke %.1f s after the restart", cr_now() - t_restart);
}

/* -- stopped and traced tasks ------------------------------------------------------ */

/* State letter and TracerPid of the task @hpid (host), or '?' / -1. */
static char proc_state(pid_t hpid, pid_t *tracer)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", hpid);
	buf[0] = '\n';
	if (cr_read_str(path, buf + 1, sizeof(buf) - 1) <= 0)
		return '?';
	if (tracer)
		*tracer = st_num(buf, "TracerPid", 0, 10);
	p = strstr(buf, "\nState:\t");
	return p ? p[8] : '?';
}

static void stop_kid(long traced)
{
	if (traced && ptrace(PTRACE_TRACEME, 0, NULL, NULL))
		_exit(60);
	tt_up();
	raise(SIGSTOP);
	tt_idle();
}

static void stop_parent(long traced)
{
	pid_t k = tt_spawn(traced ? "tt-traced" : "tt-stopped", stop_kid, traced);

	tt_up();
	if (traced)
		while (waitpid(k, NULL, WUNTRACED | __WALL) < 0 && errno == EINTR)
			;
	tt_idle();
}

static int stop_traced;

static int wl_stopped(void *arg)
{
	tt_enter("tt-init", -1);
	tt_spawn("tt-sp", stop_parent, stop_traced);
	tt_up();
	tt_idle();
}

/*
 * A task stopped by SIGSTOP, or stopped under ptrace by its parent:
 * refused (EOPNOTSUPP), or restored stopped (traced by the same tracer).
 * A stopped task restored running would have lost its state.
 */
static void stopped(struct __test_metadata *_metadata, struct tt_env *e, int traced)
{
	char want = traced ? 't' : 'T', state = '?';
	pid_t tracer = -1;
	struct tt_task *k, *sp;
	struct tt_rs r;
	double t0;
	int i, ret;

	stop_traced = traced;
	tt_start(_metadata, e, wl_stopped, 3, 0, 3);
	k = tt_named(e->a, traced ? "tt-traced" : "tt-stopped");
	ASSERT_NE(NULL, k);
	for (i = 0; i < 200 && (state = proc_state(k->hpid, NULL)) != want; i++)
		cr_msleep(10);
	ASSERT_EQ(want, state);
	tt_snap(e->init, e->a);
	t0 = cr_now();
	ret = tt_checkpoint(e->init, e->img, 0, e->why, sizeof(e->why));
	if (ret) {
		TH_LOG("refused after %.1f s: %s (%s)", cr_now() - t0, strerror(-ret), e->why);
		EXPECT_EQ(-EOPNOTSUPP, ret);
		EXPECT_EQ(0, tt_freeze_state(e->cgpath, 1));
		EXPECT_EQ(want, proc_state(k->hpid, NULL));
		return;
	}
	TH_LOG("checkpointed with a %s task", traced ? "traced" : "stopped");
	cr_kill_wait(e->init);
	ASSERT_EQ(0, tt_cg_empty(e->cgpath));
	tt_restart_ok(_metadata, e, 0, &r);
	ASSERT_EQ(0, tt_wait_match(e->init, e->a, e->b, e->msg, sizeof(e->msg), 60000))
		TH_LOG("restored tree: %s", e->msg);
	k = tt_named(e->b, traced ? "tt-traced" : "tt-stopped");
	sp = tt_named(e->b, "tt-sp");
	ASSERT_TRUE(k && sp);
	EXPECT_EQ(want, proc_state(k->hpid, &tracer)) TH_LOG("not stopped after restart");
	EXPECT_EQ(traced ? sp->hpid : 0, tracer) TH_LOG("tracer %d after restart", tracer);
}

TEST_F_TIMEOUT(tt, stopped_task, 240)
{
	stopped(_metadata, &self->e, 0);
}

TEST_F_TIMEOUT(tt, traced_task, 240)
{
	stopped(_metadata, &self->e, 1);
}

/* -- a temporary signal mask: sigsuspend(), ppoll() ---------------------------- */

/*
 * SIGUSR2 and SIGTERM blocked; SIGUSR2 let through only while waiting.
 * Once woken: "M name mask-before mask-after".
 */
static void mask_waiter(long poll)
{
	struct sigaction sa = { .sa_handler = th_on_usr2 };
	sigset_t m, before, after;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGTERM);
	sigprocmask(SIG_BLOCK, &m, &before);
	sigprocmask(SIG_BLOCK, NULL, &before);
	m = before;
	sigdelset(&m, SIGUSR2);
	tt_up();
	while (!th_usr2) {
		if (poll)
			ppoll(NULL, 0, NULL, &m);
		else
			sigsuspend(&m);
	}
	sigprocmask(SIG_BLOCK, NULL, &after);
	tt_line("M %s %#llx %#llx\n", poll ? "ppoll" : "sigsuspend",
		(unsigned long long)before.__val[0], (unsigned long long)after.__val[0]);
	tt_idle();
}

static int wl_masks(void *arg)
{
	tt_enter("tt-init", -1);
	tt_spawn("tt-susp", mask_waiter, 0);
	tt_spawn("tt-ppoll", mask_waiter, 1);
	tt_up();
	tt_idle();
}

/*
 * A task checkpointed inside sigsuspend() or ppoll() with a mask has its
 * own mask back once the call returns, not the temporary one.
 */
TEST_F_TIMEOUT(tt, temporary_mask_restored, 240)
{
	static const char *const who[] = { "tt-susp", "tt-ppoll" };
	unsigned long long before, after;
	struct tt_task *t, *u;
	char *text, *p, name[16];
	unsigned int i, k;

	tt_start(_metadata, &self->e, wl_masks, 3, 0, 3);
	for (i = 0; i < 50; i++) {
		cr_msleep(20);
		t = tt_named(self->e.a, "tt-susp");
		u = tt_named(self->e.a, "tt-ppoll");
		if (t && u && th_syscall(t->htgid, t->hpid) == SYS_rt_sigsuspend &&
		    th_syscall(u->htgid, u->hpid) == SYS_ppoll)
			break;
	}
	tt_snap(self->e.init, self->e.a);	/* SigBlk: the temporary masks */
	tt_cycle(_metadata, &self->e, 0);
	for (i = 0; i < ARRAY_SIZE(who); i++) {
		t = tt_named(self->e.b, who[i]);
		ASSERT_NE(NULL, t);
		for (k = 0; k < 50 && !kill(t->hpid, 0); k++) {
			text = tt_load(TT_REPORT);
			p = text ? strstr(text, i ? "\nM ppoll " : "\nM sigsuspend ") : NULL;
			free(text);
			if (p)
				break;
			kill(t->hpid, SIGUSR2);
			cr_msleep(200);
		}
	}
	ASSERT_EQ(2, tt_count('M'));
	text = tt_load(TT_REPORT);
	for (p = text; p && (p = strstr(p, "\nM ")); p++) {
		ASSERT_EQ(3, sscanf(p + 3, "%15s %llx %llx", name, &before, &after));
		EXPECT_EQ(before, after)
			TH_LOG("%s: mask %#llx before, %#llx once it returned after restart",
			       name, before, after);
	}
	free(text);
}

/* -- 7. 100 processes of 11 threads ------------------------------------------- */

static void *sc_thread(void *arg)
{
	tt_tls = (long)arg;
	tt_up();
	tt_idle();
}

static void sc_proc(long level)
{
	pthread_attr_t attr;
	pthread_t th;
	long i;

	for (i = 0; level < 2 && i < (level ? SC_KIDS2 : SC_KIDS); i++)
		tt_spawn(level ? "tt-sc2" : "tt-sc1", sc_proc, level + 1);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	for (i = 0; i < SC_THREADS; i++)
		if (pthread_create(&th, &attr, sc_thread, (void *)(i + 1)))
			_exit(22);
	tt_up();
	tt_idle();
}

static int wl_scale(void *arg)
{
	tt_enter("tt-init", -1);
	sc_proc(0);
	return 0;
}

#define SC_TASKS	((1 + SC_KIDS + SC_KIDS * SC_KIDS2) * (1 + SC_THREADS))

TEST_F_TIMEOUT(tt, scale, 600)
{
	struct tt_env *e = &self->e;
	double t0 = cr_now();
	int i, j;

	tt_start(_metadata, e, wl_scale, SC_TASKS, 0, SC_TASKS);
	TH_LOG("%d tasks set up in %.1f s", SC_TASKS, cr_now() - t0);
	t0 = cr_now();
	tt_cycle(_metadata, e, 0);
	TH_LOG("checkpoint, restart and checks: %.1f s", cr_now() - t0);
	/* TLS of each thread: its index; 0 for the leaders. */
	for (i = 0; i < e->a->n; i++) {
		j = tt_rep_find(e->rep, e->a->t[i].pid);
		ASSERT_LE(0, j);
		if (e->a->t[i].pid == e->a->t[i].tgid) {
			EXPECT_EQ(0, e->rep->r[j].tls);
		} else {
			EXPECT_TRUE(e->rep->r[j].tls >= 1 && e->rep->r[j].tls <= SC_THREADS);
		}
	}
}

/* -- the counting tree: init, C1 (and its thread), C2, its child G ------------- */

enum ct_bad { CT_NONE, CT_EVENTFD, CT_INET, CT_SOCKET, CT_TIMER, CT_VFORK,
	      CT_FUTEX };

static struct {
	enum ct_bad bad;	/* what G holds or does */
	int keep;		/* an fd of the test that init keeps */
	int stdio;		/* ... as its fd 1 */
	int victim;		/* C1 holds "victim" open, at fd 5 */
} ct;

static uint32_t ct_word;

static void __attribute__((noreturn)) ct_count(void)
{
	for (;;) {
		tt_counter++;
		cr_msleep(1);
	}
}

static void *ct_c1_thread(void *arg)
{
	prctl(PR_SET_NAME, "ct-c1t");
	tt_up();
	ct_count();
}

/* On tt_go: write to the shared file (fd 4), open a new fd ("O fd"). */
static void ct_c1(long unused)
{
	pthread_t th;
	int done = 0;

	if (ct.stdio)
		dup2(0, 1);
	if (ct.victim && open("victim", O_RDONLY) != 5)
		_exit(30);
	if (pthread_create(&th, NULL, ct_c1_thread, NULL))
		_exit(31);
	tt_up();
	for (;;) {
		if (tt_go && !done) {
			if (write(4, "0123456789", 10) != 10)
				_exit(32);
			tt_line("O %d\n", open("newfd", O_RDWR | O_CREAT, 0644));
			done = 1;
		}
		tt_counter++;
		cr_msleep(1);
	}
}

static void *ct_futex_thread(void *arg)
{
	struct timespec ts = { 3600, 0 };

	prctl(PR_SET_NAME, "ct-futex");
	tt_up();
	while (!tt_go)
		syscall(SYS_futex, &ct_word, FUTEX_WAIT, 0, &ts, NULL, 0);
	return NULL;
}

/* Holds or does ct.bad; on tt_go, undoes it ("K pid"). */
static void ct_g(long unused)
{
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	struct itimerspec its = { .it_value = { 3600, 0 } };
	int fds[2] = { -1, -1 }, undone = 0;
	timer_t timer = NULL;
	pthread_t th = 0;
	sigset_t m;

	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	switch (ct.bad) {
	case CT_NONE:
		break;
	case CT_EVENTFD:
		fds[0] = eventfd(0, 0);
		break;
	case CT_INET:
		fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
		if (fds[0] < 0)
			_exit(40);
		break;
	case CT_SOCKET:
		/* unix sockets are saved, but not an out-of-band byte not read yet */
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) ||
		    send(fds[0], "!", 1, MSG_OOB) != 1)
			_exit(40);
		break;
	case CT_TIMER:
		if (timer_create(CLOCK_MONOTONIC, &sev, &timer) ||
		    timer_settime(timer, 0, &its, NULL))
			_exit(40);
		break;
	case CT_FUTEX:
		if (pthread_create(&th, NULL, ct_futex_thread, NULL))
			_exit(40);
		break;
	case CT_VFORK:
		tt_up();
		if (vfork() == 0) {
			prctl(PR_SET_NAME, "ct-vfork");
			tt_up();
			while (!tt_go) {
				tt_counter++;
				cr_msleep(1);
			}
			_exit(0);
		}
		break;
	}
	if (ct.bad != CT_VFORK)
		tt_up();
	for (;;) {
		if (tt_go && !undone) {
			close(fds[0]);
			close(fds[1]);
			if (ct.bad == CT_TIMER) {
				timer_delete(timer);
			} else if (ct.bad == CT_FUTEX) {
				ct_word = 1;
				syscall(SYS_futex, &ct_word, FUTEX_WAKE, 1, NULL, NULL, 0);
				pthread_join(th, NULL);
			}
			tt_line("K %d\n", getpid());
			undone = 1;
		}
		tt_counter++;
		cr_msleep(1);
	}
}

static void ct_c2(long unused)
{
	if (ct.stdio)
		dup2(0, 1);
	tt_spawn("ct-g", ct_g, 0);
	tt_up();
	ct_count();
}

static int wl_count(void *arg)
{
	tt_enter("ct-init", ct.keep);
	if (ct.stdio) {
		dup2(ct.keep, 1);
		close(ct.keep);
	}
	if (open("offs", O_RDWR | O_CREAT | O_TRUNC, 0644) != 4 ||
	    lseek(4, CT_POS, SEEK_SET) != CT_POS)
		_exit(12);
	tt_spawn("ct-c1", ct_c1, 0);
	tt_spawn("ct-c2", ct_c2, 0);
	tt_up();
	ct_count();
}

#define CT_TASKS	5

/* The counting tree with G doing @bad: its tasks. */
static int ct_tasks(enum ct_bad bad)
{
	return CT_TASKS + (bad == CT_VFORK || bad == CT_FUTEX);
}

static void ct_start(struct __test_metadata *_metadata, struct tt_env *e)
{
	tt_start(_metadata, e, wl_count, ct_tasks(ct.bad), 0, ct_tasks(ct.bad));
	ASSERT_EQ(0, tt_progress(e->a, 1));
}

/* "pos:" of the fd @fd of the task @tid (host), or -1. */
static long long fd_pos(pid_t pid, pid_t tid, int fd)
{
	char path[96], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/fdinfo/%d", pid, tid, fd);
	if (cr_read_str(path, buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "pos:");
	return p ? atoll(p + 4) : -1;
}

/*
 * One open file shared by fork (one offset), one fd table shared by the
 * threads of C1 (an fd one opens is the other's), the report file shared
 * by all (each report of each task is there).
 */
TEST_F_TIMEOUT(tt, shared_files, 240)
{
	struct tt_env *e = &self->e;
	struct tt_task *c1, *c1t;
	char *text, *p;
	int i, fd;

	ct_start(_metadata, e);
	tt_cycle(_metadata, e, 0);
	ASSERT_EQ(0, tt_progress(e->b, 1));
	for (i = 0; i < e->b->n; i++)
		EXPECT_EQ(CT_POS, fd_pos(e->b->t[i].htgid, e->b->t[i].hpid, 4))
			TH_LOG("%s: offset of the shared file", e->b->t[i].name);
	c1 = tt_named(e->b, "ct-c1");
	c1t = tt_named(e->b, "ct-c1t");
	ASSERT_TRUE(c1 && c1t);
	ASSERT_EQ(0, cr_poke(c1->hpid, (void *)&tt_go, 1));
	ASSERT_EQ(1, tt_wait_count('O', 1, 10000));
	text = tt_load(TT_REPORT);
	p = text ? strstr(text, "\nO ") : NULL;
	fd = p ? atoi(p + 3) : -1;
	free(text);
	ASSERT_LT(4, fd);
	for (i = 0; i < e->b->n; i++) {
		const struct tt_task *t = &e->b->t[i];

		EXPECT_EQ(CT_POS + 10, fd_pos(t->htgid, t->hpid, 4))
			TH_LOG("%s: C1 wrote 10 bytes, the offset did not follow", t->name);
		if (t->tgid == c1->tgid) {
			EXPECT_EQ(0, fd_pos(t->htgid, t->hpid, fd))
				TH_LOG("%s: the fd its thread opened is not in its table", t->name);
		} else {
			EXPECT_EQ(-1, fd_pos(t->htgid, t->hpid, fd))
				TH_LOG("%s: has C1's new fd", t->name);
		}
	}
}

/* -- fd tables and fs info shared, or not ------------------------------------------ */

static void *fsh_c(void *arg)
{
	prctl(PR_SET_NAME, "tt-fsc");
	tt_up();
	tt_idle();
}

static int fsh_with_c;

/* A thread with an fd table of its own, shared with the thread C it creates. */
static void *fsh_b(void *arg)
{
	pthread_t c;

	prctl(PR_SET_NAME, "tt-fsb");
	if (unshare(CLONE_FILES) || open("b-file", O_RDWR | O_CREAT, 0644) < 0 ||
	    (fsh_with_c && pthread_create(&c, NULL, fsh_c, NULL)))
		_exit(50);
	tt_up();
	while (!tt_go)
		pause();
	tt_line("O %d\n", open("bc-new", O_RDWR | O_CREAT, 0644));
	tt_idle();
}

/* A thread with a cwd and umask of its own. */
static void *fsh_d(void *arg)
{
	prctl(PR_SET_NAME, "tt-fsd");
	if (unshare(CLONE_FS) || chdir("/"))
		_exit(51);
	umask(077);
	tt_up();
	tt_idle();
}

static void fsh_proc(long unused)
{
	pthread_t th;

	if (pthread_create(&th, NULL, fsh_b, NULL) || pthread_create(&th, NULL, fsh_d, NULL))
		_exit(52);
	tt_up();
	tt_idle();
}

/* Two processes, one fd table (CLONE_FILES): the child opens, the parent has it. */
static void cf_proc(long unused)
{
	pid_t k = syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, NULL);

	if (k < 0)
		_exit(53);
	if (k == 0) {
		prctl(PR_SET_NAME, "tt-cfk");
		tt_up();
		while (!tt_go)
			pause();
		tt_line("P %d\n", open("cf-new", O_RDWR | O_CREAT, 0644));
		tt_idle();
	}
	tt_up();
	tt_idle();
}

static int wl_fds(void *arg)
{
	tt_enter("tt-init", -1);
	tt_spawn("tt-fsl", fsh_proc, 0);
	tt_spawn("tt-cf", cf_proc, 0);
	tt_up();
	tt_idle();
}

/* What the task sees of its files: "cwd umask fd:target ..." */
static void fd_view(const struct tt_task *t, char *out, size_t len)
{
	char path[128], target[256], status[4096];
	size_t used;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/cwd", t->htgid, t->hpid);
	n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", t->htgid, t->hpid);
	status[0] = '\n';
	if (cr_read_str(path, status + 1, sizeof(status) - 1) <= 0)
		status[1] = '\0';
	used = snprintf(out, len, "cwd %s umask %llo", target, st_num(status, "Umask", 0, 8));
	/*
	 * fds in order: at most 64 here.  fds 0-2 of the init are the
	 * restarter's after restart (CR_FILE_STDIO): not compared.
	 */
	for (fd = t->pid == 1 ? 3 : 0; fd < 64 && used < len; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/fd/%d", t->htgid, t->hpid, fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		used += snprintf(out + used, len - used, " %d:%s", fd, target);
	}
}

/* The target of fd @fd of the task @t, "" if none. */
static void fd_target(const struct tt_task *t, int fd, char *out, size_t len)
{
	char path[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/fd/%d", t->htgid, t->hpid, fd);
	n = readlink(path, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

/* The number after "@tag " in the report, or -1. */
static int report_num(char tag)
{
	char *text = tt_load(TT_REPORT), pat[4] = { '\n', tag, ' ', '\0' }, *p;
	int v = -1;

	p = text ? strstr(text, pat) : NULL;
	if (p)
		v = atoi(p + 3);
	free(text);
	return v;
}

/*
 * Thread B unshared its fd table (and created C, which shares it, if
 * @with_c); thread D has its own cwd and umask; a child process shares
 * its parent's fd table.  Each task has its files, cwd and umask back and
 * shares them with the same tasks as before.  With C, the checkpoint may
 * be refused instead (EOPNOTSUPP), nothing changed.
 */
static void fd_tables(struct __test_metadata *_metadata, struct tt_env *e, int with_c)
{
	char (*view)[1024], now[1024], target[256];
	struct tt_task *t, *b, *c, *l, *cf, *cfk;
	struct tt_rs r;
	int i, fd, ret;

	fsh_with_c = with_c;
	tt_start(_metadata, e, wl_fds, 6 + with_c, 0, 6 + with_c);
	view = calloc(e->a->n, sizeof(*view));
	ASSERT_NE(NULL, view);
	for (i = 0; i < e->a->n; i++)
		fd_view(&e->a->t[i], view[i], sizeof(view[i]));
	ret = tt_checkpoint(e->init, e->img, 0, e->why, sizeof(e->why));
	if (ret && with_c) {
		TH_LOG("refused: %s (%s)", strerror(-ret), e->why);
		EXPECT_EQ(-EOPNOTSUPP, ret);
		EXPECT_EQ(0, tt_freeze_state(e->cgpath, 1));
		EXPECT_EQ(0, tt_kick(e->a, e->rep, 0, 30000));
		free(view);
		return;
	}
	ASSERT_EQ(0, ret) TH_LOG("checkpoint: %s", e->why);
	cr_kill_wait(e->init);
	ASSERT_EQ(0, tt_cg_empty(e->cgpath));
	tt_restart_ok(_metadata, e, 0, &r);
	tt_verify(_metadata, e, 0);
	for (i = 0; i < e->a->n; i++) {
		t = tt_find(e->b, e->a->t[i].pid);
		ASSERT_NE(NULL, t);
		fd_view(t, now, sizeof(now));
		EXPECT_STREQ(view[i], now) TH_LOG("%s", t->name);
	}
	free(view);

	/* Shared as before: what one opens now, the others that shared have. */
	l = tt_named(e->b, "tt-fsl");
	b = tt_named(e->b, "tt-fsb");
	c = tt_named(e->b, "tt-fsc");
	cf = tt_named(e->b, "tt-cf");
	cfk = tt_named(e->b, "tt-cfk");
	ASSERT_TRUE(l && b && cf && cfk && (c || !with_c));
	ASSERT_EQ(0, cr_poke(l->hpid, (void *)&tt_go, 1));
	ASSERT_EQ(0, cr_poke(cfk->hpid, (void *)&tt_go, 1));
	for (i = 0; i < 50 && (tt_count('O') < 1 || tt_count('P') < 1); i++) {
		syscall(SYS_tgkill, b->htgid, b->hpid, SIGUSR1);
		syscall(SYS_tgkill, cfk->htgid, cfk->hpid, SIGUSR1);
		cr_msleep(200);
	}
	fd = report_num('O');
	ASSERT_LT(0, fd);
	if (c) {
		fd_target(c, fd, target, sizeof(target));
		EXPECT_STREQ(TT_DIR "/bc-new", target) TH_LOG("C does not share B's fd table");
	}
	fd_target(l, fd, target, sizeof(target));
	EXPECT_STRNE(TT_DIR "/bc-new", target) TH_LOG("the leader shares B's fd table");
	fd = report_num('P');
	ASSERT_LT(0, fd);
	fd_target(cf, fd, target, sizeof(target));
	EXPECT_STREQ(TT_DIR "/cf-new", target)
		TH_LOG("the parent does not share its child's fd table");
}

TEST_F_TIMEOUT(tt, fd_tables_and_fs, 240)
{
	fd_tables(_metadata, &self->e, 0);
}

/* Two threads share an fd table that is not their leader's. */
TEST_F_TIMEOUT(tt, fd_table_of_two_threads, 240)
{
	fd_tables(_metadata, &self->e, 1);
}

/* -- 8. a file shared with a process outside the container --------------------- */

static int leak_open(const char *name)
{
	char path[128];
	int fd, high;

	snprintf(path, sizeof(path), "%s/%s", TT_DIR, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);	/* no O_CLOEXEC: inherited */
	if (fd < 0)
		return -1;
	high = fcntl(fd, F_DUPFD, 20);
	close(fd);
	return high;
}

/* Does @why name the word @w (not as part of a longer number or name)? */
static int names(const char *why, const char *w)
{
	const char *p = why;
	size_t n = strlen(w);

	for (; (p = strstr(p, w)); p++)
		if ((p == why || !isalnum((unsigned char)p[-1])) && !isalnum((unsigned char)p[n]))
			return 1;
	return 0;
}

TEST_F_TIMEOUT(tt, leak_refused, 240)
{
	struct tt_env *e = &self->e;
	char me[16];
	int fd;

	fd = leak_open("leaked-file");
	ASSERT_EQ(20, fd);
	ct.keep = fd;
	ct_start(_metadata, e);
	snprintf(me, sizeof(me), "%d", getpid());
	EXPECT_EQ(-EBUSY, tt_checkpoint(e->init, e->img, 0, e->why, sizeof(e->why)));
	TH_LOG("reason: %s", e->why);
	EXPECT_TRUE(strstr(e->why, "leaked-file") != NULL) TH_LOG("the reason names no file");
	EXPECT_TRUE(names(e->why, me)) TH_LOG("the reason does not name pid %s", me);
	EXPECT_EQ(0, cr_running_and_thawed(e->init, e->cgpath, &tt_counter));
	EXPECT_EQ(0, tt_progress(e->a, 1));
	/* Once the test lets go of it, the container is whole. */
	close(fd);
	EXPECT_EQ(0, tt_checkpoint(e->init, e->img, 0, e->why, sizeof(e->why)))
		TH_LOG("checkpoint after the test closed its copy: %s", e->why);
	EXPECT_EQ(0, cr_running_and_thawed(e->init, e->cgpath, &tt_counter));
}

/* fds 0-2 of init, the tool's stdio, may be shared with the outside. */
TEST_F_TIMEOUT(tt, leak_stdio_allowed, 240)
{
	struct tt_env *e = &self->e;
	int fd;

	fd = leak_open("stdout-file");
	ASSERT_EQ(20, fd);
	ct.keep = fd;
	ct.stdio = 1;
	ct_start(_metadata, e);
	EXPECT_EQ(0, tt_checkpoint(e->init, e->img, 0, e->why, sizeof(e->why)))
		TH_LOG("checkpoint with init's stdout shared with the test: %s", e->why);
	EXPECT_EQ(0, cr_running_and_thawed(e->init, e->cgpath, &tt_counter));
	close(fd);
}

/* -- 9, 10. freezing ------------------------------------------------------------- */

TEST_F_TIMEOUT(tt, frozen_by_user_stays_frozen, 240)
{
	struct tt_env *e = &self->e;
	struct tt_rs r;

	ct_start(_metadata, e);
	ASSERT_EQ(0, tt_set_freeze(e->cgpath, 1));
	ASSERT_EQ(0, tt_progress(e->a, 0));
	ASSERT_EQ(0, tt_checkpoint(e->init, e->img, 0, e->why, sizeof(e->why)))
		TH_LOG("checkpoint of a frozen container: %s", e->why);
	EXPECT_EQ(1, tt_freeze_state(e->cgpath, 0));
	EXPECT_EQ(1, tt_freeze_state(e->cgpath, 1));
	EXPECT_EQ(0, tt_progress(e->a, 0)) TH_LOG("a task ran after the checkpoint");
	ASSERT_EQ(0, tt_set_freeze(e->cgpath, 0));
	EXPECT_EQ(0, tt_progress(e->a, 1));
	cr_kill_wait(e->init);
	ASSERT_EQ(0, tt_cg_empty(e->cgpath));
	tt_restart_ok(_metadata, e, 0, &r);
	tt_verify(_metadata, e, 0);
	EXPECT_EQ(0, tt_progress(e->b, 1));
	EXPECT_EQ(0, tt_freeze_state(e->cgpath, 0));
}

TEST_F_TIMEOUT(tt, leave_frozen, 240)
{
	struct tt_env *e = &self->e;
	struct tt_rs r;

	ct_start(_metadata, e);
	ASSERT_EQ(0, tt_checkpoint(e->init, e->img, CHECKPOINT_LEAVE_FROZEN, e->why,
				   sizeof(e->why)))
		TH_LOG("checkpoint: %s", e->why);
	EXPECT_EQ(1, tt_freeze_state(e->cgpath, 0));
	EXPECT_EQ(0, tt_progress(e->a, 0)) TH_LOG("a task ran after the checkpoint");
	ASSERT_EQ(0, tt_set_freeze(e->cgpath, 0));
	EXPECT_EQ(0, tt_progress(e->a, 1));
	cr_kill_wait(e->init);
	ASSERT_EQ(0, tt_cg_empty(e->cgpath));
	tt_restart_ok(_metadata, e, 0, &r);
	tt_verify(_metadata, e, 0);
	EXPECT_EQ(0, tt_progress(e->b, 1));
}

TEST_F_TIMEOUT(tt, kill_after_checkpoint, 240)
{
	struct tt_env *e = &self->e;
	struct tt_rs r;
	int st = 0, i;

	ct_start(_metadata, e);
	ASSERT_EQ(0, tt_checkpoint(e->init, e->img, CHECKPOINT_KILL, e->why, sizeof(e->why)))
		TH_LOG("checkpoint: %s", e->why);
	for (i = 0; i < 1000 && waitpid(e->init, &st, WNOHANG) != e->init; i++)
		cr_msleep(10);
	ASSERT_GT(1000, i) TH_LOG("init still alive 10 s after CHECKPOINT_KILL");
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) TH_LOG("status %#x", st);
	EXPECT_EQ(0, tt_cg_empty(e->cgpath));
	tt_restart_ok(_metadata, e, 0, &r);
	tt_verify(_metadata, e, 0);
	EXPECT_EQ(0, tt_progress(e->b, 1));
}

TEST_F_TIMEOUT(tt, bad_flags_refused, 240)
{
	struct tt_env *e = &self->e;
	struct tt_task *c2;

	ct_start(_metadata, e);
	EXPECT_EQ(-EINVAL, tt_checkpoint(e->init, e->img,
					 CHECKPOINT_LEAVE_FROZEN | CHECKPOINT_KILL,
					 e->why, sizeof(e->why)));
	EXPECT_EQ(0, cr_running_and_thawed(e->init, e->cgpath, &tt_counter));
	c2 = tt_named(e->a, "ct-c2");
	ASSERT_NE(NULL, c2);
	EXPECT_EQ(-EINVAL, tt_checkpoint(c2->hpid, e->img, 0, e->why, sizeof(e->why)))
		TH_LOG("checkpoint of a pid that is not an init, no CHECKPOINT_SUBTREE: %s",
		       e->why);
	EXPECT_EQ(0, tt_progress(e->a, 1));
	EXPECT_EQ(0, cr_running_and_thawed(e->init, e->cgpath, &tt_counter));
}

TEST_F_TIMEOUT(tt, restart_frozen, 240)
{
	struct tt_env *e = &self->e;
	struct tt_rs r;

	ct_start(_metadata, e);
	tt_checkpoint_kill(_metadata, e, e->init, 0);
	tt_restart_ok(_metadata, e, RESTART_FROZEN, &r);
	/* The whole tree is there, frozen. */
	ASSERT_EQ(0, tt_wait_match(e->init, e->a, e->b, e->msg, sizeof(e->msg), 60000))
		TH_LOG("restored tree: %s", e->msg);
	EXPECT_EQ(1, tt_freeze_state(e->cgpath, 0));
	EXPECT_EQ(0, tt_progress(e->b, 0)) TH_LOG("a task runs before the thaw");
	ASSERT_EQ(0, tt_set_freeze(e->cgpath, 0));
	EXPECT_EQ(0, tt_progress(e->b, 1));
	ASSERT_EQ(0, tt_kick(e->b, e->rep, 0, 60000));
	EXPECT_EQ(0, tt_check_reports(e->a, e->rep, e->msg, sizeof(e->msg)))
		TH_LOG("reports: %s", e->msg);
}

/* -- 12a. a restart that fails before building anything --------------------------- */

TEST_F_TIMEOUT(tt, restart_missing_file, 240)
{
	struct tt_env *e = &self->e;
	struct tt_rs r;
	int ret;

	ASSERT_EQ(0, cr_write_str(TT_DIR "/victim", "victim"));
	ct.victim = 1;
	ct_start(_metadata, e);
	tt_checkpoint_kill(_metadata, e, e->init, 0);
	ASSERT_EQ(0, unlink(TT_DIR "/victim"));
	ret = tt_restart(e->cg, e->img, 0, 0, &r);
	ASSERT_NE(-2, ret) TH_LOG("%s", r.why);
	if (ret == 0) {
		TH_LOG("restarted without the file it needs");
		cr_kill_wait(r.init);
	}
	ASSERT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, r.err) TH_LOG("errno %d (%s): %s", r.err, strerror(r.err), r.why);
	EXPECT_TRUE(strstr(r.why, "victim") != NULL) TH_LOG("reason: %s", r.why);
	/* Nothing but the restarter, which lives on. */
	EXPECT_EQ(0, tt_cg_others(e->cgpath, r.init, e->msg, sizeof(e->msg)))
		TH_LOG("left in the cgroup: %s", e->msg);
	tt_snap(r.init, e->b);
	EXPECT_EQ(1, e->b->n);
	EXPECT_EQ(125, tt_release(&r));
	EXPECT_EQ(0, tt_cg_empty(e->cgpath));
}

/* -- 12b. a failed restart and a child it did not create ------------------------ */

static int wl_two_kids(void *arg)
{
	tt_enter("tt-init", -1);
	tt_spawn("tt-kid", wide_kid, 0);
	tt_spawn("tt-kid", wide_kid, 1);
	tt_up();
	tt_idle();
}

/*
 * Is @pid blocked in restart() (waiting for the image)?  Within 10 s:
 * /proc/PID/syscall names the call of a blocked task only ("running"
 * otherwise).
 */
static int tt_wait_in_restart(pid_t pid)
{
	char path[64], buf[256];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	for (i = 0; i < 1000; i++) {
		if (cr_read_str(path, buf, sizeof(buf)) > 0 && atoi(buf) == __NR_restart)
			return 0;
		cr_msleep(10);
	}
	return -1;
}

/*
 * From outside, enter the pid namespace of @init with setns() and fork a
 * process there whose child, "tt-foreign", pauses: once its parent exits,
 * it is an orphan reparented to @init.  0, or -1.
 */
static int tt_foreign_child(pid_t init)
{
	int pidfd = syscall(SYS_pidfd_open, init, 0);
	pid_t p;

	if (pidfd < 0)
		return -1;
	fflush(NULL);
	p = fork();
	if (p == 0) {
		pid_t mid;

		if (setns(pidfd, CLONE_NEWPID))
			_exit(1);
		mid = fork();
		if (mid == 0) {
			/* named before the fork: the orphan has its name at once */
			prctl(PR_SET_NAME, "tt-foreign");
			if (fork() == 0)
				tt_idle();
			_exit(0);
		}
		_exit(mid > 0 && waitpid(mid, NULL, 0) == mid ? 0 : 1);
	}
	close(pidfd);
	return p > 0 && cr_wait_exit(p) == 0 ? 0 : -1;
}

/*
 * A task enters the new container with setns() while its init is in
 * restart(), reading the image from a pipe: that task's orphan becomes
 * init's child, with pid 3, which the image's third task needs.  restart()
 * fails (EEXIST, naming pid 3) having created pid 2: it kills and reaps
 * that task only.  It does not wait for the orphan, which is not its own
 * (it would wait forever: the orphan pauses), and leaves it alone, still
 * init's child.
 */
TEST_F_TIMEOUT(tt, restart_foreign_child, 240)
{
	struct tt_env *e = &self->e;
	int pfd[2], rep[2], hold[2], err = 0;
	char buf[600] = "";
	struct pollfd pl;
	struct tt_task *f;
	char *img;
	off_t len;
	pid_t init, writer;
	ssize_t n;

	tt_start(_metadata, e, wl_two_kids, 3, 0, 3);
	tt_checkpoint_kill(_metadata, e, e->init, 0);
	len = cr_file_size(e->img);
	img = cr_load_file(e->img);
	ASSERT_NE(NULL, img);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(hold, O_CLOEXEC));
	init = cr_clone(e->cg);
	ASSERT_LE(0, init);
	if (init == 0) {
		long ret;

		close(pfd[1]);
		close(rep[0]);
		close(hold[1]);
		ret = sys_restart(RESTART_CRID_FD, pfd[0], 0);
		snprintf(buf, sizeof(buf), "%d %ld ", errno, ret);
		cr_reason(buf + strlen(buf), sizeof(buf) - strlen(buf));
		if (write(rep[1], buf, strlen(buf)) < 0 || read(hold[0], buf, 1) < 0)
			_exit(126);
		_exit(125);
	}
	close(pfd[0]);
	close(rep[1]);
	close(hold[0]);
	ASSERT_EQ(0, tt_wait_in_restart(init));
	ASSERT_EQ(0, tt_foreign_child(init));
	tt_snap(init, e->b);
	f = tt_named(e->b, "tt-foreign");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(3, f->pid);
	EXPECT_EQ(init, f->hppid);
	/* the image, from a writer of its own: restart() stops reading it when it fails */
	fflush(NULL);
	writer = fork();
	if (writer == 0) {
		close(hold[1]);
		_exit(write(pfd[1], img, len) == len ? 0 : 1);
	}
	ASSERT_LT(0, writer);
	close(pfd[1]);
	free(img);
	pl = (struct pollfd){ rep[0], POLLIN, 0 };
	ASSERT_EQ(1, poll(&pl, 1, 30000)) {
		TH_LOG("restart() did not return in 30 s: waiting for the orphan?");
		kill(f->hpid, SIGKILL);
	}
	n = read(rep[0], buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	err = atoi(buf);
	EXPECT_EQ(-1, atol(strchr(buf, ' ') + 1)) TH_LOG("restart(): %s", buf);
	EXPECT_EQ(EEXIST, err) TH_LOG("restart(): %s", buf);
	EXPECT_NE(NULL, strstr(buf, "pid 3")) TH_LOG("reason: %s", buf);
	/* pid 2 it created is gone; the orphan lives on, init's child */
	EXPECT_EQ(0, tt_cg_others(e->cgpath, init, e->msg, sizeof(e->msg)))
		TH_LOG("left in the cgroup: %s", e->msg);
	tt_snap(init, e->b);
	EXPECT_EQ(2, e->b->n);
	f = tt_named(e->b, "tt-foreign");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(init, f->hppid);
	EXPECT_EQ(0, f->zombie);
	kill(f->hpid, SIGKILL);
	kill(writer, SIGKILL);
	cr_wait_exit(writer);
	close(hold[1]);
	EXPECT_EQ(125, cr_wait_exit(init));
	close(rep[0]);
}

/* -- 11. refusals: one task of many ----------------------------------------------- */

FIXTURE(refuse) {
	struct tt_env e;
};

FIXTURE_VARIANT(refuse) {
	enum ct_bad bad;
	int err;
	const char *culprit;	/* the task the reason names */
};

FIXTURE_VARIANT_ADD(refuse, eventfd) { .bad = CT_EVENTFD, .err = EOPNOTSUPP, .culprit = "ct-g" };
FIXTURE_VARIANT_ADD(refuse, inet) { .bad = CT_INET, .err = EOPNOTSUPP, .culprit = "ct-g" };
FIXTURE_VARIANT_ADD(refuse, unix_oob) { .bad = CT_SOCKET, .err = EOPNOTSUPP, .culprit = "ct-g" };
FIXTURE_VARIANT_ADD(refuse, timer) { .bad = CT_TIMER, .err = EOPNOTSUPP, .culprit = "ct-g" };
FIXTURE_VARIANT_ADD(refuse, vfork) { .bad = CT_VFORK, .err = EOPNOTSUPP, .culprit = "ct-vfork" };
FIXTURE_VARIANT_ADD(refuse, timed_futex) {
	.bad = CT_FUTEX, .err = EOPNOTSUPP, .culprit = "ct-futex"
};

FIXTURE_SETUP(refuse)
{
	tt_env_setup(&self->e);
	ASSERT_LE(0, self->e.cg);
}

FIXTURE_TEARDOWN(refuse)
{
	tt_env_teardown(&self->e);
}

/*
 * G, a grandchild of init, holds or does what checkpoint does not
 * support: refused, naming the task concerned (G, its vfork() child, its
 * thread in the futex wait); every task keeps running, thawed.  Once G
 * undoes it, the checkpoint goes through.
 */
TEST_F_TIMEOUT(refuse, grandchild, 240)
{
	struct tt_env *e = &self->e;
	char hpid[16], pid[24];
	struct tt_task *g, *c;
	int i;

	ct.bad = variant->bad;
	ct_start(_metadata, e);
	g = tt_named(e->a, "ct-g");
	c = tt_named(e->a, variant->culprit);
	ASSERT_TRUE(g && c);
	EXPECT_EQ(-variant->err, tt_checkpoint(e->init, e->img, 0, e->why, sizeof(e->why)));
	TH_LOG("reason: %s", e->why);
	snprintf(hpid, sizeof(hpid), "%d", c->hpid);
	snprintf(pid, sizeof(pid), "pid %d", c->pid);
	EXPECT_TRUE(names(e->why, hpid) || names(e->why, pid))
		TH_LOG("the reason names neither pid %s nor %s", hpid, pid);
	EXPECT_EQ(0, cr_running_and_thawed(e->init, e->cgpath, &tt_counter));
	EXPECT_EQ(0, tt_progress(e->a, 1));
	EXPECT_EQ(0, tt_freeze_state(e->cgpath, 1));

	ASSERT_EQ(0, cr_poke(g->hpid, (void *)&tt_go, 1));
	for (i = 0; i < 100 && tt_count('K') < 1; i++)
		cr_msleep(200);
	ASSERT_EQ(1, tt_count('K'));
	cr_msleep(300);
	EXPECT_EQ(0, tt_checkpoint(e->init, e->img, 0, e->why, sizeof(e->why)))
		TH_LOG("checkpoint once G undid it: %s", e->why);
	EXPECT_EQ(0, cr_running_and_thawed(e->init, e->cgpath, &tt_counter));
}

/* -- 12b. every allocation of a restart failing in turn ---------------------------- */

static const struct knob {
	const char *path;
	const char *val;
} knobs[] = {
	{ FAILSLAB "/probability", "0" },
	{ FAILSLAB "/task-filter", "Y" },
	{ FAILSLAB "/verbose", "0" },
	{ FAILSLAB "/ignore-gfp-wait", "N" },
	{ FAILSLAB "/cache-filter", "N" },
};

#define NR_KNOBS	ARRAY_SIZE(knobs)

FIXTURE(fi) {
	struct tt_env e;
	char saved[NR_KNOBS][32];
	int configured;
};

FIXTURE_SETUP(fi)
{
	unsigned int i;
	char *nl;

	tt_env_setup(&self->e);
	ASSERT_LE(0, self->e.cg);
	if (access(FAILSLAB, F_OK) || access(FAIL_NTH, F_OK))
		SKIP(return, "no failslab or fail-nth");
	for (i = 0; i < NR_KNOBS; i++) {
		ASSERT_LT(0, cr_read_str(knobs[i].path, self->saved[i], sizeof(self->saved[i])));
		nl = strchr(self->saved[i], '\n');
		if (nl)
			*nl = '\0';
	}
	self->configured = 1;
	for (i = 0; i < NR_KNOBS; i++) {
		const char *path = knobs[i].path;

		ASSERT_EQ(0, cr_write_str(path, knobs[i].val)) TH_LOG("%s", path);
	}
}

FIXTURE_TEARDOWN(fi)
{
	unsigned int i;

	if (self->configured)
		for (i = 0; i < NR_KNOBS; i++)
			cr_write_str(knobs[i].path, self->saved[i]);
	tt_env_teardown(&self->e);
}

/*
 * For N = 1, 2, ... the Nth allocation of the restarter fails: the
 * restart is refused (ENOMEM, the restarter alive, no other task in its
 * cgroup), or killed past the point of no return (nothing left), or the
 * tree is whole.  Until a restart gets through all its allocations.
 */
TEST_F_TIMEOUT(fi, restart_sweep, 600)
{
	struct tt_env *e = &self->e;
	unsigned int n, refused = 0, killed = 0, tolerated = 0, points = 0;
	double t0, end;
	int ret, st = 0, gone, bad = 0;
	struct tt_rs r;

	ct_start(_metadata, e);
	tt_checkpoint_kill(_metadata, e, e->init, 0);
	t0 = cr_now();
	for (n = 1; !points; n++) {
		ASSERT_TRUE(n <= NTH_CAP && cr_now() - t0 < SWEEP_MAX_S)
			TH_LOG("the sweep is at N = %u after %.0f s", n, cr_now() - t0);
		ret = tt_restart(e->cg, e->img, 0, n, &r);
		ASSERT_NE(-2, ret) TH_LOG("N = %u: %s", n, r.why);
		if (ret == -1) {
			refused++;
			EXPECT_LT(0, r.err) TH_LOG("N = %u", n);
			EXPECT_EQ(0, r.left)
				TH_LOG("N = %u: refused before the fault: %s (%s)", n,
				       strerror(r.err), r.why);
			EXPECT_EQ(ENOMEM, r.err)
				TH_LOG("N = %u: errno %d (%s): %s", n, r.err, strerror(r.err), r.why);
			EXPECT_NE('\0', r.why[0]) TH_LOG("N = %u: no reason", n);
			EXPECT_EQ(0, tt_cg_others(e->cgpath, r.init, e->msg, sizeof(e->msg)))
				TH_LOG("N = %u (%s): left in the cgroup: %s", n, r.why, e->msg);
			tt_snap(r.init, e->b);
			EXPECT_EQ(1, e->b->n) TH_LOG("N = %u: %d tasks in the new container",
						      n, e->b->n);
			EXPECT_EQ(125, tt_release(&r)) TH_LOG("N = %u", n);
		} else {
			close(r.hold);
			/* Past the point of no return: killed, or the whole tree. */
			end = cr_now() + 30;
			for (gone = 0; !gone; cr_msleep(10)) {
				gone = waitpid(r.init, &st, WNOHANG) == r.init;
				tt_snap(r.init, e->b);
				if (gone || !tt_diff(e->a, e->b, e->msg, sizeof(e->msg)))
					break;
				ASSERT_GT(end, cr_now())
					TH_LOG("N = %u: neither restored nor gone: %s", n, e->msg);
			}
			if (!gone) {
				long left = cr_nth_disarm_pid(r.init);

				ASSERT_LE(0, left);
				if (left)
					points = n - left;
				else
					tolerated++;
				EXPECT_EQ(0, tt_progress(e->b, 1)) TH_LOG("N = %u", n);
				cr_kill_wait(r.init);
			} else {
				killed++;
				EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
					TH_LOG("N = %u: the restarter ended with %#x", n, st);
			}
		}
		EXPECT_EQ(0, tt_cg_empty(e->cgpath)) TH_LOG("N = %u: tasks left behind", n);
		if (!__test_passed(_metadata) && ++bad >= 20)
			break;
	}
	TH_LOG("restart: %u allocation points; %u refused, %u killed, %u did without; %.1f s",
	       points, refused, killed, tolerated, cr_now() - t0);
	EXPECT_LT(0, refused);
}

/* -- pending signals: per thread and per process, with their siginfo ------------ */

#define PS_REPORT	TT_DIR "/pending"
#define PS_READY	TT_DIR "/pending.ready"
static volatile int ps_go;
static pthread_t ps_thread;

static void ps_usr1(int sig)
{
	ps_go = 1;
}

/* Signals pending for the calling thread (blocked), as "signo:code:value ...". */
static void ps_drain(char *out, size_t len, const sigset_t *set)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	size_t used = 0;

	out[0] = '\0';
	while (used < len && sigtimedwait(set, &si, &zero) > 0)
		used += snprintf(out + used, len - used, " %d:%d:%d", si.si_signo, si.si_code,
				 si.si_code == SI_QUEUE ? si.si_value.sival_int : 0);
}

static void *ps_thread_fn(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

/*
 * pid 1 blocks SIGUSR2 and SIGRTMIN+1 everywhere, queues SIGRTMIN+1 twice
 * (values 7 and 8) and SIGUSR2 to its process, and SIGUSR2 to its second
 * thread alone; SIGUSR1 (handled) tells it to report what is pending.
 */
static int ps_workload(void *arg)
{
	union sigval v;
	sigset_t set;
	char buf[512], mine[256];

	cr_quiet_fds();
	signal(SIGUSR1, ps_usr1);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pthread_create(&ps_thread, NULL, ps_thread_fn, NULL))
		return 10;
	v.sival_int = 7;
	sigqueue(getpid(), SIGRTMIN + 1, v);
	v.sival_int = 8;
	sigqueue(getpid(), SIGRTMIN + 1, v);
	kill(getpid(), SIGUSR2);
	pthread_kill(ps_thread, SIGUSR2);
	cr_write_str(PS_READY, "1");
	while (!ps_go)
		pause();
	/* The thread's own SIGUSR2 stays with it: the main thread sees the process's. */
	ps_drain(mine, sizeof(mine), &set);
	snprintf(buf, sizeof(buf), "main%s\n", mine);
	cr_write_str(PS_REPORT, buf);
	return 0;
}

TEST_F_TIMEOUT(tt, pending_signals, 240)
{
	struct tt_env *e = &self->e;
	char why[256], buf[512], want[128];
	unsigned long long shd;
	struct dirent *de;
	int threads = 0;
	pid_t pid, rinit;
	DIR *d;

	unlink(PS_REPORT);
	unlink(PS_READY);
	pid = cr_start(e->cg, ps_workload, NULL);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_wait_file(PS_READY, 30000));
	cr_msleep(200);
	ASSERT_EQ(0, cr_checkpoint(pid, e->img, why, sizeof(why))) TH_LOG("checkpoint: %s", why);
	cr_kill_wait(pid);
	ASSERT_EQ(0, cr_restart_img(e->cg, e->img, &rinit, why, sizeof(why)))
		TH_LOG("restart: %s", why);
	/* The process's queue and the second thread's own, as /proc shows them. */
	shd = 1ULL << (SIGUSR2 - 1) | 1ULL << (SIGRTMIN + 1 - 1);
	snprintf(buf, sizeof(buf), "/proc/%d/task", rinit);
	d = opendir(buf);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name);
		char st[4096], *p;

		if (tid <= 0)
			continue;
		snprintf(buf, sizeof(buf), "/proc/%d/task/%d/status", rinit, tid);
		ASSERT_LT(0, cr_read_str(buf, st, sizeof(st)));
		p = strstr(st, "\nShdPnd:");
		ASSERT_NE(NULL, p);
		EXPECT_EQ(shd, strtoull(p + 9, NULL, 16));
		p = strstr(st, "\nSigPnd:");
		ASSERT_NE(NULL, p);
		EXPECT_EQ(tid == rinit ? 0 : 1ULL << (SIGUSR2 - 1), strtoull(p + 9, NULL, 16))
			TH_LOG("tid %d", tid);
		threads++;
	}
	closedir(d);
	EXPECT_EQ(2, threads);
	ASSERT_EQ(0, kill(rinit, SIGUSR1));
	ASSERT_EQ(0, cr_wait_file(PS_REPORT, 30000));
	cr_msleep(100);
	ASSERT_LT(0, cr_read_str(PS_REPORT, buf, sizeof(buf)));
	/* SIGUSR2 first (lowest number), then the two RT signals in order, with their values */
	snprintf(want, sizeof(want), "main %d:%d:0 %d:%d:7 %d:%d:8\n", SIGUSR2, SI_USER,
		 SIGRTMIN + 1, SI_QUEUE, SIGRTMIN + 1, SI_QUEUE);
	EXPECT_STREQ(want, buf);
	EXPECT_EQ(0, cr_wait_exit(rinit));
}

/* -- a network namespace of the container's own, loopback only ------------------ */

#define NS_REPORT	TT_DIR "/netns"
#define NS_READY	TT_DIR "/netns.ready"
static volatile int ns_go;

static void ns_usr1(int sig)
{
	ns_go = 1;
}

/* Is lo up, and which network namespace: "lo 1 net:[...]". */
static void ns_report(char *out, size_t len)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char ns[64] = "";
	ssize_t n;

	n = readlink("/proc/self/ns/net", ns, sizeof(ns) - 1);
	ns[n > 0 ? n : 0] = '\0';
	snprintf(out, len, "lo %d %s\n", s >= 0 && !ioctl(s, SIOCGIFFLAGS, &ifr) &&
		 (ifr.ifr_flags & IFF_UP), ns);
	if (s >= 0)
		close(s);
}

static int ns_workload(void *arg)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	char buf[128];
	int s;

	cr_quiet_fds();
	signal(SIGUSR1, ns_usr1);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		return 10;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		return 11;
	close(s);
	ns_report(buf, sizeof(buf));
	cr_write_str(NS_REPORT, buf);
	cr_write_str(NS_READY, "1");
	while (!ns_go)
		pause();
	ns_report(buf, sizeof(buf));
	cr_write_str(NS_REPORT, buf);
	return 0;
}

TEST_F_TIMEOUT(tt, network_namespace, 240)
{
	struct tt_env *e = &self->e;
	char why[256], before[128], after[128];
	pid_t pid, rinit;

	unlink(NS_REPORT);
	unlink(NS_READY);
	cr_clone_more_ns = CLONE_NEWNET;
	pid = cr_start(e->cg, ns_workload, NULL);
	cr_clone_more_ns = 0;
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_wait_file(NS_READY, 30000));
	ASSERT_LT(0, cr_read_str(NS_REPORT, before, sizeof(before)));
	ASSERT_EQ(0, strncmp(before, "lo 1 net:", 9)) TH_LOG("%s", before);
	ASSERT_EQ(0, cr_checkpoint(pid, e->img, why, sizeof(why))) TH_LOG("checkpoint: %s", why);
	cr_kill_wait(pid);
	/* Not in the host's network namespace: refused, nothing left. */
	EXPECT_EQ(-EINVAL, cr_restart_img(e->cg, e->img, &rinit, why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "network namespace")) TH_LOG("reason: %s", why);
	unlink(NS_REPORT);
	cr_clone_more_ns = CLONE_NEWNET;
	ASSERT_EQ(0, cr_restart_img(e->cg, e->img, &rinit, why, sizeof(why)))
		TH_LOG("restart: %s", why);
	cr_clone_more_ns = 0;
	/*
	 * The report pipe closes once the restarter has the restored fd
	 * table, before restart() returns: a signal in that window is
	 * dropped with the caller's own (kernel limitation), so send again.
	 */
	for (int i = 0; i < 30; i++) {
		ASSERT_EQ(0, kill(rinit, SIGUSR1));
		if (!cr_wait_file(NS_REPORT, 1000))
			break;
	}
	ASSERT_EQ(0, cr_wait_file(NS_REPORT, 1000));
	cr_msleep(100);
	ASSERT_LT(0, cr_read_str(NS_REPORT, after, sizeof(after)));
	/* loopback up again, in a namespace of its own (a new one) */
	EXPECT_EQ(0, strncmp(after, "lo 1 net:", 9)) TH_LOG("%s", after);
	EXPECT_STRNE(before, after);
	EXPECT_EQ(0, cr_wait_exit(rinit));
}

TEST_HARNESS_MAIN
