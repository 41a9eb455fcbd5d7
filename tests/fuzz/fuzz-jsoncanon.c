/* fuzz-jsoncanon - libFuzzer target for lib/jsoncanon.c: a text it takes
 * must be a record that json_loadb reads and jsonout_value writes back byte
 * for byte (lib/httpbody.c copies such a text instead of writing it). */
#include "jsoncanon.h"
#include "jsonout.h"
#include "line.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	json_t *v;

	if (!jsoncanon_object((const char *)data, size))
		return 0;
	v = json_loadb((const char *)data, size, LINE_JSON_FLAGS, NULL);
	if (!v || !json_is_object(v) || line_is_control(v))
		abort();
	jsonout_value(&out, v);
	if (out.len != size || memcmp(out.data, data, size) != 0)
		abort();
	json_decref(v);
	buf_free(&out);
	return 0;
}
