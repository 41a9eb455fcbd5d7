#!/usr/bin/env bash
# etl-load-http against real receivers on loopback: etl-extract-http itself
# (HMAC signatures and bearer tokens verified end to end, records, batches,
# NDJSON batches, 50k records at -c 64, an IPv6 address as the host) and a
# scripted receiver (tests/http-receiver.py) answering 503, 429 with
# Retry-After and 400 in a pattern, answering in random order, holding
# answers, never answering, or closing busy or idle keep-alive connections
# and dropping requests (at -c 64 the requests are spread over two event
# loops: ordering and the first bad record must hold across them);
# connection refused; TLS verification; local bad input; SIGTERM; the
# password in the URL.
. "$(dirname "$0")/../lib.sh"
RECEIVER_PY=$ETL_TOP/tests/http-receiver.py
# Large runs are smaller under the sanitizers, which are slower.
big=50000
[ -n "${ETL_SANITIZE:-}" ] && big=10000

# start_server, stop_server: etl-extract-http on a free port ($PORT, $SERVER)
. "$ETL_TOP/tests/http-server.sh"

# start_receiver MODE : tests/http-receiver.py; the records it accepted in
# $T/got; sets $RPORT and $RECEIVER.
start_receiver() {
	python3 "$RECEIVER_PY" "$1" port got 2>receiver.err &
	RECEIVER=$!
	for _ in $(seq 1 200); do
		[ -s port ] && break
		sleep 0.05
	done
	RPORT=$(cat port) || { cat receiver.err; return 1; }
}

# records FROM TO [EVERY] : {"id":N} lines, with {"$etl":{"upto":N}} after
# every EVERYth record
records() {
	awk -v from="$1" -v to="$2" -v every="${3:-0}" 'BEGIN {
		for (i = from; i <= to; i++) {
			printf "{\"id\":%d}\n", i
			if (every && i % every == 0) printf "{\"$etl\":{\"upto\":%d}}\n", i
		} }'
}
# ids FILE : the ids of the records in FILE, sorted numerically
ids() { grep -oE '"id":[0-9]+' "$1" | cut -d: -f2 | sort -n; }

test_expect_success 'into etl-extract-http with an HMAC signature and a bearer token, records and batches' '
	printf "s3cret\n" >secret && printf "t0ken\n" >token &&
	start_server --hmac-secret-file secret --token-file token &&
	{ records 1 3; echo "[{\"id\":4},{\"\$etl\":{\"mid\":1}},{\"id\":5}]"; echo "{\"\$etl\":{\"end\":1}}"; } >in &&
	etl-load-http --hmac-secret-file secret --token-file token "http://127.0.0.1:$PORT/" in >acks 2>load.err &&
	echo "[{\"id\":6},{\"id\":7}]" | etl-load-http --ndjson --hmac-secret-file secret --token-file token \
		"http://127.0.0.1:$PORT/" >>acks 2>>load.err &&
	stop_server &&
	expect_eq "$(seq 1 7)" "$(ids out)" "ids received" &&
	printf "%s\n" "{\"\$etl\":{\"mid\":1}}" "{\"\$etl\":{\"end\":1}}" >want && expect_file_eq want acks &&
	expect_lines 0 load.err
'

test_expect_success 'a wrong secret or token: each refused record is rejected with its status' '
	printf "s3cret\n" >secret && printf "wrong\n" >wrong && printf "t0ken\n" >token &&
	start_server --hmac-secret-file secret --token-file token &&
	{ records 1 2; echo "[{\"id\":3},{\"\$etl\":{\"x\":1}},{\"id\":4}]"; } >in &&
	etl-load-http --hmac-secret-file wrong --token-file token --reject rej --stats \
		"http://127.0.0.1:$PORT/" in >acks 2>load.err &&
	expect_lines 4 rej && expect_grep "\"error\":\"HTTP 401: \{\\\\\"error\\\\\":\\\\\"bad signature" rej &&
	expect_grep "\"where\":\"in:2\",\"record\":\{\"id\":2\}" rej &&
	expect_grep "\"where\":\"in:3 \(row 1\)\",\"record\":\{\"id\":3\}" rej &&
	expect_grep "\"where\":\"in:3 \(row 3\)\",\"record\":\{\"id\":4\}" rej &&
	expect_output acks "{\"\$etl\":{\"x\":1}}" &&
	expect_grep "\"records_in\":4,\"records_out\":0,\"rejected\":4" load.err &&
	echo "[{\"id\":5},{\"id\":6}]" | etl-load-http --ndjson --hmac-secret-file wrong --token-file token \
		--reject rej "http://127.0.0.1:$PORT/" &&
	expect_lines 6 rej && expect_grep "\"where\":\"stdin:1 \(row 2\)\",\"record\":\{\"id\":6\}" rej &&
	expect_status 65 etl-load-http --hmac-secret-file secret --token-file wrong "http://127.0.0.1:$PORT/" \
		<<<"{\"id\":1}" 2>load.err &&
	expect_grep "^etl-load-http: stdin:1: HTTP 401: " load.err &&
	stop_server && expect_lines 0 out
'

test_expect_success "$big records at -c 64 into etl-extract-http: each once, control lines in order" '
	start_server &&
	records 1 $big 1000 >in &&
	etl-load-http -c 64 --stats "http://127.0.0.1:$PORT/" in >acks 2>load.err &&
	stop_server &&
	expect_eq "$(seq 1 $big)" "$(ids out)" "ids received" &&
	grep -F "\$etl" in >want && expect_file_eq want acks &&
	expect_grep "\"records_in\":$big,\"records_out\":$big,\"rejected\":0" load.err
'

test_expect_success 'an IPv6 address as the host (http://[::1]:PORT/): 5000 records at -c 16 on reused connections, each once' '
	SERVER_HOST=[::1] start_server &&
	records 1 5000 1000 >in &&
	etl-load-http -c 16 --stats "http://[::1]:$PORT/" in >acks 2>load.err &&
	stop_server &&
	expect_eq "$(seq 1 5000)" "$(ids out)" "ids received" &&
	grep -F "\$etl" in >want && expect_file_eq want acks &&
	expect_grep "\"records_in\":5000,\"records_out\":5000,\"rejected\":0" load.err
'

test_expect_success '503, 429 with Retry-After (seconds and HTTP-date) and 400: good records arrive once, bad ones are rejected' '
	start_receiver pattern &&
	records 1 1000 | awk -F"[:}]" "\$2 % 50 == 25 { sub(/}/, \",\\\"bad\\\":true}\") } { print }" >in &&
	expect_lines 1000 in && expect_grep "\"id\":25,\"bad\":true" in &&
	etl-load-http -v -c 64 --stats --reject rej --retry-for 30s "http://127.0.0.1:$RPORT/" in 2>load.err &&
	grep -v bad in | ids /dev/stdin >want && ids got >have && expect_file_eq want have &&
	expect_lines 20 rej &&
	expect_grep "^\{\"error\":\"HTTP 400: \{\\\\\"error\\\\\":\\\\\"bad record 25\\\\\"\}\",\"program\":\"etl-load-http\",\"where\":\"in:25\",\"record\":\{\"id\":25,\"bad\":true\}\}$" rej &&
	expect_grep "in:2: HTTP 429 \(Retry-After 1 s\); retrying in 1000 ms" load.err &&
	expect_grep "in:1: HTTP 503; retrying in" load.err &&
	expect_grep "\"records_in\":1000,\"records_out\":980,\"rejected\":20.*\"requests\":1400,\"retries\":400" load.err
'

test_expect_success 'without --reject a refused record stops the run (65) after what came before it' '
	start_receiver pattern &&
	records 1 200 10 | sed "s/{\"id\":105}/{\"id\":105,\"bad\":true}/" >in &&
	expect_status 65 etl-load-http -c 64 "http://127.0.0.1:$RPORT/" in >acks 2>load.err &&
	expect_grep "^etl-load-http: in:115: HTTP 400: \{\"error\":\"bad record 105\"\}$" load.err &&
	records 1 100 10 | grep -F "\$etl" >want && expect_file_eq want acks &&
	ids got | head -n 100 >have && expect_eq "$(seq 1 100)" "$(cat have)" "records before the bad one"
'

test_expect_success 'a refused record on a live stream stops the run at once, without waiting for more input' '
	{ start_receiver pattern && mkfifo fifo || exit 1; }
	etl-load-http "http://127.0.0.1:$RPORT/" fifo 2>load.err &
	job=$! &&
	exec 3>fifo && echo "{\"id\":5,\"bad\":true}" >&3 &&
	for _ in $(seq 1 200); do kill -0 $job 2>/dev/null || break; sleep 0.05; done &&
	if kill -0 $job 2>/dev/null; then echo "still running 10 s after the refusal"; exit 1; fi &&
	expect_status 65 wait $job && exec 3>&- &&
	expect_grep "^etl-load-http: fifo:1: HTTP 400: " load.err
'

test_expect_success 'at -c 64, a control line comes out only after every request before it got its 2xx, in order' '
	start_receiver slow &&
	records 1 3000 100 >in &&
	( set -o pipefail
	etl-load-http -c 64 "http://127.0.0.1:$RPORT/" in | while read -r line; do
		n=$(echo "$line" | grep -oE "[0-9]+")
		have=$(ids got | awk -v n="$n" "\$1 <= n" | sort -u | wc -l)
		[ "$have" -eq "$n" ] || { echo "$line came out when $have of its $n records had arrived"; exit 1; }
		echo "$line" >>acks
	done ) &&
	grep -F "\$etl" in >want && expect_file_eq want acks &&
	expect_eq "$(seq 1 3000)" "$(ids got)" "ids received"
'

test_expect_success 'at -c 64 with 503, 429 and 400 answers: every good record once, each control line only after its records' '
	start_receiver pattern &&
	records 1 3000 100 | awk -F"[:}]" "\$2 % 50 == 25 { sub(/}/, \",\\\"bad\\\":true}\") } { print }" >in &&
	( set -o pipefail
	etl-load-http -c 64 --stats --reject rej --retry-for 30s "http://127.0.0.1:$RPORT/" in 2>load.err |
	while read -r line; do
		n=$(echo "$line" | grep -oE "[0-9]+")
		have=$(ids got | awk -v n="$n" "\$1 <= n" | wc -l)
		[ "$have" -eq $((n - (n + 25) / 50)) ] || { echo "$line came out when $have of its records had arrived"; exit 1; }
		echo "$line" >>acks
	done ) &&
	grep -F "\$etl" in >want && expect_file_eq want acks &&
	grep -v bad in | ids /dev/stdin >want && ids got >have && expect_file_eq want have &&
	expect_lines 60 rej &&
	expect_grep "\"records_in\":3000,\"records_out\":2940,\"rejected\":60.*\"requests\":4200,\"retries\":1200" load.err
'

test_expect_success 'a receiver that closes each keep-alive connection after 7 answers and drops requests: 5000 records at -c 64, each once, in order' '
	start_receiver closing &&
	records 1 5000 500 >in &&
	etl-load-http -c 64 --stats --retry-for 30s "http://127.0.0.1:$RPORT/" in >acks 2>load.err &&
	expect_eq "$(seq 1 5000)" "$(ids got)" "ids received" &&
	grep -F "\$etl" in >want && expect_file_eq want acks &&
	expect_grep "\"records_in\":5000,\"records_out\":5000,\"rejected\":0" load.err
'

test_expect_success 'a receiver that closes idle keep-alive connections: no busy loop while idle, the next records go out on new ones' '
	{ start_receiver idle && mkfifo fifo || exit 1; }
	sh -c "echo \$\$ >pid; exec \"\$@\"" sh etl-load-http -c 64 "http://127.0.0.1:$RPORT/" fifo >acks 2>load.err &
	job=$! &&
	exec 3>fifo && records 1 200 200 >&3 &&
	wait_for "upto" acks && sleep 1 &&
	ticks() { awk "{ print \$14 + \$15 }" /proc/$(cat pid)/stat; } &&
	before=$(ticks) && sleep 1.5 && after=$(ticks) &&
	{ [ $((after - before)) -lt 10 ] || { echo "$((after - before)) ticks of CPU while idle"; exit 1; }; } &&
	records 201 400 200 >&3 && exec 3>&- &&
	expect_status 0 wait $job &&
	expect_eq "$(seq 1 400)" "$(ids got)" "ids received" &&
	expect_output acks "{\"\$etl\":{\"upto\":200}}
{\"\$etl\":{\"upto\":400}}"
'

test_expect_success 'two refused records in flight at once, without --reject: the first is reported after all before it' '
	start_receiver pattern &&
	records 1 2000 | sed -e "s/{\"id\":1000}/{\"id\":1000,\"bad\":true}/" \
		-e "s/{\"id\":1001}/{\"id\":1001,\"bad\":true}/" >in &&
	expect_status 65 etl-load-http -c 64 --retry-for 30s "http://127.0.0.1:$RPORT/" in 2>load.err &&
	expect_grep "^etl-load-http: in:1000: HTTP 400: \{\"error\":\"bad record 1000\"\}$" load.err &&
	ids got | awk "\$1 < 1000" >have && expect_eq "$(seq 1 999)" "$(cat have)" "records before the bad one"
'

test_expect_success 'a receiver that never answers: --timeout, retries, then 75' '
	start_receiver never &&
	expect_status 75 etl-load-http --timeout 300ms --retry-for 1s "http://127.0.0.1:$RPORT/" <<<"{\"id\":1}" 2>load.err &&
	expect_grep "^etl-load-http: http://127.0.0.1:$RPORT/: stdin:1: .*timed out.* \(gave up after [0-9]+ attempts\)$" load.err
'

test_expect_success 'connection refused: retried with backoff, then 75; messages never show the password' '
	port=$(free_port) &&
	start=$(date +%s) &&
	expect_status 75 etl-load-http --retry-for 1s "http://user:hunter2@127.0.0.1:$port/" <<<"{\"id\":1}" 2>load.err &&
	expect_grep "^etl-load-http: http://user:\*\*\*@127.0.0.1:$port/: stdin:1: .*[Cc]ouldn.t connect.*; retrying in [0-9]+ ms$" load.err &&
	expect_no_grep hunter2 load.err &&
	expect_grep "\(gave up after ([3-9]|[1-9][0-9]+) attempts\)$" load.err &&
	[ $(( $(date +%s) - start )) -lt 30 ]
'

test_expect_success 'a Retry-After past --retry-for gives up at once' '
	start_receiver pattern &&
	start=$(date +%s) &&
	expect_status 75 etl-load-http --retry-for 500ms "http://127.0.0.1:$RPORT/" <<<"{\"id\":2}" 2>load.err &&
	expect_grep "stdin:1: HTTP 429 \(Retry-After 1 s\) \(gave up after 1 attempts\)$" load.err &&
	expect_lines 0 got
'

test_expect_success 'TLS: verified against --cacert, else 69; never a downgrade to plain HTTP' '
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost 2>/dev/null &&
	start_server --tls-cert cert.pem --tls-key key.pem &&
	etl-load-http --cacert cert.pem "https://localhost:$PORT/" <<<"{\"tls\":1}" &&
	expect_status 69 etl-load-http "https://localhost:$PORT/" <<<"{\"tls\":2}" 2>load.err &&
	expect_grep "^etl-load-http: https://localhost:$PORT/: .*certificate" load.err &&
	expect_status 69 etl-load-http --cacert cert.pem "http://localhost:$PORT/" <<<"{\"tls\":3}" 2>load.err &&
	expect_grep "need an https:// URL; refusing to send in clear" load.err &&
	stop_server && expect_output out "{\"tls\":1}" &&
	start_server &&
	expect_status 69 etl-load-http --retry-for 2s --cacert cert.pem "https://localhost:$PORT/" <<<"{\"tls\":4}" 2>load.err &&
	stop_server && expect_lines 0 out
'

test_expect_success 'usage errors: no URL, not HTTP, a bad header, --cert without --key' '
	expect_status 64 etl-load-http </dev/null 2>e1 && expect_grep "no URL" e1 &&
	expect_status 64 etl-load-http ftp://127.0.0.1/ </dev/null 2>e2 && expect_grep "not an http:// or https:// URL" e2 &&
	expect_status 64 etl-load-http -H "no colon" http://127.0.0.1/ </dev/null 2>e3 && expect_grep "Name: value" e3 &&
	expect_status 64 etl-load-http --cert c.pem https://127.0.0.1/ </dev/null 2>e4 && expect_grep "go together" e4 &&
	expect_status 66 etl-load-http --token-file missing http://127.0.0.1/ </dev/null 2>e5 &&
	etl-load-http --help >help && expect_grep "^  -c, --concurrency N" help
'

test_expect_success 'headers with -H; the password of the URL is blanked in argv and sent as Basic auth' '
	{ start_receiver pattern && mkfifo in || exit 1; }
	sh -c "echo \$\$ >pid; exec \"\$@\"" sh etl-load-http -H "X-Tag: t1" \
		"http://user:hunter2@127.0.0.1:$RPORT/" in 2>load.err &
	job=$! &&
	for _ in $(seq 1 200); do [ -s pid ] && break; sleep 0.05; done && pid=$(cat pid) &&
	for _ in $(seq 1 200); do
		grep -q etl-load-http /proc/$pid/cmdline && ! grep -q hunter2 /proc/$pid/cmdline && break
		sleep 0.05
	done &&
	tr "\0" " " </proc/$pid/cmdline >cmdline &&
	expect_no_grep hunter2 cmdline && expect_grep "user:x+@127" cmdline &&
	echo "{\"id\":3}" >in && wait $job &&
	printf "%s\n" "Basic $(printf user:hunter2 | base64)" "t1" >want && expect_file_eq want got.headers &&
	expect_output got "{\"id\":3}"
'

# start_raw : a receiver that keeps each request exactly as it came, head
# and body, in $T/raw (one request after another) and answers 204 on
# keep-alive connections; sets $RAWPORT.
start_raw() {
	python3 - raw rawport <<-"EOF" &
	import socketserver, sys, threading
	lock = threading.Lock()
	log = open(sys.argv[1], "ab", buffering=0)
	class H(socketserver.StreamRequestHandler):
	    def handle(self):
	        while True:
	            head = b""
	            while not head.endswith(b"\r\n\r\n"):
	                line = self.rfile.readline()
	                if not line:
	                    return
	                head += line
	            n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
	                 if l.lower().startswith(b"content-length:")][0]
	            body = self.rfile.read(n)
	            with lock:
	                log.write(head + body + b"\n")
	            self.wfile.write(b"HTTP/1.1 204 No Content\r\n\r\n")
	class S(socketserver.ThreadingTCPServer):
	    daemon_threads = True
	s = S(("127.0.0.1", 0), H)
	open(sys.argv[2] + ".tmp", "w").write("%d\n" % s.server_address[1])
	__import__("os").rename(sys.argv[2] + ".tmp", sys.argv[2])
	s.serve_forever()
	EOF
	for _ in $(seq 1 200); do [ -s rawport ] && break; sleep 0.05; done
	RAWPORT=$(cat rawport)
}

test_expect_success 'a request carries Host, Content-Type, Content-Length and etl-load-http as User-Agent, no Accept unless -H gives one; batches and records' '
	start_raw &&
	{ records 1 3; echo "[{\"id\":4},{\"id\":5}]"; } >in &&
	etl-load-http -c 2 "http://127.0.0.1:$RAWPORT/in" in &&
	expect_eq 4 "$(grep -c "^POST /in HTTP/1.1" raw)" "requests" &&
	expect_eq 4 "$(grep -c "^Host: 127.0.0.1:$RAWPORT" raw)" "Host headers" &&
	expect_eq 4 "$(grep -c "^Content-Type: application/json" raw)" "Content-Type headers" &&
	expect_grep "^Content-Length: 8" raw && expect_grep "^Content-Length: 19" raw &&
	expect_eq 4 "$(grep -c "^User-Agent: etl-load-http/[0-9]" raw)" "User-Agent headers" &&
	expect_no_grep "^(Accept|Expect):" raw &&
	expect_grep "^\[\{\"id\":4\},\{\"id\":5\}\]$" raw &&
	: >raw && records 6 7 >in &&
	etl-load-http -c 2 -H "User-Agent: importer/2" -H "Accept: application/json" \
		--ndjson "http://127.0.0.1:$RAWPORT/" in &&
	expect_eq 2 "$(grep -c "^User-Agent: importer/2" raw)" "User-Agent headers" &&
	expect_eq 2 "$(grep -ci "^User-Agent" raw)" "User-Agent headers of any kind" &&
	expect_eq 2 "$(grep -c "^Accept: application/json" raw)" "Accept headers" &&
	expect_eq 2 "$(grep -ci "^Accept" raw)" "Accept headers of any kind"
'

test_expect_success 'a record that is valid but not compact goes out as it came; one that is nearly compact but invalid is rejected by the parser' '
	start_raw &&
	printf "%s\n" "{ \"id\" : 1 }" "{\"id\":2,\"s\":\"caf\\u00e9 \\\"q\\\"\"}" "{\"id\":3,\"n\":1.50E+3}" \
		"{\"id\":4,\"n\":-0.0,\"a\":[ ],\"o\":{}}" "{\"id\":5,\"id\":5}" "{\"id\":6,\"n\":-0.5,\"s\":\"ü\"}" >good &&
	printf "%s\n" "{\"id\":01}" "{\"id\":1,}" "{\"id\":1}}" "{\"id\":1e}" "{\"id\":1,\"id\"}" >bad &&
	printf "{\"id\":\"\\377\"}\n{\"id\":\"a\\001\"}\n" >>bad &&
	paste -d "\n" good bad | grep -av "^$" >in && expect_lines 13 in &&
	etl-load-http -c 4 --reject rej "http://127.0.0.1:$RAWPORT/" in &&
	grep "^{" raw | sort >have && sort good >want && expect_file_eq want have &&
	expect_lines 7 rej && expect_eq 7 "$(grep -c "\"error\":\"invalid JSON" rej)" "invalid JSON rejects" &&
	expect_grep "\"where\":\"in:2\"" rej && expect_grep "\"where\":\"in:13\"" rej
'

test_expect_success 'invalid input is rejected before it is sent; without --reject it stops the run' '
	start_receiver slow &&
	printf "%s\n" "{\"id\":1}" "not json" "{\"id\":" "[{\"id\":2},3]" "[1," "{\"id\":4}" >in &&
	etl-load-http --reject rej "http://127.0.0.1:$RPORT/" in &&
	expect_eq "$(printf "1\n2\n4")" "$(ids got)" "ids received" &&
	expect_lines 5 rej && expect_grep "\"where\":\"in:5 \(row 1\)\",\"record\":\"1\"" rej &&
	expect_grep "\"error\":\"invalid JSON: .*\",\"program\":\"etl-load-http\",\"where\":\"in:2\"" rej &&
	expect_grep "\"error\":\"not a JSON object\",.*\"where\":\"in:4 \(row 2\)\",\"record\":\"3\"" rej &&
	: >got && expect_status 65 etl-load-http "http://127.0.0.1:$RPORT/" in 2>load.err &&
	expect_grep "^etl-load-http: in:2: invalid JSON" load.err && expect_output got "{\"id\":1}"
'

test_expect_success 'SIGUSR1 prints the stats; SIGTERM: the input is read to its end, the requests finish, their control line comes out, exit 0' '
	{ start_receiver hold && mkfifo fifo || exit 1; }
	sh -c "echo \$\$ >pid; exec \"\$@\"" sh etl-load-http -c 8 "http://127.0.0.1:$RPORT/" fifo >acks 2>load.err &
	job=$! &&
	exec 3>fifo && records 1 5 5 >&3 &&
	for _ in $(seq 1 200); do [ -s got.headers ] && break; sleep 0.05; done &&
	kill -USR1 $(cat pid) && wait_for "^\{\"program\":\"etl-load-http\",\"records_in\":5,.*\"requests\":5," load.err &&
	kill -TERM $(cat pid) && sleep 0.2 && records 6 6 6 >&3 && exec 3>&- &&
	expect_status 0 wait $job &&
	expect_eq "$(seq 1 6)" "$(ids got)" "ids received" && expect_output acks "{\"\$etl\":{\"upto\":5}}
{\"\$etl\":{\"upto\":6}}"
'
