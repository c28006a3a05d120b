/* fuzz_redact.c - pane_redact on arbitrary text and buffer sizes: never
 * writes past the buffer, always leaves a NUL-terminated string, and
 * redacting twice changes nothing more (idempotent). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	/* first byte: the buffer's spare room, so truncation paths are reached */
	size_t len = size - 1, cap = len + 1 + (data[0] % 8);
	char *buf = malloc(cap), *again = malloc(cap);
	if (!buf || !again)
		abort();
	memcpy(buf, data + 1, len);
	buf[len] = '\0';
	pane_redact(buf, cap);
	if (strnlen(buf, cap) >= cap)
		abort();
	memcpy(again, buf, cap);
	pane_redact(again, cap);
	if (strcmp(buf, again) != 0)
		abort();
	free(buf);
	free(again);
	return 0;
}
