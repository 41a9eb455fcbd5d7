/*
 * jsontree.c - jansson values from yajl's events (see jsontree.h).
 *
 * Each container is created when it opens and attached to its parent at
 * once, so only the innermost open object needs a pending key; jansson's
 * parser attaches it when it closes instead, which gives the same tree:
 * a repeated key replaces the value where the key first stood either way.
 * The open containers are borrowed pointers; the root holds them all, and
 * decref'ing it is the whole cleanup after a declined text.
 */
#include "jsontree.h"
#include "buf.h"
#include "exitcode.h"
#include "msg.h"
#include "yajlread.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct tree {
	struct yajlread read;
	json_t *root;                 /* the text's value, a new reference */
	size_t depth;                 /* containers open */
	const char *key;              /* the innermost object's pending key */
	size_t keylen;
	struct buf keycopy;           /* the key, when yajl decoded it */
	struct buf number;            /* a real's text, NUL-terminated for strtod */
	json_t *open[JSON_PARSER_MAX_DEPTH];
};

/* Attach V (a new reference, or NULL: out of memory, or a number jansson
 * refuses) to the innermost container; 0 declines the text. */
static int
attach(struct tree *t, json_t *v)
{
	json_t *parent;

	if (!v)
		return 0;
	if (t->depth == 0) {          /* a top-level scalar */
		json_decref(v);
		return 0;
	}
	parent = t->open[t->depth - 1];
	if (json_is_array(parent))
		return json_array_append_new(parent, v) == 0;
	return json_object_setn_new_nocheck(parent, t->key, t->keylen, v) == 0;
}

/* jansson counts every value, the innermost scalar too, against its limit
 * (JSON_PARSER_MAX_DEPTH); past it, it refuses the text. */
static int
scalar(struct tree *t, json_t *v)
{
	if (t->depth >= JSON_PARSER_MAX_DEPTH) {
		json_decref(v);
		return 0;
	}
	return attach(t, v);
}

static int
on_null(void *ctx)
{
	return scalar(ctx, json_null());
}

static int
on_boolean(void *ctx, int b)
{
	return scalar(ctx, json_boolean(b));
}

/* An integer as jansson reads it (strtoll), or NULL out of range. */
static json_t *
integer_value(const char *s, size_t len)
{
	size_t digits = len - (s[0] == '-');
	char text[24];
	long long v;

	if (digits <= 18) {           /* no overflow possible */
		const char *p = s + (s[0] == '-');

		v = 0;
		for (size_t i = 0; i < digits; i++)
			v = v * 10 + (p[i] - '0');
		return json_integer(s[0] == '-' ? -v : v);
	}
	if (len >= sizeof text)       /* far out of range */
		return NULL;
	memcpy(text, s, len);
	text[len] = '\0';
	errno = 0;
	v = strtoll(text, NULL, 10);
	return errno == ERANGE ? NULL : json_integer(v);
}

/*
 * The double strtod gives for a short decimal, computed exactly: when the
 * digits make an integer m below 10^15 (so m is an exact double) and the
 * decimal exponent e is within 22 (so 10^|e| is one too), m * 10^e or
 * m / 10^-e is a single correctly rounded operation, which is strtod's
 * result by definition.  Prices and rates are all of this kind.  Returns
 * 0 when the text is not (more digits, a larger exponent).
 */
static int
short_decimal(const char *s, size_t len, double *out)
{
	static const double powers[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
	};
	const char *p = s, *end = s + len;
	uint64_t m = 0;
	int digits = 0, scale = 0, exponent = 0, negative_exponent = 0;
	double d;

	p += *p == '-';
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		m = m * 10 + (uint64_t)(*p - '0');
		digits += m != 0;
	}
	if (p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9'; p++, scale++) {
			m = m * 10 + (uint64_t)(*p - '0');
			digits += m != 0;
		}
	if (p < end) {                /* e or E */
		p++;
		if (*p == '-' || *p == '+')
			negative_exponent = *p++ == '-';
		if (end - p > 3)
			return 0;
		for (; p < end; p++)
			exponent = exponent * 10 + (*p - '0');
	}
	if (digits > 15)
		return 0;
	exponent = (negative_exponent ? -exponent : exponent) - scale;
	if (exponent < -22 || exponent > 22)
		return 0;
	d = (double)m;
	d = exponent < 0 ? d / powers[-exponent] : d * powers[exponent];
	*out = s[0] == '-' ? -d : d;
	return 1;
}

/* A real as jansson reads it (strtod), or NULL if it overflows. */
static json_t *
real_value(struct tree *t, const char *s, size_t len)
{
	double d;

	if (short_decimal(s, len, &d))
		return json_real(d);
	t->number.len = 0;
	buf_add(&t->number, s, len);
	errno = 0;
	d = strtod(buf_cstr(&t->number), NULL);
	if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
		return NULL;
	return json_real(d);
}

/* yajl has checked the number against JSON's grammar; whether it is an
 * integer or a real is jansson's rule: neither a fraction nor an exponent. */
static int
on_number(void *ctx, const char *s, size_t len)
{
	struct tree *t = ctx;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
			return scalar(t, real_value(t, s, len));
	return scalar(t, integer_value(s, len));
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	return scalar(ctx, json_stringn_nocheck((const char *)s, len));
}

static int
on_map_key(void *ctx, const unsigned char *key, size_t len)
{
	struct tree *t = ctx;

	if (yajlread_in_text(&t->read, key, len)) {
		t->key = (const char *)key;  /* no NUL: yajlread_check saw none */
	} else {
		/* Decoded in yajl's buffer, which a string value reuses; a NUL
		 * from \u0000 is refused, as jansson cannot hold it in a key. */
		if (memchr(key, '\0', len))
			return 0;
		t->keycopy.len = 0;
		buf_add(&t->keycopy, key, len);
		t->key = buf_cstr(&t->keycopy);
	}
	t->keylen = len;
	return 1;
}

static int
open_container(struct tree *t, json_t *v)
{
	if (!v)
		return 0;
	if (t->depth == 0) {
		if (t->root) {            /* a second value on the line */
			json_decref(v);
			return 0;
		}
		t->root = v;
	} else if (t->depth >= JSON_PARSER_MAX_DEPTH) {
		json_decref(v);
		return 0;
	} else if (!attach(t, v)) {
		return 0;
	}
	t->open[t->depth++] = v;      /* borrowed: its parent holds it */
	return 1;
}

static int
close_container(void *ctx)
{
	struct tree *t = ctx;

	if (--t->depth == 0)
		yajlread_closed(&t->read);
	return 1;
}

static int
on_start_map(void *ctx)
{
	return open_container(ctx, json_object());
}

static int
on_start_array(void *ctx)
{
	return open_container(ctx, json_array());
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = close_container,
	.yajl_start_array = on_start_array,
	.yajl_end_array = close_container,
};

/*
 * One tree builder per thread: etl-map's workers parse at the same time.
 * The pointer is thread-local for speed; the key's destructor frees the
 * builder when a worker thread exits (the main thread's lives until exit).
 */
static _Thread_local struct tree *this_thread;
static pthread_key_t tree_key;
static pthread_once_t tree_key_once = PTHREAD_ONCE_INIT;

static void
tree_free(void *arg)
{
	struct tree *t = arg;

	yajlread_free(&t->read);
	buf_free(&t->keycopy);
	buf_free(&t->number);
	free(t);
}

static void
make_tree_key(void)
{
	if (pthread_key_create(&tree_key, tree_free) != 0)
		msg_die(EXIT_SOFTWARE, NULL, "out of thread keys");
}

static struct tree *
thread_tree(void)
{
	struct tree *t = this_thread;

	if (t)
		return t;
	pthread_once(&tree_key_once, make_tree_key);
	if (!(t = calloc(1, sizeof *t)))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	yajlread_init(&t->read, &callbacks, t);
	if (pthread_setspecific(tree_key, t) != 0)
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	return this_thread = t;
}

/* ---- flat records, without yajl ----------------------------------------
 *
 * Most records are flat: {"key":value,...} with strings that have no
 * escapes.  yajl looks at every byte of such a string through a table,
 * one at a time, and on a 1 MB string (a body, base64) that was a fifth
 * of etl-map's time; memchr finds its end many times faster.  The bytes
 * have passed yajlread_check, so a string without a backslash is its own
 * value.  Anything else (an escape, a nested object or array, a number
 * outside JSON's grammar or jansson's range, a syntax error) declines, and
 * yajl reads the text from the start, so every answer is still the one
 * json_loadb would give.
 */

static const char *
skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/*
 * Is P[0..N) free of backslashes and bytes below 0x20?  (Of those only
 * tab, CR and LF pass yajlread_check: blanks between tokens, not in a
 * string.)  A word at a time: (w - 0x20..) & ~w sets a byte's top bit when
 * it is below 0x20, (x - 0x01..) & ~x when x's byte is zero, here where
 * w's is a backslash; a false alarm only follows a true one.
 */
static int
plain_text(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
	uint64_t w, x, seen = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, sizeof w);
		x = w ^ (ones * '\\');
		seen |= ((w - ones * 0x20) & ~w) | ((x - ones) & ~x);
	}
	if (seen & high)
		return 0;
	for (; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == '\\')
			return 0;
	return 1;
}

/* The end of the string whose text starts at P (after its quote), or NULL
 * if it has an escape, a tab or line break, or no end.  In a PLAIN text
 * (see yajlread_check_plain) there are none of those to look for. */
static const char *
plain_string_end(const char *p, const char *end, int plain)
{
	const char *q = memchr(p, '"', end - p);

	return q && (plain || plain_text(p, q - p)) ? q : NULL;
}

/* The end of the JSON number at P, or NULL if there is none there. */
static const char *
number_end(const char *p, const char *end)
{
	p += p < end && *p == '-';
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (p < end && *p == '.') {
		if (++p == end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		p += p < end && (*p == '+' || *p == '-');
		if (p == end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

/* The scalar value at *P (not a container), advancing *P past it; NULL
 * to decline. */
static json_t *
flat_value(struct tree *t, const char **pp, const char *end, int plain)
{
	const char *p = *pp, *q;
	size_t n;

	switch (*p) {
	case '"':
		if (!(q = plain_string_end(p + 1, end, plain)))
			return NULL;
		*pp = q + 1;
		return json_stringn_nocheck(p + 1, q - p - 1);
	case 't':
	case 'f':
	case 'n':
		n = *p == 'f' ? 5 : 4;
		if ((size_t)(end - p) < n || memcmp(p, *p == 't' ? "true" : *p == 'f'
		    ? "false" : "null", n) != 0)
			return NULL;
		*pp = p + n;
		return *p == 't' ? json_true() : *p == 'f' ? json_false() : json_null();
	default:
		if (!(q = number_end(p, end)))
			return NULL;
		*pp = q;
		for (const char *c = p; c < q; c++)
			if (*c == '.' || *c == 'e' || *c == 'E')
				return real_value(t, p, q - p);
		return integer_value(p, q - p);
	}
}

/* DATA[0..LEN) as a flat object, or NULL to decline. */
static json_t *
flat_object(struct tree *t, const char *data, size_t len, int plain)
{
	const char *p = data, *end = data + len, *key, *q;
	json_t *obj, *v;

	p = skip_blanks(p, end);
	if (p == end || *p != '{')
		return NULL;
	p = skip_blanks(p + 1, end);
	if (!(obj = json_object()))
		return NULL;
	if (p < end && *p == '}') {
		p++;
		goto closed;
	}
	for (;;) {
		if (p == end || *p != '"' || !(q = plain_string_end(p + 1, end, plain)))
			break;
		key = p + 1;
		p = skip_blanks(q + 1, end);
		if (p == end || *p != ':')
			break;
		p = skip_blanks(p + 1, end);
		if (p == end || !(v = flat_value(t, &p, end, plain)))
			break;
		/* No NUL in the key: yajlread_check passed no control byte. */
		if (json_object_setn_new_nocheck(obj, key, q - key, v) != 0)
			break;
		p = skip_blanks(p, end);
		if (p < end && *p == ',') {
			p = skip_blanks(p + 1, end);
			continue;
		}
		if (p < end && *p == '}') {
			p++;
			goto closed;
		}
		break;
	}
	json_decref(obj);
	return NULL;
closed:
	if (skip_blanks(p, end) != end) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *
jsontree_parse(const char *data, size_t len)
{
	struct tree *t;
	json_t *v;
	int plain;

	if (yajlread_check_plain(data, len, &plain, NULL, 0) != YAJLREAD_VALID)
		return NULL;
	t = thread_tree();
	if ((v = flat_object(t, data, len, plain)))
		return v;
	t->root = NULL;
	t->depth = 0;
	if (yajlread_parse(&t->read, data, len, NULL, 0) != YAJLREAD_OK) {
		json_decref(t->root);
		t->root = NULL;
		return NULL;
	}
	v = t->root;
	t->root = NULL;
	return v;
}
