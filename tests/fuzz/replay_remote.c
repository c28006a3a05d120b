/* replay_remote.c - fuzz_remote's seeds and deterministic mutations in the
 * normal test suite (replay.h), checking that inputs reach the decoder. */
#include <stdio.h>

#include "replay.h"

extern size_t fuzz_remote_decoded;

int main(void)
{
	static const char *const tokens[] = {"{",          "}",
	                                     "[",          "]",
	                                     ",",          ":",
	                                     "\"",         "\"NaN\"",
	                                     "\"+Inf\"",   "1e308",
	                                     "-1",         "null",
	                                     "\"matrix\"", "\"metric\"",
	                                     "\"values\"", "\"__name__\"",
	                                     "1700000030", "1700000030.5",
	                                     "\"status\"", "\"success\"",
	                                     "\"data\""};
	struct pt_replay r = {.corpus = "remote",
	                      .tokens = tokens,
	                      .ntokens = sizeof tokens / sizeof tokens[0],
	                      .seed = 0x2545f4914f6cdd1dull,
	                      .runs = 20000};
	size_t n;
	if (pt_replay_run(&r, &n) != 0)
		return 1;
	printf("replayed %zu seeds and %zu mutations through fuzz_remote; %zu decoded into series sets\n", n, r.runs,
	       fuzz_remote_decoded);
	if (fuzz_remote_decoded < 3) {
		fprintf(stderr, "almost nothing decoded: the target is not exercising the decoder\n");
		return 1;
	}
	return 0;
}
