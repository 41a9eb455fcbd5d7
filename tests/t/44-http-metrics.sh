#!/usr/bin/env bash
# etl-extract-http's GET /metrics: Prometheus' text format as promtool
# checks it, on the main port or on --metrics-listen; the counters move as
# requests are answered (by status, records and bytes handed on, requests in
# flight, 503s from backpressure), the acknowledgement wait histogram under
# --ack-fifo, the process' start time.
. "$(dirname "$0")/../lib.sh"
. "$ETL_TOP/tests/http-server.sh"
json=(-H "Content-Type: application/json")

# scrape FILE [PORT] : GET /metrics into FILE, checked by promtool
scrape() {
	curl -sf -o "$1" "http://127.0.0.1:${2:-$PORT}/metrics" || { echo "GET /metrics failed"; return 1; }
	promtool check metrics <"$1" >lint 2>&1 || { echo "promtool check metrics:"; cat lint; return 1; }
}
# value FILE SERIES : the value of SERIES (name and labels as written), 0 if absent
value() {
	awk -v s="$2" '$1 == s { v = $2 } END { print (v == "" ? 0 : v) }' "$1"
}
# moved SERIES BY : SERIES grew by BY from before to after
moved() {
	expect_eq "$2" "$(awk -v a="$(value before "$1")" -v b="$(value after "$1")" "BEGIN { print b - a }")" "$1 moved by"
}

test_expect_success 'promtool accepts /metrics; the counters move with requests' '
	started=$(date +%s) &&
	start_server &&
	scrape before &&
	curl -s -o /dev/null "${json[@]}" -d "[{\"a\":1},{\"a\":2}]" "http://127.0.0.1:$PORT/" &&
	curl -s -o /dev/null "${json[@]}" -d "{\"b\":3}" "http://127.0.0.1:$PORT/" &&
	curl -s -o /dev/null "${json[@]}" -d "{bad" "http://127.0.0.1:$PORT/" &&
	curl -s -o /dev/null -X DELETE "http://127.0.0.1:$PORT/" &&
	scrape after &&
	moved "etl_http_requests_total{code=\"202\"}" 2 &&
	moved "etl_http_requests_total{code=\"400\"}" 1 &&
	moved "etl_http_requests_total{code=\"405\"}" 1 &&
	moved "etl_http_requests_total{code=\"200\"}" 1 &&
	moved etl_http_records_total 3 &&
	moved etl_http_request_body_bytes_total 28 &&
	expect_eq "$(wc -c <out)" "$(value after etl_http_output_bytes_total)" "bytes handed on, against stdout" &&
	expect_eq 0 "$(value after etl_http_requests_in_flight)" "requests in flight" &&
	expect_eq 0 "$(value after etl_http_backpressure_rejections_total)" "503s" &&
	expect_no_grep "^etl_http_ack_wait" after &&
	start=$(value after process_start_time_seconds) &&
	awk -v s="$start" -v a="$started" -v b="$(date +%s)" "BEGIN { exit !(s >= a - 1 && s <= b + 1) }" ||
		{ echo "process_start_time_seconds $start is not between $started and now"; exit 1; }
	grep -q "^etl_http_records_total 3$" after &&
	stop_server
'

test_expect_success 'requests in flight and open connections, while a body is on its way' '
	start_server &&
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" &&
	printf "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"c\"" >&3 &&
	for _ in $(seq 1 100); do
		scrape during && [ "$(value during etl_http_requests_in_flight)" = 1 ] && break
		sleep 0.05
	done &&
	expect_eq 1 "$(value during etl_http_requests_in_flight)" "requests in flight, mid-body" &&
	expect_eq 1 $(($(value during etl_http_connections) >= 2)) "open connections: this one and the scrape" &&
	printf ":4}" >&3 && head -n 1 <&3 >status && exec 3>&- &&
	expect_grep "^HTTP/1.1 202" status &&
	scrape after &&
	expect_eq 0 "$(value after etl_http_requests_in_flight)" "requests in flight, answered" &&
	stop_server
'

test_expect_success '503s from backpressure are counted' '
	PORT=$(free_port) || exit 1
	# stdout is a pipe nobody reads: the output fills up.
	{ etl-extract-http --queue-timeout 100ms --max-body 20M "127.0.0.1:$PORT" 2>err |
		sh -c "echo \$\$ >reader.pid; exec sleep 60"; } &
	wait_port "$PORT" &&
	head -c 9000000 /dev/zero | tr "\0" x | sed "s/^/{\"pad\":\"/; s/\$/\"}/" >big &&
	for i in 1 2 3 4; do
		curl -s -o /dev/null -w "%{http_code}\n" "${json[@]}" --data-binary @big "http://127.0.0.1:$PORT/" >>codes
	done &&
	scrape after &&
	refused=$(grep -c "^503$" codes) &&
	echo "answers: $(echo $(cat codes))" &&
	expect_eq 1 $((refused >= 1)) "some requests answered 503" &&
	expect_eq "$refused" "$(value after etl_http_backpressure_rejections_total)" "503s from backpressure" &&
	expect_eq "$refused" "$(value after "etl_http_requests_total{code=\"503\"}")" "503s" &&
	kill "$(cat reader.pid)"
'

test_expect_success 'with --ack-fifo, the acknowledgement wait time is a histogram' '
	PORT=$(free_port) && mkfifo acks || exit 1
	# Acknowledge every checkpoint at once: its control line goes straight back.
	{ etl-extract-http --ack-fifo acks "127.0.0.1:$PORT" 2>err | grep --line-buffered "^{\"\\\$etl\"" >acks; } &
	wait_port "$PORT" &&
	for i in 1 2 3; do
		expect_eq 202 "$(curl -s -o /dev/null -w "%{http_code}" "${json[@]}" -d "{\"i\":$i}" "http://127.0.0.1:$PORT/")" || exit 1
	done &&
	scrape after &&
	expect_eq 3 "$(value after etl_http_ack_wait_seconds_count)" "acknowledgements observed" &&
	expect_eq 3 "$(value after "etl_http_ack_wait_seconds_bucket{le=\"+Inf\"}")" "in the +Inf bucket" &&
	expect_eq 3 "$(value after "etl_http_ack_wait_seconds_bucket{le=\"10\"}")" "within 10 s" &&
	expect_eq 0 "$(value after "etl_http_ack_wait_seconds_bucket{le=\"0.001\"}" | awk "{ print (\$1 > 3) }")" "buckets are cumulative" &&
	awk "/^etl_http_ack_wait_seconds_sum / { exit !(\$2 > 0 && \$2 < 30) }" after
'

test_expect_success '--metrics-listen serves /metrics on its own address, and only there' '
	MPORT=$(free_port) &&
	start_server --metrics-listen "127.0.0.1:$MPORT" &&
	curl -s -o /dev/null "${json[@]}" -d "{\"m\":1}" "http://127.0.0.1:$PORT/" &&
	scrape after "$MPORT" &&
	expect_eq 1 "$(value after "etl_http_requests_total{code=\"202\"}")" "202s" &&
	curl -s -o main "http://127.0.0.1:$PORT/metrics" &&
	expect_no_grep "etl_http" main &&
	expect_eq 404 "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$MPORT/")" "another path there" &&
	stop_server &&
	expect_status 64 etl-extract-http --metrics-listen "127.0.0.1:$MPORT/x" "127.0.0.1:$PORT" 2>err &&
	expect_grep "without a path" err
'
