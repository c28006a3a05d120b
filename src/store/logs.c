/*
 * logs.c - log lines and events in SQLite (logs.db), see store.h.
 *
 * Idea: logs are rows with the standard labels (provider, service,
 * environment, instance) as indexed columns and the full label set as a
 * JSON object; an external-content FTS5 table with the trigram tokenizer
 * indexes the message, so any substring of three or more characters is an
 * index lookup (shorter ones fall back to LIKE). Pages are newest first
 * with a (ts, id) cursor, so paging is stable while new lines arrive.
 * Events are a plain table keyed for idempotent re-import (dedup_key).
 * Metric metadata (HELP/TYPE/UNIT) is one row per metric family name,
 * upserted (last writer wins); an unchanged row is not rewritten.
 *
 * Reads go through pipeline/logreader.h (pane_logdb_reader): rows are
 * streamed to the caller's callback, which formats them; nothing here knows
 * an API's JSON. Equality matchers become SQL (indexed columns for the
 * standard labels); the others run in C on the label set, parsed once per
 * distinct stored label object per call.
 *
 * logs.db is created by the first write (a log line, an event, metadata),
 * not at open: an empty one is ~50 KB of schema pages (a root page per
 * table, index and FTS5 shadow table), which a store holding only metrics
 * would carry for nothing (bench/README.md counts everything on disk).
 * Until then reads answer nothing; the SQLite features the schema needs
 * are still checked at open, on an in-memory database.
 *
 * Invariants:
 *   (1) All SQL is parameterised; label names are validated and passed as
 *       bound JSON paths.
 *   (2) Only valid JSON objects are stored as fields/body; anything else is
 *       kept as {"_raw": "..."} so output is always valid JSON.
 *   (3) One connection, serialised by db->mu (held during read callbacks).
 *   (4) db->db is NULL only while the file does not exist: it is opened at
 *       open when the file is there, else by the first write (under
 *       db->mu), and never closed before pane_logdb_close.
 */
#include "store/logs.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/regex.h"

#define MESSAGE_MAX PANE_LOG_MESSAGE_MAX
#define TEXT_MAX 1024

struct pane_logdb {
	sqlite3 *db; /* NULL until the file exists (invariant 4) */
	char *path;
	pthread_mutex_t mu;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS logs(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, severity INTEGER NOT NULL,"
    " provider TEXT, service TEXT, environment TEXT, instance TEXT, labels TEXT NOT NULL,"
    " message TEXT NOT NULL, fields TEXT);"
    "CREATE INDEX IF NOT EXISTS logs_ts ON logs(ts);"
    "CREATE INDEX IF NOT EXISTS logs_service ON logs(service, ts);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5(message, content='logs', content_rowid='id',"
    " tokenize='trigram');"
    "CREATE TRIGGER IF NOT EXISTS logs_ai AFTER INSERT ON logs BEGIN"
    " INSERT INTO logs_fts(rowid, message) VALUES (new.id, new.message); END;"
    "CREATE TRIGGER IF NOT EXISTS logs_ad AFTER DELETE ON logs BEGIN"
    " INSERT INTO logs_fts(logs_fts, rowid, message) VALUES ('delete', old.id, old.message); END;"
    "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL,"
    " labels TEXT NOT NULL, title TEXT NOT NULL, url TEXT, body TEXT, dedup_key TEXT);"
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts);"
    "CREATE INDEX IF NOT EXISTS events_kind ON events(kind, ts);"
    "CREATE UNIQUE INDEX IF NOT EXISTS events_dedup ON events(kind, dedup_key, ts) WHERE dedup_key IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS metadata(name TEXT PRIMARY KEY, type TEXT NOT NULL, help TEXT NOT NULL,"
    " unit TEXT NOT NULL) WITHOUT ROWID;";

static int fail(struct pane_logdb *db, struct pane_err *err, const char *what)
{
	return pane_err_set(err, PANE_EIO, "logs: %s: %s", what, sqlite3_errmsg(db->db));
}

/* Opens (creating) path with the schema into *out; NULL and an error on
 * failure. path ":memory:" only checks that the schema can be set up. */
static int logdb_connect(const char *path, sqlite3 **out, struct pane_err *err)
{
	sqlite3 *c = NULL;
	char *msg = NULL;
	*out = NULL;
	if (sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		pane_err_set(err, PANE_EIO, "cannot open %s: %s", path, c ? sqlite3_errmsg(c) : "?");
		sqlite3_close(c);
		return PANE_EIO;
	}
	sqlite3_busy_timeout(c, 5000);
	if (sqlite3_exec(c, schema, NULL, NULL, &msg) != SQLITE_OK) {
		pane_err_set(err, PANE_EIO, "cannot set up %s: %s", path, msg ? msg : "?");
		pane_err_detail(err, "pane needs SQLite with FTS5 and the trigram tokenizer (3.34 or newer)");
		sqlite3_free(msg);
		sqlite3_close(c);
		return PANE_EIO;
	}
	*out = c;
	return 0;
}

/* Takes db->mu for a write, creating the file on the first one; on failure
 * the lock is not held. */
static int lock_for_write(struct pane_logdb *db, struct pane_err *err)
{
	pthread_mutex_lock(&db->mu);
	int rc = db->db ? 0 : logdb_connect(db->path, &db->db, err);
	if (rc < 0)
		pthread_mutex_unlock(&db->mu);
	return rc;
}

struct pane_logdb *pane_logdb_open(const char *path, struct pane_err *err)
{
	struct pane_logdb *db = pane_xcalloc(1, sizeof *db);
	pthread_mutex_init(&db->mu, NULL);
	db->path = pane_xstrdup(path);
	sqlite3 *probe = NULL;
	if (access(path, F_OK) == 0 ? logdb_connect(path, &db->db, err) < 0
	                            : logdb_connect(":memory:", &probe, err) < 0) {
		pane_logdb_close(db);
		return NULL;
	}
	sqlite3_close(probe);
	return db;
}

void pane_logdb_close(struct pane_logdb *db)
{
	if (!db)
		return;
	if (db->db) {
		sqlite3_exec(db->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		sqlite3_close(db->db);
	}
	pthread_mutex_destroy(&db->mu);
	free(db->path);
	free(db);
}

static void bind_text_or_null(sqlite3_stmt *q, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(q, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, i);
}

int pane_logdb_write_logs(struct pane_logdb *db, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].message_len > MESSAGE_MAX)
			return pane_err_set(err, PANE_ETOOBIG, "log message of %zu bytes is over the %u-byte limit",
			                    l[i].message_len, MESSAGE_MAX);
	static const char sql[] =
	    "INSERT INTO logs(ts, severity, provider, service, environment, instance, labels, message, fields) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, CASE WHEN ?9 IS NULL THEN NULL "
	    "WHEN json_valid(?9) AND json_type(?9) = 'object' THEN ?9 ELSE json_object('_raw', ?9) END)";
	if (!n)
		return 0;
	int rc = lock_for_write(db, err);
	if (rc < 0)
		return rc;
	struct pane_buf lj;
	pane_buf_init(&lj, PANE_BUF_NOLIMIT);
	sqlite3_stmt *q = NULL;
	if (sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db->db, sql, -1, &q, NULL) != SQLITE_OK) {
		rc = fail(db, err, "insert");
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		pane_buf_reset(&lj);
		pane_labels_json(l[i].labels, &lj);
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, l[i].ts_ms);
		sqlite3_bind_int(q, 2, (int)l[i].severity);
		const struct pane_labels *ls = l[i].labels;
		bind_text_or_null(q, 3, ls ? pane_labels_get(ls, PANE_LABEL_PROVIDER) : NULL);
		bind_text_or_null(q, 4, ls ? pane_labels_get(ls, PANE_LABEL_SERVICE) : NULL);
		bind_text_or_null(q, 5, ls ? pane_labels_get(ls, PANE_LABEL_ENVIRONMENT) : NULL);
		bind_text_or_null(q, 6, ls ? pane_labels_get(ls, PANE_LABEL_INSTANCE) : NULL);
		sqlite3_bind_text(q, 7, lj.data, (int)lj.len, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 8, l[i].message ? l[i].message : "", (int)l[i].message_len, SQLITE_STATIC);
		bind_text_or_null(q, 9, l[i].fields_json);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = fail(db, err, "insert");
	}
	if (!rc && sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = fail(db, err, "commit");
out:
	if (rc)
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(q);
	pthread_mutex_unlock(&db->mu);
	pane_buf_release(&lj);
	return rc;
}

int pane_logdb_write_events(struct pane_logdb *db, const struct pane_event *e, size_t n, struct pane_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (!e[i].kind || !*e[i].kind)
			return pane_err_set(err, PANE_EINVAL, "event without a kind");
	static const char sql[] =
	    "INSERT OR IGNORE INTO events(ts, kind, labels, title, url, body, dedup_key) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 IS NULL THEN NULL "
	    "WHEN json_valid(?6) AND json_type(?6) = 'object' THEN ?6 ELSE json_object('_raw', ?6) END, ?7)";
	if (!n)
		return 0;
	int rc = lock_for_write(db, err);
	if (rc < 0)
		return rc;
	struct pane_buf lj;
	pane_buf_init(&lj, PANE_BUF_NOLIMIT);
	sqlite3_stmt *q = NULL;
	if (sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db->db, sql, -1, &q, NULL) != SQLITE_OK) {
		rc = fail(db, err, "insert event");
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		pane_buf_reset(&lj);
		pane_labels_json(e[i].labels, &lj);
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, e[i].ts_ms);
		sqlite3_bind_text(q, 2, e[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, lj.data, (int)lj.len, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 4, e[i].title ? e[i].title : "", -1, SQLITE_STATIC);
		bind_text_or_null(q, 5, e[i].url);
		bind_text_or_null(q, 6, e[i].body_json);
		bind_text_or_null(q, 7, e[i].dedup_key);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = fail(db, err, "insert event");
	}
	if (!rc && sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = fail(db, err, "commit");
out:
	if (rc)
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(q);
	pthread_mutex_unlock(&db->mu);
	pane_buf_release(&lj);
	return rc;
}

/* ---------- metric metadata ---------- */

int pane_logdb_write_metadata(struct pane_logdb *db, const struct pane_metadata *m, size_t n, size_t *skipped,
                              struct pane_err *err)
{
	static const char sql[] =
	    "INSERT INTO metadata(name, type, help, unit) VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT(name) DO UPDATE SET type = excluded.type, help = excluded.help, unit = excluded.unit "
	    "WHERE type != excluded.type OR help != excluded.help OR unit != excluded.unit";
	sqlite3_stmt *q = NULL;
	size_t bad = 0;
	if (skipped)
		*skipped = 0;
	if (!n)
		return 0;
	int rc = lock_for_write(db, err);
	if (rc < 0)
		return rc;
	if (sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db->db, sql, -1, &q, NULL) != SQLITE_OK) {
		rc = fail(db, err, "insert metadata");
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		const char *help = m[i].help ? m[i].help : "", *unit = m[i].unit ? m[i].unit : "";
		size_t hl = strlen(help), ul = strlen(unit);
		/* producers bound these (record.h); what still breaks a rule is skipped, not stored.
		 * Bytes that are not UTF-8 are replaced when answered (pane_buf_add_json_str). */
		if (!m[i].name || !pane_metric_name_valid(m[i].name, strlen(m[i].name)) ||
		    hl > PANE_METADATA_HELP_MAX || ul > PANE_METADATA_UNIT_MAX) {
			bad++;
			continue;
		}
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, m[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, pane_metric_type_name(m[i].type), -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, help, (int)hl, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, unit, (int)ul, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = fail(db, err, "insert metadata");
	}
	if (!rc && sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = fail(db, err, "commit");
out:
	if (rc)
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(q);
	pthread_mutex_unlock(&db->mu);
	if (skipped)
		*skipped = bad;
	return rc;
}

int pane_logdb_metadata(struct pane_logdb *db, const char *metric, size_t limit, struct pane_metadata **out, size_t *n,
                        struct pane_err *err)
{
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	const char *sql = metric ? "SELECT name, type, help, unit FROM metadata WHERE name = ?1 LIMIT ?2"
	                         : "SELECT name, type, help, unit FROM metadata ORDER BY name LIMIT ?2";
	struct pane_buf strs;
	pane_buf_init(&strs, PANE_BUF_NOLIMIT);
	size_t *offs = NULL; /* per row: 3 string offsets into strs */
	enum pane_metric_type *types = NULL;
	size_t rows = 0, cap = 0;
	sqlite3_stmt *q = NULL;
	int rc = 0;
	pthread_mutex_lock(&db->mu);
	if (!db->db) /* no file yet: no metadata */
		goto out;
	if (sqlite3_prepare_v2(db->db, sql, -1, &q, NULL) != SQLITE_OK) {
		rc = fail(db, err, "read metadata");
		goto out;
	}
	if (metric)
		sqlite3_bind_text(q, 1, metric, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
	int st;
	while ((st = sqlite3_step(q)) == SQLITE_ROW) {
		if (rows == cap) {
			cap = cap ? cap * 2 : 64;
			offs = pane_xrealloc(offs, pane_mul_size(cap, 3 * sizeof *offs));
			types = pane_xrealloc(types, pane_mul_size(cap, sizeof *types));
		}
		const char *tname = (const char *)sqlite3_column_text(q, 1);
		if (!tname || pane_metric_type_parse(tname, strlen(tname), &types[rows]) < 0)
			types[rows] = PANE_METRIC_UNKNOWN;
		int cols[3] = {0, 2, 3};
		for (int c = 0; c < 3; c++) {
			offs[rows * 3 + (size_t)c] = strs.len;
			const unsigned char *t = sqlite3_column_text(q, cols[c]);
			pane_buf_add(&strs, t ? (const char *)t : "", (size_t)sqlite3_column_bytes(q, cols[c]));
			pane_buf_addc(&strs, '\0');
		}
		rows++;
	}
	if (st != SQLITE_DONE) {
		rc = fail(db, err, "read metadata");
		goto out;
	}
	if (rows) {
		size_t head = pane_mul_size(rows, sizeof **out);
		struct pane_metadata *v = pane_xmalloc(head + strs.len);
		char *base = (char *)v + head;
		memcpy(base, strs.data, strs.len);
		for (size_t i = 0; i < rows; i++)
			v[i] = (struct pane_metadata){.name = base + offs[i * 3],
			                              .type = types[i],
			                              .help = base + offs[i * 3 + 1],
			                              .unit = base + offs[i * 3 + 2]};
		*out = v;
		*n = rows;
	}
out:
	sqlite3_finalize(q);
	pthread_mutex_unlock(&db->mu);
	free(offs);
	free(types);
	pane_buf_release(&strs);
	return rc;
}

/* ---------- text search helpers ---------- */

/* Escapes LIKE wildcards with a backslash and wraps in %...%. */
static char *like_pattern(const char *t)
{
	size_t n = strlen(t);
	char *p = pane_xmalloc(2 * n + 3), *o = p;
	*o++ = '%';
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '%' || t[i] == '_' || t[i] == '\\')
			*o++ = '\\';
		*o++ = t[i];
	}
	*o++ = '%';
	*o = '\0';
	return p;
}

/* An FTS5 string literal: "..." with quotes doubled. */
static char *fts_phrase(const char *t)
{
	size_t n = strlen(t);
	char *p = pane_xmalloc(2 * n + 3), *o = p;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '"')
			*o++ = '"';
		*o++ = t[i];
	}
	*o++ = '"';
	*o = '\0';
	return p;
}

/* ---------- the reader seam (pipeline/logreader.h) ---------- */

/* Bind values collected while building SQL. */
struct args {
	const char *s[80];
	int64_t i[80];
	bool is_int[80];
	int n;
};

static int add_s(struct args *a, const char *s)
{
	a->s[a->n] = s;
	a->is_int[a->n] = false;
	return ++a->n;
}

static int add_i(struct args *a, int64_t v)
{
	a->i[a->n] = v;
	a->is_int[a->n] = true;
	return ++a->n;
}

static void bind_args(sqlite3_stmt *q, const struct args *a)
{
	for (int i = 0; i < a->n; i++) {
		if (a->is_int[i])
			sqlite3_bind_int64(q, i + 1, a->i[i]);
		else
			sqlite3_bind_text(q, i + 1, a->s[i], -1, SQLITE_STATIC);
	}
}

/* Matchers compiled once per call: equality with a value is pushed into
 * SQL (an indexed column for the standard labels, else a JSON path); the
 * rest (!=, =~, !~, = "") is checked in C on the parsed label set. */
struct matchset {
	const struct pane_matcher *m;
	size_t n;
	pcre2_code *re[PANE_LOGREADER_MAX_MATCHERS];
	bool in_sql[PANE_LOGREADER_MAX_MATCHERS];
	char paths[PANE_LOGREADER_MAX_MATCHERS][300];
	bool all_in_sql;
};

static void matchset_release(struct matchset *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		pcre2_code_free(ms->re[i]);
}

static int matchset_init(struct matchset *ms, const struct pane_matcher *m, size_t n, bool has_columns,
                         struct pane_buf *sql, struct args *a, struct pane_err *err)
{
	memset(ms, 0, sizeof *ms);
	if (n > PANE_LOGREADER_MAX_MATCHERS)
		return pane_err_set(err, PANE_EINVAL, "too many label filters (%zu, at most %d)", n,
		                    PANE_LOGREADER_MAX_MATCHERS);
	ms->m = m;
	ms->all_in_sql = true;
	for (size_t i = 0; i < n; i++) {
		ms->n = i + 1;
		const char *name = m[i].name, *value = m[i].value ? m[i].value : "";
		if (!name || !pane_label_name_valid(name, strlen(name)) || strlen(name) > 256)
			return pane_err_set(err, PANE_EINVAL, "bad label name in a filter");
		if (m[i].op == PANE_MATCH_RE || m[i].op == PANE_MATCH_NRE) {
			ms->re[i] = pane_regex_compile(value, PANE_REGEX_DOTALL, err);
			if (!ms->re[i])
				return PANE_EINVAL;
		}
		if (m[i].op != PANE_MATCH_EQ || !*value) {
			ms->all_in_sql = false;
			continue;
		}
		ms->in_sql[i] = true;
		static const char *const cols[] = {PANE_LABEL_PROVIDER, PANE_LABEL_SERVICE, PANE_LABEL_ENVIRONMENT,
		                                   PANE_LABEL_INSTANCE};
		bool col = false;
		for (size_t c = 0; has_columns && c < 4; c++)
			if (!strcmp(name, cols[c])) {
				pane_buf_addf(sql, " AND %s = ?%d", cols[c], add_s(a, value));
				col = true;
			}
		if (!col) {
			snprintf(ms->paths[i], sizeof ms->paths[i], "$.\"%s\"", name);
			int pi = add_s(a, ms->paths[i]);
			pane_buf_addf(sql, " AND json_extract(labels, ?%d) = ?%d", pi, add_s(a, value));
		}
	}
	return 0;
}

/* 1 when the set satisfies the matchers not already in SQL, 0 when not, <0 on a regex limit. */
static int matchset_match(const struct matchset *ms, const struct pane_labels *ls)
{
	for (size_t i = 0; i < ms->n; i++) {
		if (ms->in_sql[i])
			continue;
		const char *v = pane_labels_get(ls, ms->m[i].name);
		if (!v)
			v = "";
		const char *want = ms->m[i].value ? ms->m[i].value : "";
		int r;
		switch (ms->m[i].op) {
		case PANE_MATCH_EQ: r = !strcmp(v, want); break;
		case PANE_MATCH_NE: r = strcmp(v, want) != 0; break;
		default:
			r = pane_regex_match(ms->re[i], v, strlen(v), NULL);
			if (r < 0)
				return r;
			if (ms->m[i].op == PANE_MATCH_NRE)
				r = !r;
		}
		if (!r)
			return 0;
	}
	return 1;
}

/* A stream seen during one call: its label set parsed from the stored JSON
 * once, and whether it matches. */
struct stream {
	struct pane_labels labels;
	int match;
};

static void stream_free(void *p)
{
	struct stream *s = p;
	pane_labels_release(&s->labels);
	free(s);
}

static void parse_labels(const char *json, size_t len, struct pane_labels *out)
{
	pane_labels_init(out);
	json_error_t je;
	json_t *o = json_loadb(json, len, 0, &je);
	const char *k;
	json_t *v;
	if (json_is_object(o))
		json_object_foreach(o, k, v) if (json_is_string(v))
		    pane_labels_setn(out, k, strlen(k), json_string_value(v), json_string_length(v));
	json_decref(o);
}

static struct stream *stream_of(struct pane_map *cache, const struct matchset *ms, const char *json, size_t len)
{
	struct stream *s = pane_map_get(cache, json, len);
	if (s)
		return s;
	s = pane_xcalloc(1, sizeof *s);
	parse_labels(json, len, &s->labels);
	s->match = matchset_match(ms, &s->labels);
	pane_map_put(cache, json, len, s);
	return s;
}

static int check_range(int64_t mint, int64_t maxt, struct pane_err *err)
{
	if (maxt < mint)
		return pane_err_set(err, PANE_EINVAL, "the end of the time range is before its start");
	return 0;
}

static int lr_select(void *ctx, const struct pane_log_select *s, pane_log_line_fn fn, void *arg, struct pane_err *err)
{
	struct pane_logdb *db = ctx;
	if (check_range(s->mint, s->maxt, err) < 0)
		return PANE_EINVAL;
	if (s->contains && strlen(s->contains) > PANE_LOGREADER_CONTAINS_MAX)
		return pane_err_set(err, PANE_EINVAL, "search text is over %d bytes", PANE_LOGREADER_CONTAINS_MAX);
	struct pane_buf sql;
	pane_buf_init(&sql, PANE_BUF_NOLIMIT);
	struct args a = {.n = 0};
	struct matchset ms;
	struct pane_map cache;
	pane_map_init(&cache, stream_free);
	char *pat = NULL;
	sqlite3_stmt *st = NULL;
	pane_buf_adds(&sql, "SELECT id, ts, severity, labels, message, fields FROM logs WHERE 1");
	int rc = matchset_init(&ms, s->matchers, s->n_matchers, true, &sql, &a, err);
	if (rc < 0)
		goto out;
	pane_buf_addf(&sql, " AND ts >= ?%d", add_i(&a, s->mint));
	pane_buf_addf(&sql, " AND ts <= ?%d", add_i(&a, s->maxt));
	if (s->min_severity > PANE_SEV_UNKNOWN)
		pane_buf_addf(&sql, " AND severity >= ?%d", add_i(&a, s->min_severity));
	if (s->after) {
		int ti = add_i(&a, s->after_ts), ii = add_i(&a, s->after_id);
		const char *o = s->forward ? ">" : "<";
		pane_buf_addf(&sql, " AND (ts %s ?%d OR (ts = ?%d AND id %s ?%d))", o, ti, ti, o, ii);
	}
	if (s->contains && *s->contains) {
		if (strlen(s->contains) >= 3) {
			pat = fts_phrase(s->contains);
			pane_buf_addf(&sql, " AND id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?%d)",
			              add_s(&a, pat));
		} else {
			pat = like_pattern(s->contains);
			pane_buf_addf(&sql, " AND message LIKE ?%d ESCAPE '\\'", add_s(&a, pat));
		}
	}
	pane_buf_adds(&sql, s->forward ? " ORDER BY ts, id" : " ORDER BY ts DESC, id DESC");
	if (s->limit && ms.all_in_sql)
		pane_buf_addf(&sql, " LIMIT ?%d", add_i(&a, s->limit > INT64_MAX ? INT64_MAX : (int64_t)s->limit));
	pthread_mutex_lock(&db->mu);
	if (!db->db) /* no file yet: no lines */
		goto unlock;
	if (sqlite3_prepare_v2(db->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		rc = fail(db, err, "search");
		goto unlock;
	}
	bind_args(st, &a);
	size_t n = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *lj = (const char *)sqlite3_column_text(st, 3);
		struct stream *sm =
		    stream_of(&cache, &ms, lj ? lj : "{}", lj ? (size_t)sqlite3_column_bytes(st, 3) : 2);
		if (sm->match < 0) {
			rc = pane_err_set(err, PANE_EINVAL, "a label regex hit its match limit");
			break;
		}
		if (!sm->match)
			continue;
		const char *msg = (const char *)sqlite3_column_text(st, 4);
		struct pane_log_line l = {
		    .ts_ms = sqlite3_column_int64(st, 1),
		    .id = sqlite3_column_int64(st, 0),
		    .severity = (enum pane_log_severity)sqlite3_column_int(st, 2),
		    .labels = &sm->labels,
		    .labels_json = lj ? lj : "{}",
		    .message = msg ? msg : "",
		    .message_len = msg ? (size_t)sqlite3_column_bytes(st, 4) : 0,
		    .fields_json = (const char *)sqlite3_column_text(st, 5),
		};
		int r = fn(arg, &l);
		if (r < 0) {
			rc = r;
			break;
		}
		if (r > 0 || (s->limit && ++n == s->limit))
			break;
	}
	if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = fail(db, err, "search");
unlock:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
out:
	matchset_release(&ms);
	pane_map_release(&cache);
	free(pat);
	pane_buf_release(&sql);
	return rc;
}

static int lr_streams(void *ctx, const struct pane_matcher *m, size_t n_matchers, int64_t mint, int64_t maxt,
                      pane_log_stream_fn fn, void *arg, struct pane_err *err)
{
	struct pane_logdb *db = ctx;
	if (check_range(mint, maxt, err) < 0)
		return PANE_EINVAL;
	struct pane_buf sql;
	pane_buf_init(&sql, PANE_BUF_NOLIMIT);
	struct args a = {.n = 0};
	struct matchset ms;
	sqlite3_stmt *st = NULL;
	pane_buf_adds(&sql, "SELECT labels, count(*), sum(length(CAST(message AS BLOB))) FROM logs WHERE 1");
	int rc = matchset_init(&ms, m, n_matchers, true, &sql, &a, err);
	if (rc < 0)
		goto out;
	pane_buf_addf(&sql, " AND ts >= ?%d", add_i(&a, mint));
	pane_buf_addf(&sql, " AND ts <= ?%d GROUP BY labels", add_i(&a, maxt));
	pthread_mutex_lock(&db->mu);
	if (!db->db)
		goto unlock;
	if (sqlite3_prepare_v2(db->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		rc = fail(db, err, "streams");
		goto unlock;
	}
	bind_args(st, &a);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *lj = (const char *)sqlite3_column_text(st, 0);
		struct pane_labels ls;
		parse_labels(lj ? lj : "{}", lj ? (size_t)sqlite3_column_bytes(st, 0) : 2, &ls);
		int ok = matchset_match(&ms, &ls);
		int r = 0;
		if (ok < 0)
			r = pane_err_set(err, PANE_EINVAL, "a label regex hit its match limit");
		else if (ok) {
			struct pane_log_stream s = {.labels = &ls,
			                            .entries = (uint64_t)sqlite3_column_int64(st, 1),
			                            .bytes = (uint64_t)sqlite3_column_int64(st, 2)};
			r = fn(arg, &s);
		}
		pane_labels_release(&ls);
		if (r < 0)
			rc = r;
		if (r)
			break;
	}
	if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = fail(db, err, "streams");
unlock:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
out:
	matchset_release(&ms);
	pane_buf_release(&sql);
	return rc;
}

static int lr_events(void *ctx, const struct pane_event_select *s, pane_event_row_fn fn, void *arg,
                     struct pane_err *err)
{
	struct pane_logdb *db = ctx;
	if (check_range(s->mint, s->maxt, err) < 0)
		return PANE_EINVAL;
	struct pane_buf sql;
	pane_buf_init(&sql, PANE_BUF_NOLIMIT);
	struct args a = {.n = 0};
	struct matchset ms;
	struct pane_map cache;
	pane_map_init(&cache, stream_free);
	sqlite3_stmt *st = NULL;
	pane_buf_adds(&sql, "SELECT ts, kind, labels, title, url, body FROM events WHERE 1");
	int rc = matchset_init(&ms, s->matchers, s->n_matchers, false, &sql, &a, err);
	if (rc < 0)
		goto out;
	if (s->kind && *s->kind)
		pane_buf_addf(&sql, " AND kind = ?%d", add_s(&a, s->kind));
	pane_buf_addf(&sql, " AND ts >= ?%d", add_i(&a, s->mint));
	pane_buf_addf(&sql, " AND ts <= ?%d ORDER BY ts DESC, id DESC", add_i(&a, s->maxt));
	if (s->limit && ms.all_in_sql)
		pane_buf_addf(&sql, " LIMIT ?%d", add_i(&a, s->limit > INT64_MAX ? INT64_MAX : (int64_t)s->limit));
	pthread_mutex_lock(&db->mu);
	if (!db->db)
		goto unlock;
	if (sqlite3_prepare_v2(db->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		rc = fail(db, err, "events");
		goto unlock;
	}
	bind_args(st, &a);
	size_t n = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *lj = (const char *)sqlite3_column_text(st, 2);
		struct stream *sm =
		    stream_of(&cache, &ms, lj ? lj : "{}", lj ? (size_t)sqlite3_column_bytes(st, 2) : 2);
		if (sm->match < 0) {
			rc = pane_err_set(err, PANE_EINVAL, "a label regex hit its match limit");
			break;
		}
		if (!sm->match)
			continue;
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		const char *title = (const char *)sqlite3_column_text(st, 3);
		struct pane_event_row e = {
		    .ts_ms = sqlite3_column_int64(st, 0),
		    .kind = kind ? kind : "",
		    .labels_json = lj ? lj : "{}",
		    .title = title ? title : "",
		    .url = (const char *)sqlite3_column_text(st, 4),
		    .body_json = (const char *)sqlite3_column_text(st, 5),
		};
		int r = fn(arg, &e);
		if (r < 0) {
			rc = r;
			break;
		}
		if (r > 0 || (s->limit && ++n == s->limit))
			break;
	}
	if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = fail(db, err, "events");
unlock:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
out:
	matchset_release(&ms);
	pane_map_release(&cache);
	pane_buf_release(&sql);
	return rc;
}

struct pane_logreader pane_logdb_reader(struct pane_logdb *db)
{
	static const struct pane_logreader_ops ops = {.select = lr_select, .streams = lr_streams, .events = lr_events};
	return (struct pane_logreader){.ops = &ops, .ctx = db};
}

static int64_t used_bytes(struct pane_logdb *db)
{
	sqlite3_stmt *q = NULL;
	int64_t v = 0;
	if (sqlite3_prepare_v2(db->db,
	                       "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, "
	                       "pragma_freelist_count, pragma_page_size",
	                       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* Deletes in bounded batches so no single statement holds the lock long. */
static int delete_batches(struct pane_logdb *db, const char *sql, int64_t arg, struct pane_err *err)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db->db, sql, -1, &q, NULL) != SQLITE_OK)
		return fail(db, err, "retention");
	int rc = 0;
	for (int round = 0; round < 1000; round++) {
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, arg);
		if (sqlite3_step(q) != SQLITE_DONE) {
			rc = fail(db, err, "retention");
			break;
		}
		if (sqlite3_changes(db->db) == 0)
			break;
	}
	sqlite3_finalize(q);
	return rc;
}

int pane_logdb_retain(struct pane_logdb *db, int64_t cutoff_ms, int64_t max_bytes, struct pane_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&db->mu);
	if (!db->db) { /* nothing stored yet */
		pthread_mutex_unlock(&db->mu);
		return 0;
	}
	if (cutoff_ms > INT64_MIN) {
		rc = delete_batches(db, "DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE ts < ?1 LIMIT 5000)",
		                    cutoff_ms, err);
		if (!rc)
			rc = delete_batches(
			    db, "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < ?1 LIMIT 5000)",
			    cutoff_ms, err);
	}
	for (int round = 0; !rc && max_bytes > 0 && round < 100 && used_bytes(db) > max_bytes; round++)
		rc = delete_batches(
		    db, "DELETE FROM logs WHERE id IN (SELECT id FROM logs ORDER BY ts LIMIT 5000) AND ?1 = ?1", 0,
		    err);
	pthread_mutex_unlock(&db->mu);
	return rc;
}
