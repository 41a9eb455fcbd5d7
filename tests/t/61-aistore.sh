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
