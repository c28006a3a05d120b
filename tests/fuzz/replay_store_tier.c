/* replay_store_tier.c - fuzz_store_tier's seeds (tier blobs of both
 * formats, as pane wrote them: 1 h and 5 min, counters, gauges, floats;
 * segments' tier regions) and deterministic mutations in the normal test
 * suite (replay.h). */
#include "replay.h"

int main(void)
{
	static const char *const tokens[] = {
	    "\x00", "\x01", "\x10", "\x11", "\x0f", "\xff", "\x40", "\x80\x80\x80\x80\x01", "\x7f", "\xc0"};
	struct pt_replay r = {.corpus = "store_tier",
	                      .tokens = tokens,
	                      .ntokens = sizeof tokens / sizeof tokens[0],
	                      .seed = 0x2545f4914f6cdd1dull,
	                      .runs = 20000};
	return pt_replay_main(&r);
}
