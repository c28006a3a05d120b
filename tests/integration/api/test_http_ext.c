/* test_http_ext.c - the server features the jobs API added, over real
 * sockets: streamed request bodies (never buffered), on_begin refusals,
 * deferred answers completed from other threads, streamed (SSE) responses,
 * slow-body cut-off, oversized headers, and stopping with suspended
 * connections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/stats.h"
#include "http/server.h"
#include "http/sha256.h"
#include "http/sse.h"
#include "rawhttp.h"
#include "support.h"

static struct pane_http_server *srv;
static struct pane_stats *stats;
static int port;
static char base[64];
static atomic_int closes_ok, closes_bad;

/* ---- streamed body: hash what arrives, never keep it ---- */
struct sink {
	struct pane_sha256 sha;
	uint64_t n;
	size_t pieces;
};

static int s_begin(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)ctx;
	if (pane_http_req_content_type_is(req, "text/html")) {
		pane_http_resp_error(resp, 415, "unsupported_media_type", "no html");
		return -1;
	}
	struct sink *s = calloc(1, sizeof *s);
	pane_sha256_init(&s->sha);
	pane_http_req_set_user(req, s);
	return 0;
}

static int s_body(struct pane_http_req *req, const char *data, size_t len, struct pane_http_resp *resp, void *ctx)
{
	(void)resp;
	(void)ctx;
	struct sink *s = pane_http_req_user(req);
	pane_sha256_update(&s->sha, data, len);
	s->n += len;
	s->pieces++;
	return 0;
}

static void s_close(struct pane_http_req *req, bool completed, void *ctx)
{
	(void)ctx;
	free(pane_http_req_user(req));
	if (completed)
		atomic_fetch_add(&closes_ok, 1);
	else
		atomic_fetch_add(&closes_bad, 1);
}

static void s_handler(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)ctx;
	struct sink *s = pane_http_req_user(req);
	size_t blen;
	pane_http_req_body(req, &blen);
	uint8_t d[32];
	char hex[65];
	pane_sha256_final(&s->sha, d);
	pane_sha256_hex(d, hex);
	pane_buf_addf(pane_http_resp_body(resp), "n=%llu buffered=%zu multi=%d sha=%s", (unsigned long long)s->n, blen,
	              s->pieces > 1, hex);
	pane_http_resp_status(resp, 200);
}

/* ---- deferred: answered by another thread ---- */
static void *finish_later(void *arg)
{
	struct pane_http_deferred *d = arg;
	pane_sleep_ms(20);
	struct pane_http_resp *r = pane_http_deferred_resp(d);
	pane_http_resp_json(r, 202, "{\"later\":true}");
	pane_http_deferred_finish(d);
	return NULL;
}

static void d_handler(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	pane_http_resp_error(resp, 500, "ignored", "a deferred handler's own resp is ignored");
	struct pane_http_deferred *d = pane_http_resp_defer(resp);
	pthread_t t;
	pthread_create(&t, NULL, finish_later, d);
	pthread_detach(t);
}

/* ---- stream: three events from another thread ---- */
static void *write_events(void *arg)
{
	struct pane_http_stream *st = arg;
	for (int i = 1; i <= 3; i++) {
		char data[32];
		snprintf(data, sizeof data, "{\"n\":%d}", i);
		pane_sleep_ms(10);
		pane_http_sse_send(st, NULL, NULL, data);
	}
	pane_http_stream_close(st);
	return NULL;
}

static void e_handler(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	struct pane_http_stream *st = pane_http_sse_start(resp, 0);
	pthread_t t;
	pthread_create(&t, NULL, write_events, st);
	pthread_detach(t);
}

static void ok_handler(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	pane_http_resp_json(resp, 200, "{}");
}

static int setup(void **state)
{
	(void)state;
	struct pane_err err = {0};
	stats = pane_stats_new();
	struct pane_http_server_opts o = {
	    .listen = "127.0.0.1:0", .threads = 2, .body_grace_s = 1, .body_min_rate = 1000, .stats = stats};
	srv = pane_http_server_new(&o, &err);
	assert_non_null(srv);
	pane_http_server_route(srv, &(struct pane_http_route){.method = "POST",
	                                                      .pattern = "/stream",
	                                                      .handler = s_handler,
	                                                      .max_body = 8u << 20,
	                                                      .on_begin = s_begin,
	                                                      .on_body = s_body,
	                                                      .on_close = s_close});
	pane_http_server_route(srv, &(struct pane_http_route){
	                                .method = "POST", .pattern = "/slow", .handler = ok_handler, .max_body = 1000});
	pane_http_server_route(
	    srv, &(struct pane_http_route){.method = "GET", .pattern = "/deferred", .handler = d_handler});
	pane_http_server_route(srv,
	                       &(struct pane_http_route){.method = "GET", .pattern = "/events", .handler = e_handler});
	pane_http_server_route(srv,
	                       &(struct pane_http_route){.method = "GET", .pattern = "/ok", .handler = ok_handler});
	assert_int_equal(pane_http_server_start(srv, &err), 0);
	port = pane_http_server_port(srv);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
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

static void streamed_body(void **state)
{
	(void)state;
	size_t n = 3u << 20;
	char *body = malloc(n);
	for (size_t i = 0; i < n; i++)
		body[i] = (char)(i * 7 + (i >> 13));
	uint8_t d[32];
	char hex[65], want[160];
	pane_sha256(body, n, d);
	pane_sha256_hex(d, hex);
	int before = atomic_load(&closes_ok);
	const char *h[] = {"Content-Type: application/octet-stream", NULL};
	struct pt_http_result r = req("POST", "/stream", h, body, n);
	assert_int_equal(r.status, 200);
	snprintf(want, sizeof want, "n=%zu buffered=0 multi=1 sha=%s", n, hex);
	assert_string_equal(r.body, want);
	pt_http_result_free(&r);
	/* on_close runs just after the answer went out: wait for it */
	for (int i = 0; i < 1000 && atomic_load(&closes_ok) == before; i++)
		pane_sleep_ms(5);
	assert_int_equal(atomic_load(&closes_ok), before + 1);
	assert_int_equal(atomic_load(&closes_bad), 0);

	/* refused by on_begin before the body */
	const char *html[] = {"Content-Type: text/html", NULL};
	r = req("POST", "/stream", html, "<p>", 3);
	assert_int_equal(r.status, 415);
	pt_http_result_free(&r);
	/* over the route's limit (by less than the drain bound): read, dropped, then a clean 413 */
	char *big = calloc(1, (9u << 20));
	r = req("POST", "/stream", h, big, 9u << 20);
	assert_int_equal(r.status, 413);
	pt_http_result_free(&r);
	free(big);
	free(body);
}

struct dres {
	long status;
	char body[64];
};

static void *get_deferred(void *arg)
{
	struct dres *o = arg;
	char url[128];
	snprintf(url, sizeof url, "%s/deferred", base);
	struct pt_http_result r;
	if (pt_http("GET", url, NULL, NULL, 0, &r) == 0) {
		o->status = r.status;
		snprintf(o->body, sizeof o->body, "%s", r.body);
	}
	pt_http_result_free(&r);
	return NULL;
}

static void deferred_answers(void **state)
{
	(void)state;
	enum { N = 16 };
	pthread_t t[N];
	struct dres res[N];
	memset(res, 0, sizeof res);
	for (int i = 0; i < N; i++)
		pthread_create(&t[i], NULL, get_deferred, &res[i]);
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(res[i].status, 202);
		assert_string_equal(res[i].body, "{\"later\":true}");
	}
}

static void streamed_events(void **state)
{
	(void)state;
	struct pt_http_result r = req("GET", "/events", NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "text/event-stream");
	assert_string_equal(r.body, "data: {\"n\":1}\n\ndata: {\"n\":2}\n\ndata: {\"n\":3}\n\n");
	assert_non_null(strstr(r.headers, "Cache-Control: no-cache"));
	pt_http_result_free(&r);
}

static void slow_body_is_cut_off(void **state)
{
	(void)state;
	int fd = pt_raw_connect(port);
	const char *head = "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n";
	assert_int_equal(pt_raw_send(fd, head, strlen(head)), 0);
	int status = -1;
	struct pane_stat *slow = pane_stats_counter(stats, "pane_http_slow_clients_total", NULL, "");
	assert_true(pane_stat_get(slow) == 0);
	for (int i = 0; i < 200 && status < 0; i++) {
		if (pt_raw_send(fd, "x", 1) < 0)
			break;
		/* meanwhile everyone else is served */
		if (i == 2) {
			struct pt_http_result r = req("GET", "/ok", NULL, NULL, 0);
			assert_int_equal(r.status, 200);
			pt_http_result_free(&r);
		}
		status = pt_raw_status(fd, 100);
	}
	/* libmicrohttpd cannot answer in the middle of a body: the connection is closed */
	assert_int_equal(status, 0);
	assert_true(pane_stat_get(slow) == 1);
	close(fd);
}

/* slow-loris: many clients trickling their headers hold no thread - with two
 * pool threads, everyone else is still served while they dribble */
static void header_tricklers_hold_no_thread(void **state)
{
	(void)state;
	enum { N = 40 };
	int fds[N];
	for (int i = 0; i < N; i++) {
		fds[i] = pt_raw_connect(port);
		const char *head = "GET /ok HTTP/1.1\r\nX-Slow: ";
		assert_int_equal(pt_raw_send(fds[i], head, strlen(head)), 0);
	}
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < N; i++)
			pt_raw_send(fds[i], "a", 1);
		struct pt_http_result r = req("GET", "/ok", NULL, NULL, 0);
		assert_int_equal(r.status, 200);
		pt_http_result_free(&r);
	}
	/* they are still connected and complete normally once they finish */
	const char *end = "\r\nHost: x\r\n\r\n";
	assert_int_equal(pt_raw_send(fds[0], end, strlen(end)), 0);
	assert_int_equal(pt_raw_status(fds[0], 10000), 200);
	for (int i = 0; i < N; i++)
		close(fds[i]);
}

static void oversized_headers(void **state)
{
	(void)state;
	int fd = pt_raw_connect(port);
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_adds(&b, "GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: ");
	for (int i = 0; i < 64 * 1024; i++)
		pane_buf_addc(&b, 'a');
	pane_buf_adds(&b, "\r\n\r\n");
	pt_raw_send(fd, b.data, b.len);
	int status = pt_raw_status(fd, 10000);
	/* libmicrohttpd answers 431 (or 413 in older releases) and closes */
	assert_true(status == 431 || status == 413);
	close(fd);
	pane_buf_release(&b);
	struct pt_http_result r = req("GET", "/ok", NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	pt_http_result_free(&r);
}

/* ---- stopping while connections are suspended ---- */
static struct pane_http_deferred *held;
static struct pane_http_stream *held_stream;
static atomic_int entered;

static void hold_handler(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	held = pane_http_resp_defer(resp);
	atomic_fetch_add(&entered, 1);
}

static void hold_stream(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	held_stream = pane_http_sse_start(resp, 0);
	pane_http_sse_send(held_stream, NULL, NULL, "first");
	atomic_fetch_add(&entered, 1);
}

struct held_req {
	char url[128];
	struct dres res;
	char body[128];
};

static void *get_url(void *arg)
{
	struct held_req *h = arg;
	struct pt_http_result r;
	if (pt_http("GET", h->url, NULL, NULL, 0, &r) == 0) {
		h->res.status = r.status;
		snprintf(h->body, sizeof h->body, "%s", r.body);
	}
	pt_http_result_free(&r);
	return NULL;
}

static void stop_with_suspended(void **state)
{
	(void)state;
	struct pane_err err = {0};
	struct pane_http_server_opts o = {.listen = "127.0.0.1:0", .threads = 2};
	struct pane_http_server *s2 = pane_http_server_new(&o, &err);
	pane_http_server_route(s2,
	                       &(struct pane_http_route){.method = "GET", .pattern = "/hold", .handler = hold_handler});
	pane_http_server_route(
	    s2, &(struct pane_http_route){.method = "GET", .pattern = "/hold-stream", .handler = hold_stream});
	assert_int_equal(pane_http_server_start(s2, &err), 0);
	struct held_req a = {0}, b = {0};
	snprintf(a.url, sizeof a.url, "http://127.0.0.1:%d/hold", pane_http_server_port(s2));
	snprintf(b.url, sizeof b.url, "http://127.0.0.1:%d/hold-stream", pane_http_server_port(s2));
	pthread_t ta, tb;
	pthread_create(&ta, NULL, get_url, &a);
	pthread_create(&tb, NULL, get_url, &b);
	while (atomic_load(&entered) < 2)
		pane_sleep_ms(5);
	pane_sleep_ms(50); /* let both connections reach the suspended state */
	pane_http_server_free(s2);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.res.status, 503);
	assert_int_equal(b.res.status, 200);
	assert_string_equal(b.body, "data: first\n\n");
	/* the completers still own their handles after the server is gone */
	assert_int_equal(pane_http_stream_write(held_stream, "x", 1), PANE_EIO);
	pane_http_stream_close(held_stream);
	pane_http_deferred_finish(held);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(streamed_body),
	    cmocka_unit_test(deferred_answers),
	    cmocka_unit_test(streamed_events),
	    cmocka_unit_test(slow_body_is_cut_off),
	    cmocka_unit_test(header_tricklers_hold_no_thread),
	    cmocka_unit_test(oversized_headers),
	    cmocka_unit_test(stop_with_suspended),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
