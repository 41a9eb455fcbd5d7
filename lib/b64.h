/*
 * b64.h - standard base64 (RFC 4648, padded) for bodies that are not
 * UTF-8: etl-extract-http --raw-body and --envelope make it, md5.so and
 * --reply-field read it back.
 *
 * nettle's coder goes a character at a time through a call, and was most
 * of the CPU a megabyte body cost on its way through a reply pipeline.
 * Where the processor has SSSE3 (every x86-64 of the last fifteen years),
 * this one codes 12 bytes to 16 characters per step in vector registers,
 * and twice that with AVX2; elsewhere it looks up two characters at a time (a table of the 4096
 * pairs) and reads four at a time.  Both give exactly nettle's text and
 * accept exactly what nettle's decoder accepts in canonical form.
 */
#ifndef ETL_B64_H
#define ETL_B64_H

#include <stddef.h>

/* The length of the base64 text of N bytes. */
#define B64_ENCODED_LENGTH(n) (((n) + 2) / 3 * 4)

/* At most how many bytes the text IN[0..N) decodes to. */
#define B64_DECODED_LENGTH(n) ((n) / 4 * 3)

/* Write the base64 of IN[0..N) at OUT (B64_ENCODED_LENGTH(N) bytes, no
 * NUL); returns that length. */
size_t b64_encode(char *out, const void *in, size_t n);

/*
 * Decode the padded base64 text IN[0..N) to OUT (room for
 * B64_DECODED_LENGTH(N) bytes) and return how many bytes it stands for;
 * or (size_t)-1 when it is not base64: a length that is not a multiple of
 * four, a character outside the alphabet, padding anywhere but in the last
 * group, or bits the last character leaves over that are not zero.  Blanks
 * are not skipped.
 */
size_t b64_decode(void *out, const char *in, size_t n);

/* The vector paths this processor has: 0 none, 1 SSSE3, 2 AVX2 too.
 * Tests: b64_set_vector(LEVEL) makes both directions take that path
 * (at most the processor's; 0 the portable one). */
int b64_vector_levels(void);
void b64_set_vector(int level);

#endif
