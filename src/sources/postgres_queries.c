/*
 * postgres_queries.c - which statistics SQL to run on which PostgreSQL.
 *
 * Idea: version differences are data, not control flow in the collector.
 * Each query is a string literal per version range; pane_pgstat_select()
 * picks the literals for the server at hand. The differences handled:
 *   - PG 14 added session counters to pg_stat_database;
 *   - PG 17 moved checkpoint counters from pg_stat_bgwriter to the new
 *     pg_stat_checkpointer (and renamed them);
 *   - pg_stat_statements 1.8 (PG 13) renamed total_time -> total_exec_time;
 *     1.11 (PG 17) renamed blk_read_time -> shared_blk_read_time.
 *     The extension's version, not the server's, decides these columns.
 * Everything here reads only catalog views and statistics functions that
 * a role without superuser (pg_monitor, or even none) may call.
 */
#include "sources/postgres_queries.h"

#include <stdlib.h>
#include <string.h>

#include "base/str.h"

#define DB_COMMON                                                                                                      \
	"SELECT datname, numbackends, xact_commit AS xact_commit_total, xact_rollback AS xact_rollback_total, "        \
	"blks_read AS blks_read_total, blks_hit AS blks_hit_total, tup_returned AS tup_returned_total, "               \
	"tup_fetched AS tup_fetched_total, tup_inserted AS tup_inserted_total, "                                       \
	"tup_updated AS tup_updated_total, tup_deleted AS tup_deleted_total, conflicts AS conflicts_total, "           \
	"temp_files AS temp_files_total, temp_bytes AS temp_bytes_total, deadlocks AS deadlocks_total, "               \
	"checksum_failures AS checksum_failures_total, blk_read_time / 1000 AS blk_read_time_seconds_total, "          \
	"blk_write_time / 1000 AS blk_write_time_seconds_total, "                                                      \
	"extract(epoch FROM stats_reset) AS stats_reset_timestamp_seconds"

static const char q_database_13[] = DB_COMMON " FROM pg_stat_database WHERE datname IS NOT NULL";
static const char q_database_14[] =
    DB_COMMON ", session_time / 1000 AS session_time_seconds_total, "
              "active_time / 1000 AS active_time_seconds_total, "
              "idle_in_transaction_time / 1000 AS idle_in_transaction_time_seconds_total, "
              "sessions AS sessions_total, sessions_abandoned AS sessions_abandoned_total, "
              "sessions_fatal AS sessions_fatal_total, sessions_killed AS sessions_killed_total "
              "FROM pg_stat_database WHERE datname IS NOT NULL";

static const char q_database_size[] =
    "SELECT datname, CASE WHEN has_database_privilege(oid, 'CONNECT') THEN pg_database_size(oid) END AS size_bytes, "
    "age(datfrozenxid) AS xid_age, mxid_age(datminmxid) AS mxid_age, "
    "CASE WHEN datallowconn THEN 1 ELSE 0 END AS allow_connections "
    "FROM pg_database WHERE NOT datistemplate";

static const char q_activity[] =
    "SELECT coalesce(datname, '') AS datname, coalesce(state, 'unknown') AS state, count(*) AS count, "
    "coalesce(max(extract(epoch FROM now() - xact_start)), 0) AS max_tx_duration_seconds, "
    "coalesce(max(extract(epoch FROM now() - query_start)) FILTER (WHERE state = 'active'), 0) "
    "AS max_query_duration_seconds, "
    "count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting_count "
    "FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1, 2";

static const char q_server[] =
    "SELECT current_setting('max_connections')::float8 AS settings_max_connections, "
    "current_setting('superuser_reserved_connections')::float8 AS settings_superuser_reserved_connections, "
    "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections, "
    "pg_notification_queue_usage() AS notification_queue_usage, "
    "extract(epoch FROM pg_postmaster_start_time()) AS postmaster_start_time_seconds, "
    "current_setting('server_version_num')::float8 AS server_version_num, "
    "CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END AS replication_is_replica, "
    "CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END "
    "AS replication_lag_seconds";

#define TABLES_HEAD                                                                                                    \
	"SELECT current_database() AS datname, schemaname, relname, seq_scan AS seq_scan_total, "                      \
	"seq_tup_read AS seq_tup_read_total, idx_scan AS idx_scan_total, idx_tup_fetch AS idx_tup_fetch_total, "       \
	"n_tup_ins AS n_tup_ins_total, n_tup_upd AS n_tup_upd_total, n_tup_del AS n_tup_del_total, "                   \
	"n_tup_hot_upd AS n_tup_hot_upd_total, n_live_tup, n_dead_tup, n_mod_since_analyze, "                          \
	"n_ins_since_vacuum, "                                                                                         \
	"extract(epoch FROM last_vacuum) AS last_vacuum_seconds, "                                                     \
	"extract(epoch FROM last_autovacuum) AS last_autovacuum_seconds, "                                             \
	"extract(epoch FROM last_analyze) AS last_analyze_seconds, "                                                   \
	"extract(epoch FROM last_autoanalyze) AS last_autoanalyze_seconds, "                                           \
	"vacuum_count AS vacuum_count_total, autovacuum_count AS autovacuum_count_total, "                             \
	"analyze_count AS analyze_count_total, autoanalyze_count AS autoanalyze_count_total, "                         \
	"pg_total_relation_size(relid) AS size_bytes"
#define TABLES_TAIL " FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC, relid LIMIT $1"
static const char q_tables_13[] = TABLES_HEAD TABLES_TAIL;
static const char q_tables_16[] = TABLES_HEAD ", extract(epoch FROM last_seq_scan) AS last_seq_scan_seconds, "
                                              "extract(epoch FROM last_idx_scan) AS last_idx_scan_seconds" TABLES_TAIL;

static const char q_bgwriter_13[] =
    "SELECT checkpoints_timed AS checkpoints_timed_total, checkpoints_req AS checkpoints_req_total, "
    "checkpoint_write_time / 1000 AS checkpoint_write_time_seconds_total, "
    "checkpoint_sync_time / 1000 AS checkpoint_sync_time_seconds_total, "
    "buffers_checkpoint AS buffers_checkpoint_total, buffers_clean AS buffers_clean_total, "
    "maxwritten_clean AS maxwritten_clean_total, buffers_backend AS buffers_backend_total, "
    "buffers_backend_fsync AS buffers_backend_fsync_total, buffers_alloc AS buffers_alloc_total "
    "FROM pg_stat_bgwriter";
static const char q_bgwriter_17[] =
    "SELECT buffers_clean AS buffers_clean_total, maxwritten_clean AS maxwritten_clean_total, "
    "buffers_alloc AS buffers_alloc_total FROM pg_stat_bgwriter";
static const char q_checkpointer_17[] =
    "SELECT num_timed AS num_timed_total, num_requested AS num_requested_total, "
    "write_time / 1000 AS write_time_seconds_total, sync_time / 1000 AS sync_time_seconds_total, "
    "buffers_written AS buffers_written_total, restartpoints_timed AS restartpoints_timed_total, "
    "restartpoints_req AS restartpoints_req_total, restartpoints_done AS restartpoints_done_total "
    "FROM pg_stat_checkpointer";

static const char q_replication[] =
    "SELECT coalesce(application_name, '') AS application_name, coalesce(host(client_addr), '') AS client_addr, "
    "coalesce(state, '') AS state, "
    "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) END "
    "AS lag_bytes, extract(epoch FROM write_lag) AS write_lag_seconds, "
    "extract(epoch FROM flush_lag) AS flush_lag_seconds, extract(epoch FROM replay_lag) AS replay_lag_seconds "
    "FROM pg_stat_replication";

static const char q_slots[] =
    "SELECT slot_name, slot_type, coalesce(database, '') AS database, CASE WHEN active THEN 1 ELSE 0 END AS active, "
    "CASE WHEN pg_is_in_recovery() THEN NULL "
    "ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(confirmed_flush_lsn, restart_lsn)) END AS lag_bytes "
    "FROM pg_replication_slots";

static const char q_locks[] = "SELECT coalesce(d.datname, '') AS datname, l.mode, count(*) AS count "
                              "FROM pg_locks l LEFT JOIN pg_database d ON d.oid = l.database GROUP BY 1, 2";

#define PGSS_HEAD                                                                                                      \
	"SELECT s.queryid::text AS queryid, coalesce(d.datname, '') AS datname, coalesce(r.rolname, '') AS user, "     \
	"left(regexp_replace(coalesce(s.query, ''), '\\s+', ' ', 'g'), $2) AS query, "                                 \
	"s.calls AS calls_total, s.rows AS rows_total, "                                                               \
	"s.shared_blks_hit AS shared_blks_hit_total, s.shared_blks_read AS shared_blks_read_total, "
#define PGSS_TAIL                                                                                                      \
	" FROM pg_stat_statements s LEFT JOIN pg_database d ON d.oid = s.dbid "                                        \
	"LEFT JOIN pg_roles r ON r.oid = s.userid WHERE s.queryid IS NOT NULL "
static const char q_pgss_17[] =
    PGSS_HEAD "s.total_exec_time / 1000 AS exec_time_seconds_total, s.mean_exec_time / 1000 AS mean_exec_time_seconds, "
              "s.total_plan_time / 1000 AS plan_time_seconds_total, "
              "s.shared_blk_read_time / 1000 AS blk_read_time_seconds_total, "
              "s.shared_blk_write_time / 1000 AS blk_write_time_seconds_total" PGSS_TAIL
              "ORDER BY s.total_exec_time DESC LIMIT $1";
static const char q_pgss_13[] = PGSS_HEAD
    "s.total_exec_time / 1000 AS exec_time_seconds_total, s.mean_exec_time / 1000 AS mean_exec_time_seconds, "
    "s.total_plan_time / 1000 AS plan_time_seconds_total, "
    "s.blk_read_time / 1000 AS blk_read_time_seconds_total, "
    "s.blk_write_time / 1000 AS blk_write_time_seconds_total" PGSS_TAIL "ORDER BY s.total_exec_time DESC LIMIT $1";
static const char q_pgss_old[] =
    PGSS_HEAD "s.total_time / 1000 AS exec_time_seconds_total, s.mean_time / 1000 AS mean_exec_time_seconds, "
              "s.blk_read_time / 1000 AS blk_read_time_seconds_total, "
              "s.blk_write_time / 1000 AS blk_write_time_seconds_total" PGSS_TAIL "ORDER BY s.total_time DESC LIMIT $1";
static const char q_pgss_totals_new[] =
    "SELECT count(*) AS tracked, coalesce(sum(calls), 0) AS all_calls_total, "
    "coalesce(sum(total_exec_time), 0) / 1000 AS all_exec_time_seconds_total FROM pg_stat_statements";
static const char q_pgss_totals_old[] =
    "SELECT count(*) AS tracked, coalesce(sum(calls), 0) AS all_calls_total, "
    "coalesce(sum(total_time), 0) / 1000 AS all_exec_time_seconds_total FROM pg_stat_statements";

int pane_pgstat_parse_extversion(const char *s)
{
	if (!s)
		return 0;
	struct pane_str v = pane_str_c(s), maj, min;
	int64_t a, b = 0;
	if (pane_str_cut(v, '.', &maj, &min)) {
		struct pane_str rest;
		pane_str_cut(min, '.', &min, &rest);
		if (pane_str_to_i64(min, &b) < 0 || b < 0 || b > 99)
			return 0;
	}
	if (pane_str_to_i64(maj, &a) < 0 || a < 0 || a > 99)
		return 0;
	return (int)(a * 100 + b);
}

size_t pane_pgstat_select(int v, int pgss, bool tables, bool statements,
                          struct pane_pgstat_query out[PANE_PGSTAT_MAX_QUERIES])
{
	size_t n = 0;
	out[n++] = (struct pane_pgstat_query){
	    "database", "pg_stat_database_", 1, false, false, v >= 140000 ? q_database_14 : q_database_13};
	out[n++] = (struct pane_pgstat_query){"database_size", "pg_database_", 1, false, false, q_database_size};
	out[n++] = (struct pane_pgstat_query){"activity", "pg_stat_activity_", 2, false, false, q_activity};
	out[n++] = (struct pane_pgstat_query){"server", "pg_", 0, false, false, q_server};
	if (tables)
		out[n++] = (struct pane_pgstat_query){
		    "tables", "pg_stat_user_tables_", 3, true, false, v >= 160000 ? q_tables_16 : q_tables_13};
	if (v >= 170000) {
		out[n++] = (struct pane_pgstat_query){"bgwriter", "pg_stat_bgwriter_", 0, false, false, q_bgwriter_17};
		out[n++] = (struct pane_pgstat_query){"checkpointer", "pg_stat_checkpointer_", 0, false,
		                                      false,          q_checkpointer_17};
	} else {
		out[n++] = (struct pane_pgstat_query){"bgwriter", "pg_stat_bgwriter_", 0, false, false, q_bgwriter_13};
	}
	out[n++] = (struct pane_pgstat_query){"replication", "pg_stat_replication_", 3, false, false, q_replication};
	out[n++] = (struct pane_pgstat_query){"replication_slots", "pg_replication_slots_", 3, false, false, q_slots};
	out[n++] = (struct pane_pgstat_query){"locks", "pg_locks_", 2, false, false, q_locks};
	if (statements && pgss > 0) {
		const char *q = pgss >= 111 ? q_pgss_17 : pgss >= 108 ? q_pgss_13 : q_pgss_old;
		out[n++] = (struct pane_pgstat_query){"statements", "pg_stat_statements_", 4, true, true, q};
		out[n++] = (struct pane_pgstat_query){"statements_totals",
		                                      "pg_stat_statements_",
		                                      0,
		                                      false,
		                                      false,
		                                      pgss >= 108 ? q_pgss_totals_new : q_pgss_totals_old};
	}
	return n;
}
