/*
 * opt.h - the one option parser, on getopt_long.
 *
 * A program lists its own options in a table; opt_next() returns them one
 * at a time and handles the options every program shares itself:
 *   -h/--help  -V/--version  -q/--quiet  -v/--verbose  --stats
 * and, for programs that read the stream (OPT_INPUT):
 *   --max-line SIZE  --progress  --reject FILE  --max-rejects N
 *   --stop-timeout DURATION
 *   --format csv|tsv|ndjson  --delimiter CHAR  --columns NAMES
 *   --replace-header NAMES  --null STRING  (handed to the reader: csv.h)
 * or only --reject and --max-rejects for a source that decodes records (OPT_REJECT),
 * and --stop-timeout for a source whose stop hands on what it accepted (OPT_STOP).
 * --help is generated from the same table, so it always lists every option.
 * Usage errors print "program: reason" and a hint, and exit 64.
 * opt_begin also takes passwords written in URLs off the visible command
 * line (see opt_blank_passwords), for every program.
 *
 *	static const struct opt options[] = {
 *		{ 'n', "count", "COUNT", "records per batch (default 1000)" },
 *		{ OPT_LONG + 1, "unbatch", NULL, "split batches into records" },
 *		{ 0 }
 *	};
 *	opt_begin(&p, argc, argv, "[OPTION]... [FILE]...", "Group records.", options, OPT_INPUT);
 *	while ((c = opt_next(&p)) != -1)
 *		switch (c) { case 'n': count = opt_count(&p, 1, LLONG_MAX); break; ... }
 *	argc -= p.ind; argv += p.ind;
 */
#ifndef ETL_OPT_H
#define ETL_OPT_H

#include "csv.h"

#include <stddef.h>

enum { OPT_LONG = 256 };  /* keys from here up have no short form */

struct opt {
	int key;              /* short letter, or OPT_LONG + n */
	const char *name;     /* long name, without the dashes */
	const char *arg;      /* metavariable when it takes an argument, else NULL */
	const char *help;     /* one line for --help */
};

enum opt_flags {
	OPT_INPUT = 1,        /* the program reads the stream: input options */
	OPT_REJECT = 2,       /* a source that decodes records: --reject, --max-rejects */
	OPT_STOP = 4,         /* a source that hands on what it accepted: --stop-timeout */
};

/* The shared options' values, set while parsing. */
struct opt_common {
	int stats;
	int progress;
	size_t max_line;
	const char *reject_path;
	long long max_rejects;   /* -1: no limit */
	long long stop_timeout_ms;  /* the graceful stop's deadline (sig.h) */
	struct csv_options input;   /* CSV and TSV input */
};
extern struct opt_common opt_common;

struct opt_parser {
	int argc;
	char **argv;
	const char *synopsis;    /* after the program name: "[OPTION]... [FILE]..." */
	const char *summary;     /* one sentence: what the program does */
	const struct opt *opts;
	unsigned flags;
	const char *arg;         /* the current option's argument */
	char label[64];          /* the current option, "--count", for messages */
	int ind;                 /* after the loop: index of the first operand */
};

void opt_begin(struct opt_parser *p, int argc, char **argv,
    const char *synopsis, const char *summary, const struct opt *opts,
    unsigned flags);

/* The next program option's key, or -1 when options end.  At the end it
 * applies the shared options: verbosity, --stats, the reject channel. */
int opt_next(struct opt_parser *p);

/* A usage error: "program: what", a hint to --help, exit 64. */
_Noreturn void opt_usage_error(const struct opt_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The current argument as a number in [MIN, MAX]. */
long long opt_count(const struct opt_parser *p, long long min, long long max);
/* The current argument as a size in bytes: 512, 64K, 16M, 1G (powers of 1024). */
unsigned long long opt_size(const struct opt_parser *p);
/* The current argument as a duration in ms: 250ms, 2s, 1.5s, 3m, 1h; a bare
 * number is seconds. */
long long opt_duration_ms(const struct opt_parser *p);

/*
 * A password written on the command line, in a URL's user part
 * (scheme://user:PASSWORD@host, several URLs in one argument too) or as a
 * ?password=/&password= parameter, is readable by every local user in
 * /proc/PID/cmdline and ps for as long as the program runs.  opt_begin
 * gives the program a private copy of each argument that holds one and
 * overwrites the password's bytes in the original with 'x', as the mysql
 * client does.  Returns how many passwords S held (blanked in place).
 */
int opt_blank_passwords(char *s);

/* Parsers behind the above, for values from elsewhere (-1 when invalid). */
long long opt_parse_size(const char *s);
long long opt_parse_duration_ms(const char *s);

#endif
