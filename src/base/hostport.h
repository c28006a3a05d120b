/*
 * hostport.h - HOST:PORT listen addresses, parsed in one place.
 *
 * Accepted: "127.0.0.1:8080", "localhost:8125", "[::1]:9090" (IPv6 in
 * brackets), ":8125" and "0.0.0.0:8125" (every address); the port is a
 * decimal number 0..65535 (0: the kernel picks one). The split parts are
 * what getaddrinfo() takes (an empty host means "any": pass NULL).
 */
#ifndef PANE_BASE_HOSTPORT_H
#define PANE_BASE_HOSTPORT_H

#include <stddef.h>

/* Splits s into host (hostlen bytes) and port (portlen bytes), both
 * NUL-terminated. 0, or PANE_EINVAL when there is no port, the port is
 * not a number in range, a bracket is unclosed or a part does not fit. */
int pane_hostport_split(const char *s, char *host, size_t hostlen, char *port, size_t portlen);

#endif
