/* test_render.c - the Render source in-process (recorder as the primary
 * sink) over real HTTP against tests/fakes/render_fake.py: service paging,
 * info series, deploy events with the right timestamps, logs paged by time
 * window and resumed across restarts without gaps or duplicates, metrics
 * with service/instance labels, rate limits and 429, and every fault:
 * bad key (no retry storm), 403, a deleted service, 5xx bursts, truncated
 * JSON, an endless cursor, a 50 MB response and a skewed clock. */
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
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/map.h"
#include "config/config.h"
#include "evrec.h"
#include "provider.h"
#include "pipeline/pipeline.h"
#include "recorder.h"
#include "sources/sources.h"
#include "support.h"

static struct fakectl fk;
static const char *key_env = "PT_RENDER_KEY";
static const char *timeout = "10s";

#define SVC0 "srv-d0000000000000000000"
#define SVC1 "srv-d0000000000000000001"
#define NLOGS 250

static int group_setup(void **state)
{
	(void)state;
	fake_start(&fk, "render_fake.py", NULL);
	setenv("PT_RENDER_KEY", "rnd_test", 1);
	setenv("PT_RENDER_BAD", "rnd_wrong", 1);
	char api[128];
	snprintf(api, sizeof api, "%s/v1", fk.base);
	setenv("PT_RENDER_API", api, 1);
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
	struct provider_fx *f = provider_new("render", &fk);
	*state = f;
	return 0;
}

static int each_teardown(void **state)
{
	provider_free(*state);
	return 0;
}

/* (Re)starts the sources (a pane restart), keeping recorder and data dir. */
static void start(struct provider_fx *f, const char *extra)
{
	char yaml[4096];
	snprintf(yaml, sizeof yaml,
	         "sources:\n  render:\n    api_key: ${%s}\n    api_url: ${PT_RENDER_API}\n"
	         "    requests_per_minute: 0\n    timeout: %s\n    log_lookback: 1h\n    environment: test\n"
	         "    max_rate_wait: 10s\n%s",
	         key_env, timeout, extra ? extra : "");
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

/* Every recorded log id exactly once; returns the number of distinct ids. */
static size_t distinct_logs(struct pt_recorder *r)
{
	struct pane_map seen;
	pane_map_init(&seen, NULL);
	pt_recorder_lock(r);
	for (size_t i = 0; i < r->n_logs; i++) {
		json_t *fj = json_loads(r->logs[i].fields_json, 0, NULL);
		const char *id = json_string_value(json_object_get(fj, "id"));
		assert_non_null(id);
		if (pane_map_gets(&seen, id))
			fail_msg("log %s delivered twice", id);
		pane_map_puts(&seen, id, (void *)1);
		json_decref(fj);
	}
	pt_recorder_unlock(r);
	size_t n = seen.len;
	pane_map_release(&seen);
	return n;
}

/* Number of distinct series (instances, datastores) of render_cpu_usage_cores. */
static size_t cpu_series(struct pt_recorder *r)
{
	struct pane_map seen;
	pane_map_init(&seen, NULL);
	pt_recorder_lock(r);
	for (size_t i = 0; i < r->n_samples; i++)
		if (!strcmp(r->samples[i].name, "render_cpu_usage_cores")) {
			/* services per instance; a datastore is one series */
			const char *inst = pane_labels_get(&r->samples[i].labels, "instance");
			if (!inst)
				inst = pane_labels_get(&r->samples[i].labels, "service_id");
			assert_non_null(inst);
			pane_map_puts(&seen, inst, (void *)1);
		}
	pt_recorder_unlock(r);
	size_t n = seen.len;
	pane_map_release(&seen);
	return n;
}

static double partial(struct provider_fx *f, const char *reason)
{
	return pt_recorder_last(f->rec, "pane_source_partial_errors_total", "source", "render", "reason", reason, NULL);
}

static void pages_services_deploys_logs_and_metrics(void **state)
{
	struct provider_fx *f = *state;
	start(f, "    page_size: 2\n    log_page_size: 40\n    log_max_pages: 100\n");
	collect_ok(f);
	struct pt_recorder *r = f->rec;

	/* 7 services in pages of 2: 4 requests and the empty page that ends the list */
	assert_int_equal(fake_count(&fk, "/v1/services", 200), 5);
	assert_int_equal(pt_recorder_count(r, "render_service_info", "provider", "render", "environment", "test", NULL),
	                 7);
	assert_int_equal(pt_recorder_count(r, "render_service_info", "service", "svc-0", "service_id", SVC0, "type",
	                                   "web_service", "region", "oregon", "plan", "starter", "suspended",
	                                   "not_suspended", NULL),
	                 1);
	assert_int_equal(
	    pt_recorder_count(r, "render_service_info", "service", "svc-5", "suspended", "suspended", NULL), 1);
	/* a static site has no region or plan: the labels are absent, not empty */
	assert_int_equal(pt_recorder_count(r, "render_service_info", "service", "svc-4", "type", "static_site",
	                                   "region", NULL, "plan", NULL, NULL),
	                 1);
	assert_true(pt_recorder_last(r, "render_services", NULL) == 7);

	/* logs: 250 lines over 50 minutes in pages of 40, every one once */
	assert_int_equal(distinct_logs(r), NLOGS);
	assert_true(fake_count(&fk, "/v1/logs", 200) >= NLOGS / 40);
	assert_true(pt_recorder_count_logs(r, "service", "svc-0") > 0);
	pt_recorder_lock(r);
	bool checked = false;
	for (size_t i = 0; i < r->n_logs; i++) {
		const struct pt_rec_log *l = &r->logs[i];
		const char *lvl = pane_labels_get(&l->labels, "level");
		assert_non_null(pane_labels_get(&l->labels, "instance"));
		assert_non_null(lvl);
		assert_non_null(pane_labels_get(&l->labels, "type"));
		assert_string_equal(pane_labels_get(&l->labels, "provider"), "render");
		if (strcmp(lvl, "error") == 0) {
			assert_int_equal(l->severity, PANE_SEV_ERROR);
			checked = true;
		}
		if (strcmp(pane_labels_get(&l->labels, "type"), "request") == 0)
			assert_non_null(strstr(l->fields_json, "\"statusCode\""));
	}
	pt_recorder_unlock(r);
	assert_true(checked);

	/* deploys: the newest of each service is live */
	assert_int_equal(pt_recorder_count(r, "render_deploy_status", "service", "svc-0", "status", "live", NULL), 1);
	assert_true(evrec_count(f->ev, "deploy", "service", "svc-0", "status", "live", NULL) == 1);
	assert_true(evrec_count(f->ev, "deploy", "service", "svc-0", "status", "deactivated", NULL) == 3);

	/* metrics: per instance, with service labels and converted units */
	assert_true(pt_recorder_count(r, "render_cpu_usage_cores", "service", "svc-0", "service_id", SVC0, "instance",
	                              SVC0 "-7d9fx", NULL) >= 5);
	assert_true(pt_recorder_count(r, "render_cpu_usage_cores", "instance", SVC0 "-k2p4q", NULL) >= 5);
	assert_true(pt_recorder_count(r, "render_memory_usage_bytes", "service", "svc-0", NULL) >= 5);
	assert_true(pt_recorder_last(r, "render_memory_limit_bytes", "service", "svc-0", NULL) == 512e6);
	double p95 = pt_recorder_last(r, "render_http_latency_seconds", "service", "svc-0", "quantile", "0.95", NULL);
	assert_true(p95 >= 0.020 && p95 < 0.030); /* 20..28 ms in the fake */
	assert_true(pt_recorder_count(r, "render_http_latency_seconds", "quantile", "0.5", NULL) >= 5);
	assert_true(pt_recorder_count(r, "render_http_requests", "service", "svc-0", "status_code", "502", NULL) >= 5);
	assert_true(pt_recorder_count(r, "render_bandwidth_bytes", "service", "svc-4", NULL) >= 5); /* static site */
	assert_true(pt_recorder_last(r, "render_instance_count", "service", "svc-0", NULL) == 2);
	/* a worker has no HTTP metrics; a suspended service no metrics at all */
	assert_int_equal(pt_recorder_count(r, "render_http_requests", "service", "svc-1", NULL), 0);
	assert_int_equal(pt_recorder_count(r, "render_cpu_usage_cores", "service", "svc-5", NULL), 0);
	assert_true(pt_recorder_last(r, "pane_source_up", "source", "render", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_source_partial", "source", "render", NULL) == 0);

	/* a second collection repeats no metric point and no log line */
	size_t cpu = pt_recorder_count(r, "render_cpu_usage_cores", NULL);
	collect_ok(f);
	assert_int_equal(distinct_logs(r), NLOGS);
	/* at most one new point per series: the next minute, when a minute boundary fell in between */
	assert_true(pt_recorder_count(r, "render_cpu_usage_cores", NULL) <= cpu + cpu_series(r));
}

/* The spec makes `limit` a maximum: the fake answers pages of at most 3 items
 * whatever the limit, and only an empty page ends a list. Every service and
 * every deploy is found (issue 19, findings 1 and 2). */
static void short_pages_do_not_end_lists(void **state)
{
	struct provider_fx *f = *state;
	start(f, "    logs: false\n    metrics: false\n");
	collect_ok(f);
	assert_int_equal(pt_recorder_count(f->rec, "render_service_info", NULL), 7);
	assert_true(pt_recorder_last(f->rec, "render_services", NULL) == 7);
	/* 4 deploys per service, 3 deactivated and 1 live, each announced once */
	assert_int_equal(evrec_count(f->ev, "deploy", "status", "live", NULL), 7);
	assert_int_equal(evrec_count(f->ev, "deploy", "status", "deactivated", NULL), 21);
	for (int i = 0; i < 7; i++) {
		char name[16];
		snprintf(name, sizeof name, "svc-%d", i);
		assert_int_equal(evrec_count(f->ev, "deploy", "service", name, "status", "deactivated", NULL), 3);
	}
	/* deploys paged by cursor: 2 pages and the empty one per service */
	assert_int_equal(fake_count(&fk, "/deploys", 200), 7 * 3);
	/* a second collection announces nothing again */
	size_t n = evrec_n(f->ev);
	collect_ok(f);
	assert_int_equal(evrec_n(f->ev), n);
	assert_true(pt_recorder_last(f->rec, "pane_source_partial", "source", "render", NULL) == 0);
}

/* /services/{id}/events become events kind="service_event", each once,
 * across collections and restarts, paged by cursor in short pages. */
static void service_events_are_announced_once(void **state)
{
	struct provider_fx *f = *state;
	const char *yaml = "    logs: false\n    metrics: false\n    deploys: false\n";
	start(f, yaml);
	collect_ok(f);
	/* 6 services with events (not the static site), 4 each */
	assert_int_equal(evrec_count(f->ev, "service_event", NULL), 6 * 4);
	assert_int_equal(evrec_count(f->ev, "service_event", "event_type", "deploy_ended", NULL), 6);
	assert_int_equal(evrec_count(f->ev, "service_event", "event_type", "instance_count_changed", NULL), 6);
	const struct rec_event *e =
	    evrec_find(f->ev, "service_event", "service", "svc-0", "event_type", "server_failed", NULL);
	assert_non_null(e);
	assert_non_null(strstr(e->title, "svc-0: server failed (nonZeroExit, oomKilled)"));
	assert_non_null(strstr(e->body_json, "\"memoryLimit\":\"512Mi\""));
	e = evrec_find(f->ev, "service_event", "service", "svc-1", "event_type", "instance_count_changed", NULL);
	assert_non_null(strstr(e->title, "(1 -> 2 instances)"));
	assert_true(pt_recorder_last(f->rec, "pane_source_part_up", "source", "render", "part", "events", NULL) == 1);
	/* again, and after a restart: nothing new, nothing repeated */
	collect_ok(f);
	start(f, yaml);
	collect_ok(f);
	assert_int_equal(evrec_count(f->ev, "service_event", NULL), 24);
	/* two new events sharing a timestamp with each other: both, once */
	char body[256], at[40];
	pane_time_format(pane_wall_ms() - 60000, at, sizeof at);
	snprintf(body, sizeof body, "{\"service\":\"" SVC1 "\",\"type\":\"server_restarted\",\"at\":\"%s\"}", at);
	free(fake_post(&fk, "/__fake/event", body));
	snprintf(body, sizeof body, "{\"service\":\"" SVC1 "\",\"type\":\"service_suspended\",\"at\":\"%s\"}", at);
	free(fake_post(&fk, "/__fake/event", body));
	collect_ok(f);
	start(f, yaml);
	collect_ok(f);
	assert_int_equal(evrec_count(f->ev, "service_event", NULL), 26);
	assert_int_equal(
	    evrec_count(f->ev, "service_event", "service", "svc-1", "event_type", "service_suspended", NULL), 1);
}

/* A plan without service events (404 everywhere): the source stays up. */
static void missing_service_events_leave_the_source_up(void **state)
{
	struct provider_fx *f = *state;
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/events\", \"status\": 404, \"count\": -1}]}"));
	start(f, "    logs: false\n    metrics: false\n");
	collect_ok(f);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "render", NULL) == 1);
	assert_true(
	    pt_recorder_last(f->rec, "pane_source_part_unavailable", "source", "render", "part", "events", NULL) == 1);
	assert_true(evrec_count(f->ev, "deploy", NULL) > 0);
}

/* Render Postgres and Key Value: info series and their metrics, with the
 * datastore's name as `service` (short pages, like every list). */
static void datastores_and_their_metrics(void **state)
{
	struct provider_fx *f = *state;
	start(f, "    logs: false\n    deploys: false\n    events: false\n");
	collect_ok(f);
	struct pt_recorder *r = f->rec;
	assert_int_equal(pt_recorder_count(r, "render_datastore_info", NULL), 3);
	assert_int_equal(pt_recorder_count(r, "render_datastore_info", "service", "shop-db-replica", "kind", "postgres",
	                                   "role", "replica", "version", "16", NULL),
	                 1);
	assert_int_equal(pt_recorder_count(r, "render_datastore_info", "service", "sessions-kv", "kind", "key_value",
	                                   "region", "frankfurt", NULL),
	                 1);
	assert_true(pt_recorder_last(r, "render_disk_capacity_bytes", "service", "shop-db", NULL) == 15e9);
	assert_true(pt_recorder_last(r, "render_disk_usage_bytes", "service", "shop-db-replica", NULL) == 1.2e9);
	assert_true(pt_recorder_last(r, "render_active_connections", "service", "sessions-kv", NULL) == 7);
	assert_true(pt_recorder_last(r, "render_replication_lag_seconds", "service", "shop-db-replica", NULL) == 0.25);
	assert_int_equal(pt_recorder_count(r, "render_replication_lag_seconds", "service", "shop-db", NULL), 0);
	assert_int_equal(pt_recorder_count(r, "render_disk_usage_bytes", "service", "sessions-kv", NULL), 0);
	assert_true(pt_recorder_count(r, "render_memory_usage_bytes", "service_id", "red-d00000000000000000c0", NULL) >=
	            5);
	assert_true(pt_recorder_last(r, "pane_source_part_up", "part", "datastores", NULL) == 1);
	/* a workspace or API without datastores (404): the source stays up */
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/v1/postgres\", \"status\": 404, \"count\": -1},"
	               " {\"path\": \"/v1/key-value\", \"status\": 404, \"count\": -1}]}"));
	collect_ok(f);
	assert_true(pt_recorder_last(r, "pane_source_part_unavailable", "part", "datastores", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_source_up", "source", "render", NULL) == 1);
}

/* A provider whose log API ignores the window sends old lines again: they
 * are dropped and counted, nothing is stored twice (issue 19, finding 7).
 * (Forward paging cannot get past such a provider's first page; the
 * repeated window is cut as a cursor loop, also counted.) */
static void log_lines_outside_the_window_are_counted(void **state)
{
	struct provider_fx *f = *state;
	const char *yaml = "    metrics: false\n    deploys: false\n    events: false\n    log_max_pages: 100\n";
	start(f, yaml);
	collect_ok(f);
	assert_int_equal(distinct_logs(f->rec), NLOGS);
	free(fake_post(&fk, "/__fake/config", "{\"ignore_window\": true}"));
	free(fake_post(&fk, "/__fake/logs", "{\"n\": 3}"));
	collect_ok(f);
	start(f, yaml);
	collect_ok(f);
	/* every line at most once (the old ones are not stored again) */
	size_t n = distinct_logs(f->rec);
	assert_int_equal(f->rec->n_logs, n);
	assert_true(n >= NLOGS);
	assert_true(partial(f, "outside_window") > 0);
}

static void restarts_neither_skip_nor_duplicate_logs(void **state)
{
	struct provider_fx *f = *state;
	/* a small page budget: the first collection stops half way */
	start(f, "    log_page_size: 30\n    log_max_pages: 4\n    metrics: false\n    deploys: false\n");
	collect_ok(f);
	assert_int_equal(distinct_logs(f->rec), 120);
	/* restart, and lines arrive meanwhile, three at a time sharing a timestamp */
	free(fake_post(&fk, "/__fake/logs", "{\"n\": 30, \"same_ts\": 3}"));
	start(f, "    log_page_size: 30\n    log_max_pages: 4\n    metrics: false\n    deploys: false\n");
	collect_ok(f);
	/* a page that ends inside a shared timestamp is re-read from it: the
	 * repeat is dropped by id, so a page may bring one line fewer */
	size_t mid = distinct_logs(f->rec);
	assert_true(mid > 200 && mid <= 240);
	start(f, "    log_page_size: 7\n    log_max_pages: 100\n    metrics: false\n    deploys: false\n");
	collect_ok(f);
	assert_int_equal(distinct_logs(f->rec), NLOGS + 30);
	assert_int_equal(f->rec->n_logs, NLOGS + 30);
	/* nothing new: nothing delivered */
	start(f, "    metrics: false\n    deploys: false\n");
	collect_ok(f);
	assert_int_equal(f->rec->n_logs, NLOGS + 30);
	free(fake_post(&fk, "/__fake/logs", "{\"n\": 5, \"same_ts\": 5, \"level\": \"error\"}"));
	collect_ok(f);
	assert_int_equal(distinct_logs(f->rec), NLOGS + 35);
}

static void iso(int64_t ms, char *out, size_t n)
{
	pane_time_format(ms, out, n);
}

static void deploy_status_changes_become_events_at_their_time(void **state)
{
	struct provider_fx *f = *state;
	start(f, "    logs: false\n    metrics: false\n");
	collect_ok(f);
	evrec_clear(f->ev);
	int64_t base = (pane_wall_ms() / 1000) * 1000 - 20 * 60000;
	char t[4][40], body[512];
	for (int i = 0; i < 4; i++)
		iso(base + i * 60000, t[i], sizeof t[i]);
	snprintf(body, sizeof body,
	         "{\"service\":\"" SVC0 "\",\"action\":\"new\",\"at\":\"%s\","
	         "\"commit\":{\"id\":\"2f4c9e1d0a77aa\",\"message\":\"fix: retry on 502\\n\\ndetails\"}}",
	         t[0]);
	free(fake_post(&fk, "/__fake/deploy", body));
	collect_ok(f);
	const struct rec_event *e = evrec_find(f->ev, "deploy", "service", "svc-0", "status", "created", NULL);
	assert_non_null(e);
	assert_int_equal(e->ts_ms, base);
	assert_string_equal(pane_labels_get(&e->labels, "commit"), "2f4c9e1d0a77");
	assert_string_equal(pane_labels_get(&e->labels, "provider"), "render");
	assert_non_null(strstr(e->title, "2f4c9e1 fix: retry on 502"));
	assert_non_null(strstr(e->body_json, "\"commit_message\":\"fix: retry on 502\\n\\ndetails\""));
	assert_non_null(strstr(e->url, "/deploys/dep-"));
	assert_true(pt_recorder_last(f->rec, "render_deploy_status", "service", "svc-0", "status", "created", NULL) ==
	            1);

	static const char *const steps[] = {"build_in_progress", "update_in_progress", "live"};
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof body, "{\"service\":\"" SVC0 "\",\"action\":\"advance\",\"at\":\"%s\"}",
		         t[i + 1]);
		free(fake_post(&fk, "/__fake/deploy", body));
		collect_ok(f);
		e = evrec_find(f->ev, "deploy", "service", "svc-0", "status", steps[i], NULL);
		assert_non_null(e);
		assert_int_equal(e->ts_ms, base + (i + 1) * 60000);
	}
	/* going live deactivated the previous deploy at the same moment */
	assert_int_equal(evrec_count(f->ev, "deploy", "service", "svc-0", "status", "deactivated", NULL), 1);
	e = evrec_find(f->ev, "deploy", "service", "svc-0", "status", "deactivated", NULL);
	assert_int_equal(e->ts_ms, base + 3 * 60000);
	assert_int_equal(evrec_n(f->ev), 5);
	/* restart: nothing is announced twice */
	start(f, "    logs: false\n    metrics: false\n");
	collect_ok(f);
	assert_int_equal(evrec_n(f->ev), 5);
	/* a failed build */
	snprintf(body, sizeof body, "{\"service\":\"" SVC1 "\",\"action\":\"new\"}");
	free(fake_post(&fk, "/__fake/deploy", body));
	free(fake_post(&fk, "/__fake/deploy", "{\"service\":\"" SVC1 "\",\"action\":\"fail\"}"));
	collect_ok(f);
	assert_int_equal(evrec_count(f->ev, "deploy", "service", "svc-1", "status", "build_failed", NULL), 1);

	/* a deploy live only between two collections: seen building, then
	 * deactivated (a newer one replaced it live). It is announced live,
	 * stamped when it finished, before its deactivation. */
	int64_t b2 = base + 10 * 60000;
	char t2[5][40];
	for (int i = 0; i < 5; i++)
		iso(b2 + i * 60000, t2[i], sizeof t2[i]);
	snprintf(body, sizeof body, "{\"service\":\"" SVC0 "\",\"action\":\"new\",\"at\":\"%s\"}", t2[0]);
	free(fake_post(&fk, "/__fake/deploy", body));
	snprintf(body, sizeof body, "{\"service\":\"" SVC0 "\",\"action\":\"advance\",\"at\":\"%s\"}", t2[0]);
	free(fake_post(&fk, "/__fake/deploy", body));
	collect_ok(f);
	assert_int_equal(evrec_count(f->ev, "deploy", "service", "svc-0", "status", "build_in_progress", NULL), 2);
	assert_int_equal(evrec_count(f->ev, "deploy", "service", "svc-0", "status", "live", NULL), 1);
	for (int i = 1; i <= 2; i++) { /* update_in_progress, live at t2[2] */
		snprintf(body, sizeof body, "{\"service\":\"" SVC0 "\",\"action\":\"advance\",\"at\":\"%s\"}", t2[i]);
		free(fake_post(&fk, "/__fake/deploy", body));
	}
	snprintf(body, sizeof body, "{\"service\":\"" SVC0 "\",\"action\":\"new\",\"at\":\"%s\"}", t2[3]);
	free(fake_post(&fk, "/__fake/deploy", body));
	for (int i = 0; i < 3; i++) { /* the next one goes live at t2[4]: the first is deactivated */
		snprintf(body, sizeof body, "{\"service\":\"" SVC0 "\",\"action\":\"advance\",\"at\":\"%s\"}", t2[4]);
		free(fake_post(&fk, "/__fake/deploy", body));
	}
	size_t before = evrec_n(f->ev);
	collect_ok(f);
	/* the one live before: deactivated; the first: live (made up, at its
	 * finishedAt) and deactivated; the second, seen for the first time:
	 * created and live */
	assert_int_equal(evrec_n(f->ev), before + 5);
	assert_int_equal(evrec_count(f->ev, "deploy", "service", "svc-0", "status", "live", NULL), 3);
	bool found = false;
	for (size_t i = before; i < evrec_n(f->ev); i++) {
		const struct rec_event *x = evrec_at(f->ev, i);
		const char *st = pane_labels_get(&x->labels, "status");
		if (st && !strcmp(st, "live") && x->ts_ms == b2 + 2 * 60000) {
			found = true;
			/* announced before its deactivation */
			const struct rec_event *nx = i + 1 < evrec_n(f->ev) ? evrec_at(f->ev, i + 1) : NULL;
			assert_non_null(nx);
			assert_string_equal(pane_labels_get(&nx->labels, "status"), "deactivated");
			assert_string_equal(pane_labels_get(&nx->labels, "deploy_id"),
			                    pane_labels_get(&x->labels, "deploy_id"));
		}
	}
	assert_true(found);
	/* (an old deactivated deploy seen for the first time is not made live:
	 * the first collection's test above counts one live deploy a service) */
}

static void rate_limit_headers_are_respected(void **state)
{
	struct provider_fx *f = *state;
	/* 6 requests a second: the client waits on Ratelimit-Remaining: 0 */
	free(fake_post(&fk, "/__fake/config", "{\"rate_limit\": 6, \"rate_window\": 1}"));
	start(f, "    metric_names: [cpu, memory]\n");
	collect_ok(f);
	assert_int_equal(fake_count(&fk, "", 429), 0);
	assert_int_equal(distinct_logs(f->rec), NLOGS);
	assert_true(fake_count(&fk, "", 200) > 12);

	/* a 429 anyway (no Retry-After, the documented body): retried after the reset */
	free(fake_post(&fk, "/__fake/config",
	               "{\"rate_limit\": 0, \"faults\": [{\"path\": \"/v1/services\", \"status\": 429, \"count\": 1,"
	               " \"headers\": {\"Ratelimit-Limit\": \"400\", \"Ratelimit-Remaining\": \"0\","
	               " \"Ratelimit-Reset\": \"1\"}}]}"));
	collect_ok(f);
	assert_int_equal(fake_count(&fk, "/v1/services", 429), 1);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "render", NULL) == 1);
	/* Retry-After as delta seconds and as an HTTP date (RFC 9110): waited, then retried */
	char hdate[64], cfgb[512];
	time_t soon = time(NULL) + 2;
	struct tm tm;
	gmtime_r(&soon, &tm);
	strftime(hdate, sizeof hdate, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(cfgb, sizeof cfgb,
	         "{\"faults\": [{\"path\": \"/v1/services\", \"status\": 429, \"count\": 1,"
	         " \"headers\": {\"Retry-After\": \"1\"}}, {\"path\": \"/deploys\", \"status\": 429, \"count\": 1,"
	         " \"headers\": {\"Retry-After\": \"%s\"}}]}",
	         hdate);
	free(fake_post(&fk, "/__fake/config", cfgb));
	size_t limited = fake_count(&fk, "", 429);
	collect_ok(f);
	assert_int_equal(fake_count(&fk, "", 429), limited + 2);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "render", NULL) == 1);
	/* a rate limit that lasts longer than max_rate_wait (10s): given up at once, not slept on */
	snprintf(cfgb, sizeof cfgb,
	         "{\"faults\": [{\"path\": \"/v1/services\", \"status\": 429, \"count\": -1,"
	         " \"headers\": {\"Retry-After\": \"3600\"}}]}");
	free(fake_post(&fk, "/__fake/config", cfgb));
	struct pane_err e429;
	size_t n0 = fake_count(&fk, "/v1/services", 429);
	assert_int_equal(collect(f, &e429), PANE_EAGAIN);
	assert_int_equal(fake_count(&fk, "/v1/services", 429), n0 + 1);
	/* 429 past the retries: down with reason rate_limited, bounded attempts */
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/v1/services\", \"status\": 429, \"count\": -1}]}"));
	size_t before = fake_count(&fk, "/v1/services", 0);
	struct pane_err err;
	assert_true(collect(f, &err) < 0);
	assert_int_equal(fake_count(&fk, "/v1/services", 0) - before, 3); /* 1 + retries: 2 */
	struct pane_source_status st;
	pane_sources_status(f->ss, "render", &st);
	assert_string_equal(st.last_reason, "rate_limited");
}

static void bad_key_and_forbidden_fail_fast(void **state)
{
	struct provider_fx *f = *state;
	key_env = "PT_RENDER_BAD";
	start(f, NULL);
	key_env = "PT_RENDER_KEY";
	struct pane_err err;
	assert_int_equal(collect(f, &err), PANE_EPERM);
	assert_int_equal(collect(f, &err), PANE_EPERM);
	assert_non_null(strstr(err.msg, "401"));
	/* no retry storm: one request per collection, and nothing after it */
	assert_int_equal(fake_count(&fk, "", 0), 2);
	struct pane_source_status st;
	pane_sources_status(f->ss, "render", &st);
	assert_false(st.up);
	assert_string_equal(st.last_reason, "auth");
	assert_true(pt_recorder_last(f->rec, "pane_source_errors_total", "source", "render", "reason", "auth", NULL) ==
	            2);

	/* a key that lists services but may not read logs: 403 stops that part once */
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/v1/logs\", \"status\": 403, \"count\": -1}]}"));
	start(f, "    metrics: false\n");
	assert_int_equal(collect(f, &err), PANE_EPERM);
	assert_int_equal(fake_count(&fk, "/v1/logs", 403), 1);
	assert_int_equal(pt_recorder_count(f->rec, "render_service_info", NULL), 7);
}

static void deleted_service_is_skipped_and_counted(void **state)
{
	struct provider_fx *f = *state;
	free(fake_post(&fk, "/__fake/config", "{\"deleted\": [\"" SVC1 "\"]}"));
	start(f, "    metrics: false\n    logs: false\n");
	collect_ok(f);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "render", NULL) == 1);
	assert_true(partial(f, "not_found") == 2); /* its deploys and its service events */
	assert_true(pt_recorder_last(f->rec, "pane_source_partial", "source", "render", NULL) == 1);
	assert_int_equal(evrec_count(f->ev, "deploy", "service", "svc-1", NULL), 0);
	assert_true(evrec_count(f->ev, "deploy", "service", "svc-2", NULL) > 0);
	assert_true(evrec_count(f->ev, "deploy", "service", "svc-6", NULL) > 0);
}

static void server_errors_are_retried_then_reported(void **state)
{
	struct provider_fx *f = *state;
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/v1/services\", \"status\": 503, \"count\": 2}]}"));
	start(f, "    metrics: false\n    logs: false\n");
	collect_ok(f);
	assert_int_equal(fake_count(&fk, "/v1/services", 503), 2);
	/* 7 services, at most 3 a page: 3 pages and the empty one that ends the list */
	assert_int_equal(fake_count(&fk, "/v1/services", 200), 4);
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/v1/services\", \"status\": 500, \"count\": 10}]}"));
	struct pane_err err;
	assert_int_equal(collect(f, &err), PANE_EHTTP);
	assert_int_equal(fake_count(&fk, "/v1/services", 500), 3);
	struct pane_source_status st;
	pane_sources_status(f->ss, "render", &st);
	assert_string_equal(st.last_reason, "http");
}

static void truncated_json_is_malformed_and_loses_nothing(void **state)
{
	struct provider_fx *f = *state;
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/v1/logs\", \"kind\": \"truncated\", \"count\": 1}]}"));
	start(f, "    metrics: false\n    deploys: false\n    log_page_size: 100\n");
	struct pane_err err;
	assert_int_equal(collect(f, &err), PANE_EINVAL);
	assert_non_null(strstr(err.msg, "malformed JSON"));
	struct pane_source_status st;
	pane_sources_status(f->ss, "render", &st);
	assert_string_equal(st.last_reason, "malformed");
	assert_int_equal(f->rec->n_logs, 0);
	assert_int_equal(pt_recorder_count(f->rec, "render_service_info", NULL), 7);
	collect_ok(f);
	assert_int_equal(distinct_logs(f->rec), NLOGS);
}

static void endless_cursors_are_cut(void **state)
{
	struct provider_fx *f = *state;
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/v1/services\", \"kind\": \"loop\", \"count\": -1},"
	               "{\"path\": \"/v1/logs\", \"kind\": \"loop\", \"count\": -1}]}"));
	start(f,
	      "    page_size: 2\n    metrics: false\n    deploys: false\n    log_page_size: 10\n    max_pages: 1000\n");
	collect_ok(f);
	assert_int_equal(fake_count(&fk, "/v1/services", 0), 2); /* the repeat is seen at once */
	assert_true(fake_count(&fk, "/v1/logs", 0) <= 2);
	assert_true(partial(f, "cursor_loop") == 2);
	assert_int_equal(distinct_logs(f->rec), 10);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "render", NULL) == 1);
}

static void huge_response_is_bounded(void **state)
{
	struct provider_fx *f = *state;
	free(fake_post(&fk, "/__fake/config",
	               "{\"faults\": [{\"path\": \"/v1/services\", \"kind\": \"huge\", \"mb\": 50, \"count\": 1}]}"));
	start(f, "    max_response: 4MiB\n");
	struct pane_err err;
	assert_int_equal(collect(f, &err), PANE_ETOOBIG);
	assert_non_null(strstr(err.msg, "larger than"));
	struct pane_source_status st;
	pane_sources_status(f->ss, "render", &st);
	assert_string_equal(st.last_reason, "too_big");
	collect_ok(f); /* the next collection is clean */
	assert_int_equal(pt_recorder_count(f->rec, "render_service_info", NULL), 7);
}

static void skewed_clock_is_clamped_and_counted(void **state)
{
	struct provider_fx *f = *state;
	free(fake_post(&fk, "/__fake/config", "{\"skew_s\": 7200}"));
	start(f, "    metric_names: [cpu]\n");
	int64_t before = pane_wall_ms();
	collect_ok(f);
	int64_t after = pane_wall_ms();
	assert_int_equal(distinct_logs(f->rec), NLOGS);
	int64_t max_ts = 0;
	pt_recorder_lock(f->rec);
	for (size_t i = 0; i < f->rec->n_logs; i++)
		if (f->rec->logs[i].ts_ms > max_ts)
			max_ts = f->rec->logs[i].ts_ms;
	for (size_t i = 0; i < f->rec->n_samples; i++)
		if (f->rec->samples[i].ts_ms > max_ts)
			max_ts = f->rec->samples[i].ts_ms;
	pt_recorder_unlock(f->rec);
	assert_true(max_ts <= after + 5 * 60000); /* nothing two hours ahead */
	(void)before;
	assert_true(pt_recorder_last(f->rec, "pane_source_skewed_records_total", "source", "render", NULL) > 0);
	assert_true(partial(f, "clock_skew") > 0);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "render", NULL) == 1);
	/* the log cursor lives in the provider's clock: new lines still arrive once */
	free(fake_post(&fk, "/__fake/logs", "{\"n\": 4}"));
	collect_ok(f);
	assert_int_equal(distinct_logs(f->rec), NLOGS + 4);
}

/* A provider that hangs: the source is down as soon as one request gets no
 * answer within `timeout` - written while the client still retries - and
 * the parts after it are skipped (issue 19, finding 5). */
static void a_hung_provider_is_down_at_once(void **state)
{
	struct provider_fx *f = *state;
	free(fake_post(
	    &fk, "/__fake/config",
	    "{\"faults\": [{\"path\": \"/v1/logs\", \"kind\": \"slow\", \"delay_ms\": 3000, \"count\": 2}]}"));
	timeout = "1s";
	start(f, "    retries: 1\n    metric_names: [cpu]\n");
	timeout = "10s";
	struct pane_err err;
	assert_int_equal(collect(f, &err), PANE_ETIMEDOUT);
	struct pane_source_status st;
	pane_sources_status(f->ss, "render", &st);
	assert_false(st.up);
	assert_string_equal(st.last_reason, "timeout");
	/* pane_source_up 0 twice: at the first timeout, and when the collection ended */
	assert_int_equal(pt_recorder_count(f->rec, "pane_source_up", "source", "render", NULL), 2);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "render", NULL) == 0);
	assert_true(pt_recorder_last(f->rec, "pane_source_part_up", "source", "render", "part", "deploys", NULL) == 1);
	assert_true(pt_recorder_last(f->rec, "pane_source_part_up", "source", "render", "part", "logs", NULL) == 0);
	assert_int_equal(pt_recorder_count(f->rec, "pane_source_part_up", "part", "metrics", NULL), 0); /* skipped */
	assert_int_equal(fake_count(&fk, "/cpu", 0), 0);
	/* the fake answers the two hung requests late; wait for them (bounded) */
	for (int i = 0; i < 400 && fake_count(&fk, "/v1/logs", 0) < 2; i++)
		usleep(50 * 1000);
	assert_int_equal(fake_count(&fk, "/v1/logs", 0), 2);
	/* the provider is back: up again, nothing lost */
	collect_ok(f);
	assert_int_equal(distinct_logs(f->rec), NLOGS);
	assert_true(pt_recorder_last(f->rec, "pane_source_up", "source", "render", NULL) == 1);
}

static void config_mistakes_are_clear(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
	    {"    metric_names: [cpu, gpu]\n", "unknown metric 'gpu'"},
	    {"    latency_quantiles: [1.5]\n", "not a quantile"},
	    {"    page_size: 500\n", "page_size"},
	    {"    api_url: ftp://x\n", "http:// or https://"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char yaml[1024];
		snprintf(yaml, sizeof yaml, "sources:\n  render:\n    api_key: ${PT_RENDER_KEY}\n%s", bad[i][0]);
		struct pane_err err = {0};
		struct pane_cfg *cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), &err);
		assert_non_null(cfg);
		struct pt_recorder *rec;
		struct pane_pipeline *p = pt_recorder_pipeline(&rec);
		struct pane_sources_opts o = {.cfg = cfg, .section = pane_cfg_get(cfg->root, "sources"), .pipeline = p};
		struct pane_sources *ss = pane_sources_new(&o, &err);
		assert_null(ss);
		if (!strstr(err.msg, bad[i][1]) && !strstr(err.detail, bad[i][1]))
			fail_msg("%s: got %s", bad[i][0], err.msg);
		pane_pipeline_free(p);
		pane_cfg_free(cfg);
	}
	/* a key written inline is refused: secrets only from the environment */
	const char *inline_key = "sources:\n  render:\n    api_key: rnd_inline\n";
	struct pane_err err = {0};
	struct pane_cfg *cfg = pane_cfg_parse("pane.yaml", inline_key, strlen(inline_key), &err);
	struct pt_recorder *rec;
	struct pane_pipeline *p = pt_recorder_pipeline(&rec);
	struct pane_sources_opts o = {.cfg = cfg, .section = pane_cfg_get(cfg->root, "sources"), .pipeline = p};
	assert_null(pane_sources_new(&o, &err));
	pane_pipeline_free(p);
	pane_cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(pages_services_deploys_logs_and_metrics, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(short_pages_do_not_end_lists, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(service_events_are_announced_once, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(missing_service_events_leave_the_source_up, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(datastores_and_their_metrics, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(log_lines_outside_the_window_are_counted, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(restarts_neither_skip_nor_duplicate_logs, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(deploy_status_changes_become_events_at_their_time, each_setup,
	                                    each_teardown),
	    cmocka_unit_test_setup_teardown(rate_limit_headers_are_respected, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(bad_key_and_forbidden_fail_fast, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(deleted_service_is_skipped_and_counted, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(server_errors_are_retried_then_reported, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(truncated_json_is_malformed_and_loses_nothing, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(endless_cursors_are_cut, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(huge_response_is_bounded, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(skewed_clock_is_clamped_and_counted, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(a_hung_provider_is_down_at_once, each_setup, each_teardown),
	    cmocka_unit_test(config_mistakes_are_clear),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
