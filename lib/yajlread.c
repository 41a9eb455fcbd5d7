/*
 * yajlread.c - a reused yajl handle and the checks around it (see
 * yajlread.h).
 *
 * One yajl handle serves text after text (yajl_allow_multiple_values):
 * allocating a parser per record cost as much as the parsing.  The handle
 * is only reused after a text that ended cleanly; after an error, a
 * cancelled read or trailing text, a fresh one is made, so nothing of a
 * bad text can reach the next.
 */
#include "yajlread.h"
#include "exitcode.h"
#include "msg.h"
#include "utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void
new_handle(struct yajlread *r)
{
	if (r->handle)
		yajl_free(r->handle);
	r->handle = yajl_alloc(r->callbacks, NULL, r->ctx);
	if (!r->handle || !yajl_config(r->handle, yajl_allow_multiple_values, 1))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
}

void
yajlread_init(struct yajlread *r, const yajl_callbacks *callbacks, void *ctx)
{
	memset(r, 0, sizeof *r);
	r->callbacks = callbacks;
	r->ctx = ctx;
	new_handle(r);
}

void
yajlread_free(struct yajlread *r)
{
	if (r->handle)
		yajl_free(r->handle);
	r->handle = NULL;
}

/*
 * Are the eight bytes at P all plain: none below 0x20, none from 0x80,
 * no backslash?  Most of a record is, and a word at a time is several
 * times faster than a byte at a time.  Subtracting 0x20 from each byte
 * sets a byte's top bit when it is below 0x20 (a borrow into the next
 * byte only follows such a byte); (x - 1) & ~x sets it for a zero byte of
 * x, here a backslash.  A false alarm only follows a true one, and either
 * way the bytes are then looked at one by one.
 */
static int
plain_word(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
	uint64_t w, x;

	memcpy(&w, p, sizeof w);
	x = w ^ (ones * '\\');
	return (((w - ones * 0x20) | w | ((x - ones) & ~x)) & high) == 0;
}

/* Are the 32 bytes at P all plain?  The same test on four words at once,
 * one branch: a long string goes by at several bytes a cycle. */
static int
plain_block(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
	uint64_t w, x, seen = 0;

	for (int i = 0; i < 4; i++) {
		memcpy(&w, p + 8 * i, sizeof w);
		x = w ^ (ones * '\\');
		seen |= (w - ones * 0x20) | w | ((x - ones) & ~x);
	}
	return (seen & high) == 0;
}

/*
 * What yajl lets through and JSON does not: bytes that are not UTF-8 (yajl
 * checks a sequence's shape, not overlong forms, surrogates or the range),
 * control bytes (form feeds as blanks, a NUL after a number), and \u
 * escapes of unpaired surrogates (yajl writes "?").  The bytes are checked
 * here; a text with a \uD... escape (rare: paired or not) is left to the
 * caller, who asks jansson.
 */
enum yajlread_check
yajlread_check(const char *data, size_t len, char *err, size_t errsize)
{
	int plain;

	return yajlread_check_plain(data, len, &plain, err, errsize);
}

enum yajlread_check
yajlread_check_plain(const char *data, size_t len, int *plain, char *err,
    size_t errsize)
{
	const unsigned char *p = (const unsigned char *)data, *end = p + len;
	int surrogate = 0;

	*plain = 1;
	while (p < end) {
		size_t n;

		if (end - p >= 32 && plain_block(p)) {
			p += 32;
			continue;
		}
		if (end - p >= 8 && plain_word(p)) {
			p += 8;
			continue;
		}
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
			if (err)
				snprintf(err, errsize, "invalid JSON: control byte 0x%02x"
				    " at column %zu", *p,
				    (size_t)(p - (const unsigned char *)data) + 1);
			return YAJLREAD_INVALID;
		}
		if (*p < 0x80) {
			if (*p == '\\' || *p < 0x20)
				*plain = 0;
			if (*p == '\\' && end - p > 2 && p[1] == 'u' &&
			    (p[2] == 'd' || p[2] == 'D'))
				surrogate = 1;
			p++;
			continue;
		}
		if ((n = utf8_sequence(p, end)) == 0) {
			if (err)
				snprintf(err, errsize, "invalid JSON: invalid UTF-8 byte"
				    " 0x%02x at column %zu", *p,
				    (size_t)(p - (const unsigned char *)data) + 1);
			return YAJLREAD_INVALID;
		}
		p += n;
	}
	return surrogate ? YAJLREAD_SURROGATE : YAJLREAD_VALID;
}

static int
blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 0;
	return 1;
}

/* yajl's own message, one line: "invalid JSON: parse error: ...". */
static void
parser_error(struct yajlread *r, char *err, size_t errsize)
{
	unsigned char *text = yajl_get_error(r->handle, 0,
	    (const unsigned char *)r->data, r->len);
	size_t n = text ? strcspn((char *)text, "\n") : 0;

	snprintf(err, errsize, "invalid JSON: %.*s", (int)n,
	    text ? (char *)text : "");
	if (text)
		yajl_free_error(r->handle, text);
}

enum yajlread_result
yajlread_parse(struct yajlread *r, const char *data, size_t len, char *err,
    size_t errsize)
{
	enum yajlread_result result;
	yajl_status st;

	r->data = data;
	r->len = len;
	r->closed = 0;
	st = yajl_parse(r->handle, (const unsigned char *)data, len);
	if (st == yajl_status_ok && r->closed && blank(data + r->end, len - r->end))
		return YAJLREAD_OK;
	if (st == yajl_status_client_canceled) {
		result = YAJLREAD_CANCELLED;
	} else if (st == yajl_status_error) {
		result = YAJLREAD_ERROR;
		if (err)
			parser_error(r, err, errsize);
	} else {
		result = r->closed ? YAJLREAD_TRAILING : YAJLREAD_UNCLOSED;
	}
	new_handle(r);
	return result;
}
