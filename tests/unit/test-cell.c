/* Unit tests for lib/cell.c: what each column type makes of a JSON value,
 * where the edges are: times settled (offsets, rounding, 24:00, leap
 * days), bytes, and PostgreSQL array literals with hostile strings,
 * dimensions and sizes beyond the arena's blocks.  The cases are a table:
 * column type, the JSON value, and the cell's text or the error. */
#include "check.h"
#include "buf.h"
#include "cell.h"
#include "fields.h"

#include <stdlib.h>

struct convert {
	const struct db_column *col;
	struct cell_arena *arena;
	struct buf *out;
};

/* The cell of the record's one field as text: "NULL", "int:5", "bool:1",
 * the text, or "error: …". */
static int
convert_field(void *arg, const char *key, size_t keylen, const struct field *v)
{
	struct convert *c = arg;
	struct cell cell;
	char err[512];

	(void)key;
	(void)keylen;
	if (cell_from_field(c->col, v, &cell, c->arena, err, sizeof err) != 0) {
		buf_adds(c->out, "error: ");
		buf_adds(c->out, err);
		return 0;
	}
	switch (cell.kind) {
	case CELL_NULL:
		buf_adds(c->out, "NULL");
		break;
	case CELL_INT:
	case CELL_BOOL:
		buf_adds(c->out, cell.kind == CELL_INT ? "int:" : "bool:");
		{
			char n[32];

			snprintf(n, sizeof n, "%lld", cell.i);
			buf_adds(c->out, n);
		}
		break;
	default:
		buf_add(c->out, cell.text, cell.len);
		break;
	}
	return 0;
}

static const char *
convert(enum db_type type, enum db_type element, const char *type_name,
    const char *json)
{
	static struct buf out;
	struct db_column col = { .name = "c", .type_name = (char *)type_name,
	    .type = type, .element_type = element };
	struct cell_arena arena = { 0 };
	struct convert c = { &col, &arena, &out };
	struct fields *f = fields_new();
	struct buf record = BUF_INIT;
	char err[256];

	out.len = 0;
	buf_adds(&record, "{\"c\":");
	buf_adds(&record, json);
	buf_addc(&record, '}');
	if (fields_read(f, record.data, record.len, convert_field, &c, err, sizeof err) != 0) {
		buf_adds(&out, "bad test JSON: ");
		buf_adds(&out, err);
	}
	fields_free(f);
	buf_free(&record);
	cell_arena_free(&arena);
	return buf_cstr(&out);
}

static const struct {
	enum db_type type, element;
	const char *type_name, *json, *want;
} cases[] = {
	/* timestamps: offsets applied, fractions rounded, 24:00 and :60 carried */
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2026-03-14T09:26:53\"", "2026-03-14T09:26:53" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2026-03-14T09:26:53.123456\"", "2026-03-14T09:26:53.123456" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2026-03-14T09:26:53+02:00\"", "2026-03-14 07:26:53" },
	{ DB_TYPE_TIMESTAMPTZ, 0, "timestamptz", "\"2026-03-14T09:26:53-0530\"", "2026-03-14 14:56:53" },
	{ DB_TYPE_TIMESTAMPTZ, 0, "timestamptz", "\"2026-03-14T09:26:53-05\"", "2026-03-14 14:26:53" },
	{ DB_TYPE_TIMESTAMPTZ, 0, "timestamptz", "\"2026-03-14T09:26:53.5Z\"", "2026-03-14 09:26:53.5" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2026-03-14T09:26:53.1234565\"", "2026-03-14 09:26:53.123457" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2026-03-14T09:26:53.1234564\"", "2026-03-14 09:26:53.123456" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2026-12-31T23:59:59.9999995\"", "2027-01-01 00:00:00" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2026-03-14T24:00:00\"", "2026-03-15 00:00:00" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2026-02-28T24:00:00.000\"", "2026-03-01 00:00:00" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2024-02-28T24:00:00\"", "2024-02-29 00:00:00" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2026-12-31T23:59:60Z\"", "2027-01-01 00:00:00" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2024-03-01T00:30:00+01:00\"", "2024-02-29 23:30:00" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"1900-01-01T00:00:00+01:00\"", "1899-12-31 23:00:00" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"1970-01-01T00:00:00.25+00:30\"", "1969-12-31 23:30:00.25" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2026-03-14T24:00:01\"",
	    "error: column \"c\": invalid value for type timestamp: \"2026-03-14T24:00:01\"" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2023-02-29T12:00:00\"",
	    "error: column \"c\": invalid value for type timestamp: \"2023-02-29T12:00:00\"" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"0001-01-01T00:30:00+01:00\"",
	    "error: column \"c\": invalid value for type timestamp: \"0001-01-01T00:30:00+01:00\"" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "1700000000",
	    "error: column \"c\": invalid value for type timestamp: 1700000000" },
	/* dates: the calendar's days */
	{ DB_TYPE_DATE, 0, "date", "\"2024-02-29\"", "2024-02-29" },
	{ DB_TYPE_DATE, 0, "date", "\"2000-02-29\"", "2000-02-29" },
	{ DB_TYPE_DATE, 0, "date", "\"1900-02-29\"", "error: column \"c\": invalid value for type date: \"1900-02-29\"" },
	{ DB_TYPE_DATE, 0, "date", "\"2026-04-31\"", "error: column \"c\": invalid value for type date: \"2026-04-31\"" },
	/* times of day */
	{ DB_TYPE_TIME, 0, "time", "\"10:00:00.5\"", "10:00:00.5" },
	{ DB_TYPE_TIME, 0, "time", "\"10:00:00.1234567\"", "10:00:00.123457" },
	{ DB_TYPE_TIME, 0, "time", "\"23:59:59.9999999\"", "24:00:00" },
	{ DB_TYPE_TIME, 0, "time", "\"23:59:60\"", "24:00:00" },
	{ DB_TYPE_TIME, 0, "time", "\"10:00:00,5\"", "10:00:00.5" },
	{ DB_TYPE_TIMESTAMP, 0, "timestamp", "\"2026-03-14T09:26:53,25\"", "2026-03-14 09:26:53.25" },
	{ DB_TYPE_TIME, 0, "time", "\"24:00:00\"", "24:00:00" },
	{ DB_TYPE_TIME, 0, "time", "\"23:59:60.5\"", "error: column \"c\": invalid value for type time: \"23:59:60.5\"" },
	{ DB_TYPE_TIME, 0, "time", "\"24:00:00.1\"", "error: column \"c\": invalid value for type time: \"24:00:00.1\"" },
	{ DB_TYPE_TIME, 0, "time", "\"10:00+02:00\"", "error: column \"c\": invalid value for type time: \"10:00+02:00\"" },
	{ DB_TYPE_TIME, 0, "time with time zone", "\"10:00+02:00\"", "10:00+02:00" },
	{ DB_TYPE_TIME, 0, "time with time zone", "\"10:00:00.12345678+02\"", "10:00:00.123457+02" },
	/* bytes: \x hex, or a value's own bytes */
	{ DB_TYPE_BYTES, 0, "bytea", "\"\\\\x6869\"", "\\x6869" },
	{ DB_TYPE_BYTES, 0, "bytea", "\"\\\\x\"", "\\x" },
	{ DB_TYPE_BYTES, 0, "bytea", "\"hi\"", "\\x6869" },
	{ DB_TYPE_BYTES, 0, "bytea", "\"\"", "\\x" },
	{ DB_TYPE_BYTES, 0, "bytea", "\"\\u0000\\u00ff\"", "\\x00c3bf" },
	{ DB_TYPE_BYTES, 0, "bytea", "12", "\\x3132" },
	{ DB_TYPE_BYTES, 0, "bytea", "\"\\\\x0\"", "error: column \"c\": invalid value for type bytea: \"\\\\x0\"" },
	{ DB_TYPE_BYTES, 0, "bytea", "\"\\\\xzz\"", "error: column \"c\": invalid value for type bytea: \"\\\\xzz\"" },
	/* arrays: every string quoted, NULL the only bare word */
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "[1,2,null]", "{1,2,NULL}" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "[]", "{}" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "[[],[]]", "{}" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "[[1,2],[3,4]]", "{{1,2},{3,4}}" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "[[[1],[2]],[[3],[4]]]", "{{{1},{2}},{{3},{4}}}" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "[\"7\",5.0]", "{7,5}" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "[[1,2],[3]]",
	    "error: column \"c\": a multi-dimensional array must be rectangular: every sub-array"
	    " of one level the same length, arrays or values but not both" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "[[1],2]",
	    "error: column \"c\": a multi-dimensional array must be rectangular: every sub-array"
	    " of one level the same length, arrays or values but not both" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "[1,[2]]",
	    "error: column \"c\": a multi-dimensional array must be rectangular: every sub-array"
	    " of one level the same length, arrays or values but not both" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "[[[[[[[1]]]]]]]",
	    "error: column \"c\": an array of more than 6 dimensions" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "[\"x\"]",
	    "error: column \"c\": invalid value for type integer: \"x\"" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "5", "error: column \"c\": invalid value for type integer[]: 5" },
	{ DB_TYPE_ARRAY, DB_TYPE_INTEGER, "integer[]", "\"{1,2}\"", "{1,2}" },
	{ DB_TYPE_ARRAY, DB_TYPE_TEXT, "text[]",
	    "[\"\",\"NULL\",\"null\",null,\"a,b\",\"{}\",\" sp \",\"q\\\"q\",\"b\\\\s\",\"\\u00fc\\t\"]",
	    "{\"\",\"NULL\",\"null\",NULL,\"a,b\",\"{}\",\" sp \",\"q\\\"q\",\"b\\\\s\",\"\xc3\xbc\t\"}" },
	{ DB_TYPE_ARRAY, DB_TYPE_TEXT, "text[]", "[1.50,true,{\"a\":[1]}]", "{\"1.50\",\"true\",\"{\\\"a\\\":[1]}\"}" },
	{ DB_TYPE_ARRAY, DB_TYPE_BOOLEAN, "boolean[]", "[true,\"false\",0]", "{t,f,f}" },
	{ DB_TYPE_ARRAY, DB_TYPE_NUMERIC, "numeric(10,2)[]", "[12.345,\"1e3\"]", "{\"12.345\",\"1e3\"}" },
	{ DB_TYPE_ARRAY, DB_TYPE_REAL, "double precision[]", "[0.1,\"2\"]", "{\"0.1\",\"2.0\"}" },
	{ DB_TYPE_ARRAY, DB_TYPE_REAL, "double precision[]", "[1e400]",
	    "error: column \"c\": invalid value for type double precision: 1e400" },
	{ DB_TYPE_ARRAY, DB_TYPE_REAL, "real[]", "[1e-50,1e-40,1.5]", "{0,\"1e-40\",\"1.5\"}" },
	{ DB_TYPE_ARRAY, DB_TYPE_REAL, "double precision[]", "[1e-50]", "{\"1e-50\"}" },
	{ DB_TYPE_ARRAY, DB_TYPE_JSON, "jsonb[]", "[[1,2],{\"a\":\"x\"},\"s\",null]",
	    "{\"[1,2]\",\"{\\\"a\\\":\\\"x\\\"}\",\"\\\"s\\\"\",NULL}" },
	{ DB_TYPE_ARRAY, DB_TYPE_TIMESTAMPTZ, "timestamp with time zone[]", "[\"2026-03-14T09:26:53+02:00\"]",
	    "{\"2026-03-14 07:26:53\"}" },
	{ DB_TYPE_ARRAY, DB_TYPE_BYTES, "bytea[]", "[\"hi\"]", "{\"\\\\x6869\"}" },
};

static void
test_cases(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char title[300];

		snprintf(title, sizeof title, "%s %s", cases[i].type_name, cases[i].json);
		CHECK_STR(cases[i].want, convert(cases[i].type, cases[i].element,
		    cases[i].type_name, cases[i].json), title);
	}
}

/* An array literal longer than an arena block (64 KiB), with strings that
 * need escaping across it. */
static void
test_big_array(void)
{
	struct buf json = BUF_INIT, want = BUF_INIT;
	const char *got;

	buf_addc(&json, '[');
	buf_addc(&want, '{');
	for (int i = 0; i < 20000; i++) {
		if (i) {
			buf_addc(&json, ',');
			buf_addc(&want, ',');
		}
		buf_adds(&json, i % 3 ? "\"a\\\"b\"" : "null");
		buf_adds(&want, i % 3 ? "\"a\\\"b\"" : "NULL");
	}
	buf_addc(&json, ']');
	buf_addc(&want, '}');
	got = convert(DB_TYPE_ARRAY, DB_TYPE_TEXT, "text[]", buf_cstr(&json));
	CHECK_STR(buf_cstr(&want), got, "a 20000-element array literal, past an arena block");
	buf_free(&json);
	buf_free(&want);
}

int
main(void)
{
	test_cases();
	test_big_array();
	return 0;
}
