/*
 * store.c - the metrics store's orchestration (see store.h, internal.h).
 *
 * Idea: this file only sequences what the others do: open (catalog, head
 * file, WAL replay, the housekeeping thread), the write path (resolve
 * series, one WAL record, heads), flush, housekeeping (frozen heads to
 * segments, head-file compaction, checkpoints), retention, close, the
 * counters, the logs/events calls handed to logs.c and the pipeline sink.
 *
 * Invariants (beyond internal.h's):
 *   (1) A write takes the lock once, appends one WAL record (new series,
 *       then samples) before any head changes, and persists nothing unless
 *       a series rolls twice before housekeeping ran (head.c).
 *   (2) The housekeeping thread holds the lock for at most HK_BATCH heads,
 *       then yields; so does a checkpoint with long heads (persist_batch,
 *       from the thread or pane_store_maintain) before it rewrites the
 *       WAL. Close stops the thread before persisting everything.
 *
 * Threads: every entry point takes st->mu; the housekeeping thread is the
 * store's only thread, started by open and joined by close.
 */
#include "store/internal.h"
#include "store/workers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/stats.h"
#include "store/codec.h"
#include "store/hstream.h"
#include "store/index.h"
#include "store/logs.h"

void pane_store_opts_default(struct pane_store_opts *o)
{
	memset(o, 0, sizeof *o);
	o->retention_ms = 30 * DAY_MS;
	o->ooo_window_ms = 10 * 60 * 1000;
	o->fsync = PANE_FSYNC_INTERVAL;
	o->fsync_interval_ms = 1000;
	o->wal_max_bytes = 64ll << 20;
	o->zstd_level = 9;
	o->log_retention_ms = 14 * DAY_MS;
	o->max_future_ms = DAY_MS;
	o->tiers = PANE_TIER_1H;
}

/* ---------- opening ---------- */

static int make_dirs(const char *dir, struct pane_err *err)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
		return pane_err_set(err, PANE_EINVAL, "store: directory path is too long");
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return pane_err_set(err, PANE_EIO, "store: cannot create %s: %s", path, strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return pane_err_set(err, PANE_EIO, "store: cannot create %s: %s", path, strerror(errno));
	return 0;
}

static void register_stats(struct pane_store *st)
{
	if (!st->o.stats)
		return;
	st->st_samples = pane_stats_counter(st->o.stats, "pane_store_samples_total", NULL, "samples stored");
	st->st_old = pane_stats_counter(st->o.stats, "pane_store_rejected_samples_total", "reason=\"too_old\"",
	                                "samples rejected by the store");
	st->st_card = pane_stats_counter(st->o.stats, "pane_store_rejected_samples_total", "reason=\"cardinality\"",
	                                 "samples rejected by the store");
	st->st_future = pane_stats_counter(st->o.stats, "pane_store_rejected_samples_total", "reason=\"future\"",
	                                   "samples rejected by the store");
	st->st_series = pane_stats_gauge(st->o.stats, "pane_store_series", NULL, "series in the store");
}

static void *hk_main(void *arg);

/* The store's format, in metrics.db's PRAGMA user_version: 3 since a WAL
 * checkpoint keeps heads as their encoded streams (REC_HEAD, wal.c); 2
 * since catalog keys are front-coded (catalog.c) and chunks hold up to 8,192
 * samples (codec.h); 0 before. A pane reads every format up to its own,
 * marks an older store with its own (what it writes from now on), and
 * refuses a newer one, whose rows or WAL records it would misread. */
#define STORE_FORMAT 3

static int check_format(struct pane_store *st, struct pane_err *err)
{
	sqlite3_stmt *q = NULL;
	int v = -1;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (v < 0)
		return ps_sql_fail(st, err, "store format");
	if (v > STORE_FORMAT) {
		pane_err_set(err, PANE_EINVAL,
		             "store: %s was written by a newer pane (store format %d; this pane reads up to %d)",
		             st->dir, v, STORE_FORMAT);
		pane_err_detail(err, "run that pane (or a newer one) on it, or use another --data-dir");
		return PANE_EINVAL;
	}
	if (v == STORE_FORMAT)
		return 0;
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", STORE_FORMAT);
	return ps_sql_exec(st, sql, err);
}

struct pane_store *pane_store_open(const struct pane_store_opts *o, struct pane_err *err)
{
	if (!o->dir || !*o->dir) {
		pane_err_set(err, PANE_EINVAL, "store: no directory given");
		return NULL;
	}
	char path[4096];
	if (make_dirs(o->dir, err) < 0)
		return NULL;
	snprintf(path, sizeof path, "%s/chunks", o->dir);
	if (make_dirs(path, err) < 0)
		return NULL;
	struct pane_store *st = pane_xcalloc(1, sizeof *st);
	st->o = *o;
	if (st->o.fsync_interval_ms <= 0)
		st->o.fsync_interval_ms = 1000;
	if (st->o.wal_max_bytes <= 0)
		st->o.wal_max_bytes = 64ll << 20;
	if (st->o.zstd_level <= 0)
		st->o.zstd_level = 9;
	st->dir = pane_xstrdup(o->dir);
	st->o.dir = st->dir;
	st->wal_fd = -1;
	st->lock_fd = -1;
	st->head_fd = -1;
	st->hcompact_min = HCOMPACT_MIN;
	pane_buf_init(&st->hw, PANE_BUF_NOLIMIT);
	st->next_seq = 1;
	st->lim.burst = 5;
	st->lim.per_ms = 60000;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->hk_cond, NULL);
	st->idseed = pane_random_u64();
	pane_map_init(&st->per_metric, NULL);
	pane_buf_init(&st->rec, PANE_BUF_NOLIMIT);
	st->ix = pane_index_new();
	st->samples = pane_bufpool_new(SAMPLES_BLOCK, SAMPLES_KEEP);
	register_stats(st);

	snprintf(path, sizeof path, "%s/lock", st->dir);
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		pane_err_set(err, PANE_EIO, "store: %s is in use by another pane process", st->dir);
		pane_err_detail(err, "stop the running `pane serve` (or import) first, or use another --data-dir");
		goto fail;
	}
	snprintf(path, sizeof path, "%s/metrics.db", st->dir);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		pane_err_set(err, PANE_EIO, "store: cannot open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "?");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* 2 KiB pages (a new metrics.db only; one made earlier keeps its 4 KiB):
	 * a small store's tables are a few pages each, so half-empty last pages
	 * cost up to 3% of its bytes; on gen.py's day the file is no larger
	 * (bench/README.md, "Fourth pass"). A small page cache: catalog and
	 * index rows are read rarely, written in appends; the default 2 MiB
	 * was ~200 B per series at 10k series. */
	if (ps_sql_exec(st, "PRAGMA page_size=2048", err) < 0 || ps_sql_exec(st, "PRAGMA journal_mode=WAL", err) < 0 ||
	    ps_sql_exec(st, "PRAGMA synchronous=NORMAL", err) < 0 ||
	    ps_sql_exec(st, "PRAGMA cache_size=-256", err) < 0 ||
	    ps_sql_exec(
	        st,
	        "CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, key BLOB NOT NULL, pseq INTEGER NOT NULL)",
	        err) < 0 ||
	    check_format(st, err) < 0)
		goto fail;
	if (ps_load_catalog(st, err) < 0)
		goto fail;
	/* the head file is rebuilt from the WAL */
	snprintf(path, sizeof path, "%s/head", st->dir);
	st->head_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (st->head_fd < 0) {
		pane_err_set(err, PANE_EIO, "store: cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof path, "%s/wal", st->dir);
	if (ps_replay_wal(st, path, err) < 0 || ps_txn_commit(st, err) < 0)
		goto fail;
	ps_head_flush(st);
	snprintf(path, sizeof path, "%s/logs.db", st->dir);
	st->logs = pane_logdb_open(path, err);
	if (!st->logs)
		goto fail;
	if (pthread_create(&st->hk_thread, NULL, hk_main, st) != 0) {
		pane_err_set(err, PANE_EIO, "store: cannot start the housekeeping thread");
		goto fail;
	}
	st->hk_running = true;
	return st;
fail:
	pane_err_prefix(err, "cannot open the store in %s", o->dir);
	pane_store_close(st);
	return NULL;
}

/* ---------- writing ---------- */

static struct series *resolve(struct pane_store *st, const struct pane_sample *smp, struct pane_buf *key,
                              struct pane_buf *walrec, bool *rejected, struct pane_err *err)
{
	*rejected = false;
	if (ps_sample_key(smp, key) < 0)
		return NULL;
	struct series *s = ps_by_key_get(st, key->data, key->len);
	if (s && !s->unlogged)
		return s;
	if (s) {
		/* made by a batch whose WAL append failed (a full disk): log it now,
		 * or replay would meet samples of an unknown series */
		ps_wal_series_rec(walrec, s);
		return s;
	}
	if (st->o.max_series > 0 && (int64_t)st->c.series >= st->o.max_series) {
		pane_log_limited(&st->lim, PANE_LOG_WARN, "store",
		                 "series limit reached (%" PRId64
		                 " series, store.max_series): new series of %s rejected",
		                 st->o.max_series, smp->name);
		*rejected = true;
		return NULL;
	}
	if (st->o.max_series_per_metric > 0 &&
	    (int64_t)(uintptr_t)pane_map_gets(&st->per_metric, smp->name) >= st->o.max_series_per_metric) {
		pane_log_limited(&st->lim, PANE_LOG_WARN, "store",
		                 "series limit per metric reached for %s (%" PRId64
		                 ", store.max_series_per_metric): new series rejected",
		                 smp->name, st->o.max_series_per_metric);
		*rejected = true;
		return NULL;
	}
	uint32_t id = (uint32_t)(st->nser ? st->nser : 1);
	s = ps_series_make(id, key->data, key->len);
	if (ps_catalog_insert(st, s, err) < 0) {
		ps_series_free(s);
		return NULL;
	}
	ps_series_register(st, s);
	s->unlogged = true;
	ps_wal_series_rec(walrec, s);
	return s;
}

#define WRITE_BATCH_MAX 100000 /* samples per WAL record (keeps records far below WAL_REC_MAX) */

static int write_batch(struct pane_store *st, const struct pane_sample *smp, uint32_t *refs, size_t n, size_t *accepted,
                       struct pane_err *err);

int pane_store_write_refs(struct pane_store *st, const struct pane_sample *smp, uint32_t *refs, size_t n,
                          size_t *accepted, struct pane_err *err)
{
	size_t total = 0;
	int rc = 0;
	for (size_t off = 0; off < n && rc == 0; off += WRITE_BATCH_MAX) {
		size_t part = 0, k = n - off < WRITE_BATCH_MAX ? n - off : WRITE_BATCH_MAX;
		rc = write_batch(st, smp + off, refs ? refs + off : NULL, k, &part, err);
		total += part;
	}
	if (accepted)
		*accepted = total;
	return rc;
}

int pane_store_write(struct pane_store *st, const struct pane_sample *smp, size_t n, size_t *accepted,
                     struct pane_err *err)
{
	return pane_store_write_refs(st, smp, NULL, n, accepted, err);
}

/* The series of a ref from pane_store_write_refs, or NULL for 0 or a
 * number this store never gave out. */
static struct series *by_ref(const struct pane_store *st, uint32_t ref)
{
	return ref && ref < st->nser ? st->ser[ref] : NULL;
}

static int write_batch(struct pane_store *st, const struct pane_sample *smp, uint32_t *refs, size_t n, size_t *accepted,
                       struct pane_err *err)
{
	size_t ok = 0;
	if (accepted)
		*accepted = 0;
	if (n == 0)
		return 0;
	int64_t newest_ok = st->o.max_future_ms > 0 ? pane_wall_ms() + st->o.max_future_ms : INT64_MAX;
	struct pane_buf key, series_recs;
	pane_buf_init(&key, PANE_BUF_NOLIMIT);
	pane_buf_init(&series_recs, PANE_BUF_NOLIMIT);
	struct series **target = pane_xmalloc(pane_mul_size(n, sizeof *target));
	int rc = 0;
	pthread_mutex_lock(&st->mu);
	/* 1. resolve series and decide each sample */
	for (size_t i = 0; i < n; i++) {
		target[i] = NULL;
		bool rejected = false;
		struct series *s;
		/* records are borrowed for the call: same pointers, same series */
		if (i > 0 && target[i - 1] && smp[i].name == smp[i - 1].name && smp[i].labels == smp[i - 1].labels) {
			s = target[i - 1];
		} else if (refs && (s = by_ref(st, refs[i])) != NULL) {
			if (s->unlogged) /* as resolve() does */
				ps_wal_series_rec(&series_recs, s);
		} else {
			if (!smp[i].name || !pane_metric_name_valid(smp[i].name, strlen(smp[i].name))) {
				st->c.rejected_invalid++;
				if (refs)
					refs[i] = 0;
				continue;
			}
			s = resolve(st, &smp[i], &key, &series_recs, &rejected, err);
		}
		if (refs)
			refs[i] = s ? s->id : 0;
		if (!s) {
			if (rejected) {
				st->c.rejected_series++;
				if (st->st_card)
					pane_stat_inc(st->st_card);
				continue;
			}
			rc = err->code ? err->code : PANE_EIO;
			goto out;
		}
		if (smp[i].ts_ms > newest_ok) {
			pane_log_limited(&st->lim, PANE_LOG_WARN, "store",
			                 "sample of %s is more than store.max_future ahead of this clock; rejected",
			                 smp[i].name);
			st->c.rejected_future++;
			if (st->st_future)
				pane_stat_inc(st->st_future);
			continue;
		}
		if (s->maxt != INT64_MIN && smp[i].ts_ms < s->maxt - st->o.ooo_window_ms) {
			st->c.rejected_old++;
			if (st->st_old)
				pane_stat_inc(st->st_old);
			continue;
		}
		/* provisional maxt so later samples of the batch see it */
		if (smp[i].ts_ms > s->maxt)
			s->maxt = smp[i].ts_ms;
		target[i] = s;
		ok++;
	}
	/* 2. one WAL append: new series, then the samples (nothing to build without a WAL) */
	pane_buf_reset(&st->rec);
	pane_buf_add(&st->rec, series_recs.data, series_recs.len);
	uint64_t seq0 = st->next_seq;
	if (ok && !st->o.no_wal) {
		size_t start = st->rec.len;
		ps_rec_begin(&st->rec, REC_SAMPLES);
		ps_rec_uv(&st->rec, seq0);
		for (size_t i = 0; i < n; i++) {
			if (!target[i])
				continue;
			ps_rec_uv(&st->rec, target[i]->id);
			ps_rec_uv(&st->rec, pane_zigzag(smp[i].ts_ms));
			pane_buf_add(&st->rec, &smp[i].value, 8);
		}
		ps_rec_end(&st->rec, start);
	}
	if (st->rec.len && !st->o.no_wal) {
		rc = ps_wal_append(st, st->rec.data, st->rec.len, err);
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (target[i])
			target[i]->unlogged = false;
	/* 3. heads (may seal and persist) */
	uint64_t seq = seq0;
	for (size_t i = 0; i < n; i++) {
		if (!target[i])
			continue;
		rc = ps_head_add(st, target[i], smp[i].ts_ms, smp[i].value, seq++, err);
		if (rc < 0)
			goto out;
	}
	st->next_seq = seq;
	ps_head_flush(st);
	st->c.samples += ok;
	if (st->st_samples)
		pane_stat_add(st->st_samples, (double)ok);
	if (st->st_series)
		pane_stat_set(st->st_series, (double)st->c.series);
	if (st->in_txn && st->o.fsync == PANE_FSYNC_BATCH)
		rc = ps_sync_parts(st, err);
	if (!rc)
		rc = ps_txn_commit(st, err);
	/* checkpoints and compaction are the housekeeping thread's; woken only
	 * when one is due (a wake per write once the head file had many dead
	 * blocks was a futex wake and a context switch per batch) */
	if (!rc && ((int64_t)st->wal_size > st->o.wal_max_bytes || ps_head_compact_due(st)))
		st->hk_wake = true;
out:
	if (st->hk_wake)
		pthread_cond_signal(&st->hk_cond);
	if (rc < 0 && st->in_txn) {
		/* keep new series in the catalog even when the batch failed: they are
		 * registered in memory, and later WAL records may refer to them */
		struct pane_err e2 = {0};
		if (ps_txn_commit(st, &e2) < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			pane_error("store", "%s", e2.msg);
		}
	}
	pthread_mutex_unlock(&st->mu);
	if (rc < 0)
		ok = 0;
	if (accepted)
		*accepted = ok;
	free(target);
	pane_buf_release(&key);
	pane_buf_release(&series_recs);
	return rc;
}

int pane_store_flush(struct pane_store *st, struct pane_err *err)
{
	pthread_mutex_lock(&st->mu);
	int rc = ps_wal_sync(st, err);
	if (!rc)
		rc = ps_txn_commit(st, err);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* Persists every head (close, large checkpoints). */
int ps_persist_all(struct pane_store *st, struct pane_err *err)
{
	int rc = 0;
	for (size_t id = 1; id < st->nser && !rc; id++) {
		struct series *s = st->ser[id];
		if (!s)
			continue;
		rc = ps_persist_series(st, s, err);
	}
	ps_head_compact(st);
	if (!rc)
		rc = ps_sync_parts(st, err);
	if (!rc)
		rc = ps_txn_commit(st, err);
	return rc;
}

/* ---------- housekeeping ----------
 * One thread per store persists frozen heads (a window roll of every
 * series freezes them all in one write), compacts the head file and
 * checkpoints the WAL, so a write only appends to the WAL and to heads.
 * It takes the store's lock for HK_BATCH heads at a time and lets writers
 * in between: a roll costs writers one batch's wait, not the whole roll. */

#define HK_BATCH 16

/* One step (caller holds mu): persists up to HK_BATCH frozen heads, then,
 * when none is left, compacts the head file and checkpoints a WAL past
 * wal_max_bytes. Sets hk_wake when frozen heads remain. */
/* Ends a housekeeping step's transaction (fsync'ing partitions first under
 * PANE_FSYNC_BATCH); rc is the step's result so far. */
static int hk_commit(struct pane_store *st, int rc, struct pane_err *err)
{
	if (!rc && st->in_txn && st->o.fsync == PANE_FSYNC_BATCH)
		rc = ps_sync_parts(st, err);
	struct pane_err e2 = {0};
	int crc = ps_txn_commit(st, rc ? &e2 : err);
	return rc ? rc : crc;
}

/* Persists the heads of up to HK_BATCH series from *cursor on (caller
 * holds mu; 0 starts at the first series) and commits; *cursor is 0 again
 * once every series was visited. A checkpoint with long heads must persist
 * them first (ps_checkpoint_would_persist): done this way, the lock is
 * released between batches instead of held for every head at once. */
static int persist_batch(struct pane_store *st, uint32_t *cursor, struct pane_err *err)
{
	int rc = 0;
	size_t done = 0;
	if (!*cursor)
		*cursor = 1;
	while (*cursor < st->nser && done < HK_BATCH) {
		struct series *s = st->ser[*cursor];
		if (s && (s->fz || s->h.hs.n)) {
			if ((rc = ps_persist_series(st, s, err)) < 0)
				break;
			done++;
		}
		(*cursor)++;
	}
	if (*cursor >= st->nser)
		*cursor = 0;
	return hk_commit(st, rc, err);
}

static int hk_step(struct pane_store *st, struct pane_err *err)
{
	int rc = 0;
	size_t done = 0;
	while (st->frozen_at < st->nfrozen && done < HK_BATCH) {
		struct series *s = st->ser[st->frozen[st->frozen_at]];
		if (s->fz) {
			if ((rc = ps_persist_frozen(st, s, err)) < 0)
				break;
			done++;
		}
		s->queued = false;
		st->frozen_at++;
	}
	if (st->frozen_at == st->nfrozen)
		st->nfrozen = st->frozen_at = 0;
	rc = hk_commit(st, rc, err);
	if (rc < 0)
		return rc;
	if (st->nfrozen) {
		st->hk_wake = true;
		return 0;
	}
	ps_head_compact(st);
	if ((int64_t)st->wal_size > st->o.wal_max_bytes || st->hk_cursor) {
		if (st->hk_cursor || ps_checkpoint_would_persist(st)) {
			rc = persist_batch(st, &st->hk_cursor, err);
			if (rc < 0 || st->hk_cursor) {
				st->hk_wake = !rc;
				return rc;
			}
		}
		rc = ps_checkpoint(st, err);
	}
	return rc;
}

static void *hk_main(void *arg)
{
	struct pane_store *st = arg;
	pthread_mutex_lock(&st->mu);
	while (!st->hk_stop) {
		if (!st->hk_wake) {
			pthread_cond_wait(&st->hk_cond, &st->mu);
			continue;
		}
		st->hk_wake = false;
		struct pane_err err = {0};
		if (hk_step(st, &err) < 0) {
			pane_log_limited(&st->lim, PANE_LOG_ERROR, "store", "housekeeping: %s (retried in 1 s)",
			                 err.msg);
			st->hk_wake = true;
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&st->hk_cond, &st->mu, &ts);
			continue;
		}
		if (st->hk_wake) { /* more to do: let writers in first */
			pthread_mutex_unlock(&st->mu);
			sched_yield();
			pthread_mutex_lock(&st->mu);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

int pane_store_housekeep(struct pane_store *st, struct pane_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&st->mu);
	do {
		st->hk_wake = false;
		rc = hk_step(st, err);
	} while (!rc && st->nfrozen);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* ---------- retention ---------- */

static int64_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static int64_t metrics_bytes(struct pane_store *st)
{
	char path[4096];
	int64_t total = 0;
	const char *files[] = {"metrics.db", "metrics.db-wal", "wal"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", st->dir, files[i]);
		total += file_size(path);
	}
	for (size_t i = 0; i < st->nparts; i++)
		total += (int64_t)st->parts[i].size;
	return total;
}

int pane_store_maintain(struct pane_store *st, int64_t now_ms, struct pane_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&st->mu);
	int64_t today = ps_day_of(now_ms);
	if (st->o.retention_ms > 0) {
		int64_t cutoff = now_ms - st->o.retention_ms;
		for (size_t i = 0; i < st->nparts && !rc;) {
			if ((st->parts[i].day + 1) * DAY_MS <= cutoff && st->parts[i].day < today)
				rc = ps_drop_partition(st, i, err);
			else
				i++;
		}
	}
	while (!rc && st->o.retention_bytes > 0 && metrics_bytes(st) > st->o.retention_bytes) {
		size_t oldest = SIZE_MAX;
		for (size_t i = 0; i < st->nparts; i++)
			if (st->parts[i].day < today &&
			    (oldest == SIZE_MAX || st->parts[i].day < st->parts[oldest].day))
				oldest = i;
		if (oldest == SIZE_MAX)
			break;
		rc = ps_drop_partition(st, oldest, err);
	}
	if (!rc)
		rc = ps_wal_sync(st, err);
	if (!rc)
		rc = ps_txn_commit(st, err);
	if (!rc && (int64_t)st->wal_size > st->o.wal_max_bytes / 2) {
		/* long heads are persisted in batches first, letting writers in between */
		uint32_t cursor = 0;
		while (!rc && ps_checkpoint_would_persist(st)) {
			rc = persist_batch(st, &cursor, err);
			if (!cursor)
				break;
			pthread_mutex_unlock(&st->mu);
			sched_yield();
			pthread_mutex_lock(&st->mu);
		}
		if (!rc)
			rc = ps_checkpoint(st, err);
	}
	pthread_mutex_unlock(&st->mu);
	if (!rc && st->logs) {
		int64_t lcut = st->o.log_retention_ms > 0 ? now_ms - st->o.log_retention_ms : INT64_MIN;
		rc = pane_logdb_retain(st->logs, lcut, st->o.log_retention_bytes, err);
	}
	return rc;
}

/* ---------- closing, counters ---------- */

void pane_store_close(struct pane_store *st)
{
	if (!st)
		return;
	struct pane_err err = {0};
	if (st->hk_running) {
		pthread_mutex_lock(&st->mu);
		st->hk_stop = true;
		pthread_cond_signal(&st->hk_cond);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->hk_thread, NULL);
		st->hk_running = false;
	}
	pane_workers_free(st->workers); /* idle: no select runs any more */
	ps_readers_free(st);            /* no select runs any more; theirs are the other connections to metrics.db */
	if (st->db && st->wal_fd >= 0) {
		pthread_mutex_lock(&st->mu);
		if (ps_persist_all(st, &err) < 0 || ps_checkpoint(st, &err) < 0)
			pane_error("store", "closing: %s (the WAL keeps the data; it is replayed on the next start)",
			           err.msg);
		pthread_mutex_unlock(&st->mu);
	}
	if (st->db) {
		sqlite3_exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		sqlite3_close(st->db);
	}
	free(st->cat_new);
	if (st->wal_fd >= 0)
		close(st->wal_fd);
	if (st->head_fd >= 0) {
		/* rebuilt from the WAL on open: nothing in it is needed any more */
		if (ftruncate(st->head_fd, 0) < 0)
			pane_warn("store", "cannot truncate %s/head: %s (harmless: it is rebuilt on open)", st->dir,
			          strerror(errno));
		close(st->head_fd);
	}
	pane_buf_release(&st->hw);
	for (size_t i = 0; i < st->nparts; i++)
		if (st->parts[i].fd >= 0)
			close(st->parts[i].fd);
	free(st->parts);
	for (size_t i = 0; i < st->nser; i++)
		if (st->ser[i])
			ps_series_free(st->ser[i]);
	free(st->ser);
	free(st->idtab);
	pane_map_release(&st->per_metric);
	pane_index_free(st->ix);
	pane_bufpool_free(st->samples); /* blocks of sets still alive are freed when those are */
	pane_buf_release(&st->rec);
	pane_logdb_close(st->logs);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->hk_cond);
	free(st->frozen);
	free(st->dir);
	free(st);
}

void pane_store_get_counters(struct pane_store *st, struct pane_store_counters *out)
{
	pthread_mutex_lock(&st->mu);
	*out = st->c;
	pthread_mutex_unlock(&st->mu);
}

int64_t pane_store_disk_bytes(struct pane_store *st)
{
	char path[4096];
	pthread_mutex_lock(&st->mu);
	int64_t total = metrics_bytes(st);
	pthread_mutex_unlock(&st->mu);
	const char *files[] = {"logs.db", "logs.db-wal"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", st->dir, files[i]);
		total += file_size(path);
	}
	return total;
}

/* ---------- logs and events (logs.c does the work) ---------- */

int pane_store_write_logs(struct pane_store *st, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	int rc = pane_logdb_write_logs(st->logs, l, n, err);
	if (!rc) {
		pthread_mutex_lock(&st->mu);
		st->c.logs += n;
		pthread_mutex_unlock(&st->mu);
	}
	return rc;
}

int pane_store_write_events(struct pane_store *st, const struct pane_event *e, size_t n, struct pane_err *err)
{
	int rc = pane_logdb_write_events(st->logs, e, n, err);
	if (!rc) {
		pthread_mutex_lock(&st->mu);
		st->c.events += n;
		pthread_mutex_unlock(&st->mu);
	}
	return rc;
}

int pane_store_write_metadata(struct pane_store *st, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	size_t skipped = 0;
	int rc = pane_logdb_write_metadata(st->logs, m, n, &skipped, err);
	if (skipped) {
		static struct pane_log_limit lim = {.burst = 5, .per_ms = 60000};
		pane_log_limited(&lim, PANE_LOG_WARN, "store",
		                 "skipped %zu metadata entries with a bad name or oversized help", skipped);
	}
	return rc;
}

int pane_store_metadata(struct pane_store *st, const char *metric, size_t limit, struct pane_metadata **out, size_t *n,
                        struct pane_err *err)
{
	return pane_logdb_metadata(st->logs, metric, limit, out, n, err);
}

struct pane_logreader pane_store_logreader(struct pane_store *st)
{
	return pane_logdb_reader(st->logs);
}

/* ---------- the sink ---------- */

static int sink_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err)
{
	return pane_store_write(ctx, s, n, accepted, err);
}

static int sink_logs(void *ctx, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	return pane_store_write_logs(ctx, l, n, err);
}

static int sink_events(void *ctx, const struct pane_event *e, size_t n, struct pane_err *err)
{
	return pane_store_write_events(ctx, e, n, err);
}

static int sink_metadata(void *ctx, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	return pane_store_write_metadata(ctx, m, n, err);
}

static int sink_flush(void *ctx, struct pane_err *err)
{
	return pane_store_flush(ctx, err);
}

/* The store outlives the pipeline: close() only flushes (see store.h). */
static void sink_close(void *ctx)
{
	struct pane_err err = {0};
	if (pane_store_flush(ctx, &err) < 0)
		pane_error("store", "flush at close: %s", err.msg);
}

static const struct pane_sink_ops sink_ops = {
    .name = "store",
    .write_samples = sink_samples,
    .write_logs = sink_logs,
    .write_events = sink_events,
    .flush = sink_flush,
    .close = sink_close,
    .write_metadata = sink_metadata,
};

struct pane_sink pane_store_sink(struct pane_store *st)
{
	struct pane_sink s = {&sink_ops, st};
	return s;
}
