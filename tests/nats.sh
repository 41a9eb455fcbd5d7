#!/usr/bin/env bash
# tests/nats.sh start|stop|restart [DIR]
#
# A throwaway nats-server for the tests, in DIR (default $ETL_TEST_NATS or
# /tmp/etl-test-nats): JetStream on, its store in DIR/js, listening on
# 127.0.0.1 on a free port below the kernel's ephemeral range.
#
# start writes DIR/env, a shell file exporting:
#   ETL_TEST_NATSURL    nats://127.0.0.1:PORT
#   ETL_TEST_NATS       DIR
# stop stops the server by its pid and removes DIR; restart stops it and
# starts it again on the same port and store (JetStream keeps its data).
set -eu
cmd=${1:-}
dir=${2:-${ETL_TEST_NATS:-/tmp/etl-test-nats}}
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac

die() { echo "tests/nats.sh: $*" >&2; exit 1; }
port_free() { ! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }

server_start() {
	local port
	port=$(cat "$dir/port")
	nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir/js" -l "$dir/log" \
		-P "$dir/pid" >/dev/null 2>&1 &
	for _ in $(seq 1 200); do
		alive && ! port_free "$port" && return 0
		sleep 0.05
	done
	cat "$dir/log" >&2 2>/dev/null
	die "nats-server did not start"
}

server_stop() {
	local pid
	alive || return 0
	pid=$(cat "$dir/pid")
	kill "$pid"
	for _ in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; return 0; }
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/pid"
}

case $cmd in
start)
	alive && { echo "$dir/env"; exit 0; }
	command -v nats-server >/dev/null || die "nats-server is not installed (tests/deps.sh)"
	mkdir -p "$dir/js"
	p=$((14222 + RANDOM % 8000))
	while ! port_free "$p"; do p=$((p + 1)); done
	echo "$p" >"$dir/port"
	server_start
	cat >"$dir/env" <<-ENV
	export ETL_TEST_NATS='$dir'
	export ETL_TEST_NATSURL='nats://127.0.0.1:$p'
	ENV
	echo "$dir/env"
	;;
stop)
	server_stop
	rm -rf "$dir"
	;;
restart)
	server_stop
	server_start
	;;
*)
	echo "usage: tests/nats.sh start|stop|restart [DIR]" >&2
	exit 64
	;;
esac
