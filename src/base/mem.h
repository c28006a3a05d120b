/*
 * mem.h - pane's one allocation policy.
 *
 * Internal allocations never return NULL: on failure they log the size that
 * could not be had and abort(). Code therefore never writes a dead "if (!p)"
 * branch after pane_xmalloc(). Sizes that come from *input* (request bodies,
 * payloads, label sets) are bounded by the caller before allocating and fail
 * with a clear error instead; see pane_buf's maximum size.
 *
 * pane_xmalloc(0) returns a unique non-NULL pointer (we ask for 1 byte), so a
 * NULL result is never ambiguous. Everything allocated here is freed with
 * free(); there is no separate free function.
 */
#ifndef PANE_BASE_MEM_H
#define PANE_BASE_MEM_H

#include <stddef.h>

/* Each aborts the process with a message naming the size on failure. */
void *pane_xmalloc(size_t size) __attribute__((malloc, returns_nonnull));
void *pane_xcalloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
void *pane_xrealloc(void *p, size_t size) __attribute__((returns_nonnull));
/* Copies of a NUL-terminated string / of len bytes (result NUL-terminated).
 * pane_xstrdup(NULL) returns NULL. Caller frees with free(). */
char *pane_xstrdup(const char *s) __attribute__((malloc));
char *pane_xstrndup(const char *s, size_t len) __attribute__((malloc, returns_nonnull));

/* n * size, aborting on overflow (for array growth). */
size_t pane_mul_size(size_t n, size_t size);

#endif
