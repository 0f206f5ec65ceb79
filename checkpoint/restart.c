// SPDX-License-Identifier: GPL-2.0-only
/*
 * restart(): read and check the whole image, collect what each record
 * asks for (opening files, checking every field), and only then, past the
 * point of no return, turn the caller into the restored process.
 */

#define pr_fmt(fmt) "restart: " fmt

#include <linux/checkpoint.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/nsproxy.h>
#include <linux/path.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/utsname.h>

#include "abi_hash.h"

/**
 * cr_check_head() - may this kernel restart the image?
 * @ctx: restart context
 * @head: the image's first record, its length checked
 *
 * Return: 0, -ENOEXEC (another arch or page size), -EPROTO (another
 * format version or ABI hash) or -EBADMSG (bad field).
 */
int cr_check_head(struct cr_ctx *ctx, const struct cr_hdr_head *head)
{
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
	if (head->h.tag || head->h.ptag || head->__pad)
		return cr_err(ctx, -EBADMSG,
			      "record 0 (head) at offset 0: reserved fields not zero");
	if (!memchr(head->release, 0, CR_UTS_LEN) ||
	    !memchr(head->nodename, 0, CR_UTS_LEN) ||
	    !memchr(head->domainname, 0, CR_UTS_LEN))
		return cr_err(ctx, -EBADMSG, "record 0 (head) at offset 0: unterminated string");
	return cr_arch_check_head(ctx, head);
}

static int cr_read_tree(struct cr_ctx *ctx)
{
	const struct cr_hdr_tree *h;
	const struct cr_tree_task *tt;

	h = cr_read_rec(ctx, CR_HDR_TREE, sizeof(*h));
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->nr_tasks != 1)
		return cr_rec_err(ctx, -EOPNOTSUPP,
				  "%u tasks: task trees are not supported yet", h->nr_tasks);
	if (h->h.len < sizeof(*h) + sizeof(*tt))
		return cr_rec_err(ctx, -EBADMSG, "too short for %u tasks", h->nr_tasks);
	tt = (const struct cr_tree_task *)(h + 1);
	if (tt->pid < 1 || tt->tgid != tt->pid || tt->ppid)
		return cr_rec_err(ctx, -EBADMSG, "root task %d: bad tgid %d or ppid %d",
				  tt->pid, tt->tgid, tt->ppid);
	if (tt->pid >= READ_ONCE(pid_max))
		return cr_rec_err(ctx, -EBADMSG, "root task %d: not below pid_max %d",
				  tt->pid, READ_ONCE(pid_max));
	ctx->root_pid = tt->pid;
	return 0;
}

/* Everything a task's records ask for, checked; nothing changed yet. */
static int cr_read_one_task(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	int ret;

	ret = cr_read_task(ctx, rt);
	if (!ret)
		ret = cr_read_fs(ctx, rt);
	if (!ret)
		ret = cr_read_files(ctx, rt);
	if (!ret)
		ret = cr_read_mm(ctx, rt);
	if (!ret)
		ret = cr_read_sighand(ctx, rt);
	if (!ret)
		ret = cr_read_cpu(ctx, rt);
	if (!ret)
		ret = cr_read_fpu(ctx, rt);
	if (!ret)
		ret = cr_read_restart_block(ctx, rt);
	return ret;
}

static void cr_rst_task_free(struct cr_rst_task *rt)
{
	path_put(&rt->cwd);
	cr_rst_files_free(rt->files);
	cr_rst_mm_free(rt->mm);
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

/* Past the point of no return: become the task of the image. */
static int cr_become(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	int ret;

	/* A new address space first: then nothing of the caller's is reachable. */
	ret = cr_restore_mm(ctx, rt);
	if (!ret)
		cr_reset_restarter();
	if (!ret)
		ret = cr_restore_files(ctx, rt);
	if (!ret)
		ret = cr_restore_fs(ctx, rt);
	if (!ret)
		ret = cr_restore_sighand(ctx, rt);
	if (!ret)
		ret = cr_restore_task(ctx, rt);
	if (!ret)
		ret = cr_restore_fpu(ctx, rt);
	if (!ret)
		ret = cr_restore_cpu(ctx, rt);
	if (!ret)
		cr_restore_uts(ctx);
	return ret;
}

/*
 * A root task that was not pid 1 of its container is created as a child
 * of the caller (which stays the container's init) with its saved pid,
 * as clone3()'s set_tid does, and restores itself before it first
 * returns to user mode.
 */
struct cr_child {
	struct cr_ctx *ctx;
	struct cr_rst_task *rt;
	struct completion done;
	int ret;
};

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

static int cr_child_fn(void *arg)
{
	struct cr_child *child = arg;
	struct cr_rst_task *rt = child->rt;
	struct cr_child_resume *cr;
	int ret;

	cr = kzalloc(sizeof(*cr), GFP_KERNEL);
	ret = cr ? cr_become(child->ctx, rt) : -ENOMEM;
	if (!ret) {
		cr->res.ax = rt->cpu->ax;
		if (rt->rb) {
			cr->res.kind = rt->rb->kind;
			cr->res.clockid = rt->rb->clockid;
			cr->res.remaining_ns = rt->rb->remaining_ns;
			cr->res.rmtp = rt->rb->rmtp;
		}
		init_task_work(&cr->work, cr_child_resume);
		/*
		 * TWA_SIGNAL_NO_IPI: run before get_signal() dequeues a signal
		 * that may be pending by then, so that a handler's frame is
		 * built from the restored registers.
		 */
		ret = task_work_add(current, &cr->work, TWA_SIGNAL_NO_IPI);
	}
	if (ret) {
		kfree(cr);
		pr_err_ratelimited("pid %d killed: restoring failed after the point of no return: %s\n",
				   task_pid_nr(current),
				   child->ctx->errmsg[0] ? child->ctx->errmsg : "error");
		force_fatal_sig(SIGKILL);
	}
	child->ret = ret;
	complete(&child->done);	/* the ctx is not ours any more */
	return 0;
}

static int cr_restart_child(struct cr_ctx *ctx, struct cr_rst_task *rt, pid_t *pid)
{
	pid_t set_tid = ctx->root_pid;
	struct cr_child child = { .ctx = ctx, .rt = rt };
	/* CLONE_VM: no copy of the caller's memory, the child gets its own mm. */
	struct kernel_clone_args args = {
		.flags = CLONE_VM,
		.exit_signal = SIGCHLD,
		.fn = cr_child_fn,
		.fn_arg = &child,
		.set_tid = &set_tid,
		.set_tid_size = 1,
	};
	struct pid *cpid;
	pid_t nr;

	init_completion(&child.done);
	nr = kernel_clone(&args);
	if (nr < 0)
		return cr_err(ctx, nr, "cannot create pid %d in the new container", set_tid);
	*pid = nr;
	if (!wait_for_completion_killable(&child.done))
		return child.ret;
	/*
	 * Killed: the child uses ctx until it completes, so kill it too and
	 * wait for it; it checks for fatal signals as it restores.
	 */
	cpid = find_get_pid(nr);
	kill_pid(cpid, SIGKILL, 1);
	put_pid(cpid);
	wait_for_completion_state(&child.done, TASK_IDLE);
	return cr_err(ctx, -EINTR, "restart was killed while pid %d was being restored", nr);
}

/**
 * cr_do_restart() - turn the caller into the process of the image
 * @ctx: restart context
 * @res: filled with how the restored process goes on
 *
 * If the root task of the image was pid 1 of its container, the caller
 * becomes it.  Otherwise it is created as a child of the caller with its
 * saved pid, and @res->ax tells the caller that pid.
 *
 * Return: 0 once restored; -errno with nothing changed if the image is
 * refused; -errno with the restored task killed if restoring fails past
 * the point of no return.
 */
int cr_do_restart(struct cr_ctx *ctx, struct cr_resume *res)
{
	struct cr_rst_task rt = {};
	const struct cr_rec *r;
	int ret;

	ret = cr_check_restarter(ctx);
	if (ret)
		return ret;
	ret = cr_read_image(ctx);
	if (ret)
		return ret;
	ret = cr_read_tree(ctx);
	if (!ret)
		ret = cr_read_one_task(ctx, &rt);
	if (!ret) {
		r = cr_next_rec(ctx);
		if (!r || r->h->type != CR_HDR_TAIL)
			ret = cr_rec_err(ctx, -EBADMSG, "unexpected record after the last task");
	}
	if (ret)
		goto out;
	if (ctx->root_pid != 1) {
		pid_t pid = 0;

		ret = cr_restart_child(ctx, &rt, &pid);
		res->ax = pid;
		goto out;
	}
	/* Files and namespaces the new task needs must be ours alone. */
	if (!ret && unshare_files())
		ret = -ENOMEM;
	if (!ret && unshare_fs_struct())
		ret = -ENOMEM;
	if (ret)
		goto out;

	/* -- point of no return -- */
	ret = cr_become(ctx, &rt);
	if (ret) {
		pr_err_ratelimited("pid %d killed: restoring failed after the point of no return: %s\n",
				   task_pid_nr(current), ctx->errmsg[0] ? ctx->errmsg : "error");
		force_fatal_sig(SIGKILL);
		goto out;
	}
	res->ax = rt.cpu->ax;
	if (rt.rb) {
		res->kind = rt.rb->kind;
		res->clockid = rt.rb->clockid;
		res->remaining_ns = rt.rb->remaining_ns;
		res->rmtp = rt.rb->rmtp;
	}
out:
	cr_rst_task_free(&rt);
	return ret;
}
