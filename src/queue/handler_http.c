/*
 * handler_http.c - the --http handler: POST the job JSON to one URL; a 2xx
 * completes the job (the body, if any, is the result), 422 fails it for good
 * (the endpoint says it can never succeed), anything else - another status,
 * a connection error, the timeout - fails the attempt.
 *
 * One libcurl easy handle per job: handlers run on their own executor
 * threads and a handle is not shared between threads; the connection set-up
 * this costs is small next to a handler's work, and a handle that lives with
 * the job cannot leak state (cookies, auth) from one job into the next.
 * TLS always verifies the peer and host name (--http-ca adds a CA file);
 * headers come from --http-header (environment references already resolved).
 * The transfer stops as soon as the job is cancelled (progress callback).
 *
 * Thread context: an executor thread. Response bodies are bounded by
 * RESULT_MAX.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/mem.h"
#include "queue/handler.h"

static size_t on_http_body(char *p, size_t size, size_t n, void *arg)
{
	struct pane_buf *b = arg;
	if (pane_buf_add(b, p, size * n) < 0)
		return 0;
	return size * n;
}

static int on_http_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	return queue_job_cancelled(arg) ? 1 : 0;
}

void pane_queue_handler_http(const struct pane_queue_worker_opts *o, struct queue_job *j)
{
	CURL *h = curl_easy_init();
	struct pane_buf b;
	pane_buf_init(&b, RESULT_MAX);
	struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:");
	for (int i = 0; i < o->n_http_headers; i++)
		hl = curl_slist_append(hl, o->http_headers[i]);
	/* TLS: peer and host name always verified (libcurl's defaults, set to be explicit) */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->http_ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->http_ca_file);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_URL, o->http_url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, j->json);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_http_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_http_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, j);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	int64_t timeout_ms = j->timeout_ms > 0 ? j->timeout_ms : o->http_timeout_ms;
	if (timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (queue_job_cancelled(j)) {
		j->outcome = QJ_DROPPED;
	} else if (rc != CURLE_OK) {
		j->outcome = QJ_RETRY;
		struct pane_buf e;
		pane_buf_init(&e, PANE_BUF_NOLIMIT);
		pane_buf_addf(&e, "POST %s: %s", o->http_url, curl_easy_strerror(rc));
		j->error = pane_buf_detach(&e, NULL);
	} else if (status >= 200 && status < 300) {
		j->outcome = QJ_OK;
		pane_queue_job_set_result(j, b.data, b.len);
	} else {
		/* 422: the endpoint says the job can never succeed - no retry */
		j->outcome = status == 422 ? QJ_DISCARD : QJ_RETRY;
		struct pane_buf e;
		pane_buf_init(&e, PANE_BUF_NOLIMIT);
		pane_buf_addf(&e, "POST %s: HTTP %ld", o->http_url, status);
		if (b.len)
			pane_buf_addf(&e, ": %.*s", (int)(b.len > ERROR_TAIL ? ERROR_TAIL : b.len), b.data);
		j->error = pane_buf_detach(&e, NULL);
	}
	pane_buf_release(&b);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
}
