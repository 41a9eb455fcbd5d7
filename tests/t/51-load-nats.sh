#!/usr/bin/env bash
# etl-load-nats against a real nats-server: core publishing (records,
# batches, compact JSON, {field} subjects), JetStream with publish
# acknowledgements, --msg-id de-duplication across runs, --create and its
# options, control lines echoed only after acknowledgement, data errors,
# a CSV file's rows, and the usage and connection errors.
. "$(dirname "$0")/../lib.sh"
need_nats_here() { need_nats || exit 1; }
U=${ETL_TEST_NATSURL:-}
req() { python3 "$ETL_TOP/tests/natsclient.py" req "$U" "$@"; }
N=100000
[ -n "${ETL_SANITIZE:-}" ] && N=20000
uniq_name() { echo "$1$$x$RANDOM"; }
js_info() { req "\$JS.API.STREAM.INFO.$1"; }
js_count() { js_info "$1" | jq .state.messages; }
subscribe() {
	local out=$1
	shift
	etl-extract-nats -v "$@" >"$out" 2>"$out.err" &
	SUB=$!
	wait_for "subscribed" "$out.err"
}

test_expect_success 'core: records and batches published as compact JSON; {field} subjects; control lines pass' '
	need_nats_here
	s=$(uniq_name pub) &&
	subscribe out --envelope "$U" "$s.>" &&
	printf "{\"c\":\"uk\", \"n\":1}\n[{\"c\":\"fr\",\"n\":2},{\"c\":7,\"n\":3}]\n{\"\$etl\":{\"ack\":1}}\n" |
		etl-load-nats "$U" "$s.{c}" >ctl &&
	wait_for "\"n\":3" out && kill -TERM $SUB && wait $SUB &&
	expect_output ctl "{\"\$etl\":{\"ack\":1}}" &&
	jq -c "[.subject, .data]" out >got &&
	expect_output got "[\"$s.uk\",{\"c\":\"uk\",\"n\":1}]
[\"$s.fr\",{\"c\":\"fr\",\"n\":2}]
[\"$s.7\",{\"c\":7,\"n\":3}]"
'

test_expect_success 'data errors: no field for the subject, bad JSON, not an object; rejected with their place' '
	need_nats_here
	s=$(uniq_name bad) &&
	printf "{\"c\":\"a\"}\n{\"d\":1}\nnot json\n42\n{\"c\":\"x y\"}\n{\"c\":null}\n" |
		etl-load-nats --reject rej --stats "$U" "$s.{c}" 2>err &&
	expect_lines 5 rej &&
	expect_grep "no field ..c.. .*\"where\":\"stdin:2\"" rej &&
	expect_grep "\"where\":\"stdin:3\"" rej &&
	expect_grep "cannot be part of a subject.*\"where\":\"stdin:5\"" rej &&
	expect_grep "\"records_in\":6,\"records_out\":1,\"rejected\":5" err &&
	expect_status 65 etl-load-nats "$U" "$s.{c}" <<<"{\"d\":1}" 2>err &&
	expect_grep "^etl-load-nats: stdin:1: no field \"c\"" err
'

test_expect_success 'a CSV file: each row published as its record, {field} from its column; bad rows rejected at file:line' '
	need_nats_here
	s=$(uniq_name csv) &&
	subscribe out --envelope "$U" "$s.>" &&
	printf "c,n,note\r\nuk,1,\"a,\"\"b\"\"\nc\"\r\nfr,2,\r\nx y,3,\"\"\r\nde,4,z\"q\r\nit,5,last" >in.csv &&
	etl-load-nats --reject rej "$U" "$s.{c}" in.csv &&
	wait_for "\"n\":\"5\"" out && kill -TERM $SUB && wait $SUB &&
	jq -c "[.subject, .data]" out >got &&
	expect_output got "[\"$s.uk\",{\"c\":\"uk\",\"n\":\"1\",\"note\":\"a,\\\"b\\\"\\nc\"}]
[\"$s.fr\",{\"c\":\"fr\",\"n\":\"2\",\"note\":null}]
[\"$s.it\",{\"c\":\"it\",\"n\":\"5\",\"note\":\"last\"}]" &&
	jq -c "[.where, .record]" rej >got &&
	expect_output got "[\"in.csv:5\",{\"c\":\"x y\",\"n\":\"3\",\"note\":\"\"}]
[\"in.csv:6\",\"de,4,z\\\"q\\r\"]"
'

test_expect_success "JetStream: $N records stored and acknowledged; --msg-id makes a second run store nothing" '
	need_nats_here
	st=$(uniq_name S) s=$(uniq_name js) &&
	"$ETL_TOP/build/gen-orders" $N >orders &&
	etl-load-nats --stats --stream "$st" --create --msg-id order_id "$U" "$s.{customer_id}" <orders 2>err1 &&
	expect_grep "\"records_out\":$N," err1 &&
	expect_eq $N "$(js_count "$st")" "messages in the stream" &&
	etl-load-nats --stream "$st" --msg-id order_id "$U" "$s.{customer_id}" <orders &&
	expect_eq $N "$(js_count "$st")" "messages after a second run" &&
	etl-extract-nats -e --stream "$st" --durable d "$U" "$s.>" | jq -c . | sort >got &&
	jq -c . orders | sort | cmp - got
'

test_expect_success '--create: file storage, work-queue retention, replicas, duplicate window; the subject with * per {field}' '
	need_nats_here
	st=$(uniq_name S) &&
	: | etl-load-nats --stream "$st" --create --retention work-queue --replicas 1 \
		--duplicate-window 30s "$U" "wq$$.{a}.x" &&
	expect_eq "[\"wq$$.*.x\"] file workqueue 1 30000000000" \
		"$(js_info "$st" | jq -r ".config | \"\(.subjects|tojson) \(.storage) \(.retention) \(.num_replicas) \(.duplicate_window)\"")"
'

test_expect_success 'JetStream: a control line comes out only once everything before it is stored' '
	need_nats_here
	st=$(uniq_name S) s=$(uniq_name ctl) &&
	{ "$ETL_TOP/build/gen-orders" 20000; echo "{\"\$etl\":{\"ack\":1}}";
	  "$ETL_TOP/build/gen-orders" 100 | sed "s/\"order_id\":/\"order_id\":9000/"; echo "{\"\$etl\":{\"ack\":2}}"; } >in &&
	etl-load-nats --stream "$st" --create "$U" "$s" <in | while read -r line; do
		echo "$line $(js_count "$st")"; done >seen &&
	expect_lines 2 seen &&
	expect_grep "^\{\"\\\$etl\":\{\"ack\":1\}\} 20(0|1)[0-9][0-9]$" seen &&
	expect_grep "^\{\"\\\$etl\":\{\"ack\":2\}\} 20100$" seen
'

test_expect_success 'JetStream: a missing stream is exit 69 unless --create; a subject outside it is exit 75 after --retry-for' '
	need_nats_here
	expect_status 69 etl-load-nats --stream nosuch$$ "$U" x <<<"{}" 2>err &&
	expect_grep "^etl-load-nats: nosuch$$: no such stream \(create it, or run with --create\)$" err &&
	st=$(uniq_name S) &&
	: | etl-load-nats --stream "$st" --create "$U" "in$$" &&
	expect_status 75 etl-load-nats --stream "$st" --ack-timeout 300ms --retry-for 1s "$U" "out$$" <<<"{}" 2>err &&
	expect_grep "not acknowledged after --retry-for" err
'

test_expect_success 'usage and configuration errors' '
	expect_status 64 etl-load-nats nats://127.0.0.1:1 2>err &&
	expect_grep "give a URL and a SUBJECT" err &&
	expect_status 64 etl-load-nats --msg-id id nats://127.0.0.1:1 s 2>err &&
	expect_grep "^etl-load-nats: --msg-id needs --stream$" err &&
	expect_status 64 etl-load-nats nats://127.0.0.1:1 "a.*" 2>err &&
	expect_status 64 etl-load-nats --retention forever --stream S nats://127.0.0.1:1 s 2>err &&
	expect_status 66 etl-load-nats nats://127.0.0.1:1 s nosuch.ndjson 2>err &&
	port=$(free_port) &&
	expect_status 69 etl-load-nats --retry-for 500ms "nats://u:hidden@127.0.0.1:$port" s <<<"{}" 2>err &&
	expect_no_grep hidden err
'
