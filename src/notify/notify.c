/*
 * notify.c - Alertmanager's dispatcher inside pane: alerts in, notifications
 * out, exactly once per change.
 *
 * Idea (Alertmanager 0.25's design, written anew):
 *  - an alert store keyed by fingerprint (the label set's hash) takes alerts
 *    from the rules (s->alerts) and from POST /api/v2/alerts;
 *  - each alert is routed through the tree; every matching route puts it in
 *    an aggregation group (route + group_by values). A group first flushes
 *    group_wait after it was created (at once when the alert is older than
 *    that), then every group_interval;
 *  - a flush drops silenced, inhibited and time-muted alerts and hands a copy
 *    of the rest to each of the receiver's integrations. Every integration
 *    has its own queue and thread, so a slow or dead Slack never delays
 *    PagerDuty, another receiver or rule evaluation; a queue keeps only the
 *    newest job per group;
 *  - before sending, the integration asks the notification log (SQLite in
 *    the data directory) whether anything changed since the last successful
 *    notification for that group (new firing alerts, newly resolved ones,
 *    repeat_interval passed) - Alertmanager's DedupStage. It writes the log
 *    only after a success, so a restart neither pages twice nor forgets a
 *    resolve; alerts and silences are persisted beside it.
 * One mutex guards alerts, groups, silences and the config; sends happen
 * outside it.
 */
#include "notify/notify.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/stats.h"
#include "base/str.h"
#include "base/vec.h"
#include "alert/alert.h"
#include "config/config.h"
#include "http/client.h"
#include "http/server.h"
#include "notify/amconfig.h"
#include "notify/internal.h"
#include "pipeline/pipeline.h"
#include "host/host.h"

#define MAX_ALERTS 200000
#define MAX_ROUTES_PER_ALERT 64
#define GC_RESOLVED_MS (60 * 60 * 1000)

struct nalert {
	uint64_t fp;
	struct pane_labels labels, annotations;
	int64_t starts_ms, ends_ms, updated_ms;
	char *generator_url;
};

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
	char *auth;                        /* "Authorization: <type> <credentials>" (http_config) or NULL */
	char *basic_user, *basic_pass;     /* http_config.basic_auth or NULL */
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

/* ---- small helpers ---- */

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

static void alert_free(void *p)
{
	struct nalert *a = p;
	pane_labels_release(&a->labels);
	pane_labels_release(&a->annotations);
	free(a->generator_url);
	free(a);
}

static void group_free(void *p)
{
	struct ngroup *g = p;
	free(g->key);
	pane_labels_release(&g->labels);
	free(g->fps);
	free(g);
}

static bool alert_resolved(const struct nalert *a, int64_t now)
{
	return a->ends_ms > 0 && a->ends_ms <= now;
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

/* ---- SQLite: alerts, silences, notification log ---- */

static int db_exec(struct notify *nt, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(nt->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		pane_warn("notify", "sqlite: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return PANE_EDB;
	}
	return 0;
}

static bool fps_contains(const char *text, uint64_t fp)
{
	char h[20];
	snprintf(h, sizeof h, "%016llx", (unsigned long long)fp);
	return text && strstr(text, h) != NULL;
}

struct nflog_entry {
	bool found;
	char *firing, *resolved;
	int64_t ts;
};

static void nflog_get(struct notify *nt, const char *rkey, const char *gkey, struct nflog_entry *e)
{
	memset(e, 0, sizeof *e);
	pthread_mutex_lock(&nt->db_mu);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(nt->db, "SELECT firing, resolved, ts FROM nflog WHERE rkey = ?1 AND gkey = ?2", -1, &st,
	                       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, rkey, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, gkey, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			e->found = true;
			e->firing = pane_xstrdup((const char *)sqlite3_column_text(st, 0));
			e->resolved = pane_xstrdup((const char *)sqlite3_column_text(st, 1));
			e->ts = sqlite3_column_int64(st, 2);
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&nt->db_mu);
}

static void nflog_put(struct notify *nt, const char *rkey, const char *gkey, const char *firing, const char *resolved,
                      int64_t ts)
{
	pthread_mutex_lock(&nt->db_mu);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(nt->db,
	                       "INSERT INTO nflog(rkey, gkey, firing, resolved, ts) VALUES(?1,?2,?3,?4,?5) "
	                       "ON CONFLICT(rkey, gkey) DO UPDATE SET firing=?3, resolved=?4, ts=?5",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, rkey, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, gkey, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, firing, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, resolved, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, ts);
		if (sqlite3_step(st) != SQLITE_DONE)
			pane_warn("notify", "notification log write failed: %s", sqlite3_errmsg(nt->db));
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&nt->db_mu);
}

/* An alert as Alertmanager's postable alert (what the store keeps and forwards). */
static void alert_json(struct pane_json *j, const struct nalert *a)
{
	pane_json_obj(j);
	pane_json_key(j, "labels");
	pane_labels_json_value(j, &a->labels);
	pane_json_key(j, "annotations");
	pane_labels_json_value(j, &a->annotations);
	pane_json_key(j, "startsAt");
	pane_notify_json_time(j, a->starts_ms);
	pane_json_key(j, "endsAt");
	pane_notify_json_time(j, a->ends_ms);
	pane_json_key(j, "generatorURL");
	pane_json_str(j, a->generator_url ? a->generator_url : "");
	pane_json_obj_end(j);
}

static void db_put_alerts(struct notify *nt, struct nalert **v, size_t n)
{
	pthread_mutex_lock(&nt->db_mu);
	db_exec(nt, "BEGIN");
	sqlite3_stmt *st = NULL;
	sqlite3_prepare_v2(nt->db, "INSERT OR REPLACE INTO alerts(fp, body, updated) VALUES(?1, ?2, ?3)", -1, &st,
	                   NULL);
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	for (size_t i = 0; st && i < n; i++) {
		pane_buf_reset(&b);
		struct pane_json j;
		pane_json_init(&j, &b);
		alert_json(&j, v[i]);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)v[i]->fp);
		sqlite3_bind_text(st, 2, b.data, (int)b.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, v[i]->updated_ms);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	pane_buf_release(&b);
	db_exec(nt, "COMMIT");
	pthread_mutex_unlock(&nt->db_mu);
}

static void db_del_alert(struct notify *nt, uint64_t fp)
{
	pthread_mutex_lock(&nt->db_mu);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(nt->db, "DELETE FROM alerts WHERE fp = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)fp);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&nt->db_mu);
}

static void silence_json(struct pane_json *j, const struct nsilence *s, int64_t now);

static void db_put_silence(struct notify *nt, const struct nsilence *s)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	struct pane_json j;
	pane_json_init(&j, &b);
	silence_json(&j, s, 0);
	pthread_mutex_lock(&nt->db_mu);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(nt->db, "INSERT OR REPLACE INTO silences(id, body) VALUES(?1, ?2)", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, b.data, (int)b.len, SQLITE_STATIC);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&nt->db_mu);
	pane_buf_release(&b);
}

/* ---- alerts in ---- */

static int labels_from_json(json_t *obj, struct pane_labels *ls, bool names_strict, struct pane_err *err)
{
	pane_labels_init(ls);
	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return pane_err_set(err, PANE_EINVAL, "labels and annotations must be objects");
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v)
	{
		if (!json_is_string(v))
			return pane_err_set(err, PANE_EINVAL, "value of '%s' must be a string", k);
		if (!names_strict && !pane_label_name_valid(k, strlen(k)))
			continue;
		if (pane_labels_set(ls, k, json_string_value(v)) < 0)
			return pane_err_set(err, PANE_EINVAL, "invalid label '%s'", k);
	}
	return 0;
}

static int time_from_json(json_t *v, int64_t *out, struct pane_err *err)
{
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return pane_err_set(err, PANE_EINVAL, "times must be RFC 3339 strings");
	const char *s = json_string_value(v);
	if (!*s || !strncmp(s, "0001-01-01", 10))
		return 0;
	if (pane_time_parse(pane_str_c(s), out) < 0)
		return pane_err_set(err, PANE_EINVAL, "bad time '%s'", s);
	return 0;
}

static void route_alert(struct notify *nt, struct nalert *a, int64_t now);

/* Alertmanager's merge: an update of a still-active alert keeps its start. */
static struct nalert *store_alert(struct notify *nt, const struct pane_labels *labels,
                                  const struct pane_labels *annotations, int64_t starts, int64_t ends, const char *gen,
                                  int64_t now)
{
	uint64_t fp = pane_notify_fingerprint(labels);
	struct nalert *a = pane_map_get(&nt->alerts, &fp, sizeof fp);
	if (starts <= 0)
		starts = now;
	if (ends <= 0)
		ends = now + (nt->cfg ? nt->cfg->resolve_timeout_ms : 300000);
	if (a) {
		if (a->ends_ms >= starts && a->starts_ms < starts)
			starts = a->starts_ms;
		pane_labels_release(&a->annotations);
		free(a->generator_url);
	} else {
		if (nt->alerts.len >= MAX_ALERTS)
			return NULL;
		a = pane_xcalloc(1, sizeof *a);
		a->fp = fp;
		pane_labels_copy(&a->labels, labels);
		pane_map_put(&nt->alerts, &a->fp, sizeof a->fp, a);
	}
	pane_labels_copy(&a->annotations, annotations);
	a->generator_url = gen && *gen ? pane_xstrdup(gen) : NULL;
	a->starts_ms = starts;
	a->ends_ms = ends;
	a->updated_ms = now;
	nt->gen++;
	return a;
}

/* Takes a batch (JSON array of postable alerts). 0 or PANE_EINVAL. */
static int put_alerts_json(struct notify *nt, json_t *arr, struct pane_err *err)
{
	if (!json_is_array(arr))
		return pane_err_set(err, PANE_EINVAL, "expected a JSON array of alerts");
	size_t n = json_array_size(arr);
	struct pane_labels *ls = pane_xcalloc(n + 1, sizeof *ls), *an = pane_xcalloc(n + 1, sizeof *an);
	int64_t *st = pane_xcalloc(n + 1, sizeof *st), *en = pane_xcalloc(n + 1, sizeof *en);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *o = json_array_get(arr, i);
		if (!json_is_object(o)) {
			rc = pane_err_set(err, PANE_EINVAL, "alert %zu is not an object", i);
			break;
		}
		if ((rc = labels_from_json(json_object_get(o, "labels"), &ls[i], true, err)) < 0 ||
		    (rc = labels_from_json(json_object_get(o, "annotations"), &an[i], false, err)) < 0 ||
		    (rc = time_from_json(json_object_get(o, "startsAt"), &st[i], err)) < 0 ||
		    (rc = time_from_json(json_object_get(o, "endsAt"), &en[i], err)) < 0)
			break;
		if (ls[i].n == 0)
			rc = pane_err_set(err, PANE_EINVAL, "alert %zu has no labels", i);
		else if (st[i] > 0 && en[i] > 0 && en[i] < st[i])
			rc = pane_err_set(err, PANE_EINVAL, "alert %zu ends before it starts", i);
	}
	if (rc == 0) {
		struct nalert **put = pane_xcalloc(n + 1, sizeof *put);
		size_t np = 0;
		pthread_mutex_lock(&nt->mu);
		int64_t now = pane_wall_ms();
		for (size_t i = 0; i < n; i++) {
			json_t *g = json_object_get(json_array_get(arr, i), "generatorURL");
			struct nalert *a = store_alert(nt, &ls[i], &an[i], st[i], en[i], json_string_value(g), now);
			if (!a) {
				rc = pane_err_set(err, PANE_ETOOBIG, "too many alerts (limit %d)", MAX_ALERTS);
				break;
			}
			route_alert(nt, a, now);
			put[np++] = a;
		}
		if (np && nt->db)
			db_put_alerts(nt, put, np);
		pthread_cond_signal(&nt->cv);
		pthread_mutex_unlock(&nt->mu);
		free(put);
	}
	for (size_t i = 0; i < n; i++) {
		pane_labels_release(&ls[i]);
		pane_labels_release(&an[i]);
	}
	free(ls), free(an), free(st), free(en);
	return rc;
}

/* ---- routing and groups ---- */

static void group_labels(const struct pane_am_route *rt, const struct pane_labels *ls, struct pane_labels *out)
{
	pane_labels_init(out);
	for (size_t i = 0; i < ls->n; i++) {
		bool take = rt->group_by_all;
		for (size_t j = 0; j < rt->n_group_by && !take; j++)
			take = !strcmp(rt->group_by[j], ls->v[i].name);
		if (take)
			pane_labels_set(out, ls->v[i].name, ls->v[i].value);
	}
}

static void route_alert(struct notify *nt, struct nalert *a, int64_t now)
{
	if (!nt->cfg || !nt->cfg->route.receiver)
		return;
	const struct pane_am_route *rs[MAX_ROUTES_PER_ALERT];
	size_t n = pane_am_route_match(&nt->cfg->route, &a->labels, rs, MAX_ROUTES_PER_ALERT);
	if (n > MAX_ROUTES_PER_ALERT)
		n = MAX_ROUTES_PER_ALERT;
	struct pane_buf key;
	pane_buf_init(&key, PANE_BUF_NOLIMIT);
	for (size_t i = 0; i < n; i++) {
		struct pane_labels gl;
		group_labels(rs[i], &a->labels, &gl);
		pane_buf_reset(&key);
		pane_buf_addf(&key, "%s:{", rs[i]->key);
		for (size_t j = 0; j < gl.n; j++) {
			pane_buf_addf(&key, "%s%s=", j ? ", " : "", gl.v[j].name);
			pane_buf_add_json_str(&key, gl.v[j].value, strlen(gl.v[j].value));
		}
		pane_buf_addc(&key, '}');
		struct ngroup *g = pane_map_get(&nt->groups, key.data, key.len);
		if (!g) {
			g = pane_xcalloc(1, sizeof *g);
			g->key = pane_xstrdup(key.data);
			g->route = rs[i];
			g->labels = gl;
			pane_labels_init(&gl);
			g->next_ms = now + rs[i]->group_wait_ms;
			pane_map_put(&nt->groups, g->key, key.len, g);
		}
		pane_labels_release(&gl);
		bool have = false;
		for (size_t j = 0; j < g->n && !have; j++)
			have = g->fps[j] == a->fp;
		if (!have) {
			if (g->n == g->cap) {
				g->cap = g->cap ? 2 * g->cap : 4;
				g->fps = pane_xrealloc(g->fps, g->cap * sizeof *g->fps);
			}
			g->fps[g->n++] = a->fp;
		}
		/* Alertmanager: an alert older than group_wait flushes a new group at once */
		if (!g->flushed && a->starts_ms + rs[i]->group_wait_ms < now && g->next_ms > now)
			g->next_ms = now;
	}
	pane_buf_release(&key);
}

static bool silenced_by(struct notify *nt, const struct pane_labels *ls, int64_t now, struct pane_json *ids)
{
	bool any = false;
	for (size_t i = 0; i < nt->n_sil; i++) {
		struct nsilence *s = nt->sil[i];
		if (now < s->starts_ms || now >= s->ends_ms || !pane_am_matchers_match(&s->m, ls))
			continue;
		if (ids)
			pane_json_str(ids, s->id);
		any = true;
	}
	return any;
}

/* The alerts that may inhibit, per inhibit rule: rebuilt only when the alert
 * store or the config changed (gen), so a flush of n alerts costs n x sources,
 * not n x all alerts. Entries that resolved since are skipped at use. */
static void inhibit_sources(struct notify *nt, int64_t now)
{
	size_t nr = nt->cfg ? nt->cfg->n_inhibits : 0;
	if (nt->src && nt->src_gen == nt->gen && nt->n_src == nr)
		return;
	for (size_t r = 0; r < nt->n_src; r++)
		pane_vec_release(&nt->src[r]);
	free(nt->src);
	nt->n_src = nr;
	nt->src = pane_xcalloc(nr + 1, sizeof *nt->src);
	for (size_t r = 0; r < nr; r++)
		pane_vec_init(&nt->src[r], sizeof(struct nalert *));
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	while (nr && pane_map_next(&nt->alerts, &pos, &k, &kl, &v)) {
		struct nalert *a = v;
		if (alert_resolved(a, now))
			continue;
		for (size_t r = 0; r < nr; r++)
			if (pane_am_matchers_match(&nt->cfg->inhibits[r].source, &a->labels))
				pane_vec_push(&nt->src[r], &a);
	}
	nt->src_gen = nt->gen;
}

static bool inhibited_by(struct notify *nt, const struct nalert *t, int64_t now, struct pane_json *ids)
{
	if (!nt->cfg || !nt->cfg->n_inhibits)
		return false;
	inhibit_sources(nt, now);
	bool any = false;
	for (size_t r = 0; r < nt->cfg->n_inhibits; r++) {
		const struct pane_am_inhibit *ih = &nt->cfg->inhibits[r];
		if (!pane_am_matchers_match(&ih->target, &t->labels))
			continue;
		for (size_t i = 0; i < nt->src[r].len; i++) {
			const struct nalert *s = *(struct nalert **)pane_vec_at(&nt->src[r], i);
			if (s == t || alert_resolved(s, now))
				continue;
			bool eq = true;
			for (size_t e = 0; e < ih->n_equal && eq; e++) {
				const char *a = pane_labels_get(&s->labels, ih->equal[e]);
				const char *b = pane_labels_get(&t->labels, ih->equal[e]);
				eq = (!a && !b) || (a && b && !strcmp(a, b));
			}
			if (!eq)
				continue;
			if (!ids)
				return true;
			char fp[24];
			snprintf(fp, sizeof fp, "%016llx", (unsigned long long)s->fp);
			pane_json_str(ids, fp);
			any = true;
		}
	}
	return any;
}

static bool route_muted(struct notify *nt, const struct pane_am_route *rt, int64_t now)
{
	for (size_t i = 0; i < rt->n_mute; i++) {
		const struct pane_am_timeinterval *ti = pane_am_interval_find(nt->cfg, rt->mute_intervals[i]);
		if (ti && pane_am_interval_contains(ti, now))
			return true;
	}
	if (rt->n_active) {
		for (size_t i = 0; i < rt->n_active; i++) {
			const struct pane_am_timeinterval *ti = pane_am_interval_find(nt->cfg, rt->active_intervals[i]);
			if (ti && pane_am_interval_contains(ti, now))
				return false;
		}
		return true;
	}
	return false;
}

static void integ_push(struct integ *in, struct job *j)
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

static struct job *make_notify_job(struct ngroup *g, struct nsnap *snaps, size_t n)
{
	struct job *j = pane_xcalloc(1, sizeof *j);
	j->kind = JOB_NOTIFY;
	j->group_key = pane_xstrdup(g->key);
	pane_labels_copy(&j->glabels, &g->labels);
	j->repeat_ms = g->route->repeat_interval_ms;
	j->alerts = pane_xcalloc(n + 1, sizeof *j->alerts);
	for (size_t i = 0; i < n; i++) {
		j->alerts[i] = snaps[i];
		pane_labels_copy(&j->alerts[i].labels, &snaps[i].labels);
		pane_labels_copy(&j->alerts[i].annotations, &snaps[i].annotations);
		j->alerts[i].generator_url = snaps[i].generator_url ? pane_xstrdup(snaps[i].generator_url) : NULL;
	}
	j->n = n;
	return j;
}

/* One flush: copy the group's visible alerts to every integration of its
 * receiver, drop resolved alerts from the group. Called with nt->mu held. */
static void flush_group(struct notify *nt, struct ngroup *g, int64_t now)
{
	pane_stat_inc(nt->flushes);
	struct nsnap *snaps = pane_xcalloc(g->n + 1, sizeof *snaps);
	size_t ns = 0, keep = 0;
	bool muted = route_muted(nt, g->route, now);
	for (size_t i = 0; i < g->n; i++) {
		struct nalert *a = pane_map_get(&nt->alerts, &g->fps[i], sizeof g->fps[i]);
		if (!a)
			continue;
		bool res = alert_resolved(a, now);
		if (!res)
			g->fps[keep++] = g->fps[i];
		if (muted || silenced_by(nt, &a->labels, now, NULL) || inhibited_by(nt, a, now, NULL))
			continue;
		struct nsnap *s = &snaps[ns++];
		s->fp = a->fp;
		s->labels = a->labels; /* borrowed; make_notify_job copies */
		s->annotations = a->annotations;
		s->starts_ms = a->starts_ms;
		s->ends_ms = a->ends_ms;
		s->generator_url = a->generator_url;
		s->resolved = res;
	}
	g->n = keep;
	g->flushed = true;
	g->next_ms = now + g->route->group_interval_ms;
	for (size_t i = 0; i < nt->n_integs; i++) {
		struct integ *in = nt->integs[i];
		if (strcmp(in->receiver, g->route->receiver) || !strcmp(in->kind, "alertmanager"))
			continue;
		integ_push(in, make_notify_job(g, snaps, ns));
	}
	free(snaps);
}

/* Forgets alerts resolved over an hour ago (the rules stop resending after 15 min). */
static void gc_alerts(struct notify *nt, int64_t now)
{
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	struct pane_vec dead;
	pane_vec_init(&dead, sizeof(uint64_t));
	while (pane_map_next(&nt->alerts, &pos, &k, &kl, &v)) {
		struct nalert *a = v;
		if (alert_resolved(a, now) && a->ends_ms < now - GC_RESOLVED_MS)
			pane_vec_push(&dead, &a->fp);
	}
	if (dead.len)
		nt->gen++;
	for (size_t i = 0; i < dead.len; i++) {
		uint64_t fp = *(uint64_t *)pane_vec_at(&dead, i);
		pane_map_del(&nt->alerts, &fp, sizeof fp);
		if (nt->db)
			db_del_alert(nt, fp);
	}
	pane_vec_release(&dead);
}

static void *dispatcher(void *arg)
{
	struct notify *nt = arg;
	pthread_mutex_lock(&nt->mu);
	int64_t last_gc = 0;
	while (!nt->stop) {
		int64_t now = pane_wall_ms(), next = now + 1000;
		size_t pos = 0;
		const char *k;
		size_t kl;
		void *v;
		char **empty = NULL;
		size_t n_empty = 0;
		while (pane_map_next(&nt->groups, &pos, &k, &kl, &v)) {
			struct ngroup *g = v;
			if (g->next_ms <= now) {
				flush_group(nt, g, now);
				if (g->n == 0) {
					empty = pane_xrealloc(empty, (n_empty + 1) * sizeof *empty);
					empty[n_empty++] = g->key;
					continue;
				}
			}
			if (g->next_ms < next)
				next = g->next_ms;
		}
		for (size_t i = 0; i < n_empty; i++)
			pane_map_del(&nt->groups, empty[i], strlen(empty[i]));
		free(empty);
		if (now - last_gc > 60000) {
			gc_alerts(nt, now);
			last_gc = now;
		}
		int64_t wait = next - pane_wall_ms();
		if (wait > 0) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t ns = (int64_t)ts.tv_nsec + (wait % 1000) * 1000000;
			ts.tv_sec += (time_t)(wait / 1000 + ns / 1000000000);
			ts.tv_nsec = (long)(ns % 1000000000);
			pthread_cond_timedwait(&nt->cv, &nt->mu, &ts);
		}
	}
	pthread_mutex_unlock(&nt->mu);
	return NULL;
}

/* ---- integrations: one thread each ---- */

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
	/* "Expect:" off: no 100-continue round trip before each body */
	const char *const hdrs[] = {"Content-Type: application/json", "Expect:", in->auth, NULL};
	for (int attempt = 1;; attempt++) {
		struct pane_http_response r;
		pane_http_response_init(&r);
		struct pane_err err = {0};
		int rc = pane_http_client_do(
		    in->http,
		    &(struct pane_http_request){
		        .method = "POST",
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
		if (rc == PANE_ECANCELED)
			return rc;
		const char *reason = reason_of(rc, status);
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
	nflog_get(nt, in->rkey, j->group_key, &e);
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
		nflog_put(nt, in->rkey, j->group_key, firing.data ? firing.data : "",
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
	in->http = pane_http_client_new(&(struct pane_http_client_opts){
	    .timeout_ms = 10000,
	    .connect_timeout_ms = 3000,
	    .max_retries = -1,
	    .cancel = integ_cancel,
	    .cancel_arg = in,
	    .max_body = 1 << 20,
	    .follow_redirects = h ? h->follow_redirects : false,
	    .proxy_url = h ? h->proxy_url : NULL,
	    .ca_file = h ? h->ca_file : NULL,
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
	char l[512];
	snprintf(l, sizeof l, "receiver=\"%s\",integration=\"%s\"", receiver, kind);
	in->sent = pane_stats_counter(nt->stats, "pane_notifications_total", l,
	                              "notifications delivered, by receiver and integration");
	return in;
}

static void integ_free(struct integ *in)
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
	free(in->url);
	free(in->receiver);
	free(in->rkey);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->cv);
	free(in);
}

static void build_integs(struct notify *nt, const struct pane_am_config *c, struct integ ***out, size_t *nout)
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
			struct integ *in = integ_new(nt, rv->name, "webhook", j, w->url, NULL);
			in->send_resolved = w->send_resolved;
			in->wh = (struct pane_am_webhook){NULL, w->send_resolved, w->max_alerts};
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

static void start_integs(struct integ **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i]->started = pthread_create(&v[i]->th, NULL, integ_main, v[i]) == 0;
}

/* Regroups every alert under the current config (start, reload). nt->mu held. */
static void regroup(struct notify *nt)
{
	nt->gen++;
	pane_map_release(&nt->groups);
	pane_map_init(&nt->groups, group_free);
	int64_t now = pane_wall_ms();
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	while (pane_map_next(&nt->alerts, &pos, &k, &kl, &v))
		route_alert(nt, v, now);
}

/* ---- forwarding to other Alertmanagers, and the rules' sink ---- */

static void forward(struct notify *nt, const char *json)
{
	for (size_t i = 0; i < nt->n_integs; i++) {
		if (strcmp(nt->integs[i]->kind, "alertmanager"))
			continue;
		struct job *j = pane_xcalloc(1, sizeof *j);
		j->kind = JOB_FORWARD;
		j->body = pane_xstrdup(json);
		integ_push(nt->integs[i], j);
	}
}

static void sink_send(void *ctx, const struct pane_alert *alerts, size_t n)
{
	struct notify *nt = ctx;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	struct pane_json j;
	pane_json_init(&j, &b);
	pane_json_arr(&j);
	for (size_t i = 0; i < n; i++) {
		struct nalert a = {.labels = *alerts[i].labels,
		                   .starts_ms = alerts[i].starts_at_ms,
		                   .ends_ms = alerts[i].ends_at_ms,
		                   .generator_url = (char *)alerts[i].generator_url};
		if (alerts[i].annotations)
			a.annotations = *alerts[i].annotations;
		alert_json(&j, &a);
	}
	pane_json_arr_end(&j);
	json_t *arr = json_loadb(b.data, b.len, 0, NULL);
	struct pane_err err = {0};
	if (!arr || put_alerts_json(nt, arr, &err) < 0) {
		pane_warn("notify", "alerts from the rules refused: %s", err.msg);
	} else {
		pthread_mutex_lock(&nt->mu);
		forward(nt, b.data);
		pthread_mutex_unlock(&nt->mu);
	}
	json_decref(arr);
	pane_buf_release(&b);
}

/* ---- silences ---- */

static void silence_free(struct nsilence *s)
{
	if (!s)
		return;
	json_decref(s->matchers);
	pane_am_matchers_release(&s->m);
	free(s->created_by);
	free(s->comment);
	free(s);
}

/* Alertmanager's gettable silence; now == 0 (the store's copy) says active. */
static void silence_json(struct pane_json *j, const struct nsilence *s, int64_t now)
{
	pane_json_obj(j);
	pane_json_key(j, "id");
	pane_json_str(j, s->id);
	pane_json_key(j, "status");
	pane_json_obj(j);
	pane_json_key(j, "state");
	pane_json_str(j, now == 0             ? "active"
	                 : now < s->starts_ms ? "pending"
	                 : now >= s->ends_ms  ? "expired"
	                                      : "active");
	pane_json_obj_end(j);
	pane_json_key(j, "updatedAt");
	pane_notify_json_time(j, s->updated_ms);
	pane_json_key(j, "comment");
	pane_json_str(j, s->comment);
	pane_json_key(j, "createdBy");
	pane_json_str(j, s->created_by);
	pane_json_key(j, "startsAt");
	pane_notify_json_time(j, s->starts_ms);
	pane_json_key(j, "endsAt");
	pane_notify_json_time(j, s->ends_ms);
	char *m = json_dumps(s->matchers, JSON_COMPACT);
	pane_json_key(j, "matchers");
	pane_json_raw(j, m ? m : "[]");
	free(m);
	pane_json_obj_end(j);
}

static struct nsilence *silence_from_json(json_t *o, struct pane_err *err)
{
	if (!json_is_object(o)) {
		pane_err_set(err, PANE_EINVAL, "expected a silence object");
		return NULL;
	}
	struct nsilence *s = pane_xcalloc(1, sizeof *s);
	json_t *ms = json_object_get(o, "matchers");
	const char *cb = json_string_value(json_object_get(o, "createdBy"));
	const char *cm = json_string_value(json_object_get(o, "comment"));
	if (!json_is_array(ms) || json_array_size(ms) == 0) {
		pane_err_set(err, PANE_EINVAL, "a silence needs at least one matcher");
		goto fail;
	}
	if (!cb || !*cb || !cm || !*cm) {
		pane_err_set(err, PANE_EINVAL, "a silence needs createdBy and comment");
		goto fail;
	}
	s->created_by = pane_xstrdup(cb);
	s->comment = pane_xstrdup(cm);
	if (time_from_json(json_object_get(o, "startsAt"), &s->starts_ms, err) < 0 ||
	    time_from_json(json_object_get(o, "endsAt"), &s->ends_ms, err) < 0)
		goto fail;
	if (s->ends_ms <= 0 || s->ends_ms <= s->starts_ms) {
		pane_err_set(err, PANE_EINVAL, "endsAt must be after startsAt");
		goto fail;
	}
	s->matchers = json_array();
	bool any_nonempty = false;
	size_t i;
	json_t *m;
	json_array_foreach(ms, i, m)
	{
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *value = json_string_value(json_object_get(m, "value"));
		json_t *isre = json_object_get(m, "isRegex"), *iseq = json_object_get(m, "isEqual");
		if (!name || !value || !json_is_boolean(isre)) {
			pane_err_set(err, PANE_EINVAL, "a matcher needs name, value and isRegex");
			goto fail;
		}
		bool re = json_is_true(isre), eq = !iseq || json_is_true(iseq);
		enum pane_am_op op = re ? (eq ? PANE_AM_RE : PANE_AM_NRE) : (eq ? PANE_AM_EQ : PANE_AM_NE);
		if (pane_am_matcher_add(&s->m, name, value, op, err) < 0)
			goto fail;
		if (!pane_am_matcher_matches(&s->m.v[s->m.n - 1], ""))
			any_nonempty = true;
		json_array_append_new(s->matchers, json_pack("{s:s,s:s,s:b,s:b}", "name", name, "value", value,
		                                             "isRegex", re, "isEqual", eq));
	}
	if (!any_nonempty) {
		pane_err_set(err, PANE_EINVAL, "at least one matcher must not match the empty string");
		goto fail;
	}
	return s;
fail:
	silence_free(s);
	return NULL;
}

static struct nsilence *silence_find(struct notify *nt, const char *id)
{
	for (size_t i = 0; i < nt->n_sil; i++)
		if (!strcmp(nt->sil[i]->id, id))
			return nt->sil[i];
	return NULL;
}

static void new_uuid(char out[40])
{
	uint64_t a = pane_random_u64(), b = pane_random_u64();
	snprintf(out, 40, "%08llx-%04llx-4%03llx-%04llx-%012llx", (unsigned long long)(a >> 32),
	         (unsigned long long)((a >> 16) & 0xffff), (unsigned long long)(a & 0xfff),
	         (unsigned long long)(0x8000 | ((b >> 48) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffull));
}

/* ---- HTTP: Alertmanager's v2 API ---- */

/* The request body as JSON, or NULL after answering 400; *body is the raw text. */
static json_t *body_json(struct pane_http_req *req, struct pane_http_resp *resp, const char **body)
{
	size_t len;
	*body = pane_http_req_body(req, &len);
	json_error_t je;
	json_t *j = json_loadb(*body, len, 0, &je);
	if (!j)
		pane_http_resp_error(resp, 400, "bad_request", "invalid JSON: %s", je.text);
	return j;
}

static void h_post_alerts(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	const char *body;
	json_t *arr = body_json(req, resp, &body);
	if (!arr)
		return;
	struct pane_err err = {0};
	if (put_alerts_json(nt, arr, &err) < 0) {
		pane_http_resp_error(resp, err.code == PANE_ETOOBIG ? 503 : 400, "bad_request", "%s", err.msg);
	} else {
		pthread_mutex_lock(&nt->mu);
		forward(nt, body);
		pthread_mutex_unlock(&nt->mu);
		pane_http_resp_status(resp, 200);
	}
	json_decref(arr);
}

static void receivers_of(struct notify *nt, const struct nalert *a, struct pane_json *j)
{
	pane_json_arr(j);
	if (nt->cfg && nt->cfg->route.receiver) {
		const struct pane_am_route *rs[MAX_ROUTES_PER_ALERT];
		size_t n = pane_am_route_match(&nt->cfg->route, &a->labels, rs, MAX_ROUTES_PER_ALERT);
		for (size_t i = 0; i < n && i < MAX_ROUTES_PER_ALERT; i++) {
			bool dup = false;
			for (size_t k = 0; k < i && !dup; k++)
				dup = !strcmp(rs[k]->receiver, rs[i]->receiver);
			if (dup)
				continue;
			pane_json_obj(j);
			pane_json_key(j, "name");
			pane_json_str(j, rs[i]->receiver);
			pane_json_obj_end(j);
		}
	}
	pane_json_arr_end(j);
}

static void gettable_alert(struct notify *nt, struct pane_json *j, const struct nalert *a, int64_t now, bool *silenced,
                           bool *inhibited)
{
	/* the status comes last but decides nothing before it: its id lists go to side buffers */
	struct pane_buf sil, inh;
	struct pane_json js, ji;
	pane_buf_init(&sil, PANE_BUF_NOLIMIT);
	pane_buf_init(&inh, PANE_BUF_NOLIMIT);
	pane_json_init(&js, &sil);
	pane_json_init(&ji, &inh);
	pane_json_arr(&js);
	pane_json_arr(&ji);
	*silenced = silenced_by(nt, &a->labels, now, &js);
	*inhibited = inhibited_by(nt, a, now, &ji);
	pane_json_arr_end(&js);
	pane_json_arr_end(&ji);
	pane_json_obj(j);
	pane_json_key(j, "labels");
	pane_labels_json_value(j, &a->labels);
	pane_json_key(j, "annotations");
	pane_labels_json_value(j, &a->annotations);
	pane_json_key(j, "startsAt");
	pane_notify_json_time(j, a->starts_ms);
	pane_json_key(j, "endsAt");
	pane_notify_json_time(j, a->ends_ms);
	pane_json_key(j, "updatedAt");
	pane_notify_json_time(j, a->updated_ms);
	pane_json_key(j, "generatorURL");
	pane_json_str(j, a->generator_url ? a->generator_url : "");
	char fp[24];
	snprintf(fp, sizeof fp, "%016llx", (unsigned long long)a->fp);
	pane_json_key(j, "fingerprint");
	pane_json_str(j, fp);
	pane_json_key(j, "receivers");
	receivers_of(nt, a, j);
	pane_json_key(j, "status");
	pane_json_obj(j);
	pane_json_key(j, "state");
	pane_json_str(j, *silenced || *inhibited ? "suppressed" : "active");
	pane_json_key(j, "silencedBy");
	pane_json_raw(j, sil.data);
	pane_json_key(j, "inhibitedBy");
	pane_json_raw(j, inh.data);
	pane_json_obj_end(j);
	pane_json_obj_end(j);
	pane_buf_release(&sil);
	pane_buf_release(&inh);
}

static bool arg_bool(struct pane_http_req *req, const char *name, bool def)
{
	const char *v = pane_http_req_arg(req, name);
	bool out = def;
	if (v)
		pane_cfg_parse_bool(v, &out);
	return out;
}

static void h_get_alerts(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	const char *filters[64];
	size_t nfl = pane_http_req_args(req, "filter", filters, 64);
	struct pane_am_matchers ms = {0};
	struct pane_err err = {0};
	for (size_t i = 0; i < nfl && i < 64; i++) {
		if (pane_am_matchers_parse(&ms, filters[i], &err) < 0) {
			pane_http_resp_error(resp, 400, "bad_request", "%s", err.msg);
			pane_am_matchers_release(&ms);
			return;
		}
	}
	bool want_active = arg_bool(req, "active", true), want_sil = arg_bool(req, "silenced", true),
	     want_inh = arg_bool(req, "inhibited", true);
	const char *recv = pane_http_req_arg(req, "receiver");
	struct pane_am_matchers rm = {0};
	if (recv && pane_am_matcher_add(&rm, "receiver", recv, PANE_AM_RE, &err) < 0) {
		pane_http_resp_error(resp, 400, "bad_request", "%s", err.msg);
		pane_am_matchers_release(&ms);
		return;
	}
	struct pane_buf *b = pane_http_resp_body(resp);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_arr(&j);
	pthread_mutex_lock(&nt->mu);
	int64_t now = pane_wall_ms();
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	struct pane_buf one;
	pane_buf_init(&one, PANE_BUF_NOLIMIT);
	while (pane_map_next(&nt->alerts, &pos, &k, &kl, &v)) {
		const struct nalert *a = v;
		if (alert_resolved(a, now) || !pane_am_matchers_match(&ms, &a->labels))
			continue;
		pane_buf_reset(&one);
		struct pane_json jo;
		pane_json_init(&jo, &one);
		bool sil, inh;
		gettable_alert(nt, &jo, a, now, &sil, &inh);
		if ((!sil && !inh && !want_active) || (sil && !want_sil) || (inh && !want_inh))
			continue;
		if (recv) {
			struct pane_buf rb;
			pane_buf_init(&rb, PANE_BUF_NOLIMIT);
			struct pane_json jr;
			pane_json_init(&jr, &rb);
			receivers_of(nt, a, &jr);
			bool ok = false;
			json_t *ra = json_loadb(rb.data, rb.len, 0, NULL);
			size_t i;
			json_t *r;
			json_array_foreach(ra, i, r) ok =
			    ok || pane_am_matcher_matches(&rm.v[0], json_string_value(json_object_get(r, "name")));
			json_decref(ra);
			pane_buf_release(&rb);
			if (!ok)
				continue;
		}
		pane_json_raw(&j, one.data);
	}
	pthread_mutex_unlock(&nt->mu);
	pane_buf_release(&one);
	pane_json_arr_end(&j);
	pane_am_matchers_release(&ms);
	pane_am_matchers_release(&rm);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

static void h_get_groups(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	struct pane_buf *b = pane_http_resp_body(resp);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_arr(&j);
	pthread_mutex_lock(&nt->mu);
	int64_t now = pane_wall_ms();
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	while (pane_map_next(&nt->groups, &pos, &k, &kl, &v)) {
		struct ngroup *g = v;
		pane_json_obj(&j);
		pane_json_key(&j, "labels");
		pane_labels_json_value(&j, &g->labels);
		pane_json_key(&j, "receiver");
		pane_json_obj(&j);
		pane_json_key(&j, "name");
		pane_json_str(&j, g->route->receiver);
		pane_json_obj_end(&j);
		pane_json_key(&j, "alerts");
		pane_json_arr(&j);
		for (size_t i = 0; i < g->n; i++) {
			struct nalert *a = pane_map_get(&nt->alerts, &g->fps[i], sizeof g->fps[i]);
			if (!a || alert_resolved(a, now))
				continue;
			bool s, in;
			gettable_alert(nt, &j, a, now, &s, &in);
		}
		pane_json_arr_end(&j);
		pane_json_obj_end(&j);
	}
	pthread_mutex_unlock(&nt->mu);
	pane_json_arr_end(&j);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

static void h_get_silences(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	const char *filters[64];
	size_t nfl = pane_http_req_args(req, "filter", filters, 64);
	struct pane_am_matchers ms = {0};
	struct pane_err err = {0};
	for (size_t i = 0; i < nfl && i < 64; i++) {
		if (pane_am_matchers_parse(&ms, filters[i], &err) < 0) {
			pane_http_resp_error(resp, 400, "bad_request", "%s", err.msg);
			pane_am_matchers_release(&ms);
			return;
		}
	}
	struct pane_buf *b = pane_http_resp_body(resp);
	struct pane_json js;
	pane_json_init(&js, b);
	pane_json_arr(&js);
	pthread_mutex_lock(&nt->mu);
	int64_t now = pane_wall_ms();
	for (size_t i = 0; i < nt->n_sil; i++) {
		struct nsilence *s = nt->sil[i];
		/* a filter matches a silence having an equal matcher (Alertmanager's rule) */
		bool ok = true;
		for (size_t f = 0; f < ms.n && ok; f++) {
			bool found = false;
			for (size_t j = 0; j < s->m.n && !found; j++)
				found = !strcmp(s->m.v[j].name, ms.v[f].name) &&
				        pane_am_matcher_matches(&ms.v[f], s->m.v[j].value);
			ok = found;
		}
		if (!ok)
			continue;
		silence_json(&js, s, now);
	}
	pthread_mutex_unlock(&nt->mu);
	pane_json_arr_end(&js);
	pane_am_matchers_release(&ms);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

static void h_post_silences(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	const char *body;
	json_t *o = body_json(req, resp, &body);
	if (!o)
		return;
	struct pane_err err = {0};
	struct nsilence *s = silence_from_json(o, &err);
	const char *id = json_string_value(json_object_get(o, "id"));
	if (!s) {
		pane_http_resp_error(resp, 400, "bad_request", "%s", err.msg);
		json_decref(o);
		return;
	}
	pthread_mutex_lock(&nt->mu);
	int64_t now = pane_wall_ms();
	s->updated_ms = now;
	if (s->starts_ms < now)
		s->starts_ms = now;
	if (s->ends_ms <= s->starts_ms) {
		pthread_mutex_unlock(&nt->mu);
		pane_http_resp_error(resp, 400, "bad_request", "the silence would end before it starts");
		silence_free(s);
		json_decref(o);
		return;
	}
	struct nsilence *old = id && *id ? silence_find(nt, id) : NULL;
	if (id && *id && !old) {
		pthread_mutex_unlock(&nt->mu);
		pane_http_resp_error(resp, 404, "not_found", "silence %s not found", id);
		silence_free(s);
		json_decref(o);
		return;
	}
	if (old && old->ends_ms > now) {
		/* Alertmanager expires the old one and creates a new id when matchers change;
		 * pane updates in place */
		snprintf(s->id, sizeof s->id, "%s", old->id);
		for (size_t i = 0; i < nt->n_sil; i++)
			if (nt->sil[i] == old)
				nt->sil[i] = s;
		silence_free(old);
	} else {
		if (old) {
			old->ends_ms = now;
			old->updated_ms = now;
			db_put_silence(nt, old);
		}
		new_uuid(s->id);
		nt->sil = pane_xrealloc(nt->sil, (nt->n_sil + 1) * sizeof *nt->sil);
		nt->sil[nt->n_sil++] = s;
	}
	if (nt->db)
		db_put_silence(nt, s);
	pthread_cond_signal(&nt->cv);
	pthread_mutex_unlock(&nt->mu);
	char out[80];
	snprintf(out, sizeof out, "{\"silenceID\":\"%s\"}", s->id);
	pane_http_resp_json(resp, 200, out);
	json_decref(o);
}

static void h_silence(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	const char *id = pane_http_req_param(req, "id");
	bool del = !strcmp(pane_http_req_method(req), "DELETE");
	pthread_mutex_lock(&nt->mu);
	int64_t now = pane_wall_ms();
	struct nsilence *s = silence_find(nt, id);
	if (!s) {
		pthread_mutex_unlock(&nt->mu);
		pane_http_resp_error(resp, 404, "not_found", "silence %s not found", id);
		return;
	}
	if (del) {
		if (s->ends_ms <= now) {
			pthread_mutex_unlock(&nt->mu);
			pane_http_resp_error(resp, 500, "already_expired", "silence %s already expired", id);
			return;
		}
		s->ends_ms = now;
		if (s->starts_ms > now)
			s->starts_ms = now;
		s->updated_ms = now;
		if (nt->db)
			db_put_silence(nt, s);
		pthread_cond_signal(&nt->cv);
		pthread_mutex_unlock(&nt->mu);
		pane_http_resp_status(resp, 200);
		return;
	}
	struct pane_json j;
	pane_json_init(&j, pane_http_resp_body(resp));
	silence_json(&j, s, now);
	pthread_mutex_unlock(&nt->mu);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

static void h_status(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	struct pane_buf *b = pane_http_resp_body(resp);
	pthread_mutex_lock(&nt->mu);
	const char *orig = nt->cfg && nt->cfg->original ? nt->cfg->original : "";
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	pane_json_key(&j, "cluster");
	pane_json_raw(&j, "{\"name\":\"pane\",\"status\":\"disabled\",\"peers\":[]}");
	pane_json_key(&j, "versionInfo");
	pane_json_obj(&j);
	static const char *const empty[] = {"branch", "buildDate", "buildUser", "goVersion", "revision"};
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		pane_json_key(&j, empty[i]);
		pane_json_str(&j, "");
	}
	pane_json_key(&j, "version");
	pane_json_str(&j, PANE_VERSION);
	pane_json_obj_end(&j);
	pane_json_key(&j, "config");
	pane_json_obj(&j);
	pane_json_key(&j, "original");
	pane_json_str(&j, orig);
	pane_json_obj_end(&j);
	pane_json_key(&j, "uptime");
	pane_notify_json_time(&j, nt->started_ms);
	pane_json_obj_end(&j);
	pthread_mutex_unlock(&nt->mu);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

static void h_receivers(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	struct pane_buf *b = pane_http_resp_body(resp);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_arr(&j);
	pthread_mutex_lock(&nt->mu);
	for (size_t i = 0; nt->cfg && i < nt->cfg->n_receivers; i++) {
		pane_json_obj(&j);
		pane_json_key(&j, "name");
		pane_json_str(&j, nt->cfg->receivers[i].name);
		pane_json_obj_end(&j);
	}
	pthread_mutex_unlock(&nt->mu);
	pane_json_arr_end(&j);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

/* ---- deploys become PagerDuty change events ---- */

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
		integ_push(in, j);
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

/* ---- life cycle ---- */

static int db_open(struct notify *nt, const char *dir, struct pane_err *err)
{
	struct pane_buf p;
	pane_buf_init(&p, PANE_BUF_NOLIMIT);
	pane_buf_addf(&p, "%s/notify.db", dir);
	int rc =
	    sqlite3_open_v2(p.data, &nt->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		pane_err_set(err, PANE_EDB, "cannot open %s: %s", p.data,
		             nt->db ? sqlite3_errmsg(nt->db) : "no memory");
		pane_buf_release(&p);
		return PANE_EDB;
	}
	pane_buf_release(&p);
	sqlite3_busy_timeout(nt->db, 5000);
	if (db_exec(nt, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	                "CREATE TABLE IF NOT EXISTS nflog(rkey TEXT, gkey TEXT, firing TEXT, resolved TEXT, "
	                "ts INTEGER, PRIMARY KEY(rkey, gkey));"
	                "CREATE TABLE IF NOT EXISTS alerts(fp INTEGER PRIMARY KEY, body TEXT, updated INTEGER);"
	                "CREATE TABLE IF NOT EXISTS silences(id TEXT PRIMARY KEY, body TEXT);") < 0)
		return pane_err_set(err, PANE_EDB, "cannot create the notification tables in %s/notify.db", dir);
	return 0;
}

/* Loads persisted alerts and silences (under nt->mu, before threads run). */
static void db_load(struct notify *nt)
{
	int64_t now = pane_wall_ms();
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(nt->db, "SELECT body FROM alerts", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_t *o = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
			struct pane_labels ls, an;
			int64_t s = 0, e = 0;
			struct pane_err err = {0};
			if (o && labels_from_json(json_object_get(o, "labels"), &ls, true, &err) == 0 &&
			    labels_from_json(json_object_get(o, "annotations"), &an, false, &err) == 0 &&
			    time_from_json(json_object_get(o, "startsAt"), &s, &err) == 0 &&
			    time_from_json(json_object_get(o, "endsAt"), &e, &err) == 0 && ls.n)
				store_alert(nt, &ls, &an, s, e, json_string_value(json_object_get(o, "generatorURL")),
				            now);
			pane_labels_release(&ls);
			pane_labels_release(&an);
			json_decref(o);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(nt->db, "SELECT body FROM silences", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_t *o = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
			struct pane_err err = {0};
			struct nsilence *s = o ? silence_from_json(o, &err) : NULL;
			const char *id = json_string_value(json_object_get(o, "id"));
			if (s && id) {
				snprintf(s->id, sizeof s->id, "%s", id);
				time_from_json(json_object_get(o, "updatedAt"), &s->updated_ms, &err);
				nt->sil = pane_xrealloc(nt->sil, (nt->n_sil + 1) * sizeof *nt->sil);
				nt->sil[nt->n_sil++] = s;
			} else {
				silence_free(s);
			}
			json_decref(o);
		}
	}
	sqlite3_finalize(st);
}

static int on_reload(void *arg, const struct pane_cfg *cfg, struct pane_err *err)
{
	struct notify *nt = arg;
	struct pane_am_config *c = pane_am_config_load(cfg, pane_cfg_get(cfg->root, "alerting"), err);
	if (!c)
		return PANE_EINVAL;
	struct integ **v;
	size_t n;
	build_integs(nt, c, &v, &n);
	pthread_mutex_lock(&nt->mu);
	struct pane_am_config *old = nt->cfg;
	struct integ **ov = nt->integs;
	size_t on = nt->n_integs;
	nt->cfg = c;
	nt->integs = v;
	nt->n_integs = n;
	regroup(nt);
	start_integs(v, n);
	pthread_cond_signal(&nt->cv);
	pthread_mutex_unlock(&nt->mu);
	for (size_t i = 0; i < on; i++)
		integ_free(ov[i]);
	free(ov);
	pane_am_config_free(old);
	pane_info("notify", "alerting config reloaded");
	return 0;
}

static void on_stop(void *arg)
{
	struct notify *nt = arg;
	if (nt->es) {
		pthread_mutex_lock(&nt->es->mu);
		nt->es->nt = NULL;
		pthread_mutex_unlock(&nt->es->mu);
	}
	pthread_mutex_lock(&nt->mu);
	nt->stop = true;
	pthread_cond_signal(&nt->cv);
	pthread_mutex_unlock(&nt->mu);
	if (nt->th_started)
		pthread_join(nt->th, NULL);
	for (size_t i = 0; i < nt->n_integs; i++)
		integ_free(nt->integs[i]);
	free(nt->integs);
	if (nt->s && nt->s->alerts == &nt->sink)
		nt->s->alerts = NULL;
	for (size_t r = 0; r < nt->n_src; r++)
		pane_vec_release(&nt->src[r]);
	free(nt->src);
	pane_map_release(&nt->groups);
	pane_map_release(&nt->alerts);
	for (size_t i = 0; i < nt->n_sil; i++)
		silence_free(nt->sil[i]);
	free(nt->sil);
	pane_am_config_free(nt->cfg);
	sqlite3_close(nt->db);
	free(nt->external_url);
	pthread_mutex_destroy(&nt->mu);
	pthread_cond_destroy(&nt->cv);
	pthread_mutex_destroy(&nt->db_mu);
	free(nt);
}

int pane_notify_attach(struct pane_host *s, struct pane_err *err)
{
	struct pane_am_config *c = pane_am_config_load(s->cfg, pane_cfg_get(s->cfg->root, "alerting"), err);
	if (!c)
		return PANE_EINVAL;
	struct notify *nt = pane_xcalloc(1, sizeof *nt);
	pthread_mutex_init(&nt->mu, NULL);
	pthread_cond_init(&nt->cv, NULL);
	pthread_mutex_init(&nt->db_mu, NULL);
	pane_map_init(&nt->alerts, alert_free);
	pane_map_init(&nt->groups, group_free);
	nt->s = s;
	nt->cfg = c;
	nt->stats = s->stats;
	nt->started_ms = pane_wall_ms();
	nt->flushes = pane_stats_counter(s->stats, "pane_notification_group_flushes_total", NULL,
	                                 "aggregation group flushes (each may notify)");
	if (db_open(nt, s->data_dir, err) < 0) {
		on_stop(nt);
		return PANE_EDB;
	}
	db_load(nt);
	build_integs(nt, c, &nt->integs, &nt->n_integs);
	regroup(nt);
	start_integs(nt->integs, nt->n_integs);
	if (pthread_create(&nt->th, NULL, dispatcher, nt) != 0) {
		on_stop(nt);
		return pane_err_set(err, PANE_EIO, "cannot start the notification dispatcher");
	}
	nt->th_started = true;
	nt->sink = (struct pane_alert_sink){.ctx = nt, .send = sink_send};
	s->alerts = &nt->sink;
	if (s->pipeline) {
		struct evsink *es = pane_xcalloc(1, sizeof *es);
		pthread_mutex_init(&es->mu, NULL);
		es->nt = nt;
		nt->es = es;
		pane_pipeline_add_sink(s->pipeline, (struct pane_sink){&ev_ops, es}, 0);
	}
	/* Alertmanager's API v2 (the part pane serves) */
	static const struct pane_http_route routes[] = {
	    {.method = "POST",
	     .pattern = "/api/v2/alerts",
	     .handler = h_post_alerts,
	     .scope = "enqueue",
	     .max_body = 32u << 20},
	    {.method = "GET", .pattern = "/api/v2/alerts", .handler = h_get_alerts, .scope = "read"},
	    {.method = "GET", .pattern = "/api/v2/alerts/groups", .handler = h_get_groups, .scope = "read"},
	    {.method = "GET", .pattern = "/api/v2/silences", .handler = h_get_silences, .scope = "read"},
	    {.method = "POST", .pattern = "/api/v2/silences", .handler = h_post_silences, .scope = "admin"},
	    {.method = "GET", .pattern = "/api/v2/silence/{id}", .handler = h_silence, .scope = "read"},
	    {.method = "DELETE", .pattern = "/api/v2/silence/{id}", .handler = h_silence, .scope = "admin"},
	    {.method = "GET", .pattern = "/api/v2/status", .handler = h_status, .scope = "read"},
	    {.method = "GET", .pattern = "/api/v2/receivers", .handler = h_receivers, .scope = "read"},
	};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		struct pane_http_route r = routes[i];
		r.ctx = nt;
		pane_http_server_route(s->http, &r);
	}
	pane_host_on_reload(s, on_reload, nt);
	pane_host_on_stop(s, on_stop, nt);
	return 0;
}
