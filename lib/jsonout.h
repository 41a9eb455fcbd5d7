/*
 * jsonout.h - write jansson values as compact JSON text.
 *
 * jansson's own json_dumps prints reals with %.17g (8147.16 comes out as
 * 8147.1599999999999) and is slow; this writer prints every real in the
 * shortest form that reads back to the same double, keeps integers
 * integers, escapes strings per RFC 8259 and passes valid UTF-8 through
 * unchanged.  Object keys keep their order.
 */
#ifndef ETL_JSONOUT_H
#define ETL_JSONOUT_H

#include "buf.h"

#include <jansson.h>

void jsonout_value(struct buf *b, const json_t *v);

/* A JSON string of S[0..LEN), which must be valid UTF-8 (as jansson's are). */
void jsonout_string(struct buf *b, const char *s, size_t len);

/* Like jsonout_string for bytes that may not be UTF-8 (a raw input line):
 * each invalid byte becomes U+FFFD, so the output is always valid JSON. */
void jsonout_string_lossy(struct buf *b, const char *s, size_t len);

void jsonout_real(struct buf *b, double d);
void jsonout_integer(struct buf *b, json_int_t i);

#endif
