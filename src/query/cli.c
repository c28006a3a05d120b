/*
 * cli.c - `pane query`: placeholder until the PromQL engine lands (issue #7).
 */
#include "cli/cli.h"

int pane_cmd_query(int argc, char **argv)
{
	return pane_cli_not_built("query",
		"usage: pane query 'EXPR' [--time T | --start S --end E --step D] [--json]\n\n"
		"Evaluates a PromQL expression against the store and prints a table.\n", argc, argv);
}
