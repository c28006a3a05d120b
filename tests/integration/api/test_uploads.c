/* test_uploads.c - POST /v1/uploads/{queue} end to end: the stored file and
 * its job payload (SHA-256, size, sanitised name, metadata), 413/415, a
 * client that disconnects mid-upload (no file, no job), retention after the
 * job finishes, the stored file read back over GET /v1/uploads/{id} (read
 * scope) until retention removes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_common.h"
#include "base/clock.h"
#include "http/sha256.h"
#include "rawhttp.h"

static struct api_env env;

/* idle_timeout 1s: libmicrohttpd 0.9.75 sometimes notices a client that
 * closes right behind the tail of its body only at the idle timeout */
static const char yaml[] = "  idle_timeout: 1s\n"
                           "uploads:\n"
                           "  max_size: 2MiB\n"
                           "  retention: 0s\n"
                           "  sweep_interval: 200ms\n"
                           "  content_types: [image/*, application/octet-stream]\n";

static int setup(void **state)
{
	(void)state;
	api_start(&env, "api_uploads", yaml); /* loopback, no tokens: open */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_stop(&env);
	return 0;
}

/* counts entries of DATA/uploads whose name ends in suffix ("" = stored files) */
static int count_files(const char *suffix)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/data/uploads", env.dir);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		const char *dot = strchr(de->d_name, '.');
		if (*suffix ? (dot && strcmp(dot, suffix) == 0) : !dot)
			n++;
	}
	closedir(d);
	return n;
}

static void stored_and_enqueued(void **state)
{
	(void)state;
	size_t n = 300000;
	char *body = malloc(n);
	for (size_t i = 0; i < n; i++)
		body[i] = (char)(i * 31 + 7);
	uint8_t d[32];
	char hex[65];
	pane_sha256(body, n, d);
	pane_sha256_hex(d, hex);
	struct pt_http_result r =
	    api_req(&env, "POST", "/v1/uploads/images?filename=..%2F..%2Fetc%2Fevil%0A.png&user=42&note=hi%20there",
	            NULL, "image/png", body, n);
	assert_int_equal(r.status, 202);
	json_t *j = json_loads(r.body, 0, NULL);
	assert_non_null(j);
	long long job = json_integer_value(json_object_get(j, "job_id"));
	const char *upload_id = json_string_value(json_object_get(j, "upload_id"));
	assert_true(job > 0);
	assert_int_equal(strlen(upload_id), 32);
	char want_url[64];
	snprintf(want_url, sizeof want_url, "/v1/jobs/%lld", job);
	assert_string_equal(json_string_value(json_object_get(j, "status_url")), want_url);

	/* the job's payload names the stored file */
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT payload::text FROM pane.jobs WHERE id = %lld AND queue = 'images'", job);
	PGresult *res = PQexec(env.sql, sql);
	assert_int_equal(PQntuples(res), 1);
	json_t *p = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	PQclear(res);
	json_t *up = json_object_get(p, "upload");
	assert_string_equal(json_string_value(json_object_get(up, "id")), upload_id);
	assert_string_equal(json_string_value(json_object_get(up, "sha256")), hex);
	assert_int_equal(json_integer_value(json_object_get(up, "size")), n);
	assert_string_equal(json_string_value(json_object_get(up, "content_type")), "image/png");
	assert_string_equal(json_string_value(json_object_get(up, "filename")), "evil.png");
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "meta"), "user")), "42");
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "meta"), "note")), "hi there");
	const char *path = json_string_value(json_object_get(up, "path"));
	char want_prefix[512];
	snprintf(want_prefix, sizeof want_prefix, "/data/uploads/%s", upload_id);
	assert_non_null(strstr(path, want_prefix));
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *back = malloc(n + 1);
	assert_int_equal(fread(back, 1, n + 1, f), n);
	fclose(f);
	assert_memory_equal(back, body, n);
	free(back);

	/* a worker on another host reads it over HTTP: the payload's url */
	char get[64];
	snprintf(get, sizeof get, "/v1/uploads/%s", upload_id);
	assert_string_equal(json_string_value(json_object_get(up, "url")), get);
	assert_string_equal(json_string_value(json_object_get(up, "storage")), "local");
	struct pt_http_result g = api_req(&env, "GET", get, NULL, NULL, NULL, 0);
	assert_int_equal(g.status, 200);
	assert_int_equal(g.len, n);
	assert_memory_equal(g.body, body, n);
	pt_http_result_free(&g);

	/* retention 0: once the job completes, the sweeper removes the file */
	snprintf(sql, sizeof sql,
	         "SELECT count(*) FROM pane.complete_jobs('t', ARRAY[(SELECT id FROM pane.claim('t', 'images', 1, 60) "
	         "WHERE id = %lld)], ARRAY[1])",
	         job);
	assert_int_equal(api_sql_ll(&env, sql), 1);
	for (int i = 0; i < 1000 && access(path, F_OK) == 0; i++)
		pane_sleep_ms(10);
	assert_int_not_equal(access(path, F_OK), 0);
	g = api_req(&env, "GET", get, NULL, NULL, NULL, 0);
	assert_int_equal(g.status, 404);
	pt_http_result_free(&g);
	json_decref(p);
	json_decref(j);
	pt_http_result_free(&r);
	free(body);
}

static void refusals_leave_nothing(void **state)
{
	(void)state;
	int files = count_files("");
	long long jobs = api_sql_ll(&env, "SELECT count(*) FROM pane.jobs");
	struct pt_http_result r = api_req(&env, "POST", "/v1/uploads/images", NULL, "text/html", "<p>", 3);
	assert_int_equal(r.status, 415);
	assert_non_null(strstr(r.body, "text/html"));
	pt_http_result_free(&r);
	r = api_req(&env, "POST", "/v1/uploads/images", NULL, "multipart/form-data; boundary=x", "--x", 3);
	assert_int_equal(r.status, 415);
	pt_http_result_free(&r);
	r = api_req(&env, "POST", "/v1/uploads/bad%20queue", NULL, "image/png", "x", 1);
	assert_int_equal(r.status, 400);
	pt_http_result_free(&r);
	r = api_req(&env, "POST", "/v1/uploads/images?filename=%FF%FE.png", NULL, "image/png", "x", 1);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "UTF-8"));
	pt_http_result_free(&r);
	r = api_req(&env, "POST", "/v1/uploads/images?note=%C3%28", NULL, "image/png", "x", 1);
	assert_int_equal(r.status, 400);
	pt_http_result_free(&r);
	/* over max_size with a Content-Length: refused before the body */
	size_t big = (2u << 20) + 1;
	char *body = calloc(1, big);
	r = api_req(&env, "POST", "/v1/uploads/images", NULL, "image/png", body, big);
	assert_int_equal(r.status, 413);
	pt_http_result_free(&r);
	/* and chunked (no length): cut while streaming */
	char url[128];
	snprintf(url, sizeof url, "%s/v1/uploads/images", env.base);
	const char *h[] = {"Content-Type: image/png", "Transfer-Encoding: chunked", NULL};
	struct pt_http_result rc;
	int tr = pt_http("POST", url, h, body, big, &rc);
	assert_true(tr < 0 || rc.status == 413);
	pt_http_result_free(&rc);
	free(body);
	/* the request's end is reported just after its answer went out */
	for (int i = 0; i < 1000 && count_files(".part") != 0; i++)
		pane_sleep_ms(10);
	assert_int_equal(count_files(".part"), 0);
	assert_int_equal(count_files(""), files);
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.jobs"), jobs);
}

static void disconnect_mid_upload(void **state)
{
	(void)state;
	int files = count_files("");
	double aborted = api_metric(&env, "pane_api_uploads_aborted_total");
	int fd = pt_raw_connect(env.port);
	const char *head = "POST /v1/uploads/dropped HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
	                   "Content-Length: 1000000\r\n\r\n";
	assert_int_equal(pt_raw_send(fd, head, strlen(head)), 0);
	char chunk[4096];
	memset(chunk, 'z', sizeof chunk);
	for (int i = 0; i < 50; i++)
		assert_int_equal(pt_raw_send(fd, chunk, sizeof chunk), 0);
	/* the partial file exists while the upload is in progress ... */
	for (int i = 0; i < 1000 && count_files(".part") == 0; i++)
		pane_sleep_ms(10);
	assert_int_equal(count_files(".part"), 1);
	close(fd);
	/* ... and is gone once the client left, with no job */
	for (int i = 0; i < 1000 && count_files(".part") != 0; i++)
		pane_sleep_ms(10);
	assert_int_equal(count_files(".part"), 0);
	assert_int_equal(count_files(""), files);
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.jobs WHERE queue = 'dropped'"), 0);
	assert_true(api_metric(&env, "pane_api_uploads_aborted_total") == aborted + 1);
	/* the server goes on serving */
	struct pt_http_result r = api_req(&env, "POST", "/v1/uploads/dropped", NULL, "image/png", "ok", 2);
	assert_int_equal(r.status, 202);
	pt_http_result_free(&r);
}

/* GET /v1/uploads/{id} needs the read scope where tokens are configured;
 * ids that cannot be an upload are 404 without touching the disk. */
static void download_needs_read_scope(void **state)
{
	(void)state;
	setenv("PT_UP_ENQ", "enqueue-token-0123456789", 1);
	setenv("PT_UP_READ", "read-token-0123456789abc", 1);
	struct api_env e2;
	api_start(&e2, "api_uploads_auth",
	          "auth:\n"
	          "  open_read: false\n"
	          "  tokens:\n"
	          "    - {name: producer, token: '${PT_UP_ENQ}', scopes: [enqueue]}\n"
	          "    - {name: worker, token: '${PT_UP_READ}', scopes: [read]}\n");
	struct pt_http_result r =
	    api_req(&e2, "POST", "/v1/uploads/docs", "enqueue-token-0123456789", "application/pdf", "%PDF-1.4 x", 10);
	assert_int_equal(r.status, 202);
	json_t *j = json_loads(r.body, 0, NULL);
	char get[64];
	snprintf(get, sizeof get, "/v1/uploads/%s", json_string_value(json_object_get(j, "upload_id")));
	json_decref(j);
	pt_http_result_free(&r);
	r = api_req(&e2, "GET", get, NULL, NULL, NULL, 0);
	assert_int_equal(r.status, 401);
	pt_http_result_free(&r);
	r = api_req(&e2, "GET", get, "enqueue-token-0123456789", NULL, NULL, 0);
	assert_int_equal(r.status, 403);
	pt_http_result_free(&r);
	r = api_req(&e2, "GET", get, "read-token-0123456789abc", NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 10);
	assert_memory_equal(r.body, "%PDF-1.4 x", 10);
	pt_http_result_free(&r);
	const char *bad[] = {"/v1/uploads/..%2F..%2Fetc%2Fpasswd", "/v1/uploads/0123456789abcdef0123456789abcdeg",
	                     "/v1/uploads/0123456789abcdef0123456789abcdef", "/v1/uploads/0123"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = api_req(&e2, "GET", bad[i], "read-token-0123456789abc", NULL, NULL, 0);
		assert_int_equal(r.status, 404);
		pt_http_result_free(&r);
	}
	api_stop(&e2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stored_and_enqueued),
	    cmocka_unit_test(refusals_leave_nothing),
	    cmocka_unit_test(disconnect_mid_upload),
	    cmocka_unit_test(download_needs_read_scope),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
