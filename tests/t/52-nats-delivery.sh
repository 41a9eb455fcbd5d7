#!/usr/bin/env bash
# Delivery through NATS: --ack-fifo acknowledges a message only once the
# loader committed it; kill -9 of a consuming pipeline and a restart lose
# nothing and, with the stream sequence as a key, duplicate nothing; a
# nats-server restarted mid-stream loses nothing on either side, and with
# --msg-id stores nothing twice; a connection lost for good is exit 75.
. "$(dirname "$0")/../lib.sh"
need_nats_here() { need_nats || exit 1; }
U=${ETL_TEST_NATSURL:-}
N=20000
[ -n "${ETL_SANITIZE:-}" ] && N=5000
uniq_name() { echo "$1$$x$RANDOM"; }
req() { python3 "$ETL_TOP/tests/natsclient.py" req "$U" "$@"; }
publines() { python3 "$ETL_TOP/tests/natsclient.py" lines "$U" "$@"; }
js_stream() {
	req "\$JS.API.STREAM.CREATE.$1" "{\"name\":\"$1\",\"subjects\":[\"$2\"],\"storage\":\"file\"}" |
		grep -q "\"created\"" || { echo "cannot create stream $1"; return 1; }
}
# sqlite3 that waits for a lock a loader killed a moment ago leaves behind
sq() { sqlite3 -cmd ".timeout 10000" "$@"; }
ack_pending() { req "\$JS.API.CONSUMER.INFO.$1.$2" | jq .num_ack_pending; }
# A nats-server of the test's own, to stop and restart: its URL in $PU.
private_nats() {
	command -v nats-server >/dev/null || { echo "no nats-server"; exit 77; }
	"$ETL_TOP/tests/nats.sh" start "$T/nats" >/dev/null || exit 1
	. "$T/nats/env"
	PU=$ETL_TEST_NATSURL
	trap '"$ETL_TOP/tests/nats.sh" stop "$T/nats"; reap_jobs' EXIT
}
restart_nats() { "$ETL_TOP/tests/nats.sh" restart "$T/nats"; }

test_expect_success '--ack-fifo: messages are acknowledged only when their checkpoint comes back' '
	need_nats_here
	st=$(uniq_name S) s=$(uniq_name ack) &&
	js_stream "$st" "$s" && mkfifo acks &&
	seq 1 500 | sed "s/.*/{\"n\":&}/" | publines "$s" || exit 1
	etl-extract-nats --ack-fifo acks --stream "$st" --durable d "$U" "$s" 2>err >stream <acks &
	exec 3>acks
	wait_for "\\\$etl" stream &&
	while [ $(grep -c "^{\"n\"" stream) -lt 500 ]; do sleep 0.1; done &&
	sleep 0.5 &&
	expect_eq 500 "$(ack_pending "$st" d)" "unacknowledged before any checkpoint came back" &&
	echo "{\"\$etl\":{\"ack\":1,\"source\":\"etl-extract-nats/1\"}}" >&3 &&
	grep "\\\$etl" stream | tail -n 1 >&3 &&
	for i in $(seq 1 100); do [ "$(ack_pending "$st" d)" = 0 ] && break; sleep 0.1; done &&
	expect_eq 0 "$(ack_pending "$st" d)" "unacknowledged after the last checkpoint" &&
	expect_grep "\"ack\":[0-9]+,\"source\":\"etl-extract-nats/[0-9]+\"" stream
'

test_expect_success "--ack-fifo into SQLite: -e drains $N messages and exits once all are committed" '
	need_nats_here
	st=$(uniq_name S) s=$(uniq_name sql) &&
	js_stream "$st" "$s" && mkfifo acks &&
	"$ETL_TOP/build/gen-orders" $N | publines "$s" &&
	# An ack wait longer than the run, however slow the build: a redelivery
	# would be acknowledged twice, and the count below is exact.
	etl-extract-nats -e --stats --ack-fifo acks --ack-wait 10m --stream "$st" --durable d "$U" "$s" 2>err |
		etl-load-sql --create -t orders sqlite:orders.db >acks &&
	expect_eq $N "$(sqlite3 orders.db "SELECT count(DISTINCT order_id) FROM orders")" "rows" &&
	expect_grep "\"acked\":$N," err &&
	expect_eq 0 "$(ack_pending "$st" d)" "unacknowledged"
'

test_expect_success "kill -9 of a consuming pipeline, then a restart: all $N messages in SQLite exactly once" '
	need_nats_here
	st=$(uniq_name S) s=$(uniq_name kill) &&
	js_stream "$st" "$s" && mkfifo acks &&
	sqlite3 events.db "CREATE TABLE events (seq INTEGER PRIMARY KEY, stream TEXT, subject TEXT, data TEXT)" &&
	"$ETL_TOP/build/gen-orders" $N | publines "$s" || exit 1
	{ timeout 120 etl-extract-nats --envelope --ack-fifo acks --ack-wait 2s --batch 100 --max-in-flight 200 \
		--stream "$st" --durable d "$U" "$s" 2>err1 |
		timeout 120 etl-load-sql -n 100 -t events --ignore-unknown --ignore-duplicates "sqlite:$T/events.db" >acks; } &
	pipeline=$!
	while [ "$(sqlite3 events.db "SELECT count(*) FROM events" 2>/dev/null || echo 0)" -lt $((N / 10)) ]; do sleep 0.02; done
	pkill -9 -f "durable d $U $s\$"; pkill -9 -f "sqlite:$T/events.db\$"
	wait $pipeline
	before=$(sq events.db "SELECT count(*) FROM events") &&
	echo "$before rows before the restart" &&
	sleep 2 &&
	timeout 120 etl-extract-nats -e --envelope --ack-fifo acks --stream "$st" --durable d "$U" "$s" 2>err2 |
		timeout 120 etl-load-sql -t events --ignore-unknown --ignore-duplicates sqlite:events.db >acks &&
	expect_eq "$N $N 1 $N" "$(sq events.db "SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM events" | tr "|" " ")" "rows, distinct, first, last" &&
	expect_eq $N "$(sq events.db "SELECT count(DISTINCT json_extract(data, \"$.order_id\")) FROM events")" "distinct orders"
'

test_expect_success "nats-server restarted mid-stream: etl-load-nats --msg-id stores $N messages once, etl-extract-nats gets them all" '
	private_nats
	st=S$$ &&
	"$ETL_TOP/build/gen-orders" $N >orders &&
	: | etl-load-nats --stream $st --create "$PU" "r.{customer_id}" || exit 1
	etl-extract-nats --stream $st --durable d "$PU" "r.>" >consumed 2>cerr &
	consumer=$!
	{ etl-load-nats --stats --stream $st --msg-id order_id --window 256 --ack-timeout 1s --retry-for 60s \
		"$PU" "r.{customer_id}" <orders 2>lerr; echo $? >lstatus; } &
	while [ "$(cat consumed 2>/dev/null | wc -l)" -lt $((N / 5)) ]; do sleep 0.05; done &&
	restart_nats &&
	wait_for . lstatus &&
	expect_eq 0 "$(cat lstatus)" "etl-load-nats exit status" &&
	expect_eq $N "$(python3 "$ETL_TOP/tests/natsclient.py" req "$PU" "\$JS.API.STREAM.INFO.$st" | jq .state.messages)" "messages stored" &&
	for i in $(seq 1 300); do [ $(sort -u consumed | wc -l) -ge $N ] && break; sleep 0.1; done &&
	kill -TERM $consumer && wait $consumer &&
	jq -c . orders | sort >want && sort -u consumed >got &&
	expect_file_eq want got &&
	expect_grep "connection lost; reconnecting" cerr &&
	cat lerr
'

test_expect_success 'a connection lost for longer than --retry-for: exit 75 on both sides' '
	private_nats
	: | etl-load-nats --stream L --create "$PU" l || exit 1
	{ etl-extract-nats --retry-for 1s --stream L --durable d "$PU" l >/dev/null 2>err1; echo $? >status1; } &
	mkfifo in && exec 3<>in
	{ etl-load-nats --retry-for 1s "$PU" l <in 2>err2; echo $? >status2; } &
	sleep 1 &&
	"$ETL_TOP/tests/nats.sh" stop "$T/nats" &&
	wait_for . status1 && expect_eq 75 "$(cat status1)" "etl-extract-nats exit status" &&
	expect_grep "the connection is still lost after --retry-for" err1 &&
	for i in $(seq 1 100); do [ -s status2 ] && break; sleep 0.1; done &&
	wait_for . status2 && expect_eq 75 "$(cat status2)" "etl-load-nats exit status"
'
