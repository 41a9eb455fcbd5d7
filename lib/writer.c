/* writer.c - buffered output, and the ledger of what it delivered (see
 * writer.h). */
#define _GNU_SOURCE  /* pwritev2, RWF_NOWAIT */
#include "writer.h"
#include "exitcode.h"
#include "msg.h"
#include "reader.h"
#include "sig.h"
#include "stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

struct writer writer_stdout;

static void
flush_stdout_at_exit(void)
{
	writer_flush(&writer_stdout);
}

void
writer_init(struct writer *w, int fd, const char *name)
{
	struct stat st;

	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->name = name;
	w->buf = (struct buf)BUF_INIT;
#ifdef RWF_NOWAIT
	w->nowait = fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
#else
	(void)st;
#endif
}

void
writer_stdout_init(void)
{
	writer_init(&writer_stdout, STDOUT_FILENO, "stdout");
	pipe_widen(STDOUT_FILENO);
	msg_on_exit(flush_stdout_at_exit);
}

void
writer_records(struct writer *w, unsigned long long n)
{
	unsigned long long end = w->bytes + w->buf.len;

	if (n == 0)
		return;
	if (w->nmarks > w->mark_head && w->marks[w->nmarks - 1].end == end) {
		w->marks[w->nmarks - 1].records += n;
		return;
	}
	if (w->nmarks == w->marks_cap) {
		w->marks_cap = w->marks_cap ? w->marks_cap * 2 : 256;
		if (!(w->marks = realloc(w->marks, w->marks_cap * sizeof *w->marks)))
			msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	}
	w->marks[w->nmarks++] = (struct writer_mark){ end, n };
}

/* N more bytes were written: the records whose lines they end are
 * delivered. */
static void
wrote(struct writer *w, size_t n)
{
	unsigned long long done = 0;

	w->bytes += n;
	while (w->mark_head < w->nmarks && w->marks[w->mark_head].end <= w->bytes)
		done += w->marks[w->mark_head++].records;
	if (w->mark_head == w->nmarks)
		w->mark_head = w->nmarks = 0;
	if (done)
		stats_add(&stats.delivered, done);
}

/* write(2), or without blocking where the writer waits with poll; -1 with
 * EAGAIN when a pipe is full. */
static ssize_t
write_some(struct writer *w, const char *p, size_t n)
{
#ifdef RWF_NOWAIT
	if (w->nowait) {
		struct iovec v = { (void *)p, n };
		ssize_t rc = pwritev2(w->fd, &v, 1, -1, RWF_NOWAIT);

		if (rc >= 0 || errno != EOPNOTSUPP)
			return rc;
		w->nowait = 0;  /* an older kernel: write, and block */
	}
#endif
	return write(w->fd, p, n);
}

int
writer_try_flush(struct writer *w)
{
	size_t off = 0;

	while (off < w->buf.len) {
		ssize_t n = write_some(w, w->buf.data + off, w->buf.len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				sig_wait_writable(w->fd);
				continue;
			}
			/* Keep what was not written out of later attempts. */
			memmove(w->buf.data, w->buf.data + off, w->buf.len - off);
			w->buf.len -= off;
			return -1;
		}
		off += n;
		wrote(w, n);
	}
	w->buf.len = 0;
	return 0;
}

void
writer_flush(struct writer *w)
{
	if (w->buf.len == 0)
		return;
	if (w->failed) {
		/* Reported once already; the exit hooks may still add lines. */
		w->buf.len = 0;
		return;
	}
	if (writer_try_flush(w) < 0) {
		int err = errno;

		w->buf.len = 0;
		w->failed = 1;
		if (err == EPIPE && w == &writer_stdout)
			sig_output_closed();
		msg_die(EXIT_IO, w->name, "write failed: %s", strerror(err));
	}
}
