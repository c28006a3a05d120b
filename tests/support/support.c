/*
 * support.c - integration-test helpers (see support.h).
 */
#include "support.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"

const char *pt_pane_bin(void)
{
	const char *b = getenv("PANE_BIN");
	if (!b || !*b) {
		fprintf(stderr, "PANE_BIN is not set (run through meson test)\n");
		exit(1);
	}
	return b;
}

char *pt_db_fresh(const char *name)
{
	const char *url = getenv("DATABASE_URL");
	if (!url || !*url) {
		fprintf(stderr, "DATABASE_URL is not set: skipping (run through make test)\n");
		exit(77);
	}
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "cannot connect to %s: %s", url, PQerrorMessage(c));
		exit(1);
	}
	char sql[256];
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS pt_%s WITH (FORCE)", name);
	PQclear(PQexec(c, sql));
	snprintf(sql, sizeof sql, "CREATE DATABASE pt_%s", name);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
	PQfinish(c);
	/* replace the database name: the URL ends in /DBNAME (no parameters in ours) */
	const char *slash = strrchr(url, '/');
	const char *q = strchr(slash, '?');
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_add(&b, url, (size_t)(slash - url));
	pane_buf_addf(&b, "/pt_%s%s", name, q ? q : "");
	return pane_buf_detach(&b, NULL);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	pane_buf_add(arg, p, size * n);
	return size * n;
}

int pt_http(const char *method, const char *url, const char *const *headers, const char *body, size_t len,
            struct pt_http_result *out)
{
	memset(out, 0, sizeof *out);
	CURL *h = curl_easy_init();
	struct pane_buf b, hb;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_init(&hb, PANE_BUF_NOLIMIT);
	struct curl_slist *hl = NULL;
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &hb);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode rc = curl_easy_perform(h);
	if (rc != CURLE_OK) /* a failing test names why the request failed */
		fprintf(stderr, "pt_http %s %s: %s (%s)\n", method, url, curl_easy_strerror(rc), errbuf);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
		char *ct = NULL;
		curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
		out->content_type = ct ? pane_xstrdup(ct) : NULL;
	}
	out->body = pane_buf_detach(&b, &out->len);
	out->headers = pane_buf_detach(&hb, NULL);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return rc == CURLE_OK ? 0 : -1;
}

void pt_http_result_free(struct pt_http_result *r)
{
	free(r->body);
	free(r->content_type);
	free(r->headers);
	memset(r, 0, sizeof *r);
}

int pt_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
		perror("pt_free_port");
		exit(1);
	}
	close(fd);
	return ntohs(a.sin_port);
}

pid_t pt_spawn(char *const argv[], const char *log_path)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		if (log_path) {
			int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
				close(fd);
			}
		}
		execv(argv[0], argv);
		perror("execv");
		_exit(127);
	}
	return pid;
}

int pt_wait_http(const char *url, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		struct pt_http_result r;
		if (pt_http("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200) {
			pt_http_result_free(&r);
			return 0;
		}
		pt_http_result_free(&r);
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return -1;
}

int pt_stop(pid_t pid, int sig)
{
	int st;
	kill(pid, sig);
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

char *pt_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		pane_buf_add(&b, chunk, n);
	fclose(f);
	pane_buf_addc(&b, 0);
	return pane_buf_detach(&b, NULL);
}
