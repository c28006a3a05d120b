/*
 * api.c - pane_api_attach: auth for the whole server, then the jobs API.
 *
 * Idea: auth is installed unconditionally, because it also enforces the
 * rule that a non-loopback listener needs tokens, and it guards every
 * scoped route of every part. The jobs API, uploads and live status need
 * PostgreSQL and are attached only when DATABASE_URL is set. The queue's
 * schema name comes from queue.schema in pane.yaml (default "pane").
 *
 * Stop order (one stop callback): HTTP has already stopped when it runs, so
 * no handler is running; the batcher stops (waiting requests were answered
 * 503 by the server), then the SSE hub, the sweeper, the pool.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "http/auth.h"
#include "host/host.h"
#include "pane/queue.h"

struct attached {
	struct pane_http_auth *auth;
	struct pane_api *api;
};

static void api_stop(void *arg)
{
	struct attached *a = arg;
	if (a->api) {
		pane_api_uploads_stop(a->api->uploads); /* its uploaders submit to the batcher */
		pane_api_batcher_free(a->api->batcher);
		pane_api_events_free(a->api->events);
		pane_api_uploads_free(a->api->uploads);
		pane_api_pool_free(a->api->pool);
		free(a->api->url);
		free(a->api);
	}
	pane_http_auth_free(a->auth);
	free(a);
}

static bool check_schema(void *arg, struct pane_err *err)
{
	struct pane_api *api = arg;
	int v = 0;
	if (pane_api_schema_version(api, &v, err) < 0)
		return false;
	if (v == 0)
		pane_err_set(err, PANE_EDB, "queue schema \"%s\" is not installed (run pane migrate)", api->schema);
	else if (v < pane_queue_schema_version_latest())
		pane_err_set(err, PANE_EDB,
		             "queue schema \"%s\" is at version %d, this pane needs %d (run pane migrate)", api->schema,
		             v, pane_queue_schema_version_latest());
	return v >= pane_queue_schema_version_latest();
}

int pane_api_attach(struct pane_host *s, struct pane_err *err)
{
	bool loopback = pane_http_server_listen_is_loopback(s->http);
	struct pane_http_auth *auth = pane_http_auth_new(s->cfg, loopback, err);
	if (!auth) {
		pane_err_prefix(err, "listen %s", pane_http_server_listen(s->http));
		return err ? err->code : PANE_EINVAL;
	}
	pane_http_auth_install(auth, s->http);
	struct attached *a = pane_xcalloc(1, sizeof *a);
	a->auth = auth;
	pane_host_on_stop(s, api_stop, a);
	if (pane_http_auth_token_count(auth) == 0)
		pane_info("api", "no auth tokens configured: the API is open to local clients only");

	if (!s->database_url) {
		pane_info("api", "DATABASE_URL is not set: the jobs API is off");
		return 0;
	}
	struct pane_api *api = pane_xcalloc(1, sizeof *api);
	a->api = api;
	api->url = pane_xstrdup(s->database_url);
	api->stats = s->stats;
	const struct pane_cfg_node *sch = s->cfg ? pane_cfg_lookup(s->cfg->root, "queue.schema") : NULL;
	const char *schema = sch && sch->kind == PANE_CFG_SCALAR ? sch->value : "pane";
	if (!pane_queue_schema_valid(schema))
		return pane_cfg_error(s->cfg, sch, err, "'%s' is not a valid schema name ([a-z_][a-z0-9_]*)", schema);
	snprintf(api->schema, sizeof api->schema, "%s", schema);
	api->pool = pane_api_pool_new(api->url, 4);
	api->batcher = pane_api_batcher_new(api->url, api->schema, 2, s->stats);
	api->events = pane_api_events_new(api, err);
	if (!api->events)
		return err ? err->code : PANE_EIO;
	api->uploads = pane_api_uploads_new(api, s->cfg, s->data_dir, err);
	if (!api->uploads)
		return err ? err->code : PANE_EIO;
	pane_api_jobs_routes(api, s->http);
	pane_api_events_route(api, s->http);
	pane_api_uploads_route(api, s->http);
	pane_host_add_readiness(s, "queue_schema", check_schema, api);
	return 0;
}
