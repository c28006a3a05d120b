/* fuzz_template.c - libFuzzer target: Prometheus alert templates (Go
 * text/template subset) parse and run without crashing, leaking or
 * overflowing, whatever the bytes; output stays within its bound. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert/template.h"
#include "base/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	char *text = pane_xstrndup((const char *)data, size);
	struct pane_err err;
	struct pane_labels ls, ext;
	pane_labels_init(&ls);
	pane_labels_init(&ext);
	pane_labels_set(&ls, "__name__", "up");
	pane_labels_set(&ls, "instance", "host:9090");
	pane_labels_set(&ls, "job", "api");
	pane_labels_set(&ext, "cluster", "eu1");
	if (pane_tmpl_check("__alert_Fuzz", text, &err) == 0) {
		struct pane_tmpl_data d = {
		    .labels = &ls, .external_labels = &ext, .external_url = "http://x/y", .value = 1234.5};
		struct pane_buf out;
		pane_buf_init(&out, 1 << 20);
		pane_tmpl_expand("__alert_Fuzz", text, &d, &out, &err);
		pane_buf_release(&out);
	}
	pane_labels_release(&ls);
	pane_labels_release(&ext);
	free(text);
	return 0;
}
