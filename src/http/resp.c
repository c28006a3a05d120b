/*
 * resp.c - building an answer: status, headers, a bounded body, a file,
 * and pane's JSON error body.
 *
 * Idea: a handler fills a plain struct and returns; server.c turns it into
 * an MHD response (queue), so handlers never touch MHD and the same struct
 * serves immediate, deferred and early (mid-body) answers.
 *
 * Invariants:
 *   (1) a body is at most RESP_MAX bytes (appends past it fail);
 *   (2) a file body replaces the buffered one, and the fd belongs to the
 *       response (closed on release, or by MHD once queued);
 *   (3) errors are {"error":{"code":...,"message":...}} and a newline.
 */
#include "http/server_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "base/mem.h"

void http_resp_init(struct pane_http_resp *resp)
{
	memset(resp, 0, sizeof *resp);
	pane_buf_init(&resp->body, RESP_MAX);
}

void http_resp_release(struct pane_http_resp *resp)
{
	free(resp->upgrade);
	resp->upgrade = NULL;
	if (resp->stream) {
		/* never queued (an error path): the MHD side's ref goes here */
		pthread_mutex_lock(&resp->stream->s.mu);
		resp->stream->gone = true;
		pthread_mutex_unlock(&resp->stream->s.mu);
		http_susp_unref(&resp->stream->s);
		resp->stream = NULL;
	}
	if (resp->has_file)
		close(resp->file_fd);
	resp->has_file = false;
	pane_buf_release(&resp->body);
	free(resp->content_type);
	for (size_t i = 0; i < resp->n_headers; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
}

void pane_http_resp_status(struct pane_http_resp *resp, int status)
{
	resp->status = status;
}

void pane_http_resp_header(struct pane_http_resp *resp, const char *name, const char *value)
{
	resp->headers = pane_xrealloc(resp->headers, pane_mul_size(resp->n_headers + 1, sizeof *resp->headers));
	resp->headers[resp->n_headers].name = pane_xstrdup(name);
	resp->headers[resp->n_headers].value = pane_xstrdup(value);
	resp->n_headers++;
}

void pane_http_resp_content_type(struct pane_http_resp *resp, const char *type)
{
	free(resp->content_type);
	resp->content_type = pane_xstrdup(type);
}

void pane_http_resp_file(struct pane_http_resp *resp, int fd, uint64_t size)
{
	if (resp->has_file)
		close(resp->file_fd);
	pane_buf_reset(&resp->body);
	resp->has_file = true;
	resp->file_fd = fd;
	resp->file_size = size;
}

struct pane_buf *pane_http_resp_body(struct pane_http_resp *resp)
{
	return &resp->body;
}

void pane_http_resp_json(struct pane_http_resp *resp, int status, const char *json)
{
	resp->status = status;
	pane_http_resp_content_type(resp, "application/json");
	pane_buf_reset(&resp->body);
	pane_buf_adds(&resp->body, json);
}

void pane_http_resp_error(struct pane_http_resp *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	resp->status = status;
	pane_http_resp_content_type(resp, "application/json");
	pane_buf_reset(&resp->body);
	struct pane_json j;
	pane_json_init(&j, &resp->body);
	pane_json_obj(&j);
	pane_json_key(&j, "error");
	pane_json_obj(&j);
	pane_json_key(&j, "code");
	pane_json_str(&j, code);
	pane_json_key(&j, "message");
	pane_json_str(&j, msg);
	pane_json_obj_end(&j);
	pane_json_obj_end(&j);
	pane_buf_addc(&resp->body, '\n');
}
