/* fuzz_remote.c - the remote query backend's answer decoding (src/remote):
 * arbitrary bytes as the body of an /api/v1/query answer (a select), of an
 * /api/v1/labels answer and of an /api/v1/metadata answer, with the HTTP
 * status from the first byte. Never crashes or leaks; a decoded select holds at most max_samples samples, in
 * [mint, maxt], ascending per series, series sorted by labels; label lists
 * are sorted and unique; metadata is sorted, within limit and bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote/remote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

size_t fuzz_remote_decoded; /* answers that decoded into a series set (replay checks it) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	long status = data[0] < 200 ? 200 : data[0] < 230 ? 500 : 422;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	const int64_t mint = 1700000000000, maxt = 1700000060000;
	const size_t max_samples = 64;
	struct pane_err err = {0};
	struct pane_series_set *set = NULL;
	if (pane_remote_decode_select(body, len, status, mint, maxt, max_samples, &set, &err) == 0) {
		fuzz_remote_decoded++;
		size_t total = 0;
		for (size_t i = 0; i < set->n; i++) {
			const struct pane_series *s = &set->series[i];
			if (i && pane_labels_cmp(&set->series[i - 1].labels, &s->labels) > 0)
				abort();
			for (size_t k = 0; k < s->n; k++)
				if (s->ts[k] < mint || s->ts[k] > maxt || (k && s->ts[k] <= s->ts[k - 1]))
					abort();
			total += s->n;
		}
		if (total > max_samples)
			abort();
		set->free(set);
	} else if (set || !err.msg[0]) {
		abort(); /* a failure leaves no set and says why */
	}
	char **v = NULL;
	size_t n = 0;
	struct pane_err e2 = {0};
	if (pane_remote_decode_strings(body, len, status, &v, &n, &e2) == 0) {
		for (size_t i = 1; i < n; i++)
			if (strcmp(v[i - 1], v[i]) >= 0)
				abort();
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
	}
	struct pane_metadata *md = NULL;
	struct pane_err e3 = {0};
	if (pane_remote_decode_metadata(body, len, status, 3, &md, &n, &e3) == 0) {
		if (n > 3)
			abort();
		for (size_t i = 0; i < n; i++)
			if ((i && strcmp(md[i - 1].name, md[i].name) > 0) ||
			    strlen(md[i].help) > PANE_METADATA_HELP_MAX)
				abort();
		free(md);
	}
	return 0;
}
