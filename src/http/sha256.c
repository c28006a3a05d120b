/*
 * sha256.c - SHA-256 through libcrypto (see sha256.h).
 *
 * The low-level SHA256_* calls keep the state in a caller-owned struct
 * (EVP_MD_CTX would need a free on every path that abandons a digest, and
 * uploads abandon them on errors); OpenSSL 3 marks them deprecated but keeps
 * them, with its own CPU dispatch (SHA-NI, AVX2).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "http/sha256.h"

void pane_sha256_init(struct pane_sha256 *h)
{
	SHA256_Init(&h->ctx);
}

void pane_sha256_update(struct pane_sha256 *h, const void *data, size_t len)
{
	SHA256_Update(&h->ctx, data, len);
}

void pane_sha256_final(struct pane_sha256 *h, uint8_t out[PANE_SHA256_LEN])
{
	SHA256_Final(out, &h->ctx);
}

void pane_sha256(const void *data, size_t len, uint8_t out[PANE_SHA256_LEN])
{
	SHA256(data, len, out);
}

void pane_sha256_hex(const uint8_t digest[PANE_SHA256_LEN], char out[2 * PANE_SHA256_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < PANE_SHA256_LEN; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[2 * PANE_SHA256_LEN] = '\0';
}
