/*
 * labelmatch.c - label matchers in Alertmanager's syntax (labelmatch.h).
 *
 * Regexes are anchored like Alertmanager's ("^(?:re)$") and compiled through
 * base/regex, with the limits every label-value regex in pane has.
 */
#include "pipeline/labelmatch.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/regex.h"
#include "base/str.h"

const char *pane_am_op_str(enum pane_am_op op)
{
	switch (op) {
	case PANE_AM_EQ: return "=";
	case PANE_AM_NE: return "!=";
	case PANE_AM_RE: return "=~";
	case PANE_AM_NRE: return "!~";
	}
	return "=";
}

int pane_am_matcher_add(struct pane_am_matchers *ms, const char *name, const char *value, enum pane_am_op op,
                        struct pane_err *err)
{
	void *re = NULL;
	if (!pane_label_name_valid(name, strlen(name)) && strcmp(name, "__name__") != 0)
		return pane_err_set(err, PANE_EINVAL, "invalid label name '%s' in matcher", name);
	if (op == PANE_AM_RE || op == PANE_AM_NRE) {
		/* anchored and bounded like every label-value regex (base/regex.h) */
		struct pane_err e = {0};
		re = pane_regex_compile(value, 0, &e);
		if (!re)
			return pane_err_set(err, PANE_EINVAL, "bad regular expression '%s': %s", value, e.msg);
	}
	ms->v = pane_xrealloc(ms->v, (ms->n + 1) * sizeof *ms->v);
	ms->v[ms->n++] = (struct pane_am_matcher){pane_xstrdup(name), pane_xstrdup(value), op, re};
	return 0;
}

void pane_am_matchers_release(struct pane_am_matchers *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->v[i].name);
		free(ms->v[i].value);
		if (ms->v[i].re)
			pcre2_code_free(ms->v[i].re);
	}
	free(ms->v);
	ms->v = NULL;
	ms->n = 0;
}

bool pane_am_matcher_matches(const struct pane_am_matcher *m, const char *value)
{
	if (!value)
		value = "";
	switch (m->op) {
	case PANE_AM_EQ: return strcmp(m->value, value) == 0;
	case PANE_AM_NE: return strcmp(m->value, value) != 0;
	case PANE_AM_RE:
	case PANE_AM_NRE: {
		/* a match that a limit stopped counts as no match */
		int rc = pane_regex_match(m->re, value, strlen(value), NULL);
		return (rc == 1) == (m->op == PANE_AM_RE);
	}
	}
	return false;
}

bool pane_am_matchers_match(const struct pane_am_matchers *ms, const struct pane_labels *ls)
{
	for (size_t i = 0; i < ms->n; i++)
		if (!pane_am_matcher_matches(&ms->v[i], pane_labels_get(ls, ms->v[i].name)))
			return false;
	return true;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* One value: "quoted with \\ escapes" or bare up to ',' or '}' (trimmed). */
static int parse_value(const char **pp, struct pane_buf *out, struct pane_err *err)
{
	const char *p = skip_ws(*pp);
	if (*p == '"') {
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1]) {
				p++;
				char c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
				pane_buf_addc(out, c);
			} else {
				pane_buf_addc(out, *p);
			}
			p++;
		}
		if (*p != '"')
			return pane_err_set(err, PANE_EINVAL, "unterminated quoted value in matcher");
		p++;
	} else {
		const char *s = p;
		while (*p && *p != ',' && *p != '}')
			p++;
		const char *e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		pane_buf_add(out, s, (size_t)(e - s));
	}
	*pp = p;
	return 0;
}

int pane_am_matchers_parse(struct pane_am_matchers *ms, const char *text, struct pane_err *err)
{
	const char *p = skip_ws(text);
	bool braces = *p == '{';
	if (braces)
		p++;
	int rc = 0;
	struct pane_buf name, value;
	pane_buf_init(&name, 4096);
	pane_buf_init(&value, 65536);
	for (;;) {
		p = skip_ws(p);
		if (!*p || (braces && *p == '}'))
			break;
		pane_buf_reset(&name);
		pane_buf_reset(&value);
		const char *s = p;
		while (*p && (isalnum((unsigned char)*p) || *p == '_'))
			p++;
		if (p == s) {
			rc = pane_err_set(err, PANE_EINVAL, "bad matcher '%s': expected a label name", text);
			break;
		}
		pane_buf_add(&name, s, (size_t)(p - s));
		p = skip_ws(p);
		enum pane_am_op op;
		if (p[0] == '=' && p[1] == '~') {
			op = PANE_AM_RE;
			p += 2;
		} else if (p[0] == '!' && p[1] == '~') {
			op = PANE_AM_NRE;
			p += 2;
		} else if (p[0] == '!' && p[1] == '=') {
			op = PANE_AM_NE;
			p += 2;
		} else if (p[0] == '=') {
			op = PANE_AM_EQ;
			p += 1;
		} else {
			rc = pane_err_set(err, PANE_EINVAL, "bad matcher '%s': expected =, !=, =~ or !~ after '%s'",
			                  text, name.data);
			break;
		}
		if ((rc = parse_value(&p, &value, err)) < 0)
			break;
		if ((rc = pane_am_matcher_add(ms, name.data, value.len ? value.data : "", op, err)) < 0)
			break;
		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p && !(braces && *p == '}')) {
			rc = pane_err_set(err, PANE_EINVAL, "bad matcher '%s': unexpected '%c'", text, *p);
			break;
		}
	}
	if (rc == 0 && braces) {
		if (*p != '}')
			rc = pane_err_set(err, PANE_EINVAL, "bad matcher '%s': missing '}'", text);
		else if (*skip_ws(p + 1))
			rc = pane_err_set(err, PANE_EINVAL, "bad matcher '%s': text after '}'", text);
	}
	pane_buf_release(&name);
	pane_buf_release(&value);
	return rc;
}
