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

void pane_notify_time(struct pane_buf *b, int64_t ms)
{
	char t[40];
	time_text(ms, t, sizeof t);
	pane_buf_addf(b, "\"%s\"", t);
}

void pane_notify_json_time(struct pane_json *j, int64_t ms)
{
	char t[40];
	time_text(ms, t, sizeof t);
	pane_json_str(j, t);
}

void pane_notify_json_labels(struct pane_json *j, const struct pane_labels *ls)
{
	pane_json_raw(j, ""); /* pane_labels_json writes the object itself */
	if (!j->rc)
		pane_labels_json(ls, j->b);
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

static void jstr(struct pane_buf *b, const char *key, const char *v)
{
	pane_buf_addf(b, "\"%s\":", key);
	pane_buf_add_json_str(b, v, strlen(v));
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

/* A JSON object written member by member, the comma placed by need. */
struct jobj {
	struct pane_buf *b;
	bool any;
};

static void jobj_open(struct jobj *o, struct pane_buf *b)
{
	*o = (struct jobj){b, false};
	pane_buf_addc(b, '{');
}

static void jobj_key(struct jobj *o, const char *key)
{
	pane_buf_addf(o->b, "%s\"%s\":", o->any ? "," : "", key);
	o->any = true;
}

/* "key":"expanded template", left out when it expands to "" (Go's omitempty) */
static void jobj_opt(struct jobj *o, const struct nmsg *m, const struct amview *v, const char *key,
                     const char *text, struct pane_buf *x)
{
	const char *s = item_text(m, v, key, text, x);
	if (!*s)
		return;
	jobj_key(o, key);
	pane_buf_add_json_str(o->b, s, strlen(s));
}

/* "key":"expanded template", always (no omitempty in Alertmanager's struct) */
static void jobj_str(struct jobj *o, const struct nmsg *m, const struct amview *v, const char *key,
                     const char *text, struct pane_buf *x)
{
	const char *s = item_text(m, v, key, text, x);
	jobj_key(o, key);
	pane_buf_add_json_str(o->b, s, strlen(s));
}

/* Slack's attachment extras as Alertmanager sends them: callback_id,
 * fields (short from the field, else short_fields), actions (a link button
 * or a message action with its confirmation), image_url, thumb_url; each
 * text a template, empty ones left out as Go's omitempty does. */
static void slack_extras(struct pane_buf *b, const struct pane_am_slack *c, const struct nmsg *m,
                         const struct amview *v, struct pane_buf *x)
{
	struct jobj o;
	if (c->callback_id) {
		const char *s = item_text(m, v, "callback_id", c->callback_id, x);
		pane_buf_addc(b, ',');
		jstr(b, "callback_id", s);
	}
	if (c->n_fields) {
		pane_buf_adds(b, ",\"fields\":[");
		for (size_t i = 0; i < c->n_fields; i++) {
			const struct pane_am_slack_field *f = &c->fields[i];
			bool is_short = f->is_short >= 0 ? f->is_short == 1 : c->short_fields;
			if (i)
				pane_buf_addc(b, ',');
			jobj_open(&o, b);
			jobj_opt(&o, m, v, "title", f->title, x);
			jobj_opt(&o, m, v, "value", f->value, x);
			jobj_key(&o, "short");
			pane_buf_adds(b, is_short ? "true}" : "false}");
		}
		pane_buf_addc(b, ']');
	}
	if (c->n_actions) {
		pane_buf_adds(b, ",\"actions\":[");
		for (size_t i = 0; i < c->n_actions; i++) {
			const struct pane_am_slack_action *a = &c->actions[i];
			if (i)
				pane_buf_addc(b, ',');
			jobj_open(&o, b);
			jobj_opt(&o, m, v, "type", a->type, x);
			jobj_opt(&o, m, v, "text", a->text, x);
			jobj_opt(&o, m, v, "url", a->url, x);
			jobj_opt(&o, m, v, "style", a->style, x);
			jobj_opt(&o, m, v, "name", a->name, x);
			jobj_opt(&o, m, v, "value", a->value, x);
			if (a->has_confirm) {
				struct jobj co;
				jobj_key(&o, "confirm");
				jobj_open(&co, b);
				jobj_opt(&co, m, v, "text", a->confirm_text, x);
				jobj_opt(&co, m, v, "title", a->confirm_title, x);
				jobj_opt(&co, m, v, "ok_text", a->confirm_ok_text, x);
				jobj_opt(&co, m, v, "dismiss_text", a->confirm_dismiss_text, x);
				pane_buf_addc(b, '}');
			}
			pane_buf_addc(b, '}');
		}
		pane_buf_addc(b, ']');
	}
	const char *s = item_text(m, v, "image_url", c->image_url, x);
	if (*s) {
		pane_buf_addc(b, ',');
		jstr(b, "image_url", s);
	}
	s = item_text(m, v, "thumb_url", c->thumb_url, x);
	if (*s) {
		pane_buf_addc(b, ',');
		jstr(b, "thumb_url", s);
	}
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
	pane_buf_adds(b, "{");
	static const char *const top[] = {"channel", "username", "icon_emoji", "icon_url"};
	const char *topv[] = {c->channel, c->username, c->icon_emoji, c->icon_url};
	for (size_t i = 0; i < 4; i++) {
		if (!topv[i] || !user_text(m, &v, top[i], topv[i], &x))
			continue;
		jstr(b, top[i], x.data ? x.data : "");
		pane_buf_addc(b, ',');
	}
	if (c->link_names)
		pane_buf_adds(b, "\"link_names\":true,");
	/* top-level text too: what notifications and clients without attachments show */
	jstr(b, "text", title.data ? title.data : "");
	pane_buf_adds(b, ",\"attachments\":[{");
	jstr(b, "title", title.data ? title.data : "");
	pane_buf_addc(b, ',');
	jstr(b, "title_link", link.data ? link.data : "");
	if (user_text(m, &v, "pretext", c->pretext, &x)) {
		pane_buf_addc(b, ',');
		jstr(b, "pretext", x.data ? x.data : "");
	}
	pane_buf_addc(b, ',');
	jstr(b, "text", text.data ? text.data : "");
	pane_buf_addc(b, ',');
	jstr(b, "fallback", fb.data ? fb.data : "");
	if (user_text(m, &v, "footer", c->footer, &x)) {
		pane_buf_addc(b, ',');
		jstr(b, "footer", x.data ? x.data : "");
	}
	pane_buf_addc(b, ',');
	if (user_text(m, &v, "color", c->color, &x))
		jstr(b, "color", x.data ? x.data : "");
	else
		jstr(b, "color", firing ? "danger" : "good");
	slack_extras(b, c, m, &v, &x);
	if (c->n_mrkdwn_in) {
		pane_buf_adds(b, ",\"mrkdwn_in\":[");
		for (size_t i = 0; i < c->n_mrkdwn_in; i++) {
			if (i)
				pane_buf_addc(b, ',');
			pane_buf_add_json_str(b, c->mrkdwn_in[i], strlen(c->mrkdwn_in[i]));
		}
		pane_buf_adds(b, "]}]}");
	} else {
		pane_buf_adds(b, ",\"mrkdwn_in\":[\"fallback\",\"pretext\",\"text\"]}]}");
	}
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
	/* the highest severity label among the firing alerts */
	static const char *const order[] = {"critical", "error", "warning", "info"};
	int best = 4;
	for (size_t i = 0; i < m->n; i++) {
		const char *s = pane_labels_get(&m->alerts[i].labels, "severity");
		if (!s || m->alerts[i].resolved)
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
static void pd_own_details(struct pane_buf *b, const struct nmsg *m, size_t nf)
{
	pane_buf_addf(b, "{\"num_firing\":%zu,\"num_resolved\":%zu,\"firing\":[", nf, m->n - nf);
	bool first = true;
	for (size_t i = 0; i < m->n; i++) {
		if (m->alerts[i].resolved)
			continue;
		pane_buf_adds(b, first ? "{\"labels\":" : ",{\"labels\":");
		first = false;
		pane_labels_json(&m->alerts[i].labels, b);
		pane_buf_adds(b, ",\"annotations\":");
		pane_labels_json(&m->alerts[i].annotations, b);
		pane_buf_adds(b, ",\"startsAt\":");
		pane_notify_time(b, m->alerts[i].starts_ms);
		pane_buf_addc(b, '}');
	}
	pane_buf_adds(b, "]}");
}

/* Alertmanager's: every detail (sorted by name at load) a string */
static void pd_details(struct pane_buf *b, const struct pane_am_pagerduty *c, const struct nmsg *m,
                       const struct amview *v, struct pane_buf *x)
{
	struct jobj o;
	jobj_open(&o, b);
	for (size_t i = 0; i < c->n_details; i++)
		jobj_str(&o, m, v, c->details[i].name, c->details[i].value, x);
	pane_buf_addc(b, '}');
}

/* pane's own links: the console and the first firing alert's rule */
static void pd_own_links(struct pane_buf *b, const struct nmsg *m, const char *console)
{
	pane_buf_adds(b, ",\"links\":[{");
	jstr(b, "href", console);
	pane_buf_adds(b, ",\"text\":\"pane alerts\"}");
	for (size_t i = 0; i < m->n; i++) {
		if (m->alerts[i].resolved || !m->alerts[i].generator_url || !*m->alerts[i].generator_url)
			continue;
		pane_buf_adds(b, ",{");
		jstr(b, "href", m->alerts[i].generator_url);
		pane_buf_adds(b, ",\"text\":\"rule\"}");
		break;
	}
	pane_buf_addc(b, ']');
}

/* The configured links: those whose href expands to "" are dropped, and
 * no links at all leave the key out, as Alertmanager does */
static void pd_links(struct pane_buf *b, const struct pane_am_pagerduty *c, const struct nmsg *m,
                     const struct amview *v, struct pane_buf *x)
{
	struct pane_buf href;
	pane_buf_init(&href, PANE_BUF_NOLIMIT);
	size_t k = 0;
	for (size_t i = 0; i < c->n_links; i++) {
		if (!*item_text(m, v, "href", c->links[i].href, &href))
			continue;
		pane_buf_adds(b, k++ ? ",{" : ",\"links\":[{");
		jstr(b, "href", href.data);
		pane_buf_addc(b, ',');
		jstr(b, "text", item_text(m, v, "text", c->links[i].text, x));
		pane_buf_addc(b, '}');
	}
	if (k)
		pane_buf_addc(b, ']');
	pane_buf_release(&href);
}

/* The configured images, kept when src expands to something */
static void pd_images(struct pane_buf *b, const struct pane_am_pagerduty *c, const struct nmsg *m,
                      const struct amview *v, struct pane_buf *x)
{
	struct pane_buf src;
	pane_buf_init(&src, PANE_BUF_NOLIMIT);
	size_t k = 0;
	for (size_t i = 0; i < c->n_images; i++) {
		if (!*item_text(m, v, "src", c->images[i].src, &src))
			continue;
		pane_buf_adds(b, k++ ? ",{" : ",\"images\":[{");
		jstr(b, "src", src.data);
		pane_buf_addc(b, ',');
		jstr(b, "alt", item_text(m, v, "alt", c->images[i].alt, x));
		pane_buf_addc(b, ',');
		jstr(b, "href", item_text(m, v, "href", c->images[i].href, x));
		pane_buf_addc(b, '}');
	}
	if (k)
		pane_buf_addc(b, ']');
	pane_buf_release(&src);
}

void pane_notify_pagerduty_payload(struct pane_buf *b, const struct pane_am_pagerduty *c, const struct nmsg *m)
{
	uint8_t d[PANE_SHA256_LEN];
	char hex[2 * PANE_SHA256_LEN + 1];
	pane_sha256(m->group_key, strlen(m->group_key), d);
	pane_sha256_hex(d, hex);
	size_t nf = n_firing(m);
	pane_buf_adds(b, "{");
	jstr(b, "routing_key", c->routing_key);
	pane_buf_addc(b, ',');
	jstr(b, "dedup_key", hex);
	pane_buf_addc(b, ',');
	jstr(b, "event_action", nf ? "trigger" : "resolve");
	if (nf) {
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
		char **fields[7] = {&cc.client,    &cc.client_url, &cc.severity, &cc.class,
		                    &cc.component, &cc.group,      &cc.source};
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
		pane_buf_adds(b, ",\"payload\":{");
		jstr(b, "summary", t.data);
		pane_buf_addc(b, ',');
		jstr(b, "source", c->source ? c->source : c->client ? c->client : "pane");
		pane_buf_addc(b, ',');
		jstr(b, "severity", pd_severity(c, m));
		pane_buf_adds(b, ",\"timestamp\":");
		pane_notify_time(b, pane_wall_ms());
		if (c->component) {
			pane_buf_addc(b, ',');
			jstr(b, "component", c->component);
		}
		if (c->group) {
			pane_buf_addc(b, ',');
			jstr(b, "group", c->group);
		}
		if (c->class) {
			pane_buf_addc(b, ',');
			jstr(b, "class", c->class);
		}
		pane_buf_adds(b, ",\"custom_details\":");
		if (c->n_details)
			pd_details(b, c, m, &v, &x);
		else
			pd_own_details(b, m, nf);
		pane_buf_addc(b, '}');
		pane_buf_addc(b, ',');
		jstr(b, "client", c->client ? c->client : "pane");
		pane_buf_addc(b, ',');
		jstr(b, "client_url", c->client_url ? c->client_url : link.data);
		if (c->has_links)
			pd_links(b, c, m, &v, &x);
		else
			pd_own_links(b, m, link.data);
		if (c->has_images)
			pd_images(b, c, m, &v, &x);
		pane_buf_release(&t);
		pane_buf_release(&link);
		pane_buf_release(&x);
		for (size_t i = 0; i < 7; i++)
			free(own[i]);
		amview_release(&v);
	}
	pane_buf_addc(b, '}');
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
	pane_buf_adds(b, "{\"version\":\"4\",");
	jstr(b, "groupKey", m->group_key);
	pane_buf_addf(b, ",\"truncatedAlerts\":%zu,", truncated);
	jstr(b, "status", nf ? "firing" : "resolved");
	pane_buf_addc(b, ',');
	jstr(b, "receiver", m->receiver);
	pane_buf_adds(b, ",\"groupLabels\":");
	pane_labels_json(m->group_labels, b);
	pane_buf_adds(b, ",\"commonLabels\":");
	pane_labels_json(&cl, b);
	pane_buf_adds(b, ",\"commonAnnotations\":");
	pane_labels_json(&ca, b);
	pane_buf_addc(b, ',');
	jstr(b, "externalURL", m->external_url);
	pane_buf_adds(b, ",\"alerts\":[");
	for (size_t i = 0; i < n; i++) {
		const struct nsnap *a = &m->alerts[i];
		pane_buf_adds(b, i ? ",{" : "{");
		jstr(b, "status", a->resolved ? "resolved" : "firing");
		pane_buf_adds(b, ",\"labels\":");
		pane_labels_json(&a->labels, b);
		pane_buf_adds(b, ",\"annotations\":");
		pane_labels_json(&a->annotations, b);
		pane_buf_adds(b, ",\"startsAt\":");
		pane_notify_time(b, a->starts_ms);
		pane_buf_adds(b, ",\"endsAt\":");
		pane_notify_time(b, a->resolved ? a->ends_ms : 0);
		pane_buf_addc(b, ',');
		jstr(b, "generatorURL", a->generator_url ? a->generator_url : "");
		pane_buf_addf(b, ",\"fingerprint\":\"%016llx\"}", (unsigned long long)a->fp);
	}
	pane_buf_adds(b, "]}");
	pane_labels_release(&cl);
	pane_labels_release(&ca);
}
