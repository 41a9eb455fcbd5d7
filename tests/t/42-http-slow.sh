#!/usr/bin/env bash
# etl-extract-http against slow and greedy clients: 1,000 connections from
# 127.0.0.1 that send their headers (or their body) a line at a time
# (slowloris) while a client on 127.0.0.2 posts 100 requests, each answered
# 202 within 1 s; the slow connections are closed at their deadline, which
# --idle-timeout alone would never do.  tests/slow-clients.py is the
# client; the other limits are 42-http-limits.sh.
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
