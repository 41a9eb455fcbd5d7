#!/usr/bin/env bash
# etl-batch on real pipes: the time trigger on a slow stream, the
# batch/unbatch identity on 100k records, signals, a closed output pipe,
# huge lines and --stats.
. "$(dirname "$0")/../lib.sh"

gen_records() {  # N: N varied records, some with escapes and UTF-8
	awk -v n="$1" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"id\":%d,\"name\":\"n\\\"%d\\\\\",\"city\":\"Z\303\274rich\",\"amount\":%d.%02d,\"tags\":[\"a\",{\"b\":%d}]}\n", i, i, i % 1000, i % 100, i % 7
	}'
}

test_expect_success 'batch then unbatch is the identity on 100k records' '
	gen_records 100000 >in &&
	etl-batch -n 1000 <in >batches &&
	expect_lines 100 batches &&
	etl-batch --unbatch <batches >out &&
	expect_file_eq in out
'

test_expect_success 'the identity holds for gzip input and uneven batch sizes' '
	gen_records 5000 | gzip >in.gz &&
	gzip -dc in.gz >in &&
	etl-batch -n 333 -b 10K in.gz | etl-batch --unbatch >out &&
	expect_file_eq in out
'

test_expect_success '-t flushes a partial batch on a slow stream' '
	mkfifo fifo || exit 1
	{ echo "{\"a\":1}"; echo "{\"a\":2}"; sleep 1; echo "{\"a\":3}"; sleep 1; } >fifo &
	etl-batch -n 100 -t 300ms <fifo >out &
	batcher=$! &&
	sleep 0.8 &&
	expect_output out "[{\"a\":1},{\"a\":2}]" &&
	wait $batcher &&
	expect_output out "$(printf "[{\"a\":1},{\"a\":2}]\n[{\"a\":3}]")"
'

test_expect_success 'without -t a slow stream is held until the batch fills or EOF' '
	mkfifo fifo || exit 1
	{ echo "{\"a\":1}"; sleep 1; echo "{\"a\":2}"; } >fifo &
	etl-batch -n 100 <fifo >out &
	batcher=$! &&
	sleep 0.5 &&
	expect_lines 0 out &&
	wait $batcher &&
	expect_output out "[{\"a\":1},{\"a\":2}]"
'

test_expect_success 'records pass through at once with -n 1 on a live stream' '
	mkfifo fifo || exit 1
	{ echo "{\"a\":1}"; sleep 1.5; echo "{\"a\":2}"; } >fifo &
	etl-batch -n 1 <fifo >out &
	batcher=$! &&
	sleep 0.7 &&
	expect_output out "[{\"a\":1}]" &&
	wait $batcher
'

test_expect_success 'SIGTERM flushes the open batch and exits 0' '
	mkfifo fifo || exit 1
	{ echo "{\"a\":1}"; echo "{\"a\":2}"; sleep 5; } >fifo &
	writer=$!
	etl-batch -n 100 <fifo >out 2>err &
	batcher=$! &&
	wait_ready $batcher &&
	# both records read (SIGUSR1 says so), then the stop
	for _ in $(seq 1 200); do
		kill -USR1 $batcher && sleep 0.05 && grep -q "\"records_in\":2," err && break
	done &&
	kill -TERM $batcher &&
	wait $batcher; status=$?
	kill $writer 2>/dev/null
	expect_eq 0 "$status" "exit status after SIGTERM" &&
	expect_output out "[{\"a\":1},{\"a\":2}]"
'

test_expect_success 'SIGUSR1 prints the stats line and the run goes on' '
	mkfifo fifo || exit 1
	{ echo "{\"a\":1}"; sleep 1; echo "{\"a\":2}"; } >fifo &
	etl-batch -n 100 <fifo >out 2>err &
	batcher=$! &&
	wait_ready $batcher &&
	for _ in $(seq 1 20); do
		kill -USR1 $batcher && sleep 0.05 && grep -q "\"records_in\":1," err && break
	done &&
	wait $batcher &&
	expect_grep "^\{\"program\":\"etl-batch\",\"records_in\":1,\"records_out\":0," err &&
	expect_output out "[{\"a\":1},{\"a\":2}]"
'

test_expect_success '--stats prints one JSON line at exit' '
	printf "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n" | etl-batch -n 2 --stats >out 2>err &&
	expect_lines 1 err &&
	jq -e ".records_in == 3 and .records_out == 3 and .batches == 2 and .rejected == 0 and (.seconds|type) == \"number\"" err
'

test_expect_success 'a closed output pipe is exit 74 with one clear message' '
	gen_records 200000 >in &&
	{ etl-batch -n 10 <in 2>err; echo $? >status; } | head -c 100 >/dev/null &&
	expect_eq 74 "$(cat status)" "exit status" &&
	expect_output err "etl-batch: stdout: write failed: Broken pipe"
'

test_expect_success 'a 100 MB line over the limit is refused in bounded memory' '
	{ echo "{\"a\":1}"; head -c 100000000 /dev/zero | tr "\0" x; echo; echo "{\"a\":2}"; } >big &&
	/usr/bin/time -f %M -o rss etl-batch --max-line 1M --reject rej <big >out &&
	expect_output out "[{\"a\":1},{\"a\":2}]" &&
	jq -e ".where == \"stdin:2\" and .error == \"line longer than --max-line\"" rej &&
	test "$(cat rss)" -lt 32000 || { echo "peak RSS $(cat rss) KB"; exit 1; }
'

test_expect_success 'a reject file that cannot be written is exit 74' '
	expect_status 74 etl-batch --reject /dev/full <<<"x" 2>err &&
	expect_output err "etl-batch: /dev/full: write failed: No space left on device"
'

test_expect_success '--help lists every option and exits 0; -V prints the version' '
	etl-batch --help >out &&
	for o in --count --bytes --time --by --unbatch --validate --max-line --reject --max-rejects --progress --help --version --quiet --verbose --stats; do
		expect_grep "$o" out || exit 1
	done &&
	etl-batch -V >out &&
	expect_grep "^etl-batch [0-9]+\.[0-9]+\.[0-9]+$" out
'

test_expect_success '--progress draws a meter on a terminal only' '
	gen_records 20000 >in &&
	etl-batch --progress in >/dev/null 2>err &&
	expect_lines 0 err &&
	script -qec "etl-batch --progress in >/dev/null" /dev/null >tty &&
	expect_grep "etl-batch: [0-9]+ records, [0-9.]+ MB, [0-9]+%" tty
'

test_expect_success 'SIGINT stops like SIGTERM: open batch written, exit 0' '
	mkfifo fifo || exit 1
	{ echo "{\"a\":1}"; sleep 5; } >fifo &
	writer=$!
	etl-batch -n 100 <fifo >out 2>err &
	batcher=$! &&
	wait_ready $batcher &&
	for _ in $(seq 1 200); do
		kill -USR1 $batcher && sleep 0.05 && grep -q "\"records_in\":1," err && break
	done &&
	kill -INT $batcher &&
	wait $batcher; status=$?
	kill $writer 2>/dev/null
	expect_eq 0 "$status" "exit status after SIGINT" &&
	expect_output out "[{\"a\":1}]"
'

# by_reference N < records : etl-batch -n N --by k computed another way:
# open batches in creation order, at most 4096 of them (a new value closes
# the oldest); a batch flushed at N records stays open, empty, in its place.
by_reference() {
	python3 -c '
import json, sys
n, limit, open_batches = int(sys.argv[1]), 4096, {}
def emit(lines):
    if lines:
        print("[" + ",".join(lines) + "]")
for line in sys.stdin:
    line = line.rstrip("\n")
    key = json.dumps(json.loads(line).get("k"), separators=(",", ":"))
    if key not in open_batches:
        if len(open_batches) == limit:
            emit(open_batches.pop(next(iter(open_batches))))
        open_batches[key] = []
    open_batches[key].append(line)
    if len(open_batches[key]) == n:
        emit(open_batches[key])
        open_batches[key] = []
for lines in open_batches.values():
    emit(lines)' "$1"
}

test_expect_success '--by at high cardinality: the same batches as a reference, past 4096 open values' '
	python3 -c "
import random
random.seed(14)
for i in range(200000):
    r = random.random()
    k = \"null\" if r < 0.01 else str(random.randrange(9000)) if r < 0.7 else \"\\\"s%d\\\"\" % random.randrange(3000)
    print(\"{\\\"i\\\":%d,\\\"k\\\":%s}\" % (i, k) if k != \"null\" or i % 2 else \"{\\\"i\\\":%d}\" % i)
" >in &&
	etl-batch -n 3 --by k <in >out &&
	by_reference 3 <in >want &&
	expect_file_eq want out &&
	expect_eq 200000 "$(jq -c ".[]" out | wc -l)" "records out"
'

test_expect_success '--by with a million distinct values: every record its own batch, in order' '
	n=1000000; [ -n "${ETL_SANITIZE:-}" ] && n=100000  # smaller under the sanitizers
	"$ETL_TOP/build/gen-orders" $n >in &&
	etl-batch -n 100 --by order_id <in >out &&
	jq -c "[.]" in >want &&
	expect_file_eq want out
'
