/* test_shutdown.c - stopping the HTTP server while it is busy.
 *
 * libmicrohttpd's MHD_quiesce_daemon() races its own epoll worker threads
 * (both remove the listen socket from the worker's epoll set; the loser gets
 * ENOENT and MHD aborts: "Failed to remove listen FD from epoll set."). The
 * shutdown path resumes suspended connections right before it, which wakes
 * the workers and opens that window. This test starts and stops a pooled
 * server many times with suspended requests and a client hammering it, and
 * checks each stop answers the suspended requests 503 and closes every
 * descriptor, the listening socket included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "http/server.h"
#include "rawhttp.h"

#define ROUNDS 200
#define SUSPENDED 4
#define HAMMERS 3

/* Deferred answers never finished by the handler's side: only the server's
 * stop answers them. Their owner still finishes them, after the stop. */
static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pane_http_deferred *held[64];
static size_t n_held;

static void h_defer(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	struct pane_http_deferred *d = pane_http_resp_defer(resp);
	pthread_mutex_lock(&held_mu);
	if (n_held < sizeof held / sizeof held[0])
		held[n_held++] = d;
	else
		pane_http_deferred_finish(d); /* answered at once (an empty 500), never happens here */
	pthread_mutex_unlock(&held_mu);
}

static void finish_held(void)
{
	pthread_mutex_lock(&held_mu);
	for (size_t i = 0; i < n_held; i++)
		pane_http_deferred_finish(held[i]);
	n_held = 0;
	pthread_mutex_unlock(&held_mu);
}

static void h_ok(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	pane_http_resp_json(resp, 200, "{}");
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

struct hammer {
	int port;
	atomic_bool stop;
	atomic_int answered;
};

/* Keeps opening connections and sending requests until one is not answered
 * 200 (the server is stopping) or it is told to stop. */
static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	while (!atomic_load(&h->stop)) {
		int fd = pt_raw_try_connect(NULL, h->port);
		if (fd < 0)
			break;
		bool ok =
		    pt_raw_sends(fd, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n") == 0 && pt_raw_status(fd, 5000) == 200;
		close(fd);
		if (!ok)
			break;
		atomic_fetch_add(&h->answered, 1);
	}
	return NULL;
}

static struct pane_http_server *start_server(void)
{
	struct pane_err err = {0};
	struct pane_http_server_opts o = {.listen = "127.0.0.1:0", .threads = 2};
	struct pane_http_server *srv = pane_http_server_new(&o, &err);
	assert_non_null(srv);
	assert_int_equal(pane_http_server_route(
	                     srv, &(struct pane_http_route){.method = "GET", .pattern = "/defer", .handler = h_defer}),
	                 0);
	assert_int_equal(
	    pane_http_server_route(srv, &(struct pane_http_route){.method = "GET", .pattern = "/ok", .handler = h_ok}),
	    0);
	assert_int_equal(pane_http_server_start(srv, &err), 0);
	return srv;
}

static void test_stop_while_busy(void **state)
{
	(void)state;
	int total_503 = 0, total_answered = 0;
	int fds_before = count_fds();
	for (int round = 0; round < ROUNDS; round++) {
		struct pane_http_server *srv = start_server();
		int port = pane_http_server_port(srv);

		int fds[SUSPENDED];
		for (int i = 0; i < SUSPENDED; i++) {
			fds[i] = pt_raw_try_connect(NULL, port);
			assert_true(fds[i] >= 0);
			assert_int_equal(pt_raw_sends(fds[i], "GET /defer HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
		}
		struct hammer h = {.port = port};
		pthread_t th[HAMMERS];
		for (int i = 0; i < HAMMERS; i++)
			assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &h), 0);
		/* bounded wait until the server has answered the hammer at least once */
		for (int i = 0; i < 2000 && atomic_load(&h.answered) == 0; i++)
			usleep(1000);
		assert_true(atomic_load(&h.answered) > 0);

		pane_http_server_free(srv);
		finish_held();
		atomic_store(&h.stop, true);
		for (int i = 0; i < HAMMERS; i++)
			pthread_join(th[i], NULL);
		total_answered += atomic_load(&h.answered);

		/* every suspended request was answered 503 by the stop (or, if the
		 * server had not read it yet, its connection was closed) */
		for (int i = 0; i < SUSPENDED; i++) {
			int st = pt_raw_status(fds[i], 5000);
			assert_true(st == 503 || st == 0);
			total_503 += st == 503;
			close(fds[i]);
		}
	}
	/* no descriptor (the listening socket above all) outlives its server */
	assert_int_equal(count_fds(), fds_before);
	/* the suspended requests were really suspended and answered by the stop */
	assert_true(total_503 > 0);
	assert_true(total_answered >= ROUNDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stop_while_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
