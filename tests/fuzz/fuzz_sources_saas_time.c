/* fuzz_sources_saas_time.c - the provider timestamp parser of the Render and
 * Sentry sources (RFC 3339 with microseconds, epoch seconds) must never
 * crash or read out of bounds, whatever the text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "sources/saas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	int64_t us = 0;
	(void)pane_time_parse_us(s, &us);
	free(s);
	return 0;
}
