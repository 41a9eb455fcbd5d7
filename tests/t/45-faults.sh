#!/usr/bin/env bash
# Hostile conditions for the whole pipeline: a database that stops taking
# rows (memory stays bounded, the extractor answers 503 rather than grow,
# every request answered 202 is loaded once the database is back), and a
# full filesystem under the output and the reject file (exit 74 with a
# clear message, no record silently dropped).
# tests/run: alone (400 large requests against a stalled pipeline, each
# answered within its time, and peak memory: on a machine loaded by other
# files a request could outlast its client)
. "$(dirname "$0")/../lib.sh"

# body REQUEST : 200 NDJSON records of about 1 KiB, tagged with REQUEST
body() {
	awk -v r="$1" 'BEGIN {
		pad = sprintf("%1000s", ""); gsub(/ /, "x", pad)
		for (s = 1; s <= 200; s++)
			printf "{\"r\":%d,\"s\":%d,\"pad\":\"%s\"}\n", r, s, pad
	}'
}

# post_all CLIENTS REQUESTS : CLIENTS curl loops share REQUESTS posts of a
# body each; "REQUEST STATUS" lines go to codes.CLIENT.
post_all() {
	local c pids=""
	for c in $(seq 1 "$1"); do
		(
			for r in $(seq "$c" "$1" "$2"); do
				code=$(body "$r" | curl -s -o /dev/null -w "%{http_code}" -m 60 \
					-H "Content-Type: application/x-ndjson" --data-binary @- \
					"http://127.0.0.1:$PORT/")
				echo "$r $code" >>"codes.$c"
			done
		) &
		pids="$pids $!"
	done
	wait $pids
}

test_expect_success 'a stalled database: 503 instead of growth, bounded memory, every 202 loaded after' '
	need_pg &&
	pg_run "DROP TABLE IF EXISTS stalled; CREATE TABLE stalled (r int, s int, pad text)" &&
	# Another session holds the table: the loader blocks on it.
	mkfifo lockctl &&
	{ $ETL_TEST_PSQL -tA -v ON_ERROR_STOP=1 <lockctl >lock.out 2>&1 & } &&
	exec 3>lockctl &&
	echo "BEGIN; LOCK TABLE stalled IN ACCESS EXCLUSIVE MODE; SELECT 1 AS locked;" >&3 &&
	wait_for "^1$" lock.out &&
	PORT=$(free_port) &&
	{ { sh -c "echo \$\$ >x.pid; exec etl-extract-http --queue-timeout 200ms 127.0.0.1:$PORT" 2>x.err |
		sh -c "echo \$\$ >l.pid; exec etl-load-sql -t stalled \"$ETL_TEST_PGURL\"" 2>l.err
		echo $? >l.status; } & } &&
	wait_port "$PORT" &&
	x=$(cat x.pid) && l=$(cat l.pid) &&
	# 400 requests of 200 KiB: 80 MiB against an output of 8 MiB.
	post_all 16 400 &&
	cat codes.* | sort -n >codes &&
	accepted=$(awk "\$2 == 202" codes | wc -l) &&
	refused=$(awk "\$2 == 503" codes | wc -l) &&
	echo "$accepted answered 202, $refused answered 503" &&
	{ awk "\$2 != 202 && \$2 != 503 { print \"request \" \$1 \" answered \" \$2 }" codes; true; } &&
	expect_eq 400 $((accepted + refused)) "requests answered 202 or 503" &&
	expect_eq 1 $((accepted > 0 && refused > 0)) "some requests accepted, the rest refused" &&
	# Release the table; the records taken before come through.
	echo "COMMIT;" >&3 && exec 3>&- &&
	want=$((accepted * 200)) &&
	for _ in $(seq 1 300); do
		[ "$(pg_run "SELECT count(*) FROM stalled")" = "$want" ] && break
		sleep 0.1
	done &&
	expect_eq "$want" "$(pg_run "SELECT count(*) FROM stalled")" "rows after the database came back" &&
	xk=$(hwm_kib $x) && lk=$(hwm_kib $l) &&
	echo "peak RSS: etl-extract-http ${xk} KiB, etl-load-sql ${lk} KiB" &&
	kill -TERM $x && wait &&
	expect_eq 0 "$(cat l.status)" "etl-load-sql exit status" &&
	# Exactly the requests answered 202, each whole, none twice.
	awk "\$2 == 202 { print \$1 }" codes >accepted &&
	pg_run "SELECT r FROM stalled GROUP BY r HAVING count(*) = 200 AND count(DISTINCT s) = 200 ORDER BY r" >loaded &&
	sort -n accepted >accepted.sorted &&
	expect_file_eq accepted.sorted loaded &&
	expect_eq 0 "$(pg_run "SELECT count(*) FROM (SELECT r FROM stalled GROUP BY r HAVING count(*) <> 200) x")" "requests loaded in part" &&
	if [ -z "${ETL_SANITIZE:-}" ]; then
		expect_eq 1 $((xk < 48 * 1024)) "etl-extract-http peak RSS under 48 MiB (${xk} KiB)" &&
		expect_eq 1 $((lk < 48 * 1024)) "etl-load-sql peak RSS under 48 MiB (${lk} KiB)"
	fi
'

# A 64 KiB tmpfs at $T/full (root only; unmounted when the test ends).
mount_small_fs() {
	if [ "$(id -u)" != 0 ]; then
		[ "${CI:-}" = true ] && { echo "CI=true but not root: cannot mount a tmpfs"; return 1; }
		echo "needs root to mount a small tmpfs"
		exit 77
	fi
	mkdir full && mount -t tmpfs -o size=64k etl-test full || return 1
	trap 'umount -l "$T/full"; reap_jobs' EXIT
}

test_expect_success 'stdout on a full filesystem: exit 74 and the cause, once' '
	mount_small_fs &&
	seq 1 100000 | sed "s/.*/{\"n\":&}/" >in &&
	expect_status 74 etl-batch -n 100 in >full/out 2>err &&
	expect_output err "etl-batch: stdout: write failed: No space left on device" &&
	expect_status 74 etl-map "${ETL_TRANSFORMS:-$ETL_TOP/build/obj}/examples/redact.so" x <in >full/out2 2>err &&
	expect_output err "etl-map: stdout: write failed: No space left on device"
'

test_expect_success 'the reject file on a full filesystem: exit 74, and a re-run with --job loses nothing' '
	mount_small_fs &&
	# 3000 records, every third one broken: 1000 rejects of about 200 bytes.
	awk "BEGIN { for (i = 1; i <= 3000; i++)
		if (i % 3) printf \"{\\\"id\\\":%d,\\\"v\\\":\\\"ok\\\"}\\n\", i
		else printf \"{\\\"id\\\":%d, broken %0150d\\n\", i, 0 }" >in &&
	sqlite3 t.db "CREATE TABLE t (id INTEGER, v TEXT)" &&
	expect_status 74 etl-load-sql --job j --reject full/rejects -t t sqlite:t.db in 2>err &&
	expect_grep "^etl-load-sql: full/rejects: write failed: No space left on device$" err &&
	expect_lines 1 err &&
	# Room again: the re-run rejects into a roomy file and loads the rest.
	cat full/rejects >rejects.1 && rm full/rejects &&
	expect_status 0 etl-load-sql --job j --reject rejects.2 -t t sqlite:t.db in &&
	expect_eq "2000 2000" "$(sqlite3 t.db "SELECT count(*) || \" \" || count(DISTINCT id) FROM t")" "rows, distinct ids" &&
	expect_eq 0 "$(sqlite3 t.db "SELECT count(*) FROM t WHERE id % 3 = 0")" "broken records loaded" &&
	# Every broken record is in a whole line of one of the reject files.
	cat rejects.1 rejects.2 | jq -R "fromjson? | .record" -r | grep -o "^{\"id\":[0-9]*" |
		cut -d: -f2 | sort -nu >rejected &&
	seq 3 3 3000 >broken &&
	expect_file_eq broken rejected
'

test_expect_success 'the reject file cannot take a line (/dev/full): exit 74, nothing committed past it' '
	printf "{\"id\":1}\n{\"id\":2}\nnot json\n{\"id\":4}\n" >in &&
	sqlite3 t.db "CREATE TABLE t (id INTEGER)" &&
	expect_status 74 etl-load-sql --reject /dev/full -t t sqlite:t.db in 2>err &&
	expect_output err "etl-load-sql: /dev/full: write failed: No space left on device" &&
	expect_eq 0 "$(sqlite3 t.db "SELECT count(*) FROM t WHERE id = 4")" "the record after the lost reject"
'
