// SPDX-License-Identifier: GPL-2.0-only
/*
 * The arena ("hbuf"): a chain of large chunks, freed all at once, that
 * checkpoint assembles its records in (checkpoint/output.c) and restart
 * reads the image into (checkpoint/input.c).
 */

#include <linux/checkpoint.h>
#include <linux/mm.h>
#include <linux/slab.h>

#define CR_CHUNK_MIN	(64UL << 10)

/**
 * cr_arena_init() - set up an empty arena
 * @a: the arena
 * @first_size: size of the first chunk
 * @max_chunk: chunks double in size up to this
 */
void cr_arena_init(struct cr_arena *a, size_t first_size, size_t max_chunk)
{
	memset(a, 0, sizeof(*a));
	INIT_LIST_HEAD(&a->chunks);
	a->first_size = max(first_size, CR_CHUNK_MIN);
	a->max_chunk = max(max_chunk, a->first_size);
}

/**
 * cr_arena_release() - free every chunk at once
 * @a: the arena
 */
void cr_arena_release(struct cr_arena *a)
{
	struct cr_chunk *c, *tmp;

	list_for_each_entry_safe(c, tmp, &a->chunks, list) {
		list_del(&c->list);
		kvfree(c);
	}
	a->cur = NULL;
	a->flush_chunk = NULL;
}

/**
 * cr_chunk_new() - a new chunk at the end of the arena
 * @a: the arena
 * @need: bytes it must hold at least
 *
 * Chunks double in size from the first one up to the arena's maximum;
 * restart's read-ahead reads the image into them.
 *
 * Return: the chunk, now the arena's current one, or NULL.
 */
struct cr_chunk *cr_chunk_new(struct cr_arena *a, size_t need)
{
	struct cr_chunk *c;
	size_t size;

	if (!a->cur)
		size = a->first_size;
	else
		size = min(a->cur->size * 2, a->max_chunk);
	size = max(size, need);
	if (size > INT_MAX - sizeof(*c))
		return NULL;
	c = kvmalloc(sizeof(*c) + size, CR_GFP);
	if (!c)
		return NULL;
	c->size = size;
	c->used = 0;
	a->allocated += size;
	list_add_tail(&c->list, &a->chunks);
	a->cur = c;
	return c;
}

/**
 * cr_arena_alloc() - carve zeroed room from the arena
 * @a: the arena
 * @len: bytes wanted, rounded up to a multiple of 8
 *
 * Room stays valid until the arena is released.
 *
 * Return: the room, or NULL if memory ran out.
 */
void *cr_arena_alloc(struct cr_arena *a, size_t len)
{
	struct cr_chunk *c = a->cur;
	void *p;

	len = ALIGN(len, 8);
	if (!c || c->size - c->used < len) {
		c = cr_chunk_new(a, len);
		if (!c)
			return NULL;
	}
	p = c->data + c->used;
	c->used += len;
	a->total += len;
	memset(p, 0, len);
	return p;
}
