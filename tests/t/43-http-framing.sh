#!/usr/bin/env bash
# etl-extract-http frames requests as RFC 9112 requires, so that a proxy in
# front and the server never disagree on where a request ends: conflicting
# Content-Length headers, Content-Length with Transfer-Encoding, a
# Transfer-Encoding other than chunked, no Host or two of them are answered
# 400 and the connection closed, even with a second request smuggled in
# behind; nothing of them reaches stdout.  Raw sockets, since curl sends
# none of these.
. "$(dirname "$0")/../lib.sh"
. "$ETL_TOP/tests/http-server.sh"
raw() { python3 "$ETL_TOP/tests/http-raw.py" "$PORT" "$@"; }

# refused REASON REQUEST : REQUEST gets 400 with REASON and a closed connection
refused() {
	printf "$2" | raw >answer &&
	expect_grep "^HTTP/1.1 400 " answer &&
	expect_grep "^Connection: close" answer &&
	expect_grep "^\\{\"error\":\"$1\"\\}\$" answer &&
	expect_eq 1 "$(grep -o "HTTP/1.1 [0-9]* " answer | wc -l)" "answers" &&
	expect_eq "<closed>" "$(tail -n 1 answer)" "the connection"
}
head="POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
smuggled="POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"smuggled\":1}"

test_expect_success 'two different Content-Length headers: 400, closed' '
	start_server &&
	refused "conflicting Content-Length headers" "${head}Content-Length: 7\r\nContent-Length: 9\r\n\r\n{\"a\":1}xx" &&
	refused "conflicting Content-Length headers" "${head}Content-Length: 0\r\nContent-Length: 97\r\n\r\n$smuggled" &&
	stop_server && expect_lines 0 out
'

test_expect_success 'Content-Length and Transfer-Encoding together: 400, closed' '
	start_server &&
	refused "both Content-Length and Transfer-Encoding" "${head}Content-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":2}\r\n0\r\n\r\n" &&
	refused "both Content-Length and Transfer-Encoding" "${head}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n$smuggled" &&
	stop_server && expect_lines 0 out
'

test_expect_success 'a Transfer-Encoding other than chunked, or two: 400, closed' '
	start_server &&
	refused "a Transfer-Encoding other than chunked" "${head}Transfer-Encoding: gzip\r\n\r\n{\"a\":3}" &&
	refused "a Transfer-Encoding other than chunked" "${head}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" &&
	refused "a Transfer-Encoding other than chunked" "${head}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" &&
	stop_server && expect_lines 0 out
'

test_expect_success 'HTTP/1.1 without Host, or with two: 400, closed' '
	start_server &&
	refused "an HTTP/1.1 request needs a Host header" "POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":4}" &&
	refused "an HTTP/1.1 request needs a Host header" "GET /?a=5 HTTP/1.1\r\n\r\n" &&
	refused "more than one Host header" "${head}Host: y\r\nContent-Length: 7\r\n\r\n{\"a\":6}" &&
	stop_server && expect_lines 0 out
'

test_expect_success 'well-framed requests still pass: HTTP/1.0 without Host, repeated equal lengths, chunked, keep-alive' '
	start_server &&
	printf "POST / HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"b\":1}" | raw >answer &&
	expect_grep "^HTTP/1.1 202 " answer &&
	printf "${head}Content-Length: 7\r\nContent-Length: 7\r\n\r\n{\"b\":2}" | raw 0.5 >answer &&
	expect_grep "^HTTP/1.1 202 " answer && expect_eq "<open>" "$(tail -n 1 answer)" &&
	printf "${head}Transfer-Encoding: Chunked\r\n\r\n7\r\n{\"b\":3}\r\n0\r\n\r\n${head}Content-Length: 7\r\n\r\n{\"b\":4}" | raw 0.5 >answer &&
	expect_eq 2 "$(grep -o "HTTP/1.1 202 " answer | wc -l)" "answers" &&
	stop_server &&
	printf "%s\n" "{\"b\":1}" "{\"b\":2}" "{\"b\":3}" "{\"b\":4}" >want &&
	expect_file_eq want out
'
