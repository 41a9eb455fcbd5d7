/* ack.c - checkpoints out, acknowledgements back (see ack.h). */
#define _GNU_SOURCE  /* memmem */
#include "ack.h"
#include "exitcode.h"
#include "jsontree.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	ACK_MAX_LINE = 64 << 10,  /* ours are short: skip longer lines */
	CHUNK = 64 << 10,
};

static char source[64];            /* "etl-extract-http/PID": whose checkpoints */
static unsigned long long last_checkpoint;
static const char *fifo_path;
static int fifo_fd = -1;
static struct ack_handlers handlers;
static void (*line_handler)(const char *, size_t, int, void *);
static size_t max_line = ACK_MAX_LINE;

void
ack_lines(void (*line)(const char *line, size_t len, int too_long, void *arg),
    size_t max)
{
	line_handler = line;
	max_line = max;
}

unsigned long long
ack_checkpoint(struct buf *out)
{
	char line[128];

	snprintf(line, sizeof line, "{\"$etl\":{\"ack\":%llu,\"source\":\"%s\"}}\n",
	    ++last_checkpoint, source);
	buf_adds(out, line);
	return last_checkpoint;
}

int
ack_parse(const char *line, size_t len, unsigned long long *upto)
{
	json_t *v = jsontree_parse(line, len);
	json_t *etl, *ack;
	const char *from;
	int ours;

	if (!v)
		v = json_loadb(line, len, 0, NULL);
	etl = json_object_get(v, "$etl");
	ack = json_object_get(etl, "ack");
	from = json_string_value(json_object_get(etl, "source"));
	ours = json_is_integer(ack) && json_integer_value(ack) >= 0 &&
	    from && strcmp(from, source) == 0;
	if (ours)
		*upto = (unsigned long long)json_integer_value(ack);
	json_decref(v);
	return ours;
}

/*
 * Up to SIZE bytes from the FIFO (opened O_NONBLOCK so that opening waited
 * for no writer); 0 when its writer went away, -1 on an error.  With no
 * writer left the FIFO reports a hang-up at every poll, so a new writer (a
 * restarted pipeline) is looked for every 100 ms until one comes.
 */
static ssize_t
ack_read(char *chunk, size_t size)
{
	static int writer_gone;

	for (;;) {
		struct pollfd p = { .fd = fifo_fd, .events = POLLIN };
		ssize_t n;

		if (!writer_gone)
			poll(&p, 1, -1);
		else
			nanosleep(&(struct timespec){ .tv_nsec = 100000000L }, NULL);
		n = read(fifo_fd, chunk, size);
		if (n > 0 || (n < 0 && errno == EAGAIN)) {
			writer_gone = 0;  /* a writer, with or without data */
			if (n > 0)
				return n;
		} else if (n == 0 && !writer_gone) {
			writer_gone = 1;
			return 0;
		} else if (n < 0 && errno != EINTR) {
			return -1;
		}
	}
}

/* One complete line (or the start of one too long): an acknowledgement
 * of ours, or for the LINE handler. */
static void
ack_line(const char *line, size_t len, int too_long)
{
	unsigned long long upto;

	/* Ours are short; a record is not parsed unless it could be one. */
	if (!too_long && len < 4096 && memmem(line, len, "\"$etl\"", 6) &&
	    ack_parse(line, len, &upto))
		handlers.committed(upto, handlers.arg);
	else if (line_handler)
		line_handler(line, len, too_long, handlers.arg);
}

/* Read acknowledgements line by line; when the writer closes the FIFO,
 * wait for the next one (a restarted pipeline writes to it anew). */
static void *
ack_main(void *arg)
{
	struct buf line = BUF_INIT;
	char *chunk = malloc(CHUNK);
	int skipping = 0;
	ssize_t n;

	(void)arg;
	if (!chunk)
		msg_die(EXIT_SOFTWARE, fifo_path, "out of memory");
	for (;;) {
		while ((n = ack_read(chunk, CHUNK)) > 0) {
			const char *p = chunk, *end = chunk + n, *nl;

			while (p < end) {
				size_t take, room = max_line - line.len;

				nl = memchr(p, '\n', end - p);
				take = (nl ? nl : end) - p;
				if (nl && line.len == 0 && take <= max_line) {
					ack_line(p, take, 0);  /* whole in the chunk: no copy */
					p = nl + 1;
					continue;
				}
				if (take > room) {
					take = room;
					skipping = 1;
				}
				buf_add(&line, p, take);
				if (!nl)
					break;
				ack_line(line.data, line.len, skipping);
				line.len = 0;
				skipping = 0;
				p = nl + 1;
			}
		}
		if (n < 0) {
			msg_error(fifo_path, "%s", strerror(errno));
			sleep(1);
		}
		line.len = 0;
		skipping = 0;
		if (handlers.ended)
			handlers.ended(handlers.arg);
		msg_warn(fifo_path, "the acknowledgement stream ended; waiting for it again");
	}
	return NULL;
}

void
ack_open(const char *fifo)
{
	struct stat st;

	if (stat(fifo, &st) < 0)
		msg_die(errno == ENOENT ? EXIT_NOINPUT : EXIT_CONFIG, fifo,
		    "%s (make it with mkfifo)", strerror(errno));
	if ((fifo_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		msg_die(EXIT_CONFIG, fifo, "%s", strerror(errno));
	snprintf(source, sizeof source, "%s/%ld", msg_program, (long)getpid());
	fifo_path = fifo;
}

void
ack_start(const struct ack_handlers *h)
{
	pthread_t t;

	handlers = *h;
	if (pthread_create(&t, NULL, ack_main, NULL) != 0)
		msg_die(EXIT_SOFTWARE, fifo_path, "cannot start the reader thread");
	pthread_detach(t);
}
