/*
 * buf.h - the one growable byte buffer / string builder.
 *
 * Invariants (hold after every call, including failed ones):
 *   (1) data is never NULL once initialised: an empty buffer points at a
 *       static "" so it can be printed without a check;
 *   (2) data[len] == '\0' always, so the contents are a C string as long as
 *       no NUL byte was appended (binary data is fine; use len);
 *   (3) len <= max. An append that would pass max fails with PANE_ETOOBIG
 *       and leaves the buffer unchanged, so input-sized data is bounded
 *       without every caller checking.
 *
 * Ownership: the buffer owns data. pane_buf_release() frees it and leaves an
 * empty buffer; pane_buf_detach() hands it to the caller (free() it).
 * Do not keep pointers into data across an append: it may move.
 * Not thread-safe; one owner at a time.
 */
#ifndef PANE_BASE_BUF_H
#define PANE_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct pane_buf {
	char *data;
	size_t len;
	size_t cap; /* 0 while data points at the static empty string */
	size_t max; /* largest len allowed; SIZE_MAX for "no limit" */
};

#define PANE_BUF_NOLIMIT SIZE_MAX

/* Initialise an empty buffer with a maximum length (PANE_BUF_NOLIMIT for
 * internal, already-bounded data). Cannot fail. */
void pane_buf_init(struct pane_buf *b, size_t max);
/* Free the contents; b is an empty buffer afterwards (reusable). */
void pane_buf_release(struct pane_buf *b);
/* Empty the buffer but keep its allocation. */
void pane_buf_reset(struct pane_buf *b);
/* Return the contents as a heap string the caller frees with free(); b is
 * empty afterwards. Never returns NULL. */
char *pane_buf_detach(struct pane_buf *b, size_t *len_out);

/* Make room for at least extra more bytes. 0 or PANE_ETOOBIG. */
int pane_buf_grow(struct pane_buf *b, size_t extra);
/* Bytes of v as an unsigned LEB128 varint (protobuf's, the store's). */
static inline size_t pane_uvarint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}
/* Appends; each returns 0 or PANE_ETOOBIG (buffer unchanged). */
int pane_buf_add(struct pane_buf *b, const void *data, size_t len);
int pane_buf_adds(struct pane_buf *b, const char *s);
int pane_buf_addc(struct pane_buf *b, char c);
int pane_buf_addf(struct pane_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pane_buf_addvf(struct pane_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal, quotes included, escaping control
 * characters, quote and backslash; invalid UTF-8 bytes become U+FFFD. */
int pane_buf_add_json_str(struct pane_buf *b, const char *s, size_t len);
/* Appends s quoted as Go's strconv.Quote does for bytes (\" \\ \n \t \r \a
 * \b \f \v, other control bytes as \xNN): Prometheus' label text, promtool's
 * diffs, Loki's stream selectors; PromQL and LogQL read it back. */
int pane_buf_add_go_quoted(struct pane_buf *b, const char *s);
/* Shortens to len (must be <= b->len). */
void pane_buf_truncate(struct pane_buf *b, size_t len);

#endif
