/*
 * wal.c - the store's write-ahead log: records, append, replay, checkpoint.
 *
 * Idea: every accepted batch is one record (length, CRC-32C, type, body)
 * appended with one write(2) before the write returns, so what a caller
 * was told is stored survives kill -9; fdatasync follows the fsync policy.
 * A record is REC_SERIES (a new series' id and key), REC_SAMPLES (the
 * first seq, then id, zigzag ts, value bits per sample, seqs consecutive)
 * or REC_HEAD (the first seq, the series id, the sample count, then the
 * head's encoded stream, hstream.h: a checkpoint's, ~1-3 bytes a sample
 * where REC_SAMPLES takes ~16, so heads ~8x as long fit the WAL's limit
 * before a checkpoint must persist them early as short segments).
 * Replay stops at the first torn or corrupt record and cuts the file
 * there: a crash can only tear the last write. A checkpoint replaces the
 * WAL (write to wal.tmp, fsync, rename, fsync the directory) with one
 * holding only the samples still in heads, under fresh seqs.
 *
 * Invariants:
 *   (1) Bytes [0, wal_size) of the file are whole, valid records after the
 *       magic; a failed append is cut back to wal_size and the offset
 *       reset, so the next record never follows a hole.
 *   (2) Replay adds a sample to a head only when its seq is above the
 *       series' pseq (internal.h (1)); a checkpoint writes a series'
 *       frozen head before its head, so their seqs keep that order.
 *   (3) A checkpoint syncs the partition files first: the WAL it drops
 *       was the only durable copy of nothing but heads.
 *
 * Thread context: caller holds st->mu (replay runs during open).
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/mem.h"
#include "store/codec.h"

void ps_rec_uv(struct pane_buf *b, uint64_t v)
{
	pane_uvarint_add(b, v);
}

void ps_rec_begin(struct pane_buf *b, int type)
{
	static const char hdr[8] = {0};
	pane_buf_add(b, hdr, 8); /* length + crc, patched by ps_rec_end */
	pane_buf_addc(b, (char)type);
}

void ps_rec_end(struct pane_buf *b, size_t start)
{
	uint32_t len = (uint32_t)(b->len - start - 8);
	uint32_t crc = pane_crc32c(0, b->data + start + 8, len);
	uint8_t *h = (uint8_t *)b->data + start;
	for (int i = 0; i < 4; i++) {
		h[i] = (uint8_t)(len >> (8 * i));
		h[4 + i] = (uint8_t)(crc >> (8 * i));
	}
}

int ps_write_all(int fd, const void *p, size_t len)
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

int ps_wal_sync(struct pane_store *st, struct pane_err *err)
{
	if (!st->wal_unsynced)
		return 0;
	if (fdatasync(st->wal_fd) < 0)
		return pane_err_set(err, PANE_EIO, "store: fsync of the WAL failed: %s", strerror(errno));
	st->wal_unsynced = false;
	st->last_sync_ms = pane_mono_ns() / 1000000;
	return 0;
}

int ps_wal_append(struct pane_store *st, const void *p, size_t len, struct pane_err *err)
{
	if (ps_write_all(st->wal_fd, p, len) < 0) {
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
		return ps_wal_sync(st, err);
	if (st->o.fsync == PANE_FSYNC_INTERVAL &&
	    pane_mono_ns() / 1000000 - st->last_sync_ms >= st->o.fsync_interval_ms)
		return ps_wal_sync(st, err);
	return 0;
}

void ps_wal_series_rec(struct pane_buf *walrec, const struct series *s)
{
	size_t start = walrec->len;
	ps_rec_begin(walrec, REC_SERIES);
	ps_rec_uv(walrec, s->id);
	ps_rec_uv(walrec, s->keylen);
	pane_buf_add(walrec, s->key, s->keylen);
	ps_rec_end(walrec, start);
}

/* Adds sample (ts, v) numbered seq to series sid's head unless a segment
 * has it already. */
static int replay_sample(struct pane_store *st, uint64_t sid, uint64_t seq, int64_t ts, double v, struct pane_err *err)
{
	if (sid >= st->nser || !st->ser[sid])
		return PANE_EINVAL;
	struct series *s = st->ser[sid];
	if (seq > s->pseq) {
		int rc = ps_head_add(st, s, ts, v, seq, err);
		if (rc < 0)
			return rc;
	}
	if (seq >= st->next_seq)
		st->next_seq = seq + 1;
	return 0;
}

/* A REC_HEAD body: seq, series id, n (1..SEG_TARGET), then the stream. */
static int replay_head(struct pane_store *st, const uint8_t *p, size_t len, struct pane_err *err)
{
	struct pane_rd r = {p, len, 0, false};
	uint64_t seq = pane_rd_uv(&r), sid = pane_rd_uv(&r), n = pane_rd_uv(&r);
	if (r.bad || n == 0 || n > SEG_TARGET || seq > UINT64_MAX - n)
		return PANE_EINVAL;
	int64_t *ts = pane_xmalloc((size_t)n * sizeof *ts);
	double *v = pane_xmalloc((size_t)n * sizeof *v);
	int rc = pane_hstream_decode(p + r.off, len - r.off, (size_t)n, ts, v) < 0 ? PANE_EINVAL : 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = replay_sample(st, sid, seq + i, ts[i], v[i], err);
	free(ts);
	free(v);
	return rc;
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
		if (ps_by_key_get(st, p + off, (size_t)b))
			return PANE_EINVAL;
		struct series *s = ps_series_make((uint32_t)a, (const char *)p + off, (size_t)b);
		ps_series_register(st, s);
		return ps_catalog_insert(st, s, err);
	}
	if (p[0] == REC_HEAD)
		return replay_head(st, p + off, len - off, err);
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
		int rc = replay_sample(st, sid, seq++, pane_unzigzag(zt), v, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int ps_replay_wal(struct pane_store *st, const char *path, struct pane_err *err)
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
			pane_warn("store",
			          "WAL %s at byte %zu: cutting %zu bytes (a crash during a write; every "
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

/* True when a checkpoint now would persist every head first (their
 * streams would make the new WAL itself larger than half its limit).
 * Caller holds mu. What ps_checkpoint writes, at most: per head its
 * stream and a record's header, seq, id and count (38 bytes); the magic. */
bool ps_checkpoint_would_persist(struct pane_store *st)
{
	uint64_t bytes = 8;
	for (size_t id = 1; id < st->nser; id++) {
		const struct series *s = st->ser[id];
		if (!s)
			continue;
		if (s->h.hs.n)
			bytes += 38 + ps_head_stream_len(&s->h);
		if (s->fz && s->fz->hs.n)
			bytes += 38 + ps_head_stream_len(s->fz);
	}
	return (int64_t)bytes > st->o.wal_max_bytes / 2;
}

/* Rewrites the WAL to hold only what is not in segments (caller holds mu).
 * When that would itself be large (long heads, e.g. a huge import), the
 * heads are persisted first so checkpoints cannot repeat back to back. */
int ps_checkpoint(struct pane_store *st, struct pane_err *err)
{
	if (ps_checkpoint_would_persist(st)) {
		int prc = ps_persist_all(st, err);
		if (prc < 0)
			return prc;
	}
	int rc = ps_sync_parts(st, err);
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
	uint64_t seq = st->next_seq, size = 0;
	/* the frozen head of a series before its current one, so their seqs keep their order */
	for (size_t k = 2; k < 2 * st->nser && rc == 0; k++) {
		if (b.len >= (1u << 20)) { /* written as it goes: no second copy of every head in memory */
			if (ps_write_all(fd, b.data, b.len) < 0) {
				rc = pane_err_set(err, PANE_EIO, "store: cannot write %s: %s", tmp, strerror(errno));
				break;
			}
			size += b.len;
			pane_buf_reset(&b);
		}
		struct series *s = st->ser[k / 2];
		struct head *h = !s ? NULL : k % 2 ? &s->h : s->fz;
		if (!h || !h->hs.n)
			continue;
		/* the stream in arrival order: replay appends the samples again as they came */
		size_t start = b.len;
		ps_rec_begin(&b, REC_HEAD);
		ps_rec_uv(&b, seq);
		ps_rec_uv(&b, s->id);
		ps_rec_uv(&b, h->hs.n);
		if ((rc = ps_head_bytes(st, s->id, h, &b, err)) < 0)
			break;
		ps_rec_end(&b, start);
		seq += h->hs.n;
		/* the new seqs are above every pseq: the head's watermark follows them */
		h->seq = seq - 1;
	}
	if (!rc && (ps_write_all(fd, b.data, b.len) < 0 || fdatasync(fd) < 0))
		rc = pane_err_set(err, PANE_EIO, "store: cannot write %s: %s", tmp, strerror(errno));
	size += b.len;
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
	st->wal_size = size;
	st->c.wal_bytes = size;
	st->wal_unsynced = false;
	st->next_seq = seq;
	pane_buf_release(&b);
	return 0;
}
