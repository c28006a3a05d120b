/* test_rules.c - rule evaluation as the daemon runs it: the alert life cycle
 * (pending, firing, resolved, kept 15 minutes), what goes to notifications
 * and when (Prometheus' resend rules, ends_at, generator URL), ALERTS written
 * back, state carried across a reload, and template errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alert/alert.h"
#include "query/memstore.h"
#include "alert/rules.h"
#include "alert/logmetrics.h"
#include "alert/template.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "base/mem.h"
#include "query/query.h"

#define MIN 60000

struct sent {
	int64_t ts;
	char alertname[64], i[16], summary[128], url[256];
	int64_t starts_at, ends_at;
};

struct rec {
	struct sent v[256];
	size_t n;
	int64_t now;
};

static void rec_send(void *ctx, const struct pane_alert *a, size_t n)
{
	struct rec *r = ctx;
	for (size_t k = 0; k < n && r->n < 256; k++) {
		struct sent *s = &r->v[r->n++];
		s->ts = r->now;
		snprintf(s->alertname, sizeof s->alertname, "%s", pane_labels_get(a[k].labels, "alertname"));
		const char *i = pane_labels_get(a[k].labels, "i");
		snprintf(s->i, sizeof s->i, "%s", i ? i : "");
		const char *sm = pane_labels_get(a[k].annotations, "summary");
		snprintf(s->summary, sizeof s->summary, "%s", sm ? sm : "");
		snprintf(s->url, sizeof s->url, "%s", a[k].generator_url ? a[k].generator_url : "");
		s->starts_at = a[k].starts_at_ms;
		s->ends_at = a[k].ends_at_ms;
	}
}

static int mem_write(void *ctx, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	(void)err;
	for (size_t i = 0; i < n; i++) {
		struct pane_labels ls;
		pane_labels_copy(&ls, s[i].labels);
		pane_labels_set(&ls, "__name__", s[i].name);
		pane_memstore_append(ctx, &ls, s[i].ts_ms, s[i].value);
		pane_labels_release(&ls);
	}
	return 0;
}

static char *write_file(const char *text)
{
	char *path = pane_xstrdup("/tmp/pane-rules-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static const char rules_text[] = "groups:\n"
                                 "  - name: g\n"
                                 "    rules:\n"
                                 "      - alert: High\n"
                                 "        expr: m > 0\n"
                                 "        for: 1m\n"
                                 "        annotations:\n"
                                 "          summary: 'i={{ $labels.i }} v={{ $value }}'\n";

static double query1(struct pane_memstore *m, const char *expr, int64_t ts)
{
	struct pane_query_result res;
	enum pane_query_errclass cls;
	struct pane_err e;
	struct pane_query_opts o = {0};
	assert_int_equal(pane_query_exec(pane_memstore_reader(m), &o, expr, ts, ts, 0, &res, &cls, &e), 0);
	double v = res.type == PANE_QT_VECTOR && res.n ? res.series[0].values[0] : NAN;
	pane_query_result_release(&res);
	return v;
}

static void test_life_cycle_and_sending(void **state)
{
	(void)state;
	char *path = write_file(rules_text);
	struct pane_err err;
	struct pane_rules *rs = pane_rules_load(&path, 1, &err);
	assert_non_null(rs);
	struct pane_memstore *m = pane_memstore_new();
	struct pane_labels ls;
	pane_labels_init(&ls);
	pane_labels_set(&ls, "__name__", "m");
	pane_labels_set(&ls, "i", "1");
	for (int64_t t = 0; t <= 40 * MIN; t += MIN)
		pane_memstore_append(m, &ls, t, t <= 5 * MIN ? 2 : 0);
	pane_labels_release(&ls);
	struct rec r = {0};
	struct pane_alert_sink sink = {.ctx = &r, .send = rec_send};
	struct pane_rules_env env = {
	    .reader = pane_memstore_reader(m), .out = {.write = mem_write, .ctx = m}, .write_alerts = true};
	struct pane_rule_group *g = &rs->groups[0];
	struct pane_rule *rule = &g->rules[0];
	for (int64_t t = 0; t <= 40 * MIN; t += MIN) {
		pane_memstore_set_limit(m, t);
		pane_rules_group_eval(g, &env, t);
		assert_null(rule->last_error);
		r.now = t;
		pane_rules_group_send(g, t, MIN, MIN, "http://pane:8080", &sink);
		if (t == 0) {
			assert_int_equal(rule->n_active, 1);
			assert_int_equal(rule->active[0]->state, PANE_ALERT_PENDING);
			assert_int_equal(query1(m, "ALERTS{alertstate=\"pending\"}", t), 1);
		}
		if (t == 3 * MIN) {
			assert_int_equal(rule->active[0]->state, PANE_ALERT_FIRING);
			assert_int_equal(query1(m, "ALERTS_FOR_STATE", t), 0); /* active since 0 s */
		}
		if (t == 7 * MIN) {
			assert_int_equal(rule->active[0]->state, PANE_ALERT_INACTIVE);
			assert_true(isnan(query1(m, "ALERTS", t))); /* stale marker ended the series */
		}
	}
	/* firing from 1m: sent at 1m, 3m, 5m (resend delay 1m, strictly after);
	 * resolved at 6m: sent at 6m, then every 2m while kept (until 21m: kept
	 * while resolved for at most 15m) */
	int64_t want[] = {1, 3, 5, 6, 8, 10, 12, 14, 16, 18, 20};
	assert_int_equal(r.n, sizeof want / sizeof want[0]);
	for (size_t k = 0; k < r.n; k++) {
		assert_int_equal(r.v[k].ts, want[k] * MIN);
		assert_string_equal(r.v[k].alertname, "High");
		assert_string_equal(r.v[k].i, "1");
		assert_int_equal(r.v[k].starts_at, 1 * MIN);
		assert_string_equal(r.v[k].url, "http://pane:8080/graph?g0.expr=m+%3E+0&g0.tab=1");
		if (want[k] < 6) {
			assert_int_equal(r.v[k].ends_at, (want[k] + 4) * MIN); /* valid until */
			assert_string_equal(r.v[k].summary, "i=1 v=2");
		} else {
			assert_int_equal(r.v[k].ends_at, 6 * MIN); /* resolved */
		}
	}
	assert_int_equal(rule->n_active, 0); /* dropped after 15 minutes resolved */
	assert_int_equal(rule->evaluations, 41);
	assert_int_equal(rule->failures, 0);
	pane_rules_free(rs);
	pane_memstore_free(m);
	unlink(path);
	free(path);
}

static void test_reload_keeps_state(void **state)
{
	(void)state;
	char *path = write_file(rules_text);
	struct pane_err err;
	struct pane_rules *a = pane_rules_load(&path, 1, &err);
	assert_non_null(a);
	struct pane_memstore *m = pane_memstore_new();
	struct pane_labels ls;
	pane_labels_init(&ls);
	pane_labels_set(&ls, "__name__", "m");
	pane_labels_set(&ls, "i", "1");
	pane_memstore_append(m, &ls, 0, 1);
	pane_memstore_append(m, &ls, MIN, 1);
	pane_labels_release(&ls);
	struct pane_rules_env env = {.reader = pane_memstore_reader(m)};
	pane_rules_group_eval(&a->groups[0], &env, 0);
	struct pane_rules *b = pane_rules_load(&path, 1, &err);
	assert_non_null(b);
	pane_rules_carry_state(b, a);
	pane_rules_free(a);
	pane_rules_group_eval(&b->groups[0], &env, MIN);
	assert_int_equal(b->groups[0].rules[0].n_active, 1);
	assert_int_equal(b->groups[0].rules[0].active[0]->active_at, 0);
	assert_int_equal(b->groups[0].rules[0].active[0]->state, PANE_ALERT_FIRING);
	pane_rules_free(b);
	pane_memstore_free(m);
	unlink(path);
	free(path);
}

static void test_failures_recorded(void **state)
{
	(void)state;
	char *path = write_file("groups:\n  - name: g\n    limit: 1\n    rules:\n"
	                        "      - record: r\n        expr: m\n"
	                        "      - record: ok\n        expr: vector(1)\n");
	struct pane_err err;
	struct pane_rules *rs = pane_rules_load(&path, 1, &err);
	assert_non_null(rs);
	struct pane_memstore *m = pane_memstore_new();
	for (int i = 0; i < 2; i++) {
		struct pane_labels ls;
		pane_labels_init(&ls);
		pane_labels_set(&ls, "__name__", "m");
		pane_labels_set(&ls, "i", i ? "a" : "b");
		pane_memstore_append(m, &ls, 0, 1);
		pane_labels_release(&ls);
	}
	struct pane_rules_env env = {.reader = pane_memstore_reader(m), .out = {.write = mem_write, .ctx = m}};
	pane_rules_group_eval(&rs->groups[0], &env, 0);
	assert_string_equal(rs->groups[0].rules[0].last_error, "exceeded limit of 1 with 2 series");
	assert_int_equal(rs->groups[0].rules[0].failures, 1);
	assert_null(rs->groups[0].rules[1].last_error); /* the group went on */
	assert_int_equal(query1(m, "ok", 0), 1);
	pane_rules_free(rs);
	pane_memstore_free(m);
	unlink(path);
	free(path);
}

static void expect_tmpl(const char *text, double value, const char *want)
{
	struct pane_labels ls;
	pane_labels_init(&ls);
	pane_labels_set(&ls, "job", "api");
	struct pane_tmpl_data d = {.labels = &ls, .value = value};
	struct pane_buf b;
	pane_buf_init(&b, 1 << 16);
	struct pane_err err;
	int rc = pane_tmpl_expand("__alert_T", text, &d, &b, &err);
	if (rc < 0)
		fail_msg("%s: %s", text, err.msg);
	assert_string_equal(b.len ? b.data : "", want);
	pane_buf_release(&b);
	pane_labels_release(&ls);
}

static void test_templates(void **state)
{
	(void)state;
	/* Go's formatting of floats, as Prometheus prints them */
	expect_tmpl("{{ $value }}", 1e6, "1e+06");
	expect_tmpl("{{ $value }}", 123456, "123456");
	expect_tmpl("{{ $value }}", 0.0001, "0.0001");
	expect_tmpl("{{ $value }}", 0.00001, "1e-05");
	expect_tmpl("{{ $value }}", INFINITY, "+Inf");
	expect_tmpl("{{ $value }}", NAN, "NaN");
	expect_tmpl("{{ humanize $value }}", 0.00012, "120u");
	expect_tmpl("{{ humanize1024 $value }}", 1536, "1.5ki");
	expect_tmpl("{{ humanizeDuration $value }}", 90061, "1d 1h 1m 1s");
	expect_tmpl("{{ humanizeDuration $value }}", 0.25, "250ms");
	expect_tmpl("{{ humanizeTimestamp $value }}", 1700000000.5, "2023-11-14 22:13:20.5 +0000 UTC");
	expect_tmpl("{{ printf \"%.1f%%\" $value }}", 99.95, "100.0%");
	expect_tmpl("{{ printf \"%s\" $value }}", 1, "%!s(float64=1)");
	expect_tmpl("{{ .Labels.job }}-{{ $labels.missing }}-", 0, "api--");
	expect_tmpl("{{ range $i, $x := args \"a\" \"b\" }}{{ $i }}={{ $x }} {{ end }}", 0, "arg0=a arg1=b ");
	expect_tmpl("{{- \"  x  \" -}}", 0, "  x  ");
	struct pane_err err;
	assert_int_equal(pane_tmpl_check("__alert_T", "{{ nope }}", &err), PANE_EINVAL);
	assert_string_equal(err.msg, "template: __alert_T:1: function \"nope\" not defined");
	assert_int_equal(pane_tmpl_check("__alert_T", "{{ if 1 }}x", &err), PANE_EINVAL);
	assert_int_equal(pane_tmpl_check("__alert_T", "{{ $undefined }}", &err), PANE_EINVAL);
	assert_string_equal(err.msg, "template: __alert_T:1: undefined variable \"$undefined\"");
	/* template regexes run under base/regex's limits: a catastrophic
	 * pattern fails the expansion instead of holding the thread */
	struct pane_labels ls;
	pane_labels_init(&ls);
	struct pane_tmpl_data d = {.labels = &ls};
	struct pane_buf out;
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	char text[200];
	snprintf(text, sizeof text, "{{ match \"(a+)+$\" \"%s!\" }}",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(pane_tmpl_expand("__alert_T", text, &d, &out, &err), PANE_EINVAL);
	assert_non_null(strstr(err.msg, "error calling match: regular expression too costly"));
	pane_buf_reset(&out);
	snprintf(text, sizeof text, "{{ reReplaceAll \"(a|aa)+$\" \"-\" \"%s!\" }}",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(pane_tmpl_expand("__alert_T", text, &d, &out, &err), PANE_EINVAL);
	assert_non_null(strstr(err.msg, "error calling reReplaceAll: regular expression too costly"));
	pane_buf_reset(&out);
	assert_int_equal(pane_tmpl_expand("__alert_T", "{{ match \"(\" \"x\" }}", &d, &out, &err), PANE_EINVAL);
	assert_non_null(strstr(err.msg, "error calling match: error parsing regexp"));
	pane_buf_release(&out);
	pane_labels_release(&ls);
}

/* Alertmanager's notification templates: data model, functions, defaults,
 * define/template (expected texts as Alertmanager 0.25 renders them) */
static void expect_am(const struct pane_tmpl_set *set, const struct pane_tmpl_am_data *d, const char *text,
                      const char *want)
{
	struct pane_buf out;
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	struct pane_err err = {0};
	if (pane_tmpl_am_expand(set, "t", text, d, &out, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
	assert_string_equal(out.data ? out.data : "", want);
	pane_buf_release(&out);
}

static void test_am_templates(void **state)
{
	(void)state;
	struct pane_labels l1, l2, a1, a2, gl, cl, ca;
	pane_labels_init(&l1), pane_labels_init(&l2), pane_labels_init(&a1), pane_labels_init(&a2);
	pane_labels_init(&gl), pane_labels_init(&cl), pane_labels_init(&ca);
	pane_labels_set(&l1, "alertname", "Disk"), pane_labels_set(&l1, "instance", "a:9100");
	pane_labels_set(&l1, "severity", "page"), pane_labels_set(&l1, "job", "node");
	pane_labels_set(&l2, "alertname", "Disk"), pane_labels_set(&l2, "instance", "b:9100");
	pane_labels_set(&l2, "severity", "page"), pane_labels_set(&l2, "job", "node");
	pane_labels_set(&a1, "summary", "disk a full");
	pane_labels_set(&a2, "summary", "disk b full");
	pane_labels_set(&gl, "alertname", "Disk");
	pane_labels_set(&cl, "alertname", "Disk"), pane_labels_set(&cl, "job", "node"),
	    pane_labels_set(&cl, "severity", "page");
	struct pane_tmpl_am_alert al[2] = {
	    {.status = "firing",
	     .labels = &l1,
	     .annotations = &a1,
	     .starts_ms = 1700000000123,
	     .generator_url = "http://p/g1",
	     .fingerprint = "0123456789abcdef"},
	    {.status = "resolved",
	     .labels = &l2,
	     .annotations = &a2,
	     .starts_ms = 1700000000000,
	     .ends_ms = 1700000600000,
	     .generator_url = "http://p/g2",
	     .fingerprint = "fedcba9876543210"},
	};
	struct pane_tmpl_am_data d = {.receiver = "team x",
	                              .status = "firing",
	                              .external_url = "http://am:9093",
	                              .alerts = al,
	                              .n_alerts = 2,
	                              .group_labels = &gl,
	                              .common_labels = &cl,
	                              .common_annotations = &ca};
	struct pane_tmpl_set *set = pane_tmpl_set_new();
	expect_am(set, &d, "{{ template \"slack.default.title\" . }}", "[FIRING:1] Disk (node page)");
	expect_am(set, &d, "{{ template \"__alertmanagerURL\" . }}", "http://am:9093/#/alerts?receiver=team+x");
	expect_am(set, &d, "{{ template \"pagerduty.default.instances\" .Alerts.Firing }}",
	          "Labels:\n - alertname = Disk\n - instance = a:9100\n - job = node\n - severity = page\n"
	          "Annotations:\n - summary = disk a full\nSource: http://p/g1\n");
	expect_am(set, &d,
	          "{{ range .Alerts }}{{ .Status }} {{ .Labels.instance }} {{ .StartsAt }} {{ .EndsAt }} {{ "
	          ".Fingerprint }};{{ end }}",
	          "firing a:9100 2023-11-14 22:13:20.123 +0000 UTC 0001-01-01 00:00:00 +0000 UTC 0123456789abcdef;"
	          "resolved b:9100 2023-11-14 22:13:20 +0000 UTC 2023-11-14 22:23:20 +0000 UTC fedcba9876543210;");
	expect_am(set, &d,
	          "{{ .CommonLabels.Names | join \",\" }}|{{ .CommonLabels.SortedPairs }}|{{ (.CommonLabels.Remove "
	          "(stringSlice \"job\")).Values }}",
	          "alertname,job,severity|[{alertname Disk} {job node} {severity page}]|[Disk page]");
	expect_am(
	    set, &d,
	    "{{ define \"mine\" }}<{{ . | toUpper }}>{{ end }}{{ template \"mine\" .Receiver }} {{ len "
	    ".Alerts.Resolved }} {{ title \"a b\" }} {{ index (.Alerts.Firing) 0 | printf \"%v\" }}",
	    "<TEAM X> 1 A B {firing map[alertname:Disk instance:a:9100 job:node severity:page] map[summary:disk a "
	    "full] 2023-11-14 22:13:20.123 +0000 UTC 0001-01-01 00:00:00 +0000 UTC http://p/g1 0123456789abcdef}");
	struct pane_err err;
	assert_int_equal(
	    pane_tmpl_set_add(set, "x.tmpl", "{{ define \"slack.default.title\" }}custom {{ .Status }}{{ end }}", &err),
	    0);
	expect_am(set, &d, "{{ template \"slack.default.title\" . }}", "custom firing");
	assert_int_equal(pane_tmpl_set_add(set, "bad.tmpl", "{{ define \"x\" }}{{ humanize 1 }}{{ end }}", &err),
	                 PANE_EINVAL);
	assert_non_null(strstr(err.msg, "function \"humanize\" not defined"));
	assert_int_equal(pane_tmpl_am_check(set, "t", "{{ template \"x\" . ", &err), PANE_EINVAL);
	struct pane_buf out;
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	assert_int_equal(pane_tmpl_am_expand(set, "t", "{{ template \"nope\" . }}", &d, &out, &err), PANE_EINVAL);
	assert_non_null(strstr(err.msg, "no such template"));
	pane_buf_release(&out);
	pane_tmpl_set_free(set);
	pane_labels_release(&l1), pane_labels_release(&l2), pane_labels_release(&a1), pane_labels_release(&a2);
	pane_labels_release(&gl), pane_labels_release(&cl), pane_labels_release(&ca);
}

/* log metrics: counting, label sets kept, the 0 start sample, events
 * counted once per dedup key */
struct lmrec {
	char lines[64][256];
	size_t n;
};

static int lm_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err)
{
	(void)err;
	struct lmrec *r = ctx;
	for (size_t i = 0; i < n && r->n < 64; i++) {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		pane_buf_adds(&b, s[i].name);
		pane_rules_labels_string(s[i].labels, &b);
		snprintf(r->lines[r->n++], 256, "%s %lld %g", b.data, (long long)s[i].ts_ms, s[i].value);
		pane_buf_release(&b);
	}
	if (accepted)
		*accepted = n;
	return 0;
}

static void lm_close(void *ctx)
{
	(void)ctx;
}

static const struct pane_sink_ops lm_ops = {.name = "rec", .write_samples = lm_samples, .close = lm_close};

static bool lm_has(const struct lmrec *r, const char *want)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->lines[i], want))
			return true;
	return false;
}

static void test_log_metrics(void **state)
{
	(void)state;
	static const char yaml[] = "rules:\n  log_metrics:\n"
	                           "    - name: t_total\n      selector: '{service=~\"a.*\"}'\n      match: boom\n"
	                           "      group_by: [service]\n"
	                           "    - name: r_total\n      regex: '^E[0-9]+'\n";
	struct pane_err err = {0};
	struct pane_cfg *cfg = pane_cfg_parse("t.yaml", yaml, strlen(yaml), &err);
	assert_non_null(cfg);
	struct pane_logmetrics *lm = pane_logmetrics_new(cfg, &err);
	if (!lm)
		fail_msg("%s", err.msg);
	struct pane_sink sink = pane_logmetrics_sink(lm);
	struct pane_labels a, b;
	pane_labels_init(&a), pane_labels_init(&b);
	pane_labels_set(&a, "service", "api"), pane_labels_set(&a, "pod", "p1");
	pane_labels_set(&b, "service", "web");
	struct pane_log_record l[] = {
	    {.labels = &a, .message = "a boom here", .message_len = 11},
	    {.labels = &a, .message = "E42 boom", .message_len = 8},
	    {.labels = &a, .message = "BOOM", .message_len = 4},
	    {.labels = &b, .message = "boom E1", .message_len = 7},
	    {.labels = &b, .message = "E1", .message_len = 2},
	};
	assert_int_equal(sink.ops->write_logs(sink.ctx, l, 5, &err), 0);
	struct pane_labels ev;
	pane_labels_init(&ev);
	pane_labels_set(&ev, "provider", "render"), pane_labels_set(&ev, "service", "api");
	pane_labels_set(&ev, "status", "build_failed"), pane_labels_set(&ev, "deploy_id", "d1");
	pane_labels_set(&ev, "environment", "prod");
	struct pane_event e[] = {
	    {.kind = "deploy", .labels = &ev, .title = "x", .dedup_key = "d1:build_failed"},
	    {.kind = "deploy", .labels = &ev, .title = "x", .dedup_key = "d1:build_failed"}, /* replayed */
	    {.kind = "deploy", .labels = &ev, .title = "x", .dedup_key = "d2:build_failed"},
	};
	assert_int_equal(sink.ops->write_events(sink.ctx, e, 3, &err), 0);
	struct lmrec r = {0};
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, (struct pane_sink){.ops = &lm_ops, .ctx = &r}, PANE_SINK_PRIMARY);
	assert_int_equal(pane_logmetrics_write(lm, p, 1000, 2000, &err), 0);
	assert_true(lm_has(&r, "t_total{service=\"api\"} 1000 0")); /* first seen: 0 at the tick before */
	assert_true(lm_has(&r, "t_total{service=\"api\"} 2000 2"));
	assert_true(lm_has(&r, "r_total{} 2000 2"));
	assert_true(lm_has(&r, "pane_events_total{environment=\"prod\", kind=\"deploy\", provider=\"render\", "
	                       "service=\"api\", status=\"build_failed\"} 2000 2"));
	assert_int_equal(r.n, 6);
	r.n = 0;
	assert_int_equal(sink.ops->write_logs(sink.ctx, l, 1, &err), 0);
	assert_int_equal(pane_logmetrics_write(lm, p, 2000, 3000, &err), 0);
	assert_true(lm_has(&r, "t_total{service=\"api\"} 3000 3"));
	assert_true(lm_has(&r, "r_total{} 3000 2")); /* written every tick, unchanged */
	assert_int_equal(r.n, 3);                    /* no more 0 samples */
	pane_pipeline_free(p);
	sink.ops->close(sink.ctx);
	pane_labels_release(&a), pane_labels_release(&b), pane_labels_release(&ev);
	pane_cfg_free(cfg);
	/* a bad definition names file:line */
	static const char bad[] = "rules:\n  log_metrics:\n    - name: x_total\n      match: a\n      regex: b\n";
	cfg = pane_cfg_parse("t.yaml", bad, strlen(bad), &err);
	assert_null(pane_logmetrics_new(cfg, &err));
	assert_non_null(strstr(err.msg, "t.yaml:3"));
	assert_non_null(strstr(err.msg, "match and regex exclude each other"));
	pane_cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_life_cycle_and_sending), cmocka_unit_test(test_reload_keeps_state),
	    cmocka_unit_test(test_failures_recorded),      cmocka_unit_test(test_templates),
	    cmocka_unit_test(test_am_templates),           cmocka_unit_test(test_log_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
