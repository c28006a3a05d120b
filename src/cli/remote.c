/*
 * remote.c - one HTTP call to a running pane's /api/v1 (see remote.h).
 */
#include "cli/remote.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX ((size_t)256 << 20)

void pane_remote_init(struct pane_remote *r, const char *url_flag, const char *token_flag)
{
	r->url = url_flag && *url_flag ? url_flag : getenv("PANE_URL");
	if (!r->url || !*r->url)
		r->url = "http://127.0.0.1:8080";
	r->token = token_flag && *token_flag ? token_flag : getenv("PANE_TOKEN");
}

void pane_remote_arg(struct pane_buf *args, const char *name, const char *value)
{
	char *e = curl_easy_escape(NULL, value, 0);
	pane_buf_addf(args, "%s%s=%s", args->len ? "&" : "", name, e ? e : "");
	curl_free(e);
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct pane_buf *b = ud;
	return pane_buf_add(b, p, sz * n) == 0 ? sz * n : 0;
}

json_t *pane_remote_call(const struct pane_remote *r, const char *path, const struct pane_buf *args, bool post,
                         struct pane_buf *raw, struct pane_err *err)
{
	size_t ul = strlen(r->url);
	while (ul && r->url[ul - 1] == '/')
		ul--;
	struct pane_buf url, body;
	pane_buf_init(&url, 1 << 20);
	pane_buf_init(&body, BODY_MAX);
	pane_buf_addf(&url, "%.*s/api/v1/%s", (int)ul, r->url, path);
	if (!post && args && args->len)
		pane_buf_addf(&url, "?%s", args->data);
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char auth[1024];
	if (r->token && *r->token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(h, CURLOPT_URL, url.data);
	if (post) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, args && args->len ? args->data : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(args ? args->len : 0));
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 150L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	CURLcode cc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);

	json_t *j = NULL, *data = NULL;
	if (cc != CURLE_OK) {
		pane_err_set(err, PANE_EHTTP, "cannot reach pane at %.*s: %s", (int)ul, r->url, curl_easy_strerror(cc));
		pane_err_detail(err, "is `pane serve` running there? point --url (or PANE_URL) at it");
		goto out;
	}
	json_error_t je;
	j = json_loadb(body.data, body.len, 0, &je);
	if (!j || !json_is_object(j)) {
		pane_err_set(err, PANE_EHTTP, "%.*s/api/v1/%s answered %ld with something that is not pane's API",
		             (int)ul, r->url, path, status);
		pane_err_detail(err, status == 401 || status == 403
		                         ? "this pane needs a token: pass --token (or set PANE_TOKEN)"
		                         : "check --url: it should be pane's address, e.g. http://127.0.0.1:8080");
		goto out;
	}
	const char *st = json_string_value(json_object_get(j, "status"));
	if (!st || strcmp(st, "success") != 0) {
		const char *et = json_string_value(json_object_get(j, "errorType"));
		const char *em = json_string_value(json_object_get(j, "error"));
		if (!em) /* pane's own JSON errors: {"error":{"message":..}} */
			em = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
		pane_err_set(err, PANE_EHTTP, "%s%s%s", et ? et : "", et ? ": " : "", em ? em : "request failed");
		if (status == 401 || status == 403)
			pane_err_detail(err, "pass a token with the read scope: --token (or PANE_TOKEN)");
		goto out;
	}
	data = json_incref(json_object_get(j, "data"));
	if (raw)
		pane_buf_add(raw, body.data, body.len);
out:
	json_decref(j);
	pane_buf_release(&url);
	pane_buf_release(&body);
	return data;
}

json_t *pane_remote_am(const struct pane_remote *r, const char *method, const char *path, const char *json_body,
                       struct pane_err *err)
{
	size_t ul = strlen(r->url);
	while (ul && r->url[ul - 1] == '/')
		ul--;
	struct pane_buf url, body;
	pane_buf_init(&url, 1 << 20);
	pane_buf_init(&body, BODY_MAX);
	pane_buf_addf(&url, "%.*s/api/v2/%s", (int)ul, r->url, path);
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	char auth[1024];
	if (r->token && *r->token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(h, CURLOPT_URL, url.data);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (json_body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(json_body));
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	CURLcode cc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	json_t *j = NULL;
	if (cc != CURLE_OK) {
		pane_err_set(err, PANE_EHTTP, "cannot reach pane at %.*s: %s", (int)ul, r->url, curl_easy_strerror(cc));
		pane_err_detail(err, "is `pane serve` running there? point --url (or PANE_URL) at it");
		goto out;
	}
	j = body.len ? json_loadb(body.data, body.len, JSON_DECODE_ANY, NULL) : json_null();
	if (status < 200 || status > 299) {
		json_t *e = json_object_get(j, "error");
		const char *em = json_string_value(json_object_get(e, "message"));
		pane_err_set(err, PANE_EHTTP, "%s /api/v2/%s answered %ld: %s", method, path, status,
		             em                  ? em
		             : json_is_string(j) ? json_string_value(j)
		                                 : "request failed");
		if (status == 401 || status == 403)
			pane_err_detail(err, "pass a token with the needed scope: --token (or PANE_TOKEN)");
		json_decref(j);
		j = NULL;
		goto out;
	}
	if (!j)
		pane_err_set(err, PANE_EHTTP, "%.*s/api/v2/%s answered something that is not JSON", (int)ul, r->url,
		             path);
out:
	pane_buf_release(&url);
	pane_buf_release(&body);
	return j;
}
