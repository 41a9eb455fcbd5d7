/*
 * backlog.c - the rate the output is taken at, and the time budget of what
 * is held (see backlog.h).
 */
#define _GNU_SOURCE  /* F_SETPIPE_SZ */
#include "backlog.h"

#include <fcntl.h>
#include <math.h>

/* Samples closer together than this are merged into the next one: a rate
 * over a few milliseconds is mostly noise. */
#define BACKLOG_MIN_INTERVAL_S 0.05

void
backlog_init(struct backlog *b, double budget_s, unsigned long long warmup)
{
	b->budget_s = budget_s;
	b->warmup = warmup;
	/* From the pace BACKLOG_START stood for. */
	b->start_rate = budget_s > 0 ? BACKLOG_START / budget_s : -1;
	b->pipe = 0;
	atomic_store(&b->rate, -1.0);  /* unknown */
	b->last_t = 0;
	b->last_written = 0;
	b->last_unread = 0;
	b->sampled = 0;
}

void
backlog_sample(struct backlog *b, double now, unsigned long long written,
    size_t unread)
{
	double dt = now - b->last_t, taken, sample, rate;


	if (b->sampled && dt < BACKLOG_MIN_INTERVAL_S)
		return;
	/* The first bytes fill the later stages' buffers at full speed:
	 * the next stage's pace shows only once they are full. */
	if (b->sampled && dt > 0 && written - unread > b->warmup) {
		/* What the reader took: what was written, less what is still
		 * there.  A write between the two readings can make it look
		 * negative. */
		taken = (double)(written - b->last_written) + (double)b->last_unread
		    - (double)unread;
		if (taken < 0)
			taken = 0;
		sample = taken / dt;
		rate = atomic_load(&b->rate);
		if (rate < 0)
			rate = b->start_rate > 0 ? b->start_rate : sample;
		/* The reader had something to read when the interval began
		 * (if it emptied the pipe before the end, it went at least
		 * this fast); or, for a pipe's size, it kept up with all that
		 * was written: at least this fast. */
		if (b->last_unread > 0 || (b->pipe && sample > rate)) {
			rate += (sample - rate) * (1 - exp(-dt / (sample < rate
			    ? BACKLOG_TAU_DOWN_S : BACKLOG_TAU_UP_S)));
			atomic_store(&b->rate, rate);
		}
	}
	b->last_t = now;
	b->last_written = written;
	b->last_unread = unread;
	b->sampled = 1;
}

int
backlog_admits(const struct backlog *b, size_t held)
{
	double rate = atomic_load(&b->rate);

	if (b->budget_s <= 0 || held == 0)
		return 1;
	if (rate < 0)
		return held <= BACKLOG_START;
	/* Once the rate shows, the later stages' buffers are full: what they
	 * hold was answered for too. */
	return (double)held + (double)b->warmup <= rate * b->budget_s;
}

unsigned
backlog_retry_after(const struct backlog *b, size_t held)
{
	double rate = atomic_load(&b->rate), over;

	if (rate <= 0)
		return 1;
	over = ((double)held + (double)b->warmup - rate * b->budget_s) / rate;
	return over <= 1 ? 1 : over >= 60 ? 60 : (unsigned)ceil(over);
}

double
backlog_rate(const struct backlog *b)
{
	double rate = atomic_load(&b->rate);

	return rate < 0 ? 0 : rate;
}

void
backlog_init_pipe(struct backlog *b, double budget_s)
{
	backlog_init(b, budget_s, 0);
	b->start_rate = budget_s > 0 ? BACKLOG_PIPE_MIN / budget_s : -1;
	b->pipe = 1;
}

size_t
backlog_pipe_size(const struct backlog *b)
{
	double rate = atomic_load(&b->rate), want;
	size_t size = BACKLOG_PIPE_MIN;

	if (b->budget_s <= 0)
		return BACKLOG_PIPE_MAX;
	want = (rate < 0 ? b->start_rate : rate) * b->budget_s;
	/* The kernel rounds a size up to a power of two pages: take the one
	 * below, so that the pipe holds no more than the budget. */
	while (size * 2 <= want && size < BACKLOG_PIPE_MAX)
		size *= 2;
	return size;
}

void
backlog_pipe_resize(int fd, size_t *size, size_t want)
{
#ifdef F_SETPIPE_SZ
	int got = fcntl(fd, F_SETPIPE_SZ, (int)want);

	if (got > 0)
		*size = (size_t)got;
#else
	(void)fd;
	(void)size;
	(void)want;
#endif
}

size_t
backlog_pipe_follow(struct backlog *b, int fd, size_t *size, double now,
    unsigned long long written, size_t unread)
{
	size_t want;

	backlog_sample(b, now, written, unread);
	want = backlog_pipe_size(b);
	if (want > *size || (want < *size && unread <= want))
		backlog_pipe_resize(fd, size, want);
	return want < *size ? want : 0;
}
