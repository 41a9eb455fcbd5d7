/*
 * secret.h - secrets (tokens, HMAC keys) read from files, never from argv,
 * where every user of the machine could read them in ps.
 */
#ifndef ETL_SECRET_H
#define ETL_SECRET_H

#include <stddef.h>

/*
 * The contents of PATH, a trailing newline (LF or CRLF) dropped, as a new
 * NUL-terminated string; its length in *LEN when LEN is not NULL.  A
 * missing file exits 66, an unreadable or empty one 78.
 */
char *secret_read(const char *path, size_t *len);

#endif
