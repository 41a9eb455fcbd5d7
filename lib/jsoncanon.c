/*
 * jsoncanon.c - JSON texts already in jsonout's form (see jsoncanon.h).
 *
 * A recursive scan that answers 0 at the first thing it does not want to
 * reason about.  What it accepts is, token by token, what jsonout writes
 * for what jansson reads: a string without escapes is its own bytes (the
 * UTF-8 rules are jansson's, lib/utf8.h); an integer of at most 18
 * characters fits json_int_t and has no other decimal form once "-0" is
 * left out; a real is checked by writing it (jsonout_real of what strtod
 * reads, as jansson reads it) and comparing.
 */
#include "jsoncanon.h"
#include "buf.h"
#include "jsonout.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

enum {
	MAX_DEPTH = 32,
	MAX_KEYS = 256,     /* keys of the objects open at once */
	MAX_NUMBER = 40,    /* characters of a number */
};

struct scan {
	const unsigned char *p, *end;
	/* The keys of the objects being read, innermost last, to find a
	 * repeated key. */
	const unsigned char *key[MAX_KEYS];
	size_t keylen[MAX_KEYS];
	int nkeys;
};

static int value(struct scan *s, int depth);

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* 1 for the bytes that end a plain run in a string: controls, '"', '\\'
 * and every byte from 0x80 (UTF-8, checked apart). */
static const unsigned char stops[256] = {
	[0x00] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x10] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
	[0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x90] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xa0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xb0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xc0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xd0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xe0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xf0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* A string without escapes; *TEXT and *LEN get its bytes. */
static int
string(struct scan *s, const unsigned char **text, size_t *len)
{
	const unsigned char *p = s->p + 1, *end = s->end;  /* after the quote */

	*text = p;
	for (;;) {
		size_t n;

		while (p < end && !stops[*p])
			p++;
		if (p == end || *p == '\\' || *p < 0x20)
			return 0;
		if (*p == '"')
			break;
		if ((n = utf8_sequence(p, end)) == 0)
			return 0;
		p += n;
	}
	*len = (size_t)(p - *text);
	s->p = p + 1;
	return 1;
}

static const unsigned char *
digits(const unsigned char *p, const unsigned char *end)
{
	while (p < end && is_digit(*p))
		p++;
	return p;
}

/*
 * Is START..END (a valid JSON number) a decimal that jsonout_real writes
 * as it is: no exponent, 1 to 8 decimals not ending in 0 (or just ".0"
 * after a non-zero integer part), at most 15 significant digits and at
 * least 1e-4?  A double holds every decimal of 15 digits apart, so the
 * shortest decimal that reads back as it is this one, and jsonout finds
 * it by its short_decimal path.  Others are checked by writing them.
 */
static int
plain_decimal(const unsigned char *start, const unsigned char *end)
{
	const unsigned char *p = start, *dot;
	size_t sig, decimals;

	if (*p == '-')
		p++;
	if (!(dot = memchr(p, '.', (size_t)(end - p))) || memchr(dot, 'e', (size_t)(end - dot)) ||
	    memchr(dot, 'E', (size_t)(end - dot)))
		return 0;
	decimals = (size_t)(end - dot - 1);
	if (decimals > 8)
		return 0;
	if (*p != '0') {  /* a non-zero integer part */
		sig = (size_t)(dot - p) + decimals;
		if (decimals == 1 && dot[1] == '0')
			return sig <= 16;  /* "12.0": 15 digits and the zero */
	} else {          /* 0.000ddd: at most three zeros after the point */
		const unsigned char *q = dot + 1;

		while (q < end && *q == '0')
			q++;
		if (q == end || q - dot - 1 > 3)
			return 0;
		sig = (size_t)(end - q);
	}
	return sig <= 15 && end[-1] != '0';
}

static int
number(struct scan *s)
{
	const unsigned char *start = s->p, *p = start, *end = s->end;
	int real = 0;
	size_t n;

	if (*p == '-')
		p++;
	if (p == end || !is_digit(*p))
		return 0;
	if (*p == '0')
		p++;
	else
		p = digits(p, end);
	if (p < end && *p == '.') {
		real = 1;
		if (++p == end || !is_digit(*p))
			return 0;
		p = digits(p, end);
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		real = 1;
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			return 0;
		p = digits(p, end);
	}
	n = (size_t)(p - start);
	if (p == end || is_digit(*p))  /* no closing bracket; "01" */
		return 0;
	if (!real) {
		if (n > 18 || (n == 2 && start[0] == '-'))  /* "-0" is written "0" */
			return 0;
	} else if (!plain_decimal(start, p)) {
		char text[MAX_NUMBER + 1], out[64];
		/* jsonout_real writes at most 26 bytes: this never grows. */
		struct buf b = { out, 0, sizeof out };

		if (n > MAX_NUMBER)
			return 0;
		memcpy(text, start, n);
		text[n] = '\0';
		jsonout_real(&b, strtod(text, NULL));
		if (b.len != n || memcmp(out, text, n) != 0)
			return 0;
	}
	s->p = p;
	return 1;
}

static int
literal(struct scan *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return 0;
	s->p += n;
	return 1;
}

/* An object; TOP: the record itself, which must not be a control line. */
static int
object(struct scan *s, int depth, int top)
{
	int first = s->nkeys, k;

	s->p++;
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 1;
	}
	for (;;) {
		k = s->nkeys;
		if (s->p == s->end || *s->p != '"' || k == MAX_KEYS ||
		    !string(s, &s->key[k], &s->keylen[k]))
			return 0;
		for (int i = first; i < k; i++)
			if (s->keylen[i] == s->keylen[k] &&
			    memcmp(s->key[i], s->key[k], s->keylen[k]) == 0)
				return 0;  /* jansson keeps one of the two */
		s->nkeys++;
		if (s->p == s->end || *s->p++ != ':' || !value(s, depth + 1))
			return 0;
		if (s->p == s->end)
			return 0;
		if (*s->p == '}')
			break;
		if (*s->p++ != ',')
			return 0;
	}
	s->p++;
	k = s->nkeys - first;
	s->nkeys = first;  /* the object is closed: its keys are done with */
	return !(top && k == 1 && s->keylen[first] == 4 &&
	    memcmp(s->key[first], "$etl", 4) == 0);
}

static int
array(struct scan *s, int depth)
{
	s->p++;
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 1;
	}
	for (;;) {
		if (!value(s, depth + 1) || s->p == s->end)
			return 0;
		if (*s->p == ']')
			break;
		if (*s->p++ != ',')
			return 0;
	}
	s->p++;
	return 1;
}

static int
value(struct scan *s, int depth)
{
	const unsigned char *text;
	size_t len;

	if (s->p == s->end || depth > MAX_DEPTH)
		return 0;
	switch (*s->p) {
	case '{': return object(s, depth, 0);
	case '[': return array(s, depth);
	case '"': return string(s, &text, &len);
	case 't': return literal(s, "true", 4);
	case 'f': return literal(s, "false", 5);
	case 'n': return literal(s, "null", 4);
	default: return number(s);
	}
}

int
jsoncanon_object(const char *data, size_t len)
{
	struct scan s;

	s.p = (const unsigned char *)data;
	s.end = s.p + len;
	s.nkeys = 0;
	return len > 0 && *s.p == '{' && object(&s, 0, 1) && s.p == s.end;
}
