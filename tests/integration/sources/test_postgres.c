/* test_postgres.c - the PostgreSQL statistics source against the real
 * PostgreSQL 15 of the harness: a read-only role with pg_monitor,
 * pg_stat_statements created in a fresh database, every query of the 13,
 * 14 and 15 branches run for real, bounded cardinality, a failing group that
 * does not blind the others, and the collector session's limits. */
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

#include "base/buf.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "recorder.h"
#include "sources/pg.h"
#include "sources/postgres_queries.h"
#include "sources/sources.h"
#include "support.h"

static char *admin_url; /* superuser, the test database */
static char *ro_url;    /* the read-only role, same database */

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

static PGconn *connect_to(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	return c;
}

static int setup(void **state)
{
	(void)state;
	admin_url = pt_db_fresh("sources_pg");
	PGconn *c = connect_to(admin_url);
	exec_ok(c, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
	exec_ok(c, "DO $$ BEGIN CREATE ROLE pt_sources_ro LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
	exec_ok(c, "GRANT pg_monitor TO pt_sources_ro");
	exec_ok(c, "CREATE TABLE orders (id int PRIMARY KEY, amount numeric)");
	exec_ok(c, "CREATE TABLE small_a (x int)");
	exec_ok(c, "CREATE TABLE small_b (x int)");
	exec_ok(c, "INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 5000) g");
	exec_ok(c, "INSERT INTO small_a VALUES (1)");
	exec_ok(c, "SELECT count(*) FROM orders WHERE amount > 10");
	exec_ok(c, "SELECT pg_stat_force_next_flush()");
	exec_ok(c, "SELECT 1"); /* an idle point after the forced flush request */
	PQfinish(c);
	/* same URL, another user: postgresql://postgres@host:port/db -> pt_sources_ro@ */
	const char *at = strchr(admin_url, '@');
	const char *scheme_end = strstr(admin_url, "://");
	assert_non_null(at);
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_add(&b, admin_url, (size_t)(scheme_end + 3 - admin_url));
	pane_buf_addf(&b, "pt_sources_ro%s", at);
	ro_url = pane_buf_detach(&b, NULL);
	setenv("PT_PG_URL", ro_url, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(admin_url);
	free(ro_url);
	return 0;
}

struct fixture {
	struct pt_recorder *rec;
	struct pane_pipeline *p;
	struct pane_cfg *cfg;
	struct pane_sources *ss;
};

static void start(struct fixture *f, const char *yaml)
{
	struct pane_err err = {0};
	f->p = pt_recorder_pipeline(&f->rec);
	f->cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), &err);
	assert_non_null(f->cfg);
	struct pane_sources_opts o = {
	    .cfg = f->cfg, .section = pane_cfg_get(f->cfg->root, "sources"), .pipeline = f->p};
	f->ss = pane_sources_new(&o, &err);
	if (!f->ss)
		fail_msg("%s", err.msg);
}

static void finish(struct fixture *f)
{
	pane_sources_free(f->ss);
	pane_cfg_free(f->cfg);
	pane_pipeline_free(f->p);
}

static void collects_postgres_exporter_style_series(void **state)
{
	(void)state;
	struct fixture f;
	start(&f, "sources:\n  db:\n    type: postgres\n    url: ${PT_PG_URL}\n    statements_limit: 5\n"
	          "    tables_limit: 2\n    environment: test\n");
	struct pane_err err = {0};
	int rc = pane_sources_collect_once(f.ss, "db", &err);
	if (rc < 0)
		fail_msg("collect: %s (%s)", err.msg, err.detail);
	struct pt_recorder *r = f.rec;

	assert_true(
	    pt_recorder_last(r, "pg_up", "provider", "postgres", "service", "db", "environment", "test", NULL) == 1);
	assert_true(pt_recorder_last(r, "pg_stat_database_xact_commit_total", "datname", "pt_sources_pg", NULL) > 0);
	assert_false(isnan(pt_recorder_last(r, "pg_stat_database_session_time_seconds_total", "datname",
	                                    "pt_sources_pg", NULL))); /* PG 14+ columns on 15 */
	assert_true(pt_recorder_last(r, "pg_stat_database_numbackends", "datname", "pt_sources_pg", NULL) >= 1);
	assert_true(pt_recorder_last(r, "pg_database_size_bytes", "datname", "pt_sources_pg", NULL) > 0);
	assert_false(isnan(pt_recorder_last(r, "pg_database_xid_age", "datname", "pt_sources_pg", NULL)));
	assert_true(
	    pt_recorder_last(r, "pg_stat_activity_count", "datname", "pt_sources_pg", "state", "active", NULL) >= 1);
	assert_true(pt_recorder_last(r, "pg_settings_max_connections", NULL) > 0);
	assert_true(pt_recorder_last(r, "pg_connections", NULL) >= 1);
	assert_false(isnan(pt_recorder_last(r, "pg_notification_queue_usage", NULL)));
	assert_true(pt_recorder_last(r, "pg_replication_is_replica", NULL) == 0);
	assert_true(pt_recorder_last(r, "pg_server_version_num", NULL) >= 150000);
	/* 13-16: checkpoints in pg_stat_bgwriter */
	assert_int_equal(pt_recorder_count(r, "pg_stat_bgwriter_checkpoints_timed_total", NULL), 1);
	assert_int_equal(pt_recorder_count(r, "pg_stat_checkpointer_num_timed_total", NULL), 0);
	assert_true(pt_recorder_count(r, "pg_locks_count", "mode", "AccessShareLock", NULL) >= 1);

	/* tables: the two largest only; orders has its live tuples */
	assert_true(pt_recorder_last(r, "pg_stat_user_tables_n_live_tup", "relname", "orders", "schemaname", "public",
	                             NULL) == 5000);
	assert_int_equal(pt_recorder_count(r, "pg_stat_user_tables_size_bytes", NULL), 2);
	assert_int_equal(pt_recorder_count(r, "pg_stat_user_tables_n_tup_ins_total", "relname", "orders", NULL), 1);

	/* statements: bounded to 5 series per metric, with queryid, user and text */
	size_t calls = pt_recorder_count(r, "pg_stat_statements_calls_total", NULL);
	assert_true(calls >= 1 && calls <= 5);
	pt_recorder_lock(r);
	bool saw_text = false;
	for (size_t i = 0; i < r->n_samples; i++) {
		const struct pt_rec_sample *s = &r->samples[i];
		if (strcmp(s->name, "pg_stat_statements_calls_total") != 0)
			continue;
		assert_non_null(pane_labels_get(&s->labels, "queryid"));
		const char *q = pane_labels_get(&s->labels, "query");
		if (q) {
			assert_true(strlen(q) <= 120);
			saw_text = true;
		}
	}
	pt_recorder_unlock(r);
	assert_true(saw_text); /* pg_monitor lets the read-only role see statement text */
	assert_true(pt_recorder_last(r, "pg_stat_statements_tracked", NULL) >= 1);

	/* health */
	assert_true(pt_recorder_last(r, "pane_source_up", "source", "db", NULL) == 1);
	assert_true(pt_recorder_last(r, "pane_source_last_success_timestamp_seconds", "source", "db", NULL) > 1.7e9);
	finish(&f);
}

static void older_version_branches_run_on_this_server(void **state)
{
	(void)state;
	struct pane_err err = {0};
	PGconn *c = pane_src_pg_connect(ro_url, "test", 10000, true, &err);
	if (!c)
		fail_msg("%s", err.msg);
	static const int versions[][2] = {{130000, 108}, {140000, 109}, {150000, 110}, {160000, 0}};
	for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
		if (versions[v][0] >= 160000)
			continue; /* 16+ columns do not exist on 15: covered by test_pgstat */
		struct pane_pgstat_query q[PANE_PGSTAT_MAX_QUERIES];
		size_t n = pane_pgstat_select(versions[v][0], versions[v][1], true, true, q);
		for (size_t i = 0; i < n; i++) {
			const char *params[] = {"10", "50"};
			int np = q[i].param_text ? 2 : q[i].param_limit ? 1 : 0;
			PGresult *r = PQexecParams(c, q[i].sql, np, NULL, params, NULL, NULL, 0);
			if (PQresultStatus(r) != PGRES_TUPLES_OK)
				fail_msg("version %d group %s: %s", versions[v][0], q[i].group, PQerrorMessage(c));
			/* the label columns come first and are named as labels */
			for (int j = 0; j < q[i].n_labels; j++)
				assert_true(pane_label_name_valid(PQfname(r, j), strlen(PQfname(r, j))));
			PQclear(r);
		}
	}
	PQfinish(c);
}

static void session_is_read_only_and_bounded(void **state)
{
	(void)state;
	struct pane_err err = {0};
	PGconn *c = pane_src_pg_connect(admin_url, "test", 300, true, &err);
	if (!c)
		fail_msg("%s", err.msg);
	PGresult *r = PQexec(c, "CREATE TABLE must_not_exist (x int)");
	assert_int_not_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "25006"); /* read_only_sql_transaction */
	PQclear(r);
	r = PQexec(c, "SELECT pg_sleep(30)");
	assert_int_not_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_int_equal(pane_src_pg_error(c, r, "sleep", &err), PANE_ETIMEDOUT);
	assert_non_null(strstr(err.msg, "statement timeout"));
	PQclear(r);
	r = PQexec(c, "SELECT current_setting('application_name')");
	assert_string_equal(PQgetvalue(r, 0, 0), "pane-test");
	PQclear(r);
	PQfinish(c);
}

static void a_blocked_group_does_not_blind_the_others(void **state)
{
	(void)state;
	/* an exclusive lock on the largest table makes the tables query wait
	 * (pg_total_relation_size) until lock_timeout = the source's timeout.
	 * The timeout is also every other query's statement_timeout: 3 s leaves
	 * them room on a loaded machine (at 500 ms the pg_stat_statements query
	 * once timed out too while four builds shared the two cores). */
	PGconn *locker = connect_to(admin_url);
	exec_ok(locker, "BEGIN");
	exec_ok(locker, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
	struct fixture f;
	start(&f, "sources:\n  db:\n    type: postgres\n    url: ${PT_PG_URL}\n    timeout: 3s\n");
	struct pane_err err = {0};
	int rc = pane_sources_collect_once(f.ss, "db", &err);
	assert_true(rc < 0);
	assert_non_null(strstr(err.msg, "query tables"));
	struct pane_source_status st;
	pane_sources_status(f.ss, "db", &st);
	assert_false(st.up);
	assert_string_equal(st.last_reason, "timeout");
	assert_true(pt_recorder_last(f.rec, "pane_source_errors_total", "source", "db", "reason", "timeout", NULL) ==
	            1);
	/* the other groups still delivered */
	assert_true(pt_recorder_count(f.rec, "pg_stat_database_xact_commit_total", NULL) >= 1);
	assert_true(pt_recorder_count(f.rec, "pg_locks_count", "mode", "AccessExclusiveLock", NULL) >= 1);
	assert_true(pt_recorder_count(f.rec, "pg_stat_statements_calls_total", NULL) >= 1);
	exec_ok(locker, "ROLLBACK");
	PQfinish(locker);
	/* the lock is gone: the next collection is clean and the source is up again */
	pt_recorder_clear(f.rec);
	rc = pane_sources_collect_once(f.ss, "db", &err);
	if (rc < 0)
		fail_msg("%s", err.msg);
	assert_true(pt_recorder_last(f.rec, "pane_source_up", "source", "db", NULL) == 1);
	assert_true(pt_recorder_last(f.rec, "pane_source_errors_total", "source", "db", "reason", "timeout", NULL) ==
	            1);
	finish(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(collects_postgres_exporter_style_series),
	    cmocka_unit_test(older_version_branches_run_on_this_server),
	    cmocka_unit_test(session_is_read_only_and_bounded),
	    cmocka_unit_test(a_blocked_group_does_not_blind_the_others),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
