/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the linux-cr tools and selftests: the system calls,
 * the kernel's reason for a failure, and the image format (records,
 * xxh64 checksum).
 */
#ifndef CR_TOOLS_H
#define CR_TOOLS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/checkpoint.h>
#include <linux/checkpoint_hdr.h>

#ifndef __NR_checkpoint
#define __NR_checkpoint 510
#endif
#ifndef __NR_restart
#define __NR_restart 511
#endif

static inline long sys_checkpoint(pid_t pid, int fd, unsigned long flags)
{
	return syscall(__NR_checkpoint, pid, fd, flags);
}

static inline long sys_restart(int crid, int fd, unsigned long flags)
{
	return syscall(__NR_restart, crid, fd, flags);
}

/* The kernel's one-line reason for this thread's last failed call. */
static inline const char *cr_reason(char *buf, size_t len)
{
	int fd = open(CHECKPOINT_ERROR_FILE, O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf;
}

/* -- xxh64, as the kernel's lib/xxhash.c computes it --------------------- */

#define CR_P64_1 11400714785074694791ULL
#define CR_P64_2 14029467366897019727ULL
#define CR_P64_3 1609587929392839161ULL
#define CR_P64_4 9650029242287828579ULL
#define CR_P64_5 2870177450012600261ULL

struct cr_xxh64 {
	uint64_t total, v1, v2, v3, v4;
	uint8_t mem[32];
	unsigned int memsize;
};

static inline uint64_t cr_rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t cr_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t cr_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t cr_xxh64_round(uint64_t acc, uint64_t input)
{
	acc += input * CR_P64_2;
	acc = cr_rotl64(acc, 31);
	return acc * CR_P64_1;
}

static inline uint64_t cr_xxh64_merge(uint64_t acc, uint64_t val)
{
	acc ^= cr_xxh64_round(0, val);
	return acc * CR_P64_1 + CR_P64_4;
}

static inline void cr_xxh64_reset(struct cr_xxh64 *s)
{
	memset(s, 0, sizeof(*s));
	s->v1 = CR_P64_1 + CR_P64_2;
	s->v2 = CR_P64_2;
	s->v3 = 0;
	s->v4 = -CR_P64_1;
}

static inline void cr_xxh64_update(struct cr_xxh64 *s, const void *input, size_t len)
{
	const uint8_t *p = input, *end = p + len;

	s->total += len;
	if (s->memsize + len < 32) {
		memcpy(s->mem + s->memsize, p, len);
		s->memsize += len;
		return;
	}
	if (s->memsize) {
		memcpy(s->mem + s->memsize, p, 32 - s->memsize);
		s->v1 = cr_xxh64_round(s->v1, cr_get64(s->mem));
		s->v2 = cr_xxh64_round(s->v2, cr_get64(s->mem + 8));
		s->v3 = cr_xxh64_round(s->v3, cr_get64(s->mem + 16));
		s->v4 = cr_xxh64_round(s->v4, cr_get64(s->mem + 24));
		p += 32 - s->memsize;
		s->memsize = 0;
	}
	while (p + 32 <= end) {
		s->v1 = cr_xxh64_round(s->v1, cr_get64(p));
		s->v2 = cr_xxh64_round(s->v2, cr_get64(p + 8));
		s->v3 = cr_xxh64_round(s->v3, cr_get64(p + 16));
		s->v4 = cr_xxh64_round(s->v4, cr_get64(p + 24));
		p += 32;
	}
	if (p < end) {
		memcpy(s->mem, p, end - p);
		s->memsize = end - p;
	}
}

static inline uint64_t cr_xxh64_digest(const struct cr_xxh64 *s)
{
	const uint8_t *p = s->mem, *end = p + s->memsize;
	uint64_t h;

	if (s->total >= 32) {
		h = cr_rotl64(s->v1, 1) + cr_rotl64(s->v2, 7) +
		    cr_rotl64(s->v3, 12) + cr_rotl64(s->v4, 18);
		h = cr_xxh64_merge(h, s->v1);
		h = cr_xxh64_merge(h, s->v2);
		h = cr_xxh64_merge(h, s->v3);
		h = cr_xxh64_merge(h, s->v4);
	} else {
		h = s->v3 + CR_P64_5;
	}
	h += s->total;
	while (p + 8 <= end) {
		h ^= cr_xxh64_round(0, cr_get64(p));
		h = cr_rotl64(h, 27) * CR_P64_1 + CR_P64_4;
		p += 8;
	}
	if (p + 4 <= end) {
		h ^= (uint64_t)cr_get32(p) * CR_P64_1;
		h = cr_rotl64(h, 23) * CR_P64_2 + CR_P64_3;
		p += 4;
	}
	while (p < end) {
		h ^= (*p) * CR_P64_5;
		h = cr_rotl64(h, 11) * CR_P64_1;
		p++;
	}
	h ^= h >> 33;
	h *= CR_P64_2;
	h ^= h >> 29;
	h *= CR_P64_3;
	h ^= h >> 32;
	return h;
}

/* -- walking an image in memory ----------------------------------------- */

static const char *const cr_type_names[CR_HDR_TYPE_MAX] = {
	[CR_HDR_HEAD] = "head", [CR_HDR_TAIL] = "tail", [CR_HDR_TREE] = "tree",
	[CR_HDR_TASK] = "task", [CR_HDR_CPU] = "cpu", [CR_HDR_FPU] = "fpu",
	[CR_HDR_SIGHAND] = "sighand", [CR_HDR_RESTART_BLOCK] = "restart_block",
	[CR_HDR_MM] = "mm", [CR_HDR_VMA] = "vma", [CR_HDR_PAGES] = "pages",
	[CR_HDR_FILE] = "file", [CR_HDR_FD] = "fd", [CR_HDR_FS] = "fs", [CR_HDR_PIPE] = "pipe",
};

static inline const char *cr_type_name(uint32_t type)
{
	if (type < CR_HDR_TYPE_MAX && cr_type_names[type])
		return cr_type_names[type];
	return "unknown";
}

/*
 * Recompute the tail of an image of @len bytes after an edit: returns 0,
 * or -1 if there is no tail where the records lead.
 */
static inline int cr_fix_tail(uint8_t *img, size_t len)
{
	struct cr_xxh64 s;
	size_t off = 0;
	uint64_t n = 0;

	cr_xxh64_reset(&s);
	while (off + sizeof(struct cr_hdr) <= len) {
		struct cr_hdr *h = (struct cr_hdr *)(img + off);

		if (h->len < sizeof(*h) || off + h->len > len)
			return -1;
		if (h->type == CR_HDR_TAIL) {
			struct cr_hdr_tail *t = (struct cr_hdr_tail *)h;

			if (h->len < sizeof(*t))
				return -1;	/* a tail too short to fix */

			t->records = n;
			t->bytes = off;
			t->checksum = cr_xxh64_digest(&s);
			return 0;
		}
		cr_xxh64_update(&s, h, h->len);
		off += h->len;
		n++;
	}
	return -1;
}

#endif /* CR_TOOLS_H */
