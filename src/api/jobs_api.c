/*
 * jobs_api.c - the jobs endpoints: enqueue, status, cancel/retry, queues.
 *
 * Idea: handlers are thin translators between HTTP+JSON and the queue's SQL
 * functions, which are the one code path for every producer. Enqueues are
 * validated here (so a mistake gets a precise 400 naming the field), turned
 * into enqueue_many elements and handed to the batcher; the request's
 * connection is suspended until its batch has committed, then answered
 * 201/200 with ids. Reads and management calls borrow a pooled connection
 * for one statement. The statements are the queue's (pane/queue.h,
 * pane_queue_sql_*): this file runs them with its bounded waits but writes
 * none of the queue's SQL itself.
 *
 * Status codes: 400 malformed JSON or bad field, 404 unknown job, 409 state
 * conflict (cancel a finished job, retry a completed or running one, unique
 * key held), 413 body or batch too large, 415 not JSON, 429 too many jobs
 * waiting for a commit, 503 PostgreSQL unavailable or schema missing.
 *
 * Threads: handlers on HTTP pool threads, batch callbacks on flushers.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "pane/queue.h"

#define MAX_JOBS_PER_REQUEST 1000

bool pane_api_queue_name_ok(const char *q)
{
	size_t n = q ? strlen(q) : 0;
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)q[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || c == '.' || c == ':'))
			return false;
	}
	return true;
}

void pane_api_error_resp(struct pane_http_resp *resp, const struct pane_err *err)
{
	switch (err->code) {
	case PANE_EINVAL: pane_http_resp_error(resp, 400, "invalid_request", "%s", err->msg); break;
	case PANE_ENOTFOUND: pane_http_resp_error(resp, 404, "not_found", "%s", err->msg); break;
	case PANE_EEXIST: pane_http_resp_error(resp, 409, "conflict", "%s", err->msg); break;
	case PANE_ETOOBIG: pane_http_resp_error(resp, 413, "payload_too_large", "%s", err->msg); break;
	case PANE_EAGAIN:
		pane_http_resp_header(resp, "Retry-After", "1");
		pane_http_resp_error(resp, 429, "too_many_requests", "%s", err->msg);
		break;
	default:
		pane_http_resp_header(resp, "Retry-After", "1");
		pane_http_resp_error(resp, 503, "unavailable", "%s%s%s", err->msg, err->detail[0] ? ": " : "",
		                     err->detail);
		break;
	}
}

int pane_api_query1(struct pane_api *api, const char *sql, int nparams, const char *const *params, char **out,
                    struct pane_err *err)
{
	if (out)
		*out = NULL;
	PGconn *c = pane_api_pool_get(api->pool, err);
	if (!c)
		return PANE_EDB;
	PGresult *r = pane_api_exec(c, sql, nparams, params, PANE_API_STATEMENT_TIMEOUT_S * 1000, err);
	if (!r) {
		pane_api_pool_put(api->pool, c, true);
		return PANE_EDB;
	}
	int rc = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		if (!m)
			m = PQerrorMessage(c);
		int n = (int)strcspn(m, "\n");
		if (st && strncmp(st, "22", 2) == 0)
			rc = pane_err_set(err, PANE_EINVAL, "%.*s", n, m);
		else if (st && strcmp(st, "23505") == 0)
			rc = pane_err_set(err, PANE_EEXIST, "%.*s", n, m);
		else if (st && strcmp(st, "54000") == 0)
			rc = pane_err_set(err, PANE_ETOOBIG, "%.*s", n, m);
		else if (st && (strcmp(st, "3F000") == 0 || strcmp(st, "42883") == 0 || strcmp(st, "42P01") == 0)) {
			rc = pane_err_set(err, PANE_EDB, "the queue schema \"%s\" is not installed", api->schema);
			pane_err_detail(err, "run: pane migrate --database-url URL");
		} else
			rc = pane_err_set(err, PANE_EDB, "database error: %.*s", n, m);
	} else if (out && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
		*out = pane_xstrdup(PQgetvalue(r, 0, 0));
	}
	PQclear(r);
	pane_api_pool_put(api->pool, c, false);
	return rc;
}

int pane_api_job(struct pane_api *api, int64_t id, char **json, struct pane_err *err)
{
	char sql[128], idtxt[24];
	pane_queue_sql_job(api->schema, sql, sizeof sql);
	snprintf(idtxt, sizeof idtxt, "%lld", (long long)id);
	const char *params[1] = {idtxt};
	int rc = pane_api_query1(api, sql, 1, params, json, err);
	if (rc == 0 && !*json)
		rc = pane_err_set(err, PANE_ENOTFOUND, "no job %s", idtxt);
	return rc;
}

int pane_api_schema_version(struct pane_api *api, int *version, struct pane_err *err)
{
	*version = 0;
	const char *params[1] = {api->schema};
	char *v = NULL;
	int rc = pane_api_query1(api, PANE_QUEUE_SQL_SCHEMA_EXISTS, 1, params, &v, err);
	bool exists = rc == 0 && v && v[0] == 't';
	free(v);
	if (!exists)
		return rc;
	char sql[160];
	pane_queue_sql_schema_version(api->schema, sql, sizeof sql);
	if ((rc = pane_api_query1(api, sql, 0, NULL, &v, err)) == 0 && v)
		*version = (int)strtol(v, NULL, 10);
	free(v);
	return rc;
}

/* ---------- enqueue ---------- */

struct enq {
	struct pane_http_deferred *d;
	bool array;
};

static void enq_done(void *arg, const int64_t *ids, const bool *created, size_t n, const struct pane_err *err)
{
	struct enq *e = arg;
	struct pane_http_resp *resp = pane_http_deferred_resp(e->d);
	if (err) {
		pane_api_error_resp(resp, err);
	} else {
		struct pane_buf *b = pane_http_resp_body(resp);
		bool any = false;
		for (size_t i = 0; i < n; i++)
			any = any || created[i];
		struct pane_json j;
		pane_json_init(&j, b);
		if (!e->array) {
			char url[40];
			snprintf(url, sizeof url, "/v1/jobs/%lld", (long long)ids[0]);
			pane_json_obj(&j);
			pane_json_key(&j, "id");
			pane_json_int(&j, ids[0]);
			pane_json_key(&j, "created");
			pane_json_bool(&j, created[0]);
			pane_json_key(&j, "status_url");
			pane_json_str(&j, url);
			pane_json_obj_end(&j);
			pane_buf_addc(b, '\n');
		} else {
			pane_json_obj(&j);
			pane_json_key(&j, "jobs");
			pane_json_arr(&j);
			for (size_t i = 0; i < n; i++) {
				pane_json_obj(&j);
				pane_json_key(&j, "id");
				pane_json_int(&j, ids[i]);
				pane_json_key(&j, "created");
				pane_json_bool(&j, created[i]);
				pane_json_obj_end(&j);
			}
			pane_json_arr_end(&j);
			pane_json_obj_end(&j);
			pane_buf_addc(b, '\n');
		}
		pane_http_resp_status(resp, any ? 201 : 200);
		pane_http_resp_content_type(resp, "application/json");
	}
	pane_http_deferred_finish(e->d);
	free(e);
}

static const char *const spec_keys[] = {"payload",      "run_at",     "delay",   "priority",
                                        "max_attempts", "unique_key", "timeout", NULL};

/* Checks one job object and appends its enqueue_many element to out.
 * 0, or PANE_EINVAL with msg. */
static int add_elem(json_t *spec, const char *queue, const char *idem, size_t idx, bool array, struct pane_buf *out,
                    char *msg, size_t msglen)
{
	char where[32] = "";
	if (array)
		snprintf(where, sizeof where, "jobs[%zu]: ", idx);
	if (!json_is_object(spec)) {
		snprintf(msg, msglen, "%sa job is a JSON object like {\"payload\": {...}}", where);
		return PANE_EINVAL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(spec, key, v)
	{
		bool known = false;
		for (size_t i = 0; spec_keys[i] && !known; i++)
			known = strcmp(spec_keys[i], key) == 0;
		if (!known) {
			snprintf(msg, msglen,
			         "%sunknown field '%s' (known: payload, run_at, delay, priority, max_attempts, "
			         "unique_key, timeout)",
			         where, key);
			return PANE_EINVAL;
		}
	}
	json_t *el = json_object();
	json_object_set_new(el, "queue", json_string(queue));
	json_t *payload = json_object_get(spec, "payload");
	if (payload && !json_is_object(payload) && !json_is_array(payload)) {
		snprintf(msg, msglen, "%spayload must be a JSON object or array", where);
		goto bad;
	}
	if (payload)
		json_object_set(el, "payload", payload);
	else
		json_object_set_new(el, "payload", json_object());
	if ((v = json_object_get(spec, "run_at")) && !json_is_null(v)) {
		if (!json_is_string(v)) {
			snprintf(msg, msglen, "%srun_at must be an RFC 3339 time string", where);
			goto bad;
		}
		json_object_set(el, "run_at", v);
	}
	if ((v = json_object_get(spec, "delay")) && !json_is_null(v)) {
		if (!(json_is_number(v) && json_number_value(v) >= 0) && !json_is_string(v)) {
			snprintf(msg, msglen,
			         "%sdelay must be seconds (a number >= 0) or an interval like \"5 minutes\"", where);
			goto bad;
		}
		if (json_object_get(spec, "run_at") && !json_is_null(json_object_get(spec, "run_at"))) {
			snprintf(msg, msglen, "%sgive run_at or delay, not both", where);
			goto bad;
		}
		json_object_set(el, "delay", v);
	}
	if ((v = json_object_get(spec, "priority")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < -32768 || json_integer_value(v) > 32767) {
			snprintf(msg, msglen, "%spriority must be an integer between -32768 and 32767", where);
			goto bad;
		}
		json_object_set(el, "priority", v);
	}
	if ((v = json_object_get(spec, "max_attempts")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000) {
			snprintf(msg, msglen, "%smax_attempts must be an integer of at least 1", where);
			goto bad;
		}
		json_object_set(el, "max_attempts", v);
	}
	v = json_object_get(spec, "unique_key");
	if (v && !json_is_null(v) &&
	    (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 512)) {
		snprintf(msg, msglen, "%sunique_key must be a non-empty string of at most 512 bytes", where);
		goto bad;
	}
	if (idem) {
		json_object_set_new(el, "unique_key", json_string(idem));
	} else if (v && !json_is_null(v)) {
		json_object_set(el, "unique_key", v);
	}
	if ((v = json_object_get(spec, "timeout")) && !json_is_null(v)) {
		if (!(json_is_number(v) && json_number_value(v) > 0) && !json_is_string(v)) {
			snprintf(msg, msglen,
			         "%stimeout must be seconds (a number > 0) or an interval like \"30 seconds\"", where);
			goto bad;
		}
		json_object_set(el, "timeout", v);
	}
	char *text = json_dumps(el, JSON_COMPACT);
	json_decref(el);
	if (!text) {
		snprintf(msg, msglen, "%scannot encode the job", where);
		return PANE_EINVAL;
	}
	if (out->len)
		pane_buf_addc(out, ',');
	pane_buf_adds(out, text);
	free(text);
	return 0;
bad:
	json_decref(el);
	return PANE_EINVAL;
}

static int json_begin(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)ctx;
	if (!pane_http_req_content_type_is(req, "application/json")) {
		pane_http_resp_error(resp, 415, "unsupported_media_type",
		                     "send the job as JSON with Content-Type: application/json");
		return -1;
	}
	return 0;
}

int pane_api_parse_jobs(const char *body, size_t len, const char *queue, const char *idem, struct pane_buf *out,
                        bool *array, char *code, size_t codelen, char *msg, size_t msglen)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	int rc;
	if (!root) {
		snprintf(code, codelen, "malformed_json");
		snprintf(msg, msglen, "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
		return -400;
	}
	if (idem && (!*idem || strlen(idem) > 512)) {
		snprintf(code, codelen, "invalid_request");
		snprintf(msg, msglen, "Idempotency-Key must be 1-512 bytes");
		rc = -400;
		goto out;
	}
	*array = json_is_array(root);
	if (*array) {
		size_t n = json_array_size(root);
		if (n == 0 || n > MAX_JOBS_PER_REQUEST) {
			snprintf(code, codelen, n ? "payload_too_large" : "invalid_request");
			snprintf(msg, msglen, "an array holds 1 to %d jobs", MAX_JOBS_PER_REQUEST);
			rc = n ? -413 : -400;
			goto out;
		}
		if (idem) {
			snprintf(code, codelen, "invalid_request");
			snprintf(msg, msglen,
			         "Idempotency-Key applies to one job; give each array element a unique_key");
			rc = -400;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (add_elem(json_array_get(root, i), queue, NULL, i, true, out, msg, msglen) < 0) {
				snprintf(code, codelen, "invalid_job");
				rc = -400;
				goto out;
			}
		}
		rc = (int)n;
	} else {
		if (add_elem(root, queue, idem, 0, false, out, msg, msglen) < 0) {
			snprintf(code, codelen, "invalid_job");
			rc = -400;
			goto out;
		}
		rc = 1;
	}
out:
	json_decref(root);
	return rc;
}

static void h_enqueue(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_api *api = ctx;
	const char *queue = pane_http_req_param(req, "queue");
	if (!pane_api_queue_name_ok(queue)) {
		pane_http_resp_error(resp, 400, "invalid_queue",
		                     "queue names are 1-128 characters of letters, digits, '_', '-', '.' and ':'");
		return;
	}
	size_t len;
	const char *body = pane_http_req_body(req, &len);
	struct pane_buf elems;
	pane_buf_init(&elems, PANE_BUF_NOLIMIT);
	char code[32], msg[512];
	bool array = false;
	int n = pane_api_parse_jobs(body, len, queue, pane_http_req_header(req, "Idempotency-Key"), &elems, &array,
	                            code, sizeof code, msg, sizeof msg);
	if (n < 0) {
		pane_http_resp_error(resp, -n, code, "%s", msg);
		goto out;
	}
	struct enq *e = pane_xcalloc(1, sizeof *e);
	e->array = array;
	e->d = pane_http_resp_defer(resp);
	if (pane_api_batcher_submit(api->batcher, elems.data, elems.len, (size_t)n, enq_done, e) < 0) {
		struct pane_err err = {0};
		pane_err_set(&err, PANE_EAGAIN, "too many jobs are waiting to be committed; retry shortly");
		pane_api_error_resp(pane_http_deferred_resp(e->d), &err);
		pane_http_deferred_finish(e->d);
		free(e);
	}
out:
	pane_buf_release(&elems);
}

/* ---------- reads and management ---------- */

static bool job_id(struct pane_http_req *req, struct pane_http_resp *resp, char out[24])
{
	const char *id = pane_http_req_param(req, "id");
	int64_t v;
	if (!id || pane_str_to_i64(pane_str_c(id), &v) < 0 || v <= 0) {
		pane_http_resp_error(resp, 400, "invalid_job_id", "job ids are positive integers");
		return false;
	}
	snprintf(out, 24, "%lld", (long long)v);
	return true;
}

static void h_job(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_api *api = ctx;
	char id[24];
	if (!job_id(req, resp, id))
		return;
	char *json = NULL;
	struct pane_err err = {0};
	if (pane_api_job(api, strtoll(id, NULL, 10), &json, &err) < 0) {
		if (err.code == PANE_ENOTFOUND)
			pane_http_resp_error(resp, 404, "not_found", "no job %s", id);
		else
			pane_api_error_resp(resp, &err);
		free(json);
		return;
	}
	pane_http_resp_json(resp, 200, json);
	pane_buf_addc(pane_http_resp_body(resp), '\n');
	free(json);
}

/* GET /v1/jobs?queue=Q&state=S&limit=N: the newest jobs, active and
 * finished (pane_queue_list), for the console's Queue page. */
static void h_jobs(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_api *api = ctx;
	const char *queue = pane_http_req_arg(req, "queue"), *state = pane_http_req_arg(req, "state"),
	           *lim = pane_http_req_arg(req, "limit");
	if (queue && !*queue)
		queue = NULL;
	if (state && !*state)
		state = NULL;
	if (queue && !pane_api_queue_name_ok(queue)) {
		pane_http_resp_error(resp, 400, "invalid_queue",
		                     "queue names are 1-128 letters, digits, '_', '-', '.', ':'");
		return;
	}
	int64_t limit = 100;
	if (lim && (pane_str_to_i64(pane_str_c(lim), &limit) < 0 || limit < 1 || limit > 1000)) {
		pane_http_resp_error(resp, 400, "invalid_limit", "limit is 1..1000");
		return;
	}
	struct pane_err err = {0};
	PGconn *c = pane_api_pool_get(api->pool, &err);
	if (!c) {
		pane_api_error_resp(resp, &err);
		return;
	}
	char *json = NULL;
	int rc = pane_queue_list(c, api->schema, queue, state, (int)limit, &json, &err);
	pane_api_pool_put(api->pool, c, rc < 0 && PQstatus(c) != CONNECTION_OK);
	if (rc < 0) {
		if (rc == PANE_EINVAL)
			pane_http_resp_error(resp, 400, "invalid_request", "%s", err.msg);
		else
			pane_api_error_resp(resp, &err);
		free(json);
		return;
	}
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
	struct pane_buf *b = pane_http_resp_body(resp);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	pane_json_key(&j, "jobs");
	pane_json_raw(&j, json ? json : "[]"); /* PostgreSQL built the list */
	pane_json_obj_end(&j);
	pane_buf_addc(b, '\n');
	free(json);
}

static void manage(struct pane_http_req *req, struct pane_http_resp *resp, struct pane_api *api, bool cancel)
{
	char id[24], sql[PANE_QUEUE_SQL_MAX];
	if (!job_id(req, resp, id))
		return;
	(cancel ? pane_queue_sql_cancel : pane_queue_sql_retry)(api->schema, sql, sizeof sql);
	const char *params[1] = {id};
	char *state = NULL;
	struct pane_err err = {0};
	if (pane_api_query1(api, sql, 1, params, &state, &err) < 0) {
		pane_api_error_resp(resp, &err);
		return;
	}
	if (!state) {
		pane_http_resp_error(resp, 404, "not_found", "no job %s", id);
		return;
	}
	bool ok = cancel ? strcmp(state, "cancelled") == 0 : strcmp(state, "available") == 0;
	if (!ok) {
		if (cancel)
			pane_http_resp_error(resp, 409, "conflict", "job %s is already %s and cannot be cancelled", id,
			                     state);
		else
			pane_http_resp_error(resp, 409, "conflict",
			                     "job %s is %s; only failed or cancelled jobs are retried", id, state);
	} else {
		pane_http_resp_status(resp, 200);
		pane_http_resp_content_type(resp, "application/json");
		struct pane_buf *b = pane_http_resp_body(resp);
		struct pane_json j;
		pane_json_init(&j, b);
		pane_json_obj(&j);
		pane_json_key(&j, "id");
		pane_json_raw(&j, id); /* job_id() printed it from an int64 */
		pane_json_key(&j, "state");
		pane_json_str(&j, state);
		pane_json_obj_end(&j);
		pane_buf_addc(b, '\n');
	}
	free(state);
}

static void h_cancel(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	manage(req, resp, ctx, true);
}

static void h_retry(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	manage(req, resp, ctx, false);
}

static void h_queues(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	struct pane_api *api = ctx;
	char sql[PANE_QUEUE_SQL_MAX];
	pane_queue_sql_queues_throughput(api->schema, sql, sizeof sql);
	char *json = NULL;
	struct pane_err err = {0};
	if (pane_api_query1(api, sql, 0, NULL, &json, &err) < 0) {
		pane_api_error_resp(resp, &err);
		return;
	}
	pane_http_resp_json(resp, 200, json ? json : "{\"queues\":[]}");
	pane_buf_addc(pane_http_resp_body(resp), '\n');
	free(json);
}

static void pause_resume(struct pane_http_req *req, struct pane_http_resp *resp, struct pane_api *api, bool pause)
{
	const char *queue = pane_http_req_param(req, "queue");
	if (!pane_api_queue_name_ok(queue)) {
		pane_http_resp_error(resp, 400, "invalid_queue",
		                     "queue names are 1-128 characters of letters, digits, '_', '-', '.' and ':'");
		return;
	}
	char sql[PANE_QUEUE_SQL_MAX];
	pane_queue_sql_pause(api->schema, pause, sql, sizeof sql);
	const char *params[1] = {queue};
	struct pane_err err = {0};
	if (pane_api_query1(api, sql, 1, params, NULL, &err) < 0) {
		pane_api_error_resp(resp, &err);
		return;
	}
	struct pane_buf *b = pane_http_resp_body(resp);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	pane_json_key(&j, "queue");
	pane_json_str(&j, queue);
	pane_json_key(&j, "paused");
	pane_json_bool(&j, pause);
	pane_json_obj_end(&j);
	pane_buf_addc(b, '\n');
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

static void h_pause(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	pause_resume(req, resp, ctx, true);
}

static void h_resume(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	pause_resume(req, resp, ctx, false);
}

void pane_api_jobs_routes(struct pane_api *api, struct pane_http_server *srv)
{
	pane_http_server_route(srv, &(struct pane_http_route){.method = "POST",
	                                                      .pattern = "/v1/queues/{queue}/jobs",
	                                                      .handler = h_enqueue,
	                                                      .ctx = api,
	                                                      .scope = "enqueue",
	                                                      .on_begin = json_begin});
	pane_http_server_route(
	    srv, &(struct pane_http_route){
	             .method = "GET", .pattern = "/v1/jobs", .handler = h_jobs, .ctx = api, .scope = "read"});
	pane_http_server_route(srv, &(struct pane_http_route){.method = "GET",
	                                                      .pattern = "/v1/jobs/{id}",
	                                                      .handler = h_job,
	                                                      .blocking = true,
	                                                      .ctx = api,
	                                                      .scope = "read"});
	pane_http_server_route(srv, &(struct pane_http_route){.method = "POST",
	                                                      .pattern = "/v1/jobs/{id}/cancel",
	                                                      .handler = h_cancel,
	                                                      .blocking = true,
	                                                      .ctx = api,
	                                                      .scope = "admin"});
	pane_http_server_route(srv, &(struct pane_http_route){.method = "POST",
	                                                      .pattern = "/v1/jobs/{id}/retry",
	                                                      .handler = h_retry,
	                                                      .blocking = true,
	                                                      .ctx = api,
	                                                      .scope = "admin"});
	pane_http_server_route(srv, &(struct pane_http_route){.method = "GET",
	                                                      .pattern = "/v1/queues",
	                                                      .handler = h_queues,
	                                                      .blocking = true,
	                                                      .ctx = api,
	                                                      .scope = "read"});
	pane_http_server_route(srv, &(struct pane_http_route){.method = "POST",
	                                                      .pattern = "/v1/queues/{queue}/pause",
	                                                      .handler = h_pause,
	                                                      .blocking = true,
	                                                      .ctx = api,
	                                                      .scope = "admin"});
	pane_http_server_route(srv, &(struct pane_http_route){.method = "POST",
	                                                      .pattern = "/v1/queues/{queue}/resume",
	                                                      .handler = h_resume,
	                                                      .blocking = true,
	                                                      .ctx = api,
	                                                      .scope = "admin"});
}
