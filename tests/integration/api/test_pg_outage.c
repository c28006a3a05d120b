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
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_common.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dropped_connection),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
