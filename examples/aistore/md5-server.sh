#!/bin/sh
# md5-server.sh - the md5 transform as an HTTP service with the contract of
# AIStore's ETL walkthrough server (server.py, communication type hpush://):
# POST (or PUT) with any body answers 200, text/plain, the lowercase hex
# MD5 of the body's exact bytes.
#
#   ./md5-server.sh [PORT]            (default 8000)
#
# etl-extract-http keeps each body as one record ({"body":…}, base64 when it
# is not UTF-8), etl-map md5.so digests those exact bytes, and the server
# answers each request with the "md5" field of what came back through the
# FIFO.  MD5_SO names the transform (default: the build's, else the
# installed one); MAX_BODY bounds a body (default 64M); JOBS is etl-map -j.
set -eu
port=${1:-8000}
here=$(dirname "$0")
so=${MD5_SO:-$here/../../build/obj/examples/md5.so}
[ -f "$so" ] || so=/usr/local/lib/etl/md5.so
max_body=${MAX_BODY:-64M}
jobs=${JOBS:-$(nproc)}

dir=$(mktemp -d "${TMPDIR:-/tmp}/md5-server.XXXXXX")
mkfifo "$dir/replies"
# A JSON string of N bytes is at most 6N long (\u0000 for each NUL).
sh -c 'echo $$ >"$0/server.pid"; exec "$@"' "$dir" \
	etl-extract-http --raw-body --max-body "$max_body" --reply-fifo "$dir/replies" \
	--reply-field md5 --reply-type text/plain ":$port" |
	etl-map -j "$jobs" --max-line 1G "$so" body only >"$dir/replies" &
pipeline=$!
# TERM/INT stop the server, the pipeline's first process: it answers what
# it holds, and the rest of the pipeline then ends on its own.
trap 'kill -TERM "$(cat "$dir/server.pid")" 2>/dev/null' TERM INT
wait $pipeline || wait $pipeline || true
rm -rf "$dir"
