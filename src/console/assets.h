/*
 * assets.h - the console's files, embedded at build time (build_web.py).
 *
 * One row per file: index.html (small, never cached) and the content-hashed
 * bundle (app-HASH.js, app-HASH.css: cached forever), each raw and gzipped.
 * The table ends with a row whose name is NULL.
 */
#ifndef PANE_CONSOLE_ASSETS_H
#define PANE_CONSOLE_ASSETS_H

#include <stddef.h>

struct pane_console_asset {
	const char *name; /* "index.html", "app-0123abcd.js" */
	const char *type; /* Content-Type */
	const unsigned char *raw;
	size_t raw_len;
	const unsigned char *gz; /* gzip of raw */
	size_t gz_len;
};

extern const struct pane_console_asset pane_console_assets[];

#endif
