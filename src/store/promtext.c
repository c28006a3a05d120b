/*
 * promtext.c - parsing the series part of Prometheus text lines (see promtext.h).
 *
 * Idea: a single forward scan with explicit bounds; label values are
 * unescaped (\\, \", \n) into a scratch buffer no larger than the input,
 * and names are validated by the pipeline's label rules, so anything that
 * parses is a label set the store accepts.
 */
#include "store/promtext.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

/* Parses labels starting at p[*i] up to and including '}' (or to len when
 * !braced). Sets *name_out when a __name__ label is found. */
static int parse_labels(const char *p, size_t len, size_t *ip, bool braced, char **name_out,
			struct pane_labels *labels, const char **msg)
{
	size_t i = *ip;
	char *val = pane_xmalloc(len + 1);
	int rc = PANE_EINVAL;
	for (;;) {
		while (i < len && (p[i] == ' ' || p[i] == ','))
			i++;
		if (braced && i < len && p[i] == '}') {
			i++;
			break;
		}
		if (!braced && i >= len)
			break;
		size_t ns = i;
		while (i < len && p[i] != '=' && p[i] != ' ')
			i++;
		size_t nl = i - ns;
		while (i < len && p[i] == ' ')
			i++;
		if (i + 1 >= len || p[i] != '=' || p[i + 1] != '"') {
			*msg = "expected label=\"value\"";
			goto out;
		}
		i += 2;
		size_t vl = 0;
		while (i < len && p[i] != '"') {
			if (p[i] == '\\' && i + 1 < len) {
				i++;
				val[vl++] = p[i] == 'n' ? '\n' : p[i];
			} else {
				val[vl++] = p[i];
			}
			i++;
		}
		if (i >= len) {
			*msg = "unterminated label value";
			goto out;
		}
		i++;
		if (memchr(val, '\0', vl)) {
			*msg = "NUL byte in a label value";
			goto out;
		}
		if (nl == 8 && memcmp(p + ns, "__name__", 8) == 0) {
			if (!name_out || !pane_metric_name_valid(val, vl)) {
				*msg = "invalid metric name";
				goto out;
			}
			free(*name_out);
			*name_out = pane_xstrndup(val, vl);
			continue;
		}
		if (pane_labels_setn(labels, p + ns, nl, val, vl) < 0) {
			*msg = "invalid label name, or too many or too long labels";
			goto out;
		}
	}
	rc = 0;
out:
	free(val);
	*ip = i;
	return rc;
}

int pane_prom_parse_labels(const char *p, size_t len, struct pane_labels *labels, const char **msg)
{
	size_t i = 0;
	return parse_labels(p, len, &i, false, NULL, labels, msg);
}

int pane_prom_parse_series(const char *p, size_t len, char **name, struct pane_labels *labels, const char **msg)
{
	*name = NULL;
	size_t i = 0;
	while (i < len && p[i] != '{' && p[i] != ' ' && p[i] != '\t')
		i++;
	if (i > 0 && !pane_metric_name_valid(p, i)) {
		*msg = "invalid metric name";
		return PANE_EINVAL;
	}
	*name = i ? pane_xstrndup(p, i) : NULL;
	if (i < len && p[i] == '{') {
		i++;
		if (parse_labels(p, len, &i, true, name, labels, msg) < 0)
			goto bad;
	}
	if (!*name) {
		*msg = "missing metric name";
		goto bad;
	}
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i != len) {
		*msg = "unexpected text after the labels";
		goto bad;
	}
	return 0;
bad:
	free(*name);
	*name = NULL;
	return PANE_EINVAL;
}
