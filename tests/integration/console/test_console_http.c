/* test_console_http.c - the console over real HTTP and a real store in a
 * temporary directory: index.html (never cached, strict CSP) and the
 * content-hashed bundle (cached forever, gzip only when accepted); the
 * overview's queries in one answer; "what changed": a log pattern new in the
 * window ranked first, an unchanged one left out, the series whose level
 * moved ranked above a flat one; masking of variables; 400 for bad input. */
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

#include "base/buf.h"
#include "console/changes.h"
#include "console/console.h"
#include "http/server.h"
#include "store/store.h"
#include "support.h"

static struct pane_http_server *srv;
static struct pane_store *st;
static struct pane_console *con;
static char dir[] = "/tmp/pane-console-XXXXXX";
static char base[64];
static int64_t t_end; /* the window W is [t_end - 10 min, t_end], W' the 10 min before */

#define MIN 60000LL

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
	t_end = (now_ms() / MIN - 1) * MIN;
	int64_t w0 = t_end - 10 * MIN, p0 = w0 - 10 * MIN;

	/* logs: a steady pattern in both windows, a new one in W */
	struct pane_label api[] = {{"provider", "render"}, {"service", "api"}, {"environment", "prod"}};
	struct pane_labels la = {api, 3, 3, false};
	static struct pane_log_record logs[60];
	static char msgs[60][96];
	size_t n = 0;
	for (int i = 0; i < 20; i++) {
		snprintf(msgs[n], sizeof msgs[n], "GET /api/items/%d 200 %dms", 100 + i, 3 + i % 7);
		logs[n] =
		    (struct pane_log_record){p0 + i * 20000LL, &la, PANE_SEV_INFO, msgs[n], strlen(msgs[n]), NULL};
		n++;
		snprintf(msgs[n], sizeof msgs[n], "GET /api/items/%d 200 %dms", 300 + i, 2 + i % 5);
		logs[n] =
		    (struct pane_log_record){w0 + i * 20000LL, &la, PANE_SEV_INFO, msgs[n], strlen(msgs[n]), NULL};
		n++;
	}
	for (int i = 0; i < 6; i++) {
		snprintf(msgs[n], sizeof msgs[n], "payment failed for order %d: \"card declined\" id=%08x", 4700 + i,
		         0xdeadbe00u + (unsigned)i);
		logs[n] = (struct pane_log_record){w0 + 60000 + i * 1000LL, &la, PANE_SEV_ERROR, msgs[n],
		                                   strlen(msgs[n]),         NULL};
		n++;
	}
	assert_int_equal(pane_store_write_logs(st, logs, n, &err), 0);

	/* metrics every 15 s over both windows: latency moves from ~0.1 to ~0.5 in
	 * W, cpu stays flat (with a little noise), requests 200/500 for the overview */
	struct pane_label lat[] = {
	    {"environment", "prod"}, {"provider", "render"}, {"quantile", "0.95"}, {"service", "api"}};
	struct pane_label cpu[] = {{"environment", "prod"}, {"provider", "render"}, {"service", "api"}};
	struct pane_label ok_[] = {
	    {"environment", "prod"}, {"provider", "render"}, {"service", "api"}, {"status_code", "200"}};
	struct pane_label e5[] = {
	    {"environment", "prod"}, {"provider", "render"}, {"service", "api"}, {"status_code", "500"}};
	struct pane_labels llat = {lat, 4, 4, false}, lcpu = {cpu, 3, 3, false}, lok = {ok_, 4, 4, false},
	                   le5 = {e5, 4, 4, false};
	size_t cap = 5 * 80 + 8, k = 0;
	struct pane_sample *s = calloc(cap, sizeof *s);
	for (int64_t t = p0; t <= t_end; t += 15000) {
		double noise = (double)((t / 15000) % 3) * 0.01;
		s[k++] = (struct pane_sample){"render_http_latency_seconds", &llat, t, (t < w0 ? 0.1 : 0.5) + noise};
		s[k++] = (struct pane_sample){"render_cpu_usage_cores", &lcpu, t, 0.25 + noise};
		s[k++] = (struct pane_sample){"render_cpu_limit_cores", &lcpu, t, 1.0};
		s[k++] = (struct pane_sample){"render_http_requests", &lok, t, 30};
		s[k++] = (struct pane_sample){"render_http_requests", &le5, t, 10};
	}
	size_t accepted = 0;
	assert_int_equal(pane_store_write(st, s, k, &accepted, &err), 0);
	assert_int_equal(accepted, k);
	free(s);

	struct pane_http_server_opts o = {.listen = "127.0.0.1:0", .threads = 4};
	srv = pane_http_server_new(&o, &err);
	assert_non_null(srv);
	con = pane_console_new(srv, st, &err);
	assert_non_null(con);
	assert_int_equal(pane_http_server_start(srv, &err), 0);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", pane_http_server_port(srv));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pane_http_server_free(srv);
	pane_console_free(con);
	pane_store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void get_raw(const char *path, const char *accept_encoding, struct pt_http_result *r)
{
	char url[4096], h[128];
	snprintf(url, sizeof url, "%s%s", base, path);
	snprintf(h, sizeof h, "Accept-Encoding: %s", accept_encoding ? accept_encoding : "identity");
	const char *hs[] = {h, NULL};
	assert_int_equal(pt_http("GET", url, hs, NULL, 0, r), 0);
}

static json_t *get_data(const char *path, long want)
{
	struct pt_http_result r;
	get_raw(path, NULL, &r);
	if (r.status != want)
		fail_msg("%s: status %ld, want %ld: %s", path, r.status, want, r.body);
	json_t *j = json_loads(r.body, 0, NULL);
	if (!j)
		fail_msg("%s: not JSON: %s", path, r.body);
	pt_http_result_free(&r);
	return j;
}

static bool has_header(const struct pt_http_result *r, const char *line)
{
	return strcasestr(r->headers, line) != NULL;
}

static void test_index_and_assets(void **state)
{
	(void)state;
	struct pt_http_result r;
	get_raw("/", "gzip", &r);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Cache-Control: no-store"));
	assert_true(has_header(&r, "Content-Security-Policy: default-src 'none'; script-src 'self'"));
	assert_true(has_header(&r, "X-Content-Type-Options: nosniff"));
	assert_true(has_header(&r, "Content-Encoding: gzip"));
	pt_http_result_free(&r);

	get_raw("/", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_false(has_header(&r, "Content-Encoding"));
	const char *js = strstr(r.body, "<script src=\"/assets/app-");
	assert_non_null(js);
	char name[64];
	assert_int_equal(sscanf(js, "<script src=\"/assets/%63[a-z0-9.-]", name), 1);
	assert_non_null(strstr(name, ".js"));
	assert_non_null(strstr(r.body, ".css\""));
	pt_http_result_free(&r);

	char path[128];
	snprintf(path, sizeof path, "/assets/%s", name);
	get_raw(path, "br, gzip;q=0.8", &r);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Cache-Control: public, max-age=31536000, immutable"));
	assert_true(has_header(&r, "Content-Encoding: gzip"));
	assert_true(r.len > 2 && (unsigned char)r.body[0] == 0x1f && (unsigned char)r.body[1] == 0x8b);
	size_t gz = r.len;
	pt_http_result_free(&r);

	/* refused gzip (q=0) and no Accept-Encoding: the plain bundle, larger */
	get_raw(path, "gzip;q=0, identity", &r);
	assert_int_equal(r.status, 200);
	assert_false(has_header(&r, "Content-Encoding"));
	assert_true(r.len > gz);
	assert_true(has_header(&r, "Content-Type: text/javascript"));
	pt_http_result_free(&r);

	get_raw("/assets/app-000000000000.js", NULL, &r);
	assert_int_equal(r.status, 404);
	pt_http_result_free(&r);
	get_raw("/assets/index.html", NULL, &r);
	assert_int_equal(r.status, 404);
	pt_http_result_free(&r);
}

static double last_value(json_t *panel)
{
	json_t *res = json_object_get(panel, "result");
	assert_true(json_is_array(res));
	assert_int_equal(json_array_size(res), 1);
	json_t *vals = json_object_get(json_array_get(res, 0), "values");
	json_t *v = json_array_get(vals, json_array_size(vals) - 1);
	return strtod(json_string_value(json_array_get(v, 1)), NULL);
}

static void test_overview(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof path, "/api/v1/console/overview?start=%lld&end=%lld&step=60",
	         (long long)(t_end / 1000 - 1200), (long long)(t_end / 1000));
	json_t *j = get_data(path, 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "success");
	json_t *d = json_object_get(j, "data");
	const char *keys[] = {"services",
	                      "requests",
	                      "errors",
	                      "p95",
	                      "cpu",
	                      "mem",
	                      "up",
	                      "queue_depth",
	                      "queue_oldest",
	                      "queue_failed",
	                      "supabase",
	                      "db_connections",
	                      "db_max_connections",
	                      "db_size",
	                      "db_longest_query",
	                      "load5"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!json_object_get(d, keys[i]))
			fail_msg("overview without %s", keys[i]);
	json_t *svc = json_array_get(json_object_get(json_object_get(d, "services"), "result"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(svc, "metric"), "service")), "api");
	assert_true(fabs(last_value(json_object_get(d, "errors")) - 0.25) < 1e-9);
	assert_true(fabs(last_value(json_object_get(d, "requests")) - 40) < 1e-9);
	assert_true(fabs(last_value(json_object_get(d, "p95")) - 0.5) < 0.05);
	assert_true(last_value(json_object_get(d, "cpu")) < 0.3);
	/* no memory series: an empty result, not an error */
	assert_int_equal(json_array_size(json_object_get(json_object_get(d, "mem"), "result")), 0);
	json_decref(j);

	/* the engine's range checks and wording (pane_query_check_range) */
	json_t *bad = get_data("/api/v1/console/overview?start=10&end=5&step=1", 400);
	assert_string_equal(json_string_value(json_object_get(bad, "error")),
	                    "invalid parameter \"end\": end timestamp must not be before start time");
	json_decref(bad);
	bad = get_data("/api/v1/console/overview?start=0&end=100000000&step=1", 400);
	assert_non_null(strstr(json_string_value(json_object_get(bad, "error")),
	                       "exceeded maximum resolution of 11,000 points per timeseries"));
	json_decref(bad);
	json_decref(get_data("/api/v1/console/overview?start=0&end=10&step=abc", 400));
	json_decref(get_data("/api/v1/console/overview?end=10&step=1", 400));
}

static void test_changes(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof path, "/api/v1/console/changes?start=%lld&end=%lld&service=api",
	         (long long)(t_end / 1000 - 600), (long long)(t_end / 1000));
	json_t *j = get_data(path, 200);
	json_t *d = json_object_get(j, "data");
	assert_int_equal(json_integer_value(json_object_get(d, "lines")), 26);
	assert_int_equal(json_integer_value(json_object_get(d, "lines_before")), 20);
	json_t *tm = json_object_get(d, "templates");
	/* the new pattern, masked; the steady GET pattern (20 vs 20) is not listed */
	assert_int_equal(json_array_size(tm), 1);
	json_t *t0 = json_array_get(tm, 0);
	assert_string_equal(json_string_value(json_object_get(t0, "template")),
	                    "payment failed for order <*>: <*> id=<*>");
	assert_int_equal(json_integer_value(json_object_get(t0, "count")), 6);
	assert_int_equal(json_integer_value(json_object_get(t0, "before")), 0);
	assert_string_equal(json_string_value(json_object_get(t0, "severity")), "error");
	/* series: latency moved, ranked first */
	json_t *se = json_object_get(d, "series");
	assert_true(json_array_size(se) >= 1);
	json_t *s0 = json_array_get(se, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(s0, "labels"), "__name__")),
	                    "render_http_latency_seconds");
	assert_true(json_real_value(json_object_get(s0, "score")) > 10);
	for (size_t i = 1; i < json_array_size(se); i++)
		assert_true(json_number_value(json_object_get(json_array_get(se, i), "score")) <
		            json_real_value(json_object_get(s0, "score")));
	json_decref(j);

	json_decref(get_data("/api/v1/console/changes?start=100&end=50", 400));
	json_decref(get_data("/api/v1/console/changes?start=0&end=99999999", 400));
	json_decref(get_data("/api/v1/console/changes", 400));
}

static void expect_mask(const char *in, const char *want)
{
	struct pane_buf b;
	pane_buf_init(&b, 4096);
	pane_console_mask(in, strlen(in), &b);
	pane_buf_addc(&b, '\0');
	if (strcmp(b.data, want))
		fail_msg("mask(%s) = '%s', want '%s'", in, b.data, want);
	pane_buf_release(&b);
}

static void test_mask_and_score(void **state)
{
	(void)state;
	expect_mask("GET /api/items/285 502 3ms", "GET /api/items/<*> <*> <*>");
	expect_mask("user 3f2c9a1e-8b7d-4c2e-9f00-123456789abc logged in from 10.0.0.7", "user <*> logged in from <*>");
	expect_mask("worker tick 272: \"quoted\" \\ tab", "worker tick <*>: <*> \\ tab");
	expect_mask("deploy dep-d0000000000000000288 commit 0xdeadbeef took 1.5s", "deploy <*> commit <*> took <*>");
	expect_mask("  spaces   collapse\tto one ", "spaces collapse to one");
	expect_mask("", "");
	expect_mask("'unterminated quote", "<*>");
	expect_mask("error=timeout retries=3 (attempt 2/5)", "error=timeout retries=<*> (attempt <*>/<*>)");

	/* Drain grouping: same shape, different variables -> one template */
	struct pane_console_templates *t = pane_console_templates_new();
	pane_console_templates_add(t, "cache miss for key users", 24, "info", 0);
	pane_console_templates_add(t, "cache miss for key orders", 25, "info", 0);
	pane_console_templates_add(t, "cache miss for key carts", 24, "info", 1);
	struct pane_buf b;
	pane_buf_init(&b, 65536);
	pane_console_templates_json(t, 10, &b);
	pane_buf_addc(&b, '\0');
	assert_non_null(strstr(b.data, "\"template\":\"cache miss for key <*>\",\"count\":2,\"before\":1"));
	pane_buf_release(&b);
	pane_console_templates_free(t);

	double w[] = {5, 5, 5, 6, NAN}, p[] = {1, 1, 2, 1, 1}, mw, mp;
	double sc = pane_console_change_score(w, 5, p, 5, &mw, &mp);
	assert_true(mw == 5 && mp == 1);
	assert_true(fabs(sc - 4.0 / (0.0 + 0.01)) < 1e-6); /* MAD(p) = 0, eps = 1% of 1 */
	assert_true(pane_console_change_score(w, 5, p, 0, &mw, &mp) != pane_console_change_score(w, 5, p, 0, &mw, &mp));
	double flat[] = {2, 2, 2};
	assert_true(pane_console_change_score(flat, 3, flat, 3, NULL, NULL) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_index_and_assets),
	    cmocka_unit_test(test_overview),
	    cmocka_unit_test(test_changes),
	    cmocka_unit_test(test_mask_and_score),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
