/*
 * Unit tests for lib/jsontree.c: whatever it builds must be exactly what
 * json_loadb makes of the same bytes (types, key order, doubles, strings),
 * and whatever json_loadb rejects it must decline too.  Checked on a table
 * of hand-picked lines, the JSONTestSuite files, random numbers, bytes of
 * every kind at every place of a word, randomly damaged records, and two
 * threads parsing at once.  All lines go through the same per-thread yajl
 * handle, so a bad line that leaked state into the next would show.
 */
#include "check.h"
#include "jsonout.h"
#include "jsontree.h"
#include "line.h"

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* The text of V, with reals as their exact bits so -0.0 and 0.0 differ. */
static void
exact_text(struct buf *b, const json_t *v)
{
	size_t i;
	const char *key;
	json_t *x;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		buf_addc(b, '{');
		json_object_foreach((json_t *)v, key, x) {
			jsonout_string(b, key, strlen(key));
			buf_addc(b, ':');
			exact_text(b, x);
			buf_addc(b, ',');
		}
		buf_addc(b, '}');
		break;
	case JSON_ARRAY:
		buf_addc(b, '[');
		json_array_foreach(v, i, x) {
			exact_text(b, x);
			buf_addc(b, ',');
		}
		buf_addc(b, ']');
		break;
	case JSON_REAL: {
		double d = json_real_value(v);
		char tmp[40];

		snprintf(tmp, sizeof tmp, "%a", d);
		buf_adds(b, "real:");
		buf_adds(b, tmp);
		break;
	}
	default:
		jsonout_value(b, v);
	}
}

/*
 * Compare jsontree with json_loadb on DATA: 1 if they agree.  Agreeing
 * means the same value, or jsontree declining (NULL) where json_loadb may
 * do either.  *PARSED tells whether jsontree took it.
 */
static int
agrees(const char *data, size_t len, int *parsed)
{
	json_error_t err;
	json_t *mine = jsontree_parse(data, len);
	json_t *theirs = json_loadb(data, len, LINE_JSON_FLAGS, &err);
	struct buf a = BUF_INIT, b = BUF_INIT;
	int ok = 1;

	*parsed = mine != NULL;
	if (mine && !theirs) {
		ok = 0;
	} else if (mine) {
		exact_text(&a, mine);
		exact_text(&b, theirs);
		ok = a.len == b.len && memcmp(a.data, b.data, a.len) == 0 &&
		    json_object_size(mine) == json_object_size(theirs);
		if (!ok)
			printf("# jsontree: %s\n# jansson: %s\n", buf_cstr(&a), buf_cstr(&b));
	}
	if (!ok)
		printf("# input: %.*s\n", (int)len, data);
	json_decref(mine);
	json_decref(theirs);
	buf_free(&a);
	buf_free(&b);
	return ok;
}

/* Does jsontree read "{\"ok\":[1]}" right after whatever came before? */
static int
next_line_reads(void)
{
	int parsed;

	return agrees("{\"ok\":[1]}", 10, &parsed) && parsed;
}

static void
test_table(void)
{
	/* Lines jsontree must build itself, the same as jansson. */
	static const char *taken[] = {
		"{}", "[]", " \t{ } \r\n", "[1,2,3]", "{\"a\":{\"b\":[{}]}}",
		"{\"order_id\":1,\"amount\":3509.76,\"shipping\":4.86,\"tax\":280.78,"
		    "\"shipping_address\":\"20 Damrak, 東京\"}",
		"[true,false,null,\"\",0,-0,-0.0,0.0,1e5,1E+5,1e-5,2.5e-3]",
		"[9223372036854775807,-9223372036854775808,123456789012345678]",
		"[999999999999999999,-999999999999999999,1000000000000000000]",
		"[0.1,0.2,0.30000000000000004,1.7976931348623157e308,5e-324]",
		"[2.2250738585072014e-308,4.9406564584124654e-324,1e-400]",
		"[9007199254740993,9007199254740993.0,123456789012345680000.0]",
		"[12345678901234567890.5,0.1234567890123456789012345]",
		"[1e22,1e23,3.0e22,9007199254740992e22,9007199254740993e-22]",
		"[123456789012345e7,123456789012345e-22,1234567890123456e-22]",
		"[999999999999999e22,999999999999999e-22,0.000000000000000000001]",
		"[1e-22,1e-23,0e-400,-0e5,0.0e999,1e0001,1.5E-0]",
		"{\"a\":1,\"b\":2,\"a\":3}",
		"{\"a\":[1],\"b\":2,\"a\":{\"c\":3},\"b\":[],\"a\":null}",
		"{\"esc\":\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\"}",
		"{\"u\":\"\\u00e9\\u6771\\u0000x\",\"n\":\"\\u0000\"}",
		"{\"k\\u00e9y\":1,\"k\\ty\":\"v\\u00e9\",\"k\\n\":{\"k\\r\":\"\\t\"}}",
		"{\"utf8\":\"é東😀\x7f\"}",
		"[{\"a\":\"\"},{\"\":0},[[],[{}]]]",
	};
	/* Valid lines jsontree leaves to jansson: \uD... escapes. */
	static const char *declined[] = {
		"{\"u\":\"\\ud83d\\ude00\"}", "[\"\\uD834\\uDD1E\"]",
		"[\"\\ud7ff\"]", "[\"\\\\ud800\"]", "1", "\"a\"", "null",
	};
	/* Lines json_loadb rejects: jsontree must decline them. */
	static const char *invalid[] = {
		"{", "}", "[", "[1,]", "{\"a\":1,}", "{\"a\"}", "{\"a\":}", "{a:1}",
		"[01]", "[-]", "[1.]", "[.5]", "[1e]", "[1e+]", "[+1]", "[-01]",
		"[1e400]", "[-1e400]", "[9223372036854775808]",
		"[-9223372036854775809]", "[123456789012345678901234567890]",
		"[tru]", "[truex]", "[nul]", "{}x", "{} {}", "{}[]", "[] 1", "{}1",
		"[\"\\x\"]", "[\"\\u12\"]", "[\"\\ud800\"]",
		"[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[\"a\x01\"]",
		"[\"\xff\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]",
		"[\"\xf4\x90\x80\x80\"]", "[\"\xe6\x9d\"]", "{\"a\\u0000\":1}",
		"{\"a\\u0000b\":{}}", "[\"unterminated", "[1 2]", "{\"a\" 1}",
		"[\"a\tb\"]", "[1]\f", "\f[1]", "[1,\v2]", "[0x10]", "[1]/**/",
		"[/**/1]", "[1] // c", "[NaN]", "[Infinity]", "[-Infinity]",
		"\xef\xbb\xbf{}", "['a']", "{\"a\":1 \"b\":2}", "[1,,2]", "",
		"  ", "{\"a\":1}}", "[1]]",
	};
	int parsed, bad = 0;

	for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
		int ok = agrees(taken[i], strlen(taken[i]), &parsed);
		struct buf title = BUF_INIT;

		jsonout_string_lossy(&title, taken[i], strlen(taken[i]));
		check(ok && parsed, "jsontree builds %s as jansson does",
		    buf_cstr(&title));
		buf_free(&title);
	}
	for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++) {
		int ok = agrees(declined[i], strlen(declined[i]), &parsed);

		if (!ok || parsed) {
			printf("# input: %s (jsontree %s)\n", declined[i],
			    parsed ? "took it" : "disagreed");
			bad++;
		}
	}
	check(bad == 0, "jsontree leaves the %zu lines it cannot build to jansson",
	    sizeof declined / sizeof declined[0]);
	bad = 0;
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		size_t len = strlen(invalid[i]);
		json_error_t err;
		json_t *v = json_loadb(invalid[i], len, LINE_JSON_FLAGS, &err);
		json_t *mine = jsontree_parse(invalid[i], len);

		if (v || mine || !next_line_reads()) {
			printf("# input: %s (jansson %s, jsontree %s)\n", invalid[i],
			    v ? "took it" : "declined", mine ? "took it" : "declined");
			bad++;
		}
		json_decref(v);
		json_decref(mine);
	}
	check(bad == 0, "jsontree declines the %zu invalid lines jansson rejects,"
	    " and reads the next line right", sizeof invalid / sizeof invalid[0]);
}

/* Nesting: jansson counts every value, the innermost one too, and refuses
 * more than JSON_PARSER_MAX_DEPTH. */
static void
test_depth(void)
{
	enum { MAX = JSON_PARSER_MAX_DEPTH };
	static char text[2 * MAX + 8];
	int parsed, ok;

	memset(text, '[', MAX);
	memset(text + MAX, ']', MAX);
	ok = agrees(text, 2 * MAX, &parsed);
	check(ok && parsed, "%d nested arrays are built", MAX);
	memset(text, '[', MAX + 1);
	memset(text + MAX + 1, ']', MAX + 1);
	ok = agrees(text, 2 * MAX + 2, &parsed);
	check(ok && !parsed && next_line_reads(), "%d nested arrays are left to"
	    " jansson", MAX + 1);
	memset(text, '[', MAX - 1);
	text[MAX - 1] = '1';
	memset(text + MAX, ']', MAX - 1);
	ok = agrees(text, 2 * MAX - 1, &parsed);
	check(ok && parsed, "a number inside %d nested arrays is built", MAX - 1);
	memset(text, '[', MAX);
	text[MAX] = '1';
	memset(text + MAX + 1, ']', MAX);
	ok = agrees(text, 2 * MAX + 1, &parsed);
	check(ok && !parsed && next_line_reads(), "a number inside %d nested"
	    " arrays is left to jansson", MAX);
}

/* A random number as JSON text: digits, fraction and exponent. */
static size_t
random_number(char *out)
{
	size_t n = 0;
	int digits = 1 + check_random(&rng) % 22;

	if (check_random(&rng) % 2)
		out[n++] = '-';
	if (check_random(&rng) % 3 == 0) {
		out[n++] = '0';
	} else {
		out[n++] = '1' + check_random(&rng) % 9;
		for (int i = 1; i < digits / 2 + 1; i++)
			out[n++] = '0' + check_random(&rng) % 10;
	}
	if (check_random(&rng) % 4) {
		out[n++] = '.';
		for (int i = 0; i < digits; i++)
			out[n++] = '0' + check_random(&rng) % 10;
	}
	if (check_random(&rng) % 3 == 0) {
		out[n++] = check_random(&rng) % 2 ? 'e' : 'E';
		if (check_random(&rng) % 2)
			out[n++] = check_random(&rng) % 2 ? '-' : '+';
		n += sprintf(out + n, "%d", (int)(check_random(&rng) % 330));
	}
	return n;
}

static void
test_random_numbers(void)
{
	int bad = 0, taken = 0;

	for (int i = 0; i < 300000; i++) {
		char text[80] = "[";
		size_t n = 1 + random_number(text + 1);
		int parsed;

		text[n++] = ']';
		if (!agrees(text, n, &parsed) && bad++ > 5)
			break;
		taken += parsed;
	}
	check(bad == 0, "300000 random numbers read as jansson reads them"
	    " (%d by jsontree)", taken);
}

/* Damage valid records at random: every outcome must match jansson's. */
static void
test_damaged(void)
{
	static const char *seeds[] = {
		"{\"order_id\":1,\"amount\":3509.76,\"tax\":-2.5e3,\"ok\":true,"
		    "\"address\":\"20 Damrak, 東京\",\"tags\":[\"a\",null,false,{}]}",
		"[{\"k\\u00e9\":\"v\\n\\ud83d\\ude00\"},[1,[2,[3]]],-0,1e-7]",
	};
	static const char alphabet[] = "{}[]\":,\\ue0.-+1 \ttrfnl\x01\xc3\xa9\xed\xff\0";
	int bad = 0, taken = 0, count = 0;

	for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
		for (int i = 0; i < 100000; i++, count++) {
			char text[256];
			size_t n = strlen(seeds[s]);
			int edits = 1 + check_random(&rng) % 3, parsed;

			memcpy(text, seeds[s], n);
			while (edits-- > 0) {
				size_t at = check_random(&rng) % n;
				char c = alphabet[check_random(&rng) % (sizeof alphabet - 1)];

				switch (check_random(&rng) % 3) {
				case 0:
					text[at] = c;
					break;
				case 1:
					memmove(text + at, text + at + 1, n - at - 1);
					n--;
					break;
				default:
					if (n < sizeof text) {
						memmove(text + at + 1, text + at, n - at);
						text[at] = c;
						n++;
					}
				}
			}
			if (!agrees(text, n, &parsed) && bad++ > 5)
				break;
			taken += parsed;
		}
	}
	check(bad == 0, "%d damaged records: jsontree agrees with jansson"
	    " (%d taken by jsontree)", count, taken);
}

/*
 * Every byte that matters to the word-at-a-time check (a control byte, a
 * byte from 0x80, a backslash) at every place of the first words of a
 * record, alone and in valid UTF-8 sequences.
 */
static void
test_bytes_in_words(void)
{
	static const char record[] = "{\"name\":\"abcdefghijklmnopqrstuvwxyz\","
	    "\"n\":12345678}";
	static const char *bytes[] = {
		"\x01", "\x1f", "\t", "\n", "\x7f", "\x80", "\xff", "\\", "\\n",
		"\\u0041", "\\ud83d\\ude00", "\xc3\xa9", "\xe6\x9d\xb1",
		"\xf0\x9f\x98\x80", "\xed\xa0\x80", " ",
	};
	int bad = 0, count = 0, taken = 0, parsed;

	for (size_t at = 0; at < sizeof record - 1; at++) {
		for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
			char text[128];
			size_t n = strlen(bytes[i]);

			memcpy(text, record, at);
			memcpy(text + at, bytes[i], n);
			memcpy(text + at + n, record + at, sizeof record - 1 - at);
			n += sizeof record - 1;
			count++;
			if (!agrees(text, n, &parsed))
				bad++;
			taken += parsed;
		}
	}
	check(bad == 0, "%d records with a byte put in: jsontree agrees with"
	    " jansson (%d taken by jsontree)", count, taken);
}

/*
 * Long strings, as etl-extract-http --raw-body makes of a body: 1 MB and
 * 8 MB of base64, lengths either side of 64 KiB, and a byte that matters
 * (an escape, a tab, a control byte, a quote, UTF-8) at every place of the
 * first and last words of the string (the last only, at 8 MB).  Clean ones
 * must be taken.
 */
static void
test_long_strings(void)
{
	static const size_t lengths[] = {
		65535, 65536, 65537, 1 << 20, (1 << 20) + 3, 8 << 20,
	};
	static const char *bytes[] = {
		"\\", "\\n", "\\u0041", "\t", "\x01", "\"", "\xc3\xa9", "\x80",
	};
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf text = BUF_INIT;
	int bad = 0, count = 0, clean_taken = 0, parsed;

	for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
		size_t n = lengths[l], head = strlen("{\"body\":\"");

		text.len = 0;
		buf_adds(&text, "{\"body\":\"");
		buf_reserve(&text, n);
		for (size_t i = 0; i < n; i++)
			text.data[text.len++] = alphabet[check_random(&rng) % 64];
		buf_adds(&text, "\",\"body_encoding\":\"base64\", \"n\": 1}");
		count++;
		if (!agrees(text.data, text.len, &parsed))
			bad++;
		clean_taken += parsed;
		for (size_t k = 0; k < sizeof bytes / sizeof bytes[0]; k++) {
			size_t places[] = { 0, 1, 7, 8, 9, 15, 16, n - 9, n - 8, n - 1, n };

			for (size_t j = 0; j < sizeof places / sizeof places[0]; j++) {
				struct buf t = BUF_INIT;
				size_t at = head + places[j];

				if (n > (2 << 20) && places[j] != n - 1)
					continue;  /* jansson takes a while on 8 MB */
				buf_add(&t, text.data, at);
				buf_adds(&t, bytes[k]);
				buf_add(&t, text.data + at, text.len - at);
				count++;
				if (!agrees(t.data, t.len, &parsed))
					bad++;
				buf_free(&t);
			}
		}
	}
	buf_free(&text);
	check(bad == 0 && clean_taken == (int)(sizeof lengths / sizeof lengths[0]),
	    "%d records with strings of 64 KiB to 8 MB: jsontree agrees with"
	    " jansson, and takes the clean ones itself", count);
}

/* Two threads parse at once, each with its own handle. */
static void *
parse_many(void *arg)
{
	const char *line = arg;
	json_error_t err;
	json_t *want = json_loadb(line, strlen(line), LINE_JSON_FLAGS, &err);
	intptr_t bad = 0;

	for (int i = 0; i < 20000; i++) {
		json_t *v = jsontree_parse(line, strlen(line));
		json_t *broken = jsontree_parse(line, strlen(line) - 1);

		if (!v || broken || !json_equal(v, want))
			bad++;
		json_decref(v);
		json_decref(broken);
	}
	json_decref(want);
	return (void *)bad;
}

static void
test_threads(void)
{
	static char a[] = "{\"a\":[1,2.5,\"x\\u00e9\"],\"b\":{\"c\":null}}";
	static char b[] = "[{\"k\\n\":\"v\"},true,-3e-7,\"\"]";
	pthread_t ta, tb;
	void *ra, *rb;

	pthread_create(&ta, NULL, parse_many, a);
	pthread_create(&tb, NULL, parse_many, b);
	pthread_join(ta, &ra);
	pthread_join(tb, &rb);
	check(ra == NULL && rb == NULL, "two threads parse at the same time,"
	    " each line as jansson reads it");
}

int
main(void)
{
	test_table();
	test_depth();
	check_json_suite(agrees, "jsontree agrees with jansson");
	test_random_numbers();
	test_bytes_in_words();
	test_long_strings();
	test_damaged();
	test_threads();
	return 0;
}
