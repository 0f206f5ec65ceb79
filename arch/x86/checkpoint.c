// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86-64 part of checkpoint/restart: general registers, fs/gs bases, the
 * XSAVE area, and how a task stopped inside a system call is saved.
 */

#include <linux/checkpoint.h>
#include <linux/cpufeature.h>
#include <linux/errno.h>
#include <linux/mmu_context.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/xxhash.h>
#include <asm/fpu/api.h>
#include <asm/fpu/regset.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xstate.h>
#include <asm/fsgsbase.h>
#include <asm/pkru.h>
#include <asm/prctl.h>
#include <asm/proto.h>
#include <asm/ptrace.h>
#include <asm/segment.h>
#include <asm/vdso.h>

/* Flags a task may set in user mode; the others keep the caller's. */
#define CR_FLAGS_MASK	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			 X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_DF | \
			 X86_EFLAGS_OF | X86_EFLAGS_AC)

/* The legacy FXSAVE area, then the XSAVE header. */
#define CR_XSAVE_HDR		512
#define CR_XSAVE_MIN		(CR_XSAVE_HDR + 64)
#define CR_XSAVE_MXCSR		24
#define CR_FXSAVE_MXCSR_MASK	28

/* Where state component @nr is in the standard format, and its size. */
static void cr_xfeature_layout(unsigned int nr, u32 *offset, u32 *size)
{
	u32 eax, ebx, ecx, edx;

	cpuid_count(XSTATE_CPUID, nr, &eax, &ebx, &ecx, &edx);
	*size = eax;
	*offset = ebx;
}

/* The MXCSR bits this CPU accepts, as the kernel's FXSAVE probe finds them. */
static u32 cr_mxcsr_mask(void)
{
	static u32 mask;
	struct fxregs_state *fx;
	u32 m = READ_ONCE(mask);

	if (m)
		return m;
	fx = kzalloc(sizeof(*fx), GFP_KERNEL);	/* 512 bytes: 16-byte aligned */
	if (!fx)
		return 0x0000ffbf;	/* the architectural default, without DAZ */
	kernel_fpu_begin();
	asm volatile("fxsave %0" : "+m" (*fx));
	kernel_fpu_end();
	m = fx->mxcsr_mask ?: 0x0000ffbf;
	kfree(fx);
	WRITE_ONCE(mask, m);
	return m;
}

/**
 * cr_arch_head() - the arch fields of the image head
 * @h: the head being written
 */
void cr_arch_head(struct cr_hdr_head *h)
{
	h->arch = CR_ARCH_X86_64;
	h->xfeatures = fpu_user_cfg.max_features;
	h->xstate_size = fpu_user_cfg.max_size;
}

/**
 * cr_arch_check_head() - is the image for this architecture?
 * @ctx: restart context
 * @h: the image head
 *
 * Return: 0 or -ENOEXEC.
 */
int cr_arch_check_head(struct cr_ctx *ctx, const struct cr_hdr_head *h)
{
	if (h->arch != CR_ARCH_X86_64)
		return cr_err(ctx, -ENOEXEC,
			      "image is for architecture %u, this kernel is x86_64 (%u)",
			      h->arch, CR_ARCH_X86_64);
	return 0;
}

/**
 * cr_syscall_state() - the system call a stopped task is in
 * @t: the task, stopped
 * @nr: set to the call's number, or -1 if not in a call
 * @ret: set to its return value so far (-ERESTART... if interrupted)
 */
void cr_syscall_state(struct task_struct *t, long *nr, long *ret)
{
	struct pt_regs *regs = task_pt_regs(t);

	*nr = regs->orig_ax;
	*ret = regs->ax;
}

static bool cr_restart_from_scratch(long ret)
{
	return ret == -ERESTARTSYS || ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND;
}

/*
 * The user ds, es, fs and gs selectors of @t.  A task switched out has
 * them in its thread struct; current has them in the registers only (the
 * thread struct holds what it had at its last switch), as ptrace's
 * get_segment_reg() knows.
 */
static void cr_task_segments(struct task_struct *t, u16 seg[4])
{
	if (t == current) {
		savesegment(ds, seg[0]);
		savesegment(es, seg[1]);
		savesegment(fs, seg[2]);
		savesegment(gs, seg[3]);
		return;
	}
	seg[0] = t->thread.ds;
	seg[1] = t->thread.es;
	seg[2] = t->thread.fsindex;
	seg[3] = t->thread.gsindex;
}

/**
 * cr_write_cpu() - write the general registers of @t
 * @ctx: checkpoint context
 * @t: the task, frozen
 *
 * A task frozen in a system call that restarts from scratch is saved as
 * if a signal without handler had interrupted it: back at the syscall
 * instruction with the call number in rax.  A completed call keeps only
 * its result.  A call carried on with its own state (nanosleep) keeps
 * orig_ax and gets a RESTART_BLOCK record.  @t may be current, inside
 * checkpoint() of itself (pid 0).
 *
 * Return: 0, -EOPNOTSUPP (32-bit code, segment selectors) or -ENOMEM.
 */
int cr_write_cpu(struct cr_ctx *ctx, struct task_struct *t)
{
	struct pt_regs *regs = task_pt_regs(t);
	struct cr_hdr_cpu *h;
	long nr = regs->orig_ax, ret = regs->ax;
	struct mm_struct *mm;
	unsigned long lam;
	void *ldt = NULL;
	u16 seg[4];

	if (test_tsk_thread_flag(t, TIF_ADDR32) || regs->cs != __USER_CS ||
	    regs->ss != __USER_DS)
		return cr_err(ctx, -EOPNOTSUPP, "pid %d: 32-bit code is not supported",
			      task_pid_vnr(t));
	mm = get_task_mm(t);
	if (!mm)
		return cr_err(ctx, -ESRCH, "pid %d is exiting", task_pid_vnr(t));
	lam = mm_lam_cr3_mask(mm);
#ifdef CONFIG_MODIFY_LDT_SYSCALL
	ldt = READ_ONCE(mm->context.ldt);
#endif
	mmput(mm);
	if (ldt)
		return cr_err(ctx, -EOPNOTSUPP, "pid %d: an LDT is not supported",
			      task_pid_vnr(t));
	cr_task_segments(t, seg);
	if (seg[2] || seg[3])
		return cr_err(ctx, -EOPNOTSUPP, "pid %d: fs/gs segment selectors are not supported",
			      task_pid_vnr(t));
	/* What restart could only rebuild as something else: refuse it. */
#ifdef CONFIG_X86_USER_SHADOW_STACK
	if (t->thread.features & ARCH_SHSTK_SHSTK)
		return cr_err(ctx, -EOPNOTSUPP, "pid %d: shadow stacks are not supported",
			      task_pid_vnr(t));
#endif
	if (lam)
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d: linear address masking (LAM) is not supported",
			      task_pid_vnr(t));
	if (t->group_leader->thread.fpu.perm.__state_perm & XFEATURE_MASK_USER_DYNAMIC)
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d: dynamically enabled XSAVE state (AMX) is not supported",
			      task_pid_vnr(t));
	h = cr_rec_get(ctx, CR_HDR_CPU, sizeof(*h), 0, 0);
	if (!h)
		return -ENOMEM;
	h->r15 = regs->r15;
	h->r14 = regs->r14;
	h->r13 = regs->r13;
	h->r12 = regs->r12;
	h->bp = regs->bp;
	h->bx = regs->bx;
	h->r11 = regs->r11;
	h->r10 = regs->r10;
	h->r9 = regs->r9;
	h->r8 = regs->r8;
	h->ax = regs->ax;
	h->cx = regs->cx;
	h->dx = regs->dx;
	h->si = regs->si;
	h->di = regs->di;
	h->orig_ax = regs->orig_ax;
	h->ip = regs->ip;
	h->cs = regs->cs;
	h->flags = regs->flags;
	h->sp = regs->sp;
	h->ss = regs->ss;
	h->fs_base = x86_fsbase_read_task(t);
	h->gs_base = x86_gsbase_read_task(t);
	h->ds = seg[0];
	h->es = seg[1];
	h->fs = seg[2];
	h->gs = seg[3];
	if (nr >= 0 && cr_restart_from_scratch(ret)) {
		h->ax = nr;
		h->ip -= 2;	/* syscall and int $0x80 are 2 bytes long */
		h->orig_ax = -1;
	} else if (nr >= 0 && ret != -ERESTART_RESTARTBLOCK) {
		h->orig_ax = -1;
	}
	/* A process that checkpoints itself, restored, sees checkpoint() return 0. */
	if (t == current)
		h->ax = 0;
	cr_hbuf_put(ctx, sizeof(*h));
	return 0;
}

/**
 * cr_read_cpu() - read and check the general registers
 * @ctx: restart context
 * @rt: what is collected for the task
 *
 * Return: 0, -EBADMSG or -EOPNOTSUPP.
 */
int cr_read_cpu(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	const struct cr_hdr_cpu *h;

	h = cr_read_rec(ctx, CR_HDR_CPU, sizeof(*h));
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->cs != __USER_CS || h->ss != __USER_DS)
		return cr_rec_err(ctx, -EOPNOTSUPP, "cs %#llx, ss %#llx: only 64-bit user code",
				  h->cs, h->ss);
	if (h->ip >= TASK_SIZE_MAX)
		return cr_rec_err(ctx, -EBADMSG, "ip %#llx outside user space", h->ip);
	if (h->fs_base >= TASK_SIZE_MAX || h->gs_base >= TASK_SIZE_MAX)
		return cr_rec_err(ctx, -EBADMSG, "fs/gs base outside user space");
	if (h->fs || h->gs || (h->ds && h->ds != __USER_DS) || (h->es && h->es != __USER_DS))
		return cr_rec_err(ctx, -EOPNOTSUPP, "segment selectors are not supported");
	rt->cpu = h;
	return 0;
}

/**
 * cr_restore_cpu() - load the saved registers into the caller's frame
 * @ctx: restart context
 * @rt: what was collected
 *
 * restart() returns through this frame to the restored code; its return
 * value becomes rax (see cr_resume()).
 *
 * Return: 0 or -errno.
 */
int cr_restore_cpu(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	const struct cr_hdr_cpu *h = rt->cpu;
	struct pt_regs *regs = task_pt_regs(current);
	long ret;

	regs->r15 = h->r15;
	regs->r14 = h->r14;
	regs->r13 = h->r13;
	regs->r12 = h->r12;
	regs->bp = h->bp;
	regs->bx = h->bx;
	regs->r11 = h->r11;
	regs->r10 = h->r10;
	regs->r9 = h->r9;
	regs->r8 = h->r8;
	regs->ax = h->ax;
	regs->cx = h->cx;
	regs->dx = h->dx;
	regs->si = h->si;
	regs->di = h->di;
	/*
	 * Only a call carried on by cr_resume() keeps its number: the way
	 * out to user mode restarts it (see cr_resume()).
	 */
	regs->orig_ax = rt->rb ? h->orig_ax : -1;
	regs->ip = h->ip;
	regs->cs = __USER_CS;
	regs->flags = X86_EFLAGS_IF | X86_EFLAGS_FIXED | (h->flags & CR_FLAGS_MASK);
	regs->sp = h->sp;
	regs->ss = __USER_DS;
	ret = do_arch_prctl_64(current, ARCH_SET_FS, h->fs_base);
	if (!ret)
		ret = do_arch_prctl_64(current, ARCH_SET_GS, h->gs_base);
	if (ret)
		return cr_err(ctx, ret, "cannot restore the fs/gs base");
	return 0;
}

/**
 * cr_write_fpu() - write the XSAVE area of @t, in the ptrace format
 * @ctx: checkpoint context
 * @t: the task, frozen
 *
 * Return: 0, -EOPNOTSUPP (no XSAVE) or -ENOMEM.
 */
int cr_write_fpu(struct cr_ctx *ctx, struct task_struct *t)
{
	unsigned int size = fpu_user_cfg.max_size;
	struct cr_hdr_fpu *h;
	struct membuf to;
	size_t len = sizeof(*h) + size;
	int i, ret;

	if (!cpu_feature_enabled(X86_FEATURE_XSAVE))
		return cr_err(ctx, -EOPNOTSUPP, "CPUs without XSAVE are not supported");
	h = cr_rec_get(ctx, CR_HDR_FPU, len, 0, 0);
	if (!h)
		return -ENOMEM;
	to.p = h + 1;
	to.left = size;
	/*
	 * xstateregs_get() takes PKRU from the thread struct, which a task
	 * updates only when it is switched out: current, checkpointing
	 * itself, has its live value in the register.
	 */
	if (t == current && cpu_feature_enabled(X86_FEATURE_OSPKE))
		current->thread.pkru = read_pkru();
	ret = xstateregs_get(t, NULL, to);
	if (ret)
		return cr_err(ctx, ret, "pid %d: cannot read the XSAVE area", task_pid_vnr(t));
	h->size = size;
	memcpy(&h->xfeatures, (u8 *)(h + 1) + CR_XSAVE_HDR, sizeof(h->xfeatures));
	for (i = FIRST_EXTENDED_XFEATURE; i < CR_XFEATURES_MAX; i++)
		if (fpu_user_cfg.max_features & BIT_ULL(i))
			cr_xfeature_layout(i, &h->offset[i], &h->comp_size[i]);
	cr_hbuf_put(ctx, len);
	return 0;
}

/**
 * cr_read_fpu() - read and check the XSAVE area, in this CPU's layout
 * @ctx: restart context
 * @rt: what is collected for the task
 *
 * The restored task has the state components every task has
 * (fpu_user_cfg.default_features, as after exec): an area holding
 * others (AMX, or what this CPU lacks) is refused.  Each component is
 * moved from where the checkpointing CPU had it to where this CPU has
 * it; a component of another size is refused.  MXCSR is checked
 * against this CPU's mask.  All of this before the point of no return.
 *
 * Return: 0, -EBADMSG, -EOPNOTSUPP (components this CPU lacks, or of
 * another size) or -ENOMEM.
 */
int cr_read_fpu(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	unsigned int max = fpu_user_cfg.max_size;
	u64 allowed = fpu_user_cfg.default_features;
	const struct cr_hdr_fpu *h;
	const u8 *area;
	u64 hdr[8];
	u32 mxcsr;
	u8 *buf;
	int i;

	h = cr_read_rec(ctx, CR_HDR_FPU, sizeof(*h));
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (!cpu_feature_enabled(X86_FEATURE_XSAVE))
		return cr_rec_err(ctx, -EOPNOTSUPP, "this CPU has no XSAVE");
	if (h->size < CR_XSAVE_MIN || h->h.len < sizeof(*h) + h->size)
		return cr_rec_err(ctx, -EBADMSG, "XSAVE area of %u bytes in a %u-byte record",
				  h->size, h->h.len);
	area = (const u8 *)(h + 1);
	memcpy(hdr, area + CR_XSAVE_HDR, sizeof(hdr));
	memcpy(&mxcsr, area + CR_XSAVE_MXCSR, sizeof(mxcsr));
	if (hdr[0] != h->xfeatures)
		return cr_rec_err(ctx, -EBADMSG, "xfeatures %#llx, the area says %#llx",
				  h->xfeatures, hdr[0]);
	if (hdr[0] & ~allowed)
		return cr_rec_err(ctx, -EOPNOTSUPP,
				  "XSAVE features %#llx are not available to the restored task here (it may use %#llx)",
				  hdr[0] & ~allowed, allowed);
	for (i = 1; i < 8; i++)
		if (hdr[i])
			return cr_rec_err(ctx, -EBADMSG, "XSAVE header word %d is not zero", i);
	if (mxcsr & ~cr_mxcsr_mask())
		return cr_rec_err(ctx, -EBADMSG,
				  "MXCSR %#x has bits this CPU does not take (mask %#x)",
				  mxcsr, cr_mxcsr_mask());

	buf = cr_arena_alloc(&ctx->arena, max);
	if (!buf)
		return -ENOMEM;
	/* The legacy area and the header have one layout everywhere. */
	memcpy(buf, area, CR_XSAVE_MIN);
	for (i = FIRST_EXTENDED_XFEATURE; i < CR_XFEATURES_MAX; i++) {
		u32 off, size;

		if (!(hdr[0] & BIT_ULL(i)))
			continue;
		cr_xfeature_layout(i, &off, &size);
		if (h->comp_size[i] != size || !h->offset[i] ||
		    (u64)h->offset[i] + size > h->size || (u64)off + size > max)
			return cr_rec_err(ctx, -EOPNOTSUPP,
					  "XSAVE component %d: %u bytes at %u in the image, %u bytes here",
					  i, h->comp_size[i], h->offset[i], size);
		memcpy(buf + off, area + h->offset[i], size);
	}
	/* The mask is the CPU's, not the image's. */
	*(u32 *)(buf + CR_FXSAVE_MXCSR_MASK) = cr_mxcsr_mask();
	rt->fpu = h;
	rt->xstate = buf;
	return 0;
}

/**
 * cr_restore_fpu() - load the XSAVE area into the caller
 * @ctx: restart context
 * @rt: what was collected
 *
 * Return: 0 or -errno.
 */
int cr_restore_fpu(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	int ret = xstate_set_current(rt->xstate);

	if (ret)
		return cr_err(ctx, ret, "cannot load the XSAVE area");
	return 0;
}

/**
 * cr_arch_restarter_busy() - what keeps the caller from becoming a restored task
 *
 * exec-like restart drops the caller's address space and FPU state; a
 * shadow stack it has enabled would stay enabled without its stack.
 *
 * Return: NULL, or the reason (restart() fails with -EINVAL).
 */
const char *cr_arch_restarter_busy(void)
{
#ifdef CONFIG_X86_USER_SHADOW_STACK
	if (current->thread.features & ARCH_SHSTK_SHSTK)
		return "restart: the caller has a shadow stack enabled";
#endif
	return NULL;
}

/**
 * cr_arch_vdso_hash() - identity of this kernel's 64-bit vdso
 *
 * A task may keep pointers into its vdso: it can only be restarted on a
 * kernel with the very same one.
 *
 * Return: xxh64 of the vdso image.
 */
u64 cr_arch_vdso_hash(void)
{
	return xxh64(vdso_image_64.data, vdso_image_64.size, 0);
}

/**
 * cr_arch_check_vdso() - is the saved vdso layout this kernel's?
 * @ctx: restart context
 * @vvar_start: start of the [vvar] area
 * @vvar_end: its end
 * @vdso_start: start of the [vdso] area
 * @vdso_end: its end
 *
 * Return: 0 or -EBADMSG.
 */
int cr_arch_check_vdso(struct cr_ctx *ctx, u64 vvar_start, u64 vvar_end,
		       u64 vdso_start, u64 vdso_end)
{
	const struct vdso_image *image = &vdso_image_64;

	if (vdso_end - vdso_start != image->size ||
	    vvar_end - vvar_start != (u64)-image->sym_vvar_start ||
	    vvar_end != vdso_start)
		return cr_err(ctx, -EBADMSG,
			      "vdso at %#llx-%#llx with vvar at %#llx-%#llx does not match this kernel's vdso",
			      vdso_start, vdso_end, vvar_start, vvar_end);
	return 0;
}

/**
 * cr_arch_map_vdso() - map the vdso where the task had it
 * @ctx: restart context
 * @vvar_start: start of the [vvar] area; [vdso] follows it
 *
 * Return: 0 or -errno.
 */
int cr_arch_map_vdso(struct cr_ctx *ctx, u64 vvar_start)
{
	const struct vdso_image *image = &vdso_image_64;
	int ret;

	ret = map_vdso_once(image, vvar_start);
	if (ret)
		return cr_err(ctx, ret, "cannot map the vdso at %#llx", vvar_start);
	if ((unsigned long)current->mm->context.vdso != vvar_start - image->sym_vvar_start)
		return cr_err(ctx, -EEXIST, "the vdso did not land at %#llx", vvar_start);
	return 0;
}
