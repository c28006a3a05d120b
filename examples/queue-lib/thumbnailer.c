/*
 * thumbnailer.c - a program using pane's job queue as a C library: it
 * migrates the schema, enqueues jobs, and runs a worker whose handler is a
 * C function.
 *
 *   cc thumbnailer.c $(pkg-config --cflags --libs pane-queue) -o thumbnailer
 *   DATABASE_URL=postgresql://... ./thumbnailer [N]
 *
 * The handler answers {"side": payload.w / 4} for each job, fails for good
 * when "w" is missing, and the program prints what it saw. The header is
 * included twice on purpose: it must stay include-guarded and self-contained.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <pane/queue.h>
#include <pane/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int thumbnail(void *arg, const struct pane_queue_job *job, char **result, char **error)
{
	int *seen = arg;
	__atomic_add_fetch(seen, 1, __ATOMIC_RELAXED);
	const char *w = strstr(job->payload, "\"w\": ");
	if (!w) {
		*error = strdup("payload has no \"w\"");
		return PANE_QUEUE_DISCARD;
	}
	char out[64];
	snprintf(out, sizeof out, "{\"side\": %ld, \"attempt\": %d}", strtol(w + 5, NULL, 10) / 4, job->attempt);
	*result = strdup(out);
	return PANE_QUEUE_DONE;
}

int main(int argc, char **argv)
{
	const char *url = getenv("DATABASE_URL");
	int n = argc > 1 ? atoi(argv[1]) : 5;
	if (!url) {
		fprintf(stderr, "DATABASE_URL is not set\n");
		return 2;
	}
	PGconn *c = PQconnectdb(url);
	struct pane_err err = {0};
	if (PQstatus(c) != CONNECTION_OK || pane_queue_migrate(c, NULL, NULL, NULL, &err) < 0) {
		fprintf(stderr, "migrate: %s %s\n", err.msg, PQerrorMessage(c));
		return 1;
	}
	for (int i = 0; i <= n; i++) {
		char payload[64];
		snprintf(payload, sizeof payload, i < n ? "{\"w\": %d}" : "{\"broken\": %d}", 400 + i * 4);
		struct pane_job_spec spec = {.queue = "thumbs", .payload_json = payload, .max_attempts = 3};
		int64_t id;
		if (pane_queue_enqueue(c, NULL, &spec, &id, &err) < 0) {
			fprintf(stderr, "enqueue: %s\n", err.msg);
			return 1;
		}
	}
	int seen = 0;
	const char *queues[] = {"thumbs"};
	struct pane_queue_worker_opts o = {
	    .database_url = url,
	    .queues = queues,
	    .n_queues = 1,
	    .concurrency = 4,
	    .handler = PANE_HANDLER_FUNC,
	    .handler_fn = thumbnail,
	    .handler_arg = &seen,
	    .drain = true,
	};
	struct pane_queue_worker_stats st = {0};
	if (pane_queue_worker_run(&o, &st, &err) < 0) {
		fprintf(stderr, "worker: %s\n", err.msg);
		return 1;
	}
	printf("handled %d processed %llu failed %llu\n", seen, (unsigned long long)st.processed,
	       (unsigned long long)st.failed);
	PQfinish(c);
	return 0;
}
