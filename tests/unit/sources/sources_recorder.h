/*
 * recorder.h - a test sink that records every sample, log and event the
 * pipeline hands it (deep copies), for assertions in source tests.
 * Thread-safe: sources write from their own threads.
 */
#ifndef PANE_TESTS_SOURCES_RECORDER_H
#define PANE_TESTS_SOURCES_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/pipeline.h"

struct rec_sample {
	char *name;
	struct pane_labels labels;
	int64_t ts_ms;
	double value;
};

struct rec_log {
	struct pane_labels labels;
	int64_t ts_ms;
	enum pane_log_severity sev;
	char *message;
	char *fields_json;
};

struct recorder;

/* A pipeline whose primary sink is a new recorder (*rec). Free the pipeline
 * with pane_pipeline_free (it closes the recorder). fail_writes makes every
 * sample and log write fail (a rejecting store). */
struct pane_pipeline *recorder_pipeline(struct recorder **rec);
void recorder_fail_writes(struct recorder *r, bool fail);

/* Lock, inspect the arrays, unlock. */
void recorder_lock(struct recorder *r);
void recorder_unlock(struct recorder *r);
size_t recorder_n_samples(struct recorder *r);
const struct rec_sample *recorder_sample(struct recorder *r, size_t i);
size_t recorder_n_logs(struct recorder *r);
const struct rec_log *recorder_log(struct recorder *r, size_t i);
void recorder_clear(struct recorder *r);

/* Counts samples named name whose labels include every (k, v) pair given
 * (NULL-terminated; v NULL = label must be absent). Locks internally. */
size_t recorder_count(struct recorder *r, const char *name, ...) __attribute__((sentinel));
/* The value of the last such sample; NaN when none. */
double recorder_last(struct recorder *r, const char *name, ...) __attribute__((sentinel));
/* Events seen, each rendered "kind|title|body_json|dedup_key". recorder_event
 * is stable until recorder_clear. */
size_t recorder_n_events(struct recorder *r);
const char *recorder_event(struct recorder *r, size_t i);
/* Logs whose label k equals v (or all logs when k is NULL). */
size_t recorder_count_logs(struct recorder *r, const char *k, const char *v);

#endif
