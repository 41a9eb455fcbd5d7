#!/usr/bin/env bash
# Forms as real senders shape them: GitHub (by default) and Slack send the
# JSON event as the one form field "payload".  Such a form is that JSON,
# signed on its raw bytes; --envelope keeps the raw form.
. "$(dirname "$0")/../lib.sh"

start_server() {
	PORT=$(free_port) || return 1
	etl-extract-http "$@" "127.0.0.1:$PORT" >out 2>err &
	SERVER=$!
	wait_port "$PORT"
}
stop_server() { kill -TERM "$SERVER" && wait "$SERVER"; }
# deliver FILE TYPE : POST FILE's bytes as TYPE, signed as GitHub signs
deliver() {
	curl -s -o /dev/null -w "%{http_code}\n" -H "Content-Type: $2" \
		-H "X-GitHub-Event: push" \
		-H "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac "$(cat secret)" -r <"$1" | cut -c1-64)" \
		--data-binary @"$1" "http://127.0.0.1:$PORT/"
}

# A push event shaped as GitHub sends it (trimmed), with the characters a
# form must escape: + & = % spaces, quotes, non-ASCII and a newline.
cat >"$TEST_ROOT/event.json" <<'JSON'
{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"0000000000000000000000000000000000000000","repository":{"id":186853002,"node_id":"MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=","name":"Hello-World","full_name":"Codertocat/Hello-World","private":false,"owner":{"name":"Codertocat","email":"21031067+Codertocat@users.noreply.github.com","login":"Codertocat","id":21031067},"html_url":"https://github.com/Codertocat/Hello-World","description":"C++ & \"friends\": 100% = fun","topics":["a+b","x=y"]},"pusher":{"name":"Codertocat","email":"21031067+Codertocat@users.noreply.github.com"},"sender":{"login":"Codertocat","id":21031067,"type":"User","site_admin":false},"created":false,"deleted":true,"forced":false,"base_ref":null,"compare":"https://github.com/Codertocat/Hello-World/compare/6113728f27ae...000000000000","commits":[{"id":"6113728f","message":"Füge Zeile hinzu\n\nmit + und & und =","timestamp":"2019-05-15T15:20:30-05:00"}],"head_commit":null}
JSON

test_expect_success 'a GitHub push delivered as JSON and as a form gives the same record, both signed' '
	printf "webhook-secret" >secret &&
	cp "$TEST_ROOT/event.json" event.json &&
	printf "payload=%s" "$(jq -c . event.json | jq -Rrj @uri)" >form &&
	start_server --hmac-secret-file secret &&
	expect_eq 202 "$(deliver event.json application/json)" &&
	expect_eq 202 "$(deliver form application/x-www-form-urlencoded)" &&
	printf "payload=%%7B%%22a%%22%%3A1%%7D&other=1" >two-fields && expect_eq 202 "$(deliver two-fields application/x-www-form-urlencoded)" &&
	printf "payload=plain+text" >not-json && expect_eq 202 "$(deliver not-json application/x-www-form-urlencoded)" &&
	cp form tampered && printf "x" >>tampered &&
	expect_eq 401 "$(curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: application/x-www-form-urlencoded" \
		-H "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac webhook-secret -r <form | cut -c1-64)" \
		--data-binary @tampered "http://127.0.0.1:$PORT/")" "the signature is of the raw body" &&
	stop_server && expect_lines 4 out &&
	expect_eq "$(jq -cS . event.json)" "$(sed -n 1p out | jq -cS .)" "as JSON" &&
	expect_eq "$(jq -cS . event.json)" "$(sed -n 2p out | jq -cS .)" "as a form" &&
	expect_eq "{\"payload\":\"{\\\"a\\\":1}\",\"other\":\"1\"}" "$(sed -n 3p out)" "payload with another field: a form" &&
	expect_eq "{\"payload\":\"plain text\"}" "$(sed -n 4p out)" "payload not JSON: a form"
'

test_expect_success '--envelope keeps the raw form; a Slack-style payload array is its records' '
	printf "webhook-secret" >secret &&
	cp "$TEST_ROOT/event.json" event.json &&
	printf "payload=%s" "$(jq -c . event.json | jq -Rrj @uri)" >form &&
	start_server --envelope --hmac-secret-file secret &&
	expect_eq 202 "$(deliver form application/x-www-form-urlencoded)" &&
	stop_server &&
	expect_eq "$(cat form)" "$(jq -r .body out)" "the raw form" &&
	start_server &&
	expect_eq 200 "$(curl -s -o /dev/null -w "%{http_code}" -d "payload=%5B%7B%22type%22%3A%22block_actions%22%7D%2C%7B%22n%22%3A2%7D%5D" "http://127.0.0.1:$PORT/" | sed s/202/200/)" &&
	stop_server && printf "{\"type\":\"block_actions\"}\n{\"n\":2}\n" >want && expect_file_eq want out
'
