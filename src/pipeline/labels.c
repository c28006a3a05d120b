/*
 * labels.c - label sets, naming rules and the stale marker (see record.h).
 *
 * A label set is a small sorted array, not a map: series have a handful of
 * labels, binary search and memcmp-ordered comparison beat hashing at that
 * size, and the sorted order is exactly what series identity and Prometheus'
 * output order need.
 */
#include "pipeline/record.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/json.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/str.h"

void pane_labels_init(struct pane_labels *ls)
{
	ls->v = NULL;
	ls->n = 0;
	ls->cap = 0;
	ls->owned = true;
}

void pane_labels_release(struct pane_labels *ls)
{
	if (ls->owned) {
		for (size_t i = 0; i < ls->n; i++) {
			free((char *)ls->v[i].name);
			free((char *)ls->v[i].value);
		}
		free(ls->v);
	}
	pane_labels_init(ls);
}

static int cmp_name(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

int pane_labels_setn(struct pane_labels *ls, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (!pane_label_name_valid(name, nlen) && !(nlen == 8 && memcmp(name, "__name__", 8) == 0))
		return PANE_EINVAL;
	if (nlen > PANE_LABEL_NAME_MAX || vlen > PANE_LABEL_VALUE_MAX)
		return PANE_ETOOBIG;
	size_t lo = 0, hi = ls->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_name(name, nlen, ls->v[mid].name);
		if (c == 0) {
			free((char *)ls->v[mid].value);
			if (vlen == 0) {
				free((char *)ls->v[mid].name);
				memmove(&ls->v[mid], &ls->v[mid + 1], (ls->n - mid - 1) * sizeof *ls->v);
				ls->n--;
			} else {
				ls->v[mid].value = pane_xstrndup(value, vlen);
			}
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (vlen == 0)
		return 0;
	if (ls->n >= PANE_LABELS_MAX)
		return PANE_ETOOBIG;
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 8;
		ls->v = pane_xrealloc(ls->v, pane_mul_size(ls->cap, sizeof *ls->v));
	}
	memmove(&ls->v[lo + 1], &ls->v[lo], (ls->n - lo) * sizeof *ls->v);
	ls->v[lo].name = pane_xstrndup(name, nlen);
	ls->v[lo].value = pane_xstrndup(value, vlen);
	ls->n++;
	return 0;
}

int pane_labels_set(struct pane_labels *ls, const char *name, const char *value)
{
	return pane_labels_setn(ls, name, strlen(name), value ? value : "", value ? strlen(value) : 0);
}

const char *pane_labels_get(const struct pane_labels *ls, const char *name)
{
	size_t lo = 0, hi = ls->n;
	size_t nlen = strlen(name);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_name(name, nlen, ls->v[mid].name);
		if (c == 0)
			return ls->v[mid].value;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void pane_labels_copy(struct pane_labels *dst, const struct pane_labels *src)
{
	pane_labels_init(dst);
	if (!src->n)
		return;
	dst->cap = src->n;
	dst->v = pane_xmalloc(pane_mul_size(src->n, sizeof *dst->v));
	for (size_t i = 0; i < src->n; i++) {
		dst->v[i].name = pane_xstrdup(src->v[i].name);
		dst->v[i].value = pane_xstrdup(src->v[i].value);
	}
	dst->n = src->n;
}

int pane_labels_cmp(const struct pane_labels *a, const struct pane_labels *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	for (size_t i = 0; i < n; i++) {
		int c = strcmp(a->v[i].name, b->v[i].name);
		if (c)
			return c < 0 ? -1 : 1;
		c = strcmp(a->v[i].value, b->v[i].value);
		if (c)
			return c < 0 ? -1 : 1;
	}
	return a->n < b->n ? -1 : a->n > b->n ? 1 : 0;
}

uint64_t pane_labels_hash(const struct pane_labels *ls)
{
	uint64_t h = 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; i < ls->n; i++) {
		h = pane_hash_bytes(ls->v[i].name, strlen(ls->v[i].name), h);
		h = pane_hash_bytes(ls->v[i].value, strlen(ls->v[i].value) + 1, h);
	}
	return h;
}

/* Whether c may be in a name (first: at its start). Arithmetic, not
 * isalpha/isdigit (a call a character, and locale-dependent): every
 * sample's names go through here. */
static inline bool name_char(unsigned char c, bool first, bool metric)
{
	if ((unsigned)((c | 0x20) - 'a') < 26 || c == '_' || (metric && c == ':'))
		return true;
	return !first && (unsigned)(c - '0') < 10;
}

static bool name_valid(const char *s, size_t len, bool metric)
{
	if (len == 0 || len > PANE_METRIC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char((unsigned char)s[i], i == 0, metric))
			return false;
	return true;
}

bool pane_metric_name_valid(const char *s, size_t len)
{
	return name_valid(s, len, true);
}

bool pane_label_name_valid(const char *s, size_t len)
{
	if (!name_valid(s, len, false))
		return false;
	return !(len >= 2 && s[0] == '_' && s[1] == '_');
}

char *pane_name_sanitize(const char *s, size_t len, bool metric)
{
	if (len > PANE_METRIC_NAME_MAX)
		len = PANE_METRIC_NAME_MAX;
	bool lead_digit = len > 0 && (unsigned)((unsigned char)s[0] - '0') < 10;
	char *out = pane_xmalloc(len + 2);
	size_t j = 0;
	if (len == 0 || lead_digit)
		out[j++] = '_';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		out[j++] = name_char(c, false, metric) ? (char)c : '_';
	}
	out[j] = '\0';
	return out;
}

double pane_stale_nan(void)
{
	uint64_t bits = PANE_STALE_NAN_BITS;
	double d;
	memcpy(&d, &bits, sizeof d);
	return d;
}

bool pane_is_stale_nan(double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	return bits == PANE_STALE_NAN_BITS;
}

enum pane_log_severity pane_log_severity_parse(const char *s, size_t len)
{
	static const struct {
		const char *name;
		enum pane_log_severity sev;
	} names[] = {
	    {"trace", PANE_SEV_DEBUG},      {"debug", PANE_SEV_DEBUG},    {"info", PANE_SEV_INFO},
	    {"information", PANE_SEV_INFO}, {"notice", PANE_SEV_INFO},    {"log", PANE_SEV_INFO},
	    {"warn", PANE_SEV_WARN},        {"warning", PANE_SEV_WARN},   {"error", PANE_SEV_ERROR},
	    {"err", PANE_SEV_ERROR},        {"critical", PANE_SEV_FATAL}, {"fatal", PANE_SEV_FATAL},
	    {"panic", PANE_SEV_FATAL},
	};
	char tmp[16];
	if (!s || len == 0 || len >= sizeof tmp)
		return PANE_SEV_UNKNOWN;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (pane_streq_nocase(tmp, names[i].name))
			return names[i].sev;
	return PANE_SEV_UNKNOWN;
}

const char *pane_log_severity_name(enum pane_log_severity sev)
{
	static const char *names[] = {"unknown", "debug", "info", "warn", "error", "fatal"};
	return (unsigned)sev < 6 ? names[sev] : "unknown";
}

static const char *const metric_type_names[] = {"unknown",        "counter", "gauge", "histogram",
                                                "gaugehistogram", "summary", "info",  "stateset"};

const char *pane_metric_type_name(enum pane_metric_type t)
{
	return (unsigned)t < sizeof metric_type_names / sizeof metric_type_names[0] ? metric_type_names[t] : "unknown";
}

int pane_metric_type_parse(const char *s, size_t len, enum pane_metric_type *out)
{
	if (len == 7 && memcmp(s, "untyped", 7) == 0) {
		*out = PANE_METRIC_UNKNOWN;
		return 0;
	}
	for (size_t i = 0; i < sizeof metric_type_names / sizeof metric_type_names[0]; i++) {
		if (strlen(metric_type_names[i]) == len && memcmp(s, metric_type_names[i], len) == 0) {
			*out = (enum pane_metric_type)i;
			return 0;
		}
	}
	return PANE_EINVAL;
}

size_t pane_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	/* back off continuation bytes, then drop the lead byte whose sequence was cut */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

void pane_labels_json(const struct pane_labels *ls, struct pane_buf *b)
{
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	for (size_t i = 0; ls && i < ls->n; i++) {
		pane_json_key(&j, ls->v[i].name);
		pane_json_str(&j, ls->v[i].value);
	}
	pane_json_obj_end(&j);
}

void pane_labels_json_value(struct pane_json *j, const struct pane_labels *ls)
{
	pane_json_raw(j, ""); /* the separator; the object is written below */
	if (!j->rc)
		pane_labels_json(ls, j->b);
}
