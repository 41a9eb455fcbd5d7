#!/usr/bin/env bash
# examples/aistore: md5-server.sh answers like AIStore's walkthrough
# server.py (the lowercase hex MD5 of the exact bytes, text/plain), and
# redact-server.sh answers a record with its redacted self.
. "$(dirname "$0")/../lib.sh"
X=${ETL_TRANSFORMS:-$ETL_TOP/build/obj}/examples
EX=$ETL_TOP/examples/aistore

# digest_of FILE : POST FILE's bytes, check the answer against md5sum
digest_of() {
	curl -s -D headers -o answer -w "%{http_code}" --data-binary @"$1" \
		"http://127.0.0.1:$PORT/" >code &&
	expect_eq 200 "$(cat code)" "status for $1" &&
	expect_eq "$(md5sum <"$1" | cut -c1-32)" "$(cat answer)" "digest of $1" &&
	expect_grep "^Content-Type: text/plain" headers
}

test_expect_success 'md5-server.sh: the MD5 of the exact bytes, whatever they are' '
	PORT=$(free_port) &&
	{ MD5_SO=$X/md5.so JOBS=2 "$EX/md5-server.sh" "$PORT" 2>err & } &&
	wait_port "$PORT" &&
	: >empty && digest_of empty &&
	printf "x" >one && digest_of one &&
	head -c 10000000 /dev/urandom >ten-mb && digest_of ten-mb &&
	printf "caf\\351 \\377\\376" >latin1 && digest_of latin1 &&
	printf "a\\000b\\000\\000c" >nul && digest_of nul &&
	printf "{ \"a\" :  [1,\\n 2 ] }\\n" >spaced.json && digest_of spaced.json &&
	printf "[1,2]" >array.json && curl -s -o answer -X PUT --data-binary @array.json \
		-H "Content-Type: application/json" "http://127.0.0.1:$PORT/bucket/object" &&
	expect_eq "$(md5sum <array.json | cut -c1-32)" "$(cat answer)" "PUT to an object path" &&
	head -c 300000 /dev/urandom >small &&
	for i in 1 2 3 4 5 6 7 8; do
		head -c $((i * 1000)) small >"part.$i" &&
		{ curl -s -o "answer.$i" --data-binary @"part.$i" "http://127.0.0.1:$PORT/" & }
	done && sleep 0.1 &&
	for i in 1 2 3 4 5 6 7 8; do
		wait_for . "answer.$i" >/dev/null &&
		expect_eq "$(md5sum <"part.$i" | cut -c1-32)" "$(cat "answer.$i")" "concurrent body $i" || exit 1
	done
'

# A UTF-8 text of about N bytes: accents, CJK and emoji, quotes, backslashes,
# tabs and line breaks (escapes in the record), a 3-byte character across
# each 64 KiB boundary.
utf8_text() {
	python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
unit = 'Zürich 東京 "quoted" back\\slash\ttab\nline 😀 '.encode()
out = bytearray()
while len(out) < n:
    out += unit
    if len(out) % 65536 > 65536 - len(unit):
        out += b"x" * (65536 - 1 - len(out) % 65536) + "東".encode()
sys.stdout.buffer.write(bytes(out[:n]).decode("utf-8", "ignore").encode())
PY
}

test_expect_success 'md5-server.sh at realistic sizes: 1 MB and 8 MB, either side of 64 KiB, UTF-8 or not, six at once' '
	PORT=$(free_port) &&
	{ MD5_SO=$X/md5.so JOBS=2 "$EX/md5-server.sh" "$PORT" 2>err & } &&
	wait_port "$PORT" &&
	for n in 65535 65536 65537 131071 131072 131073 1048575 1048576 1048577 8388608; do
		head -c $n /dev/urandom >"random.$n" && digest_of "random.$n" || exit 1
	done &&
	for n in 65537 1048576 8388608; do
		utf8_text $n >"text.$n" && iconv -f UTF-8 -t UTF-8 "text.$n" >/dev/null &&
		digest_of "text.$n" || exit 1
	done &&
	pids= &&
	for i in 1 2 3 4 5 6; do
		head -c $((1048576 + i * 4099)) /dev/urandom >"many.$i" &&
		{ curl -s -o "many.$i.md5" --data-binary @"many.$i" "http://127.0.0.1:$PORT/" & } &&
		pids="$pids $!"
	done &&
	for p in $pids; do wait $p; done &&
	for i in 1 2 3 4 5 6; do
		expect_eq "$(md5sum <"many.$i" | cut -c1-32)" "$(cat "many.$i.md5")" "1 MB body $i of six at once" || exit 1
	done
'

test_expect_success 'redact-server.sh: POST a record, get it back redacted' '
	PORT=$(free_port) &&
	{ REDACT_SO=$X/redact.so "$EX/redact-server.sh" "$PORT" password,card.number 2>err & } &&
	wait_port "$PORT" &&
	expect_eq "[{\"user\":\"ann\",\"card\":{\"exp\":\"12/30\"}}]" \
		"$(curl -s -d "{\"user\":\"ann\",\"password\":\"x\",\"card\":{\"number\":\"4111\",\"exp\":\"12/30\"}}" \
			-H "Content-Type: application/json" "http://127.0.0.1:$PORT/")" &&
	expect_eq 400 "$(curl -s -o /dev/null -w "%{http_code}" -d "not json" \
		-H "Content-Type: application/json" "http://127.0.0.1:$PORT/")"
'
