/*
 * statsd.h - StatsD / DogStatsD: line parser, per-interval aggregator, UDP
 * and Unix datagram listener.
 *
 * Three layers, each usable alone, each in its own file:
 *   pane_statsd_parse_line()  one line -> a borrowed view (no allocation);
 *                             statsd_parse.c
 *   struct pane_statsd_agg    lines -> Prometheus-style series, flushed to a
 *                             pipeline once per interval; statsd_agg.c
 *   struct pane_statsd        sockets + a thread that feeds an aggregator;
 *                             statsd_listen.c
 *
 * Mapping (per flush interval):
 *   c  counter   value / sample_rate added to a cumulative `<name>_total`
 *   g  gauge     set, or moved by a leading +N / -N
 *   ms, h, d     summary: `<name>_count`, `<name>_sum` (cumulative),
 *                `<name>{quantile=...}`, `<name>_min`, `<name>_max` (this
 *                interval, from a bounded reservoir), or, with buckets
 *                configured, a histogram `<name>_bucket{le=...}`
 *   s  set       `<name>` = distinct values seen this interval (bounded)
 * DogStatsD tags `|#k:v,bare` become labels (bare tags get value "true");
 * `env:` becomes `environment` (unified service tagging; `service:` and
 * `version:` keep their names). Tags win over opts.extra_labels (the
 * receivers' default labels).
 * Names are sanitised (`api.requests` -> `api_requests`).
 */
#ifndef PANE_RECEIVERS_STATSD_H
#define PANE_RECEIVERS_STATSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/str.h"
#include "pipeline/pipeline.h"

struct pane_stats;

enum pane_statsd_type {
	PANE_STATSD_COUNTER,
	PANE_STATSD_GAUGE,
	PANE_STATSD_TIMER,        /* ms */
	PANE_STATSD_HISTOGRAM,    /* h */
	PANE_STATSD_DISTRIBUTION, /* d */
	PANE_STATSD_SET,          /* s */
};

#define PANE_STATSD_MAX_VALUES 64 /* DogStatsD v1.1 packing: name:1:2:3|d */
#define PANE_STATSD_LINE_MAX 8192 /* longer lines are malformed */

/* One parsed line. Views borrow the input. */
struct pane_statsd_line {
	struct pane_str name;
	enum pane_statsd_type type;
	double values[PANE_STATSD_MAX_VALUES];
	size_t n_values;
	bool gauge_delta;          /* gauge value had a leading + or - */
	struct pane_str set_value; /* raw value of a set */
	double sample_rate;        /* (0, 1]; 1 when absent */
	struct pane_str tags;      /* raw text after '#', may be empty */
};

/* Parses one line (no trailing newline). 0; PANE_EAGAIN for lines that are
 * valid but not metrics (DogStatsD events `_e{` and service checks `_sc|`),
 * which callers skip without counting them as malformed; PANE_EINVAL with a
 * message in err for anything malformed. Never allocates. */
int pane_statsd_parse_line(const char *s, size_t len, struct pane_statsd_line *out, struct pane_err *err);

struct pane_statsd_agg_opts {
	const char *const *extra_labels; /* NULL-terminated name, value pairs, or NULL */
	const double *quantiles;         /* summary quantiles; NULL = 0.5, 0.9, 0.99 */
	size_t n_quantiles;
	const double *buckets; /* histogram upper bounds (ascending); NULL = summaries */
	size_t n_buckets;
	size_t max_series;        /* 0 = 100000 */
	size_t reservoir;         /* values kept per timer per interval; 0 = 1024 */
	size_t max_set_size;      /* distinct values per set per interval; 0 = 10000 */
	int64_t series_ttl_ms;    /* series unseen this long are dropped with a stale marker; 0 = 5 min */
	struct pane_stats *stats; /* optional: counters for accepted/dropped lines */
};

struct pane_statsd_agg;

struct pane_statsd_agg *pane_statsd_agg_new(const struct pane_statsd_agg_opts *opts);
void pane_statsd_agg_free(struct pane_statsd_agg *a);
/* Feeds a datagram of newline-separated lines. Malformed lines are counted
 * and skipped; the good lines of the same packet are kept. Thread-safe.
 * Returns the number of lines accepted. */
size_t pane_statsd_agg_feed(struct pane_statsd_agg *a, const char *pkt, size_t len);
/* Emits every series at ts_ms into p (batches of samples), resets the
 * per-interval state, expires old series (writing a stale marker for each).
 * Thread-safe. 0 or the pipeline's error. */
int pane_statsd_agg_flush(struct pane_statsd_agg *a, struct pane_pipeline *p, int64_t ts_ms, struct pane_err *err);

struct pane_statsd_agg_counts {
	uint64_t lines, malformed, skipped, dropped_series, series;
};
void pane_statsd_agg_counts(struct pane_statsd_agg *a, struct pane_statsd_agg_counts *out);

/* ---- listener ---- */

struct pane_statsd_opts {
	const char *udp_listen;    /* "127.0.0.1:8125"; "" or NULL = no UDP; port 0 picks one */
	const char *unix_path;     /* Unix datagram socket path, or NULL */
	int64_t flush_interval_ms; /* 0 = 10 s */
	size_t rcvbuf;             /* SO_RCVBUF request; 0 = 8 MiB */
	struct pane_statsd_agg_opts agg;
};

struct pane_statsd;

/* Binds the sockets and starts the receiving/flushing thread. NULL with err
 * on a bad address or a bind failure. The pipeline is borrowed. */
struct pane_statsd *pane_statsd_new(struct pane_pipeline *p, const struct pane_statsd_opts *opts, struct pane_err *err);
/* True when the UDP socket is bound to a non-loopback address: anyone who
 * can reach it can write metrics (StatsD has no authentication). */
bool pane_statsd_udp_is_public(const struct pane_statsd *sd);
/* The bound UDP port (useful with port 0), or -1 without UDP. */
int pane_statsd_port(const struct pane_statsd *sd);
struct pane_statsd_agg *pane_statsd_aggregator(struct pane_statsd *sd);
/* Flushes now (from any thread). */
int pane_statsd_flush_now(struct pane_statsd *sd, struct pane_err *err);
/* Stops the thread, flushes once more, closes the sockets, frees. NULL ok. */
void pane_statsd_free(struct pane_statsd *sd);

#endif
