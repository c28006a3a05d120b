/*
 * auth.c - bearer-token authorisation with scopes (see auth.h for the rules).
 *
 * Idea: keep only SHA-256 digests of the configured tokens. A request's
 * token is hashed once and compared with every digest with a branch-free
 * OR of XORs, visiting all tokens whatever matches, so the time taken does
 * not depend on how much of a token was right or on its length. Scopes are
 * a small bit set per token.
 *
 * Threads: after pane_http_auth_new() the object is read-only; the check
 * runs concurrently on the HTTP pool threads.
 */
#include "http/auth.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "http/sha256.h"

#include <openssl/crypto.h>

enum { SCOPE_ENQUEUE = 1, SCOPE_READ = 2, SCOPE_ADMIN = 4 };

struct token {
	char *name;
	uint8_t digest[PANE_SHA256_LEN];
	unsigned scopes;
};

struct pane_http_auth {
	struct token *tokens;
	size_t n_tokens;
	bool open_read;
	bool loopback;
};

struct auth_cfg {
	char *open_read;
};

static const struct pane_cfg_field auth_fields[] = {
    {"tokens", PANE_CFT_SECTION, 0, NULL, 0, "bearer tokens: a list of {name, token, scopes}", 0, 0},
    {"open_read", PANE_CFT_STRING, offsetof(struct auth_cfg, open_read), "auto", 0,
     "read endpoints without a token: auto (only on loopback), true or false", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct token_cfg {
	char *name;
	char *token;
	struct pane_cfg_strlist scopes;
};

static const struct pane_cfg_field token_fields[] = {
    {"name", PANE_CFT_STRING, offsetof(struct token_cfg, name), NULL, PANE_CFG_REQUIRED,
     "a label for logs (never the token itself)", 0, 0},
    {"token", PANE_CFT_STRING, offsetof(struct token_cfg, token), NULL, PANE_CFG_REQUIRED | PANE_CFG_SECRET,
     "the bearer token, as ${ENV_VAR}", 0, 0},
    {"scopes", PANE_CFT_STRLIST, offsetof(struct token_cfg, scopes), NULL, PANE_CFG_REQUIRED,
     "enqueue, read and/or admin (admin implies the others)", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

#define MIN_TOKEN_LEN 16

static unsigned scope_bit(const char *s)
{
	if (strcmp(s, "enqueue") == 0)
		return SCOPE_ENQUEUE;
	if (strcmp(s, "read") == 0)
		return SCOPE_READ;
	if (strcmp(s, "admin") == 0)
		return SCOPE_ADMIN;
	return 0;
}

static int load_token(const struct pane_cfg *cfg, const struct pane_cfg_node *item, struct token *t,
                      struct pane_err *err)
{
	struct token_cfg tc = {0};
	int rc = 0;
	if (item->kind != PANE_CFG_MAP) {
		rc = pane_cfg_error(cfg, item, err, "each token is a map with name, token and scopes");
		goto out;
	}
	if ((rc = pane_cfg_bind(cfg, item, token_fields, &tc, err)) < 0)
		goto out;
	if (strlen(tc.token) < MIN_TOKEN_LEN) {
		rc = pane_cfg_error(
		    cfg, pane_cfg_get(item, "token"), err,
		    "token is shorter than %d characters; use a long random value (openssl rand -hex 32)",
		    MIN_TOKEN_LEN);
		goto out;
	}
	unsigned scopes = 0;
	for (size_t i = 0; i < tc.scopes.n; i++) {
		unsigned bit = scope_bit(tc.scopes.items[i]);
		if (!bit) {
			rc = pane_cfg_error(cfg, pane_cfg_get(item, "scopes"), err,
			                    "unknown scope '%s' (use enqueue, read or admin)", tc.scopes.items[i]);
			goto out;
		}
		scopes |= bit;
	}
	if (!scopes) {
		rc = pane_cfg_error(cfg, pane_cfg_get(item, "scopes"), err, "a token needs at least one scope");
		goto out;
	}
	t->name = pane_xstrdup(tc.name);
	pane_sha256(tc.token, strlen(tc.token), t->digest);
	t->scopes = scopes;
out:
	if (tc.token)
		memset(tc.token, 0, strlen(tc.token));
	pane_cfg_unbind(token_fields, &tc);
	return rc;
}

struct pane_http_auth *pane_http_auth_new(const struct pane_cfg *cfg, bool loopback, struct pane_err *err)
{
	const struct pane_cfg_node *sec = cfg ? pane_cfg_get(cfg->root, "auth") : NULL;
	struct auth_cfg ac = {0};
	struct pane_http_auth *a = pane_xcalloc(1, sizeof *a);
	a->loopback = loopback;
	if (pane_cfg_bind(cfg, sec, auth_fields, &ac, err) < 0)
		goto fail;
	const struct pane_cfg_node *toks = sec ? pane_cfg_get(sec, "tokens") : NULL;
	if (toks && toks->kind != PANE_CFG_SEQ && toks->kind != PANE_CFG_NULL) {
		pane_cfg_error(cfg, toks, err, "tokens is a list of {name, token, scopes}");
		goto fail;
	}
	if (toks && toks->kind == PANE_CFG_SEQ) {
		a->tokens = pane_xcalloc(toks->n_items ? toks->n_items : 1, sizeof *a->tokens);
		for (size_t i = 0; i < toks->n_items; i++) {
			if (load_token(cfg, toks->items[i], &a->tokens[a->n_tokens], err) < 0)
				goto fail;
			a->n_tokens++;
		}
	}
	if (strcmp(ac.open_read, "auto") == 0) {
		a->open_read = loopback;
	} else if (pane_cfg_parse_bool(ac.open_read, &a->open_read) < 0) {
		pane_cfg_error(cfg, pane_cfg_get(sec, "open_read"), err, "'%s' is not auto, true or false",
		               ac.open_read);
		goto fail;
	}
	if (!loopback && a->n_tokens == 0) {
		pane_err_set(err, PANE_EPERM, "refusing to listen on a non-loopback address without auth tokens");
		pane_err_detail(err, "add auth.tokens (each token from ${ENV}) to pane.yaml, or listen on 127.0.0.1");
		goto fail;
	}
	pane_cfg_unbind(auth_fields, &ac);
	return a;
fail:
	pane_cfg_unbind(auth_fields, &ac);
	pane_http_auth_free(a);
	return NULL;
}

void pane_http_auth_free(struct pane_http_auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_tokens; i++)
		free(a->tokens[i].name);
	free(a->tokens);
	free(a);
}

size_t pane_http_auth_token_count(const struct pane_http_auth *a)
{
	return a->n_tokens;
}

bool pane_http_auth_read_is_open(const struct pane_http_auth *a)
{
	return a->n_tokens == 0 || a->open_read;
}

int pane_http_auth_decide(const struct pane_http_auth *a, const char *authorization, const char *scope,
                          const char **name_out)
{
	unsigned need = scope_bit(scope);
	if (a->n_tokens == 0)
		return 0; /* only possible on loopback (see pane_http_auth_new) */
	if (need == SCOPE_READ && a->open_read)
		return 0;
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return 401;
	const char *tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	uint8_t d[PANE_SHA256_LEN];
	pane_sha256(tok, strlen(tok), d);
	size_t found = SIZE_MAX;
	for (size_t i = 0; i < a->n_tokens; i++) {
		/* no early exit: every token is compared, each in constant time */
		int diff = CRYPTO_memcmp(d, a->tokens[i].digest, PANE_SHA256_LEN);
		size_t hit = (size_t)0 - (size_t)(diff == 0);
		found = (found & ~hit) | (i & hit);
	}
	if (found == SIZE_MAX)
		return 401;
	const struct token *t = &a->tokens[found];
	if (!need || !((t->scopes & SCOPE_ADMIN) || (t->scopes & need)))
		return 403;
	if (name_out)
		*name_out = t->name;
	return 0;
}

static bool check(void *ctx, struct pane_http_req *req, const char *scope, struct pane_http_resp *resp)
{
	const struct pane_http_auth *a = ctx;
	int st = pane_http_auth_decide(a, pane_http_req_header(req, "Authorization"), scope, NULL);
	if (st == 0)
		return true;
	if (st == 401) {
		pane_http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"pane\"");
		pane_http_resp_error(resp, 401, "unauthorized",
		                     "missing or unknown bearer token; send Authorization: Bearer TOKEN (scope '%s')",
		                     scope);
	} else {
		pane_http_resp_error(resp, 403, "forbidden", "this token lacks the '%s' scope", scope);
	}
	return false;
}

void pane_http_auth_install(struct pane_http_auth *a, struct pane_http_server *srv)
{
	pane_http_server_set_auth(srv, check, a);
}
