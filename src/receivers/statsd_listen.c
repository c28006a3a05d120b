/*
 * statsd_listen.c - the StatsD sockets: UDP and a Unix datagram socket
 * feeding one aggregator (the outer layer of statsd.h).
 *
 * Idea: one thread owns the sockets and the clock. It polls the sockets and
 * an eventfd (to stop it) with a timeout that ends at the next flush, drains each readable socket with recvmmsg in
 * batches of RECV_BATCH datagrams into preallocated buffers, feeds them to the aggregator, and flushes it to the
 * pipeline when the interval is up. No per-datagram allocation. pane_statsd_flush_now() flushes from the caller's
 * thread (the aggregator has its own mutex).
 *
 * Ownership: the listener owns its aggregator and sockets; the pipeline is
 * borrowed and must outlive pane_statsd_free(), which stops the thread,
 * flushes once more and unlinks the Unix socket it created.
 */
#include "receivers/statsd.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/hostport.h"
#include "base/log.h"
#include "base/mem.h"

#define RECV_BATCH 32
#define RECV_SIZE 65536

struct pane_statsd {
	struct pane_pipeline *pipeline;
	struct pane_statsd_agg *agg;
	int64_t interval_ms;
	int udp_fd, unix_fd, wake_fd;
	bool udp_loopback;
	int port;
	char *unix_path;
	pthread_t thread;
	bool running;
	char *bufs;
	struct pane_log_limit lim;
};

static int open_udp(struct pane_statsd *sd, const char *listen, size_t rcvbuf, struct pane_err *err)
{
	char host[256], port[16];
	if (pane_hostport_split(listen, host, sizeof host, port, sizeof port) < 0)
		return pane_err_set(err, PANE_EINVAL, "bad statsd listen address '%s' (want HOST:PORT)", listen);
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_DGRAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST};
	struct addrinfo *ai = NULL;
	int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (rc != 0)
		return pane_err_set(err, PANE_EINVAL, "bad statsd listen address '%s': %s", listen, gai_strerror(rc));
	int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return pane_err_set(err, PANE_EIO, "statsd socket: %s", strerror(errno));
	}
	int sz = (int)rcvbuf;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		int e = errno;
		freeaddrinfo(ai);
		close(fd);
		return pane_err_set(err, PANE_EIO, "cannot listen for statsd on %s: %s", listen, strerror(e));
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	sd->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
	                                    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	sd->udp_loopback = ss.ss_family == AF_INET6
	                       ? IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr)
	                       : (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	sd->udp_fd = fd;
	return 0;
}

static int open_unix(struct pane_statsd *sd, const char *path, size_t rcvbuf, struct pane_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		return pane_err_set(err, PANE_EINVAL, "statsd unix socket path is too long: %s", path);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return pane_err_set(err, PANE_EEXIST, "%s exists and is not a socket", path);
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return pane_err_set(err, PANE_EIO, "statsd unix socket: %s", strerror(errno));
	int sz = (int)rcvbuf;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		return pane_err_set(err, PANE_EIO, "cannot bind statsd unix socket %s: %s", path, strerror(e));
	}
	sd->unix_fd = fd;
	sd->unix_path = pane_xstrdup(path);
	return 0;
}

static void drain(struct pane_statsd *sd, int fd)
{
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	for (;;) {
		for (int i = 0; i < RECV_BATCH; i++) {
			iov[i].iov_base = sd->bufs + (size_t)i * RECV_SIZE;
			iov[i].iov_len = RECV_SIZE;
			memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				pane_log_limited(&sd->lim, PANE_LOG_WARN, "statsd", "datagram over %d bytes truncated",
				                 RECV_SIZE);
			}
			pane_statsd_agg_feed(sd->agg, iov[i].iov_base, msgs[i].msg_len);
		}
		if (n < RECV_BATCH)
			return;
	}
}

static void *statsd_thread(void *arg)
{
	struct pane_statsd *sd = arg;
	int64_t next = pane_mono_ns() / 1000000 + sd->interval_ms;
	for (;;) {
		struct pollfd pf[3];
		int n = 0;
		pf[n++] = (struct pollfd){.fd = sd->wake_fd, .events = POLLIN};
		if (sd->udp_fd >= 0)
			pf[n++] = (struct pollfd){.fd = sd->udp_fd, .events = POLLIN};
		if (sd->unix_fd >= 0)
			pf[n++] = (struct pollfd){.fd = sd->unix_fd, .events = POLLIN};
		int64_t now = pane_mono_ns() / 1000000;
		int timeout = next > now ? (int)(next - now) : 0;
		poll(pf, (nfds_t)n, timeout);
		if (pf[0].revents)
			break;
		for (int i = 1; i < n; i++)
			if (pf[i].revents & POLLIN)
				drain(sd, pf[i].fd);
		now = pane_mono_ns() / 1000000;
		if (now >= next) {
			struct pane_err e = {0};
			if (pane_statsd_agg_flush(sd->agg, sd->pipeline, pane_wall_ms(), &e) < 0)
				pane_log_limited(&sd->lim, PANE_LOG_WARN, "statsd", "flush: %s", e.msg);
			next = now + sd->interval_ms;
		}
	}
	return NULL;
}

struct pane_statsd *pane_statsd_new(struct pane_pipeline *p, const struct pane_statsd_opts *opts, struct pane_err *err)
{
	struct pane_statsd *sd = pane_xcalloc(1, sizeof *sd);
	sd->pipeline = p;
	sd->udp_fd = sd->unix_fd = sd->wake_fd = -1;
	sd->port = -1;
	sd->interval_ms = opts->flush_interval_ms > 0 ? opts->flush_interval_ms : 10000;
	sd->lim.burst = 5;
	sd->lim.per_ms = 60000;
	size_t rcvbuf = opts->rcvbuf ? opts->rcvbuf : 8u << 20;
	if (opts->udp_listen && *opts->udp_listen && open_udp(sd, opts->udp_listen, rcvbuf, err) < 0)
		goto fail;
	if (opts->unix_path && *opts->unix_path && open_unix(sd, opts->unix_path, rcvbuf, err) < 0)
		goto fail;
	if (sd->udp_fd < 0 && sd->unix_fd < 0) {
		pane_err_set(err, PANE_EINVAL, "statsd has neither a UDP address nor a unix socket to listen on");
		goto fail;
	}
	sd->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sd->wake_fd < 0) {
		pane_err_set(err, PANE_EIO, "eventfd: %s", strerror(errno));
		goto fail;
	}
	sd->agg = pane_statsd_agg_new(&opts->agg);
	sd->bufs = pane_xmalloc((size_t)RECV_BATCH * RECV_SIZE);
	if (pthread_create(&sd->thread, NULL, statsd_thread, sd) != 0) {
		pane_err_set(err, PANE_EIO, "cannot start the statsd thread");
		goto fail;
	}
	sd->running = true;
	return sd;
fail:
	pane_statsd_free(sd);
	return NULL;
}

bool pane_statsd_udp_is_public(const struct pane_statsd *sd)
{
	return sd->udp_fd >= 0 && !sd->udp_loopback;
}

int pane_statsd_port(const struct pane_statsd *sd)
{
	return sd->port;
}

struct pane_statsd_agg *pane_statsd_aggregator(struct pane_statsd *sd)
{
	return sd->agg;
}

int pane_statsd_flush_now(struct pane_statsd *sd, struct pane_err *err)
{
	return pane_statsd_agg_flush(sd->agg, sd->pipeline, pane_wall_ms(), err);
}

void pane_statsd_free(struct pane_statsd *sd)
{
	if (!sd)
		return;
	if (sd->running) {
		uint64_t one = 1;
		if (write(sd->wake_fd, &one, sizeof one) < 0)
			pane_warn("statsd", "cannot wake the statsd thread: %s", strerror(errno));
		pthread_join(sd->thread, NULL);
		/* what arrived before the stop still counts */
		if (sd->udp_fd >= 0)
			drain(sd, sd->udp_fd);
		if (sd->unix_fd >= 0)
			drain(sd, sd->unix_fd);
		struct pane_err e = {0};
		if (pane_statsd_agg_flush(sd->agg, sd->pipeline, pane_wall_ms(), &e) < 0)
			pane_warn("statsd", "final flush: %s", e.msg);
	}
	if (sd->udp_fd >= 0)
		close(sd->udp_fd);
	if (sd->unix_fd >= 0)
		close(sd->unix_fd);
	if (sd->wake_fd >= 0)
		close(sd->wake_fd);
	if (sd->unix_path) {
		unlink(sd->unix_path);
		free(sd->unix_path);
	}
	pane_statsd_agg_free(sd->agg);
	free(sd->bufs);
	free(sd);
}
