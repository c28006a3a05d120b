/*
 * statsd_parse.c - one StatsD / DogStatsD line into a borrowed view (the
 * first layer of statsd.h).
 *
 * Idea: a line is split in place - name, ':' values, '|' type, then the
 * optional '|@rate', '|#tags', '|c:container' and '|T<ts>' fields - and
 * every part is a {ptr, len} view into the caller's datagram, so parsing
 * never allocates and the aggregator decides what to copy (only a new
 * series' name and tags).
 *
 * Invariants:
 *   (1) Nothing is read outside s[0..len); a line longer than
 *       PANE_STATSD_LINE_MAX or with more than PANE_STATSD_MAX_VALUES values
 *       is malformed.
 *   (2) Values are finite numbers (no NaN/Inf: StatsD has no use for them);
 *       a sample rate is in (0, 1].
 *   (3) DogStatsD events (_e{) and service checks (_sc|) are recognised and
 *       answered PANE_EAGAIN (skipped, not malformed).
 * Threads: none; pure function of its input.
 */
#include "receivers/statsd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct pane_err *err, const char *what, const char *s, size_t len)
{
	return pane_err_set(err, PANE_EINVAL, "malformed statsd line: %s: %.*s", what, (int)(len > 80 ? 80 : len), s);
}

/* Integers take a fast path; anything else goes through strtod. */
static int parse_number(struct pane_str v, double *out)
{
	if (v.len == 0 || v.len > 40)
		return PANE_EINVAL;
	size_t i = 0;
	bool neg = false;
	if (v.p[0] == '+' || v.p[0] == '-') {
		neg = v.p[0] == '-';
		i = 1;
	}
	if (i < v.len && v.len - i <= 15) {
		uint64_t n = 0;
		size_t j = i;
		for (; j < v.len && v.p[j] >= '0' && v.p[j] <= '9'; j++)
			n = n * 10 + (uint64_t)(v.p[j] - '0');
		if (j == v.len) {
			*out = neg ? -(double)n : (double)n;
			return 0;
		}
	}
	double d;
	if (pane_str_to_double(v, &d) < 0 || isnan(d) || isinf(d))
		return PANE_EINVAL;
	*out = d;
	return 0;
}

int pane_statsd_parse_line(const char *s, size_t len, struct pane_statsd_line *out, struct pane_err *err)
{
	if (len && s[len - 1] == '\r')
		len--;
	if (len == 0)
		return fail(err, "empty", s, len);
	if (len > PANE_STATSD_LINE_MAX)
		return fail(err, "line too long", s, len);
	if ((len >= 3 && memcmp(s, "_e{", 3) == 0) || (len >= 4 && memcmp(s, "_sc|", 4) == 0))
		return PANE_EAGAIN;
	const char *colon = memchr(s, ':', len);
	const char *bar = memchr(s, '|', len);
	if (!colon || !bar || colon > bar)
		return fail(err, "expected name:value|type", s, len);
	out->name = pane_str_make(s, (size_t)(colon - s));
	if (out->name.len == 0 || out->name.len > PANE_METRIC_NAME_MAX)
		return fail(err, "bad metric name length", s, len);
	for (size_t i = 0; i < out->name.len; i++) {
		unsigned char c = (unsigned char)out->name.p[i];
		if (c < 0x21 || c >= 0x7f || c == '#' || c == '@')
			return fail(err, "bad character in metric name", s, len);
	}
	struct pane_str vals = pane_str_make(colon + 1, (size_t)(bar - colon - 1));
	/* fields after the value: type, then |@rate, |#tags, |c:container, |T<ts> */
	const char *p = bar + 1, *end = s + len;
	const char *f_end = memchr(p, '|', (size_t)(end - p));
	if (!f_end)
		f_end = end;
	struct pane_str type = pane_str_make(p, (size_t)(f_end - p));
	if (pane_str_eqc(type, "c"))
		out->type = PANE_STATSD_COUNTER;
	else if (pane_str_eqc(type, "g"))
		out->type = PANE_STATSD_GAUGE;
	else if (pane_str_eqc(type, "ms"))
		out->type = PANE_STATSD_TIMER;
	else if (pane_str_eqc(type, "h"))
		out->type = PANE_STATSD_HISTOGRAM;
	else if (pane_str_eqc(type, "d"))
		out->type = PANE_STATSD_DISTRIBUTION;
	else if (pane_str_eqc(type, "s"))
		out->type = PANE_STATSD_SET;
	else
		return fail(err, "unknown metric type", s, len);
	out->sample_rate = 1.0;
	out->tags = pane_str_make(end, 0);
	out->gauge_delta = false;
	out->n_values = 0;
	out->set_value = vals;
	p = f_end;
	while (p < end) {
		p++; /* the '|' */
		f_end = memchr(p, '|', (size_t)(end - p));
		if (!f_end)
			f_end = end;
		struct pane_str f = pane_str_make(p, (size_t)(f_end - p));
		if (f.len && f.p[0] == '@') {
			double r;
			if (parse_number(pane_str_make(f.p + 1, f.len - 1), &r) < 0 || !(r > 0.0 && r <= 1.0))
				return fail(err, "sample rate must be in (0, 1]", s, len);
			out->sample_rate = r;
		} else if (f.len && f.p[0] == '#') {
			out->tags = pane_str_make(f.p + 1, f.len - 1);
		} else if (f.len == 0) {
			return fail(err, "empty field", s, len);
		} /* container id (c:), timestamp (T...) and future fields: ignored */
		p = f_end;
	}
	if (out->type == PANE_STATSD_SET) {
		if (vals.len == 0)
			return fail(err, "empty set value", s, len);
		return 0;
	}
	/* one value, or several separated by ':' (DogStatsD v1.1) */
	const char *v = vals.p, *vend = vals.p + vals.len;
	for (;;) {
		const char *c = memchr(v, ':', (size_t)(vend - v));
		struct pane_str one = pane_str_make(v, (size_t)((c ? c : vend) - v));
		if (out->n_values == PANE_STATSD_MAX_VALUES)
			return fail(err, "too many packed values", s, len);
		if (parse_number(one, &out->values[out->n_values]) < 0)
			return fail(err, "value is not a finite number", s, len);
		if (out->type == PANE_STATSD_GAUGE && one.len && (one.p[0] == '+' || one.p[0] == '-'))
			out->gauge_delta = true;
		out->n_values++;
		if (!c)
			break;
		v = c + 1;
	}
	if (out->type == PANE_STATSD_GAUGE && out->n_values > 1)
		return fail(err, "a gauge takes one value", s, len);
	return 0;
}
