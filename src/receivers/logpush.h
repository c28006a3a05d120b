/*
 * logpush.h - log push receivers: Loki's JSON push body and plain JSON lines.
 *
 * Loki: {"streams":[{"stream":{labels},"values":[["<ns>","line",{meta}]]}]};
 * stream labels become record labels (names sanitised), a `level` or
 * `detected_level` label sets the severity, structured metadata becomes the
 * fields JSON. The protobuf form (PushRequest of Loki's push.proto, after
 * snappy) maps the same way: the stream's `labels` selector text
 * ({name="value", ...}) gives the labels, each entry's structuredMetadata
 * the fields JSON. Configured default labels fill what a stream lacks.
 * JSON lines: one JSON object per line; `ts`/`time`/`timestamp` (RFC 3339
 * or Unix s/ms/us/ns number), `msg`/`message`/`log`, `level`/`severity`;
 * every other key goes to the fields JSON. Labels come from the caller
 * (query arguments). Bad lines are counted and skipped.
 */
#ifndef PANE_RECEIVERS_LOGPUSH_H
#define PANE_RECEIVERS_LOGPUSH_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/pipeline.h"

struct pane_logpush_result {
	size_t accepted, rejected;
	char first_error[200];
};

int pane_loki_push_json(struct pane_pipeline *p, const char *body, size_t len, const struct pane_labels *defaults,
                        struct pane_logpush_result *res, struct pane_err *err);
/* pb is the uncompressed PushRequest; mem_max bounds its decoded form
 * (PANE_ETOOBIG). PANE_EINVAL for a body that is not a PushRequest. */
int pane_loki_push_pb(struct pane_pipeline *p, const char *pb, size_t len, size_t mem_max,
                      const struct pane_labels *defaults, struct pane_logpush_result *res, struct pane_err *err);
int pane_jsonlines_push(struct pane_pipeline *p, const char *body, size_t len, const struct pane_labels *labels,
                        int64_t now_ms, struct pane_logpush_result *res, struct pane_err *err);

#endif
