/* replay_template.c - fuzz_template's seeds and deterministic mutations
 * (inserted template tokens among them) in the normal test suite (replay.h). */
#include <stdio.h>

#include "replay.h"

int main(void)
{
	static const char *const tokens[] = {
	    "{{",        "}}",     "{{-",   "-}}",      "$labels", ".Labels",  "|",      "(",      ")",
	    "\"",        "`",      "end",   "else",     "if ",     "range ",   "with ",  "$x := ", "printf \"%5.2f\" ",
	    "humanize ", "query ", "first", "args 1 2", "$value",  "1e308",    "-",      ".",      "$",
	    "{{/*",      "*/}}",   "break", "index ",   "len ",    "eq 1 1.0", "title ", "\n"};
	struct pt_replay r = {.corpus = "template",
	                      .tokens = tokens,
	                      .ntokens = sizeof tokens / sizeof tokens[0],
	                      .seed = 0x2545f4914f6cdd1dull,
	                      .runs = 20000};
	return pt_replay_main(&r);
}
