#!/usr/bin/env bash
# etl-extract-http's TLS: only TLS 1.2 and 1.3, only forward-secret AEAD
# ciphers (checked per version with openssl s_client, then with sslscan),
# --tls-priority for another policy, and the certificate and key read
# again on SIGHUP: new connections get the new certificate while one
# opened before goes on with its own.
. "$(dirname "$0")/../lib.sh"

# make_cert NAME : NAME.pem and NAME.key, a self-signed certificate for
# localhost whose subject says NAME
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" \
		-days 1 -subj "/CN=$1" -addext "subjectAltName=DNS:localhost" 2>/dev/null
}
start_server() {  # [OPTION]... : sets $PORT and $SERVER; stderr in err
	PORT=$(free_port) || return 1
	etl-extract-http "$@" "127.0.0.1:$PORT" >out 2>err &
	SERVER=$!
	wait_port "$PORT" || { cat err; return 1; }
}
stop_server() {
	kill -TERM "$SERVER" 2>/dev/null
	wait "$SERVER"
}
# handshake VERSION [CIPHERS] : openssl s_client with one protocol version;
# prints "PROTOCOL CIPHER", or "refused"
handshake() {
	local out
	out=$(openssl s_client -connect "127.0.0.1:$PORT" "-$1" ${2:+-cipher "$2"} </dev/null 2>&1) &&
	echo "$out" | sed -n "s/^New, \(TLSv[0-9.]*\), Cipher is \(.*\)$/\1 \2/p" | grep . ||
	echo refused
}
# subject [CONNECT OPTION]... : the CN of the certificate a new connection gets
subject() {
	openssl s_client -connect "127.0.0.1:$PORT" "$@" </dev/null 2>/dev/null |
		openssl x509 -noout -subject | sed "s/^subject=CN *= *//"
}

test_expect_success 'TLS 1.0 and 1.1 are refused, even with every cipher allowed' '
	make_cert one && start_server --tls-cert one.pem --tls-key one.key &&
	expect_eq refused "$(handshake tls1 "DEFAULT@SECLEVEL=0")" "TLS 1.0" &&
	expect_eq refused "$(handshake tls1_1 "DEFAULT@SECLEVEL=0")" "TLS 1.1" &&
	stop_server
'

test_expect_success 'TLS 1.2 and 1.3 are accepted with ECDHE and an AEAD cipher; CBC and RSA key exchange are not' '
	make_cert one && start_server --tls-cert one.pem --tls-key one.key &&
	handshake tls1_2 >v12 && expect_grep "^TLSv1\.2 ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$" v12 &&
	handshake tls1_3 >v13 && expect_grep "^TLSv1\.3 TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$" v13 &&
	expect_eq refused "$(handshake tls1_2 "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:AES128-GCM-SHA256:DHE-RSA-AES128-SHA@SECLEVEL=0")" "TLS 1.2 without AEAD or ECDHE" &&
	expect_eq 202 "$(curl -s --cacert one.pem -o /dev/null -w "%{http_code}" -d "{\"tls\":1}" "https://localhost:$PORT/")" &&
	stop_server && expect_output out "{\"tls\":1}"
'

test_expect_success 'sslscan finds no SSL, TLS 1.0 or 1.1, and no cipher but AEAD' '
	command -v sslscan >/dev/null || { echo "sslscan is not installed"; exit 77; }
	make_cert one && start_server --tls-cert one.pem --tls-key one.key &&
	sslscan --no-colour "127.0.0.1:$PORT" >scan 2>&1 &&
	stop_server &&
	expect_grep "^SSLv2 +disabled" scan && expect_grep "^SSLv3 +disabled" scan &&
	expect_grep "^TLSv1\.0 +disabled" scan && expect_grep "^TLSv1\.1 +disabled" scan &&
	expect_grep "^TLSv1\.2 +enabled" scan && expect_grep "^TLSv1\.3 +enabled" scan &&
	grep -E "^(Preferred|Accepted) " scan >ciphers &&
	expect_grep "TLSv1\.2 " ciphers && expect_grep "TLSv1\.3 " ciphers &&
	expect_no_grep "(SSLv|TLSv1\.[01] )" ciphers &&
	awk "\$2 == \"TLSv1.2\" && \$5 !~ /^ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)\$/" ciphers >not_aead &&
	expect_eq "" "$(cat not_aead)" "TLS 1.2 ciphers without ECDHE or AEAD"
'

test_expect_success '--tls-priority sets another policy; one GnuTLS refuses is exit 64' '
	make_cert one && start_server --tls-cert one.pem --tls-key one.key --tls-priority "NORMAL:-VERS-ALL:+VERS-TLS1.3" &&
	expect_eq refused "$(handshake tls1_2)" "TLS 1.2" &&
	handshake tls1_3 >v13 && expect_grep "^TLSv1\.3 " v13 &&
	stop_server &&
	expect_status 64 etl-extract-http --tls-cert one.pem --tls-key one.key --tls-priority "NORMAL:+NO-SUCH-THING" 127.0.0.1:1 2>err &&
	expect_output err "etl-extract-http: --tls-priority: GnuTLS does not take '"'"'NORMAL:+NO-SUCH-THING'"'"' at +NO-SUCH-THING" &&
	expect_status 64 etl-extract-http --tls-priority NORMAL 127.0.0.1:1 2>err &&
	expect_grep "^etl-extract-http: --tls-priority needs --tls-cert and --tls-key$" err
'

test_expect_success 'missing, broken or mismatched keys are refused at start' '
	make_cert one && make_cert two &&
	expect_status 66 etl-extract-http --tls-cert nosuch.pem --tls-key one.key 127.0.0.1:1 2>err &&
	expect_output err "etl-extract-http: nosuch.pem: No such file or directory" &&
	printf "not a certificate\n" >bad.pem &&
	expect_status 78 etl-extract-http --tls-cert bad.pem --tls-key one.key 127.0.0.1:1 2>err &&
	expect_grep "^etl-extract-http: bad\.pem: " err &&
	expect_status 78 etl-extract-http --tls-cert one.pem --tls-key two.key 127.0.0.1:1 2>err &&
	expect_output err "etl-extract-http: two.key: the key does not belong to the certificate in one.pem" &&
	expect_status 64 etl-extract-http --tls-cert one.pem 127.0.0.1:1 2>err
'

# A client that keeps one TLS connection: a request, then (once the file
# "go" appears) another on the same connection; it prints each status and
# the subject of the certificate the connection got.
cat >"$TEST_ROOT/keepalive.py" <<'EOF'
import os, socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
def request(n):
    body = b'{"conn":%d}' % n
    s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    reply = b""
    while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
    return reply.split(b" ")[1].decode()
print(request(1), flush=True)
while not os.path.exists("go"):
    time.sleep(0.05)
print(request(2), flush=True)
der = s.getpeercert(binary_form=True)
open("peer.der", "wb").write(der)
EOF

test_expect_success 'SIGHUP: new connections get the new certificate, one opened before keeps working' '
	chmod 755 "$TEST_ROOT" "$T" &&  # the server reads the files again as nobody
	make_cert one && make_cert two && cp one.pem cert.pem && cp one.key key.pem &&
	chmod 644 cert.pem key.pem &&
	start_server -v --tls-cert cert.pem --tls-key key.pem &&
	expect_eq one "$(subject)" "the first certificate" &&
	{ python3 "$TEST_ROOT/keepalive.py" $PORT >kept & } &&
	wait_for "^202$" kept &&
	# As an ACME client renews: new files renamed over the old ones.
	cp two.pem cert.new && cp two.key key.new && chmod 644 cert.new key.new &&
	mv key.new key.pem && mv cert.new cert.pem &&
	kill -HUP $SERVER &&
	wait_for "SIGHUP: reloaded cert\.pem and key\.pem" err &&
	expect_eq two "$(subject)" "a new connection after SIGHUP" &&
	expect_eq two "$(subject -tls1_2)" "a new TLS 1.2 connection after SIGHUP" &&
	touch go && for _ in $(seq 1 200); do [ -s peer.der ] && break; sleep 0.05; done &&
	expect_eq "202 202" "$(tr "\n" " " <kept | sed "s/ $//")" "the connection opened before" &&
	expect_eq one "$(openssl x509 -inform der -in peer.der -noout -subject | sed "s/^subject=CN *= *//")" "its certificate" &&
	expect_eq 202 "$(curl -s --cacert two.pem -o /dev/null -w "%{http_code}" -d "{\"new\":1}" "https://localhost:$PORT/")" &&
	stop_server; expect_eq 0 $? "exit status" &&
	expect_output out "$(printf "{\"conn\":1}\n{\"conn\":2}\n{\"new\":1}")"
'

test_expect_success 'SIGHUP with files it cannot read or that do not match: an error, the old certificate stays' '
	chmod 755 "$TEST_ROOT" "$T" &&
	make_cert one && make_cert two && cp one.pem cert.pem && cp one.key key.pem &&
	chmod 644 cert.pem && chmod 600 key.pem &&
	start_server --tls-cert cert.pem --tls-key key.pem &&
	if [ "$(id -u)" -eq 0 ]; then
		kill -HUP $SERVER &&  # root'"'"'s key, and the server runs as nobody
		wait_for "SIGHUP: key\.pem: Permission denied; keeping the certificate in use" err || exit 1
	fi
	chmod 644 key.pem && cp two.pem cert.pem &&
	kill -HUP $SERVER &&
	wait_for "SIGHUP: key\.pem: the key does not belong to the certificate in cert\.pem; keeping the certificate in use" err &&
	expect_eq one "$(subject)" "the certificate after a bad reload" &&
	rm cert.pem && kill -HUP $SERVER &&
	wait_for "SIGHUP: cert\.pem: No such file or directory; keeping the certificate in use" err &&
	expect_eq one "$(subject)" "the certificate after a failed reload" &&
	expect_eq 202 "$(curl -s --cacert one.pem -o /dev/null -w "%{http_code}" -d "{}" "https://localhost:$PORT/")" &&
	stop_server; expect_eq 0 $? "exit status"
'

test_expect_success 'SIGHUP without TLS changes nothing' '
	start_server &&
	kill -HUP $SERVER && sleep 0.3 &&
	expect_eq 202 "$(curl -s -o /dev/null -w "%{http_code}" -d "{}" "http://127.0.0.1:$PORT/")" &&
	stop_server; expect_eq 0 $? "exit status" && expect_eq "" "$(cat err)" "stderr"
'
