/*
 * fakectl.h - starting and steering a provider fake (a script in tests/fakes) from
 * an integration test: spawn on a free loopback port, POST control JSON,
 * count the requests it answered.
 */
#ifndef PANE_TESTS_SOURCES_FAKECTL_H
#define PANE_TESTS_SOURCES_FAKECTL_H

#include <stddef.h>
#include <sys/types.h>

struct fakectl {
	pid_t pid;
	int port;
	char base[64]; /* http://127.0.0.1:PORT */
};

/* Starts tests/fakes/<script> PORT [args...] (NULL-terminated) and waits for it. */
void fake_start(struct fakectl *f, const char *script, ...) __attribute__((sentinel));
void fake_stop(struct fakectl *f);
/* POSTs json to base+path; fails the test unless 200. Returns the body (caller frees). */
char *fake_post(struct fakectl *f, const char *path, const char *json);
/* Requests answered with status (0 = any) whose path ends with suffix. */
size_t fake_count(struct fakectl *f, const char *suffix, long status);
/* GETs an API path with a bearer token; returns the body (caller frees). */
char *fake_get(struct fakectl *f, const char *path, const char *bearer);

#endif
