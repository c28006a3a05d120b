/*
 * notify.c - Alertmanager's dispatcher inside pane: alerts in, notifications
 * out, exactly once per change. This file is its life cycle: attach,
 * reload, stop; the rest of the part is one idea a file.
 *
 * Idea (Alertmanager 0.25's design, written anew):
 *  - an alert store keyed by fingerprint (the label set's hash) takes alerts
 *    from the rules (s->alerts) and from POST /api/v2/alerts (alerts.c);
 *  - each alert is routed through the tree; every matching route puts it in
 *    an aggregation group (route + group_by values), flushed by one
 *    dispatcher thread after group_wait, then every group_interval; a flush
 *    drops silenced (silence.c), inhibited and time-muted alerts and hands a
 *    copy of the rest to the receiver's integrations (dispatch.c);
 *  - every integration has its own queue and thread, so a slow or dead
 *    Slack never delays PagerDuty, another receiver or rule evaluation;
 *    before sending it asks the notification log whether anything changed
 *    since the last success for that group - Alertmanager's DedupStage
 *    (integ.c, bodies in msg.c);
 *  - the notification log, alerts and silences live in DATA_DIR/notify.db
 *    (db.c); Alertmanager's /api/v2 is amapi.c; deploys become PagerDuty
 *    change events (changes.c); the configuration is amconfig.c.
 * The state they share, and its locking rule, is notify_internal.h: one
 * mutex guards alerts, groups, silences and the config; sends happen
 * outside it.
 *
 * Life cycle: attach loads the config and notify.db, builds and starts the
 * integrations, regroups the loaded alerts, starts the dispatcher, then
 * sets s->alerts and adds the routes. A reload builds the new integrations
 * outside the lock, swaps config and integrations under it, regroups, and
 * frees the old ones after (joined first: they borrow the old templates).
 * Stop detaches the events sink, joins the dispatcher, then the
 * integrations, and frees the rest.
 */
#include "notify/notify.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/stats.h"
#include "base/vec.h"
#include "config/config.h"
#include "notify/amconfig.h"
#include "notify/notify_internal.h"
#include "host/host.h"

static int on_reload(void *arg, const struct pane_cfg *cfg, struct pane_err *err)
{
	struct notify *nt = arg;
	struct pane_am_config *c = pane_am_config_load(cfg, pane_cfg_get(cfg->root, "alerting"), err);
	if (!c)
		return PANE_EINVAL;
	struct integ **v;
	size_t n;
	pane_notify_integs_build(nt, c, &v, &n);
	pthread_mutex_lock(&nt->mu);
	struct pane_am_config *old = nt->cfg;
	struct integ **ov = nt->integs;
	size_t on = nt->n_integs;
	nt->cfg = c;
	nt->integs = v;
	nt->n_integs = n;
	pane_notify_regroup(nt);
	pane_notify_integs_start(v, n);
	pthread_cond_signal(&nt->cv);
	pthread_mutex_unlock(&nt->mu);
	for (size_t i = 0; i < on; i++)
		pane_notify_integ_free(ov[i]);
	free(ov);
	pane_am_config_free(old);
	pane_info("notify", "alerting config reloaded");
	return 0;
}

static void on_stop(void *arg)
{
	struct notify *nt = arg;
	pane_notify_changes_detach(nt);
	pthread_mutex_lock(&nt->mu);
	nt->stop = true;
	pthread_cond_signal(&nt->cv);
	pthread_mutex_unlock(&nt->mu);
	if (nt->th_started)
		pthread_join(nt->th, NULL);
	for (size_t i = 0; i < nt->n_integs; i++)
		pane_notify_integ_free(nt->integs[i]);
	free(nt->integs);
	if (nt->s && nt->s->alerts == &nt->sink)
		nt->s->alerts = NULL;
	for (size_t r = 0; r < nt->n_src; r++)
		pane_vec_release(&nt->src[r]);
	free(nt->src);
	pane_map_release(&nt->groups);
	pane_map_release(&nt->alerts);
	for (size_t i = 0; i < nt->n_sil; i++)
		pane_notify_silence_free(nt->sil[i]);
	free(nt->sil);
	pane_am_config_free(nt->cfg);
	sqlite3_close(nt->db);
	free(nt->external_url);
	pthread_mutex_destroy(&nt->mu);
	pthread_cond_destroy(&nt->cv);
	pthread_mutex_destroy(&nt->db_mu);
	free(nt);
}

int pane_notify_attach(struct pane_host *s, struct pane_err *err)
{
	struct pane_am_config *c = pane_am_config_load(s->cfg, pane_cfg_get(s->cfg->root, "alerting"), err);
	if (!c)
		return PANE_EINVAL;
	struct notify *nt = pane_xcalloc(1, sizeof *nt);
	pthread_mutex_init(&nt->mu, NULL);
	pthread_cond_init(&nt->cv, NULL);
	pthread_mutex_init(&nt->db_mu, NULL);
	pane_map_init(&nt->alerts, pane_notify_alert_free);
	pane_map_init(&nt->groups, pane_notify_group_free);
	nt->s = s;
	nt->cfg = c;
	nt->stats = s->stats;
	nt->started_ms = pane_wall_ms();
	nt->flushes = pane_stats_counter(s->stats, "pane_notification_group_flushes_total", NULL,
	                                 "aggregation group flushes (each may notify)");
	if (pane_notify_db_open(nt, s->data_dir, err) < 0) {
		on_stop(nt);
		return PANE_EDB;
	}
	pane_notify_db_load(nt);
	pane_notify_integs_build(nt, c, &nt->integs, &nt->n_integs);
	pane_notify_regroup(nt);
	pane_notify_integs_start(nt->integs, nt->n_integs);
	if (pthread_create(&nt->th, NULL, pane_notify_dispatcher, nt) != 0) {
		on_stop(nt);
		return pane_err_set(err, PANE_EIO, "cannot start the notification dispatcher");
	}
	nt->th_started = true;
	nt->sink = (struct pane_alert_sink){.ctx = nt, .send = pane_notify_sink_send};
	s->alerts = &nt->sink;
	pane_notify_changes_attach(nt);
	pane_notify_api_routes(nt, s->http);
	pane_host_on_reload(s, on_reload, nt);
	pane_host_on_stop(s, on_stop, nt);
	return 0;
}
