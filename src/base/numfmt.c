/*
 * numfmt.c - label text for a double (see numfmt.h): the one owner of how
 * le and quantile values are spelled.
 */
#include "base/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void pane_fmt_label_float(char *out, size_t n, double v)
{
	if (isinf(v)) {
		snprintf(out, n, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (isnan(v)) {
		snprintf(out, n, "NaN");
		return;
	}
	char shorter[40];
	snprintf(shorter, sizeof shorter, "%g", v);
	if (strtod(shorter, NULL) == v) /* prefer the short form when it round-trips */
		snprintf(out, n, "%s", shorter);
	else
		snprintf(out, n, "%.17g", v);
}
