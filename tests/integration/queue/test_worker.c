/* test_worker.c - `pane worker` end to end against the real PostgreSQL:
 * the exec handler's contract (stdin, environment, result, error), retries
 * to failed and a re-drive, per-job timeout killing the process group,
 * cancelling a running job, pause with --drain, graceful SIGTERM (finish in
 * the grace period, give back the rest), the worker registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qt.h"

static char tmpdir[64];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pane-qt-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void exec_handler_contract(void **state)
{
	char *url = qt_db("queue_w_exec");
	PGconn *c = qt_connect(url);
	long long ok = qt_num(c, "SELECT pane.enqueue('e', '{\"n\": 41}')");
	long long bad = qt_num(c, "SELECT pane.enqueue('e', '{\"n\": -1}', max_attempts => 2)");
	/* the handler: reads the job JSON, answers n+1 from the environment; n < 0 fails */
	const char *cmd =
		"job=$(cat); case \"$job\" in *'\"n\": -1'*) echo \"bad n for $PANE_JOB_ID\" >&2; exit 3;; esac; "
		"echo \"{\\\"id\\\": $PANE_JOB_ID, \\\"queue\\\": \\\"$PANE_QUEUE\\\", \\\"attempt\\\": $PANE_ATTEMPT}\"";
	pid_t w = qt_worker(url, NULL, "--queues", "e", "--exec", cmd, "--backoff-base", "50ms", "--drain", NULL);
	assert_int_equal(qt_wait_exit(w), 0);
	/* the drain may end while the retry waits for its backoff: run again until it is done */
	for (int i = 0; i < 40 && qt_num(c, "SELECT count(*) FROM pane.jobs") > 0; i++) {
		qt_sleep_ms(100);
		w = qt_worker(url, NULL, "--queues", "e", "--exec", cmd, "--backoff-base", "50ms", "--drain", NULL);
		assert_int_equal(qt_wait_exit(w), 0);
	}
	char *s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->'result')::text", ok, ok);
	char want[160];
	snprintf(want, sizeof want, "completed {\"id\": %lld, \"queue\": \"e\", \"attempt\": 1}", ok);
	assert_string_equal(s, want);
	free(s);
	s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || jsonb_array_length(pane.job(%lld)->'errors') || ' ' || "
		      "(pane.job(%lld)->'errors'->1->>'error')", bad, bad, bad);
	snprintf(want, sizeof want, "failed 2 exit status 3: bad n for %lld\n", bad);
	assert_string_equal(s, want);
	free(s);
	/* re-drive the failed job with a handler that succeeds */
	char *out = NULL;
	char idtxt[32];
	snprintf(idtxt, sizeof idtxt, "%lld", bad);
	assert_int_equal(qt_pane(url, &out, "jobs", "retry", idtxt, NULL), 0);
	assert_non_null(strstr(out, "available"));
	free(out);
	w = qt_worker(url, NULL, "--queues", "e", "--exec", "cat >/dev/null", "--drain", NULL);
	assert_int_equal(qt_wait_exit(w), 0);
	s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->>'attempt')", bad, bad);
	assert_string_equal(s, "completed 3");
	free(s);
	PQfinish(c);
	free(url);
}

static bool pid_alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

static long read_pid(const char *path)
{
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(path, "r");
		long pid = 0;
		if (f) {
			if (fscanf(f, "%ld", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (pid > 0)
			return pid;
		qt_sleep_ms(50);
	}
	fail_msg("no pid in %s", path);
	return 0;
}

static void timeout_kills_process_group(void **state)
{
	char *url = qt_db("queue_w_timeout");
	PGconn *c = qt_connect(url);
	long long id = qt_num(c, "SELECT pane.enqueue('t', timeout => interval '300 ms', max_attempts => 1)");
	char cmd[256], pidf[128];
	snprintf(pidf, sizeof pidf, "%s/grandchild.pid", tmpdir);
	/* the handler starts a grandchild in its process group, then hangs */
	snprintf(cmd, sizeof cmd, "sleep 60 & echo $! > %s; wait", pidf);
	pid_t w = qt_worker(url, NULL, "--queues", "t", "--exec", cmd, "--drain", NULL);
	assert_int_equal(qt_wait_exit(w), 0);
	char *s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->'errors'->0->>'error')", id, id);
	assert_non_null(strstr(s, "failed timed out after 300 ms"));
	free(s);
	long gc = read_pid(pidf);
	bool gone = false;
	for (int i = 0; i < 100 && !gone; i++) {
		gone = !pid_alive(gc);
		qt_sleep_ms(20);
	}
	assert_true(gone);
	PQfinish(c);
	free(url);
}

static void cancel_running_job(void **state)
{
	char *url = qt_db("queue_w_cancel");
	PGconn *c = qt_connect(url);
	long long id = qt_num(c, "SELECT pane.enqueue('c')");
	char cmd[256], pidf[128], log[128];
	snprintf(pidf, sizeof pidf, "%s/cancel.pid", tmpdir);
	snprintf(log, sizeof log, "%s/cancel.log", tmpdir);
	snprintf(cmd, sizeof cmd, "echo $$ > %s; sleep 60", pidf);
	pid_t w = qt_worker(url, log, "--queues", "c", "--exec", cmd, NULL);
	assert_true(qt_wait(c, "running", 10000, "SELECT pane.job(%lld)->>'state'", id));
	long hp = read_pid(pidf);
	assert_true(pid_alive(hp));
	char idtxt[32], *out = NULL;
	snprintf(idtxt, sizeof idtxt, "%lld", id);
	assert_int_equal(qt_pane(url, &out, "jobs", "cancel", idtxt, NULL), 0);
	assert_non_null(strstr(out, "cancelled"));
	free(out);
	bool gone = false;
	for (int i = 0; i < 200 && !gone; i++) {
		gone = !pid_alive(hp);
		qt_sleep_ms(25);
	}
	assert_true(gone);
	char *s = qt_val(c, "SELECT pane.job(%lld)->>'state'", id);
	assert_string_equal(s, "cancelled");
	free(s);
	/* the worker keeps going */
	long long id2 = qt_num(c, "SELECT pane.enqueue('c', '{}')");
	assert_true(qt_wait(c, "running", 10000, "SELECT pane.job(%lld)->>'state'", id2));
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.workers"), 1);
	assert_int_equal(kill(w, SIGTERM), 0);
	assert_int_equal(qt_wait_exit(w), 0);
	PQfinish(c);
	free(url);
}

static void pause_and_drain(void **state)
{
	char *url = qt_db("queue_w_pause");
	PGconn *c = qt_connect(url);
	qt_val(c, "SELECT pane.pause_queue('p')");
	long long id = qt_num(c, "SELECT pane.enqueue('p')");
	pid_t w = qt_worker(url, NULL, "--queues", "p", "--builtin", "noop", "--drain", NULL);
	assert_int_equal(qt_wait_exit(w), 0);
	char *s = qt_val(c, "SELECT pane.job(%lld)->>'state'", id);
	assert_string_equal(s, "available");
	free(s);
	char *out = NULL;
	assert_int_equal(qt_pane(url, &out, "jobs", "resume", "p", NULL), 0);
	free(out);
	w = qt_worker(url, NULL, "--queues", "p", "--builtin", "noop", "--drain", NULL);
	assert_int_equal(qt_wait_exit(w), 0);
	s = qt_val(c, "SELECT pane.job(%lld)->>'state'", id);
	assert_string_equal(s, "completed");
	free(s);
	PQfinish(c);
	free(url);
}

static void graceful_sigterm(void **state)
{
	char *url = qt_db("queue_w_sigterm");
	PGconn *c = qt_connect(url);
	long long quick = qt_num(c, "SELECT pane.enqueue('g', '{\"s\": 0.4}')");
	long long slow = qt_num(c, "SELECT pane.enqueue('g', '{\"s\": 60}')");
	const char *cmd = "case \"$(cat)\" in *0.4*) sleep 0.4;; *) sleep 60;; esac";
	pid_t w = qt_worker(url, NULL, "--queues", "g", "--concurrency", "2", "--exec", cmd, "--grace", "1500ms", NULL);
	assert_true(qt_wait(c, "2", 10000, "SELECT count(*) FROM pane.jobs WHERE state = 'running'"));
	assert_true(qt_wait(c, "1", 10000, "SELECT count(*) FROM pane.workers"));
	assert_int_equal(kill(w, SIGTERM), 0);
	assert_int_equal(qt_wait_exit(w), 0);
	char *s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->>'state') || ' ' || "
			      "(pane.job(%lld)->>'attempt')", quick, slow, slow);
	/* the quick one finished in the grace period; the slow one was given back unused */
	assert_string_equal(s, "completed available 0");
	free(s);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.workers"), 0);
	PQfinish(c);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exec_handler_contract),
		cmocka_unit_test(timeout_kills_process_group),
		cmocka_unit_test(cancel_running_job),
		cmocka_unit_test(pause_and_drain),
		cmocka_unit_test(graceful_sigterm),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
