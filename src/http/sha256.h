/*
 * sha256.h - SHA-256, streaming, from libcrypto (OpenSSL).
 *
 * Used for upload digests, notification group keys, and for comparing
 * bearer tokens in constant time (both sides are hashed, then the
 * fixed-size digests are compared with CRYPTO_memcmp). OpenSSL picks the
 * CPU's SHA instructions itself when it has them.
 *
 *     struct pane_sha256 h;
 *     pane_sha256_init(&h);
 *     pane_sha256_update(&h, data, len);   (any number of times)
 *     pane_sha256_final(&h, digest);       (32 bytes)
 */
#ifndef PANE_HTTP_SHA256_H
#define PANE_HTTP_SHA256_H

#include <openssl/sha.h>
#include <stdbool.h> /* kept: includers rely on it */
#include <stddef.h>
#include <stdint.h>

#define PANE_SHA256_LEN 32

/* Caller-owned, nothing to release (no heap behind it). */
struct pane_sha256 {
	SHA256_CTX ctx;
};

void pane_sha256_init(struct pane_sha256 *h);
void pane_sha256_update(struct pane_sha256 *h, const void *data, size_t len);
void pane_sha256_final(struct pane_sha256 *h, uint8_t out[PANE_SHA256_LEN]);
/* One-shot digest. */
void pane_sha256(const void *data, size_t len, uint8_t out[PANE_SHA256_LEN]);
/* Lower-case hex of a digest into out (65 bytes with the NUL). */
void pane_sha256_hex(const uint8_t digest[PANE_SHA256_LEN], char out[2 * PANE_SHA256_LEN + 1]);

#endif
