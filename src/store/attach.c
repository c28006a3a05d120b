/*
 * attach.c - the store joins `pane serve` (see store.h, serve.h).
 *
 * Idea: the store is the first part attached: it becomes the primary sink
 * of the pipeline serve created, so every producer's writes reach it. One
 * housekeeping thread per daemon does the periodic work: WAL fsync on the
 * interval policy, retention and WAL checkpoints every minute. (pane's own
 * counters reach the store like any producer's: serve/selfscrape.c; the
 * store section keeps their key, self_metrics_interval.)
 *
 * Ownership: the pipeline holds a sink whose close() only flushes. serve
 * frees the pipeline right before this file's stop callback, which runs
 * last of all (the store attaches first): it closes the store and clears
 * s->store.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/stats.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "host/host.h"
#include "store/store.h"

struct store_cfg {
	int64_t retention_ms;
	int64_t retention_bytes;
	int64_t ooo_window_ms;
	int64_t max_future_ms;
	int64_t max_series;
	int64_t max_series_per_metric;
	char *wal_fsync;
	int64_t wal_fsync_interval_ms;
	int64_t log_retention_ms;
	int64_t log_retention_bytes;
	int64_t self_interval_ms;
	char *tiers;
};

static const struct pane_cfg_field store_fields[] = {
    {"retention", PANE_CFT_DURATION, offsetof(struct store_cfg, retention_ms), "30d", 0,
     "keep metrics this long (whole days are dropped); 0 keeps everything", 0, 0},
    {"retention_size", PANE_CFT_SIZE, offsetof(struct store_cfg, retention_bytes), "0", 0,
     "drop the oldest days of metrics past this size on disk; 0 = no limit", 0, 0},
    {"out_of_order_window", PANE_CFT_DURATION, offsetof(struct store_cfg, ooo_window_ms), "10m", 0,
     "accept samples this far behind a series' newest; older ones are rejected and counted", 0, 0},
    {"max_future", PANE_CFT_DURATION, offsetof(struct store_cfg, max_future_ms), "1d", 0,
     "reject samples further ahead of this machine's clock (counted); 0 = accept any time", 0, 0},
    {"max_series", PANE_CFT_INT, offsetof(struct store_cfg, max_series), "1000000", 0,
     "series in all; new series past it are rejected (logged, counted); 0 = no limit", 0, INT64_MAX},
    {"max_series_per_metric", PANE_CFT_INT, offsetof(struct store_cfg, max_series_per_metric), "100000", 0,
     "series per metric name; 0 = no limit", 0, INT64_MAX},
    {"wal_fsync", PANE_CFT_STRING, offsetof(struct store_cfg, wal_fsync), "interval", 0,
     "batch (fsync before every acknowledgement), interval or never; every policy survives kill -9", 0, 0},
    {"wal_fsync_interval", PANE_CFT_DURATION, offsetof(struct store_cfg, wal_fsync_interval_ms), "1s", 0,
     "for wal_fsync: interval, the most a power loss can take", 10, 60000},
    {"log_retention", PANE_CFT_DURATION, offsetof(struct store_cfg, log_retention_ms), "14d", 0,
     "keep logs and events this long; 0 keeps everything", 0, 0},
    {"log_retention_size", PANE_CFT_SIZE, offsetof(struct store_cfg, log_retention_bytes), "0", 0,
     "delete the oldest logs past this size; 0 = no limit", 0, 0},
    {"tiers", PANE_CFT_STRING, offsetof(struct store_cfg, tiers), "1h", 0,
     "downsampled tiers stored with the data: none, 1h, 5m or 5m,1h (others are computed when read; no PromQL "
     "query reads tiers yet)",
     0, 0},
    /* read by serve/selfscrape.c (pane's own /metrics through the pipeline) */
    {"self_metrics_interval", PANE_CFT_DURATION, offsetof(struct store_cfg, self_interval_ms), "15s", 0,
     "copy pane's own counters into the store (provider=\"pane\") this often; 0 = off", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct attached {
	struct pane_host *s;
	struct pane_store *st;
	int64_t flush_ms;
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	char last_error[256]; /* guarded by mu; "" when healthy */
};

/* ---------- housekeeping ---------- */

static void *housekeeping(void *arg)
{
	struct attached *a = arg;
	int64_t next_flush = 0, next_maint = pane_mono_ns() / 1000000 + 60000;
	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		int64_t now = pane_mono_ns() / 1000000;
		pthread_mutex_unlock(&a->mu);
		struct pane_err err = {0};
		int rc = 0;
		if (now >= next_flush) {
			rc = pane_store_flush(a->st, &err);
			next_flush = now + a->flush_ms;
		}
		if (!rc && now >= next_maint) {
			rc = pane_store_maintain(a->st, pane_wall_ms(), &err);
			next_maint = now + 60000;
		}
		pthread_mutex_lock(&a->mu);
		if (rc < 0) {
			snprintf(a->last_error, sizeof a->last_error, "%s", err.msg);
			pane_error("store", "%s", err.msg);
		} else {
			a->last_error[0] = '\0';
		}
		int64_t wake = next_flush < next_maint ? next_flush : next_maint;
		int64_t wait_ms = wake - pane_mono_ns() / 1000000;
		if (wait_ms > 0 && !a->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait_ms / 1000;
			ts.tv_nsec += (wait_ms % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&a->cv, &a->mu, &ts);
		}
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static bool store_ready(void *arg, struct pane_err *err)
{
	struct attached *a = arg;
	pthread_mutex_lock(&a->mu);
	bool ok = a->last_error[0] == '\0';
	if (!ok)
		pane_err_set(err, PANE_EIO, "%s", a->last_error);
	pthread_mutex_unlock(&a->mu);
	return ok;
}

static void store_stop(void *arg)
{
	struct attached *a = arg;
	if (a->running) {
		pthread_mutex_lock(&a->mu);
		a->stop = true;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
	}
	pane_store_close(a->st); /* persists everything, empties the WAL */
	a->s->store = NULL;
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a);
}

int pane_store_attach(struct pane_host *s, struct pane_err *err)
{
	struct store_cfg c = {0};
	const struct pane_cfg_node *sec = pane_cfg_get(s->cfg->root, "store");
	if (pane_cfg_bind(s->cfg, sec, store_fields, &c, err) < 0) {
		pane_cfg_unbind(store_fields, &c);
		return err->code;
	}
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	if (strcmp(c.wal_fsync, "batch") == 0)
		o.fsync = PANE_FSYNC_BATCH;
	else if (strcmp(c.wal_fsync, "interval") == 0)
		o.fsync = PANE_FSYNC_INTERVAL;
	else if (strcmp(c.wal_fsync, "never") == 0)
		o.fsync = PANE_FSYNC_NEVER;
	else {
		pane_cfg_error(s->cfg, pane_cfg_get(sec, "wal_fsync"), err, "'%s' is not batch, interval or never",
		               c.wal_fsync);
		pane_cfg_unbind(store_fields, &c);
		return err->code;
	}
	if (pane_store_parse_tiers(c.tiers, &o.tiers) < 0) {
		pane_cfg_error(s->cfg, pane_cfg_get(sec, "tiers"), err, "'%s' is not none, 1h, 5m or 5m,1h", c.tiers);
		pane_cfg_unbind(store_fields, &c);
		return err->code;
	}
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/store", s->data_dir);
	o.dir = dir;
	o.retention_ms = c.retention_ms;
	o.retention_bytes = c.retention_bytes;
	o.ooo_window_ms = c.ooo_window_ms;
	o.max_future_ms = c.max_future_ms;
	o.max_series = c.max_series;
	o.max_series_per_metric = c.max_series_per_metric;
	o.fsync_interval_ms = c.wal_fsync_interval_ms;
	o.log_retention_ms = c.log_retention_ms;
	o.log_retention_bytes = c.log_retention_bytes;
	o.stats = s->stats;
	struct attached *a = pane_xcalloc(1, sizeof *a);
	a->s = s;
	a->flush_ms = o.fsync == PANE_FSYNC_INTERVAL ? c.wal_fsync_interval_ms : 1000;
	pane_cfg_unbind(store_fields, &c);
	a->st = pane_store_open(&o, err);
	if (!a->st) {
		free(a);
		return err->code;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	s->store = a->st;
	pane_pipeline_add_sink(s->pipeline, pane_store_sink(a->st), PANE_SINK_PRIMARY);
	pane_pipeline_set_max_future(s->pipeline, c.max_future_ms); /* receivers bound log timestamps too */
	pane_host_add_readiness(s, "store", store_ready, a);
	pane_host_on_stop(s, store_stop, a);
	if (pthread_create(&a->thread, NULL, housekeeping, a) != 0)
		return pane_err_set(err, PANE_EIO, "store: cannot start the housekeeping thread");
	a->running = true;
	pane_log_kv(PANE_LOG_INFO, "store", "store open", "dir", dir, NULL);
	return 0;
}
