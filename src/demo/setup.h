/*
 * setup.h - what `pane demo` adds to the daemon before the parts attach.
 */
#ifndef PANE_DEMO_SETUP_H
#define PANE_DEMO_SETUP_H

#include "host/host.h"

/* For pane_serve_opts.on_start: the demo's sources as h->defaults (when
 * pane.yaml has no sources: section), and with DATABASE_URL (unless
 * queue.demo_worker is false) the queue migrated, three sample jobs on
 * queue "demo" and an in-process worker for them. 0 or a negative PANE_E*. */
int pane_demo_start(struct pane_host *h, void *arg, struct pane_err *err);

#endif
