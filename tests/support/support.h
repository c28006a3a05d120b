/*
 * support.h - helpers shared by integration tests: a fresh database per test,
 * a real HTTP client (libcurl), free ports, and running the pane binary.
 *
 * Tests run in parallel against one PostgreSQL server (scripts/test.sh), so
 * each test takes its own database from pt_db_fresh() and never shares tables.
 * A test that needs PostgreSQL and finds no DATABASE_URL exits 77 (skipped),
 * which only happens when run outside scripts/test.sh.
 */
#ifndef PANE_TESTS_SUPPORT_H
#define PANE_TESTS_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

/* Creates (dropping first) database "pt_<name>" and returns its URL (free()).
 * Exits 77 when DATABASE_URL is unset, 1 on failure. */
char *pt_db_fresh(const char *name);

struct pt_http_result {
	long status;
	char *body; /* NUL-terminated; free with pt_http_result_free */
	size_t len;
	char *content_type; /* or NULL */
	char *headers;      /* all response headers, raw */
};

/* One request. headers: NULL-terminated array of "Name: value" or NULL.
 * body may be NULL. Returns 0 when a response arrived (any status), -1 on
 * transport failure. timeout 10 s. */
int pt_http(const char *method, const char *url, const char *const *headers, const char *body, size_t len,
            struct pt_http_result *out);
void pt_http_result_free(struct pt_http_result *r);

/* A TCP port that was free a moment ago on 127.0.0.1. */
int pt_free_port(void);

/* Starts argv (argv[0] a path) with stdout+stderr appended to log_path (or
 * inherited when NULL). Returns the pid, exits the test on failure. */
pid_t pt_spawn(char *const argv[], const char *log_path);
/* Polls url until it answers 200 or timeout_ms passes. 0 or -1. */
int pt_wait_http(const char *url, int timeout_ms);
/* Sends sig and waits; returns the exit status (128+signal when killed). */
int pt_stop(pid_t pid, int sig);
/* $PANE_BIN, the binary under test. */
const char *pt_pane_bin(void);
/* The whole file as a NUL-terminated heap string (free it); NULL when it
 * cannot be opened. */
char *pt_read_file(const char *path);

#endif
