/*
 * worker_cli.c - `pane worker`: flags to pane_queue_worker_opts, then run
 * (the runtime is worker.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/str.h"
#include "cli/cli.h"
#include "pane/queue.h"

#include "base/err.h"

static const char worker_usage[] =
    "usage: pane worker --queues a,b [--concurrency N] (--exec CMD | --http URL | --builtin noop|fail|sleep:MS)\n"
    "                   [--http-header 'Name: value']... [--http-timeout D] [--http-ca FILE]\n"
    "                   [--drain] [--poll-only] [--poll-interval D] [--lease D] [--grace D]\n"
    "                   [--backoff-base D] [--batch N] [--prefetch N] [--no-cron] [--database-url URL] [--schema "
    "NAME]\n";

static void print_help(void)
{
	printf("pane worker - run jobs from the queue\n\n%s\n"
	       "Claims jobs of the named queues in batches sized to its free slots and runs each with\n"
	       "the handler. Wakes on NOTIFY within milliseconds and polls as a fallback.\n\n"
	       "handlers:\n"
	       "  --exec CMD        run 'sh -c CMD' per job: the job JSON {id,queue,attempt,max_attempts,\n"
	       "                    payload} on stdin, PANE_JOB_ID, PANE_QUEUE, PANE_ATTEMPT in the\n"
	       "                    environment; exit 0 = success and stdout's JSON is the result;\n"
	       "                    otherwise stderr's tail is the error; exit 100 = fail for good (no\n"
	       "                    retry). On timeout or cancel the whole process group is killed.\n"
	       "  --http URL        POST the job JSON; 2xx = success and the body is the result;\n"
	       "                    422 = fail for good (no retry); other answers are retried.\n"
	       "                    https is always verified (certificate and host name)\n"
	       "  --http-header H   add header H ('Name: value', repeatable); ${VAR} in it is replaced\n"
	       "                    by the environment variable VAR at start, so a token stays out of\n"
	       "                    the command line: --http-header 'Authorization: Bearer ${TOKEN}'\n"
	       "  --http-timeout D  per-request time limit when the job has no timeout of its own\n"
	       "                    (default: none; connecting is limited to 10s)\n"
	       "  --http-ca FILE    CA certificates (PEM) to verify the endpoint with, for a private CA\n"
	       "  --builtin NAME    noop, fail, or sleep:MS (for tests and benchmarks)\n\n"
	       "options:\n"
	       "  -q, --queues LIST      comma-separated queue names (required)\n"
	       "  -c, --concurrency N    jobs run at once (default 10)\n"
	       "  --drain                exit 0 once nothing is runnable and nothing runs; on a terminal,\n"
	       "                         a line with done / failed / running / remaining each second\n"
	       "  --poll-only            never LISTEN (PgBouncer in transaction mode)\n"
	       "  --poll-interval D      poll period (default 1s; NOTIFY wakes sooner)\n"
	       "  --lease D              lease per claim, renewed every third of it (default 30s);\n"
	       "                         a crashed worker's jobs are retried once it expires\n"
	       "  --grace D              on SIGTERM: time to finish running jobs (default 10s); the rest\n"
	       "                         is given back without using an attempt. A second signal skips it\n"
	       "  --backoff-base D       retry delay base: D * 2^(attempt-1) +-25%%, at most 1h (default 1s)\n"
	       "  --batch N              largest claim per query (default: concurrency + prefetch)\n"
	       "  --prefetch N           claim up to N jobs beyond the free slots and keep them waiting\n"
	       "                         locally (leases held and renewed; given back unused on SIGTERM).\n"
	       "                         Raises throughput of short jobs; keeps jobs from other workers\n"
	       "                         while they wait (default 0)\n"
	       "  --no-cron              do not run cron schedules (pane.schedules)\n"
	       "  -d, --database-url URL PostgreSQL URL (default: $DATABASE_URL)\n"
	       "  -s, --schema NAME      schema (default: pane)\n"
	       "  -h, --help             this help\n",
	       worker_usage);
}

#define MAX_HEADERS 32

/* "Name: value" with each ${VAR} replaced by the environment's VAR; *out is
 * heap. A missing variable or a line that is not a header is a usage error
 * (exit 2) naming it. */
static int expand_header(const char *in, char **out)
{
	*out = NULL;
	const char *colon = strchr(in, ':');
	if (!colon || colon == in || strpbrk(in, "\r\n"))
		return pane_cli_usage_error("worker", worker_usage, "--http-header '%s' is not 'Name: value'", in);
	struct pane_buf b;
	pane_buf_init(&b, 16384);
	const char *p = in;
	while (*p) {
		const char *d = strstr(p, "${");
		if (!d) {
			pane_buf_adds(&b, p);
			break;
		}
		pane_buf_add(&b, p, (size_t)(d - p));
		const char *end = strchr(d, '}');
		if (!end) {
			pane_buf_release(&b);
			return pane_cli_usage_error("worker", worker_usage, "--http-header: '${' without '}'");
		}
		char name[128];
		snprintf(name, sizeof name, "%.*s", (int)(end - d - 2), d + 2);
		const char *v = getenv(name);
		if (!v || !*v) {
			pane_buf_release(&b);
			return pane_cli_usage_error("worker", worker_usage,
			                            "--http-header uses ${%s}, which is not set in the environment",
			                            name);
		}
		if (strpbrk(v, "\r\n")) {
			pane_buf_release(&b);
			return pane_cli_usage_error("worker", worker_usage, "--http-header: ${%s} holds a line break",
			                            name);
		}
		pane_buf_adds(&b, v);
		p = end + 1;
	}
	if (b.len > 8192) {
		pane_buf_release(&b);
		return pane_cli_usage_error("worker", worker_usage, "--http-header is over 8 KiB");
	}
	*out = pane_buf_detach(&b, NULL);
	return 0;
}

static int dur(const char *flag, const char *v, int64_t *out)
{
	if (pane_duration_parse(pane_str_c(v), 1000, out) < 0 || *out <= 0)
		return pane_cli_usage_error("worker", worker_usage,
		                            "%s '%s' is not a positive duration (e.g. 500ms, 30s)", flag, v);
	return 0;
}

static int run_worker(int argc, char **argv, char **hdr, int *n_hdr_out)
{
	int n_hdr = 0;
	static const struct option opts[] = {
	    {"queues", required_argument, NULL, 'q'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"exec", required_argument, NULL, 'e'},
	    {"http", required_argument, NULL, 'H'},
	    {"builtin", required_argument, NULL, 'b'},
	    {"drain", no_argument, NULL, 'D'},
	    {"poll-only", no_argument, NULL, 'P'},
	    {"poll-interval", required_argument, NULL, 'i'},
	    {"lease", required_argument, NULL, 'L'},
	    {"grace", required_argument, NULL, 'g'},
	    {"backoff-base", required_argument, NULL, 'B'},
	    {"batch", required_argument, NULL, 'n'},
	    {"prefetch", required_argument, NULL, 'p'},
	    {"http-header", required_argument, NULL, 'X'},
	    {"http-timeout", required_argument, NULL, 'T'},
	    {"http-ca", required_argument, NULL, 'A'},
	    {"no-cron", no_argument, NULL, 'C'},
	    {"database-url", required_argument, NULL, 'd'},
	    {"schema", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	struct pane_queue_worker_opts o = {.concurrency = 10, .schema = PANE_QUEUE_DEFAULT_SCHEMA};
	const char *url = NULL, *queues = NULL;
	int handlers = 0, rc;
	int64_t v, backoff_ms = 1000;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "q:c:d:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'q': queues = optarg; break;
		case 'c':
			if (pane_str_to_i64(pane_str_c(optarg), &v) < 0 || v < 1 || v > 10000)
				return pane_cli_usage_error("worker", worker_usage,
				                            "--concurrency must be between 1 and 10000");
			o.concurrency = (int)v;
			break;
		case 'n':
			if (pane_str_to_i64(pane_str_c(optarg), &v) < 0 || v < 1 || v > 10000)
				return pane_cli_usage_error("worker", worker_usage,
				                            "--batch must be between 1 and 10000");
			o.batch_max = (int)v;
			break;
		case 'p':
			if (pane_str_to_i64(pane_str_c(optarg), &v) < 0 || v < 0 || v > 10000)
				return pane_cli_usage_error("worker", worker_usage,
				                            "--prefetch must be between 0 and 10000");
			o.prefetch = (int)v;
			break;
		case 'X':
			if (n_hdr >= MAX_HEADERS)
				return pane_cli_usage_error("worker", worker_usage, "at most %d --http-header",
				                            MAX_HEADERS);
			if ((rc = expand_header(optarg, &hdr[n_hdr])))
				return rc;
			*n_hdr_out = ++n_hdr;
			break;
		case 'T':
			if ((rc = dur("--http-timeout", optarg, &o.http_timeout_ms)))
				return rc;
			break;
		case 'A':
			if (access(optarg, R_OK) < 0)
				return pane_cli_usage_error("worker", worker_usage, "--http-ca '%s' cannot be read",
				                            optarg);
			o.http_ca_file = optarg;
			break;
		case 'e':
			o.handler = PANE_HANDLER_EXEC;
			o.exec_cmd = optarg;
			handlers++;
			break;
		case 'H':
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
				return pane_cli_usage_error("worker", worker_usage,
				                            "--http needs an http:// or https:// URL");
			o.handler = PANE_HANDLER_HTTP;
			o.http_url = optarg;
			handlers++;
			break;
		case 'b':
			handlers++;
			if (!strcmp(optarg, "noop")) {
				o.handler = PANE_HANDLER_NOOP;
			} else if (!strcmp(optarg, "fail")) {
				o.handler = PANE_HANDLER_FAIL;
			} else if (!strncmp(optarg, "sleep:", 6) && pane_str_to_i64(pane_str_c(optarg + 6), &v) == 0 &&
			           v >= 0) {
				o.handler = PANE_HANDLER_SLEEP;
				o.sleep_ms = v;
			} else {
				return pane_cli_usage_error("worker", worker_usage,
				                            "--builtin '%s' is not noop, fail or sleep:MS", optarg);
			}
			break;
		case 'D': o.drain = true; break;
		case 'P': o.poll_only = true; break;
		case 'i':
			if ((rc = dur("--poll-interval", optarg, &o.poll_ms)))
				return rc;
			break;
		case 'L':
			if ((rc = dur("--lease", optarg, &o.lease_ms)))
				return rc;
			break;
		case 'g':
			if ((rc = dur("--grace", optarg, &o.grace_ms)))
				return rc;
			break;
		case 'B':
			if ((rc = dur("--backoff-base", optarg, &backoff_ms)))
				return rc;
			break;
		case 'C': o.no_cron = true; break;
		case 'd': url = optarg; break;
		case 's': o.schema = optarg; break;
		case 'h': print_help(); return PANE_EXIT_OK;
		default: return pane_cli_bad_option("worker", worker_usage, argv);
		}
	}
	if (optind < argc)
		return pane_cli_usage_error("worker", worker_usage, "unexpected argument '%s'", argv[optind]);
	if (!queues || !*queues)
		return pane_cli_usage_error("worker", worker_usage, "--queues is required");
	if (handlers != 1)
		return pane_cli_usage_error("worker", worker_usage, "give exactly one of --exec, --http, --builtin");
	if (!pane_queue_schema_valid(o.schema))
		return pane_cli_usage_error("worker", worker_usage, "schema '%s' is not a valid name", o.schema);
	if (n_hdr && o.handler != PANE_HANDLER_HTTP)
		return pane_cli_usage_error("worker", worker_usage, "--http-header goes with --http");
	o.http_headers = (const char *const *)hdr;
	o.n_http_headers = n_hdr;
	o.backoff_base_s = (double)backoff_ms / 1000.0;
	o.progress = o.drain && isatty(STDERR_FILENO);
	o.database_url = pane_cli_database_url("worker", url);
	if (!o.database_url)
		return PANE_EXIT_USAGE;
	/* split the queue list */
	char *list = pane_xstrdup(queues);
	const char **qv = pane_xcalloc(strlen(list) + 1, sizeof *qv);
	int nq = 0;
	for (char *p = list, *save = NULL, *tok; (tok = strtok_r(p, ",", &save)); p = NULL) {
		if (!*tok)
			continue;
		qv[nq++] = tok;
	}
	if (nq == 0) {
		free(qv);
		free(list);
		return pane_cli_usage_error("worker", worker_usage, "--queues names no queue");
	}
	o.queues = qv;
	o.n_queues = nq;
	struct pane_err err = {0};
	rc = pane_queue_worker_run(&o, NULL, &err);
	free(qv);
	free(list);
	if (rc < 0)
		return pane_cli_fail("worker", &err);
	return PANE_EXIT_OK;
}

int pane_cmd_worker(int argc, char **argv)
{
	char *hdr[MAX_HEADERS] = {0};
	int n_hdr = 0;
	int rc = run_worker(argc, argv, hdr, &n_hdr);
	for (int i = 0; i < n_hdr; i++)
		free(hdr[i]);
	return rc;
}
