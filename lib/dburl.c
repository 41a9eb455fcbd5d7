/*
 * dburl.c - parse DATABASE_URL.
 *
 *   postgres[ql]://user:password@host:port/database?key=value&...
 *   mysql://… and mariadb://… (same shape)
 *   sqlite:///absolute/path.db, sqlite:relative.db, sqlite://relative.db
 *
 * Credentials and other parts are percent-decoded.  A host in brackets is
 * an IPv6 address.  A message about a bad URL never holds the password:
 * callers print u->redacted.  Parsing is a pure function of its input, and
 * a fuzz target; only dburl_read_password_file reads a file.
 */
#include "db.h"
#include "exitcode.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The longest password a password file may hold: room for cloud IAM
 * tokens, which run to a few KB. */
enum { PASSWORD_MAX = 64 * 1024 };

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode P[0..N) into a new string; NULL if malformed or if it
 * decodes to a NUL byte (which no C client library can take). */
static char *
decode(const char *p, size_t n)
{
	char *s = malloc(n + 1), *o = s;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (p[i] != '%') {
			*o++ = p[i];
			continue;
		}
		if (i + 3 > n || (hi = hex_digit((unsigned char)p[i + 1])) < 0 ||
		    (lo = hex_digit((unsigned char)p[i + 2])) < 0 || (hi | lo) == 0) {
			free(s);
			return NULL;
		}
		*o++ = (char)(hi << 4 | lo);
		i += 2;
	}
	*o = '\0';
	return s;
}

static int
fail(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return -1;
}

/* Decode P[0..N) into *OUT, or fail naming WHAT. */
static int
decode_part(const char *p, size_t n, char **out, const char *what, char *err,
    size_t errsize)
{
	if (!(*out = decode(p, n)))
		return fail(err, errsize, "malformed percent-encoding in the %s", what);
	return 0;
}

static int
parse_params(const char *q, struct dburl *u, char *err, size_t errsize)
{
	while (*q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
		const char *eq = memchr(q, '=', end - q);
		struct dburl_param *p;

		if (end == q) {
			q++;
			continue;
		}
		if (!eq || eq == q)
			return fail(err, errsize, "query parameter without key=value");
		p = realloc(u->params, (u->nparams + 1) * sizeof *p);
		if (!p)
			return fail(err, errsize, "out of memory");
		u->params = p;
		p += u->nparams++;
		p->key = p->value = NULL;
		if (decode_part(q, eq - q, &p->key, "query", err, errsize) ||
		    decode_part(eq + 1, end - eq - 1, &p->value, "query", err, errsize))
			return -1;
		q = amp ? amp + 1 : end;
	}
	return 0;
}

/* host[:port] or [v6][:port] from P[0..N). */
static int
parse_host_port(const char *p, size_t n, struct dburl *u, char *err,
    size_t errsize)
{
	const char *end = p + n, *colon;

	if (n && *p == '[') {
		const char *close = memchr(p, ']', n);

		if (!close)
			return fail(err, errsize, "unclosed '[' in the host");
		if (decode_part(p + 1, close - p - 1, &u->host, "host", err, errsize))
			return -1;
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
		if (!colon && close + 1 != end)
			return fail(err, errsize, "unexpected text after ']'");
	} else {
		colon = memchr(p, ':', n);
		if ((colon ? colon : end) > p &&
		    decode_part(p, (colon ? colon : end) - p, &u->host, "host", err, errsize))
			return -1;
	}
	if (colon) {
		long port = 0;
		const char *d = colon + 1;

		if (d == end)
			return fail(err, errsize, "empty port");
		for (; d < end; d++) {
			if (!isdigit((unsigned char)*d))
				return fail(err, errsize, "port is not a number");
			port = port * 10 + (*d - '0');
			if (port > 65535)
				return fail(err, errsize, "port out of range");
		}
		if (port == 0)
			return fail(err, errsize, "port out of range");
		u->port = (int)port;
	}
	return 0;
}

/* The part after "scheme://". */
static int
parse_server_url(const char *rest, struct dburl *u, char *err, size_t errsize)
{
	const char *end = rest + strcspn(rest, "/?#");
	const char *at = NULL, *path, *query;

	for (const char *p = rest; p < end; p++)
		if (*p == '@')
			at = p;  /* the last '@': an unencoded one may sit in the password */
	if (at) {
		const char *colon = memchr(rest, ':', at - rest);
		const char *user_end = colon ? colon : at;

		if (user_end > rest &&
		    decode_part(rest, user_end - rest, &u->user, "user name", err, errsize))
			return -1;
		if (colon && decode_part(colon + 1, at - colon - 1, &u->password,
		    "password", err, errsize))
			return -1;
		rest = at + 1;
	}
	if (parse_host_port(rest, end - rest, u, err, errsize))
		return -1;
	if (*end == '#')
		return fail(err, errsize, "a fragment (#) has no meaning here");
	path = *end == '/' ? end + 1 : end;
	query = strchr(path, '?');
	if (strchr(path, '#'))
		return fail(err, errsize, "a fragment (#) has no meaning here");
	{
		size_t n = query ? (size_t)(query - path) : strlen(path);

		if (n && decode_part(path, n, &u->database, "database name", err, errsize))
			return -1;
		if (u->database && strchr(u->database, '/'))
			return fail(err, errsize, "the database name holds a '/'");
	}
	return query ? parse_params(query + 1, u, err, errsize) : 0;
}

static int
parse_sqlite(const char *rest, struct dburl *u, char *err, size_t errsize)
{
	const char *query = strchr(rest, '?');
	size_t n;

	/* sqlite:///abs → "/abs"; sqlite://rel → "rel"; sqlite:rel → "rel" */
	if (strncmp(rest, "//", 2) == 0)
		rest += 2;
	n = query ? (size_t)(query - rest) : strlen(rest);
	if (n == 0)
		return fail(err, errsize, "no database file after sqlite:");
	if (decode_part(rest, n, &u->database, "file name", err, errsize))
		return -1;
	return query ? parse_params(query + 1, u, err, errsize) : 0;
}

/*
 * ?password-file=PATH keeps the password off the command line: it is
 * taken out of the parameters (no client library knows the key) and read
 * by dburl_read_password_file.
 */
static int
take_password_file(struct dburl *u, char *err, size_t errsize)
{
	int kept = 0;

	for (int i = 0; i < u->nparams; i++) {
		struct dburl_param *p = &u->params[i];

		if (strcmp(p->key, "password-file") != 0) {
			u->params[kept++] = *p;
			continue;
		}
		free(u->password_file);  /* the last one given wins */
		u->password_file = p->value;
		free(p->key);
	}
	u->nparams = kept;
	if (!u->password_file)
		return 0;
	if (u->scheme == DBURL_SQLITE)
		return fail(err, errsize, "password-file=: an SQLite database has no password");
	if (!*u->password_file)
		return fail(err, errsize, "password-file= names no file");
	if (u->password)
		return fail(err, errsize, "a password in the URL and a password-file=: give one");
	return 0;
}

static int
is_tls_key(const char *key)
{
	return strncasecmp(key, "ssl", 3) == 0 || strncasecmp(key, "tls", 3) == 0;
}

/*
 * MySQL/MariaDB's TLS parameters (the rule is lib/tlsmode.h's): ssl-mode
 * with MySQL's names, PREFERRED when absent as in MySQL's own clients;
 * ssl-ca or ssl-capath, the CA to verify the server with, only for the
 * modes that verify and required by them; ssl-cert and ssl-key, a client
 * certificate, for any mode but DISABLED.  Any other ssl* or tls* key is
 * refused, so that a PostgreSQL spelling (sslmode=require) or another
 * client's never silently means plain text.
 */
static int
check_mysql_tls(struct dburl *u, char *err, size_t errsize)
{
	static const char *const keys[] = {
		"ssl-mode", "ssl-ca", "ssl-capath", "ssl-cert", "ssl-key",
	};
	const char *mode = dburl_param(u, "ssl-mode");
	const char *ca = dburl_param(u, "ssl-ca"), *capath = dburl_param(u, "ssl-capath");

	for (int i = 0; i < u->nparams; i++) {
		const char *key = u->params[i].key;
		size_t k = 0;

		if (!is_tls_key(key))
			continue;
		while (k < sizeof keys / sizeof keys[0] && strcmp(key, keys[k]) != 0)
			k++;
		if (k == sizeof keys / sizeof keys[0])
			return fail(err, errsize, "unknown TLS parameter \"%.40s\" (expected"
			    " ssl-mode, ssl-ca, ssl-capath, ssl-cert or ssl-key)", key);
		if (k > 0 && !*u->params[i].value)
			return fail(err, errsize, "%s= names no file", key);
	}
	u->tls = TLS_MODE_PREFERRED;
	if (mode && tls_mode_parse(mode, &u->tls) != 0)
		return fail(err, errsize, "ssl-mode: unknown value \"%.40s\" (expected "
		    TLS_MODE_NAMES ")", mode);
	if (u->tls >= TLS_MODE_VERIFY_CA && !ca && !capath)
		return fail(err, errsize, "ssl-mode=%s needs ssl-ca= (or ssl-capath=):"
		    " the CA to verify the server's certificate with", tls_mode_name(u->tls));
	if (u->tls < TLS_MODE_VERIFY_CA && (ca || capath))
		return fail(err, errsize, "%s= is used only by ssl-mode=VERIFY_CA or"
		    " VERIFY_IDENTITY (ssl-mode=%s verifies no certificate)",
		    ca ? "ssl-ca" : "ssl-capath", tls_mode_name(u->tls));
	if (u->tls == TLS_MODE_DISABLED &&
	    (dburl_param(u, "ssl-cert") || dburl_param(u, "ssl-key")))
		return fail(err, errsize, "a client certificate (ssl-cert=, ssl-key=)"
		    " needs TLS: not with ssl-mode=DISABLED");
	return 0;
}

/* PostgreSQL: libpq checks its own keywords, but an unknown sslmode is a
 * usage error here rather than a failed connection. */
static int
check_postgres_tls(const struct dburl *u, char *err, size_t errsize)
{
	static const char *const modes[] = {
		"disable", "allow", "prefer", "require", "verify-ca", "verify-full",
	};
	const char *mode = dburl_param(u, "sslmode");

	if (!mode)
		return 0;
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(mode, modes[i]) == 0)
			return 0;
	return fail(err, errsize, "sslmode: unknown value \"%.40s\" (expected disable,"
	    " allow, prefer, require, verify-ca or verify-full)", mode);
}

static int
check_params(struct dburl *u, char *err, size_t errsize)
{
	if (take_password_file(u, err, errsize))
		return -1;
	switch (u->scheme) {
	case DBURL_MYSQL: return check_mysql_tls(u, err, errsize);
	case DBURL_POSTGRES: return check_postgres_tls(u, err, errsize);
	case DBURL_SQLITE: return 0;
	}
	return 0;
}

static char *
redact(const char *url, const struct dburl *u)
{
	const char *scheme_end = strstr(url, "://");
	const char *at, *colon;
	size_t n = strlen(url);
	char *s;

	if (!u->password || !scheme_end)
		return strdup(url);
	at = strrchr(scheme_end + 3, '@');
	colon = at ? memchr(scheme_end + 3, ':', at - scheme_end - 3) : NULL;
	if (!colon)
		return strdup(url);
	if (!(s = malloc(n + 4)))
		return NULL;
	snprintf(s, n + 4, "%.*s:***%s", (int)(colon - url), url, at);
	return s;
}

int
dburl_parse(const char *url, struct dburl *u, char *err, size_t errsize)
{
	static const struct { const char *prefix; enum dburl_scheme scheme; } schemes[] = {
		{ "postgresql://", DBURL_POSTGRES }, { "postgres://", DBURL_POSTGRES },
		{ "mysql://", DBURL_MYSQL }, { "mariadb://", DBURL_MYSQL },
		{ "sqlite:", DBURL_SQLITE },
	};
	int rc;

	memset(u, 0, sizeof *u);
	if (!url || !*url)
		return fail(err, errsize, "no database URL (give one, or set DATABASE_URL)");
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t n = strlen(schemes[i].prefix);

		if (strncmp(url, schemes[i].prefix, n) != 0)
			continue;
		u->scheme = schemes[i].scheme;
		rc = u->scheme == DBURL_SQLITE
		    ? parse_sqlite(url + n, u, err, errsize)
		    : parse_server_url(url + n, u, err, errsize);
		if (rc == 0)
			rc = check_params(u, err, errsize);
		if (rc == 0 && !(u->redacted = redact(url, u)))
			rc = fail(err, errsize, "out of memory");
		if (rc != 0)
			dburl_free(u);
		return rc;
	}
	return fail(err, errsize, "unknown scheme (expected postgresql://,"
	    " mysql://, mariadb:// or sqlite:)");
}

void
dburl_free(struct dburl *u)
{
	free(u->user);
	free(u->password);
	free(u->host);
	free(u->database);
	for (int i = 0; i < u->nparams; i++) {
		free(u->params[i].key);
		free(u->params[i].value);
	}
	free(u->params);
	free(u->redacted);
	free(u->password_file);
	memset(u, 0, sizeof *u);
}

int
dburl_read_password_file(struct dburl *u, char *err, size_t errsize)
{
	FILE *f;
	char *text;
	size_t n;
	int failed;

	if (!u->password_file)
		return 0;
	if (!(f = fopen(u->password_file, "r"))) {
		fail(err, errsize, "%s", strerror(errno));
		return EXIT_NOINPUT;
	}
	if (!(text = malloc(PASSWORD_MAX + 2))) {
		fclose(f);
		fail(err, errsize, "out of memory");
		return EXIT_CONFIG;
	}
	n = fread(text, 1, PASSWORD_MAX + 2, f);
	failed = ferror(f);
	fclose(f);
	if (failed) {
		free(text);
		fail(err, errsize, "%s", strerror(errno));  /* EISDIR, EIO */
		return EXIT_NOINPUT;
	}
	if (n > 0 && text[n - 1] == '\n')
		n--;
	if (n > 0 && text[n - 1] == '\r')
		n--;
	failed = n > PASSWORD_MAX ? fail(err, errsize, "a password file holds at most"
	    " %d bytes", PASSWORD_MAX)
	    : memchr(text, '\n', n) ? fail(err, errsize, "a password file holds one"
	    " line: the password")
	    : memchr(text, '\0', n) ? fail(err, errsize, "the password holds a NUL byte")
	    : 0;
	if (!failed) {
		text[n] = '\0';
		free(u->password);
		u->password = text;
		return 0;
	}
	free(text);
	return EXIT_CONFIG;
}

const char *
dburl_param(const struct dburl *u, const char *key)
{
	for (int i = u->nparams - 1; i >= 0; i--)
		if (strcmp(u->params[i].key, key) == 0)
			return u->params[i].value;
	return NULL;
}

const char *const dburl_file_keys[] = {
	"sslrootcert", "sslcert", "sslkey", "sslcrl", "sslcrldir", "passfile",  /* libpq */
	"ssl-ca", "ssl-capath", "ssl-cert", "ssl-key",                          /* MariaDB */
	NULL
};
