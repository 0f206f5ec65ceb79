// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checkpoint's one output path.
 *
 * cr_hbuf_get() gives room directly in the arena, a chain of large
 * chunks; cr_hbuf_put() deposits it.  Memory contents are not copied into
 * the arena: cr_pgarr_queue() notes page references, in the order of
 * their PAGES records.  cr_flush() writes the records out, cr_flush_data()
 * the page data after the tail, in bulk, through cr_emit(), the only
 * function that writes to the image file.
 */

#include <linux/bvec.h>
#include <linux/checkpoint.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>

/**
 * cr_hbuf_get() - give me room on the buffer
 * @ctx: checkpoint context
 * @len: bytes wanted (rounded up to a multiple of 8)
 *
 * The room is where the bytes will be in the output: fill it in place.
 * Calls nest; each is matched by cr_hbuf_put().
 *
 * Return: zeroed room, or NULL if memory ran out.
 */
void *cr_hbuf_get(struct cr_ctx *ctx, size_t len)
{
	void *p = cr_arena_alloc(&ctx->arena, len);

	if (p)
		ctx->arena.depth++;
	return p;
}

/**
 * cr_hbuf_put() - deposit room obtained with cr_hbuf_get()
 * @ctx: checkpoint context
 * @len: the length given to cr_hbuf_get()
 */
void cr_hbuf_put(struct cr_ctx *ctx, size_t len)
{
	WARN_ON_ONCE(!ctx->arena.depth);
	ctx->arena.depth--;
}

/**
 * cr_rec_get() - room for a record, its header filled in
 * @ctx: checkpoint context
 * @type: enum cr_hdr_type
 * @len: record length, header included (rounded up to a multiple of 8)
 * @tag: tag of the object the record defines, or 0
 * @ptag: tag of the parent object, or 0
 *
 * Deposit with cr_hbuf_put(ctx, len).
 *
 * Return: the record, or NULL if memory ran out.
 */
void *cr_rec_get(struct cr_ctx *ctx, u32 type, size_t len, u32 tag, u32 ptag)
{
	struct cr_hdr *h;

	h = cr_hbuf_get(ctx, len);
	if (!h)
		return NULL;
	h->type = type;
	h->len = ALIGN(len, 8);
	h->tag = tag;
	h->ptag = ptag;
	ctx->records++;
	return h;
}

/*
 * The one output path: every byte of an image goes through here, so the
 * checks (fatal signal, a file that stops taking data) and the accounting
 * are in one place.  The checksum is updated by the callers, which see
 * the data as memory.
 */
static int cr_emit(struct cr_ctx *ctx, struct iov_iter *from)
{
	if (WARN_ON_ONCE(!ctx->file))
		return -EBADF;
	while (iov_iter_count(from)) {
		u64 t0 = ktime_get_ns();
		ssize_t n;

		if (fatal_signal_pending(current))
			return -EINTR;
		n = vfs_iter_write(ctx->file, from, ctx->ppos ? &ctx->pos : NULL, 0);
		ctx->st.write_ns += ktime_get_ns() - t0;
		/* A restarted checkpoint would write a second image after a cut one. */
		if (n == -ERESTARTSYS || n == -ERESTARTNOINTR || n == -ERESTARTNOHAND ||
		    n == -ERESTART_RESTARTBLOCK)
			return cr_err(ctx, -EINTR, "writing the image at byte %llu was interrupted",
				      ctx->bytes);
		if (n < 0)
			return cr_err(ctx, n, "writing the image at byte %llu failed",
				      ctx->bytes);
		if (n == 0)
			return cr_err(ctx, -EIO, "the image file took no data at byte %llu",
				      ctx->bytes);
		ctx->bytes += n;
	}
	return 0;
}

static int cr_emit_kbuf(struct cr_ctx *ctx, const void *buf, size_t len)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter it;

	xxh64_update(&ctx->csum, buf, len);
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, len);
	return cr_emit(ctx, &it);
}

static int cr_emit_pages(struct cr_ctx *ctx, struct cr_pgarr *pa)
{
	struct bio_vec *bv;
	struct iov_iter it;
	unsigned int i;
	int ret;

	bv = kvmalloc_array(pa->nr, sizeof(*bv), CR_GFP);
	if (!bv)
		return -ENOMEM;
	for (i = 0; i < pa->nr; i++)
		bvec_set_page(&bv[i], pa->pages[i], PAGE_SIZE, 0);
	iov_iter_bvec(&it, ITER_SOURCE, bv, pa->nr, (size_t)pa->nr * PAGE_SIZE);
	ret = cr_emit(ctx, &it);
	kvfree(bv);
	return ret;
}

/* Write arena bytes up to stream position @end of the arena. */
static int cr_flush_arena(struct cr_ctx *ctx, size_t end)
{
	struct cr_arena *a = &ctx->arena;
	int ret;

	while (a->flushed < end) {
		struct cr_chunk *c = a->flush_chunk;
		size_t n;

		if (!c) {
			c = list_first_entry(&a->chunks, struct cr_chunk, list);
			a->flush_chunk = c;
			a->flush_off = 0;
		}
		if (a->flush_off == c->used) {
			if (list_is_last(&c->list, &a->chunks))
				break;
			a->flush_chunk = list_next_entry(c, list);
			a->flush_off = 0;
			continue;
		}
		n = min(c->used - a->flush_off, end - a->flushed);
		ret = cr_emit_kbuf(ctx, c->data + a->flush_off, n);
		if (ret)
			return ret;
		a->flush_off += n;
		a->flushed += n;
	}
	return 0;
}

static void cr_pgarr_free(struct cr_pgarr *pa)
{
	unsigned int i;

	for (i = 0; i < pa->nr; i++)
		put_page(pa->pages[i]);
	list_del(&pa->list);
	kvfree(pa);
}

/**
 * cr_flush() - write out the records gathered so far
 * @ctx: checkpoint context
 *
 * Return: 0 or -errno.
 */
int cr_flush(struct cr_ctx *ctx)
{
	/* A deferred checkpoint holds its records until write-out. */
	if (ctx->hold)
		return 0;
	return cr_flush_arena(ctx, ctx->arena.total);
}

/**
 * cr_write_out() - write bytes that are not in the arena (tail, end)
 * @ctx: checkpoint context
 * @buf: the bytes
 * @len: how many
 *
 * They count in the checksum of the stream, as records do.
 *
 * Return: 0 or -errno.
 */
int cr_write_out(struct cr_ctx *ctx, const void *buf, size_t len)
{
	return cr_emit_kbuf(ctx, buf, len);
}

/**
 * cr_output_rewind() - write the records again from their first byte
 * @ctx: checkpoint context of a held (deferred) checkpoint
 *
 * Each write-out of a held checkpoint is a whole image of its own.
 */
void cr_output_rewind(struct cr_ctx *ctx)
{
	ctx->arena.flushed = 0;
	ctx->arena.flush_chunk = NULL;
	ctx->arena.flush_off = 0;
	ctx->bytes = 0;
	ctx->pages = 0;
	xxh64_reset(&ctx->csum, 0);
}

/**
 * cr_hash_pages() - the data_csum of the pages of one PAGES record
 * @ctx: checkpoint context (its hash time is counted)
 * @pages: the pages, in record order
 * @nr: how many
 *
 * Return: xxh64 (seed 0) of their bytes, as restart checks it.
 */
u64 cr_hash_pages(struct cr_ctx *ctx, struct page **pages, unsigned int nr)
{
	struct xxh64_state st;
	u64 t0 = ktime_get_ns();
	unsigned int i;

	xxh64_reset(&st, 0);
	for (i = 0; i < nr; i++) {
		void *p = kmap_local_page(pages[i]);

		xxh64_update(&st, p, PAGE_SIZE);
		kunmap_local(p);
	}
	ctx->st.hash_ns += ktime_get_ns() - t0;
	return xxh64_digest(&st);
}

/**
 * cr_pgarr_hash() - fill in the page checksums of a deferred checkpoint
 * @ctx: checkpoint context
 *
 * The pages are held copy-on-write, so their contents are those of the
 * capture; they are hashed once, at the first write-out, off the
 * container's downtime.  A fatal signal stops it; the next write-out
 * goes on where it stopped.
 *
 * Return: 0 or -EINTR.
 */
int cr_pgarr_hash(struct cr_ctx *ctx)
{
	struct cr_pgarr *pa;

	list_for_each_entry(pa, &ctx->pgarr, list) {
		if (!pa->csum)
			continue;
		if (fatal_signal_pending(current))
			return -EINTR;
		*pa->csum = cr_hash_pages(ctx, pa->pages, pa->nr);
		pa->csum = NULL;
		cond_resched();
	}
	return 0;
}

/**
 * cr_flush_data() - write out the page data, after the tail
 * @ctx: checkpoint context
 * @data_offset: where the page data start in the image (a multiple of
 *	the page size); zeroes pad the stream up to it
 * @keep: keep the page references (a held checkpoint), else drop them
 *
 * The pages queued with cr_pgarr_queue() are written in the order they
 * were queued, the order of their PAGES records.
 *
 * Return: 0 or -errno.
 */
int cr_flush_data(struct cr_ctx *ctx, u64 data_offset, bool keep)
{
	struct cr_pgarr *pa, *tmp;
	int ret;

	if (WARN_ON_ONCE(ctx->bytes > data_offset || data_offset - ctx->bytes >= PAGE_SIZE))
		return -EINVAL;
	if (ctx->bytes < data_offset) {
		struct kvec kv = {
			.iov_base = page_address(ZERO_PAGE(0)),
			.iov_len = data_offset - ctx->bytes,
		};
		struct iov_iter it;

		iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, kv.iov_len);
		ret = cr_emit(ctx, &it);
		if (ret)
			return ret;
	}
	if (ctx->no_data) {
		/* A hole where the page data go: restart() copies them itself. */
		if (WARN_ON_ONCE(!ctx->ppos || !keep))
			return -EINVAL;
		ctx->pos += ctx->data_pages * PAGE_SIZE;
		ctx->bytes += ctx->data_pages * PAGE_SIZE;
		ctx->pages += ctx->data_pages;
		return 0;
	}
	list_for_each_entry_safe(pa, tmp, &ctx->pgarr, list) {
		ret = cr_emit_pages(ctx, pa);
		if (ret)
			return ret;
		ctx->pages += pa->nr;
		if (!keep)
			cr_pgarr_free(pa);
		cond_resched();
	}
	return 0;
}

/**
 * cr_pgarr_queue() - add page contents to the page data
 * @ctx: checkpoint context
 * @pages: pages, one reference each, which the ctx takes over
 * @nr: how many (at most CR_PAGES_MAX)
 * @csum: the data_csum of their PAGES record, to be filled in by
 *	cr_pgarr_hash() (deferred checkpoint), or NULL
 *
 * They are written after the tail by cr_flush_data(), in the order they
 * are queued.  The records so far are written out meanwhile.
 *
 * Return: 0 or -errno.  The references are held until cr_flush_data()
 * or cr_pgarr_release(), or dropped at once if no memory is left to
 * queue them.
 */
int cr_pgarr_queue(struct cr_ctx *ctx, struct page **pages, unsigned int nr, u64 *csum)
{
	struct cr_pgarr *pa;
	unsigned int i;

	pa = kvmalloc(struct_size(pa, pages, nr), CR_GFP);
	if (!pa) {
		for (i = 0; i < nr; i++)
			put_page(pages[i]);
		return -ENOMEM;
	}
	pa->nr = nr;
	pa->csum = csum;
	memcpy(pa->pages, pages, nr * sizeof(*pages));
	list_add_tail(&pa->list, &ctx->pgarr);
	ctx->data_pages += nr;
	return cr_flush(ctx);
}

/**
 * cr_pgarr_release() - drop page references not written out
 * @ctx: checkpoint context
 */
void cr_pgarr_release(struct cr_ctx *ctx)
{
	struct cr_pgarr *pa, *tmp;

	list_for_each_entry_safe(pa, tmp, &ctx->pgarr, list) {
		cr_pgarr_free(pa);
		cond_resched();
	}
}
