// SPDX-License-Identifier: GPL-2.0
/*
 * restart() of truncated, corrupted and hostile images: each gives the
 * documented errno and a reason naming what is wrong, and the caller
 * survives its failed restart with nothing changed.
 *
 * The page data after the tail are read into the restored memory only
 * past the point of no return: page data that do not match their
 * checksum, or that are cut short, are either refused like the rest
 * (EBADMSG, ENODATA) or found once the caller has become the restored
 * process, which is then killed (SIGKILL, the reason in the kernel log),
 * never left running.  Without checksums (CHECKPOINT_NO_PAGE_CSUM) the
 * page data are not checked at all: a byte changed in them is restored.
 * The END record after the page data says the checkpoint completed: an
 * image without it, or with a wrong one, is refused from a file before
 * anything changes, and from a pipe once the page data are read (the
 * restored process is then killed).
 */
#include <stddef.h>

#include "cr_test.h"
#include "../kselftest_harness.h"

#define GOOD_IMG	CR_TEST_DIR "/good.img"
#define NOCSUM_IMG	CR_TEST_DIR "/nocsum.img"
#define BAD_IMG		CR_TEST_DIR "/bad.img"

/* Memory of the workload with a known pattern, at the same address in the restored process. */
#define REGION_PAGES	8
#define REGION_SIZE	(REGION_PAGES * 4096UL)
#define REGION_SEED	0x5eed1234abcdULL

static uint8_t region[REGION_SIZE] __attribute__((aligned(4096)));

static int workload_pause(void *arg)
{
	cr_fill(region, REGION_SIZE, REGION_SEED);
	cr_quiet_fds();
	cr_write_str(CR_TEST_DIR "/ready", "1");
	while (pause())
		;
	return 0;
}

FIXTURE(img) {
	int cg;
	char cgpath[128];
	uint8_t *img;
	size_t len;
	size_t off[256];	/* record offsets, the tail's last (the END record is not here) */
	unsigned int nr;
	struct cr_layout lay;
};

/* Checkpoint the pattern workload with @flags into @path, unless it is there. */
static void make_image(struct __test_metadata *_metadata, int cg, unsigned long flags,
		       const char *path)
{
	char why[256], tmp[160];
	pid_t pid;

	if (!access(path, F_OK))
		return;
	unlink(CR_TEST_DIR "/ready");
	pid = cr_start(cg, workload_pause, NULL);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, cr_wait_file(CR_TEST_DIR "/ready", 60000));
	cr_msleep(200);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ASSERT_EQ(0, cr_checkpoint_flags(pid, tmp, flags, why, sizeof(why)))
		TH_LOG("checkpoint (flags %#lx): %s", flags, why);
	cr_kill_wait(pid);
	ASSERT_EQ(0, rename(tmp, path));
}

static uint8_t *load(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf = NULL;
	struct stat st;

	if (fd < 0)
		return NULL;
	if (!fstat(fd, &st) && st.st_size > 0) {
		*len = st.st_size;
		buf = malloc(*len);
		if (buf && read(fd, buf, *len) != (ssize_t)*len) {
			free(buf);
			buf = NULL;
		}
	}
	close(fd);
	return buf;
}

/* A good image of a small process, made once per run of the test. */
FIXTURE_SETUP(img)
{
	mkdir(CR_TEST_DIR, 0755);
	self->cg = cr_cgroup(self->cgpath, sizeof(self->cgpath));
	ASSERT_LE(0, self->cg);
	make_image(_metadata, self->cg, 0, GOOD_IMG);
	self->img = load(GOOD_IMG, &self->len);
	ASSERT_NE(NULL, self->img);
	/* the records up to the tail; the padding, page data and END record after it */
	ASSERT_EQ(0, cr_layout(self->img, self->len, &self->lay));
	for (size_t o = 0; o <= self->lay.tail_off;) {
		struct cr_hdr *h = (void *)(self->img + o);

		ASSERT_GT(256, self->nr);
		self->off[self->nr++] = o;
		ASSERT_LE(16, h->len);
		o += h->len;
	}
	ASSERT_LT(0, self->lay.nr_pages_recs);
	ASSERT_EQ(sizeof(struct cr_hdr_end), self->lay.end_len);
	ASSERT_EQ(self->len, self->lay.end_off + self->lay.end_len);
}

FIXTURE_TEARDOWN(img)
{
	free(self->img);
	close(self->cg);
	cr_cgroup_remove(self->cgpath);
}

static int write_img(const uint8_t *buf, size_t len)
{
	int fd = open(BAD_IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, buf, len);
		close(fd);
	}
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * restart() @len bytes of @buf: 0 or -errno, reason in @why; a refusal
 * that leaves a task in the cgroup @cgpath is -EEXIST.
 */
static int try_restart(int cg, const char *cgpath, const uint8_t *buf, size_t len, char *why,
		       size_t wl)
{
	pid_t pid;
	int ret;

	if (write_img(buf, len))
		return -EIO;
	ret = cr_restart_img(cg, BAD_IMG, &pid, why, wl);
	if (ret == 0)
		cr_kill_wait(pid);	/* restored after all: the test fails */
	else if (cr_cg_empty(cgpath))
		return -EEXIST;		/* refused, but something was left */
	return ret;
}

/* -- restarts that may fail past the point of no return ---------------- */

enum outcome_how {
	O_REFUSED,	/* restart() failed, its caller alive: err, why */
	O_KILLED,	/* the caller became the restored process and was killed (SIGKILL) */
	O_DIED,		/* ... and ended otherwise: status */
	O_RUNNING,	/* ... and runs (killed by the test) */
};

static const char *const how_names[] = {
	[O_REFUSED] = "refused", [O_KILLED] = "killed", [O_DIED] = "died otherwise",
	[O_RUNNING] = "restored and running",
};

struct outcome {
	enum outcome_how how;
	int err;		/* O_REFUSED */
	int status;		/* O_KILLED, O_DIED: 128 + signal, or the exit status */
	int left;		/* tasks were left in the cgroup once the caller was gone */
	int kmsg;		/* the kernel log could be read */
	char why[256];		/* O_REFUSED: the reason; O_KILLED: the kernel log's */
};

/* /dev/kmsg from its end, or -1. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

#define PONR_MSG	"restoring failed after the point of no return: "

/* The last reason of a kill past the point of no return logged since kmsg_open(). */
static void kmsg_ponr(int fd, char *out, size_t len)
{
	char buf[2048];
	ssize_t n;

	for (;;) {
		char *m;

		n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		m = strstr(buf, PONR_MSG);
		if (m)
			snprintf(out, len, "%s", m + strlen(PONR_MSG));
	}
}

/* Write @len bytes of @buf into a pipe from a process of its own: the read end, or -1. */
static int feed_pipe(const uint8_t *buf, size_t len, pid_t *writer)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	*writer = fork();
	if (*writer < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (*writer == 0) {
		size_t off = 0;
		ssize_t n;

		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		while (off < len && (n = write(p[1], buf + off, len - off)) > 0)
			off += n;
		_exit(0);
	}
	/* the restarter must not hold the write end: the reader sees the end of it */
	close(p[1]);
	return p[0];
}

/*
 * restart() @len bytes of @buf, from a file or (@stream) a pipe, and
 * see what becomes of it: refused, or what the restored process does
 * within 10 s.  Whatever it is, nothing is left of it afterwards.
 */
static void restart_outcome(FIXTURE_DATA(img) *self, const uint8_t *buf, size_t len,
			    int stream, struct outcome *o)
{
	pid_t pid, writer = -1;
	int fd, kmsg, ret;

	memset(o, 0, sizeof(*o));
	kmsg = kmsg_open();
	o->kmsg = kmsg >= 0;
	if (stream)
		fd = feed_pipe(buf, len, &writer);
	else
		fd = write_img(buf, len) ? -1 : open(BAD_IMG, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		o->how = O_REFUSED;
		o->err = EIO;
		snprintf(o->why, sizeof(o->why), "the test could not write the image");
		goto out;
	}
	ret = cr_restart_fd(self->cg, fd, &pid, o->why, sizeof(o->why));
	close(fd);
	if (ret) {
		o->how = O_REFUSED;
		o->err = -ret;
	} else {
		o->status = cr_wait_exit_ms(pid, 10000);
		if (o->status < 0) {
			o->how = O_RUNNING;
			cr_kill_wait(pid);
		} else {
			o->how = o->status == 128 + SIGKILL ? O_KILLED : O_DIED;
		}
		if (o->how != O_RUNNING && kmsg >= 0)
			kmsg_ponr(kmsg, o->why, sizeof(o->why));
	}
	/* once its init is gone the container is gone: nothing may be left */
	o->left = !!cr_cg_empty(self->cgpath);
out:
	if (writer > 0) {
		kill(writer, SIGKILL);
		waitpid(writer, NULL, 0);
	}
	if (kmsg >= 0)
		close(kmsg);
}

/*
 * What an image whose page data are wrong may do: be refused with one of
 * @err1, @err2 (a reason naming @what), or get its restored process
 * killed (with @what in the kernel's reason, when the log can be read);
 * never run, never leave a task behind.
 */
#define EXPECT_DATA_REFUSED_OR_KILLED(buf, len, stream, err1, err2, what, label) do {	\
	struct outcome __o;								\
	restart_outcome(self, buf, len, stream, &__o);					\
	if (__o.how == O_REFUSED)							\
		TH_LOG("%s (%s): refused, %s: %s", label, (stream) ? "stream" : "file",	\
		       strerror(__o.err), __o.why);					\
	else										\
		TH_LOG("%s (%s): %s, status %d: %s", label,				\
		       (stream) ? "stream" : "file", how_names[__o.how], __o.status,	\
		       __o.why[0] ? __o.why : "(no reason logged)");			\
	EXPECT_TRUE(__o.how == O_KILLED ||						\
		    (__o.how == O_REFUSED && (__o.err == (err1) || __o.err == (err2))))	\
		TH_LOG("%s: %s", label, how_names[__o.how]);				\
	if (__o.how == O_REFUSED || __o.why[0])						\
		EXPECT_NE(NULL, strstr(__o.why, what))					\
			TH_LOG("%s: reason '%s' without '%s'", label, __o.why, what);	\
	EXPECT_EQ(0, __o.left) TH_LOG("%s: a task was left in the cgroup", label);	\
} while (0)

/*
 * The workload's pattern region of the process @pid, read into @got once
 * it is back in pause() (restored, not restoring): 0 or -1.
 */
static int read_region(pid_t pid, uint8_t *got)
{
	struct iovec l = { got, REGION_SIZE }, r = { region, REGION_SIZE };
	char path[64], buf[256];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	for (i = 0; i < 100; i++) {
		if (cr_read_str(path, buf, sizeof(buf)) > 0 &&
		    (atol(buf) == SYS_pause || atol(buf) == SYS_rt_sigsuspend))
			break;
		cr_msleep(100);
	}
	if (i == 100) {
		errno = ETIMEDOUT;
		return -1;
	}
	return process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)REGION_SIZE ? 0 : -1;
}

/*
 * Restart @len bytes of @buf; its restored process must run with @want
 * in its pattern region (REGION_SIZE bytes).  0, or -1 with what is
 * wrong logged.
 */
static int restores_with(struct __test_metadata *_metadata, FIXTURE_DATA(img) *self,
			 const uint8_t *buf, size_t len, const uint8_t *want)
{
	static uint8_t got[REGION_SIZE];
	char why[256];
	int ret = -1;
	pid_t pid;
	long bad;

	if (write_img(buf, len))
		return -1;
	if (cr_restart_img(self->cg, BAD_IMG, &pid, why, sizeof(why))) {
		TH_LOG("not restored: %s", why);
		return -1;
	}
	if (read_region(pid, got)) {
		TH_LOG("the restored process does not sleep in pause(), or its memory cannot be read: %s (status %d)",
		       strerror(errno), cr_wait_exit_ms(pid, 100));
		goto out;
	}
	for (bad = 0; bad < (long)REGION_SIZE && got[bad] == want[bad]; bad++)
		;
	if (bad < (long)REGION_SIZE) {
		TH_LOG("restored memory differs at byte %ld of the region: %#x, expected %#x",
		       bad, got[bad], want[bad]);
		goto out;
	}
	ret = 0;
out:
	cr_kill_wait(pid);
	return ret;
}

/*
 * As restores_with(), the region that of the workload but for the byte
 * at @flipped (-1: none), which must be the pattern's xor 0xff.
 */
static int restores_with_region(struct __test_metadata *_metadata, FIXTURE_DATA(img) *self,
				const uint8_t *buf, size_t len, long flipped)
{
	static uint8_t want[REGION_SIZE];

	cr_fill(want, REGION_SIZE, REGION_SEED);
	if (flipped >= 0)
		want[flipped] ^= 0xff;
	return restores_with(_metadata, self, buf, len, want);
}

static struct cr_hdr *rec_of(FIXTURE_DATA(img) *self, uint32_t type, unsigned int nth)
{
	for (unsigned int i = 0; i < self->nr; i++) {
		struct cr_hdr *h = (void *)(self->img + self->off[i]);

		if (h->type == type && !nth--)
			return h;
	}
	return NULL;
}

#define EXPECT_REFUSED(buf, len, err, what) do {				\
	char __why[256];							\
	int __r = try_restart(self->cg, self->cgpath, buf, len, __why,		\
			      sizeof(__why));					\
	EXPECT_EQ(-(err), __r) TH_LOG("%s: %s", what, __why);			\
	EXPECT_NE(NULL, strstr(__why, what)) TH_LOG("reason: '%s'", __why);	\
} while (0)

/*
 * The good image is whole and sound as cr_image_check() sees it (tail,
 * padding, page data and their checksums), its PAGES records all have a
 * checksum, and it restarts with the workload's memory.
 */
TEST_F_TIMEOUT(img, good_image_restarts, 90)
{
	char why[256];

	EXPECT_EQ(0, cr_image_check(self->img, self->len, why, sizeof(why))) TH_LOG("%s", why);
	for (unsigned int i = 0; i < self->nr; i++) {
		struct cr_hdr_pages *p = (void *)(self->img + self->off[i]);

		if (p->h.type == CR_HDR_PAGES)
			EXPECT_EQ(0, p->flags) TH_LOG("PAGES record %u: flags %#x", i, p->flags);
	}
	EXPECT_EQ(0, restores_with_region(_metadata, self, self->img, self->len, -1));
}

/*
 * Cut at every record boundary, inside every header and record: refused.
 * Cut after the tail (in the padding, at the page data, inside them, one
 * byte short of their end): refused, or killed past the point of no
 * return, from a file and from a pipe.  (Cut at or in the END record:
 * end_record.)
 */
TEST_F_TIMEOUT(img, truncated_everywhere, 360)
{
	const struct cr_layout *l = &self->lay;
	const size_t ps = l->page_size;
	unsigned int i;

	for (i = 0; i < self->nr; i++) {
		struct cr_hdr *h = (void *)(self->img + self->off[i]);
		size_t cuts[3] = { self->off[i], self->off[i] + 8, self->off[i] + h->len / 2 };

		for (int c = 0; c < 3; c++)
			EXPECT_REFUSED(self->img, cuts[c], ENODATA, "truncated");
	}
	{
		size_t cuts[] = {
			l->tail_end, (l->tail_end + l->data_offset) / 2, l->data_offset,
			l->data_offset + ps / 2, l->end_off - 1,
		};
		char label[64];

		for (unsigned int c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
			if (cuts[c] >= l->end_off || (c && cuts[c] == cuts[c - 1]))
				continue;
			snprintf(label, sizeof(label), "cut at %#zx of %#zx", cuts[c], self->len);
			for (int stream = 0; stream < 2; stream++)
				EXPECT_DATA_REFUSED_OR_KILLED(self->img, cuts[c], stream, ENODATA,
							      EBADMSG, "truncated", label);
		}
	}
}

/* Every field of the head, corrupted (the tail's checksum left as is). */
TEST_F(img, head_fields)
{
	static const struct {
		size_t off, size;
		int err;
		const char *what;
	} f[] = {
		{ 0, 4, ENOEXEC, "not a checkpoint image" },
		{ 4, 4, EBADMSG, "length" },
		{ 8, 4, EBADMSG, "reserved" },
		{ 12, 4, EBADMSG, "reserved" },
		{ offsetof(struct cr_hdr_head, magic), 8, ENOEXEC, "bad magic" },
		{ offsetof(struct cr_hdr_head, version), 4, EPROTO, "format version" },
		{ offsetof(struct cr_hdr_head, arch), 4, ENOEXEC, "architecture" },
		{ offsetof(struct cr_hdr_head, abi_hash), 8, EPROTO, "ABI hash" },
		{ offsetof(struct cr_hdr_head, flags), 8, EBADMSG, "unknown flags" },
		{ offsetof(struct cr_hdr_head, time_sec), 8, EBADMSG, "checksum mismatch" },
		{ offsetof(struct cr_hdr_head, time_nsec), 4, EBADMSG, "checksum mismatch" },
		{ offsetof(struct cr_hdr_head, page_size), 4, ENOEXEC, "page size" },
		{ offsetof(struct cr_hdr_head, xfeatures), 8, EBADMSG, "checksum mismatch" },
		{ offsetof(struct cr_hdr_head, xstate_size), 4, EBADMSG, "checksum mismatch" },
		{ offsetof(struct cr_hdr_head, __pad), 4, EBADMSG, "reserved" },
		{ offsetof(struct cr_hdr_head, release), CR_UTS_LEN, EBADMSG, "unterminated" },
		{ offsetof(struct cr_hdr_head, nodename), CR_UTS_LEN, EBADMSG, "unterminated" },
		{ offsetof(struct cr_hdr_head, domainname), CR_UTS_LEN, EBADMSG, "unterminated" },
		{ offsetof(struct cr_hdr_head, ns_flags), 4, EBADMSG, "namespace flags" },
		{ offsetof(struct cr_hdr_head, __pad2), 4, EBADMSG, "namespace flags" },
	};
	uint8_t *bad = malloc(self->len);

	ASSERT_EQ(sizeof(struct cr_hdr_head), offsetof(struct cr_hdr_head, __pad2) + 4);
	for (unsigned int i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		memcpy(bad, self->img, self->len);
		for (size_t b = 0; b < f[i].size; b++)
			bad[f[i].off + b] ^= (f[i].size == CR_UTS_LEN) ? 0 : 0x5a;
		if (f[i].size == CR_UTS_LEN)
			memset(bad + f[i].off, 'A', CR_UTS_LEN);
		if (f[i].off == 4)	/* a length that is not a multiple of 8 */
			((struct cr_hdr *)bad)->len = sizeof(struct cr_hdr_head) + 4;
		EXPECT_REFUSED(bad, self->len, f[i].err, f[i].what);
	}
	free(bad);
}

/* The tail's checksum, and a record it covers. */
TEST_F(img, bad_checksum)
{
	struct cr_hdr *pages = rec_of(self, CR_HDR_PAGES, 0);
	uint8_t *bad = malloc(self->len);

	ASSERT_NE(NULL, pages);
	memcpy(bad, self->img, self->len);
	bad[self->lay.tail_off + offsetof(struct cr_hdr_tail, checksum)] ^= 1;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "checksum mismatch");
	memcpy(bad, self->img, self->len);
	bad[(uint8_t *)pages - self->img + pages->len - 4] ^= 1;	/* a run's page count */
	EXPECT_REFUSED(bad, self->len, EBADMSG, "checksum mismatch");
	free(bad);
}

/*
 * Page data that do not match their PAGES record's data_csum: a byte of
 * the first record's, a byte of the workload's pattern, the last byte of
 * the page data; the first record's data_csum itself.  Found only when they are
 * read, past the point of no return: refused (EBADMSG) or killed, never
 * running, from a file and from a pipe.
 */
TEST_F_TIMEOUT(img, page_data_corrupted, 120)
{
	struct cr_hdr_pages *pg = (void *)rec_of(self, CR_HDR_PAGES, 0);
	uint8_t *bad = malloc(self->len);
	uint64_t d0, dr;
	size_t at[3];

	ASSERT_NE(NULL, pg);
	ASSERT_EQ(0, cr_pages_data(self->img, self->len, (uint8_t *)pg - self->img, &d0));
	ASSERT_EQ(self->lay.data_offset, d0);
	ASSERT_EQ(0, cr_find_page(self->img, self->len, (uintptr_t)region + 3 * 4096, NULL, &dr))
		TH_LOG("no page of the pattern region in the image");
	at[0] = d0 + (uint64_t)pg->nr * self->lay.page_size / 2 + 5;
	at[1] = dr + 1000;
	at[2] = self->lay.end_off - 1;
	for (unsigned int i = 0; i < 3; i++) {
		char label[64];

		snprintf(label, sizeof(label), "page data byte %#zx of %#zx", at[i], self->len);
		memcpy(bad, self->img, self->len);
		bad[at[i]] ^= 0x10;
		for (int stream = 0; stream < 2; stream++)
			EXPECT_DATA_REFUSED_OR_KILLED(bad, self->len, stream, EBADMSG, EBADMSG,
						      "checksum", label);
	}
	/* the record's checksum, its tail fixed: its page data no longer match */
	memcpy(bad, self->img, self->len);
	pg = (void *)(bad + ((uint8_t *)pg - self->img));
	pg->data_csum ^= 1ULL << 40;
	ASSERT_EQ(0, cr_fix_tail_keep_csum(bad, self->len));
	for (int stream = 0; stream < 2; stream++)
		EXPECT_DATA_REFUSED_OR_KILLED(bad, self->len, stream, EBADMSG, EBADMSG, "checksum",
					      "data_csum of PAGES 0");
	free(bad);
}

/*
 * The tail's data_offset and data_bytes, the zero padding before the page
 * data: refused before anything is restored (EBADMSG; ENODATA where the
 * file is then too short for what the tail claims).  The tail is not
 * covered by its own checksum; a data_bytes that is not the records'
 * has an END record that agrees with it, where it places it (the image
 * ends there): what is refused is the tail itself.
 */
TEST_F_TIMEOUT(img, bad_page_data_layout, 90)
{
	const uint64_t ps = self->lay.page_size;
	struct cr_hdr_tail *t;
	uint8_t *bad = malloc(self->len + ps);
	size_t len;

#define TAIL_FRESH() do {							\
	memcpy(bad, self->img, self->len);					\
	t = (void *)(bad + self->lay.tail_off);					\
} while (0)
	/* the END record where the tail now places it, in the @n bytes at bad */
#define END_MOVED(n) do {							\
	ASSERT_EQ(0, cr_fix_end(bad, n));					\
	len = t->data_offset + t->data_bytes + sizeof(struct cr_hdr_end);	\
} while (0)
	TAIL_FRESH();
	t->data_offset += ps;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "page data");
	TAIL_FRESH();
	t->data_offset -= 8;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "page data");
	TAIL_FRESH();
	t->data_offset = 0;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "page data");
	TAIL_FRESH();
	t->data_offset = -ps;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "page data");
	TAIL_FRESH();
	t->data_bytes -= ps;
	END_MOVED(self->len);
	EXPECT_REFUSED(bad, len, EBADMSG, "page data");
	TAIL_FRESH();
	t->data_bytes += 1;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "page data");
	TAIL_FRESH();
	t->data_bytes = -ps;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "page data");
	TAIL_FRESH();
	t->data_bytes = 0;
	END_MOVED(self->len);
	EXPECT_REFUSED(bad, len, EBADMSG, "page data");
	/* more than the file holds: too short for it, refused at once */
	TAIL_FRESH();
	t->data_bytes += ps;
	EXPECT_REFUSED(bad, self->len, ENODATA, "truncated");
	/* ... and with a page of zeros more in the file: more than the records have */
	TAIL_FRESH();
	t->data_bytes += ps;
	memset(bad + self->len, 0, ps);
	END_MOVED(self->len + ps);
	EXPECT_EQ(self->len + ps, len);
	EXPECT_REFUSED(bad, len, EBADMSG, "page data");
#undef TAIL_FRESH
#undef END_MOVED
	free(bad);
}

/* Not zero before the page data: a stream is refused as it reads them. */
TEST_F_TIMEOUT(img, padding_not_zero, 60)
{
	uint8_t *bad = malloc(self->len);
	struct outcome o;

	if (self->lay.tail_end == self->lay.data_offset)
		SKIP(free(bad); return, "the tail ends at a page boundary: no padding");
	memcpy(bad, self->img, self->len);
	bad[self->lay.data_offset - 1] = 0x80;
	restart_outcome(self, bad, self->len, 1, &o);
	TH_LOG("stream: %s, %s: %s", how_names[o.how], strerror(o.err), o.why);
	EXPECT_EQ(O_REFUSED, o.how);
	EXPECT_EQ(EBADMSG, o.err);
	EXPECT_NE(NULL, strstr(o.why, "zero")) TH_LOG("reason: '%s'", o.why);
	EXPECT_EQ(0, o.left);
	free(bad);
}

/*
 * The END record after the page data: the checkpoint completed.  From a
 * file restart() refuses, before anything changes, an image without it
 * (cut right before it, inside it, a byte short of its end: ENODATA) or
 * with a wrong one (its checksum or data_bytes not the tail's, another
 * type, a length too short or not a multiple of 8, a tag or ptag:
 * EBADMSG), and an END record among the records (EBADMSG).  From a pipe
 * it is read after the page data, past the point of no return: refused
 * or the restored process killed, never left running.  Nothing is left
 * in the cgroup; cr_image_check() finds each bad, and bytes after the
 * END record too.  A longer END record is good (restart() ignores the
 * rest): restored with the workload's memory.
 */
TEST_F_TIMEOUT(img, end_record, 300)
{
	const uint64_t ps = self->lay.page_size;
	const size_t eo = self->lay.end_off;
	uint8_t *bad = malloc(self->len + 8);
	struct cr_hdr_end *e = (void *)(bad + eo);
	const size_t cuts[] = { eo, eo + 8, self->len - 1 };
	const uint32_t types[] = { 0, CR_HDR_TAIL, CR_HDR_PAGES, 99 };
	const uint32_t lens[] = { 0, sizeof(*e) - 8, sizeof(*e) + 4, CR_END_MAX + 8, CR_RECORD_MAX + 8 };
	struct cr_hdr *vma;
	char w[256], label[96];

	ASSERT_NE(NULL, bad);
#define END_FRESH()	memcpy(bad, self->img, self->len)
	/* cr_image_check() finds it bad too, @what in its reason */
#define END_CHECK_BAD(buf, len, what) do {					\
	char __w[256] = "";							\
	EXPECT_NE(0, cr_image_check(buf, len, __w, sizeof(__w)));		\
	EXPECT_NE(NULL, strstr(__w, what)) TH_LOG("cr_image_check(): '%s'", __w);	\
} while (0)

	/* no END record, or a part of one */
	for (unsigned int c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		EXPECT_REFUSED(self->img, cuts[c], ENODATA, "no end record");
		END_CHECK_BAD(self->img, cuts[c], "the checkpoint did not complete");
	}
	for (unsigned int c = 0; c < 2; c++) {
		snprintf(label, sizeof(label), "cut at %#zx, the END record at %#zx", cuts[c], eo);
		EXPECT_DATA_REFUSED_OR_KILLED(self->img, cuts[c], 1, ENODATA, ENODATA,
					      "no end record", label);
	}

	/* its checksum, its data_bytes: not the tail's */
	END_FRESH();
	e->checksum ^= 1;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "end record at offset");
	END_CHECK_BAD(bad, self->len, "end record: checksum");
	EXPECT_DATA_REFUSED_OR_KILLED(bad, self->len, 1, EBADMSG, EBADMSG, "end record",
				      "END checksum");
	END_FRESH();
	e->data_bytes += ps;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "end record at offset");
	END_CHECK_BAD(bad, self->len, "end record: data_bytes");
	EXPECT_DATA_REFUSED_OR_KILLED(bad, self->len, 1, EBADMSG, EBADMSG, "end record",
				      "END data_bytes");
	END_FRESH();
	e->data_bytes = 0;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "end record at offset");
	END_CHECK_BAD(bad, self->len, "end record: data_bytes");

	/* not an END record: another type, a bad length, a tag */
	for (unsigned int i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		END_FRESH();
		e->h.type = types[i];
		EXPECT_REFUSED(bad, self->len, EBADMSG, "not an end record");
		END_CHECK_BAD(bad, self->len, "not an end record");
	}
	EXPECT_DATA_REFUSED_OR_KILLED(bad, self->len, 1, EBADMSG, EBADMSG, "not an end record",
				      "END of type 99");
	for (unsigned int i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		END_FRESH();
		e->h.len = lens[i];
		EXPECT_REFUSED(bad, self->len, EBADMSG, "not an end record");
		END_CHECK_BAD(bad, self->len, "not an end record");
	}
	END_FRESH();
	e->h.tag = 1;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "not an end record");
	END_CHECK_BAD(bad, self->len, "not an end record");
	END_FRESH();
	e->h.ptag = 1;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "not an end record");
	END_CHECK_BAD(bad, self->len, "not an end record");

	/* an END record among the records, before the tail */
	vma = rec_of(self, CR_HDR_VMA, 0);
	ASSERT_NE(NULL, vma);
	END_FRESH();
	((struct cr_hdr *)(bad + ((uint8_t *)vma - self->img)))->type = CR_HDR_END;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "end record");
	END_CHECK_BAD(bad, self->len, "end record");

	/* bytes after it (restart() reads no further) */
	END_FRESH();
	memset(bad + self->len, 0, 8);
	END_CHECK_BAD(bad, self->len + 8, "8 bytes after the end record");

	/* good: an END record longer than it was, its extra bytes ignored */
	END_FRESH();
	memset(bad + self->len, 0xa5, 8);
	e->h.len += 8;
	EXPECT_EQ(0, cr_image_check(bad, self->len + 8, w, sizeof(w))) TH_LOG("%s", w);
	EXPECT_EQ(0, restores_with_region(_metadata, self, bad, self->len + 8, -1))
		TH_LOG("an END record of %u bytes", e->h.len);
#undef END_FRESH
#undef END_CHECK_BAD
	free(bad);
}

/* A PAGES record to put in the image: its counts and its runs (@slots of them in it). */
#define PG_RUNS_MAX	(CR_PAGES_MAX + 2)
struct pg_rec {
	uint32_t nr, nr_runs, slots;
	struct cr_page_run run[PG_RUNS_MAX];
};

/*
 * The good image with its PAGES record at @at replaced by the @n records
 * @pr (with its header, flags and data_csum), then the @dlen bytes of
 * page data at @data and the END record; the tail and the data_csum fixed
 * (cr_image_join()), but for data_bytes, which stays @dlen, what the page
 * data hold (and the END record says so too).  malloc()ed, its length in
 * *@len.
 */
static uint8_t *pages_replaced(FIXTURE_DATA(img) *self, size_t at, const struct pg_rec *pr,
			       unsigned int n, const uint8_t *data, size_t dlen, size_t *len)
{
	const struct cr_hdr_pages *old = (void *)(self->img + at);
	size_t rest = self->lay.tail_end - at - old->h.len, rlen = at + rest, o = at;
	struct cr_layout lay;
	uint8_t *recs, *img;

	for (unsigned int i = 0; i < n; i++)
		rlen += sizeof(*old) + pr[i].slots * sizeof(struct cr_page_run);
	recs = calloc(1, rlen);
	if (!recs)
		return NULL;
	memcpy(recs, self->img, at);
	for (unsigned int i = 0; i < n; i++) {
		struct cr_hdr_pages *p = (void *)(recs + o);

		*p = *old;
		p->h.len = sizeof(*p) + pr[i].slots * sizeof(struct cr_page_run);
		p->nr = pr[i].nr;
		p->nr_runs = pr[i].nr_runs;
		memcpy(p + 1, pr[i].run, pr[i].slots * sizeof(struct cr_page_run));
		o += p->h.len;
	}
	memcpy(recs + o, self->img + at + old->h.len, rest);
	img = cr_image_join(recs, rlen, data, dlen, len);
	free(recs);
	if (img && !cr_layout(img, *len, &lay)) {
		((struct cr_hdr_tail *)(img + lay.tail_off))->data_bytes = dlen;
		cr_fix_end(img, *len);
	}
	return img;
}

/* The runs of @g from @from to before @to appended to @pr, and their pages. */
static void pg_add_runs(struct pg_rec *pr, const struct cr_hdr_pages *g, uint32_t from,
			uint32_t to)
{
	for (uint32_t i = from; i < to; i++) {
		pr->run[pr->slots++] = cr_pages_run(g, i);
		pr->nr_runs++;
		pr->nr += cr_pages_run(g, i).nr;
	}
}

static void pg_add_run(struct pg_rec *pr, uint64_t addr, uint64_t nr)
{
	pr->run[pr->slots].addr = addr;
	pr->run[pr->slots++].nr = nr;
	pr->nr_runs++;
	pr->nr += nr;
}

/*
 * Bad PAGES records, the one of the workload's pattern region (a run of
 * at least its 8 pages, run j, cut at its page 4: A is where the run
 * starts, q the pages before the cut, n its pages): restart() refuses
 * each before anything is created (EBADMSG, the kernel's reason).  The
 * page count one more or less (its runs add up to nr), 0 or over
 * CR_PAGES_MAX; nr_runs 0, one more than the record holds, a run slot
 * too many, more runs than pages; a run of no pages, not aligned, below
 * or past its area, of 2^52 pages (its end wraps around); its pages one
 * fewer than the record's; runs that overlap, touch, descend, in the
 * record and across two records of the area; unknown flags, a checksum
 * with CR_PAGES_NO_CSUM, __pad set; cr_image_check() finds each bad as
 * well, for the same reason.  And three that are good: the
 * record as it is rebuilt, the run cut in two records where they touch
 * (as a writer does at CR_PAGES_MAX pages) and the run cut around its
 * page 4, left out of the image: restored with the region, that page
 * zeros.
 */
TEST_F_TIMEOUT(img, bad_pages_records, 180)
{
	const uint64_t ps = self->lay.page_size, reg4 = (uintptr_t)region + 4 * ps;
	const uint8_t *data = self->img + self->lay.data_offset;
	const uint64_t dbytes = self->lay.data_bytes;
	static struct pg_rec pr[2];
	const struct cr_hdr_pages *g;
	const struct cr_hdr_vma *vma = NULL;
	struct cr_page_run *run, rj;
	uint8_t *bad = malloc(self->len), *img, *d;
	uint32_t j, k, nr;
	uint64_t A, n, q, data_off, want_end;
	struct cr_hdr_pages *pg;
	size_t at, len;
	char want[160];

	ASSERT_NE(NULL, bad);
	ASSERT_EQ(0, cr_find_page(self->img, self->len, reg4, &at, &data_off))
		TH_LOG("no page 4 of the pattern region in the image");
	g = (void *)(self->img + at);
	for (unsigned int i = 0; i < self->nr && self->off[i] < at; i++)
		if (((struct cr_hdr *)(self->img + self->off[i]))->type == CR_HDR_VMA)
			vma = (void *)(self->img + self->off[i]);
	ASSERT_NE(NULL, vma);
	ASSERT_EQ(vma->h.tag, g->h.ptag);
	k = g->nr_runs;
	nr = g->nr;
	ASSERT_EQ(sizeof(*g) + k * sizeof(struct cr_page_run), g->h.len);
	ASSERT_GT(CR_PAGES_MAX, nr);
	for (j = 0; j < k; j++) {
		rj = cr_pages_run(g, j);
		if (reg4 >= rj.addr && reg4 < rj.addr + rj.nr * ps)
			break;
	}
	ASSERT_GT(k, j);
	A = rj.addr;
	n = rj.nr;
	q = (reg4 - A) / ps;
	/* the whole region is in the run: pages 0-3 before page 4, 4-7 from it */
	ASSERT_LE(4, q) TH_LOG("run %u: %llu pages from %#llx", j, (unsigned long long)n,
			       (unsigned long long)A);
	ASSERT_LE(q + 4, n) TH_LOG("run %u: %llu pages from %#llx", j, (unsigned long long)n,
				   (unsigned long long)A);
	TH_LOG("the region's PAGES record: %u pages in %u runs, run %u: %llu pages from %#llx",
	       nr, k, j, (unsigned long long)n, (unsigned long long)A);

#define PG_FRESH() do {								\
	memcpy(bad, self->img, self->len);					\
	pg = (void *)(bad + at);						\
	run = (struct cr_page_run *)(pg + 1);					\
} while (0)
	/* cr_image_check() finds it bad too, @what in its reason */
#define PG_CHECK_BAD(buf, len, what) do {					\
	char __w[256] = "";							\
	EXPECT_NE(0, cr_image_check(buf, len, __w, sizeof(__w)));		\
	EXPECT_NE(NULL, strstr(__w, what)) TH_LOG("cr_image_check(): '%s'", __w);	\
} while (0)
	/* the tail fixed but for data_bytes, which stays that of the page data, as the END's */
#define PG_REFUSED2(err, what, check_what) do {					\
	ASSERT_EQ(0, cr_fix_data_csums(bad, self->len));			\
	ASSERT_EQ(0, cr_fix_tail_only(bad, self->len));				\
	((struct cr_hdr_tail *)(bad + self->lay.tail_off))->data_bytes = dbytes;	\
	ASSERT_EQ(0, cr_fix_end(bad, self->len));				\
	EXPECT_REFUSED(bad, self->len, err, what);				\
	PG_CHECK_BAD(bad, self->len, check_what);				\
} while (0)
#define PG_REFUSED(err, what)	PG_REFUSED2(err, what, what)
#define WANT(...)	snprintf(want, sizeof(want), __VA_ARGS__)
	/* the page count: its runs add up to another one, or none or too many */
	PG_FRESH();
	pg->nr += 1;
	WANT("%u pages in runs of %u", nr + 1, nr);
	PG_REFUSED(EBADMSG, want);
	PG_FRESH();
	pg->nr -= 1;
	WANT("%u pages in runs of %u", nr - 1, nr);
	PG_REFUSED(EBADMSG, want);
	PG_FRESH();
	pg->nr = 0;
	WANT("0 pages in %u bytes", g->h.len);
	PG_REFUSED(EBADMSG, want);
	PG_FRESH();
	pg->nr = CR_PAGES_MAX + 1;
	WANT("%u pages in %u bytes", CR_PAGES_MAX + 1, g->h.len);
	PG_REFUSED(EBADMSG, want);

	/* the run count: none, one more than the record holds */
	WANT("%u pages in %u bytes", nr, g->h.len);
	PG_FRESH();
	pg->nr_runs = 0;
	PG_REFUSED(EBADMSG, want);
	PG_FRESH();
	pg->nr_runs = k + 1;
	PG_REFUSED(EBADMSG, want);

	/* a run of no pages, not aligned, below its area, past its end, wrapping around */
	PG_FRESH();
	run[j].nr = 0;
	WANT("run %u: 0 pages at %#llx outside its area", j, (unsigned long long)A);
	PG_REFUSED(EBADMSG, want);
	PG_FRESH();
	run[j].addr += 8;
	WANT("run %u: %llu pages at %#llx outside its area", j, (unsigned long long)n,
	     (unsigned long long)A + 8);
	PG_REFUSED(EBADMSG, want);
	PG_FRESH();
	run[0].addr = vma->start - ps;
	WANT("run 0: %llu pages at %#llx outside its area %#llx-%#llx",
	     (unsigned long long)run[0].nr, (unsigned long long)vma->start - ps,
	     (unsigned long long)vma->start, (unsigned long long)vma->end);
	PG_REFUSED(EBADMSG, want);
	PG_FRESH();
	want_end = run[k - 1].addr + run[k - 1].nr * ps;
	ASSERT_LE(want_end, vma->end);
	run[k - 1].nr += (vma->end - want_end) / ps + 1;	/* a page past the end */
	WANT("run %u: %llu pages at %#llx outside its area", k - 1,
	     (unsigned long long)run[k - 1].nr, (unsigned long long)run[k - 1].addr);
	PG_REFUSED(EBADMSG, want);
	PG_FRESH();
	run[j].nr = 1ULL << 52;
	WANT("run %u: %llu pages at %#llx outside its area", j, 1ULL << 52,
	     (unsigned long long)A);
	PG_REFUSED(EBADMSG, want);
	/* a page fewer in the run than in the record */
	PG_FRESH();
	run[j].nr -= 1;
	WANT("%u pages in runs of %u", nr, nr - 1);
	PG_REFUSED(EBADMSG, want);

	/* flags, a checksum with CR_PAGES_NO_CSUM, the padding */
	PG_FRESH();
	pg->flags = 1U << 1;
	PG_REFUSED(EBADMSG, "flags");
	PG_FRESH();
	pg->flags = 1U << 31;
	PG_REFUSED(EBADMSG, "flags");
	PG_FRESH();
	pg->flags = CR_PAGES_NO_CSUM;	/* data_csum left set */
	ASSERT_NE(0, pg->data_csum);
	PG_REFUSED2(EBADMSG, "flags", "a data checksum with CR_PAGES_NO_CSUM");
	PG_FRESH();
	pg->__pad = 1;
	PG_REFUSED2(EBADMSG, "flags", "padding 0x1 is not zero");

#define PG_SET(i) memset(&pr[i], 0, sizeof(pr[i]))
#define PG_JOIN_REFUSED(nrec, what) do {					\
	img = pages_replaced(self, at, pr, nrec, data, dbytes, &len);		\
	ASSERT_NE(NULL, img);							\
	EXPECT_REFUSED(img, len, EBADMSG, what);				\
	PG_CHECK_BAD(img, len, what);						\
	free(img);								\
} while (0)
	/* a run slot more than nr_runs (zero); more runs than pages, as long as they are */
	PG_SET(0);
	pg_add_runs(&pr[0], g, 0, k);
	pr[0].slots++;
	WANT("%u pages in %u bytes", nr, g->h.len + 16);
	PG_JOIN_REFUSED(1, want);
	PG_SET(0);
	pg_add_runs(&pr[0], g, 0, k);
	pr[0].nr_runs = pr[0].slots = nr + 1;
	WANT("%u pages in %u bytes", nr, (unsigned int)(sizeof(*g) + 16 * (nr + 1)));
	PG_JOIN_REFUSED(1, want);

	/* run j cut at its page 4 into runs that overlap, touch, descend */
	PG_SET(0);
	pg_add_runs(&pr[0], g, 0, j);
	pg_add_run(&pr[0], A, q + 1);
	pg_add_run(&pr[0], A + q * ps, n - q - 1);
	pg_add_runs(&pr[0], g, j + 1, k);
	WANT("run %u at %#llx out of order", j + 1, (unsigned long long)(A + q * ps));
	PG_JOIN_REFUSED(1, want);
	PG_SET(0);
	pg_add_runs(&pr[0], g, 0, j);
	pg_add_run(&pr[0], A, q);
	pg_add_run(&pr[0], A + q * ps, n - q);
	pg_add_runs(&pr[0], g, j + 1, k);
	PG_JOIN_REFUSED(1, want);
	PG_SET(0);
	pg_add_runs(&pr[0], g, 0, j);
	pg_add_run(&pr[0], A + q * ps, n - q);
	pg_add_run(&pr[0], A, q);
	pg_add_runs(&pr[0], g, j + 1, k);
	WANT("run %u at %#llx out of order", j + 1, (unsigned long long)A);
	PG_JOIN_REFUSED(1, want);
	/* ... across two records of the area: they overlap, the second starts before */
	PG_SET(0);
	PG_SET(1);
	pg_add_runs(&pr[0], g, 0, j);
	pg_add_run(&pr[0], A, q + 1);
	pg_add_run(&pr[1], A + q * ps, n - q - 1);
	pg_add_runs(&pr[1], g, j + 1, k);
	WANT("run 0 at %#llx out of order", (unsigned long long)(A + q * ps));
	PG_JOIN_REFUSED(2, want);
	PG_SET(0);
	PG_SET(1);
	pg_add_runs(&pr[0], g, 0, j);
	pg_add_run(&pr[0], A + q * ps, n - q);
	pg_add_runs(&pr[0], g, j + 1, k);
	pg_add_run(&pr[1], A, q);
	WANT("run 0 at %#llx out of order", (unsigned long long)A);
	PG_JOIN_REFUSED(2, want);

	/* good: the record rebuilt as it is */
	PG_SET(0);
	pg_add_runs(&pr[0], g, 0, k);
	img = pages_replaced(self, at, pr, 1, data, dbytes, &len);
	ASSERT_NE(NULL, img);
	EXPECT_EQ(self->len, len);
	EXPECT_EQ(0, memcmp(img, self->img, len)) TH_LOG("the record rebuilt is not the same");
	free(img);
	/* good: cut at page 4 in two records, the second's first run touching the first's */
	PG_SET(0);
	PG_SET(1);
	pg_add_runs(&pr[0], g, 0, j);
	pg_add_run(&pr[0], A, q);
	pg_add_run(&pr[1], A + q * ps, n - q);
	pg_add_runs(&pr[1], g, j + 1, k);
	img = pages_replaced(self, at, pr, 2, data, dbytes, &len);
	ASSERT_NE(NULL, img);
	EXPECT_EQ(0, cr_image_check(img, len, want, sizeof(want))) TH_LOG("%s", want);
	EXPECT_EQ(0, restores_with_region(_metadata, self, img, len, -1))
		TH_LOG("the run cut in two records that touch");
	free(img);
	/* good: page 4 of the region left out, the run cut around it */
	PG_SET(0);
	pg_add_runs(&pr[0], g, 0, j);
	pg_add_run(&pr[0], A, q);
	pg_add_run(&pr[0], A + (q + 1) * ps, n - q - 1);
	pg_add_runs(&pr[0], g, j + 1, k);
	d = malloc(dbytes);
	ASSERT_NE(NULL, d);
	data_off -= self->lay.data_offset;	/* of page 4, in the page data */
	memcpy(d, data, data_off);
	memcpy(d + data_off, data + data_off + ps, dbytes - data_off - ps);
	img = pages_replaced(self, at, pr, 1, d, dbytes - ps, &len);
	ASSERT_NE(NULL, img);
	EXPECT_EQ(0, cr_image_check(img, len, want, sizeof(want))) TH_LOG("%s", want);
	{
		static uint8_t w[REGION_SIZE];

		cr_fill(w, REGION_SIZE, REGION_SEED);
		memset(w + 4 * ps, 0, ps);
		EXPECT_EQ(0, restores_with(_metadata, self, img, len, w))
			TH_LOG("page 4 of the region left out of its run");
	}
	free(img);
	free(d);
#undef PG_FRESH
#undef PG_CHECK_BAD
#undef PG_REFUSED2
#undef PG_REFUSED
#undef PG_SET
#undef PG_JOIN_REFUSED
#undef WANT
	free(bad);
}

/*
 * An image written with CHECKPOINT_NO_PAGE_CSUM: every PAGES record says
 * CR_PAGES_NO_CSUM with a data_csum of 0, the rest is as without it, and
 * it restarts with the workload's memory.
 */
TEST_F_TIMEOUT(img, no_page_csum_restores, 90)
{
	unsigned int pages_recs = 0;
	struct cr_layout lay;
	size_t len, o;
	char why[256];
	uint8_t *im;

	make_image(_metadata, self->cg, CHECKPOINT_NO_PAGE_CSUM, NOCSUM_IMG);
	im = load(NOCSUM_IMG, &len);
	ASSERT_NE(NULL, im);
	EXPECT_EQ(0, cr_image_check(im, len, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, cr_layout(im, len, &lay));
	EXPECT_TRUE(((struct cr_hdr_head *)im)->flags & CHECKPOINT_NO_PAGE_CSUM)
		TH_LOG("head flags %#llx", (unsigned long long)((struct cr_hdr_head *)im)->flags);
	for (o = 0; o < lay.tail_off; o += ((struct cr_hdr *)(im + o))->len) {
		struct cr_hdr_pages *p = (void *)(im + o);

		if (p->h.type != CR_HDR_PAGES)
			continue;
		pages_recs++;
		EXPECT_EQ(CR_PAGES_NO_CSUM, p->flags) TH_LOG("PAGES record at %#zx", o);
		EXPECT_EQ(0, p->data_csum) TH_LOG("PAGES record at %#zx", o);
	}
	EXPECT_LT(0, pages_recs);
	EXPECT_EQ(0, restores_with_region(_metadata, self, im, len, -1));
	free(im);
}

/*
 * Page data without a checksum are not checked: a byte of the pattern
 * changed in the image is restored as it is, in an image written with
 * CHECKPOINT_NO_PAGE_CSUM and in the good image once the PAGES record
 * of that byte has CR_PAGES_NO_CSUM (data_csum 0, the tail fixed).
 */
TEST_F_TIMEOUT(img, no_page_csum_not_checked, 90)
{
	const long flip = 3 * 4096 + 1000;
	uint64_t data_off;
	size_t len, rec_off;
	struct cr_hdr_pages *p;
	uint8_t *im;

	make_image(_metadata, self->cg, CHECKPOINT_NO_PAGE_CSUM, NOCSUM_IMG);
	im = load(NOCSUM_IMG, &len);
	ASSERT_NE(NULL, im);
	ASSERT_EQ(0, cr_find_page(im, len, (uintptr_t)region + flip, NULL, &data_off));
	im[data_off + flip % 4096] ^= 0xff;
	EXPECT_EQ(0, restores_with_region(_metadata, self, im, len, flip))
		TH_LOG("CHECKPOINT_NO_PAGE_CSUM image");
	free(im);

	im = malloc(self->len);
	memcpy(im, self->img, self->len);
	ASSERT_EQ(0, cr_find_page(im, self->len, (uintptr_t)region + flip, &rec_off, &data_off));
	p = (void *)(im + rec_off);
	p->flags |= CR_PAGES_NO_CSUM;
	p->data_csum = 0;
	ASSERT_EQ(0, cr_fix_tail_keep_csum(im, self->len));
	im[data_off + flip % 4096] ^= 0xff;
	EXPECT_EQ(0, restores_with_region(_metadata, self, im, self->len, flip))
		TH_LOG("good image, that PAGES record made CR_PAGES_NO_CSUM");
	free(im);
}

/* Record headers of a middle record: type and length. */
TEST_F(img, bad_record_headers)
{
	struct cr_hdr *vma = rec_of(self, CR_HDR_VMA, 0);
	size_t at = (uint8_t *)vma - self->img;
	uint8_t *bad = malloc(self->len);
	struct cr_hdr *h = (void *)(bad + at);

	ASSERT_NE(NULL, vma);
	memcpy(bad, self->img, self->len);
	h->type = 99;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "unknown record type");
	memcpy(bad, self->img, self->len);
	h->type = 5;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "unknown record type");
	memcpy(bad, self->img, self->len);
	h->len = 0x7ffffff8;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "size limit");
	memcpy(bad, self->img, self->len);
	h->len = CR_RECORD_MAX;
	EXPECT_REFUSED(bad, self->len, ENODATA, "truncated");
	memcpy(bad, self->img, self->len);
	h->len = 12;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "length");
	memcpy(bad, self->img, self->len);
	h->len = sizeof(struct cr_hdr_vma) - 8;
	EXPECT_REFUSED(bad, self->len, EBADMSG, "too short");
	free(bad);
}

/* Hostile contents with a correct checksum: each field is checked. */
TEST_F(img, hostile_fields)
{
	uint8_t *bad = malloc(self->len);
	struct cr_hdr_vma *v;
	struct cr_hdr_fds *fds;
	struct cr_hdr_file *file;
	struct cr_hdr_cpu *cpu;
	struct cr_hdr_fpu *fpu;
	struct cr_hdr_tree *tree;
	struct cr_hdr_pages *pg;
	struct cr_hdr_sighand *sh;
	struct cr_hdr_task *task;

#define FRESH(type, var, n) do {						\
	memcpy(bad, self->img, self->len);					\
	var = (void *)(bad + ((uint8_t *)rec_of(self, type, n) - self->img));	\
} while (0)
#define REFUSED(err, what) do {							\
	ASSERT_EQ(0, cr_fix_tail(bad, self->len));				\
	EXPECT_REFUSED(bad, self->len, err, what);				\
} while (0)

	ASSERT_NE(NULL, rec_of(self, CR_HDR_VMA, 1));
	FRESH(CR_HDR_VMA, v, 1);
	v->end = v->start - 4096;
	REFUSED(EBADMSG, "end before start");
	FRESH(CR_HDR_VMA, v, 1);
	v->start += 1;
	REFUSED(EBADMSG, "not page aligned");
	FRESH(CR_HDR_VMA, v, 1);
	v->end = 1ULL << 62;
	REFUSED(EBADMSG, "beyond user space");
	FRESH(CR_HDR_VMA, v, 1);
	v->kind = 77;
	REFUSED(EBADMSG, "unknown kind");
	FRESH(CR_HDR_VMA, v, 1);
	v->flags |= 1U << 20;
	REFUSED(EBADMSG, "unknown flags");
	FRESH(CR_HDR_VMA, v, 1);
	v->start = ((struct cr_hdr_vma *)rec_of(self, CR_HDR_VMA, 0))->start;
	REFUSED(EBADMSG, "overlaps");

	/* (a PAGES record's count and length: bad_pages_records) */
	FRESH(CR_HDR_PAGES, pg, 0);
	((struct cr_page_run *)(pg + 1))->addr = 0x1000;
	REFUSED(EBADMSG, "outside its area");

	/* the first descriptor's file; the last one's number (they stay ascending) */
	FRESH(CR_HDR_FDS, fds, 0);
	((struct cr_fd *)(fds + 1))[0].file_tag = 999;
	REFUSED(EBADMSG, "not a file of the image");
	FRESH(CR_HDR_FDS, fds, 0);
	((struct cr_fd *)(fds + 1))[fds->nr - 1].fd = 1 << 30;
	REFUSED(EMFILE, "fd limit");
	FRESH(CR_HDR_FDS, fds, 0);
	((struct cr_fd *)(fds + 1))[0].fd = -1;
	REFUSED(EBADMSG, "out of order");
	FRESH(CR_HDR_FDS, fds, 0);
	fds->nr = CR_FDS_MAX + 1;
	REFUSED(EBADMSG, "fds in a record of");

	/* FILE 0-2: the init's standard fds, the restarter's; FILE 3: the executable */
	FRESH(CR_HDR_FILE, file, 2);
	ASSERT_EQ(CR_FILE_STDIO, file->kind);
	ASSERT_EQ(2, file->stdio_fd);
	file->stdio_fd = 7;
	REFUSED(EBADMSG, "bad standard fd 7");
	FRESH(CR_HDR_FILE, file, 3);
	ASSERT_EQ(CR_FILE_REG, file->kind);
	memset(file + 1, 'x', file->path_len);
	REFUSED(EBADMSG, "bad path");
	FRESH(CR_HDR_FILE, file, 3);
	memset((char *)(file + 1) + 1, 'z', file->path_len - 2);	/* "/zzz...": absent */
	REFUSED(ENOENT, "cannot reopen /zz");
	FRESH(CR_HDR_FILE, file, 3);
	file->kind = 42;
	REFUSED(EBADMSG, "unknown file kind");

	FRESH(CR_HDR_CPU, cpu, 0);
	cpu->cs = 0x23;	/* 32-bit code */
	REFUSED(EOPNOTSUPP, "only 64-bit user code");
	FRESH(CR_HDR_CPU, cpu, 0);
	cpu->ip = 0xffffffff81000000ULL;
	REFUSED(EBADMSG, "outside user space");
	FRESH(CR_HDR_CPU, cpu, 0);
	cpu->fs_base = 0xffff888000000000ULL;
	REFUSED(EBADMSG, "fs/gs base");

	FRESH(CR_HDR_FPU, fpu, 0);
	fpu->xfeatures |= 1ULL << 62;
	((uint64_t *)((uint8_t *)(fpu + 1) + 512))[0] |= 1ULL << 62;
	REFUSED(EOPNOTSUPP, "are not available to the restored task");
	FRESH(CR_HDR_FPU, fpu, 0);
	fpu->size = 100;
	REFUSED(EBADMSG, "XSAVE area");

	FRESH(CR_HDR_TREE, tree, 0);
	tree->nr_tasks = 2;
	REFUSED(EBADMSG, "bad task count 2");
	FRESH(CR_HDR_TREE, tree, 0);
	((struct cr_tree_task *)(tree + 1))->ppid = 5;
	REFUSED(EBADMSG, "with a parent (5)");
	FRESH(CR_HDR_TASK, task, 0);
	task->pid = 7;
	REFUSED(EBADMSG, "the tree has pid 1");
	FRESH(CR_HDR_SIGHAND, sh, 0);
	((struct cr_sigaction *)(sh + 1))[SIGKILL - 1].handler = 0x400000;
	REFUSED(EBADMSG, "has a handler");
	free(bad);
}

TEST_HARNESS_MAIN
