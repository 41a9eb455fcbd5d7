#!/usr/bin/env bash
# The reply path under wrk: examples/aistore/md5-server.sh (etl-extract-http
# --reply-fifo -> etl-map md5.so -> back) against AIStore's walkthrough
# transform server (Python http.server, written out below as it is there)
# and a Node.js server computing the same digest, with 1 KB and 1 MB bodies,
# 64 keep-alive connections, in one run: BENCH_ROUNDS rounds (default 3)
# of BENCH_SECONDS (default 10) per contender and size, medians reported.
# Every response's body is checked against md5sum of the body sent.
# Targets: >= 5x server.py and >= 1.2x Node at 1 KB; >= 1x Node at 1 MB;
# p99 under 10 ms at 1 KB.
. "$(dirname "$0")/bench-lib.sh"
work=$(mktemp -d /tmp/etl-bench-reply.XXXXXX)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT
seconds=${BENCH_SECONDS:-10}

port() { local p=$((10000 + RANDOM % 20000)); while (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null; do p=$((p + 1)); done; echo $p; }
wait_up() { for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

head -c 1024 /dev/urandom >"$work/body-1k"
head -c $((1 << 20)) /dev/urandom >"$work/body-1m"
for size in 1k 1m; do
	cat >"$work/post-$size.lua" <<LUA
local f = io.open("$work/body-$size", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
want = "$(md5sum <"$work/body-$size" | cut -c1-32)"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0 end
function response(status, headers, body)
	if status == 200 and body == want then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
	local o, b = 0, 0
	for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad") end
	io.write(string.format("checked %d %d\n", o, b))
end
LUA
done

# run_wrk PORT SIZE: "requests/s p99-ms right wrong"
run_wrk() {
	wrk -t 2 -c 64 -d "${seconds}s" --latency -s "$work/post-$2.lua" "http://127.0.0.1:$1/" >"$work/wrk.out" 2>&1
	awk '/Requests\/sec/ { rps = $2 } /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 } p99 = v }
		/^checked/ { ok = $2; bad = $3 } END { printf "%s %s %s %s\n", rps, p99, ok + 0, bad + 0 }' "$work/wrk.out"
}

# AIStore's walkthrough server.py: hashlib.md5 of the body, text/plain.
cat >"$work/server.py" <<'PY'
import hashlib
import sys
from http.server import HTTPServer, BaseHTTPRequestHandler


class S(BaseHTTPRequestHandler):
    def _set_headers(self):
        self.send_response(200)
        self.send_header("Content-type", "text/plain")
        self.end_headers()

    def do_POST(self):
        content_length = int(self.headers["Content-Length"])
        post_data = self.rfile.read(content_length)
        md5 = hashlib.md5()
        md5.update(post_data)
        self._set_headers()
        self.wfile.write(md5.hexdigest().encode())

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), S).serve_forever()
PY
cat >"$work/server.js" <<'JS'
const http = require('http');
const crypto = require('crypto');
http.createServer((req, res) => {
  const md5 = crypto.createHash('md5');
  req.on('data', c => md5.update(c));
  req.on('end', () => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end(md5.digest('hex')); });
}).listen(Number(process.argv[2]), '127.0.0.1');
JS

# start NAME COMMAND...: run it on a free port, kept in ${NAME}_port.
start() {
	local name=$1 p
	shift
	p=$(port)
	"$@" "$p" >/dev/null 2>"$work/$name.err" &
	pids="$pids $!"
	eval "${name}_pid=\$! ${name}_port=$p"
	wait_up "$p" || { cat "$work/$name.err"; echo "$name did not start"; exit 1; }
}
start etl env MD5_SO="$top/build/obj/examples/md5.so" "$top/examples/aistore/md5-server.sh"
start py python3 "$work/server.py"
start node node "$work/server.js"

# Rounds: in each, every contender in turn at each size, the order turning
# round by round, so that the other work on a shared machine falls on all
# of them alike; each figure is the median of the rounds.
rounds=${BENCH_ROUNDS:-3}
names=(etl py node)
for r in $(seq 1 "$rounds"); do
	for s in 1k 1m; do
		for i in 0 1 2; do
			n=${names[$(((i + r) % 3))]}
			eval "p=\$${n}_port"
			run_wrk "$p" "$s" >>"$work/$n-$s.runs"
		done
	done
done
kill -TERM $etl_pid $py_pid $node_pid 2>/dev/null
wait $etl_pid $py_pid $node_pid 2>/dev/null

# median FILE COLUMN; total FILE COLUMN
median() { sort -g -k "$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }
total() { awk -v c="$2" '{ t += $c } END { print t + 0 }' "$1"; }
for n in etl py node; do
	for s in 1k 1m; do
		eval "${n}_${s}_rps=$(median "$work/$n-$s.runs" 1) ${n}_${s}_p99=$(median "$work/$n-$s.runs" 2)"
		eval "${n}_${s}_ok=$(total "$work/$n-$s.runs" 3) ${n}_${s}_bad=$(total "$work/$n-$s.runs" 4)"
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo "median of $rounds rounds of ${seconds}s each"
for s in 1k 1m; do
	eval "e=\$etl_${s}_rps ep=\$etl_${s}_p99 py=\$py_${s}_rps node=\$node_${s}_rps"
	printf '%-36s %6sx  (etl %.0f req/s, server.py %.0f req/s)\n' "md5 server vs server.py, $s" "$(ratio "$e" "$py")" "$e" "$py"
	printf '%-36s %6sx  (etl %.0f req/s, node %.0f req/s)  etl p99 %s ms\n' "md5 server vs Node.js, $s" "$(ratio "$e" "$node")" "$e" "$node" "$ep"
	printf '%s\t%s\t%s\t%s\t%s\n' "md5 server vs server.py $s" "$e" "$py" "$(ratio "$e" "$py")" "" >>"$results"
	printf '%s\t%s\t%s\t%s\t%s\n' "md5 server vs node $s" "$e" "$node" "$(ratio "$e" "$node")" "" >>"$results"
done
echo "targets: >= 5x server.py and >= 1.2x Node at 1k, >= 1x Node at 1m, p99 < 10 ms at 1k"
status=0
for n in etl py node; do
	for s in 1k 1m; do
		eval "ok=\$${n}_${s}_ok bad=\$${n}_${s}_bad"
		printf 'digests %s %s: %s right, %s wrong\n' "$n" "$s" "$ok" "$bad"
		[ "$bad" = 0 ] && [ "$ok" -gt 0 ] || status=1
	done
done
exit $status
