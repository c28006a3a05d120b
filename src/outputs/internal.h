/*
 * internal.h - what the outputs' files share: one output's settings and
 * state, the protobuf encoders, the sender.
 */
#ifndef PANE_OUTPUTS_INTERNAL_H
#define PANE_OUTPUTS_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "outputs/queue.h"
#include "outputs/relabel.h"

struct pane_stats;
struct pane_stat;
struct pane_pipeline;

enum output_kind { OUTPUT_REMOTE_WRITE, OUTPUT_LOKI };

struct queue_config {
	int64_t capacity, max_shards, min_shards, max_samples_per_send;
	int64_t batch_send_deadline_ms, min_backoff_ms, max_backoff_ms;
};

struct output {
	enum output_kind kind;
	char *name, *url;
	char **headers; /* NULL-terminated "Name: value" lines */
	char *bearer, *basic_user, *basic_pass;
	int64_t timeout_ms;
	struct queue_config qc;
	struct pane_oqueue_opts qo;
	struct pane_relabel *relabel;
	struct pane_oqueue *q;
	struct sender *sender;
	/* metrics */
	struct pane_stat *st_pending, *st_sent, *st_failed, *st_dropped, *st_retried, *st_lag, *st_shards, *st_bytes,
	    *st_filtered, *st_requests;
	uint64_t dropped_seen; /* the queue's dropped count already added to st_dropped */
};

/* encode.c: protobuf field writers and the two payloads */
void pb_varint(struct pane_buf *b, uint64_t v);
void pb_tag(struct pane_buf *b, unsigned field, unsigned wire);
void pb_bytes(struct pane_buf *b, unsigned field, const void *p, size_t n);
void pb_string(struct pane_buf *b, unsigned field, const char *s);
/* Label{name, value} as field 1 of a TimeSeries. */
void pb_label(struct pane_buf *b, const char *name, const char *value);
/* Sample{value, timestamp} as field 2 of a TimeSeries. */
void pb_sample(struct pane_buf *b, double v, int64_t ts_ms);
/* {a="b", c="d"} with Go-style escapes, as Loki's push takes stream labels. */
void loki_labels_text(struct pane_buf *b, const struct pane_relabel_labels *ls);
/* EntryAdapter as field 2 of a StreamAdapter; meta is n name/value pairs. */
void loki_entry(struct pane_buf *b, int64_t ts_ms, const char *line, size_t len, const char *const *meta,
                size_t n_meta);
uint64_t fnv64(const void *p, size_t n);

/* sender.c */
struct sender *sender_start(struct output *o, struct pane_err *err);
void sender_stop(struct sender *s);

#endif
