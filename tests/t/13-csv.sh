#!/usr/bin/env bash
# CSV and TSV input, against the references: each file of the corpus
# (tests/data/csv, its cases file says what to expect) read by etl-batch,
# by Python's csv module and by PostgreSQL's COPY (FORMAT csv); loading the
# same typed CSV with psql \copy and with etl-load-sql gives identical
# tables (nulls, empty strings, quotes, newlines, numeric, date, boolean);
# bad rows named by file:line and rejected raw; bad headers and options;
# TSV as mysql --batch writes it; etl-batch --to csv read back; etl-load-http
# and etl-load-sql --job on CSV files.
. "$(dirname "$0")/../lib.sh"
corpus=$ETL_TOP/tests/data/csv
PY=/usr/bin/python3
# Table names end in the test's process id ($$ in each table name): runs
# of this file under different builds may share a server.

# The corpus's cases, one "file options etl python postgresql" per line.
cases() { grep -v '^#' "$corpus/cases" | grep -v '^$'; }

# ours FILE OPTIONS : etl-batch's records, keys sorted, or "error".
ours() {
	local opts=$2 out
	[ "$opts" = - ] && opts=
	out=$(etl-batch --unbatch $opts "$1" 2>/dev/null) || { echo error; return; }
	[ -z "$out" ] || printf "%s\n" "$out" | jq -cS .
}

# python FILE OPTIONS : csv.DictReader's records, keys sorted, or "error".
python_reads() {
	local delim=,
	case $2 in --delimiter=*) delim=${2#--delimiter=} ;; esac
	local out
	out=$($PY - "$1" "$delim" 2>/dev/null <<'EOF'
import csv, json, sys
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    for row in csv.DictReader(f, delimiter=sys.argv[2]):
        print(json.dumps({str(k): v for k, v in row.items()}, ensure_ascii=False))
EOF
) || { echo error; return; }
	[ -z "$out" ] || printf "%s\n" "$out" | jq -cS .
}

# PostgreSQL: the file through COPY (FORMAT csv, HEADER) into a table of
# text columns named by the file's header (as etl reads it).
pg_reads() {
	local file=$1 opts=$2 delim=, cols out
	case $opts in --delimiter=*) delim=${opts#--delimiter=} ;; esac
	cols=$(head -n 1 "$file" | sed 's/^\xef\xbb\xbf//; s/\r$//' | tr "$delim" '\n' |
		sed 's/.*/"&" text/' | paste -sd, -)
	# one session: the table, the copy, the rows (none if the copy failed)
	out=$($ETL_TEST_PSQL -tA -v ON_ERROR_STOP=1 \
		-c "SET client_min_messages = warning; DROP TABLE IF EXISTS csv13_ref_$$; CREATE TABLE csv13_ref_$$ ($cols)" \
		-c "\\copy csv13_ref_$$ from '$file' with (format csv, header true, delimiter '$delim')" \
		-c "SELECT row_to_json(t) FROM csv13_ref_$$ t" 2>/dev/null) || { echo error; return 0; }
	printf "%s\n" "$out" | grep "^{" | jq -cS .
}

# Python has no null: etl's null compares as its "".
nulls_as_empty() { jq -cS 'map_values(. // "")'; }

test_expect_success 'the corpus against Python csv: as the cases file says' '
	cases | while IFS=$'\''\t'\'' read -r file opts etl python pg; do
		got=$(ours "$corpus/$file" "$opts")
		if [ "$etl" = error ]; then
			expect_eq error "$(echo "$got" | tail -n 1)" "$file: etl" || exit 1
		else
			[ "$got" != error ] || { echo "$file: etl refused it"; exit 1; }
		fi
		py=$(python_reads "$corpus/$file" "$opts")
		if [ "$python" = error ]; then
			expect_eq error "$(echo "$py" | tail -n 1)" "$file: python" || exit 1
		elif [ "$python" = same ]; then
			expect_eq "$py" "$(echo "$got" | nulls_as_empty)" "$file: etl and Python" || exit 1
		else
			[ "$py" != "$(echo "$got" | nulls_as_empty)" ] ||
				{ echo "$file: Python now agrees: update the cases file and etl(7)"; exit 1; }
		fi
	done
'

test_expect_success 'the corpus against PostgreSQL COPY (FORMAT csv): as the cases file says' '
	need_pg &&
	cases | while IFS=$'\''\t'\'' read -r file opts etl python pg; do
		got=$(ours "$corpus/$file" "$opts")
		ref=$(pg_reads "$corpus/$file" "$opts")
		case $pg in
		same) expect_eq "$ref" "$got" "$file: etl and PostgreSQL" || exit 1 ;;
		error) expect_eq error "$ref" "$file: PostgreSQL" || exit 1 ;;
		differs) [ "$ref" != "$got" ] ||
			{ echo "$file: PostgreSQL now agrees: update the cases file and etl(7)"; exit 1; } ;;
		esac
	done
'

# A typed table, loaded by psql \copy and by etl-load-sql from one file.
typed='id integer PRIMARY KEY, amount numeric(10,2), day date, paid boolean,
	note text, tag varchar(10)'
typed_csv() {
	printf "id,amount,day,paid,note,tag\r\n"
	printf "1,12.50,2024-01-02,true,plain,a\r\n"
	printf "2,,2024-02-29,t,,\"\"\r\n"
	printf "3,0.1,,1,\"say \"\"hi\"\", then\nleave\",\r\n"
	printf "4,-7,1999-12-31,f,\"line\r\nbreak\",\"x,y\"\r\n"
	printf "5,100,2000-01-01,false,\"\",NULL\r\n"
	printf "6,3,2020-06-30,0,Zürich 😀,\" \"\r\n"
	printf "7,1e2,2021-01-01,,\"\"\"\",\\\\N"
}

test_expect_success 'psql \copy csv header and etl-load-sql give identical tables' '
	need_pg &&
	typed_csv >typed.csv &&
	$ETL_TEST_PSQL -c "DROP TABLE IF EXISTS csv13_copy_$$, csv13_etl_$$;
		CREATE TABLE csv13_copy_$$ ($typed); CREATE TABLE csv13_etl_$$ ($typed)" &&
	$ETL_TEST_PSQL -c "\\copy csv13_copy_$$ from '\''typed.csv'\'' csv header" &&
	etl-load-sql -t csv13_etl_$$ "$ETL_TEST_PGURL" typed.csv &&
	q="SELECT json_agg(t ORDER BY id) FROM %s t" &&
	want=$($ETL_TEST_PSQL -tA -c "$(printf "$q" csv13_copy_$$)") &&
	got=$($ETL_TEST_PSQL -tA -c "$(printf "$q" csv13_etl_$$)") &&
	expect_eq "$want" "$got" "the two tables" &&
	expect_eq 7 "$(echo "$got" | jq length)" &&
	echo "$got" | jq -e ".[1].note == null and .[1].tag == \"\" and .[1].amount == null
		and .[2].note == \"say \\\"hi\\\", then\\nleave\" and .[3].note == \"line\\r\\nbreak\"
		and .[4].note == \"\" and .[6].tag == \"\\\\N\" and .[0].amount == 12.50" >/dev/null
'

test_expect_success 'the same file into SQLite: strings converted by column type' '
	typed_csv >typed.csv &&
	sqlite3 db "CREATE TABLE t (id INTEGER, amount REAL, day TEXT, paid BOOLEAN,
		note TEXT, tag TEXT)" &&
	etl-load-sql -t t sqlite:db typed.csv &&
	expect_eq "1|12.5|2024-01-02|1|plain|a
2|~|2024-02-29|1|~|
3|0.1|~|1|say \"hi\", then
leave|~
4|-7.0|1999-12-31|0|line
break|x,y
5|100.0|2000-01-01|0||NULL
6|3.0|2020-06-30|0|Zürich 😀| 
7|100.0|2021-01-01|~|\"|\\N" "$(sqlite3 -separator "|" -nullvalue "~" db "SELECT * FROM t ORDER BY id" | tr -d "\r")"
'

test_expect_success 'bad rows: file:line where the row starts, exit 65, or the raw row with --reject' '
	printf "id,v\n1,\"a\nb\"\n2,x\"y\n3\n4,\"ok\"\n5,\"open\nand on\n" >bad.csv &&
	expect_status 65 etl-batch --unbatch bad.csv >out 2>err &&
	expect_eq "{\"id\":\"1\",\"v\":\"a\\nb\"}" "$(cat out)" &&
	expect_eq "etl-batch: bad.csv:4: field 2: a quote inside an unquoted field (quote the whole field, and double the quote)" "$(cat err)" &&
	etl-batch --unbatch --reject rej bad.csv >out &&
	expect_eq 2 "$(wc -l <out)" &&
	expect_eq "bad.csv:4|2,x\"y
bad.csv:5|3|1 field where the header has 2
bad.csv:7|5,\"open
and on
|field 2: a quote still open at the end of the file" \
		"$(jq -r "[.where, .record, .error] | join(\"|\")" rej | sed "1s/|field 2: a quote.*//")" &&
	rm -f rej && etl-map --format csv --reject rej "${ETL_TRANSFORMS:-$ETL_TOP/build/obj}/examples/redact.so" none <bad.csv >out &&
	expect_eq 2 "$(wc -l <out)" && expect_eq "stdin:4 stdin:5 stdin:7" "$(jq -r .where rej | paste -sd " " -)" &&
	sqlite3 db "CREATE TABLE t (id INTEGER, v TEXT)" && rm -f rej &&
	etl-load-sql -t t --reject rej sqlite:db bad.csv &&
	expect_eq "1|a
b
4|ok" "$(sqlite3 db "SELECT * FROM t ORDER BY id")" &&
	expect_eq 3 "$(wc -l <rej)"
'

test_expect_success 'bad headers stop the program naming the column; usage errors' '
	printf "id,,v\n1,2,3\n" >empty.csv &&
	expect_status 65 etl-batch empty.csv 2>err &&
	expect_eq "etl-batch: empty.csv:1: column 2: an empty name in the header" "$(cat err)" &&
	sqlite3 db "CREATE TABLE t (id TEXT)" &&
	printf "\n\nid,v,\"id\"\n" | expect_status 65 etl-load-sql --format csv -t t sqlite:db 2>err &&
	expect_eq "etl-load-sql: stdin:3: column 3: the name \"id\" is column 1'\''s too" "$(cat err)" &&
	expect_status 64 etl-batch --format xml </dev/null 2>err &&
	expect_grep "format: .xml. is not csv, tsv or ndjson" err &&
	expect_status 64 etl-batch --columns a,a </dev/null 2>err &&
	expect_grep "^etl-batch: --columns: column 2: the name \"a\" is column 1" err &&
	expect_status 64 etl-batch --delimiter ab </dev/null 2>err &&
	expect_status 64 etl-batch --format ndjson --null x </dev/null 2>err &&
	expect_status 64 etl-batch --columns a --replace-header b </dev/null 2>err
'

test_expect_success '--columns, --replace-header, --null, --delimiter tab, several files with their own headers' '
	printf "1,x\n2,\n" | etl-batch --unbatch --format csv --columns id,v >out &&
	expect_eq "{\"id\":\"1\",\"v\":\"x\"}
{\"id\":\"2\",\"v\":null}" "$(cat out)" &&
	printf "a,b\nNA,\n" >na.csv && etl-batch --unbatch --replace-header x,y --null NA na.csv >out &&
	expect_eq "{\"x\":null,\"y\":\"\"}" "$(cat out)" &&
	printf "a\tb\n\"1\t2\"\t3\n" >tab.txt &&
	etl-batch --unbatch --format csv --delimiter tab tab.txt >out &&
	expect_eq "{\"a\":\"1\\t2\",\"b\":\"3\"}" "$(cat out)" &&
	printf "k\n1\n" >one.csv && printf "other\n2\n" | gzip >two.CSV.GZ &&
	printf "{\"j\":3}\n" >three.ndjson &&
	etl-batch --unbatch one.csv two.CSV.GZ three.ndjson >out &&
	expect_eq "{\"k\":\"1\"}
{\"other\":\"2\"}
{\"j\":3}" "$(cat out)"
'

test_expect_success 'TSV as mysql --batch writes it: escapes read back as they were, --null NULL' '
	need_my &&
	$ETL_TEST_MYSQL -e "DROP TABLE IF EXISTS csv13_t_$$; CREATE TABLE csv13_t_$$ (id INT, s TEXT);
		INSERT INTO csv13_t_$$ VALUES (1, CONCAT(\"tab\", CHAR(9), \"here\")),
		(2, CONCAT(\"nl\", CHAR(10), \"back\", CHAR(92), \"slash\")), (3, NULL), (4, \"\")" &&
	$ETL_TEST_MYSQL --batch -e "SELECT id, s FROM csv13_t_$$ ORDER BY id" >out.tsv &&
	etl-batch --unbatch --null NULL out.tsv >got &&
	expect_eq "{\"id\":\"1\",\"s\":\"tab\\there\"}
{\"id\":\"2\",\"s\":\"nl\\nback\\\\slash\"}
{\"id\":\"3\",\"s\":null}
{\"id\":\"4\",\"s\":\"\"}" "$(cat got)"
'

# The nasty strings (tests/data/csv/nasty.ndjson): quotes, delimiters, CR,
# LF, blanks, backslashes, NUL, "NULL", non-ASCII, a long one; nulls too.
nasty=$ETL_TOP/tests/data/csv/nasty.ndjson

test_expect_success 'etl-batch --to csv: the nasty strings read back as the same records, by etl and Python' '
	etl-batch --to csv "$nasty" >out.csv &&
	expect_eq "id,s,t,\"key with, \"\"quote\"\"\"" "$(head -n 1 out.csv | tr -d "\r")" &&
	etl-batch --unbatch out.csv | jq -cS . >back &&
	jq -cS . "$nasty" >want && cmp want back &&
	$PY -c "
import csv, json, sys
rows = list(csv.DictReader(open(\"out.csv\", newline=\"\", encoding=\"utf-8\")))
src = [json.loads(l) for l in open(sys.argv[1], encoding=\"utf-8\")]
assert len(rows) == len(src) == 55, len(rows)
for s, r in zip(src, rows):
    assert {k: v or \"\" for k, v in s.items()} == r, (s, r)
" "$nasty"
'

test_expect_success 'etl-batch --to csv into PostgreSQL COPY: nulls stay null, empty strings empty' '
	need_pg &&
	grep -v "\\\\u0000" "$nasty" >nonul.ndjson &&
	etl-batch --to csv nonul.ndjson >out.csv &&
	$ETL_TEST_PSQL -c "SET client_min_messages = warning; DROP TABLE IF EXISTS csv13_rt_$$;
		CREATE TABLE csv13_rt_$$ (id text, s text, t text, \"key with, \"\"quote\"\"\" text)" &&
	$ETL_TEST_PSQL -c "\\copy csv13_rt_$$ from '\''out.csv'\'' csv header" &&
	$ETL_TEST_PSQL -tA -c "SELECT row_to_json(r) FROM csv13_rt_$$ r ORDER BY id::int" | jq -cS . >got &&
	jq -cS . nonul.ndjson >want && cmp want got
'

test_expect_success 'etl-batch --to csv: values not strings as JSON text, control lines dropped, a new key rejected' '
	printf "{\"a\":1,\"b\":[1,\"x\"],\"c\":true}\n{\"\$etl\":{\"checkpoint\":1}}\n[{\"c\":null,\"a\":{\"k\":\"v\"}}]\n{\"a\":2,\"d\":3}\n{\"a\":3}\n" >in &&
	rm -f rej && etl-batch --to csv --reject rej in >out.csv &&
	expect_eq "a,b,c
1,\"[1,\"\"x\"\"]\",true
\"{\"\"k\"\":\"\"v\"\"}\",,
3,," "$(tr -d "\r" <out.csv)" &&
	expect_eq "key \"d\" is not a column of the header (the first record'\''s keys)" "$(jq -r .error rej)" &&
	expect_status 64 etl-batch --to xml </dev/null 2>err
'

test_expect_success 'etl-load-http posts the records of a CSV file; a bad row goes to the reject file' '
	python3 "$ETL_TOP/tests/http-receiver.py" slow port got 2>receiver.err &
	for _ in $(seq 1 200); do [ -s port ] && break; sleep 0.05; done &&
	printf "id,name\n1,\"a,b\"\n2,x\"y\n3,\n" >in.csv &&
	etl-load-http --reject rej "http://127.0.0.1:$(cat port)/" in.csv &&
	expect_eq "{\"id\":\"1\",\"name\":\"a,b\"}
{\"id\":\"3\",\"name\":null}" "$(jq -cS . got | sort)" &&
	expect_eq "in.csv:3" "$(jq -r .where rej)"
'

test_expect_success 'etl-load-sql --job on a CSV file: a rerun skips the rows (and the bad row) done before' '
	sqlite3 db "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)" &&
	printf "id,v\n1,a\n2,\"b\nb\"\n3,x\"y\n4,d\n" >j.csv &&
	etl-load-sql -t t --job j --reject rej sqlite:db j.csv &&
	expect_eq 1 "$(wc -l <rej)" && expect_eq "j.csv:5" "$(jq -r .where rej)" &&
	printf "5,e\n" >>j.csv &&
	etl-load-sql -t t --job j --reject rej sqlite:db j.csv &&
	expect_eq 1 "$(wc -l <rej)" &&
	expect_eq "1|a 2|b b 4|d 5|e" "$(sqlite3 db "SELECT id, v FROM t ORDER BY id" | paste -sd " " -)" &&
	expect_status 65 etl-load-sql -t t sqlite:db j.csv 2>err
'
