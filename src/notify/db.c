/*
 * db.c - DATA_DIR/notify.db: the notification log, and the alerts and
 * silences that outlive a restart.
 *
 * Idea: SQLite, three tables. nflog (integration key, group key) -> the
 * fingerprints last notified firing and resolved, and when: what the
 * integrations' DedupStage reads (integ.c). alerts and silences keep
 * Alertmanager's JSON of each, so loading them goes through the same
 * checks as the API (alerts.c, silence.c).
 *
 * Invariants:
 *   (1) db_mu guards the handle once threads run: the writers and the
 *       log's reads take it themselves (open and load run before);
 *   (2) writes are best effort: a failed write never fails the alert or
 *       silence (they stay in memory); a failed notification-log write or
 *       statement (db_exec) is logged;
 *   (3) loading runs at attach, before any thread (no lock), and takes what is
 *       stored as if it were posted now.
 */
#include "notify/notify_internal.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"

static int db_exec(struct notify *nt, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(nt->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		pane_warn("notify", "sqlite: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return PANE_EDB;
	}
	return 0;
}

void pane_notify_nflog_get(struct notify *nt, const char *rkey, const char *gkey, struct nflog_entry *e)
{
	memset(e, 0, sizeof *e);
	pthread_mutex_lock(&nt->db_mu);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(nt->db, "SELECT firing, resolved, ts FROM nflog WHERE rkey = ?1 AND gkey = ?2", -1, &st,
	                       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, rkey, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, gkey, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			e->found = true;
			e->firing = pane_xstrdup((const char *)sqlite3_column_text(st, 0));
			e->resolved = pane_xstrdup((const char *)sqlite3_column_text(st, 1));
			e->ts = sqlite3_column_int64(st, 2);
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&nt->db_mu);
}

void pane_notify_nflog_put(struct notify *nt, const char *rkey, const char *gkey, const char *firing,
                           const char *resolved, int64_t ts)
{
	pthread_mutex_lock(&nt->db_mu);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(nt->db,
	                       "INSERT INTO nflog(rkey, gkey, firing, resolved, ts) VALUES(?1,?2,?3,?4,?5) "
	                       "ON CONFLICT(rkey, gkey) DO UPDATE SET firing=?3, resolved=?4, ts=?5",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, rkey, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, gkey, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, firing, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, resolved, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, ts);
		if (sqlite3_step(st) != SQLITE_DONE)
			pane_warn("notify", "notification log write failed: %s", sqlite3_errmsg(nt->db));
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&nt->db_mu);
}

void pane_notify_db_put_alerts(struct notify *nt, struct nalert **v, size_t n)
{
	pthread_mutex_lock(&nt->db_mu);
	db_exec(nt, "BEGIN");
	sqlite3_stmt *st = NULL;
	sqlite3_prepare_v2(nt->db, "INSERT OR REPLACE INTO alerts(fp, body, updated) VALUES(?1, ?2, ?3)", -1, &st,
	                   NULL);
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	for (size_t i = 0; st && i < n; i++) {
		pane_buf_reset(&b);
		struct pane_json j;
		pane_json_init(&j, &b);
		pane_notify_alert_json(&j, v[i]);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)v[i]->fp);
		sqlite3_bind_text(st, 2, b.data, (int)b.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, v[i]->updated_ms);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	pane_buf_release(&b);
	db_exec(nt, "COMMIT");
	pthread_mutex_unlock(&nt->db_mu);
}

void pane_notify_db_del_alert(struct notify *nt, uint64_t fp)
{
	pthread_mutex_lock(&nt->db_mu);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(nt->db, "DELETE FROM alerts WHERE fp = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)fp);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&nt->db_mu);
}

void pane_notify_db_put_silence(struct notify *nt, const struct nsilence *s)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	struct pane_json j;
	pane_json_init(&j, &b);
	pane_notify_silence_json(&j, s, 0);
	pthread_mutex_lock(&nt->db_mu);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(nt->db, "INSERT OR REPLACE INTO silences(id, body) VALUES(?1, ?2)", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, b.data, (int)b.len, SQLITE_STATIC);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&nt->db_mu);
	pane_buf_release(&b);
}

int pane_notify_db_open(struct notify *nt, const char *dir, struct pane_err *err)
{
	struct pane_buf p;
	pane_buf_init(&p, PANE_BUF_NOLIMIT);
	pane_buf_addf(&p, "%s/notify.db", dir);
	int rc =
	    sqlite3_open_v2(p.data, &nt->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		pane_err_set(err, PANE_EDB, "cannot open %s: %s", p.data,
		             nt->db ? sqlite3_errmsg(nt->db) : "no memory");
		pane_buf_release(&p);
		return PANE_EDB;
	}
	pane_buf_release(&p);
	sqlite3_busy_timeout(nt->db, 5000);
	if (db_exec(nt, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	                "CREATE TABLE IF NOT EXISTS nflog(rkey TEXT, gkey TEXT, firing TEXT, resolved TEXT, "
	                "ts INTEGER, PRIMARY KEY(rkey, gkey));"
	                "CREATE TABLE IF NOT EXISTS alerts(fp INTEGER PRIMARY KEY, body TEXT, updated INTEGER);"
	                "CREATE TABLE IF NOT EXISTS silences(id TEXT PRIMARY KEY, body TEXT);") < 0)
		return pane_err_set(err, PANE_EDB, "cannot create the notification tables in %s/notify.db", dir);
	return 0;
}

/* Loads persisted alerts and silences; at attach, before any thread runs
 * (so without nt->mu). */
void pane_notify_db_load(struct notify *nt)
{
	int64_t now = pane_wall_ms();
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(nt->db, "SELECT body FROM alerts", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_t *o = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
			struct pane_labels ls, an;
			int64_t s = 0, e = 0;
			struct pane_err err = {0};
			if (o && pane_notify_labels_from_json(json_object_get(o, "labels"), &ls, true, &err) == 0 &&
			    pane_notify_labels_from_json(json_object_get(o, "annotations"), &an, false, &err) == 0 &&
			    pane_notify_time_from_json(json_object_get(o, "startsAt"), &s, &err) == 0 &&
			    pane_notify_time_from_json(json_object_get(o, "endsAt"), &e, &err) == 0 && ls.n)
				pane_notify_store_alert(nt, &ls, &an, s, e,
				                        json_string_value(json_object_get(o, "generatorURL")), now);
			pane_labels_release(&ls);
			pane_labels_release(&an);
			json_decref(o);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(nt->db, "SELECT body FROM silences", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_t *o = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
			struct pane_err err = {0};
			struct nsilence *s = o ? pane_notify_silence_from_json(o, &err) : NULL;
			const char *id = json_string_value(json_object_get(o, "id"));
			if (s && id) {
				snprintf(s->id, sizeof s->id, "%s", id);
				pane_notify_time_from_json(json_object_get(o, "updatedAt"), &s->updated_ms, &err);
				nt->sil = pane_xrealloc(nt->sil, (nt->n_sil + 1) * sizeof *nt->sil);
				nt->sil[nt->n_sil++] = s;
			} else {
				pane_notify_silence_free(s);
			}
			json_decref(o);
		}
	}
	sqlite3_finalize(st);
}
