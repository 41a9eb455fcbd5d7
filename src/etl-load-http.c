/*
 * etl-load-http - POST NDJSON records to an HTTP endpoint.
 *
 * Each record is one POST of application/json; a batch line is one POST of
 * a JSON array (or NDJSON with --ndjson).  The main thread reads the input
 * (lib/reader.c), checks each record, builds request bodies and their
 * signatures into a pool of -c request slots, and queues them.  Up to
 * SENDERS_MAX sender threads each run one event loop on one libcurl multi
 * handle, for their share of the slots and their own keep-alive
 * connections: libcurl's work per transfer is most of the cost of a small
 * POST, and one loop alone cannot keep up with a fast server.  A sender
 * starts what is queued for it, reads each finished transfer's status in
 * one place, and decides there: a 2xx is delivered; 408, 429, 5xx and
 * connection errors are tried again by the one retry policy (lib/retry.h)
 * after a backoff scheduled in the loop, never slept; any other 4xx is a
 * data error (--reject, or exit 65).
 *
 * A control line waits until every request read before it is finished,
 * whatever order the responses come in and whichever sender has them: a
 * request carries its input position (seq) and a control line the number
 * of requests before it, so it is written once no pending request has a
 * smaller seq.  Whichever sender finishes the last such request writes it.
 *
 * A slot is owned by one thread at a time: by the main thread while free or
 * being filled, by its sender from the moment it is queued until it is
 * finished and put back on the free list.  The lock guards the free list,
 * the queues, the control lines, each slot's pending flag and the flags
 * that say who waits for whom.
 */
#include "confine.h"
#include "exitcode.h"
#include "fields.h"
#include "jsoncanon.h"
#include "line.h"
#include "msg.h"
#include "opt.h"
#include "reader.h"
#include "reject.h"
#include "retry.h"
#include "secret.h"
#include "webhook.h"
#include "sig.h"
#include "stats.h"
#include "writer.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	KEY_NDJSON = OPT_LONG, KEY_TOKEN_FILE, KEY_HMAC_SECRET_FILE,
	KEY_HMAC_HEADER, KEY_SIGN, KEY_SIGNATURE_PREFIX, KEY_SIGNATURE_ENCODING,
	KEY_SIGNATURE_DIGEST, KEY_CACERT, KEY_CAPATH, KEY_CERT, KEY_KEY, KEY_TIMEOUT,
	KEY_RETRY_FOR, KEY_USER, KEY_NO_SECCOMP,
};

static const struct opt options[] = {
	{ 'c', "concurrency", "N", "requests in flight at once (default 16)" },
	{ 'H', "header", "'NAME: VALUE'", "add this header to every request" },
	{ KEY_NDJSON, "ndjson", NULL, "send a batch as NDJSON, not as a JSON array" },
	{ KEY_TOKEN_FILE, "token-file", "FILE", "send Authorization: Bearer <the token in FILE>" },
	{ KEY_SIGN, "sign", "SCHEME", "sign each body as a sender does: github, stripe, slack, shopify, standard, meta, generic" },
	{ KEY_HMAC_SECRET_FILE, "secret-file", "FILE", "the secret to sign with, the first line (alone: --sign github)" },
	{ KEY_HMAC_SECRET_FILE, "hmac-secret-file", "FILE", "the same as --secret-file" },
	{ KEY_HMAC_HEADER, "hmac-header", "NAME", "the signature header (github's default X-Hub-Signature-256)" },
	{ KEY_SIGNATURE_PREFIX, "signature-prefix", "TEXT", "generic: the text before the MAC, like sha256=" },
	{ KEY_SIGNATURE_ENCODING, "signature-encoding", "hex|base64", "generic: how the MAC is written (default hex)" },
	{ KEY_SIGNATURE_DIGEST, "signature-digest", "sha1|sha256|sha512", "generic: the HMAC's hash (default sha256)" },
	{ KEY_CACERT, "cacert", "FILE", "verify the server against these CA certificates (PEM)" },
	{ KEY_CAPATH, "capath", "DIR", "verify the server against this CA directory" },
	{ KEY_CERT, "cert", "FILE", "present this client certificate (PEM)" },
	{ KEY_KEY, "key", "FILE", "the client certificate's private key (PEM)" },
	{ KEY_TIMEOUT, "timeout", "DURATION", "a request not answered this long is retried (default 30s)" },
	{ KEY_RETRY_FOR, "retry-for", "DURATION", "retry transient failures this long (default 5m)" },
	CONFINE_OPTIONS(KEY_USER, KEY_NO_SECCOMP),
	{ 0, NULL, NULL, NULL }
};

static struct {
	char *url;                   /* a copy: argv's has its password blanked */
	char *redacted;              /* the URL for messages: no password */
	long long concurrency;
	int ndjson;
	char *token;
	struct webhook_options hook;  /* --sign and its options */
	const char *cacert, *capath, *cert, *key;
	long long timeout_ms;
	long long retry_for_ms;
} conf = {
	.concurrency = 16, .hook.max_age_ms = -1,
	.timeout_ms = 30000, .retry_for_ms = RETRY_DEFAULT_FOR_MS,
};

/* Headers every request sends; the ones for NDJSON batches differ only in
 * their Content-Type. */
static struct curl_slist *json_headers, *ndjson_headers;
static struct webhook signer;    /* --sign: signer.scheme set */
static int signer_headers;       /* how many headers it writes */
static char delivery_prefix[20]; /* of this run's delivery ids: random */
static CURLU *url_parsed;        /* conf.url, parsed once for every request */
static int no_proxy_env;         /* no proxy variable set: none to look up */
static int host_fixed;           /* the URL's host is an address, not a name */

enum { ANSWER_KEEP = 200 };  /* bytes of a refusal's body kept for the reject */

struct sender;

struct request {
	CURL *easy;
	CURLU *url;                  /* its own copy of url_parsed */
	struct sender *sender;       /* the event loop that sends it */
	int pending;                 /* queued and not yet finished (lock) */
	struct buf body;
	size_t records;              /* in the body */
	int batch;                   /* the body is a batch line's */
	size_t *rows;                /* a batch: each record's place in its line */
	size_t rows_cap;
	struct place place;
	unsigned long long seq;      /* input order */
	/* The sender's, from queueing to finishing: */
	int busy;                    /* queued, in flight or waiting to retry */
	int sending;                 /* in the multi handle now */
	struct retry retry;
	double retry_at;             /* monotonic s of the next attempt, or 0 */
	char answer[ANSWER_KEEP + 1];
	size_t answer_len;
	char error[CURL_ERROR_SIZE];
	/* --sign: this body's headers, then the shared ones */
	struct curl_slist signature[WEBHOOK_MAX_HEADERS];
	char (*signature_text)[WEBHOOK_HEADER_SIZE];
	struct request *next;        /* in the free list or the queue */
};

/* A control line, written once the requests before it are finished. */
struct control {
	unsigned long long after;    /* the number of requests read before it */
	struct control *next;
	size_t len;
	char text[];
};

/*
 * One event loop: a multi handle, the epoll set of its sockets, and the
 * slots pool[i] with i % senders == its index.
 */
enum { SENDERS_MAX = 2 };

struct sender {
	pthread_t thread;
	CURLM *multi;
	int epoll_fd;
	int pipe[2];                 /* wakes it from epoll_wait */
	double curl_timer_at;        /* monotonic s; -1: no timer */
	int index;
	long slots;                  /* of the pool */
	long in_flight;              /* of them in the multi handle now */
	unsigned char *watch;        /* per socket: WATCH_* */
	size_t watch_len;
	/* Under the lock: */
	struct request *queue_head, **queue_tail;
	int news;                    /* a control line to look at */
	int sleeping;                /* in epoll_wait: write to pipe */
};

static struct request *pool;
static struct sender sender_loops[SENDERS_MAX];
static int senders = 1;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct request *free_list;
static struct control *controls, **controls_tail = &controls;
static int input_done;           /* no more requests will be queued */
static long long free_slots;     /* on the free list */
static int reader_waiting;       /* for a free slot: write to wake_pipe */
/* The main thread waiting for a slot is woken once this many are free, or
 * when a sender has nothing left to do: waking it for every slot would
 * make it and the senders take turns on a core for every request. */
static long long reader_wake_at = 1;
static int wake_pipe[2];

/* Control lines leave in order: taken off the list and written under it. */
static pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;

/* The main thread's. */
static unsigned long long next_seq;
static struct fields *fields;

/* The senders'. */
static atomic_int failing;       /* a bad record stops the run: drain */
static unsigned long long failed_seq;  /* set under the lock, before failing */
static char *failed_where, *failed_reason;
static struct buf failed_body;
static atomic_ullong requests_sent, retries;

static void
stats_fields(struct buf *line)
{
	char s[96];

	snprintf(s, sizeof s, ",\"requests\":%llu,\"retries\":%llu",
	    atomic_load(&requests_sent), atomic_load(&retries));
	buf_adds(line, s);
}

/* ---- the senders: one event loop on one multi handle each ------------- */

static size_t
keep_answer(char *data, size_t size, size_t n, void *arg)
{
	struct request *req = arg;
	size_t room = ANSWER_KEEP - req->answer_len, take = size * n;

	if (take > room)
		take = room;
	memcpy(req->answer + req->answer_len, data, take);
	req->answer_len += take;
	return size * n;
}

/* --sign: this attempt's signature, with the time now (a retry is signed
 * anew, so a sender's retries stay within the receiver's replay window)
 * and the same delivery id on each. */
static void
sign(struct request *req)
{
	char id[64];

	snprintf(id, sizeof id, "msg_%s%llu", delivery_prefix, req->seq);
	webhook_sign(&signer, req->body.data, req->body.len, time(NULL), id,
	    req->signature_text);
}

static void
start(struct request *req)
{
	CURLMcode rc;

	req->answer_len = 0;
	req->error[0] = '\0';
	req->retry_at = 0;
	req->sending = 1;
	req->sender->in_flight++;
	if (signer.scheme)
		sign(req);
	if ((rc = curl_multi_add_handle(req->sender->multi, req->easy)) != CURLM_OK)
		msg_die(EXIT_SOFTWARE, NULL, "curl_multi_add_handle: %s",
		    curl_multi_strerror(rc));
	atomic_fetch_add(&requests_sent, 1);
}

/* Wake the main thread if it waits for a free slot and WAKE says so; the
 * lock is held and is released here. */
static void
wake_reader_unlock(int wake)
{
	wake = wake && reader_waiting;
	if (wake)
		reader_waiting = 0;
	pthread_mutex_unlock(&lock);
	if (wake && write(wake_pipe[1], "", 1) < 0 && errno != EAGAIN)
		msg_die(EXIT_SOFTWARE, NULL, "wake pipe: %s", strerror(errno));
}

/* Wake the main thread if it waits for a free slot. */
static void
wake_reader(void)
{
	pthread_mutex_lock(&lock);
	wake_reader_unlock(1);
}

/* Back to the main thread's free list. */
static void
release(struct request *req)
{
	req->busy = 0;
	pthread_mutex_lock(&lock);
	req->pending = 0;
	req->next = free_list;
	free_list = req;
	free_slots++;
	wake_reader_unlock(free_slots >= reader_wake_at);
}

/* The seq of the bad record that stops the run (while failing). */
static unsigned long long
stopped_at(void)
{
	unsigned long long seq;

	pthread_mutex_lock(&lock);
	seq = failed_seq;
	pthread_mutex_unlock(&lock);
	return seq;
}

/* Take what the main thread queued; start it unless the run stops at an
 * earlier record (another sender may have stopped it while this one had
 * not yet taken what came before). */
static int
take_queued(struct sender *s)
{
	struct request *req, *next;
	int done;

	pthread_mutex_lock(&lock);
	req = s->queue_head;
	s->queue_head = NULL;
	s->queue_tail = &s->queue_head;
	s->news = 0;
	done = input_done;
	pthread_mutex_unlock(&lock);
	for (; req; req = next) {
		next = req->next;
		req->busy = 1;
		retry_init(&req->retry, conf.retry_for_ms);
		if (!failing || req->seq < stopped_at())
			start(req);
	}
	return done;
}

/* "stdin:42", the line REQ was read from, for messages. */
static const char *
request_where(const struct request *req, char *out, size_t size)
{
	return place_format(&req->place, out, size);
}

/* A refusal's body for messages: printable, on one line. */
static const char *
answer_text(struct request *req)
{
	size_t n = req->answer_len;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)req->answer[i] < 0x20 || req->answer[i] == 0x7f)
			req->answer[i] = ' ';
	while (n > 0 && req->answer[n - 1] == ' ')
		n--;
	req->answer[n] = '\0';
	return req->answer;
}

/* Warnings about retries: at most one a second, the rest with -v. */
static void
warn_retry(const char *where, const char *why, long delay)
{
	static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
	static double last;
	double now = stats_now_coarse();
	int loud;

	pthread_mutex_lock(&warn_lock);
	if ((loud = now - last >= 1))
		last = now;
	pthread_mutex_unlock(&warn_lock);
	if (loud) {
		msg_warn(conf.redacted, "%s: %s; retrying in %ld ms", where, why, delay);
	} else {
		msg_info(conf.redacted, "%s: %s; retrying in %ld ms", where, why, delay);
	}
}

/* A transient failure: schedule the next attempt, or give up (exit 75). */
static void
try_again(struct request *req, const char *why, long min_ms)
{
	char where[PATH_MAX + 32];
	long delay = retry_failed(&req->retry, min_ms);

	request_where(req, where, sizeof where);
	if (delay < 0)
		msg_die(EXIT_TEMPFAIL, conf.redacted, "%s: %s (gave up after %d attempts)",
		    where, why, req->retry.attempt);
	warn_retry(where, why, delay);
	atomic_fetch_add(&retries, 1);
	req->retry_at = stats_now() + delay / 1000.0;
}

/* The record(s) REQ carried, for a reject line: parsed when they parse. */
static void
reject_body(const char *where, const char *reason, const char *data,
    size_t len)
{
	enum line_kind kind;
	char err[64];
	json_t *v = line_parse(data, len, &kind, err, sizeof err);

	reject_record(where, reason, v, data, len);
	json_decref(v);
}

struct refused_batch {
	const struct request *req;
	const char *reason;
};

static int
reject_element(void *arg, const char *elem, size_t n, size_t index)
{
	const struct refused_batch *b = arg;
	char where[PATH_MAX + 64];

	snprintf(where, sizeof where, "%s:%lu (row %zu)", b->req->place.file,
	    b->req->place.line, b->req->rows[index]);
	reject_body(where, b->reason, elem, n);
	return 0;
}

/* A refused batch: each of its records is rejected, with its own place. */
static void
reject_batch(const struct request *req, const char *reason)
{
	struct refused_batch b = { req, reason };
	const char *p = req->body.data, *end = p + req->body.len;
	char err[64];

	if (!conf.ndjson) {
		line_split_batch(p, req->body.len, reject_element, &b, err, sizeof err);
		return;
	}
	for (size_t i = 0; p < end; i++) {
		const char *nl = memchr(p, '\n', end - p);

		reject_element(&b, p, nl - p, i);
		p = nl + 1;
	}
}

/* A 4xx other than 408 and 429: the record is refused. */
static void
refused(struct request *req, long status)
{
	char where[PATH_MAX + 32], reason[ANSWER_KEEP + 64];

	request_where(req, where, sizeof where);
	snprintf(reason, sizeof reason, "HTTP %ld%s%s", status,
	    req->answer_len ? ": " : "", answer_text(req));
	if (!reject_would_stop()) {
		if (req->batch)
			reject_batch(req, reason);
		else
			reject_body(where, reason, req->body.data, req->body.len);
		return;
	}
	/* The run stops here: first let what is in flight finish.  Another
	 * sender may have stopped it at a later record: this one is the
	 * first bad record then. */
	pthread_mutex_lock(&lock);
	if (!failing || req->seq < failed_seq) {
		free(failed_where);
		free(failed_reason);
		failed_seq = req->seq;
		failed_where = strdup(where);
		failed_reason = strdup(reason);
		failed_body.len = 0;
		buf_add(&failed_body, req->body.data, req->body.len);
		failing = 1;  /* last: the main thread reads the above after it */
	}
	pthread_mutex_unlock(&lock);
	wake_reader();
}

static int
tls_or_setup_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL: case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN: case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_USE_SSL_FAILED: case CURLE_LOGIN_DENIED:
		return 1;
	default:
		return 0;
	}
}

/* The one place a finished transfer's outcome is decided. */
static void
finished(struct request *req, CURLcode rc)
{
	char where[PATH_MAX + 32], why[CURL_ERROR_SIZE + 64];
	long status = 0;
	curl_off_t retry_after = 0;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(req->sender->multi, req->easy);
	req->sending = 0;
	req->sender->in_flight--;
	if (rc != CURLE_OK) {
		snprintf(why, sizeof why, "%s", req->error[0] ? req->error
		    : curl_easy_strerror(rc));
		if (rc == CURLE_OUT_OF_MEMORY)
			msg_die(EXIT_SOFTWARE, conf.redacted, "%s", why);
		if (tls_or_setup_error(rc))
			msg_die(EXIT_UNAVAILABLE, conf.redacted, "%s", why);
		try_again(req, why, 0);
		return;
	}
	if (status >= 200 && status < 300) {
		retry_succeeded(&req->retry);
		stats_add(&stats.records_out, req->records);
		stats_add(&stats.delivered, req->records);
		if (req->batch)
			stats_add(&stats.batches, 1);
		release(req);
		return;
	}
	if (status == 408 || status == 429 || status >= 500) {
		curl_easy_getinfo(req->easy, CURLINFO_RETRY_AFTER, &retry_after);
		snprintf(why, sizeof why, "HTTP %ld", status);
		if (retry_after > 0)
			snprintf(why + strlen(why), sizeof why - strlen(why),
			    " (Retry-After %lld s)", (long long)retry_after);
		try_again(req, why, retry_after > 0 ? (long)retry_after * 1000 : 0);
		return;
	}
	if (status >= 400) {
		refused(req, status);
		release(req);
		return;
	}
	/* 1xx and 3xx: redirects are not followed (a POST must not turn into
	 * a GET, nor https into http). */
	request_where(req, where, sizeof where);
	msg_die(EXIT_UNAVAILABLE, conf.redacted, "%s: the server answered HTTP %ld%s%s"
	    " (redirects are not followed)", where, status,
	    req->answer_len ? ": " : "", answer_text(req));
}

/* Start S's retries that are due; the ms until the next one, or -1. */
static long
start_due_retries(struct sender *s)
{
	double now = stats_now(), next = 0;

	for (long long i = s->index; i < conf.concurrency; i += senders) {
		struct request *req = &pool[i];

		if (!req->busy || req->sending || req->retry_at == 0)
			continue;
		if (req->retry_at <= now && (!failing || req->seq < stopped_at()))
			start(req);
		else if (next == 0 || req->retry_at < next)
			next = req->retry_at;
	}
	return next == 0 ? -1 : (long)((next - now) * 1000) + 1;
}

/* Write the control lines whose requests are all finished, in order,
 * whichever sender gets here first. */
static void
write_controls(void)
{
	unsigned long long first_unfinished = ULLONG_MAX;
	struct control *ready = NULL, **tail = &ready, *c;

	pthread_mutex_lock(&output_lock);
	pthread_mutex_lock(&lock);
	if (controls) {
		for (long long i = 0; i < conf.concurrency; i++)
			if (pool[i].pending && pool[i].seq < first_unfinished)
				first_unfinished = pool[i].seq;
		if (failing && failed_seq < first_unfinished)
			first_unfinished = failed_seq;
		while (controls && controls->after <= first_unfinished) {
			*tail = controls;
			tail = &controls->next;
			if (!(controls = controls->next))
				controls_tail = &controls;
		}
		*tail = NULL;
	}
	pthread_mutex_unlock(&lock);
	if (ready) {
		for (; ready; ready = c) {
			c = ready->next;
			writer_line(&writer_stdout, ready->text, ready->len);
			free(ready);
		}
		writer_flush(&writer_stdout);
	}
	pthread_mutex_unlock(&output_lock);
}

/* While the run stops at a bad record: is anything of S's still being
 * sent, or retried because it came before that record? */
static int
in_flight(struct sender *s)
{
	unsigned long long stop = stopped_at();

	for (long long i = s->index; i < conf.concurrency; i += senders)
		if (pool[i].busy && (pool[i].sending ||
		    (pool[i].retry_at && pool[i].seq < stop)))
			return 1;
	return 0;
}

static int
any_busy(struct sender *s)
{
	for (long long i = s->index; i < conf.concurrency; i += senders)
		if (pool[i].busy)
			return 1;
	return 0;
}

/*
 * Each loop waits in epoll for the sockets libcurl asks it to watch, its
 * timer, the retries due and the main thread's news (its pipe), and
 * tells libcurl only about the sockets that are ready
 * (curl_multi_socket_action): the work per wake-up does not grow with -c.
 */
/*
 * A socket stays in the epoll set while its connection waits in libcurl's
 * cache between two requests: libcurl drops it (CURL_POLL_REMOVE) after
 * every transfer and asks for it again with the next, and taking it out
 * and putting it back each time cost two or three epoll_ctl calls per
 * request.  What the set holds for each socket is kept here; an event on a
 * socket libcurl does not watch (an idle connection the server closed)
 * takes it out.  Every socket libcurl uses is opened by open_socket, which
 * forgets what a closed socket of the same number had.
 */
enum { WATCH_IN = 1, WATCH_OUT = 2, WATCH_WANTED = 4 };

static unsigned char *
watch_of(struct sender *s, curl_socket_t fd)
{
	if ((size_t)fd >= s->watch_len) {
		size_t n = (size_t)fd + 64;
		unsigned char *w = realloc(s->watch, n);

		if (!w)
			msg_die(EXIT_SOFTWARE, NULL, "out of memory");
		memset(w + s->watch_len, 0, n - s->watch_len);
		s->watch = w;
		s->watch_len = n;
	}
	return &s->watch[fd];
}

static void
unwatch(struct sender *s, curl_socket_t fd)
{
	unsigned char *w = watch_of(s, fd);

	if (*w & (WATCH_IN | WATCH_OUT))
		epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
	*w = 0;
}

static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
	struct sender *s = arg;
	unsigned char *w = watch_of(s, fd), want;
	struct epoll_event ev = { 0 };

	(void)easy, (void)socketp;
	if (what == CURL_POLL_REMOVE) {
		/* Kept in the set while only reading: an idle connection's
		 * socket is quiet until the server closes it. */
		if ((*w & (WATCH_IN | WATCH_OUT)) == WATCH_IN)
			*w = WATCH_IN;
		else
			unwatch(s, fd);
		return 0;
	}
	want = (what & CURL_POLL_IN ? WATCH_IN : 0) |
	    (what & CURL_POLL_OUT ? WATCH_OUT : 0);
	if ((*w & (WATCH_IN | WATCH_OUT)) != want) {
		int op = *w & (WATCH_IN | WATCH_OUT) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

		ev.data.fd = fd;
		ev.events = (want & WATCH_IN ? EPOLLIN : 0) |
		    (want & WATCH_OUT ? EPOLLOUT : 0);
		/* The other one if the set disagrees with what we noted. */
		if (epoll_ctl(s->epoll_fd, op, fd, &ev) < 0 &&
		    epoll_ctl(s->epoll_fd, op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD
		    : EPOLL_CTL_MOD, fd, &ev) < 0)
			msg_die(EXIT_SOFTWARE, NULL, "epoll_ctl: %s", strerror(errno));
	}
	*w = want | WATCH_WANTED;
	return 0;
}

/* Every socket of S's connections: a new one is in no epoll set. */
static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct sender *s = arg;
	curl_socket_t fd;

	(void)purpose;
	fd = socket(addr->family, addr->socktype, addr->protocol);
	if (fd != CURL_SOCKET_BAD)
		*watch_of(s, fd) = 0;
	return fd;
}

static int
on_timer(CURLM *m, long timeout_ms, void *arg)
{
	struct sender *s = arg;

	(void)m;
	s->curl_timer_at = timeout_ms < 0 ? -1 : stats_now() + timeout_ms / 1000.0;
	return 0;
}

/* Decide on every transfer of S that libcurl has finished. */
static void
read_finished(struct sender *s)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(s->multi, &left))) {
		struct request *req;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&req);
		finished(req, m->data.result);
	}
}

/* Wait up to WAIT_MS for sockets or news, and hand libcurl what is ready. */
static void
wait_and_act(struct sender *s, long wait_ms)
{
	struct epoll_event events[64];
	int n, running;
	char drain[64];

	if (s->curl_timer_at >= 0) {
		long t = (long)((s->curl_timer_at - stats_now()) * 1000) + 1;

		if (s->curl_timer_at <= stats_now())
			t = 0;
		if (t < wait_ms)
			wait_ms = t;
	}
	n = epoll_wait(s->epoll_fd, events, 64, (int)wait_ms);
	for (int i = 0; i < n; i++) {
		int fd = events[i].data.fd, flags = 0;

		if (fd == s->pipe[0]) {
			while (read(fd, drain, sizeof drain) > 0)
				;
			continue;
		}
		if (!(*watch_of(s, fd) & WATCH_WANTED)) {
			unwatch(s, fd);
			continue;
		}
		if (events[i].events & EPOLLIN)
			flags |= CURL_CSELECT_IN;
		if (events[i].events & EPOLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (events[i].events & (EPOLLERR | EPOLLHUP))
			flags |= CURL_CSELECT_ERR;
		curl_multi_socket_action(s->multi, fd, flags, &running);
	}
	if (s->curl_timer_at >= 0 && s->curl_timer_at <= stats_now()) {
		s->curl_timer_at = -1;
		curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}

/* One sender's loop, until the input is done and its slots are free, or
 * the run stops at a bad record and nothing before it is in flight. */
static void
run_sender(struct sender *s)
{
	for (;;) {
		int done = take_queued(s), sleep;
		long wait_ms = start_due_retries(s);

		write_controls();
		if (failing && !in_flight(s))
			break;
		/* Everything queued before input_done was taken with it. */
		if (done && !any_busy(s))
			break;
		if (wait_ms < 0 || wait_ms > 1000)
			wait_ms = 1000;
		pthread_mutex_lock(&lock);
		sleep = s->sleeping = s->queue_head == NULL && !s->news &&
		    input_done == done;
		/* About to wait with few requests in flight: the main thread
		 * need not wait for more free slots.  With many, an answer
		 * comes soon, and the main thread is woken once a batch of
		 * slots is free (release): waking it here for every one or
		 * two made the threads take turns for every few requests. */
		wake_reader_unlock(sleep && free_slots > 0 &&
		    s->in_flight <= s->slots / 2);
		wait_and_act(s, sleep ? wait_ms : 0);
		pthread_mutex_lock(&lock);
		s->sleeping = 0;
		pthread_mutex_unlock(&lock);
		read_finished(s);
	}
	write_controls();
}

static void *
other_sender_main(void *arg)
{
	run_sender(arg);
	return NULL;
}

/* The first sender: it starts the others, and reports once all are done. */
static void *
sender_main(void *arg)
{
	(void)arg;
	for (int i = 1; i < senders; i++)
		if (pthread_create(&sender_loops[i].thread, NULL, other_sender_main,
		    &sender_loops[i]) != 0)
			msg_die(EXIT_SOFTWARE, NULL, "cannot start a thread");
	run_sender(&sender_loops[0]);
	for (int i = 1; i < senders; i++)
		pthread_join(sender_loops[i].thread, NULL);
	/* The run stops at a refused record: now that what was in flight is
	 * done, say so and exit 65, even while the main thread waits for a
	 * live stream's next line. */
	if (failing)
		reject_body(failed_where, failed_reason, failed_body.data,
		    failed_body.len);
	return NULL;
}

/* ---- the main thread: input to requests ------------------------------ */

static pthread_t sender;

/* No more input: the sender finishes what it has, then returns. */
static void
finish_sending(void)
{
	static int joined;

	if (joined++)
		return;
	pthread_mutex_lock(&lock);
	input_done = 1;
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < senders; i++)
		if (write(sender_loops[i].pipe[1], "", 1) < 0 && errno != EAGAIN)
			msg_die(EXIT_SOFTWARE, NULL, "wake pipe: %s", strerror(errno));
	pthread_join(sender, NULL);
}

/* The sender met a refusal that stops the run and has let what was in
 * flight finish: report it as the data error it is (exit 65). */
static _Noreturn void
fail_run(void)
{
	finish_sending();
	reject_body(failed_where, failed_reason, failed_body.data, failed_body.len);
	msg_exit(EXIT_DATA);  /* not reached: nothing stops a second reject */
}

/* A free slot, waiting (signals served) while every one is busy. */
static struct request *
take_slot(void)
{
	struct request *req;
	char drain[64];

	pthread_mutex_lock(&lock);
	while (!(req = free_list)) {
		reader_waiting = 1;
		pthread_mutex_unlock(&lock);
		if (failing)
			fail_run();
		if (sig_wait_readable(wake_pipe[0], 1000) == SIG_WAIT_SIGNAL)
			sig_serve_stats();
		while (read(wake_pipe[0], drain, sizeof drain) > 0)
			;
		pthread_mutex_lock(&lock);
	}
	free_list = req->next;
	free_slots--;
	pthread_mutex_unlock(&lock);
	req->body.len = 0;
	req->records = 0;
	req->batch = 0;
	req->seq = next_seq++;
	return req;
}

/* Give back a slot that got no records (a batch of control lines only). */
static void
return_slot(struct request *req)
{
	pthread_mutex_lock(&lock);
	req->next = free_list;
	free_list = req;
	free_slots++;
	pthread_mutex_unlock(&lock);
}

/* Wake S if it sleeps; the lock is held and is released here. */
static void
wake_sender_unlock(struct sender *s)
{
	int wake = s->sleeping;

	s->sleeping = 0;
	pthread_mutex_unlock(&lock);
	if (wake && write(s->pipe[1], "", 1) < 0 && errno != EAGAIN)
		msg_die(EXIT_SOFTWARE, NULL, "wake pipe: %s", strerror(errno));
}

static void
queue_request(struct request *req)
{
	struct curl_slist *headers = req->batch && conf.ndjson ? ndjson_headers
	    : json_headers;

	curl_easy_setopt(req->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)req->body.len);
	curl_easy_setopt(req->easy, CURLOPT_POSTFIELDS, req->body.data);
	for (int i = signer_headers - 1; i >= 0; i--) {
		req->signature[i].next = headers;
		headers = &req->signature[i];
	}
	curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, headers);
	req->next = NULL;
	pthread_mutex_lock(&lock);
	req->pending = 1;
	*req->sender->queue_tail = req;
	req->sender->queue_tail = &req->next;
	wake_sender_unlock(req->sender);
}

static void
queue_control(const char *text, size_t len)
{
	struct control *c = malloc(sizeof *c + len);

	if (!c)
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	c->after = next_seq;
	c->len = len;
	c->next = NULL;
	memcpy(c->text, text, len);
	pthread_mutex_lock(&lock);
	*controls_tail = c;
	controls_tail = &c->next;
	sender_loops[0].news = 1;  /* any sender can write it */
	wake_sender_unlock(&sender_loops[0]);
}


/*
 * Input at WHERE that is no record we can send (TEXT[0..LEN)): rejected
 * for REASON.  When that stops the run, what was read before it is sent
 * first, as every sink commits what came before a bad record.
 */
static void
reject_input(const char *where, const char *reason, const char *text,
    size_t len)
{
	if (reject_would_stop()) {
		finish_sending();
		if (failing)
			fail_run();  /* the sender's own data error came first */
	}
	reject_body(where, reason, text, len);
}

static int
ignore_field(void *arg, const char *key, size_t keylen, const struct field *v)
{
	(void)arg, (void)key, (void)keylen, (void)v;
	return 0;
}

/* Is TEXT[0..LEN) one valid JSON object?  Else the reason in ERR.  A
 * record that is already compact JSON, as most that reach a loader are,
 * passes lib/jsoncanon's check, which costs a fraction of a parse; the
 * parser reads the rest and says what is wrong. */
static int
valid_record(const char *text, size_t len, char *err, size_t errsize)
{
	return jsoncanon_object(text, len) ||
	    fields_read(fields, text, len, ignore_field, NULL, err, errsize) == 0;
}

struct batch_reading {
	struct request *req;
	const struct line *line;
	struct buf controls;         /* control elements: after the request */
};

static int
take_element(void *arg, const char *elem, size_t n, size_t index)
{
	struct batch_reading *b = arg;
	char where[PATH_MAX + 64], err[256];

	snprintf(where, sizeof where, "%s:%lu (row %zu)", b->line->place.file,
	    b->line->place.line, index + 1);
	switch (line_kind_fast(elem, n)) {
	case LINE_CONTROL:
		buf_add(&b->controls, elem, n);
		buf_addc(&b->controls, '\n');
		return 0;
	case LINE_RECORD:
		stats_add(&stats.records_in, 1);
		if (!valid_record(elem, n, err, sizeof err))
			break;
		if (b->req->records == b->req->rows_cap) {
			b->req->rows_cap = b->req->rows_cap ? 2 * b->req->rows_cap : 64;
			b->req->rows = realloc(b->req->rows,
			    b->req->rows_cap * sizeof *b->req->rows);
			if (!b->req->rows)
				msg_die(EXIT_SOFTWARE, NULL, "out of memory");
		}
		b->req->rows[b->req->records] = index + 1;
		if (b->req->records++ > 0)
			buf_addc(&b->req->body, conf.ndjson ? '\n' : ',');
		buf_add(&b->req->body, elem, n);
		return 0;
	default:
		stats_add(&stats.records_in, 1);
		snprintf(err, sizeof err, "not a JSON object");
		break;
	}
	reject_input(where, err, elem, n);
	return 0;
}

static void
take_batch(const struct line *line)
{
	struct batch_reading b = { take_slot(), line, BUF_INIT };
	char err[256], where[PATH_MAX + 32];

	b.req->batch = 1;
	b.req->place = line->place;
	if (!conf.ndjson)
		buf_addc(&b.req->body, '[');
	if (line_split_batch(line->data, line->len, take_element, &b, err,
	    sizeof err) < 0) {
		return_slot(b.req);
		stats_add(&stats.records_in, 1);
		reject_input(place_format(&line->place, where, sizeof where), err,
		    line->data, line->len);
		buf_free(&b.controls);
		return;
	}
	if (b.req->records > 0) {
		buf_addc(&b.req->body, conf.ndjson ? '\n' : ']');
		queue_request(b.req);
	} else {
		return_slot(b.req);
	}
	for (size_t at = 0; at < b.controls.len; ) {
		char *nl = memchr(b.controls.data + at, '\n', b.controls.len - at);

		queue_control(b.controls.data + at, nl - (b.controls.data + at));
		at = nl - b.controls.data + 1;
	}
	buf_free(&b.controls);
}

static void
take_record(const struct line *line)
{
	char err[256], where[PATH_MAX + 32];
	struct request *req;

	stats_add(&stats.records_in, 1);
	if (!valid_record(line->data, line->len, err, sizeof err)) {
		reject_input(place_format(&line->place, where, sizeof where), err,
		    line->data, line->len);
		return;
	}
	req = take_slot();
	req->place = line->place;
	req->records = 1;
	buf_add(&req->body, line->data, line->len);
	queue_request(req);
}

static void
take_line(const struct line *line)
{
	char err[256], where[PATH_MAX + 32];
	enum line_kind kind;
	json_t *v;

	switch (line_kind_fast(line->data, line->len)) {
	case LINE_RECORD:
		take_record(line);
		break;
	case LINE_CONTROL:
		queue_control(line->data, line->len);
		break;
	case LINE_BATCH:
		take_batch(line);
		break;
	case LINE_INVALID:
		/* Parse only to say precisely what is wrong. */
		if ((v = line_parse(line->data, line->len, &kind, err, sizeof err)))
			snprintf(err, sizeof err, "not a JSON object or array");
		json_decref(v);
		stats_add(&stats.records_in, 1);
		reject_input(place_format(&line->place, where, sizeof where), err,
		    line->data, line->len);
		break;
	}
}

/* ---- setup ------------------------------------------------------------ */

/*
 * URL for messages, with the password of its userinfo as "***", as
 * lib/dburl.c shows database URLs.  (opt_begin has already blanked it in
 * argv, which ps shows.)
 */
static char *
url_hide_password(const char *url)
{
	const char *scheme = strstr(url, "://"), *host, *at = NULL, *colon, *end;
	struct buf redacted = BUF_INIT;

	buf_adds(&redacted, url);
	if (!scheme)
		return (char *)buf_cstr(&redacted);
	host = scheme + 3;
	end = host + strcspn(host, "/?#");
	for (const char *p = host; p < end; p++)
		if (*p == '@')
			at = p;  /* the last '@': an unencoded one may sit in the password */
	if (!at || !(colon = memchr(host, ':', at - host)))
		return (char *)buf_cstr(&redacted);
	redacted.len = colon + 1 - url;
	buf_adds(&redacted, "***");
	buf_adds(&redacted, at);
	return (char *)buf_cstr(&redacted);
}

static struct curl_slist *
add_header(struct curl_slist *list, const char *header)
{
	struct curl_slist *l = curl_slist_append(list, header);

	if (!l)
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	return l;
}

static int
has_header(struct curl_slist *list, const char *name)
{
	size_t n = strlen(name);

	for (; list; list = list->next)
		if (strncasecmp(list->data, name, n) == 0 && list->data[n] == ':')
			return 1;
	return 0;
}

static void
check_header(const struct opt_parser *p, const char *h)
{
	const char *colon = strchr(h, ':');

	if (!colon || colon == h || strcspn(h, " \t\r\n") < (size_t)(colon - h) ||
	    strpbrk(h, "\r\n"))
		opt_usage_error(p, "-H: expected 'Name: value', got '%s'", h);
}

/* --sign (github when only a secret is given) and its options; the
 * random start of this run's delivery ids (standard). */
static void
sign_options(struct opt_parser *p)
{
	char err[256], headers[WEBHOOK_MAX_HEADERS][WEBHOOK_HEADER_SIZE];
	const char *why, *env = getenv("ETL_HMAC_SECRET");
	unsigned char noise[8];
	FILE *f;

	if (!conf.hook.scheme && (conf.hook.secret_file || (env && *env)))
		conf.hook.scheme = "github";
	if (!conf.hook.scheme)
		return;
	if (webhook_init(&signer, conf.hook.scheme, &why) == 0 && !webhook_can_sign(&signer))
		opt_usage_error(p, "--sign: %s: not a scheme this signs (github, stripe, slack, shopify, standard, meta, generic)", conf.hook.scheme);
	if ((why = webhook_configure(&signer, &conf.hook, err, sizeof err)))
		opt_usage_error(p, "--sign: %s", why);
	signer_headers = webhook_sign(&signer, "", 0, 0, "", headers);
	if (!(f = fopen("/dev/urandom", "rb")) || fread(noise, 1, sizeof noise, f) != sizeof noise)
		msg_die(EXIT_SOFTWARE, "/dev/urandom", "cannot read");
	fclose(f);
	for (size_t i = 0; i < sizeof noise; i++)
		snprintf(delivery_prefix + 2 * i, 3, "%02x", noise[i]);
	delivery_prefix[2 * sizeof noise] = '_';
}

static void
parse_options(int argc, char **argv, int *first_file)
{
	struct curl_slist *user = NULL;
	struct opt_parser p;
	CURLU *u;
	char *scheme = NULL;
	int c;

	opt_begin(&p, argc, argv, "[OPTION]... URL [FILE]...",
	    "POST NDJSON records to an HTTP endpoint, with retries and in order"
	    " acknowledgements.", options, OPT_INPUT);
	while ((c = opt_next(&p)) != -1) {
		switch (c) {
		case 'c': conf.concurrency = opt_count(&p, 1, 1024); break;
		case 'H': check_header(&p, p.arg); user = add_header(user, p.arg); break;
		case KEY_NDJSON: conf.ndjson = 1; break;
		case KEY_TOKEN_FILE: conf.token = secret_read(p.arg, NULL); break;
		case KEY_SIGN: conf.hook.scheme = p.arg; break;
		case KEY_HMAC_SECRET_FILE: conf.hook.secret_file = p.arg; break;
		case KEY_HMAC_HEADER: conf.hook.header = p.arg; break;
		case KEY_SIGNATURE_PREFIX: conf.hook.prefix = p.arg; break;
		case KEY_SIGNATURE_ENCODING: conf.hook.encoding = p.arg; break;
		case KEY_SIGNATURE_DIGEST: conf.hook.digest = p.arg; break;
		case KEY_CACERT: conf.cacert = p.arg; break;
		case KEY_CAPATH: conf.capath = p.arg; break;
		case KEY_CERT: conf.cert = p.arg; break;
		case KEY_KEY: conf.key = p.arg; break;
		case KEY_TIMEOUT: conf.timeout_ms = opt_duration_ms(&p); break;
		case KEY_RETRY_FOR: conf.retry_for_ms = opt_duration_ms(&p); break;
		case KEY_USER: confine_conf.user = p.arg; break;
		case KEY_NO_SECCOMP: confine_conf.seccomp = 0; break;
		}
	}
	if (p.ind >= argc)
		opt_usage_error(&p, "no URL: give http://HOST[:PORT]/PATH");
	if (!(conf.url = strdup(argv[p.ind])))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	conf.redacted = url_hide_password(argv[p.ind]);
	*first_file = p.ind + 1;
	if (conf.timeout_ms <= 0)
		opt_usage_error(&p, "--timeout must be more than 0");
	sign_options(&p);
	if (!!conf.cert != !!conf.key)
		opt_usage_error(&p, "--cert and --key go together");

	if (!(u = curl_url()) || curl_url_set(u, CURLUPART_URL, conf.url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    strncasecmp(conf.url, scheme, strlen(scheme)) != 0)
		opt_usage_error(&p, "not an http:// or https:// URL: '%s'", conf.redacted);
	/* TLS options with a plain http:// URL would be a silent downgrade. */
	if (strcmp(scheme, "https") != 0 &&
	    (conf.cacert || conf.capath || conf.cert || conf.key))
		msg_die(EXIT_UNAVAILABLE, conf.redacted, "--cacert, --capath, --cert"
		    " and --key need an https:// URL; refusing to send in clear");
	curl_free(scheme);
	url_parsed = u;

	for (int ndjson = 0; ndjson < 2; ndjson++) {
		struct curl_slist *list = NULL;

		if (!has_header(user, "Content-Type"))
			list = add_header(list, ndjson ? "Content-Type: application/x-ndjson"
			    : "Content-Type: application/json");
		list = add_header(list, "Expect:");  /* no 100-continue round trip */
		/* libcurl formats every header it sends byte by byte, for
		 * every request: a third of its work per request here.  So
		 * not its default Accept header, which says what a request
		 * without one means (anything).  A User-Agent stays: some
		 * APIs (GitHub's) refuse a request without one.  A header of
		 * ours, not CURLOPT_USERAGENT, which libcurl would format
		 * anew for every request. */
		if (!has_header(user, "Accept"))
			list = add_header(list, "Accept:");
		if (!has_header(user, "User-Agent"))
			list = add_header(list, "User-Agent: etl-load-http/" ETL_VERSION);
		if (conf.token) {
			struct buf auth = BUF_INIT;

			buf_adds(&auth, "Authorization: Bearer ");
			buf_adds(&auth, conf.token);
			list = add_header(list, buf_cstr(&auth));
			buf_free(&auth);
		}
		for (struct curl_slist *h = user; h; h = h->next)
			list = add_header(list, h->data);
		*(ndjson ? &ndjson_headers : &json_headers) = list;
	}
	curl_slist_free_all(user);
}

static void
setup_easy(struct request *req)
{
	CURL *e = req->easy = curl_easy_init();

	if (!e)
		msg_die(EXIT_SOFTWARE, NULL, "curl_easy_init failed");
	/* The URL parsed once (conf.url passed the same parser above), not
	 * again for every transfer as CURLOPT_URL would. */
	if (!(req->url = curl_url_dup(url_parsed)))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	curl_easy_setopt(e, CURLOPT_CURLU, req->url);
	/* libcurl reads the proxy variables again for every transfer; when
	 * none is set, saying so once spares that (and changes nothing). */
	if (no_proxy_env) {
		curl_easy_setopt(e, CURLOPT_PROXY, "");
		curl_easy_setopt(e, CURLOPT_NOPROXY, "");
	}
	/* libcurl sweeps its name cache for stale entries before every
	 * transfer; an address never goes stale. */
	if (host_fixed)
		curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, -1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, req->sender);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->error);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_answer);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
	/* Connecting included: no separate connect timeout, which would be
	 * one more timer to set and clear for every request. */
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)conf.timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (conf.cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, conf.cacert);
	if (conf.capath)
		curl_easy_setopt(e, CURLOPT_CAPATH, conf.capath);
	if (conf.cert) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, conf.cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, conf.key);
	}
	if (signer.scheme) {
		if (!(req->signature_text = calloc(WEBHOOK_MAX_HEADERS, WEBHOOK_HEADER_SIZE)))
			msg_die(EXIT_SOFTWARE, NULL, "out of memory");
		for (int i = 0; i < WEBHOOK_MAX_HEADERS; i++)
			req->signature[i].data = req->signature_text[i];
	}
}

static void
open_pipe(int fds[2])
{
	if (pipe(fds) < 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0)
		msg_die(EXIT_SOFTWARE, NULL, "pipe: %s", strerror(errno));
}

/* Sender S's multi handle, epoll set and pipe, for SLOTS connections. */
static void
setup_sender(struct sender *s, int index, long slots)
{
	s->index = index;
	s->slots = slots;
	s->curl_timer_at = -1;
	s->queue_tail = &s->queue_head;
	if (!(s->multi = curl_multi_init()))
		msg_die(EXIT_SOFTWARE, NULL, "cannot initialise libcurl");
	/* One connection per slot stays open: none is closed and reopened. */
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, slots);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	open_pipe(s->pipe);
	if ((s->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->pipe[0],
	    &(struct epoll_event){ .events = EPOLLIN, .data.fd = s->pipe[0] }) < 0)
		msg_die(EXIT_SOFTWARE, NULL, "epoll: %s", strerror(errno));
}

/* Is any variable set that libcurl reads for a proxy to an http(s) URL? */
static int
proxy_env_set(void)
{
	static const char *const names[] = {
		"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
		"all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (getenv(names[i]))
			return 1;
	return 0;
}

/* Whether the URL names its host by address: nothing to look up again. */
static int
host_is_address(void)
{
	char *host, *h, addr[sizeof(struct in6_addr)];
	int yes;

	if (curl_url_get(url_parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return 0;
	h = host;
	if (*h == '[') {
		h++;
		h[strcspn(h, "]")] = '\0';
	}
	yes = inet_pton(AF_INET, h, addr) == 1 || inet_pton(AF_INET6, h, addr) == 1;
	curl_free(host);
	return yes;
}

static void
setup(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		msg_die(EXIT_SOFTWARE, NULL, "cannot initialise libcurl");
	no_proxy_env = !proxy_env_set();
	host_fixed = host_is_address();
	senders = conf.concurrency < SENDERS_MAX ? (int)conf.concurrency : SENDERS_MAX;
	for (int i = 0; i < senders; i++)
		setup_sender(&sender_loops[i], i,
		    (long)((conf.concurrency - i + senders - 1) / senders));
	if (!(pool = calloc(conf.concurrency, sizeof *pool)))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	for (long long i = conf.concurrency - 1; i >= 0; i--) {
		pool[i].sender = &sender_loops[i % senders];
		setup_easy(&pool[i]);
		pool[i].next = free_list;
		free_list = &pool[i];
	}
	free_slots = conf.concurrency;
	reader_wake_at = conf.concurrency / 4 > 1 ? conf.concurrency / 4 : 1;
	open_pipe(wake_pipe);
	fields = fields_new();
}

/* No root, the system call filter (lib/confine.h).  libcurl reads the
 * TLS files again for each new connection, and the reader opens the
 * inputs after the first in turn: all must stay readable. */
static void
confine_self(char **inputs, int n)
{
	confine_client();
	for (int i = 1; i < n; i++)
		confine_still_readable("input", inputs[i]);
	confine_still_readable("--cacert", conf.cacert);
	confine_still_readable("--capath", conf.capath);
	confine_still_readable("--cert", conf.cert);
	confine_still_readable("--key", conf.key);
}

int
main(int argc, char **argv)
{
	struct reader *r;
	struct line line;
	enum reader_status st;
	int first;

	parse_options(argc, argv, &first);
	stats_set_extra(stats_fields);
	setup();
	r = reader_open(argv + first, argc - first, opt_common.max_line);
	reader_output_elsewhere(r);  /* the senders write the control lines */
	/* Secrets read, reject file and first input open: give up the rest
	 * before the first byte from the network (lib/confine.h). */
	confine_self(argv + first, argc - first);
	if (pthread_create(&sender, NULL, sender_main, NULL) != 0)
		msg_die(EXIT_SOFTWARE, NULL, "cannot start a thread");
	while ((st = reader_next(r, &line, -1)) != READER_EOF) {
		if (failing)
			fail_run();
		if (st == READER_BAD) {
			char where[PATH_MAX + 32];

			stats_add(&stats.records_in, 1);
			reject_input(place_format(&line.place, where, sizeof where),
			    line.error, line.data, line.len);
			continue;
		}
		take_line(&line);
	}
	finish_sending();
	if (failing)
		fail_run();
	reader_close(r);
	msg_exit(EXIT_DONE);
}
