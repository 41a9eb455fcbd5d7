/* Unit tests for lib/dburl.c: every URL form, percent-decoding, broken or
 * hostile URLs refused with a reason that never holds the password, the
 * TLS parameters, and password files. */
#include "check.h"
#include "db.h"
#include "exitcode.h"

#include <stdlib.h>
#include <unistd.h>

static const char *
show(const char *s)
{
	return s ? s : "(null)";
}

static void
good(const char *url, enum dburl_scheme scheme, const char *user,
    const char *password, const char *host, int port, const char *database)
{
	struct dburl u;
	char err[256] = "";
	int rc = dburl_parse(url, &u, err, sizeof err);
	int ok = rc == 0 && u.scheme == scheme && u.port == port &&
	    strcmp(show(u.user), show(user)) == 0 &&
	    strcmp(show(u.password), show(password)) == 0 &&
	    strcmp(show(u.host), show(host)) == 0 &&
	    strcmp(show(u.database), show(database)) == 0;

	check(ok, "parses %s", url);
	if (!ok && rc == 0)
		printf("# user %s password %s host %s port %d database %s\n",
		    show(u.user), show(u.password), show(u.host), u.port,
		    show(u.database));
	else if (!ok)
		printf("# error: %s\n", err);
	if (rc == 0)
		dburl_free(&u);
}

static void
bad(const char *url, const char *want)
{
	struct dburl u;
	char err[256] = "";
	int rc = dburl_parse(url, &u, err, sizeof err);

	check(rc == -1 && strcmp(err, want) == 0, "refuses %s: %s", url, want);
	if (rc == 0)
		dburl_free(&u);
	else if (strcmp(err, want) != 0)
		printf("# got: %s\n", err);
	check(strstr(err, "s3cret") == NULL, "the message for %s hides the password", url);
}

static void
tls_mode(const char *url, enum tls_mode want)
{
	struct dburl u;
	char err[256] = "";
	int ok = dburl_parse(url, &u, err, sizeof err) == 0;

	check(ok && u.tls == want, "%s means ssl-mode %s", url, tls_mode_name(want));
	if (!ok)
		printf("# error: %s\n", err);
	else
		dburl_free(&u);
}

/* Write TEXT[0..N) to a file, read it as ?password-file=: the exit code,
 * and the password read. */
static int
password_from(const char *text, size_t n, char **password)
{
	char path[] = "/tmp/etl-test-dburl.XXXXXX", url[256], err[256];
	int fd = mkstemp(path), rc;
	struct dburl u;

	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		return -1;
	close(fd);
	snprintf(url, sizeof url, "mysql://etl@h/d?password-file=%s", path);
	if (dburl_parse(url, &u, err, sizeof err) != 0) {
		printf("# error: %s\n", err);
		unlink(path);
		return -1;
	}
	rc = dburl_read_password_file(&u, err, sizeof err);
	*password = rc == 0 && u.password ? strdup(u.password) : NULL;
	if (rc != 0)
		printf("# %s\n", err);
	dburl_free(&u);
	unlink(path);
	return rc;
}

static void
tls_and_password_files(void)
{
	struct dburl u;
	char err[256], *pw = NULL, *big;

	tls_mode("mysql://u@h/d", TLS_MODE_PREFERRED);
	tls_mode("mysql://u@h/d?ssl-mode=DISABLED", TLS_MODE_DISABLED);
	tls_mode("mysql://u@h/d?ssl-mode=required", TLS_MODE_REQUIRED);
	tls_mode("mysql://u@h/d?ssl-mode=VERIFY_CA&ssl-ca=/ca.pem", TLS_MODE_VERIFY_CA);
	tls_mode("mariadb://u@h/d?ssl-capath=/certs&ssl-mode=Verify_Identity",
	    TLS_MODE_VERIFY_IDENTITY);
	tls_mode("mysql://u@h/d?ssl-mode=REQUIRED&ssl-cert=/c.pem&ssl-key=/k.pem",
	    TLS_MODE_REQUIRED);
	tls_mode("mysql://u@h/d?ssl-mode=BOGUS&ssl-mode=REQUIRED", TLS_MODE_REQUIRED);
	bad("mysql://u:s3cret@h/d?ssl-mode=BOGUS", "ssl-mode: unknown value \"BOGUS\""
	    " (expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY)");
	bad("mysql://u:s3cret@h/d?ssl-mode=", "ssl-mode: unknown value \"\""
	    " (expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY)");
	bad("mysql://u:s3cret@h/d?ssl-mode=VERIFY_CA", "ssl-mode=VERIFY_CA needs"
	    " ssl-ca= (or ssl-capath=): the CA to verify the server's certificate with");
	bad("mysql://u:s3cret@h/d?ssl-mode=verify_identity", "ssl-mode=VERIFY_IDENTITY"
	    " needs ssl-ca= (or ssl-capath=): the CA to verify the server's certificate with");
	bad("mysql://u:s3cret@h/d?ssl-mode=REQUIRED&ssl-ca=/ca.pem", "ssl-ca= is used"
	    " only by ssl-mode=VERIFY_CA or VERIFY_IDENTITY (ssl-mode=REQUIRED verifies"
	    " no certificate)");
	bad("mysql://u:s3cret@h/d?ssl-capath=/certs", "ssl-capath= is used"
	    " only by ssl-mode=VERIFY_CA or VERIFY_IDENTITY (ssl-mode=PREFERRED verifies"
	    " no certificate)");
	bad("mysql://u:s3cret@h/d?ssl-mode=DISABLED&ssl-key=/k.pem", "a client"
	    " certificate (ssl-cert=, ssl-key=) needs TLS: not with ssl-mode=DISABLED");
	bad("mysql://u:s3cret@h/d?ssl-mode=VERIFY_CA&ssl-ca=", "ssl-ca= names no file");
	bad("mysql://u:s3cret@h/d?sslmode=require", "unknown TLS parameter \"sslmode\""
	    " (expected ssl-mode, ssl-ca, ssl-capath, ssl-cert or ssl-key)");
	bad("mysql://u:s3cret@h/d?ssl=true", "unknown TLS parameter \"ssl\""
	    " (expected ssl-mode, ssl-ca, ssl-capath, ssl-cert or ssl-key)");
	bad("mariadb://u:s3cret@h/d?TLS=1", "unknown TLS parameter \"TLS\""
	    " (expected ssl-mode, ssl-ca, ssl-capath, ssl-cert or ssl-key)");
	bad("postgresql://u:s3cret@h/d?sslmode=bogus", "sslmode: unknown value"
	    " \"bogus\" (expected disable, allow, prefer, require, verify-ca or verify-full)");
	bad("postgresql://u:s3cret@h/d?sslmode=REQUIRE", "sslmode: unknown value"
	    " \"REQUIRE\" (expected disable, allow, prefer, require, verify-ca or verify-full)");
	good("postgresql://u@h/d?sslmode=verify-full&sslrootcert=/ca.pem",
	    DBURL_POSTGRES, "u", NULL, "h", 0, "d");

	bad("mysql://u:s3cret@h/d?password-file=/run/pw", "a password in the URL"
	    " and a password-file=: give one");
	bad("sqlite:x.db?password-file=/run/pw", "password-file=: an SQLite"
	    " database has no password");
	bad("postgresql://u@h/d?password-file=", "password-file= names no file");
	if (dburl_parse("postgresql://u@h/d?password-file=/a&sslmode=require&password-file=/b",
	    &u, err, sizeof err) == 0) {
		CHECK_STR("/b", show(u.password_file), "the last password-file= wins");
		check(u.nparams == 1 && strcmp(u.params[0].key, "sslmode") == 0,
		    "password-file= is taken out of the parameters libpq sees");
		check(dburl_read_password_file(&u, err, sizeof err) == EXIT_NOINPUT,
		    "a missing password file is exit 66");
		dburl_free(&u);
	}
	check(password_from("s3cret pass\n", 12, &pw) == 0 && pw &&
	    strcmp(pw, "s3cret pass") == 0, "a password file's final newline is dropped");
	free(pw);
	check(password_from("p\r\n", 3, &pw) == 0 && pw && strcmp(pw, "p") == 0,
	    "and a final CRLF");
	free(pw);
	check(password_from("", 0, &pw) == 0 && pw && *pw == '\0',
	    "an empty file is an empty password");
	free(pw);
	check(password_from("a\nb\n", 4, &pw) == EXIT_CONFIG, "two lines are refused (78)");
	check(password_from("a\0b", 3, &pw) == EXIT_CONFIG, "a NUL byte is refused (78)");
	/* 64 KiB is the most: across the boundary, with and without a newline */
	big = malloc(64 * 1024 + 2);
	memset(big, 'k', 64 * 1024 + 2);
	big[64 * 1024] = '\n';
	check(password_from(big, 64 * 1024 + 1, &pw) == 0 && pw &&
	    strlen(pw) == 64 * 1024, "a 64 KiB password (and newline) is read whole");
	free(pw);
	check(password_from(big, 64 * 1024 + 2, &pw) == EXIT_CONFIG,
	    "64 KiB, a newline and more is refused");
	memset(big, 'k', 64 * 1024 + 2);
	check(password_from(big, 64 * 1024 + 1, &pw) == EXIT_CONFIG,
	    "a password of 64 KiB + 1 is refused");
	free(big);
}

int
main(void)
{
	struct dburl u;
	char err[256];

	good("postgresql://etl:etl%20pass%3A%2F%40@127.0.0.1:5432/etl_test",
	    DBURL_POSTGRES, "etl", "etl pass:/@", "127.0.0.1", 5432, "etl_test");
	good("postgres://localhost/db", DBURL_POSTGRES, NULL, NULL, "localhost", 0, "db");
	good("postgresql:///db?host=/var/run/postgresql", DBURL_POSTGRES, NULL,
	    NULL, NULL, 0, "db");
	good("postgresql://u@[::1]:6543/d", DBURL_POSTGRES, "u", NULL, "::1", 6543, "d");
	good("postgresql://u:p@w@h/d", DBURL_POSTGRES, "u", "p@w", "h", 0, "d");
	good("mysql://root:pw@db.example:3306/shop", DBURL_MYSQL, "root", "pw",
	    "db.example", 3306, "shop");
	good("mariadb://u:p@h/d?ssl-mode=REQUIRED", DBURL_MYSQL, "u", "p", "h", 0, "d");
	good("mysql://u@localhost/d?socket=/tmp/my.sock", DBURL_MYSQL, "u", NULL,
	    "localhost", 0, "d");
	good("sqlite:///var/lib/etl/orders.db", DBURL_SQLITE, NULL, NULL, NULL, 0,
	    "/var/lib/etl/orders.db");
	good("sqlite:orders.db", DBURL_SQLITE, NULL, NULL, NULL, 0, "orders.db");
	good("sqlite://orders.db", DBURL_SQLITE, NULL, NULL, NULL, 0, "orders.db");
	good("sqlite:my%20file.db", DBURL_SQLITE, NULL, NULL, NULL, 0, "my file.db");

	if (dburl_parse("mysql://u@h/d?socket=/tmp/my.sock&ssl-mode=DISABLED&x=1&x=2",
	    &u, err, sizeof err) == 0) {
		CHECK_STR("/tmp/my.sock", show(dburl_param(&u, "socket")), "query parameters are read");
		CHECK_STR("2", show(dburl_param(&u, "x")), "the last repeated parameter wins");
		check(dburl_param(&u, "nope") == NULL, "an absent parameter is NULL");
		dburl_free(&u);
	}
	if (dburl_parse("postgresql://etl:s3cret@h:1/d", &u, err, sizeof err) == 0) {
		CHECK_STR("postgresql://etl:***@h:1/d", u.redacted, "the redacted URL hides the password");
		dburl_free(&u);
	}

	bad("", "no database URL (give one, or set DATABASE_URL)");
	bad("oracle://u:s3cret@h/d", "unknown scheme (expected postgresql://, mysql://, mariadb:// or sqlite:)");
	bad("orders.db", "unknown scheme (expected postgresql://, mysql://, mariadb:// or sqlite:)");
	bad("postgresql://u:s3cret@h:99999/d", "port out of range");
	bad("postgresql://u:s3cret@h:0/d", "port out of range");
	bad("postgresql://u:s3cret@h:5x/d", "port is not a number");
	bad("postgresql://u:s3cret@h:/d", "empty port");
	bad("postgresql://u:s3cr%zzet@h/d", "malformed percent-encoding in the password");
	bad("postgresql://u:s3cret@h/d%", "malformed percent-encoding in the database name");
	bad("postgresql://u:s3cret@h/a%00b", "malformed percent-encoding in the database name");
	bad("postgresql://u:s3cret@[::1/d", "unclosed '[' in the host");
	bad("postgresql://u:s3cret@h/d/e", "the database name holds a '/'");
	bad("postgresql://u:s3cret@h/d?novalue", "query parameter without key=value");
	bad("postgresql://u:s3cret@h/d#frag", "a fragment (#) has no meaning here");
	bad("sqlite:", "no database file after sqlite:");
	bad("sqlite://", "no database file after sqlite:");
	{
		/* A hostile, huge URL: refused or parsed, never a crash. */
		size_t n = 1 << 20;
		char *huge = malloc(n + 32);

		strcpy(huge, "mysql://");
		memset(huge + 8, '%', n);
		huge[n + 8] = '\0';
		check(dburl_parse(huge, &u, err, sizeof err) == -1,
		    "a 1 MB URL of '%%' is refused");
		free(huge);
	}
	tls_and_password_files();
	return 0;
}
