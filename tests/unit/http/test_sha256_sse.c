/* test_sha256_sse.c - SHA-256 (pane's libcrypto wrapper) against FIPS 180-4 /
 * NIST vectors (whole and in pieces) and Server-Sent Events framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "http/sha256.h"
#include "http/sse.h"

static void hex_of(const char *msg, size_t len, char out[65])
{
	uint8_t d[32];
	pane_sha256(msg, len, d);
	pane_sha256_hex(d, out);
}

static void nist_vectors(void **state)
{
	(void)state;
	char h[65];
	hex_of("", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hex_of(m448, strlen(m448), h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
	                   "opqrsmnopqrstnopqrstu";
	hex_of(m896, strlen(m896), h);
	assert_string_equal(h, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void million_a_in_odd_pieces(void **state)
{
	(void)state;
	char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	struct pane_sha256 s;
	pane_sha256_init(&s);
	size_t off = 0, step = 1;
	while (off < 1000000) {
		size_t n = step < 1000000 - off ? step : 1000000 - off;
		pane_sha256_update(&s, a + off, n);
		off += n;
		step = step * 3 % 997 + 1; /* pieces that cross block boundaries every way */
	}
	uint8_t d[32];
	char h[65];
	pane_sha256_final(&s, d);
	pane_sha256_hex(d, h);
	assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

static void sse_framing(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_http_sse_format(&b, "state", "7", "{\"a\":1}");
	assert_string_equal(b.data, "event: state\nid: 7\ndata: {\"a\":1}\n\n");
	pane_buf_reset(&b);
	/* multi-line data becomes several data lines; CR LF, CR and LF all split */
	pane_http_sse_format(&b, NULL, NULL, "one\ntwo\r\nthree\rfour");
	assert_string_equal(b.data, "data: one\ndata: two\ndata: three\ndata: four\n\n");
	pane_buf_reset(&b);
	/* a newline in event or id cannot inject a field */
	pane_http_sse_format(&b, "x\ndata: evil", "1\r\n", "");
	assert_string_equal(b.data, "event: xdata: evil\nid: 1\ndata: \n\n");
	pane_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nist_vectors),
	    cmocka_unit_test(million_a_in_odd_pieces),
	    cmocka_unit_test(sse_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
