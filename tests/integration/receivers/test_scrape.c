/* test_scrape.c - scrape loops against real targets: Debian's
 * prometheus-node-exporter, a target whose series disappear (staleness), a
 * target that returns 10 MB (cut at max_body, counted), a target that never
 * answers (timeout), and target removal (stale markers for everything). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/stats.h"
#include "http/server.h"
#include "receivers/scrape.h"
#include "recorder.h"
#include "support.h"

static atomic_int phase;

static void h_toggle(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	struct pane_buf *b = pane_http_resp_body(resp);
	pane_buf_adds(b, "# TYPE keep gauge\nkeep{x=\"1\"} 1\n");
	if (atomic_load(&phase) == 0)
		pane_buf_adds(b, "goes_away 2\n");
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "text/plain; version=0.0.4");
}

static void h_big(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	struct pane_buf *b = pane_http_resp_body(resp);
	for (int i = 0; b->len < (10u << 20); i++)
		pane_buf_addf(b, "big_metric{i=\"%d\"} %d\n", i, i);
	pane_http_resp_status(resp, 200);
}

static bool wait_for(struct pt_recorder *rec, const char *name, const char *lk, const char *lv, double want, bool stale)
{
	int64_t deadline = pane_mono_ns() + 20 * 1000000000LL;
	while (pane_mono_ns() < deadline) {
		const struct pt_rec_sample *s = pt_recorder_find(rec, name, lk, lv, NULL);
		if (s && (stale ? pane_is_stale_nan(s->value) : s->value == want))
			return true;
		pane_sleep_ms(50);
	}
	print_message("timed out waiting for %s{%s=%s}\n", name, lk, lv);
	return false;
}

static void scrape_targets(void **state)
{
	(void)state;
	struct pane_err err = {0};
	struct pane_stats *stats = pane_stats_new();
	struct pt_recorder *rec = pt_recorder_new();
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, pt_recorder_sink(rec), PANE_SINK_PRIMARY);

	/* targets served by pane's own HTTP server */
	struct pane_http_server *srv =
	    pane_http_server_new(&(struct pane_http_server_opts){.listen = "127.0.0.1:0", .threads = 2}, &err);
	pane_http_server_route(srv,
	                       &(struct pane_http_route){.method = "GET", .pattern = "/toggle", .handler = h_toggle});
	pane_http_server_route(srv, &(struct pane_http_route){.method = "GET", .pattern = "/big", .handler = h_big});
	assert_int_equal(pane_http_server_start(srv, &err), 0);
	int port = pane_http_server_port(srv);

	/* a target that accepts connections and never answers */
	int hang = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(bind(hang, (struct sockaddr *)&sa, sizeof sa), 0);
	listen(hang, 16);
	socklen_t sl = sizeof sa;
	getsockname(hang, (struct sockaddr *)&sa, &sl);

	/* Debian's node exporter on a free loopback port */
	int ne_port = pt_free_port();
	char listen_arg[64], ne_url[128];
	snprintf(listen_arg, sizeof listen_arg, "--web.listen-address=127.0.0.1:%d", ne_port);
	snprintf(ne_url, sizeof ne_url, "http://127.0.0.1:%d/metrics", ne_port);
	char *ne_argv[] = {"/usr/bin/prometheus-node-exporter",
	                   listen_arg,
	                   "--collector.disable-defaults",
	                   "--collector.cpu",
	                   "--collector.loadavg",
	                   "--collector.meminfo",
	                   NULL};
	pid_t ne = pt_spawn(ne_argv, "/dev/null");
	assert_int_equal(pt_wait_http(ne_url, 15000), 0);

	char u_toggle[128], u_big[128], u_hang[128];
	snprintf(u_toggle, sizeof u_toggle, "http://127.0.0.1:%d/toggle", port);
	snprintf(u_big, sizeof u_big, "http://127.0.0.1:%d/big", port);
	snprintf(u_hang, sizeof u_hang, "http://127.0.0.1:%d/metrics", ntohs(sa.sin_port));
	struct pane_labels extra;
	pane_labels_init(&extra);
	pane_labels_set(&extra, "team", "infra");
	struct pane_labels defaults; /* receivers.default_labels: only where a series lacks the label */
	pane_labels_init(&defaults);
	pane_labels_set(&defaults, "environment", "production");
	pane_labels_set(&defaults, "team", "not-this-one");
	struct pane_scrape_target t[] = {
	    {.url = ne_url,
	     .job = "node",
	     .interval_ms = 500,
	     .timeout_ms = 5000,
	     .labels = &extra,
	     .defaults = &defaults},
	    {.url = u_toggle, .job = "toggle", .interval_ms = 200},
	    {.url = u_big, .job = "big", .interval_ms = 1000},
	    {.url = u_hang, .job = "hang", .interval_ms = 1000, .timeout_ms = 300},
	};
	struct pane_scraper *sc = pane_scraper_new(p, t, 4, stats, &err);
	assert_non_null(sc);

	assert_true(wait_for(rec, "up", "job", "node", 1, false));
	const struct pt_rec_sample *s = pt_recorder_find(rec, "node_load1", "job", "node", NULL);
	assert_non_null(s);
	assert_string_equal(pane_labels_get(&s->labels, "team"), "infra");
	assert_string_equal(pane_labels_get(&s->labels, "environment"), "production");
	assert_string_equal(pane_labels_get(&pt_recorder_find(rec, "up", "job", "node", NULL)->labels, "environment"),
	                    "production");
	char inst[64];
	snprintf(inst, sizeof inst, "127.0.0.1:%d", ne_port);
	assert_string_equal(pane_labels_get(&s->labels, "instance"), inst);
	assert_non_null(pt_recorder_find(rec, "scrape_duration_seconds", "job", "node", NULL));
	assert_non_null(pt_recorder_find(rec, "node_cpu_seconds_total", "job", "node", NULL));

	/* a series that disappears gets a stale marker */
	assert_true(wait_for(rec, "goes_away", "job", "toggle", 2, false));
	atomic_store(&phase, 1);
	assert_true(wait_for(rec, "goes_away", "job", "toggle", 0, true));
	assert_false(pane_is_stale_nan(pt_recorder_find(rec, "keep", "job", "toggle", NULL)->value));

	/* 10 MB and a hanging target: failed scrapes, counted, up = 0 */
	assert_true(wait_for(rec, "up", "job", "big", 0, false));
	assert_true(wait_for(rec, "up", "job", "hang", 0, false));
	assert_null(pt_recorder_find(rec, "big_metric", NULL)); /* cut before parsing */
	struct pane_buf m;
	pane_buf_init(&m, PANE_BUF_NOLIMIT);
	pane_stats_render(stats, &m);
	char want[256];
	snprintf(want, sizeof want, "pane_scrape_failures_total{target=\"%s\"}", u_big);
	assert_non_null(strstr(m.data, want));
	pane_buf_release(&m);

	/* removing the targets ends their series */
	pane_scraper_free(sc);
	assert_true(pane_is_stale_nan(pt_recorder_find(rec, "keep", "job", "toggle", NULL)->value));
	assert_true(pane_is_stale_nan(pt_recorder_find(rec, "up", "job", "node", NULL)->value));
	assert_true(pane_is_stale_nan(pt_recorder_find(rec, "node_load1", "job", "node", NULL)->value));

	pt_stop(ne, SIGTERM);
	close(hang);
	pane_labels_release(&extra);
	pane_labels_release(&defaults);
	pane_http_server_free(srv);
	pane_pipeline_free(p);
	pt_recorder_free(rec);
	pane_stats_free(stats);
}

static void bad_target(void **state)
{
	(void)state;
	struct pane_err err = {0};
	struct pane_scrape_target t = {.url = "ftp://127.0.0.1/x"};
	assert_null(pane_scraper_new(NULL, &t, 1, NULL, &err));
	assert_non_null(strstr(err.msg, "http://"));
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scrape_targets),
	    cmocka_unit_test(bad_target),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
