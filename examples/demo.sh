#!/usr/bin/env bash
# examples/demo.sh - the main job on the embedded default, end to end:
# start etl-extract-http on a free loopback port, post the sample orders with
# curl, pass them through order.so into a SQLite file with etl-load-sql,
# print the rows, and stop everything it started.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$top/bin:$PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/etl-demo.XXXXXX")
db=$work/shop.db
pids=""
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

port=18000
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done

echo "== etl-extract-http 127.0.0.1:$port | etl-map order.so | etl-load-sql sqlite:shop.db"
etl-extract-http "127.0.0.1:$port/orders" |
	etl-map "$top/build/obj/examples/order.so" --reject "$work/rejects.ndjson" |
	etl-load-sql --create -T 100ms -t orders "sqlite:$db" &
pids=$!
for _ in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
	sleep 0.05
done

echo "== posting the sample orders"
while IFS= read -r order; do
	case $order in *'"$etl"'*) continue ;; esac  # control lines are not for clients
	printf '  %s -> ' "$(printf '%s' "$order" | cut -c1-60)"
	curl -s -w ' (%{http_code})\n' -H 'Content-Type: application/json' \
		--data-binary "$order" "http://127.0.0.1:$port/orders"
done <"$top/examples/order.input.ndjson"

sleep 0.5
pkill -TERM -f "etl-extract-http 127.0.0.1:$port/orders" || true
wait
pids=""

echo "== rows in the orders table"
sqlite3 -header -column "$db" 'SELECT order_id, product_id, quantity, total, shipping_address FROM orders ORDER BY order_id'
echo "== rejected by order.so"
jq -c '{where, error}' "$work/rejects.ndjson"
