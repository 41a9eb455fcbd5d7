/*
 * b64.h - standard base64 (RFC 4648, padded) for bodies that are not
 * UTF-8: etl-extract-http --raw-body and --envelope.
 *
 * nettle's encoder writes a character at a time and took most of
 * etl-extract-http's time on a megabyte body; this one looks up two
 * characters at a time (a table of the 4096 pairs) and stores eight at a
 * time, twice as fast, and writes the same text.
 */
#ifndef ETL_B64_H
#define ETL_B64_H

#include <stddef.h>

/* The length of the base64 text of N bytes. */
#define B64_ENCODED_LENGTH(n) (((n) + 2) / 3 * 4)

/* Write the base64 of IN[0..N) at OUT (B64_ENCODED_LENGTH(N) bytes, no
 * NUL); returns that length. */
size_t b64_encode(char *out, const void *in, size_t n);

#endif
