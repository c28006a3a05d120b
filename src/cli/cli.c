/*
 * cli.c - shared helpers for pane's subcommands (see cli.h).
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pane_cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pane %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage);
	fprintf(stderr, "Try 'pane %s --help' for more.\n", cmd);
	return PANE_EXIT_USAGE;
}

int pane_cli_bad_option(const char *cmd, const char *usage, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (optopt && optopt != '?')
		return pane_cli_usage_error(cmd, usage, "option '-%c' is unknown or needs a value", optopt);
	return pane_cli_usage_error(cmd, usage, "option '%s' is unknown or needs a value", arg);
}

int pane_cli_fail(const char *cmd, const struct pane_err *err)
{
	fprintf(stderr, "pane %s: %s\n", cmd, err->msg[0] ? err->msg : pane_err_name(err->code));
	if (err->detail[0])
		fprintf(stderr, "  %s\n", err->detail);
	return PANE_EXIT_FAILURE;
}

const char *pane_cli_database_url(const char *cmd, const char *flag_value)
{
	if (flag_value && *flag_value)
		return flag_value;
	const char *env = getenv("DATABASE_URL");
	if (env && *env)
		return env;
	fprintf(stderr, "pane %s: no database given\n  pass --database-url postgresql://... or set DATABASE_URL\n",
	        cmd);
	return NULL;
}

bool pane_cli_is_tty(void)
{
	return isatty(STDERR_FILENO) == 1;
}

int pane_cli_not_built(const char *cmd, const char *help, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(help, stdout);
			return PANE_EXIT_OK;
		}
	}
	fprintf(stderr, "pane %s: not available in this build yet\n", cmd);
	return PANE_EXIT_FAILURE;
}
