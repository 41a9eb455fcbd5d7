/*
 * jsonout.c - compact JSON text from jansson values (see jsonout.h).
 *
 * Reals: try 15, 16 then 17 significant digits and keep the first that
 * strtod reads back exactly; 17 always does for IEEE doubles.  Most values
 * that came from decimal text (prices, coordinates) stop at 15.  A real
 * whose text looks like an integer gets ".0" so it reads back as a real.
 */
#include "jsonout.h"
#include "utf8.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 for the bytes a JSON string must escape: controls, '"' and '\\'. */
static const unsigned char needs_escape[256] = {
	[0x00] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x10] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
};

static void
escape_byte(struct buf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	switch (c) {
	case '"':  buf_add(b, "\\\"", 2); return;
	case '\\': buf_add(b, "\\\\", 2); return;
	case '\n': buf_add(b, "\\n", 2); return;
	case '\r': buf_add(b, "\\r", 2); return;
	case '\t': buf_add(b, "\\t", 2); return;
	case '\b': buf_add(b, "\\b", 2); return;
	case '\f': buf_add(b, "\\f", 2); return;
	}
	buf_add(b, esc, 6);
}

void
jsonout_string(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	buf_reserve(b, len + 2);
	buf_addc(b, '"');
	while (p < end) {
		const unsigned char *run = p;

		while (p < end && !needs_escape[*p])
			p++;
		buf_add(b, run, p - run);
		if (p < end)
			escape_byte(b, *p++);
	}
	buf_addc(b, '"');
}

void
jsonout_string_lossy(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	buf_addc(b, '"');
	while (p < end) {
		size_t n = utf8_sequence(p, end);

		if (n == 0) {
			buf_add(b, "\xef\xbf\xbd", 3);  /* U+FFFD */
			p++;
		} else if (n == 1 && needs_escape[*p]) {
			escape_byte(b, *p++);
		} else {
			buf_add(b, p, n);
			p += n;
		}
	}
	buf_addc(b, '"');
}

void
jsonout_integer(struct buf *b, json_int_t i)
{
	char tmp[24], *p = tmp + sizeof tmp;
	unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;

	do
		*--p = '0' + u % 10;
	while ((u /= 10) != 0);
	if (i < 0)
		*--p = '-';
	buf_add(b, p, tmp + sizeof tmp - p);
}

/*
 * Most reals in records are short decimals (prices, rates).  If n / 10^k
 * equals D for an integer n below 2^53, the decimal n·10^-k reads back as
 * D: division is correctly rounded, so n / 10^k is the double nearest that
 * decimal.  The smallest such k gives the shortest text, with no printf.
 */
static int
short_decimal(struct buf *b, double d)
{
	static const double pow10[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8 };
	double a = fabs(d);

	/* The range where %g prints plain decimals, zero and -0.0 aside. */
	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (int k = 0; k < 9; k++) {
		double scaled = a * pow10[k];
		char tmp[40], *p = tmp + sizeof tmp;
		unsigned long long n;
		int count = 0;

		if (scaled >= 9007199254740992.0)  /* 2^53: n would be inexact */
			return 0;
		n = (unsigned long long)(scaled + 0.5);
		if ((double)n / pow10[k] != a)
			continue;
		if (k == 0) {
			*--p = '0';   /* "100.0": a real reads back as a real */
			*--p = '.';
		}
		do {
			if (k > 0 && count == k)
				*--p = '.';
			*--p = (char)('0' + n % 10);
			n /= 10;
			count++;
		} while (n > 0 || count <= k);
		if (d < 0)
			*--p = '-';
		buf_add(b, p, tmp + sizeof tmp - p);
		return 1;
	}
	return 0;
}

/*
 * D rounded to P significant digits as %.*g rounds it (to nearest, ties to
 * even), computed exactly: D is M·2^E with M below 2^53, so D·10^S is the
 * integer M·10^S shifted right by -E, and that fits 128 bits while S is at
 * most 22 and -E below 128.  *N gets the P digits and *X the decimal
 * exponent of the rounded value.  0 where that does not hold: the caller
 * then asks printf.
 */
static int
round_digits(double a, int p, unsigned long long *n, int *x)
{
	__extension__ typedef unsigned __int128 u128;
	static const unsigned long long pow10[] = { 1ULL, 10ULL, 100ULL, 1000ULL,
	    10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
	    1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
	    10000000000000ULL, 100000000000000ULL, 1000000000000000ULL,
	    10000000000000000ULL, 100000000000000000ULL, 1000000000000000000ULL };
	int e, s, shift;
	unsigned long long m = (unsigned long long)ldexp(frexp(a, &e), 53);
	u128 scaled, q, rem, half;

	shift = 53 - e;                       /* a = m / 2^shift */
	if (shift <= 0 || shift >= 128)
		return 0;
	s = p - 1 - (int)floor(log10(a));    /* a guess, checked below */
	for (int tries = 0; tries < 2; tries++) {
		if (s < 0 || s > 22)
			return 0;
		scaled = (u128)m * (s > 18 ? pow10[18] : pow10[s]);
		if (s > 18)
			scaled *= pow10[s - 18];
		q = scaled >> shift;
		if (q < pow10[p - 1])
			s++;
		else if (q >= pow10[p])
			s--;
		else
			break;
		if (tries == 1)
			return 0;
	}
	rem = scaled - (q << shift);
	half = (u128)1 << (shift - 1);
	if (rem > half || (rem == half && (q & 1)))
		q++;
	*x = p - 1 - s;
	if (q == pow10[p]) {                  /* 9.99…5 rounded up to 10.0… */
		q = pow10[p - 1];
		++*x;
	}
	*n = (unsigned long long)q;
	return 1;
}

/* N (P digits, exponent X, -4 <= X < P) in %g's fixed style. */
static void
fixed_text(struct buf *b, int negative, unsigned long long n, int p, int x)
{
	char digits[24], tmp[48];
	int len = 0, nd = p;

	for (int i = p - 1; i >= 0; i--, n /= 10)
		digits[i] = (char)('0' + n % 10);
	while (nd > 1 && digits[nd - 1] == '0' && nd > x + 1)
		nd--;                             /* %g drops trailing zeros */
	if (negative)
		tmp[len++] = '-';
	if (x < 0) {
		tmp[len++] = '0';
		tmp[len++] = '.';
		for (int i = -1; i > x; i--)
			tmp[len++] = '0';
		memcpy(tmp + len, digits, nd);
		len += nd;
	} else {
		memcpy(tmp + len, digits, x + 1);
		len += x + 1;
		tmp[len++] = '.';
		if (nd > x + 1) {
			memcpy(tmp + len, digits + x + 1, nd - x - 1);
			len += nd - x - 1;
		} else {
			tmp[len++] = '0';         /* a real reads back as a real */
		}
	}
	buf_add(b, tmp, len);
}

/*
 * The first of 15, 16 and 17 digits that reads back as D, as the printf
 * loop below finds it, for D in [1e-4, 1e15) where %g prints plain
 * decimals: N·10^-S reads back as N / 10^S when N is below 2^53 (the same
 * exact-division argument as short_decimal), and 17 digits always do.
 */
static int
exact_real(struct buf *b, double d)
{
	static const double pow10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
	    1e19, 1e20, 1e21, 1e22 };
	double a = fabs(d);
	unsigned long long n;
	int x;

	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (int p = 15; p <= 17; p++) {
		if (!round_digits(a, p, &n, &x) || x < -4 || x >= p)
			return 0;
		if (p < 17) {
			if (n > 9007199254740992ULL)
				return 0;             /* not exact: printf decides */
			if ((double)n / pow10[p - 1 - x] != a)
				continue;
		}
		fixed_text(b, d < 0, n, p, x);
		return 1;
	}
	return 0;
}

void
jsonout_real(struct buf *b, double d)
{
	char tmp[32];
	int n = 0;

	if (short_decimal(b, d))
		return;
#if FLT_EVAL_METHOD == 0 && defined(__SIZEOF_INT128__)
	if (exact_real(b, d))
		return;
#endif
	/*
	 * For a normal double, a decimal of at most 15 digits that reads back
	 * exactly is what %.15g prints (DBL_DIG is 15), trailing zeros
	 * dropped; subnormals carry fewer digits, so they start from 1.
	 */
	int digits = fabs(d) < DBL_MIN && d != 0 ? 1 : 15;

	for (; digits <= 17; digits++) {
		n = snprintf(tmp, sizeof tmp, "%.*g", digits, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	buf_add(b, tmp, n);
	for (int i = 0; i < n; i++)
		if (tmp[i] == '.' || tmp[i] == 'e' || tmp[i] == 'n' || tmp[i] == 'i')
			return;
	buf_add(b, ".0", 2);
}

static void
jsonout_object(struct buf *b, const json_t *v)
{
	void *it = json_object_iter((json_t *)v);
	int first = 1;

	buf_addc(b, '{');
	for (; it; it = json_object_iter_next((json_t *)v, it)) {
		const char *key = json_object_iter_key(it);

		if (!first)
			buf_addc(b, ',');
		first = 0;
		jsonout_string(b, key, json_object_iter_key_len(it));
		buf_addc(b, ':');
		jsonout_value(b, json_object_iter_value(it));
	}
	buf_addc(b, '}');
}

void
jsonout_value(struct buf *b, const json_t *v)
{
	size_t i, n;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jsonout_object(b, v);
		break;
	case JSON_ARRAY:
		buf_addc(b, '[');
		n = json_array_size(v);
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ',');
			jsonout_value(b, json_array_get(v, i));
		}
		buf_addc(b, ']');
		break;
	case JSON_STRING:
		jsonout_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		jsonout_integer(b, json_integer_value(v));
		break;
	case JSON_REAL:
		jsonout_real(b, json_real_value(v));
		break;
	case JSON_TRUE:
		buf_add(b, "true", 4);
		break;
	case JSON_FALSE:
		buf_add(b, "false", 5);
		break;
	case JSON_NULL:
		buf_add(b, "null", 4);
		break;
	}
}
