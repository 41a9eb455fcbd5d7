#!/usr/bin/env bash
# The scale recipe (examples/scale, etl(7) SCALING OUT) on a 3-node JetStream
# cluster and a 3-node Galera cluster on loopback (tests/cluster.sh, started
# and stopped here): orders published through the front, half over HTTP and
# half with etl-load-nats, then the same file again (dropped by the message
# ids); three back pipelines, one per Galera node, through faults: one
# pipeline killed with SIGKILL and restarted, one nats-server stopped and
# started, one Galera node stopped and started.  At the end every node holds
# each order exactly once, equal to what was sent, and every pipeline loaded
# a share.  Then the same into the one test PostgreSQL.  Galera's
# certification failures (three nodes inserting the same keys at once) are
# retried, not rejected.
. "$(dirname "$0")/../lib.sh"
N=${ETL_SCALE_N:-200000}
[ -n "${ETL_SANITIZE:-}" ] && N=20000  # sanitized stages are ~10x slower
CL=$TEST_ROOT/cluster
chmod 755 "$TEST_ROOT"  # the database servers run as their own user
trap '"$ETL_TOP/tests/cluster.sh" stop "$CL" >/dev/null 2>&1; rm -rf "$TEST_ROOT"' EXIT
trap 'exit 143' TERM INT
EX=$ETL_TOP/examples/scale
export ORDER_SO=${ETL_TRANSFORMS:-$ETL_TOP/build/obj}/examples/order.so

# Columns as text, the order of the table, for comparing what was sent
# with what a database holds.
COLS="order_id, product_id, quantity, amount, shipping, tax, total, shipping_address"
expected_rows() {  # N : what order.so makes of gen-orders N, as TSV
	"$ETL_TOP/build/gen-orders" "$1" | etl-map "$ORDER_SO" |
		jq -r '[.order_id, .product_id, .quantity, .amount, .shipping, .tax, .total, .shipping_address] | @tsv'
}
stream_messages() {  # URL : messages in the stream ORDERS
	python3 "$ETL_TOP/tests/natsclient.py" req "$1" '$JS.API.STREAM.INFO.ORDERS' |
		jq -r '.state.messages'
}
acked() {  # FILE... : the sum of "acked" in the --stats lines of FILEs
	cat "$@" | grep -h '"program":"etl-extract-nats"' | jq -s 'map(.acked) | add // 0'
}
# back I URL : start back pipeline I (its own session, so that SIGKILL
# reaches all its stages) into URL, draining; its pid in BACK_I
back() {
	local n=${RUNS[$1]:-0}
	RUNS[$1]=$((n + 1))
	setsid bash "$EX/back.sh" "$NATS" "$2" -e --stats --ack-wait 5s --max-in-flight 2000 \
		2>"back$1.$n.err" &
	eval "BACK_$1=\$!"
}
declare -a RUNS
rows_at_least() {  # N CLIENT... : wait up to 5 min for N rows
	local want=$1 n
	shift
	for _ in $(seq 1 3000); do
		n=$("$@" -N -B -e "SELECT COUNT(*) FROM orders" 2>/dev/null) || n=0
		[ "${n:-0}" -ge "$want" ] && return 0
		sleep 0.1
	done
	echo "fewer than $want rows after 5 min: $n"
	return 1
}

# publish : the stream ORDERS and N orders in it, through both fronts
publish() {
	"$ETL_TOP/build/gen-orders" $N >orders &&
	head -n $((N / 2)) orders >http-half &&
	tail -n +$((N / 2 + 1)) orders >nats-half &&
	REPLICAS=3 bash "$EX/setup.sh" "$NATS" true &&
	port=$(free_port) &&
	{ setsid bash "$EX/front.sh" "$NATS" "127.0.0.1:$port/orders" 2>front.err & } &&
	front=$! &&
	wait_port "$port" &&
	split -l 1000 http-half chunk. &&
	for c in chunk.*; do
		code=$(curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: application/x-ndjson" \
			--data-binary @"$c" "http://127.0.0.1:$port/orders") &&
		expect_eq 202 "$code" "answer to $c" || return 1
	done &&
	kill -TERM -- -$front && { wait $front; true; } &&
	etl-load-nats --stream ORDERS --msg-id order_id "$NATS" orders.new nats-half &&
	etl-load-nats --stream ORDERS --msg-id order_id "$NATS" orders.new orders &&
	expect_eq $N "$(stream_messages "$NATS1")" "messages in the stream (the second publish dropped)"
}

test_expect_success "cluster: $N orders through the front, 3 pipelines into 3 Galera nodes, through SIGKILL, a nats-server and a Galera node restarted: each order once on every node" '
	"$ETL_TOP/tests/cluster.sh" start "$CL" >cluster.log 2>&1 || { cat cluster.log; exit 1; }
	. "$CL/env" &&
	NATS=$ETL_CLUSTER_NATSURL NATS1=$ETL_CLUSTER_NATSURL1 &&
	$ETL_CLUSTER_MYSQL1 <"$EX/orders.sql" &&
	publish &&
	back 1 "$ETL_CLUSTER_MYURL1" && back 2 "$ETL_CLUSTER_MYURL2" && back 3 "$ETL_CLUSTER_MYURL3" &&
	rows_at_least $((N / 10)) $ETL_CLUSTER_MYSQL2 &&
	kill -KILL -- -$BACK_1 && { wait $BACK_1; true; } &&
	back 1 "$ETL_CLUSTER_MYURL1" &&
	rows_at_least $((N / 4)) $ETL_CLUSTER_MYSQL2 &&
	"$ETL_TOP/tests/cluster.sh" stop-nats 2 "$CL" && sleep 2 &&
	"$ETL_TOP/tests/cluster.sh" start-nats 2 "$CL" &&
	rows_at_least $((N / 2)) $ETL_CLUSTER_MYSQL2 &&
	"$ETL_TOP/tests/cluster.sh" stop-my 3 "$CL" && sleep 2 &&
	"$ETL_TOP/tests/cluster.sh" start-my 3 "$CL" &&
	for i in 1 2 3; do
		eval "pid=\$BACK_$i" &&
		{ wait $pid || { echo "back pipeline $i exited with $?"; tail -n 20 back$i.*.err; exit 1; }; }
	done &&
	expected_rows $N >expected &&
	for i in 1 2 3; do
		eval "\$ETL_CLUSTER_MYSQL$i -N -B -e \"SELECT $COLS FROM orders ORDER BY order_id\"" >node$i &&
		expect_file_eq expected node$i || exit 1
	done &&
	for i in 1 2 3; do
		a=$(acked back$i.*.err) &&
		echo "pipeline $i: $a acknowledged over ${RUNS[$i]} runs" &&
		{ [ "$a" -gt 0 ] || { echo "pipeline $i loaded nothing"; exit 1; }; }
	done &&
	expect_eq 2 "${RUNS[1]}" "runs of pipeline 1" &&
	{ grep -h "retrying" back*.err | sort | uniq -c | sort -rn | head -n 5; true; }
'

test_expect_success "cluster: three Galera nodes inserting the same orders at once: certification failures (1213) retried, not rejected, each order once" '
	[ -f "$CL/env" ] || { echo "the clusters did not start"; exit 1; }
	. "$CL/env" &&
	"$ETL_TOP/build/gen-orders" 20000 | etl-map "$ORDER_SO" >rows &&
	# Conflicts are likely, not certain: up to three rounds until one is seen.
	for r in 1 2 3; do
		$ETL_CLUSTER_MYSQL1 -e "CREATE TABLE twice$r LIKE orders" && pids="" &&
		for i in 1 2 3; do
			eval "u=\$ETL_CLUSTER_MYURL$i" &&
			{ etl-load-sql --ignore-duplicates -n 50 -t twice$r "$u" <rows 2>load$r.$i.err & } &&
			pids="$pids $!" || exit 1
		done &&
		for p in $pids; do wait $p || { echo "a loader failed"; cat load$r.*.err; exit 1; }; done &&
		expect_eq 20000 "$($ETL_CLUSTER_MYSQL2 -N -B -e "SELECT COUNT(DISTINCT order_id) FROM twice$r")" &&
		expect_eq 20000 "$($ETL_CLUSTER_MYSQL3 -N -B -e "SELECT COUNT(*) FROM twice$r")" || exit 1
		grep -q "Deadlock found.*retrying" load$r.*.err && break
	done &&
	echo "retried in round $r: $(cat load$r.*.err | grep -c "retrying")" &&
	expect_grep "Deadlock found.*retrying" <(cat load*.err)
'

test_expect_success "cluster: $N orders, 3 pipelines into one PostgreSQL, through SIGKILL and a nats-server restarted: each order once" '
	need_pg
	[ -f "$CL/env" ] || { echo "the clusters did not start"; exit 1; }
	. "$CL/env" &&
	NATS=$ETL_CLUSTER_NATSURL NATS1=$ETL_CLUSTER_NATSURL1 &&
	python3 "$ETL_TOP/tests/natsclient.py" req "$NATS1" "\$JS.API.STREAM.DELETE.ORDERS" >/dev/null &&
	pg_run "DROP TABLE IF EXISTS orders" >/dev/null 2>&1
	$ETL_TEST_PSQL -v ON_ERROR_STOP=1 <"$EX/orders.sql" >/dev/null &&
	publish &&
	back 1 "$ETL_TEST_PGURL" && back 2 "$ETL_TEST_PGURL" && back 3 "$ETL_TEST_PGURL" &&
	pg_rows() { pg_run "SELECT COUNT(*) FROM orders"; } &&
	for _ in $(seq 1 3000); do [ "$(pg_rows)" -ge $((N / 10)) ] && break; sleep 0.1; done &&
	kill -KILL -- -$BACK_1 && { wait $BACK_1; true; } &&
	back 1 "$ETL_TEST_PGURL" &&
	for _ in $(seq 1 3000); do [ "$(pg_rows)" -ge $((N / 3)) ] && break; sleep 0.1; done &&
	"$ETL_TOP/tests/cluster.sh" stop-nats 1 "$CL" && sleep 2 &&
	"$ETL_TOP/tests/cluster.sh" start-nats 1 "$CL" &&
	for i in 1 2 3; do
		eval "pid=\$BACK_$i" &&
		{ wait $pid || { echo "back pipeline $i exited with $?"; tail -n 20 back$i.*.err; exit 1; }; }
	done &&
	expected_rows $N >expected &&
	$ETL_TEST_PSQL -c "COPY (SELECT $COLS FROM orders ORDER BY order_id) TO STDOUT" >pg &&
	expect_file_eq expected pg &&
	for i in 1 2 3; do
		a=$(acked back$i.*.err) &&
		echo "pipeline $i: $a acknowledged" &&
		{ [ "$a" -gt 0 ] || { echo "pipeline $i loaded nothing"; exit 1; }; }
	done
'
