/*
 * regex.c - anchored PCRE2 with bounded work (regex.h has the invariants).
 *
 * Anchoring by wrapping ("^(?:RE)$") rather than PCRE2_ANCHORED|ENDANCHORED
 * keeps the offsets in error messages relative to what the user wrote (the
 * wrapper's 4 bytes are subtracted) and reads the same as Prometheus'
 * "^(?:" + v + ")$". The match context is made once per process
 * (pthread_once) and never changed after, so sharing it is safe.
 */
#include "base/regex.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static pcre2_match_context *g_mctx;

/* The allocation policy of base/mem.h for PCRE2's own allocations. */
static void oom(size_t size)
{
	fprintf(stderr, "pane: out of memory allocating %zu bytes\n", size);
	abort();
}
static pthread_once_t g_mctx_once = PTHREAD_ONCE_INIT;

static void mctx_init(void)
{
	g_mctx = pcre2_match_context_create(NULL);
	if (!g_mctx)
		oom(sizeof(void *) * 8);
	pcre2_set_match_limit(g_mctx, PANE_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(g_mctx, PANE_REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(g_mctx, PANE_REGEX_HEAP_LIMIT_KIB);
}

pcre2_code *pane_regex_compile(const char *re, int flags, struct pane_err *err)
{
	size_t n = strlen(re);
	bool wrap = !(flags & PANE_REGEX_UNANCHORED);
	size_t pre = wrap ? 4 : 0;
	char *pat = pane_xmalloc(n + 8);
	memcpy(pat, "^(?:", pre);
	memcpy(pat + pre, re, n);
	memcpy(pat + pre + n, ")$", wrap ? 3 : 1);
	uint32_t opts = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY;
	if (flags & PANE_REGEX_DOTALL)
		opts |= PCRE2_DOTALL;
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat, wrap ? n + 6 : n, opts, &ec, &eo, NULL);
	free(pat);
	if (!c) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(ec, msg, sizeof msg);
		pane_err_set(err, PANE_EINVAL, "error parsing regexp: %s at offset %zu of %s", (char *)msg,
		             eo >= pre ? (size_t)eo - pre : 0, re);
		return NULL;
	}
	pcre2_jit_compile(c, PCRE2_JIT_COMPLETE); /* falls back to the interpreter where JIT is unavailable */
	pthread_once(&g_mctx_once, mctx_init);
	return c;
}

static int result(int rc)
{
	if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL ||
	    (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21))
		return 0;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
	    rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_NOMEMORY)
		return PANE_ETOOBIG;
	return PANE_EINVAL;
}

int pane_regex_search(const pcre2_code *re, const char *s, size_t len, size_t start, uint32_t options,
                      pcre2_match_data *md)
{
	pthread_once(&g_mctx_once, mctx_init);
	if (start > len)
		return 0;
	int rc = pcre2_match(re, (PCRE2_SPTR)s, len, start, options, md, g_mctx);
	if (rc > 0)
		return rc;
	if (rc == 0) /* ovector too small: the match still counts */
		return (int)pcre2_get_ovector_count(md);
	return result(rc);
}

int pane_regex_match(const pcre2_code *re, const char *s, size_t len, pcre2_match_data *md)
{
	pthread_once(&g_mctx_once, mctx_init);
	pcre2_match_data *own = NULL;
	if (!md)
		md = own = pcre2_match_data_create_from_pattern(re, NULL);
	if (!md)
		oom(64);
	int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, g_mctx);
	if (own)
		pcre2_match_data_free(own);
	if (rc >= 0)
		return 1;
	return result(rc);
}
