/*
 * sha256.h - SHA-256 (FIPS 180-4), streaming.
 *
 * Used for upload digests and for comparing bearer tokens in constant time
 * (both sides are hashed, then the fixed-size digests are compared). Written
 * from the standard; no external library.
 *
 *     struct pane_sha256 h;
 *     pane_sha256_init(&h);
 *     pane_sha256_update(&h, data, len);   (any number of times)
 *     pane_sha256_final(&h, digest);       (32 bytes)
 */
#ifndef PANE_HTTP_SHA256_H
#define PANE_HTTP_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PANE_SHA256_LEN 32

struct pane_sha256 {
	uint32_t state[8];
	uint64_t bytes;
	uint8_t block[64];
	size_t fill;
};

void pane_sha256_init(struct pane_sha256 *h);
void pane_sha256_update(struct pane_sha256 *h, const void *data, size_t len);
void pane_sha256_final(struct pane_sha256 *h, uint8_t out[PANE_SHA256_LEN]);
/* One-shot digest. */
void pane_sha256(const void *data, size_t len, uint8_t out[PANE_SHA256_LEN]);
/* Chooses the implementation: on = the CPU's SHA extensions when it has
 * them (the default), off = portable C. Returns whether hardware is used.
 * For tests and benchmarks; call before hashing starts. */
bool pane_sha256_use_hw(bool on);
/* Lower-case hex of a digest into out (65 bytes with the NUL). */
void pane_sha256_hex(const uint8_t digest[PANE_SHA256_LEN], char out[2 * PANE_SHA256_LEN + 1]);

#endif
