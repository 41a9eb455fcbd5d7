/* b64.c - base64 encoding (see b64.h). */
#include "b64.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The two characters of every 12-bit value, in memory order. */
static uint16_t pairs[4096];
static pthread_once_t pairs_once = PTHREAD_ONCE_INIT;

static void
make_pairs(void)
{
	for (unsigned i = 0; i < 4096; i++) {
		char two[2] = { alphabet[i >> 6], alphabet[i & 63] };

		memcpy(&pairs[i], two, sizeof two);
	}
}

size_t
b64_encode(char *out, const void *in, size_t n)
{
	const unsigned char *p = in;
	char *o = out;
	size_t left = n;

	pthread_once(&pairs_once, make_pairs);
	/* Six bytes to eight characters, two at a time. */
	for (; left >= 6; left -= 6, p += 6, o += 8) {
		uint32_t a = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		uint32_t b = (uint32_t)p[3] << 16 | (uint32_t)p[4] << 8 | p[5];

		memcpy(o, &pairs[a >> 12], 2);
		memcpy(o + 2, &pairs[a & 4095], 2);
		memcpy(o + 4, &pairs[b >> 12], 2);
		memcpy(o + 6, &pairs[b & 4095], 2);
	}
	for (; left >= 3; left -= 3, p += 3, o += 4) {
		uint32_t w = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];

		o[0] = alphabet[w >> 18];
		o[1] = alphabet[w >> 12 & 63];
		o[2] = alphabet[w >> 6 & 63];
		o[3] = alphabet[w & 63];
	}
	if (left) {
		uint32_t w = (uint32_t)p[0] << 16 | (left == 2 ? (uint32_t)p[1] << 8 : 0);

		o[0] = alphabet[w >> 18];
		o[1] = alphabet[w >> 12 & 63];
		o[2] = left == 2 ? alphabet[w >> 6 & 63] : '=';
		o[3] = '=';
		o += 4;
	}
	return (size_t)(o - out);
}
