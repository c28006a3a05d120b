/*
 * head.c - heads: the samples of a series' current window, in memory and
 * in the head file, and freezing a head when its series moves on.
 *
 * Idea: a head is one bit stream per series (hstream.h, ~3 B a sample)
 * whose full blocks leave memory for DATA_DIR/store/head, so memory per
 * series stays near one block however long the window. The head file
 * holds nothing the WAL does not: it is truncated on open, rebuilt by
 * replay, never fsync'ed. When a sample belongs to another window than
 * its series' head, the head is *frozen* (the struct moves aside; its
 * blocks stay where they are) and queued for the housekeeping thread,
 * which persists it (segment.c); the write path itself never encodes a
 * segment unless the series rolls again before housekeeping got there.
 *
 * Invariants:
 *   (1) Head-file blocks are only appended (buffered in st->hw, written
 *       with one pwrite) and moved whole by compaction, which rewrites the
 *       live chains of heads and frozen heads contiguously into a new file
 *       renamed over the old one. While a select's view is pinned
 *       (st->hpins) the file is never truncated, so the blocks the view
 *       maps never change.
 *   (2) A series has at most one frozen head, older (in seq and window)
 *       than its head (internal.h (1)); a second roll persists it first.
 *   (3) Decoding uses exactly the bytes of hnblk blocks plus the tail
 *       (read in runs of neighbouring blocks, never past the file's
 *       hblocks); a broken chain is PANE_EIO, never a crash.
 *
 * Thread context: caller holds st->mu, except ps_head_view_fill and
 * ps_head_unpin (a select's pinned view, read without the lock).
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/mem.h"

/* The head file.
 * Full blocks of head streams leave memory for DATA_DIR/store/head: fixed
 * blocks of HBLK bytes, each naming the series' previous block, so a
 * series keeps only its last block's index and the count. Each block also
 * carries its anchor (hstream.h: where its first sample starts and the
 * decoder's state before it), so a select of a head's last minutes walks
 * the chain back only to the block they start in and decodes from there. The file is
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

/* A block's anchor (hstream.h) as HANC bytes after its link (native byte
 * order: the head file never outlives the process' store). */
static void put_anchor(uint8_t *p, const struct pane_hs_anchor *a)
{
	memcpy(p, &a->t, 8);
	memcpy(p + 8, &a->dt, 8);
	memcpy(p + 16, &a->v, 8);
	memcpy(p + 24, &a->idx, 4);
	memcpy(p + 28, &a->bit, 2);
}

static void get_anchor(const uint8_t *p, struct pane_hs_anchor *a)
{
	memcpy(&a->t, p, 8);
	memcpy(&a->dt, p + 8, 8);
	memcpy(&a->v, p + 16, 8);
	memcpy(&a->idx, p + 24, 4);
	memcpy(&a->bit, p + 28, 2);
}

/* Writes the buffered blocks; on failure they stay buffered (logged). */
void ps_head_flush(struct pane_store *st)
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

/* Moves a full tail block of a head's stream to the head file. */
static void head_take(struct pane_store *st, struct head *h)
{
	uint8_t blk[HBLK];
	struct pane_hs_anchor a;
	put_u32(blk, h->hlast);
	pane_hstream_take(&h->hs, blk + HPAY, &a);
	put_anchor(blk + 4, &a);
	if (!st->hw.len)
		st->hw_first = st->hblocks;
	pane_buf_add(&st->hw, blk, HBLK);
	h->hlast = ++st->hblocks;
	h->hnblk++;
	if (st->hw.len + HBLK > HW_MAX)
		ps_head_flush(st);
}

#define RUN_MAX 128 /* blocks read at once by head_blocks */

/* Blocks [first, first + n) (all below st->hblocks) into out, n * HBLK
 * bytes: those still in hw from there, the rest with one pread. 0, or
 * PANE_EIO with errno set (0 for a file too short). */
static int head_run(struct pane_store *st, uint32_t first, uint32_t n, uint8_t *out)
{
	uint32_t written = st->hw.len ? st->hw_first : st->hblocks, nf = 0;
	if (first < written)
		nf = written - first < n ? written - first : n;
	for (size_t got = 0, want = (size_t)nf * HBLK; got < want;) {
		ssize_t r = pread(st->head_fd, out + got, want - got, (off_t)first * HBLK + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			return PANE_EIO;
		}
		got += (size_t)r;
	}
	if (nf < n) /* the rest is in hw (blocks [hw_first, hblocks)) */
		memcpy(out + (size_t)nf * HBLK, st->hw.data + (size_t)(first + nf - st->hw_first) * HBLK,
		       (size_t)(n - nf) * HBLK);
	return 0;
}

/* The payloads of the hnblk blocks of the chain ending at hlast (series
 * id) into dst, oldest first. The chain is walked from its last block back,
 * but read in runs: blocks written while one series was being written (a
 * file loaded series by series, or the head file after compaction) lie one
 * after another, so the run of blocks just before the current one is read
 * at once, and used for as long as the chain stays in it. A run the chain
 * leaves early makes the next one shorter (one block when the chain jumps
 * every time), a run used whole the next one longer. */
static int head_blocks(struct pane_store *st, uint32_t id, uint32_t hlast, uint32_t hnblk, size_t from, size_t each,
                       uint8_t *dst, struct pane_err *err)
{
	uint8_t run[RUN_MAX * HBLK];
	uint32_t cur = hlast, spec = RUN_MAX;
	for (size_t i = hnblk; i > 0;) {
		if (cur == 0 || cur > st->hblocks)
			return pane_err_set(err, PANE_EIO, "store: cannot read the head file (series %u): broken chain",
			                    id);
		/* the run of blocks ending at cur - 1: no more than the chain still needs */
		uint32_t n = spec;
		if (n > i)
			n = (uint32_t)i;
		if (n > cur)
			n = cur;
		uint32_t first = cur - n, used = 0;
		if (head_run(st, first, n, run) < 0)
			return pane_err_set(err, PANE_EIO, "store: cannot read the head file (series %u): %s", id,
			                    errno ? strerror(errno) : "short file");
		while (i > 0 && cur > first && cur - 1 - first < n) {
			const uint8_t *blk = run + (size_t)(cur - 1 - first) * HBLK;
			memcpy(dst + (i - 1) * each, blk + from, each);
			cur = get_u32(blk);
			i--;
			used++;
		}
		spec = used == n ? (2 * spec < RUN_MAX ? 2 * spec : RUN_MAX) : (used > 1 ? used : 1);
	}
	return 0;
}

uint8_t *ps_head_bytes_begin(const struct head *h, struct pane_buf *out)
{
	size_t len = ps_head_stream_len(h), tail = pane_hstream_tail_len(&h->hs);
	pane_buf_grow(out, len + 1);
	uint8_t *dst = (uint8_t *)out->data + out->len;
	memcpy(dst + len - tail, h->hs.tail, tail); /* the blocks go before it */
	out->len += len;
	out->data[out->len] = '\0';
	return dst;
}

int ps_head_bytes(struct pane_store *st, uint32_t id, const struct head *s, struct pane_buf *out, struct pane_err *err)
{
	uint8_t *dst = ps_head_bytes_begin(s, out);
	return head_blocks(st, id, s->hlast, s->hnblk, HPAY, PANE_HS_BLOCK, dst, err);
}

bool ps_head_pin(struct pane_store *st, struct ps_hview *v)
{
	v->map = NULL;
	v->len = 0;
	ps_head_flush(st);
	if (st->hw.len)
		return false; /* blocks only in memory (a failed write): copy them under the lock */
	if (st->hblocks) {
		void *p = mmap(NULL, (size_t)st->hblocks * HBLK, PROT_READ, MAP_SHARED, st->head_fd, 0);
		if (p == MAP_FAILED)
			return false;
		v->map = p;
		v->len = (size_t)st->hblocks * HBLK;
	}
	atomic_fetch_add(&st->hpins, 1);
	return true;
}

int ps_head_view_fill(const struct ps_hview *v, uint32_t id, uint32_t hlast, uint32_t hnblk, int64_t mint, uint8_t *dst,
                      uint32_t *from, struct pane_hs_anchor *a, struct pane_err *err)
{
	uint32_t nblocks = (uint32_t)(v->len / HBLK), cur = hlast;
	for (size_t i = hnblk; i-- > 0;) {
		if (cur == 0 || cur > nblocks)
			return pane_err_set(err, PANE_EIO, "store: cannot read the head file (series %u): broken chain",
			                    id);
		const uint8_t *b = v->map + (size_t)(cur - 1) * HBLK;
		memcpy(dst + i * PANE_HS_BLOCK, b + HPAY, PANE_HS_BLOCK);
		get_anchor(b + 4, a);
		/* every sample before the anchor's is at or before its t, before mint */
		if (a->idx == 0 || a->t < mint) {
			if (i == 0 && a->idx != 0)
				break; /* the chain's first block must start the stream */
			*from = (uint32_t)i;
			return 0;
		}
		cur = get_u32(b);
	}
	return pane_err_set(err, PANE_EIO, "store: cannot read the head file (series %u): broken chain", id);
}

void ps_head_unpin(struct pane_store *st, struct ps_hview *v)
{
	if (v->map)
		munmap((void *)v->map, v->len);
	v->map = NULL;
	v->len = 0;
	atomic_fetch_sub(&st->hpins, 1);
}

bool ps_head_compact_due(const struct pane_store *st)
{
	return st->hdead >= st->hcompact_min && (uint64_t)st->hdead * 4 >= (uint64_t)st->hblocks * 3;
}

/* Rewrites the head file with only the live chains (each contiguous) when
 * it is mostly dead (ps_head_compact_due); empties it when nothing lives.
 * Failure is logged and leaves the old file in use. */
void ps_head_compact(struct pane_store *st)
{
	if (!ps_head_compact_due(st))
		return;
	ps_head_flush(st);
	if (st->hw.len)
		return;
	/* truncating reuses offsets a select's pinned view may still read:
	 * then the file is replaced (an empty one renamed over it) instead */
	if (st->hdead == st->hblocks && !atomic_load(&st->hpins)) {
		if (ftruncate(st->head_fd, 0) == 0) {
			st->hblocks = st->hdead = 0;
			st->hcompact_min = HCOMPACT_MIN;
		}
		return;
	}
	char path[4096], tmp[4096];
	snprintf(path, sizeof path, "%s/head", st->dir);
	snprintf(tmp, sizeof tmp, "%s/head.tmp", st->dir);
	uint32_t *nlast = pane_xcalloc(st->nser ? 2 * st->nser : 1, sizeof *nlast); /* [2 id] h, [2 id + 1] fz */
	struct pane_buf bytes, out;
	pane_buf_init(&bytes, PANE_BUF_NOLIMIT);
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	struct pane_err err = {0};
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool good = fd >= 0;
	uint32_t n = 0;
	uint64_t off = 0;
	for (size_t k = 2; k < 2 * st->nser && good; k++) {
		size_t id = k / 2;
		struct head *s = !st->ser[id] ? NULL : k % 2 ? st->ser[id]->fz : &st->ser[id]->h;
		if (!s || !s->hnblk)
			continue;
		pane_buf_reset(&bytes);
		pane_buf_grow(&bytes, (size_t)s->hnblk * (HBLK - 4));
		good = head_blocks(st, (uint32_t)id, s->hlast, s->hnblk, 4, HBLK - 4, (uint8_t *)bytes.data, &err) == 0;
		for (size_t i = 0; i < s->hnblk && good; i++) {
			uint8_t blk[HBLK];
			put_u32(blk, i ? n : 0);
			memcpy(blk + 4, bytes.data + i * (HBLK - 4), HBLK - 4); /* the anchor and the stream bytes */
			pane_buf_add(&out, blk, HBLK);
			n++;
		}
		nlast[k] = n;
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
		for (size_t id = 1; id < st->nser; id++) {
			struct series *s = st->ser[id];
			if (s && s->h.hnblk)
				s->h.hlast = nlast[2 * id];
			if (s && s->fz && s->fz->hnblk)
				s->fz->hlast = nlast[2 * id + 1];
		}
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

/* Decodes a head of series id into arrays (caller frees), in arrival order
 * or sorted by timestamp. */
int ps_head_samples(struct pane_store *st, uint32_t id, const struct head *s, bool sorted, int64_t **tsout,
                    double **vout, struct pane_err *err)
{
	size_t n = s->hs.n;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	int rc = ps_head_bytes(st, id, s, &b, err);
	int64_t *ts = pane_xmalloc(pane_mul_size(n ? n : 1, sizeof *ts));
	double *v = pane_xmalloc(pane_mul_size(n ? n : 1, sizeof *v));
	if (!rc && pane_hstream_decode((const uint8_t *)b.data, b.len, n, ts, v) < 0)
		rc = pane_err_set(err, PANE_EIO, "store: the head of series %u does not decode", id);
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

/* Empties a head (its samples are in a segment now). */
void ps_head_reset(struct pane_store *st, struct head *h)
{
	st->hdead += h->hnblk;
	h->hlast = 0;
	h->hnblk = 0;
	h->unsorted = false;
	pane_hstream_init(&h->hs);
}

/* Freezes s's head for the housekeeping thread (O(1): the struct moves,
 * its head-file blocks stay where they are) and starts an empty one. A
 * frozen head still waiting (two rolls before housekeeping ran: a
 * backfill, out-of-order writes across a window edge) is persisted here. */
static int head_freeze(struct pane_store *st, struct series *s, struct pane_err *err)
{
	if (s->fz) {
		int rc = ps_persist_frozen(st, s, err);
		if (rc < 0)
			return rc;
		st->c.persist_inline++;
	}
	s->fz = pane_xmalloc(sizeof *s->fz);
	*s->fz = s->h;
	s->h.hlast = 0;
	s->h.hnblk = 0;
	s->h.unsorted = false;
	pane_hstream_init(&s->h.hs);
	if (!s->queued) {
		if (st->nfrozen == st->capfrozen) {
			st->capfrozen = st->capfrozen ? 2 * st->capfrozen : 256;
			st->frozen = pane_xrealloc(st->frozen, pane_mul_size(st->capfrozen, sizeof *st->frozen));
		}
		st->frozen[st->nfrozen++] = s->id;
		s->queued = true;
	}
	st->hk_wake = true;
	return 0;
}

/* Adds one sample to a series' head (sample already in the WAL). A head
 * that holds another window, or SEG_TARGET samples, is frozen first: the
 * write path never persists unless two rolls come before housekeeping. */
int ps_head_add(struct pane_store *st, struct series *s, int64_t ts, double v, uint64_t seq, struct pane_err *err)
{
	int64_t win = ts / WINDOW_MS - (ts % WINDOW_MS < 0);
	struct head *h = &s->h;
	if (h->hs.n && (h->win != win || h->hs.n >= SEG_TARGET)) {
		int rc = head_freeze(st, s, err);
		if (rc < 0)
			return rc;
	}
	if (!h->hs.n)
		h->win = win;
	else if (ts < h->hs.t)
		h->unsorted = true;
	if (pane_hstream_full(&h->hs)) {
		if (st->hblocks == UINT32_MAX)
			return pane_err_set(err, PANE_EIO, "store: the head file is full");
		head_take(st, h);
	}
	pane_hstream_append(&h->hs, ts, v);
	if (seq > h->seq)
		h->seq = seq;
	if (ts < s->mint)
		s->mint = ts;
	if (ts > s->maxt)
		s->maxt = ts;
	return 0;
}
