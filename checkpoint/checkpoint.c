// SPDX-License-Identifier: GPL-2.0-only
/*
 * checkpoint(): find the container, check permission and what it holds,
 * freeze its cgroup, write the image, thaw.
 */

#include <linux/cgroup.h>
#include <linux/checkpoint.h>
#include <linux/delay.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include <linux/user_namespace.h>

#include "abi_hash.h"

#define CR_FREEZE_TIMEOUT_MS	10000

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

/* Freeze the cgroup of the container; *@froze tells whether we did. */
static int cr_freeze(struct cr_ctx *ctx, struct cgroup **cgrpp, bool *froze)
{
	struct task_struct *t = ctx->root;
	unsigned long deadline;
	struct cgroup *cgrp;
	int ret;

	*froze = false;
	rcu_read_lock();
	cgrp = task_dfl_cgroup(t);
	cgroup_get(cgrp);
	rcu_read_unlock();
	*cgrpp = cgrp;

	if (!cgroup_parent(cgrp))
		return cr_err(ctx, -EBUSY,
			      "pid %d is in the root cgroup: run the container in a cgroup of its own (ckpt-run does)",
			      task_pid_vnr(t));
	ret = cr_check_cgroup_members(ctx, cgrp);
	if (ret)
		return ret;

	cgroup_lock();
	if (!(cgrp->self.flags & CSS_ONLINE)) {
		cgroup_unlock();
		return cr_err(ctx, -ESRCH, "the container's cgroup is being removed");
	}
	if (!cgrp->freezer.freeze) {
		cgroup_freeze(cgrp, true);
		*froze = true;
	}
	cgroup_unlock();

	deadline = jiffies + msecs_to_jiffies(CR_FREEZE_TIMEOUT_MS);
	while (!test_bit(CGRP_FROZEN, &cgrp->flags)) {
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

static void cr_thaw(struct cgroup *cgrp, bool froze)
{
	if (froze) {
		cgroup_lock();
		cgroup_freeze(cgrp, false);
		cgroup_unlock();
	}
	cgroup_put(cgrp);
}

/* The freezer sets ->frozen under siglock. */
static bool cr_task_frozen(struct task_struct *t)
{
	unsigned long flags;
	bool frozen;

	if (!lock_task_sighand(t, &flags))
		return false;
	frozen = t->frozen;
	unlock_task_sighand(t, &flags);
	return frozen;
}

/* Still frozen after the capture?  Someone may have thawed the cgroup. */
static int cr_check_frozen(struct cr_ctx *ctx, struct cgroup *cgrp)
{
	if (!test_bit(CGRP_FROZEN, &cgrp->flags) || !cr_task_frozen(ctx->root))
		return cr_err(ctx, -EBUSY, "the container was thawed while it was checkpointed");
	return 0;
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
	struct task_struct *t;
	struct cgroup *cgrp = NULL;
	bool froze = false;
	u64 t0;
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

	if (!ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS))
		return cr_err(ctx, -EPERM, "no permission to ptrace pid %d", pid);
	ret = cr_check_shape(ctx, t);
	if (ret)
		return ret;

	ret = cr_freeze(ctx, &cgrp, &froze);
	t0 = ktime_get_ns();
	if (!ret) {
		/* Frozen now: the shape cannot change any more. */
		ret = cr_check_shape(ctx, t);
		if (!ret && t->ptrace)
			ret = cr_err(ctx, -EOPNOTSUPP, "pid %d is being ptraced", pid);
		if (!ret && !cr_task_frozen(t))
			ret = cr_err(ctx, -EBUSY, "pid %d did not freeze", pid);
	}
	if (!ret)
		ret = cr_write_head(ctx);
	if (!ret)
		ret = cr_write_tree(ctx);
	if (!ret)
		ret = cr_write_one_task(ctx, t);
	if (!ret)
		ret = cr_check_frozen(ctx, cgrp);
	ctx->frozen_ns = ktime_get_ns() - t0;
	if (cgrp)
		cr_thaw(cgrp, froze);
	/* The capture is complete: what is left needs no frozen container. */
	if (!ret)
		ret = cr_write_tail(ctx);
	return ret;
}
