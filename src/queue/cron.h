/*
 * cron.h - cron expressions and the schedule tick.
 *
 * Expressions have 5 fields (minute hour day-of-month month day-of-week) or
 * 6 with seconds first; each field is *, N, A-B, *\/S (every S), A-B\/S or a comma list
 * of those; day-of-week 0-7 (0 and 7 are Sunday). Times are UTC. As in
 * classic cron, when both day fields are restricted a day matching either
 * one matches.
 */
#ifndef PANE_QUEUE_CRON_H
#define PANE_QUEUE_CRON_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pane_cron {
	uint64_t sec, min; /* bit i set = value i allowed */
	uint32_t hour, dom, mon, dow;
	bool dom_star, dow_star;
};

/* 0 or PANE_EINVAL (with a reason in why, if given). */
int pane_cron_parse(const char *expr, struct pane_cron *out, char *why, size_t why_len);
/* The first matching second strictly after t (Unix seconds), or -1 when
 * none within 5 years. */
int64_t pane_cron_next(const struct pane_cron *c, int64_t t);

/* Enqueues the due jobs of <schema>.schedules (each tick once across all
 * workers: row locks + unique key cron:NAME:TICK) and moves next_run_at.
 * Returns jobs enqueued, or -1 on a database error (logged). */
int pane_queue_cron_tick(PGconn *c, const char *schema);

#endif
