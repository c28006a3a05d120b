/*
 * numfmt.h - a double written as a label value (le, quantile).
 *
 * Prometheus compares bucket bounds and quantiles as label *text*, so the
 * same number must always be written the same way by every producer
 * (StatsD, OTLP, ...): "+Inf"/"-Inf" for infinities, "NaN", otherwise the
 * shortest of %g and %.17g that reads back as the same double.
 */
#ifndef PANE_BASE_NUMFMT_H
#define PANE_BASE_NUMFMT_H

#include <stddef.h>

/* Writes v into out (n bytes, NUL-terminated; 32 bytes always suffice). */
void pane_fmt_label_float(char *out, size_t n, double v);

#endif
