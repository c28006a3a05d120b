/*
 * otlp.c - OTLP/HTTP metrics and logs, protobuf and JSON (see otlp.h).
 *
 * Idea: one mapping for both encodings, over protobuf-c structs. The
 * protobuf form is unpacked by protobuf-c (bounded: pbjson.h); the JSON
 * form is parsed by jansson and filled into the same structs through the
 * descriptors (pane_pb_from_json). The request is then walked once
 * (resource -> scope -> metric -> data point) and each data point is
 * written as soon as its labels are built. The protobuf path - what the
 * SDKs send by default - builds no tree on the way.
 *
 * Invariants:
 *   (1) The body is bounded by the HTTP route before it gets here; the
 *       decoded message by pbjson.h's depth and memory bounds.
 *   (2) One bad data point is counted and skipped; the rest are written.
 *   (3) Label sets honour record.h: names sanitised, values UTF-8 (protobuf
 *       strings are checked here: protobuf-c does not), empty values
 *       dropped, at most PANE_LABELS_MAX (extra attributes are refused with
 *       the point).
 *   (4) Label precedence: the data point's attributes, then the resource's
 *       mapped attributes, then the configured default labels, then
 *       provider="app".
 *   (5) Delta sums and histograms are written as running totals kept in
 *       the caller's struct pane_cumulate (per series, le included);
 *       without one they are refused.
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

static const char *S(const char *s)
{
	return s ? s : "";
}

/* AnyValue -> text for a label value (scalars only); false for others. */
static bool any_to_text(const Otlp__AnyValue *val, struct pane_buf *out)
{
	pane_buf_reset(out);
	if (!val)
		return false;
	switch (val->value_case) {
	case OTLP__ANY_VALUE__VALUE_STRING_VALUE: return pane_buf_adds(out, S(val->string_value)) == 0;
	case OTLP__ANY_VALUE__VALUE_BOOL_VALUE: return pane_buf_adds(out, val->bool_value ? "true" : "false") == 0;
	case OTLP__ANY_VALUE__VALUE_INT_VALUE: return pane_buf_addf(out, "%lld", (long long)val->int_value) == 0;
	case OTLP__ANY_VALUE__VALUE_DOUBLE_VALUE: return pane_buf_addf(out, "%g", val->double_value) == 0;
	default: return false;
	}
}

static json_t *jstr(const char *s)
{
	json_t *j = json_string(S(s)); /* NULL when not UTF-8: such a value is left out */
	return j ? j : json_null();
}

static json_t *jbytes(const ProtobufCBinaryData *b, bool hex)
{
	static const char hx[] = "0123456789abcdef";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = b->len;
	char *s = pane_xmalloc(hex ? 2 * n + 1 : 4 * ((n + 2) / 3) + 1), *o = s;
	for (size_t i = 0; hex && i < n; i++) {
		*o++ = hx[b->data[i] >> 4];
		*o++ = hx[b->data[i] & 15];
	}
	for (size_t i = 0; !hex && i < n; i += 3) {
		uint32_t v = (uint32_t)b->data[i] << 16 | (i + 1 < n ? (uint32_t)b->data[i + 1] << 8 : 0) |
		             (i + 2 < n ? b->data[i + 2] : 0);
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	json_t *j = json_stringn(s, (size_t)(o - s));
	free(s);
	return j;
}

/* AnyValue -> JSON value (for log fields and non-string bodies). */
static json_t *any_to_json(const Otlp__AnyValue *val)
{
	if (!val)
		return json_null();
	switch (val->value_case) {
	case OTLP__ANY_VALUE__VALUE_STRING_VALUE: return jstr(val->string_value);
	case OTLP__ANY_VALUE__VALUE_BOOL_VALUE: return json_boolean(val->bool_value);
	case OTLP__ANY_VALUE__VALUE_INT_VALUE: return json_integer(val->int_value);
	case OTLP__ANY_VALUE__VALUE_DOUBLE_VALUE: {
		double d = val->double_value;
		return isfinite(d) ? json_real(d) : json_string(isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
	}
	case OTLP__ANY_VALUE__VALUE_BYTES_VALUE: return jbytes(&val->bytes_value, false);
	case OTLP__ANY_VALUE__VALUE_ARRAY_VALUE: {
		json_t *arr = json_array();
		for (size_t i = 0; val->array_value && i < val->array_value->n_values; i++)
			json_array_append_new(arr, any_to_json(val->array_value->values[i]));
		return arr;
	}
	case OTLP__ANY_VALUE__VALUE_KVLIST_VALUE: {
		json_t *obj = json_object();
		for (size_t i = 0; val->kvlist_value && i < val->kvlist_value->n_values; i++) {
			const Otlp__KeyValue *kv = val->kvlist_value->values[i];
			json_object_set_new(obj, S(kv->key),
			                    any_to_json(kv->value)); /* refused when the key is not UTF-8 */
		}
		return obj;
	}
	default: return json_null();
	}
}

/* Sets labels from attributes. Resource mode maps the standard keys and
 * ignores the rest; point mode keeps everything. */
static int attrs_to_labels(Otlp__KeyValue *const *attrs, size_t n, struct pane_labels *ls, bool resource)
{
	struct pane_buf v;
	pane_buf_init(&v, PANE_LABEL_VALUE_MAX);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		const char *key = S(attrs[i]->key);
		if (!any_to_text(attrs[i]->value, &v))
			continue;
		const char *name = NULL;
		char *owned = NULL;
		if (strcmp(key, "service.name") == 0)
			name = PANE_LABEL_SERVICE;
		else if (strcmp(key, "deployment.environment") == 0 || strcmp(key, "deployment.environment.name") == 0)
			name = PANE_LABEL_ENVIRONMENT;
		else if (strcmp(key, "service.instance.id") == 0)
			name = PANE_LABEL_INSTANCE;
		else if (!resource)
			name = pane_label_name_valid(key, strlen(key))
			           ? key /* the common case: no copy */
			           : (owned = pane_name_sanitize(key, strlen(key), false));
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
	bool take;  /* the next put() may move its label set instead of copying it */
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
static void meta_add(struct mctx *m, const char *name, const Otlp__Metric *met)
{
	enum pane_metric_type t = PANE_METRIC_GAUGE;
	const char *suffix = "";
	switch (met->data_case) {
	case OTLP__METRIC__DATA_SUM:
		if (met->sum->is_monotonic) {
			size_t nl = strlen(name);
			t = PANE_METRIC_COUNTER;
			if (!(nl >= 6 && strcmp(name + nl - 6, "_total") == 0))
				suffix = "_total";
		}
		break;
	case OTLP__METRIC__DATA_HISTOGRAM:
	case OTLP__METRIC__DATA_EXPONENTIAL_HISTOGRAM: t = PANE_METRIC_HISTOGRAM; break;
	case OTLP__METRIC__DATA_SUMMARY: t = PANE_METRIC_SUMMARY; break;
	default: break;
	}
	const char *help = S(met->description), *unit = S(met->unit);
	size_t hl = strlen(help), ul = strlen(unit);
	if (!pane_utf8_valid(help, hl))
		hl = 0;
	if (ul > PANE_METADATA_UNIT_MAX || !pane_utf8_valid(unit, ul))
		ul = 0; /* not a unit; keep the rest of the entry */
	if (m->n_meta == sizeof m->meta / sizeof m->meta[0])
		meta_flush(m);
	size_t nl = strlen(name), sl = strlen(suffix);
	char *full = pane_xmalloc(nl + sl + 1);
	memcpy(full, name, nl);
	memcpy(full + nl, suffix, sl + 1);
	m->meta[m->n_meta++] = (struct pane_metadata){
	    .name = full,
	    .type = t,
	    .help = pane_xstrndup(help, pane_utf8_cut(help, hl, PANE_METADATA_HELP_MAX)),
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

static void put(struct mctx *m, const char *name, const char *suffix, struct pane_labels *base, const char *xl,
                const char *xv, int64_t ts, double v)
{
	if (m->n == 256)
		mflush(m);
	size_t nl = strlen(name), sl = strlen(suffix);
	char *full = pane_xmalloc(nl + sl + 1);
	memcpy(full, name, nl);
	memcpy(full + nl, suffix, sl + 1);
	m->names[m->n] = full;
	if (m->take) { /* the caller's set, moved in (its last use): no copy */
		m->lsets[m->n] = *base;
		pane_labels_init(base);
		m->take = false;
	} else {
		pane_labels_copy(&m->lsets[m->n], base);
	}
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
static bool expo_buckets(struct mctx *m, const char *name, const Otlp__ExponentialHistogramDataPoint *dp,
                         struct pane_labels *ls, int64_t ts, bool novalue)
{
	const Otlp__ExponentialHistogramDataPoint__Buckets *pos = dp->positive, *neg = dp->negative;
	size_t np = pos ? pos->n_bucket_counts : 0, nn = neg ? neg->n_bucket_counts : 0;
	int64_t po = pos ? pos->offset : 0, no = neg ? neg->offset : 0;
	if (dp->scale < -10 || dp->scale > 20) {
		reject(m, "%s: exponential histogram scale must be between -10 and 20", name);
		return false;
	}
	if (np + nn > EXPO_MAX_BUCKETS || llabs(po) > (1 << 24) || llabs(no) > (1 << 24)) {
		reject(m, "%s: exponential histogram with more than %d buckets or offsets out of range", name,
		       EXPO_MAX_BUCKETS);
		return false;
	}
	double width = ldexp(1.0, -dp->scale); /* log2 of base */
	double cum = 0, count = (double)dp->count, stale = pane_stale_nan();
	char le[48];
	for (size_t k = nn; k-- > 0;) {
		cum += (double)neg->bucket_counts[k];
		fmt_bound(le, sizeof le, -exp2((double)(no + (int64_t)k) * width));
		put(m, name, "_bucket", ls, "le", le, ts, novalue ? stale : cum);
	}
	cum += (double)dp->zero_count;
	fmt_bound(le, sizeof le, dp->zero_threshold > 0 ? dp->zero_threshold : 0);
	put(m, name, "_bucket", ls, "le", le, ts, novalue ? stale : cum);
	for (size_t k = 0; k < np; k++) {
		cum += (double)pos->bucket_counts[k];
		fmt_bound(le, sizeof le, exp2((double)(po + (int64_t)k + 1) * width));
		put(m, name, "_bucket", ls, "le", le, ts, novalue ? stale : cum);
	}
	put(m, name, "_bucket", ls, "le", "+Inf", ts, novalue ? stale : count);
	put(m, name, "_count", ls, NULL, NULL, ts, novalue ? stale : count);
	if (dp->sum_present_case == OTLP__EXPONENTIAL_HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM)
		put(m, name, "_sum", ls, NULL, NULL, ts, novalue ? stale : dp->sum);
	return true;
}

/* What every data point kind shares. */
struct point {
	Otlp__KeyValue **attrs;
	size_t n_attrs;
	uint64_t time_ns;
	uint32_t flags;
};

/* The point's label set (into ls, initialised here) and time; false after
 * rejecting it. */
static bool point_begin(struct mctx *m, const char *name, const struct point *pt, const struct pane_labels *res,
                        struct pane_labels *ls, int64_t *ts)
{
	pane_labels_copy(ls, res);
	if (attrs_to_labels(pt->attrs, pt->n_attrs, ls, false) < 0) {
		reject(m, "%s: data point attributes are invalid or too many", name);
		pane_labels_release(ls);
		return false;
	}
	pane_receivers_fill_defaults(ls, m->o->defaults);
	if (!pane_labels_get(ls, PANE_LABEL_PROVIDER))
		pane_labels_set(ls, PANE_LABEL_PROVIDER, "app");
	*ts = pt->time_ns > 0 && pt->time_ns <= INT64_MAX ? (int64_t)(pt->time_ns / 1000000) : m->now_ms;
	return true;
}

static bool delta_ok(struct mctx *m, const char *name, Otlp__AggregationTemporality t)
{
	m->delta = t == OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA;
	if (m->delta && !m->o->deltas) {
		reject(m, "%s: delta temporality is not supported (send cumulative)", name);
		return false;
	}
	return true;
}

static void metric(struct mctx *m, const char *name, const Otlp__Metric *met, const struct pane_labels *res)
{
	struct pane_labels ls;
	int64_t ts;
	double stale = pane_stale_nan();
	switch (met->data_case) {
	case OTLP__METRIC__DATA_GAUGE:
	case OTLP__METRIC__DATA_SUM: {
		bool is_sum = met->data_case == OTLP__METRIC__DATA_SUM;
		size_t n = is_sum ? met->sum->n_data_points : met->gauge->n_data_points;
		Otlp__NumberDataPoint **dps = is_sum ? met->sum->data_points : met->gauge->data_points;
		size_t nl = strlen(name);
		bool total = is_sum && met->sum->is_monotonic && !(nl >= 6 && strcmp(name + nl - 6, "_total") == 0);
		for (size_t i = 0; i < n; i++) {
			const Otlp__NumberDataPoint *dp = dps[i];
			struct point pt = {dp->attributes, dp->n_attributes, dp->time_unix_nano, dp->flags};
			if (is_sum && !delta_ok(m, name, met->sum->aggregation_temporality))
				continue;
			if (!point_begin(m, name, &pt, res, &ls, &ts))
				continue;
			bool novalue = dp->flags & 1;
			double v;
			if (dp->value_case == OTLP__NUMBER_DATA_POINT__VALUE_AS_DOUBLE)
				v = dp->as_double;
			else if (dp->value_case == OTLP__NUMBER_DATA_POINT__VALUE_AS_INT)
				v = (double)dp->as_int;
			else if (novalue)
				v = stale;
			else {
				reject(m, "%s: data point without asDouble/asInt", name);
				pane_labels_release(&ls);
				continue;
			}
			m->take = true;
			put(m, name, total ? "_total" : "", &ls, NULL, NULL, ts, novalue ? stale : v);
			pane_labels_release(&ls); /* empty when moved */
		}
		break;
	}
	case OTLP__METRIC__DATA_HISTOGRAM:
		for (size_t i = 0; i < met->histogram->n_data_points; i++) {
			const Otlp__HistogramDataPoint *dp = met->histogram->data_points[i];
			struct point pt = {dp->attributes, dp->n_attributes, dp->time_unix_nano, dp->flags};
			if (!delta_ok(m, name, met->histogram->aggregation_temporality) ||
			    !point_begin(m, name, &pt, res, &ls, &ts))
				continue;
			size_t nb = dp->n_explicit_bounds;
			if (dp->n_bucket_counts != nb + 1 && dp->n_bucket_counts != 0) {
				reject(m, "%s: bucketCounts must have one more entry than explicitBounds", name);
				pane_labels_release(&ls);
				continue;
			}
			bool novalue = dp->flags & 1;
			double cum = 0, count = (double)dp->count;
			char le[48];
			for (size_t b = 0; b < dp->n_bucket_counts && b < nb; b++) {
				cum += (double)dp->bucket_counts[b];
				fmt_bound(le, sizeof le, dp->explicit_bounds[b]);
				put(m, name, "_bucket", &ls, "le", le, ts, novalue ? stale : cum);
			}
			put(m, name, "_bucket", &ls, "le", "+Inf", ts, novalue ? stale : count);
			put(m, name, "_count", &ls, NULL, NULL, ts, novalue ? stale : count);
			if (dp->sum_present_case == OTLP__HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM)
				put(m, name, "_sum", &ls, NULL, NULL, ts, novalue ? stale : dp->sum);
			pane_labels_release(&ls);
		}
		break;
	case OTLP__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
		for (size_t i = 0; i < met->exponential_histogram->n_data_points; i++) {
			const Otlp__ExponentialHistogramDataPoint *dp = met->exponential_histogram->data_points[i];
			struct point pt = {dp->attributes, dp->n_attributes, dp->time_unix_nano, dp->flags};
			if (!delta_ok(m, name, met->exponential_histogram->aggregation_temporality) ||
			    !point_begin(m, name, &pt, res, &ls, &ts))
				continue;
			expo_buckets(m, name, dp, &ls, ts, dp->flags & 1);
			pane_labels_release(&ls);
		}
		break;
	case OTLP__METRIC__DATA_SUMMARY:
		m->delta = false;
		for (size_t i = 0; i < met->summary->n_data_points; i++) {
			const Otlp__SummaryDataPoint *dp = met->summary->data_points[i];
			struct point pt = {dp->attributes, dp->n_attributes, dp->time_unix_nano, dp->flags};
			if (!point_begin(m, name, &pt, res, &ls, &ts))
				continue;
			char qs[48];
			for (size_t k = 0; k < dp->n_quantile_values; k++) {
				fmt_bound(qs, sizeof qs, dp->quantile_values[k]->quantile);
				put(m, name, "", &ls, "quantile", qs, ts, dp->quantile_values[k]->value);
			}
			put(m, name, "_count", &ls, NULL, NULL, ts, (double)dp->count);
			put(m, name, "_sum", &ls, NULL, NULL, ts, dp->sum);
			pane_labels_release(&ls);
		}
		break;
	default:
		reject(m, "%s: metric without gauge, sum, histogram, exponential histogram or summary data", name);
		break;
	}
	m->delta = false;
}

/* The one mapping: an ExportMetricsServiceRequest (either encoding) to
 * samples and metadata. */
static int metrics_map(struct pane_pipeline *p, const Otlp__ExportMetricsServiceRequest *req,
                       const struct pane_otlp_opts *o, struct pane_otlp_result *res, struct pane_err *err)
{
	struct mctx *m = pane_xcalloc(1, sizeof *m);
	m->p = p;
	m->res = res;
	m->now_ms = o->now_ms;
	m->o = o;
	m->err = err;
	for (size_t i = 0; i < req->n_resource_metrics; i++) {
		const Otlp__ResourceMetrics *rm = req->resource_metrics[i];
		struct pane_labels rl;
		pane_labels_init(&rl);
		if (rm->resource)
			attrs_to_labels(rm->resource->attributes, rm->resource->n_attributes, &rl, true);
		for (size_t j = 0; j < rm->n_scope_metrics; j++) {
			const Otlp__ScopeMetrics *sm = rm->scope_metrics[j];
			for (size_t k = 0; k < sm->n_metrics; k++) {
				const Otlp__Metric *met = sm->metrics[k];
				const char *mn = S(met->name);
				if (!mn[0]) {
					reject(m, "%s", "metric without a name");
					continue;
				}
				if (strlen(mn) + strlen("_bucket") > PANE_METRIC_NAME_MAX) { /* room for every suffix */
					reject(m, "a metric name is longer than %d bytes",
					       PANE_METRIC_NAME_MAX - (int)strlen("_bucket"));
					continue;
				}
				char *name = pane_name_sanitize(mn, strlen(mn), true);
				metric(m, name, met, &rl);
				if (met->data_case != OTLP__METRIC__DATA__NOT_SET)
					meta_add(m, name, met);
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

/* The request as protobuf-c structs: unpacked, or filled from its JSON
 * form. NULL with *rc and err set. */
static ProtobufCMessage *request(const char *body, size_t len, bool protobuf, const ProtobufCMessageDescriptor *d,
                                 const char *top, size_t mem_max, int *rc, struct pane_err *err)
{
	*rc = PANE_EINVAL;
	if (protobuf) {
		struct pane_err e = {0};
		ProtobufCMessage *msg = pane_pb_unpack(d, body, len, mem_max ? mem_max : (size_t)256 << 20, &e);
		if (!msg) {
			*rc = e.code == PANE_ETOOBIG ? PANE_ETOOBIG : PANE_EINVAL;
			if (err)
				*err = e;
		}
		return msg;
	}
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
	ProtobufCMessage *msg = pane_pb_from_json(d, root);
	json_decref(root);
	return msg;
}

int pane_otlp_metrics(struct pane_pipeline *p, const char *body, size_t len, bool protobuf,
                      const struct pane_otlp_opts *o, struct pane_otlp_result *res, struct pane_err *err)
{
	memset(res, 0, sizeof *res);
	int rc;
	ProtobufCMessage *msg = request(body, len, protobuf, &otlp__export_metrics_service_request__descriptor,
	                                "resourceMetrics", o->max_decoded, &rc, err);
	if (!msg)
		return rc;
	rc = metrics_map(p, (const Otlp__ExportMetricsServiceRequest *)msg, o, res, err);
	protobuf_c_message_free_unpacked(msg, NULL);
	return rc;
}

int pane_otlp_metrics_json(struct pane_pipeline *p, const char *body, size_t len, int64_t now_ms,
                           struct pane_otlp_result *res, struct pane_err *err)
{
	struct pane_otlp_opts o = {.now_ms = now_ms};
	return pane_otlp_metrics(p, body, len, false, &o, res, err);
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

static void lreject(struct pane_otlp_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lreject(struct pane_otlp_result *res, const char *fmt, ...)
{
	res->rejected++;
	if (res->first_error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->first_error, sizeof res->first_error, fmt, ap);
	va_end(ap);
}

/* One log record; 0, or the pipeline's error. */
static int log_record(struct pane_pipeline *p, const Otlp__LogRecord *lr, const struct pane_labels *labels,
                      int64_t now_ms, struct pane_otlp_result *res, struct pane_err *err)
{
	uint64_t tns = lr->time_unix_nano ? lr->time_unix_nano : lr->observed_time_unix_nano;
	int64_t ts = tns > 0 && tns <= INT64_MAX ? (int64_t)(tns / 1000000) : now_ms;
	enum pane_log_severity sev = sev_from_number(lr->severity_number);
	const char *st = S(lr->severity_text);
	if (sev == PANE_SEV_UNKNOWN && st[0])
		sev = pane_log_severity_parse(st, strlen(st));
	char *msg = NULL;
	const Otlp__AnyValue *b = lr->body;
	if (b && b->value_case == OTLP__ANY_VALUE__VALUE_STRING_VALUE) {
		msg = pane_xstrdup(S(b->string_value));
		if (!pane_utf8_valid(msg, strlen(msg))) {
			free(msg);
			lreject(res, "a log record body is not UTF-8");
			return 0;
		}
	} else if (b && b->value_case != OTLP__ANY_VALUE__VALUE__NOT_SET) {
		json_t *bj = any_to_json(b);
		msg = json_dumps(bj, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(bj);
	}
	json_t *fields = json_object();
	for (size_t q = 0; q < lr->n_attributes; q++)
		json_object_set_new(fields, S(lr->attributes[q]->key), any_to_json(lr->attributes[q]->value));
	if (lr->trace_id.len)
		json_object_set_new(fields, "trace_id", jbytes(&lr->trace_id, true));
	if (lr->span_id.len)
		json_object_set_new(fields, "span_id", jbytes(&lr->span_id, true));
	char *fj = json_object_size(fields) ? json_dumps(fields, JSON_COMPACT) : NULL;
	json_decref(fields);
	struct pane_log_record rec = {.ts_ms = ts,
	                              .labels = labels,
	                              .severity = sev,
	                              .message = msg ? msg : "",
	                              .message_len = msg ? strlen(msg) : 0,
	                              .fields_json = fj};
	int64_t ahead = pane_pipeline_max_future(p);
	int rc = 0;
	if (ahead > 0 && ts > now_ms + ahead) /* refused alone */
		lreject(res, "a log timestamp is more than store.max_future ahead of this clock");
	else if (rec.message_len > PANE_LOG_MESSAGE_MAX)
		lreject(res, "a log record body of %zu bytes is over the %u-byte limit", rec.message_len,
		        PANE_LOG_MESSAGE_MAX);
	else if ((rc = pane_pipeline_write_logs(p, &rec, 1, err)) == 0)
		res->accepted++;
	free(msg);
	free(fj);
	return rc;
}

int pane_otlp_logs(struct pane_pipeline *p, const char *body, size_t len, bool protobuf, const struct pane_otlp_opts *o,
                   struct pane_otlp_result *res, struct pane_err *err)
{
	memset(res, 0, sizeof *res);
	int rc;
	ProtobufCMessage *msg = request(body, len, protobuf, &otlp__export_logs_service_request__descriptor,
	                                "resourceLogs", o->max_decoded, &rc, err);
	if (!msg)
		return rc;
	const Otlp__ExportLogsServiceRequest *req = (const Otlp__ExportLogsServiceRequest *)msg;
	rc = 0;
	for (size_t i = 0; i < req->n_resource_logs && rc == 0; i++) {
		const Otlp__ResourceLogs *rl = req->resource_logs[i];
		struct pane_labels labels;
		pane_labels_init(&labels);
		if (rl->resource)
			attrs_to_labels(rl->resource->attributes, rl->resource->n_attributes, &labels, true);
		pane_receivers_fill_defaults(&labels, o->defaults);
		if (!pane_labels_get(&labels, PANE_LABEL_PROVIDER))
			pane_labels_set(&labels, PANE_LABEL_PROVIDER, "app");
		for (size_t j = 0; j < rl->n_scope_logs && rc == 0; j++)
			for (size_t k = 0; k < rl->scope_logs[j]->n_log_records && rc == 0; k++)
				rc = log_record(p, rl->scope_logs[j]->log_records[k], &labels, o->now_ms, res, err);
		pane_labels_release(&labels);
	}
	protobuf_c_message_free_unpacked(msg, NULL);
	return rc;
}

int pane_otlp_logs_json(struct pane_pipeline *p, const char *body, size_t len, int64_t now_ms,
                        struct pane_otlp_result *res, struct pane_err *err)
{
	struct pane_otlp_opts o = {.now_ms = now_ms};
	return pane_otlp_logs(p, body, len, false, &o, res, err);
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
