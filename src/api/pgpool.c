/*
 * pgpool.c - fixed-size PostgreSQL connection pool (see pgpool.h).
 *
 * Idea: a stack of idle connections and a count of slots; a borrower takes
 * an idle connection or, if a slot is free, opens one. Nothing is opened
 * ahead of need, and a broken connection just frees its slot, so recovery
 * after a PostgreSQL restart needs no supervisor.
 *
 * Every wait has a deadline, because a frozen server (SIGSTOPped, a hung
 * disk) still completes TCP handshakes and ACKs, so neither the kernel nor
 * keepalives notice: connecting is bounded by connect_timeout, a statement
 * by pane_api_exec's poll() deadline, a free slot by a timed wait.
 */
#include "api/pgpool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
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

/* Deadlines and keepalives go BEFORE dbname, so a URL that sets its own
 * (connect_timeout=..., keepalives_idle=...) wins. */
static const char *const conn_keys[] = {
    "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "dbname", NULL};

static void conn_vals(const char *url, const char *vals[7])
{
	static char timeout[16];
	snprintf(timeout, sizeof timeout, "%d", PANE_API_CONNECT_TIMEOUT_S);
	vals[0] = timeout;
	vals[1] = "1";
	vals[2] = "10";
	vals[3] = "5";
	vals[4] = "3";
	vals[5] = url;
	vals[6] = NULL;
}

PGconn *pane_api_connect(const char *url, struct pane_err *err)
{
	const char *vals[7];
	conn_vals(url, vals);
	PGconn *c = PQconnectdbParams(conn_keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		const char *m = PQerrorMessage(c);
		size_t n = strcspn(m, "\n");
		pane_err_set(err, PANE_EDB, "cannot connect to PostgreSQL: %.*s", (int)n, m);
		PQfinish(c);
		return NULL;
	}
	return c;
}

PGPing pane_api_ping(const char *url)
{
	const char *vals[7];
	conn_vals(url, vals);
	return PQpingParams(conn_keys, vals, 1);
}

static int lost(PGconn *c, struct pane_err *err)
{
	const char *m = PQerrorMessage(c);
	return pane_err_set(err, PANE_EDB, "PostgreSQL connection lost: %.*s", (int)strcspn(m, "\n"), m);
}

/* Sends what is buffered and reads until PQgetResult will not block, or the
 * deadline (monotonic ns) passes. */
static int wait_ready(PGconn *c, int64_t deadline, int timeout_ms, struct pane_err *err)
{
	for (;;) {
		int f = PQflush(c);
		if (f < 0)
			return lost(c, err);
		if (f == 0 && !PQisBusy(c))
			return 0;
		int64_t left = (deadline - pane_mono_ns()) / 1000000;
		struct pollfd pfd = {.fd = PQsocket(c), .events = (short)(POLLIN | (f > 0 ? POLLOUT : 0))};
		int r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			pane_err_set(err, PANE_EDB, "PostgreSQL did not answer within %d s", timeout_ms / 1000);
			pane_err_detail(err, "is the server overloaded or stopped?");
			return PANE_EDB;
		}
		if (r < 0 || !PQconsumeInput(c))
			return lost(c, err);
	}
}

PGresult *pane_api_exec(PGconn *c, const char *sql, int nparams, const char *const *params, int timeout_ms,
                        struct pane_err *err)
{
	/* non-blocking, so that sending a large batch to a frozen server cannot
	 * block on a full socket buffer either (PQexec ignores the mode) */
	if (PQsetnonblocking(c, 1) != 0 || !PQsendQueryParams(c, sql, nparams, NULL, params, NULL, NULL, 0)) {
		lost(c, err);
		return NULL;
	}
	int64_t deadline = pane_mono_ns() + (int64_t)timeout_ms * 1000000;
	PGresult *res = NULL;
	for (;;) {
		if (wait_ready(c, deadline, timeout_ms, err) < 0) {
			PQclear(res);
			return NULL;
		}
		PGresult *r = PQgetResult(c);
		if (!r)
			break;
		PQclear(res);
		res = r;
	}
	if (!res)
		lost(c, err);
	return res;
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
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += PANE_API_STATEMENT_TIMEOUT_S;
	while (p->n_idle == 0 && p->open >= p->size) {
		if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT && p->n_idle == 0 &&
		    p->open >= p->size) {
			pthread_mutex_unlock(&p->mu);
			pane_err_set(err, PANE_EDB, "every PostgreSQL connection stayed busy for %d s",
			             PANE_API_STATEMENT_TIMEOUT_S);
			return NULL;
		}
	}
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
