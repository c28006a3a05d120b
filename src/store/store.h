/*
 * store.h - pane's embedded store for metrics, logs and events.
 *
 * One directory holds everything:
 *   chunks/d<DAY>.seg  the sealed, compressed segments of one UTC day (a
 *                partition: appended to, never rewritten; retention deletes
 *                the whole file);
 *   metrics.db   SQLite (WAL mode): the series catalog and, per day, the
 *                index of that day's segments and their downsampled tiers
 *                (s_<DAY>; t_<DAY> for stored timestamp columns; a_<DAY> in
 *                days of earlier panes; dropped with the day);
 *   wal          pane's own write-ahead log of acknowledged samples that
 *                are not yet in segments (CRC-checked records);
 *   head         the spilled blocks of in-memory heads (rebuilt from the
 *                WAL on open, never fsync'ed);
 *   logs.db      SQLite (WAL mode): log lines (FTS5 trigram index on the
 *                message), events, and metric metadata (HELP/TYPE/UNIT).
 *
 * Writes: a sample batch is acknowledged once it is in the WAL (written
 * with write(2), so it survives kill -9; fdatasync per batch or per
 * interval, see fsync), then lands in an in-memory head per series; a
 * background housekeeping thread persists each day (24 h window) of a series as a
 * segment (codec.h) once the series moves on. The files and their
 * invariants: internal.h.
 * Reads go through the query engine's seam (reader.h).
 *
 * Threads: every function may be called from any thread; the metrics side
 * is serialised by one mutex, logs/events by another. The store runs one
 * thread of its own (housekeeping), from open to close.
 *
 * Ownership with the pipeline: pane_store_sink() hands out a sink whose
 * close() only flushes; the store itself is freed by pane_store_close(),
 * which the owner (the daemon's stop callback, `pane import`) calls after
 * the pipeline is freed.
 */
#ifndef PANE_STORE_STORE_H
#define PANE_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "pipeline/logreader.h"
#include "pipeline/record.h"
#include "pipeline/sink.h"
#include "pipeline/reader.h"

/* The aligned window a segment holds of a series (internal.h, WINDOW_MS):
 * a write that moves every series into the next one rolls them all. */
#define PANE_STORE_WINDOW_MS (24 * 3600 * 1000LL) /* a UTC day (12 h or 6 h in earlier panes) */

struct pane_store;
struct pane_stats;
struct pane_host;

enum pane_store_fsync {
	PANE_FSYNC_BATCH = 0,    /* fdatasync the WAL before acknowledging each batch */
	PANE_FSYNC_INTERVAL = 1, /* at most every fsync_interval_ms (kill -9 safe; power loss loses <= interval) */
	PANE_FSYNC_NEVER = 2,    /* leave it to the kernel (benchmarks, imports: `pane import` syncs at the end) */
};

struct pane_store_opts {
	const char *dir;               /* created when missing */
	int64_t retention_ms;          /* drop data older than this; 0 = keep */
	int64_t retention_bytes;       /* drop oldest days past this size; 0 = no limit */
	int64_t ooo_window_ms;         /* accept samples this far behind a series' newest; older are rejected */
	int64_t max_future_ms;         /* reject samples further ahead of the clock (default 1 d); 0 = any */
	int64_t max_series;            /* 0 = unlimited */
	int64_t max_series_per_metric; /* 0 = unlimited */
	enum pane_store_fsync fsync;
	int64_t fsync_interval_ms;   /* for PANE_FSYNC_INTERVAL (default 1000) */
	int64_t wal_max_bytes;       /* checkpoint the WAL past this (default 64 MiB) */
	int zstd_level;              /* segments (default 9) */
	unsigned tiers;              /* PANE_TIER_* stored with each segment (default 1 h); a tier not
	                              * stored is computed from raw samples when read */
	bool no_wal;                 /* bulk loads only (`pane import`): writes skip the WAL, so a
	                              * crash loses what was not yet persisted; close() persists all */
	int64_t log_retention_ms;    /* logs and events; 0 = keep */
	int64_t log_retention_bytes; /* logs.db size limit; 0 = none */
	struct pane_stats *stats;    /* counters are registered here when non-NULL */
};

/* Defaults for every field (dir left NULL). */
void pane_store_opts_default(struct pane_store_opts *o);

/* Opens (creating) the store in o->dir and replays the WAL; a torn or
 * corrupt WAL tail is cut with a warning. NULL with err set on failure. */
struct pane_store *pane_store_open(const struct pane_store_opts *o, struct pane_err *err);
/* Persists everything, empties the WAL and frees. NULL is a no-op. */
void pane_store_close(struct pane_store *st);

/* Samples: see sink.h for the contract. Rejected samples (too old, over a
 * cardinality limit, invalid name) are counted and skipped; the call fails
 * only when nothing could be made durable. *accepted (may be NULL) counts
 * the samples taken. */
int pane_store_write(struct pane_store *st, const struct pane_sample *s, size_t n, size_t *accepted,
                     struct pane_err *err);
/* pane_store_write for writers that meet the same series again and again
 * (`pane import`, through its series cache): refs[i] is sample i's series
 * as this store named it on an earlier call, or 0. A 0 is resolved from
 * s[i]'s name and labels as pane_store_write does, and refs[i] is set to
 * the series (0 when the sample had none: rejected before, or by, a series
 * limit); the caller keeps it for the next sample of the same series. A
 * nonzero ref is trusted: it must have been set by this store, open since,
 * for the same name and labels (refs stay valid while the store is open).
 * refs may be NULL (= pane_store_write). */
int pane_store_write_refs(struct pane_store *st, const struct pane_sample *s, uint32_t *refs, size_t n,
                          size_t *accepted, struct pane_err *err);
/* fdatasync the WAL and commit. */
int pane_store_flush(struct pane_store *st, struct pane_err *err);
/* Housekeeping, every minute or so: retention (age, size), WAL checkpoint. */
int pane_store_maintain(struct pane_store *st, int64_t now_ms, struct pane_err *err);
/* What the store's own housekeeping thread does in the background, done
 * now until nothing is left: persists the heads frozen by window rolls,
 * compacts the head file, checkpoints a WAL past wal_max_bytes. Writes
 * never persist (see store.c); tests and benchmarks call this to reach a
 * settled state. */
int pane_store_housekeep(struct pane_store *st, struct pane_err *err);

struct pane_store_counters {
	uint64_t series, samples, rejected_old, rejected_future, rejected_series, rejected_invalid;
	uint64_t chunks_xor, chunks_dec, chunks_const; /* codec choices (measured per chunk); xor: a float
	                                                * codec (XOR or F64_ANS), dec: a decimal one */
	uint64_t segments, ts_shared, ts_regular;      /* ts_shared: segments that reused another's timestamp column;
	                                                * ts_regular: that need none (evenly spaced) */
	uint64_t wal_bytes, wal_cut_bytes, partitions_dropped;
	uint64_t persist_inline; /* frozen heads a write had to persist (a second roll before housekeeping ran) */
	uint64_t logs, events;
};
void pane_store_get_counters(struct pane_store *st, struct pane_store_counters *out);
/* Bytes on disk of every file in the store directory. */
int64_t pane_store_disk_bytes(struct pane_store *st);

struct pane_sink pane_store_sink(struct pane_store *st);
struct pane_reader pane_store_reader(struct pane_store *st);

/* Downsampled reads, for long ranges (a 30-day chart): like the reader's
 * select, but each returned sample is one bucket of `step` ms (300000 = 5 min
 * or 3600000 = 1 h, stored with every segment): timestamp = bucket start,
 * value = the aggregate of the bucket's samples, stale markers left out.
 * Data still in memory is aggregated on the fly. Free with set->free(set). */
enum { PANE_TIER_5M = 1u << 0, PANE_TIER_1H = 1u << 1 };
enum pane_tier_agg { PANE_AGG_MIN, PANE_AGG_MAX, PANE_AGG_SUM, PANE_AGG_COUNT, PANE_AGG_LAST, PANE_AGG_AVG };
/* "none", "1h", "5m", "5m,1h" (any order) -> PANE_TIER_* mask; 0 or PANE_EINVAL. */
int pane_store_parse_tiers(const char *s, unsigned *mask);
int pane_store_select_tier(struct pane_store *st, int64_t step, enum pane_tier_agg agg, const struct pane_matcher *m,
                           size_t n_matchers, int64_t mint, int64_t maxt, size_t max_samples,
                           struct pane_series_set **out, struct pane_err *err);

/* ---- logs and events ---- */

int pane_store_write_logs(struct pane_store *st, const struct pane_log_record *l, size_t n, struct pane_err *err);
int pane_store_write_events(struct pane_store *st, const struct pane_event *e, size_t n, struct pane_err *err);

/* Metric metadata, one row per family name (last writer wins). Entries
 * with an invalid name or help/unit over record.h's bounds are skipped with
 * a (rate-limited) warning; the call fails only on a database error. */
int pane_store_write_metadata(struct pane_store *st, const struct pane_metadata *m, size_t n, struct pane_err *err);
/* Sorted by name; only `metric` when non-NULL; at most limit (SIZE_MAX = all).
 * *out is one allocation (free(*out)), NULL when *n is 0. Also the reader's
 * metadata callback. */
int pane_store_metadata(struct pane_store *st, const char *metric, size_t limit, struct pane_metadata **out, size_t *n,
                        struct pane_err *err);

/* How the APIs read logs and events (pipeline/logreader.h); valid while
 * the store is open. */
struct pane_logreader pane_store_logreader(struct pane_store *st);

/* ---- daemon ---- */

/* Reads the `store:` section, opens the store in s->data_dir/store,
 * creates s->pipeline with the store as primary sink, sets s->store, adds
 * a readiness check, a housekeeping thread (flush, retention, pane's own
 * counters as samples with provider="pane" every 15 s) and a stop callback
 * that frees the pipeline and closes the store. */
int pane_store_attach(struct pane_host *s, struct pane_err *err);

#endif
