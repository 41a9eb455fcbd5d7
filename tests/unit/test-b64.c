/*
 * Unit tests for lib/b64.c, on each vector path the processor has (AVX2,
 * SSSE3) and on the portable one:
 * the text must be exactly nettle's (RFC 4648, padded) for every length
 * around the loops' edges, for every byte value in every place, and for
 * bodies of 1 MB and 8 MB; decoding must give the bytes back, agree with
 * nettle's decoder on what is base64 and what is not (a bad character or
 * a misplaced '=' at every place of a text that crosses the vector
 * steps, bits left over after the last byte), and never write past
 * B64_DECODED_LENGTH.
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
	return (unsigned char)(check_random(&rng) >> 24);
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

/* nettle's reading of TEXT[0..N): the length, or -1 when it refuses. */
static size_t
nettle_decode(unsigned char *out, const char *text, size_t n)
{
	struct base64_decode_ctx ctx;
	size_t len = BASE64_DECODE_LENGTH(n);

	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &len, out, n, text) || !base64_decode_final(&ctx))
		return (size_t)-1;
	return len;
}

/* Decode TEXT[0..N) both ways into buffers with a guard after
 * B64_DECODED_LENGTH(N); 1 when the answers and the bytes agree and the
 * guard is untouched. */
static int
decodes_as_nettle(const char *text, size_t n)
{
	size_t room = B64_DECODED_LENGTH(n);
	unsigned char *want = malloc(BASE64_DECODE_LENGTH(n) + 1);
	unsigned char *got = malloc(room + 32);
	size_t want_len, got_len;
	int ok;

	memset(got, 0xa5, room + 32);
	want_len = nettle_decode(want, text, n);
	got_len = b64_decode(got, text, n);
	ok = want_len == got_len &&
	    (got_len == (size_t)-1 || memcmp(want, got, got_len) == 0);
	for (size_t i = room; i < room + 32 && ok; i++)
		ok = got[i] == 0xa5;
	if (!ok)
		printf("# %zu characters %.*s: nettle %zd, b64_decode %zd\n", n,
		    (int)(n > 80 ? 80 : n), text, (ssize_t)want_len, (ssize_t)got_len);
	free(want);
	free(got);
	return ok;
}

/* Encode IN[0..N) and decode it again; 1 when the bytes come back. */
static int
round_trip(const unsigned char *in, size_t n)
{
	char *text = malloc(B64_ENCODED_LENGTH(n) + 1);
	size_t len = b64_encode(text, in, n);
	unsigned char *back = malloc(B64_DECODED_LENGTH(len) + 1);
	int ok = b64_decode(back, text, len) == n && memcmp(back, in, n) == 0;

	free(text);
	free(back);
	return ok;
}

static void
all_checks(const unsigned char *bytes, size_t big, const char *path)
{
	static const char bad_chars[] = { '=', '-', '_', ' ', '\n', '\0', '.', '@', '[', '`',
	    '{', ':', (char)0x80, (char)0xff };
	char text[200];
	int ok = 1;

	for (size_t n = 0; n <= 64 && ok; n++)
		ok = same_as_nettle(bytes, n);
	check(ok, "%s: every length from 0 to 64 bytes", path);

	ok = 1;
	for (unsigned v = 0; v < 256 && ok; v++)
		for (size_t place = 0; place < 24 && ok; place++) {
			unsigned char two_dozen[24] = { 0 };

			two_dozen[place] = (unsigned char)v;
			ok = same_as_nettle(two_dozen, sizeof two_dozen) &&
			    same_as_nettle(two_dozen, place + 1) &&
			    round_trip(two_dozen, sizeof two_dozen);
		}
	check(ok, "%s: every byte value at every place of two vector steps", path);

	check(same_as_nettle(bytes, 1 << 20), "%s: 1 MB of random bytes", path);
	check(same_as_nettle(bytes, (1 << 20) + 1), "%s: 1 MB and one byte", path);
	check(same_as_nettle(bytes, big), "%s: 8 MB of random bytes", path);
	check(same_as_nettle(bytes, big - 2), "%s: 8 MB less two bytes", path);

	ok = 1;
	for (size_t n = 0; n <= 150 && ok; n++)
		ok = round_trip(bytes + n, n);
	check(ok, "%s: every length from 0 to 150 bytes decodes back", path);
	check(round_trip(bytes, 1 << 20) && round_trip(bytes, (1 << 20) + 1) &&
	    round_trip(bytes, big - 1), "%s: 1 MB, 1 MB and a byte, 8 MB less a byte decode back", path);

	/* Texts of 0 to 148 characters of 0 to 111 bytes, each broken at
	 * every place: both decoders refuse (or, for '=' in a padding place,
	 * agree). */
	ok = 1;
	for (size_t bytes_n = 0; bytes_n < 112 && ok; bytes_n++) {
		size_t n = b64_encode(text, bytes + 7 * bytes_n, bytes_n);

		ok = decodes_as_nettle(text, n);
		for (size_t place = 0; place < n && ok; place++)
			for (size_t k = 0; k < sizeof bad_chars && ok; k++) {
				char keep = text[place];

				text[place] = bad_chars[k];
				ok = decodes_as_nettle(text, n);
				text[place] = keep;
			}
		ok = ok && (n == 0 || decodes_as_nettle(text, n - 1));
	}
	check(ok, "%s: a bad character or '=' at every place of texts up to 148 characters", path);

	/* The last character's spare bits: "QQ==" is one byte, "QR==" is
	 * not base64; "QUE=" two bytes, "QUF=" not. */
	ok = 1;
	for (size_t lead = 0; lead <= 40 && ok; lead += 4) {
		static const char *const tails[] = { "QQ==", "QR==", "QUE=", "QUF=", "Q===", "QUFB" };

		for (size_t t = 0; t < 6 && ok; t++) {
			memset(text, 'A', lead);
			memcpy(text + lead, tails[t], 4);
			ok = decodes_as_nettle(text, lead + 4);
		}
	}
	ok = ok && b64_decode(text, "QR==", 4) == (size_t)-1 && b64_decode(text, "QQ==", 4) == 1;
	check(ok, "%s: bits past the last byte must be zero, as nettle has it", path);

	/* Random texts over the alphabet, '=' and a few bad characters, of
	 * lengths crossing the vector steps. */
	ok = 1;
	for (int i = 0; i < 20000 && ok; i++) {
		static const char pool[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		size_t n = 4 * (next_byte() % 40);

		for (size_t j = 0; j < n; j++) {
			unsigned char r = next_byte();

			text[j] = r < 250 ? pool[r % 64] : r < 253 ? '=' : (char)r;
		}
		if (next_byte() < 64 && n >= 4)     /* canonical padding */
			text[n - 1] = '=';
		ok = decodes_as_nettle(text, n);
	}
	check(ok, "%s: 20000 random texts read as nettle reads them", path);
}

int
main(void)
{
	enum { BIG = 8 << 20 };
	unsigned char *bytes = malloc(BIG);

	for (size_t i = 0; i < BIG; i++)
		bytes[i] = next_byte();
	static const char *const paths[] = { "portable", "SSSE3", "AVX2" };

	for (int level = b64_vector_levels(); level >= 0; level--) {
		b64_set_vector(level);
		all_checks(bytes, BIG, paths[level]);
	}
	check(b64_vector_levels() >= 0, "the vector paths this processor has: %s",
	    paths[b64_vector_levels()]);
	free(bytes);
	return 0;
}
