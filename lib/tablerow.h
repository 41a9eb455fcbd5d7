/*
 * tablerow.h - a record, or a CSV row, as the cells of a table's row.
 *
 * etl-load-sql's one way from its input to the cells a backend loads: each
 * key finds its column by name and its value is converted for the
 * column's type by lib/cell.c.  A record comes as JSON text and is read
 * with lib/fields.c.  A CSV or TSV row comes as its fields (lib/csv.h) and
 * goes to the cells without any JSON text between: its header's names are
 * matched to the columns once per header, and each field is passed to the
 * conversion as the string (or null) the record would hold.  So both give
 * the same cells, and the same errors in the same order, for the same
 * record; only the work of writing and reading JSON is saved.
 */
#ifndef ETL_TABLEROW_H
#define ETL_TABLEROW_H

#include "cell.h"
#include "csv.h"
#include "db.h"

#include <jansson.h>
#include <stddef.h>

struct tablerow;

struct tablerow *tablerow_new(void);
void tablerow_free(struct tablerow *t);

/* Fill rows of TABLE from now on (and again after the table changed);
 * with IGNORE_UNKNOWN a key that is no column is dropped.  TABLE must
 * stay as it is until the next call. */
void tablerow_use_table(struct tablerow *t, const struct db_table *table,
    int ignore_unknown);

/* The index of the column NAME[0..LEN) names, or -1. */
int tablerow_column(const struct tablerow *t, const char *name, size_t len);

enum tablerow_status {
	TABLEROW_OK = 0,
	TABLEROW_INVALID,        /* not one valid JSON object (ERR says why) */
	TABLEROW_UNKNOWN_KEY,    /* a key that is no column: tablerow_unknown */
	TABLEROW_BAD_VALUE,      /* a value that does not convert (ERR says why) */
};

/*
 * The record TEXT[0..LEN), or the CSV row F, into CELLS (one per column
 * of the table, each CELL_ABSENT unless the record has its key), their
 * text copied into ARENA.  On a failure the cells are partly filled.
 */
enum tablerow_status tablerow_record(struct tablerow *t, const char *text,
    size_t len, struct cell *cells, struct cell_arena *arena, char *err,
    size_t errsize);
enum tablerow_status tablerow_csv(struct tablerow *t, const struct csv_fields *f,
    struct cell *cells, struct cell_arena *arena, char *err, size_t errsize);

/* After TABLEROW_UNKNOWN_KEY: the key (NUL-terminated) and its value's
 * JSON type (JSON_NULL for null), valid until the next row. */
const char *tablerow_unknown(const struct tablerow *t, json_type *type);

#endif
