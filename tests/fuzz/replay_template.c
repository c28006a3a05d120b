/* replay_template.c - runs fuzz_template's LLVMFuzzerTestOneInput in the
 * normal suite (and so under ASan in CI): every seed in
 * tests/fuzz/corpus/template, then deterministic mutations (byte flips,
 * inserted template tokens, truncations). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x2545f4914f6cdd1dull;
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
	snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/template", root ? root : ".");
	struct dirent **ents;
	int ne = scandir(dir, &ents, NULL, alphasort);
	if (ne < 0) {
		fprintf(stderr, "cannot open %s\n", dir);
		return 1;
	}
	char *seeds[256];
	size_t lens[256], n = 0;
	for (int i = 0; i < ne; i++) {
		char p[8192];
		snprintf(p, sizeof p, "%s/%s", dir, ents[i]->d_name);
		FILE *f = ents[i]->d_name[0] != '.' && n < 256 ? fopen(p, "rb") : NULL;
		free(ents[i]);
		if (!f)
			continue;
		seeds[n] = malloc(16384);
		lens[n] = fread(seeds[n], 1, 16383, f);
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)seeds[n], lens[n]);
		n++;
	}
	free(ents);
	if (n == 0) {
		fprintf(stderr, "no seeds in %s\n", dir);
		return 1;
	}
	static const char *tokens[] = {
	    "{{",        "}}",     "{{-",   "-}}",      "$labels", ".Labels",  "|",      "(",      ")",
	    "\"",        "`",      "end",   "else",     "if ",     "range ",   "with ",  "$x := ", "printf \"%5.2f\" ",
	    "humanize ", "query ", "first", "args 1 2", "$value",  "1e308",    "-",      ".",      "$",
	    "{{/*",      "*/}}",   "break", "index ",   "len ",    "eq 1 1.0", "title ", "\n"};
	char buf[40000];
	for (int it = 0; it < 20000; it++) {
		size_t s = next() % n, len = lens[s];
		memcpy(buf, seeds[s], len);
		int muts = 1 + (int)(next() % 4);
		for (int m = 0; m < muts; m++) {
			switch (next() % 3) {
			case 0:
				if (len)
					buf[next() % len] = (char)(next() & 0xff);
				break;
			case 1: {
				const char *t = tokens[next() % (sizeof tokens / sizeof tokens[0])];
				size_t tl = strlen(t), at = len ? next() % (len + 1) : 0;
				if (len + tl < sizeof buf) {
					memmove(buf + at + tl, buf + at, len - at);
					memcpy(buf + at, t, tl);
					len += tl;
				}
				break;
			}
			default:
				if (len)
					len = next() % len;
			}
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	}
	for (size_t i = 0; i < n; i++)
		free(seeds[i]);
	printf("template fuzz replay: %zu seeds, 20000 mutations\n", n);
	return 0;
}
