/* fuzz_store_chunk.c - the chunk decoder (whole and prefix) and segment
 * unpacker never read out of bounds or crash on arbitrary bytes; what
 * decodes re-encodes exactly, and its prefixes decode the same. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int64_t ts[PANE_CHUNK_MAX], ts2[PANE_CHUNK_MAX];
	static double v[PANE_CHUNK_MAX], v2[PANE_CHUNK_MAX];
	size_t n, used;
	if (pane_chunk_decode(data, size, ts, v, PANE_CHUNK_MAX, &n, &used) == 0) {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		if (pane_chunk_encode(ts, v, n, -1, &b) >= 0) {
			size_t n2, u2;
			if (pane_chunk_decode((const uint8_t *)b.data, b.len, ts2, v2, PANE_CHUNK_MAX, &n2, &u2) != 0 ||
			    n2 != n || memcmp(ts, ts2, n * sizeof *ts) != 0 || memcmp(v, v2, n * sizeof *v) != 0)
				__builtin_trap();
		}
		pane_buf_release(&b);
		/* a prefix of what decodes whole decodes to the same values */
		size_t want = size ? 1 + data[size - 1] % n : 1, n3, u3;
		if (pane_chunk_decode_prefix(data, size, ts2, v2, PANE_CHUNK_MAX, want, &n3, &u3) != 0 || n3 != n ||
		    memcmp(v, v2, want * sizeof *v) != 0)
			__builtin_trap();
	} else {
		/* a prefix of what does not decode never reads out of bounds either */
		size_t n3, u3;
		pane_chunk_decode_prefix(data, size, ts2, v2, PANE_CHUNK_MAX, size ? 1 + data[0] : 1, &n3, &u3);
	}
	struct pane_buf out;
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	pane_segment_unpack(data, size, 1 << 20, &out);
	pane_buf_release(&out);
	return 0;
}
