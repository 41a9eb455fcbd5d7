/* metrics.c - Prometheus' text exposition format (see metrics.h). */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double started;

void
metrics_start(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	started = ts.tv_sec + ts.tv_nsec / 1e9;
}

void
metrics_observe(struct metrics_histogram *h, double value)
{
	size_t i = 0;
	double sum = atomic_load_explicit(&h->sum, memory_order_relaxed);

	while (i < h->nbounds && value > h->bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->in_bucket[i], 1, memory_order_relaxed);
	/* No atomic add for doubles in C11: retry until no one else got between. */
	while (!atomic_compare_exchange_weak_explicit(&h->sum, &sum, sum + value,
	    memory_order_relaxed, memory_order_relaxed))
		;
}

/* HELP text: a backslash and a newline are escaped. */
static void
add_escaped(struct buf *out, const char *s, int quotes)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_adds(out, "\\\\");
		else if (*s == '\n')
			buf_adds(out, "\\n");
		else if (*s == '"' && quotes)
			buf_adds(out, "\\\"");
		else
			buf_addc(out, *s);
	}
}

void
metrics_family(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_adds(out, "# HELP ");
	buf_adds(out, name);
	buf_addc(out, ' ');
	add_escaped(out, help, 0);
	buf_adds(out, "\n# TYPE ");
	buf_adds(out, name);
	buf_addc(out, ' ');
	buf_adds(out, type);
	buf_addc(out, '\n');
}

static void
add_name(struct buf *out, const char *name, const char *label, const char *label_value)
{
	buf_adds(out, name);
	if (label) {
		buf_addc(out, '{');
		buf_adds(out, label);
		buf_adds(out, "=\"");
		add_escaped(out, label_value, 1);
		buf_adds(out, "\"}");
	}
	buf_addc(out, ' ');
}

void
metrics_sample(struct buf *out, const char *name, const char *label,
    const char *label_value, unsigned long long n)
{
	char tmp[32];

	add_name(out, name, label, label_value);
	snprintf(tmp, sizeof tmp, "%llu\n", n);
	buf_adds(out, tmp);
}

/* A float as the format spells it: +Inf, -Inf, NaN, or the shortest
 * decimal that reads back the same. */
static void
add_double(struct buf *out, double v)
{
	char tmp[40];

	if (isnan(v))
		snprintf(tmp, sizeof tmp, "NaN");
	else if (isinf(v))
		snprintf(tmp, sizeof tmp, "%sInf", v > 0 ? "+" : "-");
	else {
		for (int precision = 6; precision <= 17; precision++) {
			snprintf(tmp, sizeof tmp, "%.*g", precision, v);
			if (strtod(tmp, NULL) == v)
				break;
		}
	}
	buf_adds(out, tmp);
}

void
metrics_sample_double(struct buf *out, const char *name, const char *label,
    const char *label_value, double value)
{
	add_name(out, name, label, label_value);
	add_double(out, value);
	buf_addc(out, '\n');
}

void
metrics_counter(struct buf *out, const char *name, const char *help,
    unsigned long long n)
{
	metrics_family(out, name, "counter", help);
	metrics_sample(out, name, NULL, NULL, n);
}

void
metrics_gauge(struct buf *out, const char *name, const char *help, double value)
{
	metrics_family(out, name, "gauge", help);
	metrics_sample_double(out, name, NULL, NULL, value);
}

/* The buckets are read one by one while others may observe: the +Inf
 * bucket and the count are the total of what was read, so they agree
 * with each other and the buckets stay cumulative. */
void
metrics_histogram_write(struct buf *out, const char *name, const char *help,
    struct metrics_histogram *h)
{
	struct buf series = BUF_INIT, le = BUF_INIT;
	unsigned long long total = 0;

	metrics_family(out, name, "histogram", help);
	buf_adds(&series, name);
	buf_adds(&series, "_bucket");
	for (size_t i = 0; i <= h->nbounds; i++) {
		total += atomic_load_explicit(&h->in_bucket[i], memory_order_relaxed);
		le.len = 0;
		add_double(&le, i < h->nbounds ? h->bounds[i] : INFINITY);
		metrics_sample(out, buf_cstr(&series), "le", buf_cstr(&le), total);
	}
	series.len = 0;
	buf_adds(&series, name);
	buf_adds(&series, "_sum");
	metrics_sample_double(out, buf_cstr(&series), NULL, NULL,
	    atomic_load_explicit(&h->sum, memory_order_relaxed));
	series.len = 0;
	buf_adds(&series, name);
	buf_adds(&series, "_count");
	metrics_sample(out, buf_cstr(&series), NULL, NULL, total);
	buf_free(&series);
	buf_free(&le);
}

void
metrics_process(struct buf *out)
{
	metrics_gauge(out, "process_start_time_seconds",
	    "Start time of the process since unix epoch in seconds.", started);
}
