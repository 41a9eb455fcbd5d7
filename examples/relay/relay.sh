#!/usr/bin/env bash
# examples/relay/relay.sh - the webhook relay through NATS (etl(7)):
# requests into a NATS subject, the subject's messages out to another HTTP
# service; and its durable version, through a JetStream stream into
# PostgreSQL.
#
#   relay.sh front [NATS_URL] [[ADDRESS]:PORT[/PATH]]   webhook -> subject sink
#   relay.sh back [NATS_URL] [URL]                      subject sink (queue q) -> URL
#   relay.sh post [URL]                                 the walkthrough's test event
#   relay.sh setup NATS_URL SQL_CLIENT...               stream EVENTS, table events
#   relay.sh durable-front NATS_URL [[ADDRESS]:PORT[/PATH]] [option]...
#   relay.sh durable-back NATS_URL DATABASE_URL [etl-extract-nats option]...
#
# Defaults: NATS_URL nats://127.0.0.1:4222, the webhook :9000/events, the
# receiver http://localhost:9001/events.  The durable version's names come
# from the environment: STREAM (default EVENTS), SUBJECT (events), TABLE
# (events), DURABLE (relay); SQL_CLIENT is e.g. psql -v ON_ERROR_STOP=1 shop.
#
# front and back relay at most once: core NATS keeps nothing.  In the
# durable version a request is answered 202 only once its event is stored
# in the stream EVENTS (etl-load-nats passes the acknowledgement back to
# etl-extract-http through a FIFO), and a message is acknowledged only once
# its row is committed (--ack-fifo).  A back pipeline killed and restarted
# gets again what it had not acknowledged; the stream sequence, the table's
# primary key, turns that redelivery into a duplicate etl-load-sql skips
# (--ignore-duplicates): each event answered 202 is one row.
set -euo pipefail
usage() {
	sed -n '/^#   relay.sh/s/^#   /usage: /p' "$0" >&2
	exit 64
}
# fifo NAME : a private FIFO, removed at exit
fifo() {
	local run=${RUNTIME_DIRECTORY:-$(mktemp -d "${TMPDIR:-/tmp}/etl-relay.XXXXXX")}
	FIFO=$run/$1.$$
	mkfifo -m 600 "$FIFO"
	trap 'rm -f "$FIFO"' EXIT
}
stream=${STREAM:-EVENTS} subject=${SUBJECT:-events} table=${TABLE:-events}
durable=${DURABLE:-relay}
[ $# -ge 1 ] || usage
cmd=$1
shift
nats=${1:-nats://127.0.0.1:4222}
case $cmd in
front)
	etl-extract-http "${2:-:9000/events}" | etl-load-nats "$nats" sink
	;;
back)
	etl-extract-nats --queue q "$nats" sink | etl-load-http "${2:-http://localhost:9001/events}"
	;;
post)
	curl -sS -X POST -H "Content-Type: application/json" \
		-d '{"event_type": "test", "data": {"test": "test"}}' "${1:-http://localhost:9000/events}"
	;;
setup)
	[ $# -ge 2 ] || usage
	shift
	etl-load-nats --stream "$stream" --create "$nats" "$subject" </dev/null
	"$@" <<-SQL
	CREATE TABLE IF NOT EXISTS $table (
		seq bigint PRIMARY KEY,  -- the stream sequence: one row per message
		subject text NOT NULL,
		data jsonb NOT NULL
	);
	SQL
	;;
durable-front)
	[ $# -ge 1 ] || usage
	listen=${2:-:9000/events}
	shift $(($# < 2 ? $# : 2))
	fifo acks
	etl-extract-http --ack-fifo "$FIFO" "$@" "$listen" |
		etl-load-nats --stream "$stream" "$nats" "$subject" 1<>"$FIFO"
	;;
durable-back)
	[ $# -ge 2 ] || usage
	db=$2
	shift 2
	fifo acks
	etl-extract-nats --stream "$stream" --durable "$durable" --envelope --ack-fifo "$FIFO" "$@" \
		"$nats" "$subject" |
		etl-load-sql --ignore-duplicates --ignore-unknown -t "$table" "$db" 1<>"$FIFO"
	;;
*)
	usage
	;;
esac
