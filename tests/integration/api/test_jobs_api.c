/* test_jobs_api.c - the jobs API end to end: `pane serve` with tokens on a
 * fresh migrated database, real HTTP. Enqueue (single, array, idempotency,
 * bad input, concurrent good and bad), status, cancel/retry (404/409),
 * queues and pause/resume, auth (401/403 per scope), SSE delivery of a
 * completion made with the queue's SQL, and the refusal to listen on a
 * non-loopback address without tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_common.h"
#include "base/clock.h"

#define T_ENQ "enqueue-token-0123456789"
#define T_READ "read-token-0123456789"
#define T_ADMIN "admin-token-0123456789"
#define JSON "application/json"

static struct api_env env;
static pid_t extra_pid; /* a second pane started by one test; stopped in teardown if still running */

static const char yaml[] = "auth:\n"
                           "  open_read: false\n"
                           "  tokens:\n"
                           "    - {name: producer, token: '${PT_ENQ}', scopes: [enqueue]}\n"
                           "    - {name: dashboard, token: '${PT_READ}', scopes: [read]}\n"
                           "    - {name: ops, token: '${PT_ADMIN}', scopes: [admin]}\n";

static int setup(void **state)
{
	(void)state;
	setenv("PT_ENQ", T_ENQ, 1);
	setenv("PT_READ", T_READ, 1);
	setenv("PT_ADMIN", T_ADMIN, 1);
	api_start(&env, "api_jobs", yaml);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (extra_pid > 0)
		pt_stop(extra_pid, SIGKILL);
	api_stop(&env);
	return 0;
}

static long long post_job(const char *queue, const char *body, long want_status)
{
	char path[256];
	snprintf(path, sizeof path, "/v1/queues/%s/jobs", queue);
	struct pt_http_result r = api_req(&env, "POST", path, T_ENQ, JSON, body, strlen(body));
	if (r.status != want_status)
		fprintf(stderr, "POST %s %s -> %ld %s\n", path, body, r.status, r.body);
	assert_int_equal(r.status, want_status);
	long long id = api_json_ll(r.body, "id");
	pt_http_result_free(&r);
	return id;
}

static void auth_and_scopes(void **state)
{
	(void)state;
	const char *b = "{\"payload\":{}}";
	const struct api_case cases[] = {
	    {"POST", "/v1/queues/a/jobs", NULL, JSON, b, 401, "error.code=unauthorized", "WWW-Authenticate: Bearer"},
	    {"POST", "/v1/queues/a/jobs", "wrong-token-0123456789", JSON, b, 401, "error.code=unauthorized", NULL},
	    {"POST", "/v1/queues/a/jobs", T_READ, JSON, b, 403, "error.message~'enqueue' scope", NULL},
	    /* reads are closed here (open_read: false) */
	    {"GET", "/v1/queues", NULL, NULL, NULL, 401, NULL, NULL},
	    {"GET", "/v1/queues", T_READ, NULL, NULL, 200, "queues", NULL},
	    {"GET", "/v1/queues", T_ENQ, NULL, NULL, 403, NULL, NULL},
	    {"POST", "/v1/jobs/1/cancel", T_ENQ, NULL, NULL, 403, NULL, NULL},
	    /* admin holds every scope; health stays open */
	    {"POST", "/v1/queues/a/jobs", T_ADMIN, JSON, b, 201, "created=true", NULL},
	    {"GET", "/healthz", NULL, NULL, NULL, 200, "status=ok", NULL},
	    {"GET", "/readyz", NULL, NULL, NULL, 200, "checks.queue_schema=ok;status=ready", NULL},
	};
	api_cases(&env, cases, sizeof cases / sizeof cases[0], 0);
}

static void enqueue_and_read(void **state)
{
	(void)state;
	long long id = post_job("mail",
	                        "{\"payload\":{\"to\":\"a@example.com\"},\"priority\":5,\"max_attempts\":3,"
	                        "\"delay\":60,\"timeout\":30}",
	                        201);
	assert_true(id > 0);
	char sql[256];
	snprintf(
	    sql, sizeof sql,
	    "SELECT count(*) FROM pane.jobs WHERE id = %lld AND queue = 'mail' AND payload->>'to' = 'a@example.com' "
	    "AND priority = 5 AND max_attempts = 3 AND run_at > now() + interval '50 seconds' "
	    "AND timeout = interval '30 seconds'",
	    id);
	assert_int_equal(api_sql_ll(&env, sql), 1);

	const struct api_case cases[] = {
	    {"GET", "/v1/jobs/{id}", T_READ, NULL, NULL, 200, "state=available;queue=mail;priority=5;errors", NULL},
	    {"GET", "/v1/jobs/987654321", T_READ, NULL, NULL, 404, "error.code=not_found", NULL},
	    {"GET", "/v1/jobs/abc", T_READ, NULL, NULL, 400, NULL, NULL},
	};
	api_cases(&env, cases, sizeof cases / sizeof cases[0], id);
	/* an array: ids in order */
	const char *arr = "[{\"payload\":{\"n\":1}},{\"payload\":{\"n\":2},\"run_at\":\"2030-01-01T00:00:00Z\"}]";
	struct pt_http_result r = api_req(&env, "POST", "/v1/queues/mail/jobs", T_ENQ, JSON, arr, strlen(arr));
	assert_int_equal(r.status, 201);
	char *id1 = api_json_at(r.body, "jobs.0.id"), *id2 = api_json_at(r.body, "jobs.1.id");
	char *c1 = api_json_at(r.body, "jobs.0.created"), *c2 = api_json_at(r.body, "jobs.1.created");
	assert_non_null(id1);
	assert_non_null(id2);
	assert_string_equal(c1, "true");
	assert_string_equal(c2, "true");
	long long a1 = strtoll(id1, NULL, 10), a2 = strtoll(id2, NULL, 10);
	assert_true(a2 > a1);
	free(id1), free(id2), free(c1), free(c2);
	pt_http_result_free(&r);
	snprintf(sql, sizeof sql,
	         "SELECT count(*) FROM pane.jobs WHERE (id = %lld AND payload->>'n' = '1') OR "
	         "(id = %lld AND payload->>'n' = '2' AND run_at = '2030-01-01T00:00:00Z')",
	         a1, a2);
	assert_int_equal(api_sql_ll(&env, sql), 2);

	/* Idempotency-Key: the second request returns the first job, 200 */
	const char *b = "{\"payload\":{}}";
	char url[128];
	snprintf(url, sizeof url, "%s/v1/queues/mail/jobs", env.base);
	const char *h[] = {"Authorization: Bearer " T_ENQ, "Content-Type: " JSON, "Idempotency-Key: order-17", NULL};
	struct pt_http_result r1, r2;
	assert_int_equal(pt_http("POST", url, h, b, strlen(b), &r1), 0);
	assert_int_equal(pt_http("POST", url, h, b, strlen(b), &r2), 0);
	assert_int_equal(r1.status, 201);
	assert_int_equal(r2.status, 200);
	assert_true(api_json_ll(r1.body, "id") == api_json_ll(r2.body, "id"));
	char *created = api_json_at(r2.body, "created");
	assert_string_equal(created, "false");
	free(created);
	pt_http_result_free(&r1);
	pt_http_result_free(&r2);
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.jobs WHERE unique_key = 'order-17'"), 1);
}

static void bad_input(void **state)
{
	(void)state;
	static const struct {
		const char *ctype, *body, *code;
		long status;
	} cases[] = {
	    {JSON, "{\"payload\":", "malformed_json", 400},
	    {JSON, "", "malformed_json", 400},
	    {JSON, "{\"payload\":{},\"payload\":{}}", "malformed_json", 400},
	    {JSON, "{\"payload\":{},\"colour\":1}", "unknown field 'colour'", 400},
	    {JSON, "{\"payload\":\"text\"}", "payload must be", 400},
	    {JSON, "{\"priority\":\"high\"}", "priority must be", 400},
	    {JSON, "{\"max_attempts\":0}", "max_attempts", 400},
	    {JSON, "{\"run_at\":\"2030-01-01\",\"delay\":5}", "not both", 400},
	    {JSON, "[]", "1 to 1000", 400},
	    {JSON, "[1]", "jobs[0]", 400},
	    {JSON, "{\"run_at\":\"yesterday-ish\"}", "invalid_request", 400}, /* refused by PostgreSQL */
	    {"text/plain", "{}", "unsupported_media_type", 415},
	    {NULL, "{}", "unsupported_media_type", 415},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pt_http_result r = api_req(&env, "POST", "/v1/queues/bad/jobs", T_ENQ, cases[i].ctype,
		                                  cases[i].body, strlen(cases[i].body));
		if (r.status != cases[i].status || !strstr(r.body, cases[i].code))
			fprintf(stderr, "case %zu: %ld %s\n", i, r.status, r.body);
		assert_int_equal(r.status, cases[i].status);
		assert_non_null(strstr(r.body, cases[i].code));
		assert_non_null(strstr(r.body, "{\"error\":{\"code\":"));
		pt_http_result_free(&r);
	}
	/* bad queue name, oversized body, too many jobs, wrong method, unknown path */
	struct pt_http_result r = api_req(&env, "POST", "/v1/queues/no%20spaces/jobs", T_ENQ, JSON, "{}", 2);
	assert_int_equal(r.status, 400);
	pt_http_result_free(&r);
	size_t big = (1u << 20) + 100;
	char *body = malloc(big);
	memset(body, ' ', big);
	body[0] = '{';
	body[big - 1] = '}';
	r = api_req(&env, "POST", "/v1/queues/bad/jobs", T_ENQ, JSON, body, big);
	assert_int_equal(r.status, 413);
	pt_http_result_free(&r);
	free(body);
	struct pane_buf_like {
		char *p;
	} many = {malloc(1001 * 3 + 2)};
	char *p = many.p;
	*p++ = '[';
	for (int i = 0; i < 1001; i++) {
		memcpy(p, "{},", 3);
		p += 3;
	}
	p[-1] = ']';
	*p = '\0';
	r = api_req(&env, "POST", "/v1/queues/bad/jobs", T_ENQ, JSON, many.p, strlen(many.p));
	assert_int_equal(r.status, 413);
	pt_http_result_free(&r);
	free(many.p);
	r = api_req(&env, "DELETE", "/v1/queues/bad/jobs", T_ENQ, NULL, NULL, 0);
	assert_int_equal(r.status, 405);
	pt_http_result_free(&r);
	r = api_req(&env, "GET", "/v1/nothing", T_ENQ, NULL, NULL, 0);
	assert_int_equal(r.status, 404);
	pt_http_result_free(&r);
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.jobs WHERE queue = 'bad'"), 0);
}

/* many concurrent producers, some sending jobs PostgreSQL refuses: good ones
 * all land (one batch may hold both), bad ones get 400 */
struct prod {
	int idx;
	int created, refused;
};

static void *producer(void *arg)
{
	struct prod *p = arg;
	for (int i = 0; i < 25; i++) {
		char body[128];
		bool bad = (p->idx + i) % 5 == 0;
		snprintf(body, sizeof body,
		         bad ? "{\"run_at\":\"not a time %d\"}" : "{\"payload\":{\"p\":%d,\"i\":%d}}", p->idx, i);
		struct pt_http_result r =
		    api_req(&env, "POST", "/v1/queues/conc/jobs", T_ENQ, JSON, body, strlen(body));
		if (r.status == 201 && !bad)
			p->created++;
		else if (r.status == 400 && bad)
			p->refused++;
		pt_http_result_free(&r);
	}
	return NULL;
}

static void concurrent_batches(void **state)
{
	(void)state;
	enum { N = 16 };
	pthread_t t[N];
	struct prod p[N];
	for (int i = 0; i < N; i++) {
		p[i] = (struct prod){.idx = i};
		pthread_create(&t[i], NULL, producer, &p[i]);
	}
	int created = 0, refused = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		created += p[i].created;
		refused += p[i].refused;
	}
	assert_int_equal(created + refused, N * 25);
	assert_int_equal(refused, N * 25 / 5);
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.jobs WHERE queue = 'conc'"), created);
	assert_true(api_metric(&env, "pane_api_enqueue_batches_total") > 0);
}

static void complete_with_sql(long long id, const char *queue)
{
	char sql[512];
	snprintf(sql, sizeof sql,
	         "SELECT count(*) FROM pane.complete_jobs('t', ARRAY[(SELECT id FROM pane.claim('t', '%s', 1, 60) "
	         "WHERE id = %lld)], "
	         "ARRAY[1], ARRAY['{\"ok\":true}'::jsonb])",
	         queue, id);
	assert_int_equal(api_sql_ll(&env, sql), 1);
}

static void cancel_retry_pause(void **state)
{
	(void)state;
	long long id = post_job("ops", "{\"payload\":{}}", 201);
	const struct api_case before[] = {
	    {"POST", "/v1/jobs/{id}/cancel", T_ADMIN, NULL, NULL, 200, "state=cancelled", NULL},
	    {"POST", "/v1/jobs/{id}/retry", T_ADMIN, NULL, NULL, 200, "state=available", NULL},
	};
	api_cases(&env, before, sizeof before / sizeof before[0], id);
	/* completed: cancel and retry conflict */
	complete_with_sql(id, "ops");
	const struct api_case after[] = {
	    {"POST", "/v1/jobs/{id}/cancel", T_ADMIN, NULL, NULL, 409, "error.message~already completed", NULL},
	    {"POST", "/v1/jobs/{id}/retry", T_ADMIN, NULL, NULL, 409, NULL, NULL},
	    {"POST", "/v1/jobs/99999999/cancel", T_ADMIN, NULL, NULL, 404, NULL, NULL},
	    {"POST", "/v1/jobs/99999999/retry", T_ADMIN, NULL, NULL, 404, NULL, NULL},
	    {"POST", "/v1/queues/ops/pause", T_ADMIN, NULL, NULL, 200, NULL, NULL},
	    {"GET", "/v1/queues", T_READ, NULL, NULL, 200,
	     "queues.[queue=ops].paused=true;queues.[queue=ops].throughput_per_second;"
	     "queues.[queue=ops].oldest_runnable_age_seconds",
	     NULL},
	};
	api_cases(&env, after, sizeof after / sizeof after[0], id);
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.queues WHERE name = 'ops' AND paused"), 1);
	const struct api_case resume[] = {
	    {"POST", "/v1/queues/ops/resume", T_ADMIN, NULL, NULL, 200, NULL, NULL},
	    {"GET", "/v1/queues", T_READ, NULL, NULL, 200, "queues.[queue=ops].paused=false", NULL},
	};
	api_cases(&env, resume, sizeof resume / sizeof resume[0], id);
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.queues WHERE name = 'ops' AND NOT paused"), 1);
}

struct watch {
	char path[128];
	struct pt_http_result r;
	int rc;
};

static void *watch_job(void *arg)
{
	struct watch *w = arg;
	w->r = api_req(&env, "GET", w->path, T_READ, NULL, NULL, 0);
	return NULL;
}

static void sse_sees_completion(void **state)
{
	(void)state;
	long long id = post_job("sse", "{\"payload\":{\"x\":1}}", 201);
	double before = api_metric(&env, "pane_api_sse_clients");
	struct watch w[3];
	pthread_t t[3];
	for (int i = 0; i < 3; i++) {
		snprintf(w[i].path, sizeof w[i].path, "/v1/jobs/%lld/events", id);
		pthread_create(&t[i], NULL, watch_job, &w[i]);
	}
	/* wait until all three listen (a condition, not a duration) */
	for (int i = 0; i < 2000 && api_metric(&env, "pane_api_sse_clients") < (before > 0 ? before : 0) + 3; i++)
		pane_sleep_ms(10);
	assert_true(api_metric(&env, "pane_api_sse_clients") >= 3);
	complete_with_sql(id, "sse");
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		struct pt_http_result *r = &w[i].r;
		assert_int_equal(r->status, 200);
		assert_string_equal(r->content_type, "text/event-stream");
		char *first = strstr(r->body, "\"state\": \"available\"");
		char *done = strstr(r->body, "\"state\": \"completed\"");
		assert_non_null(first);
		assert_non_null(done);
		assert_true(first < done);
		assert_non_null(strstr(done, "\"result\": {\"ok\": true}"));
		assert_null(strstr(done + 1, "\"state\": \"completed\"")); /* once */
		pt_http_result_free(r);
	}
	/* a finished job: one event, then the end; unknown job; no token */
	const struct api_case cases[] = {
	    {"GET", "/v1/jobs/99999999/events", T_READ, NULL, NULL, 404, "error.code=not_found", NULL},
	    {"GET", "/v1/jobs/{id}/events", NULL, NULL, NULL, 401, NULL, NULL},
	};
	char path[128];
	snprintf(path, sizeof path, "/v1/jobs/%lld/events", id);
	struct pt_http_result r = api_req(&env, "GET", path, T_READ, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "id: completed\ndata: {"));
	pt_http_result_free(&r);
	api_cases(&env, cases, sizeof cases / sizeof cases[0], id);
}

static void refuses_public_listen_without_tokens(void **state)
{
	(void)state;
	char log[512], listen[64];
	snprintf(log, sizeof log, "%s/public.log", env.dir);
	snprintf(listen, sizeof listen, "0.0.0.0:%d", pt_free_port());
	char data[512];
	snprintf(data, sizeof data, "%s/public-data", env.dir);
	char *argv[] = {(char *)pt_pane_bin(), "serve", "--listen", listen, "--data-dir", data, NULL};
	pid_t pid = pt_spawn(argv, log);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	FILE *f = fopen(log, "r");
	char text[2048] = "";
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	assert_non_null(strstr(text, "refusing to listen on a non-loopback address without auth tokens"));
	assert_non_null(strstr(text, "auth.tokens"));
}

/* PostgreSQL unreachable: pane still starts; writes and reads answer 503
 * with Retry-After and a reason, readiness says why */
static void database_down_is_503(void **state)
{
	(void)state;
	char log[512], listen[64], data[512], base[64], url[128];
	int port = pt_free_port();
	snprintf(log, sizeof log, "%s/down.log", env.dir);
	snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
	snprintf(data, sizeof data, "%s/down-data", env.dir);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
	char *saved = strdup(getenv("DATABASE_URL"));
	setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=2", 1);
	char *argv[] = {(char *)pt_pane_bin(), "serve", "--listen", listen, "--data-dir", data, NULL};
	pid_t pid = extra_pid = pt_spawn(argv, log);
	setenv("DATABASE_URL", saved, 1);
	free(saved);
	snprintf(url, sizeof url, "%s/healthz", base);
	assert_int_equal(pt_wait_http(url, 20000), 0);
	const char *h[] = {"Content-Type: application/json", NULL};
	struct pt_http_result r;
	snprintf(url, sizeof url, "%s/v1/queues/q/jobs", base);
	assert_int_equal(pt_http("POST", url, h, "{}", 2, &r), 0);
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.headers, "Retry-After:"));
	assert_non_null(strstr(r.body, "PostgreSQL"));
	pt_http_result_free(&r);
	snprintf(url, sizeof url, "%s/v1/jobs/1", base);
	assert_int_equal(pt_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 503);
	pt_http_result_free(&r);
	snprintf(url, sizeof url, "%s/readyz", base);
	assert_int_equal(pt_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 503);
	pt_http_result_free(&r);
	extra_pid = 0;
	assert_int_equal(pt_stop(pid, SIGTERM), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(auth_and_scopes),
	    cmocka_unit_test(enqueue_and_read),
	    cmocka_unit_test(bad_input),
	    cmocka_unit_test(concurrent_batches),
	    cmocka_unit_test(cancel_retry_pause),
	    cmocka_unit_test(sse_sees_completion),
	    cmocka_unit_test(refuses_public_listen_without_tokens),
	    cmocka_unit_test(database_down_is_503),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
