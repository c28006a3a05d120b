/*
 * sources.h - running the configured pull sources (`sources:` in pane.yaml).
 *
 * pane_sources_new() binds and initialises every enabled instance (a config
 * mistake fails here, at start); pane_sources_start() gives each instance
 * its own thread that collects every `interval`; pane_sources_free() stops
 * and joins the threads and closes the instances. Records go to the
 * pipeline given in the options; the framework also writes, per instance
 * (label source="<instance>", plus provider/service/environment):
 *
 *     pane_source_up                                1 after a good collection, 0 after a failed one
 *     pane_source_last_success_timestamp_seconds    Unix time of the last good collection
 *     pane_source_errors_total{reason="..."}        failed collections by reason
 *     pane_source_scrape_duration_seconds           how long the last collection took
 *     pane_source_collections_total                 collections attempted
 *
 * and mirrors them into pane's own /metrics when a stats registry is given.
 *
 * The plugin contract is source.h; the list of plugins is registry.c.
 */
#ifndef PANE_SOURCES_SOURCES_H
#define PANE_SOURCES_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "sources/source.h"

struct pane_cfg;
struct pane_cfg_node;
struct pane_pipeline;
struct pane_stats;
struct pane_host;

struct pane_sources;

struct pane_sources_opts {
	const struct pane_cfg *cfg;          /* the loaded file (messages) */
	const struct pane_cfg_node *section; /* the `sources:` map; NULL = none */
	struct pane_pipeline *pipeline;      /* required */
	struct pane_stats *stats;            /* may be NULL */
	const char *data_dir;                /* cursor files go to DATA_DIR/sources/ */
};

/* Binds and initialises every enabled instance. NULL with err set on a
 * config error ("pane.yaml:LINE: sources.x.key: ..."). */
struct pane_sources *pane_sources_new(const struct pane_sources_opts *opts, struct pane_err *err);
/* Starts one thread per instance. 0 or PANE_EIO. */
int pane_sources_start(struct pane_sources *ss, struct pane_err *err);
/* Stops the threads (interrupting waits and HTTP transfers), joins them,
 * closes the instances, frees everything. NULL is a no-op. */
void pane_sources_free(struct pane_sources *ss);

/* Number of enabled instances. */
size_t pane_sources_count(const struct pane_sources *ss);

/* Runs one collection of the named instance on the calling thread, with the
 * same bookkeeping as the scheduler (health series, cursor). Only while the
 * threads are not started (tools and tests). Returns collect()'s result. */
int pane_sources_collect_once(struct pane_sources *ss, const char *instance, struct pane_err *err);

/* The named instance, or NULL. For tools and tests: call plugin-facing
 * functions (cursor, emit) on it only while the threads are not started. */
struct pane_source *pane_sources_instance(struct pane_sources *ss, const char *instance);

/* Health of one named part of a source (source.h, struct pane_source_part). */
#define PANE_SOURCE_PARTS_MAX 12
struct pane_source_part_status {
	char name[32];
	bool up;          /* its last run succeeded */
	bool unavailable; /* an optional part the provider does not offer (404/403: not on the plan) */
	char error[160];  /* the last failure, "" when up */
};

/* Per-instance counters (for tests and the status API). */
struct pane_source_status {
	uint64_t collections; /* attempted */
	uint64_t failures;
	bool up;                 /* last collection succeeded (false at once when a request timed out) */
	int64_t last_success_ms; /* 0 when never */
	char last_error[PANE_ERR_MSG_MAX];
	char last_reason[64];
	size_t n_parts;
	struct pane_source_part_status parts[PANE_SOURCE_PARTS_MAX];
};
/* 0, or PANE_ENOTFOUND for an unknown instance. Thread-safe. */
int pane_sources_status(struct pane_sources *ss, const char *instance, struct pane_source_status *out);

/* The plugins compiled in, ended by NULL (registry.c). */
extern const struct pane_source_plugin *const pane_source_plugins[];
const struct pane_source_plugin *pane_source_plugin_find(const char *name);

/* `pane serve`: reads `sources:`, starts the instances, registers the stop
 * callback. When s->pipeline is NULL (no store attached) logs that sources
 * are disabled and returns 0. */
int pane_sources_attach(struct pane_host *s, struct pane_err *err);

#endif
