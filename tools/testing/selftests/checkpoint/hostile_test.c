// SPDX-License-Identifier: GPL-2.0
/*
 * restart() of hostile but well-formed images by an unprivileged user.
 *
 * The restarter is uid/gid 1000 with no supplementary groups, holding
 * CAP_CHECKPOINT_RESTORE only in a user namespace of its own (uid and
 * gid maps of itself alone): it forks, drops to 1000, unshares its user
 * namespace, writes its maps, and clones pid 1 of a new pid namespace
 * (with mount, uts and ipc namespaces), which calls restart().
 *
 * A good image is made first as root, of a small container whose files
 * are world-readable.  Each case edits it record by record, keeping every
 * record well-formed and recomputing the tail (records, bytes, checksum,
 * where the page data are, which follow the records unchanged) and the
 * END record after the page data, so that only the hostile field is
 * wrong.  Each must be refused before the point of no return: restart()
 * returns to the restarter, which stays alive and reports errno and
 * reason through a pipe.
 *
 *   FILE naming a file of another user (0600)	EACCES, reason names the path
 *   executable the restarter may not execute	EACCES, reason says "exec"
 *   VMA at the vsyscall page, in the kernel half, across TASK_SIZE
 *						EBADMSG, "beyond user space"
 *   an fd over the restarter's RLIMIT_NOFILE	EMFILE, "fd limit"
 *   more FILE records than RLIMIT_NOFILE	EMFILE, "limit"
 *   a pid that cannot exist in the new pid namespace
 *						EBADMSG, reason names the pid
 *
 * Credentials claimed by the image (uid/gid 0 in TASK) are never
 * restored: if restart succeeds the process runs as the restarter, which
 * it reports itself once it resumes.  The unmodified image restarts for
 * the unprivileged user (positive control).
 */
#include "cr_test.h"

#include <grp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "../kselftest_harness.h"

#define H_DIR		"/tmp/crhostile"
#define H_GOOD		H_DIR "/good.img"
#define H_BAD		H_DIR "/bad.img"
#define H_READY		H_DIR "/ready"
#define H_DATA		H_DIR "/data"	/* 0644 root: the container's fd 3 */
#define H_SECRET	H_DIR "/secret"	/* 0600 root */
#define H_OTHER		H_DIR "/other"	/* 0600 of another unprivileged user */
#define H_PLAIN		H_DIR "/plain"	/* a 0644 copy of this program */
#define H_ADIR		H_DIR "/adir"	/* a 0755 directory */
#define H_OUT		H_DIR "/out"	/* 0777: the restored process writes here */
#define H_IDS		H_OUT "/ids"
#define H_COMM		"cr-hostile"

#define UNPRIV_ID	1000
#define OTHER_ID	2000
#define NOFILE_LIMIT	64
#define MAX_RECS	1024

/* -- the container ------------------------------------------------------ */

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

/*
 * /dev/null on 0-2 and 4, the world-readable data file on 3, cwd in H_DIR;
 * pauses until SIGUSR1, which the test only sends to a restored copy:
 * that copy then writes the ids it runs with.
 */
static int workload(void *arg)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	uid_t r, e, s;
	gid_t rg, eg, sg;
	char buf[128];

	cr_quiet_fds();
	sigaction(SIGUSR1, &sa, NULL);
	prctl(PR_SET_NAME, H_COMM);
	if (chdir(H_DIR))
		return 10;
	if (open(H_DATA, O_RDONLY) != 3)
		return 11;
	/* 0-2 are the restarter's at restart: a /dev/null of the image's own */
	if (open("/dev/null", O_RDWR) != 4)
		return 13;
	cr_write_str(H_READY, "1");
	while (!go)
		pause();

	/* -- restored: the test never signals the original */
	if (getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg))
		return 12;
	snprintf(buf, sizeof(buf), "uid %u %u %u gid %u %u %u groups %d\n",
		 r, e, s, rg, eg, sg, getgroups(0, NULL));
	return cr_write_str(H_IDS, buf) ? 13 : 0;
}

/* -- the unprivileged restarter ------------------------------------------ */

enum { MSG_SETUP, MSG_REFUSED, MSG_RESTORED, MSG_CHILD, MSG_ENDED };

struct unpriv_msg {
	int stage;
	int err;	/* errno of the step or of restart() */
	int status;	/* wait status of the restarter (pid 1) */
	pid_t pid;	/* the restarter, in our pid namespace */
	char why[256];
};

struct unpriv_result {
	int refused;	/* restart() returned an error */
	int err;
	int status;	/* the restarter's wait status after a refusal */
	char why[256];
	int restored;	/* the restarter became the process of the image */
	char proc_ids[128];	/* its Uid: and Gid: lines, seen from outside */
	char ids[128];	/* what it wrote once resumed */
	int ids_uid;	/* owner of that file */
	int end_status;	/* its wait status */
};

static int write_proc(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static void send_msg(int fd, struct unpriv_msg *m)
{
	if (write(fd, m, sizeof(*m)) != sizeof(*m))
		_exit(99);
}

/* pid 1 of the new pid namespace: restart() or report why not. */
static void restarter(int img, int report)
{
	char buf[300];
	long r;

	r = sys_restart(RESTART_CRID_FD, img, 0);
	if (r > 0) {
		/* restored as a child of ours: none of our images asks for it */
		snprintf(buf, sizeof(buf), "+%ld", r);
		if (write(report, buf, strlen(buf)) < 0)
			_exit(126);
		close(report);
		while (wait(NULL) > 0 || errno == EINTR)
			;
		_exit(124);
	}
	snprintf(buf, sizeof(buf), "%d ", errno);
	cr_reason(buf + strlen(buf), sizeof(buf) - strlen(buf));
	if (write(report, buf, strlen(buf)) < 0)
		_exit(126);
	_exit(125);
}

/* The forked child that becomes the unprivileged user. */
static void __attribute__((noreturn)) unpriv_child(int img, int rep)
{
	struct unpriv_msg m = { .stage = MSG_SETUP };
	struct rlimit rl = { NOFILE_LIMIT, NOFILE_LIMIT };
	const char *step;
	char map[64], buf[300];
	int inner[2], status;
	ssize_t n;
	pid_t b;

	snprintf(map, sizeof(map), "%d %d 1", UNPRIV_ID, UNPRIV_ID);
	step = "setgroups";
	if (setgroups(0, NULL))
		goto fail;
	step = "setresgid";
	if (setresgid(UNPRIV_ID, UNPRIV_ID, UNPRIV_ID))
		goto fail;
	step = "setresuid";
	if (setresuid(UNPRIV_ID, UNPRIV_ID, UNPRIV_ID))
		goto fail;
	/* setuid made us undumpable: /proc/self would be root's */
	step = "PR_SET_DUMPABLE";
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		goto fail;
	step = "setrlimit(RLIMIT_NOFILE)";
	if (setrlimit(RLIMIT_NOFILE, &rl))
		goto fail;
	step = "unshare(CLONE_NEWUSER)";
	if (unshare(CLONE_NEWUSER))
		goto fail;
	step = "uid_map";
	if (write_proc("/proc/self/uid_map", map))
		goto fail;
	step = "setgroups deny";
	if (write_proc("/proc/self/setgroups", "deny"))
		goto fail;
	step = "gid_map";
	if (write_proc("/proc/self/gid_map", map))
		goto fail;
	step = "pipe";
	if (pipe(inner))
		goto fail;
	step = "clone3 into new pid/mount/uts/ipc namespaces";
	b = cr_clone(-1);
	if (b < 0)
		goto fail;
	if (b == 0) {
		close(rep);
		close(inner[0]);
		restarter(img, inner[1]);
	}
	close(inner[1]);
	close(img);
	n = read(inner[0], buf, sizeof(buf) - 1);
	close(inner[0]);
	if (n > 0 && buf[0] != '+') {
		buf[n] = '\0';
		m.stage = MSG_REFUSED;
		m.err = atoi(buf);
		snprintf(m.why, sizeof(m.why), "%s", strchr(buf, ' ') ? strchr(buf, ' ') + 1 : "");
		waitpid(b, &m.status, 0);
		send_msg(rep, &m);
		_exit(0);
	}
	/* EOF: restart() closed our fds, it is becoming the image's task */
	m.stage = n > 0 ? MSG_CHILD : MSG_RESTORED;
	m.pid = b;
	send_msg(rep, &m);
	while (waitpid(b, &status, 0) < 0 && errno == EINTR)
		;
	m.stage = MSG_ENDED;
	m.status = status;
	send_msg(rep, &m);
	_exit(0);
fail:
	m.err = errno;
	snprintf(m.why, sizeof(m.why), "%s", step);
	send_msg(rep, &m);
	_exit(1);
}

static int read_msg(int fd, struct unpriv_msg *m, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return read(fd, m, sizeof(*m)) == sizeof(*m) ? 0 : -1;
}

/* The Uid: and Gid: lines of /proc/@pid/status, tabs as spaces. */
static void proc_ids(pid_t pid, char *out, size_t len)
{
	char path[64], buf[2048], *u, *g, *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	out[0] = '\0';
	if (cr_read_str(path, buf, sizeof(buf)) <= 0)
		return;
	u = strstr(buf, "\nUid:");
	g = strstr(buf, "\nGid:");
	if (!u || !g)
		return;
	*strchrnul(u + 1, '\n') = '\0';
	*strchrnul(g + 1, '\n') = '\0';
	snprintf(out, len, "%s %s", u + 1, g + 1);
	for (p = out; *p; p++)
		if (*p == '\t')
			*p = ' ';
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
 * Restart @path as the unprivileged user.  Returns 0 with @res filled in,
 * or -1 (logged) if the test itself could not set it up.  A restored
 * process is asked (SIGUSR1) to write its ids and end, else killed.
 */
static int unpriv_restart(struct __test_metadata *_metadata, const char *path,
			  struct unpriv_result *res)
{
	struct unpriv_msg m;
	struct stat st;
	int rep[2], img, i, ret = 0, ended = 0;
	pid_t a;

	memset(res, 0, sizeof(*res));
	res->ids_uid = -1;
	unlink(H_IDS);
	img = open(path, O_RDONLY);
	if (img < 0 || pipe(rep)) {
		TH_LOG("%s: %s", path, strerror(errno));
		return -1;
	}
	fflush(NULL);
	a = fork();
	if (a < 0)
		return -1;
	if (a == 0) {
		close(rep[0]);
		unpriv_child(img, rep[1]);
	}
	close(img);
	close(rep[1]);
	if (read_msg(rep[0], &m, 60000)) {
		TH_LOG("no word from the unprivileged restarter within 60 s");
		kill(a, SIGKILL);
		ret = -1;
		goto out;
	}
	switch (m.stage) {
	case MSG_SETUP:
		TH_LOG("unprivileged restarter: %s: %s", m.why, strerror(m.err));
		ret = -1;
		break;
	case MSG_REFUSED:
		res->refused = 1;
		res->err = m.err;
		res->status = m.status;
		snprintf(res->why, sizeof(res->why), "%s", m.why);
		break;
	case MSG_CHILD:
		TH_LOG("restored as a child of the restarter (pid %d)", m.pid);
		res->restored = 1;
		kill(m.pid, SIGKILL);
		break;
	case MSG_RESTORED:
		res->restored = 1;
		/* restored once it has the image's comm; then ask it */
		for (i = 0; i < 300 && !ended; i++) {
			if (comm_is(m.pid, H_COMM)) {
				if (!res->proc_ids[0])
					proc_ids(m.pid, res->proc_ids, sizeof(res->proc_ids));
				kill(m.pid, SIGUSR1);
			}
			if (!read_msg(rep[0], &m, 100))
				ended = m.stage == MSG_ENDED;
		}
		if (!ended) {
			TH_LOG("the restored process did not end within 30 s: killed");
			kill(m.pid, SIGKILL);
			if (read_msg(rep[0], &m, 30000) || m.stage != MSG_ENDED) {
				ret = -1;
				break;
			}
		}
		res->end_status = m.status;
		if (cr_read_str(H_IDS, res->ids, sizeof(res->ids)) > 0 && !stat(H_IDS, &st))
			res->ids_uid = st.st_uid;
		break;
	}
out:
	close(rep[0]);
	waitpid(a, NULL, 0);
	return ret;
}

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "?";
}

/* Refused before the point of no return, with @err and @what in the reason. */
static void check_refused(struct __test_metadata *_metadata, const char *label,
			  int err, const char *what)
{
	struct unpriv_result r;

	ASSERT_EQ(0, unpriv_restart(_metadata, H_BAD, &r));
	if (r.restored)
		TH_LOG("%s: restored instead of refused (%s; ids '%s', ended with status %#x)",
		       label, r.proc_ids, r.ids, r.end_status);
	EXPECT_EQ(1, r.refused) TH_LOG("%s: not refused", label);
	if (!r.refused)
		return;
	TH_LOG("%s: %s: %s", label, errname(r.err), r.why);
	EXPECT_EQ(err, r.err) TH_LOG("%s: %s, expected %s", label, errname(r.err), errname(err));
	EXPECT_NE(NULL, strstr(r.why, what)) TH_LOG("%s: reason without '%s'", label, what);
	/* the restarter survived its failure: it exited on its own */
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 125)
		TH_LOG("%s: restarter wait status %#x", label, r.status);
}

/* Restored, and running as the restarter whatever the image says. */
static void check_restored_as_restarter(struct __test_metadata *_metadata,
					struct unpriv_result *r)
{
	char want[128];

	ASSERT_EQ(1, r->restored)
		TH_LOG("refused: %s: %s (restarter status %#x)", errname(r->err), r->why,
		       r->status);
	snprintf(want, sizeof(want), "Uid: %d %d %d %d Gid: %d %d %d %d", UNPRIV_ID, UNPRIV_ID,
		 UNPRIV_ID, UNPRIV_ID, UNPRIV_ID, UNPRIV_ID, UNPRIV_ID, UNPRIV_ID);
	EXPECT_STREQ(want, r->proc_ids);
	snprintf(want, sizeof(want), "uid %d %d %d gid %d %d %d groups 0\n", UNPRIV_ID,
		 UNPRIV_ID, UNPRIV_ID, UNPRIV_ID, UNPRIV_ID, UNPRIV_ID);
	EXPECT_STREQ(want, r->ids);
	EXPECT_EQ(UNPRIV_ID, r->ids_uid);
	EXPECT_TRUE(WIFEXITED(r->end_status) && WEXITSTATUS(r->end_status) == 0)
		TH_LOG("restored process wait status %#x", r->end_status);
}

/* -- the image, record by record ------------------------------------------ */

FIXTURE(hostile) {
	int cg;
	char cgpath[128];
	uint8_t *img;
	size_t len;
	unsigned int nr;
	struct cr_hdr *rec[MAX_RECS];	/* copies, edited by the test */
	const uint8_t *data;		/* the page data in img, after the tail (then END) */
	size_t data_len;
};

#define HDATA FIXTURE_DATA(hostile)

static void recs_free(HDATA *self)
{
	while (self->nr)
		free(self->rec[--self->nr]);
}

/*
 * The records of the good image, up to its tail, and where its page data
 * are (the END record after them, the last).
 */
static int recs_load(HDATA *self)
{
	struct cr_layout lay;
	size_t off = 0;

	recs_free(self);
	if (cr_layout(self->img, self->len, &lay) || lay.end_len != sizeof(struct cr_hdr_end) ||
	    lay.end_off + lay.end_len != self->len)
		return -1;
	self->data = self->img + lay.data_offset;
	self->data_len = lay.data_bytes;
	while (off + sizeof(struct cr_hdr) <= self->len && self->nr < MAX_RECS) {
		const struct cr_hdr *h = (const void *)(self->img + off);

		if (h->len < sizeof(*h) || h->len % 8 || off + h->len > self->len)
			return -1;
		self->rec[self->nr] = malloc(h->len);
		memcpy(self->rec[self->nr++], h, h->len);
		off += h->len;
		if (h->type == CR_HDR_TAIL)
			return off == lay.tail_end ? 0 : -1;
	}
	return -1;
}

/* Index of the @nth record of @type, or -1. */
static int rec_find(HDATA *self, uint32_t type, unsigned int nth)
{
	for (unsigned int i = 0; i < self->nr; i++)
		if (self->rec[i]->type == type && !nth--)
			return i;
	return -1;
}

static void *rec_at(HDATA *self, int i)
{
	return i < 0 ? NULL : self->rec[i];
}

static void rec_insert(HDATA *self, unsigned int at, struct cr_hdr *h)
{
	memmove(&self->rec[at + 1], &self->rec[at], (self->nr - at) * sizeof(h));
	self->rec[at] = h;
	self->nr++;
}

static void rec_replace(HDATA *self, unsigned int at, struct cr_hdr *h)
{
	free(self->rec[at]);
	self->rec[at] = h;
}

/* Files and the mm share the tag space of the objhash. */
static uint32_t tag_max(HDATA *self)
{
	uint32_t max = 0;

	for (unsigned int i = 0; i < self->nr; i++)
		if (self->rec[i]->type == CR_HDR_FILE || self->rec[i]->type == CR_HDR_MM)
			max = self->rec[i]->tag > max ? self->rec[i]->tag : max;
	return max;
}

static const char *file_path(const struct cr_hdr *h)
{
	return (const char *)((const struct cr_hdr_file *)h + 1);
}

/* Index of the FILE record of @path, or -1. */
static int file_rec(HDATA *self, const char *path)
{
	for (unsigned int i = 0; i < self->nr; i++)
		if (self->rec[i]->type == CR_HDR_FILE && !strcmp(file_path(self->rec[i]), path))
			return i;
	return -1;
}

static struct cr_hdr *mk_file(uint32_t tag, uint32_t kind, uint32_t f_flags, uint32_t mode,
			      uint32_t rdev, const char *path)
{
	size_t plen = strlen(path) + 1, len = (sizeof(struct cr_hdr_file) + plen + 7) & ~7UL;
	struct cr_hdr_file *f = calloc(1, len);
	struct stat st;

	f->h.type = CR_HDR_FILE;
	f->h.len = len;
	f->h.tag = tag;
	f->kind = kind;
	f->f_flags = f_flags;
	f->size = stat(path, &st) ? 0 : st.st_size;
	f->mode = mode;
	f->rdev = rdev;
	f->path_len = plen;
	memcpy(f + 1, path, plen);
	return &f->h;
}

/* The records and the page data, the tail and the END record recomputed, into @path. */
static int recs_write(HDATA *self, const char *path)
{
	size_t len = 0, off = 0;
	uint8_t *buf, *img;
	int fd, ret = 0;

	for (unsigned int i = 0; i < self->nr; i++)
		len += self->rec[i]->len;
	buf = malloc(len);
	for (unsigned int i = 0; i < self->nr; i++) {
		memcpy(buf + off, self->rec[i], self->rec[i]->len);
		off += self->rec[i]->len;
	}
	img = cr_image_join(buf, len, self->data, self->data_len, &len);
	free(buf);
	if (!img)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, img, len) != (ssize_t)len)
		ret = -1;
	if (fd >= 0)
		close(fd);
	free(img);
	return ret;
}

/* -- setup ---------------------------------------------------------------- */

static int put_file(const char *path, const void *data, size_t len, uid_t uid, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	if (n != (ssize_t)len || chown(path, uid, uid) || chmod(path, mode))
		return -1;
	return 0;
}

/* The files of the cases, as root; each a fresh copy. */
static int setup_files(void)
{
	static char exe[4 << 20];
	ssize_t n;
	int fd;

	if ((mkdir(H_DIR, 0755) && errno != EEXIST) || chmod(H_DIR, 0755))
		return -1;
	if ((mkdir(H_OUT, 0777) && errno != EEXIST) || chmod(H_OUT, 0777))
		return -1;
	if ((mkdir(H_ADIR, 0755) && errno != EEXIST) || chmod(H_ADIR, 0755))
		return -1;
	if (put_file(H_DATA, "world-readable data\n", 20, 0, 0644) ||
	    put_file(H_SECRET, "root's secret\n", 14, 0, 0600) ||
	    put_file(H_OTHER, "another user's secret\n", 22, OTHER_ID, 0600))
		return -1;
	/* an ELF file that may be read but not executed */
	fd = open("/proc/self/exe", O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, exe, sizeof(exe));
	close(fd);
	if (n <= 0 || n == sizeof(exe))
		return -1;
	return put_file(H_PLAIN, exe, n, 0, 0644);
}

FIXTURE_SETUP(hostile)
{
	struct cr_hdr_fds *fds;
	struct cr_hdr_mm *mm;
	char why[256];
	struct stat st;
	pid_t pid;
	int fd;

	ASSERT_EQ(0, setup_files()) TH_LOG("setting up %s: %s", H_DIR, strerror(errno));
	self->cg = cr_cgroup(self->cgpath, sizeof(self->cgpath));
	ASSERT_LE(0, self->cg);
	if (access(H_GOOD, F_OK)) {
		unlink(H_READY);
		pid = cr_start(self->cg, workload, NULL);
		ASSERT_LT(0, pid);
		ASSERT_EQ(0, cr_wait_file(H_READY, 60000));
		cr_msleep(200);
		ASSERT_EQ(0, cr_checkpoint(pid, H_DIR "/tmp.img", why, sizeof(why)))
			TH_LOG("checkpoint: %s", why);
		cr_kill_wait(pid);
		ASSERT_EQ(0, rename(H_DIR "/tmp.img", H_GOOD));
	}
	fd = open(H_GOOD, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	self->len = st.st_size;
	self->img = malloc(self->len);
	ASSERT_EQ((ssize_t)self->len, read(fd, self->img, self->len));
	close(fd);
	ASSERT_EQ(0, recs_load(self));
	/* what the cases edit */
	ASSERT_LE(0, file_rec(self, H_DATA));
	ASSERT_LE(0, file_rec(self, "/dev/null"));
	fds = rec_at(self, rec_find(self, CR_HDR_FDS, 0));
	ASSERT_NE(NULL, fds);
	ASSERT_LE(4, fds->nr);
	mm = rec_at(self, rec_find(self, CR_HDR_MM, 0));
	ASSERT_NE(NULL, mm);
	ASSERT_NE(0, mm->exe_file_tag);
	ASSERT_LE(0, rec_find(self, CR_HDR_SIGHAND, 0));
}

FIXTURE_TEARDOWN(hostile)
{
	recs_free(self);
	free(self->img);
	close(self->cg);
	cr_cgroup_remove(self->cgpath);
	unlink(H_BAD);
}

/* -- the cases ------------------------------------------------------------ */

/* Positive control: the image as checkpointed, restarted by the user. */
TEST_F_TIMEOUT(hostile, unmodified_image_restarts_unprivileged, 60)
{
	struct unpriv_result r;

	ASSERT_EQ(0, recs_write(self, H_BAD));
	ASSERT_EQ(0, unpriv_restart(_metadata, H_BAD, &r));
	check_restored_as_restarter(_metadata, &r);
}

/* The image claims root: restored, it still runs as the restarter. */
TEST_F_TIMEOUT(hostile, claimed_credentials_not_restored, 60)
{
	struct cr_hdr_task *t = rec_at(self, rec_find(self, CR_HDR_TASK, 0));
	struct unpriv_result r;

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, t->uid) TH_LOG("the image was made as root");
	t->uid = 0;
	t->gid = 0;
	t->euid = 0;
	t->egid = 0;
	ASSERT_EQ(0, recs_write(self, H_BAD));
	ASSERT_EQ(0, unpriv_restart(_metadata, H_BAD, &r));
	if (r.refused) {
		/* refusing is allowed, cleanly */
		TH_LOG("refused: %s: %s", errname(r.err), r.why);
		EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 125)
			TH_LOG("restarter wait status %#x", r.status);
		return;
	}
	check_restored_as_restarter(_metadata, &r);
}

/* The data file's record names a file the restarter may not open. */
TEST_F_TIMEOUT(hostile, file_of_another_user, 60)
{
	static const char * const paths[] = { H_SECRET, H_OTHER };

	for (unsigned int i = 0; i < 2; i++) {
		struct cr_hdr_file *f;
		int at;

		ASSERT_EQ(0, recs_load(self));
		at = file_rec(self, H_DATA);
		f = rec_at(self, at);
		ASSERT_NE(NULL, f);
		rec_replace(self, at, mk_file(f->h.tag, CR_FILE_REG, f->f_flags, S_IFREG | 0600, 0,
					      paths[i]));
		ASSERT_EQ(0, recs_write(self, H_BAD));
		check_refused(_metadata, paths[i], EACCES, paths[i]);
	}
}

/* An executable the restarter may not execute: not what execve() takes. */
TEST_F_TIMEOUT(hostile, exe_not_executable, 60)
{
	static const char * const label[] = {
		"0644 file " H_PLAIN, "directory " H_ADIR, "/dev/null"
	};
	const struct cr_hdr_file *null;
	struct cr_hdr_mm *mm;
	uint32_t tag;
	int at;

	for (unsigned int i = 0; i < 3; i++) {
		ASSERT_EQ(0, recs_load(self));
		at = rec_find(self, CR_HDR_MM, 0);
		mm = rec_at(self, at);
		null = rec_at(self, file_rec(self, "/dev/null"));
		ASSERT_NE(NULL, mm);
		ASSERT_NE(NULL, null);
		tag = tag_max(self) + 1;
		if (i == 0)
			rec_insert(self, at, mk_file(tag, CR_FILE_REG, O_RDONLY, S_IFREG | 0644, 0,
						     H_PLAIN));
		else if (i == 1)
			rec_insert(self, at, mk_file(tag, CR_FILE_DIR, O_RDONLY | O_DIRECTORY,
						     S_IFDIR | 0755, 0, H_ADIR));
		else
			rec_insert(self, at, mk_file(tag, CR_FILE_CHR, O_RDONLY, null->mode,
						     null->rdev, "/dev/null"));
		mm->exe_file_tag = tag;
		ASSERT_EQ(0, recs_write(self, H_BAD));
		check_refused(_metadata, label[i], EACCES, "exec");
	}
}

/*
 * TASK_SIZE of this machine: 0x7ffffffff000, or 0xfffffffffff000 with
 * 5-level paging (QEMU's -cpu max has LA57), where user space may map
 * above 47 bits when it asks for it.
 */
static uint64_t task_size(void)
{
	void *hi = (void *)(1ULL << 47);
	void *p = mmap(hi, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		       -1, 0);

	if (p == MAP_FAILED)
		return (1ULL << 47) - 4096;
	munmap(p, 4096);
	return p == hi ? (1ULL << 56) - 4096 : (1ULL << 47) - 4096;
}

/* One more area after the last one, outside user space. */
TEST_F_TIMEOUT(hostile, vma_outside_user_space, 60)
{
	uint64_t ts = task_size();
	const struct {
		uint64_t start, end;
		const char *label;
	} areas[] = {
		{ 0xffffffffff600000ULL, 0xffffffffff601000ULL, "vsyscall page" },
		{ 0xffff888000000000ULL, 0xffff888000001000ULL, "kernel half" },
		{ ts - 4096, ts + 4096, "across TASK_SIZE" },
	};

	TH_LOG("TASK_SIZE %#llx", (unsigned long long)ts);
	for (unsigned int i = 0; i < 3; i++) {
		struct cr_hdr_vma *v, *last;
		struct cr_hdr_mm *mm;

		ASSERT_EQ(0, recs_load(self));
		mm = rec_at(self, rec_find(self, CR_HDR_MM, 0));
		last = rec_at(self, rec_find(self, CR_HDR_VMA, mm->nr_vmas - 1));
		ASSERT_NE(NULL, last);
		ASSERT_EQ(-1, rec_find(self, CR_HDR_VMA, mm->nr_vmas));
		ASSERT_LE(last->end, areas[i].start)
			TH_LOG("the last area ends at %#llx", (unsigned long long)last->end);
		v = calloc(1, sizeof(*v));
		v->h.type = CR_HDR_VMA;
		v->h.len = sizeof(*v);
		v->h.tag = mm->nr_vmas + 1;
		v->h.ptag = mm->h.tag;
		v->start = areas[i].start;
		v->end = areas[i].end;
		v->kind = CR_VMA_ANON;
		v->flags = CR_VMA_READ | CR_VMA_WRITE;
		mm->nr_vmas++;
		/* after the last area's pages, before SIGHAND */
		rec_insert(self, rec_find(self, CR_HDR_SIGHAND, 0), &v->h);
		ASSERT_EQ(0, recs_write(self, H_BAD));
		check_refused(_metadata, areas[i].label, EBADMSG, "beyond user space");
	}
}

/* The last fd (4) becomes 100, over the restarter's limit of 64. */
TEST_F_TIMEOUT(hostile, fd_over_rlimit, 60)
{
	struct cr_hdr_fds *fds = rec_at(self, rec_find(self, CR_HDR_FDS, 0));
	struct cr_fd *fd;

	ASSERT_NE(NULL, fds);
	ASSERT_EQ(-1, rec_find(self, CR_HDR_FDS, 1));
	ASSERT_EQ(5, fds->nr);
	fd = (struct cr_fd *)(fds + 1) + 4;
	ASSERT_EQ(4, fd->fd);
	fd->fd = 100;
	ASSERT_EQ(0, recs_write(self, H_BAD));
	check_refused(_metadata, "fd 100", EMFILE, "fd limit");
}

/*
 * 100 more FILE records of the data file, no fd or area of them: the
 * kernel would hold more files open for the restarter than its limit of
 * 64 lets it open.
 */
TEST_F_TIMEOUT(hostile, files_over_rlimit, 60)
{
	const struct cr_hdr_file *data = rec_at(self, file_rec(self, H_DATA));
	int first_fd = rec_find(self, CR_HDR_FDS, 0);
	uint32_t tag = tag_max(self);

	ASSERT_NE(NULL, data);
	for (unsigned int i = 0; i < 100; i++)
		rec_insert(self, first_fd, mk_file(tag + 1 + i, CR_FILE_REG, data->f_flags,
						   data->mode, 0, H_DATA));
	ASSERT_EQ(0, recs_write(self, H_BAD));
	check_refused(_metadata, "100 files", EMFILE, "limit");
}

/* A root pid, in TREE and TASK alike, that no task can have. */
TEST_F_TIMEOUT(hostile, impossible_pids, 60)
{
	char buf[32], label[64];
	int pid_max, pids[6];

	ASSERT_LT(0, cr_read_str("/proc/sys/kernel/pid_max", buf, sizeof(buf)));
	pid_max = atoi(buf);
	ASSERT_LT(1, pid_max);
	pids[0] = 0;
	pids[1] = -1;
	pids[2] = INT32_MIN;
	pids[3] = pid_max;
	pids[4] = pid_max + 1;
	pids[5] = 0x7fffffff;
	for (unsigned int i = 0; i < 6; i++) {
		struct cr_hdr_tree *tree;
		struct cr_tree_task *tt;
		struct cr_hdr_task *t;

		ASSERT_EQ(0, recs_load(self));
		tree = rec_at(self, rec_find(self, CR_HDR_TREE, 0));
		t = rec_at(self, rec_find(self, CR_HDR_TASK, 0));
		ASSERT_NE(NULL, tree);
		ASSERT_NE(NULL, t);
		tt = (struct cr_tree_task *)(tree + 1);
		ASSERT_EQ(1, tt->pid);
		tt->pid = pids[i];
		tt->tgid = pids[i];
		t->pid = pids[i];
		t->tgid = pids[i];
		ASSERT_EQ(0, recs_write(self, H_BAD));
		snprintf(buf, sizeof(buf), "%d", pids[i]);
		snprintf(label, sizeof(label), "pid %d (pid_max %d)", pids[i], pid_max);
		check_refused(_metadata, label, EBADMSG, buf);
	}
}

TEST_HARNESS_MAIN
