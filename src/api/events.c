/*
 * events.c - GET /v1/jobs/{id}/events: live job status over Server-Sent Events.
 *
 * Idea: ONE PostgreSQL connection LISTENs on pane_job_done for every SSE
 * client of the process, and one thread serves them all. A client is a
 * subscription (job id, stream, last state sent). When a notification names
 * a watched job, or a subscription is new, or the shared refresh tick comes
 * (every REFRESH_MS, for the available -> running change that has no
 * notification), the thread reads the state of all such jobs in one query
 * and writes an event to each client whose job changed state. A finished
 * job (completed, failed, cancelled) gets its last event and its stream is
 * closed. Idle streams cost no thread: the server suspends them.
 *
 * The race "job finishes between the client's first read and its
 * subscription" is closed by re-reading every new subscription once after
 * it is listed, while the LISTEN is already active.
 *
 * Invariants:
 *   (1) at most one LISTEN connection; after a reconnect every subscription
 *       is re-read (notifications may have been missed);
 *   (2) a client sees its job's states in order, each at most once, and the
 *       final state exactly once, then end of stream;
 *   (3) subscriptions are bounded (MAX_SUBS; more answer 503).
 *
 * Threads: handlers add subscriptions (mutex + wake pipe); the hub thread
 * does everything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/internal.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/stats.h"
#include "base/str.h"
#include "http/sse.h"
#include "pane/queue.h"

#define REFRESH_MS 2000
#define HEARTBEAT_MS 15000
#define MAX_SUBS 10000

struct sub {
	int64_t id;
	struct pane_http_stream *st;
	char state[16];
	bool fresh; /* re-read at the next turn */
	struct sub *next;
};

struct pane_api_events {
	struct pane_api *api;
	pthread_t thread;
	bool started;
	int wake[2];
	pthread_mutex_t mu;
	struct sub *subs;
	size_t n_subs;
	bool stop;
	struct pane_stat *st_clients;
};

static bool final_state(const char *s)
{
	return strcmp(s, "completed") == 0 || strcmp(s, "failed") == 0 || strcmp(s, "cancelled") == 0;
}

static void poke(struct pane_api_events *ev)
{
	char c = 1;
	ssize_t w = write(ev->wake[1], &c, 1);
	(void)w;
}

/* Caller holds mu. Removes and closes s (prev is its predecessor or NULL). */
static void drop(struct pane_api_events *ev, struct sub *prev, struct sub *s)
{
	if (prev)
		prev->next = s->next;
	else
		ev->subs = s->next;
	pane_http_stream_close(s->st);
	free(s);
	ev->n_subs--;
	if (ev->st_clients)
		pane_stat_set(ev->st_clients, (double)ev->n_subs);
}

/* One job's state (pane_queue_jobs_each): sends it to the fresh
 * subscriptions of that job when it changed. */
static void on_job(void *arg, int64_t id, const char *state, const char *json)
{
	struct pane_api_events *ev = arg;
	pthread_mutex_lock(&ev->mu);
	struct sub *prev = NULL, *s = ev->subs;
	while (s) {
		struct sub *next = s->next;
		if (s->id != id || !s->fresh) {
			prev = s;
			s = next;
			continue;
		}
		s->fresh = false;
		int rc = 0;
		if (!state) {
			pane_http_sse_send(
			    s->st, "error", NULL,
			    "{\"error\":{\"code\":\"not_found\",\"message\":\"the job no longer exists\"}}");
			drop(ev, prev, s);
			s = next;
			continue;
		}
		if (strcmp(s->state, state) != 0) {
			rc = pane_http_sse_send(s->st, NULL, state, json);
			snprintf(s->state, sizeof s->state, "%s", state);
		}
		if (rc < 0 || final_state(state)) {
			drop(ev, prev, s);
		} else {
			prev = s;
		}
		s = next;
	}
	pthread_mutex_unlock(&ev->mu);
}

/* Reads the state of every fresh subscription's job and sends what changed. */
static int refresh(struct pane_api_events *ev, PGconn *c)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	pthread_mutex_lock(&ev->mu);
	for (struct sub *s = ev->subs; s; s = s->next) {
		if (!s->fresh)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = pane_xrealloc(ids, pane_mul_size(cap, sizeof *ids));
		}
		ids[n++] = s->id;
	}
	pthread_mutex_unlock(&ev->mu);
	struct pane_err err = {0};
	int rc = pane_queue_jobs_each(c, ev->api->schema, ids, n, on_job, ev, &err);
	free(ids);
	if (rc < 0) {
		pane_warn("api", "job events: cannot read job states: %s", err.msg);
		return -1;
	}
	return 0;
}

static void mark_all(struct pane_api_events *ev)
{
	pthread_mutex_lock(&ev->mu);
	for (struct sub *s = ev->subs; s; s = s->next)
		s->fresh = true;
	pthread_mutex_unlock(&ev->mu);
}

static void heartbeat(struct pane_api_events *ev)
{
	pthread_mutex_lock(&ev->mu);
	struct sub *prev = NULL, *s = ev->subs;
	while (s) {
		struct sub *next = s->next;
		if (pane_http_sse_comment(s->st, "keep-alive") < 0)
			drop(ev, prev, s); /* the client left */
		else
			prev = s;
		s = next;
	}
	pthread_mutex_unlock(&ev->mu);
}

static void *hub(void *arg)
{
	struct pane_api_events *ev = arg;
	PGconn *c = NULL;
	int64_t last_refresh = pane_mono_ns(), last_beat = pane_mono_ns();
	for (;;) {
		pthread_mutex_lock(&ev->mu);
		bool stop = ev->stop;
		bool any = ev->subs != NULL;
		pthread_mutex_unlock(&ev->mu);
		if (stop)
			break;
		if (!c) {
			struct pane_err err = {0};
			c = pane_api_connect(ev->api->url, &err);
			if (c) {
				PGresult *r = PQexec(c, "LISTEN pane_job_done");
				if (PQresultStatus(r) != PGRES_COMMAND_OK) {
					PQfinish(c);
					c = NULL;
				}
				PQclear(r);
			}
			if (!c) {
				struct pollfd p = {ev->wake[0], POLLIN, 0};
				poll(&p, 1, 1000);
				char buf[64];
				while (read(ev->wake[0], buf, sizeof buf) > 0) {
				}
				continue;
			}
			mark_all(ev); /* notifications may have been missed */
		}
		struct pollfd p[2] = {{PQsocket(c), POLLIN, 0}, {ev->wake[0], POLLIN, 0}};
		int timeout = any ? REFRESH_MS : HEARTBEAT_MS;
		poll(p, 2, timeout);
		if (p[1].revents) {
			char buf[64];
			while (read(ev->wake[0], buf, sizeof buf) > 0) {
			}
		}
		if (!PQconsumeInput(c)) {
			pane_warn("api", "job events: LISTEN connection lost; reconnecting");
			PQfinish(c);
			c = NULL;
			continue;
		}
		PGnotify *nt;
		while ((nt = PQnotifies(c))) {
			int64_t id;
			if (pane_str_to_i64(pane_str_c(nt->extra), &id) == 0) {
				pthread_mutex_lock(&ev->mu);
				for (struct sub *s = ev->subs; s; s = s->next)
					if (s->id == id)
						s->fresh = true;
				pthread_mutex_unlock(&ev->mu);
			}
			PQfreemem(nt);
		}
		int64_t now = pane_mono_ns();
		if (now - last_refresh >= (int64_t)REFRESH_MS * 1000000) {
			mark_all(ev);
			last_refresh = now;
		}
		if (refresh(ev, c) < 0 && PQstatus(c) != CONNECTION_OK) {
			PQfinish(c);
			c = NULL;
		}
		if (now - last_beat >= (int64_t)HEARTBEAT_MS * 1000000) {
			heartbeat(ev);
			last_beat = now;
		}
	}
	if (c)
		PQfinish(c);
	return NULL;
}

struct pane_api_events *pane_api_events_new(struct pane_api *api, struct pane_err *err)
{
	struct pane_api_events *ev = pane_xcalloc(1, sizeof *ev);
	ev->api = api;
	if (pipe2(ev->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		pane_err_set(err, PANE_EIO, "cannot create a pipe: %s", strerror(errno));
		free(ev);
		return NULL;
	}
	pthread_mutex_init(&ev->mu, NULL);
	if (api->stats)
		ev->st_clients = pane_stats_gauge(api->stats, "pane_api_sse_clients", NULL,
		                                  "clients watching a job over Server-Sent Events");
	pthread_create(&ev->thread, NULL, hub, ev);
	ev->started = true;
	return ev;
}

void pane_api_events_free(struct pane_api_events *ev)
{
	if (!ev)
		return;
	pthread_mutex_lock(&ev->mu);
	ev->stop = true;
	pthread_mutex_unlock(&ev->mu);
	poke(ev);
	if (ev->started)
		pthread_join(ev->thread, NULL);
	while (ev->subs)
		drop(ev, NULL, ev->subs);
	close(ev->wake[0]);
	close(ev->wake[1]);
	pthread_mutex_destroy(&ev->mu);
	free(ev);
}

static void h_events(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_api *api = ctx;
	struct pane_api_events *ev = api->events;
	const char *ids = pane_http_req_param(req, "id");
	int64_t id;
	if (!ids || pane_str_to_i64(pane_str_c(ids), &id) < 0 || id <= 0) {
		pane_http_resp_error(resp, 400, "invalid_job_id", "job ids are positive integers");
		return;
	}
	char idtxt[24];
	snprintf(idtxt, sizeof idtxt, "%lld", (long long)id);
	char *json = NULL;
	struct pane_err err = {0};
	if (pane_api_job(api, id, &json, &err) < 0) {
		if (err.code == PANE_ENOTFOUND)
			pane_http_resp_error(resp, 404, "not_found", "no job %s", idtxt);
		else
			pane_api_error_resp(resp, &err);
		free(json);
		return;
	}
	json_t *j = json_loads(json, 0, NULL);
	const char *state = j ? json_string_value(json_object_get(j, "state")) : NULL;
	char st[16];
	snprintf(st, sizeof st, "%s", state ? state : "");
	json_decref(j);

	pthread_mutex_lock(&ev->mu);
	bool full = ev->n_subs >= MAX_SUBS;
	pthread_mutex_unlock(&ev->mu);
	if (full) {
		free(json);
		pane_http_resp_header(resp, "Retry-After", "5");
		pane_http_resp_error(resp, 503, "unavailable", "too many clients are watching jobs; retry later");
		return;
	}
	struct pane_http_stream *stream = pane_http_sse_start(resp, 3000);
	pane_http_sse_send(stream, NULL, st, json);
	free(json);
	if (final_state(st)) {
		pane_http_stream_close(stream);
		return;
	}
	struct sub *s = pane_xcalloc(1, sizeof *s);
	s->id = id;
	s->st = stream;
	snprintf(s->state, sizeof s->state, "%s", st);
	s->fresh = true; /* re-read once now that LISTEN covers it */
	pthread_mutex_lock(&ev->mu);
	s->next = ev->subs;
	ev->subs = s;
	ev->n_subs++;
	if (ev->st_clients)
		pane_stat_set(ev->st_clients, (double)ev->n_subs);
	pthread_mutex_unlock(&ev->mu);
	poke(ev);
}

void pane_api_events_route(struct pane_api *api, struct pane_http_server *srv)
{
	pane_http_server_route(
	    srv,
	    &(struct pane_http_route){
	        .method = "GET", .pattern = "/v1/jobs/{id}/events", .handler = h_events, .ctx = api, .scope = "read"});
}
