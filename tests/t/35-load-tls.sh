#!/usr/bin/env bash
# A database connection that asks for TLS gets TLS, or none: MySQL's
# ssl-mode names (DISABLED, PREFERRED, REQUIRED, VERIFY_CA,
# VERIFY_IDENTITY) each connect or refuse (exit 69) as they say, against a
# MariaDB of this test's own with TLS on a throwaway certificate and the
# shared one without TLS; PostgreSQL's sslmode refuses the same way; unknown
# values are usage errors (exit 64).  And passwords stay off the command
# line: blanked in /proc/PID/cmdline, or read from ?password-file=.
. "$(dirname "$0")/../lib.sh"

# The TLS server (tests/dbs.sh start-my-tls): its certificate names only
# 127.0.0.1 and comes from $ETL_TEST_MYTLS_CERTS/ca.pem; user etl_tls may
# log in only over TLS, etl_x509 only with a client certificate.
tls_dir=$TEST_ROOT/my-tls
[ -n "${ETL_TEST_MYURL:-}" ] &&
	"$ETL_TOP/tests/dbs.sh" start-my-tls "$tls_dir" >"$TEST_ROOT/my-tls.log" 2>&1 &&
	. "$tls_dir/env"
trap '"$ETL_TOP/tests/dbs.sh" stop-my-tls "$tls_dir" >/dev/null 2>&1; rm -rf "$TEST_ROOT"' EXIT

need_tls() {
	need_my || return
	[ -n "${ETL_TEST_MYTLS_URL:-}" ] && return
	echo "the MariaDB with TLS did not start (tests/dbs.sh start-my-tls):"
	tail -n 20 "$TEST_ROOT/my-tls.log"
	return 1
}
tls_sql() { $ETL_TEST_MYTLS_MYSQL -N -B -e "$1"; }
plain_sql() { $ETL_TEST_MYSQL -N -B -e "$1"; }
as_user() { echo "${2/etl:/$1:}"; }  # USER URL : the URL with another user
url_encoded_password='etl%20pass%3A%2F%40'

# 20,000 rows of ~100 bytes: 2 MB, across many TLS records (16 KB each).
make_rows() {
	awk 'BEGIN { for (i = 1; i <= 20000; i++)
		printf "{\"id\":%d,\"note\":\"row %d %s\"}\n", i, i, sprintf("%080d", i) }' >rows
}
fresh_table() {  # SQL-RUNNER
	$1 "DROP TABLE IF EXISTS tls_rows; CREATE TABLE tls_rows (id INT PRIMARY KEY, note TEXT)"
}
# load_ok SQL-RUNNER URL : the rows load through URL, every one of them
load_ok() {
	fresh_table "$1" &&
	expect_status 0 etl-load-sql -t tls_rows "$2" rows 2>err &&
	expect_eq "20000 20000" "$($1 "SELECT count(*), max(id) FROM tls_rows" | tr '\t' ' ')" \
		"rows loaded through ${2##*/}"
}
# load_refused SQL-RUNNER URL PATTERN : exit 69 at once, a message matching
# PATTERN, and nothing loaded
load_refused() {
	fresh_table "$1" &&
	expect_status 69 etl-load-sql -t tls_rows "$2" rows 2>err &&
	cat err && expect_lines 1 err && expect_grep "$3" err &&
	expect_eq 0 "$($1 "SELECT count(*) FROM tls_rows")" "rows loaded"
}

test_expect_success 'TLS server: PREFERRED (the default), REQUIRED, VERIFY_CA and VERIFY_IDENTITY connect over TLS and load every row' '
	need_tls && make_rows && C=$ETL_TEST_MYTLS_CERTS &&
	url=$(as_user etl_tls "$ETL_TEST_MYTLS_URL") &&
	load_ok tls_sql "$url" &&
	load_ok tls_sql "$url?ssl-mode=PREFERRED" &&
	load_ok tls_sql "$url?ssl-mode=REQUIRED" &&
	load_ok tls_sql "$url?ssl-mode=VERIFY_CA&ssl-ca=$C/ca.pem" &&
	load_ok tls_sql "$url?ssl-mode=verify_identity&ssl-ca=$C/ca.pem" &&
	load_ok tls_sql "$url?ssl-mode=VERIFY_IDENTITY&ssl-capath=$C/capath"
'

test_expect_success 'TLS server: DISABLED talks plain text (a TLS-only user is refused, 69)' '
	need_tls && make_rows &&
	load_ok tls_sql "$ETL_TEST_MYTLS_URL?ssl-mode=DISABLED" &&
	load_refused tls_sql "$(as_user etl_tls "$ETL_TEST_MYTLS_URL")?ssl-mode=DISABLED" \
		"Access denied for user .etl_tls."
'

# Connections the shared server saw closed before authentication.
preauth_aborts() {
	plain_sql "SHOW GLOBAL STATUS LIKE 'Aborted_connects_preauth'" | cut -f2
}

test_expect_success 'server without TLS: REQUIRED, VERIFY_CA and VERIFY_IDENTITY refuse before the login with exit 69, saying TLS was required' '
	need_tls && make_rows && C=$ETL_TEST_MYTLS_CERTS &&
	for mode in REQUIRED "VERIFY_CA&ssl-ca=$C/ca.pem" "VERIFY_IDENTITY&ssl-ca=$C/ca.pem"; do
		before=$(preauth_aborts) &&
		load_refused plain_sql "$ETL_TEST_MYURL?ssl-mode=$mode" \
			"^etl-load-sql: mysql://etl:\*\*\*@127.0.0.1:[0-9]+/$ETL_TEST_DB\?ssl-mode=${mode%%&*}[^ ]*: TLS was required \(ssl-mode=${mode%%&*}\) and failed: .*SSL is required, but the server does not support it$" &&
		after=$(preauth_aborts) &&
		# (at least: a port probe of another run counts too)
		{ [ "$after" -gt "$before" ] ||
			{ echo "the server saw a login under ssl-mode=$mode"; false; }; } ||
		return 1
	done
'

test_expect_success 'server without TLS: DISABLED and PREFERRED load in plain text' '
	need_my && make_rows &&
	load_ok plain_sql "$ETL_TEST_MYURL?ssl-mode=DISABLED" &&
	load_ok plain_sql "$ETL_TEST_MYURL?ssl-mode=PREFERRED" &&
	load_ok plain_sql "$ETL_TEST_MYURL"
'

test_expect_success 'VERIFY_CA and VERIFY_IDENTITY refuse a certificate from another CA' '
	need_tls && make_rows && C=$ETL_TEST_MYTLS_CERTS &&
	load_refused tls_sql "$ETL_TEST_MYTLS_URL?ssl-mode=VERIFY_CA&ssl-ca=$C/other-ca.pem" \
		"TLS was required \(ssl-mode=VERIFY_CA\) and failed: .*certificate" &&
	load_refused tls_sql "$ETL_TEST_MYTLS_URL?ssl-mode=VERIFY_IDENTITY&ssl-ca=$C/other-ca.pem" \
		"TLS was required \(ssl-mode=VERIFY_IDENTITY\) and failed: .*certificate"
'

test_expect_success 'VERIFY_IDENTITY refuses a host name the certificate does not give; VERIFY_CA does not check it' '
	need_tls && make_rows && C=$ETL_TEST_MYTLS_CERTS &&
	# "localhost" over the server'\''s socket: the certificate names only 127.0.0.1
	url="mysql://etl_tls:$url_encoded_password@localhost/etl_test?socket=$ETL_TEST_MYTLS_SOCKET" &&
	load_refused tls_sql "$url&ssl-mode=VERIFY_IDENTITY&ssl-ca=$C/ca.pem" \
		"TLS was required \(ssl-mode=VERIFY_IDENTITY\) and failed: .*Validation of SSL server certificate failed" &&
	load_ok tls_sql "$url&ssl-mode=VERIFY_CA&ssl-ca=$C/ca.pem"
'

test_expect_success 'a client certificate (ssl-cert=, ssl-key=) logs in a user that requires one' '
	need_tls && make_rows && C=$ETL_TEST_MYTLS_CERTS &&
	url=$(as_user etl_x509 "$ETL_TEST_MYTLS_URL") &&
	load_refused tls_sql "$url?ssl-mode=REQUIRED" "Access denied for user .etl_x509." &&
	load_ok tls_sql "$url?ssl-mode=REQUIRED&ssl-cert=$C/client.pem&ssl-key=$C/client.key" &&
	load_ok tls_sql "$url?ssl-mode=VERIFY_IDENTITY&ssl-ca=$C/ca.pem&ssl-cert=$C/client.pem&ssl-key=$C/client.key"
'

# usage_error URL MESSAGE : exit 64 before connecting, and this message
usage_error() {
	echo "{\"id\":1}" | expect_status 64 etl-load-sql -t tls_rows "$1" 2>err &&
	cat err && expect_grep "^etl-load-sql: bad database URL: $2$" err
}

test_expect_success 'unknown and contradictory TLS parameters are usage errors (exit 64)' '
	u="mysql://etl:s3cret@127.0.0.1:1/d" &&
	usage_error "$u?ssl-mode=BOGUS" "ssl-mode: unknown value \"BOGUS\" \(expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY\)" &&
	usage_error "$u?sslmode=require" "unknown TLS parameter \"sslmode\" \(expected ssl-mode, ssl-ca, ssl-capath, ssl-cert or ssl-key\)" &&
	usage_error "$u?ssl-mode=VERIFY_CA" "ssl-mode=VERIFY_CA needs ssl-ca= \(or ssl-capath=\): the CA to verify the server.s certificate with" &&
	usage_error "$u?ssl-mode=REQUIRED&ssl-ca=/ca.pem" "ssl-ca= is used only by ssl-mode=VERIFY_CA or VERIFY_IDENTITY \(ssl-mode=REQUIRED verifies no certificate\)" &&
	usage_error "$u?ssl-mode=DISABLED&ssl-cert=/c.pem" "a client certificate \(ssl-cert=, ssl-key=\) needs TLS: not with ssl-mode=DISABLED" &&
	usage_error "postgresql://etl:s3cret@127.0.0.1:1/d?sslmode=bogus" "sslmode: unknown value \"bogus\" \(expected disable, allow, prefer, require, verify-ca or verify-full\)" &&
	expect_no_grep s3cret err
'

test_expect_success 'PostgreSQL: sslmode=require against a server without TLS exits 69, saying SSL was required' '
	need_pg &&
	pg_run "DROP TABLE IF EXISTS tls_rows; CREATE TABLE tls_rows (id INT)" &&
	echo "{\"id\":1}" | expect_status 69 etl-load-sql -t tls_rows "$ETL_TEST_PGURL?sslmode=require" 2>err &&
	cat err && expect_lines 1 err &&
	expect_grep "^etl-load-sql: postgresql://etl:\*\*\*@127.0.0.1:[0-9]+/$ETL_TEST_DB\?sslmode=require: .*server does not support SSL, but SSL was required" err &&
	expect_eq 0 "$(pg_run "SELECT count(*) FROM tls_rows")" "rows loaded"
'

# run_held URL : start etl-load-sql on a FIFO and return once it reads it
# (its options are parsed by then; it connects first, so allow a busy
# machine a minute); $pid is the loader, fd 3 its input.
run_held() {
	rm -f in && mkfifo in && exec 3<>in &&
	{ etl-load-sql -t held "$1" in 2>err 3>&- & } &&
	pid=$! &&
	for _ in $(seq 1 1200); do
		for fd in /proc/$pid/fd/*; do
			[ "$(readlink "$fd")" = "$T/in" ] && return 0
		done 2>/dev/null
		sleep 0.05
	done
	echo "etl-load-sql did not open its input:"; cat err
	return 1
}

test_expect_success 'a password written in the URL is blanked in /proc/PID/cmdline; the rows still load' '
	need_my && need_pg &&
	plain_sql "DROP TABLE IF EXISTS held; CREATE TABLE held (id INT)" &&
	run_held "$ETL_TEST_MYURL" &&
	tr "\0" "\n" <"/proc/$pid/cmdline" >cmdline &&
	echo "{\"id\":1}" >&3 && exec 3>&- && wait $pid &&
	cat cmdline &&
	expect_grep "^mysql://etl:x{19}@127.0.0.1:[0-9]+/$ETL_TEST_DB$" cmdline &&
	expect_no_grep "pass" cmdline &&
	expect_eq 1 "$(plain_sql "SELECT count(*) FROM held")" "rows loaded" &&
	# libpq also takes the password as a parameter
	pg_run "DROP TABLE IF EXISTS held; CREATE TABLE held (id INT)" &&
	run_held "postgresql://etl@127.0.0.1:$ETL_TEST_PG_PORT/$ETL_TEST_DB?password=$url_encoded_password" &&
	tr "\0" "\n" <"/proc/$pid/cmdline" >cmdline &&
	echo "{\"id\":2}" >&3 && exec 3>&- && wait $pid &&
	cat cmdline &&
	expect_grep "^postgresql://etl@127.0.0.1:[0-9]+/$ETL_TEST_DB\?password=x{19}$" cmdline &&
	expect_eq 2 "$(pg_run "SELECT sum(id) FROM held")" "rows loaded"
'

test_expect_success '?password-file= reads the password from a file, for MariaDB and PostgreSQL' '
	need_my && need_pg &&
	printf "%s\n" "etl pass:/@" >pw && chmod 600 pw &&
	plain_sql "DROP TABLE IF EXISTS pwfile; CREATE TABLE pwfile (id INT)" &&
	pg_run "DROP TABLE IF EXISTS pwfile; CREATE TABLE pwfile (id INT)" &&
	echo "{\"id\":1}" | etl-load-sql -t pwfile "mysql://etl@127.0.0.1:$ETL_TEST_MY_PORT/$ETL_TEST_DB?password-file=$T/pw" &&
	echo "{\"id\":2}" | etl-load-sql -t pwfile "postgresql://etl@127.0.0.1:$ETL_TEST_PG_PORT/$ETL_TEST_DB?password-file=$T/pw&sslmode=disable" &&
	expect_eq 1 "$(plain_sql "SELECT sum(id) FROM pwfile")" "MariaDB rows" &&
	expect_eq 2 "$(pg_run "SELECT sum(id) FROM pwfile")" "PostgreSQL rows" &&
	echo wrong >badpw &&
	echo "{\"id\":1}" | expect_status 69 etl-load-sql -t pwfile "mysql://etl@127.0.0.1:$ETL_TEST_MY_PORT/$ETL_TEST_DB?password-file=$T/badpw" 2>err &&
	expect_grep "Access denied for user .etl." err &&
	echo "{\"id\":1}" | expect_status 66 etl-load-sql -t pwfile "mysql://etl@127.0.0.1:$ETL_TEST_MY_PORT/$ETL_TEST_DB?password-file=$T/nope" 2>err &&
	expect_output err "etl-load-sql: $T/nope: No such file or directory" &&
	printf "a\nb\n" >twolines &&
	echo "{\"id\":1}" | expect_status 78 etl-load-sql -t pwfile "mysql://etl@127.0.0.1:$ETL_TEST_MY_PORT/$ETL_TEST_DB?password-file=$T/twolines" 2>err &&
	expect_output err "etl-load-sql: $T/twolines: a password file holds one line: the password" &&
	echo "{\"id\":1}" | expect_status 64 etl-load-sql -t pwfile "$ETL_TEST_MYURL?password-file=$T/pw" 2>err &&
	expect_grep "bad database URL: a password in the URL and a password-file=: give one" err
'
