/*
 * remote_write.h - Prometheus remote_write 1.0: snappy block + protobuf
 * WriteRequest, decoded by hand into sample batches.
 *
 * The messages (from the public spec): WriteRequest { repeated TimeSeries
 * timeseries = 1; }, TimeSeries { repeated Label labels = 1; repeated Sample
 * samples = 2; }, Label { string name = 1; string value = 2; }, Sample {
 * double value = 1; int64 timestamp = 2; } (ms). WriteRequest's metadata
 * (field 3: MetricMetadata { MetricType type = 1; string
 * metric_family_name = 2; string help = 4; string unit = 5; }) is
 * delivered when asked for (pane_remote_write_decode_meta). Other fields
 * (exemplars, native histograms) are skipped and counted.
 */
#ifndef PANE_RECEIVERS_REMOTE_WRITE_H
#define PANE_RECEIVERS_REMOTE_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "receivers/promtext.h"

/* Decompresses a snappy block, refusing (PANE_ETOOBIG) before allocating
 * when the declared uncompressed length exceeds max. *out is a heap buffer
 * the caller frees. PANE_EINVAL for corrupt input. */
int pane_snappy_decode(const char *in, size_t len, size_t max, char **out, size_t *out_len, struct pane_err *err);

struct pane_rw_result {
	size_t series, samples;         /* delivered */
	size_t bad_series, bad_samples; /* refused (invalid labels) */
	size_t skipped_histograms;      /* native histograms: not supported */
	size_t metadata, bad_metadata;  /* metadata entries delivered / refused (bad name, type, UTF-8) */
	const char *meta_error;         /* why the first metadata entry was refused (static), or NULL */
	char first_error[200];
};

/* Decodes a WriteRequest and delivers samples in batches through fn.
 * Invalid series are counted and skipped (res); a truncated or malformed
 * message stops with PANE_EINVAL (what came before it was delivered).
 * A negative return from fn stops the decode and is returned. */
int pane_remote_write_decode(const char *pb, size_t len, pane_promtext_fn fn, void *arg, struct pane_rw_result *res,
                             struct pane_err *err);

/* The same, and WriteRequest.metadata goes to meta (batches, valid during
 * the call; help cut to PANE_METADATA_HELP_MAX bytes at a character). An
 * entry with an invalid family name, an unknown type number, help or unit
 * that is not UTF-8 or a unit over PANE_METADATA_UNIT_MAX is counted in
 * res->bad_metadata and skipped. meta may be NULL (metadata skipped). */
int pane_remote_write_decode_meta(const char *pb, size_t len, pane_promtext_fn fn, void *arg,
                                  pane_promtext_meta_fn meta, void *meta_arg, struct pane_rw_result *res,
                                  struct pane_err *err);

/* Encodes samples as a WriteRequest (one series per sample; for the
 * benchmark's load generator and tests). Appends to out. */
struct pane_buf;
void pane_remote_write_encode(const struct pane_sample *s, size_t n, struct pane_buf *out);

#endif
