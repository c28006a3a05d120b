/* test_tiers.c - tier blobs (tiers.c): format 2 round-trips every bucket
 * bit for bit (edge values, gaps, one bucket, many), format 1 blobs still
 * decode, partial buckets of two blobs merge to the whole, damaged
 * blobs are refused without touching the bucket list, and a segment's
 * tier region holds each stored step's blob. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

#define H 3600000LL
#define T0 (1700000000000LL / H * H)

static int64_t tb[PANE_CHUNK_MAX];
static double vb[PANE_CHUNK_MAX];

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static bool same_f64(double a, double b)
{
	return pane_f64_bits(a) == pane_f64_bits(b);
}

static void assert_same_bucket(const struct bucket *a, const struct bucket *b)
{
	assert_true(a->t == b->t);
	assert_true(a->last_ts == b->last_ts);
	assert_true(same_f64(a->count, b->count));
	assert_true(same_f64(a->min, b->min));
	assert_true(same_f64(a->max, b->max));
	assert_true(same_f64(a->sum, b->sum));
	assert_true(same_f64(a->last, b->last));
}

/* Decodes blob (a copy: the decoder may touch its first byte) into l. */
static bool decode(const struct pane_buf *blob, struct bucket_list *l)
{
	uint8_t *p = malloc(blob->len ? blob->len : 1);
	memcpy(p, blob->data, blob->len);
	struct pane_buf scratch;
	pane_buf_init(&scratch, PANE_BUF_NOLIMIT);
	struct pane_unpacker *u = pane_unpacker_new();
	bool good = ps_tier_decode_blob(u, p, blob->len, &scratch, tb, vb, l);
	assert_memory_equal(p, blob->data, blob->len);
	pane_unpacker_free(u);
	pane_buf_release(&scratch);
	free(p);
	return good;
}

/* Encodes b (format 2), checks its tag, decodes it and compares; returns
 * the blob's size. */
static size_t roundtrip(const struct bucket *b, size_t nb, int64_t step)
{
	struct pane_buf blob;
	pane_buf_init(&blob, PANE_BUF_NOLIMIT);
	assert_int_equal(ps_tier_encode(b, nb, step, 3, &blob), 0);
	assert_true((uint8_t)blob.data[0] == 0x10 || (uint8_t)blob.data[0] == 0x11);
	struct bucket_list l = {0};
	ps_blist_add(&l, &(struct bucket){.t = 42}); /* decoding appends */
	assert_true(decode(&blob, &l));
	assert_int_equal(l.n, nb + 1);
	for (size_t i = 0; i < nb; i++)
		assert_same_bucket(&l.b[i + 1], &b[i]);
	size_t len = blob.len;
	free(l.b);
	pane_buf_release(&blob);
	return len;
}

static struct bucket bucket(int64_t t, double count, double min, double max, double sum, double last)
{
	return (struct bucket){
	    .t = t, .last_ts = t + H - 15000, .count = count, .min = min, .max = max, .sum = sum, .last = last};
}

static void edge_values(void **state)
{
	(void)state;
	const double odd[] = {INFINITY,
	                      -INFINITY,
	                      -0.0,
	                      0.0,
	                      DBL_MAX,
	                      -DBL_MAX,
	                      DBL_MIN,
	                      5e-324,
	                      -5e-324,
	                      0.1,
	                      1.0 / 3,
	                      1e300,
	                      -1e-300,
	                      123.45,
	                      9007199254740993.0,
	                      1e22,
	                      0.30000000000000004,
	                      pane_bits_f64(0x7ff8000000000123ull),
	                      pane_bits_f64(0xfff0000000000001ull)};
	size_t n = sizeof odd / sizeof odd[0];
	struct bucket b[4 * sizeof odd / sizeof odd[0]];
	/* each odd value in every column, next to ordinary ones */
	for (size_t c = 0; c < 4; c++)
		for (size_t i = 0; i < n; i++) {
			double v[4] = {1, 2, 3, 4};
			v[c] = odd[i];
			b[c * n + i] = bucket(T0 + (int64_t)(c * n + i) * H, 240, v[0], v[1], v[2], v[3]);
		}
	roundtrip(b, 4 * n, H);
	for (size_t i = 0; i < n; i++) { /* alone: one bucket */
		b[0] = bucket(T0, 1, odd[i], odd[i], odd[i], odd[i]);
		roundtrip(b, 1, H);
	}
	/* extreme counts, last_ts at both ends of the bucket, negative times */
	b[0] = bucket(-5 * H, 4294967296.0, 1, 2, 3, 2);
	b[0].last_ts = -5 * H;
	b[1] = bucket(-4 * H, 1, 1, 2, 3, 2);
	b[1].last_ts = -3 * H - 1;
	b[2] = bucket(7 * H, 1, 1, 2, 3, 2);
	roundtrip(b, 3, H);
	/* a step of neither tier, and the 5 min one */
	b[0] = bucket(7000 * 3, 2, 0.5, 0.5, 1, 0.5);
	b[0].last_ts = 7000 * 3 + 6999;
	roundtrip(b, 1, 7000);
	b[0] = bucket(T0, 20, -1.25, 3.5, 17, 3.5);
	b[0].last_ts = T0 + 300000 - 1;
	roundtrip(b, 1, 300000);
	/* a long blob that repeats itself is packed with zstd (tag 0x11) */
	struct bucket *many = malloc(PANE_CHUNK_MAX * sizeof *many);
	const double cyc[3] = {pane_bits_f64(0x4012345678abcdefull), 1.0 / 7, -2.5e-300};
	for (size_t i = 0; i < PANE_CHUNK_MAX; i++)
		many[i] = bucket(T0 + (int64_t)i * H, 240, cyc[i % 3], cyc[(i + 1) % 3], cyc[(i + 2) % 3], cyc[i % 3]);
	struct pane_buf z;
	pane_buf_init(&z, PANE_BUF_NOLIMIT);
	assert_int_equal(ps_tier_encode(many, PANE_CHUNK_MAX, H, 3, &z), 0);
	assert_int_equal((uint8_t)z.data[0], 0x11);
	pane_buf_release(&z);
	roundtrip(many, PANE_CHUNK_MAX, H);
	free(many);
	/* what ps_make_buckets refuses to produce is refused */
	struct pane_buf blob;
	pane_buf_init(&blob, PANE_BUF_NOLIMIT);
	b[0] = bucket(T0 + 1, 1, 1, 1, 1, 1);
	assert_int_equal(ps_tier_encode(b, 1, H, 3, &blob), PANE_EINVAL);
	b[0] = bucket(T0, 1.5, 1, 1, 1, 1);
	assert_int_equal(ps_tier_encode(b, 1, H, 3, &blob), PANE_EINVAL);
	b[0] = bucket(T0, 1, 1, 1, 1, 1);
	b[1] = b[0];
	assert_int_equal(ps_tier_encode(b, 2, H, 3, &blob), PANE_EINVAL);
	assert_int_equal(blob.len, 0);
	pane_buf_release(&blob);
}

/* Random buckets: decimal values (k random, sums of them as floats add
 * them), raw bit patterns, counters with resets; gaps; 1..4096 buckets. */
static void random_round_trips(void **state)
{
	(void)state;
	struct bucket *b = malloc(PANE_CHUNK_MAX * sizeof *b);
	for (int it = 0; it < 600; it++) {
		size_t nb = it % 50 == 0 ? PANE_CHUNK_MAX - next() % 3 : 1 + next() % (it % 3 ? 8 : 80);
		int64_t step = it % 2 ? H : 300000;
		int64_t t = ((int64_t)(next() % 2000000) - 1000000) * step;
		int kind = it % 4;
		double scale = pow(10, -(double)(next() % 16)), level = (double)(next() % 1000000) * scale;
		for (size_t i = 0; i < nb; i++) {
			uint64_t gap = next() % 4 == 0 ? next() % 5 : 0;
			t += (int64_t)(gap + 1) * step;
			double cnt = (double)(1 + next() % (kind == 3 ? 4096 : 240));
			double v[4];
			for (int c = 0; c < 3; c++) {
				if (kind == 0)
					v[c] = pane_bits_f64(next());
				else if (kind == 3 && next() % 10 == 0)
					v[c] = (double)(next() % 1000) * scale; /* a reset */
				else
					v[c] = level + (double)(next() % 10000) * scale;
			}
			double lo = fmin(v[0], v[1]), hi = fmax(v[0], v[1]);
			double sum = 0;
			for (int j = 0; j < (int)cnt && j < 50; j++)
				sum += lo + (double)(next() % 100) * scale;
			v[3] = kind == 0 ? pane_bits_f64(next()) : sum;
			b[i] = (struct bucket){.t = t,
			                       .last_ts = t + (int64_t)(next() % (uint64_t)step),
			                       .count = cnt,
			                       .min = kind ? lo : v[0],
			                       .max = kind ? hi : v[1],
			                       .sum = v[3],
			                       .last = kind == 2 ? hi : v[2]};
			level += (double)(next() % 100) * scale;
		}
		roundtrip(b, nb, step);
	}
	free(b);
}

/* The format-1 encoder as pane wrote it before format 2 (tiers.c, then):
 * a timestamp column and six DEC_D1 value columns, each after its uvarint
 * length, packed. */
static void encode_v1(const struct bucket *b, size_t nb, struct pane_buf *blob)
{
	struct pane_buf raw, one;
	pane_buf_init(&raw, PANE_BUF_NOLIMIT);
	pane_buf_init(&one, PANE_BUF_NOLIMIT);
	int64_t *t = malloc(nb * sizeof *t);
	double *col = malloc(nb * sizeof *col);
	for (int c = -1; c < 6; c++) {
		if (c < 0) {
			for (size_t i = 0; i < nb; i++)
				t[i] = b[i].t;
			pane_column_encode_ts(t, nb, &one);
		} else {
			for (size_t i = 0; i < nb; i++)
				col[i] = c == 0   ? b[i].count
				         : c == 1 ? b[i].min
				         : c == 2 ? b[i].max
				         : c == 3 ? b[i].sum
				         : c == 4 ? b[i].last
				                  : (double)(b[i].last_ts - b[i].t);
			pane_column_encode_values_as(col, nb, PANE_CODEC_DEC_D1, &one);
		}
		uint8_t h[10];
		pane_buf_add(&raw, h, pane_uvarint_put(h, one.len));
		pane_buf_add(&raw, one.data, one.len);
		pane_buf_reset(&one);
	}
	pane_segment_pack(raw.data, raw.len, 3, blob);
	free(t);
	free(col);
	pane_buf_release(&raw);
	pane_buf_release(&one);
}

/* A format-1 blob written by pane before format 2 (a 1 h tier of six
 * buckets of a counter, 15 s scrapes): bytes as they were on disk. */
static const uint8_t v1_fixture[] = {
#include "tier_v1_fixture.inc"
};

static void format1_still_decodes(void **state)
{
	(void)state;
	struct bucket b[6];
	for (int i = 0; i < 6; i++)
		b[i] = bucket(T0 + i * H, 240, 1000.5 + i * 100, 1099.25 + i * 100, 250000 + i * 24000.125,
		              1099.25 + i * 100);
	b[3] = bucket(T0 + 5 * H, 17, -0.0, INFINITY, 3.3333333333333335, 1.0 / 3);
	struct pane_buf blob;
	pane_buf_init(&blob, PANE_BUF_NOLIMIT);
	encode_v1(b, 4, &blob);
	assert_true(blob.data[0] == 0 || blob.data[0] == 1);
	struct bucket_list l = {0};
	assert_true(decode(&blob, &l));
	assert_int_equal(l.n, 4);
	for (size_t i = 0; i < 4; i++)
		assert_same_bucket(&l.b[i], &b[i]);
	pane_buf_release(&blob);
	/* the bytes an earlier pane wrote */
	blob = (struct pane_buf){0};
	pane_buf_init(&blob, PANE_BUF_NOLIMIT);
	pane_buf_add(&blob, v1_fixture, sizeof v1_fixture);
	l.n = 0;
	assert_true(decode(&blob, &l));
	assert_int_equal(l.n, 6);
	for (size_t i = 0; i < l.n; i++) {
		assert_true(l.b[i].t % H == 0 && (i == 0 || l.b[i].t == l.b[i - 1].t + H));
		assert_true(l.b[i].count == 240);
		assert_true(l.b[i].min <= l.b[i].last && l.b[i].last == l.b[i].max);
		assert_true(l.b[i].last_ts == l.b[i].t + H - 15000);
	}
	/* the same buckets in format 2: identical, and much smaller */
	struct bucket_list l2 = {0};
	struct pane_buf b2;
	pane_buf_init(&b2, PANE_BUF_NOLIMIT);
	assert_int_equal(ps_tier_encode(l.b, l.n, H, 3, &b2), 0);
	assert_true(decode(&b2, &l2));
	for (size_t i = 0; i < l.n; i++)
		assert_same_bucket(&l2.b[i], &l.b[i]);
	assert_true(b2.len * 2 <= blob.len);
	free(l.b);
	free(l2.b);
	pane_buf_release(&blob);
	pane_buf_release(&b2);
}

/* Out-of-order samples make a second blob for a window: its buckets,
 * merged with the first's as select.c does, are those of all samples. */
static void partial_buckets_merge(void **state)
{
	(void)state;
	enum { N = 1440, LATE = 200 };
	int64_t ts[N + LATE], ts2[LATE];
	double v[N + LATE], v2[LATE];
	for (int i = 0; i < N; i++) {
		ts[i] = T0 + i * 15000LL;
		v[i] = 100 + (double)(next() % 1000) / 100;
	}
	for (int i = 0; i < LATE; i++) { /* between the samples, in two hours and a bit */
		ts2[i] = T0 + 4 * H + 7 + (int64_t)(next() % (2 * H + 100000)) / 15000 * 15000;
		v2[i] = i % 7 ? -(double)(next() % 500) / 10 : pane_bits_f64(0x7ff0000000000002ull);
		ts[N + i] = ts2[i];
		v[N + i] = v2[i];
	}
	/* ts2 ascending within itself, as a head's samples are sorted */
	for (int i = 1; i < LATE; i++)
		for (int j = i; j > 0 && ts2[j - 1] > ts2[j]; j--) {
			int64_t t = ts2[j];
			ts2[j] = ts2[j - 1];
			ts2[j - 1] = t;
			double x = v2[j];
			v2[j] = v2[j - 1];
			v2[j - 1] = x;
		}
	struct bucket *b = malloc((N + LATE) * sizeof *b), *b2 = malloc(LATE * sizeof *b2);
	size_t nb = ps_make_buckets(ts, v, N, H, b), nb2 = ps_make_buckets(ts2, v2, LATE, H, b2);
	assert_true(nb2 >= 2 && nb2 < nb);
	struct pane_buf x, y;
	pane_buf_init(&x, PANE_BUF_NOLIMIT);
	pane_buf_init(&y, PANE_BUF_NOLIMIT);
	assert_int_equal(ps_tier_encode(b, nb, H, 3, &x), 0);
	assert_int_equal(ps_tier_encode(b2, nb2, H, 3, &y), 0);
	struct bucket_list l = {0};
	assert_true(decode(&y, &l));
	assert_true(decode(&x, &l));
	qsort(l.b, l.n, sizeof *l.b, ps_cmp_bucket);
	size_t k = 0;
	for (size_t i = 0; i < l.n;) {
		struct bucket acc = l.b[i++];
		while (i < l.n && l.b[i].t == acc.t)
			ps_bucket_merge(&acc, &l.b[i++]);
		l.b[k++] = acc;
	}
	/* all samples in time order, aggregated at once */
	for (int i = 1; i < N + LATE; i++)
		for (int j = i; j > 0 && ts[j - 1] > ts[j]; j--) {
			int64_t t = ts[j];
			ts[j] = ts[j - 1];
			ts[j - 1] = t;
			double z = v[j];
			v[j] = v[j - 1];
			v[j - 1] = z;
		}
	size_t nall = ps_make_buckets(ts, v, N + LATE, H, b);
	assert_int_equal(k, nall);
	for (size_t i = 0; i < k; i++) {
		assert_true(l.b[i].t == b[i].t && l.b[i].count == b[i].count && l.b[i].last_ts == b[i].last_ts);
		assert_true(l.b[i].min == b[i].min && l.b[i].max == b[i].max && l.b[i].last == b[i].last);
		assert_true(fabs(l.b[i].sum - b[i].sum) <= 1e-9 * fabs(b[i].sum)); /* added in another order */
	}
	free(l.b);
	free(b);
	free(b2);
	pane_buf_release(&x);
	pane_buf_release(&y);
}

/* Every prefix and every one-byte change of a blob: refused or decoded,
 * never read past (ASan), and a refusal leaves the list as it was. */
static void damaged_blobs(void **state)
{
	(void)state;
	struct bucket b[80];
	for (int i = 0; i < 80; i++)
		b[i] = bucket(T0 + (i + i / 9) * 300000LL, 20, i, i + 0.5, 20 * i + 5, i + 0.25);
	for (int i = 0; i < 80; i++)
		b[i].last_ts = b[i].t + 1000 * i;
	struct pane_buf blob;
	pane_buf_init(&blob, PANE_BUF_NOLIMIT);
	assert_int_equal(ps_tier_encode(b, 80, 300000, 3, &blob), 0);
	struct bucket_list l = {0};
	ps_blist_add(&l, &b[0]);
	for (size_t len = 0; len < blob.len; len++) {
		struct pane_buf p;
		pane_buf_init(&p, PANE_BUF_NOLIMIT);
		pane_buf_add(&p, blob.data, len);
		assert_false(decode(&p, &l));
		assert_int_equal(l.n, 1);
		pane_buf_release(&p);
	}
	for (size_t at = 0; at < blob.len; at++)
		for (int bit = 0; bit < 8; bit++) {
			blob.data[at] ^= (char)(1 << bit);
			if (!decode(&blob, &l))
				assert_int_equal(l.n, 1);
			l.n = 1;
			blob.data[at] ^= (char)(1 << bit);
		}
	free(l.b);
	pane_buf_release(&blob);
}

/* Decodes the blob of step in region (a copy) into l. */
static bool decode_region(const struct pane_buf *region, int64_t step, struct bucket_list *l)
{
	uint8_t *p = malloc(region->len ? region->len : 1);
	memcpy(p, region->data, region->len);
	struct pane_buf scratch;
	pane_buf_init(&scratch, PANE_BUF_NOLIMIT);
	struct pane_unpacker *u = pane_unpacker_new();
	bool good = ps_tier_region_decode(u, p, region->len, step, &scratch, tb, vb, l);
	assert_memory_equal(p, region->data, region->len);
	pane_unpacker_free(u);
	pane_buf_release(&scratch);
	free(p);
	return good;
}

/* A segment's tier region: each stored step's blob found by its step,
 * entries of unknown kinds skipped, no entry for a step without buckets;
 * a region cut inside an entry, or damaged, is refused whole and leaves
 * the list as it was. */
static void regions(void **state)
{
	(void)state;
	enum { N = 1440 };
	static int64_t ts[N];
	static double v[N];
	for (int i = 0; i < N; i++) {
		ts[i] = T0 + i * 15000LL + (i % 11 == 3 ? 40 : 0);
		v[i] = i % 97 == 5 ? pane_stale_nan() : (double)(i * 7 % 1000) / 8;
	}
	struct bucket *want = malloc(N * sizeof *want);
	struct pane_buf region;
	pane_buf_init(&region, PANE_BUF_NOLIMIT);
	pane_buf_addc(&region, 0x0a); /* an entry of kind 2 (a step this pane does not know), 2 bytes */
	pane_buf_add(&region, "xy", 2);
	assert_int_equal(ps_tier_region(ts, v, N, PANE_TIER_5M | PANE_TIER_1H, 3, &region), 0);
	for (int k = 0; k < 2; k++) {
		int64_t step = k ? H : 300000;
		size_t nb = ps_make_buckets(ts, v, N, step, want);
		struct bucket_list l = {0};
		ps_blist_add(&l, &(struct bucket){.t = 42});
		assert_true(decode_region(&region, step, &l));
		assert_int_equal(l.n, nb + 1);
		for (size_t i = 0; i < nb; i++)
			assert_same_bucket(&l.b[i + 1], &want[i]);
		free(l.b);
	}
	struct bucket_list l = {0};
	assert_true(decode_region(&region, 60000, &l)); /* no blob of that step */
	assert_int_equal(l.n, 0);
	/* one step only; none; a segment all stale (no bucket) */
	struct pane_buf one, none;
	pane_buf_init(&one, PANE_BUF_NOLIMIT);
	pane_buf_init(&none, PANE_BUF_NOLIMIT);
	assert_int_equal(ps_tier_region(ts, v, N, PANE_TIER_1H, 3, &one), 0);
	assert_true(decode_region(&one, 300000, &l) && l.n == 0);
	assert_true(decode_region(&one, H, &l) && l.n == ps_make_buckets(ts, v, N, H, want));
	assert_int_equal(ps_tier_region(ts, v, N, 0, 3, &none), 0);
	assert_int_equal(none.len, 0);
	for (int i = 0; i < N; i++)
		v[i] = pane_stale_nan();
	assert_int_equal(ps_tier_region(ts, v, N, PANE_TIER_5M | PANE_TIER_1H, 3, &none), 0);
	assert_int_equal(none.len, 0);
	/* cut: refused unless at an entry's end; damaged: refused or decoded,
	 * never read past (ASan), the list as it was when refused */
	l.n = 1;
	for (size_t len = 0; len < one.len; len++) {
		struct pane_buf p;
		pane_buf_init(&p, PANE_BUF_NOLIMIT);
		pane_buf_add(&p, one.data, len);
		assert_int_equal(decode_region(&p, H, &l), len == 0);
		assert_int_equal(l.n, 1);
		pane_buf_release(&p);
	}
	for (size_t at = 0; at < one.len; at++)
		for (int bit = 0; bit < 8; bit++) {
			one.data[at] ^= (char)(1 << bit);
			if (!decode_region(&one, H, &l))
				assert_int_equal(l.n, 1);
			l.n = 1;
			one.data[at] ^= (char)(1 << bit);
		}
	free(l.b);
	free(want);
	pane_buf_release(&region);
	pane_buf_release(&one);
	pane_buf_release(&none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(edge_values),           cmocka_unit_test(random_round_trips),
	    cmocka_unit_test(format1_still_decodes), cmocka_unit_test(partial_buckets_merge),
	    cmocka_unit_test(damaged_blobs),         cmocka_unit_test(regions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
