#!/usr/bin/env bash
# Input at every size: every program that reads records (etl-batch, etl-map,
# etl-load-sql into SQLite) on plain, gzip, multi-member gzip and
# concatenated files, from file arguments, standard input and pipes written
# in uneven pieces, at sizes around every buffer and chunk edge (the
# reader's 64 KiB compressed and 256 KiB plain reads, the 64 KiB pipe and
# writer buffers, the 1 MiB widened pipe), compared value for value with
# zcat and jq; CSV with quoted newlines at the read edges, compared with
# Python's csv; lines at, below and above --max-line; the byte-order mark;
# 200 MB of records once; each limit at its edge; memory on a 2 GB stream.
. "$(dirname "$0")/../lib.sh"
TR=${ETL_TRANSFORMS:-$ETL_TOP/build/obj}
TOTAL=$TR/bench/total.so
GEN=$ETL_TOP/build/gen-orders
inputgen() { python3 "$ETL_TOP/tests/input-gen.py" "$@"; }
filter='{order_id, total: (.amount + .shipping + .tax), shipping_address}'
schema='CREATE TABLE orders (order_id INTEGER, customer_id INTEGER,
	product_id INTEGER, quantity INTEGER, amount REAL, shipping REAL,
	tax REAL, shipping_address TEXT)'
# The sizes: 0, 1, and each edge -1/0/+1.
sizes="0 1 2 65535 65536 65537 262143 262144 262145 1048575 1048576 1048577"

# want FILE... : the reference records (want.rec) and totals (want.map) of
# FILE..., through zcat and jq, keys sorted so key order does not matter.
want() {
	zcat -f "$@" | jq -cS . >want.rec &&
	zcat -f "$@" | jq -c "$filter" | jq -cS . >want.map
}
same_batches() {  # OUT WHAT : the records of OUT's batches are want.rec's
	jq -cS ".[]" "$1" >got.rec && cmp -s want.rec got.rec && return 0
	echo "$2: etl-batch's records differ from zcat | jq:"
	diff want.rec got.rec | head -c 600; return 1
}
same_map() {  # OUT WHAT
	jq -cS . "$1" >got.map && cmp -s want.map got.map && return 0
	echo "$2: etl-map's output differs from jq '$filter':"
	diff want.map got.map | head -c 600; return 1
}
new_db() { rm -f db && sqlite3 db "$schema"; }
same_rows() {  # WHAT : the rows of table orders are want.rec
	sqlite3 -json db "SELECT * FROM orders ORDER BY rowid" | jq -cS ".[]" >got.rec &&
	cmp -s want.rec got.rec && return 0
	echo "$1: the SQLite rows differ from zcat | jq:"
	diff want.rec got.rec | head -c 600; return 1
}
load() { etl-load-sql -t orders -n 5000 sqlite:db "$@"; }
# pieces SEED MAX : stdin to stdout in writes of 1 to MAX bytes, with a
# pause of 2 ms every 500 writes, or every 2 writes of large pieces
pieces() {
	local every=500
	[ "$2" -lt 10000 ] || every=2
	inputgen pieces --seed "$1" --max "$2" --pause-every $every --pause-ms 2
}

# every_way FILE WHAT : each program on FILE: as an argument, as standard
# input, and through pipes written in random pieces (1-7 bytes up to 70 kB
# of input, else up to 64 KiB + 1; up to 300 kB), compared with zcat | jq.
every_way() {
	local f=$1 what=$2 small=7
	want "$f" || return 1
	[ "$(wc -c <"$f")" -le 70000 ] || small=65537
	etl-batch -n 1000 "$f" >out && same_batches out "$what, etl-batch FILE" &&
	pieces 1 "$small" <"$f" | etl-batch -n 777 >out &&
		same_batches out "$what, etl-batch on 1-$small byte writes" &&
	etl-map "$TOTAL" <"$f" >out && same_map out "$what, etl-map <FILE" &&
	pieces 2 300000 <"$f" | etl-map -j 2 "$TOTAL" >out &&
		same_map out "$what, etl-map -j 2 on writes of up to 300000 bytes" &&
	new_db && load "$f" && same_rows "$what, etl-load-sql FILE" &&
	new_db && pieces 3 "$small" <"$f" | load &&
		same_rows "$what, etl-load-sql on 1-$small byte writes"
}

test_expect_success 'plain input of every size, every program, every way in' '
	for n in $sizes; do
		inputgen sized "$n" >in && every_way in "plain, $n bytes" || exit 1
	done &&
	inputgen sized 262144 --no-final-lf >in &&
	every_way in "plain, 262144 bytes without a final LF"
'

test_expect_success 'gzip input of every size (decompressed), every program, every way in' '
	for n in $sizes; do
		inputgen sized "$n" | gzip >in.gz && every_way in.gz "gzip of $n bytes" || exit 1
	done
'

test_expect_success 'gzip input of every compressed size around the chunk edges' '
	for n in 65535 65536 65537 262143 262144 262145 1048575 1048576 1048577; do
		inputgen gzip-sized "$n" >in.gz &&
		expect_eq "$n" "$(wc -c <in.gz)" "compressed size" &&
		every_way in.gz "a gzip file of $n bytes" || exit 1
	done
'

test_expect_success 'multi-member gzip: members cut inside lines, at chunk edges' '
	for n in 65537 262145 1048577; do
		inputgen sized "$n" >plain &&
		{ head -c 65536 plain | gzip; tail -c +65537 plain | head -c 1000 | gzip -1;
		  tail -c +66537 plain | gzip -9; } >in.gz &&
		cmp plain <(zcat in.gz) &&
		every_way in.gz "three gzip members of $n bytes" || exit 1
	done
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

# 200 MB of records (gen-orders; 20 MB under the sanitizers, which are
# slow): through each program from a gzip file, a pipe in pieces and a
# plain file; the outputs agree with each other, byte for byte with the
# input where the program is an identity, and with jq on a sample.
test_expect_success 'at least 200 MB of records through every program' '
	n=1300000; [ -z "${ETL_SANITIZE:-}" ] || n=130000
	"$GEN" "$n" >big && gzip -1 <big >big.gz &&
	bytes=$(wc -c <big) && echo "$n records, $bytes bytes, $(wc -c <big.gz) compressed" &&
	{ [ -n "${ETL_SANITIZE:-}" ] || [ "$bytes" -ge 209715200 ]; } &&
	etl-batch -n 1000 big.gz | etl-batch --unbatch | cmp - big &&
	pieces 7 1048577 <big.gz | etl-batch -n 999 | etl-batch --unbatch | cmp - big &&
	etl-map "$TOTAL" <big >map.plain &&
	pieces 8 1048577 <big.gz | etl-map "$TOTAL" | cmp - map.plain &&
	head -n 20000 big >sample && tail -n 20000 big >>sample && want sample &&
	{ head -n 20000 map.plain; tail -n 20000 map.plain; } >map.sample &&
	same_map map.sample "etl-map on a sample of 200 MB" &&
	new_db && load big.gz &&
	expect_eq "$n $((n * (n + 1) / 2))" "$(sqlite3 -separator " " db "SELECT count(*), sum(order_id) FROM orders")" &&
	sqlite3 -json db "SELECT * FROM orders WHERE rowid <= 20000 OR rowid > $((n - 20000)) ORDER BY rowid" |
		jq -cS ".[]" >got.rec && cmp want.rec got.rec
'

# A 2 GB stream of 2 KB records made on the fly by yes(1) (no file on
# disk), through each program at its fastest: peak RSS stays under the
# bound each man page gives, and is no larger than on a tenth of the
# stream plus 16 MB (the allocator settles late; a leak of 20 bytes a
# record would show).  SQLite takes the rows through a view whose trigger
# only counts them, so the database does not grow either.  Under the
# sanitizers RSS is their shadow memory: 200 MB, the counts checked, no
# bound.  On a quiet machine this takes about 30 s.
test_expect_success 'memory stays bounded on a 2 GB stream through each program' '
	n=1000000; [ -z "${ETL_SANITIZE:-}" ] || n=100000
	rec=$(inputgen line 1969 --id 7) && expect_eq 1969 "$(printf %s "$rec" | wc -c)" &&
	sqlite3 db "CREATE TABLE sink (order_id INTEGER, customer_id INTEGER,
		product_id INTEGER, quantity INTEGER, amount REAL, shipping REAL,
		tax REAL, shipping_address TEXT);
		CREATE TABLE tally (n INTEGER, s INTEGER); INSERT INTO tally VALUES (0, 0);
		CREATE VIEW orders AS SELECT * FROM sink;
		CREATE TRIGGER orders_in INSTEAD OF INSERT ON orders BEGIN
			UPDATE tally SET n = n + 1, s = s + NEW.order_id; END;" &&
	for m in $((n / 10)) $n; do
		start=$SECONDS
		yes "$rec" | head -n $m | /usr/bin/time -f %M -o rss.batch.$m etl-batch -n 1000 >out &&
		expect_lines $((m / 1000)) out &&
		yes "$rec" | head -n $m | /usr/bin/time -f %M -o rss.map.$m etl-map "$TOTAL" >out &&
		expect_lines $m out &&
		yes "$rec" | head -n $m | /usr/bin/time -f %M -o rss.load.$m etl-load-sql -t orders sqlite:db &&
		expect_eq "$m $((7 * m))" "$(sqlite3 -separator " " db "SELECT n, s FROM tally")" &&
		sqlite3 db "UPDATE tally SET n = 0, s = 0" || exit 1
		echo "$m records, $((m * 1970 / 1000000)) MB: $((SECONDS - start)) s;" \
			"peak RSS etl-batch $(cat rss.batch.$m) KB, etl-map $(cat rss.map.$m) KB," \
			"etl-load-sql $(cat rss.load.$m) KB"
	done &&
	expect_eq 0 "$(sqlite3 db "SELECT count(*) FROM sink")" "rows kept" &&
	if [ -z "${ETL_SANITIZE:-}" ]; then
		for p in batch:16000 map:16000 load:96000; do
			prog=${p%:*} bound=${p#*:} small=$(cat rss.${p%:*}.$((n / 10))) big=$(cat rss.${p%:*}.$n)
			test "$big" -le "$bound" -a "$big" -le $((small + 16384)) ||
				{ echo "etl-$prog: peak RSS $big KB on 2 GB, $small KB on 200 MB, bound $bound KB"; exit 1; }
		done
	fi
'
