/*
 * remote.h - a struct pane_reader over a Prometheus-compatible HTTP API.
 *
 * `query: {backend: URL}` in pane.yaml makes pane's Prometheus API, the
 * console and rule evaluation read series from another engine
 * (VictoriaMetrics, Prometheus, Mimir, ...) instead of the embedded store.
 * pane's own PromQL engine still evaluates every query; only the reads go
 * out:
 *
 *   select(matchers, mint, maxt)  -> POST URL/api/v1/query with the matrix
 *                                    selector {matchers}[Δms] at maxt (raw
 *                                    samples on Prometheus and VictoriaMetrics)
 *   label_names(matchers, ...)    -> POST URL/api/v1/labels
 *   label_values(name, ...)       -> GET  URL/api/v1/label/NAME/values
 *   metadata(metric, limit)       -> GET  URL/api/v1/metadata (what the engine
 *                                    keeps: Prometheus and Mimir from scrapes)
 *
 * Every request has a whole-request timeout and a bound on the response body;
 * an answer that is not the Prometheus JSON envelope, or holds more samples
 * than the query may load, fails with a message naming the backend.
 * Threads: select and the label calls may run on many threads at once (each
 * call uses its own HTTP client).
 */
#ifndef PANE_REMOTE_REMOTE_H
#define PANE_REMOTE_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/reader.h"

struct pane_host;
struct pane_remote;

struct pane_remote_opts {
	const char *url;        /* http(s)://host[:port][/prefix], the part before /api/v1 */
	int64_t timeout_ms;     /* whole request; 0: 30 s */
	size_t max_body;        /* response body bound; 0: 64 MiB */
	const char *bearer;     /* Authorization: Bearer, or NULL */
	const char *basic_user; /* basic auth when set */
	const char *basic_pass;
	const char *const *headers; /* NULL-terminated "Name: value" lines (copied), or NULL */
};

/* NULL with err for a bad URL. */
struct pane_remote *pane_remote_new(const struct pane_remote_opts *o, struct pane_err *err);
void pane_remote_free(struct pane_remote *r);
struct pane_reader pane_remote_reader(struct pane_remote *r);

/* What select and the label calls do with an answer once it has arrived
 * (HTTP status and body), without the exchange: for the fuzzer and tests.
 * Same results and errors as the reader's calls. */
int pane_remote_decode_select(const char *body, size_t len, long status, int64_t mint, int64_t maxt, size_t max_samples,
                              struct pane_series_set **out, struct pane_err *err);
int pane_remote_decode_strings(const char *body, size_t len, long status, char ***v, size_t *n, struct pane_err *err);
int pane_remote_decode_metadata(const char *body, size_t len, long status, size_t limit, struct pane_metadata **out,
                                size_t *n, struct pane_err *err);

/* `pane serve`, before the query API (step 6): when the `query:` section names
 * a backend, replaces *rd with a reader over it (freed at stop, its state in
 * /readyz); otherwise leaves *rd as it is (the store's reader). Errors in the
 * section name file:line. */
int pane_remote_attach(struct pane_host *h, struct pane_reader *rd, struct pane_err *err);

#endif
