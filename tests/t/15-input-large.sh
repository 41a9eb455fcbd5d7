#!/usr/bin/env bash
# Input at size: 200 MB of records once through every program, and memory
# on a 2 GB stream.
. "$(dirname "$0")/../lib.sh"
. "$ETL_TOP/tests/input.sh"

# 200 MB of records (gen-orders; 20 MB under the sanitizers, which are
# slow): through each program from a gzip file, a pipe in pieces and a
# plain file; the outputs agree with each other, byte for byte with the
# input where the program is an identity, and with jq on a sample.
test_expect_success 'at least 200 MB of records through every program' '
	n=1300000; [ -z "${ETL_SANITIZE:-}" ] || n=130000
	"$GEN" "$n" >big && gzip -1 <big >big.gz &&
	bytes=$(wc -c <big) && echo "$n records, $bytes bytes, $(wc -c <big.gz) compressed" &&
	{ [ -n "${ETL_SANITIZE:-}" ] || [ "$bytes" -ge 209715200 ]; } &&
	etl-batch -n 1000 big.gz | etl-batch --unbatch | cmp - big &&
	pieces 7 1048577 <big.gz | etl-batch -n 999 | etl-batch --unbatch | cmp - big &&
	etl-map "$TOTAL" <big >map.plain &&
	pieces 8 1048577 <big.gz | etl-map "$TOTAL" | cmp - map.plain &&
	head -n 20000 big >sample && tail -n 20000 big >>sample && want sample &&
	{ head -n 20000 map.plain; tail -n 20000 map.plain; } >map.sample &&
	same_map map.sample "etl-map on a sample of 200 MB" &&
	new_db && load big.gz &&
	expect_eq "$n $((n * (n + 1) / 2))" "$(sqlite3 -separator " " db "SELECT count(*), sum(order_id) FROM orders")" &&
	sqlite3 -json db "SELECT * FROM orders WHERE rowid <= 20000 OR rowid > $((n - 20000)) ORDER BY rowid" |
		jq -cS ".[]" >got.rec && cmp want.rec got.rec
'

# A 2 GB stream of 2 KB records made on the fly by yes(1) (no file on
# disk), through each program at its fastest: peak RSS stays under the
# bound each man page gives, and is no larger than on a tenth of the
# stream plus 16 MB (the allocator settles late; a leak of 20 bytes a
# record would show).  SQLite takes the rows through a view whose trigger
# only counts them, so the database does not grow either.  Under the
# sanitizers RSS is their shadow memory: 200 MB, the counts checked, no
# bound.  On a quiet machine this takes about 30 s.
test_expect_success 'memory stays bounded on a 2 GB stream through each program' '
	n=1000000; [ -z "${ETL_SANITIZE:-}" ] || n=100000
	rec=$(inputgen line 1969 --id 7) && expect_eq 1969 "$(printf %s "$rec" | wc -c)" &&
	sqlite3 db "CREATE TABLE sink (order_id INTEGER, customer_id INTEGER,
		product_id INTEGER, quantity INTEGER, amount REAL, shipping REAL,
		tax REAL, shipping_address TEXT);
		CREATE TABLE tally (n INTEGER, s INTEGER); INSERT INTO tally VALUES (0, 0);
		CREATE VIEW orders AS SELECT * FROM sink;
		CREATE TRIGGER orders_in INSTEAD OF INSERT ON orders BEGIN
			UPDATE tally SET n = n + 1, s = s + NEW.order_id; END;" &&
	for m in $((n / 10)) $n; do
		start=$SECONDS
		yes "$rec" | head -n $m | /usr/bin/time -f %M -o rss.batch.$m etl-batch -n 1000 >out &&
		expect_lines $((m / 1000)) out &&
		yes "$rec" | head -n $m | /usr/bin/time -f %M -o rss.map.$m etl-map "$TOTAL" >out &&
		expect_lines $m out &&
		yes "$rec" | head -n $m | /usr/bin/time -f %M -o rss.load.$m etl-load-sql -t orders sqlite:db &&
		expect_eq "$m $((7 * m))" "$(sqlite3 -separator " " db "SELECT n, s FROM tally")" &&
		sqlite3 db "UPDATE tally SET n = 0, s = 0" || exit 1
		echo "$m records, $((m * 1970 / 1000000)) MB: $((SECONDS - start)) s;" \
			"peak RSS etl-batch $(cat rss.batch.$m) KB, etl-map $(cat rss.map.$m) KB," \
			"etl-load-sql $(cat rss.load.$m) KB"
	done &&
	expect_eq 0 "$(sqlite3 db "SELECT count(*) FROM sink")" "rows kept" &&
	if [ -z "${ETL_SANITIZE:-}" ]; then
		for p in batch:16000 map:16000 load:96000; do
			prog=${p%:*} bound=${p#*:} small=$(cat rss.${p%:*}.$((n / 10))) big=$(cat rss.${p%:*}.$n)
			test "$big" -le "$bound" -a "$big" -le $((small + 16384)) ||
				{ echo "etl-$prog: peak RSS $big KB on 2 GB, $small KB on 200 MB, bound $bound KB"; exit 1; }
		done
	fi
'
