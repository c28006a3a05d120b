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
#include <string.h>

#include "alert/rules.h"
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
			printf("  SUCCESS: %zu rules found\n", nr);
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
