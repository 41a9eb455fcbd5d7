#!/usr/bin/env bash
# etl-extract-sql | etl-load-sql --job, exactly once while the source
# changes: a writer inserts rows many to a timestamp and updates others
# (moving them to a new timestamp) while the pipeline is killed with -9 at
# random moments and started again; at the end the target equals the
# source row for row.  And memory that does not grow with the result.
#
# Sizes: the issue's 200000 rows (a hundred to each timestamp) and 20
# kills; under the sanitizers 20000 rows and 6 kills, which still cross
# the checkpoints (3000 rows), PostgreSQL's fetches (2000) and the output
# buffer (64 KiB) many times.
. "$(dirname "$0")/../lib.sh"
rows=200000 kills=20 inserts=500 updates=300
if [ -n "${ETL_SANITIZE:-}" ]; then rows=20000 kills=6 inserts=100 updates=60; fi

# One round of the writer on the source, in autocommit statements (so
# timestamps grow in commit order): $inserts new rows with one timestamp,
# and $updates random rows moved to a new one.
writer_round() {  # N
	echo "INSERT INTO once_src (id, updated_at, v)
		SELECT $((rows + $1 * inserts)) + g, now(), md5(random()::text) FROM generate_series(1, $inserts) g;
		UPDATE once_src SET v = md5(random()::text), updated_at = now()
		WHERE id IN (SELECT (random() * $rows)::int + 1 FROM generate_series(1, $updates));" >&5
}

# pipeline N AT: the pipeline in the background ($extractor, $loader);
# a line on fd 6 once the stream has passed its line AT, or has ended
# before it.
pipeline() {
	mkfifo fifo.$1
	etl-extract-sql "$ETL_TEST_PGURL" -t once_src --cursor updated_at,id --checkpoint 3000 \
		--resume "$ETL_TEST_PGURL" --job once >fifo.$1 2>>err 5>&- 6>&- &
	extractor=$!
	awk -v at="$2" '{ print } NR == at { print "at" > "/dev/fd/6"; fflush("/dev/fd/6") }
		END { if (NR < at) print "end" > "/dev/fd/6" }' <fifo.$1 5>&- |
		etl-load-sql --job once --upsert id -t once_dst "$ETL_TEST_PGURL" >/dev/null 2>>err 5>&- 6>&- &
	loader=$!
}

test_expect_success "PostgreSQL: $kills kills -9 while a writer changes the source: target = source" '
	need_pg &&
	pg_run "DROP TABLE IF EXISTS once_src; DROP TABLE IF EXISTS once_dst" >/dev/null 2>&1
	pg_run "DELETE FROM etl_checkpoints WHERE job = '\''once'\''" >/dev/null 2>&1
	pg_run "CREATE TABLE once_src (id INTEGER PRIMARY KEY, updated_at TIMESTAMPTZ NOT NULL, v TEXT);
		INSERT INTO once_src SELECT g, TIMESTAMPTZ '\''2026-01-01'\'' + (g / 100) * INTERVAL '\''1 s'\'', md5(g::text)
		FROM generate_series(1, '$rows') g;
		CREATE INDEX ON once_src (updated_at, id);
		CREATE TABLE once_dst (LIKE once_src)" >/dev/null &&
	pg_run "ALTER TABLE once_dst ADD PRIMARY KEY (id)" >/dev/null || exit 1
	mkfifo writer marks && { $ETL_TEST_PSQL -q <writer >/dev/null 2>writer.err & } && writer=$! &&
	exec 5>writer 6<>marks || exit 1
	landed=0
	for k in $(seq 1 $kills); do
		# The kill lands when the stream passes a random line, on
		# average $rows / $kills lines in: the kills fall all along
		# the table, before, at and after checkpoints.  The writer
		# commits a round as the extractor takes its snapshot, and one
		# while it reads.
		pipeline $k $((1 + RANDOM % (2 * rows / kills)))
		writer_round $((2 * k))
		read -r -t 60 -u 6 mark || { echo "pipeline $k: no mark"; exit 1; }
		writer_round $((2 * k + 1))
		# Either end first (the loader meets the end of its input: a line
		# cut short, or rows after the last bookmark), or both at once.
		kill -0 $loader 2>/dev/null && landed=$((landed + 1))
		case $((RANDOM % 3)) in
		0) kill -KILL $extractor && wait $loader ;;  # it reads to the end
		1) kill -KILL $loader ;;
		esac 2>/dev/null
		kill -KILL $extractor $loader 2>/dev/null
		wait $extractor $loader 2>/dev/null
	done
	expect_eq yes "$([ $landed -gt 0 ] && echo yes)" "a kill while the pipeline ran" &&
	exec 5>&- && wait $writer &&
	pipeline end 0 && wait $extractor && wait $loader &&
	expect_eq 0 "$(pg_run "SELECT count(*) FROM ((TABLE once_src EXCEPT TABLE once_dst) UNION ALL (TABLE once_dst EXCEPT TABLE once_src)) d")" "rows that differ" &&
	expect_eq "$(pg_run "SELECT count(*) FROM once_src")" "$(pg_run "SELECT count(*) FROM once_dst")" "rows" &&
	expect_eq "$(pg_run "SELECT json_build_array(updated_at, id)::text FROM once_src ORDER BY updated_at DESC, id DESC LIMIT 1" | tr -d " ")" \
		"$(pg_run "SELECT bookmark FROM etl_checkpoints WHERE job = '\''once'\''")" "the bookmark"
'

# Peak RSS in KiB of extracting query $2 from $1 to /dev/null.
peak_kib() {
	/usr/bin/time -f %M -o rss etl-extract-sql --cursor i "$1" "$2" >/dev/null && cat rss
}

within_10_percent() {  # SMALL LARGE
	[ $(($2 * 100)) -le $(($1 * 110)) ] && return 0
	echo "peak RSS grew from $1 KiB to $2 KiB"
	return 1
}

big=2000000 small=100000
# Under AddressSanitizer freed memory waits in a quarantine that grows
# with the allocations made: peak RSS says nothing there.
no_sanitizer() {
	[ -z "${ETL_SANITIZE:-}" ] || { echo "RSS is not meaningful under sanitizers"; exit 77; }
}

test_expect_success "SQLite: peak RSS at $small and $big rows within 10%" '
	no_sanitizer &&
	sqlite3 s.db "SELECT 1" >/dev/null &&
	q="WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < @N@)
		SELECT i, '\''customer '\'' || i AS name, i * 0.25 AS amount FROM c" &&
	a=$(peak_kib sqlite:s.db "${q/@N@/$small}") && b=$(peak_kib sqlite:s.db "${q/@N@/$big}") &&
	within_10_percent $a $b
'

test_expect_success "PostgreSQL and MariaDB: peak RSS at $((small / 2)) and $((big / 4)) rows within 10%" '
	no_sanitizer && need_pg && need_my &&
	q="SELECT g AS i, '\''customer '\'' || g AS name, g * 0.25 AS amount FROM generate_series(1, @N@) g" &&
	a=$(peak_kib "$ETL_TEST_PGURL" "${q/@N@/$((small / 2))}") && b=$(peak_kib "$ETL_TEST_PGURL" "${q/@N@/$((big / 4))}") &&
	within_10_percent $a $b &&
	q="SELECT seq AS i, CONCAT('\''customer '\'', seq) AS name, seq * 0.25 AS amount FROM seq_1_to_@N@" &&
	a=$(peak_kib "$ETL_TEST_MYURL" "${q/@N@/$((small / 2))}") && b=$(peak_kib "$ETL_TEST_MYURL" "${q/@N@/$((big / 4))}") &&
	within_10_percent $a $b
'
