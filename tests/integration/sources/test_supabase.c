/* test_supabase.c - the Supabase source over real HTTP against the fake
 * Management API and metrics endpoint (tests/fakes/supabase_fake.py):
 * paging, restart without gaps or duplicates, the 410 and 404 endpoint
 * switches, SQL errors returned with 200, rate limiting (headers, 429),
 * 5xx, malformed bodies, bad credentials, and a slow source that delays
 * no other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/map.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "provider.h"
#include "recorder.h"
#include "sources/sources.h"
#include "support.h"

static struct fakectl fk;

/* fake_post without the answer */
static void free_post(const char *path, const char *json)
{
	free(fake_post(&fk, path, json));
}

/* Adds n log rows: ids PREFIX-i, timestamps start_us + i*step_us, rotating
 * through three sources. */
static void add_rows(const char *prefix, int n, int64_t start_us, int64_t step_us)
{
	static const char *const srcs[] = {"edge_logs", "postgres_logs", "auth_logs"};
	static const char *const sev[] = {"INFO", "ERROR", "WARNING"};
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_adds(&b, "{\"rows\":[");
	for (int i = 0; i < n; i++)
		pane_buf_addf(&b,
		              "%s{\"id\":\"%s-%03d\",\"ts_us\":%lld,\"source\":\"%s\",\"severity\":\"%s\","
		              "\"message\":\"line %s-%03d\",\"attributes\":{\"request.method\":\"GET\",\"n\":%d}}",
		              i ? "," : "", prefix, i, (long long)(start_us + i * step_us), srcs[i % 3], sev[i % 3],
		              prefix, i, i);
	pane_buf_adds(&b, "]}");
	free(fake_post(&fk, "/__fake/logs", b.data));
	pane_buf_release(&b);
}

static int group_setup(void **state)
{
	(void)state;
	fake_start(&fk, "supabase_fake.py", NULL);
	setenv("PT_SB_TOKEN", "sbp_test_token", 1);
	setenv("PT_SB_KEY", "sb_secret_test", 1);
	setenv("PT_SB_BAD", "sbp_wrong", 1);
	setenv("PT_SB_API", fk.base, 1);
	char murl[160];
	snprintf(murl, sizeof murl, "%s/customer/v1/privileged/metrics", fk.base);
	setenv("PT_SB_METRICS", murl, 1);
	snprintf(murl, sizeof murl, "%s/customer/v1/privileged/metrics/slow", fk.base);
	setenv("PT_SB_METRICS_SLOW", murl, 1);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	fake_stop(&fk);
	return 0;
}

static int each_setup(void **state)
{
	struct provider_fx *f = provider_new("supabase", &fk);
	*state = f;
	return 0;
}

static int each_teardown(void **state)
{
	provider_free(*state);
	return 0;
}

/* (Re)starts the sources from yaml (extra keys appended to the common
 * supabase instance), keeping the recorder and data directory. */
static void start(struct provider_fx *f, const char *extra)
{
	char yaml[4096];
	snprintf(yaml, sizeof yaml,
	         "sources:\n  supabase:\n    project_ref: abcdefghijklmnopqrst\n    access_token: ${PT_SB_TOKEN}\n"
	         "    service_role_key: ${PT_SB_KEY}\n    api_url: ${PT_SB_API}\n    metrics_url: ${PT_SB_METRICS}\n"
	         "    requests_per_minute: 0\n    timeout: 10s\n    log_lookback: 30m\n    environment: test\n%s",
	         extra ? extra : "");
	provider_start(f, yaml);
}

static int collect(struct provider_fx *f, struct pane_err *err)
{
	return provider_collect(f, err);
}

/* Every recorded log id exactly once; returns the number of distinct ids. */
static size_t distinct_ids_no_dups(struct pt_recorder *r)
{
	struct pane_map seen;
	pane_map_init(&seen, NULL);
	pt_recorder_lock(r);
	size_t n = r->n_logs;
	for (size_t i = 0; i < n; i++) {
		const struct pt_rec_log *l = &r->logs[i];
		json_t *fj = json_loads(l->fields_json, 0, NULL);
		assert_non_null(fj);
		const char *id = json_string_value(json_object_get(fj, "id"));
		assert_non_null(id);
		if (pane_map_gets(&seen, id))
			fail_msg("log %s delivered twice", id);
		pane_map_puts(&seen, id, (void *)1);
		json_decref(fj);
	}
	pt_recorder_unlock(r);
	size_t d = seen.len;
	pane_map_release(&seen);
	return d;
}

static int64_t now_us(void)
{
	return pane_wall_ms() * 1000;
}

static void pages_logs_health_usage_and_metrics(void **state)
{
	struct provider_fx *f = *state;
	int64_t t0 = now_us() - 10 * 60 * 1000000LL;
	add_rows("a", 20, t0, 1000000);
	add_rows("same", 7, t0 + 30 * 1000000LL, 0); /* a burst sharing one timestamp, wider than a page */
	start(f, "    log_page_size: 3\n    log_max_pages: 100\n");
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	struct pt_recorder *r = f->rec;
	assert_int_equal(distinct_ids_no_dups(r), 27);
	assert_int_equal(pt_recorder_count_logs(r, "source", "postgres_logs"), 7 + 2); /* i%3==1 of 20, +2 of 7 */
	assert_int_equal(pt_recorder_count_logs(r, "provider", "supabase"), 27);
	assert_int_equal(pt_recorder_count_logs(r, "environment", "test"), 27);
	/* fields and severity */
	pt_recorder_lock(r);
	bool checked = false;
	for (size_t i = 0; i < r->n_logs; i++) {
		const struct pt_rec_log *l = &r->logs[i];
		if (strcmp(l->message, "line a-004") != 0)
			continue;
		assert_int_equal(l->severity, PANE_SEV_ERROR);
		assert_int_equal(l->ts_ms, (t0 + 4 * 1000000) / 1000);
		assert_non_null(strstr(l->fields_json, "\"log_attributes\":{\"n\":\"4\",\"request.method\":\"GET\"}"));
		checked = true;
	}
	pt_recorder_unlock(r);
	assert_true(checked);
	/* pages of 3: at least 27/3 requests, all on the unified endpoint */
	assert_true(fake_count(&fk, "/analytics/endpoints/logs", 200) >= 9);
	assert_int_equal(fake_count(&fk, "/analytics/endpoints/logs.all", 0), 0);

	assert_true(
	    pt_recorder_last(r, "supabase_service_healthy", "component", "auth", "provider", "supabase", NULL) == 1);
	assert_true(
	    pt_recorder_last(r, "supabase_service_status", "component", "db", "status", "ACTIVE_HEALTHY", NULL) == 1);
	assert_int_equal(pt_recorder_count(r, "supabase_usage_api_requests", "kind", "rest", NULL), 3);
	assert_true(pt_recorder_last(r, "supabase_usage_api_requests_count", NULL) == 4242);
	assert_true(pt_recorder_last(r, "node_load5", "supabase_project_ref", "abcdefghijklmnopqrst", "service_type",
	                             "db", "provider", "supabase", NULL) == 0.25);
	assert_true(pt_recorder_last(r, "http_server_duration_milliseconds_bucket", "le", "+Inf", NULL) == 4);
	/* the exposition's HELP/TYPE become metadata */
	const struct pt_rec_meta *md = pt_recorder_find_meta(r, "node_load5");
	assert_non_null(md);
	assert_int_equal(md->type, PANE_METRIC_GAUGE);
	assert_string_equal(md->help, "5m load average.");
	assert_true(pt_recorder_last(r, "pane_source_up", "source", "supabase", NULL) == 1);

	/* a second collection: usage buckets are not repeated, no log twice */
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(pt_recorder_count(r, "supabase_usage_api_requests", "kind", "rest", NULL), 3);
	assert_int_equal(distinct_ids_no_dups(r), 27);
}

static void restart_neither_skips_nor_duplicates(void **state)
{
	struct provider_fx *f = *state;
	int64_t t0 = now_us() - 10 * 60 * 1000000LL;
	add_rows("one", 10, t0, 2000000);
	start(f,
	      "    log_page_size: 4\n    log_overlap: 2m\n    metrics: false\n    usage: false\n    health: false\n");
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(distinct_ids_no_dups(f->rec), 10);
	char path[128];
	snprintf(path, sizeof path, "%s/sources/supabase.cursor", f->dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);

	/* pane restarts; meanwhile new lines arrive, two of them late (stamped
	 * before the newest line already read, inside the overlap window) */
	add_rows("two", 10, t0 + 60 * 1000000LL, 1000000);
	add_rows("late", 2, t0 + 17 * 1000000LL, 100);
	start(f,
	      "    log_page_size: 4\n    log_overlap: 2m\n    metrics: false\n    usage: false\n    health: false\n");
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(distinct_ids_no_dups(f->rec), 22);
	assert_int_equal(f->rec->n_logs, 22);

	/* nothing new: nothing delivered */
	start(f, "    log_page_size: 4\n    metrics: false\n    usage: false\n    health: false\n");
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(f->rec->n_logs, 22);

	/* a damaged cursor file is reported, not fatal: the source starts over
	 * from log_lookback (duplicates are then possible and expected) */
	FILE *fp = fopen(path, "w");
	fputs("{not json", fp);
	fclose(fp);
	start(f, "    metrics: false\n    usage: false\n    health: false\n");
	assert_int_equal(collect(f, &err), 0);
}

/* A provider that ignores the time window answers old rows again and again:
 * rows before the window are dropped (and counted), the rest deduplicated by
 * id, across collections and a restart (issue 19, finding 3). */
static void a_provider_ignoring_the_window_repeats_nothing(void **state)
{
	struct provider_fx *f = *state;
	free_post("/__fake/config", "{\"ignore_window\":true}");
	/* 20 rows a minute apart: wider than log_overlap */
	add_rows("old", 20, now_us() - 25 * 60 * 1000000LL, 60 * 1000000LL);
	const char *yaml = "    log_overlap: 2m\n    metrics: false\n    usage: false\n    health: false\n";
	start(f, yaml);
	struct pane_err err;
	for (int i = 0; i < 3; i++)
		if (collect(f, &err) < 0)
			fail_msg("%s", err.msg);
	assert_int_equal(distinct_ids_no_dups(f->rec), 20);
	assert_true(pt_recorder_last(f->rec, "pane_source_partial_errors_total", "source", "supabase", "reason",
	                             "outside_window", NULL) > 0);
	add_rows("new", 3, now_us() - 30 * 1000000LL, 1000000);
	start(f, yaml);
	for (int i = 0; i < 2; i++)
		if (collect(f, &err) < 0)
			fail_msg("%s", err.msg);
	assert_int_equal(distinct_ids_no_dups(f->rec), 23);
	assert_int_equal(f->rec->n_logs, 23);
}

static void an_old_cursor_stays_inside_the_24h_window(void **state)
{
	struct provider_fx *f = *state;
	int64_t now = now_us();
	add_rows("ancient", 3, now - 47 * 3600 * 1000000LL, 1000000); /* older than the API serves */
	add_rows("recent", 3, now - 3600 * 1000000LL, 1000000);
	char path[128], text[256];
	snprintf(path, sizeof path, "%s/sources", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/sources/supabase.cursor", f->dir);
	snprintf(text, sizeof text, "{\"v\":1,\"logs\":{\"_all\":{\"ts_us\":%lld,\"seen\":{}}}}",
	         (long long)(now - 72 * 3600 * 1000000LL));
	FILE *fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	start(f, "    metrics: false\n    usage: false\n    health: false\n");
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	/* no request asked for more than 24 h (the fake answers 400 to that) */
	assert_int_equal(fake_count(&fk, "/analytics/endpoints/logs", 400), 0);
	assert_int_equal(distinct_ids_no_dups(f->rec), 3);
	assert_int_equal(pt_recorder_count_logs(f->rec, NULL, NULL), 3);
}

static void a_refusing_store_holds_the_cursor(void **state)
{
	struct provider_fx *f = *state;
	add_rows("st", 6, now_us() - 5 * 60 * 1000000LL, 1000000);
	start(f, "    log_page_size: 4\n    metrics: false\n    usage: false\n    health: false\n");
	pt_recorder_fail_writes(f->rec, true);
	struct pane_err err;
	assert_int_equal(collect(f, &err), PANE_EIO);
	struct pane_source_status st;
	pane_sources_status(f->ss, "supabase", &st);
	assert_string_equal(st.last_reason, "store");
	char path[128];
	snprintf(path, sizeof path, "%s/sources/supabase.cursor", f->dir);
	assert_int_equal(access(path, F_OK), -1); /* nothing accepted, nothing remembered */
	/* the store is back: everything arrives, once */
	pt_recorder_fail_writes(f->rec, false);
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(distinct_ids_no_dups(f->rec), 6);
	assert_int_equal(access(path, F_OK), 0);
}

static void gone_legacy_endpoint_moves_to_unified(void **state)
{
	struct provider_fx *f = *state;
	add_rows("x", 5, now_us() - 5 * 60 * 1000000LL, 1000000);
	free_post("/__fake/config", "{\"legacy\":\"gone\"}");
	start(f, "    logs_endpoint: logs.all\n    metrics: false\n    usage: false\n    health: false\n");
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(fake_count(&fk, "/analytics/endpoints/logs.all", 410), 1);
	assert_true(fake_count(&fk, "/analytics/endpoints/logs", 200) >= 1);
	assert_int_equal(distinct_ids_no_dups(f->rec), 5);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "supabase", NULL) == 1);
	/* it stays on the unified endpoint */
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(fake_count(&fk, "/analytics/endpoints/logs.all", 0), 1);
	/* and remembers it across a restart (the cursor keeps the 410) */
	start(f, "    logs_endpoint: logs.all\n    metrics: false\n    usage: false\n    health: false\n");
	add_rows("y", 2, now_us() - 60 * 1000000LL, 1000000);
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(fake_count(&fk, "/analytics/endpoints/logs.all", 0), 1);
	assert_int_equal(distinct_ids_no_dups(f->rec), 7);
}

/* The metrics exposition need not carry the project: pane adds
 * supabase_project_ref (docs/supabase.md promises it). */
static void metrics_carry_the_project_ref(void **state)
{
	struct provider_fx *f = *state;
	free_post("/__fake/config", "{\"metrics\":\"# TYPE pg_up gauge\\npg_up{service_type=\\\"db\\\"} 1\\n\"}");
	start(f, "    logs: false\n    usage: false\n    health: false\n");
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(pt_recorder_last(f->rec, "pg_up", "supabase_project_ref", "abcdefghijklmnopqrst", "service_type",
	                             "db", NULL) == 1);
}

static void auto_uses_legacy_where_unified_is_missing(void **state)
{
	struct provider_fx *f = *state;
	int64_t t0 = now_us() - 5 * 60 * 1000000LL;
	add_rows("leg", 6, t0, 1000000);
	free_post("/__fake/config", "{\"unified\":\"absent\"}");
	start(f, "    log_sources: [edge_logs, postgres_logs, auth_logs]\n    log_page_size: 2\n"
	         "    metrics: false\n    usage: false\n    health: false\n");
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(distinct_ids_no_dups(f->rec), 6);
	assert_int_equal(pt_recorder_count_logs(f->rec, "source", "edge_logs"), 2);
	/* integer microsecond timestamps became the right milliseconds */
	pt_recorder_lock(f->rec);
	for (size_t i = 0; i < f->rec->n_logs; i++) {
		const struct pt_rec_log *l = &f->rec->logs[i];
		int k = (int)strtol(l->message + strlen("line leg-"), NULL, 10);
		assert_int_equal(l->ts_ms, (t0 + k * 1000000LL) / 1000);
	}
	pt_recorder_unlock(f->rec);
	assert_true(fake_count(&fk, "/analytics/endpoints/logs.all", 200) >= 3);
}

static void sql_error_with_http_200_is_an_error(void **state)
{
	struct provider_fx *f = *state;
	add_rows("e", 3, now_us() - 60 * 1000000LL, 1000);
	/* the legacy endpoint does not know this table: HTTP 200 with error set */
	start(f, "    logs_endpoint: logs.all\n    log_sources: [edge_logs, nonexistent_logs]\n"
	         "    metrics: false\n    usage: false\n    health: false\n");
	struct pane_err err;
	assert_true(collect(f, &err) < 0);
	assert_non_null(strstr(err.msg, "Table nonexistent_logs was not found"));
	struct pane_source_status st;
	pane_sources_status(f->ss, "supabase", &st);
	assert_false(st.up);
	assert_string_equal(st.last_reason, "provider_error");
	assert_true(pt_recorder_last(f->rec, "pane_source_errors_total", "source", "supabase", "reason",
	                             "provider_error", NULL) == 1);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "supabase", NULL) == 0);
	/* the good table before it was still read */
	assert_int_equal(pt_recorder_count_logs(f->rec, "source", "edge_logs"), 1);
}

static void rate_limit_headers_are_respected(void **state)
{
	struct provider_fx *f = *state;
	int64_t t0 = now_us() - 5 * 60 * 1000000LL;
	add_rows("rl", 12, t0, 1000000);
	/* 3 analytics requests per 2 s window; the collection needs 2 + 7 */
	free_post("/__fake/config", "{\"rate_limit\":3,\"rate_window\":2}");
	start(f, "    log_page_size: 2\n    log_max_pages: 100\n    metrics: false\n    max_rate_wait: 10s\n");
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(distinct_ids_no_dups(f->rec), 12);
	assert_int_equal(fake_count(&fk, "/analytics/endpoints/logs", 429), 0);
	assert_int_equal(fake_count(&fk, "/usage.api-counts", 429), 0);
	assert_true(fake_count(&fk, "/analytics/endpoints/logs", 200) >= 7);
}

static void too_many_requests_are_retried_then_given_up(void **state)
{
	struct provider_fx *f = *state;
	add_rows("tm", 4, now_us() - 5 * 60 * 1000000LL, 1000000);
	/* one 429 (the fake's window resets in 1 s): retried, then fine */
	free_post("/__fake/config",
	          "{\"rate_window\":1,\"faults\":[{\"path\":\"/endpoints/logs\",\"status\":429,\"count\":1}]}");
	start(f, "    metrics: false\n    usage: false\n    health: false\n    retries: 2\n");
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(fake_count(&fk, "/analytics/endpoints/logs", 429), 1);
	assert_int_equal(distinct_ids_no_dups(f->rec), 4);

	/* more 429s than retries: the collection fails as rate_limited, the
	 * next one picks up exactly where the cursor is */
	add_rows("tm2", 4, now_us() - 60 * 1000000LL, 1000000);
	free_post("/__fake/config", "{\"faults\":[{\"path\":\"/endpoints/logs\",\"status\":429,\"count\":3}]}");
	start(f, "    metrics: false\n    usage: false\n    health: false\n    retries: 1\n");
	assert_int_equal(collect(f, &err), PANE_EAGAIN);
	struct pane_source_status st;
	pane_sources_status(f->ss, "supabase", &st);
	assert_string_equal(st.last_reason, "rate_limited");
	assert_int_equal(distinct_ids_no_dups(f->rec), 4);
	free_post("/__fake/config", "{\"faults\":[]}");
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(distinct_ids_no_dups(f->rec), 8);
}

static void server_errors_fail_one_part_not_the_others(void **state)
{
	struct provider_fx *f = *state;
	add_rows("se", 3, now_us() - 60 * 1000000LL, 1000);
	free_post("/__fake/config", "{\"faults\":[{\"path\":\"/health\",\"status\":503,\"count\":10}]}");
	start(f, "    retries: 1\n");
	struct pane_err err;
	assert_int_equal(collect(f, &err), PANE_EHTTP);
	assert_non_null(strstr(err.msg, "HTTP 503"));
	assert_null(strstr(err.msg, "services="));            /* query strings stay out of messages */
	assert_int_equal(fake_count(&fk, "/health", 503), 2); /* first try + 1 retry */
	struct pane_source_status st;
	pane_sources_status(f->ss, "supabase", &st);
	assert_string_equal(st.last_reason, "http");
	assert_int_equal(distinct_ids_no_dups(f->rec), 3);               /* logs still read */
	assert_true(pt_recorder_count(f->rec, "node_load5", NULL) == 1); /* metrics too */
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "supabase", NULL) == 0);
}

/* usage.api-counts missing on the plan (404) or forbidden to the token
 * (403): the source stays up and says the part is unavailable. */
static void a_missing_usage_endpoint_leaves_the_source_up(void **state)
{
	struct provider_fx *f = *state;
	add_rows("u", 3, now_us() - 60 * 1000000LL, 1000);
	free_post("/__fake/config", "{\"faults\":[{\"path\":\"usage.api-counts\",\"status\":404,\"count\":1},"
	                            "{\"path\":\"usage.api-counts\",\"status\":403,\"count\":1}]}");
	start(f, NULL);
	struct pane_err err;
	for (int i = 0; i < 2; i++) {
		if (collect(f, &err) < 0)
			fail_msg("%s", err.msg);
		assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "supabase", NULL) == 1);
		assert_true(pt_recorder_last(f->rec, "pane_source_part_unavailable", "source", "supabase", "part",
		                             "usage", NULL) == 1);
		assert_true(
		    pt_recorder_last(f->rec, "pane_source_part_up", "source", "supabase", "part", "usage", NULL) == 0);
		assert_true(
		    pt_recorder_last(f->rec, "pane_source_part_up", "source", "supabase", "part", "logs", NULL) == 1);
	}
	assert_int_equal(distinct_ids_no_dups(f->rec), 3);
	/* offered again: up again */
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(pt_recorder_last(f->rec, "pane_source_part_up", "source", "supabase", "part", "usage", NULL) == 1);
	assert_true(
	    pt_recorder_last(f->rec, "pane_source_part_unavailable", "source", "supabase", "part", "usage", NULL) == 0);
}

/* Advisors: each lint an event once (across collections and restarts),
 * counts by level; a lint that goes away and comes back is news again.
 * Disk utilisation as gauges. */
static void advisors_and_disk(void **state)
{
	struct provider_fx *f = *state;
	const char *yaml =
	    "    logs: false\n    metrics: false\n    usage: false\n    health: false\n    functions: false\n";
	start(f, yaml);
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	struct pt_recorder *r = f->rec;
	assert_int_equal(pt_recorder_n_events(r), 3);
	assert_true(pt_recorder_last(r, "supabase_advisor_lints", "advisor", "security", "level", "ERROR", NULL) == 1);
	assert_true(pt_recorder_last(r, "supabase_advisor_lints", "advisor", "performance", "level", "WARN", NULL) ==
	            1);
	assert_true(pt_recorder_last(r, "supabase_advisor_lints", "advisor", "performance", "level", "ERROR", NULL) ==
	            0);
	assert_true(pt_recorder_last(r, "supabase_disk_size_bytes", "provider", "supabase", NULL) == 8589934592.0);
	assert_true(pt_recorder_last(r, "supabase_disk_used_bytes", NULL) == 2550136832.0);
	assert_true(pt_recorder_last(r, "supabase_disk_available_bytes", NULL) == 6039797760.0);
	assert_true(pt_recorder_last(r, "pane_source_part_up", "part", "advisors", NULL) == 1);
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	start(f, yaml);
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(pt_recorder_n_events(r), 3);
	/* the security lint is fixed, then comes back */
	free_post("/__fake/config", "{\"lints\":{\"security\":[]}}");
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(pt_recorder_last(r, "supabase_advisor_lints", "advisor", "security", "level", "ERROR", NULL) == 0);
	free_post("/__fake/reset", "{}");
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(pt_recorder_n_events(r), 4);
	/* no disk endpoint on this plan: the part is unavailable, the source up */
	free_post("/__fake/config", "{\"disk\":null}");
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(pt_recorder_last(r, "pane_source_part_unavailable", "part", "disk", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_source_up", "source", "supabase", NULL) == 1);
}

/* Edge functions: info per function and the newest row of their combined
 * stats (the API leaves the row's shape open: each numeric column a stat). */
static void edge_functions(void **state)
{
	struct provider_fx *f = *state;
	start(f, "    logs: false\n    metrics: false\n    usage: false\n    health: false\n    advisors: false\n"
	         "    disk: false\n");
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	struct pt_recorder *r = f->rec;
	assert_int_equal(pt_recorder_count(r, "supabase_function_info", NULL), 2);
	assert_int_equal(pt_recorder_count(r, "supabase_function_info", "function", "checkout", "status", "ACTIVE",
	                                   "version", "12", NULL),
	                 1);
	/* the newest hour: h = 0 */
	assert_true(
	    pt_recorder_last(r, "supabase_function_stat", "function", "checkout", "stat", "success_count", NULL) == 40);
	assert_true(
	    pt_recorder_last(r, "supabase_function_stat", "function", "send-email", "stat", "error_count", NULL) == 2);
	assert_true(pt_recorder_last(r, "supabase_function_stat", "function", "send-email", "stat",
	                             "avg_execution_time", NULL) == 121.5);
	assert_int_equal(fake_count(&fk, "/functions.combined-stats", 200), 2);
	assert_true(pt_recorder_last(r, "pane_source_part_up", "part", "functions", NULL) == 1);
}

static void malformed_bodies_mark_the_source_down(void **state)
{
	struct provider_fx *f = *state;
	start(f, "    usage: false\n    health: false\n");
	struct pane_err err;
	struct pane_source_status st;

	free_post(
	    "/__fake/config",
	    "{\"faults\":[{\"path\":\"/endpoints/logs\",\"status\":200,\"body\":\"{\\\"result\\\": [{\\\"id\\\"\"}]}");
	assert_int_equal(collect(f, &err), PANE_EINVAL);
	assert_non_null(strstr(err.msg, "malformed JSON"));
	pane_sources_status(f->ss, "supabase", &st);
	assert_string_equal(st.last_reason, "malformed");

	/* the 2026 removal message with HTTP 200 (no result, no error) */
	free_post(
	    "/__fake/config",
	    "{\"faults\":[{\"path\":\"/endpoints/logs\",\"status\":200,\"body\":\"{\\\"message\\\":\\\"gone\\\"}\"}]}");
	assert_int_equal(collect(f, &err), PANE_EINVAL);
	assert_non_null(strstr(err.msg, "no result array"));

	/* rows without ids */
	free_post("/__fake/config", "{\"faults\":[{\"path\":\"/endpoints/"
	                            "logs\",\"status\":200,\"body\":\"{\\\"result\\\":[{\\\"timestamp\\\":\\\"x\\\"}],"
	                            "\\\"error\\\":null}\"}]}");
	assert_int_equal(collect(f, &err), PANE_EINVAL);

	/* a broken exposition delivers no metric at all */
	pt_recorder_clear(f->rec);
	free_post("/__fake/config", "{\"faults\":[{\"path\":\"/privileged/"
	                            "metrics\",\"status\":200,\"body\":\"ok_metric 1\\nbroken{le=\\\"1\\\" 2\\n\"}]}");
	assert_int_equal(collect(f, &err), PANE_EINVAL);
	assert_non_null(strstr(err.msg, "line 2"));
	assert_int_equal(pt_recorder_count(f->rec, "ok_metric", NULL), 0);
	assert_true(pt_recorder_last(f->rec, "pane_source_errors_total", "source", "supabase", "reason", "malformed",
	                             NULL) == 4);
	/* and it recovers */
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "supabase", NULL) == 1);
}

static void health_changes_become_events(void **state)
{
	struct provider_fx *f = *state;
	start(f, "    logs: false\n    metrics: false\n    usage: false\n    advisors: false\n    health_services: "
	         "[auth, db]\n");
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(pt_recorder_n_events(f->rec), 0); /* first sighting: no transition */
	free_post("/__fake/config", "{\"health\":[{\"name\":\"db\",\"healthy\":false,\"status\":\"UNHEALTHY\","
	                            "\"error\":\"connection refused\"}]}");
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(pt_recorder_last(f->rec, "supabase_service_healthy", "component", "db", NULL) == 0);
	assert_true(pt_recorder_last(f->rec, "supabase_service_healthy", "component", "auth", NULL) == 1);
	assert_int_equal(pt_recorder_n_events(f->rec), 1);
	pt_recorder_lock(f->rec);
	const char *ev = f->rec->events[0];
	assert_non_null(strstr(ev, "health|supabase db: ACTIVE_HEALTHY -> UNHEALTHY|"));
	assert_non_null(strstr(ev, "\"to\":\"UNHEALTHY\""));
	pt_recorder_unlock(f->rec);
	/* unchanged: no new event */
	if (collect(f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(pt_recorder_n_events(f->rec), 1);
}

static void bad_credentials_are_reported_as_auth(void **state)
{
	struct provider_fx *f = *state;
	struct pane_err err = {0};
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "sources:\n  supabase:\n    project_ref: abcdefghijklmnopqrst\n    access_token: ${PT_SB_BAD}\n"
	         "    service_role_key: ${PT_SB_BAD}\n    api_url: ${PT_SB_API}\n    metrics_url: ${PT_SB_METRICS}\n"
	         "    requests_per_minute: 0\n");
	f->cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), &err);
	struct pane_sources_opts o = {
	    .cfg = f->cfg, .section = pane_cfg_get(f->cfg->root, "sources"), .pipeline = f->p, .data_dir = f->dir};
	f->ss = pane_sources_new(&o, &err);
	assert_non_null(f->ss);
	assert_int_equal(collect(f, &err), PANE_EPERM);
	assert_non_null(strstr(err.msg, "HTTP 401"));
	assert_null(strstr(err.msg, "sbp_wrong"));
	struct pane_source_status st;
	pane_sources_status(f->ss, "supabase", &st);
	assert_string_equal(st.last_reason, "auth");
	assert_int_equal(fake_count(&fk, "/privileged/metrics", 401), 1);
}

static void config_mistakes_fail_at_start(void **state)
{
	struct provider_fx *f = *state;
	struct pane_err err = {0};
	static const char *const bad[][2] = {
	    {"    project_ref: short\n    access_token: ${PT_SB_TOKEN}\n    metrics: false\n", "20 lower-case letters"},
	    {"    project_ref: abcdefghijklmnopqrst\n    access_token: sbp_literal\n", "only from the environment"},
	    {"    project_ref: abcdefghijklmnopqrst\n    metrics: false\n", "access_token is required"},
	    {"    project_ref: abcdefghijklmnopqrst\n    access_token: ${PT_SB_TOKEN}\n",
	     "service_role_key is required"},
	    {"    project_ref: abcdefghijklmnopqrst\n    access_token: ${PT_SB_TOKEN}\n    metrics: false\n"
	     "    log_sources: [\"edge_logs'; drop\"]\n",
	     "not a log source name"},
	    {"    project_ref: abcdefghijklmnopqrst\n    access_token: ${PT_SB_TOKEN}\n    metrics: false\n"
	     "    logs_endpoint: newest\n",
	     "auto, logs or logs.all"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char yaml[1024];
		snprintf(yaml, sizeof yaml, "sources:\n  supabase:\n%s", bad[i][0]);
		struct pane_cfg *cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), &err);
		assert_non_null(cfg);
		struct pane_sources_opts o = {
		    .cfg = cfg, .section = pane_cfg_get(cfg->root, "sources"), .pipeline = f->p};
		assert_null(pane_sources_new(&o, &err));
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i][1]);
		assert_non_null(strstr(err.msg, "pane.yaml:"));
		pane_cfg_free(cfg);
	}
}

static void a_slow_source_delays_no_other(void **state)
{
	struct provider_fx *f = *state;
	/* "slow" waits 60 s for its metrics; "fast" polls health every second */
	free_post("/__fake/config", "{\"slow_ms\":{\"metrics/slow\":60000}}");
	struct pane_err err = {0};
	const char *yaml =
	    "sources:\n"
	    "  slow:\n    type: supabase\n    project_ref: abcdefghijklmnopqrst\n    service_role_key: ${PT_SB_KEY}\n"
	    "    metrics_url: ${PT_SB_METRICS_SLOW}\n    logs: false\n    health: false\n    usage: false\n"
	    "    advisors: false\n    disk: false\n    functions: false\n"
	    "    timeout: 120s\n    interval: 1s\n"
	    "  fast:\n    type: supabase\n    project_ref: abcdefghijklmnopqrst\n    access_token: ${PT_SB_TOKEN}\n"
	    "    api_url: ${PT_SB_API}\n    metrics: false\n    logs: false\n    usage: false\n    interval: 1s\n"
	    "    requests_per_minute: 0\n";
	f->cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), &err);
	struct pane_sources_opts o = {
	    .cfg = f->cfg, .section = pane_cfg_get(f->cfg->root, "sources"), .pipeline = f->p, .data_dir = f->dir};
	f->ss = pane_sources_new(&o, &err);
	assert_non_null(f->ss);
	assert_int_equal(pane_sources_start(f->ss, &err), 0);
	struct pane_source_status fast, slow;
	for (int i = 0; i < 600; i++) { /* until fast has collected 3 times (bounded poll) */
		pane_sources_status(f->ss, "fast", &fast);
		if (fast.collections >= 3)
			break;
		pane_sleep_ms(50);
	}
	pane_sources_status(f->ss, "slow", &slow);
	assert_true(fast.collections >= 3);
	assert_true(fast.up);
	assert_int_equal(slow.collections, 0); /* still inside its first request */
	assert_int_equal(fake_count(&fk, "/privileged/metrics/slow", 0), 0);
	/* stopping interrupts the slow transfer (the test would hang otherwise) */
	pane_sources_free(f->ss);
	f->ss = NULL;
	assert_true(pt_recorder_count(f->rec, "supabase_service_healthy", "service", "fast", NULL) >= 3 * 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(pages_logs_health_usage_and_metrics, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(restart_neither_skips_nor_duplicates, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(a_provider_ignoring_the_window_repeats_nothing, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(an_old_cursor_stays_inside_the_24h_window, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(a_refusing_store_holds_the_cursor, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(gone_legacy_endpoint_moves_to_unified, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(metrics_carry_the_project_ref, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(auto_uses_legacy_where_unified_is_missing, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(sql_error_with_http_200_is_an_error, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(rate_limit_headers_are_respected, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(too_many_requests_are_retried_then_given_up, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(server_errors_fail_one_part_not_the_others, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(a_missing_usage_endpoint_leaves_the_source_up, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(advisors_and_disk, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(edge_functions, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(malformed_bodies_mark_the_source_down, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(health_changes_become_events, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(bad_credentials_are_reported_as_auth, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(config_mistakes_fail_at_start, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(a_slow_source_delays_no_other, each_setup, each_teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
