/* fuzz-jsontree - libFuzzer target for lib/jsontree.c against json_loadb:
 * a text jsontree builds must be one jansson reads, into the same tree
 * (types, key order, the same doubles and strings), and after any text,
 * taken or not, the next line must still read right, since the per-thread
 * yajl handle is reused.  Declining is always allowed: line_parse then
 * asks json_loadb. */
#include "buf.h"
#include "jsonout.h"
#include "jsontree.h"
#include "line.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The compact text of V; jsonout writes every double in the shortest form
 * that reads back to it, so equal texts mean equal doubles. */
static void
text_of(struct buf *b, const json_t *v)
{
	b->len = 0;
	jsonout_value(b, v);
}

static void
must_agree(const char *data, size_t len)
{
	static struct buf a, b;
	json_error_t err;
	json_t *mine = jsontree_parse(data, len);
	json_t *theirs;

	if (!mine)
		return;
	theirs = json_loadb(data, len, LINE_JSON_FLAGS, &err);
	if (!theirs) {
		fprintf(stderr, "jsontree took what jansson refuses: %s\n", err.text);
		abort();
	}
	text_of(&a, mine);
	text_of(&b, theirs);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0 ||
	    !json_equal(mine, theirs)) {
		fprintf(stderr, "jsontree: %.*s\njansson:  %.*s\n", (int)a.len, a.data,
		    (int)b.len, b.data);
		abort();
	}
	json_decref(mine);
	json_decref(theirs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char next[] = "{\"next\":[1,\"x\"]}";
	json_t *v;

	must_agree((const char *)data, size);
	if (!(v = jsontree_parse(next, sizeof next - 1)) ||
	    json_array_size(json_object_get(v, "next")) != 2) {
		fprintf(stderr, "the line after this input did not read right\n");
		abort();
	}
	json_decref(v);
	return 0;
}
