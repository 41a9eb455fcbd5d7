/* Unit tests for lib/backlog.c: a fixed amount is admitted until a rate is
 * known; the rate is measured only while the reader always had something to
 * read; it converges on a reader's speed, follows it down when it slows and
 * up when it drains the pipe; what is held is bounded by rate * budget; an
 * empty output always admits; Retry-After says how long the excess takes. */
#include "check.h"
#include "backlog.h"

#include <math.h>

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
	 * the start allowance stood for (26 kB/s) and converges on it. */
	steady(&b, &now, &written, 1, 100e3, 512 << 10);
	r = backlog_rate(&b);
	check(r > 26e3 && r < 60e3, "after 1 s it rises gently (%.0f)", r);
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
	return 0;
}
