/*
 * postgres_queries.h - the version-aware statistics queries of the
 * PostgreSQL source, separate so their selection is unit-tested without a
 * server of every version.
 *
 * Every query follows one shape, which keeps the collector a generic loop:
 * the first n_labels columns are label values (column name = label name,
 * NULL or '' = label absent), every later column is one metric whose name
 * is prefix + column name (counters end in _total, as postgres_exporter
 * users know them). NULL metric values are skipped. A query whose
 * param_limit is set takes $1 = a row limit (and param_text = $2 a text
 * length for statement text).
 */
#ifndef PANE_SOURCES_POSTGRES_QUERIES_H
#define PANE_SOURCES_POSTGRES_QUERIES_H

#include <stdbool.h>
#include <stddef.h>

struct pane_pgstat_query {
	const char *group;  /* "database", "activity", ... (for messages and tests) */
	const char *prefix; /* metric name prefix */
	int n_labels;
	bool param_limit; /* $1 = row limit */
	bool param_text;  /* $2 = statement text length */
	const char *sql;
};

#define PANE_PGSTAT_MAX_QUERIES 16

/* Fills out[] with the queries for a server of server_version_num (e.g.
 * 150004) and a pg_stat_statements extension of version pgss_version
 * (major*100 + minor, e.g. 110 for 1.10; 0 = not installed). Groups
 * `tables` and `statements` are included only when asked. Returns the number
 * of queries. Servers older than 13 get the 13 queries (best effort). */
size_t pane_pgstat_select(int server_version_num, int pgss_version, bool tables, bool statements,
                          struct pane_pgstat_query out[PANE_PGSTAT_MAX_QUERIES]);

/* "1.10" -> 110; 0 for NULL or junk. */
int pane_pgstat_parse_extversion(const char *s);

#endif
