/* fuzz_store_hstream.c - the head-stream decoder never reads out of bounds
 * or crashes on arbitrary bytes; any sample sequence (taken from the input)
 * round-trips bit for bit across block takes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/hstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXN 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int64_t ts[MAXN], ts2[MAXN];
	static double v[MAXN], v2[MAXN];
	static uint8_t bytes[MAXN * PANE_HS_SAMPLE_MAX + PANE_HS_TAIL];
	static struct pane_hs_anchor anc[MAXN];
	size_t nanc = 0;
	/* 1. the input as a stream: first byte = how many samples to ask for;
	 * and again from an anchor made of the next bytes */
	if (size) {
		size_t n = (size_t)data[0] * 8;
		pane_hstream_decode(data + 1, size - 1, n < MAXN ? n : MAXN, ts, v);
		if (size > 1 + sizeof(struct pane_hs_anchor)) {
			struct pane_hs_anchor a;
			memcpy(&a, data + 1, sizeof a);
			pane_hstream_decode_from(data + 1 + sizeof a, size - 1 - sizeof a, &a, n < MAXN ? n : MAXN, ts,
			                         v);
		}
	}
	/* 2. the input as samples: 1 control byte + up to 8 + 8 bytes each;
	 * control picks small timestamp steps or raw bits, repeats or raw values */
	size_t n = 0, off = 0;
	int64_t t = 0;
	double last = 0;
	while (off < size && n < MAXN) {
		uint8_t c = data[off++];
		uint64_t a = 0, b = 0;
		size_t ka = c & 1 ? 8 : 1, kb = c & 2 ? 8 : 2;
		for (size_t i = 0; i < ka && off < size; i++)
			a = a << 8 | data[off++];
		for (size_t i = 0; i < kb && off < size; i++)
			b = b << 8 | data[off++];
		t = c & 1 ? (int64_t)a : t + (int64_t)(int8_t)a * 1000;
		ts[n] = t;
		if (c & 4)
			v[n] = last;
		else if (c & 2)
			memcpy(&v[n], &b, 8);
		else
			v[n] = (double)(int16_t)b / (c & 8 ? 100.0 : 1.0);
		last = v[n++];
	}
	struct pane_hstream h;
	pane_hstream_init(&h);
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		if (pane_hstream_full(&h)) {
			pane_hstream_take(&h, bytes + len, &anc[nanc++]);
			len += PANE_HS_BLOCK;
		}
		pane_hstream_append(&h, ts[i], v[i]);
	}
	size_t tl = pane_hstream_tail_len(&h);
	memcpy(bytes + len, h.tail, tl);
	len += tl;
	if (pane_hstream_decode(bytes, len, n, ts2, v2) != 0 || memcmp(ts, ts2, n * sizeof *ts) != 0 ||
	    memcmp(v, v2, n * sizeof *v) != 0)
		__builtin_trap();
	/* and from every block's anchor, the samples from its idx on */
	for (size_t k = 0; k < nanc; k++) {
		size_t off = k * PANE_HS_BLOCK, i0 = anc[k].idx;
		if (i0 >= n || pane_hstream_decode_from(bytes + off, len - off, &anc[k], n - i0, ts2, v2) != 0 ||
		    memcmp(ts + i0, ts2, (n - i0) * sizeof *ts) != 0 || memcmp(v + i0, v2, (n - i0) * sizeof *v) != 0)
			__builtin_trap();
	}
	return 0;
}
