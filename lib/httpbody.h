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

struct MHD_Connection;

/* --envelope: one record describing the whole request (method, path,
 * query, headers, remote address, time, body) appended to LINES: 1. */
long httpbody_envelope_record(struct MHD_Connection *c, const char *url,
    const char *method, const char *body, size_t len, struct buf *lines);

/* A GET: one record of the query parameters, or -1 (none) with ERR. */
long httpbody_query_record(struct MHD_Connection *c, struct buf *lines,
    char *err, size_t errsize);

/*
 * Decompress BODY in place as the Content-Encoding ENCODING says (gzip,
 * deflate; NULL or identity: as it is), to at most MAX bytes.  Returns 0,
 * or the HTTP status to answer (400, 413, 415) with REASON.
 */
int httpbody_decompress(const char *encoding, struct buf *body, size_t max,
    const char **reason);

/* Put "NAME":"VALUE" first in each record (an object) of the NDJSON
 * LINES: the sender's delivery id (etl-extract-http --delivery-id-field). */
void httpbody_prefix_field(struct buf *lines, const char *name, const char *value);

#endif
