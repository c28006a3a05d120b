/* test_postgres.c - the test harness's PostgreSQL: reachable, fresh databases
 * per test are isolated, pg_stat_statements is preloaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static PGconn *connect_to(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect %s: %s", url, PQerrorMessage(c));
	return c;
}

static void fresh_databases_are_isolated(void **state)
{
	(void)state;
	char *a = pt_db_fresh("foundation_a");
	char *b = pt_db_fresh("foundation_b");
	PGconn *ca = connect_to(a), *cb = connect_to(b);
	PQclear(PQexec(ca, "CREATE TABLE t (x int)"));
	PGresult *r = PQexec(cb, "SELECT count(*) FROM pg_tables WHERE tablename = 't'");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(r, 0, 0), "0");
	PQclear(r);
	r = PQexec(
	    ca,
	    "SELECT current_setting('shared_preload_libraries'), current_setting('server_version_num')::int >= 150000");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_non_null(strstr(PQgetvalue(r, 0, 0), "pg_stat_statements"));
	assert_string_equal(PQgetvalue(r, 0, 1), "t");
	PQclear(r);
	PQfinish(ca);
	PQfinish(cb);
	/* recreating drops the old contents even with a connection gone stale */
	char *a2 = pt_db_fresh("foundation_a");
	ca = connect_to(a2);
	r = PQexec(ca, "SELECT count(*) FROM pg_tables WHERE tablename = 't'");
	assert_string_equal(PQgetvalue(r, 0, 0), "0");
	PQclear(r);
	PQfinish(ca);
	free(a);
	free(a2);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(fresh_databases_are_isolated)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
