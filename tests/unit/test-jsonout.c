/* Unit tests for lib/jsonout.c: shortest round-trip reals, integers,
 * string escaping, and whole values keeping their key order. */
#include "check.h"
#include "jsonout.h"
#include "line.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

static const char *
real_text(double d)
{
	static struct buf b;

	b.len = 0;
	jsonout_real(&b, d);
	return buf_cstr(&b);
}

static void
test_reals(void)
{
	static const struct { double d; const char *text; } table[] = {
		{ 0.1, "0.1" }, { 8147.16, "8147.16" }, { 12.5, "12.5" },
		{ 651.77, "651.77" }, { 1.0, "1.0" }, { 100.0, "100.0" },
		{ -0.5, "-0.5" }, { 0.0, "0.0" }, { -0.0, "-0.0" },
		{ 1e300, "1e+300" }, { 1.5e-7, "1.5e-07" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ 1.0 / 3.0, "0.3333333333333333" },
		{ 2.0 / 3.0, "0.6666666666666666" },
		{ 123456789012345680.0, "1.2345678901234568e+17" },
		{ DBL_MAX, "1.7976931348623157e+308" },
		{ DBL_MIN, "2.2250738585072014e-308" },
		{ 5e-324, "5e-324" },              /* smallest subnormal */
		{ 9007199254740993.0, "9007199254740992.0" },
		{ 3.14159, "3.14159" }, { 1e21, "1e+21" }, { 1e15, "1e+15" },
		{ 123456.789, "123456.789" },
		{ 1e16, "1e+16" }, { 123456789012345680000.0, "1.2345678901234568e+20" },
		{ -3509.76 - 4.86 - 280.78, "-3795.4000000000005" },
		{ 3509.76 + 4.86 + 280.78, "3795.4000000000005" },
		{ 0.1 + 0.2, "0.30000000000000004" }, { 4.35, "4.35" },
		{ 2.2250738585072009e-308, "2.225073858507201e-308" },  /* subnormal */
		{ -5e-324, "-5e-324" }, { 1e-5, "1e-05" }, { 0.0001, "0.0001" },
		{ 1.0 / 3e4, "3.3333333333333335e-05" }, { 1.0 / 3e3, "0.0003333333333333333" },
		{ 999999999999999.9, "999999999999999.9" },
		{ 999999999999999.4, "999999999999999.4" },
		{ 99999999999999.99, "99999999999999.98" },
		{ 0.0009765625, "0.0009765625" }, { 1.0 / 1024 / 1024, "9.5367431640625e-07" },
		{ 5.9604644775390625e-08, "5.9604644775390625e-08" },  /* 16 digits tie to even: no */
		{ 1234.5678901234565, "1234.5678901234564" },
	};

	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		const char *got = real_text(table[i].d);
		char title[80];

		snprintf(title, sizeof title, "real %s prints shortest",
		    table[i].text);
		CHECK_STR(table[i].text, got, title);
		check(strtod(got, NULL) == table[i].d ||
		    (isnan(table[i].d) && isnan(strtod(got, NULL))),
		    "real %s reads back to the same double", table[i].text);
	}
}

/* Many pseudo-random doubles must read back exactly. */
static void
test_reals_round_trip(void)
{
	unsigned long long x = 0x9e3779b97f4a7c15ULL;
	int bad = 0;

	for (int i = 0; i < 200000; i++) {
		double d;
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		memcpy(&d, &x, sizeof d);
		if (!isfinite(d))
			continue;
		if (strtod(real_text(d), NULL) != d && bad++ < 3)
			printf("# %.17g printed as %s\n", d, real_text(d));
	}
	check(bad == 0, "200000 random doubles round-trip (%d did not)", bad);
}

/* What jsonout_real printed before its exact path: the printf search. */
static const char *
reference_text(double d)
{
	static char tmp[40];
	int n = 0, digits = fabs(d) < DBL_MIN && d != 0 ? 1 : 15;

	for (; digits <= 17; digits++) {
		n = snprintf(tmp, sizeof tmp, "%.*g", digits, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (!strpbrk(tmp, ".ein"))
		strcpy(tmp + n, ".0");
	return tmp;
}

/*
 * Random doubles of several kinds: bit patterns, short decimals and their
 * sums (the shape of prices plus tax), and binary fractions, whose decimal
 * expansions end in 5 and so tie when rounded.
 */
static double
random_double(unsigned long long *x)
{
	static const double scale[] = { 1, 10, 100, 1000, 1e4, 1e6, 1e9 };
	double d;

	*x ^= *x << 13; *x ^= *x >> 7; *x ^= *x << 17;
	switch (*x % 4) {
	case 0:
		memcpy(&d, x, sizeof d);
		return d;
	case 1:
		return (double)(*x >> 20 & 0xfffff) / scale[(*x >> 8) % 7] +
		    (double)(*x >> 40 & 0xffff) / scale[(*x >> 4) % 7] -
		    (double)(*x >> 56) / 100;
	case 2:
		return ldexp((double)(*x >> 11), -(int)(*x >> 3 & 63));
	default:
		return (double)(*x >> 12) * (double)(*x & 0xff) / scale[(*x >> 8) % 7] / 7;
	}
}

/*
 * The exact path must print what the printf search printed, everywhere.
 * short_decimal, which comes first, may pick the other 16-digit neighbour
 * when two read back (8966863311574.452 for 0x1.04f8567a5ace7p+43, where
 * %.16g rounds to .451): allowed, as long as it reads back and is no longer.
 */
static void
test_reals_match_printf(void)
{
	unsigned long long x = 0x2545f4914f6cdd1dULL;
	int bad = 0, neighbours = 0, n = 1000000;

	for (int i = 0; i < n; i++) {
		double d = random_double(&x);
		const char *got, *want;

		if (!isfinite(d))
			continue;
		got = real_text(d);
		want = reference_text(d);
		if (strcmp(got, want) == 0)
			continue;
		if (strtod(got, NULL) == d && strlen(got) == strlen(want)) {
			neighbours++;
			continue;
		}
		if (bad++ < 5)
			printf("# %a printed as %s, the printf search gives %s\n",
			    d, got, want);
	}
	check(bad == 0, "%d random doubles print as the printf search prints"
	    " them (%d differ; %d short decimals chose the other neighbour)",
	    n, bad, neighbours);
}

static void
test_integers(void)
{
	struct buf b = BUF_INIT;

	jsonout_integer(&b, 0);
	buf_addc(&b, ' ');
	jsonout_integer(&b, -42);
	buf_addc(&b, ' ');
	jsonout_integer(&b, 9223372036854775807LL);
	buf_addc(&b, ' ');
	jsonout_integer(&b, -9223372036854775807LL - 1);
	CHECK_STR("0 -42 9223372036854775807 -9223372036854775808",
	    buf_cstr(&b), "integers print exactly, extremes included");
	buf_free(&b);
}

static void
test_strings(void)
{
	struct buf b = BUF_INIT;
	const char in[] = "q\"b\\n\n\t\r\b\f\x01\x1f\x7f é 東 😀";

	jsonout_string(&b, in, sizeof in - 1);
	CHECK_STR("\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001\\u001f\x7f é 東 😀\"",
	    buf_cstr(&b), "strings escape quotes, backslashes and controls;"
	    " UTF-8 passes as is");
	b.len = 0;
	jsonout_string(&b, "a\0b", 3);
	CHECK_STR("\"a\\u0000b\"", buf_cstr(&b), "a NUL inside a string is \\u0000");
	b.len = 0;
	{
		static const char bad[] = "ok\xff\xc3(\xed\xa0\x80 é";

		jsonout_string_lossy(&b, bad, sizeof bad - 1);
	}
	CHECK_STR("\"ok\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd é\"",
	    buf_cstr(&b), "invalid UTF-8 becomes U+FFFD in lossy strings");
	buf_free(&b);
}

static void
test_values(void)
{
	static const char *same[] = {
		"{\"z\":1,\"a\":[true,false,null],\"m\":{\"x\":\"y\"}}",
		"[]", "{}", "[1,-2,3.5,\"\",{\"\":0}]",
		"{\"amount\":8147.16,\"tax\":651.77,\"n\":10}",
	};
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		json_error_t err;
		json_t *v = json_loads(same[i], LINE_JSON_FLAGS, &err);

		b.len = 0;
		jsonout_value(&b, v);
		CHECK_STR(same[i], buf_cstr(&b), "value prints back as read, keys in order");
		json_decref(v);
	}
	buf_free(&b);
}

int
main(void)
{
	test_reals();
	test_reals_round_trip();
	test_reals_match_printf();
	test_integers();
	test_strings();
	test_values();
	return 0;
}
