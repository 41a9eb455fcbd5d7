/* Unit tests for lib/backlog.c: a fixed amount is admitted until a rate is
 * known; the rate is measured only while the reader always had something to
 * read; it converges on a reader's speed, follows it down when it slows and
 * up when it drains the pipe; what is held is bounded by rate * budget; an
 * empty output always admits; Retry-After says how long the excess takes. */
#define _GNU_SOURCE  /* F_GETPIPE_SZ */
#include "check.h"
#include "backlog.h"

#include <fcntl.h>
#include <math.h>
#include <unistd.h>

/* Feed B SECONDS of a reader taking RATE bytes/s from a pipe that a writer
 * keeps holding UNREAD bytes, sampled every 100 ms from time *NOW. */
static void
steady(struct backlog *b, double *now, unsigned long long *written,
    double seconds, double rate, size_t unread)
{
	for (double t = 0; t < seconds; t += 0.1) {
		*now += 0.1;
		*written += (unsigned long long)(rate * 0.1);
		backlog_sample(b, *now, *written, unread);
	}
}

/* A pipe sized by time: one second of its reader's pace. */
static void
pipe_sizes(void)
{
	struct backlog b;
	double now = 200;
	unsigned long long written = 0;
	size_t size;
	int fd[2], got;
	char page[4096] = { 0 };

	backlog_init_pipe(&b, 1);
	check(backlog_pipe_size(&b) == BACKLOG_PIPE_MIN, "a pipe starts at a page (%zu)",
	    backlog_pipe_size(&b));
	/* A reader that keeps up with 50 MB/s: the pipe empty at every sample. */
	steady(&b, &now, &written, 0.3, 50e6, 0);
	check(backlog_pipe_size(&b) == BACKLOG_PIPE_MAX,
	    "a reader keeping up with 50 MB/s gets the widest pipe within 300 ms (%zu)",
	    backlog_pipe_size(&b));
	/* It slows to 10 kB/s, backed up: within a few seconds, what it takes
	 * in a second, rounded down to a power of two. */
	steady(&b, &now, &written, 5, 10e3, 4096);
	check(backlog_pipe_size(&b) == 8192, "a reader at 10 kB/s: 8 KiB (%zu)", backlog_pipe_size(&b));
	steady(&b, &now, &written, 30, 100e3, 65536);
	check(backlog_pipe_size(&b) == 65536, "a reader at 100 kB/s: 64 KiB (%zu)", backlog_pipe_size(&b));
	steady(&b, &now, &written, 30, 0, 0);
	check(backlog_pipe_size(&b) == 65536, "an idle pipe keeps its size (%zu)", backlog_pipe_size(&b));

	/* A slow reader from the start, taking a whole page at once now and
	 * then: the pipe stays a page. */
	backlog_init_pipe(&b, 0.2);
	for (int i = 0; i < 40; i++) {
		now += 0.1;
		written += i % 4 == 0 ? 4096 : 0;
		backlog_sample(&b, now, written, i % 4 == 0 ? 0 : 4096);
	}
	check(backlog_pipe_size(&b) == BACKLOG_PIPE_MIN,
	    "a reader taking a page every 400 ms keeps a page for a 200 ms budget (%zu)",
	    backlog_pipe_size(&b));

	/* On a real pipe: grown at once, shrunk only once what it holds fits. */
	if (pipe(fd) != 0)
		return;
	size = (size_t)fcntl(fd[1], F_GETPIPE_SZ);
	backlog_init_pipe(&b, 1);
	now += 1;
	written = 0;
	for (int i = 0; i < 4; i++) {
		now += 0.1;
		written += 5000000;
		check(backlog_pipe_follow(&b, fd[1], &size, now, written, 0) == 0,
		    "a fast reader: nothing to shrink");
	}
	got = fcntl(fd[1], F_GETPIPE_SZ);
	check(got == BACKLOG_PIPE_MAX && size == (size_t)got, "a fast reader's pipe grows to 1 MiB (%d)", got);
	for (int i = 0; i < 4; i++)
		if (write(fd[1], page, sizeof page) != (ssize_t)sizeof page)
			break;
	for (int i = 0; i < 50; i++)
		backlog_pipe_follow(&b, fd[1], &size, now += 0.1, written, 4 * sizeof page);
	check(backlog_pipe_follow(&b, fd[1], &size, now += 0.1, written, 4 * sizeof page) == BACKLOG_PIPE_MIN,
	    "a stalled reader: the pipe is to shrink to a page");
	got = fcntl(fd[1], F_GETPIPE_SZ);
	check(got >= 4 * (int)sizeof page && size == (size_t)got,
	    "but not below the 16 KiB it holds (%d)", got);
	for (int i = 0; i < 4; i++)
		if (read(fd[0], page, sizeof page) != (ssize_t)sizeof page)
			break;
	backlog_pipe_follow(&b, fd[1], &size, now += 0.1, written, 0);
	got = fcntl(fd[1], F_GETPIPE_SZ);
	check(got <= 8192 && size == (size_t)got, "once read, it shrinks (%d)", got);
	close(fd[0]);
	close(fd[1]);
}

int
main(void)
{
	struct backlog b;
	double now = 100, r;
	unsigned long long written = 0;

	backlog_init(&b, 10, 0);
	check(backlog_rate(&b) == 0, "no rate before a sample");
	check(backlog_admits(&b, BACKLOG_START), "before a rate is known, %d bytes are admitted", BACKLOG_START);
	check(!backlog_admits(&b, BACKLOG_START + 1), "and no more");
	check(backlog_admits(&b, 0), "nothing held: admitted");
	check(backlog_retry_after(&b, 1 << 30) == 1, "Retry-After without a rate: 1 s");

	/* A reader that keeps up: the pipe is empty at every sample. */
	steady(&b, &now, &written, 5, 50e6, 0);
	check(backlog_rate(&b) == 0, "a reader that keeps up gives no rate (%.0f)", backlog_rate(&b));

	/* A backed-up reader at 100 kB/s: the estimate rises from the pace
	 * the start allowance stood for (1.6 kB/s) and converges on it. */
	steady(&b, &now, &written, 1, 100e3, 512 << 10);
	r = backlog_rate(&b);
	check(r > 30e3 && r < 60e3, "after 1 s it rises gently (%.0f)", r);
	steady(&b, &now, &written, 30, 100e3, 512 << 10);
	r = backlog_rate(&b);
	check(fabs(r - 100e3) < 1e3, "a backed-up reader at 100 kB/s is measured as such (%.0f)", r);
	check(backlog_admits(&b, 990000), "0.99 MB held drains in 10 s at 100 kB/s: admitted");
	check(!backlog_admits(&b, 1000000 + 20000), "1.02 MB held does not: refused");
	check(backlog_retry_after(&b, 1000000 + 20000) == 1, "Retry-After rounds up to 1 s");
	check(backlog_retry_after(&b, 1450000) == 5, "0.45 MB over at 100 kB/s: Retry-After 5 s (%u)",
	    backlog_retry_after(&b, 1450000));
	check(backlog_retry_after(&b, 100000000) == 60, "Retry-After is at most 60 s");

	/* It slows to 10 kB/s: the estimate follows within a few time constants. */
	steady(&b, &now, &written, 2, 10e3, 512 << 10);
	r = backlog_rate(&b);
	check(r > 10e3 && r < 100e3, "after 2 s at 10 kB/s the estimate is on its way (%.0f)", r);
	steady(&b, &now, &written, 10, 10e3, 512 << 10);
	r = backlog_rate(&b);
	check(fabs(r - 10e3) < 1e3, "after 12 s it is 10 kB/s (%.0f)", r);

	/* It drains the pipe, then the pipeline idles: the estimate stays. */
	now += 0.1;
	written += 1000;
	backlog_sample(&b, now, written, 0);
	r = backlog_rate(&b);
	steady(&b, &now, &written, 30, 0, 0);
	check(fabs(backlog_rate(&b) - r) < 1, "an idle pipeline does not lower the estimate");

	/* A stalled reader: the rate decays, and only an empty output admits. */
	steady(&b, &now, &written, 1, 10e3, 64 << 10);
	steady(&b, &now, &written, 30, 0, 64 << 10);
	check(backlog_rate(&b) < 10, "a stalled reader is measured stalled (%.3f)", backlog_rate(&b));
	check(!backlog_admits(&b, 1000), "a stalled reader with 1000 bytes held: refused");
	check(backlog_admits(&b, 0), "a stalled reader with nothing held: one more admitted");

	/* It recovers and empties the pipe in one interval: that counts,
	 * through the average, not as the rate itself. */
	now += 0.1;
	backlog_sample(&b, now, written, 0);
	r = backlog_rate(&b);
	check(r > 20e3 && r < 60e3, "64 KiB taken in 100 ms moves the estimate up by a twentieth of 655 kB/s (%.0f)", r);

	/* Samples closer than 50 ms are merged into the next. */
	backlog_sample(&b, now + 0.01, written, 1 << 20);
	backlog_sample(&b, now + 0.02, written, 1 << 20);
	check(backlog_rate(&b) == r, "samples 10 ms apart change nothing");

	/* The warm-up: the first 2 MiB taken, at 5 MB/s, measure nothing;
	 * after them the loader's 100 kB/s is the rate. */
	backlog_init(&b, 10, 2 << 20);
	written = 0;
	steady(&b, &now, &written, 0.4, 5e6, 64 << 10);
	check(backlog_rate(&b) == 0, "the later stages' buffers filling at 5 MB/s give no rate (%.0f)",
	    backlog_rate(&b));
	steady(&b, &now, &written, 30, 100e3, 64 << 10);
	r = backlog_rate(&b);
	check(fabs(r - 100e3) < 1e3, "once they are full, the loader's pace is the rate (%.0f)", r);
	/* What they hold counts as held: 2 MiB takes 21 s at 100 kB/s, past
	 * the 10 s budget, so only an empty output admits. */
	check(!backlog_admits(&b, 1000), "2 MiB downstream at 100 kB/s: 1000 bytes more refused");
	check(backlog_admits(&b, 0), "and nothing held: one more admitted");
	check(backlog_retry_after(&b, 1000) == 11, "Retry-After: the 1.1 MB over the budget at 100 kB/s, 11 s (%u)",
	    backlog_retry_after(&b, 1000));
	steady(&b, &now, &written, 30, 1e6, 64 << 10);
	check(backlog_admits(&b, 10000000 - (2 << 20) - 10000),
	    "at 1 MB/s, 10 MB less the 2 MiB downstream is admitted");
	check(!backlog_admits(&b, 10000000 - (2 << 20) + 10000), "and no more");

	/* No budget: everything is admitted. */
	backlog_init(&b, 0, 0);
	check(backlog_admits(&b, (size_t)1 << 40), "budget 0: no bound");

	pipe_sizes();
	return 0;
}
