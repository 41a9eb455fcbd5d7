#!/usr/bin/env bash
# etl-load-sql against real databases: SQLite always, PostgreSQL and
# MariaDB from tests/dbs.sh.  The same behaviours are checked on each:
# types, transactions, modes, bad rows, hostile strings read back
# byte-identical, acknowledgements only after commit, and failures.
. "$(dirname "$0")/../lib.sh"

# Per backend: its URL, a SQL runner printing tab-separated rows, and the
# DDL words that differ.
use_sqlite() {
	DB=sqlite; URL="sqlite:$T/test.db"
	sql() { sqlite3 -batch -noheader -separator $'\t' "$T/test.db" "$1"; }
	JSON=JSON; BOOL=BOOLEAN; TS=TEXT; DBL=REAL; BIG=INTEGER; TXT=TEXT
	NUM=TEXT  # SQLite would store a NUMERIC column's long number as a REAL
}
use_pg() {
	need_pg
	DB=pg; URL=$ETL_TEST_PGURL
	sql() { $ETL_TEST_PSQL -tA -F $'\t' -c "$1"; }
	JSON=JSONB; BOOL=BOOLEAN; TS=TIMESTAMPTZ; DBL="DOUBLE PRECISION"; BIG=BIGINT; TXT=TEXT
	NUM=NUMERIC
}
use_my() {
	need_my
	DB=my; URL=$ETL_TEST_MYURL
	# mariadb -B prints NULL where the other clients print nothing
	sql() { $ETL_TEST_MYSQL -N -B -r -e "$1" | sed -e "s/\tNULL\$/\t/; :a; s/\tNULL\t/\t\t/; ta; s/^NULL\t/\t/"; }
	JSON=JSON; BOOL=BOOLEAN; TS="TIMESTAMP(3) NULL"; DBL=DOUBLE; BIG=BIGINT; TXT=LONGTEXT
	NUM="DECIMAL(38,9)"
}

for backend in sqlite pg my; do
t() { test_expect_success "$backend: $1" "use_$backend; $2"; }

t 'records load with their types; keys match columns by name' '
	tbl=types_$DB
	sql "DROP TABLE IF EXISTS $tbl" &&
	sql "CREATE TABLE $tbl (id $BIG PRIMARY KEY, amount NUMERIC(12,2), ratio $DBL, name $TXT, ok $BOOL, born DATE, meta $JSON, n INTEGER DEFAULT 7)" &&
	printf "%s\n" "{\"name\":\"Zürich\",\"id\":1,\"amount\":8147.16,\"ratio\":0.1,\"ok\":true,\"born\":\"2026-03-14\",\"meta\":{\"a\":[1,2]}}" \
		"{\"id\":2,\"amount\":\"12.5\",\"ratio\":3,\"ok\":false,\"n\":null,\"meta\":\"s\"}" \
		"{\"id\":3}" | etl-load-sql -t $tbl "$URL" &&
	sql "SELECT id, amount, ratio, name, born, n FROM $tbl ORDER BY id" >got &&
	printf "1\t8147.16\t0.1\tZürich\t2026-03-14\t7\n2\t12.50\t3.0\t\t\t\n3\t\t\t\t\t7\n" >want.sqlite &&
	printf "1\t8147.16\t0.1\tZürich\t2026-03-14\t7\n2\t12.50\t3\t\t\t\n3\t\t\t\t\t7\n" >want &&
	if [ $DB = sqlite ]; then
		sed -i "s/\t12.50\t/\t12.5\t/" want.sqlite && expect_file_eq want.sqlite got
	else
		expect_file_eq want got
	fi
'

t 'numbers keep the digits they were written with' '
	tbl=digits_$DB
	sql "DROP TABLE IF EXISTS $tbl" &&
	sql "CREATE TABLE $tbl (id $BIG PRIMARY KEY, n $NUM, t $TXT, r $DBL)" &&
	printf "%s\n" "{\"id\":1,\"n\":12345678901234567890.123456789,\"t\":1.50,\"r\":1e-400}" \
		"{\"id\":2,\"n\":-0.000000001,\"t\":1E2,\"r\":2.5E-3}" \
		"{\"id\":3,\"r\":1e400}" >in &&
	etl-load-sql -t $tbl --reject rej "$URL" <in &&
	sql "SELECT id, n, t, r FROM $tbl ORDER BY id" >got &&
	printf "1\t12345678901234567890.123456789\t1.50\t0\n2\t-0.000000001\t1E2\t0.0025\n" >want &&
	if [ $DB = sqlite ]; then sed -i "s/\t0\$/\t0.0/" want; fi &&
	expect_file_eq want got &&
	expect_lines 1 rej &&
	jq -e ".where == \"stdin:3\" and (.error | test(\"column \\\"r\\\": invalid value for type\"))" rej
'

t 'rejects come out in input order across transactions' '
	tbl=order_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG PRIMARY KEY, v $BIG)" &&
	awk "BEGIN { for (i = 1; i <= 40; i++) {
		id = (i == 7 || i == 23) ? 1 : i; v = (i == 12 || i == 31) ? \"\\\"x\\\"\" : i
		printf \"{\\\"id\\\":%d,\\\"v\\\":%s}\\n\", id, v } }" >in &&
	etl-load-sql -n 5 -t $tbl --reject rej "$URL" <in &&
	expect_eq 36 "$(sql "SELECT count(*) FROM $tbl")" &&
	expect_eq "stdin:7 stdin:12 stdin:23 stdin:31" "$(jq -r .where rej | tr "\n" " " | sed "s/ $//")"
'

t 'a value that does not convert is a data error naming column and value' '
	tbl=bad_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG, amount $DBL)" &&
	printf "{\"id\":1,\"amount\":1.5}\n{\"id\":2,\"amount\":\"abc\"}\n{\"id\":3,\"amount\":2}\n" >in &&
	expect_status 65 etl-load-sql -t $tbl "$URL" <in 2>err &&
	expect_grep "^etl-load-sql: stdin:2: column \"amount\": invalid value for type .*: \"abc\"$" err &&
	expect_eq 1 "$(sql "SELECT count(*) FROM $tbl")" "rows committed before the bad one"
'

t 'an unknown key is a data error unless --ignore-unknown' '
	tbl=unk_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG)" &&
	echo "{\"id\":1,\"colour\":\"red\"}" >in &&
	expect_status 65 etl-load-sql -t $tbl "$URL" <in 2>err &&
	expect_output err "etl-load-sql: stdin:1: unknown column \"colour\" in table \"$tbl\" (use --ignore-unknown or --add-columns)" &&
	etl-load-sql -t $tbl --ignore-unknown "$URL" <in &&
	expect_eq 1 "$(sql "SELECT count(*) FROM $tbl")"
'

t '--add-columns adds a column for a new key' '
	tbl=add_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG)" &&
	printf "{\"id\":1}\n{\"id\":2,\"colour\":\"red\",\"size\":3}\n" | etl-load-sql -t $tbl --add-columns "$URL" &&
	expect_eq "2	red	3" "$(sql "SELECT id, colour, size FROM $tbl WHERE id = 2")"
'

t '--create makes a missing table from the first record; without it exit 78' '
	tbl=created_$DB
	sql "DROP TABLE IF EXISTS $tbl" &&
	echo "{\"id\":1,\"price\":2.5,\"name\":\"x\",\"ok\":true,\"tags\":[1]}" >in &&
	expect_status 78 etl-load-sql -t $tbl "$URL" <in 2>err &&
	expect_grep "table \"$tbl\" does not exist \(use --create to make it\)" err &&
	etl-load-sql -t $tbl --create "$URL" <in &&
	expect_eq "1	2.5	x" "$(sql "SELECT id, price, name FROM $tbl")"
'

t 'a batch with one bad row in the middle: the row is rejected, the rest committed' '
	tbl=batch_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG PRIMARY KEY, v $BIG NOT NULL)" &&
	awk "BEGIN { printf \"[\"; for (i = 1; i <= 100; i++) printf \"%s{\\\"id\\\":%d,\\\"v\\\":%s}\", (i > 1 ? \",\" : \"\"), i, (i == 57 ? \"null\" : i); print \"]\" }" >in &&
	etl-load-sql -t $tbl --reject rej "$URL" <in &&
	expect_eq 99 "$(sql "SELECT count(*) FROM $tbl")" &&
	expect_lines 1 rej &&
	jq -e ".where == \"stdin:1 (row 57)\" and .record.id == 57 and .program == \"etl-load-sql\"" rej
'

t 'without --reject, rows before the first bad row are committed, then exit 65' '
	tbl=stop_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG PRIMARY KEY)" &&
	printf "{\"id\":1}\n{\"id\":2}\n{\"id\":1}\n{\"id\":3}\n" >in &&
	expect_status 65 etl-load-sql -t $tbl "$URL" <in 2>err &&
	expect_grep "^etl-load-sql: stdin:3: " err &&
	expect_eq "1 2" "$(sql "SELECT id FROM $tbl ORDER BY id" | tr "\n" " " | sed "s/ $//")"
'

t '--upsert updates existing keys, the last of duplicates wins' '
	tbl=ups_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG PRIMARY KEY, v $TXT, w $BIG)" &&
	printf "{\"id\":1,\"v\":\"a\",\"w\":1}\n{\"id\":2,\"v\":\"b\",\"w\":2}\n" | etl-load-sql -t $tbl "$URL" &&
	printf "[{\"id\":1,\"v\":\"x\"},{\"id\":3,\"v\":\"c\"},{\"id\":3,\"v\":\"d\"}]\n" | etl-load-sql -t $tbl --upsert id "$URL" &&
	expect_eq "1 x 1|2 b 2|3 d " "$(sql "SELECT id, v, w FROM $tbl ORDER BY id" | tr "\t\n" " |" | sed "s/|$//")"
'

t '--ignore-duplicates skips rows whose key exists' '
	tbl=ign_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG PRIMARY KEY, v $TXT)" &&
	echo "{\"id\":1,\"v\":\"first\"}" | etl-load-sql -t $tbl "$URL" &&
	printf "{\"id\":1,\"v\":\"second\"}\n{\"id\":2,\"v\":\"new\"}\n" | etl-load-sql -t $tbl --ignore-duplicates "$URL" &&
	expect_eq "1 first|2 new" "$(sql "SELECT id, v FROM $tbl ORDER BY id" | tr "\t\n" " |" | sed "s/|$//")"
'

t '--sql runs parameterised statements; a bad one is rejected' '
	tbl=sqlm_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG, v $TXT)" &&
	if [ $DB = pg ]; then p1=\$1 p2=\$2; else p1=? p2=?; fi &&
	printf "%s\n" "{\"sql\":\"INSERT INTO $tbl VALUES ($p1, $p2)\",\"params\":[1,\"o'\''k; DROP TABLE $tbl\"]}" \
		"{\"sql\":\"INSERT INTO nowhere_$DB VALUES (1)\"}" \
		"{\"sql\":\"UPDATE $tbl SET v = $p1 WHERE id = $p2\",\"params\":[\"two\",1]}" >in &&
	etl-load-sql --sql --reject rej "$URL" <in &&
	expect_eq "1	two" "$(sql "SELECT id, v FROM $tbl")" &&
	expect_lines 1 rej && jq -e ".where == \"stdin:2\"" rej
'

t '--init runs a SQL file before loading' '
	tbl=init_$DB
	sql "DROP TABLE IF EXISTS $tbl" &&
	echo "CREATE TABLE $tbl (id $BIG);" >init.sql &&
	echo "{\"id\":5}" | etl-load-sql -t $tbl --init init.sql "$URL" &&
	expect_eq 5 "$(sql "SELECT id FROM $tbl")"
'

t 'hostile strings are read back byte-identical' '
	tbl=hostile_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG PRIMARY KEY, s $TXT)" &&
	head -c 1048576 /dev/zero | tr "\0" "q" >big &&
	jq -nc --rawfile big big "[\"it'\''s\", \"back\\\\slash\", \"\\\\N\", \"NULL\", \"tab\\there\", \"new\\nline\", \"cr\\rhere\", \"\\u0001\\u001f\\u007f\", \"😀 𝄞 東京\", \"x\\\"); DROP TABLE $tbl; --\", \"\\\\\\\\\\\\\", \"\", \" \", \$big] | to_entries[] | {id: .key, s: .value}" >in &&
	etl-load-sql -t $tbl "$URL" <in &&
	jq -r ".s" in | od -c | md5sum >want &&
	for i in $(seq 0 13); do
		if [ $DB = my ]; then sql "SELECT HEX(s) FROM $tbl WHERE id = $i" | xxd -r -p; echo;
		elif [ $DB = pg ]; then $ETL_TEST_PSQL -tA -c "SELECT encode(convert_to(s, '\''UTF8'\''), '\''hex'\'') FROM $tbl WHERE id = $i" | xxd -r -p; echo;
		else sqlite3 "$T/test.db" "SELECT hex(s) FROM $tbl WHERE id = $i" | xxd -r -p; echo; fi
	done | od -c | md5sum >got &&
	expect_file_eq want got
'

t 'a control line is written only after the rows before it are committed' '
	tbl=ack_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG)" &&
	mkfifo in || exit 1
	{ printf "{\"id\":1}\n{\"id\":2}\n{\"\$etl\":{\"checkpoint\":1}}\n"; sleep 3; printf "{\"id\":3}\n"; } >in &
	etl-load-sql -t $tbl -T 10s "$URL" <in >acks &
	loader=$!
	for _ in $(seq 1 50); do [ -s acks ] && break; sleep 0.05; done
	committed=$(sql "SELECT count(*) FROM $tbl")
	expect_output acks "{\"\$etl\":{\"checkpoint\":1}}" &&
	expect_eq 2 "$committed" "rows committed when the acknowledgement came" &&
	wait $loader &&
	expect_eq 3 "$(sql "SELECT count(*) FROM $tbl")"
'

# The committer thread writes the control lines while the reading thread
# waits for input: the reader must leave stdout alone then, or a line just
# added can be dropped (the acknowledgement lost, the source waiting for
# it until its ack wait).  A loss here is rare; the ThreadSanitizer run
# (make check SANITIZE=thread) reports the race itself every time.
t 'every control line comes back while the input pauses between them' '
	tbl=acks_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG)" &&
	seq 1 2000 | awk "{ printf \"{\\\"id\\\":%d}\\n{\\\"\$etl\\\":{\\\"checkpoint\\\":%d}}\\n\", \$1, \$1 }" >in &&
	expect_lines 4000 in &&
	python3 "$ETL_TOP/tests/input-gen.py" bursts --lone 2 --burst 6 --pause-ms 0.3 <in |
		etl-load-sql -t $tbl "$URL" >acks &&
	expect_eq 2000 "$(sql "SELECT count(*) FROM $tbl")" &&
	expect_eq "2000 1 2000" "$(jq -rs "[length, .[0][\"\$etl\"].checkpoint, .[-1][\"\$etl\"].checkpoint] | map(tostring) | join(\" \")" acks)" "control lines, first, last"
'

t 'SIGTERM commits what is pending and exits 0' '
	tbl=term_$DB
	sql "DROP TABLE IF EXISTS $tbl" && sql "CREATE TABLE $tbl (id $BIG)" &&
	mkfifo in || exit 1
	{ printf "{\"id\":1}\n{\"id\":2}\n"; sleep 5; } >in &
	writer=$!
	etl-load-sql -t $tbl -T 1h "$URL" <in &
	loader=$!
	sleep 1; kill -TERM $loader; wait $loader; status=$?; kill $writer 2>/dev/null
	expect_eq 0 $status "exit status" &&
	expect_eq 2 "$(sql "SELECT count(*) FROM $tbl")"
'
done

test_expect_success 'pg: a wrong password is exit 69 at once, and the password is never shown' '
	need_pg
	url=$(echo "$ETL_TEST_PGURL" | sed "s/etl%20pass%3A%2F%40/s3cret-wrong/")
	start=$SECONDS
	echo "{\"id\":1}" | expect_status 69 etl-load-sql -t x "$url" 2>err &&
	expect_grep "password authentication failed" err &&
	expect_no_grep "s3cret" err &&
	test $((SECONDS - start)) -lt 5
'

test_expect_success 'my: a wrong password is exit 69 at once' '
	need_my
	url=$(echo "$ETL_TEST_MYURL" | sed "s/etl%20pass%3A%2F%40/s3cret-wrong/")
	echo "{\"id\":1}" | expect_status 69 etl-load-sql -t x "$url" 2>err &&
	expect_grep "Access denied" err &&
	expect_no_grep "s3cret" err
'

test_expect_success 'an unreachable server is retried, then exit 69' '
	port=$(free_port)
	echo "{\"id\":1}" | expect_status 69 etl-load-sql --retry-for 1s -t x "postgresql://u:s3cret@127.0.0.1:$port/d" 2>err &&
	expect_grep "retrying in" err &&
	expect_grep "gave up after" err &&
	expect_no_grep "s3cret" err
'

test_expect_success 'a malformed URL is exit 64 saying what is wrong' '
	expect_status 64 etl-load-sql -t x "postgresql://u:s3cret@h:99999/d" </dev/null 2>err &&
	expect_grep "^etl-load-sql: bad database URL: port out of range$" err &&
	expect_status 64 etl-load-sql -t x </dev/null 2>err &&
	expect_grep "no database URL" err
'

test_expect_success 'DATABASE_URL is used when no URL is given' '
	sqlite3 "$T/env.db" "CREATE TABLE e (id INTEGER)" &&
	echo "{\"id\":4}" | DATABASE_URL="sqlite:$T/env.db" etl-load-sql -t e &&
	expect_eq 4 "$(sqlite3 "$T/env.db" "SELECT id FROM e")"
'

test_expect_success 'sqlite, pg: --create with --upsert makes the key the primary key' '
	printf "{\"id\":1,\"v\":\"a\"}\n{\"id\":1,\"v\":\"b\"}\n" >in &&
	etl-load-sql --create --upsert id -t ck "sqlite:$T/ck.db" <in &&
	etl-load-sql --create --upsert id -t ck "sqlite:$T/ck.db" <in &&
	expect_eq "1|b" "$(sqlite3 "$T/ck.db" "SELECT id, v FROM ck")" &&
	if [ -n "${ETL_TEST_PGURL:-}" ]; then
		$ETL_TEST_PSQL -c "DROP TABLE IF EXISTS ck" 2>/dev/null
		etl-load-sql --create --upsert id -t ck "$ETL_TEST_PGURL" <in &&
		etl-load-sql --create --upsert id -t ck "$ETL_TEST_PGURL" <in &&
		expect_eq "1|b" "$($ETL_TEST_PSQL -tA -c "SELECT id, v FROM ck")"
	fi
'

test_expect_success 'pg: numbers in binary COPY are the numbers the server reads from text' '
	use_pg &&
	sql "DROP TABLE IF EXISTS numbin; CREATE TABLE numbin (id INT, n NUMERIC, s SMALLINT, r REAL)" &&
	nums="0 -0 0.0 0.000 1 -1 10 100 1000 10000 12345 0.1 0.01 0.001 0.0001 0.00001
		1e5 1E-5 1.5e3 123.456e-2 -99999999.99999 1e100 1e-100 9999.9999 10000.0001
		0e10 0.0e-3 1.0e1 120e-1 0.5E+2 98765432109876543210.0123456789 -0.00012340
		1e-1000 1e1001" &&
	i=0 && for n in $nums; do i=$((i + 1)); echo "{\"id\":$i,\"n\":$n}"; done >in &&
	echo "{\"id\":1000,\"n\":\"+5.50\",\"s\":-32768,\"r\":3.4e38}" >>in &&
	etl-load-sql -t numbin "$URL" <in &&
	i=0 && for n in $nums; do i=$((i + 1)); echo "$i	$(sql "SELECT '\''$n'\''::numeric")"; done >want &&
	echo "1000	5.50" >>want &&
	sql "SELECT id, n FROM numbin ORDER BY id" >got &&
	expect_file_eq want got &&
	expect_eq "-32768	3.4e+38" "$(sql "SELECT s, r FROM numbin WHERE id = 1000")" &&
	echo "{\"id\":1,\"s\":32768}" | etl-load-sql -t numbin --reject rej "$URL" &&
	jq -e ".error | test(\"smallint\")" rej
'
