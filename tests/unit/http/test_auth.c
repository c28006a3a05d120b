/* test_auth.c - bearer tokens: config rules, scopes, open reads, refusal
 * to run a non-loopback server without tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "http/auth.h"

#define TOK_CI "ci-0123456789abcdef"
#define TOK_ADMIN "admin-0123456789abcdef"

static struct pane_http_auth *load(const char *yaml, bool loopback, struct pane_err *err)
{
	struct pane_cfg *cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), err);
	assert_non_null(cfg);
	struct pane_http_auth *a = pane_http_auth_new(cfg, loopback, err);
	pane_cfg_free(cfg);
	return a;
}

static const char two_tokens[] = "auth:\n"
                                 "  tokens:\n"
                                 "    - name: ci\n"
                                 "      token: ${PT_TOK_CI}\n"
                                 "      scopes: [enqueue, read]\n"
                                 "    - name: ops\n"
                                 "      token: ${PT_TOK_ADMIN}\n"
                                 "      scopes: admin\n";

static void scopes_and_tokens(void **state)
{
	(void)state;
	struct pane_err err = {0};
	struct pane_http_auth *a = load(two_tokens, false, &err);
	assert_non_null(a);
	assert_int_equal(pane_http_auth_token_count(a), 2);
	assert_false(pane_http_auth_read_is_open(a)); /* auto + non-loopback: closed */
	const char *name = NULL;
	assert_int_equal(pane_http_auth_decide(a, "Bearer " TOK_CI, "enqueue", &name), 0);
	assert_string_equal(name, "ci");
	assert_int_equal(pane_http_auth_decide(a, "Bearer " TOK_CI, "read", NULL), 0);
	assert_int_equal(pane_http_auth_decide(a, "Bearer " TOK_CI, "admin", NULL), 403);
	assert_int_equal(pane_http_auth_decide(a, "bearer " TOK_ADMIN, "admin", NULL), 0);
	assert_int_equal(pane_http_auth_decide(a, "Bearer " TOK_ADMIN, "enqueue", NULL), 0); /* admin implies all */
	assert_int_equal(pane_http_auth_decide(a, NULL, "read", NULL), 401);
	assert_int_equal(pane_http_auth_decide(a, "Basic abc", "read", NULL), 401);
	assert_int_equal(pane_http_auth_decide(a, "Bearer " TOK_CI "x", "read", NULL), 401);
	assert_int_equal(pane_http_auth_decide(a, "Bearer ci-0123456789abcde", "read", NULL), 401); /* a prefix */
	assert_int_equal(pane_http_auth_decide(a, "Bearer ", "read", NULL), 401);
	pane_http_auth_free(a);

	/* on loopback, auto opens reads but not writes */
	a = load(two_tokens, true, &err);
	assert_non_null(a);
	assert_true(pane_http_auth_read_is_open(a));
	assert_int_equal(pane_http_auth_decide(a, NULL, "read", NULL), 0);
	assert_int_equal(pane_http_auth_decide(a, NULL, "enqueue", NULL), 401);
	pane_http_auth_free(a);
}

static void open_read_choices(void **state)
{
	(void)state;
	struct pane_err err = {0};
	char yaml[1024];
	snprintf(yaml, sizeof yaml, "%s  open_read: true\n", two_tokens);
	struct pane_http_auth *a = load(yaml, false, &err);
	assert_non_null(a);
	assert_int_equal(pane_http_auth_decide(a, NULL, "read", NULL), 0);
	pane_http_auth_free(a);
	snprintf(yaml, sizeof yaml, "%s  open_read: false\n", two_tokens);
	a = load(yaml, true, &err);
	assert_non_null(a);
	assert_int_equal(pane_http_auth_decide(a, NULL, "read", NULL), 401);
	pane_http_auth_free(a);
	snprintf(yaml, sizeof yaml, "%s  open_read: sometimes\n", two_tokens);
	assert_null(load(yaml, true, &err));
	assert_non_null(strstr(err.msg, "open_read"));
}

static void no_tokens(void **state)
{
	(void)state;
	struct pane_err err = {0};
	struct pane_http_auth *a = load("server:\n  listen: 127.0.0.1:1\n", true, &err);
	assert_non_null(a);
	assert_int_equal(pane_http_auth_decide(a, NULL, "admin", NULL), 0); /* loopback without tokens: open */
	pane_http_auth_free(a);
	pane_err_clear(&err);
	assert_null(load("server:\n  listen: 0.0.0.0:1\n", false, &err));
	assert_int_equal(err.code, PANE_EPERM);
	assert_non_null(strstr(err.msg, "non-loopback"));
	assert_non_null(strstr(err.detail, "auth.tokens"));
}

static void bad_token_config(void **state)
{
	(void)state;
	struct pane_err err = {0};
	/* a literal token is refused: secrets come from the environment */
	assert_null(
	    load("auth:\n  tokens:\n    - name: x\n      token: literal-0123456789abcdef\n      scopes: [read]\n", true,
	         &err));
	assert_non_null(strstr(err.msg, "pane.yaml:4"));
	pane_err_clear(&err);
	setenv("PT_SHORT", "short", 1);
	assert_null(
	    load("auth:\n  tokens:\n    - name: x\n      token: ${PT_SHORT}\n      scopes: [read]\n", true, &err));
	assert_non_null(strstr(err.msg, "shorter than"));
	pane_err_clear(&err);
	assert_null(
	    load("auth:\n  tokens:\n    - name: x\n      token: ${PT_TOK_CI}\n      scopes: [write]\n", true, &err));
	assert_non_null(strstr(err.msg, "unknown scope 'write'"));
	pane_err_clear(&err);
	assert_null(load("auth:\n  tokens:\n    - name: x\n      token: ${PT_TOK_CI}\n", true, &err));
	assert_non_null(strstr(err.msg, "scopes"));
	pane_err_clear(&err);
	assert_null(load("auth:\n  tokens: nope\n", true, &err));
	assert_non_null(strstr(err.msg, "tokens"));
	pane_err_clear(&err);
	assert_null(load("auth:\n  tokenz: []\n", true, &err));
}

int main(void)
{
	setenv("PT_TOK_CI", TOK_CI, 1);
	setenv("PT_TOK_ADMIN", TOK_ADMIN, 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scopes_and_tokens),
	    cmocka_unit_test(open_read_choices),
	    cmocka_unit_test(no_tokens),
	    cmocka_unit_test(bad_token_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
