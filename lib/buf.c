/* buf.c - growable byte buffer (see buf.h). */
#include "buf.h"
#include "exitcode.h"
#include "msg.h"

#include <stdlib.h>

void
buf_grow(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	while (cap - b->len < need) {
		if (cap > (size_t)-1 / 2)
			msg_die(EXIT_SOFTWARE, NULL, "buffer size overflow");
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p)
		msg_die(EXIT_SOFTWARE, NULL, "out of memory (%zu bytes)", cap);
	b->data = p;
	b->cap = cap;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

const char *
buf_cstr(struct buf *b)
{
	buf_reserve(b, 1);
	b->data[b->len] = '\0';
	return b->data;
}
