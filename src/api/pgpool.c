/*
 * pgpool.c - fixed-size PostgreSQL connection pool (see pgpool.h).
 *
 * Idea: a stack of idle connections and a count of slots; a borrower takes
 * an idle connection or, if a slot is free, opens one. Nothing is opened
 * ahead of need, and a broken connection just frees its slot, so recovery
 * after a PostgreSQL restart needs no supervisor.
 */
#include "api/pgpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

struct pane_api_pool {
	char *url;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	PGconn **idle;
	unsigned n_idle;
	unsigned size;
	unsigned open; /* connections that exist (idle or borrowed) */
};

PGconn *pane_api_connect(const char *url, struct pane_err *err)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		const char *m = PQerrorMessage(c);
		size_t n = strcspn(m, "\n");
		pane_err_set(err, PANE_EDB, "cannot connect to PostgreSQL: %.*s", (int)n, m);
		PQfinish(c);
		return NULL;
	}
	return c;
}

struct pane_api_pool *pane_api_pool_new(const char *url, unsigned size)
{
	struct pane_api_pool *p = pane_xcalloc(1, sizeof *p);
	p->url = pane_xstrdup(url);
	p->size = size ? size : 4;
	p->idle = pane_xcalloc(p->size, sizeof *p->idle);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	return p;
}

void pane_api_pool_free(struct pane_api_pool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n_idle; i++)
		PQfinish(p->idle[i]);
	free(p->idle);
	free(p->url);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

PGconn *pane_api_pool_get(struct pane_api_pool *p, struct pane_err *err)
{
	pthread_mutex_lock(&p->mu);
	while (p->n_idle == 0 && p->open >= p->size)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->n_idle) {
		PGconn *c = p->idle[--p->n_idle];
		pthread_mutex_unlock(&p->mu);
		return c;
	}
	p->open++;
	pthread_mutex_unlock(&p->mu);
	PGconn *c = pane_api_connect(p->url, err);
	if (!c) {
		pthread_mutex_lock(&p->mu);
		p->open--;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return c;
}

void pane_api_pool_put(struct pane_api_pool *p, PGconn *c, bool broken)
{
	if (!c)
		return;
	if (!broken && (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE))
		broken = true;
	pthread_mutex_lock(&p->mu);
	if (broken) {
		p->open--;
	} else {
		p->idle[p->n_idle++] = c;
		c = NULL;
	}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (c)
		PQfinish(c);
}
