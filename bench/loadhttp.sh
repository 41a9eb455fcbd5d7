#!/usr/bin/env bash
# etl-load-http posting orders into nginx answering 204, at 64 requests in
# flight, against wrk posting the same 150-byte order on 64 connections to
# the same server (the ceiling of an HTTP client here).
# What each uses: wrk -t 2 -c 64 (2 threads, 64 connections); etl-load-http
# -c 64 (64 connections on its 2 sender threads, plus the thread that reads
# and checks the input).  wrk replays one prepared request for a fixed time;
# etl-load-http sends the whole file, start-up and reading included.
# Targets: at least 0.5x wrk's requests/s; peak RSS at most 32 MB.
# Both share the two cores with nginx, so the ratio follows the CPU each
# spends per request, which is also printed (user + system time over the
# requests made): unlike the rates, it hardly moves when other work shares
# the machine.
. "$(dirname "$0")/bench-lib.sh"
work=$(mktemp -d /tmp/etl-bench-loadhttp.XXXXXX)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT
n=${BENCH_REQUESTS:-200000}
seconds=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-5}
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

# Rounds of wrk then etl-load-http back to back, so both see the same
# moment of a busy machine; the median of the ratios.  On two cores shared
# with nginx (and other work) one round's ratio can be off by 2x either
# way, hence five rounds by default.
ratios="" etl_all="" wrk_all="" etl_cpu="" wrk_cpu=""
for _ in $(seq 1 "$rounds"); do
	/usr/bin/time -f "%U %S" -o "$work/wrk.time" \
		wrk -t 2 -c 64 -d "${seconds}s" -s "$work/post.lua" "http://127.0.0.1:$p/" >"$work/wrk.out"
	wrk_rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.out")
	wrk_n=$(awk '/requests in/ { print $1 }' "$work/wrk.out")
	wrk_cpu="$wrk_cpu $(awk -v n="$wrk_n" '{ u = $1; s = $2 } END { printf "%.1f", (u + s) * 1e6 / n }' "$work/wrk.time")"
	/usr/bin/time -f "%e %U %S" -o "$work/time" etl-load-http -c 64 "http://127.0.0.1:$p/" <"$file" >/dev/null ||
		{ echo "etl-load-http failed"; exit 1; }
	etl_rps=$(awk -v n="$n" '{ s = $1 } END { printf "%.0f", n / s }' "$work/time")
	etl_cpu="$etl_cpu $(awk -v n="$n" '{ u = $2; s = $3 } END { printf "%.1f", (u + s) * 1e6 / n }' "$work/time")"
	ratios="$ratios $(awk -v a="$etl_rps" -v b="$wrk_rps" 'BEGIN { printf "%.2f", a / b }')"
	etl_all="$etl_all $etl_rps" wrk_all="$wrk_all $(printf %.0f "$wrk_rps")"
done
median() { printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio=$(median "$ratios")
rss=$(bench_rss "etl-load-http -c 64 http://127.0.0.1:$p/ <$file")
printf '%-44s %5sx  (rounds:%s; etl req/s:%s; wrk req/s:%s)  peak RSS %s MB  target 0.5x, 32 MB\n' \
	"etl-load-http -c 64 vs wrk -t 2 -c 64 into nginx 204" "$ratio" "$ratios" "$etl_all" "$wrk_all" "$rss"
printf '%-44s etl %s us, wrk %s us (medians; rounds etl:%s; wrk:%s)\n' \
	"  CPU per request (user + system)" "$(median "$etl_cpu")" "$(median "$wrk_cpu")" "$etl_cpu" "$wrk_cpu"
printf '%s\t%s\t%s\t%s\t%s\n' "etl-load-http vs wrk" "$(median "$etl_all")" "$(median "$wrk_all")" "$ratio" "$rss" >>"$results"
