/*
 * demo.c - `pane demo`: run the daemon on local defaults and say where to look.
 *
 * `make demo` (scripts/demo.sh) starts a throwaway PostgreSQL, simulations of
 * Render, Sentry and Supabase that play a story (tests/fakes/story.py), the
 * demo app (examples/demo-app/app.py) and a `pane worker` for its uploads,
 * writes a small pane.yaml and runs this. Each finished capability adds
 * itself here: what it starts in demo mode and the line that tells a
 * newcomer where to look. Every command the banner prints works as typed
 * from the directory `make demo` ran in (PANE_DEMO_CMD says how to call pane
 * there) and answers with data within seconds; tests/integration/demo runs
 * them all. What the demo adds to the daemon (its sources, the sample jobs
 * and their worker) is in setup.c: the same PANE_DEMO_*_URL variables that
 * turn a provider on there are read here to say where to look for it.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "demo/setup.h"
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
static void print_providers(const struct pane_host *s, const char *pane, const char *url)
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
		printf("  deploys       curl '%s/api/v1/events?kind=deploy&limit=5'   (Render)\n", url);
	if (sentry)
		printf("  issues        curl '%s/api/v1/events?kind=issue&limit=5'    (Sentry; kind=release too)\n",
		       url);
	if (render)
		printf("%scurl -G %s/api/v1/logs --data-urlencode 'selector={provider=\"render\"}' \\\n"
		       "%s--data-urlencode severity=warn --data-urlencode limit=5\n",
		       label("logs", &shown), url, more);
	if (supabase)
		printf("%scurl -G %s/api/v1/logs --data-urlencode 'selector={provider=\"supabase\"}' \\\n"
		       "%s--data-urlencode limit=5\n",
		       label("logs", &shown), url, more);
	shown = false;
	if (render)
		printf("%s%s query 'render_cpu_usage_cores' --url %s\n", label("metrics", &shown), pane, url);
	if (sentry) {
		printf("%s%s query 'sum by (project, level) (sentry_issues)' --url %s\n", label("metrics", &shown),
		       pane, url);
		/* stats_v2 has hourly points: the newest may be most of an hour old */
		printf("%s%s query 'sum by (project) (last_over_time(sentry_events_total{category=\"error\"}[2h]))' "
		       "--url %s\n",
		       label("metrics", &shown), pane, url);
	}
	if (supabase)
		printf("%s%s query 'node_load5' --url %s   (Supabase's metrics endpoint)\n", label("metrics", &shown),
		       pane, url);
	printf("  source health %s query 'pane_source_up' --url %s\n", pane, url);
	printf("  in the shell  %s events --kind %s --url %s\n", pane, render ? "deploy" : "issue", url);
	if (render || supabase)
		printf("                %s logs '{provider=\"%s\"}' --follow --url %s\n", pane,
		       render ? "render" : "supabase", url);
}

/* The StatsD address from the config (scripts/demo.sh writes one), else the default. */
static const char *statsd_addr(const struct pane_host *s)
{
	const struct pane_cfg_node *n = pane_cfg_lookup(s->cfg->root, "receivers.statsd.listen");
	return n && n->value && *n->value ? n->value : "127.0.0.1:8125";
}

static void on_ready(struct pane_host *s, int port, void *arg)
{
	(void)arg;
	const char *pane = getenv("PANE_DEMO_CMD"); /* how to type pane here: scripts/demo.sh says build/pane */
	if (!pane || !*pane)
		pane = "pane";
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	const char *app = getenv("PANE_DEMO_APP_URL"), *story = getenv("PANE_DEMO_STORY_T0");
	const char *speed = getenv("PANE_DEMO_SPEED");

	printf("\n  pane is running (demo mode)\n");
	bool has_app = app && *app, has_story = story && *story;
	printf("\n  open          %s/   (the console: is everything OK, and if not, what changed)\n", url);
	if (has_app)
		printf("  demo app      %s/   upload a file, watch its job run (queue 'uploads')\n", app);
	if (has_story) {
		double x = speed && *speed ? strtod(speed, NULL) : 1.0;
		if (!(x > 0.01))
			x = 1.0;
		printf("  the story     every %.3g min (tests/fakes/story.py), the first deploy within %.3g s:\n"
		       "                Render deploys api 1.5.x, its errors and latency climb, Sentry reports a new\n"
		       "                issue in that release, Render rolls back, the errors stop\n",
		       10.0 / x, 40.0 / x);
		printf("  error ratio   %s query '(sum(rate(http_requests_total{status=~\"5..\"}[1m])) or vector(0))"
		       " / sum(rate(http_requests_total[1m]))' --url %s\n",
		       pane, url);
		printf("  latency p95   %s query 'histogram_quantile(0.95, sum by (le) "
		       "(rate(http_request_duration_seconds_bucket[1m])))' --url %s\n",
		       pane, url);
		printf("  its logs      %s logs '{service=\"api\"}' --url %s\n", pane, url);
		printf("  its errors    curl -G %s/loki/api/v1/query_range --data-urlencode \\\n"
		       "                     'query=sum(count_over_time({service=\"api\"} |= \"ZeroDivisionError\" "
		       "[5m]))'\n",
		       url);
		if (pane_cfg_get(s->cfg->root, "rules")) /* scripts/demo.sh loads examples/rules/app.yml when present */
			printf(
			    "  alerts        curl %s/api/v1/alerts   (ServiceErrorRatioHigh: pending, then firing)\n",
			    url);
	}
	printf(
	    "\n"
	    "  health        curl %s/healthz\n"
	    "  readiness     curl %s/readyz\n"
	    "  own metrics   curl -s %s/metrics | grep pane_http\n"
	    "  PromQL        %s query 'sum by (provider) (count by (provider, __name__) ({provider!=\"\"}))' --url %s\n"
	    "                (Grafana: a Prometheus data source and a Loki data source, same URL)\n"
	    "  data          %s (store: %s/store; pane's own metrics land there every 15 s)\n",
	    url, url, url, pane, url, s->data_dir, s->data_dir);
	if (s->database_url)
		printf("  postgres      %s\n", s->database_url);
	else
		printf("  postgres      (none: DATABASE_URL not set)\n");
	printf("  sources       %s\n", !s->database_url ? "(none of its own: they watch DATABASE_URL)"
	                               : s->pipeline    ? "postgres statistics + queue health every 15 s"
	                                                : "(disabled: no store attached)");
	print_providers(s, pane, url);
	if (s->database_url)
		printf("\n"
		       "  job queue     a worker runs queue 'demo'; three sample jobs were enqueued%s\n"
		       "                %s jobs stats --database-url '%s'\n"
		       "                %s jobs list --limit 5 --database-url '%s'\n"
		       "                %s enqueue demo '{\"hello\": \"world\"}' --database-url '%s'\n"
		       "                curl -s %s/metrics | grep pane_queue\n"
		       "\n"
		       "  enqueue       curl -X POST %s/v1/queues/demo/jobs -H 'Content-Type: application/json' \\\n"
		       "                     -d '{\"payload\": {\"hello\": \"world\"}}'\n"
		       "  watch a job   curl -N %s/v1/jobs/ID/events   (ID from the answer above;\n"
		       "                Server-Sent Events until the worker finishes it)\n"
		       "  upload        curl -X POST --data-binary @README.md -H 'Content-Type: text/markdown' \\\n"
		       "                     '%s/v1/uploads/%s?filename=README.md'\n"
		       "  queues        curl %s/v1/queues\n",
		       app && *app ? ";\n                'pane worker' runs the demo app's uploads (queue 'uploads')"
		                   : "",
		       pane, s->database_url, pane, s->database_url, pane, s->database_url, url, url, url, url,
		       app && *app ? "uploads" : "demo", url);
	else
		printf("\n  job queue     set DATABASE_URL (or run 'make demo') to see jobs processed\n");
	const char *sd = statsd_addr(s);
	const char *colon = strrchr(sd, ':');
	printf("\n"
	       "  push metrics  echo 'demo.hits:1|c' > /dev/udp/%.*s/%s   (StatsD, from bash)\n"
	       "                %s query 'demo_hits_total' --url %s   (after StatsD's next flush)\n"
	       "                Prometheus remote_write -> %s/api/v1/write\n"
	       "                OTLP/HTTP (protobuf or JSON) -> %s/v1/metrics, /v1/logs\n"
	       "  push logs     %s/loki/api/v1/push, %s/api/v1/push/jsonlines\n"
	       "%s",
	       colon ? (int)(colon - sd) : (int)strlen(sd), sd, colon ? colon + 1 : "8125", pane, url, url, url, url,
	       url, s->pipeline ? "" : "                (receivers are off until the store is attached)\n");
	/* notifications (#16): scripts/demo-fakes.sh starts the simulated Slack and
	 * PagerDuty once their fakes exist and scripts/demo.sh routes alerts to them */
	const char *slack = getenv("PANE_DEMO_SLACK_URL"), *pd = getenv("PANE_DEMO_PAGERDUTY_URL");
	const char *hooks = getenv("PANE_DEMO_HOOK_LOGS");
	if (slack && *slack && pd && *pd) {
		printf("\n  notifications SIMULATED Slack and PagerDuty get the demo's alerts; what they received:\n"
		       "                %s/_received   %s/_received\n",
		       slack, pd);
		if (hooks && *hooks)
			printf("                (as it arrives: tail -f %s/slack.log %s/pagerduty.log)\n", hooks,
			       hooks);
	}
	printf("\n  Press Ctrl-C to stop.\n\n");
	fflush(stdout);
}

static const char demo_usage[] = "usage: pane demo [--config pane.yaml] [--listen HOST:PORT] [--data-dir DIR]\n";

int pane_cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"data-dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	struct pane_serve_opts so = {.listen = "127.0.0.1:8080",
	                             .data_dir = "./pane-data",
	                             .demo = true,
	                             .on_start = pane_demo_start,
	                             .on_ready = on_ready};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:l:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': so.config_path = optarg; break;
		case 'l': so.listen = optarg; break;
		case 'd': so.data_dir = optarg; break;
		case 'h':
			printf(
			    "pane demo - run everything on local defaults and show where to look\n\n%s\n"
			    "Uses DATABASE_URL when set ('make demo' starts a local PostgreSQL for you), and\n"
			    "simulated Render, Sentry and Supabase when PANE_DEMO_RENDER_URL, PANE_DEMO_SENTRY_URL,\n"
			    "PANE_DEMO_SUPABASE_URL and their keys are set ('make demo' starts them: "
			    "scripts/demo-fakes.sh).\n"
			    "The banner names the demo app (PANE_DEMO_APP_URL) and the story (PANE_DEMO_STORY_T0,\n"
			    "PANE_DEMO_SPEED) when 'make demo' set them, and calls pane as PANE_DEMO_CMD (default "
			    "pane).\n\n"
			    "options:\n"
			    "  -c, --config FILE    pane.yaml to load ('make demo' writes one: scripts/demo.sh)\n"
			    "  -l, --listen ADDR    HOST:PORT (default 127.0.0.1:8080)\n"
			    "  -d, --data-dir DIR   data directory (default ./pane-data)\n"
			    "  -h, --help           this help\n",
			    demo_usage);
			return PANE_EXIT_OK;
		default: return pane_cli_bad_option("demo", demo_usage, argv);
		}
	}
	if (optind < argc)
		return pane_cli_usage_error("demo", demo_usage, "unexpected argument '%s'", argv[optind]);
	return pane_serve_run(&so);
}
