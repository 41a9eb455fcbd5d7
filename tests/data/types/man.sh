#!/bin/sh
# tests/data/types/man.sh [CASES [COLUMNS]] - the conformance corpus as the
# two tables of etl-load-sql(1)'s TYPES section (tbl in mdoc), on stdout:
# the column types, then every case with what lands on each database.
# The man page holds this output between its "types-table" comment lines;
# tests/t/36-types.sh checks that it still does.
set -eu
here=$(dirname "$0")
cases=${1:-$here/cases}
columns=${2:-$here/columns}

# Rows of tab-separated cells as tbl input.  An outcome the corpus writes
# as a JSON string (for its quotes or backslashes) is shown as its text
# when that is plain enough to read (no control character, no blank at
# either end, not empty); every cell goes behind \& (so that "=" or "_"
# are text, not rules, and a leading dot is no request), backslashes as
# \e, anything beyond ASCII as \[uXXXX].
cells() {
	perl -CS -MJSON::PP -ne 'chomp; my @c = split /\t/, $_, -1;
		for my $i (2 .. $#c) {
			next unless $c[$i] =~ /^"/;
			my $t = JSON::PP->new->allow_nonref->decode($c[$i]);
			$c[$i] = $t if $t =~ /^[^\x00-\x1f\x7f ](?:[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f ])?$/
			    && $t !~ /^(?:NULL|=|rejected)$/ && $t !~ /^"/;
		}
		print join("\t", map {
			s/\\/\\e/g; s/([^\x00-\x7f])/sprintf("\\[u%04X]", ord $1)/ge; "\\&$_"
		} @c), "\n"'
}

echo '.TS'
echo 'l l l l.'
printf 'Column\tPostgreSQL\tMariaDB\tSQLite\n'
echo '_'
grep -v -e '^#' -e '^$' "$columns" | awk -F '\t' 'BEGIN { OFS = "\t" }
	{ print $1, $2, $4, $6 }' | cells
echo '.TE'
echo '.Pp'
echo '.TS'
echo 'l l l l l.'
printf 'Column\tJSON\tPostgreSQL\tMariaDB\tSQLite\n'
echo '_'
grep -v -e '^#' -e '^$' "$cases" | awk -F '\t' 'BEGIN { OFS = "\t" }
	function outcome(v) { return v == "!" ? "rejected" : v == "-" ? "" : v }
	{ print $1, $2, outcome($3), outcome($4), outcome($5) }' | cells
echo '.TE'
