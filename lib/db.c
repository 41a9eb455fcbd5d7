/* db.c - choosing a backend, and what all backends share (see db.h). */
#include "db.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>

const struct db_backend *
db_backend_for(const struct dburl *url)
{
	switch (url->scheme) {
	case DBURL_POSTGRES: return &db_postgres;
	case DBURL_MYSQL: return &db_mysql;
	case DBURL_SQLITE: return &db_sqlite;
	}
	return NULL;
}

void
db_table_free(struct db_table *t)
{
	for (int i = 0; i < t->ncolumns; i++) {
		free(t->columns[i].name);
		free(t->columns[i].type_name);
	}
	free(t->columns);
	free(t->schema);
	free(t->name);
	t->columns = NULL;
	t->schema = t->name = NULL;
	t->ncolumns = 0;
}

int
db_rows_same_columns(const struct db_rows *rows, size_t a, size_t b)
{
	int n = rows->table->ncolumns;
	const struct cell *ra = rows->cells + a * n, *rb = rows->cells + b * n;

	for (int c = 0; c < n; c++)
		if ((ra[c].kind == CELL_ABSENT) != (rb[c].kind == CELL_ABSENT))
			return 0;
	return 1;
}

size_t
db_rows_run_end(const struct db_rows *rows, size_t first)
{
	size_t end = first + 1;

	while (end < rows->nrows && db_rows_same_columns(rows, first, end))
		end++;
	return end;
}

int
db_rows_is_key(const struct db_rows *rows, int c)
{
	for (int k = 0; k < rows->nkeys; k++)
		if (rows->key_columns[k] == c)
			return 1;
	return 0;
}

int
db_table_add_column(struct db_table *t, const char *name, const char *type_name,
    enum db_type type)
{
	struct db_column *cols = realloc(t->columns, (t->ncolumns + 1) * sizeof *cols);
	struct db_column *c;

	if (!cols)
		return -1;
	t->columns = cols;
	c = &cols[t->ncolumns];
	c->name = strdup(name);
	c->type_name = strdup(type_name);
	c->type = type;
	c->element_type = DB_TYPE_OTHER;
	c->has_default = 0;
	c->not_null = 0;
	if (!c->name || !c->type_name)
		return -1;
	t->ncolumns++;
	return 0;
}

void
db_add_escaped(struct buf *b, const char *p, size_t n, int nul_too)
{
	const char *end = p + n;

	buf_reserve(b, n + 16);
	while (p < end) {
		const char *run = p;

		while (p < end && *p != '\\' && *p != '\t' && *p != '\n' &&
		    *p != '\r' && (*p != '\0' || !nul_too))
			p++;
		buf_add(b, run, p - run);
		if (p == end)
			break;
		switch (*p++) {
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		default: buf_add(b, "\\0", 2); break;
		}
	}
}
