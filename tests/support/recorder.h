/*
 * recorder.h - the test recorder sink: keeps a copy of every sample, log and
 * event written to it so tests can assert on what a producer emitted.
 *
 * Thread-safe (producers write from their own threads); read the arrays
 * under pt_recorder_lock() while producers may still run. Two ways to use it:
 *   - pt_recorder_new() + pt_recorder_sink(rec) as a pipeline's sink: the
 *     pipeline's close() only marks it closed; free it with
 *     pt_recorder_free() after the pipeline.
 *   - pt_recorder_pipeline(&rec): a new pipeline whose primary sink is a new
 *     recorder; pane_pipeline_free() frees both.
 * With fail_next set, the next write_samples fails; pt_recorder_fail_writes()
 * makes every sample and log write fail (a rejecting store).
 */
#ifndef PANE_TESTS_RECORDER_H
#define PANE_TESTS_RECORDER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/pipeline.h"

struct pt_rec_sample {
	char *name;
	struct pane_labels labels;
	int64_t ts_ms;
	double value;
};

struct pt_rec_log {
	int64_t ts_ms;
	struct pane_labels labels;
	enum pane_log_severity severity;
	char *message;
	char *fields_json;
};

struct pt_rec_meta {
	char *name;
	enum pane_metric_type type;
	char *help;
	char *unit;
};

struct pt_recorder {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pt_rec_sample *samples;
	size_t n_samples, cap_samples;
	struct pt_rec_log *logs;
	size_t n_logs, cap_logs;
	char **events; /* each "kind|title|body_json|dedup_key" */
	size_t n_events, cap_events;
	size_t writes;
	bool closed;
	bool owned;                /* made by pt_recorder_pipeline: close() frees it */
	int fail_next;             /* > 0: that many next write_samples calls fail */
	bool fail_all;             /* every sample and log write fails */
	bool discard;              /* count only, keep nothing (benchmarks) */
	uint64_t counted;          /* samples seen (also when discarding) */
	struct pt_rec_meta *metas; /* every metadata entry written, in order */
	size_t n_metas, cap_metas;
	size_t meta_writes; /* write_metadata calls */
};

struct pt_recorder *pt_recorder_new(void);
void pt_recorder_free(struct pt_recorder *r);
struct pane_sink pt_recorder_sink(struct pt_recorder *r);

/* Label filters below are a NULL-terminated list of name, value pairs; a
 * NULL value means the label must be absent. */
/* The last sample with this name matching the filters, or NULL. Valid until
 * the next write: read it under the lock or once producers stopped. */
const struct pt_rec_sample *pt_recorder_find(struct pt_recorder *r, const char *name, ...) __attribute__((sentinel));
/* Number of samples with this name matching the filters. */
size_t pt_recorder_count(struct pt_recorder *r, const char *name, ...) __attribute__((sentinel));
/* The value of the last such sample; NaN when none. */
double pt_recorder_last(struct pt_recorder *r, const char *name, ...) __attribute__((sentinel));
/* Logs whose label k equals v (all logs when k is NULL). */
size_t pt_recorder_count_logs(struct pt_recorder *r, const char *k, const char *v);
size_t pt_recorder_n_events(struct pt_recorder *r);

struct pane_pipeline *pt_recorder_pipeline(struct pt_recorder **rec);
void pt_recorder_fail_writes(struct pt_recorder *r, bool fail);
void pt_recorder_lock(struct pt_recorder *r);
void pt_recorder_unlock(struct pt_recorder *r);
/* Forgets every record kept so far. */
void pt_recorder_clear(struct pt_recorder *r);
/* Waits until at least n samples (any) arrived or timeout_ms passed. Returns true when they did. */
bool pt_recorder_wait_samples(struct pt_recorder *r, size_t n, int timeout_ms);
/* Waits until a sample named name exists. */
bool pt_recorder_wait_name(struct pt_recorder *r, const char *name, int timeout_ms);
bool pt_recorder_wait_logs(struct pt_recorder *r, size_t n, int timeout_ms);
/* The last metadata entry written for name, or NULL. Valid until freed. */
const struct pt_rec_meta *pt_recorder_find_meta(struct pt_recorder *r, const char *name);

#endif
