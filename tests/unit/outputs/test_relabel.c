/* test_relabel.c - Prometheus relabel_config actions, as Prometheus applies them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "config/config.h"
#include "outputs/relabel.h"

/* Applies the rules in yaml (a list under "r:") to labels "a=1,b=2" and
 * returns the result sorted in the same form, or "DROP". */
static char *run(const char *yaml, const char *labels)
{
	struct pane_err err = {0};
	struct pane_cfg *cfg = pane_cfg_parse("t.yaml", yaml, strlen(yaml), &err);
	assert_non_null(cfg);
	struct pane_relabel *r = pane_relabel_parse(cfg, pane_cfg_get(cfg->root, "r"), &err);
	if (!r)
		fail_msg("parse: %s", err.msg);
	struct pane_relabel_labels ls;
	pane_relabel_labels_init(&ls);
	const char *p = labels;
	while (*p) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		assert_non_null(eq);
		pane_relabel_labels_set(&ls, p, (size_t)(eq - p), eq + 1, (size_t)(end - eq - 1));
		p = comma ? comma + 1 : end;
	}
	struct pane_buf out;
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	if (!pane_relabel_apply(r, &ls))
		pane_buf_adds(&out, "DROP");
	else
		for (size_t i = 0; i < ls.n; i++)
			pane_buf_addf(&out, "%s%s=%s", i ? "," : "", ls.names[i], ls.values[i]);
	pane_relabel_labels_release(&ls);
	pane_relabel_free(r);
	pane_cfg_free(cfg);
	return pane_buf_detach(&out, NULL);
}

static void expect(const char *yaml, const char *in, const char *want)
{
	char *got = run(yaml, in);
	if (strcmp(got, want) != 0)
		fail_msg("rules:\n%son %s: got %s, want %s", yaml, in, got, want);
	free(got);
}

#define IN "__name__=up,instance=h1:9090,job=api"

static void replace(void **state)
{
	(void)state;
	expect("r:\n- source_labels: [instance]\n  regex: '(.*):(\\d+)'\n  target_label: host\n", IN,
	       "__name__=up,host=h1,instance=h1:9090,job=api");
	/* default regex (.*) and replacement $1, separator ; */
	expect("r:\n- source_labels: [job, instance]\n  target_label: both\n", IN,
	       "__name__=up,both=api;h1:9090,instance=h1:9090,job=api");
	/* no match: unchanged */
	expect("r:\n- source_labels: [job]\n  regex: web\n  target_label: x\n  replacement: y\n", IN, IN);
	/* empty result removes the target */
	expect("r:\n- source_labels: [nothere]\n  target_label: job\n", IN, "__name__=up,instance=h1:9090");
	/* named groups, ${1}, $$ and Go's $1x (group "1x": empty); in pane.yaml
	 * a $ before { is written $$ (${VAR} is the environment) */
	expect("r:\n- source_labels: [instance]\n  regex: '(?P<h>[^:]+):(.*)'\n  target_label: t\n"
	       "  replacement: '$${h}-$${2}-$$$$-$1x'\n",
	       IN, "__name__=up,instance=h1:9090,job=api,t=h1-9090-$-");
	/* target_label with a group; an invalid expanded name skips the rule */
	expect("r:\n- source_labels: [job]\n  target_label: 'l_$1'\n  replacement: v\n", IN,
	       "__name__=up,instance=h1:9090,job=api,l_api=v");
	expect("r:\n- source_labels: [instance]\n  target_label: '$1'\n  replacement: v\n", IN, IN);
	/* the metric name is __name__ */
	expect("r:\n- source_labels: [__name__]\n  target_label: __name__\n  replacement: 'pane_$1'\n", IN,
	       "__name__=pane_up,instance=h1:9090,job=api");
	expect("r:\n- source_labels: [job]\n  target_label: j\n  action: uppercase\n", IN,
	       "__name__=up,instance=h1:9090,j=API,job=api");
	expect("r:\n- source_labels: [j]\n  target_label: j\n  action: lowercase\n", "j=MiXed", "j=mixed");
}

static void keep_drop(void **state)
{
	(void)state;
	expect("r:\n- source_labels: [job]\n  regex: api|web\n  action: keep\n", IN, IN);
	expect("r:\n- source_labels: [job]\n  regex: web\n  action: keep\n", IN, "DROP");
	expect("r:\n- source_labels: [job]\n  regex: ap\n  action: drop\n", IN, IN); /* anchored */
	expect("r:\n- source_labels: [__name__]\n  regex: 'u.*'\n  action: drop\n", IN, "DROP");
	expect("r:\n- source_labels: [a]\n  target_label: b\n  action: keepequal\n", "a=1,b=1", "a=1,b=1");
	expect("r:\n- source_labels: [a]\n  target_label: b\n  action: keepequal\n", "a=1,b=2", "DROP");
	expect("r:\n- source_labels: [a]\n  target_label: b\n  action: dropequal\n", "a=1,b=1", "DROP");
	/* the first drop ends the list */
	expect("r:\n- {source_labels: [job], regex: api, action: drop}\n- {source_labels: [job], target_label: x}\n",
	       IN, "DROP");
}

static void label_actions(void **state)
{
	(void)state;
	expect("r:\n- regex: 'meta_(.+)'\n  action: labelmap\n", "meta_zone=eu,job=a", "job=a,meta_zone=eu,zone=eu");
	expect("r:\n- regex: 'meta_(.+)'\n  action: labelmap\n  replacement: 'x_$1'\n", "meta_zone=eu",
	       "meta_zone=eu,x_zone=eu");
	expect("r:\n- regex: 'instance|job'\n  action: labeldrop\n", IN, "__name__=up");
	expect("r:\n- regex: '__name__|job'\n  action: labelkeep\n", IN, "__name__=up,job=api");
}

static void hashmod(void **state)
{
	(void)state;
	/* Prometheus: binary.BigEndian.Uint64(md5("api")[8:]) % 10 */
	expect("r:\n- source_labels: [job]\n  modulus: 1000000007\n  target_label: h\n  action: hashmod\n", "job=api",
	       "h=682773340,job=api");
	expect("r:\n- source_labels: [job]\n  modulus: 4\n  target_label: h\n  action: hashmod\n"
	       "- source_labels: [h]\n  regex: '[0-2]'\n  action: keep\n",
	       "job=api", "h=2,job=api");
}

static void bad_config(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} cases[] = {
	    {"r:\n- action: explode\n  source_labels: [a]\n", "t.yaml:2: r[0].action: unknown relabel action"},
	    {"r:\n- source_labels: [a]\n  action: hashmod\n  target_label: h\n", "needs a modulus"},
	    {"r:\n- source_labels: [a]\n  regex: '(('\n  target_label: b\n",
	     "t.yaml:3: r[0].regex: error parsing regexp"},
	    {"r:\n- source_labels: [a]\n  action: replace\n", "needs target_label"},
	    {"r:\n- source_labels: [a]\n  regexp: x\n", "regexp"},
	    {"r:\n- source_labels: ['a-b']\n  target_label: x\n", "not a valid label name"},
	    {"r:\n- regex: x\n  action: labeldrop\n  target_label: y\n", "takes only regex"},
	    {"r: {a: 1}\n", "a list of relabel rules"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pane_err err = {0};
		struct pane_cfg *cfg = pane_cfg_parse("t.yaml", cases[i].yaml, strlen(cases[i].yaml), &err);
		assert_non_null(cfg);
		struct pane_relabel *r = pane_relabel_parse(cfg, pane_cfg_get(cfg->root, "r"), &err);
		if (r || !strstr(err.msg, cases[i].want))
			fail_msg("%s: got '%s', want '%s'", cases[i].yaml, r ? "accepted" : err.msg, cases[i].want);
		pane_cfg_free(cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(replace), cmocka_unit_test(keep_drop),  cmocka_unit_test(label_actions),
	    cmocka_unit_test(hashmod), cmocka_unit_test(bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
