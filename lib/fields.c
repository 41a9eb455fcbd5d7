/*
 * fields.c - a record's top-level fields from yajl's events (see fields.h).
 *
 * The handle kept from record to record and the checks around yajl are
 * lib/yajlread.c's; this file turns the events into fields.
 */
#include "fields.h"
#include "buf.h"
#include "exitcode.h"
#include "jsonout.h"
#include "line.h"
#include "msg.h"
#include "yajlread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One open container inside the record: an array or an object, and
 * whether anything has been written into it yet. */
enum { OPEN_ARRAY = 1, OPEN_EMPTY = 2 };

struct fields {
	struct yajlread read;
	int (*each)(void *, const char *, size_t, const struct field *);
	void *arg;
	int rc;                       /* what EACH returned, when not 0 */
	const char *error;            /* why the read stopped, if not EACH */
	size_t depth;                 /* 0 outside the record, 1 in its object */
	const char *key;              /* the current top-level key */
	size_t keylen;
	struct buf keycopy;           /* the key, when yajl decoded it */
	struct buf nested;            /* compact text of a nested value */
	struct buf open;              /* per depth: OPEN_* bits */
};

static int
emit(struct fields *f, enum field_kind kind, const char *text, size_t len,
    int integer)
{
	struct field v = { kind, text, len, integer };

	f->rc = f->each(f->arg, f->key, f->keylen, &v);
	return f->rc == 0;
}

static int
stop(struct fields *f, const char *why)
{
	f->error = why;
	return 0;
}

/* A value is about to be written into the nested text: a comma first if
 * it is not an array's first element (an object's key wrote its own). */
static void
nested_separator(struct fields *f)
{
	char *state = &f->open.data[f->depth - 1];

	if ((*state & OPEN_ARRAY) && !(*state & OPEN_EMPTY))
		buf_addc(&f->nested, ',');
	*state &= ~OPEN_EMPTY;
}

static int
scalar(struct fields *f, enum field_kind kind, const char *text, size_t len,
    int integer)
{
	if (f->depth == 0)
		return stop(f, "not a JSON object");
	if (f->depth == 1)
		return emit(f, kind, text, len, integer);
	nested_separator(f);
	if (kind == FIELD_STRING)
		jsonout_string(&f->nested, text, len);
	else
		buf_add(&f->nested, text, len);
	return 1;
}

static int
on_null(void *ctx)
{
	return scalar(ctx, FIELD_NULL, "null", 4, 0);
}

static int
on_boolean(void *ctx, int b)
{
	return b ? scalar(ctx, FIELD_TRUE, "true", 4, 0)
	    : scalar(ctx, FIELD_FALSE, "false", 5, 0);
}

static int
on_number(void *ctx, const char *s, size_t len)
{
	int integer = 1;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
			integer = 0;
	return scalar(ctx, FIELD_NUMBER, s, len, integer);
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	return scalar(ctx, FIELD_STRING, (const char *)s, len, 0);
}

static int
open_container(struct fields *f, int array)
{
	if (f->depth == 0) {
		if (f->read.closed)
			return stop(f, "more than one JSON value on the line");
		if (array)
			return stop(f, "not a JSON object");
	} else if (f->depth == 1) {
		f->nested.len = 0;
	} else {
		nested_separator(f);
	}
	if (f->depth > 0)
		buf_addc(&f->nested, array ? '[' : '{');
	if (f->open.len <= f->depth)
		buf_addc(&f->open, 0);
	f->open.data[f->depth++] = (char)((array ? OPEN_ARRAY : 0) | OPEN_EMPTY);
	return 1;
}

static int
close_container(struct fields *f, int array)
{
	if (--f->depth == 0) {
		yajlread_closed(&f->read);
		return 1;
	}
	buf_addc(&f->nested, array ? ']' : '}');
	if (f->depth == 1)
		return emit(f, array ? FIELD_ARRAY : FIELD_OBJECT, f->nested.data,
		    f->nested.len, 0);
	return 1;
}

static int
on_start_map(void *ctx)
{
	return open_container(ctx, 0);
}

static int
on_end_map(void *ctx)
{
	return close_container(ctx, 0);
}

static int
on_start_array(void *ctx)
{
	return open_container(ctx, 1);
}

static int
on_end_array(void *ctx)
{
	return close_container(ctx, 1);
}

static int
on_map_key(void *ctx, const unsigned char *key, size_t len)
{
	struct fields *f = ctx;
	const char *k = (const char *)key;

	if (f->depth == 1) {
		/* A key without escapes points into the record and stays put;
		 * a decoded one lives in yajl's buffer, which the value reuses. */
		if (yajlread_in_text(&f->read, key, len)) {
			f->key = k;
		} else {
			f->keycopy.len = 0;
			buf_add(&f->keycopy, k, len);
			buf_addc(&f->keycopy, '\0');
			f->key = f->keycopy.data;
		}
		f->keylen = len;
		return 1;
	}
	if (!(f->open.data[f->depth - 1] & OPEN_EMPTY))
		buf_addc(&f->nested, ',');
	f->open.data[f->depth - 1] &= ~OPEN_EMPTY;
	jsonout_string(&f->nested, k, len);
	buf_addc(&f->nested, ':');
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end_map,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_array,
};

struct fields *
fields_new(void)
{
	struct fields *f = calloc(1, sizeof *f);

	if (!f)
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	yajlread_init(&f->read, &callbacks, f);
	return f;
}

void
fields_free(struct fields *f)
{
	if (!f)
		return;
	yajlread_free(&f->read);
	buf_free(&f->keycopy);
	buf_free(&f->nested);
	buf_free(&f->open);
	free(f);
}

/*
 * The bytes as yajlread_check sees them; a text with a surrogate escape is
 * validated by line_parse, as every other program reads, and its message
 * is jansson's.  Returns 0, or -1 with the reason in ERR.
 */
static int
strict_json(const char *data, size_t len, char *err, size_t errsize)
{
	enum line_kind kind;
	json_t *v;

	switch (yajlread_check(data, len, err, errsize)) {
	case YAJLREAD_VALID:
		return 0;
	case YAJLREAD_INVALID:
		return -1;
	case YAJLREAD_SURROGATE:
		break;
	}
	if (!(v = line_parse(data, len, &kind, err, errsize)))
		return -1;
	json_decref(v);
	return 0;
}

int
fields_read(struct fields *f, const char *data, size_t len,
    int (*each)(void *arg, const char *key, size_t keylen,
    const struct field *value), void *arg, char *err, size_t errsize)
{
	while (len > 0 && (*data == ' ' || *data == '\t' || *data == '\r' ||
	    *data == '\n')) {
		data++;
		len--;
	}
	if (len == 0 || *data != '{') {
		snprintf(err, errsize, "not a JSON object");
		return -1;
	}
	if (strict_json(data, len, err, errsize) != 0)
		return -1;
	f->each = each;
	f->arg = arg;
	f->rc = 0;
	f->error = NULL;
	f->depth = 0;
	switch (yajlread_parse(&f->read, data, len, err, errsize)) {
	case YAJLREAD_OK:
		return 0;
	case YAJLREAD_CANCELLED:
		if (f->rc != 0)
			return f->rc;
		snprintf(err, errsize, "%s", f->error);
		return -1;
	case YAJLREAD_ERROR:
		return -1;
	case YAJLREAD_UNCLOSED:
		snprintf(err, errsize, "invalid JSON: the object is not closed");
		return -1;
	case YAJLREAD_TRAILING:
		snprintf(err, errsize, "invalid JSON: text after the object");
		return -1;
	}
	return -1;
}
