#!/usr/bin/env bash
# MariaDB specifics: etl-load-sql hands the server its rows through
# LOAD DATA LOCAL INFILE from memory, and never any local file.
# tests/run: alone (it lowers the shared MariaDB's global max_allowed_packet)
. "$(dirname "$0")/../lib.sh"

my_run() { $ETL_TEST_MYSQL -N -B -e "$1"; }

test_expect_success 'a LOAD DATA LOCAL INFILE in --init is refused, not read (exit 78)' '
	need_my
	my_run "DROP TABLE IF EXISTS infile_probe; CREATE TABLE infile_probe (line TEXT)" &&
	echo "LOAD DATA LOCAL INFILE '\''/etc/passwd'\'' INTO TABLE infile_probe;" >init.sql &&
	echo "{\"line\":\"x\"}" | expect_status 78 etl-load-sql --init init.sql \
		-t infile_probe "$ETL_TEST_MYURL" 2>err &&
	cat err &&
	expect_grep "^etl-load-sql: init.sql: .*LOAD DATA LOCAL INFILE is not allowed" err &&
	expect_eq 0 "$(my_run "SELECT count(*) FROM infile_probe")" "rows read from /etc/passwd"
'

test_expect_success 'the loader'\''s own LOAD DATA still works after a refused one' '
	need_my
	my_run "DROP TABLE IF EXISTS infile_probe; CREATE TABLE infile_probe (line TEXT)" &&
	printf "%s\n" "{\"line\":\"a\tb\\\\c\"}" "{\"line\":\"\\\\N\"}" |
		etl-load-sql -t infile_probe "$ETL_TEST_MYURL" &&
	my_run "SELECT line FROM infile_probe ORDER BY line" >got &&
	printf "%s\n" "\\\\N" "a\\tb\\\\c" >want &&
	expect_file_eq want got
'

# The server's max_allowed_packet at 1M for one test; put back after.
small_packets() {
	my_run "SELECT @@GLOBAL.max_allowed_packet" >packet.saved &&
	my_run "SET GLOBAL max_allowed_packet = 1048576" || return 1
	trap 'my_run "SET GLOBAL max_allowed_packet = $(cat "$T/packet.saved")"; reap_jobs' EXIT
}

test_expect_success 'INSERTs stay under max_allowed_packet; a row too big for any is rejected' '
	need_my
	small_packets &&
	my_run "DROP TABLE IF EXISTS big_rows; CREATE TABLE big_rows (id INT, t LONGTEXT)" &&
	# 20 rows of 300 KB: 6 MB, that must go as several statements.
	awk "BEGIN { pad = sprintf(\"%300000s\", \"\"); gsub(/ /, \"x\", pad)
		for (i = 1; i <= 20; i++) printf \"{\\\"id\\\":%d,\\\"t\\\":\\\"%s\\\"}\\n\", i, pad
		big = pad pad pad pad; printf \"{\\\"id\\\":99,\\\"t\\\":\\\"%s\\\"}\\n\", big
		printf \"{\\\"id\\\":21,\\\"t\\\":\\\"y\\\"}\\n\" }" >in &&
	expect_status 0 etl-load-sql --reject rejects -t big_rows "$ETL_TEST_MYURL?etl-load=insert" in 2>err &&
	expect_eq "21 21 6000001" "$(my_run "SELECT count(*), count(DISTINCT id), sum(length(t)) FROM big_rows" | tr "\t" " ")" "rows, ids, bytes" &&
	expect_lines 1 rejects &&
	expect_eq "99 1200000" "$(jq -r "[.record.id, (.record.t | length)] | @tsv" rejects | tr "\t" " ")" "the rejected record" &&
	expect_grep "more than the server.s max_allowed_packet allows \\(1048576\\)" rejects
'
