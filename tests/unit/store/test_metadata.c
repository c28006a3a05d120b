/* test_metadata.c - the store's metric metadata table: upsert (last writer
 * wins), reads sorted by name with a metric filter and a limit, entries that
 * break record.h's rules skipped, persistence across a reopen, and the same
 * rows through the store's sink and reader; logs.db made by the first write
 * only, and reads before it answer nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static char dir[64];

static struct pane_store *open_store(void)
{
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.dir = dir;
	struct pane_err err = {0};
	struct pane_store *st = pane_store_open(&o, &err);
	if (!st)
		fail_msg("open: %s", err.msg);
	return st;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/pane-meta-test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Reads through the store; checks count and returns the array (free it). */
static struct pane_metadata *read_all(struct pane_store *st, const char *metric, size_t limit, size_t want)
{
	struct pane_metadata *m = NULL;
	size_t n = 99;
	struct pane_err err = {0};
	assert_int_equal(pane_store_metadata(st, metric, limit, &m, &n, &err), 0);
	assert_int_equal(n, want);
	if (!want)
		assert_null(m);
	return m;
}

static void upsert_read_filter_limit(void **state)
{
	(void)state;
	struct pane_store *st = open_store();
	struct pane_err err = {0};
	struct pane_metadata in[] = {
	    {"zeta_total", PANE_METRIC_COUNTER, "Zeta things.", ""},
	    {"alpha_seconds", PANE_METRIC_HISTOGRAM, "Alpha \"latency\"\nsecond line", "seconds"},
	    {"mid", PANE_METRIC_GAUGE, NULL, NULL}, /* NULL help/unit read back as "" */
	};
	assert_int_equal(pane_store_write_metadata(st, in, 3, &err), 0);

	struct pane_metadata *m = read_all(st, NULL, SIZE_MAX, 3);
	assert_string_equal(m[0].name, "alpha_seconds");
	assert_int_equal(m[0].type, PANE_METRIC_HISTOGRAM);
	assert_string_equal(m[0].help, "Alpha \"latency\"\nsecond line");
	assert_string_equal(m[0].unit, "seconds");
	assert_string_equal(m[1].name, "mid");
	assert_string_equal(m[1].help, "");
	assert_string_equal(m[1].unit, "");
	assert_string_equal(m[2].name, "zeta_total");
	assert_int_equal(m[2].type, PANE_METRIC_COUNTER);
	free(m);

	m = read_all(st, "zeta_total", SIZE_MAX, 1);
	assert_string_equal(m[0].help, "Zeta things.");
	free(m);
	read_all(st, "zeta", SIZE_MAX, 0); /* exact names only */
	m = read_all(st, NULL, 2, 2);
	assert_string_equal(m[1].name, "mid");
	free(m);
	read_all(st, NULL, 0, 0);

	/* last writer wins; writing the same row again changes nothing */
	struct pane_metadata again[] = {{"zeta_total", PANE_METRIC_GAUGE, "Zeta, now a gauge.", "bytes"},
	                                {"mid", PANE_METRIC_GAUGE, "", ""}};
	assert_int_equal(pane_store_write_metadata(st, again, 2, &err), 0);
	m = read_all(st, "zeta_total", SIZE_MAX, 1);
	assert_int_equal(m[0].type, PANE_METRIC_GAUGE);
	assert_string_equal(m[0].help, "Zeta, now a gauge.");
	assert_string_equal(m[0].unit, "bytes");
	free(m);
	free(read_all(st, NULL, SIZE_MAX, 3));
	pane_store_close(st);

	/* persisted in logs.db */
	st = open_store();
	m = read_all(st, NULL, SIZE_MAX, 3);
	assert_string_equal(m[2].help, "Zeta, now a gauge.");
	free(m);
	pane_store_close(st);
}

static void hostile_entries_are_skipped(void **state)
{
	(void)state;
	struct pane_store *st = open_store();
	char *huge = malloc(PANE_METADATA_HELP_MAX + 2);
	memset(huge, 'h', PANE_METADATA_HELP_MAX + 1);
	huge[PANE_METADATA_HELP_MAX + 1] = '\0';
	char *fits = strdup(huge);
	fits[PANE_METADATA_HELP_MAX] = '\0';
	char unit[PANE_METADATA_UNIT_MAX + 2];
	memset(unit, 'u', sizeof unit - 1);
	unit[sizeof unit - 1] = '\0';
	struct pane_metadata in[] = {
	    {"bad name", PANE_METRIC_GAUGE, "", ""},
	    {"", PANE_METRIC_GAUGE, "", ""},
	    {NULL, PANE_METRIC_GAUGE, "", ""},
	    {"too_much_help", PANE_METRIC_GAUGE, huge, ""},
	    {"too_long_unit", PANE_METRIC_GAUGE, "", unit},
	    {"just_fits", PANE_METRIC_SUMMARY, fits, ""},
	    {"odd_type", (enum pane_metric_type)42, "", ""},
	};
	struct pane_err err = {0};
	assert_int_equal(pane_store_write_metadata(st, in, sizeof in / sizeof in[0], &err), 0);
	struct pane_metadata *m = read_all(st, NULL, SIZE_MAX, 2);
	assert_string_equal(m[0].name, "just_fits");
	assert_int_equal(strlen(m[0].help), PANE_METADATA_HELP_MAX);
	assert_string_equal(m[1].name, "odd_type"); /* an out-of-range type is stored as unknown */
	assert_int_equal(m[1].type, PANE_METRIC_UNKNOWN);
	free(m);
	free(huge);
	free(fits);
	pane_store_close(st);
}

static void sink_and_reader(void **state)
{
	(void)state;
	struct pane_store *st = open_store();
	struct pane_sink sink = pane_store_sink(st);
	assert_non_null(sink.ops->write_metadata);
	struct pane_metadata in = {"via_sink_total", PANE_METRIC_COUNTER, "Through the sink.", ""};
	struct pane_err err = {0};
	assert_int_equal(sink.ops->write_metadata(sink.ctx, &in, 1, &err), 0);
	struct pane_reader rd = pane_store_reader(st);
	assert_non_null(rd.ops->metadata);
	struct pane_metadata *m = NULL;
	size_t n = 0;
	assert_int_equal(rd.ops->metadata(rd.ctx, "via_sink_total", SIZE_MAX, &m, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].help, "Through the sink.");
	assert_string_equal(pane_metric_type_name(m[0].type), "counter");
	free(m);
	pane_store_close(st);
}

static int count_line(void *arg, const struct pane_log_line *l)
{
	(void)l;
	++*(int *)arg;
	return 0;
}

static int count_event(void *arg, const struct pane_event_row *e)
{
	(void)e;
	++*(int *)arg;
	return 0;
}

static int lines(struct pane_store *st)
{
	struct pane_logreader lr = pane_store_logreader(st);
	struct pane_log_select sel = {.mint = 0, .maxt = INT64_MAX, .contains = "hello"};
	struct pane_event_select es = {.mint = 0, .maxt = INT64_MAX};
	struct pane_err err = {0};
	int n = 0, ne = 0;
	assert_int_equal(lr.ops->select(lr.ctx, &sel, count_line, &n, &err), 0);
	assert_int_equal(lr.ops->events(lr.ctx, &es, count_event, &ne, &err), 0);
	assert_int_equal(ne, 0);
	return n;
}

static bool logs_db_exists(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/logs.db", dir);
	return access(path, F_OK) == 0;
}

static void logs_db_made_by_first_write(void **state)
{
	(void)state;
	struct pane_store *st = open_store();
	struct pane_err err = {0};
	/* a store of metrics only carries no logs.db; reads answer nothing */
	assert_false(logs_db_exists());
	read_all(st, NULL, SIZE_MAX, 0);
	assert_int_equal(lines(st), 0);
	assert_int_equal(pane_store_write_metadata(st, NULL, 0, &err), 0);
	assert_int_equal(pane_store_write_logs(st, NULL, 0, &err), 0);
	assert_int_equal(pane_store_maintain(st, 1700000000000, &err), 0); /* retention */
	assert_false(logs_db_exists());
	pane_store_close(st);
	assert_false(logs_db_exists());
	/* the first line creates it; it is read back after a reopen */
	st = open_store();
	struct pane_log_record l = {.ts_ms = 1700000000000, .message = "hello there", .message_len = 11};
	assert_int_equal(pane_store_write_logs(st, &l, 1, &err), 0);
	assert_true(logs_db_exists());
	assert_int_equal(lines(st), 1);
	pane_store_close(st);
	st = open_store();
	assert_int_equal(lines(st), 1);
	pane_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(upsert_read_filter_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(hostile_entries_are_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(sink_and_reader, setup, teardown),
	    cmocka_unit_test_setup_teardown(logs_db_made_by_first_write, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
