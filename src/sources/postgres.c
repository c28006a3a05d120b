/*
 * postgres.c - the PostgreSQL statistics source (any PostgreSQL 13-17,
 * Supabase's database included).
 *
 * Idea: a postgres_exporter-shaped collector built from data. On each
 * collection it (re)connects if needed, learns the server version and the
 * pg_stat_statements extension version once per connection, asks
 * postgres_queries.c for the matching SQL, and maps every result with the
 * generic rows -> samples rule (pg.h). A failing query group is reported
 * and the others still run: a role that may not read one view should not
 * blind the rest.
 *
 * Metric names: prefix + column, e.g. pg_stat_database_xact_commit_total,
 * pg_stat_activity_count{state=...}, pg_stat_user_tables_n_dead_tup,
 * pg_stat_checkpointer_num_timed_total (17+) or
 * pg_stat_bgwriter_checkpoints_timed_total (13-16),
 * pg_stat_statements_exec_time_seconds_total{queryid,datname,user,query}.
 * pg_up is 1 after a successful connection, 0 when the server is
 * unreachable. Cardinality is bounded: tables (tables_limit, by size) and
 * statements (statements_limit, by total time).
 *
 * Session: read-only, statement_timeout = timeout (pg.h). A read-only role
 * with pg_monitor sees everything; without it other roles' query texts are
 * hidden but the numbers are still there.
 *
 * Thread context: the instance thread only.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "sources/pg.h"
#include "sources/postgres_queries.h"
#include "sources/source.h"

struct pg_cfg {
	struct pane_source_common common;
	char *url;
	bool tables;
	int64_t tables_limit;
	bool statements;
	int64_t statements_limit;
	int64_t statement_text_max;
};

static const struct pane_cfg_field pg_fields[] = {
    {"url", PANE_CFT_STRING, offsetof(struct pg_cfg, url), NULL, PANE_CFG_REQUIRED | PANE_CFG_SECRET,
     "connection URL, only as ${VAR} (postgres://user:pass@host:5432/db)", 0, 0},
    {"tables", PANE_CFT_BOOL, offsetof(struct pg_cfg, tables), "true", 0,
     "collect pg_stat_user_tables of the connected database", 0, 0},
    {"tables_limit", PANE_CFT_INT, offsetof(struct pg_cfg, tables_limit), "200", 0,
     "at most this many tables (the largest)", 1, 100000},
    {"statements", PANE_CFT_BOOL, offsetof(struct pg_cfg, statements), "true", 0,
     "collect pg_stat_statements when the extension is installed", 0, 0},
    {"statements_limit", PANE_CFT_INT, offsetof(struct pg_cfg, statements_limit), "50", 0,
     "top N statements by total execution time", 1, 10000},
    {"statement_text_max", PANE_CFT_INT, offsetof(struct pg_cfg, statement_text_max), "120", 0,
     "characters of statement text in the query label (0 = no text)", 0, 4000},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct pg_ctx {
	struct pg_cfg *cfg;
	PGconn *conn;
	int server_version;
	int pgss_version;
};

static int pg_init(struct pane_source *src, void *cfgp, const struct pane_cfg *file, const struct pane_cfg_node *node,
                   void **ctx, struct pane_err *err)
{
	(void)src, (void)file, (void)node, (void)err;
	struct pg_ctx *c = pane_xcalloc(1, sizeof *c);
	c->cfg = cfgp;
	*ctx = c;
	return 0;
}

static void pg_close(void *ctxp)
{
	struct pg_ctx *c = ctxp;
	if (!c)
		return;
	PQfinish(c->conn);
	free(c);
}

static int learn_versions(struct pg_ctx *c, struct pane_err *err)
{
	PGresult *r = PQexec(c->conn, "SELECT current_setting('server_version_num')::int, "
	                              "(SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements')");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = pane_src_pg_error(c->conn, r, "cannot read the server version", err);
		PQclear(r);
		return rc;
	}
	int64_t v = 0;
	if (pane_str_to_i64(pane_str_c(PQgetvalue(r, 0, 0)), &v) < 0 || v <= 0 || v > 10000000) {
		PQclear(r);
		return pane_err_set(err, PANE_EDB, "unexpected server_version_num");
	}
	c->server_version = (int)v;
	c->pgss_version = PQgetisnull(r, 0, 1) ? 0 : pane_pgstat_parse_extversion(PQgetvalue(r, 0, 1));
	PQclear(r);
	return 0;
}

static int pg_collect(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct pg_ctx *c = ctxp;
	bool fresh = !c->conn || PQstatus(c->conn) != CONNECTION_OK;
	int rc = pane_src_pg_ensure(&c->conn, c->cfg->url, pane_source_name(src), c->cfg->common.timeout_ms, true, err);
	if (rc < 0) {
		pane_source_emit_sample(src, "pg_up", NULL, 0, 0);
		pane_source_set_reason(src, "connection");
		return rc;
	}
	if (fresh || !c->server_version) {
		rc = learn_versions(c, err);
		if (rc < 0)
			return rc;
	}
	pane_source_emit_sample(src, "pg_up", NULL, 0, 1);

	struct pane_pgstat_query q[PANE_PGSTAT_MAX_QUERIES];
	size_t nq = pane_pgstat_select(c->server_version, c->pgss_version, c->cfg->tables, c->cfg->statements, q);
	char limit[24], textmax[24];
	int first_rc = 0;
	for (size_t i = 0; i < nq && !pane_source_stopping(src); i++) {
		const char *params[2] = {limit, textmax};
		int np = q[i].param_text ? 2 : q[i].param_limit ? 1 : 0;
		int64_t lim = strcmp(q[i].group, "tables") == 0 ? c->cfg->tables_limit : c->cfg->statements_limit;
		snprintf(limit, sizeof limit, "%lld", (long long)lim);
		snprintf(textmax, sizeof textmax, "%lld", (long long)c->cfg->statement_text_max);
		PGresult *r = PQexecParams(c->conn, q[i].sql, np, NULL, np ? params : NULL, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			struct pane_err e = {0};
			char what[96];
			snprintf(what, sizeof what, "query %s", q[i].group);
			int qrc = pane_src_pg_error(c->conn, r, what, &e);
			pane_log_kv(PANE_LOG_WARN, "sources", "statistics query failed", "source",
			            pane_source_name(src), "group", q[i].group, "error", e.msg, NULL);
			if (first_rc == 0) {
				first_rc = qrc;
				if (err)
					*err = e;
			}
			PQclear(r);
			if (PQstatus(c->conn) != CONNECTION_OK)
				break;
			continue;
		}
		size_t bad = 0;
		pane_src_pg_emit_rows(src, r, q[i].prefix, q[i].n_labels, &bad);
		PQclear(r);
	}
	if (first_rc < 0)
		pane_source_set_reason(src, first_rc == PANE_ETIMEDOUT ? "timeout" : "query");
	return first_rc;
}

const struct pane_source_plugin pane_source_postgres = {
    .name = "postgres",
    .provider = "postgres",
    .description = "PostgreSQL 13-17 statistics (pg_stat_*, pg_stat_statements, sizes, locks, replication)",
    .default_interval_ms = 30000,
    .default_timeout_ms = 10000,
    .cfg_size = sizeof(struct pg_cfg),
    .fields = pg_fields,
    .init = pg_init,
    .collect = pg_collect,
    .close = pg_close,
};
