/*
 * codec.c - chunk and segment coding (see codec.h).
 *
 * Idea: timestamps from scrapes are near-regular, so delta-of-delta is
 * almost always 0 and a varint of it is one byte (zstd then squeezes runs
 * of those bytes to almost nothing). Values get the smallest of several
 * exact codecs, decided per chunk by actually encoding: Gorilla XOR wins on
 * arbitrary floats, decimal-scaled integers with deltas (VictoriaMetrics'
 * trick) win on counters and gauges that are really decimals. Where the
 * increments are noisy, varint bytes under zstd stay well above their
 * entropy: DEC_ANS predicts each increment and rANS-codes the residuals
 * with a per-chunk table, and is kept only when smaller than zstd's real
 * output for the best byte codec (runs and repeats favour zstd). Doubles
 * with no decimal form get the same coder over their ordered integers
 * (F64_ANS: increments are counts of doubles between samples), kept when
 * smaller than zstd's output for XOR.
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
static bool crc_hw_ok; /* the CPU has SSE4.2's crc32 instruction (CRC-32C itself) */

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
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	crc_hw_ok = __builtin_cpu_supports("sse4.2");
#endif
}

#include <pthread.h>
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

uint32_t pane_crc32c_portable(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&crc_once, crc_init_once);
	const uint8_t *p = data;
	crc = ~crc;
	while (len >= 8) {
		uint32_t lo =
		    crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The same CRC by the crc32 instruction, 8 bytes at a time (little-endian
 * words: the bytes in order, as the table-driven loop takes them). */
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return ~c32;
}
#endif

uint32_t pane_crc32c(uint32_t crc, const void *data, size_t len)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	pthread_once(&crc_once, crc_init_once);
	if (crc_hw_ok)
		return crc_hw(crc, data, len);
#endif
	return pane_crc32c_portable(crc, data, len);
}

/* ---------- small writers/readers ---------- */

int pane_uvarint_add(struct pane_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	return pane_buf_add(b, tmp, pane_uvarint_put(tmp, v));
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
	if (nbits > 48) { /* keep the accumulator's 7 pending bits + nbits within 64 */
		bw_put(w, v >> 32, nbits - 32);
		nbits = 32;
	}
	if (nbits <= 0)
		return;
	w->acc = (w->acc << nbits) | (v & ((1ull << nbits) - 1));
	w->nacc += nbits;
	uint8_t out[8];
	int k = 0;
	while (w->nacc >= 8) {
		w->nacc -= 8;
		out[k++] = (uint8_t)(w->acc >> w->nacc);
	}
	w->acc &= (1ull << w->nacc) - 1;
	if (k && pane_buf_add(w->b, out, (size_t)k) < 0)
		w->rc = PANE_ETOOBIG;
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

#define M_LIMIT 9007199254740992.0 /* 2^53 */

bool pane_dec_fits(double v, int k, int64_t *m)
{
	double s = v * pane_p10[k];
	if (!(fabs(s) < M_LIMIT))
		return false;
	int64_t x = (int64_t)lrint(s); /* any rounding will do: the round trip is checked below */
	if (pane_f64_bits((double)x / pane_p10[k]) != pane_f64_bits(v))
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
		while (!pane_dec_fits(v[i], k, &m)) {
			if (++k > PANE_DEC_KMAX)
				return false;
		}
	}
	if (exc * 8 > n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!exceptional(v[i]) && !pane_dec_fits(v[i], k, &m))
			return false;
	*kout = k;
	return true;
}

/* How a chunk's frequency table is sent (ans_qtable): exact varints; for
 * DEC_ANS (ANS_TABLE_Q) a log-scale byte a symbol instead when that makes
 * the chunk smaller, flagged in the pred field; always the byte for
 * F64_ANS (implied by the codec). */
enum ans_table { ANS_TABLE_EXACT, ANS_TABLE_Q, ANS_TABLE_F64 };
static int ans_encode(const int64_t *m, size_t n, enum ans_table table, struct pane_buf *out);
/* k: the decimal scale of the integers, or ANS_F64 when they are doubles'
 * ordered bit patterns (F64_ANS). */
#define ANS_F64 99u
static int ans_decode(struct pane_rd *r, double *v, size_t n, size_t want, uint64_t m, unsigned k);

/* The decimal integers of v at scale k (an exception repeats the previous
 * m, a leading one is 0): computed once per chunk for every candidate. */
static void dec_ints(const double *v, size_t n, int k, int64_t *m)
{
	int64_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		m[i] = prev;
		if (!exceptional(v[i]))
			pane_dec_fits(v[i], k, &m[i]);
		prev = m[i];
	}
}

static int dec_encode(const double *v, const int64_t *m, size_t n, int k, int codec, struct pane_buf *out)
{
	bool dod = codec == PANE_CODEC_DEC_D2;
	size_t exc = 0, last = 0;
	for (size_t i = 0; i < n; i++)
		exc += exceptional(v[i]);
	int rc = pane_uvarint_add(out, exc);
	for (size_t i = 0; i < n && !rc && exc; i++) {
		if (!exceptional(v[i]))
			continue;
		rc |= pane_uvarint_add(out, i - last);
		last = i;
		uint64_t u = pane_f64_bits(v[i]);
		uint8_t b[8];
		for (int j = 0; j < 8; j++)
			b[j] = (uint8_t)(u >> (8 * j));
		rc |= pane_buf_add(out, b, 8);
	}
	rc |= pane_uvarint_add(out, (uint64_t)k);
	rc |= pane_uvarint_add(out, pane_zigzag(m[0]));
	if (rc)
		return PANE_ETOOBIG;
	if (codec == PANE_CODEC_DEC_ANS)
		return n < 2 ? PANE_EINVAL : ans_encode(m, n, ANS_TABLE_Q, out);
	if (pane_buf_grow(out, (n - 1) * 10) < 0)
		return PANE_ETOOBIG;
	uint8_t *w = (uint8_t *)out->data + out->len;
	uint64_t pd = 0;
	for (size_t i = 1; i < n; i++) {
		uint64_t d = (uint64_t)m[i] - (uint64_t)m[i - 1];
		w += pane_uvarint_put(w, pane_zigzag(dod && i > 1 ? (int64_t)(d - pd) : (int64_t)d));
		pd = d;
	}
	out->len = (size_t)(w - (uint8_t *)out->data);
	return 0;
}

/* v[0..want) of n values (all of them when want >= n). */
static int dec_decode(struct pane_rd *r, double *v, size_t n, size_t want, int codec)
{
	bool dod = codec == PANE_CODEC_DEC_D2;
	uint64_t exc = pane_rd_uv(r);
	if (r->bad || exc > n)
		return PANE_EINVAL;
	size_t exc_off = r->off, pos = 0;
	for (uint64_t e = 0; e < exc; e++) { /* skip now, apply after the values */
		uint64_t d = pane_rd_uv(r);
		pos += (size_t)d;
		if (r->bad || pos >= n || (e && d == 0) || r->len - r->off < 8)
			return PANE_EINVAL;
		r->off += 8;
	}
	uint64_t k = pane_rd_uv(r);
	if (k > PANE_DEC_KMAX)
		return PANE_EINVAL;
	uint64_t m = (uint64_t)pane_unzigzag(pane_rd_uv(r)), pd = 0;
	v[0] = (double)(int64_t)m / pane_p10[k];
	if (!r->bad && codec == PANE_CODEC_DEC_ANS && (n < 2 || ans_decode(r, v, n, want, m, (unsigned)k) < 0))
		return PANE_EINVAL;
	size_t end = want < n ? want : n;
	for (size_t i = 1; i < end && !r->bad && codec != PANE_CODEC_DEC_ANS; i++) {
		uint64_t x = (uint64_t)pane_unzigzag(pane_rd_uv(r));
		uint64_t d = dod && i > 1 ? pd + x : x;
		m += d;
		pd = d;
		v[i] = (double)(int64_t)m / pane_p10[k];
	}
	if (r->bad)
		return PANE_EINVAL;
	struct pane_rd er = {.p = r->p, .len = r->len, .off = exc_off};
	pos = 0;
	for (uint64_t e = 0; e < exc; e++) {
		pos += (size_t)pane_rd_uv(&er);
		uint64_t u = 0;
		for (int j = 0; j < 8; j++)
			u |= (uint64_t)er.p[er.off + (size_t)j] << (8 * j);
		er.off += 8;
		if (pos < end)
			v[pos] = pane_bits_f64(u);
	}
	return 0;
}

/* ---------- DEC_ANS: decimal residuals through rANS ----------
 *
 * The values are the decimal integers m of DEC_D1/D2 (same exceptions,
 * same k), but each increment d = m[i] - m[i-1], divided by the chunk's
 * common factor g when there is one (memory counted in pages), is first
 * predicted (by 0, by the previous increment, by the mean of the last 8, or
 * as the step back to a base level: the per-chunk choice, by estimated
 * size) and the residual u (zigzagged; or as it is when no residual of the
 * chunk is negative but a few listed apart, as a counter's increments over
 * a prediction of 0 and its resets: zigzag would spend a bit a sample on
 * the sign, 7-25% of a heavy-tailed counter's bytes) is split into a symbol
 * and extra bits: u < 16 is its own symbol; above, the symbol holds the bit
 * length and the two bits after the leading one, the remaining bits go raw.
 * Symbols are coded by a static rANS coder whose frequency table
 * (12-bit precision) is in the chunk; a chunk's residuals are one
 * distribution, so this gets within a few percent of their order-0
 * entropy, which varint bytes under zstd do not (bench/README.md).
 *
 * Payload after the decimal header: pred (| ANS_UNSIGNED: residuals not
 * zigzagged; | ANS_QTABLE: the table quantised; | ANS_GCD: increments in
 * units of g; | ANS_EXC: negative residuals listed apart; pred PRED_LEVEL;
 * all since 2026-12-03, older readers refuse such chunks), g if ANS_GCD,
 * the zigzagged base if PRED_LEVEL, if ANS_EXC their count and (position
 * minus the previous one, zigzagged residual) each (not coded as symbols),
 * nsym, nsym x (symbol gap, freq-1),
 * (F64_ANS instead: the first symbol, then a byte q + 1 per used symbol
 * and the pair (0, n) for a run of n unused ones; see ans_qtable), rANS
 * byte count, rANS bytes, extra-bit byte count, extra bits (MSB first).
 * The decoder checks that the rANS state ends where the encoder began. */

#define ANS_BITS 12
#define ANS_M (1u << ANS_BITS)
#define ANS_L (1u << 23)
#define ANS_NSYM 256
#define ANS_WIN 8

/* PRED_LEVEL (since 2026-12-03): the value itself is predicted, as a base
 * level sent in the chunk (a gauge drawn around a level: its increments
 * have twice the spread of its values) */
enum { PRED_ZERO = 0, PRED_PREV = 1, PRED_MEAN = 2, PRED_LEVEL = 3, PRED_COUNT = 4 };
#define ANS_UNSIGNED 4u /* in the pred field: no residual is negative, none is zigzagged */
#define ANS_QTABLE 8u   /* in the pred field (DEC_ANS): the table is quantised as F64_ANS's */
#define ANS_GCD 16u     /* in the pred field: every increment is a multiple of g (sent next) */
#define ANS_EXC 32u     /* with ANS_UNSIGNED: the few negative residuals (a counter's resets) listed apart */
#define ANS_FLAGS (ANS_UNSIGNED | ANS_QTABLE | ANS_GCD | ANS_EXC)
#define ANS_EXC_MAX 16 /* at most one residual in this many an exception */

static inline unsigned ans_sym(uint64_t u, int *nextra)
{
	if (u < 16) {
		*nextra = 0;
		return (unsigned)u;
	}
	int nb = 63 - __builtin_clzll(u);
	*nextra = nb - 2;
	return 16 + (unsigned)(nb - 4) * 4 + (unsigned)((u >> (nb - 2)) & 3);
}

/* The residual of increment i (d[1..n-1]) under pred; *hist is the
 * predictor's state (previous increment, or the window's sum). */
struct pred_state {
	uint64_t prev, sum, win[ANS_WIN];
	uint64_t level, base; /* PRED_LEVEL: the value so far and the base, relative to the first */
	size_t i;
};

static inline uint64_t pred_next(int pred, struct pred_state *ps)
{
	switch (pred) {
	case PRED_PREV: return ps->prev;
	case PRED_MEAN: return (uint64_t)((int64_t)ps->sum / ANS_WIN);
	case PRED_LEVEL: return ps->base - ps->level;
	default: return 0;
	}
}

static inline void pred_push(struct pred_state *ps, uint64_t d)
{
	ps->level += d;
	ps->prev = d;
	size_t j = ps->i++ % ANS_WIN;
	ps->sum += d - ps->win[j];
	ps->win[j] = d;
}

/* The residuals of m[0..n-1] under pred (base: PRED_LEVEL's, relative to
 * m[0]): their symbols' histograms and extra-bit totals, zigzagged (hs, xs)
 * and as they are (hu, xu: the negative ones left out, counted in *nneg,
 * their cost as exceptions in *negbits). */
static void ans_hists(const int64_t *m, size_t n, int pred, uint64_t base, uint32_t *hs, uint64_t *xs, uint32_t *hu,
                      uint64_t *xu, size_t *nneg, double *negbits)
{
	struct pred_state ps = {.base = base};
	memset(hs, 0, ANS_NSYM * sizeof *hs);
	memset(hu, 0, ANS_NSYM * sizeof *hu);
	*xs = *xu = 0;
	*nneg = 0;
	*negbits = 0;
	for (size_t i = 1; i < n; i++) {
		uint64_t d = (uint64_t)m[i] - (uint64_t)m[i - 1];
		int64_t res = (int64_t)(d - pred_next(pred, &ps));
		pred_push(&ps, d);
		int ne;
		hs[ans_sym(pane_zigzag(res), &ne)]++;
		*xs += (uint64_t)ne;
		if (res < 0) {
			++*nneg;
			*negbits +=
			    8.0 * (double)(2 + pane_uvarint_len(pane_zigzag(res))); /* position (~2 bytes) and value */
			continue;
		}
		if (*nneg > (n - 1) / ANS_EXC_MAX)
			continue; /* the unsigned form is out (ans_encode): spare the work */
		hu[ans_sym((uint64_t)res, &ne)]++;
		*xu += (uint64_t)ne;
	}
}

/* The residuals' symbols of m under pred into u[1..n-1], zigzagged unless unsig. */
static void ans_residuals(const int64_t *m, size_t n, int pred, uint64_t base, bool unsig, uint64_t *u)
{
	struct pred_state ps = {.base = base};
	for (size_t i = 1; i < n; i++) {
		uint64_t d = (uint64_t)m[i] - (uint64_t)m[i - 1];
		int64_t res = (int64_t)(d - pred_next(pred, &ps));
		pred_push(&ps, d);
		u[i] = unsig ? (uint64_t)res : pane_zigzag(res);
	}
}

static double ans_cost_bits(const uint32_t *hist, uint64_t extra, size_t total)
{
	double bits = (double)extra;
	for (int s = 0; s < ANS_NSYM; s++)
		if (hist[s])
			bits += (double)hist[s] * log2((double)total / hist[s]) + 16.0;
	return bits;
}

/* Frequencies summing to ANS_M, every used symbol >= 1. */
static void ans_normalize(const uint32_t *hist, size_t total, uint32_t *f)
{
	int64_t sum = 0;
	int best = 0;
	for (int s = 0; s < ANS_NSYM; s++) {
		f[s] = hist[s] ? (uint32_t)((uint64_t)hist[s] * ANS_M / total) : 0;
		if (hist[s] && !f[s])
			f[s] = 1;
		sum += f[s];
		if (hist[s] > hist[best])
			best = s;
	}
	while (sum > ANS_M) { /* take from the largest frequencies */
		int big = 0;
		for (int s = 1; s < ANS_NSYM; s++)
			if (f[s] > f[big])
				big = s;
		f[big]--;
		sum--;
	}
	f[best] += (uint32_t)(ANS_M - sum);
}

/* ans_qtable - the quantised table (F64_ANS): each frequency f sent as one byte
 * q = round(16 log2 f) (f <= 4096: q <= 192), read back as
 * round(2^(q/16)) (within 2.2%), then rescaled to sum to ANS_M exactly by
 * ans_qfix, which encoder and decoder both run on the bytes, so they code
 * with the same table. A symbol's cost moves by < 0.04 bits. F64_ANS
 * chunks use 40-60 mostly neighbouring symbols (plus far ones for a stale
 * marker or a sign change), so the table is those bytes in symbol order
 * with runs of unused symbols as (0, run) pairs, instead of (gap,
 * frequency) varint pairs: about half the bytes. */
#define ANS_QMAX 192

static uint8_t ans_quant(uint32_t f)
{
	long q = lrint(16.0 * log2((double)f));
	return (uint8_t)(q < 0 ? 0 : q > ANS_QMAX ? ANS_QMAX : q);
}

/* round(2^(q/16)) for q = 0..192, as integers: the decoder must not depend
 * on the platform's exp2 (none of these is near a rounding tie). */
static const uint16_t ans_qval[ANS_QMAX + 1] = {
    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    2,    2,    2,    2,    2,    2,    2,    2,
    2,    2,    2,    2,    3,    3,    3,    3,    3,    3,    3,    4,    4,    4,    4,    4,    4,    5,
    5,    5,    5,    5,    6,    6,    6,    6,    7,    7,    7,    8,    8,    8,    9,    9,    10,   10,
    10,   11,   11,   12,   12,   13,   13,   14,   15,   15,   16,   17,   17,   18,   19,   20,   21,   22,
    23,   24,   25,   26,   27,   28,   29,   31,   32,   33,   35,   36,   38,   40,   41,   43,   45,   47,
    49,   52,   54,   56,   59,   61,   64,   67,   70,   73,   76,   79,   83,   87,   91,   95,   99,   103,
    108,  112,  117,  123,  128,  134,  140,  146,  152,  159,  166,  173,  181,  189,  197,  206,  215,  225,
    235,  245,  256,  267,  279,  292,  304,  318,  332,  347,  362,  378,  395,  412,  431,  450,  470,  490,
    512,  535,  558,  583,  609,  636,  664,  693,  724,  756,  790,  825,  861,  899,  939,  981,  1024, 1069,
    1117, 1166, 1218, 1272, 1328, 1387, 1448, 1512, 1579, 1649, 1722, 1798, 1878, 1961, 2048, 2139, 2233, 2332,
    2435, 2543, 2656, 2774, 2896, 3025, 3158, 3298, 3444, 3597, 3756, 3922, 4096};

static uint32_t ans_dequant(unsigned q)
{
	return ans_qval[q];
}

/* f[s] > 0 for the used symbols (each <= 4096): rescaled in place so that
 * every used symbol keeps >= 1 and they sum to ANS_M. Deterministic
 * integer arithmetic after the dequantisation. */
static void ans_qfix(uint32_t *f)
{
	uint64_t sum = 0;
	for (int s = 0; s < ANS_NSYM; s++)
		sum += f[s];
	int64_t total = 0;
	int big = -1;
	for (int s = 0; s < ANS_NSYM; s++) {
		if (!f[s])
			continue;
		uint64_t x = (uint64_t)f[s] * ANS_M / sum;
		f[s] = x ? (uint32_t)x : 1;
		total += f[s];
		if (big < 0 || f[s] > f[big])
			big = s;
	}
	while (total > ANS_M) { /* only when many symbols were lifted to 1 */
		int b = big;
		for (int s = 0; s < ANS_NSYM; s++)
			if (f[s] > f[b])
				b = s;
		f[b]--;
		total--;
	}
	f[big] += (uint32_t)(ANS_M - total);
}

/* Bytes of f sent exact (q NULL) or quantised as q, plus the symbols'
 * bits under f: the size the two tables give a chunk, to choose. */
static double ans_table_cost(const uint32_t *hist, const uint32_t *f, const uint8_t *q)
{
	double bits = 0;
	int last = -1;
	for (int s = 0; s < ANS_NSYM; s++) {
		if (!f[s])
			continue;
		bits += (double)hist[s] * (ANS_BITS - log2((double)f[s]));
		if (!q)
			bits += 8.0 * (double)(pane_uvarint_len((uint64_t)(s - last - 1)) + pane_uvarint_len(f[s] - 1));
		else
			bits += 8.0 * (last >= 0 && s - last > 1 ? 3 : 1); /* a run of unused ones, then q + 1 */
		last = s;
	}
	return bits;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* The greatest common divisor of m's increments (memory counted in pages,
 * disk bytes in sectors, prices in nickels), 1 when none or one is INT64_MIN. */
static uint64_t ans_gcd(const int64_t *m, size_t n)
{
	uint64_t g = 0;
	for (size_t i = 1; i < n && g != 1; i++) {
		int64_t d = (int64_t)((uint64_t)m[i] - (uint64_t)m[i - 1]);
		if (d == INT64_MIN)
			return 1;
		g = gcd_u64(g, (uint64_t)(d < 0 ? -d : d));
	}
	return g ? g : 1;
}

static int ans_encode(const int64_t *m, size_t n, enum ans_table table, struct pane_buf *out)
{
	uint64_t *u = pane_xmalloc(pane_mul_size(n, sizeof *u));
	int64_t *r = pane_xmalloc(pane_mul_size(n, sizeof *r));
	uint32_t hist[ANS_NSYM], hu[ANS_NSYM], f[ANS_NSYM], cum[ANS_NSYM + 1];
	uint64_t extra, xu, g = ans_gcd(m, n);
	/* r: the values relative to the first, in units of g */
	r[0] = 0;
	for (size_t i = 1; i < n; i++)
		r[i] = (int64_t)((uint64_t)r[i - 1] +
		                 (uint64_t)((int64_t)((uint64_t)m[i] - (uint64_t)m[i - 1]) / (int64_t)g));
	/* PRED_LEVEL's base: the minimum, so that no residual is negative (a
	 * middle value with signed residuals codes about the same and costs a
	 * candidate more: ~1% of an import each) */
	int64_t lmin = 0;
	for (size_t i = 0; i < n; i++)
		lmin = r[i] < lmin ? r[i] : lmin;
	struct {
		int pred;
		uint64_t base;
	} cand[] = {{PRED_ZERO, 0}, {PRED_PREV, 0}, {PRED_MEAN, 0}, {PRED_LEVEL, (uint64_t)lmin}};
	int pred = PRED_ZERO;
	uint64_t base = 0;
	bool unsig = false;
	double best = INFINITY;
	for (size_t c = 0; c < sizeof cand / sizeof cand[0]; c++) {
		size_t nneg;
		double negbits;
		ans_hists(r, n, cand[c].pred, cand[c].base, hist, &extra, hu, &xu, &nneg, &negbits);
		double head =
		    cand[c].pred == PRED_LEVEL ? 8.0 * (double)pane_uvarint_len(pane_zigzag((int64_t)cand[c].base)) : 0;
		double cs = head + ans_cost_bits(hist, extra, n - 1);
		double cu = nneg <= (n - 1) / ANS_EXC_MAX
		                ? head + ans_cost_bits(hu, xu, n - 1 - nneg) + negbits + (nneg ? 8.0 : 0)
		                : INFINITY;
		if (cs < best || cu < best) {
			best = cu < cs ? cu : cs;
			pred = cand[c].pred;
			base = cand[c].base;
			unsig = cu < cs;
		}
	}
	ans_residuals(r, n, pred, base, unsig, u);
	free(r);
	/* unsigned: a negative residual (its top bit set) is an exception, not a symbol */
#define ANS_IS_EXC(i) (unsig && (int64_t)u[i] < 0)
	size_t nexc = 0;
	memset(hist, 0, sizeof hist);
	for (size_t i = 1; i < n; i++) {
		int ne;
		if (ANS_IS_EXC(i))
			nexc++;
		else
			hist[ans_sym(u[i], &ne)]++;
	}
	ans_normalize(hist, n - 1 - nexc, f);
	uint8_t q[ANS_NSYM];
	uint32_t fq[ANS_NSYM];
	if (table != ANS_TABLE_EXACT) {
		for (int s = 0; s < ANS_NSYM; s++) {
			q[s] = f[s] ? ans_quant(f[s]) : 0;
			fq[s] = f[s] ? ans_dequant(q[s]) : 0;
		}
		ans_qfix(fq);
		/* DEC_ANS: the quantised table only when the chunk comes out smaller */
		if (table == ANS_TABLE_Q && ans_table_cost(hist, fq, q) >= ans_table_cost(hist, f, NULL))
			table = ANS_TABLE_EXACT;
		if (table != ANS_TABLE_EXACT)
			memcpy(f, fq, sizeof f);
	}
	bool qtable = table != ANS_TABLE_EXACT;
	int rc = pane_uvarint_add(out, (uint64_t)pred | (unsig ? ANS_UNSIGNED : 0) |
	                                   (table == ANS_TABLE_Q ? ANS_QTABLE : 0) | (g > 1 ? ANS_GCD : 0) |
	                                   (nexc ? ANS_EXC : 0));
	if (g > 1)
		rc |= pane_uvarint_add(out, g);
	if (pred == PRED_LEVEL)
		rc |= pane_uvarint_add(out, pane_zigzag((int64_t)base));
	if (nexc) { /* count, then (position - previous position, zigzagged residual) each */
		rc |= pane_uvarint_add(out, nexc);
		for (size_t i = 1, prev = 0; i < n; i++)
			if (ANS_IS_EXC(i)) {
				rc |=
				    pane_uvarint_add(out, i - prev) | pane_uvarint_add(out, pane_zigzag((int64_t)u[i]));
				prev = i;
			}
	}
	unsigned nsym = 0;
	cum[0] = 0;
	for (int s = 0; s < ANS_NSYM; s++) {
		nsym += f[s] > 0;
		cum[s + 1] = cum[s] + f[s];
	}
	rc |= pane_uvarint_add(out, nsym);
	int last = -1, first = -1;
	for (int s = 0; s < ANS_NSYM; s++)
		if (f[s]) {
			first = first < 0 ? s : first;
			if (!qtable)
				rc |= pane_uvarint_add(out, (uint64_t)(s - last - 1)) | pane_uvarint_add(out, f[s] - 1);
			last = s;
		}
	if (qtable) { /* from the first used symbol: q + 1 a used one, (0, n) for n unused ones */
		rc |= pane_uvarint_add(out, (uint64_t)first);
		for (int s = first; s <= last;) {
			int run = 0;
			while (!f[s + run])
				run++;
			if (run) {
				rc |= pane_buf_addc(out, 0) | pane_buf_addc(out, (char)run);
				s += run;
				continue;
			}
			rc |= pane_buf_addc(out, (char)(q[s] + 1));
			s++;
		}
	}
	/* rANS runs backwards: bytes are pushed, then reversed */
	size_t cap = (n - 1) * 10 + 8, nb = 0;
	uint8_t *e = pane_xmalloc(cap);
	uint32_t x = ANS_L;
	for (size_t i = n - 1; i >= 1; i--) {
		if (ANS_IS_EXC(i))
			continue;
		int ne;
		unsigned s = ans_sym(u[i], &ne);
		uint32_t xmax = ((ANS_L >> ANS_BITS) << 8) * f[s];
		while (x >= xmax) {
			e[nb++] = (uint8_t)x;
			x >>= 8;
		}
		x = ((x / f[s]) << ANS_BITS) + (x % f[s]) + cum[s];
	}
	for (int j = 0; j < 4; j++) {
		e[nb++] = (uint8_t)x;
		x >>= 8;
	}
	for (size_t i = 0; i < nb / 2; i++) {
		uint8_t t = e[i];
		e[i] = e[nb - 1 - i];
		e[nb - 1 - i] = t;
	}
	rc |= pane_uvarint_add(out, nb);
	rc |= pane_buf_add(out, e, nb);
	free(e);
	struct pane_buf bits;
	pane_buf_init(&bits, PANE_BUF_NOLIMIT);
	struct bw w = {.b = &bits};
	for (size_t i = 1; i < n; i++) {
		int ne;
		ans_sym(u[i], &ne);
		if (ne && !ANS_IS_EXC(i))
			bw_put(&w, u[i], ne);
	}
#undef ANS_IS_EXC
	bw_end(&w);
	rc |= w.rc;
	rc |= pane_uvarint_add(out, bits.len);
	rc |= pane_buf_add(out, bits.data, bits.len);
	pane_buf_release(&bits);
	free(u);
	return rc ? PANE_ETOOBIG : 0;
}

/* Fast MSB-first reader for the extra bits (bounds-checked). */
struct xr {
	const uint8_t *p;
	size_t len, pos; /* pos in bytes of the next refill */
	uint64_t acc;
	int nacc;
	bool bad;
};

/* The next nbits (<= 64) bits, MSB first; 0 and r->bad past the end. The
 * accumulator is refilled a byte at a time up to 57-64 bits, so a request
 * of up to 32 bits is one shift and mask. */
static inline uint64_t xr_get(struct xr *r, int nbits)
{
	if (nbits > 32) {
		uint64_t hi = xr_get(r, nbits - 32);
		return hi << 32 | xr_get(r, 32);
	}
	if (r->nacc < nbits) {
		while (r->nacc <= 56 && r->pos < r->len) {
			r->acc = r->acc << 8 | r->p[r->pos++];
			r->nacc += 8;
		}
		if (r->nacc < nbits) {
			r->bad = true;
			return 0;
		}
	}
	r->nacc -= nbits;
	return (r->acc >> r->nacc) & ((1ull << nbits) - 1);
}

/* Decodes n-1 increments after m0 into v (values m / 10^k, or the doubles
 * whose ordered bit patterns are m when k is ANS_F64); only v[0..want) when
 * want < n (then the coder's end state is not reached, so not checked: the
 * blob's CRC stands for it). */
static int ans_decode(struct pane_rd *r, double *v, size_t n, size_t want, uint64_t m, unsigned k)
{
	uint64_t pred = pane_rd_uv(r), g = pred & ANS_GCD ? pane_rd_uv(r) : 1;
	struct pred_state ps = {0};
	if ((pred & ~(uint64_t)ANS_FLAGS) == PRED_LEVEL)
		ps.base = (uint64_t)pane_unzigzag(pane_rd_uv(r));
	/* the exceptions: checked here, read again (exc) as the samples are */
	uint64_t nexc = pred & ANS_EXC ? pane_rd_uv(r) : 0;
	struct pane_rd exc = *r;
	if ((pred & ANS_EXC) && (!(pred & ANS_UNSIGNED) || nexc == 0 || nexc > n - 1))
		return PANE_EINVAL;
	for (uint64_t e = 0, pos = 0; e < nexc; e++) {
		uint64_t dp = pane_rd_uv(r);
		pane_rd_uv(r);
		if (r->bad || dp == 0 || dp > n - 1 - pos)
			return PANE_EINVAL;
		pos += dp;
	}
	uint64_t nsym = pane_rd_uv(r);
	bool unsig = pred & ANS_UNSIGNED, qtable = k == ANS_F64 || (pred & ANS_QTABLE);
	if (k == ANS_F64 && (pred & ANS_QTABLE))
		return PANE_EINVAL; /* implied there, never flagged */
	if ((pred & ANS_GCD) && (g < 2 || g > INT64_MAX))
		return PANE_EINVAL;
	pred &= ~(uint64_t)ANS_FLAGS;
	if (r->bad || pred >= PRED_COUNT || nsym == 0 || nsym > ANS_NSYM)
		return PANE_EINVAL;
	uint32_t f[ANS_NSYM] = {0}, cum[ANS_NSYM];
	uint8_t slot[ANS_M];
	uint32_t total = 0;
	int64_t s = -1;
	for (uint64_t j = 0; j < nsym && !qtable; j++) {
		uint64_t gap = pane_rd_uv(r), fr = pane_rd_uv(r);
		if (r->bad || gap >= ANS_NSYM) /* checked before it is added: a huge gap overflowed s */
			return PANE_EINVAL;
		s += (int64_t)gap + 1;
		if (s >= ANS_NSYM || fr >= ANS_M || total + fr + 1 > ANS_M)
			return PANE_EINVAL;
		f[s] = (uint32_t)fr + 1;
		total += f[s];
	}
	if (qtable) {
		uint64_t sym = pane_rd_uv(r);
		for (uint64_t used = 0; used < nsym;) {
			if (r->bad || sym >= ANS_NSYM || r->off >= r->len)
				return PANE_EINVAL;
			unsigned b = r->p[r->off++];
			if (b == 0) { /* a run of unused symbols */
				if (r->off >= r->len || r->p[r->off] == 0)
					return PANE_EINVAL;
				sym += r->p[r->off++];
				continue;
			}
			if (b > ANS_QMAX + 1)
				return PANE_EINVAL;
			f[sym++] = ans_dequant(b - 1);
			used++;
		}
		ans_qfix(f);
	}
	total = 0;
	for (int i = 0; i < ANS_NSYM; i++) {
		cum[i] = total;
		if (total + f[i] > ANS_M)
			return PANE_EINVAL;
		memset(slot + total, i, f[i]);
		total += f[i];
	}
	if (total != ANS_M)
		return PANE_EINVAL;
	uint64_t nb = pane_rd_uv(r);
	if (r->bad || nb < 4 || nb > r->len - r->off)
		return PANE_EINVAL;
	const uint8_t *a = r->p + r->off, *aend = a + nb;
	r->off += (size_t)nb;
	uint64_t xb = pane_rd_uv(r);
	if (r->bad || xb > r->len - r->off)
		return PANE_EINVAL;
	struct xr xr = {.p = r->p + r->off, .len = (size_t)xb};
	r->off += (size_t)xb;
	uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	a += 4;
	bool f64 = k == ANS_F64;
	double scale = f64 ? 1.0 : pane_p10[k];
	uint64_t next = nexc ? pane_rd_uv(&exc) : UINT64_MAX;
	size_t end = want < n ? want : n;
	for (size_t i = 1; i < end; i++) {
		if (i == next) {
			uint64_t d = (uint64_t)pane_unzigzag(pane_rd_uv(&exc)) + pred_next((int)pred, &ps);
			pred_push(&ps, d);
			m += d * g;
			v[i] = f64 ? pane_ordered_f64((int64_t)m) : (double)(int64_t)m / scale;
			next = --nexc ? next + pane_rd_uv(&exc) : UINT64_MAX;
			continue;
		}
		unsigned sym = slot[x & (ANS_M - 1)];
		x = f[sym] * (x >> ANS_BITS) + (x & (ANS_M - 1)) - cum[sym];
		while (x < ANS_L) {
			if (a == aend)
				return PANE_EINVAL;
			x = x << 8 | *a++;
		}
		uint64_t u;
		if (sym < 16) {
			u = sym;
		} else {
			int nbits = 4 + (int)(sym - 16) / 4;
			u = ((uint64_t)(4 | ((sym - 16) & 3)) << (nbits - 2)) | xr_get(&xr, nbits - 2);
		}
		uint64_t d = (unsig ? u : (uint64_t)pane_unzigzag(u)) + pred_next((int)pred, &ps);
		pred_push(&ps, d);
		m += d * g;
		v[i] = f64 ? pane_ordered_f64((int64_t)m) : (double)(int64_t)m / scale;
	}
	if (xr.bad || (end == n && (x != ANS_L || a != aend)))
		return PANE_EINVAL;
	return 0;
}

/* ---------- F64_ANS: unrounded doubles as ordered integers through rANS ----------
 *
 * Doubles with no decimal form (ratios, averages, anything computed) are
 * mapped to their ordered integers (pane_f64_ordered): the increment between two
 * samples is then the number of doubles between them, about step / ulp for
 * a random walk, which is the same kind of integer DEC_ANS codes, so the
 * same coder (predictor per chunk, rANS symbols of bit length + 2 bits,
 * raw low bits) gets near the increments' entropy. Gorilla XOR stores the
 * changed low mantissa bits of every sample in full plus window headers
 * (bench/README.md, shape "floats"). An exponent change only doubles or
 * halves the increments' scale; a sign change, NaN or Inf is one large
 * increment there and one back: costly but exact, and chunks where that
 * happens often are left to XOR by the size comparison.
 *
 * Payload: the first value's ordered integer (zigzag varint), then
 * ans_encode's payload over the ordered integers, its frequency table
 * quantised to a byte a symbol (ans_qtable: 40-60 symbols a chunk, where
 * DEC_ANS chunks typically have a handful). */

static int f64_encode(const double *v, size_t n, struct pane_buf *out)
{
	if (n < 2)
		return PANE_EINVAL;
	int64_t *m = pane_xmalloc(pane_mul_size(n, sizeof *m));
	for (size_t i = 0; i < n; i++)
		m[i] = pane_f64_ordered(v[i]);
	int rc = pane_uvarint_add(out, pane_zigzag(m[0]));
	if (!rc)
		rc = ans_encode(m, n, ANS_TABLE_F64, out);
	free(m);
	return rc ? PANE_ETOOBIG : 0;
}

static int f64_decode(struct pane_rd *r, double *v, size_t n, size_t want)
{
	uint64_t m = (uint64_t)pane_unzigzag(pane_rd_uv(r));
	if (r->bad || n < 2)
		return PANE_EINVAL;
	v[0] = pane_ordered_f64((int64_t)m);
	return ans_decode(r, v, n, want, m, ANS_F64);
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
	pane_uvarint_add(out, pane_zigzag(ts[0]));
	if (mode == TS_GRID) {
		/* step from the ends; samples are coded as deviations from t0 + i*step */
		uint64_t span = (uint64_t)ts[n - 1] - (uint64_t)ts[0];
		int64_t step = n > 1 ? (int64_t)span / (int64_t)(n - 1) : 0;
		pane_uvarint_add(out, pane_zigzag(step));
		for (size_t i = 1; i < n; i++) {
			uint64_t grid = (uint64_t)ts[0] + (uint64_t)step * i;
			pane_uvarint_add(out, pane_zigzag((int64_t)((uint64_t)ts[i] - grid)));
		}
		return;
	}
	uint64_t pd = 0;
	for (size_t i = 1; i < n; i++) {
		uint64_t d = (uint64_t)ts[i] - (uint64_t)ts[i - 1];
		pane_uvarint_add(out, pane_zigzag(i == 1 ? (int64_t)d : (int64_t)(d - pd)));
		pd = d;
	}
}

/* m: v's decimal integers at scale k when the caller has them, else NULL. */
static int encode_values(const double *v, const int64_t *m, int k, size_t n, int codec, struct pane_buf *out)
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
			rc = pane_uvarint_add(out, bits.len);
		if (!rc)
			rc = pane_buf_add(out, bits.data, bits.len);
		pane_buf_release(&bits);
		return rc;
	}
	case PANE_CODEC_F64_ANS: return f64_encode(v, n, out);
	default: {
		if (m)
			return dec_encode(v, m, n, k, codec, out);
		if (!dec_scale(v, n, &k))
			return PANE_EINVAL;
		int64_t *own = pane_xmalloc(pane_mul_size(n, sizeof *own));
		dec_ints(v, n, k, own);
		int rc = dec_encode(v, own, n, k, codec, out);
		free(own);
		return rc;
	}
	}
}

enum { TAG_NO_TS = 0x40, TAG_NO_VALUES = 0x80 };

/* Fewer samples than this never measure F64_ANS: its symbol table alone
 * outweighs what it saves on XOR. */
#define F64_MIN 16

/* Whether a forced codec can hold the chunk (dec: it has a decimal form). */
static bool can_force(int force, bool dec, size_t n)
{
	switch (force) {
	case PANE_CODEC_XOR: return true;
	case PANE_CODEC_DEC_D1:
	case PANE_CODEC_DEC_D2: return dec;
	case PANE_CODEC_DEC_ANS: return dec && n > 1;
	case PANE_CODEC_F64_ANS: return n > 1;
	default: return false;
	}
}

/* Doubles without a decimal form: F64_ANS when its exact size is below
 * what zstd really makes of the XOR stream (noisy mantissas barely
 * compress, repeats and runs do). The winner's bytes are left in kept. */
static int float_choice(const double *v, size_t n, struct pane_buf *kept)
{
	struct pane_buf a;
	pane_buf_init(&a, PANE_BUF_NOLIMIT);
	int codec = PANE_CODEC_XOR;
	if (encode_values(v, NULL, 0, n, PANE_CODEC_XOR, kept) == 0 &&
	    encode_values(v, NULL, 0, n, PANE_CODEC_F64_ANS, &a) == 0 && a.len < kept->len) {
		size_t bound = ZSTD_compressBound(kept->len);
		void *z = pane_xmalloc(bound);
		size_t zl = ZSTD_compress(z, bound, kept->data, kept->len, 3);
		if (ZSTD_isError(zl) || a.len < zl) {
			codec = PANE_CODEC_F64_ANS;
			pane_buf_reset(kept);
			pane_buf_add(kept, a.data, a.len);
		}
		free(z);
	}
	pane_buf_release(&a);
	return codec;
}

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
	int rc = pane_uvarint_add(out, n);
	int codec = PANE_CODEC_CONST, k = 0;
	int64_t *m = NULL;
	struct pane_buf pre; /* the values already encoded by the choice, or empty */
	pane_buf_init(&pre, PANE_BUF_NOLIMIT);
	if (v) {
		bool constant = true;
		for (size_t i = 1; i < n && constant; i++)
			constant = pane_f64_bits(v[i]) == pane_f64_bits(v[0]);
		bool dec = !constant && dec_scale(v, n, &k);
		if (dec) {
			m = pane_xmalloc(pane_mul_size(n, sizeof *m));
			dec_ints(v, n, k, m);
		}
		codec = PANE_CODEC_XOR;
		if (constant)
			codec = PANE_CODEC_CONST;
		else if (force >= 0 && can_force(force, dec, n))
			codec = force;
		else if (dec) {
			/* measure: encode each candidate, keep the smallest estimated size
			 * (order-0 entropy for the byte codecs, which zstd gets near) */
			size_t best = SIZE_MAX;
			struct pane_buf t, kept;
			pane_buf_init(&t, PANE_BUF_NOLIMIT);
			pane_buf_init(&kept, PANE_BUF_NOLIMIT);
			for (int c = PANE_CODEC_XOR; c <= PANE_CODEC_DEC_D2; c++) {
				pane_buf_reset(&t);
				size_t cost;
				if (encode_values(v, m, k, n, c, &t) == 0 && (cost = (size_t)entropy_bits(&t)) < best) {
					best = cost;
					codec = c;
					pane_buf_reset(&kept);
					pane_buf_add(&kept, t.data, t.len);
				}
			}
			/* DEC_ANS's size is exact and zstd cannot shrink it: compare
			 * with what zstd really makes of the best byte codec (runs
			 * and repeats can take it far below its order-0 entropy; on
			 * a small chunk its tables take it far above, so that bound
			 * is no filter: a 380-sample walk is 111 bytes by order-0
			 * entropy, 193 through zstd and 139 as DEC_ANS) */
			pane_buf_reset(&t);
			if (n > 1 && encode_values(v, m, k, n, PANE_CODEC_DEC_ANS, &t) == 0 && t.len < kept.len) {
				size_t bound = ZSTD_compressBound(kept.len);
				void *z = pane_xmalloc(bound);
				size_t zl = ZSTD_compress(z, bound, kept.data, kept.len, 3);
				if (ZSTD_isError(zl) || t.len < zl)
					codec = PANE_CODEC_DEC_ANS;
				free(z);
			}
			pane_buf_release(&t);
			pane_buf_release(&kept);
		} else if (force < 0 && n >= F64_MIN) {
			/* (a forced codec that cannot hold the chunk, as the tiers'
			 * DEC_D1 on sums of doubles, stays XOR without measuring) */
			codec = float_choice(v, n, &pre);
		}
	}
	uint64_t tag = (uint64_t)codec | (ts ? 0 : TAG_NO_TS) | (v ? 0 : TAG_NO_VALUES);
	if (ts) {
		/* delta-of-delta or deviation from a regular grid, whichever has the
		 * smaller estimated compressed size */
		struct pane_buf tb[2];
		for (int tm = 0; tm < 2; tm++) {
			pane_buf_init(&tb[tm], PANE_BUF_NOLIMIT);
			encode_ts(ts, n, tm, &tb[tm]);
		}
		int tsmode = n > 2 && entropy_bits(&tb[1]) < entropy_bits(&tb[0]) ? TS_GRID : TS_DOD;
		rc |= pane_uvarint_add(out, tag | (uint64_t)tsmode << 4);
		rc |= pane_buf_add(out, tb[tsmode].data, tb[tsmode].len);
		pane_buf_release(&tb[0]);
		pane_buf_release(&tb[1]);
	} else {
		rc |= pane_uvarint_add(out, tag);
	}
	if (!rc && v)
		rc = pre.len ? pane_buf_add(out, pre.data, pre.len) : encode_values(v, m, k, n, codec, out);
	free(m);
	pane_buf_release(&pre);
	if (rc) {
		pane_buf_truncate(out, start);
		return rc < 0 ? rc : PANE_ETOOBIG;
	}
	return codec;
}

int pane_chunk_decode(const uint8_t *p, size_t len, int64_t *ts, double *v, size_t cap, size_t *n, size_t *used)
{
	return pane_chunk_decode_prefix(p, len, ts, v, cap, SIZE_MAX, n, used);
}

int pane_chunk_decode_prefix(const uint8_t *p, size_t len, int64_t *ts, double *v, size_t cap, size_t want, size_t *n,
                             size_t *used)
{
	struct pane_rd r = {.p = p, .len = len};
	uint64_t cnt = pane_rd_uv(&r);
	uint64_t tag = pane_rd_uv(&r);
	uint64_t codec = tag & 15, tsmode = (tag >> 4) & 3;
	bool has_ts = !(tag & TAG_NO_TS), has_v = !(tag & TAG_NO_VALUES);
	if (r.bad || cnt == 0 || cnt > PANE_CHUNK_MAX || cnt > cap || tsmode > TS_GRID || tag > 0xff ||
	    (!has_ts && !has_v))
		return PANE_EINVAL;
	if (has_v && codec > PANE_CODEC_F64_ANS)
		return PANE_EUNSUPPORTED; /* a newer pane's codec (or damage) */
	/* a chunk with timestamps (not a value column) is decoded whole */
	size_t end = want < cnt && !has_ts ? (want ? want : 1) : (size_t)cnt;
	if (!has_ts) {
		memset(ts, 0, end * sizeof *ts);
		tsmode = 2; /* skip both timestamp decoders */
	}
	if (!has_v) {
		memset(v, 0, cnt * sizeof *v);
		codec = 99;
	}
	uint64_t t = has_ts ? (uint64_t)pane_unzigzag(pane_rd_uv(&r)) : 0, pd = 0;
	ts[0] = (int64_t)t;
	if (tsmode == TS_GRID) {
		uint64_t step = (uint64_t)pane_unzigzag(pane_rd_uv(&r));
		for (size_t i = 1; i < cnt && !r.bad; i++)
			ts[i] = (int64_t)(t + step * i + (uint64_t)pane_unzigzag(pane_rd_uv(&r)));
	}
	for (size_t i = 1; i < cnt && !r.bad && tsmode == TS_DOD; i++) {
		uint64_t x = (uint64_t)pane_unzigzag(pane_rd_uv(&r));
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
		for (size_t i = 0; i < end; i++)
			v[i] = pane_bits_f64(u);
		break;
	}
	case PANE_CODEC_XOR: {
		uint64_t nb = pane_rd_uv(&r);
		if (r.bad || nb > len - r.off)
			return PANE_EINVAL;
		struct br b = {.p = p + r.off, .nbits = (size_t)nb * 8};
		rc = xor_decode(&b, v, end);
		r.off += (size_t)nb;
		break;
	}
	case PANE_CODEC_DEC_D1:
	case PANE_CODEC_DEC_D2:
	case PANE_CODEC_DEC_ANS: rc = dec_decode(&r, v, cnt, end, (int)codec); break;
	case PANE_CODEC_F64_ANS: rc = f64_decode(&r, v, cnt, end); break;
	default: /* no values in this column chunk */ break;
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
