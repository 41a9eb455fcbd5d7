/* fuzz-cell - libFuzzer target for a record's fields and their conversion
 * to columns: the first byte picks the column type, the rest is a record
 * read by lib/fields.c.  Every field either converts to a cell of a kind
 * that type allows or is refused with a message naming the column; a
 * record jansson reads as an object is read by fields_read too, and one
 * fields_read refuses is refused by jansson too.  The known differences:
 * numbers out of a double's or an integer's range, an escaped NUL in a key
 * and nesting deeper than 2048 (jansson refuses, fields_read keeps them as
 * text), and a NUL byte after a number (jansson takes it, JSON does not). */
#include "cell.h"
#include "fields.h"
#include "line.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct context {
	struct db_column col;
	struct cell_arena arena;
	size_t nfields;
};

static int
convert(void *arg, const char *key, size_t keylen, const struct field *v)
{
	struct context *c = arg;
	struct cell cell;
	char err[512] = "";

	(void)key;
	(void)keylen;
	c->nfields++;
	if (v->kind > FIELD_ARRAY || (v->len > 0 && !v->text))
		abort();
	if (cell_from_field(&c->col, v, &cell, &c->arena, err, sizeof err) == 0) {
		if (cell.kind == CELL_ABSENT)
			abort();
		if ((cell.kind == CELL_TEXT || cell.kind == CELL_JSON ||
		    cell.kind == CELL_REAL) && cell.len > 0 && !cell.text)
			abort();
		if (c->col.type == DB_TYPE_INTEGER && cell.kind != CELL_INT &&
		    cell.kind != CELL_NULL)
			abort();
		/* an array's literal is in braces, unless it came as a string */
		if (c->col.type == DB_TYPE_ARRAY && v->kind == FIELD_ARRAY &&
		    (cell.kind != CELL_TEXT || cell.len < 2 || cell.text[0] != '{' ||
		    cell.text[cell.len - 1] != '}'))
			abort();
	} else if (strncmp(err, "column \"c\": ", 12) != 0) {
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fields *f;
	struct context c = { { .name = "c", .type_name = "t" }, { 0 }, 0 };
	const char *text = (const char *)data + 1;
	char err[512] = "";
	json_error_t e;
	json_t *v;
	int rc;

	if (size == 0)
		return 0;
	if (!f)
		f = fields_new();
	c.col.type = (enum db_type)(data[0] % (DB_TYPE_OTHER + 1));
	/* an array's elements: any type but arrays, which are dimensions */
	c.col.element_type = (enum db_type)(data[0] / (DB_TYPE_OTHER + 1) % DB_TYPE_ARRAY);
	rc = fields_read(f, text, size - 1, convert, &c, err, sizeof err);
	if (rc != 0 && (rc != -1 || strncmp(err, "invalid JSON: ", 14) != 0) &&
	    strcmp(err, "not a JSON object") != 0 &&
	    strcmp(err, "more than one JSON value on the line") != 0)
		abort();
	v = json_loadb(text, size - 1, LINE_JSON_FLAGS, &e);
	if (v && json_is_object(v) && rc != 0 && !strstr(err, "control byte"))
		abort();  /* jansson reads it, fields_read must too */
	if (!v && rc == 0 && !strstr(e.text, "too big") &&
	    !strstr(e.text, "overflow") && !strstr(e.text, "NUL byte in object key") &&
	    !strstr(e.text, "maximum parsing depth"))
		abort();  /* fields_read reads what jansson refuses */
	json_decref(v);
	cell_arena_free(&c.arena);
	return 0;
}
