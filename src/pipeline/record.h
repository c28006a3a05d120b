/*
 * record.h - the three record kinds every source and receiver emits.
 *
 * This header is the seam of the monitoring half: producers (sources,
 * receivers, the queue's self-metrics) build records with these types and
 * hand them to the pipeline (pipeline.h); the store and the outputs consume
 * them through the sink interface (sink.h). Producers never include store
 * headers, and sinks never know which producer wrote a record.
 *
 * Ownership: a record and everything it points to are *borrowed* by the
 * consumer for the duration of one write call. A sink that keeps anything
 * copies it.
 *
 * Label sets are sorted by name with unique names, values non-empty (an
 * empty value means "no such label", as in Prometheus). The metric name is
 * separate from the labels; where a label-set view including the name is
 * needed it is spelled __name__.
 */
#ifndef PANE_PIPELINE_RECORD_H
#define PANE_PIPELINE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

/* Standard labels that tie everything to a place. */
#define PANE_LABEL_PROVIDER "provider" /* supabase | render | sentry | postgres | pane | app */
#define PANE_LABEL_SERVICE "service"
#define PANE_LABEL_ENVIRONMENT "environment"
/* the environment of what names none (the sources' default, pane's own series) */
#define PANE_DEFAULT_ENVIRONMENT "production"
#define PANE_LABEL_INSTANCE "instance"

/* Bounds that keep hostile input from costing unbounded memory. */
#define PANE_LABELS_MAX 64        /* labels per series */
#define PANE_LABEL_NAME_MAX 256   /* bytes */
#define PANE_LABEL_VALUE_MAX 4096 /* bytes */
#define PANE_METRIC_NAME_MAX 256  /* bytes */

struct pane_label {
	const char *name;
	const char *value;
};

/* A label set. When built with pane_labels_add() it owns its strings;
 * a literal array may also be wrapped for a call (owned = false). */
struct pane_labels {
	struct pane_label *v;
	size_t n;
	size_t cap;
	bool owned;
};

/* Empty set that will own copies of what is added. Cannot fail. */
void pane_labels_init(struct pane_labels *ls);
void pane_labels_release(struct pane_labels *ls);
/* Adds (copies) a label, replacing an existing one of the same name; an
 * empty value removes the label. Keeps the set sorted. 0, or PANE_EINVAL for
 * an invalid name, PANE_ETOOBIG past the bounds above. */
int pane_labels_set(struct pane_labels *ls, const char *name, const char *value);
int pane_labels_setn(struct pane_labels *ls, const char *name, size_t nlen, const char *value, size_t vlen);
/* Value of a label or NULL. */
const char *pane_labels_get(const struct pane_labels *ls, const char *name);
/* Appends {"name":"value",...} in the set's order; NULL appends {}. */
struct pane_buf;
void pane_labels_json(const struct pane_labels *ls, struct pane_buf *b);
/* The same as one value of a base/json.h writer (its comma handled). */
struct pane_json;
void pane_labels_json_value(struct pane_json *j, const struct pane_labels *ls);
/* Deep copy into dst (initialised by this call). */
void pane_labels_copy(struct pane_labels *dst, const struct pane_labels *src);
/* -1/0/1 ordering by (name, value) pairs, as Prometheus orders label sets. */
int pane_labels_cmp(const struct pane_labels *a, const struct pane_labels *b);
/* Hash of the set (stable within a process). */
uint64_t pane_labels_hash(const struct pane_labels *ls);

/* Prometheus naming rules: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]* (names starting with "__" are reserved). */
bool pane_metric_name_valid(const char *s, size_t len);
bool pane_label_name_valid(const char *s, size_t len);
/* Replaces every invalid character with '_' (and prefixes '_' to a leading
 * digit) so foreign names (StatsD, OTLP "service.name") become valid. Returns
 * a heap string; caller frees. */
char *pane_name_sanitize(const char *s, size_t len, bool metric);

/* The value Prometheus writes to mark a series stale (a NaN with a payload). */
#define PANE_STALE_NAN_BITS 0x7ff0000000000002ull
double pane_stale_nan(void);
bool pane_is_stale_nan(double v);

struct pane_sample {
	const char *name; /* metric name, valid per the rules above */
	const struct pane_labels *labels;
	int64_t ts_ms; /* Unix milliseconds */
	double value;  /* any double, including NaN, +-Inf, stale marker */
};

enum pane_log_severity {
	PANE_SEV_UNKNOWN = 0,
	PANE_SEV_DEBUG,
	PANE_SEV_INFO,
	PANE_SEV_WARN,
	PANE_SEV_ERROR,
	PANE_SEV_FATAL,
};

/* The longest log message a sink takes; receivers refuse longer ones one by
 * one (a permanent 4xx-class error for that line, never a retryable 503). */
#define PANE_LOG_MESSAGE_MAX (1u << 20)

struct pane_log_record {
	int64_t ts_ms;
	const struct pane_labels *labels; /* provider, service, environment, source, ... */
	enum pane_log_severity severity;
	const char *message; /* UTF-8, message_len bytes (not NUL-terminated necessarily) */
	size_t message_len;
	const char *fields_json; /* a JSON object as text, or NULL */
};

struct pane_event {
	int64_t ts_ms;
	const char *kind; /* "deploy", "issue", "alert", "job", "release", ... */
	const struct pane_labels *labels;
	const char *title;
	const char *url;       /* may be NULL */
	const char *body_json; /* a JSON object as text, or NULL */
	const char *dedup_key; /* optional: same key + kind + ts = same event (idempotent re-import) */
};

/* Metric metadata: what Prometheus keeps per metric family from # HELP,
 * # TYPE and # UNIT (and remote_write's metadata, OTLP's metric kinds).
 * The values are remote_write's MetricMetadata.MetricType numbers. */
enum pane_metric_type {
	PANE_METRIC_UNKNOWN = 0,
	PANE_METRIC_COUNTER = 1,
	PANE_METRIC_GAUGE = 2,
	PANE_METRIC_HISTOGRAM = 3,
	PANE_METRIC_GAUGEHISTOGRAM = 4,
	PANE_METRIC_SUMMARY = 5,
	PANE_METRIC_INFO = 6,
	PANE_METRIC_STATESET = 7,
};

#define PANE_METADATA_HELP_MAX 4096 /* bytes of help text kept (longer text is cut at a character) */
#define PANE_METADATA_UNIT_MAX 256  /* bytes */

struct pane_metadata {
	const char *name; /* metric family name (no _total/_bucket suffix), valid per the rules above */
	enum pane_metric_type type;
	const char *help; /* UTF-8, at most PANE_METADATA_HELP_MAX bytes; "" when none */
	const char *unit; /* "" when none */
};

/* "counter", "gauge", ..., "unknown": the names Prometheus' API answers. */
const char *pane_metric_type_name(enum pane_metric_type t);
/* A # TYPE word (exact case; "untyped" is the text format's "unknown").
 * 0, or PANE_EINVAL for anything else. */
int pane_metric_type_parse(const char *s, size_t len, enum pane_metric_type *out);
/* Length of the longest prefix of s[0..len) that is at most max bytes and
 * does not end inside a UTF-8 sequence (for cutting help text). */
size_t pane_utf8_cut(const char *s, size_t len, size_t max);

/* "debug"/"info"/"warning"/"error"/... (case-insensitive, common aliases) */
enum pane_log_severity pane_log_severity_parse(const char *s, size_t len);
const char *pane_log_severity_name(enum pane_log_severity sev);

#endif
