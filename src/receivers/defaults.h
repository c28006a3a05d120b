/*
 * defaults.h - configured default labels for every receiver.
 *
 * `receivers: {default_labels: {environment: production, ...}}` names
 * labels that every record a receiver takes in gets unless it already has
 * that label (a label the record carries always wins). They are how a
 * StatsD counter, a scraped series or a Loki line gets the provider /
 * service / environment the console is built on.
 */
#ifndef PANE_RECEIVERS_DEFAULTS_H
#define PANE_RECEIVERS_DEFAULTS_H

#include "pipeline/record.h"

/* Sets each label of defaults that ls lacks. defaults may be NULL. */
void pane_receivers_fill_defaults(struct pane_labels *ls, const struct pane_labels *defaults);

#endif
