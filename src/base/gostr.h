/*
 * gostr.h - Go string literals decoded, the one implementation.
 *
 * PromQL (src/query/parse.c) and LogQL (src/logql/parse.c) both take
 * strings as Go writes them: "..." and '...' with Go's escapes, `...` raw.
 * Each parser words its own errors (Prometheus' and Loki's), so this
 * decoder answers with what went wrong and where, never with a message.
 */
#ifndef PANE_BASE_GOSTR_H
#define PANE_BASE_GOSTR_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

enum pane_gostr_status {
	PANE_GOSTR_OK = 0,
	PANE_GOSTR_UNTERMINATED,   /* the input ends (or, in "..." and '...', a line ends) before the closing quote */
	PANE_GOSTR_UNKNOWN_ESCAPE, /* a backslash before a character that starts no escape (or the other quote) */
	PANE_GOSTR_BAD_DIGIT,      /* \x, \u, \U or \NNN with a character that is not one of its digits */
	PANE_GOSTR_BAD_CODEPOINT,  /* \u or \U beyond U+10FFFF or a surrogate half */
	PANE_GOSTR_OCTAL_RANGE,    /* \NNN above 255 */
};

struct pane_gostr_error {
	enum pane_gostr_status status;
	/* Offsets from the opening quote (s[0]):
	 *   at     where Prometheus' lexer points: the opening quote for an
	 *          unterminated string (a lone backslash at the end: the
	 *          backslash), the backslash for an unknown escape, the bad
	 *          digit, or just past the digits of an out-of-range value;
	 *   escape the backslash of the failing escape (0 when unterminated). */
	size_t at, escape;
	unsigned char ch; /* UNKNOWN_ESCAPE: the character after the backslash */
};

/* Decodes the literal at s[0..len) whose first byte is its quote ('"',
 * '\'' or '`'; other bytes are UNTERMINATED at 0). Escapes, in "..." and
 * '...' only: \a \b \f \n \r \t \v \\, the literal's own quote, \xNN and
 * \NNN (octal, at most 255; one byte each, not necessarily UTF-8), \uXXXX
 * and \UXXXXXXXX (a code point, written as UTF-8). A newline ends "..." and
 * '...' unterminated; `...` takes everything up to the next backquote.
 *
 * Appends the value to out (which must hold it: its maximum bounds the
 * literal) and returns the literal's length including both quotes; on
 * failure returns 0 and fills *e (out then holds a prefix). */
size_t pane_go_unquote(const char *s, size_t len, struct pane_buf *out, struct pane_gostr_error *e);

/* The value of a hexadecimal digit, -1 for any other character. */
int pane_hexval(int c);

/* Appends code point cp (at most 0x10FFFF) to b as UTF-8. */
void pane_buf_add_utf8(struct pane_buf *b, uint32_t cp);

#endif
