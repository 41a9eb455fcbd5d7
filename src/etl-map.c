/*
 * etl-map - run a transform (a shared object built against etl.h) on every
 * record of an NDJSON stream.
 *
 * With -j 1 the main thread reads, maps and writes.  With -j N the main
 * thread cuts the input into chunks of lines and deals them round-robin to
 * N workers, each with its own transform instance; one output thread takes
 * the mapped chunks back in the same round-robin order, so the output order
 * is the input order.  Queues hold a few chunks each, so memory stays flat
 * on an endless stream.  When the reader is about to wait with a partial
 * chunk in hand, a lone record must not be held back: once no chunk is
 * out with the workers, the reader maps it itself (with the next worker's
 * instance, idle then) and writes it, which spares three thread hand-offs
 * per request to a service answering small records one at a time.  Full
 * chunks, which come when input arrives faster than it is mapped, go to
 * the workers, and so do partial ones worth a hand-off (see deal_partial).
 *
 * Rejects and failures are events inside a chunk's output, handled by the
 * output thread at their place: what came before them is written first, as
 * with -j 1.  A crash in the transform is reported with the record it was
 * working on, best effort, and exits 70.
 */
#define _GNU_SOURCE  /* RTLD_* flags and sigaltstack in glibc's headers */
#include "etl.h"
#include "exitcode.h"
#include "jsonout.h"
#include "line.h"
#include "msg.h"
#include "opt.h"
#include "reader.h"
#include "reject.h"
#include "sig.h"
#include "stats.h"
#include "tally.h"
#include "writer.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { CHUNK_LINES = 512, CHUNK_BYTES = 256 * 1024, HANDOFF_BYTES = 64 * 1024,
    QUEUE_CHUNKS = 4, MAX_JOBS = 64 };

static const struct opt options[] = {
	{ 'j', "jobs", "N", "run N worker threads, each with its own instance (default 1)" },
	{ 0, NULL, NULL, NULL }
};

static const char *so_path;                    /* as given, for messages */
static const struct etl_transform *transform;

/* ---- chunks: lines in, output and events out -------------------------- */

struct chunk_line {
	size_t off, len;
	struct place place;
	char *error;             /* a bad line or row (one over --max-line:
	                          * only its start is here), else NULL */
};

struct event {
	size_t out_off;          /* the output before it is written first */
	int kind;                /* ETL_REJECT or ETL_FAIL */
	int in_batch;            /* inside a batch line's output */
	char *where, *reason;
	json_t *record;          /* the record, or NULL and raw */
	char *raw;
	size_t rawlen;
};

struct chunk {
	struct buf in;
	struct chunk_line *lines;
	size_t nlines, cap;
	struct buf out;
	struct event *events;
	size_t nevents, events_cap;
	size_t work;             /* bytes of its lines that are not control lines */
	unsigned long long records;  /* read: counted as its lines were */
	int last;                /* end of input: run finish() */
};

static struct chunk *
chunk_new(void)
{
	struct chunk *c = calloc(1, sizeof *c);

	if (!c)
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	return c;
}

static void
chunk_free(struct chunk *c)
{
	for (size_t i = 0; i < c->nevents; i++) {
		free(c->events[i].where);
		free(c->events[i].reason);
		free(c->events[i].raw);
		json_decref(c->events[i].record);
	}
	free(c->events);
	for (size_t i = 0; i < c->nlines; i++)
		free(c->lines[i].error);
	free(c->lines);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

static void
chunk_add_line(struct chunk *c, const struct line *line, int bad)
{
	char *error = NULL;
	unsigned long long n;

	if (c->nlines == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		if (!(c->lines = realloc(c->lines, c->cap * sizeof *c->lines)))
			msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	}
	if (bad && !(error = strdup(line->error)))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	c->lines[c->nlines++] = (struct chunk_line){ c->in.len, line->len,
	    line->place, error };
	if (line_kind_fast(line->data, line->len) != LINE_CONTROL)
		c->work += line->len;
	buf_add(&c->in, line->data, line->len);
	/* -j N counts records as they are read (-j 1 as they are mapped):
	 * a stop that gives up counts those still with the workers. */
	n = bad ? 1 : tally_line(line->data, line->len);
	c->records += n;
	stats_add(&stats.records_in, n);
}

/* ---- instances and the host side of the ABI --------------------------- */

struct instance {
	struct etl_context ctx;  /* first: a context pointer is an instance pointer */
	struct buf *out;         /* emitted records go here */
	struct chunk *chunk;     /* -j N: events go into it; NULL: handled at once */
	const struct place *place;
	size_t element;          /* 1-based in a batch line, 0 otherwise */
	int in_batch;
	int reason_kind;
	char reason[1024];
	char where[PATH_MAX + 64];
};

static _Thread_local const struct place *crash_place;

/* A record read, with -j 1 (-j N counts them as they are read). */
static void
count_in(struct instance *in)
{
	if (!in->chunk)
		stats_add(&stats.records_in, 1);
}

static const char *
instance_where(struct instance *in)
{
	if (!in->place)
		snprintf(in->where, sizeof in->where, "end of input");
	else if (in->element)
		snprintf(in->where, sizeof in->where, "%s:%lu (row %zu)",
		    in->place->file, in->place->line, in->element);
	else
		place_format(in->place, in->where, sizeof in->where);
	return in->where;
}

static int
host_emit(struct etl_context *ctx, json_t *record)
{
	struct instance *in = (struct instance *)ctx;

	if (!json_is_object(record)) {
		json_decref(record);
		return etl_fail(ctx, "emitted something that is not a JSON object");
	}
	jsonout_value(in->out, record);
	buf_addc(in->out, in->in_batch ? ',' : '\n');
	json_decref(record);
	stats_add(&stats.records_out, 1);
	return ETL_OK;
}

static void
host_set_reason(struct etl_context *ctx, int kind, const char *fmt, va_list ap)
{
	struct instance *in = (struct instance *)ctx;

	/* The first failure wins over a later reject of the same record. */
	if (in->reason_kind == ETL_FAIL)
		return;
	in->reason_kind = kind;
	vsnprintf(in->reason, sizeof in->reason, fmt, ap);
}

static const char *
host_where(struct etl_context *ctx)
{
	return instance_where((struct instance *)ctx);
}

static const struct etl_host host = {
	.size = sizeof(struct etl_host),
	.emit = host_emit,
	.set_reason = host_set_reason,
	.where = host_where,
};

/*
 * --reject -: a reject is a control line in the output at the bad record's
 * place.  A record inside a batch line cannot have a line of its own there,
 * so its reject waits (DEFERRED) until the end of that batch line.
 */
static struct buf deferred = BUF_INIT;
static int reject_mid_line;      /* set around reject_record() */

static void
put_reject(const char *line, size_t len)
{
	/* Not flushed here: what a line delivers is counted at its end. */
	buf_add(reject_mid_line ? &deferred : &writer_stdout.buf, line, len);
}

static void
reject_at(int in_batch, const char *where, const char *reason,
    const json_t *record, const char *raw, size_t rawlen)
{
	reject_mid_line = in_batch;
	reject_record(where, reason, record, raw, rawlen);
	reject_mid_line = 0;
}

/* A bad record or a failure: handled now (-j 1) or queued in its place. */
static void
report(struct instance *in, int kind, const char *reason, json_t *record,
    const char *raw, size_t rawlen)
{
	const char *where = instance_where(in);
	struct chunk *c = in->chunk;
	struct event *e;

	if (!c) {
		if (kind == ETL_FAIL)
			msg_die(EXIT_SOFTWARE, so_path, "%s: %s", where, reason);
		reject_at(in->in_batch, where, reason, record, raw, rawlen);
		return;
	}
	if (c->nevents == c->events_cap) {
		c->events_cap = c->events_cap ? c->events_cap * 2 : 8;
		c->events = realloc(c->events, c->events_cap * sizeof *c->events);
		if (!c->events)
			msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	}
	e = &c->events[c->nevents++];
	e->out_off = in->out->len;
	e->kind = kind;
	e->in_batch = in->in_batch;
	e->where = strdup(where);
	e->reason = strdup(reason);
	e->record = record ? json_incref(record) : NULL;
	e->raw = raw ? strndup(raw, rawlen) : NULL;
	e->rawlen = rawlen;
}

/* Map one record (borrowed); drop what it emitted if it is rejected. */
static void
map_record(struct instance *in, json_t *record, size_t element)
{
	size_t mark = in->out->len;
	unsigned long long emitted = atomic_load(&stats.records_out);
	int rc;

	count_in(in);
	in->element = element;
	in->reason_kind = ETL_OK;
	crash_place = in->place;
	rc = transform->map(&in->ctx, record);
	crash_place = NULL;
	if (rc == ETL_OK && in->reason_kind != ETL_FAIL)
		return;
	if (rc == ETL_FAIL || in->reason_kind == ETL_FAIL) {
		report(in, ETL_FAIL, in->reason_kind == ETL_FAIL ? in->reason
		    : "the transform failed", record, NULL, 0);
		return;
	}
	/* Rejected: what it emitted for this record does not count. */
	in->out->len = mark;
	atomic_store(&stats.records_out, emitted);
	report(in, ETL_REJECT, in->reason_kind == ETL_REJECT ? in->reason
	    : "rejected by the transform", record, NULL, 0);
}

static void
map_batch(struct instance *in, const char *data, size_t len)
{
	char err[256];
	enum line_kind kind;
	json_t *batch = line_parse(data, len, &kind, err, sizeof err), *v;
	size_t start = in->out->len, i;

	if (!batch) {
		count_in(in);
		report(in, ETL_REJECT, err, NULL, data, len);
		return;
	}
	buf_addc(in->out, '[');
	in->in_batch = 1;
	json_array_foreach(batch, i, v) {
		if (json_is_object(v)) {
			map_record(in, v, i + 1);
			continue;
		}
		count_in(in);
		in->element = i + 1;
		report(in, ETL_REJECT, "not a JSON object", v, NULL, 0);
	}
	in->in_batch = 0;
	in->element = 0;
	json_decref(batch);
	/* A batch keeps its outputs together; one that kept none is dropped. */
	if (in->out->len == start + 1) {
		in->out->len = start;
		/* Its rejects now stand where it would have. */
		for (i = 0; in->chunk && i < in->chunk->nevents; i++) {
			struct event *e = &in->chunk->events[i];

			if (e->out_off > start) {
				e->out_off = start;
				e->in_batch = 0;
			}
		}
	} else {
		in->out->data[in->out->len - 1] = ']';
		buf_addc(in->out, '\n');
	}
}

static void
map_line(struct instance *in, const char *data, size_t len,
    const struct place *place)
{
	char err[256];
	enum line_kind kind = line_kind_fast(data, len);
	json_t *v;

	in->place = place;
	in->element = 0;
	switch (kind) {
	case LINE_CONTROL:
		buf_add(in->out, data, len);
		buf_addc(in->out, '\n');
		return;
	case LINE_BATCH:
		map_batch(in, data, len);
		if (deferred.len > 0 && !in->chunk) {
			buf_add(in->out, deferred.data, deferred.len);
			deferred.len = 0;
		}
		return;
	default:
		break;
	}
	v = line_parse(data, len, &kind, err, sizeof err);
	if (v && kind == LINE_RECORD) {
		map_record(in, v, 0);
	} else {
		count_in(in);
		if (v)
			snprintf(err, sizeof err, "not a JSON object or array");
		report(in, ETL_REJECT, err, NULL, data, len);
	}
	json_decref(v);
}

static void
run_finish(struct instance *in)
{
	in->place = NULL;
	in->element = 0;
	in->reason_kind = ETL_OK;
	if (transform->finish && (transform->finish(&in->ctx) != ETL_OK ||
	    in->reason_kind == ETL_FAIL))
		report(in, ETL_FAIL, in->reason_kind == ETL_FAIL ? in->reason
		    : "finish failed", NULL, NULL, 0);
}

/* ---- loading ---------------------------------------------------------- */

static void
load_transform(const char *path)
{
	char local[PATH_MAX];
	struct stat st;
	void *handle;

	if (stat(path, &st) != 0)
		msg_die(EXIT_NOINPUT, path, "%s", strerror(errno));
	/* "order.so" means the file here, not a search of the library path. */
	if (!strchr(path, '/')) {
		snprintf(local, sizeof local, "./%s", path);
		path = local;
	}
	if (!(handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
		msg_die(EXIT_CONFIG, so_path, "cannot load: %s", dlerror());
	if (!(transform = dlsym(handle, "etl_transform")))
		msg_die(EXIT_CONFIG, so_path, "no etl_transform descriptor: declare"
		    " one with ETL_TRANSFORM(...) from etl.h");
	if (transform->abi_version != ETL_ABI_VERSION)
		msg_die(EXIT_CONFIG, so_path, "built for transform ABI version %u;"
		    " this etl-map speaks version %d: rebuild it against this etl.h",
		    transform->abi_version, ETL_ABI_VERSION);
	if (transform->size < sizeof(struct etl_transform))
		msg_die(EXIT_CONFIG, so_path, "its descriptor is %zu bytes, expected"
		    " %zu: rebuild it against this etl.h", transform->size,
		    sizeof(struct etl_transform));
	if (!transform->map)
		msg_die(EXIT_CONFIG, so_path, "the descriptor has no map function");
}

static struct instance *
new_instance(int argc, char **argv)
{
	struct instance *in = calloc(1, sizeof *in);

	if (!in)
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	in->ctx.host = &host;
	if (transform->init && (transform->init(&in->ctx, argc, argv) != ETL_OK ||
	    in->reason_kind == ETL_FAIL))
		msg_die(EXIT_CONFIG, so_path, "init failed: %s",
		    in->reason_kind ? in->reason : "no reason given");
	return in;
}

static void
free_instance(struct instance *in)
{
	if (transform->cleanup)
		transform->cleanup(&in->ctx);
	free(in);
}

/* ---- crashes ------------------------------------------------------------ */

static void
append(char *buf, size_t *n, size_t size, const char *s)
{
	while (*s && *n < size - 1)
		buf[(*n)++] = *s++;
}

/* Async-signal-safe: only write(2) and hand-made number formatting. */
static void
on_crash(int signo)
{
	char msg[PATH_MAX + 256], num[24], *p = num + sizeof num;
	const char *name = signo == SIGSEGV ? "SIGSEGV" : signo == SIGBUS ? "SIGBUS"
	    : signo == SIGFPE ? "SIGFPE" : signo == SIGILL ? "SIGILL" : "SIGABRT";
	size_t n = 0;

	append(msg, &n, sizeof msg, msg_program);
	append(msg, &n, sizeof msg, ": ");
	append(msg, &n, sizeof msg, so_path);
	append(msg, &n, sizeof msg, ": crashed (");
	append(msg, &n, sizeof msg, name);
	append(msg, &n, sizeof msg, ")");
	if (crash_place) {
		unsigned long line = crash_place->line;

		*--p = '\0';
		do
			*--p = (char)('0' + line % 10);
		while ((line /= 10) != 0);
		append(msg, &n, sizeof msg, " on ");
		append(msg, &n, sizeof msg, crash_place->file);
		append(msg, &n, sizeof msg, ":");
		append(msg, &n, sizeof msg, p);
	}
	append(msg, &n, sizeof msg, "\n");
	if (write(STDERR_FILENO, msg, n) < 0)
		_exit(EXIT_SOFTWARE);
	_exit(EXIT_SOFTWARE);
}

/*
 * Each thread gets a signal stack, so a stack overflow is reported too;
 * unless it has one already (AddressSanitizer gives every thread its own
 * and unmaps it when the thread ends).
 */
static void
crash_stack(void)
{
	stack_t old, ss = { .ss_size = 64 * 1024 };

	if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE))
		return;
	if ((ss.ss_sp = malloc(ss.ss_size)))
		sigaltstack(&ss, NULL);
}

static void
install_crash_handlers(void)
{
	static const int signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		sigaction(signals[i], &sa, NULL);
	crash_stack();
}

/* ---- -j 1 ---------------------------------------------------------------- */

/* Input the reader could make no record of: a line over --max-line, a
 * bad CSV row. */
static void
reject_bad_input(struct instance *in, const char *error, const char *data,
    size_t len, const struct place *place)
{
	in->place = place;
	in->element = 0;
	count_in(in);
	report(in, ETL_REJECT, error, NULL, data, len);
}

/* Records read and not rejected so far: what the output delivers. */
static unsigned long long
taken(void)
{
	return atomic_load(&stats.records_in) - atomic_load(&stats.rejected);
}

static void
run_single(struct reader *r, struct instance *in)
{
	struct line line;
	enum reader_status st;

	in->out = &writer_stdout.buf;
	while ((st = reader_next(r, &line, -1)) != READER_EOF) {
		unsigned long long before = taken();

		if (st == READER_BAD)
			reject_bad_input(in, line.error, line.data, line.len,
			    &line.place);
		else
			map_line(in, line.data, line.len, &line.place);
		writer_records(&writer_stdout, taken() - before);
		writer_maybe_flush(&writer_stdout);
	}
	run_finish(in);
}

/* ---- -j N ---------------------------------------------------------------- */

struct queue {
	struct chunk *items[QUEUE_CHUNKS];
	size_t head, count;
	pthread_mutex_t lock;
	pthread_cond_t changed;
};

static void
queue_init(struct queue *q)
{
	memset(q, 0, sizeof *q);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->changed, NULL);
}

static void
queue_put(struct queue *q, struct chunk *c)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == QUEUE_CHUNKS)
		sig_cond_wait(&q->changed, &q->lock);
	q->items[(q->head + q->count++) % QUEUE_CHUNKS] = c;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

/* The next chunk; with WAIT 0, NULL when there is none yet. */
static struct chunk *
queue_take(struct queue *q, int wait)
{
	struct chunk *c = NULL;

	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && wait)
		sig_cond_wait(&q->changed, &q->lock);
	if (q->count > 0) {
		c = q->items[q->head];
		q->head = (q->head + 1) % QUEUE_CHUNKS;
		q->count--;
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	return c;
}

struct worker {
	pthread_t thread;
	struct instance *in;
	struct queue todo, done;
};

static struct worker *workers;
static int nworkers;
static struct chunk *filling;     /* the chunk the reader is filling */
static unsigned long next_seq;    /* the next chunk's number */
/* Whoever writes to standard output holds OUT_LOCK: the output thread, or
 * the reader mapping a chunk itself.  IN_FLIGHT counts the chunks dealt
 * and not yet written; under OUT_LOCK. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_written = PTHREAD_COND_INITIALIZER;
static unsigned long in_flight;

/* The output thread may hold OUT_LOCK long, blocked on a full pipe: the
 * reader waits for it at rest (sig.h). */
static void
lock_output(void)
{
	sig_rest_begin();
	pthread_mutex_lock(&out_lock);
	sig_rest_end();
}

/* Map chunk C's lines with instance IN, into C. */
static void
map_chunk(struct instance *in, struct chunk *c)
{
	in->out = &c->out;
	in->chunk = c;
	for (size_t i = 0; i < c->nlines; i++) {
		const struct chunk_line *l = &c->lines[i];

		if (l->error)
			reject_bad_input(in, l->error, c->in.data + l->off, l->len,
			    &l->place);
		else
			map_line(in, c->in.data + l->off, l->len, &l->place);
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	crash_stack();
	for (;;) {
		struct chunk *c = queue_take(&w->todo, 1);

		if (c->last) {
			w->in->out = &c->out;
			w->in->chunk = c;
			run_finish(w->in);
			queue_put(&w->done, c);
			return NULL;
		}
		map_chunk(w->in, c);
		queue_put(&w->done, c);
	}
}

/* Write C's output from *DONE up to UPTO; rejects deferred from inside a
 * batch line go out after its end. */
static void
write_upto(const struct chunk *c, size_t *done, size_t upto)
{
	const char *nl;

	if (upto > c->out.len)
		upto = c->out.len;
	if (upto <= *done)
		return;
	if (deferred.len > 0 && (nl = memchr(c->out.data + *done, '\n', upto - *done))) {
		buf_add(&writer_stdout.buf, c->out.data + *done, nl + 1 - (c->out.data + *done));
		buf_add(&writer_stdout.buf, deferred.data, deferred.len);
		deferred.len = 0;
		*done = nl + 1 - c->out.data;
	}
	buf_add(&writer_stdout.buf, c->out.data + *done, upto - *done);
	*done = upto;
}

/* Write a mapped chunk, handling its events at their places.  It goes to
 * the output whole, then counts as delivered, then may be flushed: a
 * chunk is never half in the output when a stop gives up. */
static void
write_chunk(struct chunk *c)
{
	size_t done = 0, rejects = 0;

	for (size_t i = 0; i < c->nevents; i++) {
		struct event *e = &c->events[i];

		write_upto(c, &done, e->out_off);
		if (e->kind == ETL_FAIL)
			msg_die(EXIT_SOFTWARE, so_path, "%s: %s", e->where, e->reason);
		reject_at(e->in_batch, e->where, e->reason, e->record, e->raw, e->rawlen);
		rejects++;
	}
	write_upto(c, &done, c->out.len);
	writer_records(&writer_stdout, c->records - rejects);
	writer_maybe_flush(&writer_stdout);
}

static void
deal(struct chunk *c)
{
	lock_output();
	in_flight++;
	pthread_mutex_unlock(&out_lock);
	queue_put(&workers[next_seq++ % nworkers].todo, c);
}

/* Map and write C here, once no chunk is out with the workers (its
 * output comes after theirs anyway). */
static void
map_here(struct chunk *c)
{
	struct instance *in = workers[next_seq % nworkers].in;

	lock_output();
	while (in_flight > 0)
		sig_cond_wait(&all_written, &out_lock);
	map_chunk(in, c);
	write_chunk(c);
	writer_flush(&writer_stdout);
	pthread_mutex_unlock(&out_lock);
	chunk_free(c);
}

/* A full chunk goes to the workers. */
static void
deal_full(void)
{
	deal(filling);
	filling = NULL;
}

/* Before the reader waits, and at the end: the partial chunk goes out at
 * once.  A few records are mapped here: dealt to workers still busy, they
 * would cost three hand-offs, and more partial chunks would pile up behind
 * them, so that under a steady stream of small requests the reader would
 * never find the workers idle again.  Control lines alone (a checkpoint
 * after a large record), or records worth a hand-off, go to the workers
 * if they are busy, and the reader reads on. */
static void
deal_partial(void *arg)
{
	int busy;

	(void)arg;
	if (!filling || filling->nlines == 0)
		return;
	lock_output();
	busy = in_flight > 0;
	pthread_mutex_unlock(&out_lock);
	if (busy && (filling->work == 0 || filling->work >= HANDOFF_BYTES))
		deal(filling);
	else
		map_here(filling);
	filling = NULL;
}

static void *
output_main(void *arg)
{
	unsigned long seq = 0;
	int finished = 0;

	(void)arg;
	crash_stack();
	while (finished < nworkers) {
		struct queue *q = &workers[seq++ % nworkers].done;
		struct chunk *c = queue_take(q, 0);

		if (!c) {
			/* Nothing ready: what we have goes out before we wait. */
			lock_output();
			writer_flush(&writer_stdout);
			pthread_mutex_unlock(&out_lock);
			c = queue_take(q, 1);
		}
		lock_output();
		write_chunk(c);
		if (--in_flight == 0)
			pthread_cond_signal(&all_written);
		pthread_mutex_unlock(&out_lock);
		finished += c->last;
		chunk_free(c);
	}
	lock_output();
	writer_flush(&writer_stdout);
	pthread_mutex_unlock(&out_lock);
	return NULL;
}

static void
run_parallel(struct reader *r, int argc, char **argv)
{
	pthread_t output;
	struct line line;
	enum reader_status st;

	workers = calloc(nworkers, sizeof *workers);
	for (int i = 0; i < nworkers; i++) {
		workers[i].in = new_instance(argc, argv);
		queue_init(&workers[i].todo);
		queue_init(&workers[i].done);
		pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
	}
	pthread_create(&output, NULL, output_main, NULL);
	reader_on_wait(r, deal_partial, NULL);
	while ((st = reader_next(r, &line, -1)) != READER_EOF) {
		if (!filling)
			filling = chunk_new();
		chunk_add_line(filling, &line, st == READER_BAD);
		if (filling->nlines >= CHUNK_LINES || filling->in.len >= CHUNK_BYTES)
			deal_full();
	}
	deal_partial(NULL);
	for (int i = 0; i < nworkers; i++) {
		struct chunk *c = chunk_new();

		c->last = 1;
		deal(c);
	}
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i].thread, NULL);
	pthread_join(output, NULL);
	for (int i = 0; i < nworkers; i++)
		free_instance(workers[i].in);
	free(workers);
}

int
main(int argc, char **argv)
{
	struct opt_parser p;
	struct reader *r;
	int c;

	nworkers = 1;
	opt_begin(&p, argc, argv, "[OPTION]... TRANSFORM.so [ARG]... [< INPUT]",
	    "Run a transform on every NDJSON record of standard input.",
	    options, OPT_INPUT);
	reject_inline(put_reject);
	while ((c = opt_next(&p)) != -1)
		if (c == 'j')
			nworkers = (int)opt_count(&p, 1, MAX_JOBS);
	if (p.ind >= argc)
		opt_usage_error(&p, "no transform: give the path of a .so");
	so_path = argv[p.ind];
	load_transform(so_path);
	/* "etl-map total.so orders.ndjson" would read stdin and drop the file. */
	if (!transform->init && p.ind + 1 < argc)
		opt_usage_error(&p, "%s takes no arguments (it has no init), but was"
		    " given '%s'; etl-map reads records from standard input:"
		    " etl-map %s < %s", so_path, argv[p.ind + 1], so_path,
		    argv[p.ind + 1]);
	install_crash_handlers();
	r = reader_open(NULL, 0, opt_common.max_line);
	if (nworkers == 1) {
		struct instance *in = new_instance(argc - p.ind - 1, argv + p.ind + 1);

		run_single(r, in);
		writer_flush(&writer_stdout);
		free_instance(in);
	} else {
		run_parallel(r, argc - p.ind - 1, argv + p.ind + 1);
	}
	reader_close(r);
	msg_exit(EXIT_DONE);
}
