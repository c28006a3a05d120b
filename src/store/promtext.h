/*
 * promtext.h - the series part of a Prometheus text line: name{a="x",b="y"}.
 *
 * Shared by `pane import` and the store's self-monitoring (which turns
 * pane_stats label text into label sets).
 */
#ifndef PANE_STORE_PROMTEXT_H
#define PANE_STORE_PROMTEXT_H

#include <stddef.h>

#include "pipeline/record.h"

/* Parses p[0..len) as `name`, `name{labels}` or `{__name__="n",labels}`.
 * On success *name is a heap string (caller frees) and labels (initialised
 * by the caller with pane_labels_init) holds the labels; 0. On bad input
 * PANE_EINVAL with *msg set to a static description; *name is NULL. */
int pane_prom_parse_series(const char *p, size_t len, char **name, struct pane_labels *labels, const char **msg);
/* Parses label text without braces (`a="x",b="y"`), adding to labels. */
int pane_prom_parse_labels(const char *p, size_t len, struct pane_labels *labels, const char **msg);

#endif
