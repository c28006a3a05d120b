/*
 * stats.h - pane's own counters and gauges, rendered as Prometheus text.
 *
 * Every part registers the numbers it wants to show (requests served, lines
 * dropped, jobs processed) in one registry that the daemon creates and passes
 * down; `GET /metrics` renders it, and the self-monitoring source copies it
 * into the store. Updates are lock-free atomics, so hot paths pay one atomic
 * add; registration takes a mutex and happens at start-up or on first use.
 *
 * Ownership: the registry owns every stat; pointers returned by the
 * registration functions stay valid until pane_stats_free().
 */
#ifndef PANE_BASE_STATS_H
#define PANE_BASE_STATS_H

#include <stdint.h>

#include "base/buf.h"

struct pane_stats;
struct pane_stat;

enum pane_stat_type { PANE_STAT_COUNTER, PANE_STAT_GAUGE };

struct pane_stats *pane_stats_new(void);
void pane_stats_free(struct pane_stats *st);

/* Returns the stat with this name and label text, creating it on first use.
 * labels is Prometheus label text without braces (`queue="default"`) or NULL.
 * The name must be a valid metric name; help is a one-line description
 * (the first registration's help wins). Thread-safe. */
struct pane_stat *pane_stats_counter(struct pane_stats *st, const char *name, const char *labels, const char *help);
struct pane_stat *pane_stats_gauge(struct pane_stats *st, const char *name, const char *labels, const char *help);

/* Lock-free updates. pane_stat_add on a counter ignores negative deltas. */
void pane_stat_add(struct pane_stat *s, double delta);
void pane_stat_inc(struct pane_stat *s);
void pane_stat_set(struct pane_stat *s, double value);
double pane_stat_get(const struct pane_stat *s);

/* Appends the registry in Prometheus text format 0.0.4 (HELP/TYPE once per
 * name, series in registration order). 0 or PANE_ETOOBIG from the buffer. */
int pane_stats_render(struct pane_stats *st, struct pane_buf *out);

/* Calls fn for every stat (for copying into the store). Holds the registry
 * lock during the walk: fn must not register stats. */
void pane_stats_each(struct pane_stats *st,
                     void (*fn)(void *arg, const char *name, const char *labels, enum pane_stat_type type,
                                double value),
                     void *arg);

/* Calls fn once per metric family (name), in registration order, with its
 * type and help (the first registration's), for metric metadata. Holds the
 * registry lock during the walk: fn must not register stats. */
void pane_stats_each_family(struct pane_stats *st,
                            void (*fn)(void *arg, const char *name, enum pane_stat_type type, const char *help),
                            void *arg);

#endif
