/*
 * backlog.c - the rate the output is taken at, and the time budget of what
 * is held (see backlog.h).
 */
#include "backlog.h"

#include <math.h>

/* Samples closer together than this are merged into the next one: a rate
 * over a few milliseconds is mostly noise. */
#define BACKLOG_MIN_INTERVAL_S 0.05

void
backlog_init(struct backlog *b, double budget_s, unsigned long long warmup)
{
	b->budget_s = budget_s;
	b->warmup = warmup;
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
		if (b->last_unread > 0) {
			/* The reader had something to read when the interval
			 * began (if it emptied the pipe before the end, it went
			 * at least this fast). */
			if (rate < 0)  /* from the pace BACKLOG_START stood for */
				rate = b->budget_s > 0 ? BACKLOG_START / b->budget_s : sample;
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
