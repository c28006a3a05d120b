/*
 * workers.c - persistent helper threads that join in on started work (see
 * workers.h).
 *
 * Idea: a FIFO of offered tasks under one mutex; helpers sleep on one
 * condition variable and run the oldest task. Retract either unlinks a
 * task still queued or waits for the helper running it (a second
 * condition variable, broadcast when any task finishes). The work itself
 * is shared by the task's own means (select.c claims series with an
 * atomic counter), so whether a helper comes early, late or never changes
 * the time a caller takes, never the result.
 *
 * States of a task: QUEUED (offer) -> RUNNING (a helper took it) -> DONE
 * (fn returned); QUEUED -> WITHDRAWN (retract before any helper took it).
 *
 * Invariants:
 *   (1) A task is in the queue iff its state is QUEUED.
 *   (2) retract returns only when the state is DONE or WITHDRAWN: after
 *       it, no helper touches the task.
 */
#include "store/workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/mem.h"

enum { QUEUED = 1, RUNNING, DONE, WITHDRAWN };

struct pane_workers {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct pane_workers_task *head, *tail;
	bool stop;
	unsigned n;
	pthread_t *th;
};

static void *helper(void *arg)
{
	struct pane_workers *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && !w->head)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->stop)
			break;
		struct pane_workers_task *t = w->head;
		w->head = t->next;
		if (!w->head)
			w->tail = NULL;
		t->next = NULL;
		t->state = RUNNING;
		pthread_mutex_unlock(&w->mu);
		t->fn(t->arg);
		pthread_mutex_lock(&w->mu);
		t->state = DONE;
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct pane_workers *pane_workers_new(unsigned n)
{
	struct pane_workers *w = pane_xcalloc(1, sizeof *w);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	w->th = pane_xcalloc(n ? n : 1, sizeof *w->th);
	for (unsigned i = 0; i < n; i++) {
		if (pthread_create(&w->th[i], NULL, helper, w) != 0) {
			pane_warn("store", "cannot start a select helper thread; selects use %u", i);
			break;
		}
		w->n++;
	}
	return w;
}

void pane_workers_free(struct pane_workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->mu);
	for (unsigned i = 0; i < w->n; i++)
		pthread_join(w->th[i], NULL);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->mu);
	free(w->th);
	free(w);
}

unsigned pane_workers_count(const struct pane_workers *w)
{
	return w->n;
}

void pane_workers_offer(struct pane_workers *w, struct pane_workers_task *t)
{
	t->next = NULL;
	pthread_mutex_lock(&w->mu);
	t->state = QUEUED;
	if (w->tail)
		w->tail->next = t;
	else
		w->head = t;
	w->tail = t;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
}

int pane_workers_retract(struct pane_workers *w, struct pane_workers_task *t)
{
	pthread_mutex_lock(&w->mu);
	if (t->state == QUEUED) {
		struct pane_workers_task **pp = &w->head, *prev = NULL;
		while (*pp != t) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		*pp = t->next;
		if (w->tail == t)
			w->tail = prev;
		t->next = NULL;
		t->state = WITHDRAWN;
	}
	while (t->state == RUNNING)
		pthread_cond_wait(&w->done, &w->mu);
	int ran = t->state == DONE;
	pthread_mutex_unlock(&w->mu);
	return ran;
}
