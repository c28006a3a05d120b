/* test_fleet.c - several workers at once against the real PostgreSQL:
 * a global concurrency limit holds across workers, a cron schedule runs
 * once per tick with two workers, `kill -9` of a worker mid-job gets the job
 * rescued after its lease and completed exactly once, and every job of a
 * shared queue is completed exactly once by a fleet of workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qt.h"

static void global_concurrency_across_workers(void **state)
{
	char *url = qt_db("queue_f_limit");
	PGconn *c = qt_connect(url);
	free(qt_val(c, "SELECT pane.set_queue_limits('g', concurrency => 2)"));
	qt_num(c, "SELECT count(*) FROM pane.enqueue_many((SELECT jsonb_agg(jsonb_build_object('queue', 'g')) FROM "
	          "generate_series(1, 12)))");
	pid_t w[3];
	for (int i = 0; i < 3; i++)
		w[i] = qt_worker(url, NULL, "--queues", "g", "--concurrency", "4", "--builtin", "sleep:150",
		                 "--poll-interval", "50ms", NULL);
	long long max_running = 0;
	for (int i = 0; i < 1200; i++) {
		long long r = qt_num(c, "SELECT count(*) FROM pane.jobs WHERE state = 'running'");
		if (r > max_running)
			max_running = r;
		if (qt_num(c, "SELECT count(*) FROM pane.jobs_history WHERE state = 'completed'") == 12)
			break;
		qt_sleep_ms(10);
	}
	for (int i = 0; i < 3; i++) {
		kill(w[i], SIGTERM);
		assert_int_equal(qt_wait_exit(w[i]), 0);
	}
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs_history WHERE state = 'completed'"), 12);
	assert_true(max_running >= 1);
	assert_true(max_running <= 2);
	PQfinish(c);
	free(url);
}

static void cron_runs_once_per_tick(void **state)
{
	char *url = qt_db("queue_f_cron");
	PGconn *c = qt_connect(url);
	/* every second (6-field form) */
	free(qt_val(c, "SELECT pane.set_schedule('tick', '* * * * * *', 'cron', '{\"from\": \"cron\"}')"));
	pid_t a = qt_worker(url, NULL, "--queues", "cron", "--builtin", "noop", NULL);
	pid_t b = qt_worker(url, NULL, "--queues", "cron", "--builtin", "noop", NULL);
	assert_true(
	    qt_wait(c, "t", 20000, "SELECT count(*) >= 4 FROM pane.jobs_history WHERE unique_key LIKE 'cron:tick:%%'"));
	kill(a, SIGTERM);
	kill(b, SIGTERM);
	assert_int_equal(qt_wait_exit(a), 0);
	assert_int_equal(qt_wait_exit(b), 0);
	/* one job per tick: keys are distinct across active and finished jobs */
	long long total = qt_num(c, "SELECT count(*) FROM (SELECT unique_key FROM pane.jobs UNION ALL SELECT "
	                            "unique_key FROM pane.jobs_history) k");
	long long distinct_ticks = qt_num(c, "SELECT count(DISTINCT unique_key) FROM (SELECT unique_key FROM pane.jobs "
	                                     "UNION ALL SELECT unique_key FROM pane.jobs_history) k");
	assert_true(total >= 4);
	assert_int_equal(total, distinct_ticks);
	char *s = qt_val(c, "SELECT payload->>'from' FROM pane.jobs_history LIMIT 1");
	assert_string_equal(s, "cron");
	free(s);
	/* a bad expression disables the schedule instead of looping */
	free(qt_val(c, "SELECT pane.set_schedule('broken', '61 * * * *', 'cron')"));
	pid_t w = qt_worker(url, NULL, "--queues", "cron", "--builtin", "noop", NULL);
	assert_true(qt_wait(c, "f", 10000, "SELECT enabled::text::char FROM pane.schedules WHERE name = 'broken'"));
	kill(w, SIGTERM);
	assert_int_equal(qt_wait_exit(w), 0);
	PQfinish(c);
	free(url);
}

static void kill9_job_rescued_exactly_once(void **state)
{
	char *url = qt_db("queue_f_kill9");
	PGconn *c = qt_connect(url);
	char dir[] = "/tmp/pane-qt-k9-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[512];
	/* attempt 1 hangs (the worker dies under it); later attempts count a run and succeed */
	snprintf(cmd, sizeof cmd,
	         "echo \"$PANE_ATTEMPT\" >> %s/runs; if [ \"$PANE_ATTEMPT\" = 1 ]; then sleep 3; exit 1; fi; echo "
	         "'{\"done\": true}'",
	         dir);
	long long id = qt_num(c, "SELECT pane.enqueue('k')");
	pid_t a = qt_worker(url, NULL, "--queues", "k", "--exec", cmd, "--lease", "1s", NULL);
	assert_true(qt_wait(c, "running", 10000, "SELECT pane.job(%lld)->>'state'", id));
	char runs[128];
	snprintf(runs, sizeof runs, "%s/runs", dir);
	for (int i = 0; i < 200 && access(runs, F_OK) != 0; i++)
		qt_sleep_ms(25);
	assert_int_equal(kill(a, SIGKILL), 0);
	assert_int_equal(qt_wait_exit(a), 128 + SIGKILL);
	pid_t b = qt_worker(url, NULL, "--queues", "k", "--exec", cmd, "--lease", "1s", "--backoff-base", "50ms", NULL);
	assert_true(qt_wait(c, "completed", 30000, "SELECT pane.job(%lld)->>'state'", id));
	kill(b, SIGTERM);
	assert_int_equal(qt_wait_exit(b), 0);
	char *s =
	    qt_val(c,
	           "SELECT (pane.job(%lld)->>'attempt') || ' ' || (pane.job(%lld)->'errors'->0->>'error') || ' ' || "
	           "(pane.job(%lld)->>'result')",
	           id, id, id);
	assert_non_null(strstr(s, "2 lease expired: worker "));
	assert_non_null(strstr(s, "{\"done\": true}"));
	free(s);
	assert_int_equal(
	    qt_num(c, "SELECT count(*) FROM pane.jobs_history WHERE id = %lld AND state = 'completed'", id), 1);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs WHERE id = %lld", id), 0);
	FILE *f = fopen(runs, "r");
	assert_non_null(f);
	char buf[64] = {0};
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	assert_string_equal(buf, "1\n2\n");
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	PQfinish(c);
	free(url);
}

static void fleet_completes_each_job_once(void **state)
{
	char *url = qt_db("queue_f_fleet");
	PGconn *c = qt_connect(url);
	qt_num(c, "SELECT count(*) FROM pane.enqueue_many((SELECT jsonb_agg(jsonb_build_object('queue', CASE WHEN g %% "
	          "2 = 0 THEN 'a' ELSE 'b' END,"
	          " 'payload', jsonb_build_object('g', g))) FROM generate_series(1, 3000) g))");
	pid_t w[3];
	for (int i = 0; i < 3; i++)
		w[i] = qt_worker(url, NULL, "--queues", "a,b", "--concurrency", "50", "--builtin", "noop", "--drain",
		                 NULL);
	for (int i = 0; i < 3; i++)
		assert_int_equal(qt_wait_exit(w[i]), 0);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs"), 0);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs_history WHERE state = 'completed' AND attempt = 1"),
	                 3000);
	assert_int_equal(qt_num(c, "SELECT count(DISTINCT payload->>'g') FROM pane.jobs_history"), 3000);
	PQfinish(c);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(global_concurrency_across_workers),
	    cmocka_unit_test(cron_runs_once_per_tick),
	    cmocka_unit_test(kill9_job_rescued_exactly_once),
	    cmocka_unit_test(fleet_completes_each_job_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
