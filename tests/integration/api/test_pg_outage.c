/* test_pg_outage.c - the jobs API when PostgreSQL drops or freezes.
 *
 * pane serve reaches PostgreSQL through a tcpproxy (tests/support) that the
 * test cuts (every connection closed without a word: a server that died) or
 * freezes (nothing answered, the kernel still ACKs: a SIGSTOPped server).
 *
 *   dropped: an enqueue on the dead connection answers 503 with libpq's own
 *            text ("server closed the connection unexpectedly"), not bytes
 *            of a freed PGconn (the batcher read the message after
 *            PQfinish); the next one reconnects and succeeds.
 *   frozen:  requests that need PostgreSQL (reads on the pool, /readyz,
 *            enqueues through the batcher) answer 503 within their
 *            deadlines instead of waiting forever, and however many there
 *            are, /healthz keeps answering meanwhile; after the thaw all is
 *            well again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_common.h"
#include "rawhttp.h"
#include "tcpproxy.h"

#define JSON "application/json"

static struct api_env env;
static struct pt_proxy *proxy;

static int setup(void **state)
{
	(void)state;
	proxy = pt_proxy_start(pt_pg_port());
	api_start_ex(&env, "api_pg_outage", NULL, pt_proxy_port(proxy));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_stop(&env);
	pt_proxy_stop(proxy);
	return 0;
}

static long enqueue(char **body)
{
	const char *b = "{\"payload\":{}}";
	struct pt_http_result r = api_req(&env, "POST", "/v1/queues/outage/jobs", NULL, JSON, b, strlen(b));
	long st = r.status;
	if (body)
		*body = strdup(r.body ? r.body : "");
	pt_http_result_free(&r);
	return st;
}

static void dropped_connection(void **state)
{
	(void)state;
	assert_int_equal(enqueue(NULL), 201); /* a flusher holds a connection now */
	pt_proxy_cut(proxy);
	/* The flusher that held the cut connection fails its next batch once,
	 * then reconnects; the other one (if it had no connection) succeeds.
	 * Enqueue until the failure shows (bounded). */
	char *failed = NULL;
	for (int i = 0; i < 50 && !failed; i++) {
		char *body = NULL;
		long st = enqueue(&body);
		if (st == 503)
			failed = body;
		else {
			assert_int_equal(st, 201);
			free(body);
		}
	}
	assert_non_null(failed);
	if (!strstr(failed, "PostgreSQL connection lost: server closed the connection unexpectedly"))
		fail_msg("503 body: %s", failed);
	free(failed);
	assert_int_equal(enqueue(NULL), 201);
	assert_int_equal(enqueue(NULL), 201);
}

#define READERS 8

struct reader {
	pthread_t th;
	const char *path;
	long status; /* -1: no answer (client timeout) */
};

/* Raw sockets: an answer may take longer than libcurl's 10 s in pt_http
 * (deadlines: a connect 10 s, a statement 15 s); bounded at 90 s. */
static void *reader_main(void *arg)
{
	struct reader *r = arg;
	int fd = pt_raw_connect(env.port);
	char req[256];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r->path);
	long st = pt_raw_send(fd, req, strlen(req)) == 0 ? pt_raw_status(fd, 90000) : -1;
	close(fd);
	__atomic_store_n(&r->status, st, __ATOMIC_RELEASE);
	return NULL;
}

static long get_status(const char *path)
{
	struct pt_http_result r = api_req(&env, "GET", path, NULL, NULL, NULL, 0);
	long st = r.status;
	pt_http_result_free(&r);
	return st;
}

static void frozen_server(void **state)
{
	(void)state;
	long long id = api_sql_ll(&env, "SELECT max(id) FROM pane.jobs");
	assert_true(id > 0);
	char job[64];
	snprintf(job, sizeof job, "/v1/jobs/%lld", id);
	/* connections are open before the freeze: pool, batcher, readiness */
	assert_int_equal(get_status(job), 200);
	assert_int_equal(enqueue(NULL), 201);
	assert_int_equal(get_status("/readyz"), 200);

	pt_proxy_freeze(proxy, true);
	/* an enqueue, over a raw socket like the readers below */
	int efd = pt_raw_connect(env.port);
	const char *eb = "{\"payload\":{}}";
	char ereq[256];
	snprintf(ereq, sizeof ereq,
	         "POST /v1/queues/outage/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	         strlen(eb), eb);
	assert_int_equal(pt_raw_send(efd, ereq, strlen(ereq)), 0);
	/* more PostgreSQL-bound requests than the server has HTTP threads */
	struct reader rd[READERS];
	for (int i = 0; i < READERS; i++) {
		rd[i] = (struct reader){.path = i % 4 == 3 ? "/readyz" : job, .status = -2};
		assert_int_equal(pthread_create(&rd[i].th, NULL, reader_main, &rd[i]), 0);
	}
	/* /healthz answers all along, while those are stuck or failing */
	int healthz = 0;
	for (;;) {
		assert_int_equal(get_status("/healthz"), 200);
		healthz++;
		bool all = true;
		for (int i = 0; i < READERS; i++)
			all = all && __atomic_load_n(&rd[i].status, __ATOMIC_ACQUIRE) != -2;
		if (all)
			break;
		usleep(100 * 1000); /* pacing only: the loop ends on the readers' answers */
	}
	for (int i = 0; i < READERS; i++) {
		pthread_join(rd[i].th, NULL);
		if (rd[i].status != 503)
			fail_msg("GET %s while PostgreSQL is frozen: %ld (want 503)", rd[i].path, rd[i].status);
	}
	assert_true(healthz >= 1);
	assert_int_equal(pt_raw_status(efd, 90000), 503);
	close(efd);

	pt_proxy_freeze(proxy, false);
	/* back to normal: readiness (bounded polling), reads, enqueues */
	long st = 0;
	for (int i = 0; i < 60 && (st = get_status("/readyz")) != 200; i++)
		;
	assert_int_equal(st, 200);
	assert_int_equal(get_status(job), 200);
	assert_int_equal(enqueue(NULL), 201);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dropped_connection),
	    cmocka_unit_test(frozen_server),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
