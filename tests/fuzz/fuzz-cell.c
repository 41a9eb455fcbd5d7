/* fuzz-cell - libFuzzer target for JSON value to column conversion: the
 * first byte picks the column type, the rest is a JSON value; conversion
 * either succeeds with a cell of a kind that type allows, or refuses with
 * a message naming the column. */
#include "cell.h"
#include "line.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct db_column col = { "c", "t", DB_TYPE_TEXT, 0, 0 };
	struct cell_arena arena = { 0 };
	struct cell cell;
	char err[512] = "";
	json_error_t e;
	json_t *v;

	if (size == 0)
		return 0;
	col.type = (enum db_type)(data[0] % (DB_TYPE_OTHER + 1));
	v = json_loadb((const char *)data + 1, size - 1, LINE_JSON_FLAGS, &e);
	if (!v)
		return 0;
	if (cell_from_json(&col, v, &cell, &arena, err, sizeof err) == 0) {
		if (cell.kind == CELL_ABSENT)
			abort();
		if ((cell.kind == CELL_TEXT || cell.kind == CELL_JSON || cell.kind == CELL_REAL) &&
		    cell.len > 0 && !cell.text)
			abort();
		if (col.type == DB_TYPE_INTEGER && cell.kind != CELL_INT && cell.kind != CELL_NULL)
			abort();
	} else if (strncmp(err, "column \"c\": ", 12) != 0) {
		abort();
	}
	cell_arena_free(&arena);
	json_decref(v);
	return 0;
}
