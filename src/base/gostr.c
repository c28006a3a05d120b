/*
 * gostr.c - Go string literals decoded (gostr.h): one scanner for the
 * PromQL and LogQL lexers.
 *
 * Idea: the grammar of a Go literal is one idea, the wording of its errors
 * is each query language's. So the scan reports a status and two offsets
 * (where Prometheus points, and the escape's backslash, which is where
 * pane's LogQL points) and each parser turns them into its own message.
 * This beats a message table with a dialect flag: a parser's errors stay
 * next to its other errors, and the decoder has no idea who calls it.
 *
 * Invariants:
 *   1. The value never outgrows out's maximum: the caller bounds out by the
 *      query size, and a decoded literal is never longer than its text.
 *   2. No allocation besides out's; no state between calls (any thread).
 */
#include "base/gostr.h"

int pane_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void pane_buf_add_utf8(struct pane_buf *b, uint32_t cp)
{
	if (cp < 0x80) {
		pane_buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		pane_buf_addc(b, (char)(0xC0 | (cp >> 6)));
		pane_buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		pane_buf_addc(b, (char)(0xE0 | (cp >> 12)));
		pane_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		pane_buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	} else {
		pane_buf_addc(b, (char)(0xF0 | (cp >> 18)));
		pane_buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
		pane_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		pane_buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	}
}

static size_t fail(struct pane_gostr_error *e, enum pane_gostr_status st, size_t at, size_t escape, unsigned char ch)
{
	*e = (struct pane_gostr_error){.status = st, .at = at, .escape = escape, .ch = ch};
	return 0;
}

static int simple_escape(char c)
{
	switch (c) {
	case 'a': return '\a';
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'v': return '\v';
	case '\\': return '\\';
	default: return -1;
	}
}

size_t pane_go_unquote(const char *s, size_t len, struct pane_buf *out, struct pane_gostr_error *e)
{
	if (len == 0 || (s[0] != '"' && s[0] != '\'' && s[0] != '`'))
		return fail(e, PANE_GOSTR_UNTERMINATED, 0, 0, 0);
	char q = s[0];
	size_t i = 1;
	for (;;) {
		if (i >= len)
			return fail(e, PANE_GOSTR_UNTERMINATED, 0, 0, 0);
		char c = s[i];
		if (c == q)
			return i + 1;
		if (q != '`' && c == '\n')
			return fail(e, PANE_GOSTR_UNTERMINATED, 0, 0, 0);
		if (q == '`' || c != '\\') {
			pane_buf_addc(out, c);
			i++;
			continue;
		}
		size_t bs = i; /* the backslash */
		if (i + 1 >= len)
			return fail(e, PANE_GOSTR_UNTERMINATED, bs, 0, 0);
		char x = s[i + 1];
		i += 2;
		int v = simple_escape(x);
		if (v >= 0 || x == q) {
			pane_buf_addc(out, v >= 0 ? (char)v : x);
		} else if (x == 'x' || x == 'u' || x == 'U') {
			int nd = x == 'x' ? 2 : x == 'u' ? 4 : 8;
			uint32_t cp = 0;
			for (int k = 0; k < nd; k++, i++) {
				int h = i < len ? pane_hexval((unsigned char)s[i]) : -1;
				if (h < 0)
					return fail(e, PANE_GOSTR_BAD_DIGIT, i, bs, 0);
				cp = cp * 16 + (uint32_t)h;
			}
			if (x == 'x')
				pane_buf_addc(out, (char)cp);
			else if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
				return fail(e, PANE_GOSTR_BAD_CODEPOINT, i, bs, 0);
			else
				pane_buf_add_utf8(out, cp);
		} else if (x >= '0' && x <= '7') {
			uint32_t o = (uint32_t)(x - '0');
			for (int k = 0; k < 2; k++, i++) {
				if (i >= len || s[i] < '0' || s[i] > '7')
					return fail(e, PANE_GOSTR_BAD_DIGIT, i, bs, 0);
				o = o * 8 + (uint32_t)(s[i] - '0');
			}
			if (o > 255)
				return fail(e, PANE_GOSTR_OCTAL_RANGE, i, bs, 0);
			pane_buf_addc(out, (char)o);
		} else {
			return fail(e, PANE_GOSTR_UNKNOWN_ESCAPE, bs, bs, (unsigned char)x);
		}
	}
}
