# tests/http-server.sh - start and stop etl-extract-http in a test body
# (sourced by the tests/t/*.sh scripts that need a server, after lib.sh).

# start_server [OPTION]... : etl-extract-http on a free port of 127.0.0.1
# (or of $SERVER_HOST, such as [::1]), output in $T/out, stderr in $T/err;
# sets $PORT and $SERVER.
start_server() {
	local host=${SERVER_HOST:-127.0.0.1} addr
	addr=${host#[} addr=${addr%]}
	for _ in 1 2 3; do
		PORT=$(free_port) || return 1
		etl-extract-http "$@" "$host:$PORT${SERVER_PATH:-}" >out 2>err &
		SERVER=$!
		for _ in $(seq 1 400); do
			(echo >"/dev/tcp/$addr/$PORT") 2>/dev/null && return 0
			kill -0 $SERVER 2>/dev/null || break
			sleep 0.05
		done
		# Another process took the port between free_port and bind: again.
		grep -q "cannot listen" err || break
	done
	echo "the server did not start:"; cat err
	return 1
}

stop_server() {
	kill -TERM "$SERVER" 2>/dev/null
	wait "$SERVER"
}
