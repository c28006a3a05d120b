/* test_labels.c - label sets stay sorted and bounded; naming rules; stale marker; fan-out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline.h"
#include "pipeline/record.h"

static void sorted_unique_and_replaced(void **state)
{
	(void)state;
	struct pane_labels ls;
	pane_labels_init(&ls);
	assert_int_equal(pane_labels_set(&ls, "service", "api"), 0);
	assert_int_equal(pane_labels_set(&ls, "environment", "prod"), 0);
	assert_int_equal(pane_labels_set(&ls, "provider", "render"), 0);
	assert_int_equal(pane_labels_set(&ls, "service", "web"), 0);
	assert_int_equal(ls.n, 3);
	assert_string_equal(ls.v[0].name, "environment");
	assert_string_equal(ls.v[1].name, "provider");
	assert_string_equal(ls.v[2].name, "service");
	assert_string_equal(pane_labels_get(&ls, "service"), "web");
	assert_int_equal(pane_labels_set(&ls, "provider", ""), 0); /* empty value removes */
	assert_null(pane_labels_get(&ls, "provider"));
	assert_int_equal(pane_labels_set(&ls, "bad-name", "x"), PANE_EINVAL);
	assert_int_equal(pane_labels_set(&ls, "__reserved", "x"), PANE_EINVAL);
	struct pane_labels copy;
	pane_labels_copy(&copy, &ls);
	assert_int_equal(pane_labels_cmp(&copy, &ls), 0);
	assert_true(pane_labels_hash(&copy) == pane_labels_hash(&ls));
	pane_labels_set(&copy, "zone", "eu");
	assert_int_equal(pane_labels_cmp(&ls, &copy), -1);
	pane_labels_release(&copy);
	pane_labels_release(&ls);
}

static void bounded(void **state)
{
	(void)state;
	struct pane_labels ls;
	pane_labels_init(&ls);
	char name[16];
	for (int i = 0; i < PANE_LABELS_MAX; i++) {
		snprintf(name, sizeof name, "l%d", i);
		assert_int_equal(pane_labels_set(&ls, name, "v"), 0);
	}
	assert_int_equal(pane_labels_set(&ls, "one_too_many", "v"), PANE_ETOOBIG);
	char *big = calloc(PANE_LABEL_VALUE_MAX + 2, 1);
	memset(big, 'x', PANE_LABEL_VALUE_MAX + 1);
	assert_int_equal(pane_labels_set(&ls, "l0", big), PANE_ETOOBIG);
	free(big);
	pane_labels_release(&ls);
}

static void names_and_sanitising(void **state)
{
	(void)state;
	assert_true(pane_metric_name_valid("http_requests_total", 19));
	assert_true(pane_metric_name_valid("ns:rate5m", 9));
	assert_false(pane_metric_name_valid("9lives", 6));
	assert_false(pane_metric_name_valid("a-b", 3));
	assert_false(pane_label_name_valid("a:b", 3));
	char *s = pane_name_sanitize("service.name", 12, false);
	assert_string_equal(s, "service_name");
	free(s);
	s = pane_name_sanitize("5xx.rate", 8, true);
	assert_string_equal(s, "_5xx_rate");
	free(s);
	assert_true(pane_is_stale_nan(pane_stale_nan()));
	assert_false(pane_is_stale_nan(NAN));
	assert_true(isnan(pane_stale_nan()));
	assert_int_equal(pane_log_severity_parse("WARNING", 7), PANE_SEV_WARN);
	assert_int_equal(pane_log_severity_parse("nonsense", 8), PANE_SEV_UNKNOWN);
}

struct recorder {
	size_t samples;
	int fail;
	int closed;
};

static int rec_write(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err)
{
	(void)s;
	struct recorder *r = ctx;
	if (r->fail) {
		if (accepted)
			*accepted = 0;
		return pane_err_set(err, PANE_EIO, "disk on fire");
	}
	r->samples += n;
	return 0;
}

static void rec_close(void *ctx)
{
	((struct recorder *)ctx)->closed++;
}

static const struct pane_sink_ops rec_ops = {.name = "recorder", .write_samples = rec_write, .close = rec_close};

static void pipeline_fans_out_primary_decides(void **state)
{
	(void)state;
	struct recorder primary = {0}, secondary = {.fail = 1};
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, (struct pane_sink){&rec_ops, &secondary}, 0);
	pane_pipeline_add_sink(p, (struct pane_sink){&rec_ops, &primary}, PANE_SINK_PRIMARY);
	struct pane_labels ls;
	pane_labels_init(&ls);
	pane_labels_set(&ls, "service", "api");
	struct pane_sample s[2] = {{"up", &ls, 1000, 1}, {"up", &ls, 2000, 0}};
	struct pane_err err = {0};
	assert_int_equal(pane_pipeline_write_samples(p, s, 2, &err), 0); /* secondary failure not returned */
	assert_int_equal(primary.samples, 2);
	primary.fail = 1;
	assert_int_equal(pane_pipeline_write_samples(p, s, 2, &err), PANE_EIO);
	assert_string_equal(err.msg, "disk on fire");
	struct pane_pipeline_stats st;
	pane_pipeline_get_stats(p, &st);
	assert_int_equal(st.samples, 2);
	assert_int_equal(st.rejected, 2);
	assert_int_equal(st.secondary_errors, 2);
	pane_pipeline_free(p);
	assert_int_equal(primary.closed, 1);
	assert_int_equal(secondary.closed, 1);
	pane_labels_release(&ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sorted_unique_and_replaced),
	    cmocka_unit_test(bounded),
	    cmocka_unit_test(names_and_sanitising),
	    cmocka_unit_test(pipeline_fans_out_primary_decides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
