/* secret.c - secrets from files (see secret.h). */
#include "secret.h"
#include "buf.h"
#include "exitcode.h"
#include "msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

char *
secret_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		msg_die(errno == ENOENT ? EXIT_NOINPUT : EXIT_CONFIG, path, "%s",
		    strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(f))
		msg_die(EXIT_CONFIG, path, "%s", strerror(errno));
	fclose(f);
	while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.len--;
	if (b.len == 0)
		msg_die(EXIT_CONFIG, path, "the file is empty");
	if (len)
		*len = b.len;
	buf_cstr(&b);
	return b.data;
}
