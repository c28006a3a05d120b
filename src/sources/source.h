/*
 * source.h - the plugin contract for pull sources (PostgreSQL, Supabase,
 * Render, Sentry, SQL metrics, the queue's own health, ...).
 *
 * A source is a const table of callbacks plus a declarative config table,
 * Fluent Bit style. Adding a source is one file (src/sources/<name>.c that
 * defines `const struct pane_source_plugin pane_source_<name>`) and one row
 * in the registry array in src/sources/registry.c. Nothing else changes:
 * the framework (sources.c) binds the config, runs the source on its own
 * thread and interval, stamps the standard labels, writes health series and
 * keeps the cursor file.
 *
 * Configuration. Each entry under `sources:` is one *instance*:
 *
 *     sources:
 *       supabase:                      # instance name (also the type when `type` is absent)
 *         project_ref: abcdefghijklmnopqrst
 *         access_token: ${SUPABASE_ACCESS_TOKEN}
 *       orders_db:                     # another name ...
 *         type: sql                    # ... with an explicit type
 *         url: ${APP_DATABASE_URL}
 *
 * Every instance accepts the common keys (struct pane_source_common, bound
 * by the framework: type, enabled, interval, timeout, service, environment)
 * plus the plugin's own `fields`. The plugin's config struct MUST start with
 * `struct pane_source_common common;` and its field offsets are offsetof()
 * in that struct; the framework allocates `cfg_size` bytes, binds the merged
 * table into it, and frees it (pane_cfg_unbind) after close(). Secrets use
 * PANE_CFG_SECRET, so they can only come from ${ENV}. Keys that bind to a
 * list of maps use PANE_CFT_SECTION and are read by init() from `node`.
 *
 * Life cycle (all on the instance's own thread except init):
 *
 *     init(src, cfg, node) --> collect() every interval ... --> close(ctx)
 *            (main thread)     (instance thread)                (after the thread ended)
 *
 *   - init validates and prepares (no network: a provider that is down at
 *     start must not stop pane from starting); a failure is a config error
 *     that stops `pane serve` with the message.
 *   - collect fetches once and emits records through pane_source_emit_*().
 *     It returns 0, or a negative PANE_E* code with err set; the framework
 *     then marks the instance down (pane_source_up 0) and counts
 *     pane_source_errors_total{reason=...} where the reason is the one given
 *     with pane_source_set_reason() or else derived from the code. Records
 *     emitted before a failure are kept.
 *   - collect must return promptly once pane_source_stopping() is true; the
 *     shared HTTP client (pane_source_http_opts) and pane_source_sleep()
 *     already observe it.
 *   - close frees ctx. It is called once, also when init failed half-way
 *     (with whatever ctx init had set, possibly NULL).
 *
 * Threads: one thread per instance, so a slow or hung provider delays only
 * itself. A plugin's ctx is touched by exactly one thread at a time.
 */
#ifndef PANE_SOURCES_SOURCE_H
#define PANE_SOURCES_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "config/config.h"
#include "http/client.h"
#include "pipeline/record.h"

/* Keys every instance has; first member of every plugin's config struct. */
struct pane_source_common {
	char *type;          /* plugin name; defaults to the instance name */
	bool enabled;        /* default true */
	int64_t interval_ms; /* time between the starts of two collections */
	int64_t timeout_ms;  /* per-request / per-statement deadline */
	char *service;       /* `service` label (default: plugin-specific, else the instance name) */
	char *environment;   /* `environment` label (default "production") */
};

/* A running instance, handed to every callback. Opaque. */
struct pane_source;

struct pane_source_plugin {
	const char *name;        /* type name in pane.yaml: "postgres" */
	const char *provider;    /* value of the `provider` label: "postgres", "supabase", "pane" */
	const char *description; /* one line for docs */
	int64_t default_interval_ms;
	int64_t default_timeout_ms;
	size_t cfg_size;                     /* sizeof the plugin's config struct */
	const struct pane_cfg_field *fields; /* plugin keys, ended by a NULL key; may be NULL */

	/* Prepares an instance. cfg is the bound config (owned by the framework,
	 * valid until after close). node is the instance's map in pane.yaml
	 * (for PANE_CFT_SECTION keys), file the loaded config (for
	 * pane_cfg_error). Sets *ctx. No network. */
	int (*init)(struct pane_source *src, void *cfg, const struct pane_cfg *file, const struct pane_cfg_node *node,
	            void **ctx, struct pane_err *err);
	/* One collection. */
	int (*collect)(struct pane_source *src, void *ctx, struct pane_err *err);
	/* Frees ctx (may be NULL). */
	void (*close)(void *ctx);
};

/* ---- what a plugin may call on its instance ---- */

const char *pane_source_name(const struct pane_source *src); /* instance name */
/* The common labels: provider, service, environment. Borrowed. */
const struct pane_labels *pane_source_labels(const struct pane_source *src);

/* Emit records. Each adds the common labels (provider, service, environment,
 * unless `extra` already sets them). Samples and logs are copied into a
 * buffer written when collect returns, when the batch is full, or at
 * pane_source_flush(); events are written at once. name must be a valid metric name; extra may be NULL. ts_ms 0 means
 * "now" (the collection's start). Returns 0 or PANE_EINVAL/PANE_ETOOBIG for a
 * bad name or label (the record is dropped and counted, collection goes on). */
int pane_source_emit_sample(struct pane_source *src, const char *name, const struct pane_labels *extra, int64_t ts_ms,
                            double value);
/* Convenience for up to 4 label pairs: NULL-terminated (name, value) list. */
int pane_source_emit_samplev(struct pane_source *src, const char *name, int64_t ts_ms, double value, ...)
    __attribute__((sentinel));
int pane_source_emit_log(struct pane_source *src, const struct pane_labels *extra, int64_t ts_ms,
                         enum pane_log_severity sev, const char *msg, size_t msg_len, const char *fields_json);
int pane_source_emit_event(struct pane_source *src, const struct pane_labels *extra, int64_t ts_ms, const char *kind,
                           const char *title, const char *url, const char *body_json, const char *dedup_key);
/* Metric metadata (HELP/TYPE/UNIT per family), written at once through the
 * pipeline, which passes on only what changed: call it every collection.
 * A failure is logged, never fails the collection. */
void pane_source_emit_metadata(struct pane_source *src, const struct pane_metadata *m, size_t n);

/* Writes the buffered samples and logs now. 0 when the primary sink (the
 * store) accepted everything written so far in this collection, else its
 * error (reason "store" is set). Call before saving a cursor, and do not
 * advance the cursor past records the store refused. Events are never
 * buffered. */
int pane_source_flush(struct pane_source *src, struct pane_err *err);

/* Names the failure for pane_source_errors_total{reason=...} ("rate_limited",
 * "sql_error", "malformed", ...; [a-z_]+). Call before returning an error. */
void pane_source_set_reason(struct pane_source *src, const char *reason);
/* The reason set so far in this collection ("" when none). */
const char *pane_source_reason(const struct pane_source *src);

/* One part of a collection (Supabase health, Render deploys, Sentry issues...). */
struct pane_source_part {
	bool on;
	int (*fn)(struct pane_source *src, void *ctx, struct pane_err *err);
	/* Named parts report pane_source_part_up{source, part} after each run
	 * (NULL: not reported). */
	const char *name;
	/* An optional part's failure does not fail the collection (the source
	 * stays up while its core parts work); PANE_ENOTFOUND or PANE_EPERM
	 * from it means "not on this plan": pane_source_part_unavailable 1. */
	bool optional;
};
/* Runs the enabled parts in order until the daemon stops. A failing part
 * does not stop the others (it is logged), except PANE_EPERM from a core
 * part when stop_on_perm is set (a bad key fails every part alike: do not
 * ask again), and a part that timed out (the provider hangs: asking again
 * only delays; the collection fails with PANE_ETIMEDOUT, also when that
 * part is optional).
 * Returns the first failure of a core part with its err, and leaves that
 * part's reason set on src; 0 and reason "" when every core part succeeded. */
int pane_source_run_parts(struct pane_source *src, void *ctx, const struct pane_source_part *parts, size_t n,
                          bool stop_on_perm, struct pane_err *err);
/* Reports a named part run outside pane_source_run_parts (rc: its result). */
void pane_source_part_report(struct pane_source *src, const char *part, bool optional, int rc,
                             const struct pane_err *err);

/* The collection's start time (Unix ms). */
int64_t pane_source_now_ms(const struct pane_source *src);
/* True once the daemon is stopping. */
bool pane_source_stopping(const struct pane_source *src);
/* Sleeps up to ms; false when interrupted by a stop. */
bool pane_source_sleep(struct pane_source *src, int64_t ms);

/* Client options pre-filled for this instance: timeout from the common
 * config, cancel wired to the stop flag, a user agent. Adjust and pass to
 * pane_http_client_new(). */
void pane_source_http_opts(const struct pane_source *src, struct pane_http_client_opts *opts);

/* Cursor: opaque text an incremental source keeps across restarts, stored in
 * DATA_DIR/sources/<instance>.cursor and replaced atomically (write to a
 * temporary file, fsync, rename). Load returns 0 with *text a heap string
 * (caller frees), PANE_ENOTFOUND when none was saved yet, or an error. Save
 * returns 0 or PANE_EIO. Size bounded by PANE_SOURCE_CURSOR_MAX. */
#define PANE_SOURCE_CURSOR_MAX (1u << 20)
int pane_source_cursor_load(struct pane_source *src, char **text, struct pane_err *err);
int pane_source_cursor_save(struct pane_source *src, const char *text, struct pane_err *err);

#endif
