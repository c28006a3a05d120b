/*
 * format.c - numbers and timestamps as Prometheus prints them.
 *
 * Go's strconv.FormatFloat(v, 'f', -1, 64) (the shortest decimal that reads
 * back as v, never an exponent) for values in JSON answers and in printed
 * expressions, and the API's timestamps (seconds with up to 3 decimals).
 * Used by the printer (parse.c) and the answers (eval.c), so it lives apart
 * from both: neither depends on the other for it.
 */
#include "query/query.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	/* fast path: the fewest decimals k (0..22) whose rounding reads back as v;
	 * round(v * 10^k) is the nearest k-decimal number, and the division is
	 * correctly rounded, so the check proves the text round-trips */
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
	/* a decimal of up to 15 digits survives a trip through the nearest
	 * double, so if 15 digits round-trip, stripping zeros gives the shortest */
	/* values the fast path could not place usually need 16 or 17 digits */
	int first = (fabs(v) < 1e-7 || fabs(v) >= 9e15) ? 15 : 16;
	for (int prec = first; prec <= 17; prec++) {
		snprintf(e, sizeof e, "%.*e", prec - 1, v);
		if (prec == 17 || strtod(e, NULL) == v)
			break;
	}
	/* e = [-]D.DDDDe[+-]XX */
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
	int point = exp10 + 1; /* digits before the decimal point */
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
