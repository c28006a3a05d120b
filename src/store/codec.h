/*
 * codec.h - compressed chunks of (timestamp, value) samples.
 *
 * A chunk holds up to PANE_CHUNK_MAX samples of one series in timestamp
 * order. Timestamps are coded as delta-of-delta zigzag varints. Values are
 * coded by whichever of these is smallest for the chunk (chosen by encoding
 * each candidate, so the choice is always a measurement on the real data):
 *   XOR      Gorilla: XOR with the previous value, leading/trailing zero
 *            windows, bit-packed. Exact for every bit pattern.
 *   DEC_D1   values are m * 10^-k exactly (common k): varint deltas of m.
 *   DEC_D2   the same with delta-of-delta (steady counters).
 *   CONST    all values bit-identical: 8 bytes.
 *   DEC_ANS  the decimal integers' increments, predicted (0, previous
 *            increment or mean of the last 8, chosen per chunk), as rANS-
 *            coded symbols plus raw bits (no sign bit when no residual is
 *            negative, as a counter's): near the increments' entropy.
 *   F64_ANS  doubles without a decimal form: each mapped to an int64 in the
 *            doubles' order (sign-magnitude to two's complement), whose
 *            increments (~ step / ulp) go through DEC_ANS's coder.
 * The codec is in each chunk's tag, so chunks written before a codec was
 * added decode unchanged; a new codec is only ever added, never redefined.
 * A reader older than a codec refuses its chunks as malformed (its select
 * logs the segment as corrupt and skips it; nothing is misread).
 * Every codec is bit-exact: NaN payloads (the stale marker), -0.0 and
 * +-Inf survive (the decimal codecs refuse chunks they cannot round-trip).
 *
 * A *segment* is a run of chunks of one series, stored as one blob:
 * a header byte (raw or zstd) then the chunks, zstd-compressed as a whole
 * when that is smaller. Byte-aligned varints compress well under zstd,
 * which is why the decimal codecs usually win on disk.
 */
#ifndef PANE_STORE_CODEC_H
#define PANE_STORE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"

/* A store window (24 h) in one chunk down to 10.5 s scrapes. A pane from
 * before 2026-12-04 (4,096) skips a longer chunk as corrupt, logged. */
#define PANE_CHUNK_MAX 8192

enum pane_chunk_codec {
	PANE_CODEC_XOR = 0,
	PANE_CODEC_DEC_D1 = 1,
	PANE_CODEC_DEC_D2 = 2,
	PANE_CODEC_CONST = 3,
	PANE_CODEC_DEC_ANS = 4, /* since 2026-12: older readers refuse it (the tag says so) */
	PANE_CODEC_F64_ANS = 5, /* since 2026-12-03: readers before it refuse it the same way */
};

/* Appends one chunk (1 <= n <= PANE_CHUNK_MAX, ts ascending or not: any
 * int64 order is coded exactly) to out. force: -1 picks the smallest codec,
 * else that codec if it can represent the data (else the smallest).
 * Returns the codec used, or PANE_ETOOBIG from the buffer / PANE_EINVAL. */
int pane_chunk_encode(const int64_t *ts, const double *v, size_t n, int force, struct pane_buf *out);
/* Column chunks: the same format holding only timestamps (values decode as
 * 0) or only values (timestamps decode as 0). Segments store the two columns
 * apart so that series scraped together share one timestamp column. */
int pane_column_encode_ts(const int64_t *ts, size_t n, struct pane_buf *out);
int pane_column_encode_values(const double *v, size_t n, struct pane_buf *out);
/* The same with a codec given (as pane_chunk_encode's force): no measuring. */
int pane_column_encode_values_as(const double *v, size_t n, int force, struct pane_buf *out);
/* Decodes the chunk at p (len bytes available): *n samples into ts/v
 * (capacity cap >= PANE_CHUNK_MAX is always enough), *used bytes consumed.
 * 0, PANE_EINVAL for malformed input (never reads past len), or
 * PANE_EUNSUPPORTED for a value codec id this binary does not know (a newer
 * pane wrote it, or the byte is damaged). */
int pane_chunk_decode(const uint8_t *p, size_t len, int64_t *ts, double *v, size_t cap, size_t *n, size_t *used);
/* The same, decoding at least the first want values (v[0..min(want, *n)))
 * and only those of a value column chunk; *n is the chunk's count. A query
 * that ends inside a segment stops decoding there. *used is the chunk's end
 * only when all of it was decoded. */
int pane_chunk_decode_prefix(const uint8_t *p, size_t len, int64_t *ts, double *v, size_t cap, size_t want, size_t *n,
                             size_t *used);

/* Segment: wraps concatenated chunks (raw) into a blob, zstd when it pays.
 * level: zstd level. */
int pane_segment_pack(const void *raw, size_t len, int level, struct pane_buf *out);
/* Unwraps a blob into raw chunks (bounded by max_raw). 0 or PANE_EINVAL. */
int pane_segment_unpack(const void *blob, size_t len, size_t max_raw, struct pane_buf *out);
/* The same with a reusable decompression context (readers that unpack many
 * segments: creating a zstd context per call dominates otherwise). */
struct pane_unpacker;
struct pane_unpacker *pane_unpacker_new(void);
void pane_unpacker_free(struct pane_unpacker *u);
int pane_segment_unpack_with(struct pane_unpacker *u, const void *blob, size_t len, size_t max_raw,
                             struct pane_buf *out);

/* Varints (exposed for the WAL). put returns bytes written (<= 10). get
 * returns bytes read or 0 on malformed/short input. */
size_t pane_uvarint_put(uint8_t *p, uint64_t v);
size_t pane_uvarint_get(const uint8_t *p, size_t len, uint64_t *v);
/* Appends v as a varint to b: 0 or PANE_ETOOBIG from the buffer. */
int pane_uvarint_add(struct pane_buf *b, uint64_t v);

/* A bounded reader of a payload: a read past len sets bad and gives 0. */
struct pane_rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};
static inline uint64_t pane_rd_uv(struct pane_rd *r)
{
	/* one byte (a regular interval's timestamps, small increments): what
	 * pane_uvarint_get gives, without the call */
	if (r->off < r->len && r->p[r->off] < 0x80 && !r->bad)
		return r->p[r->off++];
	uint64_t v = 0;
	size_t k = r->bad ? 0 : pane_uvarint_get(r->p + r->off, r->len - r->off, &v);
	if (!k) {
		r->bad = true;
		return 0;
	}
	r->off += k;
	return v;
}

/* Decimal forms: v == m / 10^k bit for bit, |m| < 2^53, k <= PANE_DEC_KMAX
 * (pane_p10[k] is 10^k). */
#define PANE_DEC_KMAX PANE_P10_MAX
bool pane_dec_fits(double v, int k, int64_t *m);

/* A double's bit pattern and back (bit-exact: NaN payloads, -0.0). */
static inline uint64_t pane_f64_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}
static inline double pane_bits_f64(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}
/* A double's ordered integer: its bit pattern as sign-magnitude, turned
 * into two's complement, so integer order is the doubles' order (+0.0 is
 * 0, -0.0 is -1) and a difference counts the doubles between two values.
 * A bijection on all 2^64 patterns (NaN payloads included). */
static inline int64_t pane_f64_ordered(double d)
{
	int64_t s = (int64_t)pane_f64_bits(d);
	return s < 0 ? s ^ INT64_MAX : s;
}
static inline double pane_ordered_f64(int64_t s)
{
	return pane_bits_f64((uint64_t)(s < 0 ? s ^ INT64_MAX : s));
}
static inline uint64_t pane_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t pane_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* CRC-32C (Castagnoli): SSE4.2's crc32 instruction when the CPU has it,
 * else pane_crc32c_portable (table-driven, 8 bytes a step; the same
 * values, which tests compare). */
uint32_t pane_crc32c(uint32_t crc, const void *data, size_t len);
uint32_t pane_crc32c_portable(uint32_t crc, const void *data, size_t len);

#endif
