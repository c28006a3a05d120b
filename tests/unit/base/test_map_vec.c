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
	    cmocka_unit_test(vec_push_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
