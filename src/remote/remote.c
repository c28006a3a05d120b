/*
 * remote.c - the query engine's reads from a Prometheus-compatible HTTP API.
 *
 * Idea: pane's PromQL engine only ever asks a reader for "the raw samples of
 * the series matching these matchers in [mint, maxt]" and for label names
 * and values. Every Prometheus-compatible engine answers the first with an
 * instant query of a matrix selector, {matchers}[Δ] at maxt, which returns
 * raw samples (no lookback, no step alignment) on Prometheus, Mimir and
 * VictoriaMetrics alike. So the engine, the HTTP API, rules and the console
 * run unchanged on top; this file translates matchers into a selector,
 * bounds what comes back and turns the JSON answer into a pane_series_set.
 *
 * Bounds: one request per call, a whole-request timeout, a cap on the body
 * (the HTTP client stops reading past it), a cap on samples (max_samples of
 * the select), and every failure says which backend and what it answered.
 */
#include "remote/remote.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/redact.h"
#include "base/signals.h"
#include "config/config.h"
#include "host/host.h"
#include "http/client.h"

struct pane_remote {
	char *url;       /* without a trailing '/' */
	char shown[256]; /* url for messages: credentials hidden */
	int64_t timeout_ms;
	size_t max_body;
	char *bearer, *basic_user, *basic_pass;
	char **headers; /* NULL-terminated, with the form's Content-Type first */
	atomic_ullong requests, failures;
	pthread_mutex_t pool_mu; /* guards pool: idle clients keep their connections open */
	struct pane_http_client *pool[8];
	size_t n_pool;
	pthread_mutex_t mu; /* guards last_error */
	char last_error[PANE_ERR_MSG_MAX];
};

/* ---- one HTTP exchange ---- */

/* Records a failure for /readyz and returns rc. */
static int failed(struct pane_remote *r, int rc, struct pane_err *err)
{
	atomic_fetch_add(&r->failures, 1);
	pthread_mutex_lock(&r->mu);
	snprintf(r->last_error, sizeof r->last_error, "%s", err->msg);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* The "data" of a Prometheus API answer (*root owns it), or why there is
 * none: rc and transport are the HTTP client's result, status and body what
 * arrived (status 0: nothing). */
static int envelope(const struct pane_remote *r, int rc, long status, const char *body, size_t len,
                    const struct pane_err *transport, json_t **root, json_t **data, struct pane_err *err)
{
	*root = NULL;
	*data = NULL;
	json_error_t je;
	json_t *j = status ? json_loadb(body, len, 0, &je) : NULL;
	const char *st = json_string_value(json_object_get(j, "status"));
	if (rc == 0 && st && strcmp(st, "success") == 0 && json_object_get(j, "data")) {
		*root = j;
		*data = json_object_get(j, "data");
		return 0;
	}
	const char *why = json_string_value(json_object_get(j, "error"));
	if (rc == PANE_ETOOBIG)
		pane_err_set(err, PANE_EIO, "query backend %s: answer larger than max_response_size (%zu bytes)",
		             r->shown, r->max_body);
	else if (rc == PANE_ETIMEDOUT)
		pane_err_set(err, PANE_EIO, "query backend %s: no answer within remote_timeout (%lld ms)", r->shown,
		             (long long)r->timeout_ms);
	else if (why)
		pane_err_set(err, PANE_EHTTP, "query backend %s: HTTP %ld: %.300s", r->shown, status, why);
	else if (rc < 0 && !status)
		pane_err_set(err, PANE_EIO, "query backend %s: %s", r->shown, transport->msg);
	else if (!j)
		pane_err_set(err, PANE_EIO, "query backend %s: HTTP %ld with an answer that is not JSON (%s)", r->shown,
		             status, je.text);
	else
		pane_err_set(err, PANE_EIO,
		             "query backend %s: HTTP %ld with an answer that is not the Prometheus API's "
		             "{\"status\":\"success\",\"data\":...}",
		             r->shown, status);
	json_decref(j);
	return err->code;
}

/* Requests end promptly when pane stops (rules threads are joined then). */
static bool stopping(void *arg)
{
	(void)arg;
	return pane_signals_stop_requested();
}

/* An idle client (its connection to the backend may still be open) or a new one. */
static struct pane_http_client *client_get(struct pane_remote *r)
{
	struct pane_http_client *c = NULL;
	pthread_mutex_lock(&r->pool_mu);
	if (r->n_pool)
		c = r->pool[--r->n_pool];
	pthread_mutex_unlock(&r->pool_mu);
	if (c)
		return c;
	return pane_http_client_new(
	    &(struct pane_http_client_opts){.timeout_ms = r->timeout_ms,
	                                    .connect_timeout_ms = r->timeout_ms < 5000 ? r->timeout_ms : 5000,
	                                    .max_retries = -1,
	                                    .max_body = r->max_body,
	                                    .max_wait_ms = 0,
	                                    .cancel = stopping});
}

static void client_put(struct pane_remote *r, struct pane_http_client *c)
{
	pthread_mutex_lock(&r->pool_mu);
	if (r->n_pool < sizeof r->pool / sizeof r->pool[0]) {
		r->pool[r->n_pool++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&r->pool_mu);
	pane_http_client_free(c);
}

/* Sends one request to r->url + path (form body when form is non-NULL) and
 * returns the "data" member of a success envelope in *data (*root owns it). */
static int call(struct pane_remote *r, const char *path, const struct pane_buf *form, json_t **root, json_t **data,
                struct pane_err *err)
{
	atomic_fetch_add(&r->requests, 1);
	struct pane_http_client *c = client_get(r);
	struct pane_buf url;
	pane_buf_init(&url, PANE_BUF_NOLIMIT);
	pane_buf_addf(&url, "%s%s", r->url, path);
	struct pane_http_response resp;
	pane_http_response_init(&resp);
	struct pane_err e = {0};
	int rc = pane_http_client_do(
	    c,
	    &(struct pane_http_request){.method = form ? "POST" : "GET",
	                                .url = url.data,
	                                .headers = (const char *const *)(form ? r->headers : r->headers + 1),
	                                .body = form ? form->data : NULL,
	                                .body_len = form ? form->len : 0,
	                                .bearer = r->bearer,
	                                .basic_user = r->basic_user,
	                                .basic_pass = r->basic_pass,
	                                .idempotent = true},
	    &resp, &e);
	if (rc < 0 && (resp.status == 0 || rc == PANE_ETOOBIG))
		pane_http_client_free(c); /* a transfer cut short: start the next one afresh */
	else
		client_put(r, c);
	pane_buf_release(&url);
	rc = envelope(r, rc, resp.status, resp.body.data, resp.body.len, &e, root, data, err);
	pane_http_response_release(&resp);
	return rc < 0 ? failed(r, rc, err) : 0;
}

/* ---- selectors and forms ---- */

/* {a="x",b=~"y"}: the matchers as one selector. */
static void add_selector(struct pane_buf *b, const struct pane_matcher *m, size_t n)
{
	static const char *const ops[] = {"=", "!=", "=~", "!~"};
	pane_buf_addc(b, '{');
	for (size_t i = 0; i < n; i++) {
		pane_buf_addf(b, "%s%s%s", i ? "," : "", m[i].name, ops[m[i].op]);
		pane_buf_add_go_quoted(b, m[i].value);
	}
	pane_buf_addc(b, '}');
}

static void form_add(struct pane_buf *f, const char *key, const char *value, size_t len)
{
	if (f->len)
		pane_buf_addc(f, '&');
	pane_buf_adds(f, key);
	pane_buf_addc(f, '=');
	pane_http_url_encode(f, value, len);
}

/* Prometheus' time parameter: Unix seconds with milliseconds. */
static void form_time(struct pane_buf *f, const char *key, int64_t ms)
{
	char t[48];
	snprintf(t, sizeof t, "%s%lld.%03lld", ms < 0 && ms > -1000 ? "-" : "", (long long)(ms / 1000),
	         (long long)llabs(ms % 1000));
	form_add(f, key, t, strlen(t));
}

/* ---- select ---- */

struct rset {
	struct pane_series_set set;
};

static void rset_free(struct pane_series_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		pane_labels_release(&s->series[i].labels);
		free((void *)s->series[i].ts);
		free((void *)s->series[i].values);
	}
	free(s->series);
	free(s);
}

static int cmp_series(const void *a, const void *b)
{
	return pane_labels_cmp(&((const struct pane_series *)a)->labels, &((const struct pane_series *)b)->labels);
}

/* A JSON sample value: "1.5", "NaN", "+Inf", "-Inf" (or a number). */
static bool parse_value(json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return true;
	}
	const char *s = json_string_value(v);
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return *end == '\0';
}

static int bad_answer(struct pane_remote *r, struct pane_err *err, const char *what)
{
	pane_err_set(err, PANE_EIO, "query backend %s: malformed answer: %s", r->shown, what);
	return failed(r, PANE_EIO, err);
}

/* One element of a matrix result into s (its samples in [mint, maxt]); a
 * negative PANE_E* with err on a malformed one or past the sample budget. */
static int parse_series(struct pane_remote *r, json_t *el, int64_t mint, int64_t maxt, size_t *budget,
                        size_t max_samples, struct pane_series *s, struct pane_err *err)
{
	json_t *metric = json_object_get(el, "metric"), *values = json_object_get(el, "values");
	if (!json_is_object(metric) || !json_is_array(values))
		return bad_answer(r, err, "a series without \"metric\" and \"values\"");
	pane_labels_init(&s->labels);
	const char *k;
	json_t *v;
	json_object_foreach(metric, k, v)
	{
		const char *val = json_string_value(v);
		if (!val)
			return bad_answer(r, err, "a label value that is not a string");
		if (pane_labels_set(&s->labels, k, val) < 0) {
			pane_err_set(err, PANE_EIO, "query backend %s: label %.100s=%.100s cannot be used in pane",
			             r->shown, k, val);
			return failed(r, PANE_EIO, err);
		}
	}
	size_t n = json_array_size(values);
	if (n > *budget) {
		pane_err_set(err, PANE_ETOOBIG, "query backend %s: more than %zu samples for one query", r->shown,
		             max_samples);
		return failed(r, PANE_ETOOBIG, err);
	}
	int64_t *ts = pane_xmalloc(pane_mul_size(n ? n : 1, sizeof *ts));
	double *vals = pane_xmalloc(pane_mul_size(n ? n : 1, sizeof *vals));
	size_t k2 = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(values, i);
		json_t *t = json_array_get(p, 0);
		double d;
		if (json_array_size(p) != 2 || !json_is_number(t) || !parse_value(json_array_get(p, 1), &d)) {
			free(ts);
			free(vals);
			return bad_answer(r, err, "a sample that is not [time, \"value\"]");
		}
		double sec = json_number_value(t);
		if (!(fabs(sec) < 1e13)) { /* also NaN: no time pane can hold */
			free(ts);
			free(vals);
			return bad_answer(r, err, "a sample time out of range");
		}
		int64_t ms = llround(sec * 1000.0);
		if (ms < mint || ms > maxt || (k2 && ms <= ts[k2 - 1]))
			continue; /* outside the window, or not ascending: keep the first */
		ts[k2] = ms;
		vals[k2++] = d;
	}
	*budget -= n;
	s->ts = ts;
	s->values = vals;
	s->n = k2;
	return 0;
}

static int matrix_to_set(struct pane_remote *r, json_t *data, int64_t mint, int64_t maxt, size_t max_samples,
                         struct rset *rs, struct pane_err *err);

static int r_select(void *ctx, const struct pane_matcher *m, size_t n_matchers, int64_t mint, int64_t maxt,
                    size_t max_samples, struct pane_series_set **out, struct pane_err *err)
{
	struct pane_remote *r = ctx;
	struct rset *rs = pane_xcalloc(1, sizeof *rs);
	rs->set.free = rset_free;
	*out = &rs->set;
	if (maxt < mint)
		return 0;
	/* [mint, maxt]: Prometheus 2 includes both ends of a range, VictoriaMetrics
	 * only the right one; ask for 1 ms more and cut at mint here. */
	struct pane_buf sel, form;
	pane_buf_init(&sel, PANE_BUF_NOLIMIT);
	pane_buf_init(&form, PANE_BUF_NOLIMIT);
	add_selector(&sel, m, n_matchers);
	pane_buf_addf(&sel, "[%lldms]", (long long)(maxt - mint + 1));
	form_add(&form, "query", sel.data, sel.len);
	form_time(&form, "time", maxt);
	pane_buf_release(&sel);
	json_t *root, *data;
	int rc = call(r, "/api/v1/query", &form, &root, &data, err);
	pane_buf_release(&form);
	if (rc == 0)
		rc = matrix_to_set(r, data, mint, maxt, max_samples, rs, err);
	json_decref(root);
	if (rc < 0) {
		rset_free(&rs->set);
		*out = NULL;
	}
	return rc;
}

/* The "data" of a matrix answer into rs: series with a sample in [mint, maxt],
 * sorted by labels, at most max_samples samples. */
static int matrix_to_set(struct pane_remote *r, json_t *data, int64_t mint, int64_t maxt, size_t max_samples,
                         struct rset *rs, struct pane_err *err)
{
	int rc = 0;
	const char *type = json_string_value(json_object_get(data, "resultType"));
	json_t *result = json_object_get(data, "result");
	if (!type || strcmp(type, "matrix") != 0 || !json_is_array(result)) {
		return bad_answer(r, err, "a range selector did not answer a matrix");
	}
	size_t n = json_array_size(result), budget = max_samples;
	rs->set.series = pane_xcalloc(n ? n : 1, sizeof *rs->set.series);
	for (size_t i = 0; i < n; i++) {
		struct pane_series *s = &rs->set.series[rs->set.n];
		rc = parse_series(r, json_array_get(result, i), mint, maxt, &budget, max_samples, s, err);
		if (rc < 0) {
			pane_labels_release(&s->labels);
			return rc;
		}
		if (s->n == 0) { /* no sample in [mint, maxt] */
			pane_labels_release(&s->labels);
			free((void *)s->ts);
			free((void *)s->values);
			continue;
		}
		rs->set.n++;
	}
	qsort(rs->set.series, rs->set.n, sizeof *rs->set.series, cmp_series);
	return 0;
}

/* ---- label names and values ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int string_list(struct pane_remote *r, json_t *data, char ***names, size_t *n, struct pane_err *err)
{
	if (!json_is_array(data))
		return bad_answer(r, err, "label names or values that are not a list");
	size_t k = json_array_size(data);
	char **v = pane_xcalloc(k ? k : 1, sizeof *v);
	for (size_t i = 0; i < k; i++) {
		const char *s = json_string_value(json_array_get(data, i));
		if (!s) {
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return bad_answer(r, err, "a label name or value that is not a string");
		}
		v[i] = pane_xstrdup(s);
	}
	/* reader.h promises sorted and unique; engines sort, but do not rely on it */
	qsort(v, k, sizeof *v, cmp_str);
	size_t u = 0;
	for (size_t i = 0; i < k; i++) {
		if (u && !strcmp(v[u - 1], v[i]))
			free(v[i]);
		else
			v[u++] = v[i];
	}
	*names = v;
	*n = u;
	return 0;
}

static void form_range(struct pane_buf *f, const struct pane_matcher *m, size_t n_matchers, int64_t mint, int64_t maxt)
{
	if (n_matchers) {
		struct pane_buf sel;
		pane_buf_init(&sel, PANE_BUF_NOLIMIT);
		add_selector(&sel, m, n_matchers);
		form_add(f, "match[]", sel.data, sel.len);
		pane_buf_release(&sel);
	}
	form_time(f, "start", mint);
	form_time(f, "end", maxt);
}

static int r_label_names(void *ctx, const struct pane_matcher *m, size_t n_matchers, int64_t mint, int64_t maxt,
                         char ***names, size_t *n, struct pane_err *err)
{
	struct pane_remote *r = ctx;
	struct pane_buf form;
	pane_buf_init(&form, PANE_BUF_NOLIMIT);
	form_range(&form, m, n_matchers, mint, maxt);
	json_t *root, *data;
	int rc = call(r, "/api/v1/labels", &form, &root, &data, err);
	pane_buf_release(&form);
	if (rc == 0)
		rc = string_list(r, data, names, n, err);
	json_decref(root);
	return rc;
}

static int r_label_values(void *ctx, const char *name, const struct pane_matcher *m, size_t n_matchers, int64_t mint,
                          int64_t maxt, char ***values, size_t *n, struct pane_err *err)
{
	struct pane_remote *r = ctx;
	struct pane_buf path, form;
	pane_buf_init(&path, PANE_BUF_NOLIMIT);
	pane_buf_init(&form, PANE_BUF_NOLIMIT);
	pane_buf_adds(&path, "/api/v1/label/");
	pane_http_url_encode(&path, name, strlen(name));
	pane_buf_adds(&path, "/values?");
	form_range(&form, m, n_matchers, mint, maxt);
	pane_buf_add(&path, form.data, form.len);
	json_t *root, *data;
	int rc = call(r, path.data, NULL, &root, &data, err);
	pane_buf_release(&path);
	pane_buf_release(&form);
	if (rc == 0)
		rc = string_list(r, data, values, n, err);
	json_decref(root);
	return rc;
}

struct md_entry {
	const char *name, *help, *unit;
	size_t help_len, unit_len;
	enum pane_metric_type type;
};

static int cmp_md(const void *a, const void *b)
{
	return strcmp(((const struct md_entry *)a)->name, ((const struct md_entry *)b)->name);
}

/* {"name": [{"type":..,"help":..,"unit":..}, ...], ...} into one allocation
 * (reader.h): sorted by name, the first entry of each, at most limit. */
static int metadata_from(struct pane_remote *r, json_t *data, size_t limit, struct pane_metadata **out, size_t *n,
                         struct pane_err *err)
{
	*out = NULL;
	*n = 0;
	if (!json_is_object(data))
		return bad_answer(r, err, "metadata that is not an object");
	size_t k = 0, cap = json_object_size(data);
	struct md_entry *v = pane_xcalloc(cap ? cap : 1, sizeof *v);
	size_t bytes = 0;
	const char *name;
	json_t *list;
	json_object_foreach(data, name, list)
	{
		json_t *first = json_array_get(list, 0);
		const char *type = json_string_value(json_object_get(first, "type"));
		const char *help = json_string_value(json_object_get(first, "help"));
		const char *unit = json_string_value(json_object_get(first, "unit"));
		if (!json_is_object(first) || !pane_metric_name_valid(name, strlen(name)))
			continue; /* nothing pane could show for it */
		struct md_entry *e = &v[k++];
		e->name = name;
		e->help = help ? help : "";
		e->unit = unit ? unit : "";
		e->help_len = pane_utf8_cut(e->help, strlen(e->help), PANE_METADATA_HELP_MAX);
		e->unit_len = pane_utf8_cut(e->unit, strlen(e->unit), PANE_METADATA_UNIT_MAX);
		if (!type || pane_metric_type_parse(type, strlen(type), &e->type) < 0)
			e->type = PANE_METRIC_UNKNOWN;
	}
	qsort(v, k, sizeof *v, cmp_md);
	if (k > limit)
		k = limit;
	for (size_t i = 0; i < k; i++)
		bytes += strlen(v[i].name) + v[i].help_len + v[i].unit_len + 3;
	if (k) {
		struct pane_metadata *m = pane_xmalloc(k * sizeof *m + bytes);
		char *p = (char *)(m + k);
		for (size_t i = 0; i < k; i++) {
			size_t nl = strlen(v[i].name);
			m[i].type = v[i].type;
			m[i].name = memcpy(p, v[i].name, nl + 1);
			p += nl + 1;
			m[i].help = memcpy(p, v[i].help, v[i].help_len);
			p[v[i].help_len] = '\0';
			p += v[i].help_len + 1;
			m[i].unit = memcpy(p, v[i].unit, v[i].unit_len);
			p[v[i].unit_len] = '\0';
			p += v[i].unit_len + 1;
		}
		*out = m;
		*n = k;
	}
	free(v);
	return 0;
}

static int r_metadata(void *ctx, const char *metric, size_t limit, struct pane_metadata **out, size_t *n,
                      struct pane_err *err)
{
	struct pane_remote *r = ctx;
	struct pane_buf path;
	pane_buf_init(&path, PANE_BUF_NOLIMIT);
	pane_buf_adds(&path, "/api/v1/metadata");
	if (metric) {
		pane_buf_adds(&path, "?metric=");
		pane_http_url_encode(&path, metric, strlen(metric));
	}
	json_t *root, *data;
	int rc = call(r, path.data, NULL, &root, &data, err);
	pane_buf_release(&path);
	if (rc == 0)
		rc = metadata_from(r, data, limit, out, n, err);
	json_decref(root);
	return rc;
}

static const struct pane_reader_ops remote_ops = {
    .select = r_select,
    .label_names = r_label_names,
    .label_values = r_label_values,
    .metadata = r_metadata, /* what the backend keeps (Prometheus, Mimir: from scrapes) */
};

struct pane_reader pane_remote_reader(struct pane_remote *r)
{
	return (struct pane_reader){.ops = &remote_ops, .ctx = r};
}

/* ---- answers without the HTTP exchange (the fuzzer, tests) ---- */

int pane_remote_decode_select(const char *body, size_t len, long status, int64_t mint, int64_t maxt, size_t max_samples,
                              struct pane_series_set **out, struct pane_err *err)
{
	struct pane_remote *r = pane_remote_new(&(struct pane_remote_opts){.url = "http://decode.invalid"}, err);
	struct rset *rs = pane_xcalloc(1, sizeof *rs);
	rs->set.free = rset_free;
	json_t *root, *data;
	struct pane_err none = {0};
	int rc =
	    envelope(r, status >= 200 && status < 300 ? 0 : PANE_EHTTP, status, body, len, &none, &root, &data, err);
	if (rc == 0)
		rc = matrix_to_set(r, data, mint, maxt, max_samples, rs, err);
	json_decref(root);
	pane_remote_free(r);
	if (rc < 0) {
		rset_free(&rs->set);
		rs = NULL;
	}
	*out = rs ? &rs->set : NULL;
	return rc;
}

int pane_remote_decode_strings(const char *body, size_t len, long status, char ***v, size_t *n, struct pane_err *err)
{
	struct pane_remote *r = pane_remote_new(&(struct pane_remote_opts){.url = "http://decode.invalid"}, err);
	json_t *root, *data;
	struct pane_err none = {0};
	int rc =
	    envelope(r, status >= 200 && status < 300 ? 0 : PANE_EHTTP, status, body, len, &none, &root, &data, err);
	if (rc == 0)
		rc = string_list(r, data, v, n, err);
	json_decref(root);
	pane_remote_free(r);
	return rc;
}

int pane_remote_decode_metadata(const char *body, size_t len, long status, size_t limit, struct pane_metadata **out,
                                size_t *n, struct pane_err *err)
{
	struct pane_remote *r = pane_remote_new(&(struct pane_remote_opts){.url = "http://decode.invalid"}, err);
	json_t *root, *data;
	struct pane_err none = {0};
	*out = NULL;
	*n = 0;
	int rc =
	    envelope(r, status >= 200 && status < 300 ? 0 : PANE_EHTTP, status, body, len, &none, &root, &data, err);
	if (rc == 0)
		rc = metadata_from(r, data, limit, out, n, err);
	json_decref(root);
	pane_remote_free(r);
	return rc;
}

/* ---- life cycle ---- */

struct pane_remote *pane_remote_new(const struct pane_remote_opts *o, struct pane_err *err)
{
	const char *u = o->url ? o->url : "";
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
		pane_err_set(err, PANE_EINVAL, "query backend '%s' is not an http:// or https:// URL", u);
		return NULL;
	}
	if (strchr(u, '?') || strchr(u, '#')) {
		pane_err_set(err, PANE_EINVAL,
		             "query backend '%s': the URL may not have a query or fragment "
		             "(give the part before /api/v1)",
		             u);
		return NULL;
	}
	struct pane_remote *r = pane_xcalloc(1, sizeof *r);
	size_t len = strlen(u);
	while (len && u[len - 1] == '/')
		len--;
	r->url = pane_xstrndup(u, len);
	if (len >= 7 && !strcmp(r->url + len - 7, "/api/v1")) /* a common slip: the API path itself */
		r->url[len - 7] = '\0';
	snprintf(r->shown, sizeof r->shown, "%s", r->url);
	pane_redact(r->shown, sizeof r->shown);
	r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	r->max_body = o->max_body ? o->max_body : 64u << 20;
	r->bearer = o->bearer ? pane_xstrdup(o->bearer) : NULL;
	r->basic_user = o->basic_user ? pane_xstrdup(o->basic_user) : NULL;
	r->basic_pass = o->basic_pass ? pane_xstrdup(o->basic_pass) : NULL;
	size_t nh = 0;
	while (o->headers && o->headers[nh])
		nh++;
	r->headers = pane_xcalloc(nh + 2, sizeof *r->headers);
	r->headers[0] = pane_xstrdup("Content-Type: application/x-www-form-urlencoded");
	for (size_t i = 0; i < nh; i++)
		r->headers[i + 1] = pane_xstrdup(o->headers[i]);
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->pool_mu, NULL);
	return r;
}

void pane_remote_free(struct pane_remote *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->headers && r->headers[i]; i++)
		free(r->headers[i]);
	free(r->headers);
	free(r->url);
	free(r->bearer);
	free(r->basic_user);
	free(r->basic_pass);
	for (size_t i = 0; i < r->n_pool; i++)
		pane_http_client_free(r->pool[i]);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->pool_mu);
	free(r);
}

/* ---- `query:` in pane.yaml ---- */

struct backend_cfg {
	char *backend, *bearer_token, *bearer_token_file;
	int64_t timeout_ms, max_body;
};

static const struct pane_cfg_field backend_fields[] = {
    {"backend", PANE_CFT_STRING, offsetof(struct backend_cfg, backend), NULL, 0,
     "URL of a Prometheus-compatible query API (before /api/v1) that queries, rules and the console read "
     "instead of the embedded store",
     0, 0},
    {"remote_timeout", PANE_CFT_DURATION, offsetof(struct backend_cfg, timeout_ms), "30s", 0,
     "longest one request to the backend may take", 1, 3600000},
    {"max_response_size", PANE_CFT_SIZE, offsetof(struct backend_cfg, max_body), "64MiB", 0,
     "largest answer read from the backend (bounds memory)", 1024, 1LL << 30},
    {"bearer_token", PANE_CFT_STRING, offsetof(struct backend_cfg, bearer_token), NULL, PANE_CFG_SECRET,
     "Authorization: Bearer token sent to the backend (${ENV} only)", 0, 0},
    {"bearer_token_file", PANE_CFT_STRING, offsetof(struct backend_cfg, bearer_token_file), NULL, 0,
     "file holding the bearer token", 0, 0},
    {"basic_auth", PANE_CFT_SECTION, 0, NULL, 0, "username, password (${ENV}) or password_file", 0, 0},
    {"authorization", PANE_CFT_SECTION, 0, NULL, 0, "type (default Bearer), credentials (${ENV}) or credentials_file",
     0, 0},
    {"headers", PANE_CFT_SECTION, 0, NULL, 0, "extra HTTP headers (name: value), e.g. X-Scope-OrgID", 0, 0},
    /* bound by src/api (prom_api.c) */
    {"lookback_delta", PANE_CFT_SECTION, 0, NULL, 0, NULL, 0, 0},
    {"timeout", PANE_CFT_SECTION, 0, NULL, 0, NULL, 0, 0},
    {"max_samples", PANE_CFT_SECTION, 0, NULL, 0, NULL, 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct basic_cfg {
	char *username, *password, *password_file;
};

static const struct pane_cfg_field basic_fields[] = {
    {"username", PANE_CFT_STRING, offsetof(struct basic_cfg, username), NULL, PANE_CFG_REQUIRED, "user name", 0, 0},
    {"password", PANE_CFT_STRING, offsetof(struct basic_cfg, password), NULL, PANE_CFG_SECRET, "password (${ENV} only)",
     0, 0},
    {"password_file", PANE_CFT_STRING, offsetof(struct basic_cfg, password_file), NULL, 0, "file holding the password",
     0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct authz_cfg {
	char *type, *credentials, *credentials_file;
};

static const struct pane_cfg_field authz_fields[] = {
    {"type", PANE_CFT_STRING, offsetof(struct authz_cfg, type), "Bearer", 0, "the scheme of the Authorization header",
     0, 0},
    {"credentials", PANE_CFT_STRING, offsetof(struct authz_cfg, credentials), NULL, PANE_CFG_SECRET,
     "credentials (${ENV} only)", 0, 0},
    {"credentials_file", PANE_CFT_STRING, offsetof(struct authz_cfg, credentials_file), NULL, 0,
     "file holding the credentials", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

/* The first line of a small secret file (trailing newline and spaces dropped). */
static char *read_secret(const struct pane_cfg *cfg, const struct pane_cfg_node *node, const char *path,
                         struct pane_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		pane_cfg_error(cfg, node, err, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	char line[4096];
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fclose(f);
	size_t n = strcspn(line, "\r\n");
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (n == 0) {
		pane_cfg_error(cfg, node, err, "%s is empty", path);
		return NULL;
	}
	return pane_xstrndup(line, n);
}

static void stop_remote(void *arg)
{
	pane_remote_free(arg);
}

static void readyz_info(void *arg, struct pane_buf *out)
{
	struct pane_remote *r = arg;
	struct pane_json j;
	pane_json_init(&j, out);
	pane_json_obj(&j);
	pane_json_key(&j, "url");
	pane_json_str(&j, r->shown);
	pane_json_key(&j, "requests");
	pane_json_uint(&j, atomic_load(&r->requests));
	pane_json_key(&j, "failures");
	pane_json_uint(&j, atomic_load(&r->failures));
	pane_json_key(&j, "last_error");
	pthread_mutex_lock(&r->mu);
	pane_json_str(&j, r->last_error);
	pthread_mutex_unlock(&r->mu);
	pane_json_obj_end(&j);
}

/* Reads the backend keys of `query:` in cfg. With a backend, *out is a new
 * reader over it (NULL when none is set); errors name file:line. */
static int configure(const struct pane_cfg *cfg, struct pane_remote **out, struct pane_err *err)
{
	*out = NULL;
	const struct pane_cfg_node *sec = pane_cfg_get(cfg->root, "query");
	struct backend_cfg c = {0};
	struct basic_cfg b = {0};
	struct authz_cfg az = {0};
	char *authz_line = NULL;
	char **headers = NULL;
	size_t nh = 0;
	char *token = NULL, *pass = NULL;
	struct pane_remote *r = NULL;
	int rc = pane_cfg_bind(cfg, sec, backend_fields, &c, err);
	if (rc < 0)
		goto out;
	const struct pane_cfg_node *basic = pane_cfg_get(sec, "basic_auth"), *hdr = pane_cfg_get(sec, "headers"),
	                           *authz = pane_cfg_get(sec, "authorization");
	if (c.backend && !*c.backend) { /* backend: "" or ${VAR:-}: the embedded store, like no key */
		free(c.backend);
		c.backend = NULL;
	}
	if (!c.backend) {
		static const char *const needs[] = {
		    "bearer_token", "bearer_token_file", "basic_auth",        "authorization",
		    "headers",      "remote_timeout",    "max_response_size", NULL};
		for (size_t i = 0; needs[i]; i++)
			if (pane_cfg_get(sec, needs[i])) {
				rc = pane_cfg_error(cfg, pane_cfg_get(sec, needs[i]), err,
				                    "only used with query.backend (no backend is set)");
				goto out;
			}
		goto out; /* the embedded store's reader stays */
	}
	if ((c.bearer_token || c.bearer_token_file || authz) && basic) {
		rc = pane_cfg_error(cfg, basic, err, "give one of bearer_token, authorization and basic_auth");
		goto out;
	}
	if ((c.bearer_token || c.bearer_token_file) && authz) {
		rc = pane_cfg_error(cfg, authz, err, "give one of bearer_token, authorization and basic_auth");
		goto out;
	}
	if (c.bearer_token && c.bearer_token_file) {
		rc = pane_cfg_error(cfg, pane_cfg_get(sec, "bearer_token_file"), err,
		                    "give bearer_token or bearer_token_file, not both");
		goto out;
	}
	token = c.bearer_token ? pane_xstrdup(c.bearer_token) : NULL;
	if (c.bearer_token_file &&
	    !(token = read_secret(cfg, pane_cfg_get(sec, "bearer_token_file"), c.bearer_token_file, err))) {
		rc = PANE_EINVAL;
		goto out;
	}
	if (basic) {
		if (basic->kind != PANE_CFG_MAP) {
			rc = pane_cfg_error(cfg, basic, err,
			                    "must be a map with username and password or password_file");
			goto out;
		}
		if ((rc = pane_cfg_bind(cfg, basic, basic_fields, &b, err)) < 0)
			goto out;
		if (!!b.password == !!b.password_file) {
			rc = pane_cfg_error(cfg, basic, err, "needs one of password or password_file");
			goto out;
		}
		pass = b.password ? pane_xstrdup(b.password) : NULL;
		if (b.password_file &&
		    !(pass = read_secret(cfg, pane_cfg_get(basic, "password_file"), b.password_file, err))) {
			rc = PANE_EINVAL;
			goto out;
		}
	}
	if (authz) { /* Prometheus' authorization: {type, credentials | credentials_file} */
		if (authz->kind != PANE_CFG_MAP) {
			rc = pane_cfg_error(cfg, authz, err,
			                    "must be a map with type and credentials or credentials_file");
			goto out;
		}
		if ((rc = pane_cfg_bind(cfg, authz, authz_fields, &az, err)) < 0)
			goto out;
		bool type_ok = *az.type != '\0';
		for (const char *p = az.type; *p; p++)
			type_ok &= *p > ' ' && *p < 127;
		if (!type_ok || !strcasecmp(az.type, "Basic")) {
			rc = pane_cfg_error(
			    cfg, pane_cfg_get(authz, "type"), err,
			    "'%s' is not an Authorization scheme pane sends here (one word; use basic_auth for "
			    "Basic)",
			    az.type);
			goto out;
		}
		if (!!az.credentials == !!az.credentials_file) {
			rc = pane_cfg_error(cfg, authz, err, "needs one of credentials or credentials_file");
			goto out;
		}
		char *cred = az.credentials
		                 ? pane_xstrdup(az.credentials)
		                 : read_secret(cfg, pane_cfg_get(authz, "credentials_file"), az.credentials_file, err);
		if (!cred) {
			rc = PANE_EINVAL;
			goto out;
		}
		if (!strcasecmp(az.type, "Bearer")) {
			token = cred;
		} else {
			struct pane_buf line;
			pane_buf_init(&line, PANE_BUF_NOLIMIT);
			pane_buf_addf(&line, "Authorization: %s %s", az.type, cred);
			free(cred);
			authz_line = pane_buf_detach(&line, NULL);
		}
	}
	if (hdr || authz_line) {
		if (hdr && hdr->kind != PANE_CFG_MAP) {
			rc = pane_cfg_error(cfg, hdr, err, "must be a map of header names to values");
			goto out;
		}
		headers = pane_xcalloc((hdr ? hdr->n_items : 0) + 2, sizeof *headers);
		if (authz_line) {
			headers[nh++] = authz_line;
			authz_line = NULL;
		}
		for (size_t i = 0; hdr && i < hdr->n_items; i++) {
			const struct pane_cfg_node *n = hdr->items[i];
			bool name_ok = *n->key != '\0';
			for (const char *p = n->key; *p; p++)
				name_ok &= *p > ' ' && *p < 127 && *p != ':';
			if (!name_ok || n->kind != PANE_CFG_SCALAR || strpbrk(n->value, "\r\n")) {
				rc = pane_cfg_error(cfg, n, err,
				                    "a header needs a name without spaces or ':' and a "
				                    "one-line value");
				goto out;
			}
			if (!strcasecmp(n->key, "Authorization") || !strcasecmp(n->key, "Content-Type") ||
			    !strcasecmp(n->key, "Host")) {
				rc = pane_cfg_error(cfg, n, err,
				                    "pane sets this header itself (use authorization, bearer_token or "
				                    "basic_auth for Authorization)");
				goto out;
			}
			struct pane_buf line;
			pane_buf_init(&line, PANE_BUF_NOLIMIT);
			pane_buf_addf(&line, "%s: %s", n->key, n->value);
			headers[nh++] = pane_buf_detach(&line, NULL);
		}
	}
	r = pane_remote_new(&(struct pane_remote_opts){.url = c.backend,
	                                               .timeout_ms = c.timeout_ms,
	                                               .max_body = (size_t)c.max_body,
	                                               .bearer = token,
	                                               .basic_user = basic ? b.username : NULL,
	                                               .basic_pass = pass,
	                                               .headers = (const char *const *)headers},
	                    err);
	if (!r) {
		struct pane_err e = *err;
		rc = pane_cfg_error(cfg, pane_cfg_get(sec, "backend"), err, "%s", e.msg);
		goto out;
	}
	*out = r;
out:
	for (size_t i = 0; i < nh; i++)
		free(headers[i]);
	free(headers);
	free(token);
	free(pass);
	free(authz_line);
	pane_cfg_unbind(authz_fields, &az);
	pane_cfg_unbind(basic_fields, &b);
	pane_cfg_unbind(backend_fields, &c);
	return rc;
}

/* The backend keys of `query:` as text, to see whether a reload changes them. */
static void fingerprint(const struct pane_cfg_node *n, struct pane_buf *b)
{
	if (!n)
		return;
	pane_buf_addf(b, "%s=%s{", n->key ? n->key : "", n->value ? n->value : "");
	for (size_t i = 0; i < n->n_items; i++)
		fingerprint(n->items[i], b);
	pane_buf_addc(b, '}');
}

static void backend_fingerprint(const struct pane_cfg *cfg, struct pane_buf *b)
{
	const struct pane_cfg_node *sec = pane_cfg_get(cfg->root, "query");
	for (const struct pane_cfg_field *f = backend_fields; f->key; f++)
		if (f->help) /* the rows bound here, not src/api's */
			fingerprint(pane_cfg_get(sec, f->key), b);
}

struct reload_state {
	struct pane_buf running; /* backend_fingerprint() of the configuration started with */
};

/* A reload checks the new keys (file:line errors) but cannot swap the reader
 * the query API, rules and console hold: a changed backend is refused with
 * what to do, and the running one stays. */
static int on_reload(void *arg, const struct pane_cfg *cfg, struct pane_err *err)
{
	struct reload_state *st = arg;
	struct pane_remote *r = NULL;
	int rc = configure(cfg, &r, err);
	pane_remote_free(r);
	if (rc < 0)
		return rc;
	struct pane_buf now;
	pane_buf_init(&now, PANE_BUF_NOLIMIT);
	backend_fingerprint(cfg, &now);
	bool same = now.len == st->running.len && memcmp(now.data, st->running.data, now.len) == 0;
	pane_buf_release(&now);
	if (same)
		return 0;
	const struct pane_cfg_node *sec = pane_cfg_get(cfg->root, "query");
	return pane_cfg_error(cfg,
	                      pane_cfg_get(sec, "backend") ? pane_cfg_get(sec, "backend")
	                      : sec                        ? sec
	                                                   : cfg->root,
	                      err,
	                      "the query backend settings changed: they take effect at the next restart "
	                      "(the running ones stay)");
}

static void stop_reload(void *arg)
{
	struct reload_state *st = arg;
	pane_buf_release(&st->running);
	free(st);
}

int pane_remote_attach(struct pane_host *h, struct pane_reader *rd, struct pane_err *err)
{
	struct pane_remote *r;
	int rc = configure(h->cfg, &r, err);
	if (rc < 0)
		return rc;
	if (r) {
		*rd = pane_remote_reader(r);
		pane_host_on_stop(h, stop_remote, r);
		pane_host_add_readyz_info(h, "query_backend", readyz_info, r);
	}
	struct reload_state *st = pane_xcalloc(1, sizeof *st);
	pane_buf_init(&st->running, PANE_BUF_NOLIMIT);
	backend_fingerprint(h->cfg, &st->running);
	pane_host_on_stop(h, stop_reload, st);
	pane_host_on_reload(h, on_reload, st);
	return 0;
}
