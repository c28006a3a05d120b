/* test_uploads_s3.c - uploads into S3-compatible object storage: a real
 * S3-speaking server on loopback (s3rver, npm; tests/fakes/s3), the stored
 * object read back through the job's presigned URL (what a worker on
 * another host does), no local copy left; a store that never answers and
 * one that is down both get a 503 and leave no job and no file. The
 * presigned-URL signature is checked against AWS's published example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/objstore.h"
#include "api_common.h"
#include "base/clock.h"
#include "http/sha256.h"

static char s3dir[128];
static int s3port;
static pid_t s3pid;

static int count_files(struct api_env *e)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/data/uploads", e->dir);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static bool port_open(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons((uint16_t)port)};
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

static int setup(void **state)
{
	(void)state;
	const char *root = getenv("PANE_SOURCE_ROOT");
	char bin[512];
	snprintf(bin, sizeof bin, "%s/tests/fakes/s3/node_modules/s3rver/bin/s3rver.js", root ? root : ".");
	if (access(bin, R_OK) != 0) {
		fprintf(stderr, "%s missing: run scripts/install-deps.sh\n", bin);
		return -1;
	}
	snprintf(s3dir, sizeof s3dir, "/tmp/pane-s3-XXXXXX");
	if (!mkdtemp(s3dir))
		return -1;
	s3port = pt_free_port();
	char port[16];
	snprintf(port, sizeof port, "%d", s3port);
	char *argv[] = {"/usr/bin/env",       "node",       bin, "-d", s3dir, "-a", "127.0.0.1", "-p", port, "-s",
	                "--configure-bucket", "panebucket", NULL};
	s3pid = pt_spawn(argv, NULL);
	for (int i = 0; i < 400 && !port_open(s3port); i++)
		pane_sleep_ms(50);
	return port_open(s3port) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (s3pid > 0)
		pt_stop(s3pid, SIGTERM);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", s3dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void start(struct api_env *e, const char *name, const char *endpoint, const char *timeout)
{
	char yaml[1024];
	setenv("PANE_TEST_S3_SECRET", "S3RVER", 1);
	snprintf(yaml, sizeof yaml,
	         "uploads:\n"
	         "  max_size: 4MiB\n"
	         "  s3_endpoint: %s\n"
	         "  s3_bucket: panebucket\n"
	         "  s3_access_key_id: S3RVER\n"
	         "  s3_secret_access_key: ${PANE_TEST_S3_SECRET}\n"
	         "  s3_prefix: in/\n"
	         "  s3_timeout: %s\n",
	         endpoint, timeout);
	api_start(e, name, yaml);
}

static void stored_in_bucket_read_by_url(void **state)
{
	(void)state;
	struct api_env env;
	char ep[64];
	snprintf(ep, sizeof ep, "http://127.0.0.1:%d", s3port);
	start(&env, "api_uploads_s3", ep, "10s");
	size_t n = 200000;
	char *body = malloc(n);
	for (size_t i = 0; i < n; i++)
		body[i] = (char)(i * 7 + 3);
	uint8_t d[32];
	char hex[65];
	pane_sha256(body, n, d);
	pane_sha256_hex(d, hex);
	struct pt_http_result r =
	    api_req(&env, "POST", "/v1/uploads/thumbs?filename=cat.jpg", NULL, "image/jpeg", body, n);
	assert_int_equal(r.status, 202);
	long long job = api_json_ll(r.body, "job_id");
	assert_true(job > 0);
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT payload->'upload' FROM pane.jobs WHERE id = %lld", job);
	PGresult *res = PQexec(env.sql, sql);
	assert_int_equal(PQntuples(res), 1);
	json_t *up = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	PQclear(res);
	assert_non_null(up);
	assert_string_equal(json_string_value(json_object_get(up, "storage")), "s3");
	assert_string_equal(json_string_value(json_object_get(up, "bucket")), "panebucket");
	char want_key[64];
	snprintf(want_key, sizeof want_key, "in/%s", json_string_value(json_object_get(up, "id")));
	assert_string_equal(json_string_value(json_object_get(up, "key")), want_key);
	assert_string_equal(json_string_value(json_object_get(up, "sha256")), hex);
	assert_null(json_object_get(up, "path"));
	/* a worker elsewhere: only the URL, no credentials */
	const char *url = json_string_value(json_object_get(up, "url"));
	assert_non_null(strstr(url, "X-Amz-Signature="));
	struct pt_http_result g = {0};
	assert_int_equal(pt_http("GET", url, NULL, NULL, 0, &g), 0);
	assert_int_equal(g.status, 200);
	assert_int_equal(g.len, n);
	assert_memory_equal(g.body, body, n);
	pt_http_result_free(&g);
	/* nothing stays on pane's disk */
	assert_int_equal(count_files(&env), 0);
	json_decref(up);
	pt_http_result_free(&r);
	free(body);
	api_stop(&env);
}

/* a store that accepts connections and never answers */
static void *silent_peer(void *arg)
{
	int fd = *(int *)arg;
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c < 0)
			return NULL;
		char buf[65536];
		while (read(c, buf, sizeof buf) > 0)
			;
		close(c);
	}
}

static void failed_or_slow_store_no_202(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(listen(fd, 16), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, silent_peer, &fd), 0);
	char ep[64];
	snprintf(ep, sizeof ep, "http://127.0.0.1:%d", ntohs(a.sin_port));
	struct api_env env;
	start(&env, "api_uploads_s3_slow", ep, "500ms");
	char body[5000];
	memset(body, 'x', sizeof body);
	struct pt_http_result r = api_req(&env, "POST", "/v1/uploads/thumbs", NULL, "image/png", body, sizeof body);
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.body, "could not be stored"));
	pt_http_result_free(&r);
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.jobs"), 0);
	assert_int_equal(count_files(&env), 0);
	api_stop(&env);
	shutdown(fd, SHUT_RDWR);
	close(fd);
	pthread_join(th, NULL);

	/* down: nothing listens there */
	snprintf(ep, sizeof ep, "http://127.0.0.1:%d", pt_free_port());
	start(&env, "api_uploads_s3_down", ep, "5s");
	r = api_req(&env, "POST", "/v1/uploads/thumbs", NULL, "image/png", body, sizeof body);
	assert_int_equal(r.status, 503);
	pt_http_result_free(&r);
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.jobs"), 0);
	assert_int_equal(count_files(&env), 0);
	api_stop(&env);

	/* a bucket that does not exist: the store's error, no 202 */
	snprintf(ep, sizeof ep, "http://127.0.0.1:%d", s3port);
	char yaml[512];
	snprintf(yaml, sizeof yaml,
	         "uploads:\n  s3_endpoint: %s\n  s3_bucket: nobucket\n  s3_access_key_id: S3RVER\n"
	         "  s3_secret_access_key: S3RVER\n",
	         ep);
	api_start(&env, "api_uploads_s3_nobucket", yaml);
	r = api_req(&env, "POST", "/v1/uploads/thumbs", NULL, "image/png", body, sizeof body);
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.body, "HTTP 404"));
	pt_http_result_free(&r);
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.jobs"), 0);
	api_stop(&env);
}

/* AWS's example of query-string authentication ("Authenticating Requests:
 * Using Query Parameters", Signature Version 4): GET /test.txt on
 * examplebucket, 24 hours, 2013-05-24. */
static void presign_matches_aws_example(void **state)
{
	(void)state;
	char sig[65];
	pane_objstore_presign_sig("examplebucket.s3.amazonaws.com", "/test.txt", "AKIAIOSFODNN7EXAMPLE",
	                          "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "20130524T000000Z", 86400,
	                          sig);
	assert_string_equal(sig, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(presign_matches_aws_example),
	    cmocka_unit_test(stored_in_bucket_read_by_url),
	    cmocka_unit_test(failed_or_slow_store_no_202),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
