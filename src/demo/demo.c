/*
 * demo.c - `pane demo`: run the daemon on local defaults and say where to look.
 *
 * `make demo` starts a throwaway PostgreSQL (scripts/demo.sh) and runs this.
 * Each finished capability adds itself here: what it starts in demo mode and
 * the line that tells a newcomer where to look.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "serve/serve.h"

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
	       !s->database_url ? "(none: they watch DATABASE_URL)"
	       : s->pipeline	 ? "postgres statistics + queue health every 15s (pane_source_up on /metrics)"
				 : "(disabled: no store attached)");
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
			       "Uses DATABASE_URL when set ('make demo' starts a local PostgreSQL for you).\n\n"
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
