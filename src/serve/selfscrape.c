/*
 * selfscrape.c - pane scrapes itself: /metrics into the pipeline.
 *
 * Idea: pane monitors itself with the same store, queries and alerts as
 * everything else, and its own counters arrive the way any scraped target's
 * do. Every store.self_metrics_interval a thread renders the stats registry
 * in the exposition format (exactly what GET /metrics answers), parses it
 * with the receivers' text parser (receivers/promtext.h) with
 * provider="pane" added (and service="pane" and an environment where a
 * series has none), and writes samples and HELP/TYPE through
 * h->pipeline (which passes metadata on only when it changed). The store is
 * just the primary sink; outputs see pane's own series too.
 *
 * Invariants:
 *   1. Families another part already writes into the pipeline are skipped
 *      (owned_elsewhere), samples and metadata alike: a second copy would
 *      store the same numbers twice under the same provider="pane".
 *        pane_source_*  the sources write their health series themselves,
 *                       labelled like the source's data (sources.c,
 *                       emit_health);
 *        pane_queue_*   when a `queue` source runs (h->queue_source, set by
 *                       the sources part before this thread starts), the
 *                       queue's series in the store are the source's
 *                       (sources/queue.c, per worker and per source
 *                       instance); without one, the queue part's collector
 *                       (queue/attach.c) reaches the store through here,
 *                       like the rest of /metrics (docs/queue.md).
 *   2. The thread stops (stop callback) before serve frees the pipeline:
 *      it is started after every part attached, so its callback runs first.
 */
#include "serve/selfscrape.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/stats.h"
#include "base/str.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "receivers/promtext.h"

#define SELF_DEFAULT_MS 15000 /* store.self_metrics_interval's default (store/attach.c) */

struct selfscrape {
	struct pane_host *h;
	int64_t interval_ms;
	struct pane_labels extra;    /* provider="pane" */
	struct pane_labels defaults; /* service="pane", environment: where a series has none */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

/* Invariant 1: true for a family whose series another part writes. */
static bool owned_elsewhere(const struct selfscrape *ss, const char *name)
{
	return strncmp(name, "pane_source_", 12) == 0 || (ss->h->queue_source && strncmp(name, "pane_queue_", 11) == 0);
}

static int deliver(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	struct selfscrape *ss = arg;
	struct pane_sample *keep = pane_xmalloc(pane_mul_size(n ? n : 1, sizeof *keep));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!owned_elsewhere(ss, s[i].name))
			keep[k++] = s[i];
	int rc = k ? pane_pipeline_write_samples(ss->h->pipeline, keep, k, err) : 0;
	free(keep);
	return rc;
}

static int deliver_meta(void *arg, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	struct selfscrape *ss = arg;
	struct pane_metadata *keep = pane_xmalloc(pane_mul_size(n ? n : 1, sizeof *keep));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!owned_elsewhere(ss, m[i].name))
			keep[k++] = m[i];
	int rc = k ? pane_promtext_meta_to_pipeline(ss->h->pipeline, keep, k, err) : 0;
	free(keep);
	return rc;
}

static void scrape_once(struct selfscrape *ss)
{
	struct pane_buf text;
	pane_buf_init(&text, PANE_BUF_NOLIMIT);
	pane_stats_render(ss->h->stats, &text);
	struct pane_promtext_opts o = {
	    .default_ts_ms = pane_wall_ms(),
	    .extra = &ss->extra,
	    .defaults = &ss->defaults,
	    .meta = deliver_meta,
	    .meta_arg = ss,
	};
	struct pane_promtext_result res = {0};
	struct pane_err err = {0};
	if (pane_promtext_parse(text.data ? text.data : "", text.len, &o, deliver, ss, &res, &err) < 0)
		pane_warn("serve", "self-metrics: %s", err.msg);
	else if (res.bad_lines)
		pane_warn("serve", "self-metrics: line %zu: %s", res.line, res.first_error);
	pane_buf_release(&text);
}

static void *selfscrape_main(void *arg)
{
	struct selfscrape *ss = arg;
	pthread_mutex_lock(&ss->mu);
	while (!ss->stop) {
		pthread_mutex_unlock(&ss->mu);
		scrape_once(ss);
		pthread_mutex_lock(&ss->mu);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += ss->interval_ms / 1000;
		ts.tv_nsec += (ss->interval_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (!ss->stop && pthread_cond_timedwait(&ss->cv, &ss->mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&ss->mu);
	return NULL;
}

static void selfscrape_stop(void *arg)
{
	struct selfscrape *ss = arg;
	pthread_mutex_lock(&ss->mu);
	ss->stop = true;
	pthread_cond_signal(&ss->cv);
	pthread_mutex_unlock(&ss->mu);
	pthread_join(ss->thread, NULL);
	pthread_mutex_destroy(&ss->mu);
	pthread_cond_destroy(&ss->cv);
	pane_labels_release(&ss->extra);
	pane_labels_release(&ss->defaults);
	free(ss);
}

int pane_serve_selfscrape_start(struct pane_host *h, struct pane_err *err)
{
	/* The store's section owns the key (and has checked it while binding). */
	int64_t ms = SELF_DEFAULT_MS;
	const struct pane_cfg_node *n = pane_cfg_lookup(h->cfg->root, "store.self_metrics_interval");
	if (n && n->kind == PANE_CFG_SCALAR && n->value) {
		struct pane_str t = pane_str_trim(pane_str_c(n->value));
		if (t.len == 1 && t.p[0] == '0')
			ms = 0;
		else if (pane_duration_parse(t, 0, &ms) < 0)
			return pane_cfg_error(h->cfg, n, err, "'%s' is not a duration such as 30s, 5m or 7d", n->value);
	}
	if (ms <= 0 || !h->pipeline)
		return 0;
	struct selfscrape *ss = pane_xcalloc(1, sizeof *ss);
	ss->h = h;
	ss->interval_ms = ms;
	pane_labels_init(&ss->extra);
	/* the three standard labels, so pane's own series are not "unlabelled":
	 * its environment is receivers.default_labels' (the receivers' part
	 * owns and checks the key), else the sources' default */
	const struct pane_cfg_node *env = pane_cfg_lookup(h->cfg->root, "receivers.default_labels.environment");
	pane_labels_set(&ss->extra, PANE_LABEL_PROVIDER, "pane");
	pane_labels_init(&ss->defaults);
	pane_labels_set(&ss->defaults, PANE_LABEL_SERVICE, "pane");
	pane_labels_set(&ss->defaults, PANE_LABEL_ENVIRONMENT,
	                env && env->kind == PANE_CFG_SCALAR && env->value && *env->value ? env->value
	                                                                                 : PANE_DEFAULT_ENVIRONMENT);
	pthread_mutex_init(&ss->mu, NULL);
	pthread_cond_init(&ss->cv, NULL);
	if (pthread_create(&ss->thread, NULL, selfscrape_main, ss) != 0) {
		pthread_mutex_destroy(&ss->mu);
		pthread_cond_destroy(&ss->cv);
		pane_labels_release(&ss->extra);
		pane_labels_release(&ss->defaults);
		free(ss);
		return pane_err_set(err, PANE_EIO, "cannot start the self-metrics thread");
	}
	pane_host_on_stop(h, selfscrape_stop, ss);
	return 0;
}
