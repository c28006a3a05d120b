/* test_crash.c - acknowledged writes survive SIGKILL.
 *
 * A child process opens a store and ingests batches as fast as it can,
 * reporting each acknowledged batch number on a pipe; the parent kills it
 * with SIGKILL mid-stream, reopens the directory and checks that every
 * sample of every acknowledged batch is there, bit for bit, and that nothing
 * appears that was never written. Two rounds: the default fsync policy, and
 * per-batch fsync with a tiny WAL limit so the kill lands during frequent
 * WAL checkpoints and segment writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

#define T0 1700000000000LL
#define NSER 20
#define PER 10 /* samples per series per batch */
#define STEP 30000LL

static double value_of(int series, int64_t k)
{
	if (k % 113 == 7)
		return pane_stale_nan();
	return series % 2 ? (double)(k * 17 + series) : (double)(k % 1000) / 8.0 + series;
}

static void child(const char *dir, int wfd, int round)
{
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.dir = dir;
	o.retention_ms = 0;
	if (round == 1) {
		o.fsync = PANE_FSYNC_BATCH;
		o.wal_max_bytes = 64 << 10;
	}
	struct pane_err err = {0};
	struct pane_store *st = pane_store_open(&o, &err);
	if (!st) {
		fprintf(stderr, "child open: %s\n", err.msg);
		_exit(3);
	}
	char inst[NSER][8];
	struct pane_label lab[NSER][2];
	struct pane_labels ls[NSER];
	for (int s = 0; s < NSER; s++) {
		snprintf(inst[s], sizeof inst[s], "i%d", s);
		lab[s][0] = (struct pane_label){"instance", inst[s]};
		lab[s][1] = (struct pane_label){"job", s < 10 ? "node" : "pg"};
		ls[s] = (struct pane_labels){lab[s], 2, 2, false};
	}
	struct pane_sample batch[NSER * PER];
	for (int32_t b = 0;; b++) {
		size_t n = 0;
		for (int j = 0; j < PER; j++)
			for (int s = 0; s < NSER; s++) {
				int64_t k = (int64_t)b * PER + j;
				batch[n++] = (struct pane_sample){s % 3 ? "m_total" : "g", &ls[s], T0 + k * STEP,
				                                  value_of(s, k)};
			}
		size_t acc;
		if (pane_store_write(st, batch, n, &acc, &err) < 0 || acc != n) {
			fprintf(stderr, "child write: %s\n", err.msg);
			_exit(4);
		}
		if (write(wfd, &b, sizeof b) != sizeof b)
			_exit(5);
	}
}

static int atoi_safe(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

static void verify(const char *dir, int32_t acked)
{
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.dir = dir;
	o.retention_ms = 0;
	struct pane_err err = {0};
	struct pane_store *st = pane_store_open(&o, &err);
	if (!st)
		fail_msg("reopen: %s", err.msg);
	struct pane_reader r = pane_store_reader(st);
	struct pane_series_set *set = NULL;
	assert_int_equal(r.ops->select(r.ctx, NULL, 0, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, NSER);
	int64_t want = (int64_t)(acked + 1) * PER;
	for (size_t i = 0; i < set->n; i++) {
		struct pane_series *s = &set->series[i];
		const char *inst = NULL;
		for (size_t j = 0; j < s->labels.n; j++)
			if (strcmp(s->labels.v[j].name, "instance") == 0)
				inst = s->labels.v[j].value;
		assert_non_null(inst);
		int sid = atoi_safe(inst + 1);
		/* every acknowledged sample, then at most the one batch in flight */
		if ((int64_t)s->n < want)
			fail_msg("series %s: %zu samples, %lld acknowledged", inst, s->n, (long long)want);
		assert_true((int64_t)s->n <= want + PER);
		for (size_t k = 0; k < s->n; k++) {
			assert_true(s->ts[k] == T0 + (int64_t)k * STEP);
			double w = value_of(sid, (int64_t)k);
			assert_memory_equal(&s->values[k], &w, 8);
		}
	}
	set->free(set);
	pane_store_close(st);
}

static void kill_and_check(int round)
{
	char dir[] = "/tmp/pane-crash.XXXXXX";
	assert_non_null(mkdtemp(dir));
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child(dir, p[1], round);
	}
	close(p[1]);
	int32_t b = -1, acked = -1;
	/* let it run past several segment writes and a day boundary, then kill */
	while (read(p[0], &b, sizeof b) == sizeof b) {
		acked = b;
		if (acked >= 400)
			break;
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	while (read(p[0], &b, sizeof b) == sizeof b)
		acked = b; /* acknowledgements already in the pipe count too */
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(p[0]);
	assert_true(acked >= 400);
	verify(dir, acked);
	verify(dir, acked); /* and again after a clean close of the recovered store */
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void sigkill_default_policy(void **state)
{
	(void)state;
	kill_and_check(0);
}

static void sigkill_during_checkpoints(void **state)
{
	(void)state;
	kill_and_check(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sigkill_default_policy),
	    cmocka_unit_test(sigkill_during_checkpoints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
