/*
 * format.c - numbers and timestamps as Prometheus prints them.
 *
 * Go's strconv.FormatFloat(v, 'f', -1, 64) (the shortest decimal that reads
 * back as v, never an exponent) for values in JSON answers and in printed
 * expressions, and the API's timestamps (seconds with up to 3 decimals).
 * Used by the printer (parse.c) and the answers (eval.c), so it lives apart
 * from both: neither depends on the other for it.
 *
 * A float is placed in three stages, the first that decides wins:
 *   1. fewest decimals: the smallest k (0..22) for which round(v * 10^k)
 *      / 10^k reads back as v (values that are short decimals: counters,
 *      rates of round numbers); skipped when v's rounding interval is
 *      narrower than the step between 16-digit decimals at v's magnitude:
 *      then at most one such decimal reads back as v, stage 1's answer
 *      (which has at most 16 digits) can only be that one, and stage 2
 *      finds it too, so stage 2 goes first (most values: ~70%);
 *   2. exact digits (exact_digits): the correctly rounded 15 (16) and 17
 *      significant digits of v in 128-bit integers, v = m * 2^e scaled by
 *      5^k, and the read-back decided by comparing the distance to v with
 *      half the gap to v's neighbours, also in integers;
 *   3. printf/strtod (fmt_slow): "%.*e" at 15..17 digits, the first that
 *      strtod reads back as v.
 * Stage 2 gives what stage 3 would print (printf rounds correctly, strtod
 * reads correctly), and where that is not certain without more care - an
 * exact tie between two decimals, a distance of exactly half a gap, a
 * magnitude outside [1e-11, 1e15) - it declines and stage 3 decides. Stage
 * 3 was the whole formatter before and costs ~1 us a value with 16-17
 * digits (averages); stage 2 costs tens of ns. tests/unit/query/test_format.c
 * compares all three with the former formatter over random doubles.
 */
#include "query/query.h"

#include <ctype.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

/* Writes [-]digits with the decimal point after `point` digits (point <= 0:
 * "0.000ddd"), as FormatFloat's 'f' does; digits has no trailing zeros. */
static void place_digits(bool neg, const char *digits, size_t nd, int point, char *out, size_t outlen)
{
	char buf[400];
	size_t o = 0;
	if (neg)
		buf[o++] = '-';
	if (point <= 0) {
		buf[o++] = '0';
		buf[o++] = '.';
		for (int i = 0; i < -point && o < sizeof buf - 30; i++)
			buf[o++] = '0';
		for (size_t i = 0; i < nd; i++)
			buf[o++] = digits[i];
	} else {
		for (int i = 0; i < point && o < sizeof buf - 30; i++)
			buf[o++] = i < (int)nd ? digits[i] : '0';
		if ((int)nd > point) {
			buf[o++] = '.';
			for (size_t i = (size_t)point; i < nd; i++)
				buf[o++] = digits[i];
		}
	}
	buf[o] = 0;
	if (outlen > o)
		memcpy(out, buf, o + 1);
	else if (outlen)
		snprintf(out, outlen, "%s", buf);
}

/* printf at `from` to 17 significant digits, the first that strtod reads
 * back as v: its digits without trailing zeros, the power of ten of the
 * first returned. */
static int digits_from(double v, int from, char digits[18], bool *neg)
{
	char e[40];
	for (int prec = from; prec <= 17; prec++) {
		snprintf(e, sizeof e, "%.*e", prec - 1, v);
		if (prec == 17 || strtod(e, NULL) == v)
			break;
	}
	/* e = [-]D.DDDDe[+-]XX */
	size_t nd = 0;
	const char *p = e;
	*neg = *p == '-';
	if (*neg)
		p++;
	for (; *p && *p != 'e'; p++)
		if (isdigit((unsigned char)*p) && nd < 17)
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = 0;
	return (int)strtol(p + 1, NULL, 10);
}

/* A decimal of up to 15 digits that reads back as a normal double is its
 * nearest 15-digit decimal (the double's ulp is below the step between
 * 15-digit decimals), so for normal doubles the search starts at 15 and
 * stripping zeros finds any shorter answer; a subnormal's ulp is coarser
 * (5e-324 is "5"), so there it starts at 1. */
int pane_query_float_digits(double v, char digits[18], bool *neg)
{
	return digits_from(v, fabs(v) >= DBL_MIN ? 15 : 1, digits, neg);
}

/* Stage 3: the shortest digits by printf and strtod, placed. Values the
 * fast paths could not place mostly need 16 or 17 digits, and between 1e-7
 * and 9e15 stage 1 has ruled out 15 or fewer. */
static void fmt_slow(double v, char *out, size_t outlen)
{
	char digits[18];
	bool neg;
	double a = fabs(v);
	int exp10 = a < 1e-7 || a >= 9e15 ? pane_query_float_digits(v, digits, &neg) : digits_from(v, 16, digits, &neg);
	place_digits(neg, digits, strlen(digits), exp10 + 1, out, outlen);
}

static const uint64_t pow10_u64[] = {1ULL,
                                     10ULL,
                                     100ULL,
                                     1000ULL,
                                     10000ULL,
                                     100000ULL,
                                     1000000ULL,
                                     10000000ULL,
                                     100000000ULL,
                                     1000000000ULL,
                                     10000000000ULL,
                                     100000000000ULL,
                                     1000000000000ULL,
                                     10000000000000ULL,
                                     100000000000000ULL,
                                     1000000000000000ULL,
                                     10000000000000000ULL,
                                     100000000000000000ULL,
                                     1000000000000000000ULL};

/* 5^k for k <= 27 (< 2^63) */
static const uint64_t pow5_u64[28] = {
    1ULL,
    5ULL,
    25ULL,
    125ULL,
    625ULL,
    3125ULL,
    15625ULL,
    78125ULL,
    390625ULL,
    1953125ULL,
    9765625ULL,
    48828125ULL,
    244140625ULL,
    1220703125ULL,
    6103515625ULL,
    30517578125ULL,
    152587890625ULL,
    762939453125ULL,
    3814697265625ULL,
    19073486328125ULL,
    95367431640625ULL,
    476837158203125ULL,
    2384185791015625ULL,
    11920928955078125ULL,
    59604644775390625ULL,
    298023223876953125ULL,
    1490116119384765625ULL,
    7450580596923828125ULL,
};

static uint64_t pow5(int k)
{
	return pow5_u64[k];
}

/*
 * Stage 2. With v = m * 2^e (m < 2^53) and k decimals, v * 10^k =
 * m * 5^k * 2^(e+k) = P / 2^s (s = -(e+k) > 0 in the range handled: P and
 * P's comparisons stay below 2^120). The digits at `prec` significant
 * digits are N = round(P / 2^s); "N e-k" reads back as v exactly when it
 * lies strictly inside v's rounding interval, whose half-width scaled the
 * same way is 5^k / 2 (5^k / 4 below a power of two). Returns false when
 * stage 3 must decide (see the comment at the top).
 */
static bool exact_digits(double v, bool only_if_unique, char *out, size_t outlen)
{
	double a = fabs(v);
	if (!(a >= 1e-11 && a < 1e15))
		return false;
	uint64_t bits;
	memcpy(&bits, &a, sizeof bits);
	int be = (int)(bits >> 52);
	uint64_t m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
	int e = be - 1075;
	bool lower_closer = (bits & ((1ULL << 52) - 1)) == 0 && be > 1;
	/* E = floor(log10(a)): floor(log2(a) * log10(2)) is E or E - 1
	 * (78913 / 2^18 just below log10(2)); made exact below */
	int E = ((be - 1023) * 78913) >> 18;
	int first = a < 1e-7 ? 15 : 16;
	for (int tries = 0;; tries++) {
		int k = 16 - E; /* 17 significant digits */
		int s = -(e + k);
		if (k < 0 || k > 27 || s <= 0 || s > 62 || tries > 2)
			return false;
		u128 P = (u128)m * pow5(k);
		/* 10^16 <= v * 10^k < 10^17, i.e. 10^16 * 2^s <= P < 10^17 * 2^s */
		if (P < ((u128)pow10_u64[16] << s))
			E--;
		else if (P >= ((u128)pow10_u64[17] << s))
			E++;
		else
			break;
	}
	if (only_if_unique) {
		/* the 16-digit grid at v's magnitude has steps 2^s apart in P's
		 * units and v's rounding interval is 5^k wide: narrower, it holds
		 * at most one point, which is then both stage 1's answer (when it
		 * has one) and this stage's (see the top) */
		int k = 15 - E, s = -(e + k);
		if (lower_closer || k < 0 || k > 27 || s <= 0 || s > 62 || !(pow5(k) < ((uint64_t)1 << s)))
			return false;
	}
	for (int prec = first; prec <= 17; prec++) {
		int k = prec - 1 - E;
		int s = -(e + k);
		if (k < 0 || k > 27 || s <= 0 || s > 62)
			return false;
		uint64_t p5 = pow5(k);
		u128 P = (u128)m * p5;
		u128 N = P >> s;
		u128 rem = P - (N << s), half = (u128)1 << (s - 1);
		if (rem == half)
			return false; /* a tie: printf's rounding decides */
		if (rem > half)
			N++;
		/* does N * 10^-k read back as v? */
		u128 Ns = N << s;
		bool ok;
		if (Ns >= P) {
			u128 d2 = (Ns - P) << 1;
			if (d2 == p5)
				return false;
			ok = d2 < p5;
		} else {
			u128 d = P - Ns;
			u128 dd = lower_closer ? d << 2 : d << 1;
			if (dd == p5)
				return false;
			ok = dd < p5;
		}
		if (!ok && prec < 17)
			continue;
		if (!ok)
			return false; /* 17 digits always read back: not expected */
		int point = E + 1;
		uint64_t n = (uint64_t)N;
		if (n == pow10_u64[prec]) { /* rounded up to the next power of ten */
			n = pow10_u64[prec - 1];
			point++;
		}
		while (n % 10 == 0)
			n /= 10;
		/* digits from the right, two at a time */
		static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536"
		                            "37383940414243444546474849505152535455565758596061626364656667686970717273"
		                            "74757677787980818283848586878889909192939495969798"
		                            "99";
		char dig[24];
		size_t nd = n >= pow10_u64[16] ? 17 : 1;
		while (nd < 17 && n >= pow10_u64[nd])
			nd++;
		size_t i = nd;
		while (n >= 100) {
			unsigned d = (unsigned)(n % 100);
			n /= 100;
			dig[--i] = pairs[2 * d + 1];
			dig[--i] = pairs[2 * d];
		}
		if (n >= 10) {
			dig[--i] = pairs[2 * n + 1];
			dig[--i] = pairs[2 * n];
		} else {
			dig[--i] = (char)('0' + n);
		}
		place_digits(v < 0, dig, nd, point, out, outlen);
		return true;
	}
	return false;
}

/* llround(x) for |x| < 2^53, without the libm call: x - trunc(x) is exact */
static inline int64_t round_half_away(double x)
{
	int64_t r = (int64_t)x;
	double f = x - (double)r;
	return r + (f >= 0.5) - (f <= -0.5); /* no branch: the fractions are random */
}

/* Go strconv.FormatFloat(v, 'f', -1, 64) */
void pane_query_fmt_float(double v, char *out, size_t outlen)
{
	if (isnan(v)) {
		snprintf(out, outlen, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, outlen, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(out, outlen, signbit(v) ? "-0" : "0");
		return;
	}
	/* stage 1: the fewest decimals k (0..22) whose rounding reads back as v;
	 * round(v * 10^k) is the nearest k-decimal number, and the division is
	 * correctly rounded, so the check proves the text round-trips. Up to 3
	 * decimals it is cheaper than stage 2; past them stage 2 goes first if
	 * it can answer alone. */
	static const double p10[] = {1,    1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	for (int k = 0; k < 23; k++) {
		if (k == 4 && exact_digits(v, true, out, outlen))
			return;
		double x = v * p10[k];
		if (!(fabs(x) < 9e15))
			break;
		int64_t r = round_half_away(x);
		/* r / 10^k can read back as v only if x is within |x| * 2^-52 of
		 * r (v * 10^k rounded once, r / 10^k within half an ulp of v):
		 * farther, the division is not worth doing */
		if (fabs(x - (double)r) > fabs(x) * 0x1p-50 || (double)r / p10[k] != v)
			continue;
		char dig[32];
		int nd = 0;
		uint64_t u = r < 0 ? (uint64_t)(-r) : (uint64_t)r;
		do {
			dig[nd++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		while (nd <= k)
			dig[nd++] = '0';
		char buf[48];
		size_t o = 0;
		if (v < 0)
			buf[o++] = '-';
		for (int i = nd - 1; i >= 0; i--) {
			buf[o++] = dig[i];
			if (i == k && k > 0)
				buf[o++] = '.';
		}
		buf[o] = 0;
		if (outlen > o) {
			memcpy(out, buf, o + 1);
			return;
		}
		break;
	}
	if (exact_digits(v, false, out, outlen))
		return;
	fmt_slow(v, out, outlen);
}

void pane_query_fmt_ts(int64_t ms, char *out, size_t outlen)
{
	bool neg = ms < 0;
	uint64_t a = neg ? (uint64_t)(-(ms + 1)) + 1 : (uint64_t)ms;
	uint64_t s = a / 1000, f = a % 1000;
	char buf[40], dig[24];
	size_t o = 0;
	int nd = 0;
	if (neg)
		buf[o++] = '-';
	do {
		dig[nd++] = (char)('0' + s % 10);
		s /= 10;
	} while (s);
	while (nd > 0)
		buf[o++] = dig[--nd];
	if (f) {
		buf[o++] = '.';
		buf[o++] = (char)('0' + f / 100);
		if (f % 100) {
			buf[o++] = (char)('0' + f / 10 % 10);
			if (f % 10)
				buf[o++] = (char)('0' + f % 10);
		}
	}
	buf[o] = 0;
	if (outlen > o)
		memcpy(out, buf, o + 1);
	else if (outlen)
		out[0] = 0;
}
