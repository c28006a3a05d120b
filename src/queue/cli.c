/*
 * cli.c - the queue's commands: migrate, enqueue, jobs (worker is in
 * worker_cli.c).
 *
 * Each command is a thin shell over the C API in pane/queue.h: parse flags,
 * connect (--database-url or DATABASE_URL), call, print. Human output by
 * default, --json for scripts (the JSON comes straight from the SQL
 * functions, so it matches the HTTP API's).
 */
#include "queue/cli_common.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/redact.h"
#include "base/clock.h"
#include "base/str.h"
#include "cli/cli.h"
#include "pane/queue.h"

#include "base/err.h"

PGconn *pane_queue_cli_connect(const char *cmd, const char *url_flag)
{
	const char *url = pane_cli_database_url(cmd, url_flag);
	if (!url)
		return NULL;
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *vals[] = {url, "pane", NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		char m[1024];
		snprintf(m, sizeof m, "%s", PQerrorMessage(c));
		pane_redact(m, sizeof m); /* libpq echoes a malformed URL, password and all */
		size_t n = strlen(m);
		while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
			n--;
		fprintf(stderr,
		        "pane %s: cannot connect to PostgreSQL: %.*s\n"
		        "  check --database-url / DATABASE_URL and that the server is running\n",
		        cmd, (int)n, m);
		PQfinish(c);
		return NULL;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	return c;
}

int pane_queue_cli_check_schema(const char *cmd, const char *usage, const char *schema)
{
	if (!pane_queue_schema_valid(schema))
		return pane_cli_usage_error(cmd, usage, "schema '%s' is not a valid name ([a-z_][a-z0-9_]*, up to 63)",
		                            schema);
	return 0;
}

/* ------------------------------------------------------------------ migrate */

static const char migrate_usage[] = "usage: pane migrate [--database-url URL] [--schema NAME]\n";

int pane_cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"database-url", required_argument, NULL, 'd'},
	    {"schema", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	const char *url = NULL, *schema = PANE_QUEUE_DEFAULT_SCHEMA;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': url = optarg; break;
		case 's': schema = optarg; break;
		case 'h':
			printf("pane migrate - create or upgrade pane's schema in PostgreSQL\n\n%s\n"
			       "Applies the queue's migrations in one transaction under an advisory lock, so it is\n"
			       "safe to run from several processes at once and a second run changes nothing.\n\n"
			       "options:\n"
			       "  -d, --database-url URL  PostgreSQL URL (default: $DATABASE_URL)\n"
			       "  -s, --schema NAME       schema to use (default: pane)\n"
			       "  -h, --help              this help\n",
			       migrate_usage);
			return PANE_EXIT_OK;
		default: return pane_cli_bad_option("migrate", migrate_usage, argv);
		}
	}
	if (optind < argc)
		return pane_cli_usage_error("migrate", migrate_usage, "unexpected argument '%s'", argv[optind]);
	int rc = pane_queue_cli_check_schema("migrate", migrate_usage, schema);
	if (rc)
		return rc;
	PGconn *conn = pane_queue_cli_connect("migrate", url);
	if (!conn)
		return PANE_EXIT_FAILURE;
	struct pane_err err = {0};
	int from = 0, to = 0;
	if (pane_queue_migrate(conn, schema, &from, &to, &err) < 0) {
		PQfinish(conn);
		return pane_cli_fail("migrate", &err);
	}
	if (from == to)
		printf("schema %s is up to date (version %d)\n", schema, to);
	else
		printf("schema %s migrated from version %d to %d\n", schema, from, to);
	PQfinish(conn);
	return PANE_EXIT_OK;
}

/* ------------------------------------------------------------------ enqueue */

static const char enqueue_usage[] =
    "usage: pane enqueue QUEUE [JSON|-] [--run-at T] [--delay 30s] [--priority N] [--unique-key K]\n"
    "                    [--unique-period D] [--unique-states LIST] [--max-attempts N] [--timeout D] [--json] "
    "[--database-url URL] [--schema NAME]\n";

#define PANE_ENQUEUE_STDIN_MAX (64u << 20)

int pane_cmd_enqueue(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"run-at", required_argument, NULL, 'r'},
	    {"delay", required_argument, NULL, 'D'},
	    {"priority", required_argument, NULL, 'p'},
	    {"unique-key", required_argument, NULL, 'u'},
	    {"unique-period", required_argument, NULL, 'P'},
	    {"unique-states", required_argument, NULL, 'S'},
	    {"max-attempts", required_argument, NULL, 'm'},
	    {"timeout", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"database-url", required_argument, NULL, 'd'},
	    {"schema", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	struct pane_job_spec spec = {0};
	const char *url = NULL, *schema = PANE_QUEUE_DEFAULT_SCHEMA;
	bool json = false;
	int c;
	int64_t v;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:s:hj", opts, NULL)) != -1) {
		switch (c) {
		case 'r': spec.run_at = optarg; break;
		case 'D':
			if (optarg[0] == '-')
				return pane_cli_usage_error("enqueue", enqueue_usage, "--delay must not be negative");
			if (pane_duration_parse(pane_str_c(optarg), 1000, &spec.delay_ms) < 0)
				return pane_cli_usage_error("enqueue", enqueue_usage,
				                            "--delay '%s' is not a duration such as 30s, 5m, 1h",
				                            optarg);
			break;
		case 't':
			if (pane_duration_parse(pane_str_c(optarg), 1000, &spec.timeout_ms) < 0 || spec.timeout_ms <= 0)
				return pane_cli_usage_error("enqueue", enqueue_usage,
				                            "--timeout '%s' is not a positive duration such as 30s",
				                            optarg);
			break;
		case 'p':
			if (pane_str_to_i64(pane_str_c(optarg), &v) < 0 || v < -1000000 || v > 1000000)
				return pane_cli_usage_error(
				    "enqueue", enqueue_usage,
				    "--priority '%s' is not an integer between -1000000 and 1000000", optarg);
			spec.priority = (int)v;
			break;
		case 'm':
			if (pane_str_to_i64(pane_str_c(optarg), &v) < 0 || v < 1 || v > 1000000)
				return pane_cli_usage_error(
				    "enqueue", enqueue_usage,
				    "--max-attempts '%s' is not an integer between 1 and 1000000", optarg);
			spec.max_attempts = (int)v;
			break;
		case 'u':
			if (!*optarg)
				return pane_cli_usage_error("enqueue", enqueue_usage, "--unique-key must not be empty");
			spec.unique_key = optarg;
			break;
		case 'P':
			if (pane_duration_parse(pane_str_c(optarg), 1000, &spec.unique_period_ms) < 0 ||
			    spec.unique_period_ms <= 0)
				return pane_cli_usage_error(
				    "enqueue", enqueue_usage,
				    "--unique-period '%s' is not a positive duration such as 1h", optarg);
			break;
		case 'S': spec.unique_states = optarg; break;
		case 'j': json = true; break;
		case 'd': url = optarg; break;
		case 's': schema = optarg; break;
		case 'h':
			printf("pane enqueue - add a job to a queue and print its id\n\n%s\n"
			       "The payload is a JSON value given as an argument, or read from stdin with '-'\n"
			       "(default {}). A second enqueue with the same --unique-key while the first job is\n"
			       "still available or running prints the existing job's id.\n\n"
			       "options:\n"
			       "  --run-at T          run at this time (RFC 3339, e.g. 2026-11-28T12:00:00Z)\n"
			       "  --delay D           run after this long (30s, 5m, 1h; a bare number is seconds)\n"
			       "  --priority N        higher runs first (default 0)\n"
			       "  --unique-key K      idempotency key among active jobs\n"
			       "  --unique-period D   the key is unique per period of D (e.g. 1h: one job per\n"
			       "                      clock hour), finished jobs included (see --unique-states)\n"
			       "  --unique-states L   states in which a job with the key counts as a duplicate:\n"
			       "                      available,running always; add completed, failed, cancelled\n"
			       "                      (default with --unique-period: available,running,completed)\n"
			       "  --max-attempts N    attempts before the job is failed (default 25)\n"
			       "  --timeout D         per-attempt time limit (the worker kills the handler)\n"
			       "  --json              print {\"id\":N} instead of the bare id\n"
			       "  -d, --database-url  PostgreSQL URL (default: $DATABASE_URL)\n"
			       "  -s, --schema NAME   schema (default: pane)\n"
			       "  -h, --help          this help\n",
			       enqueue_usage);
			return PANE_EXIT_OK;
		default: return pane_cli_bad_option("enqueue", enqueue_usage, argv);
		}
	}
	if (optind >= argc)
		return pane_cli_usage_error("enqueue", enqueue_usage, "no queue given");
	spec.queue = argv[optind++];
	if (!*spec.queue)
		return pane_cli_usage_error("enqueue", enqueue_usage, "the queue name must not be empty");
	const char *payload_arg = optind < argc ? argv[optind++] : NULL;
	if (optind < argc)
		return pane_cli_usage_error("enqueue", enqueue_usage, "unexpected argument '%s'", argv[optind]);
	if (spec.run_at && spec.delay_ms > 0)
		return pane_cli_usage_error("enqueue", enqueue_usage, "give --run-at or --delay, not both");
	int rc = pane_queue_cli_check_schema("enqueue", enqueue_usage, schema);
	if (rc)
		return rc;
	struct pane_buf in;
	pane_buf_init(&in, PANE_ENQUEUE_STDIN_MAX);
	if (payload_arg && strcmp(payload_arg, "-") == 0) {
		char chunk[65536];
		ssize_t n;
		while ((n = read(STDIN_FILENO, chunk, sizeof chunk)) > 0) {
			if (pane_buf_add(&in, chunk, (size_t)n) < 0) {
				fprintf(stderr, "pane enqueue: the payload on stdin is over %u MiB\n",
				        PANE_ENQUEUE_STDIN_MAX >> 20);
				pane_buf_release(&in);
				return PANE_EXIT_FAILURE;
			}
		}
		spec.payload_json = in.data;
	} else if (payload_arg) {
		spec.payload_json = payload_arg;
	}
	if (spec.payload_json) {
		json_error_t jerr;
		json_t *j = json_loads(spec.payload_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
		if (!j) {
			fprintf(stderr,
			        "pane enqueue: the payload is not valid JSON: %s (line %d, column %d)\n"
			        "  pass a JSON value such as '{\"user\": 42}'; nothing was enqueued\n",
			        jerr.text, jerr.line, jerr.column);
			pane_buf_release(&in);
			return PANE_EXIT_FAILURE;
		}
		json_decref(j);
	}
	PGconn *conn = pane_queue_cli_connect("enqueue", url);
	if (!conn) {
		pane_buf_release(&in);
		return PANE_EXIT_FAILURE;
	}
	struct pane_err err = {0};
	int64_t id = 0;
	rc = pane_queue_enqueue(conn, schema, &spec, &id, &err);
	PQfinish(conn);
	pane_buf_release(&in);
	if (rc < 0)
		return pane_cli_fail("enqueue", &err);
	if (json)
		printf("{\"id\":%" PRId64 "}\n", id);
	else
		printf("%" PRId64 "\n", id);
	return PANE_EXIT_OK;
}
