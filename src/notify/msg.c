/*
 * msg.c - the bodies pane sends: Slack attachments, PagerDuty Events API v2,
 * Alertmanager's webhook JSON (version 4).
 *
 * Idea: one view of a notification (struct nmsg: receiver, group labels,
 * alert copies) and one builder per integration. The default texts follow
 * Alertmanager's default templates (subject "[FIRING:n] group values
 * (common values)", a title link back to the console), written out in C. A
 * field the user sets (Slack's title, text, pretext, ..., PagerDuty's
 * description, ...) is a Go template expanded over Alertmanager's
 * notification data (alert/template.h) with the config's template set; a
 * template that fails to execute is logged and the default text is sent,
 * so a page is never lost to a typo.
 *
 * What Alertmanager sends only when configured is sent by pane the same
 * way, key for key, so that test_templates.sh can compare the two: Slack's
 * fields, actions, image_url, thumb_url, callback_id, link_names and
 * mrkdwn_in; PagerDuty's details as payload.custom_details (strings),
 * links and images (replacing pane's own links), source. List items have no
 * pane text to fall back to: a failing one expands to "" and, where
 * Alertmanager's JSON has omitempty, is left out.
 */
#include "notify/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "http/sha256.h"

/* Prometheus' labelSetToFingerprint: FNV-1a 64 over sorted name 0xff value 0xff. */
uint64_t pane_notify_fingerprint(const struct pane_labels *ls)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < ls->n; i++) {
		for (const char *p = ls->v[i].name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
		for (const char *p = ls->v[i].value; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h;
}

/* RFC 3339 as Alertmanager writes it; 0 or less is Go's zero time. */
static void time_text(int64_t ms, char *t, size_t len)
{
	if (ms <= 0)
		snprintf(t, len, "0001-01-01T00:00:00Z");
	else
		pane_time_format(ms, t, len);
}

void pane_notify_json_time(struct pane_json *j, int64_t ms)
{
	char t[40];
	time_text(ms, t, sizeof t);
	pane_json_str(j, t);
}

static size_t n_firing(const struct nmsg *m)
{
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++)
		k += !m->alerts[i].resolved;
	return k;
}

/* labels every alert has with the same value */
static void common_labels(const struct nmsg *m, bool annotations, struct pane_labels *out)
{
	pane_labels_init(out);
	if (!m->n)
		return;
	const struct pane_labels *first = annotations ? &m->alerts[0].annotations : &m->alerts[0].labels;
	for (size_t i = 0; i < first->n; i++) {
		bool all = true;
		for (size_t j = 1; j < m->n && all; j++) {
			const char *v = pane_labels_get(annotations ? &m->alerts[j].annotations : &m->alerts[j].labels,
			                                first->v[i].name);
			all = v && !strcmp(v, first->v[i].value);
		}
		if (all)
			pane_labels_set(out, first->v[i].name, first->v[i].value);
	}
}

void pane_notify_subject(struct pane_buf *b, const struct nmsg *m)
{
	size_t nf = n_firing(m);
	if (nf)
		pane_buf_addf(b, "[FIRING:%zu]", nf);
	else
		pane_buf_adds(b, "[RESOLVED]");
	for (size_t i = 0; i < m->group_labels->n; i++)
		pane_buf_addf(b, " %s", m->group_labels->v[i].value);
	struct pane_labels common;
	common_labels(m, false, &common);
	if (common.n > m->group_labels->n) {
		pane_buf_adds(b, " (");
		bool first = true;
		for (size_t i = 0; i < common.n; i++) {
			if (pane_labels_get(m->group_labels, common.v[i].name))
				continue;
			pane_buf_addf(b, "%s%s", first ? "" : " ", common.v[i].value);
			first = false;
		}
		pane_buf_addc(b, ')');
	}
	pane_labels_release(&common);
}

static void console_link(struct pane_buf *b, const struct nmsg *m)
{
	pane_buf_addf(b, "%s/alerts?receiver=", m->external_url);
	for (const char *p = m->receiver; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~", c))
			pane_buf_addc(b, (char)c);
		else
			pane_buf_addf(b, "%%%02X", c);
	}
}

/* A readable list of the alerts (Slack mrkdwn): summary, description,
 * labels, for the firing ones and then the resolved ones. */
static void alert_list(struct pane_buf *b, const struct nmsg *m)
{
	for (int pass = 0; pass < 2; pass++) {
		bool head = false;
		for (size_t i = 0; i < m->n; i++) {
			const struct nsnap *a = &m->alerts[i];
			if (a->resolved != (pass == 1))
				continue;
			if (!head)
				pane_buf_addf(b, "%s*%s*\n", b->len ? "\n" : "", pass ? "Resolved" : "Firing");
			head = true;
			const char *name = pane_labels_get(&a->labels, "alertname");
			const char *sev = pane_labels_get(&a->labels, "severity");
			const char *summary = pane_labels_get(&a->annotations, "summary");
			pane_buf_addf(b, "*Alert:* %s", summary ? summary : name ? name : "(no name)");
			if (sev)
				pane_buf_addf(b, " - `%s`", sev);
			pane_buf_addc(b, '\n');
			const char *desc = pane_labels_get(&a->annotations, "description");
			if (desc)
				pane_buf_addf(b, "*Description:* %s\n", desc);
			for (size_t j = 0; j < a->annotations.n; j++)
				if (strcmp(a->annotations.v[j].name, "summary") &&
				    strcmp(a->annotations.v[j].name, "description"))
					pane_buf_addf(b, "*%s:* %s\n", a->annotations.v[j].name,
					              a->annotations.v[j].value);
			pane_buf_adds(b, "*Labels:*");
			for (size_t j = 0; j < a->labels.n; j++)
				pane_buf_addf(b, " %s=`%s`", a->labels.v[j].name, a->labels.v[j].value);
			pane_buf_addc(b, '\n');
		}
	}
}

/* Alertmanager's template data for a notification */
struct amview {
	struct pane_tmpl_am_data d;
	struct pane_tmpl_am_alert *al;
	char (*fp)[17];
	struct pane_labels cl, ca;
};

static void amview_init(struct amview *v, const struct nmsg *m)
{
	common_labels(m, false, &v->cl);
	common_labels(m, true, &v->ca);
	v->al = pane_xcalloc(m->n + 1, sizeof *v->al);
	v->fp = pane_xcalloc(m->n + 1, sizeof *v->fp);
	for (size_t i = 0; i < m->n; i++) {
		const struct nsnap *a = &m->alerts[i];
		snprintf(v->fp[i], sizeof v->fp[i], "%016llx", (unsigned long long)a->fp);
		v->al[i] = (struct pane_tmpl_am_alert){.status = a->resolved ? "resolved" : "firing",
		                                       .labels = &a->labels,
		                                       .annotations = &a->annotations,
		                                       .starts_ms = a->starts_ms,
		                                       .ends_ms = a->resolved ? a->ends_ms : 0,
		                                       .generator_url = a->generator_url,
		                                       .fingerprint = v->fp[i]};
	}
	v->d = (struct pane_tmpl_am_data){.receiver = m->receiver,
	                                  .status = n_firing(m) ? "firing" : "resolved",
	                                  .external_url = m->external_url,
	                                  .alerts = v->al,
	                                  .n_alerts = m->n,
	                                  .group_labels = m->group_labels,
	                                  .common_labels = &v->cl,
	                                  .common_annotations = &v->ca};
}

static void amview_release(struct amview *v)
{
	free(v->al);
	free(v->fp);
	pane_labels_release(&v->cl);
	pane_labels_release(&v->ca);
}

/* A user's field: its template expanded into out (true), or false (unset,
 * or failed: logged) for the caller's default. */
static bool user_text(const struct nmsg *m, const struct amview *v, const char *field, const char *text,
                      struct pane_buf *out)
{
	if (!text)
		return false;
	struct pane_err err = {0};
	pane_buf_reset(out);
	if (pane_tmpl_am_expand(m->tmpl, field, text, &v->d, out, &err) == 0)
		return true;
	static struct pane_log_limit lim = {.burst = 5, .per_ms = 60000};
	pane_log_limited(&lim, PANE_LOG_WARN, "notify", "receiver %s: %s (the default text is sent)", m->receiver,
	                 err.msg);
	pane_buf_reset(out);
	return false;
}

static void jstr(struct pane_json *j, const char *key, const char *v)
{
	pane_json_key(j, key);
	pane_json_str(j, v);
}

/* A list item's template (Slack fields and actions, PagerDuty details,
 * links and images): expanded into out; unset or failed (logged) is "",
 * there being no text of pane's to fall back to. */
static const char *item_text(const struct nmsg *m, const struct amview *v, const char *field, const char *text,
                             struct pane_buf *out)
{
	if (!user_text(m, v, field, text, out))
		pane_buf_reset(out);
	return out->data ? out->data : "";
}

/* "key":"expanded template", left out when it expands to "" (Go's omitempty) */
static void jopt(struct pane_json *j, const struct nmsg *m, const struct amview *v, const char *key, const char *text,
                 struct pane_buf *x)
{
	const char *s = item_text(m, v, key, text, x);
	if (*s)
		jstr(j, key, s);
}

/* Slack's attachment extras as Alertmanager sends them: callback_id,
 * fields (short from the field, else short_fields), actions (a link button
 * or a message action with its confirmation), image_url, thumb_url; each
 * text a template, empty ones left out as Go's omitempty does. */
static void slack_extras(struct pane_json *j, const struct pane_am_slack *c, const struct nmsg *m,
                         const struct amview *v, struct pane_buf *x)
{
	if (c->callback_id)
		jstr(j, "callback_id", item_text(m, v, "callback_id", c->callback_id, x));
	if (c->n_fields) {
		pane_json_key(j, "fields");
		pane_json_arr(j);
		for (size_t i = 0; i < c->n_fields; i++) {
			const struct pane_am_slack_field *f = &c->fields[i];
			bool is_short = f->is_short >= 0 ? f->is_short == 1 : c->short_fields;
			pane_json_obj(j);
			jopt(j, m, v, "title", f->title, x);
			jopt(j, m, v, "value", f->value, x);
			pane_json_key(j, "short");
			pane_json_bool(j, is_short);
			pane_json_obj_end(j);
		}
		pane_json_arr_end(j);
	}
	if (c->n_actions) {
		pane_json_key(j, "actions");
		pane_json_arr(j);
		for (size_t i = 0; i < c->n_actions; i++) {
			const struct pane_am_slack_action *a = &c->actions[i];
			pane_json_obj(j);
			jopt(j, m, v, "type", a->type, x);
			jopt(j, m, v, "text", a->text, x);
			jopt(j, m, v, "url", a->url, x);
			jopt(j, m, v, "style", a->style, x);
			jopt(j, m, v, "name", a->name, x);
			jopt(j, m, v, "value", a->value, x);
			if (a->has_confirm) {
				pane_json_key(j, "confirm");
				pane_json_obj(j);
				jopt(j, m, v, "text", a->confirm_text, x);
				jopt(j, m, v, "title", a->confirm_title, x);
				jopt(j, m, v, "ok_text", a->confirm_ok_text, x);
				jopt(j, m, v, "dismiss_text", a->confirm_dismiss_text, x);
				pane_json_obj_end(j);
			}
			pane_json_obj_end(j);
		}
		pane_json_arr_end(j);
	}
	jopt(j, m, v, "image_url", c->image_url, x);
	jopt(j, m, v, "thumb_url", c->thumb_url, x);
}

void pane_notify_slack_payload(struct pane_buf *b, const struct pane_am_slack *c, const struct nmsg *m)
{
	struct amview v;
	amview_init(&v, m);
	struct pane_buf title, text, link, fb, x;
	pane_buf_init(&title, PANE_BUF_NOLIMIT);
	pane_buf_init(&text, PANE_BUF_NOLIMIT);
	pane_buf_init(&link, PANE_BUF_NOLIMIT);
	pane_buf_init(&fb, PANE_BUF_NOLIMIT);
	pane_buf_init(&x, PANE_BUF_NOLIMIT);
	if (!user_text(m, &v, "title", c->title, &title))
		pane_notify_subject(&title, m);
	if (!user_text(m, &v, "text", c->text, &text))
		alert_list(&text, m);
	if (!user_text(m, &v, "title_link", c->title_link, &link))
		console_link(&link, m);
	if (!user_text(m, &v, "fallback", c->fallback, &fb))
		pane_buf_adds(&fb, title.data ? title.data : "");
	bool firing = n_firing(m) > 0;
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	static const char *const top[] = {"channel", "username", "icon_emoji", "icon_url"};
	const char *topv[] = {c->channel, c->username, c->icon_emoji, c->icon_url};
	for (size_t i = 0; i < 4; i++) {
		if (!topv[i] || !user_text(m, &v, top[i], topv[i], &x))
			continue;
		jstr(&j, top[i], x.data ? x.data : "");
	}
	if (c->link_names) {
		pane_json_key(&j, "link_names");
		pane_json_bool(&j, true);
	}
	/* top-level text too: what notifications and clients without attachments show */
	jstr(&j, "text", title.data ? title.data : "");
	pane_json_key(&j, "attachments");
	pane_json_arr(&j);
	pane_json_obj(&j);
	jstr(&j, "title", title.data ? title.data : "");
	jstr(&j, "title_link", link.data ? link.data : "");
	if (user_text(m, &v, "pretext", c->pretext, &x))
		jstr(&j, "pretext", x.data ? x.data : "");
	jstr(&j, "text", text.data ? text.data : "");
	jstr(&j, "fallback", fb.data ? fb.data : "");
	if (user_text(m, &v, "footer", c->footer, &x))
		jstr(&j, "footer", x.data ? x.data : "");
	if (user_text(m, &v, "color", c->color, &x))
		jstr(&j, "color", x.data ? x.data : "");
	else
		jstr(&j, "color", firing ? "danger" : "good");
	slack_extras(&j, c, m, &v, &x);
	pane_json_key(&j, "mrkdwn_in");
	pane_json_arr(&j);
	if (c->n_mrkdwn_in) {
		for (size_t i = 0; i < c->n_mrkdwn_in; i++)
			pane_json_str(&j, c->mrkdwn_in[i]);
	} else {
		pane_json_str(&j, "fallback");
		pane_json_str(&j, "pretext");
		pane_json_str(&j, "text");
	}
	pane_json_arr_end(&j);
	pane_json_obj_end(&j);
	pane_json_arr_end(&j);
	pane_json_obj_end(&j);
	pane_buf_release(&title);
	pane_buf_release(&text);
	pane_buf_release(&link);
	pane_buf_release(&fb);
	pane_buf_release(&x);
	amview_release(&v);
}

static const char *pd_severity(const struct pane_am_pagerduty *c, const struct nmsg *m)
{
	if (c->severity)
		return c->severity;
	/* the highest severity label among the firing alerts (all of them in
	 * a resolve, so it says what the trigger said) */
	static const char *const order[] = {"critical", "error", "warning", "info"};
	bool all = n_firing(m) == 0;
	int best = 4;
	for (size_t i = 0; i < m->n; i++) {
		const char *s = pane_labels_get(&m->alerts[i].labels, "severity");
		if (!s || (m->alerts[i].resolved && !all))
			continue;
		int r = !strcmp(s, "critical") || !strcmp(s, "page")                    ? 0
		        : !strcmp(s, "error") || !strcmp(s, "high")                     ? 1
		        : !strcmp(s, "warning") || !strcmp(s, "warn")                   ? 2
		        : !strcmp(s, "info") || !strcmp(s, "low") || !strcmp(s, "none") ? 3
		                                                                        : 1;
		if (r < best)
			best = r;
	}
	return best == 4 ? "error" : order[best];
}

/* pane's own custom_details: the firing alerts, structured */
static void pd_own_details(struct pane_json *j, const struct nmsg *m, size_t nf)
{
	pane_json_obj(j);
	pane_json_key(j, "num_firing");
	pane_json_uint(j, nf);
	pane_json_key(j, "num_resolved");
	pane_json_uint(j, m->n - nf);
	for (int resolved = 0; resolved < 2; resolved++) {
		pane_json_key(j, resolved ? "resolved" : "firing");
		pane_json_arr(j);
		for (size_t i = 0; i < m->n; i++) {
			if (m->alerts[i].resolved != (resolved == 1))
				continue;
			pane_json_obj(j);
			pane_json_key(j, "labels");
			pane_labels_json_value(j, &m->alerts[i].labels);
			pane_json_key(j, "annotations");
			pane_labels_json_value(j, &m->alerts[i].annotations);
			pane_json_key(j, "startsAt");
			pane_notify_json_time(j, m->alerts[i].starts_ms);
			if (resolved) {
				pane_json_key(j, "endsAt");
				pane_notify_json_time(j, m->alerts[i].ends_ms);
			}
			pane_json_obj_end(j);
		}
		pane_json_arr_end(j);
	}
	pane_json_obj_end(j);
}

/* Alertmanager's: every detail (sorted by name at load) a string, always
 * (no omitempty in Alertmanager's struct) */
static void pd_details(struct pane_json *j, const struct pane_am_pagerduty *c, const struct nmsg *m,
                       const struct amview *v, struct pane_buf *x)
{
	pane_json_obj(j);
	for (size_t i = 0; i < c->n_details; i++)
		jstr(j, c->details[i].name, item_text(m, v, c->details[i].name, c->details[i].value, x));
	pane_json_obj_end(j);
}

/* pane's own links: the console and the first firing alert's rule */
static void pd_own_links(struct pane_json *j, const struct nmsg *m, const char *console)
{
	pane_json_key(j, "links");
	pane_json_arr(j);
	pane_json_obj(j);
	jstr(j, "href", console);
	jstr(j, "text", "pane alerts");
	pane_json_obj_end(j);
	for (size_t i = 0; i < m->n; i++) {
		if (m->alerts[i].resolved || !m->alerts[i].generator_url || !*m->alerts[i].generator_url)
			continue;
		pane_json_obj(j);
		jstr(j, "href", m->alerts[i].generator_url);
		jstr(j, "text", "rule");
		pane_json_obj_end(j);
		break;
	}
	pane_json_arr_end(j);
}

/* The configured links: those whose href expands to "" are dropped, and
 * no links at all leave the key out, as Alertmanager does */
static void pd_links(struct pane_json *j, const struct pane_am_pagerduty *c, const struct nmsg *m,
                     const struct amview *v, struct pane_buf *x)
{
	struct pane_buf href;
	pane_buf_init(&href, PANE_BUF_NOLIMIT);
	size_t k = 0;
	for (size_t i = 0; i < c->n_links; i++) {
		if (!*item_text(m, v, "href", c->links[i].href, &href))
			continue;
		if (!k++) {
			pane_json_key(j, "links");
			pane_json_arr(j);
		}
		pane_json_obj(j);
		jstr(j, "href", href.data);
		jstr(j, "text", item_text(m, v, "text", c->links[i].text, x));
		pane_json_obj_end(j);
	}
	if (k)
		pane_json_arr_end(j);
	pane_buf_release(&href);
}

/* The configured images, kept when src expands to something */
static void pd_images(struct pane_json *j, const struct pane_am_pagerduty *c, const struct nmsg *m,
                      const struct amview *v, struct pane_buf *x)
{
	struct pane_buf src;
	pane_buf_init(&src, PANE_BUF_NOLIMIT);
	size_t k = 0;
	for (size_t i = 0; i < c->n_images; i++) {
		if (!*item_text(m, v, "src", c->images[i].src, &src))
			continue;
		if (!k++) {
			pane_json_key(j, "images");
			pane_json_arr(j);
		}
		pane_json_obj(j);
		jstr(j, "src", src.data);
		jstr(j, "alt", item_text(m, v, "alt", c->images[i].alt, x));
		jstr(j, "href", item_text(m, v, "href", c->images[i].href, x));
		pane_json_obj_end(j);
	}
	if (k)
		pane_json_arr_end(j);
	pane_buf_release(&src);
}

void pane_notify_pagerduty_payload(struct pane_buf *b, const struct pane_am_pagerduty *c, const struct nmsg *m)
{
	uint8_t d[PANE_SHA256_LEN];
	char hex[2 * PANE_SHA256_LEN + 1];
	pane_sha256(m->group_key, strlen(m->group_key), d);
	pane_sha256_hex(d, hex);
	size_t nf = n_firing(m);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	jstr(&j, "routing_key", c->routing_key);
	jstr(&j, "dedup_key", hex);
	jstr(&j, "event_action", nf ? "trigger" : "resolve");
	/* a resolve carries the payload too, as Alertmanager's does */
	struct amview v;
	amview_init(&v, m);
	struct pane_buf t, link, x;
	pane_buf_init(&t, PANE_BUF_NOLIMIT);
	pane_buf_init(&link, PANE_BUF_NOLIMIT);
	pane_buf_init(&x, PANE_BUF_NOLIMIT);
	/* each set field is a template; what expands to "" is left out, as Alertmanager does */
	struct pane_am_pagerduty cc = *c;
	char *own[7] = {0};
	const char *names[7] = {"client", "client_url", "severity", "class", "component", "group", "source"};
	char **fields[7] = {&cc.client, &cc.client_url, &cc.severity, &cc.class, &cc.component, &cc.group, &cc.source};
	for (size_t i = 0; i < 7; i++) {
		if (!*fields[i])
			continue;
		if (user_text(m, &v, names[i], *fields[i], &x) && x.len)
			*fields[i] = own[i] = pane_xstrdup(x.data);
		else
			*fields[i] = NULL;
	}
	c = &cc;
	if (!user_text(m, &v, "description", c->description, &t))
		pane_notify_subject(&t, m);
	if (t.len > 1024)
		pane_buf_truncate(&t, 1024);
	console_link(&link, m);
	pane_json_key(&j, "payload");
	pane_json_obj(&j);
	jstr(&j, "summary", t.data);
	jstr(&j, "source", c->source ? c->source : c->client ? c->client : "pane");
	jstr(&j, "severity", pd_severity(c, m));
	pane_json_key(&j, "timestamp");
	pane_notify_json_time(&j, pane_wall_ms());
	if (c->component)
		jstr(&j, "component", c->component);
	if (c->group)
		jstr(&j, "group", c->group);
	if (c->class)
		jstr(&j, "class", c->class);
	pane_json_key(&j, "custom_details");
	if (c->n_details)
		pd_details(&j, c, m, &v, &x);
	else
		pd_own_details(&j, m, nf);
	pane_json_obj_end(&j);
	jstr(&j, "client", c->client ? c->client : "pane");
	jstr(&j, "client_url", c->client_url ? c->client_url : link.data);
	if (c->has_links)
		pd_links(&j, c, m, &v, &x);
	else
		pd_own_links(&j, m, link.data);
	if (c->has_images)
		pd_images(&j, c, m, &v, &x);
	pane_buf_release(&t);
	pane_buf_release(&link);
	pane_buf_release(&x);
	for (size_t i = 0; i < 7; i++)
		free(own[i]);
	amview_release(&v);
	pane_json_obj_end(&j);
}

void pane_notify_webhook_payload(struct pane_buf *b, const struct pane_am_webhook *c, const struct nmsg *m)
{
	size_t nf = n_firing(m), n = m->n, truncated = 0;
	if (c->max_alerts > 0 && (int64_t)n > c->max_alerts) {
		truncated = n - (size_t)c->max_alerts;
		n = (size_t)c->max_alerts;
	}
	struct pane_labels cl, ca;
	common_labels(m, false, &cl);
	common_labels(m, true, &ca);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	jstr(&j, "version", "4");
	jstr(&j, "groupKey", m->group_key);
	pane_json_key(&j, "truncatedAlerts");
	pane_json_uint(&j, truncated);
	jstr(&j, "status", nf ? "firing" : "resolved");
	jstr(&j, "receiver", m->receiver);
	pane_json_key(&j, "groupLabels");
	pane_labels_json_value(&j, m->group_labels);
	pane_json_key(&j, "commonLabels");
	pane_labels_json_value(&j, &cl);
	pane_json_key(&j, "commonAnnotations");
	pane_labels_json_value(&j, &ca);
	jstr(&j, "externalURL", m->external_url);
	pane_json_key(&j, "alerts");
	pane_json_arr(&j);
	for (size_t i = 0; i < n; i++) {
		const struct nsnap *a = &m->alerts[i];
		pane_json_obj(&j);
		jstr(&j, "status", a->resolved ? "resolved" : "firing");
		pane_json_key(&j, "labels");
		pane_labels_json_value(&j, &a->labels);
		pane_json_key(&j, "annotations");
		pane_labels_json_value(&j, &a->annotations);
		pane_json_key(&j, "startsAt");
		pane_notify_json_time(&j, a->starts_ms);
		pane_json_key(&j, "endsAt");
		pane_notify_json_time(&j, a->resolved ? a->ends_ms : 0);
		jstr(&j, "generatorURL", a->generator_url ? a->generator_url : "");
		char fp[24];
		snprintf(fp, sizeof fp, "%016llx", (unsigned long long)a->fp);
		jstr(&j, "fingerprint", fp);
		pane_json_obj_end(&j);
	}
	pane_json_arr_end(&j);
	pane_json_obj_end(&j);
	pane_labels_release(&cl);
	pane_labels_release(&ca);
}
