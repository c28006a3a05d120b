/*
 * cli.c - the queue's commands: worker, enqueue, jobs, migrate.
 *
 * Placeholder until the queue lands (issue #3): each command documents what
 * it will do in --help and refuses to run.
 */
#include "cli/cli.h"

int pane_cmd_worker(int argc, char **argv)
{
	return pane_cli_not_built("worker",
		"usage: pane worker --queues a,b --concurrency N (--exec CMD | --http URL | --builtin noop|fail|sleep:MS) [--drain]\n\n"
		"Claims jobs from the named queues and runs them with the given handler.\n", argc, argv);
}

int pane_cmd_enqueue(int argc, char **argv)
{
	return pane_cli_not_built("enqueue",
		"usage: pane enqueue QUEUE [JSON|-] [--run-at T] [--delay 30s] [--priority N] [--unique-key K] [--max-attempts N]\n\n"
		"Adds a job and prints its id.\n", argc, argv);
}

int pane_cmd_jobs(int argc, char **argv)
{
	return pane_cli_not_built("jobs",
		"usage: pane jobs list|show ID|cancel ID|retry ID|stats [--json]\n\n"
		"Inspects and manages jobs.\n", argc, argv);
}

int pane_cmd_migrate(int argc, char **argv)
{
	return pane_cli_not_built("migrate",
		"usage: pane migrate [--database-url URL] [--schema NAME]\n\n"
		"Creates or upgrades pane's schema in PostgreSQL.\n", argc, argv);
}
