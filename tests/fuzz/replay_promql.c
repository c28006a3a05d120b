/* replay_promql.c - runs fuzz_promql's LLVMFuzzerTestOneInput in the normal
 * test suite (so CI, including the ASan run, exercises the fuzz target
 * without clang): every seed in tests/fuzz/corpus/promql, then a fixed
 * number of deterministic mutations of them (byte flips, insertions of
 * PromQL tokens, splices of two seeds). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern size_t fuzz_promql_evaluated;

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(void)
{
	const char *root = getenv("PANE_SOURCE_ROOT");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/promql", root ? root : ".");
	/* sorted, so the mutations below are the same on every checkout */
	struct dirent **ents;
	int ne = scandir(dir, &ents, NULL, alphasort);
	if (ne < 0) {
		fprintf(stderr, "cannot open %s\n", dir);
		return 1;
	}
	char *seeds[512];
	size_t lens[512], n = 0;
	for (int i = 0; i < ne; i++) {
		const char *name = ents[i]->d_name;
		char p[8192];
		snprintf(p, sizeof p, "%s/%s", dir, name);
		FILE *f = name[0] != '.' && n < 512 ? fopen(p, "rb") : NULL;
		free(ents[i]);
		if (!f)
			continue;
		seeds[n] = malloc(65536);
		lens[n] = fread(seeds[n], 1, 65535, f);
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)seeds[n], lens[n]);
		n++;
	}
	free(ents);
	if (n == 0) {
		fprintf(stderr, "no seeds in %s\n", dir);
		return 1;
	}
	static const char *tokens[] = {"(", ")", "[5m]", "[1m:10s]", "{", "}", "offset 1m", "@ 10", " by (x) ",
				       " on(x) group_left ", " bool ", "\"", "=~", ",", "sum(", "rate(", "-", "^",
				       "NaN", "Inf", "1e308", "topk(", "#", "\n", " and ", " or ", "label_replace("};
	char buf[70000];
	size_t runs = 30000;
	for (size_t i = 0; i < runs; i++) {
		size_t a = next() % n, len = lens[a];
		memcpy(buf, seeds[a], len);
		int muts = 1 + (int)(next() % 4);
		for (int m = 0; m < muts; m++) {
			size_t pos = len ? next() % (len + 1) : 0;
			switch (next() % 4) {
			case 0: /* flip a byte */
				if (len)
					buf[pos % len] = (char)(next() & 0xff);
				break;
			case 1: { /* insert a token */
				const char *t = tokens[next() % (sizeof tokens / sizeof tokens[0])];
				size_t tl = strlen(t);
				if (len + tl < 65536) {
					memmove(buf + pos + tl, buf + pos, len - pos);
					memcpy(buf + pos, t, tl);
					len += tl;
				}
				break;
			}
			case 2: /* truncate */
				len = pos;
				break;
			default: { /* splice another seed's tail */
				size_t b = next() % n;
				size_t from = lens[b] ? next() % lens[b] : 0;
				size_t tl = lens[b] - from;
				if (pos + tl < 65536) {
					memcpy(buf + pos, seeds[b] + from, tl);
					len = pos + tl;
				}
				break;
			}
			}
		}
		if (getenv("REPLAY_DUMP")) {
			FILE *f = fopen(getenv("REPLAY_DUMP"), "wb");
			if (f) {
				fwrite(buf, 1, len, f);
				fclose(f);
			}
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	}
	printf("replayed %zu seeds and %zu mutations through fuzz_promql; %zu parsed and were evaluated\n", n, runs,
	       fuzz_promql_evaluated);
	if (fuzz_promql_evaluated < n) {
		fprintf(stderr, "fewer inputs were evaluated than there are seeds: the target is not exercising the engine\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		free(seeds[i]);
	return 0;
}
