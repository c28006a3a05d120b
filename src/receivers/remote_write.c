/*
 * remote_write.c - remote_write 1.0 decoding (see remote_write.h).
 *
 * Idea: the protobuf is five tiny messages, so it is read directly from the
 * wire format (varints, length-delimited fields) instead of generating code
 * and building an object tree: one pass, no allocation per series, strings
 * copied once into a batch arena where they get their NUL terminators.
 * Unknown fields are skipped by wire type, as protobuf requires.
 *
 * Invariants:
 *   (1) Every length read from the input is checked against the bytes left
 *       before it is used; nothing is read past pb + len.
 *   (2) The snappy output is allocated only after its declared length was
 *       checked against the caller's maximum (a "snappy bomb" costs nothing).
 *   (3) Memory per decode is a fixed batch (arena, label pool, samples),
 *       whatever the request size.
 *   (4) A series with an invalid label set is refused whole and counted;
 *       the other series of the request are still delivered. The same for
 *       a metadata entry (bad name, type number, UTF-8): counted, skipped.
 */
#include "receivers/remote_write.h"

#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/utf8.h"

int pane_snappy_decode(const char *in, size_t len, size_t max, char **out, size_t *out_len, struct pane_err *err)
{
	size_t n = 0;
	*out = NULL;
	if (snappy_uncompressed_length(in, len, &n) != SNAPPY_OK)
		return pane_err_set(err, PANE_EINVAL, "body is not snappy block-compressed data");
	if (n > max)
		return pane_err_set(err, PANE_ETOOBIG, "declared uncompressed size %zu bytes exceeds the limit of %zu",
		                    n, max);
	char *buf = pane_xmalloc(n ? n : 1);
	size_t got = n;
	if (snappy_uncompress(in, len, buf, &got) != SNAPPY_OK || got != n) {
		free(buf);
		return pane_err_set(err, PANE_EINVAL, "corrupt snappy data");
	}
	*out = buf;
	*out_len = n;
	return 0;
}

/* ---- wire format ---- */

struct rd {
	const unsigned char *p, *end;
};

static int varint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return -1;
		unsigned char b = *r->p++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* Reads a tag; for length-delimited fields also the payload view. */
static int field(struct rd *r, uint32_t *num, int *wt, struct rd *sub, uint64_t *val)
{
	uint64_t tag;
	if (varint(r, &tag) < 0)
		return -1;
	*num = (uint32_t)(tag >> 3);
	*wt = (int)(tag & 7);
	switch (*wt) {
	case 0: return varint(r, val);
	case 1:
		if (r->end - r->p < 8)
			return -1;
		memcpy(val, r->p, 8);
		r->p += 8;
		return 0;
	case 2: {
		uint64_t l;
		if (varint(r, &l) < 0 || l > (uint64_t)(r->end - r->p))
			return -1;
		sub->p = r->p;
		sub->end = r->p + l;
		r->p += l;
		return 0;
	}
	case 5:
		if (r->end - r->p < 4)
			return -1;
		r->p += 4;
		return 0;
	default: return -1;
	}
}

#define BATCH 1024
#define POOL (BATCH * 8)
#define ARENA (2u << 20)

#define META_BATCH 64

struct meta_slot {
	char name[PANE_METRIC_NAME_MAX + 1];
	char help[PANE_METADATA_HELP_MAX + 1];
	char unit[PANE_METADATA_UNIT_MAX + 1];
	enum pane_metric_type type;
};

struct dec {
	pane_promtext_fn fn;
	void *arg;
	pane_promtext_meta_fn meta_fn;
	void *meta_arg;
	struct meta_slot *meta; /* META_BATCH slots, allocated at the first metadata entry */
	size_t n_meta;
	struct pane_rw_result *res;
	char *arena;
	size_t used;
	struct pane_label *pool;
	size_t pool_used;
	struct pane_labels *lsets;
	size_t n_lsets;
	struct pane_sample *samples;
	size_t n;
};

static int flush_batch(struct dec *d, struct pane_err *err)
{
	int rc = 0;
	if (d->n)
		rc = d->fn(d->arg, d->samples, d->n, err);
	d->res->samples += d->n;
	d->n = 0;
	d->used = 0;
	d->pool_used = 0;
	d->n_lsets = 0;
	return rc;
}

static void refuse(struct dec *d, size_t n_samples, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(struct dec *d, size_t n_samples, const char *fmt, ...)
{
	d->res->bad_series++;
	d->res->bad_samples += n_samples;
	if (d->res->first_error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->res->first_error, sizeof d->res->first_error, fmt, ap);
	va_end(ap);
}

static int clip(size_t n)
{
	return (int)(n > 60 ? 60 : n);
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct pane_label *)a)->name, ((const struct pane_label *)b)->name);
}

static int series(struct dec *d, struct rd ts, struct pane_err *err)
{
	/* pass 1: count labels and samples, check framing */
	size_t nl = 0, ns = 0, bytes = 0;
	struct rd r = ts;
	while (r.p < r.end) {
		uint32_t num;
		int wt;
		struct rd sub;
		uint64_t v;
		if (field(&r, &num, &wt, &sub, &v) < 0)
			return pane_err_set(err, PANE_EINVAL, "truncated or malformed protobuf in a time series");
		if (num == 1 && wt == 2) {
			nl++;
			bytes += (size_t)(sub.end - sub.p) + 2;
		} else if (num == 2 && wt == 2) {
			ns++;
		} else if (num == 4) {
			d->res->skipped_histograms++;
		}
	}
	if (nl > PANE_LABELS_MAX) {
		refuse(d, ns, "series with more than %d labels", PANE_LABELS_MAX);
		return 0;
	}
	if (bytes > ARENA / 2) {
		refuse(d, ns, "series labels too large");
		return 0;
	}
	if (d->used + bytes > ARENA || d->pool_used + nl > POOL || d->n_lsets == BATCH) {
		int rc = flush_batch(d, err);
		if (rc < 0)
			return rc;
	}
	/* pass 2: labels into the arena */
	struct pane_label *lv = d->pool + d->pool_used;
	size_t k = 0;
	const char *name = NULL;
	size_t used0 = d->used;
	r = ts;
	while (r.p < r.end) {
		uint32_t num;
		int wt;
		struct rd sub;
		uint64_t v;
		field(&r, &num, &wt, &sub, &v);
		if (!(num == 1 && wt == 2))
			continue;
		struct rd lr = sub, nm = {0}, vl = {0};
		while (lr.p < lr.end) {
			uint32_t ln;
			int lwt;
			struct rd ls;
			uint64_t lv64;
			if (field(&lr, &ln, &lwt, &ls, &lv64) < 0)
				return pane_err_set(err, PANE_EINVAL, "truncated or malformed protobuf in a label");
			if (ln == 1 && lwt == 2)
				nm = ls;
			else if (ln == 2 && lwt == 2)
				vl = ls;
		}
		size_t nlen = (size_t)(nm.end - nm.p), vlen = (size_t)(vl.end - vl.p);
		const char *np = (const char *)nm.p, *vp = (const char *)vl.p;
		bool is_name = nlen == 8 && memcmp(np, "__name__", 8) == 0;
		if (!is_name && !pane_label_name_valid(np, nlen)) {
			d->used = used0;
			refuse(d, ns, "invalid label name '%.*s'", clip(nlen), np ? np : "");
			return 0;
		}
		if (vlen > PANE_LABEL_VALUE_MAX || !pane_utf8_valid(vp, vlen) || (vlen && memchr(vp, 0, vlen))) {
			d->used = used0;
			refuse(d, ns, "label value of '%.*s' is too long or not UTF-8", clip(nlen), np);
			return 0;
		}
		if (is_name && !pane_metric_name_valid(vp, vlen)) {
			d->used = used0;
			refuse(d, ns, "invalid metric name '%.*s'", clip(vlen), vp ? vp : "");
			return 0;
		}
		char *a = d->arena + d->used;
		memcpy(a, np, nlen);
		a[nlen] = '\0';
		memcpy(a + nlen + 1, vp, vlen);
		a[nlen + 1 + vlen] = '\0';
		d->used += nlen + vlen + 2;
		if (is_name) {
			if (name) {
				d->used = used0;
				refuse(d, ns, "duplicate __name__");
				return 0;
			}
			name = a + nlen + 1;
			continue;
		}
		if (vlen == 0)
			continue;
		lv[k].name = a;
		lv[k].value = a + nlen + 1;
		k++;
	}
	if (!name) {
		d->used = used0;
		refuse(d, ns, "series without __name__");
		return 0;
	}
	qsort(lv, k, sizeof *lv, cmp_label);
	for (size_t i = 1; i < k; i++)
		if (strcmp(lv[i - 1].name, lv[i].name) == 0) {
			d->used = used0;
			refuse(d, ns, "duplicate label name '%s'", lv[i].name);
			return 0;
		}
	d->pool_used += k;
	struct pane_labels *ls = &d->lsets[d->n_lsets++];
	*ls = (struct pane_labels){.v = lv, .n = k, .cap = k, .owned = false};
	d->res->series++;
	/* pass 3: samples */
	r = ts;
	while (r.p < r.end) {
		uint32_t num;
		int wt;
		struct rd sub;
		uint64_t v;
		field(&r, &num, &wt, &sub, &v);
		if (!(num == 2 && wt == 2))
			continue;
		double value = 0;
		int64_t tms = 0;
		while (sub.p < sub.end) {
			uint32_t sn;
			int swt;
			struct rd ss;
			uint64_t sv = 0;
			if (field(&sub, &sn, &swt, &ss, &sv) < 0)
				return pane_err_set(err, PANE_EINVAL, "truncated or malformed protobuf in a sample");
			if (sn == 1 && swt == 1)
				memcpy(&value, &sv, sizeof value);
			else if (sn == 2 && swt == 0)
				tms = (int64_t)sv;
		}
		if (d->n == BATCH) {
			/* keep this series' labels: they live in the arena, which
			 * flush_batch would recycle; deliver and re-home them */
			int rc = d->fn(d->arg, d->samples, d->n, err);
			d->res->samples += d->n;
			d->n = 0;
			if (rc < 0)
				return rc;
		}
		d->samples[d->n++] = (struct pane_sample){.name = name, .labels = ls, .ts_ms = tms, .value = value};
	}
	return 0;
}

static int flush_meta(struct dec *d, struct pane_err *err)
{
	if (!d->n_meta)
		return 0;
	struct pane_metadata m[META_BATCH];
	for (size_t i = 0; i < d->n_meta; i++)
		m[i] = (struct pane_metadata){
		    .name = d->meta[i].name, .type = d->meta[i].type, .help = d->meta[i].help, .unit = d->meta[i].unit};
	size_t n = d->n_meta;
	d->n_meta = 0;
	d->res->metadata += n;
	return d->meta_fn(d->meta_arg, m, n, err);
}

/* One MetricMetadata. Framing errors stop the decode (-1); an entry that
 * breaks a rule is counted and skipped. */
static int metadata(struct dec *d, struct rd r, struct pane_err *err)
{
	uint64_t type = 0;
	struct rd name = {0}, help = {0}, unit = {0};
	while (r.p < r.end) {
		uint32_t num;
		int wt;
		struct rd sub;
		uint64_t v;
		if (field(&r, &num, &wt, &sub, &v) < 0)
			return pane_err_set(err, PANE_EINVAL, "truncated or malformed protobuf MetricMetadata");
		if (num == 1 && wt == 0)
			type = v;
		else if (num == 2 && wt == 2)
			name = sub;
		else if (num == 4 && wt == 2)
			help = sub;
		else if (num == 5 && wt == 2)
			unit = sub;
	}
	size_t nl = (size_t)(name.end - name.p), hl = (size_t)(help.end - help.p), ul = (size_t)(unit.end - unit.p);
	const char *why = NULL;
	if (!name.p || !pane_metric_name_valid((const char *)name.p, nl))
		why = "invalid metric family name";
	else if (type > PANE_METRIC_STATESET)
		why = "unknown metric type";
	else if (ul > PANE_METADATA_UNIT_MAX || !pane_utf8_valid((const char *)unit.p, ul))
		why = "bad unit";
	else if (!pane_utf8_valid((const char *)help.p, hl))
		why = "help is not UTF-8";
	if (why) {
		d->res->bad_metadata++;
		if (!d->res->meta_error)
			d->res->meta_error = why;
		return 0;
	}
	if (!d->meta_fn)
		return 0;
	if (!d->meta)
		d->meta = pane_xmalloc(META_BATCH * sizeof *d->meta);
	if (d->n_meta == META_BATCH) {
		int rc = flush_meta(d, err);
		if (rc < 0)
			return rc;
	}
	struct meta_slot *m = &d->meta[d->n_meta++];
	memcpy(m->name, name.p, nl);
	m->name[nl] = '\0';
	hl = pane_utf8_cut((const char *)help.p, hl, PANE_METADATA_HELP_MAX);
	if (hl)
		memcpy(m->help, help.p, hl);
	m->help[hl] = '\0';
	if (ul)
		memcpy(m->unit, unit.p, ul);
	m->unit[ul] = '\0';
	m->type = (enum pane_metric_type)type;
	return 0;
}

int pane_remote_write_decode(const char *pb, size_t len, pane_promtext_fn fn, void *arg, struct pane_rw_result *res,
                             struct pane_err *err)
{
	return pane_remote_write_decode_meta(pb, len, fn, arg, NULL, NULL, res, err);
}

int pane_remote_write_decode_meta(const char *pb, size_t len, pane_promtext_fn fn, void *arg,
                                  pane_promtext_meta_fn meta_fn, void *meta_arg, struct pane_rw_result *res,
                                  struct pane_err *err)
{
	memset(res, 0, sizeof *res);
	struct dec d = {.fn = fn, .arg = arg, .meta_fn = meta_fn, .meta_arg = meta_arg, .res = res};
	d.arena = pane_xmalloc(ARENA);
	d.pool = pane_xmalloc(POOL * sizeof *d.pool);
	d.lsets = pane_xmalloc(BATCH * sizeof *d.lsets);
	d.samples = pane_xmalloc(BATCH * sizeof *d.samples);
	struct rd r = {(const unsigned char *)pb, (const unsigned char *)pb + len};
	int rc = 0;
	while (r.p < r.end) {
		uint32_t num;
		int wt;
		struct rd sub;
		uint64_t v;
		if (field(&r, &num, &wt, &sub, &v) < 0) {
			rc = pane_err_set(err, PANE_EINVAL, "truncated or malformed protobuf WriteRequest");
			break;
		}
		if (num == 1 && wt == 2) {
			rc = series(&d, sub, err);
			if (rc < 0)
				break;
		} else if (num == 3 && wt == 2) {
			rc = metadata(&d, sub, err);
			if (rc < 0)
				break;
		}
	}
	int frc = flush_batch(&d, rc < 0 ? NULL : err);
	if (rc == 0)
		rc = frc;
	if (rc == 0 && d.meta_fn)
		rc = flush_meta(&d, err);
	free(d.meta);
	free(d.arena);
	free(d.pool);
	free(d.lsets);
	free(d.samples);
	return rc;
}

/* ---- encoding (load generator, tests) ---- */

static void put_varint(struct pane_buf *b, uint64_t v)
{
	char tmp[10];
	size_t n = 0;
	do {
		unsigned char c = v & 0x7f;
		v >>= 7;
		tmp[n++] = (char)(c | (v ? 0x80 : 0));
	} while (v);
	pane_buf_add(b, tmp, n);
}

static size_t label_len(const char *n, const char *v)
{
	size_t a = strlen(n), b = strlen(v);
	return 1 + pane_uvarint_len(a) + a + 1 + pane_uvarint_len(b) + b;
}

static void put_label(struct pane_buf *b, const char *n, const char *v)
{
	size_t a = strlen(n), c = strlen(v);
	put_varint(b, (1 << 3) | 2);
	put_varint(b, label_len(n, v));
	put_varint(b, (1 << 3) | 2);
	put_varint(b, a);
	pane_buf_add(b, n, a);
	put_varint(b, (2 << 3) | 2);
	put_varint(b, c);
	pane_buf_add(b, v, c);
}

void pane_remote_write_encode(const struct pane_sample *s, size_t n, struct pane_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		size_t sl = 1 + 8 + 1 + pane_uvarint_len((uint64_t)s[i].ts_ms);
		size_t tl = 1 + pane_uvarint_len(label_len("__name__", s[i].name)) + label_len("__name__", s[i].name);
		for (size_t k = 0; k < s[i].labels->n; k++) {
			size_t ll = label_len(s[i].labels->v[k].name, s[i].labels->v[k].value);
			tl += 1 + pane_uvarint_len(ll) + ll;
		}
		tl += 1 + pane_uvarint_len(sl) + sl;
		put_varint(out, (1 << 3) | 2);
		put_varint(out, tl);
		put_label(out, "__name__", s[i].name);
		for (size_t k = 0; k < s[i].labels->n; k++)
			put_label(out, s[i].labels->v[k].name, s[i].labels->v[k].value);
		put_varint(out, (2 << 3) | 2);
		put_varint(out, sl);
		put_varint(out, (1 << 3) | 1);
		pane_buf_add(out, &s[i].value, 8);
		put_varint(out, (2 << 3) | 0);
		put_varint(out, (uint64_t)s[i].ts_ms);
	}
}
