/*
 * render.c - the Render source: services, deploys, logs and metrics from
 * Render's public REST API (https://api.render.com/v1, Bearer API key).
 *
 * Idea: one collection walks the service list once and derives everything
 * from it. Every list pages by cursor (bare arrays of {cursor, item}; the
 * next page starts after the cursor of the last element). The spec makes
 * `limit` a maximum, not a promise: a short page is not the end, only an
 * empty page (or one without a cursor) is. Every service becomes a
 * render_service_info series. Deploys are paged newest first, only those
 * updated since the service's watermark (`updatedAfter`), and a deploy whose
 * status differs from the one we knew
 * becomes an event kind="deploy" stamped with the time that status began
 * (createdAt, startedAt, finishedAt or updatedAt; never before createdAt).
 * Service events (/services/{id}/events: server failures, restarts,
 * instance counts, autoscaling, suspensions, ...) become events
 * kind="service_event" with an event_type label, read from the newest
 * timestamp already announced (inclusive, ids at it dropped). Logs are tailed per
 * workspace (ownerId) with every service as a repeated `resource`, forward
 * in time, following hasMore/nextStartTime/nextEndTime; metrics are one
 * request per metric for all services at once (`resource` is repeatable).
 *
 * Cursor (DATA_DIR/sources/<instance>.cursor, JSON):
 *   {"v":1,
 *    "logs":{"<ownerId>":{"ts":"<provider timestamp text>","ids":["..."]}},
 *    "deploys":{"<deployId>":{"s":"<status>","u":<updatedAt ms>}},
 *    "wm":{"<serviceId>":"<updatedAt text>"},
 *    "events":{"<serviceId>":{"ts":"<timestamp text>","ids":["..."]}},
 *    "metrics":{"<metric>":<last point ms>}}
 * Logs restart at `ts` (inclusive) and drop the ids already emitted at
 * exactly that timestamp, so a restart neither skips nor repeats a line. The
 * timestamp is kept as the provider wrote it: Render writes microseconds and
 * a skewed provider clock stays consistent with itself.
 *
 * Invariants:
 *   (1) A log line is emitted at most once per cursor; the cursor is saved
 *       after each page, only past lines that were emitted.
 *   (2) Every list walk is bounded (max_pages) and a page that does not
 *       advance (same cursor, same window) stops the walk: a provider loop
 *       costs one counter (pane_source_partial_errors_total{reason=
 *       "cursor_loop"}), never a spin.
 *   (3) 401/403 fail the collection at once (reason "auth"); the client
 *       never retries them. 404 for one service (deleted between the list
 *       and the detail call) skips that service and is counted as partial.
 *   (4) Responses are bounded by max_response; a larger one fails with
 *       reason "too_big" without being buffered further.
 *
 * Thread context: the instance thread only.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/vec.h"
#include "sources/saas.h"
#include "sources/source.h"

#define URL_MAX (64 * 1024)
#define DEPLOYS_KEEP 5000
#define LOG_IDS_MAX 2000 /* ids sharing the newest timestamp, kept in the cursor */
#define RESOURCES_PER_CALL 20

struct render_cfg {
	struct pane_source_common common;
	char *api_key;
	char *api_url;
	char *owner_id;
	struct pane_cfg_strlist services;
	struct pane_cfg_strlist types;
	int64_t page_size;
	int64_t max_pages;
	bool deploys;
	int64_t deploys_page_size;
	bool events;
	bool datastores;
	bool logs;
	struct pane_cfg_strlist log_types;
	int64_t log_lookback_ms;
	int64_t log_page_size;
	int64_t log_max_pages;
	bool metrics;
	struct pane_cfg_strlist metric_names;
	struct pane_cfg_strlist latency_quantiles;
	int64_t metrics_resolution_ms;
	int64_t metrics_lookback_ms;
	double requests_per_minute;
	int64_t retries;
	int64_t max_rate_wait_ms;
	int64_t max_response;
	int64_t max_clock_skew_ms;
};

static const struct pane_cfg_field render_fields[] = {
    {"api_key", PANE_CFT_STRING, offsetof(struct render_cfg, api_key), NULL, PANE_CFG_REQUIRED | PANE_CFG_SECRET,
     "Render API key (rnd_...), only as ${VAR}", 0, 0},
    {"api_url", PANE_CFT_STRING, offsetof(struct render_cfg, api_url), "https://api.render.com/v1", 0, "API base URL",
     0, 0},
    {"owner_id", PANE_CFT_STRING, offsetof(struct render_cfg, owner_id), NULL, 0,
     "only services of this workspace (tea-... / usr-...); default: every workspace the key sees", 0, 0},
    {"services", PANE_CFT_STRLIST, offsetof(struct render_cfg, services), NULL, 0,
     "only these services (names or srv-... ids); default: all", 0, 0},
    {"types", PANE_CFT_STRLIST, offsetof(struct render_cfg, types), NULL, 0,
     "only these service types (web_service, private_service, background_worker, cron_job, static_site)", 0, 0},
    {"page_size", PANE_CFT_INT, offsetof(struct render_cfg, page_size), "100", 0,
     "services per page (the API allows 1..100)", 1, 100},
    {"max_pages", PANE_CFT_INT, offsetof(struct render_cfg, max_pages), "50", 0,
     "pages per list walk at most (guards against a cursor that never ends)", 1, 10000},
    {"deploys", PANE_CFT_BOOL, offsetof(struct render_cfg, deploys), "true", 0,
     "deploy status changes as events and render_deploy_status", 0, 0},
    {"events", PANE_CFT_BOOL, offsetof(struct render_cfg, events), "true", 0,
     "service events (server failures, restarts, instance count changes, ...) as events", 0, 0},
    {"datastores", PANE_CFT_BOOL, offsetof(struct render_cfg, datastores), "true", 0,
     "Render Postgres and Key Value instances (render_datastore_info) and their metrics", 0, 0},
    {"deploys_page_size", PANE_CFT_INT, offsetof(struct render_cfg, deploys_page_size), "20", 0,
     "deploys read per service and collection (newest first)", 1, 100},
    {"logs", PANE_CFT_BOOL, offsetof(struct render_cfg, logs), "true", 0, "tail build and runtime logs", 0, 0},
    {"log_types", PANE_CFT_STRLIST, offsetof(struct render_cfg, log_types), NULL, 0,
     "only these log types (app, request, build); default: all", 0, 0},
    {"log_lookback", PANE_CFT_DURATION, offsetof(struct render_cfg, log_lookback_ms), "15m", 0,
     "how far back the first collection reads (no cursor yet)", 60000, 7 * 86400000LL},
    {"log_page_size", PANE_CFT_INT, offsetof(struct render_cfg, log_page_size), "100", 0,
     "log lines per request (the API allows 1..100)", 1, 100},
    {"log_max_pages", PANE_CFT_INT, offsetof(struct render_cfg, log_max_pages), "20", 0,
     "log pages per workspace and collection; the rest follows next time", 1, 10000},
    {"metrics", PANE_CFT_BOOL, offsetof(struct render_cfg, metrics), "true", 0,
     "CPU, memory, HTTP, bandwidth and instance metrics", 0, 0},
    {"metric_names", PANE_CFT_STRLIST, offsetof(struct render_cfg, metric_names),
     "cpu,cpu-limit,cpu-target,memory,memory-limit,memory-target,http-requests,http-latency,bandwidth,instance-count,"
     "disk-usage,disk-capacity,active-connections,replication-lag",
     0,
     "metrics endpoints to read (disk and replication-lag: services with disks and Postgres; active-connections: "
     "datastores)",
     0, 0},
    {"latency_quantiles", PANE_CFT_STRLIST, offsetof(struct render_cfg, latency_quantiles), "0.5,0.95,0.99", 0,
     "quantiles of render_http_latency_seconds", 0, 0},
    {"metrics_resolution", PANE_CFT_DURATION, offsetof(struct render_cfg, metrics_resolution_ms), "60s", 0,
     "resolutionSeconds of metric points (at least 30s)", 30000, 86400000},
    {"metrics_lookback", PANE_CFT_DURATION, offsetof(struct render_cfg, metrics_lookback_ms), "10m", 0,
     "window read on the first collection and after gaps", 60000, 86400000},
    {"requests_per_minute", PANE_CFT_DOUBLE, offsetof(struct render_cfg, requests_per_minute), "300", 0,
     "API requests per minute at most (Render allows 400 GETs a minute)", 0, 0},
    {"retries", PANE_CFT_INT, offsetof(struct render_cfg, retries), "2", 0,
     "retries of a failed request (5xx, 429, timeouts) with backoff and jitter", 0, 10},
    {"max_rate_wait", PANE_CFT_DURATION, offsetof(struct render_cfg, max_rate_wait_ms), "60s", 0,
     "longest wait for a rate-limit window; longer gives up until the next interval", 0, 3600000},
    {"max_response", PANE_CFT_SIZE, offsetof(struct render_cfg, max_response), "8MiB", 0,
     "largest response body accepted", 4096, 1LL << 30},
    {"max_clock_skew", PANE_CFT_DURATION, offsetof(struct render_cfg, max_clock_skew_ms), "5m", 0,
     "timestamps further in the future are stamped now (logs, events) or dropped (metrics) and counted", 0, 86400000},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct svc {
	char *id, *name, *type, *owner, *dashboard;
	bool suspended;
};

struct render_ctx {
	struct render_cfg *cfg;
	struct pane_http_client *http;
	json_t *state;          /* the cursor */
	struct pane_vec svcs;   /* struct svc, this collection */
	struct pane_vec stores; /* struct svc of Postgres ("postgres") and Key Value ("key_value") */
	struct pane_saas_partial partial;
};

/* ---------- helpers ---------- */

static void svcs_clear(struct render_ctx *c)
{
	for (size_t i = 0; i < c->svcs.len; i++) {
		struct svc *s = pane_vec_at(&c->svcs, i);
		free(s->id), free(s->name), free(s->type), free(s->owner), free(s->dashboard);
	}
	pane_vec_clear(&c->svcs);
}

static const struct svc *svc_by_id(struct render_ctx *c, const char *id)
{
	for (size_t i = 0; id && i < c->stores.len; i++) {
		const struct svc *s = pane_vec_at(&c->stores, i);
		if (strcmp(s->id, id) == 0)
			return s;
	}
	for (size_t i = 0; id && i < c->svcs.len; i++) {
		const struct svc *s = pane_vec_at(&c->svcs, i);
		if (strcmp(s->id, id) == 0)
			return s;
	}
	return NULL;
}

static bool strlist_has(const struct pane_cfg_strlist *l, const char *v)
{
	for (size_t i = 0; v && i < l->n; i++)
		if (strcmp(l->items[i], v) == 0)
			return true;
	return false;
}

static json_t *state_obj(struct render_ctx *c, const char *key)
{
	json_t *o = json_object_get(c->state, key);
	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(c->state, key, o);
	}
	return o;
}

static int get(struct pane_source *src, struct render_ctx *c, struct pane_buf *url, struct pane_http_response *r,
               json_t **root, struct pane_err *err)
{
	pane_http_response_release(r);
	pane_http_response_init(r);
	if (url->len >= URL_MAX - 1)
		return pane_err_set(err, PANE_ETOOBIG, "request URL too long");
	return pane_saas_get_json(src, c->http, url->data, c->cfg->api_key, r, root, err);
}

/* After a page of n items whose last cursor is last (inside root, which
 * this releases): *after moves to it. 1: fetch the next page; 0: done;
 * -1: the cursor repeated (partial "cursor_loop"), stop paging. */
static int next_page(struct render_ctx *c, char **after, const char *last, size_t n, json_t *root)
{
	bool same = last && *after && strcmp(last, *after) == 0;
	free(*after);
	*after = last ? pane_xstrdup(last) : NULL;
	json_decref(root);
	if (same) {
		pane_saas_partial_add(&c->partial, "cursor_loop");
		return -1;
	}
	return n == 0 || !*after ? 0 : 1;
}

/* u = <api_url>/services/<service id><tail> (pane_buf_release it). */
static void service_url(struct pane_buf *u, const struct render_ctx *c, const struct svc *s, const char *tail)
{
	pane_buf_init(u, URL_MAX);
	pane_saas_url(u, c->cfg->api_url, "/services/");
	pane_http_url_encode(u, s->id, strlen(s->id));
	pane_buf_adds(u, tail);
}

/* get() of a URL that answers a JSON array; url is released. Anything
 * else marks the source "malformed" and fails with fmt's message. */
static int get_array(struct pane_source *src, struct render_ctx *c, struct pane_buf *url, struct pane_http_response *r,
                     json_t **root, struct pane_err *err, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int get_array(struct pane_source *src, struct render_ctx *c, struct pane_buf *url, struct pane_http_response *r,
                     json_t **root, struct pane_err *err, const char *fmt, ...)
{
	int rc = get(src, c, url, r, root, err);
	pane_buf_release(url);
	if (rc < 0)
		return rc;
	if (json_is_array(*root))
		return 0;
	json_decref(*root);
	*root = NULL;
	pane_source_set_reason(src, "malformed");
	va_list ap;
	va_start(ap, fmt);
	rc = pane_err_setv(err, PANE_EINVAL, fmt, ap);
	va_end(ap);
	return rc;
}

static void labels_for(struct pane_labels *ls, const struct svc *s)
{
	pane_labels_init(ls);
	pane_labels_set(ls, "service", s->name);
	pane_labels_set(ls, "service_id", s->id);
}

/* ---------- services ---------- */

static int collect_services(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct render_ctx *c = ctxp;
	svcs_clear(c);
	char *after = NULL;
	int rc = 0;
	struct pane_http_response r;
	pane_http_response_init(&r);
	for (int64_t page = 0;; page++) {
		if (page >= c->cfg->max_pages) {
			pane_saas_partial_add(&c->partial, "max_pages");
			break;
		}
		struct pane_buf u;
		pane_buf_init(&u, URL_MAX);
		pane_saas_url(&u, c->cfg->api_url, "/services");
		char lim[16];
		snprintf(lim, sizeof lim, "%lld", (long long)c->cfg->page_size);
		pane_http_url_add_query(&u, "limit", lim);
		if (c->cfg->owner_id && *c->cfg->owner_id)
			pane_http_url_add_query(&u, "ownerId", c->cfg->owner_id);
		if (after)
			pane_http_url_add_query(&u, "cursor", after);
		json_t *root = NULL;
		rc = get_array(src, c, &u, &r, &root, err, "GET /services: expected a JSON array");
		if (rc < 0)
			break;
		size_t i, n = json_array_size(root);
		json_t *item;
		const char *last = NULL;
		json_array_foreach(root, i, item)
		{
			json_t *s = json_object_get(item, "service");
			const char *id = pane_saas_str(s, "id"), *name = pane_saas_str(s, "name");
			last = pane_saas_str(item, "cursor");
			if (!id || !name)
				continue; /* not a service: ignore rather than guess */
			const char *type = pane_saas_str(s, "type");
			if (c->cfg->services.n && !strlist_has(&c->cfg->services, id) &&
			    !strlist_has(&c->cfg->services, name))
				continue;
			if (c->cfg->types.n && !strlist_has(&c->cfg->types, type))
				continue;
			if (svc_by_id(c, id))
				continue; /* a repeated page */
			json_t *d = json_object_get(s, "serviceDetails");
			const char *susp = pane_saas_str(s, "suspended");
			struct svc *v = pane_vec_push_zero(&c->svcs);
			v->id = pane_xstrdup(id);
			v->name = pane_xstrdup(name);
			v->type = pane_xstrdup(type ? type : "unknown");
			v->owner = pane_xstrdup(pane_saas_str(s, "ownerId"));
			v->dashboard = pane_xstrdup(pane_saas_str(s, "dashboardUrl"));
			v->suspended = susp && strcmp(susp, "suspended") == 0;
			struct pane_labels ls;
			labels_for(&ls, v);
			pane_labels_set(&ls, "type", v->type);
			pane_labels_set(&ls, "region", pane_saas_str(d, "region"));
			pane_labels_set(&ls, "plan", pane_saas_str(d, "plan"));
			pane_labels_set(&ls, "runtime", pane_saas_str(d, "runtime"));
			pane_labels_set(&ls, "suspended", susp ? susp : "unknown");
			pane_labels_set(&ls, "owner_id", v->owner);
			pane_labels_set(&ls, "url", pane_saas_str(d, "url"));
			pane_source_emit_sample(src, "render_service_info", &ls, 0, 1);
			pane_labels_release(&ls);
			json_t *ni = json_object_get(d, "numInstances");
			if (json_is_integer(ni)) {
				labels_for(&ls, v);
				pane_source_emit_sample(src, "render_service_instances_configured", &ls, 0,
				                        (double)json_integer_value(ni));
				pane_labels_release(&ls);
			}
		}
		int more = next_page(c, &after, last, n, root);
		if (more < 0)
			pane_warn("sources", "source %s: /services repeated its cursor; stopped paging",
			          pane_source_name(src));
		if (more <= 0)
			break; /* only an empty page ends the list: `limit` is a maximum */
	}
	free(after);
	pane_http_response_release(&r);
	if (rc == 0)
		pane_source_emit_samplev(src, "render_services", 0, (double)c->svcs.len, NULL);
	return rc;
}

/* ---------- deploys ---------- */

static const char *status_time_field(const char *st)
{
	static const struct {
		const char *status, *field;
	} map[] = {
	    {"created", "createdAt"},
	    {"queued", "createdAt"},
	    {"build_in_progress", "startedAt"},
	    {"pre_deploy_in_progress", "startedAt"},
	    {"update_in_progress", "updatedAt"},
	    {"live", "finishedAt"},
	    {"build_failed", "finishedAt"},
	    {"update_failed", "finishedAt"},
	    {"pre_deploy_failed", "finishedAt"},
	    {"canceled", "finishedAt"},
	    {"deactivated", "updatedAt"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].status, st) == 0)
			return map[i].field;
	return "updatedAt";
}

static int64_t deploy_time_ms(json_t *d, const char *status, struct render_ctx *c, int64_t now)
{
	const char *fields[] = {status_time_field(status), "updatedAt", "createdAt"};
	int64_t created_us = 0;
	bool have_created = pane_time_parse_us(pane_saas_str(d, "createdAt"), &created_us) == 0;
	for (size_t i = 0; i < 3; i++) {
		int64_t us;
		if (pane_time_parse_us(pane_saas_str(d, fields[i]), &us) < 0)
			continue;
		if (have_created && us < created_us) {
			/* a status cannot begin before its deploy: stamped at createdAt, counted */
			pane_saas_partial_add(&c->partial, "deploy_time_before_created");
			us = created_us;
		}
		return pane_saas_clamp_ts(&c->partial, us / 1000, now, c->cfg->max_clock_skew_ms);
	}
	return now;
}

static void emit_deploy_event(struct pane_source *src, struct render_ctx *c, const struct svc *s, json_t *d,
                              const char *status, int64_t now)
{
	const char *id = pane_saas_str(d, "id");
	json_t *commit = json_object_get(d, "commit");
	const char *sha = pane_saas_str(commit, "id"), *msg = pane_saas_str(commit, "message");
	const char *img = pane_saas_str(json_object_get(d, "image"), "ref");
	char short_sha[13] = "";
	if (sha)
		snprintf(short_sha, sizeof short_sha, "%.12s", sha);
	size_t first_line = msg ? strcspn(msg, "\n") : 0;
	struct pane_labels ls;
	labels_for(&ls, s);
	pane_labels_set(&ls, "deploy_id", id);
	pane_labels_set(&ls, "status", status);
	pane_labels_set(&ls, "commit", short_sha);
	struct pane_buf title, url, key;
	pane_buf_init(&title, 1024);
	pane_buf_init(&url, 2048);
	pane_buf_init(&key, 256);
	pane_buf_addf(&title, "%s: deploy %s", s->name, status);
	if (sha)
		pane_buf_addf(&title, " (%.7s %.*s)", sha, (int)(first_line > 200 ? 200 : first_line), msg ? msg : "");
	else if (img)
		pane_buf_addf(&title, " (%s)", img);
	if (s->dashboard)
		pane_buf_addf(&url, "%s/deploys/%s", s->dashboard, id);
	pane_buf_addf(&key, "%s:%s", id, status);
	json_t *body = json_pack("{s:s,s:s,s:s}", "deploy_id", id, "service_id", s->id, "status", status);
	static const char *const copy[] = {"trigger", "createdAt", "startedAt", "finishedAt", "updatedAt"};
	for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++)
		if (pane_saas_str(d, copy[i]))
			json_object_set_new(body, copy[i], json_string(pane_saas_str(d, copy[i])));
	if (sha)
		json_object_set_new(body, "commit_id", json_string(sha));
	if (msg)
		json_object_set_new(body, "commit_message", json_string(msg));
	if (img)
		json_object_set_new(body, "image", json_string(img));
	char *bj = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	pane_source_emit_event(src, &ls, deploy_time_ms(d, status, c, now), "deploy", title.data,
	                       url.len ? url.data : NULL, bj, key.data);
	free(bj);
	pane_buf_release(&title), pane_buf_release(&url), pane_buf_release(&key);
	pane_labels_release(&ls);
}

/* Keeps the deploy map bounded: past DEPLOYS_KEEP the oldest go. */
static void prune_deploys(json_t *known)
{
	while (json_object_size(known) > DEPLOYS_KEEP) {
		const char *oldest = NULL;
		json_int_t min = 0;
		const char *k;
		json_t *v;
		json_object_foreach(known, k, v)
		{
			json_int_t u = json_integer_value(json_object_get(v, "u"));
			if (!oldest || u < min)
				oldest = k, min = u;
		}
		json_object_del(known, oldest);
	}
}

/* One deploy of a page: the newest becomes render_deploy_status, a changed
 * status an event. */
static void deploy_seen(struct pane_source *src, struct render_ctx *c, const struct svc *s, json_t *d, bool newest,
                        int64_t now)
{
	json_t *known = state_obj(c, "deploys");
	const char *id = pane_saas_str(d, "id"), *status = pane_saas_str(d, "status");
	int64_t upd_us = 0;
	pane_time_parse_us(pane_saas_str(d, "updatedAt"), &upd_us);
	if (newest) {
		struct pane_labels ls;
		labels_for(&ls, s);
		pane_labels_set(&ls, "status", status);
		pane_labels_set(&ls, "deploy_id", id);
		pane_source_emit_sample(src, "render_deploy_status", &ls, 0, 1);
		pane_labels_release(&ls);
	}
	json_t *k = json_object_get(known, id);
	const char *was = pane_saas_str(k, "s");
	if (was && strcmp(was, status) == 0)
		return;
	if (!k && strcmp(status, "created") != 0 && strcmp(status, "queued") != 0)
		emit_deploy_event(src, c, s, d, "created", now); /* first sight: where it began */
	/* Render deactivates a deploy only when a newer one replaced it live: one
	 * watched in progress and now deactivated went live between two
	 * collections, and says so (stamped finishedAt), so its going live is
	 * not lost (PagerDuty change events, the console's markers). At first
	 * sight of an old deactivated deploy nothing is made up. */
	if (was && strcmp(was, "live") != 0 && strcmp(status, "deactivated") == 0)
		emit_deploy_event(src, c, s, d, "live", now);
	emit_deploy_event(src, c, s, d, status, now);
	json_object_set_new(known, id, json_pack("{s:s,s:I}", "s", status, "u", (json_int_t)(upd_us / 1000)));
}

static int collect_deploys_of(struct pane_source *src, struct render_ctx *c, const struct svc *s, int64_t now,
                              struct pane_err *err)
{
	json_t *wm = state_obj(c, "wm");
	char *since = pane_xstrdup(pane_saas_str(wm, s->id));
	char lim[16];
	snprintf(lim, sizeof lim, "%lld", (long long)c->cfg->deploys_page_size);
	struct pane_http_response r;
	pane_http_response_init(&r);
	char *after = NULL, *max_upd = NULL;
	int64_t max_upd_us = 0;
	bool newest = true;
	int rc = 0;
	for (int64_t page = 0; !pane_source_stopping(src); page++) {
		if (page >= c->cfg->max_pages) {
			pane_saas_partial_add(&c->partial, "max_pages");
			break;
		}
		struct pane_buf u;
		service_url(&u, c, s, "/deploys");
		pane_http_url_add_query(&u, "limit", lim);
		if (since)
			pane_http_url_add_query(&u, "updatedAfter", since);
		if (after)
			pane_http_url_add_query(&u, "cursor", after);
		json_t *root = NULL;
		rc = get_array(src, c, &u, &r, &root, err, "GET /services/%s/deploys: expected a JSON array", s->id);
		if (rc < 0)
			break;
		size_t i, n = json_array_size(root);
		json_t *item;
		const char *last = NULL;
		json_array_foreach(root, i, item)
		{
			json_t *d = json_object_get(item, "deploy");
			last = pane_saas_str(item, "cursor");
			if (!pane_saas_str(d, "id") || !pane_saas_str(d, "status"))
				continue;
			int64_t upd_us = 0;
			const char *upd = pane_saas_str(d, "updatedAt");
			if (pane_time_parse_us(upd, &upd_us) == 0 && upd_us > max_upd_us) {
				max_upd_us = upd_us;
				free(max_upd);
				max_upd = pane_xstrdup(upd);
			}
			deploy_seen(src, c, s, d, newest, now);
			newest = false;
		}
		int more = next_page(c, &after, last, n, root);
		if (more < 0)
			pane_warn("sources", "source %s: deploys of %s repeated their cursor; stopped paging",
			          pane_source_name(src), s->id);
		if (more <= 0)
			break; /* only an empty page ends the list */
	}
	/* the watermark moves only after a complete walk: an interrupted one is
	 * read again from the old watermark (known statuses are not repeated) */
	if (rc == 0 && max_upd && !pane_source_stopping(src))
		json_object_set_new(wm, s->id, json_string(max_upd));
	free(after), free(max_upd), free(since);
	pane_http_response_release(&r);
	prune_deploys(state_obj(c, "deploys"));
	return rc;
}

static int collect_deploys(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct render_ctx *c = ctxp;
	int64_t now = pane_source_now_ms(src);
	for (size_t i = 0; i < c->svcs.len && !pane_source_stopping(src); i++) {
		const struct svc *s = pane_vec_at(&c->svcs, i);
		struct pane_err e = {0};
		int rc = collect_deploys_of(src, c, s, now, &e);
		if (rc == PANE_ENOTFOUND) {
			/* deleted between the list and this call: the rest goes on */
			pane_saas_partial_add(&c->partial, "not_found");
			pane_warn("sources", "source %s: service %s (%s) is gone: %s", pane_source_name(src), s->name,
			          s->id, e.msg);
			continue;
		}
		if (rc < 0) {
			if (err)
				*err = e;
			return rc;
		}
	}
	struct pane_err e = {0};
	return pane_saas_cursor_save(src, c->state, err ? err : &e);
}

/* ---------- service events ---------- */

/* A short, readable summary of an event's details for its title. */
static void event_summary(struct pane_buf *t, const char *type, json_t *details)
{
	json_t *from = json_object_get(details, "fromInstances"), *to = json_object_get(details, "toInstances");
	if (json_is_integer(from) && json_is_integer(to))
		pane_buf_addf(t, " (%lld -> %lld instances)", (long long)json_integer_value(from),
		              (long long)json_integer_value(to));
	json_t *reason = json_object_get(details, "reason");
	if (json_is_object(reason)) {
		const char *k;
		json_t *v;
		bool first = true;
		json_object_foreach(reason, k, v)
		{
			if (json_is_null(v))
				continue;
			pane_buf_addf(t, "%s%s", first ? " (" : ", ", k);
			first = false;
		}
		if (!first)
			pane_buf_adds(t, ")");
	}
	const char *status = pane_saas_str(details, "deployStatus");
	if (!status)
		status = pane_saas_str(details, "buildStatus");
	if (status && strstr(type, "ended"))
		pane_buf_addf(t, ": %s", status);
}

static void emit_service_event(struct pane_source *src, struct render_ctx *c, const struct svc *s, json_t *ev,
                               int64_t ts_ms)
{
	const char *id = pane_saas_str(ev, "id"), *type = pane_saas_str(ev, "type");
	struct pane_labels ls;
	labels_for(&ls, s);
	pane_labels_set(&ls, "event_type", type);
	struct pane_buf title, url;
	pane_buf_init(&title, 1024);
	pane_buf_init(&url, 2048);
	pane_buf_addf(&title, "%s: ", s->name);
	for (const char *p = type; *p; p++)
		pane_buf_addf(&title, "%c", *p == '_' ? ' ' : *p);
	event_summary(&title, type, json_object_get(ev, "details"));
	if (s->dashboard)
		pane_buf_addf(&url, "%s/events", s->dashboard);
	char *bj = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	pane_source_emit_event(src, &ls, ts_ms, "service_event", title.data, url.len ? url.data : NULL, bj, id);
	free(bj);
	pane_buf_release(&title), pane_buf_release(&url);
	pane_labels_release(&ls);
}

struct ev_ord {
	size_t i;
	int64_t us;
};

static int ev_ord_cmp(const void *a, const void *b)
{
	const struct ev_ord *x = a, *y = b;
	return x->us < y->us ? -1 : x->us > y->us ? 1 : x->i < y->i ? -1 : x->i > y->i;
}

static int events_of(struct pane_source *src, struct render_ctx *c, const struct svc *s, int64_t now,
                     struct pane_err *err)
{
	json_t *all = state_obj(c, "events");
	json_t *cur = json_object_get(all, s->id);
	char start[40];
	if (json_is_object(cur) && pane_saas_str(cur, "ts"))
		snprintf(start, sizeof start, "%s", pane_saas_str(cur, "ts"));
	else
		pane_time_format(now - c->cfg->log_lookback_ms, start, sizeof start);
	int64_t start_us = 0;
	if (pane_time_parse_us(start, &start_us) < 0)
		return pane_err_set(err, PANE_EINVAL, "bad event cursor for %s", s->id);
	json_t *seen = json_is_object(cur) ? json_object_get(cur, "ids") : NULL;
	json_t *got = json_array(); /* every event of the walk, then announced oldest first */
	char lim[16];
	snprintf(lim, sizeof lim, "%lld", (long long)c->cfg->page_size);
	struct pane_http_response r;
	pane_http_response_init(&r);
	char *after = NULL;
	int rc = 0;
	for (int64_t page = 0; !pane_source_stopping(src); page++) {
		if (page >= c->cfg->max_pages) {
			pane_saas_partial_add(&c->partial, "max_pages");
			break;
		}
		struct pane_buf u;
		service_url(&u, c, s, "/events");
		pane_http_url_add_query(&u, "limit", lim);
		pane_http_url_add_query(&u, "startTime", start);
		if (after)
			pane_http_url_add_query(&u, "cursor", after);
		json_t *root = NULL;
		rc = get_array(src, c, &u, &r, &root, err, "GET /services/%s/events: expected a JSON array", s->id);
		if (rc < 0)
			break;
		size_t i, n = json_array_size(root);
		json_t *item;
		const char *last = NULL;
		json_array_foreach(root, i, item)
		{
			last = pane_saas_str(item, "cursor");
			json_t *ev = json_object_get(item, "event");
			if (pane_saas_str(ev, "id") && pane_saas_str(ev, "type") && pane_saas_str(ev, "timestamp"))
				json_array_append(got, ev);
		}
		if (next_page(c, &after, last, n, root) <= 0)
			break;
	}
	free(after);
	pane_http_response_release(&r);
	if (rc < 0) {
		json_decref(got);
		return rc;
	}
	/* oldest first, so the cursor ends at the newest */
	size_t n = json_array_size(got);
	struct ev_ord *ord = pane_xcalloc(n ? n : 1, sizeof *ord);
	for (size_t i = 0; i < n; i++) {
		ord[i].i = i;
		if (pane_time_parse_us(pane_saas_str(json_array_get(got, i), "timestamp"), &ord[i].us) < 0)
			ord[i].us = -1;
	}
	qsort(ord, n, sizeof *ord, ev_ord_cmp);
	int64_t cur_us = start_us;
	const char *cur_ts = start;
	json_t *ids = json_array();
	if (json_is_array(seen))
		json_array_extend(ids, seen);
	size_t emitted = 0;
	for (size_t k = 0; k < n; k++) {
		json_t *ev = json_array_get(got, ord[k].i);
		const char *id = pane_saas_str(ev, "id");
		int64_t us = ord[k].us;
		if (us < 0) {
			pane_saas_partial_add(&c->partial, "malformed");
			continue;
		}
		if (us < start_us) {
			pane_saas_partial_add(&c->partial, "outside_window");
			continue;
		}
		bool dup = false;
		if (us == cur_us) {
			size_t j;
			json_t *x;
			json_array_foreach(ids, j, x) dup = dup || strcmp(json_string_value(x), id) == 0;
		}
		if (dup)
			continue;
		emit_service_event(src, c, s, ev,
		                   pane_saas_clamp_ts(&c->partial, us / 1000, now, c->cfg->max_clock_skew_ms));
		emitted++;
		if (us > cur_us) {
			cur_us = us;
			cur_ts = pane_saas_str(ev, "timestamp");
			json_array_clear(ids);
		}
		if (json_array_size(ids) < LOG_IDS_MAX)
			json_array_append_new(ids, json_string(id));
	}
	if (emitted)
		json_object_set_new(all, s->id, json_pack("{s:s,s:o}", "ts", cur_ts, "ids", ids));
	else
		json_decref(ids);
	free(ord);
	json_decref(got);
	return 0;
}

static int collect_events(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct render_ctx *c = ctxp;
	int64_t now = pane_source_now_ms(src);
	size_t asked = 0, missing = 0;
	struct pane_err nf = {0};
	for (size_t i = 0; i < c->svcs.len && !pane_source_stopping(src); i++) {
		const struct svc *s = pane_vec_at(&c->svcs, i);
		if (strcmp(s->type, "static_site") == 0)
			continue;
		struct pane_err e = {0};
		asked++;
		int rc = events_of(src, c, s, now, &e);
		if (rc == PANE_ENOTFOUND) {
			missing++;
			nf = e;
			continue;
		}
		if (rc < 0) {
			if (err)
				*err = e;
			return rc;
		}
	}
	if (asked && missing == asked) {
		/* every service answered 404: the endpoint is not there (plan, API version) */
		if (err)
			*err = nf;
		return PANE_ENOTFOUND;
	}
	for (size_t i = 0; i < missing; i++)
		pane_saas_partial_add(&c->partial, "not_found"); /* deleted between the list and this call */
	struct pane_err e = {0};
	return pane_saas_cursor_save(src, c->state, err ? err : &e);
}

/* ---------- datastores ---------- */

/* One list (/postgres or /key-value), paged to the empty page. */
static int list_stores(struct pane_source *src, struct render_ctx *c, const char *path, const char *key,
                       const char *kind, struct pane_err *err)
{
	char lim[16];
	snprintf(lim, sizeof lim, "%lld", (long long)c->cfg->page_size);
	struct pane_http_response r;
	pane_http_response_init(&r);
	char *after = NULL;
	int rc = 0;
	for (int64_t page = 0; !pane_source_stopping(src); page++) {
		if (page >= c->cfg->max_pages) {
			pane_saas_partial_add(&c->partial, "max_pages");
			break;
		}
		struct pane_buf u;
		pane_buf_init(&u, URL_MAX);
		pane_saas_url(&u, c->cfg->api_url, path);
		pane_http_url_add_query(&u, "limit", lim);
		if (c->cfg->owner_id && *c->cfg->owner_id)
			pane_http_url_add_query(&u, "ownerId", c->cfg->owner_id);
		if (after)
			pane_http_url_add_query(&u, "cursor", after);
		json_t *root = NULL;
		rc = get_array(src, c, &u, &r, &root, err, "GET %s: expected a JSON array", path);
		if (rc < 0)
			break;
		size_t i, n = json_array_size(root);
		json_t *item;
		const char *last = NULL;
		json_array_foreach(root, i, item)
		{
			last = pane_saas_str(item, "cursor");
			json_t *d = json_object_get(item, key);
			const char *id = pane_saas_str(d, "id"), *name = pane_saas_str(d, "name");
			if (!id || !name || svc_by_id(c, id))
				continue;
			const char *susp = pane_saas_str(d, "suspended");
			struct svc *v = pane_vec_push_zero(&c->stores);
			v->id = pane_xstrdup(id);
			v->name = pane_xstrdup(name);
			v->type = pane_xstrdup(kind);
			v->suspended = susp && strcmp(susp, "suspended") == 0;
			const char *role = pane_saas_str(d, "role");
			/* a replica's lag is the one replication-lag reports */
			v->owner = pane_xstrdup(role ? role : "primary");
			struct pane_labels ls;
			labels_for(&ls, v);
			pane_labels_set(&ls, "kind", kind);
			pane_labels_set(&ls, "plan", pane_saas_str(d, "plan"));
			pane_labels_set(&ls, "region", pane_saas_str(d, "region"));
			pane_labels_set(&ls, "version", pane_saas_str(d, "version"));
			pane_labels_set(&ls, "status", pane_saas_str(d, "status"));
			pane_labels_set(&ls, "role", role);
			pane_source_emit_sample(src, "render_datastore_info", &ls, 0, 1);
			pane_labels_release(&ls);
		}
		if (next_page(c, &after, last, n, root) <= 0)
			break;
	}
	free(after);
	pane_http_response_release(&r);
	return rc;
}

static void stores_clear(struct render_ctx *c)
{
	for (size_t i = 0; i < c->stores.len; i++) {
		struct svc *s = pane_vec_at(&c->stores, i);
		free(s->id), free(s->name), free(s->type), free(s->owner), free(s->dashboard);
	}
	pane_vec_clear(&c->stores);
}

static int collect_datastores(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct render_ctx *c = ctxp;
	stores_clear(c);
	struct pane_err e1 = {0}, e2 = {0};
	int r1 = list_stores(src, c, "/postgres", "postgres", "postgres", &e1);
	if (r1 < 0 && r1 != PANE_ENOTFOUND) {
		if (err)
			*err = e1;
		return r1;
	}
	int r2 = list_stores(src, c, "/key-value", "keyValue", "key_value", &e2);
	if (r2 < 0 && (r2 != PANE_ENOTFOUND || r1 == PANE_ENOTFOUND)) {
		if (err)
			*err = e2; /* a failure, or neither list exists */
		return r2;
	}
	return 0;
}

/* ---------- logs ---------- */

static void emit_log(struct pane_source *src, struct render_ctx *c, json_t *log, int64_t ts_ms)
{
	const char *msg = pane_saas_str(log, "message");
	json_t *labels = json_object_get(log, "labels");
	struct pane_labels ls;
	pane_labels_init(&ls);
	json_t *fields = json_object();
	json_object_set_new(fields, "id", json_string(pane_saas_str(log, "id")));
	const char *level = NULL;
	size_t i;
	json_t *l;
	json_array_foreach(labels, i, l)
	{
		const char *name = pane_saas_str(l, "name"), *value = pane_saas_str(l, "value");
		if (!name || !value)
			continue;
		if (strcmp(name, "resource") == 0) {
			const struct svc *s = svc_by_id(c, value);
			pane_labels_set(&ls, "service", s ? s->name : value);
			pane_labels_set(&ls, "service_id", value);
		} else if (strcmp(name, "instance") == 0 || strcmp(name, "type") == 0 || strcmp(name, "level") == 0) {
			pane_labels_set(&ls, name, value);
			if (strcmp(name, "level") == 0)
				level = value;
		} else {
			json_object_set_new(fields, name, json_string(value));
		}
	}
	char *fj = json_dumps(fields, JSON_COMPACT);
	json_decref(fields);
	enum pane_log_severity sev = level ? pane_log_severity_parse(level, strlen(level)) : PANE_SEV_UNKNOWN;
	pane_source_emit_log(src, &ls, ts_ms, sev, msg ? msg : "", msg ? strlen(msg) : 0, fj);
	free(fj);
	pane_labels_release(&ls);
}

static int tail_owner(struct pane_source *src, struct render_ctx *c, const char *owner, struct pane_vec *ids,
                      struct pane_err *err)
{
	json_t *logs = state_obj(c, "logs");
	json_t *cur = json_object_get(logs, owner);
	if (!json_is_object(cur)) {
		char start[40];
		pane_time_format(pane_source_now_ms(src) - c->cfg->log_lookback_ms, start, sizeof start);
		cur = json_pack("{s:s,s:[]}", "ts", start, "ids");
		json_object_set_new(logs, owner, cur);
	}
	int64_t cur_us = 0;
	if (pane_time_parse_us(pane_saas_str(cur, "ts"), &cur_us) < 0) {
		pane_warn("sources", "source %s: bad log cursor for %s, restarting from log_lookback",
		          pane_source_name(src), owner);
		json_object_del(logs, owner);
		return tail_owner(src, c, owner, ids, err);
	}
	char *start = pane_xstrdup(pane_saas_str(cur, "ts")), *end = NULL;
	int64_t now = pane_source_now_ms(src);
	int rc = 0;
	struct pane_http_response r;
	pane_http_response_init(&r);
	char lim[16];
	snprintf(lim, sizeof lim, "%lld", (long long)c->cfg->log_page_size);
	for (int64_t page = 0; !pane_source_stopping(src); page++) {
		if (page >= c->cfg->log_max_pages)
			break; /* the rest follows next time */
		struct pane_buf u;
		pane_buf_init(&u, URL_MAX);
		pane_saas_url(&u, c->cfg->api_url, "/logs");
		pane_http_url_add_query(&u, "ownerId", owner);
		for (size_t i = 0; i < ids->len; i++)
			pane_http_url_add_query(&u, "resource", *(char **)pane_vec_at(ids, i));
		for (size_t i = 0; i < c->cfg->log_types.n; i++)
			pane_http_url_add_query(&u, "type", c->cfg->log_types.items[i]);
		pane_http_url_add_query(&u, "direction", "forward");
		pane_http_url_add_query(&u, "limit", lim);
		pane_http_url_add_query(&u, "startTime", start);
		if (end) /* the first page leaves endTime to the provider's clock ("now") */
			pane_http_url_add_query(&u, "endTime", end);
		json_t *root = NULL;
		rc = get(src, c, &u, &r, &root, err);
		pane_buf_release(&u);
		if (rc < 0)
			break;
		json_t *arr = json_object_get(root, "logs");
		if (!json_is_object(root) || !json_is_array(arr)) {
			json_decref(root);
			pane_source_set_reason(src, "malformed");
			rc = pane_err_set(err, PANE_EINVAL, "GET /logs: expected an object with a logs array");
			break;
		}
		size_t i, emitted = 0;
		json_t *log;
		json_t *seen = json_object_get(cur, "ids");
		json_array_foreach(arr, i, log)
		{
			const char *id = pane_saas_str(log, "id"), *ts = pane_saas_str(log, "timestamp");
			int64_t us;
			if (!id || !ts || pane_time_parse_us(ts, &us) < 0) {
				pane_saas_partial_add(&c->partial, "malformed");
				continue;
			}
			if (us < cur_us) {
				/* before the window asked for: a provider that ignores startTime */
				pane_saas_partial_add(&c->partial, "outside_window");
				continue;
			}
			bool dup = false;
			if (us == cur_us) {
				size_t j;
				json_t *x;
				json_array_foreach(seen, j, x) if (strcmp(json_string_value(x), id) == 0) dup = true;
			}
			if (dup)
				continue;
			emit_log(src, c, log,
			         pane_saas_clamp_ts(&c->partial, us / 1000, now, c->cfg->max_clock_skew_ms));
			emitted++;
			if (us > cur_us) {
				cur_us = us;
				json_object_set_new(cur, "ts", json_string(ts));
				json_array_clear(seen);
			}
			if (json_array_size(seen) < LOG_IDS_MAX)
				json_array_append_new(seen, json_string(id));
		}
		json_t *more = json_object_get(root, "hasMore");
		const char *ns = pane_saas_str(root, "nextStartTime"), *ne = pane_saas_str(root, "nextEndTime");
		bool go = json_is_true(more) && ns && ne;
		bool stuck = go && emitted == 0 && strcmp(ns, start) == 0 && end && strcmp(ne, end) == 0;
		free(start), free(end);
		start = go ? pane_xstrdup(ns) : NULL;
		end = go ? pane_xstrdup(ne) : NULL;
		json_decref(root);
		struct pane_err e = {0};
		if (emitted && (rc = pane_saas_cursor_save(src, c->state, &e)) < 0) {
			if (err)
				*err = e;
			break;
		}
		if (stuck) {
			pane_saas_partial_add(&c->partial, "cursor_loop");
			pane_warn("sources",
			          "source %s: /logs repeated the same window with nothing new; stopped paging",
			          pane_source_name(src));
			break;
		}
		if (!go)
			break;
	}
	free(start), free(end);
	pane_http_response_release(&r);
	return rc;
}

static int collect_logs(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct render_ctx *c = ctxp;
	/* one tail per workspace: the API wants resources of one owner */
	struct pane_vec owners;
	pane_vec_init(&owners, sizeof(char *));
	for (size_t i = 0; i < c->svcs.len; i++) {
		const struct svc *s = pane_vec_at(&c->svcs, i);
		bool have = false;
		for (size_t j = 0; s->owner && j < owners.len; j++)
			have = have || strcmp(*(char **)pane_vec_at(&owners, j), s->owner) == 0;
		if (s->owner && !have)
			pane_vec_push(&owners, &s->owner);
	}
	int rc = 0;
	for (size_t o = 0; o < owners.len && rc == 0; o++) {
		const char *owner = *(char **)pane_vec_at(&owners, o);
		struct pane_vec ids;
		pane_vec_init(&ids, sizeof(char *));
		for (size_t i = 0; i < c->svcs.len; i++) {
			const struct svc *s = pane_vec_at(&c->svcs, i);
			if (s->owner && strcmp(s->owner, owner) == 0 && strcmp(s->type, "static_site") != 0)
				pane_vec_push(&ids, &s->id);
		}
		if (ids.len)
			rc = tail_owner(src, c, owner, &ids, err);
		pane_vec_release(&ids);
	}
	pane_vec_release(&owners);
	return rc;
}

/* ---------- metrics ---------- */

struct metric_def {
	const char *endpoint, *name;
	double scale; /* applied after unit conversion */
	bool seconds; /* value is a duration: convert ms -> s */
	bool bytes;   /* value is a size: convert KB/MB/GB -> bytes */
	bool http;    /* web services only */
};

static const struct metric_def METRIC_DEFS[] = {
    {"cpu", "render_cpu_usage_cores", 1, false, false, false},
    {"cpu-limit", "render_cpu_limit_cores", 1, false, false, false},
    {"cpu-target", "render_cpu_target_cores", 1, false, false, false},
    {"memory", "render_memory_usage_bytes", 1, false, true, false},
    {"memory-limit", "render_memory_limit_bytes", 1, false, true, false},
    {"memory-target", "render_memory_target_bytes", 1, false, true, false},
    {"http-requests", "render_http_requests", 1, false, false, true},
    {"http-latency", "render_http_latency_seconds", 1, true, false, true},
    {"bandwidth", "render_bandwidth_bytes", 1, false, true, false},
    {"instance-count", "render_instance_count", 1, false, false, false},
    {"disk-usage", "render_disk_usage_bytes", 1, false, true, false},
    {"disk-capacity", "render_disk_capacity_bytes", 1, false, true, false},
    {"active-connections", "render_active_connections", 1, false, false, false},
    {"replication-lag", "render_replication_lag_seconds", 1, true, false, false},
};

static const struct metric_def *metric_def(const char *endpoint)
{
	for (size_t i = 0; i < sizeof METRIC_DEFS / sizeof METRIC_DEFS[0]; i++)
		if (strcmp(METRIC_DEFS[i].endpoint, endpoint) == 0)
			return &METRIC_DEFS[i];
	return NULL;
}

static double unit_factor(const struct metric_def *m, const char *unit)
{
	if (!unit)
		return 1;
	if (m->seconds)
		return pane_streq_nocase(unit, "ms") || pane_streq_nocase(unit, "milliseconds") ? 0.001 : 1;
	if (m->bytes) {
		static const struct {
			const char *u;
			double f;
		} t[] = {{"KB", 1e3},     {"MB", 1e6},        {"GB", 1e9},
		         {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}};
		for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
			if (strcmp(unit, t[i].u) == 0)
				return t[i].f;
	}
	return 1;
}

static int metric_call(struct pane_source *src, struct render_ctx *c, const struct metric_def *m, struct pane_vec *ids,
                       const char *extra_k, const char *extra_v, int64_t *wm_ms, int64_t *new_wm, struct pane_err *err)
{
	int64_t now = pane_source_now_ms(src);
	int64_t from = now - c->cfg->metrics_lookback_ms;
	if (*wm_ms > from)
		from = *wm_ms;
	char t0[40], t1[40], res[24];
	pane_time_format(from, t0, sizeof t0);
	pane_time_format(now, t1, sizeof t1);
	snprintf(res, sizeof res, "%lld", (long long)(c->cfg->metrics_resolution_ms / 1000));
	struct pane_buf u;
	pane_buf_init(&u, URL_MAX);
	pane_saas_url(&u, c->cfg->api_url, "/metrics/");
	pane_buf_adds(&u, m->endpoint);
	pane_http_url_add_query(&u, "startTime", t0);
	pane_http_url_add_query(&u, "endTime", t1);
	pane_http_url_add_query(&u, "resolutionSeconds", res);
	for (size_t i = 0; i < ids->len; i++)
		pane_http_url_add_query(&u, "resource", *(char **)pane_vec_at(ids, i));
	if (extra_k)
		pane_http_url_add_query(&u, extra_k, extra_v);
	struct pane_http_response r;
	pane_http_response_init(&r);
	json_t *root = NULL;
	int rc = get_array(src, c, &u, &r, &root, err, "GET /metrics/%s: expected a JSON array", m->endpoint);
	pane_http_response_release(&r);
	if (rc < 0)
		return rc;
	int64_t complete = now - c->cfg->metrics_resolution_ms; /* the newest bucket is still filling */
	size_t i;
	json_t *series;
	json_array_foreach(root, i, series)
	{
		struct pane_labels ls;
		pane_labels_init(&ls);
		size_t j;
		json_t *l;
		json_array_foreach(json_object_get(series, "labels"), j, l)
		{
			const char *f = pane_saas_str(l, "field"), *v = pane_saas_str(l, "value");
			if (!f || !v)
				continue;
			if (strcmp(f, "resource") == 0 || strcmp(f, "service") == 0) {
				const struct svc *s = svc_by_id(c, v);
				pane_labels_set(&ls, "service", s ? s->name : v);
				pane_labels_set(&ls, "service_id", v);
			} else {
				const char *ln = strcmp(f, "statusCode") == 0 ? "status_code" : f;
				char *n = pane_name_sanitize(ln, strlen(ln), false);
				pane_labels_set(&ls, n, v);
				free(n);
			}
		}
		/* the API does not promise to echo what was asked for as a label:
		 * without it p50/p95/p99 would collapse into one series */
		if (extra_k && strcmp(extra_k, "quantile") == 0 && !pane_labels_get(&ls, "quantile"))
			pane_labels_set(&ls, "quantile", extra_v);
		double factor = unit_factor(m, pane_saas_str(series, "unit"));
		json_t *pt;
		json_array_foreach(json_object_get(series, "values"), j, pt)
		{
			int64_t us;
			json_t *val = json_object_get(pt, "value");
			if (pane_time_parse_us(pane_saas_str(pt, "timestamp"), &us) < 0 || !json_is_number(val))
				continue;
			int64_t ts = us / 1000;
			if (ts > now + c->cfg->max_clock_skew_ms) {
				pane_saas_clamp_ts(&c->partial, ts, now, c->cfg->max_clock_skew_ms);
				continue; /* a point from the future cannot be placed: counted, dropped */
			}
			if (ts <= *wm_ms || ts > complete)
				continue;
			pane_source_emit_sample(src, m->name, &ls, ts, json_number_value(val) * factor * m->scale);
			if (ts > *new_wm)
				*new_wm = ts;
		}
		pane_labels_release(&ls);
	}
	json_decref(root);
	return 0;
}

static int collect_metrics(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct render_ctx *c = ctxp;
	json_t *marks = state_obj(c, "metrics");
	int rc = 0;
	for (size_t k = 0; k < c->cfg->metric_names.n && rc == 0 && !pane_source_stopping(src); k++) {
		const struct metric_def *m = metric_def(c->cfg->metric_names.items[k]);
		if (!m)
			continue; /* init validated the names */
		struct pane_vec ids;
		pane_vec_init(&ids, sizeof(char *));
		bool store_only =
		    strcmp(m->endpoint, "active-connections") == 0 || strcmp(m->endpoint, "replication-lag") == 0;
		for (size_t i = 0; i < c->svcs.len && !store_only; i++) {
			const struct svc *s = pane_vec_at(&c->svcs, i);
			bool web = strcmp(s->type, "web_service") == 0;
			bool static_site = strcmp(s->type, "static_site") == 0;
			if (s->suspended || (m->http && !web) || (static_site && strcmp(m->endpoint, "bandwidth") != 0))
				continue;
			pane_vec_push(&ids, &s->id);
		}
		/* datastores: CPU, memory, connections; disks and replication lag of Postgres */
		static const char *const store_metrics[] = {"cpu",        "memory",        "active-connections",
		                                            "disk-usage", "disk-capacity", "replication-lag"};
		for (size_t i = 0; i < c->stores.len; i++) {
			const struct svc *s = pane_vec_at(&c->stores, i);
			bool pg = strcmp(s->type, "postgres") == 0, want = false;
			for (size_t j = 0; j < sizeof store_metrics / sizeof store_metrics[0]; j++)
				want = want || strcmp(store_metrics[j], m->endpoint) == 0;
			if (!pg &&
			    (strncmp(m->endpoint, "disk", 4) == 0 || strcmp(m->endpoint, "replication-lag") == 0))
				want = false;
			if (strcmp(m->endpoint, "replication-lag") == 0 && strcmp(s->owner, "replica") != 0)
				want = false;
			if (want && !s->suspended)
				pane_vec_push(&ids, &s->id);
		}
		int64_t wm = json_integer_value(json_object_get(marks, m->endpoint));
		int64_t new_wm = wm;
		for (size_t off = 0; off < ids.len && rc == 0; off += RESOURCES_PER_CALL) {
			struct pane_vec chunk;
			pane_vec_init(&chunk, sizeof(char *));
			for (size_t i = off; i < ids.len && i < off + RESOURCES_PER_CALL; i++)
				pane_vec_push(&chunk, pane_vec_at(&ids, i));
			if (strcmp(m->endpoint, "http-latency") == 0) {
				for (size_t q = 0; q < c->cfg->latency_quantiles.n && rc == 0; q++)
					rc = metric_call(src, c, m, &chunk, "quantile",
					                 c->cfg->latency_quantiles.items[q], &wm, &new_wm, err);
			} else if (strcmp(m->endpoint, "http-requests") == 0) {
				rc = metric_call(src, c, m, &chunk, "aggregateBy", "statusCode", &wm, &new_wm, err);
			} else {
				rc = metric_call(src, c, m, &chunk, NULL, NULL, &wm, &new_wm, err);
			}
			pane_vec_release(&chunk);
		}
		pane_vec_release(&ids);
		if (rc == 0 && new_wm > wm)
			json_object_set_new(marks, m->endpoint, json_integer(new_wm));
	}
	struct pane_err e = {0};
	if (rc == 0)
		rc = pane_saas_cursor_save(src, c->state, err ? err : &e);
	return rc;
}

/* ---------- plugin ---------- */

static int render_init(struct pane_source *src, void *cfgp, const struct pane_cfg *file,
                       const struct pane_cfg_node *node, void **ctxp, struct pane_err *err)
{
	struct render_cfg *cfg = cfgp;
	if (strncmp(cfg->api_url, "http://", 7) != 0 && strncmp(cfg->api_url, "https://", 8) != 0)
		return pane_cfg_error(file, pane_cfg_get(node, "api_url"), err, "expected an http:// or https:// URL");
	for (size_t i = 0; i < cfg->metric_names.n; i++)
		if (!metric_def(cfg->metric_names.items[i]))
			return pane_cfg_error(file, pane_cfg_get(node, "metric_names"), err,
			                      "unknown metric '%s' (cpu, cpu-limit, cpu-target, memory, memory-limit, "
			                      "memory-target, http-requests, http-latency, bandwidth, instance-count, "
			                      "disk-usage, disk-capacity, active-connections, replication-lag)",
			                      cfg->metric_names.items[i]);
	for (size_t i = 0; i < cfg->latency_quantiles.n; i++) {
		double q;
		if (pane_str_to_double(pane_str_c(cfg->latency_quantiles.items[i]), &q) < 0 || q <= 0 || q >= 1)
			return pane_cfg_error(file, pane_cfg_get(node, "latency_quantiles"), err,
			                      "'%s' is not a quantile between 0 and 1",
			                      cfg->latency_quantiles.items[i]);
	}
	if (cfg->requests_per_minute < 0)
		return pane_cfg_error(file, pane_cfg_get(node, "requests_per_minute"), err, "must not be negative");
	struct render_ctx *c = pane_xcalloc(1, sizeof *c);
	*ctxp = c;
	c->cfg = cfg;
	pane_vec_init(&c->svcs, sizeof(struct svc));
	pane_vec_init(&c->stores, sizeof(struct svc));
	struct pane_http_client_opts o;
	pane_source_http_opts(src, &o);
	o.max_retries = cfg->retries ? (int)cfg->retries : -1;
	o.max_wait_ms = cfg->max_rate_wait_ms;
	o.max_body = (size_t)cfg->max_response;
	o.requests_per_minute = cfg->requests_per_minute;
	c->http = pane_http_client_new(&o);
	return 0;
}

static int render_collect(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct render_ctx *c = ctxp;
	if (!c->state)
		c->state = pane_saas_cursor_load(src);
	json_object_set_new(c->state, "v", json_integer(1));
	int rc = collect_services(src, c, err);
	pane_source_part_report(src, "services", false, rc, err);
	if (rc < 0) {
		pane_saas_partial_emit(src, &c->partial);
		return rc;
	}
	const struct pane_source_part parts[] = {
	    {c->cfg->deploys, collect_deploys, "deploys", false},
	    {c->cfg->events, collect_events, "events", true},
	    {c->cfg->datastores, collect_datastores, "datastores", true},
	    {c->cfg->logs, collect_logs, "logs", false},
	    {c->cfg->metrics, collect_metrics, "metrics", false},
	};
	int first = pane_source_run_parts(src, c, parts, sizeof parts / sizeof parts[0], true, err);
	pane_saas_partial_emit(src, &c->partial);
	return first;
}

static void render_close(void *ctxp)
{
	struct render_ctx *c = ctxp;
	if (!c)
		return;
	svcs_clear(c);
	pane_vec_release(&c->svcs);
	stores_clear(c);
	pane_vec_release(&c->stores);
	pane_http_client_free(c->http);
	json_decref(c->state);
	free(c);
}

const struct pane_source_plugin pane_source_render = {
    .name = "render",
    .provider = "render",
    .description = "Render services, deploys (as events), build and runtime logs, and service metrics",
    .default_interval_ms = 60000,
    .default_timeout_ms = 30000,
    .cfg_size = sizeof(struct render_cfg),
    .fields = render_fields,
    .init = render_init,
    .collect = render_collect,
    .close = render_close,
};
