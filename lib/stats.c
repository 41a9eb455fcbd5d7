/* stats.c - --stats, SIGUSR1 and --progress (see stats.h). */
#include "stats.h"
#include "msg.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

struct stats stats;

static double started;
static void (*extra_fields)(struct buf *line);
static int progress_on;
static int progress_shown;
static double progress_last;

double
stats_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
stats_now_coarse(void)
{
#ifdef CLOCK_MONOTONIC_COARSE
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
#else
	return stats_now();
#endif
}

static void
progress_clear(void)
{
	if (progress_shown && write(STDERR_FILENO, "\r\033[K", 4) < 0)
		return;
	progress_shown = 0;
}

static void
print_at_exit(void)
{
	stats_print();
}

void
stats_init(int enabled)
{
	started = stats_now();
	msg_on_exit(progress_clear);
	if (enabled)
		msg_on_exit(print_at_exit);
}

void
stats_set_extra(void (*extra)(struct buf *line))
{
	extra_fields = extra;
}

static unsigned long long
get(atomic_ullong *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

void
stats_print(void)
{
	struct buf line = BUF_INIT;
	char num[256];
	double seconds = stats_now() - started;
	unsigned long long out = get(&stats.records_out);

	snprintf(num, sizeof num,
	    "{\"program\":\"%s\",\"records_in\":%llu,\"records_out\":%llu,"
	    "\"rejected\":%llu,\"batches\":%llu,\"bytes_in\":%llu,"
	    "\"seconds\":%.3f,\"records_per_second\":%.0f",
	    msg_program, get(&stats.records_in), out, get(&stats.rejected),
	    get(&stats.batches), get(&stats.bytes_in), seconds,
	    seconds > 0 ? get(&stats.records_in) / seconds : 0.0);
	buf_adds(&line, num);
	if (extra_fields)
		extra_fields(&line);
	buf_add(&line, "}\n", 2);
	progress_clear();
	if (write(STDERR_FILENO, line.data, line.len) < 0)
		line.len = 0;  /* nowhere left to report it */
	buf_free(&line);
}

void
stats_progress_enable(void)
{
	progress_on = isatty(STDERR_FILENO);
}

void
stats_progress_tick(unsigned long long consumed, unsigned long long total)
{
	char line[160];
	double now, seconds;
	int n;

	if (!progress_on)
		return;
	now = stats_now();
	if (now - progress_last < 0.25)
		return;
	progress_last = now;
	seconds = now - started;
	if (total > 0)
		n = snprintf(line, sizeof line,
		    "\r%s: %llu records, %.1f MB, %.0f%%, %.0f records/s\033[K",
		    msg_program, get(&stats.records_in), consumed / 1e6,
		    100.0 * consumed / total,
		    seconds > 0 ? get(&stats.records_in) / seconds : 0.0);
	else
		n = snprintf(line, sizeof line,
		    "\r%s: %llu records, %.1f MB, %.0f records/s\033[K",
		    msg_program, get(&stats.records_in), consumed / 1e6,
		    seconds > 0 ? get(&stats.records_in) / seconds : 0.0);
	if (n > 0 && write(STDERR_FILENO, line, n) > 0)
		progress_shown = 1;
}
