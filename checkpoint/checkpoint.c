// SPDX-License-Identifier: GPL-2.0-only
/*
 * checkpoint(): find the container, check permission and what it holds,
 * freeze its cgroup, write the image, thaw.
 */

#include <linux/cgroup.h>
#include <linux/kernfs.h>
#include <linux/nsproxy.h>
#include <linux/checkpoint.h>
#include <linux/delay.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>

#include "abi_hash.h"

#define CR_FREEZE_TIMEOUT_MS	10000

/* The container's cgroup while it is checkpointed. */
struct cr_freezer {
	struct cgroup *cgrp;	/* a reference */
	bool claimed;		/* ours alone (cr_cgroup_claim()) */
	bool froze;		/* frozen by us, thawed by us */
};

/* What holds the root task still while it is captured. */
struct cr_capture {
	struct mm_struct *mm;	/* its mm before the freeze (compared only) */
	u32 exec_id;		/* its self_exec_id then */
	unsigned long switches;	/* context switches once frozen */
	bool exec_locked;	/* exec_update_lock held for reading */
	bool stack;		/* its stack held */
};

static void cr_copy_uts(char *dst, const char *src)
{
	strscpy(dst, src, CR_UTS_LEN);
}

static int cr_write_head(struct cr_ctx *ctx)
{
	struct cr_hdr_head *h;
	struct timespec64 now;
	struct uts_namespace *uts;

	h = cr_rec_get(ctx, CR_HDR_HEAD, sizeof(*h), 0, 0);
	if (!h)
		return -ENOMEM;
	memcpy(h->magic, CR_IMAGE_MAGIC, sizeof(h->magic));
	h->version = CR_IMAGE_VERSION;
	h->abi_hash = CR_ABI_HASH;
	h->flags = ctx->flags;
	ktime_get_real_ts64(&now);
	h->time_sec = now.tv_sec;
	h->time_nsec = now.tv_nsec;
	h->page_size = PAGE_SIZE;
	cr_arch_head(h);
	cr_copy_uts(h->release, init_utsname()->release);
	task_lock(ctx->root);
	uts = ctx->root->nsproxy ? ctx->root->nsproxy->uts_ns : NULL;
	if (uts)
		get_uts_ns(uts);
	task_unlock(ctx->root);
	if (uts) {
		down_read(&uts_sem);
		cr_copy_uts(h->nodename, uts->name.nodename);
		cr_copy_uts(h->domainname, uts->name.domainname);
		up_read(&uts_sem);
		put_uts_ns(uts);
	}
	cr_hbuf_put(ctx, sizeof(*h));
	return 0;
}

static int cr_write_tree(struct cr_ctx *ctx)
{
	struct task_struct *t = ctx->root;
	struct pid_namespace *ns = task_active_pid_ns(t);
	struct cr_hdr_tree *h;
	struct cr_tree_task *tt;
	size_t len = sizeof(*h) + sizeof(*tt);

	h = cr_rec_get(ctx, CR_HDR_TREE, len, 0, 0);
	if (!h)
		return -ENOMEM;
	h->nr_tasks = 1;
	tt = (struct cr_tree_task *)(h + 1);
	tt->pid = task_pid_nr_ns(t, ns);
	tt->tgid = task_tgid_nr_ns(t, ns);
	tt->ppid = 0;
	cr_hbuf_put(ctx, len);
	return 0;
}

static int cr_write_tail(struct cr_ctx *ctx)
{
	struct cr_hdr_tail *h;
	u64 records = ctx->records;
	int ret;

	/* The checksum covers every byte before the tail. */
	ret = cr_flush(ctx);
	if (ret)
		return ret;
	h = cr_rec_get(ctx, CR_HDR_TAIL, sizeof(*h), 0, 0);
	if (!h)
		return -ENOMEM;
	h->records = records;
	h->bytes = ctx->bytes;
	h->checksum = xxh64_digest(&ctx->csum);
	cr_hbuf_put(ctx, sizeof(*h));
	return cr_flush(ctx);
}

/* All of one task: the order is the image format's. */
static int cr_write_one_task(struct cr_ctx *ctx, struct task_struct *t)
{
	int ret;

	ret = cr_write_task(ctx, t);
	if (!ret)
		ret = cr_write_fs(ctx, t);
	if (!ret)
		ret = cr_write_files(ctx, t);
	if (!ret)
		ret = cr_write_mm(ctx, t);
	if (!ret)
		ret = cr_write_sighand(ctx, t);
	if (!ret)
		ret = cr_write_cpu(ctx, t);
	if (!ret)
		ret = cr_write_fpu(ctx, t);
	if (!ret)
		ret = cr_write_restart_block(ctx, t);
	return ret;
}

/* What the container may hold so far: one single-threaded process. */
static int cr_check_shape(struct cr_ctx *ctx, struct task_struct *t)
{
	int nr_threads, has_children;

	if (t->flags & (PF_KTHREAD | PF_USER_WORKER))
		return cr_err(ctx, -EINVAL, "pid %d is a kernel thread", task_pid_vnr(t));
	if (t->exit_state || (t->flags & PF_EXITING))
		return cr_err(ctx, -ESRCH, "pid %d is exiting", task_pid_vnr(t));
	rcu_read_lock();
	nr_threads = get_nr_threads(t);
	has_children = !list_empty(&t->children);
	rcu_read_unlock();
	if (nr_threads > 1)
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d has %d threads: multi-threaded processes are not supported yet",
			      task_pid_vnr(t), nr_threads);
	if (has_children)
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d has children: task trees are not supported yet",
			      task_pid_vnr(t));
	return 0;
}

/* Every task of @cgrp and below must be the container's; 0 or -EBUSY. */
static int cr_check_cgroup_members(struct cr_ctx *ctx, struct cgroup *cgrp)
{
	struct cgroup_subsys_state *css;
	struct css_task_iter it;
	struct task_struct *t;
	int ret = 0;

	rcu_read_lock();
	css_for_each_descendant_pre(css, &cgrp->self) {
		css_task_iter_start(css, 0, &it);
		while (!ret && (t = css_task_iter_next(&it))) {
			if (t == current)
				ret = cr_err(ctx, -EBUSY,
					     "the caller is in the container's cgroup");
			else if (!same_thread_group(t, ctx->root))
				ret = cr_err(ctx, -EBUSY,
					     "the container's cgroup also holds pid %d, which is not in the container",
					     task_pid_vnr(t));
		}
		css_task_iter_end(&it);
		if (ret)
			break;
	}
	rcu_read_unlock();
	return ret;
}

/*
 * One checkpoint at a time per cgroup: a second one would thaw the
 * container under the first one's feet.
 */
static DEFINE_SPINLOCK(cr_busy_lock);
static DEFINE_XARRAY(cr_busy_cgroups);

static int cr_cgroup_claim(struct cr_ctx *ctx, struct cgroup *cgrp)
{
	unsigned long id = cgroup_id(cgrp);
	int ret;

	spin_lock(&cr_busy_lock);
	ret = xa_insert(&cr_busy_cgroups, id, cgrp, GFP_ATOMIC | __GFP_ACCOUNT);
	spin_unlock(&cr_busy_lock);
	if (ret == -EBUSY)
		return cr_err(ctx, -EBUSY, "another checkpoint of this container is in progress");
	return ret;
}

static void cr_cgroup_release(struct cgroup *cgrp)
{
	spin_lock(&cr_busy_lock);
	xa_erase(&cr_busy_cgroups, cgroup_id(cgrp));
	spin_unlock(&cr_busy_lock);
}

/*
 * May the caller freeze @cgrp, as writing its cgroup.freeze would let it?
 * The cgroup must be visible in the caller's cgroup namespace and not its
 * root, and the file must be writable by the caller (delegation chowns
 * it to the delegatee).
 */
static int cr_may_freeze(struct cr_ctx *ctx, struct cgroup *cgrp)
{
	struct cgroup_namespace *ns = current->nsproxy->cgroup_ns;
	struct cgroup *ns_root = ns->root_cset->dfl_cgrp;
	struct kernfs_node *kn;
	int ret;

	if (!cgroup_is_descendant(cgrp, ns_root) ||
	    (ns != &init_cgroup_ns && cgrp == ns_root))
		return cr_err(ctx, -EPERM,
			      "the container's cgroup is not below the caller's cgroup namespace root");
	kn = kernfs_find_and_get(cgrp->kn, "cgroup.freeze");
	if (!kn)
		return cr_err(ctx, -ESRCH, "the container's cgroup is being removed");
	ret = kernfs_node_permission(kn, MAY_WRITE);
	kernfs_put(kn);
	if (ret)
		return cr_err(ctx, -EPERM,
			      "the caller may not freeze the container's cgroup (cgroup.freeze is not writable for it)");
	return 0;
}

/* Off every CPU, in the freezer's (or a stop's) sleep. */
#define CR_FROZEN_STATES	(TASK_INTERRUPTIBLE | __TASK_STOPPED)

/*
 * Is the container frozen?  CGRP_FROZEN alone may be stale: right after
 * a thaw the cgroup still counts its tasks as frozen until each has run,
 * and a new freeze then sets CGRP_FROZEN at once.  So the task must also
 * be asleep again, in the trap (the freeze woke it: it has been there
 * since).  Polled without locks; cr_capture_begin() checks for good.
 */
static bool cr_cgroup_frozen(struct cgroup *cgrp, struct task_struct *t)
{
	return test_bit(CGRP_FROZEN, &cgrp->flags) && t->frozen &&
	       (READ_ONCE(t->__state) & CR_FROZEN_STATES);
}

/* Freeze the cgroup of the container; fz->froze tells whether we did. */
static int cr_freeze(struct cr_ctx *ctx, struct cr_freezer *fz)
{
	struct task_struct *t = ctx->root;
	unsigned long deadline;
	struct cgroup *cgrp;
	int ret;

	rcu_read_lock();
	cgrp = task_dfl_cgroup(t);
	cgroup_get(cgrp);
	rcu_read_unlock();
	fz->cgrp = cgrp;

	if (!cgroup_parent(cgrp))
		return cr_err(ctx, -EBUSY,
			      "pid %d is in the root cgroup: run the container in a cgroup of its own (ckpt-run does)",
			      task_pid_vnr(t));
	ret = cr_cgroup_claim(ctx, cgrp);
	if (ret)
		return ret;
	fz->claimed = true;
	ret = cr_check_cgroup_members(ctx, cgrp);
	if (ret)
		return ret;

	ret = cr_may_freeze(ctx, cgrp);
	if (ret)
		return ret;
	cgroup_lock();
	if (!(cgrp->self.flags & CSS_ONLINE)) {
		cgroup_unlock();
		return cr_err(ctx, -ESRCH, "the container's cgroup is being removed");
	}
	if (!cgrp->freezer.freeze) {
		cgroup_freeze(cgrp, true);
		fz->froze = true;
	}
	cgroup_unlock();

	deadline = jiffies + msecs_to_jiffies(CR_FREEZE_TIMEOUT_MS);
	while (!cr_cgroup_frozen(cgrp, t)) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (time_after(jiffies, deadline))
			return cr_err(ctx, -EBUSY, "the container did not freeze within %d ms",
				      CR_FREEZE_TIMEOUT_MS);
		schedule_timeout_killable(msecs_to_jiffies(2));
	}
	/* Nobody can fork into a frozen cgroup: check again, for good. */
	return cr_check_cgroup_members(ctx, cgrp);
}

static void cr_thaw(struct cr_freezer *fz)
{
	if (!fz->cgrp)
		return;
	if (fz->froze) {
		cgroup_lock();
		cgroup_freeze(fz->cgrp, false);
		cgroup_unlock();
	}
	if (fz->claimed)
		cr_cgroup_release(fz->cgrp);
	cgroup_put(fz->cgrp);
	fz->cgrp = NULL;
}

/* How many times @t was switched out: a task that runs changes it. */
static unsigned long cr_switches(struct task_struct *t)
{
	return READ_ONCE(t->nvcsw) + READ_ONCE(t->nivcsw);
}

/* The freezer sets ->frozen under siglock; a dying task is not frozen. */
static int cr_task_frozen(struct cr_ctx *ctx, struct task_struct *t)
{
	unsigned long flags;
	bool frozen, dying;

	if (!lock_task_sighand(t, &flags))
		return cr_err(ctx, -ESRCH, "pid %d exited during the checkpoint",
			      task_pid_vnr(t));
	dying = (t->flags & PF_EXITING) || t->exit_state || __fatal_signal_pending(t);
	frozen = t->frozen;
	unlock_task_sighand(t, &flags);
	if (dying)
		return cr_err(ctx, -ESRCH, "pid %d is exiting", task_pid_vnr(t));
	if (!frozen)
		return cr_err(ctx, -EBUSY, "pid %d is not frozen", task_pid_vnr(t));
	return 0;
}

/* Signals pending for @t (checkpoint refuses them, so none at the start). */
static bool cr_task_signalled(struct task_struct *t)
{
	unsigned long flags;
	bool pending;

	if (!lock_task_sighand(t, &flags))
		return true;
	pending = !sigisemptyset(&t->pending.signal) ||
		  !sigisemptyset(&t->signal->shared_pending.signal);
	unlock_task_sighand(t, &flags);
	return pending;
}

/*
 * Start of the capture of @t, frozen: its credentials and memory cannot
 * change until cr_capture_end() (exec_update_lock), its stack stays
 * (a frozen task still takes SIGKILL), and it is off every CPU, its
 * registers saved in memory.  Permission is checked here, for what is
 * captured: an execve() of a setuid program before the freeze is seen.
 */
static int cr_capture_begin(struct cr_ctx *ctx, struct cr_capture *cap)
{
	struct task_struct *t = ctx->root;
	int ret;

	if (down_read_killable(&t->signal->exec_update_lock))
		return -EINTR;
	cap->exec_locked = true;
	if (!try_get_task_stack(t))
		return cr_err(ctx, -ESRCH, "pid %d exited during the checkpoint",
			      task_pid_vnr(t));
	cap->stack = true;
	if (!ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS))
		return cr_err(ctx, -EPERM, "no permission to ptrace pid %d", task_pid_vnr(t));
	if (READ_ONCE(t->mm) != cap->mm || READ_ONCE(t->self_exec_id) != cap->exec_id)
		return cr_err(ctx, -EBUSY, "pid %d ran execve() while the checkpoint began",
			      task_pid_vnr(t));
	ret = cr_task_frozen(ctx, t);
	if (ret)
		return ret;
	if (!wait_task_inactive(t, CR_FROZEN_STATES))
		return cr_err(ctx, -EBUSY, "pid %d was woken while the checkpoint began",
			      task_pid_vnr(t));
	cap->switches = cr_switches(t);
	return 0;
}

/*
 * Was @t frozen for the whole capture?  A thaw (by the cgroup's owner, or
 * by anything else) lets it run, which its switch count tells even if it
 * was refrozen since.
 */
static int cr_capture_check(struct cr_ctx *ctx, struct cr_freezer *fz,
			    struct cr_capture *cap)
{
	struct task_struct *t = ctx->root;
	int ret;

	ret = cr_task_frozen(ctx, t);
	if (ret)
		return ret;
	/* A signal sent meanwhile, even blocked, is not in the image. */
	if (cr_task_signalled(t))
		return cr_err(ctx, -EBUSY, "pid %d got a signal while it was checkpointed",
			      task_pid_vnr(t));
	if (!test_bit(CGRP_FROZEN, &fz->cgrp->flags) ||
	    !wait_task_inactive(t, CR_FROZEN_STATES) || cr_switches(t) != cap->switches)
		return cr_err(ctx, -EBUSY,
			      "pid %d ran while it was checkpointed (the container was thawed or woken)",
			      task_pid_vnr(t));
	return 0;
}

static void cr_capture_end(struct cr_ctx *ctx, struct cr_capture *cap)
{
	struct task_struct *t = ctx->root;

	if (cap->stack)
		put_task_stack(t);
	if (cap->exec_locked)
		up_read(&t->signal->exec_update_lock);
	cap->stack = false;
	cap->exec_locked = false;
}

/**
 * cr_do_checkpoint() - checkpoint the container rooted at @pid
 * @ctx: checkpoint context
 * @pid: root of the container, in the caller's pid namespace
 *
 * Return: 0 or -errno, the reason recorded in @ctx.
 */
long cr_do_checkpoint(struct cr_ctx *ctx, pid_t pid)
{
	struct cr_freezer fz = {};
	struct cr_capture cap = {};
	struct task_struct *t;
	u64 t0 = 0;
	int ret;

	rcu_read_lock();
	t = find_task_by_vpid(pid);
	if (t)
		get_task_struct(t);
	rcu_read_unlock();
	if (!t)
		return cr_err(ctx, -ESRCH, "no process %d", pid);
	ctx->root = t;
	ctx->arena.first_size = cr_arena_first_size(t);

	/* Nobody freezes what they could not read; checked again once frozen. */
	if (!ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS))
		return cr_err(ctx, -EPERM, "no permission to ptrace pid %d", pid);
	ret = cr_check_shape(ctx, t);
	if (ret)
		return ret;
	task_lock(t);
	cap.mm = t->mm;
	cap.exec_id = t->self_exec_id;
	task_unlock(t);

	ret = cr_freeze(ctx, &fz);
	t0 = ktime_get_ns();
	if (!ret)
		ret = cr_capture_begin(ctx, &cap);
	if (!ret) {
		/* Frozen now: the shape cannot change any more. */
		ret = cr_check_shape(ctx, t);
		if (!ret && t->ptrace)
			ret = cr_err(ctx, -EOPNOTSUPP, "pid %d is being ptraced", pid);
	}
	if (!ret)
		ret = cr_write_head(ctx);
	if (!ret)
		ret = cr_write_tree(ctx);
	if (!ret)
		ret = cr_write_one_task(ctx, t);
	if (!ret)
		ret = cr_capture_check(ctx, &fz, &cap);
	cr_capture_end(ctx, &cap);
	ctx->frozen_ns = ktime_get_ns() - t0;
	cr_thaw(&fz);
	/* The capture is complete: what is left needs no frozen container. */
	if (!ret)
		ret = cr_write_tail(ctx);
	return ret;
}
