/* test_map_vec.c - hash map (insert, replace, delete, growth, iteration) and vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/map.h"
#include "base/mem.h"
#include "base/vec.h"

static void map_basic(void **state)
{
	(void)state;
	struct pane_map m;
	pane_map_init(&m, free);
	assert_null(pane_map_gets(&m, "a"));
	pane_map_puts(&m, "a", pane_xstrdup("1"));
	pane_map_puts(&m, "b", pane_xstrdup("2"));
	pane_map_puts(&m, "a", pane_xstrdup("3")); /* replace frees the old value */
	assert_string_equal(pane_map_gets(&m, "a"), "3");
	assert_string_equal(pane_map_gets(&m, "b"), "2");
	assert_int_equal(m.len, 2);
	assert_true(pane_map_del(&m, "a", 1));
	assert_false(pane_map_del(&m, "a", 1));
	assert_null(pane_map_gets(&m, "a"));
	/* binary keys with NUL inside */
	pane_map_put(&m, "x\0y", 3, pane_xstrdup("bin"));
	assert_string_equal(pane_map_get(&m, "x\0y", 3), "bin");
	assert_null(pane_map_get(&m, "x", 1));
	pane_map_release(&m);
}

static void map_grows_and_iterates(void **state)
{
	(void)state;
	struct pane_map m;
	pane_map_init(&m, NULL);
	char key[32];
	for (intptr_t i = 0; i < 10000; i++) {
		snprintf(key, sizeof key, "key-%ld", (long)i);
		pane_map_puts(&m, key, (void *)(i + 1));
	}
	for (intptr_t i = 0; i < 10000; i += 2) {
		snprintf(key, sizeof key, "key-%ld", (long)i);
		assert_true(pane_map_del(&m, key, strlen(key)));
	}
	assert_int_equal(m.len, 5000);
	for (intptr_t i = 0; i < 10000; i++) {
		snprintf(key, sizeof key, "key-%ld", (long)i);
		void *v = pane_map_gets(&m, key);
		if (i % 2)
			assert_int_equal((intptr_t)v, i + 1);
		else
			assert_null(v);
	}
	size_t pos = 0, seen = 0;
	const char *k;
	void *v;
	while (pane_map_next(&m, &pos, &k, NULL, &v)) {
		long n = strtol(k + 4, NULL, 10);
		assert_int_equal((intptr_t)v, n + 1);
		seen++;
	}
	assert_int_equal(seen, 5000);
	pane_map_release(&m);
}

/* pane_hash_words: every length and seed counts, the zero-padded tail does
 * not alias, and one flipped input bit flips about half the output bits. */
static void hash_words_mixes(void **state)
{
	(void)state;
	unsigned char key[64];
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)(i * 37 + 11);
	uint64_t seen[65];
	for (size_t len = 0; len <= sizeof key; len++) {
		seen[len] = pane_hash_words(key, len, 42);
		for (size_t j = 0; j < len; j++)
			assert_true(seen[len] != seen[j]);
	}
	assert_true(pane_hash_words("a", 1, 0) != pane_hash_words("a\0", 2, 0));
	assert_true(pane_hash_words("ab", 2, 1) != pane_hash_words("ab", 2, 2));
	int total = 0, flips = 0;
	uint64_t h0 = pane_hash_words(key, 41, 7);
	for (size_t bit = 0; bit < 41 * 8; bit++) {
		key[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		total += __builtin_popcountll(h0 ^ pane_hash_words(key, 41, 7));
		flips++;
		key[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
	double mean = (double)total / flips;
	if (mean < 28 || mean > 36)
		fail_msg("a flipped bit flips %.1f of 64 output bits on average", mean);
}

static void vec_push_remove(void **state)
{
	(void)state;
	struct pane_vec v;
	pane_vec_init(&v, sizeof(int));
	for (int i = 0; i < 100; i++)
		pane_vec_push(&v, &i);
	assert_int_equal(v.len, 100);
	pane_vec_remove(&v, 0);
	assert_int_equal(*(int *)pane_vec_at(&v, 0), 1);
	assert_int_equal(*(int *)pane_vec_at(&v, 98), 99);
	int *z = pane_vec_push_zero(&v);
	assert_int_equal(*z, 0);
	assert_int_equal(v.len, 100);
	pane_vec_release(&v);
	assert_int_equal(v.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(map_basic),
	    cmocka_unit_test(map_grows_and_iterates),
	    cmocka_unit_test(hash_words_mixes),
	    cmocka_unit_test(vec_push_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
