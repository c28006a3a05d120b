/*
 * queue.h - an output's durable queue: segment files on disk, one reader.
 *
 * Producers (the output's sink, on the pipeline's threads) append framed
 * entries; one sender reads a batch from the read cursor, delivers it, and
 * commits: the cursor moves past it and is persisted, fully sent segments
 * are deleted. What was appended survives kill -9 (it is in the file; with
 * fsync "batch" also a power cut); what was committed is never read again.
 * Delivery is at least once: after a crash the batch is read again from the
 * cursor (the sender's round record says which of its requests were already
 * answered).
 *
 * The queue is bounded by max_bytes on disk. When an append would pass it,
 * "drop_oldest" deletes the oldest segments (their unsent entries are
 * counted as dropped) and "drop_newest" refuses the append (counted too).
 *
 * An entry is: u32 length of payload, u32 crc32c of (hash, ts, payload),
 * u64 hash (the sender shards by it), i64 timestamp ms, payload bytes.
 *
 * Threads: append from any thread; read/commit from one sender thread.
 */
#ifndef PANE_OUTPUTS_QUEUE_H
#define PANE_OUTPUTS_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct pane_oqueue;

enum pane_oqueue_drop { PANE_OQUEUE_DROP_OLDEST, PANE_OQUEUE_DROP_NEWEST };
enum pane_oqueue_fsync { PANE_OQUEUE_FSYNC_BATCH, PANE_OQUEUE_FSYNC_INTERVAL, PANE_OQUEUE_FSYNC_NEVER };

struct pane_oqueue_opts {
	const char *dir;       /* created when missing */
	int64_t max_bytes;     /* bound on disk */
	int64_t segment_bytes; /* a segment is closed past this size */
	enum pane_oqueue_drop drop;
	enum pane_oqueue_fsync fsync; /* interval: pane_oqueue_sync() from a timer */
};

#define PANE_OQUEUE_HEADER 24u
#define PANE_OQUEUE_ENTRY_MAX (16u << 20)

/* Opens (recovering what is there: a torn tail is cut) or creates. NULL on
 * failure with err set. */
struct pane_oqueue *pane_oqueue_open(const struct pane_oqueue_opts *o, struct pane_err *err);
/* Persists the cursor and closes. NULL is a no-op. */
void pane_oqueue_close(struct pane_oqueue *q);

/* Appends one framed entry to buf (the caller batches them). */
void pane_oqueue_frame(struct pane_buf *buf, uint64_t hash, int64_t ts_ms, const void *payload, size_t len);
/* The same with the payload in two pieces (p1 then p2). */
void pane_oqueue_frame2(struct pane_buf *buf, uint64_t hash, int64_t ts_ms, const void *p1, size_t n1, const void *p2,
                        size_t n2);
/* Appends n framed entries (buf from pane_oqueue_frame) in one write.
 * 0; PANE_EAGAIN when drop_newest refused them (counted as dropped);
 * PANE_EIO on a write failure. */
int pane_oqueue_append(struct pane_oqueue *q, const char *buf, size_t len, size_t n, struct pane_err *err);
/* fsyncs what was appended (for the interval policy). */
int pane_oqueue_sync(struct pane_oqueue *q);

/* A batch read from the cursor: raw entries in data; offs[i] is entry i's
 * logical offset; end is the offset after the last one. */
struct pane_oqueue_batch {
	struct pane_buf data;
	uint64_t *offs;
	size_t n, cap;
	uint64_t end;
};
void pane_oqueue_batch_init(struct pane_oqueue_batch *b);
void pane_oqueue_batch_release(struct pane_oqueue_batch *b);

/* Reads up to max_entries entries (at least one when any is pending) from
 * the cursor into b (reset first). Returns the number read (0: empty). */
size_t pane_oqueue_read(struct pane_oqueue *q, size_t max_entries, struct pane_oqueue_batch *b);
/* The same, stopping before offset max_end (to read a round again exactly). */
size_t pane_oqueue_read_until(struct pane_oqueue *q, size_t max_entries, uint64_t max_end, struct pane_oqueue_batch *b);
/* The read cursor's offset. */
uint64_t pane_oqueue_cursor(struct pane_oqueue *q);
/* Moves the cursor past b (sent or given up) and persists it; deletes
 * segments read to their end. */
int pane_oqueue_commit(struct pane_oqueue *q, const struct pane_oqueue_batch *b);

/* Walks a batch's entries: i-th entry's hash, ts and payload. */
void pane_oqueue_entry(const struct pane_oqueue_batch *b, size_t i, uint64_t *hash, int64_t *ts, const char **payload,
                       size_t *len);

/* Blocks until at least min entries are pending, timeout_ms passed, or
 * pane_oqueue_wake() was called. Returns the pending count. */
uint64_t pane_oqueue_wait(struct pane_oqueue *q, uint64_t min, int64_t timeout_ms);
void pane_oqueue_wake(struct pane_oqueue *q);

struct pane_oqueue_stats {
	uint64_t pending; /* entries appended and not committed */
	uint64_t bytes;   /* on disk */
	uint64_t dropped; /* entries dropped by the bound */
	uint64_t segments;
};
void pane_oqueue_stats(struct pane_oqueue *q, struct pane_oqueue_stats *out);

uint32_t pane_oqueue_crc32c(uint32_t crc, const void *data, size_t len);

#endif
