/* replay_logql.c - fuzz_logql's seeds and deterministic mutations (inserted
 * LogQL tokens among them) in the normal test suite (replay.h). */
#include <stdio.h>

#include "replay.h"

extern size_t fuzz_logql_evaluated;

int main(void)
{
	static const char *const tokens[] = {"{",
	                                     "}",
	                                     "(",
	                                     ")",
	                                     "[1m]",
	                                     "[0s]",
	                                     "|=",
	                                     "!=",
	                                     "|~",
	                                     "!~",
	                                     "=~",
	                                     "\"",
	                                     "`",
	                                     "| json",
	                                     "| logfmt",
	                                     "| line_format \"{{.a}}\"",
	                                     "| drop a",
	                                     "| keep a",
	                                     " and ",
	                                     " or ",
	                                     ">=",
	                                     "1e308",
	                                     "-",
	                                     "+",
	                                     "sum by (a) (",
	                                     "count_over_time(",
	                                     "topk(1,",
	                                     "vector(1)",
	                                     "\\",
	                                     "{{",
	                                     ",",
	                                     "#",
	                                     "\n"};
	struct pt_replay r = {.corpus = "logql",
	                      .tokens = tokens,
	                      .ntokens = sizeof tokens / sizeof tokens[0],
	                      .seed = 0x9e3779b97f4a7c15ull,
	                      .runs = 20000};
	size_t n;
	if (pt_replay_run(&r, &n) != 0)
		return 1;
	printf("logql fuzz replay: %zu seeds, %zu mutations, %zu parsed and evaluated\n", n, r.runs,
	       fuzz_logql_evaluated);
	return fuzz_logql_evaluated > n ? 0 : 1;
}
