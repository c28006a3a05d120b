/*
 * batcher.c - group commit for HTTP enqueues (see batcher.h).
 *
 * Idea: the cost of an enqueue over HTTP is dominated by the commit (a WAL
 * flush), not by the row. Requests therefore never talk to PostgreSQL
 * themselves: they append to a FIFO and their connection is suspended; a
 * flusher thread with its own connection takes the whole FIFO (up to
 * MAX_BATCH_JOBS), sends "[e1,e2,...]" to enqueue_many in one statement, and
 * hands each submitter its slice of the returned rows. No timer: while a
 * batch is in flight the next one accumulates, which is exactly as much
 * batching as the load calls for.
 *
 * Invariants:
 *   (1) every accepted submission gets exactly one callback;
 *   (2) a callback with ids comes only after enqueue_many returned, i.e.
 *       after its statement committed (autocommit), so an acknowledged job
 *       is durable and visible;
 *   (3) waiting jobs are bounded (MAX_WAITING_JOBS): submit refuses more.
 *
 * Threads: submit from any thread; callbacks on flusher threads.
 */
#include "api/batcher.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pgpool.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/stats.h"
#include "base/str.h"
#include "base/clock.h"
#include "pane/queue.h"

#define MAX_BATCH_JOBS 2000
#define MAX_WAITING_JOBS 100000
/* a whole batch (up to MAX_BATCH_JOBS rows, one commit) */
#define BATCH_TIMEOUT_S PANE_API_STATEMENT_TIMEOUT_S

struct item {
	char *elems;
	size_t len;
	size_t n;
	pane_api_batch_done done;
	void *arg;
	struct item *next;
};

struct pane_api_batcher {
	char *url;
	char *sql;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item *head, *tail;
	size_t waiting_jobs;
	bool stop;
	pthread_t *threads;
	unsigned n_threads;
	struct pane_stat *st_jobs, *st_batches, *st_errors;
	struct pane_log_limit lim;
};

static void fail_items(struct item *it, const struct pane_err *err)
{
	while (it) {
		struct item *next = it->next;
		it->done(it->arg, NULL, NULL, 0, err);
		free(it->elems);
		free(it);
		it = next;
	}
}

static int map_sqlstate(const char *state)
{
	if (!state)
		return PANE_EDB;
	if (strcmp(state, "54000") == 0)
		return PANE_ETOOBIG;
	if (strcmp(state, "23505") == 0)
		return PANE_EEXIST;
	if (strncmp(state, "22", 2) == 0 || strcmp(state, "P0001") == 0)
		return PANE_EINVAL;
	return PANE_EDB;
}

/* Runs enqueue_many for items (a list); on success calls back each with its
 * rows. Returns 0, or the error (callbacks not yet made). */
static int run(struct pane_api_batcher *b, PGconn **cp, struct item *items, struct pane_err *err)
{
	size_t total = 0, bytes = 2;
	for (struct item *it = items; it; it = it->next) {
		total += it->n;
		bytes += it->len + 1;
	}
	struct pane_buf q;
	pane_buf_init(&q, PANE_BUF_NOLIMIT);
	pane_buf_grow(&q, bytes);
	pane_buf_addc(&q, '[');
	for (struct item *it = items; it; it = it->next) {
		if (it != items)
			pane_buf_addc(&q, ',');
		pane_buf_add(&q, it->elems, it->len);
	}
	pane_buf_addc(&q, ']');
	if (!*cp)
		*cp = pane_api_connect(b->url, err);
	if (!*cp) {
		pane_buf_release(&q);
		return PANE_EDB;
	}
	const char *params[1] = {q.data};
	PGresult *r = pane_api_exec(*cp, b->sql, 1, params, BATCH_TIMEOUT_S * 1000, err);
	pane_buf_release(&q);
	if (!r) {
		PQfinish(*cp);
		*cp = NULL;
		return PANE_EDB;
	}
	int rc = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		/* copy the first line: the message may live in the PGconn, which
		 * is finished below when the connection is gone */
		const char *pm = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		if (!pm)
			pm = PQerrorMessage(*cp);
		char m[512];
		snprintf(m, sizeof m, "%.*s", (int)strcspn(pm, "\n"), pm);
		rc = map_sqlstate(PQresultErrorField(r, PG_DIAG_SQLSTATE));
		pane_err_set(err, rc, "%s", m);
		if (PQstatus(*cp) != CONNECTION_OK) {
			PQfinish(*cp);
			*cp = NULL;
			rc = PANE_EDB;
			pane_err_set(err, PANE_EDB, "PostgreSQL connection lost: %s", m);
		}
		PQclear(r);
		return rc;
	}
	if ((size_t)PQntuples(r) != total) {
		pane_err_set(err, PANE_EDB, "enqueue_many returned %d rows for %zu jobs", PQntuples(r), total);
		PQclear(r);
		return PANE_EDB;
	}
	int64_t *ids = pane_xcalloc(total ? total : 1, sizeof *ids);
	bool *created = pane_xcalloc(total ? total : 1, sizeof *created);
	for (size_t i = 0; i < total; i++) {
		pane_str_to_i64(pane_str_c(PQgetvalue(r, (int)i, 0)), &ids[i]);
		created[i] = PQgetvalue(r, (int)i, 1)[0] == 't';
	}
	PQclear(r);
	if (b->st_jobs) {
		pane_stat_add(b->st_jobs, (double)total);
		pane_stat_inc(b->st_batches);
	}
	size_t off = 0;
	for (struct item *it = items; it; it = it->next) {
		it->done(it->arg, ids + off, created + off, it->n, NULL);
		off += it->n;
	}
	free(ids);
	free(created);
	return rc;
}

static void free_items(struct item *it)
{
	while (it) {
		struct item *next = it->next;
		free(it->elems);
		free(it);
		it = next;
	}
}

static void *flusher(void *arg)
{
	struct pane_api_batcher *b = arg;
	PGconn *c = NULL;
	for (;;) {
		pthread_mutex_lock(&b->mu);
		while (!b->head && !b->stop)
			pthread_cond_wait(&b->cv, &b->mu);
		if (b->stop) {
			pthread_mutex_unlock(&b->mu);
			break;
		}
		struct item *items = b->head, *last = b->head;
		size_t jobs = last->n;
		while (last->next && jobs + last->next->n <= MAX_BATCH_JOBS) {
			last = last->next;
			jobs += last->n;
		}
		b->head = last->next;
		if (!b->head)
			b->tail = NULL;
		last->next = NULL;
		b->waiting_jobs -= jobs;
		pthread_mutex_unlock(&b->mu);

		struct pane_err err = {0};
		int rc = run(b, &c, items, &err);
		if (rc == 0) {
			free_items(items);
			continue;
		}
		if (b->st_errors)
			pane_stat_inc(b->st_errors);
		if (rc == PANE_EDB || !items->next) {
			if (rc == PANE_EDB)
				pane_log_limited(&b->lim, PANE_LOG_WARN, "api", "enqueue failed: %s", err.msg);
			fail_items(items, &err);
			continue;
		}
		/* bad input somewhere in the batch: retry one submission at a time */
		while (items) {
			struct item *it = items;
			items = it->next;
			it->next = NULL;
			struct pane_err e1 = {0};
			if (run(b, &c, it, &e1) == 0)
				free_items(it);
			else
				fail_items(it, &e1);
		}
	}
	if (c)
		PQfinish(c);
	return NULL;
}

struct pane_api_batcher *pane_api_batcher_new(const char *url, const char *schema, unsigned flushers,
                                              struct pane_stats *stats)
{
	struct pane_api_batcher *b = pane_xcalloc(1, sizeof *b);
	b->url = pane_xstrdup(url);
	char sql[PANE_QUEUE_SQL_MAX];
	pane_queue_sql_enqueue_many(schema, sql, sizeof sql);
	b->sql = pane_xstrdup(sql);
	b->lim.burst = 5;
	b->lim.per_ms = 10000;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	if (stats) {
		b->st_jobs = pane_stats_counter(stats, "pane_api_jobs_enqueued_total", NULL,
		                                "jobs enqueued over HTTP (jobs API and uploads)");
		b->st_batches =
		    pane_stats_counter(stats, "pane_api_enqueue_batches_total", NULL,
		                       "enqueue_many calls made for HTTP enqueues (jobs per batch = ratio)");
		b->st_errors = pane_stats_counter(stats, "pane_api_enqueue_batch_errors_total", NULL,
		                                  "enqueue_many calls that failed");
	}
	b->n_threads = flushers ? flushers : 2;
	b->threads = pane_xcalloc(b->n_threads, sizeof *b->threads);
	for (unsigned i = 0; i < b->n_threads; i++)
		pthread_create(&b->threads[i], NULL, flusher, b);
	return b;
}

void pane_api_batcher_free(struct pane_api_batcher *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	b->stop = true;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	for (unsigned i = 0; i < b->n_threads; i++)
		pthread_join(b->threads[i], NULL);
	struct pane_err err = {0};
	pane_err_set(&err, PANE_ECANCELED, "the server is stopping");
	fail_items(b->head, &err);
	free(b->threads);
	free(b->sql);
	free(b->url);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
}

int pane_api_batcher_submit(struct pane_api_batcher *b, const char *elems, size_t len, size_t n,
                            pane_api_batch_done done, void *arg)
{
	struct item *it = pane_xcalloc(1, sizeof *it);
	it->elems = pane_xstrndup(elems, len);
	it->len = len;
	it->n = n;
	it->done = done;
	it->arg = arg;
	pthread_mutex_lock(&b->mu);
	if (b->stop || b->waiting_jobs + n > MAX_WAITING_JOBS) {
		pthread_mutex_unlock(&b->mu);
		free(it->elems);
		free(it);
		return PANE_EAGAIN;
	}
	if (b->tail)
		b->tail->next = it;
	else
		b->head = it;
	b->tail = it;
	b->waiting_jobs += n;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	return 0;
}
