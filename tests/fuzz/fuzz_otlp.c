/* fuzz_otlp.c - the OTLP receiver's decoders and mapping on arbitrary bytes:
 * the first byte picks protobuf metrics / logs, JSON metrics / logs, or gzip
 * (then protobuf); the rest is the body. Every record written must honour
 * record.h (valid names, UTF-8 label values), whatever the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "pipeline/pipeline.h"
#include "receivers/cumulate.h"
#include "receivers/gzip.h"
#include "receivers/otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_labels(const struct pane_labels *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		if (!pane_label_name_valid(ls->v[i].name, strlen(ls->v[i].name)) || !ls->v[i].value[0] ||
		    !pane_utf8_valid(ls->v[i].value, strlen(ls->v[i].value)))
			__builtin_trap();
}

static int w_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err)
{
	(void)ctx;
	(void)err;
	for (size_t i = 0; i < n; i++) {
		if (!pane_metric_name_valid(s[i].name, strlen(s[i].name)))
			__builtin_trap();
		check_labels(s[i].labels);
	}
	*accepted = n;
	return 0;
}

static int w_logs(void *ctx, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	(void)ctx;
	(void)err;
	for (size_t i = 0; i < n; i++)
		check_labels(l[i].labels);
	return 0;
}

static int w_events(void *ctx, const struct pane_event *e, size_t n, struct pane_err *err)
{
	(void)ctx;
	(void)e;
	(void)n;
	(void)err;
	return 0;
}

static int w_meta(void *ctx, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	(void)ctx;
	(void)err;
	for (size_t i = 0; i < n; i++)
		if (!pane_metric_name_valid(m[i].name, strlen(m[i].name)))
			__builtin_trap();
	return 0;
}

static const struct pane_sink_ops ops = {.name = "fuzz",
                                         .write_samples = w_samples,
                                         .write_logs = w_logs,
                                         .write_events = w_events,
                                         .write_metadata = w_meta};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pane_pipeline *p;
	static struct pane_cumulate *deltas;
	if (!p) {
		p = pane_pipeline_new();
		pane_pipeline_add_sink(p, (struct pane_sink){.ops = &ops, .ctx = NULL}, PANE_SINK_PRIMARY);
		deltas = pane_cumulate_new(1000, 60000);
	}
	if (size < 1)
		return 0;
	int mode = data[0] % 5;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	char *inflated = NULL;
	if (mode == 4) {
		if (pane_gzip_decode(body, len, 1u << 20, &inflated, &len, NULL) < 0)
			return 0;
		body = inflated;
		mode = len && (inflated[0] & 1);
	}
	struct pane_labels defaults;
	pane_labels_init(&defaults);
	pane_labels_set(&defaults, "environment", "fuzz");
	struct pane_otlp_opts o = {
	    .now_ms = 1700000000000, .deltas = deltas, .defaults = &defaults, .max_decoded = 16u << 20};
	struct pane_otlp_result r;
	if (mode == 0 || mode == 2)
		pane_otlp_metrics(p, body, len, mode == 0, &o, &r, NULL);
	else
		pane_otlp_logs(p, body, len, mode == 1, &o, &r, NULL);
	pane_labels_release(&defaults);
	free(inflated);
	return 0;
}
