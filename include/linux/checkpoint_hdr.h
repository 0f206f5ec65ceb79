/* SPDX-License-Identifier: GPL-2.0 */
/*
 * linux-cr checkpoint image format, kernel side.
 *
 * The records themselves are the uapi <linux/checkpoint_hdr.h>; this
 * header adds what only the kernel needs to build and check them.
 */
#ifndef _LINUX_CHECKPOINT_HDR_H
#define _LINUX_CHECKPOINT_HDR_H

#include <linux/build_bug.h>
#include <uapi/linux/checkpoint_hdr.h>

/* The smallest length a reader accepts for each record type. */
#define CR_HDR_MINLEN(type)	((u32)sizeof(struct type))

static inline void cr_hdr_layout_checks(void)
{
	/* Identical on 32- and 64-bit: sizes are pinned, not derived. */
	BUILD_BUG_ON(sizeof(struct cr_hdr) != 16);
	BUILD_BUG_ON(sizeof(struct cr_hdr_head) != 304);
	BUILD_BUG_ON(sizeof(struct cr_hdr_tail) != 56);
	BUILD_BUG_ON(sizeof(struct cr_hdr_end) != 32);
	BUILD_BUG_ON(sizeof(struct cr_hdr_tree) != 24);
	BUILD_BUG_ON(sizeof(struct cr_tree_task) != 48);
	BUILD_BUG_ON(sizeof(struct cr_hdr_sigpending) != 24);
	BUILD_BUG_ON(sizeof(struct cr_siginfo) != 128);
	BUILD_BUG_ON(sizeof(struct cr_hdr_task) != 128);
	BUILD_BUG_ON(sizeof(struct cr_hdr_cpu) != 232);
	BUILD_BUG_ON(sizeof(struct cr_hdr_fpu) != 288);
	BUILD_BUG_ON(sizeof(struct cr_sigaction) != 32);
	BUILD_BUG_ON(sizeof(struct cr_hdr_sighand) != 24);
	BUILD_BUG_ON(sizeof(struct cr_hdr_restart_block) != 40);
	BUILD_BUG_ON(sizeof(struct cr_hdr_mm) != 128);
	BUILD_BUG_ON(sizeof(struct cr_hdr_vma) != 56);
	BUILD_BUG_ON(sizeof(struct cr_hdr_pages) != 40);
	BUILD_BUG_ON(sizeof(struct cr_page_run) != 16);
	BUILD_BUG_ON(sizeof(struct cr_hdr_file) != 56);
	BUILD_BUG_ON(sizeof(struct cr_hdr_fds) != 24);
	BUILD_BUG_ON(sizeof(struct cr_fd) != 12);
	BUILD_BUG_ON(sizeof(struct cr_hdr_fs) != 24);
}

#endif /* _LINUX_CHECKPOINT_HDR_H */
