/*
 * sender.c - one output's sender: read the queue, shard, POST, commit.
 *
 * Idea: delivery runs in rounds. The dispatcher thread reads up to
 * shards x capacity entries from the durable queue, splits them by series
 * hash into one bucket per shard, lets the shard threads send their buckets
 * (each in requests of at most max_samples_per_send, retried until they
 * succeed or are refused for good), and commits the round only when every
 * shard is done. So a series' samples leave in time order (a series is in
 * one bucket per round and rounds are sequential), shards run in parallel,
 * and the queue's cursor is one number that never passes an unsent entry.
 * The shard count follows the backlog: ceil(pending / capacity) clamped to
 * min_shards..max_shards, decided per round.
 *
 * Retries: transport errors, timeouts, 429 and 5xx are retried with
 * exponential backoff (min_backoff doubling up to max_backoff), or after the
 * receiver's Retry-After when it sends one; any other 4xx drops that
 * request's samples (counted as failed and dropped, logged).
 *
 * States of a shard: IDLE -> (dispatcher gives a bucket) BUSY -> (sent or
 * stop) IDLE; the dispatcher waits for no BUSY shard before committing.
 *
 * A crash mid-round: DIR/round records the round's extent and which of its
 * requests were acknowledged (struct round_rec); the first round after a
 * restart reads the same extent, splits it the same way and skips those, so
 * only requests whose answer was lost are sent twice.
 *
 * Threads: one dispatcher, up to max_shards shard threads (started on first
 * use), each with its own HTTP client. sender_stop() cancels waits and
 * transfers; an uncommitted round is sent again after a restart.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/stats.h"
#include "http/client.h"
#include "outputs/internal.h"

struct shard {
	struct sender *s;
	int idx;
	pthread_t thread;
	bool started, busy;
	struct pane_http_client *client;
	size_t *items; /* indices into the round's batch */
	size_t n, cap;
	struct pane_buf body;
	char *snappy;
	size_t snappy_cap;
};

/* The round in flight, persisted in DIR/round: which requests the receiver
 * already acknowledged (bit i of done[k]: shard k's i-th request). After a
 * crash the same round [start, end) is read again, split the same way, and
 * those requests are skipped, so a kill mid-round resends only a request
 * whose answer was lost in the last microseconds. Requests past 64 shards
 * or 64 per shard are not recorded (resent after a crash). */
#define ROUND_MAGIC 0x70616e65726f756eull
struct round_rec {
	uint64_t magic, start, end;
	uint32_t nsh, per;
	uint64_t done[64];
	uint32_t crc, pad;
};

struct sender {
	struct output *o;
	int round_fd;
	struct round_rec rec;
	bool resume; /* rec holds a round to finish first */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_bool stop;
	size_t busy;
	struct shard *shards;
	struct pane_oqueue_batch batch;
	int64_t round_oldest_ts;
	struct pane_log_limit loglim;
};

static bool cancelled(void *arg)
{
	struct sender *s = arg;
	return atomic_load(&s->stop);
}

static void set_lag(struct sender *s)
{
	if (s->round_oldest_ts > 0) {
		double lag = (double)(pane_wall_ms() - s->round_oldest_ts) / 1000.0;
		pane_stat_set(s->o->st_lag, lag > 0 ? lag : 0);
	}
}

/* Sends entries items[from..to) of the batch; 0 when delivered or refused
 * for good, PANE_ECANCELED on stop. */
static int send_chunk(struct shard *sh, size_t from, size_t to)
{
	struct sender *s = sh->s;
	struct output *o = s->o;
	pane_buf_reset(&sh->body);
	for (size_t i = from; i < to; i++) {
		uint64_t hash;
		int64_t ts;
		const char *p;
		size_t len;
		pane_oqueue_entry(&s->batch, sh->items[i], &hash, &ts, &p, &len);
		pb_bytes(&sh->body, 1, p, len);
	}
	size_t need = snappy_max_compressed_length(sh->body.len);
	if (need > sh->snappy_cap) {
		sh->snappy = pane_xrealloc(sh->snappy, need);
		sh->snappy_cap = need;
	}
	size_t clen = need;
	if (snappy_compress(sh->body.data, sh->body.len, sh->snappy, &clen) != SNAPPY_OK) {
		pane_error("outputs", "%s: snappy compression failed; %zu entries dropped", o->name, to - from);
		pane_stat_add(o->st_dropped, (double)(to - from));
		return 0;
	}
	size_t n = to - from;
	for (int attempt = 0;; attempt++) {
		if (atomic_load(&s->stop))
			return PANE_ECANCELED;
		struct pane_http_response resp;
		pane_http_response_init(&resp);
		struct pane_err e = {0};
		int rc = pane_http_client_do(sh->client,
		                             &(struct pane_http_request){
		                                 .method = "POST",
		                                 .url = o->url,
		                                 .headers = (const char *const *)o->headers,
		                                 .body = sh->snappy,
		                                 .body_len = clen,
		                                 .bearer = o->bearer,
		                                 .basic_user = o->basic_user,
		                                 .basic_pass = o->basic_pass,
		                             },
		                             &resp, &e);
		long status = resp.status;
		int64_t retry_after = resp.retry_after_ms;
		char body_head[200];
		snprintf(body_head, sizeof body_head, "%.*s", (int)(resp.body.len < 160 ? resp.body.len : 160),
		         resp.body.data ? resp.body.data : "");
		pane_http_response_release(&resp);
		pane_stat_inc(o->st_requests);
		if (rc == 0) {
			pane_stat_add(o->st_sent, (double)n);
			return 0;
		}
		if (rc == PANE_ECANCELED || atomic_load(&s->stop))
			return PANE_ECANCELED;
		bool retry = status == 0 || status == 429 || status >= 500;
		if (!retry) {
			pane_stat_add(o->st_failed, (double)n);
			pane_stat_add(o->st_dropped, (double)n);
			pane_log_limited(&s->loglim, PANE_LOG_ERROR, "outputs",
			                 "%s: the receiver refused %zu entries with HTTP %ld (not retried): %s",
			                 o->name, n, status, body_head);
			return 0;
		}
		pane_stat_add(o->st_retried, (double)n);
		int64_t wait = o->qc.min_backoff_ms;
		for (int k = 0; k < attempt && wait < o->qc.max_backoff_ms; k++)
			wait *= 2;
		if (wait > o->qc.max_backoff_ms)
			wait = o->qc.max_backoff_ms;
		if ((status == 429 || status == 503) && retry_after >= 0)
			wait = retry_after;
		pane_log_limited(&s->loglim, PANE_LOG_WARN, "outputs", "%s: %s; retrying in %lld ms", o->name,
		                 status ? body_head : e.msg, (long long)wait);
		set_lag(s);
		if (!pane_http_client_sleep(sh->client, wait))
			return PANE_ECANCELED;
	}
}

static void rec_write(struct sender *s)
{
	s->rec.crc = pane_oqueue_crc32c(0, &s->rec, offsetof(struct round_rec, crc));
	if (s->round_fd >= 0 && pwrite(s->round_fd, &s->rec, sizeof s->rec, 0) != (ssize_t)sizeof s->rec)
		pane_log_limited(&s->loglim, PANE_LOG_ERROR, "outputs", "%s: cannot write the round record",
		                 s->o->name);
}

static bool chunk_done(struct sender *s, int k, size_t i)
{
	return k < 64 && i < 64 && (s->rec.done[k] >> i & 1);
}

static void mark_done(struct sender *s, int k, size_t i)
{
	if (k >= 64 || i >= 64)
		return;
	pthread_mutex_lock(&s->mu);
	s->rec.done[k] |= 1ull << i;
	rec_write(s);
	pthread_mutex_unlock(&s->mu);
}

static void *shard_main(void *arg)
{
	struct shard *sh = arg;
	struct sender *s = sh->s;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!sh->busy && !atomic_load(&s->stop))
			pthread_cond_wait(&s->cv, &s->mu);
		if (atomic_load(&s->stop) && !sh->busy)
			break;
		pthread_mutex_unlock(&s->mu);
		size_t per = (size_t)s->o->qc.max_samples_per_send;
		for (size_t i = 0, c = 0; i < sh->n; i += per, c++) {
			if (chunk_done(s, sh->idx, c))
				continue; /* acknowledged before a restart */
			if (send_chunk(sh, i, i + per < sh->n ? i + per : sh->n) < 0)
				break;
			mark_done(s, sh->idx, c);
		}
		pthread_mutex_lock(&s->mu);
		sh->busy = false;
		s->busy--;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void update_gauges(struct sender *s)
{
	struct output *o = s->o;
	struct pane_oqueue_stats qs;
	pane_oqueue_stats(o->q, &qs);
	pane_stat_set(o->st_pending, (double)qs.pending);
	pane_stat_set(o->st_bytes, (double)qs.bytes);
	if (qs.dropped > o->dropped_seen) {
		pane_stat_add(o->st_dropped, (double)(qs.dropped - o->dropped_seen));
		o->dropped_seen = qs.dropped;
	}
	if (qs.pending == 0)
		pane_stat_set(o->st_lag, 0);
}

/* One round; false when stopping. */
static bool round_once(struct sender *s, uint64_t pending)
{
	struct output *o = s->o;
	uint64_t cap = (uint64_t)o->qc.capacity;
	uint64_t want = (pending + cap - 1) / cap;
	if (want < (uint64_t)o->qc.min_shards)
		want = (uint64_t)o->qc.min_shards;
	if (want > (uint64_t)o->qc.max_shards)
		want = (uint64_t)o->qc.max_shards;
	size_t nsh = (size_t)want;
	bool resume = s->resume && s->rec.start == pane_oqueue_cursor(o->q) &&
	              s->rec.per == (uint32_t)o->qc.max_samples_per_send && s->rec.nsh >= 1 &&
	              s->rec.nsh <= (uint32_t)o->qc.max_shards;
	s->resume = false;
	size_t n;
	if (resume) {
		nsh = s->rec.nsh;
		n = pane_oqueue_read_until(o->q, SIZE_MAX, s->rec.end, &s->batch);
		pane_info("outputs", "%s: finishing the round cut short by a restart", o->name);
	} else {
		n = pane_oqueue_read(o->q, nsh * (size_t)cap, &s->batch);
	}
	pane_stat_set(o->st_shards, (double)nsh);
	if (n == 0) {
		pane_oqueue_commit(o->q, &s->batch); /* skips a damaged segment, if that is why */
		return true;
	}
	if (!resume) {
		pthread_mutex_lock(&s->mu);
		memset(&s->rec, 0, sizeof s->rec);
		s->rec.magic = ROUND_MAGIC;
		s->rec.start = s->batch.offs[0];
		s->rec.end = s->batch.end;
		s->rec.nsh = (uint32_t)nsh;
		s->rec.per = (uint32_t)o->qc.max_samples_per_send;
		rec_write(s);
		pthread_mutex_unlock(&s->mu);
	}
	s->round_oldest_ts = INT64_MAX;
	for (size_t k = 0; k < nsh; k++)
		s->shards[k].n = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t hash;
		int64_t ts;
		const char *p;
		size_t len;
		pane_oqueue_entry(&s->batch, i, &hash, &ts, &p, &len);
		if (ts < s->round_oldest_ts)
			s->round_oldest_ts = ts;
		struct shard *sh = &s->shards[hash % nsh];
		if (sh->n == sh->cap) {
			sh->cap = sh->cap ? sh->cap * 2 : 1024;
			sh->items = pane_xrealloc(sh->items, sh->cap * sizeof *sh->items);
		}
		sh->items[sh->n++] = i;
	}
	set_lag(s);
	pthread_mutex_lock(&s->mu);
	for (size_t k = 0; k < nsh; k++) {
		struct shard *sh = &s->shards[k];
		if (!sh->n)
			continue;
		if (!sh->started) {
			sh->client = pane_http_client_new(&(struct pane_http_client_opts){
			    .timeout_ms = o->timeout_ms,
			    .max_retries = -1,
			    .max_body = 1 << 20,
			    .cancel = cancelled,
			    .cancel_arg = s,
			});
			if (pthread_create(&sh->thread, NULL, shard_main, sh) != 0) {
				pane_http_client_free(sh->client);
				sh->client = NULL;
				pthread_mutex_unlock(&s->mu);
				pane_error("outputs", "%s: cannot start a shard thread", o->name);
				return false;
			}
			sh->started = true;
		}
		sh->busy = true;
		s->busy++;
	}
	pthread_cond_broadcast(&s->cv);
	while (s->busy)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (atomic_load(&s->stop))
		return false; /* not committed: sent again after a restart */
	pane_oqueue_commit(o->q, &s->batch);
	s->round_oldest_ts = 0;
	update_gauges(s);
	return true;
}

static void *dispatcher_main(void *arg)
{
	struct sender *s = arg;
	struct output *o = s->o;
	int64_t slice = o->qc.batch_send_deadline_ms < 1000 ? o->qc.batch_send_deadline_ms : 1000;
	while (!atomic_load(&s->stop)) {
		int64_t waited = 0;
		uint64_t pending = 0;
		/* wait for a full request, or the deadline; fsync in between */
		while (!atomic_load(&s->stop)) {
			pending = pane_oqueue_wait(o->q, (uint64_t)o->qc.max_samples_per_send, slice);
			waited += slice;
			if (o->qo.fsync == PANE_OQUEUE_FSYNC_INTERVAL)
				pane_oqueue_sync(o->q);
			update_gauges(s);
			if (pending >= (uint64_t)o->qc.max_samples_per_send ||
			    (pending > 0 && waited >= o->qc.batch_send_deadline_ms))
				break;
			if (pending == 0)
				waited = 0;
		}
		if (atomic_load(&s->stop))
			break;
		while (pending > 0 && !atomic_load(&s->stop)) {
			if (!round_once(s, pending))
				break;
			struct pane_oqueue_stats qs;
			pane_oqueue_stats(o->q, &qs);
			pending = qs.pending >= (uint64_t)o->qc.max_samples_per_send ? qs.pending : 0;
		}
	}
	return NULL;
}

struct sender *sender_start(struct output *o, struct pane_err *err)
{
	struct sender *s = pane_xcalloc(1, sizeof *s);
	s->o = o;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->loglim.burst = 5;
	s->loglim.per_ms = 60000;
	s->shards = pane_xcalloc((size_t)o->qc.max_shards, sizeof *s->shards);
	for (int64_t k = 0; k < o->qc.max_shards; k++) {
		s->shards[k].s = s;
		s->shards[k].idx = (int)k;
		pane_buf_init(&s->shards[k].body, PANE_BUF_NOLIMIT);
	}
	pane_oqueue_batch_init(&s->batch);
	size_t pl = strlen(o->qo.dir) + 16;
	char *path = pane_xmalloc(pl);
	snprintf(path, pl, "%s/round", o->qo.dir);
	s->round_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	free(path);
	if (s->round_fd >= 0 && pread(s->round_fd, &s->rec, sizeof s->rec, 0) == (ssize_t)sizeof s->rec &&
	    s->rec.magic == ROUND_MAGIC &&
	    s->rec.crc == pane_oqueue_crc32c(0, &s->rec, offsetof(struct round_rec, crc)))
		s->resume = true;
	update_gauges(s);
	if (pthread_create(&s->thread, NULL, dispatcher_main, s) != 0) {
		pane_err_set(err, PANE_EIO, "outputs: %s: cannot start the sender thread", o->name);
		s->thread = 0;
		sender_stop(s);
		return NULL;
	}
	return s;
}

void sender_stop(struct sender *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pane_oqueue_wake(s->o->q);
	if (s->thread)
		pthread_join(s->thread, NULL);
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int64_t k = 0; k < s->o->qc.max_shards; k++) {
		struct shard *sh = &s->shards[k];
		if (sh->started)
			pthread_join(sh->thread, NULL);
		pane_http_client_free(sh->client);
		pane_buf_release(&sh->body);
		free(sh->items);
		free(sh->snappy);
	}
	free(s->shards);
	if (s->round_fd >= 0)
		close(s->round_fd);
	pane_oqueue_batch_release(&s->batch);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
