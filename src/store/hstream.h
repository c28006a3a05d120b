/*
 * hstream.h - a series' head as one bit stream, encoded sample by sample.
 *
 * The head of a series (the samples of its current 24 h window not yet in a
 * segment) is kept compressed from the first sample on instead of as raw
 * arrays: a timestamp costs ~1 byte (delta-of-delta), a counter value ~2
 * bytes (integer or 1/100 deltas), anything else a Gorilla XOR. The stream
 * is append-only and its bytes never change once written, so the store can
 * move full blocks of it out of memory (the head file) and keep only the
 * tail here.
 *
 * Format (bits, most significant first within each byte):
 *   sample 0:  ts as 64 bits, value as 64 bits
 *   sample k:  dod = (ts - prev_ts) - prev_delta
 *                '0' dod = 0 | '10' 7 bits | '110' 14 bits | '1110' 24 bits
 *                | '1111' 64 bits, of zigzag(dod)
 *              value
 *                '0'   same bits as the previous value
 *                '10'  integer delta: both values are exact integers
 *                      (|v| < 2^53, not -0.0); zigzag(delta) as
 *                      '0' 6 | '10' 13 | '110' 20 | '111' 64 bits
 *                '110' the same for m/100 (value == (double)m / 100 exactly)
 *                '111' XOR with the previous bits: 6 bits of leading zeros,
 *                      6 bits of (meaningful length - 1), the meaningful bits
 * Each full block has an anchor (struct pane_hs_anchor, handed out with the
 * block): the first sample that starts in it and the decoder's state
 * before that sample, so decoding can start at any block.
 * Every value is bit-exact (NaN payloads, the stale marker, -0.0, +-Inf):
 * the decimal forms are only chosen when they round-trip, decided by the
 * same functions on both sides. Timestamps may go backwards (out-of-order
 * writes): the delta is signed.
 *
 * Ownership: struct pane_hstream is a plain value (no heap); the bytes
 * taken out by pane_hstream_take belong to the caller. Not thread-safe.
 */
#ifndef PANE_STORE_HSTREAM_H
#define PANE_STORE_HSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes moved out of the tail at a time (one head-file block's payload). */
#define PANE_HS_BLOCK 60
/* Longest encoding of one sample: 4 + 64 bits of timestamp, 3 + 12 + 64 of value. */
#define PANE_HS_SAMPLE_MAX 19
#define PANE_HS_TAIL (PANE_HS_BLOCK + PANE_HS_SAMPLE_MAX + 1)

/* Where decoding can start inside a block: sample idx begins at bit bit of
 * the block, and t, dt, v are the decoder's state before it (the previous
 * sample's timestamp, timestamp delta and value bits; unused for idx 0,
 * the stream's first sample, which is absolute). Every full block has one:
 * a sample is at most PANE_HS_SAMPLE_MAX bytes, a block longer. */
struct pane_hs_anchor {
	int64_t t, dt;
	uint64_t v;
	uint32_t idx;
	uint16_t bit;
};

struct pane_hstream {
	struct pane_hs_anchor anc; /* of the tail's first block, once a sample starts in it */
	bool anchored;
	int64_t t;      /* last timestamp */
	int64_t dt;     /* last timestamp delta */
	uint64_t v;     /* last value's bits */
	uint32_t n;     /* samples in the whole stream */
	uint16_t nbits; /* bits used in tail */
	uint8_t tail[PANE_HS_TAIL];
};

/* An empty stream. */
void pane_hstream_init(struct pane_hstream *h);
/* True when PANE_HS_BLOCK whole bytes are in the tail: take them before the
 * next append. */
static inline bool pane_hstream_full(const struct pane_hstream *h)
{
	return h->nbits >= PANE_HS_BLOCK * 8;
}
/* Appends one sample. The tail must not be full (pane_hstream_full). */
void pane_hstream_append(struct pane_hstream *h, int64_t ts, double v);
/* Moves the first PANE_HS_BLOCK bytes of the tail to out (which must hold
 * PANE_HS_BLOCK bytes), and their block's anchor to a. Only when full. */
void pane_hstream_take(struct pane_hstream *h, uint8_t *out, struct pane_hs_anchor *a);
/* Bytes of the tail that hold data ((nbits + 7) / 8). */
static inline size_t pane_hstream_tail_len(const struct pane_hstream *h)
{
	return ((size_t)h->nbits + 7) / 8;
}

/* Decodes n samples from the stream's bytes p[0..len) (the taken blocks in
 * order, then the tail) into ts and v. 0, or PANE_EINVAL when the bytes end
 * early or are malformed (never reads past len). */
int pane_hstream_decode(const uint8_t *p, size_t len, size_t n, int64_t *ts, double *v);
/* The same from an anchor: p[0..len) starts with the anchor's block, and n
 * samples (the stream's n - a->idx last ones) are decoded into ts and v. */
int pane_hstream_decode_from(const uint8_t *p, size_t len, const struct pane_hs_anchor *a, size_t n, int64_t *ts,
                             double *v);

#endif
