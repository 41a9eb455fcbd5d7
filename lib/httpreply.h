/*
 * httpreply.h - what the pipeline wrote back for a request (record and
 * batch lines, each ending in LF), as the body of etl-extract-http's answer
 * with --reply-fifo.
 */
#ifndef ETL_HTTPREPLY_H
#define ETL_HTTPREPLY_H

#include "buf.h"

/* LINES as NDJSON (a batch line's elements one a line) or as one JSON
 * array of the records, appended to OUT. */
void httpreply_records(const struct buf *lines, int ndjson, struct buf *out);

/* The value of field NAME of each record of LINES, in order, appended to
 * OUT as raw bytes: a string's bytes (base64-decoded when the record's
 * NAME_encoding is "base64"), any other value's JSON text.  0; 1 when a
 * record has no such field; 2 when its base64 does not decode. */
int httpreply_field(const struct buf *lines, const char *name, struct buf *out);

#endif
