#!/usr/bin/env bash
# etl-load-sql's record reader (lib/fields.c, yajl's event parser) on the
# JSONTestSuite parsing cases (tests/data/JSONTestSuite), each one-line
# case put in a record as {"id":N,"v":CASE} and loaded into SQLite's JSON
# column:
# - every y_ case loads, and the column holds the same JSON value;
# - every n_ case is a data error naming its line, never a loaded row;
# - no i_ case crashes or hangs, each loads or is rejected.
. "$(dirname "$0")/../lib.sh"
suite=$ETL_TOP/tests/data/JSONTestSuite/test_parsing

# records FILE... : one record per one-line case, to stdin; the case names
# in order to "names".  Python keeps the bytes as they are.
records() {
	python3 - "$@" >in 3>names <<'EOF'
import os, sys
out, names = sys.stdout.buffer, os.fdopen(3, "w")
for i, path in enumerate(sys.argv[1:], 1):
    data = open(path, "rb").read().rstrip(b" \t\r\n")
    if b"\n" in data or b"\r" in data or data.strip(b" \t") == b"":
        continue  # several lines, or blanks only: not one record
    out.write(b'{"id":%d,"v":%s}\n' % (i, data))
    names.write(os.path.basename(path) + "\n")
EOF
}

load() {
	rm -f "$T/j.db" rej
	sqlite3 "$T/j.db" "CREATE TABLE j (id INTEGER PRIMARY KEY, v JSON)" &&
	etl-load-sql -t j --reject rej "sqlite:$T/j.db" <in
}

test_expect_success 'every one-line y_ case loads with the same JSON value' '
	records "$suite"/y_*.json && load &&
	expect_eq "$(wc -l <in)" "$(sqlite3 "$T/j.db" "SELECT count(*) FROM j")" "rows" &&
	expect_lines 0 rej &&
	sqlite3 -json "$T/j.db" "SELECT id, CAST(v AS TEXT) AS v FROM j ORDER BY id" >rows &&
	python3 - <<-EOF
	import json, re, sys
	want = {}
	for line in open("in", "rb"):
	    i = int(re.match(rb"{\"id\":(\d+),", line).group(1))
	    want[i] = json.loads(line)["v"]
	# JSON null is SQL NULL, as in every column
	got = lambda r: None if r["v"] is None else json.loads(r["v"])
	bad = [r["id"] for r in json.load(open("rows")) if got(r) != want[r["id"]]]
	sys.exit("differ: %s" % bad if bad else 0)
	EOF
'

test_expect_success 'every one-line n_ case is a data error, never a row' '
	records "$suite"/n_*.json && load &&
	expect_eq 0 "$(sqlite3 "$T/j.db" "SELECT count(*) FROM j")" "rows" &&
	expect_eq "$(wc -l <in)" "$(wc -l <rej)" "rejects" &&
	expect_eq "$(wc -l <in)" "$(jq -r "select(.where | test(\"^stdin:[0-9]+$\")) | .where" rej | sort -u | wc -l)" "lines named"
'

test_expect_success 'no i_ case crashes or hangs' '
	records "$suite"/i_*.json &&
	rm -f "$T/j.db" rej && sqlite3 "$T/j.db" "CREATE TABLE j (id INTEGER PRIMARY KEY, v JSON)" &&
	timeout 20 etl-load-sql -t j --reject rej "sqlite:$T/j.db" <in &&
	expect_eq "$(wc -l <in)" "$(( $(sqlite3 "$T/j.db" "SELECT count(*) FROM j") + $(wc -l <rej) ))" "rows and rejects"
'

test_expect_success 'a bad record does not harm the one after it' '
	printf "%s\n" "{\"id\":1,\"v\":1} 5" "{\"id\":2,\"v\":[1,{\"a\":\"b\"}]}" \
		"{\"id\":3,\"v\":\"\\ud800\"}" "{\"id\":4,\"v\":\"x\"}" \
		"{\"id\":5,\"v\":[[[" "{\"id\":6,\"v\":{}}" >in && load &&
	expect_eq "2 [1,{\"a\":\"b\"}]|4 \"x\"|6 {}" \
		"$(sqlite3 "$T/j.db" "SELECT id, v FROM j ORDER BY id" | tr "|\n" " |" | sed "s/|$//")" &&
	expect_eq "stdin:1 stdin:3 stdin:5" "$(jq -r .where rej | tr "\n" " " | sed "s/ $//")" &&
	jq -s -e "map(select(.where == \"stdin:3\"))[0].error | test(\"invalid Unicode\")" rej
'
