/* replay_promtext.c - fuzz_promtext's seeds and deterministic mutations in
 * the normal test suite (replay.h): the parser's promises, and a parse
 * with the series cache delivering exactly what one without it does. */
#include "replay.h"

int main(void)
{
	static const char *const tokens[] = {
	    "{", "}",     "\"", "\\",  "\\\"", ",", "=",       " ",        "\t",        "\n",     "\r\n",
	    "#", "# EOF", "1",  "NaN", "1e3",  "a", "a=\"b\"", "__name__", "{a=\"}\"}", " 1 2\n", "m{a=\"b\"} 1 1\n"};
	struct pt_replay r = {.corpus = "promtext",
	                      .tokens = tokens,
	                      .ntokens = sizeof tokens / sizeof tokens[0],
	                      .seed = 0x2545f4914f6cdd1dull,
	                      .runs = 20000};
	return pt_replay_main(&r);
}
