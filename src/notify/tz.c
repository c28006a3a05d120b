/*
 * tz.c - a small TZif reader (RFC 8536) and POSIX TZ rules (tz.h).
 *
 * The idea: a zone is its list of transitions (UTC second -> UTC offset)
 * plus, for times after the last one, the footer's POSIX TZ string
 * ("CET-1CEST,M3.5.0,M10.5.0/3"). An offset is a binary search in the list,
 * or the rule evaluated for the year. Version 1 files (no footer, 32-bit
 * times) are read too. Leap-second records are skipped: Unix time has none.
 *
 * Invariants: every count in the header is checked against the data before
 * it is read; a loaded zone never changes (threads share it).
 */
#include "notify/tz.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

#define TZ_FILE_MAX (1u << 20)

struct rule {
	char kind; /* 'M', 'J' (1..365, no Feb 29), 'N' (0..365) */
	int m, w, d, n;
	int32_t time; /* seconds after local midnight */
};

struct pane_tz {
	int64_t *at;  /* transition times, ascending */
	int32_t *off; /* UTC offset after each transition */
	size_t n;
	int32_t first; /* offset before the first transition */
	bool has_footer, has_dst;
	int32_t std_off, dst_off;
	struct rule start, end;
};

/* ---- calendar ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t year_of(int64_t t)
{
	int64_t z = (t >= 0 ? t / 86400 : (t - 86399) / 86400) + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	return yoe + era * 400 + (m <= 2);
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* local seconds since the epoch at which the rule fires in year y */
static int64_t rule_local(const struct rule *r, int64_t y)
{
	int64_t day;
	if (r->kind == 'J')
		day = days_from_civil(y, 1, 1) + r->n - 1 + (leap(y) && r->n >= 60);
	else if (r->kind == 'N')
		day = days_from_civil(y, 1, 1) + r->n;
	else {
		static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		int dim = mdays[r->m - 1] + (r->m == 2 && leap(y));
		int64_t first = days_from_civil(y, r->m, 1);
		int wd1 = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
		int d = 1 + (r->d - wd1 + 7) % 7 + (r->w - 1) * 7;
		while (d > dim)
			d -= 7;
		day = first + d - 1;
	}
	return day * 86400 + r->time;
}

/* ---- POSIX TZ strings ---- */

static bool tz_name(const char **p)
{
	const char *s = *p;
	if (*s == '<') {
		const char *e = strchr(s, '>');
		if (!e || e - s < 4)
			return false;
		*p = e + 1;
		return true;
	}
	size_t n = 0;
	while (isalpha((unsigned char)s[n]))
		n++;
	if (n < 3)
		return false;
	*p = s + n;
	return true;
}

/* [+-]hh[:mm[:ss]], hours up to 167 (RFC 8536 extension) */
static bool tz_hms(const char **p, int32_t *out)
{
	const char *s = *p;
	int sign = 1;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)*s))
		return false;
	int32_t v[3] = {0, 0, 0};
	for (int i = 0; i < 3; i++) {
		if (i) {
			if (*s != ':')
				break;
			s++;
		}
		if (!isdigit((unsigned char)*s))
			return false;
		int x = 0, k = 0;
		while (isdigit((unsigned char)*s) && k < 3)
			x = x * 10 + (*s++ - '0'), k++;
		v[i] = x;
	}
	if (v[0] > 167 || v[1] > 59 || v[2] > 59)
		return false;
	*out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
	*p = s;
	return true;
}

static bool tz_num(const char **p, int lo, int hi, int *out)
{
	const char *s = *p;
	if (!isdigit((unsigned char)*s))
		return false;
	int x = 0;
	while (isdigit((unsigned char)*s) && x <= hi)
		x = x * 10 + (*s++ - '0');
	if (x < lo || x > hi)
		return false;
	*out = x;
	*p = s;
	return true;
}

static bool tz_rule(const char **p, struct rule *r)
{
	const char *s = *p;
	r->time = 7200;
	if (*s == 'M') {
		s++;
		r->kind = 'M';
		if (!tz_num(&s, 1, 12, &r->m) || *s++ != '.' || !tz_num(&s, 1, 5, &r->w) || *s++ != '.' ||
		    !tz_num(&s, 0, 6, &r->d))
			return false;
	} else if (*s == 'J') {
		s++;
		r->kind = 'J';
		if (!tz_num(&s, 1, 365, &r->n))
			return false;
	} else {
		r->kind = 'N';
		if (!tz_num(&s, 0, 365, &r->n))
			return false;
	}
	if (*s == '/') {
		s++;
		if (!tz_hms(&s, &r->time))
			return false;
	}
	*p = s;
	return true;
}

static bool parse_footer(struct pane_tz *tz, const char *s)
{
	int32_t off;
	if (!tz_name(&s) || !tz_hms(&s, &off))
		return false;
	tz->std_off = -off; /* POSIX offsets are west of UTC */
	tz->has_footer = true;
	if (!*s)
		return true;
	if (!tz_name(&s))
		return false;
	tz->has_dst = true;
	tz->dst_off = tz->std_off + 3600;
	if (*s && *s != ',') {
		if (!tz_hms(&s, &off))
			return false;
		tz->dst_off = -off;
	}
	if (*s != ',') { /* no rule: POSIX leaves it to the implementation; use the US rule as glibc does */
		if (*s)
			return false;
		tz->start = (struct rule){'M', 3, 2, 0, 0, 7200};
		tz->end = (struct rule){'M', 11, 1, 0, 0, 7200};
		return true;
	}
	s++;
	if (!tz_rule(&s, &tz->start) || *s++ != ',' || !tz_rule(&s, &tz->end))
		return false;
	return *s == 0;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct hdr {
	uint32_t isut, isstd, leap, time, type, chars;
};

static bool read_hdr(const unsigned char *d, size_t len, struct hdr *h, int *version)
{
	if (len < 44 || memcmp(d, "TZif", 4) != 0)
		return false;
	*version = d[4] ? d[4] - '0' : 1;
	h->isut = be32(d + 20), h->isstd = be32(d + 24), h->leap = be32(d + 28);
	h->time = be32(d + 32), h->type = be32(d + 36), h->chars = be32(d + 40);
	if (h->type == 0 || h->type > 256 || h->chars == 0 || h->time > 100000 || h->leap > 10000 ||
	    (h->isut && h->isut != h->type) || (h->isstd && h->isstd != h->type))
		return false;
	return true;
}

static size_t body_len(const struct hdr *h, size_t tsize)
{
	return (size_t)h->time * tsize + h->time + (size_t)h->type * 6 + h->chars + (size_t)h->leap * (tsize + 4) +
	       h->isstd + h->isut;
}

static void tz_fail(struct pane_err *err, const char *what)
{
	pane_err_set(err, PANE_EINVAL, "not a valid TZif file: %s", what);
}

struct pane_tz *pane_tz_parse(const unsigned char *d, size_t len, struct pane_err *err)
{
	struct hdr h;
	int version;
	if (!read_hdr(d, len, &h, &version)) {
		tz_fail(err, "bad header");
		return NULL;
	}
	size_t tsize = 4;
	size_t b1 = body_len(&h, 4);
	if (44 + b1 > len) {
		tz_fail(err, "truncated");
		return NULL;
	}
	const unsigned char *p = d + 44;
	const unsigned char *end = d + len;
	if (version >= 2) {
		p += b1;
		if (!read_hdr(p, (size_t)(end - p), &h, &version)) {
			tz_fail(err, "bad second header");
			return NULL;
		}
		p += 44;
		tsize = 8;
		if (body_len(&h, 8) > (size_t)(end - p)) {
			tz_fail(err, "truncated");
			return NULL;
		}
	}
	struct pane_tz *tz = pane_xcalloc(1, sizeof *tz);
	tz->n = h.time;
	tz->at = pane_xcalloc(h.time ? h.time : 1, sizeof *tz->at);
	tz->off = pane_xcalloc(h.time ? h.time : 1, sizeof *tz->off);
	const unsigned char *times = p, *idx = p + (size_t)h.time * tsize, *types = idx + h.time;
	for (uint32_t i = 0; i < h.type; i++) {
		int32_t off = (int32_t)be32(types + 6 * i);
		if (off < -89999 || off > 93599) { /* RFC 8536 3.2: within a day of UTC */
			pane_tz_free(tz);
			tz_fail(err, "UTC offset out of range");
			return NULL;
		}
	}
	for (uint32_t i = 0; i < h.time; i++) {
		tz->at[i] = tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
		if (idx[i] >= h.type || (i && tz->at[i] <= tz->at[i - 1])) {
			pane_tz_free(tz);
			tz_fail(err, "bad transition");
			return NULL;
		}
		tz->off[i] = (int32_t)be32(types + 6 * idx[i]);
	}
	/* before the first transition: the first standard-time type (RFC 8536 3.2: type 0) */
	tz->first = (int32_t)be32(types);
	p += body_len(&h, tsize);
	if (version >= 2 && p < end && *p == '\n') {
		const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
		if (!nl) {
			pane_tz_free(tz);
			tz_fail(err, "unterminated footer");
			return NULL;
		}
		char *s = pane_xstrndup((const char *)p + 1, (size_t)(nl - p - 1));
		bool ok = !*s || parse_footer(tz, s);
		free(s);
		if (!ok) {
			pane_tz_free(tz);
			tz_fail(err, "bad TZ string in the footer");
			return NULL;
		}
	}
	return tz;
}

void pane_tz_free(struct pane_tz *tz)
{
	if (!tz)
		return;
	free(tz->at);
	free(tz->off);
	free(tz);
}

static int32_t footer_offset(const struct pane_tz *tz, int64_t t)
{
	if (!tz->has_dst)
		return tz->std_off;
	int64_t y = year_of(t + tz->std_off);
	int64_t s = rule_local(&tz->start, y) - tz->std_off; /* starts in local standard time */
	int64_t e = rule_local(&tz->end, y) - tz->dst_off;   /* ends in local daylight time */
	bool dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
	return dst ? tz->dst_off : tz->std_off;
}

int32_t pane_tz_offset(const struct pane_tz *tz, int64_t t)
{
	if (!tz)
		return 0;
	if (tz->n == 0 || t < tz->at[0])
		return tz->n == 0 && tz->has_footer ? footer_offset(tz, t) : tz->first;
	if (t >= tz->at[tz->n - 1] && tz->has_footer)
		return footer_offset(tz, t);
	size_t lo = 0, hi = tz->n; /* last transition <= t */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->off[lo];
}

static bool name_ok(const char *n)
{
	if (!*n || *n == '/' || strlen(n) > 255)
		return false;
	for (const char *p = n; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return false;
	return !strstr(n, "..") && !strstr(n, "//");
}

struct pane_tz *pane_tz_load(const char *name, struct pane_err *err)
{
	if (!strcmp(name, "UTC") || !strcmp(name, ""))
		return pane_xcalloc(1, sizeof(struct pane_tz));
	char path[600];
	if (!strcmp(name, "Local")) {
		snprintf(path, sizeof path, "/etc/localtime");
	} else {
		if (!name_ok(name)) {
			pane_err_set(err, PANE_EINVAL, "unknown time zone %s", name);
			return NULL;
		}
		const char *dir = getenv("ZONEINFO"); /* as Go reads it */
		snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		pane_err_set(err, PANE_EINVAL, "unknown time zone %s (no %s)", name, path);
		return NULL;
	}
	unsigned char *buf = pane_xmalloc(TZ_FILE_MAX);
	size_t n = fread(buf, 1, TZ_FILE_MAX, f);
	fclose(f);
	struct pane_err e = {0};
	struct pane_tz *tz = pane_tz_parse(buf, n, &e);
	free(buf);
	if (!tz)
		pane_err_set(err, PANE_EINVAL, "time zone %s: %s", name, e.msg);
	return tz;
}
