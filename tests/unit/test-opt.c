/* Unit tests for lib/opt.c's blanking of passwords on the command line:
 * every password form is overwritten in place, byte for byte, and nothing
 * else is touched. */
#include "check.h"
#include "opt.h"

static void
blanks(const char *arg, const char *want, int count)
{
	char s[512];
	int n;

	snprintf(s, sizeof s, "%s", arg);
	n = opt_blank_passwords(s);
	check(n == count && strcmp(s, want) == 0, "%s -> %s", arg, want);
	if (n != count || strcmp(s, want) != 0)
		printf("# got %d: %s\n", n, s);
}

int
main(void)
{
	blanks("mysql://etl:s3cret@127.0.0.1:3306/db?ssl-mode=REQUIRED",
	    "mysql://etl:xxxxxx@127.0.0.1:3306/db?ssl-mode=REQUIRED", 1);
	blanks("postgresql://etl:etl%20pass%3A%2F%40@127.0.0.1:5432/etl_test",
	    "postgresql://etl:xxxxxxxxxxxxxxxxxxx@127.0.0.1:5432/etl_test", 1);
	blanks("mysql://u:p@w@h/d", "mysql://u:xxx@h/d", 1);
	blanks("mysql://u:p:q@h", "mysql://u:xxx@h", 1);
	blanks("nats://a:b@h1:4222,nats://c:dd@h2:4222",
	    "nats://a:x@h1:4222,nats://c:xx@h2:4222", 2);
	blanks("--url=https://user:tok@example.com/in",
	    "--url=https://user:xxx@example.com/in", 1);
	blanks("postgresql://h/db?sslmode=require&password=s3cret&x=1",
	    "postgresql://h/db?sslmode=require&password=xxxxxx&x=1", 1);
	blanks("postgresql://h/db?password=s3cret", "postgresql://h/db?password=xxxxxx", 1);
	/* no password: left alone */
	blanks("mysql://etl@127.0.0.1/db", "mysql://etl@127.0.0.1/db", 0);
	blanks("mysql://u:@h/d", "mysql://u:@h/d", 0);
	blanks("http://h:8080/a@b", "http://h:8080/a@b", 0);
	blanks("sqlite:///var/lib/etl.db", "sqlite:///var/lib/etl.db", 0);
	blanks("orders.ndjson", "orders.ndjson", 0);
	blanks("a://", "a://", 0);
	blanks(":///x:y@z", ":///x:y@z", 0);
	blanks("?password-file=/run/pw", "?password-file=/run/pw", 0);
	blanks("mysql://h/d?ssl-password=p", "mysql://h/d?ssl-password=p", 0);
	return 0;
}
