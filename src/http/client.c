/*
 * client.c - the shared outbound HTTP client (libcurl easy handle).
 *
 * Idea: providers punish clients that hammer them, and sources are polite
 * only if politeness is the default. So the rules live in one place: every
 * request goes through pane_http_client_do(), which (1) waits for the
 * provider's announced rate-limit window and for our own request spacing,
 * (2) sends with hard timeouts and a bounded body, (3) retries transient
 * failures with capped exponential backoff and full jitter, preferring the
 * server's own Retry-After / X-RateLimit-Reset when it gives one.
 *
 * Invariants:
 *   (1) At most 1 + max_retries requests per call; never a retry of a
 *       non-idempotent request.
 *   (2) Every wait is bounded by max_wait_ms (a longer one returns
 *       PANE_EAGAIN at once instead of sleeping) and interrupted by cancel.
 *   (3) The body buffer never grows past max_body: the write callback
 *       refuses the byte that would cross it and the transfer aborts.
 *   (4) Error messages carry scheme, host and path, never the query string
 *       (sources put SQL and filters there).
 *
 * Thread context: one client per thread. curl_global_init runs once under
 * pthread_once.
 */
#include "http/client.h"

#include <ctype.h>
#include <limits.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/clock.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/str.h"

#ifndef PANE_VERSION
#define PANE_VERSION "dev"
#endif

#define HEADERS_MAX 200
#define HEADER_BYTES_MAX (64 * 1024)

struct pane_http_client {
	CURL *curl;
	struct pane_http_client_opts o;
	char *user_agent;
	struct curl_slist *proxy_hl;   /* the options' proxy_headers */
	struct pane_http_ratelimit rl; /* last seen */
	int64_t last_request_ns;       /* monotonic, for requests_per_minute */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The options' strings the client copies (opts' may go away after new). */
#define OWN_STRINGS 8
static void own_strings(struct pane_http_client_opts *o, const char **out[OWN_STRINGS])
{
	const char **v[OWN_STRINGS] = {&o->proxy_url, &o->no_proxy, &o->ca_file,  &o->cert_file,
	                               &o->key_file,  &o->ca_pem,   &o->cert_pem, &o->key_pem};
	memcpy(out, v, sizeof v);
}

struct pane_http_client *pane_http_client_new(const struct pane_http_client_opts *opts)
{
	pthread_once(&curl_once, curl_init_once);
	struct pane_http_client *c = pane_xcalloc(1, sizeof *c);
	if (opts)
		c->o = *opts;
	if (c->o.connect_timeout_ms <= 0)
		c->o.connect_timeout_ms = 5000;
	if (c->o.timeout_ms <= 0)
		c->o.timeout_ms = 30000;
	if (c->o.max_retries < 0)
		c->o.max_retries = 0;
	if (c->o.backoff_base_ms <= 0)
		c->o.backoff_base_ms = 500;
	if (c->o.backoff_max_ms <= 0)
		c->o.backoff_max_ms = 30000;
	if (c->o.max_wait_ms <= 0)
		c->o.max_wait_ms = 120000;
	if (c->o.max_body == 0)
		c->o.max_body = 16u << 20;
	c->user_agent = pane_xstrdup(c->o.user_agent ? c->o.user_agent : "pane/" PANE_VERSION);
	c->o.user_agent = c->user_agent;
	/* the client's own copies, in c->o itself (freed from there) */
	const char **own[OWN_STRINGS];
	own_strings(&c->o, own);
	for (size_t i = 0; i < OWN_STRINGS; i++)
		*own[i] = *own[i] ? pane_xstrdup(*own[i]) : NULL;
	for (const char *const *p = c->o.proxy_headers; p && *p; p++)
		c->proxy_hl = curl_slist_append(c->proxy_hl, *p);
	c->o.proxy_headers = NULL;
	c->curl = curl_easy_init();
	if (!c->curl) {
		fprintf(stderr, "pane: curl_easy_init failed (out of memory)\n");
		abort();
	}
	c->rl.limit = c->rl.remaining = -1;
	return c;
}

void pane_http_client_free(struct pane_http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c->user_agent);
	const char **own[OWN_STRINGS];
	own_strings(&c->o, own);
	for (size_t i = 0; i < OWN_STRINGS; i++)
		free((char *)*own[i]);
	curl_slist_free_all(c->proxy_hl);
	free(c);
}

void pane_http_client_ratelimit(const struct pane_http_client *c, struct pane_http_ratelimit *out)
{
	*out = c->rl;
}

/* ---------- responses ---------- */

void pane_http_response_init(struct pane_http_response *r)
{
	memset(r, 0, sizeof *r);
	pane_buf_init(&r->body, PANE_BUF_NOLIMIT);
	r->retry_after_ms = -1;
	r->ratelimit.limit = r->ratelimit.remaining = -1;
}

static void headers_clear(struct pane_http_response *r)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->n_headers = 0;
}

void pane_http_response_release(struct pane_http_response *r)
{
	headers_clear(r);
	pane_buf_release(&r->body);
	pane_http_response_init(r);
}

const char *pane_http_response_header(const struct pane_http_response *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* ---------- helpers ---------- */

bool pane_http_client_sleep(struct pane_http_client *c, int64_t ms)
{
	int64_t end = pane_mono_ns() + ms * 1000000LL;
	for (;;) {
		if (c->o.cancel && c->o.cancel(c->o.cancel_arg))
			return false;
		int64_t left = (end - pane_mono_ns()) / 1000000LL;
		if (left <= 0)
			return true;
		pane_sleep_ms(left < 100 ? left : 100);
	}
}

/* libcurl's escaping: every byte but RFC 3986's unreserved ones as %XX. */
int pane_http_url_encode(struct pane_buf *out, const char *s, size_t len)
{
	if (len == 0)
		return 0;
	if (len > INT_MAX)
		return PANE_ETOOBIG;
	char *e = curl_easy_escape(NULL, s, (int)len);
	if (!e) /* libcurl could not allocate */
		return PANE_ETOOBIG;
	int rc = pane_buf_adds(out, e);
	curl_free(e);
	return rc;
}

int pane_http_url_add_query(struct pane_buf *url, const char *key, const char *value)
{
	size_t keep = url->len;
	int rc = pane_buf_addc(url, memchr(url->data, '?', url->len) ? '&' : '?');
	if (rc == 0)
		rc = pane_http_url_encode(url, key, strlen(key));
	if (rc == 0)
		rc = pane_buf_addc(url, '=');
	if (rc == 0)
		rc = pane_http_url_encode(url, value, strlen(value));
	if (rc < 0)
		pane_buf_truncate(url, keep);
	return rc;
}

char *pane_http_link_next(const char *link)
{
	if (!link)
		return NULL;
	const char *p = link;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p != '<')
			return NULL;
		const char *us = p + 1;
		const char *ue = strchr(us, '>');
		if (!ue)
			return NULL;
		/* parameters up to the next link (a ',' outside quotes) */
		const char *q = ue + 1;
		bool is_next = false, no_results = false, inq = false;
		const char *ps = q;
		for (;; q++) {
			if (*q == '"')
				inq = !inq;
			if (*q == '\0' || (!inq && (*q == ';' || *q == ','))) {
				struct pane_str param = pane_str_trim(pane_str_make(ps, (size_t)(q - ps)));
				struct pane_str k, v;
				if (pane_str_cut(param, '=', &k, &v)) {
					k = pane_str_trim(k);
					v = pane_str_trim(v);
					if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"')
						v = pane_str_make(v.p + 1, v.len - 2);
					if (k.len == 3 && strncasecmp(k.p, "rel", 3) == 0) {
						/* rel may hold several space-separated values */
						const char *r = v.p, *end = v.p + v.len;
						while (r < end) {
							const char *sp = memchr(r, ' ', (size_t)(end - r));
							size_t n = sp ? (size_t)(sp - r) : (size_t)(end - r);
							if (n == 4 && strncasecmp(r, "next", 4) == 0)
								is_next = true;
							r += n + 1;
						}
					} else if (k.len == 7 && strncasecmp(k.p, "results", 7) == 0 && v.len == 5 &&
					           strncasecmp(v.p, "false", 5) == 0) {
						no_results = true;
					}
				}
				if (*q == '\0' || *q == ',')
					break;
				ps = q + 1;
			}
		}
		if (is_next)
			return no_results ? NULL : pane_xstrndup(us, (size_t)(ue - us));
		p = q;
	}
	return NULL;
}

int64_t pane_http_parse_retry_after(const char *value, int64_t now_ms)
{
	if (!value)
		return -1;
	struct pane_str v = pane_str_trim(pane_str_c(value));
	int64_t secs;
	if (pane_str_to_i64(v, &secs) == 0)
		return secs < 0 ? -1 : (secs > 86400 * 7 ? 86400 * 7 : secs) * 1000;
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end)
		return -1;
	time_t t = timegm(&tm);
	int64_t wait = (int64_t)t * 1000 - now_ms;
	return wait < 0 ? 0 : wait;
}

int64_t pane_http_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint64_t rnd)
{
	if (attempt < 1)
		attempt = 1;
	int64_t cap = base_ms;
	for (int i = 1; i < attempt && cap < max_ms; i++)
		cap *= 2;
	if (cap > max_ms)
		cap = max_ms;
	if (cap <= 0)
		return 0;
	return (int64_t)(rnd % (uint64_t)(cap + 1));
}

/* ---------- the transfer ---------- */

struct xfer {
	struct pane_http_client *c;
	struct pane_http_response *r;
	bool too_big;
	size_t header_bytes;
};

/* PEM text for a *_BLOB option (libcurl copies it); NULL sets nothing */
static void pem_blob(CURL *h, CURLoption opt, const char *pem)
{
	if (!pem)
		return;
	struct curl_blob b = {.data = (void *)pem, .len = strlen(pem), .flags = CURL_BLOB_COPY};
	curl_easy_setopt(h, opt, &b);
}

/* CURLOPT_SSLVERSION from TLS 1.x minor versions (10..13; 0: libcurl's) */
static long tls_versions(int min, int max)
{
	static const long lo[] = {CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_TLSv1_1, CURL_SSLVERSION_TLSv1_2,
	                          CURL_SSLVERSION_TLSv1_3};
	static const long hi[] = {CURL_SSLVERSION_MAX_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_1, CURL_SSLVERSION_MAX_TLSv1_2,
	                          CURL_SSLVERSION_MAX_TLSv1_3};
	long v = min >= 10 && min <= 13 ? lo[min - 10] : CURL_SSLVERSION_DEFAULT;
	return v | (max >= 10 && max <= 13 ? hi[max - 10] : CURL_SSLVERSION_MAX_DEFAULT);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	if (x->r->body.len + n > x->c->o.max_body) {
		x->too_big = true;
		return 0;
	}
	if (pane_buf_add(&x->r->body, ptr, n) < 0) {
		x->too_big = true;
		return 0;
	}
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	x->header_bytes += n;
	if (x->header_bytes > HEADER_BYTES_MAX)
		return 0;
	struct pane_str line = pane_str_make(ptr, n);
	if (pane_str_has_prefix(line, "HTTP/")) {
		/* a new response (after a redirect or 100-continue): forget the old headers */
		headers_clear(x->r);
		return n;
	}
	struct pane_str k, v;
	if (!pane_str_cut(line, ':', &k, &v) || x->r->n_headers >= HEADERS_MAX)
		return n;
	k = pane_str_trim(k);
	v = pane_str_trim(v);
	if (k.len == 0)
		return n;
	x->r->headers = pane_xrealloc(x->r->headers, pane_mul_size(x->r->n_headers + 1, sizeof *x->r->headers));
	x->r->headers[x->r->n_headers].name = pane_str_dup(k);
	x->r->headers[x->r->n_headers].value = pane_str_dup(v);
	x->r->n_headers++;
	return n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	struct xfer *x = arg;
	return x->c->o.cancel && x->c->o.cancel(x->c->o.cancel_arg) ? 1 : 0;
}

/* "GET http://host/path" without the query string, for messages. */
static void describe(const char *method, const char *url, char *out, size_t outlen)
{
	size_t n = strcspn(url, "?#");
	if (n > 200)
		n = 200;
	snprintf(out, outlen, "%s %.*s", method, (int)n, url);
}

static int64_t header_i64(const struct pane_http_response *r, const char *a, const char *b)
{
	const char *v = pane_http_response_header(r, a);
	if (!v && b)
		v = pane_http_response_header(r, b);
	int64_t out;
	if (!v || pane_str_to_i64(pane_str_trim(pane_str_c(v)), &out) < 0)
		return -1;
	return out;
}

static void read_ratelimit(struct pane_http_client *c, struct pane_http_response *r, int64_t now_ms)
{
	int64_t lim = header_i64(r, "X-RateLimit-Limit", "RateLimit-Limit");
	int64_t rem = header_i64(r, "X-RateLimit-Remaining", "RateLimit-Remaining");
	int64_t reset = header_i64(r, "X-RateLimit-Reset", "RateLimit-Reset");
	if (lim < 0 && rem < 0 && reset < 0) {
		/* Sentry SaaS: X-Sentry-Rate-Limit-*, Reset in Unix seconds */
		lim = header_i64(r, "X-Sentry-Rate-Limit-Limit", NULL);
		rem = header_i64(r, "X-Sentry-Rate-Limit-Remaining", NULL);
		reset = header_i64(r, "X-Sentry-Rate-Limit-Reset", NULL);
	}
	if (lim < 0 && rem < 0 && reset < 0)
		return;
	r->ratelimit.known = true;
	r->ratelimit.limit = lim;
	r->ratelimit.remaining = rem;
	/* Reset is "seconds remaining" in Supabase's and the IETF draft's
	 * headers; some APIs send a Unix time instead: a value past 10^9 is
	 * taken as one. */
	if (reset >= 1000000000LL)
		r->ratelimit.reset_ms = reset * 1000;
	else if (reset >= 0)
		r->ratelimit.reset_ms = now_ms + reset * 1000;
	else
		r->ratelimit.reset_ms = 0;
	/* whole seconds are rounded by the server: with the budget spent, wait
	 * one more second rather than arrive a moment early and earn a 429 */
	if (rem == 0 && r->ratelimit.reset_ms)
		r->ratelimit.reset_ms += 1000;
	c->rl = r->ratelimit;
}

static bool retryable_status(long st)
{
	return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* Waits before sending for the provider's window and our own spacing.
 * 0, PANE_EAGAIN (wait too long) or PANE_ECANCELED. */
static int wait_before_send(struct pane_http_client *c, const char *what, struct pane_err *err)
{
	int64_t wait = 0;
	int64_t now = pane_wall_ms();
	if (c->rl.known && c->rl.remaining == 0 && c->rl.reset_ms > now) {
		wait = c->rl.reset_ms - now;
		if (wait > c->o.max_wait_ms)
			return pane_err_set(err, PANE_EAGAIN, "%s: rate limit spent; resets in %lld s", what,
			                    (long long)(wait / 1000));
	}
	if (c->o.requests_per_minute > 0 && c->last_request_ns) {
		int64_t gap_ns = (int64_t)(60e9 / c->o.requests_per_minute);
		int64_t left = (c->last_request_ns + gap_ns - pane_mono_ns()) / 1000000LL;
		if (left > wait)
			wait = left;
	}
	if (wait > 0 && !pane_http_client_sleep(c, wait))
		return pane_err_set(err, PANE_ECANCELED, "%s: canceled", what);
	if (c->rl.known && c->rl.remaining == 0)
		c->rl.remaining = -1; /* the window we waited for has passed */
	return 0;
}

static int send_once(struct pane_http_client *c, const struct pane_http_request *req, const char *method,
                     struct pane_http_response *r, const char *what, struct pane_err *err)
{
	CURL *h = c->curl;
	curl_easy_reset(h);
	headers_clear(r);
	pane_buf_reset(&r->body);
	r->status = 0;
	r->retry_after_ms = -1;
	memset(&r->ratelimit, 0, sizeof r->ratelimit);
	r->ratelimit.limit = r->ratelimit.remaining = -1;

	struct xfer x = {.c = c, .r = r};
	struct curl_slist *hl = NULL;
	char *auth = NULL;
	int rc = 0;
	for (const char *const *p = req->headers; p && *p; p++)
		hl = curl_slist_append(hl, *p);
	if (req->bearer) {
		struct pane_buf b;
		pane_buf_init(&b, 8192);
		if (pane_buf_addf(&b, "Authorization: Bearer %s", req->bearer) < 0) {
			pane_buf_release(&b);
			rc = pane_err_set(err, PANE_EINVAL, "%s: token is too long", what);
			goto out;
		}
		auth = pane_buf_detach(&b, NULL);
		hl = curl_slist_append(hl, auth);
	}
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->o.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->o.timeout_ms);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, c->o.follow_redirects ? 1L : 0L);
	if (c->o.follow_redirects) {
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
		curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	}
	if (c->o.proxy_url) {
		curl_easy_setopt(h, CURLOPT_PROXY, c->o.proxy_url);
		if (c->o.no_proxy)
			curl_easy_setopt(h, CURLOPT_NOPROXY, c->o.no_proxy);
	} else if (c->o.no_env_proxy) {
		curl_easy_setopt(h, CURLOPT_PROXY, ""); /* "": no proxy, the environment's ignored */
	}
	if (c->proxy_hl) { /* to the proxy only; the request's own headers never go there */
		curl_easy_setopt(h, CURLOPT_HEADEROPT, (long)CURLHEADER_SEPARATE);
		curl_easy_setopt(h, CURLOPT_PROXYHEADER, c->proxy_hl);
	}
	if (c->o.http1_only)
		curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	if (c->o.ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->o.ca_file);
	if (c->o.cert_file) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->o.cert_file);
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->o.key_file);
	}
	pem_blob(h, CURLOPT_CAINFO_BLOB, c->o.ca_pem);
	pem_blob(h, CURLOPT_SSLCERT_BLOB, c->o.cert_pem);
	pem_blob(h, CURLOPT_SSLKEY_BLOB, c->o.key_pem);
	if (c->o.tls_min_version || c->o.tls_max_version)
		curl_easy_setopt(h, CURLOPT_SSLVERSION, tls_versions(c->o.tls_min_version, c->o.tls_max_version));
	if (c->o.insecure_skip_verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (hl)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	if (req->basic_user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, req->basic_user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, req->basic_pass ? req->basic_pass : "");
	}
	if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (strcmp(method, "HEAD") == 0)
			curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	}
	if (req->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	c->last_request_ns = pane_mono_ns();
	CURLcode cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	int64_t now = pane_wall_ms();
	if (r->status > 0) {
		read_ratelimit(c, r, now);
		r->retry_after_ms = pane_http_parse_retry_after(pane_http_response_header(r, "Retry-After"), now);
	}
	if (cc == CURLE_OK)
		goto out;
	if (x.too_big)
		rc = pane_err_set(err, PANE_ETOOBIG, "%s: response body larger than %zu bytes", what, c->o.max_body);
	else if (cc == CURLE_ABORTED_BY_CALLBACK)
		rc = pane_err_set(err, PANE_ECANCELED, "%s: canceled", what);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		rc =
		    pane_err_set(err, PANE_ETIMEDOUT, "%s: no answer within %lld ms", what, (long long)c->o.timeout_ms);
	else if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL)
		rc = pane_err_set(err, PANE_EINVAL, "%s: %s", what, curl_easy_strerror(cc));
	else
		rc = pane_err_set(err, PANE_EIO, "%s: %s", what, curl_easy_strerror(cc));
	r->status = rc == PANE_ETOOBIG ? r->status : 0;
out:
	curl_slist_free_all(hl);
	if (auth) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	return rc;
}

static int status_error(const struct pane_http_response *r, const char *what, struct pane_err *err)
{
	int code = r->status == 429                         ? PANE_EAGAIN
	           : (r->status == 401 || r->status == 403) ? PANE_EPERM
	           : (r->status == 404 || r->status == 410) ? PANE_ENOTFOUND
	                                                    : PANE_EHTTP;
	/* a short, printable excerpt of the body helps more than the code alone */
	char snip[160];
	size_t n = 0;
	for (size_t i = 0; i < r->body.len && n + 1 < sizeof snip; i++) {
		unsigned char ch = (unsigned char)r->body.data[i];
		snip[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
	}
	snip[n] = '\0';
	pane_err_set(err, code, "%s: HTTP %ld%s%s", what, r->status, n ? ": " : "", snip);
	if (code == PANE_EPERM)
		pane_err_detail(err, "check the token or key and its permissions");
	return code;
}

int pane_http_client_do(struct pane_http_client *c, const struct pane_http_request *req,
                        struct pane_http_response *resp, struct pane_err *err)
{
	const char *method = req->method ? req->method : "GET";
	bool idem = req->idempotent || strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	char what[256];
	if (!req->url)
		return pane_err_set(err, PANE_EINVAL, "request without a URL");
	describe(method, req->url, what, sizeof what);
	resp->attempts = 0;
	for (int attempt = 0;; attempt++) {
		int rc = wait_before_send(c, what, err);
		if (rc < 0)
			return rc;
		rc = send_once(c, req, method, resp, what, err);
		resp->attempts++;
		if (c->o.on_attempt)
			c->o.on_attempt(c->o.on_attempt_arg, rc, resp->status);
		if (rc == 0 && resp->status >= 200 && resp->status < 300) {
			pane_err_clear(err);
			return 0;
		}
		bool transient = rc == 0 ? retryable_status(resp->status) : (rc == PANE_EIO || rc == PANE_ETIMEDOUT);
		if (rc == 0)
			rc = status_error(resp, what, err);
		if (!transient || !idem || attempt >= c->o.max_retries)
			return rc;
		int64_t wait = resp->retry_after_ms;
		if (wait < 0 && resp->status == 429 && resp->ratelimit.reset_ms > 0)
			wait = resp->ratelimit.reset_ms - pane_wall_ms();
		if (wait < 0)
			wait = pane_http_backoff_ms(attempt + 1, c->o.backoff_base_ms, c->o.backoff_max_ms,
			                            pane_random_u64());
		if (wait > c->o.max_wait_ms) {
			pane_err_detail(err, "the server asks to wait %lld s; trying again at the next interval",
			                (long long)(wait / 1000));
			return rc == PANE_EHTTP && resp->status == 429 ? PANE_EAGAIN : rc;
		}
		if (!pane_http_client_sleep(c, wait))
			return pane_err_set(err, PANE_ECANCELED, "%s: canceled", what);
		/* the server-provided wait covers the window we just saw */
		if (c->rl.remaining == 0)
			c->rl.remaining = -1;
	}
}
