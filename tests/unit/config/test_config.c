/* test_config.c - YAML loading, ${ENV} expansion, binding, and file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/sections.h"

struct demo_cfg {
	char *url;
	char *api_key;
	int64_t port;
	int64_t interval_ms;
	int64_t max_bytes;
	bool enabled;
	double ratio;
	struct pane_cfg_strlist queues;
};

static const struct pane_cfg_field fields[] = {
    {"url", PANE_CFT_STRING, offsetof(struct demo_cfg, url), "http://localhost", 0, "base URL", 0, 0},
    {"api_key", PANE_CFT_STRING, offsetof(struct demo_cfg, api_key), NULL, PANE_CFG_REQUIRED | PANE_CFG_SECRET,
     "API key", 0, 0},
    {"port", PANE_CFT_INT, offsetof(struct demo_cfg, port), "8080", 0, "port", 1, 65535},
    {"interval", PANE_CFT_DURATION, offsetof(struct demo_cfg, interval_ms), "30s", 0, "interval", 0, 0},
    {"max_bytes", PANE_CFT_SIZE, offsetof(struct demo_cfg, max_bytes), "1MiB", 0, "limit", 0, 0},
    {"enabled", PANE_CFT_BOOL, offsetof(struct demo_cfg, enabled), "true", 0, "on/off", 0, 0},
    {"ratio", PANE_CFT_DOUBLE, offsetof(struct demo_cfg, ratio), "0.5", 0, "ratio", 0, 0},
    {"queues", PANE_CFT_STRLIST, offsetof(struct demo_cfg, queues), NULL, 0, "queues", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

static int bind_text(const char *text, struct demo_cfg *out, struct pane_err *err)
{
	memset(out, 0, sizeof *out);
	struct pane_cfg *cfg = pane_cfg_parse("pane.yaml", text, strlen(text), err);
	if (!cfg)
		return err->code;
	int rc = pane_cfg_bind(cfg, pane_cfg_lookup(cfg->root, "sources.demo"), fields, out, err);
	pane_cfg_free(cfg);
	return rc;
}

static void binds_values_and_defaults(void **state)
{
	(void)state;
	setenv("PANE_TEST_KEY", "s3cret", 1);
	struct demo_cfg c;
	struct pane_err err = {0};
	const char *text = "sources:\n"
	                   "  demo:\n"
	                   "    api_key: ${PANE_TEST_KEY}\n"
	                   "    port: 9090\n"
	                   "    interval: 1m\n"
	                   "    max_bytes: 10MB\n"
	                   "    enabled: no\n"
	                   "    queues: [a, b]\n";
	assert_int_equal(bind_text(text, &c, &err), 0);
	assert_string_equal(c.api_key, "s3cret");
	assert_string_equal(c.url, "http://localhost");
	assert_int_equal(c.port, 9090);
	assert_int_equal(c.interval_ms, 60000);
	assert_int_equal(c.max_bytes, 10000000);
	assert_false(c.enabled);
	assert_true(c.ratio == 0.5);
	assert_int_equal(c.queues.n, 2);
	assert_string_equal(c.queues.items[1], "b");
	pane_cfg_unbind(fields, &c);
}

/* "0" is a duration (off/keep in the docs), without a unit */
static void zero_duration_needs_no_unit(void **state)
{
	(void)state;
	setenv("PANE_TEST_KEY", "s3cret", 1);
	struct demo_cfg c;
	struct pane_err err = {0};
	assert_int_equal(bind_text("sources:\n  demo:\n    api_key: ${PANE_TEST_KEY}\n    interval: 0\n", &c, &err), 0);
	assert_int_equal(c.interval_ms, 0);
	pane_cfg_unbind(fields, &c);
	assert_int_equal(bind_text("sources:\n  demo:\n    api_key: ${PANE_TEST_KEY}\n    interval: 0s\n", &c, &err),
	                 0);
	assert_int_equal(c.interval_ms, 0);
	pane_cfg_unbind(fields, &c);
	/* other unitless numbers are still refused */
	assert_true(bind_text("sources:\n  demo:\n    api_key: ${PANE_TEST_KEY}\n    interval: 5\n", &c, &err) < 0);
	assert_non_null(strstr(err.msg, "is not a duration"));
	pane_cfg_unbind(fields, &c);
}

static void expect_error(const char *text, const char *want)
{
	struct demo_cfg c;
	struct pane_err err = {0};
	assert_true(bind_text(text, &c, &err) < 0);
	if (!strstr(err.msg, want))
		fail_msg("error '%s' does not contain '%s'", err.msg, want);
	pane_cfg_unbind(fields, &c);
}

static void errors_name_file_line_and_key(void **state)
{
	(void)state;
	unsetenv("PANE_TEST_UNSET");
	setenv("PANE_TEST_KEY", "k", 1);
	expect_error("sources:\n  demo:\n    url: x\n", "pane.yaml:2: sources.demo.api_key: required");
	expect_error("sources:\n  demo:\n    api_key: ${PANE_TEST_UNSET}\n",
	             "pane.yaml:3: sources.demo.api_key: environment variable PANE_TEST_UNSET is not set");
	expect_error("sources:\n  demo:\n    api_key: literal\n",
	             "pane.yaml:3: sources.demo.api_key: secrets are read only from the environment");
	expect_error("sources:\n  demo:\n    api_key: ${PANE_TEST_KEY}\n    port: 70000\n",
	             "pane.yaml:4: sources.demo.port: '70000' is out of range");
	expect_error("sources:\n  demo:\n    api_key: ${PANE_TEST_KEY}\n    interval: soon\n",
	             "pane.yaml:4: sources.demo.interval: 'soon' is not a duration");
	expect_error("sources:\n  demo:\n    api_key: ${PANE_TEST_KEY}\n    colour: red\n",
	             "pane.yaml:4: sources.demo.colour: unknown key");
	expect_error("sources:\n  demo:\n    api_key: [1, 2\n", "pane.yaml:");
	expect_error("sources:\n  demo: &a\n    x: 1\n  other: *a\n", "aliases");
	expect_error("a: 1\na: 2\n", "duplicate key 'a'");
	expect_error("- just\n- a list\n", "top level must be a map");
}

static void env_expansion_rules(void **state)
{
	(void)state;
	struct pane_err err;
	bool whole;
	setenv("PANE_TEST_A", "alpha", 1);
	unsetenv("PANE_TEST_UNSET");
	char *s = pane_cfg_expand_env("x-${PANE_TEST_A}-${PANE_TEST_UNSET:-dflt}-$$", &whole, &err);
	assert_string_equal(s, "x-alpha-dflt-$");
	assert_false(whole);
	free(s);
	s = pane_cfg_expand_env("${PANE_TEST_A}", &whole, &err);
	assert_true(whole);
	free(s);
	assert_null(pane_cfg_expand_env("${UNTERMINATED", &whole, &err));
	assert_null(pane_cfg_expand_env("${1BAD}", &whole, &err));
}

static void hostile_input_is_bounded(void **state)
{
	(void)state;
	struct pane_err err;
	/* deep nesting */
	char deep[2000];
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		deep[n++] = '[';
	for (int i = 0; i < 100; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	char text[2100];
	strcpy(text, "a: ");
	strcat(text, deep);
	assert_null(pane_cfg_parse("pane.yaml", text, strlen(text), &err));
	assert_non_null(strstr(err.msg, "nested more than"));
	/* NUL bytes */
	assert_null(pane_cfg_parse("pane.yaml", "a: 1\0b: 2", 9, &err));
	/* empty file is an empty config */
	struct pane_cfg *cfg = pane_cfg_parse("pane.yaml", "", 0, &err);
	assert_non_null(cfg);
	assert_int_equal(cfg->root->n_items, 0);
	pane_cfg_free(cfg);
}

static void unknown_sections_are_refused(void **state)
{
	(void)state;
	struct pane_err err;
	const char *text = "server:\n  listen: x\nsourcse: {}\n";
	struct pane_cfg *cfg = pane_cfg_parse("pane.yaml", text, strlen(text), &err);
	assert_non_null(cfg);
	assert_int_equal(pane_cfg_check_sections(cfg, &err), PANE_EINVAL);
	assert_non_null(strstr(err.msg, "pane.yaml:3: sourcse: unknown section"));
	pane_cfg_free(cfg);
}

/* Sections that nothing reads are refused with what to do instead. */
static void unbuilt_sections_are_refused(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"server: {}\ndatabase:\n  url: postgres://x\n",
	     "pane.yaml:2: database: PostgreSQL is not configured here: set DATABASE_URL"},
	    {"worker:\n  concurrency: 4\n", "pane.yaml:1: worker: workers are not configured here"},
	    {"alerts: []\n", "pane.yaml:1: alerts: alert rules are configured under rules:"},
	    {"notifiers:\n  slack: {}\n", "pane.yaml:1: notifiers: notifications are configured under alerting:"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pane_err err = {0};
		struct pane_cfg *cfg = pane_cfg_parse("pane.yaml", cases[i].text, strlen(cases[i].text), &err);
		assert_non_null(cfg);
		assert_int_equal(pane_cfg_check_sections(cfg, &err), PANE_EINVAL);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("%s -> %s", cases[i].text, err.msg);
		pane_cfg_free(cfg);
	}
}

static void load_reports_missing_file(void **state)
{
	(void)state;
	struct pane_err err;
	assert_null(pane_cfg_load("/nonexistent/pane.yaml", &err));
	assert_non_null(strstr(err.msg, "/nonexistent/pane.yaml: cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(binds_values_and_defaults),     cmocka_unit_test(zero_duration_needs_no_unit),
	    cmocka_unit_test(errors_name_file_line_and_key), cmocka_unit_test(env_expansion_rules),
	    cmocka_unit_test(hostile_input_is_bounded),      cmocka_unit_test(unknown_sections_are_refused),
	    cmocka_unit_test(unbuilt_sections_are_refused),  cmocka_unit_test(load_reports_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
