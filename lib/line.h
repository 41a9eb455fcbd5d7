/*
 * line.h - what a line of the stream is: record, batch or control line.
 *
 * A record is a JSON object, a batch a JSON array of records, a control line
 * an object whose only key is "$etl".  Anything else is a data error.
 * line_kind_fast() looks at the first byte only, for programs that pass
 * records through without parsing them; line_parse() parses into jansson
 * values (lib/jsontree.c, or json_loadb for whatever that declines).
 */
#ifndef ETL_LINE_H
#define ETL_LINE_H

#include <jansson.h>
#include <stddef.h>

enum line_kind {
	LINE_RECORD,
	LINE_BATCH,
	LINE_CONTROL,
	LINE_INVALID,   /* not an object or array (by its first byte), or bad JSON */
};

/* Classify by the first non-blank byte; a control line is confirmed by
 * parsing it (they are rare).  Does not validate records or batches. */
enum line_kind line_kind_fast(const char *data, size_t len);

/*
 * Parse one line.  Returns the value (a new reference) and its kind, or
 * NULL with a message in ERR ("invalid JSON: ... at column 7" or "not a
 * JSON object or array").
 */
json_t *line_parse(const char *data, size_t len, enum line_kind *kind,
    char *err, size_t errsize);

/* The flags every etl parser uses: any value (classified by us), \u0000
 * allowed in strings (it is valid JSON). */
enum { LINE_JSON_FLAGS = JSON_DECODE_ANY | JSON_ALLOW_NUL };

/* Is V (an object) a control line? */
int line_is_control(const json_t *v);

#endif

/*
 * Find the elements of the JSON array DATA[0..LEN) without parsing them:
 * EACH is called with each element's bytes, blanks trimmed, and its index.
 * Strings are skipped with their escapes and nesting is counted, so commas
 * inside elements are not mistaken for separators; the elements themselves
 * are not validated.  Returns 0, the first non-zero value EACH returned, or
 * -1 with a reason in ERR when the array is malformed.
 */
int line_split_batch(const char *data, size_t len,
    int (*each)(void *arg, const char *elem, size_t n, size_t index),
    void *arg, char *err, size_t errsize);
