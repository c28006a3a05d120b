/* recorder.c - the test recorder sink (see recorder.h). */
#include "recorder.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"

/* Grows *arr (of *cap elements of size sz) to hold n + more. */
static void reserve(void **arr, size_t *cap, size_t n, size_t more, size_t sz)
{
	if (n + more <= *cap)
		return;
	*cap = (n + more) * 2;
	*arr = pane_xrealloc(*arr, pane_mul_size(*cap, sz));
}

static int refuse(struct pt_recorder *r, struct pane_err *err, const char *why)
{
	pthread_mutex_unlock(&r->mu);
	return pane_err_set(err, PANE_EIO, "%s", why);
}

static int rec_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err)
{
	struct pt_recorder *r = ctx;
	if (accepted)
		*accepted = 0;
	pthread_mutex_lock(&r->mu);
	if (r->fail_all)
		return refuse(r, err, "recorder refuses writes");
	if (r->fail_next > 0) {
		r->fail_next--;
		return refuse(r, err, "recorder told to fail");
	}
	r->writes++;
	r->counted += n;
	if (!r->discard) {
		reserve((void **)&r->samples, &r->cap_samples, r->n_samples, n, sizeof *r->samples);
		for (size_t i = 0; i < n; i++) {
			struct pt_rec_sample *d = &r->samples[r->n_samples++];
			d->name = pane_xstrdup(s[i].name);
			pane_labels_copy(&d->labels, s[i].labels);
			d->ts_ms = s[i].ts_ms;
			d->value = s[i].value;
		}
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (accepted)
		*accepted = n;
	return 0;
}

static int rec_logs(void *ctx, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	struct pt_recorder *r = ctx;
	pthread_mutex_lock(&r->mu);
	if (r->fail_all)
		return refuse(r, err, "recorder refuses writes");
	reserve((void **)&r->logs, &r->cap_logs, r->n_logs, n, sizeof *r->logs);
	for (size_t i = 0; i < n; i++) {
		struct pt_rec_log *d = &r->logs[r->n_logs++];
		d->ts_ms = l[i].ts_ms;
		pane_labels_copy(&d->labels, l[i].labels);
		d->severity = l[i].severity;
		d->message = pane_xstrndup(l[i].message, l[i].message_len);
		d->fields_json = pane_xstrdup(l[i].fields_json);
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static int rec_metadata(void *ctx, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	struct pt_recorder *r = ctx;
	pthread_mutex_lock(&r->mu);
	if (r->fail_all)
		return refuse(r, err, "recorder refuses writes");
	r->meta_writes++;
	reserve((void **)&r->metas, &r->cap_metas, r->n_metas, n, sizeof *r->metas);
	for (size_t i = 0; i < n; i++)
		r->metas[r->n_metas++] = (struct pt_rec_meta){pane_xstrdup(m[i].name), m[i].type,
		                                              pane_xstrdup(m[i].help), pane_xstrdup(m[i].unit)};
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

const struct pt_rec_meta *pt_recorder_find_meta(struct pt_recorder *r, const char *name)
{
	const struct pt_rec_meta *found = NULL;
	pthread_mutex_lock(&r->mu);
	for (size_t i = r->n_metas; i-- > 0 && !found;)
		if (strcmp(r->metas[i].name, name) == 0)
			found = &r->metas[i];
	pthread_mutex_unlock(&r->mu);
	return found;
}

static int rec_events(void *ctx, const struct pane_event *e, size_t n, struct pane_err *err)
{
	(void)err;
	struct pt_recorder *r = ctx;
	pthread_mutex_lock(&r->mu);
	reserve((void **)&r->events, &r->cap_events, r->n_events, n, sizeof *r->events);
	for (size_t i = 0; i < n; i++) {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		pane_buf_addf(&b, "%s|%s|%s|%s", e[i].kind, e[i].title, e[i].body_json ? e[i].body_json : "",
		              e[i].dedup_key ? e[i].dedup_key : "");
		r->events[r->n_events++] = pane_buf_detach(&b, NULL);
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static void rec_close(void *ctx)
{
	struct pt_recorder *r = ctx;
	if (r->owned) {
		pt_recorder_free(r);
		return;
	}
	pthread_mutex_lock(&r->mu);
	r->closed = true;
	pthread_mutex_unlock(&r->mu);
}

static const struct pane_sink_ops rec_ops = {
    .name = "recorder",
    .write_samples = rec_samples,
    .write_logs = rec_logs,
    .write_events = rec_events,
    .close = rec_close,
    .write_metadata = rec_metadata,
};

struct pt_recorder *pt_recorder_new(void)
{
	struct pt_recorder *r = pane_xcalloc(1, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	return r;
}

/* Frees the kept records; the caller holds the lock or is the only user. */
static void drop_records(struct pt_recorder *r)
{
	for (size_t i = 0; i < r->n_samples; i++) {
		free(r->samples[i].name);
		pane_labels_release(&r->samples[i].labels);
	}
	for (size_t i = 0; i < r->n_logs; i++) {
		pane_labels_release(&r->logs[i].labels);
		free(r->logs[i].message);
		free(r->logs[i].fields_json);
	}
	for (size_t i = 0; i < r->n_events; i++)
		free(r->events[i]);
	for (size_t i = 0; i < r->n_metas; i++) {
		free(r->metas[i].name);
		free(r->metas[i].help);
		free(r->metas[i].unit);
	}
	r->n_samples = r->n_logs = r->n_events = r->n_metas = 0;
}

void pt_recorder_free(struct pt_recorder *r)
{
	if (!r)
		return;
	drop_records(r);
	free(r->samples);
	free(r->logs);
	free(r->events);
	free(r->metas);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

void pt_recorder_clear(struct pt_recorder *r)
{
	pthread_mutex_lock(&r->mu);
	drop_records(r);
	pthread_mutex_unlock(&r->mu);
}

struct pane_sink pt_recorder_sink(struct pt_recorder *r)
{
	return (struct pane_sink){.ops = &rec_ops, .ctx = r};
}

struct pane_pipeline *pt_recorder_pipeline(struct pt_recorder **rec)
{
	struct pt_recorder *r = pt_recorder_new();
	r->owned = true;
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, pt_recorder_sink(r), PANE_SINK_PRIMARY);
	*rec = r;
	return p;
}

void pt_recorder_fail_writes(struct pt_recorder *r, bool fail)
{
	pthread_mutex_lock(&r->mu);
	r->fail_all = fail;
	pthread_mutex_unlock(&r->mu);
}

void pt_recorder_lock(struct pt_recorder *r)
{
	pthread_mutex_lock(&r->mu);
}

void pt_recorder_unlock(struct pt_recorder *r)
{
	pthread_mutex_unlock(&r->mu);
}

static bool matches(const struct pt_rec_sample *s, const char *name, va_list ap)
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

/* Counts the matching samples and finds the last one; the caller holds the lock. */
static size_t scan(struct pt_recorder *r, const char *name, va_list ap, const struct pt_rec_sample **last)
{
	size_t n = 0;
	*last = NULL;
	for (size_t i = 0; i < r->n_samples; i++) {
		va_list aq;
		va_copy(aq, ap);
		if (matches(&r->samples[i], name, aq)) {
			n++;
			*last = &r->samples[i];
		}
		va_end(aq);
	}
	return n;
}

const struct pt_rec_sample *pt_recorder_find(struct pt_recorder *r, const char *name, ...)
{
	const struct pt_rec_sample *last;
	va_list ap;
	va_start(ap, name);
	pthread_mutex_lock(&r->mu);
	scan(r, name, ap, &last);
	pthread_mutex_unlock(&r->mu);
	va_end(ap);
	return last;
}

size_t pt_recorder_count(struct pt_recorder *r, const char *name, ...)
{
	const struct pt_rec_sample *last;
	va_list ap;
	va_start(ap, name);
	pthread_mutex_lock(&r->mu);
	size_t n = scan(r, name, ap, &last);
	pthread_mutex_unlock(&r->mu);
	va_end(ap);
	return n;
}

double pt_recorder_last(struct pt_recorder *r, const char *name, ...)
{
	const struct pt_rec_sample *last;
	va_list ap;
	va_start(ap, name);
	pthread_mutex_lock(&r->mu);
	scan(r, name, ap, &last);
	double v = last ? last->value : NAN;
	pthread_mutex_unlock(&r->mu);
	va_end(ap);
	return v;
}

size_t pt_recorder_count_logs(struct pt_recorder *r, const char *k, const char *v)
{
	size_t n = 0;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->n_logs; i++) {
		const char *have = k ? pane_labels_get(&r->logs[i].labels, k) : NULL;
		if (!k || (have && strcmp(have, v) == 0))
			n++;
	}
	pthread_mutex_unlock(&r->mu);
	return n;
}

size_t pt_recorder_n_events(struct pt_recorder *r)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->n_events;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static bool wait_until(struct pt_recorder *r, bool (*pred)(struct pt_recorder *, const void *), const void *arg,
                       int timeout_ms)
{
	int64_t deadline = pane_mono_ns() + (int64_t)timeout_ms * 1000000;
	pthread_mutex_lock(&r->mu);
	bool ok;
	while (!(ok = pred(r, arg))) {
		int64_t now = pane_mono_ns();
		if (now >= deadline)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	}
	pthread_mutex_unlock(&r->mu);
	return ok;
}

static bool have_samples(struct pt_recorder *r, const void *arg)
{
	return r->n_samples >= *(const size_t *)arg;
}

static bool have_logs(struct pt_recorder *r, const void *arg)
{
	return r->n_logs >= *(const size_t *)arg;
}

static bool have_name(struct pt_recorder *r, const void *arg)
{
	for (size_t i = 0; i < r->n_samples; i++)
		if (strcmp(r->samples[i].name, arg) == 0)
			return true;
	return false;
}

bool pt_recorder_wait_samples(struct pt_recorder *r, size_t n, int timeout_ms)
{
	return wait_until(r, have_samples, &n, timeout_ms);
}

bool pt_recorder_wait_logs(struct pt_recorder *r, size_t n, int timeout_ms)
{
	return wait_until(r, have_logs, &n, timeout_ms);
}

bool pt_recorder_wait_name(struct pt_recorder *r, const char *name, int timeout_ms)
{
	return wait_until(r, have_name, name, timeout_ms);
}
