/* replay_store_chunk.c - fuzz_store_chunk's seeds (chunks of every codec,
 * both rANS ones included: DEC_ANS and F64_ANS) and deterministic
 * mutations in the normal test suite (replay.h), so the decoders of what
 * is read back from disk run under ASan in CI. */
#include "replay.h"

int main(void)
{
	static const char *const tokens[] = {
	    "\x00", "\x01", "\x02", "\x03", "\x04", "\x05", "\xff", "\xff\xff\xff\xff", "\x80\x80\x80\x80\x01", "\x7f"};
	struct pt_replay r = {.corpus = "store_chunk",
	                      .tokens = tokens,
	                      .ntokens = sizeof tokens / sizeof tokens[0],
	                      .seed = 0x9e3779b97f4a7c15ull,
	                      .runs = 20000};
	return pt_replay_main(&r);
}
