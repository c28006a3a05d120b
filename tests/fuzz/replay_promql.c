/* replay_promql.c - fuzz_promql's seeds and deterministic mutations in the
 * normal test suite (replay.h), checking that inputs reach the evaluator. */
#include <stdio.h>

#include "replay.h"

extern size_t fuzz_promql_evaluated;

int main(void)
{
	static const char *const tokens[] = {"(",
	                                     ")",
	                                     "[5m]",
	                                     "[1m:10s]",
	                                     "{",
	                                     "}",
	                                     "offset 1m",
	                                     "@ 10",
	                                     " by (x) ",
	                                     " on(x) group_left ",
	                                     " bool ",
	                                     "\"",
	                                     "=~",
	                                     ",",
	                                     "sum(",
	                                     "rate(",
	                                     "-",
	                                     "^",
	                                     "NaN",
	                                     "Inf",
	                                     "1e308",
	                                     "topk(",
	                                     "#",
	                                     "\n",
	                                     " and ",
	                                     " or ",
	                                     "label_replace("};
	struct pt_replay r = {.corpus = "promql",
	                      .tokens = tokens,
	                      .ntokens = sizeof tokens / sizeof tokens[0],
	                      .seed = 0x9e3779b97f4a7c15ull,
	                      .runs = 30000};
	size_t n;
	if (pt_replay_run(&r, &n) != 0)
		return 1;
	printf("replayed %zu seeds and %zu mutations through fuzz_promql; %zu parsed and were evaluated\n", n, r.runs,
	       fuzz_promql_evaluated);
	if (fuzz_promql_evaluated < n) {
		fprintf(stderr,
		        "fewer inputs were evaluated than there are seeds: the target is not exercising the engine\n");
		return 1;
	}
	return 0;
}
