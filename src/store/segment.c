/*
 * segment.c - partitions (one file per UTC day) and persisting a head as
 * a segment.
 *
 * Idea: a segment is one series' window re-encoded as a timestamp column
 * and a value column (codec.h), each zstd-packed and appended to the day's
 * file chunks/d<DAY>.seg, indexed by one row of "s_<DAY>" in metrics.db.
 * Series scraped together have identical timestamp columns: a column
 * already in the day (same hash, same bytes) is referenced through
 * "t_<DAY>" instead of written again (the table is made with the day's
 * first stored column: evenly spaced ones are not stored, so most days
 * have none). The segment's tier blobs follow its value blob as one
 * region, indexed by the same row (alen, acrc; tiers.c). Flat files rather than SQLite rows,
 * because rows of a few hundred bytes to a few KB leave pages partly
 * empty (+23%, bench/README.md). Retention drops a day whole.
 *
 * Invariants:
 *   (1) Partition files are only appended to; a blob's offset and length
 *       are in its index row with a CRC, so a torn append is never read.
 *   (2) A series' segment row (with its tier region, or its a_ rows in a
 *       legacy day) and its pseq move in one transaction (the caller
 *       commits); the head is emptied only after all of them succeed.
 *   (3) At most MAX_OPEN_PARTS files are open; one closed to make room is
 *       fdatasync'ed first when written.
 *
 * Thread context: caller holds st->mu.
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

bool ps_legacy_days;

int ps_day_folded(sqlite3 *db, int64_t day)
{
	char name[40];
	snprintf(name, sizeof name, "s_%" PRId64, day);
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info(?) WHERE name = 'alen'", -1, &q, NULL) !=
	    SQLITE_OK)
		return PANE_EIO;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) > 0 : PANE_EIO;
	sqlite3_finalize(q);
	return rc;
}

/* The index tables of a day. A day made by an earlier pane keeps its layout
 * (legacy: s_ rows without alen, acrc; tier blobs indexed by a_ rows), and
 * so does what is written into it later (out of order, a backfill): such a
 * day is read as it always was, by this pane and by the one that made it,
 * and every day has one layout, so a reader runs one query a day. The
 * alternative, ALTER TABLE ... ADD COLUMN alen when an old day is opened
 * for writing, is cheap too (a schema change, no row rewritten) but leaves
 * days of both layouts at once, read with a UNION, and their newest
 * segments without tiers for the pane that wrote the rest. Legacy days
 * age out with retention. alen and acrc default to 0 so that an earlier
 * pane (a downgrade) can still add segments to a new day; their tiers,
 * in a_ rows, are not read here (their samples are). */
static int part_tables(struct pane_store *st, int64_t day, bool *legacy, struct pane_err *err)
{
	char sql[800];
	if (ps_legacy_days)
		snprintf(sql, sizeof sql,
		         "CREATE TABLE IF NOT EXISTS \"s_%" PRId64 "\"(sid INTEGER NOT NULL, off INTEGER NOT NULL, "
		         "mint INTEGER NOT NULL, maxt INTEGER NOT NULL, n INTEGER NOT NULL, len INTEGER NOT NULL, "
		         "crc INTEGER NOT NULL, toff INTEGER NOT NULL, tlen INTEGER NOT NULL, tcrc INTEGER NOT NULL, "
		         "PRIMARY KEY(sid, off)) WITHOUT ROWID;"
		         "CREATE TABLE IF NOT EXISTS \"t_%" PRId64 "\"(hash INTEGER PRIMARY KEY, off INTEGER NOT NULL, "
		         "len INTEGER NOT NULL)",
		         day, day);
	else
		snprintf(sql, sizeof sql,
		         "CREATE TABLE IF NOT EXISTS \"s_%" PRId64 "\"(sid INTEGER NOT NULL, off INTEGER NOT NULL, "
		         "mint INTEGER NOT NULL, maxt INTEGER NOT NULL, n INTEGER NOT NULL, len INTEGER NOT NULL, "
		         "crc INTEGER NOT NULL, toff INTEGER NOT NULL, tlen INTEGER NOT NULL, tcrc INTEGER NOT NULL, "
		         "alen INTEGER NOT NULL DEFAULT 0, acrc INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(sid, off)) "
		         "WITHOUT ROWID",
		         day);
	int rc = ps_sql_exec(st, sql, err);
	if (rc < 0)
		return rc;
	int folded = ps_day_folded(st->db, day);
	if (folded < 0)
		return ps_sql_fail(st, err, "partition layout");
	*legacy = !folded;
	if (!*legacy)
		return 0;
	/* as an earlier pane made it (a day older still, from before tiers, has none) */
	snprintf(sql, sizeof sql,
	         "CREATE TABLE IF NOT EXISTS \"a_%" PRId64 "\"(sid INTEGER NOT NULL, step INTEGER NOT NULL, "
	         "off INTEGER NOT NULL, len INTEGER NOT NULL, crc INTEGER NOT NULL, mint INTEGER NOT NULL, "
	         "maxt INTEGER NOT NULL, PRIMARY KEY(sid, step, off)) WITHOUT ROWID",
	         day);
	return ps_sql_exec(st, sql, err);
}

struct part *ps_part_get(struct pane_store *st, int64_t day, bool create, struct pane_err *err)
{
	for (size_t i = 0; i < st->nparts; i++)
		if (st->parts[i].day == day)
			return &st->parts[i];
	if (!create)
		return NULL;
	char path[4096];
	snprintf(path, sizeof path, "%s/chunks/d%" PRId64 ".seg", st->dir, day);
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		pane_err_set(err, PANE_EIO, "store: cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat sb;
	fstat(fd, &sb);
	close(fd); /* opened again on demand (part_fd) */
	bool legacy = false;
	if (part_tables(st, day, &legacy, err) < 0)
		return NULL;
	st->parts = pane_xrealloc(st->parts, pane_mul_size(st->nparts + 1, sizeof *st->parts));
	struct part *p = &st->parts[st->nparts++];
	p->day = day;
	p->fd = -1;
	p->size = (uint64_t)sb.st_size;
	p->dirty = false;
	p->legacy = legacy;
	return p;
}

#define MAX_OPEN_PARTS 32

/* The partition file's descriptor, opened on demand. At most MAX_OPEN_PARTS
 * stay open (years of imported history would otherwise exhaust descriptors);
 * a file closed to make room is fdatasync'ed first when it was written. */
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

int ps_sync_parts(struct pane_store *st, struct pane_err *err)
{
	for (size_t i = 0; i < st->nparts; i++) {
		if (st->parts[i].dirty && st->parts[i].fd >= 0 && fdatasync(st->parts[i].fd) < 0)
			return pane_err_set(err, PANE_EIO, "store: fsync of a partition failed: %s", strerror(errno));
		st->parts[i].dirty = false;
	}
	return 0;
}

/* Writes blob to the partition file; *off gets its offset. */
int ps_part_append(struct pane_store *st, struct part *p, const struct pane_buf *blob, uint64_t *off,
                   struct pane_err *err)
{
	*off = p->size;
	int fd = part_fd(st, p);
	if (fd < 0 || ps_write_all(fd, blob->data, blob->len) < 0)
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
	int rc;
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
		/* no t_ yet: it is made with the day's first stored column (most
		 * days have none, every column evenly spaced); a failure for any
		 * other reason only costs this column its sharing */
		snprintf(sql, sizeof sql,
		         "CREATE TABLE IF NOT EXISTS \"t_%" PRId64 "\"(hash INTEGER PRIMARY KEY, off INTEGER NOT NULL, "
		         "len INTEGER NOT NULL)",
		         p->day);
		if ((rc = ps_sql_exec(st, sql, err)) < 0)
			return rc;
	}
	bool found = false;
	if (q && sqlite3_bind_int64(q, 1, (int64_t)h) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW &&
	    (size_t)sqlite3_column_int64(q, 1) == blob->len) {
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
	rc = ps_part_append(st, p, blob, off, err);
	if (rc < 0)
		return rc;
	snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO \"t_%" PRId64 "\"(hash, off, len) VALUES (?, ?, ?)", p->day);
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return ps_sql_fail(st, err, "timestamp columns");
	sqlite3_bind_int64(q, 1, (int64_t)h);
	sqlite3_bind_int64(q, 2, (int64_t)*off);
	sqlite3_bind_int64(q, 3, (int64_t)blob->len);
	rc = sqlite3_step(q) == SQLITE_DONE ? 0 : ps_sql_fail(st, err, "timestamp columns");
	sqlite3_finalize(q);
	return rc;
}

/* Whether ts[0..n) (ascending) step evenly from ts[0] to ts[n-1]: such a
 * column is not stored at all (tlen 0 in its s_ row); readers rebuild it
 * from the row's mint, maxt and n (select.c, ts_regular). */
bool ps_ts_regular(const int64_t *ts, size_t n)
{
	if (n < 3)
		return true;
	int64_t d = ts[1] - ts[0];
	for (size_t i = 2; i < n; i++)
		if (ts[i] - ts[i - 1] != d)
			return false;
	return true;
}

static void count_codec(struct pane_store *st, int codec)
{
	if (codec == PANE_CODEC_XOR || codec == PANE_CODEC_F64_ANS)
		st->c.chunks_xor++;
	else if (codec == PANE_CODEC_CONST)
		st->c.chunks_const++;
	else
		st->c.chunks_dec++;
}

/* Persists head h of series s as a segment: the samples sorted and
 * re-encoded as one timestamp column and one value column (zstd over a
 * whole column compresses far better than small chunks with the columns
 * interleaved; measured in bench/README.md), then empties the head. The
 * series' watermark becomes h's highest seq: so the frozen head, whose
 * seqs are all below the current head's, goes first (ps_persist_series). */
static int persist_one(struct pane_store *st, struct series *ser, struct head *s, struct pane_err *err)
{
	if (!s->hs.n)
		return 0;
	int rc = ps_txn_begin(st, err);
	if (rc < 0)
		return rc;
	struct part *p = ps_part_get(st, ps_day_of(s->win * WINDOW_MS), true, err);
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
		rc = pane_err_set(err, PANE_EIO, "store: the head of series %u is too long", ser->id);
		goto out;
	}
	if ((rc = ps_head_samples(st, ser->id, s, true, &ts, &v, err)) < 0)
		goto out;
	bool regular = ps_ts_regular(ts, n);
	if (!regular) {
		pane_column_encode_ts(ts, n, &raw);
		pane_segment_pack(raw.data, raw.len, st->o.zstd_level, &tblob);
		pane_buf_reset(&raw);
	}
	int codec = pane_column_encode_values(v, n, &raw);
	if (codec >= 0)
		count_codec(st, codec);
	pane_segment_pack(raw.data, raw.len, st->o.zstd_level, &vblob);
	/* the tier region right after the value blob, written with it */
	size_t vlen = vblob.len;
	if (!p->legacy && (rc = ps_tier_region(ts, v, n, st->o.tiers, st->o.zstd_level, &vblob)) != 0) {
		rc = pane_err_set(err, rc, "store: tier of series %u does not encode", ser->id);
		goto out;
	}
	size_t alen = vblob.len - vlen;
	if (alen > vlen) {
		/* a region larger than the samples it sums up (a constant, a
		 * counter that steps evenly) saves a reader nothing: none is kept,
		 * and a tier read aggregates the samples (select.c) */
		pane_buf_truncate(&vblob, vlen);
		alen = 0;
	}
	if ((!regular && (rc = ts_column(st, p, &tblob, &toff, err)) < 0) ||
	    (rc = ps_part_append(st, p, &vblob, &voff, err)) < 0)
		goto out;
	if (regular)
		st->c.ts_regular++;
	char sql[256];
	snprintf(sql, sizeof sql,
	         p->legacy ? "INSERT INTO \"s_%" PRId64 "\"(sid, off, mint, maxt, n, len, crc, toff, tlen, tcrc) "
	                     "VALUES (?,?,?,?,?,?,?,?,?,?)"
	                   : "INSERT INTO \"s_%" PRId64 "\"(sid, off, mint, maxt, n, len, crc, toff, tlen, tcrc, "
	                     "alen, acrc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
	         p->day);
	if (sqlite3_prepare_v2(st->db, sql, -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "UPDATE series SET pseq = ? WHERE id = ?", -1, &up, NULL) != SQLITE_OK) {
		rc = ps_sql_fail(st, err, "prepare");
		goto out;
	}
	sqlite3_bind_int64(ins, 1, ser->id);
	sqlite3_bind_int64(ins, 2, (int64_t)voff);
	sqlite3_bind_int64(ins, 3, ts[0]);
	sqlite3_bind_int64(ins, 4, ts[n - 1]);
	sqlite3_bind_int64(ins, 5, (int64_t)n);
	sqlite3_bind_int64(ins, 6, (int64_t)vlen);
	sqlite3_bind_int64(ins, 7, ps_crc_col(pane_crc32c(0, vblob.data, vlen)));
	sqlite3_bind_int64(ins, 8, (int64_t)toff);
	sqlite3_bind_int64(ins, 9, (int64_t)tblob.len); /* 0: regular, no column (ps_ts_regular) */
	sqlite3_bind_int64(ins, 10, regular ? 0 : ps_crc_col(pane_crc32c(0, tblob.data, tblob.len)));
	if (!p->legacy) {
		/* alen 0: no region (no tier stored, no bucket, or larger than the values) */
		sqlite3_bind_int64(ins, 11, (int64_t)alen);
		sqlite3_bind_int64(ins, 12, alen ? ps_crc_col(pane_crc32c(0, vblob.data + vlen, alen)) : 0);
	}
	sqlite3_bind_int64(up, 1, (int64_t)s->seq);
	sqlite3_bind_int64(up, 2, ser->id);
	if (sqlite3_step(ins) != SQLITE_DONE || sqlite3_step(up) != SQLITE_DONE) {
		rc = ps_sql_fail(st, err, "segment index");
		goto out;
	}
	for (size_t t = 0; t < sizeof ps_tier_steps / sizeof ps_tier_steps[0] && !rc && p->legacy; t++)
		if (st->o.tiers & (1u << t))
			rc = ps_persist_tier(st, p, ser->id, ps_tier_steps[t], ts, v, n, err);
	if (rc < 0)
		goto out;
	ser->pseq = s->seq;
	st->c.segments++;
	ps_head_reset(st, s);
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

/* Persists s's frozen head, if any, and frees it. */
int ps_persist_frozen(struct pane_store *st, struct series *s, struct pane_err *err)
{
	if (!s->fz)
		return 0;
	int rc = persist_one(st, s, s->fz, err);
	if (rc < 0)
		return rc;
	free(s->fz);
	s->fz = NULL;
	return 0;
}

/* Persists both heads of s, the frozen one first (see persist_one). */
int ps_persist_series(struct pane_store *st, struct series *s, struct pane_err *err)
{
	int rc = ps_persist_frozen(st, s, err);
	return rc < 0 ? rc : persist_one(st, s, &s->h, err);
}

int ps_drop_partition(struct pane_store *st, size_t i, struct pane_err *err)
{
	struct part p = st->parts[i];
	char sql[256], path[4096];
	snprintf(sql, sizeof sql,
	         "DROP TABLE IF EXISTS \"s_%" PRId64 "\"; DROP TABLE IF EXISTS \"t_%" PRId64
	         "\"; DROP TABLE IF EXISTS \"a_%" PRId64 "\"",
	         p.day, p.day, p.day);
	/* idle readers let go of their statements and files first; a reader in
	 * use does at its return (parts_gen) and meanwhile skips the day */
	st->parts_gen++;
	ps_readers_forget_days(st);
	int rc = ps_txn_commit(st, err);
	if (!rc)
		rc = ps_sql_exec(st, sql, err);
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
