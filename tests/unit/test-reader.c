/*
 * Unit tests for lib/reader.c and lib/line.c: lines split across read
 * buffers, the --max-line limit at and one byte over, CRLF, blank lines,
 * no newline at end of file, empty input, NUL bytes, invalid UTF-8, gzip
 * (concatenated members, truncated streams), control lines, batch splitting.
 */
#include "check.h"
#include "buf.h"
#include "line.h"
#include "reader.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

static char dir[] = "/tmp/etl-test-reader.XXXXXX";

static const char *
write_file(const char *name, const void *data, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	fwrite(data, 1, len, f);
	fclose(f);
	return path;
}

static const char *
write_gzip(const char *name, const char *const *members, int n)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	for (int i = 0; i < n; i++) {
		gzFile g = gzopen(path, "ab");
		gzwrite(g, members[i], strlen(members[i]));
		gzclose(g);
	}
	return path;
}

/* Read PATH to the end; the lines joined with '|', statuses as <TOOLONG>. */
static char *
read_all(const char *path, size_t max_line)
{
	char *paths[1] = { (char *)path };
	struct reader *r = reader_open(paths, 1, max_line);
	struct buf out = BUF_INIT;
	struct line line;
	enum reader_status st;

	while ((st = reader_next(r, &line, -1)) != READER_EOF) {
		if (out.len)
			buf_addc(&out, '|');
		if (st == READER_TOOLONG) {
			char tag[64];
			snprintf(tag, sizeof tag, "<TOOLONG %zu @%lu>", line.len,
			    line.place.line);
			buf_adds(&out, tag);
		} else {
			buf_add(&out, line.data, line.len);
		}
	}
	reader_close(r);
	buf_cstr(&out);
	return out.data ? out.data : strdup("");
}

static void
expect_lines(const char *title, const char *content, size_t len,
    size_t max_line, const char *want)
{
	char *got = read_all(write_file("in", content, len), max_line);

	CHECK_STR(want, got, title);
	free(got);
}

static void
test_basic_lines(void)
{
	expect_lines("LF lines", "{\"a\":1}\n{\"a\":2}\n", 16, 0,
	    "{\"a\":1}|{\"a\":2}");
	expect_lines("CRLF lines lose their CR", "a\r\nb\r\n", 6, 0, "a|b");
	expect_lines("blank and whitespace-only lines are skipped",
	    "\n\na\n \t\n\r\nb\n\n", 12, 0, "a|b");
	expect_lines("no newline at end of file", "a\nb", 3, 0, "a|b");
	expect_lines("empty input has no lines", "", 0, 0, "");
	expect_lines("a lone CR line is blank", "\r", 1, 0, "");
	{
		char *got = read_all(write_file("nul", "a\0b\nc\n", 6), 0);
		/* read_all joins with '|', so a NUL shows up as a short string */
		check(memcmp(got, "a\0b|c", 5) == 0,
		    "a NUL byte stays inside its line");
		free(got);
	}
}

static void
test_line_limit(void)
{
	expect_lines("a line exactly at --max-line is accepted",
	    "12345\n", 6, 5, "12345");
	expect_lines("a line at the limit with CRLF is accepted",
	    "12345\r\n", 7, 5, "12345");
	expect_lines("a line one byte over the limit is too long, the next is fine",
	    "123456\nab\n", 10, 5, "<TOOLONG 5 @1>|ab");
	expect_lines("a too-long last line without newline",
	    "ab\n1234567", 10, 5, "ab|<TOOLONG 5 @2>");
}

static void
test_huge_line_bounded(void)
{
	/* 3 MB with no newline, limit 1000: reported once, skipped, and the
	 * line after it is read with its right number. */
	size_t n = 3 << 20;
	char *big = malloc(n + 16);

	memset(big, 'x', n);
	memcpy(big + n, "\nok\n", 4);
	{
		char *got = read_all(write_file("big", big, n + 4), 1000);
		CHECK_STR("<TOOLONG 1000 @1>|ok", got,
		    "a 3 MB line over a 1000-byte limit is skipped, not stored");
		free(got);
	}
	free(big);
}

static void
test_buffer_boundaries(void)
{
	/* 3000 lines of varying length straddle every 256 KiB read boundary. */
	struct buf in = BUF_INIT, want = BUF_INIT;
	char *got;

	for (int i = 0; i < 3000; i++) {
		int len = 1 + (i * 7919) % 1500;
		if (want.len)
			buf_addc(&want, '|');
		for (int j = 0; j < len; j++) {
			char c = 'a' + (i + j) % 26;
			buf_addc(&in, c);
			buf_addc(&want, c);
		}
		buf_addc(&in, '\n');
	}
	got = read_all(write_file("bound", in.data, in.len), 0);
	check(strcmp(got, buf_cstr(&want)) == 0,
	    "lines split across read buffers come out whole (%zu bytes)", in.len);
	free(got);
	buf_free(&in);
	buf_free(&want);
}

static void
test_gzip(void)
{
	const char *one[] = { "{\"a\":1}\n{\"a\":2}\n" };
	const char *two[] = { "{\"a\":1}\n", "{\"a\":2}\n{\"a\":3}" };
	char *got;

	got = read_all(write_gzip("one.gz", one, 1), 0);
	CHECK_STR("{\"a\":1}|{\"a\":2}", got, "gzip input is detected and decompressed");
	free(got);
	got = read_all(write_gzip("two.gz", two, 2), 0);
	CHECK_STR("{\"a\":1}|{\"a\":2}|{\"a\":3}", got,
	    "concatenated gzip members are one stream");
	free(got);
}

static void
test_truncated_gzip(void)
{
	const char *one[] = { "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n" };
	const char *path = write_gzip("trunc.gz", one, 1);
	char cut[256];
	FILE *f = fopen(path, "rb");
	char data[4096];
	size_t n = fread(data, 1, sizeof data, f);
	int fds[2], status;
	pid_t pid;

	fclose(f);
	snprintf(cut, sizeof cut, "%s", write_file("cut.gz", data, n - 6));
	if (pipe(fds) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		free(read_all(cut, 0));
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], data, sizeof data - 1);
	data[n > 0 ? n : 0] = '\0';
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 74,
	    "a truncated gzip stream exits 74, not a silent end");
	check(strstr(data, "cut.gz: truncated gzip stream") != NULL,
	    "the truncated gzip message names the file");
	if (!strstr(data, "truncated"))
		printf("# stderr: %s\n", data);
}

static void
test_classify(void)
{
	char err[256];
	enum line_kind kind;
	json_t *v;

	check(line_kind_fast("{\"a\":1}", 7) == LINE_RECORD, "an object is a record");
	check(line_kind_fast(" [1]", 4) == LINE_BATCH, "an array is a batch");
	check(line_kind_fast("{\"$etl\":{\"n\":1}}", 16) == LINE_CONTROL,
	    "an object with only $etl is a control line");
	check(line_kind_fast("{ \"$etl\":1,\"x\":2}", 17) == LINE_RECORD,
	    "an object with $etl and other keys is a record");
	check(line_kind_fast("\"s\"", 3) == LINE_INVALID, "a string is not a record");
	v = line_parse("{\"a\":\"\xff\"}", 9, &kind, err, sizeof err);
	check(!v && kind == LINE_INVALID && strstr(err, "invalid JSON"),
	    "invalid UTF-8 is invalid JSON (%s)", err);
	v = line_parse("42", 2, &kind, err, sizeof err);
	check(!v && strcmp(err, "not a JSON object or array") == 0,
	    "a scalar is not a JSON object or array");
	v = line_parse("{\"a\":1}x", 8, &kind, err, sizeof err);
	check(!v && kind == LINE_INVALID, "text after the value is invalid JSON");
}

static int
collect(void *arg, const char *elem, size_t n, size_t index)
{
	struct buf *b = arg;

	(void)index;
	if (b->len)
		buf_addc(b, '|');
	buf_add(b, elem, n);
	return 0;
}

static void
split_case(const char *in, const char *want, const char *title)
{
	struct buf b = BUF_INIT;
	char err[256];
	int rc = line_split_batch(in, strlen(in), collect, &b, err, sizeof err);

	if (rc != 0) {
		b.len = 0;
		buf_adds(&b, "ERR ");
		buf_adds(&b, err);
	}
	CHECK_STR(want, buf_cstr(&b), title);
	buf_free(&b);
}

static void
test_split(void)
{
	split_case("[{\"a\":1}, {\"b\":\"x,]}\\\"\"} ]", "{\"a\":1}|{\"b\":\"x,]}\\\"\"}",
	    "batch elements are cut at top-level commas only");
	split_case("[ ]", "", "an empty batch has no elements");
	split_case("[{\"a\":[1,[2]]}]", "{\"a\":[1,[2]]}", "nested arrays stay whole");
	split_case("[{},]", "ERR invalid batch: empty element (element 2)",
	    "a trailing comma is an error");
	split_case("[{\"a\":\"x]", "ERR invalid batch: unterminated string (element 1)",
	    "an unterminated string is an error");
	split_case("[{}", "ERR invalid batch: unterminated array (element 1)",
	    "an unclosed array is an error");
	split_case("[{}] x", "ERR invalid batch: text after the array (element 2)",
	    "text after the array is an error");
	split_case("[{}}]", "ERR invalid batch: unbalanced '}' (element 1)",
	    "an unbalanced brace is an error");
}

int
main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_basic_lines();
	test_line_limit();
	test_huge_line_bounded();
	test_buffer_boundaries();
	test_gzip();
	test_truncated_gzip();
	test_classify();
	test_split();
	{
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
