/*
 * migrate.c - creates and upgrades the queue's schema.
 *
 * The migrations are the files sql/queue/NNN_*.sql, compiled into the binary
 * (embed_sql.py), written against the literal schema "pane." and re-targeted
 * to the configured schema by replacing that prefix; the schema name is
 * validated to [a-z_][a-z0-9_]* first, so the replacement cannot inject SQL.
 *
 * Invariants:
 *   1. All pending migrations run in ONE transaction that first takes a
 *      transaction-scoped advisory lock keyed on the schema name: concurrent
 *      `pane migrate` runs (several workers starting at once) serialise, and
 *      the later ones find the work done and change nothing.
 *   2. <schema>.schema_version holds one row per applied version; a version
 *      is recorded in the same transaction as its DDL, so a failed migration
 *      leaves neither.
 *   3. A database with a version newer than this build knows is refused
 *      (an old binary must not run against a newer schema).
 */
#include "pane/queue.h"

#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "queue/migrations.h"

bool pane_queue_schema_valid(const char *s)
{
	if (!s || !*s || strlen(s) > 63)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

int pane_queue_schema_version_latest(void)
{
	return pane_queue_migrations[pane_queue_n_migrations - 1].version;
}

int pane_queue_pg_err(PGconn *c, PGresult *r, struct pane_err *err, const char *what)
{
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!msg || !*msg)
		msg = PQerrorMessage(c);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	pane_err_set(err, PANE_EDB, "%s: %.*s", what, (int)n, msg);
	const char *hint = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
	if (hint && *hint)
		pane_err_detail(err, "%s", hint);
	else if (detail && *detail)
		pane_err_detail(err, "%s", detail);
	else if (PQstatus(c) != CONNECTION_OK)
		pane_err_detail(err, "check that PostgreSQL is running and the database URL is right");
	return PANE_EDB;
}

/* Runs one command; 0 or PANE_EDB with err filled. */
static int exec_cmd(PGconn *c, const char *sql, struct pane_err *err, const char *what)
{
	PGresult *r = PQexec(c, sql);
	int rc = 0;
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = pane_queue_pg_err(c, r, err, what);
	PQclear(r);
	return rc;
}

void pane_queue_sql_schema_version(const char *schema, char *out, size_t len)
{
	snprintf(out, len, "SELECT coalesce(max(version), 0) FROM %s.schema_version", schema);
}

/* Reads max(version) inside the current transaction; 0 when absent. */
static int read_version(PGconn *c, const char *schema, int *version, struct pane_err *err)
{
	const char *params[1] = {schema};
	PGresult *r = PQexecParams(c, PANE_QUEUE_SQL_SCHEMA_EXISTS, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = pane_queue_pg_err(c, r, err, "reading the schema version");
		PQclear(r);
		return rc;
	}
	bool exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	*version = 0;
	if (!exists)
		return 0;
	char sql[160];
	pane_queue_sql_schema_version(schema, sql, sizeof sql);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = pane_queue_pg_err(c, r, err, "reading the schema version");
		PQclear(r);
		return rc;
	}
	*version = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

int pane_queue_schema_version(PGconn *c, const char *schema, int *version, struct pane_err *err)
{
	schema = schema ? schema : PANE_QUEUE_DEFAULT_SCHEMA;
	if (!pane_queue_schema_valid(schema))
		return pane_err_set(err, PANE_EINVAL, "invalid schema name '%s'", schema);
	return read_version(c, schema, version, err);
}

/* The migration text with "pane." re-targeted to schema. */
static char *retarget(const char *sql, const char *schema)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	const char *p = sql, *hit;
	while ((hit = strstr(p, "pane.")) != NULL) {
		pane_buf_add(&b, p, (size_t)(hit - p));
		pane_buf_addf(&b, "%s.", schema);
		p = hit + 5;
	}
	pane_buf_adds(&b, p);
	return pane_buf_detach(&b, NULL);
}

int pane_queue_migrate(PGconn *c, const char *schema, int *from, int *to, struct pane_err *err)
{
	schema = schema ? schema : PANE_QUEUE_DEFAULT_SCHEMA;
	if (!pane_queue_schema_valid(schema))
		return pane_err_set(err, PANE_EINVAL, "invalid schema name '%s'", schema);
	int rc, version = 0;
	char sql[256];
	if ((rc = exec_cmd(c, "BEGIN", err, "starting the migration")) < 0)
		return rc;
	const char *params[1] = {schema};
	PGresult *r = PQexecParams(c, "SELECT pg_advisory_xact_lock(hashtext('pane-migrate:' || $1))", 1, NULL, params,
	                           NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pane_queue_pg_err(c, r, err, "taking the migration lock");
		PQclear(r);
		goto rollback;
	}
	PQclear(r);
	if ((rc = read_version(c, schema, &version, err)) < 0)
		goto rollback;
	if (from)
		*from = version;
	if (version > pane_queue_schema_version_latest()) {
		rc = pane_err_set(err, PANE_EUNSUPPORTED, "schema %s is at version %d, newer than this pane knows (%d)",
		                  schema, version, pane_queue_schema_version_latest());
		pane_err_detail(err, "upgrade pane");
		goto rollback;
	}
	if (version == 0) {
		snprintf(sql, sizeof sql,
		         "CREATE SCHEMA IF NOT EXISTS %s; CREATE TABLE IF NOT EXISTS %s.schema_version ("
		         "version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
		         schema, schema);
		if ((rc = exec_cmd(c, sql, err, "creating the schema")) < 0)
			goto rollback;
	}
	for (int i = 0; i < pane_queue_n_migrations; i++) {
		const struct pane_queue_migration *m = &pane_queue_migrations[i];
		if (m->version <= version)
			continue;
		char *text = retarget(m->sql, schema);
		char what[128];
		snprintf(what, sizeof what, "applying migration %s", m->name);
		rc = exec_cmd(c, text, err, what);
		free(text);
		if (rc < 0)
			goto rollback;
		char vbuf[16];
		snprintf(vbuf, sizeof vbuf, "%d", m->version);
		const char *vp[2] = {vbuf, m->name};
		snprintf(sql, sizeof sql, "INSERT INTO %s.schema_version (version, name) VALUES ($1, $2)", schema);
		r = PQexecParams(c, sql, 2, NULL, vp, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = pane_queue_pg_err(c, r, err, "recording the schema version");
			PQclear(r);
			goto rollback;
		}
		PQclear(r);
		version = m->version;
	}
	if ((rc = exec_cmd(c, "COMMIT", err, "committing the migration")) < 0)
		return rc;
	if (to)
		*to = version;
	return 0;
rollback:
	PQclear(PQexec(c, "ROLLBACK"));
	return rc;
}
