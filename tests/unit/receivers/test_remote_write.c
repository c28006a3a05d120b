/* test_remote_write.c - remote_write protobuf decoding and snappy bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "receivers/remote_write.h"

static int count_cb(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	(void)err;
	size_t *c = arg;
	for (size_t i = 0; i < n; i++) {
		assert_true(pane_metric_name_valid(s[i].name, strlen(s[i].name)));
		for (size_t k = 1; k < s[i].labels->n; k++)
			assert_true(strcmp(s[i].labels->v[k - 1].name, s[i].labels->v[k].name) < 0);
	}
	*c += n;
	return 0;
}

static void build(struct pane_buf *pb, size_t n)
{
	struct pane_labels ls;
	pane_labels_init(&ls);
	pane_labels_set(&ls, "zone", "eu");
	pane_labels_set(&ls, "job", "j");
	pane_buf_init(pb, PANE_BUF_NOLIMIT);
	for (size_t i = 0; i < n; i++) {
		struct pane_sample s = {.name = "m", .labels = &ls, .ts_ms = (int64_t)i, .value = (double)i};
		pane_remote_write_encode(&s, 1, pb);
	}
	pane_labels_release(&ls);
}

static void roundtrip_and_every_truncation(void **state)
{
	(void)state;
	struct pane_buf pb;
	build(&pb, 3000); /* more than one batch */
	size_t n = 0;
	struct pane_rw_result r;
	assert_int_equal(pane_remote_write_decode(pb.data, pb.len, count_cb, &n, &r, NULL), 0);
	assert_int_equal(n, 3000);
	assert_int_equal(r.series, 3000);
	/* every prefix of a small request: an error or fewer samples, never a crash */
	struct pane_buf small;
	build(&small, 3);
	for (size_t cut = 0; cut < small.len; cut++) {
		size_t c = 0;
		struct pane_err e = {0};
		int rc = pane_remote_write_decode(small.data, cut, count_cb, &c, &r, &e);
		assert_true(rc == 0 || rc == PANE_EINVAL);
		assert_true(c < 3);
	}
	pane_buf_release(&small);
	pane_buf_release(&pb);
}

static void invalid_series_are_refused(void **state)
{
	(void)state;
	/* hand-built series: a label named "bad-name", and one without __name__ */
	const unsigned char bad[] = {
	    0x0a, 0x1c, /* timeseries, 28 bytes */
	    0x0a, 0x0d, 0x0a, 0x08, 'b', 'a', 'd', '-', 'n', 'a',  'm',  'e',  0x12, 0x01, 'v', /* label */
	    0x12, 0x0b, 0x09, 0,    0,   0,   0,   0,   0,   0xf0, 0x3f, 0x10, 0x01,            /* sample 1.0 @1 */
	};
	size_t n = 0;
	struct pane_rw_result r;
	assert_int_equal(pane_remote_write_decode((const char *)bad, sizeof bad, count_cb, &n, &r, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(r.bad_series, 1);
	assert_int_equal(r.bad_samples, 1);
	assert_non_null(strstr(r.first_error, "bad-name"));
	/* a group wire type (3) is malformed */
	const unsigned char grp[] = {0x0b};
	struct pane_err e = {0};
	assert_int_equal(pane_remote_write_decode((const char *)grp, 1, count_cb, &n, &r, &e), PANE_EINVAL);
}

static void snappy_bounds(void **state)
{
	(void)state;
	char *out = NULL;
	size_t len = 0;
	struct pane_err e = {0};
	const char bomb[] = "\x80\x80\x80\x80\x04"; /* declares 1 GiB */
	assert_int_equal(pane_snappy_decode(bomb, 5, 1u << 20, &out, &len, &e), PANE_ETOOBIG);
	assert_null(out);
	assert_int_equal(pane_snappy_decode("\x05\x00", 2, 1u << 20, &out, &len, &e), PANE_EINVAL);
	const char text[] = "hello hello hello hello";
	char z[64];
	size_t zl = sizeof z;
	snappy_compress(text, sizeof text, z, &zl);
	assert_int_equal(pane_snappy_decode(z, zl, 1u << 20, &out, &len, &e), 0);
	assert_int_equal(len, sizeof text);
	assert_memory_equal(out, text, len);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(roundtrip_and_every_truncation),
	    cmocka_unit_test(invalid_series_are_refused),
	    cmocka_unit_test(snappy_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
