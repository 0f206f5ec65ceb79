// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checkpoint/restart of unix sockets.
 *
 * A socket is a SOCK record (type, state, name, options, its peer's tag)
 * right before the FILE record of its socket file.  Sockets without a
 * file that a socket of the container still refers to (a closed peer
 * whose bytes are not read yet, the sender of a queued datagram, a
 * connection not accepted yet) get a SOCK record of their own after the
 * last task, and so does every queued message (SOCK_MSG: the bytes not
 * read yet, its sender, its credentials and the files in flight with
 * it), in queue order.  Queues are read while the container is frozen,
 * from a snapshot of their skbs taken under the queue lock.
 *
 * Restart creates every socket when its record is read, binds it (a
 * stale socket file left at its path is replaced, a live one is not) and
 * makes it listen.  Once every task exists (so that the pids of
 * credentials resolve), and before any runs, it joins the connected
 * pairs, connects the clients of connections not accepted yet to their
 * listener in queue order, and queues every message again by sending it
 * from its sender through the normal send path, with the restarter's
 * credentials: the socket limits, the descriptor limits and the
 * credential checks of sendmsg() all apply to what an image may queue.
 * Then the options that sending would have changed, shutdown state and
 * pending errors are set, and the closed peers are closed again.
 */

#include <linux/checkpoint.h>
#include <linux/cred.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/net.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/un.h>
#include <linux/xarray.h>
#include <net/af_unix.h>
#include <net/scm.h>
#include <net/sock.h>

#define CR_SOCK_FILE_FLAGS	(O_ACCMODE | O_NONBLOCK)
#define CR_SUN_PATH_MAX		sizeof_field(struct sockaddr_un, sun_path)

/* A unix socket of a checkpoint. */
struct cr_usock {
	struct sock *sk;	/* held, or pinned by @skb */
	struct sk_buff *skb;	/* a message it sent, if it has no reference left */
	u32 tag;
	bool written;		/* its SOCK record is out */
	bool queued;		/* its queue is out */
	bool peer_ref;		/* a socket of the container is connected to it */
	u32 peer_of;		/* ... the tag of one such socket */
};

/* Unix sockets of a checkpoint or a restart. */
struct cr_usk {
	struct xarray socks;	/* checkpoint: tag -> struct cr_usock */
	unsigned long nr;	/* restart: sockets made */
	bool any;		/* restart: the image has sockets */
};

/*
 * Checkpoint: the objhash knows a unix socket by its struct sock, which
 * its struct cr_usock pins.
 */
const struct cr_obj_ops cr_obj_usock_ops = {
	.name = "unix socket",
	.grab = cr_obj_nop,
	.drop = cr_obj_nop,
};

static struct cr_usk *cr_usk(struct cr_ctx *ctx)
{
	if (!ctx->usk) {
		ctx->usk = kzalloc(sizeof(*ctx->usk), GFP_KERNEL_ACCOUNT);
		if (ctx->usk)
			xa_init(&ctx->usk->socks);
	}
	return ctx->usk;
}

/**
 * cr_unix_release() - free what checkpoint or restart kept of unix sockets
 * @ctx: the context, its objhash freed already or not
 */
void cr_unix_release(struct cr_ctx *ctx)
{
	struct cr_usock *us;
	unsigned long i;

	if (!ctx->usk)
		return;
	xa_for_each(&ctx->usk->socks, i, us) {
		if (us->skb)
			consume_skb(us->skb);
		else
			sock_put(us->sk);
		kfree(us);
	}
	xa_destroy(&ctx->usk->socks);
	kfree(ctx->usk);
	ctx->usk = NULL;
}

/*
 * The entry of @sk, with a tag, new if the socket was not seen yet.  A
 * closed sender that nobody refers to any more lives on only for the
 * messages it sent (sk_wmem_alloc): @via, one of them, pins it then.
 */
static struct cr_usock *cr_usock(struct cr_ctx *ctx, struct sock *sk, struct sk_buff *via)
{
	struct cr_usk *usk = cr_usk(ctx);
	struct cr_usock *us;
	bool new;
	int tag, ret;

	if (!usk)
		return ERR_PTR(-ENOMEM);
	tag = cr_obj_lookup_add(ctx->objhash, sk, &cr_obj_usock_ops, &new);
	if (tag < 0)
		return ERR_PTR(tag);
	if (!new) {
		us = xa_load(&usk->socks, tag);
		return us ?: ERR_PTR(-ENOENT);	/* its first lookup failed */
	}
	us = kzalloc(sizeof(*us), GFP_KERNEL_ACCOUNT);
	if (!us)
		return ERR_PTR(-ENOMEM);
	us->sk = sk;
	us->tag = tag;
	if (!refcount_inc_not_zero(&sk->sk_refcnt)) {
		if (!via) {	/* being freed: not a socket of anyone's */
			kfree(us);
			return ERR_PTR(-EBUSY);
		}
		us->skb = skb_get(via);
	}
	ret = xa_insert(&usk->socks, tag, us, GFP_KERNEL_ACCOUNT);
	if (ret) {
		if (us->skb)
			consume_skb(us->skb);
		else
			sock_put(sk);
		kfree(us);
		return ERR_PTR(ret);
	}
	return us;
}

/* "socket:[ino]" as /proc/PID/fd shows it, or what else it is. */
static char *cr_sock_name(struct sock *sk, char *buf, size_t len)
{
	if (sock_flag(sk, SOCK_DEAD))
		snprintf(buf, len, "a closed socket");
	else if (!READ_ONCE(sk->sk_socket))
		snprintf(buf, len, "a connection not accepted yet");
	else
		snprintf(buf, len, "socket:[%lu]", sock_i_ino(sk));
	return buf;
}

/* Is @sk reachable by its name (bound), not only named (accepted)? */
static bool cr_sock_bound(struct sock *sk, const struct unix_address *addr,
			  const struct path *path)
{
	if (!addr || sock_flag(sk, SOCK_DEAD))
		return false;
	if (addr->name->sun_path[0])
		return path->dentry && !hlist_unhashed(&sk->sk_bind_node);
	return sk->sk_hash > UNIX_HASH_MOD;
}

static u64 cr_timeo_us(long timeo)
{
	return timeo == MAX_SCHEDULE_TIMEOUT ? 0 : div_u64(jiffies_to_nsecs(timeo), NSEC_PER_USEC);
}

/* What of @sk the record keeps, read under its locks. */
struct cr_sock_snap {
	struct unix_address *addr;
	struct path path;
	struct sock *peer;	/* held */
	u8 state;
	u8 shutdown;
};

static void cr_sock_snap(struct sock *sk, struct cr_sock_snap *s)
{
	struct unix_sock *u = unix_sk(sk);

	unix_state_lock(sk);
	s->addr = smp_load_acquire(&u->addr);	/* freed only with the sock */
	s->path = u->path;
	path_get(&s->path);
	s->peer = unix_peer(sk);
	if (s->peer)
		sock_hold(s->peer);
	s->state = sk->sk_state;
	s->shutdown = sk->sk_shutdown;
	unix_state_unlock(sk);
}

static void cr_sock_snap_put(struct cr_sock_snap *s)
{
	path_put(&s->path);
	if (s->peer)
		sock_put(s->peer);
}

static void cr_sock_options(struct cr_ctx *ctx, struct sock *sk, struct cr_hdr_sock *h)
{
	struct socket *sock = READ_ONCE(sk->sk_socket);
	const struct cred *cred;
	struct pid *pid;

	if (sock && !(h->flags & CR_SOCK_GHOST)) {
		if (test_bit(SOCK_PASSCRED, &sock->flags))
			h->flags |= CR_SOCK_PASSCRED;
		if (test_bit(SOCK_PASSSEC, &sock->flags))
			h->flags |= CR_SOCK_PASSSEC;
		if (test_bit(SOCK_PASSPIDFD, &sock->flags))
			h->flags |= CR_SOCK_PASSPIDFD;
	}
	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK)
		h->flags |= CR_SOCK_SNDBUF_SET;
	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK)
		h->flags |= CR_SOCK_RCVBUF_SET;
	if (sock_flag(sk, SOCK_KEEPOPEN))
		h->flags |= CR_SOCK_KEEPALIVE;
	if (sock_flag(sk, SOCK_URGINLINE))
		h->flags |= CR_SOCK_OOBINLINE;
	if (sock_flag(sk, SOCK_LINGER)) {
		h->flags |= CR_SOCK_LINGER;
		h->linger = min_t(u64, READ_ONCE(sk->sk_lingertime) / HZ, INT_MAX);
	}
	h->sndbuf = READ_ONCE(sk->sk_sndbuf);
	h->rcvbuf = READ_ONCE(sk->sk_rcvbuf);
	h->rcvlowat = READ_ONCE(sk->sk_rcvlowat);
	h->peek_off = READ_ONCE(sk->sk_peek_off);
	h->sndtimeo_us = cr_timeo_us(READ_ONCE(sk->sk_sndtimeo));
	h->rcvtimeo_us = cr_timeo_us(READ_ONCE(sk->sk_rcvtimeo));
	h->priority = READ_ONCE(sk->sk_priority);
	h->err = READ_ONCE(sk->sk_err);

	spin_lock(&sk->sk_peer_lock);
	pid = sk->sk_peer_pid;
	cred = sk->sk_peer_cred;
	/* ids with no name here (overflowuid) are not given back */
	if (cred && from_kuid(current_user_ns(), cred->euid) != (uid_t)-1 &&
	    from_kgid(current_user_ns(), cred->egid) != (gid_t)-1) {
		h->flags |= CR_SOCK_PEERCRED;
		h->peer_pid = pid_nr_ns(pid, task_active_pid_ns(ctx->root));
		h->peer_uid = from_kuid(current_user_ns(), cred->euid);
		h->peer_gid = from_kgid(current_user_ns(), cred->egid);
	}
	spin_unlock(&sk->sk_peer_lock);
}

/* What a socket of the container may hold that is not saved: refused. */
static int cr_sock_supported(struct cr_ctx *ctx, struct sock *sk)
{
	const char *what = NULL;
	struct net *net = NULL;
	char name[64];

	task_lock(ctx->root);
	if (ctx->root->nsproxy)
		net = ctx->root->nsproxy->net_ns;
	if (!net || !net_eq(sock_net(sk), net))
		what = "a socket of another network namespace";
	task_unlock(ctx->root);
	if (rcu_access_pointer(sk->sk_filter))
		what = "a socket filter (SO_ATTACH_FILTER)";
	else if (sock_flag(sk, SOCK_RCVTSTAMP) || sock_flag(sk, SOCK_RCVTSTAMPNS) ||
		 READ_ONCE(sk->sk_tsflags))
		what = "receive timestamps (SO_TIMESTAMP*)";
	if (what)
		return cr_err(ctx, -EOPNOTSUPP, "%s: %s is not supported yet",
			      cr_sock_name(sk, name, sizeof(name)), what);
	return 0;
}

/*
 * The SOCK record of @us.  @flags: CR_SOCK_GHOST, CR_SOCK_EMBRYO (then
 * @listener is the listener's tag) or CR_SOCK_RESET.
 */
static int cr_write_sock_rec(struct cr_ctx *ctx, struct cr_usock *us, u32 flags, u32 listener)
{
	struct sock *sk = us->sk;
	struct cr_sock_snap s;
	struct cr_hdr_sock *h;
	char *buf = NULL, *path = NULL;
	size_t name_len = 0, path_len = 0, len;
	struct cr_usock *pu = NULL;
	char name[64];
	int ret = 0;

	if (sk->sk_type != SOCK_STREAM && sk->sk_type != SOCK_DGRAM &&
	    sk->sk_type != SOCK_SEQPACKET)
		return cr_err(ctx, -EOPNOTSUPP, "%s: unix socket of type %d",
			      cr_sock_name(sk, name, sizeof(name)), sk->sk_type);
#if IS_ENABLED(CONFIG_AF_UNIX_OOB)
	if (READ_ONCE(unix_sk(sk)->oob_skb) && !(flags & (CR_SOCK_GHOST | CR_SOCK_RESET)))
		return cr_err(ctx, -EOPNOTSUPP,
			      "%s holds an out-of-band byte (MSG_OOB): not supported yet",
			      cr_sock_name(sk, name, sizeof(name)));
#endif
	if (!(flags & (CR_SOCK_GHOST | CR_SOCK_RESET))) {
		ret = cr_sock_supported(ctx, sk);
		if (ret)
			return ret;
	}
	cr_sock_snap(sk, &s);
	if (flags & (CR_SOCK_GHOST | CR_SOCK_RESET)) {
		/* A closed socket has no peer; an outside one keeps ours if stream. */
		struct cr_usock *in = xa_load(&ctx->usk->socks, us->peer_of);

		if ((flags & CR_SOCK_RESET) && sk->sk_type != SOCK_DGRAM && in && s.peer == in->sk)
			pu = in;
		flags |= CR_SOCK_GHOST;
	} else if (s.peer) {
		pu = cr_usock(ctx, s.peer, NULL);
		if (IS_ERR(pu)) {
			ret = PTR_ERR(pu);
			goto out;
		}
		/* A stream peer, or where datagrams go: a connection. */
		if (!pu->peer_ref) {
			pu->peer_ref = true;
			pu->peer_of = us->tag;
		}
	}
	if (s.addr) {
		name_len = s.addr->len - offsetof(struct sockaddr_un, sun_path);
		/* what is not ours is only named, never bound again */
		if (!(flags & (CR_SOCK_GHOST | CR_SOCK_EMBRYO)) &&
		    cr_sock_bound(sk, s.addr, &s.path)) {
			flags |= CR_SOCK_BOUND;
			if (s.addr->name->sun_path[0]) {
				if (d_unlinked(s.path.dentry)) {
					ret = cr_err(ctx, -EOPNOTSUPP,
						     "%s is bound to a deleted path: not supported yet",
						     cr_sock_name(sk, name, sizeof(name)));
					goto out;
				}
				buf = kmalloc(CR_PATH_MAX, GFP_KERNEL);
				if (!buf) {
					ret = -ENOMEM;
					goto out;
				}
				path = cr_task_path(ctx->root, &s.path, buf, CR_PATH_MAX);
				if (IS_ERR(path)) {
					ret = cr_err(ctx, -EOPNOTSUPP,
						     "%s is bound to a path outside the container's root",
						     cr_sock_name(sk, name, sizeof(name)));
					goto out;
				}
				path_len = strlen(path) + 1;
				if (path_len > CR_SUN_PATH_MAX + 1) {
					ret = cr_err(ctx, -EOPNOTSUPP,
						     "%s: its socket file's path %s is too long for bind()",
						     cr_sock_name(sk, name, sizeof(name)), path);
					goto out;
				}
			}
		}
	}

	len = sizeof(*h) + name_len + path_len;
	h = cr_rec_get(ctx, CR_HDR_SOCK, len, us->tag, 0);
	if (!h) {
		ret = -ENOMEM;
		goto out;
	}
	h->type = sk->sk_type;
	h->flags = flags;
	h->listener_tag = listener;
	if (s.state == TCP_LISTEN && !(flags & CR_SOCK_GHOST)) {
		h->state = CR_SOCK_LISTEN;
		h->backlog = READ_ONCE(sk->sk_max_ack_backlog);
	} else if (pu) {
		h->state = CR_SOCK_CONNECTED;
		h->peer_tag = pu->tag;
	} else {
		h->state = CR_SOCK_UNCONNECTED;
	}
	if (s.shutdown & RCV_SHUTDOWN)
		h->shutdown |= CR_SHUT_RD;
	if (s.shutdown & SEND_SHUTDOWN)
		h->shutdown |= CR_SHUT_WR;
	cr_sock_options(ctx, sk, h);
	h->name_len = name_len;
	h->path_len = path_len;
	if (path_len)
		h->mode = d_inode(s.path.dentry)->i_mode;
	if (name_len)
		memcpy(h + 1, s.addr->name->sun_path, name_len);
	if (path_len)
		memcpy((u8 *)(h + 1) + name_len, path, path_len);
	cr_hbuf_put(ctx, len);
	us->written = true;
out:
	kfree(buf);
	cr_sock_snap_put(&s);
	return ret;
}

/**
 * cr_write_sock_file() - write the FILE record of a socket file
 * @ctx: checkpoint context
 * @file: the socket file, seen for the first time
 * @tag: its tag
 *
 * A unix socket's SOCK record comes first; other sockets are refused.
 *
 * Return: 0, -EOPNOTSUPP naming what is not supported, or -errno.
 */
int cr_write_sock_file(struct cr_ctx *ctx, struct file *file, u32 tag)
{
	struct socket *sock = sock_from_file(file);
	struct cr_hdr_file *h;
	struct cr_usock *us;
	int ret;

	if (!sock || !sock->sk || sock->sk->sk_family != AF_UNIX)
		return cr_err(ctx, -EOPNOTSUPP, "socket %pD (family %d): not supported yet",
			      file, sock && sock->sk ? sock->sk->sk_family : -1);
	us = cr_usock(ctx, sock->sk, NULL);
	if (IS_ERR(us))
		return PTR_ERR(us);
	if (us->written)	/* a socket has one file */
		return cr_err(ctx, -EINVAL, "socket %pD: a second file of one socket", file);
	ret = cr_write_sock_rec(ctx, us, 0, 0);
	if (ret)
		return ret;
	h = cr_rec_get(ctx, CR_HDR_FILE, sizeof(*h), tag, us->tag);
	if (!h)
		return -ENOMEM;
	h->kind = CR_FILE_SOCK;
	h->f_flags = file->f_flags & CR_SOCK_FILE_FLAGS;
	h->mode = file_inode(file)->i_mode;
	cr_hbuf_put(ctx, sizeof(*h));
	return 0;
}

/* The credentials of a queued message, as the record keeps them. */
static int cr_msg_creds(struct cr_ctx *ctx, struct cr_usock *us, struct sk_buff *skb,
			struct cr_hdr_sock_msg *m)
{
	struct socket *sock = READ_ONCE(us->sk->sk_socket);
	struct pid *pid = UNIXCB(skb).pid;
	char name[64];

	if (!pid)
		return 0;
	m->pid = pid_nr_ns(pid, task_active_pid_ns(ctx->root));
	m->uid = from_kuid(current_user_ns(), UNIXCB(skb).uid);
	m->gid = from_kgid(current_user_ns(), UNIXCB(skb).gid);
	if (m->pid && pid_has_task(pid, PIDTYPE_TGID) && m->uid != (uid_t)-1 &&
	    m->gid != (gid_t)-1) {
		m->flags |= CR_MSG_CREDS;
		return 0;
	}
	m->uid = 0;
	m->gid = 0;
	/* Nobody can read them back unless the receiver asks for them. */
	m->pid = 0;
	if (sock && (test_bit(SOCK_PASSCRED, &sock->flags) ||
		     test_bit(SOCK_PASSPIDFD, &sock->flags)))
		return cr_err(ctx, -EOPNOTSUPP,
			      "%s holds a message with the credentials of a process not in the container, or with no uid here: not supported yet",
			      cr_sock_name(us->sk, name, sizeof(name)));
	return 0;
}

/*
 * A queued skb as the queue capture saw it, under the socket's iolock:
 * the files in flight with it are held here, a reader outside may
 * detach them from the skb once the iolock is dropped.
 */
struct cr_qskb {
	struct sk_buff *skb;	/* a reference */
	struct file **files;	/* references */
	u32 nr_files;
	u32 off;		/* stream: bytes of it read already */
};

/* The SOCK_MSG record of @q, queued on @us. */
static int cr_write_sock_msg(struct cr_ctx *ctx, struct cr_usock *us, struct cr_qskb *q)
{
	struct sk_buff *skb = q->skb;
	unsigned int nr = q->nr_files, i;
	u32 off = 0, len = skb->len, *tags = NULL;
	struct cr_hdr_sock_msg *m, cm = {};
	struct cr_usock *su;
	char name[64];
	size_t rlen;
	int ret;

	if (us->sk->sk_type == SOCK_STREAM) {
		off = min(q->off, skb->len);
		len = skb->len - off;
		if (!len)	/* read already: an out-of-band byte's place */
			return 0;
	}
	if (!skb->sk)
		return cr_err(ctx, -EOPNOTSUPP, "%s holds a message without a sender",
			      cr_sock_name(us->sk, name, sizeof(name)));
	rlen = sizeof(*m) + nr * sizeof(u32) + len;
	if (rlen > CR_RECORD_MAX)
		return cr_err(ctx, -EOPNOTSUPP,
			      "%s holds a message of %u bytes, more than an image record",
			      cr_sock_name(us->sk, name, sizeof(name)), len);
	if (nr) {
		tags = kmalloc_array(nr, sizeof(*tags), GFP_KERNEL);
		if (!tags)
			return -ENOMEM;
	}
	for (i = 0, ret = 0; i < nr && !ret; i++)
		ret = cr_write_file(ctx, q->files[i], &tags[i]);
	su = ret ? NULL : cr_usock(ctx, skb->sk, skb);
	if (IS_ERR(su))
		ret = PTR_ERR(su);
	if (!ret)
		ret = cr_msg_creds(ctx, us, skb, &cm);
	m = ret ? NULL : cr_rec_get(ctx, CR_HDR_SOCK_MSG, rlen, 0, us->tag);
	if (!ret && !m)
		ret = -ENOMEM;
	if (ret) {
		kfree(tags);
		return ret;
	}
	m->sender_tag = su->tag;
	m->flags = cm.flags;
	m->len = len;
	m->nr_fds = nr;
	m->pid = cm.pid;
	m->uid = cm.uid;
	m->gid = cm.gid;
	if (nr)
		memcpy(m + 1, tags, nr * sizeof(u32));
	kfree(tags);
	ret = skb_copy_bits(skb, off, (u8 *)(m + 1) + nr * sizeof(u32), len);
	cr_hbuf_put(ctx, rlen);
	return ret;
}

static void cr_qskb_put(struct cr_qskb *v, unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < v[i].nr_files; j++)
			fput(v[i].files[j]);
		kfree(v[i].files);
		consume_skb(v[i].skb);
	}
	kvfree(v);
}

/*
 * The skbs queued on @sk, each with a reference, and the files in flight
 * with them; the container is frozen, so only senders outside may add
 * more meanwhile, after these.  Called with the socket's iolock held:
 * readers (outside, with a passed fd) detach files in flight under it.
 */
static struct cr_qskb *cr_sock_queue(struct sock *sk, unsigned int *nr)
{
	struct sk_buff_head *q = &sk->sk_receive_queue;
	unsigned int n = READ_ONCE(q->qlen), i = 0, j;
	struct scm_fp_list *fp;
	struct cr_qskb *v;
	struct sk_buff *skb;

	v = kvcalloc(max(n, 1U), sizeof(*v), GFP_KERNEL_ACCOUNT);
	if (!v)
		return NULL;
	spin_lock(&q->lock);
	skb_queue_walk(q, skb) {
		if (i == n)
			break;
		v[i].skb = skb_get(skb);
		v[i].off = UNIXCB(skb).consumed;
		i++;
	}
	spin_unlock(&q->lock);
	*nr = i;
	for (i = 0; i < *nr; i++) {
		fp = UNIXCB(v[i].skb).fp;
		if (!fp || !fp->count)
			continue;
		v[i].files = kmalloc_array(fp->count, sizeof(*v[i].files), GFP_KERNEL_ACCOUNT);
		if (!v[i].files) {
			cr_qskb_put(v, *nr);
			return NULL;
		}
		for (j = 0; j < fp->count; j++)
			v[i].files[j] = get_file(fp->fp[j]);
		v[i].nr_files = fp->count;
	}
	return v;
}

/* The queue of @us: messages, or a listener's connections not accepted. */
static int cr_write_sock_queue(struct cr_ctx *ctx, struct cr_usock *us)
{
	struct sock *sk = us->sk;
	struct cr_qskb *v;
	unsigned int n, i;
	int ret = 0;

	us->queued = true;
	/*
	 * The snapshot only under the iolock: records are written after it
	 * (writing may take a pipe's mutex, which splice takes before it).
	 */
	ret = mutex_lock_killable(&unix_sk(sk)->iolock);
	if (ret)
		return ret;
	v = cr_sock_queue(sk, &n);
	mutex_unlock(&unix_sk(sk)->iolock);
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++) {
		if (READ_ONCE(sk->sk_state) == TCP_LISTEN) {
			struct cr_usock *eu = cr_usock(ctx, v[i].skb->sk, v[i].skb);

			ret = IS_ERR(eu) ? PTR_ERR(eu) :
			      eu->written ? -EINVAL :
			      cr_write_sock_rec(ctx, eu, CR_SOCK_EMBRYO, us->tag);
		} else if (v[i].nr_files > CR_MSG_FDS_MAX) {
			ret = -EINVAL;
		} else {
			ret = cr_write_sock_msg(ctx, us, &v[i]);
		}
		cond_resched();
	}
	cr_qskb_put(v, n);
	return ret;
}

/**
 * cr_write_unix_queues() - write the sockets without a file and every queue
 * @ctx: checkpoint context, every task written
 *
 * The queues of the sockets written so far, and of those their messages
 * carry (in flight), until none is left; then the sockets only named: a
 * closed peer or sender is a ghost; a live one is outside the container:
 * with CHECKPOINT_SOCK_DISCONNECT a peer is saved as if it had crashed,
 * else the leak check refuses it (cr_sock_outside_peer()).
 *
 * Return: 0 or -errno, the reason recorded.
 */
int cr_write_unix_queues(struct cr_ctx *ctx)
{
	struct cr_usock *us;
	unsigned long i;
	bool more;
	int ret;

	if (!ctx->usk)
		return 0;
	do {
		more = false;
		xa_for_each(&ctx->usk->socks, i, us) {
			if (!us->written || us->queued)
				continue;
			ret = cr_write_sock_queue(ctx, us);
			if (ret)
				return ret;
			more = true;
		}
	} while (more);
	xa_for_each(&ctx->usk->socks, i, us) {
		if (us->written)
			continue;
		if (sock_flag(us->sk, SOCK_DEAD))
			ret = cr_write_sock_rec(ctx, us, CR_SOCK_GHOST, 0);
		else if (!us->peer_ref)
			ret = cr_write_sock_rec(ctx, us, CR_SOCK_GHOST, 0);
		else if (ctx->flags & CHECKPOINT_SOCK_DISCONNECT)
			ret = cr_write_sock_rec(ctx, us, CR_SOCK_RESET, 0);
		else
			ret = 0;	/* the leak check names it */
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * cr_sock_outside_peer() - is a socket the peer of one of the container
 *	without being of the container
 * @ctx: checkpoint context, cr_write_unix_queues() done
 * @sk: a socket of the objhash
 * @buf: room for the names of both, for a message
 * @len: bytes in @buf
 *
 * Return: true if so (@buf says which), false if @sk is fine.
 */
bool cr_sock_outside_peer(struct cr_ctx *ctx, void *sk, char *buf, size_t len)
{
	struct cr_usock *us, *in;
	char a[64], b[64];

	if (!ctx->usk)
		return false;
	us = xa_load(&ctx->usk->socks, cr_obj_tag(ctx->objhash, sk));
	if (!us || us->sk != sk || us->written || !us->peer_ref)
		return false;
	in = xa_load(&ctx->usk->socks, us->peer_of);
	snprintf(buf, len, "%s of the container is connected to %s",
		 in ? cr_sock_name(in->sk, a, sizeof(a)) : "a socket",
		 cr_sock_name(us->sk, b, sizeof(b)));
	return true;
}

/**
 * cr_sock_reaches() - is @file the socket @sk
 * @file: a file of a task outside the container
 * @sk: a socket of the objhash
 *
 * Return: true if @file is that socket's file.
 */
bool cr_sock_reaches(struct file *file, void *sk)
{
	struct socket *sock = sock_from_file(file);

	return sock && sock->sk == sk;
}

/* -- restart ---------------------------------------------------------------- */

/* A socket being rebuilt. */
struct cr_rst_sock {
	const struct cr_hdr_sock *h;
	struct socket *sock;	/* ours until its file exists, or until closed */
	struct file *file;	/* its file, our reference */
	struct sock *sk;	/* held; an embryo's once connected */
	u32 named_by;		/* the socket whose peer it is (checks) */
	bool paired;
};

static void cr_rst_sock_drop(void *ptr)
{
	struct cr_rst_sock *rs = ptr;

	if (rs->file)
		fput(rs->file);
	else if (rs->sock)
		sock_release(rs->sock);
	if (rs->sk)
		sock_put(rs->sk);
	kfree(rs);
}

static const struct cr_obj_ops cr_obj_rst_sock_ops = {
	.name = "unix socket",
	.grab = cr_obj_nop,
	.drop = cr_rst_sock_drop,
};

static const char *cr_sock_rec_name(const struct cr_hdr_sock *h)
{
	return (const char *)(h + 1);
}

static const char *cr_sock_rec_path(const struct cr_hdr_sock *h)
{
	return (const char *)(h + 1) + h->name_len;
}

/* Check a SOCK record on its own; the tags it names are checked later. */
static int cr_check_sock_rec(struct cr_ctx *ctx, const struct cr_hdr_sock *h)
{
	const char *name = cr_sock_rec_name(h), *path = cr_sock_rec_path(h);
	u32 f = h->flags;

	if (!h->h.tag || h->h.ptag)
		return cr_rec_err(ctx, -EBADMSG, "bad tags");
	if (h->type != SOCK_STREAM && h->type != SOCK_DGRAM && h->type != SOCK_SEQPACKET)
		return cr_rec_err(ctx, -EBADMSG, "unknown socket type %u", h->type);
	if (h->state < CR_SOCK_UNCONNECTED || h->state > CR_SOCK_CONNECTED ||
	    (f & ~CR_SOCK_FLAGS_ALL) || (h->shutdown & ~(CR_SHUT_RD | CR_SHUT_WR)))
		return cr_rec_err(ctx, -EBADMSG, "bad socket state %u, flags %#x, shutdown %#x",
				  h->state, f, h->shutdown);
	if ((u64)h->h.len < sizeof(*h) + (u64)h->name_len + h->path_len)
		return cr_rec_err(ctx, -EBADMSG, "record shorter than its contents");
	if ((h->state == CR_SOCK_CONNECTED ? !h->peer_tag : !!h->peer_tag) ||
	    (h->state == CR_SOCK_LISTEN &&
	     (h->type == SOCK_DGRAM || !(f & CR_SOCK_BOUND) || (f & CR_SOCK_GHOST))) ||
	    (h->peer_tag == h->h.tag && h->type != SOCK_DGRAM) ||
	    ((f & CR_SOCK_EMBRYO) &&
	     (h->type == SOCK_DGRAM || h->state != CR_SOCK_CONNECTED || !h->listener_tag ||
	      (f & (CR_SOCK_GHOST | CR_SOCK_BOUND | CR_SOCK_RESET)))) ||
	    (!(f & CR_SOCK_EMBRYO) && h->listener_tag) ||
	    ((f & CR_SOCK_GHOST) && (f & CR_SOCK_BOUND)) ||
	    ((f & CR_SOCK_RESET) && !(f & CR_SOCK_GHOST)))
		return cr_rec_err(ctx, -EBADMSG,
				  "socket state %u with flags %#x, peer %u, listener %u",
				  h->state, f, h->peer_tag, h->listener_tag);
	if (h->err < 0 || h->err >= MAX_ERRNO || h->peek_off < -1 ||
	    h->sndbuf > INT_MAX || h->rcvbuf > INT_MAX || h->rcvlowat > INT_MAX ||
	    h->backlog > INT_MAX || h->linger > INT_MAX || h->priority > INT_MAX ||
	    h->sndtimeo_us > (u64)INT_MAX * USEC_PER_SEC ||
	    h->rcvtimeo_us > (u64)INT_MAX * USEC_PER_SEC)
		return cr_rec_err(ctx, -EBADMSG, "bad socket option values");
	/* A path name has its NUL, even after 108 bytes of sun_path. */
	if (h->name_len > CR_SUN_PATH_MAX + 1 || ((f & CR_SOCK_BOUND) && !h->name_len) ||
	    (h->name_len && !name[0] && h->name_len > CR_SUN_PATH_MAX) ||
	    (h->name_len && name[0] && name[h->name_len - 1]))
		return cr_rec_err(ctx, -EBADMSG, "bad socket name of %u bytes", h->name_len);
	if (!(f & CR_SOCK_BOUND) || !name[0]) {
		if (h->path_len || h->mode)
			return cr_rec_err(ctx, -EBADMSG,
					  "a socket file for a socket not bound to a path");
		return 0;
	}
	if (h->path_len < 2 || h->path_len > CR_SUN_PATH_MAX + 1 || path[h->path_len - 1] ||
	    strlen(path) != h->path_len - 1 || path[0] != '/' || !S_ISSOCK(h->mode))
		return cr_rec_err(ctx, -EBADMSG, "bad socket file path or mode %#o", h->mode);
	return 0;
}

/* Remove the socket file a socket that is gone left at @path. */
static int cr_unlink_stale(struct cr_ctx *ctx, const char *path)
{
	struct path p, parent;
	struct dentry *d;
	int ret;

	ret = kern_path(path, 0, &p);
	if (ret)
		return ret == -ENOENT ? 0 : cr_rec_err(ctx, ret, "cannot look %s up: %pe", path,
						       ERR_PTR(ret));
	if (!S_ISSOCK(d_inode(p.dentry)->i_mode))
		ret = cr_rec_err(ctx, -EADDRINUSE, "%s exists and is not a socket", path);
	else if (unix_inode_bound(d_inode(p.dentry)))
		ret = cr_rec_err(ctx, -EADDRINUSE, "%s is in use by a live socket", path);
	else
		ret = mnt_want_write(p.mnt);
	if (ret) {
		path_put(&p);
		return ret;
	}
	/* As unlink(2): write access to the mount first, then the directory. */
	d = kern_path_locked(path, &parent);
	if (IS_ERR(d)) {
		ret = PTR_ERR(d);
	} else {
		if (d != p.dentry || parent.mnt != p.mnt)
			ret = -EBUSY;	/* changed meanwhile */
		else
			ret = security_path_unlink(&parent, d);
		if (!ret)
			ret = vfs_unlink(mnt_idmap(parent.mnt), d_inode(parent.dentry), d, NULL);
		inode_unlock(d_inode(parent.dentry));
		dput(d);
		path_put(&parent);
	}
	mnt_drop_write(p.mnt);
	path_put(&p);
	if (ret)
		cr_rec_err(ctx, ret, "cannot remove the stale socket file %s: %pe", path,
			   ERR_PTR(ret));
	return ret;
}

/* The mode its socket file had; the owner is the restarter. */
static int cr_sock_chmod(struct socket *sock, umode_t mode)
{
	struct unix_sock *u = unix_sk(sock->sk);
	struct dentry *d = u->path.dentry;
	struct iattr ia = { .ia_valid = ATTR_MODE | ATTR_CTIME };
	struct inode *inode = d_inode(d);
	int ret;

	if ((inode->i_mode & S_IALLUGO) == (mode & S_IALLUGO))
		return 0;
	ret = mnt_want_write(u->path.mnt);
	if (ret)
		return ret;
	inode_lock(inode);
	ia.ia_mode = (mode & S_IALLUGO) | (inode->i_mode & ~S_IALLUGO);
	ret = security_path_chmod(&u->path, ia.ia_mode);
	if (!ret)
		ret = notify_change(mnt_idmap(u->path.mnt), d, &ia, NULL);
	inode_unlock(inode);
	mnt_drop_write(u->path.mnt);
	return ret;
}

/*
 * The address a socket of the image binds to, or is reached at.  In a
 * sockaddr_storage, as bind(2) has it: unix_mkname_bsd() ends a path
 * with a NUL past a full sun_path.
 */
static int cr_sock_addr(const struct cr_hdr_sock *h, struct sockaddr_storage *ss)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;

	memset(ss, 0, sizeof(*ss));
	sun->sun_family = AF_UNIX;
	if (!cr_sock_rec_name(h)[0]) {
		memcpy(sun->sun_path, cr_sock_rec_name(h), h->name_len);
		return offsetof(struct sockaddr_un, sun_path) + h->name_len;
	}
	/* A path: the socket file's, from the container's root. */
	memcpy(sun->sun_path, cr_sock_rec_path(h), h->path_len);
	return offsetof(struct sockaddr_un, sun_path) +
	       min_t(u32, h->path_len, CR_SUN_PATH_MAX);
}

static int cr_sock_bind(struct cr_ctx *ctx, struct cr_rst_sock *rs)
{
	const struct cr_hdr_sock *h = rs->h;
	const char *path = h->path_len ? cr_sock_rec_path(h) : NULL;
	struct sockaddr_storage ss;
	int alen = cr_sock_addr(h, &ss), ret;

	if (path) {
		ret = cr_unlink_stale(ctx, path);
		if (ret)
			return ret;
	}
	ret = kernel_bind(rs->sock, (struct sockaddr *)&ss, alen);
	if (ret && path)
		return cr_rec_err(ctx, ret, "cannot bind a socket to %s: %pe", path, ERR_PTR(ret));
	if (ret)
		return cr_rec_err(ctx, ret, "cannot bind a socket to its abstract name: %pe",
				  ERR_PTR(ret));
	return 0;
}

/* Give an unbound socket a name, as accept() gives its listener's. */
static int cr_sock_set_name(struct socket *sock, const struct cr_hdr_sock *h)
{
	struct unix_sock *u = unix_sk(sock->sk);
	struct unix_address *addr;
	int len = offsetof(struct sockaddr_un, sun_path) + h->name_len;

	addr = kmalloc(sizeof(*addr) + len, GFP_KERNEL_ACCOUNT);
	if (!addr)
		return -ENOMEM;
	refcount_set(&addr->refcnt, 1);
	addr->len = len;
	addr->name->sun_family = AF_UNIX;
	/* a path name may run one byte past sun_path, as unix_create_addr() copies */
	memcpy((u8 *)addr->name + offsetof(struct sockaddr_un, sun_path), cr_sock_rec_name(h),
	       h->name_len);
	/* Not in any table: only getsockname() and its peers see it. */
	mutex_lock(&u->bindlock);
	if (u->addr) {
		mutex_unlock(&u->bindlock);
		kfree(addr);
		return -EINVAL;
	}
	/* pairs with the smp_load_acquire() of getsockname() and recvmsg() */
	smp_store_release(&u->addr, addr);
	mutex_unlock(&u->bindlock);
	return 0;
}

static int cr_sock_setopt(struct socket *sock, int opt, const void *val, unsigned int len)
{
	return sock_setsockopt(sock, SOL_SOCKET, opt, KERNEL_SOCKPTR((void *)val), len);
}

static int cr_sock_setopt_int(struct socket *sock, int opt, int val)
{
	return cr_sock_setopt(sock, opt, &val, sizeof(val));
}

static int cr_sock_setopt_timeo(struct socket *sock, int opt, u64 us)
{
	struct __kernel_sock_timeval tv = {
		.tv_sec = div_u64(us, USEC_PER_SEC),
		.tv_usec = us % USEC_PER_SEC,
	};

	return cr_sock_setopt(sock, opt, &tv, sizeof(tv));
}

/* Options that limit what may be queued, and those sending ignores. */
static int cr_sock_set_options(struct cr_ctx *ctx, struct cr_rst_sock *rs)
{
	const struct cr_hdr_sock *h = rs->h;
	struct socket *sock = rs->sock;
	struct linger lg = { .l_onoff = 1, .l_linger = h->linger };
	const char *what;
	int ret = 0;

	if (h->flags & CR_SOCK_SNDBUF_SET) {
		what = "SO_SNDBUF";
		ret = cr_sock_setopt_int(sock, SO_SNDBUF, h->sndbuf / 2);
	}
	if (!ret && (h->flags & CR_SOCK_RCVBUF_SET)) {
		what = "SO_RCVBUF";
		ret = cr_sock_setopt_int(sock, SO_RCVBUF, h->rcvbuf / 2);
	}
	if (!ret && h->rcvlowat != 1) {
		what = "SO_RCVLOWAT";
		ret = cr_sock_setopt_int(sock, SO_RCVLOWAT, h->rcvlowat);
	}
	if (!ret && h->sndtimeo_us) {
		what = "SO_SNDTIMEO";
		ret = cr_sock_setopt_timeo(sock, SO_SNDTIMEO_NEW, h->sndtimeo_us);
	}
	if (!ret && h->rcvtimeo_us) {
		what = "SO_RCVTIMEO";
		ret = cr_sock_setopt_timeo(sock, SO_RCVTIMEO_NEW, h->rcvtimeo_us);
	}
	if (!ret && h->priority) {
		what = "SO_PRIORITY";
		ret = cr_sock_setopt_int(sock, SO_PRIORITY, h->priority);
	}
	if (!ret && (h->flags & CR_SOCK_KEEPALIVE)) {
		what = "SO_KEEPALIVE";
		ret = cr_sock_setopt_int(sock, SO_KEEPALIVE, 1);
	}
	if (!ret && (h->flags & CR_SOCK_OOBINLINE)) {
		what = "SO_OOBINLINE";
		ret = cr_sock_setopt_int(sock, SO_OOBINLINE, 1);
	}
	if (!ret && (h->flags & CR_SOCK_LINGER)) {
		what = "SO_LINGER";
		ret = cr_sock_setopt(sock, SO_LINGER, &lg, sizeof(lg));
	}
	if (ret)
		return cr_rec_err(ctx, ret, "cannot set %s of a socket: %pe", what, ERR_PTR(ret));
	return 0;
}

/**
 * cr_read_sock() - create the unix socket of a SOCK record
 * @ctx: restart context
 * @r: the record, consumed already
 *
 * The socket is created in the caller's network namespace with its
 * credentials, bound and made to listen as it was; a connection not
 * accepted yet is only remembered (cr_restore_socks() connects it).
 *
 * Return: 0, -EBADMSG for a bad record, -EADDRINUSE if its path or name
 * is taken, or the error of creating, binding or setting up the socket.
 */
int cr_read_sock(struct cr_ctx *ctx, const struct cr_rec *r)
{
	const struct cr_hdr_sock *h = (const struct cr_hdr_sock *)r->h;
	struct cr_rst_sock *rs;
	int ret;

	ret = cr_check_sock_rec(ctx, h);
	if (ret)
		return ret;
	if (!cr_usk(ctx))
		return -ENOMEM;
	ctx->usk->any = true;
	/* Those without a file too: no more sockets than the caller may open. */
	if (ctx->usk->nr >= rlimit(RLIMIT_NOFILE))
		return cr_rec_err(ctx, -EMFILE, "more sockets than the fd limit %lu",
				  rlimit(RLIMIT_NOFILE));
	ctx->usk->nr++;
	rs = kzalloc(sizeof(*rs), GFP_KERNEL_ACCOUNT);
	if (!rs)
		return -ENOMEM;
	rs->h = h;
	ret = cr_obj_insert(ctx->objhash, h->h.tag, rs, &cr_obj_rst_sock_ops);
	if (ret) {
		kfree(rs);
		return ret == -EEXIST ? cr_rec_err(ctx, -EBADMSG, "tag %u defined twice",
						   h->h.tag) : ret;
	}
	if (h->flags & CR_SOCK_EMBRYO)
		return 0;
	ret = sock_create(AF_UNIX, h->type, 0, &rs->sock);
	if (ret) {
		rs->sock = NULL;
		return cr_rec_err(ctx, ret, "cannot create a unix socket: %pe", ERR_PTR(ret));
	}
	rs->sk = rs->sock->sk;
	sock_hold(rs->sk);
	if (h->flags & CR_SOCK_BOUND)
		ret = cr_sock_bind(ctx, rs);
	else if (h->name_len)
		ret = cr_sock_set_name(rs->sock, h);
	if (!ret && h->state == CR_SOCK_LISTEN) {
		int max = READ_ONCE(sock_net(rs->sk)->core.sysctl_somaxconn);

		ret = kernel_listen(rs->sock, min_t(u32, h->backlog, max));
		if (ret)
			cr_rec_err(ctx, ret, "cannot listen: %pe", ERR_PTR(ret));
	}
	if (!ret)
		ret = cr_sock_set_options(ctx, rs);
	return ret;
}

/**
 * cr_read_sock_file() - the file of a unix socket made by cr_read_sock()
 * @ctx: restart context
 * @h: the FILE record (CR_FILE_SOCK)
 *
 * Return: the file, with a reference for the caller, or ERR_PTR:
 * -EBADMSG for a bad record, or the error of making the file.
 */
struct file *cr_read_sock_file(struct cr_ctx *ctx, const struct cr_hdr_file *h)
{
	struct cr_rst_sock *rs;
	struct file *file;

	if (h->path_len || h->stdio_fd || h->pos || h->rdev || !S_ISSOCK(h->mode) ||
	    (h->f_flags & ~CR_SOCK_FILE_FLAGS) || (h->f_flags & O_ACCMODE) != O_RDWR)
		return ERR_PTR(cr_rec_err(ctx, -EBADMSG, "bad socket file: flags %#x, mode %#o",
					  h->f_flags, h->mode));
	rs = cr_obj_fetch(ctx->objhash, h->h.ptag, &cr_obj_rst_sock_ops);
	if (IS_ERR(rs) || !rs->sock || rs->file || (rs->h->flags & CR_SOCK_GHOST))
		return ERR_PTR(cr_rec_err(ctx, -EBADMSG,
					  "socket tag %u is not a socket of the image without a file",
					  h->h.ptag));
	file = sock_alloc_file(rs->sock, h->f_flags & O_NONBLOCK, NULL);
	if (IS_ERR(file)) {
		rs->sock = NULL;	/* released by sock_alloc_file() */
		cr_rec_err(ctx, PTR_ERR(file), "cannot make a socket file: %pe", file);
		return file;
	}
	rs->file = file;
	return get_file(file);
}

/**
 * cr_read_sock_msg() - check a SOCK_MSG record; it is queued later
 * @ctx: restart context
 * @r: the record, consumed already
 *
 * Return: 0, or -EBADMSG for a bad record.
 */
int cr_read_sock_msg(struct cr_ctx *ctx, const struct cr_rec *r)
{
	const struct cr_hdr_sock_msg *m = (const struct cr_hdr_sock_msg *)r->h;

	if (m->h.tag || !m->h.ptag || !m->sender_tag || (m->flags & ~CR_MSG_FLAGS_ALL) ||
	    m->nr_fds > CR_MSG_FDS_MAX || m->__pad ||
	    (!(m->flags & CR_MSG_CREDS) && (m->pid || m->uid || m->gid)) ||
	    ((m->flags & CR_MSG_CREDS) && m->pid <= 0))
		return cr_rec_err(ctx, -EBADMSG, "bad message: flags %#x, %u fds, pid %d",
				  m->flags, m->nr_fds, m->pid);
	if ((u64)m->h.len < sizeof(*m) + (u64)m->nr_fds * sizeof(u32) + m->len)
		return cr_rec_err(ctx, -EBADMSG, "record shorter than its contents");
	if (!ctx->usk || !ctx->usk->any)
		return cr_rec_err(ctx, -EBADMSG, "a message before any socket");
	return 0;
}

static struct cr_rst_sock *cr_rst_sock(struct cr_ctx *ctx, u32 tag)
{
	struct cr_rst_sock *rs = cr_obj_fetch(ctx->objhash, tag, &cr_obj_rst_sock_ops);

	return IS_ERR(rs) ? NULL : rs;
}

/*
 * Make @other where the datagram socket @sk sends (NULL: nowhere), as
 * connect() does but without dropping what @sk holds: both are sockets
 * of the restart that no task can reach yet.
 */
static void cr_dgram_set_peer(struct sock *sk, struct sock *other)
{
	struct sock *old;

	if (unix_peer(sk) == other)
		return;
	if (other) {
		sock_hold(other);
		unix_state_lock(other);
		WRITE_ONCE(other->sk_state, TCP_ESTABLISHED);
		unix_state_unlock(other);
	}
	/* one lock at a time: these sockets are restart's own */
	unix_state_lock(sk);
	old = unix_peer(sk);
	unix_peer(sk) = other;
	WRITE_ONCE(sk->sk_state, other ? TCP_ESTABLISHED : TCP_CLOSE);
	unix_state_unlock(sk);
	if (old)
		sock_put(old);
}

/* The steps of cr_restore_socks(), each over every socket in image order. */
enum cr_sock_step {
	CR_STEP_VALIDATE,	/* before any task: the sockets fit together */
	CR_STEP_QUIET,		/* nothing came from outside meanwhile */
	CR_STEP_PAIR,		/* join the pairs */
	CR_STEP_EMBRYO,		/* queue connections not accepted on their listener */
	CR_STEP_CHECK,		/* every socket made and connected */
	CR_STEP_FINISH,		/* (messages queued) options, state */
	CR_STEP_TARGETS,	/* datagram sockets others send to: connected */
	CR_STEP_CLOSE,		/* close the closed */
};

static int cr_sock_step_all(struct cr_ctx *ctx, enum cr_sock_step step);

/*
 * May the caller give these credentials to another, as sendmsg() checks
 * SCM_CREDENTIALS: its own pid or CAP_SYS_ADMIN over the pid namespace,
 * ids it has or CAP_SETUID / CAP_SETGID.
 */
static bool cr_may_claim(pid_t pid, u32 uid_nr, u32 gid_nr)
{
	const struct cred *cur = current_cred();
	kuid_t uid = make_kuid(cur->user_ns, uid_nr);
	kgid_t gid = make_kgid(cur->user_ns, gid_nr);

	if (!uid_valid(uid) || !gid_valid(gid))
		return false;
	if (pid > 0 && pid != task_tgid_vnr(current) &&
	    !ns_capable(task_active_pid_ns(current)->user_ns, CAP_SYS_ADMIN))
		return false;
	if (!uid_eq(uid, cur->uid) && !uid_eq(uid, cur->euid) && !uid_eq(uid, cur->suid) &&
	    !ns_capable(cur->user_ns, CAP_SETUID))
		return false;
	return gid_eq(gid, cur->gid) || gid_eq(gid, cur->egid) || gid_eq(gid, cur->sgid) ||
	       ns_capable(cur->user_ns, CAP_SETGID);
}

/* Are SO_PEERCRED's given back: in the image, of a peer that was not outside? */
static bool cr_sock_has_peercred(struct cr_ctx *ctx, const struct cr_hdr_sock *h)
{
	struct cr_rst_sock *ps = cr_rst_sock(ctx, h->peer_tag);

	return (h->flags & CR_SOCK_PEERCRED) && !(ps && (ps->h->flags & CR_SOCK_RESET));
}

/* Claim @ps as the peer of @h's socket: one socket only may name it. */
static int cr_claim_peer(struct cr_ctx *ctx, const struct cr_hdr_sock *h, struct cr_rst_sock *ps)
{
	if (ps->named_by && ps->named_by != h->h.tag)
		return cr_err(ctx, -EBADMSG,
			      "restart: sockets %u and %u both name %u as their peer",
			      ps->named_by, h->h.tag, ps->h->h.tag);
	ps->named_by = h->h.tag;
	return 0;
}

/*
 * Does the socket of @rs fit with the sockets it names?  Checked once
 * every record is read, before any task is created; the steps after
 * rely on it.
 */
static int cr_validate_sock(struct cr_ctx *ctx, struct cr_rst_sock *rs)
{
	const struct cr_hdr_sock *h = rs->h;
	struct cr_rst_sock *ps = cr_rst_sock(ctx, h->peer_tag);
	struct cr_rst_sock *l;

	if (!(h->flags & (CR_SOCK_GHOST | CR_SOCK_EMBRYO)) && !rs->file)
		return cr_err(ctx, -EBADMSG, "restart: socket %u has no file", h->h.tag);
	if (cr_sock_has_peercred(ctx, h) && !cr_may_claim(h->peer_pid, h->peer_uid, h->peer_gid))
		return cr_err(ctx, -EPERM,
			      "restart: socket %u: its peer's credentials are not the restarter's to give",
			      h->h.tag);
	/* A bound socket is reachable from its bind(): refuse what came in. */
	if (rs->sk && skb_queue_len_lockless(&rs->sk->sk_receive_queue))
		return cr_err(ctx, -EBUSY,
			      "restart: socket %u got messages or connections from outside while it was restored",
			      h->h.tag);
	if (h->state != CR_SOCK_CONNECTED)
		return 0;
	if (!ps || ps->h->type != h->type)
		return cr_err(ctx, -EBADMSG, "restart: socket %u: peer %u is no socket of its type",
			      h->h.tag, h->peer_tag);
	if (h->type == SOCK_DGRAM)
		return 0;
	if (h->flags & CR_SOCK_EMBRYO) {
		l = cr_rst_sock(ctx, h->listener_tag);
		if (!l || l->h->type != h->type || l->h->state != CR_SOCK_LISTEN ||
		    (ps->h->flags & CR_SOCK_EMBRYO) ||
		    !(ps->h->peer_tag == h->h.tag ||
		      ((ps->h->flags & CR_SOCK_GHOST) && !ps->h->peer_tag)))
			return cr_err(ctx, -EBADMSG,
				      "restart: connection %u: client %u or listener %u do not match",
				      h->h.tag, h->peer_tag, h->listener_tag);
		return cr_claim_peer(ctx, h, ps);
	}
	if (ps->h->flags & CR_SOCK_EMBRYO) {
		if (ps->h->peer_tag != h->h.tag)
			return cr_err(ctx, -EBADMSG,
				      "restart: socket %u: connection %u is another socket's",
				      h->h.tag, h->peer_tag);
		return cr_claim_peer(ctx, h, ps);
	}
	if (ps->h->peer_tag != h->h.tag &&
	    !((ps->h->flags & CR_SOCK_GHOST) && !ps->h->peer_tag))
		return cr_err(ctx, -EBADMSG,
			      "restart: sockets %u and %u are not each other's peers",
			      h->h.tag, h->peer_tag);
	return cr_claim_peer(ctx, h, ps);
}

/* Can message @m be queued again: its sockets, files and credentials? */
static int cr_validate_msg(struct cr_ctx *ctx, const struct cr_hdr_sock_msg *m)
{
	struct cr_rst_sock *rs = cr_rst_sock(ctx, m->h.ptag);
	struct cr_rst_sock *ss = cr_rst_sock(ctx, m->sender_tag);
	const u32 *tags = (const u32 *)(m + 1);
	unsigned int i;

	if (!rs || !ss || rs->h->type != ss->h->type || (ss->h->flags & CR_SOCK_EMBRYO) ||
	    (rs->h->flags & CR_SOCK_GHOST) || rs->h->state == CR_SOCK_LISTEN ||
	    (rs->h->type != SOCK_DGRAM && rs->h->peer_tag != m->sender_tag))
		return cr_err(ctx, -EBADMSG,
			      "restart: message from socket %u to socket %u: no such pair",
			      m->sender_tag, m->h.ptag);
	for (i = 0; i < m->nr_fds; i++)
		if (IS_ERR(cr_obj_fetch(ctx->objhash, tags[i], &cr_obj_file_ops)))
			return cr_err(ctx, -EBADMSG,
				      "restart: a message carries file %u, not one of the image",
				      tags[i]);
	if ((m->flags & CR_MSG_CREDS) && !cr_tree_has_process(ctx, m->pid))
		return cr_err(ctx, -EBADMSG,
			      "restart: a message has the credentials of pid %d, no process of the image",
			      m->pid);
	if ((m->flags & CR_MSG_CREDS) && !cr_may_claim(m->pid, m->uid, m->gid))
		return cr_err(ctx, -EPERM,
			      "restart: a message to socket %u has credentials that are not the restarter's to give",
			      m->h.ptag);
	return 0;
}

/**
 * cr_check_socks() - do the sockets and messages of the image fit together
 * @ctx: restart context, every record read, no task created yet
 *
 * What cr_restore_socks() relies on, checked while a failure still
 * leaves the caller as it was.
 *
 * Return: 0, or -EBADMSG naming what does not fit.
 */
int cr_check_socks(struct cr_ctx *ctx)
{
	size_t i;
	int ret;

	if (!ctx->usk || !ctx->usk->any)
		return 0;
	ret = cr_sock_step_all(ctx, CR_STEP_VALIDATE);
	for (i = 0; !ret && i < ctx->nr_recs; i++)
		if (ctx->recs[i].h->type == CR_HDR_SOCK_MSG)
			ret = cr_validate_msg(ctx, (const struct cr_hdr_sock_msg *)ctx->recs[i].h);
	return ret;
}

/* Join the connected stream and seqpacket sockets that name each other. */
static int cr_pair_socks(struct cr_ctx *ctx, struct cr_rst_sock *rs)
{
	const struct cr_hdr_sock *h = rs->h;
	struct cr_rst_sock *ps;
	int ret;

	if (h->type == SOCK_DGRAM || h->state != CR_SOCK_CONNECTED || rs->paired ||
	    (h->flags & CR_SOCK_EMBRYO))
		return 0;
	ps = cr_rst_sock(ctx, h->peer_tag);
	if (!ps || ps->h->type != h->type)
		return cr_err(ctx, -EBADMSG, "restart: socket %u: peer %u is no socket of its type",
			      h->h.tag, h->peer_tag);
	if (ps->h->flags & CR_SOCK_EMBRYO)
		return 0;	/* connected to its listener later */
	if (ps == rs)
		return cr_err(ctx, -EBADMSG, "restart: socket %u is its own peer", h->h.tag);
	if (ps->paired || (ps->h->peer_tag != h->h.tag &&
			   !((ps->h->flags & CR_SOCK_GHOST) && !ps->h->peer_tag)))
		return cr_err(ctx, -EBADMSG,
			      "restart: sockets %u and %u are not each other's peers",
			      h->h.tag, h->peer_tag);
	ret = rs->sock->ops->socketpair(rs->sock, ps->sock);
	if (ret)
		return cr_err(ctx, ret, "restart: cannot connect sockets %u and %u: %pe",
			      h->h.tag, h->peer_tag, ERR_PTR(ret));
	rs->paired = true;
	ps->paired = true;
	return 0;
}

/* Queue the connection @e on its listener, from its client. */
static int cr_connect_embryo(struct cr_ctx *ctx, struct cr_rst_sock *e)
{
	const struct cr_hdr_sock *h = e->h;
	struct cr_rst_sock *c = cr_rst_sock(ctx, h->peer_tag);
	struct cr_rst_sock *l = cr_rst_sock(ctx, h->listener_tag);
	struct sockaddr_storage ss;
	bool ours;
	int ret, alen;

	if (!c || !l || c->h->type != h->type || l->h->type != h->type ||
	    (c->h->flags & CR_SOCK_EMBRYO) || c->paired || l->h->state != CR_SOCK_LISTEN ||
	    !(c->h->peer_tag == h->h.tag ||
	      ((c->h->flags & CR_SOCK_GHOST) && !c->h->peer_tag)))
		return cr_err(ctx, -EBADMSG,
			      "restart: connection %u: client %u or listener %u do not match",
			      h->h.tag, h->peer_tag, h->listener_tag);
	alen = cr_sock_addr(l->h, &ss);
	ret = kernel_connect(c->sock, (struct sockaddr *)&ss, alen, O_NONBLOCK);
	if (ret)
		return cr_err(ctx, ret == -EAGAIN ? -ENOSPC : ret,
			      "restart: cannot queue connection %u on socket %u (its backlog is %u): %pe",
			      h->h.tag, h->listener_tag, l->h->backlog, ERR_PTR(ret));
	unix_state_lock(c->sk);
	e->sk = unix_peer(c->sk);
	sock_hold(e->sk);
	unix_state_unlock(c->sk);
	c->paired = true;
	e->paired = true;
	/* The name leads to our listener unless someone took it meanwhile. */
	unix_state_lock(e->sk);
	ours = unix_sk(e->sk)->listener == l->sk;
	unix_state_unlock(e->sk);
	if (!ours)
		return cr_err(ctx, -EBUSY,
			      "restart: the name of socket %u was taken while it was restored",
			      h->listener_tag);
	return 0;
}

/* Put the files of a message in the caller's fd table, for SCM_RIGHTS. */
static int cr_msg_install_fds(struct cr_ctx *ctx, const struct cr_hdr_sock_msg *m, int *fds)
{
	const u32 *tags = (const u32 *)(m + 1);
	struct file *file;
	unsigned int i;

	for (i = 0; i < m->nr_fds; i++) {
		file = cr_obj_fetch(ctx->objhash, tags[i], &cr_obj_file_ops);
		if (IS_ERR(file))
			return cr_err(ctx, -EBADMSG,
				      "restart: a message carries file %u, not one of the image",
				      tags[i]);
		fds[i] = get_unused_fd_flags(O_CLOEXEC);
		if (fds[i] < 0)
			return cr_err(ctx, fds[i], "restart: no fd for a file in flight: %pe",
				      ERR_PTR(fds[i]));
		fd_install(fds[i], get_file(file));
	}
	return 0;
}

/* Send message @m again, from its sender, to the socket it was queued on. */
static int cr_queue_msg(struct cr_ctx *ctx, const struct cr_hdr_sock_msg *m)
{
	struct cr_rst_sock *rs = cr_rst_sock(ctx, m->h.ptag);
	struct cr_rst_sock *ss = cr_rst_sock(ctx, m->sender_tag);
	size_t clen = CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * m->nr_fds);
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	struct kvec kv = {
		.iov_base = (void *)((const u32 *)(m + 1) + m->nr_fds),
		.iov_len = m->len,
	};
	struct cmsghdr *cmsg;
	struct sock *r, *s;
	unsigned int i;
	int *fds, ret;
	void *cbuf;

	if (!rs || !ss || !rs->sk || !ss->sock || rs->h->type != ss->h->type ||
	    (rs->h->flags & CR_SOCK_GHOST) || rs->h->state == CR_SOCK_LISTEN)
		return cr_err(ctx, -EBADMSG,
			      "restart: message from socket %u to socket %u: no such pair",
			      m->sender_tag, m->h.ptag);
	r = rs->sk;
	s = ss->sk;
	if (rs->h->type != SOCK_DGRAM && unix_peer(r) != s)
		return cr_err(ctx, -EBADMSG, "restart: message to socket %u from %u, not its peer",
			      m->h.ptag, m->sender_tag);
	if (rs->h->type == SOCK_DGRAM) {
		struct cr_rst_sock *fin = cr_rst_sock(ctx, rs->h->peer_tag);

		/* Its own peer only is not limited by the receiver's queue length. */
		cr_dgram_set_peer(r, fin == ss ? s : NULL);
		cr_dgram_set_peer(s, r);
		if (unix_peer(r) != s &&
		    skb_queue_len_lockless(&r->sk_receive_queue) > READ_ONCE(r->sk_max_ack_backlog))
			return cr_err(ctx, -ENOSPC,
				      "restart: more datagrams queued on socket %u than its limit of %u (net.unix.max_dgram_qlen)",
				      m->h.ptag, READ_ONCE(r->sk_max_ack_backlog));
	}

	cbuf = kzalloc(clen + sizeof(int) * m->nr_fds, GFP_KERNEL);
	if (!cbuf)
		return -ENOMEM;
	fds = cbuf + clen;
	for (i = 0; i < m->nr_fds; i++)
		fds[i] = -1;
	msg.msg_control = cbuf;
	msg.msg_controllen = clen;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (m->flags & CR_MSG_CREDS) {
		struct ucred uc = { .pid = m->pid, .uid = m->uid, .gid = m->gid };

		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_CREDENTIALS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(uc));
		memcpy(CMSG_DATA(cmsg), &uc, sizeof(uc));
		cmsg = CMSG_NXTHDR(&msg, cmsg);
	}
	ret = cr_msg_install_fds(ctx, m, fds);
	if (!ret && m->nr_fds) {
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * m->nr_fds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * m->nr_fds);
		cmsg = CMSG_NXTHDR(&msg, cmsg);
	}
	msg.msg_controllen = cmsg ? (void *)cmsg - cbuf : clen;
	if (!msg.msg_controllen)
		msg.msg_control = NULL;
	if (!ret) {
		ret = kernel_sendmsg(ss->sock, &msg, &kv, 1, m->len);
		if (ret >= 0 && ret != m->len)
			ret = -ENOSPC;
		if (ret < 0)
			ret = cr_err(ctx, ret == -EAGAIN ? -ENOSPC : ret,
				     "restart: cannot queue %u bytes on socket %u from socket %u: %pe",
				     m->len, m->h.ptag, m->sender_tag, ERR_PTR(ret));
		else
			ret = 0;
	}
	for (i = 0; i < m->nr_fds; i++)
		if (fds[i] >= 0)
			close_fd(fds[i]);
	kfree(cbuf);
	return ret;
}

/* SO_PEERCRED as it was, within what the restarter may claim. */
static int cr_sock_set_peercred(struct cr_ctx *ctx, struct cr_rst_sock *rs)
{
	const struct cr_hdr_sock *h = rs->h;
	struct sock *sk = rs->sk;
	const struct cred *cur = current_cred(), *old_cred;
	kuid_t uid = make_kuid(cur->user_ns, h->peer_uid);
	kgid_t gid = make_kgid(cur->user_ns, h->peer_gid);
	struct pid *pid = NULL, *old_pid;
	struct cred *cred = NULL;

	/*
	 * What the restore itself set (the restarter's) is no peer's: none
	 * if the image has none, or its peer was outside and is gone.
	 */
	if (!cr_sock_has_peercred(ctx, h)) {
		cur = NULL;
	} else {
		if (!cr_may_claim(h->peer_pid, h->peer_uid, h->peer_gid))
			return cr_err(ctx, -EPERM,
				      "restart: socket %u: its peer's credentials are not the restarter's to give",
				      h->h.tag);
		if (h->peer_pid > 0)
			pid = find_get_pid(h->peer_pid);
	}
	if (cur && (!uid_eq(uid, cur->euid) || !gid_eq(gid, cur->egid))) {
		cred = prepare_creds();
		if (!cred) {
			put_pid(pid);
			return -ENOMEM;
		}
		cred->euid = uid;
		cred->egid = gid;
	}
	spin_lock(&sk->sk_peer_lock);
	old_pid = sk->sk_peer_pid;
	old_cred = sk->sk_peer_cred;
	sk->sk_peer_pid = pid;
	sk->sk_peer_cred = cred ?: cur ? get_current_cred() : NULL;
	spin_unlock(&sk->sk_peer_lock);
	put_pid(old_pid);
	if (old_cred)
		put_cred(old_cred);
	return 0;
}

/* What sending would have changed, and the socket's final state. */
static int cr_sock_finish(struct cr_ctx *ctx, struct cr_rst_sock *rs)
{
	const struct cr_hdr_sock *h = rs->h;
	struct sock *sk = rs->sk;
	u8 shut = 0;
	int ret = 0;

	if (h->type == SOCK_DGRAM) {
		struct cr_rst_sock *ps = h->peer_tag ? cr_rst_sock(ctx, h->peer_tag) : NULL;

		if (h->peer_tag && (!ps || ps->h->type != SOCK_DGRAM || !ps->sk))
			return cr_err(ctx, -EBADMSG,
				      "restart: socket %u sends to %u, no datagram socket",
				      h->h.tag, h->peer_tag);
		/* as connect() asks the LSM */
		if (ps && rs->sock && ps->sock) {
			ret = security_unix_may_send(rs->sock, ps->sock);
			if (ret)
				return cr_err(ctx, ret,
					      "restart: socket %u may not send to %u: %pe",
					      h->h.tag, h->peer_tag, ERR_PTR(ret));
		}
		cr_dgram_set_peer(sk, ps ? ps->sk : NULL);
		unix_state_lock(sk);
		WRITE_ONCE(sk->sk_state, ps ? TCP_ESTABLISHED : TCP_CLOSE);
		unix_state_unlock(sk);
	}
	if (rs->sock) {
		if (h->flags & CR_SOCK_PASSCRED)
			ret = cr_sock_setopt_int(rs->sock, SO_PASSCRED, 1);
		if (!ret && (h->flags & CR_SOCK_PASSSEC))
			ret = cr_sock_setopt_int(rs->sock, SO_PASSSEC, 1);
		if (!ret && (h->flags & CR_SOCK_PASSPIDFD))
			ret = cr_sock_setopt_int(rs->sock, SO_PASSPIDFD, 1);
		if (!ret && h->peek_off >= 0)
			ret = cr_sock_setopt_int(rs->sock, SO_PEEK_OFF, h->peek_off);
		if (ret)
			return cr_err(ctx, ret, "restart: cannot set the options of socket %u: %pe",
				      h->h.tag, ERR_PTR(ret));
	}
	ret = cr_sock_set_peercred(ctx, rs);
	if (ret)
		return ret;
	/* Its mode once connections to it are made again: they need write access. */
	if ((h->flags & CR_SOCK_BOUND) && h->path_len && rs->sock) {
		ret = cr_sock_chmod(rs->sock, h->mode);
		if (ret)
			return cr_err(ctx, ret, "restart: cannot give %s mode %#o: %pe",
				      cr_sock_rec_path(h), h->mode, ERR_PTR(ret));
	}
	if (h->shutdown & CR_SHUT_RD)
		shut |= RCV_SHUTDOWN;
	if (h->shutdown & CR_SHUT_WR)
		shut |= SEND_SHUTDOWN;
	unix_state_lock(sk);
	WRITE_ONCE(sk->sk_shutdown, shut);
	WRITE_ONCE(sk->sk_err, h->err);
	unix_state_unlock(sk);
	return 0;
}

/* Close a socket that was closed, or was the outside end of a connection. */
static int cr_sock_close_ghost(struct cr_ctx *ctx, struct cr_rst_sock *rs)
{
	struct cr_rst_sock *ps = NULL;
	struct sock *peer;

	if (!(rs->h->flags & CR_SOCK_GHOST) || !rs->sock)
		return 0;
	if ((rs->h->flags & CR_SOCK_RESET) && rs->h->type != SOCK_DGRAM && rs->h->peer_tag)
		ps = cr_rst_sock(ctx, rs->h->peer_tag);
	sock_release(rs->sock);
	rs->sock = NULL;
	if (!ps || !ps->sk)
		return 0;
	/* As if that peer had crashed with bytes not read: a reset. */
	peer = ps->sk;
	unix_state_lock(peer);
	WRITE_ONCE(peer->sk_shutdown, SHUTDOWN_MASK);
	WRITE_ONCE(peer->sk_err, ECONNRESET);
	unix_state_unlock(peer);
	peer->sk_state_change(peer);
	return 0;
}

static int cr_sock_step(struct cr_ctx *ctx, struct cr_rst_sock *rs, enum cr_sock_step step)
{
	const struct cr_hdr_sock *h = rs->h;

	switch (step) {
	case CR_STEP_VALIDATE:
		return cr_validate_sock(ctx, rs);
	case CR_STEP_QUIET:
		/* A bound socket is reachable from its bind(): refuse what came in. */
		if (rs->sk && skb_queue_len_lockless(&rs->sk->sk_receive_queue))
			return cr_err(ctx, -EBUSY,
				      "restart: socket %u got messages or connections from outside while it was restored",
				      h->h.tag);
		return 0;
	case CR_STEP_PAIR:
		return cr_pair_socks(ctx, rs);
	case CR_STEP_EMBRYO:
		return (h->flags & CR_SOCK_EMBRYO) ? cr_connect_embryo(ctx, rs) : 0;
	case CR_STEP_CHECK:
		if (!(h->flags & (CR_SOCK_GHOST | CR_SOCK_EMBRYO)) && !rs->file)
			return cr_err(ctx, -EBADMSG, "restart: socket %u has no file", h->h.tag);
		if (h->type != SOCK_DGRAM && h->state == CR_SOCK_CONNECTED && !rs->paired)
			return cr_err(ctx, -EBADMSG,
				      "restart: socket %u: its peer %u does not name it",
				      h->h.tag, h->peer_tag);
		return 0;
	case CR_STEP_FINISH:
		return rs->sk ? cr_sock_finish(ctx, rs) : 0;
	case CR_STEP_TARGETS:
		if (h->type == SOCK_DGRAM && unix_peer(rs->sk)) {
			struct sock *other = unix_peer(rs->sk);

			unix_state_lock(other);
			WRITE_ONCE(other->sk_state, TCP_ESTABLISHED);
			unix_state_unlock(other);
		}
		return 0;
	case CR_STEP_CLOSE:
		return cr_sock_close_ghost(ctx, rs);
	}
	return -EINVAL;
}

static int cr_sock_step_all(struct cr_ctx *ctx, enum cr_sock_step step)
{
	struct cr_rst_sock *rs;
	size_t i;
	int ret;

	for (i = 0; i < ctx->nr_recs; i++) {
		if (ctx->recs[i].h->type != CR_HDR_SOCK)
			continue;
		rs = cr_rst_sock(ctx, ctx->recs[i].h->tag);
		if (!rs || rs->h != (const void *)ctx->recs[i].h)
			return cr_err(ctx, -EBADMSG, "restart: socket %u was not read",
				      ctx->recs[i].h->tag);
		ret = cr_sock_step(ctx, rs, step);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * cr_restore_socks() - connect the sockets and queue their messages again
 * @ctx: restart context, every task created, none running yet
 *
 * Return: 0, -EBADMSG if the sockets of the image do not fit together,
 * -ENOSPC if queued messages or connections exceed the limits of the
 * restored sockets, -EPERM if credentials in the image are not the
 * restarter's to give, or the error of connecting or sending; the reason
 * is recorded.
 */
int cr_restore_socks(struct cr_ctx *ctx)
{
	size_t i;
	int ret;

	if (!ctx->usk || !ctx->usk->any)
		return 0;
	ret = cr_sock_step_all(ctx, CR_STEP_QUIET);
	if (!ret)
		ret = cr_sock_step_all(ctx, CR_STEP_PAIR);
	if (!ret)
		ret = cr_sock_step_all(ctx, CR_STEP_EMBRYO);
	if (!ret)
		ret = cr_sock_step_all(ctx, CR_STEP_CHECK);
	for (i = 0; !ret && i < ctx->nr_recs; i++) {
		if (ctx->recs[i].h->type == CR_HDR_SOCK_MSG)
			ret = cr_queue_msg(ctx, (const struct cr_hdr_sock_msg *)ctx->recs[i].h);
		cond_resched();
	}
	if (!ret)
		ret = cr_sock_step_all(ctx, CR_STEP_FINISH);
	if (!ret)
		ret = cr_sock_step_all(ctx, CR_STEP_TARGETS);
	if (!ret)
		ret = cr_sock_step_all(ctx, CR_STEP_CLOSE);
	return ret;
}
