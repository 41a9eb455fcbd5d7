#!/usr/bin/env bash
# The relay example (examples/relay): the walkthrough's event posted to the
# webhook arrives at the receiver exactly as sent, then a few thousand
# events each once; the durable version, through a JetStream stream into
# PostgreSQL, with its back pipeline killed with SIGKILL mid-stream and
# restarted: every event answered 202 is exactly one row.
. "$(dirname "$0")/../lib.sh"
U=${ETL_TEST_NATSURL:-}
EX=$ETL_TOP/examples/relay
N=3000
[ -n "${ETL_SANITIZE:-}" ] && N=1000
export RUNTIME_DIRECTORY  # the example's FIFOs, in the test's folder
# post PORT N ANSWERED : POST events {"n":1}..{"n":N}, one at a time on a
# keep-alive connection; the n of each answered 202 to ANSWERED
post() {
	python3 - "$@" <<-'PY'
	import http.client, json, sys
	port, n, out = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "w")
	c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
	for i in range(1, n + 1):
	    body = json.dumps({"event_type": "test", "data": {"n": i}})
	    for attempt in range(3):
	        try:
	            c.request("POST", "/events", body, {"Content-Type": "application/json"})
	            r = c.getresponse(); r.read()
	            break
	        except (OSError, http.client.HTTPException):
	            c.close(); c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
	    else:
	        continue
	    if r.status == 202:
	        print(i, file=out, flush=True)
	PY
}
# relay : the walkthrough's two pipelines and a receiver of its own (an
# etl-extract-http writing to the file received), the front on $F; waits
# until a probe event goes all the way through
relay() {
	F=$(free_port) && R=$(free_port) || return 1
	etl-extract-http "127.0.0.1:$R/events" >received 2>rerr &
	bash "$EX/relay.sh" back "$U" "http://127.0.0.1:$R/events" 2>berr &
	bash "$EX/relay.sh" front "$U" "127.0.0.1:$F/events" 2>ferr &
	wait_port $R && wait_port $F || return 1
	# Core NATS keeps nothing for a subscriber not there yet: probe until
	# one arrives.
	for _ in $(seq 1 300); do
		curl -s -o /dev/null -H "Content-Type: application/json" -d "{\"probe\":1}" \
			"http://127.0.0.1:$F/events"
		grep -q probe received 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no probe went through"
	return 1
}

test_expect_success 'the walkthrough: the curl POST arrives at the receiver exactly as sent' '
	need_nats || exit 1
	relay || exit 1
	bash "$EX/relay.sh" post "http://localhost:$F/events" >answer &&
	wait_for event_type received &&
	grep event_type received >got &&
	echo "{\"event_type\":\"test\",\"data\":{\"test\":\"test\"}}" >want &&
	expect_file_eq want got
'

test_expect_success "$N events through the relay, each arriving once" '
	need_nats || exit 1
	relay || exit 1
	post $F $N answered &&
	expect_lines $N answered &&
	for _ in $(seq 1 1200); do
		[ "$(grep -c event_type received)" -ge $N ] && break
		sleep 0.1
	done &&
	sleep 1 &&
	grep event_type received | jq -r .data.n | sort -n >got &&
	seq 1 $N >want &&
	expect_file_eq want got
'

test_expect_success "durable: kill -9 of the back pipeline mid-stream and a restart, every event answered 202 is one row" '
	need_nats || exit 1
	need_pg || exit 1
	RUNTIME_DIRECTORY=$T
	export STREAM=RELAY$$ SUBJECT=relay$$ TABLE=relay_events_$$ DURABLE=d
	pg_run "DROP TABLE IF EXISTS $TABLE" >/dev/null 2>&1 &&
	bash "$EX/relay.sh" setup "$U" $ETL_TEST_PSQL -q -v ON_ERROR_STOP=1 || exit 1
	F=$(free_port) || exit 1
	bash "$EX/relay.sh" durable-front "$U" "127.0.0.1:$F/events" 2>ferr &
	setsid bash "$EX/relay.sh" durable-back "$U" "$ETL_TEST_PGURL" --ack-wait 2s --max-in-flight 200 2>berr1 &
	back=$!
	wait_port $F || exit 1
	post $F $N answered &
	poster=$!
	rows() { pg_run "SELECT count(*) FROM $TABLE"; }
	for _ in $(seq 1 3000); do
		[ "$(rows)" -ge $((N / 5)) ] && break
		sleep 0.1
	done
	kill -9 -- -$back && wait $back
	before=$(rows) && echo "$before rows when the back pipeline was killed" &&
	wait $poster &&
	answered=$(wc -l <answered) && echo "$answered answered 202" &&
	[ "$answered" -ge $((N * 9 / 10)) ] || { echo "too few answered"; cat ferr; exit 1; }
	setsid bash "$EX/relay.sh" durable-back "$U" "$ETL_TEST_PGURL" 2>berr2 &
	back=$!
	for _ in $(seq 1 3000); do
		[ "$(rows)" -ge "$answered" ] && break
		sleep 0.1
	done
	sleep 3 &&
	kill -TERM -- -$back && wait $back
	sort -n answered >want &&
	pg_run "SELECT data->'\''data'\''->>'\''n'\'' FROM $TABLE" | sort -n >got &&
	expect_file_eq want got &&
	expect_eq "$answered" "$(pg_run "SELECT count(DISTINCT seq) FROM $TABLE")" "distinct sequences" &&
	pg_run "DROP TABLE $TABLE" >/dev/null
'
