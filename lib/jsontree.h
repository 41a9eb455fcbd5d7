/*
 * jsontree.h - a line's JSON as jansson values, built from yajl's events.
 *
 * json_loadb reads its input a byte at a time through a stream callback,
 * which was most of etl-map's time.  This reader lets yajl do the lexing
 * and builds the same values with jansson's constructors: the same types,
 * keys in order (a repeated key replaces the earlier value in place),
 * the same doubles, strings that may hold NUL.  It declines whatever it
 * cannot build exactly as json_loadb(data, len, LINE_JSON_FLAGS) would:
 * invalid JSON, a top-level scalar, an integer out of range, a NUL in a
 * key, nesting past jansson's limit, \uD... escapes.  line_parse then asks
 * json_loadb, so every message stays jansson's.
 */
#ifndef ETL_JSONTREE_H
#define ETL_JSONTREE_H

#include <jansson.h>
#include <stddef.h>

/*
 * The object or array DATA[0..LEN) (blanks around it allowed) as a new
 * reference, or NULL when declined.  Each thread keeps its own yajl handle,
 * freed when the thread exits.
 */
json_t *jsontree_parse(const char *data, size_t len);

#endif
