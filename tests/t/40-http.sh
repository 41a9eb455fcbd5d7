#!/usr/bin/env bash
# etl-extract-http over real sockets: every content type and answer,
# chunked bodies, keep-alive, 100-continue, gzip and deflate, a gzip bomb,
# limits, tokens, GitHub's HMAC example, envelopes, TLS, socket activation,
# SIGTERM under load, a closed stdout, and the whole pipeline into SQLite
# and PostgreSQL.
. "$(dirname "$0")/../lib.sh"
X=${ETL_TRANSFORMS:-$ETL_TOP/build/obj}/examples

# start_server, stop_server: etl-extract-http on a free port ($PORT, $SERVER)
. "$ETL_TOP/tests/http-server.sh"
# post BODY [CURL OPTION]... : prints "STATUS BODY"
post() {
	local body=$1; shift
	curl -s -o resp -w "%{http_code}" --data-binary "$body" "$@" "http://127.0.0.1:$PORT${SERVER_PATH:-/}" &&
	printf " %s\n" "$(cat resp)"
}
json=(-H "Content-Type: application/json")

test_expect_success 'JSON object, array, NDJSON, form, JSON labelled as a form, GET query' '
	start_server &&
	expect_eq "202 {\"accepted\":1}" "$(post "{\"a\":1}" "${json[@]}")" &&
	expect_eq "202 {\"accepted\":2}" "$(post "[{\"a\":2},{\"a\":3}]" "${json[@]}")" &&
	expect_eq "202 {\"accepted\":1}" "$(post "$(printf "{\n  \"pretty\": true\n}")" "${json[@]}")" &&
	expect_eq "202 {\"accepted\":2}" "$(post "$(printf "{\"n\":1}\n\n{\"n\":2}")" -H "Content-Type: application/x-ndjson")" &&
	expect_eq "202 {\"accepted\":2}" "$(post "$(printf "{\"u\":1}\n{\"u\":2}")" "${json[@]}")" &&
	expect_eq "202 {\"accepted\":1}" "$(post "name=J+Doe&tag=a&tag=b%21&empty=" )" &&
	expect_eq "202 {\"accepted\":1}" "$(post "{\"curl\":\"-d\"}")" &&
	expect_eq "202" "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$PORT/?q=1&q=2&r=x%20y")" &&
	stop_server &&
	printf "%s\n" "{\"a\":1}" "{\"a\":2}" "{\"a\":3}" "{\"pretty\":true}" "{\"n\":1}" "{\"n\":2}" "{\"u\":1}" "{\"u\":2}" \
		"{\"name\":\"J Doe\",\"tag\":[\"a\",\"b!\"],\"empty\":\"\"}" "{\"curl\":\"-d\"}" "{\"q\":[\"1\",\"2\"],\"r\":\"x y\"}" >want &&
	expect_file_eq want out
'

test_expect_success 'bad requests get 400 with the reason and position, and nothing is written' '
	start_server &&
	expect_eq "400 {\"error\":\"invalid JSON: string or '"'"'}'"'"' expected near '"'"'bad'"'"' at line 1, column 4\"}" "$(post "{bad" "${json[@]}")" &&
	expect_eq "400 {\"error\":\"element 2 is not a JSON object\"}" "$(post "[{\"a\":1},2]" "${json[@]}")" &&
	expect_eq "400 {\"error\":\"line 2: invalid JSON: '"'"':'"'"' expected near end of file at column 4\"}" "$(post "$(printf "{\"a\":1}\n{\"b\"")" -H "Content-Type: application/x-ndjson")" &&
	expect_eq "400 {\"error\":\"element 1: objects whose only key is \\\"\$etl\\\" are reserved\"}" "$(post "{\"\$etl\":{\"checkpoint\":1}}" "${json[@]}")" &&
	stop_server && expect_lines 0 out
'

test_expect_success '404 for other paths, 405 with Allow, 415, healthz' '
	SERVER_PATH=/events && start_server &&
	expect_eq "202 {\"accepted\":1}" "$(post "{\"a\":1}" "${json[@]}")" &&
	expect_eq 404 "$(curl -s -o /dev/null -w "%{http_code}" -d "{}" "http://127.0.0.1:$PORT/other")" &&
	curl -s -D headers -o /dev/null -X DELETE "http://127.0.0.1:$PORT/events" &&
	expect_grep "^HTTP/1.1 405" headers && expect_grep "^Allow: GET, POST, PUT" headers &&
	expect_eq 415 "$(curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: text/csv" -d "a,b" "http://127.0.0.1:$PORT/events")" &&
	expect_eq "200 {\"status\":\"ok\"}" "$(curl -s -w "%{http_code} " -o resp "http://127.0.0.1:$PORT/healthz"; cat resp)" &&
	stop_server
'

test_expect_success '411 for a body with neither length nor chunks' '
	start_server &&
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" &&
	printf "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n" >&3 &&
	head -n 1 <&3 >status_line; exec 3>&-
	expect_grep "^HTTP/1.1 411" status_line && stop_server
'

test_expect_success 'chunked bodies, keep-alive, 100-continue' '
	start_server &&
	expect_eq "202 {\"accepted\":1}" "$(post "{\"chunked\":1}" "${json[@]}" -H "Transfer-Encoding: chunked")" &&
	args=() && for i in $(seq 1 50); do args+=(--data-binary "{\"k\":$i}" "${json[@]}" "http://127.0.0.1:$PORT/" --next); done &&
	curl -s -o /dev/null -w "%{num_connects}\n" "${args[@]}" --data-binary "{\"k\":51}" "${json[@]}" "http://127.0.0.1:$PORT/" >connects &&
	expect_eq 1 "$(awk "{ s += \$1 } END { print s }" connects)" "connections for 51 requests" &&
	head -c 2000000 /dev/zero | tr "\0" " " >big && printf "{\"big\":1}" >>big &&
	curl -s -v -o resp -H "Expect: 100-continue" "${json[@]}" --data-binary @big "http://127.0.0.1:$PORT/" 2>trace &&
	expect_grep "HTTP/1.1 100 Continue" trace && expect_eq "{\"accepted\":1}" "$(cat resp)" &&
	stop_server && expect_lines 53 out
'

test_expect_success 'gzip and deflate bodies are decoded; a gzip bomb gets 413 in bounded memory' '
	start_server --max-body 1M &&
	printf "{\"gz\":1}" | gzip >body.gz &&
	expect_eq "202 {\"accepted\":1}" "$(curl -s -o resp -w "%{http_code}" "${json[@]}" -H "Content-Encoding: gzip" --data-binary @body.gz "http://127.0.0.1:$PORT/"; printf " %s" "$(cat resp)")" &&
	printf "{\"deflate\":1}" | python3 -c "import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))" >body.z &&
	expect_eq 202 "$(curl -s -o /dev/null -w "%{http_code}" "${json[@]}" -H "Content-Encoding: deflate" --data-binary @body.z "http://127.0.0.1:$PORT/")" &&
	head -c 1000000000 /dev/zero | gzip -1 >bomb.gz &&
	expect_eq 413 "$(curl -s -o /dev/null -w "%{http_code}" "${json[@]}" -H "Content-Encoding: gzip" --data-binary @bomb.gz "http://127.0.0.1:$PORT/")" &&
	rss=$(hwm_kib $SERVER) &&
	test "$rss" -lt 64000 || { echo "peak RSS $rss KB after the bomb"; exit 1; }
	expect_eq 400 "$(head -c 15 body.gz | curl -s -o /dev/null -w "%{http_code}" "${json[@]}" -H "Content-Encoding: gzip" --data-binary @- "http://127.0.0.1:$PORT/")" &&
	stop_server && expect_lines 2 out
'

test_expect_success 'a 10 MB body over a 1 MB limit gets 413' '
	start_server --max-body 1M &&
	head -c 10000000 /dev/zero | tr "\0" " " >big &&
	expect_eq 413 "$(curl -s -o /dev/null -w "%{http_code}" "${json[@]}" --data-binary @big "http://127.0.0.1:$PORT/")" &&
	expect_eq 413 "$(curl -s -o /dev/null -w "%{http_code}" "${json[@]}" -H "Transfer-Encoding: chunked" --data-binary @big "http://127.0.0.1:$PORT/")" &&
	stop_server && expect_lines 0 out
'

test_expect_success 'a slow client is cut off after the idle timeout' '
	start_server --idle-timeout 1s &&
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" &&
	printf "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":" >&3 &&
	start=$SECONDS && cat <&3 >/dev/null; exec 3>&-
	elapsed=$((SECONDS - start))
	test $elapsed -le 5 || { echo "still open after $elapsed s"; exit 1; }
	stop_server && expect_lines 0 out
'

test_expect_success 'a bearer token from a file: missing or wrong is 401' '
	printf "s3cret-token\n" >token &&
	start_server --token-file token &&
	expect_eq 401 "$(curl -s -o /dev/null -w "%{http_code}" "${json[@]}" -d "{}" "http://127.0.0.1:$PORT/")" &&
	expect_eq 401 "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer s3cret-tokeN" "${json[@]}" -d "{}" "http://127.0.0.1:$PORT/")" &&
	expect_eq 202 "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer s3cret-token" "${json[@]}" -d "{\"ok\":1}" "http://127.0.0.1:$PORT/")" &&
	stop_server && expect_output out "{\"ok\":1}" && expect_no_grep s3cret err
'

test_expect_success 'GitHub'"'"'s published HMAC example is accepted; a one-byte change is refused' '
	printf "It'"'"'s a Secret to Everybody" >secret &&
	start_server --envelope --hmac-secret-file secret &&
	sig="sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" &&
	expect_eq 202 "$(curl -s -o /dev/null -w "%{http_code}" -H "X-Hub-Signature-256: $sig" -H "Content-Type: text/plain" --data-binary "Hello, World!" "http://127.0.0.1:$PORT/")" &&
	expect_eq 401 "$(curl -s -o /dev/null -w "%{http_code}" -H "X-Hub-Signature-256: $sig" -H "Content-Type: text/plain" --data-binary "Hello, World?" "http://127.0.0.1:$PORT/")" &&
	expect_eq 401 "$(curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: text/plain" --data-binary "Hello, World!" "http://127.0.0.1:$PORT/")" &&
	stop_server && expect_lines 1 out && jq -e ".body == \"Hello, World!\"" out
'

test_expect_success '--envelope wraps method, path, query, headers, remote, time and body' '
	SERVER_PATH=/hook && start_server --envelope &&
	curl -s -o /dev/null -H "X-Event: push" "${json[@]}" -d "{\"a\":1}" "http://127.0.0.1:$PORT/hook?x=1" &&
	printf "\xff\xfe" | curl -s -o /dev/null -H "Content-Type: application/octet-stream" --data-binary @- "http://127.0.0.1:$PORT/hook" &&
	curl -s -o /dev/null -H "Content-Type: text/plain" -d "plain words" "http://127.0.0.1:$PORT/hook" &&
	stop_server && expect_lines 3 out &&
	sed -n 1p out | jq -e ".method == \"POST\" and .path == \"/hook\" and .query == {\"x\":\"1\"} and .headers[\"X-Event\"] == \"push\" and .remote == \"127.0.0.1\" and (.received_at | test(\"^20[0-9-]+T[0-9:.]+Z$\")) and .body == {\"a\":1}" &&
	sed -n 2p out | jq -e ".body == \"//4=\"" &&
	sed -n 3p out | jq -e ".body == \"plain words\""
'

test_expect_success '--envelope: a body that is not UTF-8 is its base64, 1 MB and 64 KiB + 1 alike' '
	start_server --envelope --max-body 2M &&
	head -c 1048577 /dev/urandom >big && head -c 65537 /dev/urandom >edge &&
	for f in big edge; do
		curl -s -o /dev/null -H "Content-Type: application/octet-stream" --data-binary @$f "http://127.0.0.1:$PORT/" || exit 1
	done &&
	stop_server && expect_lines 2 out &&
	sed -n 1p out | jq -r .body | base64 -d >big.back && expect_file_eq big big.back &&
	sed -n 2p out | jq -r .body | tr -d "\n" >edge.text && base64 -w 0 <edge >edge.want &&
	expect_file_eq edge.want edge.text
'

test_expect_success 'IPv6 loopback and systemd socket activation' '
	PORT=$(free_port) || exit 1
	etl-extract-http "[::1]:$PORT" >out 2>err &
	SERVER=$!
	for _ in $(seq 1 100); do curl -s -o /dev/null "http://[::1]:$PORT/healthz" && break; sleep 0.05; done &&
	expect_eq 202 "$(curl -s -o /dev/null -w "%{http_code}" "${json[@]}" -d "{\"v6\":1}" "http://[::1]:$PORT/")" &&
	stop_server && expect_output out "{\"v6\":1}" &&
	PORT=$(free_port) || exit 1
	python3 -c "
import os, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"127.0.0.1\", int(sys.argv[1]))); s.listen(16)
os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
os.environ[\"LISTEN_FDS\"] = \"1\"; os.environ[\"LISTEN_PID\"] = str(os.getpid())
os.execvp(\"etl-extract-http\", [\"etl-extract-http\"])" "$PORT" >out 2>err &
	SERVER=$!
	wait_port "$PORT" &&
	expect_eq 202 "$(curl -s -o /dev/null -w "%{http_code}" "${json[@]}" -d "{\"activated\":1}" "http://127.0.0.1:$PORT/")" &&
	stop_server && expect_output out "{\"activated\":1}"
'

test_expect_success 'TLS with --tls-cert and --tls-key' '
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost 2>/dev/null &&
	start_server --tls-cert cert.pem --tls-key key.pem &&
	expect_eq 202 "$(curl -s --cacert cert.pem -o /dev/null -w "%{http_code}" "${json[@]}" -d "{\"tls\":1}" "https://localhost:$PORT/")" &&
	stop_server && expect_output out "{\"tls\":1}"
'

test_expect_success 'SIGTERM during a load: every request answered 202 is in the output' '
	start_server &&
	for c in 1 2 3 4; do
		# each sender stops at its first refused connection (000)
		( for i in $(seq 1 400); do
			code=$(curl -s -o /dev/null -w "%{http_code}" "${json[@]}" -d "{\"c\":$c,\"i\":$i}" "http://127.0.0.1:$PORT/")
			echo "$code {\"c\":$c,\"i\":$i}"
			[ "$code" != 000 ] || break
		  done >codes.$c ) &
	done
	sleep 1.5; stop_server; status=$?; wait
	expect_eq 0 $status "exit status after SIGTERM" &&
	cat codes.* | sed -n "s/^202 //p" | sort >answered &&
	test -s answered &&
	sort out >written &&
	expect_eq "" "$(comm -23 answered written | head -n 3)" "records answered 202 but not written" &&
	expect_eq "$(wc -l <written)" "$(sort -u written | wc -l)" "distinct records"
'

test_expect_success 'a slow reader: every line whole, each request'"'"'s records together and in order' '
	PORT=$(free_port) || exit 1
	# A reader taking 8K every 5 ms keeps the pipe nearly full: writes stop
	# part-way, and the rest must follow before anything newer.
	# (--max-backlog 0: the reader is slow on purpose; its pace is not the point.)
	{ etl-extract-http --max-backlog 0 "127.0.0.1:$PORT" 2>err | python3 -c "
import os, sys, time
while True:
    b = os.read(0, 8192)
    if not b:
        break
    sys.stdout.buffer.write(b)
    time.sleep(0.005)
" >out; } &
	wait_port "$PORT" || exit 1
	for c in 1 2 3 4; do
		( for i in $(seq 1 20); do
			awk -v r="$c-$i" "BEGIN { for (s = 1; s <= 100; s++) printf \"{\\\"r\\\":\\\"%s\\\",\\\"s\\\":%d,\\\"pad\\\":\\\"%0400d\\\"}\\n\", r, s, 0 }" |
				curl -s -o /dev/null -w "%{http_code}\n" -H "Content-Type: application/x-ndjson" --data-binary @- "http://127.0.0.1:$PORT/"
		done >codes.$c ) &
	done
	for _ in $(seq 1 600); do
		[ "$(cat codes.* 2>/dev/null | wc -l)" -ge 80 ] && break
		sleep 0.1
	done
	pkill -TERM -x -f "etl-extract-http --max-backlog 0 127.0.0.1:$PORT"; wait
	expect_eq "80" "$(cat codes.* | grep -c "^202$")" "requests answered 202" &&
	expect_eq 8000 "$(jq -c "[.r, .s]" out | wc -l)" "whole records written" &&
	# A request is one run of lines, s going 1..100.
	jq -r "[.r, .s] | @tsv" out | awk "
		\$1 != r { if (r != \"\" && s != 100) bad++; if (\$1 in seen) bad++; seen[\$1]; r = \$1; s = 0 }
		{ if (\$2 != s + 1) bad++; s = \$2 }
		END { if (s != 100) bad++; print bad + 0 }" >bad &&
	expect_output bad 0
'

test_expect_success 'stdout closed: 503 and a clear exit 74' '
	PORT=$(free_port) || exit 1
	{ etl-extract-http "127.0.0.1:$PORT" 2>err; echo $? >status; } | head -c 1 >/dev/null &
	wait_port "$PORT" || exit 1
	for i in $(seq 1 20); do curl -s -o /dev/null -w "%{http_code}\n" "${json[@]}" -d "{\"n\":$i,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}" "http://127.0.0.1:$PORT/"; sleep 0.05; done >codes;
	wait
	expect_grep "^503$" codes &&
	expect_eq 74 "$(cat status)" "exit status" &&
	expect_grep "^etl-extract-http: stdout: the next stage stopped reading: [0-9]* records answered 202 were not handed on$" err &&
	# Those written before head closed the pipe were handed on.
	lost=$(sed -n "s/.*reading: \([0-9]*\) records.*/\1/p" err) &&
	expect_eq 1 $((lost <= $(grep -c "^202$" codes))) "records not handed on ($lost) within those answered 202"
'

test_expect_success '--stats counts requests by status' '
	start_server --stats &&
	post "{}" "${json[@]}" >/dev/null && post "x" "${json[@]}" >/dev/null &&
	stop_server &&
	jq -e ".requests == 2 and .status[\"202\"] == 1 and .status[\"400\"] == 1 and .records_out == 1" err
'

test_expect_success 'usage errors are exit 64' '
	expect_status 64 etl-extract-http 2>err && expect_grep "no address" err &&
	expect_status 64 etl-extract-http 127.0.0.1:99999 2>err && expect_grep "bad port" err
'

test_expect_success 'the pipeline: curl posts through order.so into SQLite' '
	start_server >/dev/null; kill -TERM $SERVER; wait $SERVER
	PORT=$(free_port)
	{ etl-extract-http "127.0.0.1:$PORT" | etl-map "$X/order.so" --reject rej | etl-load-sql --create -T 100ms -t orders "sqlite:$T/shop.db"; } 2>err &
	wait_port "$PORT" &&
	while read -r line; do curl -s -o /dev/null -d "$line" "http://127.0.0.1:$PORT/"; done <"$ETL_TOP/examples/order.input.ndjson" &&
	sleep 0.5 && pkill -TERM -f "etl-extract-http 127.0.0.1:$PORT"; wait
	expect_eq "1 3795.4|2 4237.67|5 11.3" "$(sqlite3 -separator " " "$T/shop.db" "SELECT order_id, total FROM orders ORDER BY 1" | tr "\n" "|" | sed "s/|$//")" &&
	expect_lines 3 rej
'

test_expect_success 'the pipeline into PostgreSQL' '
	need_pg
	$ETL_TEST_PSQL -c "DROP TABLE IF EXISTS web_orders" 2>/dev/null
	PORT=$(free_port)
	{ etl-extract-http "127.0.0.1:$PORT" | etl-map "$X/order.so" | etl-load-sql --create -T 100ms -t web_orders "$ETL_TEST_PGURL"; } 2>err &
	wait_port "$PORT" &&
	curl -s -o /dev/null -d @"$ETL_TOP/examples/order.input.ndjson" -H "Content-Type: application/x-ndjson" "http://127.0.0.1:$PORT/" ;
	head -n 2 "$ETL_TOP/examples/order.input.ndjson" | curl -s -o /dev/null --data-binary @- -H "Content-Type: application/x-ndjson" "http://127.0.0.1:$PORT/" &&
	sleep 0.5 && pkill -TERM -f "etl-extract-http 127.0.0.1:$PORT"; wait
	expect_eq "1|2" "$($ETL_TEST_PSQL -tA -c "SELECT order_id FROM web_orders ORDER BY 1" | tr "\n" "|" | sed "s/|$//")"
'
