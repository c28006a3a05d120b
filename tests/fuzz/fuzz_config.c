/* fuzz_config.c - libFuzzer target: pane.yaml parsing never crashes, leaks or
 * overflows, whatever the bytes; a parsed tree can always be bound and freed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"
#include "config/sections.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct any {
	char *s;
	int64_t i;
};

static const struct pane_cfg_field fields[] = {
    {"listen", PANE_CFT_STRING, offsetof(struct any, s), NULL, 0, "", 0, 0},
    {"threads", PANE_CFT_DURATION, offsetof(struct any, i), NULL, 0, "", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pane_err err;
	struct pane_cfg *cfg = pane_cfg_parse("fuzz.yaml", (const char *)data, size, &err);
	if (!cfg)
		return 0;
	pane_cfg_check_sections(cfg, &err);
	struct any a;
	memset(&a, 0, sizeof a);
	pane_cfg_bind(cfg, pane_cfg_get(cfg->root, "server"), fields, &a, &err);
	pane_cfg_unbind(fields, &a);
	pane_cfg_free(cfg);
	return 0;
}
