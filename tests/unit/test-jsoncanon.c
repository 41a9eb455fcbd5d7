/*
 * Unit tests for lib/jsoncanon.c: whatever it lets through must be a record
 * that json_loadb reads and jsonout_value writes back byte for byte, and
 * the common compact record must get through.  Checked on a table of
 * hand-picked texts, the JSONTestSuite files, numbers of every form, bytes
 * of every kind in a string, and randomly damaged records.
 */
#include "check.h"
#include "jsoncanon.h"
#include "jsonout.h"
#include "line.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 0x2545f4914f6cdd1dULL;

/* If jsoncanon takes TEXT, is it what jansson and jsonout make of it?
 * *TAKEN says whether it took it. */
static int
agrees(const char *text, size_t len, int *taken)
{
	struct buf out = BUF_INIT;
	json_t *v;
	int ok;

	*taken = jsoncanon_object(text, len);
	if (!*taken)
		return 1;
	v = json_loadb(text, len, LINE_JSON_FLAGS, NULL);
	if (!v || !json_is_object(v) || line_is_control(v)) {
		printf("# taken, but jansson reads no record: %.*s\n", (int)len, text);
		json_decref(v);
		return 0;
	}
	jsonout_value(&out, v);
	ok = out.len == len && memcmp(out.data, text, len) == 0;
	if (!ok)
		printf("# taken: %.*s\n# written back: %.*s\n", (int)len, text,
		    (int)out.len, out.data);
	json_decref(v);
	buf_free(&out);
	return ok;
}

static void
test_table(void)
{
	static const char *const taken[] = {
		"{}",
		"{\"a\":1}",
		"{\"\":\"\"}",
		"{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":false,\"e\":[],\"f\":{}}",
		"{\"order_id\":1,\"amount\":3509.76,\"shipping\":4.86,\"a\":\"20 Damrak, \xe6\x9d\xb1\xe4\xba\xac\"}",
		"{\"x\":1.0,\"y\":-2.5,\"z\":0.0001,\"w\":-0.0}",
		"{\"x\":1e+20,\"y\":123456789012345678}",
		"{\"a\":\"\x7f\",\"b\":\"\xf0\x9f\x98\x80\"}",
		"{\"$etl\":1,\"b\":2}",
		"{\"a\":{\"$etl\":1}}",
	};
	static const char *const declined[] = {
		"",
		"[{\"a\":1}]",
		"\"a\"",
		"{\"a\":1,\"a\":2}",
		"{\"$etl\":{\"ack\":1}}",
		"{\"a\": 1}",
		" {\"a\":1}",
		"{\"a\":1}\n",
		"{\"a\":1} ",
		"{\"a\":\"\\n\"}",
		"{\"a\":\"\\u00e9\"}",
		"{\"a\\\"\":1}",
		"{\"a\":-0}",
		"{\"a\":01}",
		"{\"a\":1e2}",
		"{\"a\":1.50}",
		"{\"a\":1E400}",
		"{\"a\":1e-400}",
		"{\"a\":.5}",
		"{\"a\":1.}",
		"{\"a\":+1}",
		"{\"a\":1234567890123456789}",
		"{\"a\":\"\xff\"}",
		"{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\xc0\xaf\"}",
		"{\"a\":\"\x01\"}",
		"{\"a\":tru}",
		"{\"a\":truex}",
		"{\"a\":1",
		"{\"a\":1}}",
		"{\"a\":1,}",
		"{\"a\"}",
		"{\"a\":[1,]}",
		"{a:1}",
		"\xef\xbb\xbf{\"a\":1}",
	};
	char deep[200];
	int ok, t, bad = 0;

	for (size_t i = 0; i < sizeof taken / sizeof *taken; i++) {
		ok = agrees(taken[i], strlen(taken[i]), &t);
		check(ok && t, "taken and written back the same: %s", taken[i]);
	}
	for (size_t i = 0; i < sizeof declined / sizeof *declined; i++)
		if (jsoncanon_object(declined[i], strlen(declined[i]))) {
			printf("# taken: %s\n", declined[i]);
			bad++;
		}
	check(bad == 0, "%zu texts that are not jsonout's records are declined",
	    sizeof declined / sizeof *declined);
	/* Nesting: a little is taken, much is left to the parser. */
	snprintf(deep, sizeof deep, "{\"a\":%.*s1%.*s}", 10, "[[[[[[[[[[", 10, "]]]]]]]]]]");
	check(agrees(deep, strlen(deep), &t) && t, "nesting 10 deep is taken");
	snprintf(deep, sizeof deep, "{\"a\":%.*s1%.*s}", 60,
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	    60, "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	check(!jsoncanon_object(deep, strlen(deep)), "nesting 60 deep is declined");
}

/* Numbers of every form: what jsonout writes is taken, the rest agrees. */
static void
test_numbers(void)
{
	static const char *const forms[] = { "%.17g", "%.15g", "%.3f", "%g", "%e",
	    "%.1f", "%.0f", "%a" };
	int bad = 0, missed = 0, count = 0, t;

	for (int i = 0; i < 200000; i++) {
		uint64_t r = check_random(&rng);
		char text[512];  /* "%.3f" of 1e308 is 313 characters */
		struct buf b = BUF_INIT;
		double d;
		int n;

		switch (i % 4) {
		case 0:   /* any double */
			memcpy(&d, &r, sizeof d);
			break;
		case 1:   /* prices */
			d = (double)(r % 10000000) / 100.0;
			break;
		case 2:   /* any magnitude, short mantissa */
			d = (double)(r % 100000) * 1e-10 * (double)(1ULL << (r >> 58));
			break;
		default:  /* integers as reals */
			d = (double)(int64_t)(r >> (r % 64));
			break;
		}
		if (r & 1)
			d = -d;
		/* As jsonout writes it: must be taken when it reads back. */
		buf_adds(&b, "{\"n\":");
		jsonout_real(&b, d);
		buf_addc(&b, '}');
		if (!agrees(b.data, b.len, &t))
			bad++;
		else if (!t && d == d && d - d == 0 && b.len < 45)
			missed++;  /* finite and short: should have been taken */
		buf_free(&b);
		/* In some other form: taken or not, it agrees. */
		n = snprintf(text, sizeof text, "{\"n\":");
		n += snprintf(text + n, sizeof text - 8 - n, forms[r % 8], d);
		n += snprintf(text + n, sizeof text - n, "}");
		if (n >= (int)sizeof text || !agrees(text, (size_t)n, &t))
			bad++;
		n = snprintf(text, sizeof text, "{\"n\":%lld}", (long long)(r >> (r % 64)) *
		    (r & 2 ? -1 : 1));
		if (!agrees(text, (size_t)n, &t))
			bad++;
		count += 3;
	}
	check(bad == 0, "%d numbers: what is taken is written back the same", count);
	check(missed == 0, "every finite real as jsonout writes it is taken (%d missed)", missed);
}

/* Every byte, alone and after a lead byte, inside a string. */
static void
test_string_bytes(void)
{
	int bad = 0, taken = 0, t;

	for (int a = 0; a < 256; a++)
		for (int b = -1; b < 256; b++) {
			char text[32];
			int n = snprintf(text, sizeof text, "{\"s\":\"x");

			text[n++] = (char)a;
			if (b >= 0)
				text[n++] = (char)b;
			n += snprintf(text + n, sizeof text - n, "y\"}");
			if (!agrees(text, (size_t)n, &t))
				bad++;
			taken += t;
		}
	check(bad == 0 && taken > 0, "bytes in strings: what is taken is written"
	    " back the same (%d taken)", taken);
}

/* A record with a byte replaced, inserted or deleted at random. */
static void
test_damaged(void)
{
	static const char record[] = "{\"order_id\":17,\"customer_id\":-36574,"
	    "\"amount\":3509.76,\"ok\":true,\"no\":false,\"nil\":null,\"tags\":[1,"
	    "\"a\",{\"b\":[]}],\"shipping_address\":\"20 Damrak, \xe6\x9d\xb1\xe4\xba\xac\"}";
	static const char bytes[] = "{}[]\",:\\-+.eE0123456789 \ntrufalsn\x80\xe6";
	int bad = 0, taken = 0, t;

	for (int i = 0; i < 100000; i++) {
		char text[sizeof record + 4];
		size_t len = sizeof record - 1, at;
		uint64_t r = check_random(&rng);
		char c = bytes[(r >> 8) % (sizeof bytes - 1)];

		memcpy(text, record, len);
		at = (size_t)(r >> 20) % len;
		switch (r % 3) {
		case 0:
			text[at] = c;
			break;
		case 1:
			memmove(text + at + 1, text + at, len - at);
			text[at] = c;
			len++;
			break;
		default:
			memmove(text + at, text + at + 1, len - at - 1);
			len--;
			break;
		}
		if (!agrees(text, len, &t))
			bad++;
		taken += t;
	}
	check(bad == 0, "100000 damaged records: what is taken is written back"
	    " the same (%d taken)", taken);
	check(jsoncanon_object(record, sizeof record - 1), "the record itself is taken");
}

int
main(void)
{
	test_table();
	check_json_suite(agrees, "what is taken is written back the same");
	test_numbers();
	test_string_bytes();
	test_damaged();
	return 0;
}
