/*
 * notify_internal.h - the notifier's shared state: what notify.c (life
 * cycle), alerts.c (the alert store), dispatch.c (groups and flushes),
 * integ.c (one queue + thread per integration), silence.c, amapi.c
 * (Alertmanager's /api/v2), db.c (notify.db) and changes.c (deploys as
 * PagerDuty change events) hand each other. Not a seam: nothing outside
 * src/notify includes it. (The payload builders' view of a notification,
 * shared with msg.c, cli.c and the tests, is notify/internal.h.)
 *
 * Locking (one rule for every file):
 *   (1) struct notify's mu guards alerts, groups, sil, integs, cfg, gen and
 *       the inhibit sources; functions below marked "nt->mu held" expect it.
 *   (2) db_mu guards the SQLite handle; the db.c functions take it
 *       themselves, so they may be called with or without nt->mu.
 *   (3) an integration's mu guards only its own queue and stop flag; nothing
 *       is sent with nt->mu held.
 */
#ifndef PANE_NOTIFY_NOTIFY_INTERNAL_H
#define PANE_NOTIFY_NOTIFY_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/map.h"
#include "base/stats.h"
#include "base/vec.h"
#include "alert/alert.h"
#include "notify/amconfig.h"
#include "notify/internal.h"
#include "pipeline/record.h"

struct pane_host;
struct pane_http_server;

#define PANE_NOTIFY_MAX_ROUTES_PER_ALERT 64

/* An alert in the store, keyed by fp (the label set's fingerprint). */
struct nalert {
	uint64_t fp;
	struct pane_labels labels, annotations;
	int64_t starts_ms, ends_ms, updated_ms;
	char *generator_url;
};

/* An aggregation group: one route and the values of its group_by labels. */
struct ngroup {
	char *key;
	const struct pane_am_route *route;
	struct pane_labels labels;
	uint64_t *fps;
	size_t n, cap;
	int64_t next_ms;
	bool flushed;
};

struct nsilence {
	char id[40];
	json_t *matchers; /* the API's [{name,value,isRegex,isEqual}] */
	struct pane_am_matchers m;
	int64_t starts_ms, ends_ms, updated_ms;
	char *created_by, *comment;
};

enum job_kind { JOB_NOTIFY, JOB_CHANGE, JOB_FORWARD };

/* What an integration's thread is asked to send. */
struct job {
	enum job_kind kind;
	char *group_key;
	struct pane_labels glabels;
	struct nsnap *alerts;
	size_t n;
	int64_t repeat_ms;
	char *body; /* JOB_CHANGE / JOB_FORWARD: ready JSON */
	struct job *next;
};

struct notify;
struct evsink;

struct integ {
	struct notify *nt;
	char *receiver, *rkey; /* rkey: "receiver/kind/index" (the log's key) */
	const char *kind;      /* "slack", "pagerduty", "webhook", "alertmanager" */
	char *url;
	bool send_resolved;
	struct pane_am_slack slack;
	struct pane_am_pagerduty pd;
	struct pane_am_webhook wh;
	const struct pane_tmpl_set *tmpl; /* the config's; it outlives the integration (joined first) */
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	size_t queued;
	bool stop;
	struct pane_http_client *http;
	char *auth;                    /* "Authorization: <type> <credentials>" (http_config) or NULL */
	char *basic_user, *basic_pass; /* http_config.basic_auth or NULL */
	/* http_config.oauth2 (oauth2.c; the integration's thread only) */
	struct pane_am_oauth2 *oauth; /* a copy; NULL: none */
	char *oauth_auth;             /* "Authorization: <type> <token>" while the token is valid */
	int64_t oauth_expiry_ms;      /* wall ms; 0: does not expire */
	int oauth_style;              /* 0: not known yet; 1: credentials as HTTP Basic; 2: in the form */
	struct pane_stat *sent;
};

struct notify {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pane_host *s;
	struct pane_am_config *cfg;
	struct pane_map alerts; /* fp (8 bytes) -> struct nalert* */
	struct pane_map groups; /* key -> struct ngroup* */
	struct nsilence **sil;
	size_t n_sil;
	struct integ **integs;
	size_t n_integs;
	sqlite3 *db;
	pthread_mutex_t db_mu;
	pthread_t th;
	bool th_started;
	uint64_t gen, src_gen; /* alert store / config changes; the inhibit sources' view */
	struct pane_vec *src;  /* per inhibit rule: struct nalert * that match its source */
	size_t n_src;
	bool stop;
	int64_t started_ms;
	char *external_url;
	struct pane_alert_sink sink;
	struct pane_stats *stats;
	struct pane_stat *flushes;
	struct evsink *es; /* the events sink (deploys), owned by the pipeline */
};

static inline bool alert_resolved(const struct nalert *a, int64_t now)
{
	return a->ends_ms > 0 && a->ends_ms <= now;
}

/* ---- alerts.c: the alert store ---- */

/* pane_map value destructor of nt->alerts. */
void pane_notify_alert_free(void *p);
/* An alert as Alertmanager's postable alert (what the store keeps and forwards). */
void pane_notify_alert_json(struct pane_json *j, const struct nalert *a);
/* The members both the postable and the gettable alert start with (labels,
 * annotations, startsAt, endsAt, updatedAt when asked, generatorURL), for
 * an object the caller opened. */
void pane_notify_alert_members(struct pane_json *j, const struct nalert *a, bool updated);
/* A JSON object of strings into *ls (initialised here, even on failure);
 * names_strict: refuse invalid names instead of skipping them. 0 or PANE_EINVAL. */
int pane_notify_labels_from_json(json_t *obj, struct pane_labels *ls, bool names_strict, struct pane_err *err);
/* RFC 3339 (null, "" and Go's zero time: 0). 0 or PANE_EINVAL. */
int pane_notify_time_from_json(json_t *v, int64_t *out, struct pane_err *err);
/* Stores (merges) one alert; NULL past the store's limit. nt->mu held. */
struct nalert *pane_notify_store_alert(struct notify *nt, const struct pane_labels *labels,
                                       const struct pane_labels *annotations, int64_t starts, int64_t ends,
                                       const char *gen, int64_t now);
/* Takes a batch (JSON array of postable alerts): all or none. Takes nt->mu.
 * 0, PANE_EINVAL, or PANE_ETOOBIG (the store is full). */
int pane_notify_put_alerts(struct notify *nt, json_t *arr, struct pane_err *err);
/* Forgets alerts resolved over an hour ago. nt->mu held. */
void pane_notify_gc_alerts(struct notify *nt, int64_t now);
/* The rules' alert sink (struct pane_alert_sink.send); ctx is the notify. */
void pane_notify_sink_send(void *ctx, const struct pane_alert *alerts, size_t n);

/* ---- dispatch.c: aggregation groups, inhibition, flushes ---- */

/* pane_map value destructor of nt->groups. */
void pane_notify_group_free(void *p);
/* Puts the alert in the group of every route it matches. nt->mu held. */
void pane_notify_route_alert(struct notify *nt, struct nalert *a, int64_t now);
/* Regroups every alert under the current config (start, reload). nt->mu held. */
void pane_notify_regroup(struct notify *nt);
/* Whether an inhibit rule mutes t now; with ids, every inhibiting alert's
 * fingerprint is written to it as a string. nt->mu held. */
bool pane_notify_inhibited_by(struct notify *nt, const struct nalert *t, int64_t now, struct pane_json *ids);
/* The dispatcher thread (arg: the notify): flushes due groups until nt->stop. */
void *pane_notify_dispatcher(void *arg);

/* ---- integ.c: integrations, one queue + thread each ---- */

/* Queues j (taken) on the integration; a waiting job of the same group is
 * replaced; a full queue drops j and counts it. */
void pane_notify_integ_push(struct integ *in, struct job *j);
/* One integration per receiver integration and forward target of c; not started. */
void pane_notify_integs_build(struct notify *nt, const struct pane_am_config *c, struct integ ***out, size_t *nout);
void pane_notify_integs_start(struct integ **v, size_t n);
/* Stops and joins the thread, drops what is queued. */
void pane_notify_integ_free(struct integ *in);
/* oauth2.c: the Authorization line for the next request of an integration
 * with http_config.oauth2, fetching a token when it has none or it expires
 * within 10 s (the integration's thread). NULL with err set when none could
 * be had. */
const char *pane_notify_oauth2_auth(struct integ *in, struct pane_err *err);
void pane_notify_oauth2_release(struct integ *in);
/* Queues json (an array of postable alerts) for every Alertmanager forwarded to. nt->mu held. */
void pane_notify_forward(struct notify *nt, const char *json);

/* ---- silence.c ---- */

void pane_notify_silence_free(struct nsilence *s);
/* Alertmanager's gettable silence; now == 0 (the store's copy) says active. */
void pane_notify_silence_json(struct pane_json *j, const struct nsilence *s, int64_t now);
/* Alertmanager's postable silence (id not read); NULL with err set. */
struct nsilence *pane_notify_silence_from_json(json_t *o, struct pane_err *err);
/* NULL when no silence has that id. nt->mu held. */
struct nsilence *pane_notify_silence_find(struct notify *nt, const char *id);
/* A random (version 4) UUID. */
void pane_notify_silence_new_id(char out[40]);
/* Whether a silence active now matches ls; with ids, each one's id is written to it. nt->mu held. */
bool pane_notify_silenced_by(struct notify *nt, const struct pane_labels *ls, int64_t now, struct pane_json *ids);

/* ---- amapi.c: Alertmanager's /api/v2 ---- */

void pane_notify_api_routes(struct notify *nt, struct pane_http_server *http);

/* ---- db.c: DATA_DIR/notify.db ---- */

struct nflog_entry {
	bool found;
	char *firing, *resolved;
	int64_t ts;
};

int pane_notify_db_open(struct notify *nt, const char *dir, struct pane_err *err);
/* Loads persisted alerts and silences; at attach, before any thread runs
 * (so without nt->mu). */
void pane_notify_db_load(struct notify *nt);
void pane_notify_db_put_alerts(struct notify *nt, struct nalert **v, size_t n);
void pane_notify_db_del_alert(struct notify *nt, uint64_t fp);
void pane_notify_db_put_silence(struct notify *nt, const struct nsilence *s);
/* The notification log's entry for (integration, group); free e->firing and e->resolved. */
void pane_notify_nflog_get(struct notify *nt, const char *rkey, const char *gkey, struct nflog_entry *e);
void pane_notify_nflog_put(struct notify *nt, const char *rkey, const char *gkey, const char *firing,
                           const char *resolved, int64_t ts);

/* ---- changes.c: deploys become PagerDuty change events ---- */

/* Adds the events sink to the host's pipeline (none without one); nt->es. */
void pane_notify_changes_attach(struct notify *nt);
/* From now on the sink sends nothing (it lives until the pipeline closes it). */
void pane_notify_changes_detach(struct notify *nt);

#endif
