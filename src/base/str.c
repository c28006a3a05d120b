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

const double pane_p10[PANE_P10_MAX + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                           1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

/* [+-]digits[.digits] with 15 digits at most: n and 10^k are exact
 * doubles, so n / 10^k is correctly rounded, the double strtod gives
 * (Clinger's fast path). False for anything else. */
static bool plain_decimal(struct pane_str s, double *out)
{
	size_t i = 0, len = s.len;
	bool neg = len && s.p[0] == '-';
	if (len && (s.p[0] == '-' || s.p[0] == '+'))
		i = 1;
	if (i >= len || len - i > PANE_P10_MAX + 1)
		return false;
	uint64_t n = 0;
	size_t dot = 0;
	for (size_t j = i; j < len; j++) {
		unsigned d = (unsigned)(s.p[j] - '0');
		if (d <= 9)
			n = n * 10 + d;
		else if (s.p[j] == '.' && !dot && j > i)
			dot = j;
		else
			return false;
	}
	if (dot + 1 == len || len - i - (dot != 0) > PANE_P10_MAX)
		return false;
	double v = dot ? (double)n / pane_p10[len - 1 - dot] : (double)n;
	*out = neg ? -v : v;
	return true;
}

int pane_str_to_double(struct pane_str s, double *out)
{
	if (plain_decimal(s, out))
		return 0;
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
