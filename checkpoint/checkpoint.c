// SPDX-License-Identifier: GPL-2.0-only
/*
 * checkpoint(): find the container, freeze its cgroup, collect its tasks
 * (every process and thread of its pid namespace, or a subtree), check
 * permission and what they hold, write the image, check that nothing
 * captured is also used from outside, then thaw (or leave frozen, or
 * kill).
 */

#include <linux/cgroup.h>
#include <linux/checkpoint.h>
#include <linux/delay.h>
#include <linux/fdtable.h>
#include <linux/fs_struct.h>
#include <linux/ipc_namespace.h>
#include <linux/kernfs.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/task_stack.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>
#include <net/rtnetlink.h>

#include "abi_hash.h"

#define CR_FREEZE_TIMEOUT_MS	10000

/* The container's cgroup while it is checkpointed. */
struct cr_freezer {
	struct cgroup *cgrp;	/* a reference */
	bool claimed;		/* ours alone (cr_cgroup_claim()) */
	bool froze;		/* frozen by us, thawed by us */
};

/* One task of the container while it is checkpointed. */
struct cr_ctask {
	struct task_struct *t;	/* a reference */
	unsigned int leader;	/* index of its thread group leader */
	unsigned long switches;	/* context switches once frozen */
	int signals;		/* signals pending then */
	bool zombie;
	bool stack;		/* its stack held */
	/* the first task, in TREE order, of its mm, fd table, fs, sighand */
	bool first_mm, first_files, first_fs, first_sighand;
};

/* The tasks of the container, in TREE order. */
struct cr_tasks {
	struct cr_ctask *v;
	unsigned int nr;
	unsigned int cap;
	struct xarray set;	/* task_pid_nr() -> task: who is inside */
	struct pid_namespace *ns;
	struct nsproxy nsp;	/* the root's namespaces, compared only */
	bool whole;		/* all of a pid namespace, not a subtree */
};

/*
 * Objects several tasks can share.  The objhash holds a reference on
 * each, taken under the lock that keeps the task's pointer to it stable
 * (a frozen task still dies of SIGKILL): cr_tree_entry() takes it, the
 * objhash drops it.
 */
static void cr_put_fs(void *ptr)
{
	struct fs_struct *fs = ptr;
	bool last;

	spin_lock(&fs->lock);
	last = !--fs->users;
	spin_unlock(&fs->lock);
	if (last)
		free_fs_struct(fs);
}

static void cr_put_files(void *ptr)
{
	put_files_struct(ptr);
}

static void cr_put_sighand(void *ptr)
{
	__cleanup_sighand(ptr);
}

static void cr_put_mm(void *ptr)
{
	mmdrop(ptr);
}

static const struct cr_obj_ops cr_obj_tmm_ops = {
	.name = "address space", .grab = cr_obj_nop, .drop = cr_put_mm,
};

static const struct cr_obj_ops cr_obj_files_ops = {
	.name = "fd table", .grab = cr_obj_nop, .drop = cr_put_files,
};

static const struct cr_obj_ops cr_obj_fs_ops = {
	.name = "fs info", .grab = cr_obj_nop, .drop = cr_put_fs,
};

static const struct cr_obj_ops cr_obj_sighand_ops = {
	.name = "signal handler table", .grab = cr_obj_nop, .drop = cr_put_sighand,
};

static void cr_copy_uts(char *dst, const char *src)
{
	strscpy(dst, src, CR_UTS_LEN);
}

static int cr_write_head(struct cr_ctx *ctx, u32 ns_flags)
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
	h->ns_flags = ns_flags;
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

/*
 * A tag for @ptr, shared by the tasks that share it; *@first if new.  The
 * caller holds a reference on @ptr: the objhash keeps it if it is new.
 */
static int cr_tree_tag(struct cr_ctx *ctx, void *ptr, const struct cr_obj_ops *ops,
		       u32 *tag, bool *first)
{
	int ret;

	if (!ptr)
		return cr_err(ctx, -ESRCH, "a task of the container is exiting");
	ret = cr_obj_lookup_add(ctx->objhash, ptr, ops, first);
	if (ret < 0 || !*first)
		ops->drop(ptr);
	if (ret < 0)
		return ret;
	*tag = ret;
	return 0;
}

/* The TREE entry of a live task: its identity and what it shares. */
static int cr_tree_entry(struct cr_ctx *ctx, struct cr_tasks *ts, unsigned int i,
			 struct cr_tree_task *tt)
{
	struct cr_ctask *ct = &ts->v[i];
	struct task_struct *t = ct->t;
	struct mm_struct *mm;
	struct files_struct *files;
	struct fs_struct *fs;
	struct sighand_struct *sighand;
	unsigned long flags;
	int ret;

	task_lock(t);
	mm = t->mm;
	if (mm)
		mmgrab(mm);
	files = t->files;
	if (files)
		atomic_inc(&files->count);
	fs = t->fs;
	if (fs) {
		spin_lock(&fs->lock);
		fs->users++;
		spin_unlock(&fs->lock);
	}
	task_unlock(t);
	sighand = lock_task_sighand(t, &flags);
	if (sighand) {
		refcount_inc(&sighand->count);
		unlock_task_sighand(t, &flags);
	}
	ret = cr_tree_tag(ctx, mm, &cr_obj_tmm_ops, &tt->mm_tag, &ct->first_mm);
	if (!ret)
		ret = cr_tree_tag(ctx, files, &cr_obj_files_ops, &tt->files_tag, &ct->first_files);
	else if (files)
		cr_put_files(files);
	if (!ret)
		ret = cr_tree_tag(ctx, fs, &cr_obj_fs_ops, &tt->fs_tag, &ct->first_fs);
	else if (fs)
		cr_put_fs(fs);
	if (!ret)
		ret = cr_tree_tag(ctx, sighand, &cr_obj_sighand_ops, &tt->sighand_tag,
				  &ct->first_sighand);
	else if (sighand)
		cr_put_sighand(sighand);
	return ret;
}

/*
 * A zombie comes back by exiting again: its parent must not reap it on
 * its own then (SIGCHLD ignored, SA_NOCLDWAIT), as it did not before.
 */
static int cr_check_zombie(struct cr_ctx *ctx, struct task_struct *t)
{
	struct sighand_struct *sighand;
	struct task_struct *parent;
	const struct k_sigaction *ka;
	unsigned long flags;
	bool autoreap;

	rcu_read_lock();
	parent = rcu_dereference(t->real_parent);
	get_task_struct(parent);
	rcu_read_unlock();
	sighand = lock_task_sighand(parent, &flags);
	if (!sighand) {
		put_task_struct(parent);
		return cr_err(ctx, -ESRCH, "the parent of zombie %d is exiting", task_pid_vnr(t));
	}
	ka = &sighand->action[SIGCHLD - 1];
	autoreap = ka->sa.sa_handler == SIG_IGN || (ka->sa.sa_flags & SA_NOCLDWAIT);
	unlock_task_sighand(parent, &flags);
	put_task_struct(parent);
	if (autoreap)
		return cr_err(ctx, -EOPNOTSUPP,
			      "zombie %d: its parent ignores SIGCHLD now, it would be reaped at once",
			      task_pid_vnr(t));
	return 0;
}

static int cr_write_tree(struct cr_ctx *ctx, struct cr_tasks *ts)
{
	struct pid_namespace *ns = ts->ns;
	struct cr_hdr_tree *h;
	struct cr_tree_task *tt;
	size_t len = sizeof(*h) + ts->nr * sizeof(*tt);
	unsigned int i;
	int ret = 0;

	if (len > CR_RECORD_MAX)
		return cr_err(ctx, -EOPNOTSUPP, "%u tasks: more than an image can describe",
			      ts->nr);
	h = cr_rec_get(ctx, CR_HDR_TREE, len, 0, 0);
	if (!h)
		return -ENOMEM;
	h->nr_tasks = ts->nr;
	tt = (struct cr_tree_task *)(h + 1);
	for (i = 0; i < ts->nr && !ret; i++) {
		struct cr_ctask *ct = &ts->v[i];
		struct task_struct *t = ct->t;
		struct signal_struct *sig = t->signal;

		tt[i].pid = task_pid_nr_ns(t, ns);
		tt[i].tgid = task_tgid_nr_ns(t, ns);
		tt[i].pgid = task_pgrp_nr_ns(t, ns);
		tt[i].sid = task_session_nr_ns(t, ns);
		if (ct->leader != i) {
			tt[i].ppid = tt[ct->leader].ppid;
		} else if (i) {
			rcu_read_lock();
			tt[i].ppid = task_tgid_nr_ns(rcu_dereference(t->real_parent), ns);
			rcu_read_unlock();
		}
		if (sig->is_child_subreaper)
			tt[i].flags |= CR_TASK_SUBREAPER;
		if (thread_group_leader(t))
			tt[i].exit_signal = t->exit_signal;
		if (ct->zombie) {
			ret = cr_check_zombie(ctx, t);
			if (ret)
				break;
			tt[i].flags |= CR_TASK_ZOMBIE;
			tt[i].exit_code = (sig->flags & SIGNAL_GROUP_EXIT) ?
					  sig->group_exit_code : t->exit_code;
			continue;
		}
		ret = cr_tree_entry(ctx, ts, i, &tt[i]);
	}
	/* What restart could not rebuild is refused now, with its reason. */
	if (!ret)
		ret = cr_check_tree(ctx, tt, ts->nr, NULL);
	cr_hbuf_put(ctx, len);
	return ret;
}

/*
 * The tail, then the page data: the pages the PAGES records name (their
 * references kept if @keep).  @end gets what the END record after them
 * repeats.
 */
static int cr_write_tail(struct cr_ctx *ctx, struct cr_hdr_end *end, bool keep)
{
	struct cr_hdr_tail h = {
		.h = { .type = CR_HDR_TAIL, .len = sizeof(h) },
	};
	u64 t0;
	int ret;

	/* The checksum covers every byte before the tail. */
	ret = cr_flush(ctx);
	if (ret)
		return ret;
	h.records = ctx->records;
	h.bytes = ctx->bytes;
	h.checksum = xxh64_digest(&ctx->csum);
	h.data_offset = ALIGN(ctx->bytes + sizeof(h), PAGE_SIZE);
	h.data_bytes = ctx->data_pages * PAGE_SIZE;
	*end = (struct cr_hdr_end) {
		.h = { .type = CR_HDR_END, .len = sizeof(*end) },
		.data_bytes = h.data_bytes,
		.checksum = h.checksum,
	};
	ret = cr_write_out(ctx, &h, sizeof(h));
	if (ret)
		return ret;
	ctx->records++;
	t0 = ktime_get_ns();
	ret = cr_flush_data(ctx, h.data_offset, keep);
	ctx->st.data_ns = ktime_get_ns() - t0;
	return ret;
}

/*
 * After the page data, once the container is known to have stayed frozen
 * while they were written (or its pages are held copy-on-write): the
 * image is complete.
 */
static int cr_write_end(struct cr_ctx *ctx, const struct cr_hdr_end *end)
{
	int ret = cr_write_out(ctx, end, sizeof(*end));

	if (!ret)
		ctx->records++;
	return ret;
}

/**
 * cr_write_held() - write out the image of a deferred checkpoint
 * @ctx: its context, the records in the arena and the pages held
 *	copy-on-write; @ctx->file the image file
 * @keep: keep the records and pages for another write-out
 *
 * The container may run meanwhile, or be gone: what is written is what
 * was captured.  The page checksums are computed at the first write-out.
 *
 * Return: 0 or -errno (of writing the image).
 */
int cr_write_held(struct cr_ctx *ctx, bool keep)
{
	struct cr_hdr_end end;
	int ret = 0;

	ctx->hold = false;
	/* Without the page data, their checksums are not needed yet. */
	if (!(ctx->flags & CHECKPOINT_NO_PAGE_CSUM) && !ctx->no_data)
		ret = cr_pgarr_hash(ctx);
	if (!ret)
		ret = cr_write_tail(ctx, &end, keep);
	if (!ret)
		ret = cr_write_end(ctx, &end);
	return ret;
}

/* All of one live task: the order is the image format's. */
static int cr_write_one_task(struct cr_ctx *ctx, struct cr_ctask *ct)
{
	struct task_struct *t = ct->t;
	int ret;

	ret = cr_write_task(ctx, t);
	if (!ret && ct->first_fs)
		ret = cr_write_fs(ctx, t);
	if (!ret && ct->first_files)
		ret = cr_write_files(ctx, t);
	if (!ret && ct->first_mm)
		ret = cr_write_mm(ctx, t);
	if (!ret && ct->first_sighand)
		ret = cr_write_sighand(ctx, t);
	if (!ret)
		ret = cr_write_cpu(ctx, t);
	if (!ret)
		ret = cr_write_fpu(ctx, t);
	if (!ret)
		ret = cr_write_restart_block(ctx, t);
	if (!ret)
		ret = cr_write_sigpending(ctx, t);
	return ret;
}

/* -- the tasks of the container ------------------------------------------- */

static void cr_tasks_release(struct cr_tasks *ts)
{
	unsigned int i;

	for (i = 0; i < ts->nr; i++) {
		if (ts->v[i].stack)
			put_task_stack(ts->v[i].t);
		put_task_struct(ts->v[i].t);
	}
	ts->nr = 0;
	xa_destroy(&ts->set);
}

static bool cr_inside(struct cr_tasks *ts, struct task_struct *t)
{
	return xa_load(&ts->set, task_pid_nr(t)) == t;
}

/*
 * The root, its threads, then breadth first the children of every
 * process and their threads: each task after its parent and its leader.
 * Under tasklist_lock; -ENOSPC if @ts has no room for all.
 */
static bool cr_add_task(struct cr_tasks *ts, unsigned int *n, struct task_struct *t,
			unsigned int leader)
{
	if (*n == ts->cap)
		return false;
	ts->v[*n] = (struct cr_ctask){ .t = t, .leader = leader };
	ts->v[*n].zombie = t->exit_state == EXIT_ZOMBIE;
	(*n)++;
	return true;
}

static int cr_collect_locked(struct cr_tasks *ts, struct task_struct *root)
{
	struct task_struct *p, *t, *c;
	unsigned int i, n = 0;

	if (!cr_add_task(ts, &n, root, 0))
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		p = ts->v[i].t;
		if (ts->v[i].leader != i)
			continue;
		for_each_thread(p, t)
			if (t != p && !t->exit_state && !cr_add_task(ts, &n, t, i))
				return -ENOSPC;
		for_each_thread(p, t)
			list_for_each_entry(c, &t->children, sibling)
				if (c->exit_state != EXIT_DEAD && !cr_add_task(ts, &n, c, n))
					return -ENOSPC;
	}
	for (i = 0; i < n; i++)
		get_task_struct(ts->v[i].t);
	ts->nr = n;
	return 0;
}

static int cr_collect(struct cr_ctx *ctx, struct cr_tasks *ts)
{
	unsigned int i;
	int ret;

	for (;;) {
		if (!ts->v) {
			ts->v = kvmalloc_array(ts->cap, sizeof(*ts->v), CR_GFP);
			if (!ts->v)
				return -ENOMEM;
		}
		read_lock(&tasklist_lock);
		ret = cr_collect_locked(ts, ctx->root);
		read_unlock(&tasklist_lock);
		if (ret != -ENOSPC)
			break;
		kvfree(ts->v);
		ts->v = NULL;
		if (ts->cap >= PID_MAX_LIMIT)
			return cr_err(ctx, -EOPNOTSUPP, "too many tasks");
		ts->cap *= 4;
	}
	for (i = 0; i < ts->nr; i++) {
		ret = xa_insert(&ts->set, task_pid_nr(ts->v[i].t), ts->v[i].t, CR_GFP);
		if (ret)
			return ret == -EBUSY ? -EAGAIN : ret;
	}
	return 0;
}

/* What a task of the container may not be or hold. */
static int cr_check_task(struct cr_ctx *ctx, struct cr_tasks *ts, struct cr_ctask *ct)
{
	struct task_struct *t = ct->t;
	pid_t pid = task_pid_vnr(t);
	struct nsproxy *nsp;
	bool same_ns = true, own_pidns = false;

	if (t->flags & (PF_KTHREAD | PF_USER_WORKER))
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d is a kernel worker thread (io_uring): not supported yet",
			      pid);
	if (task_active_pid_ns(t) != ts->ns)
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d is in a nested pid namespace: not supported yet", pid);
	if (ct->zombie) {
		if (!thread_group_empty(t))
			return cr_err(ctx, -EOPNOTSUPP,
				      "pid %d: its main thread exited while its other threads run: not supported yet",
				      pid);
		return 0;
	}
	if (READ_ONCE(t->vfork_done))
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d was created by vfork() and has not called execve() yet: not supported",
			      pid);
	if (t->ptrace)
		return cr_err(ctx, -EOPNOTSUPP, "pid %d is being ptraced", pid);
	task_lock(t);
	nsp = t->nsproxy;
	if (nsp) {
		same_ns = nsp->uts_ns == ts->nsp.uts_ns && nsp->ipc_ns == ts->nsp.ipc_ns &&
			  nsp->mnt_ns == ts->nsp.mnt_ns && nsp->net_ns == ts->nsp.net_ns &&
			  nsp->cgroup_ns == ts->nsp.cgroup_ns && nsp->time_ns == ts->nsp.time_ns;
		own_pidns = nsp->pid_ns_for_children != ts->ns;
	}
	task_unlock(t);
	if (!same_ns)
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d has namespaces of its own (unshare, setns): not supported yet",
			      pid);
	if (own_pidns)
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d made a pid namespace for its children: nested pid namespaces are not supported yet",
			      pid);
	if (task_cred_xxx(t, user_ns) != current_user_ns())
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d is in another user namespace than the caller: not supported yet",
			      pid);
	return 0;
}

/*
 * Every task of the container is ours, inside the frozen cgroup, and in
 * a whole container, every task of its pid namespace is below its init.
 */
static int cr_check_members(struct cr_ctx *ctx, struct cr_tasks *ts, struct cgroup *cgrp)
{
	struct task_struct *g, *t;
	unsigned int i;
	pid_t outside = 0, stray = 0;
	int ret;

	for (i = 0; i < ts->nr; i++) {
		ret = cr_check_task(ctx, ts, &ts->v[i]);
		if (ret)
			return ret;
		if (ts->v[i].zombie)
			continue;
		rcu_read_lock();
		if (!cgroup_is_descendant(task_dfl_cgroup(ts->v[i].t), cgrp))
			outside = task_pid_vnr(ts->v[i].t);
		rcu_read_unlock();
		if (outside)
			return cr_err(ctx, -EBUSY,
				      "pid %d is not in the container's cgroup (it cannot be frozen with it)",
				      outside);
	}
	if (!ts->whole)
		return 0;
	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (t->exit_state || task_active_pid_ns(t) != ts->ns || cr_inside(ts, t))
			continue;
		stray = task_pid_vnr(t) ?: -1;
		break;
	}
	rcu_read_unlock();
	if (stray)
		return cr_err(ctx, -EBUSY,
			      "pid %d is in the container's pid namespace but not below its init (setns?)",
			      stray);
	return 0;
}

/*
 * The tunnel drivers' fallback devices (sit0, tunl0, gre0, ip6tnl0, ...)
 * that every network namespace gets: a new one has them too, as long as
 * they are down.
 */
static bool cr_fallback_tunnel(struct net_device *dev)
{
	static const char * const kinds[] = {
		"sit", "ipip", "gre", "gretap", "erspan", "ip_vti", "ip6tnl", "ip6gre",
		"ip6gretap", "ip6erspan", "vti6",
	};
	int i;

	if ((dev->flags & IFF_UP) || !dev->rtnl_link_ops || !dev->rtnl_link_ops->kind)
		return false;
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(dev->rtnl_link_ops->kind, kinds[i]))
			return true;
	return false;
}

/*
 * Namespaces the container owns: the uts one is saved; an ipc one must be
 * empty and a network one have only loopback, as restart gives new ones.
 * (Namespaces shared with the host are the host's: nothing to save.)
 */
static int cr_check_namespaces(struct cr_ctx *ctx, struct cr_tasks *ts)
{
	static const char * const ipc_what[] = {
		"semaphore sets", "message queues", "shared memory segments",
	};
	struct ipc_namespace *ipc = ts->nsp.ipc_ns;
	struct net *net = ts->nsp.net_ns;
	struct net_device *dev;
	char name[IFNAMSIZ] = "";
	int i, n;

	if (ipc && ipc != &init_ipc_ns) {
		BUILD_BUG_ON(ARRAY_SIZE(ipc->ids) != ARRAY_SIZE(ipc_what));
		for (i = 0; i < ARRAY_SIZE(ipc_what); i++) {
			n = READ_ONCE(ipc->ids[i].in_use);
			if (n)
				return cr_err(ctx, -EOPNOTSUPP,
					      "the container's ipc namespace holds %d System V %s: not supported yet",
					      n, ipc_what[i]);
		}
		n = READ_ONCE(ipc->mq_queues_count);
		if (n)
			return cr_err(ctx, -EOPNOTSUPP,
				      "the container's ipc namespace holds %d POSIX message queues: not supported yet",
				      n);
	}
	if (net && !net_eq(net, &init_net)) {
		rcu_read_lock();
		for_each_netdev_rcu(net, dev) {
			if (!(dev->flags & IFF_LOOPBACK) && !cr_fallback_tunnel(dev)) {
				strscpy(name, dev->name, sizeof(name));
				break;
			}
		}
		rcu_read_unlock();
		if (name[0])
			return cr_err(ctx, -EOPNOTSUPP,
				      "the container's network namespace has device %s: only loopback is supported",
				      name);
	}
	return 0;
}

/* The namespaces the container owns, which restart must get new. */
static u32 cr_ns_flags(struct cr_tasks *ts)
{
	struct net *net = ts->nsp.net_ns;
	u32 flags = 0;

	if (ts->nsp.uts_ns != &init_uts_ns)
		flags |= CR_NS_UTS;
	if (ts->nsp.ipc_ns != &init_ipc_ns)
		flags |= CR_NS_IPC;
	if (!net_eq(net, &init_net)) {
		flags |= CR_NS_NET;
		if (net->loopback_dev && (READ_ONCE(net->loopback_dev->flags) & IFF_UP))
			flags |= CR_NS_LO_UP;
	}
	return flags;
}

/* Cgroup members outside the container: a whole container has none. */
static int cr_check_cgroup_members(struct cr_ctx *ctx, struct cr_tasks *ts,
				   struct cgroup *cgrp)
{
	struct cgroup_subsys_state *css;
	struct css_task_iter it;
	struct task_struct *t;
	int ret = 0;

	rcu_read_lock();
	css_for_each_descendant_pre(css, &cgrp->self) {
		css_task_iter_start(css, 0, &it);
		while (!ret && (t = css_task_iter_next(&it))) {
			if (same_thread_group(t, current))
				ret = cr_err(ctx, -EBUSY,
					     "the caller is in the container's cgroup");
			else if (ts && ts->whole && !t->exit_state && !cr_inside(ts, t))
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

/**
 * cr_may_freeze() - may the caller freeze @cgrp, as writing cgroup.freeze would?
 * @ctx: the call's context
 * @cgrp: the cgroup
 *
 * The cgroup must be visible in the caller's cgroup namespace and not its
 * root, and its cgroup.freeze must be writable by the caller (delegation
 * chowns it to the delegatee).
 *
 * Return: 0, -EPERM or -ESRCH (the cgroup is being removed).
 */
int cr_may_freeze(struct cr_ctx *ctx, struct cgroup *cgrp)
{
	struct cgroup_namespace *ns = current->nsproxy->cgroup_ns;
	struct cgroup *ns_root = ns->root_cset->dfl_cgrp;
	struct kernfs_node *kn;
	int ret;

	if (!cgroup_parent(cgrp))
		return cr_err(ctx, -EBUSY,
			      "the container is in the root cgroup: run it in a cgroup of its own (ckpt-run does)");
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
 * Is @t frozen?  Right after a thaw the cgroup may still count it as
 * frozen until it has run, so it must also be asleep again, in the trap.
 * Polled without locks; cr_capture_begin() checks for good.
 */
static bool cr_frozen_now(struct task_struct *t)
{
	return t->frozen && (READ_ONCE(t->__state) & CR_FROZEN_STATES);
}

/* Freeze the cgroup of the container; fz->froze tells whether we did. */
static int cr_freeze(struct cr_ctx *ctx, struct cr_freezer *fz)
{
	struct cgroup *cgrp;
	int ret;

	rcu_read_lock();
	cgrp = task_dfl_cgroup(ctx->root);
	cgroup_get(cgrp);
	rcu_read_unlock();
	fz->cgrp = cgrp;

	ret = cr_may_freeze(ctx, cgrp);
	if (ret)
		return ret;
	ret = cr_cgroup_claim(ctx, cgrp);
	if (ret)
		return ret;
	fz->claimed = true;
	ret = cr_check_cgroup_members(ctx, NULL, cgrp);
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
	return 0;
}

static void cr_thaw(struct cr_freezer *fz, bool leave_frozen)
{
	if (!fz->cgrp)
		return;
	if (fz->froze && !leave_frozen) {
		cgroup_lock();
		cgroup_freeze(fz->cgrp, false);
		cgroup_unlock();
	}
	if (fz->claimed)
		cr_cgroup_release(fz->cgrp);
	cgroup_put(fz->cgrp);
	fz->cgrp = NULL;
}

/*
 * Wait until every task of the container is frozen, then collect them.
 * Tasks that exit meanwhile (an exiting task is not frozen) are waited
 * for, and the tasks collected again.  The polls start 50 us apart and
 * back off to 2 ms: a freeze usually takes well under a jiffy, which is
 * the container's downtime in a deferred checkpoint.
 */
static int cr_freeze_wait(struct cr_ctx *ctx, struct cr_freezer *fz, struct cr_tasks *ts)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(CR_FREEZE_TIMEOUT_MS);
	u64 poll_ns = 50 * NSEC_PER_USEC;
	unsigned int i;
	ktime_t poll;
	pid_t late;
	int ret;

	for (;;) {
		late = 0;
		if (test_bit(CGRP_FROZEN, &fz->cgrp->flags) && ctx->root->frozen) {
			ret = cr_collect(ctx, ts);
			if (ret && ret != -EAGAIN)
				return ret;
			/*
			 * A vfork() parent counts as frozen, in another sleep; a
			 * traced task may never freeze: refuse both at once.
			 */
			for (i = 0; !ret && i < ts->nr; i++)
				if (!ts->v[i].zombie && (READ_ONCE(ts->v[i].t->vfork_done) ||
							 READ_ONCE(ts->v[i].t->ptrace)))
					ret = cr_check_task(ctx, ts, &ts->v[i]);
			if (ret && ret != -EAGAIN)
				return ret;
			for (i = 0; !ret && i < ts->nr && !late; i++) {
				struct task_struct *t = ts->v[i].t;

				if (ts->v[i].zombie ? t->exit_state != EXIT_ZOMBIE :
				    !cr_frozen_now(t))
					late = task_pid_vnr(t) ?: -1;
			}
			if (!ret && !late)
				return 0;
			cr_tasks_release(ts);
		}
		if (fatal_signal_pending(current))
			return -EINTR;
		if (time_after(jiffies, deadline)) {
			if (late)
				return cr_err(ctx, -EBUSY,
					      "pid %d did not freeze within %d ms",
					      late, CR_FREEZE_TIMEOUT_MS);
			return cr_err(ctx, -EBUSY, "the container did not freeze within %d ms",
				      CR_FREEZE_TIMEOUT_MS);
		}
		poll = ns_to_ktime(poll_ns);
		set_current_state(TASK_KILLABLE);
		schedule_hrtimeout_range(&poll, poll_ns / 4, HRTIMER_MODE_REL);
		poll_ns = min_t(u64, poll_ns * 2, 2 * NSEC_PER_MSEC);
	}
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

/*
 * Start of the capture of a live task, frozen: its stack stays (a frozen
 * task still takes SIGKILL), and it is off every CPU, its registers saved
 * in memory.  Permission is checked here, for what is captured: an
 * execve() of a setuid program before the freeze is seen, and a frozen
 * task cannot run one (cr_capture_check() proves it stayed frozen).
 */
static int cr_capture_begin(struct cr_ctx *ctx, struct cr_ctask *ct)
{
	struct task_struct *t = ct->t;
	int ret;

	if (!try_get_task_stack(t))
		return cr_err(ctx, -ESRCH, "pid %d exited during the checkpoint",
			      task_pid_vnr(t));
	ct->stack = true;
	if (!ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS))
		return cr_err(ctx, -EPERM, "no permission to ptrace pid %d", task_pid_vnr(t));
	ret = cr_task_frozen(ctx, t);
	if (ret)
		return ret;
	if (!wait_task_inactive(t, CR_FROZEN_STATES))
		return cr_err(ctx, -EBUSY, "pid %d was woken while the checkpoint began",
			      task_pid_vnr(t));
	ct->switches = cr_switches(t);
	ct->signals = cr_sigpending_count(t);
	return 0;
}

/*
 * Was the task frozen for the whole capture?  A thaw (by the cgroup's
 * owner, or by anything else) lets it run, which its switch count tells
 * even if it was refrozen since.  A zombie must still be one.
 */
static int cr_capture_check(struct cr_ctx *ctx, struct cr_freezer *fz, struct cr_ctask *ct)
{
	struct task_struct *t = ct->t;
	int ret;

	if (ct->zombie) {
		if (READ_ONCE(t->exit_state) != EXIT_ZOMBIE)
			return cr_err(ctx, -EBUSY, "zombie %d was reaped during the checkpoint",
				      task_pid_vnr(t));
		return 0;
	}
	ret = cr_task_frozen(ctx, t);
	if (ret)
		return ret;
	/* A signal sent meanwhile, even blocked, is not in the image. */
	if (cr_sigpending_count(t) != ct->signals)
		return cr_err(ctx, -EBUSY, "pid %d got a signal while it was checkpointed",
			      task_pid_vnr(t));
	if (!test_bit(CGRP_FROZEN, &fz->cgrp->flags) ||
	    !wait_task_inactive(t, CR_FROZEN_STATES) || cr_switches(t) != ct->switches)
		return cr_err(ctx, -EBUSY,
			      "pid %d ran while it was checkpointed (the container was thawed or woken)",
			      task_pid_vnr(t));
	return 0;
}

/* Did every task of @ts stay frozen since cr_capture_begin()? */
static int cr_check_frozen(struct cr_ctx *ctx, struct cr_freezer *fz, struct cr_tasks *ts)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < ts->nr; i++)
		ret = cr_capture_check(ctx, fz, &ts->v[i]);
	return ret;
}

/* -- leak detection --------------------------------------------------------- */

struct cr_leak {
	struct cr_ctx *ctx;
	struct cr_tasks *ts;
};

/* Does @file, of a task outside, reach the object @ptr? */
static bool cr_file_reaches(struct file *file, void *ptr, const struct cr_obj_ops *ops)
{
	if (!file)
		return false;
	if (ops == &cr_obj_pipe_ops)
		return cr_pipe_outside(file, ptr);
	if (ops == &cr_obj_usock_ops)
		return cr_sock_reaches(file, ptr);
	return file == ptr;
}

static bool cr_fd_table_has(struct task_struct *t, void *ptr, const struct cr_obj_ops *ops)
{
	struct files_struct *files;
	struct fdtable *fdt;
	unsigned int fd;
	bool hit = false;

	task_lock(t);
	files = t->files;
	if (files) {
		fdt = files_fdtable(files);
		for (fd = find_first_bit(fdt->open_fds, fdt->max_fds);
		     fd < fdt->max_fds && !hit;
		     fd = find_next_bit(fdt->open_fds, fdt->max_fds, fd + 1))
			hit = cr_file_reaches(rcu_dereference(fdt->fd[fd]), ptr, ops);
	}
	task_unlock(t);
	return hit;
}

/* A task outside the container that uses @ptr, or 0 if none is found. */
static pid_t cr_outside_user(struct cr_tasks *ts, void *ptr, const struct cr_obj_ops *ops)
{
	struct task_struct *g, *t;
	pid_t pid = 0;
	bool hit;

	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (t->exit_state || cr_inside(ts, t))
			continue;
		/* a thread sharing its leader's fd table: scanned once */
		if ((ops == &cr_obj_file_ops || ops == &cr_obj_pipe_ops ||
		     ops == &cr_obj_usock_ops) && t != g &&
		    READ_ONCE(t->files) == READ_ONCE(g->files))
			continue;
		if (ops == &cr_obj_tmm_ops)
			hit = READ_ONCE(t->mm) == ptr;
		else if (ops == &cr_obj_files_ops)
			hit = READ_ONCE(t->files) == ptr;
		else if (ops == &cr_obj_fs_ops)
			hit = READ_ONCE(t->fs) == ptr;
		else if (ops == &cr_obj_sighand_ops)
			hit = rcu_access_pointer(t->sighand) == ptr;
		else
			hit = cr_fd_table_has(t, ptr, ops);
		if (hit) {
			pid = task_pid_vnr(t) ?: -1;
			break;
		}
	}
	rcu_read_unlock();
	return pid;
}

/* A task of the container that uses @ptr, to name it. */
static pid_t cr_inside_user(struct cr_tasks *ts, void *ptr)
{
	unsigned int i;

	for (i = 0; i < ts->nr; i++) {
		struct task_struct *t = ts->v[i].t;

		if (READ_ONCE(t->mm) == ptr || READ_ONCE(t->files) == ptr ||
		    READ_ONCE(t->fs) == ptr || rcu_access_pointer(t->sighand) == ptr)
			return task_pid_vnr(t);
	}
	return 0;
}

struct cr_pipe_end {
	void *pipe;
	struct file *file;
};

static int cr_find_pipe_end(void *arg, void *ptr, const struct cr_obj_ops *ops,
			    unsigned int users)
{
	struct cr_pipe_end *pe = arg;

	if (ops != &cr_obj_file_ops || !cr_pipe_outside(ptr, pe->pipe))
		return 0;
	pe->file = ptr;
	return 1;
}

/* A pipe with more ends than the container's: name it, and who has one. */
static int cr_pipe_leak(struct cr_leak *lk, void *pipe)
{
	struct cr_pipe_end pe = { .pipe = pipe };
	char name[64];
	pid_t out;

	cr_objhash_for_each(lk->ctx->objhash, cr_find_pipe_end, &pe);
	cr_pipe_name(pe.file, name, sizeof(name));
	out = cr_outside_user(lk->ts, pipe, &cr_obj_pipe_ops);
	if (out)
		return cr_err(lk->ctx, -EBUSY,
			      "%s of the container has an end open in pid %d, outside the container",
			      name, out);
	return cr_err(lk->ctx, -EBUSY,
		      "%s of the container has an end open outside the container", name);
}

/* A unix socket of the container connected to one outside: name both. */
static int cr_sock_leak(struct cr_leak *lk, void *sk)
{
	char what[160];
	pid_t out;

	if (!cr_sock_outside_peer(lk->ctx, sk, what, sizeof(what)))
		return 0;
	out = cr_outside_user(lk->ts, sk, &cr_obj_usock_ops);
	if (out)
		return cr_err(lk->ctx, -EBUSY,
			      "%s of pid %d, outside the container (CHECKPOINT_SOCK_DISCONNECT saves it reset)",
			      what, out);
	return cr_err(lk->ctx, -EBUSY,
		      "%s outside the container (CHECKPOINT_SOCK_DISCONNECT saves it reset)", what);
}

/*
 * More references to an object than the container's tasks account for:
 * if a task outside holds one, restart could not share the object with
 * it, so the checkpoint fails, naming both.  References that no task
 * holds (a reader of /proc, a transient lookup) do not count.
 */
static int cr_leak_one(void *arg, void *ptr, const struct cr_obj_ops *ops, unsigned int users)
{
	struct cr_leak *lk = arg;
	struct cr_ctx *ctx = lk->ctx;
	unsigned int i, refs;
	pid_t out;

	/* mm_count pins the mm, the others count our reference: not a user */
	if (ops == &cr_obj_tmm_ops) {
		refs = atomic_read(&((struct mm_struct *)ptr)->mm_users);
	} else if (ops == &cr_obj_files_ops) {
		refs = atomic_read(&((struct files_struct *)ptr)->count) - 1;
	} else if (ops == &cr_obj_fs_ops) {
		struct fs_struct *fs = ptr;

		spin_lock(&fs->lock);
		refs = fs->users - 1;
		spin_unlock(&fs->lock);
	} else if (ops == &cr_obj_sighand_ops) {
		refs = refcount_read(&((struct sighand_struct *)ptr)->count) - 1;
	} else if (ops == &cr_obj_file_ops) {
		/* The tool's standard fds are the documented exception. */
		for (i = 0; i < ARRAY_SIZE(ctx->stdio); i++)
			if (ctx->stdio[i] == ptr)
				return 0;
		refs = file_count((struct file *)ptr) - 1;	/* the objhash's own */
	} else if (ops == &cr_obj_pipe_ops) {
		/* Files of its ends: any the container lacks is outside, held or not. */
		return cr_pipe_files(ptr) <= users ? 0 : cr_pipe_leak(lk, ptr);
	} else if (ops == &cr_obj_usock_ops) {
		return cr_sock_leak(lk, ptr);
	} else {
		return 0;
	}
	if (refs <= users)
		return 0;
	out = cr_outside_user(lk->ts, ptr, ops);
	if (!out)
		return 0;
	if (ops == &cr_obj_file_ops)
		return cr_err(ctx, -EBUSY,
			      "file %pD of the container is also open in pid %d, outside the container",
			      (struct file *)ptr, out);
	return cr_err(ctx, -EBUSY,
		      "the %s of pid %d is also used by pid %d, outside the container",
		      ops->name, cr_inside_user(lk->ts, ptr), out);
}

static int cr_check_leaks(struct cr_ctx *ctx, struct cr_tasks *ts)
{
	struct cr_leak lk = { .ctx = ctx, .ts = ts };

	return cr_objhash_for_each(ctx->objhash, cr_leak_one, &lk);
}

/* -- the call --------------------------------------------------------------- */

/* Kill every captured process (CHECKPOINT_KILL). */
static void cr_kill_tasks(struct cr_tasks *ts)
{
	unsigned int i;

	for (i = 0; i < ts->nr; i++)
		if (ts->v[i].leader == i && !ts->v[i].zombie)
			do_send_sig_info(SIGKILL, SEND_SIG_PRIV, ts->v[i].t, PIDTYPE_TGID);
}

/* Every record but the tail, of tasks that cannot run meanwhile. */
static int cr_capture_records(struct cr_ctx *ctx, struct cr_tasks *ts)
{
	unsigned int i;
	int ret;

	ret = cr_write_head(ctx, cr_ns_flags(ts));
	if (!ret)
		ret = cr_write_tree(ctx, ts);
	for (i = 0; !ret && i < ts->nr; i++) {
		if (ts->v[i].zombie)
			continue;
		ret = cr_write_one_task(ctx, &ts->v[i]);
		cond_resched();
	}
	if (!ret)
		ret = cr_write_unix_queues(ctx);
	if (!ret)
		ret = cr_check_leaks(ctx, ts);
	return ret;
}

/* The capture proper, every task frozen. */
static int cr_capture(struct cr_ctx *ctx, struct cr_freezer *fz, struct cr_tasks *ts)
{
	unsigned int i;
	int ret;

	ret = cr_check_members(ctx, ts, fz->cgrp);
	if (!ret)
		ret = cr_check_cgroup_members(ctx, ts, fz->cgrp);
	if (!ret)
		ret = cr_check_namespaces(ctx, ts);
	for (i = 0; !ret && i < ts->nr; i++) {
		if (!ts->v[i].zombie)
			ret = cr_capture_begin(ctx, &ts->v[i]);
		else if (!ptrace_may_access(ts->v[i].t, PTRACE_MODE_ATTACH_REALCREDS))
			ret = cr_err(ctx, -EPERM, "no permission to ptrace zombie %d",
				     task_pid_vnr(ts->v[i].t));
	}
	if (!ret)
		ret = cr_capture_records(ctx, ts);
	/* A thaw during the capture fails it before the page data are written. */
	if (!ret)
		ret = cr_check_frozen(ctx, fz, ts);
	return ret;
}

/*
 * A process checkpointing itself (pid 0): it is not frozen, it is inside
 * this call, which is as still as frozen for a process of one thread
 * without children.  Its registers are those of the call, which returns
 * 0 in a process restored from the image (cr_write_cpu()).  Deferred
 * and held only: the pages are held copy-on-write for when it goes on.
 */
static long cr_checkpoint_self(struct cr_ctx *ctx)
{
	struct cr_tasks ts = { .cap = 4 };
	struct task_struct *t = current;
	u64 t0 = ktime_get_ns();
	int ret;

	xa_init(&ts.set);
	ctx->root = get_task_struct(t);
	ctx->arena.first_size = cr_arena_first_size(t);
	ts.ns = task_active_pid_ns(t);
	task_lock(t);
	ts.nsp = *t->nsproxy;
	task_unlock(t);
	/* What ptrace would not show of it, a checkpoint does not hold. */
	if (get_dumpable(t->mm) != SUID_DUMP_USER) {
		ret = cr_err(ctx, -EPERM,
			     "the caller is not dumpable: it may not checkpoint itself");
		goto out;
	}
	ret = cr_collect(ctx, &ts);
	if (ret == -EAGAIN)
		ret = cr_err(ctx, -EBUSY, "the caller's pid was reused during the checkpoint");
	if (!ret && ts.nr != 1)
		ret = cr_err(ctx, -EOPNOTSUPP,
			     "a process checkpointing itself must be alone: the caller has %s",
			     thread_group_empty(t) ? "children" : "other threads");
	if (!ret)
		ret = cr_check_task(ctx, &ts, &ts.v[0]);
	if (!ret)
		ret = cr_check_namespaces(ctx, &ts);
	if (!ret)
		ret = cr_capture_records(ctx, &ts);
out:
	ctx->st.capture_ns = ktime_get_ns() - t0;
	ctx->frozen_ns = ctx->st.capture_ns;
	cr_tasks_release(&ts);
	kvfree(ts.v);
	return ret;
}

/**
 * cr_do_checkpoint() - checkpoint the container rooted at @pid
 * @ctx: checkpoint context
 * @pid: init of the container, or with CHECKPOINT_SUBTREE the root of the
 *	subtree, in the caller's pid namespace; 0: the caller itself (held,
 *	CHECKPOINT_DEFERRED with fd -1, checked by the caller)
 *
 * Return: 0 or -errno, the reason recorded in @ctx.
 */
long cr_do_checkpoint(struct cr_ctx *ctx, pid_t pid)
{
	bool subtree = ctx->flags & CHECKPOINT_SUBTREE;
	struct cr_tasks ts = { .cap = 64 };
	bool deferred = ctx->flags & CHECKPOINT_DEFERRED;
	struct cr_freezer fz = {};
	struct cr_hdr_end end;
	struct task_struct *t;
	u64 t0, t1;
	int ret;

	if (!pid)
		return cr_checkpoint_self(ctx);
	xa_init(&ts.set);
	rcu_read_lock();
	t = find_task_by_vpid(pid);
	if (t)
		get_task_struct(t);
	rcu_read_unlock();
	if (!t)
		return cr_err(ctx, -ESRCH, "no process %d", pid);
	ctx->root = t;
	ctx->arena.first_size = cr_arena_first_size(t);

	if (t->flags & (PF_KTHREAD | PF_USER_WORKER))
		return cr_err(ctx, -EINVAL, "pid %d is a kernel thread", pid);
	if (!thread_group_leader(t))
		return cr_err(ctx, -EINVAL, "pid %d is a thread, not a process", pid);
	ts.ns = task_active_pid_ns(t);
	if (!ts.ns)
		return cr_err(ctx, -ESRCH, "pid %d is exiting", pid);
	ts.whole = !subtree;
	if (!subtree && (ts.ns == &init_pid_ns || ts.ns->child_reaper != t))
		return cr_err(ctx, -EINVAL,
			      "pid %d is not the init of a container (a pid namespace): use CHECKPOINT_SUBTREE",
			      pid);
	task_lock(t);
	if (t->nsproxy)
		ts.nsp = *t->nsproxy;
	task_unlock(t);
	if (t->exit_state || (t->flags & PF_EXITING) || !ts.nsp.mnt_ns)
		return cr_err(ctx, -ESRCH, "pid %d is exiting", pid);
	/* Nobody freezes what they could not read; checked again once frozen. */
	if (!ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS))
		return cr_err(ctx, -EPERM, "no permission to ptrace pid %d", pid);

	t0 = ktime_get_ns();
	ret = cr_freeze(ctx, &fz);
	if (!ret)
		ret = cr_freeze_wait(ctx, &fz, &ts);
	t1 = ktime_get_ns();
	ctx->st.freeze_ns = t1 - t0;
	if (!ret)
		ret = cr_capture(ctx, &fz, &ts);
	/*
	 * The capture is complete: the tail and the page data are left, and
	 * are written while the container is still frozen (nothing holds its
	 * pages still but that).  Only if it stayed frozen until they are out
	 * does the END record make the image complete: a thaw, a signal or a
	 * kill meanwhile fails the checkpoint and leaves an image without one.
	 * Killed only once the whole image is out.
	 */
	if (!ret && !deferred)
		ret = cr_write_tail(ctx, &end, false);
	if (!ret && !deferred)
		ret = cr_check_frozen(ctx, &fz, &ts);
	if (!ret && !deferred)
		ret = cr_write_end(ctx, &end);
	ctx->st.capture_ns = ktime_get_ns() - t1 - ctx->st.data_ns;
	if (!ret && (ctx->flags & CHECKPOINT_KILL))
		cr_kill_tasks(&ts);
	ctx->frozen_ns = ktime_get_ns() - t1;
	cr_thaw(&fz, !ret && (ctx->flags & CHECKPOINT_LEAVE_FROZEN));
	cr_tasks_release(&ts);
	kvfree(ts.v);
	/* Deferred: the pages are held copy-on-write, written after the thaw. */
	if (!ret && deferred && ctx->file)
		ret = cr_write_held(ctx, false);
	return ret;
}
