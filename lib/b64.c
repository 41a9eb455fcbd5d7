/* b64.c - base64 encoding and decoding (see b64.h). */
#include "b64.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define B64_VECTOR 1
#endif

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

enum { BAD = 1u << 24 };

/* The two characters of every 12-bit value, in memory order; and each
 * character's six bits at their place in a group of four (the group's
 * values OR'ed together give its three bytes), or BAD. */
static uint16_t pairs[4096];
static uint32_t sextet[4][256];
static int vector;                /* 0 portable, 1 SSSE3, 2 AVX2 */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void
make_tables(void)
{
	for (unsigned i = 0; i < 4096; i++) {
		char two[2] = { alphabet[i >> 6], alphabet[i & 63] };

		memcpy(&pairs[i], two, sizeof two);
	}
	for (int place = 0; place < 4; place++) {
		for (int c = 0; c < 256; c++)
			sextet[place][c] = BAD;
		for (uint32_t i = 0; i < 64; i++)
			sextet[place][(unsigned char)alphabet[i]] = i << (6 * (3 - place));
	}
	vector = b64_vector_levels();
}

int
b64_vector_levels(void)
{
#ifdef B64_VECTOR
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") ? 2 : __builtin_cpu_supports("ssse3") ? 1 : 0;
#else
	return 0;
#endif
}

void
b64_set_vector(int level)
{
	pthread_once(&tables_once, make_tables);
	vector = level < b64_vector_levels() ? level : b64_vector_levels();
}

#ifdef B64_VECTOR
/*
 * Twelve bytes to sixteen characters: each group of three bytes a, b, c
 * is spread over a 32-bit lane as b a c b, from which two masks and two
 * multiplications put its four six-bit values in the lane's four bytes;
 * a value becomes its character by adding an offset that depends only on
 * which of five ranges it falls in, looked up with a byte shuffle.
 * Returns how many input bytes it took (a multiple of 12, leaving at
 * least 4 so that each 16-byte load stays inside IN).
 */
__attribute__((target("ssse3"))) static size_t
encode_vector(char *out, const unsigned char *in, size_t n)
{
	const __m128i spread = _mm_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
	/* Offsets by range: 0 for 26..51, 1-10 for 52..61, 11 for 62 ('+'),
	 * 12 for 63 ('/'), 13 for 0..25. */
	const __m128i offset = _mm_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4,
	    -19, -16, 65, 0, 0);
	size_t done = 0;

	for (; n - done >= 16; done += 12, out += 16) {
		__m128i v = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + done)), spread);
		/* In each lane's low word (a b): the first value in bits 15-10,
		 * the second in 9-4; in its high word (b c): the third in 11-6,
		 * the fourth in 5-0.  Brought to the lane's bytes 0, 2 and 1, 3. */
		__m128i hi = _mm_mulhi_epu16(_mm_and_si128(v, _mm_set1_epi32(0x0fc0fc00)),
		    _mm_set1_epi32(0x04000040));
		__m128i lo = _mm_mullo_epi16(_mm_and_si128(v, _mm_set1_epi32(0x003f03f0)),
		    _mm_set1_epi32(0x01000010));
		__m128i six = _mm_or_si128(hi, lo);
		__m128i range = _mm_subs_epu8(six, _mm_set1_epi8(51));

		range = _mm_or_si128(range, _mm_and_si128(_mm_cmpgt_epi8(_mm_set1_epi8(26), six),
		    _mm_set1_epi8(13)));
		_mm_storeu_si128((__m128i *)out,
		    _mm_add_epi8(six, _mm_shuffle_epi8(offset, range)));
	}
	return done;
}

/* The same, 24 bytes to 32 characters: each 128-bit half takes 12
 * bytes, as above.  Leaves at least 8 bytes, so that each load of 16 at
 * byte 12 of a step stays inside IN. */
__attribute__((target("avx2"))) static size_t
encode_avx2(char *out, const unsigned char *in, size_t n)
{
	const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
	    1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
	const __m256i offset = _mm256_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4,
	    -19, -16, 65, 0, 0, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
	size_t done = 0;

	for (; n - done >= 32; done += 24, out += 32) {
		__m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(
		    _mm_loadu_si128((const __m128i *)(in + done))),
		    _mm_loadu_si128((const __m128i *)(in + done + 12)), 1);
		__m256i hi, lo, six, range;

		v = _mm256_shuffle_epi8(v, spread);
		hi = _mm256_mulhi_epu16(_mm256_and_si256(v, _mm256_set1_epi32(0x0fc0fc00)),
		    _mm256_set1_epi32(0x04000040));
		lo = _mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi32(0x003f03f0)),
		    _mm256_set1_epi32(0x01000010));
		six = _mm256_or_si256(hi, lo);
		range = _mm256_subs_epu8(six, _mm256_set1_epi8(51));
		range = _mm256_or_si256(range, _mm256_and_si256(
		    _mm256_cmpgt_epi8(_mm256_set1_epi8(26), six), _mm256_set1_epi8(13)));
		_mm256_storeu_si256((__m256i *)out,
		    _mm256_add_epi8(six, _mm256_shuffle_epi8(offset, range)));
	}
	return done;
}

/*
 * Sixteen characters to twelve bytes: each character's value is itself
 * plus the offset of its range, and a character in none of the five
 * ranges stops the loop (the portable path then finds what is wrong);
 * two multiply-adds join each lane's four values into 24 bits, and a
 * shuffle puts the three bytes of each lane in order.  Writes 16 bytes
 * per 12 it decodes: the caller keeps N short enough for that to stay
 * inside OUT.  Returns how many characters it took, a multiple of 16.
 */
__attribute__((target("ssse3"))) static size_t
decode_vector(unsigned char *out, const char *in, size_t n)
{
	const __m128i gather = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12,
	    -1, -1, -1, -1);
	size_t done = 0;

	for (; n - done >= 16; done += 16, out += 12) {
		__m128i c = _mm_loadu_si128((const __m128i *)(in + done));
		__m128i upper = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('A' - 1)),
		    _mm_cmpgt_epi8(_mm_set1_epi8('Z' + 1), c));
		__m128i lower = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('a' - 1)),
		    _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), c));
		__m128i digit = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('0' - 1)),
		    _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), c));
		__m128i plus = _mm_cmpeq_epi8(c, _mm_set1_epi8('+'));
		__m128i slash = _mm_cmpeq_epi8(c, _mm_set1_epi8('/'));
		__m128i valid = _mm_or_si128(_mm_or_si128(upper, lower),
		    _mm_or_si128(digit, _mm_or_si128(plus, slash)));
		__m128i off, v;

		if (_mm_movemask_epi8(valid) != 0xffff)
			break;
		off = _mm_or_si128(
		    _mm_or_si128(_mm_and_si128(upper, _mm_set1_epi8(-'A')),
			_mm_and_si128(lower, _mm_set1_epi8(26 - 'a'))),
		    _mm_or_si128(_mm_and_si128(digit, _mm_set1_epi8(52 - '0')),
			_mm_or_si128(_mm_and_si128(plus, _mm_set1_epi8(62 - '+')),
			    _mm_and_si128(slash, _mm_set1_epi8(63 - '/')))));
		v = _mm_add_epi8(c, off);
		/* Values 1 and 2 of a group into 12 bits, 3 and 4 likewise,
		 * then the two into the lane's low 24 bits. */
		v = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));
		v = _mm_madd_epi16(v, _mm_set1_epi32(0x00011000));
		_mm_storeu_si128((__m128i *)out, _mm_shuffle_epi8(v, gather));
	}
	return done;
}

/*
 * Thirty-two characters to 24 bytes.  A character is checked by its two
 * nibbles: BAD_LO[low] has a bit for each kind of high nibble with which
 * that low nibble is not in the alphabet, and KIND[high] is the bit of
 * the high nibble's kind (bit 0: no character of the alphabet has it).
 * Its value is itself plus an offset looked up by its high nibble, '/'
 * apart (index 0).  Writes 32 bytes per 24 it decodes; returns how many
 * characters it took, a multiple of 32.
 */
__attribute__((target("avx2"))) static size_t
decode_avx2(unsigned char *out, const char *in, size_t n)
{
	const __m256i bad_lo = _mm256_setr_epi8(0x0b, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0x07, 0x15,
	    0x17, 0x17, 0x17, 0x15, 0x0b, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0x07, 0x15, 0x17, 0x17,
	    0x17, 0x15);
	const __m256i kind = _mm256_setr_epi8(1, 1, 2, 4, 8, 16, 8, 16, 1, 1, 1, 1, 1, 1, 1, 1,
	    1, 1, 2, 4, 8, 16, 8, 16, 1, 1, 1, 1, 1, 1, 1, 1);
	const __m256i offset = _mm256_setr_epi8(63 - '/', 0, 62 - '+', 52 - '0', -'A', -'A',
	    26 - 'a', 26 - 'a', 0, 0, 0, 0, 0, 0, 0, 0, 63 - '/', 0, 62 - '+', 52 - '0', -'A',
	    -'A', 26 - 'a', 26 - 'a', 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i gather = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	const __m256i nibble = _mm256_set1_epi8(0x0f);
	size_t done = 0;

	for (; n - done >= 32; done += 32, out += 24) {
		__m256i c = _mm256_loadu_si256((const __m256i *)(in + done));
		__m256i hi = _mm256_and_si256(_mm256_srli_epi32(c, 4), nibble);
		__m256i lo = _mm256_and_si256(c, nibble);
		__m256i bad = _mm256_and_si256(_mm256_shuffle_epi8(bad_lo, lo),
		    _mm256_shuffle_epi8(kind, hi));
		__m256i index, v;

		if (!_mm256_testz_si256(bad, bad))
			break;
		index = _mm256_andnot_si256(_mm256_cmpeq_epi8(c, _mm256_set1_epi8('/')), hi);
		v = _mm256_add_epi8(c, _mm256_shuffle_epi8(offset, index));
		v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
		v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
		v = _mm256_shuffle_epi8(v, gather);
		/* Each half's 12 bytes side by side. */
		v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7));
		_mm256_storeu_si256((__m256i *)out, v);
	}
	return done;
}
#endif

size_t
b64_encode(char *out, const void *in, size_t n)
{
	const unsigned char *p = in;
	char *o = out;
	size_t left = n;

	pthread_once(&tables_once, make_tables);
#ifdef B64_VECTOR
	if (vector == 2 && left >= 32) {
		size_t took = encode_avx2(o, p, left);

		p += took;
		o += took / 3 * 4;
		left -= took;
	}
	if (vector >= 1 && left >= 16) {
		size_t took = encode_vector(o, p, left);

		p += took;
		o += took / 3 * 4;
		left -= took;
	}
#endif
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

size_t
b64_decode(void *out, const char *in, size_t n)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned char *o = out;
	size_t i = 0, whole, pad = 0;
	uint32_t bad = 0, w;

	pthread_once(&tables_once, make_tables);
	if (n % 4)
		return (size_t)-1;
	if (n && p[n - 1] == '=')
		pad = p[n - 2] == '=' ? 2 : 1;
	whole = pad ? n - 4 : n;   /* the groups without padding */
#ifdef B64_VECTOR
	/* The vector paths write 16 bytes for 12 and 32 for 24: stopping
	 * 8 and 16 characters short of the whole groups keeps that inside
	 * OUT. */
	if (vector == 2 && whole >= 48) {
		i = decode_avx2(o, in, whole - 16);
		o += i / 4 * 3;
	}
	if (vector >= 1 && whole - i >= 24) {
		size_t took = decode_vector(o, in + i, whole - i - 8);

		i += took;
		o += took / 4 * 3;
	}
#endif
	for (; i < whole; i += 4, o += 3) {
		w = sextet[0][p[i]] | sextet[1][p[i + 1]] |
		    sextet[2][p[i + 2]] | sextet[3][p[i + 3]];
		bad |= w;
		o[0] = (uint8_t)(w >> 16);
		o[1] = (uint8_t)(w >> 8);
		o[2] = (uint8_t)w;
	}
	if (pad) {                     /* "xy==" is one byte, "xyz=" two */
		w = sextet[0][p[i]] | sextet[1][p[i + 1]] |
		    (pad == 1 ? sextet[2][p[i + 2]] : 0);
		bad |= w;
		if (w & (pad == 1 ? 0xff : 0xffff))
			bad |= BAD;        /* bits past the last byte */
		o[0] = (uint8_t)(w >> 16);
		if (pad == 1)
			o[1] = (uint8_t)(w >> 8);
		o += 3 - pad;
	}
	if (bad & BAD)
		return (size_t)-1;
	return (size_t)(o - (unsigned char *)out);
}
