/* natsconn.c - options, connection and reconnection for NATS (see natsconn.h). */
#include "natsconn.h"
#include "secret.h"
#include "buf.h"
#include "confine.h"
#include "exitcode.h"
#include "msg.h"
#include "retry.h"
#include "stats.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char natsconn_where[256];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct retry reconnecting;   /* the current run of lost connections */
static atomic_int gave_up;          /* lost for longer than --retry-for */
static atomic_int up;
static atomic_int closing;

/* URLS with "user:pass@" dropped from each, into natsconn_where. */
static void
redact(const char *urls)
{
	struct buf b = BUF_INIT;
	const char *p = urls;

	while (*p) {
		size_t n = strcspn(p, ",");
		const char *scheme = strstr(p, "://"), *at;

		if (scheme && scheme < p + n)
			scheme += 3;
		else
			scheme = p;
		at = memchr(scheme, '@', p + n - scheme);
		buf_add(&b, p, scheme - p);
		if (at)
			scheme = at + 1;
		buf_add(&b, scheme, p + n - scheme);
		p += n;
		if (*p == ',')
			buf_addc(&b, *p++);
	}
	snprintf(natsconn_where, sizeof natsconn_where, "%.*s", (int)b.len, b.data ? b.data : "");
	buf_free(&b);
}

const char *
natsconn_error(natsStatus s)
{
	static _Thread_local char text[512];
	const char *last = nats_GetLastError(NULL);

	snprintf(text, sizeof text, "%s", last && *last ? last : natsStatus_GetText(s));
	return text;
}

/* The client library's reconnecting thread asks how long to wait before
 * its next round of attempts: the shared policy's delay. */
static int64_t
reconnect_delay(natsConnection *nc, int attempts, void *arg)
{
	long ms;

	(void)nc;
	(void)attempts;
	(void)arg;
	pthread_mutex_lock(&lock);
	ms = retry_failed(&reconnecting, 0);
	pthread_mutex_unlock(&lock);
	if (ms < 0) {
		atomic_store(&gave_up, 1);
		ms = 1000;  /* natsconn_check exits; keep trying until then */
	}
	return ms;
}

static void
disconnected(natsConnection *nc, void *arg)
{
	(void)nc;
	(void)arg;
	if (!atomic_exchange(&up, 0) || atomic_load(&closing))
		return;
	pthread_mutex_lock(&lock);
	retry_init(&reconnecting, reconnecting.limit_ms);
	retry_failed(&reconnecting, 0);  /* the run starts now */
	pthread_mutex_unlock(&lock);
	msg_warn(natsconn_where, "connection lost; reconnecting");
}

static void
reconnected(natsConnection *nc, void *arg)
{
	(void)nc;
	(void)arg;
	pthread_mutex_lock(&lock);
	retry_succeeded(&reconnecting);
	pthread_mutex_unlock(&lock);
	atomic_store(&up, 1);
	msg_info(natsconn_where, "reconnected");
}

/* URLS, one URL or a comma-separated list of a cluster's servers: the
 * client library takes a list only as an array, and then connects to any
 * of them and reconnects to another when one goes away. */
static natsStatus
set_servers(natsOptions *o, const char *urls)
{
	const char *servers[64];
	char *copy, *save = NULL;
	int n = 0;
	natsStatus s;

	if (!strchr(urls, ','))
		return natsOptions_SetURL(o, urls);
	if (!(copy = strdup(urls)))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		if (n == 64)
			msg_die(EXIT_USAGE, natsconn_where, "more than 64 server URLs");
		servers[n++] = u;
	}
	s = n ? natsOptions_SetServers(o, servers, n) : NATS_INVALID_ARG;
	free(copy);
	return s;
}

static natsOptions *
build_options(const struct natsconn_conf *conf)
{
	natsOptions *o;
	natsStatus s;

	if (natsOptions_Create(&o) != NATS_OK)
		msg_die(EXIT_SOFTWARE, NULL, "cannot create the NATS options");
	s = set_servers(o, conf->urls);
	if (s != NATS_OK)
		msg_die(EXIT_USAGE, natsconn_where, "bad URL: %s", natsconn_error(s));
	natsOptions_SetName(o, msg_program);
	if (conf->token_path) {
		char *token = secret_read(conf->token_path, NULL);

		natsOptions_SetToken(o, token);
		free(token);
	}
	if (conf->creds_path) {
		FILE *f = fopen(conf->creds_path, "r");

		if (!f)
			msg_die(errno == ENOENT ? EXIT_NOINPUT : EXIT_CONFIG, conf->creds_path,
			    "%s", strerror(errno));
		fclose(f);
		if (natsOptions_SetUserCredentialsFromFiles(o, conf->creds_path, NULL) != NATS_OK)
			msg_die(EXIT_CONFIG, conf->creds_path, "%s", natsconn_error(NATS_ERR));
	}
	natsOptions_SetTimeout(o, 5000);
	natsOptions_SetAllowReconnect(o, true);
	natsOptions_SetMaxReconnect(o, -1);
	natsOptions_SetCustomReconnectDelay(o, reconnect_delay, NULL);
	natsOptions_SetReconnectBufSize(o, 32 << 20);
	natsOptions_SetDisconnectedCB(o, disconnected, NULL);
	natsOptions_SetReconnectedCB(o, reconnected, NULL);
	natsOptions_SetPingInterval(o, 2000);  /* notice a dead server soon */
	natsOptions_SetMaxPingsOut(o, 3);
	return o;
}

static natsOptions *prepared;

void
natsconn_prepare(const struct natsconn_conf *conf)
{
	redact(conf->urls);
	if (nats_Open(-1) != NATS_OK)
		msg_die(EXIT_SOFTWARE, NULL, "cannot start the NATS client library");
	prepared = build_options(conf);
}

natsConnection *
natsconn_open(const struct natsconn_conf *conf)
{
	natsConnection *nc = NULL;
	natsOptions *o;
	natsStatus s;
	struct retry r;

	if (!prepared)
		natsconn_prepare(conf);
	o = prepared;
	prepared = NULL;
	/* The client library reads it again on each connection. */
	confine_still_readable("--creds", conf->creds_path);
	retry_init(&reconnecting, conf->retry_for_ms);
	retry_init(&r, conf->retry_for_ms);
	while ((s = natsConnection_Connect(&nc, o)) != NATS_OK) {
		long delay;

		if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED)
			msg_die(EXIT_CONFIG, natsconn_where, "%s", natsconn_error(s));
		if (s != NATS_NO_SERVER && s != NATS_TIMEOUT && s != NATS_IO_ERROR &&
		    s != NATS_CONNECTION_CLOSED)
			msg_die(EXIT_UNAVAILABLE, natsconn_where, "%s", natsconn_error(s));
		if ((delay = retry_failed(&r, 0)) < 0)
			msg_die(EXIT_UNAVAILABLE, natsconn_where, "%s", natsconn_error(s));
		msg_warn(natsconn_where, "%s; retrying in %ld ms", natsconn_error(s), delay);
		retry_sleep_ms(delay);
	}
	natsOptions_Destroy(o);
	atomic_store(&up, 1);
	msg_info(natsconn_where, "connected");
	return nc;
}

void
natsconn_check(void)
{
	if (atomic_load(&gave_up))
		msg_die(EXIT_TEMPFAIL, natsconn_where,
		    "the connection is still lost after --retry-for");
}

int
natsconn_up(void)
{
	return atomic_load(&up);
}

void
natsconn_close(natsConnection *nc)
{
	atomic_store(&closing, 1);
	natsConnection_Close(nc);
	natsConnection_Destroy(nc);
}
