/*
 * stats.h - the counters behind --stats, SIGUSR1 and --progress.
 *
 * One set of counters per process.  They are atomic so that worker threads
 * (etl-map -j, the HTTP server's threads) can count without locks.
 */
#ifndef ETL_STATS_H
#define ETL_STATS_H

#include "buf.h"

#include <stdatomic.h>

struct stats {
	atomic_ullong records_in;
	atomic_ullong records_out;
	/* Records read that were written onward (once the writer wrote them:
	 * writer.h's ledger), committed or acknowledged: what a stop that
	 * gives up counts as not lost (sig.h).  Not in the stats line. */
	atomic_ullong delivered;
	atomic_ullong rejected;
	atomic_ullong batches;       /* batch lines written (or committed) */
	atomic_ullong bytes_in;      /* input bytes, after decompression */
};

extern struct stats stats;

static inline void
stats_add(atomic_ullong *counter, unsigned long long n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

/* Start the clock; with ENABLED, print the stats line at exit. */
void stats_init(int enabled);

/* A program's own fields for the stats line, appended as ,"key":value... */
void stats_set_extra(void (*extra)(struct buf *line));

/* Print the one-line JSON summary on stderr now. */
void stats_print(void);

/* --progress: a meter on stderr, only when stderr is a terminal. */
void stats_progress_enable(void);
/* Called by the reader after each read: CONSUMED of TOTAL input bytes
 * (TOTAL 0 when unknown, e.g. a pipe). */
void stats_progress_tick(unsigned long long consumed, unsigned long long total);

double stats_now(void);  /* monotonic seconds */
/* The same clock to a few milliseconds, for deadlines checked per record:
 * several times cheaper to read. */
double stats_now_coarse(void);

#endif
