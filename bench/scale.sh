#!/usr/bin/env bash
# bench/scale.sh [N] - the scale recipe (examples/scale) on one machine: a
# 3-node JetStream cluster and a 3-node Galera cluster on loopback
# (tests/cluster.sh), N orders (default 200000) through the HTTP front, then
# drained by 1, 2 and 3 back pipelines, one per Galera node.
#
# For each run it prints rows/s and the CPU each stage and each server spent
# per record (user+system, from /usr/bin/time for the stages and from
# /proc/PID/stat for the servers, before and after), in microseconds, and
# the share of the machine's cores the run kept busy: where that reaches the
# core count, the machine, not the recipe, is the limit.
#
# Every process shares the same cores: the figures are indicative, and a
# machine busy with other work makes them more so.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$top/bin:$PATH
n=${1:-${BENCH_ROWS:-200000}}
so=$top/build/obj/examples/order.so
# Options for each etl-extract-nats (EXTRACT_OPTS): a larger window
# (--max-in-flight 5000 --batch 1000) means fewer fetches, acknowledgements
# and commits per record.
extract_opts=${EXTRACT_OPTS:---max-in-flight 1000}
ex=$top/examples/scale
hz=$(getconf CLK_TCK)
cores=$(nproc)
work=$(mktemp -d /tmp/etl-bench-scale.XXXXXX)
chmod 755 "$work"
trap '"$top/tests/cluster.sh" stop "$work/cl" >/dev/null 2>&1; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
[ -x "$so" ] && [ -x "$top/build/gen-orders" ] || { echo "bench/scale.sh: run make first" >&2; exit 1; }

echo "# bench/scale.sh: $n orders, $cores cores, $(date -u +%Y-%m-%dT%H:%MZ)"
"$top/tests/cluster.sh" start "$work/cl" >/dev/null
. "$work/cl/env"
nats=$ETL_CLUSTER_NATSURL
cd "$work"

# ticks PID... : user+system clock ticks of these processes so far
ticks() {
	local t=0 pid f
	for pid in "$@"; do
		f=$(cut -d' ' -f14,15 "/proc/$pid/stat")
		t=$((t + ${f% *} + ${f#* }))
	done
	echo "$t"
}
nats_pids=$(for i in 1 2 3; do echo "$(cat "cl/n$i/pid")"; done)
my_pids=$(for i in 1 2 3; do echo "$(cat "cl/g$i/pid")"; done)
# us WALL|TICKS... : microseconds per record
us_ticks() { awk -v t="$1" -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }'; }
us_secs() { awk -v s="$1" -v n="$n" 'BEGIN { printf "%.1f", s * 1e6 / n }'; }
# cpu FILE... : user+system seconds of /usr/bin/time -f "%U %S" outputs
cpu() { cat "$@" | awk '{ s += $1 + $2 } END { printf "%.2f", s }'; }

REPLICAS=3 bash "$ex/setup.sh" "$nats" $ETL_CLUSTER_MYSQL1 2>/dev/null
"$top/build/gen-orders" "$n" >orders
split -l 1000 orders chunk.

# The front: N orders over HTTP, two clients at once, 1000 a request.
port=$((20000 + RANDOM % 10000))
mkfifo facks fout
etl-extract-http --ack-fifo facks "127.0.0.1:$port/orders" >fout 2>/dev/null &
hpid=$!
etl-load-nats --stream ORDERS --msg-id order_id "$nats" orders.new <fout >facks 2>/dev/null &
npid=$!
for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
s0=$(ticks $nats_pids) h0=$(ticks $hpid) l0=$(ticks $npid)
start=$(date +%s.%N)
post() { for c in "$@"; do curl -s -o /dev/null -H "Content-Type: application/x-ndjson" --data-binary @"$c" "http://127.0.0.1:$port/orders"; done; }
set -- chunk.*
half=$(($# / 2))
post "${@:1:$half}" &
p=$!
post "${@:$((half + 1))}"
wait $p
end=$(date +%s.%N)
s1=$(ticks $nats_pids) h1=$(ticks $hpid) l1=$(ticks $npid)
kill -TERM $hpid
wait $hpid $npid || true
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
echo "front (HTTP -> etl-load-nats -> R3 stream): $(awk -v w="$wall" -v n="$n" 'BEGIN { printf "%d", n / w }') orders/s in $wall s"
echo "  us/record: etl-extract-http $(us_ticks $((h1 - h0)))  etl-load-nats $(us_ticks $((l1 - l0)))  nats-server x3 $(us_ticks $((s1 - s0)))"

for k in 1 2 3; do
	$ETL_CLUSTER_MYSQL1 -e "TRUNCATE orders"
	python3 "$top/tests/natsclient.py" req "$ETL_CLUSTER_NATSURL1" '$JS.API.CONSUMER.DELETE.ORDERS.loaders' >/dev/null
	rm -f ./*.cpu
	s0=$(ticks $nats_pids) m0=$(ticks $my_pids)
	start=$(date +%s.%N)
	for i in $(seq 1 "$k"); do
		u=ETL_CLUSTER_MYURL$i
		rm -f "acks$i"; mkfifo "acks$i"
		/usr/bin/time -f "%U %S" -o "x$i.cpu" etl-extract-nats -e --stream ORDERS --durable loaders --ack-fifo "acks$i" $extract_opts "$nats" 'orders.*' 2>/dev/null |
			/usr/bin/time -f "%U %S" -o "m$i.cpu" etl-map "$so" |
			/usr/bin/time -f "%U %S" -o "l$i.cpu" etl-load-sql --ignore-duplicates -T 200ms -t orders "${!u}" >"acks$i" &
	done
	wait
	end=$(date +%s.%N)
	s1=$(ticks $nats_pids) m1=$(ticks $my_pids)
	rows=$($ETL_CLUSTER_MYSQL2 -N -B -e "SELECT COUNT(*) FROM orders")
	wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
	total=$(awk -v a="$(cpu ./*.cpu)" -v s=$((s1 - s0 + m1 - m0)) -v hz="$hz" 'BEGIN { printf "%.2f", a + s / hz }')
	echo "back x$k (etl-extract-nats | etl-map order.so | etl-load-sql, one per Galera node): $(awk -v w="$wall" -v n="$rows" 'BEGIN { printf "%d", n / w }') rows/s ($rows rows in $wall s), cores busy $(awk -v c="$total" -v w="$wall" 'BEGIN { printf "%.2f", c / w }') of $cores"
	echo "  us/record: etl-extract-nats $(us_secs "$(cpu x*.cpu)")  etl-map $(us_secs "$(cpu m*.cpu)")  etl-load-sql $(us_secs "$(cpu l*.cpu)")  nats-server x3 $(us_ticks $((s1 - s0)))  mariadbd x3 $(us_ticks $((m1 - m0)))"
done
