#!/usr/bin/env bash
# etl-extract-http under wrk: 64 keep-alive connections posting a 150-byte
# order for 10 s, output to a file, in the same run as nginx answering 204
# (the ceiling for an HTTP receiver here) and a minimal Node.js server that
# writes each body to stdout (what a user writes by hand).
# Targets: at least 0.5x nginx's requests/s and 1.5x Node's, p99 under 5 ms,
# every 202 a line in the output, RSS at most 32 MB.
. "$(dirname "$0")/bench-lib.sh"
work=$(mktemp -d /tmp/etl-bench-http.XXXXXX)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT
seconds=${BENCH_SECONDS:-10}
body='{"order_id":123456,"customer_id":48213,"product_id":731,"quantity":3,"amount":8147.16,"shipping":12.5,"tax":651.77,"shipping_address":"12 Rue de la Paix"}'
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA

port() { local p=$((10000 + RANDOM % 20000)); while (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null; do p=$((p + 1)); done; echo $p; }
wait_up() { for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
# run_wrk PORT: "requests/s p99-ms non-2xx"
run_wrk() {
	wrk -t 2 -c "${conns:-64}" -d "${seconds}s" --latency -s "${script:-$work/post.lua}" "http://127.0.0.1:$1/" >"$work/wrk.out"
	awk '/Requests\/sec/ { rps = $2 } /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 } p99 = v }
		/Non-2xx/ { bad = $NF } /requests in/ { total = $1 } END { printf "%s %s %s %s\n", rps, p99, bad + 0, total }' "$work/wrk.out"
}

p=$(port)
etl-extract-http "127.0.0.1:$p" >"$work/etl.out" &
etl_pid=$!; pids="$pids $etl_pid"
wait_up "$p" || { echo "etl-extract-http did not start"; exit 1; }
read -r etl_rps etl_p99 etl_bad etl_total < <(run_wrk "$p")
etl_rss=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$etl_pid/status")
kill -TERM $etl_pid; wait $etl_pid 2>/dev/null
lines=$(wc -l <"$work/etl.out")

p=$(port)
mkdir -p "$work/nginx/logs"
cat >"$work/nginx.conf" <<NGINX
worker_processes 2; daemon off; pid $work/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $work/nginx;
  server { listen 127.0.0.1:$p; location / { client_body_buffer_size 16k; return 204; } } }
NGINX
nginx -c "$work/nginx.conf" -p "$work/nginx" 2>/dev/null & pids="$pids $!"
wait_up "$p" || { echo "nginx did not start"; exit 1; }
read -r nginx_rps nginx_p99 _ _ < <(run_wrk "$p")

p=$(port)
cat >"$work/server.js" <<'JS'
const http = require('http');
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => { process.stdout.write(Buffer.concat(chunks) + '\n'); res.writeHead(202); res.end(); });
}).listen(Number(process.argv[2]), '127.0.0.1');
JS
node "$work/server.js" "$p" >"$work/node.out" & pids="$pids $!"
wait_up "$p" || { echo "node did not start"; exit 1; }
read -r node_rps node_p99 _ _ < <(run_wrk "$p")

# The cost of --ack-fifo: the same pipeline into SQLite, with the 202 waiting
# for the loader's commit and without.  Commits are grouped: the loader
# commits when its input pauses with a checkpoint pending, so one commit
# answers every request written before it.
# run_pipeline ACK? : "requests/s p99-ms non-2xx total rows"
run_pipeline() {
	local p db=$work/pipe-$1.db out=/dev/null ack=() r
	p=$(port)
	rm -f "$db" "$work/acks"
	if [ "$1" = ack ]; then mkfifo "$work/acks"; out=$work/acks; ack=(--ack-fifo "$work/acks"); fi
	{ sh -c 'echo $$ >"$0"; exec "$@"' "$work/server.pid" etl-extract-http "${ack[@]}" "127.0.0.1:$p" |
		etl-load-sql --create -t orders "sqlite://$db" >"$out"; } 2>"$work/pipe.err" &
	local pipe=$!
	wait_up "$p" || { cat "$work/pipe.err"; echo "the pipeline did not start"; exit 1; }
	r=$(run_wrk "$p")
	kill -TERM "$(cat "$work/server.pid")"; wait $pipe 2>/dev/null
	echo "$r $(sqlite3 "$db" 'select count(*) from orders' 2>/dev/null || echo 0)"
}
read -r plain_rps plain_p99 plain_bad plain_total plain_rows < <(run_pipeline plain)
read -r ack_rps ack_p99 ack_bad ack_total ack_rows < <(run_pipeline ack)
# Each connection waits for a commit (and its fsync), so at 64 connections
# the acknowledged pipeline is bound by that round trip; with more clients
# each commit answers more requests.
read -r ack256_rps ack256_p99 _ _ _ < <(conns=256 run_pipeline ack)

# The cost of --verify: 1 KB JSON bodies signed as GitHub signs them
# (HMAC-SHA256 of the body, the same for every request), with the
# signature checked and without.  Target: at least 0.9x.
kb_body=$(printf '{"action":"opened","number":%d,"text":"%0990d"}' 1 0)
printf '%s' "webhook secret" >"$work/secret"
kb_sig=sha256=$(printf '%s' "$kb_body" | openssl dgst -sha256 -hmac "webhook secret" -r | cut -c1-64)
cat >"$work/post1k.lua" <<LUA
wrk.method = "POST"
wrk.body = '$kb_body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Hub-Signature-256"] = "$kb_sig"
LUA
# run_verify [OPTION]... : "requests/s p99-ms non-2xx total" of 1 KB bodies
run_verify() {
	local p r
	p=$(port)
	etl-extract-http "$@" "127.0.0.1:$p" >/dev/null &
	local pid=$!
	wait_up "$p" || { echo "etl-extract-http did not start"; exit 1; }
	r=$(script=$work/post1k.lua run_wrk "$p")
	kill -TERM $pid; wait $pid 2>/dev/null
	echo "$r"
}
read -r unsigned_rps _ unsigned_bad _ < <(run_verify)
read -r verified_rps verified_p99 verified_bad _ < <(run_verify --verify github --secret-file "$work/secret")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-44s %5sx  (etl %.0f req/s, nginx %.0f req/s)  p99 %s ms  peak RSS %s MB  target 0.5x, p99 < 5 ms, 32 MB\n' \
	"etl-extract-http vs nginx 204" "$(ratio "$etl_rps" "$nginx_rps")" "$etl_rps" "$nginx_rps" "$etl_p99" "$etl_rss"
printf '%-44s %5sx  (etl %.0f req/s, node %.0f req/s)  target 1.5x\n' \
	"etl-extract-http vs Node.js http" "$(ratio "$etl_rps" "$node_rps")" "$etl_rps" "$node_rps"
printf 'etl-extract-http: %s requests, %s non-2xx, %s lines written\n' "$etl_total" "$etl_bad" "$lines"
printf '%-44s %5sx  (%.0f req/s acknowledged, %.0f req/s not)  p99 %s ms vs %s ms  target: small\n' \
	"--ack-fifo into SQLite vs without" "$(ratio "$ack_rps" "$plain_rps")" "$ack_rps" "$plain_rps" "$ack_p99" "$plain_p99"
printf '%-44s %5sx  (%.0f req/s, p99 %s ms, with 256 connections)\n' \
	"--ack-fifo, 256 connections, vs without" "$(ratio "$ack256_rps" "$plain_rps")" "$ack256_rps" "$ack256_p99"
printf 'with --ack-fifo: %s requests, %s non-2xx, %s rows; without: %s requests, %s non-2xx, %s rows\n' \
	"$ack_total" "$ack_bad" "$ack_rows" "$plain_total" "$plain_bad" "$plain_rows"
printf '%-44s %5sx  (%.0f req/s verified, %.0f req/s not)  p99 %s ms, %s+%s non-2xx  target 0.9x\n' \
	"--verify github vs without, 1 KB bodies" "$(ratio "$verified_rps" "$unsigned_rps")" "$verified_rps" "$unsigned_rps" \
	"$verified_p99" "$verified_bad" "$unsigned_bad"
printf '%s\t%s\t%s\t%s\t%s\n' "etl-extract-http vs nginx" "$etl_rps" "$nginx_rps" "$(ratio "$etl_rps" "$nginx_rps")" "$etl_rss" >>"$results"
printf '%s\t%s\t%s\t%s\t%s\n' "etl-extract-http vs node" "$etl_rps" "$node_rps" "$(ratio "$etl_rps" "$node_rps")" "" >>"$results"
printf '%s\t%s\t%s\t%s\t%s\n' "--verify vs without (1 KB)" "$verified_rps" "$unsigned_rps" "$(ratio "$verified_rps" "$unsigned_rps")" "" >>"$results"
printf '%s\t%s\t%s\t%s\t%s\n' "--ack-fifo vs without" "$ack_rps" "$plain_rps" "$(ratio "$ack_rps" "$plain_rps")" "" >>"$results"
