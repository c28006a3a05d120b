/* test_import.c - `pane import` (the real binary) loads Prometheus text into a
 * data directory exactly: values, timestamps, escaped label values, names
 * given as __name__; bad lines are named and skipped; a busy store is refused;
 * --label fills in labels a series lacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

#define T0 1700000000000LL

/* Runs the binary with a shell command line; returns the exit status, output in out. */
static int run(const char *args, char *out, size_t outlen)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", getenv("PANE_BIN"), args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void import_roundtrip(void **state)
{
	(void)state;
	char dir[] = "/tmp/pane-import.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char file[600], args[1400], out[8192];
	snprintf(file, sizeof file, "%s/in.prom", dir);
	FILE *f = fopen(file, "w");
	fprintf(f, "# HELP node_cpu_seconds_total cpu\n# TYPE node_cpu_seconds_total counter\n");
	for (int i = 0; i < 500; i++) {
		fprintf(f, "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} %.2f %lld\n", 1000.5 + i * 14.87,
		        T0 + i * 15000LL);
		fprintf(f, "{__name__=\"http_requests_total\",path=\"/a\\\"b\\\\c\\nd\"} %d %lld\n", i * 3,
		        T0 + i * 15000LL);
		if (i % 100 == 50)
			fprintf(f, "up{job=\"x\"} NaN %lld\n", T0 + i * 15000LL);
		else
			fprintf(f, "up{job=\"x\"} 1 %lld\n", T0 + i * 15000LL);
	}
	fprintf(f, "broken{a=\"b\" 1 2\nup{job=\"x\"} one %lld\n\n", T0);
	fclose(f);
	snprintf(args, sizeof args, "import --format prometheus '%s' --data-dir '%s/data'", file, dir);
	assert_int_equal(run(args, out, sizeof out), 1); /* two bad lines */
	assert_non_null(strstr(out, "imported 1500 samples"));
	assert_non_null(strstr(out, "in.prom:1503: expected ',' or '}' in label set"));
	assert_non_null(strstr(out, "in.prom:1504: bad sample value"));
	assert_non_null(strstr(out, "2 bad line(s) skipped"));

	struct pane_store_opts o;
	pane_store_opts_default(&o);
	char sdir[700];
	snprintf(sdir, sizeof sdir, "%s/data/store", dir);
	o.dir = sdir;
	o.retention_ms = 0;
	struct pane_err err = {0};
	struct pane_store *st = pane_store_open(&o, &err);
	assert_non_null(st);
	/* while the store is open, an import into it is refused */
	assert_int_equal(run(args, out, sizeof out), 1);
	assert_non_null(strstr(out, "in use by another pane process"));
	struct pane_reader r = pane_store_reader(st);
	struct pane_matcher m = {"path", "/a\"b\\c\nd", PANE_MATCH_EQ};
	struct pane_series_set *set;
	assert_int_equal(r.ops->select(r.ctx, &m, 1, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, 1);
	assert_string_equal(set->series[0].labels.v[0].value, "http_requests_total");
	assert_int_equal(set->series[0].n, 500);
	assert_true(set->series[0].values[499] == 1497.0);
	set->free(set);
	struct pane_matcher cpu = {"__name__", "node_cpu_seconds_total", PANE_MATCH_EQ};
	assert_int_equal(r.ops->select(r.ctx, &cpu, 1, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->series[0].n, 500);
	for (int i = 0; i < 500; i++) {
		char want[64];
		snprintf(want, sizeof want, "%.2f", 1000.5 + i * 14.87);
		assert_true(set->series[0].values[i] == strtod(want, NULL));
		assert_true(set->series[0].ts[i] == T0 + i * 15000LL);
	}
	set->free(set);
	struct pane_matcher up = {"__name__", "up", PANE_MATCH_EQ};
	assert_int_equal(r.ops->select(r.ctx, &up, 1, 0, INT64_MAX, 0, &set, &err), 0);
	assert_true(isnan(set->series[0].values[50]) && set->series[0].values[51] == 1.0);
	set->free(set);
	pane_store_close(st);

	/* --wal: the same data through the WAL path (as the daemon writes) */
	snprintf(args, sizeof args, "import --wal --format prometheus '%s' --data-dir '%s/data2'", file, dir);
	assert_int_equal(run(args, out, sizeof out), 1);
	assert_non_null(strstr(out, "imported 1500 samples"));
	snprintf(sdir, sizeof sdir, "%s/data2/store", dir);
	st = pane_store_open(&o, &err);
	assert_non_null(st);
	r = pane_store_reader(st);
	assert_int_equal(r.ops->select(r.ctx, NULL, 0, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, 3);
	size_t total = 0;
	for (size_t i = 0; i < set->n; i++)
		total += set->series[i].n;
	assert_int_equal(total, 1500);
	set->free(set);
	pane_store_close(st);

	/* --label: filled in where a series lacks the label, never over its own */
	snprintf(file, sizeof file, "%s/labels.prom", dir);
	f = fopen(file, "w");
	fprintf(f, "jobs_done{service=\"worker\"} 7 %lld\njobs_done 3 %lld\n", T0, T0);
	fclose(f);
	snprintf(args, sizeof args,
	         "import --format prometheus '%s' --data-dir '%s/data3' --label service=api -l environment=production",
	         file, dir);
	assert_int_equal(run(args, out, sizeof out), 0);
	assert_non_null(strstr(out, "imported 2 samples"));
	snprintf(sdir, sizeof sdir, "%s/data3/store", dir);
	st = pane_store_open(&o, &err);
	assert_non_null(st);
	r = pane_store_reader(st);
	struct pane_matcher env = {"environment", "production", PANE_MATCH_EQ};
	assert_int_equal(r.ops->select(r.ctx, &env, 1, 0, INT64_MAX, 0, &set, &err), 0);
	assert_int_equal(set->n, 2);
	for (size_t i = 0; i < set->n; i++) {
		const char *svc = pane_labels_get(&set->series[i].labels, "service");
		assert_non_null(svc);
		assert_true(set->series[i].values[0] == (strcmp(svc, "worker") == 0 ? 7.0 : 3.0));
		assert_true(strcmp(svc, "worker") == 0 || strcmp(svc, "api") == 0);
	}
	assert_string_not_equal(pane_labels_get(&set->series[0].labels, "service"),
	                        pane_labels_get(&set->series[1].labels, "service"));
	set->free(set);
	pane_store_close(st);
	snprintf(args, sizeof args, "import --format prometheus '%s' --data-dir '%s/data4' --label 9bad=x", file, dir);
	assert_int_equal(run(args, out, sizeof out), 2);
	assert_non_null(strstr(out, "--label '9bad=x' is not NAME=VALUE"));
	snprintf(args, sizeof args, "import --format prometheus '%s' --data-dir '%s/data4' --label service", file, dir);
	assert_int_equal(run(args, out, sizeof out), 2);

	/* usage errors */
	assert_int_equal(run("import --help", out, sizeof out), 0);
	assert_non_null(strstr(out, "usage: pane import"));
	assert_int_equal(run("import x.prom", out, sizeof out), 2);
	assert_non_null(strstr(out, "--format is required"));
	assert_int_equal(run("import --format influx x", out, sizeof out), 2);
	assert_int_equal(run("import --format prometheus /nonexistent/x.prom", out, sizeof out), 1);
	assert_non_null(strstr(out, "cannot open /nonexistent/x.prom"));
	snprintf(args, sizeof args, "rm -rf '%s'", dir);
	assert_int_equal(system(args), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(import_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
