/*
 * reject.h - what happens to a bad record.
 *
 * Without --reject the first bad record stops the program: one line
 * "program: file:line: reason" and exit 65, after flushing what was already
 * output.  With --reject FILE each bad record is appended to FILE as
 *   {"error":…,"program":…,"where":…,"record":…}
 * (the record as parsed, or the raw line as a string) and the program goes
 * on; with --max-rejects N the bad record after the Nth stops the run as if
 * there were no reject file.  A reject line is written with one write(2)
 * before the call returns: a full disk is exit 74, never a silent loss.
 * Safe to call from several threads.
 *
 * A program whose output keeps stream order may offer --reject - (see
 * reject_inline): each bad record then becomes a control line in the
 * output, at the record's place,
 *   {"$etl":{"reject":{"error":…,"program":…,"where":…,"record":…}}}
 * so that it travels down the pipeline with the records around it
 * (etl-extract-http --reply-fifo answers 422 with it).
 */
#ifndef ETL_REJECT_H
#define ETL_REJECT_H

#include <jansson.h>
#include <stddef.h>

/* PATH NULL: stop at the first bad record.  MAX_REJECTS < 0: no limit. */
void reject_init(const char *path, long long max_rejects);

/*
 * Report a bad record at WHERE ("stdin:42") for REASON.  RECORD is the
 * record when it was parsed, else NULL and RAW[0..RAWLEN) is the line.
 * Returns only when the program is to go on.
 */
void reject_record(const char *where, const char *reason,
    const json_t *record, const char *raw, size_t rawlen);

/*
 * Before opt_next() ends: accept --reject - and hand each reject's control
 * line (with its newline) to PUT, called under the reject lock.  Without
 * this call "-" is refused.
 */
void reject_inline(void (*put)(const char *line, size_t len));

/* Is a reject file in use (so a bad record does not stop the run)? */
int reject_enabled(void);

/* Would the next bad record stop the run (no reject file, or --max-rejects
 * reached)?  A program with work in flight finishes it first. */
int reject_would_stop(void);

#endif
