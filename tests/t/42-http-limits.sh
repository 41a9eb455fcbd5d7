#!/usr/bin/env bash
# etl-extract-http's connection limits: a kept-alive connection gets a new
# header deadline per request, --max-per-client closes an address's extra
# connections at once, --max-connections queues the rest until slots free.
# (The 1,000 slow clients, whose answers are timed, are 42-http-slow.sh,
# which runs alone.)
. "$(dirname "$0")/../lib.sh"
. "$ETL_TOP/tests/http-server.sh"
clients() { python3 "$ETL_TOP/tests/slow-clients.py" "$@"; }

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
