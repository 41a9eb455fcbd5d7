/*
 * natsconn.h - the NATS connection of etl-extract-nats and etl-load-nats.
 *
 * One place builds the client's options from the command line (URL list,
 * --creds, --token-file) and keeps the connection under the one retry
 * policy (lib/retry.h): the first connection is retried for --retry-for
 * and then is exit 69; a lost connection is re-established by the client
 * library, which asks us how long to wait before each round of attempts
 * (the same backoff with jitter), and once --retry-for has passed since it
 * was lost, natsconn_check() exits 75.  User and password in a URL never
 * reach a message: natsconn_where is the URL list without them.
 */
#ifndef ETL_NATSCONN_H
#define ETL_NATSCONN_H

#include <nats/nats.h>

struct natsconn_conf {
	const char *urls;         /* nats://[user:pass@]host:port[,...], tls:// too */
	const char *creds_path;   /* --creds FILE, or NULL */
	const char *token_path;   /* --token-file FILE, or NULL */
	long long retry_for_ms;   /* --retry-for */
};

extern char natsconn_where[256];  /* the URLs without credentials */

/* Start the client library and build the options: the secrets (--token-
 * file) are read here, so a program confines itself (lib/confine.h)
 * between this and natsconn_open. */
void natsconn_prepare(const struct natsconn_conf *conf);

/* Connect (natsconn_prepare first if the program did not; exit 69 when the server stays unreachable for --retry-for, 78
 * for a refused login or unreadable credentials). */
natsConnection *natsconn_open(const struct natsconn_conf *conf);

/* Close and free the connection (a close is not a lost connection). */
void natsconn_close(natsConnection *nc);

/* Exit 75 when the connection has been lost for longer than --retry-for. */
void natsconn_check(void);

/* Is the connection up now? */
int natsconn_up(void);

/* "what: the library's reason" for a failed call, for messages. */
const char *natsconn_error(natsStatus s);

#endif
