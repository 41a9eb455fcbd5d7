#!/usr/bin/env bash
# etl-extract-nats and etl-load-nats against the official Node.js client
# (npm package nats, installed under build/bench-node) doing the same in a
# few lines, on one throwaway nats-server, same input, same run:
#   core subscription -> stdout         target >= 2x Node
#   stdin -> core publish               target >= 2x Node
#   stdin -> JetStream publish, acked   target >= 1.5x Node (window 4096 both)
. "$(dirname "$0")/bench-lib.sh"
n=${BENCH_NATS_N:-200000}
node_dir=$top/build/bench-node
[ -d "$node_dir/node_modules/nats" ] || npm install --silent --prefix "$node_dir" nats@2 >/dev/null ||
	{ echo "cannot install the Node.js nats client"; exit 1; }
work=$(mktemp -d /tmp/etl-bench-nats.XXXXXX)
trap '"$top/tests/nats.sh" stop "$work/nats" >/dev/null 2>&1; rm -rf "$work"' EXIT
"$top/tests/nats.sh" start "$work/nats" >/dev/null || exit 1
. "$work/nats/env"
url=$ETL_TEST_NATSURL
orders=$(bench_data "$n")
export NODE_PATH=$node_dir/node_modules

cat >"$work/sub.js" <<'JS'
const { connect } = require('nats');
(async () => {
  const nc = await connect({ servers: process.argv[2] });
  const sub = nc.subscribe(process.argv[3]);
  let n = 0; const want = Number(process.argv[4]);
  for await (const m of sub) { process.stdout.write(m.data); process.stdout.write('\n'); if (++n === want) break; }
  await nc.close();
})();
JS
cat >"$work/pub.js" <<'JS'
const { connect } = require('nats');
const readline = require('readline');
(async () => {
  const nc = await connect({ servers: process.argv[2] });
  const js = process.argv[4] ? nc.jetstream() : null;
  let pending = [];
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (!js) { nc.publish(process.argv[3], line); continue; }
    pending.push(js.publish(process.argv[3], line));
    if (pending.length >= 4096) { await Promise.all(pending); pending = []; }
  }
  await Promise.all(pending);
  await nc.flush();
  await nc.close();
})();
JS

# sub_time COMMAND: seconds from the start of publishing until COMMAND has written n lines.
sub_time() {
	local start end
	bash -c "$1" >"$work/sub.out" 2>/dev/null &
	local pid=$!
	sleep 1
	start=$(date +%s.%N)
	etl-load-nats "$url" bench.sub <"$orders"
	while [ "$(wc -l <"$work/sub.out")" -lt "$n" ] && kill -0 $pid 2>/dev/null; do sleep 0.01; done
	end=$(date +%s.%N)
	kill $pid 2>/dev/null; wait $pid 2>/dev/null
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}
etl_sub=$(sub_time "exec etl-extract-nats $url bench.sub")
node_sub=$(sub_time "exec node $work/sub.js $url bench.sub $n")
bench_report "etl-extract-nats vs Node nats (core sub)" "$etl_sub" "$node_sub" "" ">= 2x"

etl_pub=$(bench_time "etl-load-nats $url bench.pub <$orders")
node_pub=$(bench_time "node $work/pub.js $url bench.pub <$orders")
bench_report "etl-load-nats vs Node nats (core publish)" "$etl_pub" "$node_pub" "" ">= 2x"

: | etl-load-nats --stream BENCH --create "$url" bench.js
etl_js=$(bench_time "etl-load-nats --stream BENCH $url bench.js <$orders")
node_js=$(bench_time "node $work/pub.js $url bench.js js <$orders")
bench_report "etl-load-nats vs Node nats (JetStream, acked)" "$etl_js" "$node_js" "" ">= 1.5x"
