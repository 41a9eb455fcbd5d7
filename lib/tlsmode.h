/*
 * tlsmode.h - how much TLS a program asks of its connection to a server.
 *
 * The levels and their names are MySQL's ssl-mode, the best known set.  The
 * rule below holds for every program that talks to a server (etl-load-sql's
 * databases; the HTTP and NATS sinks' TLS options follow it too):
 *
 *   DISABLED         plain text.
 *   PREFERRED        TLS when the server offers it, else plain text.
 *   REQUIRED         an encrypted connection, or none.
 *   VERIFY_CA        REQUIRED, and the server's certificate chains to the
 *                    CA the user named.
 *   VERIFY_IDENTITY  VERIFY_CA, and the certificate names the host that was
 *                    connected to.
 *
 * - From REQUIRED up, a server that does not offer TLS is refused before
 *   any credential is sent to it, and the program checks again after
 *   connecting that the connection really is encrypted: a client
 *   library's "enforce" switch is not trusted on its word (MariaDB
 *   Connector/C's uses TLS only when the server offers it, MDEV-28634, so
 *   anyone on the path can strip it).
 * - A refusal is exit 69 (EXIT_UNAVAILABLE), not retried, with a message
 *   that says TLS was required and what failed.
 * - An unknown mode, a verifying mode without a CA, or a certificate
 *   option the mode does not use is a usage error (exit 64), found before
 *   anything connects.
 */
#ifndef ETL_TLSMODE_H
#define ETL_TLSMODE_H

enum tls_mode {
	TLS_MODE_DISABLED,
	TLS_MODE_PREFERRED,
	TLS_MODE_REQUIRED,
	TLS_MODE_VERIFY_CA,
	TLS_MODE_VERIFY_IDENTITY,
};

/* For messages: what tls_mode_parse takes. */
#define TLS_MODE_NAMES "DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY"

/* Parse a mode's name, in any case; -1 when S names none. */
int tls_mode_parse(const char *s, enum tls_mode *out);
const char *tls_mode_name(enum tls_mode mode);

#endif
