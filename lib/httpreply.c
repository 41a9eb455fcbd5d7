/*
 * httpreply.c - the pipeline's output for a request, as the body of its
 * answer (see httpreply.h).
 */
#include "httpreply.h"
#include "b64.h"
#include "jsonout.h"
#include "jsontree.h"
#include "line.h"

#include <stdio.h>
#include <string.h>

static int
add_ndjson_element(void *arg, const char *elem, size_t n, size_t index)
{
	(void)index;
	buf_add(arg, elem, n);
	buf_addc(arg, '\n');
	return 0;
}

/* The gathered LINES as NDJSON (a batch line's elements one a line) or as
 * one JSON array of the records. */
void
httpreply_records(const struct buf *lines, int ndjson, struct buf *out)
{
	const char *p = lines->data, *end = p + lines->len, *nl, *q, *qe;
	char err[128];
	int first = 1;

	if (!ndjson)
		buf_addc(out, '[');
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		q = p;
		qe = nl;
		while (qe > q && strchr(" \t\r", qe[-1]))
			qe--;
		while (q < qe && strchr(" \t\r", *q))
			q++;
		if (q < qe && *q == '[') {
			if (ndjson) {
				line_split_batch(q, qe - q, add_ndjson_element, out, err, sizeof err);
				continue;
			}
			/* Its elements, without the brackets. */
			q++;
			qe--;
			while (q < qe && strchr(" \t\r", *q))
				q++;
			if (q == qe)
				continue;  /* an empty batch */
		}
		if (ndjson) {
			buf_add(out, q, qe - q);
			buf_addc(out, '\n');
			continue;
		}
		if (!first)
			buf_addc(out, ',');
		buf_add(out, q, qe - q);
		first = 0;
	}
	if (!ndjson)
		buf_addc(out, ']');
}

struct field_arg {
	const char *name;
	struct buf *out;
};

/* Append the value of the field ARG names in the record ELEM[0..N) to its
 * buf: a string's bytes, base64-decoded when NAME_encoding says so, or
 * the value's JSON text.  1 when the record has no such field. */
static int
add_field_value(void *arg, const char *elem, size_t n, size_t index)
{
	struct field_arg *field = arg;
	struct buf *out = field->out;
	json_t *rec = jsontree_parse(elem, n);
	json_t *v;
	char marker[256];
	const char *enc;

	(void)index;
	if (!rec)
		rec = json_loadb(elem, n, LINE_JSON_FLAGS, NULL);
	v = json_object_get(rec, field->name);
	if (!v) {
		json_decref(rec);
		return 1;
	}
	snprintf(marker, sizeof marker, "%s_encoding", field->name);
	enc = json_string_value(json_object_get(rec, marker));
	if (json_is_string(v) && enc && strcmp(enc, "base64") == 0) {
		size_t len;

		buf_reserve(out, B64_DECODED_LENGTH(json_string_length(v)));
		len = b64_decode(out->data + out->len, json_string_value(v), json_string_length(v));
		if (len == (size_t)-1) {
			json_decref(rec);
			return 2;
		}
		out->len += len;
	} else if (json_is_string(v)) {
		buf_add(out, json_string_value(v), json_string_length(v));
	} else {
		jsonout_value(out, v);
	}
	json_decref(rec);
	return 0;
}

int
httpreply_field(const struct buf *lines, const char *name, struct buf *out)
{
	const char *p = lines->data, *end = p + lines->len, *nl;
	struct field_arg field = { name, out };
	char err[128];
	int rc = 0;

	for (; p < end && rc == 0; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (line_kind_fast(p, nl - p) == LINE_BATCH)
			rc = line_split_batch(p, nl - p, add_field_value, &field, err, sizeof err);
		else
			rc = add_field_value(&field, p, nl - p, 0);
	}
	return rc;
}
