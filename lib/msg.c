/*
 * msg.c - messages and the orderly exit.
 *
 * Each message is formatted into one buffer and written with a single
 * write(2), so lines from several threads never interleave mid-line.
 */
#include "msg.h"
#include "exitcode.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *msg_program = "etl";
int msg_verbosity = 1;
int msg_exit_code;
void (*msg_exit_override)(int code);

enum { MAX_HOOKS = 8 };
static void (*exit_hooks[MAX_HOOKS])(void);
static int nexit_hooks;

void
msg_init(const char *program)
{
	const char *slash = strrchr(program, '/');

	msg_program = slash ? slash + 1 : program;
}

void
msg_verror(const char *where, const char *fmt, va_list ap)
{
	char line[4096];
	int n;

	if (where)
		n = snprintf(line, sizeof line, "%s: %s: ", msg_program, where);
	else
		n = snprintf(line, sizeof line, "%s: ", msg_program);
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	vsnprintf(line + n, sizeof line - n, fmt, ap);
	n = strlen(line);
	if ((size_t)n >= sizeof line - 1)
		n = sizeof line - 2;
	line[n++] = '\n';
	/* Best effort: there is nowhere left to report a failing stderr. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void
msg_error(const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_verror(where, fmt, ap);
	va_end(ap);
}

void
msg_warn(const char *where, const char *fmt, ...)
{
	va_list ap;

	if (msg_verbosity < 1)
		return;
	va_start(ap, fmt);
	msg_verror(where, fmt, ap);
	va_end(ap);
}

void
msg_info(const char *where, const char *fmt, ...)
{
	va_list ap;

	if (msg_verbosity < 2)
		return;
	va_start(ap, fmt);
	msg_verror(where, fmt, ap);
	va_end(ap);
}

void
msg_on_exit(void (*hook)(void))
{
	if (nexit_hooks == MAX_HOOKS)
		abort();
	exit_hooks[nexit_hooks++] = hook;
}

_Noreturn void
msg_exit(int code)
{
	static pthread_mutex_t exiting = PTHREAD_MUTEX_INITIALIZER;
	static pthread_t owner;
	static int running;

	/*
	 * Only one thread runs the hooks.  A hook that dies again (a flush
	 * that fails) re-enters here on the same thread: the remaining hooks
	 * still run and the worse status wins.
	 */
	if (running && pthread_equal(owner, pthread_self())) {
		if (code > msg_exit_code)
			msg_exit_code = code;
	} else {
		pthread_mutex_lock(&exiting);
		running = 1;
		owner = pthread_self();
		msg_exit_code = code;
	}
	while (nexit_hooks > 0) {
		void (*hook)(void) = exit_hooks[--nexit_hooks];
		hook();
	}
	if (msg_exit_override) {
		running = 0;
		pthread_mutex_unlock(&exiting);
		msg_exit_override(msg_exit_code);
	}
	exit(msg_exit_code);
}

_Noreturn void
msg_die(int code, const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_verror(where, fmt, ap);
	va_end(ap);
	msg_exit(code);
}

const char *
exitcode_name(int code)
{
	switch (code) {
	case EXIT_DONE: return "done";
	case EXIT_USAGE: return "usage error";
	case EXIT_DATA: return "data error";
	case EXIT_NOINPUT: return "input not found";
	case EXIT_UNAVAILABLE: return "service unavailable";
	case EXIT_SOFTWARE: return "internal error";
	case EXIT_IO: return "I/O error";
	case EXIT_TEMPFAIL: return "temporary failure";
	case EXIT_CONFIG: return "configuration error";
	}
	return "unknown";
}
