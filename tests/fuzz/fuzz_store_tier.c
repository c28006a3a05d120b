/* fuzz_store_tier.c - the tier blob decoder (tiers.c, both formats) and
 * the segment's tier region reader never read out of bounds or crash on
 * arbitrary bytes, leave the bucket list as it was when they refuse them,
 * and what a raw format-2 blob decodes to encodes again and decodes to
 * the same bits. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct bucket *a, const struct bucket *b)
{
	return a->t == b->t && a->last_ts == b->last_ts && pane_f64_bits(a->count) == pane_f64_bits(b->count) &&
	       pane_f64_bits(a->min) == pane_f64_bits(b->min) && pane_f64_bits(a->max) == pane_f64_bits(b->max) &&
	       pane_f64_bits(a->sum) == pane_f64_bits(b->sum) && pane_f64_bits(a->last) == pane_f64_bits(b->last);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int64_t tb[PANE_CHUNK_MAX];
	static double vb[PANE_CHUNK_MAX];
	static struct pane_unpacker *u;
	if (!u)
		u = pane_unpacker_new();
	uint8_t *blob = malloc(size ? size : 1); /* exactly size bytes: ASan sees any read past them */
	memcpy(blob, data, size);
	struct pane_buf scratch;
	pane_buf_init(&scratch, PANE_BUF_NOLIMIT);
	struct bucket_list l = {0};
	ps_blist_add(&l, &(struct bucket){.t = 1});
	bool good = ps_tier_decode_blob(u, blob, size, &scratch, tb, vb, &l);
	if (memcmp(blob, data, size) != 0 || (!good && l.n != 1))
		__builtin_trap();
	uint64_t code;
	size_t k = size > 1 && data[0] == 0x10 ? pane_uvarint_get(data + 1, size - 1, &code) : 0;
	if (good && k) {
		int64_t step = code == 0 ? ps_tier_steps[0] : code == 1 ? ps_tier_steps[1] : (int64_t)(code - 2);
		struct pane_buf again;
		pane_buf_init(&again, PANE_BUF_NOLIMIT);
		if (ps_tier_encode(l.b + 1, l.n - 1, step, 1, &again) != 0)
			__builtin_trap();
		struct bucket_list l2 = {0};
		if (!ps_tier_decode_blob(u, (uint8_t *)again.data, again.len, &scratch, tb, vb, &l2) || l2.n != l.n - 1)
			__builtin_trap();
		for (size_t i = 0; i < l2.n; i++)
			if (!same(&l2.b[i], &l.b[i + 1]))
				__builtin_trap();
		free(l2.b);
		pane_buf_release(&again);
	}
	/* the same bytes as a segment's tier region, for either step */
	for (int step = 0; step < 2; step++) {
		l.n = 1;
		bool rgood = ps_tier_region_decode(u, blob, size, ps_tier_steps[step], &scratch, tb, vb, &l);
		if (memcmp(blob, data, size) != 0 || (!rgood && l.n != 1))
			__builtin_trap();
	}
	free(l.b);
	pane_buf_release(&scratch);
	free(blob);
	return 0;
}
