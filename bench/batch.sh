#!/usr/bin/env bash
# etl-batch -n 1000 against cat | wc -l on 1M orders, through pipes.
# Targets: at least 0.5x the throughput of cat, peak RSS at most 16 MB.
. "$(dirname "$0")/bench-lib.sh"
file=$(bench_data 1000000)
etl=$(bench_time "cat $file | etl-batch -n 1000 | wc -l")
peer=$(bench_time "cat $file | wc -l")
rss=$(bench_rss "etl-batch -n 1000 < $file")
bench_report "etl-batch -n 1000 vs cat|wc -l" "$etl" "$peer" "$rss" "0.5x, 16 MB"

# --by at high cardinality: 1M orders, 1M distinct order_ids, so a batch
# opens and closes for every record.  Finding a record's batch and the
# oldest one must not grow with the open batches: target within 1.5x of
# --validate, which parses the same records (a ratio of at least 0.67).
etl=$(bench_time "etl-batch --by order_id -n 100 < $file | wc -l")
peer=$(bench_time "etl-batch --validate -n 100 < $file | wc -l")
bench_report "etl-batch --by order_id (1M keys) vs --validate" "$etl" "$peer" "" "0.67x"
