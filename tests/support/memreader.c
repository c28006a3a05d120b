/*
 * memreader.c - loads Prometheus text into an in-memory series store (tests).
 *
 * The text is parsed once into samples with sorted label sets (incl.
 * __name__, empty values dropped) and appended to a query/memstore.h store,
 * which answers the reader calls; this file only parses and keeps the
 * tests' "timestamps must increase within a series" rule.
 */
#include "memreader.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "query/memstore.h"
#include "support.h"

struct pt_memdb {
	struct pane_memstore *m;
};

static int lab_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pane_label *)a)->name, ((const struct pane_label *)b)->name);
}

static int add_sample(struct pt_memdb *db, struct pane_labels *lsp, int64_t ts, double v);

static int parse_line(struct pt_memdb *db, const char *line, size_t len, int lineno, struct pane_err *err)
{
	size_t i = 0;
	struct pane_labels ls = {0};
	ls.owned = true;
	struct pane_label tmp[64];
	size_t nt = 0;
	while (i < len && (isalnum((unsigned char)line[i]) || line[i] == '_' || line[i] == ':'))
		i++;
	if (i == 0)
		return pane_err_set(err, PANE_EINVAL, "line %d: expected a metric name", lineno);
	tmp[nt].name = pane_xstrdup("__name__");
	tmp[nt++].value = pane_xstrndup(line, i);
	if (i < len && line[i] == '{') {
		i++;
		while (i < len && line[i] != '}') {
			size_t ns = i;
			while (i < len && line[i] != '=')
				i++;
			if (i + 1 >= len || line[i + 1] != '"' || nt == 64)
				return pane_err_set(err, PANE_EINVAL, "line %d: bad label", lineno);
			char *name = pane_xstrndup(line + ns, i - ns);
			i += 2;
			struct pane_buf b;
			pane_buf_init(&b, 65536);
			while (i < len && line[i] != '"') {
				if (line[i] == '\\' && i + 1 < len) {
					i++;
					pane_buf_addc(&b, line[i] == 'n' ? '\n' : line[i]);
				} else {
					pane_buf_addc(&b, line[i]);
				}
				i++;
			}
			i++;
			tmp[nt].name = name;
			tmp[nt++].value = pane_buf_detach(&b, NULL);
			if (i < len && line[i] == ',')
				i++;
		}
		i++;
	}
	while (i < len && line[i] == ' ')
		i++;
	size_t vs = i;
	while (i < len && line[i] != ' ')
		i++;
	struct pane_str vstr = pane_str_make(line + vs, i - vs);
	double v;
	if (pane_str_eqc(vstr, "stale"))
		v = pane_stale_nan();
	else if (pane_str_to_double(vstr, &v) != 0)
		return pane_err_set(err, PANE_EINVAL, "line %d: bad value", lineno);
	while (i < len && line[i] == ' ')
		i++;
	double tsec;
	if (pane_str_to_double(pane_str_make(line + i, len - i), &tsec) != 0)
		return pane_err_set(err, PANE_EINVAL, "line %d: bad timestamp", lineno);
	int64_t ts = (int64_t)llround(tsec * 1000);
	/* drop empty values, sort */
	size_t k = 0;
	for (size_t j = 0; j < nt; j++) {
		if (tmp[j].value[0]) {
			tmp[k++] = tmp[j];
		} else {
			free((char *)tmp[j].name);
			free((char *)tmp[j].value);
		}
	}
	qsort(tmp, k, sizeof tmp[0], lab_cmp);
	ls.v = pane_xmalloc((k ? k : 1) * sizeof tmp[0]);
	memcpy(ls.v, tmp, k * sizeof tmp[0]);
	ls.n = ls.cap = k;
	if (add_sample(db, &ls, ts, v) < 0)
		return pane_err_set(err, PANE_EINVAL, "line %d: timestamps must increase within a series", lineno);
	return 0;
}

/* Appends (ts, v) to the series labelled ls (sorted, owned: released).
 * <0 when ts does not follow the series' last timestamp. */
static int add_sample(struct pt_memdb *db, struct pane_labels *lsp, int64_t ts, double v)
{
	int rc = pane_memstore_append_after(db->m, lsp, ts, v);
	pane_labels_release(lsp);
	return rc;
}

struct pt_memdb *pt_memdb_parse(const char *text, struct pane_err *err)
{
	struct pt_memdb *db = pt_memdb_new();
	int lineno = 0;
	const char *p = text;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		lineno++;
		if (len && p[0] != '#') {
			if (parse_line(db, p, len, lineno, err) < 0) {
				pt_memdb_free(db);
				return NULL;
			}
		}
		if (!e)
			break;
		p = e + 1;
	}
	pt_memdb_seal(db);
	return db;
}

struct pt_memdb *pt_memdb_new(void)
{
	struct pt_memdb *db = pane_xcalloc(1, sizeof *db);
	db->m = pane_memstore_new();
	return db;
}

int pt_memdb_add(struct pt_memdb *db, const struct pane_label *l, size_t n, int64_t ts, double v, struct pane_err *err)
{
	struct pane_labels ls = {0};
	ls.owned = true;
	ls.v = pane_xcalloc(n ? n : 1, sizeof *ls.v);
	for (size_t i = 0; i < n; i++) {
		if (!l[i].value[0])
			continue;
		ls.v[ls.n].name = pane_xstrdup(l[i].name);
		ls.v[ls.n++].value = pane_xstrdup(l[i].value);
	}
	ls.cap = n;
	qsort(ls.v, ls.n, sizeof *ls.v, lab_cmp);
	for (size_t i = 1; i < ls.n; i++)
		if (!strcmp(ls.v[i - 1].name, ls.v[i].name)) {
			pane_err_set(err, PANE_EINVAL, "label %s given twice", ls.v[i].name);
			pane_labels_release(&ls);
			return PANE_EINVAL;
		}
	if (add_sample(db, &ls, ts, v) < 0)
		return pane_err_set(err, PANE_EINVAL, "timestamps must increase within a series");
	return 0;
}

void pt_memdb_seal(struct pt_memdb *db)
{
	pane_memstore_seal(db->m);
}

struct pt_memdb *pt_memdb_load(const char *path, struct pane_err *err)
{
	char *text = pt_read_file(path);
	if (!text) {
		pane_err_set(err, PANE_EIO, "cannot open %s", path);
		return NULL;
	}
	struct pt_memdb *db = pt_memdb_parse(text, err);
	free(text);
	return db;
}

void pt_memdb_free(struct pt_memdb *db)
{
	if (!db)
		return;
	pane_memstore_free(db->m);
	free(db);
}

size_t pt_memdb_series(const struct pt_memdb *db)
{
	return pane_memstore_series(db->m);
}

struct pane_reader pt_memdb_reader(struct pt_memdb *db)
{
	return pane_memstore_reader(db->m);
}
