/* test_http_server.c - the HTTP server over real sockets: routing, params,
 * 404/405/413, form and repeated arguments, auth hook, JSON errors, concurrency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/stats.h"
#include "http/server.h"
#include "support.h"

static struct pane_http_server *srv;
static struct pane_stats *stats;
static char base[64];

static void h_echo(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)ctx;
	size_t len;
	pane_http_req_body(req, &len);
	const char *id = pane_http_req_param(req, "id");
	const char *q = pane_http_req_arg(req, "q");
	const char *ms[4];
	size_t n = pane_http_req_args(req, "m[]", ms, 4);
	struct pane_buf *b = pane_http_resp_body(resp);
	pane_buf_addf(b, "%s id=%s q=%s n=%zu", pane_http_req_method(req), id ? id : "-", q ? q : "-", n);
	for (size_t i = 0; i < n && i < 4; i++)
		pane_buf_addf(b, " m=%s", ms[i]);
	pane_buf_addf(b, " body=%zu", len);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "text/plain");
	pane_http_resp_header(resp, "X-Test", "yes");
}

static void h_rest(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)ctx;
	pane_buf_addf(pane_http_resp_body(resp), "rest=%s", pane_http_req_param(req, "path"));
	pane_http_resp_status(resp, 200);
}

static void h_nothing(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)resp;
	(void)ctx;
}

static bool auth(void *ctx, struct pane_http_req *req, const char *scope, struct pane_http_resp *resp)
{
	(void)ctx;
	const char *h = pane_http_req_header(req, "Authorization");
	if (h && strcmp(h, "Bearer good") == 0 && strcmp(scope, "admin") == 0)
		return true;
	pane_http_resp_error(resp, h ? 403 : 401, h ? "forbidden" : "unauthorized", "token needed for %s", scope);
	return false;
}

static int setup(void **state)
{
	(void)state;
	struct pane_err err = {0};
	stats = pane_stats_new();
	struct pane_http_server_opts o = {.listen = "127.0.0.1:0", .threads = 2, .stats = stats};
	srv = pane_http_server_new(&o, &err);
	assert_non_null(srv);
	assert_int_equal(
	    pane_http_server_route(
	        srv, &(struct pane_http_route){.method = "GET", .pattern = "/items/{id}", .handler = h_echo}),
	    0);
	assert_int_equal(pane_http_server_route(srv, &(struct pane_http_route){.method = "POST",
	                                                                       .pattern = "/items/{id}",
	                                                                       .handler = h_echo,
	                                                                       .max_body = 1000}),
	                 0);
	assert_int_equal(
	    pane_http_server_route(
	        srv, &(struct pane_http_route){.method = "GET", .pattern = "/static/{path*}", .handler = h_rest}),
	    0);
	assert_int_equal(
	    pane_http_server_route(
	        srv,
	        &(struct pane_http_route){.method = "GET", .pattern = "/admin", .handler = h_echo, .scope = "admin"}),
	    0);
	assert_int_equal(
	    pane_http_server_route(
	        srv, &(struct pane_http_route){.method = "GET", .pattern = "/empty", .handler = h_nothing}),
	    0);
	assert_int_equal(
	    pane_http_server_route(
	        srv, &(struct pane_http_route){.method = "GET", .pattern = "/bad/{x", .handler = h_nothing}),
	    PANE_EINVAL);
	pane_http_server_set_auth(srv, auth, NULL);
	assert_int_equal(pane_http_server_start(srv, &err), 0);
	assert_true(pane_http_server_is_loopback(srv));
	snprintf(base, sizeof base, "http://127.0.0.1:%d", pane_http_server_port(srv));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pane_http_server_free(srv);
	pane_stats_free(stats);
	return 0;
}

static struct pt_http_result req(const char *method, const char *path, const char *const *hdrs, const char *body,
                                 size_t len)
{
	char url[256];
	snprintf(url, sizeof url, "%s%s", base, path);
	struct pt_http_result r;
	assert_int_equal(pt_http(method, url, hdrs, body, len, &r), 0);
	return r;
}

static void routes_with_params_and_args(void **state)
{
	(void)state;
	struct pt_http_result r = req("GET", "/items/42?q=hello%20world&m[]=a&m[]=b", NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "GET id=42 q=hello world n=2 m=a m=b body=0");
	assert_non_null(strstr(r.headers, "X-Test: yes"));
	pt_http_result_free(&r);
	r = req("GET", "/static/css/app.css", NULL, NULL, 0);
	assert_string_equal(r.body, "rest=css/app.css");
	pt_http_result_free(&r);
	r = req("HEAD", "/items/1", NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	pt_http_result_free(&r);
}

static void form_body_arguments(void **state)
{
	(void)state;
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	const char *body = "q=up+%3D%3D+1&m[]=x";
	struct pt_http_result r = req("POST", "/items/7", hdrs, body, strlen(body));
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "POST id=7 q=up == 1 n=1 m=x body=19");
	pt_http_result_free(&r);
}

static void not_found_and_method_not_allowed(void **state)
{
	(void)state;
	struct pt_http_result r = req("GET", "/nope", NULL, NULL, 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.content_type, "application/json");
	assert_non_null(strstr(r.body, "\"code\":\"not_found\""));
	pt_http_result_free(&r);
	r = req("DELETE", "/items/1", NULL, NULL, 0);
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.headers, "Allow: GET, POST"));
	pt_http_result_free(&r);
	r = req("GET", "/items/", NULL, NULL, 0); /* empty parameter does not match */
	assert_int_equal(r.status, 404);
	pt_http_result_free(&r);
}

static void body_limits(void **state)
{
	(void)state;
	char big[5000];
	memset(big, 'x', sizeof big);
	struct pt_http_result r = req("POST", "/items/1", NULL, big, sizeof big);
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.body, "payload_too_large"));
	pt_http_result_free(&r);
	/* chunked, no Content-Length: cut while streaming */
	const char *hdrs[] = {"Transfer-Encoding: chunked", NULL};
	r = req("POST", "/items/1", hdrs, big, sizeof big);
	assert_int_equal(r.status, 413);
	pt_http_result_free(&r);
	r = req("POST", "/items/1", NULL, big, 1000);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "body=1000"));
	pt_http_result_free(&r);
}

static void auth_hook_and_empty_handler(void **state)
{
	(void)state;
	struct pt_http_result r = req("GET", "/admin", NULL, NULL, 0);
	assert_int_equal(r.status, 401);
	pt_http_result_free(&r);
	const char *bad[] = {"Authorization: Bearer wrong", NULL};
	r = req("GET", "/admin", bad, NULL, 0);
	assert_int_equal(r.status, 403);
	pt_http_result_free(&r);
	const char *good[] = {"Authorization: Bearer good", NULL};
	r = req("GET", "/admin", good, NULL, 0);
	assert_int_equal(r.status, 200);
	pt_http_result_free(&r);
	r = req("GET", "/empty", NULL, NULL, 0);
	assert_int_equal(r.status, 500);
	pt_http_result_free(&r);
}

static void *client(void *arg)
{
	(void)arg;
	char url[128];
	snprintf(url, sizeof url, "%s/items/9", base);
	for (int i = 0; i < 50; i++) {
		struct pt_http_result r;
		if (pt_http("GET", url, NULL, NULL, 0, &r) != 0 || r.status != 200) {
			pt_http_result_free(&r);
			return (void *)1;
		}
		pt_http_result_free(&r);
	}
	return NULL;
}

static void concurrent_clients_and_counters(void **state)
{
	(void)state;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, client, NULL);
	for (int i = 0; i < 4; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		assert_null(rv);
	}
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_stats_render(stats, &b);
	assert_non_null(strstr(b.data, "pane_http_requests_total "));
	assert_non_null(strstr(b.data, "pane_http_too_large_total 2"));
	pane_buf_release(&b);
}

static void bad_listen_address(void **state)
{
	(void)state;
	struct pane_err err = {0};
	struct pane_http_server_opts o = {.listen = "no-port-here"};
	assert_null(pane_http_server_new(&o, &err));
	assert_non_null(strstr(err.msg, "bad listen address"));
	/* the port we already serve on is taken */
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%d", pane_http_server_port(srv));
	o.listen = addr;
	struct pane_http_server *s2 = pane_http_server_new(&o, &err);
	assert_non_null(s2);
	assert_true(pane_http_server_start(s2, &err) < 0);
	assert_non_null(strstr(err.msg, "cannot listen on"));
	pane_http_server_free(s2);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(routes_with_params_and_args),
	    cmocka_unit_test(form_body_arguments),
	    cmocka_unit_test(not_found_and_method_not_allowed),
	    cmocka_unit_test(body_limits),
	    cmocka_unit_test(auth_hook_and_empty_handler),
	    cmocka_unit_test(concurrent_clients_and_counters),
	    cmocka_unit_test(bad_listen_address),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
