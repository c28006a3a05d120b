/* fuzz_statsd.c - StatsD datagrams through the parser and the aggregator. */
#include <stddef.h>
#include <stdint.h>

#include "pipeline/pipeline.h"
#include "receivers/statsd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pane_statsd_agg *agg;
	static struct pane_pipeline *p;
	static unsigned n;
	if (!agg) {
		agg = pane_statsd_agg_new(
		    &(struct pane_statsd_agg_opts){.max_series = 1000, .reservoir = 16, .max_set_size = 100});
		p = pane_pipeline_new(); /* no sinks: flush exercises emission only */
	}
	struct pane_statsd_line l;
	pane_statsd_parse_line((const char *)data, size, &l, NULL);
	pane_statsd_agg_feed(agg, (const char *)data, size);
	if (++n % 64 == 0)
		pane_statsd_agg_flush(agg, p, (int64_t)n * 1000, NULL);
	return 0;
}
