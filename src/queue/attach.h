/*
 * attach.h - the queue's part of `pane serve` (see attach.c).
 */
#ifndef PANE_QUEUE_ATTACH_H
#define PANE_QUEUE_ATTACH_H

#include "base/err.h"

struct pane_host;

/* Binds the `queue` section; with DATABASE_URL publishes queue numbers in
 * /metrics, and in demo mode runs a worker on queue "demo" with sample jobs.
 * 0 or PANE_EINVAL (config error in err). */
int pane_queue_attach(struct pane_host *s, struct pane_err *err);

#endif
