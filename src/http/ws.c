/*
 * ws.c - websocket frames (RFC 6455) for the server's side of an upgraded
 * connection (see ws.h).
 *
 * Idea: pane's websockets only push (Loki's /tail): the server writes text
 * frames and watches the client for its leaving, so this is the handshake's
 * accept key, a frame writer and a liveness check - no frame parser, no
 * fragmentation, no masking (a server's frames are never masked).
 *
 * Invariants:
 *   (1) a frame is written whole or the client is taken as gone (-1);
 *       MSG_NOSIGNAL, so a gone client is an error, not SIGPIPE;
 *   (2) pane_http_ws_alive reads at most one chunk and never blocks longer
 *       than wait_ms.
 * Threads: the connection's owner; no shared state.
 */
#include "http/ws.h"

#include <openssl/evp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int pane_http_ws_accept(const char *key, char out[PANE_HTTP_WS_ACCEPT_LEN])
{
	char in[160];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdl = 0;
	int inl = snprintf(in, sizeof in, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	if (EVP_Digest(in, (size_t)inl, md, &mdl, EVP_sha1(), NULL) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdl);
	return 0;
}

int pane_http_ws_send(int fd, int opcode, const char *p, size_t n)
{
	unsigned char h[10];
	size_t hl = 2;
	h[0] = (unsigned char)(0x80 | opcode);
	if (n < 126) {
		h[1] = (unsigned char)n;
	} else if (n < 65536) {
		h[1] = 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	const unsigned char *parts[2] = {h, (const unsigned char *)p};
	size_t lens[2] = {hl, n};
	for (int k = 0; k < 2; k++)
		for (size_t off = 0; off < lens[k];) {
			ssize_t w = send(fd, parts[k] + off, lens[k] - off, MSG_NOSIGNAL);
			if (w <= 0)
				return -1;
			off += (size_t)w;
		}
	return 0;
}

bool pane_http_ws_alive(int fd, int wait_ms)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	int r = poll(&pf, 1, wait_ms);
	if (r <= 0)
		return r == 0;
	if (pf.revents & (POLLERR | POLLHUP | POLLNVAL))
		return false;
	unsigned char buf[512];
	ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n <= 0)
		return false;
	return (buf[0] & 0x0f) != 0x8; /* a close frame ends it (other frames are ignored) */
}
