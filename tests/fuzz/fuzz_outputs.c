/* fuzz_outputs.c - the outputs' two parsers: the outputs: section (with
 * write_relabel_configs) and a queue segment read back from disk. Input
 * starting with 'Q' is a segment's bytes: the queue opens (cutting a bad
 * tail), drains and closes without crashing; anything else is pane.yaml:
 * it loads or fails with a message; a loaded rule list relabels a series. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "config/config.h"
#include "outputs/outputs.h"
#include "outputs/queue.h"
#include "outputs/relabel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void queue_case(const uint8_t *data, size_t size)
{
	char dir[] = "/tmp/pane-fuzz-oq-XXXXXX";
	if (!mkdtemp(dir))
		return;
	char seg[64], cur[64];
	snprintf(seg, sizeof seg, "%s/0000000000000000.seg", dir);
	snprintf(cur, sizeof cur, "%s/cursor", dir);
	FILE *f = fopen(seg, "wb");
	if (f) {
		fwrite(data, 1, size, f);
		fclose(f);
	}
	struct pane_err err = {0};
	struct pane_oqueue *q = pane_oqueue_open(
	    &(struct pane_oqueue_opts){
	        .dir = dir, .max_bytes = 1 << 20, .segment_bytes = 1 << 16, .fsync = PANE_OQUEUE_FSYNC_NEVER},
	    &err);
	if (q) {
		struct pane_oqueue_batch b;
		pane_oqueue_batch_init(&b);
		for (int i = 0; i < 1000 && pane_oqueue_read(q, 7, &b) > 0; i++)
			pane_oqueue_commit(q, &b);
		pane_oqueue_batch_release(&b);
		pane_oqueue_close(q);
	} else if (!err.msg[0]) {
		abort();
	}
	unlink(seg);
	unlink(cur);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	static int quiet;
	if (!quiet++)
		pane_log_setup(PANE_LOG_OFF, PANE_LOG_LOGFMT); /* a cut tail is logged: thousands of lines */
	if (size && data[0] == 'Q') {
		queue_case(data + 1, size - 1);
		return 0;
	}
	struct pane_err err = {0};
	struct pane_cfg *cfg = pane_cfg_parse("fuzz.yaml", (const char *)data, size, &err);
	if (!cfg)
		return 0;
	if (pane_outputs_check(cfg, &err) < 0 && !err.msg[0])
		abort();
	struct pane_relabel *r = pane_relabel_parse(cfg, pane_cfg_get(cfg->root, "r"), &err);
	if (r) {
		struct pane_relabel_labels ls;
		pane_relabel_labels_init(&ls);
		pane_relabel_labels_set(&ls, "__name__", 8, "up", 2);
		pane_relabel_labels_set(&ls, "job", 3, "api", 3);
		pane_relabel_apply(r, &ls);
		pane_relabel_labels_release(&ls);
		pane_relabel_free(r);
	} else if (!err.msg[0]) {
		abort();
	}
	pane_cfg_free(cfg);
	return 0;
}
