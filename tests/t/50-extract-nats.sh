#!/usr/bin/env bash
# etl-extract-nats against a real nats-server: core subscriptions and queue
# groups, JetStream durable pull consumers (shared, restarted, drained with
# -e), bodies decoded as etl-extract-http decodes them, hostile bodies as
# data errors that are terminated, --envelope, SIGTERM, and the usage and
# connection errors.  Acknowledgements, restarts and kill -9 are in
# 52-nats-delivery.sh.
. "$(dirname "$0")/../lib.sh"
need_nats_here() { need_nats || exit 1; }
U=${ETL_TEST_NATSURL:-}
pub() { python3 "$ETL_TOP/tests/natsclient.py" pub "$U" "$@"; }
publines() { python3 "$ETL_TOP/tests/natsclient.py" lines "$U" "$@"; }
req() { python3 "$ETL_TOP/tests/natsclient.py" req "$U" "$@"; }
N=100000
[ -n "${ETL_SANITIZE:-}" ] && N=20000
# A name no other test (or earlier run against the same server) uses.
uniq_name() { echo "$1$$x$RANDOM"; }
# subscribe OUT [OPTION]... SUBJECT : a core subscriber in the background,
# started and subscribed when this returns; its pid in $SUB.
subscribe() {
	local out=$1
	shift
	etl-extract-nats -v "$@" >"$out" 2>"$out.err" &
	SUB=$!
	wait_for "subscribed" "$out.err"
}
stop_sub() { kill -TERM "$1" && wait "$1"; }

test_expect_success 'core: object, array and NDJSON bodies become records, in order' '
	need_nats_here
	s=$(uniq_name core) &&
	subscribe out "$U" "$s.>" &&
	printf "{\"a\":1}" | pub "$s.x" &&
	printf "[{\"b\":1},{\"b\":2}]" | pub "$s.y" &&
	printf "{\"c\":1}\n{\"c\": 2}\n" | pub "$s.z" &&
	printf "{\"d\":1}\n{\"d\":2}\n" | pub "$s.z" -H "Content-Type: application/x-ndjson" &&
	wait_for "\"d\":2" out && stop_sub $SUB &&
	expect_output out "{\"a\":1}
{\"b\":1}
{\"b\":2}
{\"c\":1}
{\"c\":2}
{\"d\":1}
{\"d\":2}"
'

test_expect_success 'core: records come out as the JSON writer writes them, compact bodies as they came' '
	need_nats_here
	s=$(uniq_name form) &&
	subscribe out "$U" "$s" &&
	printf "{\"a\":1,\"a\":2}" | pub "$s" &&
	printf "{\"n\":1.50,\"m\":-0,\"e\":1e2,\"r\":-0.0}" | pub "$s" &&
	printf "%s" "{\"s\":\"\\u00e9\\/\\n\"}" | pub "$s" &&
	printf "{ \"sp\" : [1, 2] }" | pub "$s" &&
	printf "%s" "{\"ok\":[1,2.5,\"é\",{},true,null],\"z\":1e+20}" | pub "$s" &&
	wait_for "\"ok\"" out && stop_sub $SUB &&
	expect_output out "{\"a\":2}
{\"n\":1.5,\"m\":0,\"e\":100.0,\"r\":-0.0}
{\"s\":\"é/\\n\"}
{\"sp\":[1,2]}
{\"ok\":[1,2.5,\"é\",{},true,null],\"z\":1e+20}"
'

test_expect_success 'core: hostile bodies are data errors with their subject; the good ones around them pass' '
	need_nats_here
	s=$(uniq_name hostile) &&
	subscribe out --reject rej --stats "$U" "$s" &&
	printf "{\"ok\":1}" | pub "$s" &&
	printf "not json" | pub "$s" &&
	printf "" | pub "$s" &&
	printf "\000\377\376" | pub "$s" &&
	printf "42" | pub "$s" &&
	printf "[1,2]" | pub "$s" &&
	printf "{\"\$etl\":{\"ack\":1,\"source\":\"x\"}}" | pub "$s" &&
	printf "%0.s[" $(seq 1 5000) | pub "$s" &&
	printf "{\"a\":1" | pub "$s" &&
	printf "a,b\n1,2\n" | pub "$s" -H "Content-Type: text/csv" &&
	head -c 1000000 /dev/zero | tr "\0" "x" | pub "$s" &&
	printf "{\"ok\":2}" | pub "$s" &&
	wait_for "\"ok\":2" out && stop_sub $SUB &&
	expect_output out "{\"ok\":1}
{\"ok\":2}" &&
	expect_lines 10 rej &&
	expect_grep "\"where\":\"$s:2\"" rej &&
	expect_grep "\"error\":\"invalid JSON" rej &&
	expect_grep "reserved" rej &&
	expect_grep "unsupported Content-Type \\\\\"text/csv\\\\\"" rej &&
	expect_grep "\"rejected\":10" out.err
'

test_expect_success 'core: without --reject a bad body stops the run: exit 65, subject:N named' '
	need_nats_here
	s=$(uniq_name stop)
	{ etl-extract-nats -v "$U" "$s" >out 2>err; echo $? >status; } &
	wait_for subscribed err &&
	printf "{\"ok\":1}" | pub "$s" && printf "oops" | pub "$s" &&
	wait_for . status &&
	expect_eq 65 "$(cat status)" "exit status" &&
	expect_output out "{\"ok\":1}" &&
	expect_grep "^etl-extract-nats: $s:2: invalid JSON" err
'

test_expect_success 'core: --queue members share the messages, none twice' '
	need_nats_here
	s=$(uniq_name queue) &&
	subscribe out1 --queue q "$U" "$s" && a=$SUB &&
	subscribe out2 --queue q "$U" "$s" && b=$SUB &&
	seq 1 2000 | sed "s/.*/{\"n\":&}/" | publines "$s" &&
	while [ $(cat out1 out2 | wc -l) -lt 2000 ]; do sleep 0.1; done &&
	stop_sub $a && stop_sub $b &&
	expect_eq 2000 "$(cat out1 out2 | sort -u | wc -l)" "distinct records" &&
	expect_eq 1 $(( $(wc -l <out1) > 0 && $(wc -l <out2) > 0 )) "both members got some"
'

test_expect_success 'core: --envelope wraps subject, headers, data (JSON, text or base64), time' '
	need_nats_here
	s=$(uniq_name env) &&
	subscribe out --envelope "$U" "$s.>" &&
	printf "{\"a\":1}" | pub "$s.j" -H "X-Id: 7" -H "X-Id: 8" &&
	printf "plain text" | pub "$s.t" &&
	printf "\000\377" | pub "$s.b" &&
	wait_for "$s.b" out && stop_sub $SUB &&
	expect_eq 3 "$(jq -c "select(.stream == null and .seq == null and (.time | test(\"^[0-9-]{10}T[0-9:.]{15}Z$\")))" out | wc -l)" "envelopes" &&
	expect_eq "{\"a\":1} {\"X-Id\":[\"7\",\"8\"]}" "$(jq -c "select(.subject == \"$s.j\") | .data, .headers" out | paste -sd " ")" &&
	expect_eq "\"plain text\" null" "$(jq -c "select(.subject == \"$s.t\") | .data, .headers" out | paste -sd " ")" &&
	expect_eq "\"AP8=\"" "$(jq -c "select(.subject == \"$s.b\") | .data" out)"
'

test_expect_success "core: $N messages arrive whole and in order; SIGTERM exits 0 with --stats" '
	need_nats_here
	s=$(uniq_name many) &&
	"$ETL_TOP/build/gen-orders" $N >orders &&
	subscribe out --stats "$U" "$s" &&
	publines "$s" <orders &&
	while [ $(wc -l <out) -lt $N ]; do sleep 0.2; done &&
	stop_sub $SUB &&
	jq -c . orders | cmp - out &&
	expect_grep "\"messages\":$N,.*\"dropped\":0" out.err
'

# A burst bigger than a few output buffers and delivery batches, arriving
# while stdout is not read (a pipe held for 3 s): the library queues it, and
# every message is written, in order, or counted as dropped in --stats.
NB=200000
[ -n "${ETL_SANITIZE:-}" ] && NB=40000

test_expect_success "core: a burst of $NB messages while stdout is slow: all written in order, none dropped" '
	need_nats_here
	s=$(uniq_name burst)
	"$ETL_TOP/build/gen-orders" $NB >orders && mkfifo slow || exit 1
	{ sleep 3; cat; } <slow >out &
	etl-extract-nats -v --stats "$U" "$s" >slow 2>out.err &
	SUB=$!
	wait_for subscribed out.err &&
	publines "$s" <orders &&
	while [ $(wc -l <out) -lt $NB ]; do sleep 0.2; done &&
	stop_sub $SUB && wait &&
	jq -c . orders | cmp - out &&
	expect_grep "\"messages\":$NB,.*\"dropped\":0" out.err
'

# Past the subscription's pending limit (256 MB) the library drops: 300
# messages of 1 MB, all published while nothing reads stdout, are more than
# it keeps.  Each is written or counted as dropped, in the warning and in
# --stats.  Not under the sanitizers: 300 MB held is too much for them.
test_expect_success 'core: past the pending limit, every message is written or counted as dropped' '
	need_nats_here
	[ -n "${ETL_SANITIZE:-}" ] && { echo "skipped under the sanitizers"; exit 0; }
	s=$(uniq_name drop)
	big=$(head -c 999000 /dev/zero | tr "\0" a)
	for i in $(seq 1 300); do printf "{\"n\":%d,\"x\":\"%s\"}\n" $i "$big"; done >big &&
	mkfifo held && exec 3<>held || exit 1  # held open, never read
	etl-extract-nats -v --stats "$U" "$s" >held 2>out.err 3>&- &
	SUB=$!
	wait_for subscribed out.err &&
	publines "$s" <big && sleep 1 || exit 1
	grep --line-buffered -o "^{\"[a-z]*\":[0-9]*" <held >out 3>&- &
	exec 3>&-
	wait_for "messages dropped" out.err &&
	printf "{\"end\":1}" | pub "$s" &&
	wait_for "end" out &&
	stop_sub $SUB && wait &&
	written=$(grep -c "^{\"n\":" out) &&
	dropped=$(sed -n "s/.*\"dropped\":\([0-9]*\).*/\1/p" out.err) &&
	expect_eq 300 $((written + dropped)) "written + dropped" &&
	expect_eq 1 $((dropped > 0)) "some dropped ($dropped)" &&
	expect_grep "\"messages\":$((written + 1))," out.err
'

# js_stream NAME SUBJECT : a stream for the test (file storage).
js_stream() {
	req "\$JS.API.STREAM.CREATE.$1" "{\"name\":\"$1\",\"subjects\":[\"$2\"],\"storage\":\"file\"}" |
		grep -q "\"created\"" || { echo "cannot create stream $1"; return 1; }
}
js_count() { req "\$JS.API.STREAM.INFO.$1" | jq .state.messages; }
js_consumer() { req "\$JS.API.CONSUMER.INFO.$1.$2"; }

test_expect_success "JetStream: a durable consumer is created, drains $N messages with -e, and a restart continues" '
	need_nats_here
	st=$(uniq_name S) s=$(uniq_name js) &&
	js_stream "$st" "$s.>" &&
	"$ETL_TOP/build/gen-orders" $N >orders &&
	head -n $((N / 2)) orders | publines "$s.a" &&
	etl-extract-nats -e --stats --stream "$st" --durable d "$U" "$s.>" >out1 2>err1 &&
	expect_lines $((N / 2)) out1 &&
	expect_grep "\"acked\":$((N / 2))," err1 &&
	tail -n +$((N / 2 + 1)) orders | publines "$s.b" &&
	etl-extract-nats -e --stream "$st" --durable d "$U" "$s.>" >out2 &&
	cat out1 out2 | cmp - orders &&
	expect_eq "0 0" "$(js_consumer "$st" d | jq -r "\"\(.num_pending) \(.num_ack_pending)\"")" "pending, unacknowledged" &&
	etl-extract-nats -e --stream "$st" --durable d "$U" "$s.>" >out3 &&
	expect_lines 0 out3
'

test_expect_success "JetStream: $NB messages read while stdout is slow: none lost, each acknowledged" '
	need_nats_here
	st=$(uniq_name S) s=$(uniq_name jsburst) &&
	js_stream "$st" "$s" &&
	"$ETL_TOP/build/gen-orders" $NB >orders &&
	publines "$s" <orders &&
	etl-extract-nats -e --stats --stream "$st" --durable d "$U" "$s" 2>err |
		{ sleep 3; cat; } >out &&
	jq -c . orders | cmp - out &&
	expect_grep "\"messages\":$NB,\"acked\":$NB," err
'

test_expect_success 'JetStream: copies with the same durable share the work, none twice' '
	need_nats_here
	st=$(uniq_name S) s=$(uniq_name share) &&
	js_stream "$st" "$s" &&
	seq 1 20000 | sed "s/.*/{\"n\":&}/" | publines "$s" || exit 1
	etl-extract-nats -e --batch 50 --stream "$st" --durable w "$U" "$s" >out1 &
	etl-extract-nats -e --batch 50 --stream "$st" --durable w "$U" "$s" >out2 &
	wait &&
	expect_eq 20000 "$(cat out1 out2 | sort -u | wc -l)" "distinct records" &&
	expect_eq 20000 "$(cat out1 out2 | wc -l)" "records"
'

test_expect_success 'JetStream: a bad body is terminated, never delivered again; --envelope gives stream and seq' '
	need_nats_here
	st=$(uniq_name S) s=$(uniq_name bad) &&
	js_stream "$st" "$s" &&
	printf "{\"a\":1}" | pub "$s" && printf "garbage" | pub "$s" && printf "{\"a\":3}" | pub "$s" &&
	etl-extract-nats -e --stats --reject rej --stream "$st" --durable d "$U" "$s" >out 2>err &&
	expect_output out "{\"a\":1}
{\"a\":3}" &&
	expect_grep "\"where\":\"$st:2\"" rej &&
	expect_grep "\"terminated\":1" err &&
	etl-extract-nats -e --envelope --ack-wait 1s --stream "$st" --durable e "$U" "$s" >env 2>/dev/null;
	expect_eq "$st 1 $st 2 $st 3" "$(jq -r "\"\(.stream) \(.seq)\"" env | paste -sd " ")" &&
	sleep 1.5 &&
	etl-extract-nats -e --stream "$st" --durable d "$U" "$s" >again &&
	expect_lines 0 again
'

test_expect_success 'JetStream: without --reject a bad body is exit 65, and terminated' '
	need_nats_here
	st=$(uniq_name S) s=$(uniq_name bad65) &&
	js_stream "$st" "$s" &&
	printf "[1]" | pub "$s" &&
	expect_status 65 etl-extract-nats -e --stream "$st" --durable d "$U" "$s" >out 2>err &&
	expect_grep "^etl-extract-nats: $st:1: element 1 is not a JSON object$" err &&
	etl-extract-nats -e --stream "$st" --durable d "$U" "$s" >again &&
	expect_lines 0 again
'

test_expect_success 'JetStream: SIGTERM stops fetching, writes and acknowledges what is in hand, exit 0' '
	need_nats_here
	st=$(uniq_name S) s=$(uniq_name term) &&
	js_stream "$st" "$s" &&
	seq 1 50000 | sed "s/.*/{\"n\":&}/" | publines "$s" || exit 1
	{ etl-extract-nats --stream "$st" --durable d "$U" "$s" >out 2>err; echo $? >status; } &
	while [ "$(cat out 2>/dev/null | wc -l)" -lt 1000 ]; do sleep 0.05; done &&
	pkill -TERM -f "durable d $U $s\$" &&
	wait_for . status && expect_eq 0 "$(cat status)" "exit status" &&
	got=$(wc -l <out) &&
	etl-extract-nats -e --stream "$st" --durable d "$U" "$s" >rest &&
	expect_eq 50000 "$(cat out rest | sort -u | wc -l)" "all records, across the two runs" &&
	expect_eq 50000 "$(cat out rest | wc -l)" "none twice"
'

test_expect_success 'usage and configuration errors' '
	expect_status 64 etl-extract-nats nats://127.0.0.1:1 2>err &&
	expect_grep "give a URL and a SUBJECT" err &&
	expect_status 64 etl-extract-nats --stream S nats://127.0.0.1:1 s 2>err &&
	expect_grep "^etl-extract-nats: --stream and --durable go together$" err &&
	expect_status 64 etl-extract-nats --ack-fifo f nats://127.0.0.1:1 s 2>err &&
	expect_grep "needs JetStream" err &&
	expect_status 64 etl-extract-nats --queue q --stream S --durable d nats://127.0.0.1:1 s 2>err &&
	expect_status 64 etl-extract-nats --max-in-flight 0 nats://127.0.0.1:1 s 2>err &&
	expect_status 66 etl-extract-nats --token-file nosuch nats://127.0.0.1:1 s 2>err &&
	expect_status 64 etl-extract-nats a b c 2>err &&
	expect_grep "unexpected argument .c." err
'

test_expect_success 'no server: retried for --retry-for, then exit 69; credentials never printed' '
	port=$(free_port) &&
	expect_status 69 etl-extract-nats --retry-for 1s "nats://bob:secret@127.0.0.1:$port" s 2>err &&
	expect_grep "^etl-extract-nats: nats://127.0.0.1:$port: .*retrying in" err &&
	expect_no_grep secret err
'

test_expect_success 'JetStream: a missing stream is exit 69 with its name' '
	need_nats_here
	expect_status 69 etl-extract-nats --stream nosuch$$ --durable d "$U" x.y 2>err &&
	expect_grep "^etl-extract-nats: nosuch$$: cannot consume x.y as d: " err
'

test_expect_success '--token-file logs in; a wrong token is exit 78' '
	command -v nats-server >/dev/null || { echo "no nats-server"; exit 77; }
	port=$(free_port) || exit 1
	nats-server -a 127.0.0.1 -p $port --auth s3cret >/dev/null 2>&1 &
	wait_port $port || exit 1
	echo s3cret >token && echo wrong >bad
	etl-extract-nats -v --token-file token "nats://127.0.0.1:$port" t >out 2>err &
	wait_for subscribed err &&
	expect_status 78 etl-extract-nats --token-file bad "nats://127.0.0.1:$port" t 2>err2 &&
	expect_grep "uthorization" err2
'
