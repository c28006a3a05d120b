/* replay_outputs.c - fuzz_outputs' seeds and deterministic mutations (an
 * outputs: section, relabel rules, a queue segment read back) in the normal
 * test suite (replay.h). */
#include "replay.h"

int main(void)
{
	static const char *const tokens[] = {"action: ",
	                                     "regex: ",
	                                     "'(.*)'",
	                                     "$1",
	                                     "${1}",
	                                     "$$",
	                                     "source_labels: [",
	                                     "]",
	                                     "target_label: ",
	                                     "modulus: 0",
	                                     "labelmap",
	                                     "hashmod",
	                                     "keepequal",
	                                     "url: ",
	                                     "http://",
	                                     "queue: ",
	                                     "max_size: 1",
	                                     "\n- ",
	                                     "{",
	                                     "}",
	                                     "\xff\xff\xff\x7f",
	                                     "\x00\x00\x00\x00",
	                                     "Q"};
	struct pt_replay r = {.corpus = "outputs",
	                      .tokens = tokens,
	                      .ntokens = sizeof tokens / sizeof tokens[0],
	                      .seed = 0x9e3779b97f4a7c15ull,
	                      .runs = 5000};
	return pt_replay_main(&r);
}
