/*
 * workers.h - a few persistent helper threads that join in on work the
 * calling thread has started (one select's series, select.c).
 *
 * The caller offers a task and goes on doing the same work itself; an
 * idle helper picks the task up and shares it. A helper is never waited
 * for to *start*: retracting a task that no helper took removes it, so a
 * busy pool (other queries) costs the caller nothing but the offer.
 *
 * Ownership: the caller owns a task (usually on its stack) from offer to
 * retract; fn must be done with arg when it returns.
 *
 * Thread context: offer and retract from any thread; fn runs on a helper.
 */
#ifndef PANE_STORE_WORKERS_H
#define PANE_STORE_WORKERS_H

struct pane_workers;

struct pane_workers_task {
	void (*fn)(void *arg);
	void *arg;
	/* the pool's (under its mutex) */
	struct pane_workers_task *next;
	int state;
};

/* A pool of n helper threads (started now; n 0 gives a pool that never
 * runs a task). Never NULL; aborts when a thread cannot be created. */
struct pane_workers *pane_workers_new(unsigned n);
/* Stops and joins the helpers; no task may be offered any more or be
 * outstanding. NULL is a no-op. */
void pane_workers_free(struct pane_workers *w);
unsigned pane_workers_count(const struct pane_workers *w);
/* Queues t for the next idle helper. */
void pane_workers_offer(struct pane_workers *w, struct pane_workers_task *t);
/* After it: t is not queued and not running. Returns 1 if a helper ran
 * it, 0 if none took it (it is withdrawn). */
int pane_workers_retract(struct pane_workers *w, struct pane_workers_task *t);

#endif
