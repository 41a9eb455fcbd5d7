/*
 * etl-batch - group records into batches, or split batches into records.
 *
 * A batch is one line holding a JSON array of records; etl-load-sql commits
 * each batch in one transaction.  A batch is flushed when it holds -n
 * records, before it would pass -b bytes, -t after its first record, at a
 * control line (which then passes through) and at end of input, which
 * SIGTERM does not cut short (sig.h).  With --by FIELD there is one open
 * batch per value of FIELD.
 *
 * Records are copied as bytes: without --by or --validate a record is never
 * parsed, only its first byte is looked at.  Batches given as input are cut
 * into their records (line_split_batch) and re-batched the same way.
 *
 * --to csv writes each record as a CSV row instead (lib/csv.c), for the
 * reports that cron jobs mail to people: parsed, under the first record's
 * keys as the header; control lines have no place in it and are dropped.
 */
#include "csv.h"
#include "exitcode.h"
#include "jsonout.h"
#include "line.h"
#include "msg.h"
#include "opt.h"
#include "reader.h"
#include "reject.h"
#include "stats.h"
#include "writer.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KEY_BY = OPT_LONG, KEY_UNBATCH, KEY_VALIDATE, KEY_TO };

static const struct opt options[] = {
	{ 'n', "count", "COUNT", "flush a batch at COUNT records (default 1000)" },
	{ 'b', "bytes", "SIZE", "flush before a batch would pass SIZE bytes" },
	{ 't', "time", "DURATION",
	  "flush a batch DURATION after its first record (250ms, 2s, 1m)" },
	{ KEY_BY, "by", "FIELD", "keep one batch per value of FIELD" },
	{ KEY_UNBATCH, "unbatch", NULL, "split batches back into records" },
	{ KEY_VALIDATE, "validate", NULL, "parse every record: bad JSON is a data error" },
	{ KEY_TO, "to", "FORMAT",
	  "write ndjson (default) or csv: a header, then a row per record" },
	{ 0, NULL, NULL, NULL }
};

/*
 * With --by, at most this many batches are open at once and they hold at
 * most this many bytes together: past either limit the oldest is flushed,
 * so memory stays bounded whatever the number of distinct values.
 */
enum { MAX_OPEN_BATCHES = 4096 };
static const size_t MAX_OPEN_BYTES = 64 << 20;

struct batch {
	struct buf text;         /* "[rec,rec" : the "]" is added at flush */
	long long count;
	double first_at;         /* when its first record arrived */
	unsigned long long seq;  /* creation order, to flush the oldest first */
	struct buf key;          /* --by: the serialised field value */
	unsigned long long hash; /* --by: of key */
	struct batch *next_free;
};

static struct {
	long long count;         /* -n */
	unsigned long long bytes;/* -b, 0: no limit */
	long long time_ms;       /* -t, 0: no limit */
	const char *by;          /* --by */
	int unbatch;
	int validate;
	struct csv_writer *csv;  /* --to csv */
} conf = { .count = 1000 };

/*
 * --by: the open batches in creation order, a ring indexed by seq.  Every
 * batch that closes is the oldest one (at the limits, at -t, at a control
 * line, at the end), so the open batches are always the consecutive seqs
 * [oldest_seq, next_seq): finding the oldest takes no search, and a batch's
 * slot never moves while it is open.  batch_index maps a field value to its
 * batch: finding a record's batch is one hash lookup.
 */
static struct batch *open_batches[MAX_OPEN_BATCHES];
static unsigned long long oldest_seq, next_seq;
static size_t open_bytes;
static struct batch *free_batches; /* closed, kept to be reused */
static struct batch single;      /* without --by: the one batch */

#define NOPEN() ((int)(next_seq - oldest_seq))

static struct batch *
oldest_open(void)
{
	return open_batches[oldest_seq % MAX_OPEN_BATCHES];
}

/*
 * The index of the open batches by key: open addressing with linear
 * probing in a fixed table at most half full, so a lookup is a probe or
 * two and nothing is allocated per batch (at one batch per record, a
 * jansson object's allocation per key cost more than the parse).  A slot
 * holds the key's hash and its batch's seq + 1 (0: empty).
 */
enum { INDEX_SLOTS = 2 * MAX_OPEN_BATCHES, INDEX_MASK = INDEX_SLOTS - 1 };
static struct {
	unsigned long long hash;
	unsigned long long seq1;
} batch_index[INDEX_SLOTS];

static unsigned long long
key_hash(const char *p, size_t n)
{
	unsigned long long h = 14695981039346656037ULL;  /* FNV-1a */

	while (n--)
		h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
	return h;
}

/* The slot of KEY (with hash H): its batch's, or the empty one to use. */
static size_t
index_slot(const struct buf *key, unsigned long long h)
{
	size_t i = h & INDEX_MASK;

	for (; batch_index[i].seq1; i = (i + 1) & INDEX_MASK) {
		const struct batch *b =
		    open_batches[(batch_index[i].seq1 - 1) % MAX_OPEN_BATCHES];

		if (batch_index[i].hash == h && b->key.len == key->len &&
		    memcmp(b->key.data, key->data, key->len) == 0)
			break;
	}
	return i;
}

/* Empty slot I, moving back the entries after it that probed past it. */
static void
index_remove(size_t i)
{
	size_t j = i, home;

	for (;;) {
		batch_index[i].seq1 = 0;
		do {
			j = (j + 1) & INDEX_MASK;
			if (!batch_index[j].seq1)
				return;
			home = batch_index[j].hash & INDEX_MASK;
		} while (i <= j ? i < home && home <= j : i < home || home <= j);
		batch_index[i] = batch_index[j];
		i = j;
	}
}

/* Where the current line came from, for messages. */
static char where[PATH_MAX + 32];
static struct line current;

static void
flush_batch(struct batch *b)
{
	if (b->count == 0)
		return;
	open_bytes -= b->text.len;  /* as counted: without the "]" */
	buf_addc(&b->text, ']');
	stats_add(&stats.records_out, b->count);
	writer_line_of(&writer_stdout, b->text.data, b->text.len, b->count);
	stats_add(&stats.batches, 1);
	b->text.len = 0;
	b->count = 0;
}

/* A closed batch keeps its buffers for the next one unless they are big:
 * at high cardinality a batch opens and closes for nearly every record. */
enum { REUSE_MAX_BYTES = 16 << 10 };

/* A new open batch for KEY, indexed in the empty SLOT. */
static struct batch *
new_batch(const struct buf *key, unsigned long long hash, size_t slot)
{
	struct batch *b = free_batches;

	if (b)
		free_batches = b->next_free;
	else if (!(b = calloc(1, sizeof *b)))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	b->key.len = 0;
	buf_add(&b->key, key->data, key->len);
	b->hash = hash;
	b->seq = next_seq++;
	open_batches[b->seq % MAX_OPEN_BATCHES] = b;
	batch_index[slot].hash = hash;
	batch_index[slot].seq1 = b->seq + 1;
	return b;
}

/* --by: flush and forget the oldest open batch. */
static void
close_oldest(void)
{
	struct batch *b = oldest_open();

	flush_batch(b);
	index_remove(index_slot(&b->key, b->hash));
	open_batches[oldest_seq++ % MAX_OPEN_BATCHES] = NULL;
	if (b->text.cap > REUSE_MAX_BYTES || b->key.cap > REUSE_MAX_BYTES) {
		buf_free(&b->text);
		buf_free(&b->key);
		free(b);
		return;
	}
	b->next_free = free_batches;
	free_batches = b;
}

static void
flush_all(void)
{
	if (!conf.by) {
		flush_batch(&single);
		return;
	}
	while (NOPEN() > 0)
		close_oldest();
}

/* Append one record's bytes to B, flushing by count and size. */
static void
add_to_batch(struct batch *b, const char *rec, size_t n)
{
	if (conf.bytes && b->count > 0 && b->text.len + 1 + n + 1 > conf.bytes)
		flush_batch(b);
	if (b->count == 0) {
		b->first_at = conf.time_ms ? stats_now() : 0;
		buf_addc(&b->text, '[');
		open_bytes++;
	} else {
		buf_addc(&b->text, ',');
		open_bytes++;
	}
	buf_add(&b->text, rec, n);
	open_bytes += n;
	if (++b->count >= conf.count ||
	    (conf.bytes && b->text.len + 1 >= conf.bytes))
		flush_batch(b);
}

/* The batch for REC under --by: the one for its FIELD value. */
static struct batch *
batch_for(const json_t *rec)
{
	static struct buf key;
	const json_t *value = json_object_get(rec, conf.by);
	unsigned long long hash;
	size_t slot;

	key.len = 0;
	if (value)
		jsonout_value(&key, value);
	else
		buf_adds(&key, "null");
	hash = key_hash(key.data, key.len);
	slot = index_slot(&key, hash);
	if (batch_index[slot].seq1)
		return open_batches[(batch_index[slot].seq1 - 1) % MAX_OPEN_BATCHES];
	if (NOPEN() == MAX_OPEN_BATCHES) {
		close_oldest();
		slot = index_slot(&key, hash);  /* the table moved */
	}
	return new_batch(&key, hash, slot);
}

static void
bad_record(const char *reason, const char *raw, size_t n)
{
	reject_record(where, reason, NULL, raw, n);
}

/* Parse a record when --by or --validate needs it; NULL if rejected. */
static json_t *
parse_record(const char *rec, size_t n)
{
	char err[256];
	enum line_kind kind;
	json_t *v = line_parse(rec, n, &kind, err, sizeof err);

	if (!v)
		bad_record(err, rec, n);
	else if (kind == LINE_BATCH) {
		json_decref(v);
		bad_record("a batch inside a batch", rec, n);
		return NULL;
	}
	return v;
}

/* --to csv: the record as a row. */
static void
write_csv(const char *rec, size_t n)
{
	static struct buf row;
	char err[256];
	json_t *v = parse_record(rec, n);

	if (!v)
		return;
	row.len = 0;
	if (csv_writer_record(conf.csv, v, &row, err, sizeof err) != 0)
		bad_record(err, rec, n);
	else {
		buf_add(&writer_stdout.buf, row.data, row.len);
		stats_add(&stats.records_out, 1);
		writer_records(&writer_stdout, 1);
		writer_maybe_flush(&writer_stdout);
	}
	json_decref(v);
}

static void
take_record(const char *rec, size_t n)
{
	json_t *v = NULL;
	struct batch *b = &single;

	stats_add(&stats.records_in, 1);
	if (conf.csv) {
		write_csv(rec, n);
		return;
	}
	if (conf.unbatch) {
		if (conf.validate && !(v = parse_record(rec, n)))
			return;
		json_decref(v);
		stats_add(&stats.records_out, 1);
		writer_line_of(&writer_stdout, rec, n, 1);
		return;
	}
	if (conf.by || conf.validate) {
		if (!(v = parse_record(rec, n)))
			return;
		if (conf.by)
			b = batch_for(v);
		json_decref(v);
	}
	add_to_batch(b, rec, n);
	while (conf.by && (open_bytes > MAX_OPEN_BYTES) && NOPEN() > 0)
		close_oldest();
}

static void
take_control(const char *text, size_t n)
{
	if (conf.csv)
		return;  /* CSV has no place for it */
	flush_all();
	writer_line(&writer_stdout, text, n);
}

static int
take_element(void *arg, const char *elem, size_t n, size_t index)
{
	char reason[64];

	(void)arg;
	switch (line_kind_fast(elem, n)) {
	case LINE_RECORD:
		take_record(elem, n);
		break;
	case LINE_CONTROL:
		take_control(elem, n);
		break;
	default:
		snprintf(reason, sizeof reason,
		    "batch element %zu is not a JSON object", index + 1);
		stats_add(&stats.records_in, 1);
		bad_record(reason, elem, n);
		break;
	}
	return 0;
}

static void
take_line(const struct line *line)
{
	char err[256];
	enum line_kind kind;
	json_t *v;

	switch (line_kind_fast(line->data, line->len)) {
	case LINE_RECORD:
		take_record(line->data, line->len);
		break;
	case LINE_CONTROL:
		take_control(line->data, line->len);
		break;
	case LINE_BATCH:
		if (line_split_batch(line->data, line->len, take_element, NULL,
		    err, sizeof err) != 0)
			bad_record(err, line->data, line->len);
		break;
	case LINE_INVALID:
		/* Parse only to say precisely what is wrong. */
		v = line_parse(line->data, line->len, &kind, err, sizeof err);
		json_decref(v);
		stats_add(&stats.records_in, 1);
		bad_record(err, line->data, line->len);
		break;
	}
}

/* Milliseconds until the oldest open batch is due under -t; -1: none. */
static long
ms_until_due(void)
{
	double first = 0;

	if (!conf.time_ms)
		return -1;
	if (!conf.by) {
		if (single.count == 0)
			return -1;
		first = single.first_at;
	} else if (NOPEN() > 0) {
		first = oldest_open()->first_at;
	} else {
		return -1;
	}
	{
		double left = first + conf.time_ms / 1000.0 - stats_now();

		return left <= 0 ? 0 : (long)(left * 1000) + 1;
	}
}

static void
flush_due(void)
{
	if (!conf.by) {
		flush_batch(&single);
		return;
	}
	while (NOPEN() > 0) {
		if (oldest_open()->first_at + conf.time_ms / 1000.0 > stats_now())
			break;
		close_oldest();
	}
}

static void
parse_options(int argc, char **argv, int *first_file)
{
	struct opt_parser p;
	int c;

	opt_begin(&p, argc, argv, "[OPTION]... [FILE]...",
	    "Group NDJSON records into batches (JSON arrays), or split them.",
	    options, OPT_INPUT);
	while ((c = opt_next(&p)) != -1) {
		switch (c) {
		case 'n':
			conf.count = opt_count(&p, 1, LLONG_MAX);
			break;
		case 'b':
			conf.bytes = opt_size(&p);
			break;
		case 't':
			conf.time_ms = opt_duration_ms(&p);
			break;
		case KEY_BY:
			conf.by = p.arg;
			break;
		case KEY_UNBATCH:
			conf.unbatch = 1;
			break;
		case KEY_VALIDATE:
			conf.validate = 1;
			break;
		case KEY_TO:
			if (strcmp(p.arg, "csv") == 0)
				conf.csv = csv_writer_new(',');
			else if (strcmp(p.arg, "ndjson") != 0)
				opt_usage_error(&p, "--to: '%s' is not ndjson or csv",
				    p.arg);
			break;
		}
	}
	if (conf.csv && conf.by)
		opt_usage_error(&p, "--to csv writes rows, not batches: no --by");
	if (conf.unbatch && conf.by)
		opt_usage_error(&p, "--unbatch and --by do not go together");
	*first_file = p.ind;
}

int
main(int argc, char **argv)
{
	struct reader *r;
	enum reader_status st;
	int first;

	parse_options(argc, argv, &first);
	msg_on_exit(flush_all);
	r = reader_open(argv + first, argc - first, opt_common.max_line);
	while ((st = reader_next(r, &current, ms_until_due())) != READER_EOF) {
		if (st == READER_TIMEOUT) {
			flush_due();
			continue;
		}
		place_format(&current.place, where, sizeof where);
		if (st == READER_BAD) {
			stats_add(&stats.records_in, 1);
			bad_record(current.error, current.data,
			    current.len);
			continue;
		}
		take_line(&current);
		if (conf.time_ms && ms_until_due() == 0)
			flush_due();
	}
	flush_all();
	reader_close(r);
	msg_exit(EXIT_DONE);
}
