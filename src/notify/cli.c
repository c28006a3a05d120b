/*
 * cli.c - `pane alerts`: the alerts a running pane holds, its silences, and
 * which receivers a label set reaches (as `amtool config routes test`).
 *
 * list and silence talk to pane's Alertmanager v2 API (cli/remote.c);
 * routes test reads the configuration file itself, so it works before the
 * daemon runs.
 */
#include "notify/notify.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/str.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "config/config.h"
#include "notify/amconfig.h"
#include "notify/internal.h"

static const char usage[] = "usage: pane alerts list [MATCHER...] [--url URL] [--token T] [--json]\n"
                            "       pane alerts silence add MATCHER... --comment TEXT [--author NAME] [--duration 1h]\n"
                            "       pane alerts silence list [MATCHER...] [--expired]\n"
                            "       pane alerts silence expire ID...\n"
                            "       pane alerts routes test --config FILE LABEL=VALUE...\n";

static const char help[] = "pane alerts - alerts, silences and routes of pane's notifications\n\n"
                           "  list                 the active alerts of a running pane (GET /api/v2/alerts);\n"
                           "                       MATCHERs like alertname=Disk or 'severity=~crit.*' filter\n"
                           "  silence add          silence alerts matching every MATCHER for --duration (default 1h);\n"
                           "                       --comment is required, --author defaults to $USER; prints the id\n"
                           "  silence list         silences (active and pending; --expired adds expired ones)\n"
                           "  silence expire ID    ends silences now\n"
                           "  routes test          the receivers an alert with these labels reaches, one line,\n"
                           "                       comma separated (as amtool config routes test); --config is\n"
                           "                       pane.yaml (its alerting: section) or an alertmanager.yml\n\n"
                           "  --url URL            pane's address (default $PANE_URL, else http://127.0.0.1:8080)\n"
                           "  --token T            bearer token (default $PANE_TOKEN)\n";

static int routes_test(int argc, char **argv, int i, const char *config)
{
	if (!config)
		return pane_cli_usage_error("alerts", usage, "routes test needs --config FILE");
	struct pane_err err = {0};
	struct pane_cfg *cfg = pane_cfg_load(config, &err);
	if (!cfg)
		return pane_cli_fail("alerts", &err);
	struct pane_am_config *c;
	const struct pane_cfg_node *al = pane_cfg_get(cfg->root, "alerting");
	if (al)
		c = pane_am_config_load(cfg, al, &err);
	else
		c = pane_am_config_load_file(config, &err);
	pane_cfg_free(cfg);
	if (!c)
		return pane_cli_fail("alerts", &err);
	if (!c->route.receiver) {
		pane_am_config_free(c);
		return pane_cli_usage_error("alerts", usage, "%s has no route", config);
	}
	struct pane_labels ls;
	pane_labels_init(&ls);
	for (; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i] ||
		    pane_labels_setn(&ls, argv[i], (size_t)(eq - argv[i]), eq + 1, strlen(eq + 1)) < 0) {
			pane_labels_release(&ls);
			pane_am_config_free(c);
			return pane_cli_usage_error("alerts", usage, "'%s' is not LABEL=VALUE", argv[i]);
		}
	}
	const struct pane_am_route *rs[64];
	size_t n = pane_am_route_match(&c->route, &ls, rs, 64);
	for (size_t k = 0; k < n && k < 64; k++)
		printf("%s%s", k ? "," : "", rs[k]->receiver);
	printf("\n");
	pane_labels_release(&ls);
	pane_am_config_free(c);
	return PANE_EXIT_OK;
}

/* MATCHER args -> [{name,value,isRegex,isEqual}] */
static json_t *matchers_json(int argc, char **argv, int i, struct pane_err *err)
{
	struct pane_am_matchers ms = {0};
	for (; i < argc; i++)
		if (pane_am_matchers_parse(&ms, argv[i], err) < 0) {
			pane_am_matchers_release(&ms);
			return NULL;
		}
	json_t *arr = json_array();
	for (size_t k = 0; k < ms.n; k++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:b}", "name", ms.v[k].name, "value", ms.v[k].value,
		                                     "isRegex", ms.v[k].op == PANE_AM_RE || ms.v[k].op == PANE_AM_NRE,
		                                     "isEqual", ms.v[k].op == PANE_AM_EQ || ms.v[k].op == PANE_AM_RE));
	pane_am_matchers_release(&ms);
	return arr;
}

static void print_matchers(json_t *ms)
{
	size_t i;
	json_t *m;
	json_array_foreach(ms, i, m)
	{
		bool re = json_is_true(json_object_get(m, "isRegex"));
		json_t *e = json_object_get(m, "isEqual");
		bool eq = !e || json_is_true(e);
		printf("%s%s%s\"%s\"", i ? " " : "", json_string_value(json_object_get(m, "name")),
		       re ? (eq ? "=~" : "!~") : (eq ? "=" : "!="), json_string_value(json_object_get(m, "value")));
	}
}

static void filter_path(struct pane_buf *p, const char *base, int argc, char **argv, int i)
{
	pane_buf_adds(p, base);
	bool first = true;
	for (; i < argc; i++) {
		struct pane_buf tmp;
		pane_buf_init(&tmp, PANE_BUF_NOLIMIT);
		pane_remote_arg(&tmp, "filter", argv[i]);
		pane_buf_addf(p, "%s%s", first ? "?" : "&", tmp.data);
		first = false;
		pane_buf_release(&tmp);
	}
}

/* GET /api/v2/<what> with the filter words from argv[i..]. */
static json_t *get_filtered(struct pane_remote *rem, const char *what, int argc, char **argv, int i,
                            struct pane_err *err)
{
	struct pane_buf p;
	pane_buf_init(&p, PANE_BUF_NOLIMIT);
	filter_path(&p, what, argc, argv, i);
	json_t *a = pane_remote_am(rem, "GET", p.data, NULL, err);
	pane_buf_release(&p);
	return a;
}

static void print_compact(const json_t *a)
{
	char *s = json_dumps(a, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
}

int pane_cmd_alerts(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"token", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"comment", required_argument, NULL, 'c'},
	    {"author", required_argument, NULL, 'a'},
	    {"duration", required_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'f'},
	    {"config.file", required_argument, NULL, 'f'},
	    {"expired", no_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *url = NULL, *token = NULL, *comment = NULL, *author = NULL, *duration = "1h", *config = NULL;
	bool json = false, expired = false;
	int opt;
	opterr = 0;
	/* "+": flags may come before the words; permute for flags after them */
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'u': url = optarg; break;
		case 't': token = optarg; break;
		case 'j': json = true; break;
		case 'c': comment = optarg; break;
		case 'a': author = optarg; break;
		case 'd': duration = optarg; break;
		case 'f': config = optarg; break;
		case 'x': expired = true; break;
		case 'h': fputs(help, stdout); return PANE_EXIT_OK;
		default: return pane_cli_bad_option("alerts", usage, argv);
		}
	}
	int i = optind;
	if (i >= argc)
		return pane_cli_usage_error("alerts", usage, "say what to do: list, silence or routes");
	const char *verb = argv[i++];
	struct pane_remote rem;
	pane_remote_init(&rem, url, token);
	struct pane_err err = {0};
	if (!strcmp(verb, "routes")) {
		if (i >= argc || strcmp(argv[i], "test"))
			return pane_cli_usage_error("alerts", usage, "routes takes 'test'");
		return routes_test(argc, argv, i + 1, config);
	}
	if (!strcmp(verb, "list")) {
		json_t *a = get_filtered(&rem, "alerts", argc, argv, i, &err);
		if (!a)
			return pane_cli_fail("alerts", &err);
		if (json) {
			print_compact(a);
		} else {
			size_t k;
			json_t *al;
			if (json_array_size(a) == 0)
				printf("no alerts\n");
			json_array_foreach(a, k, al)
			{
				json_t *ls = json_object_get(al, "labels");
				const char *name = json_string_value(json_object_get(ls, "alertname"));
				const char *state =
				    json_string_value(json_object_get(json_object_get(al, "status"), "state"));
				printf("%-28s %-10s %s  ", name ? name : "-", state ? state : "-",
				       json_string_value(json_object_get(al, "startsAt")));
				const char *key;
				json_t *v;
				bool first = true;
				json_object_foreach(ls, key, v)
				{
					if (!strcmp(key, "alertname"))
						continue;
					printf("%s%s=\"%s\"", first ? "" : " ", key, json_string_value(v));
					first = false;
				}
				printf("\n");
			}
		}
		json_decref(a);
		return PANE_EXIT_OK;
	}
	if (strcmp(verb, "silence"))
		return pane_cli_usage_error("alerts", usage, "unknown command '%s'", verb);
	if (i >= argc)
		return pane_cli_usage_error("alerts", usage, "silence takes add, list or expire");
	const char *sv = argv[i++];
	if (!strcmp(sv, "add")) {
		if (i >= argc)
			return pane_cli_usage_error("alerts", usage, "silence add needs at least one MATCHER");
		if (!comment || !*comment)
			return pane_cli_usage_error("alerts", usage, "silence add needs --comment");
		if (!author)
			author = getenv("USER");
		if (!author || !*author)
			author = "pane";
		int64_t d;
		if (pane_duration_parse(pane_str_c(duration), 0, &d) < 0 || d <= 0)
			return pane_cli_usage_error("alerts", usage, "--duration '%s' is not a duration", duration);
		json_t *ms = matchers_json(argc, argv, i, &err);
		if (!ms)
			return pane_cli_usage_error("alerts", usage, "%s", err.msg);
		int64_t now = pane_wall_ms();
		char st[40], en[40];
		pane_time_format(now, st, sizeof st);
		pane_time_format(now + d, en, sizeof en);
		json_t *body = json_pack("{s:o,s:s,s:s,s:s,s:s}", "matchers", ms, "startsAt", st, "endsAt", en,
		                         "createdBy", author, "comment", comment);
		char *b = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		json_t *r = pane_remote_am(&rem, "POST", "silences", b, &err);
		free(b);
		if (!r)
			return pane_cli_fail("alerts", &err);
		printf("%s\n", json_string_value(json_object_get(r, "silenceID")));
		json_decref(r);
		return PANE_EXIT_OK;
	}
	if (!strcmp(sv, "list")) {
		json_t *a = get_filtered(&rem, "silences", argc, argv, i, &err);
		if (!a)
			return pane_cli_fail("alerts", &err);
		if (json) {
			print_compact(a);
			json_decref(a);
			return PANE_EXIT_OK;
		}
		size_t k, shown = 0;
		json_t *s;
		json_array_foreach(a, k, s)
		{
			const char *state = json_string_value(json_object_get(json_object_get(s, "status"), "state"));
			if (!expired && state && !strcmp(state, "expired"))
				continue;
			if (!shown++)
				printf("%-36s  %-8s  %-24s  %-12s  %s\n", "ID", "STATE", "ENDS", "AUTHOR",
				       "MATCHERS / COMMENT");
			printf("%-36s  %-8s  %-24s  %-12s  ", json_string_value(json_object_get(s, "id")), state,
			       json_string_value(json_object_get(s, "endsAt")),
			       json_string_value(json_object_get(s, "createdBy")));
			print_matchers(json_object_get(s, "matchers"));
			printf("  # %s\n", json_string_value(json_object_get(s, "comment")));
		}
		if (!shown)
			printf("no silences\n");
		json_decref(a);
		return PANE_EXIT_OK;
	}
	if (!strcmp(sv, "expire")) {
		if (i >= argc)
			return pane_cli_usage_error("alerts", usage, "silence expire needs an ID");
		for (; i < argc; i++) {
			char path[256];
			snprintf(path, sizeof path, "silence/%s", argv[i]);
			json_t *r = pane_remote_am(&rem, "DELETE", path, NULL, &err);
			if (!r)
				return pane_cli_fail("alerts", &err);
			json_decref(r);
			printf("expired %s\n", argv[i]);
		}
		return PANE_EXIT_OK;
	}
	return pane_cli_usage_error("alerts", usage, "unknown silence command '%s'", sv);
}
