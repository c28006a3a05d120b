/*
 * sql.c - the `sql` source: business, growth and cost metrics defined as
 * named SQL queries against any PostgreSQL.
 *
 * Idea: the numbers a team cares about next to its infrastructure
 * (signups, revenue, backlog per customer) already live in its database;
 * a query that returns a value column and some label columns is the whole
 * definition. Each row becomes one sample `<name>{label columns...}`.
 *
 * Safety: each query runs in its own READ ONLY transaction with a local
 * statement_timeout, through a NO SCROLL cursor that is fetched for at most
 * max_rows + 1 rows, so a query that writes fails, a slow one is cancelled,
 * and a huge result is never transferred (the extra row only tells that the
 * limit was hit). Running through DECLARE CURSOR also limits the text to a
 * single query (SELECT, VALUES, WITH ... SELECT). The session is read-only
 * too (pg.h). The SQL is the operator's own configuration; values from rows
 * never reach SQL.
 *
 * A failing query does not stop the others; the collection reports the
 * first failure (reasons: query, timeout, bad_value, row_limit).
 *
 * Thread context: the instance thread only.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "sources/pg.h"
#include "sources/source.h"

struct sql_query {
	char *name;
	char *sql;
	char *value;
	struct pane_cfg_strlist labels;
	char *help;
};

static const struct pane_cfg_field query_fields[] = {
    {"name", PANE_CFT_STRING, offsetof(struct sql_query, name), NULL, PANE_CFG_REQUIRED,
     "metric name of the samples (e.g. signups_total)", 0, 0},
    {"sql", PANE_CFT_STRING, offsetof(struct sql_query, sql), NULL, PANE_CFG_REQUIRED,
     "one SELECT (or WITH/VALUES) query", 0, 0},
    {"value", PANE_CFT_STRING, offsetof(struct sql_query, value), "value", 0, "column holding the sample value", 0, 0},
    {"labels", PANE_CFT_STRLIST, offsetof(struct sql_query, labels), NULL, 0,
     "columns that become labels (default: every column but the value)", 0, 0},
    {"help", PANE_CFT_STRING, offsetof(struct sql_query, help), NULL, 0, "what the number means (documentation)", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct sql_cfg {
	struct pane_source_common common;
	char *url;
	int64_t max_rows;
};

static const struct pane_cfg_field sql_fields[] = {
    {"url", PANE_CFT_STRING, offsetof(struct sql_cfg, url), NULL, PANE_CFG_REQUIRED | PANE_CFG_SECRET,
     "connection URL, only as ${VAR}; a read-only role is enough", 0, 0},
    {"max_rows", PANE_CFT_INT, offsetof(struct sql_cfg, max_rows), "1000", 0,
     "rows per query at most (label cardinality guard)", 1, 1000000},
    {"queries", PANE_CFT_SECTION, 0, NULL, PANE_CFG_REQUIRED, "list of {name, sql, value, labels, help}", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct sql_ctx {
	struct sql_cfg *cfg;
	struct sql_query *q;
	size_t n;
	PGconn *conn;
};

static void sql_close(void *p)
{
	struct sql_ctx *c = p;
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		pane_cfg_unbind(query_fields, &c->q[i]);
	free(c->q);
	PQfinish(c->conn);
	free(c);
}

static int sql_init(struct pane_source *src, void *cfgp, const struct pane_cfg *file, const struct pane_cfg_node *node,
                    void **ctxp, struct pane_err *err)
{
	(void)src;
	struct sql_ctx *c = pane_xcalloc(1, sizeof *c);
	*ctxp = c;
	c->cfg = cfgp;
	const struct pane_cfg_node *qs = pane_cfg_get(node, "queries");
	if (!qs || qs->kind != PANE_CFG_SEQ || qs->n_items == 0)
		return pane_cfg_error(file, qs ? qs : node, err, "queries: expected a list of {name, sql, ...}");
	c->q = pane_xcalloc(qs->n_items, sizeof *c->q);
	for (size_t i = 0; i < qs->n_items; i++) {
		const struct pane_cfg_node *it = qs->items[i];
		if (it->kind != PANE_CFG_MAP)
			return pane_cfg_error(file, it, err, "expected a map with name and sql");
		c->n++;
		struct sql_query *q = &c->q[i];
		int rc = pane_cfg_bind(file, it, query_fields, q, err);
		if (rc < 0)
			return rc;
		if (!pane_metric_name_valid(q->name, strlen(q->name)))
			return pane_cfg_error(file, pane_cfg_get(it, "name"), err,
			                      "'%s' is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", q->name);
		for (size_t j = 0; j < q->labels.n; j++)
			if (!pane_label_name_valid(q->labels.items[j], strlen(q->labels.items[j])))
				return pane_cfg_error(file, pane_cfg_get(it, "labels"), err, "'%s' is not a label name",
				                      q->labels.items[j]);
		/* one statement: drop trailing semicolons and space */
		size_t n = strlen(q->sql);
		while (n && (q->sql[n - 1] == ';' || q->sql[n - 1] == ' ' || q->sql[n - 1] == '\n' ||
		             q->sql[n - 1] == '\t' || q->sql[n - 1] == '\r'))
			q->sql[--n] = '\0';
		if (!n)
			return pane_cfg_error(file, pane_cfg_get(it, "sql"), err, "empty query");
	}
	return 0;
}

static int col_index(PGresult *r, const char *name)
{
	for (int j = 0; j < PQnfields(r); j++)
		if (strcmp(PQfname(r, j), name) == 0)
			return j;
	return -1;
}

/* Runs one query; emits its rows. */
static int run_query(struct pane_source *src, struct sql_ctx *c, struct sql_query *q, struct pane_err *err)
{
	char what[PANE_METRIC_NAME_MAX + 16];
	snprintf(what, sizeof what, "query %s", q->name);
	PGresult *r = PQexec(c->conn, "BEGIN READ ONLY");
	int rc = 0;
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		goto db_error;
	PQclear(r);
	char ms[24];
	snprintf(ms, sizeof ms, "%lld", (long long)c->cfg->common.timeout_ms);
	const char *p[] = {ms};
	r = PQexecParams(c->conn, "SELECT set_config('statement_timeout', $1, true)", 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		goto db_error;
	PQclear(r);
	struct pane_buf decl;
	pane_buf_init(&decl, PANE_BUF_NOLIMIT);
	pane_buf_addf(&decl, "DECLARE pane_sql_source NO SCROLL CURSOR FOR %s", q->sql);
	r = PQexec(c->conn, decl.data);
	pane_buf_release(&decl);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		goto db_error;
	PQclear(r);
	char fetch[64];
	snprintf(fetch, sizeof fetch, "FETCH FORWARD %lld FROM pane_sql_source", (long long)c->cfg->max_rows + 1);
	r = PQexec(c->conn, fetch);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		goto db_error;

	int vcol = col_index(r, q->value);
	if (vcol < 0) {
		pane_source_set_reason(src, "query");
		rc = pane_err_set(err, PANE_EINVAL, "%s: no column named '%s' (set `value:` to the value column)", what,
		                  q->value);
		goto out;
	}
	int cols = PQnfields(r);
	int lcols[PANE_LABELS_MAX];
	int nl = 0;
	if (q->labels.n) {
		for (size_t j = 0; j < q->labels.n && nl < PANE_LABELS_MAX; j++) {
			int k = col_index(r, q->labels.items[j]);
			if (k < 0) {
				pane_source_set_reason(src, "query");
				rc = pane_err_set(err, PANE_EINVAL, "%s: no column named '%s' for a label", what,
				                  q->labels.items[j]);
				goto out;
			}
			lcols[nl++] = k;
		}
	} else {
		for (int j = 0; j < cols && nl < PANE_LABELS_MAX; j++)
			if (j != vcol)
				lcols[nl++] = j;
	}
	int rows = PQntuples(r);
	bool truncated = rows > c->cfg->max_rows;
	if (truncated)
		rows = (int)c->cfg->max_rows;
	size_t bad = 0;
	for (int i = 0; i < rows; i++) {
		if (PQgetisnull(r, i, vcol))
			continue;
		double v;
		if (pane_src_pg_value(PQgetvalue(r, i, vcol), &v) < 0) {
			bad++;
			continue;
		}
		struct pane_labels ls;
		pane_labels_init(&ls);
		int lrc = 0;
		for (int j = 0; j < nl && lrc == 0; j++)
			if (!PQgetisnull(r, i, lcols[j]))
				lrc = pane_labels_set(&ls, PQfname(r, lcols[j]), PQgetvalue(r, i, lcols[j]));
		if (lrc == 0)
			lrc = pane_source_emit_sample(src, q->name, &ls, 0, v);
		if (lrc < 0)
			bad++;
		pane_labels_release(&ls);
	}
	/* the query's help as the metric's metadata (the pipeline drops repeats):
	 * a name ending in _total is a counter, anything else a gauge */
	size_t nlen = strlen(q->name);
	const char *help = q->help ? q->help : "";
	char *h = pane_xstrndup(help, pane_utf8_cut(help, strlen(help), PANE_METADATA_HELP_MAX));
	struct pane_metadata md = {
	    .name = q->name,
	    .help = h,
	    .unit = "",
	    .type = nlen > 6 && strcmp(q->name + nlen - 6, "_total") == 0 ? PANE_METRIC_COUNTER : PANE_METRIC_GAUGE,
	};
	pane_source_emit_metadata(src, &md, 1);
	free(h);
	if (bad) {
		pane_source_set_reason(src, "bad_value");
		rc = pane_err_set(err, PANE_EINVAL, "%s: %zu row(s) with a value that is not a number or a bad label",
		                  what, bad);
		pane_err_detail(err, "cast the value column to a number (e.g. count(*)::float8) and name label columns "
		                     "with letters, digits and '_'");
	} else if (truncated) {
		pane_source_set_reason(src, "row_limit");
		rc = pane_err_set(err, PANE_ETOOBIG, "%s: more than max_rows (%lld) rows; the first %lld were kept",
		                  what, (long long)c->cfg->max_rows, (long long)c->cfg->max_rows);
		pane_err_detail(err, "aggregate in SQL or raise max_rows");
	}
	goto out;

db_error:
	rc = pane_src_pg_error(c->conn, r, what, err);
	pane_source_set_reason(src, rc == PANE_ETIMEDOUT ? "timeout" : "query");
out:
	PQclear(r);
	if (PQstatus(c->conn) == CONNECTION_OK)
		PQclear(PQexec(c->conn, "ROLLBACK"));
	return rc;
}

static int sql_collect(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct sql_ctx *c = ctxp;
	int rc = pane_src_pg_ensure(&c->conn, c->cfg->url, pane_source_name(src), c->cfg->common.timeout_ms, true, err);
	if (rc < 0) {
		pane_source_set_reason(src, "connection");
		return rc;
	}
	int first = 0;
	char reason[64] = "";
	for (size_t i = 0; i < c->n && !pane_source_stopping(src); i++) {
		struct pane_err e = {0};
		pane_source_set_reason(src, "");
		rc = run_query(src, c, &c->q[i], &e);
		if (rc < 0) {
			pane_log_kv(PANE_LOG_WARN, "sources", "sql query failed", "source", pane_source_name(src),
			            "query", c->q[i].name, "error", e.msg, NULL);
			if (first == 0) {
				first = rc;
				snprintf(reason, sizeof reason, "%s", pane_source_reason(src));
				if (err)
					*err = e;
			}
			if (PQstatus(c->conn) != CONNECTION_OK)
				break;
		}
	}
	pane_source_set_reason(src, reason);
	return first;
}

const struct pane_source_plugin pane_source_sql = {
    .name = "sql",
    .provider = "app",
    .description = "named SQL queries as metrics (value column + label columns), read-only, bounded",
    .default_interval_ms = 60000,
    .default_timeout_ms = 10000,
    .cfg_size = sizeof(struct sql_cfg),
    .fields = sql_fields,
    .init = sql_init,
    .collect = sql_collect,
    .close = sql_close,
};
