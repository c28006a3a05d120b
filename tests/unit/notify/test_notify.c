/* test_notify.c - notifications without a daemon: Alertmanager's matcher
 * syntax, the route tree (continue, inheritance, '...'), time intervals,
 * fingerprints, and the Slack/PagerDuty/webhook bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert/template.h"
#include "base/clock.h"
#include "base/str.h"
#include "config/config.h"
#include "notify/amconfig.h"
#include "notify/internal.h"
#include "notify/tz.h"

#include <time.h>

static void labels(struct pane_labels *ls, const char *const *kv)
{
	pane_labels_init(ls);
	for (; kv[0]; kv += 2)
		pane_labels_set(ls, kv[0], kv[1]);
}

static void test_matchers(void **state)
{
	(void)state;
	struct pane_am_matchers ms = {0};
	struct pane_err err = {0};
	assert_int_equal(
	    pane_am_matchers_parse(&ms, "{alertname=\"Disk \\\"full\\\"\", sev=~\"crit.*\",team!=ops, x!~a|b}", &err),
	    0);
	assert_int_equal(ms.n, 4);
	assert_string_equal(ms.v[0].value, "Disk \"full\"");
	assert_int_equal(ms.v[1].op, PANE_AM_RE);
	assert_int_equal(ms.v[2].op, PANE_AM_NE);
	assert_string_equal(ms.v[2].value, "ops");
	assert_int_equal(ms.v[3].op, PANE_AM_NRE);
	/* regexes are anchored */
	assert_true(pane_am_matcher_matches(&ms.v[1], "critical"));
	assert_false(pane_am_matcher_matches(&ms.v[1], "xcritical"));
	/* a missing label is the empty value */
	assert_true(pane_am_matcher_matches(&ms.v[2], NULL));
	pane_am_matchers_release(&ms);
	assert_true(pane_am_matchers_parse(&ms, "a=~\"((\"", &err) < 0);
	assert_non_null(strstr(err.msg, "regular expression"));
	pane_am_matchers_release(&ms);
	assert_true(pane_am_matchers_parse(&ms, "{a=\"b\"", &err) < 0);
	pane_am_matchers_release(&ms);
	assert_true(pane_am_matchers_parse(&ms, "=b", &err) < 0);
	pane_am_matchers_release(&ms);
	assert_true(pane_am_matchers_parse(&ms, "a==b c", &err) < 0 || ms.n == 1);
	pane_am_matchers_release(&ms);
}

static const char am_yaml[] = "alerting:\n"
                              "  route:\n"
                              "    receiver: default\n"
                              "    group_by: [service, alertname]\n"
                              "    group_wait: 5s\n"
                              "    routes:\n"
                              "      - matchers: ['service=~\"db|cache\"']\n"
                              "        receiver: database\n"
                              "        continue: true\n"
                              "        group_interval: 1m\n"
                              "        routes:\n"
                              "          - match: {severity: critical}\n"
                              "            receiver: db-pager\n"
                              "      - match_re: {service: ^(db|api)$}\n"
                              "        receiver: backend\n"
                              "        group_by: ['...']\n"
                              "        mute_time_intervals: [nights]\n"
                              "  receivers:\n"
                              "    - name: default\n"
                              "    - name: database\n"
                              "    - name: db-pager\n"
                              "    - name: backend\n"
                              "  time_intervals:\n"
                              "    - name: nights\n"
                              "      time_intervals:\n"
                              "        - times: [{start_time: '22:00', end_time: '24:00'}]\n"
                              "          weekdays: ['monday:friday']\n";

static struct pane_am_config *load(const char *yaml, struct pane_err *err)
{
	struct pane_cfg *cfg = pane_cfg_parse("t.yaml", yaml, strlen(yaml), err);
	if (!cfg)
		fail_msg("%s", err->msg);
	struct pane_am_config *c = pane_am_config_load(cfg, pane_cfg_get(cfg->root, "alerting"), err);
	pane_cfg_free(cfg);
	return c;
}

static void test_routes(void **state)
{
	(void)state;
	struct pane_err err = {0};
	struct pane_am_config *c = load(am_yaml, &err);
	assert_non_null(c);
	struct pane_labels ls;
	const struct pane_am_route *rs[8];
	labels(&ls, (const char *const[]){"service", "db", "severity", "critical", NULL});
	assert_int_equal(pane_am_route_match(&c->route, &ls, rs, 8), 2);
	assert_string_equal(rs[0]->receiver, "db-pager");
	assert_string_equal(rs[1]->receiver, "backend");
	/* inherited from the parent: group_by, group_wait; own group_interval */
	assert_int_equal(rs[0]->n_group_by, 2);
	assert_string_equal(rs[0]->group_by[0], "alertname"); /* sorted */
	assert_int_equal(rs[0]->group_wait_ms, 5000);
	assert_int_equal(rs[0]->group_interval_ms, 60000);
	assert_int_equal(rs[0]->repeat_interval_ms, 4 * 3600000);
	assert_true(rs[1]->group_by_all);
	pane_labels_release(&ls);
	labels(&ls, (const char *const[]){"service", "web", NULL});
	assert_int_equal(pane_am_route_match(&c->route, &ls, rs, 8), 1);
	assert_string_equal(rs[0]->receiver, "default");
	pane_labels_release(&ls);
	/* nights: Monday 2026-11-30 23:00 UTC is in, 21:59 is not, Saturday is not */
	const struct pane_am_timeinterval *ti = pane_am_interval_find(c, "nights");
	assert_non_null(ti);
	int64_t mon;
	assert_int_equal(pane_time_parse(pane_str_c("2026-11-30T23:00:00Z"), &mon), 0);
	assert_true(pane_am_interval_contains(ti, mon));
	assert_false(pane_am_interval_contains(ti, mon - 61 * 60000));
	assert_false(pane_am_interval_contains(ti, mon + 5 * 86400000LL));
	pane_am_config_free(c);
}

static void test_config_errors(void **state)
{
	(void)state;
	struct pane_err err = {0};
	assert_null(load(
	    "alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      opsgenie_configs: []\n", &err));
	assert_non_null(strstr(err.msg, "t.yaml:6:"));
	assert_non_null(strstr(err.msg, "not supported"));
	assert_null(load(
	    "alerting:\n  route:\n    receiver: a\n    mute_time_intervals: [x]\n  receivers:\n    - name: a\n", &err));
	assert_non_null(strstr(err.msg, "root route cannot have mute"));
	assert_null(load("alerting:\n  route:\n    receiver: a\n    routes:\n      - receiver: a\n        "
	                 "mute_time_intervals: [x]\n  receivers:\n    - name: a\n",
	                 &err));
	assert_non_null(strstr(err.msg, "'x' is not defined"));
	assert_null(load(
	    "alerting:\n  route:\n    receiver: a\n    group_by: [a, '...']\n  receivers:\n    - name: a\n", &err));
	assert_non_null(strstr(err.msg, "t.yaml:4:"));
	assert_null(load("alerting:\n  receivers:\n    - name: a\n    - name: a\n  route:\n    receiver: a\n", &err));
	assert_non_null(strstr(err.msg, "defined twice"));
	assert_null(load("alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      "
	                 "pagerduty_configs:\n        - service_key: x\n",
	                 &err));
	assert_non_null(strstr(err.msg, "routing_key"));
	/* templates: files (a glob matching nothing is fine, as in Alertmanager); a bad file or a
	 * field that does not parse is refused with file:line */
	char dir[] = "/tmp/pane-tmplXXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], yaml[512];
	snprintf(path, sizeof path, "%s/a.tmpl", dir);
	FILE *f = fopen(path, "w");
	fputs("{{ define \"my.title\" }}{{ .Receiver }}: {{ .Alerts | len }}{{ end }}\n", f);
	fclose(f);
	snprintf(yaml, sizeof yaml,
	         "alerting:\n  route:\n    receiver: a\n  templates: ['%s/*.tmpl', 'none/*.tmpl']\n  receivers:\n"
	         "    - name: a\n      slack_configs:\n        - api_url: ${SLACK_URL}\n"
	         "          title: '{{ template \"my.title\" . }}'\n",
	         dir);
	setenv("SLACK_URL", "http://127.0.0.1:9/x", 1);
	struct pane_am_config *tc = load(yaml, &err);
	if (!tc)
		fail_msg("%s", err.msg);
	struct pane_tmpl_am_data td = {.receiver = "a", .status = "firing"};
	struct pane_buf tout;
	pane_buf_init(&tout, PANE_BUF_NOLIMIT);
	assert_int_equal(pane_tmpl_am_expand(tc->tmpl, "title", tc->receivers[0].slack[0].title, &td, &tout, &err), 0);
	assert_string_equal(tout.data, "a: 0");
	pane_buf_release(&tout);
	pane_am_config_free(tc);
	f = fopen(path, "w");
	fputs("{{ define \"x\" }}{{ humanize 1 }}{{ end }}\n", f);
	fclose(f);
	assert_null(load(yaml, &err));
	assert_non_null(strstr(err.msg, "t.yaml:4:"));
	assert_non_null(strstr(err.msg, "function \"humanize\" not defined"));
	unlink(path);
	rmdir(dir);
	assert_null(load("alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      slack_configs:\n"
	                 "        - api_url: ${SLACK_URL}\n          text: '{{ if .Status }}'\n",
	                 &err));
	assert_non_null(strstr(err.msg, "t.yaml:8:"));
	assert_non_null(strstr(err.msg, "unexpected EOF"));
	assert_null(load("alerting:\n  bogus: 1\n", &err));
	assert_non_null(strstr(err.msg, "unknown key"));
	/* secrets inline in pane.yaml only from the environment */
	assert_null(load("alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      slack_configs:\n    "
	                 "    - api_url: https://hooks.slack.com/services/T/B/x\n",
	                 &err));
	assert_non_null(strstr(err.msg, "t.yaml:7:"));
	assert_non_null(strstr(err.msg, "a secret"));
	setenv("PANE_TEST_SLACK_URL", "https://hooks.slack.com/services/T/B/x", 1);
	struct pane_am_config *sc = load("alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      "
	                                 "slack_configs:\n        - api_url: ${PANE_TEST_SLACK_URL}\n",
	                                 &err);
	assert_non_null(sc);
	assert_string_equal(sc->receivers[0].slack[0].api_url, "https://hooks.slack.com/services/T/B/x");
	assert_null(strstr(sc->original, "hooks.slack.com"));
	pane_am_config_free(sc);
	/* no alerting section: an empty, disabled config */
	struct pane_am_config *c = load("server: {}\n", &err);
	assert_non_null(c);
	assert_false(c->enabled);
	pane_am_config_free(c);
}

static void test_example(void **state)
{
	(void)state;
	const char *root = getenv("PANE_SOURCE_ROOT");
	char path[4096];
	snprintf(path, sizeof path, "%s/examples/alertmanager.yml", root ? root : ".");
	struct pane_err err = {0};
	struct pane_am_config *c = pane_am_config_load_file(path, &err);
	if (!c)
		fail_msg("%s", err.msg);
	assert_int_equal(c->n_receivers, 4);
	assert_int_equal(c->route.n_routes, 3);
	pane_am_config_free(c);
}

static void test_fingerprint(void **state)
{
	(void)state;
	struct pane_labels ls;
	pane_labels_init(&ls);
	/* Prometheus: the empty label set hashes to FNV-1a's offset basis */
	assert_true(pane_notify_fingerprint(&ls) == 0xcbf29ce484222325ull);
	labels(&ls, (const char *const[]){"a", "1", "b", "2", NULL});
	struct pane_labels ls2;
	labels(&ls2, (const char *const[]){"b", "2", "a", "1", NULL});
	assert_true(pane_notify_fingerprint(&ls) == pane_notify_fingerprint(&ls2));
	pane_labels_release(&ls2);
	labels(&ls2, (const char *const[]){"a", "12", NULL});
	assert_true(pane_notify_fingerprint(&ls) != pane_notify_fingerprint(&ls2));
	pane_labels_release(&ls);
	pane_labels_release(&ls2);
}

static void test_payloads(void **state)
{
	(void)state;
	struct nsnap a[2] = {0};
	labels(&a[0].labels, (const char *const[]){"alertname", "Disk", "severity", "warning", "host", "a", NULL});
	labels(&a[0].annotations, (const char *const[]){"summary", "disk 91% full", NULL});
	labels(&a[1].labels, (const char *const[]){"alertname", "Disk", "severity", "critical", "host", "b", NULL});
	pane_labels_init(&a[1].annotations);
	a[0].starts_ms = a[1].starts_ms = 1764333296000;
	a[1].resolved = true;
	a[1].ends_ms = 1764333396000;
	struct pane_labels gl;
	labels(&gl, (const char *const[]){"alertname", "Disk", NULL});
	struct nmsg m = {.receiver = "ops team",
	                 .group_key = "{}:{alertname=\"Disk\"}",
	                 .group_labels = &gl,
	                 .alerts = a,
	                 .n = 2,
	                 .external_url = "http://pane:8080"};
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_notify_subject(&b, &m);
	assert_string_equal(b.data, "[FIRING:1] Disk");
	pane_buf_reset(&b);
	struct pane_am_slack sc = {.api_url = "x", .channel = "#ops"};
	pane_notify_slack_payload(&b, &sc, &m);
	json_t *j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	json_t *att = json_array_get(json_object_get(j, "attachments"), 0);
	assert_string_equal(json_string_value(json_object_get(att, "title_link")),
	                    "http://pane:8080/alerts?receiver=ops%20team");
	assert_string_equal(json_string_value(json_object_get(att, "color")), "danger");
	assert_non_null(strstr(json_string_value(json_object_get(att, "text")), "disk 91% full"));
	assert_non_null(strstr(json_string_value(json_object_get(att, "text")), "*Resolved*"));
	json_decref(j);
	pane_buf_reset(&b);
	struct pane_am_pagerduty pc = {.routing_key = "0123456789abcdef0123456789abcdef", .url = "x"};
	pane_notify_pagerduty_payload(&b, &pc, &m);
	j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "event_action")), "trigger");
	assert_int_equal(strlen(json_string_value(json_object_get(j, "dedup_key"))), 64);
	char *trigger_key = strdup(json_string_value(json_object_get(j, "dedup_key")));
	/* severity from the firing alerts' labels when the config sets none */
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "payload"), "severity")), "warning");
	json_decref(j);
	pane_buf_reset(&b);
	struct pane_am_webhook wc = {.url = "x", .max_alerts = 1};
	pane_notify_webhook_payload(&b, &wc, &m);
	j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "version")), "4");
	assert_int_equal(json_integer_value(json_object_get(j, "truncatedAlerts")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "alerts")), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "commonLabels"), "alertname")),
	                    "Disk");
	assert_null(json_object_get(json_object_get(j, "commonLabels"), "host"));
	json_decref(j);
	/* all resolved: a PagerDuty resolve with the same key, and (as
	 * Alertmanager's) the payload: the resolved summary, the severity the
	 * alerts had, the details of the resolved alerts */
	a[0].resolved = true;
	a[0].ends_ms = a[1].ends_ms;
	pane_buf_reset(&b);
	pane_notify_pagerduty_payload(&b, &pc, &m);
	j = json_loads(b.data, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "event_action")), "resolve");
	assert_string_equal(json_string_value(json_object_get(j, "dedup_key")), trigger_key);
	json_t *pl = json_object_get(j, "payload");
	assert_string_equal(json_string_value(json_object_get(pl, "summary")), "[RESOLVED] Disk");
	assert_string_equal(json_string_value(json_object_get(pl, "severity")), "critical");
	json_t *cd = json_object_get(pl, "custom_details");
	assert_int_equal(json_integer_value(json_object_get(cd, "num_resolved")), 2);
	assert_int_equal(json_array_size(json_object_get(cd, "firing")), 0);
	assert_int_equal(json_array_size(json_object_get(cd, "resolved")), 2);
	assert_string_equal(json_string_value(json_object_get(j, "client")), "pane");
	json_decref(j);
	free(trigger_key);
	pane_buf_reset(&b);
	pane_notify_subject(&b, &m);
	assert_string_equal(b.data, "[RESOLVED] Disk");
	pane_buf_release(&b);
	for (int i = 0; i < 2; i++) {
		pane_labels_release(&a[i].labels);
		pane_labels_release(&a[i].annotations);
	}
	pane_labels_release(&gl);
}

/* Alertmanager's extras: PagerDuty details (merged over Alertmanager's
 * defaults), links, images, source; Slack fields (short_fields), actions,
 * image_url, thumb_url, callback_id, link_names, mrkdwn_in; http_config
 * parsed, refused where pane cannot honour it, its secrets masked */
static const char extras_yaml[] =
    "alerting:\n"
    "  route:\n"
    "    receiver: a\n"
    "  receivers:\n"
    "    - name: a\n"
    "      slack_configs:\n"
    "        - api_url: ${SLACK_URL}\n"
    "          short_fields: true\n"
    "          link_names: true\n"
    "          mrkdwn_in: [text, fields]\n"
    "          callback_id: 'cb-{{ .GroupLabels.alertname }}'\n"
    "          image_url: 'http://img/{{ .Status }}.png'\n"
    "          thumb_url: '{{ if false }}x{{ end }}'\n"
    "          fields:\n"
    "            - {title: Host, value: '{{ range .Alerts }}{{ .Labels.host }} {{ end }}'}\n"
    "            - {title: '{{ .Status }}', value: long, short: false}\n"
    "          actions:\n"
    "            - {type: button, text: 'Runbook {{ .CommonLabels.alertname }}', url: 'http://rb/x', name: "
    "dropped, style: primary}\n"
    "            - type: button\n"
    "              text: Ack\n"
    "              name: ack\n"
    "              value: '{{ .Receiver }}'\n"
    "              confirm: {text: 'Sure?', ok_text: 'Yes'}\n"
    "          http_config:\n"
    "            follow_redirects: false\n"
    "            authorization: {credentials: \"${SLACK_TOKEN}\"}\n"
    "            proxy_url: http://proxy:3128\n"
    "            no_proxy: 127.0.0.1,.internal\n"
    "            enable_http2: false\n"
    "            tls_config: {insecure_skip_verify: true}\n"
    "      pagerduty_configs:\n"
    "        - routing_key: ${PD_KEY}\n"
    "          source: 'src-{{ .Receiver }}'\n"
    "          details:\n"
    "            num_firing: 'n={{ .Alerts.Firing | len }}'\n"
    "            team: '{{ .CommonLabels.alertname }} team'\n"
    "          links:\n"
    "            - {href: 'http://dash/{{ .GroupLabels.alertname }}', text: Dashboard}\n"
    "            - {href: '{{ if false }}x{{ end }}', text: dropped}\n"
    "          images:\n"
    "            - {src: 'http://img/{{ .Status }}.png', alt: graph}\n"
    "          http_config:\n"
    "            basic_auth: {username: pd, password: \"${PD_PASS}\"}\n"
    "            proxy_from_environment: true\n";

static void test_extras(void **state)
{
	(void)state;
	struct pane_err err = {0};
	setenv("SLACK_URL", "http://127.0.0.1:9/services/T/B/x", 1);
	setenv("SLACK_TOKEN", "tok-secret-1", 1);
	setenv("PD_KEY", "0123456789abcdef0123456789abcdef", 1);
	setenv("PD_PASS", "pass-secret-2", 1);
	struct pane_am_config *c = load(extras_yaml, &err);
	if (!c)
		fail_msg("%s", err.msg);
	const struct pane_am_slack *sc = &c->receivers[0].slack[0];
	const struct pane_am_pagerduty *pc = &c->receivers[0].pagerduty[0];
	assert_false(sc->http.follow_redirects);
	assert_string_equal(sc->http.auth_type, "Bearer");
	assert_string_equal(sc->http.auth_credentials, "tok-secret-1");
	assert_string_equal(sc->http.proxy_url, "http://proxy:3128");
	assert_string_equal(sc->http.no_proxy, "127.0.0.1,.internal");
	assert_false(sc->http.enable_http2);
	assert_false(sc->http.proxy_from_environment);
	assert_true(sc->http.insecure_skip_verify);
	assert_true(pc->http.follow_redirects); /* Alertmanager's defaults */
	assert_true(pc->http.enable_http2);
	assert_true(pc->http.proxy_from_environment);
	assert_null(pc->http.proxy_url);
	assert_string_equal(pc->http.basic_user, "pd");
	assert_string_equal(pc->http.basic_pass, "pass-secret-2");
	/* the printed configuration masks every secret */
	assert_null(strstr(c->original, "tok-secret-1"));
	assert_null(strstr(c->original, "pass-secret-2"));
	assert_non_null(strstr(c->original, "credentials: <secret>"));
	/* details: the user's over Alertmanager's defaults, sorted by name */
	assert_int_equal(pc->n_details, 5);
	assert_string_equal(pc->details[0].name, "firing");
	assert_string_equal(pc->details[1].name, "num_firing");
	assert_string_equal(pc->details[1].value, "n={{ .Alerts.Firing | len }}");
	assert_string_equal(pc->details[4].name, "team");
	/* an action with a url drops name (Alertmanager's SlackAction) */
	assert_null(sc->actions[0].name);
	assert_string_equal(sc->actions[1].name, "ack");

	/* the notifier's copy is deep and equal */
	struct pane_am_slack sc2;
	struct pane_am_pagerduty pc2;
	pane_am_slack_copy(&sc2, sc);
	pane_am_pagerduty_copy(&pc2, pc);
	assert_string_equal(sc2.fields[1].title, sc->fields[1].title);
	assert_ptr_not_equal(sc2.fields[1].title, sc->fields[1].title);
	assert_string_equal(pc2.images[0].src, pc->images[0].src);
	assert_string_equal(pc2.http.basic_pass, "pass-secret-2");

	struct nsnap a[2] = {0};
	labels(&a[0].labels, (const char *const[]){"alertname", "Disk", "host", "a", NULL});
	labels(&a[0].annotations, (const char *const[]){"summary", "full", NULL});
	labels(&a[1].labels, (const char *const[]){"alertname", "Disk", "host", "b", NULL});
	pane_labels_init(&a[1].annotations);
	a[0].starts_ms = a[1].starts_ms = 1764333296000;
	a[0].generator_url = a[1].generator_url = "http://prom/g";
	a[1].resolved = true;
	a[1].ends_ms = 1764333396000;
	struct pane_labels gl;
	labels(&gl, (const char *const[]){"alertname", "Disk", NULL});
	struct nmsg m = {.receiver = "a",
	                 .group_key = "{}:{alertname=\"Disk\"}",
	                 .group_labels = &gl,
	                 .alerts = a,
	                 .n = 2,
	                 .external_url = "http://pane:8080",
	                 .tmpl = c->tmpl};
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_notify_slack_payload(&b, &sc2, &m);
	json_t *j = json_loads(b.data, 0, NULL);
	if (!j)
		fail_msg("not JSON: %s", b.data);
	assert_true(json_is_true(json_object_get(j, "link_names")));
	json_t *att = json_array_get(json_object_get(j, "attachments"), 0);
	assert_string_equal(json_string_value(json_object_get(att, "callback_id")), "cb-Disk");
	assert_string_equal(json_string_value(json_object_get(att, "image_url")), "http://img/firing.png");
	assert_null(json_object_get(att, "thumb_url")); /* expands to "": left out */
	json_t *mk = json_object_get(att, "mrkdwn_in");
	assert_int_equal(json_array_size(mk), 2);
	assert_string_equal(json_string_value(json_array_get(mk, 1)), "fields");
	json_t *fs = json_object_get(att, "fields");
	assert_int_equal(json_array_size(fs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fs, 0), "value")), "a b ");
	assert_true(json_is_true(json_object_get(json_array_get(fs, 0), "short")));  /* short_fields */
	assert_true(json_is_false(json_object_get(json_array_get(fs, 1), "short"))); /* its own */
	assert_string_equal(json_string_value(json_object_get(json_array_get(fs, 1), "title")), "firing");
	json_t *acts = json_object_get(att, "actions");
	assert_int_equal(json_array_size(acts), 2);
	json_t *a0 = json_array_get(acts, 0), *a1 = json_array_get(acts, 1);
	assert_string_equal(json_string_value(json_object_get(a0, "text")), "Runbook Disk");
	assert_string_equal(json_string_value(json_object_get(a0, "url")), "http://rb/x");
	assert_string_equal(json_string_value(json_object_get(a0, "style")), "primary");
	assert_null(json_object_get(a0, "name"));
	assert_string_equal(json_string_value(json_object_get(a1, "value")), "a");
	json_t *cf = json_object_get(a1, "confirm");
	assert_string_equal(json_string_value(json_object_get(cf, "text")), "Sure?");
	assert_string_equal(json_string_value(json_object_get(cf, "ok_text")), "Yes");
	assert_null(json_object_get(cf, "title"));
	json_decref(j);

	pane_buf_reset(&b);
	pane_notify_pagerduty_payload(&b, &pc2, &m);
	j = json_loads(b.data, 0, NULL);
	if (!j)
		fail_msg("not JSON: %s", b.data);
	json_t *p = json_object_get(j, "payload");
	assert_string_equal(json_string_value(json_object_get(p, "source")), "src-a");
	json_t *d = json_object_get(p, "custom_details");
	assert_int_equal(json_object_size(d), 5);
	assert_string_equal(json_string_value(json_object_get(d, "num_firing")), "n=1");
	assert_string_equal(json_string_value(json_object_get(d, "num_resolved")), "1");
	assert_string_equal(json_string_value(json_object_get(d, "team")), "Disk team");
	/* Alertmanager's default instances template over .Alerts.Firing */
	assert_string_equal(json_string_value(json_object_get(d, "firing")),
	                    "Labels:\n - alertname = Disk\n - host = a\nAnnotations:\n - summary = full\n"
	                    "Source: http://prom/g\n");
	assert_non_null(strstr(json_string_value(json_object_get(d, "resolved")), "host = b"));
	json_t *ls = json_object_get(j, "links");
	assert_int_equal(json_array_size(ls), 1); /* the one whose href expands to "" is dropped */
	assert_string_equal(json_string_value(json_object_get(json_array_get(ls, 0), "href")), "http://dash/Disk");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ls, 0), "text")), "Dashboard");
	json_t *im = json_array_get(json_object_get(j, "images"), 0);
	assert_string_equal(json_string_value(json_object_get(im, "src")), "http://img/firing.png");
	assert_string_equal(json_string_value(json_object_get(im, "alt")), "graph");
	assert_string_equal(json_string_value(json_object_get(im, "href")), "");
	json_decref(j);
	pane_buf_release(&b);
	pane_am_slack_release(&sc2);
	pane_am_pagerduty_release(&pc2);
	for (int i = 0; i < 2; i++) {
		pane_labels_release(&a[i].labels);
		pane_labels_release(&a[i].annotations);
	}
	pane_labels_release(&gl);
	pane_am_config_free(c);

	/* a proxy_url with user:password@ is masked too */
	c = load("alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      slack_configs:\n"
	         "        - api_url: ${SLACK_URL}\n          http_config: {proxy_url: 'http://u:pw-3@proxy:3128'}\n",
	         &err);
	if (!c)
		fail_msg("%s", err.msg);
	assert_string_equal(c->receivers[0].slack[0].http.proxy_url, "http://u:pw-3@proxy:3128");
	assert_null(strstr(c->original, "pw-3"));
	pane_am_config_free(c);

	/* tls_config's key is masked; another key named "key" (a PagerDuty detail) is not */
	c = load(
	    "alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      slack_configs:\n"
	    "        - api_url: ${SLACK_URL}\n          http_config: {tls_config: {cert: c, key: \"${SLACK_TOKEN}\"}}\n"
	    "      pagerduty_configs:\n        - routing_key: ${PD_KEY}\n          details: {key: shown-4}\n",
	    &err);
	if (!c)
		fail_msg("%s", err.msg);
	assert_string_equal(c->receivers[0].slack[0].http.key, "tok-secret-1");
	assert_null(strstr(c->original, "tok-secret-1"));
	assert_non_null(strstr(c->original, "shown-4"));
	pane_am_config_free(c);

	/* refused: what pane's client cannot honour, by name with file:line, and Alertmanager's own checks */
	static const struct {
		const char *item, *want;
	} refused[] = {
	    {"          http_config: {oauth2: {client_id: x}}\n", "oauth2 token_url must be configured"},
	    {"          http_config: {oauth2: {token_url: 'http://t/token'}}\n", "oauth2 client_id must be configured"},
	    {"          http_config: {oauth2: {client_id: x, token_url: ftp://t}}\n", "token_url must be an http"},
	    {"          http_config: {oauth2: {client_id: x, token_url: 'http://t', tls_config: {}}}\n",
	     "tls_config: http_config.oauth2 key not supported"},
	    {"          http_config: {oauth2: {client_id: x, token_url: 'http://t', client_secret: literal}}\n",
	     "a secret"},
	    {"          http_config: {basic_auth: {username: u}, oauth2: {client_id: x, token_url: 'http://t'}}\n",
	     "at most one of basic_auth, oauth2"},
	    {"          http_config: {bearer_token_file: /nonexistent/token}\n", "cannot read /nonexistent/token"},
	    {"          http_config: {bearer_token: \"${SLACK_TOKEN}\", bearer_token_file: /x}\n",
	     "at most one of bearer_token and bearer_token_file"},
	    {"          http_config: {tls_config: {server_name: x}}\n", "server_name: http_config.tls_config key"},
	    {"          http_config: {tls_config: {cert_file: /nonexistent/c.pem}}\n", "cannot read certificate file"},
	    {"          http_config: {tls_config: {min_version: TLS14}}\n",
	     "expected one of TLS10, TLS11, TLS12, TLS13"},
	    {"          http_config: {tls_config: {cert_file: /etc/passwd}}\n", "exactly one of key or key_file"},
	    {"          http_config: {tls_config: {key_file: /etc/passwd}}\n", "exactly one of cert or cert_file"},
	    {"          http_config: {tls_config: {cert: x, key: literal}}\n", "a secret"},
	    {"          http_config: {tls_config: {ca: x, ca_file: /etc/passwd}}\n", "at most one of ca and ca_file"},
	    {"          http_config: {tls_config: {min_version: TLS13, max_version: TLS12}}\n",
	     "max_version must be greater than or equal to min_version"},
	    {"          http_config: {tls_config: {ca_file: /nonexistent/ca.pem}}\n", "cannot read CA file"},
	    {"          http_config: {authorization: {type: Basic, credentials: \"${SLACK_TOKEN}\"}}\n", "basic_auth"},
	    {"          http_config: {bearer_token: \"${SLACK_TOKEN}\", authorization: {credentials: "
	     "\"${SLACK_TOKEN}\"}}\n",
	     "not compatible"},
	    {"          http_config: {bearer_token: literal}\n", "a secret"},
	    {"          http_config: {proxy_url: ftp://x}\n", "proxy_url"},
	    {"          http_config: {proxy_from_environment: true, proxy_url: http://p:1}\n",
	     "if proxy_from_environment is configured, proxy_url must not be configured"},
	    {"          http_config: {no_proxy: localhost}\n", "if no_proxy is configured, proxy_url must also be"},
	    {"          http_config: {enable_http2: sometimes}\n", "enable_http2"},
	    {"          http_config: {proxy_url: 'http://p:1', proxy_connect_header: {a: [b]}}\n", "a secret"},
	    {"          http_config: {proxy_connect_header: {a: [\"${SLACK_TOKEN}\"]}}\n",
	     "proxy_url or proxy_from_environment must also be configured"},
	    {"          http_config: {proxy_url: 'http://p:1', proxy_connect_header: {'a b': [\"${SLACK_TOKEN}\"]}}\n",
	     "not a header name"},
	    {"          fields: [{title: x}]\n", "missing value in Slack field"},
	    {"          fields: [{title: x, value: y, color: z}]\n", "slack_configs.fields key"},
	    {"          actions: [{type: button, text: x}]\n", "missing name or url"},
	    {"          actions: [{type: button, name: x}]\n", "missing text in Slack action"},
	    {"          actions: [{type: button, text: x, name: y, confirm: {title: t}}]\n",
	     "missing text in Slack conf"},
	    {"          fields: [{title: '{{ if }}', value: y}]\n", "t.yaml:8:"},
	    {"          api_url_file: /x\n", "at most one of api_url and api_url_file"},
	};
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		char y[1024];
		snprintf(y, sizeof y,
		         "alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      slack_configs:\n"
		         "        - api_url: ${SLACK_URL}\n%s",
		         refused[i].item);
		struct pane_am_config *rc = load(y, &err);
		if (rc || !strstr(err.msg, refused[i].want))
			fail_msg("%s: got %s", refused[i].item, rc ? "a config" : err.msg);
	}
	static const struct {
		const char *item, *want;
	} pd_refused[] = {
	    {"          details: [a]\n", "expected a map"},
	    {"          links: [{href: x, title: y}]\n", "pagerduty_configs.links key"},
	    {"          images: [{src: '{{ .Nope'}]\n", "t.yaml:8:"},
	    {"          http_config: {basic_auth: {username: u, password_file: /nonexistent/p}}\n",
	     "cannot read /nonexistent/p"},
	    {"          routing_key_file: /x\n", "at most one of routing_key and routing_key_file"},
	};
	for (size_t i = 0; i < sizeof pd_refused / sizeof *pd_refused; i++) {
		char y[1024];
		snprintf(y, sizeof y,
		         "alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      pagerduty_configs:\n"
		         "        - routing_key: ${PD_KEY}\n%s",
		         pd_refused[i].item);
		struct pane_am_config *rc = load(y, &err);
		if (rc || !strstr(err.msg, pd_refused[i].want))
			fail_msg("%s: got %s", pd_refused[i].item, rc ? "a config" : err.msg);
	}

	/* secrets in files (Alertmanager's *_file keys): the content without
	 * surrounding whitespace; an empty file is refused */
	char dir[] = "/tmp/pane-amfile.XXXXXX";
	assert_non_null(mkdtemp(dir));
	static const char *const files[][2] = {{"url", "http://127.0.0.1:9/services/T/B/f\n"},
	                                       {"key", "  fedcba9876543210fedcba9876543210\n"},
	                                       {"tok", "file-token\n"},
	                                       {"pw", "file-pass"},
	                                       {"empty", " \n"}};
	char path[600];
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(files[i][1], f);
		fclose(f);
	}
	char y[2048];
	snprintf(y, sizeof y,
	         "alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      slack_configs:\n"
	         "        - api_url_file: %s/url\n          http_config: {authorization: {credentials_file: %s/tok}}\n"
	         "      pagerduty_configs:\n        - routing_key_file: %s/key\n"
	         "          http_config: {basic_auth: {username: u, password_file: %s/pw}}\n"
	         "      webhook_configs:\n        - url_file: %s/url\n"
	         "          http_config: {authorization: {type: Token, credentials_file: %s/tok}}\n",
	         dir, dir, dir, dir, dir, dir);
	c = load(y, &err);
	if (!c)
		fail_msg("%s", err.msg);
	assert_string_equal(c->receivers[0].slack[0].api_url, "http://127.0.0.1:9/services/T/B/f");
	assert_string_equal(c->receivers[0].slack[0].http.auth_credentials, "file-token");
	assert_string_equal(c->receivers[0].pagerduty[0].routing_key, "fedcba9876543210fedcba9876543210");
	assert_string_equal(c->receivers[0].pagerduty[0].http.basic_pass, "file-pass");
	assert_string_equal(c->receivers[0].webhook[0].url, "http://127.0.0.1:9/services/T/B/f");
	assert_string_equal(c->receivers[0].webhook[0].http.auth_type, "Token");
	assert_string_equal(c->receivers[0].webhook[0].http.auth_credentials, "file-token");
	assert_true(c->receivers[0].webhook[0].http.follow_redirects);
	pane_am_config_free(c);
	/* a webhook takes url or url_file, not both, and http_config as the others do */
	static const struct {
		const char *item, *want;
	} wh_refused[] = {
	    {"        - url: http://x\n          url_file: /x\n", "at most one of url and url_file"},
	    {"        - send_resolved: true\n", "url or url_file is required"},
	    {"        - url: http://x\n          http_config: {tls_config: {server_name: x}}\n",
	     "server_name: http_config.tls_config key"},
	    {"        - url: http://x\n          http_config: {bearer_token: literal}\n", "a secret"},
	    {"        - url: http://x\n          headers: {a: b}\n", "webhook_configs key not supported"},
	};
	for (size_t i = 0; i < sizeof wh_refused / sizeof *wh_refused; i++) {
		snprintf(
		    y, sizeof y,
		    "alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      webhook_configs:\n%s",
		    wh_refused[i].item);
		struct pane_am_config *rc = load(y, &err);
		if (rc || !strstr(err.msg, wh_refused[i].want))
			fail_msg("%s: got %s", wh_refused[i].item, rc ? "a config" : err.msg);
	}
	snprintf(y, sizeof y,
	         "alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      slack_configs:\n"
	         "        - api_url_file: %s/empty\n",
	         dir);
	assert_null(load(y, &err));
	assert_non_null(strstr(err.msg, "holds no secret"));
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

/* pane's TZif reader against glibc (TZ + localtime_r; this test is
 * single-threaded): every 6 hours from 1900 to 2100 in zones with northern
 * and southern DST, half-hour offsets, 30-minute DST (Lord Howe) and zones
 * that changed rules; then Alertmanager time intervals across a DST change */
static void test_time_zones(void **state)
{
	(void)state;
	static const char *const zones[] = {
	    "Europe/Berlin",     "America/New_York",  "Australia/Sydney", "Asia/Kolkata",     "Australia/Lord_Howe",
	    "America/Sao_Paulo", "Africa/Casablanca", "Pacific/Chatham",  "America/St_Johns", "UTC"};
	for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
		struct pane_err err = {0};
		struct pane_tz *tz = pane_tz_load(zones[z], &err);
		if (!tz)
			fail_msg("%s: %s", zones[z], err.msg);
		setenv("TZ", zones[z], 1);
		tzset();
		size_t bad = 0;
		for (int64_t t = -2208988800LL; t < 4102444800LL; t += 6 * 3600 + 17) {
			time_t tt = (time_t)t;
			struct tm tm;
			localtime_r(&tt, &tm);
			if (pane_tz_offset(tz, t) != tm.tm_gmtoff && bad++ < 3)
				print_error("%s at %lld: pane %d, glibc %ld\n", zones[z], (long long)t,
				            pane_tz_offset(tz, t), tm.tm_gmtoff);
		}
		assert_int_equal(bad, 0);
		pane_tz_free(tz);
	}
	unsetenv("TZ");
	tzset();
	struct pane_err err = {0};
	assert_null(pane_tz_load("Mars/Olympus_Mons", &err));
	assert_non_null(strstr(err.msg, "unknown time zone Mars/Olympus_Mons"));
	assert_null(pane_tz_load("../../etc/passwd", &err));
	assert_null(pane_tz_parse((const unsigned char *)"TZif2", 5, &err));

	/* 03:00-04:00 Berlin time: 2024-03-31 jumps from 02:00 CET to 03:00 CEST
	 * at 01:00 UTC; 02:00-03:00 happens twice on 2024-10-27 */
	struct pane_am_config *c = load("alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n"
	                                "  time_intervals:\n    - name: spring\n      time_intervals:\n"
	                                "        - times: [{start_time: '03:00', end_time: '04:00'}]\n"
	                                "          location: Europe/Berlin\n"
	                                "    - name: autumn\n      time_intervals:\n"
	                                "        - times: [{start_time: '02:00', end_time: '03:00'}]\n"
	                                "          days_of_month: ['27']\n          location: Europe/Berlin\n"
	                                "    - name: office\n      time_intervals:\n"
	                                "        - weekdays: ['monday:friday']\n"
	                                "          times: [{start_time: '09:00', end_time: '17:00'}]\n"
	                                "          location: Australia/Sydney\n",
	                                &err);
	if (!c)
		fail_msg("%s", err.msg);
	const struct pane_am_timeinterval *sp = pane_am_interval_find(c, "spring");
	const struct pane_am_timeinterval *au = pane_am_interval_find(c, "autumn");
	const struct pane_am_timeinterval *of = pane_am_interval_find(c, "office");
	int64_t t;
	assert_int_equal(pane_time_parse(pane_str_c("2024-03-31T00:59:59Z"), &t), 0);
	assert_false(pane_am_interval_contains(sp, t));           /* 01:59:59 CET */
	assert_true(pane_am_interval_contains(sp, t + 1000));     /* 03:00 CEST */
	assert_true(pane_am_interval_contains(sp, t + 3600000));  /* 03:59:59 CEST */
	assert_false(pane_am_interval_contains(sp, t + 3601000)); /* 04:00 CEST */
	assert_int_equal(pane_time_parse(pane_str_c("2024-10-27T00:30:00Z"), &t), 0);
	assert_true(pane_am_interval_contains(au, t));            /* 02:30 CEST */
	assert_true(pane_am_interval_contains(au, t + 3600000));  /* 02:30 CET, again */
	assert_false(pane_am_interval_contains(au, t + 5400000)); /* 03:00 CET */
	assert_false(pane_am_interval_contains(au, t - 3600000)); /* 01:30 CEST */
	/* Sydney office hours: UTC+11 in January, UTC+10 in July; and past the
	 * file's last transition (the footer's rule) */
	assert_int_equal(pane_time_parse(pane_str_c("2025-01-13T22:30:00Z"), &t), 0); /* Tue 09:30 AEDT */
	assert_true(pane_am_interval_contains(of, t));
	assert_false(pane_am_interval_contains(of, t - 3600000));                     /* 08:30 */
	assert_int_equal(pane_time_parse(pane_str_c("2025-07-14T23:30:00Z"), &t), 0); /* Tue 09:30 AEST */
	assert_true(pane_am_interval_contains(of, t));
	assert_false(pane_am_interval_contains(of, t - 3600000));
	assert_int_equal(pane_time_parse(pane_str_c("2090-01-16T22:30:00Z"), &t), 0); /* Tue 09:30 AEDT */
	assert_true(pane_am_interval_contains(of, t));
	assert_false(pane_am_interval_contains(of, t - 3600000));
	pane_am_config_free(c);
	assert_null(load("alerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n"
	                 "  time_intervals:\n    - name: x\n      time_intervals:\n        - location: Nowhere/Land\n",
	                 &err));
	assert_non_null(strstr(err.msg, ":9:"));
	assert_non_null(strstr(err.msg, "unknown time zone Nowhere/Land"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matchers),    cmocka_unit_test(test_routes),  cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_fingerprint), cmocka_unit_test(test_example), cmocka_unit_test(test_payloads),
	    cmocka_unit_test(test_time_zones),  cmocka_unit_test(test_extras),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
