/* test_client.c - the shared HTTP client over real HTTP (the Supabase fake
 * as a peer): Retry-After honoured, retries bounded, bounded bodies,
 * connection failures, rate-limit headers remembered, auth headers sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "http/client.h"
#include "support.h"

static int port;
static pid_t fake;
static char base[64];

static void fake_post(const char *path, const char *json)
{
	char url[256];
	snprintf(url, sizeof url, "%s%s", base, path);
	struct pt_http_result r;
	const char *h[] = {"Content-Type: application/json", NULL};
	if (pt_http("POST", url, h, json, strlen(json), &r) < 0 || r.status != 200)
		fail_msg("fake %s", path);
	pt_http_result_free(&r);
}

static int setup(void **state)
{
	(void)state;
	port = pt_free_port();
	snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
	const char *root = getenv("PANE_SOURCE_ROOT");
	char script[1024], portstr[16];
	snprintf(script, sizeof script, "%s/tests/fakes/supabase_fake.py", root ? root : ".");
	snprintf(portstr, sizeof portstr, "%d", port);
	char *argv[] = {"/usr/bin/python3", script, portstr, NULL};
	fake = pt_spawn(argv, NULL);
	char ping[128];
	snprintf(ping, sizeof ping, "%s/__fake/ping", base);
	if (pt_wait_http(ping, 15000) < 0)
		fail_msg("the fake did not start");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pt_stop(fake, SIGTERM);
	return 0;
}

static void retry_after_is_honoured_and_retries_bounded(void **state)
{
	(void)state;
	fake_post("/__fake/reset", "{}");
	fake_post("/__fake/config", "{\"faults\":[{\"path\":\"/health\",\"status\":503,\"count\":1,"
	                            "\"headers\":{\"Retry-After\":\"1\"}}]}");
	struct pane_http_client *c = pane_http_client_new(&(struct pane_http_client_opts){.max_retries = 2});
	char url[256];
	snprintf(url, sizeof url, "%s/v1/projects/abcdefghijklmnopqrst/health?services=db", base);
	struct pane_http_response r;
	pane_http_response_init(&r);
	struct pane_err err = {0};
	assert_int_equal(
	    pane_http_client_do(c, &(struct pane_http_request){.url = url, .bearer = "sbp_test_token"}, &r, &err), 0);
	/* retried once, after the server's Retry-After (a wait the client
	 * accepts; wait_longer_than_allowed_gives_up shows it reads the value) */
	assert_int_equal(r.attempts, 2);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "ACTIVE_HEALTHY"));
	assert_non_null(pane_http_response_header(&r, "content-type"));

	/* always failing: 1 + max_retries attempts, then the error */
	fake_post("/__fake/config", "{\"faults\":[{\"path\":\"/health\",\"status\":502,\"count\":10,"
	                            "\"headers\":{\"Retry-After\":\"0\"}}]}");
	assert_int_equal(
	    pane_http_client_do(c, &(struct pane_http_request){.url = url, .bearer = "sbp_test_token"}, &r, &err),
	    PANE_EHTTP);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(r.status, 502);
	assert_non_null(strstr(err.msg, "HTTP 502"));
	assert_null(strstr(err.msg, "services=db"));

	/* a 4xx is final at once */
	assert_int_equal(pane_http_client_do(c, &(struct pane_http_request){.url = url, .bearer = "wrong"}, &r, &err),
	                 PANE_EPERM);
	assert_int_equal(r.attempts, 1);
	pane_http_response_release(&r);
	pane_http_client_free(c);
}

static void wait_longer_than_allowed_gives_up(void **state)
{
	(void)state;
	fake_post("/__fake/reset", "{}");
	fake_post("/__fake/config", "{\"faults\":[{\"path\":\"/health\",\"status\":429,\"count\":1,"
	                            "\"headers\":{\"Retry-After\":\"3600\"}}]}");
	struct pane_http_client *c =
	    pane_http_client_new(&(struct pane_http_client_opts){.max_retries = 3, .max_wait_ms = 2000});
	char url[256];
	snprintf(url, sizeof url, "%s/v1/projects/abcdefghijklmnopqrst/health?services=db", base);
	struct pane_http_response r;
	pane_http_response_init(&r);
	struct pane_err err = {0};
	assert_int_equal(
	    pane_http_client_do(c, &(struct pane_http_request){.url = url, .bearer = "sbp_test_token"}, &r, &err),
	    PANE_EAGAIN);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.retry_after_ms, 3600000);
	assert_non_null(strstr(err.detail, "3600 s"));
	pane_http_response_release(&r);
	pane_http_client_free(c);
}

static void bodies_are_bounded(void **state)
{
	(void)state;
	fake_post("/__fake/reset", "{}");
	struct pane_http_client *c = pane_http_client_new(&(struct pane_http_client_opts){.max_body = 64});
	char url[256];
	snprintf(url, sizeof url, "%s/customer/v1/privileged/metrics", base);
	struct pane_http_response r;
	pane_http_response_init(&r);
	struct pane_err err = {0};
	assert_int_equal(
	    pane_http_client_do(
	        c,
	        &(struct pane_http_request){.url = url, .basic_user = "service_role", .basic_pass = "sb_secret_test"},
	        &r, &err),
	    PANE_ETOOBIG);
	assert_true(r.body.len <= 64);
	assert_non_null(strstr(err.msg, "larger than 64 bytes"));
	pane_http_response_release(&r);
	pane_http_client_free(c);
}

static void rate_limit_headers_are_remembered(void **state)
{
	(void)state;
	fake_post("/__fake/reset", "{}");
	fake_post("/__fake/config", "{\"rate_limit\":5,\"rate_window\":60}");
	struct pane_http_client *c = pane_http_client_new(NULL);
	char url[256];
	snprintf(url, sizeof url, "%s/v1/projects/abcdefghijklmnopqrst/analytics/endpoints/usage.api-requests-count",
	         base);
	struct pane_http_response r;
	pane_http_response_init(&r);
	struct pane_err err = {0};
	assert_int_equal(
	    pane_http_client_do(c, &(struct pane_http_request){.url = url, .bearer = "sbp_test_token"}, &r, &err), 0);
	struct pane_http_ratelimit rl;
	pane_http_client_ratelimit(c, &rl);
	assert_true(rl.known);
	assert_int_equal(rl.limit, 5);
	assert_int_equal(rl.remaining, 4);
	assert_true(rl.reset_ms > pane_wall_ms());
	pane_http_response_release(&r);
	pane_http_client_free(c);
}

static void connection_failures_are_io_errors(void **state)
{
	(void)state;
	int dead = pt_free_port();
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/x?secret=1", dead);
	struct pane_http_client *c =
	    pane_http_client_new(&(struct pane_http_client_opts){.max_retries = 1, .backoff_base_ms = 10});
	struct pane_http_response r;
	pane_http_response_init(&r);
	struct pane_err err = {0};
	assert_int_equal(pane_http_client_do(c, &(struct pane_http_request){.url = url}, &r, &err), PANE_EIO);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(r.status, 0);
	assert_null(strstr(err.msg, "secret"));
	assert_int_equal(pane_http_client_do(c, &(struct pane_http_request){.url = "ftp://127.0.0.1/x"}, &r, &err),
	                 PANE_EINVAL);
	pane_http_response_release(&r);
	pane_http_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(retry_after_is_honoured_and_retries_bounded),
	    cmocka_unit_test(wait_longer_than_allowed_gives_up),
	    cmocka_unit_test(bodies_are_bounded),
	    cmocka_unit_test(rate_limit_headers_are_remembered),
	    cmocka_unit_test(connection_failures_are_io_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
