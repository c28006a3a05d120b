/*
 * mem.c - allocation wrappers that abort with the size on failure.
 *
 * See mem.h for the policy. Out-of-memory on a 24 GiB machine is a bug or a
 * missing input bound, and a loud abort with the size is easier to debug than
 * a NULL that travels three layers before it is dereferenced.
 */
#include "base/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t size)
{
	fprintf(stderr, "pane: out of memory allocating %zu bytes\n", size);
	fflush(stderr);
	abort();
}

void *pane_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		oom(size);
	return p;
}

void *pane_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(pane_mul_size(n, size));
	return p;
}

void *pane_xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (!q)
		oom(size);
	return q;
}

char *pane_xstrdup(const char *s)
{
	if (!s)
		return NULL;
	return pane_xstrndup(s, strlen(s));
}

char *pane_xstrndup(const char *s, size_t len)
{
	if (len == SIZE_MAX)
		oom(len);
	char *p = pane_xmalloc(len + 1);
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

size_t pane_mul_size(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	return n * size;
}
