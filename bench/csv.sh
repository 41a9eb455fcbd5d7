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
# The peers load the file in one statement and one transaction; etl-load-sql
# commits every 10,000 rows.  So each peer also runs again with those
# commits: the file in parts of 10,000 rows, a transaction each.
parts=$data/orders.csv.parts
rm -rf "$parts" && mkdir "$parts" && split -l 10000 -d -a 4 "$data/orders.csv.body" "$parts/p"
for f in "$parts"/p*; do printf 'BEGIN;\n\\copy o FROM %s CSV\nCOMMIT;\n' "$f"; done >"$parts/psql"
for f in "$parts"/p*; do
	printf "LOAD DATA LOCAL INFILE '%s' INTO TABLE o FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"';\n" "$f"
done >"$parts/mariadb"

pg_new="$ETL_TEST_PSQL -c 'DROP TABLE IF EXISTS o; CREATE TABLE o $ddl' >/dev/null"
bench_pair "$pg_new && etl-load-sql -n 10000 -t o '$ETL_TEST_PGURL' $csv" \
	"$pg_new && $ETL_TEST_PSQL -c \"\\\\copy o FROM '$csv' CSV HEADER\""
$ETL_TEST_PSQL -c "DROP TABLE IF EXISTS o; CREATE TABLE o $ddl" >/dev/null
rss=$(bench_rss "etl-load-sql -n 10000 -t o '$ETL_TEST_PGURL' $csv")
bench_report "CSV: etl-load-sql vs psql \\copy (PostgreSQL)" "$pair_etl" "$pair_peer" "$rss" "1.0x, 96 MB" "$pair_ratio"
bench_pair "$pg_new && etl-load-sql -n 10000 -t o '$ETL_TEST_PGURL' $csv" \
	"$pg_new && $ETL_TEST_PSQL -f $parts/psql"
bench_report "  the same, psql committing every 10,000 rows" "$pair_etl" "$pair_peer" "" "" "$pair_ratio"

my_new="$ETL_TEST_MYSQL -e 'DROP TABLE IF EXISTS o; CREATE TABLE o $ddl'"
bench_pair "$my_new && etl-load-sql -n 10000 -t o '$ETL_TEST_MYURL' $csv" \
	"$my_new && $ETL_TEST_MYSQL --local-infile=1 -e \"LOAD DATA LOCAL INFILE '$data/orders.csv.body' INTO TABLE o FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\\\"'\""
$ETL_TEST_MYSQL -e "DROP TABLE IF EXISTS o; CREATE TABLE o $ddl"
rss=$(bench_rss "etl-load-sql -n 10000 -t o '$ETL_TEST_MYURL' $csv")
bench_report "CSV: etl-load-sql vs LOAD DATA LOCAL (MariaDB)" "$pair_etl" "$pair_peer" "$rss" "1.0x, 96 MB" "$pair_ratio"
bench_pair "$my_new && etl-load-sql -n 10000 -t o '$ETL_TEST_MYURL' $csv" \
	"$my_new && $ETL_TEST_MYSQL --local-infile=1 <$parts/mariadb"
bench_report "  the same, LOAD DATA by 10,000 rows" "$pair_etl" "$pair_peer" "" "" "$pair_ratio"

lite_new="rm -f $lite && sqlite3 $lite 'CREATE TABLE o $ddl'"
bench_pair "$lite_new && etl-load-sql -n 10000 -t o sqlite:$lite $csv" \
	"$lite_new && sqlite3 $lite '.mode csv' '.import $data/orders.csv.body o'"
rm -f $lite && sqlite3 $lite "CREATE TABLE o $ddl"
rss=$(bench_rss "etl-load-sql -n 10000 -t o sqlite:$lite $csv")
bench_report "CSV: etl-load-sql vs sqlite3 .import (SQLite)" "$pair_etl" "$pair_peer" "$rss" "1.5x, 96 MB" "$pair_ratio"
rm -rf "$lite" "$data/orders.csv.body" "$parts"
