/*
 * fuzz-reader - libFuzzer target for the line reader and the line parser.
 *
 * The input drives how the stream arrives as well as what it holds:
 *
 *	byte 0        mode: bit 0 gzip (the data is compressed here with
 *	              zlib first), bit 1 two gzip members, bits 2-3 the
 *	              --max-line (4096, 64, 5000, 100000), bits 4-7 the level
 *	byte 1        N, the length of the read schedule
 *	bytes 2..N+1  the schedule: each byte is the most the next read(2)
 *	              returns (1-32 bytes, or up to ~280 KiB), cycled
 *	the rest      the data
 *
 * read(2) is wrapped (-Wl,--wrap=read, see the Makefile) so that reads of
 * the input file return no more than the schedule says: any split of the
 * stream, 1-byte first reads and reads across the 64 KiB and 256 KiB
 * chunks included, is reachable.  The lines the reader hands out must be
 * exactly those of a plain model of the format (a byte-order mark dropped,
 * lines cut at LF, one CR dropped, blank lines skipped, lines over the
 * limit reported too long with their first max_line bytes, every line
 * numbered).  Each line is also classified, parsed, split as a batch, and
 * every parsed value printed with jsonout and parsed again: it must come
 * back equal (the writer's round-trip promise).  Errors the programs would
 * exit on (bad gzip) come back here through msg_exit_override.
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
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

static jmp_buf on_exit_jump;

/* ---- reads that follow the schedule ------------------------------------ */

static int input_fd = -1;          /* the file the reader opened */
static const uint8_t *schedule;
static size_t schedule_len, schedule_at;

ssize_t __real_read(int fd, void *buf, size_t n);

ssize_t
__wrap_read(int fd, void *buf, size_t n)
{
	if (input_fd < 0 && fd > 2) {
		/* The reader opened /proc/self/fd/N: a new descriptor. */
		char link[64], target[64];
		ssize_t len;

		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		len = readlink(link, target, sizeof target - 1);
		if (len > 0 && (target[len] = '\0', strstr(target, "fuzz-input")))
			input_fd = fd;
	}
	if (fd == input_fd && schedule_len > 0) {
		uint8_t b = schedule[schedule_at++ % schedule_len];
		size_t most = b < 200 ? 1 + b % 32 : (size_t)(b - 199) * 5000 + b;

		if (n > most)
			n = most;
	}
	return __real_read(fd, buf, n);
}

/* ---- the model --------------------------------------------------------- */

static int
is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

struct model {
	const char *data;
	size_t len, at;
	unsigned long lineno;
	size_t max_line;
};

/* The next line the reader must give: 0 at the end. */
static int
model_next(struct model *m, const char **data, size_t *len, int *too_long,
    unsigned long *lineno)
{
	while (m->at < m->len) {
		const char *p = m->data + m->at;
		const char *nl = memchr(p, '\n', m->len - m->at);
		size_t n = nl ? (size_t)(nl - p) : m->len - m->at;

		m->at += n + (nl != NULL);
		m->lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > m->max_line) {
			*data = p;
			*len = m->max_line;
			*too_long = 1;
			*lineno = m->lineno;
			return 1;
		}
		if (is_blank(p, n))
			continue;
		*data = p;
		*len = n;
		*too_long = 0;
		*lineno = m->lineno;
		return 1;
	}
	return 0;
}

/* ---- what the programs do with a line ----------------------------------- */

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

/* ---- the input file ----------------------------------------------------- */

static void
deflate_member(struct buf *out, const uint8_t *data, size_t len, int level)
{
	z_stream z;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
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

static void
mismatch(const char *what, unsigned long lineno)
{
	fprintf(stderr, "reader and model disagree at line %lu: %s\n", lineno,
	    what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	static const size_t max_lines[] = { 4096, 64, 5000, 100000 };
	static char path[64];
	char *paths[1] = { path };
	struct reader *volatile r = NULL;
	struct buf file = BUF_INIT;
	struct model m;
	struct line line;
	enum reader_status st;
	const uint8_t *data;
	size_t len;
	int mode, gzip, fd;

	if (size < 2 || size < 2 + (size_t)input[1])
		return 0;
	mode = input[0];
	schedule = input + 2;
	schedule_len = input[1];
	schedule_at = 0;
	data = input + 2 + schedule_len;
	len = size - 2 - schedule_len;
	gzip = mode & 1;
	if (gzip && (mode & 2) && len > 1) {
		deflate_member(&file, data, len / 2, (mode >> 4) % 10);
		deflate_member(&file, data + len / 2, len - len / 2, 9 - (mode >> 4) % 10);
	} else if (gzip) {
		deflate_member(&file, data, len, (mode >> 4) % 10);
	} else {
		buf_add(&file, data, len);
	}
	if ((fd = memfd_create("fuzz-input", 0)) < 0 ||
	    (file.len && write(fd, file.data, file.len) != (ssize_t)file.len))
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	input_fd = -1;

	memset(&m, 0, sizeof m);
	m.data = (const char *)data;
	m.len = len;
	m.max_line = max_lines[(mode >> 2) & 3];
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		m.at = 3;
	/* Plain data that starts like gzip is read as gzip: no model. */
	if (!gzip && len >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		m.len = 0, m.at = 0;

	msg_verbosity = 0;
	msg_exit_override = back_to_fuzzer;
	if (setjmp(on_exit_jump) == 0) {
		const char *want;
		size_t wantlen;
		int too_long;
		unsigned long lineno;
		int modelled = m.len > 0 || len == 0;

		r = reader_open(paths, 1, m.max_line);
		while ((st = reader_next(r, &line, -1)) != READER_EOF) {
			if (st == READER_LINE)
				take(&line);
			if (!modelled)
				continue;
			if (!model_next(&m, &want, &wantlen, &too_long, &lineno))
				mismatch("the reader gave a line more", line.place.line);
			if (line.place.line != lineno)
				mismatch("line numbers differ", lineno);
			if ((st == READER_BAD) != too_long)
				mismatch("too long or not", lineno);
			if (line.len != wantlen || memcmp(line.data, want, wantlen) != 0)
				mismatch("the bytes differ", lineno);
		}
		if (modelled && model_next(&m, &want, &wantlen, &too_long, &lineno))
			mismatch("the reader missed a line", lineno);
	} else if (gzip) {
		/* Our own gzip is valid: the reader must not give up on it. */
		fprintf(stderr, "the reader refused a valid gzip stream\n");
		abort();
	}
	reader_close(r);
	close(fd);
	buf_free(&file);
	input_fd = -1;
	return 0;
}
