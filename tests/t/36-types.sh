#!/usr/bin/env bash
# Types as users' tables have them: the corpus tests/data/types/cases loads
# every JSON value of it into its column type (tests/data/types/columns) on
# PostgreSQL, MariaDB and SQLite, reads back what landed, and compares it
# with the outcome the corpus expects for that database.  The same corpus
# is the table in etl-load-sql(1): the last test checks they agree.
#
# To see the outcomes a change gives, as a new corpus:
#   ETL_TYPES_OUT=/tmp/cases tests/run 36-types   (one file per database)
. "$(dirname "$0")/../lib.sh"
data=$ETL_TOP/tests/data/types

# The corpus' cases, numbered: "id<TAB>column<TAB>json".
numbered_cases() {
	grep -v -e '^#' -e '^$' "$data/cases" | awk -F '\t' '{ print NR "\t" $1 "\t" $2 }'
}

# An outcome as the corpus writes it: the value read back (a JSON string or
# null on stdin), NULL, or the value as JSON text when it would be ambiguous.
render='def render: if . == null then "NULL"
	elif . == "" or test("[\"\\\\[:cntrl:]]") or test("^ | $") or IN("!", "-", "=", "NULL")
	then tojson else . end;'

# A rejected record's id and value; a record that jansson cannot hold (an
# integer beyond 64 bits) is rejected as its raw line.
record='def id: .record | if type == "string" then capture("^\\{\"id\":(?<i>[0-9]+)").i
		else .id end;
	def value: .record | if type == "string" then sub("^\\{\"id\":[0-9]+,\"c\":"; "")
		| sub("\\}$"; "") else .c | tojson end;'

# Per database: its URL, the field of columns holding the column type and
# the read-back expression, a client reading SQL statements on stdin
# (script), and the statement that prints one JSON object {"id":…,"v":…}
# per row of table $1 with read expression $2 (read_back, run by script
# after the statement read_setup).  One client session does every table:
# a client's start is most of the time a small statement takes.
use_sqlite() {
	URL="sqlite:$T/types.db"; type_field=6; read_field=0; read_setup=""
	read_back() {
		echo "SELECT json_object('id', id, 'v',
			CASE WHEN c IS NULL THEN NULL ELSE quote(c) END) FROM $1;"
	}
	script() { sqlite3 -batch -noheader "$T/types.db"; }
	sql() { sqlite3 -batch "$T/types.db" "$1"; }
}
use_pg() {
	need_pg
	URL=$ETL_TEST_PGURL; type_field=2; read_field=3; read_setup="SET TIME ZONE 'UTC';"
	read_back() { echo "SELECT json_build_object('id', id, 'v', ($2)::text) FROM $1;"; }
	script() {
		PGOPTIONS=--client-min-messages=warning $ETL_TEST_PSQL -v ON_ERROR_STOP=1 -tA -f -
	}
	sql() { PGOPTIONS=--client-min-messages=warning $ETL_TEST_PSQL -tA -c "$1"; }
}
use_my() {
	need_my
	URL=$ETL_TEST_MYURL; type_field=4; read_field=5; read_setup="SET time_zone = '+00:00';"
	read_back() { echo "SELECT JSON_OBJECT('id', id, 'v', CAST(($2) AS CHAR)) FROM $1;"; }
	script() { $ETL_TEST_MYSQL --default-character-set=utf8mb4 -N -B -r; }
	sql() { $ETL_TEST_MYSQL -N -B -e "$1"; }
}

# Load every case into its column type on the database in use; write
# "id<TAB>outcome" lines to outcomes, and the rejects' reasons to reasons.
# The case ids are unique across columns: one jq reads every table's rows.
load_corpus() {
	local n name type expr
	numbered_cases >cases
	# "n<TAB>name<TAB>type<TAB>read expression" for each column type
	grep -v -e '^#' -e '^$' "$data/columns" | awk -F '\t' -v t="$type_field" -v r="$read_field" \
		'{ print NR "\t" $1 "\t" $t "\t" (r > 0 ? $r : "c") }' >columns
	rm -f in.* rej.* got
	: >outcomes
	# in.N: the records of column type N; outcomes: "-" where it has no type
	awk -F '\t' -v extra="${EXTRA_FIELD:-}" '
		NR == FNR { n[$2] = $1; none[$2] = $3 == "-"; printf "" >("in." $1); next }
		none[$2] { print $1 "\t-" >"outcomes"; next }
		{ print "{\"id\":" $1 ",\"c\":" $3 extra "}" >("in." n[$2]) }' columns cases
	awk -F '\t' -v extra="${EXTRA_COLUMN:-}" '$3 != "-" {
		print "DROP TABLE IF EXISTS types_" $1 ";"
		print "CREATE TABLE types_" $1 " (id INTEGER PRIMARY KEY, c " $3 \
			(extra == "" ? "" : ", " extra) ");" }' columns | script >/dev/null || return 1
	echo "$read_setup" >read.sql
	while IFS=$'\t' read -r n name type expr; do
		[ "$type" = - ] && continue
		etl-load-sql -q ${LOAD_OPTS:-} --reject rej.$n -t "types_$n" "$URL" <in.$n 2>err.$n || {
			echo "etl-load-sql failed on column type $name:"; cat err.$n; return 1; }
		read_back "types_$n" "$expr" >>read.sql
	done <columns
	script <read.sql >got || return 1
	jq -r "$render"' "\(.id)\t\(.v | render)"' got >>outcomes
	cat rej.* 2>/dev/null >rejected
	jq -r "$record"'"\(id)\t!"' rejected >>outcomes
	# reasons: "column type<TAB>value<TAB>error"
	jq -r "$record"'"\(id)\t\(value)\t\(.error)"' rejected |
		awk -F '\t' 'NR == FNR { c[$1] = $2; next } { $1 = c[$1]; print }' OFS='\t' cases - >reasons
	sort -n -o outcomes outcomes
	expect_eq "$(wc -l <cases)" "$(wc -l <outcomes)" "cases with an outcome"
}

# The corpus' expected outcomes for the database in use, "id<TAB>outcome".
expected() {  # FIELD: 3 postgresql, 4 mariadb, 5 sqlite
	grep -v -e '^#' -e '^$' "$data/cases" |
		awk -F '\t' -v f="$1" '{ v = $f; if (f == 4 && v == "=") v = $3; print NR "\t" v }'
}

# Lines of FILE with, added, the outcome of their id in OUTCOMES.
with_outcomes() {  # FILE OUTCOMES
	awk -F '\t' 'NR == FNR { o[$1] = substr($0, length($1) + 2); next }
		{ print $0 "\t" o[$1] }' "$2" "$1"
}

# Compare the outcomes with the corpus; on a difference show the cases.
check_outcomes() {  # FIELD DATABASE
	local field=$1 db=$2
	expected "$field" >want
	if [ -n "${ETL_TYPES_OUT:-}" ]; then
		with_outcomes cases outcomes | cut -f 2- >"$ETL_TYPES_OUT.$db"
	fi
	cmp -s want outcomes && return 0
	echo "$db: outcomes differ from tests/data/types/cases (column, json, expected, got):"
	with_outcomes want outcomes | with_outcomes cases - |
		awk -F '\t' '$4 != $5 { print "  " $2 "\t" $3 "\t" $4 "\t" $5 }'
	return 1
}

# Every rejection's reason names the column.
check_reasons() {
	[ -s reasons ] || { echo "no rejection at all: the corpus has some for every database"; return 1; }
	if grep -v -E "column \"c\"|column 'c'|\`c\`" reasons >unnamed; then
		echo "reasons that do not name the column:"
		cat unnamed
		return 1
	fi
}

test_expect_success 'sqlite: every case lands or is rejected as the corpus says' '
	use_sqlite && load_corpus && check_outcomes 5 sqlite && check_reasons
'

test_expect_success 'postgresql: every case lands or is rejected as the corpus says' '
	use_pg && load_corpus && check_outcomes 3 postgresql && check_reasons
'

test_expect_success 'mariadb: every case lands or is rejected as the corpus says' '
	use_my && load_corpus && check_outcomes 4 mariadb && check_reasons
'

# The other paths a row can take: MariaDB's multi-row INSERT (a server
# without LOCAL INFILE, or ?etl-load=insert) and the upserts (INSERT … ON
# DUPLICATE KEY UPDATE; PostgreSQL's COPY into a staging table, then
# INSERT … SELECT … ON CONFLICT) give the same outcomes.
test_expect_success 'mariadb, multi-row INSERT: the same outcomes' '
	use_my && URL="$URL?etl-load=insert" && load_corpus &&
	check_outcomes 4 mariadb && check_reasons
'

test_expect_success 'mariadb, --upsert: the same outcomes' '
	use_my && LOAD_OPTS="--upsert id" load_corpus && check_outcomes 4 mariadb && check_reasons
'

test_expect_success 'postgresql, --upsert: the same outcomes' '
	use_pg && LOAD_OPTS="--upsert id" load_corpus && check_outcomes 3 postgresql && check_reasons
'

# A uuid column beside takes PostgreSQL's load from binary COPY to text
# COPY, where the server parses every value (arrays of integers, numerics,
# text… travel in binary otherwise).
test_expect_success 'postgresql, text COPY: the same outcomes as binary COPY' '
	use_pg && EXTRA_COLUMN="u uuid" EXTRA_FIELD=",\"u\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"" \
		load_corpus && check_outcomes 3 postgresql && check_reasons
'

# Bytes of every value around the size MariaDB's LOAD DATA decodes them in
# (4096), and past the COPY and INSERT chunks, with NUL, tab, newline and
# backslash among them, land byte for byte; so does a long plain string.
blob_records() {
	local id=0 n
	for n in 0 1 4095 4096 4097 70000 300000; do
		id=$((id + 1))
		head -c "$n" /dev/urandom >blob.$id
		printf '\0\t\n\\' >>blob.$id
		printf '{"id":%d,"b":"\\\\x%s"}\n' $id "$(xxd -p blob.$id | tr -d '\n')"
	done
	id=$((id + 1))
	awk 'BEGIN { for (i = 0; i < 3000; i++) printf "zürich %d ", i }' >blob.$id
	printf '{"id":%d,"b":"%s"}\n' $id "$(cat blob.$id)"
	for id in $(seq 1 $id); do printf '%d\t%s\n' $id "$(xxd -p blob.$id | tr -d '\n')"; done >want
}
blob_check() {  # TYPE [LOAD_OPTION]
	blob_records >in &&
	sql "DROP TABLE IF EXISTS blobs" >/dev/null &&
	sql "CREATE TABLE blobs (id INTEGER PRIMARY KEY, b $1)" >/dev/null &&
	etl-load-sql -n 3 -t blobs "$URL${2:-}" <in &&
	sql "SELECT id, $HEX FROM blobs ORDER BY id" | tr "A-F|" "a-f\t" >got &&
	cmp -s want got || {
		echo "bytes differ (id, hex digits expected, got):"
		paste want got | awk -F "\t" "\$2 != \$4 { print \$1, length(\$2), length(\$4) }"
		return 1
	}
}

test_expect_success 'sqlite: bytes land byte for byte, small and large' '
	use_sqlite && HEX="hex(b)" blob_check BLOB
'

test_expect_success 'postgresql: bytes land byte for byte, small and large' '
	use_pg && HEX="encode(b, '\''hex'\'')" blob_check BYTEA
'

test_expect_success 'mariadb: bytes land byte for byte, by LOAD DATA and by INSERT' '
	use_my && sql "SELECT 1" >/dev/null &&
	HEX="hex(b)" blob_check LONGBLOB && HEX="hex(b)" blob_check LONGBLOB "?etl-load=insert"
'

test_expect_success 'the corpus is well formed: five fields, known column types, one outcome a line' '
	grep -v -e "^#" -e "^\$" "$data/cases" >rows &&
	awk -F "\t" "NF != 5 { print FILENAME \": line \" NR \": \" NF \" fields\"; bad = 1 }
		END { exit bad }" rows &&
	grep -v -e "^#" -e "^\$" "$data/columns" | cut -f 1 | sort -u >known &&
	cut -f 1 rows | sort -u >used &&
	expect_eq "" "$(comm -23 used known)" "column types not in columns" &&
	cut -f 2 rows | jq -R -r "try (fromjson | empty) catch \"not JSON: \\(.)\"" >bad &&
	expect_eq "" "$(cat bad)" "corpus values that are not JSON"
'

test_expect_success 'the table in etl-load-sql(1) is the corpus' '
	"$data/man.sh" "$data/cases" >want &&
	awk "/^\\.\\\\\" types-table begin/ { on = 1; next } /^\\.\\\\\" types-table end/ { on = 0 } on" \
		"$ETL_TOP/man/etl-load-sql.1" >got &&
	if ! cmp -s want got; then
		echo "man/etl-load-sql.1 differs from tests/data/types/cases:" \
			"run tests/data/types/man.sh tests/data/types/cases and paste its output"
		diff -u want got | head -n 20
		exit 1
	fi
'
