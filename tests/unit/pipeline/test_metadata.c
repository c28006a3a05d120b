/* test_metadata.c - the pipeline's metadata path: only changed entries reach
 * the sinks, invalid names never do, a failed primary write is retried by
 * the next call, and sinks without write_metadata are skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline.h"

struct msink {
	size_t calls, entries;
	char last[64];
	int fail_next;
};

static int m_write(void *ctx, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	struct msink *s = ctx;
	if (s->fail_next > 0) {
		s->fail_next--;
		return pane_err_set(err, PANE_EIO, "told to fail");
	}
	s->calls++;
	s->entries += n;
	snprintf(s->last, sizeof s->last, "%s|%s|%s|%s", m[n - 1].name, pane_metric_type_name(m[n - 1].type),
	         m[n - 1].help, m[n - 1].unit);
	return 0;
}

static int m_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err)
{
	(void)ctx, (void)s, (void)err;
	if (accepted)
		*accepted = n;
	return 0;
}

static const struct pane_sink_ops meta_ops = {.name = "meta", .write_samples = m_samples, .write_metadata = m_write};
static const struct pane_sink_ops plain_ops = {.name = "plain", .write_samples = m_samples};

static void only_changes_pass(void **state)
{
	(void)state;
	struct msink primary = {0}, secondary = {0};
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, (struct pane_sink){&meta_ops, &primary}, PANE_SINK_PRIMARY);
	pane_pipeline_add_sink(p, (struct pane_sink){&plain_ops, NULL}, 0);
	pane_pipeline_add_sink(p, (struct pane_sink){&meta_ops, &secondary}, 0);
	struct pane_err err = {0};
	struct pane_metadata m[] = {
	    {"http_requests_total", PANE_METRIC_COUNTER, "Requests.", ""},
	    {"temp", PANE_METRIC_GAUGE, NULL, NULL},
	    {"bad-name", PANE_METRIC_GAUGE, "never passed on", ""},
	};
	assert_int_equal(pane_pipeline_write_metadata(p, m, 3, &err), 0);
	assert_int_equal(primary.calls, 1);
	assert_int_equal(primary.entries, 2);
	assert_string_equal(primary.last, "temp|gauge||");
	assert_int_equal(secondary.entries, 2);

	/* the same again: nothing reaches the sinks */
	assert_int_equal(pane_pipeline_write_metadata(p, m, 3, &err), 0);
	assert_int_equal(primary.calls, 1);
	assert_int_equal(secondary.calls, 1);

	/* a changed help, type or unit passes, alone */
	struct pane_metadata changed[] = {m[0], m[1]};
	changed[1].unit = "celsius";
	assert_int_equal(pane_pipeline_write_metadata(p, changed, 2, &err), 0);
	assert_int_equal(primary.calls, 2);
	assert_int_equal(primary.entries, 3);
	assert_string_equal(primary.last, "temp|gauge||celsius");
	changed[0].type = PANE_METRIC_GAUGE;
	assert_int_equal(pane_pipeline_write_metadata(p, changed, 1, &err), 0);
	assert_string_equal(primary.last, "http_requests_total|gauge|Requests.|");

	/* a failed primary write is reported and not remembered */
	struct pane_metadata fresh = {"new_metric", PANE_METRIC_GAUGE, "New.", ""};
	primary.fail_next = 1;
	assert_int_equal(pane_pipeline_write_metadata(p, &fresh, 1, &err), PANE_EIO);
	size_t before = primary.entries;
	assert_int_equal(pane_pipeline_write_metadata(p, &fresh, 1, &err), 0);
	assert_int_equal(primary.entries, before + 1);
	assert_string_equal(primary.last, "new_metric|gauge|New.|");
	assert_int_equal(pane_pipeline_write_metadata(p, NULL, 0, &err), 0);
	pane_pipeline_free(p);
}

static void seen_set_is_bounded(void **state)
{
	(void)state;
	struct msink primary = {0};
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, (struct pane_sink){&meta_ops, &primary}, PANE_SINK_PRIMARY);
	struct pane_err err = {0};
	char name[32];
	/* more names than the seen-set holds: every new name still passes once */
	for (int i = 0; i < 70000; i++) {
		snprintf(name, sizeof name, "m_%d", i);
		struct pane_metadata m = {name, PANE_METRIC_GAUGE, "", ""};
		assert_int_equal(pane_pipeline_write_metadata(p, &m, 1, &err), 0);
	}
	assert_int_equal(primary.entries, 70000);
	/* the latest names are still remembered */
	struct pane_metadata last = {name, PANE_METRIC_GAUGE, "", ""};
	assert_int_equal(pane_pipeline_write_metadata(p, &last, 1, &err), 0);
	assert_int_equal(primary.entries, 70000);
	pane_pipeline_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(only_changes_pass),
	    cmocka_unit_test(seen_set_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
