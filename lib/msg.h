/*
 * msg.h - the one way an etl program talks to its operator.
 *
 * Every message is one line on stderr of the form "program: where: what",
 * where "where" is a place in the input (file:line), a file, or a stage.
 * Warnings can be quieted with -q; details appear with -v; errors always show.
 */
#ifndef ETL_MSG_H
#define ETL_MSG_H

#include <stdarg.h>

extern const char *msg_program;  /* "etl-batch": set once by msg_init */
extern int msg_verbosity;        /* 0 with -q, 1 by default, 2+ with -v */

void msg_init(const char *program);

/* Error lines: always printed.  WHERE may be NULL. */
void msg_error(const char *where, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Warnings: suppressed by -q. */
void msg_warn(const char *where, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Details: printed only with -v. */
void msg_info(const char *where, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void msg_verror(const char *where, const char *fmt, va_list ap);

/*
 * Print an error line, run the exit hooks (flush the output, print --stats)
 * and exit with CODE, one of exitcode.h.
 */
_Noreturn void msg_die(int code, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Work to do at every exit, normal or not, newest first: flushing the
 * writer, printing --stats.  A hook may call msg_die; hooks already run
 * are not run again.
 */
void msg_on_exit(void (*hook)(void));
_Noreturn void msg_exit(int code);

/* The status msg_exit was called with, for exit hooks (stats). */
extern int msg_exit_code;

/*
 * When set, msg_exit calls this instead of exit(3) after the hooks; it must
 * not return (it may longjmp).  Fuzz targets use it to survive the errors a
 * program would exit on.
 */
extern void (*msg_exit_override)(int code);

#endif
