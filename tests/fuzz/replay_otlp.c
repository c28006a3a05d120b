/* replay_otlp.c - fuzz_otlp's seeds and deterministic mutations in the normal
 * test suite (replay.h). */
#include "replay.h"

int main(void)
{
	static const char *const tokens[] = {"\x0a",
	                                     "\x12",
	                                     "\x1a",
	                                     "\x22\x00",
	                                     "\x08\xff\xff\xff\xff\x0f",
	                                     "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
	                                     "{",
	                                     "}",
	                                     "\"",
	                                     "=",
	                                     ",",
	                                     "\\",
	                                     "\x1f\x8b",
	                                     "NaN",
	                                     "Infinity",
	                                     "\"asInt\":\"-9223372036854775808\"",
	                                     "\"scale\":-10",
	                                     "\"scale\":20",
	                                     "\"aggregationTemporality\":1"};
	struct pt_replay r = {.corpus = "otlp",
	                      .tokens = tokens,
	                      .ntokens = sizeof tokens / sizeof tokens[0],
	                      .seed = 0x9e3779b97f4a7c15ull,
	                      .runs = 20000};
	return pt_replay_main(&r);
}
