/* fuzz_sources_promtext.c - the sources' Prometheus text parser must never
 * crash, leak or read out of bounds, whatever the exposition. */
#include <stddef.h>
#include <stdint.h>

#include "sources/promtext.h"

static int on_sample(void *arg, const char *name, const struct pane_labels *labels, double value, int64_t ts)
{
	(void)name, (void)value, (void)ts;
	size_t *n = arg;
	*n += labels->n + 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	struct pane_err err = {0};
	pane_promtext_parse((const char *)data, size, on_sample, &n, &err);
	return 0;
}
