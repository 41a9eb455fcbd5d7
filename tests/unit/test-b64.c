/*
 * Unit tests for lib/b64.c: the text must be exactly nettle's (RFC 4648,
 * padded) for every length around the eight-at-a-time loop's edges, for
 * every byte value in every place, and for bodies of 1 MB and 8 MB.
 */
#include "b64.h"
#include "check.h"

#include <nettle/base64.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static unsigned char
next_byte(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned char)(rng >> 24);
}

/* Encode IN[0..N) both ways; 1 when the texts are the same. */
static int
same_as_nettle(const unsigned char *in, size_t n)
{
	size_t want_len = BASE64_ENCODE_RAW_LENGTH(n);
	char *want = malloc(want_len + 1), *got = malloc(B64_ENCODED_LENGTH(n) + 1);
	size_t got_len;
	int ok;

	base64_encode_raw(want, n, in);
	got_len = b64_encode(got, in, n);
	ok = got_len == want_len && B64_ENCODED_LENGTH(n) == want_len &&
	    memcmp(want, got, want_len) == 0;
	if (!ok)
		printf("# %zu bytes: expected %.*s, got %.*s\n", n,
		    (int)(want_len > 80 ? 80 : want_len), want,
		    (int)(got_len > 80 ? 80 : got_len), got);
	free(want);
	free(got);
	return ok;
}

int
main(void)
{
	enum { BIG = 8 << 20 };
	unsigned char *bytes = malloc(BIG);
	int ok = 1;

	for (size_t i = 0; i < BIG; i++)
		bytes[i] = next_byte();
	for (size_t n = 0; n <= 64 && ok; n++)
		ok = same_as_nettle(bytes, n);
	check(ok, "every length from 0 to 64 bytes");

	ok = 1;
	for (unsigned v = 0; v < 256 && ok; v++)
		for (size_t place = 0; place < 12 && ok; place++) {
			unsigned char twelve[12] = { 0 };

			twelve[place] = (unsigned char)v;
			ok = same_as_nettle(twelve, sizeof twelve) &&
			    same_as_nettle(twelve, place + 1);
		}
	check(ok, "every byte value at every place of a group of six");

	check(same_as_nettle(bytes, 1 << 20), "1 MB of random bytes");
	check(same_as_nettle(bytes, (1 << 20) + 1), "1 MB and one byte");
	check(same_as_nettle(bytes, BIG), "8 MB of random bytes");
	check(same_as_nettle(bytes, BIG - 2), "8 MB less two bytes");
	free(bytes);
	return 0;
}
