// SPDX-License-Identifier: GPL-2.0-only
/*
 * The image format header, gzipped, for /sys/kernel/checkpoint/abi.h.gz:
 * tools can read the exact ABI of the running kernel, as /proc/config.gz
 * gives its configuration.
 */

asm (
"	.pushsection .rodata, \"a\"		\n"
"	.global cr_abi_data			\n"
"cr_abi_data:					\n"
"	.incbin \"checkpoint/abi_hdr.gz\"	\n"
"	.global cr_abi_data_end			\n"
"cr_abi_data_end:				\n"
"	.popsection				\n"
);
