/*
 * selfscrape.h - pane's own /metrics into the pipeline (serve's, not a part's).
 */
#ifndef PANE_SERVE_SELFSCRAPE_H
#define PANE_SERVE_SELFSCRAPE_H

#include "host/host.h"

/* Starts a thread that renders h->stats every store.self_metrics_interval
 * (0 = off: nothing starts) and writes it through h->pipeline with
 * provider="pane"; registers its stop with the host. 0 or a negative PANE_E*. */
int pane_serve_selfscrape_start(struct pane_host *h, struct pane_err *err);

#endif
