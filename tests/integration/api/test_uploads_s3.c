/* test_uploads_s3.c - uploads into S3-compatible object storage: a real
 * S3-speaking server on loopback (s3rver, npm; tests/fakes/s3), the stored
 * object read back through the job's presigned URL (what a worker on
 * another host does), no local copy left; a store that never answers and
 * one that is down both get a 503 and leave no job and no file; a store
 * that does not answer holds no HTTP thread; GET /v1/uploads/{id} is a 307
 * to the object; once the job finished the object is DELETEd. The
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

#include <curl/curl.h>

#include "api/objstore.h"
#include "base/buf.h"
#include "api_common.h"
#include "base/clock.h"
#include "http/sha256.h"

static char s3dir[128];
static int s3port;
static pid_t s3pid;

/* stored upload files (no '.' in the name) in DATA/uploads; records
 * (".job") are counted in *records when given */
static int count_files_ex(struct api_env *e, int *records)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/data/uploads", e->dir);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	if (records)
		*records = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!strchr(de->d_name, '.'))
			n++;
		else if (records && strstr(de->d_name, ".job"))
			(*records)++;
	}
	closedir(d);
	return n;
}

static int count_files(struct api_env *e)
{
	int rec;
	int n = count_files_ex(e, &rec);
	return n < 0 ? n : n + rec;
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
	         "  threads: 1\n"
	         "uploads:\n"
	         "  retention: 0s\n"
	         "  sweep_interval: 200ms\n"
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

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	pane_buf_add(arg, p, size * n);
	return size * n;
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
	/* nothing stays on pane's disk but the record of the object */
	int records = 0;
	assert_int_equal(count_files_ex(&env, &records), 0);
	assert_int_equal(records, 1);
	/* GET /v1/uploads/{id}: a 307 to a fresh presigned URL */
	char path[64];
	snprintf(path, sizeof path, "/v1/uploads/%s", json_string_value(json_object_get(up, "id")));
	char full[160];
	snprintf(full, sizeof full, "%s%s", env.base, path);
	const char *hdr[] = {NULL};
	struct pt_http_result rd = {0};
	assert_int_equal(pt_http("GET", full, hdr, NULL, 0, &rd), 0);
	assert_int_equal(rd.status, 307);
	pt_http_result_free(&rd);
	CURL *h = curl_easy_init();
	struct pane_buf got;
	pane_buf_init(&got, PANE_BUF_NOLIMIT);
	curl_easy_setopt(h, CURLOPT_URL, full);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	long st = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(h);
	assert_int_equal(st, 200);
	assert_int_equal(got.len, n);
	assert_memory_equal(got.data, body, n);
	pane_buf_release(&got);
	/* the job finishes; retention 0: the sweeper DELETEs the object */
	snprintf(sql, sizeof sql,
	         "SELECT count(*) FROM pane.complete_jobs('t', ARRAY[(SELECT id FROM pane.claim('t', 'thumbs', 1, 60) "
	         "WHERE id = %lld)], ARRAY[1])",
	         job);
	assert_int_equal(api_sql_ll(&env, sql), 1);
	int status = 200;
	for (int i = 0; i < 500 && status == 200; i++) {
		pane_sleep_ms(20);
		g = (struct pt_http_result){0};
		assert_int_equal(pt_http("GET", url, NULL, NULL, 0, &g), 0);
		status = g.status;
		pt_http_result_free(&g);
	}
	assert_int_equal(status, 404);
	for (int i = 0; i < 500 && count_files(&env) != 0; i++)
		pane_sleep_ms(20);
	assert_int_equal(count_files(&env), 0);
	rd = (struct pt_http_result){0};
	assert_int_equal(pt_http("GET", full, hdr, NULL, 0, &rd), 0);
	assert_int_equal(rd.status, 404);
	pt_http_result_free(&rd);
	json_decref(up);
	pt_http_result_free(&r);
	free(body);
	api_stop(&env);
}

/* a store that accepts connections and never answers; the test may cut
 * the connections it holds (hold: keep them open until then) */
struct silent {
	int fd;
	bool hold;
	pthread_mutex_t mu;
	int conns[16];
	int n;
};

static void *silent_peer(void *arg)
{
	struct silent *sp = arg;
	for (;;) {
		int c = accept(sp->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		if (sp->hold) {
			pthread_mutex_lock(&sp->mu);
			if (sp->n < 16)
				sp->conns[sp->n++] = c;
			pthread_mutex_unlock(&sp->mu);
			continue;
		}
		char buf[65536];
		while (read(c, buf, sizeof buf) > 0)
			;
		close(c);
	}
}

static int silent_open(struct silent *sp, bool hold)
{
	*sp = (struct silent){.hold = hold};
	pthread_mutex_init(&sp->mu, NULL);
	sp->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	assert_int_equal(bind(sp->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(sp->fd, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(listen(sp->fd, 16), 0);
	return ntohs(a.sin_port);
}

static int silent_conns(struct silent *sp)
{
	pthread_mutex_lock(&sp->mu);
	int n = sp->n;
	pthread_mutex_unlock(&sp->mu);
	return n;
}

struct bg_upload {
	struct api_env *env;
	pthread_t th;
	int status;
	bool done;
};

static void *bg_upload_run(void *arg)
{
	struct bg_upload *b = arg;
	char body[3000];
	memset(body, 'y', sizeof body);
	struct pt_http_result r = api_req(b->env, "POST", "/v1/uploads/thumbs", NULL, "image/png", body, sizeof body);
	b->status = r.status;
	pt_http_result_free(&r);
	__atomic_store_n(&b->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

/* PUTs to a store that does not answer hold no HTTP thread: with one
 * server thread and three uploads waiting on the store, other requests
 * are still answered; when the store cuts the connections, each upload is
 * a 503 and leaves no job and no file. */
static void slow_store_holds_no_http_thread(void **state)
{
	(void)state;
	struct silent sp;
	int port = silent_open(&sp, true);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, silent_peer, &sp), 0);
	char ep[64];
	snprintf(ep, sizeof ep, "http://127.0.0.1:%d", port);
	struct api_env env;
	start(&env, "api_uploads_s3_hold", ep, "10m");
	struct bg_upload ups[3];
	for (int i = 0; i < 3; i++) {
		ups[i] = (struct bg_upload){.env = &env};
		assert_int_equal(pthread_create(&ups[i].th, NULL, bg_upload_run, &ups[i]), 0);
	}
	for (int i = 0; i < 1000 && silent_conns(&sp) < 3; i++)
		pane_sleep_ms(10);
	assert_int_equal(silent_conns(&sp), 3); /* three PUTs wait on the store */
	for (int k = 0; k < 3; k++) {
		struct pt_http_result r =
		    api_req(&env, "GET", "/v1/uploads/0123456789abcdef0123456789abcdef", NULL, NULL, NULL, 0);
		assert_int_equal(r.status, 404);
		pt_http_result_free(&r);
	}
	for (int i = 0; i < 3; i++)
		assert_false(__atomic_load_n(&ups[i].done, __ATOMIC_SEQ_CST)); /* still waiting for the store */
	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < sp.n; i++)
		shutdown(sp.conns[i], SHUT_RDWR);
	pthread_mutex_unlock(&sp.mu);
	for (int i = 0; i < 3; i++) {
		pthread_join(ups[i].th, NULL);
		assert_int_equal(ups[i].status, 503);
	}
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.jobs"), 0);
	assert_int_equal(count_files_ex(&env, NULL), 0);
	api_stop(&env);
	shutdown(sp.fd, SHUT_RDWR);
	close(sp.fd);
	pthread_join(th, NULL);
	for (int i = 0; i < sp.n; i++)
		close(sp.conns[i]);
}

static void failed_or_slow_store_no_202(void **state)
{
	(void)state;
	struct silent sp;
	int port = silent_open(&sp, false);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, silent_peer, &sp), 0);
	char ep[64];
	snprintf(ep, sizeof ep, "http://127.0.0.1:%d", port);
	struct api_env env;
	start(&env, "api_uploads_s3_slow", ep, "500ms");
	char body[5000];
	memset(body, 'x', sizeof body);
	struct pt_http_result r = api_req(&env, "POST", "/v1/uploads/thumbs", NULL, "image/png", body, sizeof body);
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.body, "could not be stored"));
	pt_http_result_free(&r);
	assert_int_equal(api_sql_ll(&env, "SELECT count(*) FROM pane.jobs"), 0);
	/* no stored file; the timed-out PUT left a record so that the sweeper
	 * DELETEs whatever the store may have kept */
	assert_int_equal(count_files_ex(&env, NULL), 0);
	api_stop(&env);
	shutdown(sp.fd, SHUT_RDWR);
	close(sp.fd);
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
	    cmocka_unit_test(slow_store_holds_no_http_thread),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
