#!/usr/bin/env bash
# etl-extract-sql: rows as records from SQLite, PostgreSQL and MariaDB,
# the errors a user meets, a connection lost mid-stream, and incremental
# reads by a keyset cursor with bookmarks that etl-load-sql --job commits.
. "$(dirname "$0")/../lib.sh"

# ---- records and errors -------------------------------------------------

test_expect_success 'SQLite: one record per row, keys from the columns, values typed' '
	sqlite3 s.db "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, r REAL, j JSON, b BLOB, ok BOOLEAN);
		INSERT INTO t VALUES (1, '\''a\"b'\'', 0.1, '\''{\"a\": [1, 2]}'\'', x'\''00ff'\'', 1),
		(2, NULL, 1e300, '\''not json'\'', x'\'''\'', 0)" &&
	etl-extract-sql sqlite:s.db -t t >out &&
	expect_output out "{\"id\":1,\"name\":\"a\\\"b\",\"r\":0.1,\"j\":{\"a\":[1,2]},\"b\":\"\\\\x00ff\",\"ok\":true}
{\"id\":2,\"name\":null,\"r\":1e+300,\"j\":\"not json\",\"b\":\"\\\\x\",\"ok\":false}" &&
	etl-extract-sql sqlite:s.db "SELECT id * 2 AS twice FROM t ORDER BY id DESC;" >out &&
	expect_output out "{\"twice\":4}
{\"twice\":2}"
'

test_expect_success 'usage and query errors: 64, and 65 with the database'"'"'s message' '
	sqlite3 s.db "CREATE TABLE t (id INTEGER)" &&
	expect_status 64 etl-extract-sql sqlite:s.db 2>err &&
	expect_grep "no query" err &&
	expect_status 64 etl-extract-sql sqlite:s.db -t t "SELECT 1" 2>err &&
	expect_status 65 etl-extract-sql sqlite:s.db "SELEC 1" 2>err &&
	expect_grep "^etl-extract-sql: sqlite:s.db: .*syntax error" err &&
	expect_status 65 etl-extract-sql sqlite:s.db -t nope 2>err &&
	expect_grep "no such table: nope" err &&
	expect_status 65 etl-extract-sql sqlite:s.db "SELECT 1 AS a, 2 AS b, 3 AS a" 2>err &&
	expect_grep "more than one column named \"a\"" err
'

test_expect_success 'SQLite: the file is opened read-only: a missing one is exit 69, and not made' '
	expect_status 69 etl-extract-sql sqlite:missing.db "SELECT 1" 2>err &&
	expect_output err "etl-extract-sql: sqlite:missing.db: missing.db: unable to open database file" &&
	test ! -e missing.db
'

test_expect_success 'SQLite: --stats counts the rows written' '
	sqlite3 s.db "CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1), (2), (3)" &&
	etl-extract-sql --stats sqlite:s.db -t t >out 2>err &&
	expect_lines 3 out && expect_grep "\"records_out\":3" err
'

test_expect_success 'a refused connection is retried for --retry-for, then exit 69' '
	port=$(free_port) &&
	expect_status 69 etl-extract-sql --retry-for 600ms \
		"postgresql://etl:secret@127.0.0.1:$port/x" "SELECT 1" 2>err &&
	expect_grep "retrying in" err && expect_grep "gave up after" err &&
	expect_no_grep secret err
'

# A query of N rows in order, through each server's streaming path.
streamed() {  # URL QUERY N
	etl-extract-sql "$1" "$2" >out &&
	expect_lines "$3" out &&
	expect_eq "$(seq 1 "$3" | sed "s/.*/{\"g\":&}/" | md5sum)" "$(md5sum <out)" "the rows"
}

test_expect_success 'PostgreSQL: rows stream through the cursor in order; errors are 65' '
	need_pg &&
	streamed "$ETL_TEST_PGURL" "SELECT g FROM generate_series(1, 7001) g" 7001 &&
	expect_status 65 etl-extract-sql "$ETL_TEST_PGURL" -t no_such_table 2>err &&
	expect_grep "relation \"no_such_table\" does not exist" err &&
	expect_status 65 etl-extract-sql "$ETL_TEST_PGURL" "SELECT 1/0" 2>err &&
	expect_grep "division by zero" err
'

test_expect_success 'MariaDB: rows stream unbuffered in order; errors are 65' '
	need_my &&
	streamed "$ETL_TEST_MYURL" "SELECT seq AS g FROM seq_1_to_7001" 7001 &&
	expect_status 65 etl-extract-sql "$ETL_TEST_MYURL" -t no_such_table 2>err &&
	expect_grep "no_such_table. doesn.t exist" err
'

# A connection killed while the extractor is blocked writing to a pipe
# that is not read: when it goes on, it meets the lost connection, writes
# a bookmark naming only the rows it wrote, and exits 75.
lost_mid_stream() {  # URL QUERY KILL-COMMAND
	mkfifo pipe
	etl-extract-sql --retry-for 1s --cursor g --checkpoint 100000 "$1" "$2" >pipe 2>err &
	local pid=$!
	exec 3<pipe
	head -c 100000 <&3 >/dev/null   # started, and now blocked on the pipe
	sleep 0.3
	eval "$3" || return 1
	cat <&3 >out
	exec 3<&-
	wait $pid; local status=$?
	expect_eq 75 $status "exit status" &&
	expect_grep "after [0-9]+ rows" err &&
	last=$(grep -v "\\\$etl" out | tail -n 1 | sed "s/.*:\\([0-9]*\\)}/\\1/") &&
	expect_eq "{\"\$etl\":{\"bookmark\":[$last]" "$(tail -n 1 out | cut -d, -f1)" "the last line"
}

test_expect_success 'PostgreSQL: a connection lost mid-stream: a bookmark of the rows written, exit 75' '
	need_pg &&
	lost_mid_stream "$ETL_TEST_PGURL" "SELECT g FROM generate_series(1, 3000000) g" \
		"pg_run \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '\''etl-extract-sql'\''\" >/dev/null"
'

test_expect_success 'MariaDB: a connection lost mid-stream: a bookmark of the rows written, exit 75' '
	need_my &&
	lost_mid_stream "$ETL_TEST_MYURL" "SELECT seq AS g FROM seq_1_to_3000000" \
		"$ETL_TEST_MYSQL -N -e \"SELECT CONCAT(\\\"KILL \\\", id, \\\";\\\") FROM information_schema.processlist WHERE info LIKE \\\"SELECT * FROM (SELECT seq%\\\"\" | $ETL_TEST_MYSQL"
'

# ---- incremental reads ----------------------------------------------------

# 30 rows, ten to each updated_at: the ties a plain "> last" would skip.
make_ties() {  # SQL-RUNNER
	$1 "CREATE TABLE src (id INTEGER PRIMARY KEY, updated_at VARCHAR(20) NOT NULL, v VARCHAR(10))" &&
	for i in $(seq 1 30); do
		echo "INSERT INTO src VALUES ($i, '2026-01-0$((i % 3 + 1))', 'v$i');"
	done >ins.sql
}

test_expect_success '--cursor: rows after the bookmark as a tuple, ties neither skipped nor repeated' '
	lite() { sqlite3 s.db "$1"; } &&
	make_ties lite && sqlite3 s.db <ins.sql &&
	etl-extract-sql sqlite:s.db -t src --cursor updated_at,id --from "[\"2026-01-02\",13]" >out &&
	grep -v "\\\$etl" out | sed "s/{\"id\":\\([0-9]*\\),.*/\\1/" | tr "\n" " " >got &&
	expect_eq "16 19 22 25 28 2 5 8 11 14 17 20 23 26 29 " "$(cat got)" "ids read" &&
	expect_eq "{\"\$etl\":{\"bookmark\":[\"2026-01-02\",13],\"rows\":0}}" "$(head -n 1 out)" "the first line" &&
	expect_eq "{\"\$etl\":{\"bookmark\":[\"2026-01-03\",29],\"rows\":15}}" "$(tail -n 1 out)" "the last line"
'

# Pipelines cut short after a few lines, again and again, then one run to
# the end: the target holds each source row once, and the bookmark the
# loader committed is the last row's.
cut_short_runs() {  # SOURCE-URL TARGET-URL TARGET-RUNNER
	local n
	for n in 9 4 17 2 30; do
		etl-extract-sql "$1" -t src --cursor updated_at,id --checkpoint 4 \
			--resume "$2" --job ties | head -n $n |
			etl-load-sql --job ties -t dst "$2" 2>>err
	done
	etl-extract-sql "$1" -t src --cursor updated_at,id --checkpoint 4 \
		--resume "$2" --job ties | etl-load-sql --job ties -t dst "$2" &&
	expect_eq "30 30" "$($3 "SELECT count(*), count(DISTINCT id) FROM dst" | tr "\t|" "  ")" "rows, distinct rows" &&
	expect_eq "[\"2026-01-03\",29]" "$($3 "SELECT bookmark FROM etl_checkpoints WHERE job = 'ties'")" "bookmark" &&
	expect_grep "not committed" err
}

test_expect_success 'SQLite: runs cut short and resumed load each row once' '
	lite() { sqlite3 s.db "$1"; } && dst() { sqlite3 d.db "$1"; } &&
	make_ties lite && sqlite3 s.db <ins.sql &&
	dst "CREATE TABLE dst (id INTEGER PRIMARY KEY, updated_at VARCHAR(20), v VARCHAR(10))" &&
	cut_short_runs sqlite:s.db sqlite:d.db dst
'

test_expect_success 'MariaDB to PostgreSQL: runs cut short and resumed load each row once' '
	need_pg && need_my &&
	my() { $ETL_TEST_MYSQL -N -B -e "$1"; } &&
	my "DROP TABLE IF EXISTS src" && make_ties my && $ETL_TEST_MYSQL <ins.sql &&
	pg_run "DROP TABLE IF EXISTS dst; DROP TABLE IF EXISTS etl_checkpoints" 2>/dev/null &&
	pg_run "CREATE TABLE dst (id INTEGER PRIMARY KEY, updated_at VARCHAR(20), v VARCHAR(10))" &&
	cut_short_runs "$ETL_TEST_MYURL" "$ETL_TEST_PGURL" pg_run
'

test_expect_success 'etl-load-sql --job adds the bookmark column to an older checkpoint table' '
	sqlite3 d.db "CREATE TABLE etl_checkpoints (job VARCHAR(200) PRIMARY KEY, position BIGINT NOT NULL, updated_at TIMESTAMP NULL);
		CREATE TABLE t (id INTEGER)" &&
	printf "{\"\$etl\":{\"bookmark\":null}}\n{\"id\":1}\n{\"\$etl\":{\"bookmark\":[1]}}\n" |
		etl-load-sql --job j -t t sqlite:d.db >acks &&
	expect_eq "[1]" "$(sqlite3 d.db "SELECT bookmark FROM etl_checkpoints")" &&
	expect_lines 2 acks
'

# A transaction held open on the source across a run writes a row with
# an older cursor value than rows committed meanwhile: the run passes it
# by; --lookback reads it on the next run and --upsert absorbs the rest.
test_expect_success 'PostgreSQL: --lookback reads a row committed late behind the bookmark' '
	need_pg &&
	pg_run "DROP TABLE IF EXISTS late; DROP TABLE IF EXISTS late_dst; DROP TABLE IF EXISTS etl_checkpoints" 2>/dev/null
	pg_run "CREATE TABLE late (id INTEGER PRIMARY KEY, updated_at TIMESTAMPTZ NOT NULL);
		CREATE TABLE late_dst (LIKE late INCLUDING ALL)" &&
	mkfifo sql && { $ETL_TEST_PSQL <sql >psql.out 2>&1 & } && exec 3>sql &&
	echo "BEGIN; INSERT INTO late VALUES (100, '\''2026-01-01 10:00:00+00'\''); SELECT '\''held'\'';" >&3 &&
	wait_for held psql.out &&
	pg_run "INSERT INTO late VALUES (1, '\''2026-01-01 10:00:01+00'\''), (2, '\''2026-01-01 10:00:05+00'\'')" &&
	pipeline() {
		etl-extract-sql "$ETL_TEST_PGURL" -t late --cursor updated_at,id \
			--resume "$ETL_TEST_PGURL" --job late "$@" |
			etl-load-sql --job late --upsert id -t late_dst "$ETL_TEST_PGURL"
	} &&
	pipeline && expect_eq 2 "$(pg_run "SELECT count(*) FROM late_dst")" &&
	echo "COMMIT;" >&3 && exec 3>&- && wait &&
	pipeline && expect_eq 2 "$(pg_run "SELECT count(*) FROM late_dst")" "rows without --lookback" &&
	pipeline --lookback 10s &&
	expect_eq "1 2 100" "$(pg_run "SELECT string_agg(id::text, '\'' '\'' ORDER BY id) FROM late_dst")" "rows with --lookback"
'

# ---- examples/sync ---------------------------------------------------------

test_expect_success 'examples/sync: sync.sh copies new and changed rows; the Makefile snapshot' '
	EX=$ETL_TOP/examples/sync &&
	schema="CREATE TABLE orders (order_id INTEGER PRIMARY KEY, updated_at TEXT NOT NULL, total NUMERIC(10,2))" &&
	sqlite3 shop.db "$schema; INSERT INTO orders VALUES (1, '\''2026-01-01 10:00:00'\'', 9.50),
		(2, '\''2026-01-01 10:00:00'\'', 12.00), (3, '\''2026-01-01 10:05:00'\'', 3.25)" &&
	sqlite3 dw.db "$schema" &&
	export SOURCE_URL=sqlite:$T/shop.db TARGET_URL=sqlite:$T/dw.db &&
	"$EX/sync.sh" orders updated_at,order_id order_id &&
	sqlite3 shop.db "UPDATE orders SET total = 10, updated_at = '\''2026-01-01 11:00:00'\'' WHERE order_id = 1;
		INSERT INTO orders VALUES (4, '\''2026-01-01 11:00:00'\'', 1.00)" &&
	"$EX/sync.sh" orders updated_at,order_id order_id &&
	expect_eq "$(sqlite3 shop.db "SELECT * FROM orders ORDER BY 1")" "$(sqlite3 dw.db "SELECT * FROM orders ORDER BY 1")" "target" &&
	make -s -f "$EX/Makefile" snapshot.db SOURCE_URL=sqlite:$T/dw.db &&
	expect_eq "$(sqlite3 dw.db "SELECT order_id, total FROM orders ORDER BY 1")" \
		"$(sqlite3 snapshot.db "SELECT order_id, total FROM orders ORDER BY 1")" "snapshot"
'

test_expect_success 'SIGTERM ends the read after a whole row: a bookmark of it, exit 0' '
	sqlite3 s.db "CREATE TABLE t (i INTEGER PRIMARY KEY);
		WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300000)
		INSERT INTO t SELECT i FROM c" && mkfifo pipe || exit 1
	etl-extract-sql --cursor i --checkpoint 1000000 sqlite:s.db -t t >pipe 2>err &
	pid=$! && exec 3<pipe && head -c 100000 <&3 >/dev/null &&
	kill -TERM $pid && cat <&3 >out; exec 3<&-
	wait $pid; expect_eq 0 $? "exit status" &&
	last=$(grep -v "\\\$etl" out | tail -n 1 | sed "s/.*:\\([0-9]*\\)}/\\1/") &&
	test "$last" -lt 300000 &&
	expect_eq "{\"\$etl\":{\"bookmark\":[$last]" "$(tail -n 1 out | cut -d, -f1)" "the last line"
'
