/* test_format.c - pane_query_fmt_float (Go's FormatFloat(v, 'f', -1, 64) as
 * Prometheus prints values) against the formatter it replaced: the same bytes
 * for every double tried. The reference below is that formatter as it was
 * (printf at 15..17 digits and strtod read-back after a fewest-decimals
 * pass), kept here only as the oracle; a few hundred thousand doubles of
 * every shape (random bits, averages, decimals, neighbours of powers of two
 * and ten, ties) must format alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"

/* the formatter before stage 2 (format.c), verbatim in behaviour */
static void ref_fmt_float(double v, char *out, size_t outlen)
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
	static const double p10[] = {1,    1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	for (int k = 0; k < 23; k++) {
		double x = v * p10[k];
		if (!(fabs(x) < 9e15))
			break;
		int64_t r = llround(x);
		if ((double)r / p10[k] != v)
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
	char e[40];
	/* subnormals from 1 digit, as Go's shortest (5e-324 is "0.000...5"); the
	 * formatter before 2026-12-03 started them at 15 digits too */
	int first = fabs(v) < DBL_MIN ? 1 : (fabs(v) < 1e-7 || fabs(v) >= 9e15) ? 15 : 16;
	for (int prec = first; prec <= 17; prec++) {
		snprintf(e, sizeof e, "%.*e", prec - 1, v);
		if (prec == 17 || strtod(e, NULL) == v)
			break;
	}
	char digits[24];
	size_t nd = 0;
	const char *p = e;
	bool neg = false;
	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (isdigit((unsigned char)*p) && nd < sizeof digits)
			digits[nd++] = *p;
	int exp10 = (int)strtol(p + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	int point = exp10 + 1;
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
	snprintf(out, outlen, "%s", buf);
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void)
{
	/* splitmix64: fixed seed, the same doubles every run */
	uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static double from_bits(uint64_t b)
{
	double d;
	memcpy(&d, &b, sizeof d);
	return d;
}

static size_t checked;
static void same(double v)
{
	char got[400], want[400];
	pane_query_fmt_float(v, got, sizeof got);
	ref_fmt_float(v, want, sizeof want);
	if (strcmp(got, want)) {
		uint64_t b;
		memcpy(&b, &v, sizeof b);
		fail_msg("%.17g (0x%016llx): got %s, want %s", v, (unsigned long long)b, got, want);
	}
	checked++;
}

static void test_known(void **state)
{
	(void)state;
	struct {
		double v;
		const char *want;
	} f[] = {
	    {1, "1"},
	    {-1, "-1"},
	    {0.1, "0.1"},
	    {-2.5, "-2.5"},
	    {1e21, "1000000000000000000000"},
	    {1e-7, "0.0000001"},
	    {123456789.125, "123456789.125"},
	    {0.30000000000000004, "0.30000000000000004"},
	    {1.0 / 3, "0.3333333333333333"},
	    {2.0 / 3, "0.6666666666666666"},
	    {20.123456789012345, "20.123456789012344"},
	    {100.0 / 7, "14.285714285714286"},
	    {0.1 + 0.7, "0.7999999999999999"},
	    {1e15 / 3, "333333333333333.3"},
	    {5e-324, NULL},
	    {1.7976931348623157e308, NULL},
	    {NAN, "NaN"},
	    {INFINITY, "+Inf"},
	    {-INFINITY, "-Inf"},
	    {0.0, "0"},
	    {-0.0, "-0"},
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		char s[400];
		pane_query_fmt_float(f[i].v, s, sizeof s);
		if (f[i].want)
			assert_string_equal(s, f[i].want);
		else
			assert_true(strtod(s, NULL) == f[i].v);
		same(f[i].v);
	}
	/* subnormals print their shortest digits, as Go does */
	struct {
		double v;
		const char *digits;
		size_t zeros;
	} sub[] = {{5e-324, "5", 323}, {1e-310, "1", 309}, {2.5e-320, "25", 319}, {1.5e-323, "15", 322}};
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		char s[400];
		pane_query_fmt_float(sub[i].v, s, sizeof s);
		assert_int_equal(strspn(s + 2, "0"), sub[i].zeros);
		assert_string_equal(s + 2 + sub[i].zeros, sub[i].digits);
	}
	/* a short buffer gets a truncated string, never an overflow */
	char small[4];
	pane_query_fmt_float(1.0 / 3, small, sizeof small);
	assert_int_equal(strlen(small), 3);
}

/* doubles of every bit pattern (all exponents, subnormals, NaNs) */
static void test_random_bits(void **state)
{
	(void)state;
	for (int i = 0; i < 200000; i++)
		same(from_bits(next()));
}

/* the values answers are made of: averages and rates of sampled numbers,
 * short decimals, integers, in the magnitudes where stage 2 works */
static void test_random_values(void **state)
{
	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t r = next();
		double sum = 0;
		int n = 1 + (int)(r % 40);
		for (int j = 0; j < n; j++)
			sum += (double)(next() % 100000) / 100.0;
		same(sum / n);                                         /* avg_over_time of 2-decimal gauges */
		same((double)(next() % 1000000) / 300.0);              /* rate over 5 m */
		same((double)(int64_t)(next() % 2000000000) / 1000.0); /* a decimal with 3 places */
		int ex = (int)(next() % 60) - 30;
		same(ldexp((double)(next() >> 11), -53) * pow(10, ex)); /* 53 random bits, 1e-30..1e30 */
		same(-(double)(next() >> 11) * ldexp(1, (int)(next() % 120) - 100));
	}
}

/* the edges: powers of two and ten and their neighbours, halves (ties) */
static void test_edges(void **state)
{
	(void)state;
	for (int e = -1074; e <= 1023; e++) {
		double p = ldexp(1, e);
		same(p);
		same(nextafter(p, 0));
		same(nextafter(p, INFINITY));
		same(-p);
	}
	for (int e = -30; e <= 30; e++) {
		double p = pow(10, e);
		same(p);
		same(nextafter(p, 0));
		same(nextafter(p, INFINITY));
		for (int d = 1; d < 10; d++) {
			same(d * p);
			same(d * p + 0.5 * p);
			same((d + 0.05) * p);
		}
	}
	/* decimals with exactly 15, 16 and 17 significant digits */
	for (int i = 0; i < 20000; i++) {
		for (int prec = 14; prec <= 18; prec++) {
			uint64_t n = next() % 900000000000000000ULL + 100000000000000000ULL;
			while (n >= (uint64_t)pow(10, prec))
				n /= 10;
			int ex = (int)(next() % 30) - 15;
			same((double)n * pow(10, ex - prec));
		}
	}
	/* short decimals r / 10^k of every length and scale (stage 1's values) */
	for (int i = 0; i < 100000; i++) {
		int digits = 1 + (int)(next() % 17);
		uint64_t r = next() % (uint64_t)pow(10, digits);
		int k = (int)(next() % 23);
		same((double)r / pow(10, k));
		same(-(double)r / pow(10, k));
	}
	/* exact binary fractions that tie at some digit count: k/2^j */
	for (int j = 1; j <= 60; j++)
		for (int i = 0; i < 200; i++)
			same(ldexp((double)(next() >> 11), -j));
	print_message("%zu doubles formatted alike\n", checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known),
	    cmocka_unit_test(test_random_bits),
	    cmocka_unit_test(test_random_values),
	    cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
