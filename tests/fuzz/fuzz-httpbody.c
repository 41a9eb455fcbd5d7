/* fuzz-httpbody - libFuzzer target for request bodies: the first byte picks
 * JSON, NDJSON or form; a body either gives records that each parse back as
 * one JSON object per line, or is refused with a reason and leaves the
 * output untouched. */
#include "httpbody.h"
#include "line.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	char err[512] = "";
	long n;

	if (size == 0)
		return 0;
	buf_adds(&out, "x");
	n = httpbody_records((enum httpbody_kind)(data[0] % 3),
	    (const char *)data + 1, size - 1, &out, err, sizeof err);
	if (n < 0) {
		if (out.len != 1 || err[0] == '\0')
			abort();
	} else {
		const char *p = out.data + 1, *end = out.data + out.len;
		long lines = 0;

		while (p < end) {
			const char *nl = memchr(p, '\n', end - p);
			enum line_kind kind;
			char e[256];
			json_t *v;

			if (!nl)
				abort();
			v = line_parse(p, nl - p, &kind, e, sizeof e);
			if (!v || kind != LINE_RECORD)
				abort();
			json_decref(v);
			lines++;
			p = nl + 1;
		}
		if (lines != n)
			abort();
	}
	json_decref(httpbody_envelope_value((const char *)data, size));
	buf_free(&out);
	return 0;
}
