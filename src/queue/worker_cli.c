/*
 * worker_cli.c - `pane worker` (the runtime is in worker.c).
 */
#include "cli/cli.h"

int pane_cmd_worker(int argc, char **argv)
{
	return pane_cli_not_built("worker",
		"usage: pane worker --queues a,b --concurrency N (--exec CMD | --http URL | --builtin noop|fail|sleep:MS) [--drain]\n\n"
		"Claims jobs from the named queues and runs them with the given handler.\n", argc, argv);
}
