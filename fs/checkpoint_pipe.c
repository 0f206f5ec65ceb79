// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checkpoint/restart of pipes and FIFOs.
 *
 * A pipe is saved once, as a PIPE record holding its size and every
 * byte queued in it (packets of an O_DIRECT pipe stay packets), right
 * before the FILE record of its first end; each open end is a FILE
 * record (CR_FILE_PIPE) naming the PIPE as its parent.  A named FIFO
 * also has its path, and is reopened by it.
 *
 * Restart builds the pipe first, with "keeper" ends of its own that
 * hold it open for reading and writing (so that no open of an end ever
 * waits for a partner), fills it through them, and then opens every end
 * the image has from the keeper's path.  The keepers are dropped once
 * every task is restored, before any runs: a pipe whose write end was
 * closed reads EOF again, one whose read end was closed gives EPIPE.
 */

#include <linux/checkpoint.h>
#include <linux/cred.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/magic.h>
#include <linux/pipe_fs_i.h>
#include <linux/slab.h>

/* Open flags of a pipe end that are saved: the others mean nothing for a pipe. */
#define CR_PIPE_FILE_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_LARGEFILE)

/*
 * Checkpoint: the objhash knows a pipe by its pipe_inode_info, unpinned
 * (the files of its ends pin it).
 */
const struct cr_obj_ops cr_obj_pipe_ops = {
	.name = "pipe",
	.grab = cr_obj_nop,
	.drop = cr_obj_nop,
};

static bool cr_is_fifo(struct file *file)
{
	return file_inode(file)->i_sb->s_magic != PIPEFS_MAGIC;
}

/**
 * cr_pipe_name() - name of a pipe or FIFO for messages
 * @file: an end of it
 * @buf: room for the name
 * @len: bytes in @buf
 *
 * Return: @buf, holding "pipe:[inode]" for a pipe, the FIFO's name else.
 */
char *cr_pipe_name(struct file *file, char *buf, size_t len)
{
	if (!file)
		snprintf(buf, len, "pipe");
	else if (cr_is_fifo(file))
		snprintf(buf, len, "FIFO %pD", file);
	else
		snprintf(buf, len, "pipe:[%lu]", file_inode(file)->i_ino);
	return buf;
}

/*
 * Segments and bytes queued in @pipe, pipe->mutex held: plain buffers in
 * a row make one segment, a packet one of its own.  @slots: the pipe
 * buffers restart needs to queue them again (a buffer spliced from a
 * socket may hold more than a page).
 */
static void cr_pipe_count(struct pipe_inode_info *pipe, u32 *nr_segs, u64 *len, u64 *slots)
{
	bool prev_plain = false;
	u64 plain = 0;
	unsigned int i;

	*nr_segs = 0;
	*len = 0;
	*slots = 0;
	for (i = pipe->tail; i != pipe->head; i++) {
		struct pipe_buffer *buf = pipe_buf(pipe, i);
		bool is_plain = !(buf->flags & PIPE_BUF_FLAG_PACKET);

		if (!buf->len)
			continue;
		if (!is_plain || !prev_plain) {
			(*nr_segs)++;
			*slots += DIV_ROUND_UP_ULL(plain, PAGE_SIZE);
			plain = 0;
		}
		if (is_plain)
			plain += buf->len;
		else
			*slots += DIV_ROUND_UP(buf->len, PAGE_SIZE);
		prev_plain = is_plain;
		*len += buf->len;
	}
	*slots += DIV_ROUND_UP_ULL(plain, PAGE_SIZE);
}

/* Copy the queued bytes of @pipe to @segs and @data, pipe->mutex held. */
static int cr_pipe_copy(struct pipe_inode_info *pipe, struct cr_pipe_seg *segs, u8 *data)
{
	struct cr_pipe_seg *seg = segs - 1;
	bool prev_plain = false;
	size_t done, n;
	unsigned int i;
	int ret;

	for (i = pipe->tail; i != pipe->head; i++) {
		struct pipe_buffer *buf = pipe_buf(pipe, i);
		bool plain = !(buf->flags & PIPE_BUF_FLAG_PACKET);

		if (!buf->len)
			continue;
		ret = pipe_buf_confirm(pipe, buf);
		if (ret)
			return ret;
		if (!plain || !prev_plain) {
			seg++;
			seg->len = 0;
			seg->flags = plain ? 0 : CR_PIPE_PACKET;
		}
		prev_plain = plain;
		/* page by page: a spliced buffer may be a compound page */
		for (done = 0; done < buf->len; done += n) {
			size_t off = buf->offset + done;

			n = min_t(size_t, buf->len - done, PAGE_SIZE - offset_in_page(off));
			memcpy_from_page(data, nth_page(buf->page, off >> PAGE_SHIFT),
					 offset_in_page(off), n);
			data += n;
		}
		seg->len += buf->len;
	}
	return 0;
}

/* The PIPE record of @pipe, with its queued bytes; the container is frozen. */
static int cr_write_pipe_rec(struct cr_ctx *ctx, struct file *file,
			     struct pipe_inode_info *pipe, u32 tag)
{
	bool fifo = cr_is_fifo(file);
	struct cr_hdr_pipe *h;
	char name[64];
	char *buf = NULL, *path = NULL;
	u64 data_len, slots;
	size_t plen = 0, len;
	u32 nr_segs;
	int ret;

	if (pipe_has_watch_queue(pipe))
		return cr_err(ctx, -EOPNOTSUPP, "notification pipe:[%lu]: not supported",
			      file_inode(file)->i_ino);
	if (fifo) {
		if (d_unlinked(file->f_path.dentry))
			return cr_err(ctx, -EOPNOTSUPP,
				      "FIFO %pD: deleted FIFOs are not supported yet", file);
		buf = kmalloc(CR_PATH_MAX, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		path = cr_task_path(ctx->root, &file->f_path, buf, CR_PATH_MAX);
		if (IS_ERR(path)) {
			kfree(buf);
			return cr_err(ctx, -EOPNOTSUPP, "FIFO %pD is outside the container's root",
				      file);
		}
		plen = strlen(path) + 1;
	}

	ret = mutex_lock_killable(&pipe->mutex);
	if (ret) {
		kfree(buf);
		return ret;
	}
	cr_pipe_count(pipe, &nr_segs, &data_len, &slots);
	if (data_len > CR_RECORD_MAX ||
	    sizeof(*h) + nr_segs * sizeof(struct cr_pipe_seg) + plen + data_len > CR_RECORD_MAX) {
		ret = cr_err(ctx, -EOPNOTSUPP, "%s holds %llu bytes, more than an image record",
			     cr_pipe_name(file, name, sizeof(name)), data_len);
		goto out;
	}
	if (slots > pipe->max_usage) {
		ret = cr_err(ctx, -EOPNOTSUPP,
			     "%s holds buffers spliced in that would not fit once restored",
			     cr_pipe_name(file, name, sizeof(name)));
		goto out;
	}
	len = sizeof(*h) + nr_segs * sizeof(struct cr_pipe_seg) + plen + data_len;
	h = cr_rec_get(ctx, CR_HDR_PIPE, len, tag, 0);
	if (!h) {
		ret = -ENOMEM;
		goto out;
	}
	h->kind = fifo ? CR_PIPE_FIFO : CR_PIPE_ANON;
	h->size = pipe->max_usage * PAGE_SIZE;
	h->nr_segs = nr_segs;
	h->data_len = data_len;
	h->path_len = plen;
	if (plen)
		memcpy((u8 *)(h + 1) + nr_segs * sizeof(struct cr_pipe_seg), path, plen);
	ret = cr_pipe_copy(pipe, (struct cr_pipe_seg *)(h + 1),
			   (u8 *)(h + 1) + nr_segs * sizeof(struct cr_pipe_seg) + plen);
	/* Written out even on failure: the whole checkpoint fails anyway. */
	cr_hbuf_put(ctx, len);
	if (ret)
		ret = cr_err(ctx, ret, "cannot read the bytes queued in %s",
			     cr_pipe_name(file, name, sizeof(name)));
out:
	mutex_unlock(&pipe->mutex);
	kfree(buf);
	return ret;
}

/**
 * cr_write_pipe_file() - write the FILE record of an end of a pipe or FIFO
 * @ctx: checkpoint context
 * @file: the end, seen for the first time
 * @tag: its tag
 *
 * The PIPE record comes first if the pipe is new.
 *
 * Return: 0, -EOPNOTSUPP naming what is not supported, or -errno.
 */
int cr_write_pipe_file(struct cr_ctx *ctx, struct file *file, u32 tag)
{
	struct pipe_inode_info *pipe = get_pipe_info(file, false);
	struct cr_hdr_file *h;
	bool new;
	int ret;

	if (!pipe)
		return cr_err(ctx, -EOPNOTSUPP, "FIFO %pD is not open as a pipe", file);
	ret = cr_obj_lookup_add(ctx->objhash, pipe, &cr_obj_pipe_ops, &new);
	if (ret < 0)
		return ret;
	if (new) {
		int err = cr_write_pipe_rec(ctx, file, pipe, ret);

		if (err)
			return err;
	}
	h = cr_rec_get(ctx, CR_HDR_FILE, sizeof(*h), tag, ret);
	if (!h)
		return -ENOMEM;
	h->kind = CR_FILE_PIPE;
	h->f_flags = file->f_flags & CR_PIPE_FILE_FLAGS;
	h->mode = file_inode(file)->i_mode;
	cr_hbuf_put(ctx, sizeof(*h));
	return 0;
}

/**
 * cr_pipe_outside() - does @file reach the pipe @pipe
 * @file: a file of a task outside the container
 * @pipe: a pipe of the container
 *
 * Return: true if @file is an end of @pipe.
 */
bool cr_pipe_outside(struct file *file, void *pipe)
{
	return get_pipe_info(file, false) == pipe;
}

/**
 * cr_pipe_files() - how many open files are ends of a pipe
 * @pipe: the pipe (a struct pipe_inode_info)
 *
 * Return: the count, all tasks and kernel users together.
 */
unsigned int cr_pipe_files(void *pipe)
{
	return READ_ONCE(((struct pipe_inode_info *)pipe)->files);
}

/* -- restart ---------------------------------------------------------------- */

/* A pipe being rebuilt: the keeper ends that hold it open. */
struct cr_rst_pipe {
	struct file *rd;	/* reads; for a FIFO one O_RDWR file, @wr too */
	struct file *wr;
};

static void cr_rst_pipe_settle(struct cr_rst_pipe *rp)
{
	/* Synchronous: the ends must count right before any task runs. */
	if (rp->wr && rp->wr != rp->rd)
		__fput_sync(rp->wr);
	if (rp->rd)
		__fput_sync(rp->rd);
	rp->rd = NULL;
	rp->wr = NULL;
}

static void cr_rst_pipe_drop(void *ptr)
{
	struct cr_rst_pipe *rp = ptr;

	if (rp->wr && rp->wr != rp->rd)
		fput(rp->wr);
	if (rp->rd)
		fput(rp->rd);
	kfree(rp);
}

static const struct cr_obj_ops cr_obj_rst_pipe_ops = {
	.name = "pipe",
	.grab = cr_obj_nop,
	.drop = cr_rst_pipe_drop,
};

/* Open the FIFO at @path for reading and writing, never waiting. */
static struct file *cr_open_fifo(struct cr_ctx *ctx, const char *path)
{
	const struct cr_hdr_file fifo = { .kind = CR_FILE_PIPE, .f_flags = O_RDWR | O_NONBLOCK };
	struct file *file = cr_reopen(ctx, &fifo, path);

	if (!IS_ERR(file) && !get_pipe_info(file, false)) {
		fput(file);
		cr_rec_err(ctx, -ESTALE, "%s is no longer a FIFO", path);
		return ERR_PTR(-ESTALE);
	}
	return file;
}

/* Queue the bytes of the image in the new pipe, through its keeper. */
static int cr_fill_pipe(struct cr_ctx *ctx, struct cr_rst_pipe *rp,
			const struct cr_pipe_seg *segs, u32 nr_segs, const u8 *data)
{
	struct file *wr = rp->wr;
	unsigned int i;
	loff_t pos = 0;
	ssize_t n;

	for (i = 0; i < nr_segs; i++) {
		if (segs[i].flags & CR_PIPE_PACKET) {
			struct pipe_inode_info *pipe = get_pipe_info(wr, false);

			/* A packet was a buffer of its own: bytes before it do not take it in. */
			mutex_lock(&pipe->mutex);
			if (!pipe_empty(pipe->head, pipe->tail))
				pipe_buf(pipe, pipe->head - 1)->flags &= ~PIPE_BUF_FLAG_CAN_MERGE;
			mutex_unlock(&pipe->mutex);
		}
		spin_lock(&wr->f_lock);
		if (segs[i].flags & CR_PIPE_PACKET)
			wr->f_flags |= O_DIRECT;
		else
			wr->f_flags &= ~O_DIRECT;
		spin_unlock(&wr->f_lock);
		n = kernel_write(wr, data, segs[i].len, &pos);
		if (n != segs[i].len)
			return cr_rec_err(ctx, n < 0 ? n : -ENOSPC,
					  "the bytes queued do not fit in the pipe (%zd of %u)",
					  n, segs[i].len);
		data += segs[i].len;
	}
	return 0;
}

/* Check the variable part of a PIPE record; its path, or NULL. */
static int cr_check_pipe_rec(struct cr_ctx *ctx, const struct cr_hdr_pipe *h)
{
	const struct cr_pipe_seg *segs = (const void *)(h + 1);
	const char *path = (const char *)(segs + h->nr_segs);
	u64 sum = 0;
	u32 i;

	if (!h->h.tag || h->h.ptag)
		return cr_rec_err(ctx, -EBADMSG, "bad tags");
	if (h->kind != CR_PIPE_ANON && h->kind != CR_PIPE_FIFO)
		return cr_rec_err(ctx, -EBADMSG, "unknown pipe kind %u", h->kind);
	if (h->size < PAGE_SIZE || h->size > (1U << 31) || !is_power_of_2(h->size))
		return cr_rec_err(ctx, -EBADMSG, "bad pipe size %u", h->size);
	if (h->nr_segs > h->size / PAGE_SIZE || h->data_len > h->size)
		return cr_rec_err(ctx, -EBADMSG, "%u bytes in %u segments for a pipe of %u",
				  h->data_len, h->nr_segs, h->size);
	if ((u64)h->h.len < sizeof(*h) + (u64)h->nr_segs * sizeof(*segs) + h->path_len +
			    h->data_len)
		return cr_rec_err(ctx, -EBADMSG, "record shorter than its contents");
	for (i = 0; i < h->nr_segs; i++) {
		if (!segs[i].len || (segs[i].flags & ~CR_PIPE_SEG_FLAGS_ALL) ||
		    ((segs[i].flags & CR_PIPE_PACKET) && segs[i].len > PAGE_SIZE))
			return cr_rec_err(ctx, -EBADMSG, "bad segment %u: %u bytes, flags %#x",
					  i, segs[i].len, segs[i].flags);
		sum += segs[i].len;
	}
	if (sum != h->data_len)
		return cr_rec_err(ctx, -EBADMSG, "segments of %llu bytes, %u expected",
				  sum, h->data_len);
	if (h->kind == CR_PIPE_ANON) {
		if (h->path_len)
			return cr_rec_err(ctx, -EBADMSG, "a path for a pipe");
		return 0;
	}
	if (h->path_len < 2 || h->path_len > CR_PATH_MAX || path[h->path_len - 1] ||
	    strlen(path) != h->path_len - 1 || path[0] != '/')
		return cr_rec_err(ctx, -EBADMSG, "bad path");
	return 0;
}

/**
 * cr_read_pipe() - rebuild the pipe or FIFO of a PIPE record
 * @ctx: restart context
 * @r: the record, consumed already
 *
 * The pipe joins the objhash under the record's tag, with the bytes of
 * the image queued in it, held open until cr_restore_pipes_done().
 *
 * Return: 0, -EBADMSG for a bad record, -ESTALE if a FIFO's path is no
 * longer a FIFO, -EBUSY if the FIFO is open or holds bytes already,
 * -ENOSPC if the bytes do not fit, or the error of creating, opening or
 * resizing the pipe.
 */
int cr_read_pipe(struct cr_ctx *ctx, const struct cr_rec *r)
{
	const struct cr_hdr_pipe *h = (const struct cr_hdr_pipe *)r->h;
	const struct cr_pipe_seg *segs = (const void *)(h + 1);
	const char *path = (const char *)(segs + h->nr_segs);
	struct pipe_inode_info *pipe;
	struct cr_rst_pipe *rp;
	bool busy;
	long ret;

	ret = cr_check_pipe_rec(ctx, h);
	if (ret)
		return ret;
	rp = kzalloc(sizeof(*rp), CR_GFP);
	if (!rp)
		return -ENOMEM;
	if (h->kind == CR_PIPE_ANON) {
		struct file *f[2];

		ret = create_pipe_files(f, O_NONBLOCK);
		if (ret) {
			kfree(rp);
			return cr_rec_err(ctx, ret, "cannot create a pipe: %pe", ERR_PTR(ret));
		}
		rp->rd = f[0];
		rp->wr = f[1];
	} else {
		rp->rd = cr_open_fifo(ctx, path);
		if (IS_ERR(rp->rd)) {
			ret = PTR_ERR(rp->rd);
			kfree(rp);
			return ret;
		}
		rp->wr = rp->rd;
	}
	ret = cr_obj_insert(ctx->objhash, h->h.tag, rp, &cr_obj_rst_pipe_ops);
	if (ret) {
		cr_rst_pipe_drop(rp);
		return ret == -EEXIST ? cr_rec_err(ctx, -EBADMSG, "tag %u defined twice",
						   h->h.tag) : ret;
	}

	pipe = get_pipe_info(rp->wr, false);
	if (h->kind == CR_PIPE_FIFO) {
		ret = mutex_lock_killable(&pipe->mutex);
		if (ret)
			return ret;
		busy = READ_ONCE(pipe->files) != 1 || !pipe_empty(pipe->head, pipe->tail);
		mutex_unlock(&pipe->mutex);
		if (busy)
			return cr_rec_err(ctx, -EBUSY, "FIFO %s is open or holds bytes already",
					  path);
	}
	if (h->size != pipe->max_usage * PAGE_SIZE) {
		ret = pipe_fcntl(rp->wr, F_SETPIPE_SZ, h->size);
		if (ret < 0)
			return cr_rec_err(ctx, ret, "cannot make a pipe of %u bytes: %pe",
					  h->size, ERR_PTR(ret));
	}
	return cr_fill_pipe(ctx, rp, segs, h->nr_segs, (const u8 *)path + h->path_len);
}

/**
 * cr_read_pipe_file() - open an end of a pipe rebuilt by cr_read_pipe()
 * @ctx: restart context
 * @h: the FILE record (CR_FILE_PIPE)
 *
 * Return: the new file, or ERR_PTR: -EBADMSG for a bad record, or the
 * error of opening it.
 */
struct file *cr_read_pipe_file(struct cr_ctx *ctx, const struct cr_hdr_file *h)
{
	struct cr_rst_pipe *rp;
	struct file *file;
	int acc = h->f_flags & O_ACCMODE;

	if (h->path_len || h->stdio_fd || h->pos || h->rdev || !S_ISFIFO(h->mode) ||
	    (h->f_flags & ~CR_PIPE_FILE_FLAGS) || acc == O_ACCMODE)
		return ERR_PTR(cr_rec_err(ctx, -EBADMSG, "bad pipe end: flags %#x, mode %#o",
					  h->f_flags, h->mode));
	rp = cr_obj_fetch(ctx->objhash, h->h.ptag, &cr_obj_rst_pipe_ops);
	if (IS_ERR(rp) || !rp->rd)
		return ERR_PTR(cr_rec_err(ctx, -EBADMSG, "pipe tag %u is not a pipe of the image",
					  h->h.ptag));
	/* The keeper holds both sides open: this open never waits. */
	file = dentry_open(&rp->rd->f_path, acc | O_NONBLOCK, current_cred());
	if (IS_ERR(file)) {
		cr_rec_err(ctx, PTR_ERR(file), "cannot open an end of pipe %u: %pe",
			   h->h.ptag, file);
		return file;
	}
	/* O_DIRECT (packets) is what pipe2() gives, not an open flag of pipes. */
	spin_lock(&file->f_lock);
	file->f_flags = (file->f_flags & ~CR_PIPE_FILE_FLAGS) | h->f_flags;
	spin_unlock(&file->f_lock);
	return file;
}

static int cr_settle_one(void *arg, void *ptr, const struct cr_obj_ops *ops, unsigned int users)
{
	if (ops == &cr_obj_rst_pipe_ops)
		cr_rst_pipe_settle(ptr);
	return 0;
}

/**
 * cr_restore_pipes_done() - drop the keepers of every rebuilt pipe
 * @ctx: restart context, every task restored, none running yet
 */
void cr_restore_pipes_done(struct cr_ctx *ctx)
{
	cr_objhash_for_each(ctx->objhash, cr_settle_one, NULL);
}
