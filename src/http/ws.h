/*
 * ws.h - the server's side of a websocket (RFC 6455) on an upgraded
 * connection (pane_http_resp_upgrade):
 *
 *     char acc[PANE_HTTP_WS_ACCEPT_LEN];
 *     if (pane_http_ws_accept(pane_http_req_header(req, "Sec-WebSocket-Key"), acc) < 0) ... 500
 *     pane_http_resp_header(resp, "Upgrade", "websocket");
 *     pane_http_resp_header(resp, "Sec-WebSocket-Accept", acc);
 *     pane_http_resp_upgrade(resp, start, arg);
 *     ... on the owner's thread, with fd = pane_http_upgraded_fd(u):
 *     pane_http_ws_send(fd, PANE_HTTP_WS_TEXT, json, len);
 *     while (pane_http_ws_alive(fd, 1000)) ...
 *     pane_http_ws_send(fd, PANE_HTTP_WS_CLOSE, "\x03\xe8", 2);   (1000: normal)
 *
 * Only what a server that pushes needs: unmasked, unfragmented frames out;
 * of what the client sends, only its close frame (or its leaving) counts.
 * fd is blocking; a send blocks until the frame is written.
 */
#ifndef PANE_HTTP_WS_H
#define PANE_HTTP_WS_H

#include <stdbool.h>
#include <stddef.h>

#define PANE_HTTP_WS_TEXT 0x1
#define PANE_HTTP_WS_CLOSE 0x8
/* Room for Sec-WebSocket-Accept: base64 of a SHA-1 and a NUL. */
#define PANE_HTTP_WS_ACCEPT_LEN 64

/* Sec-WebSocket-Accept for the client's Sec-WebSocket-Key (at most 64
 * bytes): base64(SHA-1(key + RFC 6455's GUID)) into out. 0, or -1 when
 * libcrypto fails. */
int pane_http_ws_accept(const char *key, char out[PANE_HTTP_WS_ACCEPT_LEN]);
/* One unmasked frame with the FIN bit; 0, or -1 when the client is gone. */
int pane_http_ws_send(int fd, int opcode, const char *p, size_t n);
/* Waits up to wait_ms for the client: true while it is there (nothing
 * came, or a frame other than close); false on EOF, an error or a close
 * frame. What it reads is dropped. */
bool pane_http_ws_alive(int fd, int wait_ms);

#endif
