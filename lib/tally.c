/*
 * tally.c - count the records in pieces of the stream (see tally.h).
 *
 * One state machine per line, fed byte by byte only where it must look:
 * a batch's structure, and the start of a line that may be a control line.
 * A record's or a bad line's bytes are skipped with memchr to the LF.
 */
#include "tally.h"
#include "line.h"

#include <string.h>

static const char control_key[] = "\"$etl\"";

void
tally_init(struct tally *t)
{
	memset(t, 0, sizeof *t);
	t->start = (struct buf)BUF_INIT;
}

void
tally_free(struct tally *t)
{
	buf_free(&t->start);
}

void
tally_skip_line(struct tally *t)
{
	t->started = 1;
	t->kind = TALLY_SKIP;
}

int
tally_mid_line(const struct tally *t)
{
	return t->started;
}

static void
end_line(struct tally *t)
{
	switch (t->kind) {
	case TALLY_BLANK:
	case TALLY_SKIP:
		break;
	case TALLY_RECORD:
		if (!t->collecting ||
		    line_kind_fast(t->start.data, t->start.len) != LINE_CONTROL)
			t->records++;
		break;
	case TALLY_BATCH:
		t->records += t->elements;
		break;
	case TALLY_OTHER:
		t->records++;
		break;
	}
	t->started = 0;
	t->kind = TALLY_BLANK;
	t->cr = t->depth = t->in_string = t->escaped = t->closed = 0;
	t->elements = 0;
	t->collecting = 0;
	t->start.len = 0;
}

/* Could the line begun in t->start (from its '{') still be a control
 * line?  As line_kind_fast looks: blanks, then "$etl" in quotes. */
static int
may_be_control(const struct tally *t)
{
	const char *p = t->start.data + 1, *end = t->start.data + t->start.len;
	size_t have;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	have = (size_t)(end - p);
	if (have > sizeof control_key - 1)
		have = sizeof control_key - 1;
	return memcmp(p, control_key, have) == 0 && t->start.len <= TALLY_CONTROL_MAX;
}

/* One byte C of a batch line (not its LF). */
static void
batch_byte(struct tally *t, char c)
{
	if (t->in_string) {
		if (t->escaped)
			t->escaped = 0;
		else if (c == '\\')
			t->escaped = 1;
		else if (c == '"')
			t->in_string = 0;
		return;
	}
	if (c == ' ' || c == '\t' || c == '\r' || t->closed)
		return;
	if (t->depth == 0 && c == ',') {
		t->want_element = 1;
		return;
	}
	if (t->depth == 0 && c == ']') {
		t->closed = 1;
		return;
	}
	if (t->depth == 0 && t->want_element) {
		t->elements++;
		t->want_element = 0;
	}
	if (c == '"')
		t->in_string = 1;
	else if (c == '{' || c == '[')
		t->depth++;
	else if ((c == '}' || c == ']') && t->depth > 0)
		t->depth--;
}

/* The first byte C of a line that is not blank: what the line is. */
static void
first_byte(struct tally *t, char c)
{
	if (t->cr)
		t->kind = TALLY_OTHER;  /* line_kind_fast skips no CR */
	else if (c == '{')
		t->kind = TALLY_RECORD;
	else if (c == '[')
		t->kind = TALLY_BATCH;
	else
		t->kind = TALLY_OTHER;
	t->want_element = 1;
	t->collecting = t->kind == TALLY_RECORD;
}

/* Keep the start of a line that may be a control line: a few bytes at a
 * time until its start tells, then all of it up to its LF.  Returns the
 * bytes of P it took. */
static size_t
collect(struct tally *t, const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', end - p);
	size_t take = nl ? (size_t)(nl - p) : (size_t)(end - p);

	if (t->start.len < 16 && take > 16 - t->start.len)
		take = 16 - t->start.len;
	else if (take > TALLY_CONTROL_MAX + 1 - t->start.len)
		take = TALLY_CONTROL_MAX + 1 - t->start.len;
	buf_add(&t->start, p, take);
	if (!may_be_control(t)) {
		t->collecting = 0;
		t->start.len = 0;
	}
	return take;
}

void
tally_feed(struct tally *t, const char *p, size_t n)
{
	const char *end = p + n, *nl;

	while (p < end) {
		char c = *p;

		if (c == '\n') {
			end_line(t);
			p++;
			continue;
		}
		t->started = 1;
		switch (t->kind) {
		case TALLY_BLANK:
			if (c == ' ' || c == '\t') {
				p++;
			} else if (c == '\r') {
				t->cr = 1;
				p++;
			} else {
				first_byte(t, c);
				if (t->kind == TALLY_BATCH)
					p++;  /* the '[' opens the array */
			}
			break;
		case TALLY_BATCH:
			batch_byte(t, c);
			p++;
			break;
		default:
			if (t->kind == TALLY_RECORD && t->collecting) {
				p += collect(t, p, end);
				break;
			}
			/* Nothing more to learn from it: on to its LF. */
			nl = memchr(p, '\n', end - p);
			p = nl ? nl : end;
			break;
		}
	}
}

unsigned long long
tally_line(const char *p, size_t n)
{
	struct tally t;
	unsigned long long records;

	/* Only a batch needs its bytes looked at. */
	switch (line_kind_fast(p, n)) {
	case LINE_CONTROL:
		return 0;
	case LINE_BATCH:
		break;
	default:
		for (size_t i = 0; i < n; i++)
			if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
				return 1;
		return 0;
	}
	tally_init(&t);
	tally_feed(&t, p, n);
	tally_feed(&t, "\n", 1);
	records = t.records;
	tally_free(&t);
	return records;
}
