/*
 * tally.h - how many records a piece of the stream holds, without parsing
 * it: for a stop that gives up, which counts what its buffers and its input
 * pipe still hold, and for etl-map -j, which counts the records of a chunk
 * as it reads them.
 *
 * Bytes are fed in pieces of any size; a line counts once its LF has come
 * (a line cut short, the tail a writer that gave up left behind, is no
 * record anywhere: the writer counts it as not delivered).  A line counts
 * as the programs reading it count it: a record (a line starting with '{')
 * or a line that is neither record nor batch (a data error) is one; a
 * batch (a line starting with '[') is as many as its elements, found by
 * skipping strings and counting the commas outside nested values, so a
 * malformed batch counts its elements too; a control line and a blank
 * line are none.  A control line is told from a record the way
 * line_kind_fast tells it, so the bytes of a line that starts like one are
 * kept until its end (up to TALLY_CONTROL_MAX; longer, it is a record).
 */
#ifndef ETL_TALLY_H
#define ETL_TALLY_H

#include "buf.h"

enum { TALLY_CONTROL_MAX = 64 << 10 };

struct tally {
	unsigned long long records;  /* in the lines ended so far */
	/* The line under way: */
	int started;                 /* bytes since the last LF */
	enum { TALLY_BLANK, TALLY_RECORD, TALLY_BATCH, TALLY_OTHER, TALLY_SKIP } kind;
	int cr;                      /* a CR among the leading blanks */
	int depth;                   /* TALLY_BATCH: nesting inside the array */
	int in_string, escaped, want_element, closed;
	unsigned long long elements;
	int collecting;              /* TALLY_RECORD: it may be a control line */
	struct buf start;            /* and its bytes so far */
};

void tally_init(struct tally *t);
void tally_free(struct tally *t);

/* The bytes up to the first LF are the rest of a line counted already
 * (or never to be counted: one over --max-line being skipped). */
void tally_skip_line(struct tally *t);

void tally_feed(struct tally *t, const char *p, size_t n);

/* A line has begun and its LF has not come. */
int tally_mid_line(const struct tally *t);

/* The records of the one line P[0..N), without its LF. */
unsigned long long tally_line(const char *p, size_t n);

#endif
