/*
 * recorder.c - the test recorder sink (see recorder.h).
 */
#include "sources_recorder.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/vec.h"

struct recorder {
	pthread_mutex_t mu;
	struct pane_vec samples; /* struct rec_sample */
	struct pane_vec logs;    /* struct rec_log */
	struct pane_vec events;  /* char * "kind|title|body|dedup" */
	bool fail;
};

static int w_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err)
{
	struct recorder *r = ctx;
	pthread_mutex_lock(&r->mu);
	if (r->fail) {
		pthread_mutex_unlock(&r->mu);
		return pane_err_set(err, PANE_EIO, "recorder refuses writes");
	}
	for (size_t i = 0; i < n; i++) {
		struct rec_sample *c = pane_vec_push_zero(&r->samples);
		c->name = pane_xstrdup(s[i].name);
		pane_labels_copy(&c->labels, s[i].labels);
		c->ts_ms = s[i].ts_ms;
		c->value = s[i].value;
	}
	pthread_mutex_unlock(&r->mu);
	if (accepted)
		*accepted = n;
	return 0;
}

static int w_logs(void *ctx, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	struct recorder *r = ctx;
	pthread_mutex_lock(&r->mu);
	if (r->fail) {
		pthread_mutex_unlock(&r->mu);
		return pane_err_set(err, PANE_EIO, "recorder refuses writes");
	}
	for (size_t i = 0; i < n; i++) {
		struct rec_log *c = pane_vec_push_zero(&r->logs);
		pane_labels_copy(&c->labels, l[i].labels);
		c->ts_ms = l[i].ts_ms;
		c->sev = l[i].severity;
		c->message = pane_xstrndup(l[i].message, l[i].message_len);
		c->fields_json = pane_xstrdup(l[i].fields_json);
	}
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static int w_events(void *ctx, const struct pane_event *e, size_t n, struct pane_err *err)
{
	(void)err;
	struct recorder *r = ctx;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < n; i++) {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		pane_buf_addf(&b, "%s|%s|%s|%s", e[i].kind, e[i].title, e[i].body_json ? e[i].body_json : "",
			      e[i].dedup_key ? e[i].dedup_key : "");
		char *t = pane_buf_detach(&b, NULL);
		pane_vec_push(&r->events, &t);
	}
	pthread_mutex_unlock(&r->mu);
	return 0;
}

size_t recorder_n_events(struct recorder *r)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->events.len;
	pthread_mutex_unlock(&r->mu);
	return n;
}

const char *recorder_event(struct recorder *r, size_t i)
{
	return *(char **)pane_vec_at(&r->events, i);
}

void recorder_clear(struct recorder *r)
{
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->samples.len; i++) {
		struct rec_sample *s = pane_vec_at(&r->samples, i);
		free(s->name);
		pane_labels_release(&s->labels);
	}
	for (size_t i = 0; i < r->logs.len; i++) {
		struct rec_log *l = pane_vec_at(&r->logs, i);
		pane_labels_release(&l->labels);
		free(l->message);
		free(l->fields_json);
	}
	for (size_t i = 0; i < r->events.len; i++)
		free(*(char **)pane_vec_at(&r->events, i));
	pane_vec_clear(&r->samples);
	pane_vec_clear(&r->logs);
	pane_vec_clear(&r->events);
	pthread_mutex_unlock(&r->mu);
}

static void r_close(void *ctx)
{
	struct recorder *r = ctx;
	recorder_clear(r);
	pane_vec_release(&r->samples);
	pane_vec_release(&r->logs);
	pane_vec_release(&r->events);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static const struct pane_sink_ops recorder_ops = {
	.name = "recorder",
	.write_samples = w_samples,
	.write_logs = w_logs,
	.write_events = w_events,
	.close = r_close,
};

struct pane_pipeline *recorder_pipeline(struct recorder **rec)
{
	struct recorder *r = pane_xcalloc(1, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	pane_vec_init(&r->samples, sizeof(struct rec_sample));
	pane_vec_init(&r->logs, sizeof(struct rec_log));
	pane_vec_init(&r->events, sizeof(char *));
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, (struct pane_sink){&recorder_ops, r}, PANE_SINK_PRIMARY);
	*rec = r;
	return p;
}

void recorder_fail_writes(struct recorder *r, bool fail)
{
	pthread_mutex_lock(&r->mu);
	r->fail = fail;
	pthread_mutex_unlock(&r->mu);
}

void recorder_lock(struct recorder *r) { pthread_mutex_lock(&r->mu); }
void recorder_unlock(struct recorder *r) { pthread_mutex_unlock(&r->mu); }
size_t recorder_n_samples(struct recorder *r) { return r->samples.len; }
const struct rec_sample *recorder_sample(struct recorder *r, size_t i) { return pane_vec_at(&r->samples, i); }
size_t recorder_n_logs(struct recorder *r) { return r->logs.len; }
const struct rec_log *recorder_log(struct recorder *r, size_t i) { return pane_vec_at(&r->logs, i); }

static bool matches(const struct rec_sample *s, const char *name, va_list ap)
{
	if (strcmp(s->name, name) != 0)
		return false;
	const char *k;
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		const char *have = pane_labels_get(&s->labels, k);
		if (v == NULL ? have != NULL : (!have || strcmp(have, v) != 0))
			return false;
	}
	return true;
}

size_t recorder_count(struct recorder *r, const char *name, ...)
{
	size_t n = 0;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->samples.len; i++) {
		va_list ap;
		va_start(ap, name);
		if (matches(pane_vec_at(&r->samples, i), name, ap))
			n++;
		va_end(ap);
	}
	pthread_mutex_unlock(&r->mu);
	return n;
}

double recorder_last(struct recorder *r, const char *name, ...)
{
	double v = NAN;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->samples.len; i++) {
		va_list ap;
		va_start(ap, name);
		const struct rec_sample *s = pane_vec_at(&r->samples, i);
		if (matches(s, name, ap))
			v = s->value;
		va_end(ap);
	}
	pthread_mutex_unlock(&r->mu);
	return v;
}

size_t recorder_count_logs(struct recorder *r, const char *k, const char *v)
{
	size_t n = 0;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->logs.len; i++) {
		const struct rec_log *l = pane_vec_at(&r->logs, i);
		const char *have = k ? pane_labels_get(&l->labels, k) : NULL;
		if (!k || (have && strcmp(have, v) == 0))
			n++;
	}
	pthread_mutex_unlock(&r->mu);
	return n;
}
