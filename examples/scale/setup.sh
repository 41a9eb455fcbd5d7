#!/usr/bin/env bash
# examples/scale/setup.sh - once, before the first pipeline: the stream
# ORDERS (subjects orders.*, three replicas, message ids remembered for an
# hour) and the orders table.
#
#   setup.sh NATS_URLS SQL_CLIENT...     e.g. setup.sh "$NATS" mariadb -h db1 shop
#
# The table is created through the SQL client given (it reads orders.sql on
# standard input); on Galera one node is enough, the others replicate it.
set -euo pipefail
if [ $# -lt 2 ]; then
	echo "usage: setup.sh NATS_URLS SQL_CLIENT..." >&2
	exit 64
fi
nats=$1
shift
etl-load-nats --stream ORDERS --create --replicas "${REPLICAS:-3}" \
	--duplicate-window 1h "$nats" 'orders.{front}' </dev/null
"$@" <"$(dirname "$0")/orders.sql"
