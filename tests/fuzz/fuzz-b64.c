/* fuzz-b64 - libFuzzer target for lib/b64.c, the AVX2, SSSE3 and portable
 * paths alike (the first byte chooses): the rest, read as text, decodes as
 * nettle decodes it (but for nettle's leniencies, below), without
 * writing past B64_DECODED_LENGTH; read as bytes, it encodes to nettle's
 * text and decodes back. */
#include "b64.h"

#include <nettle/base64.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
check_decode(const char *text, size_t n)
{
	size_t room = B64_DECODED_LENGTH(n), want_len = BASE64_DECODE_LENGTH(n), got_len;
	uint8_t *got = malloc(room + 1), *want = malloc(want_len + 1);
	struct base64_decode_ctx ctx;
	int lenient = 0;

	/* nettle skips blanks, and reads a group of one 'A' and three '='
	 * as no bytes: neither is base64, and b64_decode refuses both. */
	for (size_t i = 0; i < n; i++)
		lenient |= text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r') ||
		    (i + 3 < n && memcmp(text + i, "A===", 4) == 0);
	got_len = b64_decode(got, text, n);   /* ASan watches the room */
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &want_len, want, n, text) || !base64_decode_final(&ctx))
		want_len = (size_t)-1;
	if (!lenient && (got_len != want_len ||
	    (got_len != (size_t)-1 && memcmp(got, want, got_len) != 0)))
		abort();
	free(got);
	free(want);
}

static void
check_encode(const uint8_t *data, size_t n)
{
	size_t len = B64_ENCODED_LENGTH(n);
	char *got = malloc(len + 1), *want = malloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);
	uint8_t *back = malloc(B64_DECODED_LENGTH(len) + 1);

	if (b64_encode(got, data, n) != len || BASE64_ENCODE_RAW_LENGTH(n) != len)
		abort();
	base64_encode_raw(want, n, data);
	if (memcmp(got, want, len) != 0 || b64_decode(back, got, len) != n ||
	    memcmp(back, data, n) != 0)
		abort();
	free(got);
	free(want);
	free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	b64_set_vector(data[0] % 3);
	check_decode((const char *)data + 1, size - 1);
	check_encode(data + 1, size - 1);
	return 0;
}
