// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checkpoint/restart of an address space: the mm's own fields, every
 * memory area, and the contents of the pages the task touched.
 *
 * Checkpoint copies the description of the areas under mmap_lock, then
 * walks each area's page tables: pages the task never touched are not
 * saved (and stay untouched after restart), present anonymous pages are
 * referenced, not copied (the page array beside the arena), swapped ones
 * are brought in.  In a private file mapping only the pages the task
 * wrote (anonymous copies) are saved; the rest comes from the file.
 * Transparent huge pages are saved as they are, never split.
 *
 * A deferred checkpoint holds the pages copy-on-write, as fork() shares
 * private memory: each present anonymous page (or huge page) is
 * write-protected and marked possibly shared (its PageAnonExclusive bit
 * cleared) under its page table lock, with mmap_lock held for writing
 * and mm->write_protect_seq bumped, so that GUP-fast backs off.  A write
 * by the thawed container then faults and copies the page, since our
 * reference makes it impossible to reuse; the checkpoint keeps the old
 * one.  A page that may be pinned for DMA, and a swapped-out page, are
 * copied at capture time instead.
 *
 * Restart checks every area first; after the point of no return it gives
 * the caller a new, empty address space, as execve() does, and builds it:
 * saved pages are written in through a writable mapping, and an area
 * that is not writable gets its protection after, through mprotect().
 */

#include <linux/binfmts.h>
#include <linux/checkpoint.h>
#include <linux/mmu_notifier.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/oom.h>
#include <linux/pagewalk.h>
#include <linux/pkeys.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/userfaultfd_k.h>
#include <linux/hugetlb.h>
#include <linux/ksm.h>
#include <linux/uaccess.h>

/* What checkpoint keeps of an area once mmap_lock is dropped. */
struct cr_vma_info {
	unsigned long start, end, pgoff;
	u32 kind, flags;
	struct file *file;	/* a reference, CR_VMA_FILE only */
};

static const struct {
	vm_flags_t vm;
	u32 cr;
} cr_vma_flag_map[] = {
	{ VM_READ, CR_VMA_READ },
	{ VM_WRITE, CR_VMA_WRITE },
	{ VM_EXEC, CR_VMA_EXEC },
	{ VM_GROWSDOWN, CR_VMA_GROWSDOWN },
	{ VM_DONTCOPY, CR_VMA_DONTCOPY },
	{ VM_DONTDUMP, CR_VMA_DONTDUMP },
	{ VM_WIPEONFORK, CR_VMA_WIPEONFORK },
	{ VM_HUGEPAGE, CR_VMA_HUGEPAGE },
	{ VM_NOHUGEPAGE, CR_VMA_NOHUGEPAGE },
};

/* Kind and flags of @vma, or -EOPNOTSUPP naming what is not supported. */
static int cr_vma_describe(struct cr_ctx *ctx, struct vm_area_struct *vma,
			   struct cr_vma_info *vi)
{
	const char *name = NULL, *why = NULL;
	vm_flags_t f = vma->vm_flags;
	int i;

	if (vma->vm_ops && vma->vm_ops->name)
		name = vma->vm_ops->name(vma);
	vi->start = vma->vm_start;
	vi->end = vma->vm_end;
	vi->pgoff = vma->vm_pgoff;
	vi->flags = 0;
	vi->file = NULL;
	for (i = 0; i < ARRAY_SIZE(cr_vma_flag_map); i++)
		if (f & cr_vma_flag_map[i].vm)
			vi->flags |= cr_vma_flag_map[i].cr;

	if (name && !strcmp(name, "[vdso]")) {
		vi->kind = CR_VMA_VDSO;
		return 0;
	}
	if (name && !strcmp(name, "[vvar]")) {
		vi->kind = CR_VMA_VVAR;
		return 0;
	}
	if (f & VM_MAYSHARE)
		why = "shared mappings";
	else if (f & (VM_IO | VM_PFNMAP | VM_MIXEDMAP) || is_vm_hugetlb_page(vma))
		why = "device and hugetlb mappings";
	else if (f & VM_LOCKED)
		why = "locked (mlock) memory";
	else if (f & VM_SEALED)
		why = "sealed (mseal) memory";
	else if (userfaultfd_armed(vma))
		why = "userfaultfd-armed memory";
	else if (vma_pkey(vma))
		why = "memory protection keys";
	else if (name)
		why = "special mappings";
	else if (vma_is_anonymous(vma))
		vi->kind = CR_VMA_ANON;
	else if (vma->vm_file && S_ISREG(file_inode(vma->vm_file)->i_mode))
		vi->kind = CR_VMA_FILE;
	else
		why = "mappings of this kind";
	if (why) {
		if (vma->vm_file)
			return cr_err(ctx, -EOPNOTSUPP,
				      "vma %#lx-%#lx (%pD): %s are not supported yet",
				      vma->vm_start, vma->vm_end, vma->vm_file, why);
		return cr_err(ctx, -EOPNOTSUPP, "vma %#lx-%#lx (%s): %s are not supported yet",
			      vma->vm_start, vma->vm_end, name ?: "anonymous", why);
	}
	if (vi->kind == CR_VMA_FILE)
		vi->file = get_file(vma->vm_file);
	return 0;
}

/* Collect the areas of @mm; *@vis is an array of *@nr entries. */
static int cr_collect_vmas(struct cr_ctx *ctx, struct mm_struct *mm,
			   struct cr_vma_info **vis, unsigned int *nr)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;
	struct cr_vma_info *vi;
	unsigned int n = 0;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vi = kvcalloc(mm->map_count, sizeof(*vi), CR_GFP);
	if (!vi) {
		mmap_read_unlock(mm);
		return -ENOMEM;
	}
	for_each_vma(vmi, vma) {
		if (WARN_ON_ONCE(n >= mm->map_count)) {
			ret = -EINVAL;
			break;
		}
		ret = cr_vma_describe(ctx, vma, &vi[n]);
		if (ret)
			break;
		n++;
	}
	mmap_read_unlock(mm);
	*vis = vi;
	*nr = n;
	return ret;
}

static void cr_free_vmas(struct cr_vma_info *vi, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (vi[i].file)
			fput(vi[i].file);
	kvfree(vi);
}

/* -- pages ----------------------------------------------------------------- */

struct cr_walk {
	u64 *addrs;
	struct page **pages;	/* NULL: not present, fetch with GUP */
	bool *copy;		/* deferred: copy this page at capture time */
	unsigned int nr;
	bool file;		/* private file mapping: anonymous pages only */
	bool cow;		/* deferred: hold the pages copy-on-write */
	unsigned long next;
};

/*
 * May @folio be written other than through its mappings: pinned for DMA,
 * or referenced by someone else (an I/O in flight took it with FOLL_GET)?
 * @ours: references we took.  A large folio mapped by PTEs is always
 * copied: its references are not told apart as simply.
 */
static bool cr_folio_busy(struct folio *folio, unsigned int ours, bool pmd)
{
	long expected = folio_mapcount(folio) + ours;

	if (folio_maybe_dma_pinned(folio))
		return true;
	if (folio_test_large(folio) && !pmd)
		return true;
	if (folio_test_swapcache(folio))
		expected += folio_nr_pages(folio);
	return folio_ref_count(folio) != expected;
}

/*
 * Deferred checkpoint: the present anonymous page @page, mapped by @pte
 * (locked), becomes copy-on-write for its mm.  False if it must be
 * copied now instead (a write through a pin or an I/O in flight would
 * not fault).
 */
static bool cr_cow_pte(struct mm_walk *walk, unsigned long addr, pte_t *pte,
		       struct page *page)
{
	if (cr_folio_busy(page_folio(page), 1, false))
		return false;
	if (pte_write(ptep_get(pte)))
		ptep_set_wrprotect(walk->mm, addr, pte);
	if (PageAnonExclusive(page))
		ClearPageAnonExclusive(page);
	return true;
}

static int cr_walk_pte(pte_t *pte, unsigned long addr, unsigned long next,
		       struct mm_walk *walk)
{
	struct cr_walk *w = walk->private;
	pte_t ptent = ptep_get(pte);
	struct page *page = NULL;

	if (pte_none(ptent))
		return 0;
	if (pte_present(ptent)) {
		page = vm_normal_page(walk->vma, addr, ptent);
		if (!page || (w->file && !PageAnon(page)))
			return 0;
		get_page(page);
	} else if (is_pte_marker(ptent)) {
		return 0;
	}
	w->addrs[w->nr] = addr;
	w->pages[w->nr] = page;
	if (w->cow)
		w->copy[w->nr] = !page || !PageAnon(page) || !cr_cow_pte(walk, addr, pte, page);
	w->nr++;
	if (w->nr == CR_PAGES_MAX) {
		w->next = next;
		return 1;
	}
	return 0;
}

/*
 * A transparent huge page is taken as it is, its subpages referenced one
 * by one: left to the pte level, the walk would split it, and a
 * checkpoint must not change the container.  Called with the pmd lock.
 */
static int cr_walk_huge(struct cr_walk *w, struct mm_walk *walk, pmd_t *pmd,
			unsigned long addr, unsigned long next)
{
	unsigned int nr = (next - addr) >> PAGE_SHIFT;
	pmd_t pmdval = *pmd;
	struct page *head = NULL;
	bool copy = w->cow;
	unsigned long a;

	if (pmd_present(pmdval)) {
		if (is_huge_zero_pmd(pmdval))
			return 0;	/* reads as zeroes: nothing to save */
		head = pmd_page(pmdval);
		if (w->file && !PageAnon(head))
			return 0;	/* page cache: comes from the file */
	}
	if (w->nr + nr > CR_PAGES_MAX) {
		/* No room left in this batch: the next one starts here. */
		w->next = addr;
		return 1;
	}
	/* Deferred: the huge page as a whole becomes copy-on-write, as fork() does. */
	if (w->cow && head && PageAnon(head) && !cr_folio_busy(page_folio(head), 0, true)) {
		if (pmd_write(pmdval))
			pmdp_set_wrprotect(walk->mm, addr & HPAGE_PMD_MASK, pmd);
		if (PageAnonExclusive(head))
			ClearPageAnonExclusive(head);
		copy = false;
	}
	for (a = addr; a < next; a += PAGE_SIZE) {
		struct page *page = NULL;

		/* Not present (being migrated): fetched with GUP, as swap is. */
		if (head) {
			page = nth_page(head, (a & ~HPAGE_PMD_MASK) >> PAGE_SHIFT);
			get_page(page);
		}
		w->addrs[w->nr] = a;
		w->pages[w->nr] = page;
		if (w->cow)
			w->copy[w->nr] = copy || !page;
		w->nr++;
	}
	if (w->nr == CR_PAGES_MAX) {
		w->next = next;
		return 1;
	}
	return 0;
}

static int cr_walk_pmd(pmd_t *pmd, unsigned long addr, unsigned long next,
		       struct mm_walk *walk)
{
	spinlock_t *ptl;	/* the pmd's lock, if it maps a huge page */
	int ret = 0;

	ptl = pmd_trans_huge_lock(pmd, walk->vma);
	if (ptl) {
		__acquire(ptl);	/* for sparse: pmd_trans_huge_lock() took it */
		walk->action = ACTION_CONTINUE;
		ret = cr_walk_huge(walk->private, walk, pmd, addr, next);
		spin_unlock(ptl);
	}
	return ret;
}

static const struct mm_walk_ops cr_walk_ops = {
	.pmd_entry = cr_walk_pmd,
	.pte_entry = cr_walk_pte,
	.walk_lock = PGWALK_RDLOCK,
};

/* Deferred: every area write-locked too, as fork() does (per-VMA locks). */
static const struct mm_walk_ops cr_cow_walk_ops = {
	.pmd_entry = cr_walk_pmd,
	.pte_entry = cr_walk_pte,
	.walk_lock = PGWALK_WRLOCK,
};

/* Next batch of touched pages of [*@start, @end); *@start moves on. */
static int cr_gather_pages(struct cr_ctx *ctx, struct mm_struct *mm,
			   struct cr_walk *w, unsigned long *start,
			   unsigned long end)
{
	struct mmu_notifier_range range;
	unsigned int i;
	int ret;

	w->nr = 0;
	/* A target killed meanwhile is not worth the rest of its memory. */
	if (__fatal_signal_pending(ctx->root) || (READ_ONCE(ctx->root->flags) & PF_EXITING))
		return cr_err(ctx, -ESRCH, "pid %d is exiting", task_pid_vnr(ctx->root));
	if (w->cow) {
		/* As fork() write-protects private memory: copy_page_range(). */
		if (mmap_write_lock_killable(mm))
			return -EINTR;
		mmu_notifier_range_init(&range, MMU_NOTIFY_PROTECTION_PAGE, 0, mm, *start, end);
		mmu_notifier_invalidate_range_start(&range);
		raw_write_seqcount_begin(&mm->write_protect_seq);
	} else if (mmap_read_lock_killable(mm)) {
		return -EINTR;
	}
	ret = walk_page_range(mm, *start, end, w->cow ? &cr_cow_walk_ops : &cr_walk_ops, w);
	if (w->cow) {
		raw_write_seqcount_end(&mm->write_protect_seq);
		mmu_notifier_invalidate_range_end(&range);
		flush_tlb_mm(mm);
	}
	if (ret == 1)
		*start = w->next;
	else if (ret == 0)
		*start = end;
	/* Swapped-out pages: bring them in, without breaking COW. */
	for (i = 0; ret >= 0 && i < w->nr; i++) {
		if (w->pages[i])
			continue;
		if (get_user_pages_remote(mm, w->addrs[i], 1, FOLL_FORCE,
					  &w->pages[i], NULL) != 1) {
			ret = cr_err(ctx, -EFAULT, "cannot read the page at %#llx",
				     w->addrs[i]);
			w->pages[i] = NULL;
		}
	}
	if (w->cow)
		mmap_write_unlock(mm);
	else
		mmap_read_unlock(mm);
	/* Deferred: what cannot be held copy-on-write is copied, still frozen. */
	for (i = 0; ret >= 0 && w->cow && i < w->nr; i++) {
		struct page *copy;

		if (!w->copy[i])
			continue;
		copy = alloc_page(GFP_HIGHUSER | __GFP_ACCOUNT | __GFP_NOWARN |
				  __GFP_RETRY_MAYFAIL);
		if (!copy) {
			ret = -ENOMEM;
			break;
		}
		copy_highpage(copy, w->pages[i]);
		put_page(w->pages[i]);
		w->pages[i] = copy;
	}
	if (ret < 0) {
		for (i = 0; i < w->nr; i++)
			if (w->pages[i])
				put_page(w->pages[i]);
		return ret;
	}
	return 0;
}

/*
 * PAGES records for the touched pages of one area; their contents are
 * queued for the page data after the tail.
 */
static int cr_write_vma_pages(struct cr_ctx *ctx, struct mm_struct *mm,
			      struct cr_vma_info *vi, u32 tag, struct cr_walk *w)
{
	unsigned long start = vi->start;
	int ret;

	if (vi->kind != CR_VMA_ANON && vi->kind != CR_VMA_FILE)
		return 0;
	w->file = vi->kind == CR_VMA_FILE;
	while (start < vi->end) {
		unsigned int i, nr_runs;
		struct cr_page_run *run;
		struct cr_hdr_pages *h;
		u64 *csum;
		size_t len;

		ret = cr_gather_pages(ctx, mm, w, &start, vi->end);
		if (ret)
			return ret;
		if (!w->nr)
			continue;
		for (nr_runs = 1, i = 1; i < w->nr; i++)
			if (w->addrs[i] != w->addrs[i - 1] + PAGE_SIZE)
				nr_runs++;
		len = sizeof(*h) + nr_runs * sizeof(*run);
		h = cr_rec_get(ctx, CR_HDR_PAGES, len, 0, tag);
		if (!h) {
			while (w->nr)
				put_page(w->pages[--w->nr]);
			return -ENOMEM;
		}
		h->nr = w->nr;
		h->nr_runs = nr_runs;
		csum = NULL;
		if (ctx->flags & CHECKPOINT_NO_PAGE_CSUM)
			h->flags = CR_PAGES_NO_CSUM;
		else if (w->cow)
			csum = &h->data_csum;	/* hashed at write-out */
		else
			h->data_csum = cr_hash_pages(ctx, w->pages, w->nr);
		run = (struct cr_page_run *)(h + 1);
		run->addr = w->addrs[0];
		run->nr = 1;
		for (i = 1; i < w->nr; i++) {
			if (w->addrs[i] != w->addrs[i - 1] + PAGE_SIZE) {
				run++;
				run->addr = w->addrs[i];
			}
			run->nr++;
		}
		cr_hbuf_put(ctx, len);
		ret = cr_pgarr_queue(ctx, w->pages, w->nr, csum);
		if (ret)
			return ret;
	}
	return 0;
}

/* -- MM and VMA records ---------------------------------------------------- */

static int cr_write_mm_rec(struct cr_ctx *ctx, struct mm_struct *mm, u32 tag,
			   u32 exe_tag, unsigned int nr_vmas)
{
	unsigned int nr_auxv = 0;
	struct cr_hdr_mm *h;
	size_t len;

	while (nr_auxv + 2 <= AT_VECTOR_SIZE && mm->saved_auxv[nr_auxv] != AT_NULL)
		nr_auxv += 2;
	nr_auxv = min_t(unsigned int, nr_auxv + 2, AT_VECTOR_SIZE);
	len = sizeof(*h) + nr_auxv * sizeof(u64);
	h = cr_rec_get(ctx, CR_HDR_MM, len, tag, 0);
	if (!h)
		return -ENOMEM;
	mmap_read_lock(mm);
	spin_lock(&mm->arg_lock);
	h->start_code = mm->start_code;
	h->end_code = mm->end_code;
	h->start_data = mm->start_data;
	h->end_data = mm->end_data;
	h->start_brk = mm->start_brk;
	h->brk = mm->brk;
	h->start_stack = mm->start_stack;
	h->arg_start = mm->arg_start;
	h->arg_end = mm->arg_end;
	h->env_start = mm->env_start;
	h->env_end = mm->env_end;
	spin_unlock(&mm->arg_lock);
	mmap_read_unlock(mm);
	if (test_bit(MMF_DISABLE_THP, &mm->flags))
		h->flags |= CR_MM_DISABLE_THP;
	if (test_bit(MMF_HAS_MDWE, &mm->flags))
		h->flags |= CR_MM_MDWE;
	h->exe_file_tag = exe_tag;
	h->nr_vmas = nr_vmas;
	h->nr_auxv = nr_auxv;
	h->vdso_hash = cr_arch_vdso_hash();
	memcpy(h + 1, mm->saved_auxv, nr_auxv * sizeof(u64));
	cr_hbuf_put(ctx, len);
	return 0;
}

static int cr_write_vma(struct cr_ctx *ctx, struct cr_vma_info *vi, u32 tag,
			u32 mm_tag)
{
	struct cr_hdr_vma *h;
	u32 file_tag = 0;

	/* Its FILE record is out already; one use of the file counted there. */
	if (vi->file) {
		file_tag = cr_obj_tag(ctx->objhash, vi->file);
		if (!file_tag)
			return cr_err(ctx, -EBUSY, "area %#lx-%#lx: its file is unknown",
				      vi->start, vi->end);
	}
	h = cr_rec_get(ctx, CR_HDR_VMA, sizeof(*h), tag, mm_tag);
	if (!h)
		return -ENOMEM;
	h->start = vi->start;
	h->end = vi->end;
	h->pgoff = vi->kind == CR_VMA_FILE ? vi->pgoff : 0;
	h->kind = vi->kind;
	h->flags = vi->flags;
	h->file_tag = file_tag;
	cr_hbuf_put(ctx, sizeof(*h));
	return 0;
}

/**
 * cr_write_mm() - write the address space of @t
 * @ctx: checkpoint context
 * @t: the first task (in TREE order) that uses it, frozen
 *
 * FILE records of the executable and of mapped files come first, then
 * MM, then each VMA followed by the PAGES of its touched pages.  The tag
 * of the address space was given when the TREE was written.
 *
 * Return: 0, -EOPNOTSUPP naming an area of a kind not supported yet, or
 * -errno.
 */
int cr_write_mm(struct cr_ctx *ctx, struct task_struct *t)
{
	struct cr_walk w = {};
	struct cr_vma_info *vi = NULL;
	struct mm_struct *mm;
	struct file *exe;
	unsigned int nr = 0, i;
	u32 exe_tag = 0, tag;
	int ret;

	mm = get_task_mm(t);
	if (!mm)
		return cr_err(ctx, -ESRCH, "pid %d is exiting", task_pid_vnr(t));
	tag = cr_obj_tag(ctx->objhash, mm);
	if (!tag) {
		mmput(mm);
		return cr_err(ctx, -EBUSY, "pid %d changed its address space", task_pid_vnr(t));
	}

	exe = get_mm_exe_file(mm);
	if (exe) {
		ret = cr_write_file(ctx, exe, &exe_tag);
		fput(exe);
		if (ret)
			goto out;
	}
	ret = cr_collect_vmas(ctx, mm, &vi, &nr);
	if (ret)
		goto out;
	/* FILE records of the mapped files before MM: files precede users. */
	for (i = 0; i < nr; i++) {
		u32 ftag;

		if (vi[i].file) {
			ret = cr_write_file(ctx, vi[i].file, &ftag);
			if (ret)
				goto out;
		}
	}
	ret = cr_write_mm_rec(ctx, mm, tag, exe_tag, nr);
	if (ret)
		goto out;

	w.addrs = kvmalloc_array(CR_PAGES_MAX, sizeof(*w.addrs), CR_GFP);
	w.pages = kvmalloc_array(CR_PAGES_MAX, sizeof(*w.pages), CR_GFP);
	w.cow = ctx->flags & CHECKPOINT_DEFERRED;
	if (w.cow) {
		w.copy = kvmalloc_array(CR_PAGES_MAX, sizeof(*w.copy), CR_GFP);
		/* Pages in per-CPU LRU batches hold a reference of their own. */
		lru_add_drain_all();
	}
	if (!w.addrs || !w.pages || (w.cow && !w.copy)) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nr && !ret; i++) {
		ret = cr_write_vma(ctx, &vi[i], i + 1, tag);
		if (!ret)
			ret = cr_write_vma_pages(ctx, mm, &vi[i], i + 1, &w);
	}
out:
	kvfree(w.addrs);
	kvfree(w.pages);
	kvfree(w.copy);
	cr_free_vmas(vi, nr);
	mmput(mm);
	return ret;
}

/* -- restart ---------------------------------------------------------------- */

struct cr_rst_vma {
	const struct cr_hdr_vma *v;
	struct file *file;	/* the objhash holds the reference */
	size_t first_pages;	/* index in ctx->recs of its first PAGES */
	unsigned int nr_pages_recs;
	u64 data_off;		/* in the page data, of its first PAGES */
};

struct cr_rst_mm {
	const struct cr_hdr_mm *h;
	struct file *exe;	/* the objhash holds the reference */
	bool exe_denied;	/* we hold a write denial on @exe */
	u64 vvar_start, vdso_start;
	unsigned int nr_vmas;
	struct cr_rst_vma vmas[];
};

/**
 * cr_rst_mm_free() - free what cr_read_mm() collected
 * @rmm: it, or NULL
 */
void cr_rst_mm_free(struct cr_rst_mm *rmm)
{
	if (rmm && rmm->exe_denied)
		exe_file_allow_write_access(rmm->exe);
	kvfree(rmm);
}

static int cr_read_vma_pages(struct cr_ctx *ctx, struct cr_rst_vma *rv)
{
	const struct cr_hdr_vma *v = rv->v;
	u64 last = 0;
	const struct cr_rec *r;

	rv->first_pages = ctx->next_rec;
	rv->data_off = ctx->data_pages * PAGE_SIZE;
	while ((r = cr_peek_rec(ctx)) && r->h->type == CR_HDR_PAGES &&
	       r->h->ptag == v->h.tag) {
		const struct cr_hdr_pages *p;
		const struct cr_page_run *run;
		unsigned int i;
		u64 sum;

		p = cr_read_rec(ctx, CR_HDR_PAGES, sizeof(*p));
		if (IS_ERR(p))
			return PTR_ERR(p);
		if (v->kind != CR_VMA_ANON && v->kind != CR_VMA_FILE)
			return cr_rec_err(ctx, -EBADMSG, "pages for a vdso area");
		if (!p->nr || p->nr > CR_PAGES_MAX || !p->nr_runs || p->nr_runs > p->nr ||
		    p->h.len != sizeof(*p) + (u64)p->nr_runs * sizeof(*run))
			return cr_rec_err(ctx, -EBADMSG, "%u pages in %u bytes", p->nr, p->h.len);
		if ((p->flags & ~CR_PAGES_FLAGS_ALL) || p->__pad ||
		    ((p->flags & CR_PAGES_NO_CSUM) && p->data_csum))
			return cr_rec_err(ctx, -EBADMSG, "unknown flags %#x", p->flags);
		run = (const struct cr_page_run *)(p + 1);
		for (i = 0, sum = 0; i < p->nr_runs; i++, run++) {
			if (!PAGE_ALIGNED(run->addr) || !run->nr || run->nr > p->nr ||
			    run->addr < v->start || run->addr >= v->end ||
			    run->nr > (v->end - run->addr) >> PAGE_SHIFT)
				return cr_rec_err(ctx, -EBADMSG,
						  "run %u: %llu pages at %#llx outside its area %#llx-%#llx",
						  i, run->nr, run->addr, v->start, v->end);
			/*
			 * Ascending; within a record apart from the previous
			 * run (a writer merges touching ones), the first one
			 * may touch the previous record's last.
			 */
			if (run->addr < last || (i && run->addr == last))
				return cr_rec_err(ctx, -EBADMSG, "run %u at %#llx out of order",
						  i, run->addr);
			last = run->addr + run->nr * PAGE_SIZE;
			sum += run->nr;
			/* a private copy beyond the file's end could not be reached */
			if (rv->file &&
			    v->pgoff + ((last - v->start) >> PAGE_SHIFT) >
			    DIV_ROUND_UP(i_size_read(file_inode(rv->file)), PAGE_SIZE))
				return cr_rec_err(ctx, -ESTALE,
						  "page %#llx is beyond the end of %pD",
						  last - PAGE_SIZE, rv->file);
		}
		if (sum != p->nr)
			return cr_rec_err(ctx, -EBADMSG, "%u pages in runs of %llu", p->nr, sum);
		ctx->data_pages += p->nr;
		rv->nr_pages_recs++;
	}
	return 0;
}

static int cr_read_vma(struct cr_ctx *ctx, struct cr_rst_mm *rmm, unsigned int i,
		       u64 *prev_end, u64 *vvar_end, u64 *vdso_end)
{
	struct cr_rst_vma *rv = &rmm->vmas[i];
	const struct cr_hdr_vma *v;
	struct file *file;
	int ret;

	v = cr_read_rec(ctx, CR_HDR_VMA, sizeof(*v));
	if (IS_ERR(v))
		return PTR_ERR(v);
	rv->v = v;
	if (v->h.tag != i + 1 || v->h.ptag != rmm->h->h.tag)
		return cr_rec_err(ctx, -EBADMSG, "tag %u/%u, expected %u/%u",
				  v->h.tag, v->h.ptag, i + 1, rmm->h->h.tag);
	if (v->start >= v->end)
		return cr_rec_err(ctx, -EBADMSG, "end before start");
	if (!PAGE_ALIGNED(v->start) || !PAGE_ALIGNED(v->end))
		return cr_rec_err(ctx, -EBADMSG, "area %#llx-%#llx not page aligned",
				  v->start, v->end);
	if (v->end > TASK_SIZE)
		return cr_rec_err(ctx, -EBADMSG, "area %#llx-%#llx beyond user space",
				  v->start, v->end);
	if (v->start < *prev_end)
		return cr_rec_err(ctx, -EBADMSG, "area %#llx-%#llx overlaps the one before",
				  v->start, v->end);
	if (v->start < mmap_min_addr)
		return cr_rec_err(ctx, -EPERM, "area %#llx-%#llx below mmap_min_addr",
				  v->start, v->end);
	if (v->flags & ~CR_VMA_FLAGS_ALL)
		return cr_rec_err(ctx, -EBADMSG, "unknown flags %#x", v->flags);
	*prev_end = v->end;

	switch (v->kind) {
	case CR_VMA_ANON:
		if (v->file_tag)
			return cr_rec_err(ctx, -EBADMSG, "anonymous area with a file");
		break;
	case CR_VMA_FILE:
		file = cr_obj_fetch(ctx->objhash, v->file_tag, &cr_obj_file_ops);
		if (IS_ERR(file))
			return cr_rec_err(ctx, -EBADMSG, "file tag %u is not a file of the image",
					  v->file_tag);
		if (!S_ISREG(file_inode(file)->i_mode) || !(file->f_mode & FMODE_READ))
			return cr_rec_err(ctx, -EBADMSG, "file tag %u cannot be mapped",
					  v->file_tag);
		if (v->pgoff > (ULONG_MAX >> PAGE_SHIFT) - ((v->end - v->start) >> PAGE_SHIFT))
			return cr_rec_err(ctx, -EBADMSG, "file offset out of range");
		/* What mmap() and madvise() would refuse after the point of no return */
		if (v->flags & (CR_VMA_GROWSDOWN | CR_VMA_WIPEONFORK))
			return cr_rec_err(ctx, -EBADMSG,
					  "a file mapping cannot grow down or be wiped on fork");
		if ((v->flags & CR_VMA_EXEC) && path_noexec(&file->f_path))
			return cr_rec_err(ctx, -EPERM,
					  "executable mapping of %pD, which is on a noexec mount",
					  file);
		rv->file = file;
		break;
	case CR_VMA_VDSO:
		if (rmm->vdso_start)
			return cr_rec_err(ctx, -EBADMSG, "a second vdso");
		if (rmm->h->vdso_hash != cr_arch_vdso_hash())
			return cr_rec_err(ctx, -EOPNOTSUPP,
					  "the task's vdso differs from this kernel's");
		rmm->vdso_start = v->start;
		*vdso_end = v->end;
		break;
	case CR_VMA_VVAR:
		if (rmm->vvar_start)
			return cr_rec_err(ctx, -EBADMSG, "a second vvar");
		rmm->vvar_start = v->start;
		*vvar_end = v->end;
		break;
	default:
		return cr_rec_err(ctx, -EBADMSG, "unknown kind %u", v->kind);
	}
	ret = cr_read_vma_pages(ctx, rv);
	if (ret)
		return ret;
	/*
	 * Saved pages are written in through a writable mapping before the
	 * area gets its protection: under PR_SET_MDWE (which the new mm
	 * inherits from the caller, as at exec) an executable area can then
	 * not be restored.
	 */
	if (test_bit(MMF_HAS_MDWE, &current->mm->flags) && (v->flags & CR_VMA_EXEC) &&
	    ((v->flags & CR_VMA_WRITE) || rv->nr_pages_recs))
		return cr_err(ctx, -EACCES,
			      "area %#llx-%#llx is executable and written, and the caller has PR_SET_MDWE",
			      v->start, v->end);
	return 0;
}

/*
 * The executable (/proc/pid/exe) passes the checks of
 * prctl(PR_SET_MM_EXE_FILE), and its write denial is taken now, so that
 * nothing about it can fail after the point of no return.
 */
static int cr_read_exe(struct cr_ctx *ctx, struct cr_rst_mm *rmm, u32 tag)
{
	struct file *exe;
	int ret;

	exe = cr_obj_fetch(ctx->objhash, tag, &cr_obj_file_ops);
	if (IS_ERR(exe))
		return cr_rec_err(ctx, -EBADMSG, "executable tag %u is not a file of the image",
				  tag);
	if (!S_ISREG(file_inode(exe)->i_mode) || path_noexec(&exe->f_path))
		return cr_rec_err(ctx, -EACCES,
				  "executable %pD: not a regular file on a mount that allows exec",
				  exe);
	ret = file_permission(exe, MAY_EXEC);
	if (ret)
		return cr_rec_err(ctx, ret, "executable %pD: no permission to execute it", exe);
	if (exe_file_deny_write_access(exe))
		return cr_rec_err(ctx, -ETXTBSY, "executable %pD is open for writing", exe);
	rmm->exe = exe;
	rmm->exe_denied = true;
	return 0;
}

static int cr_check_mm_fields(struct cr_ctx *ctx, const struct cr_hdr_mm *h)
{
	const u64 pairs[][2] = {
		{ h->start_code, h->end_code }, { h->start_data, h->end_data },
		{ h->start_brk, h->brk }, { h->arg_start, h->arg_end },
		{ h->env_start, h->env_end }, { h->start_stack, h->start_stack },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(pairs); i++)
		if (pairs[i][0] > pairs[i][1] || pairs[i][1] >= TASK_SIZE)
			return cr_rec_err(ctx, -EBADMSG, "bad range %#llx-%#llx in field pair %d",
					  pairs[i][0], pairs[i][1], i);
	if (h->nr_auxv > AT_VECTOR_SIZE || h->nr_auxv % 2 ||
	    h->h.len < sizeof(*h) + h->nr_auxv * sizeof(u64))
		return cr_rec_err(ctx, -EBADMSG, "bad auxiliary vector of %u words",
				  h->nr_auxv);
	if (h->flags & ~CR_MM_FLAGS_ALL)
		return cr_rec_err(ctx, -EBADMSG, "unknown flags %#x", h->flags);
	if (!h->nr_vmas || h->nr_vmas > sysctl_max_map_count)
		return cr_rec_err(ctx, -EBADMSG, "%u areas", h->nr_vmas);
	return 0;
}

/**
 * cr_read_mm() - read and check the address space records
 * @ctx: restart context
 * @rt: what is collected for the task
 *
 * Return: 0, -EBADMSG, -EOPNOTSUPP, -EPERM or -ENOMEM.
 */
int cr_read_mm(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	u64 prev_end = 0, vvar_end = 0, vdso_end = 0;
	const struct cr_hdr_mm *h;
	struct cr_rst_mm *rmm;
	unsigned int i;
	int ret;

	h = cr_read_rec(ctx, CR_HDR_MM, sizeof(*h));
	if (IS_ERR(h))
		return PTR_ERR(h);
	ret = cr_check_mm_fields(ctx, h);
	if (ret)
		return ret;
	rmm = kvzalloc(struct_size(rmm, vmas, h->nr_vmas), CR_GFP);
	if (!rmm)
		return -ENOMEM;
	rt->mm = rmm;
	rmm->h = h;
	rmm->nr_vmas = h->nr_vmas;
	if (h->exe_file_tag) {
		ret = cr_read_exe(ctx, rmm, h->exe_file_tag);
		if (ret)
			return ret;
	}
	for (i = 0; i < h->nr_vmas; i++) {
		ret = cr_read_vma(ctx, rmm, i, &prev_end, &vvar_end, &vdso_end);
		if (ret)
			return ret;
	}
	if (!!rmm->vdso_start != !!rmm->vvar_start)
		return cr_err(ctx, -EBADMSG, "vdso and vvar areas do not come in a pair");
	if (rmm->vdso_start)
		return cr_arch_check_vdso(ctx, rmm->vvar_start, vvar_end,
					  rmm->vdso_start, vdso_end);
	return 0;
}

static unsigned long cr_vma_prot(u32 flags)
{
	return (flags & CR_VMA_READ ? PROT_READ : 0) |
	       (flags & CR_VMA_WRITE ? PROT_WRITE : 0) |
	       (flags & CR_VMA_EXEC ? PROT_EXEC : 0);
}

/* Saved pages go in through a writable mapping; the area's own protection after. */
static bool cr_vma_reprotect(const struct cr_rst_vma *rv)
{
	return rv->nr_pages_recs && !(rv->v->flags & CR_VMA_WRITE);
}

static int cr_map_vma(struct cr_ctx *ctx, struct cr_rst_vma *rv)
{
	const struct cr_hdr_vma *v = rv->v;
	unsigned long len = v->end - v->start, addr, flags, prot;
	static const struct { u32 cr; int advice; } advice[] = {
		{ CR_VMA_DONTCOPY, MADV_DONTFORK },
		{ CR_VMA_DONTDUMP, MADV_DONTDUMP },
		{ CR_VMA_WIPEONFORK, MADV_WIPEONFORK },
		{ CR_VMA_HUGEPAGE, MADV_HUGEPAGE },
		{ CR_VMA_NOHUGEPAGE, MADV_NOHUGEPAGE },
	};
	int i, ret;

	flags = MAP_PRIVATE | MAP_FIXED_NOREPLACE;
	if (v->kind == CR_VMA_ANON)
		flags |= MAP_ANONYMOUS;
	if (v->flags & CR_VMA_GROWSDOWN)
		flags |= MAP_GROWSDOWN;
	prot = cr_vma_prot(v->flags);
	if (cr_vma_reprotect(rv))
		prot = (prot & ~PROT_EXEC) | PROT_WRITE;
	addr = vm_mmap(rv->file, v->start, len, prot, flags,
		       v->kind == CR_VMA_FILE ? v->pgoff << PAGE_SHIFT : 0);
	if (IS_ERR_VALUE(addr))
		return cr_err(ctx, (long)addr, "cannot map area %#llx-%#llx", v->start, v->end);
	if (addr != v->start)
		return cr_err(ctx, -EEXIST, "area %#llx-%#llx landed at %#lx",
			      v->start, v->end, addr);
	for (i = 0; i < ARRAY_SIZE(advice); i++) {
		if (!(v->flags & advice[i].cr))
			continue;
		if ((advice[i].cr & (CR_VMA_HUGEPAGE | CR_VMA_NOHUGEPAGE)) &&
		    !IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
			continue;	/* a hint this kernel cannot take */
		ret = do_madvise(current->mm, v->start, len, advice[i].advice);
		if (ret)
			return cr_err(ctx, ret, "cannot set the flags of area %#llx-%#llx",
				      v->start, v->end);
	}
	return 0;
}

static pmd_t *cr_pmd_alloc(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud;

	p4d = p4d_alloc(mm, pgd, addr);
	if (!p4d)
		return NULL;
	pud = pud_alloc(mm, p4d, addr);
	if (!pud)
		return NULL;
	return pmd_alloc(mm, pud, addr);
}

/*
 * Map @folio, which holds the saved contents, at @addr of @vma, a private
 * writable area, as the anonymous page a write fault would have made (for
 * a file area: its private copy).  Called with the mmap lock read-held.
 *
 * Return: 0, -EEXIST if something is mapped there already (a huge page
 * or a page: the caller writes through the mapping instead), -ENOMEM,
 * -EFAULT if the OOM reaper took the address space.
 */
static int cr_map_page(struct vm_area_struct *vma, unsigned long addr, struct folio *folio)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;	/* the page table's lock */
	pmd_t *pmd;
	pte_t *pte, entry;

	pmd = cr_pmd_alloc(mm, addr);
	if (!pmd)
		return -ENOMEM;
	if (pmd_none(pmdp_get_lockless(pmd)) && __pte_alloc(mm, pmd))
		return -ENOMEM;
	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		return -EEXIST;		/* a huge page now */
	/* the OOM reaper took the address space meanwhile, as in a fault */
	if (unlikely(check_stable_address_space(mm))) {
		pte_unmap_unlock(pte, ptl);
		return -EFAULT;
	}
	if (!pte_none(ptep_get(pte))) {
		pte_unmap_unlock(pte, ptl);
		return -EEXIST;
	}
	entry = pte_mkwrite(pte_mkdirty(mk_pte(&folio->page, vma->vm_page_prot)), vma);
	inc_mm_counter(mm, MM_ANONPAGES);
	folio_add_new_anon_rmap(folio, vma, addr, RMAP_EXCLUSIVE);
	folio_add_lru_vma(folio, vma);
	set_pte_at(mm, addr, pte, entry);
	update_mmu_cache(vma, addr, pte);
	pte_unmap_unlock(pte, ptl);
	return 0;
}

/*
 * Put @nr folios holding saved pages at their addresses @addr: mapped
 * as they are where nothing is mapped yet; where something is, copied
 * through the mapping.  The folios are the page tables' or freed.
 */
static int cr_place_pages(struct cr_ctx *ctx, const u64 *addr, struct folio **folios,
			  unsigned int nr)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma = NULL;
	unsigned int i;
	int ret = 0;

	mmap_read_lock(mm);
	for (i = 0; i < nr && !ret; i++) {
		if (!vma || addr[i] < vma->vm_start || addr[i] >= vma->vm_end) {
			vma = vma_lookup(mm, addr[i]);
			if (!vma || (vma->vm_flags & (VM_SHARED | VM_SPECIAL | VM_HUGETLB)) ||
			    !(vma->vm_flags & VM_WRITE) || anon_vma_prepare(vma))
				vma = NULL;
		}
		if (vma) {
			ret = cr_map_page(vma, addr[i], folios[i]);
			if (!ret) {
				folios[i] = NULL;
				continue;
			}
			if (ret != -EEXIST) {
				cr_err(ctx, ret, "cannot map page %#llx", addr[i]);
				break;
			}
			ret = 0;
		}
	}
	mmap_read_unlock(mm);
	for (i = 0; i < nr; i++) {
		void *p;

		if (!folios[i])
			continue;
		p = kmap_local_folio(folios[i], 0);
		if (!ret && copy_to_user(u64_to_user_ptr(addr[i]), p, PAGE_SIZE))
			ret = cr_err(ctx, -EFAULT, "cannot fill page %#llx", addr[i]);
		kunmap_local(p);
		folio_put(folios[i]);
	}
	return ret;
}

/* New pages for saved contents, charged as a fault would charge them. */
static int cr_alloc_pages(const u64 *addr, struct folio **folios, struct page **pages,
			  unsigned int nr)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma = NULL;
	unsigned int i;
	int ret = 0;

	mmap_read_lock(mm);
	for (i = 0; i < nr; i++) {
		struct folio *folio = NULL;

		if (!vma || addr[i] >= vma->vm_end)
			vma = vma_lookup(mm, addr[i]);
		if (vma) {
			folio = vma_alloc_folio(GFP_HIGHUSER_MOVABLE, 0, vma, addr[i], false);
			if (folio && mem_cgroup_charge(folio, mm, GFP_KERNEL)) {
				folio_put(folio);
				folio = NULL;
			}
		}
		ret = !vma ? -EFAULT : !folio ? -ENOMEM : 0;
		if (ret)
			break;
		folio_throttle_swaprate(folio, GFP_KERNEL);
		folios[i] = folio;
		pages[i] = &folio->page;
	}
	mmap_read_unlock(mm);
	if (ret)
		while (i)
			folio_put(folios[--i]);
	return ret;
}

/*
 * Read @nr saved pages from the page data at @off into new pages, add
 * them to @csum, and put them at @addr.
 */
static int cr_fill_pages(struct cr_ctx *ctx, const u64 *addr, unsigned int nr, u64 off,
			 struct xxh64_state *csum)
{
	struct folio *folios[CR_DATA_BATCH];
	struct page *pages[CR_DATA_BATCH];
	unsigned int i;
	u64 t0;
	int ret;

	ret = cr_alloc_pages(addr, folios, pages, nr);
	if (ret)
		return cr_err(ctx, ret, "cannot allocate the pages from %#llx", addr[0]);
	ret = cr_read_data(ctx, off, pages, nr);
	t0 = ktime_get_ns();
	for (i = 0; !ret && i < nr; i++) {
		if (csum) {
			void *va = kmap_local_page(pages[i]);

			xxh64_update(csum, va, PAGE_SIZE);
			kunmap_local(va);
		}
		/* stores to the page seen before its pte */
		__folio_mark_uptodate(folios[i]);
	}
	ctx->st.hash_ns += ktime_get_ns() - t0;
	if (ret) {
		for (i = 0; i < nr; i++)
			folio_put(folios[i]);
		return ret;
	}
	t0 = ktime_get_ns();
	ret = cr_place_pages(ctx, addr, folios, nr);
	ctx->st.map_ns += ktime_get_ns() - t0;
	return ret;
}

/*
 * Read the saved pages of an area (writable now: cr_map_vma()) from the
 * page data into new pages, check each record's checksum, and map the
 * pages where they belong: one copy, no page fault, no page zeroed.
 */
static int cr_fill_vma(struct cr_ctx *ctx, struct cr_rst_vma *rv)
{
	u64 off = rv->data_off, addr[CR_DATA_BATCH];
	unsigned int r;

	for (r = 0; r < rv->nr_pages_recs; r++) {
		const struct cr_hdr_pages *p = (const void *)ctx->recs[rv->first_pages + r].h;
		const struct cr_page_run *run = (const void *)(p + 1);
		/* Pages copied from a held checkpoint are its very pages. */
		bool check = !(p->flags & CR_PAGES_NO_CSUM) && !ctx->src;
		unsigned int ri = 0, n, done;
		struct xxh64_state csum;
		u64 rp = 0;
		int ret;

		xxh64_reset(&csum, 0);
		for (done = 0; done < p->nr; done += n) {
			/* the next pages of the runs, CR_DATA_BATCH at most */
			for (n = 0; n < CR_DATA_BATCH && done + n < p->nr; n++) {
				if (rp == run[ri].nr) {
					ri++;
					rp = 0;
				}
				addr[n] = run[ri].addr + rp++ * PAGE_SIZE;
			}
			ret = cr_fill_pages(ctx, addr, n, off + (u64)done * PAGE_SIZE,
					    check ? &csum : NULL);
			if (ret)
				return ret;
		}
		if (check && xxh64_digest(&csum) != p->data_csum)
			return cr_err(ctx, -EBADMSG,
				      "page data of record %zu (%u pages from %#llx): checksum mismatch",
				      rv->first_pages + r, p->nr, run[0].addr);
		off += (u64)p->nr * PAGE_SIZE;
		ctx->pages += p->nr;
		cond_resched();
	}
	return 0;
}

static int cr_restore_mm_fields(struct cr_ctx *ctx, struct cr_rst_mm *rmm)
{
	const struct cr_hdr_mm *h = rmm->h;
	struct mm_struct *mm = current->mm;
	int ret;

	mmap_read_lock(mm);
	spin_lock(&mm->arg_lock);
	mm->start_code = h->start_code;
	mm->end_code = h->end_code;
	mm->start_data = h->start_data;
	mm->end_data = h->end_data;
	mm->start_brk = h->start_brk;
	mm->brk = h->brk;
	mm->start_stack = h->start_stack;
	mm->arg_start = h->arg_start;
	mm->arg_end = h->arg_end;
	mm->env_start = h->env_start;
	mm->env_end = h->env_end;
	spin_unlock(&mm->arg_lock);
	mmap_read_unlock(mm);

	task_lock(current);
	memset(mm->saved_auxv, 0, sizeof(mm->saved_auxv));
	memcpy(mm->saved_auxv, h + 1, h->nr_auxv * sizeof(u64));
	task_unlock(current);

	if (rmm->exe) {
		ret = replace_mm_exe_file(mm, rmm->exe);
		if (ret)
			return cr_err(ctx, ret, "cannot set the executable");
	}
	/*
	 * The task's own THP setting, not the caller's; MDWE, a restriction,
	 * stays if the caller had it and is added if the task had it (once its
	 * areas exist, as they did when the task set it).
	 */
	if (h->flags & CR_MM_DISABLE_THP)
		set_bit(MMF_DISABLE_THP, &mm->flags);
	else
		clear_bit(MMF_DISABLE_THP, &mm->flags);
	if (h->flags & CR_MM_MDWE)
		set_bit(MMF_HAS_MDWE, &mm->flags);
	return 0;
}

/*
 * Past the point of no return, the caller leaves its address space for a
 * new, empty one, as execve() does: nothing of the old one (aio
 * contexts, an LDT, LAM, the shadow stack, def_flags, the vdso, protection
 * keys, uprobes) reaches the restored task.  The new mm inherits from the
 * caller's only what exec passes on (dumpability, MDWE, THP disable).
 */
static int cr_new_mm(struct cr_ctx *ctx)
{
	struct rlimit rlim_stack;
	struct mm_struct *mm;
	int ret;

	mm = mm_alloc();
	if (!mm)
		return cr_err(ctx, -ENOMEM, "out of memory for a new address space");
	task_lock(current->group_leader);
	rlim_stack = current->signal->rlim[RLIMIT_STACK];
	task_unlock(current->group_leader);
	arch_pick_mmap_layout(mm, &rlim_stack);
	mm->task_size = TASK_SIZE;
	ret = ksm_execve(mm);	/* MMF_VM_MERGE_ANY is inherited, as at exec */
	if (ret) {
		mmput(mm);
		return cr_err(ctx, ret, "cannot register the new address space with KSM");
	}
	/* The concurrency id is of the mm: given back, then taken anew, as by execve(). */
	sched_mm_cid_before_execve(current);
	ret = exec_mmap(mm);
	sched_mm_cid_after_execve(current);
	if (ret) {
		mmput(mm);
		return cr_err(ctx, ret, "cannot switch to a new address space");
	}
	/* Credentials do not change: no need to hold off ptrace and /proc longer. */
	up_write(&current->signal->exec_update_lock);
	return 0;
}

/**
 * cr_restore_mm() - rebuild the caller's address space from the image
 * @ctx: restart context
 * @rt: what was collected
 *
 * Past the point of no return: the caller's address space is replaced.
 *
 * Return: 0 or -errno.
 */
int cr_restore_mm(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	struct cr_rst_mm *rmm = rt->mm;
	unsigned int i;
	u64 t0;
	int ret;

	ret = cr_new_mm(ctx);
	if (ret)
		return ret;
	if (rmm->vdso_start) {
		ret = cr_arch_map_vdso(ctx, rmm->vvar_start);
		if (ret)
			return ret;
	}
	for (i = 0; i < rmm->nr_vmas; i++) {
		struct cr_rst_vma *rv = &rmm->vmas[i];

		if (rv->v->kind != CR_VMA_ANON && rv->v->kind != CR_VMA_FILE)
			continue;
		t0 = ktime_get_ns();
		ret = cr_map_vma(ctx, rv);
		ctx->st.map_ns += ktime_get_ns() - t0;
		if (!ret)
			ret = cr_fill_vma(ctx, rv);
		if (!ret && cr_vma_reprotect(rv)) {
			/* mprotect()'s own checks: LSMs, VM_MAY* */
			ret = do_mprotect_pkey(rv->v->start, rv->v->end - rv->v->start,
					       cr_vma_prot(rv->v->flags), -1);
			if (ret)
				cr_err(ctx, ret, "cannot protect area %#llx-%#llx",
				       rv->v->start, rv->v->end);
		}
		if (ret)
			return ret;
	}
	return cr_restore_mm_fields(ctx, rmm);
}
