#!/bin/sh
# redact-server.sh - a record transform as an HTTP service: POST a JSON
# record (or an array, or NDJSON) and get back what redact.so made of it,
# the named fields removed, as a JSON array (NDJSON with
# Accept: application/x-ndjson).  A body that is not JSON is answered 400.
#
#   ./redact-server.sh [PORT [FIELD,...]]   (default 8001, "password,token")
#
# curl -d '{"user":"ann","password":"x"}' localhost:8001   ->  [{"user":"ann"}]
set -eu
port=${1:-8001}
fields=${2:-password,token}
here=$(dirname "$0")
so=${REDACT_SO:-$here/../../build/obj/examples/redact.so}
[ -f "$so" ] || so=/usr/local/lib/etl/redact.so

dir=$(mktemp -d "${TMPDIR:-/tmp}/redact-server.XXXXXX")
mkfifo "$dir/replies"
sh -c 'echo $$ >"$0/server.pid"; exec "$@"' "$dir" \
	etl-extract-http --reply-fifo "$dir/replies" ":$port" |
	etl-map --reject - "$so" "$fields" >"$dir/replies" &
pipeline=$!
trap 'kill -TERM "$(cat "$dir/server.pid")" 2>/dev/null' TERM INT
wait $pipeline || wait $pipeline || true
rm -rf "$dir"
