#!/usr/bin/env bash
# MariaDB specifics: etl-load-sql hands the server its rows through
# LOAD DATA LOCAL INFILE from memory, and never any local file.
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
