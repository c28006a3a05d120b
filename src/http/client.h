/*
 * client.h - the one outbound HTTP client every pull source shares.
 *
 * A thin, opinionated layer over a libcurl easy handle that gives every
 * source the same manners towards a provider:
 *
 *   - timeouts: connect and whole-request deadlines on every call;
 *   - retries of transient failures (transport errors, 429, 500/502/503/504)
 *     with exponential backoff and full jitter, honouring `Retry-After`
 *     (seconds or HTTP-date) when the server sends it;
 *   - rate-limit awareness: the client remembers the last
 *     `X-RateLimit-Limit/Remaining/Reset` (also `RateLimit-*`, and
 *     Sentry's `X-Sentry-Rate-Limit-*`) it saw, and
 *     when the budget is spent it waits for the reset before the next
 *     request instead of earning a 429; optionally it also spaces requests
 *     to at most `requests_per_minute`;
 *   - bounded responses: a body past max_body fails with PANE_ETOOBIG and is
 *     not buffered further;
 *   - cancellation: every wait and transfer stops promptly when the
 *     cancel callback says so (daemon shutdown), returning PANE_ECANCELED;
 *   - pagination helpers for the two common styles: RFC 8288 `Link`
 *     headers (Sentry, GitHub) and cursors in the body (Render), plus a
 *     query-string builder that percent-encodes.
 *
 * Retries apply to every method the caller marks idempotent (GET and HEAD
 * always are); a POST is sent once unless req->idempotent is set.
 *
 * Typical use (a source's collect callback):
 *
 *     struct pane_http_client *c = pane_http_client_new(&(struct pane_http_client_opts){
 *         .timeout_ms = 10000, .max_retries = 3, .requests_per_minute = 30});
 *     struct pane_http_response r;
 *     pane_http_response_init(&r);
 *     rc = pane_http_client_do(c, &(struct pane_http_request){
 *         .url = url, .bearer = token}, &r, err);
 *     ... r.status, r.body.data, pane_http_response_header(&r, "Link") ...
 *     pane_http_response_release(&r);
 *     pane_http_client_free(c);
 *
 * Threads: a client is used by one thread at a time (one per source). Two
 * clients may run concurrently. libcurl's global init happens once, on the
 * first pane_http_client_new().
 * Ownership: the client copies nothing from a request; the response owns
 * its body and headers until pane_http_response_release().
 */
#ifndef PANE_HTTP_CLIENT_H
#define PANE_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct pane_http_client;

struct pane_http_client_opts {
	const char *user_agent;     /* default "pane/<version>" */
	int64_t connect_timeout_ms; /* default 5000 */
	int64_t timeout_ms;         /* whole request, default 30000 */
	int max_retries;            /* extra attempts after the first; default 0 (use -1 for none explicitly) */
	int64_t backoff_base_ms;    /* first retry waits up to this (full jitter); default 500 */
	int64_t backoff_max_ms;     /* cap of one backoff wait; default 30000 */
	int64_t max_wait_ms;        /* longest Retry-After / rate-limit wait accepted before giving up
	                               with PANE_EAGAIN; default 120000 */
	size_t max_body;            /* response body bound; default 16 MiB */
	double requests_per_minute; /* > 0: space requests at least 60/rpm seconds apart */
	/* Polled during waits and transfers; returning true cancels. May be NULL. */
	bool (*cancel)(void *arg);
	void *cancel_arg;
	/* Called after every attempt with its result (0 and the HTTP status, or
	 * the transport error: PANE_ETIMEDOUT when no answer came within
	 * timeout_ms), before any retry. May be NULL. Sources use it to report a
	 * hung provider at once rather than after the retries. */
	void (*on_attempt)(void *arg, int rc, long status);
	void *on_attempt_arg;
	/* Transport settings (the notifiers' http_config). The strings are
	 * copied. Defaults: no redirects followed, libcurl's proxy choice (the
	 * proxy environment variables), HTTP/2 where TLS offers it, the
	 * system's CAs with full verification. */
	bool follow_redirects;            /* follow up to 10 redirects (http/https only); credentials
	                                     are not sent on to another host */
	const char *proxy_url;            /* http://, https:// or socks5:// proxy */
	const char *no_proxy;             /* with proxy_url: hosts reached directly (curl's NOPROXY list) */
	bool no_env_proxy;                /* without proxy_url: no proxy, whatever the environment says */
	const char *const *proxy_headers; /* "Name: value" lines for the proxy only (its CONNECT),
	                                     NULL-terminated; copied */
	bool http1_only;                  /* never HTTP/2 */
	const char *ca_file;              /* PEM bundle to verify servers with instead of the system's */
	const char *cert_file;            /* PEM client certificate (with key_file) */
	const char *key_file;             /* PEM key of cert_file, not encrypted */
	const char *ca_pem;               /* the same three as PEM text instead of files */
	const char *cert_pem;
	const char *key_pem;
	int tls_min_version;       /* 10, 11, 12 or 13 (TLS 1.x); 0: libcurl's */
	int tls_max_version;       /* likewise; 0: the newest */
	bool insecure_skip_verify; /* no TLS certificate or host name check */
};

/* Never NULL (aborts on allocation failure like pane_xmalloc). */
struct pane_http_client *pane_http_client_new(const struct pane_http_client_opts *opts);
/* NULL is a no-op. */
void pane_http_client_free(struct pane_http_client *c);

struct pane_http_request {
	const char *method;         /* default "GET" */
	const char *url;            /* absolute http:// or https:// URL */
	const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
	const char *body;           /* may be NULL */
	size_t body_len;
	const char *bearer;     /* adds "Authorization: Bearer <bearer>" when set */
	const char *basic_user; /* HTTP basic auth when basic_user is set */
	const char *basic_pass;
	bool idempotent; /* retry a non-GET request too */
};

struct pane_http_header {
	char *name;  /* as received */
	char *value; /* trimmed */
};

/* What the server told us about its rate limit, from the last response. */
struct pane_http_ratelimit {
	bool known;        /* headers were present */
	int64_t limit;     /* -1 unknown */
	int64_t remaining; /* -1 unknown */
	int64_t reset_ms;  /* wall-clock ms when the window resets; 0 unknown */
};

struct pane_http_response {
	long status;          /* 0 when no response arrived */
	struct pane_buf body; /* NUL-terminated */
	struct pane_http_header *headers;
	size_t n_headers;
	int attempts;           /* requests actually sent for this call */
	int64_t retry_after_ms; /* from the final response, -1 when absent */
	struct pane_http_ratelimit ratelimit;
};

void pane_http_response_init(struct pane_http_response *r);
void pane_http_response_release(struct pane_http_response *r);
/* Value of the first header of that name (case-insensitive) or NULL. */
const char *pane_http_response_header(const struct pane_http_response *r, const char *name);

/*
 * Sends the request, retrying transient failures as described above, and
 * fills resp with the final response (resp is reset first).
 *
 * Returns 0 when the final response is 2xx. Otherwise a negative code with
 * err set to "METHOD host/path: what" (the URL's query string is never
 * logged: it may carry SQL or keys) and resp still filled when a response
 * arrived:
 *   PANE_EAGAIN      429 after retries, or a rate-limit wait over max_wait_ms
 *   PANE_EPERM       401 or 403
 *   PANE_ENOTFOUND   404 or 410 (look at resp->status)
 *   PANE_EHTTP       any other non-2xx status
 *   PANE_ETIMEDOUT   no answer within timeout_ms
 *   PANE_EIO         connection or protocol failure
 *   PANE_ETOOBIG     body larger than max_body
 *   PANE_ECANCELED   the cancel callback said stop
 *   PANE_EINVAL      a bad URL or request
 */
int pane_http_client_do(struct pane_http_client *c, const struct pane_http_request *req,
                        struct pane_http_response *resp, struct pane_err *err);

/* The rate-limit state the client is working with (copied out). */
void pane_http_client_ratelimit(const struct pane_http_client *c, struct pane_http_ratelimit *out);

/* Sleeps ms unless the client's cancel callback fires; false when canceled. */
bool pane_http_client_sleep(struct pane_http_client *c, int64_t ms);

/* ---- helpers ---- */

/* Appends "?k=v" or "&k=v" to url (a buffer holding a URL), percent-encoding
 * key and value (RFC 3986 unreserved characters pass). 0 or PANE_ETOOBIG. */
int pane_http_url_add_query(struct pane_buf *url, const char *key, const char *value);
/* Percent-encodes s onto out. 0 or PANE_ETOOBIG. */
int pane_http_url_encode(struct pane_buf *out, const char *s, size_t len);

/* From an RFC 8288 Link header, the URL of rel="next", or NULL when there is
 * none or it carries results="false" (Sentry's "no more pages"). Returns a
 * heap string the caller frees. */
char *pane_http_link_next(const char *link_header);

/* Parses Retry-After (delta seconds or an IMF-fixdate) relative to now_ms
 * into a wait in ms; -1 when absent or unparsable. */
int64_t pane_http_parse_retry_after(const char *value, int64_t now_ms);

/* Backoff before retry number `attempt` (1-based): a uniformly random wait in
 * [0, min(max_ms, base_ms * 2^(attempt-1))] ("full jitter"). rnd is a
 * uniformly distributed 64-bit value (pane_random_u64()). */
int64_t pane_http_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint64_t rnd);

#endif
