/*
 * fuzz-reader - libFuzzer target for the line reader and the line parser.
 *
 * The input is written to a memory file and read back through the reader
 * with a small --max-line, so buffer edges, the line limit and gzip
 * (inputs starting 1f 8b) are all reached.  Each line is classified,
 * parsed, split as a batch, and every parsed value is printed with jsonout
 * and parsed again: it must come back equal (the writer's round-trip
 * promise).  Errors the programs would exit on (a truncated gzip stream)
 * come back here through msg_exit_override.
 */
#define _GNU_SOURCE  /* memfd_create */
#include "buf.h"
#include "jsonout.h"
#include "line.h"
#include "msg.h"
#include "reader.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static jmp_buf on_exit_jump;

static void
back_to_fuzzer(int code)
{
	longjmp(on_exit_jump, code ? code : 1);
}

static int
count_element(void *arg, const char *elem, size_t n, size_t index)
{
	(void)elem; (void)n; (void)index;
	++*(size_t *)arg;
	return 0;
}

static void
check_round_trip(const json_t *v)
{
	struct buf b = BUF_INIT;
	json_error_t err;
	json_t *again;

	jsonout_value(&b, v);
	again = json_loadb(b.data, b.len, LINE_JSON_FLAGS, &err);
	if (!again || !json_equal((json_t *)v, again)) {
		fprintf(stderr, "jsonout output does not read back equal: %.*s\n",
		    (int)b.len, b.data);
		abort();
	}
	json_decref(again);
	buf_free(&b);
}

static void
take(const struct line *line)
{
	char err[256];
	enum line_kind kind;
	size_t elements = 0;
	json_t *v;

	(void)line_kind_fast(line->data, line->len);
	(void)line_split_batch(line->data, line->len, count_element, &elements,
	    err, sizeof err);
	v = line_parse(line->data, line->len, &kind, err, sizeof err);
	if (v) {
		check_round_trip(v);
		json_decref(v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	char *paths[1] = { path };
	struct reader *volatile r = NULL;
	struct line line;
	enum reader_status st;
	int fd = memfd_create("fuzz-input", 0);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	msg_verbosity = 0;
	msg_exit_override = back_to_fuzzer;
	if (setjmp(on_exit_jump) == 0) {
		r = reader_open(paths, 1, 4096);
		while ((st = reader_next(r, &line, -1)) != READER_EOF)
			if (st == READER_LINE)
				take(&line);
	}
	reader_close(r);
	close(fd);
	return 0;
}
