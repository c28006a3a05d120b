/*
 * relabel.h - Prometheus relabel_config: rewrite or filter a label set.
 *
 * The one implementation of Prometheus' relabelling rules in pane (outputs'
 * write_relabel_configs use it; nothing else in the tree relabels yet). A
 * rule list is compiled once from pane.yaml (pane_relabel_parse) and applied
 * per series (pane_relabel_apply), in order, exactly as Prometheus does:
 *
 *   replace    target_label = expand(replacement) when regex matches the
 *              joined source values; an empty result removes the label
 *   lowercase, uppercase   target_label = the joined values, case-mapped
 *   keep, drop             keep / drop the series when regex matches
 *   keepequal, dropequal   keep / drop when joined values == target_label's
 *   hashmod    target_label = md5(joined) (last 8 bytes, big-endian) % modulus
 *   labelmap   every label whose name matches: copy to expand(replacement)
 *   labeldrop, labelkeep   remove labels whose name matches / does not
 *
 * Regexes are anchored and bounded (base/regex.h). `$1`, `${1}`, `$name`,
 * `${name}` and `$$` in replacement and target_label follow Go's
 * regexp.Expand (so `$1x` names the group "1x", which is empty).
 *
 * Threads: a compiled list is read-only; apply may run on several threads.
 */
#ifndef PANE_OUTPUTS_RELABEL_H
#define PANE_OUTPUTS_RELABEL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct pane_cfg;
struct pane_cfg_node;
struct pane_relabel;

/* A label set being relabelled: heap strings, in any order until sorted. */
struct pane_relabel_labels {
	char **names;
	char **values;
	size_t n, cap;
};

/* Compiles a sequence of relabel_config maps (node may be NULL: an empty
 * list). NULL on error, with "FILE:LINE: PATH: what" in err. */
struct pane_relabel *pane_relabel_parse(const struct pane_cfg *cfg, const struct pane_cfg_node *seq,
                                        struct pane_err *err);
void pane_relabel_free(struct pane_relabel *r);
/* Number of rules (0 = apply is a no-op). */
size_t pane_relabel_count(const struct pane_relabel *r);

/* Applies the rules to ls in place. Returns true to keep the series (ls
 * then sorted by name), false when a rule dropped it. */
bool pane_relabel_apply(const struct pane_relabel *r, struct pane_relabel_labels *ls);

void pane_relabel_labels_init(struct pane_relabel_labels *ls);
void pane_relabel_labels_release(struct pane_relabel_labels *ls);
void pane_relabel_labels_reset(struct pane_relabel_labels *ls);
/* Sets (copies) name=value; an empty value removes the label. */
void pane_relabel_labels_set(struct pane_relabel_labels *ls, const char *name, size_t nlen, const char *value,
                             size_t vlen);
const char *pane_relabel_labels_get(const struct pane_relabel_labels *ls, const char *name);
void pane_relabel_labels_sort(struct pane_relabel_labels *ls);

#endif
