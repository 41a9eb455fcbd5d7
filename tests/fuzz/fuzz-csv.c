/*
 * fuzz-csv - libFuzzer target for the CSV and TSV parser (lib/csv.c).
 *
 *	byte 0     mode: bit 0 TSV, bit 1 delimiter ';', bit 2 --null NA,
 *	           bit 3 --columns a,b,c (no header row)
 *	byte 1     how many bytes each read adds (0: the whole input at once)
 *	the rest   the file
 *
 * The rows are cut and parsed as the reader does, once with the whole input
 * and once arriving in pieces: both must give the same records and errors,
 * so no read size can change what a file means.  A row's fields
 * (csv_row_fields) make the same record, and so does its raw text read
 * again under its header (csv_header_record).  Every record must be a
 * JSON object jansson reads, and, in CSV, its values written back with
 * csv_write_field under the same header must read back to the same record.
 */
#define _GNU_SOURCE  /* memmem */
#include "buf.h"
#include "csv.h"
#include "line.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Records and errors of DATA[0..LEN) joined by LF, each read adding PIECE
 * bytes (0: all).  RECORDS gets the records' JSON, one per line. */
static void
run(enum csv_format format, const struct csv_options *o, const char *data,
    size_t len, size_t piece, struct buf *out)
{
	char err[256];
	struct csv *c = csv_new(format, o, err, sizeof err);
	struct csv *fields = csv_new(format, o, err, sizeof err);
	struct buf rec = BUF_INIT, again = BUF_INIT, kept = BUF_INIT;
	struct csv_scan scan;
	size_t start = 0, avail = 0;

	if (!c || !fields)
		abort();  /* the options below are all valid */
	csv_scan_reset(&scan);
	while (start < len) {
		size_t row_len;
		int ends;
		enum csv_row kind;

		avail = piece && avail + piece < len ? avail + piece : len;
		ends = csv_scan_row(c, &scan, data + start, avail - start, &row_len);
		if (!ends && avail < len)
			continue;
		if (!ends)
			row_len = len - start;
		rec.len = again.len = kept.len = 0;
		kind = csv_row(c, data + start, row_len, &rec, err, sizeof err);
		{
			struct csv_fields f;

			if (csv_row_fields(fields, data + start, row_len, &f, err,
			    sizeof err) != kind)
				abort();
			if (kind == CSV_ROW_RECORD) {
				csv_fields_json(&f, &again);
				if (csv_header_record(f.header, data + start, row_len, &kept) != 0 ||
				    again.len != rec.len || kept.len != rec.len ||
				    memcmp(again.data, rec.data, rec.len) != 0 ||
				    memcmp(kept.data, rec.data, rec.len) != 0)
					abort();
			}
		}
		if (kind == CSV_ROW_RECORD)
			buf_add(out, rec.data, rec.len);
		else if (kind != CSV_ROW_SKIP)
			buf_adds(out, err);
		buf_addc(out, '\n');
		if (kind == CSV_ROW_BAD_HEADER)
			break;
		start += ends ? row_len + 1 : row_len;
		if (avail < start)
			avail = start;
		csv_scan_reset(&scan);
	}
	csv_free(c);
	csv_free(fields);
	buf_free(&rec);
	buf_free(&again);
	buf_free(&kept);
}

/* RECORD (from a CSV run) written as a CSV file and read back. */
static void
check_written(const json_t *record, const struct csv_options *o)
{
	struct buf file = BUF_INIT, again = BUF_INIT;
	struct csv_options wo = *o;
	const char *key;
	json_t *v, *back;
	int first = 1;
	char delimiter = o->delimiter ? o->delimiter : ',';

	wo.header = NULL;
	if (json_object_size(record) == 0)
		return;
	json_object_foreach((json_t *)record, key, v) {
		if (!first)
			buf_addc(&file, delimiter);
		csv_write_field(&file, key, strlen(key), delimiter);
		first = 0;
	}
	buf_addc(&file, '\n');
	first = 1;
	json_object_foreach((json_t *)record, key, v) {
		if (!first)
			buf_addc(&file, delimiter);
		first = 0;
		if (json_is_string(v)) {
			const char *s = json_string_value(v);
			size_t n = json_string_length(v);

			/* "NA" unquoted would be null under --null NA */
			if (o->null && n == strlen(o->null) && memcmp(s, o->null, n) == 0)
				buf_addc(&file, '"'), buf_add(&file, s, n), buf_addc(&file, '"');
			else if (o->null && n == 0)
				buf_add(&file, "\"\"", 2);
			else
				csv_write_field(&file, s, n, delimiter);
		} else if (o->null) {
			buf_adds(&file, o->null);
		}
	}
	buf_addc(&file, '\n');
	run(CSV_CSV, &wo, file.data, file.len, 0, &again);
	back = json_loadb(again.data, again.len ? again.len - 1 : 0,
	    LINE_JSON_FLAGS, NULL);
	if (!back || !json_equal((json_t *)record, back)) {
		fprintf(stderr, "written: %.*s\nread back: %.*s\n", (int)file.len,
		    file.data, (int)again.len, again.data);
		abort();
	}
	json_decref(back);
	buf_free(&file);
	buf_free(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	struct csv_options o = { 0 };
	enum csv_format format;
	struct buf whole = BUF_INIT, pieces = BUF_INIT;
	const char *data, *p, *end;

	if (size < 2)
		return 0;
	format = input[0] & 1 ? CSV_TSV : CSV_CSV;
	if (input[0] & 2)
		o.delimiter = ';';
	if (input[0] & 4)
		o.null = "NA";
	if (input[0] & 8)
		o.header = "a,b,c";
	data = (const char *)input + 2;
	run(format, &o, data, size - 2, 0, &whole);
	run(format, &o, data, size - 2, input[1], &pieces);
	if (whole.len != pieces.len ||
	    (whole.len && memcmp(whole.data, pieces.data, whole.len))) {
		fprintf(stderr, "whole: %.*s\npieces of %d: %.*s\n", (int)whole.len,
		    whole.data, input[1], (int)pieces.len, pieces.data);
		abort();
	}
	buf_cstr(&whole);  /* never NULL */
	for (p = whole.data, end = p + whole.len; p < end;) {
		const char *nl = memchr(p, '\n', end - p);
		json_t *v;

		if (nl > p && *p == '{') {
			v = json_loadb(p, nl - p, LINE_JSON_FLAGS, NULL);
			/* jansson takes no NUL in a key (JSON does) */
			if (!v && memmem(p, nl - p, "\\u0000", 6)) {
				p = nl + 1;
				continue;
			}
			if (!v || !json_is_object(v))
				abort();
			if (format == CSV_CSV)
				check_written(v, &o);
			json_decref(v);
		}
		p = nl + 1;
	}
	buf_free(&whole);
	buf_free(&pieces);
	return 0;
}
