/*
 * otlp.c - OTLP/HTTP metrics and logs, JSON and protobuf (see otlp.h).
 *
 * Idea: one mapping for both encodings. The JSON form is parsed by jansson;
 * the protobuf form is decoded by protobuf-c and translated into the same
 * proto3 JSON tree (pbjson.c). The tree is then walked once (resource ->
 * scope -> metric -> data point) and each data point is written as soon as
 * its labels are built. The proto3 JSON quirks are handled in two helpers:
 * 64-bit integers may arrive as strings or numbers, and unknown fields are
 * ignored. The tree costs an allocation per field; bench/README.md has
 * what that costs against remote_write's hand decoder.
 *
 * Invariants:
 *   (1) The body is bounded by the HTTP route before it gets here; jansson
 *       limits nesting depth.
 *   (2) One bad data point is counted and skipped; the rest are written.
 *   (3) Label sets honour record.h: names sanitised, empty values dropped,
 *       at most PANE_LABELS_MAX (extra attributes are refused with the point).
 *   (4) Label precedence: the data point's attributes, then the resource's
 *       mapped attributes, then the configured default labels, then
 *       provider="app".
 *   (5) Delta sums and histograms are written as running totals kept in
 *       the caller's struct pane_cumulate (per series, le included);
 *       without one they are refused, as before.
 */
#include "receivers/otlp.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/numfmt.h"
#include "base/str.h"
#include "base/utf8.h"
#include "receivers/cumulate.h"
#include "receivers/defaults.h"
#include "receivers/otlp.pb-c.h"
#include "receivers/pbjson.h"
#include "receivers/promtext.h"

static int64_t jint(json_t *v, bool *ok)
{
	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	if (json_is_string(v)) {
		int64_t x;
		if (pane_str_to_i64(pane_str_make(json_string_value(v), json_string_length(v)), &x) == 0)
			return x;
		uint64_t u;
		if (pane_str_to_u64(pane_str_make(json_string_value(v), json_string_length(v)), &u) == 0)
			return (int64_t)(u > INT64_MAX ? INT64_MAX : u);
	}
	if (ok)
		*ok = false;
	return 0;
}

static double jnum(json_t *v, bool *ok)
{
	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_string(v)) {
		double d;
		if (pane_str_to_double(pane_str_make(json_string_value(v), json_string_length(v)), &d) == 0)
			return d;
	}
	*ok = false;
	return 0;
}

/* AnyValue -> text for a label value (scalars only); false for others. */
static bool any_to_text(json_t *val, struct pane_buf *out)
{
	json_t *x;
	pane_buf_reset(out);
	if ((x = json_object_get(val, "stringValue")) && json_is_string(x))
		return pane_buf_add(out, json_string_value(x), json_string_length(x)) == 0;
	if ((x = json_object_get(val, "boolValue")))
		return pane_buf_adds(out, json_is_true(x) ? "true" : "false") == 0;
	if ((x = json_object_get(val, "intValue"))) {
		bool ok = true;
		int64_t i = jint(x, &ok);
		return ok && pane_buf_addf(out, "%lld", (long long)i) == 0;
	}
	if ((x = json_object_get(val, "doubleValue"))) {
		bool ok = true;
		double d = jnum(x, &ok);
		return ok && pane_buf_addf(out, "%g", d) == 0;
	}
	return false;
}

/* AnyValue -> JSON value (for log fields and non-string bodies). */
static json_t *any_to_json(json_t *val)
{
	json_t *x;
	if (!json_is_object(val))
		return json_null();
	if ((x = json_object_get(val, "stringValue")))
		return json_incref(x);
	if ((x = json_object_get(val, "boolValue")))
		return json_incref(x);
	if ((x = json_object_get(val, "intValue"))) {
		bool ok = true;
		int64_t i = jint(x, &ok);
		return ok ? json_integer(i) : json_incref(x);
	}
	if ((x = json_object_get(val, "doubleValue")))
		return json_incref(x);
	if ((x = json_object_get(val, "bytesValue")))
		return json_incref(x);
	if ((x = json_object_get(val, "arrayValue"))) {
		json_t *arr = json_array(), *it;
		size_t i;
		json_array_foreach(json_object_get(x, "values"), i, it)
			json_array_append_new(arr, any_to_json(it));
		return arr;
	}
	if ((x = json_object_get(val, "kvlistValue"))) {
		json_t *obj = json_object(), *it;
		size_t i;
		json_array_foreach(json_object_get(x, "values"), i, it) {
			json_t *k = json_object_get(it, "key");
			if (json_is_string(k))
				json_object_set_new(obj, json_string_value(k), any_to_json(json_object_get(it, "value")));
		}
		return obj;
	}
	return json_null();
}

/* Sets labels from an attributes array. Resource mode maps the standard
 * keys and ignores the rest; point mode keeps everything. */
static int attrs_to_labels(json_t *attrs, struct pane_labels *ls, bool resource)
{
	json_t *a;
	size_t i;
	struct pane_buf v;
	pane_buf_init(&v, PANE_LABEL_VALUE_MAX);
	int rc = 0;
	json_array_foreach(attrs, i, a) {
		json_t *k = json_object_get(a, "key");
		if (!json_is_string(k) || !any_to_text(json_object_get(a, "value"), &v))
			continue;
		const char *key = json_string_value(k);
		const char *name = NULL;
		char *owned = NULL;
		if (strcmp(key, "service.name") == 0)
			name = PANE_LABEL_SERVICE;
		else if (strcmp(key, "deployment.environment") == 0 || strcmp(key, "deployment.environment.name") == 0)
			name = PANE_LABEL_ENVIRONMENT;
		else if (strcmp(key, "service.instance.id") == 0)
			name = PANE_LABEL_INSTANCE;
		else if (!resource)
			name = owned = pane_name_sanitize(key, strlen(key), false);
		if (!name)
			continue;
		if (name[0] == '_' && name[1] == '_') {
			free(owned);
			continue;
		}
		if (!pane_utf8_valid(v.data, v.len)) {
			free(owned);
			rc = PANE_EINVAL;
			break;
		}
		int r = pane_labels_setn(ls, name, strlen(name), v.data, v.len);
		free(owned);
		if (r < 0) {
			rc = r;
			break;
		}
	}
	pane_buf_release(&v);
	return rc;
}

struct mctx {
	struct pane_pipeline *p;
	struct pane_otlp_result *res;
	int64_t now_ms;
	const struct pane_otlp_opts *o;
	bool delta; /* the point being written is a delta: put() cumulates */
	struct pane_err *err;
	int rc;
	struct pane_sample batch[256];
	struct pane_labels lsets[256];
	char *names[256];
	size_t n;
	struct pane_metadata meta[64]; /* strings are heap copies, freed by meta_flush */
	size_t n_meta;
};

static void meta_flush(struct mctx *m)
{
	if (m->n_meta && m->rc == 0) {
		static struct pane_log_limit lim = {.burst = 3, .per_ms = 60000};
		struct pane_err e = {0};
		if (pane_pipeline_write_metadata(m->p, m->meta, m->n_meta, &e) < 0)
			pane_log_limited(&lim, PANE_LOG_WARN, "receivers", "otlp: metadata not stored: %s", e.msg);
	}
	for (size_t i = 0; i < m->n_meta; i++) {
		free((char *)m->meta[i].name);
		free((char *)m->meta[i].help);
		free((char *)m->meta[i].unit);
	}
	m->n_meta = 0;
}

/* A metric's kind, description and unit as its family's metadata. */
static void meta_add(struct mctx *m, const char *name, const char *kind, json_t *met, json_t *body)
{
	enum pane_metric_type t = PANE_METRIC_GAUGE;
	const char *suffix = "";
	if (!strcmp(kind, "exponentialHistogram"))
		kind = "histogram";
	if (!strcmp(kind, "sum") && json_is_true(json_object_get(body, "isMonotonic"))) {
		size_t nl = strlen(name);
		t = PANE_METRIC_COUNTER;
		if (!(nl >= 6 && strcmp(name + nl - 6, "_total") == 0))
			suffix = "_total";
	} else if (!strcmp(kind, "histogram")) {
		t = PANE_METRIC_HISTOGRAM;
	} else if (!strcmp(kind, "summary")) {
		t = PANE_METRIC_SUMMARY;
	}
	json_t *d = json_object_get(met, "description"), *u = json_object_get(met, "unit");
	const char *help = json_is_string(d) ? json_string_value(d) : "";
	const char *unit = json_is_string(u) ? json_string_value(u) : "";
	size_t ul = strlen(unit);
	if (ul > PANE_METADATA_UNIT_MAX)
		ul = 0; /* a unit that long is not one; keep the rest of the entry */
	if (m->n_meta == sizeof m->meta / sizeof m->meta[0])
		meta_flush(m);
	size_t nl = strlen(name), sl = strlen(suffix);
	char *full = pane_xmalloc(nl + sl + 1);
	memcpy(full, name, nl);
	memcpy(full + nl, suffix, sl + 1);
	m->meta[m->n_meta++] = (struct pane_metadata){
		.name = full, .type = t,
		.help = pane_xstrndup(help, pane_utf8_cut(help, strlen(help), PANE_METADATA_HELP_MAX)),
		.unit = pane_xstrndup(unit, ul),
	};
}

static void mflush(struct mctx *m)
{
	if (m->n && m->rc == 0) {
		size_t kept = m->n;
		int r = pane_pipeline_write_samples_counted(m->p, m->batch, m->n, &kept, m->err);
		if (r < 0) {
			m->rc = r;
		} else {
			/* the store may keep fewer: those are rejected data points (partialSuccess) */
			m->res->accepted += kept;
			if (kept < m->n) {
				m->res->rejected += m->n - kept;
				if (!m->res->first_error[0])
					snprintf(m->res->first_error, sizeof m->res->first_error,
						 "%zu data points were not stored (%s)", m->n - kept,
						 PANE_PIPELINE_DROPPED_WHY);
			}
		}
	}
	for (size_t i = 0; i < m->n; i++) {
		pane_labels_release(&m->lsets[i]);
		free(m->names[i]);
	}
	m->n = 0;
}

static void reject(struct mctx *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reject(struct mctx *m, const char *fmt, ...)
{
	m->res->rejected++;
	if (m->res->first_error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->res->first_error, sizeof m->res->first_error, fmt, ap);
	va_end(ap);
}

static void put(struct mctx *m, const char *name, const char *suffix, const struct pane_labels *base,
		const char *xl, const char *xv, int64_t ts, double v)
{
	if (m->n == 256)
		mflush(m);
	size_t nl = strlen(name), sl = strlen(suffix);
	char *full = pane_xmalloc(nl + sl + 1);
	memcpy(full, name, nl);
	memcpy(full + nl, suffix, sl + 1);
	m->names[m->n] = full;
	pane_labels_copy(&m->lsets[m->n], base);
	if (xl)
		pane_labels_set(&m->lsets[m->n], xl, xv);
	if (m->delta && !pane_is_stale_nan(v) &&
	    !pane_cumulate_add(m->o->deltas, full, &m->lsets[m->n], v, m->now_ms, &v)) {
		reject(m, "%s: too many delta series to keep running totals for", full);
		pane_labels_release(&m->lsets[m->n]);
		free(full);
		return;
	}
	m->batch[m->n] = (struct pane_sample){.name = full, .labels = &m->lsets[m->n], .ts_ms = ts, .value = v};
	m->n++;
}

#define fmt_bound pane_fmt_label_float

/* Exponential histogram -> classic buckets. Bucket index i of scale s
 * covers (base^i, base^(i+1)] with base = 2^(2^-s) (negative buckets the
 * mirror image), so its upper bound is a classic bucket's le; the zero
 * bucket's le is the zero threshold. Counts are summed from the most
 * negative bucket up. false (nothing written) when the point is not one
 * pane can express. */
#define EXPO_MAX_BUCKETS 2048
static bool expo_buckets(struct mctx *m, const char *name, json_t *dp, const struct pane_labels *ls, int64_t ts,
			 bool novalue)
{
	bool ok = true;
	int64_t scale = jint(json_object_get(dp, "scale"), &ok);
	json_t *pos = json_object_get(dp, "positive"), *neg = json_object_get(dp, "negative");
	json_t *pc = json_object_get(pos, "bucketCounts"), *nc = json_object_get(neg, "bucketCounts");
	int64_t po = jint(json_object_get(pos, "offset"), NULL), no = jint(json_object_get(neg, "offset"), NULL);
	if (!ok || scale < -10 || scale > 20) {
		reject(m, "%s: exponential histogram scale must be between -10 and 20", name);
		return false;
	}
	if (json_array_size(pc) + json_array_size(nc) > EXPO_MAX_BUCKETS ||
	    llabs(po) > (1 << 24) || llabs(no) > (1 << 24)) {
		reject(m, "%s: exponential histogram with more than %d buckets or offsets out of range", name,
		       EXPO_MAX_BUCKETS);
		return false;
	}
	double width = ldexp(1.0, (int)-scale); /* log2 of base */
	double cum = 0, count = (double)jint(json_object_get(dp, "count"), &ok);
	char le[48];
	double stale = pane_stale_nan();
	for (size_t k = json_array_size(nc); k-- > 0;) {
		cum += (double)jint(json_array_get(nc, k), &ok);
		fmt_bound(le, sizeof le, -exp2((double)(no + (int64_t)k) * width));
		put(m, name, "_bucket", ls, "le", le, ts, novalue ? stale : cum);
	}
	cum += (double)jint(json_object_get(dp, "zeroCount"), &ok);
	bool okz = true;
	double zt = jnum(json_object_get(dp, "zeroThreshold"), &okz);
	fmt_bound(le, sizeof le, okz && zt > 0 ? zt : 0);
	put(m, name, "_bucket", ls, "le", le, ts, novalue ? stale : cum);
	for (size_t k = 0; k < json_array_size(pc); k++) {
		cum += (double)jint(json_array_get(pc, k), &ok);
		fmt_bound(le, sizeof le, exp2((double)(po + (int64_t)k + 1) * width));
		put(m, name, "_bucket", ls, "le", le, ts, novalue ? stale : cum);
	}
	put(m, name, "_bucket", ls, "le", "+Inf", ts, novalue ? stale : count);
	put(m, name, "_count", ls, NULL, NULL, ts, novalue ? stale : count);
	json_t *sum = json_object_get(dp, "sum");
	bool oks = true;
	double sv = jnum(sum, &oks);
	if (sum && oks)
		put(m, name, "_sum", ls, NULL, NULL, ts, novalue ? stale : sv);
	return true;
}

static void points(struct mctx *m, const char *name, const char *kind, json_t *body, const struct pane_labels *res)
{
	json_t *dps = json_object_get(body, "dataPoints"), *dp;
	size_t i;
	bool ok = true;
	int64_t temporality = jint(json_object_get(body, "aggregationTemporality"), &ok);
	bool monotonic = json_is_true(json_object_get(body, "isMonotonic"));
	bool is_sum = strcmp(kind, "sum") == 0;
	json_array_foreach(dps, i, dp) {
		struct pane_labels ls;
		pane_labels_copy(&ls, res);
		if (attrs_to_labels(json_object_get(dp, "attributes"), &ls, false) < 0) {
			reject(m, "%s: data point attributes are invalid or too many", name);
			pane_labels_release(&ls);
			continue;
		}
		pane_receivers_fill_defaults(&ls, m->o ? m->o->defaults : NULL);
		if (!pane_labels_get(&ls, PANE_LABEL_PROVIDER))
			pane_labels_set(&ls, PANE_LABEL_PROVIDER, "app");
		ok = true;
		int64_t tns = jint(json_object_get(dp, "timeUnixNano"), &ok);
		int64_t ts = ok && tns > 0 ? tns / 1000000 : m->now_ms;
		bool novalue = (jint(json_object_get(dp, "flags"), NULL) & 1) != 0;
		bool is_expo = !strcmp(kind, "exponentialHistogram");
		m->delta = (is_sum || is_expo || !strcmp(kind, "histogram")) && temporality == 1;
		if (m->delta && !(m->o && m->o->deltas)) {
			reject(m, "%s: delta temporality is not supported (send cumulative)", name);
			pane_labels_release(&ls);
			continue;
		}
		if (is_expo) {
			expo_buckets(m, name, dp, &ls, ts, novalue);
			pane_labels_release(&ls);
			continue;
		}
		if (!strcmp(kind, "gauge") || is_sum) {
			json_t *v = json_object_get(dp, "asDouble");
			double val;
			ok = true;
			if (v)
				val = jnum(v, &ok);
			else
				val = (double)jint(json_object_get(dp, "asInt"), &ok);
			if (!ok && !novalue) {
				reject(m, "%s: data point without asDouble/asInt", name);
				pane_labels_release(&ls);
				continue;
			}
			if (novalue)
				val = pane_stale_nan();
			size_t nl = strlen(name);
			bool total = is_sum && monotonic && !(nl >= 6 && strcmp(name + nl - 6, "_total") == 0);
			put(m, name, total ? "_total" : "", &ls, NULL, NULL, ts, val);
		} else if (!strcmp(kind, "histogram")) {
			json_t *counts = json_object_get(dp, "bucketCounts"), *bounds = json_object_get(dp, "explicitBounds");
			size_t nb = json_array_size(bounds);
			if (json_array_size(counts) != nb + 1 && json_array_size(counts) != 0) {
				reject(m, "%s: bucketCounts must have one more entry than explicitBounds", name);
				pane_labels_release(&ls);
				continue;
			}
			ok = true;
			double count = (double)jint(json_object_get(dp, "count"), &ok);
			double sum = jnum(json_object_get(dp, "sum"), &ok);
			double cum = 0;
			char le[48];
			for (size_t b = 0; b < json_array_size(counts) && b < nb; b++) {
				cum += (double)jint(json_array_get(counts, b), &ok);
				fmt_bound(le, sizeof le, jnum(json_array_get(bounds, b), &ok));
				put(m, name, "_bucket", &ls, "le", le, ts, novalue ? pane_stale_nan() : cum);
			}
			put(m, name, "_bucket", &ls, "le", "+Inf", ts, novalue ? pane_stale_nan() : count);
			put(m, name, "_count", &ls, NULL, NULL, ts, novalue ? pane_stale_nan() : count);
			if (json_object_get(dp, "sum"))
				put(m, name, "_sum", &ls, NULL, NULL, ts, novalue ? pane_stale_nan() : sum);
		} else if (!strcmp(kind, "summary")) {
			json_t *qv = json_object_get(dp, "quantileValues"), *q;
			size_t k;
			char qs[48];
			ok = true;
			json_array_foreach(qv, k, q) {
				fmt_bound(qs, sizeof qs, jnum(json_object_get(q, "quantile"), &ok));
				put(m, name, "", &ls, "quantile", qs, ts, jnum(json_object_get(q, "value"), &ok));
			}
			put(m, name, "_count", &ls, NULL, NULL, ts, (double)jint(json_object_get(dp, "count"), &ok));
			put(m, name, "_sum", &ls, NULL, NULL, ts, jnum(json_object_get(dp, "sum"), &ok));
		}
		pane_labels_release(&ls);
	}
	m->delta = false;
}

static json_t *load(const char *body, size_t len, const char *top, struct pane_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		pane_err_set(err, PANE_EINVAL, "body is not valid JSON: %s (line %d)", je.text, je.line);
		return NULL;
	}
	if (!json_is_object(root) || !json_is_array(json_object_get(root, top))) {
		json_decref(root);
		pane_err_set(err, PANE_EINVAL, "expected a JSON object with a \"%s\" array", top);
		return NULL;
	}
	return root;
}

/* The one mapping: an ExportMetricsServiceRequest tree (either encoding)
 * to samples and metadata. */
static int metrics_tree(struct pane_pipeline *p, json_t *root, const struct pane_otlp_opts *o,
			struct pane_otlp_result *res, struct pane_err *err)
{
	struct mctx *m = pane_xcalloc(1, sizeof *m);
	m->p = p;
	m->res = res;
	m->now_ms = o->now_ms;
	m->o = o;
	m->err = err;
	json_t *rm, *sm, *met;
	size_t i, j, k;
	json_array_foreach(json_object_get(root, "resourceMetrics"), i, rm) {
		struct pane_labels rl;
		pane_labels_init(&rl);
		attrs_to_labels(json_object_get(json_object_get(rm, "resource"), "attributes"), &rl, true);
		json_array_foreach(json_object_get(rm, "scopeMetrics"), j, sm) {
			json_array_foreach(json_object_get(sm, "metrics"), k, met) {
				json_t *jn = json_object_get(met, "name");
				if (!json_is_string(jn) || json_string_length(jn) == 0) {
					reject(m, "%s", "metric without a name");
					continue;
				}
				char *name = pane_name_sanitize(json_string_value(jn), json_string_length(jn), true);
				static const char *const kinds[] = {"gauge", "sum", "histogram", "summary",
								    "exponentialHistogram"};
				bool known = false;
				for (size_t t = 0; t < 5; t++) {
					json_t *b = json_object_get(met, kinds[t]);
					if (b) {
						points(m, name, kinds[t], b, &rl);
						if (!known)
							meta_add(m, name, kinds[t], met, b);
						known = true;
					}
				}
				if (!known)
					reject(m, "%s: metric without gauge, sum, histogram, exponential histogram or summary data",
					       name);
				free(name);
			}
		}
		pane_labels_release(&rl);
	}
	mflush(m);
	meta_flush(m);
	int rc = m->rc;
	free(m);
	return rc;
}

int pane_otlp_metrics_json(struct pane_pipeline *p, const char *body, size_t len, int64_t now_ms,
			   struct pane_otlp_result *res, struct pane_err *err)
{
	struct pane_otlp_opts o = {.now_ms = now_ms};
	return pane_otlp_metrics(p, body, len, false, &o, res, err);
}

/* The request as a tree: JSON parsed, or protobuf decoded into its JSON
 * mapping (an empty protobuf message has no top array: it gets one). */
static json_t *request_tree(const char *body, size_t len, bool protobuf, const ProtobufCMessageDescriptor *d,
			    const char *top, size_t mem_max, int *rc, struct pane_err *err)
{
	*rc = PANE_EINVAL;
	if (!protobuf)
		return load(body, len, top, err);
	struct pane_err e = {0};
	json_t *root = pane_pbjson_decode(d, body, len, mem_max ? mem_max : (size_t)256 << 20, &e);
	if (!root) {
		*rc = e.code == PANE_ETOOBIG ? PANE_ETOOBIG : PANE_EINVAL;
		if (err)
			*err = e;
		return NULL;
	}
	if (!json_object_get(root, top))
		json_object_set_new(root, top, json_array());
	return root;
}

int pane_otlp_metrics(struct pane_pipeline *p, const char *body, size_t len, bool protobuf,
		      const struct pane_otlp_opts *o, struct pane_otlp_result *res, struct pane_err *err)
{
	memset(res, 0, sizeof *res);
	int rc;
	json_t *root = request_tree(body, len, protobuf, &otlp__export_metrics_service_request__descriptor,
				    "resourceMetrics", o->max_decoded, &rc, err);
	if (!root)
		return rc;
	rc = metrics_tree(p, root, o, res, err);
	json_decref(root);
	return rc;
}

/* severityNumber ranges from the OTLP log data model */
static enum pane_log_severity sev_from_number(int64_t n)
{
	if (n <= 0)
		return PANE_SEV_UNKNOWN;
	if (n <= 8)
		return PANE_SEV_DEBUG;
	if (n <= 12)
		return PANE_SEV_INFO;
	if (n <= 16)
		return PANE_SEV_WARN;
	if (n <= 20)
		return PANE_SEV_ERROR;
	return PANE_SEV_FATAL;
}

int pane_otlp_logs_json(struct pane_pipeline *p, const char *body, size_t len, int64_t now_ms,
			struct pane_otlp_result *res, struct pane_err *err)
{
	struct pane_otlp_opts o = {.now_ms = now_ms};
	return pane_otlp_logs(p, body, len, false, &o, res, err);
}

int pane_otlp_logs(struct pane_pipeline *p, const char *body, size_t len, bool protobuf,
		   const struct pane_otlp_opts *o, struct pane_otlp_result *res, struct pane_err *err)
{
	memset(res, 0, sizeof *res);
	int rc;
	json_t *root = request_tree(body, len, protobuf, &otlp__export_logs_service_request__descriptor,
				    "resourceLogs", o->max_decoded, &rc, err);
	if (!root)
		return rc;
	int64_t now_ms = o->now_ms;
	rc = 0;
	json_t *rl, *sl, *lr;
	size_t i, j, k;
	json_array_foreach(json_object_get(root, "resourceLogs"), i, rl) {
		struct pane_labels labels;
		pane_labels_init(&labels);
		attrs_to_labels(json_object_get(json_object_get(rl, "resource"), "attributes"), &labels, true);
		pane_receivers_fill_defaults(&labels, o->defaults);
		if (!pane_labels_get(&labels, PANE_LABEL_PROVIDER))
			pane_labels_set(&labels, PANE_LABEL_PROVIDER, "app");
		json_array_foreach(json_object_get(rl, "scopeLogs"), j, sl) {
			json_array_foreach(json_object_get(sl, "logRecords"), k, lr) {
				bool ok = true;
				int64_t tns = jint(json_object_get(lr, "timeUnixNano"), &ok);
				if (!ok || tns <= 0) {
					ok = true;
					tns = jint(json_object_get(lr, "observedTimeUnixNano"), &ok);
				}
				int64_t ts = ok && tns > 0 ? tns / 1000000 : now_ms;
				enum pane_log_severity sev = sev_from_number(jint(json_object_get(lr, "severityNumber"), NULL));
				json_t *st = json_object_get(lr, "severityText");
				if (sev == PANE_SEV_UNKNOWN && json_is_string(st))
					sev = pane_log_severity_parse(json_string_value(st), json_string_length(st));
				json_t *b = json_object_get(lr, "body");
				json_t *bs = json_object_get(b, "stringValue");
				char *msg = NULL;
				if (json_is_string(bs)) {
					msg = pane_xstrndup(json_string_value(bs), json_string_length(bs));
				} else if (b) {
					json_t *bj = any_to_json(b);
					msg = json_dumps(bj, JSON_COMPACT | JSON_ENCODE_ANY);
					json_decref(bj);
				}
				json_t *fields = json_object(), *a;
				size_t q;
				json_array_foreach(json_object_get(lr, "attributes"), q, a) {
					json_t *key = json_object_get(a, "key");
					if (json_is_string(key))
						json_object_set_new(fields, json_string_value(key),
								    any_to_json(json_object_get(a, "value")));
				}
				static const char *const ids[] = {"traceId", "spanId"};
				static const char *const fid[] = {"trace_id", "span_id"};
				for (int t = 0; t < 2; t++) {
					json_t *id = json_object_get(lr, ids[t]);
					if (json_is_string(id) && json_string_length(id))
						json_object_set(fields, fid[t], id);
				}
				char *fj = json_object_size(fields) ? json_dumps(fields, JSON_COMPACT) : NULL;
				json_decref(fields);
				struct pane_log_record rec = {.ts_ms = ts, .labels = &labels, .severity = sev,
							      .message = msg ? msg : "", .message_len = msg ? strlen(msg) : 0,
							      .fields_json = fj};
				int64_t ahead = pane_pipeline_max_future(p);
				bool future = ahead > 0 && ts > now_ms + ahead;
				if (future || rec.message_len > PANE_LOG_MESSAGE_MAX) { /* refused alone */
					res->rejected++;
					if (!res->first_error[0] && future)
						snprintf(res->first_error, sizeof res->first_error,
							 "a log timestamp is more than store.max_future ahead of this clock");
					else if (!res->first_error[0])
						snprintf(res->first_error, sizeof res->first_error,
							 "a log record body of %zu bytes is over the %u-byte limit",
							 rec.message_len, PANE_LOG_MESSAGE_MAX);
					free(msg);
					free(fj);
					continue;
				}
				int r = pane_pipeline_write_logs(p, &rec, 1, err);
				free(msg);
				free(fj);
				if (r < 0) {
					rc = r;
					break;
				}
				res->accepted++;
			}
			if (rc < 0)
				break;
		}
		pane_labels_release(&labels);
		if (rc < 0)
			break;
	}
	json_decref(root);
	return rc;
}

void pane_otlp_response_pb(bool metrics, const struct pane_otlp_result *res, struct pane_buf *out)
{
	uint8_t *buf;
	size_t n;
	if (metrics) {
		Otlp__ExportMetricsPartialSuccess ps = OTLP__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
		Otlp__ExportMetricsServiceResponse r = OTLP__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
		ps.rejected_data_points = (int64_t)res->rejected;
		ps.error_message = (char *)(uintptr_t)res->first_error;
		if (res->rejected)
			r.partial_success = &ps;
		n = otlp__export_metrics_service_response__get_packed_size(&r);
		buf = pane_xmalloc(n ? n : 1);
		otlp__export_metrics_service_response__pack(&r, buf);
	} else {
		Otlp__ExportLogsPartialSuccess ps = OTLP__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
		Otlp__ExportLogsServiceResponse r = OTLP__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
		ps.rejected_log_records = (int64_t)res->rejected;
		ps.error_message = (char *)(uintptr_t)res->first_error;
		if (res->rejected)
			r.partial_success = &ps;
		n = otlp__export_logs_service_response__get_packed_size(&r);
		buf = pane_xmalloc(n ? n : 1);
		otlp__export_logs_service_response__pack(&r, buf);
	}
	pane_buf_add(out, buf, n);
	free(buf);
}
