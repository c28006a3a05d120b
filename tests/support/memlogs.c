/* memlogs.c - an in-memory log reader for tests (memlogs.h). */
#include "memlogs.h"

#include <string.h>

#include "base/regex.h"

static int match(const struct pane_matcher *m, size_t n, const struct pane_labels *ls)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = pane_labels_get(ls, m[i].name);
		if (!v)
			v = "";
		int r;
		if (m[i].op == PANE_MATCH_EQ || m[i].op == PANE_MATCH_NE) {
			r = (strcmp(v, m[i].value) == 0) == (m[i].op == PANE_MATCH_EQ);
		} else {
			struct pane_err e = {0};
			pcre2_code *re = pane_regex_compile(m[i].value, PANE_REGEX_DOTALL, &e);
			if (!re)
				return -1;
			r = pane_regex_match(re, v, strlen(v), NULL);
			pcre2_code_free(re);
			if (r < 0)
				return -1;
			r = r == (m[i].op == PANE_MATCH_RE);
		}
		if (!r)
			return 0;
	}
	return 1;
}

static int mem_select(void *ctx, const struct pane_log_select *s, pane_log_line_fn fn, void *arg, struct pane_err *err)
{
	const struct pt_memlogs *m = ctx;
	size_t n = 0;
	for (size_t k = 0; k < m->n_lines; k++) {
		size_t idx = s->forward ? k : m->n_lines - 1 - k;
		const struct pt_memlog_line *l = &m->lines[idx];
		if (l->ts < s->mint || l->ts > s->maxt)
			continue;
		int r = match(s->matchers, s->n_matchers, &m->streams[l->stream]);
		if (r < 0)
			return pane_err_set(err, PANE_EINVAL, "bad matcher");
		if (!r)
			continue;
		struct pane_log_line ll = {.ts_ms = l->ts,
		                           .id = (int64_t)idx,
		                           .labels = &m->streams[l->stream],
		                           .labels_json = m->streams_json[l->stream],
		                           .message = l->msg,
		                           .message_len = strlen(l->msg)};
		r = fn(arg, &ll);
		if (r < 0)
			return r;
		if (r > 0 || (s->limit && ++n == s->limit))
			break;
	}
	return 0;
}

static int mem_streams(void *ctx, const struct pane_matcher *mt, size_t n, int64_t mint, int64_t maxt,
                       pane_log_stream_fn fn, void *arg, struct pane_err *err)
{
	const struct pt_memlogs *m = ctx;
	for (size_t i = 0; i < m->n_streams; i++) {
		struct pane_log_stream st = {.labels = &m->streams[i]};
		for (size_t k = 0; k < m->n_lines; k++)
			if (m->lines[k].stream == (int)i && m->lines[k].ts >= mint && m->lines[k].ts <= maxt) {
				st.entries++;
				st.bytes += strlen(m->lines[k].msg);
			}
		int r = match(mt, n, &m->streams[i]);
		if (r < 0)
			return pane_err_set(err, PANE_EINVAL, "bad matcher");
		if (r && st.entries && (r = fn(arg, &st)) != 0)
			return r < 0 ? r : 0;
	}
	return 0;
}

static int mem_events(void *ctx, const struct pane_event_select *s, pane_event_row_fn fn, void *arg,
                      struct pane_err *err)
{
	return 0;
}

struct pane_logreader pt_memlogs_reader(const struct pt_memlogs *m)
{
	static const struct pane_logreader_ops ops = {
	    .select = mem_select, .streams = mem_streams, .events = mem_events};
	return (struct pane_logreader){.ops = &ops, .ctx = (void *)m};
}
