/*
 * logpush.c - Loki JSON push and JSON-lines log receivers (see logpush.h).
 *
 * Idea: both bodies are small documents of log lines that differ only in
 * where labels and timestamps sit, so both end in the same batch writer:
 * a fixed array of log records written to the pipeline when full. A line
 * that cannot become a record (bad timestamp, not an object, bad UTF-8) is
 * counted with the first reason kept for the response; its neighbours are
 * still written.
 *
 * Loki's protobuf push (snappy-decoded by the handler) is unpacked by
 * protobuf-c and walked directly: its stream labels are a LogQL selector
 * ({name="value", ...}, Go string escapes) read by parse_selector(), and
 * each entry's structured metadata becomes the fields JSON, exactly as the
 * JSON form's third array element does. Configured default labels fill
 * what a stream lacks in every form.
 */
#include "receivers/logpush.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/utf8.h"
#include "receivers/defaults.h"
#include "receivers/loki_push.pb-c.h"
#include "receivers/pbjson.h"
#include "receivers/promtext.h"

#define LBATCH 128

struct lb {
	struct pane_pipeline *p;
	struct pane_logpush_result *res;
	struct pane_err *err;
	int rc;
	struct pane_log_record recs[LBATCH];
	struct pane_labels lsets[LBATCH];
	char *msgs[LBATCH], *fields[LBATCH];
	size_t n;
};

static void lflush(struct lb *b)
{
	if (b->n && b->rc == 0) {
		int r = pane_pipeline_write_logs(b->p, b->recs, b->n, b->err);
		if (r < 0)
			b->rc = r;
		else
			b->res->accepted += b->n;
	}
	for (size_t i = 0; i < b->n; i++) {
		pane_labels_release(&b->lsets[i]);
		free(b->msgs[i]);
		free(b->fields[i]);
	}
	b->n = 0;
}

static void lreject(struct lb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Takes ownership of msg and fields. A message over PANE_LOG_MESSAGE_MAX
 * is refused alone: the rest of the push is stored, once. */
static void ladd(struct lb *b, const struct pane_labels *ls, int64_t ts, enum pane_log_severity sev, char *msg,
                 size_t mlen, char *fields)
{
	int64_t ahead = pane_pipeline_max_future(b->p);
	if (ahead > 0 && ts > pane_wall_ms() + ahead) {
		lreject(b, "a log timestamp is more than store.max_future ahead of this clock");
		free(msg);
		free(fields);
		return;
	}
	if (mlen > PANE_LOG_MESSAGE_MAX) {
		lreject(b, "a log line of %zu bytes is over the %u-byte limit", mlen, PANE_LOG_MESSAGE_MAX);
		free(msg);
		free(fields);
		return;
	}
	if (b->n == LBATCH)
		lflush(b);
	pane_labels_copy(&b->lsets[b->n], ls);
	b->msgs[b->n] = msg;
	b->fields[b->n] = fields;
	b->recs[b->n] = (struct pane_log_record){.ts_ms = ts,
	                                         .labels = &b->lsets[b->n],
	                                         .severity = sev,
	                                         .message = msg,
	                                         .message_len = mlen,
	                                         .fields_json = fields};
	b->n++;
}

static void lreject(struct lb *b, const char *fmt, ...)
{
	b->res->rejected++;
	if (b->res->first_error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->res->first_error, sizeof b->res->first_error, fmt, ap);
	va_end(ap);
}

int pane_loki_push_json(struct pane_pipeline *p, const char *body, size_t len, const struct pane_labels *defaults,
                        struct pane_logpush_result *res, struct pane_err *err)
{
	memset(res, 0, sizeof *res);
	json_error_t je;
	json_t *root = json_loadb(body, len, 0, &je);
	if (!root)
		return pane_err_set(err, PANE_EINVAL, "body is not valid JSON: %s (line %d)", je.text, je.line);
	if (!json_is_array(json_object_get(root, "streams"))) {
		json_decref(root);
		return pane_err_set(err, PANE_EINVAL, "expected a JSON object with a \"streams\" array");
	}
	struct lb *b = pane_xcalloc(1, sizeof *b);
	b->p = p;
	b->res = res;
	b->err = err;
	json_t *st;
	size_t i;
	json_array_foreach(json_object_get(root, "streams"), i, st)
	{
		struct pane_labels ls;
		pane_labels_init(&ls);
		enum pane_log_severity sev = PANE_SEV_UNKNOWN;
		const char *k;
		json_t *v;
		bool bad_labels = false;
		json_object_foreach(json_object_get(st, "stream"), k, v)
		{
			if (!json_is_string(v))
				continue;
			if (k[0] == '_' && k[1] == '_')
				continue;
			char *name = pane_name_sanitize(k, strlen(k), false);
			if (!pane_utf8_valid(json_string_value(v), json_string_length(v)) ||
			    pane_labels_setn(&ls, name, strlen(name), json_string_value(v), json_string_length(v)) < 0)
				bad_labels = true;
			if (!strcmp(name, "level") || !strcmp(name, "detected_level"))
				sev = pane_log_severity_parse(json_string_value(v), json_string_length(v));
			free(name);
		}
		pane_receivers_fill_defaults(&ls, defaults);
		json_t *vals = json_object_get(st, "values"), *e;
		size_t j;
		json_array_foreach(vals, j, e)
		{
			if (bad_labels) {
				lreject(b, "stream %zu: labels are invalid or too many", i);
				continue;
			}
			json_t *tsj = json_array_get(e, 0), *line = json_array_get(e, 1), *meta = json_array_get(e, 2);
			int64_t ns;
			if (!json_is_string(tsj) ||
			    pane_str_to_i64(pane_str_make(json_string_value(tsj), json_string_length(tsj)), &ns) < 0 ||
			    ns < 0) {
				lreject(b, "stream %zu: timestamp must be a string of Unix nanoseconds", i);
				continue;
			}
			if (!json_is_string(line)) {
				lreject(b, "stream %zu: log line must be a string", i);
				continue;
			}
			char *fields = NULL;
			if (json_is_object(meta) && json_object_size(meta))
				fields = json_dumps(meta, JSON_COMPACT);
			ladd(b, &ls, ns / 1000000, sev,
			     pane_xstrndup(json_string_value(line), json_string_length(line)), json_string_length(line),
			     fields);
		}
		pane_labels_release(&ls);
	}
	lflush(b);
	int rc = b->rc;
	free(b);
	json_decref(root);
	return rc;
}

/* One label of a selector: sets it (name sanitised, "__" names skipped)
 * and the severity when it is level/detected_level. false when invalid. */
static bool sel_label(struct pane_labels *ls, const char *n, size_t nl, const char *v, size_t vl,
                      enum pane_log_severity *sev)
{
	if (nl >= 2 && n[0] == '_' && n[1] == '_')
		return true;
	char *name = pane_name_sanitize(n, nl, false);
	bool ok = pane_utf8_valid(v, vl) && pane_labels_setn(ls, name, strlen(name), v, vl) == 0;
	if (!strcmp(name, "level") || !strcmp(name, "detected_level"))
		*sev = pane_log_severity_parse(v, vl);
	free(name);
	return ok;
}

/* A Loki stream selector, {name="value", ...}, into ls. Values are Go
 * double-quoted strings (\\ \" \n \r \t escapes; backquoted raw strings
 * too). false for anything else (the stream's entries are refused). */
static bool parse_selector(const char *s, size_t len, struct pane_labels *ls, enum pane_log_severity *sev)
{
	size_t i = 0;
	struct pane_buf v;
	pane_buf_init(&v, PANE_LABEL_VALUE_MAX);
	bool ok = false;
#define WS()                                                                                                           \
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))                               \
	i++
	WS();
	if (i >= len || s[i++] != '{')
		goto out;
	for (;;) {
		WS();
		if (i < len && s[i] == '}') {
			i++;
			break;
		}
		size_t ns = i;
		while (i < len && s[i] != '=' && s[i] != ' ' && s[i] != '\t' && s[i] != '}' && s[i] != ',')
			i++;
		size_t nl = i - ns;
		WS();
		if (!nl || i >= len || s[i++] != '=')
			goto out;
		WS();
		if (i >= len || (s[i] != '"' && s[i] != '`'))
			goto out;
		char q = s[i++];
		pane_buf_reset(&v);
		for (;;) {
			if (i >= len)
				goto out;
			char c = s[i++];
			if (c == q)
				break;
			if (c == '\\' && q == '"') {
				if (i >= len)
					goto out;
				c = s[i++];
				switch (c) {
				case 'n': c = '\n'; break;
				case 'r': c = '\r'; break;
				case 't': c = '\t'; break;
				case '\\':
				case '"':
				case '\'': break;
				default: goto out;
				}
			}
			if (pane_buf_addc(&v, c) < 0)
				goto out;
		}
		if (!sel_label(ls, s + ns, nl, v.data, v.len, sev))
			goto out;
		WS();
		if (i < len && s[i] == ',') {
			i++;
			continue;
		}
		if (i < len && s[i] == '}') {
			i++;
			break;
		}
		goto out;
	}
	WS();
	ok = i == len;
#undef WS
out:
	pane_buf_release(&v);
	return ok;
}

int pane_loki_push_pb(struct pane_pipeline *p, const char *pb, size_t len, size_t mem_max,
                      const struct pane_labels *defaults, struct pane_logpush_result *res, struct pane_err *err)
{
	memset(res, 0, sizeof *res);
	struct pane_err ue = {0};
	Loki__PushRequest *req =
	    (Loki__PushRequest *)pane_pb_unpack(&loki__push_request__descriptor, pb, len, mem_max, &ue);
	if (!req) {
		if (err)
			*err = ue;
		return ue.code == PANE_ETOOBIG ? PANE_ETOOBIG : PANE_EINVAL;
	}
	struct lb *b = pane_xcalloc(1, sizeof *b);
	b->p = p;
	b->res = res;
	b->err = err;
	for (size_t i = 0; i < req->n_streams && b->rc == 0; i++) {
		const Loki__StreamAdapter *st = req->streams[i];
		struct pane_labels ls;
		pane_labels_init(&ls);
		enum pane_log_severity sev = PANE_SEV_UNKNOWN;
		bool good = parse_selector(st->labels, strlen(st->labels), &ls, &sev);
		pane_receivers_fill_defaults(&ls, defaults);
		for (size_t j = 0; j < st->n_entries; j++) {
			const Loki__EntryAdapter *e = st->entries[j];
			if (!good) {
				lreject(b, "stream %zu: labels are not a valid selector {name=\"value\", ...}", i);
				continue;
			}
			const Loki__Timestamp *t = e->timestamp;
			if (!t || t->seconds < 0 || t->seconds > INT64_MAX / 1000 || t->nanos < 0 ||
			    t->nanos > 999999999) {
				lreject(b, "stream %zu: entry without a valid timestamp", i);
				continue;
			}
			size_t ll = strlen(e->line);
			if (!pane_utf8_valid(e->line, ll)) {
				lreject(b, "stream %zu: log line is not UTF-8", i);
				continue;
			}
			char *fields = NULL;
			if (e->n_structured_metadata) {
				json_t *o = json_object();
				for (size_t k = 0; k < e->n_structured_metadata; k++) {
					const Loki__LabelPairAdapter *lp = e->structured_metadata[k];
					json_t *v = json_string(lp->value);
					if (v && pane_utf8_valid(lp->name, strlen(lp->name)))
						json_object_set_new(o, lp->name, v);
					else
						json_decref(v);
				}
				if (json_object_size(o))
					fields = json_dumps(o, JSON_COMPACT);
				json_decref(o);
			}
			ladd(b, &ls, t->seconds * 1000 + t->nanos / 1000000, sev, pane_xstrndup(e->line, ll), ll,
			     fields);
		}
		pane_labels_release(&ls);
	}
	lflush(b);
	int rc = b->rc;
	free(b);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	return rc;
}

/* A number of seconds, ms, us or ns since the epoch, told apart by size. */
static int64_t epoch_to_ms(double v)
{
	double a = fabs(v);
	if (a < 1e11)
		return (int64_t)llround(v * 1000.0);
	if (a < 1e14)
		return (int64_t)llround(v);
	if (a < 1e17)
		return (int64_t)llround(v / 1000.0);
	return (int64_t)llround(v / 1e6);
}

int pane_jsonlines_push(struct pane_pipeline *p, const char *body, size_t len, const struct pane_labels *labels,
                        int64_t now_ms, struct pane_logpush_result *res, struct pane_err *err)
{
	memset(res, 0, sizeof *res);
	struct lb *b = pane_xcalloc(1, sizeof *b);
	b->p = p;
	b->res = res;
	b->err = err;
	const char *q = body, *end = body + len;
	size_t lineno = 0;
	while (q < end && b->rc == 0) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		const char *le = nl ? nl : end;
		struct pane_str line = pane_str_trim(pane_str_make(q, (size_t)(le - q)));
		q = nl ? nl + 1 : end;
		lineno++;
		if (line.len == 0)
			continue;
		json_error_t je;
		json_t *o = json_loadb(line.p, line.len, 0, &je);
		if (!json_is_object(o)) {
			json_decref(o);
			lreject(b, "line %zu: not a JSON object", lineno);
			continue;
		}
		int64_t ts = now_ms;
		bool bad_ts = false;
		static const char *const tsk[] = {"ts", "time", "timestamp", "@timestamp"};
		for (int t = 0; t < 4; t++) {
			json_t *v = json_object_get(o, tsk[t]);
			if (!v)
				continue;
			if (json_is_string(v)) {
				if (pane_time_parse(pane_str_make(json_string_value(v), json_string_length(v)), &ts) <
				    0)
					bad_ts = true;
			} else if (json_is_number(v) && isfinite(json_number_value(v))) {
				ts = epoch_to_ms(json_number_value(v));
			} else {
				bad_ts = true;
			}
			json_object_del(o, tsk[t]);
			break;
		}
		if (bad_ts) {
			json_decref(o);
			lreject(b, "line %zu: unreadable timestamp", lineno);
			continue;
		}
		char *msg = NULL;
		static const char *const mk[] = {"msg", "message", "log"};
		for (int t = 0; t < 3 && !msg; t++) {
			json_t *v = json_object_get(o, mk[t]);
			if (json_is_string(v)) {
				msg = pane_xstrndup(json_string_value(v), json_string_length(v));
				json_object_del(o, mk[t]);
			}
		}
		enum pane_log_severity sev = PANE_SEV_UNKNOWN;
		static const char *const lk[] = {"level", "severity", "lvl"};
		for (int t = 0; t < 3; t++) {
			json_t *v = json_object_get(o, lk[t]);
			if (json_is_string(v)) {
				sev = pane_log_severity_parse(json_string_value(v), json_string_length(v));
				json_object_del(o, lk[t]);
				break;
			}
		}
		char *fields = json_object_size(o) ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (!msg)
			msg = pane_xstrdup("");
		ladd(b, labels, ts, sev, msg, strlen(msg), fields);
	}
	lflush(b);
	int rc = b->rc;
	free(b);
	return rc;
}
