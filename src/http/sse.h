/*
 * sse.h - Server-Sent Events on top of pane_http_resp_stream().
 *
 *     struct pane_http_stream *st = pane_http_sse_start(resp, 3000);
 *     pane_http_sse_send(st, "state", "42", "{\"state\":\"running\"}");
 *     pane_http_sse_comment(st, "keep-alive");      (every few seconds)
 *     pane_http_stream_close(st);
 *
 * The format is the WHATWG "text/event-stream": an optional "event:" and
 * "id:" line, one "data:" line per line of data, a blank line.
 */
#ifndef PANE_HTTP_SSE_H
#define PANE_HTTP_SSE_H

#include "base/buf.h"
#include "http/server.h"

/* Makes resp a 200 text/event-stream (no caching, no proxy buffering) and
 * queues a "retry:" hint (ms, 0 = none). Returns the stream handle. */
struct pane_http_stream *pane_http_sse_start(struct pane_http_resp *resp, unsigned retry_ms);
/* Formats one event into out. event and id may be NULL; CR/LF in them are dropped. */
void pane_http_sse_format(struct pane_buf *out, const char *event, const char *id, const char *data);
/* Formats and writes one event; pane_http_stream_write's result. */
int pane_http_sse_send(struct pane_http_stream *st, const char *event, const char *id, const char *data);
/* ": text\n\n" - ignored by clients; keeps proxies and dead-peer detection going. */
int pane_http_sse_comment(struct pane_http_stream *st, const char *text);

#endif
