/* recorder.c - the test recorder sink (see recorder.h). */
#include "recorder.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/mem.h"

static int rec_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err)
{
	struct pt_recorder *r = ctx;
	pthread_mutex_lock(&r->mu);
	if (r->fail_next > 0) {
		r->fail_next--;
		pthread_mutex_unlock(&r->mu);
		if (accepted)
			*accepted = 0;
		return pane_err_set(err, PANE_EIO, "recorder told to fail");
	}
	r->writes++;
	r->counted += n;
	if (!r->discard) {
		if (r->n_samples + n > r->cap_samples) {
			r->cap_samples = (r->n_samples + n) * 2;
			r->samples = pane_xrealloc(r->samples, pane_mul_size(r->cap_samples, sizeof *r->samples));
		}
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
	(void)err;
	struct pt_recorder *r = ctx;
	pthread_mutex_lock(&r->mu);
	if (r->n_logs + n > r->cap_logs) {
		r->cap_logs = (r->n_logs + n) * 2;
		r->logs = pane_xrealloc(r->logs, pane_mul_size(r->cap_logs, sizeof *r->logs));
	}
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
	(void)err;
	struct pt_recorder *r = ctx;
	pthread_mutex_lock(&r->mu);
	r->meta_writes++;
	if (r->n_metas + n > r->cap_metas) {
		r->cap_metas = (r->n_metas + n) * 2;
		r->metas = pane_xrealloc(r->metas, pane_mul_size(r->cap_metas, sizeof *r->metas));
	}
	for (size_t i = 0; i < n; i++)
		r->metas[r->n_metas++] = (struct pt_rec_meta){pane_xstrdup(m[i].name), m[i].type, pane_xstrdup(m[i].help),
							       pane_xstrdup(m[i].unit)};
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

static void rec_close(void *ctx)
{
	struct pt_recorder *r = ctx;
	pthread_mutex_lock(&r->mu);
	r->closed = true;
	pthread_mutex_unlock(&r->mu);
}

static const struct pane_sink_ops rec_ops = {
	.name = "recorder", .write_samples = rec_samples, .write_logs = rec_logs, .close = rec_close,
	.write_metadata = rec_metadata,
};

struct pt_recorder *pt_recorder_new(void)
{
	struct pt_recorder *r = pane_xcalloc(1, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	return r;
}

void pt_recorder_free(struct pt_recorder *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_samples; i++) {
		free(r->samples[i].name);
		pane_labels_release(&r->samples[i].labels);
	}
	free(r->samples);
	for (size_t i = 0; i < r->n_logs; i++) {
		pane_labels_release(&r->logs[i].labels);
		free(r->logs[i].message);
		free(r->logs[i].fields_json);
	}
	free(r->logs);
	for (size_t i = 0; i < r->n_metas; i++) {
		free(r->metas[i].name);
		free(r->metas[i].help);
		free(r->metas[i].unit);
	}
	free(r->metas);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

struct pane_sink pt_recorder_sink(struct pt_recorder *r)
{
	return (struct pane_sink){.ops = &rec_ops, .ctx = r};
}

const struct pt_rec_sample *pt_recorder_find(struct pt_recorder *r, const char *name, ...)
{
	const struct pt_rec_sample *found = NULL;
	pthread_mutex_lock(&r->mu);
	for (size_t i = r->n_samples; i-- > 0 && !found;) {
		struct pt_rec_sample *s = &r->samples[i];
		if (strcmp(s->name, name) != 0)
			continue;
		va_list ap;
		va_start(ap, name);
		bool ok = true;
		const char *k;
		while ((k = va_arg(ap, const char *)) != NULL) {
			const char *v = va_arg(ap, const char *);
			const char *have = pane_labels_get(&s->labels, k);
			if (!have || strcmp(have, v) != 0)
				ok = false;
		}
		va_end(ap);
		if (ok)
			found = s;
	}
	pthread_mutex_unlock(&r->mu);
	return found;
}

size_t pt_recorder_count(struct pt_recorder *r, const char *name)
{
	size_t n = 0;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->n_samples; i++)
		n += strcmp(r->samples[i].name, name) == 0;
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
