/*
 * str.h - length-carrying string views for parsing.
 *
 * A pane_str borrows bytes it does not own: no NUL terminator is assumed and
 * nothing is freed. Parsers (HTTP headers, query strings, metric lines) slice
 * views instead of copying, and copy only what they keep (pane_str_dup).
 * Number parsing here is strict: the whole view must be the number, with no
 * leading space, no trailing junk and no overflow; this is what atoi() and a
 * forgotten endptr check get wrong.
 */
#ifndef PANE_BASE_STR_H
#define PANE_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pane_str {
	const char *p;
	size_t len;
};

static inline struct pane_str pane_str_make(const char *p, size_t len)
{
	struct pane_str s = {p, len};
	return s;
}

static inline struct pane_str pane_str_c(const char *s)
{
	return pane_str_make(s, s ? strlen(s) : 0);
}

static inline bool pane_str_eq(struct pane_str a, struct pane_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool pane_str_eqc(struct pane_str a, const char *c)
{
	return pane_str_eq(a, pane_str_c(c));
}

bool pane_str_has_prefix(struct pane_str s, const char *prefix);
/* Trim ASCII white space at both ends. */
struct pane_str pane_str_trim(struct pane_str s);
/* Split at the first sep: *head gets the part before, the return value is
 * true and *tail the part after when sep occurs; otherwise head = s,
 * tail empty, false. */
bool pane_str_cut(struct pane_str s, char sep, struct pane_str *head, struct pane_str *tail);
/* Heap copy, NUL-terminated; caller frees with free(). */
char *pane_str_dup(struct pane_str s);

/* Strict parsers: 0 on success, PANE_EINVAL on anything else (empty, junk,
 * overflow). */
int pane_str_to_i64(struct pane_str s, int64_t *out);
int pane_str_to_u64(struct pane_str s, uint64_t *out);
/* Accepts what strtod accepts plus "Inf", "+Inf", "-Inf", "NaN" in any case.
 * Plain decimals of up to 15 digits ([+-]digits[.digits]) are read without
 * strtod, to the same double. */
int pane_str_to_double(struct pane_str s, double *out);

/* 10^k as exact doubles, k <= PANE_P10_MAX. */
#define PANE_P10_MAX 15
extern const double pane_p10[PANE_P10_MAX + 1];

/* Case-insensitive ASCII comparison of two C strings. */
bool pane_streq_nocase(const char *a, const char *b);

#endif
