#!/usr/bin/env bash
# CSV in: 1M orders as CSV (bench/gen-orders -c).
# - CSV to NDJSON: etl-batch --unbatch against mlr --icsv --ojsonl cat
#   (target at least 5x; peak RSS at most 32 MB whatever the file size,
#   and the same for etl-map reading the file);
# - the CSV loaded: etl-load-sql FILE.csv against the databases' own
#   loaders on the same file (targets: 1.0x psql \copy, 1.0x LOAD DATA
#   LOCAL INFILE, 1.5x sqlite3 .import; peak RSS at most 96 MB into each).
. "$(dirname "$0")/bench-lib.sh"
n=${BENCH_ROWS:-1000000}
csv=$(bench_data "$n" -c)

etl=$(bench_time "etl-batch --unbatch $csv | wc -l")
peer=$(bench_time "mlr --icsv --ojsonl cat $csv | wc -l")
rss=$(bench_rss "etl-batch --unbatch $csv")
bench_report "CSV to NDJSON: etl-batch vs mlr" "$etl" "$peer" "$rss" "5x, 32 MB"
rss=$(bench_rss "etl-map --format csv $top/build/obj/examples/redact.so none <$csv")
printf '%-44s peak RSS %s MB  target 32 MB\n' "CSV: etl-map (a transform that keeps all)" "$rss"

if [ -z "${ETL_TEST_PGURL:-}" ]; then
	dbs=$(mktemp -d /tmp/etl-bench-dbs.XXXXXX); chmod 755 "$dbs"
	"$top/tests/dbs.sh" start "$dbs/d" >/dev/null || exit 1
	trap '"$top/tests/dbs.sh" stop "$dbs/d"; rm -rf "$dbs"' EXIT
	. "$dbs/d/env"
fi
ddl="(order_id BIGINT PRIMARY KEY, customer_id BIGINT, product_id BIGINT, quantity INT,
	amount NUMERIC(12,2), shipping NUMERIC(12,2), tax NUMERIC(12,2), shipping_address TEXT)"
tail -n +2 "$csv" >"$data/orders.csv.body"
lite=$data/bench.db

etl=$(bench_time "$ETL_TEST_PSQL -c 'DROP TABLE IF EXISTS o; CREATE TABLE o $ddl' >/dev/null && etl-load-sql -n 10000 -t o '$ETL_TEST_PGURL' $csv")
peer=$(bench_time "$ETL_TEST_PSQL -c 'DROP TABLE IF EXISTS o; CREATE TABLE o $ddl' >/dev/null && $ETL_TEST_PSQL -c \"\\\\copy o FROM '$csv' CSV HEADER\"")
$ETL_TEST_PSQL -c "DROP TABLE IF EXISTS o; CREATE TABLE o $ddl" >/dev/null
rss=$(bench_rss "etl-load-sql -n 10000 -t o '$ETL_TEST_PGURL' $csv")
bench_report "CSV: etl-load-sql vs psql \\copy (PostgreSQL)" "$etl" "$peer" "$rss" "1.0x, 96 MB"

etl=$(bench_time "$ETL_TEST_MYSQL -e 'DROP TABLE IF EXISTS o; CREATE TABLE o $ddl' && etl-load-sql -n 10000 -t o '$ETL_TEST_MYURL' $csv")
peer=$(bench_time "$ETL_TEST_MYSQL -e 'DROP TABLE IF EXISTS o; CREATE TABLE o $ddl' && $ETL_TEST_MYSQL --local-infile=1 -e \"LOAD DATA LOCAL INFILE '$data/orders.csv.body' INTO TABLE o FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\\\"'\"")
$ETL_TEST_MYSQL -e "DROP TABLE IF EXISTS o; CREATE TABLE o $ddl"
rss=$(bench_rss "etl-load-sql -n 10000 -t o '$ETL_TEST_MYURL' $csv")
bench_report "CSV: etl-load-sql vs LOAD DATA LOCAL (MariaDB)" "$etl" "$peer" "$rss" "1.0x, 96 MB"

etl=$(bench_time "rm -f $lite && sqlite3 $lite 'CREATE TABLE o $ddl' && etl-load-sql -n 10000 -t o sqlite:$lite $csv")
peer=$(bench_time "rm -f $lite && sqlite3 $lite 'CREATE TABLE o $ddl' && sqlite3 $lite '.mode csv' '.import $data/orders.csv.body o'")
rm -f $lite && sqlite3 $lite "CREATE TABLE o $ddl"
rss=$(bench_rss "etl-load-sql -n 10000 -t o sqlite:$lite $csv")
bench_report "CSV: etl-load-sql vs sqlite3 .import (SQLite)" "$etl" "$peer" "$rss" "1.5x, 96 MB"
rm -f "$lite" "$data/orders.csv.body"
