/*
 * exitcode.h - the one exit-status table every etl program uses.
 *
 * The values are those of sysexits.h, so shell scripts and service managers
 * can tell a bad record (65) from a database that is down (69) or a closed
 * pipe (74) without parsing messages.  etl(7) documents the same table.
 */
#ifndef ETL_EXITCODE_H
#define ETL_EXITCODE_H

enum exitcode {
	EXIT_DONE = 0,          /* all input handled */
	EXIT_USAGE = 64,        /* bad command line */
	EXIT_DATA = 65,         /* a bad record stopped the run */
	EXIT_NOINPUT = 66,      /* an input file or transform does not exist */
	EXIT_UNAVAILABLE = 69,  /* database or port unavailable */
	EXIT_SOFTWARE = 70,     /* internal error, or a transform failed or crashed */
	EXIT_IO = 74,           /* read or write error, a closed pipe included */
	EXIT_TEMPFAIL = 75,     /* a temporary failure outlasted its retries */
	EXIT_CONFIG = 78,       /* configuration error */
};

/* A short name for CODE ("data error"), for --stats and messages. */
const char *exitcode_name(int code);

#endif
