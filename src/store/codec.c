/*
 * codec.c - chunk and segment coding (see codec.h).
 *
 * Idea: timestamps from scrapes are near-regular, so delta-of-delta is
 * almost always 0 and a varint of it is one byte (zstd then squeezes runs
 * of those bytes to almost nothing). Values get the smallest of several
 * exact codecs, decided per chunk by actually encoding: Gorilla XOR wins on
 * arbitrary floats, decimal-scaled integers with deltas (VictoriaMetrics'
 * trick) win on counters and gauges that are really decimals.
 *
 * Invariants:
 *   (1) decode(encode(x)) is bit-identical to x for every int64 timestamp
 *       and every double bit pattern; all delta arithmetic wraps in uint64.
 *   (2) The decoder never reads past the given length and rejects what it
 *       cannot parse with PANE_EINVAL.
 */
#include "store/codec.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/err.h"
#include "base/mem.h"

size_t pane_uvarint_put(uint8_t *p, uint64_t v)
{
	size_t i = 0;
	while (v >= 0x80) {
		p[i++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[i++] = (uint8_t)v;
	return i;
}

size_t pane_uvarint_get(const uint8_t *p, size_t len, uint64_t *v)
{
	uint64_t x = 0;
	for (size_t i = 0; i < len && i < 10; i++) {
		uint64_t b = p[i];
		if (i == 9 && b > 1)
			return 0;
		x |= (b & 0x7f) << (7 * i);
		if (b < 0x80) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

static uint32_t crc_table[8][256];
static void crc_init_once(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

#include <pthread.h>
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

uint32_t pane_crc32c(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&crc_once, crc_init_once);
	const uint8_t *p = data;
	crc = ~crc;
	while (len >= 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
		      crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^
		      crc_table[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

/* ---------- small writers/readers ---------- */

static int put_uv(struct pane_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	return pane_buf_add(b, tmp, pane_uvarint_put(tmp, v));
}

struct rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static uint64_t rd_uv(struct rd *r)
{
	uint64_t v = 0;
	size_t k = r->bad ? 0 : pane_uvarint_get(r->p + r->off, r->len - r->off, &v);
	if (!k) {
		r->bad = true;
		return 0;
	}
	r->off += k;
	return v;
}

/* ---------- Gorilla XOR bit stream ---------- */

struct bw {
	struct pane_buf *b;
	uint64_t acc;
	int nacc;
	int rc;
};

static void bw_put(struct bw *w, uint64_t v, int nbits)
{
	while (nbits > 0) {
		int take = nbits < 8 - w->nacc ? nbits : 8 - w->nacc;
		uint64_t part = (v >> (nbits - take)) & ((1ull << take) - 1);
		w->acc = (w->acc << take) | part;
		w->nacc += take;
		nbits -= take;
		if (w->nacc == 8) {
			if (pane_buf_addc(w->b, (char)(uint8_t)w->acc) < 0)
				w->rc = PANE_ETOOBIG;
			w->acc = 0;
			w->nacc = 0;
		}
	}
}

static void bw_end(struct bw *w)
{
	if (w->nacc)
		bw_put(w, 0, 8 - w->nacc);
}

struct br {
	const uint8_t *p;
	size_t nbits, pos;
	bool bad;
};

static uint64_t br_get(struct br *r, int nbits)
{
	if (r->bad || r->pos + (size_t)nbits > r->nbits) {
		r->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (int i = 0; i < nbits;) {
		size_t byte = r->pos >> 3;
		int bit = (int)(r->pos & 7);
		int take = 8 - bit < nbits - i ? 8 - bit : nbits - i;
		uint64_t part = ((uint64_t)r->p[byte] >> (8 - bit - take)) & ((1u << take) - 1);
		v = (v << take) | part;
		i += take;
		r->pos += (size_t)take;
	}
	return v;
}

static int xor_encode(const double *v, size_t n, struct pane_buf *out)
{
	struct bw w = {.b = out};
	uint64_t prev = pane_f64_bits(v[0]);
	bw_put(&w, prev, 64);
	int pl = -1, pt = 0;
	for (size_t i = 1; i < n; i++) {
		uint64_t cur = pane_f64_bits(v[i]);
		uint64_t x = cur ^ prev;
		prev = cur;
		if (!x) {
			bw_put(&w, 0, 1);
			continue;
		}
		int lead = __builtin_clzll(x), trail = __builtin_ctzll(x);
		if (lead > 31)
			lead = 31;
		if (pl >= 0 && lead >= pl && trail >= pt) {
			bw_put(&w, 2, 2); /* '10': reuse window */
			bw_put(&w, x >> pt, 64 - pl - pt);
		} else {
			int sig = 64 - lead - trail;
			bw_put(&w, 3, 2); /* '11': new window */
			bw_put(&w, (uint64_t)lead, 5);
			bw_put(&w, (uint64_t)(sig - 1), 6);
			bw_put(&w, x >> trail, sig);
			pl = lead;
			pt = trail;
		}
	}
	bw_end(&w);
	return w.rc;
}

static int xor_decode(struct br *r, double *v, size_t n)
{
	uint64_t prev = br_get(r, 64);
	v[0] = pane_bits_f64(prev);
	int pl = -1, pt = 0;
	for (size_t i = 1; i < n && !r->bad; i++) {
		if (br_get(r, 1) == 0) {
			v[i] = pane_bits_f64(prev);
			continue;
		}
		uint64_t x;
		if (br_get(r, 1) == 0) {
			if (pl < 0)
				return PANE_EINVAL;
			x = br_get(r, 64 - pl - pt) << pt;
		} else {
			int lead = (int)br_get(r, 5);
			int sig = (int)br_get(r, 6) + 1;
			if (lead + sig > 64)
				return PANE_EINVAL;
			int trail = 64 - lead - sig;
			x = br_get(r, sig) << trail;
			pl = lead;
			pt = trail;
		}
		prev ^= x;
		v[i] = pane_bits_f64(prev);
	}
	return r->bad ? PANE_EINVAL : 0;
}

/* ---------- decimal scaling ---------- */

static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
#define MAX_K 15
#define M_LIMIT 9007199254740992.0 /* 2^53 */

static bool dec_fits(double v, int k, int64_t *m)
{
	double s = v * p10[k];
	if (!(fabs(s) < M_LIMIT))
		return false;
	int64_t x = (int64_t)lrint(s); /* any rounding will do: the round trip is checked below */
	if (pane_f64_bits((double)x / p10[k]) != pane_f64_bits(v))
		return false;
	*m = x;
	return true;
}

/* NaN (stale markers), +-Inf and -0.0 have no decimal form: the decimal
 * codecs carry them as exceptions (position + raw bits) when they are few. */
static bool exceptional(double v)
{
	return !isfinite(v) || pane_f64_bits(v) == 0x8000000000000000ull;
}

/* Finds a common k so every non-exceptional value is m/10^k exactly; false
 * when none, or when too many values are exceptions. */
static bool dec_scale(const double *v, size_t n, int *kout)
{
	int k = 0;
	int64_t m;
	size_t exc = 0;
	for (size_t i = 0; i < n; i++) {
		if (exceptional(v[i])) {
			exc++;
			continue;
		}
		while (!dec_fits(v[i], k, &m)) {
			if (++k > MAX_K)
				return false;
		}
	}
	if (exc * 8 > n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!exceptional(v[i]) && !dec_fits(v[i], k, &m))
			return false;
	*kout = k;
	return true;
}

static int dec_encode(const double *v, size_t n, int k, bool dod, struct pane_buf *out)
{
	size_t exc = 0, last = 0;
	for (size_t i = 0; i < n; i++)
		exc += exceptional(v[i]);
	int rc = put_uv(out, exc);
	for (size_t i = 0; i < n && !rc; i++) {
		if (!exceptional(v[i]))
			continue;
		rc |= put_uv(out, i - last);
		last = i;
		uint64_t u = pane_f64_bits(v[i]);
		uint8_t b[8];
		for (int j = 0; j < 8; j++)
			b[j] = (uint8_t)(u >> (8 * j));
		rc |= pane_buf_add(out, b, 8);
	}
	rc |= put_uv(out, (uint64_t)k);
	int64_t m0 = 0;
	if (!exceptional(v[0]))
		dec_fits(v[0], k, &m0);
	rc |= put_uv(out, pane_zigzag(m0));
	uint64_t prev = (uint64_t)m0, pd = 0;
	for (size_t i = 1; i < n && rc == 0; i++) {
		int64_t m = (int64_t)prev; /* an exception repeats the previous m (delta 0) */
		if (!exceptional(v[i]))
			dec_fits(v[i], k, &m);
		uint64_t d = (uint64_t)m - prev;
		prev = (uint64_t)m;
		rc |= put_uv(out, pane_zigzag(dod && i > 1 ? (int64_t)(d - pd) : (int64_t)d));
		pd = d;
	}
	return rc ? PANE_ETOOBIG : 0;
}

static int dec_decode(struct rd *r, double *v, size_t n, bool dod)
{
	uint64_t exc = rd_uv(r);
	if (r->bad || exc > n)
		return PANE_EINVAL;
	size_t exc_off = r->off, pos = 0;
	for (uint64_t e = 0; e < exc; e++) { /* skip now, apply after the values */
		uint64_t d = rd_uv(r);
		pos += (size_t)d;
		if (r->bad || pos >= n || (e && d == 0) || r->len - r->off < 8)
			return PANE_EINVAL;
		r->off += 8;
	}
	uint64_t k = rd_uv(r);
	if (k > MAX_K)
		return PANE_EINVAL;
	uint64_t m = (uint64_t)pane_unzigzag(rd_uv(r)), pd = 0;
	v[0] = (double)(int64_t)m / p10[k];
	for (size_t i = 1; i < n && !r->bad; i++) {
		uint64_t x = (uint64_t)pane_unzigzag(rd_uv(r));
		uint64_t d = dod && i > 1 ? pd + x : x;
		m += d;
		pd = d;
		v[i] = (double)(int64_t)m / p10[k];
	}
	if (r->bad)
		return PANE_EINVAL;
	struct rd er = {.p = r->p, .len = r->len, .off = exc_off};
	pos = 0;
	for (uint64_t e = 0; e < exc; e++) {
		pos += (size_t)rd_uv(&er);
		uint64_t u = 0;
		for (int j = 0; j < 8; j++)
			u |= (uint64_t)er.p[er.off + (size_t)j] << (8 * j);
		er.off += 8;
		v[pos] = pane_bits_f64(u);
	}
	return 0;
}

/* ---------- chunks ---------- */

enum { TS_DOD = 0, TS_GRID = 1 };

/* Order-0 entropy of a byte stream in bits: what zstd's entropy stage gets
 * near for streams of small varints. Used to choose between codings. */
static double entropy_bits(const struct pane_buf *b)
{
	size_t cnt[256] = {0};
	for (size_t i = 0; i < b->len; i++)
		cnt[(uint8_t)b->data[i]]++;
	double bits = 0;
	for (int i = 0; i < 256; i++)
		if (cnt[i])
			bits -= (double)cnt[i] * log2((double)cnt[i] / (double)b->len);
	return bits + 8.0 * 4; /* a table's worth of overhead, so tiny streams compare by length */
}

static void encode_ts(const int64_t *ts, size_t n, int mode, struct pane_buf *out)
{
	put_uv(out, pane_zigzag(ts[0]));
	if (mode == TS_GRID) {
		/* step from the ends; samples are coded as deviations from t0 + i*step */
		uint64_t span = (uint64_t)ts[n - 1] - (uint64_t)ts[0];
		int64_t step = n > 1 ? (int64_t)span / (int64_t)(n - 1) : 0;
		put_uv(out, pane_zigzag(step));
		for (size_t i = 1; i < n; i++) {
			uint64_t grid = (uint64_t)ts[0] + (uint64_t)step * i;
			put_uv(out, pane_zigzag((int64_t)((uint64_t)ts[i] - grid)));
		}
		return;
	}
	uint64_t pd = 0;
	for (size_t i = 1; i < n; i++) {
		uint64_t d = (uint64_t)ts[i] - (uint64_t)ts[i - 1];
		put_uv(out, pane_zigzag(i == 1 ? (int64_t)d : (int64_t)(d - pd)));
		pd = d;
	}
}

static int encode_values(const double *v, size_t n, int codec, struct pane_buf *out)
{
	switch (codec) {
	case PANE_CODEC_CONST: {
		uint64_t u = pane_f64_bits(v[0]);
		uint8_t b[8];
		for (int i = 0; i < 8; i++)
			b[i] = (uint8_t)(u >> (8 * i));
		return pane_buf_add(out, b, 8);
	}
	case PANE_CODEC_XOR: {
		struct pane_buf bits;
		pane_buf_init(&bits, PANE_BUF_NOLIMIT);
		int rc = xor_encode(v, n, &bits);
		if (!rc)
			rc = put_uv(out, bits.len);
		if (!rc)
			rc = pane_buf_add(out, bits.data, bits.len);
		pane_buf_release(&bits);
		return rc;
	}
	default: {
		int k;
		if (!dec_scale(v, n, &k))
			return PANE_EINVAL;
		return dec_encode(v, n, k, codec == PANE_CODEC_DEC_D2, out);
	}
	}
}

enum { TAG_NO_TS = 0x40, TAG_NO_VALUES = 0x80 };

static int chunk_encode(const int64_t *ts, const double *v, size_t n, int force, struct pane_buf *out);

int pane_chunk_encode(const int64_t *ts, const double *v, size_t n, int force, struct pane_buf *out)
{
	return chunk_encode(ts, v, n, force, out);
}

int pane_column_encode_ts(const int64_t *ts, size_t n, struct pane_buf *out)
{
	return chunk_encode(ts, NULL, n, -1, out);
}

int pane_column_encode_values(const double *v, size_t n, struct pane_buf *out)
{
	return chunk_encode(NULL, v, n, -1, out);
}

int pane_column_encode_values_as(const double *v, size_t n, int force, struct pane_buf *out)
{
	return chunk_encode(NULL, v, n, force, out);
}

static int chunk_encode(const int64_t *ts, const double *v, size_t n, int force, struct pane_buf *out)
{
	if (n == 0 || n > PANE_CHUNK_MAX)
		return PANE_EINVAL;
	size_t start = out->len;
	int rc = put_uv(out, n);
	int codec = PANE_CODEC_CONST;
	if (v) {
		bool constant = true;
		for (size_t i = 1; i < n && constant; i++)
			constant = pane_f64_bits(v[i]) == pane_f64_bits(v[0]);
		int k;
		bool dec = !constant && dec_scale(v, n, &k);
		codec = PANE_CODEC_XOR;
		if (constant)
			codec = PANE_CODEC_CONST;
		else if (force >= 0 && force != PANE_CODEC_CONST && (force == PANE_CODEC_XOR || dec))
			codec = force;
		else if (dec) {
			/* measure: encode each candidate, keep the smallest estimated size */
			size_t best = SIZE_MAX;
			for (int c = PANE_CODEC_XOR; c <= PANE_CODEC_DEC_D2; c++) {
				struct pane_buf t;
				pane_buf_init(&t, PANE_BUF_NOLIMIT);
				size_t cost;
				if (encode_values(v, n, c, &t) == 0 && (cost = (size_t)entropy_bits(&t)) < best) {
					best = cost;
					codec = c;
				}
				pane_buf_release(&t);
			}
		}
	}
	uint64_t tag = (uint64_t)codec | (ts ? 0 : TAG_NO_TS) | (v ? 0 : TAG_NO_VALUES);
	if (ts) {
		/* delta-of-delta or deviation from a regular grid, whichever has the
		 * smaller estimated compressed size */
		struct pane_buf tb[2];
		for (int m = 0; m < 2; m++) {
			pane_buf_init(&tb[m], PANE_BUF_NOLIMIT);
			encode_ts(ts, n, m, &tb[m]);
		}
		int tsmode = n > 2 && entropy_bits(&tb[1]) < entropy_bits(&tb[0]) ? TS_GRID : TS_DOD;
		rc |= put_uv(out, tag | (uint64_t)tsmode << 4);
		rc |= pane_buf_add(out, tb[tsmode].data, tb[tsmode].len);
		pane_buf_release(&tb[0]);
		pane_buf_release(&tb[1]);
	} else {
		rc |= put_uv(out, tag);
	}
	if (!rc && v)
		rc = encode_values(v, n, codec, out);
	if (rc) {
		pane_buf_truncate(out, start);
		return rc < 0 ? rc : PANE_ETOOBIG;
	}
	return codec;
}

int pane_chunk_decode(const uint8_t *p, size_t len, int64_t *ts, double *v, size_t cap, size_t *n,
		      size_t *used)
{
	struct rd r = {.p = p, .len = len};
	uint64_t cnt = rd_uv(&r);
	uint64_t tag = rd_uv(&r);
	uint64_t codec = tag & 15, tsmode = (tag >> 4) & 3;
	bool has_ts = !(tag & TAG_NO_TS), has_v = !(tag & TAG_NO_VALUES);
	if (r.bad || cnt == 0 || cnt > PANE_CHUNK_MAX || cnt > cap || codec > PANE_CODEC_CONST || tsmode > TS_GRID ||
	    tag > 0xff || (!has_ts && !has_v))
		return PANE_EINVAL;
	if (!has_ts) {
		memset(ts, 0, cnt * sizeof *ts);
		tsmode = 2; /* skip both timestamp decoders */
	}
	if (!has_v) {
		memset(v, 0, cnt * sizeof *v);
		codec = 99;
	}
	uint64_t t = has_ts ? (uint64_t)pane_unzigzag(rd_uv(&r)) : 0, pd = 0;
	ts[0] = (int64_t)t;
	if (tsmode == TS_GRID) {
		uint64_t step = (uint64_t)pane_unzigzag(rd_uv(&r));
		for (size_t i = 1; i < cnt && !r.bad; i++)
			ts[i] = (int64_t)(t + step * i + (uint64_t)pane_unzigzag(rd_uv(&r)));
	}
	for (size_t i = 1; i < cnt && !r.bad && tsmode == TS_DOD; i++) {
		uint64_t x = (uint64_t)pane_unzigzag(rd_uv(&r));
		uint64_t d = i == 1 ? x : pd + x;
		t += d;
		pd = d;
		ts[i] = (int64_t)t;
	}
	if (r.bad)
		return PANE_EINVAL;
	int rc = 0;
	switch (codec) {
	case PANE_CODEC_CONST: {
		if (len - r.off < 8)
			return PANE_EINVAL;
		uint64_t u = 0;
		for (int i = 0; i < 8; i++)
			u |= (uint64_t)p[r.off + (size_t)i] << (8 * i);
		r.off += 8;
		for (size_t i = 0; i < cnt; i++)
			v[i] = pane_bits_f64(u);
		break;
	}
	case PANE_CODEC_XOR: {
		uint64_t nb = rd_uv(&r);
		if (r.bad || nb > len - r.off)
			return PANE_EINVAL;
		struct br b = {.p = p + r.off, .nbits = (size_t)nb * 8};
		rc = xor_decode(&b, v, cnt);
		r.off += (size_t)nb;
		break;
	}
	case PANE_CODEC_DEC_D1:
	case PANE_CODEC_DEC_D2:
		rc = dec_decode(&r, v, cnt, codec == PANE_CODEC_DEC_D2);
		break;
	default: /* no values in this column chunk */
		break;
	}
	if (rc || r.bad)
		return PANE_EINVAL;
	*n = (size_t)cnt;
	*used = r.off;
	return 0;
}

/* ---------- segments ---------- */

enum { SEG_RAW = 0, SEG_ZSTD = 1 };

int pane_segment_pack(const void *raw, size_t len, int level, struct pane_buf *out)
{
	size_t bound = ZSTD_compressBound(len);
	uint8_t *tmp = pane_xmalloc(bound);
	size_t z = ZSTD_compress(tmp, bound, raw, len, level);
	int rc;
	if (!ZSTD_isError(z) && z + 4 < len) {
		uint8_t hdr[11];
		hdr[0] = SEG_ZSTD;
		size_t h = 1 + pane_uvarint_put(hdr + 1, len);
		rc = pane_buf_add(out, hdr, h);
		if (!rc)
			rc = pane_buf_add(out, tmp, z);
	} else {
		rc = pane_buf_addc(out, SEG_RAW);
		if (!rc)
			rc = pane_buf_add(out, raw, len);
	}
	free(tmp);
	return rc;
}

struct pane_unpacker {
	ZSTD_DCtx *dctx;
};

struct pane_unpacker *pane_unpacker_new(void)
{
	struct pane_unpacker *u = pane_xcalloc(1, sizeof *u);
	u->dctx = ZSTD_createDCtx();
	if (!u->dctx) {
		free(u);
		return NULL;
	}
	return u;
}

void pane_unpacker_free(struct pane_unpacker *u)
{
	if (!u)
		return;
	ZSTD_freeDCtx(u->dctx);
	free(u);
}

static int unpack(ZSTD_DCtx *dctx, const void *blob, size_t len, size_t max_raw, struct pane_buf *out);

int pane_segment_unpack(const void *blob, size_t len, size_t max_raw, struct pane_buf *out)
{
	return unpack(NULL, blob, len, max_raw, out);
}

int pane_segment_unpack_with(struct pane_unpacker *u, const void *blob, size_t len, size_t max_raw,
			     struct pane_buf *out)
{
	return unpack(u ? u->dctx : NULL, blob, len, max_raw, out);
}

static int unpack(ZSTD_DCtx *dctx, const void *blob, size_t len, size_t max_raw, struct pane_buf *out)
{
	const uint8_t *p = blob;
	if (len < 1)
		return PANE_EINVAL;
	if (p[0] == SEG_RAW)
		return len - 1 > max_raw ? PANE_EINVAL : pane_buf_add(out, p + 1, len - 1);
	if (p[0] != SEG_ZSTD)
		return PANE_EINVAL;
	uint64_t rawlen;
	size_t h = pane_uvarint_get(p + 1, len - 1, &rawlen);
	if (!h || rawlen > max_raw)
		return PANE_EINVAL;
	size_t start = out->len;
	if (pane_buf_grow(out, (size_t)rawlen) < 0)
		return PANE_ETOOBIG;
	size_t got = dctx ? ZSTD_decompressDCtx(dctx, out->data + start, (size_t)rawlen, p + 1 + h, len - 1 - h)
			  : ZSTD_decompress(out->data + start, (size_t)rawlen, p + 1 + h, len - 1 - h);
	if (ZSTD_isError(got) || got != rawlen)
		return PANE_EINVAL;
	out->len = start + got;
	out->data[out->len] = '\0';
	return 0;
}
