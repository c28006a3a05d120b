/*
 * queue.c - an output's durable queue: append-only segment files + a cursor.
 *
 * Idea: the queue is a log, not a ring. Producers append framed entries to
 * the newest segment file (DIR/<16 hex digits of its first offset>.seg);
 * the one sender reads from the cursor, delivers, and commits, which moves
 * the cursor (DIR/cursor, 16 bytes) and deletes segments wholly behind it.
 * Offsets are logical bytes since the queue was created, so a segment's name
 * says where it starts and the cursor is one number. A log beats an
 * in-memory ring with spill-over: there is one path for the normal case and
 * for an outage of hours, and a restart finds the backlog where it was.
 *
 * Invariants:
 *   1. Segments are contiguous: segs[i].start + segs[i].size ==
 *      segs[i+1].start; the last one is the only one appended to.
 *   2. segs[0].start <= cursor <= end; the cursor is on an entry boundary.
 *   3. pending == sum of segs[i].unacked == entries at offsets >= cursor.
 *   4. end - segs[0].start <= max_bytes after every append (the drop policy
 *      makes room or refuses).
 *   5. Recovery trusts the header lengths of closed segments and checks the
 *      crc of every entry of the last one, cutting a torn tail.
 *
 * Threads: one mutex guards the segment table and counters; appends write
 * under it (one write() per batch keeps entries whole and ordered); the
 * sender reads with pread on its own fd and persists the cursor outside it.
 */
#include "outputs/queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

struct seg {
	uint64_t start, size;
	uint64_t unacked;
};

struct pane_oqueue {
	struct pane_oqueue_opts o;
	char *dir;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct seg *segs;
	size_t n_segs, cap_segs;
	int fd; /* the last segment, for appends */
	int cursor_fd;
	uint64_t cursor, end;
	uint64_t pending, dropped;
	uint64_t want; /* the waiter's minimum */
	bool woken;
	bool dirty; /* appended since the last sync */
};

/* ---- crc32c (Castagnoli), table driven ---- */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_CRC_HW 1
/* SSE4.2's crc32 instruction computes crc32c: 8 bytes per step */
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = (uint32_t)~crc;
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return ~c32;
}
static bool crc_has_hw;
#endif

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
#ifdef HAVE_CRC_HW
	__builtin_cpu_init();
	crc_has_hw = __builtin_cpu_supports("sse4.2");
#endif
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t pane_oqueue_crc32c(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&crc_once, crc_init);
	const unsigned char *p = data;
#ifdef HAVE_CRC_HW
	if (crc_has_hw)
		return crc_hw(crc, p, len);
#endif
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- framing ---- */

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

void pane_oqueue_frame(struct pane_buf *buf, uint64_t hash, int64_t ts_ms, const void *payload, size_t len)
{
	pane_oqueue_frame2(buf, hash, ts_ms, payload, len, NULL, 0);
}

void pane_oqueue_frame2(struct pane_buf *buf, uint64_t hash, int64_t ts_ms, const void *p1, size_t n1, const void *p2,
                        size_t n2)
{
	if (pane_buf_grow(buf, PANE_OQUEUE_HEADER + n1 + n2) < 0)
		return;
	unsigned char *h = (unsigned char *)buf->data + buf->len;
	put32(h, (uint32_t)(n1 + n2));
	memcpy(h + 8, &hash, 8);
	memcpy(h + 16, &ts_ms, 8);
	if (n1)
		memcpy(h + PANE_OQUEUE_HEADER, p1, n1);
	if (n2)
		memcpy(h + PANE_OQUEUE_HEADER + n1, p2, n2);
	put32(h + 4, pane_oqueue_crc32c(0, h + 8, 16 + n1 + n2));
	buf->len += PANE_OQUEUE_HEADER + n1 + n2;
	buf->data[buf->len] = 0;
}

static bool entry_ok(const unsigned char *e, size_t avail, size_t *total)
{
	if (avail < PANE_OQUEUE_HEADER)
		return false;
	uint32_t len = get32(e);
	if (len > PANE_OQUEUE_ENTRY_MAX || avail - PANE_OQUEUE_HEADER < len)
		return false;
	uint32_t crc = pane_oqueue_crc32c(0, e + 8, 16);
	crc = pane_oqueue_crc32c(crc, e + PANE_OQUEUE_HEADER, len);
	if (crc != get32(e + 4))
		return false;
	*total = PANE_OQUEUE_HEADER + len;
	return true;
}

/* ---- files ---- */

static char *seg_path(const struct pane_oqueue *q, uint64_t start)
{
	size_t n = strlen(q->dir) + 32;
	char *p = pane_xmalloc(n);
	snprintf(p, n, "%s/%016" PRIx64 ".seg", q->dir, start);
	return p;
}

static int mkdirs(const char *dir)
{
	char *d = pane_xstrdup(dir);
	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(d, 0750) < 0 && errno != EEXIST) {
			free(d);
			return -1;
		}
		*p = '/';
	}
	int rc = mkdir(d, 0750) < 0 && errno != EEXIST ? -1 : 0;
	free(d);
	return rc;
}

static void write_cursor(int fd, uint64_t off, bool sync)
{
	uint64_t v[2] = {off, ~off};
	if (pwrite(fd, v, sizeof v, 0) != (ssize_t)sizeof v)
		pane_log_kv(PANE_LOG_ERROR, "outputs", "cannot write the queue cursor", "error", strerror(errno), NULL);
	else if (sync)
		(void)fdatasync(fd);
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static void push_seg(struct pane_oqueue *q, uint64_t start, uint64_t size)
{
	if (q->n_segs == q->cap_segs) {
		q->cap_segs = q->cap_segs ? q->cap_segs * 2 : 16;
		q->segs = pane_xrealloc(q->segs, q->cap_segs * sizeof *q->segs);
	}
	q->segs[q->n_segs++] = (struct seg){.start = start, .size = size};
}

/* Walks a segment's entries: counts those at offsets >= cursor; with check,
 * verifies crcs and returns the length of the valid prefix. */
static uint64_t scan_seg(struct pane_oqueue *q, struct seg *s, bool check)
{
	char *path = seg_path(q, s->start);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;
	size_t cap = 4u << 20;
	unsigned char *buf = pane_xmalloc(cap);
	uint64_t pos = 0, valid = 0;
	size_t have = 0, at = 0;
	for (;;) {
		if (have - at < PANE_OQUEUE_HEADER || have - at < PANE_OQUEUE_HEADER + get32(buf + at)) {
			memmove(buf, buf + at, have - at);
			have -= at;
			at = 0;
			if (have >= PANE_OQUEUE_HEADER && PANE_OQUEUE_HEADER + (size_t)get32(buf) > cap &&
			    get32(buf) <= PANE_OQUEUE_ENTRY_MAX) {
				cap = PANE_OQUEUE_HEADER + get32(buf);
				buf = pane_xrealloc(buf, cap);
			}
			ssize_t r = pread(fd, buf + have, cap - have, (off_t)(pos + have));
			if (r <= 0)
				break;
			have += (size_t)r;
			continue;
		}
		size_t total;
		if (check) {
			if (!entry_ok(buf + at, have - at, &total))
				break;
		} else {
			total = PANE_OQUEUE_HEADER + get32(buf + at);
		}
		if (s->start + pos >= q->cursor)
			s->unacked++;
		at += total;
		pos += total;
		valid = pos;
		if (at == have) {
			at = have = 0;
		}
	}
	/* pos counts bytes consumed before the buffer start; fix up */
	free(buf);
	close(fd);
	return valid;
}

struct pane_oqueue *pane_oqueue_open(const struct pane_oqueue_opts *o, struct pane_err *err)
{
	if (mkdirs(o->dir) < 0) {
		pane_err_set(err, PANE_EIO, "cannot create %s: %s", o->dir, strerror(errno));
		return NULL;
	}
	struct pane_oqueue *q = pane_xcalloc(1, sizeof *q);
	q->o = *o;
	q->dir = pane_xstrdup(o->dir);
	q->o.dir = q->dir;
	q->fd = -1;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	size_t n = strlen(q->dir) + 16;
	char *cpath = pane_xmalloc(n);
	snprintf(cpath, n, "%s/cursor", q->dir);
	q->cursor_fd = open(cpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	free(cpath);
	if (q->cursor_fd < 0) {
		pane_err_set(err, PANE_EIO, "cannot open the cursor in %s: %s", q->dir, strerror(errno));
		goto fail;
	}
	uint64_t cv[2];
	if (pread(q->cursor_fd, cv, sizeof cv, 0) == (ssize_t)sizeof cv && cv[1] == ~cv[0])
		q->cursor = cv[0];
	DIR *d = opendir(q->dir);
	if (!d) {
		pane_err_set(err, PANE_EIO, "cannot read %s: %s", q->dir, strerror(errno));
		goto fail;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l != 20 || strcmp(de->d_name + 16, ".seg") != 0)
			continue;
		char *endp;
		uint64_t start = strtoull(de->d_name, &endp, 16);
		if (endp != de->d_name + 16)
			continue;
		char *path = seg_path(q, start);
		struct stat st;
		if (stat(path, &st) == 0)
			push_seg(q, start, (uint64_t)st.st_size);
		free(path);
	}
	closedir(d);
	if (q->n_segs)
		qsort(q->segs, q->n_segs, sizeof *q->segs, cmp_seg);
	/* a gap (a segment lost by hand) restarts the table after it */
	for (size_t i = 1; i < q->n_segs; i++) {
		if (q->segs[i - 1].start + q->segs[i - 1].size != q->segs[i].start) {
			pane_warn("outputs", "%s: segments are not contiguous; starting after the gap", q->dir);
			for (size_t k = 0; k < i; k++) {
				char *path = seg_path(q, q->segs[k].start);
				unlink(path);
				free(path);
			}
			memmove(q->segs, q->segs + i, (q->n_segs - i) * sizeof *q->segs);
			q->n_segs -= i;
			i = 0;
		}
	}
	if (q->n_segs == 0)
		push_seg(q, q->cursor, 0);
	if (q->cursor < q->segs[0].start)
		q->cursor = q->segs[0].start;
	for (size_t i = 0; i < q->n_segs; i++) {
		struct seg *s = &q->segs[i];
		bool last = i + 1 == q->n_segs;
		uint64_t valid = scan_seg(q, s, last);
		if (last && valid != s->size) {
			char *path = seg_path(q, s->start);
			if (truncate(path, (off_t)valid) == 0 && s->size)
				pane_warn("outputs", "%s: cut a torn tail of %" PRIu64 " bytes", path, s->size - valid);
			free(path);
			s->size = valid;
		}
		q->pending += s->unacked;
	}
	struct seg *last = &q->segs[q->n_segs - 1];
	q->end = last->start + last->size;
	if (q->cursor > q->end)
		q->cursor = q->end;
	char *path = seg_path(q, last->start);
	q->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	free(path);
	if (q->fd < 0) {
		pane_err_set(err, PANE_EIO, "cannot open a segment in %s: %s", q->dir, strerror(errno));
		goto fail;
	}
	return q;
fail:
	pane_oqueue_close(q);
	return NULL;
}

void pane_oqueue_close(struct pane_oqueue *q)
{
	if (!q)
		return;
	if (q->fd >= 0) {
		if (q->o.fsync != PANE_OQUEUE_FSYNC_NEVER)
			(void)fdatasync(q->fd);
		close(q->fd);
	}
	if (q->cursor_fd >= 0) {
		write_cursor(q->cursor_fd, q->cursor, q->o.fsync != PANE_OQUEUE_FSYNC_NEVER);
		close(q->cursor_fd);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->segs);
	free(q->dir);
	free(q);
}

/* Starts a new segment at end. Under mu. */
static int roll(struct pane_oqueue *q)
{
	char *path = seg_path(q, q->end);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	free(path);
	if (fd < 0)
		return PANE_EIO;
	if (q->o.fsync != PANE_OQUEUE_FSYNC_NEVER)
		(void)fdatasync(q->fd);
	close(q->fd);
	q->fd = fd;
	push_seg(q, q->end, 0);
	return 0;
}

/* Deletes the oldest segment, counting its unsent entries. Under mu. */
static void drop_first(struct pane_oqueue *q)
{
	struct seg *s = &q->segs[0];
	q->dropped += s->unacked;
	q->pending -= s->unacked;
	if (q->cursor < s->start + s->size)
		q->cursor = s->start + s->size;
	char *path = seg_path(q, s->start);
	unlink(path);
	free(path);
	memmove(q->segs, q->segs + 1, (q->n_segs - 1) * sizeof *q->segs);
	q->n_segs--;
}

int pane_oqueue_append(struct pane_oqueue *q, const char *buf, size_t len, size_t n, struct pane_err *err)
{
	pthread_mutex_lock(&q->mu);
	uint64_t max = (uint64_t)q->o.max_bytes;
	if (q->end - q->segs[0].start + len > max) {
		if (q->o.drop == PANE_OQUEUE_DROP_OLDEST && len <= max / 2) {
			if (q->n_segs == 1 && q->segs[0].size > 0 && roll(q) < 0)
				goto full;
			while (q->n_segs > 1 && q->end - q->segs[0].start + len > max)
				drop_first(q);
		}
		if (q->end - q->segs[0].start + len > max)
			goto full;
	}
	struct seg *last = &q->segs[q->n_segs - 1];
	if (last->size >= (uint64_t)q->o.segment_bytes) {
		if (roll(q) < 0) {
			pthread_mutex_unlock(&q->mu);
			return pane_err_set(err, PANE_EIO, "cannot start a queue segment in %s: %s", q->dir,
			                    strerror(errno));
		}
		last = &q->segs[q->n_segs - 1];
	}
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(q->fd, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			if (ftruncate(q->fd, (off_t)last->size) < 0)
				e = errno;
			pthread_mutex_unlock(&q->mu);
			return pane_err_set(err, PANE_EIO, "cannot append to the queue in %s: %s", q->dir, strerror(e));
		}
		done += (size_t)w;
	}
	if (q->o.fsync == PANE_OQUEUE_FSYNC_BATCH)
		(void)fdatasync(q->fd);
	else
		q->dirty = true;
	last->size += len;
	last->unacked += n;
	q->end += len;
	q->pending += n;
	if (q->pending >= q->want)
		pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
full:
	q->dropped += n;
	pthread_mutex_unlock(&q->mu);
	return pane_err_set(err, PANE_EAGAIN, "queue %s is full (max_size): %zu entries dropped", q->dir, n);
}

int pane_oqueue_sync(struct pane_oqueue *q)
{
	pthread_mutex_lock(&q->mu);
	int rc = 0;
	if (q->dirty) {
		rc = fdatasync(q->fd) < 0 ? PANE_EIO : 0;
		q->dirty = false;
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void pane_oqueue_batch_init(struct pane_oqueue_batch *b)
{
	memset(b, 0, sizeof *b);
	pane_buf_init(&b->data, (size_t)1 << 34);
}

void pane_oqueue_batch_release(struct pane_oqueue_batch *b)
{
	pane_buf_release(&b->data);
	free(b->offs);
	memset(b, 0, sizeof *b);
}

size_t pane_oqueue_read(struct pane_oqueue *q, size_t max_entries, struct pane_oqueue_batch *b)
{
	return pane_oqueue_read_until(q, max_entries, UINT64_MAX, b);
}

size_t pane_oqueue_read_until(struct pane_oqueue *q, size_t max_entries, uint64_t max_end, struct pane_oqueue_batch *b)
{
	pane_buf_reset(&b->data);
	b->n = 0;
	pthread_mutex_lock(&q->mu);
	uint64_t c = q->cursor;
	b->end = c;
	size_t i = 0;
	while (i < q->n_segs && q->segs[i].start + q->segs[i].size <= c && i + 1 < q->n_segs)
		i++;
	struct seg s = q->segs[i];
	uint64_t avail = s.start + s.size > c ? s.start + s.size - c : 0;
	if (max_end != UINT64_MAX)
		avail = max_end > c ? (max_end - c < avail ? max_end - c : avail) : 0;
	int fd = -1;
	if (avail) {
		char *path = seg_path(q, s.start);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		free(path);
	}
	pthread_mutex_unlock(&q->mu);
	if (fd < 0)
		return 0;
	/* read a chunk sized for max_entries of ~256 bytes, then whole entries */
	size_t want = max_entries * 256 < avail ? max_entries * 256 : (size_t)avail;
	if (want < 65536)
		want = avail < 65536 ? (size_t)avail : 65536;
	size_t at = 0;
	bool corrupt = false;
	while (b->n < max_entries) {
		if (b->data.len - at < PANE_OQUEUE_HEADER ||
		    b->data.len - at < PANE_OQUEUE_HEADER + (size_t)get32((unsigned char *)b->data.data + at)) {
			size_t more = want;
			if (b->data.len - at >= PANE_OQUEUE_HEADER)
				more += PANE_OQUEUE_HEADER + get32((unsigned char *)b->data.data + at);
			if (more > avail - b->data.len)
				more = (size_t)(avail - b->data.len);
			if (more == 0)
				break;
			if (pane_buf_grow(&b->data, more) < 0)
				break;
			ssize_t r = pread(fd, b->data.data + b->data.len, more, (off_t)(c - s.start + b->data.len));
			if (r <= 0)
				break;
			b->data.len += (size_t)r;
			continue;
		}
		size_t total;
		if (!entry_ok((unsigned char *)b->data.data + at, b->data.len - at, &total)) {
			corrupt = true;
			break;
		}
		if (b->n == b->cap) {
			b->cap = b->cap ? b->cap * 2 : 1024;
			b->offs = pane_xrealloc(b->offs, b->cap * sizeof *b->offs);
		}
		b->offs[b->n++] = c + at;
		at += total;
	}
	close(fd);
	b->data.len = at;
	b->end = c + at;
	if (corrupt && b->n == 0) {
		/* a damaged entry: skip the rest of this segment (counted at commit) */
		pane_error("outputs", "%s: damaged entry at offset %" PRIu64 "; skipping the rest of its segment",
		           q->dir, c);
		b->end = s.start + s.size;
	}
	return b->n;
}

void pane_oqueue_entry(const struct pane_oqueue_batch *b, size_t i, uint64_t *hash, int64_t *ts, const char **payload,
                       size_t *len)
{
	const unsigned char *e = (const unsigned char *)b->data.data + (b->offs[i] - b->offs[0]);
	*len = get32(e);
	memcpy(hash, e + 8, 8);
	memcpy(ts, e + 16, 8);
	*payload = (const char *)e + PANE_OQUEUE_HEADER;
}

int pane_oqueue_commit(struct pane_oqueue *q, const struct pane_oqueue_batch *b)
{
	pthread_mutex_lock(&q->mu);
	size_t si = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (b->offs[i] < q->cursor)
			continue; /* dropped by the bound meanwhile (counted then) */
		while (si + 1 < q->n_segs && q->segs[si].start + q->segs[si].size <= b->offs[i])
			si++;
		if (q->segs[si].unacked) {
			q->segs[si].unacked--;
			q->pending--;
		}
	}
	if (b->n == 0 && b->end > q->cursor) {
		/* skipped damage: whatever was unsent in that segment is lost */
		for (size_t i = 0; i < q->n_segs; i++)
			if (q->segs[i].start + q->segs[i].size <= b->end &&
			    q->segs[i].start + q->segs[i].size > q->cursor) {
				q->dropped += q->segs[i].unacked;
				q->pending -= q->segs[i].unacked;
				q->segs[i].unacked = 0;
			}
	}
	if (b->end > q->cursor)
		q->cursor = b->end;
	while (q->n_segs > 1 && q->segs[0].start + q->segs[0].size <= q->cursor) {
		char *path = seg_path(q, q->segs[0].start);
		unlink(path);
		free(path);
		memmove(q->segs, q->segs + 1, (q->n_segs - 1) * sizeof *q->segs);
		q->n_segs--;
	}
	uint64_t c = q->cursor;
	pthread_mutex_unlock(&q->mu);
	/* kill -9 keeps what is written; only "batch" pays an fsync per round
	 * (the cursor is fsynced at close and lost at worst to a power cut,
	 * which resends: at least once) */
	write_cursor(q->cursor_fd, c, q->o.fsync == PANE_OQUEUE_FSYNC_BATCH);
	return 0;
}

uint64_t pane_oqueue_cursor(struct pane_oqueue *q)
{
	pthread_mutex_lock(&q->mu);
	uint64_t c = q->cursor;
	pthread_mutex_unlock(&q->mu);
	return c;
}

uint64_t pane_oqueue_wait(struct pane_oqueue *q, uint64_t min, int64_t timeout_ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&q->mu);
	q->want = min ? min : 1;
	while (q->pending < q->want && !q->woken)
		if (pthread_cond_timedwait(&q->cv, &q->mu, &dl) == ETIMEDOUT)
			break;
	q->woken = false;
	q->want = UINT64_MAX;
	uint64_t p = q->pending;
	pthread_mutex_unlock(&q->mu);
	return p;
}

void pane_oqueue_wake(struct pane_oqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->woken = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void pane_oqueue_stats(struct pane_oqueue *q, struct pane_oqueue_stats *out)
{
	pthread_mutex_lock(&q->mu);
	out->pending = q->pending;
	out->bytes = q->end - q->segs[0].start;
	out->dropped = q->dropped;
	out->segments = q->n_segs;
	pthread_mutex_unlock(&q->mu);
}
