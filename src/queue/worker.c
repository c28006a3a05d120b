/*
 * worker.c - the worker runtime: claim, run, complete, with leases.
 *
 * One main thread owns the PostgreSQL connection and does all SQL; handlers
 * run elsewhere and know nothing of it: they are rows of the handler table
 * (handler.h; exec in handler_exec.c, http in handler_http.c, the builtins
 * and the library's callback in handler.c). Inline handlers (noop, fail:
 * nothing to wait for) run on the main thread, so a claimed batch is
 * completed in the next round trip; the others run on a pool of
 * `concurrency` executor threads that take jobs from a work list and put
 * them on a done list, waking the main thread through an eventfd.
 *
 * Acknowledgements go through completer threads (N_COMPLETERS, two), each
 * with its own connection: while one runs complete_jobs / fail_jobs for a
 * batch, the other takes the next batch and the main thread already claims,
 * so claims and acknowledgements use three backends at once. Measured on a
 * no-op drain (bench/README.md): the claim is the critical path (about 80%
 * of the main thread's time); with one completer its acknowledgements were
 * as slow as the claims and claims paused for back-pressure.
 *
 * The main loop, each turn:
 *   1. hand finished jobs to the completer, which sends one complete_jobs
 *      and one fail_jobs call for all of them (batched acks); ids the
 *      database did not accept lost their lease (fenced off) and are logged and
 *      counted (lost_leases), never retried from here. Claims pause while more than
 *      N_COMPLETERS + 1 batches wait for acknowledgement (back-pressure);
 *   2. claim: per queue, pane.claim_batch_after(worker, queue, free slots +
 *      prefetch room, claim key) - `FOR UPDATE SKIP LOCKED` that returns
 *      only the columns read here, in claim order (pane.claim_batch on a
 *      schema at 005, pane.claim before; see claim_sql()). The claim key is
 *      the (priority, run_at, id) of the last job the queue's previous claim
 *      took: the next claim starts its index scan there instead of at the
 *      head, where the entries of every job claimed so far wait for VACUUM
 *      (measured: the n-th of a drain's 200 claims read ~n/200 of the
 *      index; bench/README.md, migration 006). It is
 *      forgotten on a NOTIFY pane_jobs for the queue (checked before every
 *      claim), at every maintenance tick and on reconnect, and the SQL
 *      looks behind it whenever the range after it runs short, so a job made
 *      runnable behind it waits at most a tick. With --prefetch N
 *      up to N claimed jobs wait in `pending` (a FIFO ring, leases held and
 *      renewed by the heartbeat) and start as slots free up, so the claim
 *      size no longer depends on the concurrency; at shutdown they are
 *      given back unused (release_pending);
 *   3. every lease/3: heartbeat - renews the leases of the jobs it runs and
 *      learns which it no longer holds (cancelled, rescued): their handlers
 *      are stopped (process group killed);
 *   4. every maintenance period: pane.rescue() (expired leases of dead
 *      workers), retention, cron ticks;
 *   5. if there was nothing to do: poll() on the connection's socket
 *      (NOTIFY pane_jobs / pane_cancel), the eventfd and the signal fd, for
 *      at most the poll interval (the fallback that never relies on LISTEN).
 *
 * Invariants:
 *   1. A job is completed or failed only with its (id, attempt, worker):
 *      fencing lives in the SQL, so a worker that lost its lease changes
 *      nothing.
 *   2. Finished jobs stay in memory until the database accepted the batch;
 *      a lost connection keeps them and the completer reconnects with
 *      backoff (100 ms doubling to 5 s), then sends them. Only at shutdown,
 *      after the grace period, are unacknowledged jobs abandoned (their
 *      leases expire and they run again: at-least-once).
 *   3. An --exec handler never outlives its worker: it runs under a
 *      supervisor that leads its process group and kills the group when
 *      the worker dies, SIGKILL and the OOM killer included
 *      (handler_exec.c).
 *   4. On SIGTERM the worker stops claiming, waits up to the grace period,
 *      then kills what still runs and gives those jobs back without using an
 *      attempt (pane.release_jobs).
 *
 * Thread context: pane_queue_worker_run blocks its caller's thread; stats
 * are atomics and may be read from anywhere.
 */
#include "pane/queue.h"

#include "base/err.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/signals.h"
#include "queue/cron.h"
#include "queue/handler.h"

/* completer threads, each with its own connection: while one waits for its
 * commit to be flushed, the next batch is already being written */
#define N_COMPLETERS 2

/* Where the next claim of a queue may start (schema >= 6,
 * pane.claim_batch_after): the claim key of the last job the previous claim
 * took, as the text PostgreSQL sent; `set` false = from the head. */
struct claim_key {
	bool set;
	char priority[16], run_at[64], id[24];
};

struct worker {
	const struct pane_queue_worker_opts *o;
	const struct pane_queue_handler_ops *h;
	struct pane_queue_worker_stats *st;
	const char *schema;
	char id[128];
	PGconn *conn;
	bool listening;
	/* executor pool */
	pthread_t *threads;
	int n_threads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queue_job *work_head, *work_tail;
	struct queue_job *done_head;
	bool quit;
	int efd;
	/* main-thread state */ struct queue_job **running; /* concurrency slots */
	int n_running;
	struct queue_job **pending; /* claimed ahead, not started: a FIFO ring of cap_pending */
	int n_pending, pend_head, cap_pending;
	struct queue_job *finished; /* waiting to be flushed */
	int n_finished;
	bool wake_claim;        /* a NOTIFY for one of our queues arrived */
	struct claim_key *keys; /* per queue (o->queues order) */
	bool keyed_claim;       /* sql_claim takes a claim key ($5-$7) */
	/* completer (see completer()) */
	pthread_t cp_thread[N_COMPLETERS];
	int n_cp;
	pthread_mutex_t cmu;
	pthread_cond_t ccv;
	struct queue_job *cp_head;
	int cp_n;    /* jobs handed over and not yet acknowledged */
	int cp_nq;   /* of those, waiting in cp_head */
	int cp_busy; /* completers inside a flush */
	bool cp_quit;
	atomic_int cp_abandon;
	char sql_claim[320], sql_complete[320], sql_fail[320], sql_heartbeat[256], sql_release[192];
};

static void job_free(struct queue_job *j)
{
	if (!j)
		return;
	free(j->queue);
	free(j->json);
	free(j->payload);
	free(j->result);
	free(j->error);
	free(j);
}

static void stat_add(uint64_t *p, uint64_t n)
{
	__atomic_add_fetch(p, n, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ handlers */

/* Runs the job's handler (handler.h) and times it into run_seconds. */
static void run_handler(struct worker *w, struct queue_job *j)
{
	w->h->run(w->o, j);
}

static void *executor(void *arg)
{
	struct worker *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->work_head && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->work_head) {
			pthread_mutex_unlock(&w->mu);
			return NULL;
		}
		struct queue_job *j = w->work_head;
		w->work_head = j->next;
		if (!w->work_head)
			w->work_tail = NULL;
		pthread_mutex_unlock(&w->mu);
		j->next = NULL;
		int64_t t0 = pane_mono_ns();
		run_handler(w, j);
		double secs = (double)(pane_mono_ns() - t0) / 1e9;
		double cur;
		__atomic_load(&w->st->run_seconds, &cur, __ATOMIC_RELAXED);
		/* approximate under contention: a statistic, not an account */
		double next = cur + secs;
		__atomic_store(&w->st->run_seconds, &next, __ATOMIC_RELAXED);
		pthread_mutex_lock(&w->mu);
		j->next = w->done_head;
		w->done_head = j;
		pthread_mutex_unlock(&w->mu);
		uint64_t one = 1;
		if (write(w->efd, &one, sizeof one) < 0) {
			/* the counter cannot overflow in practice; nothing to do */
		}
	}
}

/* ------------------------------------------------------------------ database */

static void close_conn(struct worker *w)
{
	if (w->conn)
		PQfinish(w->conn);
	w->conn = NULL;
	w->listening = false;
}

static bool conn_ok(struct worker *w)
{
	return w->conn && PQstatus(w->conn) == CONNECTION_OK;
}

/* Runs a statement that returns rows on c; NULL (logged) on failure. */
static PGresult *qc(PGconn *c, const char *sql, int n, const char *const *p, const char *what)
{
	if (!c || PQstatus(c) != CONNECTION_OK)
		return NULL;
	PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
	ExecStatusType s = PQresultStatus(r);
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
		return r;
	struct pane_err e = {0};
	pane_queue_pg_err(c, r, &e, what);
	static struct pane_log_limit lim = {.burst = 5, .per_ms = 10000};
	pane_log_limited(&lim, PANE_LOG_WARN, "queue", "%s", e.msg);
	PQclear(r);
	return NULL;
}

static PGresult *q(struct worker *w, const char *sql, int n, const char *const *p, const char *what)
{
	return qc(w->conn, sql, n, p, what);
}

/* Appends the worker's queue names as a JSON array to b. */
static void queues_json(struct worker *w, struct pane_buf *b)
{
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_arr(&j);
	for (int i = 0; i < w->o->n_queues; i++)
		pane_json_str(&j, w->o->queues[i]);
	pane_json_arr_end(&j);
}

/* The claim statement for schema version `version`: pane.claim_batch_after
 * (006: starts after a claim key, rows in claim order), pane.claim_batch
 * (005: only the columns read here, rows updated by ctid), else pane.claim.
 * All give the columns in the order claim() parses. */
static void claim_sql(struct worker *w, int version)
{
	w->keyed_claim = version >= 6;
	if (version >= 6)
		snprintf(
		    w->sql_claim, sizeof w->sql_claim,
		    "SELECT id, attempt, max_attempts, $2::text, timeout_ms, pickup_ms, payload, priority, run_at"
		    " FROM %s.claim_batch_after($1, $2, $3::int, $4::float8, $5::int, $6::timestamptz, $7::bigint)",
		    w->schema);
	else if (version >= 5)
		snprintf(w->sql_claim, sizeof w->sql_claim,
		         "SELECT id, attempt, max_attempts, $2::text, timeout_ms, pickup_ms, payload"
		         " FROM %s.claim_batch($1, $2, $3::int, $4::float8)",
		         w->schema);
	else
		snprintf(w->sql_claim, sizeof w->sql_claim,
		         "SELECT id, attempt, max_attempts, queue,"
		         " coalesce((extract(epoch FROM timeout) * 1000)::bigint, 0),"
		         " extract(epoch FROM started_at - run_at) * 1000, payload"
		         " FROM %s.claim($1, $2, $3::int, $4::float8)",
		         w->schema);
}

/* Every claim starts from the head of its queue again. */
static void forget_claim_keys(struct worker *w)
{
	for (int i = 0; i < w->o->n_queues; i++)
		w->keys[i].set = false;
}

static int connect_db(struct worker *w, struct pane_err *err)
{
	forget_claim_keys(w); /* a new session, maybe a restored database */
	const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
	const char *vals[] = {w->o->database_url, "pane-worker", "5", NULL};
	w->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(w->conn) != CONNECTION_OK) {
		pane_queue_pg_err(w->conn, NULL, err, "connecting to PostgreSQL");
		close_conn(w);
		return PANE_EDB;
	}
	PQclear(PQexec(w->conn, "SET client_min_messages = warning"));
	int version = 0;
	if (pane_queue_schema_version(w->conn, w->schema, &version, err) < 0) {
		close_conn(w);
		return PANE_EDB;
	}
	if (version == 0) {
		pane_err_set(err, PANE_ENOTFOUND, "schema %s is not installed", w->schema);
		pane_err_detail(err, "run 'pane migrate' first");
		close_conn(w);
		return PANE_ENOTFOUND;
	}
	claim_sql(w, version);
	if (!w->o->poll_only) {
		PGresult *r = PQexec(w->conn, "LISTEN pane_jobs; LISTEN pane_cancel");
		w->listening = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
	}
	char host[64] = "localhost", pid[16], conc[16], sql[160];
	gethostname(host, sizeof host - 1);
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	snprintf(conc, sizeof conc, "%d", w->o->concurrency);
	struct pane_buf qa;
	pane_buf_init(&qa, PANE_BUF_NOLIMIT);
	queues_json(w, &qa);
	snprintf(sql, sizeof sql,
	         "SELECT %s.register_worker($1, $2, $3::int, ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), "
	         "$5::int)::text",
	         w->schema);
	const char *p[5] = {w->id, host, pid, qa.data, conc};
	PGresult *r = q(w, sql, 5, p, "registering the worker");
	pane_buf_release(&qa);
	if (!r) {
		pane_err_set(err, PANE_EDB, "cannot register the worker");
		close_conn(w);
		return PANE_EDB;
	}
	PQclear(r);
	return 0;
}

/* Reconnects with backoff until it works or a stop is requested. */
static void reconnect(struct worker *w, bool (*stop)(struct worker *))
{
	int64_t delay = 100;
	close_conn(w);
	while (!stop(w)) {
		struct pane_err e = {0};
		if (connect_db(w, &e) == 0) {
			stat_add(&w->st->reconnects, 1);
			pane_info("queue", "reconnected to PostgreSQL");
			return;
		}
		static struct pane_log_limit lim = {.burst = 3, .per_ms = 30000};
		pane_log_limited(&lim, PANE_LOG_WARN, "queue", "%s; retrying in %" PRId64 " ms", e.msg, delay);
		pane_sleep_ms(delay);
		delay = delay * 2 > 5000 ? 5000 : delay * 2;
	}
}

/* Appends "{a,b,c}" array text of ids / attempts for jobs in list. */
static void array_text(struct pane_buf *ids, struct pane_buf *atts, struct queue_job *const *v, int n)
{
	pane_buf_addc(ids, '{');
	pane_buf_addc(atts, '{');
	for (int i = 0; i < n; i++) {
		pane_buf_addf(ids, "%s%" PRId64, i ? "," : "", v[i]->id);
		pane_buf_addf(atts, "%s%d", i ? "," : "", v[i]->attempt);
	}
	pane_buf_addc(ids, '}');
	pane_buf_addc(atts, '}');
}

/* Logs the jobs of v the database did not accept (their ids are not in
 * column 0 of r): the worker lost their lease - rescued after it expired,
 * cancelled, or re-claimed - so fencing refused what this worker reports.
 * Counted by the caller in lost_leases. Quadratic, but only runs when some
 * were refused. */
static void log_refused(struct queue_job *const *v, int n, PGresult *r, const char *what)
{
	static struct pane_log_limit lim = {.burst = 20, .per_ms = 10000};
	int rows = PQntuples(r);
	for (int i = 0; i < n; i++) {
		bool accepted = false;
		for (int k = 0; k < rows && !accepted; k++)
			accepted = strtoll(PQgetvalue(r, k, 0), NULL, 10) == v[i]->id;
		if (!accepted)
			pane_log_limited(&lim, PANE_LOG_WARN, "queue",
			                 "job %" PRId64 ": %s refused: attempt %d no longer holds the lease"
			                 " (rescued, cancelled or claimed again); its result is dropped",
			                 v[i]->id, what, v[i]->attempt);
	}
}

/* Sends a list of finished jobs to the database over c (the completer's
 * connection). Returns false when the connection failed: the caller keeps
 * the list and tries again after reconnecting. On true the list is freed. */
static bool flush_list(struct worker *w, PGconn *c, struct queue_job *list, int n_list)
{
	if (!list)
		return true;
	struct queue_job **ok = pane_xcalloc((size_t)n_list, sizeof *ok);
	struct queue_job **bad = pane_xcalloc((size_t)n_list, sizeof *bad);
	int n_ok = 0, n_bad = 0, n_drop = 0;
	for (struct queue_job *j = list; j; j = j->next) {
		if (j->outcome == QJ_OK)
			ok[n_ok++] = j;
		else if (j->outcome == QJ_RETRY || j->outcome == QJ_DISCARD)
			bad[n_bad++] = j;
		else
			n_drop++;
	}
	bool good = true;
	struct pane_buf ids, atts, extra;
	pane_buf_init(&ids, PANE_BUF_NOLIMIT);
	pane_buf_init(&atts, PANE_BUF_NOLIMIT);
	pane_buf_init(&extra, PANE_BUF_NOLIMIT);
	if (n_ok) {
		array_text(&ids, &atts, ok, n_ok);
		bool any_result = false;
		pane_buf_addc(&extra, '[');
		for (int i = 0; i < n_ok; i++) {
			pane_buf_adds(&extra, i ? "," : "");
			pane_buf_adds(&extra, ok[i]->result ? ok[i]->result : "null");
			any_result = any_result || ok[i]->result;
		}
		pane_buf_addc(&extra, ']');
		const char *p[4] = {w->id, ids.data, atts.data, any_result ? extra.data : NULL};
		PGresult *r = qc(c, w->sql_complete, 4, p, "completing jobs");
		if (!r) {
			good = false;
		} else {
			uint64_t done = (uint64_t)PQntuples(r);
			stat_add(&w->st->processed, done);
			stat_add(&w->st->lost_leases, (uint64_t)n_ok - done);
			if ((int)done < n_ok)
				log_refused(ok, n_ok, r, "completion");
			PQclear(r);
		}
	}
	if (good && n_bad) {
		pane_buf_reset(&ids);
		pane_buf_reset(&atts);
		pane_buf_reset(&extra);
		array_text(&ids, &atts, bad, n_bad);
		struct pane_buf disc;
		pane_buf_init(&disc, PANE_BUF_NOLIMIT);
		struct pane_json je;
		pane_json_init(&je, &extra);
		pane_json_arr(&je);
		pane_buf_addc(&disc, '{'); /* a PostgreSQL array literal, not JSON */
		for (int i = 0; i < n_bad; i++) {
			pane_json_str(&je, bad[i]->error ? bad[i]->error : "failed");
			pane_buf_addf(&disc, "%s%s", i ? "," : "", bad[i]->outcome == QJ_DISCARD ? "t" : "f");
		}
		pane_json_arr_end(&je);
		pane_buf_addc(&disc, '}');
		char base[32];
		snprintf(base, sizeof base, "%g", w->o->backoff_base_s);
		const char *p[6] = {w->id, ids.data, atts.data, extra.data, disc.data, base};
		PGresult *r = qc(c, w->sql_fail, 6, p, "recording failed jobs");
		if (!r) {
			good = false;
		} else {
			int n = PQntuples(r);
			for (int i = 0; i < n; i++)
				stat_add(strcmp(PQgetvalue(r, i, 1), "failed") == 0 ? &w->st->failed : &w->st->retried,
				         1);
			stat_add(&w->st->lost_leases, (uint64_t)(n_bad - n));
			if (n < n_bad)
				log_refused(bad, n_bad, r, "failure report");
			PQclear(r);
		}
		pane_buf_release(&disc);
	}
	pane_buf_release(&ids);
	pane_buf_release(&atts);
	pane_buf_release(&extra);
	free(ok);
	free(bad);
	if (!good && (!c || PQstatus(c) != CONNECTION_OK))
		return false;
	/* delivered, or refused by the database (not retried: logged) */
	stat_add(&w->st->cancelled, (uint64_t)n_drop);
	while (list) {
		struct queue_job *j = list;
		list = j->next;
		job_free(j);
	}
	return true;
}

/* The completer: a thread with its own connection that acknowledges
 * finished jobs in batches while the main thread claims the next batch, so
 * the statements run on separate backends at once. Several completers take
 * turns: each takes the whole list waiting at that moment. */
static PGconn *completer_connect(struct worker *w)
{
	const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
	const char *vals[] = {w->o->database_url, "pane-worker-completer", "5", NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

static void *completer(void *arg)
{
	struct worker *w = arg;
	PGconn *c = NULL;
	for (;;) {
		pthread_mutex_lock(&w->cmu);
		while (!w->cp_head && !w->cp_quit)
			pthread_cond_wait(&w->ccv, &w->cmu);
		if (!w->cp_head) {
			pthread_mutex_unlock(&w->cmu);
			break;
		}
		struct queue_job *list = w->cp_head;
		int n = w->cp_nq;
		w->cp_nq = 0;
		w->cp_head = NULL;
		w->cp_busy++;
		pthread_mutex_unlock(&w->cmu);
		int64_t delay = 100;
		for (;;) {
			if (!c || PQstatus(c) != CONNECTION_OK) {
				if (c)
					PQfinish(c);
				c = completer_connect(w);
			}
			if (c && flush_list(w, c, list, n))
				break;
			if (atomic_load(&w->cp_abandon)) {
				pane_warn("queue",
				          "could not acknowledge %d finished job(s): they run again after their lease",
				          n);
				while (list) {
					struct queue_job *j = list;
					list = j->next;
					job_free(j);
				}
				break;
			}
			pane_sleep_ms(delay);
			delay = delay * 2 > 5000 ? 5000 : delay * 2;
		}
		pthread_mutex_lock(&w->cmu);
		w->cp_n -= n;
		w->cp_busy--;
		pthread_mutex_unlock(&w->cmu);
		uint64_t one = 1;
		if (write(w->efd, &one, sizeof one) < 0) {
			/* cannot overflow in practice */
		}
	}
	if (c)
		PQfinish(c);
	return NULL;
}

/* Hands the finished jobs to the completer. */
static void handoff(struct worker *w)
{
	if (!w->finished)
		return;
	struct queue_job *tail = w->finished;
	while (tail->next)
		tail = tail->next;
	pthread_mutex_lock(&w->cmu);
	tail->next = w->cp_head;
	w->cp_head = w->finished;
	w->cp_n += w->n_finished;
	w->cp_nq += w->n_finished;
	pthread_cond_signal(&w->ccv);
	pthread_mutex_unlock(&w->cmu);
	w->finished = NULL;
	w->n_finished = 0;
}

/* Jobs handed over and not yet acknowledged (0 = completer idle). */
static int completer_backlog(struct worker *w)
{
	pthread_mutex_lock(&w->cmu);
	int n = w->cp_n + w->cp_busy;
	pthread_mutex_unlock(&w->cmu);
	return n;
}

static void finish(struct worker *w, struct queue_job *j)
{
	for (int i = 0; i < w->n_running; i++) {
		if (w->running[i] == j) {
			w->running[i] = w->running[--w->n_running];
			break;
		}
	}
	j->next = w->finished;
	w->finished = j;
	w->n_finished++;
}

static void collect_done(struct worker *w)
{
	uint64_t v;
	if (read(w->efd, &v, sizeof v) < 0) {
		/* EAGAIN: nothing signalled */
	}
	pthread_mutex_lock(&w->mu);
	struct queue_job *d = w->done_head;
	w->done_head = NULL;
	pthread_mutex_unlock(&w->mu);
	while (d) {
		struct queue_job *n = d->next;
		finish(w, d);
		d = n;
	}
}

static void dispatch(struct worker *w, struct queue_job *j);

/* Starts claimed-ahead jobs while slots are free (FIFO: claim order). A job
 * cancelled while it waited is dropped without running. */
static void dispatch_pending(struct worker *w)
{
	while (w->n_pending > 0 && w->n_running < w->o->concurrency) {
		struct queue_job *j = w->pending[w->pend_head];
		w->pend_head = (w->pend_head + 1) % w->cap_pending;
		w->n_pending--;
		if (queue_job_cancelled(j)) {
			j->outcome = QJ_DROPPED;
			j->next = w->finished;
			w->finished = j;
			w->n_finished++;
			continue;
		}
		dispatch(w, j);
	}
}

static void dispatch(struct worker *w, struct queue_job *j)
{
	w->running[w->n_running++] = j;
	j->started_ns = pane_mono_ns();
	if (w->h->inline_run) {
		run_handler(w, j);
		finish(w, j);
		return;
	}
	pthread_mutex_lock(&w->mu);
	j->next = NULL;
	if (w->work_tail)
		w->work_tail->next = j;
	else
		w->work_head = j;
	w->work_tail = j;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Jobs the next claim may take: the free slots plus the room left in the
 * prefetch. */
static int claim_room(struct worker *w)
{
	return w->o->concurrency - w->n_running + w->o->prefetch - w->n_pending;
}

/* The next claim of a queue starts after the last row of this one (rows
 * come in claim order: priority, run_at, id); an empty claim found the queue
 * empty from the head on, so the next one starts there. */
static void remember_claim_key(struct claim_key *k, const PGresult *r, int rows)
{
	k->set = false;
	if (rows == 0 || PQgetlength(r, rows - 1, 7) >= (int)sizeof k->priority ||
	    PQgetlength(r, rows - 1, 8) >= (int)sizeof k->run_at || PQgetlength(r, rows - 1, 0) >= (int)sizeof k->id)
		return;
	memcpy(k->priority, PQgetvalue(r, rows - 1, 7), (size_t)PQgetlength(r, rows - 1, 7) + 1);
	memcpy(k->run_at, PQgetvalue(r, rows - 1, 8), (size_t)PQgetlength(r, rows - 1, 8) + 1);
	memcpy(k->id, PQgetvalue(r, rows - 1, 0), (size_t)PQgetlength(r, rows - 1, 0) + 1);
	k->set = true;
}

/* Claims up to the free slots plus the prefetch room from each queue in
 * turn; what does not fit a slot waits in pending, its lease held (and
 * renewed by the heartbeat). Returns jobs claimed, -1 on a connection
 * failure. */
static int claim(struct worker *w)
{
	int total = 0;
	for (int qi = 0; qi < w->o->n_queues; qi++) {
		int free_slots = claim_room(w);
		if (free_slots <= 0)
			break;
		if (free_slots > w->o->batch_max)
			free_slots = w->o->batch_max;
		char n[16], lease[32];
		snprintf(n, sizeof n, "%d", free_slots);
		snprintf(lease, sizeof lease, "%.3f", (double)w->o->lease_ms / 1000.0);
		struct claim_key *k = &w->keys[qi];
		const char *p[7] = {w->id,
		                    w->o->queues[qi],
		                    n,
		                    lease,
		                    k->set ? k->priority : NULL,
		                    k->set ? k->run_at : NULL,
		                    k->set ? k->id : NULL};
		PGresult *r = q(w, w->sql_claim, w->keyed_claim ? 7 : 4, p, "claiming jobs");
		if (!r)
			return conn_ok(w) ? total : -1;
		int rows = PQntuples(r);
		if (w->keyed_claim)
			remember_claim_key(k, r, rows);
		for (int i = 0; i < rows; i++) {
			struct queue_job *j = pane_xcalloc(1, sizeof *j);
			j->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
			j->attempt = (int)strtol(PQgetvalue(r, i, 1), NULL, 10);
			j->max_attempts = (int)strtol(PQgetvalue(r, i, 2), NULL, 10);
			j->queue = pane_xstrdup(PQgetvalue(r, i, 3));
			j->timeout_ms = strtoll(PQgetvalue(r, i, 4), NULL, 10);
			double pickup = strtod(PQgetvalue(r, i, 5), NULL);
			if (!w->h->inline_run) {
				struct pane_buf b;
				pane_buf_init(&b, PANE_BUF_NOLIMIT);
				struct pane_json js;
				pane_json_init(&js, &b);
				pane_json_obj(&js);
				pane_json_key(&js, "id");
				pane_json_int(&js, j->id);
				pane_json_key(&js, "queue");
				pane_json_str(&js, j->queue);
				pane_json_key(&js, "attempt");
				pane_json_int(&js, j->attempt);
				pane_json_key(&js, "max_attempts");
				pane_json_int(&js, j->max_attempts);
				pane_json_key(&js, "payload");
				pane_json_raw(&js, PQgetvalue(r, i, 6)); /* jsonb's text */
				pane_json_obj_end(&js);
				j->json = pane_buf_detach(&b, NULL);
				if (w->o->handler == PANE_HANDLER_FUNC)
					j->payload = pane_xstrdup(PQgetvalue(r, i, 6));
			}
			__atomic_store(&w->st->pickup_ms_last, &pickup, __ATOMIC_RELAXED);
			double mx;
			__atomic_load(&w->st->pickup_ms_max, &mx, __ATOMIC_RELAXED);
			if (pickup > mx)
				__atomic_store(&w->st->pickup_ms_max, &pickup, __ATOMIC_RELAXED);
			w->pending[(w->pend_head + w->n_pending) % w->cap_pending] = j;
			w->n_pending++;
		}
		dispatch_pending(w);
		stat_add(&w->st->claimed, (uint64_t)rows);
		total += rows;
		PQclear(r);
	}
	return total;
}

/* A job this worker holds, running or claimed ahead; NULL if none. */
static struct queue_job *find_running(struct worker *w, int64_t id)
{
	for (int i = 0; i < w->n_running; i++)
		if (w->running[i]->id == id)
			return w->running[i];
	for (int i = 0; i < w->n_pending; i++) {
		struct queue_job *j = w->pending[(w->pend_head + i) % w->cap_pending];
		if (j->id == id)
			return j;
	}
	return NULL;
}

/* All jobs whose leases this worker holds: running, then pending (the
 * caller frees the array, not the jobs). */
static struct queue_job **held_jobs(struct worker *w, int *n)
{
	struct queue_job **v = pane_xcalloc((size_t)(w->n_running + w->n_pending) + 1, sizeof *v);
	int k = 0;
	for (int i = 0; i < w->n_running; i++)
		v[k++] = w->running[i];
	for (int i = 0; i < w->n_pending; i++)
		v[k++] = w->pending[(w->pend_head + i) % w->cap_pending];
	*n = k;
	return v;
}

/* Gives the claimed-ahead jobs back without using an attempt
 * (pane.release_jobs) and frees them. Their handlers never started. */
static void release_pending(struct worker *w)
{
	if (w->n_pending == 0)
		return;
	int n = w->n_pending;
	struct queue_job **v = pane_xcalloc((size_t)n, sizeof *v);
	for (int i = 0; i < n; i++)
		v[i] = w->pending[(w->pend_head + i) % w->cap_pending];
	struct pane_buf ids, atts;
	pane_buf_init(&ids, PANE_BUF_NOLIMIT);
	pane_buf_init(&atts, PANE_BUF_NOLIMIT);
	array_text(&ids, &atts, v, n);
	const char *p[3] = {w->id, ids.data, atts.data};
	PGresult *r = q(w, w->sql_release, 3, p, "releasing claimed-ahead jobs");
	if (r) {
		pane_info("queue", "gave back %s claimed-ahead job(s) that had not started", PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	pane_buf_release(&ids);
	pane_buf_release(&atts);
	for (int i = 0; i < n; i++)
		job_free(v[i]);
	free(v);
	w->n_pending = 0;
	w->pend_head = 0;
}

static void stop_job(struct queue_job *j, int why)
{
	int expected = 0;
	atomic_compare_exchange_strong(&j->cancel, &expected, why);
	int pg = atomic_load(&j->pgid);
	if (pg > 0)
		kill(-pg, SIGKILL);
}

/* Renews leases; stops handlers of jobs no longer held. */
static bool heartbeat(struct worker *w)
{
	struct pane_buf ids, atts, stats;
	pane_buf_init(&ids, PANE_BUF_NOLIMIT);
	pane_buf_init(&atts, PANE_BUF_NOLIMIT);
	pane_buf_init(&stats, PANE_BUF_NOLIMIT);
	int n_held;
	struct queue_job **held = held_jobs(w, &n_held);
	array_text(&ids, &atts, held, n_held);
	free(held);
	struct pane_queue_worker_stats s = *w->st;
	struct pane_json js;
	pane_json_init(&js, &stats);
	pane_json_obj(&js);
	const struct {
		const char *name;
		uint64_t v;
	} counts[] = {{"claimed", s.claimed},      {"processed", s.processed},     {"failed", s.failed},
	              {"retried", s.retried},      {"lost_leases", s.lost_leases}, {"cancelled", s.cancelled},
	              {"reconnects", s.reconnects}};
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		pane_json_key(&js, counts[i].name);
		pane_json_uint(&js, counts[i].v);
	}
	pane_json_key(&js, "run_seconds");
	pane_json_rawf(&js, "%.3f", s.run_seconds);
	pane_json_key(&js, "pickup_ms_last");
	pane_json_rawf(&js, "%.3f", s.pickup_ms_last);
	pane_json_key(&js, "running");
	pane_json_int(&js, w->n_running);
	pane_json_obj_end(&js);
	char lease[32];
	snprintf(lease, sizeof lease, "%.3f", (double)w->o->lease_ms / 1000.0);
	const char *p[5] = {w->id, ids.data, atts.data, lease, stats.data};
	PGresult *r = q(w, w->sql_heartbeat, 5, p, "heartbeat");
	pane_buf_release(&ids);
	pane_buf_release(&atts);
	pane_buf_release(&stats);
	if (!r)
		return conn_ok(w);
	for (int i = 0; i < PQntuples(r); i++) {
		struct queue_job *j = find_running(w, strtoll(PQgetvalue(r, i, 0), NULL, 10));
		if (j) {
			pane_info("queue",
			          "job %" PRId64
			          " is no longer held by this worker (cancelled or lease lost): stopping it",
			          j->id);
			stop_job(j, 1);
		}
	}
	PQclear(r);
	return true;
}

static void handle_notifies(struct worker *w)
{
	if (!w->conn)
		return;
	PQconsumeInput(w->conn);
	PGnotify *n;
	while ((n = PQnotifies(w->conn)) != NULL) {
		if (strcmp(n->relname, "pane_cancel") == 0) {
			struct queue_job *j = find_running(w, strtoll(n->extra, NULL, 10));
			if (j) {
				pane_info("queue", "job %" PRId64 " was cancelled: stopping its handler", j->id);
				stop_job(j, 1);
			}
		} else {
			/* jobs were inserted: some may sort before the claim key */
			for (int i = 0; i < w->o->n_queues; i++)
				if (strcmp(n->extra, w->o->queues[i]) == 0) {
					w->wake_claim = true;
					w->keys[i].set = false;
				}
		}
		PQfreemem(n);
	}
}

/* rescue, retention, cron */
static void maintenance(struct worker *w)
{
	/* retries, rescued and given-back jobs send no NOTIFY: whatever became
	 * runnable before a claim key is found from the head at least this often */
	forget_claim_keys(w);
	char sql[256], base[32];
	snprintf(base, sizeof base, "%g", w->o->backoff_base_s);
	snprintf(sql, sizeof sql, "SELECT %s.rescue($1::float8, $2::float8)", w->schema);
	char ttl[32];
	snprintf(ttl, sizeof ttl, "%.3f", 3.0 * (double)w->o->lease_ms / 1000.0);
	const char *p[2] = {base, ttl};
	PGresult *r = q(w, sql, 2, p, "rescuing expired leases");
	if (r) {
		uint64_t n = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		if (n)
			pane_info("queue", "rescued %" PRIu64 " job(s) whose lease expired", n);
		stat_add(&w->st->rescued, n);
		PQclear(r);
	}
	snprintf(sql, sizeof sql, "SELECT %s.prune_history()", w->schema);
	if ((r = q(w, sql, 0, NULL, "pruning history")))
		PQclear(r);
	if (!w->o->no_cron)
		pane_queue_cron_tick(w->conn, w->schema);
}

/* --drain: are jobs of our queues runnable now but held back by a queue's
 * rate or concurrency limit (claim returned none)? Paused queues and jobs
 * scheduled for later do not count. A failed query counts as "no": the
 * drain ends as it did before the check. */
static bool runnable_left(struct worker *w)
{
	char sql[320];
	snprintf(sql, sizeof sql,
	         "SELECT EXISTS (SELECT 1 FROM %s.jobs j WHERE j.state = 'available' AND j.run_at <= now()"
	         " AND j.queue = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))"
	         " AND NOT EXISTS (SELECT 1 FROM %s.queues q WHERE q.name = j.queue AND q.paused))::text",
	         w->schema, w->schema);
	struct pane_buf qa;
	pane_buf_init(&qa, PANE_BUF_NOLIMIT);
	queues_json(w, &qa);
	const char *p[1] = {qa.data};
	PGresult *r = q(w, sql, 1, p, "checking for jobs held back by limits");
	pane_buf_release(&qa);
	bool left = r && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "true") == 0;
	PQclear(r);
	return left;
}

/* --drain on a terminal: one line, rewritten in place, with what is done
 * and what is left (runnable now in the worker's queues). */
static void show_progress(struct worker *w, bool last)
{
	char sql[256];
	snprintf(sql, sizeof sql,
	         "SELECT count(*) FROM %s.jobs WHERE state = 'available' AND run_at <= now()"
	         " AND queue = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))",
	         w->schema);
	struct pane_buf qa;
	pane_buf_init(&qa, PANE_BUF_NOLIMIT);
	queues_json(w, &qa);
	const char *p[1] = {qa.data};
	PGresult *r = q(w, sql, 1, p, "counting remaining jobs");
	pane_buf_release(&qa);
	long long left = r && PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
	PQclear(r);
	uint64_t done = __atomic_load_n(&w->st->processed, __ATOMIC_RELAXED);
	uint64_t failed = __atomic_load_n(&w->st->failed, __ATOMIC_RELAXED);
	uint64_t retried = __atomic_load_n(&w->st->retried, __ATOMIC_RELAXED);
	fprintf(stderr,
	        "\rdrain: %" PRIu64 " done, %" PRIu64 " failed, %" PRIu64 " retried, %d running, %lld remaining   %s",
	        done, failed, retried, w->n_running + w->n_pending, left, last ? "\n" : "");
	fflush(stderr);
}

static bool stop_requested(struct worker *w)
{
	return pane_signals_stop_requested() || (w->o->stop && *w->o->stop);
}

/* Graceful end: wait up to grace for running jobs, then kill and release. */
static void shutdown_running(struct worker *w)
{
	int64_t end = pane_mono_ns() + w->o->grace_ms * 1000000;
	release_pending(w);
	if (w->n_running)
		pane_info("queue", "stopping: waiting up to %" PRId64 " ms for %d running job(s)", w->o->grace_ms,
		          w->n_running);
	while (w->n_running > 0 && pane_mono_ns() < end && pane_signals_count() < 2) {
		struct pollfd p = {.fd = w->efd, .events = POLLIN};
		poll(&p, 1, 100);
		collect_done(w);
		handoff(w);
	}
	if (w->n_running > 0) {
		struct pane_buf ids, atts;
		pane_buf_init(&ids, PANE_BUF_NOLIMIT);
		pane_buf_init(&atts, PANE_BUF_NOLIMIT);
		array_text(&ids, &atts, w->running, w->n_running);
		for (int i = 0; i < w->n_running; i++)
			stop_job(w->running[i], 2);
		const char *p[3] = {w->id, ids.data, atts.data};
		PGresult *r = q(w, w->sql_release, 3, p, "releasing jobs");
		if (r) {
			pane_info("queue", "gave back %s job(s) still running after the grace period",
			          PQgetvalue(r, 0, 0));
			PQclear(r);
		}
		pane_buf_release(&ids);
		pane_buf_release(&atts);
	}
}

int pane_queue_worker_run(const struct pane_queue_worker_opts *opts_in, struct pane_queue_worker_stats *stats,
                          struct pane_err *err)
{
	struct pane_queue_worker_opts o = *opts_in;
	struct pane_queue_worker_stats local_stats = {0};
	if (!o.schema)
		o.schema = PANE_QUEUE_DEFAULT_SCHEMA;
	if (!pane_queue_schema_valid(o.schema))
		return pane_err_set(err, PANE_EINVAL, "invalid schema name '%s'", o.schema);
	if (o.n_queues < 1)
		return pane_err_set(err, PANE_EINVAL, "no queues given");
	const struct pane_queue_handler_ops *ops = pane_queue_handler_ops(o.handler);
	if (!ops)
		return pane_err_set(err, PANE_EINVAL, "unknown handler kind %d", (int)o.handler);
	if (o.handler == PANE_HANDLER_FUNC && !o.handler_fn)
		return pane_err_set(err, PANE_EINVAL, "handler function missing (PANE_HANDLER_FUNC needs handler_fn)");
	if (o.concurrency <= 0)
		o.concurrency = 10;
	if (o.poll_ms <= 0)
		o.poll_ms = 1000;
	if (o.lease_ms <= 0)
		o.lease_ms = 30000;
	if (o.grace_ms <= 0)
		o.grace_ms = 10000;
	if (o.backoff_base_s <= 0)
		o.backoff_base_s = 1;
	if (o.maintenance_ms <= 0)
		o.maintenance_ms = 1000;
	if (o.prefetch < 0)
		o.prefetch = 0;
	if (o.batch_max <= 0)
		o.batch_max = o.concurrency + o.prefetch;
	struct worker w = {.o = &o, .h = ops, .st = stats ? stats : &local_stats, .schema = o.schema, .efd = -1};
	w.keys = pane_xcalloc((size_t)o.n_queues, sizeof *w.keys);
	char host[64] = "host";
	gethostname(host, sizeof host - 1);
	snprintf(w.id, sizeof w.id, "%s-%d-%04x", host, (int)getpid(), (unsigned)(pane_mono_ns() & 0xffff));
	snprintf(w.sql_complete, sizeof w.sql_complete,
	         "SELECT %s.complete_jobs($1, $2::bigint[], $3::int[],"
	         " ARRAY(SELECT e FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY t(e, o) ORDER BY o))",
	         o.schema);
	snprintf(w.sql_fail, sizeof w.sql_fail,
	         "SELECT * FROM %s.fail_jobs($1, $2::bigint[], $3::int[],"
	         " ARRAY(SELECT e FROM jsonb_array_elements_text($4::jsonb) WITH ORDINALITY t(e, o) ORDER BY o),"
	         " $5::boolean[], $6::float8)",
	         o.schema);
	snprintf(w.sql_heartbeat, sizeof w.sql_heartbeat,
	         "SELECT %s.heartbeat($1, $2::bigint[], $3::int[], $4::float8, $5::jsonb)", o.schema);
	snprintf(w.sql_release, sizeof w.sql_release, "SELECT %s.release_jobs($1, $2::bigint[], $3::int[])", o.schema);

	pane_signals_install();
	int rc = connect_db(&w, err);
	if (rc < 0) {
		free(w.keys);
		return rc;
	}
	w.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	pthread_mutex_init(&w.cmu, NULL);
	pthread_cond_init(&w.ccv, NULL);
	for (int i = 0; i < N_COMPLETERS; i++)
		if (pthread_create(&w.cp_thread[w.n_cp], NULL, completer, &w) == 0)
			w.n_cp++;
	if (w.n_cp == 0) {
		close_conn(&w);
		close(w.efd);
		free(w.keys);
		return pane_err_set(err, PANE_EIO, "cannot start the completer thread");
	}
	w.running = pane_xcalloc((size_t)o.concurrency, sizeof *w.running);
	w.cap_pending = o.concurrency + o.prefetch;
	w.pending = pane_xcalloc((size_t)w.cap_pending, sizeof *w.pending);
	if (!w.h->inline_run) {
		w.threads = pane_xcalloc((size_t)o.concurrency, sizeof *w.threads);
		for (int i = 0; i < o.concurrency; i++) {
			if (pthread_create(&w.threads[i], NULL, executor, &w) != 0)
				break;
			w.n_threads++;
		}
	}
	pane_info("queue", "worker %s started: queues=%d concurrency=%d %s", w.id, o.n_queues, o.concurrency,
	          o.poll_only ? "poll-only" : "listen+poll");
	int64_t last_hb = pane_mono_ns(), last_maint = 0, last_poll = 0, last_progress = pane_mono_ns();
	int64_t hb_ns = o.lease_ms * 1000000 / 3;
	while (!stop_requested(&w)) {
		if (!conn_ok(&w)) {
			reconnect(&w, stop_requested);
			continue;
		}
		collect_done(&w);
		dispatch_pending(&w);
		handoff(&w);
		int64_t now = pane_mono_ns();
		if (now - last_maint >= o.maintenance_ms * 1000000) {
			maintenance(&w);
			last_maint = now;
		}
		if (o.drain && o.progress && now - last_progress >= 1000000000) {
			show_progress(&w, false);
			last_progress = now;
		}
		if (now - last_hb >= hb_ns) {
			if (!heartbeat(&w))
				continue;
			last_hb = now;
		}
		int got = 0;
		int backlog = completer_backlog(&w);
		/* back-pressure: do not run ahead of acknowledgements by more than
		 * one batch per completer plus one waiting */
		bool want_claim = claim_room(&w) > 0 && backlog <= (N_COMPLETERS + 1) * o.batch_max;
		if (want_claim) {
			/* an insert arrived during a busy stretch: its NOTIFY drops
			 * the queue's claim key before this claim, not after it */
			if (w.keyed_claim)
				handle_notifies(&w);
			got = claim(&w);
			if (got < 0)
				continue;
			last_poll = pane_mono_ns();
			w.wake_claim = false;
		}
		if (got > 0 || w.finished)
			continue; /* more may be waiting: go round at once */
		bool held_back = false;
		if (o.drain && want_claim && w.n_running == 0 && w.n_pending == 0 && !w.finished && backlog == 0) {
			held_back = runnable_left(&w);
			if (!held_back) {
				if (o.progress)
					show_progress(&w, true);
				pane_info("queue", "drained: nothing runnable is left");
				break;
			}
		}
		/* idle: wait for a NOTIFY, a finished handler, a signal or the poll tick */
		int64_t wait_ms = o.poll_ms - (pane_mono_ns() - last_poll) / 1000000;
		int64_t to_hb = (last_hb + hb_ns - pane_mono_ns()) / 1000000;
		if (to_hb < wait_ms)
			wait_ms = to_hb;
		int64_t to_maint = (last_maint + o.maintenance_ms * 1000000 - pane_mono_ns()) / 1000000;
		if (to_maint < wait_ms)
			wait_ms = to_maint;
		if (held_back && wait_ms > 50)
			wait_ms = 50; /* a rate or concurrency limit frees up without a NOTIFY */
		if (wait_ms < 0)
			wait_ms = 0;
		handle_notifies(&w);
		if (w.wake_claim && want_claim)
			continue;
		w.wake_claim = false; /* slots or acknowledgements are full: the next turn claims anyway */
		struct pollfd p[3] = {{.fd = w.efd, .events = POLLIN},
		                      {.fd = pane_signals_fd(), .events = POLLIN},
		                      {.fd = w.conn ? PQsocket(w.conn) : -1, .events = POLLIN}};
		poll(p, 3, (int)wait_ms);
		if (p[2].revents)
			handle_notifies(&w);
	}
	shutdown_running(&w);
	pthread_mutex_lock(&w.mu);
	w.quit = true;
	pthread_cond_broadcast(&w.cv);
	pthread_mutex_unlock(&w.mu);
	for (int i = 0; i < w.n_threads; i++)
		pthread_join(w.threads[i], NULL);
	collect_done(&w);
	handoff(&w);
	/* let the completer acknowledge the rest; give up after the grace period */
	int64_t give_up = pane_mono_ns() + o.grace_ms * 1000000;
	while (completer_backlog(&w) > 0 && pane_mono_ns() < give_up && pane_signals_count() < 2)
		pane_sleep_ms(5);
	atomic_store(&w.cp_abandon, 1);
	pthread_mutex_lock(&w.cmu);
	w.cp_quit = true;
	pthread_cond_broadcast(&w.ccv);
	pthread_mutex_unlock(&w.cmu);
	for (int i = 0; i < w.n_cp; i++)
		pthread_join(w.cp_thread[i], NULL);
	if (conn_ok(&w)) {
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT %s.unregister_worker($1)::text", o.schema);
		const char *p[1] = {w.id};
		PGresult *r = q(&w, sql, 1, p, "unregistering the worker");
		PQclear(r);
	}
	while (w.finished) {
		struct queue_job *j = w.finished;
		w.finished = j->next;
		job_free(j);
	}
	for (int i = 0; i < w.n_running; i++)
		job_free(w.running[i]);
	for (int i = 0; i < w.n_pending; i++)
		job_free(w.pending[(w.pend_head + i) % w.cap_pending]);
	free(w.pending);
	pane_info("queue",
	          "worker %s stopped: processed=%" PRIu64 " failed=%" PRIu64 " retried=%" PRIu64
	          " lost_leases=%" PRIu64,
	          w.id, w.st->processed, w.st->failed, w.st->retried, w.st->lost_leases);
	close_conn(&w);
	free(w.running);
	free(w.keys);
	free(w.threads);
	close(w.efd);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.cmu);
	pthread_cond_destroy(&w.ccv);
	return 0;
}
