// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checkpoint/restart of a task: identity and per-task settings, signal
 * dispositions, and a system call interrupted by the checkpoint.
 */

#include <linux/checkpoint.h>
#include <linux/cred.h>
#include <linux/errno.h>
#include <linux/hrtimer.h>
#include <linux/io_uring.h>
#include <linux/personality.h>
#include <linux/pid_namespace.h>
#include <linux/posix-timers.h>
#include <linux/restart_block.h>
#include <linux/rseq.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seccomp.h>
#include <linux/signal.h>
#include <linux/syscall_user_dispatch.h>
#include <linux/thread_info.h>
#include <linux/uaccess.h>
#include <asm/unistd.h>

/* -- TASK ----------------------------------------------------------------- */

/* What a task may not hold yet: refuse instead of writing a wrong image. */
static int cr_task_supported(struct cr_ctx *ctx, struct task_struct *t)
{
	struct signal_struct *sig = t->signal;
	struct sighand_struct *sighand;
	bool timers, stopped;
	unsigned long flags;

	sighand = lock_task_sighand(t, &flags);
	if (!sighand)
		return cr_err(ctx, -ESRCH, "pid %d is exiting", task_pid_vnr(t));
	stopped = (sig->flags & SIGNAL_STOP_STOPPED) || (t->jobctl & JOBCTL_STOP_PENDING);
#ifdef CONFIG_POSIX_TIMERS
	timers = !hlist_empty(&sig->posix_timers) || hrtimer_active(&sig->real_timer) ||
		 sig->it[CPUCLOCK_PROF].expires || sig->it[CPUCLOCK_VIRT].expires;
#else
	timers = false;
#endif
	unlock_task_sighand(t, &flags);

	if (stopped)
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d is stopped (SIGSTOP, SIGTSTP): job control stops are not supported yet",
			      task_pid_vnr(t));
	if (timers)
		return cr_err(ctx, -EOPNOTSUPP, "pid %d: timers are not supported yet",
			      task_pid_vnr(t));
#ifdef CONFIG_SECCOMP
	if (t->seccomp.mode != SECCOMP_MODE_DISABLED)
		return cr_err(ctx, -EOPNOTSUPP, "pid %d: seccomp is not supported yet",
			      task_pid_vnr(t));
#endif
	return 0;
}

/**
 * cr_write_task() - write the TASK record of @t
 * @ctx: checkpoint context
 * @t: the task, frozen
 *
 * Return: 0 or -errno.
 */
int cr_write_task(struct cr_ctx *ctx, struct task_struct *t)
{
	struct pid_namespace *ns = task_active_pid_ns(ctx->root);
	struct user_namespace *uns = current_user_ns();
	const struct cred *cred;
	struct cr_hdr_task *h;
	int ret;

	ret = cr_task_supported(ctx, t);
	if (ret)
		return ret;
	h = cr_rec_get(ctx, CR_HDR_TASK, sizeof(*h), 0, 0);
	if (!h)
		return -ENOMEM;
	h->pid = task_pid_nr_ns(t, ns);
	h->tgid = task_tgid_nr_ns(t, ns);
	BUILD_BUG_ON(sizeof(h->comm) != TASK_COMM_LEN);
	__get_task_comm((char *)h->comm, sizeof(h->comm), t);
	/*
	 * Inside sigsuspend(), ppoll() or pselect() the mask is the call's
	 * own, and the saved one comes back on return; the call is restarted
	 * from scratch and sets its own again.
	 */
	h->blocked = test_tsk_restore_sigmask(t) ? t->saved_sigmask.sig[0] : t->blocked.sig[0];
	rcu_read_lock();
	cred = __task_cred(t);
	h->uid = from_kuid_munged(uns, cred->uid);
	h->gid = from_kgid_munged(uns, cred->gid);
	h->euid = from_kuid_munged(uns, cred->euid);
	h->egid = from_kgid_munged(uns, cred->egid);
	rcu_read_unlock();
	h->personality = t->personality;
	h->exit_signal = t->exit_signal;
	h->robust_list = (unsigned long)t->robust_list;
	h->clear_child_tid = (unsigned long)t->clear_child_tid;
#ifdef CONFIG_RSEQ
	h->rseq = (unsigned long)t->rseq;
	h->rseq_len = t->rseq_len;
	h->rseq_sig = t->rseq_sig;
#endif
	h->sas_ss_sp = t->sas_ss_sp;
	h->sas_ss_size = t->sas_ss_size;
	h->sas_ss_flags = t->sas_ss_flags;
	cr_hbuf_put(ctx, sizeof(*h));
	return 0;
}

/**
 * cr_read_task() - read and check the TASK record
 * @ctx: restart context
 * @rt: what is collected for the task
 *
 * Return: 0, -EBADMSG or -EOPNOTSUPP.
 */
int cr_read_task(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	const struct cr_hdr_task *h;

	h = cr_read_rec(ctx, CR_HDR_TASK, sizeof(*h));
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->pid != rt->tt->pid || h->tgid != rt->tt->tgid)
		return cr_rec_err(ctx, -EBADMSG,
				  "pid %d, tgid %d: the tree has pid %d, tgid %d here",
				  h->pid, h->tgid, rt->tt->pid, rt->tt->tgid);
	if (!memchr(h->comm, 0, sizeof(h->comm)))
		return cr_rec_err(ctx, -EBADMSG, "unterminated comm");
	if ((h->personality & PER_MASK) != PER_LINUX)
		return cr_rec_err(ctx, -EOPNOTSUPP, "personality %#x is not supported",
				  h->personality);
	if (h->sas_ss_flags & ~(SS_ONSTACK | SS_DISABLE | SS_AUTODISARM))
		return cr_rec_err(ctx, -EBADMSG, "bad sigaltstack flags %#x", h->sas_ss_flags);
	if (h->rseq) {
		if (!IS_ENABLED(CONFIG_RSEQ))
			return cr_rec_err(ctx, -EOPNOTSUPP,
					  "the task used rseq, this kernel has no CONFIG_RSEQ");
		if (h->rseq_len < 32 || !IS_ALIGNED(h->rseq, 32) || h->rseq >= TASK_SIZE_MAX)
			return cr_rec_err(ctx, -EBADMSG, "bad rseq area %#llx (%u bytes)",
					  h->rseq, h->rseq_len);
	}
	rt->task = h;
	return 0;
}

/**
 * cr_restore_task() - give the caller the identity and settings of the task
 * @ctx: restart context
 * @rt: what was collected
 *
 * Credentials are not restored: the task keeps the caller's.
 *
 * Return: 0.
 */
int cr_restore_task(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	const struct cr_hdr_task *h = rt->task;
	sigset_t blocked = { .sig = { h->blocked } };

	set_task_comm(current, (const char *)h->comm);
	current->personality = h->personality;
	current->robust_list = u64_to_user_ptr(h->robust_list);
	current->clear_child_tid = u64_to_user_ptr(h->clear_child_tid);
#ifdef CONFIG_RSEQ
	/* The caller's own registration points into memory that is gone. */
	current->rseq = u64_to_user_ptr(h->rseq);
	current->rseq_len = h->rseq ? h->rseq_len : 0;
	current->rseq_sig = h->rseq ? h->rseq_sig : 0;
	if (h->rseq)
		rseq_set_notify_resume(current);
#endif
	current->sas_ss_sp = h->sas_ss_sp;
	current->sas_ss_size = h->sas_ss_size;
	current->sas_ss_flags = h->sas_ss_flags;
	current->restart_block.fn = do_no_restart_syscall;
	sigdelsetmask(&blocked, sigmask(SIGKILL) | sigmask(SIGSTOP));
	set_current_blocked(&blocked);
	return 0;
}

/* -- the caller of restart() ------------------------------------------------ */

/**
 * cr_restarter_busy() - what keeps the caller from becoming a restored task
 *
 * Checked by restart() before it reads anything: the caller (the new
 * container's init, or the process rolled back in place) has no
 * children, and no timer armed that would fire into the restored task
 * (checkpoint refuses timers, so an image never has any).  Single-threaded,
 * the caller alone arms timers and creates children; a child can still
 * come to it later as an orphan reparented to the container's init (a
 * task that entered the container with setns()).  That child is left
 * alone: a failed restart reaps the tasks it created, and no other.
 *
 * Return: NULL, or the reason (restart() fails with -EINVAL).
 */
const char *cr_restarter_busy(void)
{
	struct signal_struct *sig = current->signal;
	bool children, timers = false;
	unsigned long flags;

	read_lock(&tasklist_lock);
	children = !list_empty(&current->children) || !list_empty(&current->ptraced);
	read_unlock(&tasklist_lock);
	if (children)
		return "restart: the caller has children: it must have none";
#ifdef CONFIG_POSIX_TIMERS
	if (lock_task_sighand(current, &flags)) {
		timers = !hlist_empty(&sig->posix_timers) || hrtimer_active(&sig->real_timer) ||
			 sig->it[CPUCLOCK_PROF].expires || sig->it[CPUCLOCK_VIRT].expires;
		unlock_task_sighand(current, &flags);
	}
#endif
	if (timers)
		return "restart: the caller has a timer armed (alarm, setitimer or timer_create)";
	return cr_arch_restarter_busy();
}

/**
 * cr_reset_restarter() - drop what the caller had, as execve() does
 *
 * Past the point of no return, once the caller has its new address
 * space: its io_uring requests cancelled, syscall user dispatch off,
 * thread state of the CPU (TLS, debug registers, FPU and its
 * permissions, PKRU, CPUID faulting, SSBD) back to a new program's, and
 * the signals pending for the caller dropped, a fatal one excepted.
 */
void cr_reset_restarter(void)
{
	io_uring_task_cancel();
	clear_syscall_work_syscall_user_dispatch(current);
	arch_setup_new_exec();
	flush_thread();
	cr_drop_signals();
}

/**
 * cr_drop_signals() - drop the signals pending for current and its process
 *
 * A fatal signal stays: the task dies of it.
 */
void cr_drop_signals(void)
{
	unsigned long flags;

	if (!lock_task_sighand(current, &flags))
		return;
	if (!__fatal_signal_pending(current)) {
		flush_sigqueue(&current->pending);
		flush_sigqueue(&current->signal->shared_pending);
	}
	recalc_sigpending();
	unlock_task_sighand(current, &flags);
}

/* -- SIGHAND -------------------------------------------------------------- */

/**
 * cr_write_sighand() - write the signal dispositions of @t
 * @ctx: checkpoint context
 * @t: the first task (in TREE order) that uses them, frozen
 *
 * Return: 0 or -ENOMEM.
 */
int cr_write_sighand(struct cr_ctx *ctx, struct task_struct *t)
{
	size_t len = sizeof(struct cr_hdr_sighand) + _NSIG * sizeof(struct cr_sigaction);
	struct sighand_struct *sighand;
	struct cr_hdr_sighand *h;
	struct cr_sigaction *a;
	unsigned long flags;
	int i;

	h = cr_rec_get(ctx, CR_HDR_SIGHAND, len, 0, 0);
	if (!h)
		return -ENOMEM;
	h->nr = _NSIG;
	a = (struct cr_sigaction *)(h + 1);
	sighand = lock_task_sighand(t, &flags);
	if (!sighand)
		return cr_err(ctx, -ESRCH, "pid %d is exiting", task_pid_vnr(t));
	for (i = 0; i < _NSIG; i++) {
		const struct sigaction *sa = &sighand->action[i].sa;

		a[i].handler = (unsigned long)sa->sa_handler;
		a[i].flags = sa->sa_flags;
#ifdef __ARCH_HAS_SA_RESTORER
		a[i].restorer = (unsigned long)sa->sa_restorer;
#endif
		a[i].mask = sa->sa_mask.sig[0];
	}
	unlock_task_sighand(t, &flags);
	cr_hbuf_put(ctx, len);
	return 0;
}

/**
 * cr_read_sighand() - read and check the signal dispositions
 * @ctx: restart context
 * @rt: what is collected for the task
 *
 * Return: 0 or -EBADMSG.
 */
int cr_read_sighand(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	const struct cr_hdr_sighand *h;
	const struct cr_sigaction *a;
	int i;

	h = cr_read_rec(ctx, CR_HDR_SIGHAND, sizeof(*h));
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->nr != _NSIG || h->h.len < sizeof(*h) + h->nr * sizeof(*a))
		return cr_rec_err(ctx, -EBADMSG, "%u signals in %u bytes, expected %d",
				  h->nr, h->h.len, _NSIG);
	a = (const struct cr_sigaction *)(h + 1);
	for (i = 0; i < _NSIG; i++) {
		int sig = i + 1;

		if (a[i].flags & ~(u64)UAPI_SA_FLAGS)
			return cr_rec_err(ctx, -EBADMSG, "signal %d: bad flags %#llx",
					  sig, a[i].flags);
		if ((sig == SIGKILL || sig == SIGSTOP) && a[i].handler)
			return cr_rec_err(ctx, -EBADMSG, "signal %d has a handler", sig);
		if (a[i].handler >= TASK_SIZE_MAX || a[i].restorer >= TASK_SIZE_MAX)
			return cr_rec_err(ctx, -EBADMSG, "signal %d: handler outside user space",
					  sig);
	}
	rt->sighand = h;
	return 0;
}

/**
 * cr_restore_sighand() - install the signal dispositions of the image
 * @ctx: restart context
 * @rt: what was collected
 *
 * Return: 0 or -errno.
 */
int cr_restore_sighand(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	const struct cr_sigaction *a = (const struct cr_sigaction *)(rt->sighand + 1);
	int i, ret;

	for (i = 0; i < _NSIG; i++) {
		struct k_sigaction ka = {};
		int sig = i + 1;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		ka.sa.sa_handler = (__sighandler_t)(unsigned long)a[i].handler;
		ka.sa.sa_flags = a[i].flags;
#ifdef __ARCH_HAS_SA_RESTORER
		ka.sa.sa_restorer = (__sigrestore_t)(unsigned long)a[i].restorer;
#endif
		ka.sa.sa_mask.sig[0] = a[i].mask;
		ret = do_sigaction(sig, &ka, NULL);
		if (ret)
			return cr_err(ctx, ret, "signal %d: cannot restore its action", sig);
	}
	return 0;
}

/* -- SIGPENDING: signals queued, not delivered yet -------------------------- */

/*
 * The signals of @p in queue order, into @si (room for @max; NULL: count
 * only); a signal whose bit is set without a queue entry (its entry
 * could not be allocated) is what dequeueing it would give: SI_USER from
 * nobody.  Under the target's siglock.  Return: the count, or -1 for a
 * timer's preallocated entry.
 */
static int cr_collect_sigpending(struct sigpending *p, struct cr_siginfo *si, int max)
{
	struct sigqueue *q;
	sigset_t queued;
	int n = 0, sig;

	sigemptyset(&queued);
	list_for_each_entry(q, &p->list, list) {
		if (q->flags & SIGQUEUE_PREALLOC)
			return -1;
		if (si && n < max)
			copy_siginfo_to_external((siginfo_t *)si[n].info, &q->info);
		sigaddset(&queued, q->info.si_signo);
		n++;
	}
	for (sig = 1; sig <= _NSIG; sig++) {
		if (!sigismember(&p->signal, sig) || sigismember(&queued, sig))
			continue;
		if (si && n < max) {
			siginfo_t *info = (siginfo_t *)si[n].info;

			memset(info, 0, sizeof(*info));
			info->si_signo = sig;
			info->si_code = SI_USER;
		}
		n++;
	}
	return n;
}

/**
 * cr_sigpending_count() - signals pending for @t and its process
 * @t: the task, frozen
 *
 * Return: how many, or -1 if it cannot tell (exiting, timer signals).
 */
int cr_sigpending_count(struct task_struct *t)
{
	unsigned long flags;
	int a, b;

	if (!lock_task_sighand(t, &flags))
		return -1;
	a = cr_collect_sigpending(&t->pending, NULL, 0);
	b = cr_collect_sigpending(&t->signal->shared_pending, NULL, 0);
	unlock_task_sighand(t, &flags);
	return a < 0 || b < 0 ? -1 : a + b;
}

static int cr_write_sigpending_one(struct cr_ctx *ctx, struct task_struct *t, bool shared)
{
	struct cr_hdr_sigpending *h;
	struct sigpending *p;
	bool stop, kill;
	unsigned long flags;
	size_t len;
	int n, got;

	if (!lock_task_sighand(t, &flags))
		return cr_err(ctx, -ESRCH, "pid %d is exiting", task_pid_vnr(t));
	p = shared ? &t->signal->shared_pending : &t->pending;
	n = cr_collect_sigpending(p, NULL, 0);
	stop = sigismember(&p->signal, SIGSTOP);
	kill = sigismember(&p->signal, SIGKILL);
	unlock_task_sighand(t, &flags);
	/*
	 * Neither can be blocked, so neither stays pending for long: a
	 * frozen task (or current, inside checkpoint() of itself) acts on
	 * it once it runs.  An image with one would stop or kill whatever
	 * restarts it, which restart() refuses.
	 */
	if (kill)
		return cr_err(ctx, -ESRCH, "pid %d is being killed (SIGKILL pending)",
			      task_pid_vnr(t));
	if (stop)
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d: a SIGSTOP is pending: job control stops are not supported yet",
			      task_pid_vnr(t));
	if (n < 0)
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d: a timer's signal is pending: not supported yet",
			      task_pid_vnr(t));
	if (!n)
		return 0;
	len = sizeof(*h) + n * sizeof(struct cr_siginfo);
	if (len > CR_RECORD_MAX)
		return cr_err(ctx, -EOPNOTSUPP, "pid %d: %d signals pending", task_pid_vnr(t), n);
	h = cr_rec_get(ctx, CR_HDR_SIGPENDING, len, 0, 0);
	if (!h)
		return -ENOMEM;
	h->shared = shared;
	h->nr = n;
	if (!lock_task_sighand(t, &flags))
		return cr_err(ctx, -ESRCH, "pid %d is exiting", task_pid_vnr(t));
	got = cr_collect_sigpending(shared ? &t->signal->shared_pending : &t->pending,
				    (struct cr_siginfo *)(h + 1), n);
	unlock_task_sighand(t, &flags);
	cr_hbuf_put(ctx, len);
	if (got != n)
		return cr_err(ctx, -EBUSY, "pid %d got a signal while it was checkpointed",
			      task_pid_vnr(t));
	return 0;
}

/**
 * cr_write_sigpending() - write the signals pending for @t
 * @ctx: checkpoint context
 * @t: the task, frozen
 *
 * Its own queue, then, for a thread group leader, its process's.
 *
 * Return: 0, -EOPNOTSUPP (a timer's signal, a SIGSTOP), -EBUSY, -ESRCH
 * (exiting, or SIGKILL pending) or -ENOMEM.
 */
int cr_write_sigpending(struct cr_ctx *ctx, struct task_struct *t)
{
	int ret = cr_write_sigpending_one(ctx, t, false);

	if (!ret && thread_group_leader(t))
		ret = cr_write_sigpending_one(ctx, t, true);
	return ret;
}

/**
 * cr_read_sigpending() - read the optional SIGPENDING records of a task
 * @ctx: restart context
 * @rt: what is collected for the task
 * @leader: it is a thread group leader (may have its process's queue)
 *
 * Any signal a process could queue for itself (rt_tgsigqueueinfo() to
 * its own pid takes any code) is accepted, SIGKILL and SIGSTOP excepted.
 *
 * Return: 0 or -EBADMSG.
 */
int cr_read_sigpending(struct cr_ctx *ctx, struct cr_rst_task *rt, bool leader)
{
	const struct cr_hdr_sigpending *h;
	const struct cr_rec *r;
	u32 i, k;

	for (;;) {
		r = cr_peek_rec(ctx);
		if (!r || r->h->type != CR_HDR_SIGPENDING)
			return 0;
		h = cr_read_rec(ctx, CR_HDR_SIGPENDING, sizeof(*h));
		if (IS_ERR(h))
			return PTR_ERR(h);
		if (h->shared > 1 || (h->shared && !leader) || rt->sigpending[h->shared] ||
		    (!h->shared && rt->sigpending[1]))
			return cr_rec_err(ctx, -EBADMSG, "unexpected signal queue (shared %u)",
					  h->shared);
		if (!h->nr || h->h.len < sizeof(*h) + (u64)h->nr * sizeof(struct cr_siginfo))
			return cr_rec_err(ctx, -EBADMSG, "%u signals in %u bytes", h->nr, h->h.len);
		for (i = 0; i < h->nr; i++) {
			const struct cr_siginfo *si = (const struct cr_siginfo *)(h + 1) + i;
			const siginfo_t *info = (const siginfo_t *)si->info;
			int sig = info->si_signo;

			if (sig < 1 || sig > _NSIG || sig == SIGKILL || sig == SIGSTOP)
				return cr_rec_err(ctx, -EBADMSG, "signal %u: bad number %d",
						  i, sig);
			/* What kernel_siginfo does not hold must be zero. */
			for (k = sizeof(kernel_siginfo_t); k < sizeof(si->info); k++)
				if (si->info[k])
					return cr_rec_err(ctx, -EBADMSG,
							  "signal %u: bytes beyond the siginfo", i);
		}
		rt->sigpending[h->shared] = h;
	}
}

/**
 * cr_restore_sigpending() - queue the task's pending signals, only them
 * @rt: what was collected
 * @leader: current is a thread group leader: its process's queue too
 *
 * What current has pending (signals from the exits of restored zombies)
 * is dropped first; a fatal signal stays.  The blocked mask and the
 * handlers are in place already, so that each signal meets the same
 * fate as before the checkpoint.
 */
void cr_restore_sigpending(const struct cr_rst_task *rt, bool leader)
{
	unsigned long flags;
	int s;
	u32 i;

	if (!lock_task_sighand(current, &flags))
		return;
	if (!__fatal_signal_pending(current)) {
		flush_sigqueue(&current->pending);
		if (leader)
			flush_sigqueue(&current->signal->shared_pending);
		for (s = 0; s < 2; s++) {
			const struct cr_hdr_sigpending *h = rt->sigpending[s];
			const struct cr_siginfo *si = h ? (const struct cr_siginfo *)(h + 1) : NULL;

			for (i = 0; h && i < h->nr; i++) {
				kernel_siginfo_t info;

				memcpy(&info, si[i].info, sizeof(info));
				send_signal_locked(info.si_signo, &info, current,
						   s ? PIDTYPE_TGID : PIDTYPE_PID);
			}
		}
	}
	recalc_sigpending();
	unlock_task_sighand(current, &flags);
}

/* -- RESTART_BLOCK: a system call interrupted by the checkpoint ---------- */

/*
 * A task stopped in nanosleep, or in restart_syscall() carrying one on
 * (after a stop, a thaw or an earlier restart): its restart block says.
 */
static bool cr_nanosleep_nr(long nr)
{
	return nr == __NR_nanosleep || nr == __NR_clock_nanosleep ||
	       nr == __NR_restart_syscall;
}

static bool cr_hrtimer_clock(clockid_t clockid, ktime_t *now)
{
	switch (clockid) {
	case CLOCK_REALTIME:
		*now = ktime_get_real();
		return true;
	case CLOCK_MONOTONIC:
		*now = ktime_get();
		return true;
	case CLOCK_BOOTTIME:
		*now = ktime_get_boottime();
		return true;
	case CLOCK_TAI:
		*now = ktime_get_clocktai();
		return true;
	}
	return false;
}

/**
 * cr_write_restart_block() - save a system call to carry on at restart
 * @ctx: checkpoint context
 * @t: the task, frozen
 *
 * A task frozen inside a system call that must be restarted with its own
 * state (-ERESTART_RESTARTBLOCK) gets this record.  A relative or
 * absolute nanosleep is saved as the time that remained, so that after
 * restart it sleeps only the rest.  Calls restarted from scratch
 * (-ERESTARTSYS and the like) need no record: the CPU record already
 * points back at the system call instruction.
 *
 * Return: 0, or -EOPNOTSUPP for a call that cannot be carried on yet.
 */
int cr_write_restart_block(struct cr_ctx *ctx, struct task_struct *t)
{
	struct restart_block *rb = &t->restart_block;
	struct cr_hdr_restart_block *h;
	long nr, ret;
	ktime_t now;

	cr_syscall_state(t, &nr, &ret);
	if (nr < 0 || ret != -ERESTART_RESTARTBLOCK)
		return 0;
	if (!cr_nanosleep_nr(nr) || rb->fn != hrtimer_nanosleep_restart ||
	    rb->nanosleep.type == TT_COMPAT || !cr_hrtimer_clock(rb->nanosleep.clockid, &now))
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d: interrupted system call %ld cannot be carried on yet",
			      task_pid_vnr(t), nr);
	h = cr_rec_get(ctx, CR_HDR_RESTART_BLOCK, sizeof(*h), 0, 0);
	if (!h)
		return -ENOMEM;
	h->kind = CR_RESTART_NANOSLEEP;
	h->clockid = rb->nanosleep.clockid;
	h->remaining_ns = max_t(s64, 0, (s64)rb->nanosleep.expires - ktime_to_ns(now));
	if (rb->nanosleep.type == TT_NATIVE)
		h->rmtp = (unsigned long)rb->nanosleep.rmtp;
	cr_hbuf_put(ctx, sizeof(*h));
	return 0;
}

/**
 * cr_read_restart_block() - read the optional RESTART_BLOCK record
 * @ctx: restart context
 * @rt: what is collected for the task; its CPU record is read already
 *
 * Return: 0 or -EBADMSG.
 */
int cr_read_restart_block(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	const struct cr_rec *r = cr_peek_rec(ctx);
	const struct cr_hdr_restart_block *h;
	bool in_call = rt->cpu->orig_ax != (u64)-1;
	ktime_t now;

	if (!r || r->h->type != CR_HDR_RESTART_BLOCK) {
		if (in_call)
			return cr_rec_err(ctx, -EBADMSG,
					  "the task is inside system call %lld with nothing to carry it on",
					  rt->cpu->orig_ax);
		return 0;
	}
	h = cr_read_rec(ctx, CR_HDR_RESTART_BLOCK, sizeof(*h));
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->kind != CR_RESTART_NANOSLEEP)
		return cr_rec_err(ctx, -EBADMSG, "unknown kind %u", h->kind);
	if (!cr_hrtimer_clock(h->clockid, &now))
		return cr_rec_err(ctx, -EBADMSG, "bad clock %d", h->clockid);
	if (h->rmtp >= TASK_SIZE_MAX)
		return cr_rec_err(ctx, -EBADMSG, "rmtp outside user space");
	if (h->remaining_ns < 0)
		return cr_rec_err(ctx, -EBADMSG, "negative time left to sleep %lld",
				  h->remaining_ns);
	if (!in_call || !cr_nanosleep_nr(rt->cpu->orig_ax) ||
	    rt->cpu->ax != (u64)-ERESTART_RESTARTBLOCK)
		return cr_rec_err(ctx, -EBADMSG,
				  "the CPU record is not inside nanosleep (orig_ax %lld, ax %lld)",
				  rt->cpu->orig_ax, rt->cpu->ax);
	rt->rb = h;
	return 0;
}

/**
 * cr_resume() - go on as the restored task, last thing in restart()
 * @res: what cr_do_restart() left
 *
 * A task that was sleeping in nanosleep does not sleep here, inside
 * restart(): it goes back to user mode as a system call interrupted by a
 * signal without handler does, and comes back at once through
 * restart_syscall() into the sleep that remained, now an ordinary
 * interruptible sleep of the restored task.  The restart block and the
 * return value -ERESTART_RESTARTBLOCK set that up; TIF_NOTIFY_SIGNAL
 * makes the way out to user mode look at it.  The registers must hold
 * the call's number in orig_ax (cr_restore_cpu()).
 *
 * Return: what the restored task finds in rax: its saved value, or
 * -ERESTART_RESTARTBLOCK for a sleep carried on.
 */
long cr_resume(const struct cr_resume *res)
{
	struct restart_block *rb = &current->restart_block;
	ktime_t now;

	if (res->kind != CR_RESTART_NANOSLEEP)
		return res->ax;
	if (!cr_hrtimer_clock(res->clockid, &now))
		return -EINTR;	/* checked at read time: cannot happen */
	rb->nanosleep.clockid = res->clockid;
	rb->nanosleep.expires = ktime_add_safe(now, ns_to_ktime(res->remaining_ns));
	rb->nanosleep.type = res->rmtp ? TT_NATIVE : TT_NONE;
	rb->nanosleep.rmtp = u64_to_user_ptr(res->rmtp);
	set_notify_signal(current);
	return set_restart_fn(rb, hrtimer_nanosleep_restart);
}
