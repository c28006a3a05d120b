/*
 * buf.c - growable byte buffer with a maximum size (see buf.h).
 *
 * Growth doubles the capacity (amortised O(1) appends) but never reserves
 * past max + 1, so a buffer bounded at 1 MiB never holds 2 MiB of memory.
 * The static empty string keeps invariant (1) without allocating for buffers
 * that stay empty, which most error-path buffers do.
 */
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

static char empty[1];

void pane_buf_init(struct pane_buf *b, size_t max)
{
	b->data = empty;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void pane_buf_release(struct pane_buf *b)
{
	if (b->cap)
		free(b->data);
	pane_buf_init(b, b->max);
}

void pane_buf_reset(struct pane_buf *b)
{
	b->len = 0;
	if (b->cap) /* never write the shared static "": other threads read it */
		b->data[0] = '\0';
}

char *pane_buf_detach(struct pane_buf *b, size_t *len_out)
{
	char *p;
	if (len_out)
		*len_out = b->len;
	if (b->cap)
		p = b->data;
	else
		p = pane_xstrdup("");
	pane_buf_init(b, b->max);
	return p;
}

int pane_buf_grow(struct pane_buf *b, size_t extra)
{
	if (extra > b->max - b->len)
		return PANE_ETOOBIG;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (b->max != PANE_BUF_NOLIMIT && cap > b->max + 1)
		cap = b->max + 1;
	if (b->cap) {
		b->data = pane_xrealloc(b->data, cap);
	} else {
		b->data = pane_xmalloc(cap);
		b->data[0] = '\0';
	}
	b->cap = cap;
	return 0;
}

int pane_buf_add(struct pane_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (pane_buf_grow(b, len) < 0)
		return PANE_ETOOBIG;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int pane_buf_adds(struct pane_buf *b, const char *s)
{
	return pane_buf_add(b, s, strlen(s));
}

int pane_buf_addc(struct pane_buf *b, char c)
{
	return pane_buf_add(b, &c, 1);
}

int pane_buf_addvf(struct pane_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	char small[256];
	int n = vsnprintf(small, sizeof small, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return PANE_EINVAL;
	if ((size_t)n < sizeof small)
		return pane_buf_add(b, small, (size_t)n);
	if (pane_buf_grow(b, (size_t)n) < 0)
		return PANE_ETOOBIG;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int pane_buf_addf(struct pane_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = pane_buf_addvf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if it is invalid. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t n;
	unsigned min;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0) {
		n = 2;
		cp = c & 0x1F;
		min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3;
		cp = c & 0x0F;
		min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

int pane_buf_add_go_quoted(struct pane_buf *b, const char *s)
{
	int rc = pane_buf_addc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
		switch (*p) {
		case '"': rc = pane_buf_adds(b, "\\\""); break;
		case '\\': rc = pane_buf_adds(b, "\\\\"); break;
		case '\n': rc = pane_buf_adds(b, "\\n"); break;
		case '\t': rc = pane_buf_adds(b, "\\t"); break;
		case '\r': rc = pane_buf_adds(b, "\\r"); break;
		case '\a': rc = pane_buf_adds(b, "\\a"); break;
		case '\b': rc = pane_buf_adds(b, "\\b"); break;
		case '\f': rc = pane_buf_adds(b, "\\f"); break;
		case '\v': rc = pane_buf_adds(b, "\\v"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				rc = pane_buf_addf(b, "\\x%02x", *p);
			else
				rc = pane_buf_addc(b, (char)*p);
		}
	}
	return rc ? rc : pane_buf_addc(b, '"');
}

int pane_buf_add_json_str(struct pane_buf *b, const char *s, size_t len)
{
	size_t start = b->len;
	const unsigned char *u = (const unsigned char *)s;
	int rc = pane_buf_addc(b, '"');
	for (size_t i = 0; rc == 0 && i < len;) {
		unsigned char c = u[i];
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			rc = pane_buf_add(b, esc, 2);
			i++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': rc = pane_buf_add(b, "\\n", 2); break;
			case '\r': rc = pane_buf_add(b, "\\r", 2); break;
			case '\t': rc = pane_buf_add(b, "\\t", 2); break;
			default: rc = pane_buf_addf(b, "\\u%04x", c); break;
			}
			i++;
		} else {
			size_t n = utf8_seq(u + i, len - i);
			if (n == 0) {
				rc = pane_buf_add(b, "\xEF\xBF\xBD", 3);
				i++;
			} else {
				rc = pane_buf_add(b, u + i, n);
				i += n;
			}
		}
	}
	if (rc == 0)
		rc = pane_buf_addc(b, '"');
	if (rc < 0)
		pane_buf_truncate(b, start);
	return rc;
}

void pane_buf_truncate(struct pane_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}
