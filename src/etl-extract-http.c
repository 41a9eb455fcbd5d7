/*
 * etl-extract-http - an HTTP/1.1 server (libmicrohttpd) that turns webhook
 * requests into NDJSON records on stdout.
 *
 * A request is all or nothing: its body is read whole (within --max-body,
 * after decompression), checked (token, HMAC), decoded into records, and
 * those records are appended to the output in one go under a lock, so
 * records of different requests never interleave.  Only then is it
 * answered 202.  The request's own thread writes the output when nobody
 * else is and it can without waiting; a writer thread takes what a full
 * pipe would not.  When the output cannot keep up, requests wait up to
 * --queue-timeout for room and are then answered 503, so memory stays
 * bounded.  If stdout closes, every request gets 503 and
 * the program exits 74.
 *
 * With --ack-fifo the 202 waits for the end of the pipeline: the output
 * follows each chunk written with a control line naming a checkpoint,
 * the requests in that chunk are suspended, and a thread reading the FIFO
 * (the loader's stdout, where control lines appear once the rows before
 * them are committed) resumes them with 202; no acknowledgement within
 * --ack-timeout gives 503.  Concurrent requests share one checkpoint, so
 * the loader commits them together.
 *
 * With --reply-fifo the answer is what the pipeline made of the request:
 * each request's records are followed by a checkpoint of their own, the
 * last stage writes its output to the FIFO, and what comes back before a
 * checkpoint (records, and rejects as control lines) answers the request
 * that checkpoint names: 200 with the records, 422 with the rejects.  It
 * is the --ack-fifo path (lib/ack) with the lines in between kept.
 *
 * SIGTERM stops accepting, lets the requests in hand finish, writes all
 * that was answered 202 and exits 0.
 *
 * Once it has bound its socket and opened its files (secrets, TLS keys,
 * the FIFO) it confines itself (lib/confine.h): no root, a seccomp
 * allowlist.  SIGHUP swaps in the TLS keys read again from their paths.
 */
#define _GNU_SOURCE  /* struct addrinfo flags, timegm */
#include "ack.h"
#include "b64.h"
#include "backlog.h"
#include "buf.h"
#include "confine.h"
#include "exitcode.h"
#include "httpbody.h"
#include "httpreply.h"
#include "jsonout.h"
#include "jsontree.h"
#include "line.h"
#include "listen.h"
#include "metrics.h"
#include "msg.h"
#include "opt.h"
#include "secret.h"
#include "sig.h"
#include "stats.h"
#include "webhook.h"
#include "writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <nettle/memops.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum {
	KEY_ENVELOPE = OPT_LONG, KEY_TOKEN_FILE, KEY_HMAC_SECRET_FILE,
	KEY_HMAC_HEADER, KEY_TLS_CERT, KEY_TLS_KEY, KEY_MAX_BODY,
	KEY_MAX_CONNECTIONS, KEY_IDLE_TIMEOUT, KEY_QUEUE_TIMEOUT, KEY_MAX_HEADERS,
	KEY_THREADS, KEY_ACK_FIFO, KEY_ACK_TIMEOUT,
	KEY_HEADER_TIMEOUT, KEY_BODY_TIMEOUT, KEY_MAX_PER_CLIENT,
	KEY_METRICS_LISTEN,
	KEY_TLS_PRIORITY, KEY_USER, KEY_NO_SECCOMP,
	KEY_REPLY_FIFO, KEY_REPLY_TIMEOUT, KEY_RAW_BODY,
	KEY_REPLY_FIELD, KEY_REPLY_TYPE, KEY_VERIFY, KEY_MAX_AGE, KEY_PUBLIC_URL,
	KEY_SIGNATURE_PREFIX, KEY_SIGNATURE_ENCODING, KEY_SIGNATURE_DIGEST,
	KEY_VERIFY_TOKEN_FILE, KEY_DELIVERY_ID_FIELD, KEY_MAX_BACKLOG,
};

static const struct opt options[] = {
	{ KEY_ENVELOPE, "envelope", NULL, "wrap each request: method, path, query, headers, body" },
	{ KEY_TOKEN_FILE, "token-file", "FILE", "require Authorization: Bearer <the token in FILE>" },
	{ KEY_VERIFY, "verify", "SCHEME", "require the signature of a sender: github, gitlab, stripe, slack, shopify, standard, twilio, meta, generic" },
	{ KEY_HMAC_SECRET_FILE, "secret-file", "FILE", "its secrets, one a line (also --hmac-secret-file; alone: --verify github)" },
	{ KEY_HMAC_SECRET_FILE, "hmac-secret-file", "FILE", "the same as --secret-file" },
	{ KEY_HMAC_HEADER, "hmac-header", "NAME", "the signature header (github's default X-Hub-Signature-256)" },
	{ KEY_SIGNATURE_PREFIX, "signature-prefix", "TEXT", "generic: the text before the MAC, like sha256=" },
	{ KEY_SIGNATURE_ENCODING, "signature-encoding", "hex|base64", "generic: how the MAC is written (default hex)" },
	{ KEY_SIGNATURE_DIGEST, "signature-digest", "sha1|sha256|sha512", "generic: the HMAC's hash (default sha256)" },
	{ KEY_MAX_AGE, "max-age", "DURATION", "refuse a signed timestamp older, or further ahead (default 5m)" },
	{ KEY_PUBLIC_URL, "public-url", "URL", "twilio: the URL the sender signs, as configured there" },
	{ KEY_VERIFY_TOKEN_FILE, "verify-token-file", "FILE", "answer Meta's subscription GET whose hub.verify_token is in FILE" },
	{ KEY_DELIVERY_ID_FIELD, "delivery-id-field", "NAME", "put the sender's delivery id into each record as NAME" },
	{ KEY_TLS_CERT, "tls-cert", "FILE", "serve HTTPS with this certificate (PEM)" },
	{ KEY_TLS_KEY, "tls-key", "FILE", "and this private key (PEM)" },
	{ KEY_MAX_BODY, "max-body", "SIZE", "largest body, after decompression (default 10M)" },
	{ KEY_MAX_CONNECTIONS, "max-connections", "N", "most connections at once (default 10000)" },
	{ KEY_MAX_PER_CLIENT, "max-per-client", "N", "most connections from one address (default 100, 0: no limit)" },
	{ KEY_IDLE_TIMEOUT, "idle-timeout", "DURATION", "close a connection idle this long (default 30s)" },
	{ KEY_HEADER_TIMEOUT, "header-timeout", "DURATION", "close a connection whose headers take longer (default 10s)" },
	{ KEY_BODY_TIMEOUT, "body-timeout", "DURATION", "close a connection whose body takes longer (default 60s)" },
	{ KEY_QUEUE_TIMEOUT, "queue-timeout", "DURATION", "wait this long for output room, then 503 (default 5s)" },
	{ KEY_MAX_BACKLOG, "max-backlog", "DURATION", "503 while what was accepted takes longer to hand on (default: --stop-timeout/3)" },
	{ KEY_MAX_HEADERS, "max-headers", "SIZE", "largest request line and headers, 64 bytes a field more (default 16K)" },
	{ KEY_THREADS, "threads", "N", "server threads (default: one per core)" },
	{ KEY_ACK_FIFO, "ack-fifo", "FIFO", "answer 202 only when the loader acknowledges, read from FIFO" },
	{ KEY_ACK_TIMEOUT, "ack-timeout", "DURATION", "wait this long for an acknowledgement, then 503 (default 10s)" },
	{ KEY_METRICS_LISTEN, "metrics-listen", "ADDRESS:PORT", "serve GET /metrics there, not on the main port" },
	{ KEY_TLS_PRIORITY, "tls-priority", "STRING", "GnuTLS priority string (default: TLS 1.2 and 1.3, ECDHE with AEAD ciphers)" },
	CONFINE_OPTIONS(KEY_USER, KEY_NO_SECCOMP),
	{ KEY_REPLY_FIFO, "reply-fifo", "FIFO", "answer each request with the pipeline's output for it, read from FIFO" },
	{ KEY_REPLY_TIMEOUT, "reply-timeout", "DURATION", "wait this long for the reply, then 504 (default 30s)" },
	{ KEY_REPLY_FIELD, "reply-field", "NAME", "answer with this field's value as raw bytes, not JSON" },
	{ KEY_REPLY_TYPE, "reply-type", "TYPE", "the Content-Type of --reply-field answers (default application/octet-stream)" },
	{ KEY_RAW_BODY, "raw-body", NULL, "the exact body as one record {\"body\":…} (base64 when not UTF-8)" },
	{ 0, NULL, NULL, NULL }
};

static struct {
	const char *listen;
	const char *path;            /* NULL: any path */
	int envelope;
	char *token;
	struct webhook_options hook;  /* --verify and its options */
	const char *verify_token_file, *delivery_id_field;
	const char *tls_cert, *tls_key;   /* paths: read again on SIGHUP */
	const char *tls_priority;
	size_t max_body;
	unsigned max_connections;     /* 0: the default, within RLIMIT_NOFILE */
	unsigned max_per_client;
	unsigned idle_timeout_s;
	long long header_timeout_ms, body_timeout_ms;
	const char *metrics_listen;
	long long queue_timeout_ms;
	long long max_backlog_ms;    /* -1: a third of --stop-timeout */
	size_t max_headers;
	unsigned threads;
	const char *ack_fifo;
	long long ack_timeout_ms;
	int reply;                   /* --reply-fifo: ack_fifo is the reply FIFO */
	long long reply_timeout_ms;
	const char *reply_field, *reply_type;
	int raw_body;
} conf = {
	.hook.max_age_ms = -1, .max_body = 10 << 20,
	.max_per_client = 100, .idle_timeout_s = 30, .queue_timeout_ms = 5000, .max_backlog_ms = -1,
	.header_timeout_ms = 10000, .body_timeout_ms = 60000,
	.max_headers = 16 << 10, .ack_timeout_ms = 10000,
	.reply_timeout_ms = 30000, .reply_type = "application/octet-stream",
};

/* A request in hand.  With --ack-fifo, once its records are handed on it
 * waits, suspended, on one of the output's lists until acknowledged. */
struct request {
	struct buf body;
	size_t declared;                /* Content-Length, else 0 */
	int too_large;
	int answered;
	struct MHD_Connection *conn;
	long records;
	unsigned long long checkpoint;  /* 0 until the writer assigns one */
	double since;                   /* when it began to wait */
	unsigned verdict;               /* 202 or 503 once decided */
	const char *why;                /* for a 503 */
	unsigned behind;                /* past --max-backlog: Retry-After, else 0 */
	struct request *next;
	struct buf reply, rejects;      /* --reply-fifo: what came back */

};

struct waitlist {
	struct request *head, *tail;
};

/* ---- the output: bounded, written by whoever finds it idle ------------- */

enum { OUTPUT_LIMIT = 8 << 20 };

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;         /* the writer thread: output to write */
	pthread_cond_t room;         /* requests waiting: the output shrank */
	struct buf pending;          /* appended by requests, not yet taken */
	struct buf spare;            /* the other buffer, for the next writer */
	int writing;                 /* a thread writes a batch outside the lock */
	int stopping;
	int broken;                  /* stdout failed: errno */
	/* --ack-fifo: requests in pending, then those written and waiting. */
	struct waitlist unwritten, unacked;
	unsigned long long checkpoint;  /* the last one written */
} output = { .lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER,
    .room = PTHREAD_COND_INITIALIZER, .pending = BUF_INIT, .spare = BUF_INIT };

static void
waitlist_add(struct waitlist *l, struct request *req)
{
	req->next = NULL;
	if (l->tail)
		l->tail->next = req;
	else
		l->head = req;
	l->tail = req;
}

/* Answer REQ (suspended, on no list any more): it resumes with VERDICT. */
static void
settle(struct request *req, unsigned verdict, const char *why)
{
	req->verdict = verdict;
	req->why = why;
	MHD_resume_connection(req->conn);
}

/* Settle, and take off list L, the requests for which SETTLES says so. */
static void
waitlist_settle(struct waitlist *l, int (*settles)(struct request *, void *),
    void *arg, unsigned verdict, const char *why)
{
	struct request **p = &l->head, *req;

	l->tail = NULL;
	while ((req = *p)) {
		if (settles(req, arg)) {
			*p = req->next;
			settle(req, verdict, why);
		} else {
			l->tail = req;
			p = &req->next;
		}
	}
}

/* Called by the writer with the lock held: the requests whose records
 * are in the chunk it takes get the next checkpoint, named by a control
 * line after their records. */
static void
mark_checkpoint(struct buf *chunk)
{
	struct request *req;

	if (!output.unwritten.head)
		return;
	output.checkpoint = ack_checkpoint(chunk);
	for (req = output.unwritten.head; req; req = req->next)
		req->checkpoint = output.checkpoint;
	if (output.unacked.tail)
		output.unacked.tail->next = output.unwritten.head;
	else
		output.unacked.head = output.unwritten.head;
	output.unacked.tail = output.unwritten.tail;
	output.unwritten.head = output.unwritten.tail = NULL;
}

static int stdout_is_file;        /* a write there never waits for a reader */
static atomic_int nowait_refused; /* RWF_NOWAIT unsupported (older kernels) */
/* What reached stdout: the bytes, and the lines (records and control
 * lines), counted as each write returns so that a stop that gives up can
 * say how many records answered 202 it did not hand on.  A write and its
 * count are one step under WRITTEN_LOCK (the writes never block), so that
 * the count a give-up reads is exact. */
static atomic_ullong written_bytes, written_lines;
static pthread_mutex_t written_lock = PTHREAD_MUTEX_INITIALIZER;
/* The size the pipe is to shrink to (backlog_measure), once what it holds
 * fits: until then nothing more is written to it.  0: none. */
static atomic_size_t pipe_want;

/* Is the pipe held down to a smaller size, and still fuller than that? */
static int
holding_back(void)
{
	size_t want = atomic_load(&pipe_want);
	int unread;

	return want && ioctl(STDOUT_FILENO, FIONREAD, &unread) == 0 && (size_t)unread > want;
}

static void
count_written(const char *p, size_t n)
{
	const char *end = p + n;
	unsigned long long lines = 0;

	while ((p = memchr(p, '\n', end - p))) {
		lines++;
		p++;
	}
	atomic_fetch_add(&written_bytes, n);
	atomic_fetch_add(&written_lines, lines);
	writer_stdout.bytes += n;
}

/*
 * Write BATCH to stdout; the number of bytes written, or -1 with errno
 * when stdout is broken.  The writer thread (WAIT) writes it all, waiting
 * for the pipe as long as it takes.  A request's thread must never wait
 * on a full pipe, or its connections would stall past --queue-timeout: it
 * writes what fits now (RWF_NOWAIT), or all of it to a regular file, and
 * leaves the rest to the writer.  The writer waits with poll, not in a
 * blocking write, so what it wrote is counted as it goes.  While the pipe
 * is held down to a smaller size, nobody writes.  Called without the lock.
 */
static ssize_t
write_batch(const struct buf *batch, int wait)
{
	size_t off = 0;

	while (off < batch->len) {
		struct iovec v = { batch->data + off, batch->len - off };
		ssize_t n;

		if (holding_back()) {
			if (!wait)
				break;
			poll(NULL, 0, 20);
			continue;
		}
		pthread_mutex_lock(&written_lock);
		if (stdout_is_file || atomic_load(&nowait_refused)) {
			n = wait || stdout_is_file ? write(STDOUT_FILENO, v.iov_base, v.iov_len) : 0;
		} else {
			n = pwritev2(STDOUT_FILENO, &v, 1, -1, RWF_NOWAIT);
			if (n < 0 && errno == EOPNOTSUPP) {
				atomic_store(&nowait_refused, 1);
				pthread_mutex_unlock(&written_lock);
				continue;
			}
		}
		if (n > 0)
			count_written(v.iov_base, n);
		pthread_mutex_unlock(&written_lock);
		if (n < 0 && errno == EAGAIN && wait)
			poll(&(struct pollfd){ .fd = STDOUT_FILENO, .events = POLLOUT }, 1, -1);
		else if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		else if (n <= 0 && !wait)
			break;
		if (n > 0)
			off += n;
	}
	return (ssize_t)off;
}

/*
 * With the lock held: unless someone is writing, write what is pending
 * (releasing the lock meanwhile) until nothing is.  Requests append
 * while a batch is written and the writer takes them next, so batches
 * grow under load.  WAIT: see write_batch; what a request's thread could
 * not write goes back to the front of the output, for the writer thread.
 */
static void
output_write(int wait)
{
	while (!output.writing && output.pending.len > 0) {
		struct buf batch = output.pending;
		size_t done;

		output.pending = output.spare;
		output.pending.len = 0;
		mark_checkpoint(&batch);
		output.writing = 1;
		if (output.broken) {
			done = batch.len;  /* nobody reads it any more */
		} else {
			ssize_t n;
			int err;

			pthread_mutex_unlock(&output.lock);
			n = write_batch(&batch, wait);
			err = errno;
			pthread_mutex_lock(&output.lock);
			if (n < 0 && !output.broken)
				output.broken = err;
			done = n < 0 ? batch.len : (size_t)n;
		}
		output.writing = 0;
		if (done < batch.len) {
			/* The rest, then what came meanwhile, in order. */
			memmove(batch.data, batch.data + done, batch.len - done);
			batch.len -= done;
			buf_add(&batch, output.pending.data, output.pending.len);
			output.spare = output.pending;
			output.pending = batch;
			output.spare.len = 0;
			pthread_cond_broadcast(&output.room);
			pthread_cond_signal(&output.work);
			return;
		}
		batch.len = 0;
		output.spare = batch;
		pthread_cond_broadcast(&output.room);
	}
}

static void *
output_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&output.lock);
	for (;;) {
		if (!output.writing && output.pending.len > 0)
			output_write(1);
		else if (output.stopping && !output.writing)
			break;
		else
			pthread_cond_wait(&output.work, &output.lock);
	}
	pthread_mutex_unlock(&output.lock);
	return NULL;
}

/* --reply-fifo, with the lock held: REQ's records, just appended, are
 * followed by a checkpoint of their own, so that what comes back before
 * it is REQ's alone. */
static void
reply_checkpoint(struct request *req)
{
	req->checkpoint = ack_checkpoint(&output.pending);
	waitlist_add(&output.unacked, req);
}

/* Hand LINES (N records) to the output; 0, or -1 when it cannot take them.
 * With --ack-fifo, REQ is suspended until the loader acknowledges them.
 * LINES may come back holding another buffer (emptied): free it. */
static int
output_append(struct buf *lines, long n, struct request *req)
{
	struct timespec deadline;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += conf.queue_timeout_ms / 1000;
	deadline.tv_nsec += (conf.queue_timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&output.lock);
	while (!output.broken && output.pending.len > 0 &&
	    output.pending.len + lines->len > OUTPUT_LIMIT && rc == 0)
		rc = pthread_cond_timedwait(&output.room, &output.lock, &deadline);
	if (output.broken || rc != 0) {
		pthread_mutex_unlock(&output.lock);
		return -1;
	}
	if (output.pending.len == 0 && lines->len > output.pending.cap) {
		/* Take the lines' buffer rather than copy a large body. */
		struct buf idle = output.pending;

		output.pending = *lines;
		*lines = idle;
	} else {
		buf_add(&output.pending, lines->data, lines->len);
	}
	if (conf.ack_fifo) {
		/* Under the lock, so no acknowledgement can come before it waits. */
		req->records = n;
		req->since = stats_now();
		if (conf.reply)
			reply_checkpoint(req);
		else
			waitlist_add(&output.unwritten, req);
		MHD_suspend_connection(req->conn);
	}
	/* Write it from this thread if the output is idle: no hand-over to
	 * the writer thread, no wake-up, per request. */
	if (stdout_is_file || !atomic_load(&nowait_refused))
		output_write(0);
	else if (!output.writing)
		pthread_cond_signal(&output.work);
	if (output.broken && !conf.ack_fifo) {
		/* This request's own write found the output closed: its
		 * records were not handed on, so it is not answered 202.
		 * (With --ack-fifo the waiting request gets its 503 when
		 * the acknowledgements end.) */
		pthread_mutex_unlock(&output.lock);
		return -1;
	}
	stats_add(&stats.records_out, n);
	pthread_mutex_unlock(&output.lock);
	return 0;
}

static int
output_ok(void)
{
	int ok;

	pthread_mutex_lock(&output.lock);
	ok = !output.broken && output.pending.len < OUTPUT_LIMIT;
	pthread_mutex_unlock(&output.lock);
	return ok;
}

/* ---- the backlog: what a 202 stands for, bounded by time (lib/backlog.h) ----
 *
 * Without --ack-fifo a 202 says the records were handed on, and a stop
 * hands on the rest before its deadline.  So while stdout is a pipe, what
 * is held (the output buffer and what waits unread in the pipe) is kept
 * within --max-backlog of the rate the next stage takes it at; past that,
 * new requests get 503 with Retry-After.
 */

static struct backlog backlog;
static int backlog_bounded;          /* stdout is a pipe, without --ack-fifo */
static atomic_size_t backlog_unread; /* in the pipe, at the last sample */
static atomic_ullong handed_bytes;   /* NDJSON bytes handed to the output */
/* The pipe itself is sized by time, as every stage's output (writer.h):
 * the next stage reads ahead no more than it holds. */
static struct backlog pipe_pace;
static size_t pipe_size;             /* 0: not a pipe, or --reply-fifo's */

/* The main thread, every 100 ms (50 with --ack-fifo, or until the pace shows). */
static void
backlog_measure(void)
{
	unsigned long long written = atomic_load(&written_bytes);
	double now = stats_now();
	int unread = 0;

	if ((!backlog_bounded && !pipe_size) || ioctl(STDOUT_FILENO, FIONREAD, &unread) != 0)
		return;
	if (pipe_size)
		atomic_store(&pipe_want, backlog_pipe_follow(&pipe_pace, STDOUT_FILENO,
		    &pipe_size, now, written, (size_t)unread));
	if (!backlog_bounded)
		return;
	atomic_store(&backlog_unread, (size_t)unread);
	backlog_sample(&backlog, now, written, (size_t)unread);
}

/* 0 when a new request may be accepted, else the seconds to Retry-After. */
static unsigned
backlog_behind(void)
{
	unsigned long long handed = atomic_load(&handed_bytes), written = atomic_load(&written_bytes);
	size_t held = (handed > written ? handed - written : 0) + atomic_load(&backlog_unread);

	if (!backlog_bounded || backlog_admits(&backlog, held))
		return 0;
	return backlog_retry_after(&backlog, held);
}

/* Records answered 202 and not written to stdout (a stop that gives up,
 * a next stage that stopped reading). */
static unsigned long long
undelivered(void)
{
	unsigned long long answered = atomic_load(&stats.records_out),
	    written = atomic_load(&written_lines);

	return answered > written ? answered - written : 0;
}

/* A stop that gives up, on the signal thread: the counts at rest, with
 * no request appending and no write under way (a lock held past 100 ms,
 * by a blocking write of an older kernel, is not waited for). */
static void
report_undelivered(const char *why)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 100 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_nsec -= 1000000000L;
		until.tv_sec++;
	}
	pthread_mutex_timedlock(&output.lock, &until);
	pthread_mutex_timedlock(&written_lock, &until);
	msg_error("stop", "%s: %llu records answered 202 were not handed on", why, undelivered());
}

/* ---- counting ------------------------------------------------------------ */

static atomic_ullong by_status[600];
static atomic_ullong requests, body_bytes;
/* For /metrics: */
static const double ack_wait_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};
static struct metrics_histogram ack_wait = METRICS_HISTOGRAM(ack_wait_bounds);
static atomic_ullong backpressure;       /* 503: the output could not take them */
static atomic_ullong behind;             /* of which: past --max-backlog */

static void
stats_fields(struct buf *line)
{
	char tmp[64];
	int first = 1;

	snprintf(tmp, sizeof tmp, ",\"requests\":%llu,\"body_bytes\":%llu,\"status\":{",
	    (unsigned long long)requests, (unsigned long long)body_bytes);
	buf_adds(line, tmp);
	for (int s = 100; s < 600; s++) {
		unsigned long long n = atomic_load(&by_status[s]);

		if (!n)
			continue;
		snprintf(tmp, sizeof tmp, "%s\"%d\":%llu", first ? "" : ",", s, n);
		buf_adds(line, tmp);
		first = 0;
	}
	buf_addc(line, '}');
}

/* ---- acknowledgements: the --ack-fifo reader ---------------------------- */

static int
acknowledged(struct request *req, void *upto)
{
	return req->checkpoint <= *(unsigned long long *)upto;
}

static int
any(struct request *req, void *arg)
{
	(void)req;
	(void)arg;
	return 1;
}

static int
expired(struct request *req, void *now)
{
	return (*(double *)now - req->since) * 1000 >= conf.ack_timeout_ms;
}

/* lib/ack's reader: checkpoints up to UPTO are committed, and the
 * requests waiting on them are answered 202 (acknowledgements come in
 * order). */
static void
acks_committed(unsigned long long upto, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&output.lock);
	waitlist_settle(&output.unacked, acknowledged, &upto, 202, NULL);
	pthread_mutex_unlock(&output.lock);
}

/* The FIFO's writer went away: what it has not acknowledged never will be. */
static void
acks_ended(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&output.lock);
	waitlist_settle(&output.unacked, any, NULL, 503,
	    "the acknowledgement stream ended before this request was acknowledged");
	pthread_mutex_unlock(&output.lock);
}

/* Called every so often: a request waits no longer than --ack-timeout. */
static void
acks_expire(void)
{
	double now = stats_now();
	static const char why[] = "no acknowledgement within --ack-timeout";

	pthread_mutex_lock(&output.lock);
	waitlist_settle(&output.unwritten, expired, &now, conf.reply ? 504 : 503,
	    conf.reply ? "no reply within --reply-timeout" : why);
	waitlist_settle(&output.unacked, expired, &now, conf.reply ? 504 : 503,
	    conf.reply ? "no reply within --reply-timeout" : why);
	pthread_mutex_unlock(&output.lock);
}

/* ---- replies: the --reply-fifo reader ----------------------------------------
 *
 * On lib/ack's reader thread: the lines since the last checkpoint are
 * gathered here; at a checkpoint they become the answer of the request it
 * names, if it still waits (one answered 504 meanwhile: they are dropped).
 * Checkpoints are numbered one per request, so a gap means a stage lost
 * control lines: the lines cannot be told apart, and every request in the
 * gap gets 502 rather than another's records.
 */

static const char *reply_fifo;
static struct {
	struct buf records;          /* record and batch lines, each with its LF */
	struct buf rejects;          /* reject objects, comma-separated */
	const char *bad;             /* a line we cannot answer with */
	unsigned long long last;     /* the last checkpoint seen */
} gathered = { .records = BUF_INIT, .rejects = BUF_INIT };

static void
reply_line(const char *line, size_t len, int too_long, void *arg)
{
	enum line_kind kind = line_kind_fast(line, len);
	json_t *v, *rej;

	(void)arg;
	if (too_long) {
		gathered.bad = "a line of the pipeline's output is too long to answer with";
		return;
	}
	switch (kind) {
	case LINE_RECORD:
	case LINE_BATCH:
		buf_add(&gathered.records, line, len);
		buf_addc(&gathered.records, '\n');
		return;
	case LINE_CONTROL:
		if (!(v = jsontree_parse(line, len)))
			v = json_loadb(line, len, LINE_JSON_FLAGS, NULL);
		rej = json_object_get(json_object_get(v, "$etl"), "reject");
		if (rej) {
			if (gathered.rejects.len > 0)
				buf_addc(&gathered.rejects, ',');
			jsonout_value(&gathered.rejects, rej);
		}
		json_decref(v);  /* other control lines are not answers */
		return;
	default:
		for (size_t i = 0; i < len; i++)
			if (!strchr(" \t\r", line[i])) {
				gathered.bad = "the pipeline's output is not NDJSON";
				break;
			}
		return;
	}
}

/* The request REQ (checkpoint UPTO) gets what was gathered. */
static int
named(struct request *req, void *upto)
{
	return req->checkpoint == *(unsigned long long *)upto;
}

static int
skipped(struct request *req, void *upto)
{
	return req->checkpoint < *(unsigned long long *)upto;
}

static void
reply_committed(unsigned long long upto, void *arg)
{
	static const char lost[] = "a stage of the pipeline lost control lines:"
	    " this request's reply cannot be told apart";
	int gap = upto != gathered.last + 1;

	(void)arg;
	if (upto <= gathered.last)
		gap = 1;  /* an old checkpoint again: nothing to answer */
	pthread_mutex_lock(&output.lock);
	waitlist_settle(&output.unacked, skipped, &upto, 502, lost);
	for (struct request *req = output.unacked.head; req && !gap; req = req->next) {
		if (req->checkpoint != upto)
			continue;
		req->reply = gathered.records;
		req->rejects = gathered.rejects;
		gathered.records = (struct buf)BUF_INIT;
		gathered.rejects = (struct buf)BUF_INIT;
		break;
	}
	waitlist_settle(&output.unacked, named, &upto,
	    gap || gathered.bad ? 502 : 200, gap ? lost : gathered.bad);
	pthread_mutex_unlock(&output.lock);
	if (upto > gathered.last)
		gathered.last = upto;
	gathered.records.len = gathered.rejects.len = 0;
	gathered.bad = NULL;
}

/* The last stage closed the FIFO: the pipeline is broken.  The requests
 * in flight get 502 and the server stops as when stdout breaks. */
static void
reply_ended(void *arg)
{
	(void)arg;
	msg_error(reply_fifo, "the pipeline's output ended: a stage stopped");
	pthread_mutex_lock(&output.lock);
	waitlist_settle(&output.unwritten, any, NULL, 502, "the pipeline stopped");
	waitlist_settle(&output.unacked, any, NULL, 502, "the pipeline stopped");
	if (!output.broken)
		output.broken = EPIPE;
	pthread_mutex_unlock(&output.lock);
}

static void
reply_start(void)
{
	/* Whole bodies go down the pipe and back: a wider pipe takes one in
	 * fewer round trips (best effort; the system may cap it). */
	fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20);
	/* A transform may make more of a body than it was. */
	ack_lines(reply_line, 4 * conf.max_body + (1 << 20));
	ack_start(&(struct ack_handlers){ reply_committed, reply_ended, NULL });
}

static void
reply_options(struct opt_parser *p)
{
	if (conf.raw_body && conf.envelope)
		opt_usage_error(p, "--raw-body and --envelope are two shapes of the body: choose one");
	if (!conf.reply && conf.reply_field)
		opt_usage_error(p, "--reply-field needs --reply-fifo");
	if (!conf.reply)
		return;
	if (conf.ack_fifo)
		opt_usage_error(p, "--reply-fifo answers with the output: it goes without --ack-fifo");
	conf.ack_fifo = reply_fifo;  /* the same path, from here on */
	conf.ack_timeout_ms = conf.reply_timeout_ms;
}

/* ---- requests -------------------------------------------------------------- */

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned status, const char *json,
    const char *extra_header, const char *extra_value)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json),
	    (void *)json, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	MHD_add_response_header(r, "Content-Type", "application/json");
	if (extra_header)
		MHD_add_response_header(r, extra_header, extra_value);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	if (status < 600)
		stats_add(&by_status[status], 1);
	return rc;
}

/* An error answer: {"error": REASON}. */
static enum MHD_Result
answer_error(struct MHD_Connection *c, unsigned status, const char *reason)
{
	struct buf json = BUF_INIT;
	enum MHD_Result rc;

	buf_adds(&json, "{\"error\":");
	jsonout_string_lossy(&json, reason, strlen(reason));
	buf_addc(&json, '}');
	rc = answer(c, status, buf_cstr(&json),
	    status == 405 ? "Allow" : status == 401 ? "WWW-Authenticate" : NULL,
	    status == 405 ? "GET, POST, PUT" : "Bearer");
	buf_free(&json);
	return rc;
}

/* 503 past --max-backlog: try again in RETRY_AFTER seconds. */
static enum MHD_Result
answer_behind(struct MHD_Connection *c, unsigned retry_after)
{
	char seconds[16];

	stats_add(&backpressure, 1);
	stats_add(&behind, 1);
	snprintf(seconds, sizeof seconds, "%u", retry_after);
	return answer(c, 503, "{\"error\":\"the pipeline is behind: what was accepted"
	    " would take longer than --max-backlog to hand on\"}", "Retry-After", seconds);
}

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static int
path_ok(const char *url)
{
	return !conf.path || strcmp(url, conf.path) == 0;
}

/* Constant-time check of the bearer token. */
static int
token_ok(struct MHD_Connection *c)
{
	const char *auth = header(c, "Authorization");
	size_t n = strlen(conf.token);

	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	return strlen(auth) == n && memeql_sec(auth, conf.token, n);
}

/*
 * --max-headers counts the request line, each header line and query
 * argument, and HEAD_FIELD_COST bytes a field for libmicrohttpd's own
 * bookkeeping.  Its memory pool is sized HEAD_POOL(limit): that and room
 * for the answer, so a request within the limit is always answered; past
 * the limit it is refused (431) before anything is accepted.  (The read
 * buffer grows in place into the pool, and libmicrohttpd's record of a
 * field is smaller than HEAD_FIELD_COST.)  No larger: libmicrohttpd zeroes
 * the whole pool before each request of a kept-alive connection, which
 * was the largest single cost of a small request at twice the limit.
 */
enum { HEAD_FIELD_COST = 64 };
#define HEAD_POOL(limit) ((limit) + 16384)

static enum MHD_Result
count_field(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind;
	*(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + HEAD_FIELD_COST;
	return MHD_YES;
}

static size_t
head_size(struct MHD_Connection *c, const char *method, const char *url)
{
	size_t n = strlen(method) + strlen(url) + sizeof " HTTP/1.1\r\n\r\n";

	MHD_get_connection_values(c, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND,
	    count_field, &n);
	return n;
}

static enum MHD_Result
answer_accepted(struct MHD_Connection *c, long n)
{
	char reply[64];

	snprintf(reply, sizeof reply, "{\"accepted\":%ld}", n);
	return answer(c, 202, reply, NULL, NULL);
}

static enum MHD_Result answer_body(struct MHD_Connection *, unsigned, struct buf *, const char *);

/* ---- webhook senders (lib/webhook) ---------------------------------------- */

static struct webhook verifier;           /* --verify */
static struct webhook subscription;       /* --verify-token-file */
static atomic_ullong auth_failures[WEBHOOK_FAILURES];

static const char *
request_header(void *c, const char *name)
{
	return header(c, name);
}

/* NULL when the raw BODY is signed as --verify says, else the reason. */
static const char *
verify_request(struct MHD_Connection *c, const struct buf *body)
{
	struct webhook_request r = { request_header, c, body->data ? body->data : "",
	    body->len, time(NULL) };
	enum webhook_failure f = webhook_verify(&verifier, &r);

	if (f == WEBHOOK_OK)
		return NULL;
	stats_add(&auth_failures[f], 1);
	return webhook_failure_reason(f);
}

/* Meta's subscription: GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…
 * is answered with the challenge when the token is one in --verify-token-file. */
static enum MHD_Result
answer_subscription(struct MHD_Connection *c)
{
	const char *mode = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hub.mode");
	const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hub.verify_token");
	const char *challenge = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hub.challenge");
	struct buf text = BUF_INIT;

	if (strcmp(mode, "subscribe") != 0 || !challenge)
		return answer_error(c, 400, "hub.mode=subscribe and hub.challenge expected");
	if (!token || !webhook_secret_matches(&subscription, token)) {
		stats_add(&auth_failures[WEBHOOK_BAD_SIGNATURE], 1);
		return answer_error(c, 403, "hub.verify_token does not match");
	}
	buf_adds(&text, challenge);
	return answer_body(c, 200, &text, "text/plain");
}

/* Slack's url_verification event (signed, checked already): its challenge
 * as the answer, in OUT, and no record.  1 when it was one. */
static int
slack_handshake(const struct buf *body, struct buf *out)
{
	json_t *event, *challenge;
	int found = 0;

	if (!verifier.scheme || strcmp(conf.hook.scheme, "slack") != 0 || !body->data ||
	    !memmem(body->data, body->len, "url_verification", 16))
		return 0;
	event = json_loadb(body->data, body->len, 0, NULL);
	challenge = json_object_get(event, "challenge");
	if (json_is_string(challenge) && json_is_string(json_object_get(event, "type")) &&
	    strcmp(json_string_value(json_object_get(event, "type")), "url_verification") == 0) {
		buf_adds(out, "{\"challenge\":");
		jsonout_string_lossy(out, json_string_value(challenge), json_string_length(challenge));
		buf_addc(out, '}');
		found = 1;
	}
	json_decref(event);
	return found;
}

/* --delivery-id-field: the sender's id of this delivery into each record. */
static void
add_delivery_id(struct MHD_Connection *c, const struct buf *body, struct buf *lines)
{
	struct webhook_request r = { request_header, c, body->data ? body->data : "",
	    body->len, 0 };
	char id[256];

	if (webhook_delivery_id(&verifier, &r, id, sizeof id))
		httpbody_prefix_field(lines, conf.delivery_id_field, id);
}

/* The scheme of --verify (github when only a secret is given), its secrets
 * and parameters, and --verify-token-file. */
static void
verify_options(struct opt_parser *p)
{
	const char *why = NULL, *env = getenv("ETL_HMAC_SECRET");
	char *text, err[256];
	size_t len;

	if (conf.verify_token_file) {
		text = secret_read(conf.verify_token_file, &len);
		webhook_init(&subscription, "gitlab", &why);
		if (webhook_add_secrets(&subscription, text, len, &why) < 0)
			msg_die(EXIT_CONFIG, conf.verify_token_file, "%s", why);
		free(text);
	}
	if (!conf.hook.scheme && (conf.hook.secret_file || (env && *env)))
		conf.hook.scheme = "github";
	if (conf.hook.scheme && (why = webhook_configure(&verifier, &conf.hook, err, sizeof err)))
		opt_usage_error(p, "--verify: %s", why);
	if (!conf.hook.scheme && (conf.delivery_id_field || conf.hook.public_url))
		opt_usage_error(p, "--delivery-id-field and --public-url need --verify");
}

/* The whole request is here: check, decode, hand on, answer. */
static enum MHD_Result
finish_request(struct MHD_Connection *c, const char *url, const char *method,
    struct request *req)
{
	struct buf lines = BUF_INIT;
	const char *reason = NULL;
	char err[512];
	size_t handed;
	long n;
	int status, kind;

	if (req->too_large)
		return answer_error(c, 413, "the body is larger than --max-body");
	if (strcmp(method, "GET") == 0 && conf.verify_token_file &&
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hub.mode"))
		return answer_subscription(c);
	if (verifier.scheme && (reason = verify_request(c, &req->body)))
		return answer_error(c, 401, reason);
	if ((status = httpbody_decompress(header(c, "Content-Encoding"),
	    &req->body, conf.max_body, &reason)) != 0)
		return answer_error(c, status, reason);
	if (slack_handshake(&req->body, &lines))
		return answer_body(c, 200, &lines, "application/json");
	stats_add(&body_bytes, req->body.len);
	if (conf.envelope) {
		n = httpbody_envelope_record(c, url, method, req->body.data, req->body.len, &lines);
	} else if (conf.raw_body && strcmp(method, "GET") != 0) {
		httpbody_raw_record(req->body.data ? req->body.data : "", req->body.len, &lines);
		n = 1;
	} else if (strcmp(method, "GET") == 0) {
		n = httpbody_query_record(c, &lines, err, sizeof err);
	} else {
		if ((kind = httpbody_kind(header(c, "Content-Type"))) < 0)
			return answer_error(c, 415, "unsupported Content-Type: send JSON,"
			    " NDJSON or a form, or run with --envelope");
		n = httpbody_records(kind, req->body.data ? req->body.data : "",
		    req->body.len, &lines, err, sizeof err);
	}
	if (n < 0) {
		buf_free(&lines);
		return answer_error(c, 400, err);
	}
	if (conf.delivery_id_field)
		add_delivery_id(c, &req->body, &lines);
	stats_add(&stats.records_in, n);
	req->conn = c;
	handed = lines.len;
	if (output_append(&lines, n, req) != 0) {
		buf_free(&lines);
		stats_add(&backpressure, 1);
		return answer_error(c, 503, "the output cannot take records now");
	}
	stats_add(&handed_bytes, handed);
	buf_free(&lines);
	if (conf.ack_fifo)
		return MHD_YES;  /* suspended: answer_settled answers it */
	return answer_accepted(c, n);
}

/* An answer of BODY (taken) as TYPE. */
static enum MHD_Result
answer_body(struct MHD_Connection *c, unsigned status, struct buf *body,
    const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(body->len,
	    body->data ? body->data : (void *)"", body->data ? MHD_RESPMEM_MUST_FREE
	    : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	*body = (struct buf)BUF_INIT;
	MHD_add_response_header(r, "Content-Type", type);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	stats_add(&by_status[status], 1);
	return rc;
}

/* 422: {"error": the first reason, "rejects": [...], "records": [...]}. */
static enum MHD_Result
answer_rejected(struct MHD_Connection *c, struct request *req)
{
	struct buf out = BUF_INIT;
	json_t *first;
	const char *why;

	/* The first reject ends at the first comma at its top level: parse
	 * it alone (json_loadb stops at the end of one value). */
	first = json_loadb(req->rejects.data, req->rejects.len,
	    JSON_DISABLE_EOF_CHECK | LINE_JSON_FLAGS, NULL);
	why = json_string_value(json_object_get(first, "error"));
	buf_adds(&out, "{\"error\":");
	if (!why)
		why = "rejected by the pipeline";
	jsonout_string_lossy(&out, why, strlen(why));
	json_decref(first);
	buf_adds(&out, ",\"rejects\":[");
	buf_add(&out, req->rejects.data, req->rejects.len);
	buf_adds(&out, "],\"records\":");
	httpreply_records(&req->reply, 0, &out);
	buf_addc(&out, '}');
	return answer_body(c, 422, &out, "application/json");
}

/* --reply-field: the field's value of each record, in order, as raw bytes
 * of --reply-type; no record is an empty body. */
static enum MHD_Result
answer_field(struct MHD_Connection *c, struct request *req)
{
	struct buf out = BUF_INIT;
	char why[300];
	int rc = httpreply_field(&req->reply, conf.reply_field, &out);

	if (rc != 0) {
		buf_free(&out);
		snprintf(why, sizeof why, rc == 1 ? "a record of the pipeline's output has no field %s"
		    : "the field %s is not valid base64", conf.reply_field);
		return answer_error(c, 502, why);
	}
	return answer_body(c, 200, &out, conf.reply_type);
}

/* --reply-fifo: the pipeline's output for REQ, settled by reply_committed,
 * reply_ended or the timeout. */
static enum MHD_Result
answer_reply(struct MHD_Connection *c, struct request *req)
{
	const char *accept = header(c, "Accept");
	int ndjson = accept && strstr(accept, "application/x-ndjson");
	struct buf out = BUF_INIT;

	if (req->verdict != 200)
		return answer_error(c, req->verdict, req->why);
	if (req->rejects.len > 0)
		return answer_rejected(c, req);
	if (conf.reply_field)
		return answer_field(c, req);
	httpreply_records(&req->reply, ndjson, &out);
	return answer_body(c, 200, &out, ndjson ? "application/x-ndjson" : "application/json");
}

/* Resumed after the acknowledgement, or its absence, settled it. */
static enum MHD_Result
answer_settled(struct MHD_Connection *c, struct request *req)
{
	if (conf.reply)
		return answer_reply(c, req);
	if (req->verdict == 202) {
		metrics_observe(&ack_wait, stats_now() - req->since);
		return answer_accepted(c, req->records);
	}
	return answer_error(c, 503, req->why);
}

/* ---- slow clients: absolute deadlines ----------------------------------------
 *
 * libmicrohttpd closes a connection idle for --idle-timeout, but a client
 * that sends one header line every few seconds is never idle, and one
 * thousand of them held every connection slot (slowloris).  So each
 * connection carries an absolute deadline for the phase it is in: its
 * request line and headers within --header-timeout of the connection (or,
 * kept alive, of the request line), its body within --body-timeout of the
 * headers, and the next request line within --idle-timeout of the last
 * answer.  Waiting for the answer (the output, an acknowledgement) has no
 * deadline here: --queue-timeout and --ack-timeout bound it.
 *
 * libmicrohttpd tells us of each connection as it opens and closes; a
 * thread (the reaper) looks at the open ones a few times a second and
 * shuts down the socket of one past its deadline.  libmicrohttpd then
 * reads end-of-file on it and closes the connection itself, freeing its
 * slot.  The reaper shuts down a socket only with the lock held, and a
 * connection leaves the list under that lock when libmicrohttpd reports it
 * closed, before it closes the socket: the reaper never touches a
 * descriptor that may have been reused.
 */

enum conn_phase { PHASE_HEADERS, PHASE_BODY, PHASE_ANSWER, PHASE_IDLE };

struct watched {
	struct watched *prev, *next;
	int fd;
	enum conn_phase phase;
	double deadline;              /* stats_now() seconds; 0: none */
};

static struct {
	pthread_mutex_t lock;
	struct watched *head;
	long open;
} watch = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Connections shut at their deadline, by phase (headers, body, idle). */
static atomic_ullong deadline_closes[PHASE_IDLE + 1];

/* When a connection entering PHASE now must have left it; 0: never. */
static double
phase_deadline(enum conn_phase phase)
{
	long long ms = phase == PHASE_HEADERS ? conf.header_timeout_ms
	    : phase == PHASE_BODY ? conf.body_timeout_ms
	    : phase == PHASE_IDLE ? conf.idle_timeout_s * 1000LL : 0;

	return ms > 0 ? stats_now() + ms / 1000.0 : 0;
}

static void
watch_enter(struct watched *w, enum conn_phase phase)
{
	pthread_mutex_lock(&watch.lock);
	w->phase = phase;
	w->deadline = phase_deadline(phase);
	pthread_mutex_unlock(&watch.lock);
}

/* The connection C's entry, or NULL. */
static struct watched *
watched_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

/* C moves on to PHASE. */
static void
watch_phase(struct MHD_Connection *c, enum conn_phase phase)
{
	struct watched *w = watched_of(c);

	if (w)
		watch_enter(w, phase);
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct watched *w = *socket_context;

	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);

		if (!info || !(w = calloc(1, sizeof *w)))
			return;
		w->fd = info->connect_fd;
		w->phase = PHASE_HEADERS;
		w->deadline = phase_deadline(PHASE_HEADERS);
		pthread_mutex_lock(&watch.lock);
		w->next = watch.head;
		if (watch.head)
			watch.head->prev = w;
		watch.head = w;
		watch.open++;
		pthread_mutex_unlock(&watch.lock);
		*socket_context = w;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && w) {
		pthread_mutex_lock(&watch.lock);
		if (w->prev)
			w->prev->next = w->next;
		else
			watch.head = w->next;
		if (w->next)
			w->next->prev = w->prev;
		watch.open--;
		pthread_mutex_unlock(&watch.lock);
		free(w);
		*socket_context = NULL;
	}
}

/* A request line arrived: on a kept-alive connection its headers start now. */
static void *
on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct watched *w = watched_of(c);

	(void)cls;
	(void)uri;
	if (w) {
		pthread_mutex_lock(&watch.lock);
		if (w->phase == PHASE_IDLE) {
			w->phase = PHASE_HEADERS;
			w->deadline = phase_deadline(PHASE_HEADERS);
		}
		pthread_mutex_unlock(&watch.lock);
	}
	return NULL;  /* the request's state, which on_request fills */
}

static void *
reaper_main(void *arg)
{
	long long least = conf.header_timeout_ms > 0 && (conf.header_timeout_ms < conf.body_timeout_ms
	    || conf.body_timeout_ms == 0) ? conf.header_timeout_ms : conf.body_timeout_ms;
	long long every_ms;

	/* A twentieth of the shortest deadline, within 10..250 ms. */
	if (least <= 0)
		least = 5000;
	every_ms = least / 20 < 10 ? 10 : least / 20 > 250 ? 250 : least / 20;

	(void)arg;
	for (;;) {
		double now;

		usleep(every_ms * 1000);
		now = stats_now();
		pthread_mutex_lock(&watch.lock);
		for (struct watched *w = watch.head; w; w = w->next) {
			if (w->deadline == 0 || now < w->deadline)
				continue;
			shutdown(w->fd, SHUT_RDWR);
			stats_add(&deadline_closes[w->phase], 1);
			w->deadline = 0;  /* once */
		}
		pthread_mutex_unlock(&watch.lock);
	}
	return NULL;
}

static void
start_reaper(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, reaper_main, NULL) != 0)
		msg_die(EXIT_SOFTWARE, "deadlines", "cannot start the reaper thread");
	pthread_detach(t);
}

/* The connection cap: --max-connections, or 10,000 (epoll makes idle
 * connections cheap; each costs a descriptor and at most HEAD_POOL bytes),
 * within the descriptors the process may open, whose soft limit is raised
 * to the hard one first. */
static unsigned
connection_cap(void)
{
	enum { DEFAULT_CAP = 10000, RESERVE = 64 };  /* FIFO, epoll, pipes, logs */
	struct rlimit rl;
	unsigned long long room;
	unsigned cap = conf.max_connections ? conf.max_connections : DEFAULT_CAP;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return cap;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit raised = { rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl = raised;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)cap + RESERVE)
		return cap;
	room = rl.rlim_cur > RESERVE * 2 ? rl.rlim_cur - RESERVE : rl.rlim_cur / 2;
	if (conf.max_connections)
		msg_warn("--max-connections", "only %llu connections fit in the open files limit"
		    " (%llu; raise it with ulimit -n or LimitNOFILE=)", room,
		    (unsigned long long)rl.rlim_cur);
	return (unsigned)room;
}

/* ---- metrics: GET /metrics for Prometheus ------------------------------------
 *
 * Served on the main port like /healthz, or with --metrics-listen on an
 * address of its own (kept off the public port) by a second, one-thread
 * server.  The counters are the ones --stats prints, plus what only a
 * dashboard wants: connections, deadlines hit, 503s from backpressure and
 * how long acknowledgements take.
 */

static atomic_int in_flight;

static void
metrics_text(struct buf *out)
{
	static const char *const phases[] = { "headers", "body", "answer", "idle" };
	long open;

	metrics_family(out, "etl_http_requests_total", "counter",
	    "HTTP requests answered, by status code.");
	for (int code = 100; code < 600; code++) {
		unsigned long long n = atomic_load(&by_status[code]);
		char label[8];

		if (!n)
			continue;
		snprintf(label, sizeof label, "%d", code);
		metrics_sample(out, "etl_http_requests_total", "code", label, n);
	}
	metrics_counter(out, "etl_http_records_total",
	    "Records handed on to standard output.", atomic_load(&stats.records_out));
	metrics_counter(out, "etl_http_output_bytes_total",
	    "Bytes of records handed on to standard output.", atomic_load(&handed_bytes));
	metrics_counter(out, "etl_http_request_body_bytes_total",
	    "Bytes of request bodies taken, after decompression.", atomic_load(&body_bytes));
	metrics_gauge(out, "etl_http_requests_in_flight",
	    "Requests being read, handed on or waiting for their acknowledgement.",
	    atomic_load(&in_flight));
	metrics_counter(out, "etl_http_backpressure_rejections_total",
	    "Requests answered 503 because the output could not take their records.",
	    atomic_load(&backpressure));
	metrics_counter(out, "etl_http_backlog_rejections_total", "Of those, requests answered 503"
	    " because what was accepted would take longer than --max-backlog to hand on.",
	    atomic_load(&behind));
	metrics_gauge(out, "etl_http_output_rate_bytes", "Bytes per second the next stage takes"
	    " when behind (0: not measured).", (long long)backlog_rate(&backlog));
	pthread_mutex_lock(&watch.lock);
	open = watch.open;
	pthread_mutex_unlock(&watch.lock);
	metrics_gauge(out, "etl_http_connections", "Open connections.", open);
	metrics_family(out, "etl_http_auth_failures_total", "counter",
	    "Requests refused for their signature (--verify), by reason.");
	for (int f = WEBHOOK_MISSING; f < WEBHOOK_FAILURES; f++)
		metrics_sample(out, "etl_http_auth_failures_total", "reason",
		    webhook_failure_label(f), atomic_load(&auth_failures[f]));
	metrics_family(out, "etl_http_deadline_closes_total", "counter",
	    "Connections closed for taking too long, by phase.");
	for (int ph = PHASE_HEADERS; ph <= PHASE_IDLE; ph++)
		if (ph != PHASE_ANSWER)
			metrics_sample(out, "etl_http_deadline_closes_total", "phase",
			    phases[ph], atomic_load(&deadline_closes[ph]));
	if (conf.ack_fifo)
		metrics_histogram_write(out, "etl_http_ack_wait_seconds",
		    "Time from handing records on to their acknowledgement (--ack-fifo).",
		    &ack_wait);
	metrics_process(out);
}

static enum MHD_Result
answer_metrics(struct MHD_Connection *c)
{
	struct buf text = BUF_INIT;
	struct MHD_Response *r;
	enum MHD_Result rc;

	stats_add(&by_status[200], 1);  /* counted in what it shows */
	metrics_text(&text);
	r = MHD_create_response_from_buffer(text.len, text.data, MHD_RESPMEM_MUST_COPY);
	buf_free(&text);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	rc = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return rc;
}

/* The --metrics-listen server's requests: GET /metrics, and nothing else. */
static enum MHD_Result
on_metrics_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	(void)cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	if (strcmp(url, "/metrics") != 0)
		return answer_error(c, 404, "no such path: this address serves /metrics");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer_error(c, 405, "use GET");
	return answer_metrics(c);
}

/* Before confinement: the --metrics-listen socket. */
static int
metrics_socket(void)
{
	if (strchr(conf.metrics_listen, '/'))
		msg_die(EXIT_USAGE, conf.metrics_listen, "--metrics-listen takes [ADDRESS]:PORT, without a path");
	return listen_socket(conf.metrics_listen, NULL);
}

static struct MHD_Daemon *
start_metrics_server(int fd)
{
	struct MHD_Daemon *d;

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
	    on_metrics_request, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, 64,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10,
	    MHD_OPTION_END);
	if (!d)
		msg_die(EXIT_UNAVAILABLE, conf.metrics_listen, "cannot start the metrics server");
	return d;
}

/* ---- framing: where a request ends (RFC 9112, section 6) -------------------
 *
 * A proxy in front and this server must agree on where each request ends,
 * or a second request hidden in the first's body reaches us unseen
 * (request smuggling).  libmicrohttpd takes the first of two
 * Content-Length headers, frames by Transfer-Encoding when both are
 * present, waits for a body that a Transfer-Encoding other than chunked
 * leaves unframed, and does not insist on Host.  Those requests are
 * refused with 400 and their connection closed, before any body is read.
 */

struct framing {
	unsigned lengths, encodings, hosts;
	const char *length;
	int lengths_differ;
	const char *encoding;
};

static enum MHD_Result
framing_count(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (!key)
		return MHD_YES;
	if (strcasecmp(key, "Content-Length") == 0) {
		if (f->lengths++ && strcmp(f->length, value ? value : "") != 0)
			f->lengths_differ = 1;
		f->length = value ? value : "";
	} else if (strcasecmp(key, "Transfer-Encoding") == 0) {
		f->encodings++;
		f->encoding = value ? value : "";
	} else if (strcasecmp(key, "Host") == 0) {
		f->hosts++;
	}
	return MHD_YES;
}

/* Why the request's framing is ambiguous, or NULL when it is not. */
static const char *
framing_error(struct MHD_Connection *c, const char *version)
{
	struct framing f = { 0 };

	MHD_get_connection_values(c, MHD_HEADER_KIND, framing_count, &f);
	if (f.lengths_differ)
		return "conflicting Content-Length headers";
	if (f.lengths && f.encodings)
		return "both Content-Length and Transfer-Encoding";
	if (f.encodings > 1 || (f.encodings && strcasecmp(f.encoding, "chunked") != 0))
		return "a Transfer-Encoding other than chunked";
	if (f.hosts > 1)
		return "more than one Host header";
	if (!f.hosts && strcmp(version, MHD_HTTP_VERSION_1_0) != 0)
		return "an HTTP/1.1 request needs a Host header";
	return NULL;
}

/* 400, and the connection closed: after a request whose end is in doubt,
 * nothing more on the connection can be trusted to be a request. */
static enum MHD_Result
answer_misframed(struct MHD_Connection *c, const char *reason)
{
	struct buf json = BUF_INIT;
	enum MHD_Result rc;

	buf_adds(&json, "{\"error\":");
	jsonout_string_lossy(&json, reason, strlen(reason));
	buf_addc(&json, '}');
	rc = answer(c, 400, buf_cstr(&json), MHD_HTTP_HEADER_CONNECTION, "close");
	buf_free(&json);
	return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	struct request *req = *state;
	unsigned retry;

	(void)cls;
	if (!req) {
		const char *length = header(c, "Content-Length");
		const char *chunked = header(c, "Transfer-Encoding");
		const char *misframed = framing_error(c, version);
		int has_body = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;

		stats_add(&requests, 1);
		watch_phase(c, PHASE_BODY);
		if (misframed)
			return answer_misframed(c, misframed);
		/* Stopping: no new request, not even on an open connection,
		 * so the requests in hand are soon all answered. */
		if (sig_stop)
			return answer(c, 503, "{\"error\":\"shutting down\"}",
			    "Connection", "close");
		if (head_size(c, method, url) > conf.max_headers)
			return answer_error(c, 431, "the request headers are larger"
			    " than --max-headers");
		if (strcmp(method, "GET") == 0 && strcmp(url, "/healthz") == 0)
			return output_ok() ? answer(c, 200, "{\"status\":\"ok\"}", NULL, NULL)
			    : answer_error(c, 503, "the output is not taking records");
		if (strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0 && !conf.metrics_listen)
			return answer_metrics(c);
		if (!path_ok(url))
			return answer_error(c, 404, "no such path");
		if (!has_body && strcmp(method, "GET") != 0)
			return answer_error(c, 405, "use POST, PUT or GET");
		if (conf.token && !token_ok(c))
			return answer_error(c, 401, "bad or missing bearer token");
		if (has_body && !length && !chunked)
			return answer_error(c, 411, "a body needs Content-Length or chunked encoding");
		if (length && strtoull(length, NULL, 10) > conf.max_body &&
		    !header(c, "Content-Encoding"))
			return answer_error(c, 413, "the body is larger than --max-body");
		if (!output_ok()) {
			stats_add(&backpressure, 1);
			return answer_error(c, 503, "the output is not taking records");
		}
		retry = backlog_behind();
		if (!(req = calloc(1, sizeof *req)))
			return MHD_NO;
		/* Past --max-backlog the body is read and dropped, then 503:
		 * answered before it, a sender still sending would see the
		 * connection reset rather than the 503. */
		req->behind = retry;
		if (length)
			req->declared = strtoull(length, NULL, 10);
		*state = req;
		atomic_fetch_add(&in_flight, 1);
		return MHD_YES;  /* libmicrohttpd answers Expect: 100-continue */
	}
	if (*upload_size > 0 && req->behind) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* The raw body is bounded too: a compressed one by --max-body. */
		/* Sized once from Content-Length (within --max-body) when
		 * the body starts, not grown and copied from 256 bytes. */
		if (!req->body.data && req->declared > *upload_size)
			buf_reserve(&req->body, req->declared < conf.max_body
			    ? req->declared : conf.max_body);
		if (!req->too_large && req->body.len + *upload_size <= conf.max_body)
			buf_add(&req->body, upload, *upload_size);
		else
			req->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->answered)
		return req->verdict ? answer_settled(c, req) : MHD_YES;
	req->answered = 1;
	watch_phase(c, PHASE_ANSWER);
	if (req->behind)
		return answer_behind(c, req->behind);
	return finish_request(c, url, method, req);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **state,
    enum MHD_RequestTerminationCode code)
{
	struct request *req = *state;

	(void)cls;
	(void)code;
	watch_phase(c, PHASE_IDLE);
	if (!req)
		return;
	buf_free(&req->body);
	buf_free(&req->reply);
	buf_free(&req->rejects);
	free(req);
	*state = NULL;
	atomic_fetch_sub(&in_flight, 1);
}

/* ---- TLS: versions, ciphers, a certificate reloaded on SIGHUP --------- */

/*
 * Mozilla's "intermediate" profile in GnuTLS' words: TLS 1.2 and 1.3 only,
 * forward-secret key exchange (ECDHE), AEAD ciphers (AES-GCM,
 * ChaCha20-Poly1305).  Clients older than 2013 (Android 4.3, IE 10) fail.
 */
static const char tls_default_priority[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
    ":-CIPHER-ALL:+CHACHA20-POLY1305:+AES-256-GCM:+AES-128-GCM"
    ":-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA";

enum { TLS_MAX_CHAIN = 16 };

/* A certificate chain and its key, as the handshake hands them out. */
struct tls_keys {
	gnutls_pcert_st chain[TLS_MAX_CHAIN];
	unsigned len;
	gnutls_privkey_t key;
	struct tls_keys *retired;  /* the ones before */
};

/*
 * The keys handshakes use now, swapped whole on SIGHUP.  A handshake
 * begun before the swap may still hold the previous keys, so they are
 * kept, on the new keys' list: a few kilobytes per renewal, every month
 * or two.
 */
static _Atomic(struct tls_keys *) tls_current;

/* Does KEY belong to the certificate's public key? */
static int
tls_key_matches(gnutls_privkey_t key, gnutls_pubkey_t cert_key)
{
	gnutls_pubkey_t pub;
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	int same;

	if (gnutls_pubkey_init(&pub) < 0)
		return 0;
	same = gnutls_pubkey_import_privkey(pub, key, 0, 0) >= 0 &&
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) >= 0 &&
	    gnutls_pubkey_export2(cert_key, GNUTLS_X509_FMT_DER, &b) >= 0 &&
	    a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_pubkey_deinit(pub);
	return same;
}

/* Read the certificate chain and key (PEM); NULL with ERR said (and
 * *NOFILE set when a file is missing). */
static struct tls_keys *
tls_keys_load(char *err, size_t errsize, int *nofile)
{
	struct tls_keys *k = calloc(1, sizeof *k);
	gnutls_datum_t cert = { NULL, 0 }, key = { NULL, 0 };
	const char *bad = NULL, *path = conf.tls_cert;
	int rc = 0;

	*nofile = 0;
	k->len = TLS_MAX_CHAIN;
	if (gnutls_load_file(conf.tls_cert, &cert) < 0 ||
	    gnutls_load_file(path = conf.tls_key, &key) < 0) {
		*nofile = errno == ENOENT;
		snprintf(err, errsize, "%s: %s", path, strerror(errno ? errno : EIO));
		goto fail;
	}
	if ((rc = gnutls_pcert_list_import_x509_raw(k->chain, &k->len, &cert,
	    GNUTLS_X509_FMT_PEM, 0)) < 0 || k->len == 0) {
		bad = conf.tls_cert;
		k->len = 0;
	} else if ((rc = gnutls_privkey_init(&k->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(k->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		bad = conf.tls_key;
	} else if (!tls_key_matches(k->key, k->chain[0].pubkey)) {
		snprintf(err, errsize, "%s: the key does not belong to the certificate in %s",
		    conf.tls_key, conf.tls_cert);
		goto fail;
	}
	if (bad) {
		snprintf(err, errsize, "%s: %s", bad, rc < 0 ? gnutls_strerror(rc) : "no certificate");
		goto fail;
	}
	gnutls_free(cert.data);
	gnutls_free(key.data);
	return k;
fail:
	gnutls_free(cert.data);
	gnutls_free(key.data);
	for (unsigned i = 0; i < k->len; i++)
		gnutls_pcert_deinit(&k->chain[i]);
	if (k->key)
		gnutls_privkey_deinit(k->key);
	free(k);
	return NULL;
}

/* The handshake asks for the server's certificate: the current keys. */
static int
tls_retrieve(gnutls_session_t session, const gnutls_datum_t *ca_names,
    int n_ca_names, const gnutls_pk_algorithm_t *algorithms, int n_algorithms,
    gnutls_pcert_st **chain, unsigned *len, gnutls_privkey_t *key)
{
	struct tls_keys *k = atomic_load(&tls_current);

	(void)session;
	(void)ca_names;
	(void)n_ca_names;
	(void)algorithms;
	(void)n_algorithms;
	*chain = k->chain;
	*len = k->len;
	*key = k->key;
	return 0;
}

/* At start, before confinement: the keys, and a priority string that
 * GnuTLS takes (a bad one is a usage error, said before serving). */
static void
tls_start(void)
{
	gnutls_priority_t prio;
	const char *at = NULL;
	struct tls_keys *k;
	char err[512];
	int nofile;

	if (!conf.tls_priority)
		conf.tls_priority = tls_default_priority;
	if (gnutls_priority_init(&prio, conf.tls_priority, &at) < 0)
		msg_die(EXIT_USAGE, "--tls-priority", "GnuTLS does not take '%s'%s%s",
		    conf.tls_priority, at ? " at " : "", at ? at : "");
	gnutls_priority_deinit(prio);
	if (!(k = tls_keys_load(err, sizeof err, &nofile)))
		msg_die(nofile ? EXIT_NOINPUT : EXIT_CONFIG, NULL, "%s", err);
	atomic_store(&tls_current, k);
}

/*
 * SIGHUP: read the certificate and key again, by their paths, as the user
 * the server now runs as (the filter lets it open files read-only), and
 * swap them in: new handshakes get them, connections open keep theirs.
 * Files that cannot be read or do not match leave the old keys in place.
 */
static void
tls_serve_reload(void)
{
	struct tls_keys *k;
	char err[512];
	int nofile;

	if (!atomic_exchange(&sig_reload, 0))
		return;
	if (!conf.tls_cert)
		return;
	if (!(k = tls_keys_load(err, sizeof err, &nofile))) {
		msg_error("SIGHUP", "%s; keeping the certificate in use", err);
		return;
	}
	k->retired = atomic_load(&tls_current);
	atomic_store(&tls_current, k);
	msg_info("SIGHUP", "reloaded %s and %s", conf.tls_cert, conf.tls_key);
}

static void
parse_options(int argc, char **argv)
{
	struct opt_parser p;
	int c;

	opt_begin(&p, argc, argv, "[OPTION]... [ADDRESS]:PORT[/PATH]",
	    "Receive webhook requests over HTTP and write them as NDJSON records.",
	    options, OPT_STOP);
	while ((c = opt_next(&p)) != -1) {
		switch (c) {
		case KEY_ENVELOPE: conf.envelope = 1; break;
		case KEY_TOKEN_FILE: conf.token = secret_read(p.arg, NULL); break;
		case KEY_VERIFY: conf.hook.scheme = p.arg; break;
		case KEY_HMAC_SECRET_FILE: conf.hook.secret_file = p.arg; break;
		case KEY_HMAC_HEADER: conf.hook.header = p.arg; break;
		case KEY_SIGNATURE_PREFIX: conf.hook.prefix = p.arg; break;
		case KEY_SIGNATURE_ENCODING: conf.hook.encoding = p.arg; break;
		case KEY_SIGNATURE_DIGEST: conf.hook.digest = p.arg; break;
		case KEY_MAX_AGE: conf.hook.max_age_ms = opt_duration_ms(&p); break;
		case KEY_PUBLIC_URL: conf.hook.public_url = p.arg; break;
		case KEY_VERIFY_TOKEN_FILE: conf.verify_token_file = p.arg; break;
		case KEY_DELIVERY_ID_FIELD: conf.delivery_id_field = p.arg; break;
		case KEY_TLS_CERT: conf.tls_cert = p.arg; break;
		case KEY_TLS_KEY: conf.tls_key = p.arg; break;
		case KEY_TLS_PRIORITY: conf.tls_priority = p.arg; break;
		case KEY_USER: confine_conf.user = p.arg; break;
		case KEY_NO_SECCOMP: confine_conf.seccomp = 0; break;
		case KEY_MAX_BODY: conf.max_body = opt_size(&p); break;
		case KEY_MAX_CONNECTIONS: conf.max_connections = (unsigned)opt_count(&p, 1, 1000000); break;
		case KEY_MAX_PER_CLIENT: conf.max_per_client = (unsigned)opt_count(&p, 0, 1000000); break;
		case KEY_HEADER_TIMEOUT: conf.header_timeout_ms = opt_duration_ms(&p); break;
		case KEY_BODY_TIMEOUT: conf.body_timeout_ms = opt_duration_ms(&p); break;
		case KEY_METRICS_LISTEN: conf.metrics_listen = p.arg; break;
		case KEY_IDLE_TIMEOUT:
			conf.idle_timeout_s = (unsigned)((opt_duration_ms(&p) + 999) / 1000);
			break;
		case KEY_QUEUE_TIMEOUT: conf.queue_timeout_ms = opt_duration_ms(&p); break;
		case KEY_MAX_BACKLOG: conf.max_backlog_ms = opt_duration_ms(&p); break;
		case KEY_MAX_HEADERS: conf.max_headers = opt_size(&p); break;
		case KEY_THREADS: conf.threads = (unsigned)opt_count(&p, 1, 256); break;
		case KEY_ACK_FIFO: conf.ack_fifo = p.arg; break;
		case KEY_ACK_TIMEOUT: conf.ack_timeout_ms = opt_duration_ms(&p); break;
		case KEY_REPLY_FIFO: conf.reply = 1; reply_fifo = p.arg; break;
		case KEY_REPLY_TIMEOUT: conf.reply_timeout_ms = opt_duration_ms(&p); break;
		case KEY_REPLY_FIELD: conf.reply_field = p.arg; break;
		case KEY_REPLY_TYPE: conf.reply_type = p.arg; break;
		case KEY_RAW_BODY: conf.raw_body = 1; break;
		}
	}
	if (p.ind < argc)
		conf.listen = argv[p.ind++];
	if (p.ind < argc)
		opt_usage_error(&p, "unexpected argument '%s'", argv[p.ind]);
	if (!conf.listen && !getenv("LISTEN_FDS"))
		opt_usage_error(&p, "no address: give [ADDRESS]:PORT, like :8080");
	if (!conf.token && getenv("ETL_TOKEN") && *getenv("ETL_TOKEN"))
		conf.token = strdup(getenv("ETL_TOKEN"));
	verify_options(&p);
	if (!conf.tls_cert != !conf.tls_key)
		opt_usage_error(&p, "--tls-cert and --tls-key go together");
	if (conf.tls_priority && !conf.tls_cert)
		opt_usage_error(&p, "--tls-priority needs --tls-cert and --tls-key");
	reply_options(&p);
}

static struct MHD_Daemon *
start_server(int fd)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    (conf.ack_fifo ? MHD_ALLOW_SUSPEND_RESUME : 0);
	unsigned threads = conf.threads ? conf.threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);

	if (conf.tls_cert)
		flags |= MHD_USE_TLS;
	if (threads < 1)
		threads = 1;
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, connection_cap(),
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, conf.max_per_client,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
	    MHD_OPTION_URI_LOG_CALLBACK, on_request_line, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, conf.idle_timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEAD_POOL(conf.max_headers),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    /* Without TLS the list ends here. */
	    conf.tls_cert ? MHD_OPTION_HTTPS_CERT_CALLBACK : MHD_OPTION_END, tls_retrieve,
	    MHD_OPTION_HTTPS_PRIORITIES, conf.tls_priority,
	    MHD_OPTION_END);
}

/* Wait for SIGINT/SIGTERM; serve SIGUSR1; notice a broken stdout. */
static void
wait_for_stop(void)
{
	while (!sig_stop) {
		/* Until the pace shows, only BACKLOG_START is admitted: sample
		 * as often as the estimate takes samples, so that it shows soon. */
		sig_wait_readable(-1, conf.ack_fifo ? 50 : !backlog_bounded ? 200
		    : backlog_rate(&backlog) > 0 ? 100 : 50);
		sig_serve_stats();
		backlog_measure();
		tls_serve_reload();
		if (conf.ack_fifo)
			acks_expire();
		pthread_mutex_lock(&output.lock);
		if (output.broken) {
			pthread_mutex_unlock(&output.lock);
			return;
		}
		pthread_mutex_unlock(&output.lock);
	}
}

/* After quiescing: the requests in hand finish; those waiting for an
 * acknowledgement get it, or 503 at --ack-timeout.  None may still be
 * suspended when the server stops. */
static void
finish_in_flight(void)
{
	double deadline = stats_now() + 10 + conf.ack_timeout_ms / 1000.0;

	while (atomic_load(&in_flight) > 0 && stats_now() < deadline) {
		if (conf.ack_fifo)
			acks_expire();
		usleep(10000);
	}
	if (!conf.ack_fifo)
		return;
	pthread_mutex_lock(&output.lock);
	waitlist_settle(&output.unwritten, any, NULL, 503, "shutting down");
	waitlist_settle(&output.unacked, any, NULL, 503, "shutting down");
	pthread_mutex_unlock(&output.lock);
	for (int i = 0; i < 100 && atomic_load(&in_flight) > 0; i++)
		usleep(10000);
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d, *metrics_d = NULL;
	struct stat st;
	pthread_t writer;
	int fd, metrics_fd = -1, capacity;

	/* What stdout is, asked before the signal thread starts (with the
	 * options): a stop that gives up closes stdout from that thread. */
	if (fstat(STDOUT_FILENO, &st) != 0)
		st.st_mode = 0;
	metrics_start();
	parse_options(argc, argv);
	sig_catch_reload();  /* SIGHUP: the TLS keys again, never the end */
	stats_set_extra(stats_fields);
	fd = listen_activated();
	if (fd < 0)
		fd = listen_socket(conf.listen, &conf.path);
	else if (conf.listen && strchr(conf.listen, '/'))
		conf.path = strchr(conf.listen, '/');
	if (conf.metrics_listen)
		metrics_fd = metrics_socket();
	/* Everything opened and read, the open files limit raised: from here
	 * on, no root, no new files, no programs, no other sockets
	 * (lib/confine.h). */
	if (conf.ack_fifo)
		ack_open(conf.ack_fifo);  /* for good: a confined server cannot reopen it */
	if (conf.tls_cert)
		tls_start();
	conf.max_connections = connection_cap();
	confine();
	if (conf.reply)
		reply_start();
	else if (conf.ack_fifo)
		ack_start(&(struct ack_handlers){ acks_committed, acks_ended, NULL });
	stdout_is_file = S_ISREG(st.st_mode);
	backlog_bounded = S_ISFIFO(st.st_mode) && !conf.ack_fifo;
	backlog_init(&backlog, (conf.max_backlog_ms < 0 ? opt_common.stop_timeout_ms / 3
	    : conf.max_backlog_ms) / 1000.0, BACKLOG_DOWNSTREAM);
	if (S_ISFIFO(st.st_mode) && !conf.reply && (capacity = fcntl(STDOUT_FILENO, F_GETPIPE_SZ)) > 0) {
		backlog_init_pipe(&pipe_pace, opt_common.stop_timeout_ms / 30000.0);
		pipe_size = (size_t)capacity;
	}
	if (!conf.ack_fifo)
		sig_on_give_up(report_undelivered);
	pthread_create(&writer, NULL, output_main, NULL);
	start_reaper();
	if (!(d = start_server(fd)))
		msg_die(EXIT_UNAVAILABLE, conf.listen, "cannot start the HTTP server");
	if (conf.metrics_listen)
		metrics_d = start_metrics_server(metrics_fd);
	msg_info(conf.listen, "listening");
	wait_for_stop();
	/* Stop accepting; let the requests in hand finish, then write all. */
	MHD_quiesce_daemon(d);
	finish_in_flight();
	MHD_stop_daemon(d);
	if (metrics_d)
		MHD_stop_daemon(metrics_d);
	pthread_mutex_lock(&output.lock);
	output.stopping = 1;
	pthread_cond_signal(&output.work);
	pthread_mutex_unlock(&output.lock);
	pthread_join(writer, NULL);
	if (output.broken)
		msg_die(EXIT_IO, "stdout", "%s: %llu records answered 202 were not handed on",
		    output.broken == EPIPE ? "the next stage stopped reading" : strerror(output.broken),
		    undelivered());
	msg_exit(EXIT_DONE);
}
