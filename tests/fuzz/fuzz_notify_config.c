/* fuzz_notify_config.c - Alertmanager configuration and matchers: any bytes
 * either load or fail with a message, never crash; a loaded route tree
 * answers a match. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "notify/amconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	struct pane_err err = {0};
	struct pane_am_matchers ms = {0};
	if (pane_am_matchers_parse(&ms, s, &err) < 0 && !err.msg[0])
		abort();
	pane_am_matchers_release(&ms);
	struct pane_cfg *cfg = pane_cfg_parse("fuzz.yaml", s, size, &err);
	if (cfg) {
		struct pane_am_config *c = pane_am_config_load(cfg, pane_cfg_get(cfg->root, "alerting"), &err);
		if (c) {
			struct pane_labels ls;
			pane_labels_init(&ls);
			pane_labels_set(&ls, "alertname", "x");
			const struct pane_am_route *rs[4];
			pane_am_route_match(&c->route, &ls, rs, 4);
			pane_labels_release(&ls);
			pane_am_config_free(c);
		} else if (!err.msg[0]) {
			abort();
		}
		pane_cfg_free(cfg);
	}
	free(s);
	return 0;
}
