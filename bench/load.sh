#!/usr/bin/env bash
# etl-load-sql on 1M orders against each database's own bulk loader on the
# same rows as CSV: psql \copy (and pgloader), LOAD DATA LOCAL INFILE,
# sqlite3 .import.
# Targets: each at least 0.7x; peak RSS at -n 10000 at most 64 MB.
. "$(dirname "$0")/bench-lib.sh"
n=${BENCH_ROWS:-1000000}
file=$(bench_data "$n")
csv=$(bench_data "$n" -c)
if [ -z "${ETL_TEST_PGURL:-}" ]; then
	dbs=$(mktemp -d /tmp/etl-bench-dbs.XXXXXX); chmod 755 "$dbs"
	"$top/tests/dbs.sh" start "$dbs/d" >/dev/null || exit 1
	trap '"$top/tests/dbs.sh" stop "$dbs/d"; rm -rf "$dbs"' EXIT
	. "$dbs/d/env"
fi
ddl="(order_id BIGINT PRIMARY KEY, customer_id BIGINT, product_id BIGINT, quantity INT,
	amount NUMERIC(12,2), shipping NUMERIC(12,2), tax NUMERIC(12,2), shipping_address TEXT)"
tail -n +2 "$csv" >"$data/orders.csv.body"

pg() { $ETL_TEST_PSQL -c "$1" >/dev/null; }
my() { $ETL_TEST_MYSQL -e "$1"; }
lite=$data/bench.db

bench_pair "$ETL_TEST_PSQL -c 'DROP TABLE IF EXISTS o; CREATE TABLE o $ddl' >/dev/null && etl-load-sql -n 10000 -t o '$ETL_TEST_PGURL' < $file" \
	"$ETL_TEST_PSQL -c 'DROP TABLE IF EXISTS o; CREATE TABLE o $ddl' >/dev/null && $ETL_TEST_PSQL -c \"\\\\copy o FROM '$data/orders.csv.body' CSV\""
etl=$pair_etl
pg "DROP TABLE IF EXISTS o; CREATE TABLE o $ddl"
rss=$(bench_rss "etl-load-sql -n 10000 -t o '$ETL_TEST_PGURL' < $file")
bench_report "etl-load-sql vs psql \\copy (PostgreSQL)" "$pair_etl" "$pair_peer" "$rss" "0.7x, 64 MB" "$pair_ratio"

# pgloader on the same CSV, through the server's unix socket as psql.
pguser=$(echo "$ETL_TEST_PGURL" | sed 's#^[a-z]*://\([^:@/]*\).*#\1#')
pgdb=$(echo "$ETL_TEST_PGURL" | sed 's#.*/\([^/?]*\)\(?.*\)\{0,1\}$#\1#')
cols="order_id, customer_id, product_id, quantity, amount, shipping, tax, shipping_address"
cat >"$data/orders.load" <<EOF
LOAD CSV FROM '$data/orders.csv.body' ($cols)
INTO postgresql://$pguser@unix:$ETL_TEST_PG_SOCKDIR:$ETL_TEST_PG_PORT/$pgdb?tablename=o ($cols)
WITH fields terminated by ',', fields optionally enclosed by '"', batch rows = 10000;
EOF
peer=$(bench_time "$ETL_TEST_PSQL -c 'DROP TABLE IF EXISTS o; CREATE TABLE o $ddl' >/dev/null && pgloader --quiet $data/orders.load && test \$($ETL_TEST_PSQL -Atc 'SELECT count(*) FROM o') -eq $n")
bench_report "etl-load-sql vs pgloader (PostgreSQL)" "$etl" "$peer" "" ""

bench_pair "$ETL_TEST_MYSQL -e 'DROP TABLE IF EXISTS o; CREATE TABLE o $ddl' && etl-load-sql -n 10000 -t o '$ETL_TEST_MYURL' < $file" \
	"$ETL_TEST_MYSQL -e 'DROP TABLE IF EXISTS o; CREATE TABLE o $ddl' && $ETL_TEST_MYSQL --local-infile=1 -e \"LOAD DATA LOCAL INFILE '$data/orders.csv.body' INTO TABLE o FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\\\"'\""
bench_report "etl-load-sql vs LOAD DATA LOCAL (MariaDB)" "$pair_etl" "$pair_peer" "" "0.7x" "$pair_ratio"

bench_pair "rm -f $lite && sqlite3 $lite 'CREATE TABLE o $ddl' && etl-load-sql -n 10000 -t o sqlite:$lite < $file" \
	"rm -f $lite && sqlite3 $lite 'CREATE TABLE o $ddl' && sqlite3 $lite '.mode csv' '.import $data/orders.csv.body o'"
bench_report "etl-load-sql vs sqlite3 .import (SQLite)" "$pair_etl" "$pair_peer" "" "0.7x" "$pair_ratio"
rm -f "$lite" "$data/orders.csv.body" "$data/orders.load"
