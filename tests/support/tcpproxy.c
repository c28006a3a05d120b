/*
 * tcpproxy.c - see tcpproxy.h.
 *
 * Idea: one thread, one poll() over the listening socket, a control pipe and
 * every connection pair; a frozen proxy polls only the control pipe. Writes
 * are blocking (loopback, small test traffic).
 */
#include "tcpproxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAIRS 128

struct pt_proxy {
	int lfd, port, target;
	int ctl[2];
	pthread_t th;
	pthread_mutex_t mu;
	bool frozen, cut, stop;
	atomic_int accepted;
	int a[MAX_PAIRS], b[MAX_PAIRS]; /* client side, server side; -1 = free */
};

static void die(const char *what)
{
	fprintf(stderr, "tcpproxy: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int connect_target(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static void close_pair(struct pt_proxy *p, int i)
{
	close(p->a[i]);
	close(p->b[i]);
	p->a[i] = p->b[i] = -1;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *proxy_main(void *arg)
{
	struct pt_proxy *p = arg;
	struct pollfd pf[2 + 2 * MAX_PAIRS];
	int who[2 + 2 * MAX_PAIRS];
	char buf[65536];
	for (;;) {
		pthread_mutex_lock(&p->mu);
		bool frozen = p->frozen, stop = p->stop, cut = p->cut;
		p->cut = false;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
		if (cut)
			for (int i = 0; i < MAX_PAIRS; i++)
				if (p->a[i] >= 0)
					close_pair(p, i);
		int n = 0;
		pf[n++] = (struct pollfd){.fd = p->ctl[0], .events = POLLIN};
		if (!frozen) {
			pf[n++] = (struct pollfd){.fd = p->lfd, .events = POLLIN};
			for (int i = 0; i < MAX_PAIRS; i++) {
				if (p->a[i] < 0)
					continue;
				who[n] = i;
				pf[n++] = (struct pollfd){.fd = p->a[i], .events = POLLIN};
				who[n] = i;
				pf[n++] = (struct pollfd){.fd = p->b[i], .events = POLLIN};
			}
		}
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pf[0].revents) {
			char c;
			if (read(p->ctl[0], &c, 1) < 0 && errno != EINTR)
				die("read control pipe");
			continue; /* state changed: rebuild the poll set */
		}
		if (frozen)
			continue;
		if (pf[1].revents & POLLIN) {
			int c = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0) {
				int s = connect_target(p->target);
				int slot = -1;
				for (int i = 0; i < MAX_PAIRS && slot < 0; i++)
					if (p->a[i] < 0)
						slot = i;
				if (s < 0 || slot < 0) {
					close(c);
					if (s >= 0)
						close(s);
				} else {
					p->a[slot] = c;
					p->b[slot] = s;
					atomic_fetch_add(&p->accepted, 1);
				}
			}
		}
		for (int k = 2; k < n; k++) {
			if (!pf[k].revents)
				continue;
			int i = who[k];
			if (p->a[i] < 0)
				continue;
			int from = pf[k].fd, to = from == p->a[i] ? p->b[i] : p->a[i];
			ssize_t r = recv(from, buf, sizeof buf, 0);
			if (r <= 0 || write_all(to, buf, (size_t)r) < 0)
				close_pair(p, i);
		}
	}
	for (int i = 0; i < MAX_PAIRS; i++)
		if (p->a[i] >= 0)
			close_pair(p, i);
	return NULL;
}

static void poke(struct pt_proxy *p)
{
	char c = 1;
	if (write(p->ctl[1], &c, 1) != 1)
		die("write control pipe");
}

struct pt_proxy *pt_proxy_start(int target_port)
{
	struct pt_proxy *p = calloc(1, sizeof *p);
	if (!p)
		die("calloc");
	p->target = target_port;
	for (int i = 0; i < MAX_PAIRS; i++)
		p->a[i] = p->b[i] = -1;
	pthread_mutex_init(&p->mu, NULL);
	if (pipe(p->ctl) < 0)
		die("pipe");
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(p->lfd, 256) < 0)
		die("listen");
	socklen_t sl = sizeof sa;
	getsockname(p->lfd, (struct sockaddr *)&sa, &sl);
	p->port = ntohs(sa.sin_port);
	if (pthread_create(&p->th, NULL, proxy_main, p) != 0)
		die("pthread_create");
	return p;
}

int pt_proxy_port(const struct pt_proxy *p)
{
	return p->port;
}

void pt_proxy_freeze(struct pt_proxy *p, bool frozen)
{
	pthread_mutex_lock(&p->mu);
	p->frozen = frozen;
	pthread_mutex_unlock(&p->mu);
	poke(p);
}

void pt_proxy_cut(struct pt_proxy *p)
{
	pthread_mutex_lock(&p->mu);
	p->cut = true;
	pthread_mutex_unlock(&p->mu);
	poke(p);
}

int pt_proxy_accepted(struct pt_proxy *p)
{
	return atomic_load(&p->accepted);
}

void pt_proxy_stop(struct pt_proxy *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_mutex_unlock(&p->mu);
	poke(p);
	pthread_join(p->th, NULL);
	close(p->lfd);
	close(p->ctl[0]);
	close(p->ctl[1]);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int pt_pg_port(void)
{
	const char *e = getenv("PANE_PG_PORT");
	if (e && *e)
		return (int)strtol(e, NULL, 10);
	const char *u = getenv("DATABASE_URL");
	char *port = u ? strstr(u, "://") : NULL;
	if (port) {
		const char *host = port + 3;
		const char *end = host + strcspn(host, "/?");
		const char *at = memchr(host, '@', (size_t)(end - host));
		const char *colon = NULL;
		for (const char *s = at ? at : host; s < end; s++)
			if (*s == ':')
				colon = s;
		if (colon)
			return (int)strtol(colon + 1, NULL, 10);
	}
	return 5432;
}

char *pt_url_with_port(const char *url, int port)
{
	const char *scheme = strstr(url, "://");
	const char *host = scheme ? scheme + 3 : url;
	const char *end = host + strcspn(host, "/?");
	const char *at = memchr(host, '@', (size_t)(end - host));
	const char *colon = NULL;
	for (const char *s = at ? at : host; s < end; s++)
		if (*s == ':')
			colon = s;
	const char *cut = colon ? colon : end;
	size_t n = (size_t)(cut - url) + 16 + strlen(end);
	char *out = malloc(n);
	if (!out)
		die("malloc");
	snprintf(out, n, "%.*s:%d%s", (int)(cut - url), url, port, end);
	return out;
}
