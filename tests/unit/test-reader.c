/*
 * Unit tests for lib/reader.c and lib/line.c: lines split across read
 * buffers, the --max-line limit at and one byte over, CRLF, blank lines,
 * no newline at end of file, empty input, NUL bytes, invalid UTF-8, gzip
 * (concatenated members, truncated streams), control lines, batch splitting;
 * gzip input whose compressed size crosses the reader's chunks, a gzip file
 * after a file that grew the buffer, pipes written one byte at a time or in
 * uneven pieces, a gzip stream that stalls after its header, and the UTF-8
 * byte-order mark.
 */
#include "check.h"
#include "buf.h"
#include "line.h"
#include "reader.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
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

static char *read_paths(char *const *paths, int n, size_t max_line);

/* Read PATH to the end; the lines joined with '|', statuses as <TOOLONG>. */
static char *
read_all(const char *path, size_t max_line)
{
	char *paths[1] = { (char *)path };

	return read_paths(paths, 1, max_line);
}

static char *
read_paths(char *const *paths, int npaths, size_t max_line)
{
	struct reader *r = reader_open(paths, npaths, max_line);
	struct buf out = BUF_INIT;
	struct line line;
	enum reader_status st;

	while ((st = reader_next(r, &line, -1)) != READER_EOF) {
		if (out.len)
			buf_addc(&out, '|');
		if (st == READER_BAD) {
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

/* A CR right after max_line bytes does not make a longer line fit: the
 * buffer (max_line + 2 bytes) fills before its LF arrives. */
static void
test_line_limit_cr_inside(void)
{
	struct buf in = BUF_INIT;
	char *got;

	for (int i = 0; i < 5000; i++)
		buf_addc(&in, 'x');
	buf_adds(&in, "\r");
	for (int i = 0; i < 3000; i++)
		buf_addc(&in, 'y');
	buf_adds(&in, "\nok\n");
	got = read_all(write_file("crin", in.data, in.len), 5000);
	CHECK_STR("<TOOLONG 5000 @1>|ok", got,
	    "a line with a CR just past --max-line is too long, not cut at the CR");
	free(got);
	buf_free(&in);
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


/* ---- input at every size ------------------------------------------------ */

/* LEN bytes of varied lines ("r<n>:<random letters>", compressing to about
 * two thirds), the last one ending in LF. */
static void
make_lines(struct buf *in, size_t len, unsigned seed)
{
	size_t n = 0;

	in->len = 0;
	while (in->len < len) {
		size_t left = len - in->len, want = 1 + (seed = seed * 1103515245 + 12345) % 3000;
		char head[32];
		int h = snprintf(head, sizeof head, "r%zu:", n++);

		if (want > left - 1 || left - 1 - want < (size_t)h + 2)
			want = left - 1;  /* the last line fills the size exactly */
		if (want < (size_t)h) {
			for (size_t i = 0; i < want; i++)
				buf_addc(in, 'x');
		} else {
			buf_add(in, head, h);
			for (size_t i = h; i < want; i++)
				buf_addc(in, 'a' + (seed = seed * 1103515245 + 12345) / 65536 % 26);
		}
		buf_addc(in, '\n');
	}
}

/* What read_all gives for IN: its non-blank lines joined with '|'. */
static char *
joined_lines(const struct buf *in)
{
	struct buf want = BUF_INIT;
	size_t i = 0;

	while (i < in->len) {
		const char *nl = memchr(in->data + i, '\n', in->len - i);
		size_t n = (nl ? (size_t)(nl - in->data) : in->len) - i;

		if (n > 0) {
			if (want.len)
				buf_addc(&want, '|');
			buf_add(&want, in->data + i, n);
		}
		i += n + 1;
	}
	buf_cstr(&want);
	return want.data ? want.data : strdup("");
}

/* DATA as one gzip member at LEVEL (0: stored, so the size is predictable). */
static void
gzip_member(struct buf *out, const char *data, size_t len, int level)
{
	z_stream z;

	memset(&z, 0, sizeof z);
	deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	buf_reserve(out, deflateBound(&z, len));
	z.next_in = (unsigned char *)data;
	z.avail_in = len;
	z.next_out = (unsigned char *)out->data + out->len;
	z.avail_out = out->cap - out->len;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	out->len = out->cap - z.avail_out;
	deflateEnd(&z);
}

static int
same_lines(const struct buf *plain, char *got, const char *title, size_t size)
{
	char *want = joined_lines(plain);
	int ok = strcmp(want, got) == 0;

	check(ok, "%s (%zu bytes)", title, size);
	if (!ok)
		printf("# expected %zu bytes of lines, got %zu\n", strlen(want),
		    strlen(got));
	free(want);
	free(got);
	return ok;
}

/*
 * Plain and gzip input at each size around the reader's chunks (64 KiB for
 * compressed reads, 256 KiB for plain ones) and the line-length limit's
 * buffer; gzip both by decoded and by compressed size.
 */
static void
test_sizes(void)
{
	static const size_t edges[] = { 65536, 262144, 1048576 };
	struct buf in = BUF_INIT, gz = BUF_INIT;

	for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
		for (size_t size = edges[e] - 1; size <= edges[e] + 1; size++) {
			make_lines(&in, size, (unsigned)size);
			same_lines(&in, read_all(write_file("plain", in.data, in.len), 0),
			    "plain input around a chunk edge", size);
			gz.len = 0;
			gzip_member(&gz, in.data, in.len, 6);
			same_lines(&in, read_all(write_file("gz", gz.data, gz.len), 0),
			    "gzip input, decoded size around a chunk edge", size);
		}
		/* Stored (level 0) members grow with their data, one byte a byte:
		 * find the data sizes whose compressed size is edge - 1, edge, + 1. */
		for (size_t len = edges[e] - 64; len < edges[e] + 8; len++) {
			make_lines(&in, len, (unsigned)len);
			gz.len = 0;
			gzip_member(&gz, in.data, in.len, 0);
			if (gz.len + 1 < edges[e] || gz.len > edges[e] + 1)
				continue;
			same_lines(&in, read_all(write_file("gz0", gz.data, gz.len), 0),
			    "gzip input, compressed size around a chunk edge", gz.len);
		}
	}
	buf_free(&in);
	buf_free(&gz);
}

/* A 1 MB line grows the buffer; the gzip file after it must still read. */
static void
test_gzip_after_large_file(void)
{
	struct buf big = BUF_INIT, in = BUF_INIT, gz = BUF_INIT, all = BUF_INIT;
	char first[256], second[256], third[256];
	char *paths[3] = { first, second, third };

	for (int i = 0; i < 1 << 20; i++)
		buf_addc(&big, 'a' + i % 26);
	buf_addc(&big, '\n');
	make_lines(&in, 600000, 7);
	gzip_member(&gz, in.data, in.len / 2, 6);
	gzip_member(&gz, in.data + in.len / 2, in.len - in.len / 2, 1);
	snprintf(first, sizeof first, "%s", write_file("large", big.data, big.len));
	snprintf(second, sizeof second, "%s", write_file("after.gz", gz.data, gz.len));
	snprintf(third, sizeof third, "%s", write_file("plain2", in.data, in.len));
	buf_add(&all, big.data, big.len);
	buf_add(&all, in.data, in.len);
	buf_add(&all, in.data, in.len);
	check(in.data[in.len / 2 - 1] != '\n',
	    "the second member starts inside a line");
	same_lines(&all, read_paths(paths, 3, 2 << 20),
	    "a large plain file, a two-member gzip file, a plain file", all.len);
	buf_free(&big);
	buf_free(&in);
	buf_free(&gz);
	buf_free(&all);
}

/*
 * A child writes DATA into a pipe in pieces of 1 to MAXPIECE bytes (every
 * piece MAXPIECE when FIXED), pausing PAUSE_US after every PAUSE_EVERY
 * pieces; returns the path of the pipe's read end.
 */
static const char *
pipe_writer(const struct buf *data, size_t maxpiece, int fixed,
    int pause_every, int pause_us, pid_t *pid)
{
	static char path[64];
	int fds[2];

	if (pipe(fds) < 0)
		abort();
	if ((*pid = fork()) == 0) {
		unsigned seed = (unsigned)maxpiece;
		size_t off = 0;
		int pieces = 0;

		close(fds[0]);
		while (off < data->len) {
			size_t n = fixed ? maxpiece
			    : 1 + (seed = seed * 1103515245 + 12345) % maxpiece;

			if (n > data->len - off)
				n = data->len - off;
			if (write(fds[1], data->data + off, n) != (ssize_t)n)
				_exit(1);
			off += n;
			if (pause_every && ++pieces % pause_every == 0) {
				struct timespec ts = { 0, pause_us * 1000L };

				nanosleep(&ts, NULL);
			}
		}
		_exit(0);
	}
	close(fds[1]);
	snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
	return path;
}

static void
close_pipe(const char *path, pid_t pid)
{
	close(atoi(path + strlen("/dev/fd/")));
	waitpid(pid, NULL, 0);
}

static void
test_pipes(void)
{
	struct buf in = BUF_INIT, gz = BUF_INIT;
	static const struct { size_t maxpiece; int fixed, every, us; const char *what; } ways[] = {
		{ 1, 1, 64, 200, "one byte at a time" },
		{ 7, 0, 16, 300, "pieces of 1 to 7 bytes" },
		{ 70000, 0, 3, 2000, "pieces of up to 70000 bytes with pauses" },
		{ 1 << 20, 0, 2, 1000, "pieces of up to 1 MiB" },
	};

	make_lines(&in, 300000, 3);
	gzip_member(&gz, in.data, in.len / 3, 6);
	gzip_member(&gz, in.data + in.len / 3, in.len - in.len / 3, 9);
	for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
		pid_t pid;
		const char *path;
		char title[128];

		/* One byte at a time is slow: a smaller input does. */
		struct buf small = BUF_INIT, smallgz = BUF_INIT;
		const struct buf *p = &in, *g = &gz;

		if (ways[w].maxpiece < 64) {
			make_lines(&small, 20000, 5);
			gzip_member(&smallgz, small.data, small.len, 6);
			p = &small;
			g = &smallgz;
		}
		path = pipe_writer(p, ways[w].maxpiece, ways[w].fixed,
		    ways[w].every, ways[w].us, &pid);
		snprintf(title, sizeof title, "a plain pipe written %s", ways[w].what);
		same_lines(p, read_all(path, 0), title, p->len);
		close_pipe(path, pid);
		path = pipe_writer(g, ways[w].maxpiece, ways[w].fixed,
		    ways[w].every, ways[w].us, &pid);
		snprintf(title, sizeof title, "a gzip pipe written %s", ways[w].what);
		same_lines(p, read_all(path, 0), title, g->len);
		close_pipe(path, pid);
		buf_free(&small);
		buf_free(&smallgz);
	}
	buf_free(&in);
	buf_free(&gz);
}

/*
 * A gzip stream that stops after its header and one record: the reader
 * hands out the record, then waits with its timeout instead of blocking
 * in read(2); it must not hang (the child is killed after 10 s if it does).
 */
static void
test_gzip_stall(void)
{
	struct buf gz = BUF_INIT;
	int fds[2], status;
	pid_t pid;
	z_stream z;

	memset(&z, 0, sizeof z);
	deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	buf_reserve(&gz, 4096);
	z.next_in = (unsigned char *)"{\"a\":1}\n";
	z.avail_in = 8;
	z.next_out = (unsigned char *)gz.data;
	z.avail_out = gz.cap;
	deflate(&z, Z_SYNC_FLUSH);
	gz.len = gz.cap - z.avail_out;
	deflateEnd(&z);
	if (pipe(fds) < 0)
		return;
	if ((pid = fork()) == 0) {
		char path[64];
		char *paths[1] = { path };
		struct reader *r;
		struct line line;
		enum reader_status st1, st2;

		alarm(10);
		snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
		r = reader_open(paths, 1, 0);
		/* Header alone first, then the rest: two reads at least. */
		if (write(fds[1], gz.data, 10) != 10)
			_exit(2);
		st1 = reader_next(r, &line, 100);
		if (write(fds[1], gz.data + 10, gz.len - 10) != (ssize_t)(gz.len - 10))
			_exit(2);
		st2 = reader_next(r, &line, 2000);
		if (st1 != READER_TIMEOUT)
			_exit(3);
		if (st2 != READER_LINE || line.len != 7)
			_exit(4);
		if (reader_next(r, &line, 100) != READER_TIMEOUT)
			_exit(5);
		_exit(0);
	}
	close(fds[0]);
	close(fds[1]);
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a stalled gzip stream times out, then reads on (status %d)",
	    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	buf_free(&gz);
}

static void
test_bom(void)
{
	const char *gzbom[] = { "\xef\xbb\xbf{\"g\":1}\n" };
	char first[256], second[256];
	char *paths[2] = { first, second };
	char *got;

	expect_lines("a UTF-8 byte-order mark at the start is skipped",
	    "\xef\xbb\xbf{\"a\":1}\n{\"a\":2}\n", 19, 0, "{\"a\":1}|{\"a\":2}");
	expect_lines("a byte-order mark alone is an empty file",
	    "\xef\xbb\xbf", 3, 0, "");
	expect_lines("a byte-order mark on a line of its own makes it blank",
	    "\xef\xbb\xbf\r\n{}\n", 7, 0, "{}");
	expect_lines("only the first byte-order mark is skipped",
	    "\xef\xbb\xbf\xef\xbb\xbf{}", 8, 0, "\xef\xbb\xbf{}");
	expect_lines("a byte-order mark after the start stays",
	    "{}\n\xef\xbb\xbf{}\n", 8, 0, "{}|\xef\xbb\xbf{}");
	expect_lines("the start of a byte-order mark alone stays",
	    "\xef\xbb", 2, 0, "\xef\xbb");
	expect_lines("a byte-order mark counts toward no line limit",
	    "\xef\xbb\xbf" "12345\n", 9, 5, "12345");
	snprintf(first, sizeof first, "%s", write_file("bom1", "\xef\xbb\xbf{\"f\":1}", 10));
	snprintf(second, sizeof second, "%s", write_gzip("bom2.gz", gzbom, 1));
	got = read_paths(paths, 2, 0);
	CHECK_STR("{\"f\":1}|{\"g\":1}", got,
	    "each file's byte-order mark is skipped, gzip too");
	free(got);
	{
		struct buf in = BUF_INIT;
		pid_t pid;
		const char *path;

		buf_adds(&in, "\xef\xbb\xbf{\"p\":1}\n");
		path = pipe_writer(&in, 1, 1, 1, 20000, &pid);
		got = read_all(path, 0);
		CHECK_STR("{\"p\":1}", got,
		    "a byte-order mark arriving one byte at a time is skipped");
		free(got);
		close_pipe(path, pid);
		buf_free(&in);
	}
}

int
main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_basic_lines();
	test_line_limit();
	test_huge_line_bounded();
	test_line_limit_cr_inside();
	test_buffer_boundaries();
	test_gzip();
	test_truncated_gzip();
	test_sizes();
	test_gzip_after_large_file();
	test_pipes();
	test_gzip_stall();
	test_bom();
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
