#!/usr/bin/env bash
# etl-load-http posting orders into nginx answering 204, at 64 requests in
# flight, against wrk posting the same 150-byte order on 64 connections to
# the same server (the ceiling of an HTTP client here).
# Targets: at least 0.5x wrk's requests/s; peak RSS at most 32 MB.
. "$(dirname "$0")/bench-lib.sh"
work=$(mktemp -d /tmp/etl-bench-loadhttp.XXXXXX)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT
n=${BENCH_REQUESTS:-200000}
seconds=${BENCH_SECONDS:-10}
file=$(bench_data "$n")
body=$(head -n 1 "$file")
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA

port() { local p=$((10000 + RANDOM % 20000)); while (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null; do p=$((p + 1)); done; echo $p; }
wait_up() { for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

p=$(port)
mkdir -p "$work/nginx/logs"
cat >"$work/nginx.conf" <<NGINX
worker_processes 2; daemon off; pid $work/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $work/nginx; keepalive_requests 1000000;
  server { listen 127.0.0.1:$p; location / { client_body_buffer_size 16k; return 204; } } }
NGINX
nginx -c "$work/nginx.conf" -p "$work/nginx" 2>/dev/null & pids="$pids $!"
wait_up "$p" || { echo "nginx did not start"; exit 1; }

wrk -t 2 -c 64 -d "${seconds}s" -s "$work/post.lua" "http://127.0.0.1:$p/" >"$work/wrk.out"
wrk_rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.out")

# etl-load-http: the median of three runs over N records, one request each.
etl_s=$(bench_time "etl-load-http -c 64 http://127.0.0.1:$p/ <$file")
etl_rps=$(awk -v n="$n" -v s="$etl_s" 'BEGIN { printf "%.0f", n / s }')
rss=$(bench_rss "etl-load-http -c 64 http://127.0.0.1:$p/ <$file")

ratio=$(awk -v a="$etl_rps" -v b="$wrk_rps" 'BEGIN { printf "%.2f", a / b }')
printf '%-44s %5sx  (etl %.0f req/s, wrk %.0f req/s)  peak RSS %s MB  target 0.5x, 32 MB\n' \
	"etl-load-http vs wrk into nginx 204" "$ratio" "$etl_rps" "$wrk_rps" "$rss"
printf '%s\t%s\t%s\t%s\t%s\n' "etl-load-http vs wrk" "$etl_rps" "$wrk_rps" "$ratio" "$rss" >>"$results"
