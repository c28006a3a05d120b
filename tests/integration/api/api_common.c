/*
 * api_common.c - see api_common.h.
 */
#include "api_common.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "pane/queue.h"
#include "tcpproxy.h"

void api_start(struct api_env *e, const char *name, const char *yaml_extra)
{
	api_start_ex(e, name, yaml_extra, 0);
}

void api_start_ex(struct api_env *e, const char *name, const char *yaml_extra, int pg_port)
{
	memset(e, 0, sizeof *e);
	e->db_url = pt_db_fresh(name);
	e->sql = PQconnectdb(e->db_url);
	if (PQstatus(e->sql) != CONNECTION_OK) {
		fprintf(stderr, "connect: %s", PQerrorMessage(e->sql));
		exit(1);
	}
	struct pane_err err = {0};
	if (pane_queue_migrate(e->sql, "pane", NULL, NULL, &err) < 0) {
		fprintf(stderr, "migrate: %s\n", err.msg);
		exit(1);
	}
	snprintf(e->dir, sizeof e->dir, "/tmp/pane-api-%s-XXXXXX", name);
	if (!mkdtemp(e->dir)) {
		perror("mkdtemp");
		exit(1);
	}
	e->port = pt_free_port();
	snprintf(e->base, sizeof e->base, "http://127.0.0.1:%d", e->port);
	char path[512], data[512], log[512];
	snprintf(path, sizeof path, "%s/pane.yaml", e->dir);
	snprintf(data, sizeof data, "%s/data", e->dir);
	snprintf(log, sizeof log, "%s/pane.log", e->dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "server:\n  listen: 127.0.0.1:%d\n%s", e->port, yaml_extra ? yaml_extra : "");
	fclose(f);
	char *serve_url = pg_port > 0 ? pt_url_with_port(e->db_url, pg_port) : strdup(e->db_url);
	setenv("DATABASE_URL", serve_url, 1);
	free(serve_url);
	char *argv[] = {(char *)pt_pane_bin(), "serve", "--config", path, "--data-dir", data, NULL};
	e->pid = pt_spawn(argv, log);
	char url[128];
	snprintf(url, sizeof url, "%s/healthz", e->base);
	if (pt_wait_http(url, 20000) < 0) {
		fprintf(stderr, "pane serve did not start; log in %s\n", log);
		exit(1);
	}
}

void api_stop(struct api_env *e)
{
	int st = pt_stop(e->pid, SIGTERM);
	if (st != 0)
		fprintf(stderr, "pane serve exited with %d (log in %s/pane.log)\n", st, e->dir);
	PQfinish(e->sql);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
	if (st == 0 && !getenv("PT_KEEP") && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", e->dir);
	free(e->db_url);
}

struct pt_http_result api_req(struct api_env *e, const char *method, const char *path, const char *token,
			      const char *ctype, const char *body, size_t len)
{
	char url[512], auth[256], ct[256];
	const char *h[3] = {NULL, NULL, NULL};
	int n = 0;
	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		h[n++] = auth;
	}
	if (ctype) {
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
		h[n++] = ct;
	}
	snprintf(url, sizeof url, "%s%s", e->base, path);
	struct pt_http_result r;
	if (pt_http(method, url, h, body, len, &r) < 0) {
		fprintf(stderr, "%s %s: no response\n", method, path);
		exit(1);
	}
	return r;
}

long long api_sql_ll(struct api_env *e, const char *sql)
{
	PGresult *r = PQexec(e->sql, sql);
	long long v = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(e->sql));
	PQclear(r);
	return v;
}

double api_metric(struct api_env *e, const char *name)
{
	struct pt_http_result r = api_req(e, "GET", "/metrics", NULL, NULL, NULL, 0);
	double v = -1;
	size_t nl = strlen(name);
	for (char *p = r.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ' ') {
			v = strtod(p + nl + 1, NULL);
			break;
		}
	}
	pt_http_result_free(&r);
	return v;
}

long long api_json_ll(const char *body, const char *key)
{
	json_t *j = json_loads(body, 0, NULL);
	long long v = -1;
	if (j && json_is_integer(json_object_get(j, key)))
		v = (long long)json_integer_value(json_object_get(j, key));
	json_decref(j);
	return v;
}
