/*
 * catalog.c - series: the in-memory table, the catalog in metrics.db, and
 * the SQLite helpers every file uses.
 *
 * Idea: a series is its canonical key ("name\0value\0" pairs sorted by
 * name, __name__ included) and a dense id. Ids index st->ser directly; an
 * open-addressing table of ids (4 bytes a slot) keyed by the key's hash
 * finds a series by key without a copy of the key or an allocation per
 * entry. The catalog table "series(id, key, pseq)" makes ids survive a
 * restart; a row is added in the transaction of the write that created
 * the series and kept (re-added) if that transaction fails to commit.
 * A row's key is stored front-coded against the key of the series made
 * just before it (the previous id), which usually shares its name and
 * most labels: CAT_FRONT, the shared length as a varint, then the rest
 * (a histogram's bucket: 8 bytes, not 60). Every CAT_RESTART-th id is
 * stored whole, so a row lost to damage costs at most the rows coded
 * after it up to the next one. A key that starts with a byte up to
 * CAT_LIT gets CAT_LIT in front; any other key is stored as it is (as
 * every pane before 2026-12-04 stored all of them).
 *
 * Invariants:
 *   (1) Series are never removed from a running store; ids are dense from
 *       1 and never reused.
 *   (2) A series in memory has a catalog row once the transaction that
 *       made it commits; until then its id is in cat_new (cat_redo after a
 *       failed COMMIT), so a clean close cannot lose it.
 *   (3) One transaction at a time on st->db (in_txn); ps_txn_commit()
 *       leaves no transaction open whatever happens.
 *
 * Thread context: caller holds st->mu.
 */
#include "store/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

int ps_sql_fail(struct pane_store *st, struct pane_err *err, const char *what)
{
	return pane_err_set(err, PANE_EIO, "store: %s: %s", what, sqlite3_errmsg(st->db));
}

int ps_sql_exec(struct pane_store *st, const char *sql, struct pane_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		pane_err_set(err, PANE_EIO, "store: %s: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return PANE_EIO;
	}
	return 0;
}

static int catalog_row(struct pane_store *st, const struct series *s, struct pane_err *err);

#define CAT_FRONT 0x01 /* front-coded against the key of the previous id */
#define CAT_LIT 0x02   /* the key follows as it is */
#define CAT_RESTART 16 /* ids stored whole: every 16th */

int ps_txn_begin(struct pane_store *st, struct pane_err *err)
{
	if (st->in_txn)
		return 0;
	int rc = ps_sql_exec(st, "BEGIN", err);
	if (rc)
		return rc;
	st->in_txn = true;
	if (st->cat_redo) {
		/* the rows of a transaction that failed to commit (a full disk, a
		 * lock held too long): their series live in memory and in the WAL,
		 * and a clean stop (segments, empty WAL) would lose them otherwise */
		for (size_t i = 0; i < st->ncat_new; i++) {
			uint32_t id = st->cat_new[i];
			if (id < st->nser && st->ser[id] && (rc = catalog_row(st, st->ser[id], err)) < 0)
				return rc;
		}
		st->cat_redo = false;
	}
	return 0;
}

int ps_txn_commit(struct pane_store *st, struct pane_err *err)
{
	if (!st->in_txn)
		return 0;
	st->in_txn = false;
	int rc = ps_sql_exec(st, "COMMIT", err);
	if (!rc) {
		st->ncat_new = 0;
		return 0;
	}
	/* SQLITE_BUSY leaves the transaction open, SQLITE_FULL rolls it back:
	 * either way it is gone after this, and the next BEGIN works */
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	if (st->ncat_new)
		st->cat_redo = true;
	return rc;
}

void ps_series_free(struct series *s)
{
	free(s->key);
	free(s->fz);
	free(s);
}

struct series *ps_series_make(uint32_t id, const char *key, size_t keylen)
{
	struct series *s = pane_xcalloc(1, sizeof *s);
	s->id = id;
	s->key = pane_xmalloc(keylen + 1);
	memcpy(s->key, key, keylen);
	s->key[keylen] = '\0';
	s->keylen = (uint32_t)keylen;
	size_t n = 0;
	for (size_t i = 0; i < keylen; i++)
		n += key[i] == '\0';
	s->nl = (uint16_t)(n / 2);
	s->mint = INT64_MAX;
	s->maxt = INT64_MIN;
	return s;
}

/* The series' labels as views into its key (lv: s->nl entries). */
static void series_labels(const struct series *s, struct pane_label *lv)
{
	const char *p = s->key;
	for (size_t i = 0; i < s->nl; i++) {
		lv[i].name = p;
		p += strlen(p) + 1;
		lv[i].value = p;
		p += strlen(p) + 1;
	}
}

static const char *series_name(const struct series *s)
{
	const char *p = s->key;
	for (size_t i = 0; i < s->nl; i++) {
		const char *v = p + strlen(p) + 1;
		if (strcmp(p, "__name__") == 0)
			return v;
		p = v + strlen(v) + 1;
	}
	return "";
}

/* Series by key.
 * An open-addressing table of series ids (4 bytes a slot, under 3/4 full)
 * keyed by the hash of the series key, compared against the series' own
 * key: no copy of the key, no per-entry allocation. Series are never
 * removed from a running store. */

static uint64_t key_hash(const struct pane_store *st, const void *key, size_t len)
{
	return pane_hash_words(key, len, st->idseed); /* per sample written: FNV's byte at a time was 8% of an import */
}

struct series *ps_by_key_get(const struct pane_store *st, const void *key, size_t len)
{
	if (!st->idcap)
		return NULL;
	size_t mask = st->idcap - 1;
	for (size_t i = (size_t)key_hash(st, key, len) & mask;; i = (i + 1) & mask) {
		uint32_t id = st->idtab[i];
		if (!id)
			return NULL;
		struct series *s = st->ser[id];
		if (s->keylen == len && memcmp(s->key, key, len) == 0)
			return s;
	}
}

static void by_key_insert(uint32_t *tab, size_t cap, uint64_t h, uint32_t id)
{
	size_t mask = cap - 1, i = (size_t)h & mask;
	while (tab[i])
		i = (i + 1) & mask;
	tab[i] = id;
}

/* s must be in st->ser already. */
static void by_key_put(struct pane_store *st, const struct series *s)
{
	if ((st->idlen + 1) * 4 > st->idcap * 3) {
		size_t nc = st->idcap ? st->idcap * 2 : 1024;
		uint32_t *nt = pane_xcalloc(nc, sizeof *nt);
		for (size_t i = 0; i < st->idcap; i++) {
			uint32_t id = st->idtab[i];
			if (id)
				by_key_insert(nt, nc, key_hash(st, st->ser[id]->key, st->ser[id]->keylen), id);
		}
		free(st->idtab);
		st->idtab = nt;
		st->idcap = nc;
	}
	by_key_insert(st->idtab, st->idcap, key_hash(st, s->key, s->keylen), s->id);
	st->idlen++;
}

void ps_series_register(struct pane_store *st, struct series *s)
{
	if (s->id >= st->capser) {
		size_t nc = st->capser ? st->capser : 256;
		while (nc <= s->id)
			nc *= 2;
		st->ser = pane_xrealloc(st->ser, pane_mul_size(nc, sizeof *st->ser));
		memset(st->ser + st->capser, 0, (nc - st->capser) * sizeof *st->ser);
		st->capser = nc;
	}
	st->ser[s->id] = s;
	if (s->id >= st->nser)
		st->nser = s->id + 1;
	by_key_put(st, s);
	struct pane_label small[16];
	struct pane_label *lv = s->nl <= 16 ? small : pane_xcalloc(s->nl, sizeof *lv);
	series_labels(s, lv);
	struct pane_labels ls = {lv, s->nl, s->nl, false};
	pane_index_add(st->ix, s->id, &ls);
	if (lv != small)
		free(lv);
	const char *name = series_name(s);
	uintptr_t cnt = (uintptr_t)pane_map_gets(&st->per_metric, name);
	pane_map_puts(&st->per_metric, name, (void *)(cnt + 1));
	st->c.series++;
}

/* Canonical key of a sample's series: sorted (name, value) pairs with __name__. */
int ps_sample_key(const struct pane_sample *smp, struct pane_buf *k)
{
	pane_buf_reset(k);
	bool named = false;
	size_t n = smp->labels ? smp->labels->n : 0;
	int rc = 0;
	for (size_t i = 0; i <= n && !rc; i++) {
		const struct pane_label *l = i < n ? &smp->labels->v[i] : NULL;
		if (!named && (!l || strcmp("__name__", l->name) < 0)) {
			rc |= pane_buf_add(k, "__name__", 9);
			rc |= pane_buf_add(k, smp->name, strlen(smp->name) + 1);
			named = true;
		}
		if (l && l->value && *l->value) {
			if (strcmp(l->name, "__name__") == 0)
				continue;
			rc |= pane_buf_add(k, l->name, strlen(l->name) + 1);
			rc |= pane_buf_add(k, l->value, strlen(l->value) + 1);
		}
	}
	return rc;
}

int ps_load_catalog(struct pane_store *st, struct pane_err *err)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT id, key, pseq FROM series ORDER BY id", -1, &q, NULL) != SQLITE_OK)
		return ps_sql_fail(st, err, "read catalog");
	char *full = NULL; /* a front-coded key, whole */
	const struct series *prev = NULL;
	while (sqlite3_step(q) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(q, 0);
		const uint8_t *key = sqlite3_column_blob(q, 1);
		size_t kl = (size_t)sqlite3_column_bytes(q, 1);
		if (kl && key[0] == CAT_FRONT) {
			uint64_t shared = 0;
			size_t h = pane_uvarint_get(key + 1, kl - 1, &shared);
			if (!h || !prev || prev->id != id - 1 || shared > prev->keylen) {
				pane_log_limited(
				    &st->lim, PANE_LOG_ERROR, "store",
				    "catalog row of series %u is front-coded against a series that is not there; "
				    "its samples cannot be read",
				    id);
				continue;
			}
			size_t rest = kl - 1 - h;
			full = pane_xrealloc(full, (size_t)shared + rest + 1);
			memcpy(full, prev->key, (size_t)shared);
			memcpy(full + shared, key + 1 + h, rest);
			key = (const uint8_t *)full;
			kl = (size_t)shared + rest;
		} else if (kl && key[0] == CAT_LIT) {
			key++;
			kl--;
		}
		struct series *s = ps_series_make(id, key ? (const char *)key : "", kl);
		s->pseq = (uint64_t)sqlite3_column_int64(q, 2);
		if (s->pseq >= st->next_seq)
			st->next_seq = s->pseq + 1;
		ps_series_register(st, s);
		prev = s;
	}
	sqlite3_finalize(q);
	free(full);
	/* partitions and each series' time range */
	if (sqlite3_prepare_v2(st->db,
	                       "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 's\\_%' ESCAPE '\\'",
	                       -1, &q, NULL) != SQLITE_OK)
		return ps_sql_fail(st, err, "list partitions");
	int64_t *days = NULL;
	size_t nd = 0, capd = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		char *end;
		long long d = strtoll(name + 2, &end, 10);
		if (*end != '\0')
			continue;
		if (nd == capd) {
			capd = capd ? capd * 2 : 64;
			days = pane_xrealloc(days, pane_mul_size(capd, sizeof *days));
		}
		days[nd++] = d;
	}
	sqlite3_finalize(q);
	int rc = 0;
	for (size_t i = 0; i < nd && !rc; i++) {
		if (!ps_part_get(st, days[i], true, err)) {
			rc = err->code;
			break;
		}
		char sql[200];
		snprintf(sql, sizeof sql, "SELECT sid, min(mint), max(maxt) FROM \"s_%" PRId64 "\" GROUP BY sid",
		         days[i]);
		if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
			rc = ps_sql_fail(st, err, "read partition");
			break;
		}
		while (sqlite3_step(q) == SQLITE_ROW) {
			uint64_t sid = (uint64_t)sqlite3_column_int64(q, 0);
			if (sid >= st->nser || !st->ser[sid])
				continue;
			struct series *s = st->ser[sid];
			int64_t a = sqlite3_column_int64(q, 1), b = sqlite3_column_int64(q, 2);
			if (a < s->mint)
				s->mint = a;
			if (b > s->maxt)
				s->maxt = b;
		}
		sqlite3_finalize(q);
	}
	free(days);
	return rc;
}

static int catalog_row(struct pane_store *st, const struct series *s, struct pane_err *err)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO series(id, key, pseq) VALUES (?, ?, 0)", -1, &q, NULL) !=
	    SQLITE_OK)
		return ps_sql_fail(st, err, "prepare");
	/* front-coded against the previous id's key (see the top): its row is
	 * committed before this one or in the same transaction (cat_redo) */
	const struct series *prev =
	    s->id % CAT_RESTART && s->id > 1 && s->id - 1 < st->nser ? st->ser[s->id - 1] : NULL;
	size_t shared = 0;
	while (prev && shared < prev->keylen && shared < s->keylen && prev->key[shared] == s->key[shared])
		shared++;
	uint8_t hdr[1 + 10]; /* CAT_FRONT and the shared length, or CAT_LIT, or nothing */
	size_t hl = 0;
	if (shared >= 4) {
		hdr[0] = CAT_FRONT;
		hl = 1 + pane_uvarint_put(hdr + 1, shared);
	} else {
		shared = 0;
		if (s->keylen && (uint8_t)s->key[0] <= CAT_LIT)
			hdr[hl++] = CAT_LIT;
	}
	size_t rl = hl + s->keylen - shared;
	uint8_t *row = pane_xmalloc(rl);
	memcpy(row, hdr, hl);
	memcpy(row + hl, s->key + shared, s->keylen - shared);
	sqlite3_bind_int64(q, 1, s->id);
	sqlite3_bind_blob(q, 2, row, (int)rl, SQLITE_STATIC);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : ps_sql_fail(st, err, "add series");
	sqlite3_finalize(q);
	free(row);
	return rc;
}

int ps_catalog_insert(struct pane_store *st, const struct series *s, struct pane_err *err)
{
	int rc = ps_txn_begin(st, err);
	if (rc < 0)
		return rc;
	rc = catalog_row(st, s, err);
	if (rc < 0)
		return rc;
	if (st->ncat_new == st->capcat_new) {
		st->capcat_new = st->capcat_new ? 2 * st->capcat_new : 64;
		st->cat_new = pane_xrealloc(st->cat_new, pane_mul_size(st->capcat_new, sizeof *st->cat_new));
	}
	st->cat_new[st->ncat_new++] = s->id;
	return 0;
}
