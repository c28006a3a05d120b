/* fuzz_prom_series.c - the Prometheus series parser (pane import, self-metrics)
 * accepts or refuses any bytes without crashing or leaking. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "store/promtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pane_labels ls;
	pane_labels_init(&ls);
	char *name = NULL;
	const char *msg = NULL;
	if (pane_prom_parse_series((const char *)data, size, &name, &ls, &msg) == 0 && !name)
		__builtin_trap();
	free(name);
	pane_labels_release(&ls);
	pane_labels_init(&ls);
	pane_prom_parse_labels((const char *)data, size, &ls, &msg);
	pane_labels_release(&ls);
	return 0;
}
