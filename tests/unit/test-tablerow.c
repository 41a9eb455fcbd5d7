/*
 * Unit tests for lib/tablerow.c: a CSV row's fields go to the same cells,
 * and fail with the same errors, as the record csv_row makes of the row
 * read as JSON text; for a table of every type, the nasty values (nulls,
 * empty strings, quotes, newlines, numbers, dates, booleans, bytes), values
 * that do not convert, keys that are no column (with and without
 * --ignore-unknown), a second file's header in another order, a column
 * added to the table, and records read with their keys in any order.
 */
#include "check.h"
#include "buf.h"
#include "csv.h"
#include "tablerow.h"

#include <stdlib.h>

static struct db_table table;

static void
make_table(void)
{
	static const struct { const char *name, *type_name; enum db_type type; } cols[] = {
		{ "id", "bigint", DB_TYPE_INTEGER },
		{ "amount", "numeric(10,2)", DB_TYPE_NUMERIC },
		{ "ratio", "double precision", DB_TYPE_REAL },
		{ "day", "date", DB_TYPE_DATE },
		{ "at", "timestamp with time zone", DB_TYPE_TIMESTAMPTZ },
		{ "paid", "boolean", DB_TYPE_BOOLEAN },
		{ "note", "text", DB_TYPE_TEXT },
		{ "doc", "jsonb", DB_TYPE_JSON },
		{ "raw", "bytea", DB_TYPE_BYTES },
	};

	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
		db_table_add_column(&table, cols[i].name, cols[i].type_name, cols[i].type);
}

/* CELLS as text, one column after another: what a backend would load. */
static void
describe(struct buf *out, const struct cell *cells, int n)
{
	for (int c = 0; c < n; c++) {
		char num[64];

		buf_addc(out, c ? '|' : '[');
		switch (cells[c].kind) {
		case CELL_ABSENT: buf_adds(out, "absent"); break;
		case CELL_NULL: buf_adds(out, "NULL"); break;
		case CELL_BOOL:
		case CELL_INT:
			snprintf(num, sizeof num, "%s%lld",
			    cells[c].kind == CELL_INT ? "int:" : "bool:", cells[c].i);
			buf_adds(out, num);
			break;
		case CELL_REAL:
			snprintf(num, sizeof num, "real:%a:", cells[c].d);
			buf_adds(out, num);
			buf_add(out, cells[c].text, cells[c].len);
			break;
		case CELL_TEXT:
		case CELL_JSON:
			buf_adds(out, cells[c].kind == CELL_TEXT ? "text:" : "json:");
			buf_add(out, cells[c].text, cells[c].len);
			break;
		}
	}
	buf_addc(out, ']');
}

/* What one row gave: its cells, or the status and error. */
static void
outcome(struct buf *out, struct tablerow *t, enum tablerow_status s,
    const struct cell *cells, const char *err)
{
	json_type type;

	switch (s) {
	case TABLEROW_OK:
		describe(out, cells, table.ncolumns);
		break;
	case TABLEROW_UNKNOWN_KEY:
		buf_adds(out, "unknown: ");
		buf_adds(out, tablerow_unknown(t, &type));
		buf_adds(out, type == JSON_NULL ? " (null)" : type == JSON_STRING
		    ? " (string)" : " (other)");
		break;
	default:
		buf_adds(out, s == TABLEROW_INVALID ? "invalid: " : "bad: ");
		buf_adds(out, err);
		break;
	}
	buf_addc(out, '\n');
}

/*
 * The rows of FILE (a CSV file as text) through both ways: FAST gets what
 * tablerow_csv makes of each row's fields, SLOW what tablerow_record
 * makes of its JSON text.  Returns the number of records.
 */
static int
both_ways(struct tablerow *t, const struct csv_options *o, const char *file,
    struct buf *fast, struct buf *slow)
{
	char err[512];
	struct csv *c = csv_new(CSV_CSV, o, err, sizeof err);
	struct cell cells[16];
	struct cell_arena arena = { 0 };
	struct buf json = BUF_INIT;
	struct csv_scan scan;
	size_t start = 0, len = strlen(file);
	int records = 0;

	csv_scan_reset(&scan);
	while (start < len) {
		size_t row_len;
		int ends = csv_scan_row(c, &scan, file + start, len - start, &row_len);
		struct csv_fields f;
		enum tablerow_status s;

		if (!ends)
			row_len = len - start;
		if (csv_row_fields(c, file + start, row_len, &f, err, sizeof err) ==
		    CSV_ROW_RECORD) {
			records++;
			s = tablerow_csv(t, &f, cells, &arena, err, sizeof err);
			outcome(fast, t, s, cells, err);
			json.len = 0;
			csv_fields_json(&f, &json);
			s = tablerow_record(t, json.data, json.len, cells, &arena, err,
			    sizeof err);
			outcome(slow, t, s, cells, err);
		}
		start += ends ? row_len + 1 : row_len;
		csv_scan_reset(&scan);
	}
	cell_arena_free(&arena);
	buf_free(&json);
	csv_free(c);
	return records;
}

static const char nasty[] =
    "id,amount,ratio,day,at,paid,note,doc,raw\r\n"
    "1,12.50,0.1,2024-01-02,2024-01-02T03:04:05.1234567+02:00,true,plain,\"{\"\"a\"\":1}\",\\x00ff\r\n"
    "2,,,,,,,,\r\n"
    "3,\"\",1e300,2024-02-29,2024-02-29 24:00:00,t,\"\",\"\",\"\"\r\n"
    "4,-7,-0,1999-12-31,1999-12-31T23:59:60Z,F,\"say \"\"hi\"\", then\nleave\",[1],text\r\n"
    "5,1e2,3,2000-01-01,2000-01-01,0,\"line\r\nbreak\",null,\"\\\\x\"\r\n"
    "6,0.000,1E-400,2020-06-30,2020-06-30T12:00Z,yes,Zürich 😀 \t\\N,\" \",NULL\r\n"
    "7,abc,,,,,,,\r\n"
    "8,,x,,,,,,\r\n"
    "9,,,2023-02-29,,,,,\r\n"
    "10,,,,2024-13-01T00:00:00,,,,\r\n"
    "11,,,,,maybe,,,\r\n"
    "12.5,,,,,,,,\r\n"
    "99999999999999999999,,,,,,,,\r\n"
    "13,,,,,,\"\\u0000 nul in the text is \"\"fine\"\"\",,\r\n";

static void
test_same_cells(void)
{
	struct tablerow *t = tablerow_new();
	struct buf fast = BUF_INIT, slow = BUF_INIT;
	static const struct csv_options none;
	int n;

	tablerow_use_table(t, &table, 0);
	n = both_ways(t, &none, nasty, &fast, &slow);
	check(n == 14, "the nasty file has 14 records (%d)", n);
	check_bytes(slow.data, slow.len, fast.data, fast.len,
	    "the nasty values: the same cells and errors as through JSON");
	check(strstr(fast.data, "bad: column \"amount\": invalid value for type"
	    " numeric(10,2): \"abc\"") != NULL && strstr(fast.data,
	    "[int:1|text:12.50|real:") == fast.data &&
	    strstr(fast.data, "[int:2|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL]") &&
	    strstr(fast.data, "bad: column \"id\": invalid value for type bigint:"
	    " \"12.5\""), "and they are what they should be");
	if (getenv("SHOW") || !strstr(fast.data, "[int:1|text:12.50|real:"))
		printf("# %s", fast.data);
	buf_free(&fast);
	buf_free(&slow);
	tablerow_free(t);
}

static void
test_unknown_keys(void)
{
	static const char file[] = "id,extra,note,more\n1,x,n,\n2,,n,y\n";
	static const char other[] = "note,id\nfirst,1\n";
	static const struct csv_options none;
	struct tablerow *t = tablerow_new();
	struct buf fast = BUF_INIT, slow = BUF_INIT;

	tablerow_use_table(t, &table, 0);
	both_ways(t, &none, file, &fast, &slow);
	check_bytes(slow.data, slow.len, fast.data, fast.len,
	    "a key that is no column: the same key and type");
	CHECK_STR("unknown: extra (string)\nunknown: extra (null)\n",
	    buf_cstr(&fast), "the first unknown key in the header's order");
	fast.len = slow.len = 0;
	tablerow_use_table(t, &table, 1);
	both_ways(t, &none, file, &fast, &slow);
	check_bytes(slow.data, slow.len, fast.data, fast.len,
	    "--ignore-unknown: dropped the same way");
	CHECK_STR("[int:1|absent|absent|absent|absent|absent|text:n|absent|absent]\n"
	    "[int:2|absent|absent|absent|absent|absent|text:n|absent|absent]\n",
	    buf_cstr(&fast), "--ignore-unknown: the other columns filled");
	fast.len = slow.len = 0;
	both_ways(t, &none, other, &fast, &slow);
	check_bytes(slow.data, slow.len, fast.data, fast.len,
	    "another header, its columns in another order");
	CHECK_STR("[int:1|absent|absent|absent|absent|absent|text:first|absent|absent]\n",
	    buf_cstr(&fast), "another header is looked up again");
	/* A column added (--add-columns): the table is read again. */
	db_table_add_column(&table, "extra", "text", DB_TYPE_TEXT);
	tablerow_use_table(t, &table, 0);
	fast.len = slow.len = 0;
	both_ways(t, &none, file, &fast, &slow);
	check_bytes(slow.data, slow.len, fast.data, fast.len,
	    "after a column is added");
	check(strncmp(fast.data, "unknown: more (null)\n", 21) == 0 &&
	    tablerow_column(t, "extra", 5) == 9 && tablerow_column(t, "ext", 3) < 0,
	    "the added column is found, the next unknown key is named");
	buf_free(&fast);
	buf_free(&slow);
	tablerow_free(t);
}

static void
test_records(void)
{
	struct tablerow *t = tablerow_new();
	struct cell cells[16];
	struct cell_arena arena = { 0 };
	struct buf out = BUF_INIT;
	char err[256];
	static const char *const records[] = {
		"{\"note\":\"n\",\"id\":5,\"paid\":false}",
		"{\"id\":1,\"id\":2}",
		"{\"id\":1",
		"{\"doc\":{\"k\":[1,\"x\"]},\"ratio\":2}",
		"{\"id\\u0000x\":1}",
	};

	tablerow_use_table(t, &table, 0);
	for (size_t i = 0; i < sizeof records / sizeof records[0]; i++)
		outcome(&out, t, tablerow_record(t, records[i], strlen(records[i]), cells,
		    &arena, err, sizeof err), cells, err);
	CHECK_STR("[int:5|absent|absent|absent|absent|bool:0|text:n|absent|absent|absent]\n"
	    "[int:2|absent|absent|absent|absent|absent|absent|absent|absent|absent]\n"
	    "invalid: invalid JSON: the object is not closed\n"
	    "[absent|absent|real:0x1p+1:2|absent|absent|absent|absent|json:{\"k\":[1,\"x\"]}|absent|absent]\n"
	    "unknown: id (other)\n",
	    buf_cstr(&out), "records: keys in any order, the last of a repeated key,"
	    " invalid JSON, nested JSON, a key with a NUL in it");
	buf_free(&out);
	cell_arena_free(&arena);
	tablerow_free(t);
}

int
main(void)
{
	make_table();
	test_same_cells();
	test_unknown_keys();
	test_records();
	db_table_free(&table);
	return 0;
}
