#!/usr/bin/env bash
# Confinement (lib/confine.h): etl-extract-http serves under its seccomp
# filter, and started as root it serves as nobody or the --user given,
# with its files, secrets, keys, FIFO and activated socket opened before.
# The scratch folders are root's alone (mode 700), so a server that still
# needed a path after dropping root would fail here.  That the filter
# refuses what it should (execve, files for writing, sockets, ptrace,
# fork) is shown by tests/unit/test-confine.c.  The clients (etl-load-http,
# etl-load-nats, etl-extract-nats, etl-extract-sql) are at the end.
. "$(dirname "$0")/../lib.sh"

# Sanitizer builds install no filter (the man page says so).
if [ -n "${ETL_SANITIZE:-}" ]; then want_seccomp=0; else want_seccomp=2; fi

# wait_served PORT [SCHEME] : up to 10 s for GET /healthz to be answered.
# The port accepts connections as soon as it is bound, before the server
# confines itself; it answers only after.
wait_served() {
	for _ in $(seq 1 200); do
		curl -sk -o /dev/null "${2:-http}://127.0.0.1:$1/healthz" && return 0
		sleep 0.05
	done
	echo "nothing answers on port $1"
	return 1
}
# start_server [OPTION]... : etl-extract-http on a free port, output in
# $T/out, stderr in $T/err; sets $PORT and $SERVER.
start_server() {
	for _ in 1 2 3; do
		PORT=$(free_port) || return 1
		"${RUN_AS[@]}" etl-extract-http "$@" "127.0.0.1:$PORT" >out 2>err &
		SERVER=$!
		for _ in $(seq 1 400); do
			(echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && { wait_served $PORT; return; }
			kill -0 $SERVER 2>/dev/null || break
			sleep 0.05
		done
		grep -q "cannot listen" err || break
	done
	echo "the server did not start:"; cat err
	return 1
}
RUN_AS=()
stop_server() {
	kill -TERM "$SERVER" 2>/dev/null
	wait "$SERVER"
}
# status_field PID NAME : a field of /proc/PID/status, tabs as spaces
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s "\t " "  " | sed "s/ *$//"
}
# expect_identity PID USER : runs as USER, with USER's groups
expect_identity() {
	local uid gid
	uid=$(id -u "$2") gid=$(id -g "$2")
	expect_eq "$uid $uid $uid $uid" "$(status_field "$1" Uid)" "Uid of $2" &&
	expect_eq "$gid $gid $gid $gid" "$(status_field "$1" Gid)" "Gid of $2" &&
	expect_eq "$(id -G "$2" | tr " " "\n" | sort -n | tr "\n" " " | sed "s/ $//")" \
		"$(status_field "$1" Groups | tr " " "\n" | sort -n | tr "\n" " " | sed "s/ $//")" "Groups of $2"
}
need_root() {
	[ "$(id -u)" -eq 0 ] || { echo "not root: dropping root cannot be tested"; exit 77; }
}
post() {  # BODY [CURL OPTION]... : prints the status code
	local body=$1; shift
	curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: application/json" \
		--data-binary "$body" "$@" "http://127.0.0.1:$PORT/"
}

test_expect_success 'the filter is on by default, with no new privileges' '
	start_server &&
	expect_eq "$want_seccomp" "$(status_field $SERVER Seccomp)" "Seccomp" &&
	expect_eq 1 "$(status_field $SERVER NoNewPrivs)" "NoNewPrivs" &&
	expect_eq 202 "$(post "{\"a\":1}")" &&
	printf "{\"gz\":1}" | gzip >body.gz &&
	expect_eq 202 "$(post @body.gz -H "Content-Encoding: gzip")" &&
	expect_eq 200 "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$PORT/healthz")" &&
	kill -USR1 $SERVER && wait_for "\"records_out\":2" err &&
	stop_server; expect_eq 0 $? "exit status" &&
	expect_output out "$(printf "{\"a\":1}\n{\"gz\":1}")"
'

test_expect_success '--no-seccomp: no filter' '
	start_server --no-seccomp &&
	expect_eq 0 "$(status_field $SERVER Seccomp)" "Seccomp" &&
	expect_eq 202 "$(post "{\"a\":1}")" &&
	stop_server
'

test_expect_success 'started as root, it serves as nobody' '
	need_root
	start_server -v &&
	expect_identity $SERVER nobody &&
	expect_eq 202 "$(post "{\"a\":1}")" &&
	expect_grep "^etl-extract-http: --user: running as nobody \\(uid $(id -u nobody), gid $(id -g nobody)\\)$" err &&
	stop_server && expect_output out "{\"a\":1}"
'

test_expect_success 'and as the --user given, with that user'"'"'s groups' '
	need_root
	start_server --user daemon &&
	expect_identity $SERVER daemon &&
	expect_eq "$want_seccomp" "$(status_field $SERVER Seccomp)" "Seccomp" &&
	expect_eq 202 "$(post "{\"a\":1}")" &&
	stop_server && expect_output out "{\"a\":1}" && expect_eq "" "$(cat err)" "stderr"
'

test_expect_success '--user root keeps root, with a warning; an unknown user is exit 78' '
	need_root
	start_server --user root &&
	expect_eq "0 0 0 0" "$(status_field $SERVER Uid)" "Uid" &&
	expect_eq "$want_seccomp" "$(status_field $SERVER Seccomp)" "Seccomp" &&
	expect_grep "^etl-extract-http: --user: root: keeping root; a compromise of this process is a compromise of the host$" err &&
	stop_server &&
	expect_status 78 etl-extract-http --user no-such-user-here 127.0.0.1:1 2>err &&
	expect_output err "etl-extract-http: --user: no user named '"'"'no-such-user-here'"'"'"
'

test_expect_success 'not started as root, it stays who it is; --user naming another is a warning' '
	need_root
	RUN_AS=(setpriv --reuid=daemon --regid=daemon --clear-groups) &&
	start_server &&
	expect_eq "1 1 1 1" "$(status_field $SERVER Uid)" "Uid" &&
	expect_eq "$want_seccomp" "$(status_field $SERVER Seccomp)" "Seccomp" &&
	expect_eq 202 "$(post "{\"a\":1}")" &&
	stop_server && expect_eq "" "$(cat err)" "stderr" &&
	start_server --user nobody &&
	expect_eq "1 1 1 1" "$(status_field $SERVER Uid)" "Uid" &&
	expect_grep "^etl-extract-http: --user: not started as root: running as uid 1, not as nobody$" err &&
	stop_server
'

test_expect_success 'as nobody: secret files, TLS keys and the --ack-fifo opened before, all of them root'"'"'s' '
	need_root
	umask 077 &&
	printf "s3cret-token\n" >token && printf "hmac key" >hmac &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost 2>/dev/null &&
	mkfifo acks && PORT=$(free_port) &&
	{ etl-extract-http --token-file token --hmac-secret-file hmac --tls-cert cert.pem --tls-key key.pem \
		--ack-fifo acks --ack-timeout 20s "127.0.0.1:$PORT" 2>err >stream & } &&
	SERVER=$! && wait_port $PORT && wait_served $PORT https &&
	expect_identity $SERVER nobody &&
	expect_eq "$want_seccomp" "$(status_field $SERVER Seccomp)" "Seccomp" &&
	for n in 1 2; do
		body="{\"n\":$n}" &&
		sig=sha256=$(printf "%s" "$body" | openssl dgst -sha256 -hmac "hmac key" | sed "s/^.* //") &&
		{ curl -s -o /dev/null -w "%{http_code}" --cacert cert.pem -H "Authorization: Bearer s3cret-token" \
			-H "X-Hub-Signature-256: $sig" -H "Content-Type: application/json" --data-binary "$body" \
			"https://localhost:$PORT/" >code.$n & } &&
		wait_for "\"ack\":$n" stream &&
		# Each acknowledgement comes from a new writer of the FIFO, as
		# from a restarted loader: the FIFO opened once serves them all.
		grep "\"ack\":$n" stream >acks &&
		for _ in $(seq 1 200); do [ -s code.$n ] && break; sleep 0.05; done &&
		expect_eq 202 "$(cat code.$n)" "request $n" || exit 1
	done &&
	expect_eq 401 "$(curl -s -o /dev/null -w "%{http_code}" --cacert cert.pem -d "{}" "https://localhost:$PORT/")" &&
	stop_server; expect_eq 0 $? "exit status" &&
	expect_eq 2 "$(grep -c "^{\"n\":" stream)" "records"
'

test_expect_success 'as nobody: a socket passed by systemd socket activation' '
	need_root
	PORT=$(free_port) || exit 1
	python3 -c "
import os, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"127.0.0.1\", int(sys.argv[1]))); s.listen(16)
os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
os.environ[\"LISTEN_FDS\"] = \"1\"; os.environ[\"LISTEN_PID\"] = str(os.getpid())
os.execvp(\"etl-extract-http\", [\"etl-extract-http\"])" "$PORT" >out 2>err &
	SERVER=$!
	wait_port "$PORT" && wait_served $PORT &&
	expect_identity $SERVER nobody &&
	expect_eq "$want_seccomp" "$(status_field $SERVER Seccomp)" "Seccomp" &&
	expect_eq 202 "$(post "{\"activated\":1}")" &&
	stop_server && expect_output out "{\"activated\":1}"
'

test_expect_success 'the example service unit is hardened: systemd-analyze security exposure 1.5 or lower' '
	command -v systemd-analyze >/dev/null || { echo "systemd-analyze is not installed"; exit 77; }
	mkdir units && cp "$ETL_TOP"/examples/systemd/etl-webhook.* units/ && cd units &&
	systemd-analyze security --offline=true --no-pager etl-webhook.service >report 2>&1;
	score=$(sed -n "s/^.*Overall exposure level for etl-webhook\.service: \([0-9.]*\) .*$/\1/p" report) &&
	echo "exposure $score" && test -n "$score" &&
	expect_eq 1 "$(awk -v s="$score" "BEGIN { print (s <= 1.5) }")" "exposure $score at most 1.5"
'

# The clients: etl-load-http, etl-load-nats and etl-extract-nats confine
# themselves the same way, with sockets of the Internet families and the
# name service's allowed (tests/unit/test-confine.c shows which others
# are refused).  Each runs here against a real server, reached by the name
# localhost, and keeps working under the filter through retries and a
# restarted server.
expect_confined() {  # PID PROGRAM
	expect_eq "$want_seccomp" "$(status_field "$1" Seccomp)" "Seccomp of $2" &&
	expect_eq 1 "$(status_field "$1" NoNewPrivs)" "NoNewPrivs of $2" &&
	if [ "$(id -u)" -eq 0 ]; then expect_identity "$1" nobody; fi
}

test_expect_success 'etl-load-http runs confined, as nobody when root, and retries 503s and 429s under the filter' '
	python3 "$ETL_TOP/tests/http-receiver.py" pattern port got 2>receiver.err &
	for _ in $(seq 1 200); do [ -s port ] && break; sleep 0.05; done
	RPORT=$(cat port) && mkfifo in || exit 1
	etl-load-http -c 16 "http://localhost:$RPORT/" in >acks 2>load.err &
	LOADER=$!
	exec 3>in && echo "{\"id\":0}" >&3 &&
	wait_for "\"id\": *0" got &&
	expect_confined $LOADER etl-load-http &&
	seq 1 2000 | sed "s/.*/{\"id\":&}/" >&3 && echo "{\"\$etl\":{\"upto\":2000}}" >&3 &&
	exec 3>&- &&
	expect_status 0 wait $LOADER &&
	expect_eq 2001 "$(grep -o "\"id\": *[0-9]*" got | sort -u | wc -l)" "records received" &&
	expect_output acks "{\"\$etl\":{\"upto\":2000}}" &&
	expect_grep "HTTP 503; retrying" load.err && expect_grep "HTTP 429; retrying" load.err
'

test_expect_success 'etl-load-nats and etl-extract-nats run confined, as nobody when root, and reconnect to a restarted nats-server' '
	command -v nats-server >/dev/null || { echo "no nats-server"; exit 77; }
	"$ETL_TOP/tests/nats.sh" start "$T/nats" >/dev/null || exit 1
	trap "\"\$ETL_TOP/tests/nats.sh\" stop \"\$T/nats\"; reap_jobs" EXIT
	. "$T/nats/env" && U=$(echo "$ETL_TEST_NATSURL" | sed "s/127\.0\.0\.1/localhost/") &&
	mkfifo in || exit 1
	etl-load-nats --stream C --create "$U" c.x in >/dev/null 2>load.err &
	LOADER=$!
	exec 3>in && echo "{\"n\":0}" >&3 &&
	for _ in $(seq 1 200); do
		python3 "$ETL_TOP/tests/natsclient.py" req "$ETL_TEST_NATSURL" "\$JS.API.STREAM.INFO.C" |
			grep -q "\"messages\":1," && break
		sleep 0.05
	done
	# Neither the extractor nor the restarted server may hold the FIFO open.
	etl-extract-nats --stream C --durable d "$U" c.x >out 2>extract.err 3>&- &
	EXTRACTOR=$!
	wait_for "\"n\":0" out &&
	expect_confined $LOADER etl-load-nats && expect_confined $EXTRACTOR etl-extract-nats &&
	"$ETL_TOP/tests/nats.sh" restart "$T/nats" >/dev/null 3>&- &&
	seq 1 2000 | sed "s/.*/{\"n\":&}/" >&3 && exec 3>&- &&
	expect_status 0 wait $LOADER &&
	for _ in $(seq 1 400); do [ "$(wc -l <out)" -ge 2001 ] && break; sleep 0.05; done &&
	kill -TERM $EXTRACTOR && expect_status 0 wait $EXTRACTOR &&
	expect_eq "$(seq 0 2000)" "$(sed "s/^{\"n\":\([0-9]*\)}$/\1/" out | sort -n | uniq)" "messages received" &&
	expect_eq 2001 "$(wc -l <out)" "lines" &&
	expect_grep "connection lost; reconnecting" extract.err
'

test_expect_success 'started as root, a file read after confinement that the user cannot read is exit 78, named at the start' '
	need_root
	mkdir -m 700 private && echo "not a certificate" >private/ca.pem && echo "{}" >private/in2 &&
	echo "{}" >in1 &&
	expect_status 78 etl-load-http --cacert "$T/private/ca.pem" https://localhost:1/ </dev/null 2>e1 &&
	expect_grep "^etl-load-http: --cacert: $T/private/ca.pem: cannot be read as nobody: Permission denied \\(it is read later: make it readable by that user, or see --user\\)$" e1 &&
	expect_status 78 etl-load-http http://localhost:1/ in1 "$T/private/in2" 2>e2 &&
	expect_grep "^etl-load-http: input: $T/private/in2: cannot be read as nobody: Permission denied" e2 &&
	expect_status 78 etl-load-nats nats://localhost:1 s in1 "$T/private/in2" 2>e3 &&
	expect_grep "^etl-load-nats: input: $T/private/in2: cannot be read as nobody: Permission denied" e3 &&
	expect_status 78 etl-extract-nats --creds "$T/private/ca.pem" nats://localhost:1 s 2>e4 &&
	expect_grep "^etl-extract-nats: --creds: $T/private/ca.pem: cannot be read as nobody" e4 &&
	expect_status 75 etl-load-http --user root --retry-for 1s --cacert "$T/private/ca.pem" https://localhost:1/ <in1 2>e5 &&
	expect_grep "keeping root" e5 && expect_grep "Couldn.t connect to server" e5 &&
	! grep "cannot be read" e5 &&
	expect_status 78 etl-extract-sql "postgresql://etl@127.0.0.1:1/x?sslmode=verify-full&sslrootcert=$T/private/ca.pem" "SELECT 1" 2>e6 &&
	expect_grep "^etl-extract-sql: sslrootcert: $T/private/ca.pem: cannot be read as nobody: Permission denied" e6 &&
	expect_status 78 etl-extract-sql --cursor a --resume "mysql://etl@127.0.0.1:1/x?ssl-mode=VERIFY_CA&ssl-ca=$T/private/ca.pem" \
		--job j "postgresql://etl@127.0.0.1:1/x" "SELECT 1 AS a" 2>e7 &&
	expect_grep "^etl-extract-sql: ssl-ca: $T/private/ca.pem: cannot be read as nobody: Permission denied" e7
'

# etl-extract-sql confines itself before it connects to a server, and
# reads an SQLite source up to its first row before (SQLite opens a WAL
# file's -wal and -shm, and a large sort's temporary files, as it starts).
# read_confined URL QUERY N [COMMAND] : N rows of QUERY (column g: 1 to N,
# in order; more than the 1 MiB a pipe may hold) through a FIFO; while it
# is blocked on the FIFO part-way it runs confined, COMMAND runs; then
# every row comes and it exits 0.  The
# SQLite files are in $T, root's alone: opened before root is dropped.
read_confined() {
	local pid confined status
	rm -f rows.fifo && mkfifo rows.fifo || return 1
	etl-extract-sql --cursor g "${extract_options[@]}" "$1" "$2" >rows.fifo 2>read.err &
	pid=$!
	exec 4<rows.fifo
	head -c 100000 <&4 >got
	expect_confined $pid etl-extract-sql && eval "${4:-:}"; confined=$?
	cat <&4 >>got; exec 4<&-
	wait $pid; status=$?
	[ $confined -eq 0 ] || { echo "(${1%%:*}: exit $status, $(wc -c <got) bytes out) $(cat read.err)"; return 1; }
	expect_eq 0 $status "exit status (${1%%:*}): $(cat read.err)" &&
	expect_eq "$3 0" "$(awk -F '[:,]' '!/^\{"\$etl"/ { if ($2 != ++n) bad++ } END { print n, bad + 0 }' got)" \
		"rows of ${1%%:*}, and rows out of order"
}
extract_options=()

test_expect_success 'etl-extract-sql runs confined, as nobody when root, and reads PostgreSQL and MariaDB, the --resume target too' '
	need_pg && need_my &&
	extract_options=(--resume "$ETL_TEST_PGURL" --job confined-extract) &&
	read_confined "$ETL_TEST_PGURL" "SELECT g, repeat(md5(g::text), 4) AS v FROM generate_series(1, 15000) g" 15000 &&
	read_confined "$ETL_TEST_MYURL" "SELECT seq AS g, REPEAT(MD5(seq), 4) AS v FROM seq_1_to_15000" 15000
'

test_expect_success 'etl-extract-sql reads SQLite confined: a WAL file beside a writer that commits meanwhile, at rest, and a sort it spilled' '
	mkfifo sql && { sqlite3 wal.db <sql >writer.out 2>&1 & } && exec 5>sql &&
	echo "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
		CREATE TABLE t (g INTEGER PRIMARY KEY, v TEXT);
		WITH RECURSIVE c(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM c WHERE g < 15000)
		INSERT INTO t SELECT g, printf('\''%0250d'\'', g) FROM c; SELECT '\''ready'\'';" >&5 &&
	wait_for ready writer.out &&
	# g + 0: no index orders it, so SQLite sorts 4 MB, in temporary files.
	read_confined "sqlite:$T/wal.db" "SELECT g + 0 AS g, v FROM t" 15000 \
		"echo \"INSERT INTO t VALUES (15001, 1); SELECT '\''written'\'';\" >&5 && wait_for written writer.out" &&
	test -s wal.db-wal && exec 5>&- && wait &&
	test ! -e wal.db-wal &&
	# At rest; with the bookmark of a --resume target on a server, read
	# before it confines itself.
	if [ -n "${ETL_TEST_PGURL:-}" ]; then extract_options=(--resume "$ETL_TEST_PGURL" --job confined-extract); fi &&
	read_confined "sqlite:$T/wal.db" "SELECT g, v FROM t" 15001
'

# A query that makes SQLite sort only after its first row (a correlated
# subquery, sorting 3 MB for each row) opens a temporary file confined.
refused_query="SELECT k AS g, (SELECT length(group_concat(x, '')) FROM (WITH RECURSIVE c(x) AS
	(SELECT k UNION ALL SELECT x + 1 FROM c WHERE x < k + 15000)
	SELECT printf('%0200d', x) AS x FROM c ORDER BY x DESC)) AS n FROM (SELECT 1 AS k UNION ALL SELECT 2)"

test_expect_success 'etl-extract-sql: a system call the filter refuses is exit 70, with the line naming it' '
	[ "$want_seccomp" = 2 ] || { echo "no system call filter under the sanitizers"; exit 77; }
	sqlite3 s.db "SELECT 1" &&
	expect_status 70 etl-extract-sql sqlite:s.db "$refused_query" >out 2>err &&
	expect_grep "^etl-extract-sql: seccomp: system call [0-9]+ refused \(scmp_sys_resolver [0-9]+ names it; --no-seccomp turns the filter off\)$" err &&
	expect_status 0 etl-extract-sql --no-seccomp sqlite:s.db "$refused_query" >out &&
	expect_output out "{\"g\":1,\"n\":3000200}
{\"g\":2,\"n\":3000200}"
'
