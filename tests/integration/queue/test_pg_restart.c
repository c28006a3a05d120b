/* test_pg_restart.c - PostgreSQL restarts under a running worker: it
 * reconnects with backoff and every job still ends completed exactly once.
 * Restarts the test cluster (scripts/pg.sh stop/start on PANE_PG_DIR and
 * PANE_PG_PORT), so it runs alone (is_parallel: false) and always leaves the
 * server running. */
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

static char pgsh[512];

static int pg(const char *verb)
{
	const char *dir = getenv("PANE_PG_DIR"), *port = getenv("PANE_PG_PORT");
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s %s '%s' %s >/dev/null", pgsh, verb, dir, strcmp(verb, "start") == 0 ? port : "");
	return system(cmd);
}

static int ensure_running(void **state)
{
	if (pg("status") != 0)
		return pg("start") == 0 ? 0 : -1;
	return 0;
}

static void worker_survives_restart(void **state)
{
	const char *root = getenv("PANE_SOURCE_ROOT");
	if (!getenv("PANE_PG_DIR") || !getenv("PANE_PG_PORT") || !root)
		skip();
	snprintf(pgsh, sizeof pgsh, "%s/scripts/pg.sh", root);
	char *url = qt_db("queue_pg_restart");
	PGconn *c = qt_connect(url);
	qt_num(c, "SELECT count(*) FROM pane.enqueue_many((SELECT jsonb_agg(jsonb_build_object('queue', 'r', 'payload',"
	          " jsonb_build_object('g', g))) FROM generate_series(1, 300) g))");
	char log[] = "/tmp/pane-qt-restart-XXXXXX";
	int fd = mkstemp(log);
	assert_true(fd >= 0);
	close(fd);
	pid_t w =
	    qt_worker(url, log, "--queues", "r", "--concurrency", "5", "--builtin", "sleep:25", "--lease", "20s", NULL);
	assert_true(qt_wait(c, "t", 20000, "SELECT count(*) >= 20 FROM pane.jobs_history"));
	assert_int_equal(pg("stop"), 0);
	qt_sleep_ms(700);
	assert_int_equal(pg("start"), 0);
	PQreset(c);
	assert_true(qt_wait(c, "300", 60000, "SELECT count(*) FROM pane.jobs_history WHERE state = 'completed'"));
	kill(w, SIGTERM);
	assert_int_equal(qt_wait_exit(w), 0);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs"), 0);
	assert_int_equal(qt_num(c, "SELECT count(DISTINCT payload->>'g') FROM pane.jobs_history"), 300);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "grep -q 'reconnected to PostgreSQL' %s", log);
	assert_int_equal(system(cmd), 0);
	unlink(log);
	PQfinish(c);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(worker_survives_restart, ensure_running),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
