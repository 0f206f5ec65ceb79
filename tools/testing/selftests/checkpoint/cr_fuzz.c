// SPDX-License-Identifier: GPL-2.0
/*
 * cr_fuzz: a static mutational fuzzer of restart().
 *
 * At start it makes its seeds: it runs small containers of a few shapes
 * and checkpoints them.  Each case then mutates one seed with a recipe of
 * operations on its records (bit flips, interesting values at the field
 * offsets of <linux/checkpoint_hdr.h>, lengths, records cut, duplicated,
 * swapped, deleted or spliced from another seed, any record type) and on
 * the page data after the tail (bit flips, cut short: a PAGES record's
 * data go with it when it is moved, duplicated or spliced), recomputes
 * the tail (most of the time: its count, length and checksum, and where
 * the page data are, but not the PAGES records' data_csum) and the END
 * record's data_bytes and checksum with it, and calls restart() on it,
 * from a file or from a pipe, in a fresh container and cgroup, under a
 * time limit.  The END record is the last of a seed's records: written
 * after the page data as long as it is the last one.
 *
 * A case is fine if restart() refused it with an errno that
 * Documentation/checkpoint/syscalls.rst documents and a reason, or if it
 * restored it; what was restored is then used (its /proc files read, a
 * signal sent) and checkpointed, and that image must restart too.  Page
 * data that do not match their checksum (or are cut short, or an END
 * record that is missing or wrong, from a pipe) are found only past the
 * point of no return: such an image must be refused or its restored
 * process killed (SIGKILL), with nothing left in its cgroup.  A
 * case is kept if the errno is undocumented, the reason is empty,
 * restart() did not return in time, the caller died after a refusal, the
 * kernel logged a report (/dev/kmsg), the checkpoint of what was restored
 * does not restart, an image with bad page data was restored and not
 * killed, or a task was left once restart() killed its caller.  Kept
 * cases are minimised and printed between CR-FUZZ-CASE-BEGIN/END markers
 * with their recipe and the image in base64 (harness/fuzz.sh extracts
 * them).
 *
 * Images cannot be kept as regressions (they carry the kernel's ABI and
 * vdso hashes): the regressions are recipes, in regressions[] below,
 * replayed at every run before the random round.
 *
 *   cr_fuzz                  the fixed round of make check (TAP)
 *   cr_fuzz -n N -s S        N random cases from seed S
 *   cr_fuzz -r 'RECIPE'      replay one recipe
 *   cr_fuzz -c N [-s S]      run case N of a round only, print its recipe
 *   cr_fuzz -h               the other options
 *
 * Recipe: "SHAPE: OP; OP; ...".  A record is TYPE.N, the Nth record of
 * that type (tNN for a type without a name) at the time the op applies;
 * a location is REC.FIELD (checkpoint_hdr.h names; h.type, h.len, h.tag,
 * h.ptag for the header; act[9].handler, run[2].addr, task[0].pid, auxv[4]
 * for the arrays after a record) or REC+OFF:SIZE, or REC@OFF:SIZE for
 * bytes of the page data of a PAGES record.  Ops:
 *   set LOC=V   add LOC=DELTA   xor LOC=MASK   fill LOC=BYTE
 *   copy LOC=REC (the same bytes of another record)
 *   resize REC=LEN (h.len follows)   cut REC+OFF (the image ends there; the
 *     END record, the last, stays after the page data when it is the one cut)
 *   cut REC@OFF (the image ends at that byte of the record's page data)
 *   del REC   delall TYPE   dup REC   swap REC REC
 *   splice SHAPE:REC REC (insert before)   replace SHAPE:REC REC
 *   path REC=/a/path (or =*N: a path of N bytes)
 *   notail (the tail and the END record as they are)
 *   fixcsum (the data_csum of every PAGES record set to what its data hash to)
 *   stream (restart() reads the image from a pipe)
 *   deferred (what was restored is checkpointed with CHECKPOINT_DEFERRED:
 *     captured, thawed, then written out of the kernel's held copy)
 *   held (what was restored is checkpointed into a held checkpoint, a crid,
 *     and that is restarted from memory, restart(crid, -1, 0), not a file)
 *   fixvmas (number the VMA and PAGES records after each MM again)
 *   move REC=ADDR (a VMA record: the area and its pages, the runs of the
 *     PAGES records after it, to start at ADDR)
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "cr_test.h"

#define FZ_DIR		"/tmp/crfuzz"
#define FZ_CG		"/sys/fs/cgroup/crfuzz"
#define FZ_KMSG		"/dev/kmsg"
#define FZ_TRACE	"/proc/sys/debug/exception-trace"
#define FZ_MAX_OPS	64
#define FZ_PATH		64
#define FZ_REASON	512
#define FZ_PAGE		4096
#define FZ_TASK_SIZE	0x7ffffffff000ULL	/* TASK_SIZE_MAX of x86-64, 4 levels */

/* The fixed round of make check: about 60 s in the TCG guest. */
#define FZ_DEFAULT_CASES	700
#define FZ_DEFAULT_SEED		1

/* -- regressions: every bug found, as a recipe ------------------------------ */

/*
 * Each entry is a case that was kept once; the run fails while any of
 * them is still kept.  Add the recipe a kept case prints (minimised).
 */
static const struct regression {
	const char *recipe;
	const char *what;
} regressions[] = {
	{ "pause: set tree.0.task[0].pid=32768; set tree.0.task[0].tgid=32768; "
	  "set task.0.pid=32768; set task.0.tgid=32768",
	  "a root pid at pid_max (32768 with 2 CPUs): EINVAL from clone3's set_tid" },
	{ "nanosleep: set tree.0.task[0].pid=4194304; set tree.0.task[0].tgid=4194304; "
	  "set task.0.pid=4194304; set task.0.tgid=4194304",
	  "a root pid at PID_MAX_LIMIT: EINVAL from clone3's set_tid" },
	{ "pause: path file.0=/proc/self/mem; set file.0.kind=1; set file.0.mode=0x8180",
	  "a /proc/self file is reopened; its checkpoint names /proc/<host pid>/mem, which "
	  "restart then cannot reopen (ENOENT)" },
	{ "pause: path fs.0=/proc/self",
	  "a working directory in /proc/self: its checkpoint names /proc/<host pid>, which "
	  "restart then cannot find (ENOENT)" },
	{ "files: set tree.0.task[0].pgid=0x1001",
	  "pid 1 in the group of a pid that is no task: that pid outlived the rest, and the "
	  "restored pid 1, once killed, waited for it forever in zap_pid_ns_processes()" },
};

/* -- record layouts ---------------------------------------------------------- */

struct field {
	const char *name;
	uint32_t off;
	uint32_t size;
};

#define FLD(s, m)	{ #m, offsetof(struct s, m), sizeof(((struct s *)0)->m) }
#define HDR_FIELDS	{ "h.type", 0, 4 }, { "h.len", 4, 4 }, { "h.tag", 8, 4 },	\
			{ "h.ptag", 12, 4 }
#define NF(a)		(sizeof(a) / sizeof((a)[0]))

static const struct field head_f[] = {
	HDR_FIELDS, FLD(cr_hdr_head, magic), FLD(cr_hdr_head, version),
	FLD(cr_hdr_head, arch), FLD(cr_hdr_head, abi_hash), FLD(cr_hdr_head, flags),
	FLD(cr_hdr_head, time_sec), FLD(cr_hdr_head, time_nsec), FLD(cr_hdr_head, page_size),
	FLD(cr_hdr_head, xfeatures), FLD(cr_hdr_head, xstate_size), FLD(cr_hdr_head, __pad),
	FLD(cr_hdr_head, release), FLD(cr_hdr_head, nodename), FLD(cr_hdr_head, domainname),
	FLD(cr_hdr_head, ns_flags), FLD(cr_hdr_head, __pad2),
};

static const struct field tail_f[] = {
	HDR_FIELDS, FLD(cr_hdr_tail, records), FLD(cr_hdr_tail, bytes),
	FLD(cr_hdr_tail, checksum), FLD(cr_hdr_tail, data_offset), FLD(cr_hdr_tail, data_bytes),
};

static const struct field end_f[] = {
	HDR_FIELDS, FLD(cr_hdr_end, data_bytes), FLD(cr_hdr_end, checksum),
};

static const struct field tree_f[] = {
	HDR_FIELDS, FLD(cr_hdr_tree, nr_tasks), FLD(cr_hdr_tree, __pad),
};

static const struct field tree_e[] = {
	FLD(cr_tree_task, pid), FLD(cr_tree_task, tgid), FLD(cr_tree_task, ppid),
	FLD(cr_tree_task, pgid), FLD(cr_tree_task, sid), FLD(cr_tree_task, flags),
	FLD(cr_tree_task, exit_code), FLD(cr_tree_task, exit_signal),
	FLD(cr_tree_task, mm_tag), FLD(cr_tree_task, files_tag), FLD(cr_tree_task, fs_tag),
	FLD(cr_tree_task, sighand_tag),
};

static const struct field task_f[] = {
	HDR_FIELDS, FLD(cr_hdr_task, pid), FLD(cr_hdr_task, tgid), FLD(cr_hdr_task, comm),
	FLD(cr_hdr_task, blocked), FLD(cr_hdr_task, uid), FLD(cr_hdr_task, gid),
	FLD(cr_hdr_task, euid), FLD(cr_hdr_task, egid), FLD(cr_hdr_task, personality),
	FLD(cr_hdr_task, exit_signal), FLD(cr_hdr_task, robust_list),
	FLD(cr_hdr_task, clear_child_tid), FLD(cr_hdr_task, rseq), FLD(cr_hdr_task, rseq_len),
	FLD(cr_hdr_task, rseq_sig), FLD(cr_hdr_task, sas_ss_sp), FLD(cr_hdr_task, sas_ss_size),
	FLD(cr_hdr_task, sas_ss_flags), FLD(cr_hdr_task, __pad),
};

static const struct field cpu_f[] = {
	HDR_FIELDS, FLD(cr_hdr_cpu, r15), FLD(cr_hdr_cpu, r14), FLD(cr_hdr_cpu, r13),
	FLD(cr_hdr_cpu, r12), FLD(cr_hdr_cpu, bp), FLD(cr_hdr_cpu, bx), FLD(cr_hdr_cpu, r11),
	FLD(cr_hdr_cpu, r10), FLD(cr_hdr_cpu, r9), FLD(cr_hdr_cpu, r8), FLD(cr_hdr_cpu, ax),
	FLD(cr_hdr_cpu, cx), FLD(cr_hdr_cpu, dx), FLD(cr_hdr_cpu, si), FLD(cr_hdr_cpu, di),
	FLD(cr_hdr_cpu, orig_ax), FLD(cr_hdr_cpu, ip), FLD(cr_hdr_cpu, cs),
	FLD(cr_hdr_cpu, flags), FLD(cr_hdr_cpu, sp), FLD(cr_hdr_cpu, ss),
	FLD(cr_hdr_cpu, fs_base), FLD(cr_hdr_cpu, gs_base), FLD(cr_hdr_cpu, ds),
	FLD(cr_hdr_cpu, es), FLD(cr_hdr_cpu, fs), FLD(cr_hdr_cpu, gs),
};

/* The XSAVE area after the FPU record: legacy area, then the XSAVE header. */
#define XS(name, off, size)	{ "xsave." name, sizeof(struct cr_hdr_fpu) + (off), size }
static const struct field fpu_f[] = {
	HDR_FIELDS, FLD(cr_hdr_fpu, xfeatures), FLD(cr_hdr_fpu, size), FLD(cr_hdr_fpu, __pad),
	XS("fcw", 0, 2), XS("fsw", 2, 2), XS("ftw", 4, 1), XS("fop", 6, 2), XS("fip", 8, 8),
	XS("mxcsr", 24, 4), XS("mxcsr_mask", 28, 4), XS("st0", 32, 8), XS("xmm0", 160, 8),
	XS("sw_reserved", 464, 8), XS("xstate_bv", 512, 8), XS("xcomp_bv", 520, 8),
	XS("xhdr_reserved", 528, 8), XS("ymmh0", 576, 8),
};

static const struct field sighand_f[] = {
	HDR_FIELDS, FLD(cr_hdr_sighand, nr), FLD(cr_hdr_sighand, __pad),
};

static const struct field sighand_e[] = {
	FLD(cr_sigaction, handler), FLD(cr_sigaction, flags), FLD(cr_sigaction, restorer),
	FLD(cr_sigaction, mask),
};

static const struct field rb_f[] = {
	HDR_FIELDS, FLD(cr_hdr_restart_block, kind), FLD(cr_hdr_restart_block, clockid),
	FLD(cr_hdr_restart_block, remaining_ns), FLD(cr_hdr_restart_block, rmtp),
};

static const struct field mm_f[] = {
	HDR_FIELDS, FLD(cr_hdr_mm, start_code), FLD(cr_hdr_mm, end_code),
	FLD(cr_hdr_mm, start_data), FLD(cr_hdr_mm, end_data), FLD(cr_hdr_mm, start_brk),
	FLD(cr_hdr_mm, brk), FLD(cr_hdr_mm, start_stack), FLD(cr_hdr_mm, arg_start),
	FLD(cr_hdr_mm, arg_end), FLD(cr_hdr_mm, env_start), FLD(cr_hdr_mm, env_end),
	FLD(cr_hdr_mm, exe_file_tag), FLD(cr_hdr_mm, nr_vmas), FLD(cr_hdr_mm, nr_auxv),
	FLD(cr_hdr_mm, flags), FLD(cr_hdr_mm, vdso_hash),
};

static const struct field vma_f[] = {
	HDR_FIELDS, FLD(cr_hdr_vma, start), FLD(cr_hdr_vma, end), FLD(cr_hdr_vma, pgoff),
	FLD(cr_hdr_vma, kind), FLD(cr_hdr_vma, flags), FLD(cr_hdr_vma, file_tag),
	FLD(cr_hdr_vma, __pad),
};

static const struct field pages_f[] = {
	HDR_FIELDS, FLD(cr_hdr_pages, nr), FLD(cr_hdr_pages, flags),
	FLD(cr_hdr_pages, data_csum), FLD(cr_hdr_pages, nr_runs), FLD(cr_hdr_pages, __pad),
};

static const struct field page_run_e[] = {
	FLD(cr_page_run, addr), FLD(cr_page_run, nr),
};

static const struct field u64_e[] = { { "", 0, 8 } };

static const struct field file_f[] = {
	HDR_FIELDS, FLD(cr_hdr_file, kind), FLD(cr_hdr_file, f_flags), FLD(cr_hdr_file, pos),
	FLD(cr_hdr_file, size), FLD(cr_hdr_file, mode), FLD(cr_hdr_file, rdev),
	FLD(cr_hdr_file, path_len), FLD(cr_hdr_file, stdio_fd),
};

static const struct field fds_f[] = {
	HDR_FIELDS, FLD(cr_hdr_fds, nr), FLD(cr_hdr_fds, __pad),
};

static const struct field fd_e[] = {
	FLD(cr_fd, fd), FLD(cr_fd, file_tag), FLD(cr_fd, flags),
};

static const struct field fs_f[] = {
	HDR_FIELDS, FLD(cr_hdr_fs, umask), FLD(cr_hdr_fs, path_len),
};

static const struct field pipe_f[] = {
	HDR_FIELDS, FLD(cr_hdr_pipe, kind), FLD(cr_hdr_pipe, size), FLD(cr_hdr_pipe, nr_segs),
	FLD(cr_hdr_pipe, data_len), FLD(cr_hdr_pipe, path_len), FLD(cr_hdr_pipe, __pad),
};

static const struct field pipe_seg_e[] = {
	FLD(cr_pipe_seg, len), FLD(cr_pipe_seg, flags),
};

static const struct field sock_f[] = {
	HDR_FIELDS, FLD(cr_hdr_sock, type), FLD(cr_hdr_sock, state), FLD(cr_hdr_sock, flags),
	FLD(cr_hdr_sock, peer_tag), FLD(cr_hdr_sock, listener_tag), FLD(cr_hdr_sock, backlog),
	FLD(cr_hdr_sock, shutdown), FLD(cr_hdr_sock, err), FLD(cr_hdr_sock, sndbuf),
	FLD(cr_hdr_sock, rcvbuf), FLD(cr_hdr_sock, rcvlowat), FLD(cr_hdr_sock, peek_off),
	FLD(cr_hdr_sock, sndtimeo_us), FLD(cr_hdr_sock, rcvtimeo_us), FLD(cr_hdr_sock, priority),
	FLD(cr_hdr_sock, linger), FLD(cr_hdr_sock, peer_pid), FLD(cr_hdr_sock, peer_uid),
	FLD(cr_hdr_sock, peer_gid), FLD(cr_hdr_sock, name_len), FLD(cr_hdr_sock, path_len),
	FLD(cr_hdr_sock, mode),
};

static const struct field sock_msg_f[] = {
	HDR_FIELDS, FLD(cr_hdr_sock_msg, sender_tag), FLD(cr_hdr_sock_msg, flags),
	FLD(cr_hdr_sock_msg, len), FLD(cr_hdr_sock_msg, nr_fds), FLD(cr_hdr_sock_msg, pid),
	FLD(cr_hdr_sock_msg, uid), FLD(cr_hdr_sock_msg, gid), FLD(cr_hdr_sock_msg, __pad),
};

static const struct field u32_e[] = { { "", 0, 4 } };

/*
 * A record type: its fields, the array after it (@ename[i] of @esize
 * bytes, @count_off the offset of its __u32 count), the offset of the
 * path length of a record followed by a path (a SOCK record's name_len:
 * a path op gives it that name and the path of its socket file).
 */
struct rtype {
	uint32_t type;
	const char *name;
	uint32_t size;
	const struct field *f;
	unsigned int nf;
	const char *ename;
	uint32_t esize;
	const struct field *ef;
	unsigned int nef;
	int count_off;
	int path_off;
};

#define RT(t, n, s, f)	CR_HDR_##t, n, sizeof(struct s), f, NF(f)
static const struct rtype rtypes[] = {
	{ RT(HEAD, "head", cr_hdr_head, head_f), NULL, 0, NULL, 0, -1, -1 },
	{ RT(TAIL, "tail", cr_hdr_tail, tail_f), NULL, 0, NULL, 0, -1, -1 },
	{ RT(END, "end", cr_hdr_end, end_f), NULL, 0, NULL, 0, -1, -1 },
	{ RT(TREE, "tree", cr_hdr_tree, tree_f), "task", sizeof(struct cr_tree_task),
	  tree_e, NF(tree_e), offsetof(struct cr_hdr_tree, nr_tasks), -1 },
	{ RT(TASK, "task", cr_hdr_task, task_f), NULL, 0, NULL, 0, -1, -1 },
	{ RT(CPU, "cpu", cr_hdr_cpu, cpu_f), NULL, 0, NULL, 0, -1, -1 },
	{ RT(FPU, "fpu", cr_hdr_fpu, fpu_f), NULL, 0, NULL, 0, -1, -1 },
	{ RT(SIGHAND, "sighand", cr_hdr_sighand, sighand_f), "act", sizeof(struct cr_sigaction),
	  sighand_e, NF(sighand_e), offsetof(struct cr_hdr_sighand, nr), -1 },
	{ RT(RESTART_BLOCK, "restart_block", cr_hdr_restart_block, rb_f), NULL, 0, NULL, 0,
	  -1, -1 },
	{ RT(MM, "mm", cr_hdr_mm, mm_f), "auxv", 8, u64_e, 1, offsetof(struct cr_hdr_mm, nr_auxv),
	  -1 },
	{ RT(VMA, "vma", cr_hdr_vma, vma_f), NULL, 0, NULL, 0, -1, -1 },
	{ RT(PAGES, "pages", cr_hdr_pages, pages_f), "run", sizeof(struct cr_page_run),
	  page_run_e, NF(page_run_e), offsetof(struct cr_hdr_pages, nr_runs), -1 },
	{ RT(FILE, "file", cr_hdr_file, file_f), NULL, 0, NULL, 0, -1,
	  offsetof(struct cr_hdr_file, path_len) },
	{ RT(FDS, "fds", cr_hdr_fds, fds_f), "fd", sizeof(struct cr_fd), fd_e, NF(fd_e),
	  offsetof(struct cr_hdr_fds, nr), -1 },
	{ RT(FS, "fs", cr_hdr_fs, fs_f), NULL, 0, NULL, 0, -1,
	  offsetof(struct cr_hdr_fs, path_len) },
	{ RT(PIPE, "pipe", cr_hdr_pipe, pipe_f), "seg", sizeof(struct cr_pipe_seg),
	  pipe_seg_e, NF(pipe_seg_e), offsetof(struct cr_hdr_pipe, nr_segs), -1 },
	{ RT(SOCK, "sock", cr_hdr_sock, sock_f), NULL, 0, NULL, 0, -1,
	  offsetof(struct cr_hdr_sock, name_len) },
	{ RT(SOCK_MSG, "sock_msg", cr_hdr_sock_msg, sock_msg_f), "fd", sizeof(uint32_t), u32_e,
	  1, offsetof(struct cr_hdr_sock_msg, nr_fds), -1 },
};

static const struct rtype *rtype_of(uint32_t type)
{
	for (unsigned int i = 0; i < NF(rtypes); i++)
		if (rtypes[i].type == type)
			return &rtypes[i];
	return NULL;
}

static const struct rtype *rtype_named(const char *name, size_t len)
{
	for (unsigned int i = 0; i < NF(rtypes); i++)
		if (strlen(rtypes[i].name) == len && !strncmp(rtypes[i].name, name, len))
			return &rtypes[i];
	return NULL;
}

/* -- images as lists of records ---------------------------------------------- */

struct rec {
	uint8_t *p;
	uint32_t len;		/* bytes held; h.len may say otherwise */
	uint8_t *data;		/* a PAGES record: its page data, which go with it */
	uint32_t dlen;		/* bytes of them; nr * page size may say otherwise */
};

struct img {
	struct rec *r;
	unsigned int nr, cap;
	bool cut;		/* it ends inside a record: no page data */
	bool has_end;		/* its last record is its END record, after the page data */
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return p;
}

static uint32_t rec_type(const struct rec *r)
{
	return r->len >= 4 ? cr_get32(r->p) : 0;
}

static void img_free(struct img *im)
{
	for (unsigned int i = 0; i < im->nr; i++) {
		free(im->r[i].p);
		free(im->r[i].data);
	}
	free(im->r);
	memset(im, 0, sizeof(*im));
}

static void img_insert(struct img *im, unsigned int at, const uint8_t *p, uint32_t len)
{
	if (im->nr == im->cap) {
		im->cap = im->cap ? im->cap * 2 : 64;
		im->r = realloc(im->r, im->cap * sizeof(*im->r));
		if (!im->r)
			xmalloc(0), exit(1);
	}
	memmove(im->r + at + 1, im->r + at, (im->nr - at) * sizeof(*im->r));
	im->r[at].p = xmalloc(len);
	memcpy(im->r[at].p, p, len);
	im->r[at].len = len;
	im->r[at].data = NULL;
	im->r[at].dlen = 0;
	im->nr++;
}

/* Give record @at a copy of the @dlen bytes of page data at @data. */
static void rec_set_data(struct rec *r, const uint8_t *data, uint32_t dlen)
{
	free(r->data);
	r->data = NULL;
	r->dlen = dlen;
	if (dlen) {
		r->data = xmalloc(dlen);
		memcpy(r->data, data, dlen);
	}
}

/* A copy of @src, with its page data, at @at. */
static void img_insert_rec(struct img *im, unsigned int at, const struct rec *src)
{
	img_insert(im, at, src->p, src->len);
	rec_set_data(&im->r[at], src->data, src->dlen);
}

static void img_remove(struct img *im, unsigned int at)
{
	if (at + 1 == im->nr)
		im->has_end = false;	/* (what comes before it is no END record) */
	free(im->r[at].p);
	free(im->r[at].data);
	memmove(im->r + at, im->r + at + 1, (im->nr - at - 1) * sizeof(*im->r));
	im->nr--;
}

static void img_copy(struct img *dst, const struct img *src)
{
	memset(dst, 0, sizeof(*dst));
	for (unsigned int i = 0; i < src->nr; i++)
		img_insert_rec(dst, i, &src->r[i]);
	dst->cut = src->cut;
	dst->has_end = src->has_end;
}

/*
 * Split an image into records, each PAGES record with its page data, the
 * END record last: 0, or -1 if it is not a clean stream of records, tail,
 * padding, page data and END record.
 */
static int img_parse(struct img *im, const uint8_t *buf, size_t len)
{
	struct cr_layout lay;
	uint64_t at;
	size_t off = 0;

	memset(im, 0, sizeof(*im));
	if (cr_layout(buf, len, &lay) || !lay.end_len || lay.end_off + lay.end_len != len)
		return -1;
	at = lay.data_offset;
	while (off + sizeof(struct cr_hdr) <= len) {
		const struct cr_hdr *h = (const void *)(buf + off);

		if (h->len < sizeof(*h) || h->len % 8 || h->len > len - off)
			return -1;
		img_insert(im, im->nr, buf + off, h->len);
		off += h->len;
		if (h->type == CR_HDR_PAGES && h->len >= sizeof(struct cr_hdr_pages)) {
			uint64_t n = (uint64_t)((const struct cr_hdr_pages *)h)->nr * lay.page_size;

			rec_set_data(&im->r[im->nr - 1], buf + at, n);
			at += n;
		}
		if (h->type == CR_HDR_TAIL)
			break;
	}
	if (off != lay.tail_end || !im->nr)
		return -1;
	img_insert(im, im->nr, buf + lay.end_off, lay.end_len);
	im->has_end = true;
	return 0;
}

/* Index of the @nth record of @type, or -1. */
static int img_find(const struct img *im, uint32_t type, unsigned int nth)
{
	for (unsigned int i = 0; i < im->nr; i++)
		if (rec_type(&im->r[i]) == type && !nth--)
			return i;
	return -1;
}

static unsigned int img_count(const struct img *im, uint32_t type)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < im->nr; i++)
		n += rec_type(&im->r[i]) == type;
	return n;
}

/*
 * Is record @i of @im its END record, which goes after the page data?
 * Whatever its type has become: the last record, as long as nothing
 * removed the END record of the seed (a record appended after it takes
 * its place).
 */
static bool is_end_rec(const struct img *im, unsigned int i)
{
	return i + 1 == im->nr && im->has_end;
}

/* The END record of @elen bytes at @e: data_bytes and checksum those of @t. */
static void fix_end(uint8_t *e, size_t elen, const struct cr_hdr_tail *t)
{
	uint64_t v[2] = { t->data_bytes, t->checksum };

	if (elen < sizeof(struct cr_hdr_end))
		return;
	memcpy(e + offsetof(struct cr_hdr_end, data_bytes), v, sizeof(v));
}

/*
 * The records in one buffer, then (unless it is cut) zero padding up to
 * a page boundary and the page data of its PAGES records in order, then
 * its END record if it is the last record (another END record is one of
 * the records); the tail recomputed unless @notail (the data_csum of the
 * PAGES records are left as they are), and the END record's data_bytes
 * and checksum with it.
 */
static uint8_t *img_bytes(const struct img *im, bool notail, size_t *lenp)
{
	size_t len = 0, off = 0, dstart, dlen = 0, elen = 0;
	unsigned int nrec = im->nr;
	const uint8_t *end = NULL;
	uint8_t *buf;
	int tail = -1;

	if (nrec && is_end_rec(im, nrec - 1)) {
		nrec--;
		end = im->r[nrec].p;
		elen = im->r[nrec].len;
	}
	for (unsigned int i = 0; i < nrec; i++) {
		len += im->r[i].len;
		if (rec_type(&im->r[i]) == CR_HDR_PAGES)
			dlen += im->r[i].dlen;
	}
	dstart = (len + FZ_PAGE - 1) / FZ_PAGE * FZ_PAGE;
	if (im->cut)
		dstart = len, dlen = 0;
	/* room for a whole tail where a short one ends */
	buf = calloc(1, dstart + dlen + elen + sizeof(struct cr_hdr_tail));
	if (!buf)
		xmalloc(0), exit(1);
	for (unsigned int i = 0; i < nrec; i++) {
		memcpy(buf + off, im->r[i].p, im->r[i].len);
		off += im->r[i].len;
	}
	off = dstart;
	for (unsigned int i = 0; i < nrec && !im->cut; i++) {
		if (rec_type(&im->r[i]) != CR_HDR_PAGES || !im->r[i].dlen)
			continue;
		memcpy(buf + off, im->r[i].data, im->r[i].dlen);
		off += im->r[i].dlen;
	}
	if (elen)
		memcpy(buf + off, end, elen);
	*lenp = dstart + dlen + elen;
	if (notail)
		return buf;
	if (!cr_fix_tail_only(buf, len)) {
		struct cr_layout lay;

		if (!cr_layout(buf, len, &lay))
			fix_end(buf + off, elen, (const void *)(buf + lay.tail_off));
		return buf;
	}
	/* The headers do not lead to a tail: fix the tail record where it is. */
	for (unsigned int i = 0; i < nrec; i++)
		if (rec_type(&im->r[i]) == CR_HDR_TAIL &&
		    im->r[i].len >= sizeof(struct cr_hdr_tail))
			tail = i;
	if (tail >= 0) {
		struct cr_xxh64 s;
		struct cr_hdr_tail t;
		uint64_t pages = 0;
		size_t toff = 0;

		cr_xxh64_reset(&s);
		for (int i = 0; i < tail; i++) {
			const struct rec *r = &im->r[i];

			cr_xxh64_update(&s, r->p, r->len);
			toff += r->len;
			if (rec_type(r) == CR_HDR_PAGES && r->len >= sizeof(struct cr_hdr_pages))
				pages += cr_get32(r->p + offsetof(struct cr_hdr_pages, nr));
		}
		memcpy(&t, buf + toff, sizeof(t));
		t.records = tail;
		t.bytes = toff;
		t.checksum = cr_xxh64_digest(&s);
		t.data_offset = (toff + im->r[tail].len + FZ_PAGE - 1) / FZ_PAGE * FZ_PAGE;
		t.data_bytes = pages * FZ_PAGE;
		memcpy(buf + toff, &t, sizeof(t));
		fix_end(buf + off, elen, &t);
	}
	return buf;
}

/*
 * Would restart() read page data that are not all there, or that do not
 * match their PAGES record's data_csum, or find no good END record after
 * them (one that its cr_read_end() takes), if it took the records of the
 * @len bytes at @img?  Its checks before the point of no return cannot
 * see that from a pipe: such an image must be refused or its restored
 * process killed.  (From a file it is refused.)
 */
static bool data_bad(const uint8_t *img, size_t len)
{
	const struct cr_hdr_tail *t;
	struct cr_hdr_end e;
	struct cr_layout lay;
	uint64_t at;
	size_t o = 0;

	if (cr_layout(img, len, &lay))
		return false;	/* no tail: refused */
	t = (const void *)(img + lay.tail_off);
	if (t->data_offset != lay.data_offset)
		return false;	/* refused */
	at = lay.data_offset;
	for (; o < lay.tail_off; o += cr_get32(img + o + 4)) {
		const struct cr_hdr_pages *p = (const void *)(img + o);
		uint64_t n;

		if (p->h.type != CR_HDR_PAGES || p->h.len < sizeof(*p))
			continue;
		n = (uint64_t)p->nr * lay.page_size;
		if (at + n > len)
			return true;
		if (!(p->flags & CR_PAGES_NO_CSUM) && cr_hash(img + at, n) != p->data_csum)
			return true;
		at += n;
	}
	/* the END record, where the tail places it */
	at = t->data_offset + t->data_bytes;
	if (at < t->data_offset || at > len || len - at < sizeof(e))
		return true;
	memcpy(&e, img + at, sizeof(e));
	return e.h.type != CR_HDR_END || e.h.len < sizeof(e) || e.h.len % 8 ||
	       e.h.len > CR_END_MAX || e.h.tag || e.h.ptag || e.data_bytes != t->data_bytes ||
	       e.checksum != t->checksum;
}

/* -- seeds ------------------------------------------------------------------- */

static void ready(void)
{
	cr_write_str(FZ_DIR "/ready", "1");
}

static int workload_pause(void *arg)
{
	cr_quiet_fds();
	ready();
	while (pause())
		;
	return 0;
}

static int workload_nanosleep(void *arg)
{
	struct timespec ts = { 100000, 0 };

	cr_quiet_fds();
	ready();
	for (;;)
		nanosleep(&ts, &ts);
	return 0;
}

static void on_usr1(int sig)
{
}

/*
 * Open files of every kind, a directory fd, /dev/null, private file
 * mappings (one written to), an anonymous area, heap, a written stack,
 * a signal handler, a blocked mask, a working directory and umask.
 */
static int workload_files(void *arg)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	volatile char stack[12288];
	char *map, *ro, *anon, *heap;
	sigset_t set;
	int fd;

	cr_quiet_fds();
	fd = open(FZ_DIR "/data", O_RDONLY);
	lseek(fd, 100, SEEK_SET);
	open(FZ_DIR "/data", O_RDWR | O_APPEND);
	open(FZ_DIR, O_RDONLY | O_DIRECTORY);
	open("/dev/null", O_WRONLY | O_CLOEXEC);
	open("/dev/zero", O_RDONLY);
	map = mmap(NULL, 4 * FZ_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ro = mmap(NULL, 2 * FZ_PAGE, PROT_READ, MAP_PRIVATE, fd, FZ_PAGE);
	anon = mmap(NULL, 3 * FZ_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || ro == MAP_FAILED || anon == MAP_FAILED)
		return 1;
	map[0] = 1;
	map[2 * FZ_PAGE + 7] = ro[0];
	memset(anon, 0x33, 3 * FZ_PAGE);
	madvise(anon + FZ_PAGE, FZ_PAGE, MADV_DONTDUMP);
	heap = malloc(20000);
	memset(heap, 0x44, 20000);
	for (size_t i = 0; i < sizeof(stack); i++)
		stack[i] = i;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (chdir(FZ_DIR))
		return 1;
	umask(027);
	ready();
	while (pause())
		;
	return stack[1];
}

/*
 * Areas of every kind and flag: read-only, executable, PROT_NONE, a big
 * sparse one, grows-down, madvise() flags; a signal handler on a
 * sigaltstack.
 */
static int workload_memory(void *arg)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK | SA_RESTART };
	stack_t ss = { .ss_size = 4 * FZ_PAGE };
	char *p;

	cr_quiet_fds();
	ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL))
		return 1;
	sigaction(SIGUSR1, &sa, NULL);
	/* a big sparse area, a page touched here and there */
	p = mmap(NULL, 1UL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	p[0] = 1;
	p[(1UL << 29) + 5] = 2;
	p[(1UL << 30) - 1] = 3;
	/* read-only, executable and inaccessible areas with contents */
	p = mmap(NULL, 8 * FZ_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memset(p, 0xc3, 8 * FZ_PAGE);
	mprotect(p, 2 * FZ_PAGE, PROT_READ);
	mprotect(p + 2 * FZ_PAGE, 2 * FZ_PAGE, PROT_READ | PROT_EXEC);
	mprotect(p + 4 * FZ_PAGE, FZ_PAGE, PROT_NONE);
	madvise(p + 5 * FZ_PAGE, FZ_PAGE, MADV_DONTFORK);
	madvise(p + 6 * FZ_PAGE, FZ_PAGE, MADV_WIPEONFORK);
	madvise(p + 7 * FZ_PAGE, FZ_PAGE, MADV_NOHUGEPAGE);
	p = mmap(NULL, 4 * FZ_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	p[3 * FZ_PAGE] = 4;
	ready();
	while (pause())
		;
	return 0;
}

/*
 * Pipes: a pipe with bytes queued (both ends open), a packet pipe with
 * two packets and only its read end left, a FIFO with bytes.
 */
static int workload_pipes(void *arg)
{
	int p[2], q[2], f;

	cr_quiet_fds();
	if (pipe(p) || write(p[1], "0123456789", 10) != 10 || pipe2(q, O_DIRECT) ||
	    write(q[1], "abc", 3) != 3 || write(q[1], "defgh", 5) != 5 || close(q[1]))
		return 1;
	unlink(FZ_DIR "/fifo");
	if (mkfifo(FZ_DIR "/fifo", 0600))
		return 1;
	f = open(FZ_DIR "/fifo", O_RDWR);
	if (f < 0 || write(f, "fifo", 4) != 4)
		return 1;
	ready();
	while (pause())
		;
	return 0;
}

/*
 * Unix sockets: a stream socketpair with bytes queued both ways and a
 * message carrying the read end of a pipe (SCM_RIGHTS: that end is only
 * in flight), a datagram socketpair (one end autobound) with datagrams
 * both ways, a listener bound to a path with a connection not accepted
 * yet, with bytes queued on it.
 */
static int workload_sockets(void *arg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX, .sun_path = FZ_DIR "/sock" };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cb = {};
	struct iovec iov = { .iov_base = "fd", .iov_len = 2 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.buf,
		.msg_controllen = sizeof(cb.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	sa_family_t af = AF_UNIX;
	int s[2], d[2], p[2], l, c;

	cr_quiet_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) || write(s[0], "stream-a", 8) != 8 ||
	    write(s[1], "stream-bb", 9) != 9 || pipe(p) || write(p[1], "piped", 5) != 5)
		return 1;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &p[0], sizeof(int));
	if (sendmsg(s[0], &msg, 0) != 2 || close(p[0]))
		return 1;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, d) ||
	    bind(d[1], (struct sockaddr *)&af, sizeof(af)) || send(d[0], "dg1", 3, 0) != 3 ||
	    send(d[0], "dgram-2", 7, 0) != 7 || send(d[1], "x", 1, 0) != 1)
		return 1;
	unlink(sun.sun_path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sun, sizeof(sun)) || listen(l, 4) ||
	    connect(c, (struct sockaddr *)&sun, sizeof(sun)) || write(c, "hello", 5) != 5)
		return 1;
	ready();
	while (pause())
		;
	return 0;
}

/*
 * The shapes of seed: add one here (a workload that makes its state,
 * calls ready() and waits to be checkpointed); @need is a record type the
 * image must hold for the seed to count.
 */
static const struct shape {
	const char *name;
	int (*workload)(void *arg);
	uint32_t need;
} shapes[] = {
	{ "pause", workload_pause, 0 },
	{ "nanosleep", workload_nanosleep, CR_HDR_RESTART_BLOCK },
	{ "files", workload_files, CR_HDR_FILE },
	{ "memory", workload_memory, CR_HDR_VMA },
	{ "pipes", workload_pipes, CR_HDR_PIPE },
	{ "sockets", workload_sockets, CR_HDR_SOCK_MSG },
};

#define NR_SHAPES	NF(shapes)

struct seed {
	struct img img;
	size_t len;
	int ok;
	char why[FZ_REASON];
};

/* -- recipes ----------------------------------------------------------------- */

enum op_kind {
	OP_SET, OP_ADD, OP_XOR, OP_FILL, OP_COPY, OP_RESIZE, OP_CUT, OP_DEL, OP_DELALL,
	OP_DUP, OP_SWAP, OP_SPLICE, OP_REPLACE, OP_PATH, OP_NOTAIL, OP_FIXVMAS,
	OP_MOVE, OP_FIXCSUM, OP_STREAM, OP_DEFERRED, OP_HELD,
};

static const char *const op_names[] = {
	[OP_SET] = "set", [OP_ADD] = "add", [OP_XOR] = "xor", [OP_FILL] = "fill",
	[OP_COPY] = "copy", [OP_RESIZE] = "resize", [OP_CUT] = "cut", [OP_DEL] = "del",
	[OP_DELALL] = "delall", [OP_DUP] = "dup", [OP_SWAP] = "swap", [OP_SPLICE] = "splice",
	[OP_REPLACE] = "replace", [OP_PATH] = "path", [OP_NOTAIL] = "notail",
	[OP_FIXVMAS] = "fixvmas", [OP_MOVE] = "move", [OP_FIXCSUM] = "fixcsum",
	[OP_STREAM] = "stream", [OP_DEFERRED] = "deferred", [OP_HELD] = "held",
};

struct ref {
	uint32_t type;
	uint32_t nth;
};

struct op {
	enum op_kind kind;
	struct ref r, r2;	/* the record; the other one (copy, swap, splice) */
	int shape2;		/* seed of r2 (splice, replace) */
	uint32_t off, size;	/* location in r (set...fill, cut) */
	bool data;		/* ... in its page data */
	uint64_t val;		/* value, delta, mask, byte, length; path length for *N */
	char path[FZ_PATH];	/* OP_PATH, unless val */
};

struct recipe {
	int shape;
	unsigned int nr;
	struct op ops[FZ_MAX_OPS];
};

static uint64_t get_le(const uint8_t *p, uint32_t size)
{
	uint64_t v = 0;

	memcpy(&v, p, size > 8 ? 8 : size);
	return v;
}

static void put_le(uint8_t *p, uint32_t size, uint64_t v)
{
	memcpy(p, &v, size > 8 ? 8 : size);
}

static void set_path(struct rec *r, const struct rtype *rt, const char *path, size_t plen)
{
	/* a socket bound to a path: its name, then its socket file's path */
	bool sock = rt->type == CR_HDR_SOCK;
	uint32_t len = (rt->size + (plen + 1) * (sock ? 2 : 1) + 7) & ~7U;
	uint8_t *p = calloc(1, len);

	if (!p)
		xmalloc(0), exit(1);
	memcpy(p, r->p, r->len < rt->size ? r->len : rt->size);
	memcpy(p + rt->size, path, plen);
	put_le(p + 4, 4, len);
	put_le(p + rt->path_off, 4, plen + 1);
	if (sock) {
		memcpy(p + rt->size + plen + 1, path, plen);
		put_le(p + offsetof(struct cr_hdr_sock, path_len), 4, plen + 1);
	}
	free(r->p);
	r->p = p;
	r->len = len;
}

/*
 * After areas were added, removed or moved: number the VMA records after
 * each MM record again (tag = index + 1, ptag = the MM's tag), give each
 * PAGES record the tag of the area before it and the MM its count.
 */
static void fix_vmas(struct img *im)
{
	for (unsigned int i = 0; i < im->nr; i++) {
		uint32_t mm_tag, nr = 0, vma_tag = 0;
		unsigned int j;

		if (rec_type(&im->r[i]) != CR_HDR_MM || im->r[i].len < sizeof(struct cr_hdr_mm))
			continue;
		mm_tag = cr_get32(im->r[i].p + 8);
		for (j = i + 1; j < im->nr; j++) {
			struct rec *r = &im->r[j];

			if (r->len < sizeof(struct cr_hdr))
				break;
			if (rec_type(r) == CR_HDR_VMA) {
				vma_tag = ++nr;
				put_le(r->p + 8, 4, vma_tag);
				put_le(r->p + 12, 4, mm_tag);
			} else if (rec_type(r) == CR_HDR_PAGES) {
				put_le(r->p + 12, 4, vma_tag);
			} else {
				break;
			}
		}
		put_le(im->r[i].p + offsetof(struct cr_hdr_mm, nr_vmas), 4, nr);
	}
}

/*
 * The data_csum of every PAGES record without CR_PAGES_NO_CSUM set to
 * what its page data hash to.
 */
static void fix_csums(struct img *im)
{
	for (unsigned int i = 0; i < im->nr; i++) {
		struct rec *r = &im->r[i];

		if (rec_type(r) != CR_HDR_PAGES || r->len < sizeof(struct cr_hdr_pages) ||
		    (cr_get32(r->p + offsetof(struct cr_hdr_pages, flags)) & CR_PAGES_NO_CSUM))
			continue;
		put_le(r->p + offsetof(struct cr_hdr_pages, data_csum), 8,
		       cr_hash(r->dlen ? r->data : r->p, r->dlen));
	}
}

/* Apply @op to @im: 0, or -1 if it does not apply (the record is absent). */
/* Ops that name no record: they say how the case runs, or fix it up. */
static bool op_is_mode(enum op_kind kind)
{
	return kind == OP_NOTAIL || kind == OP_STREAM || kind == OP_DEFERRED || kind == OP_HELD;
}

static int op_apply(const struct op *op, struct img *im, const struct seed *seeds)
{
	int i = img_find(im, op->r.type, op->r.nth), j;
	const struct rtype *rt;
	struct rec *r;
	uint64_t v;

	if (op_is_mode(op->kind))
		return 0;
	if (op->kind == OP_FIXVMAS) {
		fix_vmas(im);
		return 0;
	}
	if (op->kind == OP_FIXCSUM) {
		fix_csums(im);
		return 0;
	}
	if (op->kind == OP_DELALL) {
		if (!img_count(im, op->r.type))
			return -1;
		while ((i = img_find(im, op->r.type, 0)) >= 0)
			img_remove(im, i);
		return 0;
	}
	if (i < 0)
		return -1;
	r = &im->r[i];
	switch (op->kind) {
	case OP_SET: case OP_ADD: case OP_XOR: case OP_FILL: case OP_COPY: {
		/* the record's bytes, or its page data */
		uint8_t *b = op->data ? r->data : r->p;
		uint32_t blen = op->data ? r->dlen : r->len;

		if ((uint64_t)op->off + op->size > blen || !op->size)
			return -1;
		v = get_le(b + op->off, op->size);
		if (op->kind == OP_FILL) {
			memset(b + op->off, (int)op->val, op->size);
			return 0;
		}
		if (op->kind == OP_COPY) {
			j = img_find(im, op->r2.type, op->r2.nth);
			if (j < 0 || (uint64_t)op->off + op->size >
				     (op->data ? im->r[j].dlen : im->r[j].len))
				return -1;
			memcpy(b + op->off, (op->data ? im->r[j].data : im->r[j].p) + op->off,
			       op->size);
			return 0;
		}
		v = op->kind == OP_SET ? op->val : op->kind == OP_ADD ? v + op->val : v ^ op->val;
		put_le(b + op->off, op->size, v);
		return 0;
	}
	case OP_RESIZE:
		if (op->val < 8 || op->val > CR_RECORD_MAX)
			return -1;
		r->p = realloc(r->p, op->val);
		if (!r->p)
			xmalloc(0), exit(1);
		if (op->val > r->len)
			memset(r->p + r->len, 0, op->val - r->len);
		r->len = op->val;
		put_le(r->p + 4, 4, op->val);
		return 0;
	case OP_CUT:
		if (op->data) {
			/* the image ends there: no page data after it, no END record */
			if (op->off >= r->dlen)
				return -1;
			r->dlen = op->off;
			for (j = i + 1; j < (int)im->nr; j++)
				rec_set_data(&im->r[j], NULL, 0);
			if (im->nr && is_end_rec(im, im->nr - 1))
				img_remove(im, im->nr - 1);
			return 0;
		}
		if (op->off >= r->len)
			return -1;
		/* the END record cut: the page data stay before it */
		if (is_end_rec(im, i)) {
			r->len = op->off;
			return 0;
		}
		while (im->nr > (unsigned int)i + 1)
			img_remove(im, im->nr - 1);
		r->len = op->off;
		if (!r->len)
			img_remove(im, i);
		im->cut = true;
		return 0;
	case OP_DEL:
		img_remove(im, i);
		return 0;
	case OP_MOVE: {		/* the area to start at val, its pages with it */
		uint64_t start, delta;

		if (op->r.type != CR_HDR_VMA || r->len < sizeof(struct cr_hdr_vma))
			return -1;
		start = get_le(r->p + offsetof(struct cr_hdr_vma, start), 8);
		delta = op->val - start;
		put_le(r->p + offsetof(struct cr_hdr_vma, start), 8, op->val);
		v = get_le(r->p + offsetof(struct cr_hdr_vma, end), 8);
		put_le(r->p + offsetof(struct cr_hdr_vma, end), 8, v + delta);
		for (j = i + 1; j < (int)im->nr && rec_type(&im->r[j]) == CR_HDR_PAGES; j++) {
			const uint32_t a = sizeof(struct cr_hdr_pages);
			const uint32_t rs = sizeof(struct cr_page_run);
			struct rec *pg = &im->r[j];
			uint32_t n = pg->len >= a ?
				     cr_get32(pg->p + offsetof(struct cr_hdr_pages, nr_runs)) : 0;

			/* each run's addr (its nr stays) */
			for (uint32_t k = 0; k < n && a + rs * (k + 1) <= pg->len; k++) {
				uint8_t *ra = pg->p + a + rs * k +
					      offsetof(struct cr_page_run, addr);

				put_le(ra, 8, get_le(ra, 8) + delta);
			}
		}
		return 0;
	}
	case OP_DUP:
		img_insert_rec(im, i + 1, r);
		return 0;
	case OP_SWAP: {
		struct rec t;

		j = img_find(im, op->r2.type, op->r2.nth);
		if (j < 0 || j == i)
			return -1;
		t = im->r[i];
		im->r[i] = im->r[j];
		im->r[j] = t;
		return 0;
	}
	case OP_SPLICE: case OP_REPLACE: {
		const struct img *src;

		if (op->shape2 < 0 || op->shape2 >= (int)NR_SHAPES || !seeds[op->shape2].ok)
			return -1;
		src = &seeds[op->shape2].img;
		j = img_find(src, op->r2.type, op->r2.nth);
		if (j < 0)
			return -1;
		if (op->kind == OP_REPLACE) {
			bool end = is_end_rec(im, i);

			img_remove(im, i);
			img_insert_rec(im, i, &src->r[j]);
			im->has_end = end || im->has_end;
			return 0;
		}
		img_insert_rec(im, i, &src->r[j]);
		return 0;
	}
	case OP_PATH: {
		char *long_path;

		rt = rtype_of(op->r.type);
		if (!rt || rt->path_off < 0)
			return -1;
		if (!op->val) {
			set_path(r, rt, op->path, strlen(op->path));
			return 0;
		}
		long_path = xmalloc(op->val + 1);
		memset(long_path, 'a', op->val);
		for (uint64_t k = 0; k < op->val; k += 64)
			long_path[k] = '/';
		set_path(r, rt, long_path, op->val);
		free(long_path);
		return 0;
	}
	default:
		return -1;
	}
}

static bool recipe_has(const struct recipe *rc, enum op_kind kind)
{
	for (unsigned int i = 0; i < rc->nr; i++)
		if (rc->ops[i].kind == kind)
			return true;
	return false;
}

static bool recipe_notail(const struct recipe *rc)
{
	return recipe_has(rc, OP_NOTAIL);
}

/* Ops of the last recipe_image() that did not apply (their record is absent). */
static unsigned int ops_missed;
static int first_missed;

/* The image of @rc: NULL if its seed is missing. */
static uint8_t *recipe_image(const struct recipe *rc, const struct seed *seeds, size_t *len)
{
	struct img im;
	uint8_t *buf;

	if (rc->shape < 0 || !seeds[rc->shape].ok)
		return NULL;
	img_copy(&im, &seeds[rc->shape].img);
	ops_missed = 0;
	first_missed = -1;
	for (unsigned int i = 0; i < rc->nr; i++) {
		if (!op_apply(&rc->ops[i], &im, seeds))
			continue;
		if (!ops_missed++)
			first_missed = i;
	}
	buf = img_bytes(&im, recipe_notail(rc), len);
	img_free(&im);
	return buf;
}

/* -- recipes as text --------------------------------------------------------- */

static void put_ref(char **p, const struct ref *r)
{
	const struct rtype *rt = rtype_of(r->type);

	if (rt)
		*p += sprintf(*p, "%s.%u", rt->name, r->nth);
	else
		*p += sprintf(*p, "t%u.%u", r->type, r->nth);
}

/* REC.FIELD when the location is a field, else REC+OFF:SIZE */
static void put_loc(char **p, const struct op *op)
{
	const struct rtype *rt = rtype_of(op->r.type);

	put_ref(p, &op->r);
	if (op->data) {
		*p += sprintf(*p, "@%#x:%u", op->off, op->size);
		return;
	}
	if (rt) {
		for (unsigned int i = 0; i < rt->nf; i++)
			if (rt->f[i].off == op->off && rt->f[i].size == op->size) {
				*p += sprintf(*p, ".%s", rt->f[i].name);
				return;
			}
		if (rt->ename && op->off >= rt->size) {
			uint32_t e = (op->off - rt->size) / rt->esize;
			uint32_t eo = (op->off - rt->size) % rt->esize;

			for (unsigned int i = 0; i < rt->nef; i++)
				if (rt->ef[i].off == eo && rt->ef[i].size == op->size) {
					*p += sprintf(*p, ".%s[%u]%s%s", rt->ename, e,
						      rt->ef[i].name[0] ? "." : "", rt->ef[i].name);
					return;
				}
		}
	}
	*p += sprintf(*p, "+%#x:%u", op->off, op->size);
}

static void recipe_str(const struct recipe *rc, char *buf)
{
	char *p = buf;

	p += sprintf(p, "%s:", rc->shape >= 0 ? shapes[rc->shape].name : "?");
	for (unsigned int i = 0; i < rc->nr; i++) {
		const struct op *op = &rc->ops[i];

		p += sprintf(p, "%s %s", i ? ";" : "", op_names[op->kind]);
		if (op_is_mode(op->kind) || op->kind == OP_FIXVMAS || op->kind == OP_FIXCSUM)
			continue;
		*p++ = ' ';
		switch (op->kind) {
		case OP_SET: case OP_XOR: case OP_FILL:
			put_loc(&p, op);
			p += sprintf(p, "=%#llx", (unsigned long long)op->val);
			break;
		case OP_ADD: {
			bool neg = (int64_t)op->val < 0;

			put_loc(&p, op);
			p += sprintf(p, "=%s%#llx", neg ? "-" : "",
				     (unsigned long long)(neg ? -op->val : op->val));
			break;
		}
		case OP_COPY:
			put_loc(&p, op);
			*p++ = '=';
			put_ref(&p, &op->r2);
			break;
		case OP_RESIZE:
			put_ref(&p, &op->r);
			p += sprintf(p, "=%llu", (unsigned long long)op->val);
			break;
		case OP_MOVE:
			put_ref(&p, &op->r);
			p += sprintf(p, "=%#llx", (unsigned long long)op->val);
			break;
		case OP_CUT:
			put_ref(&p, &op->r);
			p += sprintf(p, "%c%#x", op->data ? '@' : '+', op->off);
			break;
		case OP_DELALL:
			put_ref(&p, &op->r);
			p = strrchr(buf, '.');	/* the type only */
			break;
		case OP_SWAP:
			put_ref(&p, &op->r);
			*p++ = ' ';
			put_ref(&p, &op->r2);
			break;
		case OP_SPLICE: case OP_REPLACE:
			p += sprintf(p, "%s:", shapes[op->shape2].name);
			put_ref(&p, &op->r2);
			*p++ = ' ';
			put_ref(&p, &op->r);
			break;
		case OP_PATH:
			put_ref(&p, &op->r);
			if (op->val)
				p += sprintf(p, "=*%llu", (unsigned long long)op->val);
			else
				p += sprintf(p, "=%s", op->path);
			break;
		default:
			put_ref(&p, &op->r);
			break;
		}
	}
	*p = '\0';
}

static const char *skip_sp(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int parse_shape(const char **s)
{
	const char *c = strchr(*s, ':');

	for (unsigned int i = 0; c && i < NR_SHAPES; i++)
		if (strlen(shapes[i].name) == (size_t)(c - *s) &&
		    !strncmp(shapes[i].name, *s, c - *s)) {
			*s = c + 1;
			return i;
		}
	return -1;
}

static int parse_type(const char **s, uint32_t *type)
{
	const char *b = *s, *e = b;
	const struct rtype *rt;

	while ((*e >= 'a' && *e <= 'z') || *e == '_' || (*e >= '0' && *e <= '9' && e > b))
		e++;
	rt = rtype_named(b, e - b);
	if (rt) {
		*type = rt->type;
	} else if (*b == 't' && e > b + 1 && b[1] >= '0' && b[1] <= '9') {
		*type = strtoul(b + 1, NULL, 10);
	} else {
		return -1;
	}
	*s = e;
	return 0;
}

static int parse_ref(const char **s, struct ref *r)
{
	char *e;

	if (parse_type(s, &r->type) || **s != '.')
		return -1;
	r->nth = strtoul(*s + 1, &e, 10);
	if (e == *s + 1)
		return -1;
	*s = e;
	return 0;
}

static int parse_num(const char **s, uint64_t *v)
{
	bool neg = **s == '-';
	char *e;

	*v = strtoull(*s + neg, &e, 0);
	if (e == *s + neg)
		return -1;
	if (neg)
		*v = -*v;
	*s = e;
	return 0;
}

static int parse_loc(const char **s, struct op *op)
{
	const struct rtype *rt;
	const char *b, *e;
	uint64_t v;

	if (parse_ref(s, &op->r))
		return -1;
	if (**s == '+' || **s == '@') {
		op->data = **s == '@';
		(*s)++;
		if (parse_num(s, &v) || **s != ':')
			return -1;
		op->off = v;
		(*s)++;
		if (parse_num(s, &v))
			return -1;
		op->size = v;
		return 0;
	}
	rt = rtype_of(op->r.type);
	if (**s != '.' || !rt)
		return -1;
	b = ++*s;
	e = strchr(b, '=');
	if (!e)
		return -1;
	for (unsigned int i = 0; i < rt->nf; i++)
		if (strlen(rt->f[i].name) == (size_t)(e - b) && !strncmp(rt->f[i].name, b, e - b)) {
			op->off = rt->f[i].off;
			op->size = rt->f[i].size;
			*s = e;
			return 0;
		}
	/* NAME[i] or NAME[i].FIELD */
	if (rt->ename && !strncmp(b, rt->ename, strlen(rt->ename)) && b[strlen(rt->ename)] == '[') {
		const char *f = b + strlen(rt->ename) + 1, *fe;
		unsigned long idx = strtoul(f, (char **)&f, 10);

		if (*f++ != ']')
			return -1;
		if (*f == '.')
			f++;
		fe = e;
		for (unsigned int i = 0; i < rt->nef; i++)
			if (strlen(rt->ef[i].name) == (size_t)(fe - f) &&
			    !strncmp(rt->ef[i].name, f, fe - f)) {
				op->off = rt->size + idx * rt->esize + rt->ef[i].off;
				op->size = rt->ef[i].size;
				*s = e;
				return 0;
			}
	}
	return -1;
}

/* "SHAPE: OP; OP..." into @rc: 0, or -1 with the bad part in @err. */
static int recipe_parse(const char *text, struct recipe *rc, char *err, size_t errlen)
{
	const char *s = skip_sp(text), *start;
	uint64_t v = 0;

	memset(rc, 0, sizeof(*rc));
	rc->shape = parse_shape(&s);
	if (rc->shape < 0) {
		snprintf(err, errlen, "no shape at '%s'", s);
		return -1;
	}
	for (;;) {
		struct op *op = &rc->ops[rc->nr];
		int k, bad = 0;

		s = skip_sp(s);
		if (!*s)
			return 0;
		if (rc->nr == FZ_MAX_OPS) {
			snprintf(err, errlen, "more than %d ops", FZ_MAX_OPS);
			return -1;
		}
		start = s;
		for (k = 0; k < (int)NF(op_names); k++)
			if (!strncmp(s, op_names[k], strlen(op_names[k])) &&
			    (s[strlen(op_names[k])] == ' ' || s[strlen(op_names[k])] == ';' ||
			     !s[strlen(op_names[k])]))
				break;
		if (k == (int)NF(op_names))
			goto bad;
		op->kind = k;
		s = skip_sp(s + strlen(op_names[k]));
		switch (op->kind) {
		case OP_SET: case OP_ADD: case OP_XOR: case OP_FILL:
			bad = parse_loc(&s, op) || *s++ != '=' || parse_num(&s, &op->val);
			break;
		case OP_COPY:
			bad = parse_loc(&s, op) || *s++ != '=' || parse_ref(&s, &op->r2);
			break;
		case OP_RESIZE: case OP_MOVE:
			bad = parse_ref(&s, &op->r) || *s++ != '=' || parse_num(&s, &op->val);
			break;
		case OP_CUT:
			bad = parse_ref(&s, &op->r) || (*s != '+' && *s != '@');
			if (bad)
				break;
			op->data = *s++ == '@';
			bad = parse_num(&s, &v);
			op->off = v;
			break;
		case OP_DELALL:
			bad = parse_type(&s, &op->r.type);
			break;
		case OP_SWAP:
			bad = parse_ref(&s, &op->r);
			s = skip_sp(s);
			bad = bad || parse_ref(&s, &op->r2);
			break;
		case OP_SPLICE: case OP_REPLACE:
			op->shape2 = parse_shape(&s);
			bad = op->shape2 < 0 || parse_ref(&s, &op->r2);
			s = skip_sp(s);
			bad = bad || parse_ref(&s, &op->r);
			break;
		case OP_PATH: {
			size_t n;

			bad = parse_ref(&s, &op->r) || *s++ != '=';
			if (bad)
				break;
			if (*s == '*') {
				s++;
				bad = parse_num(&s, &op->val) || !op->val ||
				      op->val > 2 * CR_PATH_MAX;
				break;
			}
			n = strcspn(s, "; ");
			bad = !n || n >= FZ_PATH;
			if (!bad)
				memcpy(op->path, s, n);
			s += n;
			break;
		}
		case OP_NOTAIL: case OP_FIXVMAS: case OP_FIXCSUM: case OP_STREAM:
		case OP_DEFERRED: case OP_HELD:
			break;
		default:
			bad = parse_ref(&s, &op->r);
			break;
		}
		if (bad)
			goto bad;
		s = skip_sp(s);
		if (*s && *s != ';')
			goto bad;
		if (*s)
			s++;
		rc->nr++;
		continue;
bad:
		snprintf(err, errlen, "bad op at '%.60s'", start);
		return -1;
	}
}

/* -- generating cases -------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	return cr_rand(s);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return n ? cr_rand(s) % n : 0;
}

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x ? x : 1;
}

static const uint64_t interesting[] = {
	0, 1, 2, 3, 7, 8, 0x10, 0x3f, 0x40, 0x41, 0x7f, 0x80, 0xff, 0x100, 0x1ff, 0x200, 0x240,
	0x3ff, 0x400, 0xfff, 0x1000, 0x1001, 0x1008, 0x2000, 0xffff, 0x10000, 0x10001, 0x7fffffff,
	0x80000000, 0xfffffff8, 0xfffffffe, 0xffffffff, 0x100000000ULL, -1ULL, -2ULL, -8ULL,
	-0x1000ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
	/* around TASK_SIZE */
	FZ_TASK_SIZE, FZ_TASK_SIZE - 1, FZ_TASK_SIZE + 1, FZ_TASK_SIZE - FZ_PAGE,
	FZ_TASK_SIZE + FZ_PAGE, FZ_TASK_SIZE - 8, FZ_TASK_SIZE - 32, 0x7fffffffffffULL,
	0x800000000000ULL, 0x7ffffffef000ULL, 0x1000000000000ULL,
	/* the vsyscall page, kernel addresses, non-canonical */
	0xffffffffff600000ULL, 0xffffffffff600001ULL, 0xffffffffff601000ULL,
	0xffff888000000000ULL, 0xffffffff81000000ULL, 0xffffc90000000000ULL,
	0xfffffe0000000000ULL, 0xffff800000000000ULL, 0x0000800000000000ULL,
	/* user addresses, aligned and not */
	0x400000, 0x401000, 0x400001, 0x10000000, 0x7f0000000000ULL, 0x7f0000000fffULL,
	/* lengths and counts */
	CR_RECORD_MAX, CR_RECORD_MAX + 8, CR_RECORD_MAX - 8, CR_PATH_MAX, CR_PATH_MAX + 1,
	CR_PAGES_MAX, CR_PAGES_MAX + 1, 63, 64, 65, 1024, 1025, 65530, 65531, 0x7ffffff8,
	(uint64_t)CR_PAGES_MAX * FZ_PAGE, 1ULL << 40,
	/* personality flags over PER_LINUX */
	0x0040000, 0x0100000, 0x0200000, 0x0400000, 0x0800000, 0x4000000, 0x8000000,
	/* unix sockets: sun_path sizes, SCM_MAX_FD, all flags, a socket file's mode */
	107, 108, 109, 110, CR_MSG_FDS_MAX, CR_MSG_FDS_MAX + 1, CR_SOCK_FLAGS_ALL, 0140755,
};

static const int64_t deltas[] = {
	1, -1, 2, -2, 4, -4, 8, -8, 16, -16, 0x1000, -0x1000, 0x2000, -0x2000, 0x10000, -0x10000,
	0x100000, -0x100000, 1LL << 32, -(1LL << 32),
};

static const uint32_t types_tried[] = {
	CR_HDR_HEAD, CR_HDR_TAIL, CR_HDR_TREE, CR_HDR_END, CR_HDR_TASK, CR_HDR_CPU, CR_HDR_FPU,
	CR_HDR_SIGHAND, CR_HDR_RESTART_BLOCK, CR_HDR_MM, CR_HDR_VMA, CR_HDR_PAGES,
	CR_HDR_FILE, CR_HDR_FDS, CR_HDR_FS, CR_HDR_PIPE, CR_HDR_SOCK, CR_HDR_SOCK_MSG,
	0, 5, 15, 21, 31, 35, 47, CR_HDR_TYPE_MAX, 55, 64, 255, 256, 0x7fffffff, 0x80000000,
	0xffffffff,
};

static const char *const paths_tried[] = {
	"/", "/tmp", "/tmp/crfuzz", "/tmp/crfuzz/data", "/tmp/crfuzz/nothere", "/dev/null",
	"/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/mem", "/dev/kmsg",
	"/dev/tty", "/dev/console", "/proc/self/mem", "/proc/self/exe", "/proc/1/maps",
	"/proc/sys/kernel/ns_last_pid", "/sys/kernel/checkpoint/error",
	"/sys/fs/cgroup/cgroup.procs", "/init", "/tmp/../tmp", "/tmp//crfuzz/./data",
	"/dev/shm", "/proc", "/tmp/crfuzz/link", "//", "/.", "/..", "x", "/dev/ptmx",
	"/proc/self", "/proc/self/status", "/proc/self/fd", "/proc/1", "/sys/kernel",
	"/proc/self/cwd", "/proc/self/root", "/sys/kernel/debug", "/dev/pts",
	"/tmp/crfuzz/sock", "/tmp/crfuzz/fifo",
};

/* A location in record @r of the image: a field, an array element or any byte. */
static void pick_loc(uint64_t *s, const struct rec *r, uint32_t *off, uint32_t *size,
		     bool any)
{
	const struct rtype *rt = rtype_of(rec_type(r));
	uint32_t n = 0;

	if (rt && rt->ename && rt->count_off >= 0 && r->len >= rt->size) {
		n = cr_get32(r->p + rt->count_off);
		if (n > (r->len - rt->size) / rt->esize)
			n = (r->len - rt->size) / rt->esize;
	}
	if (!rt || any) {
		*size = 1U << below(s, 4);
		*off = below(s, r->len > *size ? r->len - *size + 1 : 1);
		return;
	}
	if (n && below(s, 3) == 0) {
		const struct field *f = &rt->ef[below(s, rt->nef)];
		uint32_t e = below(s, 4) == 0 ? n - 1 : below(s, n);

		*off = rt->size + e * rt->esize + f->off;
		*size = f->size;
		return;
	}
	*off = rt->f[below(s, rt->nf)].off;
	*size = 0;
	for (unsigned int i = 0; i < rt->nf; i++)
		if (rt->f[i].off == *off)
			*size = rt->f[i].size;
}

/* A record of @im: a type present first, then one of them. */
static int pick_rec(uint64_t *s, const struct img *im, struct ref *ref)
{
	uint32_t types[64];
	unsigned int nt = 0, k;

	for (unsigned int i = 0; i < im->nr; i++) {
		uint32_t t = rec_type(&im->r[i]);

		for (k = 0; k < nt && types[k] != t; k++)
			;
		if (k == nt && nt < NF(types))
			types[nt++] = t;
	}
	if (!nt)
		return -1;
	ref->type = types[below(s, nt)];
	ref->nth = below(s, img_count(im, ref->type));
	return img_find(im, ref->type, ref->nth);
}

static uint64_t pick_value(uint64_t *s, uint64_t old)
{
	switch (below(s, 8)) {
	case 0:
		return old + deltas[below(s, NF(deltas))];
	case 1:
		return rnd(s);
	case 2:
		return old ^ (1ULL << below(s, 64));
	default:
		return interesting[below(s, NF(interesting))];
	}
}

/* One random op on @im, applied: 0, or -1 if the pick did not apply. */
static int gen_op(uint64_t *s, struct img *im, const struct seed *seeds, int shape,
		  struct op *op)
{
	unsigned int roll = below(s, 100);
	struct rec *r;
	int i;

	memset(op, 0, sizeof(*op));
	if (below(s, 20) == 0 && img_count(im, CR_HDR_PAGES)) {
		/* the page data of a PAGES record: a bit flip, or the image cut there */
		op->r.type = CR_HDR_PAGES;
		op->r.nth = below(s, img_count(im, CR_HDR_PAGES));
		r = &im->r[img_find(im, op->r.type, op->r.nth)];
		if (!r->dlen)
			return -1;
		op->data = true;
		op->off = below(s, r->dlen);
		if (below(s, 4)) {
			op->kind = OP_XOR;
			op->size = 1;
			op->val = 1U << below(s, 8);
		} else {
			op->kind = OP_CUT;
		}
		return op_apply(op, im, seeds);
	}
	i = pick_rec(s, im, &op->r);
	if (i < 0)
		return -1;
	r = &im->r[i];
	if (roll < 36) {		/* a field: an interesting value or a relative one */
		pick_loc(s, r, &op->off, &op->size, false);
		if (!op->size || op->off + op->size > r->len)
			return -1;
		if (op->size > 8) {
			op->kind = OP_FILL;
			static const uint8_t fills[] = { 'A', 0, 0xff, '/' };

			op->val = fills[below(s, NF(fills))];
		} else if (below(s, 6) == 0) {
			op->kind = OP_ADD;
			op->val = deltas[below(s, NF(deltas))];
		} else {
			op->kind = OP_SET;
			op->val = pick_value(s, get_le(r->p + op->off, op->size));
		}
	} else if (roll < 50) {		/* bit flips, in the record or in its page data */
		op->kind = OP_XOR;
		if (r->dlen && rec_type(r) == CR_HDR_PAGES && below(s, 2)) {
			op->data = true;
			op->off = below(s, r->dlen);
			op->size = 1;
		} else {
			pick_loc(s, r, &op->off, &op->size, below(s, 10) < 3);
		}
		if (!op->size || op->off + op->size > (op->data ? r->dlen : r->len))
			return -1;
		op->size = 1;
		op->val = 1U << below(s, 8);
		if (below(s, 4) == 0)
			op->val |= 1U << below(s, 8);
	} else if (roll < 56) {		/* the type: every known and unknown value */
		op->kind = OP_SET;
		op->off = 0;
		op->size = 4;
		op->val = types_tried[below(s, NF(types_tried))];
	} else if (roll < 61) {		/* h.len, the bytes as they are */
		static const int64_t d[] = { -8, 8, -4, 4, -16, 16, 4096, -4096 };
		const struct rtype *rt = rtype_of(rec_type(r));

		op->kind = OP_SET;
		op->off = 4;
		op->size = 4;
		switch (below(s, 4)) {
		case 0:
			op->val = interesting[below(s, NF(interesting))];
			break;
		case 1:
			op->val = rt ? rt->size - 8 * below(s, 2) : 16;
			break;
		default:
			op->val = r->len + d[below(s, NF(d))];
			break;
		}
		op->val &= 0xffffffff;
	} else if (roll < 64) {		/* copy a field of another record of the type */
		unsigned int n = img_count(im, op->r.type);

		if (n < 2)
			return -1;
		op->kind = OP_COPY;
		op->r2.type = op->r.type;
		op->r2.nth = (op->r.nth + 1 + below(s, n - 1)) % n;
		pick_loc(s, r, &op->off, &op->size, false);
		if (!op->size)
			return -1;
	} else if (roll < 68) {		/* the length, with the bytes */
		const struct rtype *rt = rtype_of(rec_type(r));
		uint32_t min = rt ? rt->size : 16;
		uint32_t lens[] = { 8, 16, min - 8, min, min + 8, r->len - 8, r->len + 8,
				    r->len + FZ_PAGE, r->len * 2, r->len + CR_PATH_MAX };

		op->kind = OP_RESIZE;
		op->val = lens[below(s, NF(lens))];
	} else if (roll < 70) {		/* the image ends inside a record or its page data */
		op->kind = OP_CUT;
		if (r->dlen && rec_type(r) == CR_HDR_PAGES && below(s, 2)) {
			op->data = true;
			op->off = below(s, 4) || r->dlen <= 8 ? below(s, r->dlen) :
				  r->dlen - 1 - below(s, 8);
		} else {
			op->off = below(s, 3) ? below(s, r->len) : below(s, 17);
			if (!op->off)
				op->off = 1 + below(s, r->len - 1);
		}
	} else if (roll < 75) {
		op->kind = OP_DEL;
	} else if (roll < 79) {
		op->kind = OP_DUP;
	} else if (roll < 83) {		/* swap with a neighbour or any record */
		int j = below(s, 2) ? i + 1 : (int)below(s, im->nr);

		if (j >= (int)im->nr || j == i)
			return -1;
		op->kind = OP_SWAP;
		op->r2.type = rec_type(&im->r[j]);
		op->r2.nth = 0;
		for (int k = 0; k < j; k++)
			op->r2.nth += rec_type(&im->r[k]) == op->r2.type;
	} else if (roll < 90) {		/* a record of another seed, or of this one */
		const struct img *src;
		int k = below(s, NR_SHAPES);

		if (!seeds[k].ok)
			return -1;
		src = &seeds[k].img;
		op->kind = below(s, 2) ? OP_SPLICE : OP_REPLACE;
		op->shape2 = k;
		if (op->kind == OP_REPLACE || below(s, 2)) {	/* of the same type */
			op->r2.type = op->r.type;
			if (!img_count(src, op->r2.type))
				return -1;
			op->r2.nth = below(s, img_count(src, op->r2.type));
		} else if (pick_rec(s, src, &op->r2) < 0) {
			return -1;
		}
		if (k == shape && op->kind == OP_REPLACE && op->r2.nth == op->r.nth)
			return -1;
	} else if (roll < 95) {		/* the path of a FILE, FS or SOCK record */
		const struct rtype *rt = rtype_of(rec_type(r));

		if (!rt || rt->path_off < 0)
			return -1;
		op->kind = OP_PATH;
		if (below(s, 6) == 0) {
			uint64_t lens[] = { CR_PATH_MAX - 1, CR_PATH_MAX, CR_PATH_MAX + 1, 300 };

			op->val = lens[below(s, NF(lens))];
		} else {
			snprintf(op->path, sizeof(op->path), "%s",
				 paths_tried[below(s, NF(paths_tried))]);
		}
	} else if (roll < 96 && op->r.type == CR_HDR_VMA && r->len >= sizeof(struct cr_hdr_vma)) {
		/* the area elsewhere: next to another, at the edges of user space */
		uint64_t len = get_le(r->p + offsetof(struct cr_hdr_vma, end), 8) -
			       get_le(r->p + offsetof(struct cr_hdr_vma, start), 8);
		uint64_t to[] = { FZ_TASK_SIZE - len, FZ_TASK_SIZE - len - FZ_PAGE, 0x10000, 0x1000,
				  0, 0x400000, FZ_TASK_SIZE, 0x7fff00000000ULL, 0x10000000,
				  FZ_TASK_SIZE - len + FZ_PAGE };
		int k = below(s, im->nr);

		op->kind = OP_MOVE;
		op->val = to[below(s, NF(to))];
		if (below(s, 3) == 0 && rec_type(&im->r[k]) == CR_HDR_VMA) {
			/* right after or before another area */
			op->val = get_le(im->r[k].p + (below(s, 2) ?
						       offsetof(struct cr_hdr_vma, start) :
						       offsetof(struct cr_hdr_vma, end)), 8);
			if (below(s, 2))
				op->val -= len;
		}
	} else if (roll < 97) {
		op->kind = OP_DELALL;
	} else {			/* a tail field or the whole tail as it is */
		op->kind = OP_NOTAIL;
		return 0;
	}
	if (op->size && op->size < 8 && op->kind != OP_ADD)
		op->val &= (1ULL << 8 * op->size) - 1;
	return op_apply(op, im, seeds);
}

static void add_set(struct recipe *rc, const struct ref *r, uint32_t off, uint32_t size,
		    uint64_t val)
{
	struct op *op = &rc->ops[rc->nr];

	if (rc->nr == FZ_MAX_OPS)
		return;
	memset(op, 0, sizeof(*op));
	op->kind = OP_SET;
	op->r = *r;
	op->off = off;
	op->size = size;
	op->val = val;
	rc->nr++;
}

/*
 * Make the op just generated likelier to get past the checks: a new path
 * with the kind, mode and device of what it names; an XSAVE feature
 * bitmap in both places that must agree; a PAGES record's page count
 * that follows a change of one of its runs'.  The ops added are applied.
 */
static void couple(uint64_t *s, struct img *im, const struct seed *seeds, struct recipe *rc)
{
	const struct op *op = &rc->ops[rc->nr - 1];
	unsigned int first = rc->nr;
	const uint32_t xbv = sizeof(struct cr_hdr_fpu) + 512;
	struct stat st;

	if (op->kind == OP_PATH && op->r.type == CR_HDR_FILE && !op->val && below(s, 10) < 7 &&
	    !stat(op->path, &st)) {
		uint32_t kind = S_ISREG(st.st_mode) ? CR_FILE_REG : S_ISCHR(st.st_mode) ?
				CR_FILE_CHR : S_ISDIR(st.st_mode) ? CR_FILE_DIR : 0;
		struct ref r = op->r;

		if (kind)
			add_set(rc, &r, offsetof(struct cr_hdr_file, kind), 4, kind);
		add_set(rc, &r, offsetof(struct cr_hdr_file, mode), 4, st.st_mode);
		add_set(rc, &r, offsetof(struct cr_hdr_file, rdev), 4, (uint32_t)st.st_rdev);
	} else if (op->kind == OP_PATH && op->r.type == CR_HDR_SOCK && below(s, 10) < 7) {
		/* a socket bound to that path, with a socket file's mode */
		int i = img_find(im, op->r.type, op->r.nth);
		uint32_t flags = i >= 0 && im->r[i].len >= sizeof(struct cr_hdr_sock) ?
				 cr_get32(im->r[i].p + offsetof(struct cr_hdr_sock, flags)) : 0;

		flags = (flags | CR_SOCK_BOUND) & ~(CR_SOCK_GHOST | CR_SOCK_EMBRYO | CR_SOCK_RESET);
		add_set(rc, &op->r, offsetof(struct cr_hdr_sock, flags), 4, flags);
		add_set(rc, &op->r, offsetof(struct cr_hdr_sock, mode), 4, S_IFSOCK | 0755);
	} else if (op->kind == OP_SET && below(s, 10) < 6 &&
		   ((op->r.type == CR_HDR_TREE && op->off == sizeof(struct cr_hdr_tree)) ||
		    (op->r.type == CR_HDR_TASK && op->off == offsetof(struct cr_hdr_task, pid)))) {
		/* another root pid, where all four fields agree: a restored child */
		static const uint32_t pids[] = { 2, 3, 100, 4096, 32767, 32768, 4194303, 4194304 };
		const struct ref tree = { CR_HDR_TREE, 0 }, task = { CR_HDR_TASK, 0 };
		uint32_t pid = pids[below(s, NF(pids))];
		char buf[32];

		if (below(s, 4) == 0 &&
		    cr_read_str("/proc/sys/kernel/pid_max", buf, sizeof(buf)) > 0)
			pid = strtoul(buf, NULL, 10) - below(s, 2);
		add_set(rc, &tree, sizeof(struct cr_hdr_tree), 4, pid);
		add_set(rc, &tree, sizeof(struct cr_hdr_tree) + 4, 4, pid);
		add_set(rc, &task, offsetof(struct cr_hdr_task, pid), 4, pid);
		add_set(rc, &task, offsetof(struct cr_hdr_task, tgid), 4, pid);
	} else if (op->kind >= OP_DEL && op->kind <= OP_REPLACE && below(s, 10) < 6 &&
		   (op->r.type == CR_HDR_VMA || op->r.type == CR_HDR_PAGES ||
		    op->r2.type == CR_HDR_VMA || op->r2.type == CR_HDR_PAGES) &&
		   rc->nr < FZ_MAX_OPS) {
		/* areas added, removed or moved, their numbers right */
		memset(&rc->ops[rc->nr], 0, sizeof(rc->ops[0]));
		rc->ops[rc->nr++].kind = OP_FIXVMAS;
	} else if (op->data && op->kind == OP_XOR && below(s, 4) == 0 && rc->nr < FZ_MAX_OPS) {
		/* page data changed and their checksums right: restored as they are */
		memset(&rc->ops[rc->nr], 0, sizeof(rc->ops[0]));
		rc->ops[rc->nr++].kind = OP_FIXCSUM;
	} else if (op->kind == OP_SET && op->r.type == CR_HDR_FPU && below(s, 2)) {
		if (op->off == offsetof(struct cr_hdr_fpu, xfeatures))
			add_set(rc, &op->r, xbv, 8, op->val);
		else if (op->off == xbv)
			add_set(rc, &op->r, offsetof(struct cr_hdr_fpu, xfeatures), 8, op->val);
	} else if (op->kind == OP_ADD && !op->data && op->r.type == CR_HDR_PAGES && op->size == 8 &&
		   op->off >= sizeof(struct cr_hdr_pages) &&
		   (op->off - sizeof(struct cr_hdr_pages)) % sizeof(struct cr_page_run) ==
		   offsetof(struct cr_page_run, nr) && below(s, 2) && rc->nr < FZ_MAX_OPS) {
		/* a run longer or shorter, the record's page count with it: the runs add up */
		struct op *add = &rc->ops[rc->nr++];

		memset(add, 0, sizeof(*add));
		add->kind = OP_ADD;
		add->r = op->r;
		add->off = offsetof(struct cr_hdr_pages, nr);
		add->size = 4;
		add->val = op->val;
	}
	for (unsigned int i = first; i < rc->nr; i++)
		op_apply(&rc->ops[i], im, seeds);
}

/* Case @n of the round of @seed: the same recipe for the same seeds. */
static void gen_case(uint64_t seed, unsigned int n, const struct seed *seeds, struct recipe *rc)
{
	uint64_t s = splitmix(seed * 0x100000001b3ULL + n);
	unsigned int nops, tries = 0, ok = 0, how;
	struct img im;

	memset(rc, 0, sizeof(*rc));
	for (unsigned int i = 0; i < NR_SHAPES; i++)
		ok += seeds[i].ok;
	if (!ok) {
		rc->shape = -1;
		return;
	}
	do
		rc->shape = below(&s, NR_SHAPES);
	while (!seeds[rc->shape].ok);
	img_copy(&im, &seeds[rc->shape].img);
	nops = below(&s, 100);
	nops = nops < 50 ? 1 : nops < 75 ? 2 : 3 + below(&s, 2);
	while (rc->nr < nops && tries++ < 100) {
		if (gen_op(&s, &im, seeds, rc->shape, &rc->ops[rc->nr]))
			continue;
		rc->nr++;
		couple(&s, &im, seeds, rc);
	}
	/* a tail or END record edit is kept only as it is */
	for (unsigned int i = 0; i < rc->nr; i++)
		if ((rc->ops[i].r.type == CR_HDR_TAIL || rc->ops[i].r.type == CR_HDR_END) &&
		    rc->ops[i].kind <= OP_COPY &&
		    rc->ops[i].off >= sizeof(struct cr_hdr) && rc->nr < FZ_MAX_OPS &&
		    !recipe_notail(rc)) {
			memset(&rc->ops[rc->nr], 0, sizeof(rc->ops[0]));
			rc->ops[rc->nr++].kind = OP_NOTAIL;
			break;
		}
	/* one case in 8 from a pipe: the page data read as they come */
	if (below(&s, 8) == 0 && rc->nr && rc->nr < FZ_MAX_OPS) {
		memset(&rc->ops[rc->nr], 0, sizeof(rc->ops[0]));
		rc->ops[rc->nr++].kind = OP_STREAM;
	}
	/*
	 * what is restored is checkpointed (poke()): one case in 4 deferred,
	 * one in 4 into a held checkpoint that the round trip restarts
	 */
	how = below(&s, 4);
	if (how < 2 && rc->nr && rc->nr < FZ_MAX_OPS) {
		memset(&rc->ops[rc->nr], 0, sizeof(rc->ops[0]));
		rc->ops[rc->nr++].kind = how ? OP_HELD : OP_DEFERRED;
	}
	img_free(&im);
}

/* -- running a case ---------------------------------------------------------- */

enum verdict {
	V_REFUSED,	/* a documented errno and a reason: fine */
	V_RESTORED,	/* restart() did not come back: fine */
	V_KILLED,	/* restored, then killed past the point of no return: fine */
	V_DATA_KILLED,	/* bad page data, killed past the point of no return: fine */
	V_ERRNO,	/* kept: an errno syscalls.rst does not document */
	V_NOREASON,	/* kept: no reason */
	V_HANG,		/* kept: restart() did not return in time */
	V_DIED,		/* kept: the caller did not survive its failed restart() */
	V_REPORT,	/* kept: the kernel logged a report */
	V_ROUNDTRIP,	/* kept: the checkpoint of what was restored does not restart */
	V_UNCHECKED,	/* kept: bad page data, restored and not killed */
	V_LEFT,		/* kept: killed past the point of no return, tasks left behind */
	V_SETUP,	/* the fuzzer could not run the case */
	V_NR
};

static const char *const verdict_names[V_NR] = {
	[V_REFUSED] = "refused", [V_RESTORED] = "restored",
	[V_KILLED] = "killed after the point of no return",
	[V_DATA_KILLED] = "killed for its page data",
	[V_ERRNO] = "undocumented errno", [V_NOREASON] = "no reason", [V_HANG] = "hang",
	[V_DIED] = "caller died", [V_REPORT] = "kernel report",
	[V_ROUNDTRIP] = "its checkpoint does not restart",
	[V_UNCHECKED] = "restored from bad page data",
	[V_LEFT] = "tasks left after the kill", [V_SETUP] = "setup error",
};

static bool keep_kills;	/* -K: a kill past the point of no return is kept too */

static bool kept(enum verdict v)
{
	return (v >= V_ERRNO && v != V_SETUP) || (v == V_KILLED && keep_kills);
}

struct result {
	enum verdict v;
	int err;
	char reason[FZ_REASON];
	char report[FZ_REASON];
	int ckpt;		/* restored: checkpoint() of it, 0 or -errno */
	double secs;
};

struct fz {
	struct seed seeds[NR_SHAPES];
	int imgfd;
	int ckptfd;		/* checkpoints of restored processes */
	bool roundtrip;		/* restart those checkpoints too */
	bool in_roundtrip;
	int ckpt_how;		/* how poke() checkpoints: 0, OP_DEFERRED, OP_HELD */
	long held;		/* OP_HELD: the crid poke() took, until roundtrip() */
	long restart_crid;	/* run_image(): restart from this crid, not an image */
	unsigned long drop_failed;	/* held checkpoints that could not be dropped */
	int kmsg;
	unsigned int cg_seq;
	char cg[128];		/* the cgroup of the cases, while it empties */
	int cgfd;
	int timeout;
	int verbose;
	double min_secs;	/* to minimise one kept case */
	double min_left;	/* to minimise all of them */
	unsigned long runs;
	struct result seed_res[NR_SHAPES];	/* of the seeds as they are */
};

/* errno names for the report */
static const char *errname(int e)
{
	static char buf[24];
	static const struct { int e; const char *n; } names[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" }, { EINTR, "EINTR" },
		{ EIO, "EIO" }, { ENXIO, "ENXIO" }, { E2BIG, "E2BIG" }, { ENOEXEC, "ENOEXEC" },
		{ EBADF, "EBADF" }, { ECHILD, "ECHILD" }, { EAGAIN, "EAGAIN" },
		{ ENOMEM, "ENOMEM" }, { EACCES, "EACCES" }, { EFAULT, "EFAULT" },
		{ EBUSY, "EBUSY" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
		{ ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" }, { EINVAL, "EINVAL" },
		{ ENFILE, "ENFILE" }, { EMFILE, "EMFILE" }, { ETXTBSY, "ETXTBSY" },
		{ EFBIG, "EFBIG" }, { ENOSPC, "ENOSPC" }, { ESPIPE, "ESPIPE" }, { EROFS, "EROFS" },
		{ ERANGE, "ERANGE" }, { ENAMETOOLONG, "ENAMETOOLONG" }, { ENOSYS, "ENOSYS" },
		{ ELOOP, "ELOOP" }, { ENODATA, "ENODATA" }, { EPROTO, "EPROTO" },
		{ EBADMSG, "EBADMSG" }, { EOVERFLOW, "EOVERFLOW" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		{ ESTALE, "ESTALE" }, { EDOM, "EDOM" }, { EADDRINUSE, "EADDRINUSE" },
		{ ETOOMANYREFS, "ETOOMANYREFS" }, { ECONNREFUSED, "ECONNREFUSED" },
		{ ECONNRESET, "ECONNRESET" }, { EPIPE, "EPIPE" }, { ENOTCONN, "ENOTCONN" },
		{ EISCONN, "EISCONN" }, { EMSGSIZE, "EMSGSIZE" }, { ENOBUFS, "ENOBUFS" },
		{ EADDRNOTAVAIL, "EADDRNOTAVAIL" }, { EPROTOTYPE, "EPROTOTYPE" },
		{ ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT" }, { EDESTADDRREQ, "EDESTADDRREQ" },
	};

	for (unsigned int i = 0; i < NF(names); i++)
		if (names[i].e == e)
			return names[i].n;
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

/*
 * The errors of restart() for an image (syscalls.rst, "ERRORS"): the
 * flags, crid, fd, permission and caller are right here, so EINVAL and
 * EBADF are not among them.  "EACCES, ESTALE, ...: a file of the image
 * cannot be reopened as it was" stands for the errors of open(2), of
 * the lookup of the working directory and of lseek(2) when the reason
 * says that is what failed, and "a socket cannot be bound to its path"
 * for those of bind(2), of looking up and removing a stale socket file
 * and of giving the new one its mode.
 */
static int undocumented = -1;	/* -U: one more errno not to accept (tests the fuzzer) */

static bool documented(int err, const char *reason)
{
	static const int doc[] = {
		ENOENT, EPERM, ENOEXEC, EPROTO, EBADMSG, ENODATA, EOPNOTSUPP, EMFILE, EACCES,
		ESTALE, EINTR, ENOMEM, ENOSPC, EADDRINUSE, ETOOMANYREFS,
	};
	static const struct {
		const char *what;
		int errs[16];
	} files[] = {
		{ "cannot reopen", { ENOTDIR, EISDIR, ELOOP, ENAMETOOLONG, ENXIO, ENODEV, EROFS,
				     ETXTBSY, EAGAIN, EINVAL, EOVERFLOW, EFBIG, EBUSY } },
		{ "working directory", { ENOTDIR, ELOOP, ENAMETOOLONG } },
		{ "cannot seek", { EINVAL, EOVERFLOW, ENXIO, ESPIPE } },
		/* a socket's path: cr_sock_bind(), cr_unlink_stale(), cr_sock_chmod() */
		{ "cannot bind a socket to /", { ENOTDIR, ELOOP, ENAMETOOLONG, EROFS } },
		{ "cannot look /", { ENOTDIR, ELOOP, ENAMETOOLONG } },
		{ "stale socket file", { EROFS, EBUSY, EISDIR } },
		{ "cannot give /", { EROFS } },
		/* the image's namespaces against the caller's: documented as EINVAL */
		{ "namespace of its own", { EINVAL } },
		/* a restored socket reached from outside, or its name taken meanwhile */
		{ "from outside while it was restored", { EBUSY } },
		{ "was taken while it was restored", { EBUSY } },
	};

	if (err == undocumented)
		return false;
	for (unsigned int i = 0; i < NF(doc); i++)
		if (err == doc[i])
			return true;
	for (unsigned int i = 0; i < NF(files); i++) {
		if (!strstr(reason, files[i].what))
			continue;
		for (unsigned int j = 0; j < NF(files[i].errs) && files[i].errs[j]; j++)
			if (err == files[i].errs[j])
				return true;
	}
	return false;
}

/* What the kernel logs when something is wrong with it (not a user fault). */
static const char *const kreports[] = {
	"BUG:", "WARNING:", "KASAN", "Oops", "general protection", "kmemleak", "lockdep",
	"INFO: task", "refcount_t", "UBSAN", "Call Trace", "cut here", "list_add corruption",
	"list_del corruption", "sleeping function called", "circular locking",
	"inconsistent lock state", "suspicious RCU", "stall", "soft lockup", "Kernel panic",
	"kernel BUG", "DEBUG_LOCKS_WARN_ON", "bad unlock balance", "held lock freed",
	"Unable to handle kernel",
};

static const char *kreport_of(const char *msg)
{
	/* a user fault of a restored process: "traps: x[1] general protection ..." */
	if (!strncmp(msg, "traps: ", 7) || strstr(msg, "segfault at"))
		return NULL;
	/* kmemleak's own "Kernel memory leak detector ..." lines are not leaks */
	if (!strncmp(msg, "kmemleak: ", 10) && !strstr(msg, "leak"))
		return NULL;
	for (unsigned int i = 0; i < NF(kreports); i++)
		if (strstr(msg, kreports[i]))
			return kreports[i];
	return NULL;
}

#define PONR	"restoring failed after the point of no return: "

/* Read what the kernel logged since last time: reports and restart's kills. */
static void kmsg_scan(struct fz *fz, struct result *res, char *ponr, size_t ponr_len)
{
	char buf[2048];
	ssize_t n;

	if (fz->kmsg < 0)
		return;
	for (;;) {
		char *msg, *nl;
		const char *k;

		n = read(fz->kmsg, buf, sizeof(buf) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records were overwritten */
		if (n <= 0)
			break;
		buf[n] = '\0';
		msg = strchr(buf, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		k = kreport_of(msg);
		if (k && res && !res->report[0])
			snprintf(res->report, sizeof(res->report), "%s", msg);
		if (ponr && strstr(msg, PONR))
			snprintf(ponr, ponr_len, "%s", strstr(msg, PONR) + strlen(PONR));
	}
}

/* Wait for @pid (a child) for up to @ms: 0 with *@status, or -1. */
static int wait_child(pid_t pid, int pidfd, int ms, int *status)
{
	struct pollfd p = { pidfd, POLLIN, 0 };

	if (pidfd >= 0)
		poll(&p, 1, ms);
	for (int i = 0; i <= ms; i += 10) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		cr_msleep(10);
	}
	return -1;
}

/*
 * The cases run in one cgroup of the run, killed (cgroup.kill) after each
 * case; a cgroup that does not empty is left behind for a new one.
 */
static int case_cgroup(struct fz *fz)
{
	if (fz->cgfd >= 0)
		return fz->cgfd;
	snprintf(fz->cg, sizeof(fz->cg), "%s-%d-%u", FZ_CG, getpid(), fz->cg_seq++);
	if (mkdir(fz->cg, 0755) && errno != EEXIST)
		return -1;
	fz->cgfd = open(fz->cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fz->cgfd;
}

static void case_cgroup_leave(struct fz *fz)
{
	if (fz->cgfd >= 0)
		close(fz->cgfd);
	fz->cgfd = -1;
}

/* Still populated after the case is reaped: kill, wait a little, or leave it. */
static void case_cgroup_check(struct fz *fz)
{
	char file[160], buf[256];

	snprintf(file, sizeof(file), "%s/cgroup.events", fz->cg);
	for (int i = 0; i < 100; i++) {
		if (cr_read_str(file, buf, sizeof(buf)) > 0 && strstr(buf, "populated 0"))
			return;
		cr_msleep(10);
	}
	case_cgroup_leave(fz);
}

static void case_cgroup_remove(struct fz *fz)
{
	if (fz->cgfd >= 0)
		cr_cgroup_remove(fz->cg);
	case_cgroup_leave(fz);
}

/* A held checkpoint of @pid, kept in @fz for roundtrip(): 0 or -errno. */
static int checkpoint_held(struct fz *fz, pid_t pid)
{
	long crid = sys_checkpoint(pid, -1, CHECKPOINT_DEFERRED);

	if (crid <= 0)
		return crid ? -errno : -EPROTO;
	fz->held = crid;
	return 0;
}

/* Drop the held checkpoint of the case, if any: a failure is counted. */
static void drop_held(struct fz *fz)
{
	if (fz->held > 0 && sys_checkpoint(fz->held, -1, CHECKPOINT_CRID_DROP) < 0) {
		printf("# the held checkpoint %ld cannot be dropped: %s\n", fz->held,
		       errname(errno));
		fz->drop_failed++;
	}
	fz->held = 0;
}

/*
 * A deferred checkpoint of @pid, written to @fd out of the held copy while
 * @pid runs on, then dropped: 0 or -errno.
 */
static int checkpoint_deferred(struct fz *fz, pid_t pid, int fd)
{
	int err = checkpoint_held(fz, pid);

	if (!err && sys_checkpoint(fz->held, fd, CHECKPOINT_CRID_WRITE) < 0)
		err = -errno;
	drop_held(fz);
	return err;
}

/*
 * Use what was restored the way tools do: read its /proc files, checkpoint
 * it, send it a signal (a handler runs on its stack or sigaltstack, with
 * its XSAVE state).  Only a kernel report counts.
 */
static void poke(struct fz *fz, pid_t pid, struct result *res)
{
	static const char *const files[] = {
		"cmdline", "environ", "auxv", "maps", "smaps", "stat", "status", "statm",
		"syscall", "personality", "wchan", "fdinfo/0", "fdinfo/3", "fdinfo/4", "mountinfo",
	};
	static const char *const links[] = { "exe", "cwd", "fd/0", "fd/3", "fd/5", "fd/7" };
	char path[64], buf[4096];
	int fd;

	for (unsigned int i = 0; i < NF(files); i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, files[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		for (int n = 0; fd >= 0 && n < 64 && read(fd, buf, sizeof(buf)) > 0; n++)
			;
		if (fd >= 0)
			close(fd);
	}
	for (unsigned int i = 0; i < NF(links); i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, links[i]);
		if (readlink(path, buf, sizeof(buf)) < 0)
			continue;
	}
	res->ckpt = 0;
	if (fz->in_roundtrip)
		return;
	if (ftruncate(fz->ckptfd, 0) || lseek(fz->ckptfd, 0, SEEK_SET))
		res->ckpt = -errno;
	else if (fz->ckpt_how == OP_DEFERRED)
		res->ckpt = checkpoint_deferred(fz, pid, fz->ckptfd);
	else if (fz->ckpt_how == OP_HELD)
		res->ckpt = checkpoint_held(fz, pid);
	else if (sys_checkpoint(pid, fz->ckptfd, 0))
		res->ckpt = -errno;
	kill(pid, SIGUSR1);
	cr_msleep(5);
}

/* Is the cgroup of the case empty (within 5 s), without a cgroup.kill? */
static bool case_cgroup_empties(const char *cg)
{
	char file[160], buf[256];

	snprintf(file, sizeof(file), "%s/cgroup.events", cg);
	for (int i = 0; i < 500; i++) {
		if (cr_read_str(file, buf, sizeof(buf)) > 0 && strstr(buf, "populated 0"))
			return true;
		cr_msleep(10);
	}
	return false;
}

/* Write the @len bytes at @img into a pipe from a process of its own: the read end, or -1. */
static int feed_pipe(const uint8_t *img, size_t len, pid_t *writer)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	fflush(NULL);
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
		while (off < len && (n = write(p[1], img + off, len - off)) > 0)
			off += n;
		_exit(0);
	}
	/* the restarter must not hold the write end: it sees the end of the image */
	close(p[1]);
	return p[0];
}

/*
 * restart() @len bytes of @img in a fresh container, from a file or
 * (@stream) a pipe: the verdict in @res.
 */
static void run_image(struct fz *fz, const uint8_t *img, size_t len, bool stream,
		      struct result *res)
{
	char cg[128], file[160], msg[FZ_REASON + 32], ponr[FZ_REASON] = "";
	int rep[2], cgfd, pidfd, status, n, imgfd = fz->imgfd;
	bool reaped = false, bad = img && data_bad(img, len);
	double t0 = cr_now();
	pid_t pid, writer = -1;
	struct pollfd p;

	memset(res, 0, sizeof(*res));
	fz->runs++;
	kmsg_scan(fz, NULL, NULL, 0);
	if (stream) {
		imgfd = feed_pipe(img, len, &writer);
		if (imgfd < 0) {
			res->v = V_SETUP;
			snprintf(res->reason, sizeof(res->reason), "the image's pipe: %m");
			return;
		}
	} else if (!fz->restart_crid &&
		   (pwrite(fz->imgfd, img, len, 0) != (ssize_t)len || ftruncate(fz->imgfd, len) ||
		    lseek(fz->imgfd, 0, SEEK_SET))) {
		res->v = V_SETUP;
		snprintf(res->reason, sizeof(res->reason), "writing the image: %m");
		return;
	}
	cgfd = case_cgroup(fz);
	if (cgfd < 0) {
		res->v = V_SETUP;
		snprintf(res->reason, sizeof(res->reason), "cgroup %s: %m", fz->cg);
		goto out_writer;
	}
	snprintf(cg, sizeof(cg), "%s", fz->cg);
	if (pipe2(rep, O_CLOEXEC)) {
		res->v = V_SETUP;
		snprintf(res->reason, sizeof(res->reason), "cgroup or pipe: %m");
		goto out_writer;
	}
	pid = cr_clone(cgfd);
	if (pid == 0) {
		long r = fz->restart_crid ? sys_restart(fz->restart_crid, -1, 0) :
			 sys_restart(RESTART_CRID_FD, imgfd, 0);
		int err = errno;
		char why[FZ_REASON];

		if (r > 0) {	/* restored as our child: we stay its init */
			n = snprintf(msg, sizeof(msg), "C %ld", r);
			if (write(rep[1], msg, n) < 0)
				_exit(126);
			/* and say how it ends, if it does */
			while (waitpid(r, &status, 0) < 0 && errno == EINTR)
				;
			n = snprintf(msg, sizeof(msg), " X %d", status);
			if (write(rep[1], msg, n) < 0)
				_exit(126);
			for (;;)
				pause();
		}
		n = snprintf(msg, sizeof(msg), "E %d %s", err,
			     cr_reason(why, sizeof(why)) ? why : "");
		if (write(rep[1], msg, n) < 0)
			_exit(126);
		_exit(125);
	}
	close(rep[1]);
	if (stream)
		close(imgfd);
	if (pid < 0) {
		close(rep[0]);
		res->v = V_SETUP;
		snprintf(res->reason, sizeof(res->reason), "clone3: %m");
		goto out_writer;
	}
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	p = (struct pollfd){ rep[0], POLLIN, 0 };
	n = poll(&p, 1, fz->timeout * 1000);
	if (n == 1) {
		n = read(rep[0], msg, sizeof(msg) - 1);
		msg[n > 0 ? n : 0] = '\0';
		if (n <= 0 && bad) {
			/* the caller became what it restored: it must be killed */
			reaped = !wait_child(pid, pidfd, fz->timeout * 1000, &status);
			if (reaped && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
				res->v = V_DATA_KILLED;
				snprintf(res->reason, sizeof(res->reason), "killed");
			} else if (reaped) {
				res->v = V_UNCHECKED;
				snprintf(res->reason, sizeof(res->reason),
					 "restored from bad page data (not matching their checksum, cut short, or no good END record after them), then ended with status %#x",
					 status);
			} else {
				res->v = V_UNCHECKED;
				snprintf(res->reason, sizeof(res->reason),
					 "restored from bad page data (not matching their checksum, cut short, or no good END record after them), still running after %d s",
					 fz->timeout);
			}
		} else if (n <= 0) {
			res->v = V_RESTORED;
			poke(fz, pid, res);
			/* killed past the point of no return by now? */
			if (waitpid(pid, &status, WNOHANG) == pid) {
				reaped = true;
				if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
					res->v = V_KILLED;
			}
		} else if (msg[0] == 'C' && bad) {
			/* restored as our child's child: it must be killed, or not returned */
			struct pollfd q = { rep[0], POLLIN, 0 };
			char *x;

			if (!strstr(msg, " X ") && poll(&q, 1, fz->timeout * 1000) == 1) {
				ssize_t m = read(rep[0], msg + n, sizeof(msg) - 1 - n);

				msg[n + (m > 0 ? m : 0)] = '\0';
			}
			x = strstr(msg, " X ");
			status = x ? atoi(x + 3) : 0;
			if (x && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
				res->v = V_DATA_KILLED;
				snprintf(res->reason, sizeof(res->reason), "restored as pid %d, killed",
					 atoi(msg + 2));
			} else {
				res->v = V_UNCHECKED;
				snprintf(res->reason, sizeof(res->reason),
					 "restart() gave pid %d, restored from bad page data (not matching their checksum, cut short, or no good END record after them)%s",
					 atoi(msg + 2), x ? ", and it ended otherwise" : "");
			}
		} else if (msg[0] == 'C') {
			res->v = V_RESTORED;
			snprintf(res->reason, sizeof(res->reason), "restored as pid %d",
				 atoi(msg + 2));
		} else {
			char *why = strchr(msg + 2, ' ');

			res->err = atoi(msg + 2);
			snprintf(res->reason, sizeof(res->reason), "%s", why ? why + 1 : "");
			if (!res->reason[0])
				res->v = V_NOREASON;
			else if (!documented(res->err, res->reason))
				res->v = V_ERRNO;
			else
				res->v = V_REFUSED;
			reaped = !wait_child(pid, pidfd, 5000, &status);
			if (!reaped || !WIFEXITED(status) || WEXITSTATUS(status) != 125) {
				res->v = V_DIED;
				snprintf(res->reason + strlen(res->reason),
					 sizeof(res->reason) - strlen(res->reason),
					 " [the caller then died]");
			}
		}
	} else {
		res->v = V_HANG;
		snprintf(res->reason, sizeof(res->reason),
			 "restart() did not return within %d s", fz->timeout);
	}
	close(rep[0]);
	/* the caller was killed past the point of no return: the whole container with it */
	if ((res->v == V_KILLED || res->v == V_DATA_KILLED) && reaped &&
	    !case_cgroup_empties(cg)) {
		snprintf(res->reason + strlen(res->reason),
			 sizeof(res->reason) - strlen(res->reason),
			 " [tasks left in the cgroup after restart() killed its caller]");
		res->v = V_LEFT;
	}
	snprintf(file, sizeof(file), "%s/cgroup.kill", cg);
	cr_write_str(file, "1");
	if (!reaped && wait_child(pid, pidfd, 5000, &status)) {
		/* unkillable: leave it and its cgroup */
		size_t n = strlen(res->reason);

		snprintf(res->reason + n, sizeof(res->reason) - n,
			 " [the container could not be killed]");
		if (res->v != V_REPORT)
			res->v = V_HANG;
		case_cgroup_leave(fz);
	} else {
		case_cgroup_check(fz);
	}
	if (pidfd >= 0)
		close(pidfd);
	kmsg_scan(fz, res, ponr, sizeof(ponr));
	if ((res->v == V_RESTORED || res->v == V_KILLED || res->v == V_DATA_KILLED ||
	     res->v == V_LEFT) && ponr[0]) {
		if (res->v == V_RESTORED)
			res->v = V_KILLED;
		if (res->v == V_LEFT)
			snprintf(res->reason, sizeof(res->reason),
				 "%s [tasks left in the cgroup after restart() killed its caller]",
				 ponr);
		else
			snprintf(res->reason, sizeof(res->reason), "%s", ponr);
	}
	if (res->report[0])
		res->v = V_REPORT;
	res->secs = cr_now() - t0;
out_writer:
	if (writer > 0) {
		kill(writer, SIGKILL);
		waitpid(writer, NULL, 0);
	}
}

/*
 * The image that checkpoint() made of a restored process must restart:
 * else restart() accepted something checkpoint() cannot write back, or
 * checkpoint() wrote what restart() refuses.
 */
static void roundtrip(struct fz *fz, struct result *res)
{
	off_t len = lseek(fz->ckptfd, 0, SEEK_END);
	struct result r;
	uint8_t *img;

	if (fz->held > 0) {
		/* restart from memory: the held checkpoint is the image */
		fz->in_roundtrip = true;
		fz->restart_crid = fz->held;
		run_image(fz, NULL, 0, false, &r);
		fz->restart_crid = 0;
		fz->in_roundtrip = false;
		drop_held(fz);
		goto verdict;
	}
	if (len <= 0)
		return;
	img = xmalloc(len);
	if (pread(fz->ckptfd, img, len, 0) != len) {
		free(img);
		return;
	}
	fz->in_roundtrip = true;
	run_image(fz, img, len, false, &r);
	fz->in_roundtrip = false;
	free(img);
verdict:
	if (r.v == V_RESTORED)
		return;
	res->v = r.v == V_REPORT ? V_REPORT : V_ROUNDTRIP;
	res->err = r.err;
	snprintf(res->reason, sizeof(res->reason), "restarting its checkpoint: %s%s%s: %.400s",
		 verdict_names[r.v], r.err ? ", " : "", r.err ? errname(r.err) : "", r.reason);
	snprintf(res->report, sizeof(res->report), "%s", r.report);
}

static void run_recipe(struct fz *fz, const struct recipe *rc, struct result *res)
{
	size_t len;
	uint8_t *img = recipe_image(rc, fz->seeds, &len);

	if (!img) {
		memset(res, 0, sizeof(*res));
		res->v = V_SETUP;
		snprintf(res->reason, sizeof(res->reason), "no seed of shape %s",
			 rc->shape >= 0 ? shapes[rc->shape].name : "?");
		return;
	}
	fz->ckpt_how = recipe_has(rc, OP_HELD) ? OP_HELD :
		       recipe_has(rc, OP_DEFERRED) ? OP_DEFERRED : 0;
	run_image(fz, img, len, recipe_has(rc, OP_STREAM), res);
	free(img);
	fz->ckpt_how = 0;
	if (fz->roundtrip && res->v == V_RESTORED && !res->ckpt)
		roundtrip(fz, res);
	drop_held(fz);
}

/* -- kept cases -------------------------------------------------------------- */

static void shape_of_reason(const struct result *res, char *out, size_t len);

/* Kept the same way: the verdict, the errno and the reason but for its numbers. */
static bool same(const struct result *a, const struct result *b)
{
	char ka[FZ_REASON + 32], kb[FZ_REASON + 32];

	if (a->v != b->v)
		return false;
	if (a->v == V_ERRNO || a->v == V_NOREASON || a->v == V_DIED || a->v == V_ROUNDTRIP ||
	    a->v == V_KILLED || a->v == V_DATA_KILLED || a->v == V_UNCHECKED || a->v == V_LEFT) {
		shape_of_reason(a, ka, sizeof(ka));
		shape_of_reason(b, kb, sizeof(kb));
		return a->err == b->err && !strcmp(ka, kb);
	}
	if (a->v == V_REPORT)
		return !strcmp(kreport_of(a->report) ?: "", kreport_of(b->report) ?: "");
	return true;
}

static bool recipe_drop(struct recipe *rc, unsigned int i)
{
	if (i >= rc->nr)
		return false;
	memmove(rc->ops + i, rc->ops + i + 1, (rc->nr - i - 1) * sizeof(rc->ops[0]));
	rc->nr--;
	return true;
}

/*
 * Greedy, as long as the case is kept the same way: drop ops and single
 * out the bits of a flip (@rc, the recipe to keep as a regression); then
 * drop records of the mutated image (@small, for a small image).  @want
 * becomes the result of @rc.
 */
static bool minimise(struct fz *fz, struct recipe *rc, struct recipe *small,
		     struct result *want)
{
	double t0 = cr_now();
	double end = t0 + (fz->min_secs < fz->min_left ? fz->min_secs : fz->min_left);
	bool ok = true;
	struct result best;
	struct recipe t;
	struct result r;
	struct img im;
	int n;

	*small = *rc;
	run_recipe(fz, rc, &r);
	if (!same(&r, want)) {
		ok = false;
		goto out;
	}
	best = r;
	for (unsigned int i = rc->nr; i-- > 0 && cr_now() < end;) {
		t = *rc;
		recipe_drop(&t, i);
		if (!t.nr)
			continue;
		run_recipe(fz, &t, &r);
		if (same(&r, want)) {
			*rc = t;
			best = r;
		}
	}
	for (unsigned int i = 0; i < rc->nr && cr_now() < end; i++) {
		struct op *op = &rc->ops[i];

		if (op->kind != OP_XOR || !(op->val & (op->val - 1)))
			continue;
		for (int b = 0; b < 64; b++) {
			if (!(op->val & (1ULL << b)))
				continue;
			t = *rc;
			t.ops[i].val = 1ULL << b;
			run_recipe(fz, &t, &r);
			if (same(&r, want)) {
				*rc = t;
				best = r;
				break;
			}
		}
	}
	*want = best;
	*small = *rc;
	/* fewer records: all PAGES at once, then one record at a time from the end */
	if (small->nr < FZ_MAX_OPS && cr_now() < end) {
		t = *small;
		memset(&t.ops[t.nr], 0, sizeof(t.ops[0]));
		t.ops[t.nr].kind = OP_DELALL;
		t.ops[t.nr].r.type = CR_HDR_PAGES;
		t.nr++;
		run_recipe(fz, &t, &r);
		if (same(&r, want))
			*small = t;
	}
	img_copy(&im, &fz->seeds[small->shape].img);
	for (unsigned int i = 0; i < small->nr; i++)
		op_apply(&small->ops[i], &im, fz->seeds);
	/* (the head and the last record stay: the tail, or the END record and the tail) */
	n = im.nr - 2;
	if (im.nr > 1 && is_end_rec(&im, im.nr - 1))
		n--;
	for (; n > 0 && small->nr < FZ_MAX_OPS && cr_now() < end; n--) {
		uint32_t type = rec_type(&im.r[n]);
		struct op *op;

		t = *small;
		op = &t.ops[t.nr++];
		memset(op, 0, sizeof(*op));
		op->kind = OP_DEL;
		op->r.type = type;
		for (int k = 0; k < n; k++)
			op->r.nth += rec_type(&im.r[k]) == type;
		run_recipe(fz, &t, &r);
		if (same(&r, want))
			*small = t;
	}
	img_free(&im);
out:
	fz->min_left -= cr_now() - t0;
	return ok;
}

static void print_b64(const uint8_t *p, size_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[80];
	size_t i, o = 0;

	for (i = 0; i < len; i += 3) {
		uint32_t v = p[i] << 16 | (i + 1 < len ? p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);

		line[o++] = tab[v >> 18 & 63];
		line[o++] = tab[v >> 12 & 63];
		line[o++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
		line[o++] = i + 2 < len ? tab[v & 63] : '=';
		if (o == 76 || i + 3 >= len) {
			line[o] = '\0';
			printf("# b64 %s\n", line);
			o = 0;
		}
	}
}

/* A kept case: its verdict, @rc and the image of @small (if @small). */
static void print_case(struct fz *fz, const char *tag, const struct recipe *rc,
		       const struct recipe *small, const struct result *res)
{
	char text[FZ_MAX_OPS * 128];
	uint8_t *img;
	size_t len;

	recipe_str(rc, text);
	printf("# CR-FUZZ-CASE-BEGIN %s\n", tag);
	printf("# verdict: %s", verdict_names[res->v]);
	if (res->err)
		printf(", %s", errname(res->err));
	printf("\n# reason: %s\n", res->reason[0] ? res->reason : "(none)");
	if (res->report[0])
		printf("# report: %s\n", res->report);
	printf("# recipe: %s\n", text);
	if (small && small->nr != rc->nr) {
		recipe_str(small, text);
		printf("# image of: %s\n", text);
	}
	img = small ? recipe_image(small, fz->seeds, &len) : NULL;
	if (img) {
		printf("# image: %zu bytes\n", len);
		print_b64(img, len);
		free(img);
	}
	printf("# CR-FUZZ-CASE-END %s\n", tag);
	fflush(stdout);
}

/* -- seeds ------------------------------------------------------------------- */

static int load_file(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*len = st.st_size;
	*buf = xmalloc(*len);
	if (read(fd, *buf, *len) != (ssize_t)*len) {
		close(fd);
		free(*buf);
		return -1;
	}
	close(fd);
	return 0;
}

/* Does the image file @path hold a record of @type? */
static bool file_has(const char *path, uint32_t type)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct cr_hdr h;
	off_t off = 0;
	bool found = false;

	while (fd >= 0 && pread(fd, &h, sizeof(h), off) == sizeof(h) && h.len >= sizeof(h)) {
		if (h.type == type)
			found = true;
		if (h.type == CR_HDR_TAIL || found)
			break;
		off += h.len;
	}
	if (fd >= 0)
		close(fd);
	return found;
}

/*
 * Checkpoint the workload of shape @k into its file.  The workloads are
 * forks of the fuzzer: the seeds are all written before any is read,
 * so that none carries the others in its heap.
 */
static void checkpoint_seed(struct fz *fz, int cg, unsigned int k)
{
	struct seed *s = &fz->seeds[k];
	char path[128], why[FZ_REASON];
	pid_t pid;
	int ret;

	snprintf(path, sizeof(path), "%s/seed-%s.img", FZ_DIR, shapes[k].name);
	for (int attempt = 0; attempt < 3; attempt++) {
		unlink(FZ_DIR "/ready");
		pid = cr_start(cg, shapes[k].workload, NULL);
		if (pid < 0) {
			snprintf(s->why, sizeof(s->why), "clone3: %m");
			return;
		}
		if (cr_wait_file(FZ_DIR "/ready", 30000)) {
			cr_kill_wait(pid);
			snprintf(s->why, sizeof(s->why), "the workload did not start");
			continue;
		}
		cr_msleep(100);
		ret = cr_checkpoint(pid, path, why, sizeof(why));
		cr_kill_wait(pid);
		if (ret) {
			snprintf(s->why, sizeof(s->why), "checkpoint: %s: %.400s", errname(-ret),
				 why);
			continue;
		}
		if (shapes[k].need && !file_has(path, shapes[k].need)) {
			snprintf(s->why, sizeof(s->why), "no %s record in the image",
				 rtype_of(shapes[k].need)->name);
			continue;
		}
		s->ok = 1;
		return;
	}
}

/* Read the seed of shape @k from @dir; it must restart as it is (if @run). */
static void load_seed(struct fz *fz, unsigned int k, const char *dir, bool run)
{
	struct seed *s = &fz->seeds[k];
	struct result res;
	char path[128];
	uint8_t *buf;

	snprintf(path, sizeof(path), "%s/seed-%s.img", dir, shapes[k].name);
	s->ok = 0;
	if (load_file(path, &buf, &s->len) || img_parse(&s->img, buf, s->len)) {
		snprintf(s->why, sizeof(s->why), "the image %s does not parse", path);
		return;
	}
	if (!run) {
		free(buf);
		s->ok = 1;
		fz->seed_res[k].v = V_RESTORED;
		return;
	}
	run_image(fz, buf, s->len, false, &res);
	free(buf);
	fz->seed_res[k] = res;
	s->ok = 1;
	if (res.v == V_RESTORED || res.v == V_REPORT)
		return;		/* a report is a kernel bug: the seed is good */
	snprintf(s->why, sizeof(s->why), "the seed itself: %s: %s%s%.400s",
		 verdict_names[res.v], res.err ? errname(res.err) : "",
		 res.err ? ": " : "", res.reason);
	s->ok = 0;
	img_free(&s->img);
}

/* The records of a seed, for -vv. */
static void dump_seed(const struct img *im)
{
	for (unsigned int i = 0; i < im->nr; i++) {
		const struct rec *r = &im->r[i];
		const struct rtype *rt = rtype_of(rec_type(r));

		printf("#   %2u %-13s %6u bytes", i, rt ? rt->name : "?", r->len);
		if (rec_type(r) == CR_HDR_VMA) {
			const struct cr_hdr_vma *v = (const void *)r->p;

			printf(" %#llx-%#llx kind %u flags %#x file %u",
			       (unsigned long long)v->start, (unsigned long long)v->end, v->kind,
			       v->flags, v->file_tag);
		} else if (rec_type(r) == CR_HDR_PAGES) {
			printf(" %u pages in %u runs of vma %u, flags %#x, %u bytes of page data",
			       cr_get32(r->p + offsetof(struct cr_hdr_pages, nr)),
			       r->len >= sizeof(struct cr_hdr_pages) ?
			       cr_get32(r->p + offsetof(struct cr_hdr_pages, nr_runs)) : 0,
			       cr_get32(r->p + 12),
			       cr_get32(r->p + offsetof(struct cr_hdr_pages, flags)), r->dlen);
		}
		printf("\n");
	}
}

static int make_seeds(struct fz *fz)
{
	char cgpath[128];
	int cg, nok = 0, fd;
	uint8_t data[512];

	mkdir(FZ_DIR, 0755);
	fd = open(FZ_DIR "/data", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	for (int n = 0; fd >= 0 && n < 8 * FZ_PAGE; n += sizeof(data)) {
		for (size_t i = 0; i < sizeof(data); i++)
			data[i] = (n + i) * 7;
		if (write(fd, data, sizeof(data)) != sizeof(data))
			return -1;
	}
	if (fd < 0)
		return -1;
	close(fd);
	unlink(FZ_DIR "/link");
	if (symlink("data", FZ_DIR "/link"))
		return -1;
	cg = cr_cgroup(cgpath, sizeof(cgpath));
	if (cg < 0)
		return -1;
	for (unsigned int k = 0; k < NR_SHAPES; k++)
		checkpoint_seed(fz, cg, k);
	close(cg);
	cr_cgroup_remove(cgpath);
	for (unsigned int k = 0; k < NR_SHAPES; k++) {
		if (fz->seeds[k].ok)
			load_seed(fz, k, FZ_DIR, true);
		if (fz->seeds[k].ok)
			printf("# seed %s: %u records, %zu bytes\n", shapes[k].name,
			       fz->seeds[k].img.nr, fz->seeds[k].len);
		else
			printf("# seed %s: none: %s\n", shapes[k].name, fz->seeds[k].why);
		if (fz->seeds[k].ok && fz->verbose > 1)
			dump_seed(&fz->seeds[k].img);
		nok += fz->seeds[k].ok;
	}
	fflush(stdout);
	return nok;
}

/* -- main -------------------------------------------------------------------- */

struct stats {
	unsigned long n[V_NR];
	unsigned long ckpt[256];	/* checkpoint() of restored processes, by errno */
	unsigned long how[3];		/* ... direct, deferred, held and restarted from it */
	unsigned long errs[256];
	char ponr[8][160];
	unsigned long ponr_n[8];
	char ponr_recipe[8][FZ_MAX_OPS * 128];
	char seen[32][160];
	unsigned int nseen;
};

/* The reason without its numbers: kept cases that differ only there are one. */
static void shape_of_reason(const struct result *res, char *out, size_t len)
{
	const char *s = res->report[0] ? res->report : res->reason;
	size_t o = snprintf(out, len, "%d %d ", res->v, res->err);

	while (*s && o + 1 < len) {
		if (isdigit((unsigned char)*s)) {
			out[o++] = '#';
			if (s[0] == '0' && s[1] == 'x')
				s += 2;
			while (isxdigit((unsigned char)*s))
				s++;
			continue;
		}
		out[o++] = *s++;
	}
	out[o] = '\0';
}

static bool first_of_its_kind(struct stats *st, const struct result *res)
{
	char k[160];

	shape_of_reason(res, k, sizeof(k));
	for (unsigned int i = 0; i < st->nseen; i++)
		if (!strcmp(st->seen[i], k))
			return false;
	if (st->nseen < NF(st->seen))
		snprintf(st->seen[st->nseen++], sizeof(st->seen[0]), "%s", k);
	return true;
}

static void count(struct stats *st, const struct result *res, const struct recipe *rc)
{
	char k[160];
	unsigned int i;

	st->n[res->v]++;
	if (res->v == V_RESTORED && res->ckpt <= 0 && res->ckpt > -256)
		st->ckpt[-res->ckpt]++;
	if (res->v == V_RESTORED && !res->ckpt)
		st->how[recipe_has(rc, OP_HELD) ? 2 : recipe_has(rc, OP_DEFERRED) ? 1 : 0]++;
	if (res->v == V_REFUSED && res->err > 0 && res->err < 256)
		st->errs[res->err]++;
	if (res->v != V_KILLED)
		return;
	shape_of_reason(res, k, sizeof(k));
	for (i = 0; i < NF(st->ponr) && st->ponr[i][0] && strcmp(st->ponr[i], k); i++)
		;
	if (i < NF(st->ponr)) {
		char text[FZ_MAX_OPS * 128];

		if (!st->ponr_n[i]++) {
			recipe_str(rc, text);
			snprintf(st->ponr_recipe[i], sizeof(st->ponr_recipe[i]), "%s", text);
		}
		snprintf(st->ponr[i], sizeof(st->ponr[i]), "%s", k);
	}
}

static void handle_kept(struct fz *fz, struct stats *st, const char *tag, struct recipe *rc,
			struct result *res)
{
	bool first = first_of_its_kind(st, res);
	bool minimised = false;
	struct recipe small = *rc;

	if (first && res->v != V_REPORT)
		minimised = minimise(fz, rc, &small, res);
	else if (first)
		printf("# %s: a kernel report: not minimised (the kernel may not report twice)\n",
		       tag);
	if (first && res->v != V_REPORT && !minimised)
		printf("# %s: did not reproduce: kept as it was\n", tag);
	print_case(fz, tag, rc, first ? &small : NULL, res);
}

/*
 * -g: make the recipes of a round from the seeds in @dir and their
 * images, check that each recipe reads back as printed; no restart.
 */
static int gen_test(struct fz *fz, const char *dir, uint64_t seed, unsigned long ncases)
{
	char a[FZ_MAX_OPS * 128], b[FZ_MAX_OPS * 128], err[128];
	unsigned long bad = 0, ops = 0;
	struct recipe rc, back;
	uint8_t *img;
	size_t len;

	for (unsigned int k = 0; k < NR_SHAPES; k++)
		load_seed(fz, k, dir, false);
	for (unsigned long n = 0; n < ncases; n++) {
		gen_case(seed, n, fz->seeds, &rc);
		if (rc.shape < 0)
			return 1;
		ops += rc.nr;
		recipe_str(&rc, a);
		if (recipe_parse(a, &back, err, sizeof(err))) {
			printf("case %lu: %s: %s\n", n, a, err);
			bad++;
			continue;
		}
		recipe_str(&back, b);
		if (strcmp(a, b)) {
			printf("case %lu: %s\n   reads back as %s\n", n, a, b);
			bad++;
		}
		img = recipe_image(&back, fz->seeds, &len);
		if (fz->verbose)
			printf("case %lu: %zu bytes: %s\n", n, len, a);
		free(img);
	}
	printf("%lu recipes, %lu ops, %lu bad\n", ncases, ops, bad);
	return !!bad;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-n CASES] [-s SEED] [-t SECONDS] [-m SECONDS] [-R] [-K] [-v]\n"
		"       %s -r 'RECIPE'      replay one recipe\n"
		"       %s -c N [-s SEED]   run case N of the round only\n"
		"       %s -l               list the regression recipes\n"
		"  -n  random cases (default %d)   -s  seed of the round (default %d)\n"
		"  -t  time limit of one restart() (default 10 s)\n"
		"  -m  time to minimise a kept case (default 30 s; 10 s, 30 in all without -n)\n"
		"  -R  do not restart the checkpoint of each restored process\n"
		"  -K  keep a case killed past the point of no return (a check restart\n"
		"      could have made before it; not one for its page data, which are\n"
		"      read only past that point)\n"
		"  -U  treat this errno as undocumented (to see the fuzzer keep cases)\n"
		"  -v  one line per case, with its recipe\n",
		prog, prog, prog, prog, FZ_DEFAULT_CASES, FZ_DEFAULT_SEED);
	exit(2);
}

int main(int argc, char **argv)
{
	static struct fz fz = { .timeout = 10, .kmsg = -1, .cgfd = -1, .roundtrip = true };
	unsigned long ncases = FZ_DEFAULT_CASES, kept_rand = 0, kept_reg = 0;
	uint64_t seed = FZ_DEFAULT_SEED;
	const char *replay = NULL;
	long only = -1;
	char trace[16] = "";
	static struct stats st;
	struct result res;
	struct recipe rc;
	char text[FZ_MAX_OPS * 128], err[128], tag[32];
	double t0, dt;
	int o, nseeds, test = 0;
	bool list = false, gen_only = false, fixed = true;
	double min_secs = 0;
	const char *seed_dir = NULL;

	while ((o = getopt(argc, argv, "n:s:t:m:r:c:lvhgS:RKU:")) != -1) {
		switch (o) {
		case 'n':
			ncases = strtoul(optarg, NULL, 0);
			fixed = false;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			fz.timeout = atoi(optarg) > 0 ? atoi(optarg) : 1;
			break;
		case 'm':
			min_secs = atof(optarg);
			break;
		case 'r':
			replay = optarg;
			fixed = false;
			break;
		case 'c':
			only = strtol(optarg, NULL, 0);
			fixed = false;
			break;
		case 'l':
			list = true;
			break;
		case 'R':
			fz.roundtrip = false;
			break;
		case 'K':
			keep_kills = true;
			break;
		case 'U':	/* to see the fuzzer keep cases */
			undocumented = atoi(optarg);
			break;
		case 'g':	/* a test of the generator: no restart */
			gen_only = true;
			break;
		case 'S':	/* with -g: the seeds from files */
			seed_dir = optarg;
			break;
		case 'v':
			fz.verbose++;
			break;
		default:
			usage(argv[0]);
		}
	}
	/* the fixed round of make check minimises for 30 s at most in all */
	fz.min_secs = min_secs > 0 ? min_secs : fixed ? 10 : 30;
	fz.min_left = fixed ? 30 : 1e9;
	if (list) {
		for (unsigned int i = 0; i < NF(regressions); i++)
			printf("%s\n\t# %s\n", regressions[i].recipe, regressions[i].what);
		return 0;
	}
	for (unsigned int i = 0; i < NF(regressions); i++)
		if (recipe_parse(regressions[i].recipe, &rc, err, sizeof(err))) {
			printf("Bail out! regression %u: %s\n", i, err);
			return 1;
		}
	if (replay && recipe_parse(replay, &rc, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	if (gen_only)
		return gen_test(&fz, seed_dir ? seed_dir : FZ_DIR, seed, ncases);

	printf("TAP version 13\n1..%d\n", replay || only >= 0 ? 1 : 2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	fz.imgfd = memfd_create("cr_fuzz.img", 0);
	fz.ckptfd = memfd_create("cr_fuzz.ckpt", MFD_CLOEXEC);
	fz.kmsg = open(FZ_KMSG, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fz.kmsg >= 0)
		lseek(fz.kmsg, 0, SEEK_END);
	else
		printf("# no %s: kernel reports are left to the console check\n", FZ_KMSG);
	if (fz.imgfd < 0 || fz.ckptfd < 0) {
		printf("Bail out! memfd_create: %m\n");
		return 1;
	}
	/* a restored process that faults must not look like a kernel report */
	if (cr_read_str(FZ_TRACE, trace, sizeof(trace)) > 0)
		cr_write_str(FZ_TRACE, "0");
	t0 = cr_now();
	nseeds = make_seeds(&fz);
	printf("# seeds made in %.1f s\n", cr_now() - t0);
	if (nseeds <= 0) {
		printf("not ok 1 seeds: none could be made\n");
		if (!replay && only < 0)
			printf("not ok 2 random round # SKIP no seeds\n");
		goto out;
	}

	/* a seed that is missing or does not restart as it is fails the round */
	for (unsigned int k = 0; k < NR_SHAPES; k++) {
		struct recipe plain = { .shape = k };

		if (!fz.seeds[k].ok) {
			printf("# seed %s is missing: %s\n", shapes[k].name, fz.seeds[k].why);
			kept_rand++;
		} else if (fz.seed_res[k].v != V_RESTORED) {
			snprintf(tag, sizeof(tag), "seed-%s", shapes[k].name);
			print_case(&fz, tag, &plain, NULL, &fz.seed_res[k]);
			kept_rand++;
		}
	}

	if (replay) {
		recipe_str(&rc, text);
		run_recipe(&fz, &rc, &res);
		if (ops_missed)
			printf("# %u ops do not apply to seed %s, the first is op %d\n", ops_missed,
			       shapes[rc.shape].name, first_missed + 1);
		printf("# %s -> %s%s%s: %s\n", text, verdict_names[res.v],
		       res.err ? ", " : "", res.err ? errname(res.err) : "", res.reason);
		if (kept(res.v))
			print_case(&fz, "replay", &rc, &rc, &res);
		printf("%sok 1 replay\n", kept(res.v) || res.v == V_SETUP ? "not " : "");
		kept_rand += kept(res.v) || res.v == V_SETUP;
		goto out;
	}
	if (only >= 0) {
		gen_case(seed, only, fz.seeds, &rc);
		recipe_str(&rc, text);
		printf("# case %ld of seed %llu: %s\n", only, (unsigned long long)seed, text);
		run_recipe(&fz, &rc, &res);
		printf("# -> %s%s%s: %s%s%s\n", verdict_names[res.v], res.err ? ", " : "",
		       res.err ? errname(res.err) : "", res.reason,
		       res.report[0] ? " / " : "", res.report);
		snprintf(tag, sizeof(tag), "c%ld", only);
		if (kept(res.v))
			handle_kept(&fz, &st, tag, &rc, &res);
		printf("%sok 1 case %ld\n", kept(res.v) ? "not " : "", only);
		kept_rand += kept(res.v);
		goto out;
	}

	/* 1: the regressions */
	t0 = cr_now();
	for (unsigned int i = 0; i < NF(regressions); i++) {
		recipe_parse(regressions[i].recipe, &rc, err, sizeof(err));
		run_recipe(&fz, &rc, &res);
		if (ops_missed) {
			/* the seed changed shape: the recipe does not test what it did */
			printf("# regression %u (%s): op %d does not apply to seed %s\n", i,
			       regressions[i].what, first_missed + 1, shapes[rc.shape].name);
			kept_reg++;
			continue;
		}
		if (fz.verbose || kept(res.v) || res.v == V_SETUP)
			printf("# regression %u (%s): %s%s%s: %s\n", i, regressions[i].what,
			       verdict_names[res.v], res.err ? ", " : "",
			       res.err ? errname(res.err) : "", res.reason);
		if (kept(res.v)) {
			snprintf(tag, sizeof(tag), "r%u", i);
			print_case(&fz, tag, &rc, &rc, &res);
			kept_reg++;
		}
	}
	printf("%sok %d regressions: %zu recipes replayed in %.1f s, %lu still kept\n",
	       kept_reg ? "not " : "", ++test, NF(regressions), cr_now() - t0, kept_reg);

	/* 2: the random round */
	t0 = cr_now();
	for (unsigned long n = 0; n < ncases; n++) {
		gen_case(seed, n, fz.seeds, &rc);
		if (rc.shape < 0 || !rc.nr)
			continue;
		run_recipe(&fz, &rc, &res);
		count(&st, &res, &rc);
		if (fz.verbose) {
			recipe_str(&rc, text);
			printf("# case %lu: %s -> %s%s%s: %s (%.0f ms)\n", n, text,
			       verdict_names[res.v], res.err ? ", " : "",
			       res.err ? errname(res.err) : "", res.reason, res.secs * 1000);
		}
		if (res.v == V_SETUP) {
			printf("# case %lu: %s\n", n, res.reason);
			kept_rand++;
		}
		if (kept(res.v)) {
			snprintf(tag, sizeof(tag), "c%lu", n);
			handle_kept(&fz, &st, tag, &rc, &res);
			kept_rand++;
		}
	}
	dt = cr_now() - t0;
	printf("# random round: %lu cases of seed %llu in %.1f s: %.1f cases/s, "
	       "%lu restarts in all\n",
	       ncases, (unsigned long long)seed, dt, dt > 0 ? ncases / dt : 0, fz.runs);
	printf("# verdicts:");
	for (int v = 0; v < V_NR; v++)
		if (st.n[v])
			printf(" %s %lu;", verdict_names[v], st.n[v]);
	printf("\n# refusals:");
	for (int e = 0; e < 256; e++)
		if (st.errs[e])
			printf(" %s %lu;", errname(e), st.errs[e]);
	printf("\n# checkpoint() of the restored:");
	for (int e = 0; e < 256; e++)
		if (st.ckpt[e])
			printf(" %s %lu;", e ? errname(e) : "ok", st.ckpt[e]);
	printf(" direct %lu, deferred %lu, held and restarted from memory %lu\n",
	       st.how[0], st.how[1], st.how[2]);
	for (unsigned int i = 0; i < NF(st.ponr) && st.ponr[i][0]; i++)
		printf("# killed after the point of no return (%lu): %s\n#   first: %s\n",
		       st.ponr_n[i], strchr(strchr(st.ponr[i], ' ') + 1, ' ') + 1,
		       st.ponr_recipe[i]);
	if (fz.drop_failed)
		printf("# %lu held checkpoints could not be dropped\n", fz.drop_failed);
	printf("%sok %d random round: %lu cases, %lu kept\n",
	       kept_rand || fz.drop_failed ? "not " : "", ++test,
	       ncases, kept_rand);
out:
	case_cgroup_remove(&fz);
	if (trace[0])
		cr_write_str(FZ_TRACE, trace);
	return kept_rand || kept_reg || nseeds <= 0 || fz.drop_failed;
}
