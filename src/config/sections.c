/*
 * sections.c - the top-level sections pane.yaml may have.
 *
 * Each part binds its own section; this list exists so that a misspelt
 * section ("sourcse:") is an error at start rather than silently ignored.
 * A part that adds a section adds one row here.
 */
#include "config/sections.h"

#include <string.h>

#include "base/buf.h"

static const char *const sections[] = {
    "server",    /* src/serve: listen address, data directory, threads, limits */
    "log",       /* logging level and format */
    "queue",     /* src/queue: schema, retention, queues */
    "auth",      /* src/http: bearer tokens and open endpoints */
    "uploads",   /* src/api: upload directory, limits, retention */
    "store",     /* src/store: retention, limits */
    "receivers", /* src/receivers: statsd, otlp, remote_write, loki push */
    "scrape",    /* src/receivers: Prometheus scrape targets */
    "sources",   /* src/sources: postgres, supabase, render, sentry, sql */
    "query",     /* src/api: PromQL limits; src/remote: backend (remote query backend) */
    "rules",     /* src/alert: rule files, evaluation interval, external labels/URL */
    "alerting",  /* src/notify: Alertmanager routes, receivers, silences (or config_file) */
    "outputs",   /* src/outputs: remote_write and Loki push out, durable queues */
    NULL,
};

/* Sections people write that nothing reads: refused with what to do
 * instead, rather than accepted and ignored. */
static const struct {
	const char *name, *why;
} not_sections[] = {
    {"database", "PostgreSQL is not configured here: set DATABASE_URL (pane migrate and pane worker also take "
                 "--database-url)"},
    {"worker", "workers are not configured here: pass options to `pane worker` (see pane worker --help)"},
    {"alerts", "alert rules are configured under rules: (rule files) and notifications under alerting: "
               "(docs/rules.md, docs/alerting.md)"},
    {"notifiers", "notifications are configured under alerting:, in Alertmanager's format (docs/alerting.md)"},
};

int pane_cfg_check_sections(const struct pane_cfg *cfg, struct pane_err *err)
{
	const struct pane_cfg_node *root = cfg->root;
	for (size_t i = 0; i < root->n_items; i++) {
		const struct pane_cfg_node *n = root->items[i];
		bool known = false;
		for (size_t j = 0; sections[j] && !known; j++)
			known = strcmp(sections[j], n->key) == 0;
		for (size_t j = 0; !known && j < sizeof not_sections / sizeof not_sections[0]; j++)
			if (strcmp(not_sections[j].name, n->key) == 0)
				return pane_cfg_error(cfg, n, err, "%s", not_sections[j].why);
		if (!known) {
			struct pane_buf b;
			pane_buf_init(&b, 1024);
			for (size_t j = 0; sections[j]; j++)
				pane_buf_addf(&b, "%s%s", j ? ", " : "", sections[j]);
			int rc = pane_cfg_error(cfg, n, err, "unknown section (known sections: %s)", b.data);
			pane_buf_release(&b);
			return rc;
		}
	}
	return 0;
}
