/*
 * buf.h - a growable byte buffer.
 *
 * The writer, the JSON formatter, batches and reject lines all build their
 * bytes in one of these.  Allocation failure is fatal (exit 70): every caller
 * bounds what it appends, so running out of memory is a bug, not input.
 */
#ifndef ETL_BUF_H
#define ETL_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

void buf_grow(struct buf *b, size_t need);   /* make room for NEED more bytes */
void buf_free(struct buf *b);

static inline void
buf_reserve(struct buf *b, size_t need)
{
	if (b->cap - b->len < need)
		buf_grow(b, need);
}

static inline void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;  /* P may be NULL then, and memcpy must not see it */
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void
buf_addc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->data[b->len++] = c;
}

static inline void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* A NUL-terminated view of the contents (the NUL is not counted in len). */
const char *buf_cstr(struct buf *b);

#endif
