/*
 * cli.c - `pane rules check FILE...` and `pane rules test FILE...`.
 *
 * check reads rule files as the daemon would and prints promtool's
 * "Checking FILE / SUCCESS: N rules found" or the reasons it refuses them;
 * test runs promtool's unit-test files (unittest.c). Exit status 0 when all
 * pass, 1 when any fails, 2 on a usage error (as promtool, whose failure
 * code is 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/rules.h"
#include "base/buf.h"
#include "cli/cli.h"

static const char usage[] = "usage: pane rules check FILE...\n"
                            "       pane rules test FILE...\n";

static const char help[] = "pane rules - check and unit-test Prometheus rule files (what promtool does)\n\n"
                           "usage: pane rules check FILE...\n"
                           "       pane rules test FILE...\n\n"
                           "  check   load each rule file (groups, recording and alerting rules) and report\n"
                           "          YAML, PromQL and template errors with file:line:column\n"
                           "  test    run promtool's rule unit-test files unchanged (rule_files,\n"
                           "          evaluation_interval, group_eval_order, tests with input_series,\n"
                           "          alert_rule_test, promql_expr_test, external_labels, external_url)\n"
                           "          and print promtool's verdicts and diffs\n\n"
                           "Exit status: 0 all good, 1 a file failed, 2 usage error.\n";

struct ruleid {
	const char *metric;
	const struct pane_rule *r;
};

static int ruleid_cmp(const void *a, const void *b)
{
	const struct ruleid *x = a, *y = b;
	int c = strcmp(x->metric, y->metric);
	if (c)
		return c;
	size_t n = x->r->n_labels < y->r->n_labels ? x->r->n_labels : y->r->n_labels;
	for (size_t i = 0; i < n; i++) {
		if ((c = strcmp(x->r->labels[i].name, y->r->labels[i].name)) != 0)
			return c;
		if ((c = strcmp(x->r->labels[i].value, y->r->labels[i].value)) != 0)
			return c;
	}
	return x->r->n_labels < y->r->n_labels ? -1 : x->r->n_labels > y->r->n_labels;
}

/* promtool's duplicate-rules lint: rules of a file with the same name and
 * labels. Writes the lint message into b; returns how many. */
static size_t duplicates(const struct pane_rules *rs, struct pane_buf *b)
{
	size_t n = 0;
	for (size_t g = 0; g < rs->n_groups; g++)
		n += rs->groups[g].n_rules;
	if (n < 2)
		return 0;
	struct ruleid *v = calloc(n, sizeof *v), *dup = calloc(n, sizeof *dup);
	if (!v || !dup) {
		free(v);
		free(dup);
		return 0;
	}
	size_t k = 0, nd = 0;
	for (size_t g = 0; g < rs->n_groups; g++)
		for (size_t i = 0; i < rs->groups[g].n_rules; i++)
			v[k++] = (struct ruleid){rs->groups[g].rules[i].name, &rs->groups[g].rules[i]};
	qsort(v, n, sizeof *v, ruleid_cmp);
	for (size_t i = 1; i < n; i++)
		if (ruleid_cmp(&v[i - 1], &v[i]) == 0 && (nd == 0 || ruleid_cmp(&v[i - 1], &dup[nd - 1]) != 0))
			dup[nd++] = v[i];
	if (nd) {
		pane_buf_addf(b, "lint error %zu duplicate rule(s) found.\n", nd);
		for (size_t i = 0; i < nd; i++) {
			pane_buf_addf(b, "Metric: %s\nLabel(s):\n", dup[i].metric);
			for (size_t l = 0; l < dup[i].r->n_labels; l++)
				pane_buf_addf(b, "\t%s: %s\n", dup[i].r->labels[l].name, dup[i].r->labels[l].value);
		}
		pane_buf_adds(b, "Might cause inconsistency while recording expressions");
	}
	free(v);
	free(dup);
	return nd;
}

static int check(int n, char **files)
{
	bool failed = false;
	for (int i = 0; i < n; i++) {
		printf("Checking %s\n", files[i]);
		fflush(stdout);
		struct pane_err e;
		struct pane_rules *rs = pane_rules_load(&files[i], 1, &e);
		if (!rs) {
			fprintf(stderr, "  FAILED:\n%s\n", e.msg);
			if (e.detail[0])
				fprintf(stderr, "%s\n", e.detail);
			fflush(stderr);
			failed = true;
		} else {
			size_t nr = 0;
			for (size_t g = 0; g < rs->n_groups; g++)
				nr += rs->groups[g].n_rules;
			struct pane_buf lint;
			pane_buf_init(&lint, PANE_BUF_NOLIMIT);
			if (duplicates(rs, &lint)) { /* reported, not fatal (promtool's default) */
				fprintf(stderr, "  FAILED:\n%s\n", lint.data);
				fflush(stderr);
			} else {
				printf("  SUCCESS: %zu rules found\n", nr);
			}
			pane_buf_release(&lint);
			pane_rules_free(rs);
		}
		printf("\n");
		fflush(stdout);
	}
	return failed ? PANE_EXIT_FAILURE : PANE_EXIT_OK;
}

int pane_cmd_rules(int argc, char **argv)
{
	if (argc < 2)
		return pane_cli_usage_error("rules", usage, "no subcommand given (check or test)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(help, stdout);
		return PANE_EXIT_OK;
	}
	bool is_check = !strcmp(argv[1], "check"), is_test = !strcmp(argv[1], "test");
	if (!is_check && !is_test)
		return pane_cli_usage_error("rules", usage, "unknown subcommand '%s' (check or test)", argv[1]);
	int first = 2;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(help, stdout);
			return PANE_EXIT_OK;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return pane_cli_usage_error("rules", usage, "unknown option '%s'", argv[i]);
	}
	if (argc <= first)
		return pane_cli_usage_error("rules", usage, "no files given");
	if (is_check)
		return check(argc - first, argv + first);
	return pane_rules_unittest(argv + first, (size_t)(argc - first), false) ? PANE_EXIT_FAILURE : PANE_EXIT_OK;
}
