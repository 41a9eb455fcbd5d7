/*
 * tablerow.c - records and CSV rows into a table's cells (see tablerow.h).
 *
 * Keys mostly come in the table's order, so the column after the last one
 * found is tried before the index by name.  A CSV header's columns are
 * looked up once and kept, for as long as the header and the table stay
 * the same (a header lives as long as its reader; rows under another file's
 * header look it up again).
 */
#include "tablerow.h"
#include "buf.h"
#include "fields.h"

#include <stdlib.h>
#include <string.h>

struct tablerow {
	const struct db_table *table;
	int ignore_unknown;
	json_t *index;                   /* column name -> index */
	struct fields *fields;           /* reads records */

	unsigned long header;            /* the serial of the header map is
	                                    for (csv_header_serial), 0: none */
	int *map;                        /* its columns' indexes, -1: none */
	size_t map_cap;

	/* the record being read */
	struct cell *cells;
	struct cell_arena *arena;
	int next;                        /* the column the next key most likely names */
	char *err;
	size_t errsize;
	struct buf unknown;              /* a key that is no column */
	json_type unknown_type;          /* and its value's type */
};

struct tablerow *
tablerow_new(void)
{
	struct tablerow *t = calloc(1, sizeof *t);

	if (!t || !(t->fields = fields_new()) || !(t->index = json_object())) {
		tablerow_free(t);
		return NULL;
	}
	return t;
}

void
tablerow_free(struct tablerow *t)
{
	if (!t)
		return;
	json_decref(t->index);
	fields_free(t->fields);
	free(t->map);
	buf_free(&t->unknown);
	free(t);
}

void
tablerow_use_table(struct tablerow *t, const struct db_table *table,
    int ignore_unknown)
{
	t->table = table;
	t->ignore_unknown = ignore_unknown;
	t->header = 0;
	json_object_clear(t->index);
	for (int i = 0; i < table->ncolumns; i++)
		json_object_set_new(t->index, table->columns[i].name, json_integer(i));
}

/* The column NAME[0..LEN) names, trying HINT first; or -1. */
static int
column_near(const struct tablerow *t, const char *name, size_t len, int hint)
{
	const struct db_table *table = t->table;
	json_t *i;

	/* strnlen first: a name may hold a NUL, and may be longer than the
	 * column's. */
	if (hint < table->ncolumns && strnlen(table->columns[hint].name, len + 1) == len &&
	    memcmp(table->columns[hint].name, name, len) == 0)
		return hint;
	i = json_object_getn(t->index, name, len);
	return i ? (int)json_integer_value(i) : -1;
}

int
tablerow_column(const struct tablerow *t, const char *name, size_t len)
{
	return column_near(t, name, len, t->table->ncolumns);
}

static json_type
field_type(const struct field *v)
{
	switch (v->kind) {
	case FIELD_NULL: return JSON_NULL;
	case FIELD_FALSE: return JSON_FALSE;
	case FIELD_TRUE: return JSON_TRUE;
	case FIELD_NUMBER: return v->integer ? JSON_INTEGER : JSON_REAL;
	case FIELD_OBJECT: return JSON_OBJECT;
	case FIELD_ARRAY: return JSON_ARRAY;
	default: return JSON_STRING;
	}
}

/* KEY's value V into its column's cell; a tablerow_status. */
static int
take_value(struct tablerow *t, int c, const char *key, size_t len,
    const struct field *v)
{
	if (c < 0) {
		if (t->ignore_unknown)
			return TABLEROW_OK;
		t->unknown.len = 0;
		buf_add(&t->unknown, key, len);
		buf_addc(&t->unknown, '\0');
		t->unknown_type = field_type(v);
		return TABLEROW_UNKNOWN_KEY;
	}
	if (cell_from_field(&t->table->columns[c], v, &t->cells[c], t->arena,
	    t->err, t->errsize) != 0)
		return TABLEROW_BAD_VALUE;
	return TABLEROW_OK;
}

static int
read_field(void *arg, const char *key, size_t len, const struct field *v)
{
	struct tablerow *t = arg;
	int c = column_near(t, key, len, t->next);

	if (c >= 0)
		t->next = c + 1;
	return take_value(t, c, key, len, v);
}

static void
start_row(struct tablerow *t, struct cell *cells, struct cell_arena *arena,
    char *err, size_t errsize)
{
	t->cells = cells;
	t->arena = arena;
	t->next = 0;
	t->err = err;
	t->errsize = errsize;
	for (int c = 0; c < t->table->ncolumns; c++)
		cells[c].kind = CELL_ABSENT;
}

enum tablerow_status
tablerow_record(struct tablerow *t, const char *text, size_t len,
    struct cell *cells, struct cell_arena *arena, char *err, size_t errsize)
{
	int rc;

	start_row(t, cells, arena, err, errsize);
	rc = fields_read(t->fields, text, len, read_field, t, err, errsize);
	return rc < 0 ? TABLEROW_INVALID : (enum tablerow_status)rc;
}

/* The columns of header H, looked up once. */
static void
map_header(struct tablerow *t, const struct csv_header *h)
{
	size_t n = csv_header_columns(h);

	if (n > t->map_cap) {
		free(t->map);
		if (!(t->map = malloc(n * sizeof *t->map))) {
			t->map_cap = 0;
			t->header = 0;
			return;
		}
		t->map_cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *name = csv_header_name(h, i, &len);

		t->map[i] = tablerow_column(t, name, len);
	}
	t->header = csv_header_serial(h);
}

enum tablerow_status
tablerow_csv(struct tablerow *t, const struct csv_fields *f, struct cell *cells,
    struct cell_arena *arena, char *err, size_t errsize)
{
	size_t n = csv_header_columns(f->header);

	if (t->header != csv_header_serial(f->header))
		map_header(t, f->header);
	if (!t->header) {
		snprintf(err, errsize, "out of memory");
		return TABLEROW_BAD_VALUE;
	}
	start_row(t, cells, arena, err, errsize);
	for (size_t i = 0; i < n; i++) {
		const struct csv_value *v = &f->values[i];
		struct field value = { v->is_null ? FIELD_NULL : FIELD_STRING,
		    v->is_null ? "null" : v->text, v->is_null ? 4 : v->len, 0 };
		size_t len;
		const char *name = csv_header_name(f->header, i, &len);
		int rc = take_value(t, t->map[i], name, len, &value);

		if (rc != TABLEROW_OK)
			return rc;
	}
	return TABLEROW_OK;
}

const char *
tablerow_unknown(const struct tablerow *t, json_type *type)
{
	*type = t->unknown_type;
	return t->unknown.data;
}
