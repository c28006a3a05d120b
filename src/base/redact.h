/*
 * redact.h - credentials out of text that is printed: error messages, log
 * lines, HTTP answers.
 *
 *   postgresql://app:s3cret@db:5432/x   ->  postgresql://app:***@db:5432/x
 *   host=db password=s3cret user=app    ->  host=db password=*** user=app
 *   https://h/?sslpassword='a b'&x=1    ->  https://h/?sslpassword=***&x=1
 *
 * Works on any text that may contain such strings (libpq echoes a malformed
 * URL whole), not only on a URL. pane_err_set* and the logger apply it, so a
 * message built from a URL is safe wherever it ends up; code that prints a
 * URL by other means (a label, a banner) calls it itself.
 */
#ifndef PANE_BASE_REDACT_H
#define PANE_BASE_REDACT_H

#include <stdbool.h>
#include <stddef.h>

/* Redacts s (NUL-terminated, in a buffer of cap bytes) in place; the
 * result is truncated to fit cap. Returns true when something was hidden. */
bool pane_redact(char *s, size_t cap);
/* True when s may hold a credential (a cheap test before copying). */
bool pane_redact_needed(const char *s);

#endif
