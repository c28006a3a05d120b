/* test_framework.c - the source framework without services: config binding
 * and its errors, standard and health labels, cursor files, and a source
 * that cannot reach its peer being marked down with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "pipeline/pipeline.h"
#include "recorder.h"
#include "sources/sources.h"

static struct pane_sources *load(const char *yaml, struct pane_pipeline *p, const char *dir, struct pane_err *err,
                                 struct pane_cfg **cfg_out)
{
	struct pane_cfg *cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), err);
	assert_non_null(cfg);
	struct pane_sources_opts o = {
	    .cfg = cfg, .section = pane_cfg_get(cfg->root, "sources"), .pipeline = p, .data_dir = dir};
	struct pane_sources *ss = pane_sources_new(&o, err);
	*cfg_out = cfg;
	return ss;
}

static void config_errors_name_the_place(void **state)
{
	(void)state;
	struct pane_err err = {0};
	struct pane_cfg *cfg;
	setenv("PT_FW_URL", "postgres://127.0.0.1:1/x", 1);

	assert_null(load("sources:\n  mystery:\n    interval: 10s\n", NULL, NULL, &err, &cfg));
	assert_non_null(strstr(err.msg, "pane.yaml:2: sources.mystery: unknown source type 'mystery'"));
	assert_non_null(strstr(err.msg, "postgres"));
	pane_cfg_free(cfg);

	memset(&err, 0, sizeof err);
	assert_null(
	    load("sources:\n  db:\n    type: postgres\n    url: postgres://u:secret@h/db\n", NULL, NULL, &err, &cfg));
	assert_non_null(strstr(err.msg, "pane.yaml:4: sources.db.url: secrets are read only from the environment"));
	pane_cfg_free(cfg);

	memset(&err, 0, sizeof err);
	assert_null(load("sources:\n  db:\n    type: postgres\n", NULL, NULL, &err, &cfg));
	assert_non_null(strstr(err.msg, "sources.db.url: required"));
	pane_cfg_free(cfg);

	memset(&err, 0, sizeof err);
	assert_null(load("sources:\n  postgres:\n    url: ${PT_FW_URL}\n    colour: blue\n", NULL, NULL, &err, &cfg));
	assert_non_null(strstr(err.msg, "sources.postgres.colour: unknown key"));
	assert_non_null(strstr(err.msg, "interval")); /* the common keys are listed too */
	pane_cfg_free(cfg);

	memset(&err, 0, sizeof err);
	assert_null(load("sources:\n  \"a/b\":\n    type: postgres\n", NULL, NULL, &err, &cfg));
	assert_non_null(strstr(err.msg, "instance names"));
	pane_cfg_free(cfg);

	memset(&err, 0, sizeof err);
	assert_null(load("sources:\n  postgres:\n    url: ${PT_FW_URL}\n    interval: 10ms\n", NULL, NULL, &err, &cfg));
	assert_non_null(strstr(err.msg, "sources.postgres.interval"));
	pane_cfg_free(cfg);

	/* disabled instances are bound (checked) but not run */
	memset(&err, 0, sizeof err);
	struct pane_sources *ss =
	    load("sources:\n  postgres:\n    url: ${PT_FW_URL}\n    enabled: false\n", NULL, NULL, &err, &cfg);
	assert_non_null(ss);
	assert_int_equal(pane_sources_count(ss), 0);
	pane_sources_free(ss);
	pane_cfg_free(cfg);
}

static void unreachable_database_is_down_with_reason(void **state)
{
	(void)state;
	struct pt_recorder *rec;
	struct pane_pipeline *p = pt_recorder_pipeline(&rec);
	struct pane_err err = {0};
	struct pane_cfg *cfg;
	setenv("PT_FW_URL", "postgres://pane@127.0.0.1:1/none", 1);
	struct pane_sources *ss = load("sources:\n  db:\n    type: postgres\n    url: ${PT_FW_URL}\n"
	                               "    service: billing\n    environment: staging\n    timeout: 2s\n",
	                               p, NULL, &err, &cfg);
	assert_non_null(ss);
	assert_int_equal(pane_sources_count(ss), 1);
	assert_true(pane_sources_collect_once(ss, "db", &err) < 0);
	assert_non_null(strstr(err.msg, "cannot connect to PostgreSQL"));
	assert_null(strstr(err.msg, "127.0.0.1:1/none")); /* the URL (password) is never in a message */
	assert_true(pane_sources_collect_once(ss, "db", &err) < 0);

	assert_true(pt_recorder_last(rec, "pg_up", "provider", "postgres", "service", "billing", "environment",
	                             "staging", NULL) == 0);
	assert_true(pt_recorder_last(rec, "pane_source_up", "source", "db", "provider", "postgres", NULL) == 0);
	assert_true(pt_recorder_last(rec, "pane_source_errors_total", "source", "db", "reason", "connection", NULL) ==
	            2);
	assert_int_equal(pt_recorder_count(rec, "pane_source_scrape_duration_seconds", "source", "db", NULL), 2);
	/* never succeeded: no last-success series */
	assert_int_equal(pt_recorder_count(rec, "pane_source_last_success_timestamp_seconds", NULL), 0);

	struct pane_source_status st;
	assert_int_equal(pane_sources_status(ss, "db", &st), 0);
	assert_false(st.up);
	assert_int_equal(st.collections, 2);
	assert_int_equal(st.failures, 2);
	assert_string_equal(st.last_reason, "connection");
	assert_int_equal(pane_sources_status(ss, "nope", &st), PANE_ENOTFOUND);
	assert_int_equal(pane_sources_collect_once(ss, "nope", &err), PANE_ENOTFOUND);

	pane_sources_free(ss);
	pane_cfg_free(cfg);
	pane_pipeline_free(p);
}

/* The framework's cursor functions through a source instance: the sql
 * plugin is not needed; any instance has a cursor. */
static void cursor_files_round_trip(void **state)
{
	(void)state;
	char dir[] = "/tmp/pane-fw-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct pt_recorder *rec;
	struct pane_pipeline *p = pt_recorder_pipeline(&rec);
	struct pane_err err = {0};
	struct pane_cfg *cfg;
	setenv("PT_FW_URL", "postgres://127.0.0.1:1/none", 1);
	struct pane_sources *ss =
	    load("sources:\n  db:\n    type: postgres\n    url: ${PT_FW_URL}\n", p, dir, &err, &cfg);
	assert_non_null(ss);
	struct pane_source *src = pane_sources_instance(ss, "db");
	assert_non_null(src);
	assert_null(pane_sources_instance(ss, "other"));
	char *text = NULL;
	assert_int_equal(pane_source_cursor_load(src, &text, &err), PANE_ENOTFOUND);
	assert_int_equal(pane_source_cursor_save(src, "{\"ts\":1}", &err), 0);
	assert_int_equal(pane_source_cursor_save(src, "{\"ts\":2}", &err), 0);
	assert_int_equal(pane_source_cursor_load(src, &text, &err), 0);
	assert_string_equal(text, "{\"ts\":2}");
	free(text);
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s/sources/db.cursor.tmp", dir);
	assert_int_equal(access(tmp, F_OK), -1); /* renamed into place, no leftovers */
	pane_sources_free(ss);
	pane_cfg_free(cfg);
	pane_pipeline_free(p);
	char path[512];
	snprintf(path, sizeof path, "%s/sources/db.cursor", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/sources", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(config_errors_name_the_place),
	    cmocka_unit_test(unreachable_database_is_down_with_reason),
	    cmocka_unit_test(cursor_files_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
