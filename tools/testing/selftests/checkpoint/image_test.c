// SPDX-License-Identifier: GPL-2.0
/*
 * restart() of truncated, corrupted and hostile images: each gives the
 * documented errno and a reason naming what is wrong, and the caller
 * survives its failed restart with nothing changed.
 */
#include <stddef.h>

#include "cr_test.h"
#include "../kselftest_harness.h"

#define GOOD_IMG	CR_TEST_DIR "/good.img"
#define BAD_IMG		CR_TEST_DIR "/bad.img"

static int workload_pause(void *arg)
{
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
	size_t off[256];	/* record offsets */
	unsigned int nr;
};

/* A good image of a small process, made once per run of the test. */
FIXTURE_SETUP(img)
{
	char why[256];
	struct stat st;
	pid_t pid;
	int fd;

	mkdir(CR_TEST_DIR, 0755);
	self->cg = cr_cgroup(self->cgpath, sizeof(self->cgpath));
	ASSERT_LE(0, self->cg);
	if (access(GOOD_IMG, F_OK)) {
		unlink(CR_TEST_DIR "/ready");
		pid = cr_start(self->cg, workload_pause, NULL);
		ASSERT_LT(0, pid);
		ASSERT_EQ(0, cr_wait_file(CR_TEST_DIR "/ready", 60000));
		cr_msleep(200);
		ASSERT_EQ(0, cr_checkpoint(pid, CR_TEST_DIR "/tmp.img", why, sizeof(why)))
			TH_LOG("checkpoint: %s", why);
		cr_kill_wait(pid);
		ASSERT_EQ(0, rename(CR_TEST_DIR "/tmp.img", GOOD_IMG));
	}
	fd = open(GOOD_IMG, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	self->len = st.st_size;
	self->img = malloc(self->len);
	ASSERT_EQ((ssize_t)self->len, read(fd, self->img, self->len));
	close(fd);
	for (size_t o = 0; o + sizeof(struct cr_hdr) <= self->len && self->nr < 256;) {
		struct cr_hdr *h = (void *)(self->img + o);

		self->off[self->nr++] = o;
		ASSERT_LE(16, h->len);
		o += h->len;
	}
}

FIXTURE_TEARDOWN(img)
{
	free(self->img);
	close(self->cg);
	cr_cgroup_remove(self->cgpath);
}

/* restart() @len bytes of @buf: 0 or -errno, reason in @why. */
static int try_restart(int cg, const uint8_t *buf, size_t len, char *why, size_t wl)
{
	int fd = open(BAD_IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int ret;

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return -EIO;
	close(fd);
	ret = cr_restart_img(cg, BAD_IMG, &pid, why, wl);
	if (ret == 0)
		cr_kill_wait(pid);	/* restored after all: the test fails */
	return ret;
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
	int __r = try_restart(self->cg, buf, len, __why, sizeof(__why));	\
	EXPECT_EQ(-(err), __r) TH_LOG("%s: %s", what, __why);			\
	EXPECT_NE(NULL, strstr(__why, what)) TH_LOG("reason: '%s'", __why);	\
} while (0)

/* The good image restarts (and the restored process is killed). */
TEST_F(img, good_image_restarts)
{
	char why[256];

	EXPECT_EQ(0, try_restart(self->cg, self->img, self->len, why, sizeof(why)))
		TH_LOG("restart: %s", why);
}

/* Cut at every record boundary, inside every header and record. */
TEST_F_TIMEOUT(img, truncated_everywhere, 300)
{
	unsigned int i;

	for (i = 0; i < self->nr; i++) {
		struct cr_hdr *h = (void *)(self->img + self->off[i]);
		size_t cuts[3] = { self->off[i], self->off[i] + 8, self->off[i] + h->len / 2 };

		for (int c = 0; c < 3; c++)
			EXPECT_REFUSED(self->img, cuts[c], ENODATA, "truncated");
	}
	EXPECT_REFUSED(self->img, self->len - 1, ENODATA, "truncated");
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

TEST_F(img, bad_checksum)
{
	struct cr_hdr *pages = rec_of(self, CR_HDR_PAGES, 0);
	uint8_t *bad = malloc(self->len);

	ASSERT_NE(NULL, pages);
	memcpy(bad, self->img, self->len);
	bad[self->len - 1] ^= 1;	/* the tail's checksum */
	EXPECT_REFUSED(bad, self->len, EBADMSG, "checksum mismatch");
	memcpy(bad, self->img, self->len);
	bad[(uint8_t *)pages - self->img + pages->len - 100] ^= 1;	/* page data */
	EXPECT_REFUSED(bad, self->len, EBADMSG, "checksum mismatch");
	free(bad);
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
	h->type = 4;
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
	struct cr_hdr_fd *fd;
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

	FRESH(CR_HDR_PAGES, pg, 0);
	((uint64_t *)(pg + 1))[0] = 0x1000;
	REFUSED(EBADMSG, "outside its area");
	FRESH(CR_HDR_PAGES, pg, 0);
	pg->nr += 1;
	REFUSED(EBADMSG, "pages in");

	FRESH(CR_HDR_FD, fd, 0);
	fd->file_tag = 999;
	REFUSED(EBADMSG, "not a file of the image");
	FRESH(CR_HDR_FD, fd, 0);
	fd->fd = 1 << 30;
	REFUSED(EMFILE, "fd limit");

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
