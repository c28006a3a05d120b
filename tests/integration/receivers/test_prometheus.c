/* test_prometheus.c - Debian's Prometheus, configured with remote_write
 * pointing at pane's receiver (real HTTP server, recorder sink), scraping
 * itself; waits until its samples and its metric metadata arrive, then
 * stops it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/stats.h"
#include "http/server.h"
#include "receivers/receivers.h"
#include "recorder.h"
#include "support.h"

static void prometheus_remote_write(void **state)
{
	(void)state;
	struct pane_err err = {0};
	struct pt_recorder *rec = pt_recorder_new();
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, pt_recorder_sink(rec), PANE_SINK_PRIMARY);
	struct pane_stats *stats = pane_stats_new();
	struct pane_http_server *srv =
	    pane_http_server_new(&(struct pane_http_server_opts){.listen = "127.0.0.1:0", .threads = 2}, &err);
	struct pane_receivers_http *routes =
	    pane_receivers_routes(srv, p, &(struct pane_receivers_http_opts){.stats = stats});
	assert_int_equal(pane_http_server_start(srv, &err), 0);

	char dir[] = "/tmp/pane-prom-XXXXXX";
	assert_non_null(mkdtemp(dir));
	int pport = pt_free_port();
	char cfg[512], data[512], log[512];
	snprintf(cfg, sizeof cfg, "%s/prometheus.yml", dir);
	snprintf(data, sizeof data, "%s/data", dir);
	snprintf(log, sizeof log, "%s/prometheus.log", dir);
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "global:\n  scrape_interval: 1s\n  external_labels:\n    source: prom_test\n"
	        "scrape_configs:\n  - job_name: prom\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
	        "remote_write:\n  - url: http://127.0.0.1:%d/api/v1/write\n    queue_config:\n"
	        "      batch_send_deadline: 1s\n      min_backoff: 100ms\n"
	        "    metadata_config:\n      send_interval: 1s\n",
	        pport, pane_http_server_port(srv));
	fclose(f);
	char a_cfg[600], a_data[600], a_listen[64];
	snprintf(a_cfg, sizeof a_cfg, "--config.file=%s", cfg);
	snprintf(a_data, sizeof a_data, "--storage.tsdb.path=%s", data);
	snprintf(a_listen, sizeof a_listen, "--web.listen-address=127.0.0.1:%d", pport);
	char *argv[] = {"/usr/bin/prometheus", a_cfg, a_data, a_listen, NULL};
	pid_t pid = pt_spawn(argv, log);

	/* Prometheus scrapes itself every second and ships the samples to us */
	int64_t deadline = pane_mono_ns() + 90 * 1000000000LL;
	const struct pt_rec_sample *up = NULL;
	while (pane_mono_ns() < deadline &&
	       !(up = pt_recorder_find(rec, "up", "job", "prom", "source", "prom_test", NULL)))
		pane_sleep_ms(200);
	if (!up) {
		char cmd[700];
		snprintf(cmd, sizeof cmd, "tail -20 '%s' >&2", log);
		if (system(cmd) != 0)
			print_message("could not show the prometheus log\n");
	}
	assert_non_null(up);
	assert_true(up->value == 1.0);
	char inst[64];
	snprintf(inst, sizeof inst, "127.0.0.1:%d", pport);
	assert_string_equal(pane_labels_get(&up->labels, "instance"), inst);
	assert_non_null(pt_recorder_find(rec, "prometheus_build_info", "job", "prom", NULL));
	assert_true(pt_recorder_wait_name(rec, "scrape_duration_seconds", 10000));
	/* and the metadata of the families it scraped (WriteRequest.metadata) */
	const struct pt_rec_meta *md = NULL;
	while (pane_mono_ns() < deadline && !(md = pt_recorder_find_meta(rec, "prometheus_http_requests_total")))
		pane_sleep_ms(200);
	assert_non_null(md);
	assert_int_equal(md->type, PANE_METRIC_COUNTER);
	assert_string_equal(md->help, "Counter of HTTP requests.");
	assert_null(pt_recorder_find_meta(rec, "prometheus_http_requests")); /* family names as sent */
	assert_int_equal(pt_stop(pid, SIGTERM), 0);

	struct pane_buf m;
	pane_buf_init(&m, PANE_BUF_NOLIMIT);
	pane_stats_render(stats, &m);
	assert_non_null(strstr(m.data, "pane_receiver_records_total{receiver=\"remote_write\"}"));
	assert_null(strstr(m.data, "pane_receiver_rejected_total{receiver=\"remote_write\"} 1"));
	pane_buf_release(&m);

	char cmd[700];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	pane_http_server_free(srv);
	pane_receivers_http_free(routes);
	pane_pipeline_free(p);
	pt_recorder_free(rec);
	pane_stats_free(stats);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(prometheus_remote_write),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
