/*
 * sha256.c - SHA-256 from FIPS 180-4 section 6.2.
 *
 * Two compression functions behind one pointer: a plain portable one
 * (64-byte blocks, big-endian words, the message schedule computed in
 * place; ~300 MB/s) and, on x86-64 CPUs with the SHA extensions, one built
 * on the sha256rnds2/msg1/msg2 instructions (several times faster), which
 * matters because every upload byte is hashed on an HTTP thread. The choice
 * is made once from CPUID; both are checked against the FIPS vectors and
 * against each other in tests/unit/http.
 */
#include "http/sha256.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_NI 1
#endif

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress(uint32_t st[8], const uint8_t *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
	for (int i = 0; i < 64; i++) {
		uint32_t S1 = ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t t1 = h + S1 + ch + K[i] + w[i];
		uint32_t S0 = ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22);
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t2 = S0 + maj;
		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	st[0] += a;
	st[1] += b;
	st[2] += c;
	st[3] += d;
	st[4] += e;
	st[5] += f;
	st[6] += g;
	st[7] += h;
}

static void compress_portable(uint32_t st[8], const uint8_t *p, size_t blocks)
{
	for (; blocks; blocks--, p += 64)
		compress(st, p);
}

#ifdef HAVE_SHA_NI
/* The state is kept as the instructions want it: ABEF and CDGH. Each group
 * of four rounds adds four K to four schedule words and runs two rnds2;
 * schedule words 16.. come from msg1 (sigma0 part), the W[i-7] words
 * (alignr of the two previous groups) and msg2 (sigma1 part). */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_ni(uint32_t st[8], const uint8_t *p, size_t blocks)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i t = _mm_loadu_si128((const __m128i *)&st[0]);
	__m128i s1 = _mm_loadu_si128((const __m128i *)&st[4]);
	t = _mm_shuffle_epi32(t, 0xB1);          /* CDAB */
	s1 = _mm_shuffle_epi32(s1, 0x1B);        /* EFGH */
	__m128i s0 = _mm_alignr_epi8(t, s1, 8);  /* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xF0);       /* CDGH */
	for (; blocks; blocks--, p += 64) {
		__m128i save0 = s0, save1 = s1;
		__m128i w[16];
		for (int g = 0; g < 16; g++) {
			if (g < 4) {
				w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
			} else {
				__m128i x = _mm_sha256msg1_epu32(w[g - 4], w[g - 3]);
				x = _mm_add_epi32(x, _mm_alignr_epi8(w[g - 1], w[g - 2], 4));
				w[g] = _mm_sha256msg2_epu32(x, w[g - 1]);
			}
			__m128i m = _mm_add_epi32(w[g], _mm_loadu_si128((const __m128i *)&K[4 * g]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, m);
			m = _mm_shuffle_epi32(m, 0x0E);
			s0 = _mm_sha256rnds2_epu32(s0, s1, m);
		}
		s0 = _mm_add_epi32(s0, save0);
		s1 = _mm_add_epi32(s1, save1);
	}
	t = _mm_shuffle_epi32(s0, 0x1B);         /* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xB1);        /* DCHG */
	s0 = _mm_blend_epi16(t, s1, 0xF0);       /* DCBA */
	s1 = _mm_alignr_epi8(s1, t, 8);          /* HGFE */
	_mm_storeu_si128((__m128i *)&st[0], s0);
	_mm_storeu_si128((__m128i *)&st[4], s1);
}

static bool cpu_has_sha(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return false;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return (b & (1u << 29)) != 0; /* SHA extensions */
}
#endif

/* 0 = not chosen yet, 1 = portable, 2 = SHA extensions (benign race: all
 * threads compute the same answer). */
static int impl;

static void compress_blocks(uint32_t st[8], const uint8_t *p, size_t blocks)
{
	int which = __atomic_load_n(&impl, __ATOMIC_RELAXED);
	if (!which) {
		which = 1;
#ifdef HAVE_SHA_NI
		if (cpu_has_sha())
			which = 2;
#endif
		__atomic_store_n(&impl, which, __ATOMIC_RELAXED);
	}
#ifdef HAVE_SHA_NI
	if (which == 2) {
		compress_ni(st, p, blocks);
		return;
	}
#endif
	compress_portable(st, p, blocks);
}

bool pane_sha256_use_hw(bool on)
{
#ifdef HAVE_SHA_NI
	bool ok = on && cpu_has_sha();
#else
	bool ok = false;
	(void)on;
#endif
	__atomic_store_n(&impl, ok ? 2 : 1, __ATOMIC_RELAXED);
	return ok;
}

void pane_sha256_init(struct pane_sha256 *h)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(h->state, iv, sizeof iv);
	h->bytes = 0;
	h->fill = 0;
}

void pane_sha256_update(struct pane_sha256 *h, const void *data, size_t len)
{
	const uint8_t *p = data;
	h->bytes += len;
	if (h->fill) {
		size_t take = 64 - h->fill < len ? 64 - h->fill : len;
		memcpy(h->block + h->fill, p, take);
		h->fill += take;
		p += take;
		len -= take;
		if (h->fill < 64)
			return;
		compress_blocks(h->state, h->block, 1);
		h->fill = 0;
	}
	if (len >= 64) {
		size_t blocks = len / 64;
		compress_blocks(h->state, p, blocks);
		p += 64 * blocks;
		len -= 64 * blocks;
	}
	if (len) {
		memcpy(h->block, p, len);
		h->fill = len;
	}
}

void pane_sha256_final(struct pane_sha256 *h, uint8_t out[PANE_SHA256_LEN])
{
	uint64_t bits = h->bytes * 8;
	uint8_t pad = 0x80;
	pane_sha256_update(h, &pad, 1);
	uint8_t zero = 0;
	while (h->fill != 56)
		pane_sha256_update(h, &zero, 1);
	uint8_t len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	pane_sha256_update(h, len, 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(h->state[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h->state[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h->state[i] >> 8);
		out[4 * i + 3] = (uint8_t)h->state[i];
	}
}

void pane_sha256(const void *data, size_t len, uint8_t out[PANE_SHA256_LEN])
{
	struct pane_sha256 h;
	pane_sha256_init(&h);
	pane_sha256_update(&h, data, len);
	pane_sha256_final(&h, out);
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
