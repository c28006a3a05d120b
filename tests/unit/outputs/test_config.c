/* test_config.c - the outputs: section: what binds, and every refusal names
 * file:line and the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/sections.h"
#include "outputs/outputs.h"

static int check(const char *yaml, struct pane_err *err)
{
	struct pane_cfg *cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), err);
	assert_non_null(cfg);
	int rc = pane_cfg_check_sections(cfg, err);
	if (rc == 0)
		rc = pane_outputs_check(cfg, err);
	pane_cfg_free(cfg);
	return rc;
}

static void accepted(void **state)
{
	(void)state;
	setenv("PANE_TEST_TOKEN", "secret", 1);
	static const char *const ok[] = {
	    "outputs: {}\n",
	    "outputs:\n  remote_write: []\n  loki: []\n",
	    "outputs:\n  remote_write:\n    - url: http://127.0.0.1:8428/api/v1/write\n",
	    "outputs:\n  remote_write:\n    - url: https://x/api/v1/write\n      name: a\n      bearer_token: "
	    "${PANE_TEST_TOKEN}\n      headers: {X-A: b}\n      queue_config: {max_shards: 2, min_shards: 2}\n"
	    "      queue: {max_size: 10MB, drop: drop_newest, fsync: never}\n"
	    "    - url: https://y/api/v1/write\n      basic_auth: {username: u, password: '${PANE_TEST_TOKEN}'}\n"
	    "  loki:\n    - url: http://l/loki/api/v1/push\n      tenant_id: t\n",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct pane_err err = {0};
		if (check(ok[i], &err) != 0)
			fail_msg("%s: %s", ok[i], err.msg);
	}
}

static void refused(void **state)
{
	(void)state;
	setenv("PANE_TEST_TOKEN", "secret", 1);
	static const struct {
		const char *yaml, *want;
	} cases[] = {
	    {"outputs:\n  kafka: []\n", "pane.yaml:2: outputs.kafka: unknown key (known keys: remote_write, loki)"},
	    {"outputs:\n  remote_write:\n    - name: a\n", "pane.yaml:3: outputs.remote_write[0].url: required"},
	    {"outputs:\n  remote_write:\n    - url: ftp://x\n", "pane.yaml:3: outputs.remote_write[0].url: url must"},
	    {"outputs:\n  remote_write:\n    - url: http://x\n      queue_confg: {}\n",
	     "pane.yaml:4: outputs.remote_write[0].queue_confg: unknown key"},
	    {"outputs:\n  remote_write:\n    - url: http://x\n      queue_config: {max_shard: 1}\n",
	     "queue_config.max_shard: unknown key"},
	    {"outputs:\n  remote_write:\n    - url: http://x\n      queue: {drop: drop_random}\n",
	     "drop is drop_oldest or drop_newest"},
	    {"outputs:\n  remote_write:\n    - url: http://x\n      queue_config: {min_shards: 5, max_shards: 2}\n",
	     "min_shards is above max_shards"},
	    {"outputs:\n  remote_write:\n    - url: http://x\n      bearer_token: plain\n",
	     "outputs.remote_write[0].bearer_token"},
	    {"outputs:\n  remote_write:\n    - url: http://x\n    - url: http://x\n", "two outputs are named"},
	    {"outputs:\n  remote_write:\n    - url: http://x\n      name: ../etc\n", "name may hold"},
	    {"outputs:\n  loki:\n    - url: http://x\n      write_relabel_configs:\n        - action: nope\n"
	     "          source_labels: [a]\n",
	     "pane.yaml:5: outputs.loki[0].write_relabel_configs[0].action: unknown relabel action"},
	    {"outputs:\n  remote_write:\n    - url: http://x\n      bearer_token: ${PANE_TEST_TOKEN}\n"
	     "      basic_auth: {username: u, password: '${PANE_TEST_TOKEN}'}\n",
	     "exclude each other"},
	    {"outputs: [1]\n", "pane.yaml:1: outputs: outputs is a map"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pane_err err = {0};
		int rc = check(cases[i].yaml, &err);
		if (rc == 0 || !strstr(err.msg, cases[i].want))
			fail_msg("%s: got '%s', want '%s'", cases[i].yaml, rc ? err.msg : "accepted", cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(accepted), cmocka_unit_test(refused)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
