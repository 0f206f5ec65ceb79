// SPDX-License-Identifier: GPL-2.0
/*
 * ckptinfo - check a checkpoint image and describe it
 *
 *   ckptinfo [--json] FILE
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cr.h"

static int json;
/* --json: where the records place the page data (0: nowhere), and how far into them */
static uint64_t json_data_offset, json_data_pos;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ckptinfo [--json] FILE\n"
		"Check a checkpoint image (every record's type and length, the task tree\n"
		"and the task records' order, each PAGES record's page count and runs of\n"
		"pages: inside its area, ascending and apart, adding up to its count; the\n"
		"tail's record count and checksum, the page data after the tail: where the\n"
		"tail says, as long as the PAGES records say, zero padding before them,\n"
		"each PAGES record's data against its checksum unless it has none; the END\n"
		"record after them, which says the checkpoint completed: its data_bytes and\n"
		"checksum the tail's, nothing after it) and print its header, a summary of\n"
		"its records, memory and page data and its task tree with a summary of each\n"
		"task's records; with --json, print every record as a JSON object instead\n"
		"(the tree's with a \"tasks\" array, a PAGES record's with its \"runs\" and\n"
		"the offset of its page data in the file, the END record's last).\n"
		"Exit status: 0 for a good image, 1 for a bad one (the first problem is\n"
		"printed), 2 on a usage error.\n");
}

static const uint32_t minlen[CR_HDR_TYPE_MAX] = {
	[CR_HDR_HEAD] = sizeof(struct cr_hdr_head), [CR_HDR_TAIL] = sizeof(struct cr_hdr_tail),
	[CR_HDR_END] = sizeof(struct cr_hdr_end), [CR_HDR_TREE] = sizeof(struct cr_hdr_tree),
	[CR_HDR_TASK] = sizeof(struct cr_hdr_task),
	[CR_HDR_CPU] = sizeof(struct cr_hdr_cpu), [CR_HDR_FPU] = sizeof(struct cr_hdr_fpu),
	[CR_HDR_SIGHAND] = sizeof(struct cr_hdr_sighand),
	[CR_HDR_RESTART_BLOCK] = sizeof(struct cr_hdr_restart_block),
	[CR_HDR_MM] = sizeof(struct cr_hdr_mm), [CR_HDR_VMA] = sizeof(struct cr_hdr_vma),
	[CR_HDR_PAGES] = sizeof(struct cr_hdr_pages), [CR_HDR_FILE] = sizeof(struct cr_hdr_file),
	[CR_HDR_FDS] = sizeof(struct cr_hdr_fds), [CR_HDR_FS] = sizeof(struct cr_hdr_fs),
	[CR_HDR_PIPE] = sizeof(struct cr_hdr_pipe), [CR_HDR_SOCK] = sizeof(struct cr_hdr_sock),
	[CR_HDR_SOCK_MSG] = sizeof(struct cr_hdr_sock_msg),
};

/* The name of a record type (cr.h's, and those it does not name yet), or NULL. */
static const char *type_name(uint32_t type)
{
	if (type < CR_HDR_TYPE_MAX && cr_type_names[type])
		return cr_type_names[type];
	if (type == CR_HDR_SOCK)
		return "sock";
	if (type == CR_HDR_SOCK_MSG)
		return "sock_msg";
	return NULL;
}

static const char *type_name_or_unknown(uint32_t type)
{
	return type_name(type) ?: "unknown";
}

/* @len bytes of @s (NULs included) after @prefix, as a JSON string member. */
static void json_mem(const char *key, const char *prefix, const char *s, size_t len)
{
	size_t i;

	printf(", \"%s\": \"%s", key, prefix);
	for (i = 0; i < len; i++) {
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

static void json_str(const char *key, const char *s, size_t max)
{
	json_mem(key, "", s, strnlen(s, max));
}

static const char *const sock_flag_names[] = {
	"bound", "ghost", "embryo", "reset", "passcred", "passsec", "passpidfd", "sndbuf_set",
	"rcvbuf_set", "keepalive", "oobinline", "linger", "peercred",
};

/* The SOCK record @r, whose name and path fit in it. */
static void json_sock(const struct cr_hdr_sock *r)
{
	const char *name = (const char *)(r + 1);
	unsigned int i, c;

	if (r->type == SOCK_STREAM || r->type == SOCK_DGRAM || r->type == SOCK_SEQPACKET)
		printf(", \"sock_type\": \"%s\"", r->type == SOCK_STREAM ? "stream" :
		       r->type == SOCK_DGRAM ? "dgram" : "seqpacket");
	else
		printf(", \"sock_type\": \"%u\"", r->type);
	if (r->state >= CR_SOCK_UNCONNECTED && r->state <= CR_SOCK_CONNECTED)
		printf(", \"state\": \"%s\"", r->state == CR_SOCK_UNCONNECTED ? "unconnected" :
		       r->state == CR_SOCK_LISTEN ? "listen" : "connected");
	else
		printf(", \"state\": \"%u\"", r->state);
	printf(", \"flags\": \"%#x\", \"flag_names\": [", r->flags);
	for (i = 0, c = 0; i < sizeof(sock_flag_names) / sizeof(sock_flag_names[0]); i++)
		if (r->flags & (1U << i))
			printf("%s\"%s\"", c++ ? ", " : "", sock_flag_names[i]);
	printf("], \"peer_tag\": %u, \"listener_tag\": %u, \"backlog\": %u, \"shutdown\": %u"
	       ", \"err\": %d", r->peer_tag, r->listener_tag, r->backlog, r->shutdown, r->err);
	if (r->flags & CR_SOCK_PEERCRED)
		printf(", \"peer_pid\": %d, \"peer_uid\": %u, \"peer_gid\": %u", r->peer_pid,
		       r->peer_uid, r->peer_gid);
	/* a path up to its NUL, "@" and the rest for an abstract name, "" unbound */
	if (r->name_len && !name[0])
		json_mem("name", "@", name + 1, r->name_len - 1);
	else
		json_mem("name", "", name, strnlen(name, r->name_len));
	if (r->path_len) {
		json_str("path", name + r->name_len, r->path_len);
		printf(", \"mode\": \"%#o\"", r->mode);
	}
}

/* The SOCK_MSG record @r, whose fd tags fit in it. */
static void json_sock_msg(const struct cr_hdr_sock_msg *r)
{
	const uint32_t *tags = (const void *)(r + 1);
	uint32_t i;

	printf(", \"sender_tag\": %u, \"flags\": \"%#x\", \"msg_len\": %u, \"nr_fds\": %u, \"fds\": [",
	       r->sender_tag, r->flags, r->len, r->nr_fds);
	for (i = 0; i < r->nr_fds; i++)
		printf("%s%u", i ? ", " : "", tags[i]);
	printf("]");
	if (r->flags & CR_MSG_CREDS)
		printf(", \"pid\": %d, \"uid\": %u, \"gid\": %u", r->pid, r->uid, r->gid);
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

		printf(", \"records\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"checksum\": \"%016" PRIx64 "\""
		       ", \"data_offset\": %" PRIu64 ", \"data_bytes\": %" PRIu64,
		       (uint64_t)r->records, (uint64_t)r->bytes, (uint64_t)r->checksum,
		       (uint64_t)r->data_offset, (uint64_t)r->data_bytes);
		break;
	}
	case CR_HDR_END: {
		const struct cr_hdr_end *r = (const void *)h;

		printf(", \"data_bytes\": %" PRIu64 ", \"checksum\": \"%016" PRIx64 "\"",
		       (uint64_t)r->data_bytes, (uint64_t)r->checksum);
		break;
	}
	case CR_HDR_TREE: {
		const struct cr_hdr_tree *r = (const void *)h;
		const struct cr_tree_task *t = (const void *)(r + 1);
		uint32_t i;

		printf(", \"nr_tasks\": %u, \"tasks\": [", r->nr_tasks);
		for (i = 0; i < r->nr_tasks; i++, t++)
			printf("%s{\"pid\": %d, \"tgid\": %d, \"ppid\": %d, \"pgid\": %d, \"sid\": %d"
			       ", \"flags\": \"%#x\", \"thread\": %s, \"zombie\": %s, \"subreaper\": %s"
			       ", \"exit_code\": %u, \"exit_signal\": %u, \"mm_tag\": %u"
			       ", \"files_tag\": %u, \"fs_tag\": %u, \"sighand_tag\": %u}",
			       i ? ", " : "", t->pid, t->tgid, t->ppid, t->pgid, t->sid, t->flags,
			       t->pid != t->tgid ? "true" : "false",
			       t->flags & CR_TASK_ZOMBIE ? "true" : "false",
			       t->flags & CR_TASK_SUBREAPER ? "true" : "false",
			       t->exit_code, t->exit_signal, t->mm_tag, t->files_tag, t->fs_tag,
			       t->sighand_tag);
		printf("]");
		break;
	}
	case CR_HDR_TASK: {
		const struct cr_hdr_task *r = (const void *)h;

		printf(", \"pid\": %d, \"tgid\": %d, \"uid\": %u", r->pid, r->tgid, r->uid);
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
	case CR_HDR_PAGES: {
		const struct cr_hdr_pages *r = (const void *)h;

		uint32_t i;

		printf(", \"nr\": %u, \"flags\": \"%#x\", \"no_csum\": %s, \"data_csum\": \"%016" PRIx64 "\""
		       ", \"nr_runs\": %u, \"runs\": [",
		       r->nr, r->flags, r->flags & CR_PAGES_NO_CSUM ? "true" : "false",
		       (uint64_t)r->data_csum, r->nr_runs);
		/* (checked: all nr_runs of them are in the record) */
		for (i = 0; i < r->nr_runs; i++) {
			struct cr_page_run run = cr_pages_run(r, i);

			printf("%s{\"addr\": \"%#" PRIx64 "\", \"nr\": %" PRIu64 "}", i ? ", " : "",
			       (uint64_t)run.addr, (uint64_t)run.nr);
		}
		printf("]");
		/* where its pages are in the file, if the records lead to a tail */
		if (json_data_offset)
			printf(", \"data_offset\": %" PRIu64, json_data_offset + json_data_pos);
		else
			printf(", \"data_offset\": null");
		break;
	}
	case CR_HDR_FILE: {
		const struct cr_hdr_file *r = (const void *)h;

		printf(", \"kind\": %u, \"flags\": \"%#o\", \"pos\": %" PRIu64,
		       r->kind, r->f_flags, (uint64_t)r->pos);
		if (r->kind == CR_FILE_STDIO)
			printf(", \"stdio_fd\": %u", r->stdio_fd);
		else if (r->kind == CR_FILE_PIPE)
			printf(", \"pipe_tag\": %u", h->ptag);
		else if (r->kind == CR_FILE_SOCK)
			printf(", \"sock_tag\": %u", h->ptag);
		else if (h->len >= sizeof(*r) + r->path_len)
			json_str("path", (const char *)(r + 1), r->path_len);
		break;
	}
	case CR_HDR_PIPE: {
		const struct cr_hdr_pipe *r = (const void *)h;
		size_t skip = sizeof(*r) + (size_t)r->nr_segs * sizeof(struct cr_pipe_seg);

		printf(", \"kind\": \"%s\", \"size\": %u, \"segments\": %u, \"queued\": %u",
		       r->kind == CR_PIPE_FIFO ? "fifo" : "pipe", r->size, r->nr_segs, r->data_len);
		if (r->path_len && h->len >= skip + r->path_len)
			json_str("path", (const char *)r + skip, r->path_len);
		break;
	}
	case CR_HDR_SOCK:
		json_sock((const void *)h);
		break;
	case CR_HDR_SOCK_MSG:
		json_sock_msg((const void *)h);
		break;
	case CR_HDR_FDS: {
		const struct cr_hdr_fds *r = (const void *)h;
		const struct cr_fd *f = (const void *)(r + 1);
		uint32_t i;

		/* (checked: all nr of them are in the record) */
		printf(", \"nr\": %u, \"fds\": [", r->nr);
		for (i = 0; i < r->nr; i++, f++)
			printf("%s{\"fd\": %d, \"file_tag\": %u, \"flags\": \"%#x\"}",
			       i ? ", " : "", f->fd, f->file_tag, f->flags);
		printf("]");
		break;
	}
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
			idx, type_name_or_unknown(h->type), off, why);
	else
		fprintf(stderr, "ckptinfo: %s\n", why);
	return 1;
}

/* The tree (once checked) and the index in it of the next task record. */
static const struct cr_hdr_tree *tree;
static const struct cr_tree_task *tasks;
static uint32_t next_task;
static char why[128];

/* Check the TREE record @r: returns NULL if it is good, else what is wrong. */
static const char *check_tree(const struct cr_hdr_tree *r)
{
	const struct cr_tree_task *t = (const void *)(r + 1);
	uint32_t i;

	if (!r->nr_tasks)
		return "a tree without tasks";
	if ((uint64_t)r->nr_tasks * sizeof(*t) > r->h.len - sizeof(*r))
		return "the task count does not fit in the record";
	for (i = 0; i < r->nr_tasks; i++, t++) {
		if (t->pid <= 0 || t->tgid <= 0 || t->ppid < 0 ||
		    (!i && (t->pid != t->tgid || t->ppid)))
			snprintf(why, sizeof(why), "task %u (pid %d): bad pid, tgid or ppid", i, t->pid);
		else if (t->flags & ~CR_TASK_FLAGS_ALL)
			snprintf(why, sizeof(why), "task %u (pid %d): unknown flags %#x", i, t->pid,
				 t->flags);
		else
			continue;
		return why;
	}
	return NULL;
}

/* Check that the TASK record @r is the next live task of the tree. */
static const char *check_task(const struct cr_hdr_task *r)
{
	while (next_task < tree->nr_tasks && tasks[next_task].flags & CR_TASK_ZOMBIE)
		next_task++;
	if (next_task == tree->nr_tasks)
		return "more task records than live tasks in the tree";
	if (r->pid != tasks[next_task].pid || r->tgid != tasks[next_task].tgid) {
		snprintf(why, sizeof(why), "task pid %d out of the tree's order (pid %d is next)",
			 r->pid, tasks[next_task].pid);
		return why;
	}
	next_task++;
	return NULL;
}

/*
 * Offsets of the tail and of the records after the last task (sockets
 * without a file, queued messages and the files they carry), which are
 * the FILE, PIPE, SOCK and SOCK_MSG records right before the tail: a
 * task's records end with its CPU, FPU and others.  No such records:
 * the tail's.
 */
static size_t after_tasks_off, tail_off;

static int after_tasks_type(uint32_t type)
{
	return type == CR_HDR_FILE || type == CR_HDR_PIPE || type == CR_HDR_SOCK ||
	       type == CR_HDR_SOCK_MSG;
}

/* The record counts from @off to the next TASK record or @end, in @count. */
static size_t count_records(const uint8_t *img, size_t off, size_t end,
			    uint64_t count[CR_HDR_TYPE_MAX], uint64_t *n, uint64_t *pages,
			    uint64_t *runs)
{
	const struct cr_hdr *h = (const void *)(img + off);

	do {
		count[h->type]++;
		(*n)++;
		if (h->type == CR_HDR_PAGES) {
			*pages += ((const struct cr_hdr_pages *)h)->nr;
			*runs += ((const struct cr_hdr_pages *)h)->nr_runs;
		}
		off += h->len;
		h = (const void *)(img + off);
	} while (off < end && h->type != CR_HDR_TASK);
	return off;
}

static void print_counts(const uint64_t count[CR_HDR_TYPE_MAX])
{
	int i, c;

	for (i = 0, c = 0; i < CR_HDR_TYPE_MAX; i++)
		if (count[i])
			printf("%s%s %" PRIu64, c++ ? ", " : "", type_name(i), count[i]);
}

/*
 * Sum up the records of the task whose TASK record is at @off; returns
 * the offset of the next task's (or of what follows the last task).
 */
static size_t print_task_records(const uint8_t *img, size_t off)
{
	uint64_t count[CR_HDR_TYPE_MAX] = {}, n = 0, pages = 0, runs = 0;

	off = count_records(img, off, after_tasks_off, count, &n, &pages, &runs);
	printf("      %" PRIu64 " records (", n);
	print_counts(count);
	printf("), %" PRIu64 " pages in %" PRIu64 " run%s\n", pages, runs, runs == 1 ? "" : "s");
	return off;
}

/* The tree, a line per task, and under each live task its records; from @off. */
static void print_tasks(const uint8_t *img, size_t off)
{
	const struct cr_tree_task *t;
	uint32_t i, threads = 0, zombies = 0;

	for (i = 0, t = tasks; i < tree->nr_tasks; i++, t++) {
		threads += t->pid != t->tgid;
		zombies += !!(t->flags & CR_TASK_ZOMBIE);
	}
	printf("tasks:      %u (%u process%s, %u thread%s, %u zombie%s)\n", tree->nr_tasks,
	       tree->nr_tasks - threads, tree->nr_tasks - threads == 1 ? "" : "es",
	       threads, threads == 1 ? "" : "s", zombies, zombies == 1 ? "" : "s");
	for (i = 0, t = tasks; i < tree->nr_tasks; i++, t++) {
		const struct cr_hdr_task *r = (const void *)(img + off);
		int zombie = t->flags & CR_TASK_ZOMBIE;

		printf("  pid %d", t->pid);
		if (!zombie)
			printf(" (%.16s)", r->comm);
		printf(": %s", t->pid == t->tgid ? "process" : "thread");
		if (zombie && WIFEXITED(t->exit_code))
			printf(", zombie (exited %d)", WEXITSTATUS(t->exit_code));
		else if (zombie && WIFSIGNALED(t->exit_code))
			printf(", zombie (killed by signal %d%s)", WTERMSIG(t->exit_code),
			       WCOREDUMP(t->exit_code) ? ", core dumped" : "");
		else if (zombie)
			printf(", zombie (status %#x)", t->exit_code);
		if (t->flags & CR_TASK_SUBREAPER)
			printf(", subreaper");
		printf(", tgid %d, ppid %d, pgid %d, sid %d", t->tgid, t->ppid, t->pgid, t->sid);
		if (t->pid == t->tgid && t->exit_signal != SIGCHLD)
			printf(", exit signal %u", t->exit_signal);
		if (zombie) {
			printf("\n");
			continue;
		}
		printf(", mm %u, files %u, fs %u, sighand %u\n", t->mm_tag, t->files_tag,
		       t->fs_tag, t->sighand_tag);
		off = print_task_records(img, off);
	}
	if (off < tail_off) {
		uint64_t count[CR_HDR_TYPE_MAX] = {}, n = 0, pages = 0, runs = 0;

		count_records(img, off, tail_off, count, &n, &pages, &runs);
		printf("  after the tasks: %" PRIu64 " records (", n);
		print_counts(count);
		printf(")\n");
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	uint64_t count[CR_HDR_TYPE_MAX] = {}, idx = 0, pages = 0, no_csum = 0, runs = 0;
	uint64_t no_file = 0, msg_bytes = 0, msg_fds = 0, data_offset, data_end, last_run = 0;
	const struct cr_hdr_vma *vma = NULL;	/* the area of the PAGES records that follow */
	const struct cr_hdr_head *head;
	const struct cr_hdr_tail *tail = NULL;
	const struct cr_hdr_end *end = NULL;
	const char *wrong;
	struct cr_layout lay;
	struct cr_xxh64 sum;
	const uint8_t *img;
	char abi[32] = "";
	struct stat st;
	size_t off = 0, tasks_off = 0, run_off = 0;
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
	if (head->version != CR_IMAGE_VERSION) {
		snprintf(why, sizeof(why), "image format version %u: ckptinfo reads version %u",
			 head->version, CR_IMAGE_VERSION);
		return bad(0, NULL, 0, why);
	}
	/* (a head too short is the record walk's to report) */
	if (head->h.len >= sizeof(*head) &&
	    (!head->page_size || (head->page_size & (head->page_size - 1)))) {
		snprintf(why, sizeof(why), "bad page size %u", head->page_size);
		return bad(0, &head->h, 0, why);
	}
	if (json && !cr_layout(img, st.st_size, &lay))
		json_data_offset = lay.data_offset;

	cr_xxh64_reset(&sum);
	if (json)
		printf("[\n");
	while (!tail) {
		const struct cr_hdr *h = (const void *)(img + off);

		if (off + sizeof(*h) > (size_t)st.st_size)
			return bad(idx, NULL, off, "image truncated: no tail record");
		if (h->type >= CR_HDR_TYPE_MAX || !type_name(h->type))
			return bad(idx, h, off, "unknown record type");
		if (h->len % 8 || h->len < minlen[h->type])
			return bad(idx, h, off, "bad length for the record type");
		if (h->len > CR_RECORD_MAX)
			return bad(idx, h, off, "length over the record size limit");
		if (off + h->len > (size_t)st.st_size)
			return bad(idx, h, off, "image truncated inside the record");
		if (idx && h->type == CR_HDR_HEAD)
			return bad(idx, h, off, "a second head");
		if (h->type == CR_HDR_END)
			return bad(idx, h, off, "an end record before the tail");
		/* a PAGES record follows its area or another PAGES record of it */
		if (h->type == CR_HDR_VMA) {
			vma = (const void *)h;
			last_run = 0;
		} else if (h->type == CR_HDR_PAGES) {
			const struct cr_hdr_pages *p = (const void *)h;

			if (!vma || h->ptag != vma->h.tag) {
				snprintf(why, sizeof(why), "not after its area (ptag %u)", h->ptag);
				return bad(idx, h, off, why);
			}
			if (cr_pages_check(p, vma, head->page_size, &last_run, why, sizeof(why)))
				return bad(idx, h, off, why);
			no_csum += !!(p->flags & CR_PAGES_NO_CSUM);
			runs += p->nr_runs;
		} else {
			vma = NULL;
		}
		if (h->type == CR_HDR_SOCK) {
			const struct cr_hdr_sock *r = (const void *)h;

			if (h->len < sizeof(*r) + (uint64_t)r->name_len + r->path_len)
				return bad(idx, h, off, "record shorter than its name and path");
			no_file += !!(r->flags & (CR_SOCK_GHOST | CR_SOCK_EMBRYO));
		}
		if (h->type == CR_HDR_FDS) {
			const struct cr_hdr_fds *r = (const void *)h;

			if (!r->nr || r->nr > CR_FDS_MAX ||
			    h->len < sizeof(*r) + (uint64_t)r->nr * sizeof(struct cr_fd))
				return bad(idx, h, off,
					   "descriptor count 0, over CR_FDS_MAX or past the record");
		}
		if (h->type == CR_HDR_SOCK_MSG) {
			const struct cr_hdr_sock_msg *r = (const void *)h;

			if (h->len < sizeof(*r) + (uint64_t)r->nr_fds * sizeof(uint32_t) + r->len)
				return bad(idx, h, off, "record shorter than its file tags and data");
			msg_bytes += r->len;
			msg_fds += r->nr_fds;
		}
		/* the start of the run of records that may come after the last task */
		if (after_tasks_type(h->type) && !run_off)
			run_off = off;
		else if (!after_tasks_type(h->type) && h->type != CR_HDR_TAIL)
			run_off = 0;
		if (idx == 1 && h->type != CR_HDR_TREE)
			return bad(idx, h, off, "no tree after the head");
		if (h->type == CR_HDR_TREE) {
			if (tree)
				return bad(idx, h, off, "a second tree");
			wrong = check_tree((const void *)h);
			if (wrong)
				return bad(idx, h, off, wrong);
			tree = (const void *)h;
			tasks = (const void *)(tree + 1);
			tasks_off = off + h->len;
		} else if (h->type == CR_HDR_TASK) {
			wrong = check_task((const void *)h);
			if (wrong)
				return bad(idx, h, off, wrong);
		} else if (idx > 1 && !next_task && h->type != CR_HDR_TAIL) {
			return bad(idx, h, off, "a record before the first task");
		}
		if (json) {
			printf("  {\"index\": %" PRIu64 ", \"offset\": %zu, \"type\": \"%s\", \"len\": %u"
			       ", \"tag\": %u, \"ptag\": %u", idx, off, type_name_or_unknown(h->type),
			       h->len, h->tag, h->ptag);
			json_fields(h);
			/* (the tail's line ends once it is known whether the END record follows) */
			printf("}%s", h->type == CR_HDR_TAIL ? "" : ",\n");
		}
		/* after json_fields(): a PAGES record's data come after those counted so far */
		if (h->type == CR_HDR_PAGES) {
			pages += ((const struct cr_hdr_pages *)h)->nr;
			json_data_pos = pages * head->page_size;
		}
		count[h->type]++;
		if (h->type == CR_HDR_TAIL) {
			tail = (const void *)h;
			tail_off = off;
			after_tasks_off = run_off && next_task ? run_off : off;
			break;
		}
		cr_xxh64_update(&sum, h, h->len);
		off += h->len;
		idx++;
	}
	/* The page data: after the tail and zero padding, as long as the records say; then END. */
	data_offset = cr_round_up(off + tail->h.len, head->page_size);
	data_end = data_offset + pages * head->page_size;
	if (data_end <= (uint64_t)st.st_size && st.st_size - data_end >= sizeof(*end))
		end = (const void *)(img + data_end);
	if (json) {
		if (end && end->h.type == CR_HDR_END) {
			printf(",\n  {\"index\": %" PRIu64 ", \"offset\": %" PRIu64
			       ", \"type\": \"end\", \"len\": %u, \"tag\": %u, \"ptag\": %u",
			       idx + 1, data_end, end->h.len, end->h.tag, end->h.ptag);
			json_fields(&end->h);
			printf("}");
		}
		printf("\n]\n");
	}
	if (tail->records != idx || tail->bytes != off)
		return bad(idx, &tail->h, off, "record count or length differs from the tail's");
	if (tail->checksum != cr_xxh64_digest(&sum))
		return bad(idx, &tail->h, off, "checksum mismatch");
	/* the tree is record 1: the tail cannot be */
	while (next_task < tree->nr_tasks && tasks[next_task].flags & CR_TASK_ZOMBIE)
		next_task++;
	if (next_task < tree->nr_tasks) {
		snprintf(why, sizeof(why), "live task pid %d of the tree has no task record",
			 tasks[next_task].pid);
		return bad(idx, &tail->h, off, why);
	}

	if (tail->data_offset != data_offset) {
		snprintf(why, sizeof(why), "page data at offset %#" PRIx64 ", expected at %#" PRIx64,
			 (uint64_t)tail->data_offset, data_offset);
		return bad(idx, &tail->h, off, why);
	}
	if (tail->data_bytes != pages * head->page_size) {
		snprintf(why, sizeof(why), "%" PRIu64 " bytes of page data, the PAGES records have %"
			 PRIu64, (uint64_t)tail->data_bytes, pages * head->page_size);
		return bad(idx, &tail->h, off, why);
	}
	if ((uint64_t)st.st_size < data_end) {
		snprintf(why, sizeof(why), "image truncated: its page data end at offset %#" PRIx64
			 ", the file at %#jx", data_end, (uintmax_t)st.st_size);
		return bad(idx, NULL, off, why);
	}
	for (size_t o = off + tail->h.len; o < data_offset; o++) {
		if (img[o]) {
			snprintf(why, sizeof(why), "byte at offset %#zx, before the page data, is not zero",
				 o);
			return bad(idx, NULL, off, why);
		}
	}
	/* The END record right after the page data, and nothing after it. */
	if (!end) {
		snprintf(why, sizeof(why), "no end record after the page data (at offset %#" PRIx64
			 ", %" PRIu64 " bytes there): the checkpoint did not complete", data_end,
			 (uint64_t)st.st_size - data_end);
		return bad(idx, NULL, off, why);
	}
	if (end->h.type != CR_HDR_END) {
		snprintf(why, sizeof(why), "no end record after the page data (at offset %#" PRIx64
			 ": type %u, length %u): the checkpoint did not complete", data_end,
			 end->h.type, end->h.len);
		return bad(idx, NULL, off, why);
	}
	if (end->h.len < sizeof(*end) || end->h.len % 8 || end->h.len > CR_END_MAX)
		return bad(idx + 1, &end->h, data_end, "bad length for the record type");
	if (end->h.tag || end->h.ptag) {
		snprintf(why, sizeof(why), "tag %u, ptag %u: not 0", end->h.tag, end->h.ptag);
		return bad(idx + 1, &end->h, data_end, why);
	}
	if (end->data_bytes != tail->data_bytes) {
		snprintf(why, sizeof(why), "data_bytes %" PRIu64 ", the tail says %" PRIu64,
			 (uint64_t)end->data_bytes, (uint64_t)tail->data_bytes);
		return bad(idx + 1, &end->h, data_end, why);
	}
	if (end->checksum != tail->checksum) {
		snprintf(why, sizeof(why), "checksum %016" PRIx64 ", the tail says %016" PRIx64,
			 (uint64_t)end->checksum, (uint64_t)tail->checksum);
		return bad(idx + 1, &end->h, data_end, why);
	}
	if ((uint64_t)st.st_size - data_end < end->h.len)
		return bad(idx + 1, &end->h, data_end, "image truncated inside the record");
	if ((uint64_t)st.st_size - data_end > end->h.len) {
		snprintf(why, sizeof(why), "%" PRIu64 " bytes after the end record at offset %#"
			 PRIx64, (uint64_t)st.st_size - data_end - end->h.len, data_end);
		return bad(idx, NULL, off, why);
	}
	count[CR_HDR_END]++;
	{
		uint64_t at = data_offset, i = 0;

		for (size_t o = 0; o < tail_off; o += ((const struct cr_hdr *)(img + o))->len, i++) {
			const struct cr_hdr_pages *p = (const void *)(img + o);
			uint64_t n = (uint64_t)p->nr * head->page_size;

			if (p->h.type != CR_HDR_PAGES)
				continue;
			if (!(p->flags & CR_PAGES_NO_CSUM)) {
				struct cr_xxh64 s;

				cr_xxh64_reset(&s);
				cr_xxh64_update(&s, img + at, n);
				if (cr_xxh64_digest(&s) != p->data_csum) {
					snprintf(why, sizeof(why),
						 "its page data at offset %#" PRIx64 " (%u page%s from %#"
						 PRIx64 "): checksum mismatch", at, p->nr,
						 p->nr == 1 ? "" : "s",
						 (uint64_t)cr_pages_run(p, 0).addr);
					return bad(i, &p->h, o, why);
				}
			}
			at += n;
		}
	}
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
		printf("image:      %s, %jd bytes, checksum %016" PRIx64 " ok\n", argv[optind],
		       (intmax_t)st.st_size, (uint64_t)tail->checksum);
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
	printf("records:    %" PRIu64 " (", idx + 2);
	for (i = 0, c = 0; i < CR_HDR_TYPE_MAX; i++)
		if (count[i])
			printf("%s%s %" PRIu64, c++ ? ", " : "", type_name(i), count[i]);
	printf(")\n");
	printf("memory:     %" PRIu64 " pages (%" PRIu64 " KiB) in %" PRIu64 " run%s\n",
	       pages, pages * head->page_size / 1024, runs, runs == 1 ? "" : "s");
	printf("page data:  %" PRIu64 " bytes at offset %#" PRIx64 ", %" PRIu64 " record%s: %"
	       PRIu64 " checksum%s ok, %" PRIu64 " without a checksum\n", pages * head->page_size,
	       data_offset, count[CR_HDR_PAGES], count[CR_HDR_PAGES] == 1 ? "" : "s",
	       count[CR_HDR_PAGES] - no_csum, count[CR_HDR_PAGES] - no_csum == 1 ? "" : "s",
	       no_csum);
	printf("end:        at offset %#" PRIx64 ", %u bytes: data_bytes %" PRIu64 ", checksum %016"
	       PRIx64 " as the tail's: the checkpoint completed\n", data_end, end->h.len,
	       (uint64_t)end->data_bytes, (uint64_t)end->checksum);
	if (count[CR_HDR_SOCK] || count[CR_HDR_SOCK_MSG])
		printf("sockets:    %" PRIu64 " (%" PRIu64 " without a file), messages: %" PRIu64
		       " (%" PRIu64 " byte%s, %" PRIu64 " fd%s in flight)\n", count[CR_HDR_SOCK],
		       no_file, count[CR_HDR_SOCK_MSG], msg_bytes, msg_bytes == 1 ? "" : "s",
		       msg_fds, msg_fds == 1 ? "" : "s");
	print_tasks(img, tasks_off);
	return 0;
}
