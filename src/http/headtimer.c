/*
 * headtimer.c - request-head deadlines: the slow-header defence.
 *
 * Idea: MHD's own timeout is an idle timeout, which a client trickling one
 * header byte at a time resets forever (slowloris). So every open
 * connection is tracked (MHD's socket context) with a deadline for its
 * request head: header_timeout_s from the connection, idle_timeout_s after
 * the previous request ended. A reaper thread wakes every second and shuts
 * down the socket of a connection past its deadline; MHD then sees the end
 * and closes it on its own thread (pane never closes an fd MHD owns).
 *
 * Invariants:
 *   (1) deadlines do not apply while a request is being served (busy,
 *       from its head until MHD reports it completed);
 *   (2) a connection is cut at most once, and counted in
 *       pane_http_slow_headers_total.
 *
 * Threads: MHD pool threads (connection notifications, marks), the reaper;
 * all under srv->tc_mu.
 */
#include "http/server_internal.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"
#include "base/mem.h"

/* One per open connection (MHD's socket context). MHD's own timeout is an
 * idle timeout, which a client trickling one header byte at a time resets
 * forever; the reaper closes a connection whose request head is not
 * complete by its deadline, by shutting its socket down (MHD then sees the
 * end and closes it on its own thread). */
struct tconn {
	struct tconn *prev, *next;
	int fd;
	bool busy;           /* a request's head is in: deadlines do not apply */
	bool cut;            /* already shut down */
	int64_t deadline_ns; /* while !busy */
};

void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
	struct pane_http_server *srv = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct tconn *t = pane_xcalloc(1, sizeof *t);
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		t->fd = ci ? ci->connect_fd : -1;
		t->deadline_ns = pane_mono_ns() + (int64_t)srv->header_timeout_s * 1000000000;
		pthread_mutex_lock(&srv->tc_mu);
		t->next = srv->tc_head;
		if (srv->tc_head)
			srv->tc_head->prev = t;
		srv->tc_head = t;
		pthread_mutex_unlock(&srv->tc_mu);
		*socket_context = t;
	} else if (*socket_context) {
		struct tconn *t = *socket_context;
		pthread_mutex_lock(&srv->tc_mu);
		if (t->prev)
			t->prev->next = t->next;
		else
			srv->tc_head = t->next;
		if (t->next)
			t->next->prev = t->prev;
		pthread_mutex_unlock(&srv->tc_mu);
		free(t);
		*socket_context = NULL;
	}
}

static struct tconn *tconn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* busy: a request head arrived; else a request ended and the next head has
 * until the idle timeout. */
void http_tconn_mark(struct pane_http_server *srv, struct MHD_Connection *conn, bool busy)
{
	struct tconn *t = tconn_of(conn);
	if (!t)
		return;
	pthread_mutex_lock(&srv->tc_mu);
	t->busy = busy;
	if (!busy)
		t->deadline_ns = pane_mono_ns() + (int64_t)srv->idle_s * 1000000000;
	pthread_mutex_unlock(&srv->tc_mu);
}

void *http_reaper_main(void *arg)
{
	struct pane_http_server *srv = arg;
	pthread_mutex_lock(&srv->tc_mu);
	while (!srv->tc_stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&srv->tc_cv, &srv->tc_mu, &until);
		int64_t now = pane_mono_ns();
		for (struct tconn *t = srv->tc_head; t; t = t->next) {
			if (t->busy || t->cut || t->fd < 0 || now < t->deadline_ns)
				continue;
			shutdown(t->fd, SHUT_RDWR);
			t->cut = true;
			if (srv->st_slow_head)
				pane_stat_inc(srv->st_slow_head);
		}
	}
	pthread_mutex_unlock(&srv->tc_mu);
	return NULL;
}
