#!/usr/bin/env bash
# etl-extract-sql on 1M orders, output to a pipe, against what a user
# would run instead on each database:
#   PostgreSQL: psql \copy (...) TO STDOUT CSV (bytes straight from the
#     server: the limit), and psql -At with row_to_json;
#   MariaDB: mysql --quick --batch;
#   SQLite: sqlite3 -json.
# Targets: >= 0.8x \copy, >= 1.5x row_to_json, >= 0.8x mysql --quick,
# >= 2x sqlite3 -json; peak RSS <= 32 MB.
. "$(dirname "$0")/bench-lib.sh"
n=${BENCH_ROWS:-1000000}
file=$(bench_data "$n")
if [ -z "${ETL_TEST_PGURL:-}" ]; then
	dbs=$(mktemp -d /tmp/etl-bench-dbs.XXXXXX); chmod 755 "$dbs"
	"$top/tests/dbs.sh" start "$dbs/d" >/dev/null || exit 1
	trap '"$top/tests/dbs.sh" stop "$dbs/d"; rm -rf "$dbs"' EXIT
	. "$dbs/d/env"
fi
ddl="(order_id BIGINT PRIMARY KEY, customer_id BIGINT, product_id BIGINT, quantity INT,
	amount NUMERIC(12,2), shipping NUMERIC(12,2), tax NUMERIC(12,2), shipping_address TEXT)"
lite=$data/extract.db
q="SELECT * FROM o"

# The same orders in each database, loaded once.
$ETL_TEST_PSQL -c "DROP TABLE IF EXISTS o; CREATE TABLE o $ddl" >/dev/null &&
	etl-load-sql -q -n 10000 -t o "$ETL_TEST_PGURL" <"$file" || exit 1
$ETL_TEST_MYSQL -e "DROP TABLE IF EXISTS o; CREATE TABLE o $ddl" &&
	etl-load-sql -q -n 10000 -t o "$ETL_TEST_MYURL" <"$file" || exit 1
rm -f "$lite" && sqlite3 "$lite" "CREATE TABLE o $ddl" &&
	etl-load-sql -q -n 10000 -t o "sqlite:$lite" <"$file" || exit 1

etl=$(bench_time "etl-extract-sql '$ETL_TEST_PGURL' '$q' | cat")
peer=$(bench_time "$ETL_TEST_PSQL -c \"\\\\copy ($q) TO STDOUT CSV\" | cat")
rss=$(bench_rss "etl-extract-sql '$ETL_TEST_PGURL' '$q'")
bench_report "etl-extract-sql vs psql \\copy CSV (PostgreSQL)" "$etl" "$peer" "$rss" "0.8x, 32 MB"
peer=$(bench_time "$ETL_TEST_PSQL -At -c 'SELECT row_to_json(o) FROM o' | cat")
bench_report "etl-extract-sql vs psql row_to_json (PostgreSQL)" "$etl" "$peer" "" "1.5x"

etl=$(bench_time "etl-extract-sql '$ETL_TEST_MYURL' '$q' | cat")
peer=$(bench_time "$ETL_TEST_MYSQL --quick --batch -e '$q' | cat")
rss=$(bench_rss "etl-extract-sql '$ETL_TEST_MYURL' '$q'")
bench_report "etl-extract-sql vs mysql --quick --batch (MariaDB)" "$etl" "$peer" "$rss" "0.8x, 32 MB"

etl=$(bench_time "etl-extract-sql 'sqlite:$lite' '$q' | cat")
peer=$(bench_time "sqlite3 -json '$lite' '$q' | cat")
rss=$(bench_rss "etl-extract-sql 'sqlite:$lite' '$q'")
bench_report "etl-extract-sql vs sqlite3 -json (SQLite)" "$etl" "$peer" "$rss" "2x, 32 MB"
rm -f "$lite"
