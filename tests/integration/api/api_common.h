/*
 * api_common.h - shared by the jobs API integration tests: start `pane serve`
 * on a fresh, migrated database with a config, talk to it, run SQL.
 */
#ifndef PANE_TESTS_API_COMMON_H
#define PANE_TESTS_API_COMMON_H

#include <libpq-fe.h>
#include <stddef.h>
#include <sys/types.h>

#include "support.h"

struct api_env {
	char *db_url;
	char dir[256]; /* temporary directory: config, data, log */
	char base[64]; /* http://127.0.0.1:PORT */
	int port;
	pid_t pid;
	PGconn *sql;
};

/* Creates database pt_<name>, migrates it, writes pane.yaml (yaml_extra is
 * appended after a server section), starts pane serve and waits for it. */
void api_start(struct api_env *e, const char *name, const char *yaml_extra);
/* The same, but pane serve reaches PostgreSQL on 127.0.0.1:pg_port (a
 * tcpproxy in front of it) when pg_port > 0; the test's own connection
 * (e->sql) stays direct. */
void api_start_ex(struct api_env *e, const char *name, const char *yaml_extra, int pg_port);
void api_stop(struct api_env *e);
/* One request to path with an optional bearer token and content type. */
struct pt_http_result api_req(struct api_env *e, const char *method, const char *path, const char *token,
                              const char *ctype, const char *body, size_t len);
/* First column of the first row of a query as a long long (-1 on NULL / error). */
long long api_sql_ll(struct api_env *e, const char *sql);
/* A metric's value from /metrics (-1 when absent). */
double api_metric(struct api_env *e, const char *name);
/* The id in a {"id":N,...} or {"job_id":N,...} body, or -1. */
long long api_json_ll(const char *body, const char *key);

/* One request and what its answer must hold (a row of a table test). */
struct api_case {
	const char *method, *path; /* "{id}" in path becomes the id given to api_cases */
	const char *token, *ctype, *body;
	long status;
	/* Checks on the parsed JSON body, ';'-separated, each PATH=VALUE (equal:
	 * a string, number, true/false/null written as JSON scalars are written
	 * bare), PATH~TEXT (a string containing TEXT) or PATH (present). PATH is
	 * dotted; a step [k=v] picks the array element whose member k is v:
	 * "error.code=not_found", "queues.[queue=ops].paused=true". NULL: none. */
	const char *json;
	const char *header; /* a substring the response headers must hold, or NULL */
};
/* Runs each case in order; a failure names the case and prints the answer. */
void api_cases(struct api_env *e, const struct api_case *c, size_t n, long long id);
/* The JSON value at PATH (the syntax above) in body as text (strings bare,
 * others as JSON), or NULL; the caller frees. */
char *api_json_at(const char *body, const char *path);

#endif
