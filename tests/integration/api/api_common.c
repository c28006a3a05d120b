/*
 * api_common.c - see api_common.h.
 */
#include "api_common.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

/* The node at path (see api_common.h) under j, or NULL. */
static json_t *json_at(json_t *j, const char *path)
{
	char *copy = strdup(path), *save = NULL;
	for (char *step = strtok_r(copy, ".", &save); step && j; step = strtok_r(NULL, ".", &save)) {
		if (step[0] == '[') {
			char *eq = strchr(step, '='), *close = strrchr(step, ']');
			json_t *found = NULL, *it;
			size_t i;
			if (!eq || !close || !json_is_array(j)) {
				j = NULL;
				break;
			}
			*eq = *close = '\0';
			json_array_foreach(j, i, it)
			{
				const char *v = json_string_value(json_object_get(it, step + 1));
				if (v && strcmp(v, eq + 1) == 0) {
					found = it;
					break;
				}
			}
			j = found;
		} else if (json_is_array(j)) {
			j = json_array_get(j, strtoul(step, NULL, 10));
		} else {
			j = json_object_get(j, step);
		}
	}
	free(copy);
	return j;
}

static char *json_text(json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

char *api_json_at(const char *body, const char *path)
{
	json_t *j = json_loads(body, JSON_DECODE_ANY, NULL);
	json_t *v = j ? json_at(j, path) : NULL;
	char *t = v ? json_text(v) : NULL;
	json_decref(j);
	return t;
}

/* One check (PATH=VALUE, PATH~TEXT or PATH) against the parsed body; NULL
 * when it holds, else what was found. */
static char *check_one(json_t *j, const char *check)
{
	char path[256], *out = NULL;
	size_t pl = 0; /* the path ends at the first = or ~ outside [..] */
	for (int depth = 0; check[pl] && (depth || (check[pl] != '=' && check[pl] != '~')); pl++)
		depth += check[pl] == '[' ? 1 : check[pl] == ']' ? -1 : 0;
	snprintf(path, sizeof path, "%.*s", (int)pl, check);
	json_t *v = json_at(j, path);
	if (!v)
		return strdup("(absent)");
	if (!check[pl])
		return NULL;
	char *have = json_text(v);
	bool ok = check[pl] == '=' ? strcmp(have, check + pl + 1) == 0 : strstr(have, check + pl + 1) != NULL;
	if (ok)
		free(have);
	else
		out = have;
	return out;
}

void api_cases(struct api_env *e, const struct api_case *c, size_t n, long long id)
{
	for (size_t i = 0; i < n; i++) {
		char path[512], idtxt[24];
		snprintf(idtxt, sizeof idtxt, "%lld", id);
		const char *at = strstr(c[i].path, "{id}");
		if (at)
			snprintf(path, sizeof path, "%.*s%s%s", (int)(at - c[i].path), c[i].path, idtxt, at + 4);
		else
			snprintf(path, sizeof path, "%s", c[i].path);
		const char *body = c[i].body ? c[i].body : "";
		struct pt_http_result r =
		    api_req(e, c[i].method, path, c[i].token, c[i].ctype, c[i].body ? body : NULL, strlen(body));
		bool ok = r.status == c[i].status;
		char why[512] = "";
		if (!ok)
			snprintf(why, sizeof why, "status %ld, want %ld", r.status, c[i].status);
		if (ok && c[i].header && !strstr(r.headers ? r.headers : "", c[i].header)) {
			ok = false;
			snprintf(why, sizeof why, "no header '%s'", c[i].header);
		}
		if (ok && c[i].json) {
			json_t *j = json_loads(r.body ? r.body : "", JSON_DECODE_ANY, NULL);
			char *checks = strdup(c[i].json), *save = NULL;
			for (char *ck = strtok_r(checks, ";", &save); ck && ok; ck = strtok_r(NULL, ";", &save)) {
				char *have = j ? check_one(j, ck) : strdup("(not JSON)");
				if (have) {
					ok = false;
					snprintf(why, sizeof why, "%s: found %s", ck, have);
					free(have);
				}
			}
			free(checks);
			json_decref(j);
		}
		if (!ok)
			fprintf(stderr, "case %zu: %s %s: %s\n  answer: %s\n", i, c[i].method, path, why,
			        r.body ? r.body : "");
		pt_http_result_free(&r);
		assert_true(ok);
	}
}
