#!/usr/bin/env bash
# The database restarted in the middle of a load: etl-load-sql reconnects,
# retries the transaction that failed, and every row lands exactly once.
# --upsert makes the retry of a commit whose answer was lost harmless.
# The servers are its own (tests/dbs.sh with ETL_TEST_DBS_PRIVATE), so that
# the restarts touch no other file's.
. "$(dirname "$0")/../lib.sh"
if [ -n "${ETL_TEST_PGURL:-}${ETL_TEST_MYURL:-}" ]; then
	unset ETL_TEST_PGURL ETL_TEST_MYURL
	trap 'ETL_TEST_DBS_PRIVATE=1 "$ETL_TOP/tests/dbs.sh" stop "$TEST_ROOT/dbs" >/dev/null 2>&1; rm -rf "$TEST_ROOT"' EXIT
	chmod 755 "$TEST_ROOT"  # the database servers run as their own users
	if ETL_TEST_DBS_PRIVATE=1 "$ETL_TOP/tests/dbs.sh" start "$TEST_ROOT/dbs" >"$TEST_ROOT/dbs.log" 2>&1; then
		. "$TEST_ROOT/dbs/env"
	else
		cat "$TEST_ROOT/dbs.log"
		exit 1
	fi
fi
gen=$ETL_TOP/build/gen-orders
rows=200000

load_with_restart() {  # URL SQL-RUNNER RESTART-COMMAND
	local url=$1 run=$2 restart=$3
	$run "DROP TABLE IF EXISTS restart_orders" &&
	$run "CREATE TABLE restart_orders (order_id BIGINT PRIMARY KEY, customer_id BIGINT, product_id BIGINT, quantity INT, amount NUMERIC(12,2), shipping NUMERIC(12,2), tax NUMERIC(12,2), shipping_address TEXT)" || return 1
	# A slow producer so the restart lands mid-load.
	"$gen" $rows | awk "NR % 20000 == 0 { system(\"sleep 0.3\") } { print }" |
		etl-load-sql -n 5000 --upsert order_id -t restart_orders "$url" 2>err &
	loader=$!
	sleep 1.2
	$restart >/dev/null || { echo "restart failed"; return 1; }
	wait $loader; status=$?
	cat err
	expect_eq 0 $status "loader exit status" &&
	expect_grep "retrying in" err &&
	expect_eq "$rows $rows" "$($run "SELECT count(*), count(DISTINCT order_id) FROM restart_orders" | tr "\t|" "  ")" "rows, distinct rows"
}

test_expect_success 'PostgreSQL restarted mid-load: every row exactly once' '
	need_pg
	pg_run() { $ETL_TEST_PSQL -tA -F " " -c "$1"; }
	load_with_restart "$ETL_TEST_PGURL" pg_run \
		"$ETL_TOP/tests/dbs.sh restart-pg $ETL_TEST_DBS"
'

test_expect_success 'MariaDB restarted mid-load: every row exactly once' '
	need_my
	my_run() { $ETL_TEST_MYSQL -N -B -e "$1"; }
	load_with_restart "$ETL_TEST_MYURL" my_run \
		"$ETL_TOP/tests/dbs.sh restart-my $ETL_TEST_DBS"
'
