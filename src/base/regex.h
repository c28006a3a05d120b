/*
 * regex.h - regular expressions for label values: PCRE2, fully anchored, bounded.
 *
 * Every place that matches a label value against a user's pattern compiles
 * and matches it here: PromQL matchers when parsed and when the store's
 * index selects series, label_replace(), Alertmanager matchers (routes,
 * silences, inhibit rules), the in-memory store, rule templates' match and
 * reReplaceAll, and log-derived metrics' line filters (the last three
 * unanchored: PANE_REGEX_UNANCHORED). So they agree on the syntax, and all
 * run under the same limits:
 *
 *   1. A pattern RE is compiled as "^(?:RE)$" (UTF-8, $ only at the end)
 *      and JIT-compiled when the platform allows; it matches whole values.
 *   2. Every match runs with one shared match context: at most 1,000,000
 *      backtracking steps, depth 10,000, 20 MiB of heap. A catastrophic
 *      pattern ("(a+)+$" on "aaaa...!") fails with an error instead of
 *      holding a thread for hours.
 *   3. PANE_REGEX_DOTALL lets "." match a newline, as the series-selection
 *      path always did (label matchers); label_replace() keeps Go's default.
 *   4. PANE_REGEX_UNANCHORED compiles RE as written (no wrapper), for
 *      searches that find a match anywhere (Go's MatchString, ReplaceAll).
 *
 * Ownership: the caller frees a compiled pattern with pcre2_code_free().
 * Threads: compiled code and the match context are shared read-only; a
 * pcre2_match_data belongs to one thread.
 */
#ifndef PANE_BASE_REGEX_H
#define PANE_BASE_REGEX_H

#include <stddef.h>

#include "base/err.h"

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

enum { PANE_REGEX_DOTALL = 1, PANE_REGEX_UNANCHORED = 2 };

/* The bounds of invariant 2, exposed for tests and docs. */
#define PANE_REGEX_MATCH_LIMIT 1000000
#define PANE_REGEX_DEPTH_LIMIT 10000
#define PANE_REGEX_HEAP_LIMIT_KIB 20000

/* NULL with "error parsing regexp: WHAT at offset N of RE" (PANE_EINVAL) in err. */
pcre2_code *pane_regex_compile(const char *re, int flags, struct pane_err *err);
/* 1 match, 0 no match (also for a value that is not valid UTF-8),
 * PANE_ETOOBIG when a limit stopped the match, PANE_EINVAL on another PCRE2
 * error. md may be NULL (one is made for the call). */
int pane_regex_match(const pcre2_code *re, const char *s, size_t len, pcre2_match_data *md);
/* One search from byte offset start of s[0..len) under the same limits, with
 * PCRE2 match options (0 usually). The number of capture pairs set (> 0)
 * when found (offsets in md's ovector), 0 no match (or invalid UTF-8),
 * PANE_ETOOBIG / PANE_EINVAL as pane_regex_match. md is required. */
int pane_regex_search(const pcre2_code *re, const char *s, size_t len, size_t start, uint32_t options,
                      pcre2_match_data *md);

#endif
