/*
 * fields.h - the top-level fields of a record, read without building a tree.
 *
 * etl-load-sql turns every record into a row of cells and needs no JSON
 * tree for it: jansson's parser allocates a value per key and per string,
 * which cost the loader more time than the database spent on the rows.
 * This reader runs yajl's event parser over the record's text and hands
 * each top-level key with its value, as text, to a callback.  A nested
 * object or array comes as its compact JSON text (lib/jsonout.c's string
 * escaping), so a JSON column takes it as it is.
 */
#ifndef ETL_FIELDS_H
#define ETL_FIELDS_H

#include <stddef.h>

enum field_kind {
	FIELD_NULL,
	FIELD_FALSE,
	FIELD_TRUE,
	FIELD_NUMBER,             /* text: the number as written */
	FIELD_STRING,             /* text: the decoded UTF-8 bytes (may hold NUL) */
	FIELD_OBJECT,             /* text: compact JSON */
	FIELD_ARRAY,              /* text: compact JSON */
};

/* One value; TEXT is valid only during the callback. */
struct field {
	enum field_kind kind;
	const char *text;         /* "null", "true" and "false" for those kinds */
	size_t len;
	int integer;              /* FIELD_NUMBER: no fraction and no exponent */
};

struct fields;                /* a reader, reused record after record */

struct fields *fields_new(void);
void fields_free(struct fields *f);

/*
 * Read the JSON object DATA[0..LEN) (blanks around it allowed) and call
 * EACH with every top-level key (KEY[0..KEYLEN), decoded) and value, in
 * order; a key that appears twice is passed twice.  Returns 0, the first
 * non-zero value EACH returned (reading stops there), or -1 with a reason
 * in ERR when DATA is not exactly one valid JSON object.
 */
int fields_read(struct fields *f, const char *data, size_t len,
    int (*each)(void *arg, const char *key, size_t keylen,
    const struct field *value), void *arg, char *err, size_t errsize);

#endif
