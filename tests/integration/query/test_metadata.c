/* test_metadata.c - /api/v1/metadata from a real `pane serve`: Prometheus
 * text with HELP/TYPE/UNIT pushed to /api/v1/import/prometheus comes back in
 * Prometheus 2.42's shape, with `metric` and `limit` (and its 400 for a limit
 * that is not a number); hostile metadata (a 64 KiB help, an unknown type)
 * is bounded or refused per line; a changed help wins; pane's own counters
 * describe themselves; everything survives a restart. */
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
#include "pipeline/record.h"
#include "support.h"

static char dir[64], base[64];
static pid_t pid;

static void start(void)
{
	char cfg[256], data[256], log[256];
	snprintf(cfg, sizeof cfg, "%s/pane.yaml", dir);
	snprintf(data, sizeof data, "%s/data", dir);
	snprintf(log, sizeof log, "%s/pane.log", dir);
	int port = pt_free_port();
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f, "server:\n  listen: 127.0.0.1:%d\nstore:\n  self_metrics_interval: 100ms\n"
		   "receivers:\n  statsd:\n    enabled: false\n", port);
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

	static const char text[] =
		"# HELP shop_orders_total Orders placed, by \"channel\".\n"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(metadata_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
