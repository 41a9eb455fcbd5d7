#!/usr/bin/env bash
# examples/scale/back.sh - one back pipeline of the scale recipe (etl(7),
# SCALING OUT): the orders of the replicated JetStream stream ORDERS, shared
# by every copy through the durable pull consumer "loaders", validated by
# order.so and loaded into one database node.  Run one copy per database
# node (or many into one PostgreSQL).
#
#   back.sh NATS_URLS DATABASE_URL [etl-extract-nats option]...
#
# A message is acknowledged only once its row is committed (--ack-fifo); one
# not acknowledged in time (a copy killed, a node down) goes to another copy,
# and the table's primary key, order_id, which is also the message id the
# front publishes with, turns that redelivery into a duplicate the loader
# skips (--ignore-duplicates): each order lands once.
# ORDER_SO names the transform (default /usr/local/lib/etl/order.so).
set -euo pipefail
if [ $# -lt 2 ]; then
	echo "usage: back.sh NATS_URLS DATABASE_URL [etl-extract-nats option]..." >&2
	exit 64
fi
nats=$1 db=$2
shift 2
so=${ORDER_SO:-/usr/local/lib/etl/order.so}
run=${RUNTIME_DIRECTORY:-$(mktemp -d "${TMPDIR:-/tmp}/etl-loader.XXXXXX")}
acks=$run/acks.$$
mkfifo -m 600 "$acks"
trap 'rm -f "$acks"' EXIT
# The loader opens the FIFO read-write (1<>): opening it write-only would
# wait for a reader for ever if the source had already exited.
etl-extract-nats --stream ORDERS --durable loaders --ack-fifo "$acks" "$@" \
	"$nats" 'orders.*' |
	etl-map "$so" |
	etl-load-sql --ignore-duplicates -T 200ms -t orders "$db" 1<>"$acks"
