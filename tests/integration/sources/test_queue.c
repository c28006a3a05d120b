/* test_queue.c - the `queue` source against the queue's real schema
 * (pane_queue_migrate on the harness PostgreSQL): depth by state, paused
 * queues, oldest runnable age, worker heartbeats, labelled provider="pane";
 * a database without the schema is reported as not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "pane/queue.h"
#include "pipeline/pipeline.h"
#include "recorder.h"
#include "sources/sources.h"
#include "support.h"

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

struct fx {
	struct pt_recorder *rec;
	struct pane_pipeline *p;
	struct pane_cfg *cfg;
	struct pane_sources *ss;
};

static void start(struct fx *f)
{
	const char *yaml = "sources:\n  queue:\n    url: ${PT_Q_URL}\n    environment: test\n";
	struct pane_err err = {0};
	f->p = pt_recorder_pipeline(&f->rec);
	f->cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), &err);
	struct pane_sources_opts o = {
	    .cfg = f->cfg, .section = pane_cfg_get(f->cfg->root, "sources"), .pipeline = f->p};
	f->ss = pane_sources_new(&o, &err);
	if (!f->ss)
		fail_msg("%s", err.msg);
}

static void finish(struct fx *f)
{
	pane_sources_free(f->ss);
	pane_cfg_free(f->cfg);
	pane_pipeline_free(f->p);
}

static void queue_numbers_become_series(void **state)
{
	(void)state;
	char *url = pt_db_fresh("sources_queue");
	PGconn *c = PQconnectdb(url);
	struct pane_err err = {0};
	int64_t id;
	if (pane_queue_migrate(c, NULL, NULL, NULL, &err) < 0)
		fail_msg("migrate: %s", err.msg);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pane_queue_enqueue(c, NULL, &(struct pane_job_spec){.queue = "emails"}, &id, &err), 0);
	assert_int_equal(
	    pane_queue_enqueue(c, NULL, &(struct pane_job_spec){.queue = "emails", .delay_ms = 3600000}, &id, &err), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pane_queue_enqueue(c, NULL, &(struct pane_job_spec){.queue = "reports"}, &id, &err),
		                 0);
	exec_ok(c, "SELECT pane.pause_queue('reports')");
	exec_ok(c, "SELECT pane.register_worker('w1', 'host-a', 123, '{emails}', 4)");
	exec_ok(c, "SELECT * FROM pane.claim('w1', 'emails', 1, 30)");
	exec_ok(c, "SELECT * FROM pane.heartbeat('w1', '{}', '{}', 30, "
	           "'{\"processed\":5,\"failed\":1,\"retried\":2,\"pickup_ms_last\":12.5,\"running\":1}')");

	setenv("PT_Q_URL", url, 1);
	struct fx f;
	start(&f);
	if (pane_sources_collect_once(f.ss, "queue", &err) < 0)
		fail_msg("%s (%s)", err.msg, err.detail);
	struct pt_recorder *r = f.rec;
	assert_true(pt_recorder_last(r, "pane_queue_jobs", "queue", "emails", "state", "available", "provider", "pane",
	                             "environment", "test", NULL) == 2);
	assert_true(pt_recorder_last(r, "pane_queue_jobs", "queue", "emails", "state", "running", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_queue_jobs", "queue", "emails", "state", "scheduled", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_queue_jobs", "queue", "emails", "state", "completed", NULL) == 0);
	assert_true(pt_recorder_last(r, "pane_queue_jobs", "queue", "reports", "state", "available", NULL) == 2);
	assert_true(pt_recorder_last(r, "pane_queue_paused", "queue", "reports", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_queue_paused", "queue", "emails", NULL) == 0);
	assert_true(pt_recorder_last(r, "pane_queue_oldest_runnable_age_seconds", "queue", "emails", NULL) >= 0);
	assert_true(pt_recorder_last(r, "pane_queue_worker_concurrency", "worker", "w1", "provider", "pane", NULL) ==
	            4);
	assert_true(pt_recorder_last(r, "pane_queue_workers", "provider", "pane", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_queue_worker_last_seen_age_seconds", "worker", "w1", NULL) >= 0);
	assert_true(pt_recorder_last(r, "pane_queue_worker_processed_total", "worker", "w1", NULL) == 5);
	assert_true(pt_recorder_last(r, "pane_queue_worker_failed_total", "worker", "w1", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_queue_worker_retried_total", "worker", "w1", NULL) == 2);
	assert_true(pt_recorder_last(r, "pane_queue_worker_pickup_latency_seconds", "worker", "w1", NULL) == 0.0125);
	assert_true(pt_recorder_last(r, "pane_queue_worker_running", "worker", "w1", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_source_up", "source", "queue", NULL) == 1);
	finish(&f);
	PQfinish(c);
	free(url);
}

static void missing_schema_is_reported(void **state)
{
	(void)state;
	char *url = pt_db_fresh("sources_queue_none");
	setenv("PT_Q_URL", url, 1);
	struct fx f;
	start(&f);
	struct pane_err err = {0};
	assert_true(pane_sources_collect_once(f.ss, "queue", &err) < 0);
	assert_non_null(strstr(err.detail, "pane migrate"));
	struct pane_source_status st;
	pane_sources_status(f.ss, "queue", &st);
	assert_string_equal(st.last_reason, "not_installed");
	finish(&f);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(queue_numbers_become_series),
	    cmocka_unit_test(missing_schema_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
