/*
 * integ.c - integrations: one queue and one thread per Slack, PagerDuty,
 * webhook or forwarded-to Alertmanager, and the decision to send.
 *
 * Idea: a slow or dead receiver must never delay another receiver, the
 * dispatcher or rule evaluation, so each integration has its own bounded
 * queue and thread, and sends outside nt->mu. Before a notification is
 * sent, the integration asks the notification log (db.c) whether anything
 * changed since the last successful one for that group - new firing
 * alerts, newly resolved ones, repeat_interval passed: Alertmanager's
 * DedupStage. It writes the log only after a success, so a restart neither
 * pages twice nor forgets a resolve.
 *
 * Invariants:
 *   (1) a queue keeps only the newest notification per group (a waiting
 *       older one is replaced) and at most 10,000 jobs (more are dropped
 *       and counted as queue_full);
 *   (2) delivery retries timeouts, transport errors, 5xx and 429 (after its
 *       Retry-After) with backoff until the config's give_up; a final
 *       failure is logged, counted and written as a "notification" event;
 *   (3) an integration is stopped (its client cancelled) and joined before
 *       its config (templates) is freed.
 *
 * Threads: pane_notify_integ_push from any thread holding nt->mu or not;
 * integ_main on the integration's own thread.
 */
#include "notify/notify_internal.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/stats.h"
#include "http/client.h"
#include "http/server.h"
#include "pipeline/pipeline.h"
#include "host/host.h"

static void snap_release(struct nsnap *a)
{
	pane_labels_release(&a->labels);
	pane_labels_release(&a->annotations);
	free(a->generator_url);
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		snap_release(&j->alerts[i]);
	free(j->alerts);
	free(j->group_key);
	pane_labels_release(&j->glabels);
	free(j->body);
	free(j);
}

static const char *ext_url(struct notify *nt)
{
	if (nt->cfg && nt->cfg->external_url)
		return nt->cfg->external_url;
	if (!nt->external_url) { /* the listen address with the bound port (known once serving) */
		const char *listen = pane_http_server_listen(nt->s->http);
		const char *colon = listen ? strrchr(listen, ':') : NULL;
		struct pane_buf u;
		pane_buf_init(&u, PANE_BUF_NOLIMIT);
		if (!colon || colon == listen || !strncmp(listen, "0.0.0.0:", 8))
			pane_buf_adds(&u, "http://localhost");
		else
			pane_buf_addf(&u, "http://%.*s", (int)(colon - listen), listen);
		pane_buf_addf(&u, ":%d", pane_http_server_port(nt->s->http));
		nt->external_url = pane_buf_detach(&u, NULL);
	}
	return nt->external_url;
}

static void stat_failed(struct notify *nt, const char *receiver, const char *reason)
{
	char l[512];
	snprintf(l, sizeof l, "receiver=\"%s\",reason=\"%s\"", receiver, reason);
	pane_stat_inc(pane_stats_counter(nt->stats, "pane_notifications_failed_total", l,
	                                 "notifications that could not be delivered, by receiver and reason"));
}

static bool fps_contains(const char *text, uint64_t fp)
{
	char h[20];
	snprintf(h, sizeof h, "%016llx", (unsigned long long)fp);
	return text && strstr(text, h) != NULL;
}

void pane_notify_integ_push(struct integ *in, struct job *j)
{
	pthread_mutex_lock(&in->mu);
	/* the newest job for a group replaces a waiting older one */
	if (j->kind == JOB_NOTIFY) {
		for (struct job *q = in->head; q; q = q->next) {
			if (q->kind == JOB_NOTIFY && !strcmp(q->group_key, j->group_key)) {
				struct job *keep = q->next;
				struct job tmp = *q;
				*q = *j;
				q->next = keep;
				tmp.next = NULL;
				*j = tmp;
				pthread_mutex_unlock(&in->mu);
				job_free(j);
				return;
			}
		}
	}
	if (in->queued >= 10000) { /* bounded: a dead receiver must not eat memory */
		pthread_mutex_unlock(&in->mu);
		stat_failed(in->nt, in->receiver, "queue_full");
		job_free(j);
		return;
	}
	if (in->tail)
		in->tail->next = j;
	else
		in->head = j;
	in->tail = j;
	in->queued++;
	pthread_cond_signal(&in->cv);
	pthread_mutex_unlock(&in->mu);
}

static bool integ_cancel(void *arg)
{
	struct integ *in = arg;
	pthread_mutex_lock(&in->mu);
	bool s = in->stop;
	pthread_mutex_unlock(&in->mu);
	return s;
}

static const char *reason_of(int rc, long status)
{
	if (rc == PANE_ETIMEDOUT)
		return "timeout";
	if (status == 429 || rc == PANE_EAGAIN)
		return "rate_limited";
	if (status >= 500)
		return "server_error";
	if (status >= 400)
		return "client_error";
	return "connection";
}

static void failure_event(struct notify *nt, struct integ *in, const char *reason, const char *msg)
{
	pane_warn("notify", "%s (%s): %s", in->receiver, in->kind, msg);
	if (!nt->s || !nt->s->pipeline)
		return;
	struct pane_labels ls;
	pane_labels_init(&ls);
	pane_labels_set(&ls, "provider", "pane");
	pane_labels_set(&ls, "receiver", in->receiver);
	pane_labels_set(&ls, "integration", in->kind);
	pane_labels_set(&ls, "reason", reason);
	char title[600];
	snprintf(title, sizeof title, "notification to %s (%s) failed: %s", in->receiver, in->kind, msg);
	struct pane_event ev = {.ts_ms = pane_wall_ms(), .kind = "notification", .labels = &ls, .title = title};
	struct pane_err err = {0};
	pane_pipeline_write_events(nt->s->pipeline, &ev, 1, &err);
	pane_labels_release(&ls);
}

/* POSTs body; retries timeouts, transport errors, 5xx and 429 (after its
 * Retry-After) with backoff until give_up. 0 on a 2xx. */
static int deliver(struct integ *in, const char *url, const char *body, int64_t give_up_ms)
{
	struct notify *nt = in->nt;
	int64_t deadline = pane_wall_ms() + give_up_ms;
	for (int attempt = 1;; attempt++) {
		struct pane_http_response r;
		pane_http_response_init(&r);
		struct pane_err err = {0};
		/* "Expect:" off: no 100-continue round trip before each body */
		const char *hdrs[] = {"Content-Type: application/json", "Expect:", in->auth, NULL};
		int rc = 0;
		bool no_token = in->oauth && !(hdrs[2] = pane_notify_oauth2_auth(in, &err));
		if (no_token)
			rc = err.code ? err.code : PANE_EIO; /* a failed attempt like any other */
		if (rc == 0)
			rc = pane_http_client_do(in->http,
			                         &(struct pane_http_request){.method = "POST",
			                                                     .url = url,
			                                                     .headers = hdrs,
			                                                     .body = body,
			                                                     .body_len = strlen(body),
			                                                     .basic_user = in->basic_user,
			                                                     .basic_pass = in->basic_pass},
			                         &r, &err);
		long status = r.status;
		int64_t ra = r.retry_after_ms;
		pane_http_response_release(&r);
		if (rc == 0)
			return 0;
		if (rc == PANE_EPERM && in->oauth_auth) { /* a revoked token: the next attempt asks for another */
			free(in->oauth_auth);
			in->oauth_auth = NULL;
		}
		if (rc == PANE_ECANCELED)
			return rc;
		const char *reason = no_token ? "oauth2" : reason_of(rc, status);
		stat_failed(nt, in->receiver, reason);
		bool retry = status == 0 || status == 429 || status >= 500 || rc == PANE_ETIMEDOUT;
		int64_t wait = pane_http_backoff_ms(attempt, 200, 30000, pane_random_u64());
		if (status == 429 && ra >= 0)
			wait = ra;
		if (!retry || pane_wall_ms() + wait > deadline) {
			failure_event(nt, in, reason, err.msg);
			return rc;
		}
		pane_debug("notify", "%s (%s): %s; retrying in %lld ms", in->receiver, in->kind, err.msg,
		           (long long)wait);
		if (!pane_http_client_sleep(in->http, wait))
			return PANE_ECANCELED;
	}
}

/* Alertmanager's DedupStage.needsUpdate */
static bool needs_update(const struct nflog_entry *e, const struct job *j, bool send_resolved, int64_t now)
{
	size_t nf = 0;
	for (size_t i = 0; i < j->n; i++)
		nf += !j->alerts[i].resolved;
	if (!e->found)
		return nf > 0;
	for (size_t i = 0; i < j->n; i++) /* a firing alert not notified yet */
		if (!j->alerts[i].resolved && !fps_contains(e->firing, j->alerts[i].fp))
			return true;
	if (nf == 0)
		return e->firing && *e->firing;
	if (send_resolved)
		for (size_t i = 0; i < j->n; i++)
			if (j->alerts[i].resolved && !fps_contains(e->resolved, j->alerts[i].fp))
				return true;
	return e->ts <= now - j->repeat_ms;
}

static void run_notify(struct integ *in, struct job *j)
{
	struct notify *nt = in->nt;
	int64_t now = pane_wall_ms();
	struct nflog_entry e;
	pane_notify_nflog_get(nt, in->rkey, j->group_key, &e);
	bool go = needs_update(&e, j, in->send_resolved, now);
	free(e.firing);
	free(e.resolved);
	if (!go)
		return;
	struct pane_buf firing, resolved;
	pane_buf_init(&firing, PANE_BUF_NOLIMIT);
	pane_buf_init(&resolved, PANE_BUF_NOLIMIT);
	size_t nf = 0;
	for (size_t i = 0; i < j->n; i++) {
		struct pane_buf *b = j->alerts[i].resolved ? &resolved : &firing;
		pane_buf_addf(b, "%s%016llx", b->len ? "," : "", (unsigned long long)j->alerts[i].fp);
		nf += !j->alerts[i].resolved;
	}
	/* without send_resolved only the firing alerts are shown; nothing firing: nothing to send */
	size_t nshow = j->n;
	struct nsnap *show = j->alerts;
	struct nsnap *tmp = NULL;
	if (!in->send_resolved) {
		tmp = pane_xcalloc(j->n + 1, sizeof *tmp);
		nshow = 0;
		for (size_t i = 0; i < j->n; i++)
			if (!j->alerts[i].resolved)
				tmp[nshow++] = j->alerts[i];
		show = tmp;
	}
	int rc = 0;
	if (nshow > 0) {
		pthread_mutex_lock(&nt->mu);
		char *ext = pane_xstrdup(ext_url(nt));
		int64_t give_up = nt->cfg ? nt->cfg->give_up_ms : 3600000;
		pthread_mutex_unlock(&nt->mu);
		struct nmsg m = {.receiver = in->receiver,
		                 .group_key = j->group_key,
		                 .group_labels = &j->glabels,
		                 .alerts = show,
		                 .n = nshow,
		                 .external_url = ext,
		                 .tmpl = in->tmpl};
		struct pane_buf body;
		pane_buf_init(&body, PANE_BUF_NOLIMIT);
		if (!strcmp(in->kind, "slack"))
			pane_notify_slack_payload(&body, &in->slack, &m);
		else if (!strcmp(in->kind, "pagerduty"))
			pane_notify_pagerduty_payload(&body, &in->pd, &m);
		else
			pane_notify_webhook_payload(&body, &in->wh, &m);
		rc = deliver(in, in->url, body.data, give_up);
		if (rc == 0)
			pane_stat_inc(in->sent);
		pane_buf_release(&body);
		free(ext);
	}
	if (rc == 0)
		pane_notify_nflog_put(nt, in->rkey, j->group_key, firing.data ? firing.data : "",
		                      resolved.data ? resolved.data : "", pane_wall_ms());
	free(tmp);
	pane_buf_release(&firing);
	pane_buf_release(&resolved);
}

static void *integ_main(void *arg)
{
	struct integ *in = arg;
	for (;;) {
		pthread_mutex_lock(&in->mu);
		while (!in->head && !in->stop)
			pthread_cond_wait(&in->cv, &in->mu);
		if (in->stop) {
			pthread_mutex_unlock(&in->mu);
			break;
		}
		struct job *j = in->head;
		in->head = j->next;
		if (!in->head)
			in->tail = NULL;
		in->queued--;
		pthread_mutex_unlock(&in->mu);
		if (j->kind == JOB_NOTIFY) {
			run_notify(in, j);
		} else {
			pthread_mutex_lock(&in->nt->mu);
			int64_t give_up = in->nt->cfg ? in->nt->cfg->give_up_ms : 3600000;
			pthread_mutex_unlock(&in->nt->mu);
			const char *url = j->kind == JOB_CHANGE ? j->group_key : in->url;
			if (deliver(in, url, j->body, give_up) == 0)
				pane_stat_inc(in->sent);
		}
		job_free(j);
	}
	return NULL;
}

static char *dupn(const char *s)
{
	return s ? pane_xstrdup(s) : NULL;
}

/* h: the integration's http_config (NULL: defaults); its strings are copied */
static struct integ *integ_new(struct notify *nt, const char *receiver, const char *kind, size_t idx, const char *url,
                               const struct pane_am_http *h)
{
	struct integ *in = pane_xcalloc(1, sizeof *in);
	in->nt = nt;
	in->receiver = pane_xstrdup(receiver);
	in->kind = kind;
	in->url = pane_xstrdup(url);
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_addf(&b, "%s/%s/%zu", receiver, kind, idx);
	in->rkey = pane_buf_detach(&b, NULL);
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->cv, NULL);
	in->http = pane_http_client_new(
	    &(struct pane_http_client_opts){.timeout_ms = 10000,
	                                    .connect_timeout_ms = 3000,
	                                    .max_retries = -1,
	                                    .cancel = integ_cancel,
	                                    .cancel_arg = in,
	                                    .max_body = 1 << 20,
	                                    .follow_redirects = h ? h->follow_redirects : false,
	                                    .proxy_url = h ? h->proxy_url : NULL,
	                                    .no_proxy = h ? h->no_proxy : NULL,
	                                    .proxy_headers = h ? (const char *const *)h->proxy_headers : NULL,
	                                    /* Alertmanager's: the environment's proxy only when asked */
	                                    .no_env_proxy = h && !h->proxy_from_environment,
	                                    .http1_only = h && !h->enable_http2,
	                                    .ca_file = h ? h->ca_file : NULL,
	                                    .cert_file = h ? h->cert_file : NULL,
	                                    .key_file = h ? h->key_file : NULL,
	                                    .ca_pem = h ? h->ca : NULL,
	                                    .cert_pem = h ? h->cert : NULL,
	                                    .key_pem = h ? h->key : NULL,
	                                    .tls_min_version = h ? h->tls_min_version : 0,
	                                    .tls_max_version = h ? h->tls_max_version : 0,
	                                    .insecure_skip_verify = h && h->insecure_skip_verify});
	if (h && h->auth_credentials) {
		struct pane_buf a;
		pane_buf_init(&a, PANE_BUF_NOLIMIT);
		pane_buf_addf(&a, "Authorization: %s %s", h->auth_type ? h->auth_type : "Bearer", h->auth_credentials);
		in->auth = pane_buf_detach(&a, NULL);
	}
	if (h && h->basic_user) {
		in->basic_user = pane_xstrdup(h->basic_user);
		in->basic_pass = dupn(h->basic_pass);
	}
	in->oauth = h ? pane_am_oauth2_dup(h->oauth2) : NULL;
	char l[512];
	snprintf(l, sizeof l, "receiver=\"%s\",integration=\"%s\"", receiver, kind);
	in->sent = pane_stats_counter(nt->stats, "pane_notifications_total", l,
	                              "notifications delivered, by receiver and integration");
	return in;
}

void pane_notify_integ_free(struct integ *in)
{
	pthread_mutex_lock(&in->mu);
	in->stop = true;
	pthread_cond_signal(&in->cv);
	pthread_mutex_unlock(&in->mu);
	if (in->started)
		pthread_join(in->th, NULL);
	for (struct job *j = in->head, *nx; j; j = nx) {
		nx = j->next;
		job_free(j);
	}
	pane_http_client_free(in->http);
	pane_am_slack_release(&in->slack);
	pane_am_pagerduty_release(&in->pd);
	free(in->auth), free(in->basic_user), free(in->basic_pass);
	pane_notify_oauth2_release(in);
	free(in->url);
	free(in->receiver);
	free(in->rkey);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->cv);
	free(in);
}

void pane_notify_integs_build(struct notify *nt, const struct pane_am_config *c, struct integ ***out, size_t *nout)
{
	size_t cap = 8, n = 0;
	struct integ **v = pane_xcalloc(cap, sizeof *v);
#define PUSH(x)                                                                                                        \
	do {                                                                                                           \
		if (n == cap)                                                                                          \
			v = pane_xrealloc(v, (cap *= 2) * sizeof *v);                                                  \
		v[n++] = (x);                                                                                          \
	} while (0)
	for (size_t i = 0; i < c->n_receivers; i++) {
		const struct pane_am_receiver *rv = &c->receivers[i];
		for (size_t j = 0; j < rv->n_slack; j++) {
			const struct pane_am_slack *s = &rv->slack[j];
			struct integ *in = integ_new(nt, rv->name, "slack", j, s->api_url, &s->http);
			in->send_resolved = s->send_resolved;
			pane_am_slack_copy(&in->slack, s);
			in->tmpl = c->tmpl;
			PUSH(in);
		}
		for (size_t j = 0; j < rv->n_pagerduty; j++) {
			const struct pane_am_pagerduty *p = &rv->pagerduty[j];
			struct integ *in = integ_new(nt, rv->name, "pagerduty", j, p->url, &p->http);
			in->send_resolved = p->send_resolved;
			in->tmpl = c->tmpl;
			pane_am_pagerduty_copy(&in->pd, p);
			PUSH(in);
		}
		for (size_t j = 0; j < rv->n_webhook; j++) {
			const struct pane_am_webhook *w = &rv->webhook[j];
			struct integ *in = integ_new(nt, rv->name, "webhook", j, w->url, &w->http);
			in->send_resolved = w->send_resolved;
			in->wh =
			    (struct pane_am_webhook){.send_resolved = w->send_resolved, .max_alerts = w->max_alerts};
			PUSH(in);
		}
	}
	for (size_t i = 0; i < c->n_forward; i++) {
		struct pane_buf u;
		pane_buf_init(&u, PANE_BUF_NOLIMIT);
		const char *base = c->forward[i].url;
		size_t bl = strlen(base);
		pane_buf_add(&u, base, bl && base[bl - 1] == '/' ? bl - 1 : bl);
		pane_buf_adds(&u, "/api/v2/alerts");
		PUSH(integ_new(nt, base, "alertmanager", i, u.data, NULL));
		pane_buf_release(&u);
	}
#undef PUSH
	*out = v;
	*nout = n;
}

void pane_notify_integs_start(struct integ **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i]->started = pthread_create(&v[i]->th, NULL, integ_main, v[i]) == 0;
}

void pane_notify_forward(struct notify *nt, const char *json)
{
	for (size_t i = 0; i < nt->n_integs; i++) {
		if (strcmp(nt->integs[i]->kind, "alertmanager"))
			continue;
		struct job *j = pane_xcalloc(1, sizeof *j);
		j->kind = JOB_FORWARD;
		j->body = pane_xstrdup(json);
		pane_notify_integ_push(nt->integs[i], j);
	}
}
