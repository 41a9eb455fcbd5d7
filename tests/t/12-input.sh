#!/usr/bin/env bash
# Input at every size: every program that reads records (etl-batch, etl-map,
# etl-load-sql into SQLite) on plain and concatenated files, from file
# arguments, standard input and pipes written in uneven pieces, at sizes
# around every buffer and chunk edge (the reader's 64 KiB compressed and
# 256 KiB plain reads, the 64 KiB pipe and writer buffers, the 1 MiB widened
# pipe), compared value for value with zcat and jq; CSV with quoted
# newlines at the read edges, compared with Python's csv; lines at, below
# and above --max-line; the byte-order mark; each limit at its edge.  Gzip
# at every size is tests/t/14-input-gzip.sh, 200 MB and 2 GB
# tests/t/15-input-large.sh.
. "$(dirname "$0")/../lib.sh"
. "$ETL_TOP/tests/input.sh"

test_expect_success 'plain input of every size, every program, every way in' '
	for n in $sizes; do
		inputgen sized "$n" >in && every_way in "plain, $n bytes" || exit 1
	done &&
	inputgen sized 262144 --no-final-lf >in &&
	every_way in "plain, 262144 bytes without a final LF"
'

test_expect_success 'several files in one run: plain, gzip, multi-member, empty, no final LF' '
	inputgen sized 1048577 --seed 1 >a &&
	inputgen sized 300000 --seed 2 | gzip >b.gz &&
	{ inputgen sized 70000 --seed 3 | gzip; inputgen sized 70000 --seed 4 | gzip; } >c.gz &&
	: >empty &&
	inputgen sized 65536 --seed 5 --no-final-lf >d &&
	want a b.gz empty c.gz d &&
	etl-batch -n 1000 a b.gz empty c.gz d >out && same_batches out "etl-batch FILES" &&
	new_db && load a b.gz empty c.gz d && same_rows "etl-load-sql FILES" &&
	zcat -f a b.gz c.gz d >all && want all &&
	cat b.gz c.gz | zcat >bc && cat b.gz c.gz | etl-map "$TOTAL" >out &&
	want bc && same_map out "cat b.gz c.gz | etl-map"
'

test_expect_success 'a slow producer: records one by one, and gzip one byte at a time' '
	inputgen sized 20000 >in &&
	want in &&
	while IFS= read -r line; do printf "%s\n" "$line"; sleep 0.01; done <in | etl-batch -n 3 >out &&
	same_batches out "a line every 10 ms" &&
	inputgen sized 4000 >small && want small &&
	gzip <small | inputgen pieces --max 1 --pause-every 1 --pause-ms 1 | etl-map "$TOTAL" >out &&
	same_map out "gzip a byte a millisecond" &&
	new_db && gzip <small | inputgen pieces --max 3 --pause-every 1 --pause-ms 1 | load -T 50ms &&
	same_rows "gzip 1-3 bytes a millisecond"
'

# --max-line at L for each program: lines of L-1 and L bytes pass, L with a
# CR passes, L+1 is rejected; plain and gzip; L small and L past 256 KiB.
test_expect_success 'lines at, below and above --max-line, each program' '
	for L in 1000 300000; do
		{ inputgen line $((L - 1)) --id 1; echo; inputgen line "$L" --id 2; echo;
		  inputgen line "$L" --id 3; printf "\r\n"; inputgen line $((L + 1)) --id 4; echo;
		  inputgen line "$L" --id 5; echo; } >in &&
		grep -v "\"order_id\":4," in >ok && want ok &&
		gzip <in >in.gz || exit 1
		for f in in in.gz; do
			rm -f rej &&
			etl-batch --max-line "$L" --reject rej "$f" >out &&
			same_batches out "etl-batch --max-line $L on $f" &&
			jq -e ".where == \"$f:4\" and .error == \"line longer than --max-line\"" rej >/dev/null &&
			rm -f rej && etl-map --max-line "$L" --reject rej "$TOTAL" <"$f" >out &&
			same_map out "etl-map --max-line $L on $f" &&
			jq -e ".where == \"stdin:4\" and .error == \"line longer than --max-line\"" rej >/dev/null &&
			rm -f rej && new_db && load --max-line "$L" --reject rej "$f" &&
			same_rows "etl-load-sql --max-line $L on $f" &&
			jq -e ".where == \"$f:4\"" rej >/dev/null &&
			expect_status 65 etl-batch --max-line "$L" "$f" >/dev/null 2>err &&
			expect_grep "^etl-batch: $f:4: line longer than --max-line" err &&
			expect_status 65 etl-map --max-line "$L" "$TOTAL" <"$f" >/dev/null 2>err &&
			expect_grep "^etl-map: stdin:4: line longer than --max-line" err &&
			new_db && expect_status 65 load --max-line "$L" "$f" 2>err &&
			expect_grep "^etl-load-sql: $f:4: .*longer than --max-line" err || exit 1
		done
	done
'

test_expect_success 'a UTF-8 byte-order mark at the start of each file is skipped, as jq does' '
	printf "\357\273\277" >bom &&
	inputgen sized 5000 --seed 1 >a0 && { cat bom a0; } >a &&
	inputgen sized 70000 --seed 2 >b0 && { cat bom b0; } | gzip >b.gz &&
	{ printf "\r\n"; inputgen sized 3000 --seed 3; } >c0 && { cat bom c0; } >c &&
	jq -c . a | cmp - <(jq -c . a0) &&
	want a0 b0 c0 &&
	etl-batch a b.gz c >out && same_batches out "etl-batch FILES with BOMs" &&
	new_db && load a b.gz c && same_rows "etl-load-sql FILES with BOMs" &&
	want b0 && etl-map "$TOTAL" <b.gz >out && same_map out "etl-map, gzip with a BOM" &&
	inputgen sized 600 >e0 && { cat bom e0; } >e && want e0 &&
	inputgen pieces --max 1 --pause-every 1 --pause-ms 1 <e | etl-map "$TOTAL" >out &&
	same_map out "etl-map, the BOM a byte at a time" &&
	{ printf "{}\n"; cat bom; printf "{}\n"; } >mid &&
	expect_status 65 etl-batch --validate mid >/dev/null 2>err &&
	expect_grep "^etl-batch: mid:2: invalid JSON" err
'

# CSV: the same ways in, with rows whose quoted note holds a LF at each
# read edge (the first 64 KiB read, the 256 KiB chunk), compared with
# Python's csv module.  Values are strings: the table's columns are TEXT.
REDACT=$TR/examples/redact.so
csv_schema='CREATE TABLE orders (order_id TEXT, customer_id TEXT, amount TEXT, note TEXT)'
want_csv() {  # FILE : want.rec from Python's csv.DictReader
	/usr/bin/python3 -c '
import csv, gzip, json, sys
f = sys.argv[1]
opener = gzip.open if f.endswith(".gz") else open
with opener(f, "rt", newline="", encoding="utf-8-sig") as fh:
    for row in csv.DictReader(fh):
        print(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
' "$1" | jq -cS . >want.rec
}
csv_every_way() {  # FILE WHAT [PIECE [all]] : PIECE, the largest write into a pipe
	local f=$1 what=$2 piece=${3:-65537}
	want_csv "$f" || return 1
	etl-batch -n 1000 "$f" >out && same_batches out "$what, etl-batch FILE" &&
	rm -f db && sqlite3 db "$csv_schema" && load "$f" &&
		same_rows "$what, etl-load-sql FILE" &&
	case $f in *.gz) return 0 ;; esac &&
	pieces 1 "$piece" <"$f" | etl-batch --format csv -n 777 >out &&
		same_batches out "$what, etl-batch on 1-$piece byte writes" &&
	etl-map --format csv -j 2 "$REDACT" none <"$f" >out &&
		jq -cS . out >got.rec && cmp -s want.rec got.rec &&
	{ [ -z "${4:-}" ] || {
	pieces 2 300000 <"$f" | etl-map --format csv "$REDACT" none >out &&
		jq -cS . out >got.rec && cmp -s want.rec got.rec &&
	rm -f db && sqlite3 db "$csv_schema" && pieces 3 "$piece" <"$f" |
		load --format csv && same_rows "$what, etl-load-sql on 1-$piece byte writes"; }; }
}

test_expect_success 'CSV with a quoted LF at each read edge, plain and gzip, every program' '
	ks="65535 65536 65537 262143 262144 262145"
	[ -z "${ETL_SANITIZE:-}" ] || ks="65536 262144"  # the sanitizers are slower
	for k in $ks; do
		inputgen csv-sized $((k + 4000)) --lf-at "$k" >in.csv &&
		csv_every_way in.csv "CSV, LF at byte $k" &&
		gzip <in.csv >in.csv.gz && csv_every_way in.csv.gz "CSV gzip, LF at byte $k" ||
		exit 1
	done &&
	inputgen csv-sized 262144 --crlf --no-final-lf --seed 2 >in.csv &&
	csv_every_way in.csv "CSV of 262144 bytes, CRLF, no final line end" 65537 all &&
	inputgen csv-sized 20000 --crlf --seed 3 >in.csv &&
	csv_every_way in.csv "CSV of 20000 bytes, CRLF" 7 all
'

test_expect_success 'CSV: a row over --max-line is one bad row at the line it starts, the rest loads' '
	{ printf "id,note\n1,\"a\nb\"\n2,\""; head -c 300000 /dev/zero | tr "\0" x;
	  printf "\n\n\"\n3,ok\n"; } >long.csv &&
	rm -f rej && etl-batch --max-line 100000 --reject rej long.csv >out &&
	expect_eq "[{\"id\":\"1\",\"note\":\"a\\nb\"},{\"id\":\"3\",\"note\":\"ok\"}]" "$(cat out)" &&
	jq -e ".where == \"long.csv:4\" and .error == \"row longer than --max-line\"" rej >/dev/null &&
	expect_status 65 etl-batch --max-line 100000 long.csv >/dev/null 2>err &&
	expect_grep "^etl-batch: long.csv:4: row longer than --max-line" err
'

# start_server, stop_server: etl-extract-http on a free port ($PORT, $SERVER)
. "$ETL_TOP/tests/http-server.sh"
status_of() {  # CURL-ARGS... : the HTTP status of one POST
	curl -s -o resp -w "%{http_code}" "$@" "http://127.0.0.1:$PORT/"
}
json=(-H "Content-Type: application/json")

test_expect_success 'a byte-order mark at the start of a request body is skipped' '
	start_server &&
	printf "\357\273\277{\"bom\":1}" >b1 &&
	printf "\357\273\277[{\"bom\":2},{\"bom\":3}]" >b2 &&
	printf "\357\273\277{\"bom\":4}\n{\"bom\":5}\n" >b3 &&
	printf "\357\273\277{\"bom\":6}" | gzip >b4.gz &&
	expect_eq 202 "$(status_of "${json[@]}" --data-binary @b1)" &&
	expect_eq 202 "$(status_of "${json[@]}" --data-binary @b2)" &&
	expect_eq 202 "$(status_of -H "Content-Type: application/x-ndjson" --data-binary @b3)" &&
	expect_eq 202 "$(status_of "${json[@]}" -H "Content-Encoding: gzip" --data-binary @b4.gz)" &&
	expect_eq 202 "$(status_of --data-binary @b1)" &&
	printf "{}\357\273\277" >b5 &&
	expect_eq 400 "$(status_of "${json[@]}" --data-binary @b5)" &&
	stop_server &&
	printf "{\"bom\":%d}\n" 1 2 3 4 5 6 1 >want && expect_file_eq want out &&
	start_server --envelope &&
	expect_eq 202 "$(status_of "${json[@]}" --data-binary @b1)" &&
	stop_server && jq -e ".body == {\"bom\":1}" out >/dev/null
'

test_expect_success 'a transform without init given arguments: exit 64, read from standard input' '
	inputgen sized 1000 >orders.ndjson &&
	expect_status 64 etl-map "$TOTAL" orders.ndjson <orders.ndjson >out 2>err &&
	expect_lines 0 out &&
	expect_output err "etl-map: $TOTAL takes no arguments (it has no init), but was given '"'"'orders.ndjson'"'"'; etl-map reads records from standard input: etl-map $TOTAL < orders.ndjson
Try '"'"'etl-map --help'"'"' for more information." &&
	etl-map "$TOTAL" <orders.ndjson >out && want orders.ndjson && same_map out "etl-map <FILE" &&
	etl-map "$TR/examples/redact.so" email <orders.ndjson >out && expect_lines "$(wc -l <orders.ndjson)" out
'

# -b SIZE: a batch line ("[r1,r2]") never passes SIZE bytes, unless it holds
# one record.  Three records of 200 bytes: two make a 403-byte batch, three
# a 604-byte one.
test_expect_success 'etl-batch -b at its edges: 402/403/404 and 603/604/605 bytes' '
	for i in 1 2 3; do inputgen line 200 --id $i; echo; done >in &&
	etl-batch -b 402 in >out && expect_lines 3 out &&
	etl-batch -b 403 in >out && expect_lines 2 out &&
	expect_eq 403 "$(head -n 1 out | tr -d "\n" | wc -c)" "the first batch" &&
	etl-batch -b 404 in >out && expect_lines 2 out &&
	etl-batch -b 603 in >out && expect_lines 2 out &&
	etl-batch -b 604 in >out && expect_lines 1 out &&
	expect_eq 604 "$(tr -d "\n" <out | wc -c)" "the batch of three" &&
	etl-batch -b 605 in >out && expect_lines 1 out &&
	etl-batch -b 100 in >out && expect_lines 3 out &&
	etl-batch --unbatch out | cmp - in &&
	gzip <in >in.gz && etl-batch -b 403 in.gz >out && expect_lines 2 out
'

test_expect_success '--max-body at its edge: raw, chunked and decompressed' '
	start_server --max-body 1000 &&
	for n in 999 1000 1001; do
		{ printf "{\"p\":\""; head -c $((n - 8)) /dev/zero | tr "\0" x; printf "\"}"; } >body$n &&
		expect_eq "$n" "$(wc -c <body$n)" || exit 1
		gzip <body$n >body$n.gz
	done &&
	expect_eq 202 "$(status_of "${json[@]}" --data-binary @body999)" &&
	expect_eq 202 "$(status_of "${json[@]}" --data-binary @body1000)" &&
	expect_eq 413 "$(status_of "${json[@]}" --data-binary @body1001)" &&
	expect_eq 202 "$(status_of "${json[@]}" -H "Transfer-Encoding: chunked" --data-binary @body1000)" &&
	expect_eq 413 "$(status_of "${json[@]}" -H "Transfer-Encoding: chunked" --data-binary @body1001)" &&
	expect_eq 202 "$(status_of "${json[@]}" -H "Content-Encoding: gzip" --data-binary @body999.gz)" &&
	expect_eq 202 "$(status_of "${json[@]}" -H "Content-Encoding: gzip" --data-binary @body1000.gz)" &&
	expect_eq 413 "$(status_of "${json[@]}" -H "Content-Encoding: gzip" --data-binary @body1001.gz)" &&
	expect_grep "decompressed body is larger than --max-body" resp &&
	stop_server && expect_lines 5 out
'

# --max-headers counts the request line, each header and query argument,
# and 64 bytes a field (see etl-extract-http(1)).  A raw request of
# 329 + P bytes by that count, P the length of the X-Pad value (and a
# two-digit Content-Length): 202 up to the limit, 431 past it, and never a
# record that was not answered.
test_expect_success '--max-headers at its edge: 202 within, 431 past it' '
	start_server --max-headers 8K &&
	raw() {  # PAD-LENGTH [N] : the status of a raw POST, N more headers
		local status extra="" i
		trap "" PIPE  # refused early, the rest of a large request cannot go
		for i in $(seq 1 "${2:-0}"); do extra+="X-H$((10 + i)): v"$'"'"'\r\n'"'"'; done
		exec 3<>"/dev/tcp/127.0.0.1/$PORT" &&
		printf "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%sX-Pad: %s\r\n\r\n{\"p\":%d}" \
			$((6 + ${#1})) "$extra" "$(head -c "$1" /dev/zero | tr "\0" a)" "$1" >&3 2>/dev/null
		read -r -t 10 _ status _ <&3; exec 3>&-
		echo "${status:-none}"
	} &&
	expect_eq 202 "$(raw 100)" &&
	expect_eq 202 "$(raw $((8192 - 329 - 1)))" &&
	expect_eq 202 "$(raw $((8192 - 329)))" &&
	expect_eq 431 "$(raw $((8192 - 329 + 1)))" &&
	# Past the pool libmicrohttpd refuses it itself: 431, or the connection
	# closed while the request is still being sent.
	case $(raw 100000) in 431|none) ;; *) echo "a 100 kB header was not refused"; exit 1 ;; esac &&
	expect_eq 202 "$(raw $((8192 - 329 - 50 * 70)) 50)" &&
	expect_eq 431 "$(raw $((8192 - 329 - 50 * 70 + 1)) 50)" &&
	expect_eq 202 "$(curl -s -o /dev/null -w "%{http_code}" "${json[@]}" -d "{\"p\":1}" "http://127.0.0.1:$PORT/")" &&
	stop_server &&
	printf "{\"p\":%d}\n" 100 $((8192 - 330)) $((8192 - 329)) $((8192 - 329 - 3500)) 1 >want &&
	expect_file_eq want out
'

# The worst case for libmicrohttpd's pool, which is sized from the limit:
# the most fields that fit, each as small as a field can be, at the
# default limit (16K) and at 256K, then one field more; and a head of one
# large field at 256K.  Each within the limit is answered and its record
# handed on.
test_expect_success '--max-headers: as many tiny fields as the limit allows, at the default and at 256K' '
	cat >fields.py <<-\PY &&
	import socket, sys
	port, limit, more, big = (int(a) for a in sys.argv[1:])
	fixed = 329 - len("X-Pad") - 64      # the request line and fixed fields
	names, used = [], fixed
	while not big and used + len("X%05d" % len(names)) + 1 + 64 <= limit:
	    used += len("X%05d" % len(names)) + 1 + 64
	    names.append("X%05d" % len(names))
	names += ["Y%05d" % i for i in range(more)]
	pad = "a" * (limit - fixed - len("X-Pad") - 64 + more) if big else ""
	body = "{\"n\":%d}" % (len(names) + len(pad))
	head = "".join(n + ": v\r\n" for n in names) + ("X-Pad: %s\r\n" % pad if big else "")
	s = socket.create_connection(("127.0.0.1", port))
	try:
	    s.sendall(("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	               "Content-Length: %d\r\n%s\r\n%s" % (len(body), head, body)).encode())
	    s.settimeout(10)
	    print(s.recv(100).split(b" ")[1].decode())
	except OSError:
	    print("none")
	PY
	start_server &&
	expect_eq 202 "$(python3 fields.py $PORT 16384 0 0)" &&
	expect_eq 431 "$(python3 fields.py $PORT 16384 1 0)" &&
	expect_eq 202 "$(python3 fields.py $PORT 16384 0 1)" &&
	expect_eq 431 "$(python3 fields.py $PORT 16384 1 1)" &&
	stop_server &&
	expect_lines 2 out && expect_eq "{\"n\":227}" "$(head -n 1 out)" &&
	start_server --max-headers 256K &&
	expect_eq 202 "$(python3 fields.py $PORT 262144 0 0)" &&
	expect_eq 431 "$(python3 fields.py $PORT 262144 1 0)" &&
	expect_eq 202 "$(python3 fields.py $PORT 262144 0 1)" &&
	expect_eq 431 "$(python3 fields.py $PORT 262144 1 1)" &&
	stop_server &&
	expect_lines 2 out
'
