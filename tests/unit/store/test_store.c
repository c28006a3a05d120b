/* test_store.c - the store end to end in a temporary directory: write, read,
 * reopen, WAL replay with a torn tail, out-of-order window, cardinality
 * guard, retention, logs and events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sqlite3.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "api/logs_api.h"
#include "store/internal.h" /* ps_legacy_days */
#include "store/store.h"

#define T0 1700000000000LL               /* 2023-11-14 22:13:20 UTC, 1.8 h before a window starts */
#define WIN_N ((int)(WINDOW_MS / 15000)) /* 15 s scrapes in a store window (internal.h) */
#define TW 1700006400000LL               /* the start of the window after T0's (and of a day) */
/* scrapes from T0 that cross two window starts, ~5 h into the third window */
#define N_2WIN (WIN_N + 1200)

static char *tmpdir(void)
{
	char *d = strdup("/tmp/pane-store-test.XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static void rmrf(const char *d)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
}

static struct pane_store *open_store(const char *dir, struct pane_store_opts *o)
{
	struct pane_store_opts def;
	if (!o) {
		pane_store_opts_default(&def);
		def.retention_ms = 0;
		o = &def;
	}
	o->dir = dir;
	struct pane_err err = {0};
	struct pane_store *st = pane_store_open(o, &err);
	if (!st)
		fail_msg("open: %s", err.msg);
	return st;
}

/* Runs the store's housekeeping now (frozen heads persisted, WAL checkpointed). */
static void settle(struct pane_store *st)
{
	struct pane_err err = {0};
	if (pane_store_housekeep(st, &err) < 0)
		fail_msg("housekeep: %s", err.msg);
}

/* Writes one sample of metric name with label inst=inst. Returns accepted. */
static size_t put(struct pane_store *st, const char *name, const char *inst, int64_t ts, double v)
{
	struct pane_label l[] = {{"inst", inst}};
	struct pane_labels ls = {l, 1, 1, false};
	struct pane_sample s = {name, &ls, ts, v};
	struct pane_err err = {0};
	size_t acc = 99;
	assert_int_equal(pane_store_write(st, &s, 1, &acc, &err), 0);
	return acc;
}

static double val(int series, int i)
{
	if (i % 97 == 5)
		return pane_stale_nan();
	return series == 0 ? (double)(1000 + i * 3) : series == 1 ? (double)(i % 50) / 4.0 : sin(i) * 1e3;
}

/* write_many's timestamps: every 15 s, or (jitter) one scrape in seven
 * late by 250 ms, so that the timestamp columns are stored (and shared)
 * instead of rebuilt from a segment's range (ps_ts_regular) */
static bool jitter;

static int64_t tsof(int j)
{
	return T0 + j * 15000LL + (jitter && j % 7 == 3 ? 250 : 0);
}

static void write_many(struct pane_store *st, int n)
{
	struct pane_label l[3][1] = {{{"inst", "a"}}, {{"inst", "b"}}, {{"inst", "c"}}};
	struct pane_labels ls[3] = {{l[0], 1, 1, false}, {l[1], 1, 1, false}, {l[2], 1, 1, false}};
	struct pane_sample batch[3 * 50];
	for (int i = 0; i < n; i += 50) {
		size_t k = 0;
		for (int j = i; j < i + 50 && j < n; j++)
			for (int s = 0; s < 3; s++)
				batch[k++] = (struct pane_sample){s == 2 ? "other" : "m", &ls[s], tsof(j), val(s, j)};
		struct pane_err err = {0};
		size_t acc = 0;
		assert_int_equal(pane_store_write(st, batch, k, &acc, &err), 0);
		assert_int_equal(acc, k);
	}
}

static void check_many(struct pane_store *st, int n)
{
	struct pane_reader r = pane_store_reader(st);
	struct pane_matcher m = {"__name__", "m|other", PANE_MATCH_RE};
	struct pane_series_set *set = NULL;
	struct pane_err err = {0};
	assert_int_equal(r.ops->select(r.ctx, &m, 1, T0, T0 + n * 15000LL, 0, &set, &err), 0);
	assert_int_equal(set->n, 3);
	/* sorted by label set: {__name__=m,inst=a} < {m,b} < {other,c} */
	const char *want_name[] = {"m", "m", "other"}, *want_inst[] = {"a", "b", "c"};
	int which[] = {0, 1, 2};
	for (size_t i = 0; i < 3; i++) {
		struct pane_series *s = &set->series[i];
		assert_int_equal(s->labels.n, 2);
		assert_string_equal(s->labels.v[0].name, "__name__");
		assert_string_equal(s->labels.v[0].value, want_name[i]);
		assert_string_equal(s->labels.v[1].value, want_inst[i]);
		assert_int_equal(s->n, (size_t)n);
		for (int j = 0; j < n; j++) {
			assert_true(s->ts[j] == tsof(j));
			double w = val(which[i], j);
			assert_memory_equal(&s->values[j], &w, 8);
		}
	}
	set->free(set);
	/* a sub-range */
	assert_int_equal(r.ops->select(r.ctx, &m, 1, T0 + 15000, T0 + 30000, 0, &set, &err), 0);
	assert_int_equal(set->n, 3);
	assert_int_equal(set->series[0].n, 2);
	set->free(set);
	/* a sub-range across a window edge (segments cut by binary search) */
	if (n > 2000) {
		assert_int_equal(
		    r.ops->select(r.ctx, &m, 1, T0 + 1000 * 15000LL + 1, T0 + 2000 * 15000LL, 0, &set, &err), 0);
		assert_int_equal(set->n, 3);
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(set->series[i].n, 1000);
			assert_true(set->series[i].ts[0] == T0 + 1001 * 15000LL);
			assert_true(set->series[i].ts[999] == T0 + 2000 * 15000LL);
		}
		set->free(set);
	}
	/* max_samples */
	assert_int_equal(r.ops->select(r.ctx, &m, 1, T0, T0 + n * 15000LL, 10, &set, &err), PANE_ETOOBIG);
	assert_null(set);
	/* label names and values */
	char **names;
	size_t nn;
	assert_int_equal(r.ops->label_names(r.ctx, NULL, 0, T0, T0 + n * 15000LL, &names, &nn, &err), 0);
	assert_int_equal(nn, 2);
	assert_string_equal(names[0], "__name__");
	assert_string_equal(names[1], "inst");
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	struct pane_matcher mm = {"__name__", "m", PANE_MATCH_EQ};
	assert_int_equal(r.ops->label_values(r.ctx, "inst", &mm, 1, T0, T0 + n * 15000LL, &names, &nn, &err), 0);
	assert_int_equal(nn, 2);
	assert_string_equal(names[1], "b");
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	/* outside every sample's time: nothing */
	assert_int_equal(r.ops->label_names(r.ctx, NULL, 0, 0, 1000, &names, &nn, &err), 0);
	assert_int_equal(nn, 0);
	free(names);
}

static void write_read_reopen(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store *st = open_store(dir, NULL);
	write_many(st, 3000); /* T0's window and part of the next: heads and frozen heads */
	check_many(st, 3000);
	settle(st); /* the frozen heads become segments (unless housekeeping got there first) */
	check_many(st, 3000);
	struct pane_store_counters c;
	pane_store_get_counters(st, &c);
	assert_int_equal(c.series, 3);
	assert_int_equal(c.samples, 9000);
	assert_true(c.segments >= 3);
	pane_store_close(st);
	/* a clean close leaves an empty WAL */
	char path[600];
	snprintf(path, sizeof path, "%s/wal", dir);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 8);
	st = open_store(dir, NULL);
	check_many(st, 3000);
	assert_true(pane_store_disk_bytes(st) > 0);
	pane_store_close(st);
	st = open_store(dir, NULL);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

struct reader_arg {
	struct pane_store *st;
	int rounds;
	int bad;
	int seen;
};

/* Selects while the writer ingests: every answer is ascending, exact and
 * without duplicates, whatever the writer persisted meanwhile. */
static void *reader_thread(void *p)
{
	struct reader_arg *a = p;
	struct pane_reader r = pane_store_reader(a->st);
	struct pane_matcher m = {"__name__", "m", PANE_MATCH_EQ};
	for (int k = 0; k < a->rounds; k++) {
		struct pane_series_set *set = NULL;
		struct pane_err err = {0};
		if (r.ops->select(r.ctx, &m, 1, 0, INT64_MAX, 0, &set, &err) < 0) {
			a->bad++;
			continue;
		}
		for (size_t i = 0; i < set->n; i++) {
			struct pane_series *s = &set->series[i];
			int which = strcmp(s->labels.v[1].value, "a") == 0 ? 0 : 1;
			for (size_t j = 0; j < s->n; j++) {
				int idx = (int)((s->ts[j] - T0) / 15000);
				double w = val(which, idx);
				if (s->ts[j] != T0 + idx * 15000LL || memcmp(&w, &s->values[j], 8) != 0 ||
				    (j && s->ts[j] <= s->ts[j - 1]))
					a->bad++;
			}
			a->seen += (int)s->n;
		}
		set->free(set);
	}
	return NULL;
}

static void reads_run_beside_writes(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store *st = open_store(dir, NULL);
	struct reader_arg a[2] = {{st, 40, 0, 0}, {st, 40, 0, 0}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader_thread, &a[i]), 0);
	write_many(st, N_2WIN); /* crosses windows: segments persist while readers read */
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(a[0].bad + a[1].bad, 0);
	check_many(st, N_2WIN);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

static void shared_timestamps_and_corrupt_segments(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store *st = open_store(dir, NULL);
	jitter = true;
	write_many(st, N_2WIN); /* three series with identical timestamps: two windows persisted */
	settle(st);
	struct pane_store_counters c;
	pane_store_get_counters(st, &c);
	assert_true(c.segments >= 6);
	assert_true(c.ts_shared >= 4); /* the 2nd and 3rd series reuse the 1st's timestamp column */
	assert_int_equal(c.ts_regular, 0);
	assert_true(c.chunks_dec > 0 && c.chunks_xor > 0);
	pane_store_close(st);
	st = open_store(dir, NULL);
	check_many(st, N_2WIN);
	pane_store_close(st);
	char cmd[700];
	/* flip bytes inside the first blob of the first day's segment file (a
	 * timestamp column shared by all three series): reads skip what fails
	 * its checksum (logged), never crash, and keep the rest */
	snprintf(cmd, sizeof cmd,
	         "f=$(ls '%s'/chunks/*.seg | head -n 1); printf '\\377\\377\\377\\377' | dd of=\"$f\" bs=1 "
	         "seek=20 conv=notrunc 2>/dev/null",
	         dir);
	assert_int_equal(system(cmd), 0);
	st = open_store(dir, NULL);
	struct pane_reader r = pane_store_reader(st);
	struct pane_series_set *set = NULL;
	struct pane_err err = {0};
	assert_int_equal(r.ops->select(r.ctx, NULL, 0, 0, INT64_MAX, 0, &set, &err), 0);
	size_t total = 0;
	for (size_t i = 0; i < set->n; i++)
		total += set->series[i].n;
	assert_true(total < 3 * N_2WIN);
	assert_true(total > 0);
	set->free(set);
	pane_store_close(st);
	jitter = false;
	rmrf(dir);
	free(dir);
}

/* Reads every sample of metric name into ts (cap n); returns how many. */
static size_t read_ts(struct pane_store *st, const char *name, int64_t *ts, size_t cap)
{
	struct pane_reader r = pane_store_reader(st);
	struct pane_matcher m = {"__name__", name, PANE_MATCH_EQ};
	struct pane_series_set *set = NULL;
	struct pane_err err = {0};
	assert_int_equal(r.ops->select(r.ctx, &m, 1, 0, INT64_MAX, 0, &set, &err), 0);
	size_t n = set->n ? set->series[0].n : 0;
	for (size_t i = 0; i < n && i < cap; i++)
		ts[i] = set->series[0].ts[i];
	set->free(set);
	return n;
}

/* The first column of the first row of a query (printf format) on dir's
 * metrics.db, -1 when there is none. */
static int64_t db_int(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t db_int(const char *dir, const char *fmt, ...)
{
	char path[4096], sql[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	snprintf(path, sizeof path, "%s/metrics.db", dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	return v;
}

/* The one day of dir's store. */
static long long only_day(const char *dir)
{
	assert_int_equal(db_int(dir, "SELECT count(*) FROM sqlite_master WHERE name GLOB 's_*'"), 1);
	return (long long)db_int(dir,
	                         "SELECT CAST(substr(name, 3) AS INTEGER) FROM sqlite_master WHERE name GLOB 's_*'");
}

/* Runs "UPDATE <the one day's s_ table> SET <what>" on dir's metrics.db. */
static void update_segments(const char *dir, const char *what)
{
	char path[4096], sql[512];
	snprintf(path, sizeof path, "%s/metrics.db", dir);
	snprintf(sql, sizeof sql, "UPDATE \"s_%lld\" SET %s", only_day(dir), what);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* Evenly spaced timestamps are not stored (ps_ts_regular): segments of one
 * sample, of two and of many read back exactly, next to an uneven one; a
 * damaged row whose count does not fit its range is skipped, never misread. */
static void evenly_spaced_timestamps(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store *st = open_store(dir, NULL);
	put(st, "one", "a", T0, 1);
	put(st, "two", "a", T0, 1);
	put(st, "two", "a", T0 + 7, 2);
	for (int j = 0; j < 400; j++) {
		put(st, "even", "a", T0 + j * 15000LL, j);
		put(st, "uneven", "a", T0 + j * 15000LL + (j == 200), j);
	}
	pane_store_close(st); /* persists the heads */
	assert_int_equal(db_int(dir, "SELECT count(*) FROM \"s_%lld\" WHERE tlen = 0", only_day(dir)), 3);
	assert_int_equal(db_int(dir, "SELECT count(*) FROM \"s_%lld\" WHERE tlen > 0", only_day(dir)), 1);
	int64_t ts[400];
	st = open_store(dir, NULL);
	assert_int_equal(read_ts(st, "one", ts, 400), 1);
	assert_true(ts[0] == T0);
	assert_int_equal(read_ts(st, "two", ts, 400), 2);
	assert_true(ts[0] == T0 && ts[1] == T0 + 7);
	const char *names[] = {"even", "uneven"};
	for (int k = 0; k < 2; k++) {
		assert_int_equal(read_ts(st, names[k], ts, 400), 400);
		for (int j = 0; j < 400; j++)
			assert_true(ts[j] == T0 + j * 15000LL + (k == 1 && j == 200));
	}
	pane_store_close(st);
	/* a count that does not fit the values, or a range that cannot hold it */
	update_segments(dir, "n = n + 1 WHERE tlen = 0 AND n = 400");
	update_segments(dir, "n = 2 WHERE tlen = 0 AND n = 1");
	update_segments(dir, "n = 3 WHERE tlen = 0 AND n = 2"); /* 7 ms in two steps */
	st = open_store(dir, NULL);
	assert_int_equal(read_ts(st, "even", ts, 400), 0);
	assert_int_equal(read_ts(st, "one", ts, 400), 0);
	assert_int_equal(read_ts(st, "two", ts, 400), 0);
	assert_int_equal(read_ts(st, "uneven", ts, 400), 400);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

static void persist_now(struct pane_store *st)
{
	struct pane_err err = {0};
	pthread_mutex_lock(&st->mu);
	int rc = ps_persist_all(st, &err);
	pthread_mutex_unlock(&st->mu);
	assert_int_equal(rc, 0);
}

/* A tier select whose snapshot holds a head that is persisted before the
 * select reads the day's segments: the new segment's buckets repeat the
 * head's, and are left out (it was not there at the snapshot). */
static void tier_select_beside_a_persist(void **state)
{
	(void)state;
	char *dir = tmpdir();
	const int64_t t0 = 1700006400000LL;            /* on the hour, a window's start */
	struct pane_store *st = open_store(dir, NULL); /* the 1 h tier stored */
	put(st, "before", "a", t0 + 7 * 3600000, 1);   /* the day's file exists at the snapshot */
	persist_now(st);
	double sum = 0;
	for (int k = 0; k < 240; k++) { /* one hour, all in the head */
		put(st, "race", "a", t0 + k * 15000LL, k);
		sum += k;
	}
	struct pane_store_counters c0, c1;
	pane_store_get_counters(st, &c0);
	for (int agg = PANE_AGG_SUM; agg <= PANE_AGG_COUNT; agg++) {
		struct pane_series_set *t = NULL;
		struct pane_err err = {0};
		ps_test_after_snapshot = persist_now;
		int rc =
		    pane_store_select_tier(st, 3600000, (enum pane_tier_agg)agg, NULL, 0, 0, INT64_MAX, 0, &t, &err);
		ps_test_after_snapshot = NULL;
		assert_int_equal(rc, 0);
		assert_int_equal(t->n, 2);
		assert_int_equal(t->series[1].n, 1);
		assert_int_equal(t->series[1].ts[0], t0);
		assert_true(t->series[1].values[0] == (agg == PANE_AGG_SUM ? sum : 240));
		t->free(t);
	}
	pane_store_get_counters(st, &c1);
	assert_int_equal(c1.segments, c0.segments + 1); /* the head was persisted meanwhile */
	/* and read from the segment once it was there before the snapshot */
	struct pane_series_set *t = NULL;
	struct pane_err err = {0};
	assert_int_equal(pane_store_select_tier(st, 3600000, PANE_AGG_COUNT, NULL, 0, 0, INT64_MAX, 0, &t, &err), 0);
	assert_true(t->n == 2 && t->series[1].n == 1 && t->series[1].values[0] == 240);
	t->free(t);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

/* The tiers agree with aggregating the raw samples, for data in segments and
 * in memory alike. */
static void check_tiers(struct pane_store *st, int64_t step)
{
	struct pane_reader r = pane_store_reader(st);
	struct pane_series_set *raw = NULL;
	struct pane_err err = {0};
	assert_int_equal(r.ops->select(r.ctx, NULL, 0, 0, INT64_MAX, 0, &raw, &err), 0);
	for (int agg = PANE_AGG_MIN; agg <= PANE_AGG_AVG; agg++) {
		struct pane_series_set *t = NULL;
		assert_int_equal(
		    pane_store_select_tier(st, step, (enum pane_tier_agg)agg, NULL, 0, 0, INT64_MAX, 0, &t, &err), 0);
		assert_int_equal(t->n, raw->n);
		for (size_t i = 0; i < raw->n; i++) {
			const struct pane_series *rs = &raw->series[i], *ts = &t->series[i];
			assert_int_equal(pane_labels_cmp(&rs->labels, &ts->labels), 0);
			size_t j = 0, k = 0;
			while (j < rs->n) {
				int64_t b = rs->ts[j] / step * step;
				double cnt = 0, mn = INFINITY, mx = -INFINITY, sum = 0, last = 0;
				for (; j < rs->n && rs->ts[j] / step * step == b; j++) {
					double v = rs->values[j];
					if (pane_is_stale_nan(v))
						continue;
					cnt++;
					mn = v < mn ? v : mn;
					mx = v > mx ? v : mx;
					sum += v;
					last = v;
				}
				if (cnt == 0)
					continue;
				assert_true(k < ts->n);
				assert_true(ts->ts[k] == b);
				double want = agg == PANE_AGG_MIN     ? mn
				              : agg == PANE_AGG_MAX   ? mx
				              : agg == PANE_AGG_SUM   ? sum
				              : agg == PANE_AGG_COUNT ? cnt
				              : agg == PANE_AGG_LAST  ? last
				                                      : sum / cnt;
				double got = ts->values[k];
				assert_true(fabs(got - want) <= 1e-9 * (fabs(want) + 1));
				k++;
			}
			assert_int_equal(k, ts->n);
		}
		t->free(t);
	}
	raw->free(raw);
	struct pane_series_set *t = NULL;
	assert_int_equal(pane_store_select_tier(st, 1000, PANE_AGG_MAX, NULL, 0, 0, INT64_MAX, 0, &t, &err),
	                 PANE_EINVAL);
}

static void tiers_with(unsigned mask)
{
	char *dir = tmpdir();
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.retention_ms = 0;
	o.tiers = mask;
	o.ooo_window_ms = 4 * 3600000LL; /* room for the write into a persisted window below */
	struct pane_store *st = open_store(dir, &o);
	write_many(st, N_2WIN); /* two windows in segments, the rest in memory */
	check_tiers(st, 300000);
	check_tiers(st, 3600000);
	/* an out-of-order write into a persisted window: a second, partial bucket set */
	int64_t head_win = (T0 + (N_2WIN - 1) * 15000LL) / WINDOW_MS * WINDOW_MS;
	assert_int_equal(put(st, "m", "a", head_win - 90000 + 7, 123456.0), 1); /* 90 s before the head's window */
	check_tiers(st, 300000);
	pane_store_close(st);
	st = open_store(dir, &o);
	check_tiers(st, 300000);
	check_tiers(st, 3600000);
	/* a sub-range starts at a whole bucket */
	struct pane_series_set *t = NULL;
	struct pane_err err = {0};
	struct pane_matcher m = {"inst", "a", PANE_MATCH_EQ};
	assert_int_equal(pane_store_select_tier(st, 3600000, PANE_AGG_COUNT, &m, 1, T0 + 7200000 + 5, T0 + 7200000 + 10,
	                                        0, &t, &err),
	                 0);
	assert_int_equal(t->n, 1);
	assert_int_equal(t->series[0].n, 1);
	assert_true(t->series[0].ts[0] == (T0 + 7200000) / 3600000 * 3600000);
	t->free(t);
	/* a range that ends before the first sample of a bucket it holds (the
	 * segment's first is 5 s into the hour): the bucket is in, whole,
	 * stored or aggregated from raw samples */
	int64_t h = (T0 + 7200000) / 3600000 * 3600000;
	assert_int_equal(pane_store_select_tier(st, 3600000, PANE_AGG_COUNT, &m, 1, h, h, 0, &t, &err), 0);
	assert_int_equal(t->n, 1);
	assert_true(t->series[0].n == 1 && t->series[0].ts[0] == h && t->series[0].values[0] >= 236 &&
	            t->series[0].values[0] <= 240); /* less its stale markers */
	t->free(t);
	/* a range that starts inside a bucket: the bucket is in, whole */
	assert_int_equal(
	    pane_store_select_tier(st, 3600000, PANE_AGG_COUNT, &m, 1, h + 1800000, h + 1800000, 0, &t, &err), 0);
	assert_int_equal(t->n, 1);
	assert_true(t->series[0].n == 1 && t->series[0].ts[0] == h && t->series[0].values[0] >= 236 &&
	            t->series[0].values[0] <= 240); /* less its stale markers */
	t->free(t);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

static void downsampled_tiers(void **state)
{
	(void)state;
	tiers_with(PANE_TIER_1H);                /* the default: 5 min computed from raw samples */
	tiers_with(PANE_TIER_5M | PANE_TIER_1H); /* both stored */
	tiers_with(0);                           /* none stored */
}

static void wal_replay_cuts_torn_tail(void **state)
{
	(void)state;
	char *dir = tmpdir();
	pid_t pid = fork();
	if (pid == 0) {
		struct pane_store_opts o;
		pane_store_opts_default(&o);
		o.retention_ms = 0;
		o.fsync = PANE_FSYNC_NEVER;
		struct pane_store *st = open_store(dir, &o);
		write_many(st, 2000);
		_exit(0); /* a crash: nothing closed, heads only in the WAL */
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char path[600];
	snprintf(path, sizeof path, "%s/wal", dir);
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	/* a torn record: plausible header, short body */
	static const unsigned char torn[] = {0x40, 0, 0, 0, 1, 2, 3, 4, 2, 9, 9};
	assert_int_equal(write(fd, torn, sizeof torn), (ssize_t)sizeof torn);
	close(fd);
	struct pane_store *st = open_store(dir, NULL);
	check_many(st, 2000);
	struct pane_store_counters c;
	pane_store_get_counters(st, &c);
	assert_int_equal(c.wal_cut_bytes, sizeof torn);
	/* writes continue after the cut, and survive another reopen */
	assert_int_equal(put(st, "m", "a", T0 + 2000 * 15000LL, 1.0), 1);
	pane_store_close(st);
	st = open_store(dir, NULL);
	struct pane_reader r = pane_store_reader(st);
	struct pane_matcher m[] = {{"__name__", "m", PANE_MATCH_EQ}, {"inst", "a", PANE_MATCH_EQ}};
	struct pane_series_set *set;
	struct pane_err err = {0};
	assert_int_equal(r.ops->select(r.ctx, m, 2, T0, T0 + 3000 * 15000LL, 0, &set, &err), 0);
	assert_int_equal(set->n, 1);
	assert_int_equal(set->series[0].n, 2001);
	set->free(set);
	pane_store_close(st);

	/* a flipped byte inside the last record: that record is cut, the rest kept */
	pid = fork();
	if (pid == 0) {
		struct pane_store *s2 = open_store(dir, NULL);
		put(s2, "m", "a", T0 + 2001 * 15000LL, 2.0);
		put(s2, "m", "a", T0 + 2002 * 15000LL, 3.0);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	fd = open(path, O_RDWR);
	off_t end = lseek(fd, 0, SEEK_END);
	unsigned char b;
	assert_int_equal(pread(fd, &b, 1, end - 3), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, end - 3), 1);
	close(fd);
	st = open_store(dir, NULL);
	r = pane_store_reader(st);
	assert_int_equal(r.ops->select(r.ctx, m, 2, T0, T0 + 3000 * 15000LL, 0, &set, &err), 0);
	assert_int_equal(set->series[0].n, 2002); /* 2.0 kept, 3.0 (corrupted) cut */
	assert_true(set->series[0].values[2001] == 2.0);
	set->free(set);
	pane_store_get_counters(st, &c);
	assert_true(c.wal_cut_bytes > 0);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

static void out_of_order_and_cardinality(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.retention_ms = 0;
	o.ooo_window_ms = 60000;
	o.max_series_per_metric = 2;
	o.max_series = 3;
	struct pane_store *st = open_store(dir, &o);
	assert_int_equal(put(st, "m", "a", T0 + 1000000, 1), 1);
	assert_int_equal(put(st, "m", "a", T0 + 990000, 2), 1); /* within the window */
	assert_int_equal(put(st, "m", "a", T0 + 900000, 3), 0); /* too old: rejected */
	assert_int_equal(put(st, "m", "b", T0, 1), 1);
	assert_int_equal(put(st, "m", "c", T0, 1), 0); /* third series of m */
	assert_int_equal(put(st, "n", "a", T0, 1), 1);
	assert_int_equal(put(st, "o", "a", T0, 1), 0);     /* fourth series in all */
	assert_int_equal(put(st, "m", "b", T0 + 1, 5), 1); /* existing series keep flowing */
	struct pane_store_counters c;
	pane_store_get_counters(st, &c);
	assert_int_equal(c.rejected_old, 1);
	assert_int_equal(c.rejected_series, 2);
	/* an invalid name is refused, counted, and the rest of the batch lands */
	struct pane_label na[] = {{"inst", "a"}};
	struct pane_labels nls = {na, 1, 1, false};
	struct pane_sample bad[2] = {{"bad name", NULL, T0, 1}, {"n", &nls, T0 + 5, 7}};
	size_t acc;
	struct pane_err err = {0};
	assert_int_equal(pane_store_write(st, bad, 2, &acc, &err), 0);
	assert_int_equal(acc, 1);
	struct pane_reader r = pane_store_reader(st);
	struct pane_matcher m[] = {{"__name__", "m", PANE_MATCH_EQ}, {"inst", "a", PANE_MATCH_EQ}};
	struct pane_series_set *set;
	pane_store_close(st);
	st = open_store(dir, &o);
	r = pane_store_reader(st);
	assert_int_equal(r.ops->select(r.ctx, m, 2, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, 1);
	assert_int_equal(set->series[0].n, 2);
	assert_true(set->series[0].ts[0] == T0 + 990000 && set->series[0].values[0] == 2);
	assert_true(set->series[0].ts[1] == T0 + 1000000);
	set->free(set);
	/* the limits hold after a reopen too */
	assert_int_equal(put(st, "m", "d", T0, 1), 0);
	struct pane_matcher badre = {"inst", "(", PANE_MATCH_RE};
	assert_int_equal(r.ops->select(r.ctx, &badre, 1, 0, INT64_MAX, 0, &set, &err), PANE_EINVAL);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

/* Catalog rows are front-coded against the previous id's key, every 16th
 * stored whole: the labels come back exact after a reopen, a key that
 * starts with a control byte too; a row lost to damage loses only the rows
 * coded after it up to the next whole one, and nothing else. */
static void catalog_keys_front_coded(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store *st = open_store(dir, NULL);
	char inst[40][8];
	for (int i = 0; i < 40; i++) {
		snprintf(inst[i], sizeof inst[i], "i%02d", i);
		assert_int_equal(put(st, "a_rather_long_metric_name_total", inst[i], T0, i), 1); /* ids 1..40 */
	}
	struct pane_label odd[] = {{"\x01odd", "v"}};
	struct pane_labels ols = {odd, 1, 1, false};
	struct pane_sample os = {"a_rather_long_metric_name_total", &ols, T0, -1};
	struct pane_err err = {0};
	size_t acc = 0;
	assert_int_equal(pane_store_write(st, &os, 1, &acc, &err), 0); /* id 41, its key starts with 0x01 */
	assert_int_equal(acc, 1);
	pane_store_close(st);
	assert_int_equal(db_int(dir, "SELECT count(*) FROM series WHERE substr(key, 1, 1) = x'01'"), 40 - 3);
	assert_int_equal(db_int(dir, "SELECT count(*) FROM series WHERE substr(key, 1, 1) = x'02'"), 1);
	assert_true(db_int(dir, "SELECT max(length(key)) FROM series WHERE substr(key, 1, 1) = x'01'") <= 8);
	for (int pass = 0; pass < 2; pass++) {
		st = open_store(dir, NULL);
		struct pane_reader r = pane_store_reader(st);
		struct pane_series_set *set = NULL;
		assert_int_equal(r.ops->select(r.ctx, NULL, 0, 0, INT64_MAX, 0, &set, &err), 0);
		assert_int_equal(set->n, pass ? 41 - 12 : 41);
		for (size_t i = 0; i < set->n; i++) {
			const struct pane_series *ps = &set->series[i];
			int v = (int)ps->values[0];
			assert_int_equal(ps->labels.n, 2);
			assert_string_equal(ps->labels.v[0].name, v < 0 ? "\x01odd" : "__name__");
			assert_string_equal(ps->labels.v[v < 0 ? 1 : 0].value, "a_rather_long_metric_name_total");
			if (v >= 0)
				assert_string_equal(ps->labels.v[1].value, inst[v]);
			assert_false(pass && v >= 19 && v < 31); /* ids 20..31: the lost row and those coded after it */
		}
		set->free(set);
		pane_store_close(st);
		/* id 20 lost: 21..31 are coded against it, 32 is whole */
		char path[600], *msg = NULL;
		snprintf(path, sizeof path, "%s/metrics.db", dir);
		sqlite3 *db = NULL;
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "DELETE FROM series WHERE id = 20", NULL, NULL, &msg), SQLITE_OK);
		assert_int_equal(db_int(dir, "PRAGMA user_version"), 3); /* the store's format (store.c) */
		if (pass)
			assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=4", NULL, NULL, &msg), SQLITE_OK);
		sqlite3_close(db);
	}
	/* a store of a newer format is refused, and says so */
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.dir = dir;
	assert_null(pane_store_open(&o, &err));
	assert_non_null(strstr(err.msg, "newer pane (store format 4; this pane reads up to 3)"));
	rmrf(dir);
	free(dir);
}

/* pane_store_write_refs: refs are set for the series written (0 for a
 * sample refused by a series limit), the same series gets the same ref
 * wherever it comes in a batch, a ref given back skips resolving, an
 * unknown one is resolved from the labels; what lands (and comes back
 * after a WAL replay) is what pane_store_write stores. */
static void write_by_refs(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.retention_ms = 0;
	o.max_series_per_metric = 2;
	o.max_series = 3;
	struct pane_store *st = open_store(dir, &o);
	struct pane_label l[4][1] = {{{"inst", "a"}}, {{"inst", "b"}}, {{"inst", "c"}}, {{"inst", "a"}}};
	struct pane_labels ls[4] = {{l[0], 1, 1, false}, {l[1], 1, 1, false}, {l[2], 1, 1, false}, {l[3], 1, 1, false}};
	struct pane_sample b1[5] = {{"m", &ls[0], T0, 1},
	                            {"m", &ls[1], T0, 2},
	                            {"m", &ls[2], T0, 3},
	                            {"n", &ls[3], T0, 4},
	                            {"m", &ls[0], T0 + 1000, 5}};
	uint32_t refs[5] = {0};
	size_t acc = 0;
	struct pane_err err = {0};
	assert_int_equal(pane_store_write_refs(st, b1, refs, 5, &acc, &err), 0);
	assert_int_equal(acc, 4);
	assert_true(refs[0] && refs[1] && refs[3]);
	assert_int_equal(refs[2], 0); /* third series of m */
	assert_int_equal(refs[4], refs[0]);
	assert_true(refs[0] != refs[1] && refs[1] != refs[3] && refs[0] != refs[3]);
	/* refs given back: the samples land in their series, whatever the
	 * labels beside them say (the first has c's, a series refused: a ref
	 * is trusted); an unknown ref is resolved from the labels */
	uint32_t ra = refs[0], rb = refs[1], rn = refs[3];
	struct pane_sample b2[4] = {{"m", &ls[2], T0 + 2000, 6},
	                            {"m", &ls[1], T0 + 2000, 7},
	                            {"n", &ls[3], T0 + 2000, 8},
	                            {"m", &ls[1], T0 + 3000, 9}};
	uint32_t refs2[4] = {ra, rb, rn, 99999};
	assert_int_equal(pane_store_write_refs(st, b2, refs2, 4, &acc, &err), 0);
	assert_int_equal(acc, 4);
	assert_int_equal(refs2[3], rb);
	/* no refs at all: pane_store_write */
	struct pane_sample b3 = {"m", &ls[0], T0 + 4000, 10};
	assert_int_equal(pane_store_write_refs(st, &b3, NULL, 1, &acc, &err), 0);
	assert_int_equal(acc, 1);
	struct pane_store_counters c;
	pane_store_get_counters(st, &c);
	assert_int_equal(c.series, 3);
	assert_int_equal(c.rejected_series, 1);
	pane_store_close(st);
	/* after a replay of the WAL and a reopen, every sample where it belongs */
	st = open_store(dir, &o);
	struct pane_reader r = pane_store_reader(st);
	struct pane_matcher m = {"__name__", "m|n", PANE_MATCH_RE};
	struct pane_series_set *set;
	assert_int_equal(r.ops->select(r.ctx, &m, 1, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, 3); /* {m,a} {m,b} {n,a} */
	const double want_a[] = {1, 5, 6, 10}, want_b[] = {2, 7, 9}, want_n[] = {4, 8};
	const double *want[] = {want_a, want_b, want_n};
	const size_t nwant[] = {4, 3, 2};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(set->series[i].n, nwant[i]);
		for (size_t j = 0; j < nwant[i]; j++)
			assert_true(set->series[i].values[j] == want[i][j]);
	}
	set->free(set);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

static void retention_drops_whole_days(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.retention_ms = 2 * 86400000LL;
	int64_t now = T0 + 10 * 86400000LL;
	struct pane_store *st = open_store(dir, &o);
	for (int d = 5; d >= 0; d--)
		assert_int_equal(put(st, "m", "a", now - d * 86400000LL, d), 1);
	pane_store_close(st); /* persists every day into its partition */
	st = open_store(dir, &o);
	struct pane_err err = {0};
	struct pane_reader r = pane_store_reader(st);
	struct pane_matcher m = {"__name__", "m", PANE_MATCH_EQ};
	struct pane_series_set *set;
	/* a select first: its reader keeps every day's file and statements */
	assert_int_equal(r.ops->select(r.ctx, &m, 1, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, 1);
	assert_int_equal(set->series[0].n, 6);
	set->free(set);
	assert_int_equal(pane_store_maintain(st, now, &err), 0);
	struct pane_store_counters c;
	pane_store_get_counters(st, &c);
	assert_true(c.partitions_dropped >= 3);
	/* ... and lets go of the dropped days' files: their space is freed */
	for (int fd = 0; fd < 1024; fd++) {
		char link[64], target[4096];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strstr(target, dir) && strstr(target, "(deleted)"))
			fail_msg("fd %d still holds %s after retention", fd, target);
	}
	assert_int_equal(r.ops->select(r.ctx, &m, 1, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, 1);
	assert_true(set->series[0].n <= 3 && set->series[0].n >= 2);
	assert_true(set->series[0].ts[0] >= now - 3 * 86400000LL);
	set->free(set);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

/* The first column of the first row sqlite answers on dir's metrics.db, or
 * -1 when the statement does not prepare (a table that is not there). */
/* Whether day's s_ table has the tier region's columns (alen, acrc). */
static bool day_folded(const char *dir, int64_t day)
{
	return db_int(dir, "SELECT count(*) FROM pragma_table_info('s_%lld') WHERE name IN ('alen', 'acrc')",
	              (long long)day) == 2;
}

static bool table_exists(const char *dir, const char *kind, int64_t day)
{
	return db_int(dir, "SELECT count(*) FROM sqlite_master WHERE name = '%s_%lld'", kind, (long long)day) == 1;
}

#define DAY0 19675 /* T0's day; write_many's 12.5 h end in DAY0 + 1 */

/* Days written by an earlier pane (the layout ps_legacy_days makes: no
 * alen/acrc in s_, tier blobs indexed by a_ rows, a t_ table each) read
 * after the upgrade, take writes out of order in that layout, and sit
 * beside a new day whose tiers are folded into its segment rows. Both
 * steps stored. */
static void tiers_in_days_of_earlier_panes(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.retention_ms = 0;
	o.tiers = PANE_TIER_5M | PANE_TIER_1H;
	o.ooo_window_ms = 7 * 86400000LL;
	ps_legacy_days = true;
	struct pane_store *st = open_store(dir, &o);
	write_many(st, 3000);
	pane_store_close(st);
	ps_legacy_days = false;
	int64_t a_rows[2];
	for (int d = 0; d < 2; d++) {
		assert_false(day_folded(dir, DAY0 + d));
		assert_true(table_exists(dir, "t", DAY0 + d));
		assert_true(db_int(dir, "SELECT count(*) FROM a_%d WHERE step = 300000", DAY0 + d) > 0);
		assert_true(db_int(dir, "SELECT count(*) FROM a_%d WHERE step = 3600000", DAY0 + d) > 0);
		a_rows[d] = db_int(dir, "SELECT count(*) FROM a_%d", DAY0 + d);
	}

	/* upgraded: the old days read as they did */
	st = open_store(dir, &o);
	check_tiers(st, 300000);
	check_tiers(st, 3600000);
	/* out of order into both old days, and a new day two days on */
	assert_int_equal(put(st, "m", "a", T0 + 10 * 15000LL + 7, 77.5), 1);
	assert_int_equal(put(st, "m", "b", T0 + 2000 * 15000LL + 3, -1.25), 1);
	for (int j = 0; j < 300; j++) {
		assert_int_equal(put(st, "m", "a", T0 + 2 * 86400000LL + j * 15000LL, j), 1);
		assert_int_equal(put(st, "other", "c", T0 + 2 * 86400000LL + j * 15000LL, sin(j) * 100), 1);
	}
	check_tiers(st, 300000);
	check_tiers(st, 3600000);
	pane_store_close(st);
	for (int d = 0; d < 2; d++) { /* each day keeps its layout */
		assert_false(day_folded(dir, DAY0 + d));
		assert_true(db_int(dir, "SELECT count(*) FROM a_%d", DAY0 + d) > a_rows[d]);
	}
	assert_true(day_folded(dir, DAY0 + 2));
	assert_false(table_exists(dir, "a", DAY0 + 2));
	assert_false(table_exists(dir, "t", DAY0 + 2)); /* evenly spaced: no timestamp column stored */
	/* m's even steps code in fewer bytes than its region would take: it keeps
	 * none, and its buckets are aggregated from its samples (check_tiers) */
	assert_int_equal(db_int(dir, "SELECT count(*) FROM s_%d WHERE alen > 0", DAY0 + 2), 1);
	assert_int_equal(db_int(dir, "SELECT count(*) FROM s_%d WHERE alen = 0", DAY0 + 2), 1);
	st = open_store(dir, &o);
	check_tiers(st, 300000);
	check_tiers(st, 3600000);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

/* The buckets of every series of a tier select, summed. */
static size_t tier_buckets(struct pane_store *st, int64_t step)
{
	struct pane_series_set *t = NULL;
	struct pane_err err = {0};
	assert_int_equal(pane_store_select_tier(st, step, PANE_AGG_COUNT, NULL, 0, 0, INT64_MAX, 0, &t, &err), 0);
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		n += t->series[i].n;
	t->free(t);
	return n;
}

/* A tier region that fails its CRC is skipped, and logged; the segment's
 * values, and the other regions, still read. */
static void damaged_tier_region(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.retention_ms = 0;
	o.tiers = PANE_TIER_5M | PANE_TIER_1H;
	struct pane_store *st = open_store(dir, &o);
	write_many(st, 3000);
	pane_store_close(st);
	assert_true(day_folded(dir, DAY0));
	st = open_store(dir, &o);
	size_t whole[2] = {tier_buckets(st, 300000), tier_buckets(st, 3600000)};
	pane_store_close(st);
	/* one byte in the middle of the first region of day DAY0 */
	int64_t at = db_int(dir, "SELECT off + len + alen / 2 FROM s_%d WHERE alen > 0 ORDER BY off LIMIT 1", DAY0);
	assert_true(at > 0);
	char path[4096];
	snprintf(path, sizeof path, "%s/chunks/d%d.seg", dir, DAY0);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	unsigned char c;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x5a;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);

	st = open_store(dir, &o);
	char logpath[4200];
	snprintf(logpath, sizeof logpath, "%s/stderr.log", dir);
	int saved = dup(2), lf = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(saved >= 0 && lf >= 0);
	dup2(lf, 2);
	size_t now[2] = {tier_buckets(st, 300000), tier_buckets(st, 3600000)};
	dup2(saved, 2);
	close(saved);
	close(lf);
	for (int k = 0; k < 2; k++)
		assert_true(now[k] > 0 && now[k] < whole[k]);
	char log[4096] = "";
	fd = open(logpath, O_RDONLY);
	assert_true(read(fd, log, sizeof log - 1) > 0);
	close(fd);
	assert_non_null(strstr(log, "tier data of series"));
	assert_non_null(strstr(log, "is corrupt; skipped"));
	check_many(st, 3000); /* the values are untouched */
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

/* Retention drops a day of either layout whole: its tables (s_, and the t_
 * and a_ it has) and its file. */
static void retention_drops_both_layouts(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.retention_ms = 0;
	o.ooo_window_ms = 30 * 86400000LL;
	int64_t now = T0 + 10 * 86400000LL, day_now = ps_day_of(now);
	ps_legacy_days = true;
	struct pane_store *st = open_store(dir, &o);
	for (int d = 5; d >= 3; d--)
		for (int j = 0; j < 4; j++)
			assert_int_equal(put(st, "m", "a", now - d * 86400000LL + j * 1000, j), 1);
	pane_store_close(st);
	ps_legacy_days = false;
	st = open_store(dir, &o);
	for (int d = 2; d >= 0; d--)
		for (int j = 0; j < 4; j++) /* unevenly spaced on day now - 2: a timestamp column (t_) */
			assert_int_equal(put(st, "m", "a", now - d * 86400000LL + j * 1000 + (d == 2 && j == 2), j), 1);
	pane_store_close(st);
	for (int d = 0; d <= 5; d++) {
		assert_int_equal(day_folded(dir, day_now - d), d <= 2);
		assert_int_equal(table_exists(dir, "a", day_now - d), d > 2);
		assert_int_equal(table_exists(dir, "t", day_now - d), d > 1);
	}
	o.retention_ms = 2 * 86400000LL;
	st = open_store(dir, &o);
	struct pane_err err = {0};
	assert_int_equal(pane_store_maintain(st, now, &err), 0);
	pane_store_close(st);
	for (int d = 0; d <= 5; d++) {
		bool kept = d <= 2;
		char path[4096];
		snprintf(path, sizeof path, "%s/chunks/d%lld.seg", dir, (long long)(day_now - d));
		assert_int_equal(access(path, F_OK) == 0, kept);
		assert_int_equal(table_exists(dir, "s", day_now - d), kept);
		if (!kept)
			assert_int_equal(db_int(dir, "SELECT count(*) FROM sqlite_master WHERE name GLOB '*_%lld'",
			                        (long long)(day_now - d)),
			                 0);
	}
	pane_store_close(open_store(dir, NULL));
	rmrf(dir);
	free(dir);
}

static void many_days_big_batches_and_the_future(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.retention_ms = 0;
	struct pane_store *st = open_store(dir, &o);
	/* 40 days: more partitions than stay open at once */
	for (int d = 0; d < 40; d++)
		assert_int_equal(put(st, "m", "a", T0 + d * 86400000LL, d), 1);
	/* too far ahead of the clock: rejected and counted */
	assert_int_equal(put(st, "m", "a", pane_wall_ms() + 2 * 86400000LL, 1), 0);
	struct pane_store_counters c;
	pane_store_get_counters(st, &c);
	assert_int_equal(c.rejected_future, 1);
	/* one call with more samples than one WAL record takes */
	enum { BIG = 250000 };
	struct pane_sample *b = calloc(BIG, sizeof *b);
	struct pane_label l[] = {{"inst", "big"}};
	struct pane_labels ls = {l, 1, 1, false};
	for (int i = 0; i < BIG; i++)
		b[i] = (struct pane_sample){"big", &ls, T0 + i * 1000LL, i};
	size_t acc = 0;
	struct pane_err err = {0};
	assert_int_equal(pane_store_write(st, b, BIG, &acc, &err), 0);
	assert_int_equal(acc, BIG);
	free(b);
	pane_store_close(st);
	st = open_store(dir, &o);
	struct pane_reader r = pane_store_reader(st);
	struct pane_series_set *set;
	struct pane_matcher m = {"inst", "a", PANE_MATCH_EQ};
	assert_int_equal(r.ops->select(r.ctx, &m, 1, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, 1);
	assert_int_equal(set->series[0].n, 40);
	for (int d = 0; d < 40; d++)
		assert_true(set->series[0].values[d] == d);
	set->free(set);
	struct pane_matcher mb = {"inst", "big", PANE_MATCH_EQ};
	assert_int_equal(r.ops->select(r.ctx, &mb, 1, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->series[0].n, BIG);
	assert_true(set->series[0].values[BIG - 1] == BIG - 1);
	set->free(set);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

static void logs_and_events(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store *st = open_store(dir, NULL);
	struct pane_label la[] = {{"provider", "render"}, {"service", "api"}};
	struct pane_label lb[] = {{"provider", "render"}, {"service", "web"}};
	struct pane_labels lsa = {la, 2, 2, false}, lsb = {lb, 2, 2, false};
	struct pane_log_record logs[30];
	char msgs[30][64];
	for (int i = 0; i < 30; i++) {
		snprintf(msgs[i], sizeof msgs[i], "%s request %d took %dms", i % 3 ? "GET" : "POST", i, i * 7);
		logs[i] = (struct pane_log_record){
		    T0 + i * 1000, i % 2 ? &lsa : &lsb, i % 5 ? PANE_SEV_INFO : PANE_SEV_ERROR,
		    msgs[i],       strlen(msgs[i]),     i == 3 ? "{\"user\":\"x\"}" : i == 4 ? "not json" : NULL};
	}
	struct pane_err err = {0};
	assert_int_equal(pane_store_write_logs(st, logs, 30, &err), 0);
	struct pane_buf out;
	pane_buf_init(&out, PANE_BUF_NOLIMIT);
	/* text (trigram, case-insensitive) + label + newest first + paging */
	struct pane_label f[] = {{"service", "api"}};
	struct pane_log_query q = {.labels = f, .n_labels = 1, .text = "post", .limit = 2};
	assert_int_equal(pane_logs_api_search(pane_store_logreader(st), &q, &out, &err), 0);
	/* api = odd i; POST = i % 3 == 0: 27, 21, 15, 9, 3 */
	assert_non_null(strstr(out.data, "POST request 27 "));
	assert_non_null(strstr(out.data, "POST request 21 "));
	assert_null(strstr(out.data, "request 15 "));
	char *next = strstr(out.data, "\"next\":\"");
	assert_non_null(next);
	char cursor[64];
	assert_int_equal(sscanf(next + 8, "%63[^\"]", cursor), 1);
	pane_buf_reset(&out);
	q.cursor = cursor;
	q.limit = 10;
	assert_int_equal(pane_logs_api_search(pane_store_logreader(st), &q, &out, &err), 0);
	assert_non_null(strstr(out.data, "request 15 "));
	assert_non_null(strstr(out.data, "request 3 took"));
	assert_non_null(strstr(out.data, "\"fields\":{\"user\":\"x\"}"));
	assert_non_null(strstr(out.data, "\"next\":null"));
	assert_null(strstr(out.data, "request 27 "));
	/* short text uses LIKE; severity; wildcards are literal */
	pane_buf_reset(&out);
	struct pane_log_query q2 = {.text = "5m", .min_severity = PANE_SEV_ERROR};
	assert_int_equal(pane_logs_api_search(pane_store_logreader(st), &q2, &out, &err), 0);
	assert_non_null(strstr(out.data, "request 25 took 175ms")); /* 25 % 5 == 0: error */
	assert_non_null(strstr(out.data, "request 5 took 35ms"));
	pane_buf_reset(&out);
	q2.text = "8m"; /* 4, 14, 24: all info */
	assert_int_equal(pane_logs_api_search(pane_store_logreader(st), &q2, &out, &err), 0);
	assert_string_equal(out.data, "{\"logs\":[],\"next\":null}");
	pane_buf_reset(&out);
	q2.min_severity = PANE_SEV_UNKNOWN;
	assert_int_equal(pane_logs_api_search(pane_store_logreader(st), &q2, &out, &err), 0);
	assert_non_null(strstr(out.data, "request 24 took 168ms"));
	pane_buf_reset(&out);
	struct pane_log_query q3 = {.text = "%"};
	assert_int_equal(pane_logs_api_search(pane_store_logreader(st), &q3, &out, &err), 0);
	assert_string_equal(out.data, "{\"logs\":[],\"next\":null}");
	/* invalid fields are kept as _raw */
	pane_buf_reset(&out);
	struct pane_log_query q4 = {.text = "request 4 took"};
	assert_int_equal(pane_logs_api_search(pane_store_logreader(st), &q4, &out, &err), 0);
	assert_non_null(strstr(out.data, "{\"_raw\":\"not json\"}"));
	/* bad input */
	struct pane_log_query bad = {.cursor = "nope"};
	assert_int_equal(pane_logs_api_search(pane_store_logreader(st), &bad, &out, &err), PANE_EINVAL);
	struct pane_label badl[] = {{"bad-name\"", "x"}};
	struct pane_log_query bad2 = {.labels = badl, .n_labels = 1};
	assert_int_equal(pane_logs_api_search(pane_store_logreader(st), &bad2, &out, &err), PANE_EINVAL);

	/* events: idempotent by dedup key, filtered by kind, labels and time */
	struct pane_event ev[3] = {
	    {T0, "deploy", &lsa, "deploy api v1", "http://x/1", "{\"sha\":\"abc\"}", "d1"},
	    {T0, "deploy", &lsa, "deploy api v1 again", NULL, NULL, "d1"},
	    {T0 + 5000, "alert", &lsb, "web down", NULL, "[1]", NULL},
	};
	assert_int_equal(pane_store_write_events(st, ev, 3, &err), 0);
	pane_buf_reset(&out);
	struct pane_event_query eq = {.kind = "deploy"};
	assert_int_equal(pane_logs_api_events(pane_store_logreader(st), &eq, &out, &err), 0);
	assert_non_null(strstr(out.data, "\"title\":\"deploy api v1\""));
	assert_null(strstr(out.data, "again"));
	assert_non_null(strstr(out.data, "\"body\":{\"sha\":\"abc\"}"));
	pane_buf_reset(&out);
	struct pane_event_query eq2 = {.labels = lb, .n_labels = 2, .mint = T0 + 1, .maxt = T0 + 10000};
	assert_int_equal(pane_logs_api_events(pane_store_logreader(st), &eq2, &out, &err), 0);
	assert_non_null(strstr(out.data, "web down"));
	assert_non_null(strstr(out.data, "\"body\":{\"_raw\":\"[1]\"}"));
	assert_null(strstr(out.data, "deploy"));
	struct pane_event noKind = {T0, NULL, NULL, "x", NULL, NULL, NULL};
	assert_int_equal(pane_store_write_events(st, &noKind, 1, &err), PANE_EINVAL);
	/* retention by age */
	assert_int_equal(pane_store_maintain(st, T0 + 15 * 86400000LL, &err), 0);
	pane_buf_reset(&out);
	struct pane_log_query all = {0};
	assert_int_equal(pane_logs_api_search(pane_store_logreader(st), &all, &out, &err), 0);
	assert_string_equal(out.data, "{\"logs\":[],\"next\":null}");
	pane_buf_release(&out);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

/* ---- heads: the in-memory stream, the head file, replay and compaction ---- */

#define HS_SERIES 600

struct hs_model {
	int64_t *ts;
	double *v;
	size_t n, cap;
};

static uint64_t hs_rng = 88172645463325252ull;

/* The options of the head tests: nothing dropped or refused for its age,
 * no fsync. */
static void hs_opts(struct pane_store_opts *o)
{
	pane_store_opts_default(o);
	o->retention_ms = 0;
	o->max_future_ms = 0;
	o->fsync = PANE_FSYNC_NEVER;
}

static void hs_model_free(struct hs_model *mod)
{
	for (int s = 0; s < HS_SERIES; s++) {
		free(mod[s].ts);
		free(mod[s].v);
	}
	free(mod);
}

static uint64_t hs_rand(void)
{
	hs_rng ^= hs_rng << 13;
	hs_rng ^= hs_rng >> 7;
	hs_rng ^= hs_rng << 17;
	return hs_rng;
}

/* A value for series s at step k: counters, cents, any bit pattern, specials. */
static double hs_value(int s, int k)
{
	static const uint64_t special[] = {0x7ff0000000000002ull /* stale */,
	                                   0x7ff0000000000000ull,
	                                   0xfff0000000000000ull,
	                                   0x8000000000000000ull,
	                                   0,
	                                   0x7ff8dead0000beefull,
	                                   0xfff8000000000001ull};
	uint64_t b;
	double d;
	switch (s % 4) {
	case 0: return (double)(1000 + k * 7 + (int)(hs_rand() % 5));
	case 1: return (double)(int)(hs_rand() % 10000) / 100.0;
	case 2:
		b = hs_rand();
		memcpy(&d, &b, 8);
		return d;
	default:
		b = special[hs_rand() % 7];
		memcpy(&d, &b, 8);
		return d;
	}
}

/* Writes `steps` scrapes of every series in `which` (bit per series mod 5:
 * series with s % 5 in the mask), starting at step k0, with out-of-order
 * and duplicate timestamps; records every write in the model. */
static void hs_write(struct pane_store *st, struct hs_model *mod, int k0, int steps, unsigned mask)
{
	static struct pane_label l[HS_SERIES][1];
	static struct pane_labels ls[HS_SERIES];
	static char names[HS_SERIES][16];
	struct pane_sample *b = calloc(HS_SERIES, sizeof *b);
	for (int s = 0; s < HS_SERIES; s++) {
		snprintf(names[s], sizeof names[s], "i%d", s);
		l[s][0] = (struct pane_label){"inst", names[s]};
		ls[s] = (struct pane_labels){l[s], 1, 1, false};
	}
	for (int k = k0; k < k0 + steps; k++) {
		size_t n = 0;
		for (int s = 0; s < HS_SERIES; s++) {
			if (!(mask & (1u << (s % 5))))
				continue;
			int64_t ts = TW + k * 15000LL + (int64_t)(hs_rand() % 5);
			/* no out-of-order write in a window's first 10 min: a series
			 * that moved to a new window stays there */
			uint64_t r = k % WIN_N >= 40 ? hs_rand() % 20 : 19;
			if (r == 0 && mod[s].n)
				ts = mod[s].ts[mod[s].n - 1]; /* a duplicate timestamp */
			else if (r == 1)
				ts -= (int64_t)(hs_rand() % 600000); /* out of order, up to 10 min back */
			double v = hs_value(s, k);
			b[n++] = (struct pane_sample){"hs", &ls[s], ts, v};
			struct hs_model *m = &mod[s];
			if (m->n == m->cap) {
				m->cap = m->cap ? m->cap * 2 : 256;
				m->ts = realloc(m->ts, m->cap * sizeof *m->ts);
				m->v = realloc(m->v, m->cap * sizeof *m->v);
			}
			m->ts[m->n] = ts;
			m->v[m->n++] = v;
		}
		struct pane_err err = {0};
		size_t acc = 0;
		assert_int_equal(pane_store_write(st, b, n, &acc, &err), 0);
		assert_int_equal(acc, n);
	}
	free(b);
}

/* Every series reads back as its writes stably sorted by time, the last
 * write of a timestamp winning, bit for bit. */
static void hs_check(struct pane_store *st, const struct hs_model *mod)
{
	struct pane_reader r = pane_store_reader(st);
	struct pane_matcher m = {"__name__", "hs", PANE_MATCH_EQ};
	struct pane_series_set *set = NULL;
	struct pane_err err = {0};
	assert_int_equal(r.ops->select(r.ctx, &m, 1, INT64_MIN, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, HS_SERIES);
	for (size_t i = 0; i < set->n; i++) {
		const struct pane_series *ps = &set->series[i];
		int s = atoi(ps->labels.v[1].value + 1);
		const struct hs_model *md = &mod[s];
		/* expected: stable insertion sort, then last write per timestamp */
		int64_t *ts = malloc((md->n + 1) * sizeof *ts);
		double *v = malloc((md->n + 1) * sizeof *v);
		size_t n = 0;
		for (size_t k = 0; k < md->n; k++) {
			size_t j = n++;
			while (j > 0 && ts[j - 1] > md->ts[k]) {
				ts[j] = ts[j - 1];
				v[j] = v[j - 1];
				j--;
			}
			ts[j] = md->ts[k];
			v[j] = md->v[k];
		}
		size_t w = 0;
		for (size_t k = 0; k < n; k++) {
			if (w && ts[w - 1] == ts[k]) {
				v[w - 1] = v[k];
				continue;
			}
			ts[w] = ts[k];
			v[w++] = v[k];
		}
		assert_int_equal(ps->n, w);
		for (size_t k = 0; k < w; k++) {
			assert_true(ps->ts[k] == ts[k]);
			assert_memory_equal(&ps->values[k], &v[k], 8);
		}
		free(ts);
		free(v);
	}
	set->free(set);
}

/* Records writes in the model only (what a child process wrote), through a
 * throw-away store so that the random sequence advances the same way. */
static void hs_model(struct hs_model *mod, const struct pane_store_opts *o, int k0, int steps, unsigned mask)
{
	struct pane_store_opts o2 = *o;
	char *scratch = tmpdir();
	o2.no_wal = true;
	struct pane_store *tmp = open_store(scratch, &o2);
	hs_write(tmp, mod, k0, steps, mask);
	pane_store_close(tmp);
	rmrf(scratch);
	free(scratch);
}

static int64_t file_size(const char *dir, const char *name)
{
	char path[600];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct stat sb;
	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

#define ROLL_SERIES 50
#define ROLL_N 100

/* Every series' samples, ROLL_N in T0's window and one in the next. */
static void roll_check(struct pane_store *st)
{
	struct pane_reader r = pane_store_reader(st);
	struct pane_matcher m = {"__name__", "roll", PANE_MATCH_EQ};
	struct pane_series_set *set;
	struct pane_err err = {0};
	assert_int_equal(r.ops->select(r.ctx, &m, 1, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, ROLL_SERIES);
	for (size_t i = 0; i < set->n; i++) {
		struct pane_series *ps = &set->series[i];
		int k = atoi(ps->labels.v[1].value);
		assert_int_equal(ps->n, ROLL_N + 1);
		for (int j = 0; j < ROLL_N; j++)
			assert_true(ps->ts[j] == T0 + j * 15000LL && ps->values[j] == k * 1000 + j);
		assert_true(ps->ts[ROLL_N] == TW + 1000 && ps->values[ROLL_N] == -k);
	}
	set->free(set);
}

/* A write that rolls every series into the next window only freezes their
 * heads (nothing is persisted on the write path); the frozen heads are
 * read like heads, survive SIGKILL through the WAL, and housekeeping turns
 * them into segments. */
static void window_roll_defers_persisting(void **state)
{
	(void)state;
	char *dir = tmpdir();
	pid_t pid = fork();
	if (pid == 0) {
		struct pane_store *st = open_store(dir, NULL);
		struct pane_sample smp[ROLL_SERIES];
		struct pane_label l[ROLL_SERIES][1];
		struct pane_labels ls[ROLL_SERIES];
		char inst[ROLL_SERIES][8];
		for (int k = 0; k < ROLL_SERIES; k++) {
			snprintf(inst[k], sizeof inst[k], "%d", k);
			l[k][0] = (struct pane_label){"inst", inst[k]};
			ls[k] = (struct pane_labels){l[k], 1, 1, false};
		}
		struct pane_err err = {0};
		for (int j = 0; j <= ROLL_N; j++) {
			for (int k = 0; k < ROLL_SERIES; k++)
				smp[k] = (struct pane_sample){"roll", &ls[k], j < ROLL_N ? T0 + j * 15000LL : TW + 1000,
				                              j < ROLL_N ? k * 1000 + j : -k};
			size_t acc = 0;
			assert_int_equal(pane_store_write(st, smp, ROLL_SERIES, &acc, &err), 0);
			assert_int_equal(acc, ROLL_SERIES);
		}
		struct pane_store_counters c;
		pane_store_get_counters(st, &c);
		assert_int_equal(c.persist_inline, 0); /* the roll froze heads, it persisted none */
		roll_check(st);
		raise(SIGKILL); /* acknowledged, some frozen heads maybe persisted, none closed */
		_exit(1);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	struct pane_store *st = open_store(dir, NULL);
	roll_check(st);
	settle(st); /* frozen heads (again, by replay) become segments */
	roll_check(st);
	pane_store_close(st);
	st = open_store(dir, NULL);
	roll_check(st);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

/* checkpoint_with's values: sample j of series k, as a counter (a few
 * bits each in a head's stream) or as random doubles (~9 bytes each). */
static double ckpt_val(bool dense, int k, int j)
{
	if (!dense)
		return k * 1000 + j;
	uint64_t x = (uint64_t)k * 0x9e3779b97f4a7c15u + (uint64_t)j * 0xbf58476d1ce4e5b9u;
	x ^= x >> 31, x *= 0x94d049bb133111ebu, x ^= x >> 29;
	return (double)(x >> 11) * 0x1p-53 * 1e6;
}

/* A checkpoint with 50 series x 600 samples in heads of one window, the
 * WAL limit 256 KiB. dense (random doubles, ~270 KB of streams, more than
 * half the limit): heads become segments in batches (the lock released
 * between them) until the rest fit in half the limit. Counters (~30 KB of
 * streams): the WAL keeps the heads as their streams (REC_HEAD), nothing
 * is persisted early; one series has a sample out of order. Either way the
 * WAL ends under half its limit and every sample stays readable, also
 * after a SIGKILL right after. */
static void checkpoint_with(bool dense)
{
	char *dir = tmpdir();
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.retention_ms = 0;
	o.wal_max_bytes = 256 << 10;
	o.ooo_window_ms = 3600000;
	const int64_t late = TW + 300 * 15000LL + 7; /* series 3's out-of-order sample */
	pid_t pid = fork();
	if (pid == 0) {
		struct pane_store *st = open_store(dir, &o);
		struct pane_sample smp[ROLL_SERIES];
		struct pane_label l[ROLL_SERIES][1];
		struct pane_labels ls[ROLL_SERIES];
		char inst[ROLL_SERIES][8];
		for (int k = 0; k < ROLL_SERIES; k++) {
			snprintf(inst[k], sizeof inst[k], "%d", k);
			l[k][0] = (struct pane_label){"inst", inst[k]};
			ls[k] = (struct pane_labels){l[k], 1, 1, false};
		}
		struct pane_err err = {0};
		for (int j = 0; j < 600; j++) {
			for (int k = 0; k < ROLL_SERIES; k++)
				smp[k] = (struct pane_sample){"long", &ls[k], TW + j * 15000LL, ckpt_val(dense, k, j)};
			size_t acc = 0;
			assert_int_equal(pane_store_write(st, smp, ROLL_SERIES, &acc, &err), 0);
			if (j == 400 && !dense) {
				smp[0] = (struct pane_sample){"long", &ls[3], late, -1};
				assert_int_equal(pane_store_write(st, smp, 1, &acc, &err), 0);
				assert_int_equal(acc, 1);
			}
		}
		assert_int_equal(pane_store_maintain(st, TW, &err), 0);
		struct stat sb;
		char path[600];
		snprintf(path, sizeof path, "%s/wal", dir);
		assert_int_equal(stat(path, &sb), 0);
		/* The housekeeping thread may have checkpointed part-way through the
		 * writes (the WAL passed wal_max_bytes); what came after stays in the
		 * WAL unless it passed half the limit, when maintain checkpoints: so
		 * at most wal_max_bytes / 2 remain, whichever thread ran it. */
		assert_true(sb.st_size <= o.wal_max_bytes / 2);
		struct pane_store_counters c;
		pane_store_get_counters(st, &c);
		if (dense) /* enough heads persisted for the rest to fit (in batches, as many as that takes) */
			assert_true(c.segments > 0);
		else
			assert_int_equal(c.segments, 0); /* 30,001 samples as records of ~16 bytes would not fit */
		raise(SIGKILL);
		_exit(1);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	struct pane_store *st = open_store(dir, &o);
	struct pane_reader r = pane_store_reader(st);
	struct pane_matcher m = {"__name__", "long", PANE_MATCH_EQ};
	struct pane_series_set *set;
	struct pane_err err = {0};
	assert_int_equal(r.ops->select(r.ctx, &m, 1, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, ROLL_SERIES);
	for (size_t i = 0; i < set->n; i++) {
		struct pane_series *ps = &set->series[i];
		int k = atoi(ps->labels.v[1].value);
		bool ooo = !dense && k == 3;
		assert_int_equal(ps->n, 600 + ooo);
		for (int j = 0, x = 0; j < 600; j++, x++) {
			if (ooo && j == 301) {
				assert_true(ps->ts[x] == late && ps->values[x] == -1);
				x++;
			}
			double w = ckpt_val(dense, k, j);
			assert_true(ps->ts[x] == TW + j * 15000LL);
			assert_memory_equal(&ps->values[x], &w, 8);
		}
	}
	set->free(set);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

static void checkpoint_with_long_heads(void **state)
{
	(void)state;
	checkpoint_with(true);
}

static void checkpoint_keeps_heads_encoded(void **state)
{
	(void)state;
	checkpoint_with(false);
}

/* A select reads heads' blocks after the lock, through a pinned view of
 * the head file (ps_head_pin): every head persisted and the file emptied
 * meanwhile (compaction), then new blocks written, the view still reads
 * the chains as they were. Truncating the file in place would hand the
 * view the new blocks (or SIGBUS). */
static void pinned_head_view_outlives_compaction(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct hs_model *mod = calloc(HS_SERIES, sizeof *mod);
	struct pane_store_opts o;
	hs_opts(&o);
	hs_rng = 7;
	struct pane_store *st = open_store(dir, &o);
	hs_write(st, mod, 0, 300, 0x1f);
	struct ps_hview view;
	struct pane_buf want[3], got[3];
	uint32_t id[3] = {1, 2, HS_SERIES}, last[3], nblk[3];
	pthread_mutex_lock(&st->mu);
	assert_true(ps_head_pin(st, &view));
	for (int i = 0; i < 3; i++) {
		struct pane_err err = {0};
		const struct head *h = &st->ser[id[i]]->h;
		assert_true(h->hnblk > 10);
		pane_buf_init(&want[i], PANE_BUF_NOLIMIT);
		pane_buf_init(&got[i], PANE_BUF_NOLIMIT);
		assert_int_equal(ps_head_bytes(st, id[i], h, &want[i], &err), 0);
		ps_head_bytes_begin(h, &got[i]);
		last[i] = h->hlast;
		nblk[i] = h->hnblk;
	}
	pthread_mutex_unlock(&st->mu);
	/* every series moves to the next window: all blocks die, the file is emptied */
	hs_write(st, mod, WIN_N, 1, 0x1f);
	settle(st);
	assert_int_equal(file_size(dir, "head"), 0);
	hs_write(st, mod, WIN_N + 1, 200, 0x1f); /* new chains, from block 0 of the new file */
	settle(st);
	assert_true(file_size(dir, "head") > 0);
	for (int i = 0; i < 3; i++) {
		struct pane_err err = {0};
		uint32_t from = 99;
		struct pane_hs_anchor a;
		assert_int_equal(ps_head_view_fill(&view, id[i], last[i], nblk[i], INT64_MIN, (uint8_t *)got[i].data,
		                                   &from, &a, &err),
		                 0);
		assert_int_equal(from, 0);
		assert_int_equal(a.idx, 0);
		assert_int_equal(got[i].len, want[i].len);
		assert_memory_equal(got[i].data, want[i].data, want[i].len);
		pane_buf_release(&want[i]);
		pane_buf_release(&got[i]);
	}
	struct pane_err err = {0};
	uint32_t from;
	struct pane_hs_anchor a;
	assert_int_equal(
	    ps_head_view_fill(&view, 1, (uint32_t)(view.len / HBLK) + 1, 1, INT64_MIN, NULL, &from, &a, &err),
	    PANE_EIO);
	ps_head_unpin(st, &view);
	hs_check(st, mod);
	pane_store_close(st);
	hs_model_free(mod);
	rmrf(dir);
	free(dir);
}

/* A select of part of a head decodes it from the anchor of the block the
 * range starts in (ps_head_view_fill): every range, across blocks, window
 * rolls (a frozen head), integer, cent and float values, and a head with
 * a sample out of order (decoded whole), gives what a model says. */
static void head_reads_from_anchors(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store_opts o;
	hs_opts(&o);
	o.ooo_window_ms = 3600000;
	struct pane_store *st = open_store(dir, &o);
	enum { N = WIN_N + 560, NS = 3 };
	static int64_t mts[NS][N + 1];
	static double mv[NS][N + 1];
	size_t mn[NS] = {0};
	uint64_t rng = 5;
	double acc[NS] = {0};
	for (int k = 0; k < N; k++) {
		for (int sidx = 0; sidx < NS; sidx++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			int64_t ts = TW + k * 15000LL + (int64_t)(rng % 7);
			double v = sidx == 0   ? (acc[0] += (double)(rng % 1000))
			           : sidx == 1 ? (acc[1] += (double)(rng % 300) / 100.0)
			                       : (double)(rng >> 11) * 0x1p-53 * 1e3;
			char inst[2] = {(char)('a' + sidx), 0};
			assert_int_equal(put(st, "anc", inst, ts, v), 1);
			mts[sidx][mn[sidx]] = ts;
			mv[sidx][mn[sidx]++] = v;
		}
		if (k == WIN_N + 360) { /* one sample out of order in c's head (a later one, after ts;
			                 * +7: never a scrape's own timestamp, which is +0..6) */
			int64_t ts = TW + (WIN_N + 260) * 15000LL + 7;
			assert_int_equal(put(st, "anc", "c", ts, -1.0), 1);
			size_t j = mn[2]++;
			while (mts[2][j - 1] > ts) {
				mts[2][j] = mts[2][j - 1];
				mv[2][j] = mv[2][j - 1];
				j--;
			}
			mts[2][j] = ts;
			mv[2][j] = -1.0;
		}
	}
	const int ks[] = {0, 1, 37, 100, 500, WIN_N - 1, WIN_N, WIN_N + 1, WIN_N + 260, WIN_N + 460, N - 1, N};
	const int64_t offs[] = {-1, 0, 1, 7499};
	struct pane_reader r = pane_store_reader(st);
	for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++)
		for (size_t b = 0; b < sizeof offs / sizeof offs[0]; b++)
			for (int wide = 0; wide < 2; wide++) {
				int64_t lo = TW + ks[a] * 15000LL + offs[b], hi = wide ? INT64_MAX : lo + 3600000;
				struct pane_series_set *set = NULL;
				struct pane_err err = {0};
				assert_int_equal(r.ops->select(r.ctx, NULL, 0, lo, hi, 0, &set, &err), 0);
				size_t seen = 0;
				for (size_t i = 0; i < set->n; i++) {
					const struct pane_series *ps = &set->series[i];
					int sidx = ps->labels.v[1].value[0] - 'a';
					size_t k = 0;
					for (size_t j = 0; j < mn[sidx]; j++) {
						if (mts[sidx][j] < lo || mts[sidx][j] > hi)
							continue;
						assert_true(k < ps->n);
						assert_true(ps->ts[k] == mts[sidx][j]);
						assert_memory_equal(&ps->values[k], &mv[sidx][j], 8);
						k++;
					}
					assert_int_equal(k, ps->n);
					seen += k > 0;
				}
				assert_int_equal(seen, set->n);
				set->free(set);
			}
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

static void heads_spill_replay_and_compact(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct hs_model *mod = calloc(HS_SERIES, sizeof *mod);
	struct pane_store_opts o;
	hs_opts(&o);
	o.ooo_window_ms = 3600000;
	/* 1. 300 scrapes in one window: heads only, most of them in the head file */
	hs_rng = 1;
	pid_t pid = fork();
	if (pid == 0) {
		struct pane_store *st = open_store(dir, &o);
		hs_write(st, mod, 0, 300, 0x1f);
		assert_true(file_size(dir, "head") > 600 * 64 * 10);
		hs_check(st, mod);
		_exit(0); /* a crash: the heads exist only in the WAL (and the head file) */
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	hs_rng = 1;
	hs_model(mod, &o, 0, 300, 0x1f); /* the child's writes, in this process's model */
	/* 2. replay rebuilds the heads (and the head file, truncated on open) */
	struct pane_store *st = open_store(dir, &o);
	assert_true(file_size(dir, "head") > 600 * 64 * 10);
	hs_check(st, mod);
	/* 3. four series in five move to the next window: their heads become
	 * segments (housekeeping), their blocks dead; the file is compacted to
	 * the live fifth */
	int64_t before = file_size(dir, "head");
	hs_write(st, mod, WIN_N, 1, 0x1e);
	hs_check(st, mod); /* frozen heads are read like heads */
	settle(st);
	int64_t after = file_size(dir, "head");
	assert_true(after > 0 && after < before / 3);
	hs_check(st, mod);
	hs_write(st, mod, 300, 50, 0x01); /* the live chains keep growing after the move */
	hs_write(st, mod, WIN_N + 1, 50, 0x1e);
	hs_check(st, mod);
	/* 4. a checkpoint rewrites the WAL from decoded heads (not persisting
	 * them: the head file stays in use); a crash after it replays them */
	pane_store_close(st);
	assert_int_equal(file_size(dir, "head"), 0);
	o.wal_max_bytes = 1 << 20;
	uint64_t rng_at = hs_rng;
	pid = fork();
	if (pid == 0) {
		st = open_store(dir, &o);
		hs_check(st, mod);
		hs_write(st, mod, WIN_N + 51, 40, 0x1f);
		hs_write(st, mod, 2 * WIN_N, 30, 0x1e);
		int64_t wal_before = file_size(dir, "wal");
		struct pane_err err = {0};
		assert_int_equal(pane_store_maintain(st, TW, &err), 0);
		assert_true(file_size(dir, "wal") < wal_before);
		assert_true(file_size(dir, "head") > 0);
		hs_check(st, mod);
		hs_write(st, mod, 2 * WIN_N + 30, 5, 0x1f);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	hs_rng = rng_at;
	hs_model(mod, &o, WIN_N + 51, 40, 0x1f);
	hs_model(mod, &o, 2 * WIN_N, 30, 0x1e);
	hs_model(mod, &o, 2 * WIN_N + 30, 5, 0x1f);
	st = open_store(dir, &o);
	hs_check(st, mod);
	pane_store_close(st);
	st = open_store(dir, &o);
	hs_check(st, mod);
	pane_store_close(st);
	hs_model_free(mod);
	rmrf(dir);
	free(dir);
}

/* Heads whose head-file blocks lie one after another (a series written
 * alone) and heads whose chains jump (series written in turns): read back
 * exactly, as heads (select) and after persisting (close); and a head
 * persisted within the write that made it (two window rolls in one
 * batch), its blocks partly written to the file, partly still buffered. */
static void head_block_runs(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store_opts o;
	hs_opts(&o);
	struct pane_store *st = open_store(dir, &o);
	enum { N = 3700 };
	static double want[3][N];
	static int64_t wts[3][N];
	size_t have[3] = {0};
	struct pane_label l[3][1] = {{{"s", "a"}}, {{"s", "b"}}, {{"s", "c"}}};
	struct pane_labels ls[3] = {{l[0], 1, 1, false}, {l[1], 1, 1, false}, {l[2], 1, 1, false}};
	uint64_t rng = 7;
	struct pane_sample b[300];
	/* a alone, b alone (contiguous chains, ~9 B a sample: some 500 blocks
	 * each, past the 64 KiB the head file buffers), then all three in turns */
	for (int phase = 0; phase < 3; phase++) {
		for (int done = 0; done < (phase < 2 ? 3000 : 700); done += 300 / (phase < 2 ? 1 : 3)) {
			size_t k = 0;
			for (int j = 0; j < (phase < 2 ? 300 : 100); j++)
				for (int sr = 0; sr < 3; sr++) {
					if (phase < 2 && sr != phase)
						continue;
					rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
					double v = (double)(rng >> 11) / 9007199254740992.0 * 1e6;
					int64_t t = TW + (int64_t)have[sr] * 1000;
					want[sr][have[sr]] = v;
					wts[sr][have[sr]++] = t;
					b[k++] = (struct pane_sample){"runs", &ls[sr], t, v};
				}
			struct pane_err err = {0};
			size_t acc = 0;
			assert_int_equal(pane_store_write(st, b, k, &acc, &err), 0);
			assert_int_equal(acc, k);
		}
	}
	assert_true(file_size(dir, "head") > 0);
	/* one batch: e (~600 blocks) then d (~450) in the next window; the
	 * file buffer is written out at 1,000 blocks, in the middle of d's
	 * chain; d then rolls twice, so its frozen head is persisted inline */
	static struct pane_sample big[4096 + 3000 + 20];
	size_t k = 0;
	for (int j = 0; j < 4000; j++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		big[k++] = (struct pane_sample){"runs2", &ls[0], TW + 4000000 + j * 1000LL, (double)(rng >> 11) / 7.0};
	}
	static double dv[3020];
	static int64_t dts[3020];
	for (int j = 0; j < 3020; j++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		dv[j] = (double)(rng >> 11) / 3.0;
		dts[j] = j < 3000 ? TW + WINDOW_MS + j * 1000LL : TW + (j < 3010 ? 2 : 3) * WINDOW_MS + j;
		big[k++] = (struct pane_sample){"runs2", &ls[1], dts[j], dv[j]};
	}
	struct pane_err werr = {0};
	size_t wacc = 0;
	assert_int_equal(pane_store_write(st, big, k, &wacc, &werr), 0);
	assert_int_equal(wacc, k);
	struct pane_store_counters c;
	pane_store_get_counters(st, &c);
	assert_true(c.persist_inline >= 1);
	for (int pass = 0; pass < 2; pass++) {
		struct pane_reader r = pane_store_reader(st);
		struct pane_matcher m = {"__name__", "runs", PANE_MATCH_EQ};
		struct pane_series_set *set = NULL;
		struct pane_err err = {0};
		assert_int_equal(r.ops->select(r.ctx, &m, 1, INT64_MIN, INT64_MAX, 0, &set, &err), 0);
		assert_int_equal(set->n, 3);
		for (size_t sr = 0; sr < 3; sr++) {
			assert_int_equal(set->series[sr].n, have[sr]);
			for (size_t j = 0; j < have[sr]; j++) {
				assert_true(set->series[sr].ts[j] == wts[sr][j]);
				assert_memory_equal(&set->series[sr].values[j], &want[sr][j], 8);
			}
		}
		set->free(set);
		struct pane_matcher m2[] = {{"__name__", "runs2", PANE_MATCH_EQ}, {"s", "b", PANE_MATCH_EQ}};
		assert_int_equal(r.ops->select(r.ctx, m2, 2, INT64_MIN, INT64_MAX, 0, &set, &err), 0);
		assert_int_equal(set->n, 1);
		assert_int_equal(set->series[0].n, 3020);
		for (size_t j = 0; j < 3020; j++) {
			assert_true(set->series[0].ts[j] == dts[j]);
			assert_memory_equal(&set->series[0].values[j], &dv[j], 8);
		}
		set->free(set);
		pane_store_close(st); /* persists every head: read back through pread */
		st = open_store(dir, &o);
	}
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

/* issue 14 item 7: a select over many series with one sample each (an
 * instant query's count(x)) held 4 KiB per series (the first block of a
 * series' sample arrays); now its arrays are as large as its samples. The
 * heap in use is read from the allocator itself (mallinfo2), not RSS. */
static void select_memory_per_series(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.retention_ms = 0;
	o.max_series = 0;
	o.max_series_per_metric = 0;
	struct pane_store *st = open_store(dir, &o);
	enum { N = 20000 };
	static char names[N][8];
	static struct pane_label l[N][1];
	static struct pane_labels ls[N];
	static struct pane_sample batch[N];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "%05d", i);
		l[i][0] = (struct pane_label){"inst", names[i]};
		ls[i] = (struct pane_labels){l[i], 1, 1, false};
		batch[i] = (struct pane_sample){"one", &ls[i], T0, (double)i};
	}
	struct pane_err err = {0};
	size_t acc = 0;
	assert_int_equal(pane_store_write(st, batch, N, &acc, &err), 0);
	assert_int_equal(acc, N);
	struct pane_reader r = pane_store_reader(st);
	struct pane_matcher m = {"__name__", "one", PANE_MATCH_EQ};
	struct pane_series_set *set = NULL;
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
	struct mallinfo2 before = mallinfo2();
#endif
	assert_int_equal(r.ops->select(r.ctx, &m, 1, T0 - 300000, T0, 0, &set, &err), 0);
	assert_int_equal(set->n, N);
	assert_int_equal(set->series[N - 1].n, 1);
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
	struct mallinfo2 after = mallinfo2();
	size_t held = after.uordblks + after.hblkhd - before.uordblks - before.hblkhd;
	if (held > (size_t)N * 512)
		fail_msg("a set of %d one-sample series holds %zu bytes (%zu a series)", N, held, held / N);
#endif
	set->free(set);
	/* one series' samples past max_samples fail before they are all held */
	assert_int_equal(r.ops->select(r.ctx, &m, 1, T0 - 300000, T0, 100, &set, &err), PANE_ETOOBIG);
	assert_null(set);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

/* A select of many series over hours is read by several threads
 * (select.c): each series must come out exactly as a select of that
 * series alone (always one thread) gives it, in the same order, with the
 * same max_samples outcome, also while other selects run. */
#define PAR_N 48
#define PAR_STEPS (30 * 240) /* 30 h of 15 s samples: two days, windows persisted and heads */

static struct pane_series_set *par_select(struct pane_store *st, const char *inst, int64_t mint, int64_t maxt,
                                          size_t max_samples, int64_t step, int *rc)
{
	struct pane_matcher m[2] = {{"__name__", "p", PANE_MATCH_EQ}, {"inst", inst ? inst : "", PANE_MATCH_EQ}};
	struct pane_series_set *set = NULL;
	struct pane_err err = {0};
	if (step)
		*rc = pane_store_select_tier(st, step, PANE_AGG_AVG, m, inst ? 2 : 1, mint, maxt, max_samples, &set,
		                             &err);
	else {
		struct pane_reader r = pane_store_reader(st);
		*rc = r.ops->select(r.ctx, m, inst ? 2 : 1, mint, maxt, max_samples, &set, &err);
	}
	return set;
}

static void par_check(struct pane_store *st, int64_t mint, int64_t maxt, int64_t step)
{
	int rc;
	struct pane_series_set *all = par_select(st, NULL, mint, maxt, 0, step, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(all->n, PAR_N);
	size_t total = 0;
	for (size_t i = 0; i < all->n; i++) {
		const char *inst = all->series[i].labels.v[1].value;
		char want[8];
		snprintf(want, sizeof want, "%02zu", i);
		assert_string_equal(inst, want); /* the same order */
		struct pane_series_set *one = par_select(st, inst, mint, maxt, 0, step, &rc);
		assert_int_equal(rc, 0);
		assert_int_equal(one->n, 1);
		assert_int_equal(one->series[0].n, all->series[i].n);
		assert_true(all->series[i].n > 0);
		assert_memory_equal(one->series[0].ts, all->series[i].ts, all->series[i].n * sizeof(int64_t));
		assert_memory_equal(one->series[0].values, all->series[i].values, all->series[i].n * sizeof(double));
		total += one->series[0].n;
		one->free(one);
	}
	all->free(all);
	/* max_samples: exactly enough passes, one fewer fails */
	all = par_select(st, NULL, mint, maxt, total, step, &rc);
	assert_int_equal(rc, 0);
	all->free(all);
	assert_null(par_select(st, NULL, mint, maxt, total - 1, step, &rc));
	assert_int_equal(rc, PANE_ETOOBIG);
	assert_null(par_select(st, NULL, mint, maxt, total / 3, step, &rc));
	assert_int_equal(rc, PANE_ETOOBIG);
}

static void *par_thread(void *p)
{
	for (int k = 0; k < 4; k++)
		par_check(p, T0 + 3600 * 1000LL, T0 + 29 * 3600 * 1000LL, 0);
	return NULL;
}

static void parallel_select_same_as_one_by_one(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct pane_store *st = open_store(dir, NULL);
	static char names[PAR_N][8];
	static struct pane_label l[PAR_N][1];
	static struct pane_labels ls[PAR_N];
	static struct pane_sample batch[PAR_N * 20];
	for (int i = 0; i < PAR_N; i++) {
		snprintf(names[i], sizeof names[i], "%02d", i);
		l[i][0] = (struct pane_label){"inst", names[i]};
		ls[i] = (struct pane_labels){l[i], 1, 1, false};
	}
	for (int k = 0; k < PAR_STEPS; k += 20) {
		size_t n = 0;
		for (int j = k; j < k + 20; j++)
			for (int i = 0; i < PAR_N; i++)
				batch[n++] = (struct pane_sample){"p", &ls[i], T0 + j * 15000LL, val(i % 3, j + i)};
		struct pane_err err = {0};
		size_t acc = 0;
		assert_int_equal(pane_store_write(st, batch, n, &acc, &err), 0);
		assert_int_equal(acc, n);
		if (k % 2400 == 0)
			settle(st); /* windows past persisted as segments, the newest in heads */
	}
	par_check(st, T0, T0 + PAR_STEPS * 15000LL, 0);
	par_check(st, T0 + 1234567, T0 + 20 * 3600 * 1000LL + 7, 0);
	par_check(st, T0, T0 + PAR_STEPS * 15000LL, 300000);
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, par_thread, st), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	pane_store_close(st);
	rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(write_read_reopen),
	    cmocka_unit_test(shared_timestamps_and_corrupt_segments),
	    cmocka_unit_test(evenly_spaced_timestamps),
	    cmocka_unit_test(reads_run_beside_writes),
	    cmocka_unit_test(downsampled_tiers),
	    cmocka_unit_test(tier_select_beside_a_persist),
	    cmocka_unit_test(tiers_in_days_of_earlier_panes),
	    cmocka_unit_test(damaged_tier_region),
	    cmocka_unit_test(retention_drops_both_layouts),
	    cmocka_unit_test(wal_replay_cuts_torn_tail),
	    cmocka_unit_test(out_of_order_and_cardinality),
	    cmocka_unit_test(write_by_refs),
	    cmocka_unit_test(catalog_keys_front_coded),
	    cmocka_unit_test(retention_drops_whole_days),
	    cmocka_unit_test(many_days_big_batches_and_the_future),
	    cmocka_unit_test(logs_and_events),
	    cmocka_unit_test(heads_spill_replay_and_compact),
	    cmocka_unit_test(pinned_head_view_outlives_compaction),
	    cmocka_unit_test(head_reads_from_anchors),
	    cmocka_unit_test(head_block_runs),
	    cmocka_unit_test(window_roll_defers_persisting),
	    cmocka_unit_test(checkpoint_with_long_heads),
	    cmocka_unit_test(checkpoint_keeps_heads_encoded),
	    cmocka_unit_test(select_memory_per_series),
	    cmocka_unit_test(parallel_select_same_as_one_by_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
