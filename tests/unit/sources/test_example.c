/* test_example.c - the sources section of examples/pane.yaml binds: every
 * option shown there is a real option with a valid value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"
#include "config/sections.h"
#include "sources/sources.h"

static void example_config_binds(void **state)
{
	(void)state;
	const char *root = getenv("PANE_SOURCE_ROOT");
	char path[1024];
	snprintf(path, sizeof path, "%s/examples/pane.yaml", root ? root : ".");
	setenv("PANE_STATS_DATABASE_URL", "postgres://127.0.0.1:1/x", 1);
	setenv("SUPABASE_ACCESS_TOKEN", "sbp_x", 1);
	setenv("SUPABASE_SECRET_KEY", "sb_secret_x", 1);
	setenv("APP_DATABASE_URL", "postgres://127.0.0.1:1/x", 1);
	setenv("DATABASE_URL", "postgres://127.0.0.1:1/x", 1);
	setenv("RENDER_API_KEY", "rnd_x", 1);
	setenv("SENTRY_AUTH_TOKEN", "sntrys_x", 1);
	struct pane_err err = {0};
	struct pane_cfg *cfg = pane_cfg_load(path, &err);
	if (!cfg)
		fail_msg("%s", err.msg);
	assert_int_equal(pane_cfg_check_sections(cfg, &err), 0);
	struct pane_sources_opts o = {.cfg = cfg, .section = pane_cfg_get(cfg->root, "sources")};
	struct pane_sources *ss = pane_sources_new(&o, &err);
	if (!ss)
		fail_msg("%s", err.msg);
	assert_int_equal(pane_sources_count(ss), 6);
	assert_non_null(pane_sources_instance(ss, "supabase"));
	assert_non_null(pane_sources_instance(ss, "render"));
	assert_non_null(pane_sources_instance(ss, "sentry"));
	pane_sources_free(ss);
	pane_cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(example_config_binds)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
