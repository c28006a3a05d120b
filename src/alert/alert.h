/*
 * alert.h - an alert as the rules hand it to notifications: the seam between
 * src/alert (rule evaluation: when is an alert pending, firing, resolved) and
 * src/notify (routing, grouping, silences, receivers).
 *
 * The shape is Alertmanager's postable alert, because that is what both
 * sides already speak: the rules send what Prometheus would POST to
 * /api/v2/alerts, and notifications treat a batch from this seam exactly like
 * a batch from that endpoint.
 *
 * Semantics (Alertmanager's): an alert is identified by its label set. While
 * firing, the rules resend it every evaluation (at most once per resend
 * delay, 1 m) with ends_at = the time it stays valid without news
 * (Prometheus: evaluation time + 4 x max(resend delay, group interval)); once
 * resolved they send it with ends_at = the resolve time, and keep resending
 * that for 15 minutes. An alert whose ends_at has passed is resolved.
 *
 * Ownership: everything is borrowed for the duration of one send call, as
 * with records (pipeline/record.h); a sink that keeps anything copies it.
 */
#ifndef PANE_ALERT_ALERT_H
#define PANE_ALERT_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/record.h"

struct pane_alert {
	const struct pane_labels *labels;      /* alertname, the rule's labels and the series' (sorted) */
	const struct pane_labels *annotations; /* templates already expanded; may be empty */
	int64_t starts_at_ms;                  /* when it went pending->firing (Unix ms) */
	int64_t ends_at_ms;                    /* resolved: the resolve time; firing: valid-until */
	const char *generator_url;             /* a link back to the rule's expression; may be NULL */
};

struct pane_alert_sink {
	void *ctx;
	/* Takes a batch of alerts. Must return quickly: it queues, it never waits
	 * on a receiver or the network. */
	void (*send)(void *ctx, const struct pane_alert *alerts, size_t n);
};

#endif
