/*
 * Unit tests for lib/csv.c and the reader's CSV and TSV input: quoting,
 * doubled quotes, CR and LF and delimiters inside quotes, CRLF, the null
 * rules, --delimiter, --columns, --replace-header, --null, bad headers (the
 * column named), bad rows (the reason and the physical line where the row
 * starts), TSV escapes; every row split at every byte (the scan across
 * buffer boundaries); the writer read back; and through the reader: file
 * names, the byte-order mark, gzip, a last row without newline, rows over
 * --max-line, and line numbers across quoted newlines.
 */
#include "check.h"
#include "buf.h"
#include "csv.h"
#include "jsonout.h"
#include "reader.h"

#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

static char dir[] = "/tmp/etl-test-csv.XXXXXX";

/*
 * Parse INPUT[0..LEN) as the reader does, handing the scan at most PIECE
 * bytes more at a time (0: all at once).  Records joined with '|', a bad
 * row as <L: reason>, a bad header as <header L: reason>.
 */
static char *
parse(enum csv_format format, const struct csv_options *o, const char *input,
    size_t len, size_t piece)
{
	char err[256];
	struct csv *c = csv_new(format, o, err, sizeof err);
	struct buf out = BUF_INIT, rec = BUF_INIT;
	struct csv_scan scan;
	size_t start = 0, avail = 0;
	unsigned long lineno = 0;

	if (!c) {
		buf_adds(&out, "<options: ");
		buf_adds(&out, err);
		buf_adds(&out, ">");
		buf_cstr(&out);
		return out.data;
	}
	csv_scan_reset(&scan);
	while (start < len) {
		size_t row_len, skip;
		int ends;
		char tag[300];

		avail = piece && avail + piece < len ? avail + piece : len;
		ends = csv_scan_row(c, &scan, input + start, avail - start, &row_len);
		if (!ends && avail < len)
			continue;  /* more bytes arrive */
		if (!ends)
			row_len = len - start;
		skip = ends ? row_len + 1 : row_len;
		rec.len = 0;
		switch (csv_row(c, input + start, row_len, &rec, err, sizeof err)) {
		case CSV_ROW_RECORD:
			if (out.len)
				buf_addc(&out, '|');
			buf_add(&out, rec.data, rec.len);
			break;
		case CSV_ROW_SKIP:
			break;
		case CSV_ROW_BAD:
			snprintf(tag, sizeof tag, "%s<%lu: %s>", out.len ? "|" : "",
			    lineno + 1, err);
			buf_adds(&out, tag);
			break;
		case CSV_ROW_BAD_HEADER:
			snprintf(tag, sizeof tag, "%s<header %lu: %s>",
			    out.len ? "|" : "", lineno + 1, err);
			buf_adds(&out, tag);
			start = len;
			continue;
		}
		lineno += scan.newlines + 1;
		start += skip;
		if (avail < start)
			avail = start;
		csv_scan_reset(&scan);
	}
	csv_free(c);
	buf_free(&rec);
	buf_cstr(&out);
	return out.data ? out.data : strdup("");
}

static void
expect(const char *title, enum csv_format format, const struct csv_options *o,
    const char *input, const char *want)
{
	static const struct csv_options none;
	char *got = parse(format, o ? o : &none, input, strlen(input), 0);

	CHECK_STR(want, got, title);
	free(got);
}

static void
test_csv(void)
{
	expect("header and rows", CSV_CSV, NULL, "a,b\n1,2\n3,4\n",
	    "{\"a\":\"1\",\"b\":\"2\"}|{\"a\":\"3\",\"b\":\"4\"}");
	expect("unquoted empty is null, quoted empty is the empty string",
	    CSV_CSV, NULL, "a,b,c\n,\"\",x\n",
	    "{\"a\":null,\"b\":\"\",\"c\":\"x\"}");
	expect("an empty last field is null", CSV_CSV, NULL, "a,b\nx,\n",
	    "{\"a\":\"x\",\"b\":null}");
	expect("doubled quotes, delimiters, CR and LF inside quotes", CSV_CSV,
	    NULL, "a,b\n\"say \"\"hi\"\", ok\",\"l1\r\nl2\nl3\"\n",
	    "{\"a\":\"say \\\"hi\\\", ok\",\"b\":\"l1\\r\\nl2\\nl3\"}");
	expect("CRLF rows", CSV_CSV, NULL, "a,b\r\n1,\"2\"\r\n,\r\n",
	    "{\"a\":\"1\",\"b\":\"2\"}|{\"a\":null,\"b\":null}");
	expect("a last row without newline", CSV_CSV, NULL, "a\n1\n2",
	    "{\"a\":\"1\"}|{\"a\":\"2\"}");
	expect("blank lines are skipped", CSV_CSV, NULL, "\na\n\n1\r\n\r\n2\n\n",
	    "{\"a\":\"1\"}|{\"a\":\"2\"}");
	expect("spaces are kept", CSV_CSV, NULL, "a, b\n 1 ,\" 2 \"\n",
	    "{\"a\":\" 1 \",\" b\":\" 2 \"}");
	expect("UTF-8 and JSON escapes", CSV_CSV, NULL,
	    "k\n\"é\t\\\x01\"\n", "{\"k\":\"é\\t\\\\\\u0001\"}");
	expect("a quote inside an unquoted field", CSV_CSV, NULL,
	    "a,b\n1,x\"y\n2,z\n", "<2: field 2: a quote inside an unquoted"
	    " field (quote the whole field, and double the quote)>|"
	    "{\"a\":\"2\",\"b\":\"z\"}");
	expect("text after the closing quote", CSV_CSV, NULL, "a\n\"x\"y\n",
	    "<2: field 1: text after the closing quote>");
	expect("a CR inside an unquoted field", CSV_CSV, NULL, "a\nx\ry\n",
	    "<2: field 1: a carriage return outside quotes>");
	expect("too few and too many fields, numbered by physical line",
	    CSV_CSV, NULL, "a,b\n\"1\n\n\",2\n1\n1,2,3\n",
	    "{\"a\":\"1\\n\\n\",\"b\":\"2\"}|<5: 1 field where the header has 2>|"
	    "<6: 3 fields where the header has 2>");
	expect("an unterminated quote at the end of the file", CSV_CSV, NULL,
	    "a\n1\n\"open\nstill\n",
	    "{\"a\":\"1\"}|<3: field 1: a quote still open at the end of the file>");
	expect("invalid UTF-8 in a field", CSV_CSV, NULL, "a,b\nok,\xc3\x28\n",
	    "<2: field 2: invalid UTF-8>");
	expect("an empty name in the header", CSV_CSV, NULL, "a,,c\n1,2,3\n",
	    "<header 1: column 2: an empty name in the header>");
	expect("a repeated name in the header", CSV_CSV, NULL, "id,x,id\n",
	    "<header 1: column 3: the name \"id\" is column 1's too>");
	expect("a header row only: no records", CSV_CSV, NULL, "a,b\n", "");
	expect("no input: no records", CSV_CSV, NULL, "", "");
}

static void
test_options(void)
{
	expect("--delimiter ';'", CSV_CSV, &(struct csv_options){ .delimiter = ';' },
	    "a;b\n\"1;2\";3,4\n", "{\"a\":\"1;2\",\"b\":\"3,4\"}");
	expect("--columns: the first row is data", CSV_CSV,
	    &(struct csv_options){ .header = "x,\"y,z\"" }, "1,2\n3,4\n",
	    "{\"x\":\"1\",\"y,z\":\"2\"}|{\"x\":\"3\",\"y,z\":\"4\"}");
	expect("--replace-header: the header row is dropped", CSV_CSV,
	    &(struct csv_options){ .replace_header = "x,y" }, "a,b\n1,2\n",
	    "{\"x\":\"1\",\"y\":\"2\"}");
	expect("--replace-header with another column count", CSV_CSV,
	    &(struct csv_options){ .replace_header = "x,y" }, "a,b,c\n1,2,3\n",
	    "<header 1: the header has 3 columns and --replace-header names 2>");
	expect("--columns with a repeated name", CSV_CSV,
	    &(struct csv_options){ .header = "a,b,a" }, "1,2,3\n",
	    "<options: column 3: the name \"a\" is column 1's too>");
	expect("--null NA: unquoted NA is null, unquoted empty is not",
	    CSV_CSV, &(struct csv_options){ .null = "NA" },
	    "a,b,c\nNA,\"NA\",\n", "{\"a\":null,\"b\":\"NA\",\"c\":\"\"}");
	expect("a quote cannot be the delimiter", CSV_CSV,
	    &(struct csv_options){ .delimiter = '"' }, "",
	    "<options: '\"' cannot be a delimiter>");
}

static void
test_tsv(void)
{
	expect("TSV escapes and \\N", CSV_TSV, NULL,
	    "a\tb\tc\n1\\t2\\n3\t\\N\t\n",
	    "{\"a\":\"1\\t2\\n3\",\"b\":null,\"c\":\"\"}");
	expect("TSV: backslashes, other escapes, quotes as data", CSV_TSV, NULL,
	    "a\tb\nC:\\\\x\\q\t\"q\"\r\n\\0\\Z\t\\r\n",
	    "{\"a\":\"C:\\\\xq\",\"b\":\"\\\"q\\\"\"}|"
	    "{\"a\":\"\\u0000\\u001a\",\"b\":\"\\r\"}");
	expect("TSV: a backslash at the end of a line", CSV_TSV, NULL,
	    "a\nx\\\n", "<2: field 1: a backslash at the end of the line>");
	expect("TSV --null NULL", CSV_TSV, &(struct csv_options){ .null = "NULL" },
	    "a\tb\nNULL\t\\N\n", "{\"a\":null,\"b\":\"N\"}");
	expect("TSV: field count", CSV_TSV, NULL, "a\tb\n1\n",
	    "<2: 1 field where the header has 2>");
}

/* Every split of INPUT into two reads, and one byte at a time, gives what
 * one read gives. */
static void
test_every_boundary(void)
{
	static const char input[] =
	    "id,\"na,me\",note\r\n"
	    "1,\"a \"\"b\"\"\r\nc\",\r\n"
	    "\n"
	    "2,\"\",\"x,\ny\"\"\"\n"
	    "3,x\"y,z\n"
	    "4,,\"\n\"\n"
	    "5,last,\"\"";
	static const struct csv_options none;
	size_t len = sizeof input - 1;
	char *whole = parse(CSV_CSV, &none, input, len, 0);
	int bad = 0;

	for (size_t piece = 1; piece <= len; piece++) {
		char *got = parse(CSV_CSV, &none, input, len, piece);

		if (strcmp(got, whole) != 0) {
			printf("# pieces of %zu: %s\n", piece, got);
			bad++;
		}
		free(got);
	}
	check(bad == 0 && strstr(whole, "{\"id\":\"5\",\"na,me\":\"last\","
	    "\"note\":\"\"}") && strstr(whole, "<7: field 2: a quote"),
	    "every read size gives the same rows (%zu sizes)", len);
	free(whole);
}

static void
test_writer(void)
{
	static const char *const values[] = { "plain", "", "a,b", "q\"uote",
	    "l1\nl2", "cr\r", " lead", "é\t" };
	static const struct csv_options none;
	struct buf file = BUF_INIT, want = BUF_INIT;
	size_t n = sizeof values / sizeof values[0];
	char *got;

	for (size_t i = 0; i < n; i++) {
		buf_adds(&file, i ? ",c" : "c");
		buf_addc(&file, '0' + i);
	}
	buf_adds(&file, ",c8\n");
	buf_addc(&want, '{');
	for (size_t i = 0; i < n; i++) {
		char key[16];

		if (i)
			buf_addc(&file, ',');
		csv_write_field(&file, values[i], strlen(values[i]), ',');
		snprintf(key, sizeof key, "%s\"c%zu\":", i ? "," : "", i);
		buf_adds(&want, key);
		jsonout_string(&want, values[i], strlen(values[i]));
	}
	buf_adds(&file, ",\n");  /* one more column: null, written as nothing */
	buf_adds(&want, ",\"c8\":null}");
	buf_cstr(&want);
	got = parse(CSV_CSV, &none, file.data, file.len, 0);
	CHECK_STR(want.data, got, "written fields read back the same");
	free(got);
	buf_free(&file);
	buf_free(&want);
}

/*
 * A row's fields: csv_row_fields and csv_fields_json give what csv_row
 * gives, and csv_header_record makes the same record again from the raw
 * row, later, after the parser has read other files with other headers.
 */
struct kept {
	const struct csv_header *header;
	char *row;
	size_t len;
	char *json;
};

static int
fields_agree(enum csv_format format, const struct csv_options *o,
    const char *const *files, size_t nfiles, const char *title)
{
	char err[256];
	struct csv *a = csv_new(format, o, err, sizeof err);
	struct csv *b = csv_new(format, o, err, sizeof err);
	struct kept kept[64];
	size_t nkept = 0, bad = 0;
	struct buf json = BUF_INIT, again = BUF_INIT;

	for (size_t i = 0; i < nfiles; i++) {
		const char *file = files[i];
		size_t start = 0, len = strlen(file);
		struct csv_scan scan;

		csv_file_start(a);
		csv_file_start(b);
		csv_scan_reset(&scan);
		while (start < len) {
			size_t row_len;
			int ends = csv_scan_row(a, &scan, file + start, len - start, &row_len);
			enum csv_row ka, kb;
			struct csv_fields f;

			if (!ends)
				row_len = len - start;
			json.len = again.len = 0;
			ka = csv_row(a, file + start, row_len, &json, err, sizeof err);
			kb = csv_row_fields(b, file + start, row_len, &f, err, sizeof err);
			if (kb == CSV_ROW_RECORD)
				csv_fields_json(&f, &again);
			if (ka != kb || json.len != again.len || (json.len > 0 &&
			    memcmp(json.data, again.data, json.len) != 0)) {
				printf("# %s: row at %zu: %.*s | %.*s\n", title, start,
				    (int)json.len, json.data, (int)again.len, again.data);
				bad++;
			}
			if (kb == CSV_ROW_RECORD && nkept < 64) {
				kept[nkept].header = f.header;
				kept[nkept].row = strndup(file + start, row_len);
				kept[nkept].len = row_len;
				kept[nkept++].json = strndup(json.data, json.len);
			}
			start += ends ? row_len + 1 : row_len;
			csv_scan_reset(&scan);
		}
	}
	for (size_t i = 0; i < nkept; i++) {
		again.len = 0;
		if (csv_header_record(kept[i].header, kept[i].row, kept[i].len, &again) != 0 ||
		    strcmp(buf_cstr(&again), kept[i].json) != 0) {
			printf("# %s: kept row %zu: %s | %s\n", title, i, kept[i].json,
			    buf_cstr(&again));
			bad++;
		}
		free(kept[i].row);
		free(kept[i].json);
	}
	check(bad == 0 && nkept > 0, "%s (%zu records)", title, nkept);
	csv_free(a);
	csv_free(b);
	buf_free(&json);
	buf_free(&again);
	return (int)nkept;
}

static void
test_fields(void)
{
	static const char *const csv_files[] = {
		"id,\"na,me\",note\r\n1,\"a \"\"b\"\"\r\nc\",\r\n\n2,\"\",\"x,\ny\"\"\"\n"
		    "3,x\"y,z\n4,,\"\n\"\n5,last,\"\"",
		"other\n\"\"\nx\n",
		"id,\"na,me\",note\n6,,é\t\\\x01\n",
	};
	static const char *const tsv_files[] = {
		"a\tb\n1\\t2\\n3\t\\N\n\\0\\Z\t\\r\r\n",
	};
	static const char *const na_files[] = { "a,b,c\nNA,\"NA\",\n" };
	static const char *const given[] = { "1,2\n3,\n", "4,\"5\"\n" };
	static const struct csv_options none;
	static const struct csv_options semicolon = { .delimiter = ';' };
	static const char *const semi_files[] = { "a;b\n\"1;2\";3,4\n" };
	char err[256];
	struct csv *c;
	struct csv_fields f, g;
	size_t len;
	const char *name;

	fields_agree(CSV_CSV, &none, csv_files, 3, "CSV: fields as csv_row, and"
	    " made records again from the raw rows after other headers");
	fields_agree(CSV_TSV, &none, tsv_files, 1, "TSV: the same");
	fields_agree(CSV_CSV, &(struct csv_options){ .null = "NA" }, na_files, 1,
	    "--null NA: the same");
	fields_agree(CSV_CSV, &semicolon, semi_files, 1, "--delimiter ';': the same");
	fields_agree(CSV_CSV, &(struct csv_options){ .header = "x,y" }, given, 2,
	    "--columns: the same, in every file");

	/* Files with the same header share it; names as they are. */
	c = csv_new(CSV_CSV, &none, err, sizeof err);
	csv_row_fields(c, "k,\"a\"\"b\"", 8, &f, err, sizeof err);
	csv_row_fields(c, "1,2", 3, &f, err, sizeof err);
	csv_file_start(c);
	csv_row_fields(c, "k,\"a\"\"b\"", 8, &g, err, sizeof err);
	csv_row_fields(c, "3,4", 3, &g, err, sizeof err);
	name = csv_header_name(g.header, 1, &len);
	check(f.header == g.header && csv_header_columns(f.header) == 2 &&
	    len == 3 && strcmp(name, "a\"b") == 0 && g.values[1].len == 1 &&
	    g.values[1].text[0] == '4' && !g.values[1].is_null,
	    "files with the same header share one; names unquoted");
	csv_file_start(c);
	csv_row_fields(c, "j", 1, &g, err, sizeof err);
	csv_row_fields(c, "", 0, &g, err, sizeof err);
	check(csv_row_fields(c, "\"\"", 2, &g, err, sizeof err) == CSV_ROW_RECORD &&
	    g.header != f.header && csv_header_columns(g.header) == 1 &&
	    g.values[0].len == 0 && !g.values[0].is_null,
	    "another header is another; a blank line is no row");
	csv_free(c);
}

/* ---- through the reader ------------------------------------------------- */

static const char *
write_file(const char *name, const char *data, size_t len, int gzip)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (gzip) {
		gzFile g = gzopen(path, "wb");

		gzwrite(g, data, len);
		gzclose(g);
	} else {
		FILE *f = fopen(path, "wb");

		fwrite(data, 1, len, f);
		fclose(f);
	}
	return path;
}

static char *
read_with(const char *path, size_t max_line)
{
	char *paths[1] = { (char *)path };
	struct reader *r = reader_open(paths, 1, max_line);
	struct buf out = BUF_INIT;
	struct line line;
	enum reader_status st;

	while ((st = reader_next(r, &line, -1)) != READER_EOF) {
		char tag[300];

		if (out.len)
			buf_addc(&out, '|');
		if (st == READER_BAD)
			snprintf(tag, sizeof tag, "<%lu: %s: %zu>", line.place.line,
			    line.error, line.len);
		else
			snprintf(tag, sizeof tag, "%lu:", line.place.line);
		buf_adds(&out, tag);
		if (st != READER_BAD)
			buf_add(&out, line.data, line.len);
	}
	reader_close(r);
	buf_cstr(&out);
	return out.data ? out.data : strdup("");
}

/* As read_with, with reader_want_fields: the fields made JSON, and the
 * raw row after them. */
static char *
read_fields(const char *path)
{
	char *paths[1] = { (char *)path };
	struct reader *r = reader_open(paths, 1, 0);
	struct buf out = BUF_INIT;
	struct line line;
	enum reader_status st;

	reader_want_fields(r);
	while ((st = reader_next(r, &line, -1)) != READER_EOF) {
		char tag[64];

		snprintf(tag, sizeof tag, "%s%lu:", out.len ? "|" : "", line.place.line);
		buf_adds(&out, tag);
		if (st == READER_BAD)
			buf_adds(&out, "bad ");
		if (line.fields) {
			csv_fields_json(line.fields, &out);
			buf_addc(&out, ' ');
		}
		buf_add(&out, line.data, line.len);
	}
	reader_close(r);
	buf_cstr(&out);
	return out.data ? out.data : strdup("");
}

static void
test_reader(void)
{
	static const char data[] = "\xef\xbb\xbfn,v\r\n1,\"a\nb\"\r\n2,x\"\n3,"
	    "\"0123456789012345678901234567890123456789\n\"\n4,ok";
	static const char want[] = "2:{\"n\":\"1\",\"v\":\"a\\nb\"}|"
	    "<4: field 2: a quote inside an unquoted field (quote the whole"
	    " field, and double the quote): 4>|"
	    "<5: row longer than --max-line: 30>|7:{\"n\":\"4\",\"v\":\"ok\"}";
	struct csv_options o = { 0 };
	char *got;

	reader_use_formats(&o);
	got = read_with(write_file("in.csv", data, sizeof data - 1, 0), 30);
	CHECK_STR(want, got, "a .csv file: BOM, quoted LF, a bad row, a row over"
	    " --max-line, the last row without LF");
	free(got);
	got = read_with(write_file("in.CSV.gz", data, sizeof data - 1, 1), 30);
	CHECK_STR(want, got, "the same as .CSV.gz");
	free(got);
	got = read_with(write_file("in.ndjson", "{\"a\":1}\n", 8, 0), 0);
	CHECK_STR("1:{\"a\":1}", got, "other names are NDJSON");
	free(got);
	got = read_with(write_file("in.tsv", "a\tb\n\\N\tx\\ty\n", 12, 0), 0);
	CHECK_STR("2:{\"a\":null,\"b\":\"x\\ty\"}", got, "a .tsv file");
	free(got);
	o.format = CSV_CSV;
	o.format_set = 1;
	o.header = "k";
	reader_use_formats(&o);
	got = read_with(write_file("in.txt", "x\n\"y\"\n", 6, 0), 0);
	CHECK_STR("1:{\"k\":\"x\"}|2:{\"k\":\"y\"}", got,
	    "--format csv --columns k whatever the name");
	free(got);
	o = (struct csv_options){ 0 };
	reader_use_formats(&o);
	{
		static const char rows[] = "a,b\r\n1,\"x\r\ny\"\r\n2,x\"\n\n3,\r\n";

		got = read_fields(write_file("f.csv", rows, sizeof rows - 1, 0));
	}
	CHECK_STR("2:{\"a\":\"1\",\"b\":\"x\\r\\ny\"} 1,\"x\r\ny\"\r|"
	    "4:bad 2,x\"|6:{\"a\":\"3\",\"b\":null} 3,\r", got,
	    "reader_want_fields: a row's fields and its raw text, line numbers as before");
	free(got);
	got = read_fields(write_file("f.ndjson", "{\"a\":1}\n", 8, 0));
	CHECK_STR("1:{\"a\":1}", got, "reader_want_fields: NDJSON lines as they are");
	free(got);
}

int
main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_csv();
	test_options();
	test_tsv();
	test_every_boundary();
	test_writer();
	test_fields();
	test_reader();
	{
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
