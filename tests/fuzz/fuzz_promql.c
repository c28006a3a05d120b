/* fuzz_promql.c - libFuzzer target for the PromQL parser, printer and evaluator.
 * Any input must parse or fail with a message, never crash, leak or recurse
 * without bound; whatever parses must print to a form that parses again to
 * the same printed form, and must evaluate (instant and range, over a small
 * in-memory data set with tight limits) to an answer or an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "query/ast.h"
#include "memreader.h"
#include "query/query.h"

static struct pt_memdb *db;
size_t fuzz_promql_evaluated; /* inputs that parsed and were evaluated (read by replay_promql.c) */

static void evaluate(const char *q)
{
	if (!db) {
		struct pane_err e = {0};
		db = pt_memdb_parse(
		    "a{x=\"1\",le=\"1\"} 1 0\na{x=\"1\",le=\"1\"} 3 15\na{x=\"2\",le=\"+Inf\"} NaN 0\n"
		    "a{x=\"2\",le=\"+Inf\"} 4 30\nb{y=\"z\"} -Inf 10\nb{y=\"z\"} stale 20\nb{y=\"z\"} 2 40\n"
		    "c 5 0\nc 6 60\n",
		    &e);
		if (!db)
			abort();
	}
	fuzz_promql_evaluated++;
	struct pane_query_opts o = {.timeout_ms = 200, .max_samples = 20000};
	struct pane_query_result r;
	struct pane_err e = {0};
	if (pane_query_exec(pt_memdb_reader(db), &o, q, 30000, 30000, 0, &r, NULL, &e) == 0)
		pane_query_result_release(&r);
	else if (!e.msg[0])
		abort();
	e.msg[0] = 0;
	if (pane_query_exec(pt_memdb_reader(db), &o, q, 0, 120000, 7000, &r, NULL, &e) == 0)
		pane_query_result_release(&r);
	else if (!e.msg[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	struct pane_err err = {0};
	struct pq_expr *e = pq_parse(s, &err);
	if (e) {
		struct pane_buf a, b;
		pane_buf_init(&a, PANE_BUF_NOLIMIT);
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		pq_print(e->root, &a);
		if (strlen(a.data) == a.len) {
			if (pane_query_format(a.data, &b, &err) != 0)
				abort(); /* the printer wrote something the parser refuses */
			if (strcmp(a.data, b.data) != 0)
				abort(); /* printing is not stable */
		}
		pane_buf_release(&a);
		pane_buf_release(&b);
		pq_expr_free(e);
		evaluate(s);
	} else if (!err.msg[0]) {
		abort(); /* a failure without a message */
	}
	free(s);
	return 0;
}
