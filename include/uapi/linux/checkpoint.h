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

#include <linux/types.h>

/* checkpoint() flags: none defined yet, every bit is reserved. */
#define CHECKPOINT_FLAGS_ALL	0UL

/* restart() flags: none defined yet, every bit is reserved. */
#define RESTART_FLAGS_ALL	0UL

/* restart() crid meaning "read the image from fd". */
#define RESTART_CRID_FD		0

/*
 * After a failed call, the calling thread reads the one-line reason from
 * this file (it only ever shows the reader's own last failure).
 */
#define CHECKPOINT_ERROR_FILE	"/sys/kernel/checkpoint/error"

#endif /* _UAPI_LINUX_CHECKPOINT_H */
