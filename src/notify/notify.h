/*
 * notify.h - notifications: Alertmanager's routing, grouping, inhibition,
 * silences and receivers inside `pane serve`, and its v2 API.
 *
 * pane_notify_attach (step 7 in serve.c) reads `alerting:`, opens the
 * notification log in the data directory, adds the /api/v2 routes and sets s->alerts
 * to a sink the rules send to. `pane alerts` is the command line side.
 */
#ifndef PANE_NOTIFY_NOTIFY_H
#define PANE_NOTIFY_NOTIFY_H

#include "base/err.h"

struct pane_host;

int pane_notify_attach(struct pane_host *s, struct pane_err *err);

/* `pane alerts list | silence add|list|expire | routes test` */
int pane_cmd_alerts(int argc, char **argv);

#endif
