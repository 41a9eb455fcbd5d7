#!/usr/bin/env bash
# etl-map with the order-total transform against the same work in jq, on
# 1M orders; outputs compared after normalising both through jq -c.
# Targets: -j1 at least 2x jq, -j2 at least 3.5x, peak RSS at -j1 16 MB.
. "$(dirname "$0")/bench-lib.sh"
file=$(bench_data 1000000)
so=$top/build/obj/bench/total.so
filter='{order_id, total: (.amount + .shipping + .tax), shipping_address}'
etl-map "$so" <"$file" | jq -c . >"$data/map.etl"
jq -c "$filter" <"$file" >"$data/map.jq"
if ! cmp -s "$data/map.etl" "$data/map.jq"; then
	echo "etl-map and jq disagree:"; diff "$data/map.etl" "$data/map.jq" | head -n 5
	exit 1
fi
peer=$(bench_time "jq -c '$filter' < $file")
j1=$(bench_time "etl-map $so < $file")
j2=$(bench_time "etl-map -j 2 $so < $file")
rss=$(bench_rss "etl-map $so < $file")
bench_report "etl-map -j1 vs jq (outputs equal)" "$j1" "$peer" "$rss" "2x, 16 MB"
bench_report "etl-map -j2 vs jq" "$j2" "$peer" "" "3.5x"
