/*
 * amconfig.h - Alertmanager 0.25's configuration (route tree, inhibit rules,
 * receivers) read from pane's YAML tree; its label matchers are
 * pipeline/labelmatch.h.
 *
 * The same keys work inline under `alerting:` in pane.yaml or in an
 * alertmanager.yml named by `alerting: {config_file: ...}`. Errors name the
 * file and line. Parts that pane cannot honour yet are refused by name, never
 * silently ignored.
 */
#ifndef PANE_NOTIFY_AMCONFIG_H
#define PANE_NOTIFY_AMCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/labelmatch.h"
#include "pipeline/record.h"

struct pane_cfg;
struct pane_cfg_node;

struct pane_am_route {
	char *receiver;
	struct pane_am_matchers matchers;
	bool cont;
	bool group_by_all; /* group_by: ['...'] */
	char **group_by;   /* sorted */
	size_t n_group_by;
	int64_t group_wait_ms, group_interval_ms, repeat_interval_ms;
	char **mute_intervals, **active_intervals;
	size_t n_mute, n_active;
	struct pane_am_route *routes;
	size_t n_routes;
	char *key; /* Alertmanager's route key: "{}/{a=\"b\"}/..." plus the index when needed */
	int line;
	const struct pane_cfg_node *receiver_node; /* for messages; valid only while loading */
};

/* http_config (Prometheus' HTTPClientConfig), the parts pane's HTTP client
 * honours; everything else is refused when the config loads. Secrets
 * (bearer, credentials, basic password) are plain text here and masked
 * wherever the configuration is printed. */
/* http_config.oauth2: the client credentials grant (RFC 6749 4.4) */
struct pane_am_oauth2 {
	char *client_id, *client_secret, *token_url;
	char *params; /* "&scope=a%20b&k=v": scopes and endpoint_params, form-encoded; "" when none */
};

struct pane_am_http {
	bool follow_redirects;  /* default true, as Alertmanager's */
	char *auth_type;        /* authorization.type ("Bearer" when credentials come alone) */
	char *auth_credentials; /* bearer_token or authorization.credentials; NULL: none */
	char *basic_user, *basic_pass;
	struct pane_am_oauth2 *oauth2; /* NULL: none */
	char *proxy_url;
	char *no_proxy;       /* with proxy_url: hosts reached directly */
	char **proxy_headers; /* proxy_connect_header as "Name: value" lines, NULL-terminated */
	size_t n_proxy_headers;
	bool proxy_from_environment; /* without proxy_url: HTTP(S)_PROXY/NO_PROXY (else no proxy) */
	bool enable_http2;           /* default true, as Alertmanager's */
	char *ca_file;
	char *cert_file, *key_file; /* a client certificate: both or neither */
	char *ca, *cert, *key;      /* the same as PEM text (key: a secret) */
	int tls_min_version;        /* 10..13 for TLS10..TLS13; 0: not set */
	int tls_max_version;
	bool insecure_skip_verify;
};

/* Text fields are Go templates over Alertmanager's notification data
 * (alert/template.h); NULL: pane's own default text for that field. */
struct pane_am_slack_field {
	char *title, *value; /* templates, both required */
	int is_short;        /* -1: not set (short_fields decides), else 0/1 */
};

struct pane_am_slack_action {
	char *type, *text, *url, *style, *name, *value; /* templates; url XOR name, as Alertmanager */
	bool has_confirm;
	char *confirm_title, *confirm_text, *confirm_ok_text, *confirm_dismiss_text;
};

struct pane_am_slack {
	char *api_url, *channel, *username, *icon_emoji, *icon_url, *title, *text, *color;
	bool send_resolved;
	char *pretext, *title_link, *fallback, *footer;
	char *image_url, *thumb_url, *callback_id;
	bool short_fields, link_names;
	char **mrkdwn_in; /* n_mrkdwn_in == 0: Alertmanager's default [fallback, pretext, text] */
	size_t n_mrkdwn_in;
	struct pane_am_slack_field *fields;
	size_t n_fields;
	struct pane_am_slack_action *actions;
	size_t n_actions;
	struct pane_am_http http;
};

/* PagerDuty details: name -> template, sorted by name (as Go encodes a map) */
struct pane_am_kv {
	char *name, *value;
};
struct pane_am_pd_link {
	char *href, *text;
};
struct pane_am_pd_image {
	char *src, *alt, *href;
};

struct pane_am_pagerduty {
	char *routing_key, *url, *client, *client_url, *description, *severity, *class, *component, *group;
	bool send_resolved;
	char *source;
	/* n_details == 0: pane's structured custom_details; otherwise Alertmanager's
	 * defaults (firing, resolved, num_firing, num_resolved) merged under the
	 * user's, each a template rendered to a string */
	struct pane_am_kv *details;
	size_t n_details;
	bool has_links, has_images; /* set: these replace pane's default links */
	struct pane_am_pd_link *links;
	size_t n_links;
	struct pane_am_pd_image *images;
	size_t n_images;
	struct pane_am_http http;
};

struct pane_am_webhook {
	char *url; /* url, or url_file's content */
	bool send_resolved;
	int64_t max_alerts;
	struct pane_am_http http;
};

struct pane_am_receiver {
	char *name;
	struct pane_am_slack *slack;
	size_t n_slack;
	struct pane_am_pagerduty *pagerduty;
	size_t n_pagerduty;
	struct pane_am_webhook *webhook;
	size_t n_webhook;
};

struct pane_am_inhibit {
	struct pane_am_matchers source, target;
	char **equal;
	size_t n_equal;
};

/* One time range of a time interval (Alertmanager's TimeInterval): each
 * list empty means "any". Minutes of the day [start, end); weekdays 0=Sunday;
 * days of month 1..31 or negative from the end; months 1..12. */
struct pane_am_range {
	int lo, hi;
};
struct pane_tz;
struct pane_tmpl_set;
struct pane_am_timeint {
	struct pane_am_range *times, *weekdays, *days, *months, *years;
	size_t n_times, n_weekdays, n_days, n_months, n_years;
	struct pane_tz *tz; /* location (notify/tz.h); NULL: UTC */
};
struct pane_am_timeinterval {
	char *name;
	struct pane_am_timeint *v;
	size_t n;
};

struct pane_am_forward {
	char *url; /* base URL of an Alertmanager: alerts go to <url>/api/v2/alerts */
};

struct pane_am_config {
	int64_t resolve_timeout_ms;
	struct pane_am_route route;
	struct pane_am_receiver *receivers;
	size_t n_receivers;
	struct pane_am_inhibit *inhibits;
	size_t n_inhibits;
	struct pane_am_timeinterval *intervals;
	size_t n_intervals;
	/* pane's own keys under alerting: */
	struct pane_am_forward *forward;
	size_t n_forward;
	char *external_url;         /* links in messages point here (default http://<listen>) */
	int64_t give_up_ms;         /* stop retrying a notification after this long */
	char *original;             /* the Alertmanager part as YAML (secrets masked), for /api/v2/status */
	char *file;                 /* where it came from (for messages) */
	struct pane_tmpl_set *tmpl; /* Alertmanager's default templates plus `templates:` files */
	bool enabled;               /* an alerting: section (or config_file) exists */
};

/* Reads `alerting:` (node may be NULL: notifications off, an empty config).
 * cfg is pane.yaml's tree (for file:line and the config_file's directory). */
struct pane_am_config *pane_am_config_load(const struct pane_cfg *cfg, const struct pane_cfg_node *node,
                                           struct pane_err *err);
/* Reads a whole Alertmanager file (for `pane alerts routes test --config.file`). */
struct pane_am_config *pane_am_config_load_file(const char *path, struct pane_err *err);
void pane_am_config_free(struct pane_am_config *c);

/* Deep copies (the notifier keeps its own across reloads) and their release;
 * release leaves the struct zeroed. */
void pane_am_http_copy(struct pane_am_http *dst, const struct pane_am_http *src);
void pane_am_http_release(struct pane_am_http *h);
/* A copy of o (NULL for NULL); pane_am_oauth2_free(NULL) is a no-op. */
struct pane_am_oauth2 *pane_am_oauth2_dup(const struct pane_am_oauth2 *o);
void pane_am_oauth2_free(struct pane_am_oauth2 *o);
void pane_am_slack_copy(struct pane_am_slack *dst, const struct pane_am_slack *src);
void pane_am_slack_release(struct pane_am_slack *s);
void pane_am_pagerduty_copy(struct pane_am_pagerduty *dst, const struct pane_am_pagerduty *src);
void pane_am_pagerduty_release(struct pane_am_pagerduty *p);

const struct pane_am_receiver *pane_am_receiver_find(const struct pane_am_config *c, const char *name);
const struct pane_am_timeinterval *pane_am_interval_find(const struct pane_am_config *c, const char *name);
/* True when t (Unix ms, UTC) falls in the interval. */
bool pane_am_interval_contains(const struct pane_am_timeinterval *ti, int64_t t_ms);

/* The routes an alert with labels ls reaches (Alertmanager's Route.Match):
 * fills out with up to max routes, returns how many there are. */
size_t pane_am_route_match(const struct pane_am_route *root, const struct pane_labels *ls,
                           const struct pane_am_route **out, size_t max);

#endif
