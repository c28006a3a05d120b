/* replay_tz.c - fuzz_tz's seeds (small TZif files) and deterministic
 * mutations in the normal test suite (replay.h). */
#include "replay.h"

int main(void)
{
	static const char *const tokens[] = {
	    "TZif",       "2",         "3",   "\n",  ",M3.5.0", ",J60", "/25", "<+05>-5", "\xff\xff\xff\xff",
	    "\0\0\0\x01", "CET-1CEST", ":30", "-167"};
	struct pt_replay r = {.corpus = "tz",
	                      .tokens = tokens,
	                      .ntokens = sizeof tokens / sizeof tokens[0],
	                      .seed = 0x9e3779b97f4a7c15ull,
	                      .runs = 20000};
	return pt_replay_main(&r);
}
