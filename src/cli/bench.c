/*
 * bench.c - `pane bench`: placeholder until the first benchmark lands.
 * Benchmarks are programs in bench/; `make bench` runs them.
 */
#include "cli/cli.h"

int pane_cmd_bench(int argc, char **argv)
{
	return pane_cli_not_built("bench",
	                          "usage: pane bench [NAME]\n\n"
	                          "Runs pane's built-in benchmarks. Side-by-side benchmarks against peers are in\n"
	                          "bench/ and run with 'make bench'; results are in bench/README.md.\n",
	                          argc, argv);
}
