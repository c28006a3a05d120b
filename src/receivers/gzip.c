/*
 * gzip.c - bounded gzip inflation for push bodies (see gzip.h).
 *
 * Idea: the output grows by doubling up to the caller's maximum, never
 * past it; the gzip trailer (CRC-32, length) is checked by zlib, so a
 * corrupt body is refused instead of half-parsed. windowBits 15 + 32 lets
 * zlib take gzip or zlib headers, which is what senders that say "gzip"
 * really send.
 */
#include "receivers/gzip.h"

#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "base/mem.h"

int pane_gzip_decode(const char *in, size_t len, size_t max, char **out, size_t *out_len, struct pane_err *err)
{
	*out = NULL;
	*out_len = 0;
	z_stream z = {0};
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return pane_err_set(err, PANE_EIO, "zlib could not start");
	size_t cap = len * 4 < 4096 ? 4096 : len * 4, n = 0;
	if (cap > max + 1)
		cap = max + 1;
	char *buf = pane_xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)in;
	int rc = Z_OK;
	size_t left = len;
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				rc = PANE_ETOOBIG;
				break;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			buf = pane_xrealloc(buf, cap);
		}
		uInt chunk = left > UINT32_MAX ? UINT32_MAX : (uInt)left;
		z.avail_in = chunk;
		z.next_out = (Bytef *)buf + n;
		z.avail_out = (uInt)(cap - n > UINT32_MAX ? UINT32_MAX : cap - n);
		uInt before_out = z.avail_out;
		int zr = inflate(&z, Z_NO_FLUSH);
		left -= chunk - z.avail_in;
		n += before_out - z.avail_out;
		if (n > max) {
			rc = PANE_ETOOBIG;
			break;
		}
		if (zr == Z_STREAM_END) {
			if (left == 0)
				break;
			if (inflateReset(&z) != Z_OK) { /* another gzip member follows */
				rc = PANE_EINVAL;
				break;
			}
			continue;
		}
		if (zr == Z_BUF_ERROR && left == 0 && z.avail_out) {
			rc = PANE_EINVAL; /* truncated */
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = PANE_EINVAL;
			break;
		}
	}
	inflateEnd(&z);
	if (rc == PANE_ETOOBIG) {
		free(buf);
		return pane_err_set(err, PANE_ETOOBIG, "gzip body inflates to more than %zu bytes", max);
	}
	if (rc < 0) {
		free(buf);
		return pane_err_set(err, PANE_EINVAL, "body is not valid gzip data");
	}
	*out = buf;
	*out_len = n;
	return 0;
}
