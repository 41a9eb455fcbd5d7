/* Unit tests for lib/retry.c: the delays double from 100 ms up to 10 s,
 * each with jitter in its upper half; a run gives up once --retry-for has
 * passed; and two processes do not draw the same jitter (copies of a
 * pipeline started together must not retry in step). */
#include "check.h"
#include "retry.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

enum { DRAWS = 8 };

/* The first DRAWS delays of a fresh run, in a child process, through a pipe. */
static void
delays_of_a_child(long out[DRAWS])
{
	int p[2];
	pid_t pid;

	if (pipe(p) != 0 || (pid = fork()) < 0)
		abort();
	if (pid == 0) {
		struct retry r;
		long d[DRAWS];

		close(p[0]);
		retry_init(&r, 3600 * 1000);
		for (int i = 0; i < DRAWS; i++)
			d[i] = retry_failed(&r, 0);
		_exit(write(p[1], d, sizeof d) == (ssize_t)sizeof d ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], out, sizeof(long) * DRAWS) != (ssize_t)(sizeof(long) * DRAWS))
		abort();
	close(p[0]);
	waitpid(pid, NULL, 0);
}

int
main(void)
{
	struct retry r;
	long a[DRAWS], b[DRAWS];
	int in_range = 1, same = 1;
	long d;

	/* First, before this process seeds anything the children would inherit. */
	delays_of_a_child(a);
	delays_of_a_child(b);
	for (int i = 0; i < DRAWS; i++)
		same &= a[i] == b[i];
	check(!same, "two processes draw different jitter");

	retry_init(&r, 3600 * 1000);
	for (int i = 0; i < 12; i++) {
		long cap = 100L << (i < 7 ? i : 7);

		if (cap > 10000)
			cap = 10000;
		d = retry_failed(&r, 0);
		if (d < cap / 2 || d > cap) {
			in_range = 0;
			printf("# attempt %d: %ld ms, not within [%ld, %ld]\n", i, d, cap / 2, cap);
		}
	}
	check(in_range, "delays double from 100 ms to 10 s, jittered in their upper half");
	check(retry_failed(&r, 20000) == 20000, "a server's Retry-After longer than the delay is honoured");
	retry_succeeded(&r);
	d = retry_failed(&r, 0);
	check(d >= 50 && d <= 100, "after a success the next failure starts again at 100 ms (%ld)", d);

	retry_init(&r, 0);
	check(retry_failed(&r, 0) == -1, "with --retry-for 0 the first failure gives up");
	return 0;
}
