/*
 * outputs.h - forwarding to other engines: remote_write and Loki push out.
 *
 * pane_outputs_attach reads the `outputs:` section of pane.yaml and adds one
 * secondary sink per configured output to h->pipeline. Each output has a
 * durable queue under DATA_DIR/outputs/<name>/ and a sender thread with
 * shards (docs/outputs.md).
 */
#ifndef PANE_OUTPUTS_OUTPUTS_H
#define PANE_OUTPUTS_OUTPUTS_H

#include "base/err.h"

struct pane_host;
struct pane_cfg;

int pane_outputs_attach(struct pane_host *h, struct pane_err *err);
/* Validates the outputs: section only (for `pane check` and reload). */
int pane_outputs_check(const struct pane_cfg *cfg, struct pane_err *err);

#endif
