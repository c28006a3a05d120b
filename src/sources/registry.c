/*
 * registry.c - the source plugins compiled into pane.
 *
 * Adding a source: write src/sources/<name>.c defining
 * `const struct pane_source_plugin pane_source_<name>` (see source.h),
 * add it to src/sources/meson.build, and add one row here.
 */
#include "sources/sources.h"

extern const struct pane_source_plugin pane_source_postgres;
extern const struct pane_source_plugin pane_source_supabase;
extern const struct pane_source_plugin pane_source_sql;
extern const struct pane_source_plugin pane_source_queue;
extern const struct pane_source_plugin pane_source_render;
extern const struct pane_source_plugin pane_source_sentry;

const struct pane_source_plugin *const pane_source_plugins[] = {
    &pane_source_postgres,
    &pane_source_supabase,
    &pane_source_sql,
    &pane_source_queue,
    &pane_source_render,
    &pane_source_sentry,
    NULL,
};
