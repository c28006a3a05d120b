/*
 * tiers.c - downsampled tiers: per-bucket aggregates stored with each
 * segment, for long ranges (pane_store_select_tier).
 *
 * Idea: with each segment, per 5 min and/or 1 h bucket (store.tiers):
 * count, min, max, sum and last (with its timestamp) of the non-stale
 * samples, as one small blob a step. A 30-day chart then reads 720 buckets
 * a series instead of 172,800 samples. A segment's blobs are its *tier
 * region*, written right after its value blob and indexed by the segment's
 * own s_ row (alen, acrc: the region's length and CRC32C; it starts at
 * off + len): a row of its own per blob cost as much in metrics.db as the
 * blob itself. A region larger than the value blob (a constant, a counter
 * that steps evenly) is not kept (alen 0): a reader aggregates the
 * samples. The region is, per stored step with a bucket, an entry:
 *   uvarint  len << 2 | k   (k: 0 = 5 min, 1 = 1 h; 2, 3: skipped, for later)
 *   len bytes, the blob
 * Days made by earlier panes keep their layout (segment.c): a blob each,
 * indexed by a row of "a_<DAY>" (sid, step, off, len, crc and the first
 * and last bucket's start); ps_persist_tier still writes those. Windows
 * are aligned to both steps, so a bucket is split only when out-of-order
 * writes make a second segment for a window; readers merge such partial
 * buckets (ps_bucket_merge), and aggregate what is still in heads on the
 * fly.
 *
 * The blob (format 2; a 1 h blob of a regular series is 25-70 bytes): a
 * tag byte 0x10 + pane_segment_pack's header byte (0x10 raw, 0x11 zstd,
 * whichever is smaller), then the payload:
 *   uvarint  step: 0 = 5 min, 1 = 1 h, else 2 + step in ms
 *   zigzag   first bucket's start / step;  uvarint  buckets - 1
 *   packed   gaps: buckets skipped before each bucket after the first
 *   uvarint  count of the first bucket;  packed  zigzag changes of it
 *   uvarint  step - 1 - (last_ts - start) of the first;  packed  changes
 *   byte     mode (low 4 bits: k = 0..14, value = m / 10^k exactly for
 *            min, max and last; 15: values as their ordered bits, any
 *            double) | predictors << 4 (bit c: column c uses predictor 1)
 *   base     min of bucket 0: zigzag varint m, or 8 bytes of ordered bits
 *   packed   residuals of min (buckets 1..), max, last, sum (all buckets),
 *            then in decimal mode the sum's corrections
 * Values are integers x (m, or the double's bits mapped so that integer
 * order is the doubles' order); each is stored as zigzag(x - prediction),
 * wrapping, so every bit pattern round-trips. Predictors (0 / 1):
 *   min  previous bucket's last / previous min
 *   max  this min / this min + previous (max - min)
 *   last this max / this min       (a counter's last is its max: width 0)
 *   sum  count * (min + max) / 2 / previous sum
 * In decimal mode the sum is rounded to m / 10^k, and its correction is
 * the distance in ordered bits to the real (float) sum, usually 0 or tiny.
 * A packed column is a width byte w (0..64) then w bits a value; with the
 * byte's bit 7, a narrow width follows and each value has a bit saying
 * which width it uses (one reset or outlier does not widen the column).
 * Constant columns (count, last_ts, gaps of consecutive buckets, last of
 * a counter) cost one byte. Format 1 (earlier panes wrote it; still read):
 * the packed segment of seven chunk columns (codec.h), each a uvarint length
 * and a chunk: bucket starts, count, min, max, sum, last, last_ts - start.
 * Its first byte is pane_segment_pack's (0 or 1), never 0x1_.
 *
 * Invariants:
 *   (1) A bucket's timestamp is its start (floor to the step, also for
 *       negative times); buckets of one blob ascend.
 *   (2) Stale markers are in no aggregate; an empty bucket is not stored.
 *       Counts are whole, 1..2^32; start <= last_ts < start + step.
 *   (3) Decoding checks every length, count and range before it uses
 *       it: a corrupt blob is rejected, never read past, and leaves the
 *       bucket list as it was (fuzz_store_tier).
 *   (4) Encoding is exact: every double (NaN payloads, -0.0, +-Inf)
 *       decodes to the same bits; arithmetic that predicts wraps or is
 *       done in separate IEEE steps, so any reader computes the same.
 *   (5) A region is read only whole, after its CRC: an entry cut short
 *       or a blob that does not decode refuses the whole region.
 *
 * Thread context: persisting under st->mu (segment.c); decoding without
 * it, on bytes a select read and checked (select.c: tiers.c reads no file).
 */
#include "store/internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

const int64_t ps_tier_steps[2] = {5 * 60 * 1000LL, 3600 * 1000LL};

size_t ps_make_buckets(const int64_t *ts, const double *v, size_t n, int64_t step, struct bucket *out)
{
	size_t nb = 0;
	for (size_t i = 0; i < n; i++) {
		if (pane_is_stale_nan(v[i]))
			continue;
		int64_t t = ts[i] / step * step - (ts[i] % step < 0 ? step : 0);
		if (!nb || out[nb - 1].t != t) {
			out[nb++] = (struct bucket){
			    .t = t, .last_ts = ts[i], .count = 0, .min = v[i], .max = v[i], .sum = 0, .last = v[i]};
		}
		struct bucket *b = &out[nb - 1];
		b->count += 1;
		if (v[i] < b->min || isnan(b->min))
			b->min = v[i];
		if (v[i] > b->max || isnan(b->max))
			b->max = v[i];
		b->sum += v[i];
		if (ts[i] >= b->last_ts) {
			b->last_ts = ts[i];
			b->last = v[i];
		}
	}
	return nb;
}

/* Combines b into a (same bucket). */
void ps_bucket_merge(struct bucket *a, const struct bucket *b)
{
	a->count += b->count;
	if (b->min < a->min || isnan(a->min))
		a->min = b->min;
	if (b->max > a->max || isnan(a->max))
		a->max = b->max;
	a->sum += b->sum;
	if (b->last_ts >= a->last_ts) {
		a->last_ts = b->last_ts;
		a->last = b->last;
	}
}

/* ---------- blob format 2 (see the top of the file) ---------- */

enum { V2_TAG = 0x10 };                /* blob[0]: V2_TAG + pane_segment_pack's header byte (0 raw, 1 zstd) */
enum { STEP_5M, STEP_1H, STEP_OTHER }; /* step code; STEP_OTHER + step for any other step */
#define DEC_KMAX 14                    /* decimal modes k = 0..14 (pane_dec_fits) */
#define MODE_F64 15                    /* the doubles' ordered bits */
#define COUNT_MAX (1ull << 32)
#define STEP_MAX (1ll << 40)

/* A double as its ordered integer (codec.h), wrapping arithmetic's type here. */
static uint64_t ord_of(double v)
{
	return (uint64_t)pane_f64_ordered(v);
}

static double ord_to(uint64_t x)
{
	return pane_ordered_f64((int64_t)x);
}

/* The prediction of value column c (0 min, 1 max, 2 last, 3 sum; x[c]: the
 * column as integers) of bucket i by predictor alt, from what precedes it:
 * buckets before i, and bucket i's columns before c. Column 0 of bucket 0
 * is not predicted (stored whole). Arithmetic wraps: encoder and decoder
 * agree on every input. */
static uint64_t predict(uint64_t *const x[4], const struct bucket *b, size_t i, int c, int alt, int mode)
{
	switch (c) {
	case 0: return alt ? x[0][i - 1] : x[2][i - 1];
	case 1: return alt && i ? x[0][i] + (x[1][i - 1] - x[0][i - 1]) : x[0][i];
	case 2: return alt ? x[0][i] : x[1][i];
	default: break;
	}
	if (alt && i)
		return x[3][i - 1];
	/* count * (min + max) / 2: a steady counter's sum */
	if (mode != MODE_F64) {
		uint64_t s = (x[0][i] + x[1][i]) * (uint64_t)b[i].count;
		return s >> 1 | (s & 1ull << 63); /* halved, sign kept */
	}
	double s = ord_to(x[0][i]) + ord_to(x[1][i]);
	s = s * b[i].count; /* separate statements: no fused multiply-add anywhere */
	s = s / 2;
	return ord_of(isnan(s) ? 0 : s);
}

static uint64_t zz(uint64_t d)
{
	return pane_zigzag((int64_t)d);
}

static uint64_t unzz(uint64_t u)
{
	return (uint64_t)pane_unzigzag(u);
}

static int bits_of(uint64_t v)
{
	return v ? 64 - __builtin_clzll(v) : 0;
}

/* A packed column's layout for r: the widths of its wide and narrow values
 * (narrow == wide: one width); returns its size in bits. */
static size_t packed_plan(const uint64_t *r, size_t n, int *wide, int *narrow)
{
	size_t hist[65] = {0};
	int hi = 0;
	for (size_t i = 0; i < n; i++) {
		int b = bits_of(r[i]);
		hist[b]++;
		hi = b > hi ? b : hi;
	}
	size_t best = 8 + n * (size_t)hi, below = 0;
	*wide = *narrow = hi;
	for (int w = 0; w < hi; w++) {
		below += hist[w];
		size_t cost = 16 + n + below * (size_t)w + (n - below) * (size_t)hi;
		if (cost < best) {
			best = cost;
			*narrow = w;
		}
	}
	return best;
}

struct bw {
	struct pane_buf *o;
	uint64_t acc;
	int nb;
};

static void bw_put(struct bw *b, uint64_t v, int w)
{
	while (w > 0) {
		int take = w < 64 - b->nb ? w : 64 - b->nb;
		b->acc |= (take == 64 ? v : v & ((1ull << take) - 1)) << b->nb;
		v = take == 64 ? 0 : v >> take;
		b->nb += take;
		w -= take;
		if (b->nb == 64) {
			for (int j = 0; j < 8; j++)
				pane_buf_addc(b->o, (char)(b->acc >> (8 * j)));
			b->acc = 0;
			b->nb = 0;
		}
	}
}

/* A packed column: a byte, the width w of its values (0..64); when its bit
 * 7 is set, a second byte, the narrow width, follows, and each value is a
 * bit (1: wide) then the value in that many bits. Least significant bit
 * first, padded to a byte. */
static void put_packed(struct pane_buf *o, const uint64_t *r, size_t n)
{
	int hi, lo;
	packed_plan(r, n, &hi, &lo);
	pane_buf_addc(o, (char)(hi | (lo < hi ? 0x80 : 0)));
	if (lo < hi)
		pane_buf_addc(o, (char)lo);
	struct bw b = {.o = o};
	for (size_t i = 0; i < n; i++) {
		bool wide = bits_of(r[i]) > lo;
		if (lo < hi)
			bw_put(&b, wide, 1);
		bw_put(&b, r[i], wide ? hi : lo);
	}
	for (int j = 0; j < (b.nb + 7) / 8; j++)
		pane_buf_addc(o, (char)(b.acc >> (8 * j)));
}

/* The value columns as integers: decimal m (value = m / 10^k) for mode k,
 * the ordered bits (ord_of) for MODE_F64; corr: the sum's correction (its
 * ordered bits minus those of m / 10^k) in decimal mode. false when mode k
 * cannot represent them. */
static bool to_ints(const struct bucket *b, size_t nb, int mode, uint64_t *const x[4], uint64_t *corr)
{
	for (size_t i = 0; i < nb; i++) {
		const double v[4] = {b[i].min, b[i].max, b[i].last, b[i].sum};
		if (mode == MODE_F64) {
			for (int c = 0; c < 4; c++)
				x[c][i] = ord_of(v[c]);
			continue;
		}
		int64_t m;
		for (int c = 0; c < 3; c++) {
			if (!pane_dec_fits(v[c], mode, &m))
				return false;
			x[c][i] = (uint64_t)m;
		}
		double s = v[3] * pane_p10[mode];
		if (!(fabs(s) < 4.6e18))
			return false;
		m = (int64_t)llround(s);
		x[3][i] = (uint64_t)m;
		corr[i] = zz(ord_of(v[3]) - ord_of((double)m / pane_p10[mode]));
	}
	return true;
}

/* The smallest k for which min, max and last are all decimal, or MODE_F64. */
static int pick_mode(const struct bucket *b, size_t nb)
{
	int k = 0;
	int64_t m;
	for (size_t i = 0; i < nb; i++) {
		const double v[3] = {b[i].min, b[i].max, b[i].last};
		for (int c = 0; c < 3; c++) {
			while (k <= DEC_KMAX && !pane_dec_fits(v[c], k, &m))
				k++;
			if (k > DEC_KMAX)
				return MODE_F64;
		}
	}
	return k;
}

int ps_tier_encode(const struct bucket *b, size_t nb, int64_t step, int level, struct pane_buf *out)
{
	if (!nb || nb > PANE_CHUNK_MAX || step <= 0 || step > STEP_MAX)
		return PANE_EINVAL;
	for (size_t i = 0; i < nb; i++)
		if (b[i].t % step || (i && b[i].t <= b[i - 1].t) || b[i].last_ts < b[i].t ||
		    b[i].last_ts - b[i].t >= step || !(b[i].count >= 1 && b[i].count <= (double)COUNT_MAX) ||
		    b[i].count != (double)(uint64_t)b[i].count)
			return PANE_EINVAL;
	struct pane_buf raw;
	pane_buf_init(&raw, PANE_BUF_NOLIMIT);
	uint64_t *a = pane_xmalloc(pane_mul_size(nb, 7 * sizeof *a));
	uint64_t *x[4] = {a, a + nb, a + 2 * nb, a + 3 * nb}, *corr = a + 4 * nb, *r = a + 5 * nb, *r1 = a + 6 * nb;

	/* when: step, first bucket, gaps */
	pane_uvarint_add(&raw, step == ps_tier_steps[0]   ? STEP_5M
	                       : step == ps_tier_steps[1] ? STEP_1H
	                                                  : STEP_OTHER + (uint64_t)step);
	pane_uvarint_add(&raw, pane_zigzag(b[0].t / step));
	pane_uvarint_add(&raw, nb - 1);
	for (size_t i = 1; i < nb; i++)
		r[i - 1] = (uint64_t)((b[i].t - b[i - 1].t) / step - 1);
	put_packed(&raw, r, nb - 1);
	/* count, and the last sample's distance to the bucket's end: first, then changes */
	pane_uvarint_add(&raw, (uint64_t)b[0].count);
	for (size_t i = 1; i < nb; i++)
		r[i - 1] = zz((uint64_t)b[i].count - (uint64_t)b[i - 1].count);
	put_packed(&raw, r, nb - 1);
	pane_uvarint_add(&raw, (uint64_t)(b[0].t + step - 1 - b[0].last_ts));
	for (size_t i = 1; i < nb; i++)
		r[i - 1] = zz((uint64_t)(b[i - 1].last_ts - b[i - 1].t) - (uint64_t)(b[i].last_ts - b[i].t));
	put_packed(&raw, r, nb - 1);

	/* values: decimal when min, max and last all are, else the doubles' bits */
	int mode = pick_mode(b, nb);
	if (mode != MODE_F64 && !to_ints(b, nb, mode, x, corr))
		mode = MODE_F64;
	if (mode == MODE_F64)
		to_ints(b, nb, mode, x, corr);
	/* each column's predictor: whichever leaves the narrower residuals */
	unsigned preds = 0;
	size_t predsat = raw.len;
	pane_buf_addc(&raw, 0);
	if (mode == MODE_F64) {
		for (int j = 0; j < 8; j++)
			pane_buf_addc(&raw, (char)(x[0][0] >> (8 * j)));
	} else {
		pane_uvarint_add(&raw, zz(x[0][0]));
	}
	for (int c = 0; c < 4; c++) {
		size_t from = c == 0 ? 1 : 0;
		for (size_t i = from; i < nb; i++) {
			r[i - from] = zz(x[c][i] - predict(x, b, i, c, 0, mode));
			r1[i - from] = zz(x[c][i] - predict(x, b, i, c, 1, mode));
		}
		int w, nw;
		bool one = packed_plan(r1, nb - from, &w, &nw) < packed_plan(r, nb - from, &w, &nw);
		preds |= (unsigned)one << c;
		put_packed(&raw, one ? r1 : r, nb - from);
	}
	if (mode != MODE_F64)
		put_packed(&raw, corr, nb);
	raw.data[predsat] = (char)(mode | preds << 4);

	size_t at = out->len;
	int rc = pane_segment_pack(raw.data, raw.len, level, out);
	if (!rc)
		out->data[at] = (char)(V2_TAG + out->data[at]);
	pane_buf_release(&raw);
	free(a);
	return rc;
}

/* The buckets of ts, v (n samples) for step, encoded as one blob appended
 * to out; *nb gets the bucket count (0: nothing appended) and first, last
 * the first and last bucket's start. */
static int tier_blob(const int64_t *ts, const double *v, size_t n, int64_t step, int level, struct pane_buf *out,
                     size_t *nb, int64_t *first, int64_t *last)
{
	struct bucket *b = pane_xmalloc(pane_mul_size(n ? n : 1, sizeof *b));
	*nb = ps_make_buckets(ts, v, n, step, b);
	int rc = *nb ? ps_tier_encode(b, *nb, step, level, out) : 0;
	if (*nb) {
		*first = b[0].t;
		*last = b[*nb - 1].t;
	}
	free(b);
	return rc;
}

int ps_persist_tier(struct pane_store *st, struct part *p, uint32_t sid, int64_t step, const int64_t *ts,
                    const double *v, size_t n, struct pane_err *err)
{
	struct pane_buf blob;
	pane_buf_init(&blob, PANE_BUF_NOLIMIT);
	size_t nb = 0;
	int64_t first = 0, last = 0;
	int rc = tier_blob(ts, v, n, step, st->o.zstd_level, &blob, &nb, &first, &last);
	if (rc)
		rc = pane_err_set(err, rc, "store: tier of series %u does not encode", sid);
	if (rc || !nb) {
		pane_buf_release(&blob);
		return rc;
	}
	uint64_t off = 0;
	rc = ps_part_append(st, p, &blob, &off, err);
	sqlite3_stmt *q = NULL;
	if (!rc) {
		char sql[200];
		snprintf(sql, sizeof sql,
		         "INSERT INTO \"a_%" PRId64 "\"(sid, step, off, len, crc, mint, maxt) VALUES (?,?,?,?,?,?,?)",
		         p->day);
		if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
			rc = ps_sql_fail(st, err, "tier index");
	}
	if (!rc) {
		sqlite3_bind_int64(q, 1, sid);
		sqlite3_bind_int64(q, 2, step);
		sqlite3_bind_int64(q, 3, (int64_t)off);
		sqlite3_bind_int64(q, 4, (int64_t)blob.len);
		sqlite3_bind_int64(q, 5, ps_crc_col(pane_crc32c(0, blob.data, blob.len)));
		sqlite3_bind_int64(q, 6, first);
		sqlite3_bind_int64(q, 7, last);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = ps_sql_fail(st, err, "tier index");
	}
	sqlite3_finalize(q);
	pane_buf_release(&blob);
	return rc;
}

/* ---------- a segment's tier region (see the top of the file) ---------- */

enum { REGION_K_BITS = 2 }; /* an entry's uvarint: len << 2 | k; k 0 = 5 min, 1 = 1 h, 2 and 3 skipped */

int ps_tier_region(const int64_t *ts, const double *v, size_t n, unsigned tiers, int level, struct pane_buf *out)
{
	struct pane_buf blob;
	pane_buf_init(&blob, PANE_BUF_NOLIMIT);
	int rc = 0;
	for (unsigned k = 0; k < sizeof ps_tier_steps / sizeof ps_tier_steps[0] && !rc; k++) {
		if (!(tiers & (1u << k)))
			continue;
		size_t nb = 0;
		int64_t first, last;
		pane_buf_reset(&blob);
		rc = tier_blob(ts, v, n, ps_tier_steps[k], level, &blob, &nb, &first, &last);
		if (!rc && nb) {
			pane_uvarint_add(out, (uint64_t)blob.len << REGION_K_BITS | k);
			pane_buf_add(out, blob.data, blob.len);
		}
	}
	pane_buf_release(&blob);
	return rc;
}

bool ps_tier_region_decode(struct pane_unpacker *u, uint8_t *region, size_t len, int64_t step, struct pane_buf *scratch,
                           int64_t *tb, double *vb, struct bucket_list *out)
{
	size_t first = out->n, at = 0;
	uint64_t want = step == ps_tier_steps[0] ? 0 : step == ps_tier_steps[1] ? 1 : 4; /* 4: none */
	while (at < len) {
		uint64_t e;
		size_t k = pane_uvarint_get(region + at, len - at, &e);
		uint64_t bl = e >> REGION_K_BITS;
		if (!k || !bl || bl > len - at - k)
			goto bad;
		at += k;
		if ((e & ((1u << REGION_K_BITS) - 1)) == want &&
		    !ps_tier_decode_blob(u, region + at, (size_t)bl, scratch, tb, vb, out))
			goto bad;
		at += (size_t)bl;
	}
	return true;
bad:
	out->n = first;
	return false;
}

void ps_blist_add(struct bucket_list *l, const struct bucket *b)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->b = pane_xrealloc(l->b, pane_mul_size(l->cap, sizeof *l->b));
	}
	l->b[l->n++] = *b;
}

int ps_cmp_bucket(const void *a, const void *b)
{
	int64_t x = ((const struct bucket *)a)->t, y = ((const struct bucket *)b)->t;
	return x < y ? -1 : x > y;
}

static void blist_reserve(struct bucket_list *l, size_t more)
{
	if (l->cap - l->n >= more)
		return;
	while (l->cap - l->n < more)
		l->cap = l->cap ? l->cap * 2 : 64;
	l->b = pane_xrealloc(l->b, pane_mul_size(l->cap, sizeof *l->b));
}

static unsigned rd_byte(struct pane_rd *r)
{
	if (r->bad || r->off >= r->len) {
		r->bad = true;
		return 0;
	}
	return r->p[r->off++];
}

/* Reads a packed column (put_packed) of n values into v. */
static void rd_packed(struct pane_rd *r, uint64_t *v, size_t n)
{
	unsigned h = rd_byte(r), hi = h & 0x7f, lo = h & 0x80 ? rd_byte(r) : hi;
	if (r->bad || hi > 64 || lo > hi) {
		r->bad = true;
		return;
	}
	const uint8_t *p = r->p + r->off;
	size_t pos = 0, nbits = (r->len - r->off) * 8;
	for (size_t i = 0; i < n; i++) {
		unsigned w = lo;
		if (lo < hi) {
			if (pos >= nbits) {
				r->bad = true;
				return;
			}
			w = p[pos >> 3] >> (pos & 7) & 1 ? hi : lo;
			pos++;
		}
		if (w > nbits - pos) {
			r->bad = true;
			return;
		}
		uint64_t x = 0;
		for (unsigned got = 0; got < w;) {
			unsigned sh = pos & 7, take = 8 - sh < w - got ? 8 - sh : w - got;
			x |= (uint64_t)(p[pos >> 3] >> sh & ((1u << take) - 1)) << got;
			got += take;
			pos += take;
		}
		v[i] = x;
	}
	r->off += (pos + 7) / 8;
}

/* decode_v2 once the step, the first bucket and the count are read. a: ten
 * integers a bucket. */
static bool decode_v2_cols(struct pane_rd *rp, int64_t step, int64_t idx, size_t nb, struct bucket_list *out,
                           uint64_t *a)
{
	struct pane_rd r = *rp;
	blist_reserve(out, nb);
	struct bucket *b = out->b + out->n;
	out->n += nb;
	uint64_t *x[4] = {a, a + nb, a + 2 * nb, a + 3 * nb},
	         *res[4] = {a + 4 * nb, a + 5 * nb, a + 6 * nb, a + 7 * nb};
	uint64_t *corr = a + 8 * nb, *g = a + 9 * nb;

	int64_t t;
	if (__builtin_mul_overflow(idx, step, &t) || t > INT64_MAX - step)
		return false;
	rd_packed(&r, g, nb - 1);
	for (size_t i = 0; i < nb && !r.bad; i++) {
		int64_t d;
		if (i && (g[i - 1] >= (uint64_t)(INT64_MAX / step) ||
		          __builtin_mul_overflow((int64_t)g[i - 1] + 1, step, &d) || __builtin_add_overflow(t, d, &t) ||
		          t > INT64_MAX - step))
			return false;
		b[i].t = t;
	}
	uint64_t cnt = pane_rd_uv(&r);
	rd_packed(&r, g, nb - 1);
	for (size_t i = 0; i < nb && !r.bad; i++) {
		cnt += i ? unzz(g[i - 1]) : 0;
		if (cnt < 1 || cnt > COUNT_MAX)
			return false;
		b[i].count = (double)cnt;
	}
	uint64_t lead = pane_rd_uv(&r);
	rd_packed(&r, g, nb - 1);
	for (size_t i = 0; i < nb && !r.bad; i++) {
		lead += i ? unzz(g[i - 1]) : 0;
		if (lead >= (uint64_t)step)
			return false;
		b[i].last_ts = b[i].t + (step - 1 - (int64_t)lead);
	}
	unsigned mode = rd_byte(&r), preds = mode >> 4;
	mode &= 15;
	if (r.bad)
		return false;
	uint64_t base = 0;
	if (mode == MODE_F64) {
		for (int j = 0; j < 8; j++)
			base |= (uint64_t)rd_byte(&r) << (8 * j);
	} else {
		base = unzz(pane_rd_uv(&r));
	}
	rd_packed(&r, res[0], nb - 1);
	for (int c = 1; c < 4; c++)
		rd_packed(&r, res[c], nb);
	if (mode != MODE_F64)
		rd_packed(&r, corr, nb);
	if (r.bad || r.off != r.len)
		return false;
	for (size_t i = 0; i < nb; i++) {
		for (int c = 0; c < 4; c++)
			x[c][i] = c == 0 && i == 0
			              ? base
			              : predict(x, b, i, c, preds >> c & 1, (int)mode) + unzz(res[c][i - (c == 0)]);
		if (mode == MODE_F64) {
			b[i].min = ord_to(x[0][i]);
			b[i].max = ord_to(x[1][i]);
			b[i].last = ord_to(x[2][i]);
			b[i].sum = ord_to(x[3][i]);
		} else {
			b[i].min = (double)(int64_t)x[0][i] / pane_p10[mode];
			b[i].max = (double)(int64_t)x[1][i] / pane_p10[mode];
			b[i].last = (double)(int64_t)x[2][i] / pane_p10[mode];
			b[i].sum = ord_to(ord_of((double)(int64_t)x[3][i] / pane_p10[mode]) + unzz(corr[i]));
		}
	}
	return true;
}

/* Decodes a v2 payload (after the tag and unpacking), appending its
 * buckets to out; false when it is malformed (out->n may have grown: the
 * caller resets it). */
static bool decode_v2(const uint8_t *p, size_t len, struct bucket_list *out)
{
	struct pane_rd r = {.p = p, .len = len};
	uint64_t code = pane_rd_uv(&r);
	int64_t step = code == STEP_5M                           ? ps_tier_steps[0]
	               : code == STEP_1H                         ? ps_tier_steps[1]
	               : code - STEP_OTHER <= (uint64_t)STEP_MAX ? (int64_t)(code - STEP_OTHER)
	                                                         : 0;
	int64_t idx = pane_unzigzag(pane_rd_uv(&r));
	uint64_t nb = pane_rd_uv(&r) + 1;
	if (r.bad || step <= 0 || nb > PANE_CHUNK_MAX || !nb)
		return false;
	uint64_t stack[10 * 64];
	uint64_t *a = nb <= 64 ? stack : pane_xmalloc(10 * nb * sizeof *a);
	bool good = decode_v2_cols(&r, step, idx, (size_t)nb, out, a);
	if (a != stack)
		free(a);
	return good;
}

/* Decodes a v1 payload (unpacked): seven columns, each a uvarint length and
 * a chunk, all of as many samples as the first (the buckets' starts). */
static bool decode_v1(const uint8_t *p, size_t rem, int64_t *tb, double *vb, struct bucket_list *out)
{
	size_t n = 0, nb = 0, first = out->n;
	for (int c = 0; c < 7; c++) {
		uint64_t cl;
		size_t k = pane_uvarint_get(p, rem, &cl), used;
		if (!k || cl > rem - k)
			return false;
		p += k;
		rem -= k;
		if (pane_chunk_decode(p, (size_t)cl, tb, vb, PANE_CHUNK_MAX, &n, &used) < 0 || (c && n != nb))
			return false;
		if (c == 0) {
			nb = n;
			for (size_t i = 0; i < nb; i++)
				ps_blist_add(out, &(struct bucket){.t = tb[i]});
		}
		for (size_t i = 0; c && i < nb; i++) {
			struct bucket *b = &out->b[first + i];
			switch (c) {
			case 1: b->count = vb[i]; break;
			case 2: b->min = vb[i]; break;
			case 3: b->max = vb[i]; break;
			case 4: b->sum = vb[i]; break;
			case 5: b->last = vb[i]; break;
			default:
				/* from the bucket's start: whole and >= 0 in any blob pane wrote */
				if (!(vb[i] >= 0 && vb[i] < 0x1p62) || b->t > INT64_MAX - (int64_t)vb[i])
					return false;
				b->last_ts = b->t + (int64_t)vb[i];
				break;
			}
		}
		p += cl;
		rem -= (size_t)cl;
	}
	return true;
}

bool ps_tier_decode_blob(struct pane_unpacker *u, uint8_t *blob, size_t len, struct pane_buf *scratch, int64_t *tb,
                         double *vb, struct bucket_list *out)
{
	size_t first = out->n;
	bool good = false;
	if (len && (blob[0] & 0xf0) == V2_TAG) {
		const uint8_t *p = blob + 1;
		size_t plen = len - 1;
		if (blob[0] != V2_TAG) { /* packed: unpack it as the segment it was before the tag */
			blob[0] -= V2_TAG;
			pane_buf_reset(scratch);
			good = pane_segment_unpack_with(u, blob, len, SEG_RAW_MAX, scratch) == 0;
			blob[0] += V2_TAG;
			p = (const uint8_t *)scratch->data;
			plen = scratch->len;
		} else {
			good = true;
		}
		good = good && decode_v2(p, plen, out);
	} else {
		pane_buf_reset(scratch);
		good = pane_segment_unpack_with(u, blob, len, SEG_RAW_MAX, scratch) == 0 &&
		       decode_v1((const uint8_t *)scratch->data, scratch->len, tb, vb, out);
	}
	if (!good)
		out->n = first;
	return good;
}

double ps_bucket_value(const struct bucket *b, enum pane_tier_agg agg)
{
	switch (agg) {
	case PANE_AGG_MIN: return b->min;
	case PANE_AGG_MAX: return b->max;
	case PANE_AGG_SUM: return b->sum;
	case PANE_AGG_COUNT: return b->count;
	case PANE_AGG_LAST: return b->last;
	default: return b->count ? b->sum / b->count : NAN;
	}
}

int pane_store_parse_tiers(const char *s, unsigned *mask)
{
	*mask = 0;
	if (strcmp(s, "none") == 0)
		return 0;
	const char *p = s;
	while (*p) {
		size_t n = strcspn(p, ", ");
		if (n == 2 && strncmp(p, "5m", 2) == 0)
			*mask |= PANE_TIER_5M;
		else if (n == 2 && strncmp(p, "1h", 2) == 0)
			*mask |= PANE_TIER_1H;
		else if (n)
			return PANE_EINVAL;
		p += n;
		p += strspn(p, ", ");
	}
	return 0;
}
