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
	test_integers();
	test_strings();
	test_values();
	return 0;
}
