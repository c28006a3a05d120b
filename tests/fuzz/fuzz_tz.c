/* fuzz_tz.c - the TZif reader (notify/tz.c): any bytes either parse or fail
 * with a message, never crash; a parsed zone answers offsets anywhere in
 * time within a day of UTC. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "notify/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pane_err err = {0};
	struct pane_tz *tz = pane_tz_parse(data, size, &err);
	if (!tz) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	static const int64_t ts[] = {INT64_MIN / 2, -5000000000LL, -1, 0, 1711846800, 4102444800LL, INT64_MAX / 2};
	for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
		int32_t off = pane_tz_offset(tz, ts[i]);
		if (off < -7 * 24 * 3600 || off > 7 * 24 * 3600)
			abort();
	}
	pane_tz_free(tz);
	return 0;
}
