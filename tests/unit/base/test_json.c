/* test_json.c - the JSON writer: commas, nesting, escaping, numbers JSON
 * cannot hold, the bounded buffer and misuse. Every output is also parsed
 * back with jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"

static void parses(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	if (!v)
		fail_msg("not JSON (%s): %s", e.text, text);
	json_decref(v);
}

static void nested(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	struct pane_json j;
	pane_json_init(&j, &b);
	pane_json_obj(&j);
	pane_json_key(&j, "id");
	pane_json_int(&j, -7);
	pane_json_key(&j, "tags");
	pane_json_arr(&j);
	pane_json_str(&j, "a\"b\n");
	pane_json_obj(&j);
	pane_json_obj_end(&j);
	pane_json_arr(&j);
	pane_json_arr_end(&j);
	pane_json_null(&j);
	pane_json_arr_end(&j);
	pane_json_key(&j, "ok");
	pane_json_bool(&j, true);
	pane_json_key(&j, "x");
	pane_json_num(&j, 0.5);
	pane_json_key(&j, "nan");
	pane_json_num(&j, NAN);
	pane_json_key(&j, "none");
	pane_json_str(&j, NULL);
	pane_json_key(&j, "raw");
	pane_json_raw(&j, "{\"k\":[1]}");
	pane_json_key(&j, "pts");
	pane_json_arr(&j);
	pane_json_rawn(&j, "[1,\"2\"]xx", 7); /* only len bytes */
	pane_json_rawn(&j, "[3,\"4\"]", 7);
	pane_json_arr_end(&j);
	pane_json_obj_end(&j);
	assert_int_equal(j.rc, 0);
	assert_string_equal(b.data, "{\"id\":-7,\"tags\":[\"a\\\"b\\n\",{},[],null],\"ok\":true,\"x\":0.5,"
	                            "\"nan\":null,\"none\":null,\"raw\":{\"k\":[1]},\"pts\":[[1,\"2\"],[3,\"4\"]]}");
	parses(b.data);
	pane_buf_release(&b);
}

static void top_level_list(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	struct pane_json j;
	pane_json_init(&j, &b);
	pane_json_arr(&j);
	for (int i = 0; i < 3; i++)
		pane_json_int(&j, i);
	pane_json_arr_end(&j);
	assert_string_equal(b.data, "[0,1,2]");
	parses(b.data);
	pane_buf_release(&b);
}

static void unsigned_and_formatted(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	struct pane_json j;
	pane_json_init(&j, &b);
	pane_json_obj(&j);
	pane_json_key(&j, "u");
	pane_json_uint(&j, UINT64_MAX);
	pane_json_key(&j, "rate");
	pane_json_rawf(&j, "%.0f", 2.5e6);
	pane_json_key(&j, "secs");
	pane_json_rawf(&j, "%.6f", 0.25);
	pane_json_obj_end(&j);
	assert_int_equal(j.rc, 0);
	assert_string_equal(b.data, "{\"u\":18446744073709551615,\"rate\":2500000,\"secs\":0.250000}");
	/* not parsed back: jansson's integers stop at INT64_MAX */
	pane_buf_release(&b);
}

static void errors_stick(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, 8); /* too small */
	struct pane_json j;
	pane_json_init(&j, &b);
	pane_json_arr(&j);
	pane_json_str(&j, "0123456789");
	pane_json_int(&j, 1);
	pane_json_arr_end(&j);
	assert_int_equal(j.rc, PANE_ETOOBIG);
	pane_buf_release(&b);

	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_json_init(&j, &b);
	pane_json_arr_end(&j); /* nothing open */
	assert_int_equal(j.rc, PANE_EINVAL);
	pane_buf_reset(&b);
	pane_json_init(&j, &b);
	for (int i = 0; i < PANE_JSON_MAX_DEPTH + 1; i++)
		pane_json_arr(&j);
	assert_int_equal(j.rc, PANE_EINVAL);
	pane_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nested),
	    cmocka_unit_test(top_level_list),
	    cmocka_unit_test(unsigned_and_formatted),
	    cmocka_unit_test(errors_stick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
