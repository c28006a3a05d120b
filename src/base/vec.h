/*
 * vec.h - a growable array of fixed-size elements.
 *
 * Type-erased on purpose: one implementation, elements copied in by value
 * with memcpy. Use the typed accessor pattern
 *     struct foo *f = pane_vec_at(&v, i);
 * The vector owns its array, not whatever the elements point to.
 * pane_vec_push() may move the array: do not keep element pointers across it.
 */
#ifndef PANE_BASE_VEC_H
#define PANE_BASE_VEC_H

#include <stddef.h>

struct pane_vec {
	void *data;
	size_t len;
	size_t cap;
	size_t elem_size;
};

/* Empty vector of elements of elem_size bytes. Cannot fail. */
void pane_vec_init(struct pane_vec *v, size_t elem_size);
/* Frees the array (not what elements point to); v is empty afterwards. */
void pane_vec_release(struct pane_vec *v);
/* Copies *elem to the end; returns a pointer to the stored copy. */
void *pane_vec_push(struct pane_vec *v, const void *elem);
/* Appends a zeroed element and returns it. */
void *pane_vec_push_zero(struct pane_vec *v);
/* Pointer to element i (i < len, asserted). */
void *pane_vec_at(const struct pane_vec *v, size_t i);
/* Ensures capacity for n elements in all. */
void pane_vec_reserve(struct pane_vec *v, size_t n);
/* Removes element i, moving the later ones down. */
void pane_vec_remove(struct pane_vec *v, size_t i);
void pane_vec_clear(struct pane_vec *v);

#endif
