/*
 * objstore.c - uploads into S3-compatible object storage (see objstore.h).
 *
 * The PUT goes through libcurl's CURLOPT_AWS_SIGV4 with the body's SHA-256
 * (already computed while the upload streamed in) as x-amz-content-sha256,
 * so the store checks the bytes it received against the hash the client's
 * body produced. The GET URL a worker reads the object with is presigned
 * here (SigV4 query-string auth, UNSIGNED-PAYLOAD, host the only signed
 * header): a worker on another host needs no credentials, only the URL,
 * and the URL stops working after its expiry.
 *
 * Objects are removed with a signed DELETE (the upload sweeper, after the
 * job finished + retention).
 *
 * Threads: every function is reentrant (no shared state).
 */
#include "api/objstore.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "http/sha256.h"

#define BLOCK 64

static void hmac(const uint8_t *key, size_t klen, const void *msg, size_t mlen, uint8_t out[PANE_SHA256_LEN])
{
	uint8_t k[BLOCK] = {0}, pad[BLOCK], inner[PANE_SHA256_LEN];
	if (klen > BLOCK)
		pane_sha256(key, klen, k);
	else
		memcpy(k, key, klen);
	struct pane_sha256 h;
	for (int i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	pane_sha256_init(&h);
	pane_sha256_update(&h, pad, BLOCK);
	pane_sha256_update(&h, msg, mlen);
	pane_sha256_final(&h, inner);
	for (int i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	pane_sha256_init(&h);
	pane_sha256_update(&h, pad, BLOCK);
	pane_sha256_update(&h, inner, sizeof inner);
	pane_sha256_final(&h, out);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = 0;
}

/* RFC 3986 unreserved characters stay, everything else is %XX; '/' stays
 * when keep_slash (object keys in paths). */
static void uri_encode(struct pane_buf *b, const char *s, bool keep_slash)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/'))
			pane_buf_addc(b, (char)*p);
		else
			pane_buf_addf(b, "%%%02X", *p);
	}
}

/* The query string of a presigned GET, sorted by name (SigV4's canonical
 * order); without the signature. */
static void presign_query(struct pane_buf *q, const char *access_key, const char *region, const char *amz_date,
                          int64_t expires_s)
{
	char cred[256];
	snprintf(cred, sizeof cred, "%s/%.8s/%s/s3/aws4_request", access_key, amz_date, region);
	pane_buf_adds(q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
	uri_encode(q, cred, false);
	pane_buf_addf(q, "&X-Amz-Date=%s&X-Amz-Expires=%" PRId64 "&X-Amz-SignedHeaders=host", amz_date, expires_s);
}

void pane_objstore_presign_sig(const char *host, const char *canonical_uri, const char *access_key, const char *secret,
                               const char *region, const char *amz_date, int64_t expires_s, char sig[65])
{
	struct pane_buf q, cr, sts;
	pane_buf_init(&q, PANE_BUF_NOLIMIT);
	pane_buf_init(&cr, PANE_BUF_NOLIMIT);
	pane_buf_init(&sts, PANE_BUF_NOLIMIT);
	presign_query(&q, access_key, region, amz_date, expires_s);
	pane_buf_addf(&cr, "GET\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", canonical_uri, q.data, host);
	uint8_t d[PANE_SHA256_LEN];
	char dh[2 * PANE_SHA256_LEN + 1];
	pane_sha256(cr.data, cr.len, d);
	hex(d, sizeof d, dh);
	pane_buf_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/s3/aws4_request\n%s", amz_date, amz_date, region, dh);
	struct pane_buf k0;
	pane_buf_init(&k0, PANE_BUF_NOLIMIT);
	pane_buf_addf(&k0, "AWS4%s", secret);
	uint8_t k[PANE_SHA256_LEN];
	hmac((const uint8_t *)k0.data, k0.len, amz_date, 8, k);
	hmac(k, sizeof k, region, strlen(region), k);
	hmac(k, sizeof k, "s3", 2, k);
	hmac(k, sizeof k, "aws4_request", 12, k);
	hmac(k, sizeof k, sts.data, sts.len, d);
	hex(d, sizeof d, sig);
	pane_buf_release(&k0);
	pane_buf_release(&q);
	pane_buf_release(&cr);
	pane_buf_release(&sts);
}

char *pane_objstore_presign_get(const struct pane_objstore *s, const char *key, int64_t now_unix, int64_t expires_s)
{
	/* host[:port] as the client will send it: the endpoint without scheme */
	const char *host = strstr(s->endpoint, "://");
	host = host ? host + 3 : s->endpoint;
	size_t hl = strcspn(host, "/");
	char hostbuf[256];
	snprintf(hostbuf, sizeof hostbuf, "%.*s", (int)hl, host);
	time_t t = (time_t)now_unix;
	struct tm tm;
	gmtime_r(&t, &tm);
	char amz_date[20];
	strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
	struct pane_buf uri, q, url;
	pane_buf_init(&uri, PANE_BUF_NOLIMIT);
	pane_buf_init(&q, PANE_BUF_NOLIMIT);
	pane_buf_init(&url, PANE_BUF_NOLIMIT);
	pane_buf_addc(&uri, '/');
	uri_encode(&uri, s->bucket, false);
	pane_buf_addc(&uri, '/');
	uri_encode(&uri, key, true);
	char sig[65];
	pane_objstore_presign_sig(hostbuf, uri.data, s->access_key, s->secret, s->region, amz_date, expires_s, sig);
	presign_query(&q, s->access_key, s->region, amz_date, expires_s);
	pane_buf_addf(&url, "%.*s%s?%s&X-Amz-Signature=%s", (int)(host - s->endpoint + (ptrdiff_t)hl), s->endpoint,
	              uri.data, q.data, sig);
	pane_buf_release(&uri);
	pane_buf_release(&q);
	return pane_buf_detach(&url, NULL);
}

static size_t discard_body(char *p, size_t size, size_t n, void *arg)
{
	struct pane_buf *b = arg;
	size_t len = size * n;
	if (b->len < 512)
		pane_buf_add(b, p, len > 512 ? 512 : len);
	return len;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	const struct pane_objstore *s = arg;
	return s->cancel && __atomic_load_n(s->cancel, __ATOMIC_RELAXED) ? 1 : 0;
}

/* One signed request: PUT of the file f (size bytes, content SHA-256 hex)
 * or DELETE (f NULL) of key. ok404: a 404 counts as success. */
static int request(const struct pane_objstore *s, const char *method, const char *key, FILE *f, uint64_t size,
                   const char *sha256_hex, const char *content_type, bool ok404, struct pane_err *err)
{
	struct pane_buf url, hdr, resp, sigv4, auth;
	pane_buf_init(&url, PANE_BUF_NOLIMIT);
	pane_buf_init(&hdr, PANE_BUF_NOLIMIT);
	pane_buf_init(&resp, 4096);
	pane_buf_init(&sigv4, PANE_BUF_NOLIMIT);
	pane_buf_init(&auth, PANE_BUF_NOLIMIT);
	pane_buf_addf(&url, "%s/", s->endpoint);
	uri_encode(&url, s->bucket, false);
	pane_buf_addc(&url, '/');
	uri_encode(&url, key, true);
	pane_buf_addf(&sigv4, "aws:amz:%s:s3", s->region);
	pane_buf_addf(&auth, "%s:%s", s->access_key, s->secret);
	/* SHA-256 of an empty body for DELETE */
	pane_buf_addf(&hdr, "x-amz-content-sha256: %s",
	              f ? sha256_hex : "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	struct curl_slist *hl = curl_slist_append(NULL, hdr.data);
	if (f) {
		pane_buf_reset(&hdr);
		pane_buf_addf(&hdr, "Content-Type: %s", content_type ? content_type : "application/octet-stream");
		hl = curl_slist_append(hl, hdr.data);
	}
	hl = curl_slist_append(hl, "Expect:");
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url.data);
	if (f) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READDATA, f);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.data);
	curl_easy_setopt(h, CURLOPT_USERPWD, auth.data);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	if (s->cancel) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)s);
	}
	if (s->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	int ret = 0;
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		ret = pane_err_set(err, PANE_ECANCELED, "object storage: %s %s/%s: the server is stopping", method,
		                   s->bucket, key);
	else if (rc != CURLE_OK)
		ret = pane_err_set(err, rc == CURLE_OPERATION_TIMEDOUT ? PANE_ETIMEDOUT : PANE_EIO,
		                   "object storage: %s %s/%s: %s", method, s->bucket, key, curl_easy_strerror(rc));
	else if ((status < 200 || status > 299) && !(ok404 && status == 404))
		ret = pane_err_set(err, PANE_EHTTP, "object storage: %s %s/%s: HTTP %ld %.*s", method, s->bucket, key,
		                   status, (int)(resp.len > 200 ? 200 : resp.len), resp.data ? resp.data : "");
	curl_easy_cleanup(h);
	curl_slist_free_all(hl);
	/* the credentials do not outlive the call in our buffers */
	if (auth.data)
		memset(auth.data, 0, auth.len);
	pane_buf_release(&auth);
	pane_buf_release(&url);
	pane_buf_release(&hdr);
	pane_buf_release(&resp);
	pane_buf_release(&sigv4);
	return ret;
}

int pane_objstore_put(const struct pane_objstore *s, const char *key, const char *path, uint64_t size,
                      const char *sha256_hex, const char *content_type, struct pane_err *err)
{
	FILE *f = fopen(path, "rbe");
	if (!f)
		return pane_err_set(err, PANE_EIO, "cannot read the stored upload %s", path);
	int ret = request(s, "PUT", key, f, size, sha256_hex, content_type, false, err);
	fclose(f);
	return ret;
}

int pane_objstore_delete(const struct pane_objstore *s, const char *key, struct pane_err *err)
{
	return request(s, "DELETE", key, NULL, 0, NULL, NULL, true, err);
}
