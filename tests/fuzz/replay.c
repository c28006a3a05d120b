/*
 * replay.c - the fuzz targets' replay harness (replay.h).
 *
 * Seeds are read in sorted order and mutated with a fixed-seed xorshift
 * generator, so every checkout runs the same inputs.
 */
#include "replay.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_SEEDS = 512, MAX_LEN = 65536 };

static uint64_t next(uint64_t *rng)
{
	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	return *rng;
}

static size_t mutate(char *buf, size_t len, char *const *seeds, const size_t *lens, size_t n, const struct pt_replay *r,
                     uint64_t *rng)
{
	int muts = 1 + (int)(next(rng) % 4);
	for (int m = 0; m < muts; m++) {
		size_t pos = len ? next(rng) % (len + 1) : 0;
		switch (next(rng) % 4) {
		case 0: /* flip a byte */
			if (len)
				buf[pos % len] = (char)(next(rng) & 0xff);
			break;
		case 1: { /* insert a token */
			const char *t = r->tokens[next(rng) % r->ntokens];
			size_t tl = strlen(t);
			if (len + tl < MAX_LEN) {
				memmove(buf + pos + tl, buf + pos, len - pos);
				memcpy(buf + pos, t, tl);
				len += tl;
			}
			break;
		}
		case 2: /* truncate */ len = pos; break;
		default: { /* splice another seed's tail */
			size_t b = next(rng) % n;
			size_t from = lens[b] ? next(rng) % lens[b] : 0;
			size_t tl = lens[b] - from;
			if (pos + tl < MAX_LEN) {
				memcpy(buf + pos, seeds[b] + from, tl);
				len = pos + tl;
			}
			break;
		}
		}
	}
	return len;
}

int pt_replay_run(const struct pt_replay *r, size_t *nseeds)
{
	const char *root = getenv("PANE_SOURCE_ROOT");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", root ? root : ".", r->corpus);
	struct dirent **ents;
	int ne = scandir(dir, &ents, NULL, alphasort);
	if (ne < 0) {
		fprintf(stderr, "cannot open %s\n", dir);
		return 1;
	}
	char *seeds[MAX_SEEDS];
	size_t lens[MAX_SEEDS], n = 0;
	for (int i = 0; i < ne; i++) {
		const char *name = ents[i]->d_name;
		char p[8192];
		snprintf(p, sizeof p, "%s/%s", dir, name);
		FILE *f = name[0] != '.' && n < MAX_SEEDS ? fopen(p, "rb") : NULL;
		free(ents[i]);
		if (!f)
			continue;
		seeds[n] = malloc(MAX_LEN);
		lens[n] = fread(seeds[n], 1, MAX_LEN - 1, f);
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)seeds[n], lens[n]);
		n++;
	}
	free(ents);
	if (n == 0) {
		fprintf(stderr, "no seeds in %s\n", dir);
		return 1;
	}
	static char buf[MAX_LEN + 8192];
	uint64_t rng = r->seed;
	const char *dump = getenv("REPLAY_DUMP");
	for (size_t i = 0; i < r->runs; i++) {
		size_t a = next(&rng) % n;
		memcpy(buf, seeds[a], lens[a]);
		size_t len = mutate(buf, lens[a], seeds, lens, n, r, &rng);
		if (dump) {
			FILE *f = fopen(dump, "wb");
			if (f) {
				fwrite(buf, 1, len, f);
				fclose(f);
			}
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	}
	for (size_t i = 0; i < n; i++)
		free(seeds[i]);
	*nseeds = n;
	return 0;
}

int pt_replay_main(const struct pt_replay *r)
{
	size_t n;
	if (pt_replay_run(r, &n) != 0)
		return 1;
	printf("%s fuzz replay: %zu seeds, %zu mutations\n", r->corpus, n, r->runs);
	return 0;
}
