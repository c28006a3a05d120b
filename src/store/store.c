/*
 * store.c - the metrics side of the embedded store (see store.h).
 *
 * Idea: a sample's life is WAL -> head -> segment.
 *   - Every accepted batch is one CRC-checked WAL record written with one
 *     write(2) before the call returns (kill -9 safe; fdatasync per policy).
 *     Each sample gets a global sequence number (seq) in WAL order.
 *   - Per series, a *head*: every sample of its current 6 h window not yet
 *     in a segment, encoded as it arrives into one bit stream (hstream.h,
 *     ~3 B per sample). Out-of-order samples are appended as they come
 *     (the series is flagged unsorted) and sorted, stably, when decoded.
 *     Only the stream's tail stays in memory: each full block of it goes
 *     to the head file (DATA_DIR/store/head, see "the head file" below),
 *     which is truncated on open and rebuilt by WAL replay. It holds
 *     nothing the WAL does not, so it is never fsync'ed and a kill -9
 *     loses nothing.
 *   - When the series moves to the next aligned 6 h window (or the store
 *     closes, or the head holds SEG_TARGET samples), the head becomes a
 *     *segment*: re-encoded as one timestamp column and one value column
 *     (codec.h), each zstd-packed and appended to the
 *     day's partition file chunks/d<DAY>.seg, and indexed by one row in
 *     metrics.db table "s_<DAY>". A timestamp column identical to one
 *     already in the day (series scraped together) is referenced through
 *     "t_<DAY>" instead of written again. The series' watermark pseq
 *     (highest seq now in a segment) moves in the same transaction. No
 *     per-sample B-tree update ever happens.
 *   - Replay skips WAL samples whose seq <= the series' pseq, so nothing is
 *     persisted twice. A checkpoint rewrites the WAL to hold only the
 *     samples still in heads (with fresh seqs), after syncing segments.
 *   - Retention drops a day: DROP TABLE + unlink, never a DELETE of rows.
 *
 * Segments live in flat files rather than SQLite rows because rows of a
 * few hundred bytes to a few KB leave pages partly empty (measured in
 * bench/README.md); the catalog and the small index rows stay in SQLite.
 *
 * Invariants:
 *   (1) A series' samples with seq <= pseq are in segments; those above are
 *       in the head (or in the WAL after a crash); hseq is the head's highest.
 *   (2) Everything in struct pane_store is guarded by st->mu; a select
 *       holds it only to snapshot, then reads segments on its own.
 *   (3) A head holds samples of one 6 h window only (so of one UTC day, the
 *       partition), at most SEG_TARGET of them.
 *   (4) A series' head is its hnblk blocks in the head file (a chain from
 *       hlast backwards, each block naming its predecessor), then hs.tail;
 *       blocks are never rewritten in place, only moved whole by compaction.
 */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

#define SEG_TARGET PANE_CHUNK_MAX /* samples; normally the window ends a segment first */
#define WINDOW_MS (6 * 3600 * 1000LL) /* a segment holds one aligned window of a series */
#define DAY_MS 86400000LL
#define WAL_MAGIC "PANEWAL1"
#define WAL_REC_MAX (64u << 20)
#define SEG_RAW_MAX (8u << 20)
#define HBLK (4 + PANE_HS_BLOCK) /* head-file block: index + 1 of the previous block, then stream bytes */
#define HW_MAX (64u << 10)       /* head-file blocks buffered before one write */
#define HCOMPACT_MIN 4096        /* dead head-file blocks before compaction is considered */

enum { REC_SERIES = 1, REC_SAMPLES = 2 };

struct series {
	uint32_t id;
	uint32_t keylen;
	char *key;               /* "name\0value\0" pairs, sorted, __name__ included */
	uint16_t nl;
	bool unsorted;           /* a sample of the head is older than one appended before it */
	bool unlogged;           /* its REC_SERIES is not in the WAL yet (the batch that made it failed) */
	uint32_t hnblk;          /* blocks taken out of the head stream (in the head file) */
	uint32_t hlast;          /* index + 1 of the last of them, 0 = none */
	int64_t hwin;            /* window (ts / WINDOW_MS) of the head */
	uint64_t hseq;           /* highest seq in the head */
	uint64_t pseq;           /* highest seq in segments */
	int64_t mint, maxt;      /* of everything stored */
	struct pane_hstream hs;  /* the head: every sample of the window not in a segment */
};

struct part {
	int64_t day;
	int fd;
	uint64_t size;
	bool dirty;              /* written since the last fsync */
};

struct pane_store {
	struct pane_store_opts o;
	char *dir;
	pthread_mutex_t mu;
	sqlite3 *db;
	bool in_txn;
	uint32_t *cat_new;           /* series added to the catalog in the open transaction */
	size_t ncat_new, capcat_new; /* (kept until a COMMIT succeeds) */
	bool cat_redo;               /* a COMMIT failed: add cat_new again in the next transaction */
	int lock_fd;                 /* flock'ed: one process per store directory */
	int wal_fd;
	uint64_t wal_size;
	bool wal_unsynced;
	int64_t last_sync_ms;
	uint64_t next_seq;
	uint32_t *idtab;             /* series ids by key hash (open addressing, 0 = empty) */
	size_t idcap, idlen;         /* idcap: a power of two, 0 before the first series */
	uint64_t idseed;
	struct series **ser;         /* by id; ser[0] unused */
	size_t nser, capser;
	struct pane_map per_metric;  /* name -> count (uintptr_t) */
	struct pane_index *ix;
	int head_fd;                 /* the head file: blocks taken out of head streams */
	uint32_t hblocks, hdead;     /* blocks in it; of those, dead (their head was persisted) */
	uint32_t hw_first;           /* hw holds blocks [hw_first, hblocks) not yet written */
	uint32_t hcompact_min;       /* dead blocks before a compaction is tried (grows on failure) */
	struct pane_buf hw;
	const uint8_t *hmap;         /* the written part of the head file mapped, during bulk reads */
	size_t hmaplen;
	struct part *parts;
	size_t nparts;
	struct pane_store_counters c;
	struct pane_buf rec;         /* scratch: WAL record being built */
	struct pane_logdb *logs;
	struct pane_stat *st_samples, *st_old, *st_card, *st_future, *st_series;
	struct pane_log_limit lim;
};

static int64_t day_of(int64_t ts)
{
	int64_t q = ts / DAY_MS;
	if (ts % DAY_MS < 0)
		q--;
	return q;
}

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

/* ---------- SQLite helpers ---------- */

static int sql_fail(struct pane_store *st, struct pane_err *err, const char *what)
{
	return pane_err_set(err, PANE_EIO, "store: %s: %s", what, sqlite3_errmsg(st->db));
}

static int exec(struct pane_store *st, const char *sql, struct pane_err *err)
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

static int begin(struct pane_store *st, struct pane_err *err)
{
	if (st->in_txn)
		return 0;
	int rc = exec(st, "BEGIN", err);
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

static int commit(struct pane_store *st, struct pane_err *err)
{
	if (!st->in_txn)
		return 0;
	st->in_txn = false;
	int rc = exec(st, "COMMIT", err);
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

/* ---------- partitions ---------- */

static struct part *part_get(struct pane_store *st, int64_t day, bool create, struct pane_err *err)
{
	for (size_t i = 0; i < st->nparts; i++)
		if (st->parts[i].day == day)
			return &st->parts[i];
	if (!create)
		return NULL;
	char path[4096], sql[1024];
	snprintf(path, sizeof path, "%s/chunks/d%" PRId64 ".seg", st->dir, day);
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		pane_err_set(err, PANE_EIO, "store: cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat sb;
	fstat(fd, &sb);
	close(fd); /* opened again on demand (part_fd) */
	snprintf(sql, sizeof sql,
		 "CREATE TABLE IF NOT EXISTS \"s_%" PRId64 "\"(sid INTEGER NOT NULL, off INTEGER NOT NULL, "
		 "mint INTEGER NOT NULL, maxt INTEGER NOT NULL, n INTEGER NOT NULL, len INTEGER NOT NULL, "
		 "crc INTEGER NOT NULL, toff INTEGER NOT NULL, tlen INTEGER NOT NULL, tcrc INTEGER NOT NULL, "
		 "PRIMARY KEY(sid, off)) WITHOUT ROWID;"
		 "CREATE TABLE IF NOT EXISTS \"t_%" PRId64 "\"(hash INTEGER PRIMARY KEY, off INTEGER NOT NULL, "
		 "len INTEGER NOT NULL);"
		 "CREATE TABLE IF NOT EXISTS \"a_%" PRId64 "\"(sid INTEGER NOT NULL, step INTEGER NOT NULL, "
		 "off INTEGER NOT NULL, len INTEGER NOT NULL, crc INTEGER NOT NULL, mint INTEGER NOT NULL, "
		 "maxt INTEGER NOT NULL, PRIMARY KEY(sid, step, off)) WITHOUT ROWID",
		 day, day, day);
	if (exec(st, sql, err) < 0)
		return NULL;
	st->parts = pane_xrealloc(st->parts, pane_mul_size(st->nparts + 1, sizeof *st->parts));
	struct part *p = &st->parts[st->nparts++];
	p->day = day;
	p->fd = -1;
	p->size = (uint64_t)sb.st_size;
	p->dirty = false;
	return p;
}

/* The partition file's descriptor, opened on demand. At most MAX_OPEN_PARTS
 * stay open (years of imported history would otherwise exhaust descriptors);
 * a file closed to make room is fdatasync'ed first when it was written. */
#define MAX_OPEN_PARTS 32
static int part_fd(struct pane_store *st, struct part *p)
{
	if (p->fd >= 0)
		return p->fd;
	size_t open_n = 0;
	for (size_t i = 0; i < st->nparts; i++)
		open_n += st->parts[i].fd >= 0;
	for (size_t i = 0; i < st->nparts && open_n >= MAX_OPEN_PARTS; i++) {
		struct part *o = &st->parts[i];
		if (o->fd < 0)
			continue;
		if (o->dirty && fdatasync(o->fd) < 0)
			pane_error("store", "fsync of the partition of day %" PRId64 ": %s", o->day, strerror(errno));
		close(o->fd);
		o->fd = -1;
		o->dirty = false;
		open_n--;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/chunks/d%" PRId64 ".seg", st->dir, p->day);
	p->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (p->fd < 0)
		pane_log_limited(&st->lim, PANE_LOG_ERROR, "store", "cannot open %s: %s", path, strerror(errno));
	return p->fd;
}

static int sync_parts(struct pane_store *st, struct pane_err *err)
{
	for (size_t i = 0; i < st->nparts; i++) {
		if (st->parts[i].dirty && st->parts[i].fd >= 0 && fdatasync(st->parts[i].fd) < 0)
			return pane_err_set(err, PANE_EIO, "store: fsync of a partition failed: %s", strerror(errno));
		st->parts[i].dirty = false;
	}
	return 0;
}

/* ---------- series ---------- */

static void series_free(struct series *s)
{
	free(s->key);
	free(s);
}

static struct series *series_make(uint32_t id, const char *key, size_t keylen)
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

/* ---------- series by key ----------
 * An open-addressing table of series ids (4 bytes a slot, under 3/4 full)
 * keyed by the hash of the series key, compared against the series' own
 * key: no copy of the key, no per-entry allocation. Series are never
 * removed from a running store. */

static uint64_t key_hash(const struct pane_store *st, const void *key, size_t len)
{
	return pane_hash_bytes(key, len, st->idseed);
}

static struct series *by_key_get(const struct pane_store *st, const void *key, size_t len)
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

static void series_register(struct pane_store *st, struct series *s)
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
static int sample_key(const struct pane_sample *smp, struct pane_buf *k)
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

/* ---------- WAL ---------- */

static void rec_uv(struct pane_buf *b, uint64_t v)
{
	uint8_t t[10];
	pane_buf_add(b, t, pane_uvarint_put(t, v));
}

static void rec_begin(struct pane_buf *b, int type)
{
	static const char hdr[8] = {0};
	pane_buf_add(b, hdr, 8); /* length + crc, patched by rec_end */
	pane_buf_addc(b, (char)type);
}

static void rec_end(struct pane_buf *b, size_t start)
{
	uint32_t len = (uint32_t)(b->len - start - 8);
	uint32_t crc = pane_crc32c(0, b->data + start + 8, len);
	uint8_t *h = (uint8_t *)b->data + start;
	for (int i = 0; i < 4; i++) {
		h[i] = (uint8_t)(len >> (8 * i));
		h[4 + i] = (uint8_t)(crc >> (8 * i));
	}
}

static int write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	while (len) {
		ssize_t w = write(fd, c, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		len -= (size_t)w;
	}
	return 0;
}

static int wal_sync(struct pane_store *st, struct pane_err *err)
{
	if (!st->wal_unsynced)
		return 0;
	if (fdatasync(st->wal_fd) < 0)
		return pane_err_set(err, PANE_EIO, "store: fsync of the WAL failed: %s", strerror(errno));
	st->wal_unsynced = false;
	st->last_sync_ms = pane_mono_ns() / 1000000;
	return 0;
}

static int wal_append(struct pane_store *st, const void *p, size_t len, struct pane_err *err)
{
	if (write_all(st->wal_fd, p, len) < 0) {
		int e = errno;
		/* cut what may have been written partially so the WAL stays parseable,
		 * and write the next record where this one began: the fd is not
		 * O_APPEND, so a short write (a full disk) left its offset past the
		 * cut, and the next record would follow a hole that replay reads as
		 * the end of the WAL, losing every batch acknowledged after it */
		if (ftruncate(st->wal_fd, (off_t)st->wal_size) < 0) {
			/* replay cuts it anyway */
		}
		lseek(st->wal_fd, (off_t)st->wal_size, SEEK_SET);
		return pane_err_set(err, PANE_EIO, "store: cannot write the WAL: %s", strerror(e));
	}
	st->wal_size += len;
	st->c.wal_bytes = st->wal_size;
	st->wal_unsynced = true;
	if (st->o.fsync == PANE_FSYNC_BATCH)
		return wal_sync(st, err);
	if (st->o.fsync == PANE_FSYNC_INTERVAL &&
	    pane_mono_ns() / 1000000 - st->last_sync_ms >= st->o.fsync_interval_ms)
		return wal_sync(st, err);
	return 0;
}

/* ---------- head, chunks, segments ---------- */

static void count_codec(struct pane_store *st, int codec)
{
	if (codec == PANE_CODEC_XOR)
		st->c.chunks_xor++;
	else if (codec == PANE_CODEC_CONST)
		st->c.chunks_const++;
	else
		st->c.chunks_dec++;
}

/* ---------- the head file ----------
 * Full blocks of head streams leave memory for DATA_DIR/store/head: fixed
 * blocks of HBLK bytes, each naming the series' previous block, so a
 * series keeps only its last block's index and the count. The file is
 * truncated on open and rebuilt by WAL replay (the WAL is what is durable),
 * so it is never fsync'ed. Blocks are only appended (buffered in hw and
 * written with one pwrite); a persisted head's blocks become dead, and the
 * file is rewritten with only the live chains when it is mostly dead.
 * A failed write is not fatal: the blocks stay in hw (reads find them
 * there) and the write is retried. */

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Writes the buffered blocks; on failure they stay buffered (logged). */
static void head_flush(struct pane_store *st)
{
	if (!st->hw.len)
		return;
	const char *p = st->hw.data;
	size_t left = st->hw.len;
	off_t off = (off_t)st->hw_first * HBLK;
	while (left) {
		ssize_t w = pwrite(st->head_fd, p, left, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			pane_log_limited(&st->lim, PANE_LOG_ERROR, "store",
					 "cannot write the head file: %s (its blocks stay in memory)",
					 w < 0 ? strerror(errno) : "short write");
			/* keep what was not written; whole blocks were written before it */
			size_t done = (st->hw.len - left) / HBLK * HBLK;
			memmove(st->hw.data, st->hw.data + done, st->hw.len - done);
			st->hw.len -= done;
			st->hw_first += (uint32_t)(done / HBLK);
			return;
		}
		p += w;
		left -= (size_t)w;
		off += w;
	}
	pane_buf_reset(&st->hw);
}

/* Moves a full tail block of s's head stream to the head file. */
static void head_take(struct pane_store *st, struct series *s)
{
	uint8_t blk[HBLK];
	put_u32(blk, s->hlast);
	pane_hstream_take(&s->hs, blk + 4);
	if (!st->hw.len)
		st->hw_first = st->hblocks;
	pane_buf_add(&st->hw, blk, HBLK);
	s->hlast = ++st->hblocks;
	s->hnblk++;
	if (st->hw.len + HBLK > HW_MAX)
		head_flush(st);
}

static int head_block(struct pane_store *st, uint32_t idx, uint8_t *out)
{
	if (st->hw.len && idx >= st->hw_first && idx - st->hw_first < st->hw.len / HBLK) {
		memcpy(out, st->hw.data + (size_t)(idx - st->hw_first) * HBLK, HBLK);
		return 0;
	}
	if (st->hmap && ((size_t)idx + 1) * HBLK <= st->hmaplen) {
		memcpy(out, st->hmap + (size_t)idx * HBLK, HBLK);
		return 0;
	}
	for (size_t got = 0; got < HBLK;) {
		ssize_t r = pread(st->head_fd, out + got, HBLK - got, (off_t)idx * HBLK + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return PANE_EIO;
		got += (size_t)r;
	}
	return 0;
}

/* A select of many series maps the written part of the head file for the
 * snapshot instead of one pread per block (~2x faster); the mapping is
 * dropped at once, so its pages count in RSS only meanwhile (which is why
 * persisting and compaction, which run during ingestion, use pread).
 * Caller holds mu (no write, truncation or compaction meanwhile). */
static void head_map(struct pane_store *st)
{
	uint32_t written = st->hw.len ? st->hw_first : st->hblocks;
	size_t len = (size_t)written * HBLK;
	if (st->hmap || len < 64 * HBLK)
		return;
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, st->head_fd, 0);
	if (p == MAP_FAILED)
		return; /* pread still works */
	st->hmap = p;
	st->hmaplen = len;
}

static void head_unmap(struct pane_store *st)
{
	if (!st->hmap)
		return;
	munmap((void *)st->hmap, st->hmaplen);
	st->hmap = NULL;
	st->hmaplen = 0;
}

/* The stream bytes of s's taken blocks, in order, appended to out. */
static int head_blocks(struct pane_store *st, const struct series *s, struct pane_buf *out, struct pane_err *err)
{
	size_t base = out->len, need = (size_t)s->hnblk * PANE_HS_BLOCK;
	uint8_t blk[HBLK];
	/* room for the blocks (filled back to front) and the tail after them */
	pane_buf_grow(out, need + PANE_HS_TAIL);
	out->len += need;
	out->data[out->len] = '\0';
	uint32_t cur = s->hlast;
	for (size_t i = s->hnblk; i-- > 0;) {
		if (cur == 0 || cur > st->hblocks || head_block(st, cur - 1, blk) < 0)
			return pane_err_set(err, PANE_EIO, "store: cannot read the head file (series %u): %s", s->id,
					    cur == 0 || cur > st->hblocks ? "broken chain" : strerror(errno));
		memcpy(out->data + base + i * PANE_HS_BLOCK, blk + 4, PANE_HS_BLOCK);
		cur = get_u32(blk);
	}
	return 0;
}

/* The head stream's bytes (taken blocks, then the tail) appended to out. */
static int head_bytes(struct pane_store *st, const struct series *s, struct pane_buf *out, struct pane_err *err)
{
	int rc = head_blocks(st, s, out, err);
	if (rc < 0)
		return rc;
	pane_buf_add(out, s->hs.tail, pane_hstream_tail_len(&s->hs));
	return 0;
}

/* Rewrites the head file with only the live chains (each contiguous) when
 * it is mostly dead; empties it when nothing lives. Failure is logged and
 * leaves the old file in use. */
static void head_compact(struct pane_store *st)
{
	if (st->hdead < st->hcompact_min || (uint64_t)st->hdead * 4 < (uint64_t)st->hblocks * 3)
		return;
	head_flush(st);
	if (st->hw.len)
		return;
	if (st->hdead == st->hblocks) {
		if (ftruncate(st->head_fd, 0) == 0) {
			st->hblocks = st->hdead = 0;
			st->hcompact_min = HCOMPACT_MIN;
		}
		return;
	}
	char path[4096], tmp[4096];
	snprintf(path, sizeof path, "%s/head", st->dir);
	snprintf(tmp, sizeof tmp, "%s/head.tmp", st->dir);
	uint32_t *nlast = pane_xcalloc(st->nser ? st->nser : 1, sizeof *nlast);
	struct pane_buf bytes, out;
	pane_buf_init(&bytes, PANE_BUF_NOLIMIT);
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	struct pane_err err = {0};
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool good = fd >= 0;
	uint32_t n = 0;
	uint64_t off = 0;
	for (size_t id = 1; id < st->nser && good; id++) {
		struct series *s = st->ser[id];
		if (!s || !s->hnblk)
			continue;
		pane_buf_reset(&bytes);
		good = head_blocks(st, s, &bytes, &err) == 0;
		for (size_t i = 0; i < s->hnblk && good; i++) {
			uint8_t blk[HBLK];
			put_u32(blk, i ? n : 0);
			memcpy(blk + 4, bytes.data + i * PANE_HS_BLOCK, PANE_HS_BLOCK);
			pane_buf_add(&out, blk, HBLK);
			n++;
		}
		nlast[id] = n;
		if (good && out.len >= HW_MAX) {
			good = pwrite(fd, out.data, out.len, (off_t)off) == (ssize_t)out.len;
			off += out.len;
			pane_buf_reset(&out);
		}
	}
	if (good && out.len)
		good = pwrite(fd, out.data, out.len, (off_t)off) == (ssize_t)out.len;
	if (good)
		good = rename(tmp, path) == 0;
	if (good) {
		for (size_t id = 1; id < st->nser; id++)
			if (st->ser[id] && st->ser[id]->hnblk)
				st->ser[id]->hlast = nlast[id];
		close(st->head_fd);
		st->head_fd = fd;
		st->hblocks = n;
		st->hdead = 0;
		st->hcompact_min = HCOMPACT_MIN;
	} else {
		pane_log_limited(&st->lim, PANE_LOG_ERROR, "store", "cannot compact the head file: %s",
				 err.code ? err.msg : strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		st->hcompact_min = st->hdead * 2;
	}
	free(nlast);
	pane_buf_release(&bytes);
	pane_buf_release(&out);
}

/* Stable insertion sort by timestamp (a later write of the same ts stays
 * later): linear on the nearly sorted input out-of-order writes produce. */
static void sort_samples(int64_t *ts, double *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		int64_t t = ts[i];
		double x = v[i];
		size_t j = i;
		while (j > 0 && ts[j - 1] > t) {
			ts[j] = ts[j - 1];
			v[j] = v[j - 1];
			j--;
		}
		ts[j] = t;
		v[j] = x;
	}
}

/* Decodes a series' head into arrays (caller frees), in arrival order or
 * sorted by timestamp. */
static int head_samples(struct pane_store *st, struct series *s, bool sorted, int64_t **tsout, double **vout,
			struct pane_err *err)
{
	size_t n = s->hs.n;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	int rc = head_bytes(st, s, &b, err);
	int64_t *ts = pane_xmalloc(pane_mul_size(n ? n : 1, sizeof *ts));
	double *v = pane_xmalloc(pane_mul_size(n ? n : 1, sizeof *v));
	if (!rc && pane_hstream_decode((const uint8_t *)b.data, b.len, n, ts, v) < 0)
		rc = pane_err_set(err, PANE_EIO, "store: the head of series %u does not decode", s->id);
	pane_buf_release(&b);
	if (rc < 0) {
		free(ts);
		free(v);
		return rc;
	}
	if (sorted && s->unsorted)
		sort_samples(ts, v, n);
	*tsout = ts;
	*vout = v;
	return 0;
}

/* Empties a series' head (its samples are in a segment now). */
static void head_reset(struct pane_store *st, struct series *s)
{
	st->hdead += s->hnblk;
	s->hlast = 0;
	s->hnblk = 0;
	s->unsorted = false;
	pane_hstream_init(&s->hs);
}

/* Writes blob to the partition file; *off gets its offset. */
static int part_append(struct pane_store *st, struct part *p, const struct pane_buf *blob, uint64_t *off,
		       struct pane_err *err)
{
	*off = p->size;
	int fd = part_fd(st, p);
	if (fd < 0 || write_all(fd, blob->data, blob->len) < 0)
		return pane_err_set(err, PANE_EIO, "store: cannot write a segment: %s", strerror(errno));
	p->size += blob->len;
	p->dirty = true;
	return 0;
}

/* The timestamp column of a segment, shared: series scraped together have
 * identical timestamps, so a column already in this partition (same hash,
 * same bytes) is referenced instead of written again. */
static int ts_column(struct pane_store *st, struct part *p, const struct pane_buf *blob, uint64_t *off,
		     struct pane_err *err)
{
	uint64_t h = pane_hash_bytes(blob->data, blob->len, 0x70616e65ull) >> 1;
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT off, len FROM \"t_%" PRId64 "\" WHERE hash = ?", p->day);
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return sql_fail(st, err, "timestamp columns");
	sqlite3_bind_int64(q, 1, (int64_t)h);
	bool found = false;
	if (sqlite3_step(q) == SQLITE_ROW && (size_t)sqlite3_column_int64(q, 1) == blob->len) {
		int64_t o = sqlite3_column_int64(q, 0);
		uint8_t *tmp = pane_xmalloc(blob->len);
		found = part_fd(st, p) >= 0 && pread(p->fd, tmp, blob->len, o) == (ssize_t)blob->len &&
			memcmp(tmp, blob->data, blob->len) == 0;
		free(tmp);
		if (found)
			*off = (uint64_t)o;
	}
	sqlite3_finalize(q);
	if (found) {
		st->c.ts_shared++;
		return 0;
	}
	int rc = part_append(st, p, blob, off, err);
	if (rc < 0)
		return rc;
	snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO \"t_%" PRId64 "\"(hash, off, len) VALUES (?, ?, ?)", p->day);
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return sql_fail(st, err, "timestamp columns");
	sqlite3_bind_int64(q, 1, (int64_t)h);
	sqlite3_bind_int64(q, 2, (int64_t)*off);
	sqlite3_bind_int64(q, 3, (int64_t)blob->len);
	rc = sqlite3_step(q) == SQLITE_DONE ? 0 : sql_fail(st, err, "timestamp columns");
	sqlite3_finalize(q);
	return rc;
}

/* ---------- downsampled tiers ----------
 * With each segment, per 5 min and per 1 h bucket: count, min, max, sum and
 * last (with its timestamp) of the non-stale samples, as seven columns in
 * one zstd blob, indexed in "a_<DAY>". Windows are aligned to both steps, so
 * a bucket is split only when out-of-order writes make a second segment for
 * a window; readers combine such partial buckets. */
static const int64_t tier_steps[] = {5 * 60 * 1000LL, 3600 * 1000LL};

struct bucket {
	int64_t t, last_ts;
	double count, min, max, sum, last;
};

static size_t make_buckets(const int64_t *ts, const double *v, size_t n, int64_t step, struct bucket *out)
{
	size_t nb = 0;
	for (size_t i = 0; i < n; i++) {
		if (pane_is_stale_nan(v[i]))
			continue;
		int64_t t = ts[i] / step * step - (ts[i] % step < 0 ? step : 0);
		if (!nb || out[nb - 1].t != t) {
			out[nb++] = (struct bucket){.t = t, .last_ts = ts[i], .count = 0, .min = v[i], .max = v[i],
						    .sum = 0, .last = v[i]};
		}
		struct bucket *b = &out[nb - 1];
		b->count += 1;
		if (v[i] < b->min || isnan(b->min))
			b->min = v[i];
		if (v[i] > b->max || isnan(b->max))
			b->max = v[i];
		b->sum += v[i];
		if (ts[i] >= b->last_ts) {
			b->last_ts = ts[i];
			b->last = v[i];
		}
	}
	return nb;
}

/* Combines b into a (same bucket). */
static void bucket_merge(struct bucket *a, const struct bucket *b)
{
	a->count += b->count;
	if (b->min < a->min || isnan(a->min))
		a->min = b->min;
	if (b->max > a->max || isnan(a->max))
		a->max = b->max;
	a->sum += b->sum;
	if (b->last_ts >= a->last_ts) {
		a->last_ts = b->last_ts;
		a->last = b->last;
	}
}

static void add_column(struct pane_buf *raw, struct pane_buf *col)
{
	uint8_t t[10];
	pane_buf_add(raw, t, pane_uvarint_put(t, col->len));
	pane_buf_add(raw, col->data, col->len);
	pane_buf_reset(col);
}

static int persist_tier(struct pane_store *st, struct part *p, uint32_t sid, int64_t step, const int64_t *ts,
			const double *v, size_t n, struct pane_err *err)
{
	struct bucket *b = pane_xmalloc(pane_mul_size(n ? n : 1, sizeof *b));
	size_t nb = make_buckets(ts, v, n, step, b);
	if (!nb) {
		free(b);
		return 0;
	}
	int64_t *t = pane_xmalloc(nb * sizeof *t);
	double *col = pane_xmalloc(nb * sizeof *col);
	struct pane_buf raw, one, blob;
	pane_buf_init(&raw, PANE_BUF_NOLIMIT);
	pane_buf_init(&one, PANE_BUF_NOLIMIT);
	pane_buf_init(&blob, PANE_BUF_NOLIMIT);
	for (size_t i = 0; i < nb; i++)
		t[i] = b[i].t;
	pane_column_encode_ts(t, nb, &one);
	add_column(&raw, &one);
	for (int c = 0; c < 6; c++) {
		for (size_t i = 0; i < nb; i++)
			col[i] = c == 0 ? b[i].count : c == 1 ? b[i].min : c == 2 ? b[i].max : c == 3 ? b[i].sum
				: c == 4 ? b[i].last : (double)(b[i].last_ts - b[i].t);
		/* small columns: a fixed choice is as good as measuring and much cheaper */
		pane_column_encode_values_as(col, nb, PANE_CODEC_DEC_D1, &one);
		add_column(&raw, &one);
	}
	pane_segment_pack(raw.data, raw.len, st->o.zstd_level, &blob);
	uint64_t off = 0;
	int rc = part_append(st, p, &blob, &off, err);
	sqlite3_stmt *q = NULL;
	if (!rc) {
		char sql[200];
		snprintf(sql, sizeof sql,
			 "INSERT INTO \"a_%" PRId64 "\"(sid, step, off, len, crc, mint, maxt) VALUES (?,?,?,?,?,?,?)",
			 p->day);
		if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
			rc = sql_fail(st, err, "tier index");
	}
	if (!rc) {
		sqlite3_bind_int64(q, 1, sid);
		sqlite3_bind_int64(q, 2, step);
		sqlite3_bind_int64(q, 3, (int64_t)off);
		sqlite3_bind_int64(q, 4, (int64_t)blob.len);
		sqlite3_bind_int64(q, 5, pane_crc32c(0, blob.data, blob.len));
		sqlite3_bind_int64(q, 6, b[0].t);
		sqlite3_bind_int64(q, 7, b[nb - 1].t);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = sql_fail(st, err, "tier index");
	}
	sqlite3_finalize(q);
	pane_buf_release(&raw);
	pane_buf_release(&one);
	pane_buf_release(&blob);
	free(t);
	free(col);
	free(b);
	return rc;
}

/* Persists the head as a segment: the samples sorted and re-encoded as one
 * timestamp column and one value column (zstd over a whole column
 * compresses far better than small chunks with the columns interleaved;
 * measured in bench/README.md), then empties the head. */
static int persist_head(struct pane_store *st, struct series *s, struct pane_err *err)
{
	if (!s->hs.n)
		return 0;
	int rc = begin(st, err);
	if (rc < 0)
		return rc;
	struct part *p = part_get(st, day_of(s->hwin * WINDOW_MS), true, err);
	if (!p)
		return err->code;
	int64_t *ts = NULL;
	double *v = NULL;
	size_t n = 0;
	struct pane_buf raw, tblob, vblob;
	pane_buf_init(&raw, PANE_BUF_NOLIMIT);
	pane_buf_init(&tblob, PANE_BUF_NOLIMIT);
	pane_buf_init(&vblob, PANE_BUF_NOLIMIT);
	sqlite3_stmt *ins = NULL, *up = NULL;
	uint64_t toff = 0, voff = 0;
	n = s->hs.n;
	if (n > PANE_CHUNK_MAX) {
		rc = pane_err_set(err, PANE_EIO, "store: the head of series %u is too long", s->id);
		goto out;
	}
	if ((rc = head_samples(st, s, true, &ts, &v, err)) < 0)
		goto out;
	pane_column_encode_ts(ts, n, &raw);
	pane_segment_pack(raw.data, raw.len, st->o.zstd_level, &tblob);
	pane_buf_reset(&raw);
	int codec = pane_column_encode_values(v, n, &raw);
	if (codec >= 0)
		count_codec(st, codec);
	pane_segment_pack(raw.data, raw.len, st->o.zstd_level, &vblob);
	if ((rc = ts_column(st, p, &tblob, &toff, err)) < 0 || (rc = part_append(st, p, &vblob, &voff, err)) < 0)
		goto out;
	char sql[256];
	snprintf(sql, sizeof sql,
		 "INSERT INTO \"s_%" PRId64 "\"(sid, off, mint, maxt, n, len, crc, toff, tlen, tcrc) "
		 "VALUES (?,?,?,?,?,?,?,?,?,?)",
		 p->day);
	if (sqlite3_prepare_v2(st->db, sql, -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "UPDATE series SET pseq = ? WHERE id = ?", -1, &up, NULL) != SQLITE_OK) {
		rc = sql_fail(st, err, "prepare");
		goto out;
	}
	sqlite3_bind_int64(ins, 1, s->id);
	sqlite3_bind_int64(ins, 2, (int64_t)voff);
	sqlite3_bind_int64(ins, 3, ts[0]);
	sqlite3_bind_int64(ins, 4, ts[n - 1]);
	sqlite3_bind_int64(ins, 5, (int64_t)n);
	sqlite3_bind_int64(ins, 6, (int64_t)vblob.len);
	sqlite3_bind_int64(ins, 7, pane_crc32c(0, vblob.data, vblob.len));
	sqlite3_bind_int64(ins, 8, (int64_t)toff);
	sqlite3_bind_int64(ins, 9, (int64_t)tblob.len);
	sqlite3_bind_int64(ins, 10, pane_crc32c(0, tblob.data, tblob.len));
	sqlite3_bind_int64(up, 1, (int64_t)s->hseq);
	sqlite3_bind_int64(up, 2, s->id);
	if (sqlite3_step(ins) != SQLITE_DONE || sqlite3_step(up) != SQLITE_DONE) {
		rc = sql_fail(st, err, "segment index");
		goto out;
	}
	for (size_t t = 0; t < sizeof tier_steps / sizeof tier_steps[0] && !rc; t++)
		if (st->o.tiers & (1u << t))
			rc = persist_tier(st, p, s->id, tier_steps[t], ts, v, n, err);
	if (rc < 0)
		goto out;
	s->pseq = s->hseq;
	st->c.segments++;
	head_reset(st, s);
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(up);
	pane_buf_release(&raw);
	pane_buf_release(&tblob);
	pane_buf_release(&vblob);
	free(ts);
	free(v);
	return rc;
}

/* Adds one sample to a series' head (sample already in the WAL). A head
 * that holds another window, or SEG_TARGET samples, is persisted first. */
static int head_add(struct pane_store *st, struct series *s, int64_t ts, double v, uint64_t seq,
		    struct pane_err *err)
{
	int64_t win = ts / WINDOW_MS - (ts % WINDOW_MS < 0);
	if (s->hs.n && (s->hwin != win || s->hs.n >= SEG_TARGET)) {
		int rc = persist_head(st, s, err);
		if (rc < 0)
			return rc;
	}
	if (!s->hs.n)
		s->hwin = win;
	else if (ts < s->hs.t)
		s->unsorted = true;
	if (pane_hstream_full(&s->hs)) {
		if (st->hblocks == UINT32_MAX)
			return pane_err_set(err, PANE_EIO, "store: the head file is full");
		head_take(st, s);
	}
	pane_hstream_append(&s->hs, ts, v);
	if (seq > s->hseq)
		s->hseq = seq;
	if (ts < s->mint)
		s->mint = ts;
	if (ts > s->maxt)
		s->maxt = ts;
	return 0;
}

/* ---------- opening, replay ---------- */

static int load_catalog(struct pane_store *st, struct pane_err *err)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT id, key, pseq FROM series ORDER BY id", -1, &q, NULL) != SQLITE_OK)
		return sql_fail(st, err, "read catalog");
	while (sqlite3_step(q) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(q, 0);
		const char *key = sqlite3_column_blob(q, 1);
		int kl = sqlite3_column_bytes(q, 1);
		struct series *s = series_make(id, key ? key : "", (size_t)kl);
		s->pseq = (uint64_t)sqlite3_column_int64(q, 2);
		if (s->pseq >= st->next_seq)
			st->next_seq = s->pseq + 1;
		series_register(st, s);
	}
	sqlite3_finalize(q);
	/* partitions and each series' time range */
	if (sqlite3_prepare_v2(st->db, "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 's\\_%' ESCAPE '\\'",
			       -1, &q, NULL) != SQLITE_OK)
		return sql_fail(st, err, "list partitions");
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
		if (!part_get(st, days[i], true, err)) {
			rc = err->code;
			break;
		}
		char sql[200];
		snprintf(sql, sizeof sql, "SELECT sid, min(mint), max(maxt) FROM \"s_%" PRId64 "\" GROUP BY sid", days[i]);
		if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
			rc = sql_fail(st, err, "read partition");
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
		return sql_fail(st, err, "prepare");
	sqlite3_bind_int64(q, 1, s->id);
	sqlite3_bind_blob(q, 2, s->key, (int)s->keylen, SQLITE_STATIC);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : sql_fail(st, err, "add series");
	sqlite3_finalize(q);
	return rc;
}

static int catalog_insert(struct pane_store *st, const struct series *s, struct pane_err *err)
{
	int rc = begin(st, err);
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

/* Applies one WAL record during replay. */
static int replay_record(struct pane_store *st, const uint8_t *p, size_t len, struct pane_err *err)
{
	if (len < 1)
		return PANE_EINVAL;
	size_t off = 1;
	uint64_t a, b;
	size_t k;
	if (p[0] == REC_SERIES) {
		if (!(k = pane_uvarint_get(p + off, len - off, &a)))
			return PANE_EINVAL;
		off += k;
		if (!(k = pane_uvarint_get(p + off, len - off, &b)) || b > len - off - k || a == 0 || a > UINT32_MAX)
			return PANE_EINVAL;
		off += k;
		if (a < st->nser && st->ser[a])
			return 0;
		if (by_key_get(st, p + off, (size_t)b))
			return PANE_EINVAL;
		struct series *s = series_make((uint32_t)a, (const char *)p + off, (size_t)b);
		series_register(st, s);
		return catalog_insert(st, s, err);
	}
	if (p[0] != REC_SAMPLES)
		return PANE_EINVAL;
	uint64_t seq;
	if (!(k = pane_uvarint_get(p + off, len - off, &seq)))
		return PANE_EINVAL;
	off += k;
	while (off < len) {
		uint64_t sid, zt;
		if (!(k = pane_uvarint_get(p + off, len - off, &sid)))
			return PANE_EINVAL;
		off += k;
		if (!(k = pane_uvarint_get(p + off, len - off, &zt)) || len - off - k < 8)
			return PANE_EINVAL;
		off += k;
		double v;
		memcpy(&v, p + off, 8);
		off += 8;
		if (sid >= st->nser || !st->ser[sid])
			return PANE_EINVAL;
		struct series *s = st->ser[sid];
		if (seq > s->pseq) {
			int rc = head_add(st, s, pane_unzigzag(zt), v, seq, err);
			if (rc < 0)
				return rc;
		}
		if (seq >= st->next_seq)
			st->next_seq = seq + 1;
		seq++;
	}
	return 0;
}

static int replay_wal(struct pane_store *st, const char *path, struct pane_err *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return pane_err_set(err, PANE_EIO, "store: cannot open %s: %s", path, strerror(errno));
	struct stat sb;
	fstat(fd, &sb);
	size_t size = (size_t)sb.st_size;
	uint8_t *data = pane_xmalloc(size + 1);
	size_t got = 0;
	while (got < size) {
		ssize_t r = pread(fd, data + got, size - got, (off_t)got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	size_t off = 0, good = 0;
	int rc = 0;
	const char *why = NULL;
	if (got >= 8 && memcmp(data, WAL_MAGIC, 8) == 0)
		off = good = 8;
	else if (got > 0)
		why = "bad header";
	while (!why && off < got) {
		if (got - off < 8) {
			why = "torn record header";
			break;
		}
		uint32_t len = 0, crc = 0;
		for (int i = 0; i < 4; i++) {
			len |= (uint32_t)data[off + (size_t)i] << (8 * i);
			crc |= (uint32_t)data[off + 4 + (size_t)i] << (8 * i);
		}
		if (len == 0 || len > WAL_REC_MAX || len > got - off - 8) {
			why = "torn record";
			break;
		}
		if (pane_crc32c(0, data + off + 8, len) != crc) {
			why = "checksum mismatch";
			break;
		}
		rc = replay_record(st, data + off + 8, len, err);
		if (rc == PANE_EINVAL) {
			why = "malformed record";
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		off += 8 + len;
		good = off;
	}
	free(data);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (why || good == 0) {
		if (why && got > good) {
			pane_warn("store", "WAL %s at byte %zu: cutting %zu bytes (a crash during a write; every "
					   "acknowledged batch before it is kept)",
				  why, good, got - good);
			st->c.wal_cut_bytes += got - good;
		}
		if (good == 0) {
			if (ftruncate(fd, 0) < 0 || pwrite(fd, WAL_MAGIC, 8, 0) != 8) {
				close(fd);
				return pane_err_set(err, PANE_EIO, "store: cannot reset the WAL: %s", strerror(errno));
			}
			good = 8;
		} else if (ftruncate(fd, (off_t)good) < 0) {
			close(fd);
			return pane_err_set(err, PANE_EIO, "store: cannot cut the WAL: %s", strerror(errno));
		}
		fdatasync(fd);
	}
	lseek(fd, 0, SEEK_END);
	st->wal_fd = fd;
	st->wal_size = good;
	st->c.wal_bytes = good;
	return 0;
}

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
	st->idseed = pane_random_u64();
	pane_map_init(&st->per_metric, NULL);
	pane_buf_init(&st->rec, PANE_BUF_NOLIMIT);
	st->ix = pane_index_new();
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
	/* a small page cache: catalog and index rows are read rarely, written
	 * in appends; the default 2 MiB was ~200 B per series at 10k series */
	if (exec(st, "PRAGMA journal_mode=WAL", err) < 0 || exec(st, "PRAGMA synchronous=NORMAL", err) < 0 ||
	    exec(st, "PRAGMA cache_size=-256", err) < 0 ||
	    exec(st, "CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, key BLOB NOT NULL, pseq INTEGER NOT NULL)",
		 err) < 0)
		goto fail;
	if (load_catalog(st, err) < 0)
		goto fail;
	/* the head file is rebuilt from the WAL */
	snprintf(path, sizeof path, "%s/head", st->dir);
	st->head_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (st->head_fd < 0) {
		pane_err_set(err, PANE_EIO, "store: cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof path, "%s/wal", st->dir);
	if (replay_wal(st, path, err) < 0 || commit(st, err) < 0)
		goto fail;
	head_flush(st);
	snprintf(path, sizeof path, "%s/logs.db", st->dir);
	st->logs = pane_logdb_open(path, err);
	if (!st->logs)
		goto fail;
	return st;
fail:
	pane_err_prefix(err, "cannot open the store in %s", o->dir);
	pane_store_close(st);
	return NULL;
}

/* ---------- writing ---------- */

static void wal_series_rec(struct pane_buf *walrec, const struct series *s)
{
	size_t start = walrec->len;
	rec_begin(walrec, REC_SERIES);
	rec_uv(walrec, s->id);
	rec_uv(walrec, s->keylen);
	pane_buf_add(walrec, s->key, s->keylen);
	rec_end(walrec, start);
}

static struct series *resolve(struct pane_store *st, const struct pane_sample *smp, struct pane_buf *key,
			      struct pane_buf *walrec, bool *rejected, struct pane_err *err)
{
	*rejected = false;
	if (sample_key(smp, key) < 0)
		return NULL;
	struct series *s = by_key_get(st, key->data, key->len);
	if (s && !s->unlogged)
		return s;
	if (s) {
		/* made by a batch whose WAL append failed (a full disk): log it now,
		 * or replay would meet samples of an unknown series */
		wal_series_rec(walrec, s);
		return s;
	}
	if (st->o.max_series > 0 && (int64_t)st->c.series >= st->o.max_series) {
		pane_log_limited(&st->lim, PANE_LOG_WARN, "store",
				 "series limit reached (%" PRId64 " series, store.max_series): new series of %s rejected",
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
	s = series_make(id, key->data, key->len);
	if (catalog_insert(st, s, err) < 0) {
		series_free(s);
		return NULL;
	}
	series_register(st, s);
	s->unlogged = true;
	wal_series_rec(walrec, s);
	return s;
}

static int checkpoint(struct pane_store *st, struct pane_err *err);

#define WRITE_BATCH_MAX 100000 /* samples per WAL record (keeps records far below WAL_REC_MAX) */

static int write_batch(struct pane_store *st, const struct pane_sample *smp, size_t n, size_t *accepted,
		       struct pane_err *err);

int pane_store_write(struct pane_store *st, const struct pane_sample *smp, size_t n, size_t *accepted,
		     struct pane_err *err)
{
	size_t total = 0;
	int rc = 0;
	for (size_t off = 0; off < n && rc == 0; off += WRITE_BATCH_MAX) {
		size_t part = 0, k = n - off < WRITE_BATCH_MAX ? n - off : WRITE_BATCH_MAX;
		rc = write_batch(st, smp + off, k, &part, err);
		total += part;
	}
	if (accepted)
		*accepted = total;
	return rc;
}

static int write_batch(struct pane_store *st, const struct pane_sample *smp, size_t n, size_t *accepted,
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
		} else {
			if (!smp[i].name || !pane_metric_name_valid(smp[i].name, strlen(smp[i].name))) {
				st->c.rejected_invalid++;
				continue;
			}
			s = resolve(st, &smp[i], &key, &series_recs, &rejected, err);
		}
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
	/* 2. one WAL append: new series, then the samples */
	pane_buf_reset(&st->rec);
	pane_buf_add(&st->rec, series_recs.data, series_recs.len);
	uint64_t seq0 = st->next_seq;
	if (ok) {
		size_t start = st->rec.len;
		rec_begin(&st->rec, REC_SAMPLES);
		rec_uv(&st->rec, seq0);
		for (size_t i = 0; i < n; i++) {
			if (!target[i])
				continue;
			rec_uv(&st->rec, target[i]->id);
			rec_uv(&st->rec, pane_zigzag(smp[i].ts_ms));
			pane_buf_add(&st->rec, &smp[i].value, 8);
		}
		rec_end(&st->rec, start);
	}
	if (st->rec.len && !st->o.no_wal) {
		rc = wal_append(st, st->rec.data, st->rec.len, err);
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
		rc = head_add(st, target[i], smp[i].ts_ms, smp[i].value, seq++, err);
		if (rc < 0)
			goto out;
	}
	st->next_seq = seq;
	head_flush(st);
	head_compact(st);
	st->c.samples += ok;
	if (st->st_samples)
		pane_stat_add(st->st_samples, (double)ok);
	if (st->st_series)
		pane_stat_set(st->st_series, (double)st->c.series);
	if (st->in_txn && st->o.fsync == PANE_FSYNC_BATCH)
		rc = sync_parts(st, err);
	if (!rc)
		rc = commit(st, err);
	if (!rc && (int64_t)st->wal_size > st->o.wal_max_bytes)
		rc = checkpoint(st, err);
out:
	if (rc < 0 && st->in_txn) {
		/* keep new series in the catalog even when the batch failed: they are
		 * registered in memory, and later WAL records may refer to them */
		struct pane_err e2 = {0};
		if (commit(st, &e2) < 0) {
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
	int rc = wal_sync(st, err);
	if (!rc)
		rc = commit(st, err);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int persist_all(struct pane_store *st, struct pane_err *err);

/* Rewrites the WAL to hold only what is not in segments (caller holds mu).
 * When that would itself be large (long heads, e.g. a huge import), the
 * heads are persisted first so checkpoints cannot repeat back to back. */
static int checkpoint(struct pane_store *st, struct pane_err *err)
{
	uint64_t unpersisted = 0;
	for (size_t id = 1; id < st->nser; id++)
		if (st->ser[id])
			unpersisted += st->ser[id]->hs.n;
	if ((int64_t)(unpersisted * 14) > st->o.wal_max_bytes / 2) {
		int prc = persist_all(st, err);
		if (prc < 0)
			return prc;
	}
	int rc = sync_parts(st, err);
	if (rc < 0)
		return rc;
	if (sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_FULL, NULL, NULL) != SQLITE_OK)
		pane_warn("store", "metrics.db checkpoint: %s", sqlite3_errmsg(st->db));
	char path[4096], tmp[4096];
	snprintf(path, sizeof path, "%s/wal", st->dir);
	snprintf(tmp, sizeof tmp, "%s/wal.tmp", st->dir);
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return pane_err_set(err, PANE_EIO, "store: cannot create %s: %s", tmp, strerror(errno));
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_add(&b, WAL_MAGIC, 8);
	uint64_t seq = st->next_seq;
	for (size_t id = 1; id < st->nser && rc == 0; id++) {
		struct series *s = st->ser[id];
		if (!s || !s->hs.n)
			continue;
		int64_t *ts;
		double *v;
		/* arrival order: replay appends them again as they came */
		if ((rc = head_samples(st, s, false, &ts, &v, err)) < 0)
			break;
		size_t start = b.len;
		rec_begin(&b, REC_SAMPLES);
		rec_uv(&b, seq);
		for (size_t i = 0; i < s->hs.n; i++) {
			rec_uv(&b, s->id);
			rec_uv(&b, pane_zigzag(ts[i]));
			pane_buf_add(&b, &v[i], 8);
			seq++;
		}
		rec_end(&b, start);
		/* the new seqs are above every pseq: the head's watermark follows them */
		s->hseq = seq - 1;
		free(ts);
		free(v);
	}
	if (!rc && (write_all(fd, b.data, b.len) < 0 || fdatasync(fd) < 0))
		rc = pane_err_set(err, PANE_EIO, "store: cannot write %s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, path) < 0)
		rc = pane_err_set(err, PANE_EIO, "store: cannot replace the WAL: %s", strerror(errno));
	if (rc) {
		close(fd);
		unlink(tmp);
		pane_buf_release(&b);
		return rc;
	}
	int dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	close(st->wal_fd);
	st->wal_fd = fd;
	lseek(fd, 0, SEEK_END);
	st->wal_size = b.len;
	st->c.wal_bytes = b.len;
	st->wal_unsynced = false;
	st->next_seq = seq;
	pane_buf_release(&b);
	return 0;
}

/* Persists every head (close, large checkpoints). */
static int persist_all(struct pane_store *st, struct pane_err *err)
{
	int rc = 0;
	for (size_t id = 1; id < st->nser && !rc; id++) {
		struct series *s = st->ser[id];
		if (!s)
			continue;
		rc = persist_head(st, s, err);
	}
	head_compact(st);
	if (!rc)
		rc = sync_parts(st, err);
	if (!rc)
		rc = commit(st, err);
	return rc;
}

/* ---------- retention ---------- */

static int drop_partition(struct pane_store *st, size_t i, struct pane_err *err)
{
	struct part p = st->parts[i];
	char sql[256], path[4096];
	snprintf(sql, sizeof sql,
		 "DROP TABLE IF EXISTS \"s_%" PRId64 "\"; DROP TABLE IF EXISTS \"t_%" PRId64
		 "\"; DROP TABLE IF EXISTS \"a_%" PRId64 "\"",
		 p.day, p.day, p.day);
	int rc = commit(st, err);
	if (!rc)
		rc = exec(st, sql, err);
	if (rc < 0)
		return rc;
	if (p.fd >= 0)
		close(p.fd);
	snprintf(path, sizeof path, "%s/chunks/d%" PRId64 ".seg", st->dir, p.day);
	unlink(path);
	st->parts[i] = st->parts[--st->nparts];
	st->c.partitions_dropped++;
	pane_info("store", "dropped the partition of day %" PRId64 " (retention)", p.day);
	return 0;
}

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
	int64_t today = day_of(now_ms);
	if (st->o.retention_ms > 0) {
		int64_t cutoff = now_ms - st->o.retention_ms;
		for (size_t i = 0; i < st->nparts && !rc;) {
			if ((st->parts[i].day + 1) * DAY_MS <= cutoff && st->parts[i].day < today)
				rc = drop_partition(st, i, err);
			else
				i++;
		}
	}
	while (!rc && st->o.retention_bytes > 0 && metrics_bytes(st) > st->o.retention_bytes) {
		size_t oldest = SIZE_MAX;
		for (size_t i = 0; i < st->nparts; i++)
			if (st->parts[i].day < today && (oldest == SIZE_MAX || st->parts[i].day < st->parts[oldest].day))
				oldest = i;
		if (oldest == SIZE_MAX)
			break;
		rc = drop_partition(st, oldest, err);
	}
	if (!rc)
		rc = wal_sync(st, err);
	if (!rc)
		rc = commit(st, err);
	if (!rc && (int64_t)st->wal_size > st->o.wal_max_bytes / 2)
		rc = checkpoint(st, err);
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
	if (st->db && st->wal_fd >= 0) {
		pthread_mutex_lock(&st->mu);
		if (persist_all(st, &err) < 0 || checkpoint(st, &err) < 0)
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
			pane_warn("store", "cannot truncate %s/head: %s (harmless: it is rebuilt on open)",
				 st->dir, strerror(errno));
		close(st->head_fd);
	}
	pane_buf_release(&st->hw);
	for (size_t i = 0; i < st->nparts; i++)
		if (st->parts[i].fd >= 0)
			close(st->parts[i].fd);
	free(st->parts);
	for (size_t i = 0; i < st->nser; i++)
		if (st->ser[i])
			series_free(st->ser[i]);
	free(st->ser);
	free(st->idtab);
	pane_map_release(&st->per_metric);
	pane_index_free(st->ix);
	pane_buf_release(&st->rec);
	pane_logdb_close(st->logs);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	pthread_mutex_destroy(&st->mu);
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
		pane_log_limited(&lim, PANE_LOG_WARN, "store", "skipped %zu metadata entries with a bad name or oversized help",
				 skipped);
	}
	return rc;
}

int pane_store_metadata(struct pane_store *st, const char *metric, size_t limit, struct pane_metadata **out,
			size_t *n, struct pane_err *err)
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

/* ---------- the reader ---------- */

struct set_impl {
	struct pane_series_set set;
	char **keys;      /* label strings copied per series */
	struct pane_label **lv;
	int64_t **ts;
	double **v;
};

static void set_free(struct pane_series_set *set)
{
	if (!set)
		return;
	struct set_impl *si = set->impl;
	for (size_t i = 0; i < set->n; i++) {
		free(si->keys[i]);
		free(si->lv[i]);
		free(si->ts[i]);
		free(si->v[i]);
	}
	free(si->keys);
	free(si->lv);
	free(si->ts);
	free(si->v);
	free(set->series);
	free(si);
}

struct collect {
	int64_t *ts;
	double *v;
	size_t n, cap;
	int64_t mint, maxt;
	size_t limit; /* 0: none; past it samples are dropped and over set */
	bool over;
};

/* Arrays start small and double: a query over many series with a sample
 * or two each (an instant query) costs bytes per series, not the 4 KiB a
 * first block of 256 did. */
static void collect_add(struct collect *c, int64_t t, double v)
{
	if (t < c->mint || t > c->maxt)
		return;
	if (c->limit && c->n >= c->limit) {
		c->over = true;
		return;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4;
		c->ts = pane_xrealloc(c->ts, pane_mul_size(c->cap, sizeof *c->ts));
		c->v = pane_xrealloc(c->v, pane_mul_size(c->cap, sizeof *c->v));
	}
	c->ts[c->n] = t;
	c->v[c->n] = v;
	c->n++;
}

/* Stable merge sort by timestamp, then keep the last write of each timestamp. */
static void sort_dedup(struct collect *c)
{
	bool sorted = true;
	for (size_t i = 1; i < c->n && sorted; i++)
		sorted = c->ts[i - 1] < c->ts[i];
	if (sorted)
		return;
	int64_t *t2 = pane_xmalloc(pane_mul_size(c->n, sizeof *t2));
	double *v2 = pane_xmalloc(pane_mul_size(c->n, sizeof *v2));
	for (size_t w = 1; w < c->n; w *= 2) {
		for (size_t lo = 0; lo < c->n; lo += 2 * w) {
			size_t mid = lo + w < c->n ? lo + w : c->n, hi = lo + 2 * w < c->n ? lo + 2 * w : c->n;
			size_t a = lo, b = mid, k = lo;
			while (a < mid || b < hi) {
				if (b >= hi || (a < mid && c->ts[a] <= c->ts[b])) {
					t2[k] = c->ts[a];
					v2[k++] = c->v[a++];
				} else {
					t2[k] = c->ts[b];
					v2[k++] = c->v[b++];
				}
			}
		}
		memcpy(c->ts, t2, c->n * sizeof *t2);
		memcpy(c->v, v2, c->n * sizeof *v2);
	}
	free(t2);
	free(v2);
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (k && c->ts[k - 1] == c->ts[i]) {
			c->v[k - 1] = c->v[i];
			continue;
		}
		c->ts[k] = c->ts[i];
		c->v[k++] = c->v[i];
	}
	c->n = k;
}

/* Reads, checks and unpacks one column blob, then decodes it. */
static bool read_column(struct pane_unpacker *u, int fd, int64_t off, int64_t len, uint32_t crc,
			struct pane_buf *scratch, int64_t *ts, double *v, size_t *n)
{
	if (len <= 0 || len > SEG_RAW_MAX)
		return false;
	uint8_t *blob = pane_xmalloc((size_t)len);
	bool good = pread(fd, blob, (size_t)len, off) == len && pane_crc32c(0, blob, (size_t)len) == crc;
	pane_buf_reset(scratch);
	size_t used;
	good = good && pane_segment_unpack_with(u, blob, (size_t)len, SEG_RAW_MAX, scratch) == 0 &&
	       pane_chunk_decode((const uint8_t *)scratch->data, scratch->len, ts, v, PANE_CHUNK_MAX, n, &used) == 0;
	free(blob);
	return good;
}

static bool read_column_raw(struct pane_unpacker *u, int fd, int64_t off, int64_t len, uint32_t crc,
			    struct pane_buf *scratch)
{
	if (len <= 0 || len > SEG_RAW_MAX)
		return false;
	uint8_t *blob = pane_xmalloc((size_t)len);
	bool good = pread(fd, blob, (size_t)len, off) == len && pane_crc32c(0, blob, (size_t)len) == crc;
	pane_buf_reset(scratch);
	good = good && pane_segment_unpack_with(u, blob, (size_t)len, SEG_RAW_MAX, scratch) == 0;
	free(blob);
	return good;
}

/* A query's cache of decoded timestamp columns (shared columns repeat
 * across series): direct-mapped by offset. */
#define TSC_SLOTS 64
struct ts_slot {
	int64_t day, off;
	size_t n;
	int64_t *ts;
};

struct ts_cache {
	struct ts_slot slot[TSC_SLOTS];
	struct pane_unpacker *u;
	int64_t *ts;     /* decode target */
	double *dummy;   /* scratch for the values of a timestamp column */
	int64_t *tdummy; /* scratch for the timestamps of a value column, and heads */
};

/* The decoded timestamp column at (day, off), or NULL when corrupt. */
static const struct ts_slot *ts_column_get(struct ts_cache *tc, int64_t day, int fd, int64_t off, int64_t len,
					   uint32_t crc, struct pane_buf *scratch)
{
	struct ts_slot *sl = &tc->slot[((uint64_t)off * 0x9E3779B97F4A7C15ull) >> 58];
	if (sl->ts && sl->day == day && sl->off == off)
		return sl;
	size_t n = 0;
	if (!read_column(tc->u, fd, off, len, crc, scratch, tc->ts, tc->dummy, &n))
		return NULL;
	sl->ts = pane_xrealloc(sl->ts, (n ? n : 1) * sizeof *sl->ts);
	memcpy(sl->ts, tc->ts, n * sizeof *sl->ts);
	sl->n = n;
	sl->day = day;
	sl->off = off;
	return sl;
}

/* A select works on a snapshot taken under the store's lock (the matched
 * series' labels and head bytes, the head file's blocks read under the
 * lock since compaction moves them) and then reads segments through
 * its own read-only SQLite connection and file descriptors, without the
 * lock: queries run in parallel with each other and with ingestion. A
 * segment persisted after the snapshot repeats samples the snapshot has;
 * the merge drops duplicate timestamps. */
struct snap {
	uint32_t id;
	uint16_t nl;
	uint32_t keylen, hn, hlen;
	char *key;
	uint8_t *hbytes; /* the head stream's bytes (hstream.h), hn samples */
};

struct rpart {
	int64_t day;
	int fd;
	sqlite3_stmt *q;
};

static void snap_release(struct snap *sn)
{
	free(sn->key);
	free(sn->hbytes);
}

/* Adds a snapshot's head samples to c (tbuf, vbuf: PANE_CHUNK_MAX each). */
static int collect_head(struct collect *c, const struct snap *sn, int64_t *tbuf, double *vbuf)
{
	if (!sn->hn)
		return 0;
	if (sn->hn > PANE_CHUNK_MAX || pane_hstream_decode(sn->hbytes, sn->hlen, sn->hn, tbuf, vbuf) < 0)
		return PANE_EIO;
	for (size_t i = 0; i < sn->hn; i++)
		collect_add(c, tbuf[i], vbuf[i]);
	return 0;
}

/* All samples of one snapshot series in [mint, maxt]. */
static int read_series(struct pane_store *st, struct rpart *rp, size_t nrp, const struct snap *sn, struct collect *c,
		       struct ts_cache *tc, double *vbuf, struct pane_buf *scratch, struct pane_err *err)
{
	for (size_t i = 0; i < nrp; i++) {
		sqlite3_stmt *q = rp[i].q;
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, sn->id);
		sqlite3_bind_int64(q, 2, c->mint);
		sqlite3_bind_int64(q, 3, c->maxt);
		while (sqlite3_step(q) == SQLITE_ROW) {
			int64_t off = sqlite3_column_int64(q, 0);
			size_t nv = 0;
			const struct ts_slot *sl =
				ts_column_get(tc, rp[i].day, rp[i].fd, sqlite3_column_int64(q, 3), sqlite3_column_int64(q, 4),
					      (uint32_t)sqlite3_column_int64(q, 5), scratch);
			bool good = sl && read_column(tc->u, rp[i].fd, off, sqlite3_column_int64(q, 1),
						      (uint32_t)sqlite3_column_int64(q, 2), scratch, tc->tdummy, vbuf, &nv) &&
				    nv == sl->n;
			if (!good) {
				pane_log_limited(&st->lim, PANE_LOG_ERROR, "store",
						 "segment of series %u at day %" PRId64 " offset %" PRId64
						 " is corrupt; skipped",
						 sn->id, rp[i].day, off);
				continue;
			}
			for (size_t k = 0; k < nv; k++)
				collect_add(c, sl->ts[k], vbuf[k]);
		}
	}
	if (collect_head(c, sn, tc->tdummy, vbuf) < 0)
		return pane_err_set(err, PANE_EIO, "store: the head of series %u does not decode", sn->id);
	sort_dedup(c);
	return 0;
}

static int cmp_series(const void *a, const void *b)
{
	return pane_labels_cmp(&((const struct pane_series *)a)->labels, &((const struct pane_series *)b)->labels);
}

static int match_range(struct pane_store *st, const struct pane_matcher *m, size_t nm, int64_t mint, int64_t maxt,
		       struct pane_bitmap *set, struct pane_err *err)
{
	int rc = pane_index_match(st->ix, m, nm, set, err);
	if (rc < 0)
		return rc;
	for (int64_t i = pane_bitmap_next(set, 1); i >= 0; i = pane_bitmap_next(set, (uint32_t)i + 1)) {
		struct series *s = (size_t)i < st->nser ? st->ser[i] : NULL;
		if (!s || s->maxt < mint || s->mint > maxt)
			pane_bitmap_clear_bit(set, (uint32_t)i);
	}
	return 0;
}

struct bucket_list {
	struct bucket *b;
	size_t n, cap;
};

static void blist_add(struct bucket_list *l, const struct bucket *b)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->b = pane_xrealloc(l->b, pane_mul_size(l->cap, sizeof *l->b));
	}
	l->b[l->n++] = *b;
}

static int cmp_bucket(const void *a, const void *b)
{
	int64_t x = ((const struct bucket *)a)->t, y = ((const struct bucket *)b)->t;
	return x < y ? -1 : x > y;
}

/* Decodes one tier blob's seven columns into buckets. */
static bool tier_decode(struct pane_unpacker *u, int fd, int64_t off, int64_t len, uint32_t crc,
			struct pane_buf *scratch, int64_t *tb, double *vb, struct bucket_list *out)
{
	size_t n = 0, nb = 0;
	if (!read_column_raw(u, fd, off, len, crc, scratch))
		return false;
	const uint8_t *p = (const uint8_t *)scratch->data;
	size_t rem = scratch->len, first = out->n;
	for (int c = 0; c < 7; c++) {
		uint64_t cl;
		size_t k = pane_uvarint_get(p, rem, &cl), used;
		if (!k || cl > rem - k)
			return false;
		p += k;
		rem -= k;
		double *vals = vb;
		if (pane_chunk_decode(p, (size_t)cl, tb, vals, PANE_CHUNK_MAX, &n, &used) < 0 || (c && n != nb))
			return false;
		if (c == 0) {
			nb = n;
			for (size_t i = 0; i < nb; i++)
				blist_add(out, &(struct bucket){.t = tb[i]});
		}
		for (size_t i = 0; c && i < nb; i++) {
			struct bucket *b = &out->b[first + i];
			switch (c) {
			case 1: b->count = vals[i]; break;
			case 2: b->min = vals[i]; break;
			case 3: b->max = vals[i]; break;
			case 4: b->sum = vals[i]; break;
			case 5: b->last = vals[i]; break;
			default: b->last_ts = b->t + (int64_t)vals[i]; break;
			}
		}
		p += cl;
		rem -= (size_t)cl;
	}
	return true;
}

static double bucket_value(const struct bucket *b, enum pane_tier_agg agg)
{
	switch (agg) {
	case PANE_AGG_MIN: return b->min;
	case PANE_AGG_MAX: return b->max;
	case PANE_AGG_SUM: return b->sum;
	case PANE_AGG_COUNT: return b->count;
	case PANE_AGG_LAST: return b->last;
	default: return b->count ? b->sum / b->count : NAN;
	}
}

/* The buckets of one snapshot series: tier rows + its in-memory samples. */
static int read_tier_series(struct pane_store *st, struct rpart *rp, size_t nrp, const struct snap *sn,
			    int64_t step, enum pane_tier_agg agg, struct collect *c, struct ts_cache *tc, double *vbuf,
			    struct pane_buf *scratch, struct pane_err *err)
{
	struct bucket_list l = {0};
	int64_t lo = c->mint / step * step - (c->mint % step < 0 ? step : 0);
	unsigned bit = step == tier_steps[0] ? 1u : 2u;
	if (!(st->o.tiers & bit)) {
		/* this tier is not stored: aggregate the raw samples (same answer, slower) */
		struct collect raw = {.mint = lo, .maxt = c->maxt};
		int rc = read_series(st, rp, nrp, sn, &raw, tc, vbuf, scratch, err);
		if (rc == 0 && raw.n) {
			struct bucket *b = pane_xmalloc(raw.n * sizeof *b);
			size_t nb = make_buckets(raw.ts, raw.v, raw.n, step, b);
			for (size_t i = 0; i < nb; i++)
				collect_add(c, b[i].t, bucket_value(&b[i], agg));
			free(b);
		}
		free(raw.ts);
		free(raw.v);
		return rc;
	}
	for (size_t i = 0; i < nrp; i++) {
		sqlite3_stmt *q = rp[i].q;
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, sn->id);
		sqlite3_bind_int64(q, 2, lo);
		sqlite3_bind_int64(q, 3, c->maxt);
		sqlite3_bind_int64(q, 4, step);
		while (sqlite3_step(q) == SQLITE_ROW) {
			if (!tier_decode(tc->u, rp[i].fd, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
					 (uint32_t)sqlite3_column_int64(q, 2), scratch, tc->tdummy, vbuf, &l))
				pane_log_limited(&st->lim, PANE_LOG_ERROR, "store",
						 "tier data of series %u at day %" PRId64 " is corrupt; skipped", sn->id,
						 rp[i].day);
		}
	}
	/* what is still in the head, aggregated now */
	struct collect raw = {.mint = lo, .maxt = c->maxt};
	if (collect_head(&raw, sn, tc->tdummy, vbuf) < 0) {
		free(raw.ts);
		free(raw.v);
		free(l.b);
		return pane_err_set(err, PANE_EIO, "store: the head of series %u does not decode", sn->id);
	}
	sort_dedup(&raw);
	if (raw.n) {
		struct bucket *b = pane_xmalloc(raw.n * sizeof *b);
		size_t nb = make_buckets(raw.ts, raw.v, raw.n, step, b);
		for (size_t i = 0; i < nb; i++)
			blist_add(&l, &b[i]);
		free(b);
	}
	free(raw.ts);
	free(raw.v);
	qsort(l.b, l.n, sizeof *l.b, cmp_bucket);
	for (size_t i = 0; i < l.n;) {
		struct bucket acc = l.b[i++];
		while (i < l.n && l.b[i].t == acc.t)
			bucket_merge(&acc, &l.b[i++]);
		if (acc.t >= lo && acc.t <= c->maxt) {
			/* collect_add filters by [mint, maxt]: widen to the bucket grid */
			int64_t keep = c->mint;
			c->mint = lo;
			collect_add(c, acc.t, bucket_value(&acc, agg));
			c->mint = keep;
		}
	}
	free(l.b);
	return 0;
}

static void *dup_bytes(const void *p, size_t n)
{
	void *d = pane_xmalloc(n ? n : 1);
	if (n)
		memcpy(d, p, n);
	return d;
}

static int select_impl(struct pane_store *st, const struct pane_matcher *m, size_t nm, int64_t mint, int64_t maxt,
		       size_t max_samples, int64_t step, enum pane_tier_agg agg, struct pane_series_set **out,
		       struct pane_err *err);

int pane_store_parse_tiers(const char *s, unsigned *mask)
{
	*mask = 0;
	if (strcmp(s, "none") == 0)
		return 0;
	const char *p = s;
	while (*p) {
		size_t n = strcspn(p, ", ");
		if (n == 2 && strncmp(p, "5m", 2) == 0)
			*mask |= PANE_TIER_5M;
		else if (n == 2 && strncmp(p, "1h", 2) == 0)
			*mask |= PANE_TIER_1H;
		else if (n)
			return PANE_EINVAL;
		p += n;
		p += strspn(p, ", ");
	}
	return 0;
}

static int r_select(void *ctx, const struct pane_matcher *m, size_t nm, int64_t mint, int64_t maxt, size_t max_samples,
		    struct pane_series_set **out, struct pane_err *err)
{
	return select_impl(ctx, m, nm, mint, maxt, max_samples, 0, PANE_AGG_LAST, out, err);
}

int pane_store_select_tier(struct pane_store *st, int64_t step, enum pane_tier_agg agg, const struct pane_matcher *m,
			   size_t nm, int64_t mint, int64_t maxt, size_t max_samples, struct pane_series_set **out,
			   struct pane_err *err)
{
	*out = NULL;
	if (step != tier_steps[0] && step != tier_steps[1])
		return pane_err_set(err, PANE_EINVAL, "no tier of step %" PRId64 " ms (there are 300000 and 3600000)",
				    step);
	if ((int)agg < PANE_AGG_MIN || agg > PANE_AGG_AVG)
		return pane_err_set(err, PANE_EINVAL, "unknown tier aggregate");
	return select_impl(st, m, nm, mint, maxt, max_samples, step, agg, out, err);
}

static int select_impl(struct pane_store *st, const struct pane_matcher *m, size_t nm, int64_t mint, int64_t maxt,
		       size_t max_samples, int64_t step, enum pane_tier_agg agg, struct pane_series_set **out,
		       struct pane_err *err)
{
	*out = NULL;
	if (step)
		mint = mint / step * step - (mint % step < 0 ? step : 0); /* whole buckets */
	struct pane_bitmap set;
	/* 1. the snapshot, under the lock */
	pthread_mutex_lock(&st->mu);
	int rc = match_range(st, m, nm, mint, maxt, &set, err);
	if (rc < 0) {
		pthread_mutex_unlock(&st->mu);
		return rc;
	}
	size_t cnt = 0;
	for (int64_t i = pane_bitmap_next(&set, 1); i >= 0; i = pane_bitmap_next(&set, (uint32_t)i + 1))
		cnt++;
	struct snap *sn = pane_xcalloc(cnt + 1, sizeof *sn);
	size_t k0 = 0;
	if (cnt > 16)
		head_map(st);
	for (int64_t i = pane_bitmap_next(&set, 1); i >= 0; i = pane_bitmap_next(&set, (uint32_t)i + 1)) {
		struct series *s = st->ser[i];
		struct snap *x = &sn[k0++];
		x->id = s->id;
		x->nl = s->nl;
		x->keylen = s->keylen;
		x->key = dup_bytes(s->key, s->keylen + 1);
		if (s->hs.n && !rc) {
			struct pane_buf hb;
			pane_buf_init(&hb, PANE_BUF_NOLIMIT);
			rc = head_bytes(st, s, &hb, err);
			x->hn = s->hs.n;
			x->hlen = (uint32_t)hb.len;
			x->hbytes = hb.cap ? (uint8_t *)hb.data : NULL; /* ownership moves to the snapshot */
		}
	}
	head_unmap(st);
	if (rc < 0) {
		pthread_mutex_unlock(&st->mu);
		pane_bitmap_release(&set);
		for (size_t i = 0; i < k0; i++)
			snap_release(&sn[i]);
		free(sn);
		return rc;
	}
	int64_t d0 = day_of(mint), d1 = day_of(maxt);
	struct rpart *rp = pane_xcalloc(st->nparts + 1, sizeof *rp);
	size_t nrp = 0;
	for (size_t i = 0; i < st->nparts; i++)
		if (st->parts[i].day >= d0 && st->parts[i].day <= d1)
			rp[nrp++] = (struct rpart){.day = st->parts[i].day, .fd = -1};
	pthread_mutex_unlock(&st->mu);
	pane_bitmap_release(&set);

	/* 2. segments, without the lock */
	sqlite3 *db = NULL;
	char path[4096];
	if (nrp && cnt) {
		snprintf(path, sizeof path, "%s/metrics.db", st->dir);
		if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
			rc = pane_err_set(err, PANE_EIO, "store: cannot open %s for reading: %s", path,
					  db ? sqlite3_errmsg(db) : "?");
			goto done;
		}
		sqlite3_busy_timeout(db, 5000);
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL); /* one consistent view for the whole select */
	}
	for (size_t i = 0; i < nrp && db; i++) {
		char sql[200];
		if (step && (st->o.tiers & (step == tier_steps[0] ? 1u : 2u)))
			snprintf(sql, sizeof sql,
				 "SELECT off, len, crc FROM \"a_%" PRId64
				 "\" WHERE sid = ?1 AND step = ?4 AND maxt >= ?2 AND mint <= ?3",
				 rp[i].day);
		else
			snprintf(sql, sizeof sql,
				 "SELECT off, len, crc, toff, tlen, tcrc FROM \"s_%" PRId64
				 "\" WHERE sid = ? AND maxt >= ? AND mint <= ? ORDER BY mint",
				 rp[i].day);
		snprintf(path, sizeof path, "%s/chunks/d%" PRId64 ".seg", st->dir, rp[i].day);
		/* a day dropped by retention meanwhile is simply skipped */
		if (sqlite3_prepare_v2(db, sql, -1, &rp[i].q, NULL) != SQLITE_OK ||
		    (rp[i].fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			sqlite3_finalize(rp[i].q);
			rp[i--] = rp[--nrp];
		}
	}
	struct set_impl *si = pane_xcalloc(1, sizeof *si);
	si->set.impl = si;
	si->set.free = set_free;
	si->set.series = pane_xcalloc(cnt + 1, sizeof *si->set.series);
	si->keys = pane_xcalloc(cnt + 1, sizeof *si->keys);
	si->lv = pane_xcalloc(cnt + 1, sizeof *si->lv);
	si->ts = pane_xcalloc(cnt + 1, sizeof *si->ts);
	si->v = pane_xcalloc(cnt + 1, sizeof *si->v);
	struct ts_cache tc = {.ts = pane_xmalloc(PANE_CHUNK_MAX * sizeof(int64_t)),
			      .dummy = pane_xmalloc(PANE_CHUNK_MAX * sizeof(double)),
			      .tdummy = pane_xmalloc(PANE_CHUNK_MAX * sizeof(int64_t)),
			      .u = pane_unpacker_new()};
	double *vbuf = pane_xmalloc(PANE_CHUNK_MAX * sizeof *vbuf);
	struct pane_buf scratch;
	pane_buf_init(&scratch, PANE_BUF_NOLIMIT);
	size_t total = 0;
	for (size_t i = 0; i < cnt && !rc; i++) {
		/* the samples still allowed are the most collected (twice that
		 * before duplicates of head and segments are merged): a series
		 * cannot allocate past max_samples before it is counted */
		size_t left = max_samples - total;
		struct collect c = {.mint = mint, .maxt = maxt,
				    .limit = max_samples && left < SIZE_MAX / 4 ? left * 2 + 64 : 0};
		rc = step ? read_tier_series(st, rp, nrp, &sn[i], step, agg, &c, &tc, vbuf, &scratch, err)
			  : read_series(st, rp, nrp, &sn[i], &c, &tc, vbuf, &scratch, err);
		if (rc < 0 || c.n == 0) {
			free(c.ts);
			free(c.v);
			continue;
		}
		total += c.n;
		if (c.over || (max_samples && total > max_samples)) {
			free(c.ts);
			free(c.v);
			rc = pane_err_set(err, PANE_ETOOBIG, "query would read more than %zu samples", max_samples);
			pane_err_detail(err, "narrow the selector or the time range");
			break;
		}
		size_t k = si->set.n++;
		si->keys[k] = sn[i].key; /* ownership moves to the set */
		sn[i].key = NULL;
		si->lv[k] = pane_xcalloc(sn[i].nl ? sn[i].nl : 1, sizeof *si->lv[k]);
		const char *p = si->keys[k];
		for (size_t j = 0; j < sn[i].nl; j++) {
			si->lv[k][j].name = p;
			p += strlen(p) + 1;
			si->lv[k][j].value = p;
			p += strlen(p) + 1;
		}
		if (c.cap > c.n + 4) { /* give back what doubling left over */
			c.ts = pane_xrealloc(c.ts, c.n * sizeof *c.ts);
			c.v = pane_xrealloc(c.v, c.n * sizeof *c.v);
		}
		si->ts[k] = c.ts;
		si->v[k] = c.v;
		struct pane_series *ps = &si->set.series[k];
		ps->labels.v = si->lv[k];
		ps->labels.n = ps->labels.cap = sn[i].nl;
		ps->labels.owned = false;
		ps->ts = c.ts;
		ps->values = c.v;
		ps->n = c.n;
	}
	pane_buf_release(&scratch);
	free(tc.ts);
	free(tc.dummy);
	free(tc.tdummy);
	for (size_t i = 0; i < TSC_SLOTS; i++)
		free(tc.slot[i].ts);
	pane_unpacker_free(tc.u);
	free(vbuf);
	if (rc < 0)
		set_free(&si->set);
	else {
		qsort(si->set.series, si->set.n, sizeof *si->set.series, cmp_series);
		*out = &si->set;
	}
done:
	for (size_t i = 0; i < nrp; i++) {
		sqlite3_finalize(rp[i].q);
		if (rp[i].fd >= 0)
			close(rp[i].fd);
	}
	free(rp);
	if (db) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	for (size_t i = 0; i < cnt; i++)
		snap_release(&sn[i]);
	free(sn);
	return rc;
}

static int r_label_names(void *ctx, const struct pane_matcher *m, size_t nm, int64_t mint, int64_t maxt, char ***names,
			 size_t *n, struct pane_err *err)
{
	struct pane_store *st = ctx;
	struct pane_bitmap set;
	pthread_mutex_lock(&st->mu);
	int rc = match_range(st, m, nm, mint, maxt, &set, err);
	if (!rc) {
		pane_index_names(st->ix, &set, names, n);
		pane_bitmap_release(&set);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int r_label_values(void *ctx, const char *name, const struct pane_matcher *m, size_t nm, int64_t mint,
			  int64_t maxt, char ***values, size_t *n, struct pane_err *err)
{
	struct pane_store *st = ctx;
	struct pane_bitmap set;
	pthread_mutex_lock(&st->mu);
	int rc = match_range(st, m, nm, mint, maxt, &set, err);
	if (!rc) {
		pane_index_values(st->ix, name, &set, values, n);
		pane_bitmap_release(&set);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int r_metadata(void *ctx, const char *metric, size_t limit, struct pane_metadata **out, size_t *n,
		      struct pane_err *err)
{
	return pane_store_metadata(ctx, metric, limit, out, n, err);
}

static const struct pane_reader_ops reader_ops = {
	.select = r_select,
	.label_names = r_label_names,
	.label_values = r_label_values,
	.metadata = r_metadata,
};

struct pane_reader pane_store_reader(struct pane_store *st)
{
	struct pane_reader r = {&reader_ops, st};
	return r;
}
