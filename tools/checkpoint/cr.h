/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the linux-cr tools and selftests: the system calls,
 * the kernel's reason for a failure, and the image format (records, the
 * page data and the END record after them, xxh64 checksum).
 */
#ifndef CR_TOOLS_H
#define CR_TOOLS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
	[CR_HDR_END] = "end", [CR_HDR_TASK] = "task", [CR_HDR_CPU] = "cpu", [CR_HDR_FPU] = "fpu",
	[CR_HDR_SIGHAND] = "sighand", [CR_HDR_RESTART_BLOCK] = "restart_block",
	[CR_HDR_MM] = "mm", [CR_HDR_VMA] = "vma", [CR_HDR_PAGES] = "pages",
	[CR_HDR_FILE] = "file", [CR_HDR_FDS] = "fds", [CR_HDR_FS] = "fs", [CR_HDR_PIPE] = "pipe",
};

static inline const char *cr_type_name(uint32_t type)
{
	if (type < CR_HDR_TYPE_MAX && cr_type_names[type])
		return cr_type_names[type];
	return "unknown";
}

/*
 * The layout of an image (format version 7): the records up to the tail,
 * zero padding up to the page data at the first multiple of the head's
 * page_size after the tail, then the nr * page_size bytes of every PAGES
 * record, in record order (and in a record, run by run, address by
 * address: a PAGES record is followed by nr_runs struct cr_page_run),
 * then the END record (checkpoint() writes it once the page data are
 * out and the container stayed frozen: without it the image is
 * incomplete), and nothing after it.  The END record is not one of the
 * tail's records and its checksum does not cover it.
 */
struct cr_layout {
	uint32_t page_size;	/* the head's (4096 if the head has none that works) */
	size_t tail_off;	/* offset of the tail record */
	size_t tail_end;	/* offset of its end */
	uint64_t records;	/* records before the tail */
	uint64_t data_offset;	/* where the page data start, as the records place them */
	uint64_t data_bytes;	/* what the PAGES records before the tail say they hold */
	uint64_t nr_pages;	/* pages in those records */
	uint64_t nr_pages_recs;	/* and the records */
	uint64_t end_off;	/* where the END record belongs: data_offset + data_bytes */
	uint32_t end_len;	/* its h.len if a whole END record is there, else 0 */
};

static inline uint64_t cr_round_up(uint64_t v, uint32_t align)
{
	return (v + align - 1) / align * align;
}

/*
 * Where the records of the @len bytes at @img lead, each record's h.len
 * taken as it is: 0 with @lay filled, or -1 if they do not lead to a
 * whole tail record.  The page size is the head's if the first record is
 * a head with a power of two there, else 4096 (x86-64's).  end_len is
 * set if the @len bytes hold a whole record of type CR_HDR_END, at least
 * sizeof(struct cr_hdr_end) long, at end_off (its fields unchecked).
 */
static inline int cr_layout(const uint8_t *img, size_t len, struct cr_layout *lay)
{
	const struct cr_hdr_head *head = (const struct cr_hdr_head *)img;
	size_t off = 0;

	memset(lay, 0, sizeof(*lay));
	lay->page_size = 4096;
	if (len >= sizeof(*head) && head->h.type == CR_HDR_HEAD && head->h.len >= sizeof(*head) &&
	    head->page_size && !(head->page_size & (head->page_size - 1)))
		lay->page_size = head->page_size;
	while (off + sizeof(struct cr_hdr) <= len) {
		const struct cr_hdr *h = (const struct cr_hdr *)(img + off);

		if (h->len < sizeof(*h) || h->len > len - off)
			return -1;
		if (h->type == CR_HDR_TAIL) {
			if (h->len < sizeof(struct cr_hdr_tail))
				return -1;
			lay->tail_off = off;
			lay->tail_end = off + h->len;
			lay->data_offset = cr_round_up(lay->tail_end, lay->page_size);
			lay->data_bytes = lay->nr_pages * lay->page_size;
			lay->end_off = lay->data_offset + lay->data_bytes;
			if (lay->end_off <= len &&
			    len - lay->end_off >= sizeof(struct cr_hdr_end)) {
				const struct cr_hdr *e = (const void *)(img + lay->end_off);

				if (e->type == CR_HDR_END && e->len >= sizeof(struct cr_hdr_end) &&
				    e->len <= len - lay->end_off)
					lay->end_len = e->len;
			}
			return 0;
		}
		if (h->type == CR_HDR_PAGES && h->len >= sizeof(struct cr_hdr_pages)) {
			lay->nr_pages += ((const struct cr_hdr_pages *)h)->nr;
			lay->nr_pages_recs++;
		}
		off += h->len;
		lay->records++;
	}
	return -1;
}

/*
 * The page data of the PAGES record at offset @rec_off of the image: 0
 * with their offset in the image in *@data_off (nr * page_size bytes from
 * there, which may go past @len), or -1 if there is no such record.
 */
static inline int cr_pages_data(const uint8_t *img, size_t len, size_t rec_off,
				uint64_t *data_off)
{
	struct cr_layout lay;
	uint64_t at;
	size_t o = 0;

	if (cr_layout(img, len, &lay))
		return -1;
	at = lay.data_offset;
	while (o < lay.tail_off) {
		const struct cr_hdr_pages *p = (const struct cr_hdr_pages *)(img + o);

		if (p->h.type == CR_HDR_PAGES && p->h.len >= sizeof(*p)) {
			if (o == rec_off) {
				*data_off = at;
				return 0;
			}
			at += (uint64_t)p->nr * lay.page_size;
		}
		o += p->h.len;
	}
	return -1;
}

/*
 * The runs of the PAGES record @p (of at least sizeof(*p) bytes) that are
 * in its h.len bytes: nr_runs of them, or fewer if it is too short.
 */
static inline uint32_t cr_pages_nr_runs(const struct cr_hdr_pages *p)
{
	uint64_t fit = (p->h.len - sizeof(*p)) / sizeof(struct cr_page_run);

	return p->nr_runs < fit ? p->nr_runs : fit;
}

static inline struct cr_page_run cr_pages_run(const struct cr_hdr_pages *p, uint32_t i)
{
	struct cr_page_run r;

	memcpy(&r, (const uint8_t *)(p + 1) + (size_t)i * sizeof(r), sizeof(r));
	return r;
}

/*
 * The saved contents of the page holding user address @addr: 0 with the
 * offset of the page's data in the image in *@data_off (and of its PAGES
 * record in *@rec_off, if not NULL), or -1 if no run of a PAGES record
 * has it (among the first nr pages of its record) or its data are not
 * all in the @len bytes.
 */
static inline int cr_find_page(const uint8_t *img, size_t len, uint64_t addr,
			       size_t *rec_off, uint64_t *data_off)
{
	struct cr_layout lay;
	uint64_t at, page;
	size_t o = 0;

	if (cr_layout(img, len, &lay))
		return -1;
	page = addr & ~(uint64_t)(lay.page_size - 1);
	at = lay.data_offset;
	while (o < lay.tail_off) {
		const struct cr_hdr_pages *p = (const struct cr_hdr_pages *)(img + o);

		if (p->h.type == CR_HDR_PAGES && p->h.len >= sizeof(*p)) {
			uint32_t i, nr_runs = cr_pages_nr_runs(p);
			uint64_t idx = 0;	/* of the run's first page in the record */

			for (i = 0; i < nr_runs && idx < p->nr; i++) {
				struct cr_page_run r = cr_pages_run(p, i);
				uint64_t k;

				if (page < r.addr || (page - r.addr) / lay.page_size >= r.nr) {
					idx += r.nr;
					continue;
				}
				k = idx + (page - r.addr) / lay.page_size;
				if (k >= p->nr || at + (k + 1) * lay.page_size > len)
					return -1;
				if (rec_off)
					*rec_off = o;
				*data_off = at + k * lay.page_size;
				return 0;
			}
			at += (uint64_t)p->nr * lay.page_size;
		}
		o += p->h.len;
	}
	return -1;
}

/*
 * Check the PAGES record @p, whose h.len bytes are there, as restart()
 * does: of an anonymous or file area, 1 to CR_PAGES_MAX pages in 1 to nr
 * runs, h.len exactly that of its runs, known flags (no data_csum with
 * CR_PAGES_NO_CSUM), __pad 0; every run of at least a page, page aligned,
 * inside the area @v of the record, ascending and apart from the run
 * before in the record (with a gap: a writer merges touching runs); the
 * first run may touch the last run of the area's PAGES records before it
 * (where a writer cut a run at CR_PAGES_MAX pages), which ends at *@last
 * (0: none; updated), but not start before its end.  The pages of the
 * runs add up to nr.  0, or -1 with what is wrong in @why (the kernel's
 * words where it has them).
 */
static inline int cr_pages_check(const struct cr_hdr_pages *p, const struct cr_hdr_vma *v,
				 uint32_t page_size, uint64_t *last, char *why, size_t wl)
{
	uint64_t sum = 0;
	uint32_t i;

	if (v->kind != CR_VMA_ANON && v->kind != CR_VMA_FILE) {
		snprintf(why, wl, "pages for a vdso area (kind %u)", v->kind);
		return -1;
	}
	if (p->h.len < sizeof(*p) || !p->nr || p->nr > CR_PAGES_MAX || !p->nr_runs ||
	    p->nr_runs > p->nr ||
	    p->h.len != sizeof(*p) + (uint64_t)p->nr_runs * sizeof(struct cr_page_run)) {
		snprintf(why, wl, "%u pages in %u bytes (nr_runs %u)",
			 p->h.len >= sizeof(*p) ? p->nr : 0, p->h.len,
			 p->h.len >= sizeof(*p) ? p->nr_runs : 0);
		return -1;
	}
	if (p->flags & ~CR_PAGES_FLAGS_ALL) {
		snprintf(why, wl, "unknown flags %#x", p->flags);
		return -1;
	}
	if (p->__pad) {
		snprintf(why, wl, "padding %#x is not zero", p->__pad);
		return -1;
	}
	if ((p->flags & CR_PAGES_NO_CSUM) && p->data_csum) {
		snprintf(why, wl, "a data checksum with CR_PAGES_NO_CSUM");
		return -1;
	}
	for (i = 0; i < p->nr_runs; i++) {
		struct cr_page_run r = cr_pages_run(p, i);

		if (r.addr % page_size || !r.nr || r.nr > p->nr || r.addr < v->start ||
		    r.addr >= v->end || r.nr > (v->end - r.addr) / page_size) {
			snprintf(why, wl, "run %u: %llu pages at %#llx outside its area %#llx-%#llx",
				 i, (unsigned long long)r.nr, (unsigned long long)r.addr,
				 (unsigned long long)v->start, (unsigned long long)v->end);
			return -1;
		}
		if (r.addr < *last || (i && r.addr == *last)) {
			snprintf(why, wl, "run %u at %#llx out of order (the run before ends at %#llx)",
				 i, (unsigned long long)r.addr, (unsigned long long)*last);
			return -1;
		}
		*last = r.addr + r.nr * page_size;
		sum += r.nr;
	}
	if (sum != p->nr) {
		snprintf(why, wl, "%u pages in runs of %llu", p->nr, (unsigned long long)sum);
		return -1;
	}
	return 0;
}

/*
 * The END record of an image of @len bytes where its tail places it
 * (data_offset + data_bytes), as checkpoint() writes it: type
 * CR_HDR_END, tag and ptag 0, the tail's data_bytes and checksum; its
 * length kept if a record of type CR_HDR_END that fits is there already
 * (at least sizeof(struct cr_hdr_end), a multiple of 8), else
 * sizeof(struct cr_hdr_end).  Returns 0, or -1 if the records lead to no
 * tail or the @len bytes cannot hold an END record there.
 */
static inline int cr_fix_end(uint8_t *img, size_t len)
{
	const struct cr_hdr_tail *t;
	struct cr_layout lay;
	struct cr_hdr_end e;
	uint64_t at;

	if (cr_layout(img, len, &lay))
		return -1;
	t = (const struct cr_hdr_tail *)(img + lay.tail_off);
	at = t->data_offset + t->data_bytes;
	if (at < t->data_offset || at > len || len - at < sizeof(e))
		return -1;
	memcpy(&e, img + at, sizeof(e));
	if (e.h.type != CR_HDR_END || e.h.len < sizeof(e) || e.h.len % 8 || e.h.len > len - at)
		e.h.len = sizeof(e);
	e.h.type = CR_HDR_END;
	e.h.tag = 0;
	e.h.ptag = 0;
	e.data_bytes = t->data_bytes;
	e.checksum = t->checksum;
	memcpy(img + at, &e, sizeof(e));
	return 0;
}

/* The tail of cr_fix_tail_keep_csum(), the END record left as it is. */
static inline int cr_fix_tail_only(uint8_t *img, size_t len)
{
	struct cr_layout lay;
	struct cr_hdr_tail *t;
	struct cr_xxh64 s;

	if (cr_layout(img, len, &lay))
		return -1;
	t = (struct cr_hdr_tail *)(img + lay.tail_off);
	cr_xxh64_reset(&s);
	cr_xxh64_update(&s, img, lay.tail_off);
	t->records = lay.records;
	t->bytes = lay.tail_off;
	t->checksum = cr_xxh64_digest(&s);
	t->data_offset = lay.data_offset;
	t->data_bytes = lay.data_bytes;
	return 0;
}

/*
 * Recompute the tail of an image of @len bytes after an edit of its
 * records: the record count, length and checksum, and where the page
 * data are (data_offset and data_bytes, as the records place them); then
 * the END record where that tail places it, if the @len bytes reach that
 * far (cr_fix_end(): whatever is there becomes the END record).  The
 * data_csum of the PAGES records are left as they are.  Returns 0, or -1
 * if there is no tail where the records lead.
 */
static inline int cr_fix_tail_keep_csum(uint8_t *img, size_t len)
{
	if (cr_fix_tail_only(img, len))
		return -1;
	cr_fix_end(img, len);
	return 0;
}

/*
 * The data_csum of every PAGES record without CR_PAGES_NO_CSUM whose page
 * data are all in the @len bytes set to what they hash to (the others
 * are left as they are).  Returns 0, or -1 if there is no tail where the
 * records lead.
 */
static inline int cr_fix_data_csums(uint8_t *img, size_t len)
{
	struct cr_layout lay;
	uint64_t at;
	size_t o = 0;

	if (cr_layout(img, len, &lay))
		return -1;
	at = lay.data_offset;
	while (o < lay.tail_off) {
		struct cr_hdr_pages *p = (struct cr_hdr_pages *)(img + o);

		if (p->h.type == CR_HDR_PAGES && p->h.len >= sizeof(*p)) {
			uint64_t n = (uint64_t)p->nr * lay.page_size;
			struct cr_xxh64 s;

			if (!(p->flags & CR_PAGES_NO_CSUM) && at + n <= len) {
				cr_xxh64_reset(&s);
				cr_xxh64_update(&s, img + at, n);
				p->data_csum = cr_xxh64_digest(&s);
			}
			at += n;
		}
		o += p->h.len;
	}
	return 0;
}

/*
 * As cr_fix_tail_keep_csum(), after an edit of the records or of the page
 * data: first the data_csum of the PAGES records (cr_fix_data_csums()).
 */
static inline int cr_fix_tail(uint8_t *img, size_t len)
{
	if (cr_fix_data_csums(img, len))
		return -1;
	return cr_fix_tail_keep_csum(img, len);
}

/*
 * An image of the @rlen bytes of records at @recs (the tail among them,
 * last) and the @dlen bytes of page data at @data: zero padding between,
 * the data_csum and the tail fixed (as cr_fix_tail() does), then right
 * after the page data an END record with the tail's data_bytes and
 * checksum (where the tail places it unless @dlen is not what the
 * records have: then the caller fixes the tail's data_bytes, and
 * cr_fix_end() the END record).  malloc()ed, its length in *@len; NULL if
 * the records lead to no tail.
 */
static inline uint8_t *cr_image_join(const uint8_t *recs, size_t rlen, const uint8_t *data,
				     size_t dlen, size_t *len)
{
	const struct cr_hdr_tail *t;
	struct cr_layout lay;
	struct cr_hdr_end e;
	uint8_t *buf;

	if (cr_layout(recs, rlen, &lay) || lay.tail_end != rlen)
		return NULL;
	*len = lay.data_offset + dlen + sizeof(e);
	buf = calloc(1, *len);
	if (!buf)
		return NULL;
	memcpy(buf, recs, rlen);
	if (dlen)
		memcpy(buf + lay.data_offset, data, dlen);
	cr_fix_data_csums(buf, lay.data_offset + dlen);
	cr_fix_tail_only(buf, *len);
	t = (const struct cr_hdr_tail *)(buf + lay.tail_off);
	memset(&e, 0, sizeof(e));
	e.h.type = CR_HDR_END;
	e.h.len = sizeof(e);
	e.data_bytes = t->data_bytes;
	e.checksum = t->checksum;
	memcpy(buf + lay.data_offset + dlen, &e, sizeof(e));
	return buf;
}

/*
 * Is the image of @len bytes at @img whole and sound, as checkpoint()
 * writes it: a head, records of sound lengths, every PAGES record right
 * after its VMA (or another PAGES record of it) and sound
 * (cr_pages_check()), a tail whose count, length and
 * checksum match, zero padding, page data where the tail says and as long
 * as the records say, then an END record as restart() checks it (type,
 * a length of at least its size and a multiple of 8, tag and ptag 0, the
 * tail's data_bytes and checksum), all of it there and nothing after it,
 * and page data matching every data_csum that is set?  0, or -1 with
 * what is wrong in @why.
 */
static inline int cr_image_check(const uint8_t *img, size_t len, char *why, size_t wl)
{
	const struct cr_hdr_head *head = (const struct cr_hdr_head *)img;
	const struct cr_hdr_vma *vma = NULL;	/* the area of the PAGES records that follow */
	const struct cr_hdr_tail *t;
	struct cr_layout lay;
	struct cr_hdr_end e;
	struct cr_xxh64 s;
	uint64_t at, i, last = 0;
	size_t o = 0;
	char w[192];

	if (len < sizeof(*head) || head->h.type != CR_HDR_HEAD ||
	    memcmp(head->magic, CR_IMAGE_MAGIC, 8)) {
		snprintf(why, wl, "%zu bytes: no head record", len);
		return -1;
	}
	if (head->version != CR_IMAGE_VERSION || !head->page_size ||
	    (head->page_size & (head->page_size - 1))) {
		snprintf(why, wl, "head: version %u, page size %u", head->version,
			 head->page_size);
		return -1;
	}
	while (o + sizeof(struct cr_hdr) <= len) {
		const struct cr_hdr *h = (const struct cr_hdr *)(img + o);

		if (h->len < sizeof(*h) || h->len % 8 || h->len > CR_RECORD_MAX ||
		    h->len > len - o || h->type >= CR_HDR_TYPE_MAX) {
			snprintf(why, wl, "record (type %u, %u bytes) at %#zx is cut or bad", h->type,
				 h->len, o);
			return -1;
		}
		if (h->type == CR_HDR_TAIL)
			break;
		if (h->type == CR_HDR_END) {
			snprintf(why, wl, "an end record at %#zx, before the tail", o);
			return -1;
		}
		if (h->type == CR_HDR_VMA) {
			vma = h->len >= sizeof(*vma) ? (const struct cr_hdr_vma *)h : NULL;
			last = 0;
		} else if (h->type == CR_HDR_PAGES) {
			const struct cr_hdr_pages *p = (const struct cr_hdr_pages *)h;

			if (!vma || h->ptag != vma->h.tag) {
				snprintf(why, wl, "PAGES record at %#zx: not after its area (ptag %u)",
					 o, h->ptag);
				return -1;
			}
			if (cr_pages_check(p, vma, head->page_size, &last, w, sizeof(w))) {
				snprintf(why, wl, "PAGES record at %#zx: %s", o, w);
				return -1;
			}
		} else {
			vma = NULL;
		}
		o += h->len;
	}
	if (cr_layout(img, len, &lay) || lay.tail_off != o) {
		snprintf(why, wl, "no tail after %#zx of %zu bytes", o, len);
		return -1;
	}
	t = (const struct cr_hdr_tail *)(img + o);
	cr_xxh64_reset(&s);
	cr_xxh64_update(&s, img, o);
	if (t->records != lay.records || t->bytes != o) {
		snprintf(why, wl, "tail says %llu records, %llu bytes; there are %llu, %zu",
			 (unsigned long long)t->records, (unsigned long long)t->bytes,
			 (unsigned long long)lay.records, o);
		return -1;
	}
	if (t->checksum != cr_xxh64_digest(&s)) {
		snprintf(why, wl, "checksum mismatch");
		return -1;
	}
	if (t->data_offset != lay.data_offset || t->data_bytes != lay.data_bytes ||
	    lay.end_off > len) {
		snprintf(why, wl,
			 "tail says %llu bytes of page data at %#llx; the records have %llu at %#llx, the image %zu bytes",
			 (unsigned long long)t->data_bytes, (unsigned long long)t->data_offset,
			 (unsigned long long)lay.data_bytes,
			 (unsigned long long)lay.data_offset, len);
		return -1;
	}
	for (i = lay.tail_end; i < lay.data_offset; i++) {
		if (img[i]) {
			snprintf(why, wl, "byte %#llx before the page data is not zero",
				 (unsigned long long)i);
			return -1;
		}
	}
	/* the END record: the checkpoint completed */
	if (len - lay.end_off < sizeof(e)) {
		snprintf(why, wl,
			 "no end record after the page data at %#llx (%zu bytes there): the checkpoint did not complete",
			 (unsigned long long)lay.end_off, (size_t)(len - lay.end_off));
		return -1;
	}
	memcpy(&e, img + lay.end_off, sizeof(e));
	if (e.h.type != CR_HDR_END || e.h.len < sizeof(e) || e.h.len % 8 ||
	    e.h.len > CR_END_MAX || e.h.tag || e.h.ptag) {
		snprintf(why, wl,
			 "%#llx: not an end record after the page data (type %u, length %u, tag %u, ptag %u)",
			 (unsigned long long)lay.end_off, e.h.type, e.h.len, e.h.tag, e.h.ptag);
		return -1;
	}
	if (e.data_bytes != t->data_bytes) {
		snprintf(why, wl, "end record: data_bytes %llu, the tail says %llu",
			 (unsigned long long)e.data_bytes, (unsigned long long)t->data_bytes);
		return -1;
	}
	if (e.checksum != t->checksum) {
		snprintf(why, wl, "end record: checksum %016llx, the tail says %016llx",
			 (unsigned long long)e.checksum, (unsigned long long)t->checksum);
		return -1;
	}
	if (len - lay.end_off < e.h.len) {
		snprintf(why, wl, "end record at %#llx cut short: %zu of its %u bytes",
			 (unsigned long long)lay.end_off, (size_t)(len - lay.end_off), e.h.len);
		return -1;
	}
	if (len - lay.end_off > e.h.len) {
		snprintf(why, wl, "%zu bytes after the end record at %#llx",
			 (size_t)(len - lay.end_off - e.h.len), (unsigned long long)lay.end_off);
		return -1;
	}
	at = lay.data_offset;
	for (o = 0; o < lay.tail_off; o += ((const struct cr_hdr *)(img + o))->len) {
		const struct cr_hdr_pages *p = (const struct cr_hdr_pages *)(img + o);
		uint64_t n = (uint64_t)p->nr * lay.page_size;

		if (p->h.type != CR_HDR_PAGES)
			continue;
		/* (no data_csum with CR_PAGES_NO_CSUM: cr_pages_check()) */
		if (!(p->flags & CR_PAGES_NO_CSUM)) {
			cr_xxh64_reset(&s);
			cr_xxh64_update(&s, img + at, n);
			if (cr_xxh64_digest(&s) != p->data_csum) {
				snprintf(why, wl, "PAGES record at %#zx: its page data at %#llx do not match its checksum",
					 o, (unsigned long long)at);
				return -1;
			}
		}
		at += n;
	}
	return 0;
}

#endif /* CR_TOOLS_H */
