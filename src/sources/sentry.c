/*
 * sentry.c - the Sentry source: unresolved issues, issue lifecycle events,
 * event rates, transaction performance and releases from Sentry's REST API
 * (https://{region}.sentry.io or a self-hosted URL, Bearer token).
 *
 * Idea: one walk over the organization's unresolved issues (the project
 * endpoint is deprecated) gives both the gauges (counts by project, level
 * and substatus) and the lifecycle: an id we did not know is "new", a known
 * id whose substatus turned "regressed" is "regressed", and a known id that
 * left the unresolved list is looked up once - "resolved" if Sentry says so.
 * Pages follow the Link header (rel="next"; results="false" ends it).
 * Event rates come from stats_v2 (per project, category and outcome, per
 * hour), summed into counters over complete buckets only; p50/p95 and
 * throughput per transaction come from events-timeseries (dataset=spans),
 * skipped quietly where the plan does not offer it (403/404). Releases
 * become events so a dashboard can tie errors to the release that brought
 * them.
 *
 * Project slugs come from the projects list (one request per collection),
 * so every series names a project the same way.
 *
 * Cron monitors: sentry_monitor_ok{monitor, environment} per environment,
 * and every failed, missed or timed-out check-in as an event (kind
 * "cron_checkin"), read newest first by Link pages down to the newest
 * check-in already seen. Release health: one sessions/ query (totals
 * only) gives sentry_release_sessions and the crash-free rates of sessions
 * and users per project and release over `sessions_period`.
 *
 * Cursor (DATA_DIR/sources/<instance>.cursor, JSON):
 *   {"v":1, "issues":{"<id>":"<substatus>"}, "stats":{"wm":ms,"tot":{"p|c|o":n}},
 *    "perf":{"<yAxis>":ms}, "releases":["<version>", ...],
 *    "checkins":{"<monitor>":{"ts":us,"ids":["..."]}}}
 *
 * Invariants:
 *   (1) Every walk is bounded by max_pages and stops when the next URL
 *       repeats (a cursor loop is counted as partial, never spun on).
 *   (2) Counters only grow: a bucket is added once, after it is complete,
 *       and its end becomes the watermark.
 *   (3) Lifecycle events carry a dedup key (id:kind[:lastSeen]), so a
 *       restart that replays a change writes the same event again, not a
 *       second one.
 *   (4) 401/403 on the issues walk fail the collection at once (reason
 *       "auth"); the client never retries them. A 429 (its body a bare JSON
 *       string, no Retry-After) is retried with backoff and jitter, and the
 *       X-Sentry-Rate-Limit-* headers make the client wait for the window
 *       instead of earning the next one.
 *
 * Thread context: the instance thread only.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/vec.h"
#include "sources/saas.h"
#include "sources/source.h"

#define URL_MAX (64 * 1024)
#define ISSUES_KEEP 20000 /* ~25 bytes each in the cursor (bounded at 1 MiB) */
#define RELEASES_KEEP 500
#define COMBOS_MAX 2000

struct sentry_cfg {
	struct pane_source_common common;
	char *auth_token;
	char *url;
	char *organization;
	struct pane_cfg_strlist projects;
	struct pane_cfg_strlist environments;
	bool issues;
	char *issue_query;
	int64_t page_size;
	int64_t max_pages;
	int64_t resolved_lookups;
	bool stats;
	char *stats_interval;
	int64_t lookback_ms;
	bool performance;
	int64_t transactions_top;
	int64_t performance_interval_ms;
	bool releases;
	int64_t releases_page_size;
	bool monitors;
	bool sessions;
	char *sessions_period;
	double requests_per_minute;
	int64_t retries;
	int64_t max_rate_wait_ms;
	int64_t max_response;
	int64_t max_clock_skew_ms;
};

static const struct pane_cfg_field sentry_fields[] = {
    {"auth_token", PANE_CFT_STRING, offsetof(struct sentry_cfg, auth_token), NULL, PANE_CFG_REQUIRED | PANE_CFG_SECRET,
     "auth token (org token sntrys_..., user or internal-integration token), only as ${VAR}", 0, 0},
    {"url", PANE_CFT_STRING, offsetof(struct sentry_cfg, url), "https://us.sentry.io", 0,
     "https://us.sentry.io, https://de.sentry.io or a self-hosted Sentry's URL", 0, 0},
    {"organization", PANE_CFT_STRING, offsetof(struct sentry_cfg, organization), NULL, PANE_CFG_REQUIRED,
     "organization slug or id", 0, 0},
    {"projects", PANE_CFT_STRLIST, offsetof(struct sentry_cfg, projects), NULL, 0,
     "only these projects (ids or slugs); default: all", 0, 0},
    {"environments", PANE_CFT_STRLIST, offsetof(struct sentry_cfg, environments), NULL, 0,
     "only these environments; default: all", 0, 0},
    {"issues", PANE_CFT_BOOL, offsetof(struct sentry_cfg, issues), "true", 0,
     "unresolved issue gauges and new/regressed/resolved events", 0, 0},
    {"issue_query", PANE_CFT_STRING, offsetof(struct sentry_cfg, issue_query), "is:unresolved", 0,
     "search query of the issue walk", 0, 0},
    {"page_size", PANE_CFT_INT, offsetof(struct sentry_cfg, page_size), "100", 0,
     "issues per page (the API allows 1..100)", 1, 100},
    {"max_pages", PANE_CFT_INT, offsetof(struct sentry_cfg, max_pages), "50", 0,
     "pages per walk at most (guards against a cursor that never ends)", 1, 10000},
    {"resolved_lookups", PANE_CFT_INT, offsetof(struct sentry_cfg, resolved_lookups), "20", 0,
     "issues that left the unresolved list looked up per collection", 0, 1000},
    {"stats", PANE_CFT_BOOL, offsetof(struct sentry_cfg, stats), "true", 0,
     "event rates per project, category and outcome (stats_v2) as counters", 0, 0},
    {"stats_interval", PANE_CFT_STRING, offsetof(struct sentry_cfg, stats_interval), "1h", 0,
     "stats_v2 bucket (1h .. 1d, must divide a day)", 0, 0},
    {"lookback", PANE_CFT_DURATION, offsetof(struct sentry_cfg, lookback_ms), "24h", 0,
     "how far back the first collection reads (stats, performance, new issues, releases)", 3600000, 90 * 86400000LL},
    {"performance", PANE_CFT_BOOL, offsetof(struct sentry_cfg, performance), "true", 0,
     "p50/p95 and throughput per transaction (events-timeseries), where the plan allows", 0, 0},
    {"transactions_top", PANE_CFT_INT, offsetof(struct sentry_cfg, transactions_top), "5", 0,
     "transactions (by count) with their own series", 1, 10},
    {"performance_interval", PANE_CFT_DURATION, offsetof(struct sentry_cfg, performance_interval_ms), "1h", 0,
     "bucket of the performance series", 60000, 86400000},
    {"releases", PANE_CFT_BOOL, offsetof(struct sentry_cfg, releases), "true", 0, "releases as events", 0, 0},
    {"monitors", PANE_CFT_BOOL, offsetof(struct sentry_cfg, monitors), "true", 0,
     "cron monitors: status per environment, failed and missed check-ins as events", 0, 0},
    {"sessions", PANE_CFT_BOOL, offsetof(struct sentry_cfg, sessions), "true", 0,
     "release health: sessions and crash-free rates per project and release", 0, 0},
    {"sessions_period", PANE_CFT_STRING, offsetof(struct sentry_cfg, sessions_period), "24h", 0,
     "window of the release health figures (statsPeriod: 1h, 24h, 7d, ...)", 0, 0},
    {"releases_page_size", PANE_CFT_INT, offsetof(struct sentry_cfg, releases_page_size), "25", 0,
     "newest releases read per collection", 1, 100},
    {"requests_per_minute", PANE_CFT_DOUBLE, offsetof(struct sentry_cfg, requests_per_minute), "60", 0,
     "API requests per minute at most (0 = only the server's rate-limit headers)", 0, 0},
    {"retries", PANE_CFT_INT, offsetof(struct sentry_cfg, retries), "2", 0,
     "retries of a failed request (5xx, 429, timeouts) with backoff and jitter", 0, 10},
    {"max_rate_wait", PANE_CFT_DURATION, offsetof(struct sentry_cfg, max_rate_wait_ms), "60s", 0,
     "longest wait for a rate-limit window; longer gives up until the next interval", 0, 3600000},
    {"max_response", PANE_CFT_SIZE, offsetof(struct sentry_cfg, max_response), "8MiB", 0,
     "largest response body accepted", 4096, 1LL << 30},
    {"max_clock_skew", PANE_CFT_DURATION, offsetof(struct sentry_cfg, max_clock_skew_ms), "5m", 0,
     "timestamps further in the future are stamped now (events) or dropped (series) and counted", 0, 86400000},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct sentry_ctx {
	struct sentry_cfg *cfg;
	struct pane_http_client *http;
	json_t *state;
	json_t *project_slugs; /* project id -> slug, learned from issues */
	struct pane_saas_partial partial;
	bool baseline; /* first collection without a cursor: old things are not news */
};

/* ---------- helpers ---------- */

static json_t *state_get(struct sentry_ctx *c, const char *key, bool array)
{
	json_t *o = json_object_get(c->state, key);
	if (array ? !json_is_array(o) : !json_is_object(o)) {
		o = array ? json_array() : json_object();
		json_object_set_new(c->state, key, o);
	}
	return o;
}

/* base URL + /api/0/organizations/<org>/<rest> + the common filters. */
static void org_url(struct sentry_ctx *c, struct pane_buf *u, const char *rest, bool filters)
{
	pane_buf_init(u, URL_MAX);
	pane_saas_url(u, c->cfg->url, "/api/0/organizations/");
	pane_http_url_encode(u, c->cfg->organization, strlen(c->cfg->organization));
	pane_buf_addc(u, '/');
	pane_buf_adds(u, rest);
	if (!filters)
		return;
	for (size_t i = 0; i < c->cfg->projects.n; i++)
		pane_http_url_add_query(u, "project", c->cfg->projects.items[i]);
	for (size_t i = 0; i < c->cfg->environments.n; i++)
		pane_http_url_add_query(u, "environment", c->cfg->environments.items[i]);
}

static int get(struct pane_source *src, struct sentry_ctx *c, const char *url, struct pane_http_response *r,
               json_t **root, struct pane_err *err)
{
	pane_http_response_release(r);
	pane_http_response_init(r);
	return pane_saas_get_json(src, c->http, url, c->cfg->auth_token, r, root, err);
}

static int64_t ts_ms_of(struct sentry_ctx *c, const char *s, int64_t now)
{
	int64_t us;
	if (pane_time_parse_us(s, &us) < 0)
		return now;
	return pane_saas_clamp_ts(&c->partial, us / 1000, now, c->cfg->max_clock_skew_ms);
}

static const char *project_label(struct sentry_ctx *c, json_t *proj_id)
{
	static __thread char buf[32];
	if (json_is_integer(proj_id))
		snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(proj_id));
	else if (json_is_string(proj_id))
		snprintf(buf, sizeof buf, "%s", json_string_value(proj_id));
	else
		return "unknown";
	const char *slug = pane_saas_str(c->project_slugs, buf);
	return slug ? slug : buf;
}

/* ---------- projects ---------- */

/* Learns project id -> slug (so counters and gauges share the `project`
 * label) and writes sentry_project_info. */
static int collect_projects(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sentry_ctx *c = ctxp;
	struct pane_buf u;
	org_url(c, &u, "projects/", false);
	pane_http_url_add_query(&u, "per_page", "100");
	char *url = pane_buf_detach(&u, NULL);
	struct pane_http_response r;
	pane_http_response_init(&r);
	int rc = 0;
	for (int64_t page = 0; url && page < c->cfg->max_pages && !pane_source_stopping(src); page++) {
		json_t *root = NULL;
		rc = get(src, c, url, &r, &root, err);
		if (rc < 0)
			break;
		size_t i;
		json_t *p;
		json_array_foreach(root, i, p)
		{
			const char *id = pane_saas_str(p, "id"), *slug = pane_saas_str(p, "slug");
			if (!id || !slug)
				continue;
			if (c->cfg->projects.n) {
				bool want = false;
				for (size_t k = 0; k < c->cfg->projects.n; k++)
					want = want || strcmp(c->cfg->projects.items[k], id) == 0 ||
					       strcmp(c->cfg->projects.items[k], slug) == 0;
				if (!want)
					continue;
			}
			if (json_object_size(c->project_slugs) < 10000)
				json_object_set_new(c->project_slugs, id, json_string(slug));
			const char *platform = pane_saas_str(p, "platform");
			pane_source_emit_samplev(src, "sentry_project_info", 0, 1, "project", slug, "project_id", id,
			                         "platform", platform ? platform : "unknown", NULL);
		}
		json_decref(root);
		char *next = pane_http_link_next(pane_http_response_header(&r, "Link"));
		if (next && strcmp(next, url) == 0) {
			pane_saas_partial_add(&c->partial, "cursor_loop");
			free(next);
			next = NULL;
		}
		free(url);
		url = next;
	}
	free(url);
	pane_http_response_release(&r);
	return rc;
}

/* ---------- issues ---------- */

static void emit_issue_event(struct pane_source *src, struct sentry_ctx *c, json_t *iss, const char *kind, int64_t ts)
{
	const char *id = pane_saas_str(iss, "id"), *short_id = pane_saas_str(iss, "shortId");
	const char *title = pane_saas_str(iss, "title"), *culprit = pane_saas_str(iss, "culprit");
	const char *permalink = pane_saas_str(iss, "permalink"), *level = pane_saas_str(iss, "level");
	json_t *proj = json_object_get(iss, "project");
	const char *slug = pane_saas_str(proj, "slug");
	int64_t count = -1;
	const char *cs = pane_saas_str(iss, "count"); /* a string in the API */
	if (cs && pane_str_to_i64(pane_str_c(cs), &count) < 0)
		count = -1;
	else if (!cs && json_is_integer(json_object_get(iss, "count")))
		count = json_integer_value(json_object_get(iss, "count"));
	json_t *uc = json_object_get(iss, "userCount");
	struct pane_labels ls;
	pane_labels_init(&ls);
	pane_labels_set(&ls, "project", slug);
	pane_labels_set(&ls, "level", level);
	pane_labels_set(&ls, "status", kind);
	pane_labels_set(&ls, "short_id", short_id);
	pane_labels_set(&ls, "issue_id", id);
	struct pane_buf t, key;
	pane_buf_init(&t, 2048);
	pane_buf_init(&key, 256);
	pane_buf_addf(&t, "%s %s: %.300s", short_id ? short_id : id, kind, title ? title : "(no title)");
	pane_buf_addf(&key, "%s:%s", id, kind);
	if (strcmp(kind, "regressed") == 0)
		pane_buf_addf(&key, ":%lld", (long long)ts);
	json_t *body = json_object();
	json_object_set_new(body, "id", json_string(id));
	static const char *const keys[] = {"shortId",   "title",     "permalink", "level",   "status",
	                                   "substatus", "firstSeen", "lastSeen",  "platform"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (pane_saas_str(iss, keys[i]))
			json_object_set_new(body, keys[i], json_string(pane_saas_str(iss, keys[i])));
	json_object_set_new(body, "culprit", culprit ? json_string(culprit) : json_null());
	json_object_set_new(body, "count", count >= 0 ? json_integer(count) : json_null());
	json_object_set_new(body, "userCount",
	                    json_is_integer(uc) ? json_integer(json_integer_value(uc)) : json_null());
	if (slug)
		json_object_set_new(body, "project", json_string(slug));
	char *bj = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	pane_source_emit_event(src, &ls, ts, "issue", t.data, permalink, bj, key.data);
	free(bj);
	pane_buf_release(&t), pane_buf_release(&key);
	pane_labels_release(&ls);
}

struct combo {
	char key[400];
	char project[128], level[32], substatus[48];
	int64_t n;
};

static void count_combo(struct pane_vec *combos, const char *project, const char *level, const char *sub)
{
	char key[400];
	snprintf(key, sizeof key, "%s|%s|%s", project, level, sub);
	for (size_t i = 0; i < combos->len; i++) {
		struct combo *x = pane_vec_at(combos, i);
		if (strcmp(x->key, key) == 0) {
			x->n++;
			return;
		}
	}
	if (combos->len >= COMBOS_MAX)
		return;
	struct combo *x = pane_vec_push_zero(combos);
	snprintf(x->key, sizeof x->key, "%s", key);
	snprintf(x->project, sizeof x->project, "%s", project);
	snprintf(x->level, sizeof x->level, "%s", level);
	snprintf(x->substatus, sizeof x->substatus, "%s", sub);
	x->n = 1;
}

/* Known unresolved issues that did not show up: resolved, ignored, deleted? */
static int check_vanished(struct pane_source *src, struct sentry_ctx *c, json_t *known, json_t *seen, int64_t now,
                          struct pane_err *err)
{
	int64_t looked = 0;
	const char *id;
	json_t *v, *tmp;
	struct pane_http_response r;
	pane_http_response_init(&r);
	int rc = 0;
	json_object_foreach_safe(known, tmp, id, v)
	{
		if (json_object_get(seen, id))
			continue;
		if (looked++ >= c->cfg->resolved_lookups)
			break; /* the rest next time */
		struct pane_buf u;
		org_url(c, &u, "issues/", false);
		pane_http_url_encode(&u, id, strlen(id));
		pane_buf_addc(&u, '/');
		json_t *iss = NULL;
		struct pane_err e = {0};
		rc = get(src, c, u.data, &r, &iss, &e);
		pane_buf_release(&u);
		if (rc == PANE_ENOTFOUND) { /* deleted or merged away */
			json_object_del(known, id);
			rc = 0;
			continue;
		}
		if (rc < 0) {
			if (err)
				*err = e;
			break;
		}
		const char *status = pane_saas_str(iss, "status");
		if (status && strcmp(status, "resolved") == 0) {
			emit_issue_event(src, c, iss, "resolved", now);
			json_object_del(known, id);
		} else if (status && strcmp(status, "unresolved") != 0) {
			json_object_del(known, id); /* ignored, merged, ...: no longer ours to count */
		}
		json_decref(iss);
	}
	pane_http_response_release(&r);
	return rc;
}

static int collect_issues(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sentry_ctx *c = ctxp;
	int64_t now = pane_source_now_ms(src);
	json_t *known = state_get(c, "issues", false);
	json_t *seen = json_object();
	struct pane_vec combos;
	pane_vec_init(&combos, sizeof(struct combo));
	struct pane_buf u;
	org_url(c, &u, "issues/", true);
	pane_http_url_add_query(&u, "query", c->cfg->issue_query);
	char lim[16];
	snprintf(lim, sizeof lim, "%lld", (long long)c->cfg->page_size);
	pane_http_url_add_query(&u, "limit", lim);
	char *url = pane_buf_detach(&u, NULL);
	struct pane_http_response r;
	pane_http_response_init(&r);
	int rc = 0;
	bool complete = false;
	for (int64_t page = 0; url && !pane_source_stopping(src); page++) {
		if (page >= c->cfg->max_pages) {
			pane_saas_partial_add(&c->partial, "max_pages");
			break;
		}
		json_t *root = NULL;
		rc = get(src, c, url, &r, &root, err);
		if (rc < 0)
			break;
		if (!json_is_array(root)) {
			json_decref(root);
			pane_source_set_reason(src, "malformed");
			rc = pane_err_set(err, PANE_EINVAL, "GET issues/: expected a JSON array");
			break;
		}
		size_t i;
		json_t *iss;
		json_array_foreach(root, i, iss)
		{
			const char *id = pane_saas_str(iss, "id");
			if (!id)
				continue;
			json_t *proj = json_object_get(iss, "project");
			const char *slug = pane_saas_str(proj, "slug"), *pid = pane_saas_str(proj, "id");
			if (slug && pid && json_object_size(c->project_slugs) < 10000)
				json_object_set_new(c->project_slugs, pid, json_string(slug));
			const char *level = pane_saas_str(iss, "level"), *sub = pane_saas_str(iss, "substatus");
			if (json_object_get(seen, id))
				continue; /* on two pages: count once */
			json_object_set_new(seen, id, json_true());
			count_combo(&combos, slug ? slug : "unknown", level ? level : "unknown", sub ? sub : "none");
			const char *was = pane_saas_str(known, id);
			if (!json_object_get(known, id)) {
				int64_t first = ts_ms_of(c, pane_saas_str(iss, "firstSeen"), now);
				if (!c->baseline || first >= now - c->cfg->lookback_ms)
					emit_issue_event(src, c, iss, "new", first);
			} else if (sub && strcmp(sub, "regressed") == 0 && (!was || strcmp(was, "regressed") != 0)) {
				emit_issue_event(src, c, iss, "regressed",
				                 ts_ms_of(c, pane_saas_str(iss, "lastSeen"), now));
			}
			if (json_object_size(known) < ISSUES_KEEP || json_object_get(known, id))
				json_object_set_new(known, id, json_string(sub ? sub : ""));
		}
		json_decref(root);
		char *next = pane_http_link_next(pane_http_response_header(&r, "Link"));
		if (next && strcmp(next, url) == 0) {
			pane_saas_partial_add(&c->partial, "cursor_loop");
			pane_warn("sources", "source %s: issues Link header repeats its cursor; stopped paging",
			          pane_source_name(src));
			free(next);
			next = NULL;
			free(url);
			url = NULL;
			break;
		}
		free(url);
		url = next;
		if (!url)
			complete = true;
	}
	free(url);
	pane_http_response_release(&r);
	if (rc == 0) {
		for (size_t i = 0; i < combos.len; i++) {
			struct combo *x = pane_vec_at(&combos, i);
			pane_source_emit_samplev(src, "sentry_issues", 0, (double)x->n, "project", x->project, "level",
			                         x->level, "status", "unresolved", "substatus", x->substatus, NULL);
		}
		pane_source_emit_samplev(src, "sentry_issues_unresolved_total", 0, (double)json_object_size(seen),
		                         NULL);
		if (complete)
			rc = check_vanished(src, c, known, seen, now, err);
	}
	json_decref(seen);
	pane_vec_release(&combos);
	return rc;
}

/* ---------- event rates (stats_v2) ---------- */

static int collect_stats(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sentry_ctx *c = ctxp;
	int64_t now = pane_source_now_ms(src);
	json_t *st = state_get(c, "stats", false);
	json_t *tot = json_object_get(st, "tot");
	if (!json_is_object(tot)) {
		tot = json_object();
		json_object_set_new(st, "tot", tot);
	}
	int64_t wm = json_integer_value(json_object_get(st, "wm"));
	if (wm <= 0 || wm < now - c->cfg->lookback_ms)
		wm = now - c->cfg->lookback_ms;
	char t0[40], t1[40];
	pane_time_format(wm, t0, sizeof t0);
	pane_time_format(now, t1, sizeof t1);
	struct pane_buf u;
	org_url(c, &u, "stats_v2/", false);
	for (size_t i = 0; i < c->cfg->projects.n; i++)
		pane_http_url_add_query(&u, "project", c->cfg->projects.items[i]);
	pane_http_url_add_query(&u, "groupBy", "project");
	pane_http_url_add_query(&u, "groupBy", "category");
	pane_http_url_add_query(&u, "groupBy", "outcome");
	pane_http_url_add_query(&u, "field", "sum(quantity)");
	pane_http_url_add_query(&u, "interval", c->cfg->stats_interval);
	pane_http_url_add_query(&u, "start", t0);
	pane_http_url_add_query(&u, "end", t1);
	struct pane_http_response r;
	pane_http_response_init(&r);
	json_t *root = NULL;
	int rc = get(src, c, u.data, &r, &root, err);
	pane_buf_release(&u);
	pane_http_response_release(&r);
	if (rc < 0)
		return rc;
	json_t *intervals = json_object_get(root, "intervals"), *groups = json_object_get(root, "groups");
	if (!json_is_array(intervals) || !json_is_array(groups)) {
		json_decref(root);
		pane_source_set_reason(src, "malformed");
		return pane_err_set(err, PANE_EINVAL, "GET stats_v2/: expected intervals and groups");
	}
	size_t ni = json_array_size(intervals);
	int64_t *starts = pane_xcalloc(ni + 1, sizeof *starts);
	for (size_t i = 0; i < ni; i++) {
		int64_t us;
		starts[i] =
		    pane_time_parse_us(json_string_value(json_array_get(intervals, i)), &us) == 0 ? us / 1000 : -1;
	}
	/* a bucket's end is the next one's start; the last one's is start + width */
	int64_t width = ni >= 2 && starts[0] >= 0 && starts[1] > starts[0] ? starts[1] - starts[0] : 3600000;
	int64_t new_wm = wm;
	size_t g;
	json_t *grp;
	json_array_foreach(groups, g, grp)
	{
		json_t *by = json_object_get(grp, "by");
		const char *cat = pane_saas_str(by, "category"), *out = pane_saas_str(by, "outcome");
		json_t *series = json_object_get(json_object_get(grp, "series"), "sum(quantity)");
		if (!json_is_array(series))
			continue;
		const char *proj = project_label(c, json_object_get(by, "project"));
		char key[256];
		snprintf(key, sizeof key, "%s|%s|%s", proj, cat ? cat : "unknown", out ? out : "unknown");
		json_int_t total = json_integer_value(json_object_get(tot, key));
		bool any = false;
		for (size_t i = 0; i < ni && i < json_array_size(series); i++) {
			int64_t end = starts[i] + width;
			if (starts[i] < 0 || starts[i] < wm || end > now)
				continue; /* before the watermark, or still filling */
			if (end > now + c->cfg->max_clock_skew_ms) {
				pane_saas_clamp_ts(&c->partial, end, now, c->cfg->max_clock_skew_ms);
				continue;
			}
			json_t *v = json_array_get(series, i);
			if (!json_is_number(v))
				continue;
			total += (json_int_t)json_number_value(v);
			pane_source_emit_samplev(src, "sentry_events_total", end, (double)total, "project", proj,
			                         "category", cat ? cat : "unknown", "outcome", out ? out : "unknown",
			                         NULL);
			any = true;
			if (end > new_wm)
				new_wm = end;
		}
		if (any || !json_object_get(tot, key))
			json_object_set_new(tot, key, json_integer(total));
	}
	free(starts);
	json_decref(root);
	json_object_set_new(st, "wm", json_integer(new_wm));
	return 0;
}

/* ---------- performance (events-timeseries) ---------- */

static int perf_axis(struct pane_source *src, struct sentry_ctx *c, const char *yaxis, const char *metric,
                     const char *quantile, double scale, struct pane_err *err)
{
	int64_t now = pane_source_now_ms(src);
	json_t *marks = state_get(c, "perf", false);
	int64_t wm = json_integer_value(json_object_get(marks, yaxis));
	int64_t from = wm > now - c->cfg->lookback_ms ? wm : now - c->cfg->lookback_ms;
	char t0[40], t1[40], iv[24], top[8];
	pane_time_format(from, t0, sizeof t0);
	pane_time_format(now, t1, sizeof t1);
	snprintf(iv, sizeof iv, "%lld", (long long)(c->cfg->performance_interval_ms / 1000));
	snprintf(top, sizeof top, "%lld", (long long)c->cfg->transactions_top);
	struct pane_buf u;
	org_url(c, &u, "events-timeseries/", true);
	pane_http_url_add_query(&u, "dataset", "spans");
	pane_http_url_add_query(&u, "yAxis", yaxis);
	pane_http_url_add_query(&u, "query", "is_transaction:true");
	pane_http_url_add_query(&u, "groupBy", "transaction");
	pane_http_url_add_query(&u, "topEvents", top);
	pane_http_url_add_query(&u, "sort", "-count()");
	pane_http_url_add_query(&u, "interval", iv);
	pane_http_url_add_query(&u, "start", t0);
	pane_http_url_add_query(&u, "end", t1);
	struct pane_http_response r;
	pane_http_response_init(&r);
	json_t *root = NULL;
	int rc = get(src, c, u.data, &r, &root, err);
	long status = r.status;
	pane_buf_release(&u);
	pane_http_response_release(&r);
	if (rc == PANE_ENOTFOUND || (rc == PANE_EPERM && status == 403))
		return 1; /* not on this plan / this server */
	if (rc < 0)
		return rc;
	json_t *ts = json_object_get(root, "timeSeries");
	if (!json_is_array(ts)) {
		json_decref(root);
		pane_source_set_reason(src, "malformed");
		return pane_err_set(err, PANE_EINVAL, "GET events-timeseries/: expected a timeSeries array");
	}
	int64_t new_wm = wm;
	size_t i;
	json_t *s;
	json_array_foreach(ts, i, s)
	{
		const char *txn = NULL;
		size_t j;
		json_t *gb;
		json_array_foreach(json_object_get(s, "groupBy"), j, gb)
		{
			if (strcmp(pane_saas_str(gb, "key") ? pane_saas_str(gb, "key") : "", "transaction") == 0)
				txn = pane_saas_str(gb, "value");
		}
		const char *unit = pane_saas_str(json_object_get(s, "meta"), "valueUnit");
		double f = scale;
		if (scale != 1 && unit && strcmp(unit, "second") == 0)
			f = 1;
		json_t *pt;
		json_array_foreach(json_object_get(s, "values"), j, pt)
		{
			json_t *t = json_object_get(pt, "timestamp"), *v = json_object_get(pt, "value");
			if (!json_is_number(t) || !json_is_number(v) || json_is_true(json_object_get(pt, "incomplete")))
				continue;
			double tv = json_number_value(t);
			int64_t tms = (int64_t)(tv >= 1e11 ? tv : tv * 1000);
			if (tms > now + c->cfg->max_clock_skew_ms) {
				pane_saas_clamp_ts(&c->partial, tms, now, c->cfg->max_clock_skew_ms);
				continue;
			}
			if (tms <= wm)
				continue;
			if (quantile)
				pane_source_emit_samplev(src, metric, tms, json_number_value(v) * f, "transaction",
				                         txn ? txn : "all", "quantile", quantile, NULL);
			else
				pane_source_emit_samplev(src, metric, tms, json_number_value(v) * f, "transaction",
				                         txn ? txn : "all", NULL);
			if (tms > new_wm)
				new_wm = tms;
		}
	}
	json_decref(root);
	json_object_set_new(marks, yaxis, json_integer(new_wm));
	return 0;
}

static int collect_performance(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sentry_ctx *c = ctxp;
	static const struct {
		const char *yaxis, *metric, *quantile;
		double scale;
	} axes[] = {
	    {"p50(span.duration)", "sentry_transaction_duration_seconds", "0.5", 0.001},
	    {"p95(span.duration)", "sentry_transaction_duration_seconds", "0.95", 0.001},
	    {"epm()", "sentry_transaction_throughput_per_minute", NULL, 1},
	};
	for (size_t i = 0; i < sizeof axes / sizeof axes[0]; i++) {
		int rc = perf_axis(src, c, axes[i].yaxis, axes[i].metric, axes[i].quantile, axes[i].scale, err);
		if (rc == 1) {
			pane_source_emit_samplev(src, "sentry_performance_available", 0, 0, NULL);
			return 0;
		}
		if (rc < 0)
			return rc;
	}
	pane_source_emit_samplev(src, "sentry_performance_available", 0, 1, NULL);
	return 0;
}

/* ---------- releases ---------- */

static int collect_releases(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sentry_ctx *c = ctxp;
	int64_t now = pane_source_now_ms(src);
	json_t *known = state_get(c, "releases", true);
	struct pane_buf u;
	org_url(c, &u, "releases/", true);
	char pp[16];
	snprintf(pp, sizeof pp, "%lld", (long long)c->cfg->releases_page_size);
	pane_http_url_add_query(&u, "per_page", pp);
	struct pane_http_response r;
	pane_http_response_init(&r);
	json_t *root = NULL;
	int rc = get(src, c, u.data, &r, &root, err);
	pane_buf_release(&u);
	pane_http_response_release(&r);
	if (rc < 0)
		return rc;
	if (!json_is_array(root)) {
		json_decref(root);
		pane_source_set_reason(src, "malformed");
		return pane_err_set(err, PANE_EINVAL, "GET releases/: expected a JSON array");
	}
	size_t i;
	json_t *rel;
	json_array_foreach(root, i, rel)
	{
		const char *version = pane_saas_str(rel, "version");
		if (!version)
			continue;
		bool have = false;
		size_t j;
		json_t *k;
		json_array_foreach(known, j, k) if (strcmp(json_string_value(k), version) == 0) have = true;
		if (have)
			continue;
		const char *when = pane_saas_str(rel, "dateReleased") ? pane_saas_str(rel, "dateReleased")
		                                                      : pane_saas_str(rel, "dateCreated");
		int64_t ts = ts_ms_of(c, when, now);
		json_array_append_new(known, json_string(version));
		if (c->baseline && ts < now - c->cfg->lookback_ms)
			continue;
		json_t *proj = json_array_get(json_object_get(rel, "projects"), 0);
		const char *slug = pane_saas_str(proj, "slug");
		const char *sv = pane_saas_str(rel, "shortVersion");
		struct pane_labels ls;
		pane_labels_init(&ls);
		pane_labels_set(&ls, "project", slug);
		pane_labels_set(&ls, "version", version);
		struct pane_buf t, url;
		pane_buf_init(&t, 1024);
		pane_buf_init(&url, 2048);
		pane_buf_addf(&t, "release %.200s%s%.100s", sv ? sv : version, slug ? " of " : "", slug ? slug : "");
		pane_saas_url(&url, c->cfg->url, "/organizations/");
		pane_http_url_encode(&url, c->cfg->organization, strlen(c->cfg->organization));
		pane_buf_adds(&url, "/releases/");
		pane_http_url_encode(&url, version, strlen(version));
		pane_buf_addc(&url, '/');
		json_t *body = json_pack("{s:s}", "version", version);
		static const char *const keys[] = {"shortVersion", "dateCreated", "dateReleased", "ref", "url"};
		for (size_t q = 0; q < sizeof keys / sizeof keys[0]; q++)
			if (pane_saas_str(rel, keys[q]))
				json_object_set_new(body, keys[q], json_string(pane_saas_str(rel, keys[q])));
		static const char *const ints[] = {"newGroups", "commitCount", "deployCount"};
		for (size_t q = 0; q < sizeof ints / sizeof ints[0]; q++) {
			json_t *v = json_object_get(rel, ints[q]);
			if (json_is_integer(v))
				json_object_set_new(body, ints[q], json_integer(json_integer_value(v)));
		}
		json_t *lc = json_object_get(rel, "lastCommit");
		if (pane_saas_str(lc, "id"))
			json_object_set_new(body, "commit_id", json_string(pane_saas_str(lc, "id")));
		if (pane_saas_str(lc, "message"))
			json_object_set_new(body, "commit_message", json_string(pane_saas_str(lc, "message")));
		char *bj = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		pane_source_emit_event(src, &ls, ts, "release", t.data, url.data, bj, version);
		free(bj);
		pane_buf_release(&t), pane_buf_release(&url);
		pane_labels_release(&ls);
	}
	while (json_array_size(known) > RELEASES_KEEP)
		json_array_remove(known, 0);
	json_decref(root);
	return 0;
}

/* ---------- cron monitors ---------- */

static bool checkin_failed(const char *st)
{
	return st && (strcmp(st, "error") == 0 || strcmp(st, "missed") == 0 || strcmp(st, "timeout") == 0);
}

static void emit_checkin(struct pane_source *src, struct sentry_ctx *c, const char *monitor, const char *project,
                         json_t *ck, int64_t ts)
{
	const char *st = pane_saas_str(ck, "status"), *env = pane_saas_str(ck, "environment");
	struct pane_labels ls;
	pane_labels_init(&ls);
	pane_labels_set(&ls, "monitor", monitor);
	pane_labels_set(&ls, "project", project);
	pane_labels_set(&ls, "status", st);
	if (env)
		pane_labels_set(&ls, "sentry_environment", env);
	struct pane_buf t, url;
	pane_buf_init(&t, 512);
	pane_buf_init(&url, 2048);
	pane_buf_addf(&t, "cron monitor %.200s: check-in %s", monitor, st);
	if (env)
		pane_buf_addf(&t, " (%.100s)", env);
	pane_saas_url(&url, c->cfg->url, "/organizations/");
	pane_http_url_encode(&url, c->cfg->organization, strlen(c->cfg->organization));
	pane_buf_adds(&url, "/crons/");
	if (project) {
		pane_http_url_encode(&url, project, strlen(project));
		pane_buf_addc(&url, '/');
	}
	pane_http_url_encode(&url, monitor, strlen(monitor));
	pane_buf_addc(&url, '/');
	char *bj = json_dumps(ck, JSON_COMPACT | JSON_SORT_KEYS);
	pane_source_emit_event(src, &ls, ts, "cron_checkin", t.data, url.data, bj, pane_saas_str(ck, "id"));
	free(bj);
	pane_buf_release(&t), pane_buf_release(&url);
	pane_labels_release(&ls);
}

/* Check-ins of one monitor newer than its mark, newest first; failures
 * become events. The mark moves to the newest check-in after a full walk. */
static int checkins_of(struct pane_source *src, struct sentry_ctx *c, const char *slug, const char *project,
                       int64_t now, struct pane_err *err)
{
	json_t *marks = state_get(c, "checkins", false);
	json_t *mark = json_object_get(marks, slug);
	int64_t since_us =
	    json_is_object(mark) ? json_integer_value(json_object_get(mark, "ts")) : (now - c->cfg->lookback_ms) * 1000;
	json_t *seen = json_object_get(mark, "ids");
	struct pane_buf u;
	org_url(c, &u, "monitors/", false);
	pane_http_url_encode(&u, slug, strlen(slug));
	pane_buf_adds(&u, "/checkins/");
	char *url = pane_buf_detach(&u, NULL);
	struct pane_http_response r;
	pane_http_response_init(&r);
	int64_t top_us = since_us;
	json_t *top_ids = json_array();
	int rc = 0;
	bool done = false;
	for (int64_t page = 0; url && !done && page < c->cfg->max_pages && !pane_source_stopping(src); page++) {
		json_t *root = NULL;
		rc = get(src, c, url, &r, &root, err);
		if (rc < 0)
			break;
		if (!json_is_array(root)) {
			json_decref(root);
			pane_source_set_reason(src, "malformed");
			rc = pane_err_set(err, PANE_EINVAL, "GET monitors/%s/checkins/: expected a JSON array", slug);
			break;
		}
		size_t i;
		json_t *ck;
		json_array_foreach(root, i, ck)
		{
			const char *id = pane_saas_str(ck, "id");
			int64_t us;
			if (!id || pane_time_parse_us(pane_saas_str(ck, "dateAdded"), &us) < 0)
				continue;
			if (us < since_us) {
				done = true; /* newest first: the rest was seen */
				continue;
			}
			bool dup = false;
			if (us == since_us) {
				size_t j;
				json_t *x;
				json_array_foreach(seen, j, x) dup = dup || strcmp(json_string_value(x), id) == 0;
			}
			if (us > top_us) {
				top_us = us;
				json_array_clear(top_ids);
			}
			if (us == top_us && json_array_size(top_ids) < 1000)
				json_array_append_new(top_ids, json_string(id));
			if (dup || !checkin_failed(pane_saas_str(ck, "status")))
				continue;
			emit_checkin(src, c, slug, project, ck, ts_ms_of(c, pane_saas_str(ck, "dateAdded"), now));
		}
		json_decref(root);
		char *next = pane_http_link_next(pane_http_response_header(&r, "Link"));
		if (next && strcmp(next, url) == 0) {
			pane_saas_partial_add(&c->partial, "cursor_loop");
			free(next);
			next = NULL;
		}
		free(url);
		url = next;
	}
	free(url);
	pane_http_response_release(&r);
	if (rc == 0 && top_us > since_us)
		json_object_set_new(marks, slug, json_pack("{s:I,s:o}", "ts", (json_int_t)top_us, "ids", top_ids));
	else if (rc == 0 && top_us == since_us && json_array_size(top_ids) && json_is_array(seen))
		json_array_extend(seen, top_ids), json_decref(top_ids);
	else
		json_decref(top_ids);
	return rc;
}

static int collect_monitors(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sentry_ctx *c = ctxp;
	int64_t now = pane_source_now_ms(src);
	struct pane_buf u;
	org_url(c, &u, "monitors/", true);
	char *url = pane_buf_detach(&u, NULL);
	struct pane_http_response r;
	pane_http_response_init(&r);
	json_t *all = json_array(); /* [slug, project] pairs, walked after the list */
	int rc = 0;
	for (int64_t page = 0; url && page < c->cfg->max_pages && !pane_source_stopping(src); page++) {
		json_t *root = NULL;
		rc = get(src, c, url, &r, &root, err);
		if (rc < 0)
			break;
		if (!json_is_array(root)) {
			json_decref(root);
			pane_source_set_reason(src, "malformed");
			rc = pane_err_set(err, PANE_EINVAL, "GET monitors/: expected a JSON array");
			break;
		}
		size_t i;
		json_t *m;
		json_array_foreach(root, i, m)
		{
			const char *slug = pane_saas_str(m, "slug");
			if (!slug)
				continue;
			const char *project = pane_saas_str(json_object_get(m, "project"), "slug");
			json_t *envs = json_object_get(m, "environments");
			json_t *one = json_is_object(envs) ? json_pack("[O]", envs) : json_incref(envs);
			size_t k;
			json_t *e;
			json_array_foreach(one, k, e)
			{
				const char *name = pane_saas_str(e, "name"), *st = pane_saas_str(e, "status");
				if (!name || !st)
					continue;
				struct pane_labels ls;
				pane_labels_init(&ls);
				pane_labels_set(&ls, "monitor", slug);
				pane_labels_set(&ls, "project", project);
				pane_labels_set(&ls, "sentry_environment", name);
				pane_source_emit_sample(src, "sentry_monitor_ok", &ls, 0,
				                        strcmp(st, "ok") == 0 ? 1 : 0);
				pane_labels_set(&ls, "status", st);
				pane_source_emit_sample(src, "sentry_monitor_status", &ls, 0, 1);
				pane_labels_release(&ls);
			}
			json_decref(one);
			json_array_append_new(all, json_pack("[s,s?]", slug, project));
		}
		json_decref(root);
		char *next = pane_http_link_next(pane_http_response_header(&r, "Link"));
		if (next && strcmp(next, url) == 0) {
			pane_saas_partial_add(&c->partial, "cursor_loop");
			free(next);
			next = NULL;
		}
		free(url);
		url = next;
	}
	free(url);
	pane_http_response_release(&r);
	size_t i;
	json_t *pair;
	json_array_foreach(all, i, pair)
	{
		if (rc < 0 || pane_source_stopping(src))
			break;
		struct pane_err e = {0};
		int crc = checkins_of(src, c, json_string_value(json_array_get(pair, 0)),
		                      json_string_value(json_array_get(pair, 1)), now, &e);
		if (crc == PANE_ENOTFOUND) { /* deleted between the list and this call */
			pane_saas_partial_add(&c->partial, "not_found");
			continue;
		}
		if (crc < 0) {
			rc = crc;
			if (err)
				*err = e;
		}
	}
	json_decref(all);
	return rc;
}

/* ---------- release health ---------- */

static int collect_sessions(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sentry_ctx *c = ctxp;
	struct pane_buf u;
	org_url(c, &u, "sessions/", true);
	static const char *const fields[] = {"sum(session)", "count_unique(user)", "crash_free_rate(session)",
	                                     "crash_free_rate(user)"};
	static const char *const names[] = {"sentry_release_sessions", "sentry_release_users",
	                                    "sentry_release_crash_free_sessions_ratio",
	                                    "sentry_release_crash_free_users_ratio"};
	for (size_t i = 0; i < 4; i++)
		pane_http_url_add_query(&u, "field", fields[i]);
	pane_http_url_add_query(&u, "groupBy", "project");
	pane_http_url_add_query(&u, "groupBy", "release");
	pane_http_url_add_query(&u, "statsPeriod", c->cfg->sessions_period);
	pane_http_url_add_query(&u, "interval", "1h");
	pane_http_url_add_query(&u, "includeSeries", "0");
	pane_http_url_add_query(&u, "per_page", "100");
	struct pane_http_response r;
	pane_http_response_init(&r);
	json_t *root = NULL;
	int rc = get(src, c, u.data, &r, &root, err);
	pane_buf_release(&u);
	pane_http_response_release(&r);
	if (rc < 0)
		return rc;
	json_t *groups = json_object_get(root, "groups");
	if (!json_is_array(groups)) {
		json_decref(root);
		pane_source_set_reason(src, "malformed");
		return pane_err_set(err, PANE_EINVAL, "GET sessions/: expected an object with groups");
	}
	size_t i;
	json_t *g;
	json_array_foreach(groups, i, g)
	{
		json_t *by = json_object_get(g, "by"), *tot = json_object_get(g, "totals");
		const char *release = pane_saas_str(by, "release");
		if (!release)
			continue;
		struct pane_labels ls;
		pane_labels_init(&ls);
		pane_labels_set(&ls, "project", project_label(c, json_object_get(by, "project")));
		pane_labels_set(&ls, "release", release);
		for (size_t k = 0; k < 4; k++) {
			json_t *v = json_object_get(tot, fields[k]);
			if (json_is_number(v)) /* null: no sessions in the window */
				pane_source_emit_sample(src, names[k], &ls, 0, json_number_value(v));
		}
		pane_labels_release(&ls);
	}
	json_decref(root);
	return 0;
}

/* ---------- plugin ---------- */

static int sentry_init(struct pane_source *src, void *cfgp, const struct pane_cfg *file,
                       const struct pane_cfg_node *node, void **ctxp, struct pane_err *err)
{
	struct sentry_cfg *cfg = cfgp;
	if (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0)
		return pane_cfg_error(file, pane_cfg_get(node, "url"), err, "expected an http:// or https:// URL");
	if (!*cfg->organization)
		return pane_cfg_error(file, pane_cfg_get(node, "organization"), err, "must not be empty");
	static const char *const ivs[] = {"1h", "2h", "3h", "4h", "6h", "8h", "12h", "1d", "24h", NULL};
	bool iv_ok = false;
	for (size_t i = 0; ivs[i]; i++)
		iv_ok = iv_ok || strcmp(ivs[i], cfg->stats_interval) == 0;
	if (!iv_ok)
		return pane_cfg_error(file, pane_cfg_get(node, "stats_interval"), err,
		                      "expected 1h, 2h, 3h, 4h, 6h, 8h, 12h or 1d (a bucket that divides a day)");
	if (cfg->requests_per_minute < 0)
		return pane_cfg_error(file, pane_cfg_get(node, "requests_per_minute"), err, "must not be negative");
	struct sentry_ctx *c = pane_xcalloc(1, sizeof *c);
	*ctxp = c;
	c->cfg = cfg;
	c->project_slugs = json_object();
	struct pane_http_client_opts o;
	pane_source_http_opts(src, &o);
	o.max_retries = cfg->retries ? (int)cfg->retries : -1;
	o.max_wait_ms = cfg->max_rate_wait_ms;
	o.max_body = (size_t)cfg->max_response;
	o.requests_per_minute = cfg->requests_per_minute;
	c->http = pane_http_client_new(&o);
	return 0;
}

static int sentry_collect(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sentry_ctx *c = ctxp;
	if (!c->state) {
		c->state = pane_saas_cursor_load(src);
		c->baseline = json_object_get(c->state, "v") == NULL;
	}
	json_object_set_new(c->state, "v", json_integer(1));
	const struct pane_source_part parts[] = {
	    /* core: issues and event rates; the rest is optional (a plan or a
	     * token scope may lack it: the source stays up and says so) */
	    {true, collect_projects, "projects", true},
	    {c->cfg->issues, collect_issues, "issues", false},
	    {c->cfg->stats, collect_stats, "stats", false},
	    {c->cfg->performance, collect_performance, "performance", true},
	    {c->cfg->releases, collect_releases, "releases", true},
	    {c->cfg->monitors, collect_monitors, "monitors", true},
	    {c->cfg->sessions, collect_sessions, "sessions", true},
	};
	int first = pane_source_run_parts(src, c, parts, sizeof parts / sizeof parts[0], true, err);
	struct pane_err e = {0};
	int src_rc = pane_saas_cursor_save(src, c->state, &e);
	if (src_rc < 0 && first == 0) {
		first = src_rc;
		if (err)
			*err = e;
		pane_source_set_reason(src, "cursor");
	}
	if (first == 0)
		c->baseline = false;
	pane_saas_partial_emit(src, &c->partial);
	return first;
}

static void sentry_close(void *ctxp)
{
	struct sentry_ctx *c = ctxp;
	if (!c)
		return;
	pane_http_client_free(c->http);
	json_decref(c->state);
	json_decref(c->project_slugs);
	free(c);
}

const struct pane_source_plugin pane_source_sentry = {
    .name = "sentry",
    .provider = "sentry",
    .description = "Sentry issues (gauges and lifecycle events), event rates, transaction performance, releases",
    .default_interval_ms = 60000,
    .default_timeout_ms = 30000,
    .cfg_size = sizeof(struct sentry_cfg),
    .fields = sentry_fields,
    .init = sentry_init,
    .collect = sentry_collect,
    .close = sentry_close,
};
