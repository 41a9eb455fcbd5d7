/* cell.c - JSON values to column cells (see cell.h). */
#include "cell.h"
#include "buf.h"
#include "jsonout.h"

#include <ctype.h>
#include <jansson.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { BLOCK_SIZE = 64 * 1024 };

struct cell_block {
	struct cell_block *next;
	size_t used, size;
	char data[];
};

const char *
cell_arena_add(struct cell_arena *a, const char *p, size_t n)
{
	struct cell_block *b = a->blocks;
	char *at;

	if (!b || b->size - b->used < n) {
		size_t size = n > BLOCK_SIZE ? n : BLOCK_SIZE;

		if (!(b = malloc(sizeof *b + size)))
			return NULL;
		b->used = 0;
		b->size = size;
		b->next = a->blocks;
		a->blocks = b;
	}
	at = b->data + b->used;
	memcpy(at, p, n);
	b->used += n;
	return at;
}

void
cell_arena_reset(struct cell_arena *a)
{
	struct cell_block *b = a->blocks, *next;

	if (!b)
		return;
	for (next = b->next; next; next = b->next) {
		b->next = next->next;
		free(next);
	}
	b->used = 0;
}

void
cell_arena_free(struct cell_arena *a)
{
	while (a->blocks) {
		struct cell_block *next = a->blocks->next;

		free(a->blocks);
		a->blocks = next;
	}
}

/* ---- ISO-8601 ------------------------------------------------------- */

static int
digits(const char *s, size_t n, size_t at, size_t count)
{
	if (at + count > n)
		return 0;
	for (size_t i = at; i < at + count; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
number_at(const char *s, size_t at, size_t count)
{
	int v = 0;

	for (size_t i = at; i < at + count; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int
days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* A calendar date: Feb 29 only in leap years, as every database says. */
int
cell_is_date(const char *s, size_t n)
{
	int month, day;

	if (n != 10 || !digits(s, n, 0, 4) || s[4] != '-' || !digits(s, n, 5, 2) ||
	    s[7] != '-' || !digits(s, n, 8, 2))
		return 0;
	month = number_at(s, 5, 2);
	day = number_at(s, 8, 2);
	return month >= 1 && month <= 12 && day >= 1 &&
	    day <= days_in_month(number_at(s, 0, 4), month);
}

/* Length of a zone suffix at S[0..N): "", "Z", "+HH", "+HH:MM", "+HHMM". */
static int
zone_ok(const char *s, size_t n)
{
	if (n == 0 || (n == 1 && (*s == 'Z' || *s == 'z')))
		return 1;
	if (*s != '+' && *s != '-')
		return 0;
	if (n == 3)
		return digits(s, n, 1, 2);
	if (n == 5)
		return digits(s, n, 1, 4);
	return n == 6 && digits(s, n, 1, 2) && s[3] == ':' && digits(s, n, 4, 2);
}

int
cell_is_time(const char *s, size_t n)
{
	size_t i = 5;

	if (!digits(s, n, 0, 2) || n < 5 || s[2] != ':' || !digits(s, n, 3, 2) ||
	    number_at(s, 0, 2) > 24 || number_at(s, 3, 2) > 59)
		return 0;
	if (i < n && s[i] == ':') {
		if (!digits(s, n, i + 1, 2) || number_at(s, i + 1, 2) > 60)
			return 0;
		i += 3;
		if (i < n && (s[i] == '.' || s[i] == ',')) {
			size_t f = ++i;

			while (i < n && isdigit((unsigned char)s[i]))
				i++;
			if (i == f)
				return 0;
		}
	}
	return zone_ok(s + i, n - i);
}

int
cell_is_timestamp(const char *s, size_t n)
{
	if (n == 10)
		return cell_is_date(s, n);  /* a date alone is midnight */
	return n > 11 && cell_is_date(s, 10) &&
	    (s[10] == 'T' || s[10] == 't' || s[10] == ' ') &&
	    cell_is_time(s + 11, n - 11);
}

/* ---- numbers -------------------------------------------------------- */

/* A JSON-style number in S[0..N): optional '-', digits, fraction, exponent. */
static int
is_number_text(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i == n || !isdigit((unsigned char)s[i]))
		return 0;
	while (i < n && isdigit((unsigned char)s[i]))
		i++;
	if (i < n && s[i] == '.') {
		if (++i == n || !isdigit((unsigned char)s[i]))
			return 0;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == n || !isdigit((unsigned char)s[i]))
			return 0;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	}
	return i == n;
}

static int
is_integer_text(const char *s, size_t n, long long *v)
{
	char tmp[32], *end;
	size_t i = n > 0 && s[0] == '-';
	long long u = 0;

	/* Up to 18 digits cannot overflow: the common case, without strtoll. */
	if (n > i && n - i <= 18) {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			u = u * 10 + (s[i++] - '0');
		if (i == n) {
			*v = s[0] == '-' ? -u : u;
			return 1;
		}
	}
	if (n == 0 || n >= sizeof tmp)
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (!isdigit((unsigned char)tmp[tmp[0] == '-' || tmp[0] == '+']))
		return 0;
	errno = 0;
	*v = strtoll(tmp, &end, 10);
	return errno == 0 && *end == '\0';
}

/* ---- conversion ----------------------------------------------------- */

static const char *
type_label(const struct db_column *col)
{
	return col->type_name ? col->type_name : "the column's type";
}

/* V as JSON text: strings quoted and escaped, everything else as it is. */
static void
field_json(struct buf *b, const struct field *v)
{
	if (v->kind == FIELD_STRING)
		jsonout_string(b, v->text, v->len);
	else
		buf_add(b, v->text, v->len);
}

static int
refuse(const struct db_column *col, const struct field *v, char *err,
    size_t errsize)
{
	struct buf text = BUF_INIT;

	field_json(&text, v);
	if (text.len > 100) {
		text.len = 97;
		buf_adds(&text, "...");
	}
	snprintf(err, errsize, "column \"%s\": invalid value for type %s: %s",
	    col->name, type_label(col), buf_cstr(&text));
	buf_free(&text);
	return -1;
}

static int
set_text(struct cell *out, enum cell_kind kind, const char *p, size_t n,
    struct cell_arena *arena)
{
	out->kind = kind;
	out->len = n;
	out->text = cell_arena_add(arena, p, n);
	return out->text ? 0 : -1;
}

/* A value's JSON text, kept in the arena. */
static int
set_json_text(struct cell *out, enum cell_kind kind, const struct field *v,
    struct cell_arena *arena)
{
	static _Thread_local struct buf text;

	if (v->kind != FIELD_STRING)
		return set_text(out, kind, v->text, v->len, arena);
	text.len = 0;
	field_json(&text, v);
	return set_text(out, kind, text.data, text.len, arena);
}

/* A number's double: 0, 1 when it underflowed (1e-400 is 0 here, and an
 * error to a database), or -1 when it is not finite. */
static int
number_value(const char *s, size_t n, double *d)
{
	char tmp[64], *copy = n < sizeof tmp ? tmp : malloc(n + 1);
	int underflow;

	if (!copy)
		return -1;
	memcpy(copy, s, n);
	copy[n] = '\0';
	errno = 0;
	*d = strtod(copy, NULL);
	underflow = errno == ERANGE;
	if (copy != tmp)
		free(copy);
	return !isfinite(*d) ? -1 : underflow;
}

static int
to_integer(const struct db_column *col, const struct field *v, struct cell *out,
    char *err, size_t errsize)
{
	double d;

	out->kind = CELL_INT;
	if (v->kind == FIELD_NUMBER && v->integer) {
		if (is_integer_text(v->text, v->len, &out->i))
			return 0;
	} else if (v->kind == FIELD_NUMBER) {
		/* An integral real (5.0, 1e3) is that integer. */
		if (number_value(v->text, v->len, &d) >= 0 && d == floor(d) &&
		    fabs(d) < 9.2e18) {
			out->i = (long long)d;
			return 0;
		}
	} else if (v->kind == FIELD_STRING && is_integer_text(v->text, v->len, &out->i)) {
		return 0;
	}
	return refuse(col, v, err, errsize);
}

static int
to_real(const struct db_column *col, const struct field *v, struct cell *out,
    struct cell_arena *arena, char *err, size_t errsize)
{
	static _Thread_local struct buf text;
	int rc;

	if ((v->kind == FIELD_NUMBER ||
	    (v->kind == FIELD_STRING && is_number_text(v->text, v->len))) &&
	    (rc = number_value(v->text, v->len, &out->d)) >= 0) {
		/* A number as written reads back as d; a string or an
		 * underflow gets d's own shortest text. */
		if (v->kind == FIELD_NUMBER && rc == 0)
			return set_text(out, CELL_REAL, v->text, v->len, arena);
		text.len = 0;
		jsonout_real(&text, out->d);
		return set_text(out, CELL_REAL, text.data, text.len, arena);
	}
	return refuse(col, v, err, errsize);
}

/* Numerics keep the number as written: exact, whatever its precision. */
static int
to_numeric(const struct db_column *col, const struct field *v, struct cell *out,
    struct cell_arena *arena, char *err, size_t errsize)
{
	if (v->kind == FIELD_NUMBER ||
	    (v->kind == FIELD_STRING && is_number_text(v->text, v->len)))
		return set_text(out, CELL_TEXT, v->text, v->len, arena);
	return refuse(col, v, err, errsize);
}

/*
 * A boolean written as text: the words PostgreSQL's boolean input takes
 * (true/false, t/f, yes/no, y/n, on/off, 1/0, in any case), so that a CSV
 * file loads the same through etl-load-sql as through COPY.  PostgreSQL
 * also takes a unique prefix ("tr") and surrounding blanks; those are
 * refused here, as is anything else.
 */
static int
boolean_text(const char *s, size_t n, long long *v)
{
	static const char *const words[] = { "true", "t", "yes", "y", "on",
	    "1", "false", "f", "no", "n", "off", "0" };

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (n == strlen(words[i]) && strncasecmp(s, words[i], n) == 0) {
			*v = i < 6;
			return 1;
		}
	return 0;
}

static int
to_boolean(const struct db_column *col, const struct field *v, struct cell *out,
    char *err, size_t errsize)
{
	out->kind = CELL_BOOL;
	if (v->kind == FIELD_TRUE || v->kind == FIELD_FALSE) {
		out->i = v->kind == FIELD_TRUE;
		return 0;
	}
	if (v->kind == FIELD_NUMBER && v->integer &&
	    is_integer_text(v->text, v->len, &out->i) && (out->i == 0 || out->i == 1))
		return 0;
	if (v->kind == FIELD_STRING && boolean_text(v->text, v->len, &out->i))
		return 0;
	return refuse(col, v, err, errsize);
}

/*
 * The databases disagree on what they do with a time beyond what they
 * store, so the loader settles it before any of them sees it, as
 * PostgreSQL does: fractional seconds are rounded to microseconds, a zone
 * offset on a timestamp is applied (the result is UTC, the sessions' zone),
 * 24:00:00 is the end of the day (the next day's midnight in a timestamp)
 * and a leap second :60 the next minute; a decimal comma becomes a point,
 * which is all the servers read.  A time of day with an offset is
 * refused unless its column keeps the zone (PostgreSQL would drop it
 * silently).  Values that need none of this travel as written.
 */
struct clock {
	int hour, minute, second;
	long micro;                   /* rounded to 6 digits: may be 1000000 */
	size_t fraction_digits;
	int comma;                    /* ISO-8601's other decimal sign */
	const char *zone;             /* "" when none */
	size_t zone_len;
};

/* Read the time of day at S[0..N), checked by cell_is_time. */
static void
clock_read(const char *s, size_t n, struct clock *c)
{
	size_t i = 5;

	memset(c, 0, sizeof *c);
	c->hour = number_at(s, 0, 2);
	c->minute = number_at(s, 3, 2);
	if (i < n && s[i] == ':') {
		c->second = number_at(s, i + 1, 2);
		i += 3;
		if (i < n && (s[i] == '.' || s[i] == ',')) {
			long scale = 100000;

			c->comma = s[i] == ',';
			for (i++; i < n && isdigit((unsigned char)s[i]); i++, c->fraction_digits++) {
				if (c->fraction_digits < 6)
					c->micro += (s[i] - '0') * scale;
				else if (c->fraction_digits == 6 && s[i] >= '5')
					c->micro++;       /* rounds half up */
				scale /= 10;
			}
		}
	}
	c->zone = s + i;
	c->zone_len = n - i;
}

/* The zone's offset east of UTC in seconds. */
static long
zone_offset(const char *z, size_t n)
{
	long sign, hours, minutes = 0;

	if (n == 0 || *z == 'Z' || *z == 'z')
		return 0;
	sign = *z == '-' ? -1 : 1;
	hours = number_at(z, 1, 2);
	if (n == 5)
		minutes = number_at(z, 3, 2);
	else if (n == 6)
		minutes = number_at(z, 4, 2);
	return sign * (hours * 3600 + minutes * 60);
}

/* ".123457" with trailing zeros gone, or "" for a whole second. */
static void
add_fraction(struct buf *b, long micro)
{
	char f[16];
	int len;

	if (micro == 0)
		return;
	len = snprintf(f, sizeof f, ".%06ld", micro);
	while (len > 1 && f[len - 1] == '0')
		len--;
	buf_add(b, f, (size_t)len);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so that no time_t or time zone is involved. */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* 24:00:00 is the only time past 23:59:59.999999. */
static int
clock_valid(const struct clock *c)
{
	return c->hour < 24 || (c->minute == 0 && c->second == 0 && c->micro == 0);
}

/* A timestamp S[0..N) as "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC into B;
 * 0, 1 when it needs no change, -1 when it is no time at all. */
static int
settle_timestamp(const char *s, size_t n, struct buf *b)
{
	struct clock c;
	long long day, seconds, y;
	int m, d;
	char text[64];

	if (n == 10)
		return 1;
	clock_read(s + 11, n - 11, &c);
	if (!clock_valid(&c))
		return -1;
	if (c.fraction_digits <= 6 && c.second != 60 && c.hour != 24 &&
	    c.zone_len == 0 && !c.comma)
		return 1;
	day = days_from_civil(number_at(s, 0, 4), number_at(s, 5, 2), number_at(s, 8, 2));
	seconds = day * 86400 + c.hour * 3600LL + c.minute * 60LL + c.second +
	    c.micro / 1000000 - zone_offset(c.zone, c.zone_len);
	c.micro %= 1000000;
	day = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
	seconds -= day * 86400;
	civil_from_days(day, &y, &m, &d);
	if (y < 1 || y > 9999)
		return -1;
	snprintf(text, sizeof text, "%04lld-%02d-%02d %02lld:%02lld:%02lld", y, m, d,
	    seconds / 3600, seconds / 60 % 60, seconds % 60);
	b->len = 0;
	buf_adds(b, text);
	add_fraction(b, c.micro);
	return 0;
}

/* A time of day S[0..N) as "HH:MM:SS[.ffffff]" into B, the zone kept
 * when KEEP_ZONE (timetz) and refused otherwise. */
static int
settle_time(const char *s, size_t n, int keep_zone, struct buf *b)
{
	struct clock c;
	long long seconds;
	char text[32];

	clock_read(s, n, &c);
	if (!clock_valid(&c) || (c.zone_len > 0 && !keep_zone))
		return -1;
	if (c.fraction_digits <= 6 && c.second != 60 && !c.comma)
		return 1;
	seconds = c.hour * 3600LL + c.minute * 60LL + c.second + c.micro / 1000000;
	c.micro %= 1000000;
	if (seconds > 86400 || (seconds == 86400 && c.micro > 0))
		return -1;
	snprintf(text, sizeof text, "%02lld:%02lld:%02lld", seconds / 3600,
	    seconds / 60 % 60, seconds % 60);
	b->len = 0;
	buf_adds(b, text);
	add_fraction(b, c.micro);
	buf_add(b, c.zone, c.zone_len);
	return 0;
}

static int
to_temporal(const struct db_column *col, const struct field *v, struct cell *out,
    struct cell_arena *arena, char *err, size_t errsize)
{
	static _Thread_local struct buf text;
	int rc = 1;

	if (v->kind != FIELD_STRING)
		return refuse(col, v, err, errsize);
	switch (col->type) {
	case DB_TYPE_DATE:
		rc = cell_is_date(v->text, v->len) ? 1 : -1;
		break;
	case DB_TYPE_TIME:
		rc = cell_is_time(v->text, v->len) ? settle_time(v->text, v->len,
		    col->type_name && strstr(col->type_name, "with time zone"), &text) : -1;
		break;
	default:
		rc = cell_is_timestamp(v->text, v->len) ? settle_timestamp(v->text,
		    v->len, &text) : -1;
		break;
	}
	if (rc < 0)
		return refuse(col, v, err, errsize);
	if (rc == 0)
		return set_text(out, CELL_TEXT, text.data, text.len, arena);
	return set_text(out, CELL_TEXT, v->text, v->len, arena);
}

/* ---- bytes ----------------------------------------------------------- */

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Bytes travel in PostgreSQL's hex form, "\x6869", on every database (the
 * backends decode it where the server does not): a string that starts
 * with \x is hex digits, two a byte; any other value is its own bytes,
 * a string's UTF-8 or a number's JSON text.  So "hi" and "\x6869" land as
 * the same two bytes everywhere, and PostgreSQL's escape format, which
 * reads backslashes in a plain string, never comes into it.
 */
static int
to_bytes(const struct db_column *col, const struct field *v, struct cell *out,
    struct cell_arena *arena, char *err, size_t errsize)
{
	static _Thread_local struct buf text;
	static const char hex[] = "0123456789abcdef";

	if (v->kind == FIELD_STRING && v->len >= 2 && v->text[0] == '\\' &&
	    v->text[1] == 'x') {
		if (v->len % 2 != 0)
			return refuse(col, v, err, errsize);
		for (size_t i = 2; i < v->len; i++)
			if (hex_digit(v->text[i]) < 0)
				return refuse(col, v, err, errsize);
		return set_text(out, CELL_TEXT, v->text, v->len, arena);
	}
	text.len = 0;
	buf_reserve(&text, 2 + 2 * v->len);
	buf_add(&text, "\\x", 2);
	for (size_t i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->text[i];
		char pair[2] = { hex[c >> 4], hex[c & 15] };

		buf_add(&text, pair, 2);
	}
	return set_text(out, CELL_TEXT, text.data, text.len, arena);
}

size_t
cell_bytes_decode(const struct cell *c, char *into)
{
	size_t n = 0;

	for (size_t i = 2; i + 1 < c->len; i += 2)
		into[n++] = (char)(hex_digit(c->text[i]) << 4 | hex_digit(c->text[i + 1]));
	return n;
}

/* ---- PostgreSQL arrays ------------------------------------------------ */

/*
 * A JSON array becomes an array literal, {1,NULL,"a b"}, nested arrays
 * its dimensions.  Every element is converted as a value of the element
 * type would be, then written in double quotes with " and \ escaped, so
 * no string (NULL, "", braces, commas, blanks) can be misread; NULL is
 * the only bare word.  The server's array input takes the literal the same
 * way in text COPY.  Nested arrays must be rectangular; in json[] and
 * jsonb[] an inner array is an element's value, not a dimension.
 */
enum { ARRAY_DIMS_MAX = 6 };          /* PostgreSQL's MAXDIM */

struct array_walk {
	const struct db_column *col;      /* the array column */
	struct db_column element;         /* its element type, as a column */
	struct cell_arena *arena;
	struct buf *out;
	int ndims;                        /* -1 until the first leaf */
	long lengths[ARRAY_DIMS_MAX];     /* per depth, -1 until known */
	char *err;
	size_t errsize;
};

static size_t
skip_blanks(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* The end of the JSON value at S[I] (valid JSON). */
static size_t
token_end(const char *s, size_t n, size_t i)
{
	int depth = 0, in_string = 0;

	if (s[i] != '"' && s[i] != '{' && s[i] != '[') {
		while (i < n && s[i] != ',' && s[i] != ']' && s[i] != '}' &&
		    s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			i++;
		return i;
	}
	for (; i < n; i++) {
		if (in_string) {
			if (s[i] == '\\') {
				i++;
			} else if (s[i] == '"') {
				in_string = 0;
				if (depth == 0)
					return i + 1;
			}
		} else if (s[i] == '"') {
			in_string = 1;
		} else if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if ((s[i] == '}' || s[i] == ']') && --depth == 0) {
			return i + 1;
		}
	}
	return n;
}

static int convert(const struct db_column *col, const struct field *v,
    struct cell *out, struct cell_arena *arena, char *err, size_t errsize);

/* One element S[0..N), a JSON scalar or object, into the literal. */
static int
array_element(struct array_walk *w, const char *s, size_t n)
{
	struct field v = { .text = s, .len = n };
	struct cell c;
	json_t *decoded = NULL;
	const char *p;
	size_t len;

	if (s[0] == '"') {
		json_error_t e;

		if (!(decoded = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e)))
			return refuse(w->col, &v, w->err, w->errsize);
		v.kind = FIELD_STRING;
		v.text = json_string_value(decoded);
		v.len = json_string_length(decoded);
	} else if (s[0] == '{') {
		v.kind = FIELD_OBJECT;
	} else if (s[0] == '[') {
		v.kind = FIELD_ARRAY;
	} else if (n == 4 && memcmp(s, "null", 4) == 0) {
		v.kind = FIELD_NULL;
	} else if (n == 4 && memcmp(s, "true", 4) == 0) {
		v.kind = FIELD_TRUE;
	} else if (n == 5 && memcmp(s, "false", 5) == 0) {
		v.kind = FIELD_FALSE;
	} else {
		v.kind = FIELD_NUMBER;
		v.integer = !memchr(s, '.', n) && !memchr(s, 'e', n) && !memchr(s, 'E', n);
	}
	if (convert(&w->element, &v, &c, w->arena, w->err, w->errsize) != 0) {
		json_decref(decoded);
		return -1;
	}
	json_decref(decoded);
	/* A real[] element below a real's range is 0, as binary COPY sends
	 * it; PostgreSQL's text input would refuse it (arrays are its only). */
	if (c.kind == CELL_REAL && c.d != 0 && (float)c.d == 0 &&
	    strcmp(w->element.type_name, "real") == 0) {
		buf_addc(w->out, '0');
		return 0;
	}
	switch (c.kind) {
	case CELL_NULL:
	case CELL_ABSENT:
		buf_adds(w->out, "NULL");
		return 0;
	case CELL_BOOL:
		buf_addc(w->out, c.i ? 't' : 'f');
		return 0;
	case CELL_INT:
		jsonout_integer(w->out, c.i);
		return 0;
	default:
		break;
	}
	buf_addc(w->out, '"');
	for (p = c.text, len = c.len; len > 0; p++, len--) {
		if (*p == '"' || *p == '\\')
			buf_addc(w->out, '\\');
		buf_addc(w->out, *p);
	}
	buf_addc(w->out, '"');
	return 0;
}

static int
ragged(struct array_walk *w)
{
	snprintf(w->err, w->errsize, "column \"%s\": a multi-dimensional array"
	    " must be rectangular: every sub-array of one level the same length,"
	    " arrays or values but not both", w->col->name);
	return -1;
}

/* The array at S[*I] (a '['), at DEPTH, into the literal. */
static int
array_walk(struct array_walk *w, const char *s, size_t n, size_t *i, int depth)
{
	long count = 0;

	if (depth >= ARRAY_DIMS_MAX) {
		snprintf(w->err, w->errsize, "column \"%s\": an array of more than %d"
		    " dimensions", w->col->name, ARRAY_DIMS_MAX);
		return -1;
	}
	buf_addc(w->out, '{');
	*i = skip_blanks(s, n, *i + 1);
	while (*i < n && s[*i] != ']') {
		/* In json[] and jsonb[] an array is an element's value. */
		int nested = s[*i] == '[' && w->element.type != DB_TYPE_JSON;

		if (count++)
			buf_addc(w->out, ',');
		/* Arrays down to ndims levels, values at the last one. */
		if (w->ndims < 0 && !nested)
			w->ndims = depth + 1;
		if (nested != (w->ndims < 0 || depth + 1 < w->ndims))
			return ragged(w);
		if (nested) {
			if (array_walk(w, s, n, i, depth + 1) != 0)
				return -1;
		} else {
			size_t end = token_end(s, n, *i);

			if (array_element(w, s + *i, end - *i) != 0)
				return -1;
			*i = end;
		}
		*i = skip_blanks(s, n, *i);
		if (*i < n && s[*i] == ',')
			*i = skip_blanks(s, n, *i + 1);
	}
	if (*i < n)
		(*i)++;                   /* the ']' */
	buf_addc(w->out, '}');
	if (w->lengths[depth] < 0)
		w->lengths[depth] = count;
	else if (w->lengths[depth] != count)
		return ragged(w);
	return 0;
}

static int
to_array(const struct db_column *col, const struct field *v, struct cell *out,
    struct cell_arena *arena, char *err, size_t errsize)
{
	static _Thread_local struct buf text;
	struct array_walk w = { .col = col, .arena = arena, .out = &text,
	    .ndims = -1, .err = err, .errsize = errsize };
	char element_type[128];
	const char *bracket;
	size_t i = 0;

	/* A string is an array literal already: the server reads it. */
	if (v->kind == FIELD_STRING)
		return set_text(out, CELL_TEXT, v->text, v->len, arena);
	if (v->kind != FIELD_ARRAY)
		return refuse(col, v, err, errsize);
	/* "numeric(10,2)[]": the elements are numeric(10,2). */
	snprintf(element_type, sizeof element_type, "%s", type_label(col));
	if ((bracket = strchr(element_type, '[')) != NULL)
		element_type[bracket - element_type] = '\0';
	w.element = *col;
	w.element.type = col->element_type;
	w.element.type_name = element_type;
	for (int d = 0; d < ARRAY_DIMS_MAX; d++)
		w.lengths[d] = -1;
	text.len = 0;
	i = skip_blanks(v->text, v->len, 0);
	if (array_walk(&w, v->text, v->len, &i, 0) != 0)
		return -1;
	if (w.ndims < 0)             /* [[],[]] holds nothing: it is {} */
		return set_text(out, CELL_TEXT, "{}", 2, arena);
	return set_text(out, CELL_TEXT, text.data, text.len, arena);
}

static int
convert(const struct db_column *col, const struct field *v,
    struct cell *out, struct cell_arena *arena, char *err, size_t errsize)
{
	int rc;

	memset(out, 0, sizeof *out);
	if (v->kind == FIELD_NULL) {
		out->kind = CELL_NULL;
		return 0;
	}
	switch (col->type) {
	case DB_TYPE_INTEGER:
		return to_integer(col, v, out, err, errsize);
	case DB_TYPE_REAL:
		rc = to_real(col, v, out, arena, err, errsize);
		break;
	case DB_TYPE_NUMERIC:
		rc = to_numeric(col, v, out, arena, err, errsize);
		break;
	case DB_TYPE_BOOLEAN:
		return to_boolean(col, v, out, err, errsize);
	case DB_TYPE_DATE:
	case DB_TYPE_TIME:
	case DB_TYPE_TIMESTAMP:
	case DB_TYPE_TIMESTAMPTZ:
		rc = to_temporal(col, v, out, arena, err, errsize);
		break;
	case DB_TYPE_JSON:
		rc = set_json_text(out, CELL_JSON, v, arena);
		break;
	case DB_TYPE_ARRAY:
		rc = to_array(col, v, out, arena, err, errsize);
		break;
	case DB_TYPE_BYTES:
		rc = to_bytes(col, v, out, arena, err, errsize);
		break;
	case DB_TYPE_TEXT:
	case DB_TYPE_OTHER:
	default:
		/* Strings as they are; numbers, booleans, objects as JSON text. */
		rc = set_text(out, CELL_TEXT, v->text, v->len, arena);
		break;
	}
	return rc;
}

int
cell_from_field(const struct db_column *col, const struct field *v,
    struct cell *out, struct cell_arena *arena, char *err, size_t errsize)
{
	int rc;

	err[0] = '\0';
	rc = convert(col, v, out, arena, err, errsize);
	if (rc < 0 && err[0] == '\0')
		snprintf(err, errsize, "out of memory");
	return rc;
}
