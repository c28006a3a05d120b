/*
 * pg.c - the collector's PostgreSQL session and the rows -> samples mapping.
 *
 * Idea: every database source wants the same session: identified in
 * pg_stat_activity (application_name), bounded (statement_timeout and
 * lock_timeout, so a collector never holds up the database it watches) and,
 * where it only reads, read-only. The settings are applied with
 * set_config($1, $2, false) so nothing is formatted into SQL.
 *
 * Thread context: a PGconn belongs to one source instance (one thread).
 */
#include "sources/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"

int pane_src_pg_error(PGconn *conn, PGresult *r, const char *what, struct pane_err *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!msg)
		msg = conn ? PQerrorMessage(conn) : "no connection";
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	int code = PANE_EDB;
	if (state && strcmp(state, "57014") == 0)
		code = PANE_ETIMEDOUT;
	else if (state && strcmp(state, "42501") == 0)
		code = PANE_EPERM;
	pane_err_set(err, code, "%s: %.*s", what, (int)n, msg);
	if (state)
		pane_err_detail(err, "SQLSTATE %s", state);
	return code;
}

PGconn *pane_src_pg_connect(const char *url, const char *instance, int64_t timeout_ms, bool read_only,
                            struct pane_err *err)
{
	char appname[80], ctimeout[24], ms[24];
	snprintf(appname, sizeof appname, "pane-%s", instance);
	int64_t cto = timeout_ms / 1000;
	snprintf(ctimeout, sizeof ctimeout, "%lld", (long long)(cto < 2 ? 2 : cto));
	snprintf(ms, sizeof ms, "%lld", (long long)timeout_ms);
	const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
	const char *vals[] = {url, appname, ctimeout, NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		pane_src_pg_error(c, NULL, "cannot connect to PostgreSQL", err);
		if (err)
			err->code = PANE_EIO;
		PQfinish(c);
		return NULL;
	}
	const char *params[] = {ms, read_only ? "on" : "off"};
	PGresult *r = PQexecParams(c,
	                           "SELECT set_config('statement_timeout', $1, false), "
	                           "set_config('lock_timeout', $1, false), "
	                           "set_config('idle_in_transaction_session_timeout', $1, false), "
	                           "set_config('default_transaction_read_only', $2, false)",
	                           2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pane_src_pg_error(c, r, "cannot configure the collector session", err);
		PQclear(r);
		PQfinish(c);
		return NULL;
	}
	PQclear(r);
	return c;
}

int pane_src_pg_ensure(PGconn **conn, const char *url, const char *instance, int64_t timeout_ms, bool read_only,
                       struct pane_err *err)
{
	if (*conn && PQstatus(*conn) == CONNECTION_OK && PQtransactionStatus(*conn) == PQTRANS_IDLE)
		return 0;
	if (*conn) {
		PQfinish(*conn);
		*conn = NULL;
	}
	*conn = pane_src_pg_connect(url, instance, timeout_ms, read_only, err);
	return *conn ? 0 : (err && err->code ? err->code : PANE_EDB);
}

int pane_src_pg_value(const char *s, double *out)
{
	if (!s || !*s)
		return PANE_EINVAL;
	if (strcmp(s, "t") == 0 || strcmp(s, "true") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(s, "f") == 0 || strcmp(s, "false") == 0) {
		*out = 0;
		return 0;
	}
	if (strcmp(s, "Infinity") == 0) {
		*out = __builtin_inf();
		return 0;
	}
	if (strcmp(s, "-Infinity") == 0) {
		*out = -__builtin_inf();
		return 0;
	}
	return pane_str_to_double(pane_str_c(s), out);
}

size_t pane_src_pg_emit_rows(struct pane_source *src, PGresult *r, const char *prefix, int n_labels, size_t *bad)
{
	int rows = PQntuples(r), cols = PQnfields(r);
	size_t emitted = 0;
	char name[PANE_METRIC_NAME_MAX + 1];
	for (int i = 0; i < rows; i++) {
		struct pane_labels ls;
		pane_labels_init(&ls);
		bool ok = true;
		for (int j = 0; j < n_labels && j < cols; j++) {
			if (PQgetisnull(r, i, j))
				continue;
			if (pane_labels_set(&ls, PQfname(r, j), PQgetvalue(r, i, j)) < 0)
				ok = false;
		}
		for (int j = n_labels; ok && j < cols; j++) {
			if (PQgetisnull(r, i, j))
				continue;
			double v;
			if (pane_src_pg_value(PQgetvalue(r, i, j), &v) < 0) {
				if (bad)
					(*bad)++;
				continue;
			}
			if (snprintf(name, sizeof name, "%s%s", prefix, PQfname(r, j)) >= (int)sizeof name) {
				if (bad)
					(*bad)++;
				continue;
			}
			if (pane_source_emit_sample(src, name, &ls, 0, v) == 0)
				emitted++;
			else if (bad)
				(*bad)++;
		}
		if (!ok && bad)
			(*bad)++;
		pane_labels_release(&ls);
	}
	return emitted;
}
