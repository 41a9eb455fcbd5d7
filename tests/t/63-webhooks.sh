#!/usr/bin/env bash
# Webhook senders as they really sign: each scheme's requests are made by
# the sender's own library from npm (tests/webhooks.mjs; tests/deps.sh
# installs them into build/npm) and sent to etl-extract-http --verify.
# Signed: the same record byte for byte, also when signed with the second
# secret of the file (rotation); a changed body or header, a wrong secret,
# a stale or future timestamp, no signature: 401 with the reason, no
# record, a counter by reason.  Then the handshakes (Slack, Meta), the
# delivery ids that make a retried delivery land once, and
# etl-load-http --sign checked by the libraries' verify functions.
. "$(dirname "$0")/../lib.sh"
. "$ETL_TOP/tests/http-server.sh"

export ETL_NPM=${ETL_NPM:-$ETL_TOP/build/npm}
need_npm() {
	command -v node >/dev/null && [ -d "$ETL_NPM/node_modules/stripe" ] && return 0
	if [ "${CI:-}" = true ]; then echo "the npm modules are required under CI=true (tests/deps.sh)"; return 1; fi
	echo "no node or npm modules in $ETL_NPM (run tests/deps.sh)"
	exit 77
}
hooks() { node "$ETL_TOP/tests/webhooks.mjs" "$@"; }
# secret SCHEME : its secret file (the new secret, the old one) here
secret() { cp "$TEST_ROOT/secrets/$1.secret" "${2:-secret}"; }
if command -v node >/dev/null && [ -d "$ETL_NPM/node_modules/stripe" ]; then
	mkdir "$TEST_ROOT/secrets" && hooks secrets "$TEST_ROOT/secrets"
fi

# cases SCHEME [OPTION]... : every case of SCHEME, made by its library,
# against a server started with OPTION...; the answers in "got"
cases() {
	local scheme=$1; shift
	secret "$scheme" &&
	MPORT=$(free_port) &&
	start_server --verify "$scheme" --secret-file secret --metrics-listen "127.0.0.1:$MPORT" "$@" &&
	hooks send "http://127.0.0.1:$PORT/" "$scheme" >got &&
	curl -s "http://127.0.0.1:$MPORT/metrics" >metrics
}

expected() {  # SCHEME : what its cases must be answered
	printf "signed 202\nrotated 202\n"
	# GitLab's token is not a signature of the body
	[ "$1" = gitlab ] || printf "body-changed 401 bad signature\n"
	printf "header-changed 401 bad signature\nwrong-secret 401 bad signature\n"
	case $1 in stripe|slack|standard)
		printf "stale 401 stale timestamp\nfuture 401 timestamp in the future\n" ;;
	esac
	printf "missing 401 missing signature header\n"
}

for scheme in github stripe slack shopify standard gitlab twilio; do
	opts=""
	[ $scheme = twilio ] && opts="--public-url https://hooks.example.com/twilio?site=1"
	test_expect_success "$scheme: made by the library: the same record; each tampering refused with its reason" '
		need_npm && cases '"$scheme $opts"' &&
		expected '"$scheme"' >want && expect_file_eq want got &&
		stop_server &&
		if [ '"$scheme"' = twilio ]; then
			printf "%s\n" "{\"CallSid\":\"CA100\",\"From\":\"+14158675310\",\"Body\":\"café & more\",\"To\":\"+15005550006\"}" \
				"{\"CallSid\":\"CA200\",\"From\":\"+14158675310\",\"Body\":\"café & more\",\"To\":\"+15005550006\"}" >bodies
		fi &&
		expect_file_eq bodies out &&
		expect_grep "^etl_http_auth_failures_total\{reason=\"bad_signature\"\} $(grep -c " 401 bad signature" want)$" metrics &&
		expect_grep "^etl_http_auth_failures_total\{reason=\"missing_header\"\} 1$" metrics
	'
done

test_expect_success 'Slack url_verification, signed: its challenge is the answer, and no record; unsigned: 401' '
	need_npm && secret slack &&
	start_server --verify slack --secret-file secret &&
	ev="{\"token\":\"Jhj5dZrVaK7ZwHHjRyZWjbDl\",\"challenge\":\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\",\"type\":\"url_verification\"}" &&
	hooks sign slack "$ev" >headers &&
	curl -s -H "Content-Type: application/json" -H @headers --data-binary "$ev" "http://127.0.0.1:$PORT/" >answer &&
	expect_eq "{\"challenge\":\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\"}" "$(cat answer)" &&
	expect_eq 401 "$(curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: application/json" --data-binary "$ev" "http://127.0.0.1:$PORT/")" &&
	stop_server && expect_lines 0 out
'

test_expect_success 'Meta subscription GET: the challenge echoed when hub.verify_token matches; 403 when not; no record' '
	need_npm && secret meta && printf "first token\nmy verify token\n" >vtoken &&
	start_server --verify meta --secret-file secret --verify-token-file vtoken &&
	url="http://127.0.0.1:$PORT/?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token" &&
	expect_eq "1158201444" "$(curl -s "$url=my%20verify%20token")" &&
	expect_eq 403 "$(curl -s -o /dev/null -w "%{http_code}" "$url=my%20verify%20toke")" &&
	body="{\"object\":\"whatsapp_business_account\",\"entry\":[]}" &&
	hooks sign meta "$body" >headers &&
	expect_eq 202 "$(curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: application/json" -H @headers --data-binary "$body" "http://127.0.0.1:$PORT/")" &&
	stop_server && expect_output out "$body"
'

# deliver3 SCHEME BODY : the same signed delivery, three times
deliver3() {
	hooks sign "$1" "$2" >headers &&
	for _ in 1 2 3; do
		curl -s -o /dev/null -w "%{http_code}\n" -H "Content-Type: application/json" -H @headers \
			--data-binary "$2" "http://127.0.0.1:$PORT/"
	done
}

# pipeline SCHEME TABLE URL : etl-extract-http --verify SCHEME with delivery
# ids into etl-load-sql --ignore-duplicates; sets PORT, EXTRACT and LOAD
pipeline() {
	secret "$1" && PORT=$(free_port) && mkfifo records || return 1
	etl-extract-http --verify "$1" --secret-file secret --delivery-id-field delivery \
		"127.0.0.1:$PORT" >records 2>extract.err &
	EXTRACT=$!
	etl-load-sql --ignore-duplicates -t "$2" -n 1 "$3" <records 2>load.err &
	LOAD=$!
	wait_port "$PORT"
}

test_expect_success 'a delivery retried three times lands one row (SQLite), its id from X-GitHub-Delivery and from Stripe'"'"'s event' '
	need_npm && sqlite3 db "CREATE TABLE hooks (delivery TEXT UNIQUE, type TEXT)" &&
	pipeline github hooks "sqlite:///$PWD/db" &&
	deliver3 github "{\"type\":\"push\"}" >codes &&
	printf "202\n202\n202\n" >want && expect_file_eq want codes &&
	kill -TERM $EXTRACT && wait $EXTRACT && wait $LOAD &&
	expect_eq "delivery-1|push" "$(sqlite3 db "SELECT * FROM hooks")" &&
	secret stripe && PORT=$(free_port) &&
	start_server --verify stripe --secret-file secret --delivery-id-field delivery &&
	deliver3 stripe "{\"id\":\"evt_1NG8Du2eZvKYlo2CUI79vXWy\",\"type\":\"charge.succeeded\"}" >codes &&
	stop_server && expect_lines 3 out && expect_eq 1 "$(jq -r .delivery out | sort -u | wc -l)" &&
	expect_eq evt_1NG8Du2eZvKYlo2CUI79vXWy "$(jq -r .delivery out | sort -u)"
'

test_expect_success 'a delivery retried three times lands one row (PostgreSQL), its id from webhook-id' '
	need_npm && need_pg &&
	pg_run "DROP TABLE IF EXISTS hooks63; CREATE TABLE hooks63 (delivery text UNIQUE, type text)" >/dev/null &&
	pipeline standard hooks63 "$ETL_TEST_PGURL" &&
	deliver3 standard "{\"type\":\"invoice.paid\"}" >codes &&
	printf "202\n202\n202\n" >want && expect_file_eq want codes &&
	kill -TERM $EXTRACT && wait $EXTRACT && wait $LOAD &&
	expect_eq "delivery-1|invoice.paid" "$(pg_run "SELECT * FROM hooks63")"
'

test_expect_success 'examples/webhooks/receive.sh: GitHub and Stripe deliveries, each sent three times, one row each' '
	need_npm && sqlite3 hooks.db <"$ETL_TOP/examples/webhooks/schema.sql" && mkdir secrets &&
	for s in github stripe; do
		secret $s secrets/$s.secret && PORT=$(free_port) || exit 1
		WEBHOOK_SECRETS=$T/secrets "$ETL_TOP/examples/webhooks/receive.sh" $s \
			"127.0.0.1:$PORT" "sqlite:///$T/hooks.db" 2>err.$s &
		job=$!
		wait_port "$PORT" &&
		deliver3 $s "{\"id\":\"evt_$s\",\"type\":\"ping\"}" >codes &&
		printf "202\n202\n202\n" >want && expect_file_eq want codes &&
		kill -TERM "$(pgrep -P $job etl-extract-ht)" && wait $job || exit 1
	done &&
	expect_eq "delivery-1|/|ping
evt_stripe|/|ping" "$(sqlite3 hooks.db "SELECT delivery, path, json_extract(body, \"\$.type\") FROM webhooks ORDER BY 1")"
'

for scheme in github stripe slack shopify standard; do
	test_expect_success "etl-load-http --sign $scheme: the library's verify takes every request, a wrong secret none" '
		need_npm && secret '"$scheme"' && printf "whsec_d3JvbmcgKioqKg==\n" >wrong || exit 1
		hooks receive portfile '"$scheme"' >verdicts 2>receive.err &
		receiver=$!
		wait_for . portfile && port=$(cat portfile) &&
		printf "{\"id\":%d,\"text\":\"caf\\u00e9\"}\n" 1 2 3 >in &&
		etl-load-http --sign '"$scheme"' --secret-file secret "http://127.0.0.1:$port/" in &&
		expect_status 65 etl-load-http --sign '"$scheme"' --secret-file wrong "http://127.0.0.1:$port/" \
			<<<"{\"id\":4}" 2>load.err &&
		{ kill -TERM $receiver; wait $receiver; } ;
		expect_eq "valid
valid
valid
invalid" "$(cut -d" " -f1 verdicts)"
	'
done

test_expect_success 'generic: etl-load-http --sign and etl-extract-http --verify agree on header, prefix, base64 and SHA-512' '
	printf "generic secret\n" >secret && printf "other\n" >wrong &&
	generic="--hmac-header X-Sig --signature-prefix hmac= --signature-encoding base64 --signature-digest sha512" &&
	start_server --verify generic --secret-file secret $generic --envelope &&
	printf "{\"id\":1}\n{\"id\":2}\n" | etl-load-http --sign generic --secret-file secret $generic "http://127.0.0.1:$PORT/" &&
	printf "{\"id\":3}\n" | etl-load-http --sign generic --secret-file secret --hmac-header X-Sig \
		--signature-prefix hmac= --signature-encoding base64 "http://127.0.0.1:$PORT/" --reject rej &&
	expect_grep "bad signature|malformed signature" rej &&
	stop_server && expect_lines 2 out &&
	jq -e ".headers[\"X-Sig\"] | test(\"^hmac=[A-Za-z0-9+/]{86}==$\")" out
'

test_expect_success 'usage: an unknown scheme, twilio without --public-url, a scheme etl-load-http does not sign' '
	printf "s\n" >secret &&
	expect_status 64 etl-extract-http --verify nope --secret-file secret :0 2>err &&
	expect_grep "^etl-extract-http: --verify: unknown scheme .nope. \(one of github, gitlab," err &&
	expect_status 64 etl-extract-http --verify twilio --secret-file secret :0 2>err &&
	expect_grep "twilio needs --public-url" err &&
	expect_status 64 etl-extract-http --verify stripe :0 2>err &&
	expect_grep "stripe needs --secret-file" err &&
	expect_status 64 etl-load-http --sign twilio --secret-file secret http://127.0.0.1:1/ </dev/null 2>err &&
	expect_grep "^etl-load-http: --sign: twilio: not a scheme this signs" err &&
	expect_status 64 etl-extract-http --verify generic --secret-file secret --signature-digest md5 :0 2>err &&
	expect_grep "sha1, sha256 or sha512, not .md5." err
'
