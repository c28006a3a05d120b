/*
 * changes.c - deploys become PagerDuty change events.
 *
 * Idea: a secondary sink on the pipeline takes events; a deploy that went
 * live becomes a change event on every PagerDuty integration (Events API
 * v2's /change/enqueue beside the configured /enqueue), queued like any
 * other job so a slow PagerDuty holds up nothing.
 *
 * Invariants:
 *   (1) the sink belongs to the pipeline (it frees it, later than the
 *       notifier); detaching sets its notify to NULL under its own mutex,
 *       so a late write sends nothing;
 *   (2) Render reports every step of a deploy (created, build_in_progress,
 *       live, deactivated): only "live", or a deploy without a status, is
 *       a change.
 *
 * Threads: producers' threads (the pipeline's write), under es->mu then nt->mu.
 */
#include "notify/notify_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "pipeline/pipeline.h"
#include "pipeline/sink.h"
#include "host/host.h"

struct evsink {
	pthread_mutex_t mu;
	struct notify *nt;
};

static void change_event(struct notify *nt, const struct pane_event *e)
{
	for (size_t i = 0; i < nt->n_integs; i++) {
		struct integ *in = nt->integs[i];
		if (strcmp(in->kind, "pagerduty"))
			continue;
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		struct pane_json pj;
		pane_json_init(&pj, &b);
		pane_json_obj(&pj);
		pane_json_key(&pj, "routing_key");
		pane_json_str(&pj, in->pd.routing_key);
		pane_json_key(&pj, "payload");
		pane_json_obj(&pj);
		const char *t = e->title ? e->title : "deploy";
		pane_json_key(&pj, "summary");
		pane_json_strn(&pj, t, strnlen(t, 1024));
		pane_json_key(&pj, "timestamp");
		pane_notify_json_time(&pj, e->ts_ms);
		const char *svc = e->labels ? pane_labels_get(e->labels, "service") : NULL;
		pane_json_key(&pj, "source");
		pane_json_str(&pj, svc ? svc : "pane");
		pane_json_key(&pj, "custom_details");
		if (e->labels)
			pane_labels_json_value(&pj, e->labels);
		else
			pane_json_raw(&pj, "{}");
		pane_json_obj_end(&pj);
		if (e->url && *e->url) {
			pane_json_key(&pj, "links");
			pane_json_arr(&pj);
			pane_json_obj(&pj);
			pane_json_key(&pj, "href");
			pane_json_str(&pj, e->url);
			pane_json_key(&pj, "text");
			pane_json_str(&pj, "deploy");
			pane_json_obj_end(&pj);
			pane_json_arr_end(&pj);
		}
		pane_json_obj_end(&pj);
		/* .../v2/enqueue -> .../v2/change/enqueue */
		struct pane_buf u;
		pane_buf_init(&u, PANE_BUF_NOLIMIT);
		const char *url = in->pd.url;
		const char *cut = strstr(url, "/enqueue");
		if (cut && !cut[8])
			pane_buf_add(&u, url, (size_t)(cut - url));
		else
			pane_buf_adds(&u, url);
		pane_buf_adds(&u, "/change/enqueue");
		struct job *j = pane_xcalloc(1, sizeof *j);
		j->kind = JOB_CHANGE;
		j->body = pane_buf_detach(&b, NULL);
		j->group_key = pane_buf_detach(&u, NULL); /* the change URL */
		pane_notify_integ_push(in, j);
	}
}

/* A deploy is a change once it is live: Render reports every step of one
 * (created, build_in_progress, live, deactivated); a deploy event without a
 * status is taken as it comes. */
static bool went_live(const struct pane_event *e)
{
	const char *st = e->labels ? pane_labels_get(e->labels, "status") : NULL;
	return !st || !strcmp(st, "live");
}

static int ev_write(void *ctx, const struct pane_event *e, size_t n, struct pane_err *err)
{
	struct evsink *es = ctx;
	pthread_mutex_lock(&es->mu);
	if (es->nt) {
		pthread_mutex_lock(&es->nt->mu);
		for (size_t i = 0; i < n; i++)
			if (e[i].kind && !strcmp(e[i].kind, "deploy") && went_live(&e[i]))
				change_event(es->nt, &e[i]);
		pthread_mutex_unlock(&es->nt->mu);
	}
	pthread_mutex_unlock(&es->mu);
	return 0;
}

static void ev_close(void *ctx)
{
	struct evsink *es = ctx;
	pthread_mutex_destroy(&es->mu);
	free(es);
}

static const struct pane_sink_ops ev_ops = {.name = "notify", .write_events = ev_write, .close = ev_close};

void pane_notify_changes_attach(struct notify *nt)
{
	if (!nt->s->pipeline)
		return;
	struct evsink *es = pane_xcalloc(1, sizeof *es);
	pthread_mutex_init(&es->mu, NULL);
	es->nt = nt;
	nt->es = es;
	pane_pipeline_add_sink(nt->s->pipeline, (struct pane_sink){&ev_ops, es}, 0);
}

void pane_notify_changes_detach(struct notify *nt)
{
	if (!nt->es)
		return;
	pthread_mutex_lock(&nt->es->mu);
	nt->es->nt = NULL;
	pthread_mutex_unlock(&nt->es->mu);
}
