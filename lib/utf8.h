/*
 * utf8.h - UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates,
 * nothing above U+10FFFF.  The JSON writer and reader agree on it with
 * jansson, which checks the same rules.
 */
#ifndef ETL_UTF8_H
#define ETL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at P (before END), 0 if invalid. */
size_t utf8_sequence(const unsigned char *p, const unsigned char *end);

/* Write code point CP (at most U+10FFFF, not a surrogate) at OUT; returns
 * the number of bytes written, 1 to 4. */
size_t utf8_encode(uint32_t cp, char *out);

/* Whether the LEN bytes at S are all whole, valid UTF-8 sequences. */
int utf8_valid(const char *s, size_t len);

#endif
