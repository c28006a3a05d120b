/*
 * oauth2.c - http_config.oauth2 for an integration: the client credentials
 * grant (RFC 6749 4.4) as Prometheus' HTTP client config does it.
 *
 * Idea: POST grant_type=client_credentials (with the scopes and
 * endpoint_params) to token_url; the client id and secret go as HTTP Basic
 * (each form-encoded first, RFC 6749 2.3.1) and, when the server refuses
 * that, in the form instead - the first way that works is kept, as Go's
 * oauth2 package's auto-detection does. The JSON answer's access_token and
 * token_type become the Authorization of the notifications until 10 s
 * before expires_in runs out (no expires_in: until a request is refused).
 * A 401 or 403 from the receiver drops the token, so a revoked one is
 * replaced at the next attempt.
 *
 * Threads: the integration's own (integ.c), which owns these fields.
 */
#include "notify/notify_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/str.h"
#include "http/client.h"

#define EXPIRY_DELTA_MS 10000 /* Go's oauth2: a token this close to expiry is renewed */

static char *form_escape(const char *s)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_adds(&b, "");
	pane_http_url_encode(&b, s, strlen(s));
	return pane_buf_detach(&b, NULL);
}

/* One token request; 0 and the token in in->oauth_auth, or an error. */
static int request_token(struct integ *in, int style, struct pane_err *err)
{
	const struct pane_am_oauth2 *o = in->oauth;
	char *id = form_escape(o->client_id), *secret = form_escape(o->client_secret ? o->client_secret : "");
	struct pane_buf body;
	pane_buf_init(&body, PANE_BUF_NOLIMIT);
	pane_buf_addf(&body, "grant_type=client_credentials%s", o->params ? o->params : "");
	if (style == 2)
		pane_buf_addf(&body, "&client_id=%s&client_secret=%s", id, secret);
	const char *const hdrs[] = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json",
	                            "Expect:", NULL};
	struct pane_http_response r;
	pane_http_response_init(&r);
	int rc = pane_http_client_do(in->http,
	                             &(struct pane_http_request){.method = "POST",
	                                                         .url = o->token_url,
	                                                         .headers = hdrs,
	                                                         .body = body.data,
	                                                         .body_len = body.len,
	                                                         .basic_user = style == 1 ? id : NULL,
	                                                         .basic_pass = style == 1 ? secret : NULL},
	                             &r, err);
	free(id), free(secret);
	pane_buf_release(&body);
	if (rc == 0) {
		json_t *j = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
		const char *tok = json_string_value(json_object_get(j, "access_token"));
		const char *type = json_string_value(json_object_get(j, "token_type"));
		json_t *ex = json_object_get(j, "expires_in");
		double secs = 0; /* a number, or (some servers) a string holding one */
		if (json_is_number(ex))
			secs = json_number_value(ex);
		else if (json_is_string(ex) && pane_str_to_double(pane_str_c(json_string_value(ex)), &secs) < 0)
			secs = 0;
		if (!tok || !*tok) {
			rc = pane_err_set(err, PANE_EHTTP, "oauth2: the token endpoint %s answered no access_token",
			                  o->token_url);
		} else {
			/* Go's Token.Type(): the usual types in their canonical case, Bearer when none */
			if (!type || !*type || !strcasecmp(type, "bearer"))
				type = "Bearer";
			else if (!strcasecmp(type, "mac"))
				type = "MAC";
			else if (!strcasecmp(type, "basic"))
				type = "Basic";
			struct pane_buf a;
			pane_buf_init(&a, PANE_BUF_NOLIMIT);
			pane_buf_addf(&a, "Authorization: %s %s", type, tok);
			free(in->oauth_auth);
			in->oauth_auth = pane_buf_detach(&a, NULL);
			in->oauth_expiry_ms =
			    secs > 0 && secs < 1e9 ? pane_wall_ms() + (int64_t)(secs * 1000) : 0; /* else: no expiry */
		}
		json_decref(j);
	}
	pane_http_response_release(&r);
	return rc;
}

const char *pane_notify_oauth2_auth(struct integ *in, struct pane_err *err)
{
	if (in->oauth_auth && (in->oauth_expiry_ms == 0 || pane_wall_ms() < in->oauth_expiry_ms - EXPIRY_DELTA_MS))
		return in->oauth_auth;
	free(in->oauth_auth);
	in->oauth_auth = NULL;
	if (in->oauth_style) {
		if (request_token(in, in->oauth_style, err) < 0)
			return NULL;
		return in->oauth_auth;
	}
	/* not known yet: Basic first, then the form (Go's AuthStyleAutoDetect) */
	struct pane_err first = {0};
	if (request_token(in, 1, &first) == 0) {
		in->oauth_style = 1;
		return in->oauth_auth;
	}
	if (request_token(in, 2, err) == 0) {
		in->oauth_style = 2;
		return in->oauth_auth;
	}
	return NULL;
}

void pane_notify_oauth2_release(struct integ *in)
{
	pane_am_oauth2_free(in->oauth);
	free(in->oauth_auth);
	in->oauth = NULL;
	in->oauth_auth = NULL;
}
