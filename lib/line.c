/* line.c - classify stream lines (see line.h). */
#include "line.h"
#include "jsontree.h"

#include <stdio.h>
#include <string.h>

static const char *
skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

int
line_is_control(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) == 1 &&
	    json_object_get(v, "$etl") != NULL;
}

static int
looks_like_control(const char *p, const char *end)
{
	static const char key[] = "\"$etl\"";

	p = skip_blanks(p + 1, end);
	return (size_t)(end - p) >= sizeof key - 1 &&
	    memcmp(p, key, sizeof key - 1) == 0;
}

enum line_kind
line_kind_fast(const char *data, size_t len)
{
	const char *end = data + len, *p = skip_blanks(data, end);

	if (p == end)
		return LINE_INVALID;
	if (*p == '[')
		return LINE_BATCH;
	if (*p != '{')
		return LINE_INVALID;
	if (looks_like_control(p, end)) {
		json_error_t error;
		json_t *v = json_loadb(data, len, LINE_JSON_FLAGS, &error);
		enum line_kind kind = line_is_control(v) ? LINE_CONTROL : LINE_RECORD;

		json_decref(v);
		return kind;
	}
	return LINE_RECORD;
}

json_t *
line_parse(const char *data, size_t len, enum line_kind *kind, char *err,
    size_t errsize)
{
	json_error_t error;
	json_t *v = jsontree_parse(data, len);

	if (!v)
		v = json_loadb(data, len, LINE_JSON_FLAGS, &error);
	if (!v) {
		snprintf(err, errsize, "invalid JSON: %s at column %d",
		    error.text, error.column);
		*kind = LINE_INVALID;
		return NULL;
	}
	if (json_is_array(v)) {
		*kind = LINE_BATCH;
	} else if (json_is_object(v)) {
		*kind = line_is_control(v) ? LINE_CONTROL : LINE_RECORD;
	} else {
		snprintf(err, errsize, "not a JSON object or array");
		*kind = LINE_INVALID;
		json_decref(v);
		return NULL;
	}
	return v;
}

/* End of the JSON string starting at P (on its '"'), or NULL if unclosed. */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* End of the array element starting at P: the ',' or ']' after it. */
static const char *
skip_element(const char *p, const char *end, const char **why)
{
	int depth = 0;

	while (p < end) {
		switch (*p) {
		case '"':
			if (!(p = skip_string(p, end))) {
				*why = "unterminated string";
				return NULL;
			}
			continue;
		case '{': case '[':
			depth++;
			break;
		case '}': case ']':
			if (depth == 0)
				return p;
			depth--;
			break;
		case ',':
			if (depth == 0)
				return p;
			break;
		}
		p++;
	}
	*why = "unterminated array";
	return NULL;
}

int
line_split_batch(const char *data, size_t len,
    int (*each)(void *arg, const char *elem, size_t n, size_t index),
    void *arg, char *err, size_t errsize)
{
	const char *end = data + len, *p = skip_blanks(data, end);
	const char *why = NULL;
	size_t index = 0;

	if (p == end || *p != '[') {
		snprintf(err, errsize, "invalid batch: not a JSON array");
		return -1;
	}
	p = skip_blanks(p + 1, end);
	if (p < end && *p == ']')
		goto closed;
	for (;;) {
		const char *start = p, *stop = skip_element(p, end, &why), *last;
		int rc;

		if (!stop)
			goto malformed;
		last = stop;
		while (last > start && (last[-1] == ' ' || last[-1] == '\t'))
			last--;
		if (last == start || *stop == '}') {
			why = *stop == '}' ? "unbalanced '}'" : "empty element";
			goto malformed;
		}
		if ((rc = each(arg, start, last - start, index++)) != 0)
			return rc;
		p = skip_blanks(stop + 1, end);
		if (*stop == ']')
			break;
	}
	p = skip_blanks(p, end);
	if (p != end) {
		why = "text after the array";
		goto malformed;
	}
	return 0;
closed:
	if (skip_blanks(p + 1, end) != end) {
		why = "text after the array";
		goto malformed;
	}
	return 0;
malformed:
	snprintf(err, errsize, "invalid batch: %s (element %zu)", why, index + 1);
	return -1;
}
