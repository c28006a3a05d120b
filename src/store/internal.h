/*
 * internal.h - what the files of the metrics store share (internal to src/store).
 *
 * Idea: a sample's life is WAL -> head -> segment.
 *   - Every accepted batch is one CRC-checked WAL record written with one
 *     write(2) before the call returns (kill -9 safe; fdatasync per policy).
 *     Each sample gets a global sequence number (seq) in WAL order.
 *   - Per series, a *head*: every sample of its current 24 h window not yet
 *     in a segment, encoded as it arrives into one bit stream (hstream.h,
 *     ~3 B per sample). Out-of-order samples are appended as they come
 *     (the series is flagged unsorted) and sorted, stably, when decoded.
 *     Only the stream's tail stays in memory: each full block of it goes
 *     to the head file (DATA_DIR/store/head, see head.c),
 *     which is truncated on open and rebuilt by WAL replay. It holds
 *     nothing the WAL does not, so it is never fsync'ed and a kill -9
 *     loses nothing.
 *   - When the series moves to the next aligned 24 h window (or the head
 *     holds SEG_TARGET samples), the write only *freezes* the head (moves
 *     the struct aside, O(1)) and queues it; the store's housekeeping
 *     thread persists frozen heads a few at a time, taking the lock per
 *     batch, so a roll of every series at once costs writers no more than
 *     one batch's wait (bench/store_roll_bench.c). A second roll before
 *     housekeeping got to the first (a backfill) persists inline. On close
 *     and in checkpoints every head is persisted.
 *   - Persisting a head makes it a *segment*: re-encoded as one timestamp
 *     column and one value column (codec.h), each zstd-packed and appended
 *     to the day's partition file chunks/d<DAY>.seg, and indexed by one row in
 *     metrics.db table "s_<DAY>". A timestamp column identical to one
 *     already in the day (series scraped together) is referenced through
 *     "t_<DAY>" instead of written again. Its downsampled tiers follow
 *     its value column in the file, indexed by the same row (tiers.c).
 *     The series' watermark pseq
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
 * The files (each states its own invariants too):
 *   store.c    open, close, the write path, housekeeping, retention, the sink
 *   catalog.c  SQLite helpers, series and their catalog rows, series by key
 *   wal.c      WAL records, append, replay, checkpoint
 *   head.c     heads: the head file, freezing at a window roll
 *   segment.c  partitions (day files) and persisting a head as a segment
 *   tiers.c    downsampled buckets: made, stored with a segment, decoded
 *   select.c   the reader: snapshot under the lock, segments without it
 *
 * Invariants (every file relies on them and keeps them):
 *   (1) A series' samples with seq <= pseq are in segments; those above are
 *       in its frozen head and head (or in the WAL after a crash); every seq
 *       in the frozen head is below every seq in the head, so the frozen
 *       head is always persisted first.
 *   (2) Everything in struct pane_store is guarded by st->mu; a select
 *       holds it only to snapshot, then reads segments on its own.
 *   (3) A head (and a frozen head) holds samples of one window only (a UTC
 *       day, the partition), at most SEG_TARGET of them.
 *   (4) A head is its hnblk blocks in the head file (a chain from
 *       hlast backwards, each block naming its predecessor), then hs.tail;
 *       blocks are never rewritten in place, only moved whole by compaction.
 *   (5) Writes append to the WAL and to heads only: persisting, head-file
 *       compaction and checkpoints run on the housekeeping thread (or in
 *       close, maintain and pane_store_housekeep), except the inline
 *       persist at a second roll (see above).
 */
#ifndef PANE_STORE_INTERNAL_H
#define PANE_STORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/map.h"
#include "store/bufpool.h"
#include "store/codec.h"
#include "store/hstream.h"
#include "store/index.h"
#include "store/logs.h"
#include "store/store.h"

#define SEG_TARGET PANE_CHUNK_MAX /* samples; normally the window ends a segment first */
/* A segment holds one aligned window of a series: a UTC day (24 h rather
 * than 12 or 6). Fewer, longer segments amortise each chunk's frequency
 * table, rANS state, index row and tier region (bench/README.md "Fifth
 * pass", "Sixth pass"); a query of recent samples decodes a head from an
 * anchor, not whole. */
#define WINDOW_MS PANE_STORE_WINDOW_MS
#define DAY_MS 86400000LL
#define WAL_MAGIC "PANEWAL1"
#define WAL_REC_MAX (64u << 20)
#define SEG_RAW_MAX (8u << 20)
#define HANC 30                         /* a head-file block's anchor (hstream.h), serialized */
#define HPAY (4 + HANC)                 /* where a head-file block's stream bytes start */
#define HBLK (4 + HANC + PANE_HS_BLOCK) /* head-file block: index + 1 of the previous block, anchor, stream bytes */
#define HW_MAX (64u << 10)              /* head-file blocks buffered before one write */
#define HCOMPACT_MIN 4096               /* dead head-file blocks before compaction is considered */
#define SAMPLES_BLOCK (1u << 20)        /* bytes per block of st->samples */
#define SAMPLES_KEEP (32u << 20)        /* bytes of idle blocks st->samples keeps (RSS that stays) */

/* WAL record types (wal.c). REC_HEAD (since store format 3): a head as its
 * encoded stream, what a checkpoint writes. */
enum { REC_SERIES = 1, REC_SAMPLES = 2, REC_HEAD = 3 };

/* A head: samples of one window not in a segment yet. */
struct head {
	uint32_t hnblk; /* blocks taken out of the stream (in the head file) */
	uint32_t hlast; /* index + 1 of the last of them, 0 = none */
	int64_t win;    /* window (ts / WINDOW_MS) */
	uint64_t seq;   /* highest seq in it */
	bool unsorted;  /* a sample is older than one appended before it */
	struct pane_hstream hs;
};

struct series {
	uint32_t id;
	uint32_t keylen;
	char *key; /* "name\0value\0" pairs, sorted, __name__ included */
	uint16_t nl;
	bool unlogged;      /* its REC_SERIES is not in the WAL yet (the batch that made it failed) */
	bool queued;        /* its id is in st->frozen */
	uint64_t pseq;      /* highest seq in segments */
	int64_t mint, maxt; /* of everything stored */
	struct head h;      /* the head: samples of the current window */
	struct head *fz;    /* the previous window's head, frozen until housekeeping persists it; or NULL */
};

struct part {
	int64_t day;
	int fd;
	uint64_t size;
	bool dirty;  /* written since the last fsync */
	bool legacy; /* made by an earlier pane: tier blobs indexed by "a_<DAY>" rows (segment.c) */
};

struct pane_store {
	struct pane_store_opts o;
	char *dir;
	pthread_mutex_t mu;
	/* catalog.c: metrics.db, the series and their lookup */
	sqlite3 *db;
	bool in_txn;
	uint32_t *cat_new;           /* series added to the catalog in the open transaction */
	size_t ncat_new, capcat_new; /* (kept until a COMMIT succeeds) */
	bool cat_redo;               /* a COMMIT failed: add cat_new again in the next transaction */
	int lock_fd;                 /* flock'ed: one process per store directory */
	/* wal.c */
	int wal_fd;
	uint64_t wal_size;
	bool wal_unsynced;
	int64_t last_sync_ms;
	uint64_t next_seq;
	/* catalog.c */
	uint32_t *idtab;     /* series ids by key hash (open addressing, 0 = empty) */
	size_t idcap, idlen; /* idcap: a power of two, 0 before the first series */
	uint64_t idseed;
	struct series **ser; /* by id; ser[0] unused */
	size_t nser, capser;
	struct pane_map per_metric; /* name -> count (uintptr_t) */
	struct pane_index *ix;
	/* head.c */
	int head_fd;             /* the head file: blocks taken out of head streams */
	uint32_t hblocks, hdead; /* blocks in it; of those, dead (their head was persisted) */
	uint32_t hw_first;       /* hw holds blocks [hw_first, hblocks) not yet written */
	uint32_t hcompact_min;   /* dead blocks before a compaction is tried (grows on failure) */
	struct pane_buf hw;
	atomic_uint hpins; /* selects reading the head file through a pinned view (ps_head_pin) */
	/* segment.c */
	struct part *parts;
	size_t nparts;
	uint64_t parts_gen; /* bumped when a partition is dropped (select.c forgets cached days) */
	/* select.c: idle readers (connection, statements, files, buffers), reused by selects */
	struct ps_reader *readers;
	size_t nreaders;
	struct pane_bufpool *samples; /* blocks for the samples of big selects (bufpool.h) */
	struct pane_workers *workers; /* helper threads of big selects (workers.h), made at the first */
	/* store.c */
	struct pane_store_counters c;
	struct pane_buf rec; /* scratch: WAL record being built */
	struct pane_logdb *logs;
	struct pane_stat *st_samples, *st_old, *st_card, *st_future, *st_series;
	struct pane_log_limit lim;
	/* housekeeping (persisting frozen heads, checkpoints, head-file compaction) */
	uint32_t *frozen;                     /* ids of series with a frozen head, oldest first (may repeat) */
	size_t nfrozen, capfrozen, frozen_at; /* frozen[frozen_at..nfrozen) are still to do */
	bool hk_wake;                         /* work was queued since the thread last looked */
	bool hk_stop;
	bool hk_running;
	pthread_cond_t hk_cond;
	pthread_t hk_thread;
	uint32_t hk_cursor; /* next series of a batched persist before a checkpoint; 0 = none running */
};

/* A CRC32C as an index column holds it: signed 32 bits (a 4-byte SQLite
 * integer; unsigned, half of them took 6). Readers take the low 32 bits of
 * the column, so rows written either way read alike. */
static inline int64_t ps_crc_col(uint32_t crc)
{
	return (int64_t)crc - ((int64_t)(crc >> 31) << 32);
}

static inline int64_t ps_day_of(int64_t ts)
{
	int64_t q = ts / DAY_MS;
	if (ts % DAY_MS < 0)
		q--;
	return q;
}

/* One bucket of a tier (tiers.c): its start, and the aggregates of its
 * non-stale samples. */
struct bucket {
	int64_t t, last_ts;
	double count, min, max, sum, last;
};

/* A growable list of buckets (tiers.c, select.c). */
struct bucket_list {
	struct bucket *b;
	size_t n, cap;
};

/* The steps of the downsampled tiers (tiers.c): PANE_TIER_5M, PANE_TIER_1H. */
extern const int64_t ps_tier_steps[2];

/* ---------- functions shared between the files (defined in the file named) ---------- */

/* store.c */
int ps_persist_all(struct pane_store *st, struct pane_err *err);

/* catalog.c */
int ps_sql_fail(struct pane_store *st, struct pane_err *err, const char *what);
int ps_sql_exec(struct pane_store *st, const char *sql, struct pane_err *err);
int ps_txn_begin(struct pane_store *st, struct pane_err *err);
int ps_txn_commit(struct pane_store *st, struct pane_err *err);
void ps_series_free(struct series *s);
struct series *ps_series_make(uint32_t id, const char *key, size_t keylen);
struct series *ps_by_key_get(const struct pane_store *st, const void *key, size_t len);
void ps_series_register(struct pane_store *st, struct series *s);
int ps_sample_key(const struct pane_sample *smp, struct pane_buf *k);
int ps_load_catalog(struct pane_store *st, struct pane_err *err);
int ps_catalog_insert(struct pane_store *st, const struct series *s, struct pane_err *err);

/* wal.c */
void ps_rec_uv(struct pane_buf *b, uint64_t v);
void ps_rec_begin(struct pane_buf *b, int type);
void ps_rec_end(struct pane_buf *b, size_t start);
int ps_write_all(int fd, const void *p, size_t len);
int ps_wal_sync(struct pane_store *st, struct pane_err *err);
int ps_wal_append(struct pane_store *st, const void *p, size_t len, struct pane_err *err);
void ps_wal_series_rec(struct pane_buf *walrec, const struct series *s);
int ps_replay_wal(struct pane_store *st, const char *path, struct pane_err *err);
bool ps_checkpoint_would_persist(struct pane_store *st);
int ps_checkpoint(struct pane_store *st, struct pane_err *err);

/* head.c */
void ps_head_flush(struct pane_store *st);
/* How many bytes the head's stream has (taken blocks, then the tail). */
static inline size_t ps_head_stream_len(const struct head *h)
{
	return (size_t)h->hnblk * PANE_HS_BLOCK + pane_hstream_tail_len(&h->hs);
}
/* The head stream's bytes appended to out. */
int ps_head_bytes(struct pane_store *st, uint32_t id, const struct head *s, struct pane_buf *out, struct pane_err *err);
/* A select reads heads in two steps so that the lock is held only for the
 * tails: under st->mu, ps_head_pin (false: copy with ps_head_bytes instead)
 * and, per head, ps_head_bytes_begin, which appends room for its blocks and
 * then its tail to out and returns where the blocks go; without the lock,
 * ps_head_view_fill writes them there from the view, and ps_head_unpin ends
 * it. A pinned file is never truncated: its blocks are only appended, and
 * compaction renames a new file over it (the view keeps the old one). */
struct ps_hview {
	const uint8_t *map; /* the head file's blocks at the pin, mapped */
	size_t len;
};
bool ps_head_pin(struct pane_store *st, struct ps_hview *v);
uint8_t *ps_head_bytes_begin(const struct head *h, struct pane_buf *out);
/* Writes the blocks of the chain (hlast, hnblk) a decode of samples from
 * mint on needs to their places in dst (block i at i * PANE_HS_BLOCK):
 * from the newest whose anchor's previous sample is before mint (mint
 * INT64_MIN: all), which goes to *from, its anchor to *a. Walking back
 * from the chain's last block, so a query of the last minutes of a long
 * head copies and decodes only those. */
int ps_head_view_fill(const struct ps_hview *v, uint32_t id, uint32_t hlast, uint32_t hnblk, int64_t mint, uint8_t *dst,
                      uint32_t *from, struct pane_hs_anchor *a, struct pane_err *err);
void ps_head_unpin(struct pane_store *st, struct ps_hview *v);
void ps_head_compact(struct pane_store *st);
/* Whether ps_head_compact would rewrite the file now (enough dead blocks, mostly dead). */
bool ps_head_compact_due(const struct pane_store *st);
int ps_head_samples(struct pane_store *st, uint32_t id, const struct head *s, bool sorted, int64_t **tsout,
                    double **vout, struct pane_err *err);
void ps_head_reset(struct pane_store *st, struct head *h);
int ps_head_add(struct pane_store *st, struct series *s, int64_t ts, double v, uint64_t seq, struct pane_err *err);

/* segment.c */
struct part *ps_part_get(struct pane_store *st, int64_t day, bool create, struct pane_err *err);
int ps_sync_parts(struct pane_store *st, struct pane_err *err);
int ps_part_append(struct pane_store *st, struct part *p, const struct pane_buf *blob, uint64_t *off,
                   struct pane_err *err);
int ps_persist_frozen(struct pane_store *st, struct series *s, struct pane_err *err);
int ps_persist_series(struct pane_store *st, struct series *s, struct pane_err *err);
int ps_drop_partition(struct pane_store *st, size_t i, struct pane_err *err);
bool ps_ts_regular(const int64_t *ts, size_t n);
/* Whether day's s_ table, on connection db, has the columns of a segment's
 * tier region (alen, acrc): 1, or 0 for a day made by an earlier pane (its
 * tier blobs indexed by a_ rows), or PANE_EIO. */
int ps_day_folded(sqlite3 *db, int64_t day);
/* Tests only: new days are made in the layout of earlier panes (no alen,
 * acrc; t_ and a_ tables), to test reading and writing such days. */
extern bool ps_legacy_days;

/* tiers.c */
size_t ps_make_buckets(const int64_t *ts, const double *v, size_t n, int64_t step, struct bucket *out);
void ps_bucket_merge(struct bucket *a, const struct bucket *b);
int ps_persist_tier(struct pane_store *st, struct part *p, uint32_t sid, int64_t step, const int64_t *ts,
                    const double *v, size_t n, struct pane_err *err);
void ps_blist_add(struct bucket_list *l, const struct bucket *b);
int ps_cmp_bucket(const void *a, const void *b);
/* The tier blob of nb buckets (ps_make_buckets' invariants: starts ascend on
 * the step's grid, counts whole and >= 1, t <= last_ts < t + step) in
 * format 2, appended to out. 0 or PANE_EINVAL (invariants broken). */
int ps_tier_encode(const struct bucket *b, size_t nb, int64_t step, int level, struct pane_buf *out);
/* Decodes one tier blob (either format) of len bytes, appending its buckets
 * to out; false, with out unchanged, when it is malformed. blob[0] is
 * changed while it runs and restored. scratch, tb, vb: working space (tb,
 * vb: PANE_CHUNK_MAX each). Bounded on any bytes. */
bool ps_tier_decode_blob(struct pane_unpacker *u, uint8_t *blob, size_t len, struct pane_buf *scratch, int64_t *tb,
                         double *vb, struct bucket_list *out);
/* A segment's tier region (the top of tiers.c): a blob of the buckets of
 * ts, v (n samples) for each step of tiers (PANE_TIER_* bits) that has any,
 * appended to out (nothing when none has). 0 or PANE_EINVAL. */
int ps_tier_region(const int64_t *ts, const double *v, size_t n, unsigned tiers, int level, struct pane_buf *out);
/* Decodes the blob of step (ps_tier_steps) in a region of len bytes, if it
 * has one, appending its buckets to out; false, with out unchanged, when
 * the region or that blob is malformed. Changes region while it runs and
 * restores it (ps_tier_decode_blob). Bounded on any bytes. */
bool ps_tier_region_decode(struct pane_unpacker *u, uint8_t *region, size_t len, int64_t step, struct pane_buf *scratch,
                           int64_t *tb, double *vb, struct bucket_list *out);
double ps_bucket_value(const struct bucket *b, enum pane_tier_agg agg);

/* select.c */
void ps_readers_forget_days(struct pane_store *st);
/* Tests only: called by every select right after its snapshot, without
 * the lock (to persist heads between the snapshot and the reads). */
extern void (*ps_test_after_snapshot)(struct pane_store *st);
void ps_readers_free(struct pane_store *st);

#endif
