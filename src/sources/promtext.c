/*
 * promtext.c - Prometheus text exposition -> (name, labels, value, ts).
 *
 * Idea: a single pass over length-carrying views, line by line, no
 * regular expressions and no copies except the label set it hands out.
 * Strict where ambiguity would corrupt data (a missing quote, junk after
 * the value) and lenient where the format is (trailing comma in labels,
 * spaces around '=' and ',', CRLF). Metadata lines are skipped: pane stores
 * samples, and a counter's type is visible in its _total name.
 */
#include "sources/promtext.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"

static bool name_start(char c, bool metric)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}

static bool name_char(char c, bool metric)
{
	return name_start(c, metric) || (c >= '0' && c <= '9');
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static int parse_line(const char *p, const char *end, int lineno, pane_promtext_cb cb, void *arg,
		      struct pane_buf *val, struct pane_err *err)
{
	const char *ns = p;
	if (p >= end || !name_start(*p, true))
		return pane_err_set(err, PANE_EINVAL, "line %d: expected a metric name", lineno);
	while (p < end && name_char(*p, true))
		p++;
	size_t nlen = (size_t)(p - ns);
	if (nlen > PANE_METRIC_NAME_MAX)
		return pane_err_set(err, PANE_ETOOBIG, "line %d: metric name longer than %d bytes", lineno,
				    PANE_METRIC_NAME_MAX);
	char name[PANE_METRIC_NAME_MAX + 1];
	memcpy(name, ns, nlen);
	name[nlen] = '\0';
	struct pane_labels ls;
	pane_labels_init(&ls);
	int rc = 0;
	p = skip_ws(p, end);
	if (p < end && *p == '{') {
		p++;
		for (;;) {
			p = skip_ws(p, end);
			if (p < end && *p == '}') {
				p++;
				break;
			}
			const char *ks = p;
			if (p >= end || !name_start(*p, false)) {
				rc = pane_err_set(err, PANE_EINVAL, "line %d: expected a label name", lineno);
				goto out;
			}
			while (p < end && name_char(*p, false))
				p++;
			size_t klen = (size_t)(p - ks);
			p = skip_ws(p, end);
			if (p >= end || *p != '=') {
				rc = pane_err_set(err, PANE_EINVAL, "line %d: expected '=' after label name", lineno);
				goto out;
			}
			p = skip_ws(p + 1, end);
			if (p >= end || *p != '"') {
				rc = pane_err_set(err, PANE_EINVAL, "line %d: label value must be quoted", lineno);
				goto out;
			}
			p++;
			pane_buf_reset(val);
			for (;;) {
				if (p >= end) {
					rc = pane_err_set(err, PANE_EINVAL, "line %d: unterminated label value", lineno);
					goto out;
				}
				char c = *p++;
				if (c == '"')
					break;
				if (c == '\\') {
					if (p >= end) {
						rc = pane_err_set(err, PANE_EINVAL, "line %d: bad escape", lineno);
						goto out;
					}
					c = *p++;
					if (c == 'n')
						c = '\n';
					else if (c != '\\' && c != '"') {
						rc = pane_err_set(err, PANE_EINVAL, "line %d: bad escape \\%c", lineno, c);
						goto out;
					}
				}
				if (pane_buf_addc(val, c) < 0) {
					rc = pane_err_set(err, PANE_ETOOBIG, "line %d: label value longer than %d bytes",
							  lineno, PANE_LABEL_VALUE_MAX);
					goto out;
				}
			}
			if (val->len) {
				rc = pane_labels_setn(&ls, ks, klen, val->data, val->len);
				if (rc < 0) {
					pane_err_set(err, rc, "line %d: bad or too many labels", lineno);
					goto out;
				}
			}
			p = skip_ws(p, end);
			if (p < end && *p == ',') {
				p++;
				continue;
			}
			if (p < end && *p == '}') {
				p++;
				break;
			}
			rc = pane_err_set(err, PANE_EINVAL, "line %d: expected ',' or '}' in labels", lineno);
			goto out;
		}
	}
	p = skip_ws(p, end);
	const char *vs = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	double v;
	if (vs == p || pane_str_to_double(pane_str_make(vs, (size_t)(p - vs)), &v) < 0) {
		rc = pane_err_set(err, PANE_EINVAL, "line %d: bad sample value", lineno);
		goto out;
	}
	p = skip_ws(p, end);
	int64_t ts = 0;
	if (p < end) {
		const char *ts_s = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		if (pane_str_to_i64(pane_str_make(ts_s, (size_t)(p - ts_s)), &ts) < 0 || skip_ws(p, end) != end) {
			rc = pane_err_set(err, PANE_EINVAL, "line %d: bad timestamp or trailing text", lineno);
			goto out;
		}
	}
	rc = cb(arg, name, &ls, v, ts);
out:
	pane_labels_release(&ls);
	return rc;
}

int pane_promtext_parse(const char *text, size_t len, pane_promtext_cb cb, void *arg, struct pane_err *err)
{
	const char *p = text, *end = text + len;
	int lineno = 0;
	struct pane_buf val;
	pane_buf_init(&val, PANE_LABEL_VALUE_MAX);
	int rc = 0;
	while (p < end && rc == 0) {
		lineno++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *ls = skip_ws(p, le);
		const char *lend = le;
		if (lend > ls && lend[-1] == '\r')
			lend--;
		if (ls < lend && *ls != '#')
			rc = parse_line(ls, lend, lineno, cb, arg, &val, err);
		else if (lend - ls == 5 && memcmp(ls, "# EOF", 5) == 0)
			break;
		p = nl ? nl + 1 : end;
	}
	pane_buf_release(&val);
	return rc;
}
