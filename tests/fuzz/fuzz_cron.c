/* fuzz_cron.c - cron expressions: parsing never crashes, and any accepted
 * expression yields a next tick after t or -1. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256)
		return 0;
	char s[257];
	memcpy(s, data, size);
	s[size] = 0;
	struct pane_cron c;
	char why[160];
	if (pane_cron_parse(s, &c, why, sizeof why) == 0) {
		int64_t n = pane_cron_next(&c, 1764333296LL);
		if (n != -1 && n <= 1764333296LL)
			abort();
	}
	return 0;
}
