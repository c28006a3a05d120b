/*
 * amapi.c - Alertmanager's API v2, the part pane serves: alerts in and out,
 * groups, silences, status, receivers.
 *
 * Idea: the handlers are thin - they parse and answer in Alertmanager's
 * JSON and leave the work to the alert store (alerts.c), the dispatcher's
 * groups (dispatch.c) and the silences (silence.c), so `amtool` and
 * Grafana's Alertmanager data source see an Alertmanager.
 *
 * Invariants:
 *   (1) each handler reads the notifier's state under nt->mu once, so an
 *       answer is one consistent view;
 *   (2) an alert's status (silencedBy, inhibitedBy) is computed at the time
 *       of the request, as a flush would;
 *   (3) pane updates a silence in place where Alertmanager expires it and
 *       creates a new id (when the old one is still active).
 *
 * Threads: MHD pool threads.
 */
#include "notify/notify_internal.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/mem.h"
#include "config/config.h"
#include "http/server.h"

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
	if (pane_notify_put_alerts(nt, arr, &err) < 0) {
		pane_http_resp_error(resp, err.code == PANE_ETOOBIG ? 503 : 400, "bad_request", "%s", err.msg);
	} else {
		pthread_mutex_lock(&nt->mu);
		pane_notify_forward(nt, body);
		pthread_mutex_unlock(&nt->mu);
		pane_http_resp_status(resp, 200);
	}
	json_decref(arr);
}

/* The distinct receivers a's labels route to, in route order, into names
 * (at most PANE_NOTIFY_MAX_ROUTES_PER_ALERT); returns how many. */
static size_t receiver_names(struct notify *nt, const struct nalert *a, const char **names)
{
	size_t out = 0;
	if (!nt->cfg || !nt->cfg->route.receiver)
		return 0;
	const struct pane_am_route *rs[PANE_NOTIFY_MAX_ROUTES_PER_ALERT];
	size_t n = pane_am_route_match(&nt->cfg->route, &a->labels, rs, PANE_NOTIFY_MAX_ROUTES_PER_ALERT);
	for (size_t i = 0; i < n && i < PANE_NOTIFY_MAX_ROUTES_PER_ALERT; i++) {
		bool dup = false;
		for (size_t k = 0; k < out && !dup; k++)
			dup = !strcmp(names[k], rs[i]->receiver);
		if (!dup)
			names[out++] = rs[i]->receiver;
	}
	return out;
}

static void receivers_of(struct notify *nt, const struct nalert *a, struct pane_json *j)
{
	const char *names[PANE_NOTIFY_MAX_ROUTES_PER_ALERT];
	size_t n = receiver_names(nt, a, names);
	pane_json_arr(j);
	for (size_t i = 0; i < n; i++) {
		pane_json_obj(j);
		pane_json_key(j, "name");
		pane_json_str(j, names[i]);
		pane_json_obj_end(j);
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
	*silenced = pane_notify_silenced_by(nt, &a->labels, now, &js);
	*inhibited = pane_notify_inhibited_by(nt, a, now, &ji);
	pane_json_arr_end(&js);
	pane_json_arr_end(&ji);
	pane_json_obj(j);
	pane_notify_alert_members(j, a, true);
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

/* Starts a 200 application/json answer: j writes its body. */
static void json_answer(struct pane_http_resp *resp, struct pane_json *j)
{
	pane_json_init(j, pane_http_resp_body(resp));
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

/* The filter=... arguments (up to 64, Alertmanager's matcher syntax) into
 * ms; false after answering 400 (ms released). */
static bool filter_args(struct pane_http_req *req, struct pane_http_resp *resp, struct pane_am_matchers *ms)
{
	const char *filters[64];
	size_t nfl = pane_http_req_args(req, "filter", filters, 64);
	struct pane_err err = {0};
	for (size_t i = 0; i < nfl && i < 64; i++) {
		if (pane_am_matchers_parse(ms, filters[i], &err) < 0) {
			pane_http_resp_error(resp, 400, "bad_request", "%s", err.msg);
			pane_am_matchers_release(ms);
			return false;
		}
	}
	return true;
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
	struct pane_am_matchers ms = {0};
	if (!filter_args(req, resp, &ms))
		return;
	bool want_active = arg_bool(req, "active", true), want_sil = arg_bool(req, "silenced", true),
	     want_inh = arg_bool(req, "inhibited", true);
	const char *recv = pane_http_req_arg(req, "receiver");
	struct pane_am_matchers rm = {0};
	struct pane_err err = {0};
	if (recv && pane_am_matcher_add(&rm, "receiver", recv, PANE_AM_RE, &err) < 0) {
		pane_http_resp_error(resp, 400, "bad_request", "%s", err.msg);
		pane_am_matchers_release(&ms);
		return;
	}
	struct pane_json j;
	json_answer(resp, &j);
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
			const char *names[PANE_NOTIFY_MAX_ROUTES_PER_ALERT];
			size_t nn = receiver_names(nt, a, names);
			bool ok = false;
			for (size_t i = 0; i < nn && !ok; i++)
				ok = pane_am_matcher_matches(&rm.v[0], names[i]);
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
}

static void h_get_groups(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	struct pane_json j;
	json_answer(resp, &j);
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
}

static void h_get_silences(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	struct pane_am_matchers ms = {0};
	if (!filter_args(req, resp, &ms))
		return;
	struct pane_json js;
	json_answer(resp, &js);
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
		pane_notify_silence_json(&js, s, now);
	}
	pthread_mutex_unlock(&nt->mu);
	pane_json_arr_end(&js);
	pane_am_matchers_release(&ms);
}

static void h_post_silences(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	const char *body;
	json_t *o = body_json(req, resp, &body);
	if (!o)
		return;
	struct pane_err err = {0};
	struct nsilence *s = pane_notify_silence_from_json(o, &err);
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
		pane_notify_silence_free(s);
		json_decref(o);
		return;
	}
	struct nsilence *old = id && *id ? pane_notify_silence_find(nt, id) : NULL;
	if (id && *id && !old) {
		pthread_mutex_unlock(&nt->mu);
		pane_http_resp_error(resp, 404, "not_found", "silence %s not found", id);
		pane_notify_silence_free(s);
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
		pane_notify_silence_free(old);
	} else {
		if (old) {
			old->ends_ms = now;
			old->updated_ms = now;
			pane_notify_db_put_silence(nt, old);
		}
		pane_notify_silence_new_id(s->id);
		nt->sil = pane_xrealloc(nt->sil, (nt->n_sil + 1) * sizeof *nt->sil);
		nt->sil[nt->n_sil++] = s;
	}
	if (nt->db)
		pane_notify_db_put_silence(nt, s);
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
	struct nsilence *s = pane_notify_silence_find(nt, id);
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
			pane_notify_db_put_silence(nt, s);
		pthread_cond_signal(&nt->cv);
		pthread_mutex_unlock(&nt->mu);
		pane_http_resp_status(resp, 200);
		return;
	}
	struct pane_json j;
	json_answer(resp, &j);
	pane_notify_silence_json(&j, s, now);
	pthread_mutex_unlock(&nt->mu);
}

static void h_status(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	pthread_mutex_lock(&nt->mu);
	const char *orig = nt->cfg && nt->cfg->original ? nt->cfg->original : "";
	struct pane_json j;
	json_answer(resp, &j);
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
}

static void h_receivers(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct notify *nt = ctx;
	struct pane_json j;
	json_answer(resp, &j);
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
}

void pane_notify_api_routes(struct notify *nt, struct pane_http_server *http)
{
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
		pane_http_server_route(http, &r);
	}
}
