/*
 * clock.c - clocks, durations and RFC 3339 timestamps (see clock.h).
 *
 * Timestamps are parsed by hand rather than with strptime(): strptime has no
 * portable way to read fractional seconds or a numeric offset, and accepts
 * junk such as single-digit fields.
 */
#include "base/clock.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/str.h"

int64_t pane_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t pane_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pane_sleep_ms(int64_t ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t unit_ms(struct pane_str u)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {
	    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"w", 604800000}, {"y", 31536000000},
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (pane_str_eqc(u, units[i].name))
			return units[i].ms;
	return 0;
}

int pane_duration_parse(struct pane_str s, int64_t default_unit_ms, int64_t *out_ms)
{
	s = pane_str_trim(s);
	if (s.len == 0 || s.len > 64)
		return PANE_EINVAL;
	double total = 0;
	size_t i = 0;
	int parts = 0;
	while (i < s.len) {
		size_t start = i;
		while (i < s.len && ((s.p[i] >= '0' && s.p[i] <= '9') || s.p[i] == '.'))
			i++;
		if (i == start)
			return PANE_EINVAL;
		double num;
		if (pane_str_to_double(pane_str_make(s.p + start, i - start), &num) < 0)
			return PANE_EINVAL;
		size_t ustart = i;
		while (i < s.len && s.p[i] >= 'a' && s.p[i] <= 'z')
			i++;
		int64_t u;
		if (i == ustart) {
			if (parts > 0 || i != s.len || default_unit_ms == 0)
				return PANE_EINVAL;
			u = default_unit_ms;
		} else {
			u = unit_ms(pane_str_make(s.p + ustart, i - ustart));
			if (!u)
				return PANE_EINVAL;
		}
		total += num * (double)u;
		parts++;
	}
	if (!isfinite(total) || total < 0 || total > 9.2e18)
		return PANE_EINVAL;
	*out_ms = (int64_t)llround(total);
	return 0;
}

void pane_duration_format(int64_t ms, char *out, size_t outlen)
{
	static const struct {
		char name;
		int64_t ms;
	} units[] = {
	    {'d', 86400000},
	    {'h', 3600000},
	    {'m', 60000},
	    {'s', 1000},
	};
	size_t off = 0;
	if (outlen == 0)
		return;
	out[0] = '\0';
	if (ms < 0) {
		off += (size_t)snprintf(out, outlen, "-");
		ms = -ms;
	}
	if (ms == 0) {
		snprintf(out + off, outlen - off, "0s");
		return;
	}
	for (size_t i = 0; i < 4 && off < outlen; i++) {
		if (ms >= units[i].ms) {
			int n =
			    snprintf(out + off, outlen - off, "%lld%c", (long long)(ms / units[i].ms), units[i].name);
			off += n > 0 ? (size_t)n : 0;
			ms %= units[i].ms;
		}
	}
	if (ms && off < outlen)
		snprintf(out + off, outlen - off, "%lldms", (long long)ms);
}

static int digits(const char *p, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's
 * civil-from-days inverse), so no time zone or libc state is involved. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int pane_time_parse(struct pane_str s, int64_t *out_ms)
{
	s = pane_str_trim(s);
	const char *p = s.p;
	size_t n = s.len;
	if (n >= 19 && n <= 40 && p[4] == '-' && p[7] == '-' && (p[10] == 'T' || p[10] == 't' || p[10] == ' ') &&
	    p[13] == ':' && p[16] == ':') {
		int Y, M, D, h, mi, sec;
		if (digits(p, 4, &Y) || digits(p + 5, 2, &M) || digits(p + 8, 2, &D) || digits(p + 11, 2, &h) ||
		    digits(p + 14, 2, &mi) || digits(p + 17, 2, &sec))
			return PANE_EINVAL;
		if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
			return PANE_EINVAL;
		size_t i = 19;
		int64_t frac_ms = 0;
		if (i < n && p[i] == '.') {
			i++;
			size_t fstart = i;
			int64_t scale = 100;
			while (i < n && p[i] >= '0' && p[i] <= '9') {
				frac_ms += (p[i] - '0') * scale;
				scale /= 10;
				i++;
			}
			if (i == fstart)
				return PANE_EINVAL;
		}
		int64_t off_s = 0;
		if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
			i++;
		} else if (i + 6 == n && (p[i] == '+' || p[i] == '-') && p[i + 3] == ':') {
			int oh, om;
			if (digits(p + i + 1, 2, &oh) || digits(p + i + 4, 2, &om) || oh > 23 || om > 59)
				return PANE_EINVAL;
			off_s = (oh * 3600 + om * 60) * (p[i] == '-' ? -1 : 1);
			i += 6;
		} else {
			return PANE_EINVAL;
		}
		if (i != n)
			return PANE_EINVAL;
		int64_t days = days_from_civil(Y, M, D);
		*out_ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - off_s) * 1000 + frac_ms;
		return 0;
	}
	double v;
	if (n == 0 || pane_str_to_double(s, &v) < 0 || !isfinite(v) || fabs(v) > 9.2e15)
		return PANE_EINVAL;
	*out_ms = (int64_t)llround(v * 1000.0);
	return 0;
}

void pane_time_format(int64_t ms, char *out, size_t outlen)
{
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int msec = (int)(ms - (int64_t)secs * 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, msec);
}

/* ---------- Prometheus durations ---------- */

/* Prometheus' units, largest first (the order a duration must use) */
static const struct {
	const char *u;
	int64_t ms;
} prom_units[] = {
    {"y", 365LL * 86400000},
    {"w", 7LL * 86400000},
    {"d", 86400000},
    {"h", 3600000},
    {"m", 60000},
    {"s", 1000},
    {"ms", 1},
};
#define N_PROM_UNITS (sizeof prom_units / sizeof prom_units[0])

int pane_prom_duration_parse(const char *s, size_t len, int64_t *ms)
{
	size_t i = 0;
	int last = -1;
	int64_t total = 0;
	if (len == 0)
		return -1;
	while (i < len) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		int64_t v = 0;
		while (i < len && isdigit((unsigned char)s[i])) {
			if (v > (INT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (s[i] - '0');
			i++;
		}
		size_t us = i;
		while (i < len && isalpha((unsigned char)s[i]))
			i++;
		size_t ul = i - us;
		int u = -1;
		for (size_t k = 0; k < N_PROM_UNITS; k++)
			if (strlen(prom_units[k].u) == ul && memcmp(prom_units[k].u, s + us, ul) == 0)
				u = (int)k;
		if (u < 0 || u <= last)
			return -1;
		last = u;
		if (v > INT64_MAX / prom_units[u].ms || total > INT64_MAX - v * prom_units[u].ms)
			return -1;
		total += v * prom_units[u].ms;
	}
	/* Prometheus durations are int64 nanoseconds: at most ~292 years */
	if (total > PANE_PROM_DURATION_MAX_MS)
		return -1;
	*ms = total;
	return 0;
}

void pane_prom_duration_format(int64_t ms, char *out, size_t len)
{
	size_t o = 0;
	out[0] = 0;
	if (ms == 0) {
		snprintf(out, len, "0s");
		return;
	}
	if (ms < 0) {
		o += (size_t)snprintf(out, len, "-");
		ms = -ms;
	}
	for (size_t k = 0; k < N_PROM_UNITS && o < len; k++) {
		if (ms >= prom_units[k].ms) {
			o += (size_t)snprintf(out + o, len - o, "%lld%s", (long long)(ms / prom_units[k].ms),
			                      prom_units[k].u);
			ms %= prom_units[k].ms;
		}
	}
}

/* ---------- RFC 3339 with microseconds ---------- */

int pane_time_parse_us(const char *s, int64_t *out_us)
{
	if (!s || !*s)
		return PANE_EINVAL;
	/* split "YYYY-MM-DDThh:mm:ss" [".ffffff"] "zone" so microseconds survive */
	const char *dot = strchr(s, '.');
	size_t len = strlen(s);
	if (len > 64)
		return PANE_EINVAL;
	if (!dot || strchr(s, 'T') == NULL) {
		int64_t ms;
		if (pane_time_parse(pane_str_c(s), &ms) < 0)
			return PANE_EINVAL;
		*out_us = ms * 1000;
		if (!strchr(s, 'T') && dot) { /* epoch seconds with a fraction: keep 6 digits */
			int64_t us = 0;
			int d = 0;
			for (const char *p = dot + 1; *p >= '0' && *p <= '9'; p++, d++)
				if (d < 6)
					us = us * 10 + (*p - '0');
			for (; d < 6; d++)
				us *= 10;
			*out_us = (ms / 1000) * 1000000 + us;
		}
		return 0;
	}
	char whole[72];
	size_t head = (size_t)(dot - s);
	const char *p = dot + 1;
	int64_t frac = 0;
	int d = 0;
	for (; *p >= '0' && *p <= '9'; p++, d++)
		if (d < 6)
			frac = frac * 10 + (*p - '0');
	if (d == 0)
		return PANE_EINVAL;
	for (int k = d; k < 6; k++)
		frac *= 10;
	snprintf(whole, sizeof whole, "%.*s%s", (int)head, s, p);
	int64_t ms;
	if (pane_time_parse(pane_str_c(whole), &ms) < 0)
		return PANE_EINVAL;
	*out_us = ms * 1000 + frac;
	return 0;
}
