/*
 * silence.c - silences: Alertmanager's silence objects in and out, and
 * whether one mutes an alert now.
 *
 * Idea: a silence keeps the API's matcher list as it was posted (JSON, to
 * answer with) beside the compiled matchers (pipeline/labelmatch.h, to
 * match with), so the API echoes what it was given without re-printing
 * matchers.
 *
 * Invariants:
 *   (1) a silence has at least one matcher, one that does not match the
 *       empty string, createdBy, comment, and ends after it starts;
 *   (2) it mutes in [startsAt, endsAt).
 *
 * Threads: callers hold nt->mu for the list (nt->sil).
 */
#include "notify/notify_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/mem.h"

void pane_notify_silence_free(struct nsilence *s)
{
	if (!s)
		return;
	json_decref(s->matchers);
	pane_am_matchers_release(&s->m);
	free(s->created_by);
	free(s->comment);
	free(s);
}

/* Alertmanager's gettable silence; now == 0 (the store's copy) says active. */
void pane_notify_silence_json(struct pane_json *j, const struct nsilence *s, int64_t now)
{
	pane_json_obj(j);
	pane_json_key(j, "id");
	pane_json_str(j, s->id);
	pane_json_key(j, "status");
	pane_json_obj(j);
	pane_json_key(j, "state");
	pane_json_str(j, now == 0             ? "active"
	                 : now < s->starts_ms ? "pending"
	                 : now >= s->ends_ms  ? "expired"
	                                      : "active");
	pane_json_obj_end(j);
	pane_json_key(j, "updatedAt");
	pane_notify_json_time(j, s->updated_ms);
	pane_json_key(j, "comment");
	pane_json_str(j, s->comment);
	pane_json_key(j, "createdBy");
	pane_json_str(j, s->created_by);
	pane_json_key(j, "startsAt");
	pane_notify_json_time(j, s->starts_ms);
	pane_json_key(j, "endsAt");
	pane_notify_json_time(j, s->ends_ms);
	char *m = json_dumps(s->matchers, JSON_COMPACT);
	pane_json_key(j, "matchers");
	pane_json_raw(j, m ? m : "[]");
	free(m);
	pane_json_obj_end(j);
}

struct nsilence *pane_notify_silence_from_json(json_t *o, struct pane_err *err)
{
	if (!json_is_object(o)) {
		pane_err_set(err, PANE_EINVAL, "expected a silence object");
		return NULL;
	}
	struct nsilence *s = pane_xcalloc(1, sizeof *s);
	json_t *ms = json_object_get(o, "matchers");
	const char *cb = json_string_value(json_object_get(o, "createdBy"));
	const char *cm = json_string_value(json_object_get(o, "comment"));
	if (!json_is_array(ms) || json_array_size(ms) == 0) {
		pane_err_set(err, PANE_EINVAL, "a silence needs at least one matcher");
		goto fail;
	}
	if (!cb || !*cb || !cm || !*cm) {
		pane_err_set(err, PANE_EINVAL, "a silence needs createdBy and comment");
		goto fail;
	}
	s->created_by = pane_xstrdup(cb);
	s->comment = pane_xstrdup(cm);
	if (pane_notify_time_from_json(json_object_get(o, "startsAt"), &s->starts_ms, err) < 0 ||
	    pane_notify_time_from_json(json_object_get(o, "endsAt"), &s->ends_ms, err) < 0)
		goto fail;
	if (s->ends_ms <= 0 || s->ends_ms <= s->starts_ms) {
		pane_err_set(err, PANE_EINVAL, "endsAt must be after startsAt");
		goto fail;
	}
	s->matchers = json_array();
	bool any_nonempty = false;
	size_t i;
	json_t *m;
	json_array_foreach(ms, i, m)
	{
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *value = json_string_value(json_object_get(m, "value"));
		json_t *isre = json_object_get(m, "isRegex"), *iseq = json_object_get(m, "isEqual");
		if (!name || !value || !json_is_boolean(isre)) {
			pane_err_set(err, PANE_EINVAL, "a matcher needs name, value and isRegex");
			goto fail;
		}
		bool re = json_is_true(isre), eq = !iseq || json_is_true(iseq);
		enum pane_am_op op = re ? (eq ? PANE_AM_RE : PANE_AM_NRE) : (eq ? PANE_AM_EQ : PANE_AM_NE);
		if (pane_am_matcher_add(&s->m, name, value, op, err) < 0)
			goto fail;
		if (!pane_am_matcher_matches(&s->m.v[s->m.n - 1], ""))
			any_nonempty = true;
		json_array_append_new(s->matchers, json_pack("{s:s,s:s,s:b,s:b}", "name", name, "value", value,
		                                             "isRegex", re, "isEqual", eq));
	}
	if (!any_nonempty) {
		pane_err_set(err, PANE_EINVAL, "at least one matcher must not match the empty string");
		goto fail;
	}
	return s;
fail:
	pane_notify_silence_free(s);
	return NULL;
}

struct nsilence *pane_notify_silence_find(struct notify *nt, const char *id)
{
	for (size_t i = 0; i < nt->n_sil; i++)
		if (!strcmp(nt->sil[i]->id, id))
			return nt->sil[i];
	return NULL;
}

void pane_notify_silence_new_id(char out[40])
{
	uint64_t a = pane_random_u64(), b = pane_random_u64();
	snprintf(out, 40, "%08llx-%04llx-4%03llx-%04llx-%012llx", (unsigned long long)(a >> 32),
	         (unsigned long long)((a >> 16) & 0xffff), (unsigned long long)(a & 0xfff),
	         (unsigned long long)(0x8000 | ((b >> 48) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffull));
}

bool pane_notify_silenced_by(struct notify *nt, const struct pane_labels *ls, int64_t now, struct pane_json *ids)
{
	bool any = false;
	for (size_t i = 0; i < nt->n_sil; i++) {
		struct nsilence *s = nt->sil[i];
		if (now < s->starts_ms || now >= s->ends_ms || !pane_am_matchers_match(&s->m, ls))
			continue;
		if (ids)
			pane_json_str(ids, s->id);
		any = true;
	}
	return any;
}
