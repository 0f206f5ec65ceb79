// SPDX-License-Identifier: GPL-2.0
/*
 * ckptinfo - check a checkpoint image and describe it
 *
 *   ckptinfo [--json] FILE
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "cr.h"

static int json;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ckptinfo [--json] FILE\n"
		"Check a checkpoint image (every record's type and length, the tail's\n"
		"record count and checksum) and print its header and a summary of its\n"
		"records; with --json, print every record as a JSON object instead.\n"
		"Exit status: 0 for a good image, 1 for a bad one (the first problem is\n"
		"printed), 2 on a usage error.\n");
}

static const uint32_t minlen[CR_HDR_TYPE_MAX] = {
	[CR_HDR_HEAD] = sizeof(struct cr_hdr_head), [CR_HDR_TAIL] = sizeof(struct cr_hdr_tail),
	[CR_HDR_TREE] = sizeof(struct cr_hdr_tree), [CR_HDR_TASK] = sizeof(struct cr_hdr_task),
	[CR_HDR_CPU] = sizeof(struct cr_hdr_cpu), [CR_HDR_FPU] = sizeof(struct cr_hdr_fpu),
	[CR_HDR_SIGHAND] = sizeof(struct cr_hdr_sighand),
	[CR_HDR_RESTART_BLOCK] = sizeof(struct cr_hdr_restart_block),
	[CR_HDR_MM] = sizeof(struct cr_hdr_mm), [CR_HDR_VMA] = sizeof(struct cr_hdr_vma),
	[CR_HDR_PAGES] = sizeof(struct cr_hdr_pages), [CR_HDR_FILE] = sizeof(struct cr_hdr_file),
	[CR_HDR_FD] = sizeof(struct cr_hdr_fd), [CR_HDR_FS] = sizeof(struct cr_hdr_fs),
};

static void json_str(const char *key, const char *s, size_t max)
{
	size_t i;

	printf(", \"%s\": \"", key);
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* The fields of a record worth showing, as JSON members. */
static void json_fields(const struct cr_hdr *h)
{
	switch (h->type) {
	case CR_HDR_HEAD: {
		const struct cr_hdr_head *r = (const void *)h;

		printf(", \"version\": %u, \"arch\": %u, \"abi_hash\": \"%016" PRIx64 "\""
		       ", \"time\": %" PRIu64 ", \"page_size\": %u, \"xfeatures\": \"%#" PRIx64 "\"",
		       r->version, r->arch, (uint64_t)r->abi_hash, (uint64_t)r->time_sec,
		       r->page_size, (uint64_t)r->xfeatures);
		json_str("release", r->release, CR_UTS_LEN);
		json_str("nodename", r->nodename, CR_UTS_LEN);
		break;
	}
	case CR_HDR_TAIL: {
		const struct cr_hdr_tail *r = (const void *)h;

		printf(", \"records\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"checksum\": \"%016" PRIx64 "\"",
		       (uint64_t)r->records, (uint64_t)r->bytes, (uint64_t)r->checksum);
		break;
	}
	case CR_HDR_TREE:
		printf(", \"nr_tasks\": %u", ((const struct cr_hdr_tree *)h)->nr_tasks);
		break;
	case CR_HDR_TASK: {
		const struct cr_hdr_task *r = (const void *)h;

		printf(", \"pid\": %d, \"uid\": %u", r->pid, r->uid);
		json_str("comm", (const char *)r->comm, sizeof(r->comm));
		break;
	}
	case CR_HDR_CPU: {
		const struct cr_hdr_cpu *r = (const void *)h;

		printf(", \"ip\": \"%#" PRIx64 "\", \"sp\": \"%#" PRIx64 "\", \"ax\": \"%#" PRIx64 "\"",
		       (uint64_t)r->ip, (uint64_t)r->sp, (uint64_t)r->ax);
		break;
	}
	case CR_HDR_FPU:
		printf(", \"size\": %u, \"xfeatures\": \"%#" PRIx64 "\"",
		       ((const struct cr_hdr_fpu *)h)->size,
		       (uint64_t)((const struct cr_hdr_fpu *)h)->xfeatures);
		break;
	case CR_HDR_MM:
		printf(", \"nr_vmas\": %u, \"brk\": \"%#" PRIx64 "\"",
		       ((const struct cr_hdr_mm *)h)->nr_vmas, (uint64_t)((const struct cr_hdr_mm *)h)->brk);
		break;
	case CR_HDR_VMA: {
		const struct cr_hdr_vma *r = (const void *)h;

		printf(", \"start\": \"%#" PRIx64 "\", \"end\": \"%#" PRIx64 "\", \"kind\": %u"
		       ", \"flags\": \"%#x\", \"file_tag\": %u",
		       (uint64_t)r->start, (uint64_t)r->end, r->kind, r->flags, r->file_tag);
		break;
	}
	case CR_HDR_PAGES:
		printf(", \"nr\": %u", ((const struct cr_hdr_pages *)h)->nr);
		break;
	case CR_HDR_FILE: {
		const struct cr_hdr_file *r = (const void *)h;

		printf(", \"kind\": %u, \"flags\": \"%#o\", \"pos\": %" PRIu64,
		       r->kind, r->f_flags, (uint64_t)r->pos);
		if (h->len >= sizeof(*r) + r->path_len)
			json_str("path", (const char *)(r + 1), r->path_len);
		break;
	}
	case CR_HDR_FD:
		printf(", \"fd\": %d, \"file_tag\": %u", ((const struct cr_hdr_fd *)h)->fd,
		       ((const struct cr_hdr_fd *)h)->file_tag);
		break;
	case CR_HDR_RESTART_BLOCK:
		printf(", \"kind\": %u, \"remaining_ns\": %" PRId64,
		       ((const struct cr_hdr_restart_block *)h)->kind,
		       (int64_t)((const struct cr_hdr_restart_block *)h)->remaining_ns);
		break;
	}
}

static int bad(uint64_t idx, const struct cr_hdr *h, size_t off, const char *why)
{
	if (h)
		fprintf(stderr, "ckptinfo: record %" PRIu64 " (%s) at offset %#zx: %s\n",
			idx, cr_type_name(h->type), off, why);
	else
		fprintf(stderr, "ckptinfo: %s\n", why);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	uint64_t count[CR_HDR_TYPE_MAX] = {}, idx = 0, pages = 0;
	const struct cr_hdr_head *head;
	const struct cr_hdr_tail *tail = NULL;
	struct cr_xxh64 sum;
	const uint8_t *img;
	char abi[32] = "";
	struct stat st;
	size_t off = 0;
	int c, fd, i;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	fd = open(argv[optind], O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "ckptinfo: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	if (st.st_size < (off_t)sizeof(*head))
		return bad(0, NULL, 0, "not a checkpoint image (too short)");
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED) {
		fprintf(stderr, "ckptinfo: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	head = (const void *)img;
	if (head->h.type != CR_HDR_HEAD || memcmp(head->magic, CR_IMAGE_MAGIC, 8))
		return bad(0, NULL, 0, "not a checkpoint image (bad magic)");

	cr_xxh64_reset(&sum);
	if (json)
		printf("[\n");
	while (!tail) {
		const struct cr_hdr *h = (const void *)(img + off);

		if (off + sizeof(*h) > (size_t)st.st_size)
			return bad(idx, NULL, off, "image truncated: no tail record");
		if (h->type >= CR_HDR_TYPE_MAX || !cr_type_names[h->type])
			return bad(idx, h, off, "unknown record type");
		if (h->len % 8 || h->len < minlen[h->type])
			return bad(idx, h, off, "bad length for the record type");
		if (h->len > CR_RECORD_MAX)
			return bad(idx, h, off, "length over the record size limit");
		if (off + h->len > (size_t)st.st_size)
			return bad(idx, h, off, "image truncated inside the record");
		if (idx && h->type == CR_HDR_HEAD)
			return bad(idx, h, off, "a second head");
		if (h->type == CR_HDR_PAGES) {
			const struct cr_hdr_pages *p = (const void *)h;

			if (h->len != sizeof(*p) + (uint64_t)p->nr * (8 + head->page_size))
				return bad(idx, h, off, "length does not match the page count");
			pages += p->nr;
		}
		if (json) {
			printf("  {\"index\": %" PRIu64 ", \"offset\": %zu, \"type\": \"%s\", \"len\": %u"
			       ", \"tag\": %u, \"ptag\": %u", idx, off, cr_type_name(h->type),
			       h->len, h->tag, h->ptag);
			json_fields(h);
			printf("}%s\n", h->type == CR_HDR_TAIL ? "" : ",");
		}
		count[h->type]++;
		if (h->type == CR_HDR_TAIL) {
			tail = (const void *)h;
			break;
		}
		cr_xxh64_update(&sum, h, h->len);
		off += h->len;
		idx++;
	}
	if (json)
		printf("]\n");
	if (tail->records != idx || tail->bytes != off)
		return bad(idx, &tail->h, off, "record count or length differs from the tail's");
	if (tail->checksum != cr_xxh64_digest(&sum))
		return bad(idx, &tail->h, off, "checksum mismatch");
	if (json)
		return 0;

	fd = open("/sys/kernel/checkpoint/abi_hash", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, abi, sizeof(abi) - 1);

		abi[n > 0 ? n : 0] = '\0';
		abi[strcspn(abi, "\n")] = '\0';
		close(fd);
	}
	{
		time_t t = head->time_sec;
		char ts[64];

		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
		printf("image:      %s, %zu bytes, checksum %016" PRIx64 " ok\n", argv[optind],
		       off + tail->h.len, (uint64_t)tail->checksum);
		printf("format:     version %u, arch %u (x86_64 is %u), page size %u\n",
		       head->version, head->arch, CR_ARCH_X86_64, head->page_size);
		printf("abi hash:   %016" PRIx64 "%s\n", (uint64_t)head->abi_hash,
		       !abi[0] ? "" : strtoull(abi, NULL, 16) == head->abi_hash ?
		       " (this kernel's)" : " (differs from this kernel's)");
		printf("taken:      %s by kernel %.64s\n", ts, head->release);
		printf("container:  nodename %.64s, domainname %.64s\n", head->nodename,
		       head->domainname);
		printf("cpu:        xfeatures %#" PRIx64 ", xstate %u bytes\n",
		       (uint64_t)head->xfeatures, head->xstate_size);
	}
	printf("records:    %" PRIu64 " (", idx + 1);
	for (i = 0, c = 0; i < CR_HDR_TYPE_MAX; i++)
		if (count[i])
			printf("%s%s %" PRIu64, c++ ? ", " : "", cr_type_names[i], count[i]);
	printf(")\n");
	printf("memory:     %" PRIu64 " pages (%" PRIu64 " KiB)\n", pages,
	       pages * head->page_size / 1024);
	return 0;
}
