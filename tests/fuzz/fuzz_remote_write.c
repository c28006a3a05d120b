/* fuzz_remote_write.c - remote_write protobuf decoding (and snappy) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "receivers/remote_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nop(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	(void)arg; (void)s; (void)n; (void)err;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pane_rw_result r;
	pane_remote_write_decode((const char *)data, size, nop, NULL, &r, NULL);
	char *out = NULL;
	size_t len = 0;
	if (pane_snappy_decode((const char *)data, size, 1u << 20, &out, &len, NULL) == 0) {
		pane_remote_write_decode(out, len, nop, NULL, &r, NULL);
		free(out);
	}
	return 0;
}
