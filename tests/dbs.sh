#!/usr/bin/env bash
# tests/dbs.sh start|stop|env|restart-pg|restart-my [DIR]
# tests/dbs.sh start-my-tls|stop-my-tls DIR
#
# Throwaway PostgreSQL 15 and MariaDB servers for the tests, in DIR
# (default $ETL_TEST_DBS or /tmp/etl-test-dbs): each listens on 127.0.0.1
# on a free port and on a unix socket inside DIR, runs with durability off
# for speed, and has a database etl_test owned by user etl whose password
# ("etl pass:/@") needs percent-encoding in a URL.  TCP logins need the
# password, so wrong-password tests mean something.
#
# start writes DIR/env, a shell file exporting:
#   ETL_TEST_PGURL ETL_TEST_MYURL       URLs for etl-load-sql
#   ETL_TEST_PSQL ETL_TEST_MYSQL        admin client commands (no password)
#   ETL_TEST_PG_PORT ETL_TEST_PG_SOCKDIR ETL_TEST_MY_PORT ETL_TEST_MY_SOCKET
#   ETL_TEST_DBS                        DIR
#   ETL_TEST_LANES                      how many databases each server has
# Besides etl_test, each server has databases etl_test_2 to etl_test_N
# (N=$lanes), alike: tests/run gives each test file running beside others
# one of them.
# stop stops both servers by their pids and removes DIR.
#
# start-my-tls starts one more MariaDB in DIR, this one with TLS on a
# throwaway certificate: DIR/tls holds ca.pem (the CA that signed the
# server's certificate, whose only name is the address 127.0.0.1),
# capath/ (ca.pem in a hashed folder, for ssl-capath=), other-ca.pem (a CA
# that signed nothing here), and client.pem/client.key
# (a client certificate from ca.pem).  Besides etl, user etl_tls may log
# in only over TLS and etl_x509 only with a client certificate from ca.pem.
# It writes DIR/env exporting ETL_TEST_MYTLS_URL, ETL_TEST_MYTLS_PORT,
# ETL_TEST_MYTLS_SOCKET, ETL_TEST_MYTLS_CERTS (DIR/tls) and
# ETL_TEST_MYTLS_MYSQL.  stop-my-tls stops it and removes DIR.
#
# A test file that needs servers of its own (to restart them while other
# files use the shared ones) starts them with ETL_TEST_DBS_PRIVATE=1: one
# database each, on ports picked at random, away from the shared servers'.
set -eu
cmd=${1:-}
dir=${2:-${ETL_TEST_DBS:-/tmp/etl-test-dbs}}
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
pgbin=/usr/lib/postgresql/15/bin
password='etl pass:/@'
password_url='etl%20pass%3A%2F%40'
lanes=6
pg_port_from=25432
my_port_from=23306
if [ -n "${ETL_TEST_DBS_PRIVATE:-}" ]; then
	lanes=1
	pg_port_from=$((26000 + RANDOM % 6000))
	my_port_from=$((pg_port_from + 100))
fi

die() { echo "tests/dbs.sh: $*" >&2; exit 1; }

# Run as the postgres user when we are root (initdb refuses root).
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_free() { ! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Ports below the kernel's ephemeral range (32768 up): one in that range may
# be the local end of a client connection, and the server cannot bind it.
pick_port() {  # FROM: the first free port from FROM upward
	local p=$1
	while ! port_free "$p"; do p=$((p + 1)); done
	echo "$p"
}

alive() { [ -f "$1" ] && kill -0 "$(head -n 1 "$1")" 2>/dev/null; }

pg_start_server() {
	as_pg "$pgbin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w -t 60 \
		-o "-p $(cat "$dir/pg/port") -k $dir/pg -c listen_addresses=127.0.0.1" \
		start >/dev/null || { cat "$dir/pg/log" >&2; die "PostgreSQL did not start"; }
}

pg_init() {
	local port
	mkdir -p "$dir/pg"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir/pg" && chmod 755 "$dir"
	port=$(pick_port "$pg_port_from")
	echo "$port" >"$dir/pg/port"
	as_pg "$pgbin/initdb" -D "$dir/pg/data" -U postgres -A trust -E UTF8 \
		--locale=C.UTF-8 >"$dir/pg/initdb.log" 2>&1 ||
		{ cat "$dir/pg/initdb.log" >&2; die "initdb failed"; }
	cat >>"$dir/pg/data/postgresql.conf" <<-CONF
	fsync = off
	full_page_writes = off
	synchronous_commit = off
	max_connections = 100
	CONF
	# The unix socket trusts; TCP wants the password.
	cat >"$dir/pg/data/pg_hba.conf" <<-CONF
	local all all trust
	host all all 127.0.0.1/32 scram-sha-256
	CONF
	pg_start_server
	as_pg "$pgbin/psql" -h "$dir/pg" -p "$port" -U postgres -d postgres -qX \
		-v ON_ERROR_STOP=1 >/dev/null <<-SQL
	CREATE USER etl PASSWORD '$password';
	CREATE DATABASE etl_test OWNER etl;
	$(for l in $(seq 2 $lanes); do echo "CREATE DATABASE etl_test_$l OWNER etl;"; done)
	SQL
}

my_tls_args=()  # start-my-tls: the server's certificate

my_start_server() {
	local port pid
	port=$(cat "$dir/my/port")
	# A temporary folder of its own: servers of other runs on the machine
	# share /tmp, and a file removed there fails a statement here.
	mkdir -p "$dir/my/tmp"
	mariadbd --no-defaults --datadir="$dir/my/data" --socket="$dir/my/sock" \
		--tmpdir="$dir/my/tmp" \
		--port="$port" --bind-address=127.0.0.1 --user="$(id -un)" \
		${my_tls_args[@]+"${my_tls_args[@]}"} \
		--local-infile=1 --skip-log-bin --innodb-flush-log-at-trx-commit=0 \
		--innodb-buffer-pool-size=256M --max-allowed-packet=256M \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
		--pid-file="$dir/my/pid" --log-error="$dir/my/err.log" \
		>/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 600); do
		mariadb-admin --no-defaults --socket="$dir/my/sock" -uroot ping \
			>/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break  # it gave up (its port taken?)
		sleep 0.1
	done
	cat "$dir/my/err.log" >&2
	die "MariaDB did not start"
}

my_init() {
	mkdir -p "$dir/my"
	pick_port "$my_port_from" >"$dir/my/port"
	# A temporary folder of its own (below), the install's too: installs
	# running at once on the machine would remove each other's files in /tmp.
	mkdir -p "$dir/my/tmp"
	mariadb-install-db --no-defaults --auth-root-authentication-method=normal \
		--datadir="$dir/my/data" --tmpdir="$dir/my/tmp" --user="$(id -un)" >"$dir/my/install.log" 2>&1 ||
		{ cat "$dir/my/install.log" >&2; die "mariadb-install-db failed"; }
	my_start_server
	mariadb --no-defaults --socket="$dir/my/sock" -uroot <<-SQL
	CREATE DATABASE etl_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
	CREATE USER 'etl'@'%' IDENTIFIED BY '$password';
	CREATE USER 'etl'@'localhost' IDENTIFIED BY '$password';
	GRANT ALL ON etl_test.* TO 'etl'@'%';
	GRANT ALL ON etl_test.* TO 'etl'@'localhost';
	$(for l in $(seq 2 $lanes); do
		echo "CREATE DATABASE etl_test_$l CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
		echo "GRANT ALL ON etl_test_$l.* TO 'etl'@'%';"
		echo "GRANT ALL ON etl_test_$l.* TO 'etl'@'localhost';"
	done)
	SQL
}

# A CA, a server certificate for 127.0.0.1 only (no DNS name, and a common
# name that is no host's), a client certificate, and a second CA.
make_certs() {
	local t=$dir/tls
	mkdir -p "$t"
	(
		cd "$t"
		ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'
		for ca in ca other-ca; do
			openssl req -x509 $ec -days 3 -subj "/CN=etl test $ca" \
				-addext basicConstraints=critical,CA:TRUE \
				-addext keyUsage=keyCertSign,cRLSign \
				-keyout $ca.key -out $ca.pem
		done
		openssl req $ec -subj "/CN=etl test server" -keyout server.key -out server.csr
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 3 -extfile server.ext -out server.pem
		openssl req $ec -subj "/CN=etl_x509" -keyout client.key -out client.csr
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 3 -extfile client.ext -out client.pem
		mkdir capath && cp ca.pem capath/ && openssl rehash capath
	) >"$t/openssl.log" 2>&1 || { cat "$t/openssl.log" >&2; die "openssl failed"; }
}

my_tls_start() {
	command -v mariadbd >/dev/null && command -v openssl >/dev/null ||
		die "MariaDB and openssl are not installed (tests/deps.sh)"
	mkdir -p "$dir"
	make_certs
	my_tls_args=(--ssl-ca="$dir/tls/ca.pem" --ssl-cert="$dir/tls/server.pem"
		--ssl-key="$dir/tls/server.key")
	# Away from the shared servers' ports, which other runs probe upward
	# from 23306 at the same time.
	my_port_from=$((24000 + RANDOM % 8000))
	my_init
	# (and @localhost: the anonymous ''@localhost would take 127.0.0.1 first)
	mariadb --no-defaults --socket="$dir/my/sock" -uroot <<-SQL
	CREATE USER 'etl_tls'@'%' IDENTIFIED BY '$password' REQUIRE SSL;
	CREATE USER 'etl_tls'@'localhost' IDENTIFIED BY '$password' REQUIRE SSL;
	CREATE USER 'etl_x509'@'%' IDENTIFIED BY '$password' REQUIRE X509;
	CREATE USER 'etl_x509'@'localhost' IDENTIFIED BY '$password' REQUIRE X509;
	GRANT ALL ON etl_test.* TO 'etl_tls'@'%';
	GRANT ALL ON etl_test.* TO 'etl_tls'@'localhost';
	GRANT ALL ON etl_test.* TO 'etl_x509'@'%';
	GRANT ALL ON etl_test.* TO 'etl_x509'@'localhost';
	SQL
	cat >"$dir/env" <<-ENV
	export ETL_TEST_MYTLS_URL='mysql://etl:$password_url@127.0.0.1:$(cat "$dir/my/port")/etl_test'
	export ETL_TEST_MYTLS_PORT=$(cat "$dir/my/port") ETL_TEST_MYTLS_SOCKET='$dir/my/sock'
	export ETL_TEST_MYTLS_CERTS='$dir/tls'
	export ETL_TEST_MYTLS_MYSQL='mariadb --no-defaults --socket=$dir/my/sock -uroot etl_test'
	ENV
}

write_env() {
	local pgport myport
	pgport=$(cat "$dir/pg/port") myport=$(cat "$dir/my/port")
	cat >"$dir/env" <<-ENV
	export ETL_TEST_DBS='$dir'
	export ETL_TEST_PGURL='postgresql://etl:$password_url@127.0.0.1:$pgport/etl_test'
	export ETL_TEST_MYURL='mysql://etl:$password_url@127.0.0.1:$myport/etl_test'
	export ETL_TEST_PG_PORT=$pgport ETL_TEST_PG_SOCKDIR='$dir/pg'
	export ETL_TEST_MY_PORT=$myport ETL_TEST_MY_SOCKET='$dir/my/sock'
	export ETL_TEST_PSQL='psql -X -q -h $dir/pg -p $pgport -U etl -d etl_test'
	export ETL_TEST_MYSQL='mariadb --no-defaults --socket=$dir/my/sock -uroot etl_test'
	export ETL_TEST_LANES=$lanes
	ENV
}

pg_stop() {
	[ -d "$dir/pg/data" ] && alive "$dir/pg/data/postmaster.pid" &&
		as_pg "$pgbin/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null
	return 0
}

my_stop() {
	local pid
	alive "$dir/my/pid" || return 0
	pid=$(cat "$dir/my/pid")
	kill "$pid"
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

cd /  # the servers' users may not be able to enter the caller's folder
case $cmd in
start)
	if alive "$dir/pg/data/postmaster.pid" && alive "$dir/my/pid"; then
		echo "$dir/env"
		exit 0
	fi
	command -v mariadbd >/dev/null && [ -x "$pgbin/initdb" ] ||
		die "PostgreSQL 15 and MariaDB are not installed (tests/deps.sh)"
	mkdir -p "$dir"
	pg_init &
	pg_job=$!
	my_init
	wait $pg_job || die "PostgreSQL setup failed"
	write_env
	echo "$dir/env"
	;;
stop)
	pg_stop
	my_stop
	rm -rf "$dir"
	;;
env)
	echo "$dir/env"
	;;
restart-pg)
	pg_stop
	pg_start_server
	;;
restart-my)
	my_stop
	my_start_server
	;;
start-my-tls)
	[ -n "${2:-}" ] || die "start-my-tls needs a DIR"
	my_tls_start
	echo "$dir/env"
	;;
stop-my-tls)
	[ -n "${2:-}" ] || die "stop-my-tls needs a DIR"
	my_stop
	rm -rf "$dir"
	;;
*)
	echo "usage: tests/dbs.sh start|stop|env|restart-pg|restart-my [DIR]" >&2
	echo "       tests/dbs.sh start-my-tls|stop-my-tls DIR" >&2
	exit 64
	;;
esac
