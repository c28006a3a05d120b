/*
 * receivers.c - `pane serve` attach for the receivers: config, start, stop.
 *
 * Idea: everything here is wiring. The `receivers:` section switches the
 * push endpoints, names the default labels every receiver adds where a
 * record lacks them (default_labels) and configures StatsD; the `scrape:`
 * section lists targets with defaults. Bad config fails the start with FILE:LINE. The
 * receivers need a pipeline with a primary sink (the store); without one
 * they start nothing and say so, rather than accept data and drop it.
 *
 * Ownership: one struct holds the HTTP routes' context, the StatsD
 * listener and the scraper; the stop callback frees it after HTTP stopped
 * (pane_serve's order), so no handler runs on freed state.
 */
#include "receivers/receivers.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/utf8.h"
#include "config/config.h"
#include "receivers/scrape.h"
#include "receivers/statsd.h"
#include "host/host.h"

struct recv_cfg {
	bool remote_write, import, otlp, loki, jsonlines;
	int64_t max_body, max_decoded, max_delta_series;
};

static const struct pane_cfg_field recv_fields[] = {
    {"remote_write", PANE_CFT_BOOL, offsetof(struct recv_cfg, remote_write), "true", 0,
     "POST /api/v1/write (Prometheus remote_write 1.0)", 0, 0},
    {"import", PANE_CFT_BOOL, offsetof(struct recv_cfg, import), "true", 0,
     "POST /api/v1/import/prometheus (text format backfill)", 0, 0},
    {"otlp", PANE_CFT_BOOL, offsetof(struct recv_cfg, otlp), "true", 0,
     "POST /v1/metrics and /v1/logs (OTLP/HTTP protobuf or JSON)", 0, 0},
    {"loki", PANE_CFT_BOOL, offsetof(struct recv_cfg, loki), "true", 0,
     "POST /loki/api/v1/push (protobuf + snappy, or JSON)", 0, 0},
    {"jsonlines", PANE_CFT_BOOL, offsetof(struct recv_cfg, jsonlines), "true", 0, "POST /api/v1/push/jsonlines", 0, 0},
    {"max_body", PANE_CFT_SIZE, offsetof(struct recv_cfg, max_body), "16MiB", 0, "largest push request body", 1024,
     (int64_t)1 << 30},
    {"max_decoded", PANE_CFT_SIZE, offsetof(struct recv_cfg, max_decoded), "64MiB", 0,
     "largest body after snappy or gzip (bombs stop here)", 1024, (int64_t)1 << 31},
    {"statsd", PANE_CFT_SECTION, 0, NULL, 0, "StatsD / DogStatsD listener", 0, 0},
    {"default_labels", PANE_CFT_SECTION, 0, NULL, 0,
     "labels (a map) every receiver adds where a record lacks them, e.g. {environment: production}", 0, 0},
    {"max_delta_series", PANE_CFT_INT, offsetof(struct recv_cfg, max_delta_series), "100000", 0,
     "OTLP delta series whose running totals are kept", 1, 10000000},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct statsd_cfg {
	bool enabled;
	char *listen;
	char *unix_socket;
	int64_t flush_interval, series_ttl, max_series, reservoir, max_set_size;
	struct pane_cfg_strlist quantiles, buckets;
};

static const struct pane_cfg_field statsd_fields[] = {
    {"enabled", PANE_CFT_BOOL, offsetof(struct statsd_cfg, enabled), "true", 0, "run the StatsD listener", 0, 0},
    {"listen", PANE_CFT_STRING, offsetof(struct statsd_cfg, listen), "127.0.0.1:8125", 0,
     "UDP HOST:PORT (empty: no UDP)", 0, 0},
    {"unix_socket", PANE_CFT_STRING, offsetof(struct statsd_cfg, unix_socket), NULL, 0,
     "path of a Unix datagram socket to listen on too", 0, 0},
    {"flush_interval", PANE_CFT_DURATION, offsetof(struct statsd_cfg, flush_interval), "10s", 0, "aggregation interval",
     100, 3600000},
    {"series_ttl", PANE_CFT_DURATION, offsetof(struct statsd_cfg, series_ttl), "5m", 0,
     "drop (with a stale marker) series not updated for this long", 1000, 604800000},
    {"max_series", PANE_CFT_INT, offsetof(struct statsd_cfg, max_series), "100000", 0, "series kept at most", 1,
     10000000},
    {"reservoir", PANE_CFT_INT, offsetof(struct statsd_cfg, reservoir), "1024", 0,
     "timer values kept per series per interval for quantiles", 1, 1000000},
    {"max_set_size", PANE_CFT_INT, offsetof(struct statsd_cfg, max_set_size), "10000", 0,
     "distinct set members counted per interval", 1, 10000000},
    {"quantiles", PANE_CFT_STRLIST, offsetof(struct statsd_cfg, quantiles), "0.5,0.9,0.99", 0,
     "summary quantiles for timers", 0, 0},
    {"buckets", PANE_CFT_STRLIST, offsetof(struct statsd_cfg, buckets), NULL, 0,
     "histogram bucket bounds; when set timers become histograms", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct scrape_cfg {
	int64_t interval, timeout, max_body, sample_limit;
};

static const struct pane_cfg_field scrape_fields[] = {
    {"interval", PANE_CFT_DURATION, offsetof(struct scrape_cfg, interval), "30s", 0, "default scrape interval", 100,
     86400000},
    {"timeout", PANE_CFT_DURATION, offsetof(struct scrape_cfg, timeout), "10s", 0, "default scrape timeout", 100,
     3600000},
    {"max_body", PANE_CFT_SIZE, offsetof(struct scrape_cfg, max_body), "8MiB", 0, "largest response accepted", 1024,
     (int64_t)1 << 30},
    {"sample_limit", PANE_CFT_INT, offsetof(struct scrape_cfg, sample_limit), "100000", 0,
     "samples per scrape at most (more fails the scrape)", 1, 100000000},
    {"targets", PANE_CFT_SECTION, 0, NULL, 0, "list of targets", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct target_cfg {
	char *url, *job;
	int64_t interval, timeout;
	bool honor_labels;
};

static const struct pane_cfg_field target_fields[] = {
    {"url", PANE_CFT_STRING, offsetof(struct target_cfg, url), NULL, PANE_CFG_REQUIRED, "http(s)://host:port/metrics",
     0, 0},
    {"job", PANE_CFT_STRING, offsetof(struct target_cfg, job), "scrape", 0, "job label", 0, 0},
    {"interval", PANE_CFT_DURATION, offsetof(struct target_cfg, interval), "0s", 0, "overrides scrape.interval", 0,
     86400000},
    {"timeout", PANE_CFT_DURATION, offsetof(struct target_cfg, timeout), "0s", 0, "overrides scrape.timeout", 0,
     3600000},
    {"honor_labels", PANE_CFT_BOOL, offsetof(struct target_cfg, honor_labels), "false", 0,
     "keep the target's label values when they clash with job/instance/labels", 0, 0},
    {"labels", PANE_CFT_SECTION, 0, NULL, 0, "extra labels (a map)", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct receivers {
	struct pane_labels defaults; /* receivers.default_labels; outlives every user (freed last) */
	struct pane_receivers_http *http;
	struct pane_statsd *statsd;
	struct pane_scraper *scraper;
};

static void receivers_stop(void *arg)
{
	struct receivers *r = arg;
	pane_scraper_free(r->scraper);
	pane_statsd_free(r->statsd);
	pane_receivers_http_free(r->http);
	pane_labels_release(&r->defaults);
	free(r);
}

static int parse_doubles(const struct pane_cfg *cfg, const struct pane_cfg_node *node, const struct pane_cfg_strlist *l,
                         double **out, struct pane_err *err)
{
	*out = pane_xcalloc(l->n ? l->n : 1, sizeof **out);
	for (size_t i = 0; i < l->n; i++)
		if (pane_str_to_double(pane_str_c(l->items[i]), &(*out)[i]) < 0)
			return pane_cfg_error(cfg, node, err, "'%s' is not a number", l->items[i]);
	return 0;
}

/* Binds and checks the statsd section; starts the listener when r is set. */
static int start_statsd(struct pane_host *s, const struct pane_cfg_node *sec, struct receivers *r, struct pane_err *err)
{
	struct statsd_cfg sc = {0};
	double *q = NULL, *b = NULL;
	int rc = pane_cfg_bind(s->cfg, sec, statsd_fields, &sc, err);
	if (rc < 0 || !sc.enabled)
		goto out;
	if ((rc = parse_doubles(s->cfg, pane_cfg_get(sec, "quantiles"), &sc.quantiles, &q, err)) < 0 ||
	    (rc = parse_doubles(s->cfg, pane_cfg_get(sec, "buckets"), &sc.buckets, &b, err)) < 0)
		goto out;
	for (size_t i = 0; i < sc.quantiles.n; i++)
		if (!(q[i] >= 0 && q[i] <= 1)) {
			rc = pane_cfg_error(s->cfg, pane_cfg_get(sec, "quantiles"), err,
			                    "quantiles are between 0 and 1");
			goto out;
		}
	for (size_t i = 1; i < sc.buckets.n; i++)
		if (!(b[i] > b[i - 1])) {
			rc = pane_cfg_error(s->cfg, pane_cfg_get(sec, "buckets"), err, "buckets must be increasing");
			goto out;
		}
	if (!r)
		goto out;
	/* provider="app", then the default labels (a later pair replaces an
	 * earlier one); a line's own tags win over both */
	const char **extra = pane_xcalloc(2 * r->defaults.n + 3, sizeof *extra);
	size_t ne = 0;
	extra[ne++] = "provider";
	extra[ne++] = "app";
	for (size_t i = 0; i < r->defaults.n; i++) {
		extra[ne++] = r->defaults.v[i].name;
		extra[ne++] = r->defaults.v[i].value;
	}
	struct pane_statsd_opts o = {
	    .udp_listen = sc.listen,
	    .unix_path = sc.unix_socket,
	    .flush_interval_ms = sc.flush_interval,
	    .agg = {.extra_labels = extra,
	            .quantiles = q,
	            .n_quantiles = sc.quantiles.n,
	            .buckets = sc.buckets.n ? b : NULL,
	            .n_buckets = sc.buckets.n,
	            .max_series = (size_t)sc.max_series,
	            .reservoir = (size_t)sc.reservoir,
	            .max_set_size = (size_t)sc.max_set_size,
	            .series_ttl_ms = sc.series_ttl,
	            .stats = s->stats},
	};
	r->statsd = pane_statsd_new(s->pipeline, &o, err);
	free(extra); /* the aggregator copied the labels */
	if (!r->statsd && !pane_cfg_lookup(sec, "listen") && !sc.unix_socket) {
		/* The default port is a convenience: a second pane on this machine
		 * (or another StatsD server) must not stop the daemon from starting.
		 * An address the user wrote down is still a start-up error. */
		pane_log_kv(PANE_LOG_WARN, "receivers", "statsd not started on its default address", "udp", sc.listen,
		            "reason", err->msg, "hint", "set receivers.statsd.listen", NULL);
		pane_err_clear(err);
		goto out;
	}
	if (!r->statsd) {
		rc = PANE_EIO;
		goto out;
	}
	pane_log_kv(PANE_LOG_INFO, "receivers", "statsd listening", "udp", sc.listen ? sc.listen : "", "unix",
	            sc.unix_socket ? sc.unix_socket : "", NULL);
	if (pane_statsd_udp_is_public(r->statsd)) /* like the HTTP side: say it */
		pane_log_kv(PANE_LOG_WARN, "receivers",
		            "statsd listens on a non-loopback address: anyone who can reach it can write metrics "
		            "(StatsD has no authentication)",
		            "udp", sc.listen ? sc.listen : "", "hint",
		            "bind receivers.statsd.listen to 127.0.0.1, or firewall the port", NULL);
out:
	free(q);
	free(b);
	pane_cfg_unbind(statsd_fields, &sc);
	return rc;
}

static int start_scrape(struct pane_host *s, struct receivers *r, const struct pane_labels *defaults,
                        struct pane_err *err)
{
	const struct pane_cfg_node *sec = pane_cfg_get(s->cfg->root, "scrape");
	struct scrape_cfg sc = {0};
	int rc = pane_cfg_bind(s->cfg, sec, scrape_fields, &sc, err);
	const struct pane_cfg_node *tl = pane_cfg_get(sec, "targets");
	size_t n = tl && tl->kind == PANE_CFG_SEQ ? tl->n_items : 0;
	if (rc < 0)
		goto out0;
	if (tl && tl->kind != PANE_CFG_SEQ && tl->kind != PANE_CFG_NULL) {
		rc = pane_cfg_error(s->cfg, tl, err, "targets is a list of {url, job, interval, timeout, labels}");
		goto out0;
	}
	if (!n)
		goto out0;
	struct pane_scrape_target *t = pane_xcalloc(n, sizeof *t);
	struct target_cfg *tc = pane_xcalloc(n, sizeof *tc);
	struct pane_labels *ls = pane_xcalloc(n, sizeof *ls);
	for (size_t i = 0; i < n; i++)
		pane_labels_init(&ls[i]);
	for (size_t i = 0; i < n; i++) {
		const struct pane_cfg_node *item = tl->items[i];
		if (item->kind != PANE_CFG_MAP) {
			rc = pane_cfg_error(s->cfg, item, err, "each target is a map with at least url");
			goto out;
		}
		if ((rc = pane_cfg_bind(s->cfg, item, target_fields, &tc[i], err)) < 0)
			goto out;
		const struct pane_cfg_node *lm = pane_cfg_get(item, "labels");
		if (lm && lm->kind == PANE_CFG_MAP) {
			for (size_t k = 0; k < lm->n_items; k++) {
				const struct pane_cfg_node *kv = lm->items[k];
				if (kv->kind != PANE_CFG_SCALAR || pane_labels_set(&ls[i], kv->key, kv->value) < 0) {
					rc = pane_cfg_error(s->cfg, kv, err, "labels need valid names and text values");
					goto out;
				}
			}
		} else if (lm && lm->kind != PANE_CFG_NULL) {
			rc = pane_cfg_error(s->cfg, lm, err, "labels is a map of name: value");
			goto out;
		}
		t[i] = (struct pane_scrape_target){.url = tc[i].url,
		                                   .job = tc[i].job,
		                                   .interval_ms = tc[i].interval ? tc[i].interval : sc.interval,
		                                   .timeout_ms = tc[i].timeout ? tc[i].timeout : sc.timeout,
		                                   .max_body = (size_t)sc.max_body,
		                                   .sample_limit = (size_t)sc.sample_limit,
		                                   .honor_labels = tc[i].honor_labels,
		                                   .labels = &ls[i],
		                                   .defaults = defaults && defaults->n ? defaults : NULL};
	}
	if (r) {
		r->scraper = pane_scraper_new(s->pipeline, t, n, s->stats, err);
		if (!r->scraper)
			rc = PANE_EINVAL;
		else
			pane_info("receivers", "scraping %zu target(s)", n);
	}
out:
	for (size_t i = 0; i < n; i++) {
		pane_cfg_unbind(target_fields, &tc[i]);
		pane_labels_release(&ls[i]);
	}
	free(t);
	free(tc);
	free(ls);
out0:
	pane_cfg_unbind(scrape_fields, &sc);
	return rc;
}

/* receivers.default_labels: a map of label name -> text value. */
static int bind_defaults(struct pane_host *s, const struct pane_cfg_node *sec, struct pane_labels *out,
                         struct pane_err *err)
{
	pane_labels_init(out);
	const struct pane_cfg_node *lm = pane_cfg_get(sec, "default_labels");
	if (!lm || lm->kind == PANE_CFG_NULL)
		return 0;
	if (lm->kind != PANE_CFG_MAP)
		return pane_cfg_error(s->cfg, lm, err, "default_labels is a map of name: value");
	for (size_t k = 0; k < lm->n_items; k++) {
		const struct pane_cfg_node *kv = lm->items[k];
		if (kv->kind != PANE_CFG_SCALAR || !kv->value[0] || (kv->key[0] == '_' && kv->key[1] == '_') ||
		    !pane_label_name_valid(kv->key, strlen(kv->key)) ||
		    !pane_utf8_valid(kv->value, strlen(kv->value)) || pane_labels_set(out, kv->key, kv->value) < 0) {
			pane_labels_release(out);
			return pane_cfg_error(s->cfg, kv, err,
			                      "default label '%s' needs a valid name ([a-zA-Z_][a-zA-Z0-9_]*, not __) "
			                      "and a non-empty text value",
			                      kv->key);
		}
	}
	return 0;
}

int pane_receivers_attach(struct pane_host *s, struct pane_err *err)
{
	const struct pane_cfg_node *sec = pane_cfg_get(s->cfg->root, "receivers");
	struct recv_cfg rc_ = {0};
	int rc = pane_cfg_bind(s->cfg, sec, recv_fields, &rc_, err);
	if (rc < 0)
		return rc;
	struct pane_labels defaults;
	if ((rc = bind_defaults(s, sec, &defaults, err)) < 0)
		return rc;
	if (!s->pipeline) {
		/* still check the whole configuration: a typo fails at start */
		rc = start_statsd(s, pane_cfg_get(sec, "statsd"), NULL, err);
		if (rc == 0)
			rc = start_scrape(s, NULL, NULL, err);
		pane_labels_release(&defaults);
		if (rc < 0)
			return rc;
		pane_warn("receivers", "receivers are disabled: no store is attached to take their data");
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct receivers *r = pane_xcalloc(1, sizeof *r);
	r->defaults = defaults;
	struct pane_receivers_http_opts ho = {
	    .stats = s->stats,
	    .max_body = (size_t)rc_.max_body,
	    .max_decoded = (size_t)rc_.max_decoded,
	    .no_remote_write = !rc_.remote_write,
	    .no_import = !rc_.import,
	    .no_otlp = !rc_.otlp,
	    .no_loki = !rc_.loki,
	    .no_jsonlines = !rc_.jsonlines,
	    .default_labels = r->defaults.n ? &r->defaults : NULL,
	    .max_delta_series = (size_t)rc_.max_delta_series,
	};
	r->http = pane_receivers_routes(s->http, s->pipeline, &ho);
	if ((rc = start_statsd(s, pane_cfg_get(sec, "statsd"), r, err)) < 0 ||
	    (rc = start_scrape(s, r, &r->defaults, err)) < 0) {
		receivers_stop(r);
		return rc;
	}
	pane_host_on_stop(s, receivers_stop, r);
	return 0;
}
