/* fuzz_promql.c - libFuzzer target for the PromQL parser and printer.
 * Any input must parse or fail with a message, never crash, leak or recurse
 * without bound; whatever parses must print to a form that parses again to
 * the same printed form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "query/ast.h"
#include "query/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	struct pane_err err = {0};
	struct pq_expr *e = pq_parse(s, &err);
	if (e) {
		struct pane_buf a, b;
		pane_buf_init(&a, PANE_BUF_NOLIMIT);
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		pq_print(e->root, &a);
		if (strlen(a.data) == a.len) {
			if (pane_query_format(a.data, &b, &err) != 0)
				abort(); /* the printer wrote something the parser refuses */
			if (strcmp(a.data, b.data) != 0)
				abort(); /* printing is not stable */
		}
		pane_buf_release(&a);
		pane_buf_release(&b);
		pq_expr_free(e);
	} else if (!err.msg[0]) {
		abort(); /* a failure without a message */
	}
	free(s);
	return 0;
}
