/*
 * vec.c - growable array (see vec.h). Doubling growth, memcpy'd elements.
 */
#include "base/vec.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void pane_vec_init(struct pane_vec *v, size_t elem_size)
{
	v->data = NULL;
	v->len = 0;
	v->cap = 0;
	v->elem_size = elem_size;
}

void pane_vec_release(struct pane_vec *v)
{
	free(v->data);
	pane_vec_init(v, v->elem_size);
}

void pane_vec_reserve(struct pane_vec *v, size_t n)
{
	if (n <= v->cap)
		return;
	size_t cap = v->cap ? v->cap : 8;
	while (cap < n)
		cap *= 2;
	v->data = pane_xrealloc(v->data, pane_mul_size(cap, v->elem_size));
	v->cap = cap;
}

void *pane_vec_push(struct pane_vec *v, const void *elem)
{
	pane_vec_reserve(v, v->len + 1);
	void *slot = (char *)v->data + v->len * v->elem_size;
	memcpy(slot, elem, v->elem_size);
	v->len++;
	return slot;
}

void *pane_vec_push_zero(struct pane_vec *v)
{
	pane_vec_reserve(v, v->len + 1);
	void *slot = (char *)v->data + v->len * v->elem_size;
	memset(slot, 0, v->elem_size);
	v->len++;
	return slot;
}

void *pane_vec_at(const struct pane_vec *v, size_t i)
{
	assert(i < v->len);
	return (char *)v->data + i * v->elem_size;
}

void pane_vec_remove(struct pane_vec *v, size_t i)
{
	assert(i < v->len);
	char *base = v->data;
	memmove(base + i * v->elem_size, base + (i + 1) * v->elem_size, (v->len - i - 1) * v->elem_size);
	v->len--;
}

void pane_vec_clear(struct pane_vec *v)
{
	v->len = 0;
}
