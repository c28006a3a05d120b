/* test_sentry.c - the Sentry source in-process (recorder as the primary
 * sink) over real HTTP against tests/fakes/sentry_fake.py: Link-header
 * paging, unresolved gauges, new/regressed/resolved events with count
 * parsed from its string, restarts without repeats, stats_v2 counters,
 * events-timeseries p50/p95/throughput (and plans without it), releases,
 * X-Sentry-Rate-Limit-* headers and a 429 with a bare JSON string body,
 * self-hosted Sentry without rate-limit headers, and the faults: bad
 * token (no retry storm), 5xx bursts, truncated JSON, an endless cursor, a
 * 50 MB response and a skewed clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "config/config.h"
#include "evrec.h"
#include "provider.h"
#include "pipeline/pipeline.h"
#include "recorder.h"
#include "sources/sources.h"
#include "support.h"

static struct fakectl fk;
static const char *token_env = "PT_SENTRY_TOKEN";

static int group_setup(void **state)
{
	(void)state;
	fake_start(&fk, "sentry_fake.py", NULL);
	setenv("PT_SENTRY_TOKEN", "sntrys_test", 1);
	setenv("PT_SENTRY_BAD", "sntrys_wrong", 1);
	setenv("PT_SENTRY_URL", fk.base, 1);
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
	struct provider_fx *f = provider_new("sentry", &fk);
	free(fake_post(&fk, "/__fake/config", "{\"self_hosted\": false}"));
	*state = f;
	return 0;
}

static int each_teardown(void **state)
{
	provider_free(*state);
	return 0;
}

static void start(struct provider_fx *f, const char *extra)
{
	char yaml[4096];
	snprintf(yaml, sizeof yaml,
	         "sources:\n  sentry:\n    auth_token: ${%s}\n    url: ${PT_SENTRY_URL}\n    organization: acme\n"
	         "    requests_per_minute: 0\n    timeout: 10s\n    environment: test\n    max_rate_wait: 10s\n%s",
	         token_env, extra ? extra : "");
	provider_start(f, yaml);
}

static int collect(struct provider_fx *f, struct pane_err *err)
{
	return provider_collect(f, err);
}

static void collect_ok(struct provider_fx *f)
{
	struct pane_err err;
	if (collect(f, &err) < 0)
		fail_msg("collect: %s (%s)", err.msg, err.detail);
}

static int64_t unresolved(void)
{
	char *s = fake_post(&fk, "/__fake/state", "{}");
	json_t *j = json_loads(s, 0, NULL);
	free(s);
	int64_t n = json_integer_value(json_object_get(j, "unresolved"));
	json_decref(j);
	return n;
}

static double partial(struct provider_fx *f, const char *reason)
{
	return pt_recorder_last(f->rec, "pane_source_partial_errors_total", "source", "sentry", "reason", reason, NULL);
}

/* The sum of the sentry_issues gauges of the last collection. */
static double gauge_sum(struct pt_recorder *r)
{
	double sum = 0;
	pt_recorder_lock(r);
	for (size_t i = 0; i < r->n_samples; i++)
		if (strcmp(r->samples[i].name, "sentry_issues") == 0)
			sum += r->samples[i].value;
	pt_recorder_unlock(r);
	return sum;
}

static void issues_page_by_link_and_become_gauges_and_events(void **state)
{
	struct provider_fx *f = *state;
	int64_t n = unresolved();
	assert_true(n > 150);
	start(f, "    page_size: 40\n    stats: false\n    performance: false\n    releases: false\n");
	collect_ok(f);
	struct pt_recorder *r = f->rec;
	assert_int_equal(fake_count(&fk, "/issues/", 200), (size_t)((n + 39) / 40));
	assert_true(pt_recorder_last(r, "sentry_issues_unresolved_total", NULL) == (double)n);
	assert_true(gauge_sum(r) == (double)n);
	assert_true(pt_recorder_count(r, "sentry_issues", "project", "pump-station", "level", "error", "status",
	                              "unresolved", "substatus", "ongoing", "provider", "sentry", "environment", "test",
	                              NULL) == 1);
	assert_true(pt_recorder_count(r, "sentry_issues", "substatus", "regressed", NULL) >= 1);
	/* every unresolved issue seen within the lookback is news once */
	assert_int_equal(evrec_count(f->ev, "issue", "status", "new", NULL), (size_t)n);
	const struct rec_event *e = evrec_find(f->ev, "issue", "short_id", "PUMP-STATION-3EC", NULL);
	assert_non_null(e); /* id 1004 = the fourth issue, i = 3 */
	assert_string_equal(e->url, "https://acme.sentry.io/issues/1004/");
	assert_string_equal(pane_labels_get(&e->labels, "project"), "pump-station");
	json_t *b = json_loads(e->body_json, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(b, "count")), 121); /* "121" in the API */
	assert_int_equal(json_integer_value(json_object_get(b, "userCount")), 3);
	assert_string_equal(json_string_value(json_object_get(b, "culprit")), "app.views in handler_3");
	assert_string_equal(json_string_value(json_object_get(b, "title")), "ValueError: bad value 3");
	json_decref(b);
	assert_true(pt_recorder_last(r, "pane_source_up", "source", "sentry", NULL) == 1);

	/* lifecycle: a new issue, a regression, a resolution */
	evrec_clear(f->ev);
	char *s = fake_post(&fk, "/__fake/issue",
	                    "{\"action\":\"new\",\"project\":\"billing\",\"level\":\"fatal\","
	                    "\"title\":\"OOM in worker\"}");
	json_t *iss = json_loads(s, 0, NULL);
	free(s);
	const char *new_id = json_string_value(json_object_get(iss, "id"));
	char body[128];
	snprintf(body, sizeof body, "{\"action\":\"regress\",\"id\":\"1002\"}");
	free(fake_post(&fk, "/__fake/issue", body));
	free(fake_post(&fk, "/__fake/issue", "{\"action\":\"resolve\",\"id\":\"1001\"}"));
	free(fake_post(&fk, "/__fake/issue", "{\"action\":\"delete\",\"id\":\"1004\"}"));
	collect_ok(f);
	assert_int_equal(evrec_count(f->ev, "issue", "status", "new", "issue_id", new_id, "project", "billing", "level",
	                             "fatal", NULL),
	                 1);
	assert_int_equal(evrec_count(f->ev, "issue", "status", "regressed", "issue_id", "1002", NULL), 1);
	assert_int_equal(evrec_count(f->ev, "issue", "status", "resolved", "issue_id", "1001", NULL), 1);
	assert_int_equal(evrec_count(f->ev, "issue", "status", "resolved", "issue_id", "1004", NULL), 0); /* deleted */
	assert_int_equal(evrec_n(f->ev), 3);
	json_decref(iss);
	assert_true(pt_recorder_last(r, "sentry_issues_unresolved_total", NULL) == (double)unresolved());

	/* a restart announces nothing again */
	start(f, "    page_size: 40\n    stats: false\n    performance: false\n    releases: false\n");
	collect_ok(f);
	assert_int_equal(evrec_n(f->ev), 3);
}

/* A plan (or a token scope) without the projects list: the source stays up
 * while its core parts work, and says which part is unavailable (issue 19,
 * finding 6). */
static void a_missing_optional_endpoint_leaves_the_source_up(void **state)
{
	struct provider_fx *f = *state;
	int64_t n = unresolved();
	free(
	    fake_post(&fk, "/__fake/config",
	              "{\"faults\": [{\"path\": \"/organizations/acme/projects/\", \"status\": 404, \"count\": -1}]}"));
	start(f, "    page_size: 100\n    performance: false\n    releases: false\n");
	collect_ok(f);
	struct pt_recorder *r = f->rec;
	assert_true(pt_recorder_last(r, "pane_source_up", "source", "sentry", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_source_part_up", "source", "sentry", "part", "projects", NULL) == 0);
	assert_true(pt_recorder_last(r, "pane_source_part_unavailable", "source", "sentry", "part", "projects", NULL) ==
	            1);
	assert_true(pt_recorder_last(r, "pane_source_part_up", "source", "sentry", "part", "issues", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_source_part_up", "source", "sentry", "part", "stats", NULL) == 1);
	assert_true(pt_recorder_last(r, "sentry_issues_unresolved_total", NULL) == (double)n);
	struct pane_source_status st;
	pane_sources_status(f->ss, "sentry", &st);
	assert_true(st.up);
	bool seen = false;
	for (size_t i = 0; i < st.n_parts; i++)
		if (strcmp(st.parts[i].name, "projects") == 0)
			seen = st.parts[i].unavailable && !st.parts[i].up;
	assert_true(seen);
	/* a core part that fails still takes the source down */
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/organizations/acme/issues/\", \"status\": 404, \"count\": -1}]}"));
	struct pane_err err;
	assert_true(collect(f, &err) < 0);
	assert_true(pt_recorder_last(r, "pane_source_up", "source", "sentry", NULL) == 0);
	assert_true(pt_recorder_last(r, "pane_source_part_up", "source", "sentry", "part", "issues", NULL) == 0);
}

/* Cron monitors: status per environment, failed/missed/timed-out check-ins
 * as events (paged newest first past a short page), each once across
 * collections and restarts. Release health from sessions/. */
static void monitors_and_release_health(void **state)
{
	struct provider_fx *f = *state;
	const char *yaml =
	    "    issues: false\n    stats: false\n    performance: false\n    releases: false\n    lookback: 48h\n";
	start(f, yaml);
	collect_ok(f);
	struct pt_recorder *r = f->rec;
	/* 30 hourly check-ins each, 25 a page: two pages per monitor */
	assert_int_equal(fake_count(&fk, "/checkins/", 200), 4);
	assert_int_equal(evrec_count(f->ev, "cron_checkin", NULL), 3);
	assert_int_equal(evrec_count(f->ev, "cron_checkin", "monitor", "nightly-backup", "status", "missed", NULL), 1);
	assert_int_equal(evrec_count(f->ev, "cron_checkin", "monitor", "nightly-backup", "status", "error", NULL), 1);
	assert_int_equal(evrec_count(f->ev, "cron_checkin", "monitor", "invoice-run", "status", "timeout", "project",
	                             "billing", NULL),
	                 1);
	assert_true(pt_recorder_last(r, "sentry_monitor_ok", "monitor", "nightly-backup", "sentry_environment",
	                             "production", NULL) == 1);
	/* release health */
	assert_true(pt_recorder_last(r, "sentry_release_sessions", "project", "pump-station", "release", "1.11.0",
	                             NULL) == 500);
	double cf = pt_recorder_last(r, "sentry_release_crash_free_sessions_ratio", "release", "1.11.0", NULL);
	assert_true(fabs(cf - 0.9) < 1e-9);
	cf = pt_recorder_last(r, "sentry_release_crash_free_users_ratio", "release", "1.10.0", NULL);
	assert_true(fabs(cf - 0.98) < 1e-9);
	assert_int_equal(pt_recorder_count(r, "sentry_release_sessions", "release", "1.9.0", NULL), 0); /* nulls */
	assert_true(pt_recorder_last(r, "pane_source_part_up", "part", "monitors", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_source_part_up", "part", "sessions", NULL) == 1);

	/* again, and after a restart: only the newest page is read, nothing repeats */
	size_t before = fake_count(&fk, "/checkins/", 200);
	collect_ok(f);
	assert_int_equal(fake_count(&fk, "/checkins/", 200), before + 2);
	start(f, yaml);
	collect_ok(f);
	assert_int_equal(evrec_count(f->ev, "cron_checkin", NULL), 3);
	/* a new missed check-in: announced once; the monitor is not ok */
	free(fake_post(&fk, "/__fake/checkin", "{\"monitor\":\"invoice-run\",\"status\":\"missed\"}"));
	free(fake_post(&fk, "/__fake/checkin", "{\"monitor\":\"invoice-run\",\"status\":\"ok\"}"));
	free(fake_post(&fk, "/__fake/checkin", "{\"monitor\":\"invoice-run\",\"status\":\"missed\"}"));
	collect_ok(f);
	start(f, yaml);
	collect_ok(f);
	assert_int_equal(evrec_count(f->ev, "cron_checkin", "monitor", "invoice-run", "status", "missed", NULL), 2);
	assert_true(pt_recorder_last(r, "sentry_monitor_ok", "monitor", "invoice-run", NULL) == 0);
	assert_true(pt_recorder_last(r, "sentry_monitor_status", "monitor", "invoice-run", "status", "missed_checkin",
	                             NULL) == 1);
}

static void event_rates_become_counters(void **state)
{
	struct provider_fx *f = *state;
	/* without the issue walk: project slugs come from the projects list */
	start(f, "    issues: false\n    performance: false\n    releases: false\n");
	collect_ok(f);
	struct pt_recorder *r = f->rec;
	assert_int_equal(pt_recorder_count(r, "sentry_project_info", NULL), 3);
	assert_int_equal(pt_recorder_count(r, "sentry_project_info", "project", "billing", "project_id", "5",
	                                   "platform", "unknown", NULL),
	                 1);
	size_t n = pt_recorder_count(r, "sentry_events_total", "project", "pump-station", "category", "error",
	                             "outcome", "accepted", NULL);
	assert_true(n >= 22 && n <= 24); /* the complete hours of the last day */
	/* a counter: never decreasing, stamped at the end of its bucket */
	pt_recorder_lock(r);
	double last = -1;
	int64_t last_ts = 0;
	for (size_t i = 0; i < r->n_samples; i++) {
		const struct pt_rec_sample *s = &r->samples[i];
		if (strcmp(s->name, "sentry_events_total") != 0 ||
		    strcmp(pane_labels_get(&s->labels, "project"), "pump-station") != 0 ||
		    strcmp(pane_labels_get(&s->labels, "category"), "error") != 0 ||
		    strcmp(pane_labels_get(&s->labels, "outcome"), "accepted") != 0)
			continue;
		assert_true(s->value > last);
		assert_true(s->ts_ms > last_ts && s->ts_ms % 3600000 == 0);
		assert_true(s->ts_ms <= pane_wall_ms());
		last = s->value, last_ts = s->ts_ms;
	}
	pt_recorder_unlock(r);
	assert_true(pt_recorder_count(r, "sentry_events_total", "category", "transaction", NULL) > 0);
	/* a second collection (and a restart) adds no bucket twice */
	collect_ok(f);
	start(f, "    issues: false\n    performance: false\n    releases: false\n");
	collect_ok(f);
	size_t n2 = pt_recorder_count(r, "sentry_events_total", "project", "pump-station", "category", "error",
	                              "outcome", "accepted", NULL);
	assert_true(n2 <= n + 1); /* at most an hour that completed meanwhile */
}

static void performance_series_where_the_plan_allows(void **state)
{
	struct provider_fx *f = *state;
	start(f, "    issues: false\n    stats: false\n    releases: false\n    transactions_top: 2\n");
	collect_ok(f);
	struct pt_recorder *r = f->rec;
	double p95 = pt_recorder_last(r, "sentry_transaction_duration_seconds", "transaction", "GET /api/orders",
	                              "quantile", "0.95", NULL);
	assert_true(p95 >= 0.120 && p95 < 0.130); /* 120..129 ms in the fake */
	double p50 = pt_recorder_last(r, "sentry_transaction_duration_seconds", "transaction", "POST /api/checkout",
	                              "quantile", "0.5", NULL);
	assert_true(p50 >= 0.050 && p50 < 0.060);
	assert_int_equal(
	    pt_recorder_count(r, "sentry_transaction_duration_seconds", "transaction", "GET /health", NULL), 0);
	assert_true(pt_recorder_count(r, "sentry_transaction_throughput_per_minute", "transaction", "GET /api/orders",
	                              NULL) >= 20);
	assert_true(pt_recorder_last(r, "sentry_performance_available", NULL) == 1);
	/* incomplete buckets are not written: nothing from the current hour */
	pt_recorder_lock(r);
	for (size_t i = 0; i < r->n_samples; i++)
		if (strncmp(r->samples[i].name, "sentry_transaction", 18) == 0)
			assert_true(r->samples[i].ts_ms + 3600000 <= pane_wall_ms());
	pt_recorder_unlock(r);

	free(fake_post(&fk, "/__fake/config", "{\"performance\": \"forbidden\"}"));
	collect_ok(f);
	assert_true(pt_recorder_last(r, "sentry_performance_available", NULL) == 0);
	assert_true(pt_recorder_last(r, "pane_source_up", "source", "sentry", NULL) == 1);
	free(fake_post(&fk, "/__fake/config", "{\"performance\": \"absent\"}"));
	collect_ok(f);
	assert_true(pt_recorder_last(r, "sentry_performance_available", NULL) == 0);
}

static void releases_become_events_once(void **state)
{
	struct provider_fx *f = *state;
	start(f, "    issues: false\n    stats: false\n    performance: false\n");
	collect_ok(f);
	assert_int_equal(evrec_count(f->ev, "release", NULL), 12);
	const struct rec_event *e = evrec_find(f->ev, "release", "version", "1.11.0", NULL);
	assert_non_null(e);
	assert_string_equal(pane_labels_get(&e->labels, "project"), "billing");
	assert_non_null(strstr(e->url, "/organizations/acme/releases/1.11.0/"));
	assert_non_null(strstr(e->body_json, "\"commit_message\":\"release 1.11.0\""));
	int64_t at = (pane_wall_ms() / 1000) * 1000 - 120000;
	char t[40], body[160];
	pane_time_format(at, t, sizeof t);
	snprintf(body, sizeof body, "{\"version\":\"2.0.0+build.7\",\"at\":\"%s\",\"project\":\"billing\"}", t);
	free(fake_post(&fk, "/__fake/release", body));
	start(f, "    issues: false\n    stats: false\n    performance: false\n");
	collect_ok(f);
	assert_int_equal(evrec_count(f->ev, "release", NULL), 13);
	e = evrec_find(f->ev, "release", "version", "2.0.0+build.7", NULL);
	assert_non_null(e);
	assert_int_equal(e->ts_ms, at + 60000); /* dateReleased */
	assert_string_equal(e->dedup_key, "2.0.0+build.7");
}

static void rate_limits_are_respected(void **state)
{
	struct provider_fx *f = *state;
	free(fake_post(&fk, "/__fake/config", "{\"rate_limit\": 3, \"rate_window\": 1}"));
	start(f, "    page_size: 100\n    releases: false\n    performance: false\n");
	collect_ok(f);
	assert_int_equal(fake_count(&fk, "", 429), 0); /* waited on X-Sentry-Rate-Limit-Remaining: 0 */
	assert_true(pt_recorder_last(f->rec, "sentry_issues_unresolved_total", NULL) == (double)unresolved());

	/* a 429 with Sentry's body (a bare JSON string) and no Retry-After */
	free(fake_post(&fk, "/__fake/config",
	               "{\"rate_limit\": 0, \"faults\": [{\"path\": \"/issues/\", \"status\": 429, \"count\": 1,"
	               " \"body\": \"\\\"You are attempting to use this endpoint too frequently. Limit is 40 requests"
	               " in 1 seconds\\\"\"}]}"));
	collect_ok(f);
	assert_int_equal(fake_count(&fk, "/issues/", 429), 1);
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/issues/\", \"status\": 429, \"count\": -1,"
	               " \"body\": \"\\\"You are attempting to use this endpoint too frequently.\\\"\"}]}"));
	struct pane_err err;
	size_t before = fake_count(&fk, "/issues/", 0);
	assert_int_equal(collect(f, &err), PANE_EAGAIN);
	assert_int_equal(fake_count(&fk, "/issues/", 0) - before, 3);
	assert_non_null(strstr(err.msg, "too frequently"));
	struct pane_source_status st;
	pane_sources_status(f->ss, "sentry", &st);
	assert_string_equal(st.last_reason, "rate_limited");
}

static void self_hosted_without_rate_limit_headers(void **state)
{
	struct provider_fx *f = *state;
	free(fake_post(&fk, "/__fake/config", "{\"self_hosted\": true, \"rate_limit\": 2, \"rate_window\": 60}"));
	start(f, "    page_size: 50\n");
	collect_ok(f);
	assert_int_equal(fake_count(&fk, "", 429), 0);
	assert_true(fake_count(&fk, "", 200) > 2);
	assert_true(pt_recorder_last(f->rec, "sentry_issues_unresolved_total", NULL) == (double)unresolved());
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "sentry", NULL) == 1);
}

static void bad_token_fails_fast(void **state)
{
	struct provider_fx *f = *state;
	token_env = "PT_SENTRY_BAD";
	start(f, NULL);
	token_env = "PT_SENTRY_TOKEN";
	struct pane_err err;
	assert_int_equal(collect(f, &err), PANE_EPERM);
	assert_int_equal(collect(f, &err), PANE_EPERM);
	assert_int_equal(fake_count(&fk, "", 0), 2); /* one request per collection */
	struct pane_source_status st;
	pane_sources_status(f->ss, "sentry", &st);
	assert_string_equal(st.last_reason, "auth");
	assert_non_null(strstr(err.detail, "token"));
}

static void faults_leave_the_source_down_or_partial(void **state)
{
	struct provider_fx *f = *state;
	struct pane_err err;
	struct pane_source_status st;
	/* a 5xx burst inside the retries: fine */
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/issues/\", \"status\": 502, \"count\": 2}]}"));
	start(f, "    stats: false\n    performance: false\n    releases: false\n");
	collect_ok(f);
	assert_int_equal(fake_count(&fk, "/issues/", 502), 2);
	/* a longer one: down, reason http; the next collection recovers */
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/issues/\", \"status\": 500, \"count\": 3}]}"));
	assert_int_equal(collect(f, &err), PANE_EHTTP);
	pane_sources_status(f->ss, "sentry", &st);
	assert_string_equal(st.last_reason, "http");
	collect_ok(f);

	/* truncated JSON */
	free(fake_post(&fk, "/__fake/config", "{\"faults\": [{\"path\": \"/issues/\", \"kind\": \"truncated\"}]}"));
	assert_int_equal(collect(f, &err), PANE_EINVAL);
	pane_sources_status(f->ss, "sentry", &st);
	assert_string_equal(st.last_reason, "malformed");

	/* an endless cursor */
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/issues/\", \"kind\": \"loop\", \"count\": -1}]}"));
	start(
	    f,
	    "    stats: false\n    performance: false\n    releases: false\n    page_size: 10\n    max_pages: 1000\n");
	size_t before = fake_count(&fk, "/issues/", 0);
	collect_ok(f);
	assert_int_equal(fake_count(&fk, "/issues/", 0) - before, 2);
	assert_true(partial(f, "cursor_loop") == 1);

	/* 50 MB */
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/issues/\", \"kind\": \"huge\", \"mb\": 50, \"count\": 1}]}"));
	start(f, "    stats: false\n    performance: false\n    releases: false\n    max_response: 2MiB\n");
	assert_int_equal(collect(f, &err), PANE_ETOOBIG);
	pane_sources_status(f->ss, "sentry", &st);
	assert_string_equal(st.last_reason, "too_big");
	collect_ok(f);
}

static void skewed_clock_is_clamped_and_counted(void **state)
{
	struct provider_fx *f = *state;
	free(fake_post(&fk, "/__fake/config", "{\"skew_s\": 7200}"));
	start(f, NULL);
	collect_ok(f);
	int64_t after = pane_wall_ms();
	assert_true(evrec_count(f->ev, "issue", NULL) > 100);
	int64_t max_ts = 0;
	char what[256] = "";
	evrec_lock(f->ev);
	for (size_t i = 0; i < evrec_n(f->ev); i++)
		if (evrec_at(f->ev, i)->ts_ms > max_ts) {
			max_ts = evrec_at(f->ev, i)->ts_ms;
			snprintf(what, sizeof what, "%s", evrec_at(f->ev, i)->title);
		}
	evrec_unlock(f->ev);
	if (max_ts > after + 5 * 60000) /* nothing two hours ahead (max_clock_skew is 5m) */
		fail_msg("event '%s' at %lld, after %lld", what, (long long)max_ts, (long long)after);
	assert_true(pt_recorder_last(f->rec, "pane_source_skewed_records_total", "source", "sentry", NULL) > 0);
	assert_true(partial(f, "clock_skew") > 0);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "sentry", NULL) == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(a_missing_optional_endpoint_leaves_the_source_up, each_setup,
	                                    each_teardown),
	    cmocka_unit_test_setup_teardown(monitors_and_release_health, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(issues_page_by_link_and_become_gauges_and_events, each_setup,
	                                    each_teardown),
	    cmocka_unit_test_setup_teardown(event_rates_become_counters, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(performance_series_where_the_plan_allows, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(releases_become_events_once, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(rate_limits_are_respected, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(self_hosted_without_rate_limit_headers, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(bad_token_fails_fast, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(faults_leave_the_source_down_or_partial, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(skewed_clock_is_clamped_and_counted, each_setup, each_teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
