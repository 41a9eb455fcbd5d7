/* Unit tests for lib/db.c's rows of a load: runs of rows with the same
 * present columns; the data prepare() built, which only a load of all the
 * rows uses (a retry of part of them builds its own); and db_rows.sent,
 * called once, at DB_SENT_EARLY bytes or at the end of the data. */
#include "check.h"
#include "buf.h"
#include "db.h"

enum { NCOL = 2, NROW = 6 };

static int calls;

static void
count_call(void *arg)
{
	(void)arg;
	calls++;
}

/* The number of calls of rows.sent when LEN bytes of data go in pieces of STEP. */
static int
calls_sending(const struct db_rows *rows, size_t len, size_t step, size_t *at_call)
{
	int told = 0;

	calls = 0;
	*at_call = 0;
	for (size_t sent = step < len ? step : len;; sent += step) {
		if (sent > len)
			sent = len;
		db_rows_sending(rows, sent, &told);
		if (calls == 1 && !*at_call)
			*at_call = sent;
		if (sent == len)
			break;
	}
	return calls;
}

int
main(void)
{
	struct db_column columns[NCOL] = { { .name = "a" }, { .name = "b" } };
	struct db_table table = { .name = "t", .columns = columns, .ncolumns = NCOL };
	struct cell cells[NROW * NCOL];
	struct buf prepared = BUF_INIT;
	struct db_rows rows = { .table = &table, .cells = cells, .nrows = NROW,
		.sent = count_call };
	size_t at;
	int n;

	/* Rows 0-2 have both columns, 3-4 only a, 5 both again. */
	for (int r = 0; r < NROW; r++) {
		cells[r * NCOL].kind = CELL_INT;
		cells[r * NCOL + 1].kind = r == 3 || r == 4 ? CELL_ABSENT : CELL_NULL;
	}
	check(db_rows_run_end(&rows, 0) == 3 && db_rows_run_end(&rows, 3) == 5 &&
	    db_rows_run_end(&rows, 5) == 6, "runs of the same present columns end where they change");

	check(db_rows_ready(&rows, 0, NROW) == NULL, "nothing prepared: no data ready");
	rows.prepared = &prepared;
	check(db_rows_ready(&rows, 0, NROW) == NULL, "an empty buffer is nothing prepared");
	buf_add(&prepared, "x", 1);
	check(db_rows_ready(&rows, 0, NROW) == &prepared, "prepared data is the load's when it holds all rows");
	check(db_rows_ready(&rows, 0, 3) == NULL && db_rows_ready(&rows, 1, NROW) == NULL,
	    "a part of the rows (a retry isolating a bad one) gets none");
	check(db_rows_run_end(&rows, 0) == NROW,
	    "with data prepared for all rows, they are one run: prepare() found so");

	/* 1 MiB in 64 KiB pieces: told once, at the first piece past 256 KiB. */
	prepared.len = 1 << 20;
	n = calls_sending(&rows, prepared.len, 64 << 10, &at);
	check(n == 1 && at == DB_SENT_EARLY, "1 MiB sent by 64 KiB: sent() %d time(s), at %zu bytes", n, at);
	n = calls_sending(&rows, prepared.len, 100000, &at);
	check(n == 1 && at == 300000,
	    "1 MiB sent by 100,000 bytes: sent() %d time(s), at the first piece past 256 KiB (%zu)", n, at);
	prepared.len = 5000;
	n = calls_sending(&rows, prepared.len, 4096, &at);
	check(n == 1 && at == 5000, "5,000 bytes: sent() %d time(s), at their end (%zu)", n, at);
	rows.sent = NULL;
	n = calls_sending(&rows, prepared.len, 4096, &at);
	check(n == 0, "no sent(): nothing is called");
	buf_free(&prepared);
	return 0;
}
