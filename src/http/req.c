/*
 * req.c - what a handler reads of its request: method, path, path
 * parameters, headers, body, peer, query and form arguments.
 *
 * Idea: MHD keeps headers and query arguments; pane adds only what MHD
 * lacks - path parameters (route.c fills them), the buffered body, and an
 * application/x-www-form-urlencoded body decoded lazily, the first time an
 * argument is asked for, so that pane_http_req_arg answers from the query
 * string first and the form second, as Prometheus' API does.
 *
 * Invariants:
 *   (1) every string returned lives as long as the request;
 *   (2) form decoding happens at most once per request.
 */
#include "http/server_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/str.h"

const char *pane_http_req_method(const struct pane_http_req *req)
{
	return req->method;
}

const char *pane_http_req_path(const struct pane_http_req *req)
{
	return req->path;
}

const char *pane_http_req_param(const struct pane_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->n_params; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

const char *pane_http_req_header(const struct pane_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *pane_http_req_body(const struct pane_http_req *req, size_t *len)
{
	if (len)
		*len = req->body.len;
	return req->body.data;
}

void pane_http_req_set_user(struct pane_http_req *req, void *user)
{
	req->user = user;
}

void *pane_http_req_user(const struct pane_http_req *req)
{
	return req->user;
}

uint64_t pane_http_req_body_bytes(const struct pane_http_req *req)
{
	return req->body_bytes;
}

const char *pane_http_req_peer(const struct pane_http_req *req)
{
	return req->peer;
}

bool pane_http_req_content_type_is(const struct pane_http_req *req, const char *type)
{
	const char *ct = pane_http_req_header(req, "Content-Type");
	if (!ct)
		return false;
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == strlen(type) && strncasecmp(ct, type, n) == 0;
}

size_t pane_http_url_decode(char *s, size_t len, bool plus_is_space)
{
	size_t j = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+' && plus_is_space) {
			c = ' ';
		} else if (c == '%' && i + 2 < len) {
			int hi = s[i + 1], lo = s[i + 2];
			int h = hi >= '0' && hi <= '9'                 ? hi - '0'
			        : (hi | 32) >= 'a' && (hi | 32) <= 'f' ? (hi | 32) - 'a' + 10
			                                               : -1;
			int l = lo >= '0' && lo <= '9'                 ? lo - '0'
			        : (lo | 32) >= 'a' && (lo | 32) <= 'f' ? (lo | 32) - 'a' + 10
			                                               : -1;
			if (h >= 0 && l >= 0) {
				c = (char)(h * 16 + l);
				i += 2;
			}
		}
		s[j++] = c;
	}
	if (j < len)
		s[j] = '\0';
	return j;
}

static void parse_form(struct pane_http_req *req)
{
	req->form_parsed = true;
	if (!pane_http_req_content_type_is(req, "application/x-www-form-urlencoded"))
		return;
	struct pane_str rest = pane_str_make(req->body.data, req->body.len), pair;
	while (rest.len) {
		pane_str_cut(rest, '&', &pair, &rest);
		if (!pair.len)
			continue;
		struct pane_str k, v;
		pane_str_cut(pair, '=', &k, &v);
		char *name = pane_str_dup(k);
		char *value = pane_str_dup(v);
		pane_http_url_decode(name, strlen(name), true);
		pane_http_url_decode(value, strlen(value), true);
		req->form = pane_xrealloc(req->form, pane_mul_size(req->n_form + 1, sizeof *req->form));
		req->form[req->n_form].name = name;
		req->form[req->n_form].value = value;
		req->n_form++;
	}
}

const char *pane_http_req_arg(struct pane_http_req *req, const char *name)
{
	const char *v = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
	if (v)
		return v;
	if (!req->form_parsed)
		parse_form(req);
	for (size_t i = 0; i < req->n_form; i++)
		if (strcmp(req->form[i].name, name) == 0)
			return req->form[i].value;
	return NULL;
}

struct args_iter {
	const char *name;
	const char **out;
	size_t max;
	size_t n;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct args_iter *it = cls;
	if (key && strcmp(key, it->name) == 0) {
		if (it->n < it->max)
			it->out[it->n] = value ? value : "";
		it->n++;
	}
	return MHD_YES;
}

struct each_arg {
	void (*fn)(void *arg, const char *key, const char *value);
	void *arg;
};

static enum MHD_Result each_arg_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct each_arg *e = cls;
	if (key)
		e->fn(e->arg, key, value ? value : "");
	return MHD_YES;
}

void pane_http_req_query_each(const struct pane_http_req *req,
                              void (*fn)(void *arg, const char *key, const char *value), void *arg)
{
	struct each_arg e = {fn, arg};
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, each_arg_cb, &e);
}

size_t pane_http_req_args(struct pane_http_req *req, const char *name, const char **out, size_t max)
{
	struct args_iter it = {name, out, max, 0};
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &it);
	if (!req->form_parsed)
		parse_form(req);
	for (size_t i = 0; i < req->n_form; i++)
		collect_arg(&it, MHD_POSTDATA_KIND, req->form[i].name, req->form[i].value);
	return it.n;
}

void http_req_free(struct pane_http_req *req)
{
	if (!req)
		return;
	for (size_t i = 0; i < req->n_params; i++) {
		free(req->params[i].name);
		free(req->params[i].value);
	}
	for (size_t i = 0; i < req->n_form; i++) {
		free(req->form[i].name);
		free(req->form[i].value);
	}
	free(req->form);
	free(req->path);
	if (req->early) {
		http_resp_release(req->early);
		free(req->early);
	}
	pane_buf_release(&req->body);
	free(req);
}
