/*
 * jobs_cli.c - `pane jobs list|show|cancel|retry|stats|pause|resume|limit`.
 *
 * The data comes as JSON from the SQL functions (pane.job, pane.queue_stats,
 * the list query in client.c); --json prints it as is, otherwise it is
 * rendered as a small table with jansson.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/str.h"
#include "cli/cli.h"
#include "pane/queue.h"

#include "base/err.h"
#include "queue/cli_common.h"

static const char jobs_usage[] =
    "usage: pane jobs list [--queue Q] [--state S] [--limit N] [--json]\n"
    "       pane jobs show ID [--json]\n"
    "       pane jobs cancel ID | retry ID\n"
    "       pane jobs retry --queue Q --state failed|cancelled [--since T]\n"
    "       pane jobs cancel --queue Q [--state available|running|available,running] [--since T]\n"
    "       pane jobs stats [--json]\n"
    "       pane jobs pause QUEUE | resume QUEUE\n"
    "       pane jobs limit QUEUE [--concurrency N] [--rate N] [--per D]\n"
    "  common: [--database-url URL] [--schema NAME]\n";

static void print_help(void)
{
	printf("pane jobs - list, inspect, cancel and retry jobs; queue statistics\n\n%s\n"
	       "subcommands:\n"
	       "  list        newest jobs first, active and finished (--queue, --state, --limit, default 50)\n"
	       "  show ID     one job with its payload, every attempt's error and its result\n"
	       "  cancel ID   cancel an available or running job (a running handler is killed)\n"
	       "  retry ID    re-drive a failed or cancelled job (or run a waiting one now)\n"
	       "  retry --queue Q --state failed|cancelled [--since T]\n"
	       "              re-drive all of them in one statement (finished at or after T: a\n"
	       "              timestamp like 2026-12-01T10:00Z, or a duration like 2h meaning the last 2h);\n"
	       "              jobs whose unique key an active job holds stay where they are\n"
	       "  cancel --queue Q [--state S] [--since T]\n"
	       "              cancel all of the queue's available jobs (or running, or both: S =\n"
	       "              available,running) created at or after T, in one statement\n"
	       "  stats       jobs per queue and state: available, scheduled, running, completed,\n"
	       "              failed, cancelled, and the age of the oldest runnable job\n"
	       "  pause Q     stop workers from claiming jobs of queue Q; resume Q undoes it\n"
	       "  limit Q     global limits for queue Q across all workers: --concurrency N running\n"
	       "              jobs, --rate N claims per --per D (default 1s); -1 removes a limit\n\n"
	       "options:\n"
	       "  --json              machine-readable output\n"
	       "  -d, --database-url  PostgreSQL URL (default: $DATABASE_URL)\n"
	       "  -s, --schema NAME   schema (default: pane)\n"
	       "  -h, --help          this help\n",
	       jobs_usage);
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "-";
}

static void print_list(const char *json)
{
	json_t *a = json_loads(json, 0, NULL);
	printf("%-10s %-16s %-10s %-8s %-9s %s\n", "ID", "QUEUE", "STATE", "PRIO", "ATTEMPT", "RUN AT");
	size_t i;
	json_t *o;
	json_array_foreach(a, i, o)
	{
		char att[32];
		snprintf(att, sizeof att, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
		         json_integer_value(json_object_get(o, "attempt")),
		         json_integer_value(json_object_get(o, "max_attempts")));
		printf("%-10" JSON_INTEGER_FORMAT " %-16s %-10s %-8" JSON_INTEGER_FORMAT " %-9s %s\n",
		       json_integer_value(json_object_get(o, "id")), jstr(o, "queue"), jstr(o, "state"),
		       json_integer_value(json_object_get(o, "priority")), att, jstr(o, "run_at"));
	}
	if (json_array_size(a) == 0)
		printf("(no jobs)\n");
	json_decref(a);
}

static void print_job(const char *json)
{
	json_t *o = json_loads(json, 0, NULL);
	printf("job %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(o, "id")));
	printf("  queue         %s\n", jstr(o, "queue"));
	printf("  state         %s\n", jstr(o, "state"));
	printf("  attempt       %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(o, "attempt")),
	       json_integer_value(json_object_get(o, "max_attempts")));
	printf("  priority      %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(o, "priority")));
	printf("  created at    %s\n", jstr(o, "created_at"));
	printf("  run at        %s\n", jstr(o, "run_at"));
	printf("  started at    %s\n", jstr(o, "started_at"));
	printf("  finished at   %s\n", jstr(o, "finished_at"));
	if (json_is_string(json_object_get(o, "unique_key")))
		printf("  unique key    %s\n", jstr(o, "unique_key"));
	if (json_is_number(json_object_get(o, "timeout_seconds")))
		printf("  timeout       %gs\n", json_number_value(json_object_get(o, "timeout_seconds")));
	char *p = json_dumps(json_object_get(o, "payload"), JSON_COMPACT | JSON_ENCODE_ANY);
	printf("  payload       %s\n", p ? p : "null");
	free(p);
	json_t *res = json_object_get(o, "result");
	if (res && !json_is_null(res)) {
		p = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("  result        %s\n", p ? p : "null");
		free(p);
	}
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(o, "errors"), i, e)
	{
		printf("  error #%-5" JSON_INTEGER_FORMAT " %s  %s\n",
		       json_integer_value(json_object_get(e, "attempt")), jstr(e, "at"), jstr(e, "error"));
	}
	json_decref(o);
}

static void print_stats(const char *json)
{
	json_t *a = json_loads(json, 0, NULL);
	printf("%-20s %-6s %9s %9s %8s %10s %7s %9s %10s\n", "QUEUE", "PAUSED", "AVAILABLE", "SCHEDULED", "RUNNING",
	       "COMPLETED", "FAILED", "CANCELLED", "OLDEST(s)");
	size_t i;
	json_t *o;
	json_array_foreach(a, i, o)
	{
		printf("%-20s %-6s %9" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT " %8" JSON_INTEGER_FORMAT
		       " %10" JSON_INTEGER_FORMAT " %7" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT " %10.1f\n",
		       jstr(o, "queue"), json_is_true(json_object_get(o, "paused")) ? "yes" : "no",
		       json_integer_value(json_object_get(o, "available")),
		       json_integer_value(json_object_get(o, "scheduled")),
		       json_integer_value(json_object_get(o, "running")),
		       json_integer_value(json_object_get(o, "completed")),
		       json_integer_value(json_object_get(o, "failed")),
		       json_integer_value(json_object_get(o, "cancelled")),
		       json_number_value(json_object_get(o, "oldest_runnable_age_seconds")));
	}
	if (json_array_size(a) == 0)
		printf("(no queues yet)\n");
	json_decref(a);
}

static int parse_id(const char *s, int64_t *id)
{
	return pane_str_to_i64(pane_str_c(s), id) == 0 && *id > 0 ? 0 : -1;
}

int pane_cmd_jobs(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"queue", required_argument, NULL, 'q'},
	    {"state", required_argument, NULL, 'S'},
	    {"since", required_argument, NULL, 'T'},
	    {"limit", required_argument, NULL, 'l'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"rate", required_argument, NULL, 'r'},
	    {"per", required_argument, NULL, 'P'},
	    {"json", no_argument, NULL, 'j'},
	    {"database-url", required_argument, NULL, 'd'},
	    {"schema", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	const char *url = NULL, *schema = PANE_QUEUE_DEFAULT_SCHEMA, *queue = NULL, *state = NULL, *since = NULL;
	bool json = false;
	int64_t limit = 50, conc = -2, rate = -2, per_ms = 1000;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:s:hj", opts, NULL)) != -1) {
		switch (c) {
		case 'q': queue = optarg; break;
		case 'S': state = optarg; break;
		case 'T': since = optarg; break;
		case 'l':
			if (pane_str_to_i64(pane_str_c(optarg), &limit) < 0 || limit < 1 || limit > 10000)
				return pane_cli_usage_error("jobs", jobs_usage, "--limit must be between 1 and 10000");
			break;
		case 'c':
			if (pane_str_to_i64(pane_str_c(optarg), &conc) < 0 || conc < -1 || conc > 1000000)
				return pane_cli_usage_error("jobs", jobs_usage,
				                            "--concurrency must be -1 (none) or 0..1000000");
			break;
		case 'r':
			if (pane_str_to_i64(pane_str_c(optarg), &rate) < 0 || rate < -1 || rate == 0 || rate > 1000000)
				return pane_cli_usage_error("jobs", jobs_usage,
				                            "--rate must be -1 (none) or 1..1000000");
			break;
		case 'P':
			if (pane_duration_parse(pane_str_c(optarg), 1000, &per_ms) < 0 || per_ms <= 0)
				return pane_cli_usage_error("jobs", jobs_usage, "--per '%s' is not a positive duration",
				                            optarg);
			break;
		case 'j': json = true; break;
		case 'd': url = optarg; break;
		case 's': schema = optarg; break;
		case 'h': print_help(); return PANE_EXIT_OK;
		default: return pane_cli_bad_option("jobs", jobs_usage, argv);
		}
	}
	if (optind >= argc)
		return pane_cli_usage_error("jobs", jobs_usage, "no subcommand given");
	const char *sub = argv[optind++];
	const char *arg = optind < argc ? argv[optind++] : NULL;
	if (optind < argc)
		return pane_cli_usage_error("jobs", jobs_usage, "unexpected argument '%s'", argv[optind]);
	bool bulk = (!strcmp(sub, "cancel") || !strcmp(sub, "retry")) && !arg && queue;
	bool needs_id = !bulk && (!strcmp(sub, "show") || !strcmp(sub, "cancel") || !strcmp(sub, "retry"));
	if (bulk && !strcmp(sub, "retry") && !state)
		return pane_cli_usage_error("jobs", jobs_usage,
		                            "retry --queue needs --state failed or --state cancelled");
	if (since && !bulk)
		return pane_cli_usage_error("jobs", jobs_usage, "--since goes with retry/cancel --queue");
	char since_ts[64] = "";
	if (since) {
		int64_t ago_ms;
		if (pane_duration_parse(pane_str_c(since), 1000, &ago_ms) == 0 && ago_ms > 0) {
			time_t t = time(NULL) - (time_t)(ago_ms / 1000);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(since_ts, sizeof since_ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		} else {
			snprintf(since_ts, sizeof since_ts, "%s", since);
		}
	}
	bool needs_queue = !strcmp(sub, "pause") || !strcmp(sub, "resume") || !strcmp(sub, "limit");
	if (!bulk && !needs_id && !needs_queue && strcmp(sub, "list") && strcmp(sub, "stats"))
		return pane_cli_usage_error("jobs", jobs_usage, "unknown subcommand '%s'", sub);
	int64_t id = 0;
	if (needs_id && (!arg || parse_id(arg, &id) < 0))
		return pane_cli_usage_error("jobs", jobs_usage, "%s needs a job id (a positive integer)", sub);
	if (needs_queue && (!arg || !*arg))
		return pane_cli_usage_error("jobs", jobs_usage, "%s needs a queue name", sub);
	if (!needs_id && !needs_queue && arg)
		return pane_cli_usage_error("jobs", jobs_usage, "unexpected argument '%s'", arg);
	if (!strcmp(sub, "limit") && conc == -2 && rate == -2)
		return pane_cli_usage_error("jobs", jobs_usage, "limit needs --concurrency and/or --rate");
	int rc = pane_queue_cli_check_schema("jobs", jobs_usage, schema);
	if (rc)
		return rc;
	PGconn *conn = pane_queue_cli_connect("jobs", url);
	if (!conn)
		return PANE_EXIT_FAILURE;
	struct pane_err err = {0};
	char *out = NULL, st[16];
	if (!strcmp(sub, "list")) {
		rc = pane_queue_list(conn, schema, queue, state, (int)limit, &out, &err);
		if (rc == 0)
			json ? (void)printf("%s\n", out) : print_list(out);
	} else if (!strcmp(sub, "show")) {
		rc = pane_queue_job(conn, schema, id, &out, &err);
		if (rc == 0)
			json ? (void)printf("%s\n", out) : print_job(out);
	} else if (!strcmp(sub, "stats")) {
		rc = pane_queue_stats(conn, schema, &out, &err);
		if (rc == 0)
			json ? (void)printf("%s\n", out) : print_stats(out);
	} else if (bulk) {
		int64_t n = 0;
		rc = !strcmp(sub, "retry")
		         ? pane_queue_retry_bulk(conn, schema, queue, state, since ? since_ts : NULL, &n, &err)
		         : pane_queue_cancel_bulk(conn, schema, queue, state, since ? since_ts : NULL, &n, &err);
		if (rc == 0) {
			if (json) {
				json_t *o = json_pack("{s:s, s:I}", "queue", queue,
				                      !strcmp(sub, "retry") ? "retried" : "cancelled", (json_int_t)n);
				char *t = json_dumps(o, JSON_COMPACT);
				printf("%s\n", t);
				free(t);
				json_decref(o);
			} else
				printf("%" PRId64 " job(s) of queue %s %s\n", n, queue,
				       !strcmp(sub, "retry") ? "re-driven" : "cancelled");
		}
	} else if (needs_id) {
		rc = !strcmp(sub, "cancel") ? pane_queue_cancel(conn, schema, id, st, &err)
		                            : pane_queue_retry(conn, schema, id, st, &err);
		if (rc == 0) {
			if (json)
				printf("{\"id\":%" PRId64 ",\"state\":\"%s\"}\n", id, st);
			else
				printf("job %" PRId64 " is %s\n", id, st);
		}
	} else if (!strcmp(sub, "limit")) {
		rc = pane_queue_set_limits(conn, schema, arg, (int)(conc == -2 ? -1 : conc),
		                           (int)(rate == -2 ? -1 : rate), per_ms, &err);
		if (rc == 0 && !json)
			printf("queue %s limits set\n", arg);
	} else {
		bool pause = !strcmp(sub, "pause");
		rc = pane_queue_pause(conn, schema, arg, pause, &err);
		if (rc == 0 && !json)
			printf("queue %s %s\n", arg, pause ? "paused" : "resumed");
	}
	free(out);
	PQfinish(conn);
	if (rc < 0) {
		if (rc == PANE_EDB && strstr(err.msg, "does not exist"))
			pane_err_detail(&err, "run 'pane migrate' first (or check --schema)");
		return pane_cli_fail("jobs", &err);
	}
	return PANE_EXIT_OK;
}
