/*
 * utf8.c - UTF-8 validation (see utf8.h): one decoder loop that checks
 * the sequence length, continuation bytes, overlong forms, surrogates and
 * the U+10FFFF ceiling, byte by byte, without allocating.
 */
#include "base/utf8.h"

#include <stdint.h>

bool pane_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;
	while (p < e) {
		unsigned char c = *p;
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t n;
		uint32_t cp;
		if ((c & 0xE0) == 0xC0) {
			n = 2;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			n = 3;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			n = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(e - p) < n)
			return false;
		for (size_t i = 1; i < n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		p += n;
	}
	return true;
}
