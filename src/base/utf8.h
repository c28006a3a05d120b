/*
 * utf8.h - UTF-8 validation, the one owner for every receiver and parser.
 *
 * Valid means RFC 3629: no overlong forms, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF, no truncated sequence. NUL bytes are valid
 * UTF-8; callers that cannot carry them check for them separately.
 */
#ifndef PANE_BASE_UTF8_H
#define PANE_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is valid UTF-8 (s need not be NUL-terminated). */
bool pane_utf8_valid(const char *s, size_t len);

#endif
