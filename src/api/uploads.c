/*
 * uploads.c - POST /v1/uploads/{queue}: stream a file to disk (then object
 * storage), hand it to a worker; GET /v1/uploads/{id}: read it back.
 *
 * Idea: the upload is acknowledged as soon as its bytes are safely on disk
 * and its job is committed; the heavy work happens in a worker, so the
 * answer time is the time to receive the body plus one batched commit,
 * whatever the job costs. The body never sits in memory: each piece MHD
 * reads (bounded by its connection buffer) is written to
 * DIR/<upload_id>.part and fed to SHA-256, then dropped.
 *
 * Life of an upload (functions in brackets):
 *
 *   begin [up_begin]    queue name, content type (415), filename (sanitised),
 *                       metadata from the query string; open <id>.part
 *   body  [up_body]     write + hash each piece; over max_size -> 413
 *   end   [h_upload]    fdatasync, rename .part -> <id>, defer the answer;
 *                       local disk: submit the job through the batcher
 *                       (same path as POST .../jobs) [submit_job]
 *   put   [uploader]    object storage only: one of UPLOADERS threads PUTs
 *                       the file, removes the local copy, then submits the
 *                       job; a failed or slow store is a 503 [refuse]; more
 *                       than PUT_QUEUE waiting is a 503 at once
 *   done  [up_enqueued] job committed: write <id>.job ("JOB", or "JOB s3
 *                       KEY"), 202; refused: remove the file, error status
 *   close [up_close]    any end: a .part still there (client left, error)
 *                       is removed - no file, no job
 *   read  [h_download]  GET /v1/uploads/{id} (read scope): the file from
 *                       disk, or a 307 to a presigned URL of the object
 *   sweep [sweeper]     every sweep_interval: uploads whose job finished
 *                       more than `retention` ago (or no longer exists) are
 *                       removed - the file, or the object (DELETE); a record
 *                       "0 s3 KEY" (a PUT that timed out) is DELETEd at once
 *
 * Invariants:
 *   (1) a job is enqueued only for a complete body that is on disk, or in
 *       the bucket when object storage is configured (the store said 2xx);
 *   (2) a disconnect before the end leaves neither file nor job;
 *   (3) memory per upload is constant (one hash state, a few strings);
 *   (4) no HTTP thread waits for the object store: the request is deferred
 *       (suspended, no thread) while an uploader PUTs.
 *
 * Threads: begin/body/end and read on HTTP threads, put on the uploaders,
 * done on a batcher thread, the sweeper on its own thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "api/objstore.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/stats.h"
#include "base/str.h"
#include "config/config.h"
#include "http/sha256.h"
#include "pane/queue.h"

#define MAX_META 64
#define UPLOADERS 4  /* object storage PUTs at once */
#define PUT_QUEUE 64 /* stored uploads waiting for an uploader; beyond: 503 */
#define N_ACK_BUCKETS 9
static const double ack_bounds[N_ACK_BUCKETS] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5};

struct uploads_cfg {
	char *dir;
	int64_t max_size;
	int64_t retention_ms;
	struct pane_cfg_strlist content_types;
	bool fsync;
	int64_t sweep_ms;
	/* S3-compatible object storage (all NULL: local disk only) */
	char *s3_endpoint, *s3_bucket, *s3_region, *s3_access_key_id, *s3_secret_access_key, *s3_prefix;
	int64_t s3_timeout_ms, s3_url_ttl_ms;
};

static const struct pane_cfg_field uploads_fields[] = {
    {"dir", PANE_CFT_STRING, offsetof(struct uploads_cfg, dir), NULL, 0,
     "where uploads are stored (default: DATA_DIR/uploads)", 0, 0},
    {"max_size", PANE_CFT_SIZE, offsetof(struct uploads_cfg, max_size), "1GiB", 0,
     "largest upload accepted (413 beyond)", 1, INT64_MAX},
    {"retention", PANE_CFT_DURATION, offsetof(struct uploads_cfg, retention_ms), "24h", 0,
     "keep a stored upload this long after its job finished", 0, INT64_MAX},
    {"content_types", PANE_CFT_STRLIST, offsetof(struct uploads_cfg, content_types), NULL, 0,
     "accepted media types, e.g. [image/png, image/*]; empty = any (415 otherwise)", 0, 0},
    {"fsync", PANE_CFT_BOOL, offsetof(struct uploads_cfg, fsync), "true", 0,
     "flush each upload to disk before its job is enqueued", 0, 0},
    {"sweep_interval", PANE_CFT_DURATION, offsetof(struct uploads_cfg, sweep_ms), "1m", 0,
     "how often finished uploads are looked for", 100, INT64_MAX},
    {"s3_endpoint", PANE_CFT_STRING, offsetof(struct uploads_cfg, s3_endpoint), NULL, 0,
     "S3-compatible object storage for uploads, e.g. https://s3.eu-west-1.amazonaws.com (default: local disk)", 0, 0},
    {"s3_bucket", PANE_CFT_STRING, offsetof(struct uploads_cfg, s3_bucket), NULL, 0, "the bucket uploads go to", 0, 0},
    {"s3_region", PANE_CFT_STRING, offsetof(struct uploads_cfg, s3_region), "us-east-1", 0,
     "the region signed for (R2: auto)", 0, 0},
    {"s3_access_key_id", PANE_CFT_STRING, offsetof(struct uploads_cfg, s3_access_key_id), NULL, 0,
     "access key id (use ${ENV})", 0, 0},
    {"s3_secret_access_key", PANE_CFT_STRING, offsetof(struct uploads_cfg, s3_secret_access_key), NULL, 0,
     "secret access key (use ${ENV})", 0, 0},
    {"s3_prefix", PANE_CFT_STRING, offsetof(struct uploads_cfg, s3_prefix), "uploads/", 0,
     "object key prefix; the key is prefix + upload id", 0, 0},
    {"s3_timeout", PANE_CFT_DURATION, offsetof(struct uploads_cfg, s3_timeout_ms), "30s", 0,
     "longest PUT of one upload; slower is a 503 and no job", 1, INT64_MAX},
    {"s3_url_ttl", PANE_CFT_DURATION, offsetof(struct uploads_cfg, s3_url_ttl_ms), "24h", 0,
     "how long the presigned GET URL in the job's payload works (at most 7 days)", 1000, 7 * 86400 * 1000LL},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct pane_api_uploads {
	struct pane_api *api;
	struct uploads_cfg cfg;
	char *dir; /* absolute */
	bool s3;   /* uploads go to object storage (cfg.s3_*) */
	struct pane_objstore store;
	pthread_t sweeper;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	/* object storage PUTs: a few uploader threads take stored files from a
	 * bounded queue, so no HTTP thread waits for the store */
	pthread_t uploaders[UPLOADERS];
	int n_uploaders;
	pthread_cond_t put_cv;
	struct pending *put_head, *put_tail;
	int put_queued;
	bool put_stop; /* read by the PUT's progress callback too */
	struct pane_stat *st_uploads, *st_bytes, *st_aborted, *st_removed;
	/* time from the body's last byte to the answer (flush, rename, commit),
	 * as Prometheus histogram series */
	struct pane_stat *st_ack_bucket[N_ACK_BUCKETS + 1], *st_ack_sum, *st_ack_count;
};

/* one upload in progress (lives from begin to close) */
struct up {
	struct pane_api_uploads *u;
	int fd;
	char id[33];
	char *part;
	char *content_type;
	char *filename;
	json_t *meta;
	size_t n_meta;
	bool meta_bad;
	struct pane_sha256 sha;
	uint64_t size;
	bool handed; /* the file left .part: up_close must not remove it */
};

/* One stored upload on its way to a job: everything the object store PUT
 * (uploader thread) and the batch callback need after the request is gone. */
struct pending {
	int64_t body_done_ns;
	struct pane_http_deferred *d;
	struct pane_api_uploads *u;
	char id[33];
	char *path; /* the local file, NULL once it moved to object storage */
	char *key;  /* object storage: the object's key */
	char *queue, *content_type, *filename;
	char hex[2 * PANE_SHA256_LEN + 1];
	uint64_t size;
	json_t *meta;
	struct pending *next; /* the uploaders' queue */
};

static void pending_free(struct pending *p)
{
	free(p->path);
	free(p->key);
	free(p->queue);
	free(p->content_type);
	free(p->filename);
	json_decref(p->meta);
	free(p);
}

/* ---------- helpers ---------- */

/* Keeps the last path component, drops control characters, quotes and
 * backslashes, refuses "." and "..", caps at 255 bytes. NULL when nothing is left. */
static char *sanitize_filename(const char *in)
{
	if (!in)
		return NULL;
	const char *base = in;
	for (const char *p = in; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	struct pane_buf b;
	pane_buf_init(&b, 255);
	for (const char *p = base; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f || c == '"')
			continue;
		if (pane_buf_addc(&b, (char)c) < 0)
			break;
	}
	if (b.len == 0 || strcmp(b.data, ".") == 0 || strcmp(b.data, "..") == 0) {
		pane_buf_release(&b);
		return NULL;
	}
	return pane_buf_detach(&b, NULL);
}

/* filename="..." from a Content-Disposition header, or NULL (heap). */
static char *disposition_filename(const char *cd)
{
	if (!cd)
		return NULL;
	const char *p = strstr(cd, "filename=");
	if (!p)
		return NULL;
	p += 9;
	if (*p == '"') {
		p++;
		const char *e = strchr(p, '"');
		return e ? pane_xstrndup(p, (size_t)(e - p)) : NULL;
	}
	return pane_xstrndup(p, strcspn(p, "; "));
}

static bool type_allowed(const struct uploads_cfg *c, const char *ct)
{
	if (c->content_types.n == 0)
		return true;
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < c->content_types.n; i++) {
		const char *t = c->content_types.items[i];
		size_t tl = strlen(t);
		if (tl >= 2 && t[tl - 1] == '*' && t[tl - 2] == '/') {
			if (n >= tl - 1 && strncasecmp(ct, t, tl - 1) == 0)
				return true;
		} else if (tl == n && strncasecmp(ct, t, n) == 0) {
			return true;
		}
	}
	return false;
}

static char *path_join(const char *dir, const char *name, const char *ext)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_addf(&b, "%s/%s%s", dir, name, ext);
	return pane_buf_detach(&b, NULL);
}

static void up_free(struct up *x)
{
	if (!x)
		return;
	if (x->fd >= 0)
		close(x->fd);
	if (x->part && !x->handed)
		unlink(x->part);
	free(x->part);
	free(x->content_type);
	free(x->filename);
	json_decref(x->meta);
	free(x);
}

/* ---------- the request ---------- */

static void collect_meta(void *arg, const char *key, const char *value)
{
	struct up *x = arg;
	if (strcmp(key, "filename") == 0)
		return;
	json_t *v = json_string(value); /* NULL when not UTF-8 */
	if (++x->n_meta > MAX_META || strlen(key) > 128 || strlen(value) > 4096 || !v ||
	    json_object_set_new(x->meta, key, v) < 0) {
		x->meta_bad = true;
		return;
	}
}

static int up_begin(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_api *api = ctx;
	struct pane_api_uploads *u = api->uploads;
	const char *queue = pane_http_req_param(req, "queue");
	if (!pane_api_queue_name_ok(queue)) {
		pane_http_resp_error(resp, 400, "invalid_queue",
		                     "queue names are 1-128 characters of letters, digits, '_', '-', '.' and ':'");
		return -1;
	}
	const char *ct = pane_http_req_header(req, "Content-Type");
	if (!ct || !*ct)
		ct = "application/octet-stream";
	if (pane_http_req_content_type_is(req, "multipart/form-data")) {
		pane_http_resp_error(
		    resp, 415, "unsupported_media_type",
		    "send the file itself as the body (not multipart/form-data), its type in Content-Type");
		return -1;
	}
	if (!type_allowed(&u->cfg, ct)) {
		pane_http_resp_error(resp, 415, "unsupported_media_type", "uploads of type '%s' are not accepted here",
		                     ct);
		return -1;
	}
	struct up *x = pane_xcalloc(1, sizeof *x);
	x->u = u;
	x->fd = -1;
	x->meta = json_object();
	pane_http_req_set_user(req, x);
	pane_http_req_query_each(req, collect_meta, x);
	if (x->meta_bad) {
		pane_http_resp_error(
		    resp, 400, "invalid_request",
		    "at most %d metadata parameters, UTF-8, names up to 128 and values up to 4096 bytes", MAX_META);
		return -1;
	}
	const char *fn = pane_http_req_arg(req, "filename");
	char *raw = fn ? pane_xstrdup(fn) : NULL;
	if (!raw && pane_http_req_header(req, "X-Filename"))
		raw = pane_xstrdup(pane_http_req_header(req, "X-Filename"));
	if (!raw)
		raw = disposition_filename(pane_http_req_header(req, "Content-Disposition"));
	x->filename = sanitize_filename(raw);
	free(raw);
	json_t *probe = json_pack("{s:s?,s:s}", "f", x->filename, "c", ct); /* NULL unless both are UTF-8 */
	if (!probe) {
		pane_http_resp_error(resp, 400, "invalid_request", "the filename and Content-Type must be UTF-8");
		return -1;
	}
	json_decref(probe);
	x->content_type = pane_xstrdup(ct);
	snprintf(x->id, sizeof x->id, "%016llx%016llx", (unsigned long long)pane_random_u64(),
	         (unsigned long long)pane_random_u64());
	x->part = path_join(u->dir, x->id, ".part");
	x->fd = open(x->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (x->fd < 0) {
		pane_error("api", "cannot create %s: %s", x->part, strerror(errno));
		free(x->part);
		x->part = NULL;
		pane_http_resp_error(resp, 500, "internal", "cannot store the upload: %s", strerror(errno));
		return -1;
	}
	pane_sha256_init(&x->sha);
	return 0;
}

static int up_body(struct pane_http_req *req, const char *data, size_t len, struct pane_http_resp *resp, void *ctx)
{
	(void)ctx;
	struct up *x = pane_http_req_user(req);
	if (!x || x->fd < 0)
		return 0;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(x->fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			pane_error("api", "cannot write %s: %s", x->part, strerror(e));
			if (e == ENOSPC)
				pane_http_resp_error(resp, 507, "insufficient_storage", "the upload directory is full");
			else
				pane_http_resp_error(resp, 500, "internal", "cannot store the upload: %s", strerror(e));
			return -1;
		}
		off += (size_t)w;
	}
	pane_sha256_update(&x->sha, data, len);
	x->size += len;
	return 0;
}

static void up_close(struct pane_http_req *req, bool completed, void *ctx)
{
	struct pane_api *api = ctx;
	struct up *x = pane_http_req_user(req);
	if (x && !x->handed && api->uploads->st_aborted && !completed)
		pane_stat_inc(api->uploads->st_aborted);
	up_free(x);
	pane_http_req_set_user(req, NULL);
}

static void up_enqueued(void *arg, const int64_t *ids, const bool *created, size_t n, const struct pane_err *err)
{
	(void)created;
	(void)n;
	struct pending *p = arg;
	struct pane_http_resp *resp = pane_http_deferred_resp(p->d);
	/* the sweeper's record: "JOB" for a local file, "JOB s3 KEY" for an
	 * object; job 0 = no job (the object goes at the next sweep) */
	char *side = path_join(p->u->dir, p->id, ".job");
	FILE *f = p->key || !err ? fopen(side, "we") : NULL;
	if (f) {
		fprintf(f, "%lld%s%s\n", err ? 0LL : (long long)ids[0], p->key ? " s3 " : "", p->key ? p->key : "");
		fclose(f);
	}
	free(side);
	if (err) {
		if (p->path)
			unlink(p->path);
		pane_api_error_resp(resp, err);
	} else {
		struct pane_api_uploads *u = p->u;
		if (u->st_uploads) {
			pane_stat_inc(u->st_uploads);
			double secs = (double)(pane_mono_ns() - p->body_done_ns) / 1e9;
			for (int i = 0; i < N_ACK_BUCKETS; i++)
				if (secs <= ack_bounds[i])
					pane_stat_inc(u->st_ack_bucket[i]);
			pane_stat_inc(u->st_ack_bucket[N_ACK_BUCKETS]);
			pane_stat_add(u->st_ack_sum, secs);
			pane_stat_inc(u->st_ack_count);
		}
		struct pane_buf *b = pane_http_resp_body(resp);
		char url[64];
		struct pane_json j;
		pane_json_init(&j, b);
		pane_json_obj(&j);
		pane_json_key(&j, "job_id");
		pane_json_int(&j, ids[0]);
		pane_json_key(&j, "upload_id");
		pane_json_str(&j, p->id);
		snprintf(url, sizeof url, "/v1/jobs/%lld", (long long)ids[0]);
		pane_json_key(&j, "status_url");
		pane_json_str(&j, url);
		snprintf(url, sizeof url, "/v1/jobs/%lld/events", (long long)ids[0]);
		pane_json_key(&j, "events_url");
		pane_json_str(&j, url);
		pane_json_obj_end(&j);
		pane_buf_addc(b, '\n');
		pane_http_resp_status(resp, 202);
		pane_http_resp_content_type(resp, "application/json");
	}
	pane_http_deferred_finish(p->d);
	pending_free(p);
}

/* Builds the job (payload: the upload's description and the metadata) and
 * hands it to the batcher; up_enqueued answers. Any thread. */
static void submit_job(struct pending *p)
{
	struct pane_api_uploads *u = p->u;
	json_t *up = json_object();
	json_object_set_new(up, "id", json_string(p->id));
	if (p->key) {
		int64_t now = (int64_t)time(NULL), ttl = u->cfg.s3_url_ttl_ms / 1000;
		char *url = pane_objstore_presign_get(&u->store, p->key, now, ttl);
		char exp[32];
		time_t et = (time_t)(now + ttl);
		struct tm tm;
		gmtime_r(&et, &tm);
		strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_set_new(up, "storage", json_string("s3"));
		json_object_set_new(up, "bucket", json_string(u->cfg.s3_bucket));
		json_object_set_new(up, "key", json_string(p->key));
		json_object_set_new(up, "url", json_string(url));
		json_object_set_new(up, "url_expires_at", json_string(exp));
		free(url);
	} else {
		char rel[64];
		snprintf(rel, sizeof rel, "/v1/uploads/%s", p->id);
		json_object_set_new(up, "storage", json_string("local"));
		json_object_set_new(up, "path", json_string(p->path));
		json_object_set_new(up, "url", json_string(rel));
	}
	json_object_set_new(up, "size", json_integer((json_int_t)p->size));
	json_object_set_new(up, "sha256", json_string(p->hex));
	json_object_set_new(up, "content_type", json_string(p->content_type));
	json_object_set_new(up, "filename", p->filename ? json_string(p->filename) : json_null());
	json_t *payload = json_object();
	json_object_set_new(payload, "upload", up);
	json_object_set(payload, "meta", p->meta);
	json_t *el = json_object();
	json_object_set_new(el, "queue", json_string(p->queue));
	json_object_set_new(el, "payload", payload);
	char *text = json_dumps(el, JSON_COMPACT);
	json_decref(el);
	if (!text || pane_api_batcher_submit(u->api->batcher, text, strlen(text), 1, up_enqueued, p) < 0) {
		struct pane_err err = {0};
		pane_err_set(&err, PANE_EAGAIN, "too many jobs are waiting to be committed; retry shortly");
		up_enqueued(p, NULL, NULL, 0, &err);
	}
	free(text);
}

/* Answers a stored upload that will get no job: its file goes, 503. With a
 * key the PUT may have stored the object anyway (it timed out or was cut
 * after the store had the bytes): "0 s3 KEY" asks the sweeper to DELETE it. */
static void refuse(struct pending *p, const char *why)
{
	if (p->path)
		unlink(p->path);
	if (p->key) {
		char *side = path_join(p->u->dir, p->id, ".job");
		FILE *f = fopen(side, "we");
		if (f) {
			fprintf(f, "0 s3 %s\n", p->key);
			fclose(f);
		}
		free(side);
	}
	struct pane_http_resp *resp = pane_http_deferred_resp(p->d);
	pane_http_resp_error(resp, 503, "unavailable", "the upload could not be stored: %s; retry", why);
	pane_http_deferred_finish(p->d);
	pending_free(p);
}

/* An uploader: PUTs stored files into the bucket, then submits their jobs.
 * Safely stored means stored in the bucket: no 202 before the store said
 * so. The local copy goes either way. */
static void *uploader(void *arg)
{
	struct pane_api_uploads *u = arg;
	pthread_mutex_lock(&u->mu);
	for (;;) {
		while (!u->put_head && !u->put_stop)
			pthread_cond_wait(&u->put_cv, &u->mu);
		struct pending *p = u->put_head;
		if (!p)
			break;
		u->put_head = p->next;
		if (!u->put_head)
			u->put_tail = NULL;
		u->put_queued--;
		bool stopping = u->put_stop;
		pthread_mutex_unlock(&u->mu);
		struct pane_err e = {0};
		int rc;
		if (stopping) {
			free(p->key); /* never sent */
			p->key = NULL;
			refuse(p, "the server is stopping");
		} else if ((rc = pane_objstore_put(&u->store, p->key, p->path, p->size, p->hex, p->content_type, &e)) <
		           0) {
			pane_warn("api", "upload %s not stored: %s", p->id, e.msg);
			if (rc != PANE_ETIMEDOUT && rc != PANE_ECANCELED) {
				free(p->key); /* refused or unreachable: nothing was stored */
				p->key = NULL;
			}
			refuse(p, e.msg);
		} else {
			unlink(p->path);
			free(p->path);
			p->path = NULL;
			submit_job(p);
		}
		pthread_mutex_lock(&u->mu);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

static void h_upload(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_api *api = ctx;
	struct pane_api_uploads *u = api->uploads;
	int64_t body_done_ns = pane_mono_ns();
	struct up *x = pane_http_req_user(req);
	if (!x || x->fd < 0) {
		pane_http_resp_error(resp, 500, "internal", "the upload was not set up");
		return;
	}
	if (u->cfg.fsync && fdatasync(x->fd) < 0) {
		pane_http_resp_error(resp, 500, "internal", "cannot flush the upload: %s", strerror(errno));
		return;
	}
	close(x->fd);
	x->fd = -1;
	char *final = path_join(u->dir, x->id, "");
	if (rename(x->part, final) < 0) {
		pane_http_resp_error(resp, 500, "internal", "cannot store the upload: %s", strerror(errno));
		free(final);
		return;
	}
	x->handed = true;
	if (u->st_bytes)
		pane_stat_add(u->st_bytes, (double)x->size);
	uint8_t dg[PANE_SHA256_LEN];
	char hex[2 * PANE_SHA256_LEN + 1];
	pane_sha256_final(&x->sha, dg);
	pane_sha256_hex(dg, hex);

	struct pending *p = pane_xcalloc(1, sizeof *p);
	p->body_done_ns = body_done_ns;
	p->u = u;
	memcpy(p->id, x->id, sizeof p->id);
	p->path = final;
	p->queue = pane_xstrdup(pane_http_req_param(req, "queue"));
	p->content_type = pane_xstrdup(x->content_type);
	p->filename = x->filename ? pane_xstrdup(x->filename) : NULL;
	memcpy(p->hex, hex, sizeof p->hex);
	p->size = x->size;
	p->meta = json_incref(x->meta);
	p->d = pane_http_resp_defer(resp);
	if (!u->s3) {
		submit_job(p);
		return;
	}
	struct pane_buf key;
	pane_buf_init(&key, PANE_BUF_NOLIMIT);
	pane_buf_addf(&key, "%s%s", u->cfg.s3_prefix ? u->cfg.s3_prefix : "", x->id);
	p->key = pane_buf_detach(&key, NULL);
	pthread_mutex_lock(&u->mu);
	bool full = u->put_queued >= PUT_QUEUE || u->put_stop || u->n_uploaders == 0;
	if (!full) {
		if (u->put_tail)
			u->put_tail->next = p;
		else
			u->put_head = p;
		u->put_tail = p;
		u->put_queued++;
		pthread_cond_signal(&u->put_cv);
	}
	pthread_mutex_unlock(&u->mu);
	if (full) {
		free(p->key); /* nothing reached the store: no record for the sweeper */
		p->key = NULL;
		refuse(p, "too many uploads are waiting for object storage");
	}
}

/* ---------- retention ---------- */

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Removes a stored upload: its object (key, object storage) or file, then
 * the sweeper's record. An object the store would not delete keeps its
 * record, so the next sweep tries again. */
static void remove_upload(struct pane_api_uploads *u, const char *id, const char *key)
{
	if (key && *key) {
		struct pane_err e = {0};
		if (pane_objstore_delete(&u->store, key, &e) < 0) {
			static struct pane_log_limit lim = {.burst = 5, .per_ms = 60000};
			pane_log_limited(&lim, PANE_LOG_WARN, "api", "upload %s: %s; trying again at the next sweep",
			                 id, e.msg);
			return;
		}
	}
	char *f = path_join(u->dir, id, "");
	char *j = path_join(u->dir, id, ".job");
	unlink(f);
	unlink(j);
	free(f);
	free(j);
	if (u->st_removed)
		pane_stat_inc(u->st_removed);
}

static void sweep(struct pane_api_uploads *u, PGconn **cp)
{
	DIR *d = opendir(u->dir);
	if (!d)
		return;
	struct pane_buf ids, ups;
	pane_buf_init(&ids, PANE_BUF_NOLIMIT);
	pane_buf_init(&ups, PANE_BUF_NOLIMIT);
	size_t n = 0;
	struct dirent *de;
	time_t now = time(NULL);
	struct pane_map keys; /* upload id -> object key ("" for a local file) */
	pane_map_init(&keys, free);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) != 32 + 4 || !has_suffix(de->d_name, ".job"))
			continue;
		char *side = path_join(u->dir, de->d_name, "");
		FILE *f = fopen(side, "re");
		long long jid = 0;
		char kind[8] = "", key[1024] = "";
		if (f) {
			if (fscanf(f, "%lld %7s %1023s", &jid, kind, key) < 1)
				jid = -1;
			fclose(f);
		}
		free(side);
		bool s3 = strcmp(kind, "s3") == 0 && *key;
		if (jid == 0 && s3 && u->s3) {
			char id[33];
			snprintf(id, sizeof id, "%.32s", de->d_name);
			remove_upload(u, id, key); /* stored without a job: nothing waits for it */
			continue;
		}
		if (jid <= 0)
			continue;
		if (s3 && !u->s3)
			continue; /* object storage is no longer configured: cannot delete it */
		pane_map_put(&keys, de->d_name, 32, pane_xstrdup(s3 ? key : ""));
		pane_buf_addf(&ids, "%s%lld", n ? "," : "{", jid);
		pane_buf_addf(&ups, "%s%.32s", n ? "," : "{", de->d_name);
		n++;
		if (n >= 5000)
			break;
	}
	/* orphans: stored but their job was never recorded (crash in between) */
	rewinddir(d);
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != 32 || strchr(de->d_name, '.'))
			continue;
		char *j = path_join(u->dir, de->d_name, ".job");
		char *f = path_join(u->dir, de->d_name, "");
		struct stat st;
		if (access(j, F_OK) != 0 && stat(f, &st) == 0 &&
		    (int64_t)(now - st.st_mtime) * 1000 > 2 * u->cfg.retention_ms + 3600 * 1000) {
			pane_warn("api", "removing upload %s: no job was recorded for it", de->d_name);
			unlink(f);
		}
		free(j);
		free(f);
	}
	closedir(d);
	if (n) {
		pane_buf_addc(&ids, '}');
		pane_buf_addc(&ups, '}');
		if (!*cp) {
			struct pane_err err = {0};
			*cp = pane_api_connect(u->api->url, &err);
		}
		if (*cp) {
			char sql[PANE_QUEUE_SQL_MAX], ret[32];
			pane_queue_sql_finished_since(u->api->schema, sql, sizeof sql);
			snprintf(ret, sizeof ret, "%lld", (long long)u->cfg.retention_ms);
			const char *params[3] = {ids.data, ups.data, ret};
			PGresult *r = PQexecParams(*cp, sql, 3, NULL, params, NULL, NULL, 0);
			if (PQresultStatus(r) == PGRES_TUPLES_OK) {
				for (int i = 0; i < PQntuples(r); i++)
					remove_upload(u, PQgetvalue(r, i, 0),
					              pane_map_gets(&keys, PQgetvalue(r, i, 0)));
			} else if (PQstatus(*cp) != CONNECTION_OK) {
				PQfinish(*cp);
				*cp = NULL;
			}
			PQclear(r);
		}
	}
	pane_map_release(&keys);
	pane_buf_release(&ids);
	pane_buf_release(&ups);
}

static void *sweeper(void *arg)
{
	struct pane_api_uploads *u = arg;
	PGconn *c = NULL;
	pthread_mutex_lock(&u->mu);
	while (!u->stop) {
		pthread_mutex_unlock(&u->mu);
		sweep(u, &c);
		pthread_mutex_lock(&u->mu);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = ts.tv_nsec + (u->cfg.sweep_ms % 1000) * 1000000;
		ts.tv_sec += (time_t)(u->cfg.sweep_ms / 1000) + (time_t)(ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		if (!u->stop)
			pthread_cond_timedwait(&u->cv, &u->mu, &ts);
	}
	pthread_mutex_unlock(&u->mu);
	if (c)
		PQfinish(c);
	return NULL;
}

/* ---------- lifecycle ---------- */

struct pane_api_uploads *pane_api_uploads_new(struct pane_api *api, const struct pane_cfg *cfg, const char *data_dir,
                                              struct pane_err *err)
{
	struct pane_api_uploads *u = pane_xcalloc(1, sizeof *u);
	u->api = api;
	if (pane_cfg_bind(cfg, cfg ? pane_cfg_get(cfg->root, "uploads") : NULL, uploads_fields, &u->cfg, err) < 0)
		goto fail;
	char *dir = u->cfg.dir ? pane_xstrdup(u->cfg.dir) : path_join(data_dir, "uploads", "");
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		pane_err_set(err, PANE_EIO, "cannot create the upload directory %s: %s", dir, strerror(errno));
		free(dir);
		goto fail;
	}
	char abs[PATH_MAX];
	if (!realpath(dir, abs)) {
		pane_err_set(err, PANE_EIO, "cannot resolve the upload directory %s: %s", dir, strerror(errno));
		free(dir);
		goto fail;
	}
	free(dir);
	u->dir = pane_xstrdup(abs);
	if (u->cfg.s3_endpoint || u->cfg.s3_bucket) {
		const char *missing = !u->cfg.s3_endpoint            ? "s3_endpoint"
		                      : !u->cfg.s3_bucket            ? "s3_bucket"
		                      : !u->cfg.s3_access_key_id     ? "s3_access_key_id"
		                      : !u->cfg.s3_secret_access_key ? "s3_secret_access_key"
		                                                     : NULL;
		if (missing) {
			pane_err_set(err, PANE_EINVAL, "uploads.%s is required for object storage", missing);
			free(u->dir);
			goto fail;
		}
		if (strncmp(u->cfg.s3_endpoint, "http://", 7) && strncmp(u->cfg.s3_endpoint, "https://", 8)) {
			pane_err_set(err, PANE_EINVAL, "uploads.s3_endpoint must be an http:// or https:// URL");
			free(u->dir);
			goto fail;
		}
		for (const char *c = u->cfg.s3_prefix; c && *c; c++) {
			if ((unsigned char)*c <= ' ') {
				pane_err_set(err, PANE_EINVAL, "uploads.s3_prefix must not contain white space");
				free(u->dir);
				goto fail;
			}
		}
		size_t el = strlen(u->cfg.s3_endpoint);
		while (el > 0 && u->cfg.s3_endpoint[el - 1] == '/')
			u->cfg.s3_endpoint[--el] = 0;
		u->s3 = true;
		u->store = (struct pane_objstore){.endpoint = u->cfg.s3_endpoint,
		                                  .bucket = u->cfg.s3_bucket,
		                                  .region = u->cfg.s3_region ? u->cfg.s3_region : "us-east-1",
		                                  .access_key = u->cfg.s3_access_key_id,
		                                  .secret = u->cfg.s3_secret_access_key,
		                                  .timeout_ms = u->cfg.s3_timeout_ms};
	}
	/* no upload is in progress yet: leftovers of a previous run go */
	DIR *d = opendir(u->dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (has_suffix(de->d_name, ".part")) {
				char *p = path_join(u->dir, de->d_name, "");
				unlink(p);
				free(p);
			}
		}
		closedir(d);
	}
	if (api->stats) {
		u->st_uploads =
		    pane_stats_counter(api->stats, "pane_api_uploads_total", NULL, "uploads stored and enqueued");
		u->st_bytes =
		    pane_stats_counter(api->stats, "pane_api_upload_bytes_total", NULL, "bytes of stored uploads");
		u->st_aborted = pane_stats_counter(api->stats, "pane_api_uploads_aborted_total", NULL,
		                                   "uploads abandoned before the end (partial file removed)");
		u->st_removed = pane_stats_counter(api->stats, "pane_api_uploads_removed_total", NULL,
		                                   "stored uploads removed after their job finished + retention");
		static const char help[] =
		    "seconds from an upload's last body byte to its answer (flush, rename, commit)";
		for (int i = 0; i <= N_ACK_BUCKETS; i++) {
			char le[32];
			if (i < N_ACK_BUCKETS)
				snprintf(le, sizeof le, "le=\"%g\"", ack_bounds[i]);
			else
				snprintf(le, sizeof le, "le=\"+Inf\"");
			u->st_ack_bucket[i] =
			    pane_stats_counter(api->stats, "pane_api_upload_ack_seconds_bucket", le, help);
		}
		u->st_ack_sum = pane_stats_counter(api->stats, "pane_api_upload_ack_seconds_sum", NULL, help);
		u->st_ack_count = pane_stats_counter(api->stats, "pane_api_upload_ack_seconds_count", NULL, help);
	}
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	pthread_cond_init(&u->put_cv, NULL);
	u->store.cancel = &u->put_stop;
	for (int i = 0; u->s3 && i < UPLOADERS; i++)
		if (pthread_create(&u->uploaders[u->n_uploaders], NULL, uploader, u) == 0)
			u->n_uploaders++;
	pthread_create(&u->sweeper, NULL, sweeper, u);
	u->started = true;
	return u;
fail:
	pane_cfg_unbind(uploads_fields, &u->cfg);
	free(u);
	return NULL;
}

void pane_api_uploads_stop(struct pane_api_uploads *u)
{
	if (!u || !u->started)
		return;
	pthread_mutex_lock(&u->mu);
	__atomic_store_n(&u->put_stop, true, __ATOMIC_RELAXED); /* aborts PUTs under way */
	pthread_cond_broadcast(&u->put_cv);
	pthread_mutex_unlock(&u->mu);
	for (int i = 0; i < u->n_uploaders; i++)
		pthread_join(u->uploaders[i], NULL);
	u->n_uploaders = 0;
}

void pane_api_uploads_free(struct pane_api_uploads *u)
{
	if (!u)
		return;
	pane_api_uploads_stop(u);
	if (u->started) {
		pthread_mutex_lock(&u->mu);
		u->stop = true;
		pthread_cond_broadcast(&u->cv);
		pthread_mutex_unlock(&u->mu);
		pthread_join(u->sweeper, NULL);
		pthread_mutex_destroy(&u->mu);
		pthread_cond_destroy(&u->cv);
		pthread_cond_destroy(&u->put_cv);
	}
	pane_cfg_unbind(uploads_fields, &u->cfg);
	free(u->dir);
	free(u);
}

/* GET /v1/uploads/{id}: a stored upload for a worker on another host. A
 * local file is sent from disk (sendfile; never read into memory); an
 * object in the bucket is a 307 to a fresh presigned URL. 404 once the
 * sweeper removed it (job finished + retention) or for an unknown id. */
static void h_download(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_api *api = ctx;
	struct pane_api_uploads *u = api->uploads;
	const char *id = pane_http_req_param(req, "id");
	bool ok = id && strlen(id) == 32;
	for (size_t i = 0; ok && i < 32; i++)
		ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
	if (!ok) {
		pane_http_resp_error(resp, 404, "not_found", "no such upload (ids are 32 hex characters)");
		return;
	}
	char *path = path_join(u->dir, id, "");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		pane_http_resp_status(resp, 200);
		pane_http_resp_content_type(resp, "application/octet-stream");
		pane_http_resp_file(resp, fd, (uint64_t)st.st_size);
		return;
	}
	if (fd >= 0)
		close(fd);
	/* in the bucket: the record names the key */
	char *side = path_join(u->dir, id, ".job");
	FILE *f = u->s3 ? fopen(side, "re") : NULL;
	free(side);
	long long jid = 0;
	char kind[8] = "", key[1024] = "";
	if (f) {
		if (fscanf(f, "%lld %7s %1023s", &jid, kind, key) < 3)
			jid = 0;
		fclose(f);
	}
	if (jid > 0 && strcmp(kind, "s3") == 0) {
		char *url = pane_objstore_presign_get(&u->store, key, (int64_t)time(NULL), u->cfg.s3_url_ttl_ms / 1000);
		pane_http_resp_header(resp, "Location", url);
		pane_http_resp_error(resp, 307, "redirect", "the upload is in object storage: follow Location");
		free(url);
		return;
	}
	pane_http_resp_error(resp, 404, "not_found",
	                     "no such upload (never stored here, or removed after its job finished and the retention)");
}

void pane_api_uploads_route(struct pane_api *api, struct pane_http_server *srv)
{
	pane_http_server_route(
	    srv,
	    &(struct pane_http_route){
	        .method = "GET", .pattern = "/v1/uploads/{id}", .handler = h_download, .ctx = api, .scope = "read"});
	pane_http_server_route(srv, &(struct pane_http_route){.method = "POST",
	                                                      .pattern = "/v1/uploads/{queue}",
	                                                      .handler = h_upload,
	                                                      .ctx = api,
	                                                      .scope = "enqueue",
	                                                      .max_body = (size_t)api->uploads->cfg.max_size,
	                                                      .on_begin = up_begin,
	                                                      .on_body = up_body,
	                                                      .on_close = up_close});
}
