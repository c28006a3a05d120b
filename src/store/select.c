/*
 * select.c - the store's reader (reader.h): matching series, reading their
 * segments, heads and tiers into a series set.
 *
 * Idea: a select works on a snapshot taken under the store's lock (the
 * matched series' labels, the tails of their heads and frozen heads, and
 * where their blocks are in the head file, pinned: ps_head_pin; the blocks
 * themselves are copied after the lock, so it is held ~0.3 ms, not ~9,
 * for 1,000 heads (measured with full 6 h ones), and only back to the
 * block whose anchor the range starts after, ps_head_view_fill) and then
 * reads segments through its own read-only SQLite
 * connection (one transaction: one consistent view) and its own file
 * descriptors, without the lock: queries run in parallel with each other
 * and with ingestion. A segment persisted after the snapshot repeats
 * samples the snapshot has; the merge keeps one sample per timestamp.
 *
 * The connection, its prepared statements (one per day and kind), the
 * day files' descriptors, the zstd context and the decode buffers belong
 * to a *reader* (struct ps_reader) that outlives the select: a select
 * takes an idle one from st->readers with its snapshot and gives it back
 * at the end (a new one is made when none is idle, so selects still run
 * in parallel; at most READERS_IDLE are kept). Opening a connection,
 * preparing statements and creating a zstd context per select was most
 * of a small select's cost (the rules benchmark runs a thousand per
 * round, bench/README.md).
 *
 * A select of many series over hours (PAR_MIN_SERIES, PAR_MIN_RANGE) is
 * read by the caller and the store's helper threads (workers.h) at once:
 * each claims a few series at a time and reads them with a reader of its
 * own (its own read transaction) into its own part of the set's memory.
 * Then the caller walks the series in their order and keeps them exactly
 * as one thread would have (the max_samples limit of each series depends
 * on the series before it: one a helper cut at a tighter limit, or did not
 * read, is read again), so answers and errors do not depend on who read
 * what. A big set's samples go into blocks of st->samples (bufpool.h):
 * memory already faulted in by an earlier select, not fresh pages from
 * malloc that free hands back to the system.
 *
 * Invariants:
 *   (1) Every series' samples come out ascending by timestamp, one per
 *       timestamp (the last written wins), within [mint, maxt].
 *   (2) A select never allocates much past max_samples: a series' arrays
 *       stop growing at what is still allowed (twice that before merging
 *       duplicates), and the query fails with PANE_ETOOBIG.
 *   (3) A corrupt segment, tier blob or tier region (CRC, length, decode)
 *       is skipped and logged; a day dropped by retention meanwhile is
 *       skipped. A day's tiers are read from its s_ rows' regions (a
 *       segment without one, alen 0, is aggregated from its samples), or
 *       from its a_ rows when an earlier pane made the day (rday.folded), and
 *       only from segments persisted before the snapshot (at offsets below
 *       the day file's size then, rpart.size): the snapshot's heads have
 *       the samples of any persisted since, and buckets, unlike samples,
 *       cannot be merged by timestamp.
 *   (4) Timestamp columns shared by many series are decoded once per
 *       select (ts_cache), never across selects (a day dropped and made
 *       again reuses offsets). An evenly spaced column is not stored
 *       (tlen 0): it is rebuilt from the segment's mint, maxt and n.
 *   (5) An idle reader holds statements and files of days in st->parts
 *       only: dropping a partition makes the idle readers forget every
 *       cached day before the DROP TABLE and the unlink, and bumps
 *       st->parts_gen, so a reader in use forgets them when it is given
 *       back. Readers, idle or not, are touched under st->mu only while
 *       in st->readers; close frees them (no select may run then).
 *   (6) A set's series, their order, samples and a select's error are
 *       the same however many threads read it (select_impl's step 3).
 *
 * Thread context: any thread; st->mu for the snapshot and to take and
 * give back a reader; a helper of st->workers reads a share of one
 * select's series while the caller reads the rest.
 */
#include "store/internal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/mem.h"
#include "store/workers.h"

void (*ps_test_after_snapshot)(struct pane_store *st);

/* Sample bytes of a set that come from its arena; the rest from blocks
 * of st->samples (a select of a few samples never holds a block). */
#define SAMPLES_POOL_FROM (256u << 10)

#define PAR_MAX 4 /* threads reading one select's series: the caller and up to 3 helpers */

/* The memory one thread of a select copies samples into. */
struct set_mem {
	struct pane_arena arena; /* the first samples, series too big for a block (mem[0]: and the labels) */
	void **blocks;           /* taken from the pool, given back by set_free */
	size_t nblocks, capblocks;
	char *cur; /* free part of the newest block */
	size_t left;
	size_t sample_bytes; /* copied so far */
};

struct set_impl {
	struct pane_series_set set;
	struct pane_bufpool *pool;   /* st->samples */
	struct set_mem mem[PAR_MAX]; /* [0]: the caller's; [k]: helper k's (an arena is one thread's) */
};

static void set_free(struct pane_series_set *set)
{
	if (!set)
		return;
	struct set_impl *si = set->impl;
	for (size_t k = 0; k < PAR_MAX; k++) {
		struct set_mem *m = &si->mem[k];
		for (size_t i = 0; i < m->nblocks; i++)
			pane_bufpool_give(si->pool, m->blocks[i]);
		free(m->blocks);
		pane_arena_release(&m->arena);
	}
	free(set->series);
	free(si);
}

/* Room for n samples of one series in m (contents undefined): in its
 * arena while the set is small, else in a block of pool (the store's),
 * whose pages are still mapped from an earlier select (bufpool.h). */
static void set_samples(struct pane_bufpool *pool, struct set_mem *m, size_t n, int64_t **ts, double **v)
{
	size_t bytes = pane_mul_size(n, sizeof **ts + sizeof **v);
	size_t block = pane_bufpool_block(pool);
	if (m->sample_bytes < SAMPLES_POOL_FROM || bytes > block) {
		*ts = pane_arena_alloc_uninit(&m->arena, n * sizeof **ts);
		*v = pane_arena_alloc_uninit(&m->arena, n * sizeof **v);
	} else {
		if (bytes > m->left) {
			if (m->nblocks == m->capblocks) {
				m->capblocks = m->capblocks ? m->capblocks * 2 : 16;
				m->blocks = pane_xrealloc(m->blocks, pane_mul_size(m->capblocks, sizeof *m->blocks));
			}
			m->cur = pane_bufpool_take(pool);
			m->blocks[m->nblocks++] = m->cur;
			m->left = block;
		}
		*ts = (int64_t *)m->cur;
		*v = (double *)(m->cur + n * sizeof **ts);
		m->cur += bytes;
		m->left -= bytes;
	}
	m->sample_bytes += bytes;
}

struct collect {
	int64_t *ts;
	double *v;
	size_t n, cap;
	int64_t mint, maxt;
	size_t limit; /* 0: none; past it samples are dropped and over set */
	bool over;
	size_t added; /* samples in [mint, maxt] offered, the dropped ones too */
};

/* Arrays start small and double: a query over many series with a sample
 * or two each (an instant query) costs bytes per series, not the 4 KiB a
 * first block of 256 did. */
static void collect_add(struct collect *c, int64_t t, double v)
{
	if (t < c->mint || t > c->maxt)
		return;
	c->added++;
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

/* The first of ts[from..n) (ascending) above t, or n. */
static size_t first_after(const int64_t *ts, size_t from, size_t n, int64_t t)
{
	size_t lo = from, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ts[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Adds samples ascending by timestamp (a segment's columns): the part in
 * [mint, maxt] found by binary search and copied whole, the arrays grown
 * once. Same result as collect_add per sample. */
static void collect_add_sorted(struct collect *c, const int64_t *ts, const double *v, size_t n)
{
	size_t a = c->mint == INT64_MIN ? 0 : first_after(ts, 0, n, c->mint - 1); /* first ts >= mint */
	size_t m = first_after(ts, a, n, c->maxt) - a;
	c->added += m;
	if (c->limit && m > c->limit - (c->n < c->limit ? c->n : c->limit)) {
		m = c->n < c->limit ? c->limit - c->n : 0;
		c->over = true;
	}
	if (!m)
		return;
	if (c->n + m > c->cap) {
		size_t cap = c->cap * 2 > c->n + m ? c->cap * 2 : c->n + m;
		c->ts = pane_xrealloc(c->ts, pane_mul_size(cap, sizeof *c->ts));
		c->v = pane_xrealloc(c->v, pane_mul_size(cap, sizeof *c->v));
		c->cap = cap;
	}
	memcpy(c->ts + c->n, ts + a, m * sizeof *ts);
	memcpy(c->v + c->n, v + a, m * sizeof *v);
	c->n += m;
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

/* Reads the len bytes at off of fd into blob (the reader's buffer for
 * packed bytes) and checks their CRC: every blob a select reads, a column,
 * a tier blob or a tier region, comes through here. */
static bool read_checked(int fd, int64_t off, int64_t len, uint32_t crc, struct pane_buf *blob)
{
	if (len <= 0 || len > SEG_RAW_MAX)
		return false;
	pane_buf_reset(blob);
	if (pane_buf_grow(blob, (size_t)len) < 0)
		return false;
	uint8_t *p = (uint8_t *)blob->data;
	return pread(fd, p, (size_t)len, off) == len && pane_crc32c(0, p, (size_t)len) == crc;
}

/* Reads, checks and unpacks one column blob into scratch. */
static bool read_packed(struct pane_unpacker *u, int fd, int64_t off, int64_t len, uint32_t crc, struct pane_buf *blob,
                        struct pane_buf *scratch)
{
	pane_buf_reset(scratch);
	return read_checked(fd, off, len, crc, blob) &&
	       pane_segment_unpack_with(u, blob->data, (size_t)len, SEG_RAW_MAX, scratch) == 0;
}

/* read_packed, then decodes the column into ts, v (PANE_CHUNK_MAX each):
 * *n samples, of which (a value column) only the first want are decoded.
 * 0, PANE_EINVAL (unreadable, CRC, damaged) or PANE_EUNSUPPORTED (a codec
 * this binary does not know). */
static int read_column(struct pane_unpacker *u, int fd, int64_t off, int64_t len, uint32_t crc, struct pane_buf *blob,
                       struct pane_buf *scratch, size_t want, int64_t *ts, double *v, size_t *n)
{
	size_t used;
	if (!read_packed(u, fd, off, len, crc, blob, scratch))
		return PANE_EINVAL;
	int rc = pane_chunk_decode_prefix((const uint8_t *)scratch->data, scratch->len, ts, v, PANE_CHUNK_MAX, want, n,
	                                  &used);
	return rc == PANE_EUNSUPPORTED ? rc : rc ? PANE_EINVAL : 0;
}

#define TSC_SLOTS 64

/* A query's cache of decoded timestamp columns (shared columns repeat
 * across series): direct-mapped by offset. */
struct ts_slot {
	int64_t day, off;
	size_t n;
	int64_t *ts;
};

struct ts_cache {
	struct ts_slot slot[TSC_SLOTS];
	struct ts_slot reg; /* an evenly spaced column, rebuilt (ts_regular) */
	struct pane_unpacker *u;
	int64_t *ts;           /* decode target */
	double *dummy;         /* scratch for the values of a timestamp column */
	int64_t *tdummy;       /* scratch for the timestamps of a value column, and heads */
	struct pane_buf *blob; /* a column's packed bytes as read */
};

/* The decoded timestamp column at (day, off), or NULL when corrupt. */
static const struct ts_slot *ts_column_get(struct ts_cache *tc, int64_t day, int fd, int64_t off, int64_t len,
                                           uint32_t crc, struct pane_buf *scratch)
{
	struct ts_slot *sl = &tc->slot[((uint64_t)off * 0x9E3779B97F4A7C15ull) >> 58];
	if (sl->ts && sl->day == day && sl->off == off)
		return sl;
	size_t n = 0;
	if (read_column(tc->u, fd, off, len, crc, tc->blob, scratch, SIZE_MAX, tc->ts, tc->dummy, &n) != 0)
		return NULL;
	sl->ts = pane_xrealloc(sl->ts, (n ? n : 1) * sizeof *sl->ts);
	memcpy(sl->ts, tc->ts, n * sizeof *sl->ts);
	sl->n = n;
	sl->day = day;
	sl->off = off;
	return sl;
}

/* The timestamp column of a segment stored without one (tlen 0: evenly
 * spaced, ps_ts_regular): n steps from mint to maxt; NULL when the row's
 * range and count cannot be such a column (a damaged row). */
static const struct ts_slot *ts_regular(struct ts_cache *tc, int64_t mint, int64_t maxt, int64_t n)
{
	if (n < 1 || n > PANE_CHUNK_MAX || maxt < mint || (n == 1) != (maxt == mint))
		return NULL;
	uint64_t span = (uint64_t)maxt - (uint64_t)mint, d = n > 1 ? span / (uint64_t)(n - 1) : 0;
	if (n > 1 && d * (uint64_t)(n - 1) != span)
		return NULL;
	struct ts_slot *sl = &tc->reg;
	if (!sl->ts)
		sl->ts = pane_xmalloc(PANE_CHUNK_MAX * sizeof *sl->ts);
	for (int64_t i = 0; i < n; i++) /* as cheap as a cache lookup next to the values' decoding */
		sl->ts[i] = (int64_t)((uint64_t)mint + (uint64_t)i * d);
	sl->n = (size_t)n;
	return sl;
}

/* A reader's cached view of one day partition: its file and statements,
 * opened and prepared at first use. */
struct rday {
	int64_t day;
	int fd;
	bool folded;        /* tier blobs in regions of s_ rows, not in a_ rows (known once tier is prepared) */
	sqlite3_stmt *seg;  /* segments of a series in a range */
	sqlite3_stmt *tier; /* tier regions (or legacy a_ rows) of a series in a range */
};

#define READERS_IDLE 4
#define COLLECT_KEEP 65536 /* collect buffers kept by an idle reader, samples */

/* What a select needs besides its snapshot, kept between selects (see the
 * top of the file). */
struct ps_reader {
	struct ps_reader *next; /* in st->readers while idle */
	uint64_t gen;           /* st->parts_gen when taken */
	sqlite3 *db;            /* read-only connection to metrics.db */
	sqlite3_stmt *begin, *commit;
	struct rday *days;
	size_t ndays, capdays;
	struct pane_unpacker *u;
	int64_t *ts, *tdummy; /* PANE_CHUNK_MAX each */
	double *dummy, *vbuf; /* PANE_CHUNK_MAX each */
	struct pane_buf scratch, blob;
	int64_t *cts; /* a series' samples while collected */
	double *cv;
	size_t ccap;
};

static void reader_forget_days(struct ps_reader *r)
{
	for (size_t i = 0; i < r->ndays; i++) {
		sqlite3_finalize(r->days[i].seg);
		sqlite3_finalize(r->days[i].tier);
		if (r->days[i].fd >= 0)
			close(r->days[i].fd);
	}
	r->ndays = 0;
}

static void reader_free(struct ps_reader *r)
{
	if (!r)
		return;
	reader_forget_days(r);
	free(r->days);
	sqlite3_finalize(r->begin);
	sqlite3_finalize(r->commit);
	sqlite3_close(r->db);
	pane_unpacker_free(r->u);
	free(r->ts);
	free(r->tdummy);
	free(r->dummy);
	free(r->vbuf);
	pane_buf_release(&r->scratch);
	pane_buf_release(&r->blob);
	free(r->cts);
	free(r->cv);
	free(r);
}

/* A new reader with its connection open, or NULL with err set. Without the lock. */
static struct ps_reader *reader_new(struct pane_store *st, struct pane_err *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/metrics.db", st->dir);
	struct ps_reader *r = pane_xcalloc(1, sizeof *r);
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "BEGIN", -1, &r->begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "COMMIT", -1, &r->commit, NULL) != SQLITE_OK) {
		pane_err_set(err, PANE_EIO, "store: cannot open %s for reading: %s", path,
		             r->db ? sqlite3_errmsg(r->db) : "?");
		reader_free(r);
		return NULL;
	}
	sqlite3_busy_timeout(r->db, 5000);
	r->u = pane_unpacker_new();
	r->ts = pane_xmalloc(PANE_CHUNK_MAX * sizeof *r->ts);
	r->tdummy = pane_xmalloc(PANE_CHUNK_MAX * sizeof *r->tdummy);
	r->dummy = pane_xmalloc(PANE_CHUNK_MAX * sizeof *r->dummy);
	r->vbuf = pane_xmalloc(PANE_CHUNK_MAX * sizeof *r->vbuf);
	pane_buf_init(&r->scratch, PANE_BUF_NOLIMIT);
	pane_buf_init(&r->blob, PANE_BUF_NOLIMIT);
	return r;
}

/* Under st->mu: an idle reader, or NULL when none is. */
static struct ps_reader *reader_take(struct pane_store *st)
{
	struct ps_reader *r = st->readers;
	if (r) {
		st->readers = r->next;
		st->nreaders--;
		r->next = NULL;
		r->gen = st->parts_gen;
	}
	return r;
}

/* Gives r back (takes the lock): kept idle, or freed when enough are. */
static void reader_give_back(struct pane_store *st, struct ps_reader *r)
{
	if (!r)
		return;
	if (r->ccap > COLLECT_KEEP) {
		free(r->cts);
		free(r->cv);
		r->cts = NULL;
		r->cv = NULL;
		r->ccap = 0;
	}
	if (!sqlite3_get_autocommit(r->db)) { /* its COMMIT failed: a reader kept must start the next view afresh */
		reader_free(r);
		return;
	}
	pthread_mutex_lock(&st->mu);
	if (r->gen != st->parts_gen)
		reader_forget_days(r); /* a partition was dropped meanwhile (invariant 5) */
	if (st->nreaders < READERS_IDLE) {
		r->next = st->readers;
		st->readers = r;
		st->nreaders++;
		r = NULL;
	}
	pthread_mutex_unlock(&st->mu);
	reader_free(r);
}

void ps_readers_forget_days(struct pane_store *st)
{
	for (struct ps_reader *r = st->readers; r; r = r->next)
		reader_forget_days(r);
}

void ps_readers_free(struct pane_store *st)
{
	while (st->readers) {
		struct ps_reader *r = st->readers;
		st->readers = r->next;
		reader_free(r);
	}
	st->nreaders = 0;
}

/* r's file and statement of kind tier (or segments) for day, opened and
 * prepared now if not yet; NULL when the day is gone (dropped meanwhile). */
static struct rday *reader_day(struct pane_store *st, struct ps_reader *r, int64_t day, bool tier)
{
	struct rday *d = NULL;
	for (size_t i = 0; i < r->ndays && !d; i++)
		if (r->days[i].day == day)
			d = &r->days[i];
	if (!d) {
		char path[4096];
		snprintf(path, sizeof path, "%s/chunks/d%" PRId64 ".seg", st->dir, day);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return NULL;
		if (r->ndays == r->capdays) {
			r->capdays = r->capdays ? r->capdays * 2 : 4;
			r->days = pane_xrealloc(r->days, pane_mul_size(r->capdays, sizeof *r->days));
		}
		d = &r->days[r->ndays++];
		*d = (struct rday){.day = day, .fd = fd};
	}
	sqlite3_stmt **q = tier ? &d->tier : &d->seg;
	if (!*q) {
		char sql[200];
		int folded = tier ? ps_day_folded(r->db, day) : 0;
		if (folded < 0)
			return NULL;
		if (tier)
			d->folded = folded;
		/* a folded day: the segments with a sample in [?2, ?3] (?3: the
		 * end of the last bucket asked for), as the segment query's
		 * columns and then their regions' (alen 0: none, the samples are
		 * aggregated); a legacy day: the blobs of step ?4 with a bucket
		 * start in [?2, ?3] (read_tier_series) */
		if (tier && folded)
			snprintf(sql, sizeof sql,
			         "SELECT off, len, crc, toff, tlen, tcrc, mint, maxt, n, alen, acrc FROM \"s_%" PRId64
			         "\" WHERE sid = ?1 AND maxt >= ?2 AND mint <= ?3 AND off < ?5",
			         day);
		else if (tier)
			snprintf(sql, sizeof sql,
			         "SELECT off, len, crc FROM \"a_%" PRId64
			         "\" WHERE sid = ?1 AND step = ?4 AND maxt >= ?2 AND mint <= ?3 AND off < ?5",
			         day);
		else
			snprintf(sql, sizeof sql,
			         "SELECT off, len, crc, toff, tlen, tcrc, mint, maxt, n FROM \"s_%" PRId64
			         "\" WHERE sid = ? AND maxt >= ? AND mint <= ? ORDER BY mint",
			         day);
		if (sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, q, NULL) != SQLITE_OK) {
			sqlite3_finalize(*q);
			*q = NULL;
			return NULL;
		}
	}
	return d;
}

/* A head (or frozen head) as snapshotted: its stream's bytes (hstream.h),
 * n samples; with a pinned view, the tail under the lock and the blocks
 * after it (snap_head_fill), from block `from` (anchor anc) on. */
struct snap_head {
	uint32_t n, len;
	uint32_t last, nblk; /* its block chain, read after the lock (ps_head_pin) */
	bool sorted;         /* no sample older than one before it: a decode may start at an anchor */
	uint32_t from;
	struct pane_hs_anchor anc;
	uint8_t *bytes;
};

/* One matched series as snapshotted under the lock (see the top of the file). */
struct snap {
	uint32_t id;
	uint16_t nl;
	uint32_t keylen;
	char *key;
	struct snap_head h, fz;
};

struct rpart {
	int64_t day;
	int fd;
	uint64_t size; /* the day file's size at the snapshot: a segment at or past it is newer (tiers) */
	bool folded;   /* tier regions in s_ rows (rday) */
	sqlite3_stmt *q;
};

static void snap_release(struct snap *sn)
{
	free(sn->h.bytes);
	free(sn->fz.bytes);
}

/* Under the lock: head h of series id into x, whole (copied now), or only
 * its tail and chain when the head file is pinned. */
static int snap_head_take(struct pane_store *st, uint32_t id, const struct head *h, bool pinned, struct snap_head *x,
                          struct pane_err *err)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	int rc = 0;
	if (pinned) {
		ps_head_bytes_begin(h, &b);
		x->last = h->hlast;
		x->nblk = h->hnblk;
		x->sorted = !h->unsorted;
	} else {
		rc = ps_head_bytes(st, id, h, &b, err);
	}
	x->n = h->hs.n;
	x->len = (uint32_t)b.len;
	x->bytes = b.cap ? (uint8_t *)b.data : NULL; /* ownership moves to the snapshot */
	return rc;
}

/* Without the lock: the blocks of x a read from mint on needs, from the view. */
static int snap_head_fill(const struct ps_hview *v, uint32_t id, int64_t mint, struct snap_head *x,
                          struct pane_err *err)
{
	if (!x->nblk)
		return 0;
	return ps_head_view_fill(v, id, x->last, x->nblk, x->sorted ? mint : INT64_MIN, x->bytes, &x->from, &x->anc,
	                         err);
}

/* A snapshotted head's samples from its block `from` on (0: all of them). */
static int collect_stream(struct collect *c, const struct snap_head *x, int64_t *tbuf, double *vbuf)
{
	size_t n = x->n;
	if (!n)
		return 0;
	size_t skip = (size_t)x->from * PANE_HS_BLOCK;
	if (x->from && (skip >= x->len || x->anc.idx >= n))
		return PANE_EIO;
	if (x->from)
		n -= x->anc.idx;
	if (n > PANE_CHUNK_MAX ||
	    (x->from ? pane_hstream_decode_from(x->bytes + skip, x->len - skip, &x->anc, n, tbuf, vbuf)
	             : pane_hstream_decode(x->bytes, x->len, n, tbuf, vbuf)) < 0)
		return PANE_EIO;
	for (size_t i = 0; i < n; i++)
		collect_add(c, tbuf[i], vbuf[i]);
	return 0;
}

/* Adds a snapshot's head samples (frozen head, then head) to c (tbuf,
 * vbuf: PANE_CHUNK_MAX each). */
static int collect_head(struct collect *c, const struct snap *sn, int64_t *tbuf, double *vbuf)
{
	if (collect_stream(c, &sn->fz, tbuf, vbuf) < 0)
		return PANE_EIO;
	return collect_stream(c, &sn->h, tbuf, vbuf);
}

/* The samples of the segment in q's current row (columns off, len, crc,
 * toff, tlen, tcrc, mint, maxt, n) into c; a segment that does not read
 * is logged and skipped. */
static void read_row(struct pane_store *st, const struct rpart *rp, sqlite3_stmt *q, uint32_t id, struct collect *c,
                     struct ts_cache *tc, double *vbuf, struct pane_buf *scratch)
{
	int64_t off = sqlite3_column_int64(q, 0);
	size_t nv = 0, want = 0;
	int64_t tlen = sqlite3_column_int64(q, 4);
	const struct ts_slot *sl = tlen == 0 ? ts_regular(tc, sqlite3_column_int64(q, 6), sqlite3_column_int64(q, 7),
	                                                  sqlite3_column_int64(q, 8))
	                                     : ts_column_get(tc, rp->day, rp->fd, sqlite3_column_int64(q, 3), tlen,
	                                                     (uint32_t)sqlite3_column_int64(q, 5), scratch);
	int rc = PANE_EINVAL;
	if (sl) {
		/* the values up to the last timestamp in range: a look at a past
		 * hour decodes its day's segment only that far */
		want = first_after(sl->ts, 0, sl->n, c->maxt);
		if (!want)
			return; /* every sample after the range: nothing to add */
		rc = read_column(tc->u, rp->fd, off, sqlite3_column_int64(q, 1), (uint32_t)sqlite3_column_int64(q, 2),
		                 tc->blob, scratch, want, tc->tdummy, vbuf, &nv);
	}
	if (rc == PANE_EUNSUPPORTED) {
		pane_log_limited(&st->lim, PANE_LOG_ERROR, "store",
		                 "segment of series %u at day %" PRId64 " offset %" PRId64
		                 " uses a value codec this pane does not know (written by a newer"
		                 " version?); skipped: run the newer pane on this data directory",
		                 id, rp->day, off);
		return;
	}
	if (rc != 0 || nv != sl->n) {
		pane_log_limited(&st->lim, PANE_LOG_ERROR, "store",
		                 "segment of series %u at day %" PRId64 " offset %" PRId64 " is corrupt; skipped", id,
		                 rp->day, off);
		return;
	}
	collect_add_sorted(c, sl->ts, vbuf, want);
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
		while (sqlite3_step(q) == SQLITE_ROW)
			read_row(st, &rp[i], q, sn->id, c, tc, vbuf, scratch);
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

/* The buckets of one snapshot series that start in [floor(mint), maxt],
 * each whole (with its samples after maxt): tier rows + its in-memory
 * samples, or, for a tier not stored, its raw samples aggregated now. */
static int read_tier_series(struct pane_store *st, struct rpart *rp, size_t nrp, const struct snap *sn, int64_t step,
                            enum pane_tier_agg agg, struct collect *c, struct ts_cache *tc, double *vbuf,
                            struct pane_buf *scratch, struct pane_err *err)
{
	struct bucket_list l = {0};
	int64_t lo = c->mint / step * step - (c->mint % step < 0 ? step : 0);
	/* a segment has a bucket in [lo, maxt] when it has a sample in [lo, hi] */
	int64_t rest = step - 1 - (c->maxt % step + step) % step; /* to the end of maxt's bucket */
	int64_t hi = c->maxt > INT64_MAX - rest ? INT64_MAX : c->maxt + rest;
	unsigned bit = step == ps_tier_steps[0] ? 1u : 2u;
	/* stored: the tier rows, then what is still in the head; not stored: the
	 * raw samples (segments and head) of the same buckets, slower */
	struct collect raw = {.mint = lo, .maxt = hi};
	int rc = 0;
	if (!(st->o.tiers & bit))
		rc = read_series(st, rp, nrp, sn, &raw, tc, vbuf, scratch, err);
	for (size_t i = 0; i < nrp && (st->o.tiers & bit); i++) {
		sqlite3_stmt *q = rp[i].q;
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, sn->id);
		sqlite3_bind_int64(q, 2, lo);
		sqlite3_bind_int64(q, 3, rp[i].folded ? hi : c->maxt);
		if (!rp[i].folded)
			sqlite3_bind_int64(q, 4, step);
		/* only what was persisted before the snapshot: a segment persisted
		 * since holds samples the snapshot's heads hold too, and buckets,
		 * unlike samples, cannot be told apart to drop one of the two */
		sqlite3_bind_int64(q, 5, (int64_t)rp[i].size);
		while (sqlite3_step(q) == SQLITE_ROW) {
			if (rp[i].folded && sqlite3_column_int64(q, 9) == 0) {
				/* no region (segment.c keeps none larger than the
				 * values): the samples, aggregated with the head's */
				read_row(st, &rp[i], q, sn->id, &raw, tc, vbuf, scratch);
				continue;
			}
			bool f = rp[i].folded;
			int64_t off =
			    f ? sqlite3_column_int64(q, 0) + sqlite3_column_int64(q, 1) : sqlite3_column_int64(q, 0);
			int64_t len = sqlite3_column_int64(q, f ? 9 : 1);
			uint32_t crc = (uint32_t)sqlite3_column_int64(q, f ? 10 : 2);
			bool good = read_checked(rp[i].fd, off, len, crc, tc->blob); /* may move tc->blob's bytes */
			uint8_t *p = (uint8_t *)tc->blob->data;
			if (!good ||
			    !(rp[i].folded
			          ? ps_tier_region_decode(tc->u, p, (size_t)len, step, scratch, tc->tdummy, vbuf, &l)
			          : ps_tier_decode_blob(tc->u, p, (size_t)len, scratch, tc->tdummy, vbuf, &l)))
				pane_log_limited(&st->lim, PANE_LOG_ERROR, "store",
				                 "tier data of series %u at day %" PRId64 " is corrupt; skipped",
				                 sn->id, rp[i].day);
		}
	}
	if (st->o.tiers & bit) { /* what is still in the head (and segments without a region), aggregated now */
		if (collect_head(&raw, sn, tc->tdummy, vbuf) < 0)
			rc = pane_err_set(err, PANE_EIO, "store: the head of series %u does not decode", sn->id);
		sort_dedup(&raw);
	}
	if (rc == 0 && raw.n) {
		struct bucket *b = pane_xmalloc(raw.n * sizeof *b);
		size_t nb = ps_make_buckets(raw.ts, raw.v, raw.n, step, b);
		for (size_t i = 0; i < nb; i++)
			ps_blist_add(&l, &b[i]);
		free(b);
	}
	free(raw.ts);
	free(raw.v);
	if (l.n > 1) /* l.b is NULL when empty */
		qsort(l.b, l.n, sizeof *l.b, ps_cmp_bucket);
	for (size_t i = 0; i < l.n;) {
		struct bucket acc = l.b[i++];
		while (i < l.n && l.b[i].t == acc.t)
			ps_bucket_merge(&acc, &l.b[i++]);
		if (acc.t >= lo && acc.t <= c->maxt) {
			/* collect_add filters by [mint, maxt]: widen to the bucket grid */
			int64_t keep = c->mint;
			c->mint = lo;
			collect_add(c, acc.t, ps_bucket_value(&acc, agg));
			c->mint = keep;
		}
	}
	free(l.b);
	return rc;
}

/* One select's series read by up to PAR_MAX threads (the caller and
 * helpers of st->workers, workers.h): each claims CLAIM series at a time
 * from next and reads them with its own reader (connection, files,
 * buffers) into its own part of the set's memory. The caller then walks
 * the series in order as a single thread would have (select_impl), so
 * the answer and the errors are the same whoever read what. */
#define CLAIM 4
#define PAR_MIN_SERIES 16             /* fewer series: read by the caller alone */
#define PAR_MIN_RANGE (3600 * 1000LL) /* a shorter range: likewise (a rule's select, a few samples each) */

struct sres { /* one series as a thread read it */
	int64_t *ts;
	double *v;
	size_t n, added; /* samples kept; offered in range (collect) */
	bool over;       /* the thread's limit cut it: ts, v are not kept */
	bool done;
};

struct sel_job {
	struct pane_store *st;
	struct set_impl *si;
	const struct snap *sn;
	size_t cnt;
	const int64_t *days;   /* the partitions in range */
	const uint64_t *sizes; /* their files' sizes at the snapshot */
	size_t ndays;
	int64_t mint, maxt, step;
	enum pane_tier_agg agg;
	bool tier;
	size_t max_samples;
	struct sres *res;    /* cnt */
	atomic_size_t next;  /* the first series not claimed */
	atomic_size_t total; /* samples kept so far, for the threads' limits */
	atomic_size_t stop;  /* claims end here (an error, or past max_samples) */
};

struct sel_part { /* one thread's share */
	struct sel_job *job;
	unsigned k; /* its memory: job->si->mem[k] */
	struct ps_reader *r;
	struct rpart *rp;
	size_t nrp;
	bool txn;
	struct ts_cache tc;
	struct pane_workers_task task;
};

/* The samples a series may collect with total kept before it (invariant
 * 2): 0 is no limit. */
static size_t limit_after(size_t max_samples, size_t total)
{
	size_t left = total < max_samples ? max_samples - total : 0;
	return max_samples && left < SIZE_MAX / 4 ? left * 2 + 64 : 0;
}

/* Opens p's view: one read transaction over the days in range, their
 * files and statements in p->r. */
static void part_open(struct sel_part *p)
{
	struct sel_job *j = p->job;
	struct ps_reader *r = p->r;
	p->rp = pane_xcalloc(j->ndays + 1, sizeof *p->rp);
	p->nrp = 0;
	if (j->ndays && j->cnt) {
		sqlite3_reset(r->begin);
		p->txn = sqlite3_step(r->begin) == SQLITE_DONE; /* one consistent view for the thread's series */
	}
	for (size_t i = 0; i < j->ndays && j->cnt; i++) {
		/* a day dropped by retention meanwhile is simply skipped */
		const struct rday *d = reader_day(j->st, r, j->days[i], j->tier);
		if (d)
			p->rp[p->nrp++] = (struct rpart){.day = j->days[i],
			                                 .fd = d->fd,
			                                 .size = j->sizes[i],
			                                 .folded = d->folded,
			                                 .q = j->tier ? d->tier : d->seg};
	}
	p->tc = (struct ts_cache){.ts = r->ts, .dummy = r->dummy, .tdummy = r->tdummy, .u = r->u, .blob = &r->blob};
}

static void part_close(struct sel_part *p)
{
	for (size_t i = 0; i < TSC_SLOTS; i++)
		free(p->tc.slot[i].ts);
	free(p->tc.reg.ts);
	for (size_t i = 0; i < p->nrp; i++)
		sqlite3_reset(p->rp[i].q);
	if (p->txn) {
		sqlite3_reset(p->r->commit);
		sqlite3_step(p->r->commit);
		sqlite3_reset(p->r->commit);
	}
	free(p->rp);
}

/* Reads series i with p's reader into c (the reader's collect buffers,
 * which stay the reader's). */
static int part_read(struct sel_part *p, size_t i, size_t limit, struct collect *c, struct pane_err *err)
{
	struct sel_job *j = p->job;
	struct ps_reader *r = p->r;
	*c = (struct collect){
	    .ts = r->cts, .v = r->cv, .cap = r->ccap, .mint = j->mint, .maxt = j->maxt, .limit = limit};
	int rc = j->step ? read_tier_series(j->st, p->rp, p->nrp, &j->sn[i], j->step, j->agg, c, &p->tc, r->vbuf,
	                                    &r->scratch, err)
	                 : read_series(j->st, p->rp, p->nrp, &j->sn[i], c, &p->tc, r->vbuf, &r->scratch, err);
	r->cts = c->ts;
	r->cv = c->v;
	r->ccap = c->cap;
	return rc;
}

/* Keeps what part_read collected of series i: a copy in p's memory. */
static void part_keep(struct sel_part *p, size_t i, const struct collect *c)
{
	struct sres *x = &p->job->res[i];
	*x = (struct sres){.n = c->n, .added = c->added, .over = c->over, .done = true};
	if (c->n && !c->over) {
		set_samples(p->job->si->pool, &p->job->si->mem[p->k], c->n, &x->ts, &x->v);
		memcpy(x->ts, c->ts, c->n * sizeof *x->ts);
		memcpy(x->v, c->v, c->n * sizeof *x->v);
	}
}

static void stop_at(struct sel_job *j, size_t i)
{
	size_t cur = atomic_load(&j->stop);
	while (i < cur && !atomic_compare_exchange_weak(&j->stop, &cur, i))
		;
}

/* Claims and reads series until none is left or the select stops. A
 * series that fails is left undone: select_impl reads it again and
 * reports the error as a single thread would. */
static void part_run(struct sel_part *p)
{
	struct sel_job *j = p->job;
	struct pane_err err = {0};
	for (;;) {
		size_t i0 = atomic_fetch_add(&j->next, CLAIM);
		for (size_t i = i0; i < i0 + CLAIM; i++) {
			if (i >= j->cnt || i >= atomic_load(&j->stop))
				return;
			struct collect c;
			if (part_read(p, i, limit_after(j->max_samples, atomic_load(&j->total)), &c, &err) < 0) {
				stop_at(j, i);
				return;
			}
			part_keep(p, i, &c);
			size_t total = atomic_fetch_add(&j->total, c.n) + c.n;
			if (c.over || (j->max_samples && total > j->max_samples))
				stop_at(j, i + 1); /* the select fails at or before here: bound the memory */
		}
	}
}

/* A helper's share (pane_workers_task): its own reader, taken only when
 * series are left to claim. */
static void part_help(void *arg)
{
	struct sel_part *p = arg;
	struct sel_job *j = p->job;
	if (atomic_load(&j->next) >= j->cnt)
		return;
	pthread_mutex_lock(&j->st->mu);
	p->r = reader_take(j->st);
	pthread_mutex_unlock(&j->st->mu);
	if (!p->r) {
		struct pane_err err = {0};
		p->r = reader_new(j->st, &err);
		if (!p->r)
			return; /* the caller reads the series itself */
	}
	part_open(p);
	part_run(p);
	part_close(p);
	reader_give_back(j->st, p->r);
	p->r = NULL;
}

/* Helper threads for selects: one fewer than the CPUs, at most PAR_MAX - 1. */
static unsigned helpers_wanted(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n <= 1 ? 0 : n - 1 >= PAR_MAX - 1 ? PAR_MAX - 1 : (unsigned)(n - 1);
}

static int select_impl(struct pane_store *st, const struct pane_matcher *m, size_t nm, int64_t mint, int64_t maxt,
                       size_t max_samples, int64_t step, enum pane_tier_agg agg, struct pane_series_set **out,
                       struct pane_err *err)
{
	*out = NULL;
	if (step)
		mint = mint / step * step - (mint % step < 0 ? step : 0); /* whole buckets */
	struct pane_bitmap set;
	struct set_impl *si = pane_xcalloc(1, sizeof *si);
	si->set.impl = si;
	si->set.free = set_free;
	si->pool = st->samples;
	for (size_t k = 0; k < PAR_MAX; k++)
		pane_arena_init(&si->mem[k].arena, 0);
	/* 1. the snapshot, under the lock */
	pthread_mutex_lock(&st->mu);
	int rc = match_range(st, m, nm, mint, maxt, &set, err);
	if (rc < 0) {
		pthread_mutex_unlock(&st->mu);
		set_free(&si->set);
		return rc;
	}
	size_t cnt = 0;
	for (int64_t i = pane_bitmap_next(&set, 1); i >= 0; i = pane_bitmap_next(&set, (uint32_t)i + 1))
		cnt++;
	struct snap *sn = pane_xcalloc(cnt + 1, sizeof *sn);
	size_t k0 = 0;
	/* pinned at the first head with blocks (a select of heads that are
	 * all tail, or of none, maps nothing); -1: not tried yet */
	struct ps_hview view;
	int pinned = -1;
	for (int64_t i = pane_bitmap_next(&set, 1); i >= 0; i = pane_bitmap_next(&set, (uint32_t)i + 1)) {
		struct series *s = st->ser[i];
		struct snap *x = &sn[k0++];
		x->id = s->id;
		x->nl = s->nl;
		x->keylen = s->keylen;
		x->key =
		    pane_arena_alloc(&si->mem[0].arena, (size_t)s->keylen + 1); /* the set's labels point into it */
		memcpy(x->key, s->key, (size_t)s->keylen + 1);
		if (pinned < 0 && ((s->h.hs.n && s->h.hnblk) || (s->fz && s->fz->hs.n && s->fz->hnblk)))
			pinned = ps_head_pin(st, &view);
		if (s->h.hs.n && !rc)
			rc = snap_head_take(st, s->id, &s->h, pinned > 0, &x->h, err);
		if (s->fz && s->fz->hs.n && !rc)
			rc = snap_head_take(st, s->id, s->fz, pinned > 0, &x->fz, err);
	}
	if (rc < 0) {
		if (pinned > 0)
			ps_head_unpin(st, &view);
		pthread_mutex_unlock(&st->mu);
		pane_bitmap_release(&set);
		for (size_t i = 0; i < k0; i++)
			snap_release(&sn[i]);
		free(sn);
		set_free(&si->set);
		return rc;
	}
	int64_t d0 = ps_day_of(mint), d1 = ps_day_of(maxt);
	int64_t *days = pane_xcalloc(st->nparts + 1, sizeof *days);
	uint64_t *sizes = pane_xcalloc(st->nparts + 1, sizeof *sizes);
	size_t ndays = 0;
	for (size_t i = 0; i < st->nparts; i++)
		if (st->parts[i].day >= d0 && st->parts[i].day <= d1) {
			sizes[ndays] = st->parts[i].size;
			days[ndays++] = st->parts[i].day;
		}
	unsigned nhelp = 0;
	if (cnt >= PAR_MIN_SERIES && ndays && maxt > mint && (uint64_t)maxt - (uint64_t)mint >= PAR_MIN_RANGE) {
		if (!st->workers)
			st->workers = pane_workers_new(helpers_wanted());
		nhelp = pane_workers_count(st->workers);
	}
	struct ps_reader *r = reader_take(st);
	pthread_mutex_unlock(&st->mu);
	if (ps_test_after_snapshot)
		ps_test_after_snapshot(st);
	pane_bitmap_release(&set);
	/* the heads' blocks, from the pinned view, without the lock */
	if (pinned > 0) {
		/* from the block the range needs (mint is a tier's first bucket already) */
		for (size_t i = 0; i < cnt && !rc; i++) {
			rc = snap_head_fill(&view, sn[i].id, mint, &sn[i].h, err);
			if (!rc)
				rc = snap_head_fill(&view, sn[i].id, mint, &sn[i].fz, err);
		}
		ps_head_unpin(st, &view);
	}

	/* 2. segments, without the lock; shared with helpers when big enough */
	struct sel_job job = {.st = st,
	                      .si = si,
	                      .sn = sn,
	                      .cnt = cnt,
	                      .days = days,
	                      .sizes = sizes,
	                      .ndays = ndays,
	                      .mint = mint,
	                      .maxt = maxt,
	                      .step = step,
	                      .agg = agg,
	                      .tier = step && (st->o.tiers & (step == ps_tier_steps[0] ? 1u : 2u)),
	                      .max_samples = max_samples,
	                      .res = pane_xcalloc(cnt + 1, sizeof *job.res)};
	atomic_init(&job.next, 0);
	atomic_init(&job.total, 0);
	atomic_init(&job.stop, cnt);
	struct sel_part part[PAR_MAX] = {{0}};
	if (rc < 0) /* a head's chain is broken */
		goto done;
	if (!r)
		r = reader_new(st, err);
	if (!r) {
		rc = PANE_EIO;
		goto done;
	}
	part[0] = (struct sel_part){.job = &job, .r = r};
	part_open(&part[0]);
	for (unsigned k = 1; k <= nhelp; k++) {
		part[k] = (struct sel_part){.job = &job, .k = k, .task = {.fn = part_help, .arg = &part[k]}};
		pane_workers_offer(st->workers, &part[k].task);
	}
	part_run(&part[0]);
	for (unsigned k = 1; k <= nhelp; k++)
		pane_workers_retract(st->workers, &part[k].task);

	/* 3. the series in order, as one thread reading them all would have
	 * kept them: what a thread did not read, or cut at a limit lower than
	 * this order gives, is read again here */
	si->set.series = pane_xcalloc(cnt + 1, sizeof *si->set.series);
	size_t total = 0;
	for (size_t i = 0; i < cnt && !rc; i++) {
		/* the samples still allowed are the most collected (twice that
		 * before duplicates of head and segments are merged): a series
		 * cannot allocate past max_samples before it is counted */
		size_t limit = limit_after(max_samples, total);
		struct sres *x = &job.res[i];
		if (!x->done || (x->over && !(limit && x->added > limit))) {
			struct collect c;
			rc = part_read(&part[0], i, limit, &c, err);
			if (rc < 0)
				break;
			part_keep(&part[0], i, &c);
		}
		if (x->n == 0)
			continue;
		total += x->n;
		if ((limit && x->added > limit) || (max_samples && total > max_samples)) {
			rc = pane_err_set(err, PANE_ETOOBIG, "query would read more than %zu samples", max_samples);
			pane_err_detail(err, "narrow the selector or the time range");
			break;
		}
		size_t k = si->set.n++;
		struct pane_label *lv = pane_arena_alloc(&si->mem[0].arena, (sn[i].nl ? sn[i].nl : 1) * sizeof *lv);
		const char *p = sn[i].key;
		for (size_t j = 0; j < sn[i].nl; j++) {
			lv[j].name = p;
			p += strlen(p) + 1;
			lv[j].value = p;
			p += strlen(p) + 1;
		}
		struct pane_series *ps = &si->set.series[k];
		ps->labels.v = lv;
		ps->labels.n = ps->labels.cap = sn[i].nl;
		ps->labels.owned = false;
		ps->ts = x->ts;
		ps->values = x->v;
		ps->n = x->n;
	}
	part_close(&part[0]);
done:
	reader_give_back(st, r);
	free(days);
	free(sizes);
	free(job.res);
	for (size_t i = 0; i < cnt; i++)
		snap_release(&sn[i]);
	free(sn);
	if (rc < 0)
		set_free(&si->set);
	else {
		qsort(si->set.series, si->set.n, sizeof *si->set.series, cmp_series);
		*out = &si->set;
	}
	return rc;
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
	if (step != ps_tier_steps[0] && step != ps_tier_steps[1])
		return pane_err_set(err, PANE_EINVAL, "no tier of step %" PRId64 " ms (there are 300000 and 3600000)",
		                    step);
	if ((int)agg < PANE_AGG_MIN || agg > PANE_AGG_AVG)
		return pane_err_set(err, PANE_EINVAL, "unknown tier aggregate");
	return select_impl(st, m, nm, mint, maxt, max_samples, step, agg, out, err);
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
