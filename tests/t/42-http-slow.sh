#!/usr/bin/env bash
# etl-extract-http against slow and greedy clients: 1,000 connections from
# 127.0.0.1 that send their headers (or their body) a line at a time
# (slowloris) while a client on 127.0.0.2 posts 100 requests, each answered
# 202 within 1 s; the slow connections are closed at their deadline, which
# --idle-timeout alone would never do.  Then the per-address limit and the
# connection cap.  tests/slow-clients.py is the client.
# tests/run: alone (its answers must come within 1 s: other files beside it
# would measure the machine, not the server)
. "$(dirname "$0")/../lib.sh"
. "$ETL_TOP/tests/http-server.sh"
clients() { python3 "$ETL_TOP/tests/slow-clients.py" "$@"; }

# hold_and_post MODE DEADLINE : 1,000 slow MODE clients against a server
# started with a DEADLINE-second deadline, 100 posts meanwhile
hold_and_post() {
	clients hold "$PORT" --mode "$1" --count 1000 --every 1 --for $(($2 + 20)) >held &
	local holder=$!
	wait_for "^ready 1000" held || return 1
	local began=$(date +%s%N) took
	clients post "$PORT" --count 100 --source 127.0.0.2 >posts &&
	took=$((($(date +%s%N) - began) / 1000000)) &&
	wait $holder &&
	echo "100 posts in ${took} ms under 1,000 slow $1 connections; slowest answer $(sort -k2 -n posts | tail -n 1 | cut -d" " -f2) s" &&
	expect_eq 100 "$(grep -c "^202 " posts)" "posts answered 202" &&
	[ "$took" -lt $(($2 * 1000)) ] ||
		{ echo "the posts took ${took} ms, past the deadline of the slow connections"; return 1; }
	awk "\$2 >= 1 { print; bad = 1 } END { exit bad }" posts ||
		{ echo "answers slower than 1 s"; return 1; }
	# Closed at the deadline: not before it, not long after (a loaded machine).
	expect_eq 0 "$(grep -c " open$" held)" "connections still open" &&
	sed 1d held | sort -k2 -n | sed -n "1p;\$p" >range &&
	echo "slow $1 connections lived $(head -n 1 range | cut -d" " -f2)s to $(tail -n 1 range | cut -d" " -f2)s" &&
	awk -v d="$2" "NR > 1 && (\$2 < d - 0.1 || \$2 > d + 3) { print \"closed after \" \$2 \"s\"; bad = 1 } END { exit bad }" held &&
	# Closed by the server at the deadline, as it counts them.
	curl -s --interface 127.0.0.2 -o metrics "http://127.0.0.1:$PORT/metrics" &&
	closes=$(awk -v s="etl_http_deadline_closes_total{phase=\"$1\"}" "\$1 == s { print \$2 }" metrics) &&
	echo "$closes closed at the $1 deadline, by the server's count" &&
	expect_eq 1 $((closes >= 1000)) "deadline closes counted ($closes)"
}

test_expect_success '1,000 slow-header connections: others answered within 1 s, the slow ones closed at --header-timeout' '
	start_server --max-per-client 1100 --header-timeout 5s &&
	hold_and_post headers 5 &&
	stop_server && expect_lines 100 out
'

test_expect_success '1,000 slow-body connections: others answered within 1 s, the slow ones closed at --body-timeout' '
	start_server --max-per-client 1100 --body-timeout 5s &&
	hold_and_post body 5 &&
	stop_server && expect_lines 100 out
'

test_expect_success 'a kept-alive connection gets a new header deadline per request' '
	start_server --header-timeout 1s &&
	python3 -c "
import socket, sys, time
s = socket.create_connection((\"127.0.0.1\", $PORT))
for i in range(4):
    time.sleep(0.5)
    s.sendall(b\"GET /?n=%d HTTP/1.1\r\nHost: x\r\n\r\n\" % i)
    answer = b\"\"
    while not answer.endswith(b\"}\"):
        chunk = s.recv(4096)
        if not chunk:
            sys.exit(\"closed before request %d was answered\" % i)
        answer += chunk
" &&
	stop_server && expect_lines 4 out
'

test_expect_success 'connections over --max-per-client from one address are closed at once, others served' '
	# From 127.0.0.3: not counted with the connection start_server probed with.
	start_server --max-per-client 20 --header-timeout 3s || exit 1
	clients hold "$PORT" --count 30 --every 0.5 --for 10 --source 127.0.0.3 >held &
	wait_for "^ready" held &&
	clients post "$PORT" --count 5 --source 127.0.0.2 >posts &&
	wait $! &&
	expect_eq 5 "$(grep -c "^202 " posts)" "posts answered 202" &&
	expect_eq 10 "$(awk "NR > 1 && \$2 < 1" held | wc -l)" "connections closed at once" &&
	expect_eq 20 "$(awk "NR > 1 && \$2 >= 2.9" held | wc -l)" "connections held to the deadline" &&
	stop_server
'

# Over the cap, connections wait in the listen queue until a slot frees.
# The connection start_server probed with may hold one slot still
# (libmicrohttpd can miss its end until the header deadline).
test_expect_success 'no more than --max-connections at once' '
	start_server --max-connections 40 --max-per-client 0 --header-timeout 3s &&
	clients hold "$PORT" --count 50 --every 0.5 --for 15 >held &&
	# The first wave is closed at its 3 s deadline; the rest wait in the
	# listen queue until slots free, then get a deadline of their own (about
	# 6 s in all, less when a slot freed early), never the whole 15 s.
	first=$(awk "NR > 1 && \$2 < 4.5" held | wc -l) &&
	echo "$first served first" &&
	[ "$first" -le 40 ] && [ "$first" -ge 30 ] &&
	expect_eq 0 "$(awk "NR > 1 && \$2 < 2.9" held | wc -l)" "connections closed before their deadline" &&
	expect_eq $((50 - first)) "$(awk "NR > 1 && \$2 >= 4.5 && \$2 < 9" held | wc -l)" "connections served once the first were closed" &&
	stop_server
'

test_expect_success 'bad limits are usage errors' '
	expect_status 64 etl-extract-http --header-timeout soon :0 2>err &&
	expect_status 64 etl-extract-http --max-per-client -1 :0 2>err
'
