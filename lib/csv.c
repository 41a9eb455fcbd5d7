/*
 * csv.c - CSV and TSV rows as records (see csv.h).
 *
 * Reading a row happens in two passes over the same bytes.  The scan finds
 * where the row ends (a LF outside quotes) while its bytes are still
 * arriving, keeping its state between reads so that a row split across any
 * buffer boundary is scanned once.  The split then takes the complete row
 * apart into fields, undoing the quoting or escapes, and is where every
 * error is found: the scan only has to agree with it on where rows end,
 * which it does because a quote opens a quoted field only at a field's
 * start in both.
 */
#include "csv.h"
#include "jsonout.h"
#include "utf8.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Never changed once made, so that another thread may read rows with it. */
struct csv_header {
	struct csv_header *next; /* the parser's list: freed with the parser */
	enum csv_format format;  /* how its rows are read */
	char delimiter;
	char *null;
	size_t ncols;
	struct buf keys;         /* each column's "name": (",name": after the first) */
	size_t *key_end;         /* ncols offsets into keys */
	struct buf names;        /* each name decoded, a NUL after it */
	size_t *name_start;      /* ncols + 1 offsets into names */
	unsigned long serial;    /* no other header of the process has it */
};

struct csv {
	enum csv_format format;
	char delimiter;
	const char *null;        /* the null string, or NULL: the format's own */
	size_t null_len;

	int names_given;         /* --columns or --replace-header */
	int file_has_header;     /* the first row of each file is a header */
	int need_header;         /* this file's header row is still to come */
	struct csv_header *header;   /* the current one: the head of the list */

	struct buf cells;        /* the current row's fields, unquoted */
	struct csv_value *fields;    /* pointing into cells */
	size_t nfields, capfields;
};

enum { SCAN_START, SCAN_UNQUOTED, SCAN_QUOTED, SCAN_QUOTE_SEEN };

enum csv_format
csv_format_for_name(const char *path)
{
	size_t n = strlen(path);

	if (n > 3 && strcasecmp(path + n - 3, ".gz") == 0)
		n -= 3;
	if (n > 4 && strncasecmp(path + n - 4, ".csv", 4) == 0)
		return CSV_CSV;
	if (n > 4 && strncasecmp(path + n - 4, ".tsv", 4) == 0)
		return CSV_TSV;
	return CSV_NDJSON;
}

int
csv_format_parse(const char *name, enum csv_format *format)
{
	if (strcmp(name, "csv") == 0)
		*format = CSV_CSV;
	else if (strcmp(name, "tsv") == 0)
		*format = CSV_TSV;
	else if (strcmp(name, "ndjson") == 0 || strcmp(name, "json") == 0)
		*format = CSV_NDJSON;
	else
		return -1;
	return 0;
}

/* ---- finding where a row ends -------------------------------------------- */

int
csv_scan_row(const struct csv *c, struct csv_scan *s, const char *data,
    size_t len, size_t *row_len)
{
	const char delim = c->delimiter;
	int state = s->state;
	size_t i;

	if (c->format == CSV_TSV) {
		const char *nl = memchr(data + s->at, '\n', len - s->at);

		s->at = nl ? (size_t)(nl - data) : len;
		*row_len = s->at;
		return nl != NULL;
	}
	for (i = s->at; i < len; i++) {
		char ch = data[i];

		switch (state) {
		case SCAN_QUOTED:
			if (ch == '"')
				state = SCAN_QUOTE_SEEN;
			else if (ch == '\n')
				s->newlines++;
			continue;
		case SCAN_QUOTE_SEEN:
			if (ch == '"') {
				state = SCAN_QUOTED;
				continue;
			}
			/* FALLTHROUGH */
		case SCAN_UNQUOTED:
			if (ch == delim)
				state = SCAN_START;
			else if (ch == '\n')
				goto row_end;
			else
				state = SCAN_UNQUOTED;
			continue;
		case SCAN_START:
			if (ch == '"')
				state = SCAN_QUOTED;
			else if (ch == '\n')
				goto row_end;
			else if (ch != delim)
				state = SCAN_UNQUOTED;
			continue;
		}
	}
	s->at = len;
	s->state = state;
	return 0;
row_end:
	s->at = i;
	s->state = SCAN_START;
	*row_len = i;
	return 1;
}

/* ---- taking a row apart --------------------------------------------------- */

/* The field at OFF in cells ends at its end.  Cells has room for the whole
 * row (split_row), so it never moves while a row is split. */
static void
push_field(struct csv *c, size_t off, int is_null)
{
	if (c->nfields == c->capfields) {
		c->capfields = c->capfields ? c->capfields * 2 : 16;
		c->fields = realloc(c->fields, c->capfields * sizeof *c->fields);
		if (!c->fields) {
			fprintf(stderr, "out of memory\n");
			abort();
		}
	}
	c->fields[c->nfields++] = (struct csv_value){ c->cells.data + off,
	    c->cells.len - off, is_null };
}

static int
is_null_string(const struct csv *c, const char *p, size_t len)
{
	return len == c->null_len && memcmp(p, c->null, len) == 0;
}

/* One CSV field at ROW[*at..LEN) into cells; its end in *at.  Returns 0,
 * or -1 with the reason in ERR. */
static int
split_csv_field(struct csv *c, const char *row, size_t len, size_t *at,
    char *err, size_t errsize)
{
	size_t i = *at, off = c->cells.len;
	int is_null;

	if (i < len && row[i] == '"') {
		for (i++;;) {
			const char *q = memchr(row + i, '"', len - i);

			if (!q) {
				snprintf(err, errsize, "field %zu: a quote still open at"
				    " the end of the file", c->nfields + 1);
				return -1;
			}
			buf_add(&c->cells, row + i, q - (row + i));
			i = q - row + 1;
			if (i < len && row[i] == '"') {
				buf_addc(&c->cells, '"');
				i++;
				continue;
			}
			break;
		}
		if (i < len && row[i] != c->delimiter &&
		    !(row[i] == '\r' && i + 1 == len)) {
			snprintf(err, errsize, "field %zu: text after the closing"
			    " quote", c->nfields + 1);
			return -1;
		}
		if (i < len && row[i] == '\r')
			i++;  /* the CR of a CRLF */
		is_null = 0;
	} else {
		size_t start = i;

		for (; i < len && row[i] != c->delimiter; i++) {
			if (row[i] == '"') {
				snprintf(err, errsize, "field %zu: a quote inside an"
				    " unquoted field (quote the whole field, and"
				    " double the quote)", c->nfields + 1);
				return -1;
			}
			if (row[i] == '\r' && i + 1 < len) {
				snprintf(err, errsize, "field %zu: a carriage return"
				    " outside quotes", c->nfields + 1);
				return -1;
			}
		}
		if (i > start && row[i - 1] == '\r' && i == len)
			i--;  /* the CR of a CRLF */
		buf_add(&c->cells, row + start, i - start);
		is_null = c->null ? is_null_string(c, row + start, i - start)
		    : i == start;
		if (i < len && row[i] == '\r')
			i++;
	}
	push_field(c, off, is_null);
	*at = i;
	return 0;
}

/* The byte that BYTE after a backslash stands for in TSV. */
static char
tsv_unescape(char byte)
{
	switch (byte) {
	case '0': return '\0';
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'v': return '\v';
	case 'Z': return '\032';
	default: return byte;  /* \\ and a backslash before anything else */
	}
}

static int
split_tsv_field(struct csv *c, const char *row, size_t len, size_t *at,
    char *err, size_t errsize)
{
	size_t i = *at, start = i, off = c->cells.len;
	int is_null;

	for (; i < len && row[i] != c->delimiter; i++) {
		const char *stop;

		if (row[i] == '\r' && i + 1 == len)
			break;  /* the CR of a CRLF */
		if (row[i] != '\\') {
			stop = row + i;
			while (stop < row + len && *stop != '\\' &&
			    *stop != c->delimiter && *stop != '\r')
				stop++;
			if (stop == row + i)
				stop++;
			buf_add(&c->cells, row + i, stop - (row + i));
			i = stop - row - 1;
			continue;
		}
		if (i + 1 == len || (row[i + 1] == '\r' && i + 2 == len)) {
			snprintf(err, errsize, "field %zu: a backslash at the end"
			    " of the line", c->nfields + 1);
			return -1;
		}
		buf_addc(&c->cells, tsv_unescape(row[++i]));
	}
	is_null = c->null ? is_null_string(c, row + start, i - start)
	    : i - start == 2 && row[start] == '\\' && row[start + 1] == 'N';
	push_field(c, off, is_null);
	if (i < len && row[i] == '\r')
		i++;
	*at = i;
	return 0;
}

/* ROW[0..LEN) into fields.  Returns 0, or -1 with the reason in ERR. */
static int
split_row(struct csv *c, const char *row, size_t len, char *err, size_t errsize)
{
	size_t at = 0;

	c->cells.len = 0;
	c->nfields = 0;
	buf_reserve(&c->cells, len + 1);  /* never NULL, and room for all */
	for (;;) {
		int rc = c->format == CSV_TSV
		    ? split_tsv_field(c, row, len, &at, err, errsize)
		    : split_csv_field(c, row, len, &at, err, errsize);
		const struct csv_value *f;

		if (rc != 0)
			return -1;
		f = &c->fields[c->nfields - 1];
		if (!utf8_valid(f->text, f->len)) {
			snprintf(err, errsize, "field %zu: invalid UTF-8",
			    c->nfields);
			return -1;
		}
		if (at >= len)
			return 0;
		at++;  /* the delimiter: a field follows, empty if nothing does */
	}
}

/* ---- the header ------------------------------------------------------------ */

static void *
must(void *p)
{
	if (!p) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return p;
}

static void
header_free(struct csv_header *h)
{
	buf_free(&h->keys);
	buf_free(&h->names);
	free(h->key_end);
	free(h->name_start);
	free(h->null);
	free(h);
}

/*
 * The fields of SRC just split as column names, for rows read by C: a
 * header, or NULL with the reason in ERR naming the column.
 */
static struct csv_header *
take_names(const struct csv *c, const struct csv *src, char *err,
    size_t errsize)
{
	static atomic_ulong serials;
	struct csv_header *h = must(calloc(1, sizeof *h));

	h->serial = atomic_fetch_add(&serials, 1) + 1;
	h->format = c->format;
	h->delimiter = c->delimiter;
	h->null = c->null ? must(strdup(c->null)) : NULL;
	h->key_end = must(malloc((src->nfields + 1) * sizeof *h->key_end));
	h->name_start = must(malloc((src->nfields + 1) * sizeof *h->name_start));
	for (size_t i = 0; i < src->nfields; i++) {
		const struct csv_value *f = &src->fields[i];

		if (f->len == 0) {
			snprintf(err, errsize, "column %zu: an empty name in the"
			    " header", i + 1);
			header_free(h);
			return NULL;
		}
		for (size_t j = 0; j < i; j++)
			if (src->fields[j].len == f->len &&
			    memcmp(src->fields[j].text, f->text, f->len) == 0) {
				snprintf(err, errsize, "column %zu: the name \"%.*s\""
				    " is column %zu's too", i + 1,
				    f->len > 64 ? 64 : (int)f->len, f->text, j + 1);
				header_free(h);
				return NULL;
			}
		if (i > 0)
			buf_addc(&h->keys, ',');
		jsonout_string(&h->keys, f->text, f->len);
		buf_addc(&h->keys, ':');
		h->key_end[i] = h->keys.len;
		h->name_start[i] = h->names.len;
		buf_add(&h->names, f->text, f->len);
		buf_addc(&h->names, '\0');
	}
	h->name_start[src->nfields] = h->names.len;
	h->ncols = src->nfields;
	return h;
}

/* H becomes C's current header, unless it names what the current one
 * does: a run of files with the same header shares one (only the current
 * one is compared, so that many files cost no search). */
static void
use_header(struct csv *c, struct csv_header *h)
{
	const struct csv_header *now = c->header;

	if (now && now->keys.len == h->keys.len &&
	    memcmp(now->keys.data, h->keys.data, h->keys.len) == 0) {
		header_free(h);
		return;
	}
	h->next = c->header;
	c->header = h;
}

unsigned long
csv_header_serial(const struct csv_header *h)
{
	return h->serial;
}

size_t
csv_header_columns(const struct csv_header *h)
{
	return h->ncols;
}

const char *
csv_header_name(const struct csv_header *h, size_t i, size_t *len)
{
	*len = h->name_start[i + 1] - h->name_start[i] - 1;
	return h->names.data + h->name_start[i];
}

struct csv *
csv_new(enum csv_format format, const struct csv_options *o, char *err,
    size_t errsize)
{
	struct csv *c = calloc(1, sizeof *c);
	const char *names = o->header ? o->header : o->replace_header;

	if (!c) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	c->format = format;
	c->delimiter = o->delimiter ? o->delimiter
	    : format == CSV_TSV ? '\t' : ',';
	c->null = o->null;
	c->null_len = o->null ? strlen(o->null) : 0;
	c->file_has_header = !o->header;
	if (c->delimiter == '"' || c->delimiter == '\r' || c->delimiter == '\n' ||
	    (format == CSV_TSV && c->delimiter == '\\')) {
		snprintf(err, errsize, "'%c' cannot be a delimiter",
		    c->delimiter == '"' || c->delimiter == '\\' ? c->delimiter : '?');
		csv_free(c);
		return NULL;
	}
	if (names) {
		/* The names are a CSV row of their own, whatever the format. */
		struct csv *list = csv_new(CSV_CSV, &(struct csv_options){ 0 },
		    err, errsize);

		struct csv_header *h = NULL;

		if (split_row(list, names, strlen(names), err, errsize) != 0 ||
		    !(h = take_names(c, list, err, errsize))) {
			csv_free(list);
			csv_free(c);
			return NULL;
		}
		csv_free(list);
		c->names_given = 1;
		use_header(c, h);
	}
	csv_file_start(c);
	return c;
}

void
csv_free(struct csv *c)
{
	if (!c)
		return;
	while (c->header) {
		struct csv_header *next = c->header->next;

		header_free(c->header);
		c->header = next;
	}
	buf_free(&c->cells);
	free(c->fields);
	free(c);
}

void
csv_file_start(struct csv *c)
{
	c->need_header = c->file_has_header;
}

/* ---- rows into records ----------------------------------------------------- */

static int
is_blank_row(const char *row, size_t len)
{
	return len == 0 || (len == 1 && row[0] == '\r');
}

static enum csv_row
take_header(struct csv *c, char *err, size_t errsize)
{
	struct csv_header *h;

	c->need_header = 0;
	if (c->names_given) {
		if (c->nfields != c->header->ncols) {
			snprintf(err, errsize, "the header has %zu columns and"
			    " --replace-header names %zu", c->nfields,
			    c->header->ncols);
			return CSV_ROW_BAD_HEADER;
		}
		return CSV_ROW_SKIP;
	}
	if (!(h = take_names(c, c, err, errsize)))
		return CSV_ROW_BAD_HEADER;
	use_header(c, h);
	return CSV_ROW_SKIP;
}

/* The fields just split, checked against the header, into *OUT. */
static enum csv_row
fields_of_row(const struct csv *c, struct csv_fields *out, char *err,
    size_t errsize)
{
	if (c->nfields != c->header->ncols) {
		snprintf(err, errsize, "%zu field%s where the header has %zu",
		    c->nfields, c->nfields == 1 ? "" : "s", c->header->ncols);
		return CSV_ROW_BAD;
	}
	out->header = c->header;
	out->values = c->fields;
	return CSV_ROW_RECORD;
}

enum csv_row
csv_row_fields(struct csv *c, const char *row, size_t len,
    struct csv_fields *out, char *err, size_t errsize)
{
	if (is_blank_row(row, len))
		return CSV_ROW_SKIP;
	if (split_row(c, row, len, err, errsize) != 0)
		return c->need_header ? CSV_ROW_BAD_HEADER : CSV_ROW_BAD;
	if (c->need_header)
		return take_header(c, err, errsize);
	return fields_of_row(c, out, err, errsize);
}

void
csv_fields_json(const struct csv_fields *f, struct buf *json)
{
	const struct csv_header *h = f->header;
	size_t key_start = 0, text = 0;

	for (size_t i = 0; i < h->ncols; i++)
		text += f->values[i].len;
	buf_reserve(json, h->keys.len + text + 8 * h->ncols + 2);
	buf_addc(json, '{');
	for (size_t i = 0; i < h->ncols; i++) {
		const struct csv_value *v = &f->values[i];

		buf_add(json, h->keys.data + key_start, h->key_end[i] - key_start);
		key_start = h->key_end[i];
		if (v->is_null)
			buf_add(json, "null", 4);
		else
			jsonout_string(json, v->text, v->len);
	}
	buf_addc(json, '}');
}

enum csv_row
csv_row(struct csv *c, const char *row, size_t len, struct buf *json,
    char *err, size_t errsize)
{
	struct csv_fields f;
	enum csv_row kind = csv_row_fields(c, row, len, &f, err, errsize);

	if (kind == CSV_ROW_RECORD)
		csv_fields_json(&f, json);
	return kind;
}

int
csv_header_record(const struct csv_header *h, const char *row, size_t len,
    struct buf *json)
{
	/* A parser of its own: the one that read the row may be reading on. */
	struct csv c = {
		.format = h->format, .delimiter = h->delimiter, .null = h->null,
		.null_len = h->null ? strlen(h->null) : 0,
		.header = (struct csv_header *)h,
	};
	struct csv_fields f;
	char err[256];
	int rc = -1;

	if (!is_blank_row(row, len) && split_row(&c, row, len, err, sizeof err) == 0 &&
	    fields_of_row(&c, &f, err, sizeof err) == CSV_ROW_RECORD) {
		csv_fields_json(&f, json);
		rc = 0;
	}
	buf_free(&c.cells);
	free(c.fields);
	return rc;
}

/* ---- writing ----------------------------------------------------------------- */

void
csv_write_field(struct buf *out, const char *s, size_t len, char delimiter)
{
	int quote = len == 0;

	for (size_t i = 0; i < len && !quote; i++)
		quote = s[i] == delimiter || s[i] == '"' || s[i] == '\r' ||
		    s[i] == '\n';
	if (!quote) {
		buf_add(out, s, len);
		return;
	}
	buf_addc(out, '"');
	for (const char *p = s, *end = s + len; p < end;) {
		const char *q = memchr(p, '"', end - p);

		if (!q) {
			buf_add(out, p, end - p);
			break;
		}
		buf_add(out, p, q + 1 - p);
		buf_addc(out, '"');
		p = q + 1;
	}
	buf_addc(out, '"');
}

struct csv_writer {
	char delimiter;
	char **names;            /* the header, from the first record */
	size_t n;
	json_t **values;         /* the current record's, by column */
};

struct csv_writer *
csv_writer_new(char delimiter)
{
	struct csv_writer *w = calloc(1, sizeof *w);

	if (!w) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	w->delimiter = delimiter ? delimiter : ',';
	return w;
}

void
csv_writer_free(struct csv_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->names[i]);
	free(w->names);
	free(w->values);
	free(w);
}

static void
writer_header(struct csv_writer *w, const json_t *record, struct buf *out)
{
	const char *key;
	json_t *v;
	size_t i = 0;

	w->n = json_object_size(record);
	w->names = calloc(w->n + 1, sizeof *w->names);
	w->values = calloc(w->n + 1, sizeof *w->values);
	if (!w->names || !w->values) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	json_object_foreach((json_t *)record, key, v) {
		if (!(w->names[i] = strdup(key))) {
			fprintf(stderr, "out of memory\n");
			abort();
		}
		if (i > 0)
			buf_addc(out, w->delimiter);
		csv_write_field(out, key, strlen(key), w->delimiter);
		i++;
	}
	buf_adds(out, "\r\n");
}

int
csv_writer_record(struct csv_writer *w, const json_t *record,
    struct buf *out, char *err, size_t errsize)
{
	const char *key;
	json_t *v;
	struct buf text = BUF_INIT;

	if (!json_is_object(record)) {
		snprintf(err, errsize, "not a JSON object");
		return -1;
	}
	if (!w->names)
		writer_header(w, record, out);
	memset(w->values, 0, w->n * sizeof *w->values);
	json_object_foreach((json_t *)record, key, v) {
		size_t i = 0;

		while (i < w->n && strcmp(w->names[i], key) != 0)
			i++;
		if (i == w->n) {
			snprintf(err, errsize, "key \"%.64s\" is not a column of"
			    " the header (the first record's keys)", key);
			return -1;
		}
		w->values[i] = v;
	}
	for (size_t i = 0; i < w->n; i++) {
		json_t *value = w->values[i];

		if (i > 0)
			buf_addc(out, w->delimiter);
		if (!value || json_is_null(value))
			continue;  /* null: an unquoted empty field */
		if (json_is_string(value)) {
			csv_write_field(out, json_string_value(value),
			    json_string_length(value), w->delimiter);
			continue;
		}
		text.len = 0;
		jsonout_value(&text, value);
		csv_write_field(out, text.data, text.len, w->delimiter);
	}
	buf_adds(out, "\r\n");
	buf_free(&text);
	return 0;
}
