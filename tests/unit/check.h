/*
 * check.h - the smallest unit-test harness: each check prints "ok - title"
 * or "not ok - title" followed by "# detail" lines, which tests/run counts.
 * The exit status is 0: the counts carry the result.
 */
#ifndef ETL_CHECK_H
#define ETL_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

static inline int
check(int ok, const char *fmt, ...)
{
	va_list ap;

	fputs(ok ? "ok - " : "not ok - ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		check_failures++;
	return ok;
}

/* Compare two byte strings; on a difference print both. */
static inline int
check_bytes(const char *want, size_t wantlen, const char *got, size_t gotlen,
    const char *title)
{
	int ok = wantlen == gotlen && memcmp(want, got, gotlen) == 0;

	check(ok, "%s", title);
	if (!ok)
		printf("# expected (%zu bytes): %.*s\n# got (%zu bytes): %.*s\n",
		    wantlen, (int)(wantlen > 200 ? 200 : wantlen), want,
		    gotlen, (int)(gotlen > 200 ? 200 : gotlen), got);
	return ok;
}

#define CHECK_STR(want, got, title) \
	check_bytes((want), strlen(want), (got), strlen(got), (title))

#endif
