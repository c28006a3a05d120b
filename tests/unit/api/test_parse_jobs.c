/* test_parse_jobs.c - the enqueue body parser (no database): accepted forms
 * become enqueue_many elements, every refusal names its field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "api/internal.h"
#include "base/buf.h"

static int parse(const char *body, const char *idem, struct pane_buf *out, bool *array, char *code, char *msg)
{
	pane_buf_reset(out);
	return pane_api_parse_jobs(body, strlen(body), "q", idem, out, array, code, 32, msg, 512);
}

static void accepted(void **state)
{
	(void)state;
	struct pane_buf out;
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	char code[32], msg[512];
	bool array;
	assert_int_equal(
	    parse("{\"payload\":{\"a\":1},\"priority\":3,\"delay\":\"5 minutes\"}", NULL, &out, &array, code, msg), 1);
	assert_false(array);
	assert_string_equal(out.data, "{\"queue\":\"q\",\"payload\":{\"a\":1},\"delay\":\"5 minutes\",\"priority\":3}");
	assert_int_equal(parse("{}", "key-1", &out, &array, code, msg), 1);
	assert_string_equal(out.data, "{\"queue\":\"q\",\"payload\":{},\"unique_key\":\"key-1\"}");
	assert_int_equal(
	    parse("[{\"unique_key\":\"a\"},{\"timeout\":30,\"max_attempts\":2}]", NULL, &out, &array, code, msg), 2);
	assert_true(array);
	assert_string_equal(out.data, "{\"queue\":\"q\",\"payload\":{},\"unique_key\":\"a\"},"
	                              "{\"queue\":\"q\",\"payload\":{},\"max_attempts\":2,\"timeout\":30}");
	pane_buf_release(&out);
}

static void refused(void **state)
{
	(void)state;
	static const struct {
		const char *body, *idem;
		int rc;
		const char *code, *msg;
	} cases[] = {
	    {"{", NULL, -400, "malformed_json", "line 1"},
	    {"{\"a\":1,\"a\":2}", NULL, -400, "malformed_json", "duplicate"},
	    {"7", NULL, -400, "malformed_json", ""},
	    {"{\"payload\":[1]} x", NULL, -400, "malformed_json", "end of file expected"},
	    {"{\"when\":1}", NULL, -400, "invalid_job", "unknown field 'when'"},
	    {"{\"payload\":1}", NULL, -400, "invalid_job", "payload must be"},
	    {"{\"priority\":1.5}", NULL, -400, "invalid_job", "priority"},
	    {"{\"priority\":99999}", NULL, -400, "invalid_job", "priority"},
	    {"{\"max_attempts\":-1}", NULL, -400, "invalid_job", "max_attempts"},
	    {"{\"delay\":-1}", NULL, -400, "invalid_job", "delay"},
	    {"{\"timeout\":0}", NULL, -400, "invalid_job", "timeout"},
	    {"{\"run_at\":5}", NULL, -400, "invalid_job", "run_at"},
	    {"{\"unique_key\":\"\"}", NULL, -400, "invalid_job", "unique_key"},
	    {"[{},{\"x\":1}]", NULL, -400, "invalid_job", "jobs[1]: unknown field 'x'"},
	    {"[]", NULL, -400, "invalid_request", "1 to 1000"},
	    {"[{}]", "k", -400, "invalid_request", "Idempotency-Key"},
	    {"{}", "", -400, "invalid_request", "Idempotency-Key"},
	};
	struct pane_buf out;
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	char code[32], msg[512];
	bool array;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = parse(cases[i].body, cases[i].idem, &out, &array, code, msg);
		if (rc != cases[i].rc || strcmp(code, cases[i].code) != 0 || !strstr(msg, cases[i].msg))
			print_error("case %zu: %d %s %s\n", i, rc, code, msg);
		assert_int_equal(rc, cases[i].rc);
		assert_string_equal(code, cases[i].code);
		assert_non_null(strstr(msg, cases[i].msg));
	}
	/* 1001 jobs: too many for one request */
	struct pane_buf many;
	pane_buf_init(&many, PANE_BUF_NOLIMIT);
	pane_buf_addc(&many, '[');
	for (int i = 0; i < 1001; i++)
		pane_buf_adds(&many, i ? ",{}" : "{}");
	pane_buf_addc(&many, ']');
	assert_int_equal(parse(many.data, NULL, &out, &array, code, msg), -413);
	pane_buf_release(&many);
	pane_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(accepted),
	    cmocka_unit_test(refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
