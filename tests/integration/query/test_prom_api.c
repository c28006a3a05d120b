/* test_prom_api.c - the Prometheus HTTP API over real HTTP with the in-memory
 * reader loaded from the PromQL corpus: Grafana's "Save & test" sequence,
 * GET and form POST, every endpoint's shape, and the error envelope with
 * 400/422/503 for bad input, failing queries and timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/prom_api.h"
#include "http/server.h"
#include "memreader.h"
#include "support.h"

static struct pane_http_server *srv, *slow_srv;
static struct pane_query_api *api, *slow_api;
static struct pt_memdb *db;
static char base[64], slow_base[64];

static int setup(void **state)
{
	(void)state;
	char path[4096];
	const char *root = getenv("PANE_SOURCE_ROOT");
	snprintf(path, sizeof path, "%s/tests/promql/data.om", root ? root : ".");
	struct pane_err err = {0};
	db = pt_memdb_load(path, &err);
	assert_non_null(db);
	struct pane_http_server_opts o = {.listen = "127.0.0.1:0", .threads = 4};
	srv = pane_http_server_new(&o, &err);
	slow_srv = pane_http_server_new(&o, &err);
	assert_non_null(srv);
	api = pane_query_api_new(srv, pt_memdb_reader(db), NULL, &err);
	assert_non_null(api);
	/* a server whose queries may take at most 1 ms, to see the timeout answer */
	slow_api = pane_query_api_new(slow_srv, pt_memdb_reader(db), &(struct pane_query_opts){.timeout_ms = 1}, &err);
	assert_non_null(slow_api);
	assert_int_equal(pane_http_server_start(srv, &err), 0);
	assert_int_equal(pane_http_server_start(slow_srv, &err), 0);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", pane_http_server_port(srv));
	snprintf(slow_base, sizeof slow_base, "http://127.0.0.1:%d", pane_http_server_port(slow_srv));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pane_http_server_free(srv);
	pane_http_server_free(slow_srv);
	pane_query_api_free(api);
	pane_query_api_free(slow_api);
	pt_memdb_free(db);
	return 0;
}

/* GET (body NULL) or form POST; returns the parsed JSON and the status. */
static json_t *call(const char *b, const char *path, const char *form, long *status)
{
	char url[8192];
	snprintf(url, sizeof url, "%s%s", b, path);
	struct pt_http_result r;
	const char *hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	assert_int_equal(pt_http(form ? "POST" : "GET", url, form ? hdr : NULL, form, form ? strlen(form) : 0, &r), 0);
	*status = r.status;
	json_error_t je;
	json_t *j = json_loads(r.body, 0, &je);
	if (!j)
		fail_msg("not JSON (%ld): %s", r.status, r.body);
	assert_non_null(r.content_type);
	assert_non_null(strstr(r.content_type, "application/json"));
	pt_http_result_free(&r);
	return j;
}

static void expect_error(json_t *j, long status, long want_status, const char *type, const char *needle)
{
	assert_int_equal(status, want_status);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "error");
	assert_string_equal(json_string_value(json_object_get(j, "errorType")), type);
	const char *e = json_string_value(json_object_get(j, "error"));
	assert_non_null(e);
	if (!strstr(e, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", e, needle);
}

static void test_grafana_save_and_test(void **state)
{
	(void)state;
	long st;
	/* Grafana's health check: POST instant query 1+1 at a time in 1..4 s epoch */
	json_t *j = call(base, "/api/v1/query", "query=1%2B1&time=4", &st);
	assert_int_equal(st, 200);
	char *s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(s, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[4,\"2\"]}}");
	free(s);
	json_decref(j);
	j = call(base, "/api/v1/status/buildinfo", NULL, &st);
	assert_int_equal(st, 200);
	json_t *d = json_object_get(j, "data");
	assert_string_equal(json_string_value(json_object_get(j, "status")), "success");
	assert_non_null(json_string_value(json_object_get(d, "version")));
	assert_null(json_object_get(d, "features"));
	json_decref(j);
}

static void test_query_shapes(void **state)
{
	(void)state;
	long st;
	json_t *j =
	    call(base, "/api/v1/query?query=temperature_celsius%7Broom%3D%22attic%22%7D&time=1700001830", NULL, &st);
	assert_int_equal(st, 200);
	json_t *d = json_object_get(j, "data");
	assert_string_equal(json_string_value(json_object_get(d, "resultType")), "vector");
	json_t *r0 = json_array_get(json_object_get(d, "result"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r0, "metric"), "room")), "attic");
	json_t *v = json_object_get(r0, "value");
	assert_int_equal(json_integer_value(json_array_get(v, 0)), 1700001830);
	assert_true(json_is_string(json_array_get(v, 1)));
	json_decref(j);

	/* range query as GET and as form POST give the same body */
	const char *q =
	    "query=sum%20by%20(instance)%20(rate(http_requests_total%5B5m%5D))&start=1700000600&end=1700001200&step=60";
	char path[1024];
	snprintf(path, sizeof path, "/api/v1/query_range?%s", q);
	json_t *g = call(base, path, NULL, &st);
	assert_int_equal(st, 200);
	json_t *p = call(base, "/api/v1/query_range", q, &st);
	assert_int_equal(st, 200);
	assert_true(json_equal(g, p));
	d = json_object_get(g, "data");
	assert_string_equal(json_string_value(json_object_get(d, "resultType")), "matrix");
	assert_int_equal(json_array_size(json_object_get(d, "result")), 2);
	assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(d, "result"), 0), "values")),
	                 11);
	json_decref(g);
	json_decref(p);

	/* RFC 3339 times and a duration step */
	j = call(base,
	         "/api/v1/query_range?query=vector(1)&start=2023-11-14T22:23:20Z&end=2023-11-14T22:33:20Z&step=5m",
	         NULL, &st);
	assert_int_equal(st, 200);
	d = json_object_get(j, "data");
	assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(d, "result"), 0), "values")),
	                 3);
	json_decref(j);

	/* string result of an instant query */
	j = call(base, "/api/v1/query?query=%22hi%22&time=10.5", NULL, &st);
	char *s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(s,
	                    "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[10.5,\"hi\"]}}");
	free(s);
	json_decref(j);
}

static void test_series_labels_values(void **state)
{
	(void)state;
	long st;
	json_t *j =
	    call(base, "/api/v1/series?match[]=temperature_celsius&match[]=build_info%7Binstance%3D%22a:80%22%7D", NULL,
	         &st);
	assert_int_equal(st, 200);
	json_t *d = json_object_get(j, "data");
	assert_int_equal(json_array_size(d), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "__name__")), "build_info");
	json_decref(j);

	j = call(base, "/api/v1/series", "match[]=temperature_celsius&start=1700000000&end=1700000100", &st);
	assert_int_equal(st, 200);
	assert_int_equal(json_array_size(json_object_get(j, "data")), 3);
	json_decref(j);

	j = call(base, "/api/v1/labels", NULL, &st);
	assert_int_equal(st, 200);
	d = json_object_get(j, "data");
	assert_string_equal(json_string_value(json_array_get(d, 0)), "__name__");
	bool has_room = false;
	for (size_t i = 0; i < json_array_size(d); i++)
		has_room |= !strcmp(json_string_value(json_array_get(d, i)), "room");
	assert_true(has_room);
	json_decref(j);

	j = call(base, "/api/v1/labels", "match[]=build_info", &st);
	assert_int_equal(st, 200);
	char *s = json_dumps(json_object_get(j, "data"), JSON_COMPACT);
	assert_string_equal(s, "[\"__name__\",\"instance\",\"job\",\"version\"]");
	free(s);
	json_decref(j);

	j = call(base, "/api/v1/label/room/values", NULL, &st);
	s = json_dumps(json_object_get(j, "data"), JSON_COMPACT);
	assert_string_equal(s, "[\"attic\",\"garage\",\"kitchen\"]");
	free(s);
	json_decref(j);

	j = call(base,
	         "/api/v1/label/instance/values?match[]=http_requests_total%7Bmethod%3D%22get%22%7D&match[]=build_info",
	         NULL, &st);
	s = json_dumps(json_object_get(j, "data"), JSON_COMPACT);
	assert_string_equal(s, "[\"a:80\",\"b:80\"]");
	free(s);
	json_decref(j);

	j = call(base, "/api/v1/label/__name__/values?match[]=%7B__name__%3D~%22temp.*%7Cbuild.*%22%7D", NULL, &st);
	s = json_dumps(json_object_get(j, "data"), JSON_COMPACT);
	assert_string_equal(s, "[\"build_info\",\"temperature_celsius\"]");
	free(s);
	json_decref(j);

	j = call(base, "/api/v1/format_query", "query=sum(rate(x%5B5m%5D))by(a)", &st);
	assert_int_equal(st, 200);
	assert_string_equal(json_string_value(json_object_get(j, "data")), "sum by (a) (rate(x[5m]))");
	json_decref(j);
	j = call(base, "/api/v1/query_exemplars?query=x&start=0&end=10", NULL, &st);
	assert_int_equal(st, 200);
	assert_true(json_is_array(json_object_get(j, "data")));
	json_decref(j);

	/* the in-memory reader keeps no metadata: an empty map, as Prometheus without targets */
	j = call(base, "/api/v1/metadata", NULL, &st);
	assert_int_equal(st, 200);
	assert_true(json_is_object(json_object_get(j, "data")));
	assert_int_equal(json_object_size(json_object_get(j, "data")), 0);
	json_decref(j);
	j = call(base, "/api/v1/metadata?limit=x", NULL, &st);
	expect_error(j, st, 400, "bad_data", "limit must be a number");
	json_decref(j);
}

static void test_errors(void **state)
{
	(void)state;
	long st;
	json_t *j = call(base, "/api/v1/query?query=rate(x%5B5m%5D&time=10", NULL, &st);
	expect_error(j, st, 400, "bad_data", "parse error");
	json_decref(j);
	j = call(base, "/api/v1/query", "query=", &st);
	expect_error(j, st, 400, "bad_data", "no expression found");
	json_decref(j);
	j = call(base, "/api/v1/query?query=1&time=yesterday", NULL, &st);
	expect_error(j, st, 400, "bad_data", "invalid parameter \"time\"");
	json_decref(j);
	/* duplicate series after label_replace: 422 execution */
	j = call(
	    base,
	    "/api/v1/query?query=label_replace(dup_source%2C%22a%22%2C%22s%22%2C%22a%22%2C%22.*%22)&time=1700001000",
	    NULL, &st);
	expect_error(j, st, 422, "execution", "same labelset");
	json_decref(j);
	/* absurd resolution */
	j = call(base, "/api/v1/query_range?query=1&start=0&end=1000000&step=1", NULL, &st);
	expect_error(j, st, 400, "bad_data", "11,000 points");
	json_decref(j);
	j = call(base, "/api/v1/query_range?query=1&start=100&end=10&step=1", NULL, &st);
	expect_error(j, st, 400, "bad_data", "before start");
	json_decref(j);
	j = call(base, "/api/v1/query_range?query=1&start=0&end=10&step=0", NULL, &st);
	expect_error(j, st, 400, "bad_data", "step");
	json_decref(j);
	j = call(base, "/api/v1/query_range?query=x%5B5m%5D&start=0&end=10&step=1", NULL, &st);
	expect_error(j, st, 400, "bad_data", "range vector");
	json_decref(j);
	j = call(base, "/api/v1/series", "start=0", &st);
	expect_error(j, st, 400, "bad_data", "no match[]");
	json_decref(j);
	j = call(base, "/api/v1/series?match[]=rate(x%5B5m%5D)", NULL, &st);
	expect_error(j, st, 400, "bad_data", "series selector");
	json_decref(j);
	j = call(base, "/api/v1/label/bad-name/values", NULL, &st);
	expect_error(j, st, 400, "bad_data", "invalid label name");
	json_decref(j);

	/* deep nesting is refused, not a stack overflow */
	size_t depth = 5000;
	char *deep = malloc(depth * 6 + 64);
	size_t o = (size_t)snprintf(deep, 64, "query=");
	for (size_t i = 0; i < depth; i++)
		deep[o++] = '(';
	deep[o++] = '1';
	for (size_t i = 0; i < depth; i++)
		deep[o++] = ')';
	deep[o] = 0;
	j = call(base, "/api/v1/query", deep, &st);
	expect_error(j, st, 400, "bad_data", "nests too deeply");
	json_decref(j);
	free(deep);

	/* a query that outlives its timeout: 503 timeout, and the server keeps serving */
	j = call(slow_base,
	         "/api/v1/"
	         "query_range?query=count_over_time(sum(http_requests_total)%5B1h:1s%5D)&start=1700000000&end="
	         "1700003600&step=15",
	         NULL, &st);
	expect_error(j, st, 503, "timeout", "timed out");
	json_decref(j);
	j = call(slow_base, "/api/v1/query?query=1%2B1&time=4", NULL, &st);
	assert_int_equal(st, 200);
	json_decref(j);
}

/* many clients at once: every answer complete and identical to a lone one */
static const char *conc_q =
    "query=sum%20by%20(instance)%20(rate(http_requests_total%7Bmethod%3D~%22g.*%22%7D%5B5m%5D))"
    "%20*%20on(instance)%20group_left(version)%20build_info&start=1700000300&end=1700003600&step=15";
static char *conc_want;

static void *conc_worker(void *arg)
{
	(void)arg;
	char url[128];
	snprintf(url, sizeof url, "%s/api/v1/query_range", base);
	const char *hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	intptr_t bad = 0;
	for (int i = 0; i < 20; i++) {
		struct pt_http_result r;
		if (pt_http("POST", url, hdr, conc_q, strlen(conc_q), &r) != 0)
			return (void *)1;
		if (r.status != 200 || strcmp(r.body, conc_want) != 0)
			bad++;
		pt_http_result_free(&r);
	}
	return (void *)bad;
}

static void test_concurrent(void **state)
{
	(void)state;
	char url[128];
	snprintf(url, sizeof url, "%s/api/v1/query_range", base);
	const char *hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	struct pt_http_result r;
	assert_int_equal(pt_http("POST", url, hdr, conc_q, strlen(conc_q), &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"version\":\"1.2.0\""));
	conc_want = strdup(r.body);
	pt_http_result_free(&r);
	pthread_t th[8];
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, conc_worker, NULL), 0);
	intptr_t bad = 0;
	for (int i = 0; i < 8; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		bad += (intptr_t)rv;
	}
	free(conc_want);
	assert_int_equal(bad, 0);
}

/* runs `pane query ARGS... --url base`; returns the exit status, output in *out */
static int run_cli(char **out, const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
	char logp[] = "/tmp/pane-query-cli-XXXXXX";
	int fd = mkstemp(logp);
	assert_true(fd >= 0);
	close(fd);
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)pt_pane_bin();
	argv[n++] = "query";
	const char *as[] = {a1, a2, a3, a4, a5};
	for (int i = 0; i < 5; i++)
		if (as[i])
			argv[n++] = (char *)as[i];
	argv[n++] = "--url";
	argv[n++] = base;
	argv[n] = NULL;
	pid_t pid = pt_spawn(argv, logp);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	FILE *f = fopen(logp, "r");
	assert_non_null(f);
	static char buf[1 << 16];
	size_t len = fread(buf, 1, sizeof buf - 1, f);
	buf[len] = 0;
	fclose(f);
	unlink(logp);
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_cli(void **state)
{
	(void)state;
	char *out;
	assert_int_equal(run_cli(&out, "temperature_celsius", "--time", "1700001830", NULL, NULL), 0);
	if (!strstr(out, "SERIES") || !strstr(out, "temperature_celsius{building=\"main\", room=\"attic\"}"))
		fail_msg("unexpected table:\n%s", out);
	assert_int_equal(run_cli(&out, "sum(build_info)", "--start", "1700000000", "--end", "1700000060"), 0);
	/* default step: 100 points over the range, at least 1 s -> 61 rows */
	if (!strstr(out, "{}") || !strstr(out, "2023-11-14T22:13:20.000Z  2") ||
	    !strstr(out, "2023-11-14T22:14:20.000Z  2"))
		fail_msg("unexpected range output:\n%s", out);
	assert_int_equal(run_cli(&out, "1+1", "--time", "4", "--json", NULL), 0);
	if (!strstr(out, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[4,\"2\"]}}"))
		fail_msg("unexpected JSON:\n%s", out);
	assert_int_equal(
	    run_cli(&out, "label_replace(dup_source,\"a\",\"s\",\"a\",\".*\")", "--time", "1700001000", NULL, NULL), 1);
	if (!strstr(out, "execution: vector cannot contain metrics with the same labelset"))
		fail_msg("unexpected error output:\n%s", out);
	assert_int_equal(run_cli(&out, "sum(", NULL, NULL, NULL, NULL), 1);
	assert_non_null(strstr(out, "parse error"));
	assert_int_equal(run_cli(&out, "up", "--time", "1", "--start", "1"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grafana_save_and_test),
	    cmocka_unit_test(test_query_shapes),
	    cmocka_unit_test(test_series_labels_values),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_cli),
	    cmocka_unit_test(test_concurrent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
