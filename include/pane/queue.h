/*
 * pane/queue.h - pane's job queue on PostgreSQL, the C API.
 *
 * The queue lives in one schema ("pane" unless configured) created by
 * pane_queue_migrate(). Every producer path - this API, `pane enqueue`, the
 * HTTP API, supabase.rpc('enqueue') - goes through the same SQL functions
 * (pane.enqueue, pane.enqueue_many), so validation and NOTIFY behave the
 * same everywhere. See docs/queue.md for the SQL contract.
 *
 * Conventions: functions take a connected PGconn (the caller owns it and may
 * be inside its own transaction: enqueue then commits with the caller's
 * work), a schema name (NULL = "pane"), return 0 or a negative PANE_E* and
 * fill err. Strings returned through char ** are heap-allocated; free().
 * Not thread-safe per connection (libpq's rule); distinct connections are
 * independent.
 *
 * Job states: available (runnable now, scheduled for later, or waiting for a
 * retry), running, completed, failed (attempts exhausted or discarded),
 * cancelled.
 */
#ifndef PANE_QUEUE_H
#define PANE_QUEUE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pane/err.h"

#define PANE_QUEUE_DEFAULT_SCHEMA "pane"
/* the newest schema version this build knows */
int pane_queue_schema_version_latest(void);

/* True when s is a usable schema name: [a-z_][a-z0-9_]{0,62}. */
bool pane_queue_schema_valid(const char *schema);

/* Creates or upgrades the schema. Safe to run concurrently (advisory lock)
 * and idempotent. *from / *to receive the version before and after (may be
 * NULL). Runs in its own transaction: c must not be inside one. */
int pane_queue_migrate(PGconn *c, const char *schema, int *from, int *to, struct pane_err *err);
/* The installed version, 0 when the schema is missing. */
int pane_queue_schema_version(PGconn *c, const char *schema, int *version, struct pane_err *err);

/* The statements behind pane_queue_schema_version and pane_queue_job, for
 * a caller that runs statements its own way (the HTTP API bounds every wait,
 * so a frozen server costs a request a 503, not a thread). schema must be
 * valid (pane_queue_schema_valid). */
#define PANE_QUEUE_SQL_SCHEMA_EXISTS /* $1 = schema; one value, t or f */                                              \
	"SELECT to_regclass(quote_ident($1) || '.schema_version') IS NOT NULL"
/* One value: the installed version (run only when the schema exists). */
void pane_queue_sql_schema_version(const char *schema, char *out, size_t len);
/* $1 = the job id; one value: the job as JSON, NULL when there is none. */
void pane_queue_sql_job(const char *schema, char *out, size_t len);
/* More statements of the same kind (the HTTP API's; pane_queue_cancel & co.
 * run the same text). PANE_QUEUE_SQL_MAX bytes of out always suffice. */
#define PANE_QUEUE_SQL_MAX 1024
/* $1 = the job id; one value: the job's state after pane.cancel_job /
 * pane.retry_job, NULL when there is no such job. */
void pane_queue_sql_cancel(const char *schema, char *out, size_t len);
void pane_queue_sql_retry(const char *schema, char *out, size_t len);
/* $1 = the queue; pane.pause_queue / pane.resume_queue, one value. */
void pane_queue_sql_pause(const char *schema, bool pause, char *out, size_t len);
/* $1 = the jobs, a JSON array as pane.enqueue_many takes it; one row per
 * job, in order: id, created (t when new, f when a unique job existed). */
void pane_queue_sql_enqueue_many(const char *schema, char *out, size_t len);
/* No parameters; one value: {"queues": [...]}, pane.queue_stats()'s entries
 * ordered by queue, each with completed_last_minute and
 * throughput_per_second (completions in the last minute / 60). */
void pane_queue_sql_queues_throughput(const char *schema, char *out, size_t len);
/* $1 = job ids (a bigint[] literal), $2 = a tag per id (text[] literal, same
 * order), $3 = milliseconds; one row per id whose job no longer exists or
 * finished (completed, failed, cancelled) at least $3 ms ago: its tag. */
void pane_queue_sql_finished_since(const char *schema, char *out, size_t len);

/* One job to add. Zero-initialise, then set queue (required). */
struct pane_job_spec {
	const char *queue;
	const char *payload_json; /* NULL = {} */
	const char *run_at;       /* timestamptz text, NULL = now (or now + delay) */
	int64_t delay_ms;         /* > 0: run after this long (run_at must be NULL) */
	int priority;             /* higher runs first; default 0 */
	int max_attempts;         /* 0 = default (25) */
	const char *unique_key;   /* NULL = none */
	int64_t timeout_ms;       /* 0 = none */
	/* Unique keys that outlive completion (pane.enqueue_unique), with
	 * unique_key: unique per period bucket (0 = no period), and/or across
	 * these states ("available,running,completed"; active states always
	 * count; NULL = that default when a period is set, else active only). */
	int64_t unique_period_ms;
	const char *unique_states;
};

/* Adds a job via pane.enqueue; *id receives its id (the existing job's id
 * when an active job holds spec->unique_key). */
int pane_queue_enqueue(PGconn *c, const char *schema, const struct pane_job_spec *spec, int64_t *id,
                       struct pane_err *err);
/* pane.enqueue_many(jobs_json): *ids_json receives [{"id":..,"created":..},..]. */
int pane_queue_enqueue_many(PGconn *c, const char *schema, const char *jobs_json, char **result_json,
                            struct pane_err *err);

/* pane.job(id) as JSON; PANE_ENOTFOUND when there is no such job. */
int pane_queue_job(PGconn *c, const char *schema, int64_t id, char **json, struct pane_err *err);
/* Reads many jobs in one statement (pane.job for each id): fn(arg, id,
 * state, json) once per id, in no particular order, with state and json
 * NULL for a job that no longer exists. Values are valid during the call. */
int pane_queue_jobs_each(PGconn *c, const char *schema, const int64_t *ids, size_t n,
                         void (*fn)(void *arg, int64_t id, const char *state, const char *json), void *arg,
                         struct pane_err *err);
/* Lists jobs as a JSON array (newest first), active and history. queue and
 * state may be NULL (any); limit 1..10000. */
int pane_queue_list(PGconn *c, const char *schema, const char *queue, const char *state, int limit, char **json,
                    struct pane_err *err);
/* pane.cancel_job / pane.retry_job: state receives the job's state after the
 * call; PANE_ENOTFOUND when there is no such job. */
int pane_queue_cancel(PGconn *c, const char *schema, int64_t id, char state[16], struct pane_err *err);
int pane_queue_retry(PGconn *c, const char *schema, int64_t id, char state[16], struct pane_err *err);
/* Bulk redrive, one statement (pane.retry_jobs): the queue's jobs in state
 * "failed" or "cancelled" that finished at or after since (timestamptz text,
 * NULL = any time) run again now. *n (may be NULL) receives how many. */
int pane_queue_retry_bulk(PGconn *c, const char *schema, const char *queue, const char *state, const char *since,
                          int64_t *n, struct pane_err *err);
/* Bulk cancel, one statement (pane.cancel_jobs): the queue's jobs in states
 * ("available", "running" or "available,running"; NULL = available) created
 * at or after since (NULL = any time). Running handlers are stopped. */
int pane_queue_cancel_bulk(PGconn *c, const char *schema, const char *queue, const char *states, const char *since,
                           int64_t *n, struct pane_err *err);
int pane_queue_pause(PGconn *c, const char *schema, const char *queue, bool pause, struct pane_err *err);
/* pane.set_queue_limits: concurrency / rate_limit < 0 = no limit. */
int pane_queue_set_limits(PGconn *c, const char *schema, const char *queue, int concurrency, int rate_limit,
                          int64_t rate_period_ms, struct pane_err *err);
/* pane.queue_stats() JSON: [{"queue","paused","available","scheduled",
 * "running","completed","failed","cancelled","oldest_runnable_age_seconds"}]. */
int pane_queue_stats(PGconn *c, const char *schema, char **json, struct pane_err *err);

/* Fills err from a failed PGresult / connection (message + hint). Returns
 * PANE_EDB. */
int pane_queue_pg_err(PGconn *c, PGresult *r, struct pane_err *err, const char *what);

/* ------------------------------------------------------------------ worker */

enum pane_queue_handler {
	PANE_HANDLER_NOOP,  /* builtin: succeed at once */
	PANE_HANDLER_FAIL,  /* builtin: fail every attempt */
	PANE_HANDLER_SLEEP, /* builtin: sleep sleep_ms, then succeed */
	PANE_HANDLER_EXEC,  /* run exec_cmd (sh -c) per job */
	PANE_HANDLER_HTTP,  /* POST the job JSON to http_url */
	PANE_HANDLER_FUNC,  /* call handler_fn (the C library's handler callback) */
};

/* A claimed job as a handler function sees it. Everything is owned by the
 * worker and valid only during the call. */
struct pane_queue_job {
	int64_t id;
	const char *queue;
	int attempt; /* 1 on the first run */
	int max_attempts;
	const char *payload;  /* the payload, JSON text */
	const char *json;     /* {"id","queue","attempt","max_attempts","payload"} as --exec gets it */
	const void *internal; /* for pane_queue_job_cancelled */
};

/* What a handler function returns. */
#define PANE_QUEUE_DONE 0    /* success; *result (optional) is the job's result */
#define PANE_QUEUE_RETRY 1   /* failed; retried with backoff until max_attempts */
#define PANE_QUEUE_DISCARD 2 /* failed for good: no retry */

/*
 * A handler callback: runs one job on one of the worker's `concurrency`
 * threads (so it must be thread-safe; arg is shared). It may set *result to
 * a malloc'd JSON text (the job's result; freed by the worker; text that is
 * not JSON fails the attempt) and *error to a malloc'd message for
 * RETRY/DISCARD (freed by the worker). Any other return value counts as
 * RETRY. A long handler should poll pane_queue_job_cancelled() and return
 * when it turns true (the job was cancelled, its lease was lost, or the
 * worker is shutting down); what it returns then is ignored.
 */
typedef int (*pane_queue_handler_fn)(void *arg, const struct pane_queue_job *job, char **result, char **error);

/* True once the running job should stop (see pane_queue_handler_fn). */
bool pane_queue_job_cancelled(const struct pane_queue_job *job);

struct pane_queue_worker_opts {
	const char *database_url;
	const char *schema;        /* NULL = "pane" */
	const char *const *queues; /* n_queues names */
	int n_queues;
	int concurrency; /* jobs run at once (default 10) */
	enum pane_queue_handler handler;
	int64_t sleep_ms;
	const char *exec_cmd;
	const char *http_url;
	const char *const *http_headers; /* --http: extra "Name: value" lines (n_http_headers) */
	int n_http_headers;
	int64_t http_timeout_ms;          /* --http: per request when the job has no timeout (0 = none) */
	const char *http_ca_file;         /* --http: CA bundle to verify https with (NULL = system's) */
	pane_queue_handler_fn handler_fn; /* PANE_HANDLER_FUNC */
	void *handler_arg;
	bool drain;             /* return once nothing is runnable and nothing runs */
	bool progress;          /* with drain: a done/remaining line on stderr each second
	                         * (for a terminal; `pane worker` sets it when stderr is one) */
	bool poll_only;         /* no LISTEN (PgBouncer transaction mode) */
	int64_t poll_ms;        /* poll interval (default 1000; LISTEN wakes sooner) */
	int64_t lease_ms;       /* lease per claim (default 30000), renewed every lease/3 */
	int64_t grace_ms;       /* on SIGTERM: time to finish running jobs (default 10000) */
	double backoff_base_s;  /* retry backoff base (default 1 s, doubling per attempt) */
	int64_t maintenance_ms; /* rescue, retention, cron tick period (default 1000) */
	bool no_cron;           /* do not run cron schedules */
	int batch_max;          /* largest claim (default concurrency + prefetch) */
	int prefetch;           /* claim up to this many jobs beyond the free slots; they wait
	                         * locally, leases held and renewed, and are given back
	                         * unused on shutdown (default 0) */
	volatile int *stop;     /* optional: set non-zero to stop (besides SIGINT/SIGTERM) */
};

/* The worker's own numbers, updated atomically while it runs (read them
 * from any thread with pane_queue_worker_stats_read). */
struct pane_queue_worker_stats {
	uint64_t claimed, processed, failed, retried, rescued, lost_leases, cancelled, reconnects;
	double run_seconds;    /* total handler time */
	double pickup_ms_last; /* claim time - run_at of the last job claimed */
	double pickup_ms_max;
};

/* Runs a worker until stopped (SIGINT/SIGTERM, *opts->stop) or, with drain,
 * until the queues are empty. stats (may be NULL) is updated while it runs.
 * Returns 0, or a negative PANE_E* (bad options, schema missing) with err. */
int pane_queue_worker_run(const struct pane_queue_worker_opts *opts, struct pane_queue_worker_stats *stats,
                          struct pane_err *err);

#endif
