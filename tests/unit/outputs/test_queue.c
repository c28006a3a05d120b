/* test_queue.c - an output's durable queue: order, at-least-once across a
 * reopen, torn tails, the size bound with both drop policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "outputs/queue.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/pane-oqueue-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char p[512];
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (de->d_name[0] != '.')
			unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

static struct pane_oqueue *open_q(int64_t max, int64_t seg, enum pane_oqueue_drop drop)
{
	struct pane_err err = {0};
	struct pane_oqueue *q = pane_oqueue_open(
	    &(struct pane_oqueue_opts){.dir = dir, .max_bytes = max, .segment_bytes = seg, .drop = drop}, &err);
	if (!q)
		fail_msg("open: %s", err.msg);
	return q;
}

/* Appends entries "e<from>".."e<to-1>" one batch each of `per`. */
static int put(struct pane_oqueue *q, int from, int to, int per)
{
	int rc = 0;
	for (int i = from; i < to; i += per) {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		int n = 0;
		for (int k = i; k < to && k < i + per; k++, n++) {
			char e[32];
			int len = snprintf(e, sizeof e, "e%d", k);
			pane_oqueue_frame(&b, (uint64_t)k, 1000 + k, e, (size_t)len);
		}
		struct pane_err err = {0};
		int r = pane_oqueue_append(q, b.data, b.len, (size_t)n, &err);
		if (r < 0)
			rc = r;
		pane_buf_release(&b);
	}
	return rc;
}

/* Reads everything (batches of max), committing when commit; returns the
 * entries as "e1 e2 ..." */
static char *drain(struct pane_oqueue *q, size_t max, bool commit)
{
	struct pane_buf out;
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	struct pane_oqueue_batch b;
	pane_oqueue_batch_init(&b);
	for (;;) {
		size_t n = pane_oqueue_read(q, max, &b);
		for (size_t i = 0; i < n; i++) {
			uint64_t h;
			int64_t ts;
			const char *p;
			size_t len;
			pane_oqueue_entry(&b, i, &h, &ts, &p, &len);
			assert_int_equal(ts, 1000 + (int64_t)h);
			pane_buf_addf(&out, "%s%.*s", out.len ? " " : "", (int)len, p);
		}
		if (n == 0 || !commit)
			break;
		pane_oqueue_commit(q, &b);
	}
	pane_oqueue_batch_release(&b);
	return pane_buf_detach(&out, NULL);
}

static void expect_str(char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("got '%s', want '%s'", got, want);
	free(got);
}

static void order_and_reopen(void **state)
{
	(void)state;
	struct pane_oqueue *q = open_q(1 << 20, 64, PANE_OQUEUE_DROP_OLDEST); /* tiny segments */
	assert_int_equal(put(q, 0, 10, 3), 0);
	struct pane_oqueue_stats st;
	pane_oqueue_stats(q, &st);
	assert_int_equal(st.pending, 10);
	assert_true(st.segments > 1);
	/* read 2 without committing: a reopen gives them again */
	expect_str(drain(q, 2, false), "e0 e1");
	pane_oqueue_close(q);
	q = open_q(1 << 20, 64, PANE_OQUEUE_DROP_OLDEST);
	pane_oqueue_stats(q, &st);
	assert_int_equal(st.pending, 10);
	/* commit 2: a reopen starts at e2 */
	struct pane_oqueue_batch b;
	pane_oqueue_batch_init(&b);
	assert_int_equal(pane_oqueue_read(q, 2, &b), 2);
	pane_oqueue_commit(q, &b);
	pane_oqueue_batch_release(&b);
	pane_oqueue_close(q);
	q = open_q(1 << 20, 64, PANE_OQUEUE_DROP_OLDEST);
	pane_oqueue_stats(q, &st);
	assert_int_equal(st.pending, 8);
	assert_int_equal(put(q, 10, 12, 2), 0);
	expect_str(drain(q, 3, true), "e2 e3 e4 e5 e6 e7 e8 e9 e10 e11");
	pane_oqueue_stats(q, &st);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.segments, 1); /* sent segments are deleted */
	pane_oqueue_close(q);
}

static void torn_tail_is_cut(void **state)
{
	(void)state;
	struct pane_oqueue *q = open_q(1 << 20, 1 << 20, PANE_OQUEUE_DROP_OLDEST);
	assert_int_equal(put(q, 0, 5, 5), 0);
	pane_oqueue_close(q);
	char p[512];
	snprintf(p, sizeof p, "%s/0000000000000000.seg", dir);
	int fd = open(p, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	/* half an entry: a header claiming 100 bytes, then 10 */
	unsigned char junk[34] = {100, 0, 0, 0};
	assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
	close(fd);
	q = open_q(1 << 20, 1 << 20, PANE_OQUEUE_DROP_OLDEST);
	assert_int_equal(put(q, 5, 7, 2), 0);
	expect_str(drain(q, 100, true), "e0 e1 e2 e3 e4 e5 e6");
	pane_oqueue_close(q);
}

static void drop_oldest(void **state)
{
	(void)state;
	/* each entry is 24 + 2..3 bytes; 1000 bytes hold ~37 */
	struct pane_oqueue *q = open_q(1000, 250, PANE_OQUEUE_DROP_OLDEST);
	assert_int_equal(put(q, 0, 100, 5), 0);
	struct pane_oqueue_stats st;
	pane_oqueue_stats(q, &st);
	assert_true(st.bytes <= 1000);
	assert_true(st.dropped > 0);
	assert_int_equal(st.pending + st.dropped, 100);
	/* what is left is the newest, in order, ending with e99 */
	char *got = drain(q, 1000, true);
	size_t n = 1;
	for (char *c = got; *c; c++)
		n += *c == ' ';
	assert_int_equal(n, st.pending);
	assert_non_null(strstr(got, "e98 e99"));
	assert_true(strlen(got) >= 7 && strcmp(got + strlen(got) - 7, "e98 e99") == 0);
	free(got);
	pane_oqueue_close(q);
}

static void drop_newest(void **state)
{
	(void)state;
	struct pane_oqueue *q = open_q(1000, 250, PANE_OQUEUE_DROP_NEWEST);
	int rc = put(q, 0, 100, 5);
	assert_int_equal(rc, PANE_EAGAIN);
	struct pane_oqueue_stats st;
	pane_oqueue_stats(q, &st);
	assert_int_equal(st.pending + st.dropped, 100);
	char *got = drain(q, 1000, true);
	assert_int_equal(strncmp(got, "e0 e1 e2", 8), 0); /* the oldest are kept */
	free(got);
	pane_oqueue_close(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(order_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(torn_tail_is_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(drop_oldest, setup, teardown),
	    cmocka_unit_test_setup_teardown(drop_newest, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
