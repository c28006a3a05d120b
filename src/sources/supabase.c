/*
 * supabase.c - the Supabase source: project logs (Management API analytics),
 * project metrics (the privileged Prometheus endpoint), service health and
 * API usage counts.
 *
 * Idea: the logs API is SQL over HTTP with a hard rate limit (30 requests a
 * minute on analytics endpoints), so the tail is incremental and frugal:
 * one query per page, pages ordered by (timestamp, id), each page starting
 * at the last timestamp seen with an OFFSET past the rows already read at
 * exactly that timestamp (so a burst of identical timestamps cannot loop).
 * Each collection re-reads an `overlap` window before the cursor to catch
 * late-arriving lines, and drops those it has seen by id, so a restart
 * neither skips nor duplicates.
 *
 * Health: supabase_service_healthy{component} and _status{component,status}
 * each collection, and an event (kind "health") when a component's status
 * changes between two collections. Advisors (performance and security
 * lints): supabase_advisor_lints{advisor,level} and an event (kind
 * "advisor") per lint when it first appears. Disk: supabase_disk_*_bytes
 * from config/disk/util. Usage, advisors and disk are optional parts: a plan
 * or token without them leaves the source up (pane_source_part_unavailable).
 *
 * Two log endpoints exist (providers.md 3a): the newer
 * `.../analytics/endpoints/logs` (ClickHouse SQL over one `logs` table with
 * a `source` column, ISO timestamps) and the older `.../logs.all`
 * (BigQuery SQL over one table per source, integer microsecond
 * timestamps), removed in 2026 with HTTP 410. `logs_endpoint: auto` starts
 * with the newer one, falls back to the older one on 404 (a deployment that
 * predates it), and any 410 from the older one moves to the newer one.
 * Both answer SQL errors with HTTP 200 and `error` set: that is an error
 * here, never "no rows". A body without `result` is malformed.
 *
 * Cursor (DATA_DIR/sources/<instance>.cursor, JSON):
 *     {"v":1,"legacy_gone":true?,"logs":{"<key>":{"ts_us":N,"seen":{"<id>":ts_us,...}}}}
 * key is "_all" for the newer endpoint, the table name for the older one;
 * legacy_gone remembers a 410 from logs.all, so a restart does not ask again;
 * "advisors" lists the cache_keys of the lints already announced (a lint
 * that goes away and comes back is announced again).
 * A provider that ignores the time window (answers rows before the query's
 * `timestamp >=`) has those rows dropped and counted
 * (pane_source_partial_errors_total{reason="outside_window"}); rows inside
 * it are deduplicated by id against `seen`.
 * `seen` keeps the ids whose timestamp is within `log_overlap` of ts_us
 * (bounded by SEEN_MAX, the newest kept). It is written after every page.
 *
 * Invariants:
 *   (1) A log line is emitted at most once per cursor (id de-duplication),
 *       and the cursor only advances past lines that were emitted.
 *   (2) SQL text is built only from validated source names ([a-z_]+) and
 *       timestamps pane formats; nothing from a response reaches SQL.
 *   (3) Each part (health, usage, logs, metrics) runs even when another
 *       failed; the collection reports the first failure.
 *
 * Thread context: the instance thread only.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/vec.h"
#include "receivers/promtext.h"
#include "sources/saas.h"
#include "sources/source.h"

#define SEEN_MAX 20000
#define URL_MAX (64 * 1024)
#define DAY_US (86400LL * 1000000LL)

struct sb_cfg {
	struct pane_source_common common;
	char *project_ref;
	char *access_token;
	char *service_role_key;
	char *api_url;
	char *metrics_url;
	bool logs;
	bool metrics;
	bool health;
	bool usage;
	bool advisors;
	bool disk;
	bool functions;
	char *logs_endpoint;
	struct pane_cfg_strlist log_sources;
	int64_t log_lookback_ms;
	int64_t log_overlap_ms;
	int64_t log_page_size;
	int64_t log_max_pages;
	struct pane_cfg_strlist health_services;
	char *usage_interval;
	double requests_per_minute;
	int64_t max_rate_wait_ms;
	int64_t retries;
};

static const struct pane_cfg_field sb_fields[] = {
    {"project_ref", PANE_CFT_STRING, offsetof(struct sb_cfg, project_ref), NULL, PANE_CFG_REQUIRED,
     "the project's reference id (20 lower-case letters)", 0, 0},
    {"access_token", PANE_CFT_STRING, offsetof(struct sb_cfg, access_token), NULL, PANE_CFG_SECRET,
     "Management API token (sbp_... or OAuth), only as ${VAR}; needed for logs, health, usage", 0, 0},
    {"service_role_key", PANE_CFT_STRING, offsetof(struct sb_cfg, service_role_key), NULL, PANE_CFG_SECRET,
     "secret API key (sb_secret_...) or service_role JWT for the metrics endpoint, only as ${VAR}", 0, 0},
    {"api_url", PANE_CFT_STRING, offsetof(struct sb_cfg, api_url), "https://api.supabase.com", 0,
     "Management API base URL", 0, 0},
    {"metrics_url", PANE_CFT_STRING, offsetof(struct sb_cfg, metrics_url), NULL, 0,
     "metrics endpoint (default https://<ref>.supabase.co/customer/v1/privileged/metrics)", 0, 0},
    {"logs", PANE_CFT_BOOL, offsetof(struct sb_cfg, logs), "true", 0, "tail project logs (needs access_token)", 0, 0},
    {"metrics", PANE_CFT_BOOL, offsetof(struct sb_cfg, metrics), "true", 0,
     "scrape the metrics endpoint (needs service_role_key)", 0, 0},
    {"health", PANE_CFT_BOOL, offsetof(struct sb_cfg, health), "true", 0, "poll service health (needs access_token)", 0,
     0},
    {"usage", PANE_CFT_BOOL, offsetof(struct sb_cfg, usage), "true", 0, "poll API usage counts (needs access_token)", 0,
     0},
    {"advisors", PANE_CFT_BOOL, offsetof(struct sb_cfg, advisors), "true", 0,
     "performance and security advisors: each lint an event, counts by level (needs access_token)", 0, 0},
    {"disk", PANE_CFT_BOOL, offsetof(struct sb_cfg, disk), "true", 0,
     "disk utilisation of the database (needs access_token)", 0, 0},
    {"functions", PANE_CFT_BOOL, offsetof(struct sb_cfg, functions), "true", 0,
     "edge functions (supabase_function_info) and their combined stats of the last hour (needs access_token)", 0, 0},
    {"logs_endpoint", PANE_CFT_STRING, offsetof(struct sb_cfg, logs_endpoint), "auto", 0,
     "auto, logs (the unified endpoint) or logs.all (the legacy one; 410 moves to logs)", 0, 0},
    {"log_sources", PANE_CFT_STRLIST, offsetof(struct sb_cfg, log_sources),
     "edge_logs,postgres_logs,function_edge_logs,function_logs,auth_logs,storage_logs,realtime_logs", 0,
     "log sources (tables) to tail", 0, 0},
    {"log_lookback", PANE_CFT_DURATION, offsetof(struct sb_cfg, log_lookback_ms), "15m", 0,
     "how far back the first collection reads (no cursor yet)", 60000, 86400000 - 3600000},
    {"log_overlap", PANE_CFT_DURATION, offsetof(struct sb_cfg, log_overlap_ms), "2m", 0,
     "re-read this much before the cursor for late lines (de-duplicated by id)", 0, 3600000},
    {"log_page_size", PANE_CFT_INT, offsetof(struct sb_cfg, log_page_size), "1000", 0,
     "rows per query (the API returns at most 1000)", 1, 1000},
    {"log_max_pages", PANE_CFT_INT, offsetof(struct sb_cfg, log_max_pages), "10", 0,
     "pages per source per collection; the rest follows next time", 1, 1000},
    {"health_services", PANE_CFT_STRLIST, offsetof(struct sb_cfg, health_services),
     "auth,db,pooler,realtime,rest,storage", 0, "services whose health is polled", 0, 0},
    {"usage_interval", PANE_CFT_STRING, offsetof(struct sb_cfg, usage_interval), "1hr", 0,
     "usage.api-counts interval: 15min, 30min, 1hr, 3hr, 1day, 3day, 7day", 0, 0},
    {"requests_per_minute", PANE_CFT_DOUBLE, offsetof(struct sb_cfg, requests_per_minute), "30", 0,
     "Management API requests per minute at most (analytics endpoints allow 30)", 0, 0},
    {"max_rate_wait", PANE_CFT_DURATION, offsetof(struct sb_cfg, max_rate_wait_ms), "90s", 0,
     "longest wait for a rate-limit window; longer gives up until the next interval", 0, 3600000},
    {"retries", PANE_CFT_INT, offsetof(struct sb_cfg, retries), "2", 0,
     "retries of a failed request (5xx, 429, timeouts) with backoff and jitter", 0, 10},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

enum endpoint { EP_UNIFIED, EP_LEGACY };

struct watermark {
	int64_t ts_us;
	struct pane_map seen; /* id -> heap int64_t ts_us */
};

struct sb_ctx {
	struct sb_cfg *cfg;
	char *metrics_url;
	struct pane_http_client *mgmt;
	struct pane_http_client *prom;
	enum endpoint ep;
	bool fixed_ep; /* logs_endpoint: logs */
	bool cursor_loaded;
	struct pane_map marks; /* key -> struct watermark * */
	int64_t last_usage_ms;
	struct pane_map health;         /* component -> last status (heap string) */
	bool legacy_gone;               /* logs.all answered 410: kept in the cursor across restarts */
	struct pane_map lints;          /* advisor cache_key -> (void *)1: announced and still reported */
	struct pane_http_client *plain; /* Management API outside the analytics rate limit */
	struct pane_saas_partial partial;
};

/* ---------- helpers ---------- */

static bool ident_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return false;
	return true;
}

static void mark_free(void *p)
{
	struct watermark *w = p;
	pane_map_release(&w->seen);
	free(w);
}

static struct watermark *mark_get(struct sb_ctx *c, const char *key)
{
	struct watermark *w = pane_map_gets(&c->marks, key);
	if (!w) {
		w = pane_xcalloc(1, sizeof *w);
		pane_map_init(&w->seen, free);
		pane_map_puts(&c->marks, key, w);
	}
	return w;
}

static void seen_put(struct watermark *w, const char *id, int64_t ts_us)
{
	int64_t *v = pane_xmalloc(sizeof *v);
	*v = ts_us;
	pane_map_puts(&w->seen, id, v);
}

/* Forget ids older than the overlap window; past SEEN_MAX keep the newest. */
static void seen_prune(struct watermark *w, int64_t overlap_us)
{
	int64_t floor = w->ts_us - overlap_us;
	for (int pass = 0; pass < 2; pass++) {
		struct pane_vec dead;
		pane_vec_init(&dead, sizeof(char *));
		size_t pos = 0;
		const char *k;
		size_t kl;
		void *v;
		while (pane_map_next(&w->seen, &pos, &k, &kl, &v))
			if (*(int64_t *)v < floor) {
				char *copy = pane_xstrndup(k, kl);
				pane_vec_push(&dead, &copy);
			}
		for (size_t i = 0; i < dead.len; i++) {
			char *key = *(char **)pane_vec_at(&dead, i);
			pane_map_del(&w->seen, key, strlen(key));
			free(key);
		}
		pane_vec_release(&dead);
		if (w->seen.len <= SEEN_MAX)
			return;
		/* too many lines share the window: keep only the last second */
		floor = w->ts_us - 1000000;
	}
}

/* "YYYY-MM-DD hh:mm:ss.ffffff" (UTC), accepted by both SQL dialects. */
static void sql_time(int64_t us, char *out, size_t outlen)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d.%06lld", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)(us % 1000000));
}

static void iso_minute(int64_t us, char *out, size_t outlen)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:00Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min);
}

/* Row timestamp: integer microseconds (legacy) or an ISO string, with or
 * without zone (unified: UTC without zone). 0 or PANE_EINVAL. */
static int row_time_us(json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return *out > 0 ? 0 : PANE_EINVAL;
	}
	if (!json_is_string(v))
		return PANE_EINVAL;
	const char *s = json_string_value(v);
	size_t n = strlen(s);
	if (n < 19 || n > 40)
		return PANE_EINVAL;
	char base[64];
	memcpy(base, s, 19);
	base[10] = 'T';
	const char *p = s + 19;
	int64_t frac = 0;
	int digits = 0;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (digits < 6) {
				frac = frac * 10 + (*p - '0');
				digits++;
			}
			p++;
		}
		if (digits == 0)
			return PANE_EINVAL;
	}
	while (digits < 6) {
		frac *= 10;
		digits++;
	}
	snprintf(base + 19, sizeof base - 19, "%s", *p ? p : "Z");
	int64_t ms;
	if (pane_time_parse(pane_str_c(base), &ms) < 0)
		return PANE_EINVAL;
	*out = ms * 1000 + frac;
	return 0;
}

static int json_error(struct pane_source *src, const char *what, const json_error_t *je, struct pane_err *err)
{
	pane_source_set_reason(src, "malformed");
	return pane_err_set(err, PANE_EINVAL, "%s: malformed JSON: %s (line %d)", what, je->text, je->line);
}

/* The analytics envelope {"result": [...], "error": ...}: 0 with *result
 * borrowed from root; errors set the reason. */
static int envelope(struct pane_source *src, json_t *root, const char *what, json_t **result, struct pane_err *err)
{
	if (!json_is_object(root)) {
		pane_source_set_reason(src, "malformed");
		return pane_err_set(err, PANE_EINVAL, "%s: expected a JSON object", what);
	}
	json_t *e = json_object_get(root, "error");
	if (e && !json_is_null(e)) {
		const char *msg = json_is_string(e) ? json_string_value(e)
		                  : json_is_string(json_object_get(e, "message"))
		                      ? json_string_value(json_object_get(e, "message"))
		                      : "(no message)";
		pane_source_set_reason(src, "provider_error");
		return pane_err_set(err, PANE_EHTTP, "%s: the provider answered with an error: %s", what, msg);
	}
	json_t *r = json_object_get(root, "result");
	if (!json_is_array(r)) {
		pane_source_set_reason(src, "malformed");
		json_t *m = json_object_get(root, "message");
		return pane_err_set(err, PANE_EINVAL, "%s: response has no result array%s%s", what,
		                    json_is_string(m) ? ": " : "", json_is_string(m) ? json_string_value(m) : "");
	}
	*result = r;
	return 0;
}

static int api_url(struct sb_ctx *c, struct pane_buf *u, const char *rest)
{
	pane_buf_init(u, URL_MAX);
	const char *base = c->cfg->api_url;
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	if (pane_buf_add(u, base, bl) < 0 || pane_buf_addf(u, "/v1/projects/%s/%s", c->cfg->project_ref, rest) < 0)
		return PANE_ETOOBIG;
	return 0;
}

/* GET with the management token; parses JSON into *root. */
static int mgmt_get(struct pane_source *src, struct sb_ctx *c, const char *url, const char *what,
                    struct pane_http_response *resp, json_t **root, struct pane_err *err)
{
	*root = NULL;
	int rc = pane_http_client_do(c->mgmt, &(struct pane_http_request){.url = url, .bearer = c->cfg->access_token},
	                             resp, err);
	if (rc < 0)
		return rc;
	json_error_t je;
	*root = json_loadb(resp->body.data, resp->body.len, JSON_REJECT_DUPLICATES, &je);
	if (!*root)
		return json_error(src, what, &je, err);
	(void)src;
	return 0;
}

/* ---------- cursor ---------- */

static void cursor_load(struct pane_source *src, struct sb_ctx *c)
{
	c->cursor_loaded = true;
	char *text = NULL;
	struct pane_err e = {0};
	int rc = pane_source_cursor_load(src, &text, &e);
	if (rc == PANE_ENOTFOUND)
		return;
	if (rc < 0) {
		pane_warn("sources", "source %s: cursor unreadable, starting from log_lookback: %s",
		          pane_source_name(src), e.msg);
		return;
	}
	json_error_t je;
	json_t *root = json_loads(text, 0, &je);
	free(text);
	json_t *logs = root ? json_object_get(root, "logs") : NULL;
	pane_map_release(&c->lints);
	pane_map_init(&c->lints, NULL);
	size_t ai;
	json_t *ak;
	json_array_foreach(json_object_get(root, "advisors"), ai, ak) if (json_is_string(ak))
	    pane_map_puts(&c->lints, json_string_value(ak), (void *)1);
	if (json_is_true(json_object_get(root, "legacy_gone"))) {
		c->legacy_gone = true;
		c->ep = EP_UNIFIED;
		c->fixed_ep = true;
	}
	if (!json_is_object(logs)) {
		pane_warn("sources", "source %s: cursor file is not valid, starting from log_lookback",
		          pane_source_name(src));
		json_decref(root);
		return;
	}
	const char *key;
	json_t *v;
	json_object_foreach(logs, key, v)
	{
		json_t *ts = json_object_get(v, "ts_us"), *seen = json_object_get(v, "seen");
		if (!json_is_integer(ts))
			continue;
		struct watermark *w = mark_get(c, key);
		w->ts_us = (int64_t)json_integer_value(ts);
		const char *id;
		json_t *t;
		if (!json_is_object(seen))
			continue;
		json_object_foreach(seen, id, t)
		{
			if (json_is_integer(t))
				seen_put(w, id, (int64_t)json_integer_value(t));
		}
	}
	json_decref(root);
}

static int cursor_save(struct pane_source *src, struct sb_ctx *c, struct pane_err *err)
{
	json_t *logs = json_object();
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	while (pane_map_next(&c->marks, &pos, &k, &kl, &v)) {
		struct watermark *w = v;
		json_t *seen = json_object();
		size_t p2 = 0;
		const char *id;
		size_t il;
		void *t;
		while (pane_map_next(&w->seen, &p2, &id, &il, &t))
			json_object_set_new(seen, id, json_integer(*(int64_t *)t));
		json_object_set_new(logs, k, json_pack("{s:I,s:o}", "ts_us", (json_int_t)w->ts_us, "seen", seen));
	}
	json_t *root = json_pack("{s:i,s:o}", "v", 1, "logs", logs);
	if (c->legacy_gone)
		json_object_set_new(root, "legacy_gone", json_true());
	if (c->lints.len) {
		json_t *keys = json_array();
		size_t p3 = 0;
		const char *lk;
		size_t lkl;
		void *lv;
		while (pane_map_next(&c->lints, &p3, &lk, &lkl, &lv))
			json_array_append_new(keys, json_stringn(lk, lkl));
		json_object_set_new(root, "advisors", keys);
	}
	char *text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	int rc = pane_source_cursor_save(src, text, err);
	free(text);
	if (rc < 0)
		pane_source_set_reason(src, "cursor");
	return rc;
}

/* ---------- logs ---------- */

static void emit_row(struct pane_source *src, json_t *row, const char *table, int64_t ts_us)
{
	json_t *msg = json_object_get(row, "event_message");
	json_t *srcname = json_object_get(row, "source");
	json_t *sev = json_object_get(row, "severity_text");
	const char *source = json_is_string(srcname) ? json_string_value(srcname) : table ? table : "unknown";
	struct pane_labels ls;
	pane_labels_init(&ls);
	pane_labels_set(&ls, "source", source);
	enum pane_log_severity s = PANE_SEV_UNKNOWN;
	if (json_is_string(sev))
		s = pane_log_severity_parse(json_string_value(sev), strlen(json_string_value(sev)));
	/* the structured part: everything but what became message/labels/time */
	json_t *fields = json_deep_copy(row);
	json_object_del(fields, "event_message");
	json_object_del(fields, "timestamp");
	json_object_del(fields, "source");
	json_object_del(fields, "severity_text");
	char *fj = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(fields);
	const char *m = json_is_string(msg) ? json_string_value(msg) : "";
	size_t ml = json_is_string(msg) ? json_string_length(msg) : 0;
	pane_source_emit_log(src, &ls, ts_us / 1000, s, m, ml, fj);
	free(fj);
	pane_labels_release(&ls);
}

static int build_sql(struct sb_ctx *c, enum endpoint ep, const char *table, int64_t start_us, int64_t offset,
                     struct pane_buf *sql)
{
	char since[40];
	sql_time(start_us, since, sizeof since);
	pane_buf_init(sql, 16384);
	int rc;
	if (ep == EP_UNIFIED) {
		rc = pane_buf_adds(sql, "select id, timestamp, source, severity_text, event_message, log_attributes "
		                        "from logs where source in (");
		for (size_t i = 0; rc == 0 && i < c->cfg->log_sources.n; i++)
			rc = pane_buf_addf(sql, "%s'%s'", i ? ", " : "", c->cfg->log_sources.items[i]);
		if (rc == 0)
			rc = pane_buf_addf(sql, ") and timestamp >= '%s'", since);
	} else {
		rc = pane_buf_addf(sql, "select id, timestamp, event_message, metadata from %s where timestamp >= '%s'",
		                   table, since);
	}
	if (rc == 0)
		rc = pane_buf_addf(sql, " order by timestamp asc, id asc limit %lld offset %lld",
		                   (long long)c->cfg->log_page_size, (long long)offset);
	return rc;
}

/* Tails one key: the whole unified stream ("_all") or one legacy table.
 * Returns 0, an error, or PANE_ENOTFOUND with *status 404/410 for the
 * endpoint switch. */
static int tail(struct pane_source *src, struct sb_ctx *c, enum endpoint ep, const char *table, long *status,
                size_t *emitted, struct pane_err *err)
{
	const char *key = ep == EP_UNIFIED ? "_all" : table;
	struct watermark *w = mark_get(c, key);
	int64_t now_us = pane_source_now_ms(src) * 1000;
	int64_t overlap_us = c->cfg->log_overlap_ms * 1000;
	int64_t start = w->ts_us ? w->ts_us - overlap_us : now_us - c->cfg->log_lookback_ms * 1000;
	/* the API serves at most 24 h per query, rounded to minutes */
	if (now_us - start > DAY_US - 3600LL * 1000000) {
		int64_t ns = now_us - (DAY_US - 3600LL * 1000000);
		pane_log_kv(PANE_LOG_WARN, "sources",
		            "log cursor older than the API's 24 h window; lines in between are skipped", "source",
		            pane_source_name(src), "key", key, NULL);
		start = ns;
	}
	int64_t offset = 0;
	char what[96];
	snprintf(what, sizeof what, "supabase logs (%s)", ep == EP_UNIFIED ? "logs" : "logs.all");
	for (int64_t page = 0; page < c->cfg->log_max_pages && !pane_source_stopping(src); page++) {
		struct pane_buf sql, url;
		char t0[32], t1[32];
		int rc = build_sql(c, ep, table, start, offset, &sql);
		if (rc == 0)
			rc = api_url(c, &url,
			             ep == EP_UNIFIED ? "analytics/endpoints/logs" : "analytics/endpoints/logs.all");
		else
			pane_buf_init(&url, 1);
		iso_minute(start - 60 * 1000000LL, t0, sizeof t0);
		iso_minute(now_us + 120 * 1000000LL, t1, sizeof t1);
		if (rc == 0)
			rc = pane_http_url_add_query(&url, "sql", sql.data);
		if (rc == 0)
			rc = pane_http_url_add_query(&url, "iso_timestamp_start", t0);
		if (rc == 0)
			rc = pane_http_url_add_query(&url, "iso_timestamp_end", t1);
		pane_buf_release(&sql);
		if (rc < 0) {
			pane_buf_release(&url);
			return pane_err_set(err, PANE_ETOOBIG, "%s: query too long (too many log_sources?)", what);
		}
		struct pane_http_response resp;
		pane_http_response_init(&resp);
		json_t *root = NULL;
		rc = mgmt_get(src, c, url.data, what, &resp, &root, err);
		pane_buf_release(&url);
		*status = resp.status;
		pane_http_response_release(&resp);
		json_t *rows = NULL;
		if (rc == 0)
			rc = envelope(src, root, what, &rows, err);
		if (rc < 0) {
			json_decref(root);
			return rc;
		}
		size_t n = json_array_size(rows);
		int64_t page_max = 0, last_ts = 0, same_last = 0;
		size_t bad = 0;
		for (size_t i = 0; i < n; i++) {
			json_t *row = json_array_get(rows, i);
			json_t *id = json_object_get(row, "id");
			int64_t ts;
			if (!json_is_object(row) || !json_is_string(id) ||
			    row_time_us(json_object_get(row, "timestamp"), &ts) < 0) {
				bad++;
				continue;
			}
			if (ts < start) {
				/* before the window asked for: a provider that ignores it */
				pane_saas_partial_add(&c->partial, "outside_window");
				continue;
			}
			if (ts == last_ts)
				same_last++;
			else
				same_last = 1;
			last_ts = ts;
			if (ts > page_max)
				page_max = ts;
			const char *ids = json_string_value(id);
			if (pane_map_gets(&w->seen, ids))
				continue; /* read before (overlap or restart) */
			emit_row(src, row, table, ts);
			seen_put(w, ids, ts);
			(*emitted)++;
		}
		json_decref(root);
		if (bad) {
			pane_source_set_reason(src, "malformed");
			return pane_err_set(err, PANE_EINVAL, "%s: %zu row(s) without a string id or a timestamp", what,
			                    bad);
		}
		/* the cursor moves only past lines the store accepted */
		rc = pane_source_flush(src, err);
		if (rc < 0) {
			pane_map_release(&c->marks); /* forget what was read: start again from the saved cursor */
			pane_map_init(&c->marks, mark_free);
			c->cursor_loaded = false;
			return rc;
		}
		if (page_max > w->ts_us)
			w->ts_us = page_max;
		seen_prune(w, overlap_us);
		rc = cursor_save(src, c, err);
		if (rc < 0)
			return rc;
		if ((int64_t)n < c->cfg->log_page_size)
			break;
		if (last_ts == start) {
			offset += (int64_t)n;
		} else {
			start = last_ts;
			offset = same_last;
		}
	}
	return 0;
}

static int collect_logs(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sb_ctx *c = ctxp;
	if (!c->cursor_loaded)
		cursor_load(src, c);
	size_t emitted = 0;
	for (int attempt = 0; attempt < 3; attempt++) {
		long status = 0;
		int rc = 0;
		if (c->ep == EP_UNIFIED) {
			rc = tail(src, c, EP_UNIFIED, NULL, &status, &emitted, err);
			if (rc == PANE_ENOTFOUND && status == 404 && !c->fixed_ep) {
				pane_log_kv(PANE_LOG_INFO, "sources", "unified logs endpoint not found; using logs.all",
				            "source", pane_source_name(src), NULL);
				c->ep = EP_LEGACY;
				continue;
			}
			return rc;
		}
		for (size_t i = 0; i < c->cfg->log_sources.n && rc == 0; i++)
			rc = tail(src, c, EP_LEGACY, c->cfg->log_sources.items[i], &status, &emitted, err);
		if (rc == PANE_ENOTFOUND && status == 410) {
			pane_log_kv(PANE_LOG_WARN, "sources",
			            "logs.all answered 410 Gone; switching to the unified logs endpoint", "source",
			            pane_source_name(src), NULL);
			/* carry the newest legacy position over so nothing is re-read in bulk */
			struct watermark *all = mark_get(c, "_all");
			for (size_t i = 0; i < c->cfg->log_sources.n; i++) {
				struct watermark *lw = pane_map_gets(&c->marks, c->cfg->log_sources.items[i]);
				if (lw && lw->ts_us > all->ts_us)
					all->ts_us = lw->ts_us;
			}
			c->ep = EP_UNIFIED;
			c->fixed_ep = true;
			c->legacy_gone = true; /* saved with the next page's cursor */
			pane_source_set_reason(src, "");
			continue;
		}
		return rc;
	}
	return 0;
}

/* ---------- health and usage ---------- */

/* An event when a component's status changes (not on the first sighting:
 * pane has no memory of the status before it started). */
static void health_transition(struct pane_source *src, struct sb_ctx *c, const char *component, const char *status)
{
	const char *prev = pane_map_gets(&c->health, component);
	if (prev && strcmp(prev, status) != 0) {
		char title[256], dedup[256], body[512];
		snprintf(title, sizeof title, "supabase %s: %s -> %s", component, prev, status);
		snprintf(dedup, sizeof dedup, "supabase-health:%s:%s:%lld", component, status,
		         (long long)pane_source_now_ms(src));
		struct pane_buf b;
		pane_buf_init(&b, sizeof body);
		struct pane_json j;
		pane_json_init(&j, &b);
		pane_json_obj(&j);
		pane_json_key(&j, "component");
		pane_json_str(&j, component);
		pane_json_key(&j, "from");
		pane_json_str(&j, prev);
		pane_json_key(&j, "to");
		pane_json_str(&j, status);
		pane_json_obj_end(&j);
		struct pane_labels ls;
		pane_labels_init(&ls);
		pane_labels_set(&ls, "component", component);
		pane_source_emit_event(src, &ls, 0, "health", title, NULL, b.data, dedup);
		pane_labels_release(&ls);
		pane_buf_release(&b);
	}
	if (!prev || strcmp(prev, status) != 0)
		pane_map_puts(&c->health, component, pane_xstrdup(status));
}

static int collect_health(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sb_ctx *c = ctxp;
	struct pane_buf url;
	int rc = api_url(c, &url, "health");
	for (size_t i = 0; rc == 0 && i < c->cfg->health_services.n; i++)
		rc = pane_http_url_add_query(&url, "services", c->cfg->health_services.items[i]);
	if (rc < 0) {
		pane_buf_release(&url);
		return pane_err_set(err, PANE_ETOOBIG, "supabase health: URL too long");
	}
	struct pane_http_response resp;
	pane_http_response_init(&resp);
	json_t *root;
	rc = mgmt_get(src, c, url.data, "supabase health", &resp, &root, err);
	pane_buf_release(&url);
	pane_http_response_release(&resp);
	if (rc < 0)
		return rc;
	if (!json_is_array(root)) {
		json_decref(root);
		pane_source_set_reason(src, "malformed");
		return pane_err_set(err, PANE_EINVAL, "supabase health: expected a JSON array");
	}
	size_t i;
	json_t *it;
	json_array_foreach(root, i, it)
	{
		json_t *name = json_object_get(it, "name"), *status = json_object_get(it, "status");
		json_t *healthy = json_object_get(it, "healthy");
		if (!json_is_string(name))
			continue;
		const char *st = json_is_string(status) ? json_string_value(status) : NULL;
		bool ok = st ? strcmp(st, "ACTIVE_HEALTHY") == 0 : json_is_true(healthy);
		pane_source_emit_samplev(src, "supabase_service_healthy", 0, ok ? 1.0 : 0.0, "component",
		                         json_string_value(name), NULL);
		if (st)
			pane_source_emit_samplev(src, "supabase_service_status", 0, 1.0, "component",
			                         json_string_value(name), "status", st, NULL);
		health_transition(src, c, json_string_value(name), st ? st : ok ? "healthy" : "unhealthy");
	}
	json_decref(root);
	return 0;
}

static int collect_usage(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sb_ctx *c = ctxp;
	struct pane_buf url;
	int rc = api_url(c, &url, "analytics/endpoints/usage.api-counts");
	if (rc == 0)
		rc = pane_http_url_add_query(&url, "interval", c->cfg->usage_interval);
	struct pane_http_response resp;
	pane_http_response_init(&resp);
	json_t *root = NULL, *rows;
	if (rc == 0)
		rc = mgmt_get(src, c, url.data, "supabase usage.api-counts", &resp, &root, err);
	pane_buf_release(&url);
	pane_http_response_release(&resp);
	if (rc == 0)
		rc = envelope(src, root, "supabase usage.api-counts", &rows, err);
	if (rc < 0) {
		json_decref(root);
		return rc;
	}
	static const char *const kinds[][2] = {{"total_auth_requests", "auth"},
	                                       {"total_realtime_requests", "realtime"},
	                                       {"total_rest_requests", "rest"},
	                                       {"total_storage_requests", "storage"}};
	int64_t newest = c->last_usage_ms;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		json_t *ts = json_object_get(row, "timestamp");
		int64_t ms;
		if (!json_is_string(ts) || pane_time_parse(pane_str_c(json_string_value(ts)), &ms) < 0)
			continue;
		if (ms <= c->last_usage_ms)
			continue; /* each bucket once, in order */
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
			json_t *v = json_object_get(row, kinds[k][0]);
			if (json_is_number(v))
				pane_source_emit_samplev(src, "supabase_usage_api_requests", ms, json_number_value(v),
				                         "kind", kinds[k][1], NULL);
		}
		if (ms > newest)
			newest = ms;
	}
	c->last_usage_ms = newest;
	json_decref(root);

	rc = api_url(c, &url, "analytics/endpoints/usage.api-requests-count");
	pane_http_response_init(&resp);
	root = NULL;
	if (rc == 0)
		rc = mgmt_get(src, c, url.data, "supabase usage.api-requests-count", &resp, &root, err);
	pane_buf_release(&url);
	pane_http_response_release(&resp);
	if (rc == 0)
		rc = envelope(src, root, "supabase usage.api-requests-count", &rows, err);
	if (rc == 0) {
		json_t *cnt = json_object_get(json_array_get(rows, 0), "count");
		if (json_is_number(cnt))
			pane_source_emit_sample(src, "supabase_usage_api_requests_count", NULL, 0,
			                        json_number_value(cnt));
	}
	json_decref(root);
	return rc;
}

/* ---------- advisors and disk ---------- */

static int plain_get(struct pane_source *src, struct sb_ctx *c, const char *rest, const char *what, json_t **root,
                     struct pane_err *err)
{
	struct pane_buf url;
	int rc = api_url(c, &url, rest);
	if (rc < 0) {
		pane_buf_release(&url);
		return pane_err_set(err, PANE_ETOOBIG, "%s: URL too long", what);
	}
	struct pane_http_response resp;
	pane_http_response_init(&resp);
	*root = NULL;
	rc = pane_http_client_do(c->plain, &(struct pane_http_request){.url = url.data, .bearer = c->cfg->access_token},
	                         &resp, err);
	pane_buf_release(&url);
	if (rc == 0) {
		json_error_t je;
		*root = json_loadb(resp.body.data, resp.body.len, 0, &je);
		if (!*root)
			rc = json_error(src, what, &je, err);
	}
	pane_http_response_release(&resp);
	return rc;
}

static int emit_lint(struct pane_source *src, const char *advisor, json_t *l)
{
	const char *name = pane_saas_str(l, "name"), *level = pane_saas_str(l, "level");
	const char *title = pane_saas_str(l, "title"), *key = pane_saas_str(l, "cache_key");
	json_t *md = json_object_get(l, "metadata");
	const char *schema = pane_saas_str(md, "schema"), *entity = pane_saas_str(md, "name");
	struct pane_labels ls;
	pane_labels_init(&ls);
	pane_labels_set(&ls, "advisor", advisor);
	pane_labels_set(&ls, "lint", name);
	pane_labels_set(&ls, "level", level);
	struct pane_buf t;
	pane_buf_init(&t, 1024);
	pane_buf_addf(&t, "supabase %s advisor %s: %s", advisor, level ? level : "?", title ? title : name);
	if (schema && entity)
		pane_buf_addf(&t, " (%s.%s)", schema, entity);
	char dedup[512];
	snprintf(dedup, sizeof dedup, "supabase-lint:%s", key);
	char *bj = json_dumps(l, JSON_COMPACT | JSON_SORT_KEYS);
	int rc = pane_source_emit_event(src, &ls, 0, "advisor", t.data, pane_saas_str(l, "remediation"), bj, dedup);
	free(bj);
	pane_buf_release(&t);
	pane_labels_release(&ls);
	return rc;
}

static int collect_advisors(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sb_ctx *c = ctxp;
	static const char *const advisors[] = {"performance", "security"};
	static const char *const levels[] = {"ERROR", "WARN", "INFO"};
	json_t *got[2] = {NULL, NULL};
	int rc = 0;
	for (size_t a = 0; a < 2 && rc == 0; a++) {
		char rest[64], what[64];
		snprintf(rest, sizeof rest, "advisors/%s", advisors[a]);
		snprintf(what, sizeof what, "supabase %s advisor", advisors[a]);
		rc = plain_get(src, c, rest, what, &got[a], err);
		if (rc == 0 && !json_is_array(json_object_get(got[a], "lints"))) {
			pane_source_set_reason(src, "malformed");
			rc = pane_err_set(err, PANE_EINVAL, "%s: expected an object with a lints array", what);
		}
	}
	if (rc == 0) {
		/* every answer complete: announce what is new, forget what went away */
		struct pane_map now;
		pane_map_init(&now, NULL);
		for (size_t a = 0; a < 2; a++) {
			double count[3] = {0, 0, 0};
			size_t i;
			json_t *l;
			json_array_foreach(json_object_get(got[a], "lints"), i, l)
			{
				const char *key = pane_saas_str(l, "cache_key"), *level = pane_saas_str(l, "level");
				if (!key || !pane_saas_str(l, "name"))
					continue;
				for (size_t k = 0; k < 3; k++)
					if (level && strcmp(level, levels[k]) == 0)
						count[k]++;
				bool known = pane_map_gets(&c->lints, key) || pane_map_gets(&now, key);
				if (known || emit_lint(src, advisors[a], l) == 0)
					pane_map_puts(&now, key, (void *)1); /* else announced again next time */
			}
			for (size_t k = 0; k < 3; k++)
				pane_source_emit_samplev(src, "supabase_advisor_lints", 0, count[k], "advisor",
				                         advisors[a], "level", levels[k], NULL);
		}
		pane_map_release(&c->lints);
		c->lints = now;
		rc = pane_source_flush(src, err); /* the cursor never runs ahead of the store */
		if (rc == 0)
			rc = cursor_save(src, c, err);
	}
	json_decref(got[0]);
	json_decref(got[1]);
	return rc;
}

static int collect_disk(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sb_ctx *c = ctxp;
	json_t *root = NULL;
	int rc = plain_get(src, c, "config/disk/util", "supabase disk", &root, err);
	if (rc < 0)
		return rc;
	json_t *m = json_object_get(root, "metrics");
	static const struct {
		const char *field, *name;
	} map[] = {{"fs_size_bytes", "supabase_disk_size_bytes"},
	           {"fs_avail_bytes", "supabase_disk_available_bytes"},
	           {"fs_used_bytes", "supabase_disk_used_bytes"}};
	if (!json_is_object(m)) {
		json_decref(root);
		pane_source_set_reason(src, "malformed");
		return pane_err_set(err, PANE_EINVAL, "supabase disk: expected an object with metrics");
	}
	int64_t ts = 0, us;
	if (pane_time_parse_us(pane_saas_str(root, "timestamp"), &us) == 0)
		ts = pane_saas_clamp_ts(&c->partial, us / 1000, pane_source_now_ms(src), 300000);
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		json_t *v = json_object_get(m, map[i].field);
		if (json_is_number(v))
			pane_source_emit_samplev(src, map[i].name, ts, json_number_value(v), NULL);
	}
	json_decref(root);
	return 0;
}

/* ---------- edge functions ---------- */

/* The newest row of functions.combined-stats (its shape is not specified:
 * every numeric column becomes supabase_function_stat{function,stat}). */
static int function_stats(struct pane_source *src, struct sb_ctx *c, const char *id, const char *slug,
                          struct pane_err *err)
{
	struct pane_buf url;
	int rc = api_url(c, &url, "analytics/endpoints/functions.combined-stats");
	if (rc == 0)
		rc = pane_http_url_add_query(&url, "interval", "1hr");
	if (rc == 0)
		rc = pane_http_url_add_query(&url, "function_id", id);
	if (rc < 0) {
		pane_buf_release(&url);
		return pane_err_set(err, PANE_ETOOBIG, "supabase function stats: URL too long");
	}
	struct pane_http_response resp;
	pane_http_response_init(&resp);
	json_t *root = NULL, *rows = NULL;
	rc = mgmt_get(src, c, url.data, "supabase function stats", &resp, &root, err);
	pane_buf_release(&url);
	pane_http_response_release(&resp);
	if (rc == 0)
		rc = envelope(src, root, "supabase function stats", &rows, err);
	if (rc < 0) {
		json_decref(root);
		return rc;
	}
	json_t *newest = NULL;
	int64_t newest_us = INT64_MIN;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		int64_t us = (int64_t)i; /* without a timestamp: the last row */
		json_t *t = json_object_get(row, "timestamp");
		if (t && row_time_us(t, &us) < 0)
			continue;
		if (json_is_object(row) && us >= newest_us)
			newest = row, newest_us = us;
	}
	const char *k;
	json_t *v;
	json_object_foreach(newest, k, v)
	{
		if (!json_is_number(v) || strcmp(k, "timestamp") == 0)
			continue;
		char *stat = pane_name_sanitize(k, strlen(k), false);
		pane_source_emit_samplev(src, "supabase_function_stat", 0, json_number_value(v), "function", slug,
		                         "stat", stat, NULL);
		free(stat);
	}
	json_decref(root);
	return 0;
}

static int collect_functions(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sb_ctx *c = ctxp;
	json_t *root = NULL;
	int rc = plain_get(src, c, "functions", "supabase functions", &root, err);
	if (rc < 0)
		return rc;
	if (!json_is_array(root)) {
		json_decref(root);
		pane_source_set_reason(src, "malformed");
		return pane_err_set(err, PANE_EINVAL, "supabase functions: expected a JSON array");
	}
	size_t i;
	json_t *fn;
	json_array_foreach(root, i, fn)
	{
		const char *id = pane_saas_str(fn, "id"), *slug = pane_saas_str(fn, "slug");
		if (!id || !slug)
			continue;
		json_t *ver = json_object_get(fn, "version");
		char vs[32] = "";
		if (json_is_integer(ver))
			snprintf(vs, sizeof vs, "%lld", (long long)json_integer_value(ver));
		struct pane_labels ls;
		pane_labels_init(&ls);
		pane_labels_set(&ls, "function", slug);
		pane_labels_set(&ls, "function_id", id);
		pane_labels_set(&ls, "status", pane_saas_str(fn, "status"));
		pane_labels_set(&ls, "version", vs[0] ? vs : NULL);
		pane_source_emit_sample(src, "supabase_function_info", &ls, 0, 1);
		pane_labels_release(&ls);
		const char *st = pane_saas_str(fn, "status");
		if (st && strcmp(st, "REMOVED") == 0)
			continue;
		struct pane_err e = {0};
		int frc = function_stats(src, c, id, slug, &e);
		if (frc < 0 && rc == 0) {
			rc = frc;
			if (err)
				*err = e;
		}
		if (frc == PANE_EPERM || frc == PANE_ENOTFOUND || frc == PANE_EAGAIN)
			break; /* the same for every function: do not ask again */
	}
	json_decref(root);
	return rc;
}

/* ---------- metrics ---------- */

struct prom_ctx {
	struct pane_source *src;
	const char *ref;
	size_t n;
};

static int on_prom_samples(void *arg, const struct pane_sample *smp, size_t n, struct pane_err *err)
{
	(void)err;
	struct prom_ctx *p = arg;
	for (size_t i = 0; i < n; i++) {
		/* every series says which project it is from, also when the
		 * exposition leaves the label out */
		const struct pane_labels *ls = smp[i].labels;
		struct pane_labels with;
		bool add = !ls || !pane_labels_get(ls, "supabase_project_ref");
		if (add) {
			if (ls)
				pane_labels_copy(&with, ls);
			else
				pane_labels_init(&with);
			pane_labels_set(&with, "supabase_project_ref", p->ref);
			ls = &with;
		}
		if (pane_source_emit_sample(p->src, smp[i].name, ls, smp[i].ts_ms, smp[i].value) == 0)
			p->n++;
		if (add)
			pane_labels_release(&with);
	}
	return 0;
}

static int on_prom_meta(void *arg, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	(void)err;
	pane_source_emit_metadata(((struct prom_ctx *)arg)->src, m, n);
	return 0;
}

static int on_prom_count(void *arg, const struct pane_sample *smp, size_t n, struct pane_err *err)
{
	(void)smp, (void)err;
	((struct prom_ctx *)arg)->n += n;
	return 0;
}

static int collect_metrics(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sb_ctx *c = ctxp;
	struct pane_http_response resp;
	pane_http_response_init(&resp);
	int rc = pane_http_client_do(
	    c->prom,
	    &(struct pane_http_request){.url = c->metrics_url,
	                                .basic_user = "service_role",
	                                .basic_pass = c->cfg->service_role_key,
	                                .headers = (const char *const[]){"Accept: text/plain; version=0.0.4", NULL}},
	    &resp, err);
	if (rc == 0) {
		/* validate the whole exposition first: a malformed one delivers nothing
		 * (the receivers' parser skips bad lines; here any bad line fails the scrape) */
		struct pane_promtext_opts o = {.default_ts_ms = pane_wall_ms()};
		struct pane_promtext_result res = {0};
		struct prom_ctx dry = {0};
		rc = pane_promtext_parse(resp.body.data, resp.body.len, &o, on_prom_count, &dry, &res, err);
		if (rc == 0 && res.bad_lines)
			rc = pane_err_set(err, PANE_EINVAL, "line %zu: %s", res.line, res.first_error);
		if (rc == 0) {
			struct prom_ctx p = {.src = src, .ref = c->cfg->project_ref};
			o.meta = on_prom_meta;
			o.meta_arg = &p;
			rc = pane_promtext_parse(resp.body.data, resp.body.len, &o, on_prom_samples, &p, &res, err);
		}
		if (rc < 0) {
			pane_err_prefix(err, "supabase metrics");
			pane_source_set_reason(src, "malformed");
			rc = PANE_EINVAL;
		}
	}
	pane_http_response_release(&resp);
	return rc;
}

/* ---------- plugin ---------- */

static int sb_init(struct pane_source *src, void *cfgp, const struct pane_cfg *file, const struct pane_cfg_node *node,
                   void **ctxp, struct pane_err *err)
{
	struct sb_cfg *cfg = cfgp;
	const char *ref = cfg->project_ref;
	bool ref_ok = strlen(ref) == 20;
	for (const char *p = ref; ref_ok && *p; p++)
		ref_ok = *p >= 'a' && *p <= 'z';
	if (!ref_ok)
		return pane_cfg_error(file, pane_cfg_get(node, "project_ref"), err,
		                      "a project ref is 20 lower-case letters (Project Settings > General)");
	for (size_t i = 0; i < cfg->log_sources.n; i++)
		if (!ident_ok(cfg->log_sources.items[i]))
			return pane_cfg_error(file, pane_cfg_get(node, "log_sources"), err,
			                      "'%s' is not a log source name (edge_logs, postgres_logs, ...)",
			                      cfg->log_sources.items[i]);
	for (size_t i = 0; i < cfg->health_services.n; i++)
		if (!ident_ok(cfg->health_services.items[i]))
			return pane_cfg_error(file, pane_cfg_get(node, "health_services"), err,
			                      "'%s' is not a service name (auth, db, pooler, realtime, rest, storage)",
			                      cfg->health_services.items[i]);
	const char *ep = cfg->logs_endpoint;
	if (strcmp(ep, "auto") != 0 && strcmp(ep, "logs") != 0 && strcmp(ep, "logs.all") != 0)
		return pane_cfg_error(file, pane_cfg_get(node, "logs_endpoint"), err,
		                      "expected auto, logs or logs.all");
	static const char *const intervals[] = {"15min", "30min", "1hr", "3hr", "1day", "3day", "7day", NULL};
	bool iv = false;
	for (size_t i = 0; intervals[i]; i++)
		iv = iv || strcmp(intervals[i], cfg->usage_interval) == 0;
	if (!iv)
		return pane_cfg_error(file, pane_cfg_get(node, "usage_interval"), err,
		                      "expected 15min, 30min, 1hr, 3hr, 1day, 3day or 7day");
	bool need_token = cfg->logs || cfg->health || cfg->usage || cfg->advisors || cfg->disk || cfg->functions;
	if (need_token && (!cfg->access_token || !*cfg->access_token))
		return pane_cfg_error(
		    file, node, err,
		    "access_token is required for logs, health, usage, advisors and disk (or turn those off)");
	if (cfg->metrics && (!cfg->service_role_key || !*cfg->service_role_key))
		return pane_cfg_error(file, node, err,
		                      "service_role_key is required for metrics (or set metrics: false)");
	if (cfg->requests_per_minute < 0)
		return pane_cfg_error(file, pane_cfg_get(node, "requests_per_minute"), err, "must not be negative");

	struct sb_ctx *c = pane_xcalloc(1, sizeof *c);
	*ctxp = c;
	c->cfg = cfg;
	pane_map_init(&c->marks, mark_free);
	pane_map_init(&c->health, free);
	pane_map_init(&c->lints, NULL);
	if (cfg->metrics_url && *cfg->metrics_url) {
		c->metrics_url = pane_xstrdup(cfg->metrics_url);
	} else {
		struct pane_buf b;
		pane_buf_init(&b, 512);
		pane_buf_addf(&b, "https://%s.supabase.co/customer/v1/privileged/metrics", ref);
		c->metrics_url = pane_buf_detach(&b, NULL);
	}
	c->ep = strcmp(ep, "logs.all") == 0 ? EP_LEGACY : EP_UNIFIED;
	c->fixed_ep = strcmp(ep, "logs") == 0;
	struct pane_http_client_opts o;
	pane_source_http_opts(src, &o);
	o.max_retries = (int)cfg->retries;
	o.max_wait_ms = cfg->max_rate_wait_ms;
	o.max_body = 32u << 20;
	o.requests_per_minute = cfg->requests_per_minute;
	c->mgmt = pane_http_client_new(&o);
	o.requests_per_minute = 0;
	c->plain = pane_http_client_new(&o);
	o.max_body = 16u << 20;
	c->prom = pane_http_client_new(&o);
	return 0;
}

static int sb_collect(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sb_ctx *c = ctxp;
	if (!c->cursor_loaded)
		cursor_load(src, c);
	const struct pane_source_part parts[] = {
	    /* core: health, logs, metrics; usage is optional (not every plan has it) */
	    {c->cfg->health, collect_health, "health", false},
	    {c->cfg->usage, collect_usage, "usage", true},
	    {c->cfg->logs, collect_logs, "logs", false},
	    {c->cfg->metrics, collect_metrics, "metrics", false},
	    {c->cfg->advisors, collect_advisors, "advisors", true},
	    {c->cfg->disk, collect_disk, "disk", true},
	    {c->cfg->functions, collect_functions, "functions", true},
	};
	int rc = pane_source_run_parts(src, c, parts, sizeof parts / sizeof parts[0], false, err);
	pane_saas_partial_emit(src, &c->partial);
	return rc;
}

static void sb_close(void *ctxp)
{
	struct sb_ctx *c = ctxp;
	if (!c)
		return;
	pane_http_client_free(c->mgmt);
	pane_http_client_free(c->prom);
	pane_http_client_free(c->plain);
	pane_map_release(&c->lints);
	pane_map_release(&c->marks);
	pane_map_release(&c->health);
	free(c->metrics_url);
	free(c);
}

const struct pane_source_plugin pane_source_supabase = {
    .name = "supabase",
    .provider = "supabase",
    .description = "Supabase project logs (Management API), metrics endpoint, service health and API usage",
    .default_interval_ms = 60000,
    .default_timeout_ms = 30000,
    .cfg_size = sizeof(struct sb_cfg),
    .fields = sb_fields,
    .init = sb_init,
    .collect = sb_collect,
    .close = sb_close,
};
