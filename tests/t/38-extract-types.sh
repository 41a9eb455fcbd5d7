#!/usr/bin/env bash
# etl-extract-sql's values round-trip through etl-load-sql: every case of
# the type corpus (tests/data/types) is loaded into a table of every column
# type on SQLite, PostgreSQL and MariaDB; each table is extracted and loaded
# into the same types on each database; what lands is compared value by
# value, by each database's read-back expression, with what the corpus
# loaded there directly.  Same database: every value that landed must come
# back the same.  Across databases: every value both keep alike by the
# corpus.  The types table of etl-extract-sql(1) names every column type.
. "$(dirname "$0")/../lib.sh"
data=$ETL_TOP/tests/data/types

# plan DB: wide.sql (a table @T@ with a column c_K per column type the
# database has), in.ndjson (one record per case: its id and value) and
# read.sql (a query printing each row of table @T@ as one JSON object of
# the columns' read-back texts).
# compare A B: the differences between B's direct and via-A tables.
cat >"$TEST_ROOT/roundtrip.py" <<'EOF'
import json, re, sys

FIELDS = {"sqlite": (5, None), "postgresql": (1, 2), "mariadb": (3, 4)}
OUTCOME = {"postgresql": 2, "mariadb": 3, "sqlite": 4}

def rows(path):
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            yield line.split("\t")

columns = [r for r in rows(sys.argv[2])]
cases = [r for r in rows(sys.argv[3])]

def available(db):
    t, _ = FIELDS[db]
    return {k: c for k, c in enumerate(columns) if c[t] != "-"}

def outcome(db, case):
    v = case[OUTCOME[db]]
    return case[OUTCOME["postgresql"]] if v == "=" else v

def read_expr(db, k):
    _, r = FIELDS[db]
    if r is None:
        return "quote(c_%d)" % k
    return re.sub(r"\bc\b", "c_%d" % k, columns[k][r])

def plan(db):
    cols = available(db)
    t, _ = FIELDS[db]
    with open("wide.sql", "w") as f:
        f.write("CREATE TABLE @T@ (id INTEGER PRIMARY KEY%s)" % "".join(
            ", c_%d %s" % (k, c[t]) for k, c in cols.items()))
    index = {c[0]: k for k, c in cols.items()}
    with open("in.ndjson", "w", encoding="utf-8") as f:
        for i, case in enumerate(cases, 1):
            if case[0] in index:
                f.write('{"id":%d,"c_%d":%s}\n' % (i, index[case[0]], case[1]))
    if db == "postgresql":
        obj = "json_build_object('id', id%s)" % "".join(
            ", 'c_%d', (%s)::text" % (k, read_expr(db, k)) for k in cols)
        q = "SET TIME ZONE 'UTC'; SELECT %s FROM @T@ ORDER BY id" % obj
    elif db == "mariadb":
        obj = "JSON_OBJECT('id', id%s)" % "".join(
            ", 'c_%d', CAST((%s) AS CHAR)" % (k, read_expr(db, k)) for k in cols)
        q = "SET time_zone = '+00:00'; SELECT %s FROM @T@ ORDER BY id" % obj
    else:
        q = "SELECT json_object('id', id%s) FROM @T@ ORDER BY id" % "".join(
            ", 'c_%d', %s" % (k, read_expr(db, k)) for k in cols)
    open("read.sql", "w").write(q)

def load(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        if line.strip():
            v = json.loads(line)
            out[v["id"]] = v
    return out

def compare(a, b):
    both = set(available(a)) & set(available(b))
    source, direct, via = load("%s.src" % a), load("%s.direct" % b), load("%s.via.%s" % (b, a))
    index = {columns[k][0]: k for k in both}
    checked = bad = 0
    for i, case in enumerate(cases, 1):
        if case[0] not in index or i not in source:
            continue   # the source database has no such column, or refused it
        if a != b and (outcome(a, case) != outcome(b, case) or outcome(b, case) == "!"):
            continue   # the corpus says the two keep it differently
        key = "c_%d" % index[case[0]]
        want = direct[i][key] if i in direct else "(rejected)"
        got = via[i][key] if i in via else "(rejected)"
        checked += 1
        if want in ("Inf", "-Inf", "NaN") and got == "NULL":
            continue   # no JSON form: null, as etl-extract-sql(1) says
        if want != got:
            bad += 1
            print("%s -> %s: %s %s: loaded directly %r, through etl-extract-sql %r"
                  % (a, b, case[0], case[1], want, got))
    print("%s -> %s: %d values compared, %d differ" % (a, b, checked, bad))
    sys.exit(1 if bad or not checked else 0)

if sys.argv[1] == "plan":
    plan(sys.argv[4])
else:
    compare(sys.argv[4], sys.argv[5])
EOF
py() { /usr/bin/python3 "$TEST_ROOT/roundtrip.py" "$1" "$data/columns" "$data/cases" "${@:2}"; }

url_of() {
	case $1 in
	sqlite) echo "sqlite:$TEST_ROOT/types.db" ;;
	postgresql) echo "$ETL_TEST_PGURL" ;;
	mariadb) echo "$ETL_TEST_MYURL" ;;
	esac
}

run_sql() {  # DB SQL
	case $1 in
	sqlite) sqlite3 -batch -noheader "$TEST_ROOT/types.db" "$2" ;;
	postgresql) PGOPTIONS=--client-min-messages=warning $ETL_TEST_PSQL -tA -c "$2" ;;
	mariadb) $ETL_TEST_MYSQL --default-character-set=utf8mb4 -N -B -r -e "$2" ;;
	esac
}

# On DB: the tables src (the corpus loaded directly) and via_A for each
# source A, and the read-back query, in $TEST_ROOT/DB/.
setup() {  # DB
	local db=$1 dir=$TEST_ROOT/$1 a
	mkdir -p "$dir" && (cd "$dir" && py plan "$db") || return 1
	for t in xt_src xt_via_sqlite xt_via_postgresql xt_via_mariadb; do
		run_sql "$db" "DROP TABLE IF EXISTS $t" >/dev/null 2>&1
		run_sql "$db" "$(sed "s/@T@/$t/" "$dir/wide.sql")" || return 1
	done
	etl-load-sql -q --reject "$dir/rej" -t xt_src "$(url_of "$db")" <"$dir/in.ndjson" &&
	run_sql "$db" "$(sed "s/@T@/xt_src/g" "$dir/read.sql")" >"$dir/$db.src"
}

# A's src through etl-extract-sql into B's via_A, read back.
through() {  # A B
	etl-extract-sql "$(url_of "$1")" -t xt_src >"$T/extracted" &&
	etl-load-sql -q --ignore-unknown --reject "$T/rej" -t "xt_via_$1" "$(url_of "$2")" <"$T/extracted" &&
	run_sql "$2" "$(sed "s/@T@/xt_via_$1/g" "$TEST_ROOT/$2/read.sql")" >"$T/$2.via.$1" &&
	cp "$TEST_ROOT/$1/$1.src" "$T/$1.src" &&
	cp "$TEST_ROOT/$2/$2.src" "$T/$2.direct" &&
	(cd "$T" && py compare "$1" "$2")
}

test_expect_success 'SQLite: the corpus loaded directly' 'setup sqlite'
test_expect_success 'PostgreSQL: the corpus loaded directly' 'need_pg && setup postgresql'
test_expect_success 'MariaDB: the corpus loaded directly' 'need_my && setup mariadb'

for pair in "sqlite sqlite" "postgresql postgresql" "mariadb mariadb" \
	"postgresql mariadb" "mariadb postgresql" "sqlite postgresql" \
	"postgresql sqlite" "sqlite mariadb" "mariadb sqlite"; do
	set -- $pair
	need=""
	case "$1 $2" in *postgresql*) need="need_pg && " ;; esac
	case "$1 $2" in *mariadb*) need="${need}need_my && " ;; esac
	test_expect_success "$1 -> $2: every value comes back as it was" "$need through $1 $2"
done

test_expect_success 'etl-extract-sql(1) names every column type of the corpus' '
	sed -n "/^\\.Sh TYPES/,/^\\.Sh SIGNALS/p" "$ETL_TOP/man/etl-extract-sql.1" >types &&
	grep -v -e "^#" -e "^\$" "$data/columns" | cut -f 1 | while read -r name; do
		grep -qF -- "$name" types || { echo "no \"$name\" in the TYPES table"; exit 1; }
	done
'

# Hostile strings into text and bytes columns and back through
# etl-extract-sql | etl-load-sql on the same database: every one the same.
cat >"$TEST_ROOT/hostile.py" <<'PYEOF'
import json
texts = ['"', '\\', '\\"', "'", "''", "\\x00ff", "a\tb\nc\r\n", "\x01\x1f\x7f",
         "\u2028\u2029", "\ufeffbom", "\U0001F600 emoji", "\u05e9\u05dc\u05d5\u05dd rtl",
         "e\u0301 combining", "NULL", "null", "", " ", "{\"$etl\":{}}", "</script>",
         "'; DROP TABLE t; --", "x" * 100000]
for i, t in enumerate(texts, 1):
    raw = t.encode("utf-8")[:64] + bytes([0, 255, 10, 13, 92])
    print(json.dumps({"id": i, "t": t, "b": "\\x" + raw.hex()}))
PYEOF
hostile() {  # DB TEXT-TYPE BYTES-TYPE
	local db=$1
	/usr/bin/python3 "$TEST_ROOT/hostile.py" >in &&
	for t in xh_src xh_dst; do
		run_sql "$db" "DROP TABLE IF EXISTS $t" >/dev/null 2>&1
		run_sql "$db" "CREATE TABLE $t (id INTEGER PRIMARY KEY, t $2, b $3)" || return 1
	done
	etl-load-sql -t xh_src "$(url_of "$db")" <in &&
	etl-extract-sql "$(url_of "$db")" -t xh_src | etl-load-sql -t xh_dst "$(url_of "$db")" &&
	q="SELECT count(*) FROM xh_src s JOIN xh_dst d ON d.id = s.id AND d.t = s.t AND d.b = s.b" &&
	expect_eq "$(wc -l <in)" "$(run_sql "$db" "$q")" "rows the same"
}

test_expect_success 'hostile strings and bytes come back the same: SQLite' '
	hostile sqlite TEXT BLOB
'
test_expect_success 'hostile strings and bytes come back the same: PostgreSQL' '
	need_pg && hostile postgresql text bytea
'
test_expect_success 'hostile strings and bytes come back the same: MariaDB' '
	need_my && hostile mariadb LONGTEXT BLOB
'

test_expect_success 'SQLite text that is not UTF-8: each bad byte becomes U+FFFD' '
	sqlite3 "$TEST_ROOT/types.db" "DROP TABLE IF EXISTS xh_bad; CREATE TABLE xh_bad (t TEXT);
		INSERT INTO xh_bad VALUES (CAST(x'\''61ff62'\'' AS TEXT))" &&
	etl-extract-sql "sqlite:$TEST_ROOT/types.db" -t xh_bad >out &&
	expect_output out "{\"t\":\"a$(printf "\357\277\275")b\"}"
'
