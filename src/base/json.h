/*
 * json.h - writing JSON into a pane_buf, commas and escaping done for you.
 *
 *     struct pane_json j;
 *     pane_json_init(&j, buf);
 *     pane_json_obj(&j);
 *     pane_json_key(&j, "id");    pane_json_int(&j, 7);
 *     pane_json_key(&j, "tags");  pane_json_arr(&j); pane_json_str(&j, "a"); pane_json_arr_end(&j);
 *     pane_json_obj_end(&j);      -> {"id":7,"tags":["a"]}
 *
 * Strings go through pane_buf_add_json_str (invalid UTF-8 becomes U+FFFD).
 * Numbers that JSON cannot hold (NaN, infinities) are written as null. The
 * first error from the buffer (PANE_ETOOBIG past its maximum) is kept in
 * j->rc and everything after it is skipped, so a writer checks once at the
 * end. Nesting is bounded at PANE_JSON_MAX_DEPTH (deeper is PANE_EINVAL).
 */
#ifndef PANE_BASE_JSON_H
#define PANE_BASE_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"

#define PANE_JSON_MAX_DEPTH 64

struct pane_json {
	struct pane_buf *b;
	uint64_t has_items; /* bit d: the container at depth d has a member already */
	int depth;
	bool after_key;
	int rc; /* 0, or the first error */
};

void pane_json_init(struct pane_json *j, struct pane_buf *b);
void pane_json_obj(struct pane_json *j);
void pane_json_obj_end(struct pane_json *j);
void pane_json_arr(struct pane_json *j);
void pane_json_arr_end(struct pane_json *j);
/* A member name; the next call writes its value. */
void pane_json_key(struct pane_json *j, const char *key);
/* s == NULL writes null. */
void pane_json_str(struct pane_json *j, const char *s);
void pane_json_strn(struct pane_json *j, const char *s, size_t len);
void pane_json_int(struct pane_json *j, int64_t v);
void pane_json_uint(struct pane_json *j, uint64_t v);
void pane_json_num(struct pane_json *j, double v);
void pane_json_bool(struct pane_json *j, bool v);
void pane_json_null(struct pane_json *j);
/* An already encoded JSON value, copied as it is (the caller vouches for it).
 * With "" it only places the comma: the caller then writes one value into
 * j->b itself (a callback that writes JSON, such as /readyz's infos). */
void pane_json_raw(struct pane_json *j, const char *json);
/* pane_json_raw of len bytes (no NUL needed): a value the caller formatted
 * itself on a hot path, such as a PromQL point ([1700000000,"1.5"]). */
void pane_json_rawn(struct pane_json *j, const char *json, size_t len);
/* pane_json_raw of printf output, for a number in a format fixed by a peer
 * ("%.0f", "%.6f"): the caller vouches that the result is one JSON value. */
void pane_json_rawf(struct pane_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
