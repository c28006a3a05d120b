/*
 * cli.c - `pane import`: placeholder until the embedded store lands (issue #5).
 */
#include "cli/cli.h"

int pane_cmd_import(int argc, char **argv)
{
	return pane_cli_not_built("import",
		"usage: pane import --format prometheus FILE [--data-dir DIR]\n\n"
		"Loads Prometheus text with millisecond timestamps into a data directory.\n", argc, argv);
}
