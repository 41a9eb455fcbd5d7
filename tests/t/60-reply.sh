#!/usr/bin/env bash
# Transform as a service: etl-extract-http --reply-fifo answers each
# request with what the pipeline made of it.  Each request's records are
# followed by a checkpoint of their own; the last stage writes to the FIFO;
# what comes back before a checkpoint answers the request it names.
. "$(dirname "$0")/../lib.sh"
X=${ETL_TRANSFORMS:-$ETL_TOP/build/obj}/examples

# start_reply DOWNSTREAM [OPTION]... : etl-extract-http --reply-fifo replies
# on a free port, piped into the shell command DOWNSTREAM whose stdout is
# the FIFO.  Sets $PORT and $SERVER; its stderr is err, its exit status
# goes to server.rc.
start_reply() {
	local downstream=$1
	shift
	[ -p replies ] || mkfifo replies || return 1
	PORT=$(free_port) || return 1
	{
		sh -c 'echo $$ >server.pid; exec "$@"' sh \
			etl-extract-http --reply-fifo replies "$@" "127.0.0.1:$PORT" 2>err
		echo $? >server.rc
	} | eval "$downstream" >replies &
	wait_port "$PORT" || { cat err; return 1; }
	SERVER=$(cat server.pid)
	[ -n "$SERVER" ] || { echo "no server pid"; return 1; }
}
# post BODY [CURL OPTION]... : prints "STATUS BODY" (each call its own
# file for the body: some run in the background, at the same time)
post() {
	local body=$1 out
	shift
	out=$(mktemp resp.XXXXXX) &&
	curl -s -o "$out" -w "%{http_code}" -H "Content-Type: application/json" \
		--data-binary "$body" "$@" "http://127.0.0.1:$PORT/" &&
	printf " %s\n" "$(cat "$out")"
}
order() {  # ID [PRODUCT] : an order as etl-map order.so takes it
	printf '{"order_id":%s,"product_id":%s,"quantity":1,"amount":9.5,"shipping":1,"tax":0.5,"shipping_address":"1 Main St"}' \
		"$1" "${2:-3}"
}

test_expect_success 'the answer is the output: a JSON array, NDJSON on request, [] for nothing' '
	start_reply "etl-map -j 4 $X/redact.so secret" &&
	expect_eq "200 [{\"a\":1}]" "$(post "{\"a\":1,\"secret\":2}")" &&
	expect_eq "200 [{\"a\":1},{\"a\":2}]" "$(post "[{\"a\":1,\"secret\":2},{\"a\":2}]")" &&
	curl -s -D headers -o resp -H "Accept: application/x-ndjson" -H "Content-Type: application/json" \
		--data-binary "[{\"a\":1,\"secret\":2},{\"a\":2}]" "http://127.0.0.1:$PORT/" &&
	printf "{\"a\":1}\n{\"a\":2}\n" >want && expect_file_eq want resp &&
	expect_grep "^Content-Type: application/x-ndjson" headers &&
	expect_eq "200 []" "$(post "[]")" &&
	expect_eq "200 " "$(post "[]" -H "Accept: application/x-ndjson")" &&
	kill -TERM $SERVER && wait &&
	expect_eq 0 "$(cat server.rc)" "exit status"
'

test_expect_success 'concurrent requests each get their own records: -j 3 and etl-batch in between' '
	start_reply "etl-batch -n 4 | etl-map -j 3 $X/order.so | etl-batch -n 2" &&
	pids= &&
	for c in 1 2 3 4 5 6; do
		(
			for i in $(seq 1 15); do
				id=$((c * 1000 + i * 10))
				body="[$(order $id),$(order $((id + 1))),$(order $((id + 2)))]"
				code=$(curl -s -o "r.$c.$i" -w "%{http_code}" -m 30 -H "Content-Type: application/json" \
					--data-binary "$body" "http://127.0.0.1:$PORT/")
				got=$(jq -c "[.[].order_id]" "r.$c.$i")
				[ "$code $got" = "200 [$id,$((id + 1)),$((id + 2))]" ] || echo "$c.$i: $code $got" >>wrong
			done
		) &
		pids="$pids $!"
	done &&
	for p in $pids; do wait $p; done &&
	expect_eq "" "$(cat wrong 2>/dev/null)" "answers that are not their own records" &&
	expect_eq 90 "$(ls r.* | wc -l)" "answers" &&
	expect_eq 1 "$(jq ".[0] | has(\"total\")" r.3.7 | grep -c true)" "the transform ran"
'

test_expect_success 'a rejected record: 422 with the reason, the next request is not affected (-j 2, in a batch too)' '
	start_reply "etl-map -j 2 --reject - $X/order.so" &&
	post "[$(order 1),$(order 2 \"x\")]" >a &&
	expect_grep "^422 " a &&
	expect_eq "product_id: not an integer" "$(cut -d" " -f2- a | jq -r .error)" &&
	expect_eq "[1]" "$(cut -d" " -f2- a | jq -c "[.records[].order_id]")" "the records it did make" &&
	expect_eq "[2]" "$(cut -d" " -f2- a | jq -c "[.rejects[].record.order_id]")" "the rejected record" &&
	post "[$(order 3)]" >b && expect_grep "^200 \\[\\{\"order_id\":3," b &&
	kill -TERM $SERVER && wait &&
	start_reply "etl-batch -n 10 | etl-map -j 2 --reject - $X/order.so" &&
	post "[$(order 4 \"y\")]" >c &&
	expect_eq "422 [4]" "$(head -c 3 c) $(cut -d" " -f2- c | jq -c "[.rejects[].record.order_id]")" &&
	post "[$(order 5),$(order 6 \"z\"),$(order 7)]" >d &&
	expect_eq "422 [5,7] [6]" "$(head -c 3 d) $(cut -d" " -f2- d | jq -c "[.records[].order_id]") $(cut -d" " -f2- d | jq -c "[.rejects[].record.order_id]")" &&
	post "[$(order 8)]" >e && expect_grep "^200 \\[\\{\"order_id\":8," e &&
	kill -TERM $SERVER && wait &&
	start_reply "etl-map -j 3 --reject - $X/order.so | etl-batch -n 3" &&
	post "[$(order 9),$(order 10 \"w\"),$(order 11),$(order 12)]" >f &&
	expect_eq "422 [9,11,12] [10]" "$(head -c 3 f) $(cut -d" " -f2- f | jq -c "[.records[].order_id]") $(cut -d" " -f2- f | jq -c "[.rejects[].record.order_id]")" "a reject through etl-batch" &&
	post "[$(order 13)]" >g && expect_grep "^200 \\[\\{\"order_id\":13," g
'

test_expect_success 'no reply within --reply-timeout: 504; the late reply goes to nobody else' '
	cat >slow.sh <<-\EOF &&
	while IFS= read -r l; do
		case $l in *slow*) sleep 2 ;; esac
		printf "%s\n" "$l"
	done
	EOF
	start_reply "sh slow.sh" --reply-timeout 500ms &&
	expect_eq "504 {\"error\":\"no reply within --reply-timeout\"}" "$(post "{\"slow\":1}")" &&
	sleep 2.5 &&
	expect_eq "200 [{\"fast\":2}]" "$(post "{\"fast\":2}" -m 10)" &&
	expect_eq "200 [{\"fast\":3}]" "$(post "{\"fast\":3}")"
'

test_expect_success 'a stage that loses a checkpoint: 502 for the requests it mixed up, never their records' '
	echo "!/\"ack\":2,/ { print; fflush() }" >lose.awk &&
	start_reply "awk -f lose.awk" --reply-timeout 20s &&
	expect_eq "200 [{\"n\":1}]" "$(post "{\"n\":1}")" &&
	{ post "{\"n\":2}" >two & } &&
	sleep 0.5 &&
	expect_eq "" "$(cat two)" "waiting: its checkpoint was lost" &&
	post "{\"n\":3}" >three &&
	wait_for "^502 " two && expect_grep "^502 .*lost control lines" three &&
	expect_eq "200 [{\"n\":4}]" "$(post "{\"n\":4}")"
'

test_expect_success 'a stage that dies: 502 for the request in flight, and the server exits 74' '
	echo "/die/ { exit 3 } { print; fflush() }" >die.awk &&
	start_reply "awk -f die.awk" &&
	expect_eq "200 [{\"n\":1}]" "$(post "{\"n\":1}")" &&
	expect_eq "502 {\"error\":\"the pipeline stopped\"}" "$(post "{\"die\":1}")" &&
	wait && expect_eq 74 "$(cat server.rc)" "exit status" &&
	expect_grep "replies: the pipeline.s output ended" err
'

test_expect_success 'big records cross the reader'"'"'s buffers whole (3 MB through cat)' '
	start_reply "cat" &&
	head -c 2300000 /dev/urandom | base64 -w 0 >big &&
	printf "{\"big\":\"%s\"}" "$(cat big)" >body &&
	curl -s -o resp -w "%{http_code}\n" --data-binary @body "http://127.0.0.1:$PORT/" >code &&
	expect_eq 200 "$(cat code)" && printf "[%s]" "$(cat body)" >want && expect_file_eq want resp
'

test_expect_success '--raw-body at realistic sizes: 1 MB and 8 MB, either side of 64 KiB, back byte for byte through cat' '
	start_reply "cat" --raw-body --max-body 16M --reply-field body &&
	for n in 1 2 3 4 5 6 7 65535 65536 65537 1048575 1048576 1048577 8388608; do
		head -c $n /dev/urandom >"random.$n" &&
		curl -s -o "random.$n.back" --data-binary @"random.$n" "http://127.0.0.1:$PORT/" &&
		expect_file_eq "random.$n" "random.$n.back" || exit 1
	done &&
	kill -TERM $SERVER && wait &&
	start_reply "tee records" --raw-body --max-body 16M &&
	head -c 1048577 /dev/urandom >random && curl -s -o /dev/null --data-binary @random "http://127.0.0.1:$PORT/" &&
	head -n 1 records | jq -r .body | base64 -d >decoded && expect_file_eq random decoded &&
	expect_eq base64 "$(head -n 1 records | jq -r .body_encoding)" &&
	head -n 1 records | jq -r .body | tr -d "\n" >text && base64 -w 0 <random >want && expect_file_eq want text
'

test_expect_success 'a foreign filter that passes control lines untouched (jq) works' '
	echo "if has(\"\$etl\") then . else .n += 1 end" >f.jq &&
	start_reply "jq -c --unbuffered -f f.jq" &&
	expect_eq "200 [{\"n\":2}]" "$(post "{\"n\":1}")" &&
	expect_eq "200 [{\"n\":3},{\"n\":4}]" "$(post "[{\"n\":2},{\"n\":3}]")"
'

test_expect_success 'usage: --reply-fifo goes without --ack-fifo; --reject - only where order is kept' '
	mkfifo f &&
	expect_status 64 etl-extract-http --reply-fifo f --ack-fifo f :0 &&
	expect_status 64 etl-batch --reject - </dev/null
'

test_expect_success 'raw bytes in and out: --raw-body through cat and --reply-field body echoes any bytes' '
	start_reply "cat" --raw-body --reply-field body --reply-type application/octet-stream &&
	head -c 200000 /dev/urandom >random && printf "a\\000b\\n\\303\\251" >text && : >empty &&
	for f in random text empty; do
		curl -s -D "$f.h" -o "$f.back" --data-binary @"$f" "http://127.0.0.1:$PORT/" &&
		expect_file_eq "$f" "$f.back" && expect_grep "^Content-Type: application/octet-stream" "$f.h" || exit 1
	done &&
	kill -TERM $SERVER && wait &&
	echo "if has(\"\$etl\") then . else {other: 1} end" >f.jq &&
	start_reply "jq -c --unbuffered -f f.jq" --reply-field body &&
	expect_eq "502 {\"error\":\"a record of the pipeline'"'"'s output has no field body\"}" "$(post "{\"a\":1}")"
'
