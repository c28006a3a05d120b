/* fuzz_loki_push.c - Loki's protobuf push (PushRequest, selector labels,
 * structured metadata) on arbitrary bytes, raw and through snappy. Every
 * log record written must carry valid labels. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "pipeline/pipeline.h"
#include "receivers/logpush.h"
#include "receivers/remote_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int w_logs(void *ctx, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	(void)ctx;
	(void)err;
	for (size_t i = 0; i < n; i++) {
		const struct pane_labels *ls = l[i].labels;
		for (size_t k = 0; k < ls->n; k++)
			if (!pane_label_name_valid(ls->v[k].name, strlen(ls->v[k].name)) ||
			    !pane_utf8_valid(ls->v[k].value, strlen(ls->v[k].value)))
				__builtin_trap();
		if (!pane_utf8_valid(l[i].message, l[i].message_len))
			__builtin_trap();
	}
	return 0;
}

static int w_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err)
{
	(void)ctx;
	(void)s;
	(void)err;
	*accepted = n;
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

static const struct pane_sink_ops ops = {
    .name = "fuzz", .write_samples = w_samples, .write_logs = w_logs, .write_events = w_events};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pane_pipeline *p;
	if (!p) {
		p = pane_pipeline_new();
		pane_pipeline_add_sink(p, (struct pane_sink){.ops = &ops, .ctx = NULL}, PANE_SINK_PRIMARY);
	}
	struct pane_logpush_result r;
	pane_loki_push_pb(p, (const char *)data, size, 16u << 20, NULL, &r, NULL);
	char *out = NULL;
	size_t len = 0;
	if (pane_snappy_decode((const char *)data, size, 1u << 20, &out, &len, NULL) == 0) {
		pane_loki_push_pb(p, out, len, 16u << 20, NULL, &r, NULL);
		free(out);
	}
	return 0;
}
