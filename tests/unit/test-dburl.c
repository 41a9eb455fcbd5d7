/* Unit tests for lib/dburl.c: every URL form, percent-decoding, and
 * broken or hostile URLs refused with a reason that never holds the
 * password. */
#include "check.h"
#include "db.h"

#include <stdlib.h>

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
	return 0;
}
