/*
 * str.c - string views and strict number parsing (see str.h).
 */
#include "base/str.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/mem.h"

bool pane_str_has_prefix(struct pane_str s, const char *prefix)
{
	size_t n = strlen(prefix);
	return s.len >= n && memcmp(s.p, prefix, n) == 0;
}

struct pane_str pane_str_trim(struct pane_str s)
{
	while (s.len && isspace((unsigned char)s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && isspace((unsigned char)s.p[s.len - 1]))
		s.len--;
	return s;
}

bool pane_str_cut(struct pane_str s, char sep, struct pane_str *head, struct pane_str *tail)
{
	const char *q = s.len ? memchr(s.p, sep, s.len) : NULL;
	if (!q) {
		*head = s;
		*tail = pane_str_make(s.p + s.len, 0);
		return false;
	}
	*head = pane_str_make(s.p, (size_t)(q - s.p));
	*tail = pane_str_make(q + 1, s.len - (size_t)(q - s.p) - 1);
	return true;
}

char *pane_str_dup(struct pane_str s)
{
	return pane_xstrndup(s.p, s.len);
}

int pane_str_to_u64(struct pane_str s, uint64_t *out)
{
	if (s.len == 0 || s.len > 20)
		return PANE_EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned)(s.p[i] - '0');
		if (d > 9)
			return PANE_EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return PANE_EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int pane_str_to_i64(struct pane_str s, int64_t *out)
{
	bool neg = false;
	if (s.len && (s.p[0] == '-' || s.p[0] == '+')) {
		neg = s.p[0] == '-';
		s.p++;
		s.len--;
	}
	uint64_t u;
	if (pane_str_to_u64(s, &u) < 0)
		return PANE_EINVAL;
	if (neg) {
		if (u > (uint64_t)INT64_MAX + 1)
			return PANE_EINVAL;
		*out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	} else {
		if (u > INT64_MAX)
			return PANE_EINVAL;
		*out = (int64_t)u;
	}
	return 0;
}

int pane_str_to_double(struct pane_str s, double *out)
{
	char tmp[64];
	if (s.len == 0 || s.len >= sizeof tmp)
		return PANE_EINVAL;
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = '\0';
	const char *t = tmp;
	double sign = 1.0;
	if (*t == '+' || *t == '-') {
		sign = *t == '-' ? -1.0 : 1.0;
		t++;
	}
	if (pane_streq_nocase(t, "inf") || pane_streq_nocase(t, "infinity")) {
		*out = sign * INFINITY;
		return 0;
	}
	if (pane_streq_nocase(t, "nan")) {
		*out = NAN;
		return 0;
	}
	if (isspace((unsigned char)tmp[0]))
		return PANE_EINVAL;
	char *end;
	errno = 0;
	double v = strtod(tmp, &end);
	if (end == tmp || *end != '\0')
		return PANE_EINVAL;
	if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))
		return PANE_EINVAL;
	*out = v;
	return 0;
}

bool pane_streq_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}
