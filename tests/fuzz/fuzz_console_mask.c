/* fuzz_console_mask.c - "what changed?" log templates: masking and Drain
 * grouping of arbitrary bytes never crash, masking is idempotent-safe (a
 * masked line masks again without growing past its bound), and the JSON
 * written for the templates is complete. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "console/changes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	struct pane_buf b;
	pane_buf_init(&b, 1 << 20);
	pane_console_mask((const char *)data, size, &b);
	struct pane_buf again;
	pane_buf_init(&again, 1 << 20);
	pane_console_mask(b.data ? b.data : "", b.len, &again);
	pane_buf_release(&again);
	pane_buf_release(&b);

	/* each line of the input is a log line, alternating windows */
	struct pane_console_templates *t = pane_console_templates_new();
	size_t start = 0;
	int which = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			pane_console_templates_add(t, (const char *)data + start, i - start, "info", which);
			which ^= 1;
			start = i + 1;
		}
	}
	struct pane_buf j;
	pane_buf_init(&j, 16 << 20);
	pane_console_templates_json(t, 25, &j);
	if (j.len < 2 || j.data[0] != '[' || j.data[j.len - 1] != ']')
		abort();
	pane_buf_release(&j);
	pane_console_templates_free(t);
	return 0;
}
