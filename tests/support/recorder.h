/*
 * recorder.h - a test recorder sink: keeps a copy of every record written
 * to it so tests can assert on what a producer emitted.
 *
 * Thread-safe (producers write from their own threads). Register it as the
 * primary sink of a pipeline: pt_recorder_sink(rec). The pipeline owns the
 * sink object but not the recorder: close() only marks it closed, and the
 * test frees the recorder with pt_recorder_free() after the pipeline.
 * With fail_next set, the next write_samples fails (to test error paths).
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
	size_t writes;
	bool closed;
	int fail_next;        /* > 0: that many next write_samples calls fail */
	bool discard;         /* count only, keep nothing (benchmarks) */
	uint64_t counted;     /* samples seen (also when discarding) */
	struct pt_rec_meta *metas; /* every metadata entry written, in order */
	size_t n_metas, cap_metas;
	size_t meta_writes;   /* write_metadata calls */
};

struct pt_recorder *pt_recorder_new(void);
void pt_recorder_free(struct pt_recorder *r);
struct pane_sink pt_recorder_sink(struct pt_recorder *r);

/* Finds the last sample with this name whose labels include every
 * "name=value" pair given (NULL-terminated list of name, value). NULL when none.
 * The pointer stays valid until the recorder is freed. */
const struct pt_rec_sample *pt_recorder_find(struct pt_recorder *r, const char *name, ...)
	__attribute__((sentinel));
/* Number of samples named name. */
size_t pt_recorder_count(struct pt_recorder *r, const char *name);
/* Waits until at least n samples (any) arrived or timeout_ms passed. Returns true when they did. */
bool pt_recorder_wait_samples(struct pt_recorder *r, size_t n, int timeout_ms);
/* Waits until a sample named name exists. */
bool pt_recorder_wait_name(struct pt_recorder *r, const char *name, int timeout_ms);
bool pt_recorder_wait_logs(struct pt_recorder *r, size_t n, int timeout_ms);
/* The last metadata entry written for name, or NULL. Valid until freed. */
const struct pt_rec_meta *pt_recorder_find_meta(struct pt_recorder *r, const char *name);

#endif
