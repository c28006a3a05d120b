/*
 * pane.c - the `pane` command: global flags, then dispatch to a subcommand.
 *
 * Only dispatch lives here. Each command is implemented by the part it
 * belongs to (serve in src/serve, worker/enqueue/jobs/migrate in src/queue,
 * demo in src/demo); commands that are HTTP clients of a running pane
 * (query, logs, events) and `pane import` (a producer into a data
 * directory's store) live in src/cli.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "notify/notify.h"

#ifndef PANE_VERSION
#define PANE_VERSION "0.0.0"
#endif

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"serve", pane_cmd_serve, "run the console: HTTP API, receivers, sources, store, alerts"},
    {"worker", pane_cmd_worker, "run jobs from the queue"},
    {"enqueue", pane_cmd_enqueue, "add a job to a queue"},
    {"jobs", pane_cmd_jobs, "list, inspect, cancel and retry jobs; queue statistics"},
    {"schedules", pane_cmd_schedules, "cron schedules that enqueue jobs: list, add, remove, pause"},
    {"migrate", pane_cmd_migrate, "create or upgrade pane's schema in PostgreSQL"},
    {"query", pane_cmd_query, "evaluate a PromQL expression against the store"},
    {"rules", pane_cmd_rules, "check and unit-test Prometheus rule files (like promtool)"},
    {"logs", pane_cmd_logs, "search and tail the logs pane keeps"},
    {"events", pane_cmd_events, "list deploys, issues and other events"},
    {"alerts", pane_cmd_alerts, "alerts, silences and notification routes (Alertmanager-compatible)"},
    {"import", pane_cmd_import, "load Prometheus text data into a data directory"},
    {"demo", pane_cmd_demo, "run everything on local defaults and show where to look"},
    {"bench", pane_cmd_bench, "run pane's built-in benchmarks"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const char usage[] = "usage: pane [--log-level LEVEL] [--log-format logfmt|json] <command> [options]\n";

static void print_help(void)
{
	printf("pane - a job queue on your PostgreSQL and one console for Supabase, Render and Sentry\n\n");
	printf("%s\n", usage);
	printf("commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("  %-9s %s\n", commands[i].name, commands[i].summary);
	printf("\noptions:\n"
	       "  --log-level LEVEL    debug, info (default), warn, error; env PANE_LOG_LEVEL\n"
	       "  --log-format FORMAT  logfmt (default) or json; env PANE_LOG_FORMAT\n"
	       "  -h, --help           this help; 'pane <command> --help' for a command\n"
	       "  -V, --version        print the version\n"
	       "\nLogs go to stderr. Commands that need PostgreSQL take --database-url or DATABASE_URL.\n");
}

int main(int argc, char **argv)
{
	enum pane_log_level level = PANE_LOG_INFO;
	enum pane_log_format format = PANE_LOG_LOGFMT;
	const char *env;
	/* jansson's allocations abort like pane's own: its lexer drops a byte
	 * when an allocation fails instead of failing (docs/hardening.md) */
	json_set_alloc_funcs(pane_xmalloc, free);
	if ((env = getenv("PANE_LOG_LEVEL")) && *env && pane_log_level_parse(env, &level) < 0) {
		fprintf(stderr, "pane: PANE_LOG_LEVEL='%s' is not one of debug, info, warn, error\n", env);
		return PANE_EXIT_USAGE;
	}
	if ((env = getenv("PANE_LOG_FORMAT")) && *env && pane_log_format_parse(env, &format) < 0) {
		fprintf(stderr, "pane: PANE_LOG_FORMAT='%s' is not logfmt or json\n", env);
		return PANE_EXIT_USAGE;
	}

	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'f'},
	    {0, 0, 0, 0},
	};
	opterr = 0;
	int c;
	/* '+': stop at the first non-option, the command name */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h': print_help(); return PANE_EXIT_OK;
		case 'V': printf("pane %s\n", PANE_VERSION); return PANE_EXIT_OK;
		case 'l':
			if (pane_log_level_parse(optarg, &level) < 0) {
				fprintf(stderr, "pane: --log-level '%s' is not one of debug, info, warn, error\n%s",
				        optarg, usage);
				return PANE_EXIT_USAGE;
			}
			break;
		case 'f':
			if (pane_log_format_parse(optarg, &format) < 0) {
				fprintf(stderr, "pane: --log-format '%s' is not logfmt or json\n%s", optarg, usage);
				return PANE_EXIT_USAGE;
			}
			break;
		default:
			fprintf(stderr, "pane: option '%s' is unknown or needs a value\n%s", argv[optind - 1], usage);
			return PANE_EXIT_USAGE;
		}
	}
	pane_log_setup(level, format);
	if (optind >= argc) {
		fprintf(stderr, "pane: no command given\n%sTry 'pane --help'.\n", usage);
		return PANE_EXIT_USAGE;
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			optind = 0; /* GNU getopt: 0 reinitialises it for the subcommand */
			return commands[i].run(sub_argc, sub_argv);
		}
	}
	fprintf(stderr, "pane: unknown command '%s'\n%sTry 'pane --help'.\n", name, usage);
	return PANE_EXIT_USAGE;
}
