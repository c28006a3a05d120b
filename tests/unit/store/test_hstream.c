/* test_hstream.c - head streams round-trip every sample sequence bit for bit,
 * across block takes; truncated or garbage input is refused, never over-read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "pipeline/record.h"
#include "store/codec.h"
#include "store/hstream.h"

/* Appends everything the way the store does (taking full blocks into one
 * byte array), decodes, compares bit for bit; checks that truncations fail. */
static size_t roundtrip(const int64_t *ts, const double *v, size_t n)
{
	struct pane_hstream h;
	pane_hstream_init(&h);
	uint8_t *bytes = malloc(n * PANE_HS_SAMPLE_MAX + PANE_HS_TAIL);
	struct pane_hs_anchor *anc = calloc(n + 1, sizeof *anc);
	size_t len = 0, nanc = 0;
	for (size_t i = 0; i < n; i++) {
		if (pane_hstream_full(&h)) {
			pane_hstream_take(&h, bytes + len, &anc[nanc++]);
			len += PANE_HS_BLOCK;
		}
		assert_true(h.nbits < PANE_HS_BLOCK * 8);
		pane_hstream_append(&h, ts[i], v[i]);
		assert_true(pane_hstream_tail_len(&h) <= PANE_HS_TAIL);
	}
	assert_int_equal(h.n, n);
	size_t tl = pane_hstream_tail_len(&h);
	memcpy(bytes + len, h.tail, tl);
	len += tl;
	int64_t *ts2 = calloc(n + 1, sizeof *ts2);
	double *v2 = calloc(n + 1, sizeof *v2);
	assert_int_equal(pane_hstream_decode(bytes, len, n, ts2, v2), 0);
	for (size_t i = 0; i < n; i++) {
		assert_true(ts2[i] == ts[i]);
		assert_true(pane_f64_bits(v2[i]) == pane_f64_bits(v[i]));
	}
	/* from the anchor of every taken block: the samples from its idx on,
	 * the state before it being the previous sample's */
	for (size_t k = 0; k < nanc; k++) {
		const struct pane_hs_anchor *a = &anc[k];
		assert_true(a->idx < n && a->bit < PANE_HS_BLOCK * 8);
		assert_true(k == 0 ? a->idx == 0 && a->bit == 0 : a->idx > anc[k - 1].idx);
		if (a->idx) {
			assert_true(a->t == ts[a->idx - 1]);
			assert_true(a->v == pane_f64_bits(v[a->idx - 1]));
		}
		size_t off = k * PANE_HS_BLOCK, m = n - a->idx;
		assert_int_equal(pane_hstream_decode_from(bytes + off, len - off, a, m, ts2, v2), 0);
		for (size_t i = 0; i < m; i++) {
			assert_true(ts2[i] == ts[a->idx + i]);
			assert_true(pane_f64_bits(v2[i]) == pane_f64_bits(v[a->idx + i]));
		}
		assert_int_equal(pane_hstream_decode_from(bytes + off, len - off - 1, a, m, ts2, v2), PANE_EINVAL);
	}
	free(anc);
	/* the last sample needs its last byte: one byte short is refused */
	if (n) {
		uint8_t *cut = malloc(len);
		memcpy(cut, bytes, len);
		assert_int_equal(pane_hstream_decode(cut, len - 1, n, ts2, v2), PANE_EINVAL);
		/* asking for far more samples than the bytes hold is refused */
		int64_t *tb = calloc(len * 8 + 2, sizeof *tb);
		double *vb = calloc(len * 8 + 2, sizeof *vb);
		assert_int_equal(pane_hstream_decode(cut, len, len * 8 + 2, tb, vb), PANE_EINVAL);
		free(tb);
		free(vb);
		free(cut);
	}
	free(ts2);
	free(v2);
	free(bytes);
	return len;
}

static void scrape_like_series(void **state)
{
	(void)state;
	size_t n = 4096;
	int64_t *ts = malloc(n * sizeof *ts);
	double *v = malloc(n * sizeof *v);
	for (int kind = 0; kind < 2; kind++) {
		srand(7);
		double c = kind ? 5 : 1000;
		for (size_t i = 0; i < n; i++) {
			ts[i] = 1700006400000 + (int64_t)i * 15000 + rand() % 5;
			c += kind ? 0.25 * (rand() % 9) : rand() % 500;
			v[i] = c;
		}
		/* jittered timestamps + integer or 1/4 increments: ~3 bytes per sample, not 16 */
		assert_true(roundtrip(ts, v, n) < n * 7 / 2);
	}
	free(ts);
	free(v);
}

static void edge_values(void **state)
{
	(void)state;
	double vals[] = {0.0,
	                 -0.0,
	                 INFINITY,
	                 -INFINITY,
	                 NAN,
	                 pane_stale_nan(),
	                 pane_bits_f64(0x7ff8dead00000001ull),
	                 pane_bits_f64(0xfff0000000000001ull),
	                 1.0,
	                 -1.0,
	                 9007199254740992.0,
	                 9007199254740993.0 * 2,
	                 -9007199254740991.0,
	                 0.01,
	                 0.1,
	                 0.29,
	                 -0.07,
	                 1e300,
	                 -1e-300,
	                 4.9e-324,
	                 123456789.25,
	                 70368744177663.99,
	                 70368744177664.01,
	                 DBL_MAX,
	                 -DBL_MAX,
	                 0.5,
	                 1e15,
	                 1e16};
	size_t nv = sizeof vals / sizeof vals[0];
	/* every ordered pair, so each value follows each other value (all value codes, both directions) */
	size_t n = nv * nv * 2;
	int64_t *ts = malloc(n * sizeof *ts);
	double *v = malloc(n * sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < nv; i++)
		for (size_t j = 0; j < nv; j++) {
			ts[k] = (int64_t)k * 1000;
			v[k++] = vals[i];
			ts[k] = (int64_t)k * 1000;
			v[k++] = vals[j];
		}
	roundtrip(ts, v, n);
	free(ts);
	free(v);
}

static void timestamps_out_of_order_duplicate_extreme(void **state)
{
	(void)state;
	int64_t ts[] = {1000,
	                1000,
	                999,
	                5000,
	                4000,
	                4000,
	                INT64_MAX,
	                INT64_MIN,
	                0,
	                -1,
	                INT64_MIN,
	                INT64_MAX,
	                1 << 20,
	                (int64_t)1 << 40,
	                -((int64_t)1 << 40),
	                17,
	                17,
	                17,
	                18,
	                16,
	                100000000000};
	size_t n = sizeof ts / sizeof ts[0];
	double v[sizeof ts / sizeof ts[0]];
	for (size_t i = 0; i < n; i++)
		v[i] = (double)(i % 3) - 0.5 * (double)i;
	roundtrip(ts, v, n);
	/* one sample, and a stream that only ever repeats */
	roundtrip(ts, v, 1);
	int64_t t2[600];
	double v2[600];
	for (size_t i = 0; i < 600; i++) {
		t2[i] = 60000 * (int64_t)i;
		v2[i] = pane_stale_nan();
	}
	assert_true(roundtrip(t2, v2, 600) <= 16 + 4 + 600 * 2 / 8); /* 2 bits per sample after the first two */
}

static void random_sequences(void **state)
{
	(void)state;
	srand(42);
	for (int round = 0; round < 200; round++) {
		size_t n = 1 + (size_t)(rand() % 700);
		int64_t *ts = malloc(n * sizeof *ts);
		double *v = malloc(n * sizeof *v);
		uint64_t t = (uint64_t)rand() * (uint64_t)rand(); /* unsigned: wraps, never overflows */
		for (size_t i = 0; i < n; i++) {
			switch (rand() % 6) {
			case 0: t += (uint64_t)(rand() % 3) - 1; break;
			case 1: t += 15000; break;
			case 2: t -= (uint64_t)(rand() % 100000); break;
			case 3: t = ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 2) ^ (uint64_t)rand(); break;
			default: t += (uint64_t)(rand() % 70000); break;
			}
			ts[i] = (int64_t)t;
			uint64_t r = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
			switch (rand() % 5) {
			case 0: v[i] = pane_bits_f64(r); break; /* any bit pattern, NaNs included */
			case 1: v[i] = (double)(rand() % 1000) / 100.0; break;
			case 2: v[i] = (double)(rand() - RAND_MAX / 2); break;
			case 3: v[i] = i ? v[i - 1] : 0; break;
			default: v[i] = (double)rand() / 7.0; break;
			}
		}
		roundtrip(ts, v, n);
		free(ts);
		free(v);
	}
}

static void garbage_is_refused(void **state)
{
	(void)state;
	srand(3);
	int64_t ts[64];
	double v[64];
	uint8_t buf[256];
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand() % 256);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		/* copy to an exact-size allocation so ASan catches any over-read */
		uint8_t *p = malloc(len ? len : 1);
		memcpy(p, buf, len);
		int rc = pane_hstream_decode(p, len, 1 + (size_t)(rand() % 64), ts, v);
		assert_true(rc == 0 || rc == PANE_EINVAL);
		free(p);
	}
	assert_int_equal(pane_hstream_decode(buf, 15, 1, ts, v), PANE_EINVAL);
	assert_int_equal(pane_hstream_decode(NULL, 0, 0, ts, v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scrape_like_series),
	    cmocka_unit_test(edge_values),
	    cmocka_unit_test(timestamps_out_of_order_duplicate_extreme),
	    cmocka_unit_test(random_sequences),
	    cmocka_unit_test(garbage_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
