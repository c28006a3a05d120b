/*
 * demo.c - `pane demo`: run the daemon on local defaults and say where to look.
 *
 * `make demo` starts a throwaway PostgreSQL and simulations of Render, Sentry
 * and Supabase (scripts/demo.sh, tests/fakes/) and runs this. Each finished
 * capability adds itself here: what it starts in demo mode and the line that
 * tells a newcomer where to look. The sources themselves are chosen in
 * src/sources/sources.c (demo_cfg): the same PANE_DEMO_*_URL variables that
 * turn a provider on there are read here to say where to look for it.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "serve/serve.h"

static bool demo_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v;
}

/* "  deploys       " the first time a label is printed, blanks after. */
static const char *label(const char *name, bool *shown)
{
	static char buf[32];
	snprintf(buf, sizeof buf, "  %-14s", *shown ? "" : name);
	*shown = true;
	return buf;
}

/* Where the simulated providers' deploys, issues, logs and metrics show up. */
static void print_providers(const struct pane_serve *s, int port)
{
	bool render = demo_env("PANE_DEMO_RENDER_URL"), sentry = demo_env("PANE_DEMO_SENTRY_URL"),
	     supabase = demo_env("PANE_DEMO_SUPABASE_URL");
	if (!render && !sentry && !supabase) {
		printf("\n  providers     none: 'make demo' simulates Render, Sentry and Supabase (scripts/demo.sh)\n");
		return;
	}
	printf("\n  providers     %s%s%s%s%s: SIMULATED on loopback (tests/fakes/), collected every 15 s\n",
	       render ? "Render" : "", render && (sentry || supabase) ? ", " : "", sentry ? "Sentry" : "",
	       sentry && supabase ? ", " : "", supabase ? "Supabase" : "");
	printf("                real ones: a sources: section in pane.yaml (examples/pane.yaml,\n"
	       "                docs/render-sentry.md, docs/supabase.md), then pane serve --config pane.yaml\n");
	if (!s->pipeline) {
		printf("                (not collected: no store attached)\n");
		return;
	}
	const char *more = "                     ";
	bool shown = false;
	if (render)
		printf("  deploys       curl 'http://127.0.0.1:%d/api/v1/events?kind=deploy&limit=5'   (Render)\n",
		       port);
	if (sentry)
		printf("  issues        curl 'http://127.0.0.1:%d/api/v1/events?kind=issue&limit=5'    (Sentry; "
		       "kind=release too)\n",
		       port);
	if (render)
		printf(
		    "%scurl -G http://127.0.0.1:%d/api/v1/logs --data-urlencode 'selector={provider=\"render\"}' \\\n"
		    "%s--data-urlencode severity=warn --data-urlencode limit=5\n",
		    label("logs", &shown), port, more);
	if (supabase)
		printf(
		    "%scurl -G http://127.0.0.1:%d/api/v1/logs --data-urlencode 'selector={provider=\"supabase\"}' \\\n"
		    "%s--data-urlencode limit=5\n",
		    label("logs", &shown), port, more);
	shown = false;
	if (render)
		printf("%spane query 'render_cpu_usage_cores' --url http://127.0.0.1:%d\n", label("metrics", &shown),
		       port);
	if (sentry)
		printf("%spane query 'sum by (project, level) (sentry_issues)' --url http://127.0.0.1:%d\n",
		       label("metrics", &shown), port);
	if (supabase)
		printf("%spane query 'node_load5' --url http://127.0.0.1:%d   (Supabase's metrics endpoint)\n",
		       label("metrics", &shown), port);
	printf("  source health pane query 'pane_source_up' --url http://127.0.0.1:%d\n", port);
	printf("  in the shell  pane events --kind %s --url http://127.0.0.1:%d\n", render ? "deploy" : "issue", port);
	if (render || supabase)
		printf("                pane logs '{provider=\"%s\"}' --follow --url http://127.0.0.1:%d\n",
		       render ? "render" : "supabase", port);
}

static void on_ready(struct pane_serve *s, int port, void *arg)
{
	(void)arg;
	printf("\n"
	       "  pane is running (demo mode)\n"
	       "\n"
	       "  health        curl http://127.0.0.1:%d/healthz\n"
	       "  readiness     curl http://127.0.0.1:%d/readyz\n"
	       "  own metrics   curl http://127.0.0.1:%d/metrics\n"
	       "  PromQL        pane query 'up' --url http://127.0.0.1:%d   (Grafana: Prometheus data source, same URL)\n"
	       "  data          %s (store: %s/store; pane's own metrics land there every 15 s)\n"
	       "  postgres      %s\n"
	       "  sources       %s\n",
	       port, port, port, port, s->data_dir, s->data_dir, s->database_url ? s->database_url : "(none: DATABASE_URL not set)",
	       !s->database_url ? "(none of its own: they watch DATABASE_URL)"
	       : s->pipeline	 ? "postgres statistics + queue health every 15s (pane_source_up on /metrics)"
				 : "(disabled: no store attached)");
	print_providers(s, port);
	if (s->database_url)
		printf("\n"
		       "  job queue     a worker runs queue 'demo'; three sample jobs were enqueued\n"
		       "                pane jobs list        pane jobs stats\n"
		       "                pane enqueue demo '{\"hello\": \"world\"}'\n"
		       "                curl -s http://127.0.0.1:%d/metrics | grep pane_queue\n"
		       "\n"
		       "  enqueue       curl -X POST http://127.0.0.1:%d/v1/queues/demo/jobs -H 'Content-Type: application/json' \\\n"
		       "                     -d '{\"payload\": {\"hello\": \"world\"}}'\n"
		       "  watch a job   curl -N http://127.0.0.1:%d/v1/jobs/ID/events   (ID from the answer above;\n"
		       "                Server-Sent Events until the worker finishes it)\n"
		       "  upload        curl -X POST --data-binary @photo.jpg -H 'Content-Type: image/jpeg' \\\n"
		       "                     'http://127.0.0.1:%d/v1/uploads/demo?filename=photo.jpg'\n"
		       "  queues        curl http://127.0.0.1:%d/v1/queues\n",
		       port, port, port, port, port);
	else
		printf("\n  job queue     set DATABASE_URL (or run 'make demo') to see jobs processed\n");
	printf("\n"
	       "  push metrics  echo 'demo.hits:1|c' | nc -u -w0 127.0.0.1 8125   (StatsD)\n"
	       "                Prometheus remote_write -> http://127.0.0.1:%d/api/v1/write\n"
	       "                OTLP/HTTP JSON -> http://127.0.0.1:%d/v1/metrics, /v1/logs\n"
	       "  push logs     http://127.0.0.1:%d/loki/api/v1/push, /api/v1/push/jsonlines\n"
	       "%s"
	       "\n"
	       "  Press Ctrl-C to stop.\n\n",
	       port, port, port, s->pipeline ? "" : "                (receivers are off until the store is attached)\n");
	fflush(stdout);
}

static const char demo_usage[] = "usage: pane demo [--listen HOST:PORT] [--data-dir DIR]\n";

int pane_cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"data-dir", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct pane_serve_opts so = {.listen = "127.0.0.1:8080", .data_dir = "./pane-data", .demo = true,
				     .on_ready = on_ready};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+l:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': so.listen = optarg; break;
		case 'd': so.data_dir = optarg; break;
		case 'h':
			printf("pane demo - run everything on local defaults and show where to look\n\n%s\n"
			       "Uses DATABASE_URL when set ('make demo' starts a local PostgreSQL for you), and\n"
			       "simulated Render, Sentry and Supabase when PANE_DEMO_RENDER_URL, PANE_DEMO_SENTRY_URL,\n"
			       "PANE_DEMO_SUPABASE_URL and their keys are set ('make demo' starts them: scripts/demo-fakes.sh).\n\n"
			       "options:\n"
			       "  -l, --listen ADDR    HOST:PORT (default 127.0.0.1:8080)\n"
			       "  -d, --data-dir DIR   data directory (default ./pane-data)\n"
			       "  -h, --help           this help\n",
			       demo_usage);
			return PANE_EXIT_OK;
		default:
			return pane_cli_bad_option("demo", demo_usage, argv);
		}
	}
	if (optind < argc)
		return pane_cli_usage_error("demo", demo_usage, "unexpected argument '%s'", argv[optind]);
	return pane_serve_run(&so);
}
