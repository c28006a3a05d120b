/*
 * index.c - inverted index and matcher evaluation (see index.h).
 *
 * Idea: two levels of hash maps, label name -> (value -> postings), where a
 * postings list is the ascending array of series ids carrying that pair.
 * Because ids are dense, matching turns every matcher into a bitmap over
 * all ids and ANDs them; a regex is run once per distinct *value*, never
 * per series. Listing names and values intersects postings with the set.
 *
 * A pair carried by a single series (an instance, a pod name: most pairs
 * of a high-cardinality label) holds its id inline in the map's value
 * pointer, tagged with the low bit, instead of a postings allocation and
 * its id array (~56 bytes less per such series); the second id turns it
 * into a postings list.
 *
 * Invariants:
 *   (1) Postings are ascending (ids are added in increasing order).
 *   (2) A series lacking a label appears in none of that name's postings,
 *       which is how empty-matching matchers find it (complement).
 *   (3) A value pointer with the low bit set is one inline id (id << 1 | 1);
 *       otherwise it is a struct postings * (malloc'ed: low bit clear).
 */
#include "store/index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/map.h"
#include "base/mem.h"
#include "base/regex.h"

struct postings {
	uint32_t *ids;
	size_t n, cap;
};

struct lname {
	struct pane_map values; /* value -> struct postings * */
};

struct pane_index {
	struct pane_map names; /* name -> struct lname * */
	uint32_t limit;        /* max id + 1 */
};

#if UINTPTR_MAX >= 0x1FFFFFFFFull
#define FITS_INLINE(id) true
#else
#define FITS_INLINE(id) ((id) <= (UINTPTR_MAX >> 1))
#endif

static bool is_inline(const void *v)
{
	return ((uintptr_t)v & 1u) != 0;
}

static uint32_t inline_id(const void *v)
{
	return (uint32_t)((uintptr_t)v >> 1);
}

/* The ids of a map value (inline or a postings list) as an array. */
static const uint32_t *value_ids(const void *v, uint32_t *one, size_t *n)
{
	if (is_inline(v)) {
		*one = inline_id(v);
		*n = 1;
		return one;
	}
	const struct postings *ps = v;
	*n = ps->n;
	return ps->ids;
}

static void postings_free(void *p)
{
	if (is_inline(p))
		return;
	struct postings *ps = p;
	free(ps->ids);
	free(ps);
}

static void lname_free(void *p)
{
	struct lname *ln = p;
	pane_map_release(&ln->values);
	free(ln);
}

struct pane_index *pane_index_new(void)
{
	struct pane_index *ix = pane_xcalloc(1, sizeof *ix);
	pane_map_init(&ix->names, lname_free);
	ix->limit = 1;
	return ix;
}

void pane_index_free(struct pane_index *ix)
{
	if (!ix)
		return;
	pane_map_release(&ix->names);
	free(ix);
}

uint32_t pane_index_limit(const struct pane_index *ix)
{
	return ix->limit;
}

void pane_index_add(struct pane_index *ix, uint32_t sid, const struct pane_labels *labels)
{
	for (size_t i = 0; i < labels->n; i++) {
		struct lname *ln = pane_map_gets(&ix->names, labels->v[i].name);
		if (!ln) {
			ln = pane_xcalloc(1, sizeof *ln);
			pane_map_init(&ln->values, postings_free);
			pane_map_puts(&ix->names, labels->v[i].name, ln);
		}
		void *pv = pane_map_gets(&ln->values, labels->v[i].value);
		if (!pv && FITS_INLINE(sid)) {
			pane_map_puts(&ln->values, labels->v[i].value, (void *)(((uintptr_t)sid << 1) | 1u));
			continue;
		}
		struct postings *ps = pv;
		if (!pv || is_inline(pv)) {
			ps = pane_xcalloc(1, sizeof *ps);
			if (pv) {
				ps->cap = 2;
				ps->ids = pane_xmalloc(2 * sizeof *ps->ids);
				ps->ids[ps->n++] = inline_id(pv);
			}
			/* replaces the inline id (postings_free ignores it) */
			pane_map_puts(&ln->values, labels->v[i].value, ps);
		}
		if (ps->n == ps->cap) {
			ps->cap = ps->cap ? ps->cap * 2 : 2;
			ps->ids = pane_xrealloc(ps->ids, pane_mul_size(ps->cap, sizeof *ps->ids));
		}
		ps->ids[ps->n++] = sid;
	}
	if (sid + 1 > ix->limit)
		ix->limit = sid + 1;
}

/* ---------- bitmaps ---------- */

void pane_bitmap_init(struct pane_bitmap *b, size_t nbits, bool fill)
{
	b->nwords = (nbits + 63) / 64;
	b->w = pane_xcalloc(b->nwords ? b->nwords : 1, sizeof *b->w);
	if (fill) {
		memset(b->w, 0xff, b->nwords * sizeof *b->w);
		if (nbits % 64)
			b->w[b->nwords - 1] = (1ull << (nbits % 64)) - 1;
		pane_bitmap_clear_bit(b, 0); /* id 0 is never used */
	}
}

void pane_bitmap_release(struct pane_bitmap *b)
{
	free(b->w);
	b->w = NULL;
	b->nwords = 0;
}

int64_t pane_bitmap_next(const struct pane_bitmap *b, uint32_t i)
{
	size_t wi = i >> 6;
	if (wi >= b->nwords)
		return -1;
	uint64_t w = b->w[wi] & (~0ull << (i & 63));
	for (;;) {
		if (w)
			return (int64_t)(wi * 64 + (size_t)__builtin_ctzll(w));
		if (++wi >= b->nwords)
			return -1;
		w = b->w[wi];
	}
}

static void set_postings(struct pane_bitmap *b, const void *pv, bool on)
{
	uint32_t one;
	size_t n;
	const uint32_t *ids = value_ids(pv, &one, &n);
	for (size_t i = 0; i < n; i++) {
		uint32_t id = ids[i];
		if (on)
			b->w[id >> 6] |= 1ull << (id & 63);
		else
			b->w[id >> 6] &= ~(1ull << (id & 63));
	}
}

static bool postings_meet(const void *pv, const struct pane_bitmap *set)
{
	uint32_t one;
	size_t n;
	const uint32_t *ids = value_ids(pv, &one, &n);
	for (size_t i = 0; i < n; i++)
		if (pane_bitmap_has(set, ids[i]))
			return true;
	return false;
}

/* ---------- matchers ---------- */

/* The bitmap of one matcher. */
static int one_matcher(struct pane_index *ix, const struct pane_matcher *m, struct pane_bitmap *b, struct pane_err *err)
{
	struct lname *ln = pane_map_gets(&ix->names, m->name);
	const char *val = m->value ? m->value : "";
	size_t pos = 0;
	const char *k;
	size_t kl;
	void *v;
	switch (m->op) {
	case PANE_MATCH_EQ:
	case PANE_MATCH_NE: {
		bool eq = m->op == PANE_MATCH_EQ;
		if (*val) {
			pane_bitmap_init(b, ix->limit, !eq);
			void *pv = ln ? pane_map_gets(&ln->values, val) : NULL;
			if (pv)
				set_postings(b, pv, eq);
		} else {
			/* = "" : lacking the label; != "" : having it */
			pane_bitmap_init(b, ix->limit, eq);
			while (ln && pane_map_next(&ln->values, &pos, &k, &kl, &v))
				set_postings(b, v, !eq);
		}
		return 0;
	}
	case PANE_MATCH_RE:
	case PANE_MATCH_NRE: {
		pcre2_code *code = pane_regex_compile(val, PANE_REGEX_DOTALL, err);
		if (!code) {
			pane_err_detail(err, "=~ and !~ take a PCRE2 expression matched against the whole value");
			return PANE_EINVAL;
		}
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
		int r = pane_regex_match(code, "", 0, md);
		bool want = m->op == PANE_MATCH_RE;
		/* start with the series lacking the label: in the set iff (empty matches) == want */
		bool lacking_in = (r == 1) == want;
		pane_bitmap_init(b, ix->limit, lacking_in);
		while (r >= 0 && ln && pane_map_next(&ln->values, &pos, &k, &kl, &v)) {
			r = pane_regex_match(code, k, kl, md);
			bool in = (r == 1) == want;
			if (r >= 0 && in != lacking_in)
				set_postings(b, v, in);
		}
		pcre2_match_data_free(md);
		pcre2_code_free(code);
		if (r < 0) {
			pane_bitmap_release(b);
			/* PANE_EINVAL, not the limit's PANE_ETOOBIG: a reader's ETOOBIG means max_samples */
			pane_err_set(err, PANE_EINVAL, "regular expression \"%.200s\" on %s: match limit exceeded", val,
			             m->name);
			pane_err_detail(err, "nested repetition such as (a+)+ backtracks exponentially");
			return PANE_EINVAL;
		}
		return 0;
	}
	}
	return pane_err_set(err, PANE_EINVAL, "unknown matcher operator");
}

int pane_index_match(struct pane_index *ix, const struct pane_matcher *m, size_t n, struct pane_bitmap *out,
                     struct pane_err *err)
{
	pane_bitmap_init(out, ix->limit, true);
	for (size_t i = 0; i < n; i++) {
		if (!m[i].name) {
			pane_bitmap_release(out);
			return pane_err_set(err, PANE_EINVAL, "matcher without a label name");
		}
		struct pane_bitmap b;
		int rc = one_matcher(ix, &m[i], &b, err);
		if (rc < 0) {
			pane_bitmap_release(out);
			return rc;
		}
		for (size_t w = 0; w < out->nwords; w++)
			out->w[w] &= b.w[w];
		pane_bitmap_release(&b);
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void pane_index_names(struct pane_index *ix, const struct pane_bitmap *set, char ***out, size_t *n)
{
	char **arr = pane_xcalloc(ix->names.len + 1, sizeof *arr);
	size_t cnt = 0, pos = 0;
	const char *k;
	size_t kl;
	void *v;
	while (pane_map_next(&ix->names, &pos, &k, &kl, &v)) {
		struct lname *ln = v;
		size_t p2 = 0;
		const char *k2;
		size_t kl2;
		void *v2;
		while (pane_map_next(&ln->values, &p2, &k2, &kl2, &v2)) {
			if (postings_meet(v2, set)) {
				arr[cnt++] = pane_xstrdup(k);
				break;
			}
		}
	}
	qsort(arr, cnt, sizeof *arr, cmp_str);
	*out = arr;
	*n = cnt;
}

void pane_index_values(struct pane_index *ix, const char *name, const struct pane_bitmap *set, char ***out, size_t *n)
{
	struct lname *ln = pane_map_gets(&ix->names, name);
	char **arr = pane_xcalloc(ln ? ln->values.len + 1 : 1, sizeof *arr);
	size_t cnt = 0, pos = 0;
	const char *k;
	size_t kl;
	void *v;
	while (ln && pane_map_next(&ln->values, &pos, &k, &kl, &v))
		if (postings_meet(v, set))
			arr[cnt++] = pane_xstrdup(k);
	qsort(arr, cnt, sizeof *arr, cmp_str);
	*out = arr;
	*n = cnt;
}
