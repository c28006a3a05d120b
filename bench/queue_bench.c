/*
 * queue_bench.c - pane's side of bench/run-queue.sh.
 *
 *   queue_bench enqueue URL N [BATCH]     pane.enqueue_many in batches; prints jobs/s
 *   queue_bench pickup URL N              N single enqueues 20 ms apart on queue
 *                                         'lat' while a worker (started by the
 *                                         script) idles; prints p50/p99 of
 *                                         (job started_at - enqueue commit) in ms
 *   queue_bench claim URL N LABEL         N times: enqueue one job, time the
 *                                         pane.claim call, complete it; prints
 *                                         p50/p99 claim latency in ms
 *   queue_bench fill URL FINISHED STUCK   adds FINISHED completed jobs to history
 *                                         and STUCK running jobs held by a dead
 *                                         worker (lease far ahead), then VACUUM
 *                                         ANALYZE
 *
 * Every line printed is "pane <mode> <figures...>"; run-queue.sh collects
 * them next to graphile-worker's. Timing uses the wall clock on both sides
 * of the database (same machine), as the peer's script does.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"

static PGconn *conn(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "queue_bench: %s", PQerrorMessage(c));
		exit(1);
	}
	return c;
}

static PGresult *must(PGconn *c, PGresult *r)
{
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "queue_bench: %s", PQerrorMessage(c));
		exit(1);
	}
	return r;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	int i = (int)(p * n);
	return v[i >= n ? n - 1 : i];
}

static double wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: queue_bench enqueue|pickup|claim|fill URL N [...]\n");
		return 2;
	}
	const char *mode = argv[1];
	PGconn *c = conn(argv[2]);
	int n = (int)strtol(argv[3], NULL, 10);
	if (!strcmp(mode, "enqueue")) {
		int batch = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 1000;
		int64_t t0 = pane_mono_ns();
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		for (int off = 0; off < n; off += batch) {
			int k = n - off < batch ? n - off : batch;
			pane_buf_reset(&b);
			pane_buf_addc(&b, '[');
			for (int i = 0; i < k; i++)
				pane_buf_addf(&b, "%s{\"queue\":\"bench\",\"payload\":{\"i\":%d}}", i ? "," : "",
				              off + i);
			pane_buf_addc(&b, ']');
			const char *p[1] = {b.data};
			PQclear(must(c, PQexecParams(c, "SELECT count(*) FROM pane.enqueue_many($1::jsonb)", 1, NULL, p,
			                             NULL, NULL, 0)));
		}
		double s = (double)(pane_mono_ns() - t0) / 1e9;
		printf("pane enqueue %d %.0f\n", n, n / s);
		pane_buf_release(&b);
	} else if (!strcmp(mode, "pickup")) {
		double *sent = pane_xcalloc((size_t)n, sizeof *sent);
		int64_t *ids = pane_xcalloc((size_t)n, sizeof *ids);
		for (int i = 0; i < n; i++) {
			PGresult *r = must(c, PQexec(c, "SELECT pane.enqueue('lat')"));
			sent[i] = wall_us();
			ids[i] = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			PQclear(r);
			pane_sleep_ms(20);
		}
		pane_sleep_ms(500);
		double *lat = pane_xcalloc((size_t)n, sizeof *lat);
		int m = 0;
		for (int i = 0; i < n; i++) {
			char q[160];
			snprintf(q, sizeof q,
			         "SELECT extract(epoch FROM (pane.job(%" PRId64 ")->>'started_at')::timestamptz) * 1e6",
			         ids[i]);
			PGresult *r = must(c, PQexec(c, q));
			if (!PQgetisnull(r, 0, 0))
				lat[m++] = (strtod(PQgetvalue(r, 0, 0), NULL) - sent[i]) / 1000.0;
			PQclear(r);
		}
		printf("pane pickup %d %.2f %.2f\n", m, pct(lat, m, 0.5), pct(lat, m, 0.99));
		free(sent);
		free(ids);
		free(lat);
	} else if (!strcmp(mode, "claim")) {
		const char *label = argc > 4 ? argv[4] : "-";
		double *lat = pane_xcalloc((size_t)n, sizeof *lat);
		for (int i = 0; i < n; i++) {
			PQclear(must(c, PQexec(c, "SELECT pane.enqueue('claimq')")));
			double t = wall_us();
			PGresult *r =
			    must(c, PQexec(c, "SELECT id, attempt FROM pane.claim('bench-w', 'claimq', 1, 30)"));
			lat[i] = (wall_us() - t) / 1000.0;
			if (PQntuples(r) != 1) {
				fprintf(stderr, "queue_bench: claim found no job\n");
				return 1;
			}
			char q[200];
			snprintf(q, sizeof q,
			         "SELECT pane.complete_jobs('bench-w', ARRAY[%s]::bigint[], ARRAY[%s]::int[])",
			         PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
			PQclear(r);
			PQclear(must(c, PQexec(c, q)));
		}
		printf("pane claim %s %.3f %.3f\n", label, pct(lat, n, 0.5), pct(lat, n, 0.99));
		free(lat);
	} else if (!strcmp(mode, "fill")) {
		int stuck = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 0;
		char q[1024];
		snprintf(q, sizeof q,
		         "INSERT INTO pane.jobs_history (id, queue, state, payload, priority, attempt, max_attempts, "
		         "run_at, created_at,"
		         " started_at, finished_at) SELECT g, 'claimq', 'completed', '{\"i\": 1}', 0, 1, 25, now(), "
		         "now(), now(), now()"
		         " FROM generate_series(1000000000, 1000000000 + %d - 1) g",
		         n);
		PQclear(must(c, PQexec(c, q)));
		snprintf(q, sizeof q,
		         "INSERT INTO pane.jobs (queue, state, attempt, locked_by, started_at, lease_expires_at)"
		         " SELECT 'claimq', 'running', 1, 'dead-worker', now(), now() + interval '1 day' FROM "
		         "generate_series(1, %d)",
		         stuck);
		PQclear(must(c, PQexec(c, q)));
		PQclear(must(c, PQexec(c, "VACUUM ANALYZE pane.jobs")));
		PQclear(must(c, PQexec(c, "VACUUM ANALYZE pane.jobs_history")));
		printf("pane fill %d %d\n", n, stuck);
	}
	PQfinish(c);
	return 0;
}
