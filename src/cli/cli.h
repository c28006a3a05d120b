/*
 * cli.h - what every `pane <command>` shares: usage errors, help, flags.
 *
 * Conventions (the same for every command):
 *   - `pane CMD --help` / `-h` prints the command's help on stdout, exit 0;
 *   - a bad flag or argument prints one line "pane CMD: what is wrong",
 *     then the usage line(s), on stderr, exit 2 (PANE_EXIT_USAGE);
 *   - a runtime failure prints "pane CMD: message" (+ detail), exit 1;
 *   - commands that need PostgreSQL take --database-url and fall back to
 *     the DATABASE_URL environment variable.
 */
#ifndef PANE_CLI_CLI_H
#define PANE_CLI_CLI_H

#include <stdbool.h>

#include "base/err.h"

enum { PANE_EXIT_OK = 0, PANE_EXIT_FAILURE = 1, PANE_EXIT_USAGE = 2 };

/* Prints "pane CMD: <message>\n<usage>" on stderr; returns PANE_EXIT_USAGE. */
int pane_cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For getopt_long's '?' and ':' returns (call with opterr = 0): names the
 * offending flag. Returns PANE_EXIT_USAGE. */
int pane_cli_bad_option(const char *cmd, const char *usage, char **argv);
/* Prints "pane CMD: msg" and the detail line, if any, on stderr; returns
 * PANE_EXIT_FAILURE. */
int pane_cli_fail(const char *cmd, const struct pane_err *err);
/* Resolves the database URL: the flag's value if given, else
 * $DATABASE_URL; NULL with a message on stderr when neither is set. */
const char *pane_cli_database_url(const char *cmd, const char *flag_value);
/* True when stderr is a terminal (progress bars only then). */
bool pane_cli_is_tty(void);

/* For commands whose part is not built yet: prints help on --help (exit 0),
 * otherwise says so on stderr and returns PANE_EXIT_FAILURE. */
int pane_cli_not_built(const char *cmd, const char *help, int argc, char **argv);

/* The commands; each returns a process exit status. argv[0] is the command name. */
int pane_cmd_serve(int argc, char **argv);
int pane_cmd_worker(int argc, char **argv);
int pane_cmd_enqueue(int argc, char **argv);
int pane_cmd_jobs(int argc, char **argv);
int pane_cmd_schedules(int argc, char **argv);
int pane_cmd_migrate(int argc, char **argv);
int pane_cmd_query(int argc, char **argv);
int pane_cmd_logs(int argc, char **argv);
int pane_cmd_events(int argc, char **argv);
int pane_cmd_import(int argc, char **argv);
int pane_cmd_demo(int argc, char **argv);
int pane_cmd_bench(int argc, char **argv);
int pane_cmd_rules(int argc, char **argv);

#endif
