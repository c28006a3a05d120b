/*
 * memlogs.h - an in-memory log reader (pipeline/logreader.h) for LogQL's
 * unit and fuzz tests: fixed streams and lines, matchers as the store
 * applies them (=, !=, and anchored =~ / !~ through base/regex.h, "" for a
 * missing label), [mint, maxt], direction and limit. No events.
 */
#ifndef PANE_TESTS_MEMLOGS_H
#define PANE_TESTS_MEMLOGS_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/logreader.h"

struct pt_memlog_line {
	int64_t ts; /* ms; lines in ascending ts order */
	int stream; /* index into streams */
	const char *msg;
};

struct pt_memlogs {
	const struct pane_labels *streams;
	const char *const *streams_json;
	size_t n_streams;
	const struct pt_memlog_line *lines;
	size_t n_lines;
};

/* A reader over m (which must outlive it). */
struct pane_logreader pt_memlogs_reader(const struct pt_memlogs *m);

#endif
