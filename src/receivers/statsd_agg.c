/*
 * statsd_agg.c - StatsD / DogStatsD lines aggregated into Prometheus-style
 * series (the middle layer of statsd.h; the parser is statsd_parse.c, the
 * sockets statsd_listen.c).
 *
 * Idea: StatsD clients fire and forget one datagram per metric (or a few
 * lines per datagram); the server's job is to fold millions of them into a
 * handful of series per interval. So the hot path is parse -> one hash
 * lookup on the raw "name, type, tags" bytes -> update a few numbers, with
 * no allocation and no label sorting. Sorting tags into a label set happens
 * once, when a series is first seen; permutations of the same tags map to
 * the same series through a second, canonical map.
 *
 * Invariants:
 *   (1) Memory is bounded: at most max_series series (new ones past that are
 *       counted and dropped), at most `reservoir` values per timer and
 *       `max_set_size` members per set per interval, at most 2 * max_series
 *       raw-key aliases (past that, lines take the slower canonical path).
 *   (2) A malformed line is counted and skipped; it never affects the other
 *       lines of its datagram.
 *   (3) Counters and summary count/sum are cumulative (Prometheus semantics);
 *       quantiles, min, max and sets describe the last interval only.
 *   (4) A series not updated for series_ttl is removed after one last stale
 *       marker, so dashboards see it end instead of flat-lining.
 *   (5) A series' metadata (its type as Prometheus would name it) goes to
 *       the pipeline at the first flush that accepts it, then never again.
 *
 * Labels: a line's tags, over the configured extra (default) labels; the
 * DogStatsD tag env: becomes environment (service:, version: keep their
 * names), so unified service tagging lands on the labels the console uses.
 *
 * Threads: the aggregator is guarded by one mutex (the listener thread is
 * the usual only writer; flush may come from another thread).
 */
#include "receivers/statsd.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/numfmt.h"
#include "base/stats.h"
#include "base/vec.h"

enum kind { K_COUNTER, K_GAUGE, K_SUMMARY, K_SET };

struct series {
	enum kind kind;
	char *name; /* sanitised base name */
	struct pane_labels labels;
	int64_t last_seen_ms;
	bool touched;   /* updated in this interval */
	double value;   /* counter (cumulative) or gauge */
	uint64_t count; /* summary, cumulative */
	double sum;
	uint64_t icount; /* this interval */
	double imin, imax;
	double *res; /* reservoir, opts.reservoir slots */
	size_t nres;
	uint64_t *buckets;   /* cumulative per-bucket counts (histogram mode) */
	struct pane_map set; /* members this interval */
	bool set_full;
	bool meta_sent; /* its family's metadata went to the pipeline */
};

struct pane_statsd_agg {
	pthread_mutex_t mu;
	struct pane_statsd_agg_opts o;
	double *quantiles;
	double *bucket_bounds;
	struct pane_labels extra;
	struct pane_map canon; /* canonical key -> struct series (owned) */
	struct pane_map raw;   /* raw key -> struct series (borrowed alias) */
	uint64_t rng;
	uint64_t lines, malformed, skipped, dropped_series;
	struct pane_stat *st_lines, *st_malformed, *st_dropped, *st_series;
	struct pane_log_limit lim;
};

static void series_free(void *v)
{
	struct series *s = v;
	if (!s)
		return;
	free(s->name);
	pane_labels_release(&s->labels);
	free(s->res);
	free(s->buckets);
	pane_map_release(&s->set);
	free(s);
}

struct pane_statsd_agg *pane_statsd_agg_new(const struct pane_statsd_agg_opts *opts)
{
	static const double def_q[] = {0.5, 0.9, 0.99};
	struct pane_statsd_agg *a = pane_xcalloc(1, sizeof *a);
	pthread_mutex_init(&a->mu, NULL);
	if (opts)
		a->o = *opts;
	if (!a->o.max_series)
		a->o.max_series = 100000;
	if (!a->o.reservoir)
		a->o.reservoir = 1024;
	if (!a->o.max_set_size)
		a->o.max_set_size = 10000;
	if (!a->o.series_ttl_ms)
		a->o.series_ttl_ms = 5 * 60 * 1000;
	if (!a->o.quantiles) {
		a->o.quantiles = def_q;
		a->o.n_quantiles = 3;
	}
	a->quantiles = pane_xmalloc(pane_mul_size(a->o.n_quantiles, sizeof(double)));
	memcpy(a->quantiles, a->o.quantiles, a->o.n_quantiles * sizeof(double));
	a->o.quantiles = a->quantiles;
	if (a->o.n_buckets) {
		a->bucket_bounds = pane_xmalloc(pane_mul_size(a->o.n_buckets, sizeof(double)));
		memcpy(a->bucket_bounds, a->o.buckets, a->o.n_buckets * sizeof(double));
		a->o.buckets = a->bucket_bounds;
	}
	a->o.extra_labels = NULL;
	pane_labels_init(&a->extra);
	if (opts && opts->extra_labels)
		for (const char *const *kv = opts->extra_labels; kv[0] && kv[1]; kv += 2)
			pane_labels_set(&a->extra, kv[0], kv[1]);
	pane_map_init(&a->canon, series_free);
	pane_map_init(&a->raw, NULL);
	a->rng = pane_random_u64() | 1;
	a->lim.burst = 5;
	a->lim.per_ms = 60000;
	if (a->o.stats) {
		a->st_lines = pane_stats_counter(a->o.stats, "pane_statsd_lines_total", NULL, "StatsD lines accepted");
		a->st_malformed = pane_stats_counter(a->o.stats, "pane_statsd_malformed_total", NULL,
		                                     "StatsD lines rejected as malformed");
		a->st_dropped = pane_stats_counter(a->o.stats, "pane_statsd_dropped_series_total", NULL,
		                                   "StatsD lines dropped because max_series was reached");
		a->st_series =
		    pane_stats_gauge(a->o.stats, "pane_statsd_series", NULL, "StatsD series currently aggregated");
	}
	return a;
}

void pane_statsd_agg_free(struct pane_statsd_agg *a)
{
	if (!a)
		return;
	pane_map_release(&a->raw);
	pane_map_release(&a->canon);
	pane_labels_release(&a->extra);
	free(a->quantiles);
	free(a->bucket_bounds);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static char type_code(enum pane_statsd_type t)
{
	switch (t) {
	case PANE_STATSD_COUNTER: return 'c';
	case PANE_STATSD_GAUGE: return 'g';
	case PANE_STATSD_SET: return 's';
	default: return 't';
	}
}

/* Builds the label set of a new series from its tags. PANE_EINVAL when a
 * tag cannot become a label (reserved name, too many). */
static int tags_to_labels(struct pane_statsd_agg *a, struct pane_str tags, struct pane_labels *ls)
{
	pane_labels_copy(ls, &a->extra);
	const char *p = tags.p, *end = tags.p + tags.len;
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		struct pane_str t = pane_str_make(p, (size_t)((c ? c : end) - p));
		p = c ? c + 1 : end;
		if (t.len == 0)
			continue;
		struct pane_str k, v;
		if (!pane_str_cut(t, ':', &k, &v))
			v = pane_str_c("true");
		if (k.len == 0 || v.len == 0)
			continue;
		if (k.len >= 2 && k.p[0] == '_' && k.p[1] == '_')
			return PANE_EINVAL; /* reserved for pane and Prometheus */
		/* DogStatsD's unified service tags: env -> environment (service and
		 * version keep their names) */
		char *name = k.len == 3 && !memcmp(k.p, "env", 3) ? pane_xstrdup(PANE_LABEL_ENVIRONMENT)
		                                                  : pane_name_sanitize(k.p, k.len, false);
		int rc = pane_labels_setn(ls, name, strlen(name), v.p, v.len);
		free(name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void canon_key(struct pane_buf *b, char tc, const char *name, const struct pane_labels *ls)
{
	pane_buf_reset(b);
	pane_buf_addc(b, tc);
	pane_buf_adds(b, name);
	for (size_t i = 0; i < ls->n; i++) {
		pane_buf_addc(b, '\0');
		pane_buf_adds(b, ls->v[i].name);
		pane_buf_addc(b, '\0');
		pane_buf_adds(b, ls->v[i].value);
	}
}

/* Finds or creates the series for a line; NULL when it cannot: *capped
 * when max_series stopped it (counted as dropped here), else its tags are
 * malformed (the caller counts those). */
static struct series *lookup(struct pane_statsd_agg *a, const struct pane_statsd_line *l, int64_t now, bool *capped)
{
	*capped = false;
	char kbuf[PANE_STATSD_LINE_MAX + 8];
	size_t klen = 0;
	kbuf[klen++] = type_code(l->type);
	memcpy(kbuf + klen, l->name.p, l->name.len);
	klen += l->name.len;
	kbuf[klen++] = '|';
	memcpy(kbuf + klen, l->tags.p, l->tags.len);
	klen += l->tags.len;
	struct series *s = pane_map_get(&a->raw, kbuf, klen);
	if (s)
		return s;
	struct pane_labels ls;
	if (tags_to_labels(a, l->tags, &ls) < 0) {
		pane_labels_release(&ls);
		return NULL;
	}
	char *name = pane_name_sanitize(l->name.p, l->name.len, true);
	struct pane_buf ck;
	pane_buf_init(&ck, PANE_BUF_NOLIMIT);
	canon_key(&ck, kbuf[0], name, &ls);
	s = pane_map_get(&a->canon, ck.data, ck.len);
	if (!s) {
		if (a->canon.len >= a->o.max_series) {
			*capped = true;
			a->dropped_series++;
			if (a->st_dropped)
				pane_stat_inc(a->st_dropped);
			pane_log_limited(&a->lim, PANE_LOG_WARN, "statsd",
			                 "max_series (%zu) reached; dropping new series %s", a->o.max_series, name);
			free(name);
			pane_labels_release(&ls);
			pane_buf_release(&ck);
			return NULL;
		}
		s = pane_xcalloc(1, sizeof *s);
		s->name = name;
		name = NULL;
		s->labels = ls;
		ls.owned = false; /* moved */
		s->kind = l->type == PANE_STATSD_COUNTER ? K_COUNTER
		          : l->type == PANE_STATSD_GAUGE ? K_GAUGE
		          : l->type == PANE_STATSD_SET   ? K_SET
		                                         : K_SUMMARY;
		if (s->kind == K_SUMMARY) {
			s->res = pane_xmalloc(pane_mul_size(a->o.reservoir, sizeof(double)));
			if (a->o.n_buckets)
				s->buckets = pane_xcalloc(a->o.n_buckets, sizeof(uint64_t));
		}
		pane_map_init(&s->set, NULL);
		s->last_seen_ms = now;
		pane_map_put(&a->canon, ck.data, ck.len, s);
	}
	free(name);
	if (ls.owned)
		pane_labels_release(&ls);
	pane_buf_release(&ck);
	if (a->raw.len < 2 * a->o.max_series)
		pane_map_put(&a->raw, kbuf, klen, s);
	return s;
}

static void observe(struct pane_statsd_agg *a, struct series *s, double v, double weight)
{
	/* a sampled timer value stands for 1/rate observations */
	uint64_t n = weight >= 1.0 ? (uint64_t)llround(weight) : 1;
	s->count += n;
	s->sum += v * (double)n;
	if (s->icount == 0 || v < s->imin)
		s->imin = v;
	if (s->icount == 0 || v > s->imax)
		s->imax = v;
	s->icount += n;
	if (s->nres < a->o.reservoir) {
		s->res[s->nres++] = v;
	} else {
		uint64_t j = rng_next(&a->rng) % s->icount;
		if (j < a->o.reservoir)
			s->res[j] = v;
	}
	if (s->buckets)
		for (size_t i = 0; i < a->o.n_buckets; i++)
			if (v <= a->o.buckets[i])
				s->buckets[i] += n;
}

static void apply(struct pane_statsd_agg *a, struct series *s, const struct pane_statsd_line *l, int64_t now)
{
	s->touched = true;
	s->last_seen_ms = now;
	switch (s->kind) {
	case K_COUNTER:
		for (size_t i = 0; i < l->n_values; i++)
			s->value += l->values[i] / l->sample_rate;
		break;
	case K_GAUGE:
		if (l->gauge_delta)
			s->value += l->values[0];
		else
			s->value = l->values[0];
		break;
	case K_SUMMARY:
		for (size_t i = 0; i < l->n_values; i++)
			observe(a, s, l->values[i], 1.0 / l->sample_rate);
		break;
	case K_SET:
		if (s->set.len < a->o.max_set_size)
			pane_map_put(&s->set, l->set_value.p, l->set_value.len, s);
		else if (!pane_map_has(&s->set, l->set_value.p, l->set_value.len))
			s->set_full = true;
		break;
	}
}

size_t pane_statsd_agg_feed(struct pane_statsd_agg *a, const char *pkt, size_t len)
{
	size_t ok = 0, bad = 0, skipped = 0;
	int64_t now = pane_wall_ms();
	pthread_mutex_lock(&a->mu);
	const char *p = pkt, *end = pkt + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);
		const char *line = p;
		p = nl ? nl + 1 : end;
		if (ll == 0 || (ll == 1 && line[0] == '\r'))
			continue;
		struct pane_statsd_line l;
		struct pane_err e = {0};
		int rc = pane_statsd_parse_line(line, ll, &l, &e);
		if (rc == PANE_EAGAIN) {
			skipped++;
			continue;
		}
		if (rc < 0) {
			bad++;
			pane_log_limited(&a->lim, PANE_LOG_WARN, "statsd", "%s", e.msg);
			continue;
		}
		bool capped;
		struct series *s = lookup(a, &l, now, &capped);
		if (!s) {
			if (!capped) /* dropped at the cap is counted once, as dropped */
				bad++;
			continue;
		}
		apply(a, s, &l, now);
		ok++;
	}
	a->lines += ok;
	a->malformed += bad;
	a->skipped += skipped;
	pthread_mutex_unlock(&a->mu);
	if (a->st_lines) {
		pane_stat_add(a->st_lines, (double)ok);
		if (bad)
			pane_stat_add(a->st_malformed, (double)bad);
	}
	return ok;
}

/* ---- flush ---- */

struct out {
	struct pane_vec samples; /* struct pane_sample */
	struct pane_vec meta;    /* struct pane_metadata, names owned through `owned` */
	struct pane_vec meta_of; /* struct series * whose metadata is in `meta` */
	struct pane_vec owned;   /* char * and struct pane_labels * to free */
	struct pane_vec lsets;
};

static const char *own_str(struct out *o, char *s)
{
	pane_vec_push(&o->owned, &s);
	return s;
}

static const struct pane_labels *own_labels_with(struct out *o, const struct pane_labels *base, const char *name,
                                                 const char *value)
{
	struct pane_labels *ls = pane_xmalloc(sizeof *ls);
	pane_labels_copy(ls, base);
	pane_labels_set(ls, name, value);
	pane_vec_push(&o->lsets, &ls);
	return ls;
}

static void emit(struct out *o, const char *name, const struct pane_labels *ls, int64_t ts, double v)
{
	struct pane_sample smp = {.name = name, .labels = ls, .ts_ms = ts, .value = v};
	pane_vec_push(&o->samples, &smp);
}

static char *suffixed(const char *name, const char *suffix)
{
	size_t nl = strlen(name), sl = strlen(suffix);
	if (nl >= sl && strcmp(name + nl - sl, suffix) == 0 && strcmp(suffix, "_total") == 0)
		return pane_xstrdup(name);
	char *r = pane_xmalloc(nl + sl + 1);
	memcpy(r, name, nl);
	memcpy(r + nl, suffix, sl + 1);
	return r;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b ? 1 : 0;
}

static void emit_series(struct pane_statsd_agg *a, struct out *o, struct series *s, int64_t ts, bool stale)
{
	double st = pane_stale_nan();
	switch (s->kind) {
	case K_COUNTER: emit(o, own_str(o, suffixed(s->name, "_total")), &s->labels, ts, stale ? st : s->value); break;
	case K_GAUGE: emit(o, s->name, &s->labels, ts, stale ? st : s->value); break;
	case K_SET: emit(o, s->name, &s->labels, ts, stale ? st : (double)s->set.len); break;
	case K_SUMMARY: {
		const char *cnt = own_str(o, suffixed(s->name, "_count"));
		const char *sum = own_str(o, suffixed(s->name, "_sum"));
		emit(o, cnt, &s->labels, ts, stale ? st : (double)s->count);
		emit(o, sum, &s->labels, ts, stale ? st : s->sum);
		if (s->buckets) {
			const char *bn = own_str(o, suffixed(s->name, "_bucket"));
			char le[48];
			for (size_t i = 0; i < a->o.n_buckets; i++) {
				pane_fmt_label_float(le, sizeof le, a->o.buckets[i]);
				emit(o, bn, own_labels_with(o, &s->labels, "le", le), ts,
				     stale ? st : (double)s->buckets[i]);
			}
			emit(o, bn, own_labels_with(o, &s->labels, "le", "+Inf"), ts, stale ? st : (double)s->count);
			break;
		}
		if (stale || s->icount == 0) {
			if (stale)
				break;
			break;
		}
		emit(o, own_str(o, suffixed(s->name, "_min")), &s->labels, ts, s->imin);
		emit(o, own_str(o, suffixed(s->name, "_max")), &s->labels, ts, s->imax);
		qsort(s->res, s->nres, sizeof(double), cmp_double);
		for (size_t i = 0; i < a->o.n_quantiles; i++) {
			double q = a->o.quantiles[i];
			size_t idx = (size_t)floor(q * (double)(s->nres - 1) + 0.5);
			if (idx >= s->nres)
				idx = s->nres - 1;
			char qs[48];
			pane_fmt_label_float(qs, sizeof qs, q);
			emit(o, s->name, own_labels_with(o, &s->labels, "quantile", qs), ts, s->res[idx]);
		}
		break;
	}
	}
}

static void reset_interval(struct series *s)
{
	s->touched = false;
	s->icount = 0;
	s->nres = 0;
	if (s->kind == K_SET) {
		pane_map_release(&s->set);
		pane_map_init(&s->set, NULL);
		s->set_full = false;
	}
}

/* The metadata of a series' families, once per series (the pipeline also
 * drops repeats): counter -> <name>_total counter; gauge and set -> gauge;
 * timer -> summary (with <name>_min/_max gauges) or histogram with buckets. */
static void series_meta(struct pane_statsd_agg *a, struct out *o, struct series *s)
{
	if (s->meta_sent)
		return;
	struct pane_metadata m = {.help = "", .unit = ""};
	pane_vec_push(&o->meta_of, &s);
	switch (s->kind) {
	case K_COUNTER:
		m.name = own_str(o, suffixed(s->name, "_total"));
		m.type = PANE_METRIC_COUNTER;
		break;
	case K_GAUGE:
	case K_SET:
		m.name = s->name;
		m.type = PANE_METRIC_GAUGE;
		break;
	case K_SUMMARY:
		m.name = s->name;
		m.type = s->buckets ? PANE_METRIC_HISTOGRAM : PANE_METRIC_SUMMARY;
		if (!a->o.buckets) {
			struct pane_metadata g = {.type = PANE_METRIC_GAUGE, .help = "", .unit = ""};
			g.name = own_str(o, suffixed(s->name, "_min"));
			pane_vec_push(&o->meta, &g);
			g.name = own_str(o, suffixed(s->name, "_max"));
			pane_vec_push(&o->meta, &g);
		}
		break;
	}
	pane_vec_push(&o->meta, &m);
}

int pane_statsd_agg_flush(struct pane_statsd_agg *a, struct pane_pipeline *p, int64_t ts_ms, struct pane_err *err)
{
	struct out o;
	pane_vec_init(&o.samples, sizeof(struct pane_sample));
	pane_vec_init(&o.meta, sizeof(struct pane_metadata));
	pane_vec_init(&o.meta_of, sizeof(struct series *));
	pane_vec_init(&o.owned, sizeof(char *));
	pane_vec_init(&o.lsets, sizeof(struct pane_labels *));
	struct pane_vec dead;
	pane_vec_init(&dead, sizeof(struct series *));
	int rc = 0;

	pthread_mutex_lock(&a->mu);
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	while (pane_map_next(&a->canon, &pos, &k, &kl, &v)) {
		struct series *s = v;
		bool expired = ts_ms - s->last_seen_ms > a->o.series_ttl_ms;
		emit_series(a, &o, s, ts_ms, expired);
		if (!expired)
			series_meta(a, &o, s);
		if (expired)
			pane_vec_push(&dead, &s);
	}
	if (p && o.samples.len)
		rc = pane_pipeline_write_samples(p, o.samples.data, o.samples.len, err);
	if (p && o.meta.len) {
		struct pane_err me = {0};
		if (pane_pipeline_write_metadata(p, o.meta.data, o.meta.len, &me) == 0) {
			for (size_t i = 0; i < o.meta_of.len; i++)
				(*(struct series **)pane_vec_at(&o.meta_of, i))->meta_sent = true;
		} else {
			pane_log_limited(&a->lim, PANE_LOG_WARN, "statsd", "metadata not stored: %s", me.msg);
		}
	}
	pos = 0;
	while (pane_map_next(&a->canon, &pos, &k, &kl, &v))
		reset_interval(v);
	if (dead.len) {
		/* drop aliases first (they point at the dying series), then the series */
		pane_map_release(&a->raw);
		pane_map_init(&a->raw, NULL);
		for (size_t i = 0; i < dead.len; i++) {
			struct series *s = *(struct series **)pane_vec_at(&dead, i);
			struct pane_buf ck;
			pane_buf_init(&ck, PANE_BUF_NOLIMIT);
			char tc = s->kind == K_COUNTER ? 'c' : s->kind == K_GAUGE ? 'g' : s->kind == K_SET ? 's' : 't';
			canon_key(&ck, tc, s->name, &s->labels);
			pane_map_del(&a->canon, ck.data, ck.len);
			pane_buf_release(&ck);
		}
	}
	if (a->st_series)
		pane_stat_set(a->st_series, (double)a->canon.len);
	pthread_mutex_unlock(&a->mu);

	for (size_t i = 0; i < o.owned.len; i++)
		free(*(char **)pane_vec_at(&o.owned, i));
	for (size_t i = 0; i < o.lsets.len; i++) {
		struct pane_labels *ls = *(struct pane_labels **)pane_vec_at(&o.lsets, i);
		pane_labels_release(ls);
		free(ls);
	}
	pane_vec_release(&o.owned);
	pane_vec_release(&o.lsets);
	pane_vec_release(&o.samples);
	pane_vec_release(&o.meta);
	pane_vec_release(&o.meta_of);
	pane_vec_release(&dead);
	return rc;
}

void pane_statsd_agg_counts(struct pane_statsd_agg *a, struct pane_statsd_agg_counts *out)
{
	pthread_mutex_lock(&a->mu);
	out->lines = a->lines;
	out->malformed = a->malformed;
	out->skipped = a->skipped;
	out->dropped_series = a->dropped_series;
	out->series = a->canon.len;
	pthread_mutex_unlock(&a->mu);
}
