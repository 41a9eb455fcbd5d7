/*
 * httpbody.h - request and message bodies to records, for etl-extract-http
 * and etl-extract-nats.
 *
 * JSON: one object is one record, an array is one record per element; a
 * body that is not one JSON text but whose every line is, is NDJSON.
 * NDJSON: one record per non-blank line.  Form (urlencoded): an object of
 * its fields, a repeated key becoming an array; a form whose only field
 * is "payload" holding a JSON object or array (GitHub's and Slack's
 * webhooks) is that JSON.  Records are appended to
 * OUT as NDJSON lines, all or none: on error OUT is left as it was.
 * A UTF-8 byte-order mark at the start of a body is skipped, as jq does.
 * An object whose only key is "$etl" is refused: control lines belong to
 * the pipeline, and a client must not be able to forge one.
 */
#ifndef ETL_HTTPBODY_H
#define ETL_HTTPBODY_H

#include "buf.h"

#include <jansson.h>

enum httpbody_kind { HTTPBODY_JSON, HTTPBODY_NDJSON, HTTPBODY_FORM };

/* The kind of body a Content-Type names (NULL: unlabelled, taken as JSON);
 * -1 when it is not one we decode. */
int httpbody_kind(const char *content_type);

/* Returns the number of records, or -1 with a reason (for a 400) in ERR. */
long httpbody_records(enum httpbody_kind kind, const char *body, size_t len,
    struct buf *out, char *err, size_t errsize);

/*
 * The exact bytes as one record (etl-extract-http --raw-body), appended to
 * OUT as an NDJSON line: {"body":"<the bytes>"} when they are valid UTF-8
 * (NUL included), else {"body":"<base64>","body_encoding":"base64"}.
 */
void httpbody_raw_record(const char *body, size_t len, struct buf *out);

/* Add KEY=VALUE to OBJ, turning a repeated key into an array of values. */
void httpbody_add_field(json_t *obj, const char *key, json_t *value);

/* The body as a JSON value for --envelope: parsed JSON, else a string,
 * else (not UTF-8) base64 text.  New reference. */
json_t *httpbody_envelope_value(const char *body, size_t len);

#endif
