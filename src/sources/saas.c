/*
 * saas.c - helpers shared by the SaaS API sources (see saas.h).
 *
 * Idea: Render and Sentry differ in their URLs and shapes, not in how a
 * response becomes trustworthy data. The common steps - a bounded GET that
 * must parse as JSON, timestamps with microseconds compared exactly, a clock
 * that may run ahead, and the difference between "down" and "partly
 * delivered" - live here once.
 */
#include "sources/saas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"

int pane_saas_get_json(struct pane_source *src, struct pane_http_client *c, const char *url, const char *bearer,
                       struct pane_http_response *resp, json_t **root, struct pane_err *err)
{
	*root = NULL;
	int rc = pane_http_client_do(c, &(struct pane_http_request){.url = url, .bearer = bearer}, resp, err);
	if (rc < 0)
		return rc;
	json_error_t je;
	*root = json_loadb(resp->body.data, resp->body.len, JSON_DECODE_ANY, &je);
	if (!*root) {
		pane_source_set_reason(src, "malformed");
		size_t n = strcspn(url, "?");
		return pane_err_set(err, PANE_EINVAL, "GET %.*s: malformed JSON: %s (line %d)",
		                    (int)(n > 200 ? 200 : n), url, je.text, je.line);
	}
	return 0;
}

const char *pane_saas_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t pane_saas_clamp_ts(struct pane_saas_partial *p, int64_t ts_ms, int64_t now_ms, int64_t max_skew_ms)
{
	if (ts_ms <= now_ms + max_skew_ms)
		return ts_ms;
	p->skewed++;
	pane_saas_partial_add(p, "clock_skew");
	return now_ms;
}

void pane_saas_partial_add(struct pane_saas_partial *p, const char *reason)
{
	p->this_round = true;
	size_t i = 0;
	while (i < p->n && strcmp(p->reason[i], reason) != 0)
		i++;
	if (i == p->n) {
		if (p->n == PANE_SAAS_REASONS_MAX)
			i = p->n - 1; /* fold into the last slot rather than grow */
		else
			snprintf(p->reason[p->n++], sizeof p->reason[0], "%s", reason);
	}
	p->count[i]++;
}

void pane_saas_partial_emit(struct pane_source *src, struct pane_saas_partial *p)
{
	const char *inst = pane_source_name(src);
	for (size_t i = 0; i < p->n; i++)
		pane_source_emit_samplev(src, "pane_source_partial_errors_total", 0, (double)p->count[i], "source",
		                         inst, "reason", p->reason[i], NULL);
	pane_source_emit_samplev(src, "pane_source_partial", 0, p->this_round ? 1 : 0, "source", inst, NULL);
	pane_source_emit_samplev(src, "pane_source_skewed_records_total", 0, (double)p->skewed, "source", inst, NULL);
	p->this_round = false;
}

json_t *pane_saas_cursor_load(struct pane_source *src)
{
	char *text = NULL;
	struct pane_err e = {0};
	int rc = pane_source_cursor_load(src, &text, &e);
	if (rc == PANE_ENOTFOUND)
		return json_object();
	if (rc < 0) {
		pane_warn("sources", "source %s: cursor unreadable, starting afresh: %s", pane_source_name(src), e.msg);
		return json_object();
	}
	json_t *root = json_loads(text, 0, NULL);
	free(text);
	if (!json_is_object(root)) {
		pane_warn("sources", "source %s: cursor file is not a JSON object, starting afresh",
		          pane_source_name(src));
		json_decref(root);
		return json_object();
	}
	return root;
}

int pane_saas_cursor_save(struct pane_source *src, const json_t *state, struct pane_err *err)
{
	/* the cursor never runs ahead of what the store accepted */
	int frc = pane_source_flush(src, err);
	if (frc < 0)
		return frc;
	char *text = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return pane_err_set(err, PANE_EIO, "cannot serialise the cursor");
	int rc = strlen(text) >= PANE_SOURCE_CURSOR_MAX
	             ? pane_err_set(err, PANE_ETOOBIG, "cursor of %zu bytes is over the limit", strlen(text))
	             : pane_source_cursor_save(src, text, err);
	free(text);
	if (rc < 0)
		pane_source_set_reason(src, "cursor");
	return rc;
}

int pane_saas_url(struct pane_buf *u, const char *base, const char *path)
{
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	if (pane_buf_add(u, base, bl) < 0 || pane_buf_adds(u, path) < 0)
		return PANE_ETOOBIG;
	return 0;
}
