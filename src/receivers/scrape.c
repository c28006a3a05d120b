/*
 * scrape.c - scrape loops (see scrape.h).
 *
 * Idea: a thread per target keeps targets independent - a target that
 * hangs until its timeout delays nobody else - and keeps each loop a plain
 * sequence: fetch (bounded, timed out), parse streaming into the pipeline,
 * compare the set of series with the previous scrape, write staleness.
 * Threads are cheap at the scale of a team's exporters (tens of targets).
 *
 * Series identity for staleness is the serialised (name, labels) pair,
 * kept in a hash set per target: the previous scrape's set and the current
 * one; after a scrape, every key in previous but not current gets a stale
 * marker. Memory per target is bounded by sample_limit keys.
 *
 * State per target:  IDLE --due--> FETCH --ok--> PARSE --> STALE-DIFF --> IDLE
 *                                     \--fail (timeout, too big, HTTP >= 400)--> all previous stale, up=0
 * Threads: one per target; stop is a flag + condition variable.
 */
#include "receivers/scrape.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/redact.h"
#include "base/stats.h"
#include "receivers/defaults.h"
#include "receivers/promtext.h"

struct target {
	struct pane_scraper *sc;
	char *url, *job, *instance;
	int64_t interval_ms, timeout_ms;
	size_t max_body, sample_limit;
	bool honor_labels;
	struct pane_labels labels;   /* job, instance, extra */
	struct pane_labels defaults; /* filled in where a scraped series lacks them */
	struct pane_labels synth;    /* labels of up & co: the target's, then the defaults */
	struct pane_map prev, cur;   /* series keys */
	pthread_t thread;
	bool started;
	uint64_t scrapes;
	struct pane_stat *st_fail, *st_scrapes;
};

struct pane_scraper {
	struct pane_pipeline *p;
	struct target *t;
	size_t n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct pane_log_limit lim;
};

static void series_key(struct pane_buf *b, const struct pane_sample *s)
{
	pane_buf_reset(b);
	pane_buf_adds(b, s->name);
	for (size_t i = 0; i < s->labels->n; i++) {
		pane_buf_addc(b, '\0');
		pane_buf_adds(b, s->labels->v[i].name);
		pane_buf_addc(b, '\0');
		pane_buf_adds(b, s->labels->v[i].value);
	}
}

/* Writes a stale marker for every key in m (the key is name\0n\0v...). */
static void write_stale(struct target *t, struct pane_map *m, const struct pane_map *except, int64_t ts)
{
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	struct pane_label lv[PANE_LABELS_MAX];
	while (pane_map_next(m, &pos, &k, &kl, &v)) {
		if (except && pane_map_has(except, k, kl))
			continue;
		const char *p = k + strlen(k) + 1, *end = k + kl;
		size_t n = 0;
		while (p < end && n < PANE_LABELS_MAX) {
			lv[n].name = p;
			p += strlen(p) + 1;
			lv[n].value = p < end ? p : "";
			p += strlen(lv[n].value) + 1;
			n++;
		}
		struct pane_labels ls = {.v = lv, .n = n, .cap = n, .owned = false};
		struct pane_sample s = {.name = k, .labels = &ls, .ts_ms = ts, .value = pane_stale_nan()};
		pane_pipeline_write_samples(t->sc->p, &s, 1, NULL);
	}
}

struct fetch {
	struct pane_buf body;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t n = size * nmemb;
	if (pane_buf_add(&f->body, ptr, n) < 0) {
		f->too_big = true;
		return 0; /* aborts the transfer */
	}
	return n;
}

struct pctx {
	struct target *t;
	struct pane_buf key;
	size_t seen;
	bool over_limit;
};

static int on_samples(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	struct pctx *c = arg;
	for (size_t i = 0; i < n; i++) {
		series_key(&c->key, &s[i]);
		pane_map_put(&c->t->cur, c->key.data, c->key.len, c->t);
	}
	c->seen += n;
	return pane_pipeline_write_samples(c->t->sc->p, s, n, err);
}

static void synth(struct target *t, const char *name, int64_t ts, double v)
{
	struct pane_sample s = {.name = name, .labels = &t->synth, .ts_ms = ts, .value = v};
	pane_pipeline_write_samples(t->sc->p, &s, 1, NULL);
}

static void scrape_once(struct target *t, CURL *curl)
{
	struct pane_scraper *sc = t->sc;
	int64_t start_ns = pane_mono_ns();
	int64_t ts = pane_wall_ms();
	struct fetch f = {0};
	pane_buf_init(&f.body, t->max_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &f);
	CURLcode cc = curl_easy_perform(curl);
	long status = 0;
	char *ct = NULL;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
	char why[256] = "";
	if (f.too_big)
		snprintf(why, sizeof why, "body larger than max_body (%zu bytes)", t->max_body);
	else if (cc != CURLE_OK)
		snprintf(why, sizeof why, "%s", curl_easy_strerror(cc));
	else if (status >= 400 || status < 200)
		snprintf(why, sizeof why, "HTTP status %ld", status);
	bool ok = !why[0];
	struct pane_promtext_result r = {0};
	if (ok) {
		struct pane_promtext_opts o = {.openmetrics = pane_promtext_is_openmetrics(ct),
		                               .default_ts_ms = ts,
		                               .extra = &t->labels,
		                               .honor_labels = t->honor_labels,
		                               .defaults = t->defaults.n ? &t->defaults : NULL,
		                               .max_samples = t->sample_limit,
		                               .meta = pane_promtext_meta_to_pipeline,
		                               .meta_arg = sc->p};
		struct pctx c = {.t = t};
		pane_buf_init(&c.key, PANE_BUF_NOLIMIT);
		struct pane_err e = {0};
		int rc = pane_promtext_parse(f.body.data, f.body.len, &o, on_samples, &c, &r, &e);
		pane_buf_release(&c.key);
		if (rc == PANE_ETOOBIG)
			snprintf(why, sizeof why, "more than sample_limit (%zu) samples", t->sample_limit);
		else if (rc < 0)
			snprintf(why, sizeof why, "pipeline refused samples: %s", e.msg);
		else if (r.bad_lines)
			pane_log_limited(&sc->lim, PANE_LOG_WARN, "scrape", "%s: %zu bad lines skipped; %s", t->url,
			                 r.bad_lines, r.first_error);
		ok = !why[0];
	}
	pane_buf_release(&f.body);
	if (!ok) {
		if (t->st_fail)
			pane_stat_inc(t->st_fail);
		pane_log_limited(&sc->lim, PANE_LOG_WARN, "scrape", "scrape of %s failed: %s", t->url, why);
		/* a failed scrape ends every series the target had */
		write_stale(t, &t->prev, NULL, ts);
		write_stale(t, &t->cur, &t->prev, ts);
		pane_map_release(&t->prev);
		pane_map_init(&t->prev, NULL);
	} else {
		write_stale(t, &t->prev, &t->cur, ts);
		pane_map_release(&t->prev);
		t->prev = t->cur;
	}
	pane_map_init(&t->cur, NULL);
	double dur = (double)(pane_mono_ns() - start_ns) / 1e9;
	synth(t, "up", ts, ok ? 1.0 : 0.0);
	synth(t, "scrape_duration_seconds", ts, dur);
	synth(t, "scrape_samples_scraped", ts, ok ? (double)r.samples : 0.0);
	pthread_mutex_lock(&sc->mu);
	t->scrapes++;
	pthread_cond_broadcast(&sc->cv);
	pthread_mutex_unlock(&sc->mu);
	if (t->st_scrapes)
		pane_stat_inc(t->st_scrapes);
}

static void *target_thread(void *arg)
{
	struct target *t = arg;
	struct pane_scraper *sc = t->sc;
	CURL *curl = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(
	    NULL, "Accept: application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1");
	curl_easy_setopt(curl, CURLOPT_URL, t->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)t->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "pane/" PANE_VERSION);
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	for (;;) {
		int64_t next = pane_mono_ns() / 1000000 + t->interval_ms;
		scrape_once(t, curl);
		pthread_mutex_lock(&sc->mu);
		while (!sc->stop) {
			int64_t now = pane_mono_ns() / 1000000;
			if (now >= next)
				break;
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			int64_t wait = next - now;
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (wait % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&sc->cv, &sc->mu, &ts);
		}
		bool stop = sc->stop;
		pthread_mutex_unlock(&sc->mu);
		if (stop)
			break;
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	return NULL;
}

/* host:port, without user:password@ (the label is stored and shown) */
static char *instance_of(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t n = strcspn(p, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '@')
			at = p + i;
	if (at) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	return pane_xstrndup(p, n);
}

struct pane_scraper *pane_scraper_new(struct pane_pipeline *p, const struct pane_scrape_target *tc, size_t n,
                                      struct pane_stats *stats, struct pane_err *err)
{
	struct pane_scraper *sc = pane_xcalloc(1, sizeof *sc);
	sc->p = p;
	sc->lim.burst = 5;
	sc->lim.per_ms = 60000;
	pthread_mutex_init(&sc->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sc->cv, &ca);
	pthread_condattr_destroy(&ca);
	sc->t = pane_xcalloc(n ? n : 1, sizeof *sc->t);
	sc->n = n;
	for (size_t i = 0; i < n; i++) {
		struct target *t = &sc->t[i];
		t->sc = sc;
		pane_labels_init(&t->labels);
		pane_labels_init(&t->defaults);
		pane_labels_init(&t->synth);
		if (tc[i].defaults)
			pane_labels_copy(&t->defaults, tc[i].defaults);
		pane_map_init(&t->prev, NULL);
		pane_map_init(&t->cur, NULL);
		if (!tc[i].url || (strncmp(tc[i].url, "http://", 7) != 0 && strncmp(tc[i].url, "https://", 8) != 0)) {
			pane_err_set(err, PANE_EINVAL, "scrape target %zu: url must start with http:// or https://",
			             i + 1);
			goto fail;
		}
		t->url = pane_xstrdup(tc[i].url);
		t->job = pane_xstrdup(tc[i].job ? tc[i].job : "scrape");
		t->instance = instance_of(tc[i].url);
		t->interval_ms = tc[i].interval_ms > 0 ? tc[i].interval_ms : 30000;
		t->timeout_ms = tc[i].timeout_ms > 0 ? tc[i].timeout_ms : 10000;
		if (t->timeout_ms > t->interval_ms)
			t->timeout_ms = t->interval_ms;
		t->max_body = tc[i].max_body ? tc[i].max_body : 8u << 20;
		t->sample_limit = tc[i].sample_limit ? tc[i].sample_limit : 100000;
		t->honor_labels = tc[i].honor_labels;
		if (tc[i].labels)
			for (size_t k = 0; k < tc[i].labels->n; k++)
				pane_labels_set(&t->labels, tc[i].labels->v[k].name, tc[i].labels->v[k].value);
		if (pane_labels_set(&t->labels, "job", t->job) < 0 ||
		    pane_labels_set(&t->labels, PANE_LABEL_INSTANCE, t->instance) < 0) {
			pane_err_set(err, PANE_EINVAL, "scrape target %s: bad job or instance label", t->url);
			goto fail;
		}
		pane_labels_release(&t->synth);
		pane_labels_copy(&t->synth, &t->labels);
		pane_receivers_fill_defaults(&t->synth, &t->defaults);
		if (stats) {
			struct pane_buf lab;
			pane_buf_init(&lab, 4096);
			char shown[2048]; /* the URL without its password: /metrics is public */
			snprintf(shown, sizeof shown, "%s", t->url);
			pane_redact(shown, sizeof shown);
			pane_buf_adds(&lab, "target=");
			pane_buf_add_json_str(&lab, shown, strlen(shown));
			t->st_fail = pane_stats_counter(stats, "pane_scrape_failures_total", lab.data,
			                                "scrapes that failed (timeout, too big, HTTP error)");
			t->st_scrapes = pane_stats_counter(stats, "pane_scrapes_total", lab.data, "scrapes done");
			pane_buf_release(&lab);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (pthread_create(&sc->t[i].thread, NULL, target_thread, &sc->t[i]) != 0) {
			pane_err_set(err, PANE_EIO, "cannot start a scrape thread");
			goto fail;
		}
		sc->t[i].started = true;
	}
	return sc;
fail:
	pane_scraper_free(sc);
	return NULL;
}

uint64_t pane_scraper_scrapes(struct pane_scraper *sc, size_t i)
{
	pthread_mutex_lock(&sc->mu);
	uint64_t n = i < sc->n ? sc->t[i].scrapes : 0;
	pthread_mutex_unlock(&sc->mu);
	return n;
}

void pane_scraper_free(struct pane_scraper *sc)
{
	if (!sc)
		return;
	pthread_mutex_lock(&sc->mu);
	sc->stop = true;
	pthread_cond_broadcast(&sc->cv);
	pthread_mutex_unlock(&sc->mu);
	int64_t now = pane_wall_ms();
	for (size_t i = 0; i < sc->n; i++) {
		struct target *t = &sc->t[i];
		if (t->started) {
			pthread_join(t->thread, NULL);
			/* the target goes away: its series end here */
			write_stale(t, &t->prev, NULL, now);
			static const char *const synth_names[] = {"up", "scrape_duration_seconds",
			                                          "scrape_samples_scraped"};
			for (int k = 0; k < 3; k++) {
				struct pane_sample s = {.name = synth_names[k],
				                        .labels = &t->synth,
				                        .ts_ms = now,
				                        .value = pane_stale_nan()};
				pane_pipeline_write_samples(sc->p, &s, 1, NULL);
			}
		}
		pane_map_release(&t->prev);
		pane_map_release(&t->cur);
		pane_labels_release(&t->labels);
		pane_labels_release(&t->defaults);
		pane_labels_release(&t->synth);
		free(t->url);
		free(t->job);
		free(t->instance);
	}
	free(sc->t);
	pthread_cond_destroy(&sc->cv);
	pthread_mutex_destroy(&sc->mu);
	free(sc);
}
