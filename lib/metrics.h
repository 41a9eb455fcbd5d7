/*
 * metrics.h - what a long-running program shows Prometheus.
 *
 * A program keeps its counters and gauges as atomics where it counts
 * (stats_add on an atomic_ullong, as for --stats) and its distributions in
 * a metrics_histogram; when scraped, it writes each into a buffer in
 * Prometheus' text exposition format (version 0.0.4), one family at a
 * time, and serves the buffer with METRICS_CONTENT_TYPE:
 *
 *	metrics_counter(&out, "etl_http_records_total", "Records handed on.",
 *	    atomic_load(&stats.records_out));
 *	metrics_family(&out, "etl_http_requests_total", "counter", "Requests by status.");
 *	metrics_sample(&out, "etl_http_requests_total", "code", "202", n202);
 *	metrics_histogram_write(&out, "etl_http_ack_wait_seconds", "...", &ack_wait);
 *	metrics_process(&out);
 *
 * Everything here is safe to call from any thread: observations are
 * lock-free atomics, and a scrape reads them without stopping anyone.
 */
#ifndef ETL_METRICS_H
#define ETL_METRICS_H

#include "buf.h"

#include <stdatomic.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum { METRICS_MAX_BUCKETS = 24 };

/* A histogram: observations counted in buckets with fixed upper bounds
 * (ascending; +Inf is implied), their sum and their count.  Declare one
 * statically with its bounds:
 *	static const double bounds[] = { 0.001, 0.01, 0.1, 1, 10 };
 *	static struct metrics_histogram h = METRICS_HISTOGRAM(bounds);
 */
struct metrics_histogram {
	const double *bounds;
	size_t nbounds;                                   /* <= METRICS_MAX_BUCKETS */
	atomic_ullong in_bucket[METRICS_MAX_BUCKETS + 1];  /* not cumulative; last: +Inf */
	_Atomic double sum;
};

#define METRICS_HISTOGRAM(bounds) \
	{ (bounds), sizeof(bounds) / sizeof((bounds)[0]), { 0 }, 0 }

void metrics_observe(struct metrics_histogram *h, double value);

/* Note the process' start (process_start_time_seconds): call it first in main. */
void metrics_start(void);

/* "# HELP" and "# TYPE" lines for a family (TYPE: counter, gauge, histogram). */
void metrics_family(struct buf *out, const char *name, const char *type, const char *help);

/* One sample of a family: NAME{LABEL="VALUE"} N, or NAME N when LABEL is
 * NULL.  The label value is escaped as the format requires. */
void metrics_sample(struct buf *out, const char *name, const char *label,
    const char *label_value, unsigned long long n);
void metrics_sample_double(struct buf *out, const char *name, const char *label,
    const char *label_value, double value);

/* A whole family of one sample. */
void metrics_counter(struct buf *out, const char *name, const char *help,
    unsigned long long n);
void metrics_gauge(struct buf *out, const char *name, const char *help, double value);
void metrics_histogram_write(struct buf *out, const char *name, const char *help,
    struct metrics_histogram *h);

/* The process' own: process_start_time_seconds. */
void metrics_process(struct buf *out);

#endif
