/*
 * replay.h - runs a fuzz target's LLVMFuzzerTestOneInput in the normal test
 * suite (so CI, including the ASan run, exercises it without clang): every
 * seed in tests/fuzz/corpus/<corpus>, then a fixed number of deterministic
 * mutations of them (byte flips, inserted tokens, truncations, splices of
 * two seeds). REPLAY_DUMP=<file> writes each mutation there before it runs,
 * so the last one is on disk when the target crashes.
 */
#ifndef PANE_TESTS_FUZZ_REPLAY_H
#define PANE_TESTS_FUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>

struct pt_replay {
	const char *corpus;        /* folder name under tests/fuzz/corpus */
	const char *const *tokens; /* inserted by the mutations */
	size_t ntokens;
	uint64_t seed; /* of the xorshift generator: same inputs on every run */
	size_t runs;   /* mutations */
};

/* 0 after all inputs ran, with *nseeds set; 1 with a message on stderr when
 * the corpus cannot be read or holds no seeds. */
int pt_replay_run(const struct pt_replay *r, size_t *nseeds);

/* pt_replay_run, then "<corpus> fuzz replay: N seeds, M mutations" on
 * stdout: a replay program's whole main when it checks nothing more. */
int pt_replay_main(const struct pt_replay *r);

#endif
