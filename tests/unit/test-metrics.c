/* Unit tests for lib/metrics.c: the exposition of counters, gauges and
 * histograms (bucket edges, +Inf, cumulative counts), label and help
 * escaping, and observations from many threads at once. */
#include "check.h"
#include "metrics.h"

#include <pthread.h>

static const double bounds[] = { 0.005, 0.1, 1, 2.5 };
static struct metrics_histogram hist = METRICS_HISTOGRAM(bounds);

static void
test_families(void)
{
	struct buf out = BUF_INIT;

	metrics_counter(&out, "etl_x_total", "Things\\done\nhere.", 18446744073709551615ULL);
	metrics_gauge(&out, "etl_y", "A gauge.", 0.25);
	metrics_family(&out, "etl_z_total", "counter", "Labelled.");
	metrics_sample(&out, "etl_z_total", "path", "a\"b\\c\nd", 7);
	metrics_sample_double(&out, "etl_w", NULL, NULL, 1.0 / 3.0);
	CHECK_STR("# HELP etl_x_total Things\\\\done\\nhere.\n"
	    "# TYPE etl_x_total counter\n"
	    "etl_x_total 18446744073709551615\n"
	    "# HELP etl_y A gauge.\n# TYPE etl_y gauge\netl_y 0.25\n"
	    "# HELP etl_z_total Labelled.\n# TYPE etl_z_total counter\n"
	    "etl_z_total{path=\"a\\\"b\\\\c\\nd\"} 7\n"
	    "etl_w 0.3333333333333333\n", buf_cstr(&out),
	    "counters, gauges, labels and help escaped, integers exact, reals shortest");
	buf_free(&out);
}

static void
test_histogram(void)
{
	struct buf out = BUF_INIT;
	/* On an edge counts in that bucket (le: less than or equal). */
	static const double values[] = { 0, 0.005, 0.0051, 0.1, 1, 2.5, 2.5000001, 100 };

	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
		metrics_observe(&hist, values[i]);
	metrics_histogram_write(&out, "etl_wait_seconds", "Waits.", &hist);
	CHECK_STR("# HELP etl_wait_seconds Waits.\n# TYPE etl_wait_seconds histogram\n"
	    "etl_wait_seconds_bucket{le=\"0.005\"} 2\n"
	    "etl_wait_seconds_bucket{le=\"0.1\"} 4\n"
	    "etl_wait_seconds_bucket{le=\"1\"} 5\n"
	    "etl_wait_seconds_bucket{le=\"2.5\"} 6\n"
	    "etl_wait_seconds_bucket{le=\"+Inf\"} 8\n"
	    "etl_wait_seconds_sum 106.1101001\n"
	    "etl_wait_seconds_count 8\n", buf_cstr(&out),
	    "histogram: cumulative buckets, edges inclusive, +Inf, sum and count");
	buf_free(&out);
}

enum { THREADS = 4, EACH = 100000 };
static struct metrics_histogram shared = METRICS_HISTOGRAM(bounds);

static void *
observe_many(void *arg)
{
	(void)arg;
	for (int i = 0; i < EACH; i++)
		metrics_observe(&shared, i % 2 ? 0.5 : 2);
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t[THREADS];
	struct buf out = BUF_INIT;
	char want[128];

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, observe_many, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	metrics_histogram_write(&out, "h", "h", &shared);
	snprintf(want, sizeof want, "h_sum %d\nh_count %d\n",
	    THREADS * EACH / 2 * 5 / 2, THREADS * EACH);
	check(strstr(buf_cstr(&out), want) != NULL,
	    "%d threads observing at once: no observation lost", THREADS);
	buf_free(&out);
}

int
main(void)
{
	test_families();
	test_histogram();
	test_threads();
	return 0;
}
