/*
 * cumulate.h - delta temporality turned into cumulative series.
 *
 * OTLP senders may report sums and histograms as deltas (what changed
 * since the last export); Prometheus-style storage wants the running
 * total. A struct pane_cumulate keeps one running total per series (metric
 * name + label set, including le for buckets) across requests and adds each
 * delta to it, so the stored series rises like a counter.
 *
 * Bounds: at most max_series totals; a total not updated for idle_ms is
 * forgotten (its next delta starts again from zero: a counter reset,
 * which rate() understands). A new series past the bound is refused.
 * Thread-safe (one mutex: HTTP handlers call it concurrently).
 */
#ifndef PANE_RECEIVERS_CUMULATE_H
#define PANE_RECEIVERS_CUMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/record.h"

struct pane_cumulate;

struct pane_cumulate *pane_cumulate_new(size_t max_series, int64_t idle_ms);
void pane_cumulate_free(struct pane_cumulate *c);

/* Adds delta to the total of (name, labels) and stores the new total in
 * *total. false (nothing changed) when the series is new and the table
 * is full. now_ms drives the idle expiry. */
bool pane_cumulate_add(struct pane_cumulate *c, const char *name, const struct pane_labels *labels, double delta,
                       int64_t now_ms, double *total);

/* Series currently tracked (tests, readiness). */
size_t pane_cumulate_len(struct pane_cumulate *c);

#endif
