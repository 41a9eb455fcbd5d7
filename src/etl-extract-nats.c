/*
 * etl-extract-nats - NATS messages on a subject become NDJSON records on
 * stdout.
 *
 * Core NATS: a plain subscription, or a queue group (--queue) whose members
 * share the messages; at most once, as core NATS is.
 *
 * JetStream (--stream, --durable): a durable pull consumer, created if
 * missing, so that copies with the same durable name share the work and a
 * restart continues where the group left off.  Messages are fetched in
 * batches; a batch's records are written (flushed) and only then are its
 * messages acknowledged.  With --ack-fifo a checkpoint control line
 * follows each batch (lib/ack.h) and its messages are held until the
 * loader acknowledges that checkpoint: a message is acknowledged only once
 * its rows are committed.  --max-in-flight bounds the messages held;
 * unacknowledged ones are redelivered by the server after the ack wait.
 *
 * Bodies are decoded as etl-extract-http decodes request bodies
 * (lib/httpbody.c), by the Content-Type header when there is one.  A body
 * that is no record is a data error; its message is terminated (never
 * redelivered).  SIGTERM stops fetching: what is in hand is written and
 * acknowledged, then exit 0.
 */
#define _GNU_SOURCE  /* timegm */
#include "ack.h"
#include "buf.h"
#include "confine.h"
#include "exitcode.h"
#include "httpbody.h"
#include "jsonout.h"
#include "msg.h"
#include "natsconn.h"
#include "opt.h"
#include "reject.h"
#include "retry.h"
#include "sig.h"
#include "stats.h"
#include "writer.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	KEY_QUEUE = OPT_LONG, KEY_STREAM, KEY_DURABLE, KEY_ACK_FIFO, KEY_ACK_WAIT,
	KEY_ACK_TIMEOUT, KEY_MAX_IN_FLIGHT, KEY_BATCH, KEY_ENVELOPE, KEY_CREDS,
	KEY_TOKEN_FILE, KEY_RETRY_FOR, KEY_USER, KEY_NO_SECCOMP,
};

static const struct opt options[] = {
	{ KEY_QUEUE, "queue", "NAME", "core NATS: join queue group NAME (members share messages)" },
	{ KEY_STREAM, "stream", "NAME", "JetStream: consume from stream NAME (with --durable)" },
	{ KEY_DURABLE, "durable", "NAME", "JetStream: the durable pull consumer (created if missing)" },
	{ 'e', "exit-at-end", NULL, "JetStream: exit 0 once the consumer has nothing pending" },
	{ KEY_ACK_FIFO, "ack-fifo", "FIFO", "acknowledge only what the loader committed, read from FIFO" },
	{ KEY_ACK_WAIT, "ack-wait", "DURATION", "a new consumer's ack wait before redelivery (default 30s)" },
	{ KEY_ACK_TIMEOUT, "ack-timeout", "DURATION", "at SIGTERM, wait this long for the loader (default 10s)" },
	{ KEY_MAX_IN_FLIGHT, "max-in-flight", "N", "JetStream: most messages unacknowledged (default 1000)" },
	{ KEY_BATCH, "batch", "N", "JetStream: messages per fetch (default 256)" },
	{ KEY_ENVELOPE, "envelope", NULL, "wrap each message: subject, headers, data, stream, seq, time" },
	{ KEY_CREDS, "creds", "FILE", "log in with this NATS credentials file" },
	{ KEY_TOKEN_FILE, "token-file", "FILE", "log in with the token in FILE" },
	{ KEY_RETRY_FOR, "retry-for", "DURATION", "reconnect this long, then exit 75 (default 5m)" },
	CONFINE_OPTIONS(KEY_USER, KEY_NO_SECCOMP),
	{ 0, NULL, NULL, NULL }
};

static struct {
	struct natsconn_conf nats;
	const char *subject;
	const char *queue;
	const char *stream;
	const char *durable;
	int exit_at_end;
	const char *ack_fifo;
	long long ack_wait_ms;
	long long ack_timeout_ms;
	int max_in_flight;
	int ack_wait_given, max_in_flight_given;  /* else an existing consumer's own */
	int batch;
	int envelope;
} conf = {
	.nats.retry_for_ms = RETRY_DEFAULT_FOR_MS, .ack_wait_ms = 30000,
	.ack_timeout_ms = 10000, .max_in_flight = 1000, .batch = 256,
};

static natsConnection *nc;
static atomic_ullong messages, acked, terminated, dropped;

static void
stats_fields(struct buf *line)
{
	char tmp[160];

	snprintf(tmp, sizeof tmp, ",\"messages\":%llu,\"acked\":%llu,\"terminated\":%llu,"
	    "\"dropped\":%llu", (unsigned long long)messages, (unsigned long long)acked,
	    (unsigned long long)terminated, (unsigned long long)dropped);
	buf_adds(line, tmp);
}

/* ---- messages to records -------------------------------------------------- */

/* Nanoseconds since the epoch as RFC 3339 UTC with microseconds. */
static void
add_time(json_t *rec, int64_t ns)
{
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;
	char text[64];

	gmtime_r(&secs, &tm);
	snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (long)(ns % 1000000000 / 1000));
	json_object_set_new(rec, "time", json_string(text));
}

static json_t *
headers_of(natsMsg *m)
{
	const char **keys = NULL;
	int nkeys = 0;
	json_t *obj;

	if (natsMsgHeader_Keys(m, &keys, &nkeys) != NATS_OK || nkeys == 0) {
		free(keys);
		return json_null();
	}
	obj = json_object();
	for (int i = 0; i < nkeys; i++) {
		const char **values = NULL;
		int nvalues = 0;

		if (natsMsgHeader_Values(m, keys[i], &values, &nvalues) != NATS_OK)
			continue;
		for (int v = 0; v < nvalues; v++) {
			json_t *value = json_string(values[v]);

			if (value)
				httpbody_add_field(obj, keys[i], value);
		}
		free(values);
	}
	free(keys);
	return obj;
}

/* --envelope: one record describing the whole message. */
static void
envelope_record(natsMsg *m, const jsMsgMetaData *meta, struct buf *out)
{
	json_t *rec = json_object();
	struct timespec now;

	json_object_set_new(rec, "subject", json_string(natsMsg_GetSubject(m)));
	json_object_set_new(rec, "headers", headers_of(m));
	json_object_set_new(rec, "data", httpbody_envelope_value(natsMsg_GetData(m),
	    (size_t)natsMsg_GetDataLength(m)));
	json_object_set_new(rec, "stream", meta ? json_string(meta->Stream) : json_null());
	json_object_set_new(rec, "seq", meta ? json_integer((json_int_t)meta->Sequence.Stream)
	    : json_null());
	clock_gettime(CLOCK_REALTIME, &now);
	add_time(rec, meta ? meta->Timestamp
	    : (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
	jsonout_value(out, rec);
	buf_addc(out, '\n');
	json_decref(rec);
}

/*
 * Append M's records to stdout.  Returns 0, or -1 when M is no record (it
 * went to the reject file; without one this does not return).
 */
static int
take_message(natsMsg *m, unsigned long long count)
{
	jsMsgMetaData *meta = NULL;
	const char *type = NULL;
	char err[512], where[320];
	size_t mark = writer_stdout.buf.len;
	long n;
	int kind;

	stats_add(&messages, 1);
	if (conf.stream && natsMsg_GetMetaData(&meta, m) != NATS_OK)
		meta = NULL;
	if (conf.envelope) {
		envelope_record(m, meta, &writer_stdout.buf);
		n = 1;
	} else {
		natsMsgHeader_Get(m, "Content-Type", &type);
		kind = httpbody_kind(type);
		if (kind < 0) {
			snprintf(err, sizeof err, "unsupported Content-Type \"%s\": send JSON"
			    " or NDJSON, or run with --envelope", type);
			n = -1;
		} else {
			n = httpbody_records(kind, natsMsg_GetData(m),
			    (size_t)natsMsg_GetDataLength(m), &writer_stdout.buf, err, sizeof err);
		}
	}
	if (n < 0) {
		writer_stdout.buf.len = mark;
		if (meta)
			snprintf(where, sizeof where, "%s:%llu", meta->Stream,
			    (unsigned long long)meta->Sequence.Stream);
		else
			snprintf(where, sizeof where, "%s:%llu", natsMsg_GetSubject(m), count);
		jsMsgMetaData_Destroy(meta);
		/* Settled before the reject decides whether the run goes on:
		 * a bad message is never delivered again, whatever follows. */
		if (conf.stream && natsMsg_Term(m, NULL) == NATS_OK)
			stats_add(&terminated, 1);
		reject_record(where, err, NULL, natsMsg_GetData(m),
		    (size_t)natsMsg_GetDataLength(m));
		return -1;
	}
	jsMsgMetaData_Destroy(meta);
	stats_add(&stats.records_in, n);
	stats_add(&stats.records_out, n);
	writer_maybe_flush(&writer_stdout);
	return 0;
}

/* Collect a SIGINT, SIGTERM or SIGUSR1 that arrived meanwhile: the
 * signals are blocked except in this (non-waiting) window. */
static void
poll_signals(void)
{
	sig_wait_readable(-1, 0);
	sig_serve_stats();
}

/* ---- core NATS -------------------------------------------------------------- */

/*
 * Messages taken but not yet destroyed.  The client library hands every
 * destroyed message to its collector thread, waking it when it sleeps:
 * destroyed one by one, each message would cost a wake-up and a lock
 * passed between the two threads.  Destroyed together, once their records
 * are in the output buffer, they cost one.  Bounded in number and in
 * bytes, so that large messages are not held in thousands.
 */
enum { SPENT_MAX = 8192, SPENT_BYTES = 8 << 20 };
static natsMsg *spent[SPENT_MAX];
static int nspent;
static size_t spent_bytes;

static void
destroy_spent(void)
{
	for (int i = 0; i < nspent; i++)
		natsMsg_Destroy(spent[i]);
	nspent = 0;
	spent_bytes = 0;
}

static void
run_core(void)
{
	natsSubscription *sub = NULL;
	unsigned long long count = 0;
	uint64_t queued = 0;
	int64_t lost = 0;
	natsStatus s;

	s = conf.queue ? natsConnection_QueueSubscribeSync(&sub, nc, conf.subject, conf.queue)
	    : natsConnection_SubscribeSync(&sub, nc, conf.subject);
	if (s != NATS_OK)
		msg_die(EXIT_UNAVAILABLE, conf.subject, "cannot subscribe: %s", natsconn_error(s));
	/* Room for bursts: past this the library drops (a slow consumer). */
	natsSubscription_SetPendingLimits(sub, 1 << 20, 256 << 20);
	natsConnection_Flush(nc);
	msg_info(conf.subject, "subscribed");
	while (!sig_stop) {
		natsMsg *m = NULL;

		/* Only this thread takes messages: QUEUED of them are there
		 * to take without asking again.  When none are, the output is
		 * flushed before waiting for more. */
		if (queued == 0)
			natsSubscription_QueuedMsgs(sub, &queued);
		if (queued == 0) {
			writer_flush(&writer_stdout);
			destroy_spent();
			poll_signals();
			natsconn_check();
		} else {
			queued--;
		}
		s = natsSubscription_NextMsg(&m, sub, 200);
		if (s == NATS_SLOW_CONSUMER) {
			natsSubscription_GetDropped(sub, &lost);
			atomic_store(&dropped, (unsigned long long)lost);
			msg_warn(conf.subject, "messages dropped: the output is slower than"
			    " the subject (%lld so far)", (long long)lost);
			queued = 0;
			continue;
		}
		if (s != NATS_OK) {
			queued = 0;
			continue;  /* a timeout, or a reconnection in progress */
		}
		take_message(m, ++count);
		spent[nspent++] = m;
		spent_bytes += (size_t)natsMsg_GetDataLength(m);
		if (nspent == SPENT_MAX || spent_bytes >= SPENT_BYTES)
			destroy_spent();
	}
	destroy_spent();
	/* The stats line counts every drop, those since the last warning too. */
	if (natsSubscription_GetDropped(sub, &lost) == NATS_OK)
		atomic_store(&dropped, (unsigned long long)lost);
	/* Stop: what the library has already received is in hand. */
	natsSubscription_Unsubscribe(sub);
	natsSubscription_Destroy(sub);
}

/* ---- JetStream -------------------------------------------------------------- */

/* Messages written but not yet acknowledged, oldest first (--ack-fifo). */
struct held {
	natsMsg *msg;
	unsigned long long checkpoint;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t settled;
	struct held *ring;
	size_t head, count, size;
} held = { .lock = PTHREAD_MUTEX_INITIALIZER, .settled = PTHREAD_COND_INITIALIZER };

static void
hold(natsMsg *m, unsigned long long checkpoint)
{
	pthread_mutex_lock(&held.lock);
	held.ring[(held.head + held.count++) % held.size] = (struct held){ m, checkpoint };
	pthread_mutex_unlock(&held.lock);
}

/* With the lock held: release the oldest held message, acknowledging it
 * (ACK) or asking for its redelivery now. */
static void
release_oldest(int ack)
{
	natsMsg *m = held.ring[held.head].msg;

	if (ack) {
		if (natsMsg_Ack(m, NULL) == NATS_OK)
			stats_add(&acked, 1);
	} else {
		natsMsg_Nak(m, NULL);
	}
	natsMsg_Destroy(m);
	held.head = (held.head + 1) % held.size;
	held.count--;
}

/* lib/ack: the loader committed every checkpoint up to UPTO. */
static void
acks_committed(unsigned long long upto, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&held.lock);
	while (held.count > 0 && held.ring[held.head].checkpoint <= upto)
		release_oldest(1);
	pthread_cond_broadcast(&held.settled);
	pthread_mutex_unlock(&held.lock);
}

/* The loader's pipeline went away: what it held will never be committed
 * by it; have the server deliver it again now rather than at the ack wait. */
static void
acks_ended(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&held.lock);
	while (held.count > 0)
		release_oldest(0);
	pthread_cond_broadcast(&held.settled);
	pthread_mutex_unlock(&held.lock);
}

static size_t
held_count(void)
{
	size_t n;

	pthread_mutex_lock(&held.lock);
	n = held.count;
	pthread_mutex_unlock(&held.lock);
	return n;
}

/* Wait up to MS for held messages to be settled. */
static void
wait_settled(long ms)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&held.lock);
	if (held.count > 0)
		pthread_cond_timedwait(&held.settled, &held.lock, &deadline);
	pthread_mutex_unlock(&held.lock);
}

static natsSubscription *
pull_subscribe(jsCtx **js)
{
	natsSubscription *sub = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	struct retry r;
	natsStatus s;

	if (natsConnection_JetStream(js, nc, NULL) != NATS_OK)
		msg_die(EXIT_SOFTWARE, NULL, "cannot create the JetStream context");
	jsSubOptions_Init(&so);
	so.Stream = conf.stream;
	/* Settings given bind a new consumer; an existing one must match
	 * them, and when they are not given it keeps its own. */
	if (conf.ack_wait_given)
		so.Config.AckWait = conf.ack_wait_ms * 1000000;
	if (conf.max_in_flight_given)
		so.Config.MaxAckPending = conf.max_in_flight;
	retry_init(&r, conf.nats.retry_for_ms);
	/* A cluster electing a leader, or a server that just went away,
	 * answers late: that is transient, retried like a lost connection. */
	while ((s = js_PullSubscribe(&sub, *js, conf.subject, conf.durable, NULL,
	    &so, &jerr)) != NATS_OK && !sig_stop &&
	    (s == NATS_TIMEOUT || s == NATS_CONNECTION_CLOSED ||
	    s == NATS_CONNECTION_DISCONNECTED || s == NATS_NO_RESPONDERS)) {
		long delay = retry_failed(&r, 0);

		if (delay < 0)
			msg_die(EXIT_TEMPFAIL, conf.stream, "cannot consume %s as %s: %s"
			    " (gave up after %d attempts)", conf.subject, conf.durable,
			    natsconn_error(s), r.attempt);
		msg_warn(conf.stream, "cannot consume %s as %s: %s; retrying in %ld ms",
		    conf.subject, conf.durable, natsconn_error(s), delay);
		retry_sleep_ms(delay);
		jerr = 0;
	}
	if (s != NATS_OK)
		msg_die(jerr == JSStreamNotFoundErr ? EXIT_UNAVAILABLE : EXIT_CONFIG, conf.stream,
		    "cannot consume %s as %s: %s", conf.subject, conf.durable, natsconn_error(s));
	msg_info(conf.stream, "consuming %s as %s", conf.subject, conf.durable);
	return sub;
}

/* -e: is the consumer drained (nothing pending, nothing unacknowledged)? */
static int
drained(jsCtx *js)
{
	jsConsumerInfo *ci = NULL;
	int done;

	if (held_count() > 0 ||
	    js_GetConsumerInfo(&ci, js, conf.stream, conf.durable, NULL, NULL) != NATS_OK)
		return 0;
	done = ci->NumPending == 0 && ci->NumAckPending == 0;
	jsConsumerInfo_Destroy(ci);
	return done;
}

/* Write one fetched batch, then settle its messages: acknowledged now
 * that their records are flushed, or held for the loader's checkpoint.
 * Every message leaves the list (destroyed or held); the caller frees
 * the list's array. */
static void
take_batch(natsMsgList *list)
{
	int kept = 0;

	for (int i = 0; i < list->Count; i++) {
		if (take_message(list->Msgs[i], 0) != 0) {
			natsMsg_Destroy(list->Msgs[i]);
			list->Msgs[i] = NULL;
		} else {
			kept++;
		}
	}
	if (conf.ack_fifo && kept > 0) {
		unsigned long long checkpoint = ack_checkpoint(&writer_stdout.buf);

		writer_flush(&writer_stdout);
		for (int i = 0; i < list->Count; i++)
			if (list->Msgs[i]) {
				hold(list->Msgs[i], checkpoint);
				list->Msgs[i] = NULL;
			}
	} else if (kept > 0) {
		writer_flush(&writer_stdout);
		for (int i = 0; i < list->Count; i++)
			if (list->Msgs[i] && natsMsg_Ack(list->Msgs[i], NULL) == NATS_OK)
				stats_add(&acked, 1);
	}
	for (int i = 0; i < list->Count; i++) {
		natsMsg_Destroy(list->Msgs[i]);
		list->Msgs[i] = NULL;
	}
}

/*
 * Fetch up to WANT messages into LIST (its array is ours to free).
 *
 * natsSubscription_Fetch of the NATS C client before 3.10 (Debian ships
 * 3.4.1) writes past its own array of WANT messages when it starts with
 * messages already queued on the subscription: with c of them, WANT/2 <
 * c < WANT, it asks the server for WANT - c more, then collects until it
 * holds WANT - c in all, a count it has already passed, so it stores
 * messages past the end of its array until the fetch times out (fixed
 * upstream in nats.c 8099b5c, "Fix heap buffer overflow in _fetch").
 * The heap is corrupted and the program aborts later, anywhere (SIGABRT
 * from malloc, or SIGSEGV in the library's own threads).  Messages are queued
 * when pull requests are answered after their Fetch returned: above all
 * the requests buffered while the connection was down, all answered at
 * once after the reconnection.  So queued messages are taken with
 * fetches of one message, which cannot overrun, and run_jetstream does
 * not fetch while the connection is down.
 */
static natsStatus
fetch(natsSubscription *sub, int want, natsMsgList *list, jsErrCode *jerr)
{
	natsMsgList one = { 0 };
	uint64_t queued = 0;
	natsStatus s = NATS_OK;

	memset(list, 0, sizeof *list);
	if (natsSubscription_QueuedMsgs(sub, &queued) != NATS_OK || queued == 0) {
		natsMsg **msgs;

		s = natsSubscription_Fetch(&one, sub, want, 500, jerr);
		if (s != NATS_OK)
			return s;
		/* The library's array moves into one of ours. */
		if (!(msgs = calloc((size_t)one.Count, sizeof *msgs)))
			msg_die(EXIT_SOFTWARE, NULL, "out of memory");
		memcpy(msgs, one.Msgs, (size_t)one.Count * sizeof *msgs);
		*list = (natsMsgList){ .Msgs = msgs, .Count = one.Count };
		memset(one.Msgs, 0, (size_t)one.Count * sizeof *one.Msgs);
		natsMsgList_Destroy(&one);
		return NATS_OK;
	}
	if (!(list->Msgs = calloc((size_t)want, sizeof *list->Msgs)))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	while (list->Count < want && queued > 0) {
		s = natsSubscription_Fetch(&one, sub, 1, 500, jerr);
		if (s != NATS_OK)
			break;
		list->Msgs[list->Count++] = one.Msgs[0];
		one.Msgs[0] = NULL;
		natsMsgList_Destroy(&one);
		if (natsSubscription_QueuedMsgs(sub, &queued) != NATS_OK)
			break;
	}
	if (list->Count > 0)
		return NATS_OK;
	free(list->Msgs);
	list->Msgs = NULL;
	return s;
}

static void
run_jetstream(void)
{
	jsCtx *js = NULL;
	natsSubscription *sub = pull_subscribe(&js);
	struct retry r;

	held.size = (size_t)conf.max_in_flight;
	if (!(held.ring = calloc(held.size, sizeof *held.ring)))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	if (conf.ack_fifo) {
		ack_start(&(struct ack_handlers){ acks_committed, acks_ended, NULL });
	}
	retry_init(&r, conf.nats.retry_for_ms);
	while (!sig_stop) {
		natsMsgList list = { 0 };
		jsErrCode jerr = 0;
		size_t room = held.size - held_count();
		natsStatus s;

		poll_signals();
		natsconn_check();
		if (room == 0) {
			wait_settled(100);
			continue;
		}
		if (!natsconn_up()) {
			/* A pull request now would wait in the reconnect
			 * buffer, to be answered after the reconnection
			 * when its Fetch is long gone (see fetch). */
			retry_sleep_ms(100);
			continue;
		}
		s = fetch(sub, (int)(room < (size_t)conf.batch ? room : (size_t)conf.batch),
		    &list, &jerr);
		if (s == NATS_OK) {
			retry_succeeded(&r);
			take_batch(&list);
			free(list.Msgs);
		} else if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND) {
			if (conf.exit_at_end && drained(js))
				break;
		} else if (natsconn_up()) {
			/* The connection is up but the consumer is not answering
			 * (the server is restarting its JetStream). */
			long delay = retry_failed(&r, 0);

			if (delay < 0)
				msg_die(EXIT_TEMPFAIL, conf.stream, "cannot fetch: %s",
				    natsconn_error(s));
			msg_warn(conf.stream, "cannot fetch: %s; retrying in %ld ms",
			    natsconn_error(s), delay);
			retry_sleep_ms(delay);
		} else {
			retry_sleep_ms(100);  /* reconnecting: natsconn_check decides */
		}
	}
	/* Stop or end: what is held waits for the loader a while; what it
	 * does not acknowledge is redelivered after the ack wait. */
	if (conf.ack_fifo) {
		double deadline = stats_now() + conf.ack_timeout_ms / 1000.0;

		while (held_count() > 0 && stats_now() < deadline)
			wait_settled(100);
		if (held_count() > 0)
			msg_warn(conf.ack_fifo, "%zu messages not acknowledged by the loader;"
			    " the server will deliver them again", held_count());
	}
	natsConnection_FlushTimeout(nc, 5000);  /* the acknowledgements reach the server */
	natsSubscription_Destroy(sub);
	jsCtx_Destroy(js);
}

static void
parse_options(int argc, char **argv)
{
	struct opt_parser p;
	int c;

	opt_begin(&p, argc, argv, "[OPTION]... URL SUBJECT",
	    "Receive NATS or JetStream messages and write them as NDJSON records.",
	    options, OPT_REJECT);
	while ((c = opt_next(&p)) != -1) {
		switch (c) {
		case KEY_QUEUE: conf.queue = p.arg; break;
		case KEY_STREAM: conf.stream = p.arg; break;
		case KEY_DURABLE: conf.durable = p.arg; break;
		case 'e': conf.exit_at_end = 1; break;
		case KEY_ACK_FIFO: conf.ack_fifo = p.arg; break;
		case KEY_ACK_WAIT:
			conf.ack_wait_ms = opt_duration_ms(&p);
			conf.ack_wait_given = 1;
			break;
		case KEY_ACK_TIMEOUT: conf.ack_timeout_ms = opt_duration_ms(&p); break;
		case KEY_MAX_IN_FLIGHT:
			conf.max_in_flight = (int)opt_count(&p, 1, 1000000);
			conf.max_in_flight_given = 1;
			break;
		case KEY_BATCH: conf.batch = (int)opt_count(&p, 1, 10000); break;
		case KEY_ENVELOPE: conf.envelope = 1; break;
		case KEY_CREDS: conf.nats.creds_path = p.arg; break;
		case KEY_TOKEN_FILE: conf.nats.token_path = p.arg; break;
		case KEY_RETRY_FOR: conf.nats.retry_for_ms = opt_duration_ms(&p); break;
		case KEY_USER: confine_conf.user = p.arg; break;
		case KEY_NO_SECCOMP: confine_conf.seccomp = 0; break;
		}
	}
	if (argc - p.ind < 2)
		opt_usage_error(&p, "give a URL and a SUBJECT");
	if (argc - p.ind > 2)
		opt_usage_error(&p, "unexpected argument '%s'", argv[p.ind + 2]);
	conf.nats.urls = argv[p.ind];
	conf.subject = argv[p.ind + 1];
	if (!conf.stream != !conf.durable)
		opt_usage_error(&p, "--stream and --durable go together");
	if (conf.stream && conf.queue)
		opt_usage_error(&p, "--queue is for core NATS; JetStream copies share"
		    " the work through --durable");
	if (!conf.stream && (conf.exit_at_end || conf.ack_fifo))
		opt_usage_error(&p, "%s needs JetStream (--stream and --durable)",
		    conf.exit_at_end ? "--exit-at-end" : "--ack-fifo");
	if (conf.ack_wait_ms < 1000)
		opt_usage_error(&p, "--ack-wait must be at least 1s");
}

/* At every exit: the acknowledgements and terminations already made
 * reach the server (else they would be redelivered). */
static void
flush_nats(void)
{
	if (nc)
		natsConnection_FlushTimeout(nc, 2000);
}

int
main(int argc, char **argv)
{
	parse_options(argc, argv);
	stats_set_extra(stats_fields);
	if (conf.ack_fifo)
		ack_open(conf.ack_fifo);  /* before confinement, for good */
	natsconn_prepare(&conf.nats);
	confine_client();  /* before the first byte from a server */
	nc = natsconn_open(&conf.nats);
	msg_on_exit(flush_nats);
	if (conf.stream)
		run_jetstream();
	else
		run_core();
	writer_flush(&writer_stdout);
	natsconn_close(nc);
	nc = NULL;
	msg_exit(EXIT_DONE);
}
