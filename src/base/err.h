/*
 * err.h - error values that carry a message.
 *
 * The one convention: functions return int, 0 on success and a negative
 * PANE_E* code on failure; constructors return NULL. When the caller needs to
 * know *why* (a Postgres, SQLite, HTTP or config failure), the function also
 * takes a `struct pane_err *` and fills it. The message follows PostgreSQL's
 * style: a short primary line that states the failure, lower case, no trailing
 * period; an optional detail says what to do.
 *
 * A pane_err lives on the caller's stack; it owns no heap memory, so there is
 * nothing to free. Passing NULL for the err argument is allowed everywhere and
 * means "I only want the code".
 */
#ifndef PANE_BASE_ERR_H
#define PANE_BASE_ERR_H

#include <stdarg.h>

/* enum pane_errcode and struct pane_err: in the public include/pane/err.h
 * (the C library's users need them too) */
#include "pane/err.h"

/* Sets code and the formatted primary message (truncated to fit), clears the
 * detail, and returns code so callers can `return pane_err_set(err, ...)`.
 * err may be NULL. */
int pane_err_set(struct pane_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int pane_err_setv(struct pane_err *err, int code, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/* Sets the detail line; keeps code and message. err may be NULL. */
void pane_err_detail(struct pane_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the primary message with "prefix: " (for context as errors
 * travel up). err may be NULL. */
void pane_err_prefix(struct pane_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pane_err_clear(struct pane_err *err);
/* A stable lower-case name for a code ("invalid", "too_big", ...). */
const char *pane_err_name(int code);

#endif
