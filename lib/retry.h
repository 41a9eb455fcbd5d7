/*
 * retry.h - the one retry policy of every sink.
 *
 * A transient failure (a lost connection, a deadlock, a 503) is tried again
 * after a delay that doubles from 100 ms up to 10 s, with full jitter on
 * its upper half so that many clients failing together do not come back
 * together.  A run of failures gives up once --retry-for has passed since
 * its first failure; a success ends the run.  A server that names its own
 * delay (HTTP Retry-After) is waited for at least that long, and when that
 * delay would end past --retry-for the run gives up at once rather than
 * wait for an attempt it could not make.
 *
 * A program with many requests in flight keeps one struct retry per
 * request and, instead of sleeping, schedules the next attempt that many
 * milliseconds later in its event loop.
 *
 *	struct retry r;
 *	retry_init(&r, conf.retry_for_ms);
 *	while (attempt() fails transiently) {
 *		long ms = retry_failed(&r, 0);
 *		if (ms < 0) give up: exit 75;
 *		retry_sleep_ms(ms);
 *	}
 *	retry_succeeded(&r);
 */
#ifndef ETL_RETRY_H
#define ETL_RETRY_H

enum { RETRY_DEFAULT_FOR_MS = 5 * 60 * 1000 };  /* --retry-for 5m */

struct retry {
	long long limit_ms;      /* --retry-for */
	double first_failure;    /* monotonic seconds; 0 while nothing failed */
	int attempt;             /* failures in the current run */
};

void retry_init(struct retry *r, long long limit_ms);

/*
 * Count a failure.  Returns the delay in ms before the next attempt (at
 * least MIN_MS, e.g. a server's Retry-After), or -1 once the limit has
 * passed, or would have by the end of a MIN_MS delay: then give up.
 */
long retry_failed(struct retry *r, long min_ms);

/* A success: the next failure starts a new run with a full limit. */
void retry_succeeded(struct retry *r);

/* Sleep MS milliseconds, whatever signals arrive meanwhile. */
void retry_sleep_ms(long ms);

#endif
