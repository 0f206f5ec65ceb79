// SPDX-License-Identifier: GPL-2.0
/*
 * Unix sockets: containers fill their queues with known bytes, are
 * checkpointed, killed and restarted; the restored processes then read
 * every byte back, check it, and check what else the restored sockets say
 * of themselves (SIOCINQ, SIOCOUTQ, names, options, errors, EOF, EPIPE).
 *
 * Cases: a stream socketpair with bytes queued both ways; datagram and
 * seqpacket socketpairs (message boundaries, truncation); a listener bound
 * to a path with connections not accepted yet (their order, bytes and
 * backlog); datagrams from path-bound, abstract-bound and unbound senders
 * (the sender addresses); processes blocked in accept(), recv() and
 * read(); shutdown(SHUT_WR), a peer closed with or without unread bytes
 * (EOF, ECONNRESET); socket options and fd flags; files in flight
 * (SCM_RIGHTS: a pipe, a regular file, one file three times, a socket
 * sent through itself, a cycle, a datagram with files); credentials in
 * flight (SCM_CREDENTIALS); a peer outside the container (EBUSY, or a
 * reset with CHECKPOINT_SOCK_DISCONNECT); a request/response conversation
 * that goes on with no gap nor duplicate; a pending connection whose
 * client is gone; a socket file's path that fills sun_path (108 bytes, no
 * NUL); a receive timestamp (SO_TIMESTAMP: refused, the container goes
 * on); a datagram receiver whose connected sender is closed and which is
 * itself connected to another.
 *
 * The processes of a container wait for UT_GO, which the test creates
 * once the container is restarted; each then runs its checks and says
 * "ok NAME" or "FAIL NAME: ..." in UT_RES; the restored init reaps its
 * children, checks how each ended, and exits 0 if all went well.  Every
 * wait in the container is bounded (a few seconds), so that a broken
 * restore fails instead of hanging.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cr_test.h"
#include "../kselftest_harness.h"

#ifndef SIOCINQ
#define SIOCINQ		FIONREAD
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ	TIOCOUTQ
#endif
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD	76
#endif

#define UT_DIR		CR_TEST_DIR "/unix"
#define UT_GO		UT_DIR "/go"
#define UT_READY	UT_DIR "/ready"
#define UT_RES		UT_DIR "/res"
#define UT_IMG		UT_DIR "/image"
#define UT_FILE		UT_DIR "/file"
#define UT_SRV		UT_DIR "/srv.sock"
#define UT_ACC		UT_DIR "/acc.sock"
#define UT_DGS		UT_DIR "/dgs.sock"
#define UT_XSRV		UT_DIR "/xsrv.sock"
#define UT_CONV		UT_DIR "/conv.sock"
#define UT_GONE		UT_DIR "/gone.sock"

#define UT_WAIT_MS	5000	/* one step in the container */
#define UT_REAP_MS	15000	/* a child's end, once init waits for it */
#define UT_READY_MS	15000	/* the container set up */
#define UT_FINISH_MS	25000	/* the restored container's end */
#define UT_TIMEOUT	60	/* the harness's, per test */

/* -- in the container --------------------------------------------------------- */

static const char *ut_who = "ut-init";
volatile uint64_t ut_counter;
static int ut_tpid;	/* the test's pid: abstract names of its own */
static int ut_failed;

/* "FAIL who: ..." in the results: the process will exit 1. */
static void __attribute__((format(printf, 1, 2))) ut_note(const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cr_line(UT_RES, "FAIL %s: %s\n", ut_who, msg);
	ut_failed = 1;
}

/* A check that the process goes on after... */
#define UT_EXPECT(cond, fmt, ...) do {						\
	if (!(cond))								\
		ut_note("line %d: %s: " fmt, __LINE__, #cond, ##__VA_ARGS__);	\
} while (0)

/* ...and one that ends it. */
#define UT_CHECK(cond, fmt, ...) do {						\
	if (!(cond)) {								\
		ut_note("line %d: %s: " fmt, __LINE__, #cond, ##__VA_ARGS__);	\
		_exit(1);							\
	}									\
} while (0)

/* @expr again while it fails with EINTR (said in the results: it should not). */
#define UT_RETRY(expr) ({							\
	long __r;								\
	while ((__r = (expr)) < 0 && errno == EINTR)				\
		cr_line(UT_RES, "info %s: %s returned EINTR\n", ut_who, #expr);	\
	__r;									\
})

static void ut_ready(void)
{
	cr_line(UT_READY, "%s\n", ut_who);
}

static void ut_wait_go(void)
{
	while (access(UT_GO, F_OK))
		cr_msleep(10);
}

/* A step done, for the other processes of the container: UT_DIR/m-@name. */
static void ut_mark(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), UT_DIR "/m-%s", name);
	UT_CHECK(!cr_write_str(path, "1"), "%s: %m", path);
}

static void ut_await(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), UT_DIR "/m-%s", name);
	UT_CHECK(!cr_wait_file(path, 2 * UT_WAIT_MS), "no '%s' within %d s", name,
		 2 * UT_WAIT_MS / 1000);
}

/* Leave only what checkpoint supports, and the @n fds of @keep. */
static void ut_enter(const int *keep, int n)
{
	cr_quiet_fds_keepv(keep, n);
	prctl(PR_SET_NAME, ut_who);
}

/* fork() a child named @name that runs @fn(@arg), then says "ok". */
static pid_t ut_spawn(const char *name, void (*fn)(long), long arg)
{
	pid_t c = fork();

	UT_CHECK(c >= 0, "fork: %m");
	if (c == 0) {
		ut_who = name;
		prctl(PR_SET_NAME, name);
		fn(arg);
		if (ut_failed)
			_exit(1);
		cr_line(UT_RES, "ok %s\n", name);
		_exit(0);
	}
	return c;
}

/* Reap @pid, which must exit 0 within UT_REAP_MS (else it is killed). */
static void ut_reap(pid_t pid, const char *name)
{
	int st, ms;
	pid_t r;

	for (ms = 0;; ms += 10) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		UT_CHECK(r == 0 || errno == EINTR, "waitpid %s: %m", name);
		if (ms >= UT_REAP_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			UT_CHECK(0, "%s still running %d s on: killed", name, UT_REAP_MS / 1000);
		}
		cr_msleep(10);
	}
	UT_CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "%s ended with status %#x", name, st);
}

/* The end of init once its children are reaped: 0, or 1 if a check failed. */
static int ut_done(void)
{
	if (ut_failed)
		return 1;
	cr_line(UT_RES, "ok %s\n", ut_who);
	return 0;
}

/* poll() for @events within @ms: the revents, 0 on timeout, -1. */
static int ut_poll(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	double end = cr_now() + ms / 1000.0;
	int n;

	for (;;) {
		n = poll(&p, 1, ms);
		if (n >= 0)
			return n ? p.revents : 0;
		if (errno != EINTR)
			return -1;
		cr_line(UT_RES, "info %s: poll returned EINTR\n", ut_who);
		ms = (end - cr_now()) * 1000;
		if (ms < 0)
			ms = 0;
	}
}

/* Something to read (or EOF, or an error) on @fd within UT_WAIT_MS. */
static void ut_wait_in(int fd, const char *what)
{
	UT_CHECK(ut_poll(fd, POLLIN, UT_WAIT_MS) > 0, "%s: nothing to read within %d s", what,
		 UT_WAIT_MS / 1000);
}

/* send() sizes in turn: several skbs, some partly read. */
static const size_t ut_chunk[] = { 1, 99, 900, 2000, 4096, 30000, 65536 };

/*
 * Send @len bytes of @seed from @pos in ut_chunk pieces, with @flags
 * (MSG_DONTWAIT before a checkpoint: the queue must take them), or write()
 * them if @flags < 0 (a pipe).
 */
static void ut_send_pat(int fd, uint64_t seed, uint64_t pos, size_t len, int flags)
{
	static uint8_t buf[65536];
	unsigned int i = 0;
	size_t done = 0, n, off;
	ssize_t w;

	while (done < len) {
		n = ut_chunk[i++ % ARRAY_SIZE(ut_chunk)];
		if (n > len - done)
			n = len - done;
		cr_pattern(buf, n, seed, pos + done);
		for (off = 0; off < n; off += w) {
			w = UT_RETRY(flags < 0 ? write(fd, buf + off, n - off) :
				     send(fd, buf + off, n - off, flags | MSG_NOSIGNAL));
			UT_CHECK(w > 0, "send of byte %zu of %zu: %m", done + off, len);
		}
		done += n;
	}
}

/* Read exactly @len bytes of @seed from @pos; EOF, an error or 5 s of nothing fail. */
static void ut_recv_pat(int fd, uint64_t seed, uint64_t pos, size_t len, const char *what)
{
	static uint8_t buf[65536];
	size_t done = 0;
	ssize_t r;
	long bad;

	while (done < len) {
		ut_wait_in(fd, what);
		r = UT_RETRY(read(fd, buf, len - done < sizeof(buf) ? len - done : sizeof(buf)));
		UT_CHECK(r > 0, "%s: read at byte %zu of %zu: %zd (%m)", what, done, len, r);
		bad = cr_mismatch(buf, r, seed, pos + done);
		UT_CHECK(bad < 0, "%s: byte %zu of %zu is %#x, expected %#x", what, done + bad, len,
			 buf[bad], cr_pat_byte(seed, pos + done + bad));
		done += r;
	}
}

/* One datagram or record of @len bytes of @seed from @pos. */
static void ut_send_msg(int fd, size_t len, uint64_t seed, uint64_t pos, int flags)
{
	static uint8_t buf[70000];
	ssize_t n;

	cr_pattern(buf, len, seed, pos);
	n = UT_RETRY(send(fd, buf, len, flags | MSG_NOSIGNAL));
	UT_CHECK(n == (ssize_t)len, "send of %zu bytes: %zd (%m)", len, n);
}

static void ut_sendto_msg(int fd, size_t len, uint64_t seed, uint64_t pos,
			  const struct sockaddr_un *sa, socklen_t sl)
{
	static uint8_t buf[4096];
	ssize_t n;

	cr_pattern(buf, len, seed, pos);
	n = UT_RETRY(sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (void *)sa, sl));
	UT_CHECK(n == (ssize_t)len, "sendto of %zu bytes: %zd (%m)", len, n);
}

/* The next read of @fd says EOF (within 5 s). */
static void ut_expect_eof(int fd, const char *what)
{
	char c;
	int n;

	ut_wait_in(fd, what);
	n = UT_RETRY(read(fd, &c, 1));
	UT_CHECK(n == 0, "%s: read returned %d (%m), expected EOF", what, n);
}

/* The next read of @fd fails with @err. */
static void ut_expect_rderr(int fd, int err, const char *what)
{
	char c;
	int n;

	ut_wait_in(fd, what);
	errno = 0;
	n = UT_RETRY(read(fd, &c, 1));
	UT_CHECK(n < 0 && errno == err, "%s: read returned %d (%m), expected %s", what, n,
		 strerror(err));
}

static void ut_expect_epipe(int fd, const char *what)
{
	ssize_t n;

	errno = 0;
	n = send(fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	UT_CHECK(n < 0 && errno == EPIPE, "%s: send returned %zd (%m), expected EPIPE", what, n);
}

/* Nothing (more) queued: a nonblocking read says EAGAIN. */
static void ut_expect_empty(int fd, const char *what)
{
	char c;
	ssize_t n;

	errno = 0;
	n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
	UT_CHECK(n < 0 && errno == EAGAIN, "%s: recv returned %zd (%m), expected EAGAIN", what, n);
}

static int ut_nread(int fd)
{
	int n = -1;

	if (ioctl(fd, SIOCINQ, &n))
		return -errno;
	return n;
}

static int ut_outq(int fd)
{
	int n = -1;

	if (ioctl(fd, SIOCOUTQ, &n))
		return -errno;
	return n;
}

static int ut_intopt(int fd, int opt)
{
	socklen_t l = sizeof(int);
	int v = -1;

	UT_CHECK(!getsockopt(fd, SOL_SOCKET, opt, &v, &l), "getsockopt %d: %m", opt);
	return v;
}

static void ut_setint(int fd, int opt, int v)
{
	UT_CHECK(!setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)), "setsockopt %d: %m", opt);
}

static void ut_check_type(int fd, int type)
{
	UT_CHECK(ut_intopt(fd, SO_DOMAIN) == AF_UNIX && ut_intopt(fd, SO_TYPE) == type,
		 "fd %d: domain %d, type %d, expected AF_UNIX, %d", fd, ut_intopt(fd, SO_DOMAIN),
		 ut_intopt(fd, SO_TYPE), type);
}

static struct ucred ut_peercred(int fd)
{
	struct ucred uc = { -1, -1, -1 };
	socklen_t l = sizeof(uc);

	UT_CHECK(!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &l) && l == sizeof(uc),
		 "SO_PEERCRED: %m");
	return uc;
}

static void ut_check_peercred(int fd, const struct ucred *before, const char *what)
{
	struct ucred now = ut_peercred(fd);

	UT_CHECK(now.pid == before->pid && now.uid == before->uid && now.gid == before->gid,
		 "%s: SO_PEERCRED pid %d uid %u gid %u, before %d %u %u", what, now.pid, now.uid,
		 now.gid, before->pid, before->uid, before->gid);
}

/* -- addresses ------------------------------------------------------------------ */

/*
 * The address of @name, @len bytes: a path (its length with the NUL, as
 * getsockname() gives it), an abstract name (leading NUL), or unbound
 * (@len 0: only the family).
 */
static socklen_t ut_sa(struct sockaddr_un *sa, const char *name, size_t len)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, name, len);
	return offsetof(struct sockaddr_un, sun_path) + len + (len && name[0] ? 1 : 0);
}

static socklen_t ut_sa_path(struct sockaddr_un *sa, const char *path)
{
	return ut_sa(sa, path, strlen(path));
}

/* "\0cr-test-<test pid>@suffix": its length. */
static size_t ut_abstract(char *buf, size_t size, const char *suffix)
{
	buf[0] = '\0';
	snprintf(buf + 1, size - 1, "cr-test-%d%s", ut_tpid, suffix);
	return 1 + strlen(buf + 1);
}

/* Printable: an abstract name's NUL as '@'. */
static const char *ut_sa_str(char *buf, size_t size, const struct sockaddr_un *sa, socklen_t sl)
{
	size_t n = sl > offsetof(struct sockaddr_un, sun_path) ?
		   sl - offsetof(struct sockaddr_un, sun_path) : 0, i;

	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		buf[i] = sa->sun_path[i] ? sa->sun_path[i] : '@';
	buf[n] = '\0';
	return buf;
}

static int ut_same_sa(const struct sockaddr_un *a, socklen_t al, const struct sockaddr_un *b,
		      socklen_t bl)
{
	if (al != bl)
		return 0;
	if (al <= offsetof(struct sockaddr_un, sun_path))
		return 1;
	return a->sun_family == b->sun_family &&
	       !memcmp(a->sun_path, b->sun_path, al - offsetof(struct sockaddr_un, sun_path));
}

/* getsockname() (or getpeername(), @peer) of @fd is @name of @len bytes. */
static void ut_check_name(int fd, int peer, const char *name, size_t len, const char *what)
{
	struct sockaddr_un sa, want;
	socklen_t l = sizeof(sa), wl = ut_sa(&want, name, len);
	char b1[128], b2[128];

	memset(&sa, 0, sizeof(sa));
	UT_CHECK(!(peer ? getpeername(fd, (void *)&sa, &l) : getsockname(fd, (void *)&sa, &l)),
		 "%s: %s: %m", what, peer ? "getpeername" : "getsockname");
	UT_CHECK(ut_same_sa(&sa, l, &want, wl), "%s: %s gives %u bytes '%s', expected %u bytes '%s'",
		 what, peer ? "getpeername" : "getsockname", l, ut_sa_str(b1, sizeof(b1), &sa, l),
		 wl, ut_sa_str(b2, sizeof(b2), &want, wl));
}

/* accept() one connection already queued (within 5 s): from an unbound client. */
static int ut_accept(int l, int i)
{
	struct sockaddr_un sa;
	socklen_t sl = sizeof(sa);
	int a;

	UT_CHECK(ut_poll(l, POLLIN, UT_WAIT_MS) > 0, "connection %d: none to accept within %d s",
		 i, UT_WAIT_MS / 1000);
	a = UT_RETRY(accept4(l, (void *)&sa, &sl, 0));
	UT_CHECK(a >= 0, "connection %d: accept: %m", i);
	UT_CHECK(sl == offsetof(struct sockaddr_un, sun_path), "connection %d: address of %u bytes",
		 i, sl);
	return a;
}

/* -- messages with control data ------------------------------------------------------ */

#define UT_MAX_FDS	16

struct ut_msg {
	int fds[UT_MAX_FDS], nfds;
	int cred;		/* an SCM_CREDENTIALS came */
	struct ucred uc;
	int tstamp;		/* an SCM_TIMESTAMP came */
	int flags;		/* msg_flags */
	struct sockaddr_un sa;	/* msg_name */
	socklen_t salen;
};

/* sendmsg() @len bytes of @buf with @nfds @fds and @cred, if any. */
static ssize_t ut_sendmsg(int fd, const void *buf, size_t len, const int *fds, int nfds,
			  const struct ucred *cred, int flags)
{
	union {
		char b[CMSG_SPACE(UT_MAX_FDS * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	size_t cl = 0;

	memset(&u, 0, sizeof(u));
	if (nfds || cred) {
		m.msg_control = u.b;
		m.msg_controllen = sizeof(u.b);
		c = CMSG_FIRSTHDR(&m);
		if (nfds) {
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
			memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
			cl += CMSG_SPACE(nfds * sizeof(int));
			c = CMSG_NXTHDR(&m, c);
		}
		if (cred) {
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_CREDENTIALS;
			c->cmsg_len = CMSG_LEN(sizeof(*cred));
			memcpy(CMSG_DATA(c), cred, sizeof(*cred));
			cl += CMSG_SPACE(sizeof(*cred));
		}
		m.msg_controllen = cl;
	}
	return UT_RETRY(sendmsg(fd, &m, flags | MSG_NOSIGNAL));
}

/* sendmsg() of @len bytes of @seed from @pos, with files or credentials. */
static void ut_sendmsg_pat(int fd, size_t len, uint64_t seed, uint64_t pos, const int *fds,
			   int nfds, const struct ucred *cred)
{
	static uint8_t buf[4096];
	ssize_t n;

	cr_pattern(buf, len, seed, pos);
	n = ut_sendmsg(fd, buf, len, fds, nfds, cred, MSG_DONTWAIT);
	UT_CHECK(n == (ssize_t)len, "sendmsg of %zu bytes with %d fds: %zd (%m)", len, nfds, n);
}

/* recvmsg() (within 5 s unless MSG_DONTWAIT) into @buf, its control data in @m. */
static ssize_t ut_recvmsg(int fd, void *buf, size_t len, struct ut_msg *m, int flags)
{
	union {
		char b[CMSG_SPACE(UT_MAX_FDS * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred)) + 64];
		struct cmsghdr align;
	} u;
	struct iovec iov = { buf, len };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;
	int k;

	memset(m, 0, sizeof(*m));
	h.msg_name = &m->sa;
	h.msg_namelen = sizeof(m->sa);
	h.msg_control = u.b;
	h.msg_controllen = sizeof(u.b);
	if (!(flags & MSG_DONTWAIT))
		ut_wait_in(fd, "recvmsg");
	n = UT_RETRY(recvmsg(fd, &h, flags));
	if (n < 0)
		return n;
	m->flags = h.msg_flags;
	m->salen = h.msg_namelen;
	for (c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_RIGHTS) {
			k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (k > UT_MAX_FDS - m->nfds)
				k = UT_MAX_FDS - m->nfds;
			memcpy(m->fds + m->nfds, CMSG_DATA(c), k * sizeof(int));
			m->nfds += k;
		} else if (c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&m->uc, CMSG_DATA(c), sizeof(m->uc));
			m->cred = 1;
		} else if (c->cmsg_type == SCM_TIMESTAMP) {
			m->tstamp = 1;
		}
	}
	return n;
}

/*
 * The next message on @fd is @len bytes of @seed from @pos with @nfds
 * files (left in @m); nothing truncated.
 */
static void ut_expect_msg(int fd, size_t len, uint64_t seed, uint64_t pos, int nfds,
			  struct ut_msg *m, const char *what)
{
	static uint8_t buf[4096];
	ssize_t n;
	long bad;

	n = ut_recvmsg(fd, buf, sizeof(buf), m, 0);
	UT_CHECK(n == (ssize_t)len, "%s: recvmsg returned %zd (%m), expected %zu", what, n, len);
	bad = cr_mismatch(buf, n, seed, pos);
	UT_CHECK(bad < 0, "%s: byte %ld is %#x, expected %#x", what, bad, buf[bad],
		 cr_pat_byte(seed, pos + bad));
	UT_CHECK(m->nfds == nfds, "%s: %d files, expected %d", what, m->nfds, nfds);
	UT_CHECK(!(m->flags & (MSG_TRUNC | MSG_CTRUNC)), "%s: msg_flags %#x", what, m->flags);
}

static uint64_t ut_pos(const int *len, int n)
{
	uint64_t pos = 0;
	int i;

	for (i = 0; i < n; i++)
		pos += len[i];
	return pos;
}

/* -- the test's view ------------------------------------------------------------- */

struct ut_env {
	int cg;
	char cgpath[128];
	char why[512];
	pid_t init;		/* host pid of the container's init, or -1 */
};

static void ut_env_setup(struct ut_env *e)
{
	char path[300];
	struct dirent *de;
	DIR *d;

	mkdir(CR_TEST_DIR, 0755);
	mkdir(UT_DIR, 0755);
	d = opendir(UT_DIR);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", UT_DIR, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	e->cg = cr_cgroup(e->cgpath, sizeof(e->cgpath));
	e->init = -1;
	ut_tpid = getpid();
}

static void ut_env_teardown(struct ut_env *e)
{
	if (e->init > 0)
		cr_kill_wait(e->init);
	cr_cgroup_remove(e->cgpath);
	close(e->cg);
}

/*
 * Wait up to @ms for the descendant of @root named @name to sleep in the
 * system call @nr or @nr2: 0, or -1 with what it was doing in @msg.
 */
static int ut_wait_blocked(pid_t root, const char *name, int nr, int nr2, int ms, char *msg,
			   size_t len)
{
	char path[64], sc[256], st[512];
	pid_t pid = -1;
	char *p;

	snprintf(msg, len, "no process %s", name);
	for (; ms > 0; ms -= 50, cr_msleep(50)) {
		if (pid < 0)
			pid = cr_find_below(root, name);
		if (pid < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
		if (cr_read_str(path, sc, sizeof(sc)) <= 0)
			sc[0] = '\0';
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if (cr_read_str(path, st, sizeof(st)) <= 0)
			st[0] = '\0';
		p = strrchr(st, ')');
		snprintf(msg, len, "%s (pid %d): state %c, syscall '%.40s'", name, pid,
			 p && p[1] ? p[2] : '?', sc);
		if (p && p[1] && p[2] == 'S' && sc[0] >= '0' && sc[0] <= '9' &&
		    (atoi(sc) == nr || atoi(sc) == nr2))
			return 0;
	}
	return -1;
}

/* Start @fn as a container; wait for @ready of its processes to be set up. */
static void ut_start(struct __test_metadata *_metadata, struct ut_env *e, int (*fn)(void *),
		     int ready)
{
	int i, got = 0;

	ASSERT_LE(0, e->cg);
	e->init = cr_start(e->cg, fn, NULL);
	ASSERT_LT(0, e->init);
	for (i = 0; i < UT_READY_MS / 20 && (got = cr_count_lines(UT_READY, "")) < ready; i++) {
		if (cr_count_lines(UT_RES, "FAIL"))
			break;
		cr_msleep(20);
	}
	ASSERT_EQ(ready, got) {
		char *res = cr_load_file(UT_RES);

		TH_LOG("%d of %d processes set up; results: %s", got, ready, res);
		free(res);
	}
	cr_msleep(100);		/* into their waits */
}

/*
 * checkpoint(@flags | CHECKPOINT_KILL), restart: e->init is then the
 * restored init.  Always CHECKPOINT_KILL: a container left running would
 * lose its init first when killed, and init's exit closes its sockets
 * before its children die: a child blocked on a peer of init's would read
 * EOF and report a failure of the original container in UT_RES.
 */
static void ut_cycle(struct __test_metadata *_metadata, struct ut_env *e, unsigned long flags)
{
	double t0 = cr_now();
	int ret;

	ret = cr_checkpoint_flags(e->init, UT_IMG, flags | CHECKPOINT_KILL, e->why,
				  sizeof(e->why));
	ASSERT_EQ(0, ret) TH_LOG("checkpoint: %s (%s)", strerror(-ret), e->why);
	cr_kill_wait(e->init);
	e->init = -1;
	ASSERT_EQ(0, cr_cg_empty(e->cgpath));
	TH_LOG("checkpoint and kill: %.1f s, image of %lld bytes", cr_now() - t0,
	       (long long)cr_file_size(UT_IMG));
	t0 = cr_now();
	ret = cr_restart_img(e->cg, UT_IMG, &e->init, e->why, sizeof(e->why));
	if (ret)
		e->init = -1;
	ASSERT_EQ(0, ret) TH_LOG("restart: %s (%s)", strerror(-ret), e->why);
	TH_LOG("restart: %.1f s", cr_now() - t0);
}

/*
 * Let the restored container go: its init must exit 0 within
 * UT_FINISH_MS, with "ok" from @nok processes and no failure in the results.
 */
static void ut_finish(struct __test_metadata *_metadata, struct ut_env *e, int nok)
{
	char *res;
	int st;

	ASSERT_EQ(0, cr_write_str(UT_GO, "1"));
	st = cr_wait_exit_ms(e->init, UT_FINISH_MS);
	if (st >= 0)
		e->init = -1;
	res = cr_load_file(UT_RES);
	EXPECT_EQ(0, st) TH_LOG("the container's init: exit status %d (-1: still running)",
				st);
	EXPECT_EQ(NULL, strstr(res, "FAIL"));
	EXPECT_EQ(nok, cr_count_lines(UT_RES, "ok "));
	if (!__test_passed(_metadata) || strstr(res, "info"))
		TH_LOG("results:\n%s", res);
	free(res);
}

/* The plain case: @ready processes set up, checkpoint, restart, @nok "ok". */
static void ut_run(struct __test_metadata *_metadata, struct ut_env *e, int (*fn)(void *),
		   int ready, int nok)
{
	ut_start(_metadata, e, fn, ready);
	ut_cycle(_metadata, e, 0);
	ut_finish(_metadata, e, nok);
}

FIXTURE(usock) {
	struct ut_env e;
};

FIXTURE_SETUP(usock)
{
	ut_env_setup(&self->e);
	ASSERT_LE(0, self->e.cg);
}

FIXTURE_TEARDOWN(usock)
{
	ut_env_teardown(&self->e);
}

/* -- 1. a stream socketpair, bytes queued both ways --------------------------------- */

/*
 * Init makes the pair and forks P.  Init sends 3000 bytes; P sends 101234,
 * of which init reads 1234 (an skb partly read).  After restart: SIOCINQ
 * is what is left, SIOCOUTQ covers what the other has not read (and is 0
 * once it has), SO_PEERCRED is the creator's (init, pid 1), each reads
 * every byte; then both send more, and EOF after the other's shutdown.
 */
#define SP_AB_LEN	3000
#define SP_BA_PRE	1234
#define SP_BA_LEN	100000
#define SP_AB_MORE	5000
#define SP_BA_MORE	7000
#define SP_AB_SEED	0x5101
#define SP_BA_SEED	0x5102

static struct {
	int sv[2];
	struct ucred pc[2];	/* SO_PEERCRED of each end, before */
} sp;

static void sp_peer(long unused)
{
	int fd = sp.sv[1];

	close(sp.sv[0]);
	ut_send_pat(fd, SP_BA_SEED, 0, SP_BA_PRE + SP_BA_LEN, MSG_DONTWAIT);
	ut_ready();
	ut_wait_go();
	ut_check_type(fd, SOCK_STREAM);
	ut_check_peercred(fd, &sp.pc[1], "the child's end");
	UT_CHECK(ut_nread(fd) == SP_AB_LEN, "SIOCINQ %d, %d bytes queued", ut_nread(fd), SP_AB_LEN);
	UT_CHECK(ut_outq(fd) >= SP_BA_LEN, "SIOCOUTQ %d: less than the %d bytes init has not read",
		 ut_outq(fd), SP_BA_LEN);
	ut_mark("peer-checked");
	ut_await("init-checked");
	ut_recv_pat(fd, SP_AB_SEED, 0, SP_AB_LEN, "queued by init");
	ut_mark("peer-read");
	ut_await("init-read");
	UT_CHECK(ut_outq(fd) == 0, "SIOCOUTQ %d once init has read every byte", ut_outq(fd));
	ut_send_pat(fd, SP_BA_SEED, SP_BA_PRE + SP_BA_LEN, SP_BA_MORE, 0);
	ut_recv_pat(fd, SP_AB_SEED, SP_AB_LEN, SP_AB_MORE, "sent by init after restart");
	ut_expect_eof(fd, "init shut its end down for writing");
}

static int wl_stream_pair(void *arg)
{
	pid_t c;
	int fd;

	ut_enter(NULL, 0);
	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sp.sv), "%m");
	sp.pc[0] = ut_peercred(sp.sv[0]);
	sp.pc[1] = ut_peercred(sp.sv[1]);
	UT_CHECK(sp.pc[0].pid == 1 && sp.pc[1].pid == 1, "SO_PEERCRED pids %d %d", sp.pc[0].pid,
		 sp.pc[1].pid);
	c = ut_spawn("ut-peer", sp_peer, 0);
	fd = sp.sv[0];
	close(sp.sv[1]);
	ut_send_pat(fd, SP_AB_SEED, 0, SP_AB_LEN, MSG_DONTWAIT);
	ut_recv_pat(fd, SP_BA_SEED, 0, SP_BA_PRE, "before the checkpoint");
	ut_ready();
	ut_wait_go();
	ut_check_type(fd, SOCK_STREAM);
	ut_check_peercred(fd, &sp.pc[0], "init's end");
	UT_CHECK(ut_nread(fd) == SP_BA_LEN, "SIOCINQ %d, %d bytes queued", ut_nread(fd), SP_BA_LEN);
	UT_CHECK(ut_outq(fd) >= SP_AB_LEN, "SIOCOUTQ %d: less than the %d bytes the child has not read",
		 ut_outq(fd), SP_AB_LEN);
	ut_mark("init-checked");
	ut_await("peer-checked");
	ut_recv_pat(fd, SP_BA_SEED, SP_BA_PRE, SP_BA_LEN, "queued by the child");
	ut_mark("init-read");
	ut_await("peer-read");
	UT_CHECK(ut_outq(fd) == 0, "SIOCOUTQ %d once the child has read every byte", ut_outq(fd));
	ut_send_pat(fd, SP_AB_SEED, SP_AB_LEN, SP_AB_MORE, 0);
	UT_CHECK(!shutdown(fd, SHUT_WR), "%m");
	ut_recv_pat(fd, SP_BA_SEED, SP_BA_PRE + SP_BA_LEN, SP_BA_MORE, "sent by the child after restart");
	ut_reap(c, "ut-peer");
	ut_expect_eof(fd, "the child closed its end");
	return ut_done();
}

TEST_F_TIMEOUT(usock, stream_pair, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_stream_pair, 2, 2);
}

/* -- 2. a datagram socketpair ------------------------------------------------------- */

/*
 * P sends 40 datagrams of 0 to 3000 bytes to init, init 3 to P.  After
 * restart, each in turn: SIOCINQ and MSG_PEEK|MSG_TRUNC give its length,
 * recvmsg() exactly it (or, every third, half of it with MSG_TRUNC: the
 * rest is dropped, the next datagram is whole); then none is left; then
 * one more each way.
 */
static const int dg_len[] = {
	0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511,
	512, 513, 1000, 1023, 1024, 1025, 1499, 1500, 1501, 2000, 2047, 2048, 2049, 2500, 2999, 3000,
	0, 333, 1777, 3000,
	1234,	/* after restart */
};

#define DG_BEFORE	40
static const int dg_back[] = { 3000, 0, 42 };

#define DG_SEED		0x5201
#define DG_BACK_SEED	0x5202

static int dg_sv[2];

/* Datagram @i of @len bytes of @seed from @pos, received whole or (@trunc) halved. */
static void dg_expect(int fd, int i, int len, uint64_t seed, uint64_t pos, int trunc)
{
	static uint8_t buf[4097];
	size_t want = trunc ? len / 2 : len;
	struct ut_msg m;
	ssize_t n;
	long bad;

	ut_wait_in(fd, "a datagram");
	UT_CHECK(ut_nread(fd) == len, "datagram %d: SIOCINQ %d, expected its %d bytes", i,
		 ut_nread(fd), len);
	n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	UT_CHECK(n == len, "datagram %d: MSG_PEEK|MSG_TRUNC gives %zd (%m), expected %d", i, n, len);
	n = ut_recvmsg(fd, buf, trunc ? want : sizeof(buf), &m, MSG_DONTWAIT);
	UT_CHECK(n == (ssize_t)want, "datagram %d: recvmsg returned %zd (%m), expected %zu", i, n,
		 want);
	UT_CHECK(!!(m.flags & MSG_TRUNC) == !!trunc, "datagram %d: msg_flags %#x", i, m.flags);
	bad = cr_mismatch(buf, n, seed, pos);
	UT_CHECK(bad < 0, "datagram %d: byte %ld is %#x, expected %#x", i, bad, buf[bad],
		 cr_pat_byte(seed, pos + bad));
	UT_CHECK(!m.nfds && !m.cred, "datagram %d: %d files, creds %d", i, m.nfds, m.cred);
}

static void dg_peer(long unused)
{
	int fd = dg_sv[1], i;

	close(dg_sv[0]);
	for (i = 0; i < DG_BEFORE; i++)
		ut_send_msg(fd, dg_len[i], DG_SEED, ut_pos(dg_len, i), MSG_DONTWAIT);
	ut_ready();
	ut_wait_go();
	ut_check_type(fd, SOCK_DGRAM);
	for (i = 0; i < (int)ARRAY_SIZE(dg_back); i++)
		dg_expect(fd, i, dg_back[i], DG_BACK_SEED, ut_pos(dg_back, i), 0);
	ut_expect_empty(fd, "after init's 3 datagrams");
	ut_await("drained");
	ut_send_msg(fd, dg_len[DG_BEFORE], DG_SEED, ut_pos(dg_len, DG_BEFORE), 0);
}

static int wl_dgram_pair(void *arg)
{
	int fd, i;
	pid_t c;

	ut_enter(NULL, 0);
	UT_CHECK(!socketpair(AF_UNIX, SOCK_DGRAM, 0, dg_sv), "%m");
	c = ut_spawn("ut-dgpeer", dg_peer, 0);
	fd = dg_sv[0];
	close(dg_sv[1]);
	for (i = 0; i < (int)ARRAY_SIZE(dg_back); i++)
		ut_send_msg(fd, dg_back[i], DG_BACK_SEED, ut_pos(dg_back, i), MSG_DONTWAIT);
	ut_ready();
	ut_wait_go();
	ut_check_type(fd, SOCK_DGRAM);
	for (i = 0; i < DG_BEFORE; i++)
		dg_expect(fd, i, dg_len[i], DG_SEED, ut_pos(dg_len, i), i % 3 == 1 && dg_len[i] > 1);
	ut_expect_empty(fd, "after the 40 datagrams");
	ut_mark("drained");
	dg_expect(fd, DG_BEFORE, dg_len[DG_BEFORE], DG_SEED, ut_pos(dg_len, DG_BEFORE), 0);
	ut_reap(c, "ut-dgpeer");
	return ut_done();
}

TEST_F_TIMEOUT(usock, dgram_pair, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_dgram_pair, 2, 2);
}

/* -- 3. a seqpacket socketpair ------------------------------------------------------ */

/*
 * P sends 11 records (MSG_EOR on every other one: it changes nothing),
 * init reads the first 2 before the checkpoint, and sends 3 to P.  After
 * restart: SIOCINQ counts the bytes of every record left; each recvmsg()
 * returns one record (every other one cut short by a buffer one byte too
 * small: MSG_TRUNC, the byte is lost); then two more records, then EOF
 * once P has closed its end.
 */
static const int sq_len[] = {
	1, 100, 4096, 0, 7, 3000, 65536, 2, 5, 2000, 1,
	333, 4444,	/* after restart */
};

#define SQ_PRE		2
#define SQ_BEFORE	11
static const int sq_back[] = { 10, 0, 5000 };

#define SQ_SEED		0x5301
#define SQ_BACK_SEED	0x5302

static int sq_sv[2];

static void sq_expect(int fd, int i, int len, uint64_t seed, uint64_t pos, int trunc)
{
	static uint8_t buf[70000];
	size_t want = trunc ? len - 1 : len;
	struct ut_msg m;
	ssize_t n;
	long bad;

	n = ut_recvmsg(fd, buf, trunc ? want : (size_t)len + 100, &m, 0);
	UT_CHECK(n == (ssize_t)want, "record %d: recvmsg returned %zd (%m), expected %zu", i, n,
		 want);
	UT_CHECK(!!(m.flags & MSG_TRUNC) == !!trunc, "record %d: msg_flags %#x", i, m.flags);
	bad = cr_mismatch(buf, n, seed, pos);
	UT_CHECK(bad < 0, "record %d: byte %ld is %#x, expected %#x", i, bad, buf[bad],
		 cr_pat_byte(seed, pos + bad));
}

static void sq_peer(long unused)
{
	int fd = sq_sv[1], i;

	close(sq_sv[0]);
	for (i = 0; i < SQ_BEFORE; i++)
		ut_send_msg(fd, sq_len[i], SQ_SEED, ut_pos(sq_len, i),
			    MSG_DONTWAIT | (i % 2 ? 0 : MSG_EOR));
	ut_ready();
	ut_wait_go();
	ut_check_type(fd, SOCK_SEQPACKET);
	UT_CHECK(ut_nread(fd) == (int)ut_pos(sq_back, ARRAY_SIZE(sq_back)), "SIOCINQ %d",
		 ut_nread(fd));
	for (i = 0; i < (int)ARRAY_SIZE(sq_back); i++)
		sq_expect(fd, i, sq_back[i], SQ_BACK_SEED, ut_pos(sq_back, i), 0);
	ut_expect_empty(fd, "after init's records");
	ut_await("drained");
	for (i = SQ_BEFORE; i < (int)ARRAY_SIZE(sq_len); i++)
		ut_send_msg(fd, sq_len[i], SQ_SEED, ut_pos(sq_len, i), 0);
}

static int wl_seqpacket_pair(void *arg)
{
	int fd, i, left;
	pid_t c;

	ut_enter(NULL, 0);
	UT_CHECK(!socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq_sv), "%m");
	c = ut_spawn("ut-sqpeer", sq_peer, 0);
	fd = sq_sv[0];
	close(sq_sv[1]);
	for (i = 0; i < (int)ARRAY_SIZE(sq_back); i++)
		ut_send_msg(fd, sq_back[i], SQ_BACK_SEED, ut_pos(sq_back, i), MSG_DONTWAIT);
	for (i = 0; i < SQ_PRE; i++)
		sq_expect(fd, i, sq_len[i], SQ_SEED, ut_pos(sq_len, i), 0);
	ut_ready();
	ut_wait_go();
	ut_check_type(fd, SOCK_SEQPACKET);
	left = ut_pos(sq_len, SQ_BEFORE) - ut_pos(sq_len, SQ_PRE);
	UT_CHECK(ut_nread(fd) == left, "SIOCINQ %d, %d bytes queued", ut_nread(fd), left);
	for (i = SQ_PRE; i < SQ_BEFORE; i++)
		sq_expect(fd, i, sq_len[i], SQ_SEED, ut_pos(sq_len, i), i % 2 && sq_len[i] > 1);
	ut_expect_empty(fd, "after the records");
	ut_mark("drained");
	for (i = SQ_BEFORE; i < (int)ARRAY_SIZE(sq_len); i++)
		sq_expect(fd, i, sq_len[i], SQ_SEED, ut_pos(sq_len, i), 0);
	ut_reap(c, "ut-sqpeer");
	ut_expect_eof(fd, "the child closed its end");
	return ut_done();
}

TEST_F_TIMEOUT(usock, seqpacket_pair, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_seqpacket_pair, 2, 2);
}

/* -- 4. a listener bound to a path, connections not accepted yet ---------------------- */

/*
 * Init listens on UT_SRV (backlog 8); clients 0, 1, 2 connect in turn and
 * send 1000, 0 and 70000 bytes before the checkpoint.  After restart: the
 * socket file is there (same mode), getsockname() gives the path, accept()
 * gives the 3 connections in order, each with its bytes, and each
 * exchanges more with its client; a client of after restart connects;
 * then 9 connections wait in the queue (backlog + 1) and the 10th gets
 * EAGAIN.
 */
#define LS_N		3
static const size_t ls_len[LS_N] = { 1000, 0, 70000 };
static const char *const ls_name[LS_N + 1] = {
	"ut-client0", "ut-client1", "ut-client2", "ut-client3",
};

#define LS_BACKLOG	8
#define LS_REPLY	100
#define LS_MORE		50
#define LS_NEW		500
#define LS_SEED		0x5400	/* + client */
#define LS_REPLY_SEED	0x5410	/* + client */

static struct {
	int l;
	mode_t mode;
} ls;

static int ls_connect(void)
{
	struct sockaddr_un sa;
	socklen_t sl = ut_sa_path(&sa, UT_SRV);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	UT_CHECK(s >= 0, "%m");
	UT_CHECK(!UT_RETRY(connect(s, (void *)&sa, sl)), "connect to %s: %m", UT_SRV);
	return s;
}

static void ls_client(long i)
{
	char mark[16];
	int s;

	close(ls.l);
	s = ls_connect();
	ut_send_pat(s, LS_SEED + i, 0, ls_len[i], MSG_DONTWAIT);
	snprintf(mark, sizeof(mark), "client%ld", i);
	ut_mark(mark);
	ut_ready();
	ut_wait_go();
	ut_check_name(s, 1, UT_SRV, strlen(UT_SRV), "the client's peer");
	ut_check_name(s, 0, "", 0, "the (unbound) client");
	UT_CHECK(ut_nread(s) == 0, "SIOCINQ %d", ut_nread(s));
	snprintf(mark, sizeof(mark), "checked%ld", i);
	ut_mark(mark);
	ut_recv_pat(s, LS_REPLY_SEED + i, 0, LS_REPLY, "init's reply");
	ut_send_pat(s, LS_SEED + i, ls_len[i], LS_MORE, 0);
	ut_expect_eof(s, "init closed the accepted socket");
}

static void ls_new_client(long i)
{
	int s;

	close(ls.l);
	s = ls_connect();
	ut_send_pat(s, LS_SEED + i, 0, LS_NEW, 0);
	ut_recv_pat(s, LS_REPLY_SEED + i, 0, 10, "init's reply");
	ut_expect_eof(s, "init closed the accepted socket");
}

static int wl_listener(void *arg)
{
	int a[LS_N + 1], k[LS_BACKLOG + 2], i, r;
	struct sockaddr_un sa;
	socklen_t sl = ut_sa_path(&sa, UT_SRV);
	pid_t c[LS_N + 1];
	struct stat st;
	char mark[16];

	ut_enter(NULL, 0);
	ls.l = socket(AF_UNIX, SOCK_STREAM, 0);
	UT_CHECK(ls.l >= 0 && !bind(ls.l, (void *)&sa, sl) && !listen(ls.l, LS_BACKLOG), "%m");
	UT_CHECK(!stat(UT_SRV, &st) && S_ISSOCK(st.st_mode), "%m");
	ls.mode = st.st_mode;
	for (i = 0; i < LS_N; i++) {
		c[i] = ut_spawn(ls_name[i], ls_client, i);
		snprintf(mark, sizeof(mark), "client%d", i);
		ut_await(mark);
	}
	ut_ready();
	ut_wait_go();
	UT_CHECK(!stat(UT_SRV, &st), "%s after restart: %m", UT_SRV);
	UT_CHECK(S_ISSOCK(st.st_mode) && st.st_mode == ls.mode, "%s: mode %o, %o before", UT_SRV,
		 st.st_mode, ls.mode);
	ut_check_type(ls.l, SOCK_STREAM);
	ut_check_name(ls.l, 0, UT_SRV, strlen(UT_SRV), "the listener");
	UT_CHECK(ut_intopt(ls.l, SO_ACCEPTCONN) == 1, "SO_ACCEPTCONN %d",
		 ut_intopt(ls.l, SO_ACCEPTCONN));
	for (i = 0; i < LS_N; i++) {
		a[i] = ut_accept(ls.l, i);
		UT_CHECK(ut_nread(a[i]) == (int)ls_len[i],
			 "connection %d: SIOCINQ %d, client %d sent %zu bytes", i, ut_nread(a[i]), i,
			 ls_len[i]);
		ut_recv_pat(a[i], LS_SEED + i, 0, ls_len[i], "sent before the checkpoint");
		ut_check_name(a[i], 0, UT_SRV, strlen(UT_SRV), "an accepted socket");
		ut_check_name(a[i], 1, "", 0, "the peer of an accepted socket");
	}
	UT_CHECK(ut_poll(ls.l, POLLIN, 0) == 0, "a 4th connection to accept");
	for (i = 0; i < LS_N; i++) {
		snprintf(mark, sizeof(mark), "checked%d", i);
		ut_await(mark);
		ut_send_pat(a[i], LS_REPLY_SEED + i, 0, LS_REPLY, 0);
		ut_recv_pat(a[i], LS_SEED + i, ls_len[i], LS_MORE, "sent after restart");
		close(a[i]);
	}
	c[LS_N] = ut_spawn(ls_name[LS_N], ls_new_client, LS_N);
	a[LS_N] = ut_accept(ls.l, LS_N);
	ut_recv_pat(a[LS_N], LS_SEED + LS_N, 0, LS_NEW, "from a client of after restart");
	ut_send_pat(a[LS_N], LS_REPLY_SEED + LS_N, 0, 10, 0);
	close(a[LS_N]);
	/* The backlog: LS_BACKLOG + 1 connections wait, the next one is refused. */
	for (i = 0; i < LS_BACKLOG + 2; i++) {
		k[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		UT_CHECK(k[i] >= 0, "%m");
		errno = 0;
		r = connect(k[i], (void *)&sa, sl);
		if (i <= LS_BACKLOG)
			UT_CHECK(!r, "nonblocking connection %d with backlog %d: %m", i, LS_BACKLOG);
		else
			UT_CHECK(r < 0 && errno == EAGAIN,
				 "nonblocking connection %d with backlog %d: %d (%m), expected EAGAIN",
				 i, LS_BACKLOG, r);
	}
	for (i = 0; i <= LS_BACKLOG; i++)
		close(ut_accept(ls.l, 10 + i));
	for (i = 0; i < LS_BACKLOG + 2; i++)
		close(k[i]);
	for (i = 0; i <= LS_N; i++)
		ut_reap(c[i], ls_name[i]);
	return ut_done();
}

TEST_F_TIMEOUT(usock, listener_path, UT_TIMEOUT)
{
	struct stat st;

	ut_start(_metadata, &self->e, wl_listener, LS_N + 1);
	ut_cycle(_metadata, &self->e, 0);
	ASSERT_EQ(0, stat(UT_SRV, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode)) TH_LOG("mode %o", st.st_mode);
	ut_finish(_metadata, &self->e, LS_N + 2);
}

/* -- 5. datagrams from named and unnamed senders ------------------------------------ */

/*
 * R, bound to the abstract "\0cr-test-<pid>", gets 9 datagrams from S1
 * (bound to the path UT_DGS), S2 (bound to an abstract name, connected to
 * R) and S3 (unbound, closed before the checkpoint), interleaved.  After
 * restart: the names of R, S1 and S2 (and S2's peer) are as before;
 * recvfrom() gives each datagram with its sender's address (none for S3),
 * in order; then R, S1, S2 and a new socket exchange datagrams by name.
 */
static const int dn_from[] = { 1, 2, 3, 3, 1, 2, 1, 3, 2 };
static const int dn_len[] = { 100, 0, 3000, 1, 2048, 77, 5, 600, 1500 };
#define DN_SEED		0x5500
#define DN_NEW_SEED	0x5501

static struct {
	int r, s[4];
	char rname[64], s2name[64];
	size_t rlen, s2len;
} dn;

/* The next datagram on @fd: @len bytes from @pos, from @name of @nlen bytes. */
static void dn_expect(int fd, int i, size_t len, uint64_t seed, uint64_t pos, const char *name,
		      size_t nlen)
{
	static uint8_t buf[4096];
	struct sockaddr_un want;
	socklen_t wl = nlen ? ut_sa(&want, name, nlen) : 0;
	char b1[128], b2[128];
	struct ut_msg m;
	ssize_t n;
	long bad;

	ut_wait_in(fd, "a datagram");
	UT_CHECK(ut_nread(fd) == (int)len, "datagram %d: SIOCINQ %d, expected %zu", i, ut_nread(fd),
		 len);
	n = ut_recvmsg(fd, buf, sizeof(buf), &m, MSG_DONTWAIT);
	UT_CHECK(n == (ssize_t)len, "datagram %d: recvfrom returned %zd (%m), expected %zu", i, n,
		 len);
	bad = cr_mismatch(buf, n, seed, pos);
	UT_CHECK(bad < 0, "datagram %d: byte %ld is %#x, expected %#x", i, bad, buf[bad],
		 cr_pat_byte(seed, pos + bad));
	UT_CHECK(nlen ? ut_same_sa(&m.sa, m.salen, &want, wl) : m.salen == 0,
		 "datagram %d: from %u bytes '%s', expected %u bytes '%s'", i, m.salen,
		 ut_sa_str(b1, sizeof(b1), &m.sa, m.salen), wl,
		 nlen ? ut_sa_str(b2, sizeof(b2), &want, wl) : "");
}

/* Where datagrams of S@from come from, as R sees them. */
static void dn_sender(int from, const char **name, size_t *len)
{
	*name = from == 1 ? UT_DGS : from == 2 ? dn.s2name : "";
	*len = from == 1 ? strlen(UT_DGS) : from == 2 ? dn.s2len : 0;
}

static int wl_dgram_names(void *arg)
{
	struct sockaddr_un rsa, sa;
	socklen_t rsl, sl;
	const char *name;
	struct stat st;
	size_t nlen;
	int i;

	ut_enter(NULL, 0);
	dn.rlen = ut_abstract(dn.rname, sizeof(dn.rname), "");
	dn.s2len = ut_abstract(dn.s2name, sizeof(dn.s2name), "-s2");
	rsl = ut_sa(&rsa, dn.rname, dn.rlen);
	dn.r = socket(AF_UNIX, SOCK_DGRAM, 0);
	UT_CHECK(dn.r >= 0, "%m");
	for (i = 1; i < 4; i++) {
		dn.s[i] = socket(AF_UNIX, SOCK_DGRAM, 0);
		UT_CHECK(dn.s[i] >= 0, "%m");
	}
	UT_CHECK(!bind(dn.r, (void *)&rsa, rsl), "bind %s: %m", dn.rname + 1);
	sl = ut_sa_path(&sa, UT_DGS);
	UT_CHECK(!bind(dn.s[1], (void *)&sa, sl), "bind %s: %m", UT_DGS);
	sl = ut_sa(&sa, dn.s2name, dn.s2len);
	UT_CHECK(!bind(dn.s[2], (void *)&sa, sl), "bind %s: %m", dn.s2name + 1);
	UT_CHECK(!connect(dn.s[2], (void *)&rsa, rsl), "connect: %m");
	for (i = 0; i < (int)ARRAY_SIZE(dn_from); i++) {
		if (dn_from[i] == 2)
			ut_send_msg(dn.s[2], dn_len[i], DN_SEED, ut_pos(dn_len, i), MSG_DONTWAIT);
		else
			ut_sendto_msg(dn.s[dn_from[i]], dn_len[i], DN_SEED, ut_pos(dn_len, i), &rsa, rsl);
	}
	close(dn.s[3]);
	ut_ready();
	ut_wait_go();
	ut_check_type(dn.r, SOCK_DGRAM);
	ut_check_name(dn.r, 0, dn.rname, dn.rlen, "the receiver");
	ut_check_name(dn.s[1], 0, UT_DGS, strlen(UT_DGS), "S1");
	ut_check_name(dn.s[2], 0, dn.s2name, dn.s2len, "S2");
	ut_check_name(dn.s[2], 1, dn.rname, dn.rlen, "the peer of S2");
	UT_CHECK(!stat(UT_DGS, &st) && S_ISSOCK(st.st_mode), "%s: %m, mode %o", UT_DGS, st.st_mode);
	for (i = 0; i < (int)ARRAY_SIZE(dn_from); i++) {
		dn_sender(dn_from[i], &name, &nlen);
		dn_expect(dn.r, i, dn_len[i], DN_SEED, ut_pos(dn_len, i), name, nlen);
	}
	ut_expect_empty(dn.r, "after the 9 datagrams");
	/* After restart: by every name, both ways. */
	ut_sendto_msg(dn.s[1], 10, DN_NEW_SEED, 0, &rsa, rsl);
	dn_expect(dn.r, 100, 10, DN_NEW_SEED, 0, UT_DGS, strlen(UT_DGS));
	ut_send_msg(dn.s[2], 20, DN_NEW_SEED, 10, 0);
	dn_expect(dn.r, 101, 20, DN_NEW_SEED, 10, dn.s2name, dn.s2len);
	dn.s[3] = socket(AF_UNIX, SOCK_DGRAM, 0);
	UT_CHECK(dn.s[3] >= 0, "%m");
	ut_sendto_msg(dn.s[3], 30, DN_NEW_SEED, 30, &rsa, rsl);
	dn_expect(dn.r, 102, 30, DN_NEW_SEED, 30, "", 0);
	sl = ut_sa_path(&sa, UT_DGS);
	ut_sendto_msg(dn.r, 40, DN_NEW_SEED, 60, &sa, sl);
	dn_expect(dn.s[1], 103, 40, DN_NEW_SEED, 60, dn.rname, dn.rlen);
	sl = ut_sa(&sa, dn.s2name, dn.s2len);
	ut_sendto_msg(dn.r, 50, DN_NEW_SEED, 100, &sa, sl);
	dn_expect(dn.s[2], 104, 50, DN_NEW_SEED, 100, dn.rname, dn.rlen);
	return ut_done();
}

TEST_F_TIMEOUT(usock, dgram_names, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_dgram_names, 1, 1);
}

/* -- 6. blocked in accept(), recv(), read() --------------------------------------------- */

/*
 * A blocked in accept() on a listener (UT_ACC) with nothing queued, R in
 * recv() on an empty stream socket, D in read() on an empty seqpacket
 * socket: blocked before the checkpoint, and again after restart.  Then
 * init connects and sends, and each completes with the right bytes.
 */
#define BK_ACC_LEN	3000
#define BK_RECV_LEN	5000
#define BK_READ_LEN	777
#define BK_SEED		0x5600

static struct {
	int l, s[2], q[2];
} bk;

static void bk_close_all(void)
{
	close(bk.s[0]);
	close(bk.q[0]);
}

static void bk_acceptor(long unused)
{
	int a;

	bk_close_all();
	close(bk.s[1]);
	close(bk.q[1]);
	ut_ready();
	a = UT_RETRY(accept(bk.l, NULL, NULL));
	UT_CHECK(a >= 0, "accept: %m");
	ut_recv_pat(a, BK_SEED, 0, BK_ACC_LEN, "from the connection accepted");
	ut_send_pat(a, BK_SEED + 1, 0, 10, 0);
	close(a);
}

static void bk_receiver(long unused)
{
	static uint8_t buf[BK_RECV_LEN];
	ssize_t n;
	long bad;

	bk_close_all();
	close(bk.l);
	close(bk.q[1]);
	ut_ready();
	n = UT_RETRY(recv(bk.s[1], buf, sizeof(buf), 0));
	UT_CHECK(n > 0, "recv: %zd (%m)", n);
	bad = cr_mismatch(buf, n, BK_SEED + 2, 0);
	UT_CHECK(bad < 0, "byte %ld is %#x, expected %#x", bad, buf[bad], cr_pat_byte(BK_SEED + 2, bad));
	ut_recv_pat(bk.s[1], BK_SEED + 2, n, BK_RECV_LEN - n, "after the first recv");
}

static void bk_reader(long unused)
{
	static uint8_t buf[8192];
	ssize_t n;
	long bad;

	bk_close_all();
	close(bk.l);
	close(bk.s[1]);
	ut_ready();
	n = UT_RETRY(read(bk.q[1], buf, sizeof(buf)));
	UT_CHECK(n == BK_READ_LEN, "read: %zd (%m), expected a record of %d bytes", n, BK_READ_LEN);
	bad = cr_mismatch(buf, n, BK_SEED + 3, 0);
	UT_CHECK(bad < 0, "byte %ld is %#x, expected %#x", bad, buf[bad], cr_pat_byte(BK_SEED + 3, bad));
	UT_CHECK(ut_nread(bk.q[1]) == 0, "SIOCINQ %d", ut_nread(bk.q[1]));
}

static int wl_blocked(void *arg)
{
	struct sockaddr_un sa;
	socklen_t sl = ut_sa_path(&sa, UT_ACC);
	pid_t a, r, d;
	int c;

	ut_enter(NULL, 0);
	bk.l = socket(AF_UNIX, SOCK_STREAM, 0);
	UT_CHECK(bk.l >= 0 && !bind(bk.l, (void *)&sa, sl) && !listen(bk.l, 4), "%m");
	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, bk.s), "%m");
	UT_CHECK(!socketpair(AF_UNIX, SOCK_SEQPACKET, 0, bk.q), "%m");
	a = ut_spawn("ut-acceptor", bk_acceptor, 0);
	r = ut_spawn("ut-receiver", bk_receiver, 0);
	d = ut_spawn("ut-reader", bk_reader, 0);
	close(bk.l);
	close(bk.s[1]);
	close(bk.q[1]);
	ut_ready();
	ut_wait_go();
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	UT_CHECK(c >= 0 && !connect(c, (void *)&sa, sl), "connect to %s: %m", UT_ACC);
	ut_send_pat(c, BK_SEED, 0, BK_ACC_LEN, 0);
	ut_recv_pat(c, BK_SEED + 1, 0, 10, "the acceptor's reply");
	ut_send_pat(bk.s[0], BK_SEED + 2, 0, BK_RECV_LEN, 0);
	ut_send_msg(bk.q[0], BK_READ_LEN, BK_SEED + 3, 0, 0);
	ut_reap(a, "ut-acceptor");
	ut_reap(r, "ut-receiver");
	ut_reap(d, "ut-reader");
	ut_expect_eof(c, "the acceptor closed");
	return ut_done();
}

TEST_F_TIMEOUT(usock, blocked, UT_TIMEOUT)
{
	static const struct {
		const char *name;
		int nr, nr2;
	} b[] = {
		{ "ut-acceptor", SYS_accept, SYS_accept4 },
		{ "ut-receiver", SYS_recvfrom, SYS_recvmsg },
		{ "ut-reader", SYS_read, SYS_read },
	};
	struct ut_env *e = &self->e;
	char msg[160];
	unsigned int i;

	ut_start(_metadata, e, wl_blocked, 4);
	for (i = 0; i < ARRAY_SIZE(b); i++)
		ASSERT_EQ(0, ut_wait_blocked(e->init, b[i].name, b[i].nr, b[i].nr2, 10000, msg,
					     sizeof(msg)))
			TH_LOG("before the checkpoint: %s", msg);
	ut_cycle(_metadata, e, 0);
	for (i = 0; i < ARRAY_SIZE(b); i++)
		EXPECT_EQ(0, ut_wait_blocked(e->init, b[i].name, b[i].nr, b[i].nr2, 10000, msg,
					     sizeof(msg)))
			TH_LOG("after restart: %s", msg);
	ut_finish(_metadata, e, 4);
}

/* -- 7. shutdown, closed peers --------------------------------------------------------- */

/*
 * A (init) sent 5000 bytes to B (a child) then shut down writing; B sent
 * 300.  C got 4000 bytes from D, then D was closed.  E got 2000 bytes from
 * F and sent 100 that F never read, then F was closed: E has a pending
 * ECONNRESET.  After restart: B sees POLLRDHUP, reads the bytes, then EOF;
 * A's send fails with EPIPE, B's still works and A reads it all, then EOF
 * once B exits.  C reads the bytes then EOF, send EPIPE.  E reads the
 * bytes, then ECONNRESET once, then EOF, send EPIPE.
 */
#define SH_A_LEN	5000
#define SH_B_LEN	300
#define SH_B_MORE	200
#define SH_C_LEN	4000
#define SH_E_LEN	2000
#define SH_SEED		0x5700

static int sh_ab[2];

static void sh_half(long unused)
{
	int fd = sh_ab[1], r;

	close(sh_ab[0]);
	ut_send_pat(fd, SH_SEED + 1, 0, SH_B_LEN, MSG_DONTWAIT);
	ut_ready();
	ut_wait_go();
	r = ut_poll(fd, POLLIN | POLLRDHUP, 0);
	UT_CHECK(r > 0 && (r & POLLIN) && (r & POLLRDHUP) && !(r & (POLLHUP | POLLERR)),
		 "poll: %#x, expected POLLIN|POLLRDHUP", r);
	UT_CHECK(ut_nread(fd) == SH_A_LEN, "SIOCINQ %d", ut_nread(fd));
	ut_recv_pat(fd, SH_SEED, 0, SH_A_LEN, "sent before the shutdown");
	ut_expect_eof(fd, "the peer shut down writing");
	ut_expect_eof(fd, "the peer shut down writing, again");
	ut_await("a-checked");
	ut_send_pat(fd, SH_SEED + 1, SH_B_LEN, SH_B_MORE, 0);
}

static int wl_shutdown(void *arg)
{
	int a, cd[2], ef[2], r;
	pid_t b;

	ut_enter(NULL, 0);
	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sh_ab), "%m");
	b = ut_spawn("ut-half", sh_half, 0);
	a = sh_ab[0];
	close(sh_ab[1]);
	ut_send_pat(a, SH_SEED, 0, SH_A_LEN, MSG_DONTWAIT);
	UT_CHECK(!shutdown(a, SHUT_WR), "%m");
	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, cd), "%m");
	ut_send_pat(cd[1], SH_SEED + 2, 0, SH_C_LEN, MSG_DONTWAIT);
	close(cd[1]);
	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, ef), "%m");
	ut_send_pat(ef[1], SH_SEED + 3, 0, SH_E_LEN, MSG_DONTWAIT);
	ut_send_pat(ef[0], SH_SEED + 4, 0, 100, MSG_DONTWAIT);
	close(ef[1]);
	r = ut_poll(ef[0], POLLIN, 0);
	UT_CHECK(r > 0 && (r & POLLERR) && (r & POLLHUP), "E before: poll %#x", r);
	ut_ready();
	ut_wait_go();
	/* A */
	ut_expect_epipe(a, "A shut down writing");
	UT_CHECK(ut_nread(a) == SH_B_LEN, "A: SIOCINQ %d", ut_nread(a));
	ut_mark("a-checked");
	ut_recv_pat(a, SH_SEED + 1, 0, SH_B_LEN + SH_B_MORE, "A, from B");
	/* C */
	r = ut_poll(cd[0], POLLIN, 0);
	UT_CHECK(r > 0 && (r & POLLIN) && (r & POLLHUP) && !(r & POLLERR), "C: poll %#x", r);
	UT_CHECK(ut_nread(cd[0]) == SH_C_LEN, "C: SIOCINQ %d", ut_nread(cd[0]));
	ut_recv_pat(cd[0], SH_SEED + 2, 0, SH_C_LEN, "C, from D");
	ut_expect_eof(cd[0], "C: D closed");
	ut_expect_epipe(cd[0], "C: D closed");
	/* E */
	r = ut_poll(ef[0], POLLIN, 0);
	UT_CHECK(r > 0 && (r & POLLIN) && (r & POLLHUP) && (r & POLLERR), "E: poll %#x", r);
	UT_CHECK(ut_nread(ef[0]) == SH_E_LEN, "E: SIOCINQ %d", ut_nread(ef[0]));
	ut_recv_pat(ef[0], SH_SEED + 3, 0, SH_E_LEN, "E, from F");
	ut_expect_rderr(ef[0], ECONNRESET, "E: F closed with bytes unread");
	ut_expect_eof(ef[0], "E: after the reset");
	ut_expect_epipe(ef[0], "E: F closed");
	ut_reap(b, "ut-half");
	ut_expect_eof(a, "A: B exited");
	return ut_done();
}

TEST_F_TIMEOUT(usock, shutdown_close, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_shutdown, 2, 2);
}

/* -- 8. options ------------------------------------------------------------------- */

/*
 * A stream pair O0, O1 with options set, and O2, an unconnected seqpacket
 * socket with none.  Every option below reads back as before the
 * checkpoint, on each; so do F_GETFL and F_GETFD.  Then they work: O0
 * is nonblocking, O1's peek offset 5 (over two queued skbs) makes a
 * MSG_PEEK start at byte 5 and moves, O1's SO_RCVTIMEO of 0.3 s ends an
 * empty recv, O0's SO_PASSCRED gives init's credentials.
 */
#define OP_SEED		0x5800
#define OP_LEN		100

#define OP(o)	{ o, #o }
static const struct {
	int opt;
	const char *name;
} op_list[] = {
	OP(SO_TYPE), OP(SO_DOMAIN), OP(SO_PROTOCOL), OP(SO_ACCEPTCONN), OP(SO_ERROR),
	OP(SO_PASSCRED), OP(SO_PASSSEC), OP(SO_PASSPIDFD), OP(SO_SNDBUF), OP(SO_RCVBUF),
	OP(SO_SNDTIMEO), OP(SO_RCVTIMEO), OP(SO_RCVLOWAT), OP(SO_SNDLOWAT), OP(SO_PEEK_OFF),
	OP(SO_KEEPALIVE), OP(SO_OOBINLINE), OP(SO_PRIORITY), OP(SO_LINGER), OP(SO_PEERCRED),
};

#define OP_NR		ARRAY_SIZE(op_list)
#define OP_SOCKS	3

struct op_val {
	socklen_t len;
	int err;
	uint8_t v[32];
};

static struct {
	int fd[OP_SOCKS];
	int fl[OP_SOCKS], fdfl[OP_SOCKS];
	struct op_val o[OP_SOCKS][OP_NR];
} op;

static void op_get(int fd, unsigned int i, struct op_val *v)
{
	memset(v, 0, sizeof(*v));
	v->len = sizeof(v->v);
	if (getsockopt(fd, SOL_SOCKET, op_list[i].opt, v->v, &v->len))
		v->err = errno;
}

/* The value of option @opt of socket @s read before the checkpoint. */
static const struct op_val *op_before(int s, int opt)
{
	unsigned int i;

	for (i = 0; i < OP_NR && op_list[i].opt != opt; i++)
		;
	return &op.o[s][i < OP_NR ? i : 0];
}

static int op_int(const struct op_val *v)
{
	int x;

	memcpy(&x, v->v, sizeof(x));
	return x;
}

static void op_set(int fd, int opt, const void *v, socklen_t len, const char *name)
{
	UT_CHECK(!setsockopt(fd, SOL_SOCKET, opt, v, len), "%s: %m", name);
}

static int wl_options(void *arg)
{
	struct timeval snd = { 2, 500000 }, rcv = { 0, 300000 };
	struct linger lg = { 1, 7 };
	uint8_t buf[OP_LEN * 2];
	struct op_val now;
	struct ut_msg m;
	unsigned int i;
	int s, n, sv[2];
	double t0, dt;
	long bad;

	ut_enter(NULL, 0);
	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "%m");
	op.fd[0] = sv[0];
	op.fd[1] = sv[1];
	op.fd[2] = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	UT_CHECK(op.fd[2] >= 0, "%m");
	ut_send_pat(op.fd[0], OP_SEED, 0, OP_LEN, MSG_DONTWAIT);	/* 1 + 99 bytes */
	ut_setint(op.fd[0], SO_PASSCRED, 1);
	ut_setint(op.fd[0], SO_SNDBUF, 50000);
	ut_setint(op.fd[0], SO_RCVBUF, 70000);
	op_set(op.fd[0], SO_SNDTIMEO, &snd, sizeof(snd), "SO_SNDTIMEO");
	ut_setint(op.fd[0], SO_RCVLOWAT, 10);
	ut_setint(op.fd[0], SO_KEEPALIVE, 1);
	ut_setint(op.fd[0], SO_PRIORITY, 3);
	op_set(op.fd[0], SO_LINGER, &lg, sizeof(lg), "SO_LINGER");
	UT_CHECK(!fcntl(op.fd[0], F_SETFL, O_NONBLOCK), "%m");
	op_set(op.fd[1], SO_RCVTIMEO, &rcv, sizeof(rcv), "SO_RCVTIMEO");
	ut_setint(op.fd[1], SO_PEEK_OFF, 5);
	ut_setint(op.fd[1], SO_OOBINLINE, 1);
	ut_setint(op.fd[1], SO_PASSSEC, 1);
	ut_setint(op.fd[1], SO_PASSPIDFD, 1);
	UT_CHECK(!fcntl(op.fd[1], F_SETFD, FD_CLOEXEC), "%m");
	for (s = 0; s < OP_SOCKS; s++) {
		op.fl[s] = fcntl(op.fd[s], F_GETFL);
		op.fdfl[s] = fcntl(op.fd[s], F_GETFD);
		for (i = 0; i < OP_NR; i++)
			op_get(op.fd[s], i, &op.o[s][i]);
	}
	/* What was set took (SO_SNDBUF and SO_RCVBUF read back doubled). */
	UT_CHECK(op_int(op_before(0, SO_SNDBUF)) == 100000 &&
		 op_int(op_before(0, SO_RCVBUF)) == 140000 &&
		 op_int(op_before(1, SO_PEEK_OFF)) == 5 && op_int(op_before(0, SO_PRIORITY)) == 3 &&
		 op_int(op_before(0, SO_PASSCRED)) == 1 && op_int(op_before(0, SO_KEEPALIVE)) == 1 &&
		 op_int(op_before(0, SO_RCVLOWAT)) == 10 && op_int(op_before(2, SO_PEEK_OFF)) == -1,
		 "SO_SNDBUF %d, SO_RCVBUF %d, SO_PEEK_OFF %d, SO_PRIORITY %d",
		 op_int(op_before(0, SO_SNDBUF)), op_int(op_before(0, SO_RCVBUF)),
		 op_int(op_before(1, SO_PEEK_OFF)), op_int(op_before(0, SO_PRIORITY)));
	UT_CHECK((op.fl[0] & O_NONBLOCK) && !(op.fl[1] & O_NONBLOCK) && !(op.fdfl[0] & FD_CLOEXEC) &&
		 (op.fdfl[1] & FD_CLOEXEC), "F_GETFL %#o %#o, F_GETFD %#x %#x", op.fl[0], op.fl[1],
		 op.fdfl[0], op.fdfl[1]);
	ut_ready();
	ut_wait_go();
	for (s = 0; s < OP_SOCKS; s++) {
		UT_EXPECT(fcntl(op.fd[s], F_GETFL) == op.fl[s], "O%d: F_GETFL %#o, %#o before", s,
			  fcntl(op.fd[s], F_GETFL), op.fl[s]);
		UT_EXPECT(fcntl(op.fd[s], F_GETFD) == op.fdfl[s], "O%d: F_GETFD %#x, %#x before", s,
			  fcntl(op.fd[s], F_GETFD), op.fdfl[s]);
		for (i = 0; i < OP_NR; i++) {
			op_get(op.fd[s], i, &now);
			UT_EXPECT(now.err == op.o[s][i].err && now.len == op.o[s][i].len &&
				  !memcmp(now.v, op.o[s][i].v, now.len),
				  "O%d: %s: %u bytes %#x %#x (%s), before %u bytes %#x %#x (%s)", s,
				  op_list[i].name, now.len, op_int(&now), cr_get32(now.v + 4),
				  strerror(now.err), op.o[s][i].len, op_int(&op.o[s][i]),
				  cr_get32(op.o[s][i].v + 4), strerror(op.o[s][i].err));
		}
	}
	if (ut_failed)
		return 1;
	/* O0 nonblocking, nothing queued on it. */
	errno = 0;
	n = recv(op.fd[0], buf, 1, 0);
	UT_CHECK(n < 0 && errno == EAGAIN, "O0: recv returned %d (%m)", n);
	/* O1: peeking from offset 5, which then moves. */
	UT_CHECK(ut_nread(op.fd[1]) == OP_LEN, "O1: SIOCINQ %d", ut_nread(op.fd[1]));
	n = recv(op.fd[1], buf, 10, MSG_PEEK | MSG_DONTWAIT);
	bad = n == 10 ? cr_mismatch(buf, n, OP_SEED, 5) : -1;
	UT_CHECK(n == 10 && bad < 0, "O1: MSG_PEEK returned %d (%m), byte %ld is %#x, expected %#x",
		 n, bad, bad >= 0 ? buf[bad] : 0, cr_pat_byte(OP_SEED, 5 + (bad >= 0 ? bad : 0)));
	UT_CHECK(ut_intopt(op.fd[1], SO_PEEK_OFF) == 15, "O1: SO_PEEK_OFF %d after a peek of 10",
		 ut_intopt(op.fd[1], SO_PEEK_OFF));
	n = recv(op.fd[1], buf, sizeof(buf), MSG_DONTWAIT);
	bad = n == OP_LEN ? cr_mismatch(buf, n, OP_SEED, 0) : -1;
	UT_CHECK(n == OP_LEN && bad < 0, "O1: recv returned %d (%m), byte %ld", n, bad);
	UT_CHECK(ut_intopt(op.fd[1], SO_PEEK_OFF) == 0, "O1: SO_PEEK_OFF %d after a read of 100",
		 ut_intopt(op.fd[1], SO_PEEK_OFF));
	/* O1: SO_RCVTIMEO ends a recv with nothing to read. */
	t0 = cr_now();
	errno = 0;
	n = recv(op.fd[1], buf, 1, 0);
	dt = cr_now() - t0;
	UT_CHECK(n < 0 && errno == EAGAIN && dt > 0.25 && dt < 5,
		 "O1: recv returned %d (%m) after %.2f s, expected EAGAIN after 0.3 s", n, dt);
	/* O0: SO_PASSCRED. */
	ut_send_pat(op.fd[1], OP_SEED + 1, 0, 5, 0);
	n = ut_recvmsg(op.fd[0], buf, sizeof(buf), &m, 0);
	UT_CHECK(n == 5 && cr_mismatch(buf, n, OP_SEED + 1, 0) < 0, "O0: recvmsg returned %d (%m)", n);
	UT_CHECK(m.cred && m.uc.pid == 1 && m.uc.uid == 0 && m.uc.gid == 0,
		 "O0: credentials %d: pid %d uid %u gid %u, expected init's", m.cred, m.uc.pid,
		 m.uc.uid, m.uc.gid);
	return ut_done();
}

TEST_F_TIMEOUT(usock, options, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_options, 1, 1);
}

/* -- 9. files in flight (SCM_RIGHTS) ------------------------------------------------- */

#define RF_FILE_LEN	10000
#define RF_FILE_SEED	0x5900
#define RF_PIPE_LEN	777
#define RF_PIPE_SEED	0x5901
#define RF_SEED		0x5902

/* UT_FILE: RF_FILE_LEN bytes of RF_FILE_SEED. */
static void rf_make_file(void)
{
	int fd = open(UT_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	UT_CHECK(fd >= 0, "%s: %m", UT_FILE);
	ut_send_pat(fd, RF_FILE_SEED, 0, RF_FILE_LEN, -1);
	close(fd);
}

static ino_t ut_ino(int fd)
{
	struct stat st;

	UT_CHECK(!fstat(fd, &st), "fstat %d: %m", fd);
	return st.st_ino;
}

/* @fd is UT_FILE, at @off, opened @acc. */
static void rf_is_file(int fd, off_t off, int acc, const char *what)
{
	struct stat a, b;

	UT_CHECK(!fstat(fd, &a) && !stat(UT_FILE, &b), "%s: %m", what);
	UT_CHECK(S_ISREG(a.st_mode) && a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
		 a.st_size == RF_FILE_LEN, "%s: mode %o ino %lu size %lld, %s: ino %lu", what,
		 a.st_mode, (unsigned long)a.st_ino, (long long)a.st_size, UT_FILE,
		 (unsigned long)b.st_ino);
	UT_CHECK(lseek(fd, 0, SEEK_CUR) == off, "%s: at %lld, expected %lld", what,
		 (long long)lseek(fd, 0, SEEK_CUR), (long long)off);
	UT_CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == acc, "%s: F_GETFL %#o", what,
		 fcntl(fd, F_GETFL));
}

/*
 * (a) P sends over a stream pair a message with a pipe's read end (777
 * bytes queued, no write end left) and UT_FILE opened at offset 5, and
 * exits: the files, and P's socket, live only in flight.  After restart
 * init receives both: the file reads from offset 5 to its end, the pipe
 * gives its bytes then EOF; then EOF on the pair.
 */
static struct {
	int sv[2], p[2], f;
} ra;

static void ra_sender(long unused)
{
	int fds[2] = { ra.p[0], ra.f };

	close(ra.sv[0]);
	ut_sendmsg_pat(ra.sv[1], 10, RF_SEED, 0, fds, 2, NULL);
}

static int wl_rights_files(void *arg)
{
	struct ut_msg m;

	ut_enter(NULL, 0);
	rf_make_file();
	UT_CHECK(!pipe(ra.p), "%m");
	ut_send_pat(ra.p[1], RF_PIPE_SEED, 0, RF_PIPE_LEN, -1);
	close(ra.p[1]);
	ra.f = open(UT_FILE, O_RDONLY);
	UT_CHECK(ra.f >= 0 && lseek(ra.f, 5, SEEK_SET) == 5, "%m");
	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, ra.sv), "%m");
	ut_reap(ut_spawn("ut-fdsender", ra_sender, 0), "ut-fdsender");
	close(ra.sv[1]);
	close(ra.p[0]);
	close(ra.f);
	ut_ready();
	ut_wait_go();
	UT_CHECK(ut_nread(ra.sv[0]) == 10, "SIOCINQ %d", ut_nread(ra.sv[0]));
	ut_expect_msg(ra.sv[0], 10, RF_SEED, 0, 2, &m, "the message with files");
	ut_check_type(ra.sv[0], SOCK_STREAM);
	{
		struct stat st;

		UT_CHECK(!fstat(m.fds[0], &st) && S_ISFIFO(st.st_mode), "fd 0: mode %o", st.st_mode);
	}
	UT_CHECK((fcntl(m.fds[0], F_GETFL) & O_ACCMODE) == O_RDONLY, "pipe: F_GETFL %#o",
		 fcntl(m.fds[0], F_GETFL));
	UT_CHECK(ut_nread(m.fds[0]) == RF_PIPE_LEN, "pipe: FIONREAD %d", ut_nread(m.fds[0]));
	ut_recv_pat(m.fds[0], RF_PIPE_SEED, 0, RF_PIPE_LEN, "the pipe in flight");
	ut_expect_eof(m.fds[0], "the pipe in flight has no write end");
	rf_is_file(m.fds[1], 5, O_RDONLY, "the file in flight");
	ut_recv_pat(m.fds[1], RF_FILE_SEED, 5, RF_FILE_LEN - 5, "the file in flight");
	ut_expect_eof(m.fds[1], "the end of the file");
	ut_expect_eof(ra.sv[0], "the sender exited");
	return ut_done();
}

TEST_F_TIMEOUT(usock, rights_files, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_rights_files, 1, 2);
}

/*
 * (b) Init sends to itself one message with F, F, F (UT_FILE, O_RDWR, at
 * offset 5; init keeps F open too) and one with G, F, G (G: O_RDONLY at
 * 100, closed after).  After restart: the six are UT_FILE; a read from
 * the first moves all of F's (and init's own fd), not G's; G's two move
 * together.
 */
static int wl_rights_same_file(void *arg)
{
	struct ut_msg m1, m2;
	int sv[2], f, g, fds[3];
	uint8_t buf[10];

	ut_enter(NULL, 0);
	rf_make_file();
	f = open(UT_FILE, O_RDWR);
	g = open(UT_FILE, O_RDONLY);
	UT_CHECK(f >= 0 && g >= 0 && lseek(f, 5, SEEK_SET) == 5 && lseek(g, 100, SEEK_SET) == 100,
		 "%m");
	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "%m");
	fds[0] = f;
	fds[1] = f;
	fds[2] = f;
	ut_sendmsg_pat(sv[1], 1, RF_SEED, 0, fds, 3, NULL);
	fds[0] = g;
	fds[2] = g;
	ut_sendmsg_pat(sv[1], 2, RF_SEED, 1, fds, 3, NULL);
	close(g);
	ut_ready();
	ut_wait_go();
	ut_expect_msg(sv[0], 1, RF_SEED, 0, 3, &m1, "F, F, F");
	ut_expect_msg(sv[0], 2, RF_SEED, 1, 3, &m2, "G, F, G");
	rf_is_file(m1.fds[0], 5, O_RDWR, "F (1st)");
	rf_is_file(m1.fds[1], 5, O_RDWR, "F (2nd)");
	rf_is_file(m1.fds[2], 5, O_RDWR, "F (3rd)");
	rf_is_file(m2.fds[0], 100, O_RDONLY, "G (1st)");
	rf_is_file(m2.fds[1], 5, O_RDWR, "F (4th)");
	rf_is_file(m2.fds[2], 100, O_RDONLY, "G (2nd)");
	rf_is_file(f, 5, O_RDWR, "init's F");
	UT_CHECK(read(m1.fds[0], buf, 10) == 10 && cr_mismatch(buf, 10, RF_FILE_SEED, 5) < 0, "%m");
	rf_is_file(m1.fds[1], 15, O_RDWR, "F (2nd), after a read from the 1st");
	rf_is_file(m1.fds[2], 15, O_RDWR, "F (3rd), after a read from the 1st");
	rf_is_file(m2.fds[1], 15, O_RDWR, "F (4th), after a read from the 1st");
	rf_is_file(f, 15, O_RDWR, "init's F, after a read from the 1st in flight");
	rf_is_file(m2.fds[0], 100, O_RDONLY, "G (1st), after a read from F");
	UT_CHECK(read(m2.fds[2], buf, 4) == 4 && cr_mismatch(buf, 4, RF_FILE_SEED, 100) < 0, "%m");
	rf_is_file(m2.fds[0], 104, O_RDONLY, "G (1st), after a read from the 2nd");
	rf_is_file(f, 15, O_RDWR, "init's F, after a read from G");
	ut_expect_empty(sv[0], "after the two messages");
	return ut_done();
}

TEST_F_TIMEOUT(usock, rights_same_file, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_rights_same_file, 1, 1);
}

/*
 * (c) Sockets in flight.
 * Through itself: of the pair S0, S1, S1 is sent over S1 itself, so it
 * waits in S0's queue, and closed: S1 lives only in a message that S0, kept
 * by init, can receive (not garbage: S0 is in the fd table).  S1 has 50
 * bytes from S0 queued.
 * A cycle: pairs A0, A1 and B0, B1, with 300 bytes queued on A1 and 400
 * on B1.  Then A1's queue gets B1 and B1's gets A1 (each in the other's
 * queue: a cycle), A0's gets B1 and B0's gets A1, and A1, B1 are closed:
 * they live only in flight, reachable through A0 and B0.
 * After restart: S0 gives S1, with its 50 bytes, and the two still talk;
 * A0 gives B1 and B0 gives A1, each with its bytes, then the other one of
 * the cycle (the same socket as received through A0 or B0), and the
 * pairs still talk.
 */
#define SC_SEED		0x5a00

static int sc_recv_fd(int fd, uint64_t pos, const char *what)
{
	struct ut_msg m;

	ut_expect_msg(fd, 1, SC_SEED, pos, 1, &m, what);
	ut_check_type(m.fds[0], SOCK_STREAM);
	return m.fds[0];
}

/* @a and @b are connected: @len bytes each way. */
static void sc_talk(int a, int b, uint64_t seed, const char *what)
{
	ut_send_pat(a, seed, 0, 20, 0);
	ut_recv_pat(b, seed, 0, 20, what);
	ut_send_pat(b, seed + 1, 0, 30, 0);
	ut_recv_pat(a, seed + 1, 0, 30, what);
}

static int wl_rights_self_cycle(void *arg)
{
	int s[2], a[2], b[2], x, ra1, rb1, ra1b, rb1b;

	ut_enter(NULL, 0);
	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, s), "%m");
	ut_send_pat(s[0], SC_SEED + 1, 0, 50, MSG_DONTWAIT);
	ut_sendmsg_pat(s[1], 1, SC_SEED, 0, &s[1], 1, NULL);
	close(s[1]);

	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, a), "%m");
	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, b), "%m");
	ut_send_pat(a[0], SC_SEED + 2, 0, 300, MSG_DONTWAIT);
	ut_send_pat(b[0], SC_SEED + 3, 0, 400, MSG_DONTWAIT);
	ut_sendmsg_pat(a[0], 1, SC_SEED, 1, &b[1], 1, NULL);	/* B1 in A1's queue */
	ut_sendmsg_pat(b[0], 1, SC_SEED, 2, &a[1], 1, NULL);	/* A1 in B1's queue */
	ut_sendmsg_pat(a[1], 1, SC_SEED, 3, &b[1], 1, NULL);	/* B1 in A0's queue */
	ut_sendmsg_pat(b[1], 1, SC_SEED, 4, &a[1], 1, NULL);	/* A1 in B0's queue */
	close(a[1]);
	close(b[1]);
	ut_ready();
	ut_wait_go();
	/* through itself */
	x = sc_recv_fd(s[0], 0, "S1, from S0");
	UT_CHECK(ut_nread(x) == 50, "S1: SIOCINQ %d", ut_nread(x));
	ut_recv_pat(x, SC_SEED + 1, 0, 50, "S1's queue");
	ut_expect_empty(s[0], "S0 after S1");
	sc_talk(s[0], x, SC_SEED + 10, "S0 and S1");
	/* the cycle */
	rb1 = sc_recv_fd(a[0], 3, "B1, from A0");
	ra1 = sc_recv_fd(b[0], 4, "A1, from B0");
	UT_CHECK(ut_nread(ra1) == 301, "A1: SIOCINQ %d", ut_nread(ra1));
	UT_CHECK(ut_nread(rb1) == 401, "B1: SIOCINQ %d", ut_nread(rb1));
	ut_recv_pat(ra1, SC_SEED + 2, 0, 300, "A1's queue");
	rb1b = sc_recv_fd(ra1, 1, "B1, from A1");
	ut_recv_pat(rb1, SC_SEED + 3, 0, 400, "B1's queue");
	ra1b = sc_recv_fd(rb1, 2, "A1, from B1");
	UT_CHECK(ut_ino(ra1) == ut_ino(ra1b) && ut_ino(rb1) == ut_ino(rb1b),
		 "A1 %lu and %lu, B1 %lu and %lu: not the same sockets", (unsigned long)ut_ino(ra1),
		 (unsigned long)ut_ino(ra1b), (unsigned long)ut_ino(rb1), (unsigned long)ut_ino(rb1b));
	UT_CHECK(ut_ino(ra1) != ut_ino(rb1), "A1 and B1 are one socket");
	ut_expect_empty(ra1, "A1 after its messages");
	ut_expect_empty(rb1, "B1 after its messages");
	ut_expect_empty(a[0], "A0 after B1");
	ut_expect_empty(b[0], "B0 after A1");
	sc_talk(a[0], ra1b, SC_SEED + 20, "A0 and A1");
	sc_talk(b[0], rb1b, SC_SEED + 30, "B0 and B1");
	close(ra1);
	close(ra1b);
	ut_expect_eof(a[0], "A1 closed");
	return ut_done();
}

TEST_F_TIMEOUT(usock, rights_self_cycle, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_rights_self_cycle, 1, 1);
}

/*
 * (d) P sends 4 datagrams to init: 50 bytes and no file; 1000 bytes and a
 * pipe's write end W (init keeps the read end); 0 bytes and UT_FILE at
 * offset 123; 3000 bytes and the file, W, the file.  P closes its copies
 * (as init does) and waits.  After restart each datagram comes whole with
 * its files: W writes into init's pipe, the files are one open file, and
 * once init closes the W it got, the pipe says EOF.
 */
#define RD_SEED		0x5b00
static const int rd_len[] = { 50, 1000, 0, 3000 };

static struct {
	int sv[2], p[2], f;
} rd;

static void rd_sender(long unused)
{
	int fds[3] = { rd.f, rd.p[1], rd.f }, fd = rd.sv[1];

	close(rd.sv[0]);
	close(rd.p[0]);
	ut_sendmsg_pat(fd, rd_len[0], RD_SEED, ut_pos(rd_len, 0), NULL, 0, NULL);
	ut_sendmsg_pat(fd, rd_len[1], RD_SEED, ut_pos(rd_len, 1), &rd.p[1], 1, NULL);
	ut_sendmsg_pat(fd, rd_len[2], RD_SEED, ut_pos(rd_len, 2), &rd.f, 1, NULL);
	ut_sendmsg_pat(fd, rd_len[3], RD_SEED, ut_pos(rd_len, 3), fds, 3, NULL);
	close(rd.p[1]);
	close(rd.f);
	ut_ready();
	ut_wait_go();
	ut_await("received");
}

static int wl_rights_dgram(void *arg)
{
	struct ut_msg m[4];
	struct stat st;
	pid_t c;
	int i;

	ut_enter(NULL, 0);
	rf_make_file();
	UT_CHECK(!pipe(rd.p), "%m");
	rd.f = open(UT_FILE, O_RDONLY);
	UT_CHECK(rd.f >= 0 && lseek(rd.f, 123, SEEK_SET) == 123, "%m");
	UT_CHECK(!socketpair(AF_UNIX, SOCK_DGRAM, 0, rd.sv), "%m");
	c = ut_spawn("ut-dgsender", rd_sender, 0);
	close(rd.sv[1]);
	close(rd.p[1]);
	close(rd.f);
	ut_ready();
	ut_wait_go();
	for (i = 0; i < 4; i++) {
		static const int nfds[] = { 0, 1, 1, 3 };
		char what[32];

		snprintf(what, sizeof(what), "datagram %d", i);
		ut_expect_msg(rd.sv[0], rd_len[i], RD_SEED, ut_pos(rd_len, i), nfds[i], &m[i],
			      what);
	}
	ut_expect_empty(rd.sv[0], "after the 4 datagrams");
	ut_mark("received");
	UT_CHECK(!fstat(m[1].fds[0], &st) && S_ISFIFO(st.st_mode) &&
		 st.st_ino == ut_ino(rd.p[0]), "W: mode %o ino %lu, the pipe's %lu", st.st_mode,
		 (unsigned long)st.st_ino, (unsigned long)ut_ino(rd.p[0]));
	UT_CHECK((fcntl(m[1].fds[0], F_GETFL) & O_ACCMODE) == O_WRONLY, "W: F_GETFL %#o",
		 fcntl(m[1].fds[0], F_GETFL));
	UT_CHECK(ut_ino(m[3].fds[1]) == st.st_ino, "the 2nd W: ino %lu",
		 (unsigned long)ut_ino(m[3].fds[1]));
	ut_send_pat(m[1].fds[0], RD_SEED + 1, 0, 10, -1);
	ut_send_pat(m[3].fds[1], RD_SEED + 1, 10, 10, -1);
	ut_recv_pat(rd.p[0], RD_SEED + 1, 0, 20, "written through the W in flight");
	rf_is_file(m[2].fds[0], 123, O_RDONLY, "the file of datagram 2");
	rf_is_file(m[3].fds[0], 123, O_RDONLY, "the 1st file of datagram 3");
	rf_is_file(m[3].fds[2], 123, O_RDONLY, "the 2nd file of datagram 3");
	UT_CHECK(lseek(m[2].fds[0], 200, SEEK_SET) == 200, "%m");
	rf_is_file(m[3].fds[0], 200, O_RDONLY, "the 1st file of datagram 3, after a seek of 2's");
	close(m[1].fds[0]);
	close(m[3].fds[1]);
	ut_reap(c, "ut-dgsender");
	ut_expect_eof(rd.p[0], "every W closed");
	return ut_done();
}

TEST_F_TIMEOUT(usock, rights_dgram, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_rights_dgram, 2, 2);
}

/* -- 10. credentials in flight (SCM_CREDENTIALS) ------------------------------------- */

/*
 * Init, with SO_PASSCRED on its ends of a stream and a datagram pair, gets
 * from P: on the stream, 100 bytes with P's own credentials, 200 with
 * made-up ones (pid 1, uid 1234, gid 5678: P is root), 300 with none (the
 * kernel adds P's); on the datagram pair, 10 with P's, 20 with none, 30
 * with made-up ones.  After restart each recvmsg() gives one message (on
 * the stream, messages of different credentials are never glued) with its
 * credentials: P's pid as the container sees it (getpid() in P, the same
 * after restart).
 */
#define CD_SEED		0x5c00

static struct {
	int st[2], dg[2];
} cd;

static void cd_sender(long unused)
{
	struct ucred own = { getpid(), getuid(), getgid() };
	struct ucred fake = { 1, 1234, 5678 }, fake2 = { 1, 4321, 8765 };

	close(cd.st[0]);
	close(cd.dg[0]);
	ut_sendmsg_pat(cd.st[1], 100, CD_SEED, 0, NULL, 0, &own);
	ut_sendmsg_pat(cd.st[1], 200, CD_SEED, 100, NULL, 0, &fake);
	ut_sendmsg_pat(cd.st[1], 300, CD_SEED, 300, NULL, 0, NULL);
	ut_sendmsg_pat(cd.dg[1], 10, CD_SEED + 1, 0, NULL, 0, &own);
	ut_sendmsg_pat(cd.dg[1], 20, CD_SEED + 1, 10, NULL, 0, NULL);
	ut_sendmsg_pat(cd.dg[1], 30, CD_SEED + 1, 30, NULL, 0, &fake2);
	ut_ready();
	ut_wait_go();
	UT_CHECK(getpid() == own.pid, "getpid() %d after restart, %d before", getpid(), own.pid);
	ut_await("creds-read");
}

static void cd_expect(int fd, size_t len, uint64_t seed, uint64_t pos, pid_t pid, uid_t uid,
		      gid_t gid, const char *what)
{
	struct ut_msg m;

	ut_expect_msg(fd, len, seed, pos, 0, &m, what);
	UT_CHECK(m.cred && m.uc.pid == pid && m.uc.uid == uid && m.uc.gid == gid,
		 "%s: credentials %d: pid %d uid %u gid %u, expected %d %u %u", what, m.cred,
		 m.uc.pid, m.uc.uid, m.uc.gid, pid, uid, gid);
}

static int wl_credentials(void *arg)
{
	pid_t c;

	ut_enter(NULL, 0);
	UT_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, cd.st), "%m");
	UT_CHECK(!socketpair(AF_UNIX, SOCK_DGRAM, 0, cd.dg), "%m");
	ut_setint(cd.st[0], SO_PASSCRED, 1);
	ut_setint(cd.dg[0], SO_PASSCRED, 1);
	c = ut_spawn("ut-credsender", cd_sender, 0);
	close(cd.st[1]);
	close(cd.dg[1]);
	ut_ready();
	ut_wait_go();
	UT_CHECK(ut_nread(cd.st[0]) == 600, "stream: SIOCINQ %d", ut_nread(cd.st[0]));
	cd_expect(cd.st[0], 100, CD_SEED, 0, c, 0, 0, "stream, P's own");
	cd_expect(cd.st[0], 200, CD_SEED, 100, 1, 1234, 5678, "stream, made up");
	cd_expect(cd.st[0], 300, CD_SEED, 300, c, 0, 0, "stream, added by the kernel");
	ut_expect_empty(cd.st[0], "the stream after 3 messages");
	cd_expect(cd.dg[0], 10, CD_SEED + 1, 0, c, 0, 0, "datagram, P's own");
	cd_expect(cd.dg[0], 20, CD_SEED + 1, 10, c, 0, 0, "datagram, added by the kernel");
	cd_expect(cd.dg[0], 30, CD_SEED + 1, 30, 1, 4321, 8765, "datagram, made up");
	ut_expect_empty(cd.dg[0], "the datagram socket after 3 datagrams");
	ut_mark("creds-read");
	ut_reap(c, "ut-credsender");
	return ut_done();
}

TEST_F_TIMEOUT(usock, credentials, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_credentials, 2, 2);
}

/* -- 11. a peer outside the container ----------------------------------------------- */

/*
 * Init has X, its end of a socketpair the test made (the test keeps the
 * other end and had sent 1500 bytes), and C, connected to UT_XSRV, where
 * the test listens (the test accepted, and sent 2500 bytes).  Checkpoint,
 * with or without CHECKPOINT_KILL, is refused (EBUSY, naming a socket) and
 * the container goes on thawed.  With CHECKPOINT_SOCK_DISCONNECT: after
 * restart C reads the 2500 bytes, then ECONNRESET once, then EOF, and a
 * send fails with EPIPE; X reads the 1500 bytes, SO_ERROR says ECONNRESET
 * once, then EOF and EPIPE.
 */
#define XO_PAIR_LEN	1500
#define XO_CONN_LEN	2500
#define XO_SEED		0x5d00

static int xo_fd;	/* X, the container's end of the test's socketpair */

static int ut_sockerr(int fd)
{
	return ut_intopt(fd, SO_ERROR);
}

static int wl_outside(void *arg)
{
	struct sockaddr_un sa;
	socklen_t sl = ut_sa_path(&sa, UT_XSRV);
	int c, err;

	ut_enter(&xo_fd, 1);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	UT_CHECK(c >= 0 && !connect(c, (void *)&sa, sl), "connect to the test's %s: %m", UT_XSRV);
	ut_send_pat(c, XO_SEED + 2, 0, 100, MSG_DONTWAIT);
	ut_send_pat(xo_fd, XO_SEED + 3, 0, 100, MSG_DONTWAIT);
	ut_ready();
	while (access(UT_GO, F_OK)) {
		ut_counter++;
		cr_msleep(1);
	}
	/* C: the reset comes from read(). */
	UT_CHECK(ut_nread(c) == XO_CONN_LEN, "C: SIOCINQ %d", ut_nread(c));
	ut_recv_pat(c, XO_SEED + 1, 0, XO_CONN_LEN, "C, sent from outside before the checkpoint");
	ut_expect_rderr(c, ECONNRESET, "C: the outside peer is gone");
	ut_expect_eof(c, "C: after the reset");
	ut_expect_eof(c, "C: after the reset, again");
	ut_expect_epipe(c, "C: the outside peer is gone");
	/* X: the reset comes from SO_ERROR. */
	UT_CHECK(ut_nread(xo_fd) == XO_PAIR_LEN, "X: SIOCINQ %d", ut_nread(xo_fd));
	ut_recv_pat(xo_fd, XO_SEED, 0, XO_PAIR_LEN, "X, sent from outside before the checkpoint");
	err = ut_sockerr(xo_fd);
	UT_CHECK(err == ECONNRESET, "X: SO_ERROR %d (%s), expected ECONNRESET", err, strerror(err));
	err = ut_sockerr(xo_fd);
	UT_CHECK(err == 0, "X: SO_ERROR %d (%s) a second time", err, strerror(err));
	ut_expect_eof(xo_fd, "X: after the reset");
	ut_expect_epipe(xo_fd, "X: the outside peer is gone");
	return ut_done();
}

TEST_F_TIMEOUT(usock, outside_peer, UT_TIMEOUT)
{
	static const unsigned long refused[] = { 0, CHECKPOINT_KILL };
	struct ut_env *e = &self->e;
	struct sockaddr_un sa;
	socklen_t sl = ut_sa_path(&sa, UT_XSRV);
	uint8_t buf[XO_CONN_LEN];
	struct pollfd pfd;
	int xs[2], l, p, ret;
	unsigned int i;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, xs));
	cr_pattern(buf, XO_PAIR_LEN, XO_SEED, 0);
	ASSERT_EQ(XO_PAIR_LEN, send(xs[0], buf, XO_PAIR_LEN, MSG_NOSIGNAL));
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, bind(l, (void *)&sa, sl));
	ASSERT_EQ(0, listen(l, 4));
	xo_fd = xs[1];
	ut_start(_metadata, e, wl_outside, 1);
	close(xs[1]);
	pfd.fd = l;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000)) TH_LOG("the container did not connect");
	p = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, p);
	cr_pattern(buf, XO_CONN_LEN, XO_SEED + 1, 0);
	ASSERT_EQ(XO_CONN_LEN, send(p, buf, XO_CONN_LEN, MSG_NOSIGNAL));
	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		ret = cr_checkpoint_flags(e->init, UT_IMG, refused[i], e->why, sizeof(e->why));
		EXPECT_EQ(-EBUSY, ret) TH_LOG("checkpoint with flags %#lx: %s (%s)", refused[i],
					      strerror(-ret), e->why);
		TH_LOG("reason: %s", e->why);
		EXPECT_NE(NULL, strstr(e->why, "socket")) TH_LOG("the reason names no socket");
		EXPECT_EQ(0, cr_running_and_thawed(e->init, e->cgpath, &ut_counter))
			TH_LOG("after the refused checkpoint with flags %#lx", refused[i]);
	}
	ut_cycle(_metadata, e, CHECKPOINT_SOCK_DISCONNECT);
	ut_finish(_metadata, e, 1);
	close(p);
	close(l);
	close(xs[0]);
}

/* -- 12. a conversation through a bound path ------------------------------------------ */

/*
 * The client C connects to the server S through UT_CONV; C sends request
 * n (a header, then 1 to 3000 bytes that depend on n), S checks that it
 * is request n (none lost or repeated) and its bytes, and answers with a
 * response of its own that C checks.  They go on through the checkpoint
 * (nothing happens after the capture: CHECKPOINT_KILL) and after restart
 * until the test says stop: with no gap, no duplicate, no broken message.
 */
#define CV_BEFORE	200	/* exchanges before the checkpoint, at least */
#define CV_AFTER	300	/* and after restart */
#define CV_STOP		0xffffffffu
#define CV_SEED		0x5e00

struct cv_hdr {
	uint32_t seq, len;
};

static int cv_l;

static uint32_t cv_req_len(uint32_t seq)
{
	return seq * 2654435761u % 3000 + 1;
}

static uint32_t cv_resp_len(uint32_t seq)
{
	return seq * 40503u % 2000;
}

/*
 * Blocking reads, no poll(): the checkpoint catches the two in the middle
 * of their system calls, and an interrupted poll() with a timeout cannot be
 * carried on by restart.  A peer that never answers is caught by init's
 * ut_reap() instead.
 */
static void cv_read(int fd, void *buf, size_t len, const char *what, uint32_t seq)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = UT_RETRY(read(fd, (uint8_t *)buf + done, len - done));
		UT_CHECK(n > 0, "%s %u: read at byte %zu of %zu: %zd (%m)", what, seq, done, len,
			 n);
		done += n;
	}
}

static void cv_write(int fd, const void *buf, size_t len, const char *what, uint32_t seq)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = UT_RETRY(send(fd, (const uint8_t *)buf + done, len - done, MSG_NOSIGNAL));
		UT_CHECK(n > 0, "%s %u: send at byte %zu of %zu: %m", what, seq, done, len);
		done += n;
	}
}

static void cv_server(long unused)
{
	static uint8_t buf[4096];
	struct cv_hdr h;
	uint32_t seq;
	int a;
	long bad;

	a = UT_RETRY(accept(cv_l, NULL, NULL));
	UT_CHECK(a >= 0, "accept: %m");
	close(cv_l);
	ut_ready();
	for (seq = 0;; seq++) {
		cv_read(a, &h, sizeof(h), "request header", seq);
		if (h.seq == CV_STOP)
			break;
		UT_CHECK(h.seq == seq, "request %u, expected %u: one lost or repeated", h.seq, seq);
		UT_CHECK(h.len == cv_req_len(seq), "request %u: %u bytes, expected %u", seq, h.len,
			 cv_req_len(seq));
		cv_read(a, buf, h.len, "request", seq);
		bad = cr_mismatch(buf, h.len, CV_SEED, (uint64_t)seq << 12);
		UT_CHECK(bad < 0, "request %u: byte %ld is %#x, expected %#x", seq, bad, buf[bad],
			 cr_pat_byte(CV_SEED, ((uint64_t)seq << 12) + bad));
		h.len = cv_resp_len(seq);
		cr_pattern(buf, h.len, CV_SEED + 1, (uint64_t)seq << 12);
		cv_write(a, &h, sizeof(h), "response header", seq);
		cv_write(a, buf, h.len, "response", seq);
	}
	cr_line(UT_RES, "info %s: %u requests\n", ut_who, seq);
	h.len = 0;
	cv_write(a, &h, sizeof(h), "stop", seq);
	ut_expect_eof(a, "the client closed");
}

static void cv_client(long unused)
{
	struct sockaddr_un sa;
	socklen_t sl = ut_sa_path(&sa, UT_CONV);
	static uint8_t buf[4096];
	struct cv_hdr h;
	uint32_t seq;
	int c;
	long bad;

	close(cv_l);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	UT_CHECK(c >= 0 && !connect(c, (void *)&sa, sl), "connect to %s: %m", UT_CONV);
	ut_ready();
	for (seq = 0;; seq++) {
		if (!(seq & 15) && !access(UT_GO, F_OK))
			break;
		h.seq = seq;
		h.len = cv_req_len(seq);
		cr_pattern(buf, h.len, CV_SEED, (uint64_t)seq << 12);
		cv_write(c, &h, sizeof(h), "request header", seq);
		cv_write(c, buf, h.len, "request", seq);
		cv_read(c, &h, sizeof(h), "response header", seq);
		UT_CHECK(h.seq == seq && h.len == cv_resp_len(seq),
			 "response %u of %u bytes, expected %u of %u", h.seq, h.len, seq,
			 cv_resp_len(seq));
		cv_read(c, buf, h.len, "response", seq);
		bad = cr_mismatch(buf, h.len, CV_SEED + 1, (uint64_t)seq << 12);
		UT_CHECK(bad < 0, "response %u: byte %ld is %#x, expected %#x", seq, bad, buf[bad],
			 cr_pat_byte(CV_SEED + 1, ((uint64_t)seq << 12) + bad));
		ut_counter = seq + 1;
	}
	h.seq = CV_STOP;
	h.len = 0;
	cv_write(c, &h, sizeof(h), "stop", seq);
	cv_read(c, &h, sizeof(h), "stop", seq);
	UT_CHECK(h.seq == CV_STOP, "answer %u to stop", h.seq);
	cr_line(UT_RES, "info %s: %u exchanges\n", ut_who, seq);
	close(c);
}

static int wl_conversation(void *arg)
{
	struct sockaddr_un sa;
	socklen_t sl = ut_sa_path(&sa, UT_CONV);
	pid_t s, c;

	ut_enter(NULL, 0);
	cv_l = socket(AF_UNIX, SOCK_STREAM, 0);
	UT_CHECK(cv_l >= 0 && !bind(cv_l, (void *)&sa, sl) && !listen(cv_l, 1), "%m");
	s = ut_spawn("ut-server", cv_server, 0);
	c = ut_spawn("ut-client", cv_client, 0);
	close(cv_l);
	ut_ready();
	ut_wait_go();
	ut_reap(c, "ut-client");
	ut_reap(s, "ut-server");
	return ut_done();
}

/* The client's count of exchanges, or 0. */
static uint64_t cv_count(pid_t root)
{
	pid_t c = cr_find_below(root, "ut-client");
	uint64_t n = 0;

	if (c < 0 || cr_peek(c, (void *)&ut_counter, &n))
		return 0;
	return n;
}

TEST_F_TIMEOUT(usock, conversation, UT_TIMEOUT)
{
	struct ut_env *e = &self->e;
	uint64_t before = 0, restored, after = 0;
	int i;

	ut_start(_metadata, e, wl_conversation, 3);
	for (i = 0; i < 750 && (before = cv_count(e->init)) < CV_BEFORE; i++)
		cr_msleep(20);
	ASSERT_LE(CV_BEFORE, before) TH_LOG("%llu exchanges before the checkpoint",
					    (unsigned long long)before);
	ut_cycle(_metadata, e, 0);
	restored = cv_count(e->init);
	EXPECT_LE(before, restored)
		TH_LOG("%llu exchanges seen before, %llu restored", (unsigned long long)before,
		       (unsigned long long)restored);
	for (i = 0; i < 750 && (after = cv_count(e->init)) < restored + CV_AFTER; i++)
		cr_msleep(20);
	EXPECT_LE(restored + CV_AFTER, after)
		TH_LOG("%llu exchanges restored, %llu 15 s after restart",
		       (unsigned long long)restored, (unsigned long long)after);
	TH_LOG("%llu exchanges at the checkpoint, %llu in all", (unsigned long long)restored,
	       (unsigned long long)after);
	ut_finish(_metadata, e, 3);
}

/* -- 13. a pending connection whose client is gone ------------------------------------- */

/*
 * Init listens on UT_GONE (backlog 4).  Client A connects, sends 3000
 * bytes and exits: its socket is closed, its connection waits in the
 * queue with no client.  Then client B connects and waits, having sent
 * nothing.  After restart accept() gives A's connection first, from no
 * address: POLLIN|POLLRDHUP|POLLHUP, SIOCINQ 3000, the 3000 bytes, then
 * EOF (twice), no pending error, and a send fails with EPIPE; then B's
 * connection, which works both ways; then nothing is left to accept.
 */
#define CG_A_LEN	3000
#define CG_B_REPLY	2000
#define CG_B_MORE	700
#define CG_SEED		0x5f00

static int cg_l;

static int cg_connect(void)
{
	struct sockaddr_un sa;
	socklen_t sl = ut_sa_path(&sa, UT_GONE);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	UT_CHECK(s >= 0, "%m");
	UT_CHECK(!UT_RETRY(connect(s, (void *)&sa, sl)), "connect to %s: %m", UT_GONE);
	return s;
}

/* A: connects, sends, exits (its socket closed with it). */
static void cg_client_a(long unused)
{
	int s;

	close(cg_l);
	s = cg_connect();
	ut_send_pat(s, CG_SEED, 0, CG_A_LEN, MSG_DONTWAIT);
}

static void cg_client_b(long unused)
{
	int s;

	close(cg_l);
	s = cg_connect();
	ut_mark("client-b");
	ut_ready();
	ut_wait_go();
	ut_check_type(s, SOCK_STREAM);
	ut_check_name(s, 1, UT_GONE, strlen(UT_GONE), "B's peer");
	ut_check_name(s, 0, "", 0, "B (unbound)");
	/*
	 * Init may have sent its reply already, so SIOCINQ proves nothing
	 * here: a byte restored into B's queue would come before the reply
	 * and break its pattern from byte 0.
	 */
	ut_recv_pat(s, CG_SEED + 1, 0, CG_B_REPLY, "B, from init after restart");
	ut_send_pat(s, CG_SEED + 2, 0, CG_B_MORE, 0);
	ut_expect_eof(s, "B: init closed the accepted socket");
}

static int wl_client_gone(void *arg)
{
	struct sockaddr_un sa;
	socklen_t sl = ut_sa_path(&sa, UT_GONE);
	int a, r, err;
	pid_t b;

	ut_enter(NULL, 0);
	cg_l = socket(AF_UNIX, SOCK_STREAM, 0);
	UT_CHECK(cg_l >= 0 && !bind(cg_l, (void *)&sa, sl) && !listen(cg_l, 4), "%m");
	ut_reap(ut_spawn("ut-client-a", cg_client_a, 0), "ut-client-a");
	b = ut_spawn("ut-client-b", cg_client_b, 0);
	ut_await("client-b");
	ut_ready();
	ut_wait_go();
	ut_check_type(cg_l, SOCK_STREAM);
	ut_check_name(cg_l, 0, UT_GONE, strlen(UT_GONE), "the listener");
	/* A's connection: its bytes, then the end of a closed client. */
	a = ut_accept(cg_l, 0);
	ut_check_name(a, 0, UT_GONE, strlen(UT_GONE), "A's connection");
	r = ut_poll(a, POLLIN | POLLRDHUP, 0);
	UT_EXPECT(r > 0 && (r & POLLIN) && (r & POLLRDHUP) && (r & POLLHUP) && !(r & POLLERR),
		  "A's connection: poll %#x, expected POLLIN|POLLRDHUP|POLLHUP", r);
	UT_CHECK(ut_nread(a) == CG_A_LEN, "A's connection: SIOCINQ %d, A sent %d bytes",
		 ut_nread(a), CG_A_LEN);
	ut_recv_pat(a, CG_SEED, 0, CG_A_LEN, "A's connection, sent before A exited");
	ut_expect_eof(a, "A's connection: A is gone");
	ut_expect_eof(a, "A's connection: A is gone, again");
	err = ut_sockerr(a);
	UT_EXPECT(err == 0, "A's connection: SO_ERROR %d (%s)", err, strerror(err));
	ut_expect_epipe(a, "A's connection: A is gone");
	close(a);
	/* B's connection: alive. */
	a = ut_accept(cg_l, 1);
	ut_check_name(a, 0, UT_GONE, strlen(UT_GONE), "B's connection");
	UT_CHECK(ut_nread(a) == 0, "B's connection: SIOCINQ %d", ut_nread(a));
	ut_expect_empty(a, "B's connection, B sent nothing");
	ut_send_pat(a, CG_SEED + 1, 0, CG_B_REPLY, 0);
	ut_recv_pat(a, CG_SEED + 2, 0, CG_B_MORE, "B's connection, after restart");
	close(a);
	UT_CHECK(ut_poll(cg_l, POLLIN, 0) == 0, "a 3rd connection to accept");
	ut_reap(b, "ut-client-b");
	return ut_done();
}

TEST_F_TIMEOUT(usock, listener_client_gone, UT_TIMEOUT)
{
	struct stat st;

	ut_start(_metadata, &self->e, wl_client_gone, 2);
	ut_cycle(_metadata, &self->e, 0);
	ASSERT_EQ(0, stat(UT_GONE, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode)) TH_LOG("mode %o", st.st_mode);
	ut_finish(_metadata, &self->e, 3);
}

/* -- 14. a socket file's path of 108 bytes ---------------------------------------------- */

/*
 * Init listens on a path of exactly 108 bytes, all of sun_path with no
 * NUL (bound with an address of offsetof(sun_path) + 108 bytes), in a
 * directory of a long name under UT_DIR; client C connected and sent 2500
 * bytes.  After restart: the socket file is at that path (same mode); the
 * listener, the connection accepted and C's peer have the names they had
 * (getsockname(), getpeername(): the same bytes, the same length); accept()
 * gives C's connection with its bytes and the two talk; a new client
 * connects to the path.
 */
#define LP_LEN		108	/* sizeof(sun_path) */
#define LP_C_LEN	2500
#define LP_SEED		0x6000

static struct {
	char path[LP_LEN + 1], dir[LP_LEN + 1];
	struct sockaddr_storage name;	/* the listener's, before */
	socklen_t namelen;
	int l;
} lp;

/* UT_DIR/long-xxx...x/lp.sock: LP_LEN bytes. */
static void lp_make_path(void)
{
	static const char sock[] = "/lp.sock";
	size_t n;

	snprintf(lp.dir, sizeof(lp.dir), "%s/long-", UT_DIR);
	n = LP_LEN - strlen(lp.dir) - strlen(sock);
	memset(lp.dir + strlen(lp.dir), 'x', n);
	lp.dir[LP_LEN - strlen(sock)] = '\0';
	snprintf(lp.path, sizeof(lp.path), "%s%s", lp.dir, sock);
}

static socklen_t lp_sa(struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, lp.path, LP_LEN);	/* no NUL */
	return offsetof(struct sockaddr_un, sun_path) + LP_LEN;
}

/* getsockname() or getpeername() of @fd, in a sockaddr_storage (a full sun_path runs past). */
static socklen_t lp_name(int fd, int peer, struct sockaddr_storage *ss, const char *what)
{
	socklen_t l = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	UT_CHECK(!(peer ? getpeername(fd, (void *)ss, &l) : getsockname(fd, (void *)ss, &l)),
		 "%s: %s: %m", what, peer ? "getpeername" : "getsockname");
	return l;
}

/* @fd's name (or its peer's) is the listener's of before the checkpoint. */
static void lp_check_name(int fd, int peer, const char *what)
{
	struct sockaddr_storage ss;
	socklen_t l = lp_name(fd, peer, &ss, what);
	const char *p = ((struct sockaddr_un *)&ss)->sun_path;
	int n = l > offsetof(struct sockaddr_un, sun_path) ?
		(int)(l - offsetof(struct sockaddr_un, sun_path)) : 0;

	UT_EXPECT(l == lp.namelen && !memcmp(&ss, &lp.name, l),
		  "%s: %s gives %u bytes '%.*s', the listener's were %u bytes", what,
		  peer ? "getpeername" : "getsockname", l, n > 110 ? 110 : n, p, lp.namelen);
}

static void lp_client(long unused)
{
	struct sockaddr_storage peer;
	struct sockaddr_un sa;
	socklen_t sl = lp_sa(&sa), pl;
	int s;

	close(lp.l);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	UT_CHECK(s >= 0, "%m");
	UT_CHECK(!UT_RETRY(connect(s, (void *)&sa, sl)), "connect to the path of %d bytes: %m",
		 LP_LEN);
	ut_send_pat(s, LP_SEED, 0, LP_C_LEN, MSG_DONTWAIT);
	pl = lp_name(s, 1, &peer, "C's peer, before");
	UT_CHECK(pl == lp.namelen && !memcmp(&peer, &lp.name, pl),
		 "C's peer before the checkpoint: %u bytes, not the listener's %u", pl, lp.namelen);
	ut_ready();
	ut_wait_go();
	ut_check_type(s, SOCK_STREAM);
	lp_check_name(s, 1, "C's peer");
	ut_check_name(s, 0, "", 0, "C (unbound)");
	ut_recv_pat(s, LP_SEED + 1, 0, 100, "C, from init");
	ut_send_pat(s, LP_SEED, LP_C_LEN, 300, 0);
	ut_expect_eof(s, "C: init closed the accepted socket");
}

static int wl_long_path(void *arg)
{
	struct sockaddr_un sa;
	socklen_t sl = lp_sa(&sa);
	struct stat st;
	mode_t mode;
	int a, n;
	pid_t c;

	ut_enter(NULL, 0);
	lp.l = socket(AF_UNIX, SOCK_STREAM, 0);
	UT_CHECK(lp.l >= 0, "%m");
	UT_CHECK(!bind(lp.l, (void *)&sa, sl), "bind to %s (%d bytes, no NUL): %m", lp.path,
		 LP_LEN);
	UT_CHECK(!listen(lp.l, 4), "%m");
	UT_CHECK(!stat(lp.path, &st) && S_ISSOCK(st.st_mode), "%s: %m", lp.path);
	mode = st.st_mode;
	lp.namelen = lp_name(lp.l, 0, &lp.name, "the listener, before");
	UT_CHECK(lp.namelen >= offsetof(struct sockaddr_un, sun_path) + LP_LEN &&
		 !memcmp(((struct sockaddr_un *)&lp.name)->sun_path, lp.path, LP_LEN),
		 "the listener before the checkpoint: a name of %u bytes", lp.namelen);
	c = ut_spawn("ut-lpclient", lp_client, 0);
	ut_ready();
	ut_wait_go();
	UT_CHECK(!stat(lp.path, &st), "%s after restart: %m", lp.path);
	UT_CHECK(S_ISSOCK(st.st_mode) && st.st_mode == mode, "%s: mode %o, %o before", lp.path,
		 st.st_mode, mode);
	ut_check_type(lp.l, SOCK_STREAM);
	lp_check_name(lp.l, 0, "the listener");
	UT_CHECK(ut_intopt(lp.l, SO_ACCEPTCONN) == 1, "SO_ACCEPTCONN %d",
		 ut_intopt(lp.l, SO_ACCEPTCONN));
	a = ut_accept(lp.l, 0);
	lp_check_name(a, 0, "C's connection");
	UT_CHECK(ut_nread(a) == LP_C_LEN, "C's connection: SIOCINQ %d, C sent %d bytes",
		 ut_nread(a), LP_C_LEN);
	ut_recv_pat(a, LP_SEED, 0, LP_C_LEN, "C's connection, sent before the checkpoint");
	ut_send_pat(a, LP_SEED + 1, 0, 100, 0);
	ut_recv_pat(a, LP_SEED, LP_C_LEN, 300, "C's connection, after restart");
	close(a);
	UT_CHECK(ut_poll(lp.l, POLLIN, 0) == 0, "a 2nd connection to accept");
	/* A client of after restart, through the path. */
	n = socket(AF_UNIX, SOCK_STREAM, 0);
	UT_CHECK(n >= 0, "%m");
	UT_CHECK(!UT_RETRY(connect(n, (void *)&sa, sl)),
		 "a new client: connect to the path of %d bytes: %m", LP_LEN);
	lp_check_name(n, 1, "the new client's peer");
	a = ut_accept(lp.l, 1);
	lp_check_name(a, 0, "the new client's connection");
	ut_send_pat(n, LP_SEED + 2, 0, 1000, 0);
	ut_recv_pat(a, LP_SEED + 2, 0, 1000, "from the new client");
	ut_send_pat(a, LP_SEED + 3, 0, 10, 0);
	ut_recv_pat(n, LP_SEED + 3, 0, 10, "the new client, from init");
	close(a);
	ut_expect_eof(n, "the new client: init closed");
	close(n);
	ut_reap(c, "ut-lpclient");
	return ut_done();
}

TEST_F_TIMEOUT(usock, long_path, UT_TIMEOUT)
{
	struct stat st;

	lp_make_path();
	ASSERT_EQ(LP_LEN, strlen(lp.path)) TH_LOG("%s", lp.path);
	unlink(lp.path);
	ASSERT_TRUE(!mkdir(lp.dir, 0755) || errno == EEXIST) TH_LOG("mkdir %s: %m", lp.dir);
	ut_start(_metadata, &self->e, wl_long_path, 2);
	ut_cycle(_metadata, &self->e, 0);
	ASSERT_EQ(0, stat(lp.path, &st)) TH_LOG("%s after restart: %m", lp.path);
	EXPECT_TRUE(S_ISSOCK(st.st_mode)) TH_LOG("mode %o", st.st_mode);
	ut_finish(_metadata, &self->e, 2);
	unlink(lp.path);
	rmdir(lp.dir);
}

/* -- 15. a receive timestamp: refused ----------------------------------------------------- */

/*
 * Init has a datagram pair; T, one end, has SO_TIMESTAMP on; each end has
 * a datagram queued.  Checkpoint, with or without CHECKPOINT_KILL, is
 * refused (EOPNOTSUPP, the reason names SO_TIMESTAMP) and the container
 * goes on thawed; then T still has SO_TIMESTAMP (the other end not), each
 * end reads its datagram, byte for byte (T's with its SCM_TIMESTAMP), and
 * T gets one more with a timestamp.
 */
#define TS_SEED		0x6100

static int wl_timestamp(void *arg)
{
	struct ut_msg m;
	int sv[2];

	ut_enter(NULL, 0);
	UT_CHECK(!socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), "%m");
	ut_setint(sv[0], SO_TIMESTAMP, 1);
	ut_send_msg(sv[1], 300, TS_SEED, 0, MSG_DONTWAIT);
	ut_send_msg(sv[0], 400, TS_SEED + 1, 0, MSG_DONTWAIT);
	ut_ready();
	while (access(UT_GO, F_OK)) {
		ut_counter++;
		cr_msleep(1);
	}
	UT_CHECK(ut_intopt(sv[0], SO_TIMESTAMP) == 1, "T: SO_TIMESTAMP %d",
		 ut_intopt(sv[0], SO_TIMESTAMP));
	UT_CHECK(ut_intopt(sv[1], SO_TIMESTAMP) == 0, "the other end: SO_TIMESTAMP %d",
		 ut_intopt(sv[1], SO_TIMESTAMP));
	UT_CHECK(ut_nread(sv[0]) == 300, "T: SIOCINQ %d", ut_nread(sv[0]));
	ut_expect_msg(sv[0], 300, TS_SEED, 0, 0, &m, "T's datagram");
	UT_CHECK(m.tstamp, "T's datagram: no SCM_TIMESTAMP");
	ut_expect_msg(sv[1], 400, TS_SEED + 1, 0, 0, &m, "the other end's datagram");
	UT_CHECK(!m.tstamp, "the other end's datagram: an SCM_TIMESTAMP");
	ut_expect_empty(sv[0], "T after its datagram");
	ut_expect_empty(sv[1], "the other end after its datagram");
	ut_send_msg(sv[1], 50, TS_SEED, 300, 0);
	ut_expect_msg(sv[0], 50, TS_SEED, 300, 0, &m, "T's datagram after the refusals");
	UT_CHECK(m.tstamp, "T's datagram after the refusals: no SCM_TIMESTAMP");
	return ut_done();
}

TEST_F_TIMEOUT(usock, refuse_timestamp, UT_TIMEOUT)
{
	static const unsigned long flags[] = { 0, CHECKPOINT_KILL };
	struct ut_env *e = &self->e;
	unsigned int i;
	int ret;

	ut_start(_metadata, e, wl_timestamp, 1);
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		ret = cr_checkpoint_flags(e->init, UT_IMG, flags[i], e->why, sizeof(e->why));
		EXPECT_EQ(-EOPNOTSUPP, ret) TH_LOG("checkpoint with flags %#lx: %s (%s)", flags[i],
						   strerror(-ret), e->why);
		TH_LOG("reason: %s", e->why);
		EXPECT_NE(NULL, strstr(e->why, "SO_TIMESTAMP"))
			TH_LOG("the reason names no SO_TIMESTAMP");
		EXPECT_EQ(0, cr_running_and_thawed(e->init, e->cgpath, &ut_counter))
			TH_LOG("after the refused checkpoint with flags %#lx", flags[i]);
	}
	ut_finish(_metadata, e, 1);
}

/* -- 16. a datagram receiver whose connected sender is closed, connected itself -------- */

/*
 * R is bound to an abstract name; S, unbound, connect()s to R, sends 3
 * datagrams and is closed.  Then R connect()s to P (bound to another
 * abstract name) and sends 2 that P does not read; from then on a stranger
 * may not send to R (EPERM).  After restart: R's name and its peer's, and
 * P's, are as before (P has no peer); R gets S's 3 datagrams, each from no
 * address (recvfrom() gives a name of 0 bytes, as Linux does for any
 * unbound sender: checked before the checkpoint too, with MSG_PEEK); P
 * gets R's 2, from R's name; R sends to P with no address; a new socket
 * may send to P but not to R (EPERM), and P may send to R.
 */
#define DC_SEED		0x6200
static const int dc_s_len[] = { 700, 0, 2000 };
static const int dc_r_len[] = { 100, 1234 };

/* A new unbound socket cannot send to R, connected to P. */
static void dc_stranger_refused(const struct sockaddr_un *rsa, socklen_t rsl, const char *when)
{
	int n = socket(AF_UNIX, SOCK_DGRAM, 0);
	ssize_t k;

	UT_CHECK(n >= 0, "%m");
	errno = 0;
	k = sendto(n, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL, (void *)rsa, rsl);
	UT_EXPECT(k < 0 && errno == EPERM,
		  "%s: a new socket's sendto R (connected to P): %zd (%m), expected EPERM", when,
		  k);
	close(n);
}

static int wl_dgram_closed_sender(void *arg)
{
	static uint8_t buf[4096];
	char rname[64], pname[64];
	struct sockaddr_un rsa, psa, sa;
	socklen_t rsl, psl, l;
	size_t rlen, plen;
	struct ut_msg m;
	int r, s, p, n, i;
	ssize_t k;

	ut_enter(NULL, 0);
	rlen = ut_abstract(rname, sizeof(rname), "-r");
	plen = ut_abstract(pname, sizeof(pname), "-p");
	rsl = ut_sa(&rsa, rname, rlen);
	psl = ut_sa(&psa, pname, plen);
	r = socket(AF_UNIX, SOCK_DGRAM, 0);
	p = socket(AF_UNIX, SOCK_DGRAM, 0);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	UT_CHECK(r >= 0 && p >= 0 && s >= 0, "%m");
	UT_CHECK(!bind(r, (void *)&rsa, rsl), "bind R to %s: %m", rname + 1);
	UT_CHECK(!bind(p, (void *)&psa, psl), "bind P to %s: %m", pname + 1);
	UT_CHECK(!connect(s, (void *)&rsa, rsl), "connect S to R: %m");
	ut_check_name(s, 0, "", 0, "S, connected (still unbound)");
	for (i = 0; i < (int)ARRAY_SIZE(dc_s_len); i++)
		ut_send_msg(s, dc_s_len[i], DC_SEED, ut_pos(dc_s_len, i), MSG_DONTWAIT);
	close(s);
	UT_CHECK(!connect(r, (void *)&psa, psl), "connect R to P: %m");
	for (i = 0; i < (int)ARRAY_SIZE(dc_r_len); i++)
		ut_send_msg(r, dc_r_len[i], DC_SEED + 1, ut_pos(dc_r_len, i), MSG_DONTWAIT);
	/* What Linux itself says of S's datagrams. */
	k = ut_recvmsg(r, buf, sizeof(buf), &m, MSG_PEEK | MSG_DONTWAIT);
	UT_CHECK(k == dc_s_len[0] && m.salen == 0,
		 "before the checkpoint: MSG_PEEK gives %zd bytes (%m) from a name of %u bytes", k,
		 m.salen);
	dc_stranger_refused(&rsa, rsl, "before the checkpoint");
	UT_CHECK(!ut_failed, "before the checkpoint");
	ut_ready();
	ut_wait_go();
	ut_check_type(r, SOCK_DGRAM);
	ut_check_type(p, SOCK_DGRAM);
	ut_check_name(r, 0, rname, rlen, "R");
	ut_check_name(r, 1, pname, plen, "R's peer");
	ut_check_name(p, 0, pname, plen, "P");
	l = sizeof(sa);
	errno = 0;
	UT_EXPECT(getpeername(p, (void *)&sa, &l) < 0 && errno == ENOTCONN,
		  "P: getpeername: %m, expected ENOTCONN (P connected to nothing)");
	for (i = 0; i < (int)ARRAY_SIZE(dc_s_len); i++)
		dn_expect(r, i, dc_s_len[i], DC_SEED, ut_pos(dc_s_len, i), "", 0);
	ut_expect_empty(r, "R after S's 3 datagrams");
	for (i = 0; i < (int)ARRAY_SIZE(dc_r_len); i++)
		dn_expect(p, 10 + i, dc_r_len[i], DC_SEED + 1, ut_pos(dc_r_len, i), rname, rlen);
	ut_expect_empty(p, "P after R's 2 datagrams");
	/* R still sends to its peer with no address. */
	ut_send_msg(r, 55, DC_SEED + 2, 0, 0);
	dn_expect(p, 20, 55, DC_SEED + 2, 0, rname, rlen);
	/* A stranger: to R no, to P yes; P to R yes (R's peer). */
	dc_stranger_refused(&rsa, rsl, "after restart");
	n = socket(AF_UNIX, SOCK_DGRAM, 0);
	UT_CHECK(n >= 0, "%m");
	ut_sendto_msg(n, 66, DC_SEED + 3, 0, &psa, psl);
	dn_expect(p, 21, 66, DC_SEED + 3, 0, "", 0);
	ut_sendto_msg(p, 77, DC_SEED + 4, 0, &rsa, rsl);
	dn_expect(r, 22, 77, DC_SEED + 4, 0, pname, plen);
	ut_expect_empty(r, "R at the end");
	ut_expect_empty(p, "P at the end");
	close(n);
	return ut_done();
}

TEST_F_TIMEOUT(usock, dgram_sender_closed_after_connect, UT_TIMEOUT)
{
	ut_run(_metadata, &self->e, wl_dgram_closed_sender, 1, 1);
}

TEST_HARNESS_MAIN
