/*
 * check.h - the smallest unit-test harness: each check prints "ok - title"
 * or "not ok - title" followed by "# detail" lines, which tests/run counts.
 * The exit status is 0: the counts carry the result.
 */
#ifndef ETL_CHECK_H
#define ETL_CHECK_H

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

/* The next number of a xorshift generator whose state is *STATE: the same
 * sequence on every run, for inputs made at random. */
static inline uint64_t
check_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

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

/* Every file of JSONTestSuite's parsing cases, read whole, through
 * AGREES (1: handled right; *TAKEN: the fast path under test took it).
 * Prints each file that fails, then one check: "N JSONTestSuite files:
 * WHAT (M taken)". */
static inline void
check_json_suite(int (*agrees)(const char *data, size_t len, int *taken),
    const char *what)
{
	static const char dir[] = "tests/data/JSONTestSuite/test_parsing";
	static char data[300000];
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0, bad = 0, taken = 0, t;

	if (!d) {
		printf("skip - %s not found (run from the top directory)\n", dir);
		return;
	}
	while ((e = readdir(d))) {
		char path[512];
		size_t n;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		n = fread(data, 1, sizeof data, f);
		fclose(f);
		files++;
		t = 0;
		if (!agrees(data, n, &t)) {
			printf("# file: %s\n", e->d_name);
			bad++;
		}
		taken += t;
	}
	closedir(d);
	check(bad == 0 && files > 0, "%d JSONTestSuite files: %s (%d taken)",
	    files, what, taken);
}

#endif
