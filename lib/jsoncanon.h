/*
 * jsoncanon.h - is a JSON text already what lib/jsonout.c would write?
 *
 * A source that decodes bodies into records (lib/httpbody.c) parses each
 * body and writes it back compact; a body that a program sends compact
 * comes back byte for byte.  jsoncanon_object() recognises such a body
 * without building it: one object, no blank outside strings, strings
 * without escapes and of valid UTF-8, integers as jsonout writes them,
 * reals whose jsonout text is their own, no key twice in an object (the
 * parser would keep one value), not a control line.  Anything else, or
 * anything unusual (deep nesting, many keys, long numbers), is 0: the
 * caller parses, and the output and the errors are the parser's as before.
 */
#ifndef ETL_JSONCANON_H
#define ETL_JSONCANON_H

#include <stddef.h>

/* 1 when DATA[0..LEN) is one JSON object, not a control line, that
 * jsonout_value(json_loadb(DATA, LEN, LINE_JSON_FLAGS)) writes back as
 * exactly DATA[0..LEN); 0 when it may not be. */
int jsoncanon_object(const char *data, size_t len);

#endif
