// SPDX-License-Identifier: GPL-2.0-only
/*
 * The arena ("hbuf") that checkpoint records are assembled in, the page
 * arrays beside it, the one output path, and restart's read-ahead.
 *
 * Checkpoint: cr_hbuf_get() gives room directly in the arena, a chain of
 * large chunks; cr_hbuf_put() deposits it.  Memory contents are not
 * copied into the arena: cr_pgarr_queue() notes page references and the
 * arena position they belong at.  cr_flush() writes arena bytes and pages
 * out in stream order, in bulk, through cr_emit(), the only function that
 * writes to the image file.  In direct mode pages are flushed as soon as
 * they are queued; a deferred mode only has to flush later.
 *
 * Restart: cr_read_image() reads the whole image ahead in large chunks,
 * checks every record's header and the checksum, and keeps a pointer to
 * each record; cr_read_rec() hands them out in order.
 */

#include <linux/bvec.h>
#include <linux/checkpoint.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>

#define CR_CHUNK_MIN	(64UL << 10)

/**
 * cr_arena_init() - set up an empty arena
 * @a: the arena
 * @first_size: size of the first chunk
 * @max_chunk: chunks double in size up to this
 */
void cr_arena_init(struct cr_arena *a, size_t first_size, size_t max_chunk)
{
	memset(a, 0, sizeof(*a));
	INIT_LIST_HEAD(&a->chunks);
	a->first_size = max(first_size, CR_CHUNK_MIN);
	a->max_chunk = max(max_chunk, a->first_size);
}

/**
 * cr_arena_release() - free every chunk at once
 * @a: the arena
 */
void cr_arena_release(struct cr_arena *a)
{
	struct cr_chunk *c, *tmp;

	list_for_each_entry_safe(c, tmp, &a->chunks, list) {
		list_del(&c->list);
		kvfree(c);
	}
	a->cur = NULL;
	a->flush_chunk = NULL;
}

static struct cr_chunk *cr_chunk_new(struct cr_arena *a, size_t need)
{
	struct cr_chunk *c;
	size_t size;

	if (!a->cur)
		size = a->first_size;
	else
		size = min(a->cur->size * 2, a->max_chunk);
	size = max(size, need);
	if (size > INT_MAX - sizeof(*c))
		return NULL;
	c = kvmalloc(sizeof(*c) + size, CR_GFP);
	if (!c)
		return NULL;
	c->size = size;
	c->used = 0;
	list_add_tail(&c->list, &a->chunks);
	a->cur = c;
	return c;
}

/**
 * cr_arena_alloc() - carve zeroed room from the arena
 * @a: the arena
 * @len: bytes wanted, rounded up to a multiple of 8
 *
 * Room stays valid until the arena is released.
 *
 * Return: the room, or NULL if memory ran out.
 */
void *cr_arena_alloc(struct cr_arena *a, size_t len)
{
	struct cr_chunk *c = a->cur;
	void *p;

	len = ALIGN(len, 8);
	if (!c || c->size - c->used < len) {
		c = cr_chunk_new(a, len);
		if (!c)
			return NULL;
	}
	p = c->data + c->used;
	c->used += len;
	a->total += len;
	memset(p, 0, len);
	return p;
}

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
	while (iov_iter_count(from)) {
		ssize_t n;

		if (fatal_signal_pending(current))
			return -EINTR;
		n = vfs_iter_write(ctx->file, from, ctx->ppos ? &ctx->pos : NULL, 0);
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
	for (i = 0; i < pa->nr; i++) {
		void *p = kmap_local_page(pa->pages[i]);

		xxh64_update(&ctx->csum, p, PAGE_SIZE);
		kunmap_local(p);
		bvec_set_page(&bv[i], pa->pages[i], PAGE_SIZE, 0);
	}
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
 * cr_flush() - write out everything gathered so far, in stream order
 * @ctx: checkpoint context
 *
 * Return: 0 or -errno.
 */
int cr_flush(struct cr_ctx *ctx)
{
	struct cr_pgarr *pa, *tmp;
	int ret;

	list_for_each_entry_safe(pa, tmp, &ctx->pgarr, list) {
		ret = cr_flush_arena(ctx, pa->arena_pos);
		if (ret)
			return ret;
		ret = cr_emit_pages(ctx, pa);
		if (ret)
			return ret;
		ctx->pages += pa->nr;
		cr_pgarr_free(pa);
	}
	return cr_flush_arena(ctx, ctx->arena.total);
}

/**
 * cr_pgarr_queue() - add page contents to the stream
 * @ctx: checkpoint context
 * @pages: pages, one reference each, which the ctx takes over
 * @nr: how many (at most CR_PAGES_MAX)
 *
 * The pages follow the arena bytes handed out so far.  In direct mode
 * (the only one so far) they are written out at once.
 *
 * Return: 0 or -errno; the references are dropped in any case.
 */
int cr_pgarr_queue(struct cr_ctx *ctx, struct page **pages, unsigned int nr)
{
	struct cr_pgarr *pa;
	unsigned int i;

	pa = kvmalloc(sizeof(*pa), CR_GFP);
	if (!pa) {
		for (i = 0; i < nr; i++)
			put_page(pages[i]);
		return -ENOMEM;
	}
	pa->arena_pos = ctx->arena.total;
	pa->nr = nr;
	memcpy(pa->pages, pages, nr * sizeof(*pages));
	list_add_tail(&pa->list, &ctx->pgarr);
	return cr_flush(ctx);
}

/**
 * cr_pgarr_release() - drop page references not written out
 * @ctx: checkpoint context
 */
void cr_pgarr_release(struct cr_ctx *ctx)
{
	struct cr_pgarr *pa, *tmp;

	list_for_each_entry_safe(pa, tmp, &ctx->pgarr, list)
		cr_pgarr_free(pa);
}

/* -- restart: read-ahead and records ------------------------------------ */

static const char * const cr_rec_names[CR_HDR_TYPE_MAX] = {
	[CR_HDR_HEAD] = "head",
	[CR_HDR_TAIL] = "tail",
	[CR_HDR_TREE] = "tree",
	[CR_HDR_TASK] = "task",
	[CR_HDR_CPU] = "cpu",
	[CR_HDR_FPU] = "fpu",
	[CR_HDR_SIGHAND] = "sighand",
	[CR_HDR_RESTART_BLOCK] = "restart_block",
	[CR_HDR_SIGPENDING] = "sigpending",
	[CR_HDR_MM] = "mm",
	[CR_HDR_VMA] = "vma",
	[CR_HDR_PAGES] = "pages",
	[CR_HDR_FILE] = "file",
	[CR_HDR_FD] = "fd",
	[CR_HDR_FS] = "fs",
	[CR_HDR_PIPE] = "pipe",
	[CR_HDR_SOCK] = "sock",
	[CR_HDR_SOCK_MSG] = "sock_msg",
};

static const u32 cr_rec_minlen[CR_HDR_TYPE_MAX] = {
	[CR_HDR_HEAD] = CR_HDR_MINLEN(cr_hdr_head),
	[CR_HDR_TAIL] = CR_HDR_MINLEN(cr_hdr_tail),
	[CR_HDR_TREE] = CR_HDR_MINLEN(cr_hdr_tree),
	[CR_HDR_TASK] = CR_HDR_MINLEN(cr_hdr_task),
	[CR_HDR_CPU] = CR_HDR_MINLEN(cr_hdr_cpu),
	[CR_HDR_FPU] = CR_HDR_MINLEN(cr_hdr_fpu),
	[CR_HDR_SIGHAND] = CR_HDR_MINLEN(cr_hdr_sighand),
	[CR_HDR_RESTART_BLOCK] = CR_HDR_MINLEN(cr_hdr_restart_block),
	[CR_HDR_SIGPENDING] = CR_HDR_MINLEN(cr_hdr_sigpending),
	[CR_HDR_MM] = CR_HDR_MINLEN(cr_hdr_mm),
	[CR_HDR_VMA] = CR_HDR_MINLEN(cr_hdr_vma),
	[CR_HDR_PAGES] = CR_HDR_MINLEN(cr_hdr_pages),
	[CR_HDR_FILE] = CR_HDR_MINLEN(cr_hdr_file),
	[CR_HDR_FD] = CR_HDR_MINLEN(cr_hdr_fd),
	[CR_HDR_FS] = CR_HDR_MINLEN(cr_hdr_fs),
	[CR_HDR_PIPE] = CR_HDR_MINLEN(cr_hdr_pipe),
	[CR_HDR_SOCK] = CR_HDR_MINLEN(cr_hdr_sock),
	[CR_HDR_SOCK_MSG] = CR_HDR_MINLEN(cr_hdr_sock_msg),
};

/**
 * cr_rec_name() - name of a record type, for messages
 * @type: enum cr_hdr_type
 *
 * Return: the name, or "unknown".
 */
const char *cr_rec_name(u32 type)
{
	if (type < CR_HDR_TYPE_MAX && cr_rec_names[type])
		return cr_rec_names[type];
	return "unknown";
}

/**
 * cr_check_rec() - check a record header before anything else is used
 * @h: the header
 * @left: bytes of the stream from @h on that may belong to the record,
 *	U64_MAX when not known yet
 * @why: set to the reason on failure
 *
 * Return: 0 if the type is known and the length fits the type, the 8-byte
 * alignment, CR_RECORD_MAX and @left; -EBADMSG otherwise.
 */
int cr_check_rec(const struct cr_hdr *h, u64 left, const char **why)
{
	if (h->type >= CR_HDR_TYPE_MAX || !cr_rec_names[h->type]) {
		*why = "unknown record type";
		return -EBADMSG;
	}
	if (h->len % 8) {
		*why = "length not a multiple of 8";
		return -EBADMSG;
	}
	if (h->len > CR_RECORD_MAX) {
		*why = "length over the record size limit";
		return -EBADMSG;
	}
	if (h->len < cr_rec_minlen[h->type]) {
		*why = "length too short for the record type";
		return -EBADMSG;
	}
	if (h->len > left) {
		*why = "length runs past the end of the image";
		return -ENODATA;
	}
	return 0;
}

/* Make @need bytes from *@p of chunk *@cp contiguous and read; 0 or -ENODATA. */
static int cr_read_ahead(struct cr_ctx *ctx, struct cr_chunk **cp, size_t *p,
			 size_t need)
{
	struct cr_chunk *c = *cp;
	size_t have = c ? c->used - *p : 0;

	if (have >= need)
		return 0;
	if (!c || c->size - *p < need) {
		struct cr_chunk *n = cr_chunk_new(&ctx->arena, need);

		if (!n)
			return -ENOMEM;
		if (have)
			memcpy(n->data, c->data + *p, have);
		n->used = have;
		*cp = c = n;
		*p = 0;
	}
	while (c->used - *p < need) {
		/*
		 * A stream is read no further than the record needs: the bytes
		 * after the image are not ours.  A file is read ahead in bulk
		 * and its position set back to the end of the tail.
		 */
		bool bulk = ctx->ppos && (ctx->file->f_mode & FMODE_LSEEK);
		size_t want = bulk ? c->size - c->used : need - (c->used - *p);
		ssize_t n;

		if (fatal_signal_pending(current))
			return -EINTR;
		n = kernel_read(ctx->file, c->data + c->used, want,
				ctx->ppos ? &ctx->pos : NULL);
		/* Restarting the call would start over mid-image. */
		if (n == -ERESTARTSYS || n == -ERESTARTNOINTR || n == -ERESTARTNOHAND ||
		    n == -ERESTART_RESTARTBLOCK)
			return -EINTR;
		if (n < 0)
			return cr_err(ctx, n, "reading the image at byte %llu failed",
				      ctx->bytes + (c->used - *p));
		if (n == 0)
			return -ENODATA;
		c->used += n;
	}
	return 0;
}

/* The record index grows geometrically: linear cost in the records. */
static int cr_add_rec(struct cr_ctx *ctx, const struct cr_hdr *h, u64 off)
{
	if (ctx->nr_recs == ctx->cap_recs) {
		size_t cap = max_t(size_t, 256, ctx->cap_recs * 2);
		struct cr_rec *recs;

		recs = kvrealloc(ctx->recs, array_size(cap, sizeof(*recs)), CR_GFP);
		if (!recs)
			return -ENOMEM;
		ctx->recs = recs;
		ctx->cap_recs = cap;
	}
	ctx->recs[ctx->nr_recs].h = h;
	ctx->recs[ctx->nr_recs].offset = off;
	ctx->nr_recs++;
	return 0;
}

/**
 * cr_read_image() - read a whole image ahead and check its structure
 * @ctx: restart context
 *
 * Every record header is checked, the head is checked against this
 * kernel (magic, version, arch, ABI hash) and the tail against what was
 * read (record count, length, checksum).  Nothing after the tail is
 * consumed: a stream is read record by record, a file's position is set
 * to the end of the tail.  The image may hold at most ctx->max_image
 * bytes.
 *
 * Return: 0, or -ENOEXEC (not an image, or another arch), -EPROTO (other
 * version or ABI), -EBADMSG (bad record or checksum), -ENODATA
 * (truncated), -EFBIG (over the limit), -ENOMEM, -EINTR or the read error.
 */
int cr_read_image(struct cr_ctx *ctx)
{
	struct cr_chunk *c = NULL;
	const struct cr_hdr *h;
	const char *why;
	size_t p = 0;
	u64 off = 0;
	int ret;

	xxh64_reset(&ctx->csum, 0);
	for (;;) {
		if (fatal_signal_pending(current))
			return -EINTR;
		ret = cr_read_ahead(ctx, &c, &p, sizeof(*h));
		if (ret == -ENODATA)
			return cr_err(ctx, -ENODATA,
				      "image truncated: it ends at offset %#llx, after record %llu, without a tail record",
				      off, ctx->records);
		if (ret)
			return ret;
		h = (const struct cr_hdr *)(c->data + p);
		if (off == 0 && h->type != CR_HDR_HEAD)
			return cr_err(ctx, -ENOEXEC, "not a checkpoint image (no head record)");
		ret = cr_check_rec(h, U64_MAX, &why);
		if (ret)
			return cr_err(ctx, ret,
				      "record %llu (%s) at offset %#llx: %s (type %u, length %u)",
				      ctx->records, cr_rec_name(h->type), off, why,
				      h->type, h->len);
		/* The limit counts the record index too. */
		if (off + h->len + (ctx->nr_recs + 1) * sizeof(struct cr_rec) > ctx->max_image)
			return cr_err(ctx, -EFBIG,
				      "record %llu (%s) at offset %#llx: the image is larger than restart's limit of %llu bytes",
				      ctx->records, cr_rec_name(h->type), off, ctx->max_image);
		ret = cr_read_ahead(ctx, &c, &p, h->len);
		if (ret == -ENODATA)
			return cr_err(ctx, -ENODATA,
				      "image truncated: record %llu (%s) at offset %#llx is %u bytes, the image ends before",
				      ctx->records, cr_rec_name(h->type), off, h->len);
		if (ret)
			return ret;
		h = (const struct cr_hdr *)(c->data + p);
		if (off == 0) {
			if (memcmp(h + 1, CR_IMAGE_MAGIC, 8))
				return cr_err(ctx, -ENOEXEC, "not a checkpoint image (bad magic)");
			ret = cr_check_head(ctx, (const struct cr_hdr_head *)h);
			if (ret)
				return ret;
		} else if (h->type == CR_HDR_HEAD) {
			return cr_err(ctx, -EBADMSG, "record %llu at offset %#llx: a second head",
				      ctx->records, off);
		}
		ret = cr_add_rec(ctx, h, off);
		if (ret)
			return ret;
		if (h->type == CR_HDR_TAIL)
			break;
		xxh64_update(&ctx->csum, h, h->len);
		ctx->records++;
		ctx->bytes += h->len;
		p += h->len;
		off += h->len;
	}

	{
		const struct cr_hdr_tail *t = (const struct cr_hdr_tail *)h;
		u64 sum = xxh64_digest(&ctx->csum);

		if (t->records != ctx->records || t->bytes != off)
			return cr_err(ctx, -EBADMSG,
				      "tail at offset %#llx: image says %llu records in %llu bytes, found %llu in %llu",
				      off, t->records, t->bytes, ctx->records, off);
		if (t->checksum != sum)
			return cr_err(ctx, -EBADMSG,
				      "checksum mismatch: the tail says %#llx, the image hashes to %#llx",
				      t->checksum, sum);
	}
	/* The file's position ends right after the tail. */
	if (ctx->ppos)
		ctx->pos = ctx->start_pos + off + h->len;
	ctx->next_rec = 1;	/* the head was checked already */
	return 0;
}

/**
 * cr_peek_rec() - the next record, not consumed
 * @ctx: restart context
 *
 * Return: the record, or NULL after the last one.
 */
const struct cr_rec *cr_peek_rec(struct cr_ctx *ctx)
{
	if (ctx->next_rec >= ctx->nr_recs)
		return NULL;
	return &ctx->recs[ctx->next_rec];
}

/**
 * cr_next_rec() - consume the next record
 * @ctx: restart context
 *
 * Return: the record, or NULL after the last one.
 */
const struct cr_rec *cr_next_rec(struct cr_ctx *ctx)
{
	const struct cr_rec *r = cr_peek_rec(ctx);

	if (r)
		ctx->next_rec++;
	return r;
}

/**
 * cr_read_rec() - consume the next record, which must be of @type
 * @ctx: restart context
 * @type: the record type expected
 * @minlen: the shortest length accepted (the size this kernel knows)
 *
 * FILE records met on the way are read first: files come before their
 * first user.  A longer record than @minlen is accepted (a newer writer
 * added fields at its end); a shorter one is refused.
 *
 * Return: the record, or an ERR_PTR (-EBADMSG, or a FILE record's error)
 * with the reason recorded.
 */
const void *cr_read_rec(struct cr_ctx *ctx, u32 type, u32 minlen)
{
	const struct cr_rec *r;
	int ret;

	if (type != CR_HDR_FILE) {
		ret = cr_read_files_ahead(ctx);
		if (ret)
			return ERR_PTR(ret);
	}
	r = cr_peek_rec(ctx);
	if (!r) {
		ret = cr_err(ctx, -EBADMSG, "the image ends where a %s record was expected",
			     cr_rec_name(type));
		return ERR_PTR(ret);
	}
	if (r->h->type != type) {
		ret = cr_err(ctx, -EBADMSG,
			     "record %td (%s) at offset %#llx: a %s record was expected",
			     r - ctx->recs, cr_rec_name(r->h->type), r->offset,
			     cr_rec_name(type));
		return ERR_PTR(ret);
	}
	if (r->h->len < minlen) {
		ret = cr_err(ctx, -EBADMSG,
			     "record %td (%s) at offset %#llx: %u bytes, at least %u expected",
			     r - ctx->recs, cr_rec_name(type), r->offset, r->h->len, minlen);
		return ERR_PTR(ret);
	}
	ctx->next_rec++;
	return r->h;
}

/**
 * cr_read_files_ahead() - read the FILE records at the current position
 * @ctx: restart context
 *
 * Files come before their first user; readers call this (cr_read_rec()
 * does) before looking at the next record.
 *
 * Return: 0 or the first FILE record's error.
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
