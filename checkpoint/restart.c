// SPDX-License-Identifier: GPL-2.0-only
/*
 * restart(): read and check the whole image, collect what each record
 * asks for (opening files, checking every field), then rebuild the task
 * tree in the kernel.  Every task is created by the task that creates it
 * at restart (its parent, or for a thread its leader) with its saved pid
 * (clone3()'s set_tid), and restores itself, in its own context, before
 * it ever returns to user mode: its address space and the pages in it,
 * its files, registers.
 *
 * First the tasks that share nothing with their creator are created,
 * depth first, before anything is restored (they borrow their creator's
 * address space with CLONE_VM and replace it when they restore).  Then
 * the tasks restore themselves one at a time, in TREE order, the order
 * of their records in the image; a task that restored itself creates the
 * tasks that share with it (its threads, CLONE_FILES children) before it
 * hands the turn on.  They all wait in the kernel until the whole tree
 * stands, then go.
 *
 * The caller, pid 1 of a new pid namespace, becomes the container's init
 * (or, for a subtree, stays init and gets the root as its child).  A
 * failure before the caller's point of no return kills and reaps every
 * task created so far and returns the error with nothing changed.
 */

#define pr_fmt(fmt) "restart: " fmt

#include <linux/cgroup.h>
#include <linux/checkpoint.h>
#include <linux/ipc_namespace.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/rtnetlink.h>
#include <linux/path.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/tty.h>
#include <linux/utsname.h>
#include <linux/wait.h>
#include <uapi/linux/wait.h>
#include <linux/xarray.h>

#include "abi_hash.h"

/*
 * The container had namespaces of its own: the caller must have new ones
 * for it (not the host's), as the restart tool makes them.
 */
static int cr_check_namespaces(struct cr_ctx *ctx, u32 ns_flags)
{
	struct nsproxy *nsp = current->nsproxy;
	const char *which = NULL;

	if ((ns_flags & CR_NS_UTS) && nsp->uts_ns == &init_uts_ns)
		which = "uts";
	else if ((ns_flags & CR_NS_IPC) && nsp->ipc_ns == &init_ipc_ns)
		which = "ipc";
	else if ((ns_flags & CR_NS_NET) && net_eq(nsp->net_ns, &init_net))
		which = "network";
	if (which)
		return cr_err(ctx, -EINVAL,
			      "restart: the container had a %s namespace of its own: the caller needs a new one",
			      which);
	return 0;
}

/* Its loopback up again, as it was (a new network namespace has it down). */
static int cr_restore_net(struct cr_ctx *ctx)
{
	const struct cr_hdr_head *head = (const struct cr_hdr_head *)ctx->recs[0].h;
	struct net_device *lo = current->nsproxy->net_ns->loopback_dev;
	int ret = 0;

	if (!(head->ns_flags & CR_NS_LO_UP) || !lo)
		return 0;
	rtnl_lock();
	if (!(lo->flags & IFF_UP))
		ret = dev_change_flags(lo, lo->flags | IFF_UP, NULL);
	rtnl_unlock();
	if (ret)
		return cr_err(ctx, ret, "cannot bring the loopback device up");
	return 0;
}

/**
 * cr_check_head() - may this kernel restart the image?
 * @ctx: restart context
 * @head: the image's first record, its length checked
 *
 * Return: 0, -ENOEXEC (another arch or page size), -EPROTO (another
 * format version or ABI hash), -EBADMSG (bad field) or -EINVAL (the
 * caller lacks a namespace of its own the container had).
 */
int cr_check_head(struct cr_ctx *ctx, const struct cr_hdr_head *head)
{
	int ret;

	if (head->version != CR_IMAGE_VERSION)
		return cr_err(ctx, -EPROTO,
			      "image format version %u, this kernel reads version %u",
			      head->version, CR_IMAGE_VERSION);
	if (head->abi_hash != CR_ABI_HASH)
		return cr_err(ctx, -EPROTO,
			      "image ABI hash %016llx differs from this kernel's %016llx (image written by %.64s)",
			      head->abi_hash, (unsigned long long)CR_ABI_HASH,
			      head->release);
	if (head->page_size != PAGE_SIZE)
		return cr_err(ctx, -ENOEXEC, "image page size %u, this kernel's is %lu",
			      head->page_size, PAGE_SIZE);
	if (head->flags & ~CHECKPOINT_FLAGS_ALL)
		return cr_err(ctx, -EBADMSG, "record 0 (head) at offset 0: unknown flags %#llx",
			      head->flags);
	if (head->h.len >= sizeof(*head) && ((head->ns_flags & ~CR_NS_FLAGS_ALL) || head->__pad2 ||
					     ((head->ns_flags & CR_NS_LO_UP) &&
					      !(head->ns_flags & CR_NS_NET))))
		return cr_err(ctx, -EBADMSG, "record 0 (head) at offset 0: bad namespace flags %#x",
			      head->ns_flags);
	if (head->h.tag || head->h.ptag || head->__pad)
		return cr_err(ctx, -EBADMSG,
			      "record 0 (head) at offset 0: reserved fields not zero");
	if (!memchr(head->release, 0, CR_UTS_LEN) ||
	    !memchr(head->nodename, 0, CR_UTS_LEN) ||
	    !memchr(head->domainname, 0, CR_UTS_LEN))
		return cr_err(ctx, -EBADMSG, "record 0 (head) at offset 0: unterminated string");
	ret = cr_check_namespaces(ctx, head->ns_flags);
	if (ret)
		return ret;
	return cr_arch_check_head(ctx, head);
}

/* -- the tree ------------------------------------------------------------- */

/* Objects a task rebuilds because it is the first (in TREE order) to use them */
#define CR_FIRST_MM		BIT(0)
#define CR_FIRST_FILES		BIT(1)
#define CR_FIRST_FS		BIT(2)
#define CR_FIRST_SIGHAND	BIT(3)
#define CR_FIRST_ALL		(BIT(4) - 1)

/* One task of the tree being rebuilt. */
struct cr_rst_node {
	struct cr_ctx *ctx;
	const struct cr_tree_task *tt;
	struct cr_rst_task rt;		/* live tasks: what their records ask */
	int creator;			/* the task that creates it, -1: the caller */
	int first_child;		/* the tasks it creates, in TREE order */
	int next_sibling;
	u8 first;			/* CR_FIRST_* */
	struct task_struct *task;	/* once created, a reference */
	struct completion spawned;	/* created, and the non-sharing tasks it creates */
	struct completion turn;		/* its turn to restore itself */
	int ret;
};

enum cr_phase {
	CR_PHASE_BUILD,		/* tasks are created and restore themselves */
	CR_PHASE_ZOMBIES,	/* the zombies exit */
	CR_PHASE_SIGNALS,	/* the live tasks drop what their exits sent */
	CR_PHASE_GO,		/* back to user mode */
	CR_PHASE_ABORT,		/* restart failed: every task dies */
};

/**
 * struct cr_rst_tree - the task tree of a restart
 * @nr: tasks
 * @nodes: one per task, in TREE order
 * @wq: where created tasks wait for the next phase
 * @phase: enum cr_phase
 * @err: the first error of a created task
 * @restored: every task had its turn, or the restart failed
 * @acks: live tasks that have not passed CR_PHASE_SIGNALS
 * @users: created tasks that may still use the ctx, plus one for the caller
 * @gone: @users dropped to zero
 */
struct cr_rst_tree {
	unsigned int nr;
	struct cr_rst_node *nodes;
	wait_queue_head_t wq;
	int phase;
	int err;
	struct completion restored;
	atomic_t acks;
	atomic_t users;
	struct completion gone;
};

/**
 * cr_tree_has_process() - is @pid a process (a tgid) of the image
 * @ctx: restart context, its tree read
 * @pid: a pid in the container
 *
 * Return: true if a task of the TREE has @pid as its tgid.
 */
bool cr_tree_has_process(struct cr_ctx *ctx, pid_t pid)
{
	unsigned int i;

	for (i = 0; ctx->tree && i < ctx->tree->nr; i++)
		if (ctx->tree->nodes[i].tt->tgid == pid)
			return true;
	return false;
}

static int cr_tree_lookup(struct xarray *pids, s32 pid)
{
	void *v = pid > 0 ? xa_load(pids, pid) : NULL;

	return v ? xa_to_value(v) : -1;
}

/* A shared object: rebuilt by its first task, else shared with the creator's. */
static int cr_tree_share(struct cr_ctx *ctx, struct xarray *tags, const struct cr_tree_task *e,
			 const struct cr_tree_task *c, u32 tag, u32 ctag, unsigned long kind,
			 u8 *first, const char *what)
{
	void *v = tag ? xa_load(tags, tag) : NULL;
	int ret;

	if (!tag)
		return cr_rec_err(ctx, -EBADMSG, "pid %d has no %s", e->pid, what);
	if (!v) {
		ret = xa_insert(tags, tag, xa_mk_value(kind), CR_GFP);
		if (ret)
			return ret;
		*first |= kind;
		return 0;
	}
	if (xa_to_value(v) != kind)
		return cr_rec_err(ctx, -EBADMSG, "tag %u names objects of two kinds", tag);
	if (!c || tag != ctag)
		return cr_rec_err(ctx, -EOPNOTSUPP,
				  "pid %d shares its %s with a task that is not its parent (or leader): not supported",
				  e->pid, what);
	return 0;
}

static int cr_tree_check_one(struct cr_ctx *ctx, const struct cr_tree_task *tt, u32 i,
			     struct xarray *pids, struct xarray *tags, struct xarray *pgrps,
			     struct cr_rst_node *nodes)
{
	const struct cr_tree_task *e = &tt[i], *c = NULL;
	bool thread = e->pid != e->tgid, zombie = e->flags & CR_TASK_ZOMBIE;
	int max = READ_ONCE(pid_max), ci = -1, ret;
	u8 first = 0;
	void *v;

	if (e->pid < 1 || e->pid >= max || e->tgid < 1 || e->tgid >= max ||
	    e->ppid < 0 || e->ppid >= max || e->pgid < 0 || e->pgid >= max ||
	    e->sid < 0 || e->sid >= max)
		return cr_rec_err(ctx, -EBADMSG, "task %u (pid %d): a pid not in 1..pid_max-1 (%d)",
				  i, e->pid, max);
	if (e->flags & ~CR_TASK_FLAGS_ALL || e->exit_signal > _NSIG ||
	    (thread && e->exit_signal) || (!zombie && e->exit_code) || (i && e->pid == 1))
		return cr_rec_err(ctx, -EBADMSG, "task %u (pid %d): bad flags or exit fields",
				  i, e->pid);
	/* A wait status: exited (code << 8), or killed (signal, maybe | 0x80). */
	if (zombie && ((e->exit_code & 0xff) ? e->exit_code > 0xff ||
		       (e->exit_code & 0x7f) < 1 || (e->exit_code & 0x7f) > _NSIG :
		       e->exit_code > 0xff00))
		return cr_rec_err(ctx, -EBADMSG, "zombie %d: bad exit status %#x",
				  e->pid, e->exit_code);
	if (!e->pgid && e->sid)
		return cr_rec_err(ctx, -EBADMSG,
				  "pid %d: a process group outside the container in a session inside it",
				  e->pid);
	ret = xa_insert(pids, e->pid, xa_mk_value(i), CR_GFP);
	if (ret)
		return ret == -EBUSY ? cr_rec_err(ctx, -EBADMSG, "pid %d twice", e->pid) : ret;

	if (!i) {
		if (thread || e->ppid || zombie)
			return cr_rec_err(ctx, -EBADMSG,
					  "root task %d: a thread, a zombie or with a parent (%d)",
					  e->pid, e->ppid);
		/*
		 * The pid of another's group or session would outlive all but
		 * pid 1, which then waits for it forever when it is killed.
		 */
		if (e->pid == 1 && ((e->pgid && e->pgid != 1) || (e->sid && e->sid != 1)))
			return cr_rec_err(ctx, -EBADMSG,
					  "pid 1 in the group %d or session %d of another process",
					  e->pgid, e->sid);
	} else if (thread) {
		ci = cr_tree_lookup(pids, e->tgid);
		c = ci >= 0 ? &tt[ci] : NULL;
		if (!c || c->pid != c->tgid || (c->flags & CR_TASK_ZOMBIE) || zombie)
			return cr_rec_err(ctx, -EBADMSG, "thread %d: no live leader %d before it",
					  e->pid, e->tgid);
		if (e->ppid != c->ppid || e->pgid != c->pgid || e->sid != c->sid ||
		    e->flags != c->flags || e->mm_tag != c->mm_tag ||
		    e->sighand_tag != c->sighand_tag)
			return cr_rec_err(ctx, -EBADMSG,
					  "thread %d: not sharing its leader's parent, groups, memory and signal handlers",
					  e->pid);
	} else {
		ci = cr_tree_lookup(pids, e->ppid);
		c = ci >= 0 && ci != i ? &tt[ci] : NULL;
		if (!c || c->pid != c->tgid || (c->flags & CR_TASK_ZOMBIE))
			return cr_rec_err(ctx, -EBADMSG,
					  "pid %d: its parent %d is not a live process before it",
					  e->pid, e->ppid);
	}

	if (zombie) {
		if (e->mm_tag || e->files_tag || e->fs_tag || e->sighand_tag)
			return cr_rec_err(ctx, -EBADMSG, "zombie %d has objects", e->pid);
	} else {
		ret = cr_tree_share(ctx, tags, e, c, e->mm_tag, c ? c->mm_tag : 0,
				    CR_FIRST_MM, &first, "address space");
		if (!ret)
			ret = cr_tree_share(ctx, tags, e, c, e->files_tag, c ? c->files_tag : 0,
					    CR_FIRST_FILES, &first, "fd table");
		if (!ret)
			ret = cr_tree_share(ctx, tags, e, c, e->fs_tag, c ? c->fs_tag : 0,
					    CR_FIRST_FS, &first, "fs info");
		if (!ret)
			ret = cr_tree_share(ctx, tags, e, c, e->sighand_tag,
					    c ? c->sighand_tag : 0, CR_FIRST_SIGHAND, &first,
					    "signal handlers");
		if (ret)
			return ret;
		/* CLONE_SIGHAND needs CLONE_VM */
		if (!(first & CR_FIRST_SIGHAND) && (first & CR_FIRST_MM))
			return cr_rec_err(ctx, -EBADMSG,
					  "pid %d shares signal handlers but not memory", e->pid);
	}

	if (!thread) {
		if (e->sid == e->pid && e->pgid != e->pid)
			return cr_rec_err(ctx, -EBADMSG,
					  "session leader %d is not its process group's leader",
					  e->pid);
		v = e->pgid ? xa_load(pgrps, e->pgid) : NULL;
		if (e->pgid && !v) {
			ret = xa_insert(pgrps, e->pgid, xa_mk_value(e->sid), CR_GFP);
			if (ret)
				return ret;
		} else if (v && xa_to_value(v) != e->sid) {
			return cr_rec_err(ctx, -EBADMSG, "process group %d is in two sessions",
					  e->pgid);
		}
	}
	if (nodes) {
		nodes[i].creator = ci;
		nodes[i].first = first;
	}
	return 0;
}

/**
 * cr_check_tree() - may restart rebuild this task tree?
 * @ctx: the call's context
 * @tt: the TREE entries
 * @nr: how many
 * @nodes: restart: filled with who creates each task and what it
 *	rebuilds; NULL at checkpoint, which checks its own tree with it
 *
 * Return: 0, -EBADMSG for an inconsistent tree, -EOPNOTSUPP for sharing
 * that restart cannot rebuild, or -ENOMEM.
 */
int cr_check_tree(struct cr_ctx *ctx, const struct cr_tree_task *tt, u32 nr,
		  struct cr_rst_node *nodes)
{
	struct xarray pids, tags, pgrps;
	u32 i;
	int ret = 0;

	xa_init(&pids);
	xa_init(&tags);
	xa_init(&pgrps);
	for (i = 0; i < nr && !ret; i++)
		ret = cr_tree_check_one(ctx, tt, i, &pids, &tags, &pgrps, nodes);
	xa_destroy(&pids);
	xa_destroy(&tags);
	xa_destroy(&pgrps);
	return ret;
}

static int cr_read_tree(struct cr_ctx *ctx)
{
	const struct cr_hdr_tree *h;
	const struct cr_tree_task *tt;
	struct cr_rst_tree *tree;
	unsigned int i;
	int ret;

	h = cr_read_rec(ctx, CR_HDR_TREE, sizeof(*h));
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (!h->nr_tasks || h->nr_tasks > PID_MAX_LIMIT || h->__pad ||
	    h->h.len < sizeof(*h) + (u64)h->nr_tasks * sizeof(*tt))
		return cr_rec_err(ctx, -EBADMSG, "bad task count %u for %u bytes",
				  h->nr_tasks, h->h.len);
	tt = (const struct cr_tree_task *)(h + 1);
	tree = kzalloc(sizeof(*tree), CR_GFP);
	if (!tree)
		return -ENOMEM;
	init_waitqueue_head(&tree->wq);
	init_completion(&tree->gone);
	init_completion(&tree->restored);
	atomic_set(&tree->users, 1);
	ctx->tree = tree;
	tree->nodes = kvcalloc(h->nr_tasks, sizeof(*tree->nodes), CR_GFP);
	if (!tree->nodes)
		return -ENOMEM;
	tree->nr = h->nr_tasks;
	ret = cr_check_tree(ctx, tt, h->nr_tasks, tree->nodes);
	if (ret)
		return ret;
	/* Who creates whom, in TREE order. */
	for (i = 0; i < tree->nr; i++) {
		tree->nodes[i].ctx = ctx;
		tree->nodes[i].tt = &tt[i];
		tree->nodes[i].rt.tt = &tt[i];
		tree->nodes[i].first_child = -1;
		tree->nodes[i].next_sibling = -1;
		init_completion(&tree->nodes[i].spawned);
		init_completion(&tree->nodes[i].turn);
	}
	for (i = tree->nr; i-- > 1; ) {
		struct cr_rst_node *c = &tree->nodes[tree->nodes[i].creator];

		tree->nodes[i].next_sibling = c->first_child;
		c->first_child = i;
	}
	ctx->root_pid = tt[0].pid;
	return 0;
}

/* Everything a live task's records ask for, checked; nothing changed yet. */
/**
 * cr_read_files_ahead() - read the object records at the current position
 * @ctx: restart context
 *
 * The records of objects that come before their first user: FILE, and
 * the PIPE, SOCK and SOCK_MSG records of the objects files lead to;
 * each goes to the reader of its kind.  The driver calls this before the
 * records that may follow them: FDS records, the MM record, the TAIL.
 *
 * Return: 0 or the first such record's error.
 */
int cr_read_files_ahead(struct cr_ctx *ctx)
{
	const struct cr_rec *r;
	int ret;

	while ((r = cr_peek_rec(ctx))) {
		switch (r->h->type) {
		case CR_HDR_FILE:
			ctx->next_rec++;
			ret = cr_read_file(ctx, r);
			break;
		case CR_HDR_PIPE:
			ctx->next_rec++;
			ret = cr_read_pipe(ctx, r);
			break;
		case CR_HDR_SOCK:
			ctx->next_rec++;
			ret = cr_read_sock(ctx, r);
			break;
		case CR_HDR_SOCK_MSG:
			ctx->next_rec++;
			ret = cr_read_sock_msg(ctx, r);
			break;
		default:
			return 0;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int cr_read_one_task(struct cr_ctx *ctx, struct cr_rst_node *n)
{
	struct cr_rst_task *rt = &n->rt;
	int ret;

	ret = cr_read_task(ctx, rt);
	if (!ret && (n->first & CR_FIRST_FS))
		ret = cr_read_fs(ctx, rt);
	if (!ret && (n->first & CR_FIRST_FILES))
		ret = cr_read_files(ctx, rt);
	if (!ret && (n->first & CR_FIRST_MM))
		ret = cr_read_files_ahead(ctx) ?: cr_read_mm(ctx, rt);
	if (!ret && (n->first & CR_FIRST_SIGHAND))
		ret = cr_read_sighand(ctx, rt);
	if (!ret)
		ret = cr_read_cpu(ctx, rt);
	if (!ret)
		ret = cr_read_fpu(ctx, rt);
	if (!ret)
		ret = cr_read_restart_block(ctx, rt);
	if (!ret)
		ret = cr_read_sigpending(ctx, rt, n->tt->pid == n->tt->tgid);
	return ret;
}

static void cr_rst_task_free(struct cr_rst_task *rt)
{
	path_put(&rt->cwd);
	cr_rst_files_free(rt->files);
	cr_rst_mm_free(rt->mm);
}

static void cr_tree_free(struct cr_rst_tree *tree)
{
	unsigned int i;

	if (!tree)
		return;
	for (i = 0; tree->nodes && i < tree->nr; i++) {
		cr_rst_task_free(&tree->nodes[i].rt);
		if (tree->nodes[i].task)
			put_task_struct(tree->nodes[i].task);
	}
	kvfree(tree->nodes);
	kfree(tree);
}

/* The caller's uts namespace is the new container's: give it its name. */
static void cr_restore_uts(struct cr_ctx *ctx)
{
	const struct cr_hdr_head *head = (const struct cr_hdr_head *)ctx->recs[0].h;
	struct uts_namespace *uts = current->nsproxy->uts_ns;

	if (uts == &init_uts_ns || !ns_capable(uts->user_ns, CAP_SYS_ADMIN))
		return;
	down_write(&uts_sem);
	strscpy(uts->name.nodename, head->nodename, sizeof(uts->name.nodename));
	strscpy(uts->name.domainname, head->domainname, sizeof(uts->name.domainname));
	up_write(&uts_sem);
}

/*
 * Past the point of no return of the task: become the task of the image.
 * What it shares with its creator it got from clone() already.
 */
static int cr_restore_self(struct cr_ctx *ctx, struct cr_rst_node *n)
{
	struct cr_rst_task *rt = &n->rt;
	int ret = 0;

	/* A new address space first: then nothing of the old one is reachable. */
	if (n->first & CR_FIRST_MM) {
		ret = cr_restore_mm(ctx, rt);
		if (!ret)
			cr_reset_restarter();
	}
	if (!ret && (n->first & CR_FIRST_FILES))
		ret = cr_restore_files(ctx, rt);
	if (!ret && (n->first & CR_FIRST_FS))
		ret = cr_restore_fs(ctx, rt);
	if (!ret && (n->first & CR_FIRST_SIGHAND))
		ret = cr_restore_sighand(ctx, rt);
	if (!ret)
		ret = cr_restore_task(ctx, rt);
	if (!ret)
		ret = cr_restore_fpu(ctx, rt);
	if (!ret)
		ret = cr_restore_cpu(ctx, rt);
	return ret;
}

/* -- creating the tasks ----------------------------------------------------- */

struct cr_child_resume {
	struct callback_head work;
	struct cr_resume res;
};

/* On the way to user mode, after ret_from_fork() zeroed rax. */
static void cr_child_resume(struct callback_head *work)
{
	struct cr_child_resume *cr = container_of(work, struct cr_child_resume, work);
	long ax = cr_resume(&cr->res);

	task_pt_regs(current)->ax = ax;
	kfree(cr);
}

static void cr_resume_of(const struct cr_rst_task *rt, struct cr_resume *res)
{
	res->ax = rt->cpu->ax;
	if (rt->rb) {
		res->kind = rt->rb->kind;
		res->clockid = rt->rb->clockid;
		res->remaining_ns = rt->rb->remaining_ns;
		res->rmtp = rt->rb->rmtp;
	}
}

static bool cr_node_shares(const struct cr_rst_node *n)
{
	return !(n->tt->flags & CR_TASK_ZOMBIE) && (n->first & CR_FIRST_ALL) != CR_FIRST_ALL;
}

static int cr_wait_phase(struct cr_rst_tree *tree, int phase)
{
	if (wait_event_killable(tree->wq, READ_ONCE(tree->phase) >= phase))
		return -EINTR;
	return READ_ONCE(tree->phase) == CR_PHASE_ABORT ? -EINTR : 0;
}

/* The created task no longer uses the ctx. */
static void cr_node_leave(struct cr_rst_tree *tree)
{
	if (atomic_dec_and_test(&tree->users))
		complete(&tree->gone);
}

/* Phases only move on: CR_PHASE_ABORT is the last. */
static void cr_tree_phase(struct cr_rst_tree *tree, int phase)
{
	if (READ_ONCE(tree->phase) < phase)
		WRITE_ONCE(tree->phase, phase);
	wake_up_all(&tree->wq);
}

/* A created task failed: every task is released to die, the caller told. */
static void cr_tree_fail(struct cr_rst_tree *tree, int err)
{
	unsigned int i;

	cmpxchg(&tree->err, 0, err);
	cr_tree_phase(tree, CR_PHASE_ABORT);
	for (i = 0; i < tree->nr; i++)
		complete_all(&tree->nodes[i].turn);
	complete_all(&tree->restored);
}

/* Task @i restored itself: the next one in TREE order may. */
static void cr_pass_turn(struct cr_rst_tree *tree, unsigned int i)
{
	if (i + 1 < tree->nr)
		complete(&tree->nodes[i + 1].turn);
	else
		complete_all(&tree->restored);
}

static int cr_create_children(struct cr_ctx *ctx, int i, bool sharing);

/* Task @i's turn: it restores itself, then creates the tasks sharing with it. */
static int cr_take_turn(struct cr_ctx *ctx, unsigned int i)
{
	struct cr_rst_node *n = &ctx->tree->nodes[i];
	int ret;

	if (n->tt->flags & CR_TASK_ZOMBIE)
		return 0;
	ret = cr_restore_self(ctx, n);
	if (!ret)
		ret = cr_create_children(ctx, i, true);
	return ret;
}

/* A created task: create, restore itself at its turn, wait, go. */
static int cr_task_fn(void *arg)
{
	struct cr_rst_node *n = arg;
	struct cr_ctx *ctx = n->ctx;
	struct cr_rst_tree *tree = ctx->tree;
	struct cr_child_resume *cr = NULL;
	bool zombie = n->tt->flags & CR_TASK_ZOMBIE;
	int ret = 0, i = n - tree->nodes;

	WRITE_ONCE(n->task, get_task_struct(current));
	if (!zombie) {
		cr = kzalloc(sizeof(*cr), GFP_KERNEL_ACCOUNT);
		ret = cr ? 0 : -ENOMEM;
	}
	if (!ret && (n->tt->flags & CR_TASK_SUBREAPER) && thread_group_leader(current)) {
		current->signal->is_child_subreaper = 1;
		current->signal->has_child_subreaper = 1;
	}
	if (!ret)
		ret = cr_create_children(ctx, i, false);
	n->ret = ret;
	complete(&n->spawned);	/* the creator handles a failure here */
	if (ret)
		goto out;

	if (wait_for_completion_killable(&n->turn) || READ_ONCE(tree->phase) == CR_PHASE_ABORT) {
		ret = -EINTR;
		goto fail;
	}
	ret = cr_take_turn(ctx, i);
	if (ret)
		goto fail;
	cr_pass_turn(tree, i);

	if (zombie) {
		u32 code = n->tt->exit_code;

		ret = cr_wait_phase(tree, CR_PHASE_ZOMBIES);
		if (ret)
			goto fail;
		cr_node_leave(tree);
		do_exit(code);
	}
	ret = cr_wait_phase(tree, CR_PHASE_SIGNALS);
	if (ret)
		goto fail;
	/* the image's, not what the zombies' exits sent */
	cr_restore_sigpending(&n->rt, thread_group_leader(current));
	if (atomic_dec_and_test(&tree->acks))
		wake_up_all(&tree->wq);
	ret = cr_wait_phase(tree, CR_PHASE_GO);
	if (ret)
		goto fail;
	cr_resume_of(&n->rt, &cr->res);
	init_task_work(&cr->work, cr_child_resume);
	/*
	 * TWA_SIGNAL_NO_IPI: run before get_signal() dequeues a signal that
	 * may be pending by then, so that a handler's frame is built from the
	 * restored registers.
	 */
	ret = task_work_add(current, &cr->work, TWA_SIGNAL_NO_IPI);
	if (!ret)
		cr = NULL;
	goto out;
fail:
	/* Before the tree goes, a task lost is the restart failed. */
	cr_tree_fail(tree, ret);
out:
	cr_node_leave(tree);	/* the ctx is not ours any more */
	kfree(cr);
	if (ret)
		force_fatal_sig(SIGKILL);
	return 0;
}

/*
 * Create task @i with its saved pid, as its creator (current), and wait
 * until it has created the tasks that share nothing with it.
 */
static int cr_create(struct cr_ctx *ctx, int i)
{
	struct cr_rst_tree *tree = ctx->tree;
	struct cr_rst_node *n = &tree->nodes[i];
	const struct cr_tree_task *tt = n->tt;
	bool thread = tt->pid != tt->tgid;
	pid_t set_tid = tt->pid;
	/*
	 * CLONE_VM always: a task with an address space of its own replaces
	 * the borrowed one when it restores, and nothing is copied.
	 */
	struct kernel_clone_args args = {
		.flags = CLONE_VM | CLONE_UNTRACED,
		.exit_signal = thread ? 0 : tt->exit_signal,
		.fn = cr_task_fn,
		.fn_arg = n,
		.set_tid = &set_tid,
		.set_tid_size = 1,
	};
	pid_t nr;

	if (thread)
		args.flags |= CLONE_THREAD | CLONE_SIGHAND;
	else if (!(n->first & CR_FIRST_SIGHAND) && !(tt->flags & CR_TASK_ZOMBIE))
		args.flags |= CLONE_SIGHAND;
	if (!(tt->flags & CR_TASK_ZOMBIE) && !(n->first & CR_FIRST_FILES))
		args.flags |= CLONE_FILES;
	if (!(tt->flags & CR_TASK_ZOMBIE) && !(n->first & CR_FIRST_FS))
		args.flags |= CLONE_FS;

	if (READ_ONCE(tree->phase) == CR_PHASE_ABORT)
		return -EINTR;
	atomic_inc(&tree->users);
	/*
	 * A signal pending for the creator (its restored handlers catch what
	 * its terminal sends) makes fork restart: the creator's signals are
	 * the image's, set again at CR_PHASE_SIGNALS, so drop them and retry.
	 */
	while ((nr = kernel_clone(&args)) == -ERESTARTNOINTR && !fatal_signal_pending(current))
		cr_drop_signals();
	if (nr < 0) {
		cr_node_leave(tree);
		return cr_err(ctx, nr, "cannot create pid %d in the new container", set_tid);
	}
	if (wait_for_completion_killable(&n->spawned))
		return -EINTR;
	return n->ret;
}

/* Create the tasks that @i creates: those sharing something with it or not. */
static int cr_create_children(struct cr_ctx *ctx, int i, bool sharing)
{
	struct cr_rst_node *nodes = ctx->tree->nodes;
	int c, ret;

	for (c = nodes[i].first_child; c >= 0; c = nodes[c].next_sibling) {
		if (cr_node_shares(&nodes[c]) != sharing)
			continue;
		ret = cr_create(ctx, c);
		if (ret)
			return ret;
	}
	return 0;
}

/* -- process groups and sessions ------------------------------------------- */

/* A task holds @pid: as its pid, thread group, process group or session. */
static bool cr_pid_used(struct pid *pid)
{
	enum pid_type type;

	for (type = PIDTYPE_PID; type < PIDTYPE_MAX; type++)
		if (pid_has_task(pid, type))
			return true;
	return false;
}

/* Under tasklist_lock: the group or session @nr, a task's or one of our ghosts. */
static struct pid *cr_group_pid(struct pid_namespace *ns, struct xarray *ghosts, pid_t nr)
{
	struct pid *pid = find_pid_ns(nr, ns);

	if (pid && (xa_load(ghosts, nr) == pid || cr_pid_used(pid)))
		return pid;
	return NULL;
}

/*
 * Process groups and sessions as setpgid() and setsid() left them.  A
 * group or session whose leader has exited gets a pid of its own, with
 * no task ("ghost"): it lives as long as a task is in it, as the
 * leader's pid did.  Ghosts are made first, outside the lock; then every
 * process is attached under one tasklist_lock, which keeps the tasks and
 * pids from going; ghosts no task took are freed.
 */
static int cr_restore_groups(struct cr_ctx *ctx)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct cr_rst_tree *tree = ctx->tree;
	struct xarray ghosts;
	unsigned long nr;
	struct pid *pid;
	unsigned int i;
	int k, ret = 0;

	xa_init(&ghosts);
	for (i = 0; i < tree->nr && !ret; i++) {
		const struct cr_tree_task *tt = tree->nodes[i].tt;
		pid_t want[2] = { tt->pgid, tt->sid };

		if (tt->pid != tt->tgid)
			continue;
		for (k = 0; k < 2 && !ret; k++) {
			bool known;

			if (!want[k] || xa_load(&ghosts, want[k]))
				continue;
			rcu_read_lock();
			known = find_pid_ns(want[k], ns);
			rcu_read_unlock();
			if (known)
				continue;
			pid = alloc_pid(ns, &want[k], 1);
			if (IS_ERR(pid)) {
				ret = cr_err(ctx, PTR_ERR(pid),
					     "cannot make process group or session %d", want[k]);
				break;
			}
			ret = xa_insert(&ghosts, want[k], pid, CR_GFP);
			if (ret)
				free_pid(pid);
		}
	}

	write_lock_irq(&tasklist_lock);
	for (i = 0; i < tree->nr && !ret; i++) {
		const struct cr_tree_task *tt = tree->nodes[i].tt;
		struct task_struct *t = tree->nodes[i].task;
		struct pid *pgrp = NULL, *sess = NULL;

		if (tt->pid != tt->tgid || (!tt->pgid && !tt->sid))
			continue;
		if (!pid_alive(t) || t->exit_state) {
			ret = cr_err(ctx, -ESRCH, "pid %d died while the tree was rebuilt",
				     tt->pid);
			break;
		}
		if (tt->sid)
			sess = cr_group_pid(ns, &ghosts, tt->sid);
		if (tt->pgid)
			pgrp = cr_group_pid(ns, &ghosts, tt->pgid);
		if ((tt->sid && !sess) || (tt->pgid && !pgrp)) {
			ret = cr_err(ctx, -EBUSY,
				     "pid %d: its group or session was taken meanwhile", tt->pid);
			break;
		}
		if (sess && task_session(t) != sess) {
			change_pid(t, PIDTYPE_SID, sess);
			proc_clear_tty(t);
		}
		if (pgrp && task_pgrp(t) != pgrp)
			change_pid(t, PIDTYPE_PGID, pgrp);
		t->signal->leader = tt->sid == tt->pid;
	}
	/* Ghosts no task took; an attached one is freed with its last task. */
	xa_for_each(&ghosts, nr, pid)
		if (!cr_pid_used(pid))
			free_pid(pid);
	write_unlock_irq(&tasklist_lock);
	xa_destroy(&ghosts);
	return ret;
}

/* -- the phases --------------------------------------------------------------- */

/* Every created task dies: woken from any wait, and killed. */
static void cr_tree_abort(struct cr_ctx *ctx)
{
	struct cr_rst_tree *tree = ctx->tree;
	unsigned int i;

	cr_tree_fail(tree, 0);
	for (i = 0; i < tree->nr; i++) {
		struct task_struct *t = READ_ONCE(tree->nodes[i].task);

		if (t && t != current)
			do_send_sig_info(SIGKILL, SEND_SIG_PRIV, t, PIDTYPE_TGID);
	}
}

/*
 * Reap the created tasks that are the caller's zombies: true once every
 * one has exited and none is left for the caller to reap.  A killed
 * task's children go to the caller (the reaper of the new container)
 * before it exits; a task that was never created, a thread and a task
 * reaped by another are done once they have exited.
 */
static bool cr_tree_reap(struct cr_rst_tree *tree)
{
	bool done = true;
	unsigned int i;

	for (i = 0; i < tree->nr; i++) {
		struct task_struct *t = tree->nodes[i].task;
		int exit_state;
		bool mine;
		pid_t pid;

		if (!t || t == current)
			continue;
		read_lock(&tasklist_lock);
		exit_state = READ_ONCE(t->exit_state);
		if (!pid_alive(t) || (exit_state && !thread_group_leader(t))) {
			read_unlock(&tasklist_lock);
			continue;
		}
		mine = rcu_access_pointer(t->real_parent) == current;
		pid = exit_state && mine ? task_tgid_vnr(t) : 0;
		if (!exit_state)
			done = false;
		read_unlock(&tasklist_lock);
		/*
		 * The caller alone reaps its children: the zombie is still
		 * there.  Reaped or not, look once more: a task reaped may
		 * have let another be reaped (its leader, say).
		 */
		if (pid > 0) {
			kernel_wait4(pid, NULL, __WALL | WNOHANG, NULL);
			done = false;
		}
	}
	return done;
}

/*
 * The created tasks are killed: reap them.  Only they are waited for,
 * not a child the caller got otherwise (an orphan of a task that entered
 * the container with setns(), reparented to its init), and a fatal
 * signal ends the wait: the caller's exit then kills the container.
 */
static void cr_reap_all(struct cr_rst_tree *tree)
{
	while (!cr_tree_reap(tree) && !fatal_signal_pending(current))
		schedule_timeout_killable(1);
}

/* The caller is done with the ctx once every created task is. */
static void cr_tree_leave(struct cr_ctx *ctx)
{
	struct cr_rst_tree *tree = ctx->tree;

	if (!tree)
		return;
	if (!atomic_dec_and_test(&tree->users))
		wait_for_completion(&tree->gone);
}

/* Zombies exit, pending signals are as in the image, freeze if asked, go. */
static int cr_tree_finish(struct cr_ctx *ctx, bool caller_restored)
{
	struct cr_rst_tree *tree = ctx->tree;
	struct cgroup *cgrp = NULL;
	unsigned int i;
	int ret;

	/* A stream's END record comes after all the page data, read now. */
	ret = ctx->ppos ? 0 : cr_read_end(ctx, caller_restored);
	/* In place, the caller keeps its group, session and namespaces. */
	if (!ret && !(ctx->flags & RESTART_IN_PLACE))
		ret = cr_restore_groups(ctx);
	if (!ret && !(ctx->flags & RESTART_IN_PLACE))
		ret = cr_restore_net(ctx);
	if (ret)
		return ret;
	cr_tree_phase(tree, CR_PHASE_ZOMBIES);
	for (i = 0; i < tree->nr; i++) {
		struct task_struct *t = tree->nodes[i].task;

		if (!(tree->nodes[i].tt->flags & CR_TASK_ZOMBIE))
			continue;
		while (!READ_ONCE(t->exit_state)) {
			if (fatal_signal_pending(current))
				return -EINTR;
			if (READ_ONCE(tree->phase) == CR_PHASE_ABORT)
				return READ_ONCE(tree->err) ?: -EINTR;
			schedule_timeout_killable(1);
		}
	}
	if (caller_restored)
		cr_restore_sigpending(&tree->nodes[0].rt, true);
	cr_tree_phase(tree, CR_PHASE_SIGNALS);
	if (wait_event_killable(tree->wq, atomic_read(&tree->acks) <= 0 ||
				READ_ONCE(tree->phase) == CR_PHASE_ABORT))
		return -EINTR;
	if (READ_ONCE(tree->phase) == CR_PHASE_ABORT)
		return READ_ONCE(tree->err) ?: -EINTR;
	if (ctx->flags & RESTART_FROZEN) {
		rcu_read_lock();
		cgrp = task_dfl_cgroup(current);
		cgroup_get(cgrp);
		rcu_read_unlock();
		cgroup_lock();
		cgroup_freeze(cgrp, true);
		cgroup_unlock();
		cgroup_put(cgrp);
	}
	ret = cr_restore_socks(ctx);
	if (ret)
		return ret;
	cr_restore_pipes_done(ctx);
	cr_tree_phase(tree, CR_PHASE_GO);
	return 0;
}

/* The caller becomes the root task: pid 1 of the image, or in place. */
static bool cr_caller_becomes_root(const struct cr_ctx *ctx)
{
	return ctx->root_pid == 1 || (ctx->flags & RESTART_IN_PLACE);
}

/*
 * RESTART_IN_PLACE: the image is of the caller alone, with its pid.  The
 * held checkpoint is known to be of the caller's process; this checks
 * the image itself.
 */
static int cr_check_in_place(struct cr_ctx *ctx)
{
	const struct cr_tree_task *tt = ctx->tree->nodes[0].tt;

	if (ctx->tree->nr != 1)
		return cr_err(ctx, -EINVAL,
			      "restart: RESTART_IN_PLACE: the image has %u tasks, not the caller alone",
			      ctx->tree->nr);
	if (tt->pid != task_pid_vnr(current))
		return cr_err(ctx, -EINVAL,
			      "restart: RESTART_IN_PLACE: the image is of pid %d, the caller is %d",
			      tt->pid, task_pid_vnr(current));
	return 0;
}

static int cr_restart_checks(struct cr_ctx *ctx)
{
	struct cr_rst_tree *tree = ctx->tree;
	struct cgroup *cgrp;
	unsigned int i, live = 0;
	int ret;

	for (i = 0; i < tree->nr; i++)
		if (!(tree->nodes[i].tt->flags & CR_TASK_ZOMBIE))
			live++;
	/* The caller is no created task when it becomes the root. */
	atomic_set(&tree->acks, live - cr_caller_becomes_root(ctx));
	if (!(ctx->flags & RESTART_FROZEN))
		return 0;
	rcu_read_lock();
	cgrp = task_dfl_cgroup(current);
	cgroup_get(cgrp);
	rcu_read_unlock();
	ret = cr_may_freeze(ctx, cgrp);
	cgroup_put(cgrp);
	return ret;
}

/**
 * cr_do_restart() - rebuild the container of the image
 * @ctx: restart context
 * @res: filled with how the caller goes on
 *
 * If the root task of the image was pid 1 of its container, or with
 * RESTART_IN_PLACE (an image of the caller alone), the caller becomes
 * it.  Otherwise it is created as a child of the caller with its
 * saved pid, and @res->ax tells the caller that pid.
 *
 * Return: 0 once restored; -errno with nothing changed (and no task
 * left) if the image is refused or the tree cannot be built; -errno with
 * the caller killed if restoring it fails past its point of no return.
 */
int cr_do_restart(struct cr_ctx *ctx, struct cr_resume *res)
{
	struct cr_rst_tree *tree;
	const struct cr_rec *r;
	bool become = false, ponr = false;
	unsigned int i;
	u64 t0;
	int ret;

	ret = cr_read_image(ctx);
	if (ret)
		return ret;
	t0 = ktime_get_ns();
	ret = cr_read_tree(ctx);
	if (!ret && (ctx->flags & RESTART_IN_PLACE))
		ret = cr_check_in_place(ctx);
	if (ret)
		goto out;
	tree = ctx->tree;
	for (i = 0; i < tree->nr && !ret; i++)
		if (!(tree->nodes[i].tt->flags & CR_TASK_ZOMBIE))
			ret = cr_read_one_task(ctx, &tree->nodes[i]);
	/* sockets without a file, queued messages and the files they carry */
	if (!ret)
		ret = cr_read_files_ahead(ctx);
	if (!ret) {
		r = cr_next_rec(ctx);
		if (!r || r->h->type != CR_HDR_TAIL)
			ret = cr_rec_err(ctx, -EBADMSG, "unexpected record after the last task");
	}
	if (!ret) {
		u64 data_bytes = ((const struct cr_hdr_tail *)r->h)->data_bytes;

		if (data_bytes != ctx->data_pages * PAGE_SIZE)
			ret = cr_rec_err(ctx, -EBADMSG,
					 "%llu bytes of page data, the PAGES records have %llu",
					 data_bytes, ctx->data_pages * PAGE_SIZE);
	}
	if (!ret)
		ret = cr_check_socks(ctx);
	if (!ret)
		ret = cr_restart_checks(ctx);
	ctx->st.check_ns = ktime_get_ns() - t0;
	if (ret)
		goto out;

	/* Every task is created (those sharing with a restored one excepted)... */
	become = cr_caller_becomes_root(ctx);
	if (!become) {
		ret = cr_create(ctx, 0);
		res->ax = ctx->root_pid;
		if (!ret)
			complete(&tree->nodes[0].turn);
	} else {
		struct cr_rst_node *n = &tree->nodes[0];

		n->task = get_task_struct(current);
		ret = cr_create_children(ctx, 0, false);
		/* Files and fs the caller gets must be its own. */
		if (!ret && unshare_files())
			ret = -ENOMEM;
		if (!ret && unshare_fs_struct())
			ret = -ENOMEM;
		/* ...then each restores itself at its turn, the caller first. */
		if (!ret) {
			/* -- point of no return of the caller -- */
			ponr = true;
			if (n->tt->flags & CR_TASK_SUBREAPER)
				current->signal->is_child_subreaper = 1;
			ret = cr_take_turn(ctx, 0);
			if (!ret && !(ctx->flags & RESTART_IN_PLACE))
				cr_restore_uts(ctx);
		}
		if (!ret) {
			cr_resume_of(&n->rt, res);
			cr_pass_turn(tree, 0);
		}
	}
	if (!ret && wait_for_completion_killable(&tree->restored))
		ret = -EINTR;
	if (!ret && READ_ONCE(tree->phase) == CR_PHASE_ABORT)
		ret = READ_ONCE(tree->err) ?: -EINTR;
	if (!ret)
		ret = cr_tree_finish(ctx, become);
	if (ret) {
		cr_tree_abort(ctx);
		cr_tree_leave(ctx);
		if (ponr) {
			pr_err_ratelimited("pid %d killed: restoring failed after the point of no return: %s\n",
					   task_pid_nr(current),
					   ctx->errmsg[0] ? ctx->errmsg : "error");
			force_fatal_sig(SIGKILL);
		} else {
			cr_reap_all(tree);
		}
		goto free;
	}
out:
	cr_tree_leave(ctx);
free:
	cr_tree_free(ctx->tree);
	ctx->tree = NULL;
	return ret;
}
