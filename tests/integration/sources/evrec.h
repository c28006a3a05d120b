/*
 * evrec.h - records the events a pipeline carries (the shared recorder in
 * tests/unit/sources keeps samples and logs only). Added to a recorder
 * pipeline as a secondary sink, so the recorder stays the primary one.
 * Thread-safe.
 */
#ifndef PANE_TESTS_SOURCES_EVREC_H
#define PANE_TESTS_SOURCES_EVREC_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/pipeline.h"

struct rec_event {
	int64_t ts_ms;
	char *kind, *title, *url, *body_json, *dedup_key;
	struct pane_labels labels;
};

struct evrec;

/* Adds an event recorder to p (which frees it with the pipeline). */
struct evrec *evrec_attach(struct pane_pipeline *p);
void evrec_lock(struct evrec *r);
void evrec_unlock(struct evrec *r);
size_t evrec_n(struct evrec *r);
const struct rec_event *evrec_at(struct evrec *r, size_t i);
void evrec_clear(struct evrec *r);
/* Events of kind whose labels include every (k, v) pair (NULL-terminated). */
size_t evrec_count(struct evrec *r, const char *kind, ...) __attribute__((sentinel));
/* The first such event, or NULL (borrowed; valid until clear). */
const struct rec_event *evrec_find(struct evrec *r, const char *kind, ...) __attribute__((sentinel));

#endif
