/* test_pgstat.c - which statistics SQL the PostgreSQL source runs on which
 * server and pg_stat_statements version (13-17). The SQL itself is run
 * against the real PostgreSQL 15 by tests/integration/sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sources/postgres_queries.h"

static const struct pane_pgstat_query *group(const struct pane_pgstat_query *q, size_t n, const char *g)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(q[i].group, g) == 0)
			return &q[i];
	return NULL;
}

static void database_session_counters_from_14(void **state)
{
	(void)state;
	struct pane_pgstat_query q[PANE_PGSTAT_MAX_QUERIES];
	size_t n = pane_pgstat_select(130011, 108, true, true, q);
	assert_null(strstr(group(q, n, "database")->sql, "session_time"));
	n = pane_pgstat_select(140000, 109, true, true, q);
	assert_non_null(strstr(group(q, n, "database")->sql, "session_time / 1000 AS session_time_seconds_total"));
	assert_non_null(strstr(group(q, n, "database")->sql, "sessions_abandoned_total"));
}

static void checkpointer_moves_in_17(void **state)
{
	(void)state;
	struct pane_pgstat_query q[PANE_PGSTAT_MAX_QUERIES];
	for (int v = 130000; v <= 160000; v += 10000) {
		size_t n = pane_pgstat_select(v, 0, false, false, q);
		assert_null(group(q, n, "checkpointer"));
		assert_non_null(strstr(group(q, n, "bgwriter")->sql, "checkpoints_timed AS checkpoints_timed_total"));
		assert_non_null(strstr(group(q, n, "bgwriter")->sql, "buffers_backend"));
	}
	size_t n = pane_pgstat_select(170002, 0, false, false, q);
	const struct pane_pgstat_query *bg = group(q, n, "bgwriter"), *cp = group(q, n, "checkpointer");
	assert_non_null(cp);
	assert_null(strstr(bg->sql, "checkpoints_timed"));
	assert_null(strstr(bg->sql, "buffers_backend"));
	assert_non_null(strstr(cp->sql, "FROM pg_stat_checkpointer"));
	assert_non_null(strstr(cp->sql, "num_timed AS num_timed_total"));
	assert_string_equal(cp->prefix, "pg_stat_checkpointer_");
}

static void last_scan_columns_from_16(void **state)
{
	(void)state;
	struct pane_pgstat_query q[PANE_PGSTAT_MAX_QUERIES];
	size_t n = pane_pgstat_select(150000, 0, true, false, q);
	assert_null(strstr(group(q, n, "tables")->sql, "last_seq_scan"));
	assert_true(group(q, n, "tables")->param_limit);
	n = pane_pgstat_select(160000, 0, true, false, q);
	assert_non_null(strstr(group(q, n, "tables")->sql, "last_seq_scan"));
	n = pane_pgstat_select(160000, 0, false, false, q);
	assert_null(group(q, n, "tables"));
}

static void statements_follow_the_extension_version(void **state)
{
	(void)state;
	struct pane_pgstat_query q[PANE_PGSTAT_MAX_QUERIES];
	size_t n = pane_pgstat_select(150000, 0, true, true, q);
	assert_null(group(q, n, "statements")); /* not installed */
	n = pane_pgstat_select(150000, 110, true, false, q);
	assert_null(group(q, n, "statements")); /* installed, turned off */
	n = pane_pgstat_select(130000, 108, true, true, q);
	const struct pane_pgstat_query *s = group(q, n, "statements");
	assert_non_null(strstr(s->sql, "s.total_exec_time"));
	assert_non_null(strstr(s->sql, "s.blk_read_time"));
	assert_true(s->param_limit && s->param_text);
	assert_int_equal(s->n_labels, 4);
	n = pane_pgstat_select(170000, 111, true, true, q);
	s = group(q, n, "statements");
	assert_non_null(strstr(s->sql, "s.shared_blk_read_time"));
	assert_null(strstr(s->sql, "s.blk_read_time"));
	n = pane_pgstat_select(130000, 107, true, true, q); /* 1.7 (PG 12) */
	s = group(q, n, "statements");
	assert_non_null(strstr(s->sql, "s.total_time"));
	assert_null(strstr(s->sql, "total_exec_time"));
	assert_true(n <= PANE_PGSTAT_MAX_QUERIES);
}

static void extversion_parses(void **state)
{
	(void)state;
	assert_int_equal(pane_pgstat_parse_extversion("1.10"), 110);
	assert_int_equal(pane_pgstat_parse_extversion("1.8"), 108);
	assert_int_equal(pane_pgstat_parse_extversion("1.11"), 111);
	assert_int_equal(pane_pgstat_parse_extversion("2"), 200);
	assert_int_equal(pane_pgstat_parse_extversion(NULL), 0);
	assert_int_equal(pane_pgstat_parse_extversion("x.y"), 0);
	assert_int_equal(pane_pgstat_parse_extversion(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(database_session_counters_from_14),
	    cmocka_unit_test(checkpointer_moves_in_17),
	    cmocka_unit_test(last_scan_columns_from_16),
	    cmocka_unit_test(statements_follow_the_extension_version),
	    cmocka_unit_test(extversion_parses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
