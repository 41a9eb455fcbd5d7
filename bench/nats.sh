#!/usr/bin/env bash
# etl-extract-nats and etl-load-nats against the official Node.js client
# (npm package nats, installed under build/bench-node) doing the same in a
# few lines, on one throwaway nats-server, same input, same run:
#   core subscription -> stdout         target >= 2x Node
#   stdin -> core publish               target >= 2x Node
#   stdin -> JetStream publish, acked   target >= 1.5x Node (window 4096 both)
#
# The subscription is measured on the subscriber alone, not on whoever
# publishes: each round starts the subscriber, stops it (SIGSTOP) once it
# has subscribed, publishes the whole burst of N orders with etl-load-nats
# (the server queues them for the stopped client; N = 200000 is ~40 MB,
# under the server's 64 MB per-client limit) and lets it go (SIGCONT), so
# that nothing but the subscriber's own speed bounds its rate.  Both
# subscribers write to the same kind of pipe, read by a small line counter
# (compiled here) that takes the time of its first read and of the read
# that brought the last line: the rate is the lines after the first read
# over that time.  Lines that never arrive (a slow consumer's drops) are
# reported as lost and count for nothing.  Node writes each message's data
# and a newline to stdout, as a user would (and "subscribed" on stderr once
# its subscription has reached the server, as etl-extract-nats -v does, so
# that both are stopped only when subscribed).  The ratio is of the medians
# over BENCH_NATS_ROUNDS rounds (default 5), each round running both, in
# alternating order.
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
  await nc.flush(); console.error('subscribed');
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

# The line counter: LINES ELAPSED FIRST_READ_LINES, once WANT lines have
# arrived or nothing came for 3 s after the first byte (60 s before it).
cat >"$work/count.c" <<'C'
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
	static char b[1 << 18];
	long long want = atoll(argv[1]), lines = 0, first_lines = -1;
	double first = 0, last = 0;
	struct pollfd p = { 0, POLLIN, 0 };
	for (;;) {
		if (poll(&p, 1, first_lines < 0 ? 60000 : 3000) <= 0) break;
		ssize_t n = read(0, b, sizeof b);
		if (n <= 0) break;
		double t = now();
		for (char *q = b; (q = memchr(q, '\n', b + n - q)); q++) lines++;
		if (first_lines < 0) { first = t; first_lines = lines; }
		last = t;
		if (lines >= want) break;
	}
	printf("%lld %.6f %lld\n", lines, last - first, first_lines < 0 ? 0 : first_lines);
	return 0;
}
C
cc -O2 -o "$work/count" "$work/count.c" || exit 1
mkfifo "$work/fifo"

# sub_rate NAME COMMAND: one round of COMMAND (a subscriber that writes
# "subscribed" on stderr when it is) on a burst of n orders; prints the
# seconds n messages take at its rate and the messages lost.
sub_rate() {
	local name=$1 cmd=$2 cpid spid lines elapsed first lost
	"$work/count" "$n" <"$work/fifo" >"$work/count.$name" &
	cpid=$!
	bash -c "exec $cmd" >"$work/fifo" 2>"$work/err.$name" &
	spid=$!
	for _ in $(seq 1 300); do grep -q subscribed "$work/err.$name" && break; sleep 0.02; done
	kill -STOP $spid
	etl-load-nats "$url" bench.sub <"$orders"
	kill -CONT $spid
	wait $cpid
	kill -TERM $spid 2>/dev/null; wait $spid 2>/dev/null
	read -r lines elapsed first <"$work/count.$name"
	lost=$((n - lines))
	awk -v n="$n" -v l="$lines" -v e="$elapsed" -v f="$first" -v lost="$lost" \
	    'BEGIN { printf "%.3f %d\n", (l - f > 0 && e > 0 ? n * e / (l - f) : 0), lost }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rounds=${BENCH_NATS_ROUNDS:-5}
etl_cmd="etl-extract-nats -v --stats $url bench.sub"
node_cmd="node $work/sub.js $url bench.sub $n"
: >"$work/etl.times"; : >"$work/node.times"; etl_lost=0; node_lost=0
for r in $(seq 1 "$rounds"); do
	for who in $( ((r % 2)) && echo etl node || echo node etl); do
		cmd=$etl_cmd; [ $who = node ] && cmd=$node_cmd
		read -r secs lost < <(sub_rate $who "$cmd")
		echo "$secs" >>"$work/$who.times"
		[ "$who" = etl ] && etl_lost=$((etl_lost + lost)) || node_lost=$((node_lost + lost))
		[ "${BENCH_VERBOSE:-}" ] && echo "  round $r $who: $secs s per $n, lost $lost" >&2
	done
done
etl_sub=$(median <"$work/etl.times")
node_sub=$(median <"$work/node.times")
bench_report "etl-extract-nats vs Node nats (core sub)" "$etl_sub" "$node_sub" "" ">= 2x"
if [ $etl_lost -gt 0 ] || [ $node_lost -gt 0 ]; then
	echo "  messages lost over $rounds rounds: etl-extract-nats $etl_lost, Node $node_lost"
	grep -h '"dropped"' "$work/err.etl" | tail -n 1
fi

etl_pub=$(bench_time "etl-load-nats $url bench.pub <$orders")
node_pub=$(bench_time "node $work/pub.js $url bench.pub <$orders")
bench_report "etl-load-nats vs Node nats (core publish)" "$etl_pub" "$node_pub" "" ">= 2x"

: | etl-load-nats --stream BENCH --create "$url" bench.js
etl_js=$(bench_time "etl-load-nats --stream BENCH $url bench.js <$orders")
node_js=$(bench_time "node $work/pub.js $url bench.js js <$orders")
bench_report "etl-load-nats vs Node nats (JetStream, acked)" "$etl_js" "$node_js" "" ">= 1.5x"
