// SPDX-License-Identifier: GPL-2.0-only
/*
 * Restart's input side: the image, its records and their headers.
 *
 * cr_read_image() reads the records of the image (everything but the
 * page data) ahead into the arena in large chunks, checks every record's
 * header as it arrives and the checksum at the tail, and keeps a pointer
 * to each record; cr_peek_rec(), cr_next_rec() and cr_read_rec() hand
 * them out in order to the restart driver and the per-kind readers it
 * calls.  cr_read_data() reads the page data after the tail into the pages
 * that will hold them in the restored memory, as each task restores
 * itself.  Nothing here knows
 * what a record means beyond its header.
 */

#include <linux/checkpoint.h>
#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>

static const char * const cr_rec_names[CR_HDR_TYPE_MAX] = {
	[CR_HDR_HEAD] = "head",
	[CR_HDR_TAIL] = "tail",
	[CR_HDR_END] = "end",
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
	[CR_HDR_FDS] = "fds",
	[CR_HDR_FS] = "fs",
	[CR_HDR_PIPE] = "pipe",
	[CR_HDR_SOCK] = "sock",
	[CR_HDR_SOCK_MSG] = "sock_msg",
};

static const u32 cr_rec_minlen[CR_HDR_TYPE_MAX] = {
	[CR_HDR_HEAD] = CR_HDR_MINLEN(cr_hdr_head),
	[CR_HDR_TAIL] = CR_HDR_MINLEN(cr_hdr_tail),
	[CR_HDR_END] = CR_HDR_MINLEN(cr_hdr_end),
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
	[CR_HDR_FDS] = CR_HDR_MINLEN(cr_hdr_fds),
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

/* A file is read ahead in pieces of this size. */
#define CR_READ_AHEAD	(256UL << 10)

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
		size_t want = need - (c->used - *p);
		ssize_t n;

		/* Bulk, but not far into the page data after the tail. */
		if (bulk)
			want = min(c->size - c->used, max(want, CR_READ_AHEAD));

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

/*
 * Fill @it from the image, at *@pos of a file or from a stream (@pos
 * NULL).  A non-blocking stream without data yet is waited for.  Past
 * the point of no return (@ponr) a signal that is not fatal (the
 * restored tasks' own are set later) or a freeze request only delay the
 * read: the signal is dropped, as cr_create() does.  Before it they fail
 * the read with -EINTR.
 * Return: 0, -ENODATA if the image ends first (@it tells where), -EINTR
 * or the read error.
 */
static int cr_read_full(struct cr_ctx *ctx, struct iov_iter *it, loff_t *pos, bool ponr)
{
	while (iov_iter_count(it)) {
		ssize_t n;

		if (fatal_signal_pending(current))
			return -EINTR;
		n = vfs_iter_read(ctx->file, it, pos, 0);
		if (n == -EAGAIN && !signal_pending(current)) {
			schedule_timeout_killable(msecs_to_jiffies(1));
			continue;
		}
		/* A socket with SO_RCVTIMEO says -EINTR itself. */
		if (n == -ERESTARTSYS || n == -ERESTARTNOINTR || n == -ERESTARTNOHAND ||
		    n == -ERESTART_RESTARTBLOCK || n == -EINTR || n == -EAGAIN) {
			if (!ponr || fatal_signal_pending(current))
				return -EINTR;
			cr_drop_signals();
			if (signal_pending(current))
				schedule_timeout_killable(msecs_to_jiffies(1));
			continue;
		}
		if (n < 0)
			return n;
		if (n == 0)
			return -ENODATA;
		ctx->bytes += n;
	}
	return 0;
}

/**
 * cr_read_end() - read and check the END record after the page data
 * @ctx: restart context
 * @ponr: the caller is past its point of no return (see cr_read_data())
 *
 * Checkpoint writes it last, once it knows the container stayed frozen
 * while its pages were written out: without it the image is incomplete.
 * A file's is read by cr_read_image(), before anything changes; a
 * stream's once the restored tasks have read all the page data.  The
 * file's position is left after it.
 *
 * Return: 0, or -ENODATA (no END record), -EBADMSG (a wrong one, or page
 * data left unread), -EINTR or the read error; but for -EINTR with the
 * reason recorded.
 */
int cr_read_end(struct cr_ctx *ctx, bool ponr)
{
	u64 off = ctx->data_offset + ctx->data_bytes;
	loff_t pos = ctx->start_pos + off;
	struct cr_hdr_end e;
	struct kvec kv = { .iov_base = &e, .iov_len = sizeof(e) };
	struct iov_iter it;
	u8 rest[64];
	size_t left;
	int ret;

	if (!ctx->ppos && ctx->data_next != ctx->data_bytes)
		return cr_err(ctx, -EBADMSG,
			      "%llu bytes of page data read from the stream, the tail says %llu",
			      ctx->data_next, ctx->data_bytes);
	iov_iter_kvec(&it, ITER_DEST, &kv, 1, sizeof(e));
	ret = cr_read_full(ctx, &it, ctx->ppos ? &pos : NULL, ponr);
	if (ret == -ENODATA)
		return cr_err(ctx, -ENODATA,
			      "image incomplete: no end record after its page data, at offset %#llx (the checkpoint did not complete)",
			      off);
	if (ret == -EINTR)
		return ret;
	if (ret)
		return cr_err(ctx, ret, "reading the end record at offset %#llx failed", off);
	if (e.h.type != CR_HDR_END || e.h.len < sizeof(e) || e.h.len > CR_END_MAX ||
	    e.h.len % 8 || e.h.tag || e.h.ptag)
		return cr_err(ctx, -EBADMSG,
			      "offset %#llx: not an end record after the page data (type %u, length %u)",
			      off, e.h.type, e.h.len);
	if (e.data_bytes != ctx->data_bytes || e.checksum != ctx->tail_csum)
		return cr_err(ctx, -EBADMSG,
			      "end record at offset %#llx: page data of %llu bytes and checksum %#llx, the tail says %llu and %#llx",
			      off, e.data_bytes, e.checksum, ctx->data_bytes, ctx->tail_csum);
	if (ctx->ppos) {
		ctx->pos = ctx->start_pos + off + e.h.len;
		return 0;
	}
	/* A stream is read to the end of the image: a newer END's fields too. */
	for (left = e.h.len - sizeof(e); left && !ret; left -= kv.iov_len) {
		kv.iov_base = rest;
		kv.iov_len = min(left, sizeof(rest));
		iov_iter_kvec(&it, ITER_DEST, &kv, 1, kv.iov_len);
		ret = cr_read_full(ctx, &it, NULL, ponr);
	}
	if (ret == -ENODATA)
		return cr_err(ctx, -ENODATA, "image truncated: it ends in its end record");
	if (ret && ret != -EINTR)
		return cr_err(ctx, ret, "reading the end record at offset %#llx failed", off);
	return ret;
}

/*
 * The tail at stream offset @off against what was read, and the page data
 * after it against what can be known before any is read: a regular file
 * must be long enough to hold them.  A stream is read up to their start.
 */
static int cr_check_tail(struct cr_ctx *ctx, const struct cr_hdr_tail *t, u64 off)
{
	u64 sum = xxh64_digest(&ctx->csum), end = off + t->h.len;
	struct inode *inode = file_inode(ctx->file);

	if (t->records != ctx->records || t->bytes != off)
		return cr_err(ctx, -EBADMSG,
			      "tail at offset %#llx: image says %llu records in %llu bytes, found %llu in %llu",
			      off, t->records, t->bytes, ctx->records, off);
	if (t->checksum != sum)
		return cr_err(ctx, -EBADMSG,
			      "checksum mismatch: the tail says %#llx, the image hashes to %#llx",
			      t->checksum, sum);
	if (t->data_offset != ALIGN(end, PAGE_SIZE) || t->data_bytes % PAGE_SIZE ||
	    t->data_bytes > U64_MAX - t->data_offset - ctx->start_pos)
		return cr_err(ctx, -EBADMSG,
			      "tail at offset %#llx: page data of %llu bytes at offset %#llx, expected at %#llx",
			      off, t->data_bytes, t->data_offset, ALIGN(end, PAGE_SIZE));
	ctx->data_offset = t->data_offset;
	ctx->data_bytes = t->data_bytes;
	ctx->tail_csum = t->checksum;
	if (ctx->ppos && S_ISREG(inode->i_mode) &&
	    i_size_read(inode) < ctx->start_pos + t->data_offset + t->data_bytes)
		return cr_err(ctx, -ENODATA,
			      "image truncated: %llu bytes of page data from offset %#llx, the file ends at %#llx",
			      t->data_bytes, t->data_offset, i_size_read(inode) - ctx->start_pos);
	/* The zeroes up to the page data. */
	while (end < t->data_offset) {
		loff_t pos = ctx->start_pos + end;
		u8 pad[64];
		struct kvec kv = {
			.iov_base = pad,
			.iov_len = min_t(u64, sizeof(pad), t->data_offset - end),
		};
		struct iov_iter it;
		size_t i;
		int ret;

		iov_iter_kvec(&it, ITER_DEST, &kv, 1, kv.iov_len);
		ret = cr_read_full(ctx, &it, ctx->ppos ? &pos : NULL, false);
		if (ret == -ENODATA)
			return cr_err(ctx, -ENODATA,
				      "image truncated: it ends at offset %#llx, before its page data",
				      end + kv.iov_len - iov_iter_count(&it));
		if (ret == -EINTR)
			return ret;
		if (ret)
			return cr_err(ctx, ret, "reading the image at byte %llu failed", end);
		for (i = 0; i < kv.iov_len; i++)
			if (pad[i])
				return cr_err(ctx, -EBADMSG,
					      "offset %#llx: not zero before the page data",
					      end + i);
		end += kv.iov_len;
	}
	/* A file can be seen to be complete before anything changes. */
	return ctx->ppos ? cr_read_end(ctx, false) : 0;
}

/**
 * cr_read_image() - read the records of an image ahead and check their structure
 * @ctx: restart context
 *
 * Every record header is checked, the head is checked against this
 * kernel (magic, version, arch, ABI hash) and the tail against what was
 * read (record count, length, checksum).  The page data after the tail
 * are left for the tasks to read into their memory (cr_read_data()):
 * a stream is read up to their start; a file's END record after them is
 * checked now (cr_read_end()) and its position set after it.  The
 * records may hold at most ctx->max_image bytes.
 *
 * Return: 0, or -ENOEXEC (not an image, or another arch), -EPROTO (other
 * version or ABI), -EBADMSG (bad record or checksum), -ENODATA
 * (truncated, or a file without its END record), -EFBIG (over the
 * limit), -ENOMEM, -EINTR or the read error.
 */
int cr_read_image(struct cr_ctx *ctx)
{
	struct cr_chunk *c = NULL;
	const struct cr_hdr *h;
	const char *why;
	u64 off = 0, t0 = ktime_get_ns();
	size_t p = 0;
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
		} else if (h->type == CR_HDR_HEAD || h->type == CR_HDR_END) {
			return cr_err(ctx, -EBADMSG,
				      "record %llu at offset %#llx: %s before the tail",
				      ctx->records, off,
				      h->type == CR_HDR_HEAD ? "a second head" : "an end record");
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

	ret = cr_check_tail(ctx, (const struct cr_hdr_tail *)h, off);
	if (ret)
		return ret;
	/* All restart holds of the image: the page data go to the tasks. */
	ctx->st.kmem_peak = ctx->arena.allocated + ctx->cap_recs * sizeof(struct cr_rec);
	ctx->st.read_ns = ktime_get_ns() - t0;
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
 * A longer record than @minlen is accepted (a newer writer added fields
 * at its end); a shorter one is refused.  The records of shared objects
 * that come before their first user (FILE, PIPE, SOCK...) are the
 * driver's to read first: cr_read_files_ahead().
 *
 * Return: the record, or an ERR_PTR (-EBADMSG, or a FILE record's error)
 * with the reason recorded.
 */
const void *cr_read_rec(struct cr_ctx *ctx, u32 type, u32 minlen)
{
	const struct cr_rec *r;
	int ret;

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
 * cr_read_data() - read page data into pages
 * @ctx: restart context
 * @off: offset of the first byte in the page data (page aligned)
 * @pages: where they go, @nr pages (at most CR_DATA_BATCH)
 * @nr: how many pages to read
 *
 * The image file copies the bytes straight into @pages, which the
 * caller then maps into the restored memory: the only copy of page data
 * restart makes.  A stream must be read in order: @off is where the
 * previous read ended.
 *
 * A signal that is not fatal, a freeze, or a non-blocking stream without
 * data yet make it wait and read again, as it runs past the point of no
 * return.
 *
 * Return: 0, or -ENODATA (the image ends first), -EBADMSG (out of
 * order), -EINTR (a fatal signal), -EINVAL (more than CR_DATA_BATCH
 * pages: a bug) or the read error; but for -EINTR and -EINVAL with the
 * reason recorded.
 */
int cr_read_data(struct cr_ctx *ctx, u64 off, struct page **pages, unsigned int nr)
{
	loff_t pos = ctx->start_pos + ctx->data_offset + off;
	struct bio_vec bv[CR_DATA_BATCH];
	u64 done, t0 = ktime_get_ns();
	struct iov_iter it;
	unsigned int i;
	int ret;

	if (WARN_ON_ONCE(nr > CR_DATA_BATCH))
		return -EINVAL;
	if (!ctx->ppos && off != ctx->data_next)
		return cr_err(ctx, -EBADMSG,
			      "page data at %#llx asked for at %#llx of a stream",
			      ctx->data_offset + ctx->data_next, ctx->data_offset + off);
	if (ctx->src) {
		/* From a held checkpoint: its pages, not the file's hole. */
		ret = cr_held_src_read(ctx->src, off, pages, nr);
		if (ret)
			return cr_err(ctx, ret, "page data at %#llx: past the held pages",
				      ctx->data_offset + off);
		ctx->data_next = off + (u64)nr * PAGE_SIZE;
		ctx->st.data_ns += ktime_get_ns() - t0;
		return 0;
	}
	for (i = 0; i < nr; i++)
		bvec_set_page(&bv[i], pages[i], PAGE_SIZE, 0);
	iov_iter_bvec(&it, ITER_DEST, bv, nr, (size_t)nr * PAGE_SIZE);
	ret = cr_read_full(ctx, &it, ctx->ppos ? &pos : NULL, true);
	done = off + (u64)nr * PAGE_SIZE - iov_iter_count(&it);
	if (ret == -ENODATA)
		ret = cr_err(ctx, -ENODATA,
			     "image truncated: it ends in its page data, at offset %#llx",
			     ctx->data_offset + done);
	else if (ret && ret != -EINTR)
		ret = cr_err(ctx, ret, "reading page data at offset %#llx failed",
			     ctx->data_offset + done);
	ctx->data_next = done;
	ctx->st.data_ns += ktime_get_ns() - t0;
	return ret;
}
