/* test_sql.c - the `sql` source against the real PostgreSQL: named queries
 * become samples (value column + label columns), each in a read-only
 * transaction with a timeout and a row limit; a failing query does not
 * stop the others and the source reports why. */
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
#include "pipeline/pipeline.h"
#include "recorder.h"
#include "sources/sources.h"
#include "support.h"

static char *url;

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

static long count_users(void)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r = PQexec(c, "SELECT count(*) FROM users");
	long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return n;
}

static int setup(void **state)
{
	(void)state;
	url = pt_db_fresh("sources_sql");
	setenv("PT_SQL_URL", url, 1);
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("%s", PQerrorMessage(c));
	exec_ok(c, "CREATE TABLE users (id serial, plan text)");
	exec_ok(c, "INSERT INTO users (plan) SELECT CASE WHEN g % 3 = 0 THEN 'pro' ELSE 'free' END "
	           "FROM generate_series(1, 30) g");
	exec_ok(c, "CREATE TABLE orders (customer text, amount numeric)");
	exec_ok(c, "INSERT INTO orders VALUES ('acme', 10.5), ('acme', 4.5), ('globex', 7), (NULL, 1)");
	exec_ok(c, "CREATE SEQUENCE counter");
	PQfinish(c);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(url);
	return 0;
}

struct fx {
	struct pt_recorder *rec;
	struct pane_pipeline *p;
	struct pane_cfg *cfg;
	struct pane_sources *ss;
};

static void start(struct fx *f, const char *queries, const char *extra)
{
	char yaml[8192];
	snprintf(yaml, sizeof yaml, "sources:\n  business:\n    type: sql\n    url: ${PT_SQL_URL}\n%s    queries:\n%s",
	         extra ? extra : "", queries);
	struct pane_err err = {0};
	f->p = pt_recorder_pipeline(&f->rec);
	f->cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), &err);
	if (!f->cfg)
		fail_msg("%s", err.msg);
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

static void rows_become_samples(void **state)
{
	(void)state;
	struct fx f;
	start(&f,
	      "      - name: signups_total\n"
	      "        sql: SELECT plan, count(*) AS value FROM users GROUP BY plan;\n"
	      "      - name: orders_revenue\n"
	      "        sql: SELECT customer, sum(amount) AS revenue, 'eur' AS currency FROM orders GROUP BY customer\n"
	      "        value: revenue\n"
	      "        labels: [customer]\n"
	      "        help: revenue per customer\n",
	      "    environment: test\n");
	struct pane_err err = {0};
	if (pane_sources_collect_once(f.ss, "business", &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(pt_recorder_last(f.rec, "signups_total", "plan", "pro", "provider", "app", "service", "business",
	                             "environment", "test", NULL) == 10);
	assert_true(pt_recorder_last(f.rec, "signups_total", "plan", "free", NULL) == 20);
	assert_true(pt_recorder_last(f.rec, "orders_revenue", "customer", "acme", "currency", NULL, NULL) == 15);
	assert_true(pt_recorder_last(f.rec, "orders_revenue", "customer", "globex", NULL) == 7);
	/* a NULL label value means "no such label" */
	assert_true(pt_recorder_last(f.rec, "orders_revenue", "customer", NULL, NULL) == 1);
	assert_int_equal(pt_recorder_count(f.rec, "orders_revenue", NULL), 3);
	assert_true(pt_recorder_last(f.rec, "pane_source_up", "source", "business", NULL) == 1);
	/* each query's help becomes its metric's metadata */
	const struct pt_rec_meta *md = pt_recorder_find_meta(f.rec, "orders_revenue");
	assert_non_null(md);
	assert_int_equal(md->type, PANE_METRIC_GAUGE);
	assert_string_equal(md->help, "revenue per customer");
	md = pt_recorder_find_meta(f.rec, "signups_total");
	assert_non_null(md);
	assert_int_equal(md->type, PANE_METRIC_COUNTER);
	assert_string_equal(md->help, "");
	finish(&f);
}

static void writes_fail_and_others_still_run(void **state)
{
	(void)state;
	struct fx f;
	start(&f,
	      "      - name: next_id\n"
	      "        sql: SELECT nextval('counter') AS value\n"
	      "      - name: sneaky\n"
	      "        sql: \"SELECT 1 AS value; DELETE FROM users\"\n"
	      "      - name: cte_delete\n"
	      "        sql: WITH d AS (DELETE FROM users RETURNING 1) SELECT count(*) AS value FROM d\n"
	      "      - name: users_total\n"
	      "        sql: SELECT count(*) AS value FROM users\n",
	      NULL);
	struct pane_err err = {0};
	assert_true(pane_sources_collect_once(f.ss, "business", &err) < 0);
	assert_non_null(strstr(err.msg, "query next_id"));
	assert_non_null(strstr(err.msg, "read-only transaction"));
	struct pane_source_status st;
	pane_sources_status(f.ss, "business", &st);
	assert_string_equal(st.last_reason, "query");
	assert_true(pt_recorder_last(f.rec, "users_total", NULL) == 30);
	assert_int_equal(pt_recorder_count(f.rec, "next_id", NULL), 0);
	assert_int_equal(pt_recorder_count(f.rec, "sneaky", NULL), 0);
	assert_int_equal(pt_recorder_count(f.rec, "cte_delete", NULL), 0);
	assert_int_equal(count_users(), 30);
	finish(&f);
}

static void slow_queries_time_out(void **state)
{
	(void)state;
	struct fx f;
	start(&f,
	      "      - name: slow\n"
	      "        sql: SELECT 1 AS value FROM pg_sleep(30)\n"
	      "      - name: quick\n"
	      "        sql: SELECT 2 AS value\n",
	      "    timeout: 2s\n");
	struct pane_err err = {0};
	assert_int_equal(pane_sources_collect_once(f.ss, "business", &err), PANE_ETIMEDOUT);
	struct pane_source_status st;
	pane_sources_status(f.ss, "business", &st);
	assert_string_equal(st.last_reason, "timeout");
	assert_true(pt_recorder_last(f.rec, "quick", NULL) == 2);
	assert_true(
	    pt_recorder_last(f.rec, "pane_source_errors_total", "source", "business", "reason", "timeout", NULL) == 1);
	finish(&f);
}

static void row_limit_and_bad_values(void **state)
{
	(void)state;
	struct fx f;
	start(&f,
	      "      - name: many\n"
	      "        sql: SELECT g::text AS n, g AS value FROM generate_series(1, 50) g ORDER BY g\n",
	      "    max_rows: 10\n");
	struct pane_err err = {0};
	assert_int_equal(pane_sources_collect_once(f.ss, "business", &err), PANE_ETOOBIG);
	assert_int_equal(pt_recorder_count(f.rec, "many", NULL), 10);
	assert_true(pt_recorder_last(f.rec, "many", "n", "10", NULL) == 10);
	assert_int_equal(pt_recorder_count(f.rec, "many", "n", "11", NULL), 0);
	struct pane_source_status st;
	pane_sources_status(f.ss, "business", &st);
	assert_string_equal(st.last_reason, "row_limit");
	finish(&f);

	start(&f,
	      "      - name: words\n"
	      "        sql: SELECT 'abc' AS value\n"
	      "      - name: nothing\n"
	      "        sql: SELECT 1 AS amount\n"
	      "      - name: flags\n"
	      "        sql: SELECT true AS value, NULL::float8 AS other UNION ALL SELECT NULL, 1\n",
	      NULL);
	assert_int_equal(pane_sources_collect_once(f.ss, "business", &err), PANE_EINVAL);
	pane_sources_status(f.ss, "business", &st);
	assert_string_equal(st.last_reason, "bad_value");
	assert_true(pt_recorder_last(f.rec, "flags", NULL) == 1); /* booleans are 0/1; NULL values skipped */
	assert_int_equal(pt_recorder_count(f.rec, "flags", NULL), 1);
	assert_int_equal(pt_recorder_count(f.rec, "words", NULL), 0);
	finish(&f);
}

static void config_mistakes_fail_at_start(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
	    {"    queries: []\n", "expected a list"},
	    {"    queries:\n      - name: 9lives\n        sql: SELECT 1 AS value\n", "not a metric name"},
	    {"    queries:\n      - name: ok\n", "sql: required"},
	    {"    queries:\n      - name: ok\n        sql: \";\"\n", "empty query"},
	    {"    queries:\n      - name: ok\n        sql: SELECT 1\n        labels: [\"bad-label\"]\n",
	     "not a label name"},
	    {"    queries:\n      - SELECT 1\n", "expected a map"},
	    {"", "expected a list"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char yaml[1024];
		snprintf(yaml, sizeof yaml, "sources:\n  business:\n    type: sql\n    url: ${PT_SQL_URL}\n%s",
		         bad[i][0]);
		struct pane_err err = {0};
		struct pane_cfg *cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), &err);
		assert_non_null(cfg);
		struct pane_sources_opts o = {.cfg = cfg, .section = pane_cfg_get(cfg->root, "sources")};
		assert_null(pane_sources_new(&o, &err));
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i][1]);
		pane_cfg_free(cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rows_become_samples),           cmocka_unit_test(writes_fail_and_others_still_run),
	    cmocka_unit_test(slow_queries_time_out),         cmocka_unit_test(row_limit_and_bad_values),
	    cmocka_unit_test(config_mistakes_fail_at_start),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
