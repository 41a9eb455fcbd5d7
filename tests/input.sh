# tests/input.sh - what the input tests (tests/t/12-input.sh,
# 14-input-gzip.sh, 15-input-large.sh) share: reference records through
# zcat and jq, comparisons, pipes written in uneven pieces, and every_way,
# which runs each program on a file every way in.
TR=${ETL_TRANSFORMS:-$ETL_TOP/build/obj}
TOTAL=$TR/bench/total.so
GEN=$ETL_TOP/build/gen-orders
inputgen() { python3 "$ETL_TOP/tests/input-gen.py" "$@"; }
filter='{order_id, total: (.amount + .shipping + .tax), shipping_address}'
schema='CREATE TABLE orders (order_id INTEGER, customer_id INTEGER,
	product_id INTEGER, quantity INTEGER, amount REAL, shipping REAL,
	tax REAL, shipping_address TEXT)'
# The sizes: 0, 1, and each edge -1/0/+1; under the sanitizers, which are
# slow, each edge and one past it, so that every edge is still crossed.
sizes="0 1 2 65535 65536 65537 262143 262144 262145 1048575 1048576 1048577"
[ -z "${ETL_SANITIZE:-}" ] || sizes="0 1 65536 65537 262144 262145 1048576 1048577"

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
