/* test_log.c - the two log formats, byte for byte: logfmt quoting, JSON
 * escaping (control characters, quotes, invalid UTF-8), credentials redacted
 * in both, key/value pairs in order; a JSON line over the limit is still
 * one object. The timestamp is replaced by "T" before comparing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

/* Runs fn with stderr sent to a temporary file; returns what it wrote, with
 * every timestamp (the 24 characters after ts= or "ts":") replaced by T. */
static char *capture(void (*fn)(void))
{
	fflush(stderr);
	int saved = dup(2);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	long n = ftell(tmp);
	assert_true(n >= 0);
	char *out = calloc(1, (size_t)n + 1);
	rewind(tmp);
	assert_int_equal(fread(out, 1, (size_t)n, tmp), (size_t)n);
	fclose(tmp);
	for (char *p = out; (p = strstr(p, "ts")) != NULL; p++) {
		char *t = !strncmp(p, "ts=", 3) ? p + 3 : !strncmp(p, "ts\":\"", 5) ? p + 5 : NULL;
		if (!t || strlen(t) < 24 || t[23] != 'Z')
			continue;
		memmove(t + 1, t + 24, strlen(t + 24) + 1);
		*t = 'T';
	}
	return out;
}

static void lines(void)
{
	pane_log(PANE_LOG_INFO, "http", "listening on %s", "127.0.0.1:8080");
	pane_log_kv(PANE_LOG_WARN, "queue", "job failed", "job", "42", "error", "a \"quoted\" = thing", NULL);
	pane_log_kv(PANE_LOG_ERROR, NULL, "tab\there\nnewline\\back", "empty", "", "bad", "\xff\x01", NULL);
	pane_log_kv(PANE_LOG_INFO, "db", "connect", "url", "postgresql://app:s3cret@db/x", NULL);
	pane_log(PANE_LOG_DEBUG, "http", "not shown at info");
}

static void logfmt(void **state)
{
	(void)state;
	pane_log_setup(PANE_LOG_INFO, PANE_LOG_LOGFMT);
	char *got = capture(lines);
	const char *want = "ts=T level=info comp=http msg=\"listening on 127.0.0.1:8080\"\n"
	                   "ts=T level=warn comp=queue msg=\"job failed\" job=42 error=\"a \\\"quoted\\\" = thing\"\n"
	                   "ts=T level=error msg=\"tab\\x09here\\nnewline\\\\back\" empty=\"\" bad=\"\xff\\x01\"\n"
	                   "ts=T level=info comp=db msg=connect url=postgresql://app:***@db/x\n";
	assert_string_equal(got, want);
	free(got);
}

static void json(void **state)
{
	(void)state;
	pane_log_setup(PANE_LOG_INFO, PANE_LOG_JSON);
	char *got = capture(lines);
	const char *want =
	    "{\"ts\":\"T\",\"level\":\"info\",\"comp\":\"http\",\"msg\":\"listening on 127.0.0.1:8080\"}\n"
	    "{\"ts\":\"T\",\"level\":\"warn\",\"comp\":\"queue\",\"msg\":\"job failed\",\"job\":\"42\","
	    "\"error\":\"a \\\"quoted\\\" = thing\"}\n"
	    "{\"ts\":\"T\",\"level\":\"error\",\"msg\":\"tab\\there\\nnewline\\\\back\",\"empty\":\"\","
	    "\"bad\":\"\xef\xbf\xbd\\u0001\"}\n"
	    "{\"ts\":\"T\",\"level\":\"info\",\"comp\":\"db\",\"msg\":\"connect\",\"url\":\"postgresql://app:***@db/"
	    "x\"}\n";
	assert_string_equal(got, want);
	free(got);
	pane_log_setup(PANE_LOG_INFO, PANE_LOG_LOGFMT);
}

static void too_long(void)
{
	static char big[10000];
	memset(big, 'x', sizeof big - 1);
	pane_log_kv(PANE_LOG_INFO, "http", "request", "path", big, "status", "200", NULL);
}

/* A JSON line over the limit stays one object: ts, level, comp, msg. */
static void json_too_long(void **state)
{
	(void)state;
	pane_log_setup(PANE_LOG_INFO, PANE_LOG_JSON);
	char *got = capture(too_long);
	assert_string_equal(got, "{\"ts\":\"T\",\"level\":\"info\",\"comp\":\"http\",\"msg\":\"request\"}\n");
	free(got);
	pane_log_setup(PANE_LOG_INFO, PANE_LOG_LOGFMT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(logfmt),
	    cmocka_unit_test(json),
	    cmocka_unit_test(json_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
