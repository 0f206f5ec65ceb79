// SPDX-License-Identifier: GPL-2.0-only
/*
 * objhash: kernel object <-> tag.
 *
 * An object used by several users (a file open in two fds and mapped, an
 * address space of several threads) is saved once: the first user writes
 * its record and gets a new tag, the others refer to the tag.  Restart
 * rebuilds the object from its record and hands the same object to every
 * user of the tag.
 *
 * The objhash holds a reference on every object it knows, so that a
 * pointer stays unique while the checkpoint runs.  Lookup by pointer uses
 * a hashtable, lookup by tag an xarray (tags are small and dense).
 */

#include <linux/checkpoint.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/xarray.h>

struct cr_obj {
	struct hlist_node node;
	void *ptr;
	u32 tag;
	unsigned int users;	/* checkpoint: cr_obj_lookup_add() calls */
	const struct cr_obj_ops *ops;
};

struct cr_objhash {
	DECLARE_HASHTABLE(by_ptr, 8);
	struct xarray by_tag;
	u32 next_tag;
};

static void cr_obj_file_grab(void *ptr)
{
	get_file(ptr);
}

static void cr_obj_file_drop(void *ptr)
{
	fput(ptr);
}

const struct cr_obj_ops cr_obj_file_ops = {
	.name = "file",
	.grab = cr_obj_file_grab,
	.drop = cr_obj_file_drop,
};

static void cr_obj_mm_grab(void *ptr)
{
	mmgrab(ptr);
}

static void cr_obj_mm_drop(void *ptr)
{
	mmdrop(ptr);
}

const struct cr_obj_ops cr_obj_mm_ops = {
	.name = "mm",
	.grab = cr_obj_mm_grab,
	.drop = cr_obj_mm_drop,
};

/**
 * cr_obj_nop() - grab or drop of an object the objhash does not pin
 * @ptr: the object
 */
void cr_obj_nop(void *ptr)
{
}

/* A standard fd of the root task (the key is its slot in the ctx). */
const struct cr_obj_ops cr_obj_stdio_ops = {
	.name = "standard fd",
	.grab = cr_obj_nop,
	.drop = cr_obj_nop,
};

/**
 * cr_objhash_alloc() - an empty objhash
 *
 * Return: the objhash, or NULL if memory ran out.
 */
struct cr_objhash *cr_objhash_alloc(void)
{
	struct cr_objhash *oh;

	oh = kzalloc(sizeof(*oh), GFP_KERNEL_ACCOUNT);
	if (!oh)
		return NULL;
	hash_init(oh->by_ptr);
	xa_init(&oh->by_tag);
	oh->next_tag = 1;
	return oh;
}

/**
 * cr_objhash_free() - drop every object and free the objhash
 * @oh: the objhash, or NULL
 */
void cr_objhash_free(struct cr_objhash *oh)
{
	struct cr_obj *obj;
	unsigned long tag;

	if (!oh)
		return;
	xa_for_each(&oh->by_tag, tag, obj) {
		obj->ops->drop(obj->ptr);
		kfree(obj);
	}
	xa_destroy(&oh->by_tag);
	kfree(oh);
}

static struct cr_obj *cr_obj_find(struct cr_objhash *oh, void *ptr)
{
	struct cr_obj *obj;

	hash_for_each_possible(oh->by_ptr, obj, node, (unsigned long)ptr)
		if (obj->ptr == ptr)
			return obj;
	return NULL;
}

static int cr_obj_add(struct cr_objhash *oh, u32 tag, void *ptr,
		      const struct cr_obj_ops *ops)
{
	struct cr_obj *obj;
	int ret;

	obj = kzalloc(sizeof(*obj), GFP_KERNEL_ACCOUNT);
	if (!obj)
		return -ENOMEM;
	obj->ptr = ptr;
	obj->tag = tag;
	obj->ops = ops;
	ret = xa_insert(&oh->by_tag, tag, obj, GFP_KERNEL_ACCOUNT);
	if (ret) {
		kfree(obj);
		return ret == -EBUSY ? -EEXIST : ret;
	}
	ops->grab(ptr);
	hash_add(oh->by_ptr, &obj->node, (unsigned long)ptr);
	return 0;
}

/**
 * cr_obj_lookup_add() - the tag of an object, new if first seen
 * @oh: the objhash
 * @ptr: the object
 * @ops: its kind; the objhash takes a reference with @ops->grab
 * @new: set to true if the object was not known (the caller must then
 *	write its record)
 *
 * Return: the tag (> 0), -EINVAL if @ptr is known as another kind, or
 * -ENOMEM.
 */
int cr_obj_lookup_add(struct cr_objhash *oh, void *ptr,
		      const struct cr_obj_ops *ops, bool *new)
{
	struct cr_obj *obj = cr_obj_find(oh, ptr);
	u32 tag;
	int ret;

	*new = false;
	if (obj) {
		if (obj->ops != ops)
			return -EINVAL;
		obj->users++;
		return obj->tag;
	}
	if (oh->next_tag > INT_MAX)
		return -ENOMEM;
	tag = oh->next_tag;
	ret = cr_obj_add(oh, tag, ptr, ops);
	if (ret)
		return ret;
	oh->next_tag++;
	cr_obj_find(oh, ptr)->users = 1;
	*new = true;
	return tag;
}

/**
 * cr_obj_tag() - the tag of a known object, without counting a user
 * @oh: the objhash
 * @ptr: the object
 *
 * Return: its tag, or 0 if @ptr is not known.
 */
u32 cr_obj_tag(struct cr_objhash *oh, void *ptr)
{
	struct cr_obj *obj = cr_obj_find(oh, ptr);

	return obj ? obj->tag : 0;
}

/**
 * cr_objhash_for_each() - call @fn for every object, in tag order
 * @oh: the objhash
 * @fn: called with @arg, the object, its kind and the number of
 *	cr_obj_lookup_add() calls that found it; a non-zero return stops
 * @arg: passed on
 *
 * Return: the first non-zero return of @fn, or 0.
 */
int cr_objhash_for_each(struct cr_objhash *oh,
			int (*fn)(void *arg, void *ptr, const struct cr_obj_ops *ops,
				  unsigned int users),
			void *arg)
{
	struct cr_obj *obj;
	unsigned long tag;
	int ret;

	xa_for_each(&oh->by_tag, tag, obj) {
		ret = fn(arg, obj->ptr, obj->ops, obj->users);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * cr_obj_insert() - restart: make @ptr the object of @tag
 * @oh: the objhash
 * @tag: tag from the image, > 0
 * @ptr: the object rebuilt; the objhash takes its own reference
 * @ops: its kind
 *
 * Return: 0, -EINVAL for tag 0, -EEXIST if the image defined @tag
 * already, or -ENOMEM.
 */
int cr_obj_insert(struct cr_objhash *oh, u32 tag, void *ptr,
		  const struct cr_obj_ops *ops)
{
	if (!tag)
		return -EINVAL;
	return cr_obj_add(oh, tag, ptr, ops);
}

/**
 * cr_obj_fetch() - restart: the object of a tag
 * @oh: the objhash
 * @tag: tag from the image
 * @ops: the kind the user of the tag expects
 *
 * Return: the object (the objhash keeps the reference), ERR_PTR(-ENOENT)
 * if no record defined @tag, ERR_PTR(-EINVAL) if it is another kind.
 */
void *cr_obj_fetch(struct cr_objhash *oh, u32 tag, const struct cr_obj_ops *ops)
{
	struct cr_obj *obj = xa_load(&oh->by_tag, tag);

	if (!obj)
		return ERR_PTR(-ENOENT);
	if (obj->ops != ops)
		return ERR_PTR(-EINVAL);
	return obj->ptr;
}
