/* test_slow_clients.c - clients that open connections and never finish
 * their request head cannot take the server away from everyone else.
 *
 *   1,100 connections from one address (127.0.0.2) that send half a request
 *   head: the per-address cap refuses most at once, so /healthz from another
 *   address (127.0.0.1) is answered while they hang.
 *   A client that trickles one header byte at a time (which resets an idle
 *   timeout forever) is closed once the request-head deadline passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "http/server.h"
#include "rawhttp.h"

#define ATTACKERS 1100

static struct pane_http_server *srv;
static int port;

static void h_ok(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	pane_http_resp_json(resp, 200, "{\"status\":\"ok\"}");
}

static int healthz_from(const char *src)
{
	int fd = pt_raw_try_connect(src, port);
	if (fd < 0)
		return -1;
	int st = pt_raw_sends(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") == 0
	             ? pt_raw_status(fd, 10000)
	             : -1;
	close(fd);
	return st;
}

static int setup(void **state)
{
	(void)state;
	/* room for the attackers' descriptors */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < ATTACKERS + 200 && rl.rlim_max >= ATTACKERS + 200) {
		rl.rlim_cur = ATTACKERS + 200;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct pane_err err = {0};
	struct pane_http_server_opts o = {.listen = "127.0.0.1:0",
	                                  .threads = 2,
	                                  .max_connections_per_ip = 16,
	                                  .header_timeout_s = 1,
	                                  .idle_timeout_s = 30};
	srv = pane_http_server_new(&o, &err);
	assert_non_null(srv);
	assert_int_equal(pane_http_server_route(
	                     srv, &(struct pane_http_route){.method = "GET", .pattern = "/healthz", .handler = h_ok}),
	                 0);
	assert_int_equal(pane_http_server_start(srv, &err), 0);
	port = pane_http_server_port(srv);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pane_http_server_free(srv);
	return 0;
}

static void many_half_heads(void **state)
{
	(void)state;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	int n = rl.rlim_cur > ATTACKERS + 100 ? ATTACKERS : (int)rl.rlim_cur - 100;
	int *fds = calloc((size_t)n, sizeof *fds);
	assert_non_null(fds);
	int opened = 0;
	for (int i = 0; i < n; i++) {
		fds[i] = pt_raw_try_connect("127.0.0.2", port);
		if (fds[i] >= 0) {
			opened++;
			pt_raw_sends(fds[i], "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
		}
	}
	assert_true(opened > 16);
	/* health from another address is answered while they hang */
	assert_int_equal(healthz_from("127.0.0.1"), 200);
	/* ... and the attacker's own address got no more than its cap: a fresh
	 * connection from it is closed without an answer */
	assert_int_equal(healthz_from("127.0.0.2"), 0);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

static void trickled_head_is_closed(void **state)
{
	(void)state;
	int fd = pt_raw_try_connect("127.0.0.3", port);
	assert_true(fd >= 0);
	assert_int_equal(pt_raw_sends(fd, "GET /healthz HTTP/1.1\r\nX-Slow: "), 0);
	/* one byte every 100 ms resets any idle timeout; the head deadline (1 s)
	 * still closes it. Bounded: give up after 30 s. */
	bool closed = false;
	for (int i = 0; i < 300 && !closed; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) > 0) {
			char c;
			closed = recv(fd, &c, 1, 0) <= 0;
		}
		if (!closed && send(fd, "a", 1, MSG_NOSIGNAL) != 1)
			closed = true;
	}
	close(fd);
	assert_true(closed);
	/* a prompt client on the same address is unaffected */
	assert_int_equal(healthz_from("127.0.0.3"), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(many_half_heads),
	    cmocka_unit_test(trickled_head_is_closed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
