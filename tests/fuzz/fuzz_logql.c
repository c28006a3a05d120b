/* fuzz_logql.c - libFuzzer target for the LogQL parser and evaluator. Any
 * input must parse or fail with a message, never crash, leak or recurse
 * without bound; whatever parses is evaluated (a log query as a range
 * query, a metric query as instant and range queries) over a small
 * in-memory log reader and must answer or fail with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logql/logql.h"
#include "memlogs.h"

static struct pane_label s0[] = {{"env", "prod"}, {"service", "api"}};
static struct pane_label s1[] = {{"a", "b"}, {"service", "web"}};
static const struct pane_labels streams[] = {{s0, 2, 2, false}, {s1, 2, 2, false}};
static const char *const streams_json[] = {"{\"env\":\"prod\",\"service\":\"api\"}",
                                           "{\"a\":\"b\",\"service\":\"web\"}"};
static const struct pt_memlog_line lines[] = {
    {1000, 0, "level=error msg=\"db timeout\" status=500 duration=1.5s"},
    {2000, 1, "{\"level\":\"info\",\"req\":{\"ms\":12},\"x\":[1,2],\"y\":null,\"z\":true}"},
    {3000, 0, "not json at all"},
    {4000, 1, "level=warn msg=\"unclosed"},
    {60000, 0, "{\"level\":\"error\",\"status\":503,\"f\":0.25}"},
};
static const struct pt_memlogs logs = {streams, streams_json, 2, lines, sizeof lines / sizeof lines[0]};

size_t fuzz_logql_evaluated; /* inputs that parsed (read by replay_logql.c) */

static void eval(const struct pane_logql_expr *x, const struct pane_logql_params *p)
{
	struct pane_logreader r = pt_memlogs_reader(&logs);
	struct pane_logql_result res;
	struct pane_err e = {0};
	if (pane_logql_eval(x, &r, p, &res, &e) == 0)
		pane_logql_result_free(&res);
	else if (!e.msg[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pane_err e = {0};
	struct pane_logql_expr *x = pane_logql_parse((const char *)data, size, &e);
	if (!x) {
		if (!e.msg[0])
			abort();
		return 0;
	}
	fuzz_logql_evaluated++;
	size_t n;
	(void)pane_logql_matchers(x, &n);
	const int64_t ms = 1000000;
	if (pane_logql_is_log(x)) {
		eval(x, &(struct pane_logql_params){.start_ns = 0, .end_ns = 120000 * ms, .limit = 3});
		eval(x,
		     &(struct pane_logql_params){.start_ns = 0, .end_ns = 120000 * ms, .limit = 100, .forward = true});
	} else {
		eval(x, &(struct pane_logql_params){.start_ns = 60000 * ms, .end_ns = 60000 * ms, .instant = true});
		eval(x, &(struct pane_logql_params){.start_ns = 0, .end_ns = 120000 * ms, .step_ns = 7000 * ms});
	}
	pane_logql_free(x);
	return 0;
}
