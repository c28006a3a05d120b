/* test_codec.c - chunks round-trip every bit pattern exactly; malformed input is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "pipeline/record.h"
#include "store/codec.h"

/* Encodes with the given codec, decodes, compares bit for bit; returns the codec used. */
static int roundtrip(const int64_t *ts, const double *v, size_t n, int force)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_addc(&b, 'x'); /* chunks are appended, not written at offset 0 */
	int codec = pane_chunk_encode(ts, v, n, force, &b);
	assert_true(codec >= 0);
	int64_t *ts2 = calloc(PANE_CHUNK_MAX, sizeof *ts2);
	double *v2 = calloc(PANE_CHUNK_MAX, sizeof *v2);
	size_t n2 = 0, used = 0;
	assert_int_equal(pane_chunk_decode((const uint8_t *)b.data + 1, b.len - 1, ts2, v2, PANE_CHUNK_MAX, &n2, &used),
	                 0);
	assert_int_equal(n2, n);
	assert_int_equal(used, b.len - 1);
	for (size_t i = 0; i < n; i++) {
		assert_true(ts2[i] == ts[i]);
		assert_true(pane_f64_bits(v2[i]) == pane_f64_bits(v[i]));
	}
	/* every strict prefix is refused or decodes differently, never read past the end */
	for (size_t cut = 0; cut < b.len - 1; cut += 1 + (b.len / 64)) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, b.data + 1, cut);
		size_t n3 = 0, u3 = 0;
		int rc = pane_chunk_decode(copy, cut, ts2, v2, PANE_CHUNK_MAX, &n3, &u3);
		assert_true(rc == PANE_EINVAL || u3 <= cut);
		free(copy);
	}
	free(ts2);
	free(v2);
	pane_buf_release(&b);
	return codec;
}

static void edge_values_all_codecs(void **state)
{
	(void)state;
	double v[] = {0.0,
	              -0.0,
	              NAN,
	              INFINITY,
	              -INFINITY,
	              pane_stale_nan(),
	              pane_bits_f64(0x7ff8dead0000beefull),
	              1.8446744073709552e19,
	              9007199254740993.0,
	              -1e308,
	              5e-324,
	              1.5,
	              0.1,
	              42.0,
	              -123.456};
	size_t n = sizeof v / sizeof v[0];
	int64_t ts[sizeof v / sizeof v[0]];
	for (size_t i = 0; i < n; i++)
		ts[i] = 1700000000000 + (int64_t)i * 15000;
	assert_int_equal(roundtrip(ts, v, n, PANE_CODEC_XOR), PANE_CODEC_XOR);
	/* decimal codecs cannot hold NaN/Inf/-0: the encoder falls back, still exact */
	assert_int_equal(roundtrip(ts, v, n, PANE_CODEC_DEC_D1), PANE_CODEC_XOR);
	assert_int_equal(roundtrip(ts, v, n, -1), PANE_CODEC_XOR);
	/* the stale marker keeps its exact payload */
	double st[3] = {1.0, pane_stale_nan(), 2.0};
	int64_t t3[3] = {1, 2, 3};
	roundtrip(t3, st, 3, -1);
	assert_true(pane_f64_bits(st[1]) == PANE_STALE_NAN_BITS);
	/* -0.0 alone is constant, and stays -0.0 */
	double nz[2] = {-0.0, -0.0};
	assert_int_equal(roundtrip(t3, nz, 2, -1), PANE_CODEC_CONST);
}

static void decimals_pick_decimal_codec(void **state)
{
	(void)state;
	enum { N = 720 };
	int64_t ts[N];
	double counter[N], gauge[N], cpu[N];
	uint64_t c = 123456789012ull;
	srand(7);
	for (int i = 0; i < N; i++) {
		ts[i] = 1700000000000 + (int64_t)i * 15000 + (rand() % 3) - 1; /* jitter */
		c += 1000 + (uint64_t)(rand() % 50);
		counter[i] = (double)c;
		gauge[i] = (double)(rand() % 100000) / 100.0; /* two decimals */
		cpu[i] = (double)(rand() % 1000000) / 1000.0;
	}
	int k1 = roundtrip(ts, counter, N, -1);
	assert_true(k1 == PANE_CODEC_DEC_D1 || k1 == PANE_CODEC_DEC_D2 || k1 == PANE_CODEC_DEC_ANS);
	int k2 = roundtrip(ts, gauge, N, -1);
	/* uniform noise: the rANS coder gets near its entropy, varints do not */
	assert_int_equal(k2, PANE_CODEC_DEC_ANS);
	roundtrip(ts, cpu, N, -1);
	for (int c2 = 0; c2 <= PANE_CODEC_F64_ANS; c2++) {
		if (c2 == PANE_CODEC_CONST)
			continue;
		assert_int_equal(roundtrip(ts, gauge, N, c2), c2);
		assert_int_equal(roundtrip(ts, counter, N, c2), c2);
	}
	/* a few stale markers, -0.0 and Inf ride along as exceptions in a decimal chunk */
	double withstale[N];
	memcpy(withstale, gauge, sizeof gauge);
	withstale[0] = pane_stale_nan();
	withstale[100] = -0.0;
	withstale[101] = INFINITY;
	withstale[N - 1] = pane_stale_nan();
	int k3 = roundtrip(ts, withstale, N, -1);
	assert_true(k3 == PANE_CODEC_DEC_D1 || k3 == PANE_CODEC_DEC_D2 || k3 == PANE_CODEC_DEC_ANS);
	assert_int_equal(roundtrip(ts, withstale, N, PANE_CODEC_DEC_D2), PANE_CODEC_DEC_D2);
	assert_int_equal(roundtrip(ts, withstale, N, PANE_CODEC_DEC_ANS), PANE_CODEC_DEC_ANS);
	/* extreme increments (every bit length, both signs) and a steady counter
	 * (one symbol: zero bits a sample) through the rANS coder */
	double wide[N];
	for (int i = 0; i < N; i++)
		wide[i] = (double)((i % 2 ? 1 : -1) * ((int64_t)1 << (i % 52)));
	assert_int_equal(roundtrip(ts, wide, N, PANE_CODEC_DEC_ANS), PANE_CODEC_DEC_ANS);
	double steady[N];
	for (int i = 0; i < N; i++)
		steady[i] = 1e6 + 250.0 * i;
	assert_int_equal(roundtrip(ts, steady, N, PANE_CODEC_DEC_ANS), PANE_CODEC_DEC_ANS);
	assert_int_equal(roundtrip(ts, steady, 2, PANE_CODEC_DEC_ANS), PANE_CODEC_DEC_ANS);
	/* independent random floats: a float codec */
	double rnd[N];
	for (int i = 0; i < N; i++)
		rnd[i] = (double)rand() / 3.0 + (double)rand() * 1e-9;
	int k4 = roundtrip(ts, rnd, N, -1);
	assert_true(k4 == PANE_CODEC_XOR || k4 == PANE_CODEC_F64_ANS);
}

/* Encoded size of v with a forced codec. */
static size_t size_as(const double *v, size_t n, int codec)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	assert_int_equal(pane_column_encode_values_as(v, n, codec, &b), codec);
	size_t len = b.len;
	pane_buf_release(&b);
	return len;
}

/* Gaussian noise (Box-Muller on rand: deterministic per seed). */
static double gauss(void)
{
	double u1 = ((double)rand() + 1.0) / ((double)RAND_MAX + 2.0), u2 = (double)rand() / ((double)RAND_MAX + 1.0);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void floats_pick_f64_ans(void **state)
{
	(void)state;
	enum { N = 1440 };
	int64_t ts[N];
	double walk[N];
	srand(13);
	for (int i = 0; i < N; i++)
		ts[i] = 1700000000000 + i * 15000LL;
	/* an unrounded random walk (bench/store/shapes.py's "floats"): F64_ANS,
	 * well below XOR */
	double x = 37.25;
	for (int i = 0; i < N; i++) {
		x = fabs(x + gauss() * 0.01 * 37.25);
		walk[i] = x;
	}
	assert_int_equal(roundtrip(ts, walk, N, -1), PANE_CODEC_F64_ANS);
	assert_true(size_as(walk, N, PANE_CODEC_F64_ANS) * 20 <
	            size_as(walk, N, PANE_CODEC_XOR) * 19); /* 48.2 vs 53.2 bits */
	assert_int_equal(roundtrip(ts, walk, N, PANE_CODEC_F64_ANS), PANE_CODEC_F64_ANS);
	assert_int_equal(roundtrip(ts, walk, 2, PANE_CODEC_F64_ANS), PANE_CODEC_F64_ANS);
	/* one value cannot be forced into it (nothing to predict): still exact */
	assert_int_equal(roundtrip(ts, walk, 1, PANE_CODEC_F64_ANS), PANE_CODEC_CONST);
	/* a walk that crosses zero (sign changes, -0.0, denormals), one across
	 * many powers of two (exponent changes) and one with stale markers,
	 * NaN payloads and infinities in it */
	double across[N], grow[N], specials[N];
	x = 0.3;
	for (int i = 0; i < N; i++) {
		x += gauss() * 0.05;
		across[i] = i % 97 == 5 ? -0.0 : i % 89 == 7 ? 5e-324 : i % 83 == 3 ? -5e-324 : x;
		grow[i] = 1e-3 * pow(1.02, i) * (1.0 + gauss() * 1e-3);
		specials[i] = walk[i];
	}
	specials[0] = pane_stale_nan();
	specials[10] = NAN;
	specials[11] = pane_bits_f64(0x7ff8dead0000beefull);
	specials[12] = pane_bits_f64(0xfff0000000000001ull); /* a negative NaN */
	specials[200] = INFINITY;
	specials[201] = -INFINITY;
	specials[300] = -0.0;
	specials[301] = 0.0;
	specials[N - 1] = pane_stale_nan();
	assert_int_equal(roundtrip(ts, across, N, PANE_CODEC_F64_ANS), PANE_CODEC_F64_ANS);
	assert_int_equal(roundtrip(ts, grow, N, PANE_CODEC_F64_ANS), PANE_CODEC_F64_ANS);
	assert_int_equal(roundtrip(ts, specials, N, PANE_CODEC_F64_ANS), PANE_CODEC_F64_ANS);
	int k = roundtrip(ts, grow, N, -1);
	assert_true(k == PANE_CODEC_XOR || k == PANE_CODEC_F64_ANS);
	roundtrip(ts, across, N, -1);
	roundtrip(ts, specials, N, -1);
	/* the extreme bit patterns, in every order the ordered integers wrap in */
	double edge[] = {pane_bits_f64(0),
	                 pane_bits_f64(0x8000000000000000ull),
	                 pane_bits_f64(0x7fffffffffffffffull),
	                 pane_bits_f64(0xffffffffffffffffull),
	                 pane_bits_f64(1),
	                 pane_bits_f64(0x8000000000000001ull),
	                 pane_bits_f64(0x7ff0000000000000ull),
	                 pane_bits_f64(0xfff0000000000000ull),
	                 pane_bits_f64(0x7fffffffffffffffull),
	                 pane_bits_f64(0),
	                 1.0,
	                 -1.0,
	                 1.0};
	size_t ne = sizeof edge / sizeof edge[0];
	assert_int_equal(roundtrip(ts, edge, ne, PANE_CODEC_F64_ANS), PANE_CODEC_F64_ANS);
	roundtrip(ts, edge, ne, -1);
	/* runs of repeats: zero increments cost F64_ANS almost nothing too */
	double steps[N];
	for (int i = 0; i < N; i++)
		steps[i] = walk[i / 240];
	k = roundtrip(ts, steps, N, -1);
	assert_true(k == PANE_CODEC_XOR || k == PANE_CODEC_F64_ANS);
}

static void timestamps_irregular_and_extreme(void **state)
{
	(void)state;
	int64_t ts[] = {
	    INT64_MIN,     -1, 0, 1, 1000, 999, INT64_MAX, INT64_MIN + 1, 1700000000000, 1700000000001, 1700000086400,
	    1700000086400, 5};
	double v[13];
	for (int i = 0; i < 13; i++)
		v[i] = i;
	roundtrip(ts, v, 13, -1);
	roundtrip(ts, v, 13, PANE_CODEC_XOR);
	int64_t one = 42;
	double ov = -3.25;
	roundtrip(&one, &ov, 1, -1);
	/* a full chunk */
	int64_t *big = malloc(PANE_CHUNK_MAX * sizeof *big);
	double *bv = malloc(PANE_CHUNK_MAX * sizeof *bv);
	for (int i = 0; i < PANE_CHUNK_MAX; i++) {
		big[i] = (int64_t)i * i * 7;
		bv[i] = i % 17 == 0 ? NAN : sqrt(i);
	}
	roundtrip(big, bv, PANE_CHUNK_MAX, -1);
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	assert_int_equal(pane_chunk_encode(big, bv, 0, -1, &b), PANE_EINVAL);
	assert_int_equal(pane_chunk_encode(big, bv, PANE_CHUNK_MAX + 1, -1, &b), PANE_EINVAL);
	pane_buf_release(&b);
	free(big);
	free(bv);
}

static void columns_roundtrip(void **state)
{
	(void)state;
	enum { N = 1440 };
	int64_t ts[N], ts2[PANE_CHUNK_MAX];
	double v[N], v2[PANE_CHUNK_MAX];
	for (int i = 0; i < N; i++) {
		ts[i] = 1700000000000 + i * 15000LL + (i * 7919 % 9) - 4; /* jitter: grid coding */
		v[i] = i % 300 == 0 ? pane_stale_nan() : (double)(i * 3 % 1000) / 100.0;
	}
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	assert_true(pane_column_encode_ts(ts, N, &b) >= 0);
	size_t n, used;
	assert_int_equal(pane_chunk_decode((const uint8_t *)b.data, b.len, ts2, v2, PANE_CHUNK_MAX, &n, &used), 0);
	assert_int_equal(n, N);
	assert_int_equal(used, b.len);
	assert_memory_equal(ts, ts2, sizeof ts);
	assert_true(v2[5] == 0.0); /* no values in a timestamp column */
	pane_buf_reset(&b);
	int codec = pane_column_encode_values(v, N, &b);
	assert_true(codec == PANE_CODEC_DEC_D1 || codec == PANE_CODEC_DEC_D2 || codec == PANE_CODEC_DEC_ANS);
	assert_int_equal(pane_chunk_decode((const uint8_t *)b.data, b.len, ts2, v2, PANE_CHUNK_MAX, &n, &used), 0);
	assert_int_equal(n, N);
	assert_memory_equal(v, v2, sizeof v);
	assert_true(ts2[7] == 0);
	/* a tag claiming neither column is refused */
	uint8_t bad[] = {2, 0xC0, 0x01, 0};
	assert_int_equal(pane_chunk_decode(bad, sizeof bad, ts2, v2, PANE_CHUNK_MAX, &n, &used), PANE_EINVAL);
	/* a value codec id past the last one this binary knows (a newer pane's)
	 * is told apart from damage */
	uint8_t newer[] = {2, (uint8_t)(0x40 /* values only */ | (PANE_CODEC_F64_ANS + 1)), 0, 0, 0, 0};
	assert_int_equal(pane_chunk_decode(newer, sizeof newer, ts2, v2, PANE_CHUNK_MAX, &n, &used), PANE_EUNSUPPORTED);
	/* a reusable unpacker gives the same bytes */
	struct pane_buf packed, back;
	pane_buf_init(&packed, PANE_BUF_NOLIMIT);
	pane_buf_init(&back, PANE_BUF_NOLIMIT);
	assert_int_equal(pane_segment_pack(b.data, b.len, 9, &packed), 0);
	struct pane_unpacker *u = pane_unpacker_new();
	for (int k = 0; k < 3; k++) {
		pane_buf_reset(&back);
		assert_int_equal(pane_segment_unpack_with(u, packed.data, packed.len, 1 << 20, &back), 0);
		assert_int_equal(back.len, b.len);
		assert_memory_equal(back.data, b.data, b.len);
	}
	pane_unpacker_free(u);
	pane_buf_release(&packed);
	pane_buf_release(&back);
	pane_buf_release(&b);
}

/* A counter's increments (all >= 0) are coded without a sign bit, and a
 * chunk with many symbols sends its table a byte a symbol: a heavy-tailed
 * counter costs about a bit a sample less than the same increments with
 * random signs (a walk, which needs that bit); both round-trip at every
 * length. */
static void dec_ans_counters_pay_no_sign(void **state)
{
	(void)state;
	enum { N = 1440 };
	static int64_t ts[N];
	static double counter[N], walk[N], reset[N];
	srand(11);
	for (int scale = 1; scale <= 1000; scale *= 10) {
		int64_t c = 1000000, w = 1000000;
		for (int i = 0; i < N; i++) {
			double u = ((double)rand() + 1.0) / ((double)RAND_MAX + 2.0);
			int64_t d = (int64_t)floor(scale / pow(u, 1.0 / 1.5)); /* Pareto, alpha 1.5 */
			c += d;
			w += rand() % 2 ? d : -d;
			ts[i] = 1700000000000 + i * 15000LL;
			counter[i] = (double)c;
			walk[i] = (double)w;
			reset[i] = (double)(i < 500    ? c
			                    : i < 1000 ? c - counter[499]
			                               : c - counter[999]); /* restarts */
		}
		size_t sc = size_as(counter, N, PANE_CODEC_DEC_ANS), sw = size_as(walk, N, PANE_CODEC_DEC_ANS);
		if (sc + N / 8 * 9 / 10 > sw)
			fail_msg("scale %d: counter %zu bytes, walk %zu: the counter should save ~%d", scale, sc, sw,
			         N / 8);
		/* two resets are two exceptions, not a sign bit a sample */
		size_t sr = size_as(reset, N, PANE_CODEC_DEC_ANS);
		if (sr > sc + 40)
			fail_msg("scale %d: counter %zu bytes, with two resets %zu", scale, sc, sr);
		for (size_t n = 2; n <= N; n = n * 3 + 1) {
			assert_int_equal(roundtrip(ts, counter, n, PANE_CODEC_DEC_ANS), PANE_CODEC_DEC_ANS);
			assert_int_equal(roundtrip(ts, walk, n, PANE_CODEC_DEC_ANS), PANE_CODEC_DEC_ANS);
			assert_int_equal(roundtrip(ts, reset, n, PANE_CODEC_DEC_ANS), PANE_CODEC_DEC_ANS);
			assert_int_equal(roundtrip(ts, reset, n, PANE_CODEC_F64_ANS), PANE_CODEC_F64_ANS);
		}
	}
}

/* Increments that share a factor (memory counted in 4 KiB pages) are coded
 * in units of it, and values drawn around a level (a gauge of small
 * integers) as distances from it: each chunk within 10% of its entropy
 * (log2 of the range a sample) plus 64 bytes of headers and table. Both
 * round-trip at every length, as do huge factors and both signs. */
static void dec_ans_factor_and_level(void **state)
{
	(void)state;
	enum { N = 1440 };
	static int64_t ts[N];
	static double pages[N], level[N], huge[N];
	srand(13);
	int64_t p = (6LL << 30) / 4096;
	for (int i = 0; i < N; i++) {
		ts[i] = 1700000000000 + i * 15000LL;
		p += rand() % 601 - 300;
		pages[i] = (double)(p * 4096);
		level[i] = (double)(rand() % 11);
		huge[i] = (double)((int64_t)(rand() % 2001 - 1000) * ((int64_t)1 << 40));
	}
	size_t sp = size_as(pages, N, PANE_CODEC_DEC_ANS), sl = size_as(level, N, PANE_CODEC_DEC_ANS);
	double hp = N * log2(601) / 8, hl = N * log2(11) / 8;
	if ((double)sp > hp * 1.1 + 64 || (double)sl > hl * 1.1 + 64)
		fail_msg("pages %zu bytes (entropy %.0f), level %zu bytes (entropy %.0f)", sp, hp, sl, hl);
	for (size_t n = 2; n <= N; n = n * 3 + 1) {
		assert_int_equal(roundtrip(ts, pages, n, PANE_CODEC_DEC_ANS), PANE_CODEC_DEC_ANS);
		assert_int_equal(roundtrip(ts, level, n, PANE_CODEC_DEC_ANS), PANE_CODEC_DEC_ANS);
		assert_int_equal(roundtrip(ts, huge, n, PANE_CODEC_DEC_ANS), PANE_CODEC_DEC_ANS);
		assert_int_equal(roundtrip(ts, huge, n, PANE_CODEC_F64_ANS), PANE_CODEC_F64_ANS);
	}
}

/* A DEC_ANS chunk as pane wrote it before the unsigned residuals and the
 * quantised table (a375e7a) reads unchanged. */
static void dec_ans_old_chunk_reads(void **state)
{
	(void)state;
	static const uint8_t old[] = {0x28, 0x44, 0x00, 0x02, 0x90, 0x4e, 0x01, 0x02, 0x1f, 0xd8, 0x13, 0x01, 0xa6,
	                              0x0c, 0x08, 0x16, 0x71, 0x77, 0x35, 0x8f, 0x82, 0x6b, 0x27, 0x1b, 0x73, 0xa9,
	                              0x73, 0xa9, 0x75, 0x2e, 0x75, 0x2e, 0xa5, 0xce, 0xa5, 0xd4, 0xb9, 0xd4, 0xba,
	                              0x97, 0x3a, 0x97, 0x52, 0xe7, 0x52, 0xea, 0x5c, 0xea, 0x5d, 0x4b, 0x80};
	enum { N = 40 };
	int64_t ts[PANE_CHUNK_MAX];
	double v[PANE_CHUNK_MAX];
	size_t n = 0, used = 0;
	assert_int_equal(pane_chunk_decode(old, sizeof old, ts, v, PANE_CHUNK_MAX, &n, &used), 0);
	assert_int_equal(n, N);
	assert_int_equal(used, sizeof old);
	uint64_t c = 5000;
	for (int i = 0; i < N; i++) {
		c += (uint64_t)((i * 7919) % 300);
		double want = (double)c / 100.0;
		assert_memory_equal(&v[i], &want, 8);
	}
}

/* Every single-byte corruption of a DEC_ANS or F64_ANS chunk is refused or
 * decodes within bounds (the rANS state check catches most). */
static void ans_corruption_is_refused_as(int codec)
{
	enum { N = 600 };
	int64_t ts[PANE_CHUNK_MAX];
	double v[PANE_CHUNK_MAX];
	uint64_t c = 1000;
	srand(5);
	for (int i = 0; i < N; i++) {
		ts[i] = 1700000000000 + i * 15000LL;
		c = i == 300 ? 7 : c + (uint64_t)(rand() % 5000); /* a reset: an exception in DEC_ANS */
		v[i] = i == 17 ? pane_stale_nan() : (double)c / 100.0;
	}
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	assert_int_equal(pane_column_encode_values_as(v, N, codec, &b), codec);
	uint8_t *copy = malloc(b.len);
	for (size_t i = 0; i < b.len; i++)
		for (int bit = 0; bit < 8; bit += 3) {
			memcpy(copy, b.data, b.len);
			copy[i] ^= (uint8_t)(1u << bit);
			size_t n = 0, used = 0;
			int rc = pane_chunk_decode(copy, b.len, ts, v, PANE_CHUNK_MAX, &n, &used);
			assert_true(rc == PANE_EINVAL || rc == PANE_EUNSUPPORTED ||
			            (rc == 0 && used <= b.len && n <= PANE_CHUNK_MAX));
		}
	free(copy);
	pane_buf_release(&b);
}

/* pane_chunk_decode_prefix: for every value codec, the first want values
 * of a value column are the whole decode's, bit for bit, whatever want is
 * (an exception, a reset, a stale marker before and after it); *n is the
 * chunk's count; a chunk with timestamps is decoded whole. */
static void prefix_decodes_the_same(void **state)
{
	(void)state;
	enum { N = 900 };
	static double sets[4][N];
	srand(21);
	uint64_t c = 1000;
	double w = 37.25;
	for (int i = 0; i < N; i++) {
		c = i == 300 ? 7 : c + (uint64_t)(rand() % 5000); /* a counter's reset */
		sets[0][i] = i == 17 || i == 611 ? pane_stale_nan() : (double)c / 100.0;
		sets[1][i] = (double)(1000 + 3 * i);
		sets[2][i] = 42.5;
		w = fabs(w + gauss() * 0.37);
		sets[3][i] = w;
	}
	const int codecs[] = {PANE_CODEC_XOR,     PANE_CODEC_DEC_D1, PANE_CODEC_DEC_D2,
	                      PANE_CODEC_DEC_ANS, PANE_CODEC_CONST,  PANE_CODEC_F64_ANS};
	static int64_t ts[PANE_CHUNK_MAX];
	static double all[PANE_CHUNK_MAX], part[PANE_CHUNK_MAX];
	unsigned tried = 0; /* the codecs that took some set */
	for (size_t si = 0; si < 4; si++)
		for (size_t ci = 0; ci < sizeof codecs / sizeof codecs[0]; ci++) {
			struct pane_buf b;
			pane_buf_init(&b, PANE_BUF_NOLIMIT);
			if (pane_column_encode_values_as(sets[si], N, codecs[ci], &b) != codecs[ci]) {
				pane_buf_release(&b); /* the codec cannot hold these values (checked elsewhere) */
				continue;
			}
			tried |= 1u << codecs[ci];
			size_t n = 0, used = 0;
			assert_int_equal(
			    pane_chunk_decode((const uint8_t *)b.data, b.len, ts, all, PANE_CHUNK_MAX, &n, &used), 0);
			assert_int_equal(n, N);
			const size_t wants[] = {1, 2, 17, 18, 299, 300, 301, 612, N - 1, N, N + 5};
			for (size_t wi = 0; wi < sizeof wants / sizeof wants[0]; wi++) {
				memset(part, 0xa5, sizeof part);
				size_t n2 = 0;
				assert_int_equal(pane_chunk_decode_prefix((const uint8_t *)b.data, b.len, ts, part,
				                                          PANE_CHUNK_MAX, wants[wi], &n2, &used),
				                 0);
				assert_int_equal(n2, N);
				size_t k = wants[wi] < N ? wants[wi] : N;
				assert_memory_equal(part, all, k * sizeof *part);
			}
			pane_buf_release(&b);
		}
	assert_int_equal(tried, (1u << PANE_CODEC_XOR) | (1u << PANE_CODEC_DEC_D1) | (1u << PANE_CODEC_DEC_D2) |
	                            (1u << PANE_CODEC_CONST) | (1u << PANE_CODEC_DEC_ANS) | (1u << PANE_CODEC_F64_ANS));
	/* with timestamps in the chunk: all of it, whatever want says */
	double v[N];
	for (int i = 0; i < N; i++) {
		ts[i] = 1700000000000 + i * 15000LL;
		v[i] = sets[0][i];
	}
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	assert_true(pane_chunk_encode(ts, v, N, -1, &b) >= 0);
	size_t n = 0, used = 0;
	assert_int_equal(
	    pane_chunk_decode_prefix((const uint8_t *)b.data, b.len, ts, part, PANE_CHUNK_MAX, 3, &n, &used), 0);
	assert_int_equal(n, N);
	assert_int_equal(used, b.len);
	assert_memory_equal(part, v, sizeof v);
	pane_buf_release(&b);
}

static void ans_corruption_is_refused(void **state)
{
	(void)state;
	ans_corruption_is_refused_as(PANE_CODEC_DEC_ANS);
	ans_corruption_is_refused_as(PANE_CODEC_F64_ANS);
}

static void garbage_is_refused(void **state)
{
	(void)state;
	int64_t ts[PANE_CHUNK_MAX];
	double v[PANE_CHUNK_MAX];
	uint8_t junk[256];
	srand(11);
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(rand() % 256);
		for (size_t i = 0; i < len; i++)
			junk[i] = (uint8_t)rand();
		size_t n = 0, used = 0;
		int rc = pane_chunk_decode(junk, len, ts, v, PANE_CHUNK_MAX, &n, &used);
		assert_true(rc == 0 || rc == PANE_EINVAL || rc == PANE_EUNSUPPORTED);
		if (rc == 0)
			assert_true(used <= len && n >= 1);
	}
	size_t n, used;
	assert_int_equal(pane_chunk_decode(junk, 0, ts, v, PANE_CHUNK_MAX, &n, &used), PANE_EINVAL);
}

static void segments_pack_and_refuse_bad(void **state)
{
	(void)state;
	struct pane_buf raw, blob, back;
	pane_buf_init(&raw, PANE_BUF_NOLIMIT);
	pane_buf_init(&blob, PANE_BUF_NOLIMIT);
	pane_buf_init(&back, PANE_BUF_NOLIMIT);
	for (int i = 0; i < 4000; i++)
		pane_buf_addc(&raw, (char)(i % 7));
	assert_int_equal(pane_segment_pack(raw.data, raw.len, 3, &blob), 0);
	assert_true(blob.len < raw.len / 4); /* repetitive data is compressed */
	assert_int_equal(pane_segment_unpack(blob.data, blob.len, 1 << 20, &back), 0);
	assert_int_equal(back.len, raw.len);
	assert_memory_equal(back.data, raw.data, raw.len);
	pane_buf_reset(&back);
	assert_int_equal(pane_segment_unpack(blob.data, blob.len, 100, &back), PANE_EINVAL); /* over bound */
	pane_buf_reset(&back);
	assert_int_equal(pane_segment_unpack(blob.data, blob.len - 3, 1 << 20, &back), PANE_EINVAL);
	pane_buf_reset(&back);
	/* incompressible data is stored raw */
	pane_buf_reset(&blob);
	assert_int_equal(pane_segment_pack("ab", 2, 3, &blob), 0);
	assert_int_equal(blob.len, 3);
	assert_int_equal(pane_segment_unpack(blob.data, blob.len, 10, &back), 0);
	assert_memory_equal(back.data, "ab", 2);
	assert_int_equal(pane_segment_unpack("\x07", 1, 10, &back), PANE_EINVAL);
	pane_buf_release(&raw);
	pane_buf_release(&blob);
	pane_buf_release(&back);
}

static void crc_and_varints(void **state)
{
	(void)state;
	assert_true(pane_crc32c(0, "123456789", 9) == 0xE3069283u); /* the CRC-32C check value */
	assert_true(pane_crc32c_portable(0, "123456789", 9) == 0xE3069283u);
	/* the instruction (where the CPU has it) and the tables agree at every
	 * length, alignment and running value, chained or not */
	uint8_t buf[600];
	srand(3);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)rand();
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof buf; len += 1 + len / 16) {
			uint32_t seed = (uint32_t)rand();
			uint32_t a = pane_crc32c(seed, buf + off, len);
			assert_true(a == pane_crc32c_portable(seed, buf + off, len));
			assert_true(pane_crc32c(pane_crc32c(seed, buf + off, len / 3), buf + off + len / 3,
			                        len - len / 3) == a);
		}
	uint64_t vals[] = {0, 1, 127, 128, 300, UINT32_MAX, UINT64_MAX};
	for (size_t i = 0; i < 7; i++) {
		uint8_t b[10];
		size_t k = pane_uvarint_put(b, vals[i]);
		uint64_t back = 0;
		assert_int_equal(pane_uvarint_get(b, k, &back), k);
		assert_true(back == vals[i]);
		assert_int_equal(pane_uvarint_get(b, k - 1, &back), 0);
	}
	int64_t s[] = {0, -1, 1, INT64_MIN, INT64_MAX};
	for (size_t i = 0; i < 5; i++)
		assert_true(pane_unzigzag(pane_zigzag(s[i])) == s[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(prefix_decodes_the_same),
	    cmocka_unit_test(edge_values_all_codecs),
	    cmocka_unit_test(decimals_pick_decimal_codec),
	    cmocka_unit_test(floats_pick_f64_ans),
	    cmocka_unit_test(timestamps_irregular_and_extreme),
	    cmocka_unit_test(columns_roundtrip),
	    cmocka_unit_test(garbage_is_refused),
	    cmocka_unit_test(ans_corruption_is_refused),
	    cmocka_unit_test(segments_pack_and_refuse_bad),
	    cmocka_unit_test(crc_and_varints),
	    cmocka_unit_test(dec_ans_counters_pay_no_sign),
	    cmocka_unit_test(dec_ans_old_chunk_reads),
	    cmocka_unit_test(dec_ans_factor_and_level),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
