/*
 * promtext.h - a small Prometheus text-format (0.0.4) parser for sources
 * that pull an exposition (Supabase's privileged metrics endpoint).
 *
 * Accepts sample lines `name{label="value",...} value [timestamp_ms]`,
 * `# HELP` / `# TYPE` / other comments, blank lines and CRLF, OpenMetrics'
 * `# EOF`. Label values unescape \\ \" \n. Values are Go floats including
 * NaN and +/-Inf. Anything else is an error naming the line, and nothing of
 * a malformed exposition is delivered twice: callers treat an error as "the
 * whole scrape failed" (what Prometheus does).
 *
 * Bounded: names and label values by the record.h limits, labels per line by
 * PANE_LABELS_MAX. The callback gets borrowed data valid during the call.
 */
#ifndef PANE_SOURCES_PROMTEXT_H
#define PANE_SOURCES_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/record.h"

/* ts_ms is 0 when the line has no timestamp. A negative return from cb stops
 * the parse and is returned. */
typedef int (*pane_promtext_cb)(void *arg, const char *name, const struct pane_labels *labels, double value,
				int64_t ts_ms);

/* 0, a callback's negative code, or PANE_EINVAL / PANE_ETOOBIG with err set
 * ("line N: ..."). */
int pane_promtext_parse(const char *text, size_t len, pane_promtext_cb cb, void *arg, struct pane_err *err);

#endif
