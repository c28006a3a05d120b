/*
 * internal.h - what the notification files share: an alert as a
 * notification carries it (a copy), and the payload builders.
 */
#ifndef PANE_NOTIFY_INTERNAL_H
#define PANE_NOTIFY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/json.h"
#include "alert/template.h"
#include "notify/amconfig.h"
#include "pipeline/record.h"

struct nsnap {
	uint64_t fp;
	struct pane_labels labels, annotations;
	int64_t starts_ms, ends_ms;
	char *generator_url;
	bool resolved;
};

/* What one notification says (Alertmanager's template data). */
struct nmsg {
	const char *receiver;
	const char *group_key;
	const struct pane_labels *group_labels;
	const struct nsnap *alerts;
	size_t n;
	const char *external_url;
	const struct pane_tmpl_set *tmpl; /* for receiver fields written as templates; may be NULL */
};

uint64_t pane_notify_fingerprint(const struct pane_labels *ls);
/* A time as a JSON string, RFC 3339 (Go's zero time for 0), as a value of
 * a JSON writer (label sets: pane_labels_json_value). */
void pane_notify_json_time(struct pane_json *j, int64_t ms);

void pane_notify_slack_payload(struct pane_buf *b, const struct pane_am_slack *c, const struct nmsg *m);
/* trigger when anything fires, else resolve */
void pane_notify_pagerduty_payload(struct pane_buf *b, const struct pane_am_pagerduty *c, const struct nmsg *m);
void pane_notify_webhook_payload(struct pane_buf *b, const struct pane_am_webhook *c, const struct nmsg *m);
/* Alertmanager's subject: "[FIRING:2] group values (common values)" */
void pane_notify_subject(struct pane_buf *b, const struct nmsg *m);

#endif
