/*
 * dispatch.c - the dispatcher: aggregation groups, their timers, and what a
 * flush hands the integrations.
 *
 * Idea (Alertmanager 0.25's dispatcher, written anew): every route an alert
 * matches puts it in an aggregation group (route + group_by values). A
 * group first flushes group_wait after it was created (at once when the
 * alert is older than that), then every group_interval. A flush drops
 * silenced, inhibited and time-muted alerts and hands a copy of the rest to
 * each integration of the route's receiver; whether that copy is worth a
 * notification (repeat_interval, anything new) is decided by the
 * integration against the notification log (integ.c), not here. One thread
 * sleeps on nt->cv until the earliest group is due; every change of alerts,
 * silences or config signals it.
 *
 * Invariants:
 *   (1) a group holds fingerprints, not alerts: an alert gone from the store
 *       is skipped, and a flush drops resolved alerts from the group; a
 *       group left empty is deleted after its flush;
 *   (2) inhibition is computed over the inhibit rules' sources, rebuilt only
 *       when the store or the config changed (nt->gen), so a flush of n
 *       alerts costs n x sources, not n x all alerts;
 *   (3) everything here runs under nt->mu; sending happens on the
 *       integrations' threads.
 */
#include "notify/notify_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/stats.h"

void pane_notify_group_free(void *p)
{
	struct ngroup *g = p;
	free(g->key);
	pane_labels_release(&g->labels);
	free(g->fps);
	free(g);
}

static void group_labels(const struct pane_am_route *rt, const struct pane_labels *ls, struct pane_labels *out)
{
	pane_labels_init(out);
	for (size_t i = 0; i < ls->n; i++) {
		bool take = rt->group_by_all;
		for (size_t j = 0; j < rt->n_group_by && !take; j++)
			take = !strcmp(rt->group_by[j], ls->v[i].name);
		if (take)
			pane_labels_set(out, ls->v[i].name, ls->v[i].value);
	}
}

void pane_notify_route_alert(struct notify *nt, struct nalert *a, int64_t now)
{
	if (!nt->cfg || !nt->cfg->route.receiver)
		return;
	const struct pane_am_route *rs[PANE_NOTIFY_MAX_ROUTES_PER_ALERT];
	size_t n = pane_am_route_match(&nt->cfg->route, &a->labels, rs, PANE_NOTIFY_MAX_ROUTES_PER_ALERT);
	if (n > PANE_NOTIFY_MAX_ROUTES_PER_ALERT)
		n = PANE_NOTIFY_MAX_ROUTES_PER_ALERT;
	struct pane_buf key;
	pane_buf_init(&key, PANE_BUF_NOLIMIT);
	for (size_t i = 0; i < n; i++) {
		struct pane_labels gl;
		group_labels(rs[i], &a->labels, &gl);
		pane_buf_reset(&key);
		pane_buf_addf(&key, "%s:{", rs[i]->key);
		for (size_t j = 0; j < gl.n; j++) {
			pane_buf_addf(&key, "%s%s=", j ? ", " : "", gl.v[j].name);
			pane_buf_add_json_str(&key, gl.v[j].value, strlen(gl.v[j].value));
		}
		pane_buf_addc(&key, '}');
		struct ngroup *g = pane_map_get(&nt->groups, key.data, key.len);
		if (!g) {
			g = pane_xcalloc(1, sizeof *g);
			g->key = pane_xstrdup(key.data);
			g->route = rs[i];
			g->labels = gl;
			pane_labels_init(&gl);
			g->next_ms = now + rs[i]->group_wait_ms;
			pane_map_put(&nt->groups, g->key, key.len, g);
		}
		pane_labels_release(&gl);
		bool have = false;
		for (size_t j = 0; j < g->n && !have; j++)
			have = g->fps[j] == a->fp;
		if (!have) {
			if (g->n == g->cap) {
				g->cap = g->cap ? 2 * g->cap : 4;
				g->fps = pane_xrealloc(g->fps, g->cap * sizeof *g->fps);
			}
			g->fps[g->n++] = a->fp;
		}
		/* Alertmanager: an alert older than group_wait flushes a new group at once */
		if (!g->flushed && a->starts_ms + rs[i]->group_wait_ms < now && g->next_ms > now)
			g->next_ms = now;
	}
	pane_buf_release(&key);
}

/* The alerts that may inhibit, per inhibit rule: rebuilt only when the alert
 * store or the config changed (gen), so a flush of n alerts costs n x sources,
 * not n x all alerts. Entries that resolved since are skipped at use. */
static void inhibit_sources(struct notify *nt, int64_t now)
{
	size_t nr = nt->cfg ? nt->cfg->n_inhibits : 0;
	if (nt->src && nt->src_gen == nt->gen && nt->n_src == nr)
		return;
	for (size_t r = 0; r < nt->n_src; r++)
		pane_vec_release(&nt->src[r]);
	free(nt->src);
	nt->n_src = nr;
	nt->src = pane_xcalloc(nr + 1, sizeof *nt->src);
	for (size_t r = 0; r < nr; r++)
		pane_vec_init(&nt->src[r], sizeof(struct nalert *));
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	while (nr && pane_map_next(&nt->alerts, &pos, &k, &kl, &v)) {
		struct nalert *a = v;
		if (alert_resolved(a, now))
			continue;
		for (size_t r = 0; r < nr; r++)
			if (pane_am_matchers_match(&nt->cfg->inhibits[r].source, &a->labels))
				pane_vec_push(&nt->src[r], &a);
	}
	nt->src_gen = nt->gen;
}

bool pane_notify_inhibited_by(struct notify *nt, const struct nalert *t, int64_t now, struct pane_json *ids)
{
	if (!nt->cfg || !nt->cfg->n_inhibits)
		return false;
	inhibit_sources(nt, now);
	bool any = false;
	for (size_t r = 0; r < nt->cfg->n_inhibits; r++) {
		const struct pane_am_inhibit *ih = &nt->cfg->inhibits[r];
		if (!pane_am_matchers_match(&ih->target, &t->labels))
			continue;
		for (size_t i = 0; i < nt->src[r].len; i++) {
			const struct nalert *s = *(struct nalert **)pane_vec_at(&nt->src[r], i);
			if (s == t || alert_resolved(s, now))
				continue;
			bool eq = true;
			for (size_t e = 0; e < ih->n_equal && eq; e++) {
				const char *a = pane_labels_get(&s->labels, ih->equal[e]);
				const char *b = pane_labels_get(&t->labels, ih->equal[e]);
				eq = (!a && !b) || (a && b && !strcmp(a, b));
			}
			if (!eq)
				continue;
			if (!ids)
				return true;
			char fp[24];
			snprintf(fp, sizeof fp, "%016llx", (unsigned long long)s->fp);
			pane_json_str(ids, fp);
			any = true;
		}
	}
	return any;
}

static bool route_muted(struct notify *nt, const struct pane_am_route *rt, int64_t now)
{
	for (size_t i = 0; i < rt->n_mute; i++) {
		const struct pane_am_timeinterval *ti = pane_am_interval_find(nt->cfg, rt->mute_intervals[i]);
		if (ti && pane_am_interval_contains(ti, now))
			return true;
	}
	if (rt->n_active) {
		for (size_t i = 0; i < rt->n_active; i++) {
			const struct pane_am_timeinterval *ti = pane_am_interval_find(nt->cfg, rt->active_intervals[i]);
			if (ti && pane_am_interval_contains(ti, now))
				return false;
		}
		return true;
	}
	return false;
}

static struct job *make_notify_job(struct ngroup *g, struct nsnap *snaps, size_t n)
{
	struct job *j = pane_xcalloc(1, sizeof *j);
	j->kind = JOB_NOTIFY;
	j->group_key = pane_xstrdup(g->key);
	pane_labels_copy(&j->glabels, &g->labels);
	j->repeat_ms = g->route->repeat_interval_ms;
	j->alerts = pane_xcalloc(n + 1, sizeof *j->alerts);
	for (size_t i = 0; i < n; i++) {
		j->alerts[i] = snaps[i];
		pane_labels_copy(&j->alerts[i].labels, &snaps[i].labels);
		pane_labels_copy(&j->alerts[i].annotations, &snaps[i].annotations);
		j->alerts[i].generator_url = snaps[i].generator_url ? pane_xstrdup(snaps[i].generator_url) : NULL;
	}
	j->n = n;
	return j;
}

/* One flush: copy the group's visible alerts to every integration of its
 * receiver, drop resolved alerts from the group. Called with nt->mu held. */
static void flush_group(struct notify *nt, struct ngroup *g, int64_t now)
{
	pane_stat_inc(nt->flushes);
	struct nsnap *snaps = pane_xcalloc(g->n + 1, sizeof *snaps);
	size_t ns = 0, keep = 0;
	bool muted = route_muted(nt, g->route, now);
	for (size_t i = 0; i < g->n; i++) {
		struct nalert *a = pane_map_get(&nt->alerts, &g->fps[i], sizeof g->fps[i]);
		if (!a)
			continue;
		bool res = alert_resolved(a, now);
		if (!res)
			g->fps[keep++] = g->fps[i];
		if (muted || pane_notify_silenced_by(nt, &a->labels, now, NULL) ||
		    pane_notify_inhibited_by(nt, a, now, NULL))
			continue;
		struct nsnap *s = &snaps[ns++];
		s->fp = a->fp;
		s->labels = a->labels; /* borrowed; make_notify_job copies */
		s->annotations = a->annotations;
		s->starts_ms = a->starts_ms;
		s->ends_ms = a->ends_ms;
		s->generator_url = a->generator_url;
		s->resolved = res;
	}
	g->n = keep;
	g->flushed = true;
	g->next_ms = now + g->route->group_interval_ms;
	for (size_t i = 0; i < nt->n_integs; i++) {
		struct integ *in = nt->integs[i];
		if (strcmp(in->receiver, g->route->receiver) || !strcmp(in->kind, "alertmanager"))
			continue;
		pane_notify_integ_push(in, make_notify_job(g, snaps, ns));
	}
	free(snaps);
}

void *pane_notify_dispatcher(void *arg)
{
	struct notify *nt = arg;
	pthread_mutex_lock(&nt->mu);
	int64_t last_gc = 0;
	while (!nt->stop) {
		int64_t now = pane_wall_ms(), next = now + 1000;
		size_t pos = 0;
		const char *k;
		size_t kl;
		void *v;
		char **empty = NULL;
		size_t n_empty = 0;
		while (pane_map_next(&nt->groups, &pos, &k, &kl, &v)) {
			struct ngroup *g = v;
			if (g->next_ms <= now) {
				flush_group(nt, g, now);
				if (g->n == 0) {
					empty = pane_xrealloc(empty, (n_empty + 1) * sizeof *empty);
					empty[n_empty++] = g->key;
					continue;
				}
			}
			if (g->next_ms < next)
				next = g->next_ms;
		}
		for (size_t i = 0; i < n_empty; i++)
			pane_map_del(&nt->groups, empty[i], strlen(empty[i]));
		free(empty);
		if (now - last_gc > 60000) {
			pane_notify_gc_alerts(nt, now);
			last_gc = now;
		}
		int64_t wait = next - pane_wall_ms();
		if (wait > 0) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t ns = (int64_t)ts.tv_nsec + (wait % 1000) * 1000000;
			ts.tv_sec += (time_t)(wait / 1000 + ns / 1000000000);
			ts.tv_nsec = (long)(ns % 1000000000);
			pthread_cond_timedwait(&nt->cv, &nt->mu, &ts);
		}
	}
	pthread_mutex_unlock(&nt->mu);
	return NULL;
}

/* Regroups every alert under the current config (start, reload). nt->mu held. */
void pane_notify_regroup(struct notify *nt)
{
	nt->gen++;
	pane_map_release(&nt->groups);
	pane_map_init(&nt->groups, pane_notify_group_free);
	int64_t now = pane_wall_ms();
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	while (pane_map_next(&nt->alerts, &pos, &k, &kl, &v))
		pane_notify_route_alert(nt, v, now);
}
