/*
 * gzip.h - Content-Encoding: gzip request bodies, inflated with a bound.
 */
#ifndef PANE_RECEIVERS_GZIP_H
#define PANE_RECEIVERS_GZIP_H

#include <stddef.h>

#include "base/err.h"

/* Inflates a gzip (or zlib) stream into a heap buffer the caller frees
 * (*out, *out_len). Stops with PANE_ETOOBIG as soon as the output would
 * pass max bytes (a "gzip bomb" costs at most max), PANE_EINVAL for data
 * that is not gzip, is corrupt or is truncated. Concatenated gzip members
 * are read one after another, as RFC 1952 allows. */
int pane_gzip_decode(const char *in, size_t len, size_t max, char **out, size_t *out_len, struct pane_err *err);

#endif
