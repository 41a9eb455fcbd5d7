/*
 * retry.c - exponential backoff with jitter, bounded by time, not by count:
 * an operator thinks "keep trying for five minutes", not "try nine times".
 */
#include "retry.h"
#include "stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { RETRY_FIRST_MS = 100, RETRY_MAX_MS = 10000 };

/* Each process its own jitter: copies of a pipeline started together must
 * not retry in step. */
static void
seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	srand((unsigned)ts.tv_sec ^ (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 16));
}

void
retry_init(struct retry *r, long long limit_ms)
{
	static pthread_once_t seeded = PTHREAD_ONCE_INIT;

	pthread_once(&seeded, seed);
	r->limit_ms = limit_ms;
	r->first_failure = 0;
	r->attempt = 0;
}

long
retry_failed(struct retry *r, long min_ms)
{
	int doublings = r->attempt < 7 ? r->attempt : 7;
	long cap = (long)RETRY_FIRST_MS << doublings;
	double now = stats_now();

	if (r->attempt++ == 0)
		r->first_failure = now;
	if ((now - r->first_failure) * 1000 >= r->limit_ms)
		return -1;
	if (min_ms > 0 && (now - r->first_failure) * 1000 + min_ms > r->limit_ms)
		return -1;  /* the server asks us back only after the limit */
	if (cap > RETRY_MAX_MS)
		cap = RETRY_MAX_MS;
	cap = cap / 2 + rand() % (cap / 2 + 1);
	return cap < min_ms ? min_ms : cap;
}

void
retry_succeeded(struct retry *r)
{
	r->first_failure = 0;
	r->attempt = 0;
}

void
retry_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}
