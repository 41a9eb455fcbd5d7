/* Unit tests for lib/fields.c: a record's top-level fields as text, nested
 * values as compact JSON, and broken, hostile and huge records refused
 * without harming the record after them. */
#include "check.h"
#include "buf.h"
#include "fields.h"

#include <stdlib.h>

static const char *kind_names[] = {
	"null", "false", "true", "number", "string", "object", "array",
};

/* Each field as kind:key=value; ... with integer numbers marked "int". */
static int
describe(void *arg, const char *key, size_t keylen, const struct field *v)
{
	struct buf *out = arg;

	if (out->len)
		buf_adds(out, "; ");
	buf_adds(out, kind_names[v->kind]);
	if (v->kind == FIELD_NUMBER && v->integer)
		buf_adds(out, "(int)");
	buf_addc(out, ':');
	buf_add(out, key, keylen);
	buf_addc(out, '=');
	buf_add(out, v->text, v->len);
	return 0;
}

static struct fields *f;

/* Read DATA; the description, or "error: ..." */
static const char *
read_text(const char *data, size_t len)
{
	static struct buf out;
	char err[256];

	out.len = 0;
	if (fields_read(f, data, len, describe, &out, err, sizeof err) != 0) {
		out.len = 0;
		buf_adds(&out, "error: ");
		buf_adds(&out, err);
	}
	return buf_cstr(&out);
}

#define READ(s) read_text((s), sizeof(s) - 1)

static void
test_values(void)
{
	CHECK_STR("number(int):a=1; string:b=x; true:c=true; false:d=false; null:e=null",
	    READ("{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":false,\"e\":null}"),
	    "scalars come with their kind and text");
	CHECK_STR("number:a=3509.760; number:b=1E2; number:c=-0.5e-3; number(int):d=-0",
	    READ("{\"a\":3509.760,\"b\":1E2,\"c\":-0.5e-3,\"d\":-0}"),
	    "numbers keep their text as written");
	CHECK_STR("number(int):big=123456789012345678901234567890",
	    READ("{\"big\":123456789012345678901234567890}"),
	    "an integer beyond 64 bits is kept as text");
	CHECK_STR("object:o={\"x\":[1,2.50,{\"y\":null}],\"z\":\"q\"}; array:a=[]",
	    READ(" { \"o\" : { \"x\" : [ 1 , 2.50 , { \"y\" : null } ] , \"z\" : \"q\" } ,"
	    " \"a\" : [ ] } \r\n"),
	    "nested values are compact JSON, blanks around the record allowed");
	CHECK_STR("array:a=[[],{},[[1]],\"s\"]", READ("{\"a\":[[],{},[[1]],\"s\"]}"),
	    "nested empty containers and separators");
	CHECK_STR("", READ("{}"), "an empty object has no fields");
	CHECK_STR("number(int):k=1; number(int):k=2", READ("{\"k\":1,\"k\":2}"),
	    "a repeated key is passed twice, in order");
}

static void
test_strings(void)
{
	const char *got = READ("{\"s\\u00e9\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00/\"}");

	CHECK_STR("string:s\xc3\xa9=a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80/", got,
	    "escapes in keys and values are decoded");
	got = READ("{\"o\":{\"k\\n\":\"a\\u0001\\\"\"}}");
	CHECK_STR("object:o={\"k\\n\":\"a\\u0001\\\"\"}", got,
	    "nested strings are escaped again as JSON");
	{
		static const char rec[] = "{\"n\":\"a\\u0000b\"}";
		static struct buf out;
		char err[64];
		int rc;

		out.len = 0;
		rc = fields_read(f, rec, sizeof rec - 1, describe, &out, err, sizeof err);
		check(rc == 0 && out.len == strlen("string:n=a") + 2 &&
		    memcmp(out.data, "string:n=a\0b", out.len) == 0,
		    "an escaped NUL stays in the value's bytes");
	}
	CHECK_STR("string:k=\xe6\x9d\xb1\xe4\xba\xac Z\xc3\xbcrich",
	    READ("{\"k\":\"\xe6\x9d\xb1\xe4\xba\xac Z\xc3\xbcrich\"}"),
	    "UTF-8 passes through");
}

static void
test_refused(void)
{
	static const struct { const char *text, *why; } bad[] = {
		{ "{\"a\":1", "the object is not closed" },
		{ "{\"a\":1}}", "invalid JSON" },
		{ "{\"a\":1} x", "invalid JSON" },
		{ "{\"a\":1} 5", "text after the object" },
		{ "{\"a\":1}{\"b\":2}", "more than one JSON value" },
		{ "[{\"a\":1}]", "not a JSON object" },
		{ "5", "not a JSON object" },
		{ "\"s\"", "not a JSON object" },
		{ "", "not a JSON object" },
		{ " \n", "not a JSON object" },
		{ "{\"a\":01}", "invalid JSON" },
		{ "{\"a\":.5}", "invalid JSON" },
		{ "{\"a\":1.}", "invalid JSON" },
		{ "{\"a\":NaN}", "invalid JSON" },
		{ "{'a':1}", "invalid JSON" },
		{ "{\"a\":1,}", "invalid JSON" },
		{ "{\"a\" 1}", "invalid JSON" },
		{ "{\"a\":\"\t\"}", "invalid JSON" },
		{ "{\"a\":\"\\x\"}", "invalid JSON" },
		{ "{\"a\":tru}", "invalid JSON" },
		{ "{\"a\":\"\xc0\xaf\"}", "invalid UTF-8 byte 0xc0" },
		{ "{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8 byte 0xed" },
		{ "{\"a\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8 byte 0xf4" },
		{ "{\"a\":\"\xff\"}", "invalid UTF-8 byte 0xff" },
		{ "{\"a\":[\f]}", "control byte 0x0c" },
		{ "{\"a\":5\v}", "control byte 0x0b" },
		{ "{\"a\":\"\\ud800\"}", "invalid Unicode" },
		{ "{\"a\":\"\\udfaa\"}", "invalid Unicode" },
		{ "{\"a\":\"\\ud800\\u0041\"}", "invalid Unicode" },
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *got = read_text(bad[i].text, strlen(bad[i].text));

		check(strncmp(got, "error: ", 7) == 0 && strstr(got, bad[i].why),
		    "refused: %s", bad[i].text);
		if (strncmp(got, "error: ", 7) != 0 || !strstr(got, bad[i].why))
			printf("# got: %s\n", got);
		/* The next record reads cleanly: nothing of the bad one stays. */
		got = READ("{\"next\":1}");
		if (strcmp(got, "number(int):next=1") != 0)
			check(0, "the record after %s reads cleanly (got %s)", bad[i].text, got);
	}
	{
		/* A NUL byte after a number (jansson takes it; JSON does not). */
		static const char rec[] = "{\"a\":5\0}";
		const char *got = read_text(rec, sizeof rec - 1);

		check(strstr(got, "control byte 0x00") != NULL, "a raw NUL byte is refused");
	}
	CHECK_STR("number(int):next=1", READ("{\"next\":1}"),
	    "a record after all the refused ones reads cleanly");
}

static int
stop_at_b(void *arg, const char *key, size_t keylen, const struct field *v)
{
	(void)v;
	++*(int *)arg;
	return keylen == 1 && key[0] == 'b' ? 42 : 0;
}

static void
test_callback_stops(void)
{
	int seen = 0;
	char err[64];
	int rc = fields_read(f, "{\"a\":1,\"b\":{\"x\":2},\"c\":3}", 25, stop_at_b,
	    &seen, err, sizeof err);

	check(rc == 42 && seen == 2, "a callback's non-zero value stops the read and is"
	    " returned (rc %d after %d fields)", rc, seen);
	CHECK_STR("number(int):a=1", READ("{\"a\":1}"), "and the next record reads cleanly");
}

static void
test_huge(void)
{
	size_t n = 1 << 20, depth = 100000;
	struct buf rec = BUF_INIT;
	const char *got;

	/* A 1 MB string. */
	buf_adds(&rec, "{\"s\":\"");
	for (size_t i = 0; i < n; i++)
		buf_addc(&rec, (char)('a' + i % 26));
	buf_adds(&rec, "\"}");
	got = read_text(rec.data, rec.len);
	check(strncmp(got, "string:s=abcdefghijklmnopqrstuvwxyzabc", 38) == 0 &&
	    strlen(got) == strlen("string:s=") + n, "a 1 MB string value");

	/* 100000 nested arrays: no recursion, so no stack overflow. */
	rec.len = 0;
	buf_adds(&rec, "{\"d\":");
	for (size_t i = 0; i < depth; i++)
		buf_addc(&rec, '[');
	for (size_t i = 0; i < depth; i++)
		buf_addc(&rec, ']');
	buf_addc(&rec, '}');
	got = read_text(rec.data, rec.len);
	check(strncmp(got, "array:d=[[[", 11) == 0 &&
	    strlen(got) == strlen("array:d=") + 2 * depth, "100000 nested arrays");

	/* Unclosed deep nesting is refused. */
	rec.len = 0;
	buf_adds(&rec, "{\"d\":");
	for (size_t i = 0; i < depth; i++)
		buf_addc(&rec, '[');
	got = read_text(rec.data, rec.len);
	check(strncmp(got, "error: ", 7) == 0, "100000 unclosed arrays are refused");

	/* Many keys. */
	rec.len = 0;
	buf_addc(&rec, '{');
	for (int i = 0; i < 100000; i++) {
		char key[32];

		snprintf(key, sizeof key, "%s\"k%d\":%d", i ? "," : "", i, i);
		buf_adds(&rec, key);
	}
	buf_addc(&rec, '}');
	got = read_text(rec.data, rec.len);
	check(strncmp(got, "number(int):k0=0; number(int):k1=1;", 35) == 0 &&
	    strstr(got, "number(int):k99999=99999") != NULL, "100000 keys");
	if (!strstr(got, "number(int):k99999=99999"))
		printf("# got %.100s ... %s\n", got, got + strlen(got) - 60);
	buf_free(&rec);
	CHECK_STR("number(int):a=1", READ("{\"a\":1}"), "a small record after the huge ones");
}

int
main(void)
{
	f = fields_new();
	test_values();
	test_strings();
	test_refused();
	test_callback_stops();
	test_huge();
	fields_free(f);
	return 0;
}
