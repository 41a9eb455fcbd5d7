/*
 * cell.h - converting a record's JSON values to a table's column types.
 *
 * The one place that decides what each column type accepts:
 *   integer    JSON integers, integral reals (5.0), strings of digits
 *   real       any JSON number, numeric strings
 *   numeric    any JSON number, numeric strings (kept as written: exact)
 *   boolean    true/false, 0/1, "true"/"false"
 *   text       strings; numbers and booleans as their JSON text
 *   date, time, timestamp[tz]: ISO-8601 strings (2026-03-14,
 *              09:26:53.5, 2026-03-14T09:26:53Z, …+02:00); fractions
 *              rounded to microseconds, offsets applied (UTC), 24:00
 *              the end of the day; an offset on a time without zone and
 *              Feb 29 of a common year refused
 *   json       any value, as compact JSON text
 *   bytes      "\x" and hex digits, or any other value's own bytes: the
 *              cell holds "\x" and hex (cell_bytes_decode)
 *   array      (PostgreSQL) a JSON array, nested ones as dimensions, each
 *              element converted for the element type; a string is
 *              taken as an array literal
 *   other      strings as they are, anything else as JSON text; the
 *              database converts
 * null is NULL for every column.  A value that does not convert is a data
 * error: 'column "amount": invalid value for type real: "abc"'.
 */
#ifndef ETL_CELL_H
#define ETL_CELL_H

#include "db.h"
#include "fields.h"

/* Text that must stay put until commit: blocks are never moved. */
struct cell_arena {
	struct cell_block *blocks;
};

const char *cell_arena_add(struct cell_arena *a, const char *p, size_t n);
void cell_arena_reset(struct cell_arena *a);   /* keeps one block for reuse */
void cell_arena_free(struct cell_arena *a);

/* Convert a record's VALUE (lib/fields.h) for COL into *OUT, its text
 * copied into ARENA; -1 with a reason in ERR when it does not convert. */
int cell_from_field(const struct db_column *col, const struct field *value,
    struct cell *out, struct cell_arena *arena, char *err, size_t errsize);

/* A bytes column's cell ("\x" and hex digits, as cell_from_field makes it)
 * decoded into INTO, which has room for c->len / 2 bytes: their count. */
size_t cell_bytes_decode(const struct cell *c, char *into);

/* ISO-8601 checks, for the conversion and the backends' own use. */
int cell_is_date(const char *s, size_t n);
int cell_is_time(const char *s, size_t n);        /* HH:MM[:SS[.f]][zone] */
int cell_is_timestamp(const char *s, size_t n);   /* date[T ]time, zone optional */

#endif
