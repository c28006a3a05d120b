/* test_worker.c - `pane worker` end to end against the real PostgreSQL:
 * the exec handler's contract (stdin, environment, result, error), retries
 * to failed and a re-drive, per-job timeout killing the process group,
 * cancelling a running job, pause with --drain, graceful SIGTERM (finish in
 * the grace period, give back the rest), the worker registry, a higher
 * priority enqueued during a drain running next. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qt.h"
#include "support.h"

static char tmpdir[64];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pane-qt-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	qt_kill_workers();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A job enqueued with a higher priority while a backlog drains runs next,
 * although the worker's claims start after the last job they took (006):
 * the insert's NOTIFY makes the next claim look from the head again. The
 * first job holds its slot until the test opens a gate, so the enqueue
 * lands while it runs however slow the machine; the gate opens half a
 * second after the enqueue's commit, which leaves the NOTIFY that long to
 * reach the worker before its next claim. */
static void priority_enqueued_during_a_drain(void **state)
{
	char *url = qt_db("queue_w_priority");
	PGconn *c = qt_connect(url);
	qt_num(c, "SELECT count(*) FROM pane.enqueue_many((SELECT jsonb_agg(jsonb_build_object('queue', 'p'))"
	          " FROM generate_series(1, 4)))");
	char gate[128], cmd[256];
	snprintf(gate, sizeof gate, "%s/priority-gate", tmpdir);
	snprintf(cmd, sizeof cmd, "cat >/dev/null; while [ ! -e %s ]; do sleep 0.02; done", gate);
	pid_t w = qt_worker(url, NULL, "--queues", "p", "--concurrency", "1", "--exec", cmd, "--drain", NULL);
	assert_true(qt_wait(c, "1", 20000, "SELECT count(*) FROM pane.jobs WHERE queue = 'p' AND state = 'running'"));
	long long hi = qt_num(c, "SELECT pane.enqueue('p', priority => 10)");
	qt_sleep_ms(500);
	FILE *f = fopen(gate, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(qt_wait_exit(w), 0);
	/* only the job that was running when it arrived started before it */
	assert_int_equal(qt_num(c,
	                        "SELECT count(*) FROM pane.jobs_history WHERE queue = 'p' AND started_at <"
	                        " (SELECT started_at FROM pane.jobs_history WHERE id = %lld)",
	                        hi),
	                 1);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs_history WHERE queue = 'p' AND state = 'completed'"),
	                 5);
	PQfinish(c);
	free(url);
}

static void exec_handler_contract(void **state)
{
	char *url = qt_db("queue_w_exec");
	PGconn *c = qt_connect(url);
	long long ok = qt_num(c, "SELECT pane.enqueue('e', '{\"n\": 41}')");
	long long bad = qt_num(c, "SELECT pane.enqueue('e', '{\"n\": -1}', max_attempts => 2)");
	long long disc = qt_num(c, "SELECT pane.enqueue('e', '{\"discard\": true}')");
	/* the handler: reads the job JSON, answers n+1 from the environment; n < 0 fails */
	const char *cmd =
	    "job=$(cat); case \"$job\" in *'\"n\": -1'*) echo \"bad n for $PANE_JOB_ID\" >&2; exit 3;; "
	    "*discard*) echo 'cannot ever work' >&2; exit 100;; esac; "
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
	s = qt_val(c,
	           "SELECT (pane.job(%lld)->>'state') || ' ' || jsonb_array_length(pane.job(%lld)->'errors') || ' ' || "
	           "(pane.job(%lld)->'errors'->1->>'error')",
	           bad, bad, bad);
	snprintf(want, sizeof want, "failed 2 exit status 3: bad n for %lld\n", bad);
	assert_string_equal(s, want);
	free(s);
	/* exit 100: failed at once although 25 attempts were allowed */
	s = qt_val(c,
	           "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->>'attempt') || ' ' || "
	           "(pane.job(%lld)->'errors'->0->>'error')",
	           disc, disc, disc);
	assert_string_equal(s, "failed 1 exit status 100 (discarded: no retry): cannot ever work\n");
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
	char *s =
	    qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->'errors'->0->>'error')", id, id);
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

/* Gone or a zombie (reaped by whoever adopted it, or not yet). */
static bool pid_gone(long pid)
{
	char path[64], st[256];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(st, 1, sizeof st - 1, f);
	fclose(f);
	st[n] = 0;
	char *p = strrchr(st, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* A worker killed by SIGKILL (the OOM killer) takes its handler and the
 * handler's process group with it: the job is rescued and runs again
 * elsewhere, so a surviving handler would do its side effects twice. */
static void sigkill_takes_handlers_along(void **state)
{
	char *url = qt_db("queue_w_sigkill");
	PGconn *c = qt_connect(url);
	long long id = qt_num(c, "SELECT pane.enqueue('k')");
	char cmd[320], shf[128], gcf[128];
	snprintf(shf, sizeof shf, "%s/k-sh.pid", tmpdir);
	snprintf(gcf, sizeof gcf, "%s/k-gc.pid", tmpdir);
	snprintf(cmd, sizeof cmd, "sleep 60 & echo $! > %s.tmp; mv %s.tmp %s; echo $$ > %s.tmp; mv %s.tmp %s; wait",
	         gcf, gcf, gcf, shf, shf, shf);
	pid_t w = qt_worker(url, NULL, "--queues", "k", "--exec", cmd, NULL);
	assert_true(qt_wait(c, "running", 10000, "SELECT pane.job(%lld)->>'state'", id));
	long sh = read_pid(shf), gc = read_pid(gcf);
	assert_false(pid_gone(sh));
	assert_false(pid_gone(gc));
	assert_int_equal(kill(w, SIGKILL), 0);
	assert_int_equal(qt_wait_exit(w), 128 + SIGKILL);
	bool gone = false;
	for (int i = 0; i < 400 && !gone; i++) {
		gone = pid_gone(sh) && pid_gone(gc);
		if (!gone)
			qt_sleep_ms(25);
	}
	if (!gone) {
		kill((pid_t)gc, SIGKILL);
		kill((pid_t)sh, SIGKILL);
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
	free(qt_val(c, "SELECT pane.pause_queue('p')"));
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

/* A rate-limited queue has jobs that are runnable but not claimable this
 * instant: --drain waits for the tokens instead of calling it drained. */
static void drain_waits_for_rate_limit(void **state)
{
	char *url = qt_db("queue_w_drain_rate");
	PGconn *c = qt_connect(url);
	free(qt_val(c, "SELECT pane.set_queue_limits('r', rate_limit => 4, rate_period => interval '1 second')"));
	free(qt_val(
	    c, "SELECT count(*) FROM generate_series(1, 10) g, LATERAL pane.enqueue('r', jsonb_build_object('g', g))"));
	pid_t w = qt_worker(url, NULL, "--queues", "r", "--builtin", "noop", "--drain", NULL);
	assert_int_equal(qt_wait_exit(w), 0);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs"), 0);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs_history WHERE state = 'completed'"), 10);
	PQfinish(c);
	free(url);
}

/* A worker whose job was taken from it (rescued, re-claimed) finishes the
 * handler anyway; the database refuses the completion (fencing) and the
 * worker says so in its log and counts it. */
static void fenced_completion_logged(void **state)
{
	char *url = qt_db("queue_w_fenced");
	PGconn *c = qt_connect(url);
	char log[128], gate[128], cmd[256];
	snprintf(log, sizeof log, "%s/fenced.log", tmpdir);
	snprintf(gate, sizeof gate, "%s/fenced.gate", tmpdir);
	/* the handler finishes only when the test opens the gate */
	snprintf(cmd, sizeof cmd, "while [ ! -e %s ]; do sleep 0.05; done", gate);
	long long id = qt_num(c, "SELECT pane.enqueue('f')");
	pid_t w = qt_worker(url, log, "--queues", "f", "--exec", cmd, NULL);
	assert_true(qt_wait(c, "running", 10000, "SELECT pane.job(%lld)->>'state'", id));
	/* another worker got it meanwhile (what a rescue and a new claim do) */
	free(qt_val(c, "UPDATE pane.jobs SET attempt = attempt + 1, locked_by = 'thief' WHERE id = %lld RETURNING id",
	            id));
	FILE *f = fopen(gate, "w");
	assert_non_null(f);
	fclose(f);
	char grep[320];
	snprintf(grep, sizeof grep, "grep -q 'job %lld: completion refused' %s", id, log);
	bool seen = false;
	for (int i = 0; i < 800 && !seen; i++) {
		seen = system(grep) == 0;
		if (!seen)
			qt_sleep_ms(25);
	}
	if (!seen) {
		snprintf(grep, sizeof grep, "cat %s >&2", log);
		assert_int_equal(system(grep), 0);
		kill(w, SIGKILL); /* no stray worker to claim the next run's jobs */
		qt_wait_exit(w);
	}
	assert_true(seen);
	assert_int_equal(kill(w, SIGTERM), 0);
	assert_int_equal(qt_wait_exit(w), 0);
	snprintf(grep, sizeof grep, "grep -q 'stopped: .*lost_leases=1' %s", log);
	assert_int_equal(system(grep), 0);
	/* the thief's claim is untouched */
	char *s = qt_val(
	    c, "SELECT (pane.job(%lld)->>'state') || ' ' || (SELECT locked_by FROM pane.jobs WHERE id = %lld)", id, id);
	assert_string_equal(s, "running thief");
	free(s);
	PQfinish(c);
	free(url);
}

/* --prefetch claims ahead up to a bound, holds those leases while the jobs
 * wait, and gives them back unused (attempt not spent) on SIGTERM. */
static void prefetch_bounded_and_released(void **state)
{
	char *url = qt_db("queue_w_prefetch");
	PGconn *c = qt_connect(url);
	free(qt_val(
	    c, "SELECT count(*) FROM generate_series(1, 6) g, LATERAL pane.enqueue('pf', jsonb_build_object('g', g))"));
	char log[128], gate[128], cmd[256];
	snprintf(log, sizeof log, "%s/prefetch.log", tmpdir);
	snprintf(gate, sizeof gate, "%s/prefetch.gate", tmpdir);
	snprintf(cmd, sizeof cmd, "while [ ! -e %s ]; do sleep 0.05; done", gate);
	pid_t w = qt_worker(url, log, "--queues", "pf", "--concurrency", "1", "--prefetch", "3", "--exec", cmd,
	                    "--grace", "200ms", "--lease", "3s", NULL);
	/* one running, three claimed ahead: four leases, never five */
	assert_true(qt_wait(c, "4", 10000, "SELECT count(*) FROM pane.jobs WHERE state = 'running'"));
	/* the leases of the waiting jobs are renewed (heartbeat every second) */
	long long first = qt_num(c, "SELECT max(extract(epoch FROM lease_expires_at) * 1000)::bigint FROM pane.jobs"
	                            " WHERE state = 'running'");
	assert_true(qt_wait(c, "4", 10000,
	                    "SELECT count(*) FROM pane.jobs WHERE state = 'running' AND"
	                    " extract(epoch FROM lease_expires_at) * 1000 > %lld",
	                    first));
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs WHERE state = 'running'"), 4);
	assert_int_equal(kill(w, SIGTERM), 0);
	assert_int_equal(qt_wait_exit(w), 0);
	/* all six back, none with an attempt spent */
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs WHERE state = 'available' AND attempt = 0"), 6);
	char grep[320];
	snprintf(grep, sizeof grep, "grep -q 'gave back 3 claimed-ahead' %s", log);
	assert_int_equal(system(grep), 0);
	/* and they run to completion once the handler may finish */
	FILE *f = fopen(gate, "w");
	assert_non_null(f);
	fclose(f);
	w = qt_worker(url, NULL, "--queues", "pf", "--concurrency", "2", "--prefetch", "2", "--exec", cmd, "--drain",
	              NULL);
	assert_int_equal(qt_wait_exit(w), 0);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs_history WHERE state = 'completed'"), 6);
	PQfinish(c);
	free(url);
}

static void poll_only_mode(void **state)
{
	char *url = qt_db("queue_w_pollonly");
	PGconn *c = qt_connect(url);
	char log[128];
	snprintf(log, sizeof log, "%s/pollonly.log", tmpdir);
	pid_t w =
	    qt_worker(url, log, "--queues", "po", "--poll-only", "--poll-interval", "100ms", "--builtin", "noop", NULL);
	assert_true(qt_wait(c, "1", 10000, "SELECT count(*) FROM pane.workers"));
	char cmd[256];
	snprintf(cmd, sizeof cmd, "grep -q 'poll-only' %s", log);
	assert_int_equal(system(cmd), 0);
	long long id = qt_num(c, "SELECT pane.enqueue('po', '{}', run_at => now() + interval '300 ms')");
	assert_true(qt_wait(c, "completed", 10000, "SELECT pane.job(%lld)->>'state'", id));
	kill(w, SIGTERM);
	assert_int_equal(qt_wait_exit(w), 0);
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
	char *s = qt_val(c,
	                 "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->>'state') || ' ' || "
	                 "(pane.job(%lld)->>'attempt')",
	                 quick, slow, slow);
	/* the quick one finished in the grace period; the slow one was given back unused */
	assert_string_equal(s, "completed available 0");
	free(s);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.workers"), 0);
	PQfinish(c);
	free(url);
}

/* A one-purpose HTTP peer: answers POSTs whose body mentions "fail" with
 * 500, others with 200 and a JSON body that echoes the job id; counts them. */
struct peer {
	int fd;
	int served;
	char last_body[512];
	char last_auth[256];
	char last_tenant[64];
};

/* The value of header name (with ": ") in the request head buf, into out. */
static void header_value(const char *buf, const char *name, char *out, size_t cap)
{
	out[0] = 0;
	const char *h = strcasestr(buf, name);
	if (!h)
		return;
	h += strlen(name);
	size_t n = strcspn(h, "\r\n");
	snprintf(out, cap, "%.*s", (int)n, h);
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	for (;;) {
		int c = accept(p->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		char buf[8192];
		size_t len = 0;
		ssize_t n;
		long want = -1;
		while (len < sizeof buf - 1 && (n = read(c, buf + len, sizeof buf - 1 - len)) > 0) {
			len += (size_t)n;
			buf[len] = 0;
			char *hdr_end = strstr(buf, "\r\n\r\n");
			if (hdr_end && want < 0) {
				char *cl = strcasestr(buf, "content-length:");
				want = cl ? strtol(cl + 15, NULL, 10) : 0;
			}
			if (hdr_end && (long)(len - (size_t)(hdr_end + 4 - buf)) >= want)
				break;
		}
		char *body = strstr(buf, "\r\n\r\n");
		body = body ? body + 4 : buf;
		snprintf(p->last_body, sizeof p->last_body, "%s", body);
		header_value(buf, "\r\nAuthorization: ", p->last_auth, sizeof p->last_auth);
		header_value(buf, "\r\nX-Tenant: ", p->last_tenant, sizeof p->last_tenant);
		if (strstr(body, "slow")) {
			/* never answer: wait until the worker gives up and closes */
			while (read(c, buf, sizeof buf) > 0)
				;
			close(c);
			__atomic_add_fetch(&p->served, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		char resp[1024];
		if (strstr(body, "never"))
			snprintf(
			    resp, sizeof resp,
			    "HTTP/1.1 422 Unprocessable Entity\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad");
		else if (strstr(body, "fail"))
			snprintf(
			    resp, sizeof resp,
			    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope");
		else
			snprintf(resp, sizeof resp,
			         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
			         "Connection: close\r\n\r\n{\"handled\": 42}");
		if (write(c, resp, strlen(resp)) < 0) {
			/* the worker will see a transport error */
		}
		close(c);
		__atomic_add_fetch(&p->served, 1, __ATOMIC_SEQ_CST);
	}
}

static void http_handler(void **state)
{
	char *url = qt_db("queue_w_http");
	PGconn *c = qt_connect(url);
	struct peer p = {0};
	p.fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	assert_int_equal(bind(p.fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(p.fd, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(listen(p.fd, 16), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, peer_main, &p), 0);
	long long ok = qt_num(c, "SELECT pane.enqueue('h', '{\"image\": \"cat.jpg\"}')");
	long long bad = qt_num(c, "SELECT pane.enqueue('h', '{\"please\": \"fail\"}', max_attempts => 1)");
	long long never = qt_num(c, "SELECT pane.enqueue('h', '{\"never\": 1}')");
	char hu[64];
	snprintf(hu, sizeof hu, "http://127.0.0.1:%d/jobs", ntohs(a.sin_port));
	pid_t w = qt_worker(url, NULL, "--queues", "h", "--concurrency", "1", "--http", hu, "--drain", NULL);
	assert_int_equal(qt_wait_exit(w), 0);
	char *s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->>'result')", ok, ok);
	assert_string_equal(s, "completed {\"handled\": 42}");
	free(s);
	s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->'errors'->0->>'error')", bad, bad);
	assert_non_null(strstr(s, "failed POST http://127.0.0.1:"));
	assert_non_null(strstr(s, "HTTP 500: nope"));
	free(s);
	s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->>'attempt')", never, never);
	assert_string_equal(s, "failed 1");
	free(s);
	assert_int_equal(__atomic_load_n(&p.served, __ATOMIC_SEQ_CST), 3);
	/* the body is the job JSON (the last request was the 422 one) */
	assert_non_null(strstr(p.last_body, "\"queue\":\"h\""));
	assert_non_null(strstr(p.last_body, "\"attempt\":1"));
	shutdown(p.fd, SHUT_RDWR);
	close(p.fd);
	pthread_join(th, NULL);
	PQfinish(c);
	free(url);
}

static const char tls_server_py[] = "import http.server, ssl, sys\n"
                                    "class H(http.server.BaseHTTPRequestHandler):\n"
                                    "    def do_POST(self):\n"
                                    "        self.rfile.read(int(self.headers.get('Content-Length', 0)))\n"
                                    "        b = b'{\"tls\": true}'\n"
                                    "        self.send_response(200)\n"
                                    "        self.send_header('Content-Type', 'application/json')\n"
                                    "        self.send_header('Content-Length', str(len(b)))\n"
                                    "        self.end_headers()\n"
                                    "        self.wfile.write(b)\n"
                                    "    def log_message(self, *a):\n"
                                    "        pass\n"
                                    "s = http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H)\n"
                                    "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
                                    "c.load_cert_chain(sys.argv[2], sys.argv[3])\n"
                                    "s.socket = c.wrap_socket(s.socket, server_side=True)\n"
                                    "s.serve_forever()\n";

/* --http with headers from the environment, a per-request time limit, and
 * TLS verified: a self-signed endpoint fails until --http-ca names its
 * certificate. */
static void http_headers_timeout_tls(void **state)
{
	char *url = qt_db("queue_w_http2");
	PGconn *c = qt_connect(url);
	struct peer p = {0};
	p.fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	assert_int_equal(bind(p.fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(p.fd, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(listen(p.fd, 16), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, peer_main, &p), 0);
	long long ok = qt_num(c, "SELECT pane.enqueue('h2', '{\"image\": \"a.jpg\"}')");
	long long slow = qt_num(c, "SELECT pane.enqueue('h2', '{\"slow\": true}', max_attempts => 1)");
	char hu[64];
	snprintf(hu, sizeof hu, "http://127.0.0.1:%d/jobs", ntohs(a.sin_port));
	/* a variable that is not set: refused at start */
	unsetenv("QT_HTTP_TOKEN");
	pid_t w = qt_worker(url, NULL, "--queues", "h2", "--http", hu, "--http-header",
	                    "Authorization: Bearer ${QT_HTTP_TOKEN}", "--drain", NULL);
	assert_int_equal(qt_wait_exit(w), 2);
	setenv("QT_HTTP_TOKEN", "s3cret-token", 1);
	w = qt_worker(url, NULL, "--queues", "h2", "--concurrency", "1", "--http", hu, "--http-header",
	              "Authorization: Bearer ${QT_HTTP_TOKEN}", "--http-header", "X-Tenant: acme", "--http-timeout",
	              "300ms", "--drain", NULL);
	assert_int_equal(qt_wait_exit(w), 0);
	assert_string_equal(p.last_auth, "Bearer s3cret-token");
	assert_string_equal(p.last_tenant, "acme");
	char *s = qt_val(c, "SELECT pane.job(%lld)->>'state'", ok);
	assert_string_equal(s, "completed");
	free(s);
	s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->'errors'->0->>'error')", slow,
	           slow);
	assert_non_null(strstr(s, "failed POST http://127.0.0.1:"));
	assert_non_null(strstr(s, "Timeout"));
	free(s);
	shutdown(p.fd, SHUT_RDWR);
	close(p.fd);
	pthread_join(th, NULL);

	/* TLS: a self-signed certificate for 127.0.0.1 */
	char cmd[1024], cert[128], key[128], py[128], port[16], tu[64];
	snprintf(cert, sizeof cert, "%s/tls-cert.pem", tmpdir);
	snprintf(key, sizeof key, "%s/tls-key.pem", tmpdir);
	snprintf(py, sizeof py, "%s/tls_server.py", tmpdir);
	snprintf(cmd, sizeof cmd,
	         "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 -subj /CN=127.0.0.1"
	         " -addext subjectAltName=IP:127.0.0.1 2>/dev/null",
	         key, cert);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(py, "w");
	assert_non_null(f);
	fputs(tls_server_py, f);
	fclose(f);
	snprintf(port, sizeof port, "%d", pt_free_port());
	char *argv[] = {"/usr/bin/python3", py, port, cert, key, NULL};
	pid_t srv = pt_spawn(argv, NULL);
	snprintf(tu, sizeof tu, "https://127.0.0.1:%s/jobs", port);
	/* wait until it accepts connections */
	bool up = false;
	for (int i = 0; i < 200 && !up; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		                         .sin_port = htons((uint16_t)atoi(port))};
		up = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		close(fd);
		if (!up)
			qt_sleep_ms(50);
	}
	assert_true(up);
	long long t1 = qt_num(c, "SELECT pane.enqueue('tls', max_attempts => 1)");
	w = qt_worker(url, NULL, "--queues", "tls", "--http", tu, "--drain", NULL);
	assert_int_equal(qt_wait_exit(w), 0);
	s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->'errors'->0->>'error')", t1, t1);
	assert_non_null(strstr(s, "failed POST https://127.0.0.1:"));
	assert_non_null(strstr(s, "certificate"));
	free(s);
	long long t2 = qt_num(c, "SELECT pane.enqueue('tls')");
	w = qt_worker(url, NULL, "--queues", "tls", "--http", tu, "--http-ca", cert, "--drain", NULL);
	assert_int_equal(qt_wait_exit(w), 0);
	s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->>'result')", t2, t2);
	assert_string_equal(s, "completed {\"tls\": true}");
	free(s);
	pt_stop(srv, SIGTERM);
	PQfinish(c);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exec_handler_contract),
	    cmocka_unit_test(priority_enqueued_during_a_drain),
	    cmocka_unit_test(timeout_kills_process_group),
	    cmocka_unit_test(sigkill_takes_handlers_along),
	    cmocka_unit_test(cancel_running_job),
	    cmocka_unit_test(pause_and_drain),
	    cmocka_unit_test(drain_waits_for_rate_limit),
	    cmocka_unit_test(fenced_completion_logged),
	    cmocka_unit_test(prefetch_bounded_and_released),
	    cmocka_unit_test(http_headers_timeout_tls),
	    cmocka_unit_test(poll_only_mode),
	    cmocka_unit_test(graceful_sigterm),
	    cmocka_unit_test(http_handler),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
