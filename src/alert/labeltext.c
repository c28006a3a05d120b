/*
 * labeltext.c - label-set text both ways, as Prometheus writes and reads it.
 *
 * pane_rules_parse_metric reads promtool's series descriptions
 * (`name{a="b"}`, `{__name__="x"}`), pane_rules_labels_string writes
 * Prometheus' labels.String() ({__name__="x", a="b"}) with Go's strconv.Quote
 * escaping (pane_buf_add_go_quoted), which is what promtool's diffs print.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "alert/rules.h"
#include "base/mem.h"

void pane_rules_labels_string(const struct pane_labels *ls, struct pane_buf *b)
{
	pane_buf_addc(b, '{');
	for (size_t i = 0; i < ls->n; i++) {
		if (i)
			pane_buf_adds(b, ", ");
		pane_buf_adds(b, ls->v[i].name);
		pane_buf_addc(b, '=');
		pane_buf_add_go_quoted(b, ls->v[i].value);
	}
	pane_buf_addc(b, '}');
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* A quoted string ("...", '...', `...`) with Go escapes into b; returns the end or NULL. */
static const char *read_quoted(const char *p, struct pane_buf *b)
{
	char q = *p++;
	while (*p && *p != q) {
		if (*p == '\\' && q != '`') {
			p++;
			switch (*p) {
			case 'n': pane_buf_addc(b, '\n'); break;
			case 't': pane_buf_addc(b, '\t'); break;
			case 'r': pane_buf_addc(b, '\r'); break;
			case '\\':
			case '"':
			case '\'': pane_buf_addc(b, *p); break;
			default: return NULL;
			}
			p++;
			continue;
		}
		pane_buf_addc(b, *p++);
	}
	return *p == q ? p + 1 : NULL;
}

static bool ident_char(char c, bool metric)
{
	return isalnum((unsigned char)c) || c == '_' || (metric && c == ':');
}

int pane_rules_parse_metric(const char *s, struct pane_labels *ls, struct pane_err *err)
{
	pane_labels_init(ls);
	const char *p = skip_ws(s);
	const char *n0 = p;
	while (ident_char(*p, true))
		p++;
	if (p > n0 && pane_labels_setn(ls, "__name__", 8, n0, (size_t)(p - n0)) < 0)
		goto bad;
	p = skip_ws(p);
	if (*p == '{') {
		p = skip_ws(p + 1);
		while (*p && *p != '}') {
			const char *k0 = p;
			while (ident_char(*p, false))
				p++;
			size_t klen = (size_t)(p - k0);
			if (!klen)
				goto bad;
			p = skip_ws(p);
			if (*p != '=')
				goto bad;
			p = skip_ws(p + 1);
			if (*p != '"' && *p != '\'' && *p != '`')
				goto bad;
			struct pane_buf v;
			pane_buf_init(&v, PANE_LABEL_VALUE_MAX + 1);
			p = read_quoted(p, &v);
			int rc = p ? pane_labels_setn(ls, k0, klen, v.len ? v.data : "", v.len) : -1;
			pane_buf_release(&v);
			if (rc < 0)
				goto bad;
			p = skip_ws(p);
			if (*p == ',')
				p = skip_ws(p + 1);
			else if (*p != '}')
				goto bad;
		}
		if (*p != '}')
			goto bad;
		p++;
	}
	p = skip_ws(p);
	if (*p || (p == skip_ws(s)))
		goto bad;
	return 0;
bad:
	pane_labels_release(ls);
	pane_labels_init(ls);
	return pane_err_set(err, PANE_EINVAL, "cannot parse series description %s", s);
}
