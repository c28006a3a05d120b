/*
 * fakectl.c - provider fake control for integration tests (see fakectl.h).
 */
#include "fakectl.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "support.h"

void fake_start(struct fakectl *f, const char *script, ...)
{
	f->port = pt_free_port();
	snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", f->port);
	const char *root = getenv("PANE_SOURCE_ROOT");
	static char path[1024], portstr[16];
	snprintf(path, sizeof path, "%s/tests/fakes/%s", root ? root : ".", script);
	snprintf(portstr, sizeof portstr, "%d", f->port);
	char *argv[32] = {"/usr/bin/python3", path, portstr};
	int n = 3;
	va_list ap;
	va_start(ap, script);
	for (const char *a; n < 31 && (a = va_arg(ap, const char *));)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	f->pid = pt_spawn(argv, NULL);
	char ping[128];
	snprintf(ping, sizeof ping, "%s/__fake/ping", f->base);
	if (pt_wait_http(ping, 15000) < 0)
		fail_msg("the fake %s did not start", script);
}

void fake_stop(struct fakectl *f)
{
	if (f->pid > 0)
		pt_stop(f->pid, SIGTERM);
	f->pid = 0;
}

char *fake_post(struct fakectl *f, const char *path, const char *json)
{
	char url[256];
	snprintf(url, sizeof url, "%s%s", f->base, path);
	struct pt_http_result r;
	const char *h[] = {"Content-Type: application/json", NULL};
	if (pt_http("POST", url, h, json, strlen(json), &r) < 0 || r.status != 200)
		fail_msg("fake %s: %ld %s", path, r.status, r.body ? r.body : "");
	char *out = pane_xstrdup(r.body ? r.body : "");
	pt_http_result_free(&r);
	return out;
}

char *fake_get(struct fakectl *f, const char *path, const char *bearer)
{
	char url[512], auth[256];
	snprintf(url, sizeof url, "%s%s", f->base, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
	const char *h[] = {auth, NULL};
	struct pt_http_result r;
	if (pt_http("GET", url, h, NULL, 0, &r) < 0 || r.status != 200)
		fail_msg("GET %s: %ld", path, r.status);
	char *out = pane_xstrdup(r.body ? r.body : "");
	pt_http_result_free(&r);
	return out;
}

size_t fake_count(struct fakectl *f, const char *suffix, long status)
{
	char url[256];
	snprintf(url, sizeof url, "%s/__fake/requests", f->base);
	struct pt_http_result r;
	if (pt_http("GET", url, NULL, NULL, 0, &r) < 0 || r.status != 200)
		fail_msg("fake requests");
	json_t *a = json_loads(r.body, 0, NULL);
	pt_http_result_free(&r);
	assert_non_null(a);
	size_t n = 0, i;
	json_t *it;
	json_array_foreach(a, i, it)
	{
		const char *p = json_string_value(json_object_get(it, "path"));
		size_t pl = strlen(p), sl = strlen(suffix);
		if (pl >= sl && strcmp(p + pl - sl, suffix) == 0 &&
		    (status == 0 || json_integer_value(json_object_get(it, "status")) == status))
			n++;
	}
	json_decref(a);
	return n;
}
