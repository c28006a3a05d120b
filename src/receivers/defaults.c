/*
 * defaults.c - default labels filled in where a record lacks them (see
 * defaults.h). The record's own labels win: only absent names are set.
 */
#include "receivers/defaults.h"

void pane_receivers_fill_defaults(struct pane_labels *ls, const struct pane_labels *defaults)
{
	if (!defaults)
		return;
	for (size_t i = 0; i < defaults->n; i++)
		if (!pane_labels_get(ls, defaults->v[i].name))
			(void)pane_labels_set(ls, defaults->v[i].name, defaults->v[i].value);
}
