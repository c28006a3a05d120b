/*
 * attach_internal.h - what attach.c (rule groups in the daemon: threads,
 * reload, alerts to notifications) and rules_api.c (/api/v1/rules and
 * /api/v1/alerts) share: the running rules' state. No other file includes
 * it (the seam is alert/attach.h).
 *
 * Locking: state->mu guards rules, threads and cfg (a reload swaps them
 * under it); each group's own mutex guards what its thread evaluates.
 */
#ifndef PANE_ALERT_ATTACH_INTERNAL_H
#define PANE_ALERT_ATTACH_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert/rules.h"
#include "base/stats.h"
#include "config/config.h"
#include "pipeline/reader.h"
#include "pipeline/record.h"

struct pane_host;
struct pane_http_server;

struct rules_cfg {
	struct pane_cfg_strlist files;
	int64_t evaluation_interval_ms;
	char *external_url;
	int64_t resend_delay_ms;
};

struct group_thread {
	struct rules_state *st;
	struct pane_rule_group *g;
	pthread_t tid;
	bool started;
	bool first; /* next evaluation is the first since start: restore for state */
};

struct rules_state {
	struct pane_host *s;
	struct pane_reader reader;
	pthread_mutex_t mu;  /* rules, threads, cfg */
	pthread_cond_t cond; /* stop signal for group threads */
	bool stopping;
	struct pane_rules *rules;
	struct group_thread *threads;
	size_t n_threads;
	struct rules_cfg cfg;
	struct pane_labels ext;
	struct pane_stats *stats;
};

/* The group's evaluation interval: its own, else the config's. */
int64_t rules_group_interval(const struct rules_state *st, const struct pane_rule_group *g);
/* Adds GET /api/v1/rules and /api/v1/alerts (rules_api.c). */
void rules_api_routes(struct rules_state *st, struct pane_http_server *http);

#endif
