/*
 * alerts.c - the notifier's alert store: alerts by fingerprint, merged as
 * Alertmanager merges them, in from the rules and from POST /api/v2/alerts.
 *
 * Idea: one map from fingerprint to alert, and one way in: a batch of
 * Alertmanager's postable alerts (JSON). The rules' sink writes its alerts
 * as that JSON too, so both producers are checked, merged, routed and
 * persisted by the same code, and the same text is what is forwarded to
 * other Alertmanagers.
 *
 * Invariants:
 *   (1) a batch is checked whole before any alert is stored (all or none,
 *       except when the store reaches MAX_ALERTS midway: PANE_ETOOBIG);
 *   (2) an update of a still-active alert keeps its start (Alertmanager's
 *       merge); an alert without endsAt ends resolve_timeout after now;
 *   (3) every stored alert is routed into its groups and written to
 *       notify.db under the same hold of nt->mu; resolved alerts are
 *       forgotten an hour after they end (the rules stop resending after
 *       15 minutes), which bumps nt->gen like every other change.
 *
 * Threads: the rules' evaluation threads (pane_notify_sink_send), MHD pool
 * threads (the API), the dispatcher (gc); all under nt->mu.
 */
#include "notify/notify_internal.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"

#define MAX_ALERTS 200000
#define GC_RESOLVED_MS (60 * 60 * 1000)

void pane_notify_alert_free(void *p)
{
	struct nalert *a = p;
	pane_labels_release(&a->labels);
	pane_labels_release(&a->annotations);
	free(a->generator_url);
	free(a);
}

void pane_notify_alert_members(struct pane_json *j, const struct nalert *a, bool updated)
{
	pane_json_key(j, "labels");
	pane_labels_json_value(j, &a->labels);
	pane_json_key(j, "annotations");
	pane_labels_json_value(j, &a->annotations);
	pane_json_key(j, "startsAt");
	pane_notify_json_time(j, a->starts_ms);
	pane_json_key(j, "endsAt");
	pane_notify_json_time(j, a->ends_ms);
	if (updated) {
		pane_json_key(j, "updatedAt");
		pane_notify_json_time(j, a->updated_ms);
	}
	pane_json_key(j, "generatorURL");
	pane_json_str(j, a->generator_url ? a->generator_url : "");
}

/* An alert as Alertmanager's postable alert (what the store keeps and forwards). */
void pane_notify_alert_json(struct pane_json *j, const struct nalert *a)
{
	pane_json_obj(j);
	pane_notify_alert_members(j, a, false);
	pane_json_obj_end(j);
}

int pane_notify_labels_from_json(json_t *obj, struct pane_labels *ls, bool names_strict, struct pane_err *err)
{
	pane_labels_init(ls);
	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return pane_err_set(err, PANE_EINVAL, "labels and annotations must be objects");
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v)
	{
		if (!json_is_string(v))
			return pane_err_set(err, PANE_EINVAL, "value of '%s' must be a string", k);
		if (!names_strict && !pane_label_name_valid(k, strlen(k)))
			continue;
		if (pane_labels_set(ls, k, json_string_value(v)) < 0)
			return pane_err_set(err, PANE_EINVAL, "invalid label '%s'", k);
	}
	return 0;
}

int pane_notify_time_from_json(json_t *v, int64_t *out, struct pane_err *err)
{
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return pane_err_set(err, PANE_EINVAL, "times must be RFC 3339 strings");
	const char *s = json_string_value(v);
	if (!*s || !strncmp(s, "0001-01-01", 10))
		return 0;
	if (pane_time_parse(pane_str_c(s), out) < 0)
		return pane_err_set(err, PANE_EINVAL, "bad time '%s'", s);
	return 0;
}

/* Alertmanager's merge: an update of a still-active alert keeps its start. */
struct nalert *pane_notify_store_alert(struct notify *nt, const struct pane_labels *labels,
                                       const struct pane_labels *annotations, int64_t starts, int64_t ends,
                                       const char *gen, int64_t now)
{
	uint64_t fp = pane_notify_fingerprint(labels);
	struct nalert *a = pane_map_get(&nt->alerts, &fp, sizeof fp);
	if (starts <= 0)
		starts = now;
	if (ends <= 0)
		ends = now + (nt->cfg ? nt->cfg->resolve_timeout_ms : 300000);
	if (a) {
		if (a->ends_ms >= starts && a->starts_ms < starts)
			starts = a->starts_ms;
		pane_labels_release(&a->annotations);
		free(a->generator_url);
	} else {
		if (nt->alerts.len >= MAX_ALERTS)
			return NULL;
		a = pane_xcalloc(1, sizeof *a);
		a->fp = fp;
		pane_labels_copy(&a->labels, labels);
		pane_map_put(&nt->alerts, &a->fp, sizeof a->fp, a);
	}
	pane_labels_copy(&a->annotations, annotations);
	a->generator_url = gen && *gen ? pane_xstrdup(gen) : NULL;
	a->starts_ms = starts;
	a->ends_ms = ends;
	a->updated_ms = now;
	nt->gen++;
	return a;
}

/* Takes a batch (JSON array of postable alerts). 0 or PANE_EINVAL. */
int pane_notify_put_alerts(struct notify *nt, json_t *arr, struct pane_err *err)
{
	if (!json_is_array(arr))
		return pane_err_set(err, PANE_EINVAL, "expected a JSON array of alerts");
	size_t n = json_array_size(arr);
	struct pane_labels *ls = pane_xcalloc(n + 1, sizeof *ls), *an = pane_xcalloc(n + 1, sizeof *an);
	int64_t *st = pane_xcalloc(n + 1, sizeof *st), *en = pane_xcalloc(n + 1, sizeof *en);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *o = json_array_get(arr, i);
		if (!json_is_object(o)) {
			rc = pane_err_set(err, PANE_EINVAL, "alert %zu is not an object", i);
			break;
		}
		if ((rc = pane_notify_labels_from_json(json_object_get(o, "labels"), &ls[i], true, err)) < 0 ||
		    (rc = pane_notify_labels_from_json(json_object_get(o, "annotations"), &an[i], false, err)) < 0 ||
		    (rc = pane_notify_time_from_json(json_object_get(o, "startsAt"), &st[i], err)) < 0 ||
		    (rc = pane_notify_time_from_json(json_object_get(o, "endsAt"), &en[i], err)) < 0)
			break;
		if (ls[i].n == 0)
			rc = pane_err_set(err, PANE_EINVAL, "alert %zu has no labels", i);
		else if (st[i] > 0 && en[i] > 0 && en[i] < st[i])
			rc = pane_err_set(err, PANE_EINVAL, "alert %zu ends before it starts", i);
	}
	if (rc == 0) {
		struct nalert **put = pane_xcalloc(n + 1, sizeof *put);
		size_t np = 0;
		pthread_mutex_lock(&nt->mu);
		int64_t now = pane_wall_ms();
		for (size_t i = 0; i < n; i++) {
			json_t *g = json_object_get(json_array_get(arr, i), "generatorURL");
			struct nalert *a =
			    pane_notify_store_alert(nt, &ls[i], &an[i], st[i], en[i], json_string_value(g), now);
			if (!a) {
				rc = pane_err_set(err, PANE_ETOOBIG, "too many alerts (limit %d)", MAX_ALERTS);
				break;
			}
			pane_notify_route_alert(nt, a, now);
			put[np++] = a;
		}
		if (np && nt->db)
			pane_notify_db_put_alerts(nt, put, np);
		pthread_cond_signal(&nt->cv);
		pthread_mutex_unlock(&nt->mu);
		free(put);
	}
	for (size_t i = 0; i < n; i++) {
		pane_labels_release(&ls[i]);
		pane_labels_release(&an[i]);
	}
	free(ls), free(an), free(st), free(en);
	return rc;
}

/* Forgets alerts resolved over an hour ago (the rules stop resending after 15 min). */
void pane_notify_gc_alerts(struct notify *nt, int64_t now)
{
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	struct pane_vec dead;
	pane_vec_init(&dead, sizeof(uint64_t));
	while (pane_map_next(&nt->alerts, &pos, &k, &kl, &v)) {
		struct nalert *a = v;
		if (alert_resolved(a, now) && a->ends_ms < now - GC_RESOLVED_MS)
			pane_vec_push(&dead, &a->fp);
	}
	if (dead.len)
		nt->gen++;
	for (size_t i = 0; i < dead.len; i++) {
		uint64_t fp = *(uint64_t *)pane_vec_at(&dead, i);
		pane_map_del(&nt->alerts, &fp, sizeof fp);
		if (nt->db)
			pane_notify_db_del_alert(nt, fp);
	}
	pane_vec_release(&dead);
}

void pane_notify_sink_send(void *ctx, const struct pane_alert *alerts, size_t n)
{
	struct notify *nt = ctx;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	struct pane_json j;
	pane_json_init(&j, &b);
	pane_json_arr(&j);
	for (size_t i = 0; i < n; i++) {
		struct nalert a = {.labels = *alerts[i].labels,
		                   .starts_ms = alerts[i].starts_at_ms,
		                   .ends_ms = alerts[i].ends_at_ms,
		                   .generator_url = (char *)alerts[i].generator_url};
		if (alerts[i].annotations)
			a.annotations = *alerts[i].annotations;
		pane_notify_alert_json(&j, &a);
	}
	pane_json_arr_end(&j);
	json_t *arr = json_loadb(b.data, b.len, 0, NULL);
	struct pane_err err = {0};
	if (!arr || pane_notify_put_alerts(nt, arr, &err) < 0) {
		pane_warn("notify", "alerts from the rules refused: %s", err.msg);
	} else {
		pthread_mutex_lock(&nt->mu);
		pane_notify_forward(nt, b.data);
		pthread_mutex_unlock(&nt->mu);
	}
	json_decref(arr);
	pane_buf_release(&b);
}
