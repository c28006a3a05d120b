/* test_logs_api.c - GET /api/v1/logs and /api/v1/events over real HTTP and a
 * real store in a temporary directory: label selectors, text search,
 * severity, time range, paging with the cursor until every log was seen
 * exactly once, event kinds, and a clear 400 for every bad argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/logs_api.h"
#include "http/server.h"
#include "support.h"

#define T0 1700000000000LL /* 2023-11-14T22:13:20Z */
#define N_LOGS 250

static struct pane_http_server *srv;
static struct pane_store *st;
static char dir[] = "/tmp/pane-logs-api-XXXXXX";
static char base[64];

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	struct pane_store_opts so;
	pane_store_opts_default(&so);
	so.dir = dir;
	so.log_retention_ms = 0;
	struct pane_err err = {0};
	st = pane_store_open(&so, &err);
	assert_non_null(st);

	struct pane_label api[] = {{"provider", "render"}, {"service", "api"}, {"environment", "prod"}};
	struct pane_label web[] = {{"provider", "render"}, {"service", "web"}, {"environment", "prod"}};
	struct pane_labels la = {api, 3, 3, false}, lw = {web, 3, 3, false};
	static struct pane_log_record logs[N_LOGS];
	static char msgs[N_LOGS][80];
	for (int i = 0; i < N_LOGS; i++) {
		/* api = even i; every 10th is an error mentioning a timeout */
		snprintf(msgs[i], sizeof msgs[i], "%s %d handled in %d ms",
		         i % 10 ? "request" : "upstream Timeout on request", i, i % 97);
		logs[i] = (struct pane_log_record){
		    T0 + i * 1000LL, i % 2 ? &lw : &la, i % 10 ? PANE_SEV_INFO : PANE_SEV_ERROR,
		    msgs[i],         strlen(msgs[i]),   i == 40 ? "{\"user_id\":\"u-40\"}" : NULL};
	}
	assert_int_equal(pane_store_write_logs(st, logs, N_LOGS, &err), 0);
	struct pane_event ev[] = {
	    {T0 + 10000, "deploy", &la, "deploy api 1f2e3d", "https://dashboard.render.com/d/1",
	     "{\"commit\":\"1f2e3d\"}", "dep-1"},
	    {T0 + 20000, "deploy", &lw, "deploy web 9a8b7c", NULL, NULL, "dep-2"},
	    {T0 + 30000, "issue", &la, "TypeError: x is undefined", NULL, "{\"count\":3}", "iss-1"},
	};
	assert_int_equal(pane_store_write_events(st, ev, 3, &err), 0);

	struct pane_http_server_opts o = {.listen = "127.0.0.1:0", .threads = 4};
	srv = pane_http_server_new(&o, &err);
	assert_non_null(srv);
	assert_int_equal(pane_logs_api_add(srv, st, &err), 0);
	assert_int_equal(pane_http_server_start(srv, &err), 0);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", pane_http_server_port(srv));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pane_http_server_free(srv);
	pane_store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* GET base+path; returns the JSON answer and its status. */
static json_t *get(const char *path, long *status)
{
	char url[8192];
	snprintf(url, sizeof url, "%s%s", base, path);
	struct pt_http_result r;
	assert_int_equal(pt_http("GET", url, NULL, NULL, 0, &r), 0);
	*status = r.status;
	json_error_t je;
	json_t *j = json_loads(r.body, 0, &je);
	if (!j)
		fail_msg("not JSON (%ld): %s", r.status, r.body);
	pt_http_result_free(&r);
	return j;
}

static json_t *data_of(json_t *j, long status)
{
	if (status != 200)
		fail_msg("status %ld: %s", status, json_string_value(json_object_get(j, "error")));
	assert_string_equal(json_string_value(json_object_get(j, "status")), "success");
	return json_object_get(j, "data");
}

static void test_filters(void **state)
{
	(void)state;
	long s;
	/* selector + search (case-insensitive) + severity */
	json_t *j = get("/api/v1/logs?selector=%7Bservice%3D%22api%22%7D&search=timeout&severity=error", &s);
	json_t *logs = json_object_get(data_of(j, s), "logs");
	assert_int_equal(json_array_size(logs), 25); /* i = 0, 10, ..., 240 */
	json_t *first = json_array_get(logs, 0);
	assert_int_equal(json_integer_value(json_object_get(first, "ts")), T0 + 240000);
	assert_string_equal(json_string_value(json_object_get(first, "severity")), "error");
	assert_string_equal(json_string_value(json_object_get(json_object_get(first, "labels"), "service")), "api");
	assert_non_null(strstr(json_string_value(json_object_get(first, "message")), "Timeout on request 240"));
	assert_true(json_is_null(json_object_get(json_object_get(j, "data"), "next")));
	json_decref(j);

	/* the web service has no errors */
	j = get("/api/v1/logs?selector=%7Bservice%3D%22web%22%7D&severity=error", &s);
	assert_int_equal(json_array_size(json_object_get(data_of(j, s), "logs")), 0);
	json_decref(j);

	/* time range (RFC 3339 and Unix seconds), inclusive, newest first, fields kept */
	j = get("/api/v1/logs?start=2023-11-14T22:14:00Z&end=1700000042", &s);
	logs = json_object_get(data_of(j, s), "logs");
	assert_int_equal(json_array_size(logs), 3); /* i = 40, 41, 42 */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(logs, 0), "ts")), T0 + 42000);
	json_t *f = json_object_get(json_array_get(logs, 2), "fields");
	assert_string_equal(json_string_value(json_object_get(f, "user_id")), "u-40");
	json_decref(j);
}

static void test_paging(void **state)
{
	(void)state;
	/* walk every page of 7; each log comes exactly once, newest first */
	static char seen[N_LOGS];
	memset(seen, 0, sizeof seen);
	char path[512] = "/api/v1/logs?limit=7";
	size_t total = 0, pages = 0;
	int64_t prev = INT64_MAX;
	for (;;) {
		long s;
		json_t *j = get(path, &s);
		json_t *d = data_of(j, s);
		json_t *logs = json_object_get(d, "logs");
		assert_true(json_array_size(logs) <= 7);
		for (size_t i = 0; i < json_array_size(logs); i++) {
			int64_t ts = json_integer_value(json_object_get(json_array_get(logs, i), "ts"));
			assert_true(ts < prev);
			prev = ts;
			int k = (int)((ts - T0) / 1000);
			assert_true(k >= 0 && k < N_LOGS);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
			total++;
		}
		pages++;
		json_t *next = json_object_get(d, "next");
		if (json_is_null(next)) {
			json_decref(j);
			break;
		}
		snprintf(path, sizeof path, "/api/v1/logs?limit=7&cursor=%s", json_string_value(next));
		json_decref(j);
		assert_true(pages < 100);
	}
	assert_int_equal(total, N_LOGS);
	assert_int_equal(pages, (N_LOGS + 6) / 7);
}

static void test_events(void **state)
{
	(void)state;
	long s;
	json_t *j = get("/api/v1/events?kind=deploy", &s);
	json_t *ev = json_object_get(data_of(j, s), "events");
	assert_int_equal(json_array_size(ev), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "title")), "deploy web 9a8b7c");
	assert_true(json_is_null(json_object_get(json_array_get(ev, 0), "url")));
	json_t *e1 = json_array_get(ev, 1);
	assert_string_equal(json_string_value(json_object_get(e1, "url")), "https://dashboard.render.com/d/1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(e1, "body"), "commit")), "1f2e3d");
	json_decref(j);

	j = get("/api/v1/events?selector=%7Bservice%3D%22api%22%7D", &s);
	ev = json_object_get(data_of(j, s), "events");
	assert_int_equal(json_array_size(ev), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "kind")), "issue");
	json_decref(j);

	j = get("/api/v1/events?start=1700000015&end=1700000025&limit=1", &s);
	ev = json_object_get(data_of(j, s), "events");
	assert_int_equal(json_array_size(ev), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "ts")), T0 + 20000);
	json_decref(j);
}

static void expect_400(const char *path, const char *needle)
{
	long s;
	json_t *j = get(path, &s);
	assert_int_equal(s, 400);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "error");
	assert_string_equal(json_string_value(json_object_get(j, "errorType")), "bad_data");
	const char *e = json_string_value(json_object_get(j, "error"));
	if (!e || !strstr(e, needle))
		fail_msg("%s: error \"%s\" does not mention \"%s\"", path, e ? e : "(none)", needle);
	json_decref(j);
}

static void test_bad_input(void **state)
{
	(void)state;
	expect_400("/api/v1/logs?selector=%7Bservice%3D~%22a.*%22%7D", "only = matchers");
	expect_400("/api/v1/logs?selector=up%7Bservice%3D%22a%22%7D", "no metric name");
	expect_400("/api/v1/logs?selector=%7Bservice%3D", "invalid parameter \"selector\"");
	expect_400("/api/v1/logs?selector=rate(x%5B5m%5D)", "not a label selector");
	expect_400("/api/v1/events?selector=%7Ba%3D%221%22%7D%5B5m%5D", "not a label selector");
	expect_400("/api/v1/logs?severity=loud", "severity");
	expect_400("/api/v1/logs?limit=0", "limit");
	expect_400("/api/v1/logs?limit=1001", "limit");
	expect_400("/api/v1/events?limit=many", "limit");
	expect_400("/api/v1/logs?start=yesterday", "start");
	expect_400("/api/v1/logs?start=1700000100&end=1700000000",
	           "invalid parameter \"end\": end timestamp must not be before start time");
	expect_400("/api/v1/logs?cursor=garbage", "bad cursor");
	/* oversized search text: refused, not run */
	static char big[8192];
	strcpy(big, "/api/v1/logs?search=");
	memset(big + strlen(big), 'a', 5000);
	expect_400(big, "search text");
	/* 33 labels, one over the limit */
	static char many[4096];
	size_t n = (size_t)snprintf(many, sizeof many, "/api/v1/logs?selector=%%7B");
	for (int i = 0; i < 33; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, "%sl%d%%3D%%22v%%22", i ? "%2C" : "", i);
	snprintf(many + n, sizeof many - n, "%%7D");
	expect_400(many, "at most 32 labels");
	/* the server still answers afterwards */
	long s;
	json_t *j = get("/api/v1/logs?limit=1", &s);
	assert_int_equal(json_array_size(json_object_get(data_of(j, s), "logs")), 1);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filters),
	    cmocka_unit_test(test_paging),
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
