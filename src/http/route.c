/*
 * route.c - the route table: patterns with {param} and {rest*} segments,
 * matched in the order they were added.
 *
 * Idea: a linear scan over pre-split patterns. pane has tens of routes, not
 * thousands: a scan that compares segments is fast enough, keeps the first
 * added route the winner, and lets a miss on the method alone be told
 * apart from no route at all (405 with an Allow header, not 404).
 *
 * Invariants:
 *   (1) a pattern has at most MAX_SEGMENTS segments and MAX_PARAMS
 *       parameters; a {rest*} parameter is the last segment, and matches
 *       the rest of the path (possibly empty) joined with '/';
 *   (2) a {param} never matches an empty segment;
 *   (3) HEAD is answered by a GET route;
 *   (4) the table is written before the server starts and only read after.
 */
#include "http/server_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static size_t split_path(char *path, char **segs, size_t max)
{
	size_t n = 0;
	char *p = path;
	while (*p == '/')
		p++;
	while (*p && n < max) {
		segs[n++] = p;
		char *slash = strchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	return n;
}

int pane_http_server_route(struct pane_http_server *srv, const struct pane_http_route *r)
{
	if (!r->pattern || r->pattern[0] != '/' || !r->handler || !r->method)
		return PANE_EINVAL;
	char *copy = pane_xstrdup(r->pattern);
	char *segs[MAX_SEGMENTS];
	size_t n = split_path(copy, segs, MAX_SEGMENTS);
	struct route rt = {0};
	rt.segs = pane_xcalloc(n ? n : 1, sizeof *rt.segs);
	size_t params = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(segs[i]);
		if (segs[i][0] == '{') {
			bool rest = len > 3 && segs[i][len - 2] == '*';
			if (segs[i][len - 1] != '}' || len < 3 || (rest && i != n - 1) || ++params > MAX_PARAMS) {
				for (size_t j = 0; j < i; j++)
					free(rt.segs[j]);
				free(rt.segs);
				free(copy);
				return PANE_EINVAL;
			}
		}
		rt.segs[i] = pane_xstrdup(segs[i]);
	}
	free(copy);
	rt.n_segs = n;
	rt.method = pane_xstrdup(r->method);
	rt.handler = r->handler;
	rt.ctx = r->ctx;
	rt.max_body = r->max_body ? r->max_body : DEFAULT_MAX_BODY;
	rt.scope = pane_xstrdup(r->scope);
	rt.on_begin = r->on_begin;
	rt.on_body = r->on_body;
	rt.on_close = r->on_close;
	rt.blocking = r->blocking;
	srv->routes = pane_xrealloc(srv->routes, pane_mul_size(srv->n_routes + 1, sizeof *srv->routes));
	srv->routes[srv->n_routes++] = rt;
	return 0;
}

/* Matches path segments against a route; fills params on success. */
static bool route_match(const struct route *rt, char **segs, size_t n, struct pane_http_req *req)
{
	size_t np = 0;
	struct kv params[MAX_PARAMS];
	size_t i;
	for (i = 0; i < rt->n_segs; i++) {
		const char *pat = rt->segs[i];
		size_t plen = strlen(pat);
		if (pat[0] == '{' && pat[plen - 2] == '*') {
			/* rest-of-path parameter: join remaining segments */
			struct pane_buf b;
			pane_buf_init(&b, PANE_BUF_NOLIMIT);
			for (size_t j = i; j < n; j++)
				pane_buf_addf(&b, "%s%s", j > i ? "/" : "", segs[j]);
			params[np].name = pane_xstrndup(pat + 1, plen - 3);
			params[np++].value = pane_buf_detach(&b, NULL);
			i = n;
			goto matched;
		}
		if (i >= n)
			goto nomatch;
		if (pat[0] == '{') {
			if (!*segs[i])
				goto nomatch;
			params[np].name = pane_xstrndup(pat + 1, plen - 2);
			params[np++].value = pane_xstrdup(segs[i]);
		} else if (strcmp(pat, segs[i]) != 0) {
			goto nomatch;
		}
	}
	if (i != n)
		goto nomatch;
matched:
	if (req) {
		memcpy(req->params, params, np * sizeof *params);
		req->n_params = np;
	} else {
		for (size_t k = 0; k < np; k++) {
			free(params[k].name);
			free(params[k].value);
		}
	}
	return true;
nomatch:
	for (size_t k = 0; k < np; k++) {
		free(params[k].name);
		free(params[k].value);
	}
	return false;
}

const struct route *http_route_find(struct pane_http_server *srv, const char *method, const char *url,
                                    struct pane_http_req *req, char *allow, size_t allow_len)
{
	char *copy = pane_xstrdup(url);
	char *segs[MAX_SEGMENTS + 1];
	size_t n = split_path(copy, segs, MAX_SEGMENTS + 1);
	const struct route *found = NULL;
	bool head = strcmp(method, "HEAD") == 0;
	allow[0] = '\0';
	if (n <= MAX_SEGMENTS) {
		for (size_t i = 0; i < srv->n_routes && !found; i++) {
			const struct route *rt = &srv->routes[i];
			bool same = strcmp(rt->method, method) == 0 || (head && strcmp(rt->method, "GET") == 0);
			if (!route_match(rt, segs, n, same ? req : NULL))
				continue;
			if (same) {
				found = rt;
			} else if (!strstr(allow, rt->method)) {
				size_t l = strlen(allow);
				snprintf(allow + l, allow_len - l, "%s%s", l ? ", " : "", rt->method);
			}
		}
	}
	free(copy);
	return found;
}

void http_routes_release(struct pane_http_server *srv)
{
	for (size_t i = 0; i < srv->n_routes; i++) {
		struct route *rt = &srv->routes[i];
		for (size_t j = 0; j < rt->n_segs; j++)
			free(rt->segs[j]);
		free(rt->segs);
		free(rt->method);
		free(rt->scope);
	}
	free(srv->routes);
}
