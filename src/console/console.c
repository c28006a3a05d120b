/*
 * console.c - serves the embedded web console (assets.h, built by build_web.py).
 *
 * Idea: the bundle is compiled into the binary, so serving it is a table
 * lookup. index.html is tiny and never cached, and names the bundle by the
 * hash of its content, so the bundle itself can be cached forever. Every
 * answer carries a strict Content-Security-Policy: scripts, styles and data
 * only from this server, nothing inline, no frames.
 */
#include "console/console.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/logs_api.h"
#include "api/prom_api.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "console/assets.h"
#include "console/changes.h"
#include "console/overview.h"
#include "http/server.h"
#include "host/host.h"
#include "store/store.h"

struct pane_console {
	struct pane_reader reader;
	struct pane_store *store;
};

#define CHANGES_PAGES 10 /* pages of 1,000 log lines read per window */

static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                          "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
                          "frame-ancestors 'none'";

static const struct pane_console_asset *find_asset(const char *name)
{
	for (const struct pane_console_asset *a = pane_console_assets; a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

/* True when q (just after "q=") is zero: "0", "0.0", "0.000". */
static bool q_is_zero(const char *q)
{
	if (*q++ != '0')
		return false;
	if (*q == '.')
		for (q++; *q == '0'; q++)
			;
	return *q == '\0' || *q == ',' || *q == ' ' || *q == ';';
}

/* True when Accept-Encoding lists gzip (or *) without q=0. */
static bool accepts_gzip(const struct pane_http_req *req)
{
	const char *ae = pane_http_req_header(req, "Accept-Encoding");
	if (!ae)
		return false;
	for (const char *p = strcasestr(ae, "gzip"); p; p = strcasestr(p + 4, "gzip")) {
		const char *t = p + 4;
		while (*t == ' ')
			t++;
		if (*t == ';') {
			t++;
			while (*t == ' ')
				t++;
			if ((t[0] == 'q' || t[0] == 'Q') && t[1] == '=' && q_is_zero(t + 2))
				continue;
		}
		return true;
	}
	return false;
}

static void send_asset(struct pane_http_req *req, struct pane_http_resp *resp, const struct pane_console_asset *a,
                       const char *cache)
{
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, a->type);
	pane_http_resp_header(resp, "Cache-Control", cache);
	pane_http_resp_header(resp, "Content-Security-Policy", CSP);
	pane_http_resp_header(resp, "X-Content-Type-Options", "nosniff");
	pane_http_resp_header(resp, "Referrer-Policy", "no-referrer");
	pane_http_resp_header(resp, "Vary", "Accept-Encoding");
	if (accepts_gzip(req)) {
		pane_http_resp_header(resp, "Content-Encoding", "gzip");
		pane_buf_add(pane_http_resp_body(resp), a->gz, a->gz_len);
	} else {
		pane_buf_add(pane_http_resp_body(resp), a->raw, a->raw_len);
	}
}

static void get_index(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)ctx;
	send_asset(req, resp, find_asset("index.html"), "no-store");
}

static void get_asset(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)ctx;
	const char *name = pane_http_req_param(req, "name");
	const struct pane_console_asset *a = name && strcmp(name, "index.html") ? find_asset(name) : NULL;
	if (!a) {
		pane_http_resp_error(resp, 404, "not_found",
		                     "no console asset %s (reload the page: pane was upgraded?)", name ? name : "");
		return;
	}
	send_asset(req, resp, a, "public, max-age=31536000, immutable");
}

/* start, end (Unix seconds or RFC 3339) and step (seconds) into ms; false after answering 400. */
static bool range_args(struct pane_http_req *req, struct pane_http_resp *resp, int64_t *start, int64_t *end,
                       int64_t *step)
{
	const char *a = pane_http_req_arg(req, "start"), *b = pane_http_req_arg(req, "end"),
	           *st = pane_http_req_arg(req, "step");
	if (!a || !b || !st || pane_prom_parse_time(a, start) < 0 || pane_prom_parse_time(b, end) < 0) {
		pane_prom_error(resp, 400, "bad_data", "start and end are required (Unix seconds or RFC 3339)");
		return false;
	}
	char *e = NULL;
	double d = strtod(st, &e);
	if (e == st || *e || !isfinite(d) || d <= 0 || d > 86400.0 * 366) {
		pane_prom_error(resp, 400, "bad_data", "invalid parameter \"step\": want seconds > 0, got \"%s\"", st);
		return false;
	}
	*step = (int64_t)(d * 1000.0);
	if (*step < 1)
		*step = 1;
	return true;
}

static void get_overview(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_console *c = ctx;
	int64_t start, end, step;
	if (!range_args(req, resp, &start, &end, &step))
		return;
	struct pane_buf b;
	pane_buf_init(&b, (size_t)64 << 20);
	struct pane_err e = {0};
	if (pane_console_overview(c->reader, start, end, step, &b, &e) < 0)
		pane_prom_error(resp, 400, "bad_data", "%s", e.msg);
	else
		pane_prom_ok(resp, b.data, b.len);
	pane_buf_release(&b);
}

/* Feeds the log lines of [mint, maxt] into t (which window: which); the
 * number of lines read, or a negative code with err. */
static long feed_logs(struct pane_store *st, const struct pane_label *labels, size_t n_labels, int64_t mint,
                      int64_t maxt, struct pane_console_templates *t, int which, struct pane_err *err)
{
	long lines = 0;
	char *cursor = NULL;
	for (int page = 0; page < CHANGES_PAGES; page++) {
		struct pane_buf b;
		pane_buf_init(&b, (size_t)64 << 20);
		struct pane_log_query q = {.labels = labels,
		                           .n_labels = n_labels,
		                           .mint = mint,
		                           .maxt = maxt,
		                           .limit = 1000,
		                           .cursor = cursor};
		int rc = pane_logs_api_search(pane_store_logreader(st), &q, &b, err);
		free(cursor);
		cursor = NULL;
		if (rc < 0) {
			pane_buf_release(&b);
			return rc;
		}
		json_t *root = json_loadb(b.data, b.len, 0, NULL);
		pane_buf_release(&b);
		if (!root)
			return pane_err_set(err, PANE_EIO, "the store answered logs that are not JSON");
		json_t *arr = json_object_get(root, "logs");
		size_t i;
		json_t *l;
		json_array_foreach(arr, i, l)
		{
			json_t *m = json_object_get(l, "message");
			pane_console_templates_add(t, json_string_value(m) ? json_string_value(m) : "",
			                           json_string_length(m),
			                           json_string_value(json_object_get(l, "severity")), which);
			lines++;
		}
		const char *next = json_string_value(json_object_get(root, "next"));
		if (next)
			cursor = pane_xstrdup(next);
		json_decref(root);
		if (!cursor)
			break;
	}
	free(cursor);
	return lines;
}

static void get_changes(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_console *c = ctx;
	const char *a = pane_http_req_arg(req, "start"), *b = pane_http_req_arg(req, "end"),
	           *service = pane_http_req_arg(req, "service");
	int64_t start, end;
	if (!a || !b || pane_prom_parse_time(a, &start) < 0 || pane_prom_parse_time(b, &end) < 0 || end <= start) {
		pane_prom_error(resp, 400, "bad_data",
		                "start and end are required (Unix seconds or RFC 3339), start < end");
		return;
	}
	if (end - start > (int64_t)31 * 86400 * 1000) {
		pane_prom_error(resp, 400, "bad_data", "the window is longer than 31 days; pick a shorter one");
		return;
	}
	if (service && !*service)
		service = NULL;
	struct pane_label lab = {"service", service};
	struct pane_matcher m = service ? (struct pane_matcher){"service", service, PANE_MATCH_EQ}
	                                : (struct pane_matcher){"service", ".+", PANE_MATCH_RE};
	struct pane_console_templates *t = pane_console_templates_new();
	struct pane_err e = {0};
	int64_t len = end - start;
	long now = feed_logs(c->store, &lab, service ? 1 : 0, start, end, t, 0, &e);
	long before = now < 0 ? now : feed_logs(c->store, &lab, service ? 1 : 0, start - len, start - 1, t, 1, &e);
	struct pane_buf out;
	pane_buf_init(&out, (size_t)64 << 20);
	if (before >= 0) {
		struct pane_json j;
		pane_json_init(&j, &out);
		pane_json_obj(&j);
		pane_json_key(&j, "lines");
		pane_json_int(&j, now);
		pane_json_key(&j, "lines_before");
		pane_json_int(&j, before);
		pane_json_key(&j, "templates");
		pane_json_raw(&j, ""); /* the two lists below write their own JSON */
		pane_console_templates_json(t, 25, &out);
		pane_json_key(&j, "series");
		pane_json_raw(&j, "");
		if (pane_console_series_changes(c->reader, &m, 1, start, end, 10, &out, &e) < 0)
			before = -1;
		pane_json_obj_end(&j);
	}
	if (before < 0)
		pane_prom_error(resp, 503, "unavailable", "%s", e.msg);
	else
		pane_prom_ok(resp, out.data, out.len);
	pane_buf_release(&out);
	pane_console_templates_free(t);
}

struct pane_console *pane_console_new(struct pane_http_server *http, struct pane_store *store, struct pane_err *err)
{
	return pane_console_new_reader(http, store, store ? pane_store_reader(store) : (struct pane_reader){0}, err);
}

struct pane_console *pane_console_new_reader(struct pane_http_server *http, struct pane_store *store,
                                             struct pane_reader reader, struct pane_err *err)
{
	struct pane_console *c = pane_xcalloc(1, sizeof *c);
	int rc = 0;
	c->reader = reader;
	c->store = store;
	if (reader.ops)
		rc = pane_http_server_route(http, &(struct pane_http_route){.method = "GET",
		                                                            .pattern = "/api/v1/console/overview",
		                                                            .handler = get_overview,
		                                                            .ctx = c,
		                                                            .scope = "read"});
	if (store && reader.ops) { /* changes: metrics from the reader, logs from the store */
		if (rc == 0)
			rc =
			    pane_http_server_route(http, &(struct pane_http_route){.method = "GET",
			                                                           .pattern = "/api/v1/console/changes",
			                                                           .handler = get_changes,
			                                                           .ctx = c,
			                                                           .scope = "read"});
	}
	if (rc == 0)
		rc = pane_http_server_route(
		    http, &(struct pane_http_route){.method = "GET", .pattern = "/", .handler = get_index});
	if (rc == 0)
		rc = pane_http_server_route(
		    http,
		    &(struct pane_http_route){.method = "GET", .pattern = "/assets/{name}", .handler = get_asset});
	if (rc < 0) {
		pane_err_set(err, rc, "console: cannot add its routes");
		free(c);
		return NULL;
	}
	return c;
}

void pane_console_free(struct pane_console *c)
{
	free(c);
}

static void stop(void *arg)
{
	pane_console_free(arg);
}

int pane_console_attach(struct pane_host *s, struct pane_err *err)
{
	return pane_console_attach_reader(s, s->store ? pane_store_reader(s->store) : (struct pane_reader){0}, err);
}

int pane_console_attach_reader(struct pane_host *s, struct pane_reader reader, struct pane_err *err)
{
	struct pane_console *c = pane_console_new_reader(s->http, s->store, reader, err);
	if (!c)
		return err->code ? err->code : PANE_EINVAL;
	pane_host_on_stop(s, stop, c);
	return 0;
}
