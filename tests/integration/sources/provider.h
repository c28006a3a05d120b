/*
 * provider.h - the fixture every provider source test shares: a recording
 * pipeline (recorder.h, and evrec.h for events), a data directory of its
 * own, and the sources part built from a pane.yaml text, collected on
 * demand (pane_sources_collect_once) against a fake (fakectl.h).
 */
#ifndef PANE_TESTS_SOURCES_PROVIDER_H
#define PANE_TESTS_SOURCES_PROVIDER_H

#include "base/err.h"
#include "config/config.h"
#include "evrec.h"
#include "fakectl.h"
#include "pipeline/pipeline.h"
#include "recorder.h"
#include "sources/sources.h"

struct provider_fx {
	const char *source; /* the instance collect() runs: "render", "sentry", ... */
	struct pt_recorder *rec;
	struct evrec *ev; /* the events written (deploys, issues) */
	struct pane_pipeline *p;
	struct pane_cfg *cfg;
	struct pane_sources *ss; /* NULL until provider_start */
	char dir[64];            /* the data directory (cursor files) */
};

/* A fresh fixture; resets the fake (POST /__fake/reset) when fk is given. */
struct provider_fx *provider_new(const char *source, struct fakectl *fk);
/* Stops the sources, frees everything, removes the data directory. */
void provider_free(struct provider_fx *f);
/* (Re)starts the sources from yaml (a pane restart): keeps the recorder and
 * the data directory. Fails the test on a config error. */
void provider_start(struct provider_fx *f, const char *yaml);
/* One collection of f->source; err is cleared first. */
int provider_collect(struct provider_fx *f, struct pane_err *err);

#endif
