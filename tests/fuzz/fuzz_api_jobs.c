/* fuzz_api_jobs.c - the jobs API's request parser: any body must either be
 * refused with a status and message or produce elements that are valid JSON
 * once bracketed (what enqueue_many receives). */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "api/internal.h"
#include "base/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pane_buf out;
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	char code[32], msg[512];
	bool array;
	int n = pane_api_parse_jobs((const char *)data, size, "fuzz", NULL, &out, &array, code, sizeof code, msg,
	                            sizeof msg);
	if (n > 0) {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		pane_buf_addc(&b, '[');
		pane_buf_add(&b, out.data, out.len);
		pane_buf_addc(&b, ']');
		json_t *j = json_loadb(b.data, b.len, 0, NULL);
		if (!j || json_array_size(j) != (size_t)n)
			abort();
		json_decref(j);
		pane_buf_release(&b);
	} else if (n != -400 && n != -413) {
		abort();
	}
	pane_buf_release(&out);
	return 0;
}
