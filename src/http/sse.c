/*
 * sse.c - Server-Sent Events framing (see sse.h).
 *
 * Only framing lives here; delivery (suspend while idle, resume on write)
 * is the server's streamed-response machinery, and what to send is the
 * caller's (src/api/events.c for job status).
 */
#include "http/sse.h"

#include <stdio.h>
#include <string.h>

static void add_field(struct pane_buf *out, const char *name, const char *v)
{
	pane_buf_adds(out, name);
	pane_buf_adds(out, ": ");
	for (; *v; v++)
		if (*v != '\r' && *v != '\n')
			pane_buf_addc(out, *v);
	pane_buf_addc(out, '\n');
}

void pane_http_sse_format(struct pane_buf *out, const char *event, const char *id, const char *data)
{
	if (event)
		add_field(out, "event", event);
	if (id)
		add_field(out, "id", id);
	const char *p = data ? data : "";
	do {
		size_t n = strcspn(p, "\r\n");
		pane_buf_adds(out, "data: ");
		pane_buf_add(out, p, n);
		pane_buf_addc(out, '\n');
		p += n;
		if (*p == '\r' && p[1] == '\n')
			p++;
		if (*p)
			p++;
		else
			break;
	} while (1);
	pane_buf_addc(out, '\n');
}

struct pane_http_stream *pane_http_sse_start(struct pane_http_resp *resp, unsigned retry_ms)
{
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "text/event-stream");
	pane_http_resp_header(resp, "Cache-Control", "no-cache");
	pane_http_resp_header(resp, "X-Accel-Buffering", "no");
	struct pane_http_stream *st = pane_http_resp_stream(resp, 0);
	if (retry_ms) {
		char line[32];
		int n = snprintf(line, sizeof line, "retry: %u\n\n", retry_ms);
		pane_http_stream_write(st, line, (size_t)n);
	}
	return st;
}

int pane_http_sse_send(struct pane_http_stream *st, const char *event, const char *id, const char *data)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_http_sse_format(&b, event, id, data);
	int rc = pane_http_stream_write(st, b.data, b.len);
	pane_buf_release(&b);
	return rc;
}

int pane_http_sse_comment(struct pane_http_stream *st, const char *text)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_addf(&b, ": %s\n\n", text);
	int rc = pane_http_stream_write(st, b.data, b.len);
	pane_buf_release(&b);
	return rc;
}
