/* Unit tests for lib/tally.c: records, batches and control lines counted as
 * the programs count them; a line counts only once its LF has come; the
 * count does not depend on how the bytes are cut into pieces. */
#include "check.h"
#include "tally.h"

#include <stdlib.h>

/* The records in S, fed in pieces of at most STEP bytes. */
static unsigned long long
count(const char *s, size_t step, int *mid)
{
	struct tally t;
	size_t n = strlen(s);
	unsigned long long records;

	tally_init(&t);
	for (size_t off = 0; off < n; off += step)
		tally_feed(&t, s + off, n - off < step ? n - off : step);
	records = t.records;
	if (mid)
		*mid = tally_mid_line(&t);
	tally_free(&t);
	return records;
}

static void
expect(const char *title, const char *s, unsigned long long want)
{
	static const size_t steps[] = { 1, 2, 3, 7, 1 << 20 };

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		unsigned long long got = count(s, steps[i], NULL);

		if (!check(got == want, "%s (in pieces of %zu)", title, steps[i]))
			printf("# counted %llu, expected %llu\n", got, want);
	}
}

int
main(void)
{
	struct tally t;
	char *big;
	int mid;

	expect("one record a line", "{\"a\":1}\n{\"a\":2}\n{}\n", 3);
	expect("blank lines are none", "\n  \n\t\r\n{\"a\":1}\r\n\n", 1);
	expect("a line without its LF is none yet", "{\"a\":1}\n{\"a\":2", 1);
	expect("a bad line is one", "42\nnot json\n\"s\"\n", 3);
	expect("a CR before the first byte makes it a bad line", "\r[1,2,3]\n", 1);
	expect("a control line is none", "{\"$etl\":{\"checkpoint\":7}}\n{ \"$etl\" : 1 }\n", 0);
	expect("a record with a $etl key and others is one", "{\"$etl\":1,\"a\":2}\n", 1);
	expect("a record whose first key starts with $etl is one", "{\"$etlx\":1}\n", 1);
	expect("a batch is its elements", "[{\"a\":1},{\"a\":2},{\"a\":3}]\n", 3);
	expect("an empty batch is none", "[]\n[ ]\n", 0);
	expect("commas in strings and nested values are no elements",
	    "[{\"a\":\"x,y]\",\"b\":[1,2,{\"c\":3}]},{\"d\":\"\\\",\"}]\n", 2);
	expect("a string's escaped backslash ends before the quote",
	    "[{\"a\":\"\\\\\"},{\"b\":1}]\n", 2);
	expect("blanks around a batch's elements", "[ {\"a\":1} ,\t{\"a\":2} ]\n", 2);
	expect("a mix", "{\"a\":1}\n[{\"b\":1},{\"b\":2}]\n{\"$etl\":{}}\n\nx\n", 4);

	count("{\"a\":1}\n{\"a\"", 1 << 20, &mid);
	check(mid, "a line cut short is seen as under way");
	count("{\"a\":1}\n", 1 << 20, &mid);
	check(!mid, "after an LF no line is under way");

	tally_init(&t);
	tally_skip_line(&t);
	tally_feed(&t, "\"a\":1}\n{\"b\":2}\n", 15);
	check(t.records == 1, "the rest of a line counted already is skipped");
	tally_free(&t);

	/* A control line longer than the bytes kept is taken for a record. */
	big = malloc(TALLY_CONTROL_MAX + 64);
	strcpy(big, "{\"$etl\":\"");
	memset(big + 9, 'x', TALLY_CONTROL_MAX);
	strcpy(big + 9 + TALLY_CONTROL_MAX, "\"}\n");
	expect("a control line past TALLY_CONTROL_MAX counts as a record", big, 1);
	/* A long record is counted without being kept. */
	big[2] = 'a';
	expect("a long record is one", big, 1);
	free(big);

	check(tally_line("[{\"a\":1},{\"a\":2}]", 17) == 2, "tally_line: a batch");
	check(tally_line("{\"$etl\":{}}", 11) == 0, "tally_line: a control line");
	check(tally_line("{\"a\":1}", 7) == 1, "tally_line: a record");
	return 0;
}
