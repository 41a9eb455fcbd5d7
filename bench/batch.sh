#!/usr/bin/env bash
# etl-batch -n 1000 against cat | wc -l on 1M orders, through pipes.
# Targets: at least 0.5x the throughput of cat, peak RSS at most 16 MB.
. "$(dirname "$0")/bench-lib.sh"
file=$(bench_data 1000000)
etl=$(bench_time "cat $file | etl-batch -n 1000 | wc -l")
peer=$(bench_time "cat $file | wc -l")
rss=$(bench_rss "etl-batch -n 1000 < $file")
bench_report "etl-batch -n 1000 vs cat|wc -l" "$etl" "$peer" "$rss" "0.5x, 16 MB"
