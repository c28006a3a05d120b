/* test_bufpool.c - the select sample pool hands given-back blocks out
 * again, keeps no more than its cap, survives its owner while blocks are
 * out, and keeps its counts under threads taking and giving at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "store/bufpool.h"

static void test_reuse(void **state)
{
	(void)state;
	struct pane_bufpool *p = pane_bufpool_new(4096, 4 * 4096);
	assert_int_equal(pane_bufpool_block(p), 4096);
	char *a = pane_bufpool_take(p);
	char *b = pane_bufpool_take(p);
	assert_ptr_not_equal(a, b);
	assert_int_equal((uintptr_t)a % 16, 0);
	memset(a, 1, 4096);
	memset(b, 2, 4096);
	pane_bufpool_give(p, a);
	pane_bufpool_give(p, b);
	/* newest first */
	assert_ptr_equal(pane_bufpool_take(p), b);
	assert_ptr_equal(pane_bufpool_take(p), a);
	struct pane_bufpool_stats st;
	pane_bufpool_stats(p, &st);
	assert_int_equal(st.made, 2);
	assert_int_equal(st.reused, 2);
	assert_int_equal(st.out, 2);
	assert_int_equal(st.idle, 0);
	pane_bufpool_give(p, a);
	pane_bufpool_give(p, b);
	pane_bufpool_give(p, NULL); /* a no-op */
	pane_bufpool_free(p);
	pane_bufpool_free(NULL);
}

static void test_cap(void **state)
{
	(void)state;
	struct pane_bufpool *p = pane_bufpool_new(1000, 0);
	assert_int_equal(pane_bufpool_block(p), 1008); /* rounded up to 16 */
	pane_bufpool_free(p);
	/* keeps 3 blocks: 3.5 blocks' worth rounds down */
	p = pane_bufpool_new(1024, 3 * 1024 + 512);
	void *b[6];
	for (int i = 0; i < 6; i++)
		b[i] = pane_bufpool_take(p);
	for (int i = 0; i < 6; i++)
		pane_bufpool_give(p, b[i]);
	struct pane_bufpool_stats st;
	pane_bufpool_stats(p, &st);
	assert_int_equal(st.made, 6);
	assert_int_equal(st.idle, 3);
	assert_int_equal(st.freed, 3);
	assert_int_equal(st.out, 0);
	/* the kept ones are handed out before any new one is made */
	for (int i = 0; i < 4; i++)
		b[i] = pane_bufpool_take(p);
	pane_bufpool_stats(p, &st);
	assert_int_equal(st.reused, 3);
	assert_int_equal(st.made, 7);
	for (int i = 0; i < 4; i++)
		pane_bufpool_give(p, b[i]);
	pane_bufpool_free(p);

	/* a cap below one block keeps nothing */
	p = pane_bufpool_new(4096, 100);
	pane_bufpool_give(p, pane_bufpool_take(p));
	pane_bufpool_stats(p, &st);
	assert_int_equal(st.idle, 0);
	assert_int_equal(st.freed, 1);
	pane_bufpool_free(p);
}

/* Blocks out when the owner frees the pool: given back later, freed then,
 * the pool with the last one (ASan/LSan see a leak or a use after free). */
static void test_outlives_owner(void **state)
{
	(void)state;
	struct pane_bufpool *p = pane_bufpool_new(256, 4096);
	void *idle = pane_bufpool_take(p);
	void *a = pane_bufpool_take(p), *b = pane_bufpool_take(p);
	pane_bufpool_give(p, idle);
	pane_bufpool_free(p);
	memset(a, 7, 256);
	pane_bufpool_give(p, a);
	memset(b, 8, 256);
	pane_bufpool_give(p, b);
}

#define THREADS 4
#define ROUNDS 20000

static void *worker(void *arg)
{
	struct pane_bufpool *p = arg;
	size_t block = pane_bufpool_block(p);
	for (int i = 0; i < ROUNDS; i++) {
		/* hold one to three blocks at once, each written whole and checked:
		 * two threads never hold the same block */
		unsigned char *h[3];
		int n = 1 + i % 3;
		for (int k = 0; k < n; k++) {
			h[k] = pane_bufpool_take(p);
			memset(h[k], (int)((uintptr_t)h[k] >> 4) & 0xff, block);
		}
		for (int k = 0; k < n; k++) {
			unsigned char want = (unsigned char)(((uintptr_t)h[k] >> 4) & 0xff);
			for (size_t j = 0; j < block; j += 61)
				assert_int_equal(h[k][j], want);
			pane_bufpool_give(p, h[k]);
		}
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	(void)state;
	struct pane_bufpool *p = pane_bufpool_new(512, 5 * 512);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, p), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	struct pane_bufpool_stats st;
	pane_bufpool_stats(p, &st);
	assert_int_equal(st.out, 0);
	assert_true(st.idle <= 5);
	assert_int_equal(st.made - st.freed, st.idle);
	size_t takes = 0;
	for (int i = 0; i < ROUNDS; i++)
		takes += (size_t)(1 + i % 3);
	assert_int_equal(st.made + st.reused, takes * THREADS);
	pane_bufpool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reuse),
	    cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_outlives_owner),
	    cmocka_unit_test(test_concurrent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
