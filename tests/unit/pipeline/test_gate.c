/* test_gate.c - the pipeline's start gate: while held, a producer thread's
 * write waits, the holder's own write passes, and a sink attached before
 * pane_pipeline_open sees the waiting producer's record (pane serve starts
 * sources before it attaches its outputs and the notifier's deploy sink). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "pipeline/pipeline.h"

struct esink {
	atomic_int events;
};

static int e_write(void *ctx, const struct pane_event *e, size_t n, struct pane_err *err)
{
	(void)e, (void)err;
	atomic_fetch_add(&((struct esink *)ctx)->events, (int)n);
	return 0;
}

static const struct pane_sink_ops ev_ops = {.name = "events", .write_events = e_write};

struct producer {
	struct pane_pipeline *p;
	atomic_int returned;
};

static void *produce(void *arg)
{
	struct producer *pr = arg;
	struct pane_event e = {.ts_ms = 1, .kind = "deploy", .title = "api: deploy live"};
	struct pane_err err = {0};
	pane_pipeline_write_events(pr->p, &e, 1, &err);
	atomic_store(&pr->returned, 1);
	return NULL;
}

static void late_sink_sees_first_record(void **state)
{
	(void)state;
	struct esink primary = {0}, late = {0};
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_hold(p);
	pane_pipeline_add_sink(p, (struct pane_sink){&ev_ops, &primary}, PANE_SINK_PRIMARY);

	/* the holder's own write is not held (serve's main thread may write while attaching) */
	struct pane_event e = {.ts_ms = 1, .kind = "note", .title = "from the holder"};
	struct pane_err err = {0};
	assert_int_equal(pane_pipeline_write_events(p, &e, 1, &err), 0);
	assert_int_equal(atomic_load(&primary.events), 1);

	struct producer pr = {.p = p};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, produce, &pr), 0);
	nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	/* still at the gate: nothing of the producer's has reached a sink */
	assert_int_equal(atomic_load(&pr.returned), 0);
	assert_int_equal(atomic_load(&primary.events), 1);

	pane_pipeline_add_sink(p, (struct pane_sink){&ev_ops, &late}, 0);
	pane_pipeline_open(p);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(atomic_load(&pr.returned), 1);
	assert_int_equal(atomic_load(&primary.events), 2);
	assert_int_equal(atomic_load(&late.events), 1); /* attached after the producer started, saw its record */

	/* open: writes pass at once, from any thread */
	assert_int_equal(pthread_create(&th, NULL, produce, &pr), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(atomic_load(&late.events), 2);
	pane_pipeline_free(p);
}

static void never_held_is_open(void **state)
{
	(void)state;
	struct esink s = {0};
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, (struct pane_sink){&ev_ops, &s}, PANE_SINK_PRIMARY);
	struct producer pr = {.p = p};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, produce, &pr), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(atomic_load(&s.events), 1);
	pane_pipeline_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(late_sink_sees_first_record),
	    cmocka_unit_test(never_held_is_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
