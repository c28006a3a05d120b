/*
 * http.c - the push receivers' HTTP handlers (see receivers.h).
 *
 * Idea: each handler is a thin adapter - check the encoding, bound the
 * body, hand it to the format's decoder with a callback that writes to the
 * pipeline, and map the outcome to the status code the client's protocol
 * expects (remote_write: 204/400/5xx; OTLP: 200 + partialSuccess; Loki: 204).
 * Decoders never see HTTP; handlers never parse formats.
 *
 * Status policy (what the client should do):
 *   204/200  everything written
 *   400      some or all input refused as invalid; the valid part was written
 *   413      body or declared decompressed size over the limit
 *   415      an encoding we do not speak
 *   503      the primary sink refused: retry later, nothing was lost by us
 * Threads: handlers run on HTTP pool threads; the context is read-only
 * after set-up and stats are atomic.
 */
#include "receivers/receivers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/stats.h"
#include "base/utf8.h"
#include "http/server.h"
#include "receivers/cumulate.h"
#include "receivers/defaults.h"
#include "receivers/gzip.h"
#include "receivers/logpush.h"
#include "receivers/otlp.h"
#include "receivers/promtext.h"
#include "receivers/remote_write.h"

enum { R_RW, R_IMPORT, R_OTLP_M, R_OTLP_L, R_LOKI, R_JSONL, R_N };
static const char *const rnames[R_N] = {"remote_write", "import", "otlp_metrics", "otlp_logs", "loki", "jsonlines"};

struct pane_receivers_http {
	struct pane_pipeline *p;
	struct pane_receivers_http_opts o;
	struct pane_cumulate *deltas; /* OTLP delta -> cumulative totals */
	struct pane_stat *requests[R_N], *records[R_N], *rejected[R_N], *failed[R_N];
	struct pane_log_limit lim;
};

struct hctx {
	struct pane_receivers_http *h;
	int which;
};

static struct hctx ctxs_template[R_N];

static void count(struct pane_receivers_http *h, struct pane_stat **arr, int which, double n)
{
	if (arr[which] && n > 0)
		pane_stat_add(arr[which], n);
}

static bool encoding_ok(struct pane_http_req *req, struct pane_http_resp *resp, const char *allowed)
{
	const char *ce = pane_http_req_header(req, "Content-Encoding");
	if (!ce || !*ce || !strcmp(ce, "identity") || (allowed && !strcmp(ce, allowed)))
		return true;
	pane_http_resp_error(resp, 415, "unsupported_encoding", "Content-Encoding '%s' is not supported here%s%s", ce,
	                     allowed ? "; use " : "", allowed ? allowed : "");
	return false;
}

static void refused(struct pane_receivers_http *h, int which, const char *what)
{
	pane_log_limited(&h->lim, PANE_LOG_WARN, "receivers", "%s: %s", rnames[which], what);
}

struct wctx {
	struct pane_pipeline *p;
	const struct pane_labels *defaults; /* filled in where a series lacks them (remote_write) */
	bool failed;
	size_t dropped; /* accepted by the pipeline but not kept by the store */
};

static int write_batch(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	struct wctx *w = arg;
	size_t kept = n;
	struct pane_sample *copy = NULL;
	struct pane_labels *ls = NULL;
	if (w->defaults && n) { /* the decoder's label sets are borrowed: write copies with the defaults */
		copy = pane_xmalloc(n * sizeof *copy);
		ls = pane_xmalloc(n * sizeof *ls);
		for (size_t i = 0; i < n; i++) {
			pane_labels_copy(&ls[i], s[i].labels);
			pane_receivers_fill_defaults(&ls[i], w->defaults);
			copy[i] = s[i];
			copy[i].labels = &ls[i];
		}
		s = copy;
	}
	int rc = pane_pipeline_write_samples_counted(w->p, s, n, &kept, err);
	if (copy) {
		for (size_t i = 0; i < n; i++)
			pane_labels_release(&ls[i]);
		free(ls);
		free(copy);
	}
	if (rc == 0)
		w->dropped += n - kept;
	if (rc < 0)
		w->failed = true;
	return rc;
}

static void unavailable(struct pane_http_resp *resp, const struct pane_err *e)
{
	pane_http_resp_header(resp, "Retry-After", "5");
	pane_http_resp_error(resp, 503, "store_unavailable", "the store did not accept the data: %s", e->msg);
}

/* Remote write 1.0 only: a sender that offers 2.0
 * (proto=io.prometheus.write.v2.Request) gets 415, which the spec defines
 * as "fall back to 1.0"; answering 204 would drop its data silently. No
 * Content-Type is taken as 1.0 (old senders). */
static bool rw_version_ok(struct pane_http_req *req, struct pane_http_resp *resp)
{
	const char *ct = pane_http_req_header(req, "Content-Type");
	if (!ct || !*ct)
		return true;
	if (!pane_http_req_content_type_is(req, "application/x-protobuf")) {
		pane_http_resp_error(resp, 415, "unsupported_media_type",
		                     "Content-Type '%s' is not remote write; send application/x-protobuf", ct);
		return false;
	}
	for (const char *p = strchr(ct, ';'); p; p = strchr(p + 1, ';')) {
		const char *v = p + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strncasecmp(v, "proto=", 6) != 0)
			continue;
		v += 6;
		size_t n = strcspn(v, "; \t");
		if (n == strlen("prometheus.WriteRequest") && strncmp(v, "prometheus.WriteRequest", n) == 0)
			return true;
		pane_http_resp_error(resp, 415, "unsupported_media_type",
		                     "remote write message %.*s is not supported; send remote write 1.0 "
		                     "(proto=prometheus.WriteRequest)",
		                     (int)n, v);
		return false;
	}
	return true;
}

static void h_remote_write(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_receivers_http *h = ((struct hctx *)ctx)->h;
	count(h, h->requests, R_RW, 1);
	if (!rw_version_ok(req, resp)) {
		count(h, h->failed, R_RW, 1);
		return;
	}
	if (!encoding_ok(req, resp, "snappy"))
		return;
	size_t len;
	const char *body = pane_http_req_body(req, &len);
	char *pb = NULL;
	size_t pblen = 0;
	struct pane_err e = {0};
	int rc = pane_snappy_decode(body, len, h->o.max_decoded, &pb, &pblen, &e);
	if (rc < 0) {
		count(h, h->failed, R_RW, 1);
		refused(h, R_RW, e.msg);
		pane_http_resp_error(resp, rc == PANE_ETOOBIG ? 413 : 400,
		                     rc == PANE_ETOOBIG ? "payload_too_large" : "bad_request", "%s", e.msg);
		return;
	}
	struct wctx w = {.p = h->p, .defaults = h->o.default_labels};
	struct pane_rw_result r;
	rc = pane_remote_write_decode_meta(pb, pblen, write_batch, &w, pane_promtext_meta_to_pipeline, h->p, &r, &e);
	free(pb);
	count(h, h->records, R_RW, (double)r.samples);
	count(h, h->rejected, R_RW, (double)r.bad_samples);
	if (r.bad_metadata) /* Prometheus 2.42 ignores metadata: the samples still count, the entry is skipped */
		refused(h, R_RW, r.meta_error);
	if (w.failed) {
		unavailable(resp, &e);
		return;
	}
	if (rc < 0) {
		count(h, h->failed, R_RW, 1);
		refused(h, R_RW, e.msg);
		pane_http_resp_error(resp, 400, "bad_request", "%s (%zu samples before it were written)", e.msg,
		                     r.samples);
		return;
	}
	if (r.bad_series) {
		refused(h, R_RW, r.first_error);
		pane_http_resp_error(resp, 400, "invalid_series", "%zu series (%zu samples) refused, first: %s",
		                     r.bad_series, r.bad_samples, r.first_error);
		return;
	}
	if (w.dropped) { /* Prometheus answers 400 for samples it cannot keep; the rest are stored */
		count(h, h->rejected, R_RW, (double)w.dropped);
		pane_http_resp_error(resp, 400, "samples_not_stored", "%zu of %zu samples were not stored (%s)",
		                     w.dropped, r.samples, PANE_PIPELINE_DROPPED_WHY);
		return;
	}
	pane_http_resp_status(resp, 204);
}

static void h_import(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_receivers_http *h = ((struct hctx *)ctx)->h;
	count(h, h->requests, R_IMPORT, 1);
	if (!encoding_ok(req, resp, NULL))
		return;
	struct pane_labels extra;
	pane_labels_init(&extra);
	const char *vals[PANE_LABELS_MAX];
	size_t nv = pane_http_req_args(req, "extra_label", vals, PANE_LABELS_MAX);
	for (size_t i = 0; i < nv && i < PANE_LABELS_MAX; i++) {
		const char *eq = strchr(vals[i], '=');
		if (!eq || pane_labels_setn(&extra, vals[i], (size_t)(eq - vals[i]), eq + 1, strlen(eq + 1)) < 0) {
			pane_http_resp_error(resp, 400, "bad_request",
			                     "extra_label must be NAME=VALUE with a valid name: %s", vals[i]);
			pane_labels_release(&extra);
			return;
		}
	}
	size_t len;
	const char *body = pane_http_req_body(req, &len);
	struct pane_promtext_opts o = {
	    .openmetrics = pane_http_req_content_type_is(req, "application/openmetrics-text"),
	    .default_ts_ms = pane_wall_ms(),
	    .extra = extra.n ? &extra : NULL,
	    .defaults = h->o.default_labels,
	    .meta = pane_promtext_meta_to_pipeline,
	    .meta_arg = h->p,
	};
	struct wctx w = {.p = h->p};
	struct pane_promtext_result r;
	struct pane_err e = {0};
	int rc = pane_promtext_parse(body, len, &o, write_batch, &w, &r, &e);
	pane_labels_release(&extra);
	count(h, h->records, R_IMPORT, (double)r.samples);
	count(h, h->rejected, R_IMPORT, (double)r.bad_lines);
	if (w.failed || rc < 0) {
		unavailable(resp, &e);
		return;
	}
	if (r.bad_lines) {
		refused(h, R_IMPORT, r.first_error);
		pane_http_resp_error(resp, 400, "invalid_lines", "%zu lines refused, %zu samples written; first: %s",
		                     r.bad_lines, r.samples - w.dropped, r.first_error);
		return;
	}
	if (w.dropped) {
		count(h, h->rejected, R_IMPORT, (double)w.dropped);
		pane_http_resp_error(resp, 400, "samples_not_stored", "%zu of %zu samples were not stored (%s)",
		                     w.dropped, r.samples, PANE_PIPELINE_DROPPED_WHY);
		return;
	}
	pane_http_resp_status(resp, 204);
}

/* The body as the decoder should see it: gzip inflated (bounded by
 * max_decoded) when Content-Encoding says gzip. *owned is what to free.
 * false after answering 400/413/415. */
static bool body_decoded(struct pane_receivers_http *h, int which, struct pane_http_req *req,
                         struct pane_http_resp *resp, const char **body, size_t *len, char **owned)
{
	*owned = NULL;
	*body = pane_http_req_body(req, len);
	const char *ce = pane_http_req_header(req, "Content-Encoding");
	if (!ce || strcasecmp(ce, "gzip") != 0)
		return encoding_ok(req, resp, "gzip");
	struct pane_err e = {0};
	int rc = pane_gzip_decode(*body, *len, h->o.max_decoded, owned, len, &e);
	if (rc < 0) {
		count(h, h->failed, which, 1);
		refused(h, which, e.msg);
		pane_http_resp_error(resp, rc == PANE_ETOOBIG ? 413 : 400,
		                     rc == PANE_ETOOBIG ? "payload_too_large" : "bad_request", "%s", e.msg);
		return false;
	}
	*body = *owned;
	return true;
}

static void h_otlp(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct hctx *hc = ctx;
	struct pane_receivers_http *h = hc->h;
	bool metrics = hc->which == R_OTLP_M;
	count(h, h->requests, hc->which, 1);
	bool pb = pane_http_req_content_type_is(req, "application/x-protobuf");
	const char *ct = pane_http_req_header(req, "Content-Type");
	if (!pb && ct && *ct && !pane_http_req_content_type_is(req, "application/json")) {
		pane_http_resp_error(
		    resp, 415, "unsupported_media_type",
		    "Content-Type '%s' is not OTLP/HTTP; send application/x-protobuf or application/json", ct);
		return;
	}
	size_t len;
	const char *body;
	char *owned;
	if (!body_decoded(h, hc->which, req, resp, &body, &len, &owned))
		return;
	struct pane_otlp_result r;
	struct pane_err e = {0};
	struct pane_otlp_opts o = {.now_ms = pane_wall_ms(),
	                           .deltas = h->deltas,
	                           .defaults = h->o.default_labels,
	                           .max_decoded = h->o.max_decoded * 4};
	int rc = metrics ? pane_otlp_metrics(h->p, body, len, pb, &o, &r, &e)
	                 : pane_otlp_logs(h->p, body, len, pb, &o, &r, &e);
	free(owned);
	count(h, h->records, hc->which, (double)r.accepted);
	count(h, h->rejected, hc->which, (double)r.rejected);
	if (rc == PANE_EINVAL || rc == PANE_ETOOBIG) {
		count(h, h->failed, hc->which, 1);
		refused(h, hc->which, e.msg);
		pane_http_resp_error(resp, rc == PANE_ETOOBIG ? 413 : 400,
		                     rc == PANE_ETOOBIG ? "payload_too_large" : "bad_request", "%s", e.msg);
		return;
	}
	if (rc < 0) {
		unavailable(resp, &e);
		return;
	}
	if (r.rejected)
		refused(h, hc->which, r.first_error);
	struct pane_buf *b = pane_http_resp_body(resp);
	pane_http_resp_status(resp, 200);
	if (pb) { /* OTLP answers in the encoding of the request */
		pane_otlp_response_pb(metrics, &r, b);
		pane_http_resp_content_type(resp, "application/x-protobuf");
		return;
	}
	if (r.rejected) {
		/* OTLP's JSON mapping writes int64 counts as strings */
		char n[24];
		snprintf(n, sizeof n, "%zu", r.rejected);
		struct pane_json j;
		pane_json_init(&j, b);
		pane_json_obj(&j);
		pane_json_key(&j, "partialSuccess");
		pane_json_obj(&j);
		pane_json_key(&j, metrics ? "rejectedDataPoints" : "rejectedLogRecords");
		pane_json_str(&j, n);
		pane_json_key(&j, "errorMessage");
		pane_json_str(&j, r.first_error);
		pane_json_obj_end(&j);
		pane_json_obj_end(&j);
		pane_buf_addc(b, '\n');
	} else {
		pane_buf_adds(b, "{}\n");
	}
	pane_http_resp_content_type(resp, "application/json");
}

static void h_loki(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_receivers_http *h = ((struct hctx *)ctx)->h;
	count(h, h->requests, R_LOKI, 1);
	bool pb = pane_http_req_content_type_is(req, "application/x-protobuf");
	if (!pb && !pane_http_req_content_type_is(req, "application/json")) {
		pane_http_resp_error(resp, 415, "unsupported_media_type",
		                     "send Content-Type: application/x-protobuf (snappy) or application/json");
		return;
	}
	size_t len;
	const char *body;
	char *owned = NULL;
	struct pane_logpush_result r;
	struct pane_err e = {0};
	int rc;
	if (pb) { /* Loki's protobuf push is always snappy block-compressed */
		const char *ce = pane_http_req_header(req, "Content-Encoding");
		if (ce && *ce && strcasecmp(ce, "snappy") != 0) {
			pane_http_resp_error(
			    resp, 415, "unsupported_encoding",
			    "Content-Encoding '%s' is not supported for protobuf pushes (they are snappy)", ce);
			return;
		}
		body = pane_http_req_body(req, &len);
		rc = pane_snappy_decode(body, len, h->o.max_decoded, &owned, &len, &e);
		if (rc == 0)
			rc = pane_loki_push_pb(h->p, owned, len, h->o.max_decoded * 4, h->o.default_labels, &r, &e);
		else
			memset(&r, 0, sizeof r);
	} else {
		if (!body_decoded(h, R_LOKI, req, resp, &body, &len, &owned))
			return;
		rc = pane_loki_push_json(h->p, body, len, h->o.default_labels, &r, &e);
	}
	free(owned);
	count(h, h->records, R_LOKI, (double)r.accepted);
	count(h, h->rejected, R_LOKI, (double)r.rejected);
	if (rc == PANE_EINVAL || rc == PANE_ETOOBIG) {
		count(h, h->failed, R_LOKI, 1);
		refused(h, R_LOKI, e.msg);
		pane_http_resp_error(resp, rc == PANE_ETOOBIG ? 413 : 400,
		                     rc == PANE_ETOOBIG ? "payload_too_large" : "bad_request", "%s", e.msg);
	} else if (rc < 0) {
		unavailable(resp, &e);
	} else if (r.rejected) {
		refused(h, R_LOKI, r.first_error);
		pane_http_resp_error(resp, 400, "invalid_entries", "%zu entries refused, %zu written; first: %s",
		                     r.rejected, r.accepted, r.first_error);
	} else {
		pane_http_resp_status(resp, 204);
	}
}

static void h_jsonlines(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_receivers_http *h = ((struct hctx *)ctx)->h;
	count(h, h->requests, R_JSONL, 1);
	if (!encoding_ok(req, resp, NULL))
		return;
	struct pane_labels ls;
	pane_labels_init(&ls);
	static const char *const keys[] = {"service", "environment", "source", "provider", "instance"};
	for (size_t i = 0; i < 5; i++) {
		const char *v = pane_http_req_arg(req, keys[i]);
		if (v && (!pane_utf8_valid(v, strlen(v)) || pane_labels_set(&ls, keys[i], v) < 0)) {
			pane_labels_release(&ls);
			pane_http_resp_error(resp, 400, "bad_request", "query argument %s is not a valid label value",
			                     keys[i]);
			return;
		}
	}
	pane_receivers_fill_defaults(&ls, h->o.default_labels);
	if (!pane_labels_get(&ls, PANE_LABEL_PROVIDER))
		pane_labels_set(&ls, PANE_LABEL_PROVIDER, "app");
	size_t len;
	const char *body = pane_http_req_body(req, &len);
	struct pane_logpush_result r;
	struct pane_err e = {0};
	int rc = pane_jsonlines_push(h->p, body, len, &ls, pane_wall_ms(), &r, &e);
	pane_labels_release(&ls);
	count(h, h->records, R_JSONL, (double)r.accepted);
	count(h, h->rejected, R_JSONL, (double)r.rejected);
	if (rc < 0) {
		unavailable(resp, &e);
		return;
	}
	if (r.rejected)
		refused(h, R_JSONL, r.first_error);
	struct pane_buf *b = pane_http_resp_body(resp);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	pane_json_key(&j, "accepted");
	pane_json_uint(&j, r.accepted);
	pane_json_key(&j, "rejected");
	pane_json_uint(&j, r.rejected);
	if (r.rejected) {
		pane_json_key(&j, "first_error");
		pane_json_str(&j, r.first_error);
	}
	pane_json_obj_end(&j);
	pane_buf_addc(b, '\n');
	pane_http_resp_status(resp, r.rejected && !r.accepted ? 400 : 200);
	pane_http_resp_content_type(resp, "application/json");
}

struct pane_receivers_http *pane_receivers_routes(struct pane_http_server *srv, struct pane_pipeline *p,
                                                  const struct pane_receivers_http_opts *opts)
{
	(void)ctxs_template;
	struct pane_receivers_http *h = pane_xcalloc(1, sizeof *h + R_N * sizeof(struct hctx));
	struct hctx *hc = (struct hctx *)(h + 1);
	h->p = p;
	if (opts)
		h->o = *opts;
	if (!h->o.max_body)
		h->o.max_body = 16u << 20;
	if (!h->o.max_decoded)
		h->o.max_decoded = 64u << 20;
	h->lim.burst = 10;
	h->lim.per_ms = 60000;
	h->deltas = pane_cumulate_new(h->o.max_delta_series ? h->o.max_delta_series : 100000, 15 * 60 * 1000);
	for (int i = 0; i < R_N; i++) {
		hc[i].h = h;
		hc[i].which = i;
		if (!h->o.stats)
			continue;
		char lab[64];
		snprintf(lab, sizeof lab, "receiver=\"%s\"", rnames[i]);
		h->requests[i] =
		    pane_stats_counter(h->o.stats, "pane_receiver_requests_total", lab, "push requests received");
		h->records[i] = pane_stats_counter(h->o.stats, "pane_receiver_records_total", lab,
		                                   "samples or log records written to the pipeline");
		h->rejected[i] = pane_stats_counter(h->o.stats, "pane_receiver_rejected_total", lab,
		                                    "samples, lines or records refused as invalid");
		h->failed[i] = pane_stats_counter(h->o.stats, "pane_receiver_bad_requests_total", lab,
		                                  "requests refused whole (undecodable, too large)");
	}
	struct {
		bool off;
		const char *pattern;
		pane_http_handler fn;
		int which;
	} routes[] = {
	    {h->o.no_remote_write, "/api/v1/write", h_remote_write, R_RW},
	    {h->o.no_import, "/api/v1/import/prometheus", h_import, R_IMPORT},
	    {h->o.no_otlp, "/v1/metrics", h_otlp, R_OTLP_M},
	    {h->o.no_otlp, "/v1/logs", h_otlp, R_OTLP_L},
	    {h->o.no_loki, "/loki/api/v1/push", h_loki, R_LOKI},
	    {h->o.no_jsonlines, "/api/v1/push/jsonlines", h_jsonlines, R_JSONL},
	};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (routes[i].off)
			continue;
		pane_http_server_route(srv, &(struct pane_http_route){.method = "POST",
		                                                      .pattern = routes[i].pattern,
		                                                      .handler = routes[i].fn,
		                                                      .ctx = &hc[routes[i].which],
		                                                      .max_body = h->o.max_body,
		                                                      .scope = "enqueue"});
	}
	return h;
}

void pane_receivers_http_free(struct pane_receivers_http *h)
{
	if (!h)
		return;
	pane_cumulate_free(h->deltas);
	free(h);
}
