/* test_ws.c - websocket pieces (http/ws.h): RFC 6455's own accept-key
 * example, frame headers for the three length encodings, and the liveness
 * check (data keeps it alive; a close frame or EOF ends it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http/ws.h"

static void accept_key(void **state)
{
	(void)state;
	char acc[PANE_HTTP_WS_ACCEPT_LEN];
	assert_int_equal(pane_http_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", acc), 0); /* RFC 6455, 1.3 */
	assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* Sends n bytes in one frame and reads the frame back whole. */
static void frame_of(size_t n, unsigned char *want_head, size_t head_len)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	char *p = malloc(n + 1);
	memset(p, 'a', n);
	unsigned char *got = malloc(n + 16);
	size_t have = 0;
	/* the writer is a child: a frame larger than the socket buffer blocks until read */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		_exit(pane_http_ws_send(sv[0], PANE_HTTP_WS_TEXT, p, n) == 0 ? 0 : 1);
	}
	close(sv[0]);
	ssize_t r;
	while (have < n + head_len && (r = read(sv[1], got + have, n + 16 - have)) > 0)
		have += (size_t)r;
	int status = -1;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(have, n + head_len);
	assert_memory_equal(got, want_head, head_len);
	assert_memory_equal(got + head_len, p, n);
	close(sv[1]);
	free(p);
	free(got);
}

static void frames(void **state)
{
	(void)state;
	frame_of(5, (unsigned char[]){0x81, 5}, 2);
	frame_of(200, (unsigned char[]){0x81, 126, 0, 200}, 4);
	frame_of(70000, (unsigned char[]){0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70}, 10);
}

static void alive(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_true(pane_http_ws_alive(sv[0], 10)); /* nothing came */
	unsigned char ping[] = {0x89, 0x80, 1, 2, 3, 4};
	assert_int_equal(write(sv[1], ping, sizeof ping), (ssize_t)sizeof ping);
	assert_true(pane_http_ws_alive(sv[0], 100)); /* a frame other than close */
	unsigned char close_frame[] = {0x88, 0x80, 1, 2, 3, 4};
	assert_int_equal(write(sv[1], close_frame, sizeof close_frame), (ssize_t)sizeof close_frame);
	assert_false(pane_http_ws_alive(sv[0], 100));
	close(sv[1]);
	assert_false(pane_http_ws_alive(sv[0], 100)); /* EOF */
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(accept_key),
	    cmocka_unit_test(frames),
	    cmocka_unit_test(alive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
