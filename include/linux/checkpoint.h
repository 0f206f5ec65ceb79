/* SPDX-License-Identifier: GPL-2.0 */
/*
 * linux-cr: in-kernel checkpoint/restart of containers.
 *
 * One struct cr_ctx lives for one checkpoint() or restart() call.  On
 * checkpoint, records are assembled in the ctx's arena (cr_hbuf_get() /
 * cr_hbuf_put(): "give me room on the buffer"), memory contents travel as
 * page references on the ctx's pgarr list beside it, and cr_flush()
 * writes both out, in stream order, through one output path.  On
 * restart, the whole image is read ahead into the arena and checked, and
 * records are handed out as pointers into it.
 */
#ifndef _LINUX_CHECKPOINT_H
#define _LINUX_CHECKPOINT_H

#include <linux/checkpoint_hdr.h>
#include <linux/gfp_types.h>
#include <linux/list.h>
#include <linux/path.h>
#include <linux/types.h>
#include <linux/xxhash.h>
#include <uapi/linux/checkpoint.h>

/*
 * Large allocations of a call: charged to the caller's memory cgroup; a
 * failure is the call's -ENOMEM, not a kernel warning.
 */
#define CR_GFP		(GFP_KERNEL_ACCOUNT | __GFP_NOWARN)

struct file;
struct mm_struct;
struct page;
struct task_struct;
struct cr_objhash;
struct cr_rst_tree;
struct cr_rst_node;
struct cr_tree_task;
struct cgroup;

/* One chunk of the arena: kvmalloc'ed, MiBs. */
struct cr_chunk {
	struct list_head list;
	size_t size;		/* bytes of data[] */
	size_t used;		/* bytes handed out (checkpoint) or read (restart) */
	u8 data[];
};

/**
 * struct cr_arena - the hbuf: a chain of large chunks freed all at once
 * @chunks: the chain, oldest first
 * @cur: chunk that cr_hbuf_get() carves from
 * @total: bytes handed out over all chunks (stream bytes, checkpoint)
 * @allocated: bytes of all chunks, for the statistics
 * @first_size: size of the first chunk
 * @max_chunk: chunks never grow beyond this (a single larger request
 *	still gets a chunk of its own)
 * @depth: cr_hbuf_get() calls not yet matched by cr_hbuf_put()
 * @flushed: arena bytes already written out
 * @flush_chunk: chunk holding the first byte not written out
 * @flush_off: offset of that byte in @flush_chunk
 */
struct cr_arena {
	struct list_head chunks;
	struct cr_chunk *cur;
	size_t total;
	size_t allocated;
	size_t first_size;
	size_t max_chunk;
	unsigned int depth;
	size_t flushed;
	struct cr_chunk *flush_chunk;
	size_t flush_off;
};

/**
 * struct cr_pgarr - page references waiting to be written
 * @list: on cr_ctx.pgarr, in the order of their PAGES records
 * @csum: where the xxh64 of the pages goes in their PAGES record when
 *	it is computed at write-out (deferred checkpoint), or NULL
 * @nr: pages held
 * @pages: one reference each, dropped once written (or with a held
 *	checkpoint)
 */
struct cr_pgarr {
	struct list_head list;
	u64 *csum;
	unsigned int nr;
	struct page *pages[] __counted_by(nr);
};

/* One record of an image being restarted. */
struct cr_rec {
	const struct cr_hdr *h;
	u64 offset;		/* in the stream */
};

#define CR_ERRMSG_LEN	192

/**
 * struct cr_stats - where the time of one call went, for
 * /sys/kernel/checkpoint/stats
 * @total_ns: the whole call
 * @freeze_ns: checkpoint: freezing the container
 * @capture_ns: checkpoint: the capture, from frozen to the tail
 * @hash_ns: checkpoint: hashing page data, restart: checking it
 * @write_ns: checkpoint: writing to the image file
 * @data_ns: checkpoint: writing the page data, restart: reading it into
 *	new pages (mapping them is @map_ns)
 * @read_ns: restart: reading the records and checking their headers
 * @check_ns: restart: collecting and checking the records' contents,
 *	up to the first task created
 * @map_ns: restart: mapping the restored areas
 * @kmem_peak: restart: the most bytes held for the image at once: the
 *	records and their index
 */
struct cr_stats {
	u64 total_ns;
	u64 freeze_ns;
	u64 capture_ns;
	u64 hash_ns;
	u64 write_ns;
	u64 data_ns;
	u64 read_ns;
	u64 check_ns;
	u64 map_ns;
	u64 kmem_peak;
};

/* Restart reads page data, and hashes them, this many pages at a time. */
#define CR_DATA_BATCH	16

struct cr_held_src;

/**
 * struct cr_ctx - state of one checkpoint() or restart() call
 * @flags: the call's flags
 * @restart: true for restart()
 * @hold: checkpoint: the records stay in the arena until write-out
 *	(deferred checkpoint)
 * @root: checkpoint: the root task of the container (a reference)
 * @file: the image file
 * @ppos: its position, NULL for a stream (pipe, socket)
 * @pos: position shadow used while the call runs
 * @objhash: kernel object <-> tag
 * @arena: records (checkpoint) or the image read ahead (restart)
 * @pgarr: checkpoint: pages waiting to be written, in stream order
 * @csum: checksum of the stream so far
 * @records: records written, or read
 * @bytes: stream bytes written, or read
 * @recs: restart: every record of the image, in order
 * @nr_recs: restart: records in @recs
 * @cap_recs: restart: room in @recs
 * @next_rec: restart: index of the next record to hand out
 * @frozen_ns: checkpoint: time the container stayed frozen
 * @pages: pages of memory saved or restored
 * @data_pages: pages of the page data: queued (checkpoint), or of the
 *	PAGES records read so far (restart)
 * @data_offset: restart: where the page data start, from the head
 * @data_next: restart: offset in the page data of the next byte a
 *	stream gives
 * @data_bytes: restart: bytes of page data, as the tail says
 * @tail_csum: restart: the tail's checksum, which the END record repeats
 * @st: statistics of the call
 * @nr_files: restart: files reopened so far
 * @start_pos: the image's first byte in @file (0 for a stream)
 * @max_image: restart: the most image bytes held in memory
 * @root_pid: restart: pid of the root task in its container
 * @stdio: checkpoint: the files of fds 0-2 of the root task
 * @tree: restart: the task tree being rebuilt
 * @usk: unix sockets seen (checkpoint) or made (restart), see net/unix/
 * @no_data: checkpoint: a write-out leaves a hole for the page data
 *	(the image restart() reads from a held checkpoint, see held.c)
 * @src: restart: the held checkpoint the page data are copied from
 * @err: first error
 * @errmsg: its one-line reason
 */
struct cr_ctx {
	unsigned long flags;
	bool restart;
	bool hold;
	struct task_struct *root;
	struct file *file;
	loff_t *ppos;
	loff_t pos;
	struct cr_objhash *objhash;
	struct cr_arena arena;
	struct list_head pgarr;
	struct xxh64_state csum;
	u64 records;
	u64 bytes;
	struct cr_rec *recs;
	size_t nr_recs;
	size_t cap_recs;
	size_t next_rec;
	u64 frozen_ns;
	u64 pages;
	u64 data_pages;
	u64 data_offset;
	u64 data_next;
	u64 data_bytes;
	u64 tail_csum;
	struct cr_stats st;
	unsigned long nr_files;
	loff_t start_pos;
	u64 max_image;
	pid_t root_pid;
	struct file *stdio[3];
	struct cr_rst_tree *tree;
	struct cr_usk *usk;
	bool no_data;
	struct cr_held_src *src;
	int err;
	char errmsg[CR_ERRMSG_LEN];
};

/* checkpoint/sys.c */
__printf(3, 4) int cr_err(struct cr_ctx *ctx, int err, const char *fmt, ...);
__printf(3, 4) int cr_rec_err(struct cr_ctx *ctx, int err, const char *fmt, ...);
size_t cr_arena_first_size(struct task_struct *t);

/* checkpoint/arena.c: the allocator */
void cr_arena_init(struct cr_arena *arena, size_t first_size, size_t max_chunk);
void cr_arena_release(struct cr_arena *arena);
void *cr_arena_alloc(struct cr_arena *arena, size_t len);
struct cr_chunk *cr_chunk_new(struct cr_arena *a, size_t need);

/* checkpoint/output.c: checkpoint's one output path */
void *cr_hbuf_get(struct cr_ctx *ctx, size_t len);
void cr_hbuf_put(struct cr_ctx *ctx, size_t len);
void *cr_rec_get(struct cr_ctx *ctx, u32 type, size_t len, u32 tag, u32 ptag);
int cr_pgarr_queue(struct cr_ctx *ctx, struct page **pages, unsigned int nr, u64 *csum);
void cr_pgarr_release(struct cr_ctx *ctx);
int cr_flush(struct cr_ctx *ctx);
int cr_flush_data(struct cr_ctx *ctx, u64 data_offset, bool keep);
int cr_write_out(struct cr_ctx *ctx, const void *buf, size_t len);
int cr_write_held(struct cr_ctx *ctx, bool keep);
void cr_output_rewind(struct cr_ctx *ctx);
u64 cr_hash_pages(struct cr_ctx *ctx, struct page **pages, unsigned int nr);
int cr_pgarr_hash(struct cr_ctx *ctx);

/* checkpoint/input.c: restart's image and records */
int cr_read_image(struct cr_ctx *ctx);
const struct cr_rec *cr_next_rec(struct cr_ctx *ctx);
const struct cr_rec *cr_peek_rec(struct cr_ctx *ctx);
const void *cr_read_rec(struct cr_ctx *ctx, u32 type, u32 minlen);
int cr_check_rec(const struct cr_hdr *h, u64 left, const char **why);
const char *cr_rec_name(u32 type);
int cr_read_data(struct cr_ctx *ctx, u64 off, struct page **pages, unsigned int nr);
int cr_read_end(struct cr_ctx *ctx, bool ponr);

/* checkpoint/restart.c: the restart driver */
int cr_read_files_ahead(struct cr_ctx *ctx);

/* checkpoint/objhash.c */
struct cr_obj_ops {
	const char *name;
	void (*grab)(void *ptr);
	void (*drop)(void *ptr);
};

extern const struct cr_obj_ops cr_obj_file_ops;
extern const struct cr_obj_ops cr_obj_mm_ops;
extern const struct cr_obj_ops cr_obj_stdio_ops;
extern const struct cr_obj_ops cr_obj_pipe_ops;

void cr_obj_nop(void *ptr);

struct cr_objhash *cr_objhash_alloc(void);
void cr_objhash_free(struct cr_objhash *oh);
int cr_obj_lookup_add(struct cr_objhash *oh, void *ptr,
		      const struct cr_obj_ops *ops, bool *new);
int cr_obj_insert(struct cr_objhash *oh, u32 tag, void *ptr,
		  const struct cr_obj_ops *ops);
void *cr_obj_fetch(struct cr_objhash *oh, u32 tag, const struct cr_obj_ops *ops);
u32 cr_obj_tag(struct cr_objhash *oh, void *ptr);
int cr_objhash_for_each(struct cr_objhash *oh,
			int (*fn)(void *arg, void *ptr, const struct cr_obj_ops *ops,
				  unsigned int users),
			void *arg);

/**
 * struct cr_resume - how the restored task goes on once restart() is done
 * @ax: what restart() returns, the restored task's rax
 * @kind: 0, or enum cr_restart_kind: a system call to carry on
 * @clockid: CR_RESTART_NANOSLEEP: the clock
 * @remaining_ns: CR_RESTART_NANOSLEEP: the time left to sleep
 * @rmtp: CR_RESTART_NANOSLEEP: user pointer for the time left, or 0
 */
struct cr_resume {
	long ax;
	u32 kind;
	clockid_t clockid;
	s64 remaining_ns;
	u64 rmtp;
};

/* checkpoint/checkpoint.c and checkpoint/restart.c */
long cr_do_checkpoint(struct cr_ctx *ctx, pid_t pid);
void cr_ctx_free(struct cr_ctx *ctx);

/* checkpoint/held.c */
int cr_held_add(struct cr_ctx *ctx, struct task_struct *root);
int cr_held_op(int crid, struct file *file, unsigned long flags, char *why, size_t len);
ssize_t cr_held_show(char *buf);
bool cr_held_exists(int crid);
int cr_held_access(int crid);
bool cr_held_of(int crid, struct task_struct *t);
struct file *cr_held_file(int crid, struct cr_held_src **src, char *why, size_t len);
int cr_held_src_read(const struct cr_held_src *src, u64 off, struct page **pages,
		     unsigned int nr);
void cr_held_src_put(struct cr_held_src *src);
int cr_may_freeze(struct cr_ctx *ctx, struct cgroup *cgrp);
int cr_check_tree(struct cr_ctx *ctx, const struct cr_tree_task *tt, u32 nr,
		  struct cr_rst_node *nodes);
int cr_do_restart(struct cr_ctx *ctx, struct cr_resume *res);
int cr_check_head(struct cr_ctx *ctx, const struct cr_hdr_head *head);

/*
 * What restart() collects from the image of one task before the point
 * of no return; applied after it.  Pointers point into the arena.
 */
struct cr_rst_mm;
struct cr_rst_files;

struct cr_rst_task {
	const struct cr_tree_task *tt;
	const struct cr_hdr_task *task;
	const struct cr_hdr_fs *fs;
	struct path cwd;
	struct cr_rst_files *files;
	struct cr_rst_mm *mm;
	const struct cr_hdr_sighand *sighand;
	const struct cr_hdr_cpu *cpu;
	const struct cr_hdr_fpu *fpu;
	void *xstate;
	const struct cr_hdr_restart_block *rb;
	const struct cr_hdr_sigpending *sigpending[2];	/* own, process's */
};

/* kernel/checkpoint.c: the task, its signals, an interrupted call */
int cr_write_task(struct cr_ctx *ctx, struct task_struct *t);
int cr_read_task(struct cr_ctx *ctx, struct cr_rst_task *rt);
int cr_write_sighand(struct cr_ctx *ctx, struct task_struct *t);
int cr_read_sighand(struct cr_ctx *ctx, struct cr_rst_task *rt);
int cr_write_restart_block(struct cr_ctx *ctx, struct task_struct *t);
int cr_write_sigpending(struct cr_ctx *ctx, struct task_struct *t);
int cr_read_sigpending(struct cr_ctx *ctx, struct cr_rst_task *rt, bool leader);
void cr_restore_sigpending(const struct cr_rst_task *rt, bool leader);
int cr_sigpending_count(struct task_struct *t);
int cr_read_restart_block(struct cr_ctx *ctx, struct cr_rst_task *rt);
int cr_restore_task(struct cr_ctx *ctx, struct cr_rst_task *rt);
int cr_restore_sighand(struct cr_ctx *ctx, struct cr_rst_task *rt);
long cr_resume(const struct cr_resume *res);
const char *cr_restarter_busy(void);
void cr_reset_restarter(void);
void cr_drop_signals(void);

/* arch/x86/checkpoint.c: registers and the XSAVE area */
int cr_write_cpu(struct cr_ctx *ctx, struct task_struct *t);
int cr_read_cpu(struct cr_ctx *ctx, struct cr_rst_task *rt);
int cr_write_fpu(struct cr_ctx *ctx, struct task_struct *t);
int cr_read_fpu(struct cr_ctx *ctx, struct cr_rst_task *rt);
int cr_restore_cpu(struct cr_ctx *ctx, struct cr_rst_task *rt);
int cr_restore_fpu(struct cr_ctx *ctx, struct cr_rst_task *rt);
void cr_syscall_state(struct task_struct *t, long *nr, long *ret);
void cr_arch_head(struct cr_hdr_head *head);
u64 cr_arch_vdso_hash(void);
int cr_arch_check_vdso(struct cr_ctx *ctx, u64 vvar_start, u64 vvar_end,
		       u64 vdso_start, u64 vdso_end);
int cr_arch_map_vdso(struct cr_ctx *ctx, u64 vvar_start);
int cr_arch_check_head(struct cr_ctx *ctx, const struct cr_hdr_head *head);
const char *cr_arch_restarter_busy(void);

/* mm/checkpoint.c: the address space */
int cr_write_mm(struct cr_ctx *ctx, struct task_struct *t);
int cr_read_mm(struct cr_ctx *ctx, struct cr_rst_task *rt);
int cr_restore_mm(struct cr_ctx *ctx, struct cr_rst_task *rt);
void cr_rst_mm_free(struct cr_rst_mm *rmm);

/* fs/checkpoint.c: open files, the fd table, cwd */
int cr_write_file(struct cr_ctx *ctx, struct file *file, u32 *tag);
int cr_read_file(struct cr_ctx *ctx, const struct cr_rec *r);
int cr_write_files(struct cr_ctx *ctx, struct task_struct *t);
int cr_read_files(struct cr_ctx *ctx, struct cr_rst_task *rt);
int cr_write_fs(struct cr_ctx *ctx, struct task_struct *t);
int cr_read_fs(struct cr_ctx *ctx, struct cr_rst_task *rt);
int cr_restore_files(struct cr_ctx *ctx, struct cr_rst_task *rt);
int cr_restore_fs(struct cr_ctx *ctx, struct cr_rst_task *rt);
void cr_rst_files_free(struct cr_rst_files *rf);
char *cr_task_path(struct task_struct *t, const struct path *path, char *buf, int len);
struct cr_hdr_file;
struct file *cr_reopen(struct cr_ctx *ctx, const struct cr_hdr_file *h, const char *path);

/* fs/checkpoint_pipe.c: pipes and FIFOs */
int cr_write_pipe_file(struct cr_ctx *ctx, struct file *file, u32 tag);
bool cr_pipe_outside(struct file *file, void *pipe);
char *cr_pipe_name(struct file *file, char *buf, size_t len);
unsigned int cr_pipe_files(void *pipe);
int cr_read_pipe(struct cr_ctx *ctx, const struct cr_rec *r);
struct file *cr_read_pipe_file(struct cr_ctx *ctx, const struct cr_hdr_file *h);
void cr_restore_pipes_done(struct cr_ctx *ctx);

/* net/unix/checkpoint.c: unix sockets */
extern const struct cr_obj_ops cr_obj_usock_ops;
int cr_write_sock_file(struct cr_ctx *ctx, struct file *file, u32 tag);
int cr_write_unix_queues(struct cr_ctx *ctx);
bool cr_sock_outside_peer(struct cr_ctx *ctx, void *sk, char *buf, size_t len);
bool cr_sock_reaches(struct file *file, void *sk);
int cr_read_sock(struct cr_ctx *ctx, const struct cr_rec *r);
int cr_read_sock_msg(struct cr_ctx *ctx, const struct cr_rec *r);
struct file *cr_read_sock_file(struct cr_ctx *ctx, const struct cr_hdr_file *h);
int cr_check_socks(struct cr_ctx *ctx);
int cr_restore_socks(struct cr_ctx *ctx);
bool cr_tree_has_process(struct cr_ctx *ctx, pid_t pid);
void cr_unix_release(struct cr_ctx *ctx);

#endif /* _LINUX_CHECKPOINT_H */
