/*
 * promcache.h - a bounded cache from a sample line's series text to its
 * parsed series, kept across parses (pane_promtext_parse_cached).
 *
 * The series text is the bytes of a line before its value: the metric
 * name and, when one follows, the label set up to its closing '}'
 * (`name{a="b",c="d"}`), byte for byte as written. A day of scrapes
 * repeats each one thousands of times; with the cache, the parser parses,
 * unescapes, validates and sorts it once, and every later line of the same
 * text costs a comparison. The parser alone decides what a text means;
 * the cache only remembers what it was told for exactly those bytes.
 *
 * Invariants:
 *   (1) An entry is found only by the whole text, compared byte for byte
 *       (a hash match alone never hits), so two texts that collide are two
 *       entries.
 *   (2) Memory stays under the bound given to pane_promcache_new: texts
 *       longer than PANE_PROMCACHE_TEXT_MAX and entries that would pass
 *       the bound are not cached (the line is parsed as without a cache).
 *       When the cache is full it is emptied at the next
 *       pane_promcache_batch_end if it has been answering more lines than
 *       it took in since it was last emptied (the series moved on), else
 *       it stops taking entries (series too many to fit: emptying it again
 *       and again would only cost).
 *   (3) Entries (and so the name and labels delivered from them) stay at
 *       their address until the cache is emptied: never between two calls
 *       of pane_promcache_batch_end, and never while the parse context
 *       stays the same (pane_promcache_context).
 *
 * Ownership: the cache owns every entry and the strings they point to.
 * Not thread-safe: one parser at a time.
 */
#ifndef PANE_RECEIVERS_PROMCACHE_H
#define PANE_RECEIVERS_PROMCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/record.h"

#define PANE_PROMCACHE_TEXT_MAX 1024 /* bytes of series text; longer ones are not cached */

struct pane_promcache;

/* A cached series text and what it means. text, name and labels (sorted, as the parser
 * delivers them, labels.owned false) belong to the cache. ref is the
 * consumer's: 0 when the entry is made, then whatever the consumer stores
 * (pane import keeps the store's series reference there). */
struct pane_promcache_entry {
	const char *text; /* the series text (not NUL-terminated), text_len bytes */
	size_t text_len;
	const char *name;
	struct pane_labels labels;
	uint64_t ref;
};

/* An empty cache that will hold at most max_bytes (entries, their strings
 * and the table). Cannot fail. */
struct pane_promcache *pane_promcache_new(size_t max_bytes);
/* NULL is a no-op. */
void pane_promcache_free(struct pane_promcache *c);

/* The entries are what parsing in context ctx[0..len) made of each text
 * (whatever else decides the meaning, as bytes: the parser's extra and
 * default labels). A context other than the cache's, compared byte for
 * byte, empties the cache. The caller holds no entry. */
void pane_promcache_context(struct pane_promcache *c, const void *ctx, size_t len);

/* The entry of text[0..len), or NULL. */
struct pane_promcache_entry *pane_promcache_get(struct pane_promcache *c, const char *text, size_t len);

/* Adds text[0..len) meaning name and labels (copied; labels sorted and
 * valid, as the parser delivers them). Returns the new entry, or NULL when
 * it is not cached (too long, too big for what is left, the cache full;
 * see invariant 2). The text must not be in the cache. */
struct pane_promcache_entry *pane_promcache_put(struct pane_promcache *c, const char *text, size_t len,
                                                const char *name, const struct pane_label *labels, size_t n);

/* The caller holds no entry from here on (a batch was delivered): a full
 * cache may be emptied now (invariant 2). hits: lines the caller answered
 * since the last call from an entry it held on to without
 * pane_promcache_get (the previous line's), counted as hits. */
void pane_promcache_batch_end(struct pane_promcache *c, uint64_t hits);

/* Tests only: hashes are ANDed with this (default all ones), so a test can
 * make every text collide. */
extern uint64_t pane_promcache_hash_mask;

/* Counters, for tests and benchmarks. */
struct pane_promcache_stats {
	uint64_t hits, puts, refused, clears;
	size_t entries, bytes;
};
void pane_promcache_get_stats(const struct pane_promcache *c, struct pane_promcache_stats *out);

#endif
