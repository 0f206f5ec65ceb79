// SPDX-License-Identifier: GPL-2.0-only
/*
 * checkpoint() and restart(): argument checks, the per-call context, the
 * one-line reason of a failure, and /sys/kernel/checkpoint/.
 */

#define pr_fmt(fmt) "checkpoint: " fmt

#include <linux/capability.h>
#include <linux/checkpoint.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/syscalls.h>
#include <linux/sysfs.h>

#include "abi_data.h"
#include "abi_hash.h"

/* -- the reason of the last failure, per thread ------------------------- */

/*
 * Remember @msg as the calling thread's reason; NULL forgets it.  The
 * reason lives in the task (task_struct.checkpoint_err): only the thread
 * itself reads or writes it, fork does not copy it, exec drops it and it
 * is freed with the task.  If memory is short the old reason is dropped
 * rather than left to mislead.
 */
static void cr_set_last_error(const char *msg)
{
	char *old = current->checkpoint_err;

	current->checkpoint_err = msg ? kstrdup(msg, GFP_KERNEL_ACCOUNT) : NULL;
	kfree(old);
}

/**
 * cr_err() - record why the call fails
 * @ctx: the call's context
 * @err: negative errno
 * @fmt: printf format of a one-line reason
 *
 * The first reason recorded wins: it is the cause, later ones are
 * consequences.
 *
 * Return: @err, so that callers can "return cr_err(...)".
 */
int cr_err(struct cr_ctx *ctx, int err, const char *fmt, ...)
{
	va_list args;

	if (ctx->err)
		return err;
	ctx->err = err;
	va_start(args, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, args);
	va_end(args);
	return err;
}

/**
 * cr_rec_err() - record why the record just read is refused
 * @ctx: restart context
 * @err: negative errno
 * @fmt: printf format of the reason
 *
 * The reason is prefixed with the record's index, type and offset.
 *
 * Return: @err.
 */
int cr_rec_err(struct cr_ctx *ctx, int err, const char *fmt, ...)
{
	const struct cr_rec *r = ctx->next_rec ? &ctx->recs[ctx->next_rec - 1] : NULL;
	char why[CR_ERRMSG_LEN];
	va_list args;

	va_start(args, fmt);
	vsnprintf(why, sizeof(why), fmt, args);
	va_end(args);
	if (!r)
		return cr_err(ctx, err, "%s", why);
	return cr_err(ctx, err, "record %zu (%s) at offset %#llx: %s",
		      ctx->next_rec - 1, cr_rec_name(r->h->type), r->offset, why);
}

/* A failure before there is a context. */
static long cr_fail(int err, const char *msg)
{
	cr_set_last_error(msg);
	return err;
}

/* -- the context --------------------------------------------------------- */

/*
 * restart() reads the records of the image (all but the page data) into
 * kernel memory before it changes anything: at most half of the RAM,
 * charged to the caller's memory cgroup.  Documented in syscalls.rst.
 */
static u64 cr_restart_max_image(void)
{
	return (u64)totalram_pages() / 2 * PAGE_SIZE;
}

/*
 * The first arena chunk of a checkpoint is sized from the metadata of the
 * previous checkpoint of the same target, if it is remembered.
 */
#define CR_SIZE_HINTS	16
#define CR_ARENA_FIRST	SZ_1M
#define CR_ARENA_MAX	SZ_16M

static struct {
	u64 start_time;
	pid_t pid;
	size_t size;
} cr_size_hints[CR_SIZE_HINTS];
static unsigned int cr_size_next;
static DEFINE_SPINLOCK(cr_size_lock);

static int cr_size_slot(struct task_struct *t)
{
	int i;

	for (i = 0; i < CR_SIZE_HINTS; i++)
		if (cr_size_hints[i].start_time == t->start_boottime &&
		    cr_size_hints[i].pid == task_pid_nr(t))
			return i;
	return -1;
}

static size_t cr_size_hint(struct task_struct *t)
{
	size_t size = CR_ARENA_FIRST;
	int slot;

	spin_lock(&cr_size_lock);
	slot = cr_size_slot(t);
	if (slot >= 0)
		size = cr_size_hints[slot].size;
	spin_unlock(&cr_size_lock);
	return size;
}

static void cr_size_remember(struct task_struct *t, size_t size)
{
	int slot;

	size = clamp_t(size_t, roundup_pow_of_two(size), CR_ARENA_FIRST / 16, SZ_64M);
	spin_lock(&cr_size_lock);
	slot = cr_size_slot(t);
	if (slot < 0)
		slot = cr_size_next++ % CR_SIZE_HINTS;
	cr_size_hints[slot].start_time = t->start_boottime;
	cr_size_hints[slot].pid = task_pid_nr(t);
	cr_size_hints[slot].size = size;
	spin_unlock(&cr_size_lock);
}

/**
 * cr_arena_first_size() - first chunk size for a checkpoint of @t
 * @t: the target's root task
 *
 * Return: the arena size of the previous checkpoint of @t, or 1 MiB.
 */
size_t cr_arena_first_size(struct task_struct *t)
{
	return cr_size_hint(t);
}

static struct cr_ctx *cr_ctx_alloc(struct file *file, unsigned long flags,
				   bool restart)
{
	struct cr_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return NULL;
	ctx->objhash = cr_objhash_alloc();
	if (!ctx->objhash) {
		kfree(ctx);
		return NULL;
	}
	ctx->flags = flags;
	ctx->restart = restart;
	/* A deferred checkpoint holds its records until its pages are held. */
	ctx->hold = !restart && (flags & CHECKPOINT_DEFERRED);
	ctx->file = file ? get_file(file) : NULL;
	/* A file that cannot seek (a tty, a FIFO-like device) is a stream too. */
	ctx->ppos = !file || (file->f_mode & FMODE_STREAM) || !(file->f_mode & FMODE_LSEEK) ?
		    NULL : &file->f_pos;
	ctx->pos = ctx->ppos ? *ctx->ppos : 0;
	ctx->start_pos = ctx->pos;
	ctx->max_image = cr_restart_max_image();
	INIT_LIST_HEAD(&ctx->pgarr);
	cr_arena_init(&ctx->arena, CR_ARENA_FIRST, CR_ARENA_MAX);
	xxh64_reset(&ctx->csum, 0);
	ctx->st.total_ns = ktime_get_ns();	/* made a duration at the end */
	return ctx;
}

/*
 * The image file's position moves by what the call read or wrote.  Done
 * while the caller still holds the file's f_pos_lock (fdget_pos()).
 */
static void cr_ctx_sync_pos(struct cr_ctx *ctx)
{
	if (ctx->ppos)
		*ctx->ppos = ctx->pos;
}

/*
 * The statistics of the last successful checkpoint() and restart() of the
 * system, for /sys/kernel/checkpoint/stats (root only: they tell how much
 * memory someone's container has).
 */
static struct {
	struct cr_stats st;
	u64 records, bytes, pages, frozen_ns;
	bool valid;
} cr_last[2];
static DEFINE_SPINLOCK(cr_last_lock);

static void cr_stats_remember(struct cr_ctx *ctx)
{
	unsigned int k = ctx->restart;

	ctx->st.total_ns = ktime_get_ns() - ctx->st.total_ns;
	spin_lock(&cr_last_lock);
	cr_last[k].st = ctx->st;
	cr_last[k].records = ctx->records;
	cr_last[k].bytes = ctx->bytes;
	cr_last[k].pages = ctx->pages;
	cr_last[k].frozen_ns = ctx->frozen_ns;
	cr_last[k].valid = true;
	spin_unlock(&cr_last_lock);
}

/* Free the context; make the reason of a failure readable. */
static long cr_ctx_done(struct cr_ctx *ctx, long ret)
{
	if (ret < 0) {
		if (!ctx->errmsg[0] && ret == -ENOMEM)
			snprintf(ctx->errmsg, sizeof(ctx->errmsg), "%s: out of memory",
				 ctx->restart ? "restart" : "checkpoint");
		else if (!ctx->errmsg[0] && ret == -EINTR)
			snprintf(ctx->errmsg, sizeof(ctx->errmsg),
				 "%s: interrupted by a fatal signal",
				 ctx->restart ? "restart" : "checkpoint");
		else if (!ctx->errmsg[0])
			snprintf(ctx->errmsg, sizeof(ctx->errmsg), "%s failed: error %ld",
				 ctx->restart ? "restart" : "checkpoint", ret);
		pr_debug("%s[%d]: %s\n", current->comm, task_pid_nr(current),
			 ctx->errmsg);
		cr_set_last_error(ctx->errmsg);
	} else {
		cr_set_last_error(NULL);
		cr_stats_remember(ctx);
		if (!ctx->restart && ctx->root)
			cr_size_remember(ctx->root, ctx->arena.total);
		pr_debug("%s[%d]: %s: %llu records, %llu bytes, %llu pages, frozen %llu us\n",
			 current->comm, task_pid_nr(current),
			 ctx->restart ? "restart" : "checkpoint", ctx->records, ctx->bytes,
			 ctx->pages, ctx->frozen_ns / NSEC_PER_USEC);
	}
	cr_ctx_free(ctx);
	return ret;
}

/*
 * What a held checkpoint does not need: references to the container's
 * objects and tasks.
 */
static void cr_ctx_trim(struct cr_ctx *ctx)
{
	cr_objhash_free(ctx->objhash);
	ctx->objhash = NULL;
	cr_unix_release(ctx);
	if (ctx->root)
		put_task_struct(ctx->root);
	ctx->root = NULL;
	memset(ctx->stdio, 0, sizeof(ctx->stdio));	/* were the objhash's */
}

/**
 * cr_ctx_free() - free a context and everything it holds
 * @ctx: the context
 */
void cr_ctx_free(struct cr_ctx *ctx)
{
	cr_pgarr_release(ctx);
	cr_ctx_trim(ctx);
	cr_arena_release(&ctx->arena);
	kvfree(ctx->recs);
	if (ctx->file)
		fput(ctx->file);
	cr_held_src_put(ctx->src);
	kfree(ctx);
}

/* A deferred checkpoint without a file: held under a crid. */
static long cr_ctx_hold(struct cr_ctx *ctx)
{
	struct task_struct *root = get_task_struct(ctx->root);
	long ret;

	cr_stats_remember(ctx);
	cr_size_remember(root, ctx->arena.total);
	cr_ctx_trim(ctx);
	/* A caller killed now would never learn the crid. */
	ret = fatal_signal_pending(current) ? -EINTR : cr_held_add(ctx, root);
	put_task_struct(root);
	if (ret < 0)
		return cr_ctx_done(ctx, ret);
	cr_set_last_error(NULL);
	return ret;
}

/* checkpoint(crid, fd, CHECKPOINT_CRID_WRITE and/or CHECKPOINT_CRID_DROP) */
static long cr_crid_op(int crid, int fd, unsigned long flags)
{
	char why[CR_ERRMSG_LEN] = "";
	struct fd f = EMPTY_FD;
	long ret;

	if (flags & ~CHECKPOINT_CRID_OPS)
		return cr_fail(-EINVAL,
			       "checkpoint: CHECKPOINT_CRID_WRITE and _DROP take no other flag");
	if (!(flags & CHECKPOINT_CRID_WRITE)) {
		if (fd != -1)
			return cr_fail(-EBADF, "checkpoint: CHECKPOINT_CRID_DROP takes fd -1");
	} else {
		f = fdget_pos(fd);
		if (fd_empty(f))
			return cr_fail(-EBADF, "checkpoint: fd is not open");
		if (!(fd_file(f)->f_mode & FMODE_WRITE) ||
		    !(fd_file(f)->f_mode & FMODE_CAN_WRITE)) {
			fdput_pos(f);
			return cr_fail(-EBADF, "checkpoint: fd is not open for writing");
		}
	}
	ret = cr_held_op(crid, fd_empty(f) ? NULL : fd_file(f), flags, why, sizeof(why));
	if (!fd_empty(f))
		fdput_pos(f);
	return ret ? cr_fail(ret, why) : cr_fail(0, NULL);
}

/**
 * sys_checkpoint - checkpoint a container to a file descriptor
 * @pid: the container's init (pid 1 of a pid namespace), or with
 *	CHECKPOINT_SUBTREE any process, in the caller's pid namespace; 0
 *	for the caller itself (with CHECKPOINT_DEFERRED and @fd -1: a
 *	self-checkpoint, which restart() can roll the caller back to); with
 *	CHECKPOINT_CRID_WRITE or CHECKPOINT_CRID_DROP the crid of a held
 *	checkpoint
 * @fd: file descriptor open for writing; the image is written at its
 *	position (or appended to the stream); -1 with CHECKPOINT_DEFERRED
 *	(hold the checkpoint) or CHECKPOINT_CRID_DROP alone
 * @flags: CHECKPOINT_SUBTREE (@pid and its descendants, not the whole
 *	container), CHECKPOINT_LEAVE_FROZEN (stay frozen after success),
 *	CHECKPOINT_KILL (kill the tasks once the image is written),
 *	CHECKPOINT_SOCK_DISCONNECT (save a unix socket connected outside
 *	the container as if its peer had crashed: restart gives a reset),
 *	CHECKPOINT_NO_PAGE_CSUM (no checksum of the memory contents),
 *	CHECKPOINT_DEFERRED (frozen only for the capture, memory held
 *	copy-on-write; with @fd -1 held in the kernel), or alone
 *	CHECKPOINT_CRID_WRITE and/or CHECKPOINT_CRID_DROP (write out, drop
 *	the held checkpoint @pid)
 *
 * The container's cgroup is frozen while every task of it is captured
 * and thawed after (left frozen if it was frozen before).  Without
 * CHECKPOINT_DEFERRED it stays frozen until its memory is written.
 * A process checkpointing itself (@pid 0) is not frozen: it must have
 * one thread and no children; a process restored from that checkpoint
 * (by restart() with RESTART_IN_PLACE, or in a new container) comes
 * back from this call with 0.
 *
 * Checks, in this order: @flags, @fd, @pid (or the crid), permission.
 *
 * Return: 0 on success, or with CHECKPOINT_DEFERRED and @fd -1 the crid
 * of the held checkpoint (> 0), and 0 again in a process restored from a
 * self-checkpoint; on failure a negative errno, with the reason in
 * /sys/kernel/checkpoint/error:
 *  -EINVAL	unknown @flags bits, LEAVE_FROZEN with KILL, DEFERRED with
 *		either, a CRID flag with another flag, @pid names a kernel thread or a thread,
 *		or without CHECKPOINT_SUBTREE not the init of a pid
 *		namespace; @pid 0 without CHECKPOINT_DEFERRED and @fd -1;
 *  -EBADF	@fd is not open for writing (or not -1 where it must be);
 *  -ENOENT	no held checkpoint of that crid;
 *  -ENOSPC	(CHECKPOINT_DEFERRED with @fd -1) 64 checkpoints are held,
 *		16 by the caller's uid, or their pages would be more than
 *		a quarter of the RAM, or take the caller's locked memory
 *		over RLIMIT_MEMLOCK (without CAP_IPC_LOCK);
 *  -ESRCH	no process @pid in the caller's pid namespace, or a task
 *		of the container died during the checkpoint;
 *  -EPERM	the caller may not ptrace-attach to a task of the container,
 *		or the held checkpoint is another user's (and the caller has
 *		no CAP_SYS_ADMIN over its user namespace);
 *  -EBUSY	the container's cgroup is shared with other tasks, is the
 *		root cgroup, holds the caller, or did not freeze in time; a
 *		task ran (was thawed or woken) before the image's END record
 *		was written, which it then lacks; an
 *		object of the container is also used by a task outside it, or
 *		one of its unix sockets is connected to a socket outside it
 *		(without CHECKPOINT_SOCK_DISCONNECT);
 *  -EOPNOTSUPP	the container uses something not supported yet (named in
 *		the reason), or a process checkpointing itself has other
 *		threads or children; nothing was changed;
 *  -EINTR	a fatal signal arrived, or a signal interrupted a write
 *		to @fd that could not complete;
 *  -ENOMEM	out of memory;
 *  any error of writing to @fd (-ENOSPC, -EPIPE, -EFBIG, ...).
 */
SYSCALL_DEFINE3(checkpoint, pid_t, pid, int, fd, unsigned long, flags)
{
	struct cr_ctx *ctx;
	struct fd f;
	long ret;

	if (flags & ~CHECKPOINT_FLAGS_ALL)
		return cr_fail(-EINVAL, "checkpoint: unknown flags");
	if ((flags & CHECKPOINT_LEAVE_FROZEN) && (flags & CHECKPOINT_KILL))
		return cr_fail(-EINVAL,
			       "checkpoint: CHECKPOINT_LEAVE_FROZEN and CHECKPOINT_KILL exclude each other");
	if (flags & CHECKPOINT_CRID_OPS)
		return cr_crid_op(pid, fd, flags);
	/* The image must be out before the container is killed or left frozen. */
	if ((flags & CHECKPOINT_DEFERRED) &&
	    (flags & (CHECKPOINT_KILL | CHECKPOINT_LEAVE_FROZEN)))
		return cr_fail(-EINVAL,
			       "checkpoint: CHECKPOINT_DEFERRED excludes CHECKPOINT_KILL and CHECKPOINT_LEAVE_FROZEN");
	if (!pid && !((flags & CHECKPOINT_DEFERRED) && fd == -1))
		return cr_fail(-EINVAL,
			       "checkpoint: pid 0 (the caller itself) is held: CHECKPOINT_DEFERRED with fd -1");
	if ((flags & CHECKPOINT_DEFERRED) && fd == -1) {
		ctx = cr_ctx_alloc(NULL, flags, false);
		if (!ctx)
			return cr_fail(-ENOMEM, "checkpoint: out of memory");
		ret = cr_do_checkpoint(ctx, pid);
		if (ret)
			return cr_ctx_done(ctx, ret);
		return cr_ctx_hold(ctx);
	}
	f = fdget_pos(fd);
	if (fd_empty(f))
		return cr_fail(-EBADF, "checkpoint: fd is not open");
	if (!(fd_file(f)->f_mode & FMODE_WRITE) || !(fd_file(f)->f_mode & FMODE_CAN_WRITE)) {
		fdput_pos(f);
		return cr_fail(-EBADF, "checkpoint: fd is not open for writing");
	}
	ctx = cr_ctx_alloc(fd_file(f), flags, false);
	if (!ctx) {
		fdput_pos(f);
		return cr_fail(-ENOMEM, "checkpoint: out of memory");
	}
	ret = cr_do_checkpoint(ctx, pid);
	cr_ctx_sync_pos(ctx);
	fdput_pos(f);
	return cr_ctx_done(ctx, ret);
}

/*
 * Does a process other than the caller use its address space (CLONE_VM,
 * vfork())?  Passing users (a reader of its /proc/PID/mem, a debugger's
 * peek) count in mm_users too, but not here.
 */
static bool cr_mm_shared(void)
{
	struct mm_struct *mm = current->mm;
	struct task_struct *p, *t;
	bool shared = false;

	if (atomic_read(&mm->mm_users) <= 1)
		return false;
	rcu_read_lock();
	for_each_process_thread(p, t) {
		if (!same_thread_group(t, current) && READ_ONCE(t->mm) == mm) {
			shared = true;
			break;
		}
	}
	rcu_read_unlock();
	return shared;
}

/*
 * The checks of restart() on permission, then on its caller, after those
 * on its arguments; none reads the image.  RESTART_IN_PLACE (the caller
 * goes back to a held checkpoint of itself) chooses no pid, but what it
 * gets back (its descriptors, its root and working directory, its
 * memory) is what restart() gives: the same capability is asked for,
 * over the caller's own user namespace.
 */
static long cr_restart_checks(int crid, unsigned long flags)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	bool in_place = flags & RESTART_IN_PLACE;
	const char *busy;
	int ret;

	if (in_place && !checkpoint_restore_ns_capable(current_user_ns()))
		return cr_fail(-EPERM,
			       "restart: RESTART_IN_PLACE needs CAP_CHECKPOINT_RESTORE over the caller's user namespace");
	if (!in_place && !checkpoint_restore_ns_capable(ns->user_ns))
		return cr_fail(-EPERM,
			       "restart: needs CAP_CHECKPOINT_RESTORE over the new pid namespace");
	ret = crid ? cr_held_access(crid) : 0;
	if (ret == -ENOENT)
		return cr_fail(ret, "restart: no such in-kernel checkpoint");
	if (ret)
		return cr_fail(ret, "restart: the held checkpoint is another user's");

	if (!in_place && (ns == &init_pid_ns || task_pid_vnr(current) != 1))
		return cr_fail(-EINVAL, "restart: the caller must be pid 1 of a new pid namespace");
	if (!thread_group_empty(current) || cr_mm_shared())
		return cr_fail(-EINVAL,
			       "restart: the caller must be single-threaded and not share its memory");
	if (in_place && !cr_held_of(crid, current))
		return cr_fail(-EINVAL,
			       "restart: RESTART_IN_PLACE: the held checkpoint is not of the calling process");
	busy = cr_restarter_busy();
	if (busy)
		return cr_fail(-EINVAL, busy);
	return 0;
}

/**
 * sys_restart - restart a container from a checkpoint image
 * @crid: RESTART_CRID_FD (0) to read the image from @fd; a positive crid
 *	names a held checkpoint (checkpoint() with CHECKPOINT_DEFERRED and
 *	fd -1) to restart from, which stays held
 * @fd: file descriptor open for reading, positioned at the image; -1
 *	with a crid
 * @flags: RESTART_FROZEN: leave the restored container frozen;
 *	RESTART_IN_PLACE: with a held checkpoint of the caller itself,
 *	roll the caller back to it (see below)
 *
 * Called by pid 1 of a new pid namespace, single-threaded, with
 * CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in the user namespace owning
 * that pid namespace, as clone3() requires to choose pids.
 * The records of the image (everything but the memory contents) are read
 * and checked first; a failure up to there returns with nothing changed.
 * The memory contents (the page data) are then read straight into the
 * restored tasks' memory and checked against their checksums; corrupt or
 * missing page data kill the restored container.  Then the caller becomes the restored
 * process: on success restart() does not return to the caller's code but
 * to the restored process, which carries on where it was checkpointed.
 * A failure after that point kills the caller.  Credentials are never
 * restored: the restored process runs with the caller's.
 *
 * Checks, in this order, before the image is read: @flags, @crid, @fd,
 * permission (the capability, then the owner of a held checkpoint),
 * caller (pid 1 of a new pid namespace, or with RESTART_IN_PLACE the
 * process of the held checkpoint; single-threaded, its memory its own,
 * no children, no timer armed).
 *
 * With RESTART_IN_PLACE the caller is rolled back ("undo"): @crid is a
 * held checkpoint of the calling process alone (a self-checkpoint,
 * checkpoint() of pid 0, or one taken of it from outside), which stays
 * held.  The caller, single-threaded, without children, with
 * CAP_CHECKPOINT_RESTORE over its own user namespace, gets back its
 * memory, registers, descriptors, signal handlers, mask and pending
 * signals as they were and carries on from there: from a
 * self-checkpoint, its checkpoint() returns 0.  Its pid, credentials,
 * namespaces, process group and session stay as they are now.
 *
 * Every other task of the image is created in the kernel by its saved
 * parent with its saved pid.  A root task that was not pid 1 of its
 * container is created instead as a child of the caller, with its saved
 * pid; the caller stays the container's init and restart() returns that
 * pid to it.  If the tree cannot be built, every task created is killed
 * and reaped, and the caller gets the error.
 *
 * Return: does not return on success, or returns the pid of the restored
 * child (see above); on failure a negative errno, with the reason in
 * /sys/kernel/checkpoint/error:
 *  -EINVAL	unknown @flags bits, RESTART_IN_PLACE with RESTART_FROZEN
 *		or without a crid, a negative @crid; or the caller is not
 *		pid 1 of a new pid namespace (RESTART_IN_PLACE: the held
 *		checkpoint is not of the caller, or not of it alone), or is
 *		multi-threaded or shares its memory, or has children;
 *  -ENOENT	@crid names no held checkpoint;
 *  -EBADF	@fd is not open for reading, or not -1 with a crid;
 *  -EPERM	no CAP_CHECKPOINT_RESTORE (nor CAP_SYS_ADMIN) over the
 *		caller's pid namespace (RESTART_IN_PLACE: user namespace),
 *		or the held checkpoint @crid is another user's;
 *  -ENOEXEC	not a checkpoint image, or one for another architecture;
 *  -EPROTO	image of another format version or ABI hash;
 *  -EBADMSG	corrupt image: bad record, bad field, checksum mismatch
 *		(of the records, or of the page data: the container is
 *		killed);
 *  -ENODATA	truncated image, or without its END record (in its page
 *		data or END, which a stream or a file truncated meanwhile
 *		only shows past the point of no return: the container is
 *		killed, see above);
 *  -EOPNOTSUPP	the image needs something this kernel or CPU lacks, or
 *		sharing between tasks that restart cannot rebuild;
 *  -ENOENT, -EACCES, -ESTALE, ...	a file of the image cannot be
 *		reopened as it was (-ESTALE: of another kind now, or too
 *		short for the pages saved of its private mapping);
 *  -EMFILE	more files or unix sockets than RLIMIT_NOFILE;
 *  -ENOSPC	queued bytes, messages or connections exceed the limits of
 *		the restored pipe or socket;
 *  -EADDRINUSE	a unix socket's path or abstract name is taken;
 *  -ETOOMANYREFS	more files in flight than the caller may have;
 *  -EBUSY	a restored socket was reached from outside meanwhile;
 *  -EEXIST	a pid of the image was taken in the new container meanwhile
 *		(by a process that entered it with setns());
 *  -EINTR	a fatal signal arrived, or a signal while the image was
 *		read before the point of no return;
 *  -ENOMEM	out of memory;
 *  any error of reading @fd.
 */
SYSCALL_DEFINE3(restart, int, crid, int, fd, unsigned long, flags)
{
	struct file *held = NULL, *file;
	struct cr_held_src *src = NULL;
	struct cr_resume res = {};
	char why[CR_ERRMSG_LEN] = "";
	bool restored_child;
	struct cr_ctx *ctx;
	struct fd f = EMPTY_FD;
	long ret;

	if (flags & ~RESTART_FLAGS_ALL)
		return cr_fail(-EINVAL, "restart: unknown flags");
	if ((flags & RESTART_IN_PLACE) && (flags & RESTART_FROZEN))
		return cr_fail(-EINVAL,
			       "restart: RESTART_IN_PLACE and RESTART_FROZEN exclude each other");
	if (crid < 0)
		return cr_fail(-EINVAL, "restart: crid is negative");
	if (!crid && (flags & RESTART_IN_PLACE))
		return cr_fail(-EINVAL,
			       "restart: RESTART_IN_PLACE needs a held checkpoint (crid > 0)");
	if (crid > 0 && !cr_held_exists(crid))
		return cr_fail(-ENOENT, "restart: no such in-kernel checkpoint");
	if (crid > 0) {
		if (fd != -1)
			return cr_fail(-EBADF, "restart: from a held checkpoint fd must be -1");
		ret = cr_restart_checks(crid, flags);
		if (ret)
			return ret;
		/* The image of the held checkpoint, in a file of the kernel's. */
		held = cr_held_file(crid, &src, why, sizeof(why));
		if (IS_ERR(held))
			return cr_fail(PTR_ERR(held), why);
		file = held;
	} else {
		f = fdget_pos(fd);
		if (fd_empty(f))
			return cr_fail(-EBADF, "restart: fd is not open");
		file = fd_file(f);
		if (!(file->f_mode & FMODE_READ) || !(file->f_mode & FMODE_CAN_READ)) {
			ret = cr_fail(-EBADF, "restart: fd is not open for reading");
			goto out;
		}
		ret = cr_restart_checks(0, flags);
		if (ret)
			goto out;
	}
	ctx = cr_ctx_alloc(file, flags, true);
	if (!ctx) {
		ret = cr_fail(-ENOMEM, "restart: out of memory");
		goto out;
	}
	ctx->src = src;
	src = NULL;
	ret = cr_do_restart(ctx, &res);
	/* The fd may be gone with the caller's fd table: ctx holds the file. */
	cr_ctx_sync_pos(ctx);
	if (held)
		fput(held);
	else
		fdput_pos(f);
	restored_child = !(flags & RESTART_IN_PLACE) && ctx->root_pid != 1;
	ret = cr_ctx_done(ctx, ret);
	if (ret)
		return ret;
	if (restored_child)
		return res.ax;
	return cr_resume(&res);
out:
	cr_held_src_put(src);
	if (held)
		fput(held);
	else
		fdput_pos(f);
	return ret;
}

/* -- /sys/kernel/checkpoint ---------------------------------------------- */

static ssize_t abi_hash_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%016llx\n", (unsigned long long)CR_ABI_HASH);
}

static ssize_t error_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	const char *msg = current->checkpoint_err;

	return msg ? sysfs_emit(buf, "%s\n", msg) : 0;
}

static ssize_t stats_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	static const char * const kind[] = { "checkpoint", "restart" };
	typeof(cr_last) last;
	int len = 0, k;

	/* the host's administrator's: not root of a container's own */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	spin_lock(&cr_last_lock);
	memcpy(last, cr_last, sizeof(last));
	spin_unlock(&cr_last_lock);
	for (k = 0; k < ARRAY_SIZE(last); k++) {
		const struct cr_stats *st = &last[k].st;

		if (!last[k].valid)
			continue;
		len += sysfs_emit_at(buf, len,
				     "%s records=%llu bytes=%llu pages=%llu total_ns=%llu",
				     kind[k], last[k].records, last[k].bytes, last[k].pages,
				     st->total_ns);
		if (k == 0)
			len += sysfs_emit_at(buf, len,
					     " frozen_ns=%llu freeze_ns=%llu capture_ns=%llu hash_ns=%llu write_ns=%llu data_ns=%llu\n",
					     last[k].frozen_ns, st->freeze_ns, st->capture_ns,
					     st->hash_ns, st->write_ns, st->data_ns);
		else
			len += sysfs_emit_at(buf, len,
					     " read_ns=%llu check_ns=%llu map_ns=%llu data_ns=%llu hash_ns=%llu kmem_peak=%llu\n",
					     st->read_ns, st->check_ns, st->map_ns, st->data_ns,
					     st->hash_ns, st->kmem_peak);
	}
	return len;
}

static struct kobj_attribute cr_abi_hash_attr = __ATTR_RO(abi_hash);
static struct kobj_attribute cr_stats_attr = __ATTR(stats, 0400, stats_show, NULL);

/* The reader's own held checkpoints (all of them for CAP_SYS_ADMIN). */
static ssize_t held_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return cr_held_show(buf);
}

static struct kobj_attribute cr_held_attr = __ATTR_RO(held);
static struct kobj_attribute cr_error_attr = __ATTR(error, 0444, error_show, NULL);

static ssize_t cr_abi_read(struct file *file, struct kobject *kobj,
			   struct bin_attribute *attr, char *buf, loff_t off,
			   size_t len)
{
	return memory_read_from_buffer(buf, len, &off, cr_abi_data, sizeof(cr_abi_data));
}

static struct bin_attribute cr_abi_attr = {
	.attr = { .name = "abi.h.gz", .mode = 0444 },
	.read = cr_abi_read,
};

static struct attribute *cr_attrs[] = {
	&cr_abi_hash_attr.attr,
	&cr_error_attr.attr,
	&cr_stats_attr.attr,
	&cr_held_attr.attr,
	NULL
};

static struct bin_attribute *cr_bin_attrs[] = {
	&cr_abi_attr,
	NULL
};

static const struct attribute_group cr_attr_group = {
	.attrs = cr_attrs,
	.bin_attrs = cr_bin_attrs,
};

static int __init cr_sysfs_init(void)
{
	struct kobject *kobj;
	int ret;

	cr_hdr_layout_checks();
	cr_abi_attr.size = sizeof(cr_abi_data);
	kobj = kobject_create_and_add("checkpoint", kernel_kobj);
	if (!kobj)
		return -ENOMEM;
	ret = sysfs_create_group(kobj, &cr_attr_group);
	if (ret)
		kobject_put(kobj);
	return ret;
}
late_initcall(cr_sysfs_init);
