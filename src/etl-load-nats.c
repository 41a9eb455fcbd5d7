/*
 * etl-load-nats - publish each record to a NATS subject, or through
 * JetStream with publish acknowledgements.
 *
 * Each record (compact JSON) is one message on SUBJECT; "{field}" in
 * SUBJECT is replaced by the record's value of that field.  A batch line
 * is its records, one message each.
 *
 * With --stream the messages go through JetStream asynchronously, at most
 * --window of them awaiting their publish acknowledgement; a message whose
 * acknowledgement does not come (a lost connection, a restarting server)
 * is published again under the shared retry policy, with its Nats-Msg-Id
 * (--msg-id) so that the server drops what it already stored.  A
 * message the server refuses is a data error.  A control line is written
 * to stdout only once every message before it is acknowledged (core NATS:
 * once the server has received them all), so chained acknowledgements
 * hold end to end.
 */
#include "buf.h"
#include "confine.h"
#include "exitcode.h"
#include "jsonout.h"
#include "line.h"
#include "msg.h"
#include "natsconn.h"
#include "opt.h"
#include "reader.h"
#include "reject.h"
#include "retry.h"
#include "sig.h"
#include "stats.h"
#include "writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	KEY_STREAM = OPT_LONG, KEY_MSG_ID, KEY_CREATE, KEY_RETENTION, KEY_REPLICAS,
	KEY_DUPLICATE_WINDOW, KEY_WINDOW, KEY_ACK_TIMEOUT, KEY_CREDS, KEY_TOKEN_FILE,
	KEY_RETRY_FOR, KEY_USER, KEY_NO_SECCOMP,
};

static const struct opt options[] = {
	{ KEY_STREAM, "stream", "NAME", "publish through JetStream stream NAME, with acknowledgements" },
	{ KEY_MSG_ID, "msg-id", "FIELD", "set Nats-Msg-Id from FIELD: the server drops duplicates" },
	{ KEY_CREATE, "create", NULL, "create the stream for SUBJECT if it is missing" },
	{ KEY_RETENTION, "retention", "POLICY", "with --create: limits (default) or work-queue" },
	{ KEY_REPLICAS, "replicas", "N", "with --create: copies of each message (default 1)" },
	{ KEY_DUPLICATE_WINDOW, "duplicate-window", "DURATION", "with --create: how long ids are remembered (default 2m)" },
	{ KEY_WINDOW, "window", "N", "JetStream: most messages awaiting acknowledgement (default 4096)" },
	{ KEY_ACK_TIMEOUT, "ack-timeout", "DURATION", "publish again what is not acknowledged this long (default 10s)" },
	{ KEY_CREDS, "creds", "FILE", "log in with this NATS credentials file" },
	{ KEY_TOKEN_FILE, "token-file", "FILE", "log in with the token in FILE" },
	{ KEY_RETRY_FOR, "retry-for", "DURATION", "retry lost connections this long, then exit 75 (default 5m)" },
	CONFINE_OPTIONS(KEY_USER, KEY_NO_SECCOMP),
	{ 0, NULL, NULL, NULL }
};

static struct {
	struct natsconn_conf nats;
	const char *subject;
	int templated;               /* SUBJECT has {field}s */
	const char *stream;
	const char *msg_id;
	int create;
	jsRetentionPolicy retention;
	int replicas;
	long long duplicate_window_ms;
	int window;
	long long ack_timeout_ms;
} conf = {
	.nats.retry_for_ms = RETRY_DEFAULT_FOR_MS, .retention = js_LimitsPolicy,
	.replicas = 1, .duplicate_window_ms = 120000, .window = 4096,
	.ack_timeout_ms = 10000,
};

static natsConnection *nc;
static jsCtx *js;
static char where[512];          /* the current line's place */
static atomic_ullong published, republished;

static void
stats_fields(struct buf *line)
{
	char tmp[128];

	snprintf(tmp, sizeof tmp, ",\"published\":%llu,\"republished\":%llu",
	    (unsigned long long)published, (unsigned long long)republished);
	buf_adds(line, tmp);
}

/* ---- JetStream acknowledgements ------------------------------------------ */

/*
 * The library's thread reports each acknowledgement.  A success settles
 * the message; a failure hands it back to the main thread (which alone
 * writes output and rejects): published again when the failure was of
 * the transport (no acknowledgement in time, no responder while the
 * server restarts), rejected when the server refused it.
 */
struct returned {
	natsMsg *msg;
	int refused;                 /* by the server: a data error */
	char why[200];
	struct returned *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct returned *head;
	unsigned long long outstanding;  /* handed to the library, not settled */
	unsigned long long successes;
} acks = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };

static void
on_publish_ack(jsCtx *ctx, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *arg)
{
	struct returned *r;

	(void)ctx;
	(void)arg;
	pthread_mutex_lock(&acks.lock);
	if (pa || !pae) {
		acks.outstanding--;
		acks.successes++;
		stats_add(&stats.records_out, 1);
		stats_add(&stats.delivered, 1);
		natsMsg_Destroy(msg);
	} else if ((r = calloc(1, sizeof *r))) {
		r->msg = msg;
		r->refused = pae->ErrCode != 0;
		snprintf(r->why, sizeof r->why, "%s", pae->ErrText && *pae->ErrText
		    ? pae->ErrText : natsStatus_GetText(pae->Err));
		r->next = acks.head;
		acks.head = r;
	} else {
		natsMsg_Destroy(msg);  /* out of memory: the settle loop gives up */
	}
	pthread_cond_broadcast(&acks.changed);
	pthread_mutex_unlock(&acks.lock);
}

static void publish_js(natsMsg *m, struct retry *r);

/* Publish again, or reject, what the acknowledgements handed back. */
static void
serve_returned(struct retry *r)
{
	struct returned *list;
	static unsigned long long seen_successes;

	pthread_mutex_lock(&acks.lock);
	list = acks.head;
	acks.head = NULL;
	if (acks.successes != seen_successes) {
		seen_successes = acks.successes;
		retry_succeeded(r);
	}
	pthread_mutex_unlock(&acks.lock);
	while (list) {
		struct returned *next = list->next;
		natsMsg *m = list->msg;

		if (list->refused) {
			pthread_mutex_lock(&acks.lock);
			acks.outstanding--;
			pthread_mutex_unlock(&acks.lock);
			reject_record(natsMsg_GetSubject(m), list->why, NULL,
			    natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
			natsMsg_Destroy(m);
		} else {
			long delay = retry_failed(r, 0);

			if (delay < 0)
				msg_die(EXIT_TEMPFAIL, conf.stream, "not acknowledged after"
				    " --retry-for: %s", list->why);
			msg_info(conf.stream, "publishing again: %s", list->why);
			stats_add(&republished, 1);
			publish_js(m, r);
		}
		free(list);
		list = next;
	}
}

/* Hand M to the library; it owns M afterwards. */
static void
publish_js(natsMsg *m, struct retry *r)
{
	jsPubOptions po;
	natsStatus s;

	jsPubOptions_Init(&po);
	po.MaxWait = conf.ack_timeout_ms;
	while ((s = js_PublishMsgAsync(js, &m, &po)) != NATS_OK) {
		long delay;

		natsconn_check();
		if (s == NATS_TIMEOUT) {
			/* The window is full: the acknowledgements will make room. */
			serve_returned(r);
			continue;
		}
		if ((delay = retry_failed(r, 0)) < 0)
			msg_die(EXIT_TEMPFAIL, conf.stream, "cannot publish: %s", natsconn_error(s));
		msg_warn(conf.stream, "cannot publish: %s; retrying in %ld ms",
		    natsconn_error(s), delay);
		retry_sleep_ms(delay);
	}
}

/* Wait until every message handed over so far is acknowledged. */
static void
settle_all(struct retry *r)
{
	if (!conf.stream) {
		natsStatus s;

		while ((s = natsConnection_FlushTimeout(nc, conf.ack_timeout_ms)) != NATS_OK) {
			long delay = retry_failed(r, 0);

			natsconn_check();
			if (delay < 0)
				msg_die(EXIT_TEMPFAIL, natsconn_where, "%s", natsconn_error(s));
			retry_sleep_ms(delay);
		}
		retry_succeeded(r);
		return;
	}
	for (;;) {
		struct timespec deadline;
		int idle;

		serve_returned(r);
		natsconn_check();
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += 100 * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&acks.lock);
		idle = acks.outstanding == 0 && !acks.head;
		if (!idle && !acks.head)
			pthread_cond_timedwait(&acks.changed, &acks.lock, &deadline);
		pthread_mutex_unlock(&acks.lock);
		if (idle)
			return;
	}
}

/* ---- records to messages --------------------------------------------------- */

/* The text of V as a subject token or message id: a string as is, a
 * number as written; NULL for other kinds. */
static const char *
value_text(const json_t *v, char *tmp, size_t size)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(tmp, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return tmp;
	}
	if (json_is_real(v)) {
		snprintf(tmp, size, "%.17g", json_real_value(v));
		return tmp;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}

/* SUBJECT with each {field} replaced by REC's value; -1 with a reason. */
static int
expand_subject(const json_t *rec, struct buf *out, char *err, size_t errsize)
{
	const char *p = conf.subject;

	out->len = 0;
	while (*p) {
		const char *open = strchr(p, '{'), *close, *text;
		char field[256], tmp[64];

		if (!open || !(close = strchr(open, '}'))) {
			buf_adds(out, p);
			break;
		}
		buf_add(out, p, open - p);
		snprintf(field, sizeof field, "%.*s", (int)(close - open - 1), open + 1);
		text = value_text(json_object_get(rec, field), tmp, sizeof tmp);
		if (!text) {
			snprintf(err, errsize, "no field \"%s\" (a string or number) for the subject",
			    field);
			return -1;
		}
		if (!*text || strpbrk(text, " \t\r\n*>")) {
			snprintf(err, errsize, "field \"%s\" cannot be part of a subject: it is"
			    " empty or holds a blank, '*' or '>'", field);
			return -1;
		}
		buf_adds(out, text);
		p = close + 1;
	}
	buf_cstr(out);
	return 0;
}

static struct retry publishing;

/* One record, DATA[0..LEN): published, or a data error. */
static void
take_record(const char *data, size_t len)
{
	static struct buf subject = BUF_INIT, body = BUF_INIT;
	const char *subj = conf.subject, *id = NULL;
	char err[512], tmp[64];
	json_t *rec = NULL;
	natsStatus s;

	stats_add(&stats.records_in, 1);
	/* Parse only when a field is needed or the line is not compact. */
	if (conf.templated || conf.msg_id || memchr(data, ' ', len) ||
	    memchr(data, '\t', len) || line_kind_fast(data, len) != LINE_RECORD) {
		enum line_kind kind;

		rec = line_parse(data, len, &kind, err, sizeof err);
		if (rec && kind != LINE_RECORD) {
			snprintf(err, sizeof err, "not a JSON object");
			json_decref(rec);
			rec = NULL;
		}
		if (!rec) {
			reject_record(where, err, NULL, data, len);
			return;
		}
		if (conf.templated) {
			if (expand_subject(rec, &subject, err, sizeof err) != 0)
				goto bad;
			subj = subject.data;
		}
		if (conf.msg_id && !(id = value_text(json_object_get(rec, conf.msg_id),
		    tmp, sizeof tmp))) {
			snprintf(err, sizeof err, "no field \"%s\" (a string or number) for"
			    " the message id", conf.msg_id);
			goto bad;
		}
		body.len = 0;
		jsonout_value(&body, rec);
		data = body.data;
		len = body.len;
	}
	if (len > (size_t)natsConnection_GetMaxPayload(nc)) {
		snprintf(err, sizeof err, "the record is larger than the server's"
		    " max_payload (%lld bytes)", (long long)natsConnection_GetMaxPayload(nc));
		goto bad;
	}
	stats_add(&published, 1);
	if (conf.stream) {
		natsMsg *m = NULL;

		if (natsMsg_Create(&m, subj, NULL, data, (int)len) != NATS_OK)
			msg_die(EXIT_SOFTWARE, where, "out of memory");
		if (id)
			natsMsgHeader_Set(m, "Nats-Msg-Id", id);
		pthread_mutex_lock(&acks.lock);
		acks.outstanding++;
		pthread_mutex_unlock(&acks.lock);
		publish_js(m, &publishing);
	} else {
		while ((s = natsConnection_Publish(nc, subj, data, (int)len)) != NATS_OK) {
			long delay = retry_failed(&publishing, 0);

			natsconn_check();
			if (delay < 0)
				msg_die(EXIT_TEMPFAIL, natsconn_where, "cannot publish: %s",
				    natsconn_error(s));
			retry_sleep_ms(delay);
		}
		stats_add(&stats.records_out, 1);
		stats_add(&stats.delivered, 1);
	}
	json_decref(rec);
	return;
bad:
	reject_record(where, err, rec, NULL, 0);
	json_decref(rec);
}

static int
take_element(void *arg, const char *elem, size_t n, size_t index)
{
	(void)arg;
	(void)index;
	take_record(elem, n);
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
		/* Echoed only once everything before it is stored. */
		settle_all(&publishing);
		writer_line(&writer_stdout, line->data, line->len);
		break;
	case LINE_BATCH:
		if (line_split_batch(line->data, line->len, take_element, NULL,
		    err, sizeof err) != 0) {
			stats_add(&stats.records_in, 1);
			reject_record(where, err, NULL, line->data, line->len);
		}
		break;
	case LINE_INVALID:
		v = line_parse(line->data, line->len, &kind, err, sizeof err);
		json_decref(v);
		stats_add(&stats.records_in, 1);
		reject_record(where, err, NULL, line->data, line->len);
		break;
	}
}

/* ---- the stream ------------------------------------------------------------ */

/* The subjects a new stream takes: SUBJECT with each {field} token a '*'. */
static char *
stream_subject(void)
{
	struct buf b = BUF_INIT;
	const char *p = conf.subject;

	while (*p) {
		size_t n = strcspn(p, ".");

		if (memchr(p, '{', n))
			buf_addc(&b, '*');
		else
			buf_add(&b, p, n);
		p += n;
		if (*p == '.')
			buf_addc(&b, *p++);
	}
	buf_cstr(&b);
	return b.data;
}

static void
open_stream(void)
{
	jsOptions jo;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = conf.window;
	jo.PublishAsync.AckHandler = on_publish_ack;
	if (natsConnection_JetStream(&js, nc, &jo) != NATS_OK)
		msg_die(EXIT_SOFTWARE, NULL, "cannot create the JetStream context");
	s = js_GetStreamInfo(&si, js, conf.stream, NULL, &jerr);
	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return;
	}
	if (jerr != JSStreamNotFoundErr)
		msg_die(EXIT_UNAVAILABLE, conf.stream, "%s", natsconn_error(s));
	if (!conf.create)
		msg_die(EXIT_UNAVAILABLE, conf.stream, "no such stream (create it, or run"
		    " with --create)");
	{
		jsStreamConfig sc;
		char *subject = stream_subject();
		const char *subjects[1] = { subject };

		jsStreamConfig_Init(&sc);
		sc.Name = conf.stream;
		sc.Subjects = subjects;
		sc.SubjectsLen = 1;
		sc.Storage = js_FileStorage;
		sc.Retention = conf.retention;
		sc.Replicas = conf.replicas;
		sc.Duplicates = conf.duplicate_window_ms * 1000000;
		s = js_AddStream(&si, js, &sc, NULL, &jerr);
		if (s != NATS_OK && jerr != JSStreamNameExistErr)  /* a copy made it first */
			msg_die(EXIT_UNAVAILABLE, conf.stream, "cannot create the stream: %s",
			    natsconn_error(s));
		jsStreamInfo_Destroy(si);
		msg_info(conf.stream, "created for %s", subject);
		free(subject);
	}
}

static int
parse_options(int argc, char **argv)
{
	struct opt_parser p;
	int c;

	opt_begin(&p, argc, argv, "[OPTION]... URL SUBJECT [FILE]...",
	    "Publish NDJSON records to a NATS subject or a JetStream stream.",
	    options, OPT_INPUT);
	while ((c = opt_next(&p)) != -1) {
		switch (c) {
		case KEY_STREAM: conf.stream = p.arg; break;
		case KEY_MSG_ID: conf.msg_id = p.arg; break;
		case KEY_CREATE: conf.create = 1; break;
		case KEY_RETENTION:
			if (strcmp(p.arg, "limits") == 0)
				conf.retention = js_LimitsPolicy;
			else if (strcmp(p.arg, "work-queue") == 0)
				conf.retention = js_WorkQueuePolicy;
			else
				opt_usage_error(&p, "--retention: expected limits or work-queue,"
				    " not '%s'", p.arg);
			break;
		case KEY_REPLICAS: conf.replicas = (int)opt_count(&p, 1, 5); break;
		case KEY_DUPLICATE_WINDOW: conf.duplicate_window_ms = opt_duration_ms(&p); break;
		case KEY_WINDOW: conf.window = (int)opt_count(&p, 1, 1000000); break;
		case KEY_ACK_TIMEOUT: conf.ack_timeout_ms = opt_duration_ms(&p); break;
		case KEY_CREDS: conf.nats.creds_path = p.arg; break;
		case KEY_TOKEN_FILE: conf.nats.token_path = p.arg; break;
		case KEY_RETRY_FOR: conf.nats.retry_for_ms = opt_duration_ms(&p); break;
		case KEY_USER: confine_conf.user = p.arg; break;
		case KEY_NO_SECCOMP: confine_conf.seccomp = 0; break;
		}
	}
	if (argc - p.ind < 2)
		opt_usage_error(&p, "give a URL and a SUBJECT");
	conf.nats.urls = argv[p.ind];
	conf.subject = argv[p.ind + 1];
	conf.templated = strchr(conf.subject, '{') != NULL;
	if (!conf.stream && (conf.msg_id || conf.create))
		opt_usage_error(&p, "%s needs --stream", conf.msg_id ? "--msg-id" : "--create");
	if (strpbrk(conf.subject, " \t*>"))
		opt_usage_error(&p, "SUBJECT must not hold blanks or wildcards: '%s'", conf.subject);
	if (conf.ack_timeout_ms < 1)
		opt_usage_error(&p, "--ack-timeout must be positive");
	return p.ind + 2;
}

int
main(int argc, char **argv)
{
	struct reader *r;
	struct line line;
	enum reader_status st;
	int first = parse_options(argc, argv);

	stats_set_extra(stats_fields);
	r = reader_open(argv + first, argc - first, opt_common.max_line);
	natsconn_prepare(&conf.nats);
	confine_client();  /* before the first byte from a server */
	for (int i = first + 1; i < argc; i++)
		confine_still_readable("input", argv[i]);
	nc = natsconn_open(&conf.nats);
	if (conf.stream)
		open_stream();
	retry_init(&publishing, conf.nats.retry_for_ms);
	/* Wake up now and then to publish again what comes back, and to
	 * notice a connection lost for too long. */
	while ((st = reader_next(r, &line, 100)) != READER_EOF) {
		if (st == READER_TIMEOUT) {
			serve_returned(&publishing);
			natsconn_check();
			continue;
		}
		place_format(&line.place, where, sizeof where);
		if (st == READER_BAD) {
			stats_add(&stats.records_in, 1);
			reject_record(where, line.error, NULL, line.data,
			    line.len);
			continue;
		}
		take_line(&line);
	}
	settle_all(&publishing);
	writer_flush(&writer_stdout);
	reader_close(r);
	if (js)
		jsCtx_Destroy(js);
	natsconn_close(nc);
	msg_exit(EXIT_DONE);
}
