/*
 * query.c - `pane query 'EXPR'`: PromQL from the shell against a running pane.
 *
 * It is a small HTTP client of pane's own Prometheus API (so it needs no
 * access to the store's files and works against any pane, or against
 * Prometheus itself): an instant query at --time (default now), or a range
 * query with --start/--end/--step. The answer is printed as a table (one
 * row per series for instant vectors, one block per series for ranges) or,
 * with --json, as the API's JSON.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "query/query.h"

static const char usage[] = "usage: pane query 'EXPR' [--time T | --start S --end E --step D] [--json] [--url URL]\n";

static const char help[] = "pane query - evaluate a PromQL expression on a running pane and print the answer\n\n"
                           "usage: pane query 'EXPR' [--time T | --start S --end E --step D] [--json] [--url URL]\n\n"
                           "  --time T     instant query at T (RFC 3339 or Unix seconds; default now)\n"
                           "  --start S    range query from S ...\n"
                           "  --end E      ... to E (default now) ...\n"
                           "  --step D     ... every D (\"15s\", \"1m\" or seconds; default: 100 points)\n"
                           "  --json       print the API's JSON answer instead of a table\n"
                           "  --url URL    where pane listens (default $PANE_URL or http://127.0.0.1:8080)\n"
                           "  --token T    bearer token for a pane that requires one (default $PANE_TOKEN)\n\n"
                           "examples:\n"
                           "  pane query 'sum by (service) (rate(http_requests_total[5m]))'\n"
                           "  pane query 'up' --start 2026-11-28T10:00:00Z --end 2026-11-28T11:00:00Z --step 1m\n";

static void fmt_metric(json_t *m, struct pane_buf *b)
{
	const char *name = json_string_value(json_object_get(m, "__name__"));
	pane_buf_adds(b, name ? name : "");
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(m, k, v)
	{
		if (!strcmp(k, "__name__"))
			continue;
		pane_buf_addf(b, "%s%s=\"%s\"", n++ ? ", " : "{", k, json_string_value(v));
	}
	if (n)
		pane_buf_addc(b, '}');
	else if (!name)
		pane_buf_adds(b, "{}");
}

static void fmt_time(json_t *t, char *out, size_t len)
{
	double s = json_number_value(t);
	pane_time_format((int64_t)(s * 1000.0 + (s >= 0 ? 0.5 : -0.5)), out, len);
}

static void print_table(json_t *data)
{
	const char *type = json_string_value(json_object_get(data, "resultType"));
	json_t *res = json_object_get(data, "result");
	char ts[40];
	if (!type)
		return;
	if (!strcmp(type, "scalar") || !strcmp(type, "string")) {
		printf("%s\n", json_string_value(json_array_get(res, 1)));
		return;
	}
	if (json_array_size(res) == 0) {
		printf("(no series)\n");
		return;
	}
	if (!strcmp(type, "vector")) {
		size_t w = 6, i;
		json_t *s;
		char **names = pane_xcalloc(json_array_size(res), sizeof *names);
		json_array_foreach(res, i, s)
		{
			struct pane_buf b;
			pane_buf_init(&b, 1 << 20);
			fmt_metric(json_object_get(s, "metric"), &b);
			if (b.len > w)
				w = b.len;
			names[i] = pane_buf_detach(&b, NULL);
		}
		if (w > 120)
			w = 120;
		printf("%-*s  %s\n", (int)w, "SERIES", "VALUE");
		json_array_foreach(res, i, s)
		{
			printf("%-*s  %s\n", (int)w, names[i],
			       json_string_value(json_array_get(json_object_get(s, "value"), 1)));
			free(names[i]);
		}
		free(names);
		return;
	}
	size_t i;
	json_t *s;
	json_array_foreach(res, i, s)
	{
		struct pane_buf b;
		pane_buf_init(&b, 1 << 20);
		fmt_metric(json_object_get(s, "metric"), &b);
		printf("%s%s\n", i ? "\n" : "", b.data);
		pane_buf_release(&b);
		size_t j;
		json_t *p;
		json_array_foreach(json_object_get(s, "values"), j, p)
		{
			fmt_time(json_array_get(p, 0), ts, sizeof ts);
			printf("  %s  %s\n", ts, json_string_value(json_array_get(p, 1)));
		}
	}
}

int pane_cmd_query(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"time", required_argument, NULL, 't'},
	    {"start", required_argument, NULL, 's'},
	    {"end", required_argument, NULL, 'e'},
	    {"step", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {"url", required_argument, NULL, 'u'},
	    {"token", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *at = NULL, *start = NULL, *end = NULL, *step = NULL, *url = NULL, *token = NULL;
	bool json = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': at = optarg; break;
		case 's': start = optarg; break;
		case 'e': end = optarg; break;
		case 'p': step = optarg; break;
		case 'j': json = true; break;
		case 'u': url = optarg; break;
		case 'k': token = optarg; break;
		case 'h': fputs(help, stdout); return PANE_EXIT_OK;
		default: return pane_cli_bad_option("query", usage, argv);
		}
	}
	if (optind >= argc)
		return pane_cli_usage_error("query", usage, "missing the PromQL expression");
	if (optind + 1 < argc)
		return pane_cli_usage_error("query", usage, "unexpected argument '%s' (quote the expression)",
		                            argv[optind + 1]);
	const char *expr = argv[optind];
	bool range = start || end || step;
	if (range && at)
		return pane_cli_usage_error(
		    "query", usage, "--time is for instant queries; do not combine it with --start/--end/--step");
	if (range && !start)
		return pane_cli_usage_error("query", usage, "a range query needs --start");
	struct pane_err err = {0};
	if (pane_query_check(expr, &err) < 0) {
		pane_err_prefix(&err, "invalid expression");
		return pane_cli_fail("query", &err);
	}
	char nowbuf[40], stepbuf[40];
	int64_t now = pane_wall_ms();
	pane_query_fmt_ts(now, nowbuf, sizeof nowbuf);
	if (range && !end)
		end = nowbuf;
	if (range && !step) {
		int64_t s, e;
		if (pane_time_parse(pane_str_c(start), &s) < 0 || pane_time_parse(pane_str_c(end), &e) < 0 || e < s)
			return pane_cli_usage_error(
			    "query", usage,
			    "cannot read --start/--end as times (RFC 3339 or Unix seconds), or end is before start");
		int64_t st = (e - s) / 100;
		if (st < 1000)
			st = 1000;
		pane_query_fmt_ts(st, stepbuf, sizeof stepbuf);
		step = stepbuf;
	}
	struct pane_remote rem;
	pane_remote_init(&rem, url, token);
	struct pane_buf form, raw;
	pane_buf_init(&form, 1 << 20);
	pane_buf_init(&raw, PANE_BUF_NOLIMIT);
	pane_remote_arg(&form, "query", expr);
	if (range) {
		pane_remote_arg(&form, "start", start);
		pane_remote_arg(&form, "end", end);
		pane_remote_arg(&form, "step", step);
	} else {
		pane_remote_arg(&form, "time", at ? at : nowbuf);
	}
	int rc = PANE_EXIT_FAILURE;
	json_t *data = pane_remote_call(&rem, range ? "query_range" : "query", &form, true, &raw, &err);
	if (!data) {
		pane_cli_fail("query", &err);
		goto out;
	}
	if (json) {
		fwrite(raw.data, 1, raw.len, stdout);
		fputc('\n', stdout);
	} else {
		print_table(data);
	}
	rc = PANE_EXIT_OK;
out:
	json_decref(data);
	pane_buf_release(&form);
	pane_buf_release(&raw);
	return rc;
}
