/* test_metadata.c - /api/v1/metadata from a real `pane serve`: Prometheus
 * text with HELP/TYPE/UNIT pushed to /api/v1/import/prometheus comes back in
 * Prometheus 2.42's shape, with `metric` and `limit` (and its 400 for a limit
 * that is not a number); hostile metadata (a 64 KiB help, an unknown type)
 * is bounded or refused per line; a changed help wins; pane's own counters
 * describe themselves; everything survives a restart. And the same target
 * scraped by Debian's Prometheus 2.42 and by pane gives the same answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "http/server.h"
#include "pipeline/record.h"
#include "support.h"

static char dir[64], base[64];
static pid_t pid;

static void start_with(const char *extra_yaml)
{
	char cfg[256], data[256], log[256];
	snprintf(cfg, sizeof cfg, "%s/pane.yaml", dir);
	snprintf(data, sizeof data, "%s/data", dir);
	snprintf(log, sizeof log, "%s/pane.log", dir);
	int port = pt_free_port();
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "server:\n  listen: 127.0.0.1:%d\nstore:\n  self_metrics_interval: 100ms\n"
	        "receivers:\n  statsd:\n    enabled: false\n%s",
	        port, extra_yaml);
	fclose(f);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
	char *argv[] = {(char *)pt_pane_bin(), "serve", "--config", cfg, "--data-dir", data, NULL};
	pid = pt_spawn(argv, log);
	char url[128];
	snprintf(url, sizeof url, "%s/readyz", base);
	if (pt_wait_http(url, 20000) < 0) {
		char cmd[400];
		snprintf(cmd, sizeof cmd, "tail -20 '%s' >&2", log);
		if (system(cmd) != 0)
			print_message("could not show the log\n");
		fail_msg("pane serve did not start");
	}
}

static void start(void)
{
	start_with("");
}

static long post_text(const char *text, size_t len)
{
	char url[128];
	snprintf(url, sizeof url, "%s/api/v1/import/prometheus", base);
	const char *h[] = {"Content-Type: text/plain; version=0.0.4", NULL};
	struct pt_http_result r;
	assert_int_equal(pt_http("POST", url, h, text, len, &r), 0);
	long st = r.status;
	pt_http_result_free(&r);
	return st;
}

/* GET /api/v1/metadata?query; returns the parsed body, *status set. */
static json_t *metadata(const char *query, long *status)
{
	char url[512];
	snprintf(url, sizeof url, "%s/api/v1/metadata%s", base, query);
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

static json_t *data_of(json_t *j)
{
	assert_string_equal(json_string_value(json_object_get(j, "status")), "success");
	json_t *d = json_object_get(j, "data");
	assert_true(json_is_object(d));
	return d;
}

/* The one entry of name: {"type","help","unit"} exactly. */
static json_t *entry(json_t *data, const char *name)
{
	json_t *a = json_object_get(data, name);
	if (!json_is_array(a))
		fail_msg("no metadata for %s", name);
	assert_int_equal(json_array_size(a), 1);
	json_t *e = json_array_get(a, 0);
	assert_int_equal(json_object_size(e), 3);
	return e;
}

static const char *field(json_t *e, const char *k)
{
	const char *s = json_string_value(json_object_get(e, k));
	assert_non_null(s);
	return s;
}

static void metadata_round_trip(void **state)
{
	(void)state;
	unsetenv("DATABASE_URL"); /* the store alone: no queue */
	snprintf(dir, sizeof dir, "/tmp/pane-metadata-XXXXXX");
	assert_non_null(mkdtemp(dir));
	start();

	long st;
	json_t *j = metadata("", &st);
	assert_int_equal(st, 200);
	json_decref(j);

	static const char text[] = "# HELP shop_orders_total Orders placed, by \"channel\".\n"
	                           "# TYPE shop_orders_total counter\n"
	                           "shop_orders_total{channel=\"web\"} 12\n"
	                           "# HELP shop_latency_seconds Checkout latency.\n"
	                           "# TYPE shop_latency_seconds histogram\n"
	                           "shop_latency_seconds_bucket{le=\"+Inf\"} 3\n"
	                           "shop_latency_seconds_count 3\n"
	                           "# TYPE shop_queue gauge\n"
	                           "shop_queue 4\n"
	                           "# TYPE shop_legacy untyped\n"
	                           "shop_legacy 1\n";
	assert_int_equal(post_text(text, sizeof text - 1), 204);

	j = metadata("", &st);
	assert_int_equal(st, 200);
	json_t *d = data_of(j);
	json_t *e = entry(d, "shop_orders_total");
	assert_string_equal(field(e, "type"), "counter");
	assert_string_equal(field(e, "help"), "Orders placed, by \"channel\".");
	assert_string_equal(field(e, "unit"), "");
	assert_string_equal(field(entry(d, "shop_latency_seconds"), "type"), "histogram");
	assert_null(json_object_get(d, "shop_latency_seconds_bucket")); /* keyed by family, as Prometheus */
	e = entry(d, "shop_queue");
	assert_string_equal(field(e, "type"), "gauge");
	assert_string_equal(field(e, "help"), "");
	assert_string_equal(field(entry(d, "shop_legacy"), "type"), "unknown");
	json_decref(j);

	/* metric= picks one family; unknown names and suffixed names answer {} */
	j = metadata("?metric=shop_queue", &st);
	d = data_of(j);
	assert_int_equal(json_object_size(d), 1);
	entry(d, "shop_queue");
	json_decref(j);
	j = metadata("?metric=shop_latency_seconds_count", &st);
	assert_int_equal(json_object_size(data_of(j)), 0);
	json_decref(j);

	/* limit: a count of families; 0 answers {}, a negative one is no limit */
	j = metadata("?limit=2", &st);
	assert_int_equal(json_object_size(data_of(j)), 2);
	json_decref(j);
	j = metadata("?limit=0", &st);
	assert_int_equal(json_object_size(data_of(j)), 0);
	json_decref(j);
	j = metadata("?limit=-1", &st);
	assert_true(json_object_size(data_of(j)) >= 4);
	json_decref(j);
	j = metadata("?limit=abc", &st);
	assert_int_equal(st, 400);
	assert_string_equal(json_string_value(json_object_get(j, "errorType")), "bad_data");
	assert_string_equal(json_string_value(json_object_get(j, "error")), "limit must be a number");
	json_decref(j);
	j = metadata("?limit=1.5", &st);
	assert_int_equal(st, 400);
	json_decref(j);
	/* 2.42 has no limit_per_metric: ignored, as Prometheus does */
	j = metadata("?limit_per_metric=abc&metric=shop_queue", &st);
	assert_int_equal(st, 200);
	assert_int_equal(json_object_size(data_of(j)), 1);
	json_decref(j);

	/* hostile: a 64 KiB help is cut to the bound, an unknown type is a bad
	 * line (the push says so) and leaves what was stored alone */
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_adds(&b, "# HELP shop_huge ");
	for (int i = 0; i < 65536; i++)
		pane_buf_addc(&b, (char)('a' + i % 26));
	pane_buf_adds(&b, "\n# TYPE shop_huge gauge\nshop_huge 1\n# TYPE shop_queue histogrammm\nshop_queue 5\n");
	long pst = post_text(b.data, b.len);
	assert_int_equal(pst, 400); /* the receiver reports the bad line; good lines were kept */
	pane_buf_release(&b);
	j = metadata("?metric=shop_huge", &st);
	e = entry(data_of(j), "shop_huge");
	assert_int_equal(strlen(field(e, "help")), PANE_METADATA_HELP_MAX);
	json_decref(j);
	j = metadata("?metric=shop_queue", &st);
	assert_string_equal(field(entry(data_of(j), "shop_queue"), "type"), "gauge");
	json_decref(j);

	/* a changed help replaces the old one */
	static const char text2[] = "# HELP shop_queue Orders waiting.\n# TYPE shop_queue gauge\nshop_queue 6\n";
	assert_int_equal(post_text(text2, sizeof text2 - 1), 204);
	j = metadata("?metric=shop_queue", &st);
	assert_string_equal(field(entry(data_of(j), "shop_queue"), "help"), "Orders waiting.");
	json_decref(j);

	/* pane's own counters describe themselves (self_metrics_interval 100ms) */
	int64_t deadline = pane_mono_ns() + 20 * 1000000000LL;
	json_t *own = NULL;
	while (pane_mono_ns() < deadline) {
		j = metadata("?metric=pane_store_series", &st);
		if (json_object_size(data_of(j))) {
			own = j;
			break;
		}
		json_decref(j);
		pane_sleep_ms(100);
	}
	assert_non_null(own);
	e = entry(data_of(own), "pane_store_series");
	assert_string_equal(field(e, "type"), "gauge");
	assert_true(strlen(field(e, "help")) > 0);
	json_decref(own);

	/* a restart keeps it all */
	assert_int_equal(pt_stop(pid, SIGTERM), 0);
	start();
	j = metadata("?metric=shop_orders_total", &st);
	assert_string_equal(field(entry(data_of(j), "shop_orders_total"), "help"), "Orders placed, by \"channel\".");
	json_decref(j);
	assert_int_equal(pt_stop(pid, SIGTERM), 0);

	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* An exposition with the corners of the text format's metadata: escapes,
 * blanks after the separator, untyped, help without type and the reverse,
 * families without samples, non-ASCII help. */
static const char exposition[] = "# HELP esc_total Escapes: back\\\\slash, new\\nline, quote \\\" tab\tend.  \n"
                                 "# TYPE esc_total counter\n"
                                 "esc_total 1\n"
                                 "# HELP plain_gauge   Leading blanks belong to the help.\n"
                                 "# TYPE plain_gauge gauge\n"
                                 "plain_gauge 2\n"
                                 "# TYPE untyped_thing untyped\n"
                                 "untyped_thing 3\n"
                                 "# HELP help_only Only help, no type.\n"
                                 "help_only 4\n"
                                 "# TYPE hist_seconds histogram\n"
                                 "# HELP hist_seconds A histogram.\n"
                                 "hist_seconds_bucket{le=\"1\"} 1\n"
                                 "hist_seconds_bucket{le=\"+Inf\"} 2\n"
                                 "hist_seconds_sum 3\n"
                                 "hist_seconds_count 2\n"
                                 "# TYPE sum_q summary\n"
                                 "sum_q{quantile=\"0.5\"} 1\n"
                                 "sum_q_sum 1\n"
                                 "sum_q_count 1\n"
                                 "# HELP unicode_g Gr\xc3\xbc\xc3\x9f"
                                 "e \xe2\x80\x93 <b>&amp;\n"
                                 "# TYPE unicode_g gauge\n"
                                 "unicode_g 5\n"
                                 "# TYPE typed_no_samples gauge\n"
                                 "# HELP empty_help \n"
                                 "# TYPE empty_help gauge\n"
                                 "empty_help 6\n";

static void h_exposition(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req, (void)ctx;
	pane_buf_adds(pane_http_resp_body(resp), exposition);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "text/plain; version=0.0.4");
}

/* GET url's "data" once it holds at least `want` families and, when like
 * is given, every family of like (scrapes are 1 s apart). */
static bool has_all(json_t *d, json_t *like)
{
	const char *name;
	json_t *v;
	json_object_foreach(like, name, v)
	{
		if (!json_object_get(d, name))
			return false;
	}
	return true;
}

static json_t *wait_data(const char *url, size_t want, json_t *like)
{
	int64_t deadline = pane_mono_ns() + 60 * 1000000000LL;
	while (pane_mono_ns() < deadline) {
		struct pt_http_result r;
		if (pt_http("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200) {
			json_t *j = json_loads(r.body, 0, NULL);
			pt_http_result_free(&r);
			json_t *d = json_object_get(j, "data");
			if (json_object_size(d) >= want && (!like || has_all(d, like))) {
				json_incref(d);
				json_decref(j);
				return d;
			}
			json_decref(j);
		} else if (r.body) {
			pt_http_result_free(&r);
		}
		pane_sleep_ms(200);
	}
	fail_msg("no metadata at %s", url);
	return NULL;
}

static void same_answers_as_prometheus(void **state)
{
	(void)state;
	unsetenv("DATABASE_URL");
	snprintf(dir, sizeof dir, "/tmp/pane-metadata-XXXXXX");
	assert_non_null(mkdtemp(dir));
	struct pane_err err = {0};
	struct pane_http_server *target =
	    pane_http_server_new(&(struct pane_http_server_opts){.listen = "127.0.0.1:0", .threads = 2}, &err);
	assert_non_null(target);
	pane_http_server_route(
	    target, &(struct pane_http_route){.method = "GET", .pattern = "/metrics", .handler = h_exposition});
	assert_int_equal(pane_http_server_start(target, &err), 0);
	int tport = pane_http_server_port(target);

	char yaml[256];
	snprintf(yaml, sizeof yaml,
	         "scrape:\n  interval: 1s\n  targets:\n    - url: http://127.0.0.1:%d/metrics\n"
	         "      job: t\n",
	         tport);
	start_with(yaml);

	char cfg[256], data[256], log[256], a_cfg[300], a_data[300], a_listen[64];
	snprintf(cfg, sizeof cfg, "%s/prometheus.yml", dir);
	snprintf(data, sizeof data, "%s/prom", dir);
	snprintf(log, sizeof log, "%s/prometheus.log", dir);
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: t\n    static_configs:\n"
	        "      - targets: ['127.0.0.1:%d']\n",
	        tport);
	fclose(f);
	int pport = pt_free_port();
	snprintf(a_cfg, sizeof a_cfg, "--config.file=%s", cfg);
	snprintf(a_data, sizeof a_data, "--storage.tsdb.path=%s", data);
	snprintf(a_listen, sizeof a_listen, "--web.listen-address=127.0.0.1:%d", pport);
	char *argv[] = {"/usr/bin/prometheus", a_cfg, a_data, a_listen, NULL};
	pid_t ppid = pt_spawn(argv, log);

	char url[160];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/metadata", pport);
	json_t *prom = wait_data(url, 9, NULL);
	/* pane also holds its own counters' metadata: compare the target's families */
	snprintf(url, sizeof url, "%s/api/v1/metadata", base);
	json_t *mine = wait_data(url, 9, prom);
	const char *name;
	json_t *v;
	size_t compared = 0;
	json_object_foreach(prom, name, v)
	{
		json_t *m = json_object_get(mine, name);
		if (!json_equal(v, m)) {
			char *a = json_dumps(v, 0), *b = m ? json_dumps(m, 0) : NULL;
			fail_msg("%s: prometheus %s, pane %s", name, a, b ? b : "(none)");
		}
		compared++;
	}
	assert_int_equal(compared, 9);
	/* one family by name, both sides */
	json_t *esc = json_object_get(json_array_get(json_object_get(mine, "esc_total"), 0), "help");
	assert_string_equal(json_string_value(esc), "Escapes: back\\slash, new\nline, quote \\\" tab\tend.  ");
	json_decref(prom);
	json_decref(mine);

	assert_int_equal(pt_stop(ppid, SIGTERM), 0);
	assert_int_equal(pt_stop(pid, SIGTERM), 0);
	pane_http_server_free(target);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(metadata_round_trip),
	    cmocka_unit_test(same_answers_as_prometheus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
