// SPDX-License-Identifier: GPL-2.0-only
/*
 * Held checkpoints: what a deferred checkpoint() with fd -1 keeps in the
 * kernel, named by a crid.  A held checkpoint is the context of the call
 * that took it, trimmed to what a write-out needs: the records in the
 * arena and the page references, held copy-on-write (mm/checkpoint.c).
 * It keeps no reference to the container's tasks, files or sockets.
 *
 * checkpoint(crid, fd, CHECKPOINT_CRID_WRITE) writes its image, as many
 * times as asked; checkpoint(crid, -1, CHECKPOINT_CRID_DROP) releases it.
 * Only its owner (the effective uid that took it, from its user namespace
 * or one below) or CAP_SYS_ADMIN over that namespace may do either.  The
 * owner is that user, not the process that took it (the tools take it in
 * one call and write it in another): a held checkpoint is dropped once
 * its owner has no process left, and once its container is gone after
 * one write-out to a file; the reaper runs every second while any is
 * held.  restart(crid, -1, flags) restarts from it (it stays held).
 * Limits: CR_HELD_MAX in the system, CR_HELD_USER_MAX per uid, their
 * pages together at most a quarter of the RAM, and each owner's charged
 * to its locked memory (RLIMIT_MEMLOCK) unless it has CAP_IPC_LOCK.
 */

#define pr_fmt(fmt) "checkpoint: " fmt

#include <linux/capability.h>
#include <linux/checkpoint.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/refcount.h>
#include <linux/shmem_fs.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#define CR_HELD_MAX		64
#define CR_HELD_USER_MAX	16

struct cr_held {
	struct cr_ctx *ctx;
	const struct cred *owner;
	struct user_struct *user;	/* charged with @pages as locked memory, or NULL */
	struct pid *root;	/* the container's root task */
	u64 root_exec_id;	/* its self_exec_id: an execve() since is another program */
	u64 records;		/* records in the arena */
	u64 pages;		/* pages held */
	u64 image_bytes;	/* of the last write-out */
	unsigned int writes;	/* write-outs to a file done (restarts not counted) */
	u32 ns_flags;		/* the head's: namespaces restart needs */
	u64 size;		/* bytes of its image */
	struct mutex lock;	/* one write-out at a time */
	refcount_t ref;
	int crid;
};

static DEFINE_XARRAY_ALLOC1(cr_helds);
static u64 cr_held_pages_total;		/* under the xa_lock */
static u32 cr_held_next = 1;		/* crids are not reused at once */

static void cr_held_reap_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(cr_held_reap_work, cr_held_reap_fn);

static void cr_held_put(struct cr_held *hd)
{
	if (!refcount_dec_and_test(&hd->ref))
		return;
	cr_ctx_free(hd->ctx);
	if (hd->user) {
		atomic_long_sub(hd->pages, &hd->user->locked_vm);
		free_uid(hd->user);
	}
	put_cred(hd->owner);
	put_pid(hd->root);
	kfree(hd);
}

/* Take @hd out of the table (once); the table's reference is dropped. */
static void cr_held_remove(struct cr_held *hd)
{
	bool removed;

	xa_lock(&cr_helds);
	removed = __xa_cmpxchg(&cr_helds, hd->crid, hd, NULL, 0) == hd;
	if (removed)
		cr_held_pages_total -= hd->pages;
	xa_unlock(&cr_helds);
	if (removed)
		cr_held_put(hd);
}

/*
 * Held pages cannot be reclaimed, migrated or compacted, as pinned ones:
 * they are charged to the owner's locked memory, against its
 * RLIMIT_MEMLOCK, as io_uring charges its pinned buffers, unless it has
 * CAP_IPC_LOCK.  As there, the account is the user_struct of the real
 * uid (where mlock() counts too); the crid belongs to the effective uid.
 */
static int cr_held_charge(struct cr_ctx *ctx, struct cr_held *hd)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	struct user_struct *user = current_user();
	long cur;

	if (!hd->pages || capable(CAP_IPC_LOCK))
		return 0;
	cur = atomic_long_read(&user->locked_vm);
	do {
		if (cur + hd->pages > limit)
			return cr_err(ctx, -ENOSPC,
				      "holding %llu pages would take this user's locked memory (%ld pages) over RLIMIT_MEMLOCK (%lu pages)",
				      hd->pages, cur, limit);
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, cur + hd->pages));
	hd->user = get_uid(user);
	return 0;
}

/**
 * cr_held_add() - hold the context of a deferred checkpoint under a crid
 * @ctx: its context, trimmed (cr_ctx_trim()); taken over on success
 * @root: the container's root task
 *
 * Return: the crid (> 0), or -ENOSPC (a limit on held checkpoints, or
 * the owner's RLIMIT_MEMLOCK, is reached) or -ENOMEM, with the reason
 * recorded in @ctx.
 */
int cr_held_add(struct cr_ctx *ctx, struct task_struct *root)
{
	u64 max_pages = totalram_pages() / 4;
	kuid_t uid = current_euid();
	unsigned int n = 0, mine = 0;
	struct cr_held *hd, *o;
	struct cr_chunk *c;
	unsigned long i;
	u32 crid;
	int ret;

	hd = kzalloc(sizeof(*hd), GFP_KERNEL_ACCOUNT);
	if (!hd)
		return -ENOMEM;
	hd->ctx = ctx;
	c = list_first_entry_or_null(&ctx->arena.chunks, struct cr_chunk, list);
	if (c && c->used >= sizeof(struct cr_hdr_head))
		hd->ns_flags = ((struct cr_hdr_head *)c->data)->ns_flags;
	hd->records = ctx->records;
	hd->pages = ctx->data_pages;
	hd->size = ALIGN(ctx->arena.total + sizeof(struct cr_hdr_tail), PAGE_SIZE) +
		   ctx->data_pages * PAGE_SIZE + sizeof(struct cr_hdr_end);
	mutex_init(&hd->lock);
	refcount_set(&hd->ref, 1);
	ret = cr_held_charge(ctx, hd);
	if (ret) {
		kfree(hd);
		return ret;
	}

	xa_lock(&cr_helds);
	xa_for_each(&cr_helds, i, o) {
		n++;
		mine += uid_eq(o->owner->euid, uid);
	}
	if (n >= CR_HELD_MAX || mine >= CR_HELD_USER_MAX)
		ret = cr_err(ctx, -ENOSPC,
			     "%u checkpoints held, %u of them by this user: the limits are %u and %u",
			     n, mine, CR_HELD_MAX, CR_HELD_USER_MAX);
	else if (cr_held_pages_total + hd->pages > max_pages)
		ret = cr_err(ctx, -ENOSPC,
			     "held checkpoints would hold %llu pages, more than a quarter of the RAM (%llu)",
			     cr_held_pages_total + hd->pages, max_pages);
	else
		ret = __xa_alloc_cyclic(&cr_helds, &crid, hd, xa_limit_31b, &cr_held_next,
					GFP_ATOMIC);
	if (ret == 1)
		ret = 0;	/* the crids wrapped around */
	if (!ret) {
		cr_held_pages_total += hd->pages;
		hd->crid = crid;
		hd->owner = get_current_cred();
		hd->root = get_pid(task_pid(root));
		hd->root_exec_id = READ_ONCE(root->self_exec_id);
	}
	xa_unlock(&cr_helds);
	if (ret == -EBUSY)
		ret = cr_err(ctx, -ENOSPC, "every crid is in use");
	if (ret) {
		if (hd->user) {
			atomic_long_sub(hd->pages, &hd->user->locked_vm);
			free_uid(hd->user);
		}
		kfree(hd);
		return ret;
	}
	schedule_delayed_work(&cr_held_reap_work, HZ);
	return crid;
}

/* May the caller write or drop @hd? */
static bool cr_held_may(const struct cr_held *hd)
{
	const struct cred *cred = current_cred();

	/* Its owner also from a user namespace of its own (to restart it there). */
	if (in_userns(hd->owner->user_ns, cred->user_ns) && uid_eq(cred->euid, hd->owner->euid))
		return true;
	return ns_capable_noaudit(hd->owner->user_ns, CAP_SYS_ADMIN);
}

static struct cr_held *cr_held_get(int crid)
{
	struct cr_held *hd;

	if (crid <= 0)
		return NULL;
	xa_lock(&cr_helds);
	hd = xa_load(&cr_helds, crid);
	if (hd)
		refcount_inc(&hd->ref);
	xa_unlock(&cr_helds);
	return hd;
}

/*
 * Write the image of @hd to @file, at its position unless a stream; a
 * write-out to the caller's file (@count) is counted, one for restart()
 * is not.
 */
static int cr_held_write(struct cr_held *hd, struct file *file, bool count, bool no_data,
			 char *why, size_t len)
{
	struct cr_ctx *ctx = hd->ctx;
	int ret;

	if (mutex_lock_killable(&hd->lock)) {
		strscpy(why, "interrupted by a fatal signal", len);
		return -EINTR;
	}
	ctx->err = 0;
	ctx->errmsg[0] = '\0';
	ctx->file = file;
	ctx->ppos = (file->f_mode & FMODE_STREAM) || !(file->f_mode & FMODE_LSEEK) ?
		    NULL : &file->f_pos;
	ctx->pos = ctx->ppos ? *ctx->ppos : 0;
	ctx->start_pos = ctx->pos;
	cr_output_rewind(ctx);
	ctx->records = hd->records;
	ctx->no_data = no_data;
	ret = cr_write_held(ctx, true);
	ctx->no_data = false;
	if (ctx->ppos)
		*ctx->ppos = ctx->pos;
	if (!ret)
		WRITE_ONCE(hd->image_bytes, ctx->bytes);
	if (!ret && count)
		WRITE_ONCE(hd->writes, hd->writes + 1);
	if (ret)
		strscpy(why, ctx->errmsg[0] ? ctx->errmsg : "writing the image failed", len);
	ctx->file = NULL;
	ctx->ppos = NULL;
	mutex_unlock(&hd->lock);
	return ret;
}

/**
 * cr_held_op() - write out and/or drop a held checkpoint
 * @crid: its crid
 * @file: where to write its image (CHECKPOINT_CRID_WRITE), or NULL; the
 *	caller holds its position lock
 * @flags: CHECKPOINT_CRID_WRITE and/or CHECKPOINT_CRID_DROP (then after
 *	a successful write only)
 * @why: filled with the reason of a failure
 * @len: its size
 *
 * Return: 0, or -ENOENT (no such crid), -EPERM (not the owner's, and no
 * CAP_SYS_ADMIN over the owner's user namespace), -EINTR, or an error of
 * writing the image.
 */
int cr_held_op(int crid, struct file *file, unsigned long flags, char *why, size_t len)
{
	struct cr_held *hd = cr_held_get(crid);
	int ret = 0;

	if (!hd) {
		snprintf(why, len, "checkpoint: no held checkpoint %d", crid);
		return -ENOENT;
	}
	if (!cr_held_may(hd)) {
		snprintf(why, len, "checkpoint: held checkpoint %d is another user's", crid);
		ret = -EPERM;
	}
	/* Written back, it is dropped once its container is gone. */
	if (!ret && (flags & CHECKPOINT_CRID_WRITE))
		ret = cr_held_write(hd, file, true, false, why, len);
	if (!ret && (flags & CHECKPOINT_CRID_DROP))
		cr_held_remove(hd);
	cr_held_put(hd);
	return ret;
}

/* Is the process or task @pid gone? */
static bool cr_pid_gone(struct pid *pid, enum pid_type type)
{
	bool gone;

	rcu_read_lock();
	gone = !pid_task(pid, type);
	rcu_read_unlock();
	return gone;
}

/* Has the owner of @hd no process left (its processes counted as RLIMIT_NPROC)? */
static bool cr_owner_gone(const struct cr_held *hd)
{
	return get_rlimit_value(hd->owner->ucounts, UCOUNT_RLIMIT_NPROC) <= 0;
}

/*
 * Drop what nobody can use any more: the checkpoints of owners with no
 * process left, and those written out whose container is gone.
 */
static void cr_held_reap_fn(struct work_struct *work)
{
	struct cr_held *hd;
	unsigned long i;
	bool more = false;

	xa_for_each(&cr_helds, i, hd) {
		hd = cr_held_get(i);
		if (!hd)
			continue;
		if (cr_owner_gone(hd) ||
		    (READ_ONCE(hd->writes) && cr_pid_gone(hd->root, PIDTYPE_PID)))
			cr_held_remove(hd);
		else
			more = true;
		cr_held_put(hd);
	}
	if (more)
		schedule_delayed_work(&cr_held_reap_work, HZ);
}

/**
 * cr_held_show() - the caller's held checkpoints, for sysfs
 * @buf: a page
 *
 * A line per held checkpoint the caller may write or drop: crid, the
 * owner's uid (in the caller's user namespace), the container root's
 * pid (in the caller's pid namespace, 0 if gone or not visible), pages
 * held, records, write-outs done, the bytes of the last one, the
 * namespaces restart needs (the head's ns_flags, in hex), the bytes of
 * its image, and those written so far by a write-out in progress (0 if
 * none): the tools show progress from them.
 *
 * Return: bytes in @buf.
 */
ssize_t cr_held_show(char *buf)
{
	struct cr_held *hd;
	unsigned long i;
	ssize_t n = 0;

	n += sysfs_emit_at(buf, n,
			   "crid uid root pages records writes image_bytes ns_flags size progress\n");
	xa_for_each(&cr_helds, i, hd) {
		hd = cr_held_get(i);
		if (!hd)
			continue;
		if (cr_held_may(hd))
			n += sysfs_emit_at(buf, n, "%d %u %d %llu %llu %u %llu %#x %llu %llu\n",
					   hd->crid,
					   from_kuid_munged(current_user_ns(), hd->owner->euid),
					   cr_pid_gone(hd->root, PIDTYPE_PID) ? 0 :
					   pid_vnr(hd->root),
					   hd->pages,
					   hd->records, READ_ONCE(hd->writes),
					   READ_ONCE(hd->image_bytes), hd->ns_flags, hd->size,
					   mutex_is_locked(&hd->lock) ?
					   READ_ONCE(hd->ctx->bytes) : 0);
		cr_held_put(hd);
	}
	return n;
}

/**
 * cr_held_exists() - is @crid a held checkpoint?
 * @crid: a crid
 *
 * Return: true if it is held now (restart() checks the owner later).
 */
bool cr_held_exists(int crid)
{
	struct cr_held *hd = cr_held_get(crid);

	if (hd)
		cr_held_put(hd);
	return hd;
}

/**
 * cr_held_access() - may the caller use the held checkpoint @crid?
 * @crid: a crid
 *
 * The check of its owner that a write-out, a drop and restart() make.
 *
 * Return: 0, -ENOENT (not held now) or -EPERM (another user's).
 */
int cr_held_access(int crid)
{
	struct cr_held *hd = cr_held_get(crid);
	int ret;

	if (!hd)
		return -ENOENT;
	ret = cr_held_may(hd) ? 0 : -EPERM;
	cr_held_put(hd);
	return ret;
}

/**
 * cr_held_of() - is @crid a held checkpoint whose root is @t?
 * @crid: a crid
 * @t: a task
 *
 * The root is kept as its struct pid: a pid number reused since is
 * another struct pid, another process.
 *
 * Return: true if @crid is held and was taken of @t as its root, and @t
 * has not run execve() since.
 */
bool cr_held_of(int crid, struct task_struct *t)
{
	struct cr_held *hd = cr_held_get(crid);
	bool of;

	if (!hd)
		return false;
	/* Not across an execve(): it may have gained privileges. */
	of = hd->root == task_pid(t) && hd->root_exec_id == READ_ONCE(t->self_exec_id);
	cr_held_put(hd);
	return of;
}

/*
 * The page data of a held checkpoint, for restart(): its pages in image
 * order.  The reference on the held checkpoint keeps them (a drop only
 * takes it out of the table), and nothing changes them: they are held
 * copy-on-write.
 */
struct cr_held_src {
	struct cr_held *hd;
	u64 nr;
	struct page *pages[] __counted_by(nr);
};

/**
 * cr_held_src_read() - copy page data of a held checkpoint
 * @src: from cr_held_file()
 * @off: offset in the page data (a multiple of the page size)
 * @pages: the pages to fill
 * @nr: how many
 *
 * Return: 0, or -ENODATA past the end of the page data.
 */
int cr_held_src_read(const struct cr_held_src *src, u64 off, struct page **pages,
		     unsigned int nr)
{
	u64 first = off >> PAGE_SHIFT;
	unsigned int i;

	if (!IS_ALIGNED(off, PAGE_SIZE) || first > src->nr || nr > src->nr - first)
		return -ENODATA;
	for (i = 0; i < nr; i++)
		copy_highpage(pages[i], src->pages[first + i]);
	return 0;
}

/**
 * cr_held_src_put() - release what cr_held_file() gave
 * @src: the page data source, or NULL
 */
void cr_held_src_put(struct cr_held_src *src)
{
	if (!src)
		return;
	cr_held_put(src->hd);
	kvfree(src);
}

static struct cr_held_src *cr_held_src_get(struct cr_held *hd)
{
	struct cr_held_src *src;
	struct cr_pgarr *pa;
	u64 n = 0;

	src = kvmalloc(struct_size(src, pages, hd->pages), GFP_KERNEL_ACCOUNT);
	if (!src)
		return NULL;
	src->nr = hd->pages;
	list_for_each_entry(pa, &hd->ctx->pgarr, list) {
		if (WARN_ON_ONCE(pa->nr > src->nr - n)) {
			kvfree(src);
			return NULL;
		}
		memcpy(&src->pages[n], pa->pages, pa->nr * sizeof(pa->pages[0]));
		n += pa->nr;
	}
	if (WARN_ON_ONCE(n != src->nr)) {
		kvfree(src);
		return NULL;
	}
	refcount_inc(&hd->ref);
	src->hd = hd;
	return src;
}

/**
 * cr_held_file() - the image of a held checkpoint, for restart()
 * @crid: its crid
 * @src: set to the source of its page data, to give restart()
 * @why: filled with the reason of a failure
 * @len: its size
 *
 * The records are written into an unlinked kernel tmpfs file, which
 * restart() then reads and checks as any image; where the page data
 * would be, the file has a hole: restart() copies them from the held
 * pages through @src, once, without checksums (they are the pages
 * themselves, held copy-on-write, not a copy that could have changed).
 *
 * Return: the file, positioned at the image, or an ERR_PTR: -ENOENT (no
 * such crid), -EPERM (not the owner's), -EFBIG (larger than the
 * caller's RLIMIT_FSIZE), -ENOMEM (also for what tmpfs reports as
 * -ENOSPC: it has no size limit here) or -EINTR.
 */
struct file *cr_held_file(int crid, struct cr_held_src **src, char *why, size_t len)
{
	struct cr_held *hd = cr_held_get(crid);
	struct file *file;
	int ret;

	*src = NULL;
	if (!hd) {
		snprintf(why, len, "restart: no held checkpoint %d", crid);
		return ERR_PTR(-ENOENT);
	}
	if (!cr_held_may(hd)) {
		snprintf(why, len, "restart: held checkpoint %d is another user's", crid);
		cr_held_put(hd);
		return ERR_PTR(-EPERM);
	}
	if (hd->size > rlimit(RLIMIT_FSIZE)) {
		snprintf(why, len,
			 "restart: the image of held checkpoint %d (%llu bytes) is over RLIMIT_FSIZE",
			 crid, hd->size);
		cr_held_put(hd);
		return ERR_PTR(-EFBIG);
	}
	*src = cr_held_src_get(hd);
	file = *src ? shmem_kernel_file_setup("checkpoint-image", 0, VM_NORESERVE) :
		      ERR_PTR(-ENOMEM);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		snprintf(why, len,
			 "restart: out of memory for a file for the image of held checkpoint %d",
			 crid);
	} else {
		ret = cr_held_write(hd, file, false, true, why, len);
		if (ret)
			fput(file);
		else
			file->f_pos = 0;
	}
	cr_held_put(hd);
	if (ret) {
		cr_held_src_put(*src);
		*src = NULL;
	}
	/* The kernel's tmpfs has no size limit: only memory runs out. */
	if (ret == -ENOSPC)
		ret = -ENOMEM;
	return ret ? ERR_PTR(ret) : file;
}
