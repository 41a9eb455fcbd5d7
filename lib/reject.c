/* reject.c - the reject channel (see reject.h). */
#include "reject.h"
#include "buf.h"
#include "exitcode.h"
#include "jsonout.h"
#include "msg.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static int reject_fd = -1;
static const char *reject_path;
static long long reject_max = -1;
static long long reject_count;
static pthread_mutex_t reject_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*inline_put)(const char *line, size_t len);
static int inline_on;               /* --reject -: control lines in the output */

void
reject_inline(void (*put)(const char *line, size_t len))
{
	inline_put = put;
}

void
reject_init(const char *path, long long max_rejects)
{
	reject_max = max_rejects;
	if (!path)
		return;
	reject_path = path;
	if (strcmp(path, "-") == 0) {
		if (!inline_put)
			msg_die(EXIT_USAGE, "--reject", "'-' (rejects in the output)"
			    " is for programs whose output keeps stream order, like etl-map");
		inline_on = 1;
		return;
	}
	/* Append: a re-run must not wipe the rejects of the run before. */
	reject_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (reject_fd < 0)
		msg_die(errno == ENOENT ? EXIT_NOINPUT : EXIT_IO, path,
		    "cannot open reject file: %s", strerror(errno));
}

int
reject_enabled(void)
{
	return reject_fd >= 0 || inline_on;
}

int
reject_would_stop(void)
{
	int stop;

	pthread_mutex_lock(&reject_lock);
	stop = reject_fd < 0 || (reject_max >= 0 && reject_count >= reject_max);
	pthread_mutex_unlock(&reject_lock);
	return stop;
}

static void
write_reject_line(const struct buf *line)
{
	size_t off = 0;

	while (off < line->len) {
		ssize_t n = write(reject_fd, line->data + off, line->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			msg_die(EXIT_IO, reject_path, "write failed: %s",
			    n < 0 ? strerror(errno) : "no progress");
		off += n;
	}
}

void
reject_record(const char *where, const char *reason, const json_t *record,
    const char *raw, size_t rawlen)
{
	struct buf line = BUF_INIT;

	pthread_mutex_lock(&reject_lock);
	if (reject_fd < 0 && !inline_on)
		msg_die(EXIT_DATA, where, "%s", reason);
	if (reject_max >= 0 && reject_count >= reject_max)
		msg_die(EXIT_DATA, where, "%s (more than %lld rejects)", reason,
		    reject_max);
	reject_count++;
	stats_add(&stats.rejected, 1);

	buf_adds(&line, inline_on ? "{\"$etl\":{\"reject\":{\"error\":" : "{\"error\":");
	jsonout_string_lossy(&line, reason, strlen(reason));
	buf_adds(&line, ",\"program\":");
	jsonout_string_lossy(&line, msg_program, strlen(msg_program));
	buf_adds(&line, ",\"where\":");
	jsonout_string_lossy(&line, where, strlen(where));
	buf_adds(&line, ",\"record\":");
	if (record)
		jsonout_value(&line, record);
	else
		jsonout_string_lossy(&line, raw, rawlen);
	buf_adds(&line, inline_on ? "}}}\n" : "}\n");
	if (inline_on)
		inline_put(line.data, line.len);
	else
		write_reject_line(&line);
	buf_free(&line);
	msg_info(where, "rejected: %s", reason);
	pthread_mutex_unlock(&reject_lock);
}
