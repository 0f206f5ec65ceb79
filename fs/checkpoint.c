// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checkpoint/restart of open files, the fd table and the working
 * directory.
 *
 * A file is saved once (objhash) as its path relative to the container's
 * root, its open flags and its position, and reopened by path at restart
 * with the restarter's own credentials.  Regular files, directories and
 * the stateless memory devices (null, zero, full, random, urandom) are
 * supported, pipes and FIFOs (fs/checkpoint_pipe.c) and unix sockets
 * (net/unix/checkpoint.c); any other kind
 * makes checkpoint fail, naming it.
 */

#include <linux/checkpoint.h>
#include <linux/dcache.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/kdev_t.h>
#include <linux/magic.h>
#include <linux/major.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

/* Open flags that are saved and restored; the rest is refused. */
#define CR_FILE_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_DIRECT | \
			 O_LARGEFILE | O_NOATIME | __O_SYNC | O_DIRECTORY | O_NOFOLLOW)

/*
 * Files of kernel-state filesystems (a /proc/<pid>/... file names a pid
 * of the checkpointing side, which restart cannot give back, and would
 * reach another task's state) are neither saved nor reopened.
 */
static bool cr_pseudo_fs(const struct path *path)
{
	switch (path->mnt->mnt_sb->s_magic) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case BPF_FS_MAGIC:
		return true;
	}
	return false;
}

static bool cr_mem_chrdev(dev_t rdev)
{
	/* drivers/char/mem.c minors without state: null zero full random urandom */
	return MAJOR(rdev) == MEM_MAJOR &&
	       (MINOR(rdev) == 3 || MINOR(rdev) == 5 || MINOR(rdev) == 7 ||
		MINOR(rdev) == 8 || MINOR(rdev) == 9);
}

/**
 * cr_task_path() - path of a file as a task sees it
 * @t: the task
 * @path: the file's path
 * @buf: room for the result
 * @len: bytes in @buf
 *
 * The path is relative to the root of @t.  A file opened before the
 * container got its own mount namespace is not under that root: its
 * path in its own mount tree is used.
 *
 * Return: the path, in @buf; ERR_PTR(-ENOENT) if @t has no fs (it is
 * exiting), or another ERR_PTR if there is no such path.
 */
char *cr_task_path(struct task_struct *t, const struct path *path,
		   char *buf, int len)
{
	struct path root;
	char *p;

	task_lock(t);
	if (!t->fs) {
		task_unlock(t);
		return ERR_PTR(-ENOENT);
	}
	get_fs_root(t->fs, &root);
	task_unlock(t);
	p = __d_path(path, &root, buf, len);
	path_put(&root);
	if (!p)
		p = d_absolute_path(path, buf, len);
	return p;
}

static int cr_file_kind(struct cr_ctx *ctx, struct file *file, u32 *kind)
{
	umode_t mode = file_inode(file)->i_mode;
	const char *what;

	if (file->f_mode & FMODE_PATH) {
		what = "O_PATH file";
	} else if (S_ISREG(mode)) {
		*kind = CR_FILE_REG;
		return 0;
	} else if (S_ISDIR(mode)) {
		*kind = CR_FILE_DIR;
		return 0;
	} else if (S_ISCHR(mode) && cr_mem_chrdev(file_inode(file)->i_rdev)) {
		*kind = CR_FILE_CHR;
		return 0;
	} else if (S_ISFIFO(mode)) {
		*kind = CR_FILE_PIPE;
		return 0;
	} else if (S_ISSOCK(mode)) {
		*kind = CR_FILE_SOCK;
		return 0;
	} else if (S_ISCHR(mode)) {
		what = "character device";
	} else if (S_ISBLK(mode)) {
		what = "block device";
	} else {
		what = "special file";
	}
	return cr_err(ctx, -EOPNOTSUPP, "%s %pD: not supported yet", what, file);
}

/**
 * cr_write_file() - tag of an open file; its FILE record if first seen
 * @ctx: checkpoint context
 * @file: the file
 * @tag: set to its tag
 *
 * Return: 0, or -EOPNOTSUPP naming a file of a kind not supported yet,
 * or -errno.
 */
int cr_write_file(struct cr_ctx *ctx, struct file *file, u32 *tag)
{
	struct cr_hdr_file *h;
	char *buf, *path;
	size_t plen, len;
	u32 kind;
	bool new;
	int ret;

	ret = cr_obj_lookup_add(ctx->objhash, file, &cr_obj_file_ops, &new);
	if (ret < 0)
		return ret;
	*tag = ret;
	if (!new)
		return 0;
	ret = cr_file_kind(ctx, file, &kind);
	if (ret)
		return ret;
	if (file->f_flags & FASYNC)
		return cr_err(ctx, -EOPNOTSUPP, "file %pD: O_ASYNC is not supported yet", file);
	if (kind == CR_FILE_PIPE)
		return cr_write_pipe_file(ctx, file, *tag);
	if (kind == CR_FILE_SOCK)
		return cr_write_sock_file(ctx, file, *tag);
	if (file->f_flags & (FASYNC | O_PATH | __O_TMPFILE))
		return cr_err(ctx, -EOPNOTSUPP, "file %pD: open flags %#x are not supported yet",
			      file, file->f_flags & (FASYNC | O_PATH | __O_TMPFILE));
	if (d_unlinked(file->f_path.dentry))
		return cr_err(ctx, -EOPNOTSUPP, "file %pD: deleted files are not supported yet",
			      file);
	if (cr_pseudo_fs(&file->f_path))
		return cr_err(ctx, -EOPNOTSUPP,
			      "file %pD: files of /proc, /sys and other kernel filesystems are not supported",
			      file);

	buf = kmalloc(CR_PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	path = cr_task_path(ctx->root, &file->f_path, buf, CR_PATH_MAX);
	if (IS_ERR(path)) {
		kfree(buf);
		/* No fs left: the task was killed during the checkpoint. */
		if (PTR_ERR(path) == -ENOENT)
			return cr_err(ctx, -ESRCH, "pid %d is exiting", task_pid_vnr(ctx->root));
		return cr_err(ctx, -EOPNOTSUPP, "file %pD is outside the container's root", file);
	}
	plen = strlen(path) + 1;
	len = sizeof(*h) + plen;
	h = cr_rec_get(ctx, CR_HDR_FILE, len, *tag, 0);
	if (!h) {
		kfree(buf);
		return -ENOMEM;
	}
	h->kind = kind;
	h->f_flags = file->f_flags & CR_FILE_FLAGS;
	h->pos = kind == CR_FILE_CHR ? 0 : READ_ONCE(file->f_pos);
	h->size = i_size_read(file_inode(file));
	h->mode = file_inode(file)->i_mode;
	if (kind == CR_FILE_CHR)
		h->rdev = new_encode_dev(file_inode(file)->i_rdev);
	h->path_len = plen;
	memcpy(h + 1, path, plen);
	cr_hbuf_put(ctx, len);
	kfree(buf);
	return 0;
}

/*
 * fd @fd (0-2) of the root task: the standard input, output or error the
 * tool that started the container handed it, whatever kind of file it
 * is.  Restart hands the restarter's own instead: the tools map them.
 */
static int cr_write_stdio(struct cr_ctx *ctx, struct file *file, unsigned int fd, u32 *tag)
{
	struct cr_hdr_file *h;
	bool new;
	int ret;

	/*
	 * One record per fd, even when 0-2 are one file: each becomes the
	 * restarter's fd of its number.  Other users of the file (a child's
	 * inherited fd, a dup) get the tag of the lowest of them.
	 */
	ret = cr_obj_lookup_add(ctx->objhash, file, &cr_obj_file_ops, &new);
	if (ret < 0)
		return ret;
	*tag = ret;
	if (!new) {
		ret = cr_obj_lookup_add(ctx->objhash, &ctx->stdio[fd], &cr_obj_stdio_ops, &new);
		if (ret < 0)
			return ret;
		*tag = ret;
	}
	ctx->stdio[fd] = file;
	h = cr_rec_get(ctx, CR_HDR_FILE, sizeof(*h), *tag, 0);
	if (!h)
		return -ENOMEM;
	h->kind = CR_FILE_STDIO;
	h->f_flags = file->f_flags & CR_FILE_FLAGS;
	h->mode = file_inode(file)->i_mode;
	h->stdio_fd = fd;
	cr_hbuf_put(ctx, sizeof(*h));
	return 0;
}

/* The restarter's fd of a CR_FILE_STDIO record. */
static int cr_read_stdio(struct cr_ctx *ctx, const struct cr_hdr_file *h)
{
	struct file *file;
	int ret;

	if (h->path_len || h->stdio_fd > 2)
		return cr_rec_err(ctx, -EBADMSG, "bad standard fd %u", h->stdio_fd);
	file = fget(h->stdio_fd);
	if (!file)
		return cr_rec_err(ctx, -EBADF,
				  "the image uses the restarter's fd %u, which is not open",
				  h->stdio_fd);
	ret = cr_obj_insert(ctx->objhash, h->h.tag, file, &cr_obj_file_ops);
	fput(file);
	if (ret == -EEXIST)
		return cr_rec_err(ctx, -EBADMSG, "tag %u defined twice", h->h.tag);
	return ret;
}

/* Is @inode of the kind the record says, and a device we allow? */
static bool cr_inode_is(const struct inode *inode, const struct cr_hdr_file *h)
{
	umode_t mode = inode->i_mode;

	switch (h->kind) {
	case CR_FILE_REG:
		return S_ISREG(mode);
	case CR_FILE_DIR:
		return S_ISDIR(mode);
	case CR_FILE_PIPE:
		return S_ISFIFO(mode);
	case CR_FILE_CHR:
		return S_ISCHR(mode) && cr_mem_chrdev(inode->i_rdev) &&
		       new_encode_dev(inode->i_rdev) == h->rdev;
	}
	return false;
}

/**
 * cr_reopen() - reopen a file of the image by path
 * @ctx: restart context
 * @h: its FILE record (only @kind, @f_flags and @rdev are used)
 * @path: its path, under the caller's root
 *
 * With the caller's credentials and through the normal open path
 * (permission, LSM hooks).  The path is looked up and its inode checked
 * first, so that no open of another kind of file happens at all (a FIFO
 * would block, a device open may do anything); the opened file is
 * checked again, in case the path changed in between.  O_NOCTTY always;
 * O_NONBLOCK during the open.
 *
 * Return: the file, or ERR_PTR: -ESTALE if @path is no longer of the
 * record's kind, -EPERM on a kernel filesystem, or the error of the
 * lookup or the open; the reason is recorded.
 */
struct file *cr_reopen(struct cr_ctx *ctx, const struct cr_hdr_file *h,
		       const char *path)
{
	int flags = (h->f_flags & CR_FILE_FLAGS) | O_NOFOLLOW | O_LARGEFILE | O_NOCTTY |
		    O_NONBLOCK;
	struct path root, p;
	struct file *file;
	bool same;
	int ret;

	get_fs_root(current->fs, &root);
	ret = vfs_path_lookup(root.dentry, root.mnt, path, 0, &p);
	if (ret) {
		path_put(&root);
		cr_rec_err(ctx, ret, "cannot reopen %s: %pe", path, ERR_PTR(ret));
		return ERR_PTR(ret);
	}
	same = d_really_is_positive(p.dentry) && cr_inode_is(d_inode(p.dentry), h);
	if (cr_pseudo_fs(&p)) {
		path_put(&p);
		path_put(&root);
		cr_rec_err(ctx, -EPERM, "%s is on a kernel filesystem (/proc, /sys, ...)", path);
		return ERR_PTR(-EPERM);
	}
	path_put(&p);
	if (!same) {
		path_put(&root);
		cr_rec_err(ctx, -ESTALE, "%s is no longer the file that was checkpointed", path);
		return ERR_PTR(-ESTALE);
	}
	file = file_open_root(&root, path, flags, 0);
	path_put(&root);
	if (IS_ERR(file)) {
		cr_rec_err(ctx, PTR_ERR(file), "cannot reopen %s: %pe", path, file);
		return file;
	}
	if (!cr_inode_is(file_inode(file), h)) {
		fput(file);
		cr_rec_err(ctx, -ESTALE, "%s is no longer the file that was checkpointed", path);
		return ERR_PTR(-ESTALE);
	}
	if (!(h->f_flags & O_NONBLOCK)) {
		spin_lock(&file->f_lock);
		file->f_flags &= ~O_NONBLOCK;
		spin_unlock(&file->f_lock);
	}
	return file;
}

/**
 * cr_read_file() - reopen the file of a FILE record
 * @ctx: restart context
 * @r: the record, consumed already
 *
 * The file joins the objhash under the record's tag.
 *
 * Return: 0, -EBADMSG, -ESTALE, or the error of reopening the file.
 */
int cr_read_file(struct cr_ctx *ctx, const struct cr_rec *r)
{
	const struct cr_hdr_file *h = (const struct cr_hdr_file *)r->h;
	const char *path = (const char *)(h + 1);
	struct file *file;
	loff_t pos;
	int ret;

	if (!h->h.tag)
		return cr_rec_err(ctx, -EBADMSG, "no tag");
	if (h->kind == CR_FILE_STDIO)
		return cr_read_stdio(ctx, h);
	if (h->kind == CR_FILE_PIPE || h->kind == CR_FILE_SOCK) {
		/* Reopened files count against the caller's fd limit, as fds would. */
		if (ctx->nr_files >= rlimit(RLIMIT_NOFILE))
			return cr_rec_err(ctx, -EMFILE, "more files than the fd limit %lu",
					  rlimit(RLIMIT_NOFILE));
		if (h->kind == CR_FILE_PIPE)
			file = cr_read_pipe_file(ctx, h);
		else
			file = cr_read_sock_file(ctx, h);
		if (IS_ERR(file))
			return PTR_ERR(file);
		goto insert;
	}
	if (h->path_len < 2 || h->path_len > CR_PATH_MAX ||
	    h->h.len < sizeof(*h) + h->path_len || path[h->path_len - 1] ||
	    strlen(path) != h->path_len - 1 || path[0] != '/')
		return cr_rec_err(ctx, -EBADMSG, "bad path");
	if (h->kind < CR_FILE_REG || h->kind > CR_FILE_DIR)
		return cr_rec_err(ctx, -EBADMSG, "unknown file kind %u", h->kind);
	if ((h->kind == CR_FILE_REG && !S_ISREG(h->mode)) ||
	    (h->kind == CR_FILE_DIR && !S_ISDIR(h->mode)) ||
	    (h->kind == CR_FILE_CHR &&
	     (!S_ISCHR(h->mode) || !cr_mem_chrdev(new_decode_dev(h->rdev)))))
		return cr_rec_err(ctx, -EBADMSG, "file kind %u with mode %#o (device %#x)",
				  h->kind, h->mode, h->rdev);
	if (h->f_flags & ~CR_FILE_FLAGS)
		return cr_rec_err(ctx, -EBADMSG, "unknown open flags %#x", h->f_flags);
	if ((s64)h->pos < 0)
		return cr_rec_err(ctx, -EBADMSG, "bad position %lld", h->pos);
	if (h->stdio_fd)
		return cr_rec_err(ctx, -EBADMSG, "reserved field not zero");
	/* Reopened files count against the caller's fd limit, as fds would. */
	if (ctx->nr_files >= rlimit(RLIMIT_NOFILE))
		return cr_rec_err(ctx, -EMFILE, "more files than the fd limit %lu",
				  rlimit(RLIMIT_NOFILE));

	file = cr_reopen(ctx, h, path);
	if (IS_ERR(file))
		return PTR_ERR(file);
	if (h->kind != CR_FILE_CHR && h->pos) {
		pos = vfs_llseek(file, h->pos, SEEK_SET);
		if (pos != h->pos) {
			fput(file);
			return cr_rec_err(ctx, pos < 0 ? pos : -EINVAL,
					  "cannot seek %s to %llu", path, h->pos);
		}
	}
insert:
	ret = cr_obj_insert(ctx->objhash, h->h.tag, file, &cr_obj_file_ops);
	fput(file);
	if (ret == -EEXIST)
		return cr_rec_err(ctx, -EBADMSG, "tag %u defined twice", h->h.tag);
	if (!ret)
		ctx->nr_files++;
	return ret;
}

/* -- the fd table ---------------------------------------------------------- */

struct cr_rst_fd {
	int fd;
	bool cloexec;
	struct file *file;	/* the objhash holds the reference */
};

struct cr_rst_files {
	unsigned int nr;
	struct cr_rst_fd fds[];
};

/* One FDS record of the @n descriptors in @fds. */
static int cr_write_fds(struct cr_ctx *ctx, const struct cr_fd *fds, unsigned int n)
{
	size_t len = sizeof(struct cr_hdr_fds) + n * sizeof(*fds);
	struct cr_hdr_fds *h;

	h = cr_rec_get(ctx, CR_HDR_FDS, len, 0, 0);
	if (!h)
		return -ENOMEM;
	h->nr = n;
	memcpy(h + 1, fds, n * sizeof(*fds));
	cr_hbuf_put(ctx, len);
	return 0;
}

/**
 * cr_write_files() - write the open file descriptors of @t
 * @ctx: checkpoint context
 * @t: the first task (in TREE order) that uses its fd table, frozen
 *
 * The FILE records of up to CR_FDS_MAX descriptors, then their FDS record.
 *
 * Return: 0 or -errno.
 */
int cr_write_files(struct cr_ctx *ctx, struct task_struct *t)
{
	struct cr_fd *fds __free(kvfree) = kvmalloc_array(CR_FDS_MAX, sizeof(*fds), CR_GFP);
	unsigned int fd = 0, n = 0;
	struct file *file;
	int ret = 0;

	if (!fds)
		return -ENOMEM;
	for (;; fd++) {
		bool cloexec;
		u32 tag;

		rcu_read_lock();
		file = task_lookup_next_fdget_rcu(t, &fd);
		cloexec = false;
		if (file) {
			task_lock(t);
			if (t->files)
				cloexec = close_on_exec(fd, t->files);
			task_unlock(t);
		}
		rcu_read_unlock();
		if (!file)
			break;
		if (t == ctx->root && fd < ARRAY_SIZE(ctx->stdio))
			ret = cr_write_stdio(ctx, file, fd, &tag);
		else
			ret = cr_write_file(ctx, file, &tag);
		fput(file);
		if (ret) {
			if (ctx->err == -EOPNOTSUPP && !strstr(ctx->errmsg, "fd "))
				snprintf(ctx->errmsg + strlen(ctx->errmsg),
					 sizeof(ctx->errmsg) - strlen(ctx->errmsg),
					 " (pid %d, fd %u)", task_pid_vnr(t), fd);
			return ret;
		}
		fds[n].fd = fd;
		fds[n].file_tag = tag;
		fds[n].flags = cloexec ? CR_FD_CLOEXEC : 0;
		if (++n == CR_FDS_MAX) {
			ret = cr_write_fds(ctx, fds, n);
			if (ret)
				return ret;
			n = 0;
		}
	}
	return n ? cr_write_fds(ctx, fds, n) : 0;
}

/**
 * cr_read_files() - read and check the FDS records
 * @ctx: restart context
 * @rt: what is collected for the task
 *
 * Return: 0, -EBADMSG, -EMFILE (a descriptor over the caller's
 * RLIMIT_NOFILE), -ENOMEM, or the error of a FILE, PIPE or SOCK record
 * read ahead (cr_read_files_ahead()).
 */
int cr_read_files(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	unsigned int limit = rlimit(RLIMIT_NOFILE), n = 0, cap = 0, i;
	struct cr_rst_files *rf = NULL;
	const struct cr_rec *r;
	int prev = -1;

	for (;;) {
		const struct cr_hdr_fds *h;
		const struct cr_fd *fds;
		int ret = cr_read_files_ahead(ctx);

		if (ret)
			return ret;
		r = cr_peek_rec(ctx);
		if (!r || r->h->type != CR_HDR_FDS)
			break;
		h = cr_read_rec(ctx, CR_HDR_FDS, sizeof(*h));
		if (IS_ERR(h))
			return PTR_ERR(h);
		if (!h->nr || h->nr > CR_FDS_MAX || h->__pad ||
		    h->h.len < sizeof(*h) + (size_t)h->nr * sizeof(*fds))
			return cr_rec_err(ctx, -EBADMSG, "%u fds in a record of %u bytes",
					  h->nr, h->h.len);
		if (n + h->nr > cap) {
			struct cr_rst_files *nrf;

			cap = max(cap * 2, n + h->nr);
			/* On failure rf stays as it was, in rt->files: freed once, later. */
			nrf = kvrealloc(rf, struct_size(rf, fds, cap), CR_GFP);
			if (!nrf)
				return -ENOMEM;
			rf = nrf;
			rf->nr = n;
			rt->files = rf;
		}
		fds = (const struct cr_fd *)(h + 1);
		for (i = 0; i < h->nr; i++) {
			const struct cr_fd *e = &fds[i];
			struct file *file;

			if (e->fd <= prev || e->fd >= limit)
				return cr_rec_err(ctx,
						  e->fd >= 0 && (unsigned int)e->fd >= limit ?
						  -EMFILE : -EBADMSG,
						  "fd %d out of order or over the fd limit %u",
						  e->fd, limit);
			if (e->flags & ~CR_FD_CLOEXEC)
				return cr_rec_err(ctx, -EBADMSG, "fd %d: unknown flags %#x",
						  e->fd, e->flags);
			file = cr_obj_fetch(ctx->objhash, e->file_tag, &cr_obj_file_ops);
			if (IS_ERR(file))
				return cr_rec_err(ctx, -EBADMSG,
						  "fd %d: file tag %u is not a file of the image",
						  e->fd, e->file_tag);
			rf->fds[n].fd = e->fd;
			rf->fds[n].cloexec = e->flags & CR_FD_CLOEXEC;
			rf->fds[n].file = file;
			rf->nr = ++n;
			prev = e->fd;
		}
	}
	return 0;
}

/**
 * cr_rst_files_free() - free what cr_read_files() collected
 * @rf: it, or NULL
 */
void cr_rst_files_free(struct cr_rst_files *rf)
{
	kvfree(rf);
}

/**
 * cr_restore_files() - replace the caller's fds with the image's
 * @ctx: restart context
 * @rt: what was collected
 *
 * Return: 0 or -errno.
 */
int cr_restore_files(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	struct cr_rst_files *rf = rt->files;
	unsigned int i;
	int ret;

	ret = __close_range(0, ~0U, 0);
	if (ret)
		return cr_err(ctx, ret, "cannot close the caller's files");
	for (i = 0; rf && i < rf->nr; i++) {
		ret = replace_fd(rf->fds[i].fd, rf->fds[i].file,
				 rf->fds[i].cloexec ? O_CLOEXEC : 0);
		if (ret < 0)
			return cr_err(ctx, ret, "cannot install fd %d", rf->fds[i].fd);
	}
	return 0;
}

/* -- FS: working directory and umask --------------------------------------- */

/**
 * cr_write_fs() - write the working directory and umask of @t
 * @ctx: checkpoint context
 * @t: the first task (in TREE order) that uses its fs info, frozen
 *
 * Return: 0 or -errno.
 */
int cr_write_fs(struct cr_ctx *ctx, struct task_struct *t)
{
	struct cr_hdr_fs *h;
	struct path pwd;
	char *buf, *path;
	size_t plen, len;
	int umask;

	task_lock(t);
	if (!t->fs) {
		task_unlock(t);
		return cr_err(ctx, -ESRCH, "pid %d has no fs", task_pid_vnr(t));
	}
	get_fs_pwd(t->fs, &pwd);
	umask = t->fs->umask;
	task_unlock(t);
	if (cr_pseudo_fs(&pwd)) {
		path_put(&pwd);
		return cr_err(ctx, -EOPNOTSUPP,
			      "pid %d: a working directory in /proc, /sys or another kernel filesystem is not supported",
			      task_pid_vnr(t));
	}

	buf = kmalloc(CR_PATH_MAX, GFP_KERNEL);
	if (!buf) {
		path_put(&pwd);
		return -ENOMEM;
	}
	path = cr_task_path(t, &pwd, buf, CR_PATH_MAX);
	path_put(&pwd);
	if (IS_ERR(path)) {
		kfree(buf);
		if (PTR_ERR(path) == -ENOENT)
			return cr_err(ctx, -ESRCH, "pid %d is exiting", task_pid_vnr(t));
		return cr_err(ctx, -EOPNOTSUPP, "pid %d: working directory outside its root",
			      task_pid_vnr(t));
	}
	plen = strlen(path) + 1;
	len = sizeof(*h) + plen;
	h = cr_rec_get(ctx, CR_HDR_FS, len, 0, 0);
	if (h) {
		h->umask = umask;
		h->path_len = plen;
		memcpy(h + 1, path, plen);
		cr_hbuf_put(ctx, len);
	}
	kfree(buf);
	return h ? 0 : -ENOMEM;
}

/**
 * cr_read_fs() - read the FS record and look the directory up
 * @ctx: restart context
 * @rt: what is collected for the task
 *
 * Return: 0, -EBADMSG or the lookup's error.
 */
int cr_read_fs(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	const struct cr_hdr_fs *h;
	const char *path;
	struct path root;
	int ret;

	h = cr_read_rec(ctx, CR_HDR_FS, sizeof(*h));
	if (IS_ERR(h))
		return PTR_ERR(h);
	path = (const char *)(h + 1);
	if (h->path_len < 2 || h->path_len > CR_PATH_MAX ||
	    h->h.len < sizeof(*h) + h->path_len || path[h->path_len - 1] ||
	    strlen(path) != h->path_len - 1 || path[0] != '/')
		return cr_rec_err(ctx, -EBADMSG, "bad path");
	if (h->umask & ~0777)
		return cr_rec_err(ctx, -EBADMSG, "bad umask %#o", h->umask);
	get_fs_root(current->fs, &root);
	ret = vfs_path_lookup(root.dentry, root.mnt, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY,
			      &rt->cwd);
	path_put(&root);
	if (ret) {
		rt->cwd = (struct path){};
		return cr_rec_err(ctx, ret, "cannot find the working directory %s (error %d)",
				  path, ret);
	}
	if (cr_pseudo_fs(&rt->cwd))
		return cr_rec_err(ctx, -EPERM,
				  "the working directory %s is on a kernel filesystem (/proc, /sys, ...)",
				  path);
	ret = path_permission(&rt->cwd, MAY_EXEC | MAY_CHDIR);
	if (ret)
		return cr_rec_err(ctx, ret, "cannot enter the working directory %s", path);
	rt->fs = h;
	return 0;
}

/**
 * cr_restore_fs() - set the caller's working directory and umask
 * @ctx: restart context
 * @rt: what was collected
 *
 * Return: 0.
 */
int cr_restore_fs(struct cr_ctx *ctx, struct cr_rst_task *rt)
{
	set_fs_pwd(current->fs, &rt->cwd);
	xchg(&current->fs->umask, rt->fs->umask & 0777);
	return 0;
}
