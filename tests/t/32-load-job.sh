#!/usr/bin/env bash
# Exactly-once re-runs with --job: the checkpoint is written in the same
# transaction as the rows, so a run killed with SIGKILL in the middle and
# run again loads every record exactly once, with no key to lean on.
. "$(dirname "$0")/../lib.sh"
gen=$ETL_TOP/build/gen-orders
rows=200000
ddl="(order_id BIGINT, customer_id BIGINT, product_id BIGINT, quantity INT, amount NUMERIC(12,2), shipping NUMERIC(12,2), tax NUMERIC(12,2), shipping_address TEXT)"

kill_and_rerun() {  # URL SQL-RUNNER
	local url=$1 run=$2
	$run "DROP TABLE IF EXISTS job_orders" 2>/dev/null
	$run "DROP TABLE IF EXISTS etl_checkpoints" 2>/dev/null
	$run "CREATE TABLE job_orders $ddl" || return 1
	"$gen" $rows >in
	# A slow reader of a file: the kill lands mid-load, between commits.
	awk "NR % 10000 == 0 { system(\"sleep 0.2\") } { print }" in |
		etl-load-sql --job nightly -n 3000 -t job_orders "$url" 2>err &
	local loader=$! n  # the pipeline's last command: etl-load-sql itself
	# Once the first rows are committed, at whatever speed this build runs.
	for n in $(seq 1 600); do
		[ "$($run "SELECT count(*) FROM job_orders" 2>/dev/null)" -gt 0 ] 2>/dev/null && break
		sleep 0.1
	done
	kill -KILL $loader || { echo "nothing to kill"; return 1; }
	wait
	local first
	first=$($run "SELECT count(*) FROM job_orders")
	test "$first" -gt 0 && test "$first" -lt $rows || { echo "first run loaded $first rows"; return 1; }
	etl-load-sql --job nightly -n 3000 -t job_orders "$url" <in &&
	expect_eq "$rows $rows" "$($run "SELECT count(*), count(DISTINCT order_id) FROM job_orders" | tr "\t|" "  ")" "rows, distinct rows" &&
	expect_eq "$rows" "$($run "SELECT position FROM etl_checkpoints WHERE job = 'nightly'")" "checkpoint" &&
	etl-load-sql --job nightly -t job_orders "$url" <in &&
	expect_eq "$rows" "$($run "SELECT count(*) FROM job_orders")" "rows after a third run"
}

test_expect_success 'SQLite: kill -9 mid-load, re-run with --job: each record exactly once' '
	lite() { sqlite3 -separator " " "$T/job.db" "$1"; }
	kill_and_rerun "sqlite:$T/job.db" lite
'

test_expect_success 'PostgreSQL: kill -9 mid-load, re-run with --job: each record exactly once' '
	need_pg
	pg() { $ETL_TEST_PSQL -tA -F " " -c "$1"; }
	kill_and_rerun "$ETL_TEST_PGURL" pg
'

test_expect_success 'MariaDB: kill -9 mid-load, re-run with --job: each record exactly once' '
	need_my
	my() { $ETL_TEST_MYSQL -N -B -e "$1"; }
	kill_and_rerun "$ETL_TEST_MYURL" my
'

test_expect_success '--job: a run stopped by a bad record resumes at that record' '
	sqlite3 "$T/r.db" "CREATE TABLE t (id INTEGER)" &&
	printf "{\"id\":1}\n{\"id\":2}\nbad\n{\"id\":3}\n" >in &&
	expect_status 65 etl-load-sql --job j -t t "sqlite:$T/r.db" <in 2>/dev/null &&
	expect_eq 2 "$(sqlite3 "$T/r.db" "SELECT position FROM etl_checkpoints")" &&
	printf "{\"id\":1}\n{\"id\":2}\n{\"id\":9}\n{\"id\":3}\n" >in &&
	etl-load-sql --job j -t t "sqlite:$T/r.db" <in &&
	expect_eq "1,2,9,3" "$(sqlite3 "$T/r.db" "SELECT group_concat(id) FROM t")"
'

test_expect_success '--job counts rejected records as done' '
	sqlite3 "$T/q.db" "CREATE TABLE t (id INTEGER)" &&
	printf "{\"id\":1}\nbad\n" >in &&
	etl-load-sql --job j --reject rej -t t "sqlite:$T/q.db" <in &&
	expect_eq 2 "$(sqlite3 "$T/q.db" "SELECT position FROM etl_checkpoints")" &&
	etl-load-sql --job j --reject rej -t t "sqlite:$T/q.db" <in &&
	expect_lines 1 rej && expect_eq 1 "$(sqlite3 "$T/q.db" "SELECT count(*) FROM t")"
'
