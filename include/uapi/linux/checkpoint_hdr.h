/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * linux-cr checkpoint image format.  This header is the ABI: its hash is
 * in every image and restart() refuses an image with another hash.
 *
 * An image is a stream of records.  Each record starts with struct cr_hdr
 * and is cr_hdr.len bytes long, header included; len is a multiple of 8.
 * All fields are fixed-width little-endian (the image says which arch it
 * is for), every 64-bit field is 8-byte aligned and every padding is
 * explicit and zero, so the layout is the same for i386 and x86_64.
 * Records only ever grow at their end, after any variable part: a reader
 * accepts a longer record than it knows and ignores the tail, and
 * refuses a shorter one.
 *
 * Stream order:
 *   HEAD, TREE, then per live task in TREE order: TASK, [FS], [FILE...,
 *   FDS...], [FILE..., MM, VMA..., PAGES...], [SIGHAND], CPU, FPU,
 *   [RESTART_BLOCK], [SIGPENDING of the task], [SIGPENDING of its
 *   process, with its thread group leader]; then TAIL.
 * A PIPE record comes right before the first FILE of its ends, a SOCK
 * record right before the FILE of its socket.  After the last task come
 * the SOCK records of sockets without a file (closed peers and senders,
 * connections not accepted yet) and the SOCK_MSG records of every queued
 * message, with the FILE records of the files they carry; then TAIL.
 *
 * The records are the metadata: restart reads and checks all of them
 * before it changes anything.  The memory contents come after the TAIL,
 * as page data: from the first multiple of page_size bytes after the
 * tail (counted from the first byte of the HEAD; zero bytes in between),
 * the nr * page_size bytes of every PAGES record in record order, with no
 * header.  cr_hdr_tail.data_bytes is their total.  Restart reads them
 * straight into the restored memory, each record's pages checked against
 * its data_csum.  The END record follows the page data: checkpoint
 * writes it once it has checked that the container stayed frozen while
 * its pages were written.  An image without it is incomplete.
 * FS, FDS, MM and SIGHAND come with the first task (in TREE order) that
 * uses the object; the tasks after it that share it only name its tag in
 * the TREE.  A zombie has no records but its TREE entry.
 * A FILE record comes before the first record that refers to its tag; a
 * SOCK record may come after the first that names it (a peer, a sender).
 *
 * See Documentation/checkpoint/image-format.rst.
 */
#ifndef _UAPI_LINUX_CHECKPOINT_HDR_H
#define _UAPI_LINUX_CHECKPOINT_HDR_H

#include <linux/const.h>
#include <linux/types.h>

#define CR_IMAGE_MAGIC		"LINUXCR"	/* 8 bytes with the NUL */
#define CR_IMAGE_VERSION	7

/* Records are at most this long (header included). */
#define CR_RECORD_MAX		(16U << 20)
/* Bytes in an END record, at most. */
#define CR_END_MAX		4096
/* Pages in one PAGES record. */
#define CR_PAGES_MAX		1024
/* Bytes in a path (with its NUL). */
#define CR_PATH_MAX		4096

enum cr_arch {
	CR_ARCH_X86_64 = 1,
};

enum cr_hdr_type {
	CR_HDR_HEAD = 1,
	CR_HDR_TAIL = 2,
	CR_HDR_TREE = 3,
	CR_HDR_END = 4,

	CR_HDR_TASK = 16,
	CR_HDR_CPU = 17,
	CR_HDR_FPU = 18,
	CR_HDR_SIGHAND = 19,
	CR_HDR_RESTART_BLOCK = 20,
	CR_HDR_SIGPENDING = 21,

	CR_HDR_MM = 32,
	CR_HDR_VMA = 33,
	CR_HDR_PAGES = 34,

	CR_HDR_FILE = 48,
	CR_HDR_FDS = 49,
	CR_HDR_FS = 50,
	CR_HDR_PIPE = 51,
	CR_HDR_SOCK = 52,
	CR_HDR_SOCK_MSG = 53,

	CR_HDR_TYPE_MAX
};

/**
 * struct cr_hdr - start of every record
 * @type: enum cr_hdr_type
 * @len: bytes in the record, this header included; a multiple of 8
 * @tag: tag of the object this record defines, 0 if none
 * @ptag: tag of the parent object, 0 if none
 */
struct cr_hdr {
	__u32 type;
	__u32 len;
	__u32 tag;
	__u32 ptag;
};

#define CR_UTS_LEN	72	/* NUL-terminated strings of at most 64 chars */

/*
 * struct cr_hdr_head - first record of an image
 */
struct cr_hdr_head {
	struct cr_hdr h;
	__u8 magic[8];		/* CR_IMAGE_MAGIC */
	__u32 version;		/* CR_IMAGE_VERSION */
	__u32 arch;		/* enum cr_arch */
	__u64 abi_hash;		/* hash of this header file, see the docs */
	__u64 flags;		/* checkpoint() flags */
	__u64 time_sec;		/* CLOCK_REALTIME at checkpoint */
	__u32 time_nsec;
	__u32 page_size;
	__u64 xfeatures;	/* XSAVE features of the checkpointing CPU */
	__u32 xstate_size;	/* its user XSAVE area size */
	__u32 __pad;
	char release[CR_UTS_LEN];	/* uname -r of the checkpointing kernel */
	char nodename[CR_UTS_LEN];	/* the container's uts */
	char domainname[CR_UTS_LEN];
	__u32 ns_flags;		/* CR_NS_*: namespaces of the container's own */
	__u32 __pad2;
};

/* cr_hdr_head.ns_flags: restart needs a new one of each (the tools make them) */
#define CR_NS_UTS		_BITUL(0)
#define CR_NS_IPC		_BITUL(1)
#define CR_NS_NET		_BITUL(2)
#define CR_NS_LO_UP		_BITUL(3)	/* CR_NS_NET: its loopback was up */
#define CR_NS_FLAGS_ALL		(_BITUL(4) - 1)

/*
 * struct cr_hdr_tail - last record of an image
 */
struct cr_hdr_tail {
	struct cr_hdr h;
	__u64 records;		/* records before the tail */
	__u64 bytes;		/* bytes before the tail */
	__u64 checksum;		/* xxh64 (seed 0) of those bytes */
	__u64 data_offset;	/* where the page data start, from the head */
	__u64 data_bytes;	/* page data: the pages of every PAGES record */
};

/*
 * struct cr_hdr_end - after the page data: the checkpoint completed
 */
struct cr_hdr_end {
	struct cr_hdr h;
	__u64 data_bytes;	/* the tail's */
	__u64 checksum;		/* the tail's: the records this image ends */
};

/* cr_tree_task.flags */
#define CR_TASK_ZOMBIE		_BITUL(0)	/* exited, not reaped yet */
#define CR_TASK_SUBREAPER	_BITUL(1)	/* PR_SET_CHILD_SUBREAPER */
#define CR_TASK_FLAGS_ALL	(_BITUL(2) - 1)

/*
 * struct cr_tree_task - one task (process or thread) of the image
 *
 * Pids are in the container's pid namespace; a process group or session
 * outside the container is 0.  A thread follows its thread group leader
 * (pid == tgid); a process follows its parent.  The tags name objects
 * that several tasks share (one address space, fd table, fs info or
 * signal handler table): a task shares each with the task that created
 * it at restart (its parent, or for a thread its leader) or has its own.
 */
struct cr_tree_task {
	__s32 pid;
	__s32 tgid;
	__s32 ppid;		/* tgid of the parent, 0 for the root of the tree */
	__s32 pgid;
	__s32 sid;
	__u32 flags;		/* CR_TASK_* */
	__u32 exit_code;	/* CR_TASK_ZOMBIE: the status wait() reports */
	__u32 exit_signal;	/* signal the parent gets at exit (0: none) */
	__u32 mm_tag;		/* 0 for a zombie */
	__u32 files_tag;
	__u32 fs_tag;
	__u32 sighand_tag;
};

/*
 * struct cr_hdr_tree - the tasks: the root first, then breadth first the
 * threads and children of each process (each task after its leader and
 * its parent).
 * Followed by @nr_tasks struct cr_tree_task.
 */
struct cr_hdr_tree {
	struct cr_hdr h;
	__u32 nr_tasks;
	__u32 __pad;
};

/*
 * struct cr_hdr_task - a task; its state records follow
 */
struct cr_hdr_task {
	struct cr_hdr h;
	__s32 pid;
	__s32 tgid;
	__u8 comm[16];
	__u64 blocked;		/* blocked signal mask, bit n-1 = signal n */
	__u32 uid;		/* credentials at checkpoint: informational, */
	__u32 gid;		/* restart never restores them */
	__u32 euid;
	__u32 egid;
	__u32 personality;
	__u32 exit_signal;
	__u64 robust_list;	/* set_robust_list() */
	__u64 clear_child_tid;	/* set_tid_address() */
	__u64 rseq;		/* rseq() registration, 0 if none */
	__u32 rseq_len;
	__u32 rseq_sig;
	__u64 sas_ss_sp;	/* sigaltstack() */
	__u64 sas_ss_size;
	__u32 sas_ss_flags;
	__u32 __pad;
};

/*
 * struct cr_hdr_cpu - x86-64 general registers, as struct user_regs_struct
 */
struct cr_hdr_cpu {
	struct cr_hdr h;
	__u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	__u64 ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
	__u64 fs_base, gs_base, ds, es, fs, gs;
};

/* XSAVE state components an image can describe */
#define CR_XFEATURES_MAX	32

/*
 * struct cr_hdr_fpu - the XSAVE area in standard (uncompacted) format
 *
 * Where each component is in that format is the checkpointing CPU's
 * choice (CPUID leaf 0xd): @offset and @size say it, so that restart can
 * move each component to where its own CPU has it.
 * Followed by @size bytes, then zero padding to a multiple of 8.
 */
struct cr_hdr_fpu {
	struct cr_hdr h;
	__u64 xfeatures;	/* XSTATE_BV of the saved area */
	__u32 size;
	__u32 __pad;
	__u32 offset[CR_XFEATURES_MAX];	/* of component n, 0 if absent (n >= 2) */
	__u32 comp_size[CR_XFEATURES_MAX];	/* its size in bytes */
};

struct cr_sigaction {
	__u64 handler;
	__u64 flags;
	__u64 restorer;
	__u64 mask;
};

/*
 * struct cr_hdr_sighand - signal dispositions
 * Followed by @nr struct cr_sigaction, for signals 1..nr.
 */
struct cr_hdr_sighand {
	struct cr_hdr h;
	__u32 nr;
	__u32 __pad;
};

/* A signal as the task receives it: siginfo_t, 64-bit layout. */
struct cr_siginfo {
	__u8 info[128];
};

/*
 * struct cr_hdr_sigpending - signals pending, in queue order: for the
 * task (@shared 0), or for its whole process (@shared 1, with the thread
 * group leader).  Followed by @nr struct cr_siginfo.
 */
struct cr_hdr_sigpending {
	struct cr_hdr h;
	__u32 shared;
	__u32 nr;
};

enum cr_restart_kind {
	CR_RESTART_NANOSLEEP = 1,	/* nanosleep, clock_nanosleep (relative) */
};

/*
 * struct cr_hdr_restart_block - a system call to resume at restart
 *
 * The CPU record then holds the registers of the task inside that call
 * (orig_ax is its number); restart() carries the call on.
 */
struct cr_hdr_restart_block {
	struct cr_hdr h;
	__u32 kind;		/* enum cr_restart_kind */
	__s32 clockid;
	__s64 remaining_ns;
	__u64 rmtp;		/* user pointer for the remaining time, or 0 */
};

/*
 * struct cr_hdr_mm - an address space; VMA and PAGES records follow
 * Followed by @nr_auxv __u64 words of the saved auxiliary vector.
 */
struct cr_hdr_mm {
	struct cr_hdr h;
	__u64 start_code, end_code, start_data, end_data;
	__u64 start_brk, brk, start_stack;
	__u64 arg_start, arg_end, env_start, env_end;
	__u32 exe_file_tag;	/* FILE tag of the executable, 0 if none */
	__u32 nr_vmas;
	__u32 nr_auxv;
	__u32 flags;		/* CR_MM_* */
	__u64 vdso_hash;	/* xxh64 of the kernel's vdso image */
};

/* cr_hdr_mm.flags: prctl() settings of the address space */
#define CR_MM_DISABLE_THP	_BITUL(0)	/* PR_SET_THP_DISABLE */
#define CR_MM_MDWE		_BITUL(1)	/* PR_SET_MDWE */
#define CR_MM_FLAGS_ALL		(_BITUL(2) - 1)

enum cr_vma_kind {
	CR_VMA_ANON = 1,	/* private anonymous: heap, stack, mmap */
	CR_VMA_FILE = 2,	/* private file mapping */
	CR_VMA_VDSO = 3,
	CR_VMA_VVAR = 4,
};

/* cr_hdr_vma.flags */
#define CR_VMA_READ		_BITUL(0)
#define CR_VMA_WRITE		_BITUL(1)
#define CR_VMA_EXEC		_BITUL(2)
#define CR_VMA_GROWSDOWN	_BITUL(3)
#define CR_VMA_DONTCOPY		_BITUL(4)	/* MADV_DONTFORK */
#define CR_VMA_DONTDUMP		_BITUL(5)
#define CR_VMA_WIPEONFORK	_BITUL(6)
#define CR_VMA_HUGEPAGE		_BITUL(7)
#define CR_VMA_NOHUGEPAGE	_BITUL(8)
#define CR_VMA_FLAGS_ALL	(_BITUL(9) - 1)

/*
 * struct cr_hdr_vma - a memory area of the MM record it follows
 *
 * Its tag is its index in the MM plus 1; the PAGES records of the area
 * follow it, with that tag as ptag.
 */
struct cr_hdr_vma {
	struct cr_hdr h;
	__u64 start;
	__u64 end;
	__u64 pgoff;		/* file offset in pages (CR_VMA_FILE) */
	__u32 kind;		/* enum cr_vma_kind */
	__u32 flags;		/* CR_VMA_* */
	__u32 file_tag;		/* FILE tag (CR_VMA_FILE), else 0 */
	__u32 __pad;
};

/*
 * struct cr_hdr_pages - pages of the VMA whose tag is ptag
 * Followed by @nr_runs struct cr_page_run, ascending, each ending before
 * the next one starts (with a gap): @nr pages in all.  Their contents
 * are in the page data after the tail (nr * page_size bytes, in the
 * order of the PAGES records and of their runs).
 */
struct cr_hdr_pages {
	struct cr_hdr h;
	__u32 nr;		/* pages, at most CR_PAGES_MAX */
	__u32 flags;		/* CR_PAGES_* */
	__u64 data_csum;	/* xxh64 (seed 0) of the record's page data */
	__u32 nr_runs;
	__u32 __pad;
};

/* struct cr_page_run - @nr contiguous pages from @addr */
struct cr_page_run {
	__u64 addr;
	__u64 nr;
};

/* cr_hdr_pages.flags */
#define CR_PAGES_NO_CSUM	_BITUL(0)	/* data_csum is not set: not checked */
#define CR_PAGES_FLAGS_ALL	(_BITUL(1) - 1)

enum cr_file_kind {
	CR_FILE_REG = 1,	/* regular file */
	CR_FILE_CHR = 2,	/* memory character device: null, zero, ... */
	CR_FILE_DIR = 3,	/* directory */
	CR_FILE_STDIO = 4,	/* fd 0-2 of the root: the restarter's fd @stdio_fd */
	CR_FILE_PIPE = 5,	/* an end of the pipe or FIFO whose PIPE tag is ptag */
	CR_FILE_SOCK = 6,	/* the unix socket whose SOCK tag is ptag */
};

/*
 * struct cr_hdr_file - an open file; its tag is h.tag
 * Followed by @path_len bytes of path (with its NUL, relative to the
 * container's root), then zero padding to a multiple of 8.
 * CR_FILE_STDIO: the standard input, output or error the root task was
 * started with; restart uses its own fd @stdio_fd instead (no path).
 * CR_FILE_PIPE: an open end (read, write or both: f_flags) of the pipe
 * or FIFO of the PIPE record whose tag is h.ptag (no path).
 * CR_FILE_SOCK: the file of the unix socket of the SOCK record whose tag
 * is h.ptag (no path; f_flags: O_RDWR, O_NONBLOCK).
 */
struct cr_hdr_file {
	struct cr_hdr h;
	__u32 kind;		/* enum cr_file_kind */
	__u32 f_flags;		/* open(2) flags, O_CLOEXEC excluded */
	__u64 pos;
	__u64 size;		/* at checkpoint, informational */
	__u32 mode;		/* st_mode */
	__u32 rdev;		/* CR_FILE_CHR: as new_encode_dev() (stat's st_rdev) */
	__u32 path_len;
	__u32 stdio_fd;		/* CR_FILE_STDIO: 0, 1 or 2 */
};

/* cr_fd.flags */
#define CR_FD_CLOEXEC		_BITUL(0)

/* Descriptors in one FDS record. */
#define CR_FDS_MAX		1024

/*
 * struct cr_fd - one file descriptor
 */
struct cr_fd {
	__s32 fd;
	__u32 file_tag;		/* its FILE record, which comes before */
	__u32 flags;		/* CR_FD_* */
};

/*
 * struct cr_hdr_fds - file descriptors of the task, in ascending order
 * Followed by @nr (1 to CR_FDS_MAX) struct cr_fd, zero padded.  A table
 * of more descriptors has several FDS records, each after the FILE
 * records of its own descriptors.
 */
struct cr_hdr_fds {
	struct cr_hdr h;
	__u32 nr;
	__u32 __pad;
};

/*
 * struct cr_hdr_fs - working directory and umask
 * Followed by @path_len bytes of path (with its NUL), zero padded.
 */
struct cr_hdr_fs {
	struct cr_hdr h;
	__u32 umask;
	__u32 path_len;
};

enum cr_pipe_kind {
	CR_PIPE_ANON = 1,	/* pipe(2) */
	CR_PIPE_FIFO = 2,	/* a named FIFO, reopened by its path */
};

/* cr_pipe_seg.flags */
#define CR_PIPE_PACKET		_BITUL(0)	/* one packet (O_DIRECT pipe) */
#define CR_PIPE_SEG_FLAGS_ALL	CR_PIPE_PACKET

/* A run of queued bytes: one packet, or plain bytes. */
struct cr_pipe_seg {
	__u32 len;
	__u32 flags;		/* CR_PIPE_* */
};

/*
 * struct cr_hdr_pipe - a pipe or FIFO and the bytes queued in it; its
 * tag is h.tag, its ends are the FILE records (CR_FILE_PIPE) naming it
 * as ptag.
 * Followed by @nr_segs struct cr_pipe_seg, then @path_len bytes of path
 * (CR_PIPE_FIFO: with its NUL, relative to the container's root), then
 * @data_len bytes of data (the segments in queue order), then zero
 * padding to a multiple of 8.
 */
struct cr_hdr_pipe {
	struct cr_hdr h;
	__u32 kind;		/* enum cr_pipe_kind */
	__u32 size;		/* capacity in bytes, as F_GETPIPE_SZ */
	__u32 nr_segs;
	__u32 data_len;
	__u32 path_len;
	__u32 __pad;
};

enum cr_sock_state {
	CR_SOCK_UNCONNECTED = 1,	/* no peer (a datagram socket may be bound) */
	CR_SOCK_LISTEN = 2,		/* listen(2): connections in the queue */
	CR_SOCK_CONNECTED = 3,		/* a peer: peer_tag */
};

/* cr_hdr_sock.flags */
#define CR_SOCK_BOUND		_BITUL(0)	/* bound: its name is reachable (bind(2)) */
#define CR_SOCK_GHOST		_BITUL(1)	/* closed, no file: a peer or sender only */
#define CR_SOCK_EMBRYO		_BITUL(2)	/* a connection not accepted yet */
#define CR_SOCK_RESET		_BITUL(3)	/* an outside peer: its peer gets a reset */
#define CR_SOCK_PASSCRED	_BITUL(4)	/* SO_PASSCRED */
#define CR_SOCK_PASSSEC		_BITUL(5)	/* SO_PASSSEC */
#define CR_SOCK_PASSPIDFD	_BITUL(6)	/* SO_PASSPIDFD */
#define CR_SOCK_SNDBUF_SET	_BITUL(7)	/* SO_SNDBUF was set: sndbuf */
#define CR_SOCK_RCVBUF_SET	_BITUL(8)	/* SO_RCVBUF was set: rcvbuf */
#define CR_SOCK_KEEPALIVE	_BITUL(9)	/* SO_KEEPALIVE */
#define CR_SOCK_OOBINLINE	_BITUL(10)	/* SO_OOBINLINE */
#define CR_SOCK_LINGER		_BITUL(11)	/* SO_LINGER on: linger */
#define CR_SOCK_PEERCRED	_BITUL(12)	/* peer_pid, peer_uid, peer_gid are SO_PEERCRED */
#define CR_SOCK_FLAGS_ALL	(_BITUL(13) - 1)

/* cr_hdr_sock.shutdown */
#define CR_SHUT_RD		_BITUL(0)	/* no more receives (RCV_SHUTDOWN) */
#define CR_SHUT_WR		_BITUL(1)	/* no more sends (SEND_SHUTDOWN) */

/*
 * struct cr_hdr_sock - a unix socket; its tag is h.tag
 * Followed by @name_len bytes of name (the sun_path bytes getsockname()
 * gives: a path, or an abstract name with its leading NUL), then
 * @path_len bytes of path (CR_SOCK_BOUND to a path: where its socket file
 * is, with its NUL, relative to the container's root), then zero padding
 * to a multiple of 8.
 * A connected stream or seqpacket socket and its peer name each other; a
 * datagram socket names the socket it sends to.  CR_SOCK_EMBRYO: the
 * connection of the client peer_tag, queued on listener_tag; these come in
 * the listener's queue order.
 */
struct cr_hdr_sock {
	struct cr_hdr h;
	__u32 type;		/* SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET */
	__u32 state;		/* enum cr_sock_state */
	__u32 flags;		/* CR_SOCK_* */
	__u32 peer_tag;		/* SOCK tag of the peer, 0 if none */
	__u32 listener_tag;	/* CR_SOCK_EMBRYO: SOCK tag of the listener */
	__u32 backlog;		/* CR_SOCK_LISTEN: the listen(2) backlog */
	__u32 shutdown;		/* CR_SHUT_* */
	__s32 err;		/* pending error (SO_ERROR), a positive errno */
	__u32 sndbuf;		/* CR_SOCK_SNDBUF_SET: SO_SNDBUF as read back */
	__u32 rcvbuf;		/* CR_SOCK_RCVBUF_SET: SO_RCVBUF as read back */
	__u32 rcvlowat;		/* SO_RCVLOWAT */
	__s32 peek_off;		/* SO_PEEK_OFF, -1 if off */
	__u64 sndtimeo_us;	/* SO_SNDTIMEO, 0 for none */
	__u64 rcvtimeo_us;	/* SO_RCVTIMEO, 0 for none */
	__u32 priority;		/* SO_PRIORITY */
	__u32 linger;		/* CR_SOCK_LINGER: seconds */
	__s32 peer_pid;		/* CR_SOCK_PEERCRED: pid in the container, 0 if none */
	__u32 peer_uid;
	__u32 peer_gid;
	__u32 name_len;		/* 0: unbound */
	__u32 path_len;
	__u32 mode;		/* CR_SOCK_BOUND to a path: the socket file's mode */
};

/* cr_hdr_sock_msg.flags */
#define CR_MSG_CREDS		_BITUL(0)	/* pid, uid, gid: its SCM_CREDENTIALS */
#define CR_MSG_FLAGS_ALL	CR_MSG_CREDS

/* Files in flight in one message (SCM_MAX_FD). */
#define CR_MSG_FDS_MAX		253

/*
 * struct cr_hdr_sock_msg - a message queued on the socket whose SOCK tag
 * is h.ptag, oldest first: for a stream socket the bytes not read yet of
 * one write, for a datagram or seqpacket socket one datagram.
 * Followed by @nr_fds __u32 FILE tags (the files in flight with it,
 * SCM_RIGHTS), then @len bytes of data, then zero padding to a multiple
 * of 8.
 */
struct cr_hdr_sock_msg {
	struct cr_hdr h;
	__u32 sender_tag;	/* SOCK tag of the socket that sent it */
	__u32 flags;		/* CR_MSG_* */
	__u32 len;
	__u32 nr_fds;
	__s32 pid;		/* CR_MSG_CREDS: the sender's pid in the container */
	__u32 uid;
	__u32 gid;
	__u32 __pad;
};

#endif /* _UAPI_LINUX_CHECKPOINT_HDR_H */
