/* fuzz_promtext.c - Prometheus text / OpenMetrics parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pane_promtext_result r;
	struct pane_promtext_opts o = {.openmetrics = size && (data[0] & 1), .meta = check_meta};
	pane_promtext_parse((const char *)data, size, &o, check, NULL, &r, NULL);
	return 0;
}
