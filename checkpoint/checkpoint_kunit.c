// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of checkpoint/restart internals: the arena, record header
 * checks, the objhash and the task tree check.
 */

#include <kunit/test.h>
#include <linux/checkpoint.h>
#include <linux/slab.h>

static struct cr_ctx *cr_test_ctx(struct kunit *test, size_t first, size_t max)
{
	struct cr_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	INIT_LIST_HEAD(&ctx->pgarr);
	cr_arena_init(&ctx->arena, first, max);
	return ctx;
}

static unsigned int cr_test_chunks(struct cr_arena *a)
{
	struct cr_chunk *c;
	unsigned int n = 0;

	list_for_each_entry(c, &a->chunks, list)
		n++;
	return n;
}

/* Nested gets are laid out one after the other, in stream order. */
static void cr_arena_nesting(struct kunit *test)
{
	struct cr_ctx *ctx = cr_test_ctx(test, 0, 0);
	u8 *a, *b, *c;

	a = cr_hbuf_get(ctx, 20);
	KUNIT_ASSERT_NOT_NULL(test, a);
	b = cr_hbuf_get(ctx, 8);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, ctx->arena.depth, 2u);
	KUNIT_EXPECT_PTR_EQ(test, b, a + 24);	/* 20 rounded up to 8 */
	cr_hbuf_put(ctx, 8);
	c = cr_hbuf_get(ctx, 16);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_PTR_EQ(test, c, b + 8);
	cr_hbuf_put(ctx, 16);
	cr_hbuf_put(ctx, 20);
	KUNIT_EXPECT_EQ(test, ctx->arena.depth, 0u);
	KUNIT_EXPECT_EQ(test, ctx->arena.total, (size_t)48);
	KUNIT_EXPECT_EQ(test, cr_test_chunks(&ctx->arena), 1u);
	cr_arena_release(&ctx->arena);
	KUNIT_EXPECT_TRUE(test, list_empty(&ctx->arena.chunks));
}

/* Room is zeroed and 8-byte aligned, records get their header. */
static void cr_arena_records(struct kunit *test)
{
	struct cr_ctx *ctx = cr_test_ctx(test, 0, 0);
	struct cr_hdr *h;
	u8 *p;
	int i;

	h = cr_rec_get(ctx, CR_HDR_FDS, 27, 5, 7);
	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_EXPECT_EQ(test, h->type, (u32)CR_HDR_FDS);
	KUNIT_EXPECT_EQ(test, h->len, 32u);
	KUNIT_EXPECT_EQ(test, h->tag, 5u);
	KUNIT_EXPECT_EQ(test, h->ptag, 7u);
	KUNIT_EXPECT_EQ(test, ctx->records, 1ull);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)h, 8));
	p = (u8 *)(h + 1);
	for (i = 0; i < 16; i++)
		KUNIT_EXPECT_EQ(test, p[i], 0);
	cr_hbuf_put(ctx, 27);
	cr_arena_release(&ctx->arena);
}

/* Chunks double up to the maximum; a big request gets a chunk of its own. */
static void cr_arena_growth(struct kunit *test)
{
	struct cr_ctx *ctx = cr_test_ctx(test, 64 << 10, 256 << 10);
	struct cr_chunk *c;
	size_t sizes[8];
	unsigned int n = 0;
	int i;

	for (i = 0; i < 100; i++) {
		KUNIT_ASSERT_NOT_NULL(test, cr_hbuf_get(ctx, 8 << 10));
		cr_hbuf_put(ctx, 8 << 10);
	}
	KUNIT_EXPECT_EQ(test, ctx->arena.total, (size_t)800 << 10);
	list_for_each_entry(c, &ctx->arena.chunks, list)
		if (n < ARRAY_SIZE(sizes))
			sizes[n++] = c->size;
	KUNIT_ASSERT_GE(test, n, 4u);
	KUNIT_EXPECT_EQ(test, sizes[0], (size_t)64 << 10);
	KUNIT_EXPECT_EQ(test, sizes[1], (size_t)128 << 10);
	KUNIT_EXPECT_EQ(test, sizes[2], (size_t)256 << 10);
	KUNIT_EXPECT_EQ(test, sizes[3], (size_t)256 << 10);

	KUNIT_ASSERT_NOT_NULL(test, cr_hbuf_get(ctx, 1 << 20));
	cr_hbuf_put(ctx, 1 << 20);
	c = list_last_entry(&ctx->arena.chunks, struct cr_chunk, list);
	KUNIT_EXPECT_EQ(test, c->size, (size_t)1 << 20);
	KUNIT_EXPECT_EQ(test, c->used, (size_t)1 << 20);
	cr_arena_release(&ctx->arena);
	KUNIT_EXPECT_EQ(test, cr_test_chunks(&ctx->arena), 0u);
}

/* Every header is checked before any field of the record is used. */
static void cr_record_checks(struct kunit *test)
{
	struct cr_hdr h = { .type = CR_HDR_FDS, .len = sizeof(struct cr_hdr_fds) };
	const char *why = NULL;

	KUNIT_EXPECT_EQ(test, cr_check_rec(&h, U64_MAX, &why), 0);
	h.len = 64;	/* longer: a newer writer, accepted */
	KUNIT_EXPECT_EQ(test, cr_check_rec(&h, U64_MAX, &why), 0);
	h.len = sizeof(struct cr_hdr_fds) - 8;
	KUNIT_EXPECT_EQ(test, cr_check_rec(&h, U64_MAX, &why), -EBADMSG);
	KUNIT_EXPECT_STREQ(test, why, "length too short for the record type");
	h.len = 36;
	KUNIT_EXPECT_EQ(test, cr_check_rec(&h, U64_MAX, &why), -EBADMSG);
	KUNIT_EXPECT_STREQ(test, why, "length not a multiple of 8");
	h.len = CR_RECORD_MAX + 8;
	KUNIT_EXPECT_EQ(test, cr_check_rec(&h, U64_MAX, &why), -EBADMSG);
	KUNIT_EXPECT_STREQ(test, why, "length over the record size limit");
	h.len = 64;
	KUNIT_EXPECT_EQ(test, cr_check_rec(&h, 40, &why), -ENODATA);
	h.type = 0;
	KUNIT_EXPECT_EQ(test, cr_check_rec(&h, U64_MAX, &why), -EBADMSG);
	KUNIT_EXPECT_STREQ(test, why, "unknown record type");
	h.type = 5;	/* a hole in the numbering */
	KUNIT_EXPECT_EQ(test, cr_check_rec(&h, U64_MAX, &why), -EBADMSG);
	h.type = CR_HDR_TYPE_MAX;
	KUNIT_EXPECT_EQ(test, cr_check_rec(&h, U64_MAX, &why), -EBADMSG);
	KUNIT_EXPECT_STREQ(test, cr_rec_name(CR_HDR_VMA), "vma");
	KUNIT_EXPECT_STREQ(test, cr_rec_name(999), "unknown");
}

static int cr_test_refs;

static void cr_test_grab(void *ptr)
{
	cr_test_refs++;
}

static void cr_test_drop(void *ptr)
{
	cr_test_refs--;
}

static const struct cr_obj_ops cr_test_ops = {
	.name = "test", .grab = cr_test_grab, .drop = cr_test_drop,
};

static const struct cr_obj_ops cr_test_ops2 = {
	.name = "test2", .grab = cr_test_grab, .drop = cr_test_drop,
};

/* Shared objects get one tag; references are taken once and dropped. */
static void cr_objhash_checkpoint(struct kunit *test)
{
	struct cr_objhash *oh = cr_objhash_alloc();
	int x, y, t1, t2, t3;
	bool new;

	KUNIT_ASSERT_NOT_NULL(test, oh);
	cr_test_refs = 0;
	t1 = cr_obj_lookup_add(oh, &x, &cr_test_ops, &new);
	KUNIT_EXPECT_GT(test, t1, 0);
	KUNIT_EXPECT_TRUE(test, new);
	t2 = cr_obj_lookup_add(oh, &y, &cr_test_ops, &new);
	KUNIT_EXPECT_TRUE(test, new);
	KUNIT_EXPECT_NE(test, t1, t2);
	t3 = cr_obj_lookup_add(oh, &x, &cr_test_ops, &new);
	KUNIT_EXPECT_FALSE(test, new);
	KUNIT_EXPECT_EQ(test, t1, t3);
	KUNIT_EXPECT_EQ(test, cr_test_refs, 2);
	KUNIT_EXPECT_EQ(test, cr_obj_lookup_add(oh, &x, &cr_test_ops2, &new), -EINVAL);
	KUNIT_EXPECT_PTR_EQ(test, cr_obj_fetch(oh, t2, &cr_test_ops), (void *)&y);
	cr_objhash_free(oh);
	KUNIT_EXPECT_EQ(test, cr_test_refs, 0);
}

/* Restart: tags from the image map to rebuilt objects, once each. */
static void cr_objhash_restart(struct kunit *test)
{
	struct cr_objhash *oh = cr_objhash_alloc();
	int x, y;

	KUNIT_ASSERT_NOT_NULL(test, oh);
	cr_test_refs = 0;
	KUNIT_EXPECT_EQ(test, cr_obj_insert(oh, 7, &x, &cr_test_ops), 0);
	KUNIT_EXPECT_EQ(test, cr_obj_insert(oh, 9, &y, &cr_test_ops2), 0);
	KUNIT_EXPECT_EQ(test, cr_obj_insert(oh, 7, &y, &cr_test_ops), -EEXIST);
	KUNIT_EXPECT_EQ(test, cr_obj_insert(oh, 0, &y, &cr_test_ops), -EINVAL);
	KUNIT_EXPECT_PTR_EQ(test, cr_obj_fetch(oh, 7, &cr_test_ops), (void *)&x);
	KUNIT_EXPECT_PTR_EQ(test, cr_obj_fetch(oh, 8, &cr_test_ops), ERR_PTR(-ENOENT));
	KUNIT_EXPECT_PTR_EQ(test, cr_obj_fetch(oh, 9, &cr_test_ops), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_EQ(test, cr_test_refs, 2);
	cr_objhash_free(oh);
	KUNIT_EXPECT_EQ(test, cr_test_refs, 0);
}

/*
 * A container: init (1) with a thread (5); its child 2, a session and
 * group leader, with a zombie child 3; its child 4 sharing init's fd
 * table (CLONE_FILES), in a group whose leader (9) has exited.
 */
static const struct cr_tree_task cr_test_tree[] = {
	{ .pid = 1, .tgid = 1, .pgid = 1, .sid = 1,
	  .mm_tag = 10, .files_tag = 11, .fs_tag = 12, .sighand_tag = 13 },
	{ .pid = 5, .tgid = 1, .pgid = 1, .sid = 1,
	  .mm_tag = 10, .files_tag = 11, .fs_tag = 12, .sighand_tag = 13 },
	{ .pid = 2, .tgid = 2, .ppid = 1, .pgid = 2, .sid = 2, .exit_signal = SIGCHLD,
	  .mm_tag = 20, .files_tag = 21, .fs_tag = 22, .sighand_tag = 23 },
	{ .pid = 4, .tgid = 4, .ppid = 1, .pgid = 9, .sid = 1, .exit_signal = SIGCHLD,
	  .mm_tag = 30, .files_tag = 11, .fs_tag = 32, .sighand_tag = 33 },
	{ .pid = 3, .tgid = 3, .ppid = 2, .pgid = 2, .sid = 2, .exit_signal = SIGCHLD,
	  .flags = CR_TASK_ZOMBIE, .exit_code = 7 << 8 },
};

/* Each case breaks the test tree in one way. */
static const struct {
	int err;
	const char *why;
} cr_tree_cases_want[] = {
	{ 0, "" },
	{ -EBADMSG, "pid 2 twice" },
	{ -EBADMSG, "no live leader 4" },
	{ -EBADMSG, "not sharing its leader's" },
	{ -EBADMSG, "its parent 3 is not a live process" },
	{ -EBADMSG, "zombie 3 has objects" },
	{ -EBADMSG, "process group 2 is in two sessions" },
	{ -EBADMSG, "session leader 2" },
	{ -EBADMSG, "not in 1..pid_max-1" },
	{ -EBADMSG, "root task 1" },
	{ -EBADMSG, "tag 20 names objects of two kinds" },
	{ -EOPNOTSUPP, "pid 4 shares its fs info" },
	{ -EBADMSG, "pid 4 shares signal handlers but not memory" },
};

static void cr_tree_edit(struct cr_tree_task *tt, int c)
{
	switch (c) {
	case 1:
		tt[3].pid = 2;
		tt[3].tgid = 2;
		break;
	case 2:
		tt[1].tgid = 4;		/* a thread before its leader */
		break;
	case 3:
		tt[1].mm_tag = 40;	/* a thread with memory of its own */
		break;
	case 4:
		tt[4].ppid = 3;		/* the child of a zombie: itself */
		break;
	case 5:
		tt[4].mm_tag = 50;
		break;
	case 6:
		tt[3].pgid = 2;		/* group 2 is session 2's */
		break;
	case 7:
		tt[2].pgid = 1;
		break;
	case 8:
		tt[3].pid = PID_MAX_LIMIT;
		tt[3].tgid = PID_MAX_LIMIT;
		break;
	case 9:
		tt[0].ppid = 3;
		break;
	case 10:
		tt[2].files_tag = 20;	/* pid 2's mm tag */
		break;
	case 11:
		tt[3].fs_tag = 22;	/* pid 2's, which is not pid 4's parent */
		break;
	case 12:
		tt[3].sighand_tag = 13;	/* init's, without init's memory */
		break;
	}
}

static void cr_tree_checks(struct kunit *test)
{
	struct cr_tree_task *tt;
	struct cr_ctx *ctx;
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(cr_tree_cases_want); i++) {
		ctx = cr_test_ctx(test, 0, 0);
		tt = kunit_kmalloc(test, sizeof(cr_test_tree), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, tt);
		memcpy(tt, cr_test_tree, sizeof(cr_test_tree));
		cr_tree_edit(tt, i);
		ret = cr_check_tree(ctx, tt, ARRAY_SIZE(cr_test_tree), NULL);
		KUNIT_EXPECT_EQ_MSG(test, ret, cr_tree_cases_want[i].err, "case %d: %s", i,
				    ctx->errmsg);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(ctx->errmsg, cr_tree_cases_want[i].why),
					  "case %d: '%s'", i, ctx->errmsg);
	}
}

static struct kunit_case cr_arena_cases[] = {
	KUNIT_CASE(cr_arena_nesting),
	KUNIT_CASE(cr_arena_records),
	KUNIT_CASE(cr_arena_growth),
	{}
};

static struct kunit_suite cr_arena_suite = {
	.name = "checkpoint_arena",
	.test_cases = cr_arena_cases,
};

static struct kunit_case cr_record_cases[] = {
	KUNIT_CASE(cr_record_checks),
	{}
};

static struct kunit_suite cr_record_suite = {
	.name = "checkpoint_record",
	.test_cases = cr_record_cases,
};

static struct kunit_case cr_tree_cases[] = {
	KUNIT_CASE(cr_tree_checks),
	{}
};

static struct kunit_suite cr_tree_suite = {
	.name = "checkpoint_tree",
	.test_cases = cr_tree_cases,
};

static struct kunit_case cr_objhash_cases[] = {
	KUNIT_CASE(cr_objhash_checkpoint),
	KUNIT_CASE(cr_objhash_restart),
	{}
};

static struct kunit_suite cr_objhash_suite = {
	.name = "checkpoint_objhash",
	.test_cases = cr_objhash_cases,
};

kunit_test_suites(&cr_arena_suite, &cr_record_suite, &cr_objhash_suite, &cr_tree_suite);
