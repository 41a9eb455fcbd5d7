#!/usr/bin/env bash
# examples/scale/front.sh - one front pipeline of the scale recipe (etl(7),
# SCALING OUT): webhook requests of orders into the replicated JetStream
# stream ORDERS.  Run any number of copies behind a load balancer.
#
#   front.sh NATS_URLS [ADDRESS]:PORT[/PATH] [etl-extract-http option]...
#
# A request is answered 202 only once each of its orders is stored in the
# stream (on a majority of its replicas): etl-load-nats passes the
# acknowledgement back to etl-extract-http through a FIFO.  Each message
# carries its order_id as its id, so an order sent twice within the
# stream's duplicate window (a client retrying after a lost answer) is
# stored once.
set -euo pipefail
if [ $# -lt 2 ]; then
	echo "usage: front.sh NATS_URLS [ADDRESS]:PORT[/PATH] [etl-extract-http option]..." >&2
	exit 64
fi
nats=$1 listen=$2
shift 2
run=${RUNTIME_DIRECTORY:-$(mktemp -d "${TMPDIR:-/tmp}/etl-front.XXXXXX")}
acks=$run/acks.$$
mkfifo -m 600 "$acks"
trap 'rm -f "$acks"' EXIT
etl-extract-http --ack-fifo "$acks" "$@" "$listen" |
	etl-load-nats --stream ORDERS --msg-id order_id "$nats" orders.new 1<>"$acks"
