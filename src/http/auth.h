/*
 * auth.h - bearer tokens with scopes for pane's HTTP server.
 *
 * The `auth:` section of pane.yaml:
 *
 *     auth:
 *       tokens:
 *         - name: ci                     # shown in logs, never the token
 *           token: ${PANE_TOKEN_CI}      # only from the environment
 *           scopes: [enqueue, read]      # enqueue | read | admin (admin implies all)
 *       open_read: auto                  # auto | true | false
 *
 * Rules:
 *   - with no tokens the server must listen on loopback only, and then every
 *     endpoint is open; on any other address pane refuses to start;
 *   - with tokens, a route's scope ("enqueue", "read", "admin") needs a
 *     token holding it (or admin); routes without a scope are always open;
 *   - read routes are open without a token when open_read is true, or when it
 *     is auto (the default) and the server listens on loopback only.
 *
 * Tokens are compared in constant time: the presented token and every
 * configured token are hashed with SHA-256 and all digests are compared
 * without an early exit, so neither content nor length leaks by timing.
 */
#ifndef PANE_HTTP_AUTH_H
#define PANE_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "http/server.h"

struct pane_cfg;
struct pane_http_auth;

/* Reads and checks the auth section (cfg may have none). loopback says
 * whether the server listens on loopback only. NULL with err when the
 * section is wrong or when a non-loopback server would have no tokens. */
struct pane_http_auth *pane_http_auth_new(const struct pane_cfg *cfg, bool loopback, struct pane_err *err);
void pane_http_auth_free(struct pane_http_auth *a);

/* Installs the checker on srv (pane_http_server_set_auth). a must outlive srv. */
void pane_http_auth_install(struct pane_http_auth *a, struct pane_http_server *srv);

/* The decision alone, for tests and other callers: 0 when an Authorization
 * header value (may be NULL) grants scope, else 401 (no or unknown token) or
 * 403 (known token without the scope). name_out (may be NULL) receives the
 * token's configured name on success with a token. */
int pane_http_auth_decide(const struct pane_http_auth *a, const char *authorization, const char *scope,
                          const char **name_out);

size_t pane_http_auth_token_count(const struct pane_http_auth *a);
bool pane_http_auth_read_is_open(const struct pane_http_auth *a);

#endif
