/*
 * hstream.c - a series' head encoded as samples arrive (see hstream.h).
 *
 * Idea: the store used to keep up to 32 raw samples (16 B each) per series
 * plus the window's sealed chunks; encoding each sample on arrival into one
 * bit stream costs ~3 B per sample and lets the store spill whole blocks
 * of the stream to a file, because appended bytes never change. The codes
 * are chosen for scrape data: timestamps a fixed interval apart with a few
 * ms of jitter, counters with integer or cent increments; anything else
 * falls back to Gorilla's XOR, which is exact for every bit pattern.
 *
 * Invariants:
 *   (1) Bits already in the stream never change: a full block can leave.
 *   (2) The decoder derives every choice from the bits read so far and the
 *       same pure functions as the encoder (as_int, as_cent), so a value
 *       decodes to the exact bits that were appended.
 *   (3) Reads are bounded by the byte length given; malformed input is
 *       PANE_EINVAL, never undefined behaviour (arithmetic is unsigned).
 *
 * The on-disk segment format is elsewhere (codec.c): a stream lives only
 * as long as its window is in memory, so it can change without migration.
 */
#include "store/hstream.h"

#include <math.h>
#include <string.h>

#include "base/err.h"
#include "store/codec.h"

#define INT_LIMIT 9007199254740992.0 /* 2^53: every integer below is exact */

/* The value as an exact integer (not -0.0, |v| < 2^53). */
static bool as_int(uint64_t vb, int64_t *m)
{
	double v = pane_bits_f64(vb);
	if (!(fabs(v) < INT_LIMIT))
		return false;
	int64_t i = (int64_t)v;
	if (pane_f64_bits((double)i) != vb)
		return false;
	*m = i;
	return true;
}

/* The value as m / 100 exactly (not -0.0, |m| < 2^53). */
static bool as_cent(uint64_t vb, int64_t *m)
{
	double v = pane_bits_f64(vb);
	if (!(fabs(v) < INT_LIMIT / 128))
		return false;
	int64_t i = llround(v * 100.0);
	if (pane_f64_bits((double)i / 100.0) != vb)
		return false;
	*m = i;
	return true;
}

static void put(struct pane_hstream *h, uint64_t x, unsigned nb)
{
	while (nb) {
		unsigned used = h->nbits & 7u, room = 8 - used, take = nb < room ? nb : room;
		uint8_t b = (uint8_t)((x >> (nb - take)) & ((1u << take) - 1));
		size_t i = h->nbits >> 3;
		if (!used)
			h->tail[i] = 0;
		h->tail[i] |= (uint8_t)(b << (room - take));
		h->nbits = (uint16_t)(h->nbits + take);
		nb -= take;
	}
}

/* Field widths of the prefix-coded classes (see hstream.h): class c is
 * written as c one bits and a 0 (no 0 after the last class), then the
 * value in w[c] bits. Shared by the encoder and the decoder. */
static const unsigned dod_w[] = {0, 7, 14, 24, 64}, delta_w[] = {6, 13, 20, 64};
#define NDOD (sizeof dod_w / sizeof dod_w[0])
#define NDELTA (sizeof delta_w / sizeof delta_w[0])

/* z in the smallest class of w[0..nw) that holds it. */
static void put_class(struct pane_hstream *h, uint64_t z, const unsigned *w, unsigned nw)
{
	unsigned c = 0;
	while (c + 1 < nw && z >> w[c])
		c++;
	if (c + 1 < nw)
		put(h, ((1ull << c) - 1) << 1, c + 1);
	else
		put(h, (1ull << c) - 1, c);
	if (w[c])
		put(h, z, w[c]);
}

void pane_hstream_init(struct pane_hstream *h)
{
	memset(h, 0, sizeof *h);
}

void pane_hstream_append(struct pane_hstream *h, int64_t ts, double v)
{
	uint64_t vb = pane_f64_bits(v);
	if (!h->anchored) { /* the first sample that starts in the tail's first block */
		h->anc = (struct pane_hs_anchor){.t = h->t, .dt = h->dt, .v = h->v, .idx = h->n, .bit = h->nbits};
		h->anchored = true;
	}
	if (h->n == 0) {
		put(h, (uint64_t)ts, 64);
		put(h, vb, 64);
		h->t = ts;
		h->dt = 0;
		h->v = vb;
		h->n = 1;
		return;
	}
	int64_t d = (int64_t)((uint64_t)ts - (uint64_t)h->t);
	put_class(h, pane_zigzag((int64_t)((uint64_t)d - (uint64_t)h->dt)), dod_w, NDOD);
	int64_t a, b;
	if (vb == h->v)
		put(h, 0, 1);
	else if (as_int(h->v, &a) && as_int(vb, &b)) {
		put(h, 0x2, 2);
		put_class(h, pane_zigzag(b - a), delta_w, NDELTA);
	} else if (as_cent(h->v, &a) && as_cent(vb, &b)) {
		put(h, 0x6, 3);
		put_class(h, pane_zigzag(b - a), delta_w, NDELTA);
	} else {
		uint64_t x = vb ^ h->v;
		unsigned lz = (unsigned)__builtin_clzll(x), tz = (unsigned)__builtin_ctzll(x);
		unsigned len = 64 - lz - tz;
		put(h, 0x7, 3);
		put(h, lz, 6);
		put(h, len - 1, 6);
		put(h, x >> tz, len);
	}
	h->t = ts;
	h->dt = d;
	h->v = vb;
	h->n++;
}

void pane_hstream_take(struct pane_hstream *h, uint8_t *out, struct pane_hs_anchor *a)
{
	*a = h->anc;
	h->anchored = false;
	memcpy(out, h->tail, PANE_HS_BLOCK);
	size_t rest = pane_hstream_tail_len(h) - PANE_HS_BLOCK;
	memmove(h->tail, h->tail + PANE_HS_BLOCK, rest);
	h->nbits = (uint16_t)(h->nbits - PANE_HS_BLOCK * 8);
}

struct rd {
	const uint8_t *p;
	size_t len;        /* bytes */
	uint64_t pos, end; /* in bits */
};

/* Up to 56 bits at pos, right-aligned, without advancing; bits past the
 * end read as 0 (callers check the length first). */
static inline __attribute__((always_inline)) uint64_t peek56(const struct rd *r, unsigned nb)
{
	size_t i = (size_t)(r->pos >> 3);
	unsigned off = (unsigned)(r->pos & 7u);
	uint64_t w = 0;
	size_t avail = r->len - i;
	if (avail >= 8) {
		memcpy(&w, r->p + i, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		w = __builtin_bswap64(w); /* the stream is most significant bit first */
#endif
	} else {
		for (unsigned k = 0; k < 8; k++)
			w = w << 8 | (k < avail ? r->p[i + k] : 0);
	}
	return (w << off) >> (64 - nb);
}

static inline __attribute__((always_inline)) int get(struct rd *r, unsigned nb, uint64_t *x)
{
	if (r->end - r->pos < nb)
		return PANE_EINVAL;
	uint64_t v = 0;
	while (nb) {
		unsigned take = nb > 56 ? 56 : nb;
		v = (v << take) | peek56(r, take);
		r->pos += take;
		nb -= take;
	}
	*x = v;
	return 0;
}

/* Counts leading 1 bits, at most max (the class of a prefix code), and
 * consumes them and the 0 that ends them (none after max ones). */
static inline __attribute__((always_inline)) int get_class(struct rd *r, unsigned max, unsigned *cls)
{
	uint64_t avail = r->end - r->pos;
	unsigned nb = avail < max ? (unsigned)avail : max;
	if (nb == 0)
		return PANE_EINVAL;
	uint64_t inv = ~(peek56(r, nb) << (64 - nb));
	unsigned c = inv ? (unsigned)__builtin_clzll(inv) : 64;
	if (c > nb)
		c = nb;
	if (c < max) {
		if (c == nb)
			return PANE_EINVAL; /* ran out before the ending 0 */
		r->pos += c + 1;
	} else {
		r->pos += max;
	}
	*cls = c;
	return 0;
}

/* Decodes n samples from bit `bit` of p[0..len): the stream's first
 * sample (absolute) when from is NULL, else samples that follow the state
 * from. */
static int decode(const uint8_t *p, size_t len, unsigned bit, const struct pane_hs_anchor *from, size_t n, int64_t *ts,
                  double *v)
{
	if (n == 0)
		return 0;
	if (len > UINT64_MAX / 8 || bit >= 8 * (uint64_t)len)
		return PANE_EINVAL;
	struct rd r = {p, len, bit, (uint64_t)len * 8};
	uint64_t t, vb, x, dt = 0;
	size_t i = 0;
	if (from) {
		t = (uint64_t)from->t;
		dt = (uint64_t)from->dt;
		vb = from->v;
	} else {
		if (get(&r, 64, &t) < 0 || get(&r, 64, &vb) < 0)
			return PANE_EINVAL;
		ts[0] = (int64_t)t;
		v[0] = pane_bits_f64(vb);
		i = 1;
	}
	/* the last decimal form decoded (1 integer, 2 cents) and its m: the
	 * next delta of the same form starts from it without recomputing */
	unsigned mc = 0;
	int64_t mm = 0;
	for (; i < n; i++) {
		unsigned c;
		/* fast path: a sample whose codes all lie in the next 56 bits is
		 * parsed from one load (nothing changes until it is known to fit) */
		if (r.end - r.pos >= 56) {
			uint64_t w = peek56(&r, 56) << 8, u, z1 = 0, z2 = 0;
			unsigned tc = (unsigned)__builtin_clzll(~w), vc, used, vused = 1;
			if (tc < 4) {
				used = tc ? tc + 1 + dod_w[tc] : 1;
				if (tc)
					z1 = (w << (tc + 1)) >> (64 - dod_w[tc]);
				u = w << used;
				vc = (unsigned)__builtin_clzll(~u | 1);
				if (vc > 3)
					vc = 3;
				bool ok = true;
				int64_t a = mm;
				if (vc == 1 || vc == 2) {
					unsigned dc = (unsigned)__builtin_clzll(~(u << (vc + 1)) | 1);
					ok = dc < 3;
					if (ok) {
						vused = vc + 1 + dc + 1 + delta_w[dc];
						z2 = (u << (vc + 1 + dc + 1)) >> (64 - delta_w[dc]);
					}
				} else if (vc == 3) {
					uint64_t lz = (u << 3) >> 58, xl = ((u << 9) >> 58) + 1;
					vused = 15 + (unsigned)xl;
					ok = lz + xl <= 64 && used + vused <= 56;
					if (ok)
						z2 = ((u << 15) >> (64 - xl)) << (64 - lz - xl);
				}
				if (ok && used + vused <= 56) {
					if ((vc == 1 || vc == 2) && mc != vc &&
					    (vc == 1 ? !as_int(vb, &a) : !as_cent(vb, &a)))
						return PANE_EINVAL;
					dt += (uint64_t)pane_unzigzag(z1);
					t += dt;
					ts[i] = (int64_t)t;
					if (vc == 1 || vc == 2) {
						int64_t m = (int64_t)((uint64_t)a + (uint64_t)pane_unzigzag(z2));
						vb = pane_f64_bits(vc == 1 ? (double)m : (double)m / 100.0);
						mc = vc;
						mm = m;
					} else if (vc == 3) {
						mc = 0;
						vb ^= z2;
					}
					v[i] = pane_bits_f64(vb);
					r.pos += used + vused;
					continue;
				}
			}
		}
		if (get_class(&r, NDOD - 1, &c) < 0)
			return PANE_EINVAL;
		uint64_t z = 0;
		if (c && get(&r, dod_w[c], &z) < 0)
			return PANE_EINVAL;
		dt += (uint64_t)pane_unzigzag(z);
		t += dt;
		ts[i] = (int64_t)t;
		if (get_class(&r, 3, &c) < 0)
			return PANE_EINVAL;
		if (c == 1 || c == 2) {
			int64_t a = mm;
			unsigned dc;
			if ((mc != c && (c == 1 ? !as_int(vb, &a) : !as_cent(vb, &a))) ||
			    get_class(&r, NDELTA - 1, &dc) < 0 || get(&r, delta_w[dc], &z) < 0)
				return PANE_EINVAL;
			int64_t m = (int64_t)((uint64_t)a + (uint64_t)pane_unzigzag(z));
			vb = pane_f64_bits(c == 1 ? (double)m : (double)m / 100.0);
			mc = c;
			mm = m;
		} else if (c == 3) {
			mc = 0;
			uint64_t lz, l1;
			if (get(&r, 6, &lz) < 0 || get(&r, 6, &l1) < 0 || lz + l1 + 1 > 64 ||
			    get(&r, (unsigned)l1 + 1, &x) < 0)
				return PANE_EINVAL;
			vb ^= x << (64 - lz - (l1 + 1));
		}
		v[i] = pane_bits_f64(vb);
	}
	return 0;
}

int pane_hstream_decode(const uint8_t *p, size_t len, size_t n, int64_t *ts, double *v)
{
	return decode(p, len, 0, NULL, n, ts, v);
}

int pane_hstream_decode_from(const uint8_t *p, size_t len, const struct pane_hs_anchor *a, size_t n, int64_t *ts,
                             double *v)
{
	return decode(p, len, a->bit, a->idx ? a : NULL, n, ts, v);
}
