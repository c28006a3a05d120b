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
	       "  data          %s\n"
	       "  postgres      %s\n"
	       "\n"
	       "  Press Ctrl-C to stop.\n\n",
	       port, port, port, port, s->data_dir, s->database_url ? s->database_url : "(none: DATABASE_URL not set)");
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
