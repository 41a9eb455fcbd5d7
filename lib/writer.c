/* writer.c - buffered output (see writer.h). */
#include "writer.h"
#include "exitcode.h"
#include "msg.h"
#include "reader.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
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
	w->fd = fd;
	w->name = name;
	w->buf = (struct buf)BUF_INIT;
	w->bytes = 0;
	w->failed = 0;
}

void
writer_stdout_init(void)
{
	writer_init(&writer_stdout, STDOUT_FILENO, "stdout");
	pipe_widen(STDOUT_FILENO);
	msg_on_exit(flush_stdout_at_exit);
}

int
writer_try_flush(struct writer *w)
{
	size_t off = 0;

	while (off < w->buf.len) {
		ssize_t n = write(w->fd, w->buf.data + off, w->buf.len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd p = { .fd = w->fd, .events = POLLOUT };
				poll(&p, 1, -1);
				continue;
			}
			/* Keep what was not written out of later attempts. */
			memmove(w->buf.data, w->buf.data + off, w->buf.len - off);
			w->buf.len -= off;
			return -1;
		}
		off += n;
		w->bytes += n;
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
		msg_die(EXIT_IO, w->name, "write failed: %s", strerror(err));
	}
}
