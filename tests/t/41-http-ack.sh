#!/usr/bin/env bash
# End-to-end acknowledgements: etl-extract-http --ack-fifo answers 202
# only once the loader has committed the request's records and written the
# checkpoint's control line back through the FIFO; no acknowledgement in
# time is 503.  And the fault tests: kill -9 a stage under a steady load,
# and every request that was answered 202 is in the table.
. "$(dirname "$0")/../lib.sh"
X=${ETL_TRANSFORMS:-$ETL_TOP/build/obj}/examples

# start_acked DOWNSTREAM [OPTION]... : etl-extract-http --ack-fifo acks on
# a free port, piped into the shell command DOWNSTREAM whose stdout is the
# FIFO.  Sets $PORT and $SERVER (the extractor's pid); its stderr is err.
start_acked() {
	local downstream=$1
	shift
	[ -p acks ] || mkfifo acks || return 1
	PORT=$(free_port) || return 1
	{ sh -c 'echo $$ >server.pid; exec "$@"' sh etl-extract-http --ack-fifo acks "$@" \
		"127.0.0.1:$PORT" 2>err | eval "$downstream" >acks; } &
	wait_port "$PORT" || { cat err; return 1; }
	SERVER=$(cat server.pid)
}
# post BODY [CURL OPTION]... : prints "STATUS BODY"
post() {
	local body=$1
	shift
	curl -s -o resp -w "%{http_code}" -H "Content-Type: application/json" \
		--data-binary "$body" "$@" "http://127.0.0.1:$PORT/" &&
	printf " %s\n" "$(cat resp)"
}
# load CLIENTS REQUESTS : CLIENTS curl loops, each posting REQUESTS orders
# with its own ids, until a connection is refused; the ids answered 202 go
# to accepted.CLIENT.
load() {
	local c
	for c in $(seq 1 "$1"); do
		(
			for i in $(seq 1 "$2"); do
				id=$((c * 100000 + i))
				code=$(curl -s -o /dev/null -w "%{http_code}" -m 30 \
					-H "Content-Type: application/json" --data-binary \
					"{\"order_id\":$id,\"customer_id\":7,\"product_id\":3,\"quantity\":1,\"amount\":9.5,\"shipping\":1,\"tax\":0.5,\"shipping_address\":\"1 Main St\"}" \
					"http://127.0.0.1:$PORT/")
				[ "$code" = 202 ] && echo $id >>"accepted.$c"
				echo "$code" >>"codes.$c"
				# the server is gone: the rest would be refused too
				[ "$code" != 000 ] || break
			done
		) &
	done
}

test_expect_success 'every request answered 202 is committed: 8 concurrent clients into SQLite' '
	start_acked "etl-load-sql --create -t events sqlite:events.db" &&
	load 8 25 &&
	wait_all_clients() { while [ "$(cat codes.* 2>/dev/null | wc -l)" -lt 200 ]; do sleep 0.1; done; } &&
	wait_all_clients &&
	expect_eq 200 "$(cat accepted.* | wc -l)" "requests answered 202" &&
	expect_eq 200 "$(sqlite3 events.db "SELECT count(DISTINCT order_id) FROM events")" "rows committed" &&
	kill -TERM $SERVER &&
	wait && expect_eq "" "$(cat err)" "stderr"
'

test_expect_success 'the 202 waits for the acknowledgement; foreign control lines do not count' '
	start_acked "cat >stream" --ack-timeout 20s &&
	{ post "{\"a\":1}" >answer & } &&
	wait_for "^\\{\"\\\$etl\":\\{\"ack\":1,\"source\":\"etl-extract-http/$SERVER\"\\}\\}$" stream &&
	expect_eq "{\"a\":1}" "$(head -n 1 stream)" "the record, before its checkpoint" &&
	sleep 0.3 && expect_eq "" "$(cat answer)" "answer before the acknowledgement" &&
	echo "{\"\$etl\":{\"ack\":1,\"source\":\"etl-extract-http/1\"}}" >acks &&
	echo "{\"\$etl\":{\"other\":true}}" >acks &&
	echo "not json" >acks &&
	sleep 0.3 && expect_eq "" "$(cat answer)" "answer after foreign control lines" &&
	tail -n 1 stream >acks &&
	wait_for "^202 \\{\"accepted\":1\\}$" answer
'

test_expect_success 'no acknowledgement within --ack-timeout: 503, the records still went on (at-least-once)' '
	start_acked "cat >stream" --ack-timeout 300ms &&
	expect_eq "503 {\"error\":\"no acknowledgement within --ack-timeout\"}" "$(post "{\"a\":1}")" &&
	expect_eq "{\"a\":1}" "$(head -n 1 stream)" "the record"
'

test_expect_success 'the loader goes away: requests waiting get 503 at once, not at --ack-timeout' '
	start_acked "head -n 1 >stream" --ack-timeout 60s &&
	start=$(date +%s) &&
	expect_eq "503 {\"error\":\"the acknowledgement stream ended before this request was acknowledged\"}" \
		"$(post "{\"a\":1}")" &&
	expect_eq 1 $(( $(date +%s) - start < 30 )) "answered before the timeout" &&
	wait_for "acks: the acknowledgement stream ended; waiting for it again" err
'

test_expect_success 'SIGTERM with requests waiting: their acknowledgement still answers them 202, exit 0' '
	start_acked "cat >stream" --ack-timeout 20s &&
	{ post "[{\"a\":1},{\"a\":2}]" >answer & } &&
	wait_for "ack" stream &&
	kill -TERM $SERVER &&
	sleep 0.3 && expect_eq "" "$(cat answer)" "answer before the acknowledgement" &&
	tail -n 1 stream >acks &&
	wait_for "^202 \\{\"accepted\":2\\}$" answer &&
	while kill -0 $SERVER 2>/dev/null; do sleep 0.05; done &&
	expect_eq 3 "$(wc -l <stream)" "records and the checkpoint"
'

test_expect_success 'a missing FIFO is exit 66; --ack-timeout takes a duration' '
	expect_status 66 etl-extract-http --ack-fifo nosuch 127.0.0.1:1 2>err &&
	expect_grep "^etl-extract-http: nosuch: No such file or directory \\(make it with mkfifo\\)$" err &&
	mkfifo acks && expect_status 64 etl-extract-http --ack-fifo acks --ack-timeout soon 127.0.0.1:1
'

# own_process NAME: the newest process called NAME started in this test's
# folder (not one of another test run on the same machine).
own_process() {
	local pid
	for pid in $(pgrep -x "$1" | sort -rn); do
		[ "$(readlink "/proc/$pid/cwd")" = "$PWD" ] && { echo "$pid"; return 0; }
	done
	echo "no $1 running in $PWD"
	return 1
}

# kill_under_load STAGE DOWNSTREAM SQL : a steady load through DOWNSTREAM,
# kill -9 the process named STAGE in the middle; every order answered 202
# must be among the rows SQL counts.
kill_under_load() {
	local stage=$1 downstream=$2 count=$3
	start_acked "$downstream" --ack-timeout 5s &&
	load 4 150 &&
	# Let some requests through first, then kill the stage mid-stream.
	while [ "$(cat accepted.* 2>/dev/null | wc -l)" -lt 60 ]; do sleep 0.05; done &&
	victim=$(own_process "$stage") &&
	kill -9 "$victim" &&
	wait &&
	accepted=$(cat accepted.* | sort -n) &&
	echo "$(echo "$accepted" | wc -l) answered 202, $(cat codes.* | grep -vc 202) not" &&
	expect_eq 1 $(( $(echo "$accepted" | wc -l) >= 60 )) "some requests accepted before the kill" &&
	expect_eq 1 $(( $(cat codes.* | grep -vc 202) > 0 )) "some refused after the kill" &&
	eval "$count" | sort -n >committed &&
	echo "$accepted" >accepted &&
	missing=$(comm -23 accepted committed) &&
	expect_eq "" "$missing" "orders answered 202 but not in the table"
}

test_expect_success 'kill -9 etl-map under load: every order answered 202 is in SQLite' '
	sqlite3 orders.db "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER, product_id INTEGER, quantity INTEGER, amount REAL, shipping REAL, tax REAL, total REAL, shipping_address TEXT)" &&
	kill_under_load etl-map "etl-map $X/order.so | etl-load-sql -t orders sqlite:orders.db" \
		"sqlite3 orders.db \"SELECT order_id FROM orders\""
'

test_expect_success 'kill -9 etl-load-sql under load: every order answered 202 is in PostgreSQL' '
	need_pg
	pg_run "DROP TABLE IF EXISTS ack_orders" &&
	pg_run "CREATE TABLE ack_orders (order_id BIGINT PRIMARY KEY, customer_id BIGINT, product_id BIGINT, quantity INT, amount NUMERIC(12,2), shipping NUMERIC(12,2), tax NUMERIC(12,2), total NUMERIC(12,2), shipping_address TEXT)" &&
	kill_under_load etl-load-sql "etl-map $X/order.so | etl-load-sql -t ack_orders \"$ETL_TEST_PGURL\"" \
		"pg_run \"SELECT order_id FROM ack_orders\""
'

test_expect_success 'a server that cannot start leaves no loader waiting on the FIFO: the loader opens it read-write (1<>), as the README shows' '
	mkfifo acks &&
	python3 -c "
import socket, sys, time
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(120)" >port &
	for _ in $(seq 1 100); do [ -s port ] && break; sleep 0.05; done
	P=$(cat port) &&
	timeout 30 bash -o pipefail -c "etl-extract-http --ack-fifo acks 127.0.0.1:$P 2>err |
		etl-load-sql -t orders sqlite:orders.db 1<>acks"
	status=$?
	expect_eq 1 "$([ $status -ne 0 ] && [ $status -ne 124 ] && echo 1)" "exit status $status: failed, and not by the timeout" &&
	expect_grep "cannot listen" err
'
