/* fuzz_promtext.c - Prometheus text / OpenMetrics parser on arbitrary bytes;
 * and the same bytes parsed with a series cache (kept across inputs, small
 * enough to fill) must deliver and report exactly the same. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "receivers/promcache.h"
#include "receivers/promtext.h"
#include "base/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	(void)arg;
	(void)err;
	for (size_t i = 0; i < n; i++) {
		/* delivered samples keep the parser's promises */
		if (!pane_metric_name_valid(s[i].name, strlen(s[i].name)))
			__builtin_trap();
		for (size_t k = 0; k < s[i].labels->n; k++) {
			const struct pane_label *l = &s[i].labels->v[k];
			if (!pane_label_name_valid(l->name, strlen(l->name)) || !l->value[0] ||
			    !pane_utf8_valid(l->value, strlen(l->value)))
				__builtin_trap();
			if (k && strcmp(s[i].labels->v[k - 1].name, l->name) >= 0)
				__builtin_trap();
		}
	}
	return 0;
}

/* delivered metadata keeps its promises too: valid names, bounded UTF-8 help */
static int check_meta(void *arg, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	(void)arg;
	(void)err;
	for (size_t i = 0; i < n; i++) {
		size_t hl = strlen(m[i].help);
		if (!pane_metric_name_valid(m[i].name, strlen(m[i].name)) || hl > PANE_METADATA_HELP_MAX ||
		    !pane_utf8_valid(m[i].help, hl) || strlen(m[i].unit) > PANE_METADATA_UNIT_MAX ||
		    m[i].type > PANE_METRIC_STATESET)
			__builtin_trap();
	}
	return 0;
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const uint8_t *)p)[i]) * 1099511628211ull;
	return h;
}

/* A digest of what was delivered, in order. */
static int digest(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	uint64_t *h = arg;
	for (size_t i = 0; i < n; i++) {
		*h = mix(*h, s[i].name, strlen(s[i].name) + 1);
		for (size_t k = 0; k < s[i].labels->n; k++) {
			*h = mix(*h, s[i].labels->v[k].name, strlen(s[i].labels->v[k].name) + 1);
			*h = mix(*h, s[i].labels->v[k].value, strlen(s[i].labels->v[k].value) + 1);
		}
		*h = mix(*h, &s[i].ts_ms, 8);
		*h = mix(*h, &s[i].value, 8);
	}
	return check(NULL, s, n, err);
}

static int digest_cached(void *arg, const struct pane_sample *s, struct pane_promcache_entry *const *e, size_t n,
                         struct pane_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (e[i] && (s[i].name != e[i]->name || s[i].labels != &e[i]->labels))
			__builtin_trap();
	return digest(arg, s, n, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pane_promcache *cache;
	if (!cache)
		cache = pane_promcache_new(256u << 10);
	struct pane_promtext_result r, rc;
	struct pane_promtext_opts o = {.openmetrics = size && (data[0] & 1), .meta = check_meta};
	uint64_t want = 0, got;
	pane_promtext_parse((const char *)data, size, &o, digest, &want, &r, NULL);
	o.meta = NULL;
	for (int pass = 0; pass < 2; pass++) {
		got = 0;
		pane_promtext_parse_cached((const char *)data, size, &o, cache, digest_cached, &got, &rc, NULL);
		if (got != want || rc.samples != r.samples || rc.bad_lines != r.bad_lines || rc.line != r.line ||
		    strcmp(rc.first_error, r.first_error) != 0 || rc.saw_eof != r.saw_eof)
			__builtin_trap();
	}
	return 0;
}
