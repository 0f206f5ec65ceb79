/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * linux-cr: checkpoint/restart of containers, userspace interface.
 *
 *   long checkpoint(pid_t pid, int fd, unsigned long flags);
 *   long restart(int crid, int fd, unsigned long flags);
 *
 * See Documentation/checkpoint/syscalls.rst.  The image format is in
 * <linux/checkpoint_hdr.h>.
 */
#ifndef _UAPI_LINUX_CHECKPOINT_H
#define _UAPI_LINUX_CHECKPOINT_H

#include <linux/const.h>
#include <linux/types.h>

/*
 * checkpoint() flags.  Without CHECKPOINT_SUBTREE, pid must be the init of
 * a pid namespace (a container): all its tasks are saved.  pid 0 is the
 * caller itself, a process of one thread without children: with
 * CHECKPOINT_DEFERRED and fd -1 only, it returns the crid of the held
 * checkpoint, and 0 in a process restored from it.
 */
#define CHECKPOINT_SUBTREE	_BITUL(0)	/* pid and its descendants */
#define CHECKPOINT_LEAVE_FROZEN	_BITUL(1)	/* do not thaw after the capture */
#define CHECKPOINT_KILL		_BITUL(2)	/* kill the tasks after the capture */
/*
 * A unix socket connected to a peer outside the container is saved as if
 * that peer had crashed: restart gives a connection reset (the bytes it
 * had sent are still read first).  Without it, checkpoint fails: EBUSY.
 */
#define CHECKPOINT_SOCK_DISCONNECT _BITUL(3)
/*
 * The page data get no checksum: checkpoint does not hash the memory it
 * saves and restart does not check it (the records are still checked).
 */
#define CHECKPOINT_NO_PAGE_CSUM	_BITUL(4)
/*
 * Deferred checkpoint: the container is frozen only while it is captured
 * into kernel memory, its pages held copy-on-write; then it is thawed and
 * the image written.  With fd -1 nothing is written: the checkpoint is
 * held in the kernel and the call returns its crid (> 0).
 */
#define CHECKPOINT_DEFERRED	_BITUL(5)
/* pid is the crid of a held checkpoint: write its image to fd. */
#define CHECKPOINT_CRID_WRITE	_BITUL(6)
/* pid is the crid of a held checkpoint: drop it (after the write, if both). */
#define CHECKPOINT_CRID_DROP	_BITUL(7)
#define CHECKPOINT_FLAGS_ALL	(CHECKPOINT_SUBTREE | CHECKPOINT_LEAVE_FROZEN | \
				 CHECKPOINT_KILL | CHECKPOINT_SOCK_DISCONNECT | \
				 CHECKPOINT_NO_PAGE_CSUM | CHECKPOINT_DEFERRED | \
				 CHECKPOINT_CRID_WRITE | CHECKPOINT_CRID_DROP)
#define CHECKPOINT_CRID_OPS	(CHECKPOINT_CRID_WRITE | CHECKPOINT_CRID_DROP)

/* restart() flags */
#define RESTART_FROZEN		_BITUL(0)	/* leave the container frozen */
/*
 * Roll the caller back to the held checkpoint crid, taken of the calling
 * process alone (checkpoint() of pid 0, "self"): it gets back its memory,
 * registers and descriptors as they were, and its checkpoint() call
 * returns 0.  Its pid, credentials and namespaces stay.
 */
#define RESTART_IN_PLACE	_BITUL(1)
#define RESTART_FLAGS_ALL	(RESTART_FROZEN | RESTART_IN_PLACE)

/* restart() crid meaning "read the image from fd". */
#define RESTART_CRID_FD		0

/*
 * After a failed call, the calling thread reads the one-line reason from
 * this file (it only ever shows the reader's own last failure).
 */
#define CHECKPOINT_ERROR_FILE	"/sys/kernel/checkpoint/error"

#endif /* _UAPI_LINUX_CHECKPOINT_H */
