/*
 * tcpproxy.h - a loopback TCP proxy in front of a real server (PostgreSQL)
 * that a test can freeze or cut, to play a dependency that hangs or drops.
 *
 *   frozen: nothing is read or forwarded any more, new connections wait in
 *           the kernel's backlog - what a client sees of a SIGSTOPped server
 *           (the kernel still ACKs, so TCP keepalives do not notice);
 *   cut:    every live connection is closed at once, without a protocol
 *           message - a server that died or a network that dropped.
 */
#ifndef PANE_TESTS_TCPPROXY_H
#define PANE_TESTS_TCPPROXY_H

#include <stdbool.h>

struct pt_proxy;

/* Listens on a free 127.0.0.1 port and forwards to 127.0.0.1:target_port.
 * Exits the test on failure. */
struct pt_proxy *pt_proxy_start(int target_port);
int pt_proxy_port(const struct pt_proxy *p);
void pt_proxy_freeze(struct pt_proxy *p, bool frozen);
/* Closes every live connection (new ones are forwarded again). */
void pt_proxy_cut(struct pt_proxy *p);
/* Connections accepted so far. */
int pt_proxy_accepted(struct pt_proxy *p);
void pt_proxy_stop(struct pt_proxy *p);

/* The port of $DATABASE_URL's server (PANE_PG_PORT, else parsed; 5432). */
int pt_pg_port(void);
/* url with its port replaced by port (free()). */
char *pt_url_with_port(const char *url, int port);

#endif
