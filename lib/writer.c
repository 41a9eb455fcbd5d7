/* writer.c - buffered output, and the ledger of what it delivered (see
 * writer.h). */
#define _GNU_SOURCE  /* pwritev2, RWF_NOWAIT, F_SETPIPE_SZ */
#include "writer.h"
#include "exitcode.h"
#include "msg.h"
#include "sig.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>  /* F_GETPIPE_SZ */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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
	w->chunk = WRITER_CHUNK;
#ifdef RWF_NOWAIT
	w->nowait = fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
#else
	(void)st;
#endif
}

/* Make the pipe SIZE bytes, and flush at its size. */
static void
pipe_resize(struct writer *w, size_t size)
{
	backlog_pipe_resize(w->fd, &w->pipe_size, size);
	w->chunk = w->pipe_size < WRITER_CHUNK ? w->pipe_size : WRITER_CHUNK;
}

void
writer_stdout_init(double pipe_budget_s)
{
	struct stat st;
	int size = -1;

	writer_init(&writer_stdout, STDOUT_FILENO, "stdout");
#ifdef F_GETPIPE_SZ
	if (pipe_budget_s > 0 && fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode))
		size = fcntl(STDOUT_FILENO, F_GETPIPE_SZ);
#else
	(void)st;
#endif
	if (size > 0) {
		writer_stdout.paced = 1;
		writer_stdout.pipe_size = (size_t)size;
		backlog_init_pipe(&writer_stdout.pace, pipe_budget_s);
		pipe_resize(&writer_stdout, BACKLOG_PIPE_MIN);
	}
	msg_on_exit(flush_stdout_at_exit);
}

/* How much the pipe holds unread, or -1. */
static int
unread(const struct writer *w)
{
	int n;

	return ioctl(w->fd, FIONREAD, &n) == 0 ? n : -1;
}

/* Every 50 ms at most, a sample of the next stage's pace: the pipe
 * follows it (backlog.h). */
static void
pace(struct writer *w)
{
	double now = stats_now_coarse();
	int held;

	if (!w->paced || now - w->paced_at < 0.05 || (held = unread(w)) < 0)
		return;
	w->paced_at = now;
	w->pipe_want = backlog_pipe_follow(&w->pace, w->fd, &w->pipe_size, now,
	    w->bytes, (size_t)held);
	w->chunk = w->pipe_size < WRITER_CHUNK ? w->pipe_size : WRITER_CHUNK;
}

/* The pipe is to shrink: write nothing more until what it holds fits in
 * its new size (a give-up point).  0 once it does. */
static int
hold_back(struct writer *w)
{
	int held = unread(w);
	double rate = backlog_rate(&w->pace), ms;

	if (held < 0 || (size_t)held <= w->pipe_want) {
		pipe_resize(w, w->pipe_want);
		w->pipe_want = 0;
		return 0;
	}
	/* What is over takes this long to go, at the pace measured. */
	ms = rate > 0 ? (held - w->pipe_want) / rate * 1000 : 200;
	sig_sleep(ms < 10 ? 10 : ms > 200 ? 200 : (long)ms);
	return 1;
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
		ssize_t n;

		pace(w);
		if (w->pipe_want && hold_back(w))
			continue;
		n = write_some(w, w->buf.data + off, w->buf.len - off);
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
