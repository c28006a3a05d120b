/*
 * query_server.c - pane's Prometheus API over an in-memory data set, for
 * bench/run-query.sh: `bench_query_server DATA.om PORT` serves until SIGTERM.
 * The store is not on this branch yet, so the benchmark measures the query
 * engine and the HTTP API over the tests' in-memory reader.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/prom_api.h"
#include "memreader.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_query_server DATA.om PORT\n");
		return 2;
	}
	struct pane_err err = {0};
	struct pt_memdb *db = pt_memdb_load(argv[1], &err);
	if (!db) {
		fprintf(stderr, "bench_query_server: %s\n", err.msg);
		return 1;
	}
	char listen[64];
	snprintf(listen, sizeof listen, "127.0.0.1:%s", argv[2]);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct pane_http_server *srv =
	    pane_http_server_new(&(struct pane_http_server_opts){.listen = listen, .threads = 2}, &err);
	struct pane_query_api *api = srv ? pane_query_api_new(srv, pt_memdb_reader(db), NULL, &err) : NULL;
	if (!api || pane_http_server_start(srv, &err) < 0) {
		fprintf(stderr, "bench_query_server: %s\n", err.msg);
		return 1;
	}
	fprintf(stderr, "bench_query_server: %zu series on %s\n", pt_memdb_series(db), listen);
	int sig;
	sigwait(&set, &sig);
	pane_http_server_free(srv);
	pane_query_api_free(api);
	pt_memdb_free(db);
	return 0;
}
