#!/usr/bin/env bash
# A 202 is a promise: what etl-extract-http accepts and has not handed on is
# bounded by the time it takes to drain (--max-backlog), so a stop keeps it.
#   etl-extract-http | etl-map total.so [| etl-batch] | etl-load-sql -n 1
# into SQLite committing every row (each order padded to 16 KB), loaded by
# 64 connections far faster than the loader, then SIGTERM or SIGINT to the
# whole process group: every request answered 2xx is a row, every stage
# exits 0 within --stop-timeout, and the senders were answered 503 with
# Retry-After rather than accepted and lost.  The same with a fast loader,
# and with orders as they come (150 bytes) and a transform 100 times slower
# than the senders, which the later stages' buffers would hold minutes of
# were they not sized by time too.  Then a loader that stalls for longer
# than the stop's deadline: every stage gives up at the deadline, and the
# numbers they say they did not deliver add up to exactly the answers
# missing from the table.
# With $PROMISE_FIGURES set, each run appends its figures there.
. "$(dirname "$0")/../lib.sh"
X=${ETL_TRANSFORMS:-$ETL_TOP/build/obj}
LOAD=$ETL_TOP/tests/load-client.py
STOP=6 SLACK=1  # --stop-timeout, seconds: each stage must be gone within it (and SLACK)
[ -z "${ETL_SANITIZE:-}" ] || STOP=10 SLACK=3  # slower stages under the sanitizers

orders_table() {
	sqlite3 "$1" "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, total REAL, shipping_address TEXT)"
}

# metric PORT NAME : a sample of etl-extract-http's /metrics, or 0
metric() {
	curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }'
}

# STAGES: the script of a pipeline whose stages are "stage NAME COMMAND..."
# joined by |; each stage's exit status and time go to "exits".  The shell
# around a stage holds neither of its pipes while it runs: a stage that
# gives up closes its output, and the next one, reading to the end of its
# input, sees the end then, not when the process is gone (a sanitizer's
# checks at exit take a second).
STAGES='trap "" TERM INT
stage() {
	name=$1
	shift
	"$@" <&4 >&3 4<&- 3>&- &
	pid=$!
	exec 3>&- 4<&-
	wait $pid
	echo "$name $? $(date +%s.%N)" >>exits
}'

# run_loaded SIGNAL LOADER_N BATCH_STAGE UNTIL_METRIC UNTIL_VALUE [HTTP_OPTION...] :
# start the pipeline in its own process group, each stage's exit status and
# time going to "exits"; load it until etl-extract-http's UNTIL_METRIC
# reaches UNTIL_VALUE; signal the group; wait for every stage.  Leaves
# "answered", "client.err", "err", "exits", "stopped_at" and o.db.  $MAP
# is etl-map's transform and its arguments (total.so), $PAD the bytes
# each order is padded with (16000).
run_loaded() {
	local sig=$1 n=$2 batch=$3 until=$4 value=$5 port pgid client i bstage= io="4<&0 3>&1 </dev/null >/dev/null"
	shift 5
	[ -z "$batch" ] || bstage="stage etl-batch $batch --stop-timeout ${STOP}s $io |"
	rm -f o.db answered exits err client.err && orders_table o.db || return 1
	port=$(free_port) || return 1
	setsid bash -c "$STAGES
		stage etl-extract-http etl-extract-http --stop-timeout ${STOP}s $* 127.0.0.1:$port $io |
		stage etl-map etl-map --stop-timeout ${STOP}s ${MAP:-$X/bench/total.so} $io |
		$bstage
		stage etl-load-sql etl-load-sql --stop-timeout ${STOP}s -n $n -t orders sqlite:$T/o.db $io" 2>err &
	pgid=$!
	wait_port "$port" || { kill -KILL -- -"$pgid"; return 1; }
	LOAD_PAD=${PAD-16000} python3 "$LOAD" "$port" answered 64 120 2>client.err &
	client=$!
	if [ -n "${STALL:-}" ]; then
		# Once the first rows are in, the lock: the loader stalls.
		wait_for . answered && touch lock && wait_for . locked || { kill -KILL -- -"$pgid"; return 1; }
	fi
	for i in $(seq 1 600); do
		[ "$(metric "$port" "$until")" -ge "$value" ] && break
		sleep 0.1
	done
	[ "$i" -lt 600 ] || { echo "$until never reached $value"; kill -KILL -- -"$pgid"; return 1; }
	date +%s.%N >stopped_at
	kill -"$sig" -- -"$pgid"
	for i in $(seq 1 $(((STOP + 5) * 20))); do
		pgrep -g "$pgid" >/dev/null || break
		sleep 0.05
	done
	pgrep -g "$pgid" >/dev/null && { echo "the pipeline did not end within $((STOP + 5)) s"; kill -KILL -- -"$pgid"; return 1; }
	wait "$client"
	[ -s answered ] || { echo "no request was answered"; return 1; }
}

# each_stage_exited STATUS : every stage exited STATUS (a regex) within --stop-timeout
each_stage_exited() {
	local stages=$(($(wc -l <exits)))
	[ "$stages" -ge 3 ] || { echo "only $stages stages reported"; cat exits; return 1; }
	awk -v s="$(cat stopped_at)" -v want="$1" -v stop="$((STOP + SLACK))" '
		$2 !~ "^(" want ")$" { print $1 " exited " $2 ", not " want; bad = 1 }
		$3 - s > stop { printf "%s took %.1f s to exit\n", $1, $3 - s; bad = 1 }
		END { exit bad }' exits
}

# figures TITLE : the run's figures, to $PROMISE_FIGURES
figures() {
	[ -n "${PROMISE_FIGURES:-}" ] || return 0
	printf "%s: %s answered 2xx, %s rows, %s answered 503; exits: %s\n" "$1" \
		"$(wc -l <answered)" "$(sqlite3 o.db "SELECT count(*) FROM orders")" \
		"$(sed -n "s/^status 503: //p" client.err)" \
		"$(awk -v s="$(cat stopped_at)" '{ printf "%s%s %.2f s", sep, $1, $3 - s; sep = ", " }' exits)" >>"$PROMISE_FIGURES"
}

# answered_are_rows : every order answered 2xx is a row
answered_are_rows() {
	sqlite3 o.db "SELECT order_id FROM orders" | sort -u >rows &&
	sort -u answered >answered.sorted &&
	comm -23 answered.sorted rows >lost &&
	[ ! -s lost ] || { echo "$(wc -l <lost) of $(wc -l <answered) answered requests are no row"; return 1; }
}

for run in "TERM slow" "INT slow" "TERM slow etl-batch -n 10" "INT fast" "TERM fast etl-batch -n 100"; do
	set -- $run
	sig=$1 speed=$2
	shift 2
	batch="$*"
	test_expect_success "SIG$sig, $speed loader${batch:+, with $batch}: every 2xx is a row, every stage exits 0 in time" '
		if [ '"$speed"' = slow ]; then
			# Until the senders have been refused for the backlog a while.
			run_loaded '"$sig"' 1 "'"$batch"'" etl_http_backlog_rejections_total 200 --max-backlog 1s
		else
			run_loaded '"$sig"' 1000 "'"$batch"'" etl_http_records_total 1000
		fi &&
		figures "SIG'"$sig"', '"$speed"' loader'"${batch:+, $batch}"'" &&
		answered_are_rows && each_stage_exited 0 &&
		if grep -E "Broken pipe|gave up|not handed on" err; then exit 1; fi &&
		if [ '"$speed"' = slow ]; then
			expect_grep "^status 503: [0-9]+" client.err
		fi || { cat err client.err exits; exit 1; }
	'
done

# The issue's own scenario, orders as they come (150 bytes), and a stage a
# hundred times slower than the senders: a transform taking 10 ms an
# order.  What the later stages may hold is kept to a small part of the
# stop's deadline too (each stage's output pipe follows the pace of the
# next), or their buffers would hold minutes of its work.
cat >"$TEST_ROOT/slow.c" <<'EOF'
#include <etl.h>
#include <time.h>

static int
slow_map(struct etl_context *ctx, json_t *rec)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	json_t *out = json_object();

	nanosleep(&pause, NULL);
	json_object_set(out, "order_id", json_object_get(rec, "order_id"));
	json_object_set_new(out, "total", json_real(json_number_value(json_object_get(rec, "amount")) +
	    json_number_value(json_object_get(rec, "shipping")) + json_number_value(json_object_get(rec, "tax"))));
	json_object_set(out, "shipping_address", json_object_get(rec, "shipping_address"));
	return etl_emit(ctx, out);
}

ETL_TRANSFORM(.name = "slow", .map = slow_map);
EOF
cc -shared -fPIC -I"$ETL_TOP/lib" $(pkg-config --cflags jansson) "$TEST_ROOT/slow.c" -o "$TEST_ROOT/slow.so" || exit 1
for sig in TERM INT; do
	test_expect_success "SIG$sig, small orders, a stage 100 times slower than the senders: every 2xx is a row, every stage exits 0 in time" '
		MAP=$TEST_ROOT/slow.so PAD=0 run_loaded '"$sig"' 1 "" etl_http_backlog_rejections_total 500 &&
		figures "SIG'"$sig"', small orders, 10 ms an order" &&
		answered_are_rows && each_stage_exited 0 &&
		if grep -E "Broken pipe|gave up|not handed on" err; then exit 1; fi &&
		expect_grep "^status 503: [0-9]+" client.err || { cat err client.err exits; exit 1; }
	'
done

test_expect_success 'past --max-backlog: 503 with Retry-After; a stop that gives up counts the 202s not handed on' '
	PORT=$(free_port) || exit 1
	# A pipe nobody reads (1 MiB, widened): the first request fills it and
	# more, the next is refused.
	{ sh -c "echo \$\$ >server.pid; exec etl-extract-http --stop-timeout 1s --max-backlog 1s 127.0.0.1:$PORT" 2>err; echo $? >status; } |
		sh -c "echo \$\$ >reader.pid; exec sleep 60" &
	wait_port "$PORT" &&
	head -c 1500000 /dev/zero | tr "\0" x | sed "s/^/{\"pad\":\"/; s/\$/\"}/" >big &&
	curl -s -o /dev/null -w "%{http_code}\n" -H "Content-Type: application/json" --data-binary @big "http://127.0.0.1:$PORT/" >codes &&
	curl -s -D head -o body -H "Content-Type: application/json" -d "{\"a\":1}" "http://127.0.0.1:$PORT/" &&
	expect_output codes 202 &&
	expect_grep "^HTTP/1.1 503" head &&
	expect_grep "^Retry-After: [0-9]+" head &&
	echo >>body &&
	expect_output body "{\"error\":\"the pipeline is behind: what was accepted would take longer than --max-backlog to hand on\"}" &&
	curl -s "http://127.0.0.1:$PORT/metrics" >m &&
	expect_grep "^etl_http_backlog_rejections_total 1$" m &&
	expect_grep "^etl_http_backpressure_rejections_total 1$" m || exit 1
	kill -TERM "$(cat server.pid)" &&
	wait_for . status &&
	kill "$(cat reader.pid)"
	expect_output status 75 &&
	expect_output err "etl-extract-http: stop: gave up after --stop-timeout 1s: 1 records answered 202 were not handed on"
'

# The loader stalls: another session holds the database's write lock for
# longer than the stop's deadline.  Each stage that gives up counts what it
# read and did not deliver, what its buffers hold and what its input pipe
# still brings until the stage before closes it: together, exactly the
# orders answered 202 that are no row.
test_expect_success 'a stalled loader: each stage gives up at the deadline, and what they say they did not deliver adds up to the 2xx answers missing from the table' '
	rm -f o.db locked && orders_table o.db || exit 1
	python3 -c "import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
while not __import__(\"os\").path.exists(\"lock\"): time.sleep(0.05)
c.execute(\"BEGIN EXCLUSIVE\")
open(\"locked\", \"w\").write(\"locked\\n\")
time.sleep(float(sys.argv[2]))
c.execute(\"COMMIT\")" o.db $((STOP + 15)) &
	locker=$!
	STALL=1 run_loaded TERM 1 "" etl_http_backlog_rejections_total 100 --max-backlog 1s || exit 1
	kill $locker
	wait
	figures "SIGTERM, stalled loader" &&
	# etl-extract-http holds little: it, and etl-map after it, may have
	# handed all on.
	each_stage_exited "0|75" && grep -q "^etl-load-sql 75 " exits || { cat err exits; exit 1; }
	answered=$(sort -u answered | wc -l) rows=$(sqlite3 o.db "SELECT count(*) FROM orders") &&
	http=$(sed -n "s/^etl-extract-http: stop: gave up after --stop-timeout [0-9.]*s: \([0-9]*\) records answered 202 were not handed on$/\1/p" err)
	map=$(sed -n "s/^etl-map: stop: gave up after --stop-timeout [0-9.]*s: \([0-9]*\) records were not delivered: [0-9]* of the [0-9]* read and [0-9]* left in the input$/\1/p" err)
	load=$(sed -n "s/^etl-load-sql: stop: gave up after --stop-timeout [0-9.]*s: \([0-9]*\) records were not delivered: [0-9]* of the [0-9]* read and [0-9]* left in the input$/\1/p" err)
	# A stage that exited 0 handed all it had on.
	if grep -q "^etl-extract-http 0 " exits; then http=0; fi
	if grep -q "^etl-map 0 " exits; then map=0; fi
	[ -n "$http" ] && [ -n "$map" ] && [ -n "$load" ] || { echo "a stage did not say what it did not deliver:"; cat err exits; exit 1; }
	echo "answered $answered, rows $rows; not delivered: etl-extract-http $http, etl-map $map, etl-load-sql $load"
	[ -z "${PROMISE_FIGURES:-}" ] || { echo "stalled: answered $answered, rows $rows; not delivered: etl-extract-http $http, etl-map $map, etl-load-sql $load"; cat err; } >>"$PROMISE_FIGURES"
	expect_eq $((answered - rows)) $((http + map + load)) "the 2xx answers that are no row, and what the stages say they did not deliver" || { cat err exits; exit 1; }
'
