/*
 * remote.h - the commands that talk to a running pane over its HTTP API
 * (`pane query`, `pane logs`, `pane events`).
 *
 * They need no access to the data directory, so they work against any pane
 * the user can reach (and `pane query` against Prometheus itself). Every
 * answer is Prometheus' envelope; an error answer, an unreachable pane or a
 * body that is not the API becomes one message that says what to check.
 */
#ifndef PANE_CLI_REMOTE_H
#define PANE_CLI_REMOTE_H

#include <jansson.h>
#include <stdbool.h>

#include "base/buf.h"
#include "base/err.h"

struct pane_remote {
	const char *url;   /* base URL, no trailing slash needed */
	const char *token; /* bearer token or NULL */
};

/* The flag's value, else $PANE_URL, else http://127.0.0.1:8080; the token
 * flag, else $PANE_TOKEN. */
void pane_remote_init(struct pane_remote *r, const char *url_flag, const char *token_flag);

/* Appends "&name=value" (value URL-escaped) to an argument list. */
void pane_remote_arg(struct pane_buf *args, const char *name, const char *value);

/* Calls URL/api/v1/PATH with args (form-encoded POST when post, else the
 * query string). Returns the answer's "data" (a new reference; the caller
 * decrefs it) and, when raw is non-NULL, appends the whole body to it.
 * NULL with err set on any failure. */
json_t *pane_remote_call(const struct pane_remote *r, const char *path, const struct pane_buf *args, bool post,
                         struct pane_buf *raw, struct pane_err *err);

/* Alertmanager's v2 API (/api/v2/PATH) on pane: method "GET", "POST" or
 * "DELETE", an optional JSON body. Returns the parsed answer (null for an
 * empty body; the caller decrefs) or NULL with err set. */
json_t *pane_remote_am(const struct pane_remote *r, const char *method, const char *path, const char *json_body,
                       struct pane_err *err);

#endif
