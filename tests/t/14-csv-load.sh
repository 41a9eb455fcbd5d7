#!/usr/bin/env bash
# etl-load-sql's fast path for CSV: a CSV file's fields go to the columns
# without becoming JSON first.  The tables it makes must be byte for byte
# those the JSON path makes (the same file as NDJSON from etl-batch), and
# those psql \copy and LOAD DATA make of the good rows; bad rows are
# isolated the same way, into --reject with file:line.  Once at a size that
# crosses the transactions, SQLite's multi-row inserts and the reader's
# buffers, with bad rows at those edges, into each database.
. "$(dirname "$0")/../lib.sh"
# Table names end in the test's process id: runs of this file under
# different builds may share a server.
id=$$

# gen ROWS [bad] [my] : orders as CSV, with the nasty values: nulls (an
# unquoted empty field, or NULL unquoted under "my", LOAD DATA's own null),
# empty strings, quotes, delimiters, CR and LF inside quotes, backslashes,
# tabs, non-ASCII, "NULL" and "\N" as strings, numerics, dates, booleans,
# long rows now and then.  With "bad", some rows refused: by etl
# (amount "abc"), by the database (a tag over 10 characters, a repeated
# id) and by the reader (a field too many), at the transactions' edges;
# the lines where they start go to stderr.
gen() {
	python3 - "$@" <<'EOF'
import random, sys
n = int(sys.argv[1]); bad = "bad" in sys.argv; my = "my" in sys.argv
r = random.Random(30)
notes = ["plain", "", 'say "hi", then\nleave', "line\r\nbreak", "a,b",
         "back\\slash", "tab\there", "Zürich 😀", " lead ", "NULL", "\\N",
         '"', "x" * 3000]
def q(s):
    return '"' + s.replace('"', '""') + '"'
def null():
    return "NULL" if my else ""
print("id,amount,day,paid,note,tag")
line = 2
edges = {1, 2, 33, 64, 65, 499, 500, 501, n // 2, n - 1, n}
for i in range(1, n + 1):
    amount = null() if i % 7 == 0 else "%d.%02d" % (r.randrange(-999, 99999), r.randrange(100))
    if i % 11 == 0:
        amount = "1e2"
    day = null() if i % 5 == 0 else "20%02d-%02d-%02d" % (r.randrange(100), r.randrange(1, 13), r.randrange(1, 29))
    paid = null() if i % 9 == 0 else r.choice(["1", "0"] if my else ["t", "true", "1", "f", "false", "0"])
    note = r.choice(notes)
    if note == "x" * 3000 and r.random() < 0.7:
        note = "short"
    if note == "":
        note = null() if i % 2 else '""'
    elif note in ("NULL", "\\N") or r.random() < 0.5 or any(c in note for c in ',"\r\n'):
        note = q(note)
    tag = r.choice(["a", "b,c", "", "ü", "tag"])
    tag = q(tag) if tag in ("", "b,c") else tag
    row = [str(i), amount, day, paid, note, tag]
    if bad and i in edges:
        k = sorted(edges).index(i) % 4
        if k == 0:
            row[1] = "abc"
        elif k == 1:
            row[5] = "x" * 20
        elif k == 2:
            row[0] = "3"
        else:
            row.append("extra")
        sys.stderr.write("%d\n" % line)
    text = ",".join(row) + "\n"
    sys.stdout.write(text)
    line += text.count("\n")
EOF
}

ddl='(id INTEGER PRIMARY KEY, amount NUMERIC(10,2), day DATE, paid BOOLEAN, note TEXT, tag VARCHAR(10))'
# SQLite keeps no length: a CHECK refuses the long tags, as the servers do.
lite_ddl='(id INTEGER PRIMARY KEY, amount NUMERIC(10,2), day DATE, paid BOOLEAN, note TEXT,
	tag VARCHAR(10) CHECK (length(tag) <= 10))'

# where FILE : the lines of the rejects in FILE, in order
where() { jq -r .where "$1" | sed "s/^bad.csv://" | sort -n | paste -sd " " -; }

# LOAD DATA of a CSV file of gen N my: its quotes, LOAD DATA's null, no escapes.
load_data() {  # FILE TABLE
	$ETL_TEST_MYSQL --local-infile=1 -e "LOAD DATA LOCAL INFILE '$1' INTO TABLE $2
		CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"'
		ESCAPED BY '' LINES TERMINATED BY '\n' IGNORE 1 LINES; SHOW WARNINGS"
}

# rejects FILE : the reject file's errors and records, sorted, the two
# tables' names in them made one
rejects() { jq -c '[.error, .record]' "$1" | sed -E 's/(l14|b14)_[fs]/\1_x/g' | sort; }

# both_paths URL FAST SLOW FILE [N] : FILE loaded by the fast path into
# table FAST (rejects in rf) and as NDJSON by the JSON path into table SLOW
# (rejects in rb, then rs); -n 500 so that transactions cut the file, or N
# for the JSON path.
both_paths() {
	rm -f rf rb rs &&
	etl-load-sql -n 500 -t "$2" --reject rf "$1" "$4" &&
	etl-batch --unbatch --reject rb "$4" |
		etl-load-sql -n "${5:-500}" -t "$3" --reject rs "$1" &&
	cat rb rs >rslow &&
	expect_eq "$(rejects rslow)" "$(rejects rf)" "the rejects of the two paths"
}

test_expect_success 'PostgreSQL: the fast path, the JSON path and psql \copy give identical tables; bad rows isolated' '
	need_pg &&
	gen 600 bad >bad.csv 2>lines && gen 600 >good.csv &&
	pg_run "SET client_min_messages = warning;
		DROP TABLE IF EXISTS l14_f_$id, l14_s_$id, l14_c_$id, l14_g_$id;
		CREATE TABLE l14_f_$id $ddl; CREATE TABLE l14_s_$id $ddl;
		CREATE TABLE l14_c_$id $ddl; CREATE TABLE l14_g_$id $ddl" &&
	both_paths "$ETL_TEST_PGURL" l14_f_$id l14_s_$id bad.csv &&
	q="SELECT json_agg(t ORDER BY id) FROM %s t" &&
	expect_eq "$(pg_run "$(printf "$q" l14_s_$id)")" "$(pg_run "$(printf "$q" l14_f_$id)")" \
		"the fast and the JSON path" &&
	expect_eq 589 "$(pg_run "SELECT count(*) FROM l14_f_$id")" &&
	expect_eq "$(paste -sd " " - <lines)" "$(where rf)" &&
	jq -r .error rf >errors &&
	expect_grep "^duplicate key value violates unique constraint" errors &&
	expect_grep "^column \"tag\": value too long for type character varying\(10\)$" errors &&
	expect_grep "^column \"amount\": invalid value for type numeric\(10,2\): \"abc\"$" errors &&
	expect_eq "9 2" "$(jq -c "select(.record | type == \"object\")" rf | wc -l) $(jq -c "select(.record |
		type == \"string\") | .error" rf | grep -c "7 fields where the header has 6")" &&
	etl-load-sql -t l14_g_$id "$ETL_TEST_PGURL" good.csv &&
	$ETL_TEST_PSQL -c "\\copy l14_c_$id from '\''good.csv'\'' csv header" &&
	expect_eq "$(pg_run "$(printf "$q" l14_c_$id)")" "$(pg_run "$(printf "$q" l14_g_$id)")" \
		"etl-load-sql and psql \\copy" &&
	expect_eq "600|t|t|t|t" "$(pg_run "SELECT count(*), bool_or(note IS NULL),
		bool_or(note = '\'''\''), bool_or(note LIKE '\''%\"hi\"%'\''),
		bool_or(note = E'\''line\\r\\nbreak'\'') FROM l14_g_$id")"
'

test_expect_success 'MariaDB: the fast path, the JSON path and LOAD DATA give identical tables; bad rows isolated' '
	need_my &&
	gen 600 bad >bad.csv 2>lines && gen 600 my >good.csv &&
	$ETL_TEST_MYSQL -e "DROP TABLE IF EXISTS l14_f_$id, l14_s_$id, l14_c_$id, l14_g_$id;
		CREATE TABLE l14_f_$id $ddl; CREATE TABLE l14_s_$id $ddl;
		CREATE TABLE l14_c_$id $ddl; CREATE TABLE l14_g_$id $ddl" &&
	both_paths "$ETL_TEST_MYURL" l14_f_$id l14_s_$id bad.csv &&
	q="SELECT * FROM %s ORDER BY id" &&
	$ETL_TEST_MYSQL --batch -e "$(printf "$q" l14_s_$id)" >slow &&
	$ETL_TEST_MYSQL --batch -e "$(printf "$q" l14_f_$id)" >fast &&
	expect_file_eq slow fast && expect_lines 590 fast &&
	expect_eq "$(paste -sd " " - <lines)" "$(where rf)" &&
	expect_grep "Data truncated for column .tag. at row 1" rf && expect_grep "Duplicate entry" rf &&
	etl-load-sql --null NULL -t l14_g_$id "$ETL_TEST_MYURL" good.csv &&
	load_data good.csv l14_c_$id >warnings && expect_lines 0 warnings &&
	$ETL_TEST_MYSQL --batch -e "$(printf "$q" l14_c_$id)" >peer &&
	$ETL_TEST_MYSQL --batch -e "$(printf "$q" l14_g_$id)" >ours &&
	expect_file_eq peer ours && expect_lines 601 ours &&
	expect_grep "	NULL	" ours && expect_grep "say \"hi\", then\\\\nleave" ours
'

# The JSON path by transactions of 31 rows: inserted one at a time, not by
# 32 in a statement, and so a check of those too.
test_expect_success 'SQLite: the fast path and the JSON path give identical tables, storage classes too; bad rows isolated' '
	gen 600 bad >bad.csv 2>lines &&
	sqlite3 db "CREATE TABLE l14_f $lite_ddl; CREATE TABLE l14_s $lite_ddl" &&
	both_paths sqlite:db l14_f l14_s bad.csv 31 &&
	q="SELECT *, typeof(amount), typeof(paid) FROM %s ORDER BY id" &&
	sqlite3 -quote db "$(printf "$q" l14_s)" >slow &&
	sqlite3 -quote db "$(printf "$q" l14_f)" >fast &&
	expect_file_eq slow fast &&
	expect_eq 589 "$(sqlite3 db "SELECT count(*) FROM l14_f")" &&
	expect_eq "$(paste -sd " " - <lines)" "$(where rf)" &&
	expect_grep "CHECK constraint failed" rf && expect_grep "UNIQUE constraint failed" rf
'

test_expect_success 'SQLite: --create, --add-columns, --ignore-unknown and --upsert take a CSV file as they take its records' '
	printf "id,v\n1,a\n2,\n3,\"\"\n1,b\n" >one.csv &&
	printf "v,id,extra\nc,2,x\nd,4,\n" >two.csv &&
	etl-load-sql -t a_f --create --upsert id --add-columns sqlite:db one.csv two.csv &&
	etl-batch --unbatch one.csv two.csv |
		etl-load-sql -t a_s --create --upsert id --add-columns sqlite:db &&
	etl-load-sql -t i_f --create --ignore-unknown --upsert id sqlite:db one.csv two.csv &&
	etl-batch --unbatch one.csv two.csv |
		etl-load-sql -t i_s --create --ignore-unknown --upsert id sqlite:db &&
	for t in a i; do
		for p in f s; do
			sqlite3 -quote db "SELECT * FROM ${t}_$p ORDER BY id" >$t.$p &&
			sqlite3 db "SELECT sql FROM sqlite_master WHERE name = '\''${t}_$p'\''" |
				sed "s/${t}_$p/T/" >$t.$p.schema || exit 1
		done
		expect_file_eq $t.s $t.f && expect_file_eq $t.s.schema $t.f.schema || exit 1
	done &&
	expect_output a.f "'\''1'\'','\''b'\'',NULL
'\''2'\'','\''c'\'','\''x'\''
'\''3'\'','\'''\'',NULL
'\''4'\'','\''d'\'',NULL" &&
	expect_output i.f "'\''1'\'','\''b'\''
'\''2'\'','\''c'\''
'\''3'\'','\'''\''
'\''4'\'','\''d'\''"
'

# At a realistic size: 6000 rows, about 650 KB (1500 under the
# sanitizers): more than two of the reader's buffers, long rows, four
# transactions (-n a quarter of the rows), bad rows at their edges.
rows=6000
[ -n "${ETL_SANITIZE:-}" ] && rows=1500

test_expect_success "$rows rows into each database: the fast path as the JSON path, across every edge" '
	gen $rows bad >big.csv 2>/dev/null &&
	for db in sqlite pg my; do
		table="$ddl"
		case $db in
		sqlite) url=sqlite:db table="$lite_ddl"; run() { sqlite3 db "$1"; } ;;
		pg) [ -n "${ETL_TEST_PGURL:-}" ] || continue; url=$ETL_TEST_PGURL; run() { pg_run "$1"; } ;;
		my) [ -n "${ETL_TEST_MYURL:-}" ] || continue; url=$ETL_TEST_MYURL; run() { $ETL_TEST_MYSQL -N -e "$1"; } ;;
		esac
		run "DROP TABLE IF EXISTS b14_f_$id; DROP TABLE IF EXISTS b14_s_$id;
			CREATE TABLE b14_f_$id $table; CREATE TABLE b14_s_$id $table" >/dev/null &&
		rm -f rf rb rs &&
		etl-load-sql -n $((rows / 4)) -t b14_f_$id --reject rf "$url" big.csv &&
		etl-batch --unbatch --reject rb big.csv |
			etl-load-sql -n $((rows / 4)) -t b14_s_$id --reject rs "$url" &&
		cat rb rs >rslow &&
		expect_eq "$(rejects rslow)" "$(rejects rf)" "$db: the rejects" &&
		for t in f s; do
			run "SELECT id, amount, day, paid, note, tag FROM b14_${t}_$id ORDER BY id" |
				md5sum >sum.$t
		done &&
		expect_file_eq sum.s sum.f &&
		expect_eq $((rows - 11)) "$(run "SELECT count(*) FROM b14_f_$id")" "$db: rows" || exit 1
	done
'

# wide ROWS [my] [dup] : ROWS orders of about 2 KB each (notes with quotes,
# commas, newlines; nulls as gen makes them); with "dup", row ROWS/2 repeats
# the id of row 1, and its line goes to stderr.
wide() {
	python3 - "$@" <<'PY'
import random, sys
n = int(sys.argv[1]); my = "my" in sys.argv; dup = "dup" in sys.argv
r = random.Random(14)
print("id,amount,day,paid,note,tag")
line = 2
for i in range(1, n + 1):
    words = [r.choice(["order", "say \"hi\"", "a,b", "line\nbreak", "Zürich", "x" * 40])
             for _ in range(r.randrange(130, 220))]
    note = " ".join(words)
    note = ("NULL" if my else "") if i % 13 == 0 else '"' + note.replace('"', '""') + '"'
    row = [str(1 if dup and i == n // 2 else i), "%d.%02d" % (i, i % 100),
           "2024-%02d-%02d" % (i % 12 + 1, i % 28 + 1), "1" if i % 2 else "0", note, "t%d" % (i % 10)]
    if dup and i == n // 2:
        sys.stderr.write("%d\n" % line)
    text = ",".join(row) + "\n"
    sys.stdout.write(text)
    line += text.count("\n")
PY
}

# etl-load-sql builds a transaction's COPY or LOAD DATA data while the one
# before it loads, up to 4 MiB of it; a larger transaction's data is built
# as it is sent.  Either way the table is the peer's, and a bad row in
# either is isolated.  3,000 rows of about 2 KB: one transaction of 6.6 MB,
# or three of 2.2 MB.
test_expect_success 'PostgreSQL: transactions under and over 4 MiB of COPY data give the table psql \copy gives' '
	need_pg &&
	wide 3000 >wide.csv && wide 3000 dup >dup.csv 2>line &&
	test "$(wc -c <wide.csv)" -gt 4194304 &&
	for t in c n1 n3 d1 d3; do
		pg_run "SET client_min_messages = warning; DROP TABLE IF EXISTS w14_${t}_$id;
			CREATE TABLE w14_${t}_$id $ddl" || exit 1
	done &&
	$ETL_TEST_PSQL -c "\\copy w14_c_$id from '\''wide.csv'\'' csv header" &&
	etl-load-sql -n 3000 -t w14_n1_$id "$ETL_TEST_PGURL" wide.csv &&
	etl-load-sql -n 1000 -t w14_n3_$id "$ETL_TEST_PGURL" wide.csv &&
	q="SELECT md5(string_agg(t::text, E'\''\\n'\'' ORDER BY id)) FROM %s t" &&
	peer=$(pg_run "$(printf "$q" w14_c_$id)") &&
	expect_eq "$peer" "$(pg_run "$(printf "$q" w14_n1_$id)")" "one transaction of 6 MB" &&
	expect_eq "$peer" "$(pg_run "$(printf "$q" w14_n3_$id)")" "three of 2 MB" &&
	for n in 1 3; do
		rm -f rj && etl-load-sql -n $((3000 / n)) --reject rj -t w14_d${n}_$id "$ETL_TEST_PGURL" dup.csv &&
		expect_eq "dup.csv:$(cat line)" "$(jq -r .where rj)" "-n $((3000 / n)): the reject" &&
		expect_eq 2999 "$(pg_run "SELECT count(*) FROM w14_d${n}_$id")" || exit 1
	done
'

test_expect_success 'MariaDB: transactions under and over 4 MiB of LOAD DATA text give the table LOAD DATA gives' '
	need_my &&
	wide 3000 my >wide.csv && wide 3000 my dup >dup.csv 2>line &&
	for t in c n1 n3 d1 d3; do
		$ETL_TEST_MYSQL -e "DROP TABLE IF EXISTS w14_${t}_$id; CREATE TABLE w14_${t}_$id $ddl" || exit 1
	done &&
	load_data wide.csv w14_c_$id >warnings && expect_lines 0 warnings &&
	etl-load-sql --null NULL -n 3000 -t w14_n1_$id "$ETL_TEST_MYURL" wide.csv &&
	etl-load-sql --null NULL -n 1000 -t w14_n3_$id "$ETL_TEST_MYURL" wide.csv &&
	for t in c n1 n3; do
		$ETL_TEST_MYSQL --batch -e "SELECT * FROM w14_${t}_$id ORDER BY id" >$t.rows || exit 1
	done &&
	expect_lines 3001 c.rows && expect_file_eq c.rows n1.rows && expect_file_eq c.rows n3.rows &&
	for n in 1 3; do
		rm -f rj && etl-load-sql --null NULL -n $((3000 / n)) --reject rj -t w14_d${n}_$id "$ETL_TEST_MYURL" dup.csv &&
		expect_eq "dup.csv:$(cat line)" "$(jq -r .where rj)" "-n $((3000 / n)): the reject" &&
		expect_eq 2999 "$($ETL_TEST_MYSQL -N -e "SELECT count(*) FROM w14_d${n}_$id")" || exit 1
	done
'
