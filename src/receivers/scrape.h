/*
 * scrape.h - Prometheus-style scraping of /metrics endpoints.
 *
 * One thread per target: GET the URL every interval with a timeout, parse
 * the text (0.0.4 or OpenMetrics by Content-Type) with the target's labels
 * (job, instance, extra labels), write samples, then the synthetic series
 * `up`, `scrape_duration_seconds` and `scrape_samples_scraped`. A series
 * that was exposed last time and is gone now, and every series of a target
 * that fails or is removed, gets a stale marker (pane_stale_nan()).
 * Bodies are bounded (max_body); a target over it, over sample_limit, or
 * slower than timeout counts as a failed scrape (up = 0), is counted in
 * pane_scrape_failures_total and logged at a limited rate.
 */
#ifndef PANE_RECEIVERS_SCRAPE_H
#define PANE_RECEIVERS_SCRAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/pipeline.h"

struct pane_stats;

struct pane_scrape_target {
	const char *url;     /* http(s)://host:port/path */
	const char *job;     /* job label; NULL = "scrape" */
	int64_t interval_ms; /* 0 = 30 s */
	int64_t timeout_ms;  /* 0 = 10 s (capped at the interval) */
	size_t max_body;     /* 0 = 8 MiB */
	size_t sample_limit; /* 0 = 100000 */
	bool honor_labels;
	const struct pane_labels *labels;   /* extra labels (copied) or NULL */
	const struct pane_labels *defaults; /* receivers.default_labels: only where a series lacks one (copied) */
};

struct pane_scraper;

/* Starts scraping every target (copied). NULL with err for a bad target. */
struct pane_scraper *pane_scraper_new(struct pane_pipeline *p, const struct pane_scrape_target *t, size_t n,
                                      struct pane_stats *stats, struct pane_err *err);
/* Stops the threads, writes stale markers for every known series, frees. */
void pane_scraper_free(struct pane_scraper *s);

/* Completed scrapes of target i so far (for tests and /metrics). */
uint64_t pane_scraper_scrapes(struct pane_scraper *s, size_t i);

#endif
