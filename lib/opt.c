/* opt.c - shared option parsing and --help (see opt.h). */
#include "opt.h"
#include "exitcode.h"
#include "msg.h"
#include "reader.h"
#include "reject.h"
#include "sig.h"
#include "stats.h"
#include "writer.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ETL_VERSION
#define ETL_VERSION "0.0.0"
#endif

struct opt_common opt_common = { .max_rejects = -1,
    .stop_timeout_ms = SIG_DEFAULT_STOP_TIMEOUT_MS };

enum {
	KEY_STATS = 1 << 20, KEY_MAX_LINE, KEY_REJECT, KEY_MAX_REJECTS,
	KEY_PROGRESS, KEY_STOP_TIMEOUT, KEY_FORMAT, KEY_DELIMITER, KEY_COLUMNS,
	KEY_REPLACE_HEADER, KEY_NULL,
};

static const struct opt common_opts[] = {
	{ 'h', "help", NULL, "print this help and exit" },
	{ 'V', "version", NULL, "print the version and exit" },
	{ 'q', "quiet", NULL, "print no warnings" },
	{ 'v', "verbose", NULL, "print more detail (repeat for more)" },
	{ KEY_STATS, "stats", NULL, "print a JSON summary on stderr at exit" },
	{ 0, NULL, NULL, NULL }
};

static const struct opt input_opts[] = {
	{ KEY_MAX_LINE, "max-line", "SIZE",
	  "longest accepted input line (default 64M)" },
	{ KEY_PROGRESS, "progress", NULL,
	  "show a progress meter when stderr is a terminal" },
	{ KEY_STOP_TIMEOUT, "stop-timeout", "DURATION",
	  "after SIGTERM, give up reading to the end this late (default 30s)" },
	{ KEY_FORMAT, "format", "FORMAT",
	  "read csv, tsv or ndjson (default: by file name, else ndjson)" },
	{ KEY_DELIMITER, "delimiter", "CHAR",
	  "CSV/TSV field delimiter (default , or tab; 'tab' for a tab)" },
	{ KEY_COLUMNS, "columns", "NAMES",
	  "CSV/TSV column names a,b,c: the files have no header row" },
	{ KEY_REPLACE_HEADER, "replace-header", "NAMES",
	  "CSV/TSV column names a,b,c instead of the header row's" },
	{ KEY_NULL, "null", "STRING",
	  "CSV/TSV: an unquoted field equal to STRING is null" },
	{ 0, NULL, NULL, NULL }
};

/* A source whose stop hands on what it accepted (OPT_STOP). */
static const struct opt stop_opts[] = {
	{ KEY_STOP_TIMEOUT, "stop-timeout", "DURATION",
	  "after SIGTERM, give up handing on what was accepted this late (default 30s)" },
	{ 0, NULL, NULL, NULL }
};

/* Every program that can meet a bad record: readers, and sources that
 * decode what they receive (OPT_REJECT). */
static const struct opt reject_opts[] = {
	{ KEY_REJECT, "reject", "FILE",
	  "append bad records to FILE and go on" },
	{ KEY_MAX_REJECTS, "max-rejects", "N",
	  "with --reject, stop at the bad record after the Nth" },
	{ 0, NULL, NULL, NULL }
};

static const struct opt *
flagged_opts(const struct opt_parser *p, int list)
{
	if (list == 0)
		return (p->flags & OPT_INPUT) ? input_opts
		    : (p->flags & OPT_STOP) ? stop_opts : NULL;
	return (p->flags & (OPT_INPUT | OPT_REJECT)) ? reject_opts : NULL;
}

static size_t
count_opts(const struct opt *o)
{
	size_t n = 0;

	while (o[n].name)
		n++;
	return n;
}

static void
print_opts(FILE *f, const struct opt *o)
{
	for (; o->name; o++) {
		char left[64];

		if (o->key < OPT_LONG)
			snprintf(left, sizeof left, "-%c, --%s%s%s", o->key,
			    o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-31s %s\n", left, o->help);
	}
}

static _Noreturn void
print_help(const struct opt_parser *p)
{
	printf("usage: %s %s\n%s\n\n", msg_program, p->synopsis, p->summary);
	printf("Options:\n");
	print_opts(stdout, p->opts);
	for (int l = 0; l < 2; l++)
		if (flagged_opts(p, l))
			print_opts(stdout, flagged_opts(p, l));
	print_opts(stdout, common_opts);
	printf("\nExit status: 0 done, 64 usage, 65 data error, 66 no input,"
	    " 69 unavailable,\n70 internal error, 74 I/O error, 75 temporary"
	    " failure, 78 configuration.\nSee %s(1).\n", msg_program);
	exit(fflush(stdout) == 0 ? EXIT_DONE : EXIT_IO);
}

/* Blank P[0..N) and count it. */
static int
blank(char *p, size_t n)
{
	memset(p, 'x', n);
	return n > 0;
}

int
opt_blank_passwords(char *s)
{
	int found = 0;

	/* scheme://user:password@host: the last '@' and the first ':' before
	 * it, as lib/dburl.c reads them; in a list of URLs each ends where
	 * the next begins. */
	for (char *p = strstr(s, "://"); p; p = strstr(p, "://")) {
		char *auth = p + 3, *end = auth + strcspn(auth, "/?#");
		char *next = strstr(auth, "://"), *at = NULL, *colon;

		if (next && next < end)
			end = next;  /* "nats://a:b@h1,nats://c:d@h2" */
		for (char *q = auth; q < end; q++)
			if (*q == '@')
				at = q;
		if (at && (colon = memchr(auth, ':', at - auth)))
			found += blank(colon + 1, at - colon - 1);
		p = end;
	}
	/* ?password=… and &password=… (libpq takes it as a parameter) */
	for (char *p = strstr(s, "password="); p; p = strstr(p + 1, "password=")) {
		char *value = p + 9;

		if (p > s && (p[-1] == '?' || p[-1] == '&'))
			found += blank(value, strcspn(value, "&#"));
	}
	return found;
}

/* The copies of arguments whose passwords were blanked: the program reads
 * these; reachable from here until exit. */
static char **unblanked;

static void
hide_passwords(int argc, char **argv)
{
	if (unblanked)
		return;  /* once: argv now points at the copies */
	if (!(unblanked = calloc(argc + 1, sizeof *unblanked)))
		return;  /* out of memory: the command line stays as it was */
	for (int i = 1; i < argc; i++) {
		char *copy;

		if (!strstr(argv[i], "://") && !strstr(argv[i], "password="))
			continue;
		if (!(copy = strdup(argv[i])))
			return;
		if (opt_blank_passwords(argv[i]) == 0) {
			free(copy);
			continue;
		}
		argv[i] = unblanked[i] = copy;
	}
}

void
opt_begin(struct opt_parser *p, int argc, char **argv, const char *synopsis,
    const char *summary, const struct opt *opts, unsigned flags)
{
	memset(p, 0, sizeof *p);
	p->argc = argc;
	p->argv = argv;
	p->synopsis = synopsis;
	p->summary = summary;
	p->opts = opts;
	p->flags = flags;
	msg_init(argv[0]);
	hide_passwords(argc, argv);
}

_Noreturn void
opt_usage_error(const struct opt_parser *p, const char *fmt, ...)
{
	va_list ap;

	(void)p;
	va_start(ap, fmt);
	msg_verror(NULL, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", msg_program);
	exit(EXIT_USAGE);
}

/* Build getopt_long's tables from the three option lists. */
static void
build_tables(const struct opt_parser *p, struct option *longs, char *shorts)
{
	const struct opt *lists[4] = { p->opts, common_opts,
	    flagged_opts(p, 0), flagged_opts(p, 1) };
	size_t nl = 0, ns = 0;

	shorts[ns++] = ':';  /* report a missing argument as ':' */
	for (int l = 0; l < 4; l++) {
		if (!lists[l])
			continue;
		for (const struct opt *o = lists[l]; o->name; o++) {
			longs[nl++] = (struct option){ o->name,
			    o->arg ? required_argument : no_argument, NULL, o->key };
			if (o->key < OPT_LONG) {
				shorts[ns++] = o->key;
				if (o->arg)
					shorts[ns++] = ':';
			}
		}
	}
	longs[nl] = (struct option){ 0, 0, 0, 0 };
	shorts[ns] = '\0';
}

/* The CSV and TSV options: consistent, then the reader's. */
static void
apply_formats(const struct opt_parser *p)
{
	struct csv_options *o = &opt_common.input;
	char err[256];
	struct csv *c;

	if (o->format_set && o->format == CSV_NDJSON &&
	    (o->delimiter || o->header || o->replace_header || o->null))
		opt_usage_error(p, "--delimiter, --columns, --replace-header and"
		    " --null are for CSV and TSV, not --format ndjson");
	if (o->header && o->replace_header)
		opt_usage_error(p, "--columns (files without a header row) and"
		    " --replace-header (files with one) do not go together");
	for (enum csv_format f = CSV_CSV; f <= CSV_TSV; f++) {
		if (!(c = csv_new(f, o, err, sizeof err)))
			opt_usage_error(p, "%s: %s", o->header ? "--columns"
			    : o->replace_header ? "--replace-header" : "--delimiter",
			    err);
		csv_free(c);
	}
	reader_use_formats(o);
}

static void
apply_common(const struct opt_parser *p)
{
	int reads_stream = (p->flags & OPT_INPUT) != 0;

	if (reads_stream)
		apply_formats(p);

	/* What stdout is, asked before the signal thread starts (a stop that
	 * gives up during start-up closes stdout from that thread).  A
	 * thirtieth of the stop's deadline for each pipe: with the read buffers
	 * a pipe sizes and the writes it takes, the later stages of a pipeline
	 * hold a small part of it (etl-extract-http's --max-backlog is a
	 * third). */
	writer_stdout_init(opt_common.stop_timeout_ms / 30000.0);
	sig_install(reads_stream, reads_stream || (p->flags & OPT_STOP)
	    ? opt_common.stop_timeout_ms : 0);
	stats_init(opt_common.stats);
	if (opt_common.progress)
		stats_progress_enable();
	if (opt_common.max_rejects >= 0 && !opt_common.reject_path)
		msg_warn(NULL, "--max-rejects has no effect without --reject");
	reject_init(opt_common.reject_path, opt_common.max_rejects);
}

/* "--count" for key C, for messages about its argument. */
static void
set_label(struct opt_parser *p, int c)
{
	const struct opt *lists[5] = { p->opts, common_opts, input_opts, reject_opts, stop_opts };

	for (int l = 0; l < 5; l++)
		for (const struct opt *o = lists[l]; o->name; o++)
			if (o->key == c) {
				snprintf(p->label, sizeof p->label, "--%s", o->name);
				return;
			}
	snprintf(p->label, sizeof p->label, "-%c", c);
}

/* --delimiter: one byte, or "tab" or "\t" for a tab. */
static char
parse_delimiter(const struct opt_parser *p)
{
	if (strcmp(p->arg, "tab") == 0 || strcmp(p->arg, "\\t") == 0)
		return '\t';
	if (strlen(p->arg) != 1)
		opt_usage_error(p, "--delimiter: '%s' is not one character (or"
		    " 'tab')", p->arg);
	return p->arg[0];
}

int
opt_next(struct opt_parser *p)
{
	static struct option *longs;
	static char shorts[256];
	int c;

	if (!longs) {
		size_t n = count_opts(p->opts) + count_opts(common_opts) +
		    count_opts(input_opts) + count_opts(reject_opts) + 1;

		if (!(longs = calloc(n, sizeof *longs)))
			msg_die(EXIT_SOFTWARE, NULL, "out of memory");
		build_tables(p, longs, shorts);
		opterr = 0;
	}
	for (;;) {
		c = getopt_long(p->argc, p->argv, shorts, longs, NULL);
		p->arg = optarg;
		set_label(p, c);
		switch (c) {
		case -1:
			p->ind = optind;
			free(longs);
			longs = NULL;
			apply_common(p);
			return -1;
		case '?':
			if (optopt && optopt < OPT_LONG)
				opt_usage_error(p, "unknown option -%c", optopt);
			opt_usage_error(p, "unknown option %s", p->argv[optind - 1]);
		case ':':
			if (optopt && optopt < OPT_LONG)
				opt_usage_error(p, "option -%c needs an argument", optopt);
			opt_usage_error(p, "option %s needs an argument",
			    p->argv[optind - 1]);
		case 'h':
			print_help(p);
		case 'V':
			printf("%s %s\n", msg_program, ETL_VERSION);
			exit(fflush(stdout) == 0 ? EXIT_DONE : EXIT_IO);
		case 'q':
			msg_verbosity = 0;
			break;
		case 'v':
			msg_verbosity++;
			break;
		case KEY_STATS:
			opt_common.stats = 1;
			break;
		case KEY_PROGRESS:
			opt_common.progress = 1;
			break;
		case KEY_MAX_LINE:
			opt_common.max_line = opt_size(p);
			if (opt_common.max_line == 0)
				opt_usage_error(p, "--max-line must be at least 1 byte");
			break;
		case KEY_REJECT:
			opt_common.reject_path = p->arg;
			break;
		case KEY_MAX_REJECTS:
			opt_common.max_rejects = opt_count(p, 0, LLONG_MAX);
			break;
		case KEY_FORMAT:
			if (csv_format_parse(p->arg, &opt_common.input.format) != 0)
				opt_usage_error(p, "--format: '%s' is not csv, tsv or"
				    " ndjson", p->arg);
			opt_common.input.format_set = 1;
			break;
		case KEY_DELIMITER:
			opt_common.input.delimiter = parse_delimiter(p);
			break;
		case KEY_COLUMNS:
			opt_common.input.header = p->arg;
			break;
		case KEY_REPLACE_HEADER:
			opt_common.input.replace_header = p->arg;
			break;
		case KEY_NULL:
			opt_common.input.null = p->arg;
			break;
		case KEY_STOP_TIMEOUT:
			opt_common.stop_timeout_ms = opt_duration_ms(p);
			if (opt_common.stop_timeout_ms == 0)
				opt_usage_error(p, "--stop-timeout must be more than 0");
			break;
		default:
			return c;
		}
	}
}

long long
opt_count(const struct opt_parser *p, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(p->arg, &end, 10);
	if (errno || end == p->arg || *end || v < min || v > max) {
		if (max == LLONG_MAX)
			opt_usage_error(p, "%s: '%s' is not a whole number of at"
			    " least %lld", p->label, p->arg, min);
		opt_usage_error(p, "%s: '%s' is not a whole number from %lld"
		    " to %lld", p->label, p->arg, min, max);
	}
	return v;
}

long long
opt_parse_size(const char *s)
{
	char *end;
	double v;
	long long unit = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || !(*s >= '0' && *s <= '9'))
		return -1;
	switch (*end) {
	case 'k': case 'K': unit = 1LL << 10; end++; break;
	case 'm': case 'M': unit = 1LL << 20; end++; break;
	case 'g': case 'G': unit = 1LL << 30; end++; break;
	case 't': case 'T': unit = 1LL << 40; end++; break;
	}
	if ((*end == 'i' && end[1] == 'B') || *end == 'B')
		end += *end == 'B' ? 1 : 2;
	if (*end || v * unit > (double)(LLONG_MAX / 2))
		return -1;
	return (long long)(v * unit);
}

long long
opt_parse_duration_ms(const char *s)
{
	char *end;
	double v, unit = 1000;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || !(*s >= '0' && *s <= '9'))
		return -1;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		unit = 1000;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		unit = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		unit = 3600 * 1000;
	else
		return -1;
	if (v * unit > 1e15)
		return -1;
	return (long long)llround(v * unit);
}

unsigned long long
opt_size(const struct opt_parser *p)
{
	long long v = opt_parse_size(p->arg);

	if (v < 0)
		opt_usage_error(p, "%s: '%s' is not a size (like 512, 64K, 16M,"
		    " 1G)", p->label, p->arg);
	return v;
}

long long
opt_duration_ms(const struct opt_parser *p)
{
	long long v = opt_parse_duration_ms(p->arg);

	if (v < 0)
		opt_usage_error(p, "%s: '%s' is not a duration (like 250ms, 2s,"
		    " 5m, 1h)", p->label, p->arg);
	return v;
}
