/*
 * yajlread.h - one JSON text at a time through yajl's event parser.
 *
 * Two readers build what they need from yajl's events: lib/fields.c a
 * record's top-level fields as text (etl-load-sql), lib/jsontree.c
 * jansson values (line_parse).  What they share lives here: a yajl handle
 * kept from record to record, the check of the bytes yajl lets through
 * and JSON does not, and the rule that a text is exactly one value with
 * only blanks after it.
 *
 * The callbacks given to yajlread_init track their own nesting and call
 * yajlread_closed() when the top-level value ends; they refuse (return 0)
 * a second top-level value, which yajl would otherwise read on.
 */
#ifndef ETL_YAJLREAD_H
#define ETL_YAJLREAD_H

#include <stddef.h>
#include <yajl/yajl_parse.h>

struct yajlread {
	yajl_handle handle;
	const yajl_callbacks *callbacks;
	void *ctx;                /* the callbacks' context */
	const char *data;         /* the text being read */
	size_t len;
	int closed;               /* the top-level value has ended */
	size_t end;               /* the offset just after it */
};

/* Running out of memory is fatal here (exit 70), as in lib/buf.c. */
void yajlread_init(struct yajlread *r, const yajl_callbacks *callbacks,
    void *ctx);
void yajlread_free(struct yajlread *r);

enum yajlread_check {
	YAJLREAD_VALID,
	YAJLREAD_INVALID,         /* a control byte or invalid UTF-8: reason in ERR */
	YAJLREAD_SURROGATE,       /* a \uD... escape, which yajl cannot decode */
};

/*
 * Check the bytes of DATA[0..LEN) for what yajl accepts and JSON does not
 * (see yajlread.c).  ERR may be NULL when the reason is not wanted.
 */
enum yajlread_check yajlread_check(const char *data, size_t len, char *err,
    size_t errsize);

/* The same, and *PLAIN 1 when the text has no backslash, tab, CR or LF at
 * all: every string in it is then exactly its bytes. */
enum yajlread_check yajlread_check_plain(const char *data, size_t len,
    int *plain, char *err, size_t errsize);

enum yajlread_result {
	YAJLREAD_OK,              /* one value, then only blanks */
	YAJLREAD_CANCELLED,       /* a callback returned 0 */
	YAJLREAD_ERROR,           /* yajl's syntax error: reason in ERR */
	YAJLREAD_UNCLOSED,        /* the text ended inside the value, or had none */
	YAJLREAD_TRAILING,        /* something after the value */
};

/*
 * Run the callbacks over DATA[0..LEN), which yajlread_check has passed.
 * After anything but YAJLREAD_OK the handle is replaced by a fresh one,
 * so nothing of a bad text reaches the next.  ERR may be NULL.
 */
enum yajlread_result yajlread_parse(struct yajlread *r, const char *data,
    size_t len, char *err, size_t errsize);

/* For the callbacks: the top-level value has just ended. */
static inline void
yajlread_closed(struct yajlread *r)
{
	r->closed = 1;
	r->end = yajl_get_bytes_consumed(r->handle);
}

/* For the callbacks: does the string S point into the text (it had no
 * escapes), or into yajl's buffer, which the next string reuses? */
static inline int
yajlread_in_text(const struct yajlread *r, const unsigned char *s, size_t len)
{
	const char *p = (const char *)s;

	return p >= r->data && p + len <= r->data + r->len;
}

#endif
