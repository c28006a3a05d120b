/*
 * logs.c - `pane logs` and `pane events`: the store's logs and events
 * from the shell, through a running pane's /api/v1/logs and /api/v1/events
 * (logs_api.h), like `pane query` for metrics.
 *
 * Logs print oldest first, newest at the bottom, as a terminal reader
 * expects: "TIME  LEVEL  provider/service  message". Up to --limit lines
 * are fetched newest-first page by page (1000 a page, following the API's
 * cursor) and printed in reverse. --follow then polls every 2 s for lines at
 * or after the newest one printed; lines at that same millisecond already
 * printed are skipped by remembering their identity (labels + message).
 * --json prints one JSON object per line (for jq).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/signals.h"
#include "base/str.h"
#include "cli/cli.h"
#include "cli/remote.h"

#define PAGE_MAX 1000
#define LIMIT_MAX 100000
#define FOLLOW_MS 2000

static const char logs_usage[] =
    "usage: pane logs [SELECTOR] [--search TEXT] [--severity LEVEL] [--since DUR | --start T [--end T]]\n"
    "                 [--limit N] [--follow] [--labels] [--json] [--url URL] [--token T]\n";

static const char logs_help[] =
    "pane logs - search and tail the logs pane keeps (Render, Supabase, OTLP, Loki and JSON-lines pushes)\n\n"
    "usage: pane logs [SELECTOR] [--search TEXT] [--severity LEVEL] [--since DUR | --start T [--end T]]\n"
    "                 [--limit N] [--follow] [--labels] [--json] [--url URL] [--token T]\n\n"
    "  SELECTOR         label filters as a PromQL selector: '{service=\"api\",environment=\"prod\"}'\n"
    "  -s, --search T   only lines whose message contains T (case-insensitive)\n"
    "  --severity L     at least L: debug, info, warn, error, fatal\n"
    "  --since D        the last D (\"15m\", \"2h\", \"7d\"; default 1h)\n"
    "  --start T        from T (RFC 3339 or Unix seconds) ...\n"
    "  --end T          ... to T (default now)\n"
    "  -n, --limit N    at most N lines, the newest (default 100)\n"
    "  -f, --follow     keep printing new lines as they arrive (Ctrl-C stops)\n"
    "  --labels         print every label of a line, not only provider/service\n"
    "  --json           one JSON object per line, as the API returns it\n"
    "  --url URL        where pane listens (default $PANE_URL or http://127.0.0.1:8080)\n"
    "  --token T        bearer token with the read scope (default $PANE_TOKEN)\n\n"
    "examples:\n"
    "  pane logs '{service=\"api\"}' --severity error --since 24h\n"
    "  pane logs --search timeout -f\n";

static const char events_usage[] =
    "usage: pane events [SELECTOR] [--kind KIND] [--since DUR | --start T [--end T]] [--limit N] [--json]\n"
    "                   [--url URL] [--token T]\n";

static const char events_help[] =
    "pane events - deploys, issues and other events pane keeps, newest first\n\n"
    "usage: pane events [SELECTOR] [--kind KIND] [--since DUR | --start T [--end T]] [--limit N] [--json]\n"
    "                   [--url URL] [--token T]\n\n"
    "  SELECTOR         label filters as a PromQL selector: '{service=\"api\"}'\n"
    "  -k, --kind K     only events of kind K (deploy, issue, ...)\n"
    "  --since D        the last D (default 7d)\n"
    "  --start T        from T (RFC 3339 or Unix seconds) ...\n"
    "  --end T          ... to T (default now)\n"
    "  -n, --limit N    at most N events (default 50, at most 1000)\n"
    "  --json           one JSON object per event, as the API returns it\n"
    "  --url URL        where pane listens (default $PANE_URL or http://127.0.0.1:8080)\n"
    "  --token T        bearer token with the read scope (default $PANE_TOKEN)\n\n"
    "examples:\n"
    "  pane events --kind deploy --since 24h\n";

struct common {
	const char *selector, *since, *start, *end, *url, *token;
	uint64_t limit;
	bool json;
};

/* Resolves --since/--start/--end into API arguments. */
static int time_args(const char *cmd, const char *usage, const struct common *c, const char *default_since,
                     struct pane_buf *args)
{
	if (c->since && c->start)
		return pane_cli_usage_error(cmd, usage, "give --since or --start, not both");
	if (c->end && !c->start)
		return pane_cli_usage_error(cmd, usage, "--end needs --start");
	char buf[40];
	if (c->start) {
		pane_remote_arg(args, "start", c->start);
		if (c->end)
			pane_remote_arg(args, "end", c->end);
		return 0;
	}
	int64_t d;
	const char *since = c->since ? c->since : default_since;
	if (pane_duration_parse(pane_str_c(since), 0, &d) < 0 || d <= 0)
		return pane_cli_usage_error(cmd, usage, "--since '%s' is not a duration like 15m, 2h or 7d", since);
	snprintf(buf, sizeof buf, "%.3f", (double)(pane_wall_ms() - d) / 1000.0);
	pane_remote_arg(args, "start", buf);
	return 0;
}

static void when(json_t *ts, char *out, size_t len)
{
	pane_time_format((int64_t)json_integer_value(ts), out, len);
}

static void print_log(json_t *l, bool all_labels)
{
	char t[40];
	when(json_object_get(l, "ts"), t, sizeof t);
	const char *sev = json_string_value(json_object_get(l, "severity"));
	json_t *labels = json_object_get(l, "labels");
	struct pane_buf who;
	pane_buf_init(&who, PANE_BUF_NOLIMIT);
	if (all_labels) {
		const char *k;
		json_t *v;
		json_object_foreach(labels, k, v)
		    pane_buf_addf(&who, "%s%s=\"%s\"", who.len ? "," : "{", k, json_string_value(v));
		pane_buf_adds(&who, who.len ? "}" : "{}");
	} else {
		const char *p = json_string_value(json_object_get(labels, "provider"));
		const char *s = json_string_value(json_object_get(labels, "service"));
		pane_buf_addf(&who, "%s%s%s", p ? p : "", p && s ? "/" : "", s ? s : "");
		if (!who.len)
			pane_buf_adds(&who, "-");
	}
	char lvl[8] = {0};
	for (size_t i = 0; sev && sev[i] && i < 5; i++)
		lvl[i] = (char)(sev[i] >= 'a' && sev[i] <= 'z' ? sev[i] - 32 : sev[i]);
	printf("%s  %-5s  %s  %s\n", t, lvl, who.data, json_string_value(json_object_get(l, "message")));
	pane_buf_release(&who);
}

static void print_json_line(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	if (s) {
		puts(s);
		free(s);
	}
}

/* Identity of a log line for --follow's de-duplication at one millisecond. */
static char *identity(json_t *l)
{
	json_t *k = json_pack("[OO]", json_object_get(l, "labels"), json_object_get(l, "message"));
	char *s = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(k);
	return s;
}

struct seen {
	int64_t ts; /* the newest millisecond printed */
	char **ids; /* identities printed at ts */
	size_t n;
};

static void seen_reset(struct seen *s, int64_t ts)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->ids[i]);
	free(s->ids);
	s->ids = NULL;
	s->n = 0;
	s->ts = ts;
}

/* True when l was not printed yet; remembers it. l must not be older than s->ts. */
static bool seen_add(struct seen *s, json_t *l)
{
	int64_t ts = json_integer_value(json_object_get(l, "ts"));
	if (ts > s->ts)
		seen_reset(s, ts);
	char *id = identity(l);
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->ids[i], id)) {
			free(id);
			return false;
		}
	s->ids = pane_xrealloc(s->ids, (s->n + 1) * sizeof *s->ids);
	s->ids[s->n++] = id;
	return true;
}

/* Fetches up to limit logs (newest first) matching args into out (a JSON array). */
static int fetch_logs(const struct pane_remote *rem, const struct pane_buf *args, uint64_t limit, json_t *out,
                      struct pane_err *err)
{
	char *cursor = NULL;
	int rc = 0;
	while (json_array_size(out) < limit) {
		struct pane_buf a;
		pane_buf_init(&a, PANE_BUF_NOLIMIT);
		pane_buf_add(&a, args->data, args->len);
		uint64_t want = limit - json_array_size(out);
		char n[24];
		snprintf(n, sizeof n, "%llu", (unsigned long long)(want > PAGE_MAX ? PAGE_MAX : want));
		pane_remote_arg(&a, "limit", n);
		if (cursor)
			pane_remote_arg(&a, "cursor", cursor);
		json_t *data = pane_remote_call(rem, "logs", &a, false, NULL, err);
		pane_buf_release(&a);
		if (!data) {
			rc = -1;
			break;
		}
		json_array_extend(out, json_object_get(data, "logs"));
		free(cursor);
		const char *next = json_string_value(json_object_get(data, "next"));
		cursor = next ? pane_xstrdup(next) : NULL;
		json_decref(data);
		if (!cursor)
			break;
	}
	free(cursor);
	return rc;
}

int pane_cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"search", required_argument, NULL, 's'},
	    {"severity", required_argument, NULL, 'v'},
	    {"since", required_argument, NULL, 'S'},
	    {"start", required_argument, NULL, 'a'},
	    {"end", required_argument, NULL, 'e'},
	    {"limit", required_argument, NULL, 'n'},
	    {"follow", no_argument, NULL, 'f'},
	    {"labels", no_argument, NULL, 'L'},
	    {"json", no_argument, NULL, 'j'},
	    {"url", required_argument, NULL, 'u'},
	    {"token", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct common c = {.limit = 100};
	const char *search = NULL, *severity = NULL;
	bool follow = false, all_labels = false;
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "s:n:fh", opts, NULL)) != -1) {
		switch (opt) {
		case 's': search = optarg; break;
		case 'v': severity = optarg; break;
		case 'S': c.since = optarg; break;
		case 'a': c.start = optarg; break;
		case 'e': c.end = optarg; break;
		case 'n':
			if (pane_str_to_u64(pane_str_c(optarg), &c.limit) < 0 || c.limit < 1 || c.limit > LIMIT_MAX)
				return pane_cli_usage_error("logs", logs_usage, "--limit takes a number from 1 to %d",
				                            LIMIT_MAX);
			break;
		case 'f': follow = true; break;
		case 'L': all_labels = true; break;
		case 'j': c.json = true; break;
		case 'u': c.url = optarg; break;
		case 'k': c.token = optarg; break;
		case 'h': fputs(logs_help, stdout); return PANE_EXIT_OK;
		default: return pane_cli_bad_option("logs", logs_usage, argv);
		}
	}
	if (optind < argc)
		c.selector = argv[optind++];
	if (optind < argc)
		return pane_cli_usage_error("logs", logs_usage, "unexpected argument '%s' (quote the selector)",
		                            argv[optind]);
	if (follow && c.end)
		return pane_cli_usage_error("logs", logs_usage,
		                            "--follow reads up to now; do not combine it with --end");
	/* filters go with every call; the time range only with the first */
	struct pane_buf filters, args;
	pane_buf_init(&filters, PANE_BUF_NOLIMIT);
	pane_buf_init(&args, PANE_BUF_NOLIMIT);
	if (c.selector)
		pane_remote_arg(&filters, "selector", c.selector);
	if (search)
		pane_remote_arg(&filters, "search", search);
	if (severity)
		pane_remote_arg(&filters, "severity", severity);
	int rc = time_args("logs", logs_usage, &c, "1h", &args);
	if (rc) {
		pane_buf_release(&filters);
		pane_buf_release(&args);
		return rc;
	}
	if (filters.len)
		pane_buf_addf(&args, "&%s", filters.data);
	struct pane_remote rem;
	pane_remote_init(&rem, c.url, c.token);
	struct pane_err err = {0};
	struct seen seen = {.ts = INT64_MIN};
	json_t *logs = json_array();
	rc = PANE_EXIT_FAILURE;
	if (fetch_logs(&rem, &args, c.limit, logs, &err) < 0) {
		pane_cli_fail("logs", &err);
		goto out;
	}
	for (size_t i = json_array_size(logs); i-- > 0;) {
		json_t *l = json_array_get(logs, i);
		seen_add(&seen, l);
		c.json ? print_json_line(l) : print_log(l, all_labels);
	}
	if (json_array_size(logs) == 0 && !c.json)
		fprintf(stderr, "(no logs match%s)\n", follow ? "; waiting for new ones" : "");
	fflush(stdout);
	if (follow)
		pane_signals_install();
	int64_t from = seen.ts == INT64_MIN ? pane_wall_ms() - FOLLOW_MS : seen.ts;
	while (follow && !pane_signals_wait(FOLLOW_MS)) {
		/* everything at or after the newest millisecond printed */
		if (seen.ts != INT64_MIN)
			from = seen.ts;
		pane_buf_reset(&args);
		char st[40];
		snprintf(st, sizeof st, "%.3f", (double)from / 1000.0);
		pane_remote_arg(&args, "start", st);
		if (filters.len)
			pane_buf_addf(&args, "&%s", filters.data);
		json_t *more = json_array();
		if (fetch_logs(&rem, &args, LIMIT_MAX, more, &err) < 0) {
			json_decref(more);
			pane_cli_fail("logs", &err);
			goto out;
		}
		for (size_t i = json_array_size(more); i-- > 0;) {
			json_t *l = json_array_get(more, i);
			if (json_integer_value(json_object_get(l, "ts")) >= seen.ts && seen_add(&seen, l))
				c.json ? print_json_line(l) : print_log(l, all_labels);
		}
		json_decref(more);
		fflush(stdout);
	}
	rc = PANE_EXIT_OK;
out:
	seen_reset(&seen, 0);
	json_decref(logs);
	pane_buf_release(&filters);
	pane_buf_release(&args);
	return rc;
}

int pane_cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"kind", required_argument, NULL, 'k'},  {"since", required_argument, NULL, 'S'},
	    {"start", required_argument, NULL, 'a'}, {"end", required_argument, NULL, 'e'},
	    {"limit", required_argument, NULL, 'n'}, {"json", no_argument, NULL, 'j'},
	    {"url", required_argument, NULL, 'u'},   {"token", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	struct common c = {.limit = 50};
	const char *kind = NULL;
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "k:n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'k': kind = optarg; break;
		case 'S': c.since = optarg; break;
		case 'a': c.start = optarg; break;
		case 'e': c.end = optarg; break;
		case 'n':
			if (pane_str_to_u64(pane_str_c(optarg), &c.limit) < 0 || c.limit < 1 || c.limit > PAGE_MAX)
				return pane_cli_usage_error("events", events_usage,
				                            "--limit takes a number from 1 to %d", PAGE_MAX);
			break;
		case 'j': c.json = true; break;
		case 'u': c.url = optarg; break;
		case 't': c.token = optarg; break;
		case 'h': fputs(events_help, stdout); return PANE_EXIT_OK;
		default: return pane_cli_bad_option("events", events_usage, argv);
		}
	}
	if (optind < argc)
		c.selector = argv[optind++];
	if (optind < argc)
		return pane_cli_usage_error("events", events_usage, "unexpected argument '%s' (quote the selector)",
		                            argv[optind]);
	struct pane_buf args;
	pane_buf_init(&args, PANE_BUF_NOLIMIT);
	int rc = time_args("events", events_usage, &c, "7d", &args);
	if (rc) {
		pane_buf_release(&args);
		return rc;
	}
	if (c.selector)
		pane_remote_arg(&args, "selector", c.selector);
	if (kind)
		pane_remote_arg(&args, "kind", kind);
	char n[24];
	snprintf(n, sizeof n, "%llu", (unsigned long long)c.limit);
	pane_remote_arg(&args, "limit", n);
	struct pane_remote rem;
	pane_remote_init(&rem, c.url, c.token);
	struct pane_err err = {0};
	json_t *data = pane_remote_call(&rem, "events", &args, false, NULL, &err);
	pane_buf_release(&args);
	if (!data)
		return pane_cli_fail("events", &err);
	json_t *events = json_object_get(data, "events");
	size_t i;
	json_t *e;
	if (!c.json && json_array_size(events) == 0)
		printf("(no events)\n");
	json_array_foreach(events, i, e)
	{
		if (c.json) {
			print_json_line(e);
			continue;
		}
		char t[40];
		when(json_object_get(e, "ts"), t, sizeof t);
		json_t *labels = json_object_get(e, "labels");
		const char *p = json_string_value(json_object_get(labels, "provider"));
		const char *s = json_string_value(json_object_get(labels, "service"));
		const char *url = json_string_value(json_object_get(e, "url"));
		printf("%s  %-8s  %s%s%s  %s%s%s\n", t, json_string_value(json_object_get(e, "kind")), p ? p : "",
		       p && s ? "/" : "", s ? s : (p ? "" : "-"), json_string_value(json_object_get(e, "title")),
		       url ? "  " : "", url ? url : "");
	}
	json_decref(data);
	return PANE_EXIT_OK;
}
