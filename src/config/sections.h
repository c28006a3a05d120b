/*
 * sections.h - validation of pane.yaml's top-level sections.
 */
#ifndef PANE_CONFIG_SECTIONS_H
#define PANE_CONFIG_SECTIONS_H

#include "config/config.h"

/* 0, or PANE_EINVAL naming the first unknown top-level key. */
int pane_cfg_check_sections(const struct pane_cfg *cfg, struct pane_err *err);

#endif
