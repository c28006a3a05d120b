/*
 * schedules_cli.c - `pane schedules list|add|remove|pause|resume`: cron
 * schedules from the command line.
 *
 * A thin shell over <schema>.schedules and <schema>.set_schedule (the same
 * rows workers tick; see cron.c). The expression is parsed here first, with
 * the worker's own parser, so a schedule that could never run is refused
 * with the reason instead of being stored. Every statement is parameterised.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "cli/cli.h"
#include "pane/queue.h"
#include "queue/cli_common.h"
#include "queue/cron.h"
#include "queue/query_value.h"

static const char schedules_usage[] =
    "usage: pane schedules list [--json]\n"
    "       pane schedules add NAME --cron EXPR --queue Q [--payload JSON] [--priority N]\n"
    "                      [--max-attempts N] [--timeout D]\n"
    "       pane schedules remove NAME | pause NAME | resume NAME\n"
    "  common: [--database-url URL] [--schema NAME]\n";

static void print_help(void)
{
	printf("pane schedules - cron schedules that enqueue jobs\n\n%s\n"
	       "Each tick of a schedule enqueues one job, once across all workers (a worker started\n"
	       "without --no-cron does the ticking). Times are UTC.\n\n"
	       "subcommands:\n"
	       "  list          every schedule: cron, queue, enabled, next and last run, last job\n"
	       "  add NAME      create or replace schedule NAME (replacing re-enables it)\n"
	       "  remove NAME   delete it (jobs it already enqueued stay)\n"
	       "  pause NAME    stop enqueueing until resume NAME\n\n"
	       "options:\n"
	       "  --cron EXPR         5 fields (minute hour day-of-month month day-of-week) or 6 with\n"
	       "                      seconds first: *, N, A-B, */S, A-B/S, comma lists\n"
	       "  --queue Q           the queue the jobs go to\n"
	       "  --payload JSON      each job's payload (default {})\n"
	       "  --priority N        higher runs first (default 0)\n"
	       "  --max-attempts N    attempts per job (default 25)\n"
	       "  --timeout D         per-job time limit, e.g. 30s (default none)\n"
	       "  --json              machine-readable list\n"
	       "  -d, --database-url  PostgreSQL URL (default: $DATABASE_URL)\n"
	       "  -s, --schema NAME   schema (default: pane)\n"
	       "  -h, --help          this help\n",
	       schedules_usage);
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "-";
}

static void print_list(const char *json)
{
	json_t *a = json_loads(json, 0, NULL);
	printf("%-20s %-16s %-14s %-7s %-27s %s\n", "NAME", "CRON", "QUEUE", "ENABLED", "NEXT RUN", "LAST JOB");
	size_t i;
	json_t *o;
	json_array_foreach(a, i, o)
	{
		json_t *lj = json_object_get(o, "last_job_id");
		char last[32] = "-";
		if (json_is_integer(lj))
			snprintf(last, sizeof last, "%" JSON_INTEGER_FORMAT, json_integer_value(lj));
		printf("%-20s %-16s %-14s %-7s %-27s %s\n", jstr(o, "name"), jstr(o, "cron"), jstr(o, "queue"),
		       json_is_true(json_object_get(o, "enabled")) ? "yes" : "no", jstr(o, "next_run_at"), last);
	}
	if (json_array_size(a) == 0)
		printf("(no schedules)\n");
	json_decref(a);
}

int pane_cmd_schedules(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"cron", required_argument, NULL, 'C'},
	    {"queue", required_argument, NULL, 'q'},
	    {"payload", required_argument, NULL, 'p'},
	    {"priority", required_argument, NULL, 'P'},
	    {"max-attempts", required_argument, NULL, 'm'},
	    {"timeout", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"database-url", required_argument, NULL, 'd'},
	    {"schema", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	const char *url = NULL, *schema = PANE_QUEUE_DEFAULT_SCHEMA, *cron = NULL, *queue = NULL, *payload = "{}";
	bool json = false;
	int64_t priority = 0, max_attempts = 25, timeout_ms = 0;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:s:hj", opts, NULL)) != -1) {
		switch (c) {
		case 'C': cron = optarg; break;
		case 'q': queue = optarg; break;
		case 'p': payload = optarg; break;
		case 'P':
			if (pane_str_to_i64(pane_str_c(optarg), &priority) < 0 || priority < INT32_MIN ||
			    priority > INT32_MAX)
				return pane_cli_usage_error("schedules", schedules_usage,
				                            "--priority must be an integer");
			break;
		case 'm':
			if (pane_str_to_i64(pane_str_c(optarg), &max_attempts) < 0 || max_attempts < 1 ||
			    max_attempts > 1000000)
				return pane_cli_usage_error("schedules", schedules_usage,
				                            "--max-attempts must be between 1 and 1000000");
			break;
		case 't':
			if (pane_duration_parse(pane_str_c(optarg), 1000, &timeout_ms) < 0 || timeout_ms <= 0)
				return pane_cli_usage_error("schedules", schedules_usage,
				                            "--timeout '%s' is not a positive duration", optarg);
			break;
		case 'j': json = true; break;
		case 'd': url = optarg; break;
		case 's': schema = optarg; break;
		case 'h': print_help(); return PANE_EXIT_OK;
		default: return pane_cli_bad_option("schedules", schedules_usage, argv);
		}
	}
	if (optind >= argc)
		return pane_cli_usage_error("schedules", schedules_usage, "no subcommand given");
	const char *sub = argv[optind++];
	const char *name = optind < argc ? argv[optind++] : NULL;
	if (optind < argc)
		return pane_cli_usage_error("schedules", schedules_usage, "unexpected argument '%s'", argv[optind]);
	bool is_list = !strcmp(sub, "list");
	if (!is_list && strcmp(sub, "add") && strcmp(sub, "remove") && strcmp(sub, "pause") && strcmp(sub, "resume"))
		return pane_cli_usage_error("schedules", schedules_usage, "unknown subcommand '%s'", sub);
	if (is_list && name)
		return pane_cli_usage_error("schedules", schedules_usage, "unexpected argument '%s'", name);
	if (!is_list && (!name || !*name))
		return pane_cli_usage_error("schedules", schedules_usage, "%s needs a schedule name", sub);
	bool is_add = !strcmp(sub, "add");
	if (!is_add && (cron || queue))
		return pane_cli_usage_error("schedules", schedules_usage, "--cron and --queue go with add");
	if (is_add) {
		if (!cron || !queue || !*queue)
			return pane_cli_usage_error("schedules", schedules_usage, "add needs --cron and --queue");
		struct pane_cron pc;
		char why[160] = "";
		if (pane_cron_parse(cron, &pc, why, sizeof why) < 0)
			return pane_cli_usage_error("schedules", schedules_usage, "--cron '%s': %s", cron, why);
		json_error_t je;
		json_t *pj = json_loads(payload, JSON_DECODE_ANY, &je);
		if (!json_is_object(pj)) {
			json_decref(pj);
			return pane_cli_usage_error("schedules", schedules_usage, "--payload is not a JSON object");
		}
		json_decref(pj);
	}
	int rc = pane_queue_cli_check_schema("schedules", schedules_usage, schema);
	if (rc)
		return rc;
	PGconn *conn = pane_queue_cli_connect("schedules", url);
	if (!conn)
		return PANE_EXIT_FAILURE;
	struct pane_err err = {0};
	char sql[512], *out = NULL;
	if (is_list) {
		snprintf(
		    sql, sizeof sql,
		    "SELECT coalesce(json_agg(json_build_object('name', name, 'cron', cron, 'queue', queue,"
		    " 'payload', payload, 'priority', priority, 'max_attempts', max_attempts,"
		    " 'timeout_seconds', extract(epoch FROM timeout), 'enabled', enabled, 'next_run_at', next_run_at,"
		    " 'last_run_at', last_run_at, 'last_job_id', last_job_id) ORDER BY name), '[]')"
		    " FROM %s.schedules",
		    schema);
		rc = pane_queue_query_value(conn, sql, 0, NULL, &out, &err, "listing schedules");
		if (rc == 0)
			json ? (void)printf("%s\n", out) : print_list(out);
	} else if (is_add) {
		char prio[24], att[24], tmo[32];
		snprintf(prio, sizeof prio, "%" PRId64, priority);
		snprintf(att, sizeof att, "%" PRId64, max_attempts);
		snprintf(tmo, sizeof tmo, "%.3f", (double)timeout_ms / 1000.0);
		snprintf(sql, sizeof sql,
		         "SELECT %s.set_schedule($1, $2, $3, $4::jsonb, $5::int, $6::int,"
		         " CASE WHEN $7::float8 > 0 THEN make_interval(secs => $7::float8) END)::text",
		         schema);
		const char *p[7] = {name, cron, queue, payload, prio, att, tmo};
		rc = pane_queue_query_value(conn, sql, 7, p, &out, &err, "adding the schedule");
		if (rc == 0 && !json)
			printf("schedule %s: '%s' -> queue %s\n", name, cron, queue);
	} else {
		if (!strcmp(sub, "remove"))
			snprintf(sql, sizeof sql, "DELETE FROM %s.schedules WHERE name = $1 RETURNING name", schema);
		else
			snprintf(
			    sql, sizeof sql,
			    "UPDATE %s.schedules SET enabled = %s, next_run_at = NULL WHERE name = $1 RETURNING name",
			    schema, !strcmp(sub, "pause") ? "false" : "true");
		const char *p[1] = {name};
		rc = pane_queue_query_value(conn, sql, 1, p, &out, &err, "changing the schedule");
		if (rc == 0 && !out)
			rc = pane_err_set(&err, PANE_ENOTFOUND, "no schedule named '%s'", name);
		if (rc == 0 && !json)
			printf("schedule %s %s\n", name,
			       !strcmp(sub, "remove")  ? "removed"
			       : !strcmp(sub, "pause") ? "paused"
			                               : "resumed");
	}
	free(out);
	PQfinish(conn);
	if (rc < 0) {
		if (rc == PANE_EDB && strstr(err.msg, "does not exist"))
			pane_err_detail(&err, "run 'pane migrate' first (or check --schema)");
		return pane_cli_fail("schedules", &err);
	}
	return PANE_EXIT_OK;
}
