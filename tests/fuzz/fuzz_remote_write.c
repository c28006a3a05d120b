/* fuzz_remote_write.c - remote_write protobuf decoding (and snappy) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "receivers/remote_write.h"
#include "base/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nop(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	(void)arg;
	(void)s;
	(void)n;
	(void)err;
	return 0;
}

static int check_meta(void *arg, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	(void)arg;
	(void)err;
	for (size_t i = 0; i < n; i++)
		if (!pane_metric_name_valid(m[i].name, strlen(m[i].name)) ||
		    strlen(m[i].help) > PANE_METADATA_HELP_MAX || !pane_utf8_valid(m[i].help, strlen(m[i].help)) ||
		    m[i].type > PANE_METRIC_STATESET)
			__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pane_rw_result r;
	pane_remote_write_decode_meta((const char *)data, size, nop, NULL, check_meta, NULL, &r, NULL);
	char *out = NULL;
	size_t len = 0;
	if (pane_snappy_decode((const char *)data, size, 1u << 20, &out, &len, NULL) == 0) {
		pane_remote_write_decode(out, len, nop, NULL, &r, NULL);
		free(out);
	}
	return 0;
}
